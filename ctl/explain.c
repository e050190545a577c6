/*
 * NAME
 *	explain 3
 * SUMMARY
 *	tlspolicyctl explain: what the milter decides for one session
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_explain_main(int argc, char **argv);
 * DESCRIPTION
 *	"tlspolicyctl explain": a session described on the command line
 *	(client, sender, recipients, TLS) is decided by the same engine
 *	the milter runs, and every step is printed: the rules that
 *	matched, the level, each check and its reason, the result, what
 *	the milter does and the SMTP reply it sends. With --dest, the
 *	dest: rule for mail this MTA sends to a domain and what it asks
 *	of the MTA. See usage() below, which is also its --help.
 * DIAGNOSTICS
 *	Policy errors as tlspolicyctl check prints them; usage errors as
 *	"tlspolicyctl explain: what".
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl/tp_ctl.h"

#define EXIT_REFUSED	1		/* a recipient would be refused */
#define EXIT_POLICY	2		/* the policy has errors */
#define MAX_RCPTS	100
#define RULE_TEXT_MAX	8192		/* a rule as text: a line and its quoting */

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl explain [-f POLICY] --client IP [--client-name HOST]\n"
"           --sender ADDR --rcpt ADDR [--rcpt ADDR ...] [TLS options] [--dry-run]\n"
"           [--recipient-delimiter CHARS]\n"
"       tlspolicyctl explain [-f POLICY] --dest DOMAIN [--dest DOMAIN ...]\n"
"\n"
"Decide one SMTP session with the milter's own engine and show the work.\n"
"For each recipient: the rules that matched (FILE:LINE and the rule), the\n"
"effective level, each check with its reason, the result, the rule that\n"
"decided, what the milter does and the SMTP reply it would send. Without\n"
"--tls-version the session is plaintext.\n"
"\n"
"With --dest: for mail this MTA sends to DOMAIN, the dest: rule that\n"
"applies (dest:DOMAIN, else dest:.PARENT for the nearest parent; FILE:LINE\n"
"and the rule) and what it demands, in words. The milter never enforces\n"
"dest: rules; the MTA does once they are exported (tlspolicyctl export).\n"
"\n"
"Options:\n"
"  -f, --policy POLICY     the policy file (default %s)\n"
"      --client IP         the connecting client's IPv4 or IPv6 address\n"
"      --client-name HOST  the client's host name as verified by the MTA\n"
"                          (omit it for an unverified or unknown name)\n"
"      --sender ADDR       envelope sender; \"<>\" or \"\" for the null sender\n"
"      --rcpt ADDR         envelope recipient; repeat for several (up to %d)\n"
"      --dest DOMAIN       a domain this MTA sends mail to; repeat for several\n"
"                          (alone: not with the session options)\n"
"      --dry-run           as the milter's dry_run: every rule in testing mode\n"
"      --recipient-delimiter CHARS  as the milter's recipient_delimiter\n"
"                          (Postfix's; default +, \"\" for none)\n"
"  -h, --help              this text\n"
"\n"
"TLS options:\n"
"      --tls-version V     TLS version, as the MTA names it (TLSv1.2, TLSv1.3)\n"
"      --implicit          TLS from connect (port 465) instead of STARTTLS\n"
"      --cipher NAME       cipher name, e.g. TLS_AES_256_GCM_SHA384\n"
"      --bits N            cipher strength in bits\n"
"      --verify RESULT     client certificate verification: OK, FAIL, NONE\n"
"                          (Sendmail's {verify} words); default NONE, or OK\n"
"                          when --cert-subject/--cert-issuer are given, as\n"
"                          Postfix passes them only for verified certificates\n"
"      --cert-subject CN   client certificate subject common name\n"
"      --cert-issuer CN    client certificate issuer common name\n"
"  The other TLS options need --tls-version.\n"
"\n"
"Exit status:\n"
"  0 every recipient accepted (with --dest: every domain explained);\n"
"  1 at least one refused (reject or tempfail); 2 the policy file has errors\n"
"  or cannot be read; 64 usage error (a --dest that is no domain name too).\n",
		TP_DEFAULT_POLICY, MAX_RCPTS);
}

/* Everything explain was told on its command line. */
struct explain_args {
	const char *policy;
	const char *client;
	const char *client_name;
	const char *sender;
	const char *rcpts[MAX_RCPTS];
	size_t	nrcpts;
	const char *dests[MAX_RCPTS];
	size_t	ndests;
	const char *verify;
	int	implicit;
	int	dry_run;
	const char *rcpt_delimiter;	/* NULL: the engine's default */
	int	tls_opts;		/* TLS options other than the version */
	struct tp_tls_state tls;
};

/* print_session - what the session looks like to the engine */

static void
print_session(const struct explain_args *a, const struct tp_tls_state *tls)
{
	printf("Session\n");
	printf("  client        %s%s%s\n", a->client,
	       a->client_name ? " name " : " (no verified name)",
	       a->client_name ? a->client_name : "");
	printf("  sender        %s\n", *a->sender ? a->sender : "<>");
	if (tls == NULL) {
		printf("  TLS           none (plaintext)\n");
		return;
	}
	printf("  TLS           %s via %s, cipher %s, %s%d bits\n",
	       tls->version, tp_tls_how_name(tls->how),
	       tls->cipher ? tls->cipher : "unknown",
	       tls->bits < 0 ? "unknown " : "", tls->bits < 0 ? 0 : tls->bits);
	printf("  certificate   verify %s, subject %s, issuer %s\n",
	       tp_verify_name(tls->verify),
	       tls->cert_subject ? tls->cert_subject : "none",
	       tls->cert_issuer ? tls->cert_issuer : "none");
}

/* outcome - what the milter does with this decision, in words */

static const char *
outcome(const struct tp_decision *d, char *buf, size_t len)
{
	switch (d->result) {
	case TP_RESULT_FAIL:
		if (d->testing)
			snprintf(buf, len, "accept (testing mode: would have %s)",
				 tp_action_past(d->action));
		else
			snprintf(buf, len, "%s", tp_action_name(d->action));
		return (buf);
	case TP_RESULT_UNMET:
		return ("accept (prefer: unmet, recorded)");
	case TP_RESULT_EXEMPT:
		return ("accept (exempt)");
	case TP_RESULT_SKIP:
		return ("accept (nothing to check)");
	case TP_RESULT_PASS:
		break;
	}
	return ("accept");
}

/* print_checks - each require/prefer rule: pass, or why not */

static void
print_checks(const struct tp_query *q, const struct tp_decision *d)
{
	char	text[TP_REASON_MAX + 128];

	printf("  checks\n");
	for (size_t i = 0; i < d->nrules; i++) {
		const struct tp_rule *r = d->rules[i];

		if (r->level < TP_LEVEL_PREFER)
			continue;
		tp_rule_reason(r, d->rule_unmet[i], q, text, sizeof(text));
		if (d->rule_unmet[i] == 0)
			printf("    %s:%u  pass\n", r->file, (unsigned)r->line);
		else
			printf("    %s:%u  %s  %s\n", r->file, (unsigned)r->line,
			       r->level == TP_LEVEL_REQUIRE ? "FAIL" : "unmet", text);
	}
}

/* print_decision - one recipient, in full: 1 if refused */

static int
print_decision(const struct tp_policy *p, const char *rcpt,
	       const struct tp_query *q, const struct tp_decision *d)
{
	char	text[TP_REASON_MAX + 128];
	int	sent = d->result == TP_RESULT_FAIL
	    && (d->action == TP_ACTION_REJECT || d->action == TP_ACTION_TEMPFAIL);

	printf("\nRecipient %s\n  matched rules\n", rcpt);
	if (d->nrules == 0)
		printf("    (none, and no default rule)\n");
	for (size_t i = 0; i < d->nrules; i++) {
		const struct tp_outbound *ob = tp_policy_outbound(p, d->rules[i]);

		/* A starttls=off client rule says so (skip for the milter). */
		if (ob != NULL)
			tp_outbound_format(ob, text, sizeof(text));
		else
			tp_rule_format(d->rules[i], text, sizeof(text));
		printf("    %s:%u  %s\n", d->rules[i]->file, (unsigned)d->rules[i]->line, text);
	}
	printf("  level         %s\n", tp_level_name(d->level));
	if (d->level == TP_LEVEL_REQUIRE || d->level == TP_LEVEL_PREFER)
		print_checks(q, d);
	printf("  result        %s\n", tp_result_name(d->result));
	printf("  reason        %s\n", d->reason);
	if (d->decider)
		printf("  decided by    %s:%u (%s)\n", d->decider->file,
		       (unsigned)d->decider->line, d->decider->selector);
	printf("  milter does   %s\n", outcome(d, text, sizeof(text)));
	if (sent)
		printf("  SMTP reply    %s%s %s %s\n", d->testing ? "(not sent) " : "",
		       d->reply_code, d->reply_xcode, d->reply_text);
	else
		printf("  SMTP reply    250 (accepted at RCPT TO)\n");
	return (sent && !d->testing);
}

/* explain - decide every recipient and show the work: the exit status */

static int
explain(struct explain_args *a)
{
	struct tp_tls_state *tls = a->tls.version ? &a->tls : NULL;
	struct tp_policy *p;
	int	refused = 0;

	if ((p = tp_check_load(a->policy)) == NULL)
		return (EXIT_POLICY);
	if (tls != NULL) {
		tls->how = a->implicit ? TP_TLS_HOW_IMPLICIT : TP_TLS_HOW_STARTTLS;
		tls->version_id = tp_tls_version_parse(tls->version);
		tls->verify = a->verify ? tp_verify_parse(a->verify)
		    : (tls->cert_subject || tls->cert_issuer) ? TP_VERIFY_OK : TP_VERIFY_NONE;
		tls->verify_raw = a->verify;
	}
	printf("Policy          %s\n", a->policy);
	print_session(a, tls);
	for (size_t i = 0; i < a->nrcpts; i++) {
		struct tp_query q = {a->client, a->client_name, a->sender, a->rcpts[i],
		tls, a->dry_run, a->rcpt_delimiter};
		struct tp_decision d;

		if (tp_policy_decide(p, &q, &d) < 0) {
			printf("\nRecipient %s\n  error         %s\n  milter does   tempfail (451 4.3.0)\n",
			       a->rcpts[i], d.reason);
			refused = 1;
			continue;
		}
		refused |= print_decision(p, a->rcpts[i], &q, &d);
	}
	tp_policy_unref(p);
	return (refused ? EXIT_REFUSED : 0);
}

/* demands - what a dest: rule asks of the MTA, one line each */

static void
demands(const struct tp_outbound *ob)
{
	const struct tp_rule *r = ob->rule;

	if (r->level == TP_LEVEL_SKIP) {
		printf("  demands       no TLS: the MTA sends in plaintext, even to a server that offers STARTTLS\n");
		return;
	}
	if (r->level == TP_LEVEL_PREFER)
		printf("  demands       TLS when the server offers it, else plaintext (opportunistic)\n");
	else
		printf("  demands       TLS on every connection: no TLS, no delivery (the mail waits in the queue)\n");
	if (r->min_version)
		printf("                TLS version %s or later\n", tp_tls_version_name(r->min_version));
	if (r->min_bits)
		printf("                a cipher of at least %u bits\n", r->min_bits);
	if (ob->verify == TP_DEST_VERIFY_DANE)
		printf("                DANE only (RFC 7672): the server's TLSA records, in DNSSEC-signed DNS,\n"
		       "                must match its certificate; no DANE records, no delivery\n");
	else if (ob->verify == TP_DEST_VERIFY_YES)
		printf("                a server certificate that verifies against the MTA's trusted CAs\n");
	for (size_t i = 0; i < ob->nnames; i++)
		printf("                %s %s%s\n", i == 0 ? "naming" : "    or", ob->names[i],
		       strncmp(ob->names[i], "*.", 2) == 0 ? " (any one label in place of *)" : "");
	if (ob->verify == TP_DEST_VERIFY_YES && ob->nnames == 0)
		printf("                naming what the MTA checks by default (no cert_subject=)\n");
	if (r->testing)
		printf("  mode          testing: not enforced; the MTA sends as if there were no such rule\n");
}

/* explain_dest - the dest: rule for one domain; -1 if it is no name */

static int
explain_dest(const struct tp_policy *p, const char *domain)
{
	const struct tp_outbound *ob;
	const char *why;
	char	text[RULE_TEXT_MAX];

	printf("\nDestination %s\n", domain);
	if (tp_policy_dest_lookup(p, domain, &ob, &why) < 0) {
		printf("  error         not a domain name: %s\n", why);
		return (-1);
	}
	if (ob == NULL) {
		printf("  rule          none: the MTA's own default for outbound TLS applies\n");
		return (0);
	}
	tp_outbound_format(ob, text, sizeof(text));
	printf("  rule          %s:%u  %s\n", ob->rule->file, (unsigned)ob->rule->line, text);
	if (ob->subdomains)
		printf("  applies as    a subdomain of %s\n", ob->target);
	demands(ob);
	return (0);
}

/* explain_dests - every --dest: the exit status */

static int
explain_dests(const struct explain_args *a)
{
	struct tp_policy *p;
	int	bad = 0;

	if (a->client || a->client_name || a->sender || a->nrcpts || a->tls.version
	    || a->tls_opts || a->dry_run || a->rcpt_delimiter)
		return (tp_ctl_usage_error("explain", TP_CTL_EXIT_USAGE,
			"--dest goes alone: not with the options of an SMTP session", NULL));
	if ((p = tp_check_load(a->policy)) == NULL)
		return (EXIT_POLICY);
	printf("Policy          %s\n", a->policy);
	for (size_t i = 0; i < a->ndests; i++)
		bad |= explain_dest(p, a->dests[i]) < 0;
	tp_policy_unref(p);
	return (bad ? TP_CTL_EXIT_USAGE : 0);
}

enum {
	OPT_CLIENT = 256, OPT_CLIENT_NAME, OPT_SENDER, OPT_RCPT, OPT_TLS_VERSION,
	OPT_CIPHER, OPT_BITS, OPT_VERIFY, OPT_SUBJECT, OPT_ISSUER, OPT_IMPLICIT,
	OPT_DRY_RUN, OPT_DELIMITER, OPT_DEST,
};

static const struct option explain_options[] = {
	{"policy", required_argument, NULL, 'f'},
	{"help", no_argument, NULL, 'h'},
	{"client", required_argument, NULL, OPT_CLIENT},
	{"client-name", required_argument, NULL, OPT_CLIENT_NAME},
	{"sender", required_argument, NULL, OPT_SENDER},
	{"rcpt", required_argument, NULL, OPT_RCPT},
	{"tls-version", required_argument, NULL, OPT_TLS_VERSION},
	{"cipher", required_argument, NULL, OPT_CIPHER},
	{"bits", required_argument, NULL, OPT_BITS},
	{"verify", required_argument, NULL, OPT_VERIFY},
	{"cert-subject", required_argument, NULL, OPT_SUBJECT},
	{"cert-issuer", required_argument, NULL, OPT_ISSUER},
	{"implicit", no_argument, NULL, OPT_IMPLICIT},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"recipient-delimiter", required_argument, NULL, OPT_DELIMITER},
	{"dest", required_argument, NULL, OPT_DEST},
	{NULL, 0, NULL, 0},
};

/* tls_option - store one TLS option; -1 on a bad value */

static int
tls_option(int c, const char *arg, struct explain_args *a)
{
	long	bits;

	a->tls_opts++;
	switch (c) {
	case OPT_CIPHER: a->tls.cipher = arg; break;
	case OPT_BITS:
		if (tp_ctl_number(arg, 0, 65535, &bits) < 0)
			return (-1);
		a->tls.bits = (int)bits;
		break;
	case OPT_VERIFY: a->verify = arg; break;
	case OPT_SUBJECT: a->tls.cert_subject = arg; break;
	case OPT_ISSUER: a->tls.cert_issuer = arg; break;
	case OPT_IMPLICIT: a->implicit = 1; break;
	}
	return (0);
}

/* option - store one option: 0, or the exit status of a usage error */

static int
option(int c, const char *arg, struct explain_args *a, char **argv)
{
	switch (c) {
	case 'f': a->policy = arg; break;
	case OPT_CLIENT: a->client = arg; break;
	case OPT_CLIENT_NAME: a->client_name = arg; break;
	case OPT_SENDER: a->sender = arg; break;
	case OPT_DRY_RUN: a->dry_run = 1; break;
	case OPT_DELIMITER: a->rcpt_delimiter = arg; break;
	case OPT_TLS_VERSION: a->tls.version = arg; break;
	case OPT_RCPT:
		if (a->nrcpts == MAX_RCPTS)
			return (tp_ctl_usage_error("explain", TP_CTL_EXIT_USAGE,
						   "too many --rcpt options", NULL));
		a->rcpts[a->nrcpts++] = arg;
		break;
	case OPT_DEST:
		if (a->ndests == MAX_RCPTS)
			return (tp_ctl_usage_error("explain", TP_CTL_EXIT_USAGE,
						   "too many --dest options", NULL));
		a->dests[a->ndests++] = arg;
		break;
	case OPT_CIPHER: case OPT_BITS: case OPT_VERIFY: case OPT_SUBJECT:
	case OPT_ISSUER: case OPT_IMPLICIT:
		if (tls_option(c, arg, a) < 0)
			return (tp_ctl_usage_error("explain", TP_CTL_EXIT_USAGE,
						   "--bits takes a number from 0 to 65535", arg));
		break;
	default:
		return (tp_ctl_option_error("explain", TP_CTL_EXIT_USAGE, c, argv));
	}
	return (0);
}

/* tp_explain_main - tlspolicyctl explain OPTIONS */

int
tp_explain_main(int argc, char **argv)
{
	struct explain_args a;
	int	c, rc;

	memset(&a, 0, sizeof(a));
	a.policy = TP_DEFAULT_POLICY;
	a.tls.bits = -1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:h", explain_options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return (0);
		}
		if ((rc = option(c, optarg, &a, argv)) != 0)
			return (rc);
	}
	if (optind < argc)
		return (tp_ctl_usage_error("explain", TP_CTL_EXIT_USAGE,
					   "unexpected argument", argv[optind]));
	if (a.ndests > 0)
		return (explain_dests(&a));
	if (a.client == NULL || a.sender == NULL || a.nrcpts == 0)
		return (tp_ctl_usage_error("explain", TP_CTL_EXIT_USAGE,
			"explain needs --client, --sender and at least one --rcpt", NULL));
	if (a.tls_opts > 0 && a.tls.version == NULL)
		return (tp_ctl_usage_error("explain", TP_CTL_EXIT_USAGE,
			"TLS options need --tls-version (without it the session is plaintext)", NULL));
	return (explain(&a));
}
