#ifndef TP_MILTER_H
#define TP_MILTER_H

/*
 * NAME
 *	milter 3h
 * SUMMARY
 *	tlspolicy-milter internals: connection state, and the daemon's
 *	modules the callbacks use
 * DESCRIPTION
 *	main.c starts the daemon: config.c reads the configuration, log.c
 *	logs, socket.c and daemon.c set the process up, signals.c and
 *	reload.c keep the policy and the counters; each has its own
 *	header, included here for the callbacks. callbacks.c holds the
 *	mlfi_* callbacks, which translate what the MTA says into engine
 *	queries (conn.c keeps it per connection).
 *
 *	Thread model: libmilter runs one thread per connection. The only
 *	shared state is the configuration (read-only after start-up), the
 *	counters (atomic), the audit writer, and the current policy
 *	(tp_current_policy(), reference counted).
 */

#include <stdbool.h>

#include "milter/tp_config.h"
#include "milter/tp_log.h"
#include "milter/tp_reload.h"
#include "milter/tp_signals.h"
#include "policy/tp_macros.h"
#include "policy/tp_policy.h"
#include "reporter/tp_audit.h"
#include "reporter/tp_record.h"
#include "reporter/tp_stats.h"

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
	/* Message: reset by tp_conn_message_end. */
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
