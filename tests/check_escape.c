/*
 * NAME
 *	check_escape 1
 * SUMMARY
 *	unit tests: escaping untrusted text, xtext decoding, the bounded
 *	string builder that log lines and audit records are made with
 */

#include <limits.h>
#include <string.h>

#include "check_suites.h"
#include "util/tp_buf.h"
#include "util/tp_escape.h"

static const struct {
	const char *in;
	size_t	size;
	const char *want;
} escape_cases[] = {
	{"plain text", 64, "plain text"},
	{"a\r\nb", 64, "a\\x0d\\x0ab"},
	{"quote\" back\\slash", 64, "quote\\\" back\\\\slash"},
	{"tab\there", 64, "tab\\x09here"},
	{"caf\xc3\xa9", 64, "caf\\xc3\\xa9"},
	{"\xff\xfe", 64, "\\xff\\xfe"},
	{"del\x7f", 64, "del\\x7f"},
	{"key=value x=\"y\"", 64, "key=value x=\\\"y\\\""},
	{"abcdefghij", 8, "abcd..."},
	{"abcdefg", 8, "abcdefg"},
	{"\n\n\n\n", 8, "\\x0a..."},
	{"", 8, ""},
	{NULL, 8, ""},
};

START_TEST(test_escape)
{
	char	out[64];

	tp_escape(escape_cases[_i].in, out, escape_cases[_i].size);
	ck_assert_str_eq(out, escape_cases[_i].want);
}
END_TEST

START_TEST(test_escape_hostile_long)
{
	static char in[10241];
	char	out[TP_FIELD_MAX];

	/* 10 kB of CR, LF and quotes: bounded, one line, no raw control byte. */
	for (size_t i = 0; i < sizeof(in) - 1; i++)
		in[i] = "\r\n\"\\x"[i % 5];
	tp_escape(in, out, sizeof(out));
	ck_assert_uint_lt(strlen(out), sizeof(out));
	ck_assert_ptr_null(strpbrk(out, "\r\n"));
	ck_assert_str_eq(out + strlen(out) - 3, "...");
}
END_TEST

static const struct {
	const char *in;
	const char *want;
} xtext_cases[] = {
	{"Acceptance+20Test+20CA", "Acceptance Test CA"},
	{"/O=Acceptance/CN=client+2Eexample", "/O=Acceptance/CN=client.example"},
	{"no+encoding+", "no+encoding+"},
	{"bad+zz", "bad+zz"},
	{"nul+00kept", "nul+00kept"},
	{"", ""},
};

START_TEST(test_xtext)
{
	char	out[64];

	tp_xtext_decode(xtext_cases[_i].in, out, sizeof(out));
	ck_assert_str_eq(out, xtext_cases[_i].want);
}
END_TEST

START_TEST(test_buf_fits)
{
	char	a[64];
	struct tp_buf b = TP_BUF(a, sizeof(a));

	tp_buf_adds(&b, "n=");
	tp_buf_addu(&b, 0);
	tp_buf_add(&b, " ", 1);
	tp_buf_addu(&b, ULONG_MAX);
	tp_buf_add(&b, " ", 1);
	tp_buf_addi(&b, LONG_MIN);
	tp_buf_addf(&b, " %s", "x");
	ck_assert_str_eq(a, "n=0 18446744073709551615 -9223372036854775808 x");
	ck_assert_uint_eq(b.len, strlen(a));
	ck_assert(!b.full);
}
END_TEST

START_TEST(test_buf_cut)
{
	char	a[8];
	struct tp_buf b = TP_BUF(a, sizeof(a));

	/* Exactly full is not cut. */
	tp_buf_adds(&b, "1234567");
	ck_assert(!b.full);
	ck_assert_str_eq(a, "1234567");
	tp_buf_adds(&b, "8");
	ck_assert(b.full);
	ck_assert_str_eq(a, "1234567");

	b = (struct tp_buf)TP_BUF(a, sizeof(a));
	tp_buf_adds(&b, "ab");
	tp_buf_addu(&b, 123456789);
	ck_assert(b.full);
	ck_assert_str_eq(a, "ab12345");
	ck_assert_uint_eq(b.len, 7);

	b = (struct tp_buf)TP_BUF(a, sizeof(a));
	tp_buf_addf(&b, "%s", "formatted");
	ck_assert(b.full);
	ck_assert_str_eq(a, "formatt");
	ck_assert_uint_eq(b.len, 7);
}
END_TEST

START_TEST(test_buf_escaped)
{
	char	a[16];
	struct tp_buf b = TP_BUF(a, sizeof(a));

	tp_buf_adds(&b, "h=");
	tp_buf_add_escaped(&b, "x\r\ny", 64);
	ck_assert_str_eq(a, "h=x\\x0d\\x0ay");
	ck_assert(!b.full);
	tp_buf_add_escaped(&b, NULL, 64);
	ck_assert_uint_eq(b.len, strlen(a));

	/* The cap cuts a long value and marks it... */
	b = (struct tp_buf)TP_BUF(a, sizeof(a));
	tp_buf_add_escaped(&b, "abcdefghijkl", 8);
	ck_assert_str_eq(a, "abcd...");
	ck_assert(!b.full);
	/* ...and so does the end of the array. */
	tp_buf_add_escaped(&b, "0123456789", 64);
	ck_assert_str_eq(a, "abcd...01234...");
	ck_assert(b.full);
	ck_assert_uint_eq(b.len, strlen(a));
}
END_TEST

Suite  *
escape_suite(void)
{
	Suite  *s = suite_create("escape");
	TCase  *tc = tcase_create("escape");

	tcase_add_loop_test(tc, test_escape, 0, sizeof(escape_cases) / sizeof(escape_cases[0]));
	tcase_add_test(tc, test_escape_hostile_long);
	tcase_add_loop_test(tc, test_xtext, 0, sizeof(xtext_cases) / sizeof(xtext_cases[0]));
	tcase_add_test(tc, test_buf_fits);
	tcase_add_test(tc, test_buf_cut);
	tcase_add_test(tc, test_buf_escaped);
	suite_add_tcase(s, tc);
	return (s);
}
