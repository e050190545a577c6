#ifndef TP_CONN_H
#define TP_CONN_H

/*
 * NAME
 *	tp_conn 3h
 * SUMMARY
 *	the state of one SMTP connection, as the milter sees it
 * SYNOPSIS
 *	#include "milter/tp_conn.h"
 *
 *	struct tp_conn *tp_conn_new(const struct tp_conn_env *env);
 *	void	tp_conn_free(struct tp_conn *c);
 *
 *	int	tp_conn_connect(struct tp_conn *c,
 *				const struct tp_macro_source *m,
 *				const char *hostname, const char *addr);
 *	int	tp_conn_helo(struct tp_conn *c,
 *			     const struct tp_macro_source *m,
 *			     const char *helo);
 *	int	tp_conn_mail(struct tp_conn *c,
 *			     const struct tp_macro_source *m,
 *			     const char *sender);
 *	int	tp_conn_rcpt(struct tp_conn *c,
 *			     const struct tp_macro_source *m);
 *	int	tp_conn_queue_id(struct tp_conn *c,
 *				 const struct tp_macro_source *m);
 *	void	tp_conn_fail(struct tp_conn *c, const char *why);
 *
 *	struct tp_record_rcpt *tp_conn_add_rcpt(struct tp_conn *c);
 *	void	tp_conn_record(const struct tp_conn *c, const char *outcome,
 *			       struct tp_record *rec);
 *	void	tp_conn_message_end(struct tp_conn *c, const char *outcome,
 *				    const char *reply);
 *	void	tp_conn_abort(struct tp_conn *c);
 *	void	tp_conn_session_end(struct tp_conn *c);
 * DESCRIPTION
 *	A connection lives from the first callback to xxfi_close. It knows
 *	nothing of libmilter or of the daemon's globals: what it needs of
 *	the daemon comes in a struct tp_conn_env, copied at tp_conn_new(),
 *	and what the MTA says comes through a struct tp_macro_source (a
 *	function that looks a macro up by name, NULL when absent), one for
 *	each stage: tp_conn_connect() (the client and the listener),
 *	tp_conn_helo(), tp_conn_mail() (a new message; one still open is
 *	ended as aborted), tp_conn_rcpt() and tp_conn_queue_id() (the
 *	MTA's queue id, once it has one). A milter that negotiated the
 *	connect, HELO and MAIL events away (early_events = no) calls
 *	tp_conn_rcpt() only: it reads the client, the listener, the HELO
 *	name (s) and the login where no event gave them, and the first
 *	RCPT of a message opens it, with the sender from {mail_addr}.
 *
 *	TLS: the TLS macros are read at connect, at each HELO and MAIL,
 *	and at RCPT until TLS is seen, the latest value of each kept: a
 *	client sends EHLO again after STARTTLS, and may even send MAIL with
 *	no second EHLO. A value the connection holds already is not copied
 *	again, and c->tls is made again only when one changed. How
 *	TLS came about is decided when TLS is first seen: implicit when
 *	the listener is one env->listener_is_implicit() names, when TLS is
 *	there at connect (Postfix, wrappermode), or when Sendmail's
 *	{daemon_flags} has "s"; with {daemon_flags} and no "s", STARTTLS
 *	(Sendmail lets a client STARTTLS before any EHLO); implicit when TLS
 *	is there at the first HELO; otherwise (also with no HELO event at
 *	all) STARTTLS. c->tls is the engine's view of it.
 *
 *	tp_conn_message_end() logs every recipient decision of the
 *	message once (env->log_text), counts it (env->stats), writes its
 *	audit record (env->audit) and resets the message; a second call
 *	for the same message (Postfix aborts twice after a refused RCPT)
 *	does nothing. tp_conn_abort() ends the message with the outcome
 *	its recipients add up to. tp_conn_session_end() ends any open
 *	message, counts the session by its TLS (env->stats), and gives a
 *	session with no message one audit record.
 * DIAGNOSTICS
 *	The stage functions return 0, or -1 when a copy failed (out of
 *	memory). The failure is then kept (tp_conn_fail(), c->broken) for
 *	the next stage that can reply: a TLS macro that could not be kept
 *	must fail the session, as a {verify}=FAIL lost would read as no
 *	certificate at all. tp_conn_new() returns NULL when out of memory.
 * MEMORY
 *	Every string is a malloc'd copy owned by the connection, capped at
 *	TP_ADDRESS_MAX bytes. tp_conn_new() takes a reference to the
 *	policy in force (env->policy); tp_conn_free() drops it and frees
 *	everything, and accepts NULL. A record from tp_conn_record() and
 *	c->tls point into the connection.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/tp_macros.h"
#include "policy/tp_policy.h"
#include "reporter/tp_audit.h"
#include "reporter/tp_record.h"
#include "reporter/tp_stats.h"

/*
 * tp_unconst - libmilter's API takes char * for strings it only reads,
 * and the record's strings are const for its readers but owned here;
 * one documented cast instead of one at every call.
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

/* What a connection needs of the daemon. */
struct tp_conn_env {
	const char *hostname;		/* this host, in every record */
	bool	(*listener_is_implicit) (const char *name, const char *port);
	struct tp_policy *(*policy) (unsigned long *generation);	/* a reference */
	void	(*log_text) (int pri, const char *line, size_t len);
	struct tp_audit *audit;		/* NULL: no audit log */
	struct tp_stats *stats;		/* the daemon's counters */
};

/* Where the macros of the current stage come from. */
struct tp_macro_source {
	const char *(*get) (void *ctx, const char *name);	/* NULL: absent */
	void   *ctx;
};

#define TP_RCPTS_MAX	1000		/* recipients kept per message */

struct tp_conn {
	struct tp_conn_env env;		/* copied at tp_conn_new */
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
	bool	connect_seen;		/* the connect event came */
	bool	helo_seen;		/* a HELO event came */
	enum tp_tls_how tls_how;	/* how TLS came about, once seen */
	char   *tls_raw[TP_TLS_MACROS];	/* latest TLS macros, in table order */
	struct tp_tls_macros tls_macros;/* tls_raw, by name */
	struct tp_tls_names tls_names;	/* decoded common names */
	struct tp_tls_state tls;	/* the engine's view of the above */
	/* Message: reset when it ends. */
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
	struct tp_conn_work *work;	/* big buffers, owned: see conn.c */
};

extern struct tp_conn *tp_conn_new(const struct tp_conn_env *);
extern void tp_conn_free(struct tp_conn *);
extern int tp_conn_connect(struct tp_conn *, const struct tp_macro_source *,
			   const char *, const char *);
extern int tp_conn_helo(struct tp_conn *, const struct tp_macro_source *, const char *);
extern int tp_conn_mail(struct tp_conn *, const struct tp_macro_source *, const char *);
extern int tp_conn_rcpt(struct tp_conn *, const struct tp_macro_source *);
extern int tp_conn_queue_id(struct tp_conn *, const struct tp_macro_source *);
extern void tp_conn_fail(struct tp_conn *, const char *);
extern struct tp_record_rcpt *tp_conn_add_rcpt(struct tp_conn *);
extern void tp_conn_record(const struct tp_conn *, const char *, struct tp_record *);
extern void tp_conn_message_end(struct tp_conn *, const char *, const char *);
extern void tp_conn_abort(struct tp_conn *);
extern void tp_conn_session_end(struct tp_conn *);

#endif
