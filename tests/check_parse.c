/*
 * NAME
 *	check_parse 1
 * SUMMARY
 *	unit tests: the policy file parser and its diagnostics
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "policy/tp_policy.h"

/* load_text - load a policy from text; errors into errs */

static struct tp_policy *
load_text(const char *text, size_t len, struct tp_errors *errs)
{
	const char *path = test_tmpfile(text, len);
	struct tp_policy *p;

	tp_errors_init(errs);
	p = tp_policy_load(path, errs);
	unlink(path);
	return (p);
}

/* has_error - is there an error on this line containing this text? */

static int
has_error(const struct tp_errors *errs, unsigned line, const char *text)
{
	char	where[32];

	snprintf(where, sizeof(where), ":%u: ", line);
	for (size_t i = 0; i < errs->kept; i++)
		if (strstr(errs->msgs[i], where) && strstr(errs->msgs[i], text))
			return (1);
	return (0);
}

START_TEST(test_good_file)
{
	struct tp_errors errs;
	struct tp_policy_summary s;
	struct tp_policy *p;

	tp_errors_init(&errs);
	p = tp_policy_load(test_data("good.policy"), &errs);
	ck_assert_msg(p != NULL, "good.policy refused: %s", errs.kept ? errs.msgs[0] : "?");
	tp_policy_summarize(p, &s);
	ck_assert_uint_eq(s.rules, 19);
	ck_assert_uint_eq(s.by_kind[TP_KIND_SENDER], 7);
	ck_assert_uint_eq(s.by_kind[TP_KIND_RCPT], 4);
	ck_assert_uint_eq(s.by_kind[TP_KIND_CLIENT_ADDR], 5);
	ck_assert_uint_eq(s.by_kind[TP_KIND_CLIENT_NAME], 2);
	ck_assert_int_eq(s.has_default, 1);
	ck_assert_int_eq(s.default_level, TP_LEVEL_PREFER);
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

/* One bad line each: the error it must produce. */
static const struct {
	const char *line;
	const char *want;
} bad_lines[] = {
	{"sender:bank.example requir\n", "unknown level \"requir\""},
	{"sender:bank.example\n", "missing level"},
	{"sendr:bank.example require\n", "unknown selector"},
	{"sender: require\n", "nothing after \"sender:\""},
	{"sender:bank..example require\n", "empty label"},
	{"sender:alice@bank.example require\n", "takes a domain, not an address"},
	{"sender:bank.example exempt\n", "exempt is allowed only on client: and rcpt:"},
	{"default exempt\n", "exempt is allowed only on client: and rcpt:"},
	{"sender:bank.example skip min_version=TLSv1.2\n", "attributes are not allowed on skip"},
	{"client:10.0.0.0/8 exempt mode=testing\n", "attributes are not allowed on exempt"},
	{"sender:a.example require min_version=TLSv1.4\n", "unknown TLS version \"TLSv1.4\""},
	{"sender:a.example require min_versoin=TLSv1.2\n", "unknown attribute \"min_versoin\""},
	{"sender:a.example require min_bits=abc\n", "min_bits: \"abc\" is not a number"},
	{"sender:a.example require min_bits=0\n", "is not a number from 1 to 4096"},
	{"sender:a.example require min_bits=-5\n", "is not a number from 1 to 4096"},
	{"sender:a.example require min_bits=99999999999999999999999\n", "is not a number"},
	{"sender:a.example require verify=maybe\n", "verify: expected yes or no"},
	{"sender:a.example require verify=no cert_subject=x\n", "verify=no contradicts"},
	{"sender:a.example require action=drop\n", "action: expected reject, tempfail, quarantine or tag"},
	{"sender:a.example require mode=strict\n", "mode: expected enforce or testing"},
	{"sender:a.example require mode=testing mode=enforce\n", "attribute mode given twice"},
	{"sender:a.example require reply=\"unterminated\n", "unterminated double quote"},
	{"sender:a.example require reply=\"\"\n", "reply: expected 1 to 200 characters"},
	{"sender:a.example require reply=\"caf\xc3\xa9\"\n", "printable ASCII"},
	{"sender:a.example require reply=\"100% TLS\"\n", "reply: \"%\" is not allowed"},
	{"sender:a.example require cert_subject=\"\"\n", "cert_subject: expected a certificate common name"},
	{"sender:a.example require justaword\n", "expected ATTRIBUTE=VALUE"},
	{"sender:a.example require =x\n", "expected ATTRIBUTE=VALUE"},
	{"client:192.0.2.1/24 require\n", "bits set after the prefix length"},
	{"client:192.0.2.0/33 require\n", "prefix length must be 0 to 32"},
	{"client:2001:db8::/200 require\n", "prefix length must be 0 to 128"},
	{"client:192.0.2 require\n", "not an IPv4 or IPv6 address"},
	{"client:host..example require\n", "empty label"},
	{"rcpt:<> require\n", "character not allowed"},
	{"rcpt:bad(local@example.org require\n", "invalid local part"},
	{"rcpt:@example.org require\n", "invalid local part"},
	{"rcpt:user@ require\n", "empty domain name"},
	{"sender:a.example require a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11 l=12 m=13 n=14 o=15\n", "more than 16 fields"},
	{"sender:bad\xff.example require\n", "not valid UTF-8"},
	{"sender:a.example require reply=\"x\x1b[2Jy\"\n", "control character 0x1B"},
	{"sender:a.example\x07 require\n", "control character 0x07"},
	{"sender:a.example require\rdefault prefer\n", "control character 0x0D"},
	{"sender:a.example require # \x7f\n", "control character 0x7F"},
	{"sender:a.example require\r\nsender:A.Example. prefer\r\n", "selector defined twice (first as sender:a.example at line 1)"},
	{"default prefer\ndefault require\n", "selector defined twice"},
	{"client:192.0.2.0/24 require\nclient:::ffff:192.0.2.0/120 prefer\n", "selector defined twice"},
	{"rcpt:Post@example.org exempt\nrcpt:post@EXAMPLE.org exempt\n", "selector defined twice"},
	/* A U-label and its A-label are one name; local parts fold beyond ASCII. */
	{"rcpt:b\xc3\xbc" "cher.example require\nrcpt:XN--BCHER-KVA.example prefer\n",
	 "selector defined twice (first as rcpt:xn--bcher-kva.example at line 1)"},
	{"sender:.xn--bcher-kva.example require\nsender:.B\xc3\x9c" "CHER.example prefer\n", "selector defined twice"},
	{"rcpt:J\xc3\x9cRGEN@b\xc3\xbc" "cher.example require\nrcpt:j\xc3\xbcrgen@xn--bcher-kva.example prefer\n",
	 "selector defined twice (first as rcpt:j\xc3\xbcrgen@xn--bcher-kva.example at line 1)"},
	{"rcpt:a.\xe2\x80\xae" "b.example require\n", "not a valid internationalized domain name"},
	{"rcpt:\xe2\x80\x8b.example require\n", "empty label"},
	/* 64 bytes of U+0149, 96 once case folded. */
	{"rcpt:" "\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89"
	 "\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89"
	 "\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89"
	 "\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89\xc5\x89"
	 "@example.org require\n", "invalid local part"},
};

START_TEST(test_bad_line)
{
	struct tp_errors errs;
	const char *text = bad_lines[_i].line;
	unsigned line = strchr(text, '\n') != strrchr(text, '\n') ? 2 : 1;
	struct tp_policy *p = load_text(text, strlen(text), &errs);

	ck_assert_msg(p == NULL, "accepted: %s", text);
	ck_assert_msg(has_error(&errs, line, bad_lines[_i].want),
		      "%s: got \"%s\", want line %u: \"%s\"", text,
		      errs.kept ? errs.msgs[0] : "(no error)", line, bad_lines[_i].want);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_every_error_reported)
{
	static const char text[] =
	"# three bad lines among good ones\n"
	"default prefer\n"
	"sender:a.example requir\n"
	"sender:b.example require\n"
	"client:10.0.0.1/8 exempt\n"
	"rcpt:c.example require min_bits=x action=nope\n";
	struct tp_errors errs;

	ck_assert_ptr_null(load_text(text, sizeof(text) - 1, &errs));
	ck_assert_uint_eq(errs.count, 4);
	ck_assert(has_error(&errs, 3, "unknown level"));
	ck_assert(has_error(&errs, 5, "bits set after the prefix"));
	ck_assert(has_error(&errs, 6, "min_bits"));
	ck_assert(has_error(&errs, 6, "action"));
	/* The selector names the rule in every message. */
	ck_assert(has_error(&errs, 3, "sender:a.example: "));
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_bad_level_alone)
{
	static const char text[] = "sender:bank.example requir min_version=TLSv1.2\n";
	struct tp_errors errs;

	/* Not also "attributes are not allowed on skip rules". */
	ck_assert_ptr_null(load_text(text, sizeof(text) - 1, &errs));
	ck_assert_msg(errs.count == 1, "got %zu errors, want 1: %s", errs.count,
		      errs.kept > 1 ? errs.msgs[1] : "");
	ck_assert(has_error(&errs, 1, "unknown level \"requir\""));
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_control_not_echoed)
{
	static const char text[] = "sender:a\x1b]0;pwned\x07\x1b[2J.example require\n";
	struct tp_errors errs;

	ck_assert_ptr_null(load_text(text, sizeof(text) - 1, &errs));
	ck_assert(has_error(&errs, 1, "control character 0x1B"));
	for (size_t i = 0; i < errs.kept; i++)
		ck_assert_msg(strpbrk(errs.msgs[i], "\x1b\x07") == NULL, "echoed: %s", errs.msgs[i]);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_nul_and_utf8_files)
{
	struct tp_errors errs;

	tp_errors_init(&errs);
	ck_assert_ptr_null(tp_policy_load(test_data("bad-nul.policy"), &errs));
	ck_assert(has_error(&errs, 2, "NUL byte"));
	tp_errors_free(&errs);
	ck_assert_ptr_null(tp_policy_load(test_data("bad-utf8.policy"), &errs));
	ck_assert(has_error(&errs, 1, "not valid UTF-8"));
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_long_line)
{
	struct tp_errors errs;
	size_t	len = 100000;
	char   *text = malloc(len + 32);

	ck_assert_ptr_nonnull(text);
	strcpy(text, "sender:");
	memset(text + 7, 'a', len);
	strcpy(text + 7 + len, " require\ndefault prefer\n");
	ck_assert_ptr_null(load_text(text, strlen(text), &errs));
	ck_assert(has_error(&errs, 1, "line longer than 4095 bytes"));
	ck_assert_uint_eq(errs.count, 1);	/* line 2 is read correctly */
	tp_errors_free(&errs);
	free(text);
}
END_TEST

START_TEST(test_long_name)
{
	struct tp_errors errs;
	char	text[600];

	snprintf(text, sizeof(text), "sender:%0300d.example require\n", 0);
	ck_assert_ptr_null(load_text(text, strlen(text), &errs));
	ck_assert(has_error(&errs, 1, "longer than"));
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_garbage_never_crashes)
{
	/* Random bytes, lines and quotes: must not crash, must be refused. */
	unsigned seed = 12345;
	char	text[4096];

	for (int round = 0; round < 300; round++) {
		struct tp_errors errs;
		struct tp_policy *p;
		size_t	len = 1 + (size_t)(rand_r(&seed) % (sizeof(text) - 1));

		for (size_t i = 0; i < len; i++) {
			static const char alphabet[] = "sender:rcpt:client:default require prefer skip exempt=\"\\#\n\t./@<>0123456789abcdef:\xc3\xa9\xff";

			text[i] = rand_r(&seed) % 4 ? alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)]
			    : (char)(rand_r(&seed) & 0xff);
		}
		p = load_text(text, len, &errs);
		if (p != NULL)
			tp_policy_unref(p);
		tp_errors_free(&errs);
	}
}
END_TEST

START_TEST(test_empty_and_comments)
{
	static const char text[] = "\n# nothing\n   \t\n  # indented comment\n";
	struct tp_policy_summary s;
	struct tp_errors errs;
	struct tp_policy *p = load_text(text, sizeof(text) - 1, &errs);

	ck_assert_ptr_nonnull(p);
	tp_policy_summarize(p, &s);
	ck_assert_uint_eq(s.rules, 0);
	ck_assert_int_eq(s.has_default, 0);
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_missing_file)
{
	struct tp_errors errs;

	tp_errors_init(&errs);
	ck_assert_ptr_null(tp_policy_load("/nonexistent/policy.conf", &errs));
	ck_assert_str_eq(errs.msgs[0], "/nonexistent/policy.conf: cannot open: No such file or directory");
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_quoted_values)
{
	struct tp_errors errs;
	struct tp_decision d;
	struct tp_policy *p;
	struct tp_query q = {"203.0.113.9", NULL, "x@quoted.example", "y@z.example", NULL, false, NULL};

	tp_errors_init(&errs);
	p = tp_policy_load(test_data("good.policy"), &errs);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(tp_policy_decide(p, &q, &d), 0);
	ck_assert_str_eq(d.reply_text, "say \"hi\" \\ bye");
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

Suite  *
parse_suite(void)
{
	Suite  *s = suite_create("parse");
	TCase  *tc = tcase_create("parse");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_good_file);
	tcase_add_loop_test(tc, test_bad_line, 0, sizeof(bad_lines) / sizeof(bad_lines[0]));
	tcase_add_test(tc, test_every_error_reported);
	tcase_add_test(tc, test_bad_level_alone);
	tcase_add_test(tc, test_control_not_echoed);
	tcase_add_test(tc, test_nul_and_utf8_files);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_long_name);
	tcase_add_test(tc, test_garbage_never_crashes);
	tcase_add_test(tc, test_empty_and_comments);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_quoted_values);
	suite_add_tcase(s, tc);
	return (s);
}
