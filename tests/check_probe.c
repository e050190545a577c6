/*
 * NAME
 *	check_probe 1
 * SUMMARY
 *	unit tests: the pure parts of tlspolicyctl probe
 * DESCRIPTION
 *	The verdict table (every code has a sentence and a severity, codes
 *	unique and well-formed), the masked-STARTTLS keyword detector, the
 *	EHLO reply parser (hostile lines too), certificate name matching,
 *	a dest: rule against what a probe saw, and the MTA-STS verdicts.
 *	The network steps are tested against real servers in
 *	tests/probe/t-probe.sh.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "ctl/tp_probe.h"

Suite  *probe_suite(void);

/* has_finding - r has verdict v */

static int
has_finding(const struct tp_probe_result *r, enum tp_probe_verdict v)
{
	for (int i = 0; i < r->nfindings; i++)
		if (r->findings[i].code == v)
			return (1);
	return (0);
}

/* ---- the verdict table ------------------------------------------------ */

START_TEST(test_verdict_table)
{
	for (int v = 0; v < TP_V_COUNT; v++) {
		const char *code = tp_probe_verdict_code(v);
		const char *text = tp_probe_verdict_text(v);

		ck_assert_msg(code != NULL && *code != 0, "verdict %d has no code", v);
		ck_assert_msg(strspn(code, "abcdefghijklmnopqrstuvwxyz-") == strlen(code),
			      "code %s: not lower case and '-'", code);
		ck_assert_msg(text != NULL && strlen(text) > 60, "%s: no sentence", code);
		ck_assert_msg(text[strlen(text) - 1] == '.', "%s: sentence unfinished", code);
		ck_assert_msg(tp_probe_verdict_serious(v) == 0
			      || tp_probe_verdict_serious(v) == 1, "%s: severity", code);
		for (int w = 0; w < v; w++)
			ck_assert_msg(strcmp(code, tp_probe_verdict_code(w)) != 0,
				      "code %s twice", code);
	}
	ck_assert_str_eq(tp_probe_verdict_code(TP_V_MTA_STS_MISMATCH), "mta-sts-mismatch");
	ck_assert_str_eq(tp_probe_verdict_code(TP_V_DEST_RULE_UNMET), "dest-rule-unmet");
	ck_assert_int_eq(tp_probe_verdict_serious(TP_V_PLAINTEXT_ACCEPTED), 0);
	ck_assert_int_eq(tp_probe_verdict_serious(TP_V_CERT_EXPIRED), 1);
}
END_TEST

/* ---- masked STARTTLS -------------------------------------------------- */

static const struct mask_case {
	const char *kw;
	int	want;
} mask_cases[] = {
	{"XXXXXXXA", 1}, {"XXXXXXXX", 1}, {"XXXX", 1}, {"XXXXA", 1},
	{"XXX", 0}, {"AXXB", 0}, {"STARTTLS", 0}, {"8BITMIME", 0},
	{"XCLIENT", 0}, {"X-EXPS", 0}, {"", 0},
};

START_TEST(test_masked_keyword)
{
	const struct mask_case *c = &mask_cases[_i];

	ck_assert_msg(tp_probe_masked_keyword(c->kw) == c->want, "%s: want %d",
		      c->kw, c->want);
}
END_TEST

/* ---- EHLO replies ----------------------------------------------------- */

/* ehlo - parse lines as an EHLO reply before (or after) TLS into r */

static void
ehlo(struct tp_probe_result *r, const char *const *lines, int n, int before_tls)
{
	memset(r, 0, sizeof(*r));
	tp_probe_ehlo_keep(before_tls ? &r->ehlo : &r->ehlo_tls, 250, lines, n, r,
			   before_tls);
}

START_TEST(test_ehlo_offered)
{
	static const char *const l[] = {"250-mx.example Hello", "250-PIPELINING",
	"250-starttls", "250-SIZE 10240000", "250 AUTH=PLAIN LOGIN"};
	struct tp_probe_result *r = calloc(1, sizeof(*r));

	ehlo(r, l, 5, 1);
	ck_assert_int_eq(r->ehlo.done, 1);
	ck_assert_int_eq(r->ehlo.reply.code, 250);
	ck_assert_str_eq(r->ehlo.reply.text, "250-mx.example Hello");
	ck_assert_int_eq(r->ehlo.ncaps, 4);
	ck_assert_str_eq(r->ehlo.caps[1], "STARTTLS");
	ck_assert_str_eq(r->ehlo.caps[2], "SIZE");
	ck_assert_str_eq(r->ehlo.caps[3], "AUTH");
	ck_assert_int_eq(r->starttls, TP_STARTTLS_OFFERED);
	free(r);
}
END_TEST

START_TEST(test_ehlo_masked_and_not_offered)
{
	static const char *const masked[] = {"250-mx", "250-XXXXXXXA", "250 8BITMIME"};
	static const char *const plain[] = {"250-mx", "250 PIPELINING"};
	static const char *const both[] = {"250-mx", "250-XXXXXXXA", "250 STARTTLS"};
	struct tp_probe_result *r = calloc(1, sizeof(*r));

	ehlo(r, masked, 3, 1);
	ck_assert_int_eq(r->starttls, TP_STARTTLS_MASKED);
	ck_assert_str_eq(r->masked_as, "XXXXXXXA");
	ehlo(r, plain, 2, 1);
	ck_assert_int_eq(r->starttls, TP_STARTTLS_NOT_OFFERED);
	ck_assert_str_eq(r->masked_as, "");
	ehlo(r, both, 3, 1);
	ck_assert_int_eq(r->starttls, TP_STARTTLS_OFFERED);
	free(r);
}
END_TEST

START_TEST(test_ehlo_after_tls)
{
	static const char *const l[] = {"250-mx", "250-REQUIRETLS", "250 XXXXXXXA"};
	struct tp_probe_result *r = calloc(1, sizeof(*r));

	ehlo(r, l, 3, 0);
	ck_assert_int_eq(r->requiretls, 1);
	ck_assert_int_eq(r->starttls, TP_STARTTLS_UNKNOWN);	/* only before TLS */
	ck_assert_int_eq(r->ehlo_tls.ncaps, 2);
	free(r);
}
END_TEST

START_TEST(test_ehlo_hostile)
{
	char	longkw[100], many[TP_PROBE_CAPS_MAX + 10][16];
	const char *l[TP_PROBE_CAPS_MAX + 10];
	struct tp_probe_result *r = calloc(1, sizeof(*r));

	memset(longkw, 'A', sizeof(longkw) - 1);
	longkw[sizeof(longkw) - 1] = 0;
	memcpy(longkw, "250-", 4);
	l[0] = "250-mx\x1b[2J";
	l[1] = "250-AB\x01" "C";
	l[2] = longkw;			/* a keyword too long: skipped */
	l[3] = "250";			/* too short to hold a keyword */
	l[4] = "250 =x";		/* empty keyword */
	ehlo(r, l, 5, 1);
	ck_assert_ptr_null(strchr(r->ehlo.reply.text, '\x1b'));
	ck_assert_int_eq(r->ehlo.ncaps, 1);
	ck_assert_ptr_null(strchr(r->ehlo.caps[0], '\x01'));
	ck_assert_int_eq(r->starttls, TP_STARTTLS_NOT_OFFERED);
	for (int i = 0; i < TP_PROBE_CAPS_MAX + 10; i++) {
		snprintf(many[i], sizeof(many[i]), "250-K%d", i);
		l[i] = many[i];
	}
	ehlo(r, l, TP_PROBE_CAPS_MAX + 10, 1);
	ck_assert_int_eq(r->ehlo.ncaps, TP_PROBE_CAPS_MAX);
	free(r);
}
END_TEST

/* ---- names, dest: rules, MTA-STS ------------------------------------ */

START_TEST(test_name_covers)
{
	ck_assert_int_eq(tp_probe_name_covers("*.e2e.test", "mx.e2e.test"), 1);
	ck_assert_int_eq(tp_probe_name_covers("mx.e2e.test", "*.e2e.test"), 1);
	ck_assert_int_eq(tp_probe_name_covers("MX.E2E.test", "mx.e2e.TEST"), 1);
	ck_assert_int_eq(tp_probe_name_covers("*.e2e.test", "*.e2e.test"), 1);
	ck_assert_int_eq(tp_probe_name_covers("*.e2e.test", "a.b.e2e.test"), 0);
	ck_assert_int_eq(tp_probe_name_covers("*.e2e.test", "e2e.test"), 0);
	ck_assert_int_eq(tp_probe_name_covers("mx.e2e.test", "mx2.e2e.test"), 0);
}
END_TEST

/* session - a result as of a STARTTLS session with a verified certificate */

static struct tp_probe_result *
session(void)
{
	struct tp_probe_result *r = calloc(1, sizeof(*r));

	r->connect = TP_CONNECT_OK;
	r->mode = TP_MODE_PLAIN;
	r->banner.code = 220;
	r->tls.tried = r->tls.ok = r->tls.peer_tls = 1;
	snprintf(r->tls.version, sizeof(r->tls.version), "TLSv1.2");
	r->tls.bits = 128;
	r->cert.present = r->cert.verified = 1;
	r->cert.days_left = 100;
	r->cert.nnames = 1;
	snprintf(r->cert.names[0], sizeof(r->cert.names[0]), "mx.example.net");
	snprintf(r->host, sizeof(r->host), "mx.example.net");
	return (r);
}

START_TEST(test_dest_rule)
{
	static const char *const names[] = {"*.example.net"}, *const other[] = {"a.example.org"};
	struct tp_rule rule = {.file = "p.policy",.line = 7,.level = TP_LEVEL_REQUIRE,
	.min_version = TP_TLS_V1_2,.min_bits = 128};
	struct tp_outbound ob = {.rule = &rule,.target = "example.net",
	.verify = TP_DEST_VERIFY_YES,.nnames = 1,.names = names};
	struct tp_probe_result *r = session();

	r->dest.rule = &ob;
	tp_probe_dest_check(r);
	ck_assert_int_eq(r->dest.checked, 1);
	ck_assert_str_eq(r->dest.unmet, "");
	tp_probe_verdicts(r);
	ck_assert_int_eq(has_finding(r, TP_V_DEST_RULE_UNMET), 0);

	memset(&r->dest, 0, sizeof(r->dest));
	r->dest.rule = &ob;
	ob.names = other;
	rule.min_version = TP_TLS_V1_3;
	r->cert.verified = 0;
	tp_probe_dest_check(r);
	ck_assert_ptr_nonnull(strstr(r->dest.unmet, "min_version=TLSv1.3"));
	ck_assert_ptr_nonnull(strstr(r->dest.unmet, "verify=yes"));
	ck_assert_ptr_nonnull(strstr(r->dest.unmet, "cert_subject="));
	tp_probe_verdicts(r);
	ck_assert_int_eq(has_finding(r, TP_V_DEST_RULE_UNMET), 1);
	ck_assert_ptr_nonnull(strstr(r->findings[r->nfindings - 1].detail, "p.policy:7: "));

	memset(&r->dest, 0, sizeof(r->dest));
	r->dest.rule = &ob;
	ob.verify = TP_DEST_VERIFY_DANE;
	rule.min_version = 0;
	tp_probe_dest_check(r);
	ck_assert_str_eq(r->dest.unmet, "verify=dane: no DNSSEC-validated TLSA record matches");

	memset(&r->dest, 0, sizeof(r->dest));
	r->dest.rule = &ob;
	rule.level = TP_LEVEL_PREFER;	/* opportunistic: nothing to fail */
	r->tls.ok = 0;
	tp_probe_dest_check(r);
	ck_assert_str_eq(r->dest.unmet, "");
	free(r);
}
END_TEST

START_TEST(test_sts_verdicts)
{
	static const char body[] = "version: STSv1\nmode: enforce\nmx: *.example.net\n"
	    "max_age: 86400\n";
	struct tp_probe_sts sts = {.found = 1};
	struct tp_probe_result *r = session();
	struct tp_errors errs;

	tp_errors_init(&errs);
	sts.policy = tp_sts_parse(body, sizeof(body) - 1, "test", &errs);
	ck_assert_ptr_nonnull(sts.policy);
	r->sts = &sts;
	r->sts_match = 1;
	tp_probe_verdicts(r);
	ck_assert_int_eq(has_finding(r, TP_V_MTA_STS_MISMATCH), 0);
	r->cert.verified = 0;			/* enforce: the certificate counts */
	tp_probe_verdicts(r);
	ck_assert_int_eq(has_finding(r, TP_V_MTA_STS_MISMATCH), 1);
	r->cert.verified = 1;
	r->sts_match = 0;			/* outside the patterns */
	tp_probe_verdicts(r);
	ck_assert_int_eq(has_finding(r, TP_V_MTA_STS_MISMATCH), 1);
	tp_sts_policy_free(sts.policy);
	sts.policy = NULL;			/* the record, but no policy */
	snprintf(sts.error, sizeof(sts.error), "certificate verify failed");
	tp_probe_verdicts(r);
	ck_assert_int_eq(has_finding(r, TP_V_MTA_STS_UNUSABLE), 1);
	ck_assert_int_eq(has_finding(r, TP_V_MTA_STS_MISMATCH), 0);
	sts.found = -1;				/* a broken record */
	tp_probe_verdicts(r);
	ck_assert_int_eq(has_finding(r, TP_V_MTA_STS_UNUSABLE), 1);
	sts.found = 0;				/* no record: no policy, fine */
	tp_probe_verdicts(r);
	ck_assert_int_eq(has_finding(r, TP_V_MTA_STS_UNUSABLE), 0);
	tp_errors_free(&errs);
	free(r);
}
END_TEST

Suite  *
probe_suite(void)
{
	Suite  *s = suite_create("probe");
	TCase  *tc = tcase_create("probe");

	tcase_add_test(tc, test_verdict_table);
	tcase_add_loop_test(tc, test_masked_keyword, 0,
			    (int) (sizeof(mask_cases) / sizeof(mask_cases[0])));
	tcase_add_test(tc, test_ehlo_offered);
	tcase_add_test(tc, test_ehlo_masked_and_not_offered);
	tcase_add_test(tc, test_ehlo_after_tls);
	tcase_add_test(tc, test_ehlo_hostile);
	tcase_add_test(tc, test_name_covers);
	tcase_add_test(tc, test_dest_rule);
	tcase_add_test(tc, test_sts_verdicts);
	suite_add_tcase(s, tc);
	return (s);
}
