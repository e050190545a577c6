#ifndef TP_MILTER_SIGNALS_H
#define TP_MILTER_SIGNALS_H

/*
 * NAME
 *	tp_signals 3h
 * SUMMARY
 *	the daemon's signals: the mask, and a thread for its own
 * SYNOPSIS
 *	#include "milter/tp_signals.h"
 *
 *	extern struct tp_stats tp_stats;
 *	extern struct tp_audit *tp_audit_log;
 *
 *	void	tp_signals_block(void);
 *	int	tp_signal_thread_start(void);
 *	void	tp_signal_thread_stop(void);
 *	void	tp_stats_report(void);
 * DESCRIPTION
 *	tp_signals_block() blocks SIGUSR1, SIGUSR2, SIGHUP, SIGTERM and
 *	SIGINT in the calling thread, and so in every thread it starts
 *	later; main() calls it before any thread starts. It ignores
 *	SIGPIPE (a write to an MTA that went away is an error, not death).
 *
 *	tp_signal_thread_start() starts the thread that alone takes
 *	SIGUSR1 and SIGUSR2, with sigtimedwait(): SIGUSR1 reloads the
 *	policy (reload.c), counts the outcome and writes the status and
 *	metrics files; SIGUSR2 reopens the audit log (after rotation) and
 *	writes them at once. Every stats_interval seconds it writes the
 *	status file (stats_file) and the metrics file (metrics_file, the
 *	Prometheus text of tp_metrics(3h)), each replaced atomically, and
 *	logs the counters as one line. Both files are made from one
 *	snapshot of the counters, so they agree. libmilter's own signal thread takes
 *	SIGHUP, SIGTERM and SIGINT for a graceful stop.
 *
 *	tp_signal_thread_stop() ends that thread and waits for it, so that
 *	main() may then close the audit log and free the configuration
 *	and the policy that the thread reads. A call without a running
 *	thread does nothing.
 *
 *	tp_stats_report() writes the status and metrics files and logs
 *	the counters now, as the daemon stops: tlspolicy_up is 0 in them.
 *
 *	tp_stats (the daemon's counters) and tp_audit_log (its audit
 *	writer; NULL: none) are what this thread reports and reopens;
 *	connections add to them.
 * DIAGNOSTICS
 *	tp_signal_thread_start() returns 0, or -1. A status or metrics
 *	file that cannot be written is logged; the old one stays.
 * MEMORY
 *	main() opens and closes tp_audit_log.
 */

#include "reporter/tp_audit.h"
#include "reporter/tp_stats.h"

extern struct tp_stats tp_stats;
extern struct tp_audit *tp_audit_log;

extern void tp_signals_block(void);
extern int tp_signal_thread_start(void);
extern void tp_signal_thread_stop(void);
extern void tp_stats_report(void);

#endif
