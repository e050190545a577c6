/*
 * NAME
 *	tlspolicyctl 8
 * SUMMARY
 *	check a TLS policy file, explain its decisions
 * SYNOPSIS
 *	tlspolicyctl check [-f POLICY]
 *	tlspolicyctl explain [-f POLICY] --client IP --sender ADDR
 *		--rcpt ADDR [--rcpt ADDR ...] [TLS options]
 *	tlspolicyctl report [--since T] [--domain D] [--json] AUDITLOG...
 *	tlspolicyctl status [--status FILE]
 * DESCRIPTION
 *	The admin's view of the engine: the same library the milter
 *	uses, so what explain prints is what the milter would do. See
 *	tlspolicyctl(8) and usage() below for every option.
 * EXIT STATUS
 *	0 fine (check: valid; explain: every recipient accepted),
 *	1 explain: at least one recipient refused (reject or tempfail),
 *	2 the policy file has errors or cannot be read, 64 usage error.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "policy/tp_policy.h"
#include "ctl/tp_report.h"

#define EXIT_REFUSED	1
#define EXIT_POLICY	2
#define EXIT_USAGE	64
#define MAX_RCPTS	100

static const char *default_policy = TP_SYSCONFDIR "/tlspolicy/policy.conf";
static const char *default_status = TP_RUNSTATEDIR "/tlspolicy/status";

/* usage - the whole manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl COMMAND [OPTIONS]\n"
"\n"
"Check a tlspolicy policy file and explain what the milter decides.\n"
"\n"
"Commands:\n"
"  check     [-f POLICY]\n"
"            Validate the policy file. Prints a one-line summary and exits 0,\n"
"            or prints every error as FILE:LINE: what is wrong and exits 2.\n"
"\n"
"  explain   [-f POLICY] --client IP [--client-name HOST] --sender ADDR\n"
"            --rcpt ADDR [--rcpt ADDR ...] [TLS options] [--dry-run]\n"
"            For each recipient: the rules that matched (FILE:LINE), the\n"
"            effective level, each check with its reason, the decision and\n"
"            the SMTP reply the milter would send. Without --tls-version\n"
"            the session is plaintext.\n"
"\n"
"  report    [--since T] [--domain D] [--json] AUDITLOG...\n"
"            Summarize audit logs (plain or gzip): per sender domain,\n"
"            recipient domain and client, messages, share over TLS, versions,\n"
"            strength, verification, STARTTLS vs implicit, and for prefer or\n"
"            testing domains what require would have rejected (\"ready to\n"
"            enforce: yes/no\"). See tlspolicyctl report --help.\n"
"\n"
"  status    [--status FILE]\n"
"            Print the running daemon's counters (decisions by result,\n"
"            messages by outcome, reloads, policy generation, audit records\n"
"            written and lost) from its status file, with its age. The\n"
"            daemon writes it every stats_interval seconds and on SIGUSR2.\n"
"\n"
"Options:\n"
"  -f, --policy FILE       policy file (default %s)\n"
"      --client IP         connecting client's IPv4 or IPv6 address\n"
"      --client-name HOST  client host name as verified by the MTA\n"
"                          (omit it for an unverified or unknown name)\n"
"      --sender ADDR       envelope sender; \"<>\" or \"\" for the null sender\n"
"      --rcpt ADDR         envelope recipient; repeat for several\n"
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
"      --dry-run           as the milter's dry_run: every rule in testing mode\n"
"      --recipient-delimiter CHARS  as the milter's recipient_delimiter\n"
"                          (Postfix's; default +, \"\" for none)\n"
"      --status FILE       status file (default %s)\n"
"  -h, --help              this text\n"
"  -V, --version           print the version\n"
"\n"
"Exit status: 0 valid policy / every recipient accepted; 1 at least one\n"
"recipient refused (reject or tempfail); 2 the policy file (or the status\n"
"file) has errors or cannot be read; 64 usage error.\n", default_policy, default_status);
}

/* load_or_report - load the policy, or print every error */

static struct tp_policy *
load_or_report(const char *path)
{
	struct tp_errors errs;
	struct tp_policy *p;

	tp_errors_init(&errs);
	if ((p = tp_policy_load(path, &errs)) == NULL) {
		for (size_t i = 0; i < errs.kept; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		if (errs.count > errs.kept)
			fprintf(stderr, "%s: %zu more errors not shown\n", path,
				errs.count - errs.kept);
		fprintf(stderr, "%s: %zu error%s; policy refused\n", path,
			errs.count, errs.count == 1 ? "" : "s");
	}
	tp_errors_free(&errs);
	return (p);
}

/* cmd_check - validate and summarize */

static int
cmd_check(const char *path)
{
	struct tp_policy_summary s;
	struct tp_policy *p;

	if ((p = load_or_report(path)) == NULL)
		return (EXIT_POLICY);
	tp_policy_summarize(p, &s);
	printf("%s: OK: %zu rule%s (sender %zu, rcpt %zu, client address %zu, "
	       "client name %zu); default level %s%s\n", path, s.rules,
	       s.rules == 1 ? "" : "s", s.by_kind[TP_KIND_SENDER],
	       s.by_kind[TP_KIND_RCPT], s.by_kind[TP_KIND_CLIENT_ADDR],
	       s.by_kind[TP_KIND_CLIENT_NAME], tp_level_name(s.default_level),
	       s.has_default ? "" : " (no default rule)");
	tp_policy_unref(p);
	return (0);
}

/* Everything explain was told on its command line. */
struct explain_args {
	const char *client;
	const char *client_name;
	const char *sender;
	const char *rcpts[MAX_RCPTS];
	size_t	nrcpts;
	const char *verify;
	int	implicit;
	int	dry_run;
	const char *rcpt_delimiter;	/* NULL: the engine's default */
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

/* print_decision - one recipient, in full */

static int
print_decision(const char *rcpt, const struct tp_query *q,
	       const struct tp_decision *d)
{
	char	text[TP_REASON_MAX + 128];
	int	refused = d->result == TP_RESULT_FAIL && !d->testing
	    && (d->action == TP_ACTION_REJECT || d->action == TP_ACTION_TEMPFAIL);

	printf("\nRecipient %s\n  matched rules\n", rcpt);
	if (d->nrules == 0)
		printf("    (none, and no default rule)\n");
	for (size_t i = 0; i < d->nrules; i++) {
		tp_rule_format(d->rules[i], text, sizeof(text));
		printf("    %s:%u  %s\n", d->rules[i]->file, (unsigned)d->rules[i]->line, text);
	}
	printf("  level         %s\n", tp_level_name(d->level));
	if (d->level == TP_LEVEL_REQUIRE || d->level == TP_LEVEL_PREFER) {
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
	printf("  result        %s\n", tp_result_name(d->result));
	printf("  reason        %s\n", d->reason);
	if (d->decider)
		printf("  decided by    %s:%u (%s)\n", d->decider->file,
		       (unsigned)d->decider->line, d->decider->selector);
	printf("  milter does   %s\n", outcome(d, text, sizeof(text)));
	if (d->result == TP_RESULT_FAIL && (d->action == TP_ACTION_REJECT
					    || d->action == TP_ACTION_TEMPFAIL))
		printf("  SMTP reply    %s%s %s %s\n", d->testing ? "(not sent) " : "",
		       d->reply_code, d->reply_xcode, d->reply_text);
	else
		printf("  SMTP reply    250 (accepted at RCPT TO)\n");
	return (refused);
}

/* cmd_explain - decide every recipient and show the work */

static int
cmd_explain(const char *path, struct explain_args *a)
{
	struct tp_tls_state *tls = a->tls.version ? &a->tls : NULL;
	struct tp_policy *p;
	int	refused = 0;

	if ((p = load_or_report(path)) == NULL)
		return (EXIT_POLICY);
	if (tls != NULL) {
		tls->how = a->implicit ? TP_TLS_HOW_IMPLICIT : TP_TLS_HOW_STARTTLS;
		tls->version_id = tp_tls_version_parse(tls->version);
		tls->verify = a->verify ? tp_verify_parse(a->verify)
		    : (tls->cert_subject || tls->cert_issuer) ? TP_VERIFY_OK : TP_VERIFY_NONE;
		tls->verify_raw = a->verify;
	}
	printf("Policy          %s\n", path);
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
		refused |= print_decision(a->rcpts[i], &q, &d);
	}
	tp_policy_unref(p);
	return (refused ? EXIT_REFUSED : 0);
}

/* cmd_status - the daemon's status file, with its age */

static int
cmd_status(const char *path)
{
	char	line[1024];
	struct stat st;
	FILE   *fp = fopen(path, "r");
	int	lines = 0;

	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		fprintf(stderr, "tlspolicyctl: %s: %s (is tlspolicy-milter running, with "
			"stats_file set?)\n", path, strerror(errno));
		if (fp)
			fclose(fp);
		return (EXIT_POLICY);
	}
	printf("# %s, written %ld seconds ago\n", path, (long)(time(NULL) - st.st_mtime));
	while (fgets(line, sizeof(line), fp) != NULL && lines++ < 200)
		if (line[0] != '#')
			fputs(line, stdout);
	fclose(fp);
	return (0);
}

enum {
	OPT_STATUS = 255,
	OPT_CLIENT = 256, OPT_CLIENT_NAME, OPT_SENDER, OPT_RCPT, OPT_TLS_VERSION,
	OPT_CIPHER, OPT_BITS, OPT_VERIFY, OPT_SUBJECT, OPT_ISSUER, OPT_IMPLICIT,
	OPT_DRY_RUN, OPT_DELIMITER,
};

static const struct option options[] = {
	{"policy", required_argument, NULL, 'f'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
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
	{"status", required_argument, NULL, OPT_STATUS},
	{NULL, 0, NULL, 0},
};

/* bad_usage - complain, point at --help */

static int
bad_usage(const char *what)
{
	fprintf(stderr, "tlspolicyctl: %s\nTry 'tlspolicyctl --help'.\n", what);
	return (EXIT_USAGE);
}

/* parse_bits - --bits N */

static int
parse_bits(const char *text, int *bits)
{
	char   *end;
	long	n = strtol(text, &end, 10);

	if (*text == 0 || *end != 0 || n < 0 || n > 65535)
		return (-1);
	*bits = (int)n;
	return (0);
}

/* explain_option - store one explain option; -1 on a bad value */

static int
explain_option(int c, const char *arg, struct explain_args *a, int *tls_opts)
{
	switch (c) {
	case OPT_CLIENT: a->client = arg; break;
	case OPT_CLIENT_NAME: a->client_name = arg; break;
	case OPT_SENDER: a->sender = arg; break;
	case OPT_RCPT:
		if (a->nrcpts == MAX_RCPTS)
			return (-1);
		a->rcpts[a->nrcpts++] = arg;
		break;
	case OPT_TLS_VERSION: a->tls.version = arg; break;
	case OPT_CIPHER: a->tls.cipher = arg; (*tls_opts)++; break;
	case OPT_BITS: (*tls_opts)++; return (parse_bits(arg, &a->tls.bits));
	case OPT_VERIFY: a->verify = arg; (*tls_opts)++; break;
	case OPT_SUBJECT: a->tls.cert_subject = arg; (*tls_opts)++; break;
	case OPT_ISSUER: a->tls.cert_issuer = arg; (*tls_opts)++; break;
	case OPT_IMPLICIT: a->implicit = 1; (*tls_opts)++; break;
	case OPT_DRY_RUN: a->dry_run = 1; break;
	case OPT_DELIMITER: a->rcpt_delimiter = arg; break;
	default: return (-1);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	const char *policy = default_policy;
	const char *status = default_status;
	const char *cmd;
	struct explain_args a;
	int	tls_opts = 0;
	int	c;

	memset(&a, 0, sizeof(a));
	a.tls.bits = -1;
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return (0);
	}
	if (argc >= 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("tlspolicyctl %s\n", PACKAGE_VERSION);
		return (0);
	}
	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return (tp_report_main(argc - 1, argv + 1));
	if (argc < 2 || argv[1][0] == '-')
		return (bad_usage("missing command (check, explain, report or status)"));
	cmd = argv[1];
	if (strcmp(cmd, "check") != 0 && strcmp(cmd, "explain") != 0
	    && strcmp(cmd, "status") != 0)
		return (bad_usage("unknown command (expected check, explain, report or status)"));
	optind = 2;
	while ((c = getopt_long(argc, argv, "f:hV", options, NULL)) != -1) {
		if (c == 'f')
			policy = optarg;
		else if (c == OPT_STATUS)
			status = optarg;
		else if (c == 'h') {
			usage(stdout);
			return (0);
		} else if (c == 'V') {
			printf("tlspolicyctl %s\n", PACKAGE_VERSION);
			return (0);
		} else if (c == '?' || strcmp(cmd, "explain") != 0)
			return (bad_usage(c == '?' ? "bad option" : "check takes only -f POLICY, status only --status FILE"));
		else if (explain_option(c, optarg, &a, &tls_opts) < 0)
			return (bad_usage(c == OPT_RCPT ? "too many --rcpt options" : "--bits takes a number"));
	}
	if (optind < argc)
		return (bad_usage("unexpected argument"));
	if (strcmp(cmd, "check") == 0)
		return (cmd_check(policy));
	if (strcmp(cmd, "status") == 0)
		return (cmd_status(status));
	if (a.client == NULL || a.sender == NULL || a.nrcpts == 0)
		return (bad_usage("explain needs --client, --sender and at least one --rcpt"));
	if (tls_opts > 0 && a.tls.version == NULL)
		return (bad_usage("TLS options need --tls-version (without it the session is plaintext)"));
	return (cmd_explain(policy, &a));
}
