/*
 * NAME
 *	record 3
 * SUMMARY
 *	the decision record prepared once, as syslog lines and a result header
 * DESCRIPTION
 *	See tp_record.h.
 */

#include <string.h>

#include "util/tp_buf.h"
#include "util/tp_escape.h"
#include "reporter/tp_record.h"

/* tp_record_str_init - classify a string once, for every output */

void
tp_record_str_init(struct tp_record_str *rs, const char *s)
{
	rs->s = s;
	rs->len = s != NULL ? tp_escape_span(s, TP_FIELD_MAX) : 0;
	/* The span stops at the terminator: s[len] is there to read. */
	rs->plain = s != NULL && s[rs->len] == 0 && rs->len < TP_FIELD_MAX;
}

/* tp_record_text_rcpt - recipient i's strings, classified */

const struct tp_record_rcpt_text *
tp_record_text_rcpt(const struct tp_record_text *t, size_t i,
		    struct tp_record_rcpt_text *tmp)
{
	const struct tp_record_rcpt *r = &t->rec->rcpts[i];

	if (i < TP_RECORD_TEXT_RCPTS)
		return (&t->rcpts[i]);
	tp_record_str_init(&tmp->addr, r->addr);
	tp_record_str_init(&tmp->reason, r->reason);
	tp_record_str_init(&tmp->reply, r->reply);
	return (tmp);
}

/* tp_record_text_file - a rule's file, classified */

const struct tp_record_str *
tp_record_text_file(const struct tp_record_text *t, const char *file,
		    struct tp_record_str *tmp)
{
	/* Rules point at their policy's own copy of its name. */
	if (file == t->policy_file.s)
		return (&t->policy_file);
	tp_record_str_init(tmp, file);
	return (tmp);
}

/* log_str - a classified string as a log value, escaped */

static void
log_str(struct tp_buf *o, const struct tp_record_str *rs)
{
	if (rs->plain)
		tp_buf_add(o, rs->s, rs->len);
	else
		tp_buf_add_log(o, rs->s);
}

/* put_str - key="escaped value" */

static void
put_str(struct tp_buf *o, const char *key, const struct tp_record_str *rs)
{
	TP_BUF_LIT(o, " ");
	tp_buf_adds(o, key);
	TP_BUF_LIT(o, "=\"");
	log_str(o, rs);
	TP_BUF_LIT(o, "\"");
}

/* put_word - key=word, for words this program chose */

static void
put_word(struct tp_buf *o, const char *key, const char *word)
{
	TP_BUF_LIT(o, " ");
	tp_buf_adds(o, key);
	TP_BUF_LIT(o, "=");
	tp_buf_adds(o, word);
}

/* put_ref - FILE:LINE of a rule, escaped */

static void
put_ref(struct tp_buf *o, const struct tp_record_text *t, const struct tp_rule *r)
{
	struct tp_record_str tmp;

	log_str(o, tp_record_text_file(t, r->file, &tmp));
	TP_BUF_LIT(o, ":");
	tp_buf_addu(o, r->line);
}

/* put_tls - the TLS state, as key=value pairs */

static void
put_tls(struct tp_buf *o, const struct tp_record_text *t)
{
	const struct tp_tls_state *tls = t->rec->tls;

	if (tls == NULL || tls->how == TP_TLS_HOW_NONE) {
		TP_BUF_LIT(o, " tls=none");
		return;
	}
	put_str(o, "tls", &t->version);
	put_word(o, "via", tp_tls_how_name(tls->how));
	put_str(o, "cipher", &t->cipher);
	if (tls->bits >= 0) {
		TP_BUF_LIT(o, " bits=");
		tp_buf_addi(o, tls->bits);
	}
	put_word(o, "verify", tp_verify_name(tls->verify));
	if (tls->cert_subject)
		put_str(o, "subject", &t->subject);
	if (tls->cert_issuer)
		put_str(o, "issuer", &t->issuer);
}

/* put_rules - rules="FILE:LINE,FILE:LINE" decided_by="FILE:LINE" */

static void
put_rules(struct tp_buf *o, const struct tp_record_text *t,
	  const struct tp_record_rcpt *r)
{
	TP_BUF_LIT(o, " rules=\"");
	for (size_t i = 0; i < r->nrules; i++) {
		if (i)
			TP_BUF_LIT(o, ",");
		put_ref(o, t, r->rules[i]);
	}
	TP_BUF_LIT(o, "\"");
	if (r->decider) {
		TP_BUF_LIT(o, " decided_by=\"");
		put_ref(o, t, r->decider);
		TP_BUF_LIT(o, "\"");
	}
}

/* log_head - the syslog line up to the recipient: the same on every line */

static void
log_head(struct tp_record_text *t)
{
	struct tp_buf o = TP_BUF(t->log_head, sizeof(t->log_head));
	static const struct tp_record_str noqueue = {"NOQUEUE", 7, true};

	TP_BUF_LIT(&o, "session=");
	tp_buf_adds(&o, t->rec->session_id);
	put_str(&o, "queue_id", t->queue_id.s ? &t->queue_id : &noqueue);
	put_str(&o, "client", &t->client_addr);
	put_str(&o, "client_name", &t->client_name);
	put_str(&o, "helo", &t->helo);
	put_str(&o, "listener", &t->daemon_name);
	put_tls(&o, t);
	put_str(&o, "sender", &t->sender);
	t->log_head_len = o.len;
}

/* tp_record_prepare - classify the record's strings once, for every output */

void
tp_record_prepare(const struct tp_record *rec, struct tp_record_text *t)
{
	const struct tp_tls_state *tls = rec->tls;
	int	on = tls != NULL && tls->how != TP_TLS_HOW_NONE;
	const struct {
		struct tp_record_str *rs;
		const char *s;
	}	strs[] = {
		{&t->session_id, rec->session_id}, {&t->queue_id, rec->queue_id},
		{&t->client_addr, rec->client_addr}, {&t->client_name, rec->client_name},
		{&t->helo, rec->helo}, {&t->daemon_name, rec->daemon_name},
		{&t->daemon_port, rec->daemon_port}, {&t->auth, rec->auth},
		{&t->sender, rec->sender}, {&t->policy_file, rec->policy_file},
		{&t->hostname, rec->hostname}, {&t->outcome, rec->outcome},
		{&t->reply, rec->reply},
		{&t->version, on ? tls->version : NULL},
		{&t->cipher, on ? tls->cipher : NULL},
		{&t->verify_raw, on ? tls->verify_raw : NULL},
		{&t->subject, on ? tls->cert_subject : NULL},
		{&t->issuer, on ? tls->cert_issuer : NULL},
	};

	t->rec = rec;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		tp_record_str_init(strs[i].rs, strs[i].s);
	for (size_t i = 0; i < rec->nrcpts && i < TP_RECORD_TEXT_RCPTS; i++) {
		tp_record_str_init(&t->rcpts[i].addr, rec->rcpts[i].addr);
		tp_record_str_init(&t->rcpts[i].reason, rec->rcpts[i].reason);
		tp_record_str_init(&t->rcpts[i].reply, rec->rcpts[i].reply);
	}
	log_head(t);
}

/* tp_record_syslog - one recipient's decision as one key=value line */

size_t
tp_record_syslog(const struct tp_record_text *t, size_t i, char *buf, size_t size)
{
	const struct tp_record_rcpt *r = &t->rec->rcpts[i];
	struct tp_record_rcpt_text tmp;
	const struct tp_record_rcpt_text *rt = tp_record_text_rcpt(t, i, &tmp);
	struct tp_buf o = TP_BUF(buf, size);

	buf[0] = 0;
	tp_buf_add(&o, t->log_head, t->log_head_len);
	put_str(&o, "rcpt", &rt->addr);
	if (r->error) {
		TP_BUF_LIT(&o, " result=error action=tempfail");
	} else {
		put_word(&o, "level", tp_level_name(r->level));
		put_word(&o, "result", tp_result_name(r->result));
		if (r->result == TP_RESULT_FAIL) {
			put_word(&o, "action", tp_action_name(r->action));
			put_word(&o, "testing", r->testing ? "yes" : "no");
		}
		put_rules(&o, t, r);
	}
	put_word(&o, "refused", r->refused ? "yes" : "no");
	if (r->reply)
		put_str(&o, "reply", &rt->reply);
	put_str(&o, "reason", &rt->reason);
	put_word(&o, "outcome", t->rec->outcome ? t->rec->outcome : "pending");
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
	struct tp_record_text t;
	struct tp_record_str reason;

	buf[0] = 0;
	tp_record_prepare(rec, &t);
	log_str(&o, &t.hostname);
	TP_BUF_LIT(&o, ";");
	put_tls(&o, &t);
	TP_BUF_LIT(&o, "; result=");
	tp_buf_adds(&o, w ? tp_result_name(w->result) : "none");
	if (w && w->result == TP_RESULT_FAIL) {
		put_word(&o, "action", tp_action_name(w->action));
		if (w->testing)
			TP_BUF_LIT(&o, " testing=yes");
	}
	if (w && w->decider) {
		TP_BUF_LIT(&o, " rule=\"");
		put_ref(&o, &t, w->decider);
		TP_BUF_LIT(&o, "\"");
	}
	if (w && (w->result == TP_RESULT_FAIL || w->result == TP_RESULT_UNMET)) {
		tp_record_str_init(&reason, w->reason);
		put_str(&o, "reason", &reason);
	}
	TP_BUF_LIT(&o, "; session=");
	tp_buf_adds(&o, rec->session_id);
	return (o.len);
}
