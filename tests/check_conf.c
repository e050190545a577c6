/*
 * NAME
 *	check_conf 1
 * SUMMARY
 *	unit tests: key = value configuration files
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "util/tp_conf.h"

struct sample {
	char   *name;
	int	flag;
	unsigned count;
};

static const struct tp_conf_key keys[] = {
	{"name", TP_CONF_STRING, offsetof(struct sample, name), 0},
	{"flag", TP_CONF_BOOL, offsetof(struct sample, flag), 0},
	{"count", TP_CONF_UINT, offsetof(struct sample, count), 100},
	{NULL, 0, 0, 0},
};

/* load - load text; returns the status, errors in errs */

static int
load(const char *text, struct sample *s, struct tp_errors *errs)
{
	const char *path = test_tmpfile(text, strlen(text));
	int	rc;

	memset(s, 0, sizeof(*s));
	tp_errors_init(errs);
	rc = tp_conf_load(path, keys, s, errs);
	unlink(path);
	return (rc);
}

START_TEST(test_good)
{
	struct tp_errors errs;
	struct sample s;

	ck_assert_int_eq(load("# comment\n  name =  a value  \nflag=yes\r\ncount = 42\n\n", &s, &errs), 0);
	ck_assert_str_eq(s.name, "a value");
	ck_assert_int_eq(s.flag, 1);
	ck_assert_uint_eq(s.count, 42);
	tp_conf_free(keys, &s);
	ck_assert_ptr_null(s.name);
	tp_errors_free(&errs);
}
END_TEST

static const struct {
	const char *text;
	const char *want;
} bad_cases[] = {
	{"nmae = x\n", ":1: unknown setting \"nmae\""},
	{"flag = maybe\n", ":1: flag: expected yes or no"},
	{"count = 101\n", ":1: count: expected a whole number in range"},
	{"count = -1\n", ":1: count: expected a whole number in range"},
	{"count = 1x\n", ":1: count: expected a whole number in range"},
	{"just words\n", ":1: expected \"setting = value\""},
	{"name = a\nname = b\n", ":2: name given twice"},
	{"flag = yes\0no\n", ":1: NUL byte in line"},
	{"n\x1b]0;x\x07me = x\n", ":1: control character 0x1B"},
	{"name = a\rb\n", ":1: control character 0x0D"},
	{"name = a\x7f\n", ":1: control character 0x7F"},
};

START_TEST(test_bad)
{
	struct tp_errors errs;
	struct sample s;
	const char *path;
	size_t	len = strlen(bad_cases[_i].text);
	int	rc;

	/* Cases with a NUL byte need their true length. */
	if (strstr(bad_cases[_i].want, "NUL"))
		len = 15;
	path = test_tmpfile(bad_cases[_i].text, len);
	memset(&s, 0, sizeof(s));
	tp_errors_init(&errs);
	rc = tp_conf_load(path, keys, &s, &errs);
	unlink(path);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(errs.kept > 0 && strstr(errs.msgs[0], bad_cases[_i].want) != NULL,
		      "got \"%s\", want \"%s\"", errs.kept ? errs.msgs[0] : "", bad_cases[_i].want);
	tp_conf_free(keys, &s);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_long_line)
{
	char	text[3000];
	struct tp_errors errs;
	struct sample s;

	memset(text, 'x', sizeof(text));
	memcpy(text, "name = ", 7);
	strcpy(text + sizeof(text) - 12, "\nflag = 1\n");
	ck_assert_int_eq(load(text, &s, &errs), -1);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], ":1: line longer than"));
	ck_assert_int_eq(s.flag, 1);
	tp_conf_free(keys, &s);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_directory)
{
	char	dir[] = "/tmp/tlspolicy-test-XXXXXX";
	char	want[64];
	struct tp_errors errs;
	struct sample s;
	int	rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&s, 0, sizeof(s));
	tp_errors_init(&errs);
	rc = tp_conf_load(dir, keys, &s, &errs);
	rmdir(dir);
	ck_assert_int_eq(rc, -1);
	snprintf(want, sizeof(want), "%s: read error: Is a directory", dir);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_str_eq(errs.msgs[0], want);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_set)
{
	struct sample s = {NULL, 0, 0};
	const char *why = NULL;

	ck_assert_int_eq(tp_conf_set(keys, &s, "name", "x", &why), 0);
	ck_assert_int_eq(tp_conf_set(keys, &s, "name", "y", &why), 0);
	ck_assert_str_eq(s.name, "y");
	ck_assert_int_eq(tp_conf_set(keys, &s, "flag", "off", &why), 0);
	ck_assert_int_eq(tp_conf_set(keys, &s, "nothing", "1", &why), -1);
	ck_assert_str_eq(why, "unknown setting");
	tp_conf_free(keys, &s);
}
END_TEST

Suite  *
conf_suite(void)
{
	Suite  *s = suite_create("conf");
	TCase  *tc = tcase_create("conf");

	tcase_add_test(tc, test_good);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_set);
	suite_add_tcase(s, tc);
	return (s);
}
