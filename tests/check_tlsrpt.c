/*
 * NAME
 *	check_tlsrpt 1
 * SUMMARY
 *	unit tests: tlspolicyctl report --tlsrpt, RFC 8460 reports
 * DESCRIPTION
 *	tests/data/tlsrpt/ (see tests/data/README-tlsrpt.txt): RFC 8460's
 *	example report as JSON, gzip and a mail, and two refused ones. The
 *	schema cases change one thing in the example each and say what the
 *	refusal must name.
 */

#define _GNU_SOURCE 1			/* open_memstream */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "ctl/tp_tlsrpt.h"

Suite  *tlsrpt_suite(void);

#define EXAMPLE	"tlsrpt/rfc8460-example.json"

/* slurp - a fixture's bytes (caller frees) */

static char *
slurp(const char *name, size_t *len)
{
	FILE   *fp = fopen(test_data(name), "rb");
	char   *buf = malloc(1 << 20);

	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (1 << 20) - 1, fp);
	buf[*len] = 0;
	fclose(fp);
	return (buf);
}

/* replaced - the example with its first old replaced by new (caller frees) */

static char *
replaced(const char *old, const char *new)
{
	size_t	len;
	char   *doc = slurp(EXAMPLE, &len), *at = strstr(doc, old), *out;

	ck_assert_msg(at != NULL, "the example has no %s", old);
	ck_assert_ptr_nonnull(out = malloc(len + strlen(new) + 1));
	memcpy(out, doc, (size_t)(at - doc));
	strcpy(out + (at - doc), new);
	strcat(out, at + strlen(old));
	free(doc);
	return (out);
}

/* check_example - the sums of RFC 8460's example, read once */

static void
check_example(const struct tp_tlsrpt *tr)
{
	struct tp_tlsrpt_totals t;
	const struct tp_tlsrpt_policy **v, *p;
	size_t	n;

	tp_tlsrpt_totals(tr, &t);
	ck_assert_uint_eq(t.reports, 1);
	ck_assert_uint_eq(t.refused, 0);
	ck_assert_uint_eq(t.successful, 5326);
	ck_assert_uint_eq(t.failed, 303);
	ck_assert_ptr_nonnull(v = tp_tlsrpt_sorted(tr, &n));
	ck_assert_uint_eq(n, 1);
	p = v[0];
	free(v);
	ck_assert_str_eq(p->org, "Company-X");
	ck_assert_str_eq(p->contact, "sts-reporting@company-x.example");
	ck_assert_str_eq(p->type, "sts");
	ck_assert_str_eq(p->domain, "company-y.example");
	ck_assert_str_eq(p->mx_host, "*.mail.company-y.example");
	ck_assert_str_eq(p->first, "2016-04-01T00:00:00Z");
	ck_assert_str_eq(p->last, "2016-04-01T23:59:59Z");
	ck_assert_uint_eq(p->results[TP_TLSRPT_CERTIFICATE_EXPIRED], 100);
	ck_assert_uint_eq(p->results[TP_TLSRPT_STARTTLS_NOT_SUPPORTED], 200);
	ck_assert_uint_eq(p->results[TP_TLSRPT_VALIDATION_FAILURE], 3);
	ck_assert_uint_eq(p->nrows, 3);
	ck_assert_uint_eq(p->rows[0]->sessions, 200);
	ck_assert_str_eq(p->rows[0]->mx, "mx2.mail.company-y.example");
	ck_assert_str_eq(p->rows[0]->ip, "203.0.113.56");
	ck_assert_str_eq(p->rows[0]->info,
			 "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported");
	ck_assert_uint_eq(p->rows[1]->sessions, 100);
	ck_assert_ptr_null(p->rows[1]->ip);
	ck_assert_str_eq(p->rows[2]->code, "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED");
}

static const char *const forms[] = {
	EXAMPLE, "tlsrpt/rfc8460-example.json.gz", "tlsrpt/rfc8460-example.eml",
};

START_TEST(test_forms)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	char	why[512];

	ck_assert_msg(tp_tlsrpt_read_file(tr, test_data(forms[_i]), why, sizeof(why)) == 0,
		      "%s: %s", forms[_i], why);
	check_example(tr);
	tp_tlsrpt_free(tr);
}
END_TEST

START_TEST(test_directory)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	struct tp_tlsrpt_totals t;
	char   *err = NULL;
	size_t	len = 0;
	FILE   *fp = open_memstream(&err, &len);

	ck_assert_int_eq(tp_tlsrpt_read_path(tr, test_data("tlsrpt"), fp), 2);
	fclose(fp);
	tp_tlsrpt_totals(tr, &t);
	ck_assert_uint_eq(t.files, 5);
	ck_assert_uint_eq(t.reports, 1);
	ck_assert_uint_eq(t.duplicates, 2);
	ck_assert_uint_eq(t.refused, 2);
	ck_assert_uint_eq(t.nrefusals, 2);
	ck_assert_msg(strstr(err, "tlsrpt/broken-count-string.json: policies[0].summary."
			     "total-failure-session-count: not a whole number\n") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "tlsrpt/oversized.json.gz: unpacks to more than 4194304 bytes: "
			     "too big\n") != NULL, "%s", err);
	ck_assert_str_eq(t.refusals[1].why, "unpacks to more than 4194304 bytes: too big");
	free(err);
	tp_tlsrpt_free(tr);
}
END_TEST

START_TEST(test_missing_file)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	char	why[512];

	ck_assert_int_eq(tp_tlsrpt_read_file(tr, "/nonexistent/r.json", why, sizeof(why)), -1);
	ck_assert_str_eq(why, "/nonexistent/r.json: No such file or directory");
	tp_tlsrpt_free(tr);
}
END_TEST

/* The example with one thing changed, and what the refusal says. */
static const struct {
	const char *old;
	const char *new;
	const char *why;
} schema[] = {
	{"\"organization-name\": \"Company-X\",", "", "r: organization-name: missing"},
	{"\"contact-info\": \"sts-reporting@company-x.example\"", "\"contact-info\": 7",
	"r: contact-info: not a string"},
	{"\"policy-type\": \"sts\"", "\"policy-type\": \"bogus\"",
	"r: policies[0].policy.policy-type: not tlsa, sts or no-policy-found"},
	{"\"policy-domain\": \"company-y.example\",", "",
	"r: policies[0].policy.policy-domain: missing"},
	{"\"result-type\": \"certificate-expired\"", "\"result-type\": \"cert-expired\"",
	"r: policies[0].failure-details[0].result-type: not one of RFC 8460's result types"},
	{"\"failed-session-count\": 200", "\"failed-session-count\": -200",
	"r: policies[0].failure-details[1].failed-session-count: not a whole number >= 0"},
	{"\"failed-session-count\": 3", "\"failed-session-count\": 3.5",
	"r: policies[0].failure-details[2].failed-session-count: not a whole number"},
	{"\"failed-session-count\": 100", "\"sessions\": 100",
	"r: policies[0].failure-details[0].failed-session-count: missing"},
	{"\"start-datetime\": \"2016-04-01T00:00:00Z\"", "\"start-datetime\": \"yesterday\"",
	"r: date-range: not an RFC 3339 date-time"},
	{"\"start-datetime\": \"2016-04-01T00:00:00Z\"", "\"start-datetime\": \"2016-04-02T00:00:00Z\"",
	"r: date-range: start-datetime after end-datetime"},
	{"\"mx-host\": \"*.mail.company-y.example\"", "\"mx-host\": [\"a.example\", 1]",
	"r: policies[0].policy.mx-host[1]: not a string (of at most 2048 bytes)"},
	{"\"summary\": {", "\"summary\": [{", "r: not JSON: "},
	{"\"total-successful-session-count\": 5326,", "",
	"r: policies[0].summary.total-successful-session-count: missing"},
	{"\"failure-details\": [{", "\"failure-details\": [7, {",
	"r: policies[0].failure-details[0].: not an object"},
	{"Company-X", "Company-\xff", "r: not JSON: not valid UTF-8"},
	{"   }\n", "   }\n}", "r: not JSON: "},
	{"{\n     \"organization-name\"", "[{\n     \"organization-name\"", "r: no TLSRPT report attached"},
};

START_TEST(test_schema)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	struct tp_tlsrpt_totals t;
	char	why[512], *doc = replaced(schema[_i].old, schema[_i].new);

	ck_assert_int_eq(tp_tlsrpt_read_buf(tr, "r", doc, strlen(doc), why, sizeof(why)), -1);
	ck_assert_msg(strncmp(why, schema[_i].why, strlen(schema[_i].why)) == 0,
		      "case %d: got \"%s\", want \"%s\"", _i, why, schema[_i].why);
	tp_tlsrpt_totals(tr, &t);
	ck_assert_uint_eq(t.reports, 0);
	ck_assert_uint_eq(t.successful, 0);
	ck_assert_uint_eq(t.entries, 0);
	free(doc);
	tp_tlsrpt_free(tr);
}
END_TEST

START_TEST(test_empty_policies)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	char	why[512];
	const char doc[] = "{\"organization-name\":\"o\",\"contact-info\":\"c\",\"report-id\":\"r\","
	"\"date-range\":{\"start-datetime\":\"2026-01-01T00:00:00Z\","
	"\"end-datetime\":\"2026-01-01T23:59:59Z\"},\"policies\":[]}";

	ck_assert_int_eq(tp_tlsrpt_read_buf(tr, "e", doc, strlen(doc), why, sizeof(why)), -1);
	ck_assert_str_eq(why, "e: policies: empty");
	tp_tlsrpt_free(tr);
}
END_TEST

START_TEST(test_truncated_gzip)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	size_t	len;
	char	why[512], *gz = slurp("tlsrpt/rfc8460-example.json.gz", &len);

	ck_assert_int_eq(tp_tlsrpt_read_buf(tr, "t", gz, len / 2, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "t: gzip: ends early (truncated?)");
	free(gz);
	tp_tlsrpt_free(tr);
}
END_TEST

START_TEST(test_empty_attachment)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	char	why[512];
	const char mail[] = "From: a@b.example\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b\"\r\n\r\n"
	"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	"--b\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n"
	"\r\n\r\n--b--\r\n";

	ck_assert_int_eq(tp_tlsrpt_read_buf(tr, "m", mail, strlen(mail), why, sizeof(why)), -1);
	ck_assert_str_eq(why, "m: the attached report is neither JSON nor gzip");
	tp_tlsrpt_free(tr);
}
END_TEST

START_TEST(test_hostile_strings)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	char	why[512], *out = NULL, *doc;
	size_t	len = 0;
	FILE   *fp;

	doc = replaced("Company-X", "Evil\\u001b]0;pwned\\u0007\\u009b31m");
	ck_assert_int_eq(tp_tlsrpt_read_buf(tr, "h", doc, strlen(doc), why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(fp = open_memstream(&out, &len));
	tp_tlsrpt_print_text(tr, fp);
	fclose(fp);
	ck_assert_ptr_null(memchr(out, 0x1b, len));
	ck_assert_ptr_null(memchr(out, 0x07, len));
	ck_assert_ptr_null(strstr(out, "\xc2\x9b"));
	ck_assert_msg(strstr(out, "Organisation Evil\\x1b]0;pwned\\x07\\u009b31m (contact") != NULL,
		      "%s", out);
	free(out);
	free(doc);
	tp_tlsrpt_free(tr);
}
END_TEST

/* rows_report - a report of n failure rows of 1 .. n sessions, one MX each */

static char *
rows_report(const char *id, int n)
{
	size_t	size = 1024 + (size_t)n * 128, o;
	char   *doc = malloc(size);

	ck_assert_ptr_nonnull(doc);
	o = (size_t)snprintf(doc, size, "{\"organization-name\":\"o\",\"contact-info\":\"c\","
			     "\"report-id\":\"%s\",\"date-range\":{\"start-datetime\":"
			     "\"2026-01-01T00:00:00Z\",\"end-datetime\":\"2026-01-01T23:59:59Z\"},"
			     "\"policies\":[{\"policy\":{\"policy-type\":\"tlsa\",\"policy-domain\":"
			     "\"d.example\",\"mx-host\":[\"mx1.d.example\",\"mx2.d.example\"]},"
			     "\"summary\":{\"total-successful-session-count\":10,"
			     "\"total-failure-session-count\":%d},\"failure-details\":[",
			     id, n * (n + 1) / 2);
	for (int i = 1; i <= n; i++)
		o += (size_t)snprintf(doc + o, size - o, "%s{\"result-type\":\"dane-required\","
				      "\"receiving-mx-hostname\":\"mx%d.d.example\","
				      "\"failed-session-count\":%d}", i > 1 ? "," : "", i, i);
	snprintf(doc + o, size - o, "]}]}");
	return (doc);
}

START_TEST(test_sums_and_caps)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	struct tp_tlsrpt_totals t;
	const struct tp_tlsrpt_policy **v;
	char	why[512], *doc;
	size_t	n;

	/* Two reports (and one of them again) of 60 rows: the first 50 kept. */
	for (int r = 0; r < 3; r++) {
		doc = rows_report(r == 1 ? "r1" : "r0", 60);
		ck_assert_msg(tp_tlsrpt_read_buf(tr, "s", doc, strlen(doc), why, sizeof(why)) == 0,
			      "%s", why);
		free(doc);
	}
	tp_tlsrpt_totals(tr, &t);
	ck_assert_uint_eq(t.reports, 2);
	ck_assert_uint_eq(t.duplicates, 1);
	ck_assert_uint_eq(t.successful, 20);
	ck_assert_uint_eq(t.failed, 2 * 1830);
	ck_assert_ptr_nonnull(v = tp_tlsrpt_sorted(tr, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0]->mx_host, "mx1.d.example, mx2.d.example");
	ck_assert_uint_eq(v[0]->reports, 2);
	ck_assert_uint_eq(v[0]->nrows, TP_TLSRPT_ROWS_MAX);
	ck_assert_str_eq(v[0]->rows[0]->mx, "mx50.d.example");
	ck_assert_uint_eq(v[0]->rows[0]->sessions, 100);
	ck_assert_uint_eq(v[0]->rows[TP_TLSRPT_ROWS_MAX - 1]->sessions, 2);
	ck_assert_uint_eq(v[0]->results[TP_TLSRPT_DANE_REQUIRED], 2 * 1830);
	ck_assert_uint_eq(v[0]->rows_dropped, 2 * (51 + 60) * 10 / 2);
	free(v);
	tp_tlsrpt_free(tr);
}
END_TEST

Suite *
tlsrpt_suite(void)
{
	Suite  *s = suite_create("tlsrpt");
	TCase  *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_forms, 0, sizeof(forms) / sizeof(forms[0]));
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_missing_file);
	tcase_add_loop_test(tc, test_schema, 0, sizeof(schema) / sizeof(schema[0]));
	tcase_add_test(tc, test_empty_policies);
	tcase_add_test(tc, test_truncated_gzip);
	tcase_add_test(tc, test_empty_attachment);
	tcase_add_test(tc, test_hostile_strings);
	tcase_add_test(tc, test_sums_and_caps);
	suite_add_tcase(s, tc);
	return (s);
}
