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

/*
 * The summary's decision buckets: what a recipient decision came to,
 * whatever the rule's level (the status file's decisions_* lines).
 */
enum bucket {
	PASS, REFUSED, TESTING, QUARANTINE, TAG, UNMET, SKIP, EXEMPT, ERROR, BUCKETS,
};
static const char *const bucket_names[BUCKETS] = {
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
	size_t	level = r->error ? 0 : (size_t)r->level + 1;
	size_t	result = r->error ? TP_STAT_RESULT_ERROR : (size_t)r->result;
	bool	fail = !r->error && r->result == TP_RESULT_FAIL;
	size_t	action = fail ? (size_t)r->action + 1 : 0;
	size_t	testing = fail && r->testing;

	if (level < TP_STAT_LEVELS && result < TP_STAT_RESULTS && action < TP_STAT_ACTIONS)
		atomic_fetch_add_explicit(&st->decisions[level][result][action][testing], 1,
					  memory_order_relaxed);
}

/* tp_stats_message - count one message by its outcome */

void
tp_stats_message(struct tp_stats *st, const char *outcome)
{
	for (int i = 0; i < TP_STAT_OUTCOMES; i++)
		if (outcome != NULL && strcmp(outcome, outcome_names[i]) == 0)
			atomic_fetch_add_explicit(&st->messages[i], 1, memory_order_relaxed);
}

/* tp_stats_session - count one session by how it used TLS, and which */

void
tp_stats_session(struct tp_stats *st, const struct tp_tls_state *tls)
{
	size_t	how = (size_t)tls->how;
	size_t	version = tls->version_id < TP_TLS_UNKNOWN ? 0
	    : (size_t)(tls->version_id - TP_TLS_UNKNOWN);

	if (how >= TP_STAT_HOWS)
		return;
	atomic_fetch_add_explicit(&st->sessions[how], 1, memory_order_relaxed);
	if (tls->how != TP_TLS_HOW_NONE && version < TP_STAT_VERSIONS)
		atomic_fetch_add_explicit(&st->tls_versions[version], 1, memory_order_relaxed);
}

/* tp_stats_reload - count one policy reload */

void
tp_stats_reload(struct tp_stats *st, bool ok)
{
	atomic_fetch_add_explicit(&st->reloads[ok ? TP_STAT_RELOAD_OK : TP_STAT_RELOAD_FAILED], 1,
				  memory_order_relaxed);
}

/* copy - n counters into a snapshot */

static void
copy(const atomic_ulong *from, unsigned long long *to, size_t n)
{
	for (size_t i = 0; i < n; i++)
		to[i] = atomic_load_explicit(&from[i], memory_order_relaxed);
}

/* tp_stats_snapshot - the counters now, the rest zero */

void
tp_stats_snapshot(const struct tp_stats *st, struct tp_stats_snap *snap)
{
	memset(snap, 0, sizeof(*snap));
	copy(&st->decisions[0][0][0][0], &snap->decisions[0][0][0][0],
	     sizeof(snap->decisions) / sizeof(snap->decisions[0][0][0][0]));
	copy(st->messages, snap->messages, TP_STAT_OUTCOMES);
	copy(st->sessions, snap->sessions, TP_STAT_HOWS);
	copy(st->tls_versions, snap->tls_versions, TP_STAT_VERSIONS);
	copy(st->reloads, snap->reloads, TP_STAT_RELOADS);
	snap->started = st->started > 0 ? (unsigned long long)st->started : 0;
}

/* tp_stats_outcome_name - the name of outcome i, or NULL */

const char *
tp_stats_outcome_name(size_t i)
{
	return (i < TP_STAT_OUTCOMES ? outcome_names[i] : NULL);
}

/* bucket_of - the summary's bucket of a decision cell */

static enum bucket
bucket_of(size_t result, size_t action, size_t testing)
{
	switch (result) {
	case TP_RESULT_PASS:
		return (PASS);
	case TP_RESULT_UNMET:
		return (UNMET);
	case TP_RESULT_SKIP:
		return (SKIP);
	case TP_RESULT_EXEMPT:
		return (EXEMPT);
	case TP_RESULT_FAIL:
		/* Refused at RCPT TO: what callbacks.c refuses (not testing). */
		return (testing ? TESTING : action == TP_ACTION_QUARANTINE + 1 ? QUARANTINE
			: action == TP_ACTION_TAG + 1 ? TAG : REFUSED);
	}
	return (ERROR);
}

/* buckets - the decision counters summed into the summary's buckets */

static void
buckets(const struct tp_stats_snap *snap, unsigned long long sum[BUCKETS])
{
	memset(sum, 0, BUCKETS * sizeof(sum[0]));
	for (size_t l = 0; l < TP_STAT_LEVELS; l++)
		for (size_t r = 0; r < TP_STAT_RESULTS; r++)
			for (size_t a = 0; a < TP_STAT_ACTIONS; a++)
				for (size_t t = 0; t < TP_STAT_TESTING; t++)
					sum[bucket_of(r, a, t)] += snap->decisions[l][r][a][t];
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

/* tp_stats_status - the status file's summary lines */

void
tp_stats_status(const struct tp_stats_snap *snap, struct tp_buf *b)
{
	unsigned long long sum[BUCKETS];
	char	t1[32], t2[32];

	buckets(snap, sum);
	tp_buf_addf(b, "# tlspolicy-milter status; see tlspolicyctl status\n");
	tp_buf_addf(b, "pid=%ld\nstarted=%s\nwritten=%s\n", snap->pid,
		    rfc3339((time_t)snap->started, t1, sizeof(t1)), rfc3339(time(NULL), t2, sizeof(t2)));
	tp_buf_addf(b, "policy_file=%s\npolicy_generation=%llu\n",
		    snap->policy_file ? snap->policy_file : "", snap->policy_generation);
	tp_buf_addf(b, "reloads=%llu\nreloads_failed=%llu\n", snap->reloads[TP_STAT_RELOAD_OK],
		    snap->reloads[TP_STAT_RELOAD_FAILED]);
	for (int i = 0; i < BUCKETS; i++)
		tp_buf_addf(b, "decisions_%s=%llu\n", bucket_names[i], sum[i]);
	for (int i = 0; i < TP_STAT_OUTCOMES; i++)
		tp_buf_addf(b, "messages_%s=%llu\n", outcome_names[i], snap->messages[i]);
	tp_buf_addf(b, "audit_log=%s\naudit_written=%llu\naudit_lost=%llu\n",
		    snap->audit_log ? snap->audit_log : "none", snap->audit[TP_STAT_AUDIT_WRITTEN],
		    snap->audit[TP_STAT_AUDIT_LOST]);
}

/* tp_stats_replace - replace a file atomically; -1 with errno */

int
tp_stats_replace(const char *path, const char *text, size_t len)
{
	char	tmp[4096];
	int	fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = mkstemp(tmp)) < 0)
		return (-1);
	for (size_t done = 0; done < len;) {
		ssize_t	n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fchmod(fd, 0644) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == 0)
		return (0);
	fd = -1;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return (-1);
}

/* tp_stats_summary - the counters as one log line */

size_t
tp_stats_summary(const struct tp_stats_snap *snap, char *buf, size_t size)
{
	unsigned long long sum[BUCKETS];
	struct tp_buf b = TP_BUF(buf, size);

	buckets(snap, sum);
	tp_buf_addf(&b, "stats policy_generation=%llu reloads=%llu reloads_failed=%llu",
		    snap->policy_generation, snap->reloads[TP_STAT_RELOAD_OK],
		    snap->reloads[TP_STAT_RELOAD_FAILED]);
	for (int i = 0; i < BUCKETS; i++)
		tp_buf_addf(&b, " %s=%llu", bucket_names[i], sum[i]);
	tp_buf_addf(&b, " audit_written=%llu audit_lost=%llu", snap->audit[TP_STAT_AUDIT_WRITTEN],
		    snap->audit[TP_STAT_AUDIT_LOST]);
	return (b.len);
}
