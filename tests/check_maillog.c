/*
 * NAME
 *	check_maillog 1
 * SUMMARY
 *	unit tests: tlspolicyctl report --maillog, Postfix's log
 * DESCRIPTION
 *	tests/data/maillog/postfix-tls.maillog is a real Postfix 3.7.11 log,
 *	captured by tests/e2e/t-maillog.sh: from 127.0.0.1 TLS 1.0 over
 *	STARTTLS and on the wrapper-mode port against a TLS 1.2 floor, no
 *	shared cipher on the wrapper-mode port, MAIL without STARTTLS on
 *	an encrypt port, one good message over TLS 1.3; from 127.0.0.2
 *	plaintext to the wrapper-mode port. postfix-tls.maillog.gz is the same
 *	compressed. The table cases are lines as other Postfix and OpenSSL
 *	versions write them, and hostile ones.
 */

#define _GNU_SOURCE 1			/* open_memstream */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "ctl/tp_maillog.h"
#include "ctl/tp_report.h"

Suite  *maillog_suite(void);

#define NONE	(-1)

/* feed - every line of text, then finish */

static struct tp_maillog *
feed(const char *text)
{
	struct tp_maillog *ml = tp_maillog_new();
	const char *p = text, *nl;

	ck_assert_ptr_nonnull(ml);
	while (*p != 0) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		tp_maillog_line(ml, p, (size_t)(nl - p));
		p = *nl ? nl + 1 : nl;
	}
	tp_maillog_finish(ml);
	return (ml);
}

/* check_fixture - the real log's figures */

static void
check_fixture(const char *name)
{
	struct tp_maillog *ml = tp_maillog_new();
	struct tp_maillog_totals t;
	const struct tp_maillog_client *c;
	char	why[256];

	ck_assert_int_eq(tp_maillog_read(ml, test_data(name), why, sizeof(why)), 0);
	tp_maillog_finish(ml);
	tp_maillog_totals(ml, &t);
	ck_assert_uint_eq(t.lines, 32);
	ck_assert_uint_eq(t.skipped, 0);
	ck_assert_uint_eq(t.sessions, 6);
	ck_assert_uint_eq(t.failed, 5);
	ck_assert_uint_eq(t.reasons[TP_MAILLOG_TLS_VERSION_OLD], 2);
	ck_assert_uint_eq(t.reasons[TP_MAILLOG_NO_SHARED_CIPHER], 1);
	ck_assert_uint_eq(t.reasons[TP_MAILLOG_STARTTLS_REQUIRED], 1);
	ck_assert_uint_eq(t.reasons[TP_MAILLOG_IMPLICIT_TLS_PORT], 1);
	ck_assert_uint_eq(t.clients, 2);
	ck_assert_ptr_nonnull(c = tp_maillog_find(ml, "127.0.0.1"));
	ck_assert_uint_eq(c->sessions, 5);
	ck_assert_uint_eq(c->tls, 1);
	ck_assert_uint_eq(c->failed, 4);
	ck_assert_ptr_null(c->name);
	ck_assert_ptr_nonnull(c = tp_maillog_find(ml, "127.0.0.2"));
	ck_assert_uint_eq(c->reasons[TP_MAILLOG_IMPLICIT_TLS_PORT], 1);
	ck_assert_uint_eq(c->failed, 1);
	tp_maillog_free(ml);
}

START_TEST(test_fixture)
{
	check_fixture("maillog/postfix-tls.maillog");
}
END_TEST

START_TEST(test_fixture_gzip)
{
	check_fixture("maillog/postfix-tls.maillog.gz");
}
END_TEST

/* One session's lines, and the reason it should count under. */
static const struct {
	const char *name;
	const char *lines;
	int	want;			/* a reason, or NONE */
	const char *detail;		/* want detail, or NULL */
} cases[] = {
	{"OpenSSL 1.1 words, warning before the SSL_accept line",
	"Nov 30 01:02:03 mx postfix/smtpd[7]: connect from mx.a.example[192.0.2.9]\n"
	"Nov 30 01:02:03 mx postfix/smtpd[7]: warning: TLS library problem: error:14209102:"
	"SSL routines:tls_early_post_process_client_hello:unsupported protocol:ssl/statem/"
	"statem_srvr.c:1661:\n"
	"Nov 30 01:02:03 mx postfix/smtpd[7]: SSL_accept error from mx.a.example[192.0.2.9]: -1\n"
	"Nov 30 01:02:03 mx postfix/smtpd[7]: lost connection after STARTTLS from mx.a.example[192.0.2.9]\n"
	"Nov 30 01:02:03 mx postfix/smtpd[7]: disconnect from mx.a.example[192.0.2.9] ehlo=1 starttls=0/1 commands=1/2\n",
	TP_MAILLOG_TLS_VERSION_OLD, NULL},
	{"RFC 3339 time, IPv6, the client refused our certificate",
	"2026-12-05T09:01:01.123456+00:00 mx postfix/smtpd[8]: connect from unknown[2001:db8::25]\n"
	"2026-12-05T09:01:01.123456+00:00 mx postfix/smtpd[8]: SSL_accept error from unknown[2001:db8::25]: -1\n"
	"2026-12-05T09:01:01.123456+00:00 mx postfix/smtpd[8]: warning: TLS library problem: "
	"error:0A000418:SSL routines::tlsv1 alert unknown ca:../ssl/record/rec_layer_s3.c:1584:SSL alert number 48:\n"
	"2026-12-05T09:01:01.123456+00:00 mx postfix/smtpd[8]: disconnect from unknown[2001:db8::25] ehlo=1 starttls=0/1 commands=1/2\n",
	TP_MAILLOG_CERT_UNTRUSTED, NULL},
	{"certificate expired alert, day padded with a space",
	"Dec  5 09:01:01 mx postfix/smtpd[9]: connect from unknown[192.0.2.10]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[9]: SSL_accept error from unknown[192.0.2.10]: -1\n"
	"Dec  5 09:01:01 mx postfix/smtpd[9]: warning: TLS library problem: error:0A000415:"
	"SSL routines::sslv3 alert certificate expired:x.c:1:\n"
	"Dec  5 09:01:01 mx postfix/smtpd[9]: disconnect from unknown[192.0.2.10] commands=0/0\n",
	TP_MAILLOG_CERT_EXPIRED, NULL},
	{"plaintext after STARTTLS: a broken client, not the port",
	"Dec  5 09:01:01 mx postfix/smtpd[10]: connect from unknown[192.0.2.11]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[10]: SSL_accept error from unknown[192.0.2.11]: -1\n"
	"Dec  5 09:01:01 mx postfix/smtpd[10]: warning: TLS library problem: error:0A00010B:"
	"SSL routines::wrong version number:x.c:1:\n"
	"Dec  5 09:01:01 mx postfix/smtpd[10]: lost connection after STARTTLS from unknown[192.0.2.11]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[10]: disconnect from unknown[192.0.2.11] ehlo=1 starttls=0/1 commands=1/2\n",
	TP_MAILLOG_HANDSHAKE_FAILED, "wrong version number"},
	{"SSL_accept error without the library's words",
	"Dec  5 09:01:01 mx postfix/smtpd[11]: connect from unknown[192.0.2.12]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[11]: SSL_accept error from unknown[192.0.2.12]: lost connection\n"
	"Dec  5 09:01:01 mx postfix/smtpd[11]: disconnect from unknown[192.0.2.12] ehlo=1 starttls=0/1 commands=1/2\n",
	TP_MAILLOG_HANDSHAKE_FAILED, NULL},
	{"hung up after STARTTLS, no TLS error",
	"Dec  5 09:01:01 mx postfix/smtpd[12]: connect from unknown[192.0.2.13]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[12]: lost connection after STARTTLS from unknown[192.0.2.13]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[12]: disconnect from unknown[192.0.2.13] ehlo=1 starttls=1 commands=2\n",
	TP_MAILLOG_LOST_AFTER_STARTTLS, NULL},
	{"timeout after STARTTLS, never disconnected (end of log)",
	"Dec  5 09:01:01 mx postfix/smtpd[13]: connect from unknown[192.0.2.14]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[13]: timeout after STARTTLS from unknown[192.0.2.14]\n",
	TP_MAILLOG_LOST_AFTER_STARTTLS, NULL},
	{"MAIL refused with a logged reject: not the 530",
	"Dec  5 09:01:01 mx postfix/smtpd[14]: connect from unknown[192.0.2.15]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[14]: NOQUEUE: reject: MAIL from unknown[192.0.2.15]: 554 5.7.1 no\n"
	"Dec  5 09:01:01 mx postfix/smtpd[14]: disconnect from unknown[192.0.2.15] ehlo=1 mail=0/1 quit=1 commands=2/3\n",
	NONE, NULL},
	{"MAIL refused after TLS: not the 530",
	"Dec  5 09:01:01 mx postfix/smtpd[15]: connect from unknown[192.0.2.16]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[15]: disconnect from unknown[192.0.2.16] ehlo=2 starttls=1 mail=0/1 commands=3/4\n",
	NONE, NULL},
	{"a HELO that claims TLS does not hide the 530",
	"Dec  5 09:01:01 mx postfix/smtpd[17]: connect from unknown[192.0.2.18]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[17]: warning: non-SMTP command from "
	"unknown[192.0.2.18]: x Trusted TLS connection established from a[1.1.1.1]: "
	"NOQUEUE: reject: \n"
	"Dec  5 09:01:01 mx postfix/smtpd[17]: disconnect from unknown[192.0.2.18] ehlo=1 mail=0/1 commands=1/2\n",
	TP_MAILLOG_STARTTLS_REQUIRED, NULL},
	{"MAIL refused for its address syntax: not the 530",
	"Dec  5 09:01:01 mx postfix/smtpd[18]: connect from unknown[192.0.2.19]\n"
	"Dec  5 09:01:01 mx postfix/smtpd[18]: warning: Illegal address syntax from "
	"unknown[192.0.2.19] in MAIL command: <a b>\n"
	"Dec  5 09:01:01 mx postfix/smtpd[18]: disconnect from unknown[192.0.2.19] ehlo=1 mail=0/1 commands=1/2\n",
	NONE, NULL},
	{"a plaintext message: no failure",
	"Dec  5 09:01:01 mx postfix/submission/smtpd[16]: connect from h.example[192.0.2.17]\n"
	"Dec  5 09:01:01 mx postfix/submission/smtpd[16]: disconnect from h.example[192.0.2.17] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n",
	NONE, NULL},
};

START_TEST(test_cases)
{
	struct tp_maillog *ml = feed(cases[_i].lines);
	struct tp_maillog_totals t;
	const struct tp_maillog_client *c, **v;
	size_t	n;

	tp_maillog_totals(ml, &t);
	ck_assert_msg(t.skipped == 0, "%s: %lu skipped (%s)", cases[_i].name, t.skipped,
		      t.first_skipped);
	ck_assert_msg(t.sessions == 1, "%s: got %lu sessions, want 1", cases[_i].name, t.sessions);
	ck_assert_ptr_nonnull(v = tp_maillog_sorted(ml, &n));
	ck_assert_uint_eq(n, 1);
	c = v[0];
	free(v);
	for (int r = 0; r < TP_MAILLOG_NREASONS; r++)
		ck_assert_msg(c->reasons[r] == (r == cases[_i].want),
			      "%s: %s counted %lu, want %d", cases[_i].name, tp_maillog_code(r),
			      c->reasons[r], r == cases[_i].want);
	if (cases[_i].detail != NULL)
		ck_assert_str_eq(c->detail, cases[_i].detail);
	tp_maillog_free(ml);
}
END_TEST

/* Hostile lines: each skipped and counted, none counted as a session. */
static const char *const hostile[] = {
	"Dec  5 09:01:01 mx postfix/smtpd[1]: connect from ev\x1bil[192.0.2.1]",
	"Dec  5 09:01:01 mx postfix/smtpd[1]: connect from host.example[192.0.2.1<script>]",
	"Dec  5 09:01:01 mx postfix/smtpd[1]: connect from host.example[192.0.2.1",
	"Dec  5 09:01:01 mx postfix/smtpd[1]: connect from host.example[]",
};

START_TEST(test_hostile)
{
	struct tp_maillog *ml = feed(hostile[_i]);
	struct tp_maillog_totals t;

	tp_maillog_totals(ml, &t);
	ck_assert_uint_eq(t.skipped, 1);
	ck_assert_uint_eq(t.sessions, 0);
	ck_assert_uint_eq(t.clients, 0);
	tp_maillog_free(ml);
}
END_TEST

START_TEST(test_overlong_and_controls)
{
	char   *big = malloc(TP_MAILLOG_LINE_MAX + 100);
	struct tp_maillog *ml;
	struct tp_maillog_totals t;
	const struct tp_maillog_client *c;

	memset(big, 'a', TP_MAILLOG_LINE_MAX + 99);
	big[TP_MAILLOG_LINE_MAX + 99] = 0;
	ml = feed("Dec  5 09:01:01 mx postfix/smtpd[2]: connect from unknown[192.0.2.2]\n"
		  "Dec  5 09:01:01 mx postfix/smtpd[2]: SSL_accept error from unknown[192.0.2.2]: -1\n"
		  "Dec  5 09:01:01 mx postfix/smtpd[2]: warning: TLS library problem: error:1:L:F:"
		  "bad \x1b[31m\r\n");
	tp_maillog_line(ml, big, strlen(big));
	tp_maillog_finish(ml);
	tp_maillog_totals(ml, &t);
	ck_assert_uint_eq(t.skipped, 1);
	ck_assert_str_eq(t.first_skipped, "-:4: line too long");
	ck_assert_ptr_nonnull(c = tp_maillog_find(ml, "192.0.2.2"));
	ck_assert_uint_eq(c->reasons[TP_MAILLOG_HANDSHAKE_FAILED], 1);
	ck_assert_str_eq(c->detail, "bad ?[31m");
	tp_maillog_free(ml);
	free(big);
}
END_TEST

START_TEST(test_client_cap)
{
	struct tp_maillog *ml = tp_maillog_new();
	struct tp_maillog_totals t;
	char	line[200];

	for (int i = 0; i < TP_MAILLOG_CLIENTS_MAX + 5; i++) {
		int	n = snprintf(line, sizeof(line), "Dec  5 09:01:01 mx postfix/smtpd[3]: "
				     "connect from unknown[10.%d.%d.%d]", i >> 16, (i >> 8) & 255, i & 255);

		tp_maillog_line(ml, line, (size_t)n);
		n = snprintf(line, sizeof(line), "Dec  5 09:01:01 mx postfix/smtpd[3]: "
			     "lost connection after STARTTLS from unknown[10.0.0.1]");
		tp_maillog_line(ml, line, (size_t)n);
	}
	tp_maillog_finish(ml);
	tp_maillog_totals(ml, &t);
	ck_assert_uint_eq(t.sessions, TP_MAILLOG_CLIENTS_MAX + 5);
	ck_assert_uint_eq(t.failed, TP_MAILLOG_CLIENTS_MAX + 5);
	ck_assert_uint_eq(t.clients, TP_MAILLOG_CLIENTS_MAX);
	ck_assert_uint_eq(t.other_sessions, 5);
	ck_assert_uint_eq(t.other_failed, 5);
	tp_maillog_free(ml);
}
END_TEST

START_TEST(test_session_cap)
{
	struct tp_maillog *ml = tp_maillog_new();
	struct tp_maillog_totals t;
	char	line[200];

	/* Connects from as many processes, none disconnected. */
	for (int i = 0; i < TP_MAILLOG_SESSIONS_MAX + 3; i++) {
		int	n = snprintf(line, sizeof(line), "Dec  5 09:01:01 mx postfix/smtpd[%d]: "
				     "connect from unknown[192.0.2.3]", i);

		tp_maillog_line(ml, line, (size_t)n);
	}
	tp_maillog_finish(ml);
	tp_maillog_totals(ml, &t);
	ck_assert_uint_eq(t.untracked, 3);
	ck_assert_uint_eq(t.sessions, TP_MAILLOG_SESSIONS_MAX);
	tp_maillog_free(ml);
}
END_TEST

START_TEST(test_beside_audit)
{
	struct tp_report_opts opts;
	struct tp_report *rep;
	struct tp_maillog *ml;
	char	why[256], *text = NULL;
	size_t	len = 0;
	FILE   *fp;

	memset(&opts, 0, sizeof(opts));
	ck_assert_ptr_nonnull(rep = tp_report_new(&opts));
	ck_assert_int_eq(tp_report_read(rep, test_data("audit-sample.jsonl"), why, sizeof(why)), 0);
	ml = feed("Dec  5 09:01:01 mx postfix/smtpd[4]: connect from mx.bank.example[192.0.2.1]\n"
		  "Dec  5 09:01:01 mx postfix/smtpd[4]: SSL_accept error from mx.bank.example[192.0.2.1]: -1\n"
		  "Dec  5 09:01:01 mx postfix/smtpd[4]: warning: TLS library problem: error:0A000102:"
		  "SSL routines::unsupported protocol:x.c:1:\n"
		  "Dec  5 09:01:01 mx postfix/smtpd[4]: disconnect from mx.bank.example[192.0.2.1] commands=0/0\n");
	tp_report_attach(rep, ml, NULL);
	ck_assert_ptr_nonnull(fp = open_memstream(&text, &len));
	tp_report_print_text(rep, fp);
	fclose(fp);
	ck_assert_msg(strstr(text, "  192.0.2.1 (mx.bank.example): 2 messages, 2 over TLS "
			     "(TLSv1.3 2); 1 session failed: the client offered only TLS versions "
			     "this server refuses (1)\n") != NULL, "got:\n%.3000s", strstr(text, "Sessions the milter") ? strstr(text, "Sessions the milter") : text);
	free(text);
	tp_report_free(rep);
	tp_maillog_free(ml);
}
END_TEST

Suite *
maillog_suite(void)
{
	Suite  *s = suite_create("maillog");
	TCase  *tc = tcase_create("core");

	tcase_add_test(tc, test_fixture);
	tcase_add_test(tc, test_fixture_gzip);
	tcase_add_loop_test(tc, test_cases, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, test_hostile, 0, sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_test(tc, test_overlong_and_controls);
	tcase_add_test(tc, test_client_cap);
	tcase_add_test(tc, test_session_cap);
	tcase_add_test(tc, test_beside_audit);
	suite_add_tcase(s, tc);
	return (s);
}
