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
	char   *rcpt_delimiter;		/* Postfix's recipient_delimiter; NULL: "+" */
	int	add_header;		/* add the result header */
	char   *header_name;		/* its name */
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

/*
 * tp_unconst - libmilter's API takes char * for strings it only reads;
 * one documented cast here instead of one at every call.
 */
static inline char *
tp_unconst(const char *s)
{
	union {
		const char *c;
		char   *p;
	}	u = {s};

	return (u.p);
}

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

/* conn.c: the state of one SMTP connection */
#define TP_RCPTS_MAX	1000		/* recipients kept per message */

struct tp_conn {
	struct tp_policy *policy;	/* reference held for the connection */
	unsigned long generation;	/* of that policy */
	char	session_id[24];
	unsigned long protocol;		/* SMFIP_* agreed with the MTA */
	unsigned long actions;		/* SMFIF_* agreed with the MTA */
	/* Session: set at connect and HELO, kept across messages. */
	char   *client_addr;
	char   *client_name;		/* verified, or NULL */
	char   *helo;
	char   *daemon_name;
	char   *daemon_port;
	char   *daemon_flags;		/* Sendmail's listener flags, e.g. "s" */
	bool	plain_helo_seen;	/* a HELO came before any TLS */
	enum tp_tls_how tls_how;	/* how TLS came about, once seen */
	char   *tls_raw[8];		/* latest TLS macros, see conn.c */
	struct tp_tls_names tls_names;
	/* Message: reset by tp_conn_message_reset. */
	char   *queue_id;
	char   *sender;
	char   *auth;
	struct tp_record_rcpt *rcpts;
	size_t	nrcpts;
	size_t	rcpt_cap;
	size_t	rcpts_over;		/* refused beyond TP_RCPTS_MAX */
	unsigned forged_headers;	/* copies of our header that came in */
	bool	message_open;		/* MAIL seen, not yet ended */
	unsigned long messages;		/* MAIL commands seen in this session */
	const char *broken;		/* a failure to report at the next reply */
};

extern struct tp_conn *tp_conn_new(void);
extern void tp_conn_free(struct tp_conn *);
extern int tp_conn_set(char **, const char *);
enum tp_stage {
	TP_AT_CONNECT, TP_AT_HELO, TP_AT_LATER,
};
extern int tp_conn_tls_update(struct tp_conn *, const char *(*) (void *, const char *), void *,
			      enum tp_stage);
extern void tp_conn_tls_state(struct tp_conn *, struct tp_tls_state *, struct tp_tls_macros *);
extern struct tp_record_rcpt *tp_conn_add_rcpt(struct tp_conn *);
extern void tp_conn_record(const struct tp_conn *, const struct tp_tls_state *, const char *, struct tp_record *);
extern void tp_conn_message_end(struct tp_conn *, const char *, const char *);
extern void tp_conn_session_end(struct tp_conn *);

#endif
