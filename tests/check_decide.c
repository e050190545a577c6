/*
 * NAME
 *	check_decide 1
 * SUMMARY
 *	unit tests: combining rules into decisions, reasons and replies
 * DESCRIPTION
 *	Every case decides one recipient against tests/data/good.policy,
 *	whose line numbers the cases name.
 */

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "policy/tp_policy.h"

static const struct tp_tls_state tls12 = {
	TP_TLS_HOW_STARTTLS, "TLSv1.2", TP_TLS_V1_2, "ECDHE-RSA-AES128-GCM-SHA256", 128,
	TP_VERIFY_NONE, NULL, NULL, NULL,
};
static const struct tp_tls_state tls11 = {
	TP_TLS_HOW_STARTTLS, "TLSv1.1", TP_TLS_V1_1, "AES128-SHA", 128,
	TP_VERIFY_NONE, NULL, NULL, NULL,
};
static const struct tp_tls_state tls13 = {
	TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384", 256,
	TP_VERIFY_NONE, NULL, NULL, NULL,
};
static const struct tp_tls_state tls13_128 = {
	TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_128_GCM_SHA256", 128,
	TP_VERIFY_NONE, NULL, NULL, NULL,
};
static const struct tp_tls_state tls13_nobits = {
	TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, NULL, -1,
	TP_VERIFY_NONE, NULL, NULL, NULL,
};
static const struct tp_tls_state tls_future = {
	TP_TLS_HOW_STARTTLS, "TLSv1.4", TP_TLS_UNKNOWN, "X", 256,
	TP_VERIFY_NONE, NULL, NULL, NULL,
};
static const struct tp_tls_state partner = {
	TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384", 256,
	TP_VERIFY_OK, "OK", "MX.Partner.Example", "Partner CA",
};
static const struct tp_tls_state partner_other_ca = {
	TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384", 256,
	TP_VERIFY_OK, "OK", "mx.partner.example", "Other CA",
};
static const struct tp_tls_state partner_unverified = {
	TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384", 256,
	TP_VERIFY_FAIL, "FAIL", "mx.partner.example", "Partner CA",
};
static const struct tp_tls_state hostile = {
	TP_TLS_HOW_STARTTLS, "TLSv1\r\n250 %s%n", TP_TLS_UNKNOWN, "\x01\x7f", 256,
	TP_VERIFY_NONE, NULL, NULL, NULL,
};

static const struct {
	const char *name;
	const char *client;
	const char *client_name;
	const char *sender;
	const char *rcpt;
	const struct tp_tls_state *tls;
	bool	dry_run;
	enum tp_result want_result;
	enum tp_action want_action;	/* FAIL only */
	bool	want_testing;
	unsigned want_line;		/* deciding rule; 0: none */
	const char *want_code;		/* FAIL only; NULL: don't care */
	const char *want_text;		/* substring of reply text (FAIL) or reason */
} cases[] = {
	{"require sender, plaintext", "203.0.113.1", NULL, "<a@bank.example>", "<b@other.example>", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 5, "530 5.7.0", "Must issue a STARTTLS command first: TLS required for mail from bank.example"},
	{"require sender, TLSv1.2", "203.0.113.1", NULL, "a@bank.example", "b@other.example", &tls12, 0,
	 TP_RESULT_PASS, 0, 0, 5, NULL, "met"},
	{"subdomain rule, plaintext", "203.0.113.1", NULL, "a@x.bank.example", "b@other.example", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 6, "530 5.7.0", "mail from x.bank.example"},
	{"subdomain rule, deep", "203.0.113.1", NULL, "a@deep.x.bank.example", "b@other.example", &tls11, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 6, "550 5.7.1", "TLSv1.2 required for mail from deep.x.bank.example, got TLSv1.1"},
	{"case and trailing dot", "203.0.113.1", NULL, "a@BANK.Example.", "b@other.example", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 5, "530 5.7.0", "bank.example"},
	{"parent domain is not its own subdomain", "203.0.113.1", NULL, "a@notbank.example", "b@other.example", NULL, 0,
	 TP_RESULT_UNMET, 0, 0, 4, NULL, "TLS required for all mail"},
	{"min_bits tempfail", "203.0.113.1", NULL, "a@x.example", "b@legal.example.org", &tls13_128, 0,
	 TP_RESULT_FAIL, TP_ACTION_TEMPFAIL, 0, 7, "451 4.7.1", "256-bit cipher required for mail to legal.example.org, got 128-bit"},
	{"tempfail without TLS", "203.0.113.1", NULL, "a@x.example", "b@legal.example.org", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_TEMPFAIL, 0, 7, "450 4.7.0", "Must issue a STARTTLS command first"},
	{"missing cipher strength fails min_bits", "203.0.113.1", NULL, "a@x.example", "b@legal.example.org", &tls13_nobits, 0,
	 TP_RESULT_FAIL, TP_ACTION_TEMPFAIL, 0, 7, "451 4.7.1", "unknown strength"},
	{"client cert matches", "192.0.2.7", NULL, "a@x.example", "b@y.example", &partner, 0,
	 TP_RESULT_PASS, 0, 0, 8, NULL, "met"},
	{"client cert missing", "192.0.2.7", NULL, "a@x.example", "b@y.example", &tls13, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 8, "550 5.7.1", "verified client certificate required for client 192.0.2.7, got none"},
	{"client cert not verified", "192.0.2.7", NULL, "a@x.example", "b@y.example", &partner_unverified, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 8, "550 5.7.1", "got an unverified one"},
	{"longest prefix wins", "192.0.2.200", NULL, "a@x.example", "b@y.example", &partner, 0,
	 TP_RESULT_PASS, 0, 0, 18, NULL, "met"},
	{"issuer mismatch quarantines", "192.0.2.200", NULL, "a@x.example", "b@y.example", &partner_other_ca, 0,
	 TP_RESULT_FAIL, TP_ACTION_QUARANTINE, 0, 18, NULL, "client certificate issuer \"Partner CA\" required for client 192.0.2.200, got \"Other CA\""},
	{"mapped IPv6 client matches IPv4 rule", "::ffff:192.0.2.7", NULL, "a@x.example", "b@y.example", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 8, "530 5.7.0", "client"},
	{"Sendmail IPv6 spelling", "IPv6:2001:db8::5", NULL, "a@x.example", "b@y.example", NULL, 0,
	 TP_RESULT_UNMET, 0, 0, 9, NULL, "TLS required for client"},
	{"exempt client beats everything", "10.1.2.3", NULL, "a@bank.example", "b@legal.example.org", NULL, 0,
	 TP_RESULT_EXEMPT, 0, 0, 11, NULL, "exempt by client:10.0.0.0/8"},
	{"exempt recipient", "203.0.113.1", NULL, "a@bank.example", "<Postmaster@Example.ORG>", NULL, 0,
	 TP_RESULT_EXEMPT, 0, 0, 13, NULL, "exempt by rcpt:postmaster@example.org"},
	{"address rule beats domain rule only for that address", "203.0.113.1", NULL, "x@nowhere.example", "other@example.org", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 14, "530 5.7.0", "mail to example.org"},
	{"address rule", "203.0.113.1", NULL, "x@nowhere.example", "INFO@example.net", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 20, "530 5.7.0", "mail to info@example.net"},
	{"testing mode", "203.0.113.1", NULL, "a@new.example", "b@y.example", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 1, 12, "530 5.7.0", "mail from new.example"},
	{"enforce beats testing", "203.0.113.1", NULL, "a@new.example", "b@example.org", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 14, "530 5.7.0", "mail to example.org"},
	{"dry run", "203.0.113.1", NULL, "a@bank.example", "b@y.example", NULL, 1,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 1, 5, "530 5.7.0", "mail from bank.example"},
	{"null sender", "203.0.113.1", NULL, "<>", "b@y.example", NULL, 0,
	 TP_RESULT_SKIP, 0, 0, 15, NULL, "skip"},
	{"empty null sender", "203.0.113.1", NULL, "", "b@y.example", NULL, 0,
	 TP_RESULT_SKIP, 0, 0, 15, NULL, "skip"},
	{"reply text replaced, codes kept", "203.0.113.1", NULL, "a@v13.example", "b@y.example", &tls12, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 16, "550 5.7.1", "Upgrade to TLS 1.3, see https://example.com/tls"},
	{"unknown version below every minimum", "203.0.113.1", NULL, "a@bank.example", "b@y.example", &tls_future, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 5, "550 5.7.1", "TLSv1.2 required for mail from bank.example, got TLSv1.4"},
	{"client name subdomain prefer", "203.0.113.1", "host.relay.example", "a@x.example", "b@y.example", &tls11, 0,
	 TP_RESULT_UNMET, 0, 0, 17, NULL, "TLSv1.2 required for client host.relay.example, got TLSv1.1"},
	{"client name and sender both fail: reject beats tag", "203.0.113.1", "MX.partner.example", "a@tag.example", "b@y.example", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 10, "530 5.7.0", "client MX.partner.example"},
	{"tag action", "203.0.113.1", NULL, "a@tag.example", "b@y.example", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_TAG, 0, 19, NULL, "mail from tag.example"},
	{"address rule and client name rule both apply", "192.0.2.7", "mx.partner.example", "a@x.example", "b@y.example", &tls13, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 8, "550 5.7.1", "verified client certificate"},
	{"reject beats tempfail", "192.0.2.7", NULL, "a@x.example", "b@legal.example.org", &tls13_128, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 8, "550 5.7.1", "verified client certificate"},
	{"mapped IPv6 rule", "198.51.100.7", NULL, "a@bank.example", "b@y.example", NULL, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 5, "530 5.7.0", "bank.example"},
	{"skip rule alone does not invoke default", "198.51.100.7", NULL, "a@x.example", "b@y.example", NULL, 0,
	 TP_RESULT_SKIP, 0, 0, 22, NULL, "skip"},
	{"no client address: default", NULL, NULL, "a@x.example", "b@y.example", &tls13, 0,
	 TP_RESULT_PASS, 0, 0, 4, NULL, "met"},
	{"hostile client name is no name", "203.0.113.1", "mx.partner.example\n", "a@x.example", "b@y.example", NULL, 0,
	 TP_RESULT_UNMET, 0, 0, 4, NULL, "all mail"},
	{"hostile TLS version is made printable", "203.0.113.1", NULL, "a@bank.example", "b@y.example", &hostile, 0,
	 TP_RESULT_FAIL, TP_ACTION_REJECT, 0, 5, "550 5.7.1", "got TLSv1??250 ?s?n"},
};

static struct tp_policy *policy;

static void
setup(void)
{
	struct tp_errors errs;

	tp_errors_init(&errs);
	policy = tp_policy_load(test_data("good.policy"), &errs);
	if (policy == NULL)
		ck_abort_msg("good.policy: %s", errs.kept ? errs.msgs[0] : "?");
	tp_errors_free(&errs);
}

static void
teardown(void)
{
	tp_policy_unref(policy);
}

START_TEST(test_decide)
{
	struct tp_query q = {cases[_i].client, cases[_i].client_name, cases[_i].sender,
	cases[_i].rcpt, cases[_i].tls, cases[_i].dry_run, NULL};
	struct tp_decision d;
	char	reply[TP_REASON_MAX + 16];
	const char *text;

	ck_assert_msg(tp_policy_decide(policy, &q, &d) == 0, "%s: error %s", cases[_i].name, d.reason);
	ck_assert_msg(d.result == cases[_i].want_result, "%s: got result %s, want %s",
		      cases[_i].name, tp_result_name(d.result), tp_result_name(cases[_i].want_result));
	ck_assert_msg((d.decider ? d.decider->line : 0) == cases[_i].want_line,
		      "%s: got decider line %u, want %u", cases[_i].name,
		      d.decider ? (unsigned)d.decider->line : 0, cases[_i].want_line);
	text = d.reason;
	if (d.result == TP_RESULT_FAIL) {
		ck_assert_msg(d.action == cases[_i].want_action, "%s: got action %s, want %s",
			      cases[_i].name, tp_action_name(d.action), tp_action_name(cases[_i].want_action));
		ck_assert_msg(d.testing == cases[_i].want_testing, "%s: got testing %d", cases[_i].name, d.testing);
		snprintf(reply, sizeof(reply), "%s %s", d.reply_code, d.reply_xcode);
		if (cases[_i].want_code)
			ck_assert_msg(strcmp(reply, cases[_i].want_code) == 0, "%s: got codes %s, want %s",
				      cases[_i].name, reply, cases[_i].want_code);
		text = d.reply_text;
		ck_assert_msg(strpbrk(d.reply_text, "\r\n") == NULL
			      && (d.decider->reply || strchr(d.reply_text, '%') == NULL),
			      "%s: unsafe reply text: %s", cases[_i].name, d.reply_text);
	}
	ck_assert_msg(strstr(text, cases[_i].want_text) != NULL, "%s: got \"%s\", want \"%s\" in it",
		      cases[_i].name, text, cases[_i].want_text);
}
END_TEST

/* What cannot be read is an error, never "no rule": the milter tempfails. */
static const struct {
	const char *client, *sender, *rcpt, *reason;
} unreadable[] = {
	{"not-an-address", "a@b.example", "c@d.example", "client address is not an IP address"},
	{"203.0.113.1", "a@bank.example\r\nX-Injected: 1", "c@d.example", "sender address cannot be read"},
	{"203.0.113.1", "a@b.example", "<c@example.org;>", "recipient address cannot be read"},
};

START_TEST(test_unreadable)
{
	struct tp_query q = {unreadable[_i].client, NULL, unreadable[_i].sender, unreadable[_i].rcpt,
	NULL, false, NULL};
	struct tp_decision d;

	ck_assert_int_eq(tp_policy_decide(policy, &q, &d), -1);
	ck_assert_str_eq(d.reason, unreadable[_i].reason);
}
END_TEST

START_TEST(test_rules_that_took_part)
{
	struct tp_query q = {"192.0.2.7", "mx.partner.example", "a@bank.example", "b@legal.example.org", &tls13_128, false, NULL};
	struct tp_decision d;

	ck_assert_int_eq(tp_policy_decide(policy, &q, &d), 0);
	ck_assert_uint_eq(d.nrules, 4);
	ck_assert_uint_eq(d.rules[0]->line, 8);		/* client address */
	ck_assert_uint_eq(d.rules[1]->line, 10);	/* client name */
	ck_assert_uint_eq(d.rules[2]->line, 5);		/* sender */
	ck_assert_uint_eq(d.rules[3]->line, 7);		/* recipient */
	ck_assert_uint_eq(d.rule_unmet[0], TP_REQ_VERIFY | TP_REQ_SUBJECT);
	ck_assert_uint_eq(d.rule_unmet[1], 0);
	ck_assert_uint_eq(d.rule_unmet[3], TP_REQ_BITS);
	ck_assert_str_eq(d.rules[0]->file, test_data("good.policy"));
}
END_TEST

/*
 * Recipient forms: every way an address reaches a protected mailbox must
 * meet the mailbox's rule (plaintext: a require rule fails). The MTA may
 * strip a domain of its own and route the rest, split off an extension,
 * fold case beyond ASCII, map a U-label to its A-label.
 */
static const char forms_policy[] =
	"default                         skip\n"
	"rcpt:ceo@vault.example          require\n"
	"rcpt:ceo@corp.example           require\n"
	"rcpt:team@corp.example          require\n"
	"rcpt:team+ops@corp.example      exempt\n"
	"rcpt:.lab.example               exempt\n"
	"rcpt:J\xc3\x9cRGEN@corp.example require\n"
	"rcpt:xn--bcher-kva.example      require\n"
	"rcpt:caf\xc3\xa9.example        require\n"
	"rcpt:fass.example               require\n";

static const struct {
	const char *rcpt;
	const char *delimiter;		/* NULL: the default, "+" */
	int	want_rc;
	enum tp_result want_result;
	const char *want_decider;	/* selector; NULL: none */
} form_cases[] = {
	{"<ceo@vault.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<other@vault.example>", NULL, 0, TP_RESULT_SKIP, "default"},
	/* The MTA strips its own domain (mydestination, our literal) and routes the rest. */
	{"<ceo@vault.example@mx.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<\"ceo@vault.example\"@mx.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<ceo@vault.example@[192.0.2.25]>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<ceo@vault.example@[IPv6:2001:db8::25]>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<CEO@Vault.Example.@MX.example.>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<ceo@vault.example@>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<@relay.example:ceo@vault.example@mx.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<ceo%vault.example@mx.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<vault.example!ceo@mx.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<ceo%vault.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<ceo@vault.example@mx.example@[192.0.2.25]>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	/* An exempt reading does not exempt the others: over-matching refuses this. */
	{"<ceo@x.lab.example>", NULL, 0, TP_RESULT_EXEMPT, "rcpt:.lab.example"},
	{"<ceo@vault.example@x.lab.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<x@y.lab.example@x.lab.example>", NULL, 0, TP_RESULT_EXEMPT, "rcpt:.lab.example"},
	/* Address extensions: user+ext@domain, then user@domain, then domain. */
	{"<ceo+anything@corp.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@corp.example"},
	{"<CEO+X@Corp.Example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@corp.example"},
	{"<ceo+a+b@corp.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@corp.example"},
	{"<ceo+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@corp.example>",
	 NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@corp.example"},
	{"<\"ceo+x\"@corp.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@corp.example"},
	{"<ceo+x@vault.example@mx.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:ceo@vault.example"},
	{"<team+ops@corp.example>", NULL, 0, TP_RESULT_EXEMPT, "rcpt:team+ops@corp.example"},
	{"<team+dev@corp.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:team@corp.example"},
	{"<+ceo@corp.example>", NULL, 0, TP_RESULT_SKIP, "default"},	/* no user name left */
	{"<ceo-x@corp.example>", NULL, 0, TP_RESULT_SKIP, "default"},
	{"<ceo-x@corp.example>", "+-", 0, TP_RESULT_FAIL, "rcpt:ceo@corp.example"},
	{"<ceo-x+y@corp.example>", "+-", 0, TP_RESULT_FAIL, "rcpt:ceo@corp.example"},
	{"<ceo=x@corp.example>", "+-=", 0, TP_RESULT_FAIL, "rcpt:ceo@corp.example"},
	{"<ceo+x@corp.example>", "", 0, TP_RESULT_SKIP, "default"},	/* no extensions */
	/* Case beyond ASCII, NFC, IDN: U-label and A-label are one name. */
	{"<j\xc3\xbcrgen@corp.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:j\xc3\xbcrgen@corp.example"},
	{"<J\xc3\x9cRGEN+x@CORP.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:j\xc3\xbcrgen@corp.example"},
	{"<ju\xcc\x88rgen@corp.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:j\xc3\xbcrgen@corp.example"},
	{"<x@B\xc3\x9c" "CHER.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:xn--bcher-kva.example"},
	{"<x@XN--BCHER-KVA.example.>", NULL, 0, TP_RESULT_FAIL, "rcpt:xn--bcher-kva.example"},
	{"<x@xn--caf-dma.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:xn--caf-dma.example"},
	{"<x@CAF\xc3\x89.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:xn--caf-dma.example"},
	{"<x@fa\xc3\x9f.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:fass.example"},	/* transitional */
	{"<ceo@B\xc3\x9c" "CHER.example@mx.example>", NULL, 0, TP_RESULT_FAIL, "rcpt:xn--bcher-kva.example"},
	/* Literals: no rule names them; a broken one is no address. */
	{"<ceo@[192.0.2.1]>", NULL, 0, TP_RESULT_SKIP, "default"},
	{"<ceo@[192.0.2.1>", NULL, -1, TP_RESULT_SKIP, NULL},
	{"<ceo@vault.example@[192.0.2.1>", NULL, -1, TP_RESULT_SKIP, NULL},
	{"<ce[o@vault.example>", NULL, -1, TP_RESULT_SKIP, NULL},
	/* Routed anew, the MTA drops white space: no reading is sure. */
	{"<\"ceo@vault.example \"@mx.example>", NULL, -1, TP_RESULT_SKIP, NULL},
	{"<\"ceo @ corp.example\"@mx.example>", NULL, -1, TP_RESULT_SKIP, NULL},
	{"<\"ceo%vault.example\t\"@mx.example>", NULL, -1, TP_RESULT_SKIP, NULL},
	{"<\"john smith\"@corp.example>", NULL, 0, TP_RESULT_SKIP, "default"},
	/* A domain the MTA may read as a name (drops a CR; maps a long U-label). */
	{"<ceo@corp.example\r>", NULL, -1, TP_RESULT_SKIP, NULL},
	{"<x@vault\r.example>", NULL, -1, TP_RESULT_SKIP, NULL},
	{"<x@vault\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad"
	 "\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad"
	 "\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad\xc2\xad.example>",
	 NULL, -1, TP_RESULT_SKIP, NULL},
};

START_TEST(test_forms)
{
	const char *path = test_tmpfile(forms_policy, sizeof(forms_policy) - 1);
	struct tp_query q = {"192.0.2.1", NULL, "a@x.example", form_cases[_i].rcpt, NULL, false,
	form_cases[_i].delimiter};
	struct tp_errors errs;
	struct tp_decision d;
	struct tp_policy *p;
	int	rc;

	tp_errors_init(&errs);
	p = tp_policy_load(path, &errs);
	unlink(path);
	ck_assert_msg(p != NULL, "refused: %s", errs.kept ? errs.msgs[0] : "?");
	rc = tp_policy_decide(p, &q, &d);
	ck_assert_msg(rc == form_cases[_i].want_rc, "%s: got rc %d (%s), want %d",
		      form_cases[_i].rcpt, rc, d.reason, form_cases[_i].want_rc);
	if (rc == 0) {
		ck_assert_msg(d.result == form_cases[_i].want_result, "%s: got %s, want %s",
			      form_cases[_i].rcpt, tp_result_name(d.result),
			      tp_result_name(form_cases[_i].want_result));
		ck_assert_msg(d.decider != NULL && strcmp(d.decider->selector, form_cases[_i].want_decider) == 0,
			      "%s: got decider %s, want %s", form_cases[_i].rcpt,
			      d.decider ? d.decider->selector : "none", form_cases[_i].want_decider);
	}
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_no_default)
{
	static const char text[] = "sender:bank.example require\n";
	const char *path = test_tmpfile(text, sizeof(text) - 1);
	struct tp_errors errs;
	struct tp_query q = {"192.0.2.1", NULL, "a@other.example", "b@c.example", NULL, false, NULL};
	struct tp_decision d;
	struct tp_policy *p;

	tp_errors_init(&errs);
	p = tp_policy_load(path, &errs);
	unlink(path);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(tp_policy_decide(p, &q, &d), 0);
	ck_assert_int_eq(d.result, TP_RESULT_SKIP);
	ck_assert_ptr_null(d.decider);
	ck_assert_uint_eq(d.nrules, 0);
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

/*
 * UTF-8 addresses reach replies through whom(): each must come out
 * printable. Domains come out as A-labels, local parts escaped.
 */
static const struct {
	const char *sender;
	const char *rcpt;
	const char *want;
} utf8_cases[] = {
	{"a@x.example", "b@caf\xc3\xa9.example", "TLS required for mail to xn--caf-dma.example"},
	{"a@x.example", "info@caf\xc3\xa9.example", "TLS required for mail to info@xn--caf-dma.example"},
	{"a@caf\xc3\xa9.bank.example", "b@y.example", "TLS required for mail from xn--caf-dma.bank.example"},
	{"a@x.example", "J\xc3\x9cRGEN@CAF\xc3\x89.example", "TLS required for mail to j??rgen@xn--caf-dma.example"},
	/* The reading that met the rule is named, not the last domain. */
	{"a@x.example", "ceo@a.example@mx.test", "TLS required for mail to a.example"},
	{"a@x.example", "\"info@caf\xc3\xa9.example\"@mx.test", "TLS required for mail to info@xn--caf-dma.example"},
};

START_TEST(test_utf8_domain_reply)
{
	static const char text[] =
	"rcpt:.example             require\n"
	"rcpt:info@caf\xc3\xa9.example require\n"
	"rcpt:j\xc3\xbcrgen@xn--caf-dma.example require\n"
	"sender:.bank.example      require\n";
	const char *path = test_tmpfile(text, sizeof(text) - 1);
	struct tp_query q = {"192.0.2.1", NULL, utf8_cases[_i].sender, utf8_cases[_i].rcpt, NULL, false, NULL};
	struct tp_errors errs;
	struct tp_decision d;
	struct tp_policy *p;

	tp_errors_init(&errs);
	p = tp_policy_load(path, &errs);
	unlink(path);
	ck_assert_msg(p != NULL, "refused: %s", errs.kept ? errs.msgs[0] : "?");
	ck_assert_int_eq(tp_policy_decide(p, &q, &d), 0);
	ck_assert_int_eq(d.result, TP_RESULT_FAIL);
	for (const char *c = d.reply_text; *c != 0; c++)
		ck_assert_msg(*c >= 0x20 && *c < 0x7f, "byte 0x%02x in reply \"%s\"",
			      (unsigned char)*c, d.reply_text);
	ck_assert_msg(strstr(d.reply_text, utf8_cases[_i].want) != NULL, "got \"%s\", want \"%s\" in it",
		      d.reply_text, utf8_cases[_i].want);
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_rule_format)
{
	struct tp_query q = {"192.0.2.200", NULL, "a@x.example", "b@y.example", NULL, false, NULL};
	struct tp_decision d;
	char	text[512];

	ck_assert_int_eq(tp_policy_decide(policy, &q, &d), 0);
	tp_rule_format(d.decider, text, sizeof(text));
	ck_assert_str_eq(text, "client:192.0.2.128/25 require cert_issuer=\"Partner CA\" action=quarantine");
}
END_TEST

/* decide_many - a reader thread: hold a reference, decide, let go */

static void *
decide_many(void *arg)
{
	struct tp_policy *p = arg;		/* a reference taken for us */
	struct tp_query q = {"192.0.2.7", NULL, "a@bank.example", "b@legal.example.org", &tls12, false, NULL};
	struct tp_decision d;
	long	fails = 0;

	for (int i = 0; i < 20000; i++)
		if (tp_policy_decide(p, &q, &d) != 0 || d.result != TP_RESULT_FAIL)
			fails++;
	tp_policy_unref(p);
	return ((void *)fails);
}

START_TEST(test_threads_share_policy)
{
	pthread_t threads[4];
	struct tp_errors errs;
	struct tp_policy *p;

	tp_errors_init(&errs);
	p = tp_policy_load(test_data("good.policy"), &errs);
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, decide_many, tp_policy_ref(p)), 0);
	/* Drop our reference while they run: the last thread frees it. */
	tp_policy_unref(p);
	for (int i = 0; i < 4; i++) {
		void   *fails;

		pthread_join(threads[i], &fails);
		ck_assert_int_eq((long)fails, 0);
	}
	tp_errors_free(&errs);
}
END_TEST

Suite  *
decide_suite(void)
{
	Suite  *s = suite_create("decide");
	TCase  *tc = tcase_create("decide");
	TCase  *tt = tcase_create("threads");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_decide, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, test_unreadable, 0, sizeof(unreadable) / sizeof(unreadable[0]));
	tcase_add_test(tc, test_rules_that_took_part);
	tcase_add_test(tc, test_no_default);
	tcase_add_loop_test(tc, test_forms, 0, sizeof(form_cases) / sizeof(form_cases[0]));
	tcase_add_loop_test(tc, test_utf8_domain_reply, 0, sizeof(utf8_cases) / sizeof(utf8_cases[0]));
	tcase_add_test(tc, test_rule_format);
	tcase_set_timeout(tt, 60);
	tcase_add_test(tt, test_threads_share_policy);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tt);
	return (s);
}
