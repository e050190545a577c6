/*
 * NAME
 *	conn 3
 * SUMMARY
 *	the state of one SMTP connection, as the milter sees it
 * DESCRIPTION
 *	See tp_conn.h. A connection is owned by libmilter's private pointer;
 *	nothing here is shared with other threads except the policy
 *	reference (held so that a reload never changes the rules under a
 *	session), the counters (atomic) and the audit writer (which has
 *	its own lock).
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "milter/tp_conn.h"
#include "policy/tp_ipaddr.h"
#include "policy/tp_names.h"

/* Bytes kept of one macro value: a whole address, for its decision. */
#define MACRO_MAX	TP_ADDRESS_MAX

#define OUT_OF_MEMORY	"out of memory"

/*
 * The big buffers of a connection, allocated with it rather than on the
 * stack: libmilter runs connections on short-lived threads, and when a
 * thread ends glibc unmaps every page of its stack below the top 16 KiB,
 * so a deep stack is faulted in again by every connection, and each
 * thread's end flushes the TLB of every CPU (see BENCHMARKS.md).
 */
struct tp_conn_work {
	struct tp_record_text text;	/* the record being written */
	char	line[4096];		/* one decision's log line */
	char	record[8192];		/* an audit record, if it fits */
	char	sender[2 * MACRO_MAX + 5];	/* {mail_addr} as it was written */
};

static unsigned long start;		/* when the first connection came */

/* note_start - remember when this daemon started taking connections */

static void
note_start(void)
{
	start = (unsigned long)time(NULL);
}

/* tls_refresh - the engine's view of the TLS macros as they are now */

static void
tls_refresh(struct tp_conn *c)
{
	tp_tls_macros_from(&c->tls_macros, c->tls_raw);
	tp_tls_macros_normalize(&c->tls_macros, &c->tls_names);
	tp_tls_state_from(&c->tls_macros, &c->tls_names, c->tls_how, &c->tls);
}

/* tp_conn_new - a connection with its own session id and a policy reference */

struct tp_conn *
tp_conn_new(const struct tp_conn_env *env)
{
	static atomic_ulong counter;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct tp_conn *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->work = malloc(sizeof(*c->work))) == NULL) {
		free(c);
		return (NULL);
	}
	pthread_once(&once, note_start);
	/*
	 * Unique per host: start time of this daemon and a counter, which
	 * repeats after 2^32 connections (over a year at 100 a second).
	 */
	snprintf(c->session_id, sizeof(c->session_id), "%08lX%08lX",
		 start & 0xffffffffUL, (atomic_fetch_add(&counter, 1) + 1) & 0xffffffffUL);
	c->env = *env;
	c->policy = env->policy(&c->generation);
	tls_refresh(c);
	return (c);
}

/* tp_conn_fail - remember a failure for the next stage that can reply */

void
tp_conn_fail(struct tp_conn *c, const char *why)
{
	if (c->broken == NULL)
		c->broken = why;
}

/*
 * keep - a capped copy of value (NULL: none) in *field: 1 if it changed,
 * 0 if *field held that already (the MTA repeats most macros at every
 * stage: no copy then), -1 and the session failed if out of memory
 */

static int
keep(struct tp_conn *c, char **field, const char *value)
{
	char   *copy = NULL;

	if (value == NULL ? *field == NULL
	    : *field != NULL && strncmp(*field, value, MACRO_MAX) == 0)
		return (0);
	if (value != NULL && (copy = strndup(value, MACRO_MAX)) == NULL) {
		tp_conn_fail(c, OUT_OF_MEMORY);
		return (-1);
	}
	free(*field);
	*field = copy;
	return (1);
}

/* macro - a macro of the current stage, or NULL */

static const char *
macro(const struct tp_macro_source *m, const char *name)
{
	return (m->get(m->ctx, name));
}

/* message_free - free what one message holds */

static void
message_free(struct tp_conn *c)
{
	for (size_t i = 0; i < c->nrcpts; i++) {
		free(tp_unconst(c->rcpts[i].addr));
		free(tp_unconst(c->rcpts[i].reason));
		free(tp_unconst(c->rcpts[i].reply));
	}
	c->nrcpts = c->rcpts_over = 0;
	free(c->queue_id);
	free(c->sender);
	free(c->auth);
	c->queue_id = c->sender = c->auth = NULL;
	c->forged_headers = 0;
	c->message_open = false;
}

/* tp_conn_free - free a connection and drop its policy reference */

void
tp_conn_free(struct tp_conn *c)
{
	if (c == NULL)
		return;
	message_free(c);
	free(c->rcpts);
	free(c->client_addr);
	free(c->client_name);
	free(c->helo);
	free(c->daemon_name);
	free(c->daemon_port);
	free(c->daemon_flags);
	for (size_t i = 0; i < TP_TLS_MACROS; i++)
		free(c->tls_raw[i]);
	tp_policy_unref(c->policy);
	free(c->work);
	free(c);
}

/* has_flag - is this letter one of Sendmail's {daemon_flags} ("b s EE")? */

static bool
has_flag(const char *flags, char letter)
{
	for (const char *p = flags; p != NULL && *p; p++)
		if (*p == letter && (p == flags || p[-1] == ' ') && (p[1] == 0 || p[1] == ' '))
			return (true);
	return (false);
}

/* When a stage's TLS macros were read: before any SMTP command, or later. */
enum stage_seen {
	AT_CONNECT, AT_FIRST_HELO, LATER,
};

/*
 * tls_how_first_seen - implicit TLS (port 465) or STARTTLS? In order:
 * a listener named implicit; TLS before any SMTP command (at connect:
 * Postfix sends the TLS macros at connect on a wrappermode port; at the
 * first HELO) unless Sendmail's listener flags say otherwise (M=s is
 * implicit TLS; Sendmail lets a client STARTTLS before any EHLO, so the
 * HELO tells nothing there); else STARTTLS. Without connect and HELO
 * events (early_events = no) only the listener tells.
 */

static enum tp_tls_how
tls_how_first_seen(const struct tp_conn *c, enum stage_seen when)
{
	if (c->env.listener_is_implicit(c->daemon_name, c->daemon_port) || when == AT_CONNECT)
		return (TP_TLS_HOW_IMPLICIT);
	if (c->daemon_flags != NULL)
		return (has_flag(c->daemon_flags, 's') ? TP_TLS_HOW_IMPLICIT : TP_TLS_HOW_STARTTLS);
	return (when == AT_FIRST_HELO ? TP_TLS_HOW_IMPLICIT : TP_TLS_HOW_STARTTLS);
}

/*
 * tls_read - the TLS macros of this stage: 1 if there is TLS, 0 if not,
 * -1 if a value could not be kept.
 */

static int
tls_read(struct tp_conn *c, const struct tp_macro_source *m, enum stage_seen when)
{
	const char *version = macro(m, tp_tls_macro_table[0].name);
	bool	changed = false;
	int	rc = 1;

	if (version == NULL || *version == 0)
		return (0);
	for (size_t i = 0; i < TP_TLS_MACROS; i++) {
		const char *v = i == 0 ? version : macro(m, tp_tls_macro_table[i].name);
		int	kept;

		/*
		 * Keep what an earlier stage said if this one says nothing. A
		 * macro lost here could turn a failed {verify} into none
		 * said: keep() fails the session.
		 */
		if (v != NULL && (kept = keep(c, &c->tls_raw[i], v)) != 0) {
			changed = true;
			rc = kept < 0 ? -1 : rc;
		}
	}
	/* First seen: {tls_version} at least is new, and changed. */
	if (c->tls_how == TP_TLS_HOW_NONE)
		c->tls_how = tls_how_first_seen(c, when);
	if (changed)
		tls_refresh(c);
	return (rc);
}

/*
 * client_addr_macro - {client_addr} written as the connect arguments give
 * it (Sendmail writes "IPv6:0:0:0:0:0:0:0:1" for ::1), in buf
 */

static const char *
client_addr_macro(const struct tp_macro_source *m, char *buf, size_t size)
{
	const char *addr = macro(m, "{client_addr}");
	struct tp_ip ip;

	return (addr != NULL && tp_ip_parse(addr, &ip) == 0 ? tp_ip_format(&ip, buf, size) : addr);
}

/* read_client - the client and the listener, from this stage's macros */

static int
read_client(struct tp_conn *c, const struct tp_macro_source *m,
	    const char *hostname, const char *addr)
{
	const char *name = macro(m, "{client_name}");
	char	buf[TP_IP_TEXT_MAX];

	if (addr == NULL)
		addr = client_addr_macro(m, buf, sizeof(buf));
	name = tp_client_name_verified(name ? name : hostname, macro(m, "{client_resolve}"));
	if (keep(c, &c->client_addr, addr) < 0
	    || keep(c, &c->client_name, name) < 0
	    || keep(c, &c->daemon_name, macro(m, "{daemon_name}")) < 0
	    || keep(c, &c->daemon_port, macro(m, "{daemon_port}")) < 0
	    || keep(c, &c->daemon_flags, macro(m, "{daemon_flags}")) < 0)
		return (-1);
	return (0);
}

/*
 * tp_conn_connect - who the client is and where it came in. addr: the
 * client's address from the connect arguments; NULL: {client_addr}.
 */

int
tp_conn_connect(struct tp_conn *c, const struct tp_macro_source *m,
		const char *hostname, const char *addr)
{
	c->connect_seen = true;
	/* The listener first: it tells how TLS came about. */
	if (read_client(c, m, hostname, addr) < 0)
		return (-1);
	return (tls_read(c, m, AT_CONNECT) < 0 ? -1 : 0);
}

/* tp_conn_helo - the HELO name; TLS may have begun since the last one */

int
tp_conn_helo(struct tp_conn *c, const struct tp_macro_source *m, const char *helo)
{
	bool	first = !c->helo_seen;

	c->helo_seen = true;
	if (keep(c, &c->helo, helo) < 0)
		return (-1);
	return (tls_read(c, m, first ? AT_FIRST_HELO : LATER) < 0 ? -1 : 0);
}

/* tp_conn_queue_id - the MTA's queue id, once it has one */

int
tp_conn_queue_id(struct tp_conn *c, const struct tp_macro_source *m)
{
	const char *qid = macro(m, "i");

	return (qid != NULL && *qid != 0 && keep(c, &c->queue_id, qid) < 0 ? -1 : 0);
}

/*
 * message_open - a new message: sender as the client wrote it (MAIL's
 * argument), or NULL: from {mail_addr}, for a milter that takes no MAIL
 * event (Postfix's is the internal form: unquoted; "" is the null sender)
 */

static int
message_open(struct tp_conn *c, const struct tp_macro_source *m, const char *sender)
{
	char   *written = c->work->sender;
	const char *addr;

	/* Quoted where the local part needs it: as the client wrote it. */
	if (sender == NULL && (addr = macro(m, "{mail_addr}")) != NULL) {
		if (tp_address_external(addr, written, sizeof(c->work->sender)) == 0) {
			tp_conn_fail(c, "sender address too long");
			return (-1);
		}
		sender = written;
	}
	c->message_open = true;
	if (keep(c, &c->sender, sender) < 0
	    || keep(c, &c->queue_id, macro(m, "i")) < 0
	    || keep(c, &c->auth, macro(m, "{auth_authen}")) < 0)
		return (-1);
	return (0);
}

/* tp_conn_mail - a new message; TLS may have begun with no EHLO since */

int
tp_conn_mail(struct tp_conn *c, const struct tp_macro_source *m, const char *sender)
{
	if (c->message_open)
		tp_conn_message_end(c, "aborted", NULL);
	if (message_open(c, m, sender) < 0)
		return (-1);
	return (tls_read(c, m, LATER) < 0 ? -1 : 0);
}

/*
 * session_from_rcpt - what the connect, HELO and MAIL events would have
 * said, for a milter that negotiated them away: every RCPT brings those
 * macros too (the HELO name as s), and the first of a message opens it.
 */

static int
session_from_rcpt(struct tp_conn *c, const struct tp_macro_source *m)
{
	const char *helo;

	if (!c->connect_seen && read_client(c, m, NULL, NULL) < 0)
		return (-1);
	if (!c->helo_seen && (helo = macro(m, "s")) != NULL && keep(c, &c->helo, helo) < 0)
		return (-1);
	return (c->message_open ? 0 : message_open(c, m, NULL));
}

/*
 * tp_conn_rcpt - what a RCPT can bring that is new: the session and the
 * message where no event gave them, TLS not seen yet, and the queue id
 * (Postfix has one only after the first recipient). TLS once on does not
 * change: no second STARTTLS, and MAIL read it again.
 */

int
tp_conn_rcpt(struct tp_conn *c, const struct tp_macro_source *m)
{
	int	rc = session_from_rcpt(c, m);

	if (c->tls_how == TP_TLS_HOW_NONE && tls_read(c, m, LATER) < 0)
		rc = -1;
	if (c->queue_id == NULL && tp_conn_queue_id(c, m) < 0)
		rc = -1;
	return (rc);
}

/*
 * tp_conn_add_rcpt - room for one more recipient decision; NULL when the
 * message has TP_RCPTS_MAX already or memory ran out
 */

struct tp_record_rcpt *
tp_conn_add_rcpt(struct tp_conn *c)
{
	struct tp_record_rcpt *r;

	if (c->nrcpts == c->rcpt_cap) {
		size_t	cap = c->rcpt_cap ? c->rcpt_cap * 2 : 8;
		struct tp_record_rcpt *grown;

		if (cap > TP_RCPTS_MAX)
			cap = TP_RCPTS_MAX;
		if (cap == c->rcpt_cap || (grown = realloc(c->rcpts, cap * sizeof(*grown))) == NULL)
			return (NULL);
		c->rcpts = grown;
		c->rcpt_cap = cap;
	}
	r = &c->rcpts[c->nrcpts++];
	memset(r, 0, sizeof(*r));
	return (r);
}

/* tp_conn_record - a record of the current message, pointing into c */

void
tp_conn_record(const struct tp_conn *c, const char *outcome, struct tp_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->session_id = c->session_id;
	rec->queue_id = c->queue_id;
	rec->client_addr = c->client_addr;
	rec->client_name = c->client_name;
	rec->helo = c->helo;
	rec->daemon_name = c->daemon_name;
	rec->daemon_port = c->daemon_port;
	rec->auth = c->auth;
	rec->sender = c->sender;
	rec->tls = &c->tls;
	rec->policy_file = c->policy ? tp_policy_file(c->policy) : NULL;
	rec->policy_generation = c->generation;
	rec->hostname = c->env.hostname;
	rec->outcome = outcome;
	rec->rcpts = c->rcpts;
	rec->nrcpts = c->nrcpts;
}

/* audit - the record in c->work->text into the audit log */

static void
audit(struct tp_conn *c)
{
	struct tp_conn_work *w = c->work;
	char   *buf = w->record;
	size_t	len;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	/* Most records fit the buffer; a message with many recipients not. */
	if ((len = tp_audit_format(&w->text, &now, buf, sizeof(w->record))) == 0
	    && (buf = malloc(TP_AUDIT_RECORD_MAX)) != NULL)
		len = tp_audit_format(&w->text, &now, buf, TP_AUDIT_RECORD_MAX);
	/* A record that cannot be made is submitted empty: counted as lost. */
	tp_audit_submit(c->env.audit, buf ? buf : "", buf ? len : 0);
	if (buf != w->record)
		free(buf);
}

/*
 * tp_conn_message_end - log every decision of the message once, write
 * its audit record, count it, reset. reply: a whole-message reply, or NULL.
 */

void
tp_conn_message_end(struct tp_conn *c, const char *outcome, const char *reply)
{
	struct tp_conn_work *w = c->work;
	struct tp_record rec;

	if (!c->message_open && c->nrcpts == 0)
		return;
	c->messages++;
	tp_conn_record(c, outcome, &rec);
	rec.reply = reply;
	tp_record_prepare(&rec, &w->text);
	for (size_t i = 0; i < c->nrcpts; i++) {
		size_t	len = tp_record_syslog(&w->text, i, w->line, sizeof(w->line));

		c->env.log_text(c->rcpts[i].refused || c->rcpts[i].error ? LOG_NOTICE : LOG_INFO,
				w->line, len);
		tp_stats_decision(c->env.stats, &c->rcpts[i]);
	}
	tp_stats_message(c->env.stats, outcome);
	if (c->env.audit != NULL)
		audit(c);
	message_free(c);
}

/* ended_outcome - what became of a message that did not reach end of message */

static const char *
ended_outcome(const struct tp_conn *c)
{
	bool	temporary = false;

	for (size_t i = 0; i < c->nrcpts; i++) {
		const struct tp_record_rcpt *r = &c->rcpts[i];

		if (!r->refused && !r->error)
			return ("aborted");
		temporary |= r->error || r->action == TP_ACTION_TEMPFAIL;
	}
	return (c->nrcpts == 0 ? "aborted" : temporary ? "tempfailed" : "rejected");
}

/* tp_conn_abort - the message ended before its end; Postfix may say so twice */

void
tp_conn_abort(struct tp_conn *c)
{
	tp_conn_message_end(c, ended_outcome(c), NULL);
}

/*
 * tp_conn_session_end - end the message still open; a session that ends
 * without any message still gets one audit record (outcome "no-message"):
 * who connected, with what TLS, and that nothing was sent, if the milter
 * took its connect or HELO event. The session is counted by its TLS.
 */

void
tp_conn_session_end(struct tp_conn *c)
{
	struct tp_record rec;

	tp_conn_abort(c);
	/* Without connect and HELO events, a session with no RCPT is unseen. */
	if (!(c->connect_seen || c->helo_seen) && c->messages == 0)
		return;
	tp_stats_session(c->env.stats, &c->tls);
	if (c->messages > 0 || c->env.audit == NULL)
		return;
	tp_conn_record(c, "no-message", &rec);
	tp_record_prepare(&rec, &c->work->text);
	audit(c);
}
