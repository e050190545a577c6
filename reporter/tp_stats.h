#ifndef TP_STATS_H
#define TP_STATS_H

/*
 * NAME
 *	tp_stats 3h
 * SUMMARY
 *	the daemon's counters, and the status file tlspolicyctl reads
 * SYNOPSIS
 *	#include "reporter/tp_stats.h"
 *
 *	void	tp_stats_decision(struct tp_stats *st,
 *				  const struct tp_record_rcpt *r);
 *	void	tp_stats_message(struct tp_stats *st, const char *outcome);
 *	void	tp_stats_session(struct tp_stats *st,
 *				 const struct tp_tls_state *tls);
 *	void	tp_stats_reload(struct tp_stats *st, bool ok);
 *	void	tp_stats_snapshot(const struct tp_stats *st,
 *				  struct tp_stats_snap *snap);
 *	const char *tp_stats_outcome_name(size_t i);
 *	void	tp_stats_status(const struct tp_stats_snap *snap,
 *				struct tp_buf *b);
 *	int	tp_stats_replace(const char *path, const char *text,
 *				 size_t len);
 *	size_t	tp_stats_summary(const struct tp_stats_snap *snap,
 *				 char *buf, size_t size);
 * DESCRIPTION
 *	Counters are atomics: any connection thread may count (relaxed:
 *	each counter is exact, and a reader only wants each one's value).
 *	tp_stats_decision() counts a recipient decision by level, result,
 *	action and testing; tp_stats_message() a message by its outcome;
 *	tp_stats_session() a session by how it used TLS and, with TLS, by
 *	its TLS version; tp_stats_reload() a policy reload.
 *
 *	tp_stats_outcome_name() names outcome i (enum tp_stat_outcome) as
 *	tp_stats_message() takes it; NULL past the last.
 *
 *	tp_stats_snapshot() copies the counters into snap, the one form
 *	every output is made from (the status file, the log line, the
 *	Prometheus text of tp_metrics(3h)); the caller fills in what the
 *	daemon knows besides (policy, audit log, up). It takes no lock:
 *	each counter is read whole and never goes back, but a message
 *	being counted as it runs may show in one counter and not yet in
 *	another (its decisions, not yet its outcome) until the next
 *	snapshot, which rates over minutes do not notice. Both files of
 *	one report come from one snapshot, so they always agree.
 *
 *	tp_stats_status() appends the status file's summary to b: a "#"
 *	comment line, then "key=value" lines for admins and for
 *	tlspolicyctl status and apply (tp_metrics_status() adds every
 *	metric sample after it). tp_stats_replace() replaces a file
 *	atomically: a
 *	temporary file in the same directory, mode 0644, renamed over it,
 *	so that a reader sees the old file or the new one, never a part.
 *	There is no fsync: the files are rewritten every stats_interval
 *	and mean nothing after a crash. tp_stats_summary() is the summary
 *	as one syslog line.
 * DIAGNOSTICS
 *	tp_stats_replace() returns 0, or -1 with errno set; the file is
 *	then as it was.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "policy/tp_tls.h"
#include "reporter/tp_record.h"
#include "util/tp_buf.h"

/*
 * Dimensions of the decision counters. Level: none (no decision was
 * made: an error), then enum tp_level + 1. Result: enum tp_result, then
 * error. Action: none (not a failure), then enum tp_action + 1.
 */
#define TP_STAT_LEVELS		(TP_LEVEL_EXEMPT + 2)
#define TP_STAT_RESULT_ERROR	(TP_RESULT_EXEMPT + 1)
#define TP_STAT_RESULTS		(TP_STAT_RESULT_ERROR + 1)
#define TP_STAT_ACTIONS		(TP_ACTION_REJECT + 2)
#define TP_STAT_TESTING		2		/* no, yes */

/* Message outcomes, for counting. */
enum tp_stat_outcome {
	TP_STAT_ACCEPTED, TP_STAT_QUARANTINED, TP_STAT_REJECTED,
	TP_STAT_TEMPFAILED, TP_STAT_ABORTED, TP_STAT_OUTCOMES,
};

#define TP_STAT_HOWS		(TP_TLS_HOW_IMPLICIT + 1)
/* TLS versions: enum tp_tls_version from TP_TLS_UNKNOWN on. */
#define TP_STAT_VERSIONS	(TP_TLS_V1_3 - TP_TLS_UNKNOWN + 1)
enum tp_stat_reload { TP_STAT_RELOAD_OK, TP_STAT_RELOAD_FAILED, TP_STAT_RELOADS };
enum tp_stat_audit { TP_STAT_AUDIT_WRITTEN, TP_STAT_AUDIT_LOST, TP_STAT_AUDITS };

struct tp_stats {
	atomic_ulong decisions[TP_STAT_LEVELS][TP_STAT_RESULTS][TP_STAT_ACTIONS][TP_STAT_TESTING];
	atomic_ulong messages[TP_STAT_OUTCOMES];
	atomic_ulong sessions[TP_STAT_HOWS];
	atomic_ulong tls_versions[TP_STAT_VERSIONS];
	atomic_ulong reloads[TP_STAT_RELOADS];
	time_t	started;
};

/*
 * The counters at one moment, and what the daemon knows besides. Every
 * metric is an array (or one) of unsigned long long here: tp_metrics(3h)
 * finds each by its offset.
 */
struct tp_stats_snap {
	unsigned long long decisions[TP_STAT_LEVELS][TP_STAT_RESULTS][TP_STAT_ACTIONS][TP_STAT_TESTING];
	unsigned long long messages[TP_STAT_OUTCOMES];
	unsigned long long sessions[TP_STAT_HOWS];
	unsigned long long tls_versions[TP_STAT_VERSIONS];
	unsigned long long reloads[TP_STAT_RELOADS];
	unsigned long long audit[TP_STAT_AUDITS];
	unsigned long long policy_generation;
	unsigned long long policy_rules;
	unsigned long long started;		/* seconds since the epoch */
	unsigned long long up;			/* 0: the daemon stopped */
	long	pid;
	const char *policy_file;
	const char *audit_log;			/* NULL: off */
};

extern void tp_stats_decision(struct tp_stats *, const struct tp_record_rcpt *);
extern void tp_stats_message(struct tp_stats *, const char *);
extern void tp_stats_session(struct tp_stats *, const struct tp_tls_state *);
extern void tp_stats_reload(struct tp_stats *, bool);
extern void tp_stats_snapshot(const struct tp_stats *, struct tp_stats_snap *);
extern const char *tp_stats_outcome_name(size_t);
extern void tp_stats_status(const struct tp_stats_snap *, struct tp_buf *);
extern int tp_stats_replace(const char *, const char *, size_t);
extern size_t tp_stats_summary(const struct tp_stats_snap *, char *, size_t);

#endif
