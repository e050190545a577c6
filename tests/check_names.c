/*
 * NAME
 *	check_names 1
 * SUMMARY
 *	unit tests: domain names, envelope addresses, UTF-8
 */

#include <stdio.h>
#include <string.h>

#include "check_suites.h"
#include "policy/tp_names.h"

static const struct {
	const char *in;
	const char *want;		/* NULL: must be refused */
} domain_cases[] = {
	{"Example.ORG", "example.org"},
	{"example.org.", "example.org"},
	{"a-b_c.example", "a-b_c.example"},
	/* Names with UTF-8: their A-label (UTS #46 nontransitional), case too. */
	{"b\xc3\xbc" "cher.example", "xn--bcher-kva.example"},
	{"B\xc3\x9c" "CHER.Example.", "xn--bcher-kva.example"},
	{"XN--BCHER-KVA.example", "xn--bcher-kva.example"},
	{"stra\xc3\x9f" "e.example", "xn--strae-oqa.example"},
	{"bu\xcc\x88" "cher.example", "xn--bcher-kva.example"},	/* NFD */
	{"\xe2\x80\x8b.example", NULL},	/* zero width space: no IDN */
	{"", NULL},
	{".", NULL},
	{"a..b", NULL},
	{"example.org..", NULL},	/* one trailing dot only */
	{".example", NULL},
	{"exa mple.org", NULL},
	{"exa\"mple.org", NULL},
	{"exa\nmple.org", NULL},
	{"b\xfc" "cher.example", NULL},	/* Latin-1, not UTF-8 */
	{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.org", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.org"},
	{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.org", NULL},	/* 64-byte label */
};

START_TEST(test_domain_normalize)
{
	char	out[TP_DOMAIN_MAX + 1];
	const char *why = NULL;
	ssize_t	n = tp_domain_normalize(domain_cases[_i].in, strlen(domain_cases[_i].in), out, &why);

	if (domain_cases[_i].want == NULL) {
		ck_assert_msg(n < 0, "\"%s\": got \"%s\", want an error", domain_cases[_i].in, out);
		ck_assert_ptr_nonnull(why);
	} else {
		ck_assert_msg(n >= 0, "\"%s\": got error %s", domain_cases[_i].in, why);
		ck_assert_str_eq(out, domain_cases[_i].want);
	}
}
END_TEST

START_TEST(test_domain_too_long)
{
	char	in[400];
	char	out[TP_DOMAIN_MAX + 1];
	const char *why;

	/* 254 bytes of "a.a.a..." is one byte over the limit. */
	for (int i = 0; i < 254; i++)
		in[i] = i % 2 ? '.' : 'a';
	in[253] = 'a';
	ck_assert_int_lt(tp_domain_normalize(in, 254, out, &why), 0);
	ck_assert_int_eq(tp_domain_normalize(in, 253, out, &why), 253);
}
END_TEST

static const struct {
	const char *in;
	int	want_null;
	int	want_has_domain;
	const char *want_local;
	const char *want_domain;
} address_cases[] = {
	{"<alice@Bank.Example>", 0, 1, "alice", "bank.example"},
	{"alice@bank.example", 0, 1, "alice", "bank.example"},
	{"  <Bob@bank.example.>  ", 0, 1, "bob", "bank.example"},
	{"<>", 1, 0, "", ""},
	{"", 1, 0, "", ""},
	{"<@relay.example,@b.example:carol@c.example>", 0, 1, "carol", "c.example"},
	{"<\"odd@local\"@d.example>", 0, 1, "odd@local", "d.example"},
	/* Forms Postfix and Sendmail accept and deliver to the mailbox inside. */
	{"<\"CEO\"@example.org>", 0, 1, "ceo", "example.org"},
	{"<c\"e\"o@example.org>", 0, 1, "ceo", "example.org"},
	{"<\"c\\\"o\"@example.org>", 0, 1, "c\"o", "example.org"},
	{"<ceo@example.org(x)>", 0, 1, "ceo", "example.org"},
	{"<ceo(a (nested) comment)@(here)example.org>", 0, 1, "ceo", "example.org"},
	{"(x)<ceo@example.org>(\\))", 0, 1, "ceo", "example.org"},
	{"< ceo @ example . org >", 0, 1, "ceo", "example.org"},
	{"Chief <ceo@example.org>", 0, 1, "ceo", "example.org"},
	{"<\"a b\"@example.org>", 0, 1, "a b", "example.org"},
	{"<(only a comment)>", 1, 0, "", ""},
	{"<bob@prot\\.example>", 0, 1, "bob", "prot.example"},	/* Postfix drops the backslash */
	{"<\\bob@prot.example>", 0, 1, "bob", "prot.example"},
	{"<postmaster>", 0, 0, "postmaster", ""},
	{"<user@[192.0.2.1]>", 0, 0, "user", ""},
	{"<user@[IPv6:2001:db8::1]>", 0, 0, "user", ""},
	{"<@r.example:user@[IPv6:2001:db8::1]>", 0, 0, "user", ""},
	{"<user@bad..domain>", 0, 0, "user", ""},
	{"<user@exa\r\nmple.org>", 0, 0, "user", ""},
	{"<user@>", 0, 0, "user", ""},
	{"<J\xc3\x9cRGEN@B\xc3\x9c" "CHER.example>", 0, 1, "j\xc3\xbcrgen", "xn--bcher-kva.example"},
	/* The first reading: the mailbox at the domain after the last '@'. */
	{"<ceo@vault.example@mx.example>", 0, 1, "ceo@vault.example", "mx.example"},
};

START_TEST(test_address_parse)
{
	struct tp_address a;

	ck_assert_int_eq(tp_address_parse(address_cases[_i].in, &a), 0);
	ck_assert_msg(a.null == address_cases[_i].want_null, "\"%s\": got null %d",
		      address_cases[_i].in, a.null);
	ck_assert_msg(a.has_domain == address_cases[_i].want_has_domain,
		      "\"%s\": got has_domain %d", address_cases[_i].in, a.has_domain);
	ck_assert_str_eq(a.local, address_cases[_i].want_local);
	ck_assert_str_eq(a.domain, address_cases[_i].want_domain);
}
END_TEST

/* What no MTA takes for an address: -1, never "no domain". */
static const char *const unreadable[] = {
	"<\"ceo@example.org>", "<ceo@example.org(>", "<ceo@example.org)>",
	"<ceo@example.org", "ceo@example.org>", "<<ceo@example.org>>",
	"<ceo@example.org>x", "<@relay.example>", "<\"x\\",
	/* Lists and groups, of which Postfix takes some mailbox. */
	"<bob@prot.example;>", "<bob@prot.example,>", "<,bob@prot.example>",
	"<g:bob@prot.example;>", "<g:bob@prot.example>", "<a@b.example,c@d.example>",
	"<@a.example:b@c.example:d@e.example>", "<@a.example:b@c.example,>",
	"<user@[IPv6:2001:db8::1>",
	/* A '[' or ']' anywhere but around a whole domain literal. */
	"<user@[192.0.2.1>", "user@[192.0.2.1", "<user@192.0.2.1]>", "<us[er@example.org>",
	"<user@[192.0.2.1]x>", "<user@x[192.0.2.1]>", "<user@[[192.0.2.1]>",
	"<\"us[er\"@example.org>", "<ceo@[192.0.2.1@mx.example>",
};

START_TEST(test_address_unreadable)
{
	struct tp_address a;

	ck_assert_msg(tp_address_parse(unreadable[_i], &a) == -1, "%s: read", unreadable[_i]);
}
END_TEST

START_TEST(test_address_hostile)
{
	static char huge[20000];
	char	local[200];
	struct tp_address a;

	memset(huge, 'a', sizeof(huge) - 1);
	ck_assert_int_eq(tp_address_parse(huge, &a), -1);
	/* A source route of any length the MTA takes: the mailbox counts. */
	huge[0] = '<';
	for (size_t i = 1; i + 20 < 4000; i += 20)
		memcpy(huge + i, "@relay000.example,..", 20);
	strcpy(huge + 3981, "@r.example:ceo@example.org>");
	ck_assert_int_eq(tp_address_parse(huge, &a), 0);
	ck_assert_str_eq(a.local, "ceo");
	ck_assert_str_eq(a.domain, "example.org");
	/* A 100-byte local part is too long to keep, but the domain counts. */
	memset(local, 'x', 100);
	strcpy(local + 100, "@example.org");
	ck_assert_int_eq(tp_address_parse(local, &a), 0);
	ck_assert_str_eq(a.local, "");
	ck_assert_str_eq(a.domain, "example.org");
}
END_TEST

/*
 * Every mailbox the MTA may route an address to, as "local@domain ...",
 * "local/user@domain" where the local part has an extension (+ or -).
 */
static const struct {
	const char *in;
	const char *want;		/* NULL: unreadable */
} reading_cases[] = {
	{"<ceo@corp.example>", "ceo@corp.example"},
	{"<CEO+Tag@Corp.Example>", "ceo+tag/ceo@corp.example"},
	{"<ceo-a+b@corp.example>", "ceo-a+b/ceo@corp.example"},
	{"<+ceo@corp.example>", "+ceo@corp.example"},	/* no user name left */
	{"<ceo+@corp.example>", "ceo+/ceo@corp.example"},
	/* An extension too long to keep does not hide the user name. */
	{"<ceo+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@corp.example>",
	 "/ceo@corp.example"},
	/* The MTA strips a domain of its own and routes what is left. */
	{"<ceo@vault.example@mx.example>", "ceo@vault.example@mx.example ceo@vault.example"},
	{"<\"ceo@vault.example\"@mx.example>", "ceo@vault.example@mx.example ceo@vault.example"},
	{"<ceo@vault.example@[192.0.2.25]>", "ceo@vault.example@ ceo@vault.example"},
	{"<ceo@vault.example@[IPv6:2001:db8::25]>", "ceo@vault.example@ ceo@vault.example"},
	{"<ceo@vault.example@>", "ceo@vault.example@ ceo@vault.example"},
	{"<ceo@vault.example.@mx.example.>", "ceo@vault.example.@mx.example ceo@vault.example"},
	{"<a@b.example@c.example@d.example>",
	 "a@b.example@c.example@d.example a@b.example@c.example a@b.example"},
	/* Unquoted, the local part's source route is the whole address's. */
	{"<\"@r.example:ceo@vault.example\"@mx.example>",
	 "ceo@vault.example@mx.example ceo@vault.example"},
	/* swap_bangpath and allow_percent_hack, on by default in Postfix. */
	{"<ceo%vault.example@mx.example>", "ceo%vault.example@mx.example ceo@vault.example"},
	{"<vault.example!ceo@mx.example>", "vault.example!ceo@mx.example ceo@vault.example"},
	{"<ceo%vault.example>", "ceo%vault.example@ ceo@vault.example"},
	{"<a!b!ceo>", "a!b!ceo@ b!ceo@a ceo@b"},
	{"<ceo%a%b>", "ceo%a%b@ ceo%a@b ceo@a"},
	{"<ceo>", "ceo@"},
	{"<ceo@[192.0.2.1]>", "ceo@"},
	/* Both A-label forms of a name where UTS #46 modes differ. */
	{"<ceo@stra\xc3\x9f" "e.example>", "ceo@xn--strae-oqa.example ceo@strasse.example"},
	{"<ceo@B\xc3\x9c" "CHER.example>", "ceo@xn--bcher-kva.example"},
	{"<", NULL},
	{"<ceo@vault.example@[192.0.2.1>", NULL},
	{"<a@a@a@a@a@a@a@a@a@a.example>", NULL},	/* more readings than kept */
	{"<>", ""},
};

START_TEST(test_address_readings)
{
	struct tp_readings r;
	char	got[2000] = "";
	int	rc = tp_address_readings(reading_cases[_i].in, "+-", &r);

	if (reading_cases[_i].want == NULL) {
		ck_assert_msg(rc == -1, "%s: got %d, want -1", reading_cases[_i].in, rc);
		return;
	}
	ck_assert_msg(rc == 0, "%s: got %d, want 0", reading_cases[_i].in, rc);
	for (size_t i = 0; i < r.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s%s%s@%s",
			 i ? " " : "", r.box[i].local, r.box[i].user[0] ? "/" : "",
			 r.box[i].user, r.box[i].domain);
	ck_assert_msg(strcmp(got, reading_cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      reading_cases[_i].in, got, reading_cases[_i].want);
}
END_TEST

/* Local parts: ASCII lower case; UTF-8 case folded and NFC. */
static const struct {
	const char *in;
	const char *want;		/* NULL: refused */
} fold_cases[] = {
	{"CEO", "ceo"},
	{"J\xc3\x9cRGEN", "j\xc3\xbcrgen"},
	{"Ju\xcc\x88rgen", "j\xc3\xbcrgen"},		/* NFD to NFC */
	{"STRA\xc3\x9f" "E", "strasse"},		/* full folding */
	{"\xce\xa3\xce\x91", "\xcf\x83\xce\xb1"},	/* Greek */
	{"j\xfcrgen", NULL},				/* Latin-1 */
	{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
	{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL},	/* 65 */
	{"\xc3\x9cxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL},
};

START_TEST(test_local_fold)
{
	char	out[TP_LOCAL_MAX + 1] = "";
	ssize_t	n = tp_local_fold(fold_cases[_i].in, strlen(fold_cases[_i].in), out);

	if (fold_cases[_i].want == NULL) {
		ck_assert_msg(n < 0, "\"%s\": got \"%s\", want refused", fold_cases[_i].in, out);
		return;
	}
	ck_assert_msg(n >= 0, "\"%s\": refused", fold_cases[_i].in);
	ck_assert_str_eq(out, fold_cases[_i].want);
	ck_assert_uint_eq((size_t)n, strlen(out));
}
END_TEST

static const struct {
	const char *in;
	size_t	len;
	int	want;
} utf8_cases[] = {
	{"plain", 5, 1},
	{"\xc3\xa9", 2, 1},
	{"\xe2\x82\xac", 3, 1},
	{"\xf0\x9f\x98\x80", 4, 1},
	{"\xc0\xaf", 2, 0},		/* overlong */
	{"\xe0\x80\xaf", 3, 0},		/* overlong */
	{"\xed\xa0\x80", 3, 0},		/* surrogate */
	{"\xf4\x90\x80\x80", 4, 0},	/* above U+10FFFF */
	{"\xc3", 1, 0},			/* truncated */
	{"\x80", 1, 0},			/* lone continuation */
	{"\xff", 1, 0},
};

/* Internal form (Postfix's {mail_addr}) back to what a client writes. */
static const struct {
	const char *internal;
	const char *want;
}	external_cases[] = {
	{"", "<>"},
	{"<>", "<>"},
	{"a@b.example", "<a@b.example>"},
	{"first.last+tag@b.example", "<first.last+tag@b.example>"},
	{"a b@b.example", "<\"a b\"@b.example>"},
	{"evil\"x\\ session=forged@skip.example", "<\"evil\\\"x\\\\ session=forged\"@skip.example>"},
	{"ceo@vault.example@mx.example", "<\"ceo@vault.example\"@mx.example>"},
	{".a@b.example", "<\".a\"@b.example>"},
	{"a..b@b.example", "<\"a..b\"@b.example>"},
	{"j\xc3\xbcrgen@b.example", "<j\xc3\xbcrgen@b.example>"},
	{"postmaster", "<postmaster>"},
	/* Already quoted (Postfix's quote_821_local): kept as it is. */
	{"\"a b\"@b.example", "<\"a b\"@b.example>"},
	{"\"evil\\\"x\"@b.example", "<\"evil\\\"x\"@b.example>"},
	/* Not one quoted-string: quoted again. */
	{"\"a\"b\"@b.example", "<\"\\\"a\\\"b\\\"\"@b.example>"},
	{"\"a\\\"@b.example", "<\"\\\"a\\\\\\\"\"@b.example>"},
};

START_TEST(test_address_external)
{
	char	out[128];
	size_t	len = tp_address_external(external_cases[_i].internal, out, sizeof(out));

	ck_assert_uint_eq(len, strlen(external_cases[_i].want));
	ck_assert_str_eq(out, external_cases[_i].want);
	/* Whatever the quoting, the domain the rules see is the same. */
	if (strchr(external_cases[_i].internal, '@')) {
		struct tp_address a;

		ck_assert_int_eq(tp_address_parse(out, &a), 0);
		ck_assert_str_eq(a.domain, strrchr(external_cases[_i].internal, '@') + 1);
	}
	/* One byte short: nothing half-written. */
	ck_assert_uint_eq(tp_address_external(external_cases[_i].internal, out, len), 0);
}
END_TEST

START_TEST(test_utf8)
{
	ck_assert_int_eq(tp_utf8_valid(utf8_cases[_i].in, utf8_cases[_i].len), utf8_cases[_i].want);
}
END_TEST

Suite  *
names_suite(void)
{
	Suite  *s = suite_create("names");
	TCase  *tc = tcase_create("names");

	tcase_add_loop_test(tc, test_domain_normalize, 0, sizeof(domain_cases) / sizeof(domain_cases[0]));
	tcase_add_test(tc, test_domain_too_long);
	tcase_add_loop_test(tc, test_address_parse, 0, sizeof(address_cases) / sizeof(address_cases[0]));
	tcase_add_loop_test(tc, test_address_external, 0,
			    sizeof(external_cases) / sizeof(external_cases[0]));
	tcase_add_test(tc, test_address_hostile);
	tcase_add_loop_test(tc, test_address_unreadable, 0, sizeof(unreadable) / sizeof(unreadable[0]));
	tcase_add_loop_test(tc, test_address_readings, 0, sizeof(reading_cases) / sizeof(reading_cases[0]));
	tcase_add_loop_test(tc, test_local_fold, 0, sizeof(fold_cases) / sizeof(fold_cases[0]));
	tcase_add_loop_test(tc, test_utf8, 0, sizeof(utf8_cases) / sizeof(utf8_cases[0]));
	suite_add_tcase(s, tc);
	return (s);
}
