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
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "milter/tp_config.h"
#include "milter/tp_log.h"
#include "milter/tp_reload.h"
#include "milter/tp_signals.h"
#include "policy/tp_policy.h"
#include "reporter/tp_metrics.h"

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

/* status_text - the status file: its summary, then every metric sample */

static void
status_text(const struct tp_stats_snap *snap, struct tp_buf *b)
{
	tp_stats_status(snap, b);
	tp_metrics_status(snap, b);
}

/* write_text - replace a file of ours (NULL or "": none) with make's text */

static void
write_text(const char *what, const char *path, const struct tp_stats_snap *snap,
	   void (*make) (const struct tp_stats_snap *, struct tp_buf *))
{
	char   *text;
	struct tp_buf b;

	if (path == NULL || *path == 0)
		return;
	if ((text = malloc(TP_METRICS_TEXT_MAX)) == NULL) {
		tp_log(LOG_WARNING, "cannot write %s %s: out of memory", what, path);
		return;
	}
	b = (struct tp_buf) TP_BUF(text, TP_METRICS_TEXT_MAX);
	make(snap, &b);
	if (b.full)
		tp_log(LOG_WARNING, "cannot write %s %s: more than %d bytes", what, path,
		       TP_METRICS_TEXT_MAX);
	else if (tp_stats_replace(path, b.buf, b.len) < 0)
		tp_log(LOG_WARNING, "cannot write %s %s: %s", what, path, strerror(errno));
	free(text);
}

/*
 * stats_report - the counters now, and what the daemon knows besides,
 * into the status file and the metrics file; log them if asked. up: 0 in
 * the last report, as the daemon stops.
 */

static void
stats_report(bool log_line, bool up)
{
	struct tp_audit_counts audit = {0, 0, 0};
	struct tp_policy_summary sum = {0};
	struct tp_stats_snap snap;
	struct tp_policy *policy;
	unsigned long gen = 0;
	char	line[1024];

	tp_stats_snapshot(&tp_stats, &snap);
	if (tp_audit_log != NULL)
		tp_audit_stats(tp_audit_log, &audit);
	if ((policy = tp_current_policy(&gen)) != NULL)
		tp_policy_summarize(policy, &sum);
	tp_policy_unref(policy);
	snap.policy_generation = gen;
	snap.policy_rules = sum.rules;
	snap.audit[TP_STAT_AUDIT_WRITTEN] = audit.written;
	snap.audit[TP_STAT_AUDIT_LOST] = audit.lost;
	snap.up = up;
	snap.pid = (long)getpid();
	snap.policy_file = tp_config.policy;
	snap.audit_log = tp_audit_log ? tp_config.audit_log : NULL;
	write_text("status file", tp_config.stats_file, &snap, status_text);
	write_text("metrics file", tp_config.metrics_file, &snap, tp_metrics_format);
	if (log_line) {
		tp_stats_summary(&snap, line, sizeof(line));
		tp_log(LOG_INFO, "%s", line);
	}
}

/* tp_stats_report - the last report, as the daemon stops: up is 0 */

void
tp_stats_report(void)
{
	stats_report(true, false);
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
			tp_stats_reload(&tp_stats, tp_policy_reload() >= 0);
			stats_report(false, true);
		} else if (sig == SIGUSR2) {
			if (tp_audit_log != NULL) {
				tp_audit_reopen(tp_audit_log);
				/* So that the status counts every record queued so far. */
				tp_audit_flush(tp_audit_log);
			}
			tp_log(LOG_INFO, "audit log reopened; status and metrics written");
			stats_report(true, true);
		} else if (sig < 0 && errno == EAGAIN && tp_config.stats_interval) {
			stats_report(true, true);
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
