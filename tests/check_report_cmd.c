/*
 * NAME
 *	check_report_cmd 1
 * SUMMARY
 *	unit tests: tlspolicyctl report, the audit log aggregator
 * DESCRIPTION
 *	tests/data/audit-sample.jsonl holds 13 records and one line of a
 *	future schema (line 10); audit-sample.jsonl.gz is the same file
 *	compressed. Every figure in the tables below was counted by hand
 *	from it: one line per record, in time order, 10:00 to 20:00 UTC on
 *	2026-11-20 (S1 ... S14, S10 being the future-schema line).
 */

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "check_suites.h"
#include "reporter/tp_audit.h"
#include "reporter/tp_record.h"
#include "ctl/tp_report.h"

Suite  *report_cmd_suite(void);
static char *replaced(const char *, const char *);

#define SAMPLE		"audit-sample.jsonl"
#define SAMPLE_GZ	"audit-sample.jsonl.gz"
#define NOW_MS		1795204800000LL		/* 2026-11-20T20:00:00Z */
#define NOW		((time_t)(NOW_MS / 1000))

/* A good record, whose parts the malformed-line tests replace. */
static const char base[] =
"{\"v\":1,\"time\":\"2026-11-20T10:00:00.000Z\",\"host\":\"mx\",\"session\":\"S1\","
"\"queue_id\":\"Q1\",\"client\":{\"addr\":\"192.0.2.1\",\"name\":null,\"helo\":\"h\"},"
"\"tls\":{\"how\":\"starttls\",\"version\":\"TLSv1.3\",\"cipher\":\"C\",\"bits\":256,"
"\"verify\":\"ok\"},\"sender\":\"<a@x.example>\",\"sender_domain\":\"x.example\","
"\"rcpts\":[{\"addr\":\"<b@y.example>\",\"domain\":\"y.example\",\"level\":\"prefer\","
"\"result\":\"unmet-prefer\",\"testing\":false,\"reason\":\"r\"}],\"outcome\":\"accepted\"}";

/* new_report - an empty report with filters */

static struct tp_report *
new_report(const char *since, const char *domain, unsigned threads)
{
	struct tp_report_opts opts;
	struct tp_report *rep;
	const char *why = NULL;

	memset(&opts, 0, sizeof(opts));
	if (since != NULL) {
		ck_assert_msg(tp_report_parse_time(since, NOW, &opts.since_ms, &why) == 0,
			      "--since %s: %s", since, why);
		opts.has_since = true;
	}
	opts.domain = domain;
	opts.threads = threads;
	rep = tp_report_new(&opts);
	ck_assert_ptr_nonnull(rep);
	return (rep);
}

/* The file feed() wrote its line to, for the tests' messages. */
static char fed[64];

/*
 * feed - one line through tp_report_read(), the only way in: 1 counted,
 * 0 left out by a filter, -1 skipped as malformed, -2 read failed.
 */
static int
feed(struct tp_report *rep, const char *line, size_t len)
{
	struct tp_report_totals before, after;
	char   *text = malloc(len + 1);
	char	why[512];
	int	rc;

	ck_assert_ptr_nonnull(text);
	memcpy(text, line, len);
	text[len] = '\n';
	snprintf(fed, sizeof(fed), "%s", test_tmpfile(text, len + 1));
	free(text);
	tp_report_totals(rep, &before);
	rc = tp_report_read(rep, fed, why, sizeof(why));
	unlink(fed);
	if (rc < 0)
		return (-2);
	tp_report_totals(rep, &after);
	return (after.records > before.records ? 1 : after.skipped > before.skipped ? -1 : 0);
}

/* read_file - a whole file through tp_report_read(), which must succeed */

static void
read_file(struct tp_report *rep, const char *path)
{
	char	why[512] = "";

	ck_assert_msg(tp_report_read(rep, path, why, sizeof(why)) == 0,
		      "%s: got error \"%s\", want success", path, why);
}

/* sample - the sample's report, read one of three ways */

static struct tp_report *
sample(int how)
{
	struct tp_report *rep = new_report(NULL, NULL, how == 1 ? 0 : 2);

	read_file(rep, test_data(how == 2 ? SAMPLE_GZ : SAMPLE));
	return (rep);
}

/* ready - the READY column: "-", "yes" or "no" */

static const char *
ready(const struct tp_report_stats *s)
{
	return (s->soft == 0 ? "-" : s->would_reject == 0 ? "yes" : "no");
}

/* What the sample must give, per name. */
static const struct {
	int	group;
	const char *key;
	unsigned long messages;
	unsigned long tls;
	unsigned long starttls;
	unsigned long implicit;
	int	min_bits;
	unsigned long soft;
	unsigned long would;
	const char *ready;
} want_stats[] = {
	{TP_REPORT_SENDER, "shop.example", 6, 2, 2, 0, 128, 6, 4, "no"},
	{TP_REPORT_SENDER, "bank.example", 3, 2, 1, 1, 256, 0, 0, "-"},
	{TP_REPORT_SENDER, "news.example", 2, 2, 2, 0, 128, 1, 1, "no"},
	{TP_REPORT_SENDER, "<>", 1, 1, 1, 0, -1, 0, 0, "-"},
	{TP_REPORT_SENDER, "ok.example", 1, 1, 1, 0, 256, 1, 0, "yes"},
	{TP_REPORT_RCPT, "example.org", 11, 8, 7, 1, 128, 6, 3, "no"},
	{TP_REPORT_RCPT, "other.example", 3, 0, 0, 0, -1, 2, 2, "no"},
	{TP_REPORT_RCPT, "sub.example.org", 1, 1, 1, 0, 128, 1, 0, "yes"},
	{TP_REPORT_CLIENT, "198.51.100.7", 4, 2, 2, 0, 128, 4, 2, "no"},
	{TP_REPORT_CLIENT, "192.0.2.1", 2, 2, 1, 1, 256, 0, 0, "-"},
	{TP_REPORT_CLIENT, "198.51.100.8", 2, 0, 0, 0, -1, 2, 2, "no"},
	{TP_REPORT_CLIENT, "203.0.113.5", 2, 2, 2, 0, 128, 1, 1, "no"},
	{TP_REPORT_CLIENT, "192.0.2.77", 1, 1, 1, 0, 256, 1, 0, "yes"},
	{TP_REPORT_CLIENT, "2001:db8::25", 1, 1, 1, 0, -1, 0, 0, "-"},
	{TP_REPORT_CLIENT, "203.0.113.9", 1, 0, 0, 0, -1, 0, 0, "-"},
};

/* check_stats - one row of want_stats against a report */

static void
check_stats(const struct tp_report *rep, size_t i, const char *how)
{
	const struct tp_report_stats *s = tp_report_find(rep, want_stats[i].group,
							 want_stats[i].key);
	const char *k = want_stats[i].key;

	ck_assert_msg(s != NULL, "%s: %s: not in the report", how, k);
	ck_assert_msg(s->messages == want_stats[i].messages, "%s: %s: messages: got %lu, want %lu",
		      how, k, s->messages, want_stats[i].messages);
	ck_assert_msg(s->tls == want_stats[i].tls, "%s: %s: tls: got %lu, want %lu",
		      how, k, s->tls, want_stats[i].tls);
	ck_assert_msg(s->how[TP_REPORT_HOW_STARTTLS] == want_stats[i].starttls,
		      "%s: %s: starttls: got %lu, want %lu", how, k,
		      s->how[TP_REPORT_HOW_STARTTLS], want_stats[i].starttls);
	ck_assert_msg(s->how[TP_REPORT_HOW_IMPLICIT] == want_stats[i].implicit,
		      "%s: %s: implicit: got %lu, want %lu", how, k,
		      s->how[TP_REPORT_HOW_IMPLICIT], want_stats[i].implicit);
	ck_assert_msg(s->how[TP_REPORT_HOW_NONE] == s->messages - s->tls,
		      "%s: %s: plaintext: got %lu, want %lu", how, k,
		      s->how[TP_REPORT_HOW_NONE], s->messages - s->tls);
	ck_assert_msg(s->min_bits == want_stats[i].min_bits, "%s: %s: min bits: got %d, want %d",
		      how, k, s->min_bits, want_stats[i].min_bits);
	ck_assert_msg(s->soft == want_stats[i].soft, "%s: %s: prefer/testing: got %lu, want %lu",
		      how, k, s->soft, want_stats[i].soft);
	ck_assert_msg(s->would_reject == want_stats[i].would, "%s: %s: would reject: got %lu, want %lu",
		      how, k, s->would_reject, want_stats[i].would);
	ck_assert_msg(strcmp(ready(s), want_stats[i].ready) == 0, "%s: %s: ready: got %s, want %s",
		      how, k, ready(s), want_stats[i].ready);
}

START_TEST(test_counts_threads)
{
	struct tp_report *rep = sample(0);

	check_stats(rep, (size_t)_i, "plain file, 2 threads");
	tp_report_free(rep);
}
END_TEST

START_TEST(test_counts_file)
{
	struct tp_report *rep = sample(1);

	check_stats(rep, (size_t)_i, "plain file");
	tp_report_free(rep);
}
END_TEST

START_TEST(test_counts_gz)
{
	struct tp_report *rep = sample(2);

	check_stats(rep, (size_t)_i, "gzip file, 2 threads");
	tp_report_free(rep);
}
END_TEST

START_TEST(test_totals)
{
	static const char *const want_skip[] = {
		SAMPLE ":10: v: schema version 2, expected 1",
		SAMPLE ":10: v: schema version 2, expected 1",
		SAMPLE_GZ ":10: v: schema version 2, expected 1",
	};
	struct tp_report *rep = sample(_i);
	struct tp_report_totals t;
	const char *got;

	tp_report_totals(rep, &t);
	ck_assert_msg(t.records == 13, "records: got %lu, want 13", t.records);
	ck_assert_msg(t.skipped == 1, "skipped: got %lu, want 1", t.skipped);
	got = t.first_skipped ? t.first_skipped : "(none)";
	ck_assert_msg(strlen(got) >= strlen(want_skip[_i])
		      && strcmp(got + strlen(got) - strlen(want_skip[_i]), want_skip[_i]) == 0,
		      "first skipped: got \"%s\", want \"...%s\"", got, want_skip[_i]);
	ck_assert_msg(t.names[TP_REPORT_SENDER] == 5 && t.names[TP_REPORT_RCPT] == 3
		      && t.names[TP_REPORT_CLIENT] == 7, "names: got %zu/%zu/%zu, want 5/3/7",
		      t.names[0], t.names[1], t.names[2]);
	ck_assert_msg(t.has_period && t.first_ms == NOW_MS - 10 * 3600000LL && t.last_ms == NOW_MS,
		      "period: got %lld to %lld, want %lld to %lld", t.first_ms, t.last_ms,
		      NOW_MS - 10 * 3600000LL, NOW_MS);
	tp_report_free(rep);
}
END_TEST

/* TLS versions, strengths and verification: recipient domain example.org. */
static const struct {
	const char *what;		/* version name, "bits", verify word */
	int	bits;
	unsigned long want;
} want_tls[] = {
	{"TLSv1.3", 0, 5}, {"TLSv1.2", 0, 2}, {"TLSv1", 0, 1}, {"TLSv1.1", 0, 0},
	{"bits", 256, 4}, {"bits", 128, 3}, {"bits", -1, 1}, {"bits", 40, 0},
	{"ok", 0, 4}, {"none", 0, 2}, {"fail", 0, 1}, {"unknown", 0, 1},
};

START_TEST(test_tls_counts)
{
	static const char *const verify[] = {"none", "ok", "fail", "unknown"};
	struct tp_report *rep = sample(0);
	const struct tp_report_stats *s = tp_report_find(rep, TP_REPORT_RCPT, "example.org");
	unsigned long got = ULONG_MAX;

	ck_assert_ptr_nonnull(s);
	if (strcmp(want_tls[_i].what, "bits") == 0)
		got = tp_report_bits_count(rep, s, want_tls[_i].bits);
	else if (strncmp(want_tls[_i].what, "TLS", 3) == 0)
		got = tp_report_version_count(rep, s, want_tls[_i].what);
	else
		for (size_t v = 0; v < 4; v++)
			if (strcmp(verify[v], want_tls[_i].what) == 0)
				got = s->verify[v];
	ck_assert_msg(got == want_tls[_i].want, "example.org %s %d: got %lu, want %lu",
		      want_tls[_i].what, want_tls[_i].bits, got, want_tls[_i].want);
	tp_report_free(rep);
}
END_TEST

/* The newest three messages that require would have rejected. */
static const struct {
	int	group;
	const char *key;
	size_t	n;
	const char *sessions[TP_REPORT_EXAMPLES];
	const char *rcpts[TP_REPORT_EXAMPLES];
} want_examples[] = {
	{TP_REPORT_SENDER, "shop.example", 3, {"S13", "S12", "S5"},
	{"<gina@other.example>", "<frank@other.example>", "<gina@example.org>"}},
	{TP_REPORT_SENDER, "news.example", 1, {"S6"}, {"<bob@example.org>"}},
	{TP_REPORT_RCPT, "example.org", 3, {"S6", "S5", "S4"},
	{"<bob@example.org>", "<gina@example.org>", "<bob@example.org>"}},
	{TP_REPORT_CLIENT, "198.51.100.7", 2, {"S13", "S4"},
	{"<gina@other.example>", "<bob@example.org>"}},
	{TP_REPORT_SENDER, "ok.example", 0, {NULL}, {NULL}},
	{TP_REPORT_SENDER, "bank.example", 0, {NULL}, {NULL}},
};

START_TEST(test_examples)
{
	struct tp_report *rep = sample(1);
	const struct tp_report_stats *s = tp_report_find(rep, want_examples[_i].group,
							 want_examples[_i].key);

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(s->nexamples == want_examples[_i].n, "%s: examples: got %zu, want %zu",
		      want_examples[_i].key, s->nexamples, want_examples[_i].n);
	for (size_t j = 0; j < s->nexamples; j++) {
		ck_assert_msg(strcmp(s->examples[j]->session, want_examples[_i].sessions[j]) == 0,
			      "%s: example %zu: got session %s, want %s", want_examples[_i].key, j,
			      s->examples[j]->session, want_examples[_i].sessions[j]);
		ck_assert_msg(strcmp(s->examples[j]->rcpt, want_examples[_i].rcpts[j]) == 0,
			      "%s: example %zu: got rcpt %s, want %s", want_examples[_i].key, j,
			      s->examples[j]->rcpt, want_examples[_i].rcpts[j]);
	}
	tp_report_free(rep);
}
END_TEST

START_TEST(test_example_fields)
{
	struct tp_report *rep = sample(2);
	const struct tp_report_stats *s = tp_report_find(rep, TP_REPORT_SENDER, "shop.example");
	const struct tp_report_example *x;

	ck_assert_ptr_nonnull(s);
	x = s->examples[0];
	ck_assert_str_eq(x->time, "2026-11-20T19:00:00.000Z");
	ck_assert_int_eq(x->ms, NOW_MS - 3600000LL);
	ck_assert_str_eq(x->queue_id, "Q13");
	ck_assert_str_eq(x->client_addr, "198.51.100.7");
	ck_assert_ptr_null(x->client_name);
	ck_assert_str_eq(x->sender, "<w@shop.example>");
	ck_assert_str_eq(x->reason, "TLS preferred for mail from shop.example");
	ck_assert_str_eq(s->examples[1]->client_name, "mail.shop.example");
	s = tp_report_find(rep, TP_REPORT_CLIENT, "198.51.100.8");
	ck_assert_str_eq(s->name, "mail.shop.example");
	tp_report_free(rep);
}
END_TEST

/* One recipient decision: does it count as soft, would require reject? */
static const struct {
	const char *level;
	const char *result;
	const char *testing;
	unsigned long soft;
	unsigned long would;
} decisions[] = {
	{"prefer", "pass", "false", 1, 0},
	{"prefer", "unmet-prefer", "false", 1, 1},
	{"require", "fail", "true", 1, 1},
	{"require", "fail", "false", 0, 0},
	{"require", "pass", "true", 1, 0},	/* a testing rule that passed */
	{"require", "pass", "false", 0, 0},
	{"require", "fail", "null", 0, 0},
	{"skip", "skip", "false", 0, 0},
	{"exempt", "exempt", "false", 0, 0},
	{"none", "error", "false", 0, 0},	/* undecidable: tempfailed */
	{"prefer", "error", "false", 1, 0},
};

START_TEST(test_decisions)
{
	char	rcpt[200], *line;
	struct tp_report *rep = new_report(NULL, NULL, 0);
	const struct tp_report_stats *s;

	snprintf(rcpt, sizeof(rcpt), "\"level\":\"%s\",\"result\":\"%s\",\"testing\":%s",
		 decisions[_i].level, decisions[_i].result, decisions[_i].testing);
	line = replaced("\"level\":\"prefer\",\"result\":\"unmet-prefer\",\"testing\":false", rcpt);
	ck_assert_int_eq(feed(rep, line, strlen(line)), 1);
	s = tp_report_find(rep, TP_REPORT_RCPT, "y.example");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(s->soft == decisions[_i].soft && s->would_reject == decisions[_i].would,
		      "%s: got soft %lu would %lu, want %lu and %lu", rcpt, s->soft,
		      s->would_reject, decisions[_i].soft, decisions[_i].would);
	ck_assert_uint_eq(s->nexamples, decisions[_i].would);
	free(line);
	tp_report_free(rep);
}
END_TEST

/* --since and --domain against the sample, now = 20:00 UTC. */
static const struct {
	const char *since;
	const char *domain;
	unsigned long records;
	unsigned long left_out;
} filters[] = {
	{NULL, NULL, 13, 0},
	{"2026-11-20T15:00:00Z", NULL, 6, 7},
	{"2026-11-20T15:00:00.001Z", NULL, 5, 8},
	{"2026-11-20T16:00:00+01:00", NULL, 6, 7},
	{"5h", NULL, 6, 7},
	{"2026-11-21", NULL, 0, 13},
	{"2026-11-20", NULL, 13, 0},
	{NULL, "shop.example", 6, 7},
	{NULL, "example.org", 11, 2},
	{NULL, "sub.example.org", 1, 12},
	{NULL, "org", 11, 2},
	{NULL, "ample.org", 0, 13},
	{NULL, "other.example", 3, 10},
	{NULL, "example", 12, 1},		/* S9: <> to example.org */
	{"2026-11-20T15:00:00Z", "shop.example", 3, 10},
};

START_TEST(test_filters)
{
	struct tp_report *rep = new_report(filters[_i].since, filters[_i].domain, 0);
	struct tp_report_totals t;

	read_file(rep, test_data(SAMPLE));
	tp_report_totals(rep, &t);
	ck_assert_msg(t.records == filters[_i].records && t.left_out == filters[_i].left_out,
		      "since %s, domain %s: got %lu counted %lu left out, want %lu and %lu",
		      filters[_i].since ? filters[_i].since : "-",
		      filters[_i].domain ? filters[_i].domain : "-", t.records, t.left_out,
		      filters[_i].records, filters[_i].left_out);
	ck_assert_uint_eq(t.skipped, 1);
	tp_report_free(rep);
}
END_TEST

START_TEST(test_filter_keeps_whole_record)
{
	/* S11 is to example.org and sub.example.org: both count. */
	struct tp_report *rep = new_report(NULL, "sub.example.org", 0);
	const struct tp_report_stats *s;

	read_file(rep, test_data(SAMPLE));
	s = tp_report_find(rep, TP_REPORT_RCPT, "example.org");
	ck_assert_msg(s != NULL && s->messages == 1, "example.org: got %lu, want 1",
		      s ? s->messages : 0);
	ck_assert_ptr_null(tp_report_find(rep, TP_REPORT_SENDER, "bank.example"));
	tp_report_free(rep);
}
END_TEST

/* tp_report_parse_time: text, and ms since the epoch (0: must fail). */
static const struct {
	const char *text;
	long long want;
} times[] = {
	{"2026-11-01T00:00:00Z", 1793491200000LL},
	{"2026-11-01", 1793491200000LL},
	{"2026-11-01T01:00:00+01:00", 1793491200000LL},
	{"2026-10-31T23:30:00-00:30", 1793491200000LL},
	{"2026-11-01t00:00:00.5z", 1793491200500LL},
	{"2026-11-01 00:00:00.123456Z", 1793491200123LL},
	{"2028-02-29T00:00:00Z", 1835395200000LL},
	{"1969-12-31T23:59:59Z", -1000LL},
	{"7d", NOW_MS - 7 * 86400000LL},
	{"24h", NOW_MS - 24 * 3600000LL},
	{"30m", NOW_MS - 30 * 60000LL},
	{"45s", NOW_MS - 45000LL},
	{"2w", NOW_MS - 14 * 86400000LL},
	{"0d", NOW_MS},
	{"2026-11-31", 0},
	{"2026-02-29", 0},
	{"2026-11-01T00:00:00", 0},
	{"2026-11-01T24:00:00Z", 0},
	{"2026-11-01T00:00:00.Z", 0},
	{"2026-11-01T00:00:00+1:00", 0},
	{"2026-1-01", 0},
	{"2026-11-01Z", 0},
	{"7x", 0},
	{"7", 0},
	{"30", 0},
	{"d", 0},
	{"-7d", 0},
	{"7d ", 0},
	{"", 0},
	{"yesterday", 0},
	{"99999999999999999999d", 0},
};

START_TEST(test_parse_time)
{
	long long ms = 0;
	const char *why = NULL;
	char   *text = strdup(times[_i].text);	/* on the heap: ASan sees overreads */
	int	rc = tp_report_parse_time(text, NOW, &ms, &why);

	free(text);

	if (times[_i].want == 0) {
		ck_assert_msg(rc < 0, "\"%s\": got %lld, want an error", times[_i].text, ms);
		ck_assert_ptr_nonnull(why);
	} else {
		ck_assert_msg(rc == 0 && ms == times[_i].want, "\"%s\": got %lld (rc %d), want %lld",
			      times[_i].text, ms, rc, times[_i].want);
	}
}
END_TEST

/* One change to the good record, and why the result must be skipped. */
static const struct {
	const char *from;		/* NULL: the whole line is "to" */
	const char *to;
	const char *want;		/* NULL: must be counted */
} malformed[] = {
	{"\"v\":1", "\"v\":1", NULL},
	{NULL, "not json at all", "not a JSON object"},
	{NULL, "[1,2,3]", "not a JSON object"},
	{NULL, "null", "not a JSON object"},
	{NULL, "42", "not a JSON object"},
	{NULL, "", "empty line"},
	{NULL, " \t\r", "empty line"},
	{NULL, "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}", "not JSON: nesting too deep"},
	{NULL, "{\"v\":1,}", "not JSON: "},
	{"\"outcome\":\"accepted\"}", "\"outcome\":\"accepted\"", "truncated record"},
	{"\"outcome\":\"accepted\"}", "\"outcome\":\"accepted\"} x", "text after the JSON object"},
	{"\"outcome\":\"accepted\"}", "\"outcome\":\"accepted\"}{}", "text after the JSON object"},
	{"\"outcome\":\"accepted\"}", "\"outcome\":\"accepted\"}  \r", NULL},
	{"\"v\":1", "\"v\":2", "v: schema version 2, expected 1"},
	{"\"v\":1", "\"v\":\"1\"", "v: expected an integer, got string"},
	{"\"v\":1", "\"v\":1.0", "v: expected an integer, got double"},
	{"\"v\":1,", "", "v: missing"},
	{"\"session\":\"S1\"", "\"session\":42", "session: expected a string, got int"},
	{"\"session\":\"S1\"", "\"session\":null", "session: expected a string, got null"},
	{"\"session\":\"S1\"", "\"session\":[\"S1\"]", "session: expected a string, got array"},
	{"\"session\":\"S1\"", "\"session\":\"S\\u0000\"", "session: NUL character in string"},
	{"\"queue_id\":\"Q1\"", "\"queue_id\":7", "queue_id: expected a string, got int"},
	{"\"queue_id\":\"Q1\"", "\"queue_id\":null", NULL},
	{"\"time\":\"2026-11-20T10:00:00.000Z\"", "\"time\":\"2026-13-20T10:00:00Z\"", "time: not an RFC 3339 time"},
	{"\"time\":\"2026-11-20T10:00:00.000Z\"", "\"time\":1795168800", "time: expected a string, got int"},
	{"\"client\":{", "\"client\":7,\"x\":{", "client: expected an object, got int"},
	{"\"addr\":\"192.0.2.1\"", "\"addr\":true", "client.addr: expected a string, got boolean"},
	{"\"tls\":{", "\"tls\":null,\"x\":{", "tls: expected an object, got null"},
	{"\"how\":\"starttls\"", "\"how\":\"ssl\"", "tls.how: expected none, starttls or implicit"},
	{"\"how\":\"starttls\",", "", "tls.how: missing"},
	{"\"bits\":256", "\"bits\":\"256\"", "tls.bits: expected an integer, got string"},
	{"\"bits\":256", "\"bits\":-1", "tls.bits: not a number from 0 to 65535"},
	{"\"bits\":256", "\"bits\":99999999999999999999", "tls.bits: not a number from 0 to 65535"},
	{"\"bits\":256", "\"bits\":null", NULL},
	{"\"verify\":\"ok\"", "\"verify\":\"maybe\"", NULL},
	{"\"sender\":\"<a@x.example>\"", "\"sender\":1", "sender: expected a string, got int"},
	{"\"sender_domain\":\"x.example\"", "\"sender_domain\":\"x..example\"", "sender_domain: empty label in domain name"},
	{"\"sender_domain\":\"x.example\"", "\"sender_domain\":\"X.Example.\"", NULL},
	{"\"rcpts\":[", "\"rcpts\":{},\"x\":[", "rcpts: expected an array, got object"},
	{"\"rcpts\":[", "\"rcpts\":[7,", "rcpts[]: expected an object, got int"},
	{"\"level\":\"prefer\"", "\"level\":3", "rcpts[0].level: expected a string, got int"},
	{"\"result\":\"unmet-prefer\"", "\"result\":null", "rcpts[0].result: expected a string, got null"},
	{"\"testing\":false", "\"testing\":\"no\"", "rcpts[0].testing: expected true or false, got string"},
	{"\"addr\":\"<b@y.example>\",", "", "rcpts[0].addr: missing"},
	{"\"domain\":\"y.example\"", "\"domain\":\"y example\"", "rcpts[0].domain: character not allowed"},
	{"\"level\":\"prefer\"", "\"level\":\"future-level\"", NULL},
};

/* replaced - base with the first "from" replaced by "to" (caller frees) */

static char *
replaced(const char *from, const char *to)
{
	const char *at = from ? strstr(base, from) : NULL;
	char   *out;

	if (from == NULL)
		return (strdup(to));
	ck_assert_msg(at != NULL, "\"%s\" is not in the base record", from);
	out = malloc(sizeof(base) + strlen(to));
	ck_assert_ptr_nonnull(out);
	sprintf(out, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return (out);
}

/* expect_line - one line: counted (want NULL) or skipped with want */

static void
expect_line(const char *line, size_t len, const char *want, const char *label)
{
	struct tp_report *rep = new_report(NULL, NULL, 0);
	struct tp_report_totals t;
	int	rc = feed(rep, line, len);
	char	where[300];

	tp_report_totals(rep, &t);
	if (want == NULL) {
		ck_assert_msg(rc == 1, "%s: got rc %d (%s), want counted", label, rc,
			      t.first_skipped ? t.first_skipped : "");
	} else {
		snprintf(where, sizeof(where), "%s:1: %s", fed, want);
		ck_assert_msg(rc == -1 && t.skipped == 1 && t.records == 0,
			      "%s: got rc %d, want skipped", label, rc);
		ck_assert_msg(strncmp(t.first_skipped, where, strlen(where)) == 0,
			      "%s: got \"%s\", want \"%s\"", label, t.first_skipped, where);
	}
	/* The report goes on after any line. */
	ck_assert_int_eq(feed(rep, base, strlen(base)), 1);
	tp_report_free(rep);
}

START_TEST(test_malformed)
{
	char   *line = replaced(malformed[_i].from, malformed[_i].to);

	expect_line(line, strlen(line), malformed[_i].want, line);
	free(line);
}
END_TEST

/* hostile - a line that C string literals cannot easily say (caller frees) */

static char *
hostile(int i, size_t *len, const char **want)
{
	size_t	n = sizeof(base) - 1, big = 10 * 1024;
	char   *s = malloc(n + 3 * 1024 * 1024);
	char   *at;

	ck_assert_ptr_nonnull(s);
	memcpy(s, base, n + 1);
	*len = n;
	at = strstr(s, "mx\"");
	switch (i) {
	case 0:					/* a NUL byte in a string */
		at[1] = 0;
		*want = "NUL byte in line";
		break;
	case 1:					/* a byte that is not UTF-8 */
		at[1] = (char)0xff;
		*want = "not valid UTF-8";
		break;
	case 2:					/* an overlong encoding of '/' */
		at[0] = (char)0xc0;
		at[1] = (char)0xaf;
		*want = "not valid UTF-8";
		break;
	case 3:					/* valid UTF-8: fine */
		memcpy(at, "\xc3\xa9", 2);
		*want = NULL;
		break;
	case 4:					/* 10 kB in a field we read */
		at = strstr(s, "<a@x.example>");
		memmove(at + big, at, strlen(at) + 1);
		memset(at, 'a', big);
		*len = strlen(s);
		*want = "sender: string longer than 2048 bytes";
		break;
	case 5:					/* 10 kB in a field we do not read */
		memmove(at + big, at, strlen(at) + 1);
		memset(at, 'm', big);
		*len = strlen(s);
		*want = NULL;
		break;
	case 6:					/* nested 100,000 deep */
		memset(s, '[', 100000);
		memset(s + 100000, ']', 100000);
		*len = 200000;
		*want = "not a JSON object";
		break;
	case 7:					/* nested inside the record */
		strcpy(s, "{\"v\":");
		memset(s + 5, '[', 100000);
		*len = 100005;
		*want = "not JSON: nesting too deep";
		break;
	default:				/* a line over 1 MiB */
		memset(s, ' ', 2 * 1024 * 1024);
		memcpy(s + 2 * 1024 * 1024, base, n);
		*len = 2 * 1024 * 1024 + n;
		*want = "line longer than 1048576 bytes";
		break;
	}
	return (s);
}

START_TEST(test_hostile)
{
	const char *want;
	size_t	len;
	char   *line = hostile(_i, &len, &want);
	char	label[32];

	snprintf(label, sizeof(label), "hostile line %d", _i);
	expect_line(line, len, want, label);
	free(line);
}
END_TEST

/* write_tmp - content to a temporary file; the caller unlinks it */

static char *
write_tmp(const char *content, size_t len)
{
	char   *path = strdup(test_tmpfile(content, len));

	ck_assert_ptr_nonnull(path);
	return (path);
}

/* big_log - n copies of the base record, a bad line at bad_at (1-based) */

static char *
big_log(size_t n, size_t bad_at, size_t *len)
{
	size_t	rec = sizeof(base) - 1, o = 0;
	char   *s = malloc(n * (rec + 1) + 64);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 1; i <= n; i++) {
		if (i == bad_at) {
			o += (size_t)sprintf(s + o, "garbage\n");
			continue;
		}
		memcpy(s + o, base, rec);
		memcpy(s + o + strlen("{\"v\":1,\"time\":\"2026-11-20T1"), i % 2 ? "1" : "2", 1);
		o += rec;
		s[o++] = '\n';
	}
	*len = o;
	return (s);
}

/* report_text - the text report as a string (caller frees) */

static char *
report_text(const struct tp_report *rep, bool json)
{
	char   *text = NULL;
	size_t	size = 0;
	FILE   *fp = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(fp);
	if (json)
		tp_report_print_json(rep, fp);
	else
		tp_report_print_text(rep, fp);
	fclose(fp);
	return (text);
}

START_TEST(test_threads_agree)
{
	/* ~7 MB: several batches; the bad line falls in the second. */
	size_t	len, n = 12000, bad_at = 5001;
	char   *log = big_log(n, bad_at, &len);
	char   *path = write_tmp(log, len);
	struct tp_report *one = new_report(NULL, NULL, 0);
	struct tp_report *three = new_report(NULL, NULL, 3);
	struct tp_report_totals t;
	char   *a, *b, want[64];

	read_file(one, path);
	read_file(three, path);
	unlink(path);
	tp_report_totals(three, &t);
	ck_assert_msg(t.records == n - 1, "records: got %lu, want %zu", t.records, n - 1);
	snprintf(want, sizeof(want), ":%zu: not a JSON object", bad_at);
	ck_assert_msg(t.first_skipped && strstr(t.first_skipped, want),
		      "first skipped: got \"%s\", want \"...%s\"", t.first_skipped, want);
	a = report_text(one, false);
	b = report_text(three, false);
	ck_assert_msg(strcmp(a, b) == 0, "0 and 3 threads disagree:\n%s\n----\n%s", a, b);
	free(a);
	free(b);
	tp_report_free(one);
	tp_report_free(three);
	free(log);
	free(path);
}
END_TEST

/* Files with awkward lines: records counted, lines skipped, first skipped. */
static const struct {
	const char *name;
	int	overlong_at;		/* 0: none; else a 3 MB line there */
	const char *text;		/* lines; "B" stands for the base record */
	unsigned long records;
	unsigned long skipped;
	const char *first;
} files[] = {
	{"no newline at the end", 0, "B\nB", 2, 0, NULL},
	{"truncated last line", 0, "B\nB\n{\"v\":1,\"ti", 2, 1, ":3: truncated record (no newline at end of file)"},
	{"CRLF", 0, "B\r\nB\r\n", 2, 0, NULL},
	{"blank lines", 0, "\nB\n\n", 1, 2, ":1: empty line"},
	{"overlong line first", 1, "B\nB\n", 2, 1, ":1: line longer than 1048576 bytes"},
	{"overlong line between", 2, "B\nB\nx\n", 2, 2, ":2: line longer than 1048576 bytes"},
	{"overlong last line", 3, "B\nB\n", 2, 1, ":3: line longer than 1048576 bytes"},
	{"empty file", 0, "", 0, 0, NULL},
};

/* file_text - the file of files[i] (caller frees) */

static char *
file_text(int i, size_t *len)
{
	size_t	big = 3 * 1024 * 1024, o = 0;
	char   *s = malloc(big + 16 * sizeof(base) + 64);
	int	line = 1;

	ck_assert_ptr_nonnull(s);
	for (const char *t = files[i].text;; t++) {
		if (line == files[i].overlong_at) {
			memset(s + o, '{', big);
			o += big;
			s[o++] = '\n';
			line++;
		}
		if (*t == 0)
			break;
		if (*t == 'B') {
			memcpy(s + o, base, sizeof(base) - 1);
			o += sizeof(base) - 1;
		} else {
			s[o++] = *t;
		}
		line += *t == '\n';
	}
	*len = o;
	return (s);
}

START_TEST(test_awkward_files)
{
	size_t	len;
	char   *text = file_text(_i, &len);
	char   *path = write_tmp(text, len);

	for (unsigned threads = 0; threads <= 2; threads += 2) {
		struct tp_report *rep = new_report(NULL, NULL, threads);
		struct tp_report_totals t;

		read_file(rep, path);
		tp_report_totals(rep, &t);
		ck_assert_msg(t.records == files[_i].records && t.skipped == files[_i].skipped,
			      "%s, %u threads: got %lu records %lu skipped, want %lu and %lu",
			      files[_i].name, threads, t.records, t.skipped, files[_i].records,
			      files[_i].skipped);
		ck_assert_msg(files[_i].first == NULL || (t.first_skipped != NULL
				     && strstr(t.first_skipped, files[_i].first) != NULL),
			      "%s: first skipped: got \"%s\", want \"...%s\"", files[_i].name,
			      t.first_skipped ? t.first_skipped : "(none)", files[_i].first);
		tp_report_free(rep);
	}
	unlink(path);
	free(path);
	free(text);
}
END_TEST

START_TEST(test_read_errors)
{
	struct tp_report *rep = new_report(NULL, NULL, 2);
	char	why[512] = "", *gz, *path;
	FILE   *fp = fopen(test_data(SAMPLE_GZ), "rb");
	size_t	len;

	ck_assert_int_eq(tp_report_read(rep, "/nonexistent/audit.jsonl", why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "/nonexistent/audit.jsonl: No such file") != NULL,
		      "missing file: got \"%s\"", why);
	ck_assert_int_eq(tp_report_read(rep, "/", why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "/: Is a directory") != NULL, "directory: got \"%s\"", why);
	/* Half a gzip file: an error, not a short report. */
	ck_assert_ptr_nonnull(fp);
	gz = malloc(4096);
	len = fread(gz, 1, 4096, fp);
	fclose(fp);
	path = write_tmp(gz, len / 2);
	ck_assert_int_eq(tp_report_read(rep, path, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "gzip file ends early") != NULL, "truncated gzip: got \"%s\"", why);
	unlink(path);
	free(path);
	free(gz);
	tp_report_free(rep);
}
END_TEST

/* Lines of the sample's text report, as they must be. */
static const char *const want_text[] = {
	"tlspolicy audit report\n",
	"  period    2026-11-20T10:00:00.000Z to 2026-11-20T20:00:00.000Z\n  records   13\n",
	"SENDER DOMAIN  MESSAGES     TLS  STARTTLS  IMPLICIT  VERSIONS           MIN BITS  BITS"
	"         VERIFY       WOULD REJECT  READY\n"
	"shop.example          6   33.3%         2         0  TLSv1.2:2               128  128:2"
	"        none:2                  4  no\n",
	"<>                    1  100.0%         1         0  TLSv1.3:1                 -  unknown:1"
	"    unknown:1               -  -\n",
	"sub.example.org          1  100.0%         1         0  TLSv1.2:1                         128"
	"  128:1                  none:1                                   0  yes\n",
	"198.51.100.7  -                         4   50.0%",
	"sender domain shop.example: 4 of 6 messages; not ready to enforce\n"
	"  2026-11-20T19:00:00.000Z  session S13  queue_id Q13  client 198.51.100.7\n"
	"    from <w@shop.example> to <gina@other.example>\n"
	"    reason: TLS preferred for mail from shop.example\n"
	"  2026-11-20T18:00:00.000Z  session S12  queue_id Q12  client 198.51.100.8 (mail.shop.example)\n",
};

START_TEST(test_text_output)
{
	struct tp_report *rep = sample(0);
	char   *text = report_text(rep, false);

	ck_assert_msg(strstr(text, want_text[_i]) != NULL, "got:\n%s\nwant it to contain:\n%s",
		      text, want_text[_i]);
	free(text);
	tp_report_free(rep);
}
END_TEST

START_TEST(test_text_escapes)
{
	static const char *const evil[][2] = {
		{"\"session\":\"S1\"", "\"session\":\"\\u001b[2J\\u001b]0;owned\\u0007\""},
		{"\"name\":null", "\"name\":\"mx\\u009b31m.example\""},
		{"\"sender\":\"<a@x.example>\"", "\"sender\":\"<a@x.example>\\r\\nX: y\\\\\""},
	};
	struct tp_report *rep = new_report(NULL, NULL, 0);
	char   *line = strdup(base), *text, *next;

	for (size_t i = 0; i < 3; i++) {
		char   *at = strstr(line, evil[i][0]);

		ck_assert_ptr_nonnull(at);
		next = malloc(strlen(line) + strlen(evil[i][1]) + 1);
		ck_assert_ptr_nonnull(next);
		sprintf(next, "%.*s%s%s", (int)(at - line), line, evil[i][1], at + strlen(evil[i][0]));
		free(line);
		line = next;
	}
	ck_assert_int_eq(feed(rep, line, strlen(line)), 1);
	text = report_text(rep, false);
	ck_assert_msg(strpbrk(text, "\x1b\x07\r") == NULL && strstr(text, "\xc2\x9b") == NULL,
		      "control characters reached the terminal:\n%s", text);
	ck_assert_ptr_nonnull(strstr(text, "session \\x1b[2J\\x1b]0;owned\\x07"));
	ck_assert_ptr_nonnull(strstr(text, "mx\\u009b31m.example"));
	ck_assert_ptr_nonnull(strstr(text, "from <a@x.example>\\x0d\\x0aX: y\\\\ to"));
	free(text);
	free(line);
	tp_report_free(rep);
}
END_TEST

/* get - a member of a JSON object, or NULL */

static struct json_object *
get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return (v);
}

/* find_name - the object of a name in one of the report's arrays */

static struct json_object *
find_name(struct json_object *top, const char *array, const char *key, const char *value)
{
	struct json_object *a = get(top, array);

	for (size_t i = 0; a != NULL && i < json_object_array_length(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);
		struct json_object *v = get(o, key);

		if (value == NULL ? v == NULL : v != NULL && strcmp(json_object_get_string(v), value) == 0)
			return (o);
	}
	return (NULL);
}

START_TEST(test_json_output)
{
	struct tp_report *rep = sample(2);
	char   *text = report_text(rep, true);
	struct json_object *top = json_tokener_parse(text), *o;

	ck_assert_msg(top != NULL, "not JSON:\n%s", text);
	ck_assert_int_eq(json_object_get_int64(get(top, "records")), 13);
	ck_assert_int_eq(json_object_get_int64(get(top, "skipped")), 1);
	o = json_object_array_get_idx(get(top, "sender_domains"), 0);
	ck_assert_str_eq(json_object_get_string(get(o, "domain")), "shop.example");
	ck_assert_str_eq(json_object_get_string(get(o, "tls_share")), "0.3333");
	ck_assert(!json_object_get_boolean(get(o, "ready_to_enforce")));
	ck_assert_int_eq(json_object_get_int64(get(o, "would_reject")), 4);
	ck_assert_uint_eq(json_object_array_length(get(o, "examples")), 3);
	o = find_name(top, "rcpt_domains", "domain", "sub.example.org");
	ck_assert(o != NULL && json_object_get_boolean(get(o, "ready_to_enforce")));
	o = find_name(top, "sender_domains", "domain", "bank.example");
	ck_assert(o != NULL && get(o, "ready_to_enforce") == NULL);
	ck_assert_int_eq(json_object_get_int64(get(get(o, "how"), "implicit")), 1);
	ck_assert_int_eq(json_object_get_int64(get(get(o, "tls_versions"), "TLSv1.3")), 2);
	ck_assert_int_eq(json_object_get_int64(get(get(o, "cipher_bits"), "min")), 256);
	o = find_name(top, "sender_domains", "domain", "<>");
	ck_assert(o != NULL && get(get(o, "cipher_bits"), "min") == NULL);
	ck_assert_int_eq(json_object_get_int64(get(get(get(o, "cipher_bits"), "counts"), "unknown")), 1);
	o = find_name(top, "clients", "addr", "198.51.100.7");
	ck_assert(o != NULL && get(o, "name") == NULL);
	json_object_put(top);
	free(text);
	tp_report_free(rep);
}
END_TEST

START_TEST(test_writer_roundtrip)
{
	/* The milter's own writer, with the nastiest strings it takes. */
	static const struct tp_tls_state tls = {
		.how = TP_TLS_HOW_IMPLICIT, .version = "TLSv1.3", .version_id = TP_TLS_V1_3,
		.cipher = "TLS_AES_256_GCM_SHA384", .bits = 256, .verify = TP_VERIFY_OK,
		.cert_subject = "mx\r\n\"evil\"", .cert_issuer = "R11",
	};
	static char junk[1100];
	struct tp_record_rcpt r = {
		.addr = "<bob@Example.ORG>", .level = TP_LEVEL_PREFER, .result = TP_RESULT_UNMET,
		.reason = "TLS preferred \x01 for \xff mail",
	};
	struct tp_record rec = {
		.session_id = "5F00AA000001", .client_addr = "192.0.2.1",
		.client_name = "mx\x1b.example", .helo = junk, .sender = junk,
		.tls = &tls, .policy_file = "/etc/p", .policy_generation = 1,
		.hostname = "mx", .outcome = "accepted", .rcpts = &r, .nrcpts = 1,
	};
	struct timespec when = {NOW, 123000000};
	struct tp_report *rep = new_report(NULL, NULL, 0);
	const struct tp_report_stats *s;
	static char line[70000];
	struct tp_record_text text;
	size_t	len;

	memset(junk, 0xff, sizeof(junk) - 1);	/* 1024 bytes kept, each \u00ff */
	tp_record_prepare(&rec, &text);
	len = tp_audit_format(&text, &when, line, sizeof(line));
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(feed(rep, line, len - 1), 1);
	s = tp_report_find(rep, TP_REPORT_RCPT, "example.org");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->would_reject, 1);
	ck_assert_uint_eq(s->how[TP_REPORT_HOW_IMPLICIT], 1);
	ck_assert_str_eq(s->examples[0]->time, "2026-11-20T20:00:00.123Z");
	ck_assert_str_eq(s->examples[0]->reason, "TLS preferred \x01 for \xc3\xbf mail");
	ck_assert_uint_eq(strlen(s->examples[0]->sender), 2048);
	s = tp_report_find(rep, TP_REPORT_CLIENT, "192.0.2.1");
	ck_assert_str_eq(s->name, "mx\x1b.example");
	ck_assert_ptr_nonnull(tp_report_find(rep, TP_REPORT_SENDER, ""));
	tp_report_free(rep);
}
END_TEST

/* tp_report_main's exit status for an argument list ("@": the sample). */
static const struct {
	const char *args[8];
	int	want;
} mains[] = {
	{{"report", NULL}, 64},
	{{"report", "--bogus", "@", NULL}, 64},
	{{"report", "--since", NULL}, 64},
	{{"report", "--since", "yesterday", "@", NULL}, 64},
	{{"report", "--domain", "bad..example", "@", NULL}, 64},
	{{"report", "/nonexistent/audit.jsonl", NULL}, 2},
	{{"report", "@", "/nonexistent/audit.jsonl", NULL}, 2},
	{{"report", "@", NULL}, 0},
	{{"report", "--json", "--since", "2026-11-20", "--domain", "Example.ORG.", "@", NULL}, 0},
	{{"report", "--help", NULL}, 0},
	{{"report", "-h", "--bogus", NULL}, 0},
};

/* A day's record: the base record at time, over TLS or not. */
static const struct {
	const char *time;
	bool	tls;
} day_records[] = {
	{"2026-11-20T10:00:00.000Z", true},
	{"2026-11-20T23:59:59.999Z", false},
	{"2026-11-22T00:00:00.000Z", true},
	{"2026-10-01T00:00:00.000Z", true},	/* before the window */
	{"2026-12-20T12:00:00.000Z", true},	/* takes 2026-11-20's slot */
	{"2026-11-20T11:00:00.000Z", false},	/* now too old for its slot */
};

#define DAY_2026_11_20	20777LL		/* days since 1970-01-01 */

/* What tp_report_days() must give after the first n day_records. */
static const struct {
	size_t	after;
	size_t	ndays;
	long long first;
	struct {
		size_t	i;
		long long day;
		unsigned long messages, tls;
	} want[3];
} day_series[] = {
	{3, 3, DAY_2026_11_20, {{0, DAY_2026_11_20, 2, 1}, {1, DAY_2026_11_20 + 1, 0, 0},
				{2, DAY_2026_11_20 + 2, 1, 1}}},
	{4, TP_REPORT_DAYS, DAY_2026_11_20 - 27, {{27, DAY_2026_11_20, 2, 1},
			{28, DAY_2026_11_20 + 1, 0, 0}, {29, DAY_2026_11_20 + 2, 1, 1}}},
	{6, TP_REPORT_DAYS, DAY_2026_11_20 + 1, {{0, DAY_2026_11_20 + 1, 0, 0},
			{1, DAY_2026_11_20 + 2, 1, 1}, {29, DAY_2026_11_20 + 30, 1, 1}}},
};

/* day_line - a day_records line (caller frees) */

static char *
day_line(size_t i)
{
	static const char tls[] = "\"how\":\"starttls\",\"version\":\"TLSv1.3\",\"cipher\":"
	"\"C\",\"bits\":256,\"verify\":\"ok\"";
	static const char none[] = "\"how\":\"none\",\"version\":null,\"cipher\":null,"
	"\"bits\":null,\"verify\":\"none\"";
	char   *line = replaced("2026-11-20T10:00:00.000Z", day_records[i].time);
	char   *at = strstr(line, tls);

	ck_assert_ptr_nonnull(at);
	if (!day_records[i].tls) {
		memmove(at + strlen(none), at + strlen(tls), strlen(at + strlen(tls)) + 1);
		memcpy(at, none, strlen(none));
	}
	return (line);
}

START_TEST(test_days)
{
	struct tp_report *rep = new_report(NULL, NULL, 0);
	const struct tp_report_stats *names[3];
	struct tp_report_day days[TP_REPORT_DAYS];
	size_t	fed_n = 0;

	ck_assert_uint_eq(tp_report_days(rep, NULL, days), 0);
	for (size_t k = 0; k < sizeof(day_series) / sizeof(day_series[0]); k++) {
		for (; fed_n < day_series[k].after; fed_n++) {
			char   *line = day_line(fed_n);

			ck_assert_int_eq(feed(rep, line, strlen(line)), 1);
			free(line);
		}
		names[0] = tp_report_find(rep, TP_REPORT_SENDER, "x.example");
		names[1] = tp_report_find(rep, TP_REPORT_RCPT, "y.example");
		names[2] = NULL;		/* every record */
		for (size_t g = 0; g < 3; g++) {
			size_t	n = tp_report_days(rep, names[g], days);

			ck_assert_msg(n == day_series[k].ndays, "after %zu records, name %zu: "
				      "got %zu days, want %zu", fed_n, g, n, day_series[k].ndays);
			ck_assert_int_eq(days[0].day, day_series[k].first);
			for (size_t w = 0; w < 3; w++) {
				size_t	i = day_series[k].want[w].i;

				ck_assert_msg(days[i].day == day_series[k].want[w].day
					      && days[i].messages == day_series[k].want[w].messages
					      && days[i].tls == day_series[k].want[w].tls,
					      "after %zu records, name %zu, day %zu: got %lld %lu/%lu, "
					      "want %lld %lu/%lu", fed_n, g, i, days[i].day,
					      days[i].tls, days[i].messages, day_series[k].want[w].day,
					      day_series[k].want[w].tls, day_series[k].want[w].messages);
			}
		}
	}
	tp_report_free(rep);
}
END_TEST

/* report_html - the page as a string (caller frees) */

static char *
report_html(const struct tp_report *rep, size_t *size)
{
	char   *text = NULL;
	FILE   *fp = open_memstream(&text, size);

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(tp_report_print_html(rep, fp), 0);
	fclose(fp);
	return (text);
}

/* count - occurrences of needle in text */

static size_t
count(const char *text, const char *needle)
{
	size_t	n = 0;

	for (const char *at = text; (at = strstr(at, needle)) != NULL; at++)
		n++;
	return (n);
}

START_TEST(test_html_sample)
{
	struct tp_report *rep = sample(0);
	size_t	size;
	char   *page = report_html(rep, &size);
	char	nonce[33] = "", want[80];
	const char *csp = strstr(page, "script-src 'nonce-");

	ck_assert_msg(strncmp(page, "<!DOCTYPE html>", 15) == 0, "no doctype");
	ck_assert_ptr_nonnull(strstr(page, "content=\"default-src 'none'; "));
	ck_assert_ptr_nonnull(csp);
	memcpy(nonce, csp + strlen("script-src 'nonce-"), 32);
	snprintf(want, sizeof(want), "<script nonce=\"%s\">", nonce);
	ck_assert_msg(count(page, "<script") == 1 && strstr(page, want) != NULL,
		      "the page's one script has not the CSP's nonce %s", nonce);
	snprintf(want, sizeof(want), "<style nonce=\"%s\">", nonce);
	ck_assert_ptr_nonnull(strstr(page, want));
	/* The sample's counts, as the tables above: shop.example, 6 messages. */
	ck_assert_ptr_nonnull(strstr(page, "<td class=\"k\">shop.example</td><td class=\"n\">6</td>"));
	ck_assert_ptr_nonnull(strstr(page, "<b data-k=\"messages\">13</b>"));
	ck_assert_uint_eq(count(page, "<tr data-ready="), 5 + 3 + 7);
	ck_assert_uint_eq(count(page, "<details id="), 2 + 2 + 3);
	ck_assert_ptr_nonnull(strstr(page, "</html>\n"));
	free(page);
	tp_report_free(rep);
}
END_TEST

START_TEST(test_html_hostile)
{
	struct tp_report *rep = new_report(NULL, NULL, 0);
	char   *line = replaced("\"addr\":\"192.0.2.1\"",
				"\"addr\":\"<script>x</script>\\\"'&\\u2028\\u0001\"");
	size_t	size;
	char   *page;

	ck_assert_int_eq(feed(rep, line, strlen(line)), 1);
	page = report_html(rep, &size);
	ck_assert_msg(strstr(page, "&lt;script&gt;x&lt;/script&gt;&quot;&#39;&amp;\\u2028\\x01")
		      != NULL, "the hostile client address is not escaped as it should be");
	ck_assert_uint_eq(count(page, "<script"), 1);
	ck_assert_ptr_null(strstr(page, "\xe2\x80\xa8"));
	free(page);
	free(line);
	tp_report_free(rep);
}
END_TEST

/*
 * A log made to fill the page: 700 clients with long names of quotes,
 * each with 8 TLS versions of quotes over 30 days. The tables must stop
 * at their byte budget, the page stay under 5 MB.
 */
START_TEST(test_html_size)
{
	struct tp_report *rep = new_report(NULL, NULL, 0);
	size_t	clients = 700, len = 0, size;
	char   *log = malloc(clients * 8 * 3000), *page, *path;
	char	name[1001], version[33];

	ck_assert_ptr_nonnull(log);
	memset(name, '"', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	for (size_t c = 0; c < clients; c++) {
		for (int v = 0; v < 8; v++) {
			snprintf(version, sizeof(version), "%d%.31s", v, name);
			len += (size_t)sprintf(log + len, "{\"v\":1,\"time\":\"2026-11-%02dT10:00:00Z\","
				"\"session\":\"S\",\"queue_id\":null,\"client\":{\"addr\":\"%zu",
				1 + (int)(c + (size_t)v * 4) % 30, c);
			for (size_t i = 0; i < 300; i++)
				len += (size_t)sprintf(log + len, "\\\"");
			len += (size_t)sprintf(log + len, "\",\"name\":\"");
			for (size_t i = 0; i < 300; i++)
				len += (size_t)sprintf(log + len, "\\\"");
			len += (size_t)sprintf(log + len, "\"},\"tls\":{\"how\":\"starttls\",\"version\":\"%d",
				v);
			for (size_t i = 0; i < 31; i++)
				len += (size_t)sprintf(log + len, "\\\"");
			len += (size_t)sprintf(log + len, "\",\"bits\":256,\"verify\":\"ok\"},"
				"\"sender\":\"<a@x.example>\",\"sender_domain\":\"x.example\","
				"\"rcpts\":[{\"addr\":\"<b@y.example>\",\"domain\":\"y.example\","
				"\"level\":\"prefer\",\"result\":\"unmet-prefer\",\"testing\":false,"
				"\"reason\":\"r\"}]}\n");
		}
	}
	path = write_tmp(log, len);
	read_file(rep, path);
	unlink(path);
	page = report_html(rep, &size);
	ck_assert_msg(size < 5000000, "the page is %zu bytes", size);
	ck_assert_msg(count(page, "<tr data-ready=") < TP_REPORT_HTML_ROWS + 2,
		      "%zu rows: the client table did not stop at its budget",
		      count(page, "<tr data-ready="));
	ck_assert_ptr_nonnull(strstr(page, "more clients with"));
	free(page);
	free(path);
	free(log);
	tp_report_free(rep);
}
END_TEST

START_TEST(test_main)
{
	char   *argv[8];
	int	argc = 0, out, err, null = open("/dev/null", O_WRONLY), rc;

	for (; mains[_i].args[argc] != NULL; argc++)
		argv[argc] = strdup(strcmp(mains[_i].args[argc], "@") ? mains[_i].args[argc]
				    : test_data(SAMPLE));
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	out = dup(STDOUT_FILENO);
	err = dup(STDERR_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	rc = tp_report_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	close(null);
	ck_assert_msg(rc == mains[_i].want, "%s %s: got exit %d, want %d", argv[0],
		      argc > 1 ? argv[1] : "", rc, mains[_i].want);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}
END_TEST

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite  *
report_cmd_suite(void)
{
	Suite  *s = suite_create("report_cmd");
	TCase  *tc = tcase_create("report_cmd");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_counts_threads, 0, NELEM(want_stats));
	tcase_add_loop_test(tc, test_counts_file, 0, NELEM(want_stats));
	tcase_add_loop_test(tc, test_counts_gz, 0, NELEM(want_stats));
	tcase_add_loop_test(tc, test_totals, 0, 3);
	tcase_add_loop_test(tc, test_tls_counts, 0, NELEM(want_tls));
	tcase_add_loop_test(tc, test_examples, 0, NELEM(want_examples));
	tcase_add_test(tc, test_example_fields);
	tcase_add_loop_test(tc, test_decisions, 0, NELEM(decisions));
	tcase_add_loop_test(tc, test_filters, 0, NELEM(filters));
	tcase_add_test(tc, test_filter_keeps_whole_record);
	tcase_add_loop_test(tc, test_parse_time, 0, NELEM(times));
	tcase_add_loop_test(tc, test_malformed, 0, NELEM(malformed));
	tcase_add_loop_test(tc, test_hostile, 0, 9);
	tcase_add_test(tc, test_threads_agree);
	tcase_add_loop_test(tc, test_awkward_files, 0, NELEM(files));
	tcase_add_test(tc, test_read_errors);
	tcase_add_loop_test(tc, test_text_output, 0, NELEM(want_text));
	tcase_add_test(tc, test_text_escapes);
	tcase_add_test(tc, test_json_output);
	tcase_add_test(tc, test_writer_roundtrip);
	tcase_add_loop_test(tc, test_main, 0, NELEM(mains));
	tcase_add_test(tc, test_days);
	tcase_add_test(tc, test_html_sample);
	tcase_add_test(tc, test_html_hostile);
	tcase_add_test(tc, test_html_size);
	suite_add_tcase(s, tc);
	return (s);
}
