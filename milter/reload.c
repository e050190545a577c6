/*
 * NAME
 *	reload 3
 * SUMMARY
 *	the daemon's policy in force: load, reload on SIGUSR1, log
 * DESCRIPTION
 *	See tp_reload.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "milter/tp_log.h"
#include "milter/tp_reload.h"
#include "policy/tp_holder.h"

static struct tp_holder holder;

#define SETTLE_MS	200		/* a file being written changes within */
#define SETTLE_TRIES	5		/* intervals before giving up */

/* same_file - same inode, size and modification time */

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return (a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size
		&& a->st_mtim.tv_sec == b->st_mtim.tv_sec
		&& a->st_mtim.tv_nsec == b->st_mtim.tv_nsec);
}

/* last_byte_is_newline - does the file end a line? 1, 0, -1: error */

static int
last_byte_is_newline(const char *path, const struct stat *st)
{
	char	c = '\n';
	int	fd;
	ssize_t	n;

	if (st->st_size == 0)
		return (1);			/* empty: no line to finish */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return (-1);
	n = pread(fd, &c, 1, st->st_size - 1);
	close(fd);
	/* Nothing there (it shrank since stat): no finished last line. */
	return (n == 1 ? c == '\n' : n == 0 ? 0 : -1);
}

/*
 * file_settled - is the policy file finished? A file that an editor or a
 * copy is still writing would parse as the part written so far, and a
 * line cut short can be a valid rule of its own (min_version=TLSv1 cut
 * from TLSv1.3). So the file must keep its inode, size and modification
 * time over SETTLE_MS (tried SETTLE_TRIES times), and end with a newline.
 * 0, or -1 with the reason logged. What cannot be stat'ed or is not a
 * plain file is for the loader to report.
 */

static int
file_settled(const char *path)
{
	const struct timespec pause = {0, SETTLE_MS * 1000000L};
	struct stat before, after;
	int	nl;

	if (stat(path, &after) != 0 || !S_ISREG(after.st_mode))
		return (0);
	for (int tries = 0; tries < SETTLE_TRIES; tries++) {
		before = after;
		nanosleep(&pause, NULL);
		if (stat(path, &after) != 0 || !S_ISREG(after.st_mode))
			return (0);
		if (!same_file(&before, &after))
			continue;
		if ((nl = last_byte_is_newline(path, &after)) < 0) {
			tp_log(LOG_ERR, "%s: %s", path, strerror(errno));
			return (-1);
		}
		if (nl == 0) {
			tp_log(LOG_ERR, "%s: last line has no newline: still being written?", path);
			return (-1);
		}
		return (0);
	}
	tp_log(LOG_ERR, "%s: still changing after %d ms (size, time or inode): "
	       "still being written?", path, SETTLE_MS * SETTLE_TRIES);
	return (-1);
}

/*
 * included_settled - were the files that a fresh policy includes finished?
 * They are known only once the main file is read, so each must be as it
 * was when read SETTLE_MS later, and end with a newline. 0, or -1 with
 * the reason logged. The holder calls this before it takes a policy.
 */

static int
included_settled(const struct tp_policy *p)
{
	const struct timespec pause = {0, SETTLE_MS * 1000000L};
	size_t	n = tp_policy_file_count(p);
	struct stat st;
	int	nl;

	if (n > 1)
		nanosleep(&pause, NULL);
	for (size_t i = 1; i < n; i++) {
		const char *path = tp_policy_file_at(p, i);

		if (tp_policy_file_changed(p, i) != 0 || stat(path, &st) != 0) {
			tp_log(LOG_ERR, "%s: changed while it was read: still being written?", path);
			return (-1);
		}
		if ((nl = last_byte_is_newline(path, &st)) <= 0) {
			tp_log(LOG_ERR, "%s: %s", path, nl < 0 ? strerror(errno)
			       : "last line has no newline: still being written?");
			return (-1);
		}
	}
	return (0);
}

/* log_errors - every error of a refused file */

static void
log_errors(const char *path, const struct tp_errors *errs)
{
	for (size_t i = 0; i < errs->kept; i++)
		tp_log(LOG_ERR, "%s", errs->msgs[i]);
	if (errs->count > errs->kept)
		tp_log(LOG_ERR, "%s: %zu more errors not shown", path, errs->count - errs->kept);
	if (errs->count == 0)		/* refused by included_settled() */
		tp_log(LOG_ERR, "%s: policy refused", path);
	else
		tp_log(LOG_ERR, "%s: %zu error%s; policy refused", path, errs->count,
		       errs->count == 1 ? "" : "s");
}

/* log_loaded - what a policy holds */

static void
log_loaded(void)
{
	struct tp_policy_summary s;
	unsigned long gen;
	struct tp_policy *p = tp_holder_get(&holder, &gen);

	tp_policy_summarize(p, &s);
	tp_log(LOG_INFO, "policy %s loaded: %zu rules (sender %zu, rcpt %zu, "
	       "client address %zu, client name %zu, dest %zu: not for the milter), "
	       "%zu files, default %s; generation %lu in force",
	       holder.path, s.rules, s.by_kind[TP_KIND_SENDER], s.by_kind[TP_KIND_RCPT],
	       s.by_kind[TP_KIND_CLIENT_ADDR], s.by_kind[TP_KIND_CLIENT_NAME],
	       s.by_kind[TP_KIND_DEST], tp_policy_file_count(p),
	       tp_level_name(s.default_level), gen);
	tp_policy_unref(p);
}

/* tp_policy_start - the first policy */

int
tp_policy_start(const char *path)
{
	struct tp_errors errs;
	int	rc;

	if (file_settled(path) < 0) {
		tp_log(LOG_ERR, "%s: policy refused", path);
		return (-1);
	}
	tp_errors_init(&errs);
	if ((rc = tp_holder_init_vetted(&holder, path, included_settled, &errs)) < 0)
		log_errors(path, &errs);
	else
		log_loaded();
	tp_errors_free(&errs);
	return (rc);
}

/* tp_current_policy - a reference to the policy in force */

struct tp_policy *
tp_current_policy(unsigned long *generation)
{
	return (tp_holder_get(&holder, generation));
}

/* tp_policy_reload - replace the policy if the file is good */

int
tp_policy_reload(void)
{
	struct tp_errors errs;
	unsigned long gen;
	int	rc;

	if (file_settled(holder.path) < 0) {
		tp_policy_unref(tp_holder_get(&holder, &gen));
		tp_log(LOG_ERR, "reload failed: keeping policy generation %lu", gen);
		return (-1);
	}
	tp_errors_init(&errs);
	if ((rc = tp_holder_reload(&holder, &errs, &gen)) < 0) {
		log_errors(holder.path, &errs);
		tp_log(LOG_ERR, "reload failed: keeping policy generation %lu", gen);
	} else {
		log_loaded();
	}
	tp_errors_free(&errs);
	return (rc < 0 ? -1 : 0);
}

/* tp_policy_stop - drop the daemon's own reference at exit */

void
tp_policy_stop(void)
{
	tp_holder_free(&holder);
}
