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
 *	with its age, or with --prometheus the Prometheus text the
 *	daemon's metrics file holds, made from the status file's metric
 *	samples by the same table (tp_metrics(3h)). See usage() below,
 *	which is also its --help.
 *
 *	tp_status_read() reads what apply needs of the file into st: the
 *	pid, the policy file and generation in force, the successful and
 *	the failed reloads. It returns 0, or -1 with errno set (ENOMSG:
 *	the file is there but has no policy_generation line). Lines
 *	longer than STATUS_LINE_MAX or with NUL bytes are ignored.
 * DIAGNOSTICS
 *	To standard error: "tlspolicyctl status: FILE: why", with a hint
 *	that the daemon may not be running or not writing the file;
 *	"FILE:LINE: what is wrong" for a metric sample that is not a
 *	number.
 */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl/tp_ctl.h"
#include "reporter/tp_metrics.h"
#include "util/tp_escape.h"
#include "util/tp_lines.h"

#define EXIT_UNREADABLE	2		/* no status file */
#define STATUS_LINES_MAX 1000		/* 25 lines of summary, metric samples */
#define STATUS_LINE_MAX	1024
#define METRIC_PREFIX	"tlspolicy_"	/* a metric sample's line */

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl status [--status FILE] [--prometheus]\n"
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
"      --prometheus   print the counters in the Prometheus text format\n"
"                     instead: the same text the daemon writes to its\n"
"                     metrics_file, from the same moment (see\n"
"                     tlspolicy-milter(8), METRICS)\n"
"  -h, --help         this text\n"
"\n"
"Exit status:\n"
"  0 the status was printed; 2 the status file cannot be read, or (with\n"
"  --prometheus) holds no metrics or a bad one; 64 usage error.\n", TP_DEFAULT_STATUS);
}

/* open_status - the status file, or NULL with the reason on stderr */

static FILE *
open_status(const char *path, struct stat *st)
{
	FILE   *fp = fopen(path, "r");

	if (fp == NULL || fstat(fileno(fp), st) != 0) {
		fprintf(stderr, "tlspolicyctl status: %s: %s (is tlspolicy-milter running, "
			"with stats_file set?)\n", path, strerror(errno));
		if (fp)
			fclose(fp);
		return (NULL);
	}
	return (fp);
}

/*
 * print_status - the file with its age, its comment lines and metric
 * samples (for --prometheus) left out
 */

static int
print_status(const char *path)
{
	char	line[STATUS_LINE_MAX];
	struct stat st;
	FILE   *fp;
	int	lines = 0;

	if ((fp = open_status(path, &st)) == NULL)
		return (EXIT_UNREADABLE);
	printf("# %s, written %ld seconds ago\n", path, (long)(time(NULL) - st.st_mtime));
	while (fgets(line, sizeof(line), fp) != NULL && lines++ < STATUS_LINES_MAX)
		if (line[0] != '#' && strncmp(line, METRIC_PREFIX, strlen(METRIC_PREFIX)) != 0)
			fputs(line, stdout);
	fclose(fp);
	return (0);
}

/*
 * read_lines - each line of a status file that is whole (not longer than
 * STATUS_LINE_MAX, no NUL byte) to fn, with its number, until fn says
 * stop (< 0); that value, or 0
 */

static int
read_lines(FILE *fp, int (*fn) (char *line, int lineno, void *arg), void *arg)
{
	char	line[STATUS_LINE_MAX + 1];
	size_t	len;
	int	lineno = 0, rc = 0;

	while (rc >= 0 && lineno++ < STATUS_LINES_MAX
	       && tp_read_line(fp, line, sizeof(line), &len) == 0)
		if (len < STATUS_LINE_MAX && memchr(line, 0, len) == NULL)
			rc = fn(line, lineno, arg);
	return (rc < 0 ? rc : 0);
}

/* What --prometheus reads of the status file. */
struct metric_read {
	const char *path;
	struct tp_stats_snap snap;
	bool	seen;			/* a metric sample at all */
};

/* metric_line - a sample line ("tlspolicy_...=N") into the snapshot */

static int
metric_line(char *line, int lineno, void *arg)
{
	struct metric_read *mr = arg;
	char   *value = strrchr(line, '=');
	char	shown[64];
	int	rc;

	/* A sample's labels are in the key: its value follows the last "=". */
	if (strncmp(line, METRIC_PREFIX, strlen(METRIC_PREFIX)) != 0 || value == NULL)
		return (0);
	*value++ = 0;
	if ((rc = tp_metrics_status_line(&mr->snap, line, value)) < 0) {
		fprintf(stderr, "%s:%d: %s: not a number: \"%s\"\n", mr->path, lineno, line,
			tp_escape_term(value, shown, sizeof(shown)));
		return (-1);
	}
	mr->seen |= rc > 0;
	return (0);
}

/* print_prometheus - the status file's metric samples as Prometheus text */

static int
print_prometheus(const char *path)
{
	struct metric_read mr;
	struct stat st;
	struct tp_buf b;
	char   *text;
	FILE   *fp;
	int	rc;

	memset(&mr, 0, sizeof(mr));
	mr.path = path;
	if ((fp = open_status(path, &st)) == NULL)
		return (EXIT_UNREADABLE);
	rc = read_lines(fp, metric_line, &mr);
	fclose(fp);
	if (rc < 0)
		return (EXIT_UNREADABLE);
	if (!mr.seen) {
		fprintf(stderr, "tlspolicyctl status: %s has no metrics (written by a "
			"tlspolicy-milter older than this tlspolicyctl?)\n", path);
		return (EXIT_UNREADABLE);
	}
	if ((text = malloc(TP_METRICS_TEXT_MAX)) == NULL) {
		fprintf(stderr, "tlspolicyctl status: out of memory\n");
		return (EXIT_UNREADABLE);
	}
	b = (struct tp_buf) TP_BUF(text, TP_METRICS_TEXT_MAX);
	tp_metrics_format(&mr.snap, &b);
	fwrite(b.buf, 1, b.len, stdout);
	free(text);
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

/* status_line - one "key=value" line into st (a struct tp_status) */

static int
status_line(char *line, int lineno, void *arg)
{
	struct tp_status *st = arg;
	char   *value = strchr(line, '=');
	unsigned long n;

	(void)lineno;
	if (line[0] == '#' || value == NULL)
		return (0);
	*value++ = 0;
	if (strcmp(line, "policy_file") == 0)
		snprintf(st->policy_file, sizeof(st->policy_file), "%s", value);
	else if (number(value, &n) < 0)
		return (0);
	else if (strcmp(line, "pid") == 0)
		st->pid = (long)n;
	else if (strcmp(line, "policy_generation") == 0) {
		st->generation = n;
		st->has_generation = 1;
	} else if (strcmp(line, "reloads") == 0)
		st->reloads = n;
	else if (strcmp(line, "reloads_failed") == 0)
		st->reloads_failed = n;
	return (0);
}

/* tp_status_read - what apply needs of the status file: 0, or -1 */

int
tp_status_read(const char *path, struct tp_status *st)
{
	FILE   *fp;

	memset(st, 0, sizeof(*st));
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	read_lines(fp, status_line, st);
	fclose(fp);
	if (!st->has_generation) {
		errno = ENOMSG;
		return (-1);
	}
	return (0);
}

/* tp_status_main - tlspolicyctl status [--status FILE] [--prometheus] */

int
tp_status_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"status", required_argument, NULL, 's'},
		{"prometheus", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = TP_DEFAULT_STATUS;
	bool	prometheus = false;
	int	c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 's')
			path = optarg;
		else if (c == 'p')
			prometheus = true;
		else if (c == 'h') {
			usage(stdout);
			return (0);
		} else
			return (tp_ctl_option_error("status", TP_CTL_EXIT_USAGE, c, argv));
	}
	if (optind < argc)
		return (tp_ctl_usage_error("status", TP_CTL_EXIT_USAGE, "unexpected argument",
					   argv[optind]));
	return (prometheus ? print_prometheus(path) : print_status(path));
}
