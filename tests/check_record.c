/*
 * NAME
 *	check_record 1
 * SUMMARY
 *	unit tests: the decision record as a syslog line and a header
 */

#include <stdio.h>
#include <string.h>

#include "check_suites.h"
#include "reporter/tp_record.h"

static const struct tp_rule rule = {
	"sender:bank.example", "/etc/tlspolicy/policy.conf", 5, TP_KIND_SENDER,
	TP_LEVEL_REQUIRE, TP_ACTION_REJECT, TP_TLS_V1_2, 0, 0, 0, NULL, NULL, NULL,
};

static const struct tp_tls_state tls = {
	TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384", 256,
	TP_VERIFY_OK, NULL, "mx\r\nX-Evil: 1", "CA \"quoted\"",
};

/* count - occurrences of c in s */

static size_t
count(const char *s, char c)
{
	size_t	n = 0;

	for (; *s; s++)
		n += *s == c;
	return (n);
}

/* syslog_line - recipient i's line of a record, prepared */

static size_t
syslog_line(const struct tp_record *rec, size_t i, char *buf, size_t size)
{
	struct tp_record_text t;

	tp_record_prepare(rec, &t);
	return (tp_record_syslog(&t, i, buf, size));
}

START_TEST(test_syslog_line)
{
	struct tp_record_rcpt r = {
		"<bob@example.org>", {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_FAIL,
		TP_ACTION_REJECT, false, true, false, "TLSv1.3 required", "550 5.7.1 TLSv1.3 required",
	};
	struct tp_record rec = {
		"5F00AA000001", NULL, "192.0.2.1", NULL, "evil\r\nsession=forged x=\"y\"",
		"mx", "25", NULL, "<a@bank.example>", &tls, "/etc/tlspolicy/policy.conf", 3,
		"mx.example.org", "rejected", &r, 1, NULL,
	};
	char	line[4096];

	syslog_line(&rec, 0, line, sizeof(line));
	ck_assert_ptr_null(strpbrk(line, "\r\n"));
	ck_assert_ptr_nonnull(strstr(line, "session=5F00AA000001 queue_id=\"NOQUEUE\" "));
	ck_assert_ptr_nonnull(strstr(line, " helo=\"evil\\x0d\\x0asession=forged x=\\\"y\\\"\" "));
	ck_assert_ptr_nonnull(strstr(line, " subject=\"mx\\x0d\\x0aX-Evil: 1\""));
	ck_assert_ptr_nonnull(strstr(line, " result=fail action=reject testing=no "));
	ck_assert_ptr_nonnull(strstr(line, " rules=\"/etc/tlspolicy/policy.conf:5\" decided_by=\"/etc/tlspolicy/policy.conf:5\""));
	ck_assert_ptr_nonnull(strstr(line, " refused=yes reply=\"550 5.7.1 TLSv1.3 required\""));
	ck_assert_ptr_nonnull(strstr(line, " outcome=rejected"));
	/* Exactly one "session=" field: the forged one is inside quotes. */
	ck_assert_uint_eq(count(line, '\n'), 0);
	ck_assert_ptr_null(strstr(line, " session=forged"));
}
END_TEST

START_TEST(test_syslog_line_hostile_sizes)
{
	static char big[10001];
	struct tp_record_rcpt r = {big, {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_PASS,
	0, false, false, false, big, NULL};
	struct tp_record rec = {
		"S", big, big, big, big, big, big, big, big, &tls, big, 1, big, "accepted", &r, 1, big,
	};
	char	line[4096];
	size_t	len;

	memset(big, '\n', sizeof(big) - 1);
	len = syslog_line(&rec, 0, line, sizeof(line));
	ck_assert_uint_lt(len, sizeof(line));
	ck_assert_uint_eq(strlen(line), len);
	ck_assert_ptr_null(strchr(line, '\n'));
}
END_TEST

/*
 * One prepared record, many lines: every recipient's line has the
 * shared head once and its own strings, escaped or not, whether it is
 * among the recipients classified up front or after them.
 */
START_TEST(test_syslog_many_rcpts)
{
	enum { N = TP_RECORD_TEXT_RCPTS + 4 };
	static struct tp_record_rcpt r[N];
	static char addr[N][32], want[N][64];
	static const struct tp_rule other = {
		"sender:x.example", "/etc/tlspolicy/other \"file\"", 9, TP_KIND_SENDER,
		TP_LEVEL_REQUIRE, TP_ACTION_REJECT, 0, 0, 0, 0, NULL, NULL, NULL,
	};
	struct tp_record rec = {
		"SID", "Q1", "192.0.2.1", NULL, "helo 100%", "mx", "25", NULL, "<s@x>", &tls,
		"/etc/tlspolicy/policy.conf", 1, "mx.example.org", "accepted", r, N, NULL,
	};
	static const char head[] = "session=SID queue_id=\"Q1\" client=\"192.0.2.1\" ";
	struct tp_record_text t;
	char	line[4096];

	for (size_t i = 0; i < N; i++) {
		bool	evil = i % 5 == 3;

		snprintf(addr[i], sizeof(addr[i]), "<u%zu@x%s>", i, evil ? "\r\n" : "");
		snprintf(want[i], sizeof(want[i]), " rcpt=\"<u%zu@x%s>\" ", i, evil ? "\\x0d\\x0a" : "");
		r[i] = (struct tp_record_rcpt) {addr[i], {&rule, &other}, 2, &other, TP_LEVEL_REQUIRE,
		TP_RESULT_PASS, 0, false, false, false, evil ? "met\n" : "met", NULL};
	}
	tp_record_prepare(&rec, &t);
	for (size_t i = 0; i < N; i++) {
		tp_record_syslog(&t, i, line, sizeof(line));
		ck_assert_msg(strstr(line, want[i]) != NULL, "line %zu: got %s, want %s in it", i, line, want[i]);
		ck_assert_msg(strncmp(line, head, sizeof(head) - 1) == 0, "line %zu: got %s", i, line);
		ck_assert_ptr_nonnull(strstr(line, " helo=\"helo 100%\" "));
		ck_assert_ptr_nonnull(strstr(line, " subject=\"mx\\x0d\\x0aX-Evil: 1\" "));
		ck_assert_ptr_nonnull(strstr(line, " rules=\"/etc/tlspolicy/policy.conf:5,"
					     "/etc/tlspolicy/other \\\"file\\\":9\""));
		ck_assert_ptr_nonnull(strstr(line, i % 5 == 3 ? " reason=\"met\\x0a\" " : " reason=\"met\" "));
		ck_assert_ptr_null(strpbrk(line, "\r\n"));
	}
}
END_TEST

START_TEST(test_header)
{
	struct tp_record_rcpt r[2] = {
		{"<a@x>", {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_PASS, 0, false, false, false, "ok", NULL},
		{"<b@x>", {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_FAIL, TP_ACTION_TAG, false, false, false,
		 "TLS required\r\nfor x", NULL},
	};
	struct tp_record rec = {
		"SID", "Q1", "192.0.2.1", NULL, "h", "mx", "25", NULL, "<s@x>", &tls, "p", 1,
		"mx.example.org", "accepted", r, 2, NULL,
	};
	char	value[1024];

	tp_record_header(&rec, value, sizeof(value));
	ck_assert_ptr_null(strpbrk(value, "\r\n"));
	ck_assert_ptr_nonnull(strstr(value, "mx.example.org; tls=\"TLSv1.3\" via=starttls"));
	ck_assert_ptr_nonnull(strstr(value, "; result=fail action=tag rule=\"/etc/tlspolicy/policy.conf:5\""));
	ck_assert_ptr_nonnull(strstr(value, "reason=\"TLS required\\x0d\\x0afor x\"; session=SID"));
	ck_assert_ptr_eq(tp_record_worst(&rec), &r[1]);
	r[1].refused = true;	/* a refused recipient does not speak for the message */
	ck_assert_ptr_eq(tp_record_worst(&rec), &r[0]);
}
END_TEST

Suite  *
record_suite(void)
{
	Suite  *s = suite_create("record");
	TCase  *tc = tcase_create("record");

	tcase_add_test(tc, test_syslog_line);
	tcase_add_test(tc, test_syslog_line_hostile_sizes);
	tcase_add_test(tc, test_syslog_many_rcpts);
	tcase_add_test(tc, test_header);
	suite_add_tcase(s, tc);
	return (s);
}
