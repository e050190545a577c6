/*
 * NAME
 *	check_escape 1
 * SUMMARY
 *	unit tests: escaping untrusted text, xtext decoding
 */

#include <string.h>

#include "check_suites.h"
#include "tp_escape.h"

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

Suite  *
escape_suite(void)
{
	Suite  *s = suite_create("escape");
	TCase  *tc = tcase_create("escape");

	tcase_add_loop_test(tc, test_escape, 0, sizeof(escape_cases) / sizeof(escape_cases[0]));
	tcase_add_test(tc, test_escape_hostile_long);
	tcase_add_loop_test(tc, test_xtext, 0, sizeof(xtext_cases) / sizeof(xtext_cases[0]));
	suite_add_tcase(s, tc);
	return (s);
}
