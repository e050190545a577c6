/*
 * NAME
 *	status 3
 * SUMMARY
 *	tlspolicyctl status: the running daemon's status file
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_status_main(int argc, char **argv);
 *	int	tp_status_read(const char *path, struct tp_status *st);
 * DESCRIPTION
 *	tlspolicy-milter writes its status file (stats_file) every
 *	stats_interval seconds, after every reload (SIGUSR1) and on
 *	SIGUSR2, replacing it atomically (reporter/stats.c), as lines of
 *	"key=value" after a "#" comment line.
 *
 *	tp_status_main() is "tlspolicyctl status": it prints the file
 *	with its age. See usage() below, which is also its --help.
 *
 *	tp_status_read() reads what apply needs of the file into st: the
 *	pid, the policy file and generation in force, the successful and
 *	the failed reloads. It returns 0, or -1 with errno set (ENOMSG:
 *	the file is there but has no policy_generation line). Lines
 *	longer than STATUS_LINE_MAX or with NUL bytes are ignored.
 * DIAGNOSTICS
 *	To standard error: "tlspolicyctl status: FILE: why", with a hint
 *	that the daemon may not be running or not writing the file.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl/tp_ctl.h"
#include "util/tp_lines.h"

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
"  error.\n", TP_DEFAULT_STATUS);
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

/* number - a status value: 0, or -1 */

static int
number(const char *text, unsigned long *n)
{
	char   *end;

	errno = 0;
	*n = strtoul(text, &end, 10);
	return (*text < '0' || *text > '9' || *end != 0 || errno ? -1 : 0);
}

/* status_line - one "key=value" line into st */

static void
status_line(char *line, struct tp_status *st)
{
	char   *value = strchr(line, '=');
	unsigned long n;

	if (line[0] == '#' || value == NULL)
		return;
	*value++ = 0;
	if (strcmp(line, "policy_file") == 0)
		snprintf(st->policy_file, sizeof(st->policy_file), "%s", value);
	else if (number(value, &n) < 0)
		return;
	else if (strcmp(line, "pid") == 0)
		st->pid = (long)n;
	else if (strcmp(line, "policy_generation") == 0) {
		st->generation = n;
		st->has_generation = 1;
	} else if (strcmp(line, "reloads") == 0)
		st->reloads = n;
	else if (strcmp(line, "reloads_failed") == 0)
		st->reloads_failed = n;
}

/* tp_status_read - what apply needs of the status file: 0, or -1 */

int
tp_status_read(const char *path, struct tp_status *st)
{
	char	line[STATUS_LINE_MAX + 1];
	size_t	len;
	FILE   *fp;
	int	lines = 0;

	memset(st, 0, sizeof(*st));
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (lines++ < STATUS_LINES_MAX
	       && tp_read_line(fp, line, sizeof(line), &len) == 0)
		if (len < STATUS_LINE_MAX && memchr(line, 0, len) == NULL)
			status_line(line, st);
	fclose(fp);
	if (!st->has_generation) {
		errno = ENOMSG;
		return (-1);
	}
	return (0);
}

/* tp_status_main - tlspolicyctl status [--status FILE] */

int
tp_status_main(int argc, char **argv)
{
	static const struct tp_ctl_file_opt opt = {"status", 's', ":h", usage};
	const char *path = TP_DEFAULT_STATUS;
	int	rc;

	if ((rc = tp_ctl_file_option("status", argc, argv, &opt, &path)) >= 0)
		return (rc);
	return (print_status(path));
}
