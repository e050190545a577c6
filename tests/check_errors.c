/*
 * NAME
 *	check_errors 1
 * SUMMARY
 *	unit tests: the diagnostics list
 */

#include "check_suites.h"
#include "util/tp_errors.h"

START_TEST(test_errors_format)
{
	struct tp_errors errs;

	tp_errors_init(&errs);
	tp_errors_add(&errs, "p.conf", 3, "bad %s", "thing");
	tp_errors_add(&errs, "p.conf", 0, "cannot open");
	ck_assert_uint_eq(errs.count, 2);
	ck_assert_str_eq(errs.msgs[0], "p.conf:3: bad thing");
	ck_assert_str_eq(errs.msgs[1], "p.conf: cannot open");
	tp_errors_free(&errs);
	ck_assert_uint_eq(errs.count, 0);
}
END_TEST

START_TEST(test_errors_cap)
{
	struct tp_errors errs;

	tp_errors_init(&errs);
	for (int i = 0; i < TP_ERRORS_KEEP + 50; i++)
		tp_errors_add(&errs, "p", (unsigned long)i + 1, "e");
	ck_assert_uint_eq(errs.count, TP_ERRORS_KEEP + 50);
	ck_assert_uint_eq(errs.kept, TP_ERRORS_KEEP);
	tp_errors_free(&errs);
}
END_TEST

Suite  *
errors_suite(void)
{
	Suite  *s = suite_create("errors");
	TCase  *tc = tcase_create("errors");

	tcase_add_test(tc, test_errors_format);
	tcase_add_test(tc, test_errors_cap);
	suite_add_tcase(s, tc);
	return (s);
}
