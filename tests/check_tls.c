/*
 * NAME
 *	check_tls 1
 * SUMMARY
 *	unit tests: TLS versions and verify results
 */

#include "check_suites.h"
#include "policy/tp_tls.h"

static const struct {
	const char *in;
	enum tp_tls_version want;
} version_cases[] = {
	{"TLSv1.3", TP_TLS_V1_3},
	{"tlsv1.2", TP_TLS_V1_2},
	{"TLSv1.1", TP_TLS_V1_1},
	{"TLSv1", TP_TLS_V1_0},
	{"TLSv1.0", TP_TLS_V1_0},
	{"SSLv3", TP_TLS_UNKNOWN},
	{"TLSv1.4", TP_TLS_UNKNOWN},
	{"TLSv1.3\n", TP_TLS_UNKNOWN},
	{"", TP_TLS_NO_VERSION},
	{NULL, TP_TLS_NO_VERSION},
};

START_TEST(test_version)
{
	ck_assert_int_eq(tp_tls_version_parse(version_cases[_i].in), version_cases[_i].want);
}
END_TEST

START_TEST(test_version_order)
{
	/* An unknown version must rank below every minimum a rule can set. */
	ck_assert_int_lt(TP_TLS_UNKNOWN, TP_TLS_V1_0);
	ck_assert_int_lt(TP_TLS_V1_2, TP_TLS_V1_3);
	ck_assert_str_eq(tp_tls_version_name(TP_TLS_V1_3), "TLSv1.3");
	ck_assert_str_eq(tp_tls_version_name(TP_TLS_V1_0), "TLSv1");
}
END_TEST

static const struct {
	const char *in;
	enum tp_verify want;
} verify_cases[] = {
	{"OK", TP_VERIFY_OK},
	{"ok", TP_VERIFY_OK},
	{"NO", TP_VERIFY_NONE},
	{"NONE", TP_VERIFY_NONE},
	{"", TP_VERIFY_NONE},
	{NULL, TP_VERIFY_NONE},
	{"FAIL", TP_VERIFY_FAIL},
	{"NOT", TP_VERIFY_NONE},
	{"CLEAR", TP_VERIFY_UNKNOWN},
	{"TEMP", TP_VERIFY_UNKNOWN},
	{"PROTOCOL", TP_VERIFY_UNKNOWN},
	{"SOFTWARE", TP_VERIFY_UNKNOWN},
	{"OK ", TP_VERIFY_UNKNOWN},
};

START_TEST(test_verify)
{
	ck_assert_int_eq(tp_verify_parse(verify_cases[_i].in), verify_cases[_i].want);
}
END_TEST

Suite  *
tls_suite(void)
{
	Suite  *s = suite_create("tls");
	TCase  *tc = tcase_create("tls");

	tcase_add_loop_test(tc, test_version, 0, sizeof(version_cases) / sizeof(version_cases[0]));
	tcase_add_test(tc, test_version_order);
	tcase_add_loop_test(tc, test_verify, 0, sizeof(verify_cases) / sizeof(verify_cases[0]));
	suite_add_tcase(s, tc);
	return (s);
}
