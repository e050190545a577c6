/*
 * NAME
 *	check_mta_sts 1
 * SUMMARY
 *	unit tests: MTA-STS TXT record, policy body parser, MX patterns
 * DESCRIPTION
 *	Table-driven: each case is an input and what RFC 8461 makes of
 *	it. The bodies include those of postfix-mta-sts-resolver's test
 *	fixture (tests/data/mta-sts/, see SOURCES there), good and broken.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "ctl/tp_mta_sts.h"

Suite  *mta_sts_suite(void);

/* ---- TXT records ------------------------------------------------------ */

static const struct txt_case {
	const char *text;
	int	want;			/* 1 valid, 0 not STSv1, -1 malformed */
	const char *want_id;
} txt_cases[] = {
	{"v=STSv1; id=20160831085700Z;", 1, "20160831085700Z"},
	{"v=STSv1;id=abc", 1, "abc"},
	{"v=STSv1 ; id=abc ; ext=x-y.z ;", 1, "abc"},
	{"v=STSv1; id=12345678901234567890123456789012", 1,
	"12345678901234567890123456789012"},
	{"v=spf1 -all", 0, NULL},
	{"v=STSv10; id=1", 0, NULL},
	{"", 0, NULL},
	{"v=STSv1", -1, NULL},
	{"v=STSv1;", -1, NULL},
	{"v=STSv1; id=", -1, NULL},
	{"v=STSv1; id=a-b", -1, NULL},
	{"v=STSv1; id=123456789012345678901234567890123", -1, NULL},
	{"v=STSv1; id=1; id=2", -1, NULL},
	{"v=STSv1; id=1 x=2", -1, NULL},
	{"v=STSv1; id=1; =2", -1, NULL},
	{"v=STSv1; id=1; x=a\001", -1, NULL},
};

START_TEST(test_txt_parse)
{
	const struct txt_case *c = &txt_cases[_i];
	char	id[TP_STS_ID_MAX + 1] = "", why[128] = "";
	int	got = tp_sts_txt_parse(c->text, strlen(c->text), id, why, sizeof(why));

	ck_assert_msg(got == c->want, "\"%s\": got %d, want %d (%s)", c->text,
		      got, c->want, why);
	if (c->want == 1)
		ck_assert_str_eq(id, c->want_id);
	if (c->want < 0)
		ck_assert_msg(why[0] != 0, "\"%s\": no reason", c->text);
}
END_TEST

/* select - tp_sts_txt_select over records given as strings */

static int
select_of(const char *const *texts, size_t n, char *id)
{
	struct tp_dns_txt txt[4];
	struct tp_dns_result res = {.status = TP_DNS_INSECURE, .txt = txt, .count = n};
	char	buf[4][64], why[128];

	for (size_t i = 0; i < n; i++) {
		txt[i].len = strlen(texts[i]);
		txt[i].text = memcpy(buf[i], texts[i], txt[i].len + 1);
	}
	return (tp_sts_txt_select(&res, id, why, sizeof(why)));
}

START_TEST(test_txt_select)
{
	const char *one[] = {"v=spf1 -all", "v=STSv1; id=7"};
	const char *two[] = {"v=STSv1; id=7", "v=STSv1; id=8"};
	const char *bad[] = {"v=STSv1; id=#", "other"};
	char	id[TP_STS_ID_MAX + 1] = "";

	ck_assert_int_eq(select_of(one, 2, id), 1);
	ck_assert_str_eq(id, "7");
	ck_assert_int_eq(select_of(two, 2, id), -1);
	ck_assert_int_eq(select_of(bad, 2, id), -1);
	ck_assert_int_eq(select_of(one, 1, id), 0);
	ck_assert_int_eq(select_of(NULL, 0, id), 0);
}
END_TEST

/* ---- policy bodies ---------------------------------------------------- */

static const struct body_case {
	const char *name;
	const char *body;
	enum tp_sts_mode mode;		/* when valid */
	long	max_age;
	const char *mx;			/* patterns joined with ',', NULL: refused */
	const char *want_error;		/* a substring of the first error */
} body_cases[] = {
	{"good", "version: STSv1\nmode: enforce\nmx: mail.loc\nmax_age: 86400",
	TP_STS_MODE_ENFORCE, 86400, "mail.loc", NULL},
	{"crlf, wildcard, case", "version: STSv1\r\nmode: testing\r\n"
		"mx: *.MX.Example.NET\r\nmx:\tmail.example.com.\r\nmax_age:604800\r\n",
	TP_STS_MODE_TESTING, 604800, "*.mx.example.net,mail.example.com", NULL},
	{"none without mx", "version: STSv1\nmode: none\nmax_age: 0\n",
	TP_STS_MODE_NONE, 0, "", NULL},
	{"extension ignored", "version: STSv1\nmode: enforce\nmx: a.example\n"
		"max_age: 1\nx-ext_1.v: any thing \n\n",
	TP_STS_MODE_ENFORCE, 1, "a.example", NULL},
	{"garbage", "garbage", 0, 0, NULL, "1: not a \"key: value\" line"},
	{"no mx", "version: STSv1\nmode: enforce\nmax_age: 86400", 0, 0, NULL,
	"no \"mx:\" line"},
	{"max_age xxx", "version: STSv1\nmode: enforce\nmx: mail.loc\nmax_age: xxx",
	0, 0, NULL, "4: max_age: not a number"},
	{"max_age over a year", "version: STSv1\nmode: enforce\nmx: mail.loc\n"
		"max_age: 31557601", 0, 0, NULL, "4: max_age: 31557601 is more"},
	{"max_age 11 digits", "version: STSv1\nmode: enforce\nmx: m.loc\n"
		"max_age: 00000000001", 0, 0, NULL, "max_age: not a number"},
	{"no mode", "version: STSv1\nmx: mail.loc\nmax_age: 86400", 0, 0, NULL,
	"no \"mode:\" line"},
	{"mode doubt", "version: STSv1\nmode: doubt\nmx: mail.loc\nmax_age: 86400",
	0, 0, NULL, "2: mode: not enforce"},
	{"mode upper case", "version: STSv1\nmode: Enforce\nmx: m.loc\nmax_age: 1",
	0, 0, NULL, "2: mode: not"},
	{"version 2", "version: STSv2\nmode: none\nmax_age: 1", 0, 0, NULL,
	"1: version: not STSv1"},
	{"no version", "mode: none\nmax_age: 1", 0, 0, NULL, "no \"version"},
	{"mode twice", "version: STSv1\nmode: none\nmode: enforce\nmx: m.loc\n"
		"max_age: 1", 0, 0, NULL, "3: mode: given again (first on line 2)"},
	{"space before colon", "version : STSv1\nmode: none\nmax_age: 1", 0, 0,
	NULL, "1: not a \"key: value\""},
	{"NUL", "version: STSv1\nmode: none\0\nmax_age: 1", 0, 0, NULL,
	"2: a NUL byte"},
	{"bare CR", "version: STSv1\rmode: none\nmax_age: 1", 0, 0, NULL,
	"1: a CR that does not end"},
	{"control char", "version: STSv1\nmode: none\nmax_age: 1\nx: a\033b",
	0, 0, NULL, "4: a value with a control"},
	{"mx inner star", "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1",
	0, 0, NULL, "3: mx: a '*'"},
	{"mx bare star", "version: STSv1\nmode: enforce\nmx: *\nmax_age: 1",
	0, 0, NULL, "3: mx: a '*'"},
	{"mx empty label", "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1",
	0, 0, NULL, "3: mx: empty label"},
	{"mx space", "version: STSv1\nmode: enforce\nmx: a b.example\nmax_age: 1",
	0, 0, NULL, "3: mx: character not allowed"},
	{"key without value", "version: STSv1\nmode:\nmax_age: 1", 0, 0, NULL,
	"2: a key without a value"},
};

/* joined - a policy's patterns as "a,b" */

static void
joined(const struct tp_sts_policy *p, char *buf, size_t size)
{
	buf[0] = 0;
	for (size_t i = 0; i < p->nmx; i++) {
		strncat(buf, i ? "," : "", size - strlen(buf) - 1);
		strncat(buf, p->mx[i], size - strlen(buf) - 1);
	}
}

/* body_len - the case's length; "NUL" has one inside */

static size_t
body_len(const struct body_case *c)
{
	size_t	n = strlen(c->body);

	if (strcmp(c->name, "NUL") == 0)
		n += 1 + strlen(c->body + n + 1);
	return (n);
}

START_TEST(test_parse)
{
	const struct body_case *c = &body_cases[_i];
	struct tp_errors errs;
	struct tp_sts_policy *p;
	char	mx[512];

	tp_errors_init(&errs);
	p = tp_sts_parse(c->body, body_len(c), "B", &errs);
	if (c->mx != NULL) {
		ck_assert_msg(p != NULL, "%s: refused: %s", c->name,
			      errs.kept ? errs.msgs[0] : "?");
		ck_assert_int_eq(p->mode, c->mode);
		ck_assert_int_eq(p->max_age, c->max_age);
		joined(p, mx, sizeof(mx));
		ck_assert_msg(strcmp(mx, c->mx) == 0, "%s: got mx %s, want %s",
			      c->name, mx, c->mx);
		ck_assert_int_eq(errs.count, 0);
	} else {
		ck_assert_msg(p == NULL, "%s: accepted", c->name);
		ck_assert_msg(errs.kept > 0 && strstr(errs.msgs[0], c->want_error),
			      "%s: got \"%s\", want \"%s\"", c->name,
			      errs.kept ? errs.msgs[0] : "", c->want_error);
		ck_assert_msg(strncmp(errs.msgs[0], "B:", 2) == 0, "%s", errs.msgs[0]);
	}
	tp_sts_policy_free(p);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_parse_limits)
{
	struct tp_errors errs;
	struct tp_sts_policy *p;
	char   *big;
	size_t	n = 0, size = TP_STS_BODY_MAX + 2;

	ck_assert_ptr_nonnull(big = malloc(size));
	/* Too many patterns, within the size limit. */
	n += (size_t)snprintf(big, size, "version: STSv1\nmode: enforce\nmax_age: 1\n");
	for (int i = 0; i <= TP_STS_MX_MAX; i++)
		n += (size_t)snprintf(big + n, size - n, "mx: m%d.example\n", i);
	tp_errors_init(&errs);
	ck_assert_ptr_null(tp_sts_parse(big, n, "B", &errs));
	ck_assert_msg(strstr(errs.msgs[0], "more than 100 patterns"), "%s", errs.msgs[0]);
	tp_errors_free(&errs);
	/* Too big: refused before it is read. */
	memset(big, '#', size);
	ck_assert_ptr_null(tp_sts_parse(big, TP_STS_BODY_MAX + 1, "B", &errs));
	ck_assert_str_eq(errs.msgs[0], "B: the policy is 65537 bytes, more than the 65536 allowed");
	tp_errors_free(&errs);
	/* Exactly the limit: read (and refused for what it says). */
	ck_assert_ptr_null(p = tp_sts_parse(big, TP_STS_BODY_MAX, "B", &errs));
	ck_assert_msg(strstr(errs.msgs[0], "B:1: not a"), "%s", errs.msgs[0]);
	tp_errors_free(&errs);
	free(big);
}
END_TEST

/* The bodies of postfix-mta-sts-resolver's fixture, as files. */
static const struct fixture_case {
	const char *file;
	const char *want_error;		/* NULL: accepted */
} fixture_cases[] = {
	{"good.txt", NULL},
	{"testing.txt", NULL},
	{"valid-none.txt", NULL},
	{"bad-policy1.txt", "bad-policy1.txt:1: not a \"key: value\" line"},
	{"bad-policy2.txt", "bad-policy2.txt: no \"mx:\" line"},
	{"bad-policy5.txt", "bad-policy5.txt:4: max_age: not a number"},
	{"bad-policy6.txt", "bad-policy6.txt:4: max_age: 31557601 is more"},
	{"bad-policy7.txt", "bad-policy7.txt: no \"mode:\" line"},
	{"bad-policy8.txt", "bad-policy8.txt:2: mode: not enforce"},
};

START_TEST(test_fixtures)
{
	const struct fixture_case *c = &fixture_cases[_i];
	char	path[512], body[1024];
	struct tp_errors errs;
	struct tp_sts_policy *p;
	FILE   *fp;
	size_t	n;

	snprintf(path, sizeof(path), "mta-sts/%s", c->file);
	ck_assert_ptr_nonnull(fp = fopen(test_data(path), "r"));
	n = fread(body, 1, sizeof(body), fp);
	fclose(fp);
	tp_errors_init(&errs);
	p = tp_sts_parse(body, n, c->file, &errs);
	if (c->want_error == NULL)
		ck_assert_msg(p != NULL, "%s: %s", c->file, errs.kept ? errs.msgs[0] : "");
	else
		ck_assert_msg(p == NULL && strstr(errs.msgs[0], c->want_error),
			      "%s: got \"%s\", want \"%s\"", c->file,
			      errs.kept ? errs.msgs[0] : "(accepted)", c->want_error);
	tp_sts_policy_free(p);
	tp_errors_free(&errs);
}
END_TEST

/* ---- MX patterns ------------------------------------------------------ */

static const struct match_case {
	const char *pattern, *host;
	int	want;
} match_cases[] = {
	{"mail.example.com", "mail.example.com", 1},
	{"mail.example.com", "MAIL.Example.COM.", 1},
	{"mail.example.com", "mail2.example.com", 0},
	{"mail.example.com", "x.mail.example.com", 0},
	{"*.example.net", "mx1.example.net", 1},
	{"*.example.net", "MX1.EXAMPLE.NET.", 1},
	{"*.example.net", "example.net", 0},
	{"*.example.net", "a.b.example.net", 0},
	{"*.example.net", ".example.net", 0},
	{"*.example.net", "mx1.example.network", 0},
	{"*.example.net", "mx1example.net", 0},
};

START_TEST(test_pattern)
{
	const struct match_case *c = &match_cases[_i];

	ck_assert_msg(tp_sts_pattern_match(c->pattern, c->host) == c->want,
		      "%s against %s: got %d, want %d", c->host, c->pattern,
		      !c->want, c->want);
}
END_TEST

START_TEST(test_mx_match)
{
	char	a[] = "mail.example.com", b[] = "*.mx.example.net";
	char   *mx[] = {a, b};
	struct tp_sts_policy p = {.mode = TP_STS_MODE_ENFORCE, .nmx = 2, .mx = mx};

	ck_assert_int_eq(tp_sts_mx_match(&p, "a.mx.example.net"), 1);
	ck_assert_int_eq(tp_sts_mx_match(&p, "mail.example.com"), 1);
	ck_assert_int_eq(tp_sts_mx_match(&p, "mx.example.net"), 0);
	ck_assert_str_eq(tp_sts_mode_name(TP_STS_MODE_TESTING), "testing");
}
END_TEST

Suite  *
mta_sts_suite(void)
{
	Suite  *s = suite_create("mta_sts");
	TCase  *tc = tcase_create("mta_sts");

	tcase_add_loop_test(tc, test_txt_parse, 0,
			    sizeof(txt_cases) / sizeof(txt_cases[0]));
	tcase_add_test(tc, test_txt_select);
	tcase_add_loop_test(tc, test_parse, 0,
			    sizeof(body_cases) / sizeof(body_cases[0]));
	tcase_add_test(tc, test_parse_limits);
	tcase_add_loop_test(tc, test_fixtures, 0,
			    sizeof(fixture_cases) / sizeof(fixture_cases[0]));
	tcase_add_loop_test(tc, test_pattern, 0,
			    sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_test(tc, test_mx_match);
	suite_add_tcase(s, tc);
	return (s);
}
