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
 * DESCRIPTION
 *	One wording for every command's usage errors, and one reader of
 *	numeric option values. See tp_ctl.h. This is a module of its own,
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
