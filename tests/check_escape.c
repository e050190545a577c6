/*
 * NAME
 *	check_escape 1
 * SUMMARY
 *	unit tests: escaping untrusted text for each output, xtext
 *	decoding, the bounded string builder that log lines and audit
 *	records are made with
 */

#include <json-c/json.h>
#include <limits.h>
#include <string.h>

#include "check_suites.h"
#include "util/tp_buf.h"
#include "util/tp_escape.h"
#include "policy/tp_names.h"

static const struct {
	const char *name;
	enum tp_escape_kind kind;
	const char *in;
	size_t	size;
	const char *want;
	bool	want_cut;
} escape_cases[] = {
	/* Log values: printable ASCII, quotes and backslashes escaped. */
	{"log plain", TP_ESCAPE_LOG, "plain text 100%", 64, "plain text 100%", false},
	{"log CR LF", TP_ESCAPE_LOG, "a\r\nb", 64, "a\\x0d\\x0ab", false},
	{"log quote", TP_ESCAPE_LOG, "quote\" back\\slash", 64, "quote\\\" back\\\\slash", false},
	{"log tab", TP_ESCAPE_LOG, "tab\there", 64, "tab\\x09here", false},
	{"log UTF-8", TP_ESCAPE_LOG, "caf\xc3\xa9", 64, "caf\\xc3\\xa9", false},
	{"log not UTF-8", TP_ESCAPE_LOG, "\xff\xfe", 64, "\\xff\\xfe", false},
	{"log DEL", TP_ESCAPE_LOG, "del\x7f", 64, "del\\x7f", false},
	{"log C1", TP_ESCAPE_LOG, "\xc2\x85", 64, "\\xc2\\x85", false},
	{"log U+2028", TP_ESCAPE_LOG, "\xe2\x80\xa8", 64, "\\xe2\\x80\\xa8", false},
	{"log field", TP_ESCAPE_LOG, "key=value x=\"y\"", 64, "key=value x=\\\"y\\\"", false},
	{"log cut", TP_ESCAPE_LOG, "abcdefghij", 8, "abcd...", true},
	{"log fits", TP_ESCAPE_LOG, "abcdefg", 8, "abcdefg", false},
	{"log cut between escapes", TP_ESCAPE_LOG, "\n\n\n\n", 8, "\\x0a...", true},
	{"log a character is never split", TP_ESCAPE_LOG, "ab\xc3\xa9", 10, "ab...", true},
	{"log empty", TP_ESCAPE_LOG, "", 8, "", false},
	{"log NULL", TP_ESCAPE_LOG, NULL, 8, "", false},
	{"log no room for ...", TP_ESCAPE_LOG, "abc", 3, "", true},
	/* JSON strings: controls, DEL, C1 and separators as \u, UTF-8 kept. */
	{"JSON plain", TP_ESCAPE_JSON, "mx.example 100%", 64, "mx.example 100%", false},
	{"JSON quote", TP_ESCAPE_JSON, "q\"b\\", 64, "q\\\"b\\\\", false},
	{"JSON controls", TP_ESCAPE_JSON, "\x01\r\n\x1f", 64, "\\u0001\\u000d\\u000a\\u001f", false},
	{"JSON DEL", TP_ESCAPE_JSON, "a\x7f", 64, "a\\u007f", false},
	{"JSON C1 first", TP_ESCAPE_JSON, "\xc2\x80", 64, "\\u0080", false},
	{"JSON C1 last", TP_ESCAPE_JSON, "\xc2\x9f", 64, "\\u009f", false},
	{"JSON after C1", TP_ESCAPE_JSON, "\xc2\xa0", 64, "\xc2\xa0", false},
	{"JSON U+2028", TP_ESCAPE_JSON, "a\xe2\x80\xa8" "b", 64, "a\\u2028b", false},
	{"JSON U+2029", TP_ESCAPE_JSON, "\xe2\x80\xa9", 64, "\\u2029", false},
	{"JSON UTF-8", TP_ESCAPE_JSON, "caf\xc3\xa9 \xf0\x9f\x94\x92", 64, "caf\xc3\xa9 \xf0\x9f\x94\x92", false},
	{"JSON not UTF-8", TP_ESCAPE_JSON, "bad\xff\xfe", 64, "bad\\u00ff\\u00fe", false},
	{"JSON truncated", TP_ESCAPE_JSON, "\xe2\x82", 64, "\\u00e2\\u0082", false},
	{"JSON overlong", TP_ESCAPE_JSON, "\xc0\xaf", 64, "\\u00c0\\u00af", false},
	{"JSON surrogate", TP_ESCAPE_JSON, "\xed\xa0\x80", 64, "\\u00ed\\u00a0\\u0080", false},
	{"JSON above U+10FFFF", TP_ESCAPE_JSON, "\xf4\x90\x80\x80", 64,
	 "\\u00f4\\u0090\\u0080\\u0080", false},
	/* Reply text: printable ASCII without %, one ? a byte. */
	{"reply plain", TP_ESCAPE_REPLY, "TLSv1.2 \"x\" a\\b", 64, "TLSv1.2 \"x\" a\\b", false},
	{"reply format", TP_ESCAPE_REPLY, "TLSv1\r\n250 %s%n", 64, "TLSv1??250 ?s?n", false},
	{"reply UTF-8", TP_ESCAPE_REPLY, "caf\xc3\xa9", 64, "caf??", false},
	{"reply DEL C1", TP_ESCAPE_REPLY, "\x7f\xc2\x85\xff", 64, "????", false},
	{"reply cut", TP_ESCAPE_REPLY, "abcdefghij", 8, "abcd...", true},
	/* Terminal text: controls \x, C1 and separators \u, UTF-8 kept. */
	{"term plain", TP_ESCAPE_TERM, "a \"b\" 100%", 64, "a \"b\" 100%", false},
	{"term escapes", TP_ESCAPE_TERM, "\x1b[2J\a\\", 64, "\\x1b[2J\\x07\\\\", false},
	{"term DEL", TP_ESCAPE_TERM, "\x7f", 64, "\\x7f", false},
	{"term C1", TP_ESCAPE_TERM, "mx\xc2\x9b" "31m", 64, "mx\\u009b31m", false},
	{"term U+2029", TP_ESCAPE_TERM, "\xe2\x80\xa9", 64, "\\u2029", false},
	{"term UTF-8", TP_ESCAPE_TERM, "caf\xc3\xa9", 64, "caf\xc3\xa9", false},
	{"term not UTF-8", TP_ESCAPE_TERM, "\xff", 64, "\\xff", false},
	{"term lead byte then space", TP_ESCAPE_TERM, "\xc2 x", 64, "\\xc2 x", false},
	{"term cut", TP_ESCAPE_TERM, "caf\xc3\xa9stu", 8, "caf...", true},
	{"term markup kept", TP_ESCAPE_TERM, "<a href='x'>&amp;", 64, "<a href='x'>&amp;", false},
	/* HTML: as the terminal, and & < > " ' as character references. */
	{"HTML plain", TP_ESCAPE_HTML, "mx.example 100%", 64, "mx.example 100%", false},
	{"HTML markup", TP_ESCAPE_HTML, "<script>alert(1)</script>", 64,
	 "&lt;script&gt;alert(1)&lt;/script&gt;", false},
	{"HTML attribute", TP_ESCAPE_HTML, "\" onx='1' &amp;", 64,
	 "&quot; onx=&#39;1&#39; &amp;amp;", false},
	{"HTML controls", TP_ESCAPE_HTML, "a\r\n\x00" "b", 64, "a\\x0d\\x0a", false},
	{"HTML backslash DEL", TP_ESCAPE_HTML, "\\\x7f", 64, "\\\\\\x7f", false},
	{"HTML separators", TP_ESCAPE_HTML, "\xe2\x80\xa8\xe2\x80\xa9", 64, "\\u2028\\u2029", false},
	{"HTML C1", TP_ESCAPE_HTML, "\xc2\x85", 64, "\\u0085", false},
	{"HTML UTF-8", TP_ESCAPE_HTML, "caf\xc3\xa9", 64, "caf\xc3\xa9", false},
	{"HTML not UTF-8", TP_ESCAPE_HTML, "\xff<", 64, "\\xff&lt;", false},
	{"HTML cut before a reference", TP_ESCAPE_HTML, "ab<<<<", 12, "ab&lt;...", true},
};

START_TEST(test_escape)
{
	char	out[64];
	bool	cut;
	size_t	len;

	memset(out, 'Z', sizeof(out));
	len = tp_escape(escape_cases[_i].kind, escape_cases[_i].in, out, escape_cases[_i].size, &cut);
	ck_assert_msg(strcmp(out, escape_cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      escape_cases[_i].name, out, escape_cases[_i].want);
	ck_assert_uint_eq(len, strlen(out));
	ck_assert_msg(cut == escape_cases[_i].want_cut, "%s: got cut %d", escape_cases[_i].name, cut);
	for (size_t i = escape_cases[_i].size; i < sizeof(out); i++)
		ck_assert_msg(out[i] == 'Z', "%s: written past size", escape_cases[_i].name);
}
END_TEST

START_TEST(test_escape_hostile_long)
{
	static char in[10241];
	char	out[TP_FIELD_MAX];
	bool	cut;

	/* 10 kB of CR, LF and quotes: bounded, one line, no raw control byte. */
	for (size_t i = 0; i < sizeof(in) - 1; i++)
		in[i] = "\r\n\"\\x"[i % 5];
	tp_escape(TP_ESCAPE_LOG, in, out, sizeof(out), &cut);
	ck_assert(cut);
	ck_assert_uint_lt(strlen(out), sizeof(out));
	ck_assert_ptr_null(strpbrk(out, "\r\n"));
	ck_assert_str_eq(out + strlen(out) - 3, "...");
}
END_TEST

/*
 * A string that ends inside a UTF-8 sequence: what follows its
 * terminator is never read (tp_report_display read past a final 0xC2).
 */
static const struct {
	const char *in;			/* the string, its terminator, then bait */
	const char *want;
} term_end_cases[] = {
	{"a\xc2\0ZZ", "a\\xc2"},
	{"a\xe2\x80\0ZZ", "a\\xe2\\x80"},
	{"\xf0\x9f\x94\0ZZ", "\\xf0\\x9f\\x94"},
	{"\xc2\0\x85Z", "\\xc2"},
};

START_TEST(test_term_string_end)
{
	char	out[64];

	ck_assert_str_eq(tp_escape_term(term_end_cases[_i].in, out, sizeof(out)), term_end_cases[_i].want);
}
END_TEST

/* json_bad - why a JSON string as written is not safe, or NULL */

static const char *
json_bad(const char *out)
{
	json_object *obj;

	for (const unsigned char *u = (const unsigned char *)out; *u != 0; u++)
		if (*u < 0x20 || *u == 0x7f || (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
		    || (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)))
			return ("a raw control, DEL, C1 or separator");
	/* A second opinion on UTF-8: the policy's own check. */
	if (!tp_utf8_valid(out, strlen(out)))
		return ("not UTF-8");
	if ((obj = json_tokener_parse(out)) == NULL || !json_object_is_type(obj, json_type_string)) {
		json_object_put(obj);
		return ("not a JSON string");
	}
	json_object_put(obj);
	return (NULL);
}

/*
 * Every byte, and every pair of bytes, in a JSON string: json-c parses
 * it, and what we wrote has no raw control character, DEL, C1 control
 * or separator, and is valid UTF-8. (One check a string: Check's
 * assertions are slow in fork mode.)
 */
START_TEST(test_json_every_byte)
{
	for (unsigned pair = 0; pair < 0x10000; pair++) {
		char	in[4] = {(char)(pair >> 8), (char)(pair & 0xff), 'x', 0};
		char	out[64];
		struct tp_buf b = TP_BUF(out, sizeof(out));
		const char *why;

		if (in[0] == 0)		/* one byte, in every position */
			memmove(in, in + 1, 3);
		tp_buf_add_json(&b, in);
		if (b.full || (why = json_bad(out)) != NULL)
			ck_abort_msg("%04x: %s: %s", pair, b.full ? "cut" : why, out);
	}
}
END_TEST

/* A string that every kind copies as it is is one span; % " \ end it. */
/* Nothing seen is said so in a reply. */
START_TEST(test_reply_none)
{
	char	out[8];

	ck_assert_str_eq(tp_escape_reply(NULL, out, sizeof(out)), "none");
}
END_TEST

START_TEST(test_span)
{
	ck_assert_uint_eq(tp_escape_span("mx.example.org", 100), 14);
	ck_assert_uint_eq(tp_escape_span("mx.example.org", 4), 4);
	ck_assert_uint_eq(tp_escape_span("a%b", 100), 1);
	ck_assert_uint_eq(tp_escape_span("a\"b", 100), 1);
	ck_assert_uint_eq(tp_escape_span("a\\b", 100), 1);
	ck_assert_uint_eq(tp_escape_span("a<b", 100), 1);
	ck_assert_uint_eq(tp_escape_span("a&b", 100), 1);
	ck_assert_uint_eq(tp_escape_span("a\x7f", 100), 1);
	ck_assert_uint_eq(tp_escape_span("a\xc3\xa9", 100), 1);
	ck_assert_uint_eq(tp_escape_span("", 100), 0);
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
	static char big[1000];

	tp_buf_adds(&b, "h=");
	tp_buf_add_log(&b, "x\r\ny");
	ck_assert_str_eq(a, "h=x\\x0d\\x0ay");
	ck_assert(!b.full);
	tp_buf_add_log(&b, NULL);
	ck_assert_uint_eq(b.len, strlen(a));

	/* The end of the array cuts a value, marks it and sets full... */
	b = (struct tp_buf)TP_BUF(a, sizeof(a));
	tp_buf_add_log(&b, "abcdefgh");
	tp_buf_add_log(&b, "0123456789");
	ck_assert_str_eq(a, "abcdefgh0123...");
	ck_assert(b.full);
	ck_assert_uint_eq(b.len, strlen(a));

	/* ...but TP_FIELD_MAX cutting a log value does not. */
	memset(big, 'v', sizeof(big) - 1);
	{
		char	line[2048];
		struct tp_buf l = TP_BUF(line, sizeof(line));

		tp_buf_add_log(&l, big);
		ck_assert_uint_eq(l.len, TP_FIELD_MAX - 1);
		ck_assert(!l.full);
	}

	/* JSON: quotes around, null for NULL, full when it does not fit. */
	b = (struct tp_buf)TP_BUF(a, sizeof(a));
	tp_buf_add_json(&b, "a\"\x01");
	tp_buf_add_json(&b, NULL);
	ck_assert_str_eq(a, "\"a\\\"\\u0001\"null");
	ck_assert(!b.full);
	tp_buf_add_json(&b, "x");
	ck_assert(b.full);
}
END_TEST

Suite  *
escape_suite(void)
{
	Suite  *s = suite_create("escape");
	TCase  *tc = tcase_create("escape");

	tcase_add_loop_test(tc, test_escape, 0, sizeof(escape_cases) / sizeof(escape_cases[0]));
	tcase_add_test(tc, test_escape_hostile_long);
	tcase_add_loop_test(tc, test_term_string_end, 0,
			    sizeof(term_end_cases) / sizeof(term_end_cases[0]));
	tcase_add_test(tc, test_json_every_byte);
	tcase_add_test(tc, test_reply_none);
	tcase_add_test(tc, test_span);
	tcase_add_loop_test(tc, test_xtext, 0, sizeof(xtext_cases) / sizeof(xtext_cases[0]));
	tcase_add_test(tc, test_buf_fits);
	tcase_add_test(tc, test_buf_cut);
	tcase_add_test(tc, test_buf_escaped);
	suite_add_tcase(s, tc);
	return (s);
}
