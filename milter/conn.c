/*
 * NAME
 *	conn 3
 * SUMMARY
 *	the state of one SMTP connection, as the milter sees it
 * DESCRIPTION
 *	A connection lives from the first callback to xxfi_close and is
 *	owned by libmilter's private pointer; nothing here is shared with
 *	other threads except the policy reference, which the connection
 *	holds so that a reload never changes the rules under a session.
 *
 *	The TLS macros are read at every stage where they can change and
 *	the latest kept: a client sends EHLO again after STARTTLS, and may
 *	even send MAIL with no second EHLO. How TLS came about is decided
 *	the first time TLS is seen (tls_how_first_seen).
 *
 *	tp_conn_message_end() logs every recipient decision of the
 *	message once (Postfix may abort more than once) and resets the
 *	message; strings copied from the MTA are capped.
 * MEMORY
 *	Every string is a malloc'd copy owned by the connection;
 *	tp_conn_free() frees them all and drops the policy reference.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "milter/milter.h"
#include "policy/tp_names.h"

/* Bytes kept of one macro value: a whole address, for its decision. */
#define MACRO_MAX	TP_ADDRESS_MAX

static unsigned long start;		/* when the first connection came */

/* note_start - remember when this daemon started taking connections */

static void
note_start(void)
{
	start = (unsigned long)time(NULL);
}

/* tp_conn_new - a connection with its own session id and a policy reference */

struct tp_conn *
tp_conn_new(void)
{
	static atomic_ulong counter;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct tp_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return (NULL);
	pthread_once(&once, note_start);
	/*
	 * Unique per host: start time of this daemon and a counter, which
	 * repeats after 2^32 connections (over a year at 100 a second).
	 */
	snprintf(c->session_id, sizeof(c->session_id), "%08lX%08lX",
		 start & 0xffffffffUL, (atomic_fetch_add(&counter, 1) + 1) & 0xffffffffUL);
	c->policy = tp_current_policy(&c->generation);
	return (c);
}

/* tp_conn_set - replace a string field with a capped copy; -1 if out of memory */

int
tp_conn_set(char **field, const char *value)
{
	char   *copy = NULL;

	if (value != NULL && (copy = strndup(value, MACRO_MAX)) == NULL)
		return (-1);
	free(*field);
	*field = copy;
	return (0);
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
	tp_conn_set(&c->queue_id, NULL);
	tp_conn_set(&c->sender, NULL);
	tp_conn_set(&c->auth, NULL);
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

/*
 * tls_how_first_seen - implicit TLS (port 465) or STARTTLS? In order:
 * a listener named in implicit_tls; TLS already at connect (Postfix sends
 * the TLS macros at connect on a wrappermode port); Sendmail's listener
 * flags (M=s is implicit TLS; Sendmail lets a client STARTTLS before any
 * EHLO, so the HELO tells nothing there); else TLS at a first HELO was
 * there before any SMTP command.
 */

static enum tp_tls_how
tls_how_first_seen(const struct tp_conn *c, bool at_connect)
{
	if (tp_listener_is_implicit(c->daemon_name, c->daemon_port) || at_connect)
		return (TP_TLS_HOW_IMPLICIT);
	if (c->daemon_flags != NULL)
		return (has_flag(c->daemon_flags, 's') ? TP_TLS_HOW_IMPLICIT : TP_TLS_HOW_STARTTLS);
	return (c->plain_helo_seen ? TP_TLS_HOW_STARTTLS : TP_TLS_HOW_IMPLICIT);
}

/*
 * tp_conn_tls_update - read the TLS macros at this stage. get(ctx, name)
 * returns a macro's value or NULL. stage: TP_AT_CONNECT, TP_AT_HELO, or
 * TP_AT_LATER (MAIL, RCPT). -1 if out of memory.
 */

int
tp_conn_tls_update(struct tp_conn *c, const char *(*get) (void *, const char *),
		   void *ctx, enum tp_stage stage)
{
	bool	at_helo = stage == TP_AT_HELO;
	bool	at_connect = stage == TP_AT_CONNECT;
	const char *version = get(ctx, tp_tls_macro_table[0].name);
	bool	tls = version != NULL && *version != 0;

	if (!tls) {
		if (at_helo && c->tls_how == TP_TLS_HOW_NONE)
			c->plain_helo_seen = true;
		return (0);
	}
	for (size_t i = 0; i < TP_TLS_MACROS; i++) {
		const char *v = get(ctx, tp_tls_macro_table[i].name);

		/*
		 * Keep what an earlier stage said if this one says nothing. A
		 * macro lost here could turn a failed {verify} into none
		 * said, so a failed copy must fail the session.
		 */
		if (v != NULL && tp_conn_set(&c->tls_raw[i], v) < 0)
			return (-1);
	}
	if (c->tls_how == TP_TLS_HOW_NONE)
		c->tls_how = tls_how_first_seen(c, at_connect);
	return (0);
}

/* tp_conn_tls_state - the engine's view of the TLS state; raw filled too */

void
tp_conn_tls_state(struct tp_conn *c, struct tp_tls_state *tls,
		  struct tp_tls_macros *raw)
{
	tp_tls_macros_from(raw, c->tls_raw);
	tp_tls_macros_normalize(raw, &c->tls_names);
	tp_tls_state_from(raw, &c->tls_names, c->tls_how, tls);
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
tp_conn_record(const struct tp_conn *c, const struct tp_tls_state *tls,
	       const char *outcome, struct tp_record *rec)
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
	rec->tls = tls;
	rec->policy_file = c->policy ? tp_policy_file(c->policy) : NULL;
	rec->policy_generation = c->generation;
	rec->hostname = tp_config.hostname;
	rec->outcome = outcome;
	rec->rcpts = c->rcpts;
	rec->nrcpts = c->nrcpts;
}

/* audit - the message's record into the audit log */

static void
audit(const struct tp_record *rec)
{
	char	small[8192];
	char   *buf = small;
	size_t	len;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	/* Most records fit the stack; a message with many recipients not. */
	if ((len = tp_audit_format(rec, &now, small, sizeof(small))) == 0
	    && (buf = malloc(TP_AUDIT_RECORD_MAX)) != NULL)
		len = tp_audit_format(rec, &now, buf, TP_AUDIT_RECORD_MAX);
	/* A record that cannot be made is submitted empty: counted as lost. */
	tp_audit_submit(tp_audit_log, buf ? buf : "", buf ? len : 0);
	if (buf != small)
		free(buf);
}

/*
 * tp_conn_message_end - log every decision of the message once, write
 * its audit record, count it, reset. reply: a whole-message reply, or NULL.
 */

void
tp_conn_message_end(struct tp_conn *c, const char *outcome, const char *reply)
{
	struct tp_tls_state tls;
	struct tp_tls_macros raw;
	struct tp_record rec;
	char	line[4096];

	if (!c->message_open && c->nrcpts == 0)
		return;
	c->messages++;
	tp_conn_tls_state(c, &tls, &raw);
	tp_conn_record(c, &tls, outcome, &rec);
	rec.reply = reply;
	for (size_t i = 0; i < c->nrcpts; i++) {
		size_t	len = tp_record_syslog(&rec, i, line, sizeof(line));

		tp_log_text(c->rcpts[i].refused || c->rcpts[i].error ? LOG_NOTICE : LOG_INFO, line, len);
		tp_stats_decision(&tp_stats, &c->rcpts[i]);
	}
	tp_stats_message(&tp_stats, outcome);
	if (tp_audit_log != NULL)
		audit(&rec);
	message_free(c);
}

/*
 * tp_conn_session_end - a session that ends without any message still
 * gets one audit record (outcome "no-message"): who connected, with what
 * TLS, and that nothing was sent.
 */

void
tp_conn_session_end(struct tp_conn *c)
{
	struct tp_tls_state tls;
	struct tp_tls_macros raw;
	struct tp_record rec;

	if (c->messages > 0 || tp_audit_log == NULL)
		return;
	tp_conn_tls_state(c, &tls, &raw);
	tp_conn_record(c, &tls, "no-message", &rec);
	audit(&rec);
}
