/*
 * NAME
 *	options 3
 * SUMMARY
 *	tlspolicyctl: what every command does with its command line
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_ctl_usage_error(const char *cmd, int status,
 *				   const char *what, const char *detail);
 *	int	tp_ctl_option_error(const char *cmd, int status, int c,
 *				    char **argv);
 *	int	tp_ctl_number(const char *text, long min, long max,
 *			      long *n);
 *
 *	int	tp_ctl_file_option(const char *cmd, int argc, char **argv,
 *				   const struct tp_ctl_file_opt *opt,
 *				   const char **path);
 * DESCRIPTION
 *	One wording for every command's usage errors, one reader of
 *	numeric option values, and one command line for the commands whose
 *	only option names a file (check -f POLICY, status --status FILE):
 *	tp_ctl_file_option() sets *path from it and returns -1 to go on,
 *	or the exit status (0 after --help, a usage error). See tp_ctl.h. This is a module of its own,
 *	apart from main.c, because the commands call it and main.c calls
 *	the commands: the arrows point one way.
 * DIAGNOSTICS
 *	To standard error: "tlspolicyctl CMD: what: detail" and
 *	"Try 'tlspolicyctl CMD --help'."
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl/tp_ctl.h"

/* tp_ctl_usage_error - complain, point at the command's --help */

int
tp_ctl_usage_error(const char *cmd, int status, const char *what,
		   const char *detail)
{
	fprintf(stderr, "tlspolicyctl %s: %s%s%s\nTry 'tlspolicyctl %s --help'.\n",
		cmd, what, detail ? ": " : "", detail ? detail : "", cmd);
	return (status);
}

/* tp_ctl_option_error - what getopt_long() refused, in words */

int
tp_ctl_option_error(const char *cmd, int status, int c, char **argv)
{
	return (tp_ctl_usage_error(cmd, status, c == ':' ? "option needs a value"
				   : "unknown option", argv[optind - 1]));
}

/* tp_ctl_number - a whole decimal number in [min, max]: 0, or -1 */

int
tp_ctl_number(const char *text, long min, long max, long *n)
{
	char   *end;
	long	v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (*text == 0 || *end != 0 || errno != 0 || v < min || v > max)
		return (-1);
	*n = v;
	return (0);
}

/* tp_ctl_file_option - a command line of one FILE option and --help */

int
tp_ctl_file_option(const char *cmd, int argc, char **argv,
		   const struct tp_ctl_file_opt *opt, const char **path)
{
	const struct option longopts[] = {
		{opt->name, required_argument, NULL, opt->letter},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int	c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, opt->shortopts, longopts, NULL)) != -1) {
		if (c == opt->letter)
			*path = optarg;
		else if (c == 'h') {
			opt->usage(stdout);
			return (0);
		} else
			return (tp_ctl_option_error(cmd, TP_CTL_EXIT_USAGE, c, argv));
	}
	if (optind < argc)
		return (tp_ctl_usage_error(cmd, TP_CTL_EXIT_USAGE, "unexpected argument", argv[optind]));
	return (-1);
}
