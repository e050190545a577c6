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
 *	int	tp_stats_write(const struct tp_stats *st, const char *path,
 *			       const struct tp_stats_extra *extra);
 *	size_t	tp_stats_summary(const struct tp_stats *st,
 *				 const struct tp_stats_extra *extra,
 *				 char *buf, size_t size);
 * DESCRIPTION
 *	Counters are atomics: any connection thread may count, the signal
 *	thread reads them. tp_stats_write() replaces the status file
 *	atomically (a temporary file renamed over it) with "key=value"
 *	lines, so that an admin or tlspolicyctl status can read the
 *	counters without a debugger. tp_stats_summary() is the same as
 *	one syslog line.
 */

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "reporter/tp_record.h"

/* What a recipient decision came to, for counting. */
enum tp_stat_decision {
	TP_STAT_PASS, TP_STAT_REFUSED, TP_STAT_TESTING, TP_STAT_QUARANTINE,
	TP_STAT_TAG, TP_STAT_UNMET, TP_STAT_SKIP, TP_STAT_EXEMPT, TP_STAT_ERROR,
	TP_STAT_DECISIONS,
};

/* Message outcomes, for counting. */
enum tp_stat_outcome {
	TP_STAT_ACCEPTED, TP_STAT_QUARANTINED, TP_STAT_REJECTED,
	TP_STAT_TEMPFAILED, TP_STAT_ABORTED, TP_STAT_OUTCOMES,
};

struct tp_stats {
	atomic_ulong decisions[TP_STAT_DECISIONS];
	atomic_ulong messages[TP_STAT_OUTCOMES];
	atomic_ulong reloads;
	atomic_ulong reloads_failed;
	time_t	started;
};

/* What the daemon knows besides the counters. */
struct tp_stats_extra {
	const char *policy_file;
	unsigned long policy_generation;
	const char *audit_log;		/* NULL: off */
	unsigned long long audit_written;
	unsigned long long audit_lost;
};

extern void tp_stats_decision(struct tp_stats *, const struct tp_record_rcpt *);
extern void tp_stats_message(struct tp_stats *, const char *);
extern int tp_stats_write(const struct tp_stats *, const char *,
			  const struct tp_stats_extra *);
extern size_t tp_stats_summary(const struct tp_stats *,
			       const struct tp_stats_extra *, char *, size_t);

#endif
