/*
 * NAME
 *	check 3
 * SUMMARY
 *	tlspolicyctl check: is a policy file valid?
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_check_main(int argc, char **argv);
 *	struct tp_policy *tp_check_load(const char *path);
 *	void	tp_check_summary(const char *path,
 *				 const struct tp_policy *p);
 * DESCRIPTION
 *	tp_check_main() is "tlspolicyctl check": it loads the policy file
 *	with the milter's own parser and prints a one-line summary, or
 *	every error; for a valid policy also notes on included rules that
 *	the including file overrides and warnings on starttls=off clients
 *	from which TLS would still be required. See usage() below, which
 *	is also its --help.
 *
 *	tp_check_load() is the verdict alone, for the commands that must
 *	refuse exactly what check refuses (explain, apply), and
 *	tp_check_summary() its one-line summary of a valid policy.
 * DIAGNOSTICS
 *	Every error of the file to standard error as "FILE:LINE: what is
 *	wrong" (at most TP_ERRORS_KEEP, then how many more), and
 *	"FILE: N errors; policy refused".
 * MEMORY
 *	tp_check_load(): the caller releases the policy with
 *	tp_policy_unref().
 */

#include <stdio.h>

#include "ctl/tp_ctl.h"
#include "util/tp_errors.h"

#define EXIT_POLICY	2		/* the file has errors */
#define CONFLICTS_SHOWN	5		/* per starttls=off rule */

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl check [-f POLICY]\n"
"\n"
"Validate a policy file with the milter's own parser, as the milter does\n"
"when it starts or reloads: every rule, every attribute, every address,\n"
"and every file it includes (the set of files is one policy).\n"
"\n"
"Options:\n"
"  -f, --policy POLICY  the policy file (default %s)\n"
"  -h, --help           this text\n"
"\n"
"Output:\n"
"  A valid file: one line, \"POLICY: OK: N rules (sender N, rcpt N, client\n"
"  address N, client name N[, dest N]); default level LEVEL[; N files]\"\n"
"  (dest when it has dest: rules, files when it includes others). Before it, on standard error:\n"
"  FILE:LINE: warning: for each client rule with starttls=off from which a\n"
"  require rule would still ask for TLS (a sender: or rcpt: require rule,\n"
"  or a client: require rule inside its range or domain), naming that\n"
"  rule's FILE:LINE (the first %d, then how many more);\n"
"  FILE:LINE: note: for each rule of an included file that the including\n"
"  file's rule for the same selector overrides.\n"
"  An invalid one: every error on standard error as POLICY:LINE: what is\n"
"  wrong, then \"POLICY: N errors; policy refused\".\n"
"\n"
"Exit status:\n"
"  0 the policy is valid (warnings and notes too); 2 it has errors or cannot\n"
"  be read; 64 usage error.\n",
		TP_DEFAULT_POLICY, CONFLICTS_SHOWN);
}

/* tp_check_load - the policy, or NULL with every error on stderr */

struct tp_policy *
tp_check_load(const char *path)
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

/* tp_check_summary - the one-line verdict on a valid policy */

void
tp_check_summary(const char *path, const struct tp_policy *p)
{
	struct tp_policy_summary s;
	size_t	files = tp_policy_file_count(p);

	tp_policy_summarize(p, &s);
	printf("%s: OK: %zu rule%s (sender %zu, rcpt %zu, client address %zu, "
	       "client name %zu", path, s.rules, s.rules == 1 ? "" : "s",
	       s.by_kind[TP_KIND_SENDER], s.by_kind[TP_KIND_RCPT],
	       s.by_kind[TP_KIND_CLIENT_ADDR], s.by_kind[TP_KIND_CLIENT_NAME]);
	if (s.by_kind[TP_KIND_DEST] > 0)
		printf(", dest %zu", s.by_kind[TP_KIND_DEST]);
	printf("); default level %s%s", tp_level_name(s.default_level),
	       s.has_default ? "" : " (no default rule)");
	if (files > 1)
		printf("; %zu files", files);
	printf("\n");
}

/* warn_starttls - starttls=off clients from which TLS would still be required */

static void
warn_starttls(const struct tp_policy *p)
{
	const struct tp_outbound *off;
	size_t	iter = 0;

	while ((off = tp_policy_starttls_off_next(p, &iter)) != NULL) {
		const struct tp_rule *req[CONFLICTS_SHOWN];
		const struct tp_rule *r = off->rule;
		size_t	n = tp_policy_starttls_conflicts(p, off, req, CONFLICTS_SHOWN);

		for (size_t i = 0; i < n && i < CONFLICTS_SHOWN; i++)
			fprintf(stderr, "%s:%u: warning: %s has starttls=off, but %s:%u "
				"(%s require) would still require TLS of its mail\n",
				r->file, (unsigned)r->line, r->selector, req[i]->file,
				(unsigned)req[i]->line, req[i]->selector);
		if (n > CONFLICTS_SHOWN)
			fprintf(stderr, "%s:%u: warning: %s: %zu more rules would require TLS of its mail\n",
				r->file, (unsigned)r->line, r->selector, n - CONFLICTS_SHOWN);
	}
}

/* note_shadowed - included rules that the including file overrides */

static void
note_shadowed(const struct tp_policy *p)
{
	const struct tp_shadowed *s;
	size_t	n = tp_policy_shadowed(p, &s);

	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s:%u: note: %s is shadowed by %s:%u (the including file's rule applies)\n",
			s[i].file, (unsigned)s[i].line, s[i].selector, s[i].by_file,
			(unsigned)s[i].by_line);
}

/* tp_check_main - tlspolicyctl check [-f POLICY] */

int
tp_check_main(int argc, char **argv)
{
	static const struct tp_ctl_file_opt opt = {"policy", 'f', ":f:h", usage};
	const char *path = TP_DEFAULT_POLICY;
	struct tp_policy *p;
	int	rc;

	if ((rc = tp_ctl_file_option("check", argc, argv, &opt, &path)) >= 0)
		return (rc);
	if ((p = tp_check_load(path)) == NULL)
		return (EXIT_POLICY);
	note_shadowed(p);
	warn_starttls(p);
	tp_check_summary(path, p);
	tp_policy_unref(p);
	return (0);
}
