/*
 * NAME
 *	status 3
 * SUMMARY
 *	tlspolicyctl status: the running daemon's status file
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_status_main(int argc, char **argv);
 * DESCRIPTION
 *	tlspolicy-milter writes its status file (stats_file) every
 *	stats_interval seconds, after every reload (SIGUSR1) and on
 *	SIGUSR2, replacing it atomically (reporter/stats.c), as lines of
 *	"key=value" after a "#" comment line.
 *
 *	tp_status_main() is "tlspolicyctl status": it prints the file
 *	with its age. See usage() below, which is also its --help.
 * DIAGNOSTICS
 *	To standard error: "tlspolicyctl status: FILE: why", with a hint
 *	that the daemon may not be running or not writing the file.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl/tp_ctl.h"

#define EXIT_UNREADABLE	2		/* no status file */
#define STATUS_LINES_MAX 200		/* a status file has about 25 */
#define STATUS_LINE_MAX	1024

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl status [--status FILE]\n"
"\n"
"Print the running tlspolicy-milter's counters from its status file, with\n"
"the file's age: the daemon's pid and start time, the policy file and the\n"
"policy generation in force, reloads and failed reloads, recipient\n"
"decisions by result, messages by outcome, and audit records written and\n"
"lost. The daemon writes the file (stats_file in tlspolicy-milter.conf)\n"
"every stats_interval seconds, after each reload, and on SIGUSR2.\n"
"\n"
"Options:\n"
"      --status FILE  the status file (default %s)\n"
"  -h, --help         this text\n"
"\n"
"Exit status:\n"
"  0 the status was printed; 2 the status file cannot be read; 64 usage\n"
"  error.\n", TP_CTL_DEFAULT_STATUS);
}

/* print_status - the file with its age, its comment lines left out */

static int
print_status(const char *path)
{
	char	line[STATUS_LINE_MAX];
	struct stat st;
	FILE   *fp = fopen(path, "r");
	int	lines = 0;

	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		fprintf(stderr, "tlspolicyctl status: %s: %s (is tlspolicy-milter running, "
			"with stats_file set?)\n", path, strerror(errno));
		if (fp)
			fclose(fp);
		return (EXIT_UNREADABLE);
	}
	printf("# %s, written %ld seconds ago\n", path, (long)(time(NULL) - st.st_mtime));
	while (fgets(line, sizeof(line), fp) != NULL && lines++ < STATUS_LINES_MAX)
		if (line[0] != '#')
			fputs(line, stdout);
	fclose(fp);
	return (0);
}

static const struct option status_options[] = {
	{"status", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* tp_status_main - tlspolicyctl status [--status FILE] */

int
tp_status_main(int argc, char **argv)
{
	const char *path = TP_CTL_DEFAULT_STATUS;
	int	c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", status_options, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			return (tp_ctl_option_error("status", TP_CTL_EXIT_USAGE, c, argv));
		}
	}
	if (optind < argc)
		return (tp_ctl_usage_error("status", TP_CTL_EXIT_USAGE,
					   "unexpected argument", argv[optind]));
	return (print_status(path));
}
