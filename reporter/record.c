/*
 * NAME
 *	record 3
 * SUMMARY
 *	the decision record as a syslog line and as a result header
 * DESCRIPTION
 *	See tp_record.h.
 */

#include <string.h>

#include "util/tp_buf.h"
#include "util/tp_escape.h"
#include "reporter/tp_record.h"

/* put_str - key="escaped value" */

static void
put_str(struct tp_buf *o, const char *key, const char *value)
{
	tp_buf_adds(o, " ");
	tp_buf_adds(o, key);
	TP_BUF_LIT(o, "=\"");
	tp_buf_add_log(o, value);
	TP_BUF_LIT(o, "\"");
}

/* put_word - key=word, for words this program chose */

static void
put_word(struct tp_buf *o, const char *key, const char *word)
{
	tp_buf_adds(o, " ");
	tp_buf_adds(o, key);
	TP_BUF_LIT(o, "=");
	tp_buf_adds(o, word);
}

/* put_ref - FILE:LINE of a rule, escaped */

static void
put_ref(struct tp_buf *o, const struct tp_rule *r)
{
	tp_buf_add_log(o, r->file);
	TP_BUF_LIT(o, ":");
	tp_buf_addu(o, r->line);
}

/* put_tls - the TLS state, as key=value pairs */

static void
put_tls(struct tp_buf *o, const struct tp_tls_state *tls)
{
	if (tls == NULL || tls->how == TP_TLS_HOW_NONE) {
		tp_buf_adds(o, " tls=none");
		return;
	}
	put_str(o, "tls", tls->version);
	put_word(o, "via", tp_tls_how_name(tls->how));
	put_str(o, "cipher", tls->cipher);
	if (tls->bits >= 0) {
		tp_buf_adds(o, " bits=");
		tp_buf_addi(o, tls->bits);
	}
	put_word(o, "verify", tp_verify_name(tls->verify));
	if (tls->cert_subject)
		put_str(o, "subject", tls->cert_subject);
	if (tls->cert_issuer)
		put_str(o, "issuer", tls->cert_issuer);
}

/* put_rules - rules="FILE:LINE,FILE:LINE" decided_by="FILE:LINE" */

static void
put_rules(struct tp_buf *o, const struct tp_record_rcpt *r)
{
	tp_buf_adds(o, " rules=\"");
	for (size_t i = 0; i < r->nrules; i++) {
		if (i)
			TP_BUF_LIT(o, ",");
		put_ref(o, r->rules[i]);
	}
	TP_BUF_LIT(o, "\"");
	if (r->decider) {
		tp_buf_adds(o, " decided_by=\"");
		put_ref(o, r->decider);
		TP_BUF_LIT(o, "\"");
	}
}

/* tp_record_syslog - one recipient's decision as one key=value line */

size_t
tp_record_syslog(const struct tp_record *rec, size_t i, char *buf, size_t size)
{
	const struct tp_record_rcpt *r = &rec->rcpts[i];
	struct tp_buf o = TP_BUF(buf, size);

	buf[0] = 0;
	tp_buf_adds(&o, "session=");
	tp_buf_adds(&o, rec->session_id);
	put_str(&o, "queue_id", rec->queue_id ? rec->queue_id : "NOQUEUE");
	put_str(&o, "client", rec->client_addr);
	put_str(&o, "client_name", rec->client_name);
	put_str(&o, "helo", rec->helo);
	put_str(&o, "listener", rec->daemon_name);
	put_tls(&o, rec->tls);
	put_str(&o, "sender", rec->sender);
	put_str(&o, "rcpt", r->addr);
	if (r->error) {
		tp_buf_adds(&o, " result=error action=tempfail");
	} else {
		put_word(&o, "level", tp_level_name(r->level));
		put_word(&o, "result", tp_result_name(r->result));
		if (r->result == TP_RESULT_FAIL) {
			put_word(&o, "action", tp_action_name(r->action));
			put_word(&o, "testing", r->testing ? "yes" : "no");
		}
		put_rules(&o, r);
	}
	put_word(&o, "refused", r->refused ? "yes" : "no");
	if (r->reply)
		put_str(&o, "reply", r->reply);
	put_str(&o, "reason", r->reason);
	put_word(&o, "outcome", rec->outcome ? rec->outcome : "pending");
	return (o.len);
}

/* rank - how much a result says about a message; higher says more */

static int
rank(enum tp_result result)
{
	static const int ranks[] = {
		[TP_RESULT_EXEMPT] = 0, [TP_RESULT_SKIP] = 1, [TP_RESULT_PASS] = 2,
		[TP_RESULT_UNMET] = 3, [TP_RESULT_FAIL] = 4,
	};

	return (ranks[result]);
}

/* tp_record_worst - the accepted recipient whose decision speaks for the message */

const struct tp_record_rcpt *
tp_record_worst(const struct tp_record *rec)
{
	const struct tp_record_rcpt *worst = NULL;

	for (size_t i = 0; i < rec->nrcpts; i++) {
		const struct tp_record_rcpt *r = &rec->rcpts[i];

		if (r->refused || r->error)
			continue;
		if (worst == NULL || rank(r->result) > rank(worst->result))
			worst = r;
	}
	return (worst);
}

/* tp_record_header - the result header's value */

size_t
tp_record_header(const struct tp_record *rec, char *buf, size_t size)
{
	const struct tp_record_rcpt *w = tp_record_worst(rec);
	struct tp_buf o = TP_BUF(buf, size < 900 ? size : 900);

	buf[0] = 0;
	tp_buf_add_log(&o, rec->hostname);
	TP_BUF_LIT(&o, ";");
	put_tls(&o, rec->tls);
	tp_buf_adds(&o, "; result=");
	tp_buf_adds(&o, w ? tp_result_name(w->result) : "none");
	if (w && w->result == TP_RESULT_FAIL) {
		put_word(&o, "action", tp_action_name(w->action));
		if (w->testing)
			tp_buf_adds(&o, " testing=yes");
	}
	if (w && w->decider) {
		tp_buf_adds(&o, " rule=\"");
		put_ref(&o, w->decider);
		TP_BUF_LIT(&o, "\"");
	}
	if (w && (w->result == TP_RESULT_FAIL || w->result == TP_RESULT_UNMET))
		put_str(&o, "reason", w->reason);
	tp_buf_adds(&o, "; session=");
	tp_buf_adds(&o, rec->session_id);
	return (o.len);
}
