/*
 * NAME
 *	signals 3
 * SUMMARY
 *	the daemon's signals: the mask, and a thread for its own
 * DESCRIPTION
 *	See tp_signals.h.
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "milter/tp_config.h"
#include "milter/tp_log.h"
#include "milter/tp_reload.h"
#include "milter/tp_signals.h"
#include "policy/tp_policy.h"

struct tp_stats tp_stats;
struct tp_audit *tp_audit_log;

static pthread_t signal_tid;
static bool signal_thread_running;	/* main thread only */
static atomic_bool signal_thread_stopping;

/*
 * tp_signals_block - block our signals everywhere, before any thread
 * starts: SIGUSR1/2 are for our signal thread, SIGHUP/SIGTERM/SIGINT for
 * libmilter's, which blocks them only in the threads it starts itself.
 * A thread of ours that left SIGTERM open would die of it, and the
 * process with it, instead of stopping gracefully.
 */

void
tp_signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* stats_report - write the status file; log the counters if asked */

static void
stats_report(bool log_line)
{
	struct tp_audit_counts audit = {0, 0, 0};
	struct tp_stats_extra x;
	char	line[1024];

	if (tp_audit_log != NULL)
		tp_audit_stats(tp_audit_log, &audit);
	tp_policy_unref(tp_current_policy(&x.policy_generation));
	x.policy_file = tp_config.policy;
	x.audit_log = tp_audit_log ? tp_config.audit_log : NULL;
	x.audit_written = audit.written;
	x.audit_lost = audit.lost;
	if (tp_config.stats_file && *tp_config.stats_file
	    && tp_stats_write(&tp_stats, tp_config.stats_file, &x) < 0)
		tp_log(LOG_WARNING, "cannot write status file %s: %s", tp_config.stats_file,
		       strerror(errno));
	if (log_line) {
		tp_stats_summary(&tp_stats, &x, line, sizeof(line));
		tp_log(LOG_INFO, "%s", line);
	}
}

/* tp_stats_report - the status file and a log line, now */

void
tp_stats_report(void)
{
	stats_report(true);
}

/* signal_thread - wait for our signals or the next stats time */

static void *
signal_thread(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		struct timespec wait = {tp_config.stats_interval ? (time_t)tp_config.stats_interval : 3600, 0};
		int	sig = sigtimedwait(&set, NULL, &wait);

		/* After the stop request nothing the daemon is freeing is read. */
		if (atomic_load(&signal_thread_stopping))
			break;
		if (sig == SIGUSR1) {
			if (tp_policy_reload() < 0)
				atomic_fetch_add(&tp_stats.reloads_failed, 1);
			else
				atomic_fetch_add(&tp_stats.reloads, 1);
			stats_report(false);
		} else if (sig == SIGUSR2) {
			if (tp_audit_log != NULL) {
				tp_audit_reopen(tp_audit_log);
				/* So that the status counts every record queued so far. */
				tp_audit_flush(tp_audit_log);
			}
			tp_log(LOG_INFO, "audit log reopened; status written");
			stats_report(true);
		} else if (sig < 0 && errno == EAGAIN && tp_config.stats_interval) {
			stats_report(true);
		}
	}
	return (NULL);
}

/* tp_signal_thread_start - start the signal thread */

int
tp_signal_thread_start(void)
{
	if (pthread_create(&signal_tid, NULL, signal_thread, NULL) != 0)
		return (-1);
	signal_thread_running = true;
	return (0);
}

/*
 * tp_signal_thread_stop - end the signal thread and wait for it: a reload
 * or a status write under way finishes first. The wake-up is a signal it
 * waits for, sent to it alone; it sees the stop flag and leaves.
 */

void
tp_signal_thread_stop(void)
{
	if (!signal_thread_running)
		return;
	atomic_store(&signal_thread_stopping, true);
	pthread_kill(signal_tid, SIGUSR2);
	pthread_join(signal_tid, NULL);
	signal_thread_running = false;
}
