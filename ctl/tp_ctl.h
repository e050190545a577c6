#ifndef TP_CTL_H
#define TP_CTL_H

/*
 * NAME
 *	tp_ctl 3h
 * SUMMARY
 *	inside tlspolicyctl: the commands and what they share
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_check_main(int argc, char **argv);		check.c
 *	int	tp_explain_main(int argc, char **argv);		explain.c
 *	int	tp_status_main(int argc, char **argv);		status.c
 *	int	tp_apply_main(int argc, char **argv);		apply.c
 *	int	tp_export_main(int argc, char **argv);		export.c
 *	int	tp_probe_main(int argc, char **argv);		probe.c
 *	int	tp_import_main(int argc, char **argv);		import.c
 *
 *	struct tp_policy *tp_check_load(const char *path);	check.c
 *	void	tp_check_summary(const char *path,
 *				 const struct tp_policy *p);	check.c
 *	int	tp_status_read(const char *path,
 *			       struct tp_status *st);		status.c
 *
 *	int	tp_ctl_usage_error(const char *cmd, int status,
 *				   const char *what, const char *detail);
 *	int	tp_ctl_option_error(const char *cmd, int status, int c,
 *				    char **argv);
 *	int	tp_ctl_number(const char *text, long min, long max,
 *			      long *n);				options.c
 * DESCRIPTION
 *	main.c dispatches "tlspolicyctl CMD ARGS..." to CMD's function
 *	(tp_report_main() is in tp_report.h) with argv[0] = CMD. Each
 *	command parses its own options (getopt_long from optind = 0),
 *	prints its own --help, and returns its exit status.
 *
 *	tp_check_load() is the check command's whole verdict: the policy,
 *	or NULL after every error went to stderr as FILE:LINE: what.
 *	explain and apply load through it, so they refuse what check does.
 *	tp_check_summary() prints check's one-line verdict on a valid one.
 *
 *	tp_status_read() reads the daemon's status file: see status.c.
 *
 *	tp_ctl_usage_error() prints "tlspolicyctl CMD: what[: detail]" and
 *	a pointer to CMD --help, and returns status. tp_ctl_option_error()
 *	does so for what getopt_long() returned on a bad option (':' a
 *	missing value, anything else unknown; opterr must be 0 and the
 *	option string start with ':'). tp_ctl_number() reads a decimal
 *	integer in [min, max], the whole string: 0, or -1.
 * MEMORY
 *	tp_check_load(): the caller releases the policy (tp_policy_unref).
 */

#include <stdio.h>

#include "policy/tp_policy.h"
#include "util/tp_paths.h"

#define TP_CTL_EXIT_USAGE	64	/* EX_USAGE: check, explain, ... */

/* What apply reads of the daemon's status file. */
struct tp_status {
	long	pid;			/* 0: no pid line */
	char	policy_file[1024];	/* as the daemon was given it */
	unsigned long generation;	/* of the policy in force */
	int	has_generation;
	unsigned long reloads;		/* successful, since it started */
	unsigned long reloads_failed;
};

extern int tp_check_main(int, char **);
extern int tp_explain_main(int, char **);
extern int tp_status_main(int, char **);
extern int tp_apply_main(int, char **);
extern int tp_export_main(int, char **);
extern int tp_probe_main(int, char **);
extern int tp_import_main(int, char **);

extern struct tp_policy *tp_check_load(const char *);
extern void tp_check_summary(const char *, const struct tp_policy *);
extern int tp_status_read(const char *, struct tp_status *);

extern int tp_ctl_usage_error(const char *, int, const char *, const char *);
extern int tp_ctl_option_error(const char *, int, int, char **);
extern int tp_ctl_number(const char *, long, long, long *);

/* A command whose only option names a file (tp_ctl_file_option). */
struct tp_ctl_file_opt {
	const char *name;		/* long option, e.g. "policy" */
	int	letter;			/* what getopt returns for it */
	const char *shortopts;		/* ":" first, e.g. ":f:h" */
	void	(*usage) (FILE *);	/* --help */
};
extern int tp_ctl_file_option(const char *, int, char **,
			      const struct tp_ctl_file_opt *, const char **);

#endif
