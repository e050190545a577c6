/*
 * NAME
 *	record 3
 * SUMMARY
 *	the decision record as a syslog line and as a result header
 * DESCRIPTION
 *	See tp_record.h.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tp_escape.h"
#include "tp_record.h"

/* A bounded string builder: never overflows, always terminated. */
struct out {
	char   *buf;
	size_t	size;
	size_t	len;
};

/* put - append formatted text, truncating at the end of the buffer */

__attribute__((format(printf, 2, 3)))
static void
put(struct out *o, const char *fmt,...)
{
	va_list ap;
	int	n;

	if (o->len + 1 >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

/* put_str - key="escaped value" */

static void
put_str(struct out *o, const char *key, const char *value)
{
	char	esc[TP_FIELD_MAX];

	put(o, " %s=\"%s\"", key, tp_escape(value, esc, sizeof(esc)));
}

/* put_tls - the TLS state, as key=value pairs */

static void
put_tls(struct out *o, const struct tp_tls_state *tls, const char *sep)
{
	char	esc[TP_FIELD_MAX];

	if (tls == NULL || tls->how == TP_TLS_HOW_NONE) {
		put(o, "%stls=none", sep);
		return;
	}
	put(o, "%stls=\"%s\"", sep, tp_escape(tls->version, esc, sizeof(esc)));
	put(o, "%svia=%s", sep, tp_tls_how_name(tls->how));
	put(o, "%scipher=\"%s\"", sep, tp_escape(tls->cipher, esc, sizeof(esc)));
	if (tls->bits >= 0)
		put(o, "%sbits=%d", sep, tls->bits);
	put(o, "%sverify=%s", sep, tp_verify_name(tls->verify));
	if (tls->cert_subject)
		put(o, "%ssubject=\"%s\"", sep, tp_escape(tls->cert_subject, esc, sizeof(esc)));
	if (tls->cert_issuer)
		put(o, "%sissuer=\"%s\"", sep, tp_escape(tls->cert_issuer, esc, sizeof(esc)));
}

/* put_rules - rules=FILE:LINE,FILE:LINE decided_by=FILE:LINE */

static void
put_rules(struct out *o, const struct tp_record_rcpt *r)
{
	char	esc[TP_FIELD_MAX];

	put(o, " rules=\"");
	for (size_t i = 0; i < r->nrules; i++)
		put(o, "%s%s:%u", i ? "," : "", tp_escape(r->rules[i]->file, esc, sizeof(esc)),
		    (unsigned)r->rules[i]->line);
	put(o, "\"");
	if (r->decider)
		put(o, " decided_by=\"%s:%u\"", tp_escape(r->decider->file, esc, sizeof(esc)),
		    (unsigned)r->decider->line);
}

/* tp_record_syslog - one recipient's decision as one key=value line */

size_t
tp_record_syslog(const struct tp_record *rec, size_t i, char *buf, size_t size)
{
	const struct tp_record_rcpt *r = &rec->rcpts[i];
	struct out o = {buf, size, 0};

	buf[0] = 0;
	put(&o, "session=%s", rec->session_id);
	put_str(&o, "queue_id", rec->queue_id ? rec->queue_id : "NOQUEUE");
	put_str(&o, "client", rec->client_addr);
	put_str(&o, "client_name", rec->client_name);
	put_str(&o, "helo", rec->helo);
	put_str(&o, "listener", rec->daemon_name);
	put_tls(&o, rec->tls, " ");
	put_str(&o, "sender", rec->sender);
	put_str(&o, "rcpt", r->addr);
	if (r->error) {
		put(&o, " result=error action=tempfail");
	} else {
		put(&o, " level=%s result=%s", tp_level_name(r->level), tp_result_name(r->result));
		if (r->result == TP_RESULT_FAIL)
			put(&o, " action=%s testing=%s", tp_action_name(r->action),
			    r->testing ? "yes" : "no");
		put_rules(&o, r);
	}
	put(&o, " refused=%s", r->refused ? "yes" : "no");
	if (r->reply)
		put_str(&o, "reply", r->reply);
	put_str(&o, "reason", r->reason);
	put(&o, " outcome=%s", rec->outcome ? rec->outcome : "pending");
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
	char	esc[TP_FIELD_MAX];
	struct out o = {buf, size < 900 ? size : 900, 0};

	buf[0] = 0;
	put(&o, "%s;", tp_escape(rec->hostname, esc, sizeof(esc)));
	put_tls(&o, rec->tls, " ");
	put(&o, "; result=%s", w ? tp_result_name(w->result) : "none");
	if (w && w->result == TP_RESULT_FAIL)
		put(&o, " action=%s%s", tp_action_name(w->action), w->testing ? " testing=yes" : "");
	if (w && w->decider)
		put(&o, " rule=\"%s:%u\"", tp_escape(w->decider->file, esc, sizeof(esc)),
		    (unsigned)w->decider->line);
	if (w && (w->result == TP_RESULT_FAIL || w->result == TP_RESULT_UNMET))
		put(&o, " reason=\"%s\"", tp_escape(w->reason, esc, sizeof(esc)));
	put(&o, "; session=%s", rec->session_id);
	return (o.len);
}
