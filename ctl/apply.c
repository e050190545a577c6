/*
 * NAME
 *	apply 3
 * SUMMARY
 *	tlspolicyctl apply: change the policy of a running daemon, safely
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_apply_main(int argc, char **argv);
 * DESCRIPTION
 *	"tlspolicyctl apply -f NEW" puts a new policy in force without a
 *	moment of a bad or half-written policy file:
 *
 *	1. NEW is checked as tlspolicyctl check does (tp_check_load());
 *	   any error refuses it before anything is touched.
 *	2. The daemon must be there: its pid file must be locked (the
 *	   daemon holds an fcntl lock on it for as long as it runs), and
 *	   it must write a status file, where apply sees the reload.
 *	3. NEW is copied into a temporary file in the live file's
 *	   directory (through a symlink: its target's), given the live
 *	   file's mode and owner, fsync'd, and renamed over the live file;
 *	   the directory is fsync'd. Readers see the old file or the new
 *	   one, whole. A copy of the old file is kept beside it until
 *	   the end.
 *	4. SIGUSR1 to the daemon: it reloads the file and, right after,
 *	   rewrites its status file (milter/signals.c, reporter/stats.c).
 *	5. apply waits until the status file, written by that pid, counts
 *	   one more reload, successful (a new policy generation) or failed.
 *	   A daemon that has not written the file since it started has not
 *	   reloaded either (every reload writes it): its counts are zero.
 *	   If the daemon refused the file (or could not be signalled), the
 *	   old file goes back in place, so that the live file is the
 *	   policy in force; if it did not answer in time, NEW stays, for
 *	   the daemon may yet load it.
 *
 *	Paths come from the daemon's configuration file (policy, pidfile,
 *	stats_file), or its built-in defaults, unless options name them.
 *	See usage() below, which is also the command's --help.
 * DIAGNOSTICS
 *	NEW's errors as FILE:LINE: what is wrong; the rest as plain
 *	sentences on standard error, saying what was changed and what
 *	not. The exit status tells the outcome (see usage()).
 * BUGS
 *	The status file has no reload error text: on a refusal apply
 *	points at the daemon's log.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/tp_ctl.h"
#include "util/tp_conf.h"
#include "util/tp_errors.h"

#define EXIT_REFUSED	1		/* NEW has errors: nothing changed */
#define EXIT_USAGE	2
#define EXIT_DAEMON	3		/* no daemon, or it did not take NEW */
#define EXIT_INSTALL	4		/* NEW could not be put in place */

#define TIMEOUT_DEFAULT	10		/* seconds */
#define TIMEOUT_MAX	3600
#define POLL_NS		50000000L	/* between looks at the status file */

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl apply -f NEW [-c CONFIG] [--policy PATH] [--pidfile PATH]\n"
"           [--status-file PATH] [--timeout SECONDS]\n"
"\n"
"Put the policy file NEW in force in the running tlspolicy-milter, safely:\n"
"  1. check NEW as tlspolicyctl check does; on any error, stop there;\n"
"  2. make sure the daemon runs (its pid file is locked) and writes a\n"
"     status file (stats_file), where the reload can be seen;\n"
"  3. copy NEW over the live policy file atomically: a temporary file in\n"
"     the same directory, with the live file's mode and owner, fsync,\n"
"     rename;\n"
"  4. send the daemon SIGUSR1 (reload);\n"
"  5. wait until its status file counts the reload, and say whether the\n"
"     daemon took the new policy (a new policy generation) or refused it;\n"
"     if it refused it, put the old file back.\n"
"\n"
"Options:\n"
"  -f, --file NEW         the new policy file (required)\n"
"  -c, --config CONFIG    the daemon's configuration, for the three paths\n"
"                         below (default %s;\n"
"                         if it does not exist, the daemon's defaults)\n"
"      --policy PATH      the live policy file [policy]\n"
"                         (default %s)\n"
"      --pidfile PATH     the daemon's pid file [pidfile]\n"
"                         (default %s)\n"
"      --status-file PATH the daemon's status file [stats_file]\n"
"                         (default %s)\n"
"      --timeout SECONDS  how long to wait for the reload (1 to %d,\n"
"                         default %d)\n"
"  -h, --help             this text\n"
"\n"
"Exit status:\n"
"  0 applied: the daemon runs the new policy;\n"
"  1 refused by the check: NEW has errors, nothing was changed;\n"
"  2 usage error (or CONFIG cannot be read), nothing was changed;\n"
"  3 the daemon did not take it: it is not running or writes no status\n"
"    file (nothing was changed), or it refused the new file (the old file\n"
"    is put back), or it did not report a reload in time (the live file\n"
"    holds the new policy then, for the daemon's next reload or start);\n"
"  4 the new file could not be put in place: nothing was changed.\n"
"\n"
"Example:\n"
"  tlspolicyctl apply -f /etc/tlspolicy/policy.conf.new\n",
		TP_DEFAULT_CONFIG, TP_DEFAULT_POLICY, TP_DEFAULT_PIDFILE,
		TP_DEFAULT_STATUS, TIMEOUT_MAX, TIMEOUT_DEFAULT);
}

/* The daemon's settings that apply needs, read from its own file. */
struct apply_conf {
	char   *policy;
	char   *pidfile;
	char   *stats_file;
};

#define KEY(name, field) {name, TP_CONF_STRING, offsetof(struct apply_conf, field), 0}
static const struct tp_conf_key conf_keys[] = {
	KEY("policy", policy),
	KEY("pidfile", pidfile),
	KEY("stats_file", stats_file),
	{NULL, 0, 0, 0},
};

/* Everything one apply works with. */
struct apply {
	const char *new_file;		/* -f */
	const char *config;		/* -c, or the default */
	int	config_given;
	const char *policy;		/* the live file, as configured */
	const char *pidfile;
	const char *stats_file;
	long	timeout;		/* seconds */
	char	live[PATH_MAX];		/* the file to replace: policy, resolved */
	char	staged[PATH_MAX + 8];	/* NEW beside it, until renamed */
	char	backup[PATH_MAX + 8];	/* the old live file, until done */
	long	pid;			/* the daemon's */
	struct tp_status base;		/* its counts before the reload */
};

static int apply_error(int, const char *,...)
	__attribute__((format(printf, 2, 3)));

/* apply_error - one plain sentence on stderr; the exit status */

static int
apply_error(int status, const char *fmt,...)
{
	va_list	ap;

	fprintf(stderr, "tlspolicyctl apply: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return (status);
}

/*
 * read_conf - the three paths from the daemon's file. Only three of the
 * daemon's keys are apply's; the others read as unknown here and are
 * ignored, as is whatever else is wrong with the file: the daemon
 * reports that itself, and would not be running with it.
 */

static int
read_conf(struct apply *a, struct apply_conf *conf)
{
	struct tp_errors errs;

	if (access(a->config, R_OK) != 0) {
		if (errno == ENOENT && !a->config_given)
			return (0);		/* the daemon's defaults, then */
		return (apply_error(EXIT_USAGE, "%s: %s", a->config, strerror(errno)));
	}
	tp_errors_init(&errs);
	(void)tp_conf_load(a->config, conf_keys, conf, &errs);
	tp_errors_free(&errs);
	if (a->policy == NULL)
		a->policy = conf->policy;
	if (a->pidfile == NULL)
		a->pidfile = conf->pidfile;
	if (a->stats_file == NULL)
		a->stats_file = conf->stats_file;
	return (0);
}

/* daemon_pid - the pid of a daemon that holds its pid file: 0, or -1 */

static int
daemon_pid(const char *path, long *pid, char *why, size_t whylen)
{
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char	buf[32];
	ssize_t	n;
	int	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = -1;

	if (fd < 0) {
		int	missing = errno == ENOENT;

		snprintf(why, whylen, "pid file %s: %s%s", path, strerror(errno),
			 missing ? " (in the foreground, as under systemd, the daemon "
			 "writes one only when pidfile is set)" : "");
		return (-1);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (tp_ctl_number(buf, 2, INT_MAX, pid) < 0)
		snprintf(why, whylen, "pid file %s holds no process id", path);
	else if (fcntl(fd, F_GETLK, &lk) < 0)
		snprintf(why, whylen, "pid file %s: %s", path, strerror(errno));
	else if (lk.l_type == F_UNLCK)
		snprintf(why, whylen, "pid file %s is stale: no process holds its lock "
			 "(pid %ld has stopped)", path, *pid);
	else
		rc = 0;
	close(fd);
	return (rc);
}

/* find_daemon - the daemon, its counts, and a check that its file is ours */

static int
find_daemon(struct apply *a)
{
	char	why[PATH_MAX + 128];
	struct stat ours, theirs;

	if (*a->stats_file == 0)
		return (apply_error(EXIT_DAEMON, "the daemon writes no status file "
				    "(stats_file is empty), so apply cannot see it reload; "
				    "nothing was changed"));
	if (daemon_pid(a->pidfile, &a->pid, why, sizeof(why)) < 0)
		return (apply_error(EXIT_DAEMON, "tlspolicy-milter is not running: %s; "
				    "nothing was changed", why));
	/* Not written since the daemon started: it has not reloaded yet. */
	if (tp_status_read(a->stats_file, &a->base) < 0 || a->base.pid != a->pid)
		memset(&a->base, 0, sizeof(a->base));
	if (a->base.policy_file[0] == '/' && stat(a->base.policy_file, &theirs) == 0
	    && stat(a->live, &ours) == 0
	    && (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino))
		return (apply_error(EXIT_DAEMON, "the daemon reads %s, not %s; nothing was "
				    "changed (see --policy)", a->base.policy_file, a->live));
	return (0);
}

/* copy - every byte of one file to another: 0, or -1 with errno */

static int
copy(FILE *in, FILE *out)
{
	char	buf[65536];
	size_t	n;

	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			return (-1);
	return (ferror(in) || fflush(out) != 0 ? -1 : 0);
}

/* sync_dir - make a rename in path's directory durable */

static int
sync_dir(const char *path)
{
	char	dir[PATH_MAX];
	char   *slash;
	int	fd, rc;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

/* same_owner - the mode and owner of the file it replaces, or 0644 */

static int
same_owner(int fd, const char *live)
{
	struct stat st;

	if (stat(live, &st) != 0)
		return (fchmod(fd, 0644));
	if (fchmod(fd, st.st_mode & 07777) < 0)
		return (-1);
	return (geteuid() == 0 ? fchown(fd, st.st_uid, st.st_gid) : 0);
}

/*
 * stage - a copy of src in a new temporary file beside live, with live's
 * mode and owner (the daemon, maybe another user, must read it as it read
 * the old one), on disk: 0, or -1 with a sentence in why.
 */

static int
stage(const char *src, const char *live, char *tmp, size_t tmpsize,
      char *why, size_t whylen)
{
	FILE   *from, *to = NULL;
	int	fd = -1, rc = -1;

	if ((from = fopen(src, "r")) == NULL) {
		snprintf(why, whylen, "cannot read %s: %s", src, strerror(errno));
		return (-1);
	}
	if (snprintf(tmp, tmpsize, "%s.XXXXXX", live) >= (int)tmpsize)
		errno = ENAMETOOLONG;
	else if ((fd = mkstemp(tmp)) >= 0 && (to = fdopen(fd, "w")) != NULL
		 && copy(from, to) == 0 && same_owner(fd, live) == 0 && fsync(fd) == 0)
		rc = 0;
	if (rc < 0)
		snprintf(why, whylen, "cannot write a temporary file beside %s: %s",
			 live, strerror(errno));
	if (to != NULL)
		fclose(to);
	else if (fd >= 0)
		close(fd);
	if (rc < 0 && fd >= 0)
		unlink(tmp);
	if (rc < 0)
		*tmp = 0;
	fclose(from);
	return (rc);
}

/* discard - remove a temporary file, if there is one */

static void
discard(char *tmp)
{
	if (*tmp != 0)
		unlink(tmp);
	*tmp = 0;
}

/*
 * install - NEW over the live file, atomically, with a copy of the old one
 * kept aside for restore(): 0, or the exit status with nothing changed.
 */

static int
install(struct apply *a)
{
	char	why[2 * PATH_MAX + 64];
	struct stat st;

	if (stage(a->new_file, a->live, a->staged, sizeof(a->staged), why, sizeof(why)) < 0
	    || (stat(a->live, &st) == 0
		&& stage(a->live, a->live, a->backup, sizeof(a->backup), why, sizeof(why)) < 0))
		goto fail;
	if (rename(a->staged, a->live) < 0) {
		snprintf(why, sizeof(why), "cannot replace %s: %s", a->live, strerror(errno));
		goto fail;
	}
	*a->staged = 0;
	(void)sync_dir(a->live);		/* in place already: best effort */
	return (0);
fail:
	discard(a->staged);
	discard(a->backup);
	return (apply_error(EXIT_INSTALL, "%s; nothing was changed", why));
}

/* restore - the old file back in place, when the daemon did not take NEW */

static void
restore(struct apply *a)
{
	if (*a->backup != 0 && rename(a->backup, a->live) == 0) {
		*a->backup = 0;
		(void)sync_dir(a->live);
		fprintf(stderr, "  %s holds the old policy again, as the daemon runs it\n",
			a->live);
	} else
		fprintf(stderr, "  %s holds the new policy, not the one in force\n", a->live);
}

/* monotonic - seconds, for the deadline */

static double
monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/*
 * await_reload - until the daemon's status file counts one more reload:
 * 1 it took the policy, 0 it refused it, -1 time ran out, -2 it exited.
 */

static int
await_reload(const struct apply *a, struct tp_status *now)
{
	struct timespec pause = {0, POLL_NS};
	double	deadline = monotonic() + (double)a->timeout;

	for (;;) {
		if (tp_status_read(a->stats_file, now) == 0 && now->pid == a->pid
		    && now->reloads + now->reloads_failed
		    > a->base.reloads + a->base.reloads_failed)
			return (now->reloads > a->base.reloads ? 1 : 0);
		if (kill((pid_t)a->pid, 0) < 0 && errno == ESRCH)
			return (-2);
		if (monotonic() >= deadline)
			return (-1);
		nanosleep(&pause, NULL);
	}
}

/* reload - signal the daemon, wait, and say what came of it */

static int
reload(struct apply *a)
{
	struct tp_status now;

	if (kill((pid_t)a->pid, SIGUSR1) < 0) {
		apply_error(EXIT_DAEMON, "cannot signal tlspolicy-milter (pid %ld): %s",
			    a->pid, strerror(errno));
		restore(a);
		return (EXIT_DAEMON);
	}
	switch (await_reload(a, &now)) {
	case 1:
		printf("tlspolicy-milter (pid %ld) loaded it: policy generation %lu in force",
		       a->pid, now.generation);
		if (a->base.has_generation)
			printf(" (was %lu)", a->base.generation);
		printf("\n");
		return (0);
	case 0:
		apply_error(EXIT_DAEMON, "tlspolicy-milter (pid %ld) refused the new policy: "
			    "failed reloads %lu, was %lu; policy generation %lu still in force; "
			    "its log says why", a->pid, now.reloads_failed,
			    a->base.reloads_failed, now.generation);
		restore(a);
		return (EXIT_DAEMON);
	case -2:
		apply_error(EXIT_DAEMON, "tlspolicy-milter (pid %ld) exited before it "
			    "reported the reload", a->pid);
		break;
	default:
		apply_error(EXIT_DAEMON, "timed out: tlspolicy-milter (pid %ld) did not report "
			    "a reload within %ld seconds", a->pid, a->timeout);
		break;
	}
	fprintf(stderr, "  %s holds the new policy: the daemon loads it at its next "
		"reload or start (tlspolicyctl status --status %s shows its counters)\n",
		a->live, a->stats_file);
	return (EXIT_DAEMON);
}

/* resolve_live - the file to replace: the policy path, through symlinks */

static void
resolve_live(struct apply *a)
{
	if (realpath(a->policy, a->live) == NULL)
		snprintf(a->live, sizeof(a->live), "%s", a->policy);
}

/* run - check, find the daemon, install, reload: the exit status */

static int
run(struct apply *a)
{
	struct tp_policy *p;
	int	rc;

	if ((p = tp_check_load(a->new_file)) == NULL)
		return (apply_error(EXIT_REFUSED, "%s refused; nothing was changed",
				    a->new_file));
	tp_check_summary(a->new_file, p);
	tp_policy_unref(p);
	resolve_live(a);
	if ((rc = find_daemon(a)) != 0)
		return (rc);
	if ((rc = install(a)) != 0)
		return (rc);
	printf("installed as %s\n", a->live);
	rc = reload(a);
	discard(a->backup);
	return (rc);
}

static const struct option apply_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"config", required_argument, NULL, 'c'},
	{"policy", required_argument, NULL, 'p'},
	{"pidfile", required_argument, NULL, 'P'},
	{"status-file", required_argument, NULL, 's'},
	{"timeout", required_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* options - the command line into a: 0, -1 after --help, or a usage error */

static int
options(int argc, char **argv, struct apply *a)
{
	int	c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:c:h", apply_options, NULL)) != -1) {
		switch (c) {
		case 'f': a->new_file = optarg; break;
		case 'c': a->config = optarg; a->config_given = 1; break;
		case 'p': a->policy = optarg; break;
		case 'P': a->pidfile = optarg; break;
		case 's': a->stats_file = optarg; break;
		case 't':
			if (tp_ctl_number(optarg, 1, TIMEOUT_MAX, &a->timeout) < 0)
				return (tp_ctl_usage_error("apply", EXIT_USAGE,
					"--timeout takes seconds, 1 to 3600", optarg));
			break;
		case 'h':
			usage(stdout);
			return (-1);
		default:
			return (tp_ctl_option_error("apply", EXIT_USAGE, c, argv));
		}
	}
	if (optind < argc)
		return (tp_ctl_usage_error("apply", EXIT_USAGE, "unexpected argument",
					   argv[optind]));
	if (a->new_file == NULL)
		return (tp_ctl_usage_error("apply", EXIT_USAGE, "-f NEW is required", NULL));
	return (0);
}

/* tp_apply_main - tlspolicyctl apply -f NEW [options] */

int
tp_apply_main(int argc, char **argv)
{
	struct apply_conf conf = {NULL, NULL, NULL};
	struct apply *a = calloc(1, sizeof(*a));
	int	rc;

	if (a == NULL)
		return (apply_error(EXIT_INSTALL, "out of memory"));
	a->config = TP_DEFAULT_CONFIG;
	a->timeout = TIMEOUT_DEFAULT;
	if ((rc = options(argc, argv, a)) != 0 || (rc = read_conf(a, &conf)) != 0)
		goto out;
	if (a->policy == NULL)
		a->policy = TP_DEFAULT_POLICY;
	if (a->pidfile == NULL)
		a->pidfile = TP_DEFAULT_PIDFILE;
	if (a->stats_file == NULL)
		a->stats_file = TP_DEFAULT_STATUS;
	rc = run(a);
out:
	tp_conf_free(conf_keys, &conf);
	free(a);
	return (rc < 0 ? 0 : rc);
}
