/*
 * NAME
 *	audit_json 3
 * SUMMARY
 *	one message's decision record as one line of JSON
 * SYNOPSIS
 *	#include "reporter/tp_audit.h"
 *
 *	size_t	tp_audit_format(const struct tp_record_text *t,
 *				const struct timespec *when,
 *				char *buf, size_t size);
 * DESCRIPTION
 *	See tp_audit.h and the schema in the README. Writing JSON is
 *	simple enough to do here; reading it (tlspolicyctl report) uses
 *	json-c. The record's strings come classified (tp_record_prepare):
 *	most are copied as they are, the rest escaped (TP_ESCAPE_JSON).
 */

#include <string.h>

#include "reporter/tp_audit.h"
#include "util/tp_buf.h"
#include "util/tp_escape.h"
#include "policy/tp_names.h"

/* "name": and its length, counted by the compiler */
#define KEY(name)	"\"" name "\":", sizeof("\"" name "\":") - 1

/* What tail() writes besides its values (keep the two in step). */
#define TAIL_TEXT	"],\"rcpts_dropped\":,\"outcome\":,\"reply\":," \
			"\"policy\":{\"file\":,\"generation\":}}\n"
#define NUMBER_MAX	20		/* digits of an unsigned long */

/* json_str - a classified string as a JSON string, or null */

static void
json_str(struct tp_buf *j, const struct tp_record_str *rs)
{
	if (!rs->plain) {
		tp_buf_add_json(j, rs->s);
		return;
	}
	TP_BUF_LIT(j, "\"");
	tp_buf_add(j, rs->s, rs->len);
	TP_BUF_LIT(j, "\"");
}

/* word - "name":"word", for words this program chose */

static void
word(struct tp_buf *j, const char *key, size_t keylen, const char *w)
{
	tp_buf_add(j, key, keylen);
	TP_BUF_LIT(j, "\"");
	tp_buf_adds(j, w);
	TP_BUF_LIT(j, "\",");
}

/* field - "name":"escaped value", */

static void
field(struct tp_buf *j, const char *key, size_t keylen, const struct tp_record_str *rs)
{
	tp_buf_add(j, key, keylen);
	json_str(j, rs);
	TP_BUF_LIT(j, ",");
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
rule_ref(struct tp_buf *j, const struct tp_record_text *t, const struct tp_rule *r)
{
	size_t	before = j->len;
	struct tp_record_str tmp;

	if (r == NULL) {
		TP_BUF_LIT(j, "null");
		return;
	}
	json_str(j, tp_record_text_file(t, r->file, &tmp));
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
tls_object(struct tp_buf *j, const struct tp_record_text *t)
{
	const struct tp_tls_state *tls = t->rec->tls;
	int	on = tls != NULL && tls->how != TP_TLS_HOW_NONE;

	TP_BUF_LIT(j, "\"tls\":{");
	word(j, KEY("how"), tp_tls_how_name(on ? tls->how : TP_TLS_HOW_NONE));
	field(j, KEY("version"), &t->version);
	field(j, KEY("cipher"), &t->cipher);
	TP_BUF_LIT(j, "\"bits\":");
	if (on && tls->bits >= 0)
		tp_buf_addi(j, tls->bits);
	else
		TP_BUF_LIT(j, "null");
	TP_BUF_LIT(j, ",");
	word(j, KEY("verify"), tp_verify_name(on ? tls->verify : TP_VERIFY_NONE));
	field(j, KEY("verify_raw"), &t->verify_raw);
	field(j, KEY("subject"), &t->subject);
	tp_buf_add(j, KEY("issuer"));
	json_str(j, &t->issuer);
	TP_BUF_LIT(j, "},");
}

/* rcpt_object - one recipient's decision */

static void
rcpt_object(struct tp_buf *j, const struct tp_record_text *t, size_t i)
{
	const struct tp_record_rcpt *r = &t->rec->rcpts[i];
	struct tp_record_rcpt_text tmp;
	const struct tp_record_rcpt_text *rt = tp_record_text_rcpt(t, i, &tmp);
	struct tp_address a;

	TP_BUF_LIT(j, "{");
	field(j, KEY("addr"), &rt->addr);
	tp_buf_add(j, KEY("domain"));
	tp_buf_add_json(j, domain_of(r->addr, &a));
	TP_BUF_LIT(j, ",");
	word(j, KEY("level"), r->error ? "none" : tp_level_name(r->level));
	word(j, KEY("result"), r->error ? "error" : tp_result_name(r->result));
	if (!r->error && r->result == TP_RESULT_FAIL)
		word(j, KEY("action"), tp_action_name(r->action));
	else
		TP_BUF_LIT(j, "\"action\":null,");
	TP_BUF_LIT(j, "\"testing\":");
	tp_buf_adds(j, r->testing ? "true" : "false");
	TP_BUF_LIT(j, ",\"refused\":");
	tp_buf_adds(j, r->refused ? "true" : "false");
	TP_BUF_LIT(j, ",\"rules\":[");
	for (size_t k = 0; k < r->nrules; k++) {
		if (k)
			TP_BUF_LIT(j, ",");
		rule_ref(j, t, r->rules[k]);
	}
	TP_BUF_LIT(j, "],\"decided_by\":");
	rule_ref(j, t, r->decider);
	TP_BUF_LIT(j, ",");
	field(j, KEY("reason"), &rt->reason);
	tp_buf_add(j, KEY("reply"));
	json_str(j, &rt->reply);
	TP_BUF_LIT(j, "}");
}

/* head - everything before the recipients */

static void
head(struct tp_buf *j, const struct tp_record_text *t, const struct timespec *when)
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
	field(j, KEY("host"), &t->hostname);
	field(j, KEY("session"), &t->session_id);
	field(j, KEY("queue_id"), &t->queue_id);
	TP_BUF_LIT(j, "\"client\":{");
	field(j, KEY("addr"), &t->client_addr);
	field(j, KEY("name"), &t->client_name);
	tp_buf_add(j, KEY("helo"));
	json_str(j, &t->helo);
	TP_BUF_LIT(j, "},\"listener\":{");
	field(j, KEY("name"), &t->daemon_name);
	tp_buf_add(j, KEY("port"));
	json_str(j, &t->daemon_port);
	TP_BUF_LIT(j, "},");
	tls_object(j, t);
	field(j, KEY("sender"), &t->sender);
	tp_buf_add(j, KEY("sender_domain"));
	tp_buf_add_json(j, domain_of(t->rec->sender, &a));
	TP_BUF_LIT(j, ",");
	field(j, KEY("auth"), &t->auth);
}

/* tail - everything after the recipients */

static void
tail(struct tp_buf *j, const struct tp_record_text *t, size_t dropped)
{
	TP_BUF_LIT(j, "],\"rcpts_dropped\":");
	tp_buf_addu(j, dropped);
	TP_BUF_LIT(j, ",");
	field(j, KEY("outcome"), &t->outcome);
	field(j, KEY("reply"), &t->reply);
	TP_BUF_LIT(j, "\"policy\":{");
	field(j, KEY("file"), &t->policy_file);
	TP_BUF_LIT(j, "\"generation\":");
	tp_buf_addu(j, t->rec->policy_generation);
	TP_BUF_LIT(j, "}}\n");
}

/* escaped_max - the most bytes json_str() can make of a string */

static size_t
escaped_max(const struct tp_record_str *rs)
{
	/* "null", or quotes around bytes of at most 6 ("\u00XX") each. */
	if (rs->s == NULL)
		return (4);
	return (2 + (rs->plain ? rs->len : 6 * strnlen(rs->s, TP_JSON_INPUT_MAX)));
}

/* tail_max - an upper bound on the length of tail(), terminator included */

static size_t
tail_max(const struct tp_record_text *t)
{
	return (sizeof(TAIL_TEXT) + 2 * NUMBER_MAX + escaped_max(&t->outcome)
		+ escaped_max(&t->reply) + escaped_max(&t->policy_file));
}

/* tp_audit_format - the record as one line of JSON; 0 if it cannot fit */

size_t
tp_audit_format(const struct tp_record_text *t, const struct timespec *when,
		char *buf, size_t size)
{
	struct tp_buf j = TP_BUF(buf, size);
	size_t	reserve = tail_max(t);
	size_t	dropped = 0;

	head(&j, t, when);
	TP_BUF_LIT(&j, "\"rcpts\":[");
	/* The recipients' buffer below must start inside its own size. */
	if (j.full || size < reserve || j.len + 1 >= size - reserve)
		return (0);
	for (size_t i = 0; i < t->rec->nrcpts; i++) {
		struct tp_buf r = {buf, size - reserve, j.len, false};

		if (i)
			TP_BUF_LIT(&r, ",");
		rcpt_object(&r, t, i);
		if (r.full) {
			dropped = t->rec->nrcpts - i;
			break;
		}
		j.len = r.len;
	}
	tail(&j, t, dropped);
	if (j.full)
		return (0);
	buf[j.len] = 0;
	return (j.len);
}
