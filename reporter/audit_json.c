/*
 * NAME
 *	audit_json 3
 * SUMMARY
 *	one message's decision record as one line of JSON
 * SYNOPSIS
 *	#include "reporter/tp_audit.h"
 *
 *	size_t	tp_audit_format(const struct tp_record *rec,
 *				const struct timespec *when,
 *				char *buf, size_t size);
 * DESCRIPTION
 *	See tp_audit.h and the schema in the README. Writing JSON is
 *	simple enough to do here; reading it (tlspolicyctl report) uses
 *	json-c.
 */

#include <string.h>

#include "reporter/tp_audit.h"
#include "util/tp_buf.h"
#include "util/tp_escape.h"
#include "policy/tp_names.h"

/* word - "name":"word", for words this program chose */

static void
word(struct tp_buf *j, const char *name, const char *w)
{
	TP_BUF_LIT(j, "\"");
	tp_buf_adds(j, name);
	TP_BUF_LIT(j, "\":\"");
	tp_buf_adds(j, w);
	TP_BUF_LIT(j, "\",");
}

/* digits - v in exactly n decimal digits, zero-padded */

static void
digits(struct tp_buf *j, long v, int n)
{
	char	d[8];

	for (int i = n - 1; i >= 0; i--, v /= 10)
		d[i] = (char)('0' + v % 10);
	tp_buf_add(j, d, (size_t)n);
}

/* key - "name": */

static void
key(struct tp_buf *j, const char *name)
{
	TP_BUF_LIT(j, "\"");
	tp_buf_adds(j, name);
	TP_BUF_LIT(j, "\":");
}

/* field - "name":"escaped value", */

static void
field(struct tp_buf *j, const char *name, const char *value)
{
	key(j, name);
	tp_buf_add_json(j, value);
	TP_BUF_LIT(j, ",");
}

/* domain_of - canonical domain of an address, or NULL */

static const char *
domain_of(const char *addr, struct tp_address *a)
{
	if (addr == NULL || tp_address_parse(addr, a) < 0 || !a->has_domain)
		return (NULL);
	return (a->domain);
}

/* rule_ref - "FILE:LINE" of a rule */

static void
rule_ref(struct tp_buf *j, const struct tp_rule *r)
{
	size_t	before = j->len;

	if (r == NULL) {
		TP_BUF_LIT(j, "null");
		return;
	}
	tp_buf_add_json(j, r->file);
	/* Put ":LINE" inside the closing quote. */
	if (!j->full && j->len > before) {
		j->len--;
		TP_BUF_LIT(j, ":");
		tp_buf_addu(j, r->line);
		TP_BUF_LIT(j, "\"");
	}
}

/* tls_object - the "tls" member */

static void
tls_object(struct tp_buf *j, const struct tp_tls_state *tls)
{
	int	on = tls != NULL && tls->how != TP_TLS_HOW_NONE;

	TP_BUF_LIT(j, "\"tls\":{");
	word(j, "how", tp_tls_how_name(on ? tls->how : TP_TLS_HOW_NONE));
	field(j, "version", on ? tls->version : NULL);
	field(j, "cipher", on ? tls->cipher : NULL);
	TP_BUF_LIT(j, "\"bits\":");
	if (on && tls->bits >= 0)
		tp_buf_addi(j, tls->bits);
	else
		TP_BUF_LIT(j, "null");
	TP_BUF_LIT(j, ",");
	word(j, "verify", tp_verify_name(on ? tls->verify : TP_VERIFY_NONE));
	field(j, "verify_raw", on ? tls->verify_raw : NULL);
	field(j, "subject", on ? tls->cert_subject : NULL);
	key(j, "issuer");
	tp_buf_add_json(j, on ? tls->cert_issuer : NULL);
	TP_BUF_LIT(j, "},");
}

/* rcpt_object - one recipient's decision */

static void
rcpt_object(struct tp_buf *j, const struct tp_record_rcpt *r)
{
	struct tp_address a;

	TP_BUF_LIT(j, "{");
	field(j, "addr", r->addr);
	field(j, "domain", domain_of(r->addr, &a));
	word(j, "level", r->error ? "none" : tp_level_name(r->level));
	word(j, "result", r->error ? "error" : tp_result_name(r->result));
	if (!r->error && r->result == TP_RESULT_FAIL)
		word(j, "action", tp_action_name(r->action));
	else
		TP_BUF_LIT(j, "\"action\":null,");
	TP_BUF_LIT(j, "\"testing\":");
	tp_buf_adds(j, r->testing ? "true" : "false");
	TP_BUF_LIT(j, ",\"refused\":");
	tp_buf_adds(j, r->refused ? "true" : "false");
	TP_BUF_LIT(j, ",\"rules\":[");
	for (size_t i = 0; i < r->nrules; i++) {
		if (i)
			TP_BUF_LIT(j, ",");
		rule_ref(j, r->rules[i]);
	}
	TP_BUF_LIT(j, "],\"decided_by\":");
	rule_ref(j, r->decider);
	TP_BUF_LIT(j, ",");
	field(j, "reason", r->reason);
	key(j, "reply");
	tp_buf_add_json(j, r->reply);
	TP_BUF_LIT(j, "}");
}

/* head - everything before the recipients */

static void
head(struct tp_buf *j, const struct tp_record *rec, const struct timespec *when)
{
	struct tm tm;
	struct tp_address a;

	gmtime_r(&when->tv_sec, &tm);
	TP_BUF_LIT(j, "{\"v\":1,\"time\":\"");
	digits(j, tm.tm_year + 1900L, 4);
	TP_BUF_LIT(j, "-");
	digits(j, tm.tm_mon + 1, 2);
	TP_BUF_LIT(j, "-");
	digits(j, tm.tm_mday, 2);
	TP_BUF_LIT(j, "T");
	digits(j, tm.tm_hour, 2);
	TP_BUF_LIT(j, ":");
	digits(j, tm.tm_min, 2);
	TP_BUF_LIT(j, ":");
	digits(j, tm.tm_sec, 2);
	TP_BUF_LIT(j, ".");
	digits(j, when->tv_nsec / 1000000, 3);
	TP_BUF_LIT(j, "Z\",");
	field(j, "host", rec->hostname);
	field(j, "session", rec->session_id);
	field(j, "queue_id", rec->queue_id);
	TP_BUF_LIT(j, "\"client\":{");
	field(j, "addr", rec->client_addr);
	field(j, "name", rec->client_name);
	key(j, "helo");
	tp_buf_add_json(j, rec->helo);
	TP_BUF_LIT(j, "},\"listener\":{");
	field(j, "name", rec->daemon_name);
	key(j, "port");
	tp_buf_add_json(j, rec->daemon_port);
	TP_BUF_LIT(j, "},");
	tls_object(j, rec->tls);
	field(j, "sender", rec->sender);
	field(j, "sender_domain", domain_of(rec->sender, &a));
	field(j, "auth", rec->auth);
}

/* What tail() writes besides its values (keep the two in step). */
#define TAIL_TEXT "],\"rcpts_dropped\":,\"outcome\":,\"reply\":,\"policy\":{\"file\":,\"generation\":}}\n"
#define NUMBER_MAX	20		/* digits of an unsigned long */

/* tail - everything after the recipients */

static void
tail(struct tp_buf *j, const struct tp_record *rec, size_t dropped)
{
	TP_BUF_LIT(j, "],\"rcpts_dropped\":");
	tp_buf_addu(j, dropped);
	TP_BUF_LIT(j, ",");
	field(j, "outcome", rec->outcome);
	field(j, "reply", rec->reply);
	TP_BUF_LIT(j, "\"policy\":{");
	field(j, "file", rec->policy_file);
	TP_BUF_LIT(j, "\"generation\":");
	tp_buf_addu(j, rec->policy_generation);
	TP_BUF_LIT(j, "}}\n");
}

/* escaped_max - the most bytes tp_buf_add_json() can make of s */

static size_t
escaped_max(const char *s)
{
	/* "null", or quotes around bytes of at most 6 ("\u00XX") each. */
	return (s == NULL ? 4 : 2 + 6 * strnlen(s, TP_JSON_INPUT_MAX));
}

/* tail_max - an upper bound on the length of tail(), terminator included */

static size_t
tail_max(const struct tp_record *rec)
{
	return (sizeof(TAIL_TEXT) + 2 * NUMBER_MAX + escaped_max(rec->outcome)
		+ escaped_max(rec->reply) + escaped_max(rec->policy_file));
}

/* tp_audit_format - the record as one line of JSON; 0 if it cannot fit */

size_t
tp_audit_format(const struct tp_record *rec, const struct timespec *when,
		char *buf, size_t size)
{
	struct tp_buf j = TP_BUF(buf, size);
	size_t	reserve = tail_max(rec);
	size_t	dropped = 0;

	head(&j, rec, when);
	TP_BUF_LIT(&j, "\"rcpts\":[");
	/* The recipients' buffer below must start inside its own size. */
	if (j.full || size < reserve || j.len + 1 >= size - reserve)
		return (0);
	for (size_t i = 0; i < rec->nrcpts; i++) {
		struct tp_buf r = {buf, size - reserve, j.len, false};

		if (i)
			TP_BUF_LIT(&r, ",");
		rcpt_object(&r, &rec->rcpts[i]);
		if (r.full) {
			dropped = rec->nrcpts - i;
			break;
		}
		j.len = r.len;
	}
	tail(&j, rec, dropped);
	if (j.full)
		return (0);
	buf[j.len] = 0;
	return (j.len);
}
