/*
 * NAME
 *	check_macros 1
 * SUMMARY
 *	unit tests: Postfix's and Sendmail's TLS macros into one TLS state
 */

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check_suites.h"
#include "policy/tp_macros.h"

static const struct {
	const char *name;
	struct tp_tls_macros raw;
	enum tp_verify want_verify;
	const char *want_subject;	/* NULL: none */
	const char *want_issuer;
	int	want_bits;
} cases[] = {
	{"Postfix, no client certificate",
	 {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", NULL, NULL, NULL, NULL, NULL},
	 TP_VERIFY_NONE, NULL, NULL, 256},
	{"Postfix, trusted certificate: names and no {verify}",
	 {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", NULL, "client.acceptance.test", "Acceptance Test CA", NULL, NULL},
	 TP_VERIFY_OK, "client.acceptance.test", "Acceptance Test CA", 256},
	{"Postfix, CN with \"+2E\" is not xtext",
	 {"TLSv1.3", "X", "256", NULL, "mx+2Epartner+2Eexample", "CA+20One", NULL, NULL},
	 TP_VERIFY_OK, "mx+2Epartner+2Eexample", "CA+20One", 256},
	{"Postfix, CN that looks like a DN is taken whole",
	 {"TLSv1.3", "X", "256", NULL, "x/CN=mx.partner.example", "R10", NULL, NULL},
	 TP_VERIFY_OK, "x/CN=mx.partner.example", "R10", 256},
	{"Postfix, trusted certificate with an empty CN",
	 {"TLSv1.3", "X", "256", NULL, "", "R10", NULL, NULL},
	 TP_VERIFY_OK, NULL, "R10", 256},
	{"no {verify}, both names empty: no certificate",
	 {"TLSv1.3", "X", "256", NULL, "", "", NULL, NULL},
	 TP_VERIFY_NONE, NULL, NULL, 256},
	{"Sendmail, no certificate: empty names, verify NO",
	 {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", "NO", "", "", "", ""},
	 TP_VERIFY_NONE, NULL, NULL, 256},
	{"Sendmail, trusted: DN in xtext, CN macros",
	 {"TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256", "OK",
	  "/O=Acceptance/CN=client.acceptance.test", "/O=Acceptance/CN=Acceptance+20Test+20CA",
	  "client.acceptance.test", "Acceptance+20Test+20CA"},
	 TP_VERIFY_OK, "client.acceptance.test", "Acceptance Test CA", 256},
	{"Sendmail, CN macro in xtext is decoded",
	 {"TLSv1.3", "X", "256", "OK", "/CN=mx+2Epartner+2Eexample", "/CN=CA",
	  "mx+2Epartner+2Eexample", "CA"},
	 TP_VERIFY_OK, "mx.partner.example", "CA", 256},
	{"Sendmail, trusted, DN only",
	 {"TLSv1.2", "X", "128", "OK", "/O=Acceptance/CN=client.acceptance.test",
	  "/O=Acceptance/CN=Acceptance+20Test+20CA", NULL, NULL},
	 TP_VERIFY_OK, "client.acceptance.test", "Acceptance Test CA", 128},
	{"Sendmail, untrusted: names kept, not verified",
	 {"TLSv1.3", "X", "256", "FAIL", "/CN=rogue", "/CN=rogue", "rogue", "rogue"},
	 TP_VERIFY_FAIL, "rogue", "rogue", 256},
	{"Sendmail, odd verify word: names dropped",
	 {"TLSv1.3", "X", "256", "TEMP", "/CN=x", "/CN=y", "x", "y"},
	 TP_VERIFY_UNKNOWN, NULL, NULL, 256},
	{"garbage bits",
	 {"TLSv1.3", "X", "lots", NULL, NULL, NULL, NULL, NULL},
	 TP_VERIFY_NONE, NULL, NULL, -1},
	{"negative bits",
	 {"TLSv1.3", "X", "-5", NULL, NULL, NULL, NULL, NULL},
	 TP_VERIFY_NONE, NULL, NULL, -1},
};

START_TEST(test_tls_from_macros)
{
	struct tp_tls_names names;
	struct tp_tls_state tls;

	tp_tls_macros_normalize(&cases[_i].raw, &names);
	tp_tls_state_from(&cases[_i].raw, &names, TP_TLS_HOW_STARTTLS, &tls);
	ck_assert_msg(tls.verify == cases[_i].want_verify, "%s: got verify %s", cases[_i].name,
		      tp_verify_name(tls.verify));
	if (cases[_i].want_subject)
		ck_assert_str_eq(tls.cert_subject, cases[_i].want_subject);
	else
		ck_assert_msg(tls.cert_subject == NULL, "%s: got subject %s", cases[_i].name, tls.cert_subject);
	if (cases[_i].want_issuer)
		ck_assert_str_eq(tls.cert_issuer, cases[_i].want_issuer);
	else
		ck_assert_ptr_null(tls.cert_issuer);
	ck_assert_int_eq(tls.bits, cases[_i].want_bits);
}
END_TEST

START_TEST(test_plaintext)
{
	struct tp_tls_macros raw = {"TLSv1.3", "X", "256", NULL, "a", "b", NULL, NULL};
	struct tp_tls_names names;
	struct tp_tls_state tls;

	tp_tls_macros_normalize(&raw, &names);
	tp_tls_state_from(&raw, &names, TP_TLS_HOW_NONE, &tls);
	ck_assert_int_eq(tls.how, TP_TLS_HOW_NONE);
	ck_assert_ptr_null(tls.version);
}
END_TEST

START_TEST(test_hostile_names)
{
	static char dn[5000];
	struct tp_tls_macros raw = {"TLSv1.3", "X", "256", "OK", dn, dn, NULL, NULL};
	struct tp_tls_names names;

	memset(dn, 'A', sizeof(dn) - 1);
	memcpy(dn, "/CN=", 4);
	tp_tls_macros_normalize(&raw, &names);
	ck_assert_uint_eq(strlen(names.subject), TP_CERT_NAME_MAX - 1);
}
END_TEST

static const struct {
	const char *name;
	const char *resolve;
	const char *want;
} name_cases[] = {
	{"mx.example.org", NULL, "mx.example.org"},	/* Postfix: verified */
	{"unknown", NULL, NULL},			/* Postfix: not verified */
	{"mx.example.org", "OK", "mx.example.org"},	/* Sendmail: resolved */
	{"mx.example.org", "FAIL", NULL},		/* Sendmail: PTR only */
	{"mx.example.org", "FORGED", NULL},
	{"[192.0.2.1]", NULL, NULL},			/* Sendmail: no name */
	{"", NULL, NULL},
	{NULL, "OK", NULL},
};

START_TEST(test_client_name)
{
	const char *got = tp_client_name_verified(name_cases[_i].name, name_cases[_i].resolve);

	if (name_cases[_i].want)
		ck_assert_str_eq(got, name_cases[_i].want);
	else
		ck_assert_ptr_null(got);
}
END_TEST

/* Each macro name and the field it must land in, written out by hand. */
static const struct {
	const char *name;
	size_t	field;
}	want_fields[] = {
	{"{tls_version}", offsetof(struct tp_tls_macros, version)},
	{"{cipher}", offsetof(struct tp_tls_macros, cipher)},
	{"{cipher_bits}", offsetof(struct tp_tls_macros, bits)},
	{"{verify}", offsetof(struct tp_tls_macros, verify)},
	{"{cert_subject}", offsetof(struct tp_tls_macros, cert_subject)},
	{"{cert_issuer}", offsetof(struct tp_tls_macros, cert_issuer)},
	{"{cn_subject}", offsetof(struct tp_tls_macros, cn_subject)},
	{"{cn_issuer}", offsetof(struct tp_tls_macros, cn_issuer)},
};

/* field_value - the value of one field of raw, by offset */

static const char *
field_value(const struct tp_tls_macros *raw, size_t field)
{
	const char *v;

	memcpy(&v, (const char *)raw + field, sizeof(v));
	return (v);
}

START_TEST(test_table_lands_in_fields)
{
	char	names[TP_TLS_MACROS][32];
	char   *values[TP_TLS_MACROS];
	struct tp_tls_macros raw;

	ck_assert_uint_eq(TP_TLS_MACROS, sizeof(want_fields) / sizeof(want_fields[0]));
	/* Each value is its macro's own name: it must show up in the right field. */
	for (size_t i = 0; i < TP_TLS_MACROS; i++) {
		snprintf(names[i], sizeof(names[i]), "%s", tp_tls_macro_table[i].name);
		values[i] = names[i];
	}
	memset(&raw, 0, sizeof(raw));
	tp_tls_macros_from(&raw, values);
	for (size_t i = 0; i < TP_TLS_MACROS; i++) {
		const char *got = field_value(&raw, want_fields[i].field);

		ck_assert_msg(got != NULL && strcmp(got, want_fields[i].name) == 0,
			      "field of %s: got %s", want_fields[i].name, got ? got : "(unset)");
	}
	ck_assert_str_eq(tp_tls_macro_table[0].name, "{tls_version}");
}
END_TEST

/*
 * Which stages ask for what; the TLS macros where TLS can first be seen.
 * all: connect, HELO and MAIL negotiated away, so RCPT asks for theirs.
 */
static const struct {
	enum tp_macro_stage stage;
	bool	all;
	const char *must[3];		/* macros the stage's list names */
	const char *not;		/* one it must not */
	int	want_tls;
}	list_cases[] = {
	{TP_STAGE_CONNECT, false, {"{daemon_flags}"}, "s", 1},
	{TP_STAGE_HELO, false, {NULL}, "s", 1},
	{TP_STAGE_MAIL, false, {"{auth_authen}", "i"}, "{mail_addr}", 1},
	{TP_STAGE_RCPT, false, {"i"}, "{client_addr}", 1},
	{TP_STAGE_EOM, false, {"i"}, "{tls_version}", 0},
	{TP_STAGE_RCPT, true, {"{client_addr}", "s", "{mail_addr}"}, NULL, 1},
	{TP_STAGE_RCPT, true, {"{daemon_flags}", "{auth_authen}", "i"}, NULL, 1},
	{TP_STAGE_MAIL, true, {"i"}, "{mail_addr}", 1},
};

/* count_word - how often word is one of the space-separated words of list */

static int
count_word(const char *list, const char *word)
{
	size_t	len = strlen(word);
	int	n = 0;

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len)
		n += (p == list || p[-1] == ' ') && (p[len] == 0 || p[len] == ' ');
	return (n);
}

START_TEST(test_macro_lists)
{
	char	list[TP_MACRO_LIST_MAX];
	size_t	len = tp_macro_list(list_cases[_i].stage, list_cases[_i].all, list, sizeof(list));
	char   *word;

	ck_assert_uint_gt(len, 0);
	ck_assert_uint_eq(len, strlen(list));
	ck_assert_msg(list[0] != ' ' && list[len - 1] != ' ' && strstr(list, "  ") == NULL,
		      "stage %d: stray space in \"%s\"", list_cases[_i].stage, list);
	for (size_t i = 0; i < 3 && list_cases[_i].must[i]; i++)
		ck_assert_msg(count_word(list, list_cases[_i].must[i]) == 1,
			      "stage %d: not one %s in \"%s\"", list_cases[_i].stage,
			      list_cases[_i].must[i], list);
	if (list_cases[_i].not)
		ck_assert_msg(!count_word(list, list_cases[_i].not), "stage %d: %s in \"%s\"",
			      list_cases[_i].stage, list_cases[_i].not, list);
	for (size_t i = 0; i < TP_TLS_MACROS; i++)
		ck_assert_msg(count_word(list, tp_tls_macro_table[i].name) == list_cases[_i].want_tls,
			      "stage %d: %s in \"%s\": got %d, want %d", list_cases[_i].stage,
			      tp_tls_macro_table[i].name, list,
			      count_word(list, tp_tls_macro_table[i].name), list_cases[_i].want_tls);
	/* No macro asked for twice. */
	for (word = list; *word; word += strcspn(word, " "), word += *word == ' ') {
		char	one[64];

		snprintf(one, sizeof(one), "%.*s", (int)strcspn(word, " "), word);
		ck_assert_msg(count_word(list, one) == 1, "%s twice in \"%s\"", one, list);
	}
	/* One byte short: nothing half-written is handed out. */
	ck_assert_uint_eq(tp_macro_list(list_cases[_i].stage, list_cases[_i].all, list, len), 0);
}
END_TEST

Suite  *
macros_suite(void)
{
	Suite  *s = suite_create("macros");
	TCase  *tc = tcase_create("macros");

	tcase_add_loop_test(tc, test_tls_from_macros, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_plaintext);
	tcase_add_test(tc, test_hostile_names);
	tcase_add_loop_test(tc, test_client_name, 0, sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(tc, test_table_lands_in_fields);
	tcase_add_loop_test(tc, test_macro_lists, 0, sizeof(list_cases) / sizeof(list_cases[0]));
	suite_add_tcase(s, tc);
	return (s);
}
