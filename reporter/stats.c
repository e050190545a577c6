/*
 * NAME
 *	stats 3
 * SUMMARY
 *	the daemon's counters, and the status file tlspolicyctl reads
 * DESCRIPTION
 *	See tp_stats.h.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reporter/tp_stats.h"

static const char *const decision_names[TP_STAT_DECISIONS] = {
	"pass", "refused", "testing", "quarantine", "tag", "unmet_prefer",
	"skip", "exempt", "error",
};
static const char *const outcome_names[TP_STAT_OUTCOMES] = {
	"accepted", "quarantined", "rejected", "tempfailed", "aborted",
};

/* tp_stats_decision - count one recipient decision */

void
tp_stats_decision(struct tp_stats *st, const struct tp_record_rcpt *r)
{
	enum tp_stat_decision d;

	if (r->error)
		d = TP_STAT_ERROR;
	else if (r->result == TP_RESULT_FAIL)
		d = r->testing ? TP_STAT_TESTING : r->refused ? TP_STAT_REFUSED
		    : r->action == TP_ACTION_QUARANTINE ? TP_STAT_QUARANTINE : TP_STAT_TAG;
	else
		d = r->result == TP_RESULT_PASS ? TP_STAT_PASS
		    : r->result == TP_RESULT_UNMET ? TP_STAT_UNMET
		    : r->result == TP_RESULT_SKIP ? TP_STAT_SKIP : TP_STAT_EXEMPT;
	atomic_fetch_add_explicit(&st->decisions[d], 1, memory_order_relaxed);
}

/* tp_stats_message - count one message by its outcome */

void
tp_stats_message(struct tp_stats *st, const char *outcome)
{
	for (int i = 0; i < TP_STAT_OUTCOMES; i++)
		if (outcome != NULL && strcmp(outcome, outcome_names[i]) == 0)
			atomic_fetch_add_explicit(&st->messages[i], 1, memory_order_relaxed);
}

/* rfc3339 - a time as 2026-11-22T21:05:27Z */

static const char *
rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (buf);
}

/* tp_stats_write - the status file, replaced atomically; -1 with errno */

int
tp_stats_write(const struct tp_stats *st, const char *path,
	       const struct tp_stats_extra *x)
{
	char	tmp[4096];
	char	t1[32], t2[32];
	FILE   *fp;
	int	fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = mkstemp(tmp)) < 0)
		return (-1);
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return (-1);
	}
	fprintf(fp, "# tlspolicy-milter status; see tlspolicyctl status\n");
	fprintf(fp, "pid=%ld\nstarted=%s\nwritten=%s\n", (long)getpid(),
		rfc3339(st->started, t1, sizeof(t1)), rfc3339(time(NULL), t2, sizeof(t2)));
	fprintf(fp, "policy_file=%s\npolicy_generation=%lu\n", x->policy_file, x->policy_generation);
	fprintf(fp, "reloads=%lu\nreloads_failed=%lu\n", atomic_load(&st->reloads),
		atomic_load(&st->reloads_failed));
	for (int i = 0; i < TP_STAT_DECISIONS; i++)
		fprintf(fp, "decisions_%s=%lu\n", decision_names[i], atomic_load(&st->decisions[i]));
	for (int i = 0; i < TP_STAT_OUTCOMES; i++)
		fprintf(fp, "messages_%s=%lu\n", outcome_names[i], atomic_load(&st->messages[i]));
	fprintf(fp, "audit_log=%s\naudit_written=%llu\naudit_lost=%llu\n",
		x->audit_log ? x->audit_log : "none", x->audit_written, x->audit_lost);
	if (fchmod(fd, 0644) != 0 || fclose(fp) != 0 || rename(tmp, path) != 0) {
		int	saved = errno;

		unlink(tmp);
		errno = saved;
		return (-1);
	}
	return (0);
}

/* tp_stats_summary - the counters as one log line */

size_t
tp_stats_summary(const struct tp_stats *st, const struct tp_stats_extra *x,
		 char *buf, size_t size)
{
	size_t	len = 0;
	int	n;

	n = snprintf(buf, size, "stats policy_generation=%lu reloads=%lu reloads_failed=%lu",
		     x->policy_generation, atomic_load(&st->reloads), atomic_load(&st->reloads_failed));
	len = n > 0 ? (size_t)n : 0;
	for (int i = 0; i < TP_STAT_DECISIONS && len < size; i++) {
		n = snprintf(buf + len, size - len, " %s=%lu", decision_names[i],
			     atomic_load(&st->decisions[i]));
		len += n > 0 ? (size_t)n : 0;
	}
	if (len < size) {
		n = snprintf(buf + len, size - len, " audit_written=%llu audit_lost=%llu",
			     x->audit_written, x->audit_lost);
		len += n > 0 ? (size_t)n : 0;
	}
	return (len < size ? len : size - 1);
}
