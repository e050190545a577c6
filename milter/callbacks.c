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
 *	by it. With early_events = no, connect, HELO and MAIL are negotiated
 *	away as well and RCPT asks for their macros (tp_macro_list).
 *
 *	Enforcement is per recipient at RCPT TO, as Postfix's own
 *	restrictions are: only the recipients whose policy fails are
 *	refused. quarantine and tag act on the whole message at end of
 *	message, which also removes forged copies of the result header
 *	(unless strip_header = mta: the MTA removes them, and sends us no
 *	header) and adds ours.
 *
 *	Fail safe: whatever goes wrong inside the milter (no memory, a
 *	client address the engine cannot read, lost state) tempfails the
 *	recipient or message with the reason; nothing is accepted that
 *	policy might have refused. At a no-reply stage a failure is kept
 *	in the connection and reported at the next stage that replies.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <libmilter/mfapi.h>

#include "milter/milter.h"
#include "util/tp_escape.h"

/* libmilter's name of each stage that asks for macros (tp_macro_list). */
static const int symlist_stage[TP_MACRO_STAGES] = {
	[TP_STAGE_CONNECT] = SMFIM_CONNECT,
	[TP_STAGE_HELO] = SMFIM_HELO,
	[TP_STAGE_MAIL] = SMFIM_ENVFROM,
	[TP_STAGE_RCPT] = SMFIM_ENVRCPT,
	[TP_STAGE_EOM] = SMFIM_EOM,
};

/*
 * Set by the first connection that finds an MTA feature missing, so that
 * it is logged once: connections run in threads of their own.
 */
static atomic_flag warned_symlist = ATOMIC_FLAG_INIT;
static atomic_flag warned_quarantine = ATOMIC_FLAG_INIT;

/* macro - smfi_getsymval for the connection's macro source */

static const char *
macro(void *ctx, const char *name)
{
	return (smfi_getsymval((SMFICTX *)ctx, tp_unconst(name)));
}

/* macros - the macros of this stage, for conn.c */

static struct tp_macro_source
macros(SMFICTX *ctx)
{
	return ((struct tp_macro_source) {macro, ctx});
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

	/* libmilter reads the text as a format (a lone % drops it): no %. */
	tp_escape_reply(text, safe, sizeof(safe));
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

/* conn_new - a connection, with what it needs of the daemon */

static struct tp_conn *
conn_new(void)
{
	const struct tp_conn_env env = {
		tp_config.hostname, tp_listener_is_implicit, tp_current_policy,
		tp_log_text, tp_audit_log, &tp_stats,
	};

	return (tp_conn_new(&env));
}

/* conn_get - the connection's state; created only where a session starts */

static struct tp_conn *
conn_get(SMFICTX *ctx, bool create)
{
	struct tp_conn *c = smfi_getpriv(ctx);

	if (c == NULL && create && (c = conn_new()) != NULL) {
		if (c->policy == NULL || smfi_setpriv(ctx, c) != MI_SUCCESS) {
			tp_conn_free(c);
			c = NULL;
		}
	}
	return (c);
}

/* ask_macros - the macros each stage needs; a list replaces the MTA's default */

static int
ask_macros(SMFICTX *ctx)
{
	char	list[TP_MACRO_LIST_MAX];

	for (size_t i = 0; i < TP_MACRO_STAGES; i++)
		if (tp_macro_list(i, !tp_config.early_events, list, sizeof(list)) == 0
		    || smfi_setsymlist(ctx, symlist_stage[i], list) != MI_SUCCESS)
			return (-1);
	return (0);
}

/* warn_once - a warning logged by the first thread that comes, only */

static void
warn_once(atomic_flag *warned, const char *text)
{
	if (!atomic_flag_test_and_set(warned))
		tp_log(LOG_WARNING, "%s", text);
}

/*
 * headers_watched - whether forged copies of our header are ours to remove:
 * not when we add none, nor with strip_header = mta (Postfix's
 * header_checks does it, and the MTA need not send us every header)
 */

static bool
headers_watched(void)
{
	return (tp_config.add_header && !tp_config.strip_header_mta);
}

/* protocol_wanted - SMFIP_*: every stage we do not use negotiated away */

static unsigned long
protocol_wanted(void)
{
	unsigned long proto = SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NOEOH
	| SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR;

	if (!headers_watched())
		proto = (proto & ~SMFIP_NR_HDR) | SMFIP_NOHDRS;
	/* Then every RCPT brings what they would have said (ask_macros). */
	if (!tp_config.early_events)
		proto |= SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL;
	if (!tp_config.reply_at_data)
		proto |= SMFIP_NODATA;
	return (proto);
}

/* mlfi_negotiate - ask only for what we use, and for the macros we need */

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	       unsigned long f2, unsigned long f3, unsigned long *pf0,
	       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct tp_conn *c = conn_get(ctx, true);
	unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
	unsigned long proto = protocol_wanted();

	(void)f2, (void)f3;
	*pf0 = f0 & actions;
	/* Without our state we must be able to refuse at every stage. */
	*pf1 = c != NULL ? f1 & proto : 0;
	*pf2 = *pf3 = 0;
	if (c != NULL) {
		c->actions = *pf0;
		c->protocol = *pf1;
	}
	/* Even without state: a session that gets it later needs its macros. */
	if (!(f0 & SMFIF_SETSYMLIST))
		warn_once(&warned_symlist, "the MTA cannot be asked for macros (no SMFIF_SETSYMLIST): "
			  "configure its macro lists as the README says, or TLS after STARTTLS "
			  "may not be seen");
	else if (ask_macros(ctx) < 0 && c != NULL)
		tp_conn_fail(c, "could not ask the MTA for macros");
	if (!(f0 & SMFIF_QUARANTINE))
		warn_once(&warned_quarantine, "the MTA offers no quarantine: "
			  "action=quarantine will tempfail");
	return (SMFIS_CONTINUE);
}

/* client_address - the client's address from the connect arguments, or NULL */

static const char *
client_address(const _SOCK_ADDR *sa, char *buf, socklen_t size)
{
	if (sa != NULL && sa->sa_family == AF_INET)
		return (inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, size));
	if (sa != NULL && sa->sa_family == AF_INET6)
		return (inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, size));
	return (NULL);
}

/* mlfi_connect - who the client is and where it came in */

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct tp_conn *c = conn_get(ctx, true);
	struct tp_macro_source m = macros(ctx);
	char	addr[INET6_ADDRSTRLEN];

	if (c == NULL)
		return (SMFIS_CONTINUE);
	tp_conn_connect(c, &m, hostname, client_address(sa, addr, sizeof(addr)));
	return (no_reply(c, SMFIP_NR_CONN));
}

/* mlfi_helo - the HELO name; TLS may have begun since the last one */

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct tp_conn *c = conn_get(ctx, false);
	struct tp_macro_source m = macros(ctx);

	if (c == NULL)
		return (SMFIS_CONTINUE);
	tp_conn_helo(c, &m, helo);
	return (no_reply(c, SMFIP_NR_HELO));
}

/* mlfi_envfrom - a new message; no decision yet, so no round trip */

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct tp_conn *c = conn_get(ctx, false);
	struct tp_macro_source m = macros(ctx);

	if (c == NULL)
		return (SMFIS_CONTINUE);
	tp_conn_mail(c, &m, argv[0]);
	return (no_reply(c, SMFIP_NR_MAIL));
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

/* too_many - tempfail a recipient beyond TP_RCPTS_MAX; logged once a message */

static sfsistat
too_many(SMFICTX *ctx, struct tp_conn *c)
{
	if (c->rcpts_over++ == 0)
		tp_log(LOG_NOTICE, "session=%s more than %d recipients in one message: "
		       "the rest tempfailed", c->session_id, TP_RCPTS_MAX);
	set_reply(ctx, "452", "4.5.3", "Too many recipients");
	return (SMFIS_TEMPFAIL);
}

/* undecided - the engine could not decide: tempfail, or in a dry run note it */

static sfsistat
undecided(SMFICTX *ctx, const struct tp_conn *c, struct tp_record_rcpt *r, const char *why)
{
	/* A dry run refuses nothing: the error is recorded, not enforced. */
	if (!tp_config.dry_run)
		return (rcpt_error(ctx, c, r, why));
	note_error(r, why);
	tp_log(LOG_WARNING, "session=%s dry run: would have tempfailed, reason=\"%s\"",
	       c->session_id, why);
	return (SMFIS_CONTINUE);
}

/* mlfi_envrcpt - the decision for one recipient */

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct tp_conn *c = conn_get(ctx, false);
	struct tp_macro_source m = macros(ctx);
	struct tp_record_rcpt *r;
	struct tp_decision d;
	struct tp_query q;

	if (c == NULL)
		return (tempfail(ctx, c, "connection state lost"));
	tp_conn_rcpt(c, &m);
	if (c->nrcpts == TP_RCPTS_MAX)
		return (too_many(ctx, c));
	if ((r = tp_conn_add_rcpt(c)) == NULL)
		return (tempfail(ctx, c, "out of memory"));
	if ((r->addr = strndup(argv[0], 1024)) == NULL)
		return (rcpt_error(ctx, c, r, "out of memory"));
	if (c->broken != NULL)
		return (rcpt_error(ctx, c, r, c->broken));
	q = (struct tp_query) {
		c->client_addr, c->client_name, c->sender ? c->sender : "", argv[0],
		&c->tls, tp_config.dry_run, tp_config.rcpt_delimiter
	};
	if (tp_policy_decide(c->policy, &q, &d) < 0)
		return (undecided(ctx, c, r, d.reason));
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
	/* Called anyway by an MTA that cannot leave the headers out. */
	if (c != NULL && headers_watched() && strcasecmp(name, tp_config.header_name) == 0)
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
	struct tp_macro_source m = macros(ctx);
	const struct tp_record_rcpt *q;
	struct tp_record rec;
	char	why[TP_REASON_MAX + 32];

	if (c == NULL)
		return (tempfail(ctx, c, "connection state lost"));
	tp_conn_queue_id(c, &m);
	if (c->broken != NULL)
		return (tempfail_message(ctx, c, c->broken));
	tp_conn_record(c, "accepted", &rec);
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

/* mlfi_abort - the message ended early; Postfix may say so twice */

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct tp_conn *c = conn_get(ctx, false);

	if (c != NULL)
		tp_conn_abort(c);
	return (SMFIS_CONTINUE);
}

/* mlfi_close - may be the only callback a connection gets */

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct tp_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
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
