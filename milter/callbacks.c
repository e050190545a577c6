/*
 * NAME
 *	callbacks 3
 * SUMMARY
 *	the libmilter callbacks: MTA macros in, engine decisions out
 * DESCRIPTION
 *	Each callback gathers what the MTA says, calls the engine, and
 *	maps the decision to a reply. Postfix waits for a reply only at
 *	negotiate, RCPT TO, DATA (over TCP only: see mlfi_data) and end of
 *	message: every other stage is negotiated away (no body, no end of
 *	headers) or "no reply" (connect, HELO, MAIL, each header), and the
 *	TLS macros are asked for at MAIL and RCPT too, so nothing is missed
 *	by it.
 *
 *	Enforcement is per recipient at RCPT TO, as Postfix's own
 *	restrictions are: only the recipients whose policy fails are
 *	refused. quarantine and tag act on the whole message at end of
 *	message, which also removes forged copies of the result header
 *	and adds ours.
 *
 *	Fail safe: whatever goes wrong inside the milter (no memory, a
 *	client address the engine cannot read, lost state) tempfails the
 *	recipient or message with the reason; nothing is accepted that
 *	policy might have refused. At a no-reply stage a failure is kept
 *	in the connection and reported at the next stage that replies.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <libmilter/mfapi.h>

#include "milter/milter.h"

/* The macros every stage asks for: a list replaces the MTA's default. */
#define TLS_MACROS "{tls_version} {cipher} {cipher_bits} {cert_subject} " \
	"{cert_issuer} {verify} {cn_subject} {cn_issuer}"
static const struct {
	int	stage;
	const char *macros;
}	symlists[] = {
	{SMFIM_CONNECT, "j _ {daemon_name} {daemon_port} {daemon_addr} {daemon_flags} {client_addr} "
	 "{client_name} {client_ptr} {client_resolve} " TLS_MACROS},
	{SMFIM_HELO, TLS_MACROS},
	{SMFIM_ENVFROM, "i {mail_addr} {auth_authen} {auth_type} " TLS_MACROS},
	{SMFIM_ENVRCPT, "i {rcpt_addr} " TLS_MACROS},
	{SMFIM_EOM, "i {msg_id}"},
};

/* Set once a connection finds a missing MTA feature: warn once only. */
static volatile int warned_symlist;
static volatile int warned_quarantine;

/* macro - smfi_getsymval for tp_conn_tls_update */

static const char *
macro(void *ctx, const char *name)
{
	return (smfi_getsymval((SMFICTX *)ctx, tp_unconst(name)));
}

/* no_reply - the return value of a stage the MTA may not wait for */

static sfsistat
no_reply(const struct tp_conn *c, unsigned long flag)
{
	return (c != NULL && (c->protocol & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE);
}

/* set_reply - smfi_setreply with the text made safe for libmilter */

static void
set_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text)
{
	char	safe[2 * TP_REASON_MAX];
	size_t	o = 0;

	/* libmilter treats the text as a format: a lone % drops it. */
	for (; *text && o + 2 < sizeof(safe); text++) {
		if (*text == '%')
			safe[o++] = '%';
		safe[o++] = (*text == '\r' || *text == '\n') ? ' ' : *text;
	}
	safe[o] = 0;
	if (smfi_setreply(ctx, tp_unconst(code), tp_unconst(xcode), safe) != MI_SUCCESS)
		tp_log(LOG_WARNING, "could not set reply \"%s %s %s\"", code, xcode, safe);
}

#define TEMPFAIL_TEXT	"TLS policy temporarily unavailable: "

/* tempfail - refuse for now, and say why */

static sfsistat
tempfail(SMFICTX *ctx, const struct tp_conn *c, const char *why)
{
	char	text[256];

	snprintf(text, sizeof(text), TEMPFAIL_TEXT "%.200s", why);
	tp_log(LOG_ERR, "session=%s tempfail reason=\"%s\"", c ? c->session_id : "-", why);
	set_reply(ctx, "451", "4.3.0", text);
	return (SMFIS_TEMPFAIL);
}

/* tempfail_message - tempfail at end of message, with its record */

static sfsistat
tempfail_message(SMFICTX *ctx, struct tp_conn *c, const char *why)
{
	char	reply[256];

	snprintf(reply, sizeof(reply), "451 4.3.0 " TEMPFAIL_TEXT "%.200s", why);
	tp_conn_message_end(c, "tempfailed", reply);
	return (tempfail(ctx, c, why));
}

/* conn_get - the connection's state; created only where a session starts */

static struct tp_conn *
conn_get(SMFICTX *ctx, bool create)
{
	struct tp_conn *c = smfi_getpriv(ctx);

	if (c == NULL && create && (c = tp_conn_new()) != NULL) {
		if (c->policy == NULL || smfi_setpriv(ctx, c) != MI_SUCCESS) {
			tp_conn_free(c);
			c = NULL;
		}
	}
	return (c);
}

/* fail_later - remember a failure at a stage that cannot reply */

static void
fail_later(struct tp_conn *c, const char *why)
{
	if (c->broken == NULL)
		c->broken = why;
}

/* mlfi_negotiate - ask only for what we use, and for the macros we need */

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	       unsigned long f2, unsigned long f3, unsigned long *pf0,
	       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct tp_conn *c = conn_get(ctx, true);
	unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
	unsigned long proto = SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NOEOH
	| SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR;

	(void)f2, (void)f3;
	if (!tp_config.add_header)
		proto = (proto & ~SMFIP_NR_HDR) | SMFIP_NOHDRS;
	if (!tp_config.reply_at_data)
		proto |= SMFIP_NODATA;
	*pf0 = f0 & actions;
	/* Without our state we must be able to refuse at every stage. */
	*pf1 = c != NULL ? f1 & proto : 0;
	*pf2 = *pf3 = 0;
	if (c != NULL) {
		c->actions = *pf0;
		c->protocol = *pf1;
	}
	/* Even without state: a session that gets it later needs its macros. */
	if (!(f0 & SMFIF_SETSYMLIST)) {
		if (!warned_symlist++)
			tp_log(LOG_WARNING, "the MTA cannot be asked for macros (no SMFIF_SETSYMLIST): "
			       "configure its macro lists as the README says, or TLS after STARTTLS "
			       "may not be seen");
	} else {
		for (size_t i = 0; i < sizeof(symlists) / sizeof(symlists[0]); i++)
			if (smfi_setsymlist(ctx, symlists[i].stage, tp_unconst(symlists[i].macros)) != MI_SUCCESS
			    && c != NULL)
				fail_later(c, "could not ask the MTA for macros");
	}
	if (!(f0 & SMFIF_QUARANTINE) && !warned_quarantine++)
		tp_log(LOG_WARNING, "the MTA offers no quarantine: action=quarantine will tempfail");
	return (SMFIS_CONTINUE);
}

/* client_address - the client's address from the connect arguments */

static void
client_address(struct tp_conn *c, SMFICTX *ctx, _SOCK_ADDR *sa)
{
	char	buf[INET6_ADDRSTRLEN];
	const char *addr = NULL;

	if (sa != NULL && sa->sa_family == AF_INET)
		addr = inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, buf, sizeof(buf));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		addr = inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, buf, sizeof(buf));
	if (addr == NULL)
		addr = smfi_getsymval(ctx, tp_unconst("{client_addr}"));
	if (tp_conn_set(&c->client_addr, addr) < 0)
		fail_later(c, "out of memory");
}

/* mlfi_connect - who the client is and where it came in */

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct tp_conn *c = conn_get(ctx, true);
	const char *name;

	if (c == NULL)
		return (SMFIS_CONTINUE);
	client_address(c, ctx, sa);
	name = smfi_getsymval(ctx, tp_unconst("{client_name}"));
	name = tp_client_name_verified(name ? name : hostname, smfi_getsymval(ctx, tp_unconst("{client_resolve}")));
	if (tp_conn_set(&c->client_name, name) < 0
	    || tp_conn_set(&c->daemon_name, smfi_getsymval(ctx, tp_unconst("{daemon_name}"))) < 0
	    || tp_conn_set(&c->daemon_port, smfi_getsymval(ctx, tp_unconst("{daemon_port}"))) < 0
	    || tp_conn_set(&c->daemon_flags, smfi_getsymval(ctx, tp_unconst("{daemon_flags}"))) < 0)
		fail_later(c, "out of memory");
	if (tp_conn_tls_update(c, macro, ctx, TP_AT_CONNECT) < 0)
		fail_later(c, "out of memory");
	return (no_reply(c, SMFIP_NR_CONN));
}

/* mlfi_helo - the HELO name; TLS may have begun since the last one */

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct tp_conn *c = conn_get(ctx, false);

	if (c == NULL)
		return (SMFIS_CONTINUE);
	if (tp_conn_set(&c->helo, helo) < 0)
		fail_later(c, "out of memory");
	if (tp_conn_tls_update(c, macro, ctx, TP_AT_HELO) < 0)
		fail_later(c, "out of memory");
	return (no_reply(c, SMFIP_NR_HELO));
}

/* mlfi_envfrom - a new message; no decision yet, so no round trip */

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct tp_conn *c = conn_get(ctx, false);

	if (c == NULL)
		return (SMFIS_CONTINUE);
	if (c->message_open)
		tp_conn_message_end(c, "aborted", NULL);
	c->message_open = true;
	if (tp_conn_set(&c->sender, argv[0]) < 0
	    || tp_conn_set(&c->queue_id, smfi_getsymval(ctx, tp_unconst("i"))) < 0
	    || tp_conn_set(&c->auth, smfi_getsymval(ctx, tp_unconst("{auth_authen}"))) < 0)
		fail_later(c, "out of memory");
	if (tp_conn_tls_update(c, macro, ctx, TP_AT_LATER) < 0)
		fail_later(c, "out of memory");
	return (no_reply(c, SMFIP_NR_MAIL));
}

/* note_queue_id - the MTA's queue id, once it has one */

static void
note_queue_id(struct tp_conn *c, SMFICTX *ctx)
{
	const char *qid = smfi_getsymval(ctx, tp_unconst("i"));

	if (qid != NULL && *qid != 0 && tp_conn_set(&c->queue_id, qid) < 0)
		fail_later(c, "out of memory");
}

/* record_decision - keep a recipient's decision for the logs */

static int
record_decision(struct tp_record_rcpt *r, const struct tp_decision *d)
{
	char	reply[TP_REASON_MAX + 16];

	memcpy(r->rules, d->rules, sizeof(r->rules));
	r->nrules = d->nrules;
	r->decider = d->decider;
	r->level = d->level;
	r->result = d->result;
	r->action = d->action;
	r->testing = d->testing;
	if ((r->reason = strdup(d->reason)) == NULL)
		return (-1);
	if (d->result == TP_RESULT_FAIL) {
		snprintf(reply, sizeof(reply), "%s %s %s", d->reply_code, d->reply_xcode, d->reply_text);
		if ((r->reply = strdup(reply)) == NULL)
			return (-1);
	}
	return (0);
}

/* refuse - send the decision's reply and refuse the recipient */

static sfsistat
refuse(SMFICTX *ctx, struct tp_record_rcpt *r, const struct tp_decision *d)
{
	r->refused = true;
	set_reply(ctx, d->reply_code, d->reply_xcode, d->reply_text);
	return (d->action == TP_ACTION_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT);
}

/* note_error - record a recipient as not decided, and why */

static void
note_error(struct tp_record_rcpt *r, const char *why)
{
	r->error = true;
	free(tp_unconst(r->reason));
	r->reason = strdup(why);
}

/* rcpt_error - tempfail one recipient, recorded as an error with its reason */

static sfsistat
rcpt_error(SMFICTX *ctx, const struct tp_conn *c, struct tp_record_rcpt *r, const char *why)
{
	note_error(r, why);
	return (tempfail(ctx, c, why));
}

/* mlfi_envrcpt - the decision for one recipient */

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct tp_conn *c = conn_get(ctx, false);
	struct tp_record_rcpt *r;
	struct tp_tls_state tls;
	struct tp_tls_macros raw;
	struct tp_decision d;
	struct tp_query q;

	if (c == NULL)
		return (tempfail(ctx, c, "connection state lost"));
	if (tp_conn_tls_update(c, macro, ctx, TP_AT_LATER) < 0)
		fail_later(c, "out of memory");
	note_queue_id(c, ctx);
	if (c->nrcpts == TP_RCPTS_MAX) {
		if (c->rcpts_over++ == 0)
			tp_log(LOG_NOTICE, "session=%s more than %d recipients in one message: "
			       "the rest tempfailed", c->session_id, TP_RCPTS_MAX);
		set_reply(ctx, "452", "4.5.3", "Too many recipients");
		return (SMFIS_TEMPFAIL);
	}
	if ((r = tp_conn_add_rcpt(c)) == NULL)
		return (tempfail(ctx, c, "out of memory"));
	if ((r->addr = strndup(argv[0], 1024)) == NULL)
		return (rcpt_error(ctx, c, r, "out of memory"));
	if (c->broken != NULL)
		return (rcpt_error(ctx, c, r, c->broken));
	tp_conn_tls_state(c, &tls, &raw);
	q = (struct tp_query) {
		c->client_addr, c->client_name, c->sender ? c->sender : "", argv[0],
		&tls, tp_config.dry_run, tp_config.rcpt_delimiter
	};
	if (tp_policy_decide(c->policy, &q, &d) < 0) {
		/* A dry run refuses nothing: the error is recorded, not enforced. */
		if (tp_config.dry_run) {
			note_error(r, d.reason);
			tp_log(LOG_WARNING, "session=%s dry run: would have tempfailed, reason=\"%s\"",
			       c->session_id, d.reason);
			return (SMFIS_CONTINUE);
		}
		return (rcpt_error(ctx, c, r, d.reason));
	}
	if (record_decision(r, &d) < 0)
		return (rcpt_error(ctx, c, r, "out of memory"));
	if (d.result == TP_RESULT_FAIL && !d.testing
	    && (d.action == TP_ACTION_REJECT || d.action == TP_ACTION_TEMPFAIL))
		return (refuse(ctx, r, &d));
	return (SMFIS_CONTINUE);
}

/* mlfi_header - count forged copies of our header */

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct tp_conn *c = conn_get(ctx, false);

	(void)value;
	if (c != NULL && strcasecmp(name, tp_config.header_name) == 0)
		c->forged_headers++;
	return (no_reply(c, SMFIP_NR_HDR));
}

/* quarantine_reason - the reason to quarantine the message, or NULL */

static const struct tp_record_rcpt *
quarantine_reason(const struct tp_conn *c)
{
	for (size_t i = 0; i < c->nrcpts; i++) {
		const struct tp_record_rcpt *r = &c->rcpts[i];

		if (!r->refused && !r->error && r->result == TP_RESULT_FAIL && !r->testing
		    && r->action == TP_ACTION_QUARANTINE)
			return (r);
	}
	return (NULL);
}

/* fix_headers - remove forged copies of our header, add ours */

static int
fix_headers(SMFICTX *ctx, struct tp_conn *c, const struct tp_record *rec)
{
	char	value[1024];

	if (!tp_config.add_header)
		return (0);
	/* From the last, so that the indexes of the others hold. */
	for (unsigned i = c->forged_headers; i > 0; i--)
		if (smfi_chgheader(ctx, tp_config.header_name, (int)i, NULL) != MI_SUCCESS)
			return (-1);
	if (c->forged_headers)
		tp_log(LOG_NOTICE, "session=%s removed=%u forged %s header(s)", c->session_id,
		       c->forged_headers, tp_config.header_name);
	tp_record_header(rec, value, sizeof(value));
	return (smfi_addheader(ctx, tp_config.header_name, value) == MI_SUCCESS ? 0 : -1);
}

/* mlfi_eom - whole-message actions and the result header */

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct tp_conn *c = conn_get(ctx, false);
	const struct tp_record_rcpt *q;
	struct tp_tls_state tls;
	struct tp_tls_macros raw;
	struct tp_record rec;
	char	why[TP_REASON_MAX + 32];

	if (c == NULL)
		return (tempfail(ctx, c, "connection state lost"));
	note_queue_id(c, ctx);
	if (c->broken != NULL)
		return (tempfail_message(ctx, c, c->broken));
	tp_conn_tls_state(c, &tls, &raw);
	tp_conn_record(c, &tls, "accepted", &rec);
	if (fix_headers(ctx, c, &rec) < 0)
		return (tempfail_message(ctx, c, "could not change headers"));
	if ((q = quarantine_reason(c)) != NULL) {
		snprintf(why, sizeof(why), "TLS policy: %s", q->reason);
		if (!(c->actions & SMFIF_QUARANTINE) || smfi_quarantine(ctx, why) != MI_SUCCESS)
			return (tempfail_message(ctx, c, "could not quarantine"));
	}
	tp_conn_message_end(c, q ? "quarantined" : "accepted", NULL);
	return (SMFIS_CONTINUE);
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

/* mlfi_abort - the message ended early; Postfix may say so twice */

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct tp_conn *c = conn_get(ctx, false);

	if (c != NULL)
		tp_conn_message_end(c, ended_outcome(c), NULL);
	return (SMFIS_CONTINUE);
}

/* mlfi_close - may be the only callback a connection gets */

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct tp_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		tp_conn_message_end(c, ended_outcome(c), NULL);
		tp_conn_session_end(c);
		smfi_setpriv(ctx, NULL);
		tp_conn_free(c);
	}
	return (SMFIS_CONTINUE);
}

/*
 * mlfi_data - reply at DATA, over TCP only. Postfix sets no TCP_NODELAY
 * on its milter socket and smtpd sends the DATA-stage macros on their own
 * when it hands the milter connection to cleanup; unanswered, their
 * delayed ACK holds cleanup's end-of-message packet back ~40 ms over
 * inet:. A reply here costs one round trip (four replies a message) and
 * removes the stall. A unix: socket has no Nagle and no delayed ACK: DATA
 * is negotiated away there (three replies).
 */
static sfsistat
mlfi_data(SMFICTX *ctx)
{
	(void)ctx;
	return (SMFIS_CONTINUE);
}

static char filter_name[] = "tlspolicy";

struct smfiDesc tp_milter_desc = {
	filter_name,			/* filter name */
	SMFI_VERSION,			/* version code */
	SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	mlfi_connect,			/* connection info filter */
	mlfi_helo,			/* SMTP HELO command filter */
	mlfi_envfrom,			/* envelope sender filter */
	mlfi_envrcpt,			/* envelope recipient filter */
	mlfi_header,			/* header filter */
	NULL,				/* end of header */
	NULL,				/* body block filter */
	mlfi_eom,			/* end of message */
	mlfi_abort,			/* message aborted */
	mlfi_close,			/* connection cleanup */
	NULL,				/* unknown SMTP commands */
	mlfi_data,			/* DATA command */
	mlfi_negotiate,			/* once, at the start of each connection */
};
