#ifndef TP_MILTER_H
#define TP_MILTER_H

/*
 * NAME
 *	milter 3h
 * SUMMARY
 *	tlspolicy-milter internals: configuration, connection state
 * DESCRIPTION
 *	main.c reads the configuration and starts libmilter; callbacks.c
 *	holds the mlfi_* callbacks, which translate what the MTA says
 *	into engine queries (conn.c keeps it per connection); reload.c
 *	swaps the policy on SIGUSR1 in a thread of its own.
 *
 *	Thread model: libmilter runs one thread per connection. The only
 *	shared state is the configuration (read-only after start-up) and
 *	the current policy (tp_current_policy(), reference counted).
 */

#include <stdbool.h>

#include "milter/conn.h"
#include "reporter/tp_audit.h"
#include "policy/tp_macros.h"
#include "policy/tp_policy.h"
#include "reporter/tp_record.h"
#include "reporter/tp_stats.h"

/* Everything that has a command-line flag has a config key (main.c). */
struct tp_config {
	char   *socket;			/* -p: libmilter socket spec */
	char   *policy;			/* -f: policy file */
	char   *user;			/* -u: run as this user once bound */
	char   *pidfile;		/* -P */
	int	foreground;		/* -F: stay in the foreground, log to stderr too */
	int	allow_root;		/* keep running as root once bound */
	int	dry_run;		/* every rule in testing mode */
	int	add_header;		/* add the result header */
	char   *header_name;		/* its name */
	int	strip_header_mta;	/* strip_header = mta: not the milter's work */
	char   *implicit_tls;		/* listener names/ports that are TLS from connect */
	int	use_syslog;		/* no: log to stderr only (foreground) */
	char   *syslog_facility;
	char   *hostname;		/* for the header; default: gethostname */
	unsigned timeout;		/* seconds libmilter waits for the MTA */
	char   *socket_group;		/* group of a unix socket */
	char   *audit_log;		/* -a: JSON-lines audit log; "none": off */
	unsigned audit_queue_kb;	/* bounded queue in front of it */
	char   *stats_file;		/* status file for tlspolicyctl status */
	unsigned stats_interval;	/* seconds between stats; 0: only on SIGUSR2 */
	int	reply_at_data;		/* derived: the socket is TCP (see mlfi_data) */
};

extern struct tp_stats tp_stats;	/* the daemon's counters */
extern struct tp_audit *tp_audit_log;	/* NULL: no audit log */

extern struct tp_config tp_config;

/* reload.c */
extern int tp_policy_start(const char *);
extern struct tp_policy *tp_current_policy(unsigned long *);
extern void tp_policy_reload(void);
extern void tp_policy_stop(void);

/* signals.c */
extern int tp_signal_thread_start(void);
extern void tp_stats_report(void);

/* main.c: log lines go to syslog, and to stderr in the foreground
 * unless stderr is systemd's journal (which has the syslog copy) */
#define TP_LOG_LINE_MAX	8192		/* bytes of one formatted line */
extern void tp_log(int, const char *,...) __attribute__((format(printf, 2, 3)));
extern void tp_log_text(int, const char *, size_t);
extern bool tp_listener_is_implicit(const char *, const char *);

#endif
