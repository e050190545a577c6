/*
 * NAME
 *	rule 3
 * SUMMARY
 *	one rule against one TLS state: what is unmet, and why in words
 * SYNOPSIS
 *	#include "policy/tp_policy.h"
 *
 *	unsigned tp_rule_unmet(const struct tp_rule *rule,
 *			       const struct tp_tls_state *tls);
 *	void	tp_rule_reason(const struct tp_rule *rule, unsigned unmet,
 *			       const struct tp_query *query,
 *			       char *buf, size_t len);
 *	void	tp_rule_format(const struct tp_rule *rule,
 *			       char *buf, size_t len);
 * DESCRIPTION
 *	tp_rule_unmet() returns the TP_REQ_* bits of the rule that the
 *	session does not meet. A plaintext session (tls NULL or how
 *	NONE) meets none of them, TP_REQ_TLS included.
 *
 *	tp_rule_reason() says in one line why the first unmet requirement
 *	failed, naming what was required, for whom, and what was seen:
 *	"TLSv1.3 required for mail from bank.example, got TLSv1.2". The
 *	text goes into SMTP replies, so every string that came from the
 *	network is reduced to printable ASCII without % and capped
 *	(tp_escape_reply).
 *
 *	tp_rule_format() writes the rule back as policy text (canonical
 *	selector, level, attributes), for explain and logs.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/tp_buf.h"
#include "util/tp_escape.h"
#include "policy/tp_names.h"
#include "policy/tp_policy.h"

#define SEEN_MAX	64		/* bytes of a network string we quote */

/* tp_rule_unmet - requirements of a rule that a TLS state does not meet */

unsigned
tp_rule_unmet(const struct tp_rule *r, const struct tp_tls_state *tls)
{
	unsigned want = TP_REQ_TLS;
	unsigned unmet = 0;
	int	verified;

	if (r->min_version)
		want |= TP_REQ_VERSION;
	if (r->min_bits)
		want |= TP_REQ_BITS;
	if (r->verify)
		want |= TP_REQ_VERIFY;
	if (r->cert_subject)
		want |= TP_REQ_SUBJECT;
	if (r->cert_issuer)
		want |= TP_REQ_ISSUER;
	if (tls == NULL || tls->how == TP_TLS_HOW_NONE)
		return (want);
	verified = tls->verify == TP_VERIFY_OK;
	if (r->min_version && tls->version_id < r->min_version)
		unmet |= TP_REQ_VERSION;
	if (r->min_bits && (tls->bits < 0 || tls->bits < r->min_bits))
		unmet |= TP_REQ_BITS;
	if (r->verify && !verified)
		unmet |= TP_REQ_VERIFY;
	if (r->cert_subject && (!verified || tls->cert_subject == NULL
			    || strcasecmp(tls->cert_subject, r->cert_subject) != 0))
		unmet |= TP_REQ_SUBJECT;
	if (r->cert_issuer && (!verified || tls->cert_issuer == NULL
			      || strcasecmp(tls->cert_issuer, r->cert_issuer) != 0))
		unmet |= TP_REQ_ISSUER;
	return (unmet);
}

/*
 * rcpt_whom - the recipient a rcpt: rule protects. A recipient is read
 * every way the MTA may route it (tp_address_readings), and the reading
 * that met the rule need not be the address as written: an address or
 * domain rule names itself; a subdomain rule names the first reading
 * under it.
 */

static void
rcpt_whom(const struct tp_rule *r, const char *rcpt, char *buf, size_t len)
{
	static const char prefix[] = "rcpt:";
	const char *sel = r->selector + sizeof(prefix) - 1;
	char	name[TP_LOCAL_MAX + 1 + TP_DOMAIN_MAX + 4];	/* no cap */
	struct tp_readings *rd;		/* 3 KiB: not on the stack */
	size_t	slen = strlen(sel);

	if (*sel != '.') {
		snprintf(buf, len, "mail to %s", tp_escape_reply(sel, name, sizeof(name)));
		return;
	}
	snprintf(buf, len, "this recipient");
	if (rcpt == NULL || (rd = malloc(sizeof(*rd))) == NULL)
		return;
	if (tp_address_readings(rcpt, "", rd) == 0)
		for (size_t i = 0; i < rd->n; i++) {
			const char *d = rd->box[i].domain;
			size_t	dlen = strlen(d);

			if (dlen > slen && strcmp(d + dlen - slen, sel) == 0) {
				snprintf(buf, len, "mail to %s", tp_escape_reply(d, name, sizeof(name)));
				break;
			}
		}
	free(rd);
}

/* whom - "mail from bank.example", "client 192.0.2.1", ... */

static void
whom(const struct tp_rule *r, const struct tp_query *q, char *buf, size_t len)
{
	struct tp_address a;
	char	seen[SEEN_MAX + 4];
	char	domain[sizeof(a.domain) + 4];	/* room for all of it: no cap */

	/* A domain may hold UTF-8, which has no place in a reply either. */
	switch (r->kind) {
	case TP_KIND_SENDER:
		if (q->sender == NULL || tp_address_parse(q->sender, &a) < 0 || a.null)
			snprintf(buf, len, "mail from <>");
		else
			snprintf(buf, len, "mail from %s", a.has_domain ?
				 tp_escape_reply(a.domain, domain, sizeof(domain))
				 : tp_escape_reply(q->sender, seen, sizeof(seen)));
		break;
	case TP_KIND_RCPT:
		rcpt_whom(r, q->rcpt, buf, len);
		break;
	case TP_KIND_CLIENT_ADDR:
		snprintf(buf, len, "client %s", tp_escape_reply(q->client_addr, seen, sizeof(seen)));
		break;
	case TP_KIND_CLIENT_NAME:
		snprintf(buf, len, "client %s", tp_escape_reply(q->client_name, seen, sizeof(seen)));
		break;
	default:
		snprintf(buf, len, "all mail");
		break;
	}
}

/* tp_rule_reason - why the first unmet requirement of a rule failed */

void
tp_rule_reason(const struct tp_rule *r, unsigned unmet,
	       const struct tp_query *q, char *buf, size_t len)
{
	const struct tp_tls_state *tls = q->tls;
	char	who[TP_DOMAIN_MAX + TP_LOCAL_MAX + 32];
	char	seen[SEEN_MAX + 4];

	whom(r, q, who, sizeof(who));
	if (unmet & TP_REQ_TLS) {
		snprintf(buf, len, "TLS required for %s", who);
	} else if (unmet & TP_REQ_VERSION) {
		snprintf(buf, len, "%s required for %s, got %s",
			 tp_tls_version_name(r->min_version), who,
			 tp_escape_reply(tls->version, seen, sizeof(seen)));
	} else if (unmet & TP_REQ_BITS) {
		if (tls->bits < 0)
			snprintf(buf, len, "%u-bit cipher required for %s, got unknown strength",
				 r->min_bits, who);
		else
			snprintf(buf, len, "%u-bit cipher required for %s, got %d-bit%s%s",
				 r->min_bits, who, tls->bits, tls->cipher ? " " : "",
				 tls->cipher ? tp_escape_reply(tls->cipher, seen, sizeof(seen)) : "");
	} else if (unmet & TP_REQ_VERIFY) {
		snprintf(buf, len, "verified client certificate required for %s, got %s",
			 who, tls->verify == TP_VERIFY_NONE ? "none" : "an unverified one");
	} else if (unmet & (TP_REQ_SUBJECT | TP_REQ_ISSUER)) {
		int	subj = (unmet & TP_REQ_SUBJECT) != 0;

		snprintf(buf, len, "client certificate %s \"%s\" required for %s, got \"%s\"",
			 subj ? "subject" : "issuer",
			 subj ? r->cert_subject : r->cert_issuer, who,
			 tp_escape_reply(subj ? tls->cert_subject : tls->cert_issuer, seen, sizeof(seen)));
	} else {
		snprintf(buf, len, "requirements met for %s", who);
	}
}

/* add_quoted - NAME="VALUE", escaped as the parser reads it */

static void
add_quoted(struct tp_buf *b, const char *name, const char *value)
{
	tp_buf_addf(b, " %s=\"", name);
	for (size_t n; *value != 0; value += n) {
		n = strcspn(value, "\"\\");
		tp_buf_add(b, value, n);
		if (value[n] != 0) {
			tp_buf_add(b, "\\", 1);
			tp_buf_add(b, value + n++, 1);
		}
	}
	tp_buf_add(b, "\"", 1);
}

/* tp_rule_format - a rule back as policy text */

void
tp_rule_format(const struct tp_rule *r, char *buf, size_t len)
{
	struct tp_buf b = TP_BUF(buf, len);

	tp_buf_addf(&b, "%s %s", r->selector, tp_level_name(r->level));
	if (r->min_version)
		tp_buf_addf(&b, " min_version=%s", tp_tls_version_name(r->min_version));
	if (r->min_bits)
		tp_buf_addf(&b, " min_bits=%u", r->min_bits);
	if (r->kind == TP_KIND_DEST && r->verify == TP_DEST_VERIFY_DANE)
		tp_buf_addf(&b, " verify=dane");
	else if (r->verify && !r->cert_subject && !r->cert_issuer)
		tp_buf_addf(&b, " verify=yes");
	if (r->cert_subject)
		add_quoted(&b, "cert_subject", r->cert_subject);
	if (r->cert_issuer)
		add_quoted(&b, "cert_issuer", r->cert_issuer);
	if (r->level == TP_LEVEL_REQUIRE && r->action != TP_ACTION_REJECT)
		tp_buf_addf(&b, " action=%s", tp_action_name(r->action));
	if (r->testing)
		tp_buf_addf(&b, " mode=testing");
	if (r->reply)
		add_quoted(&b, "reply", r->reply);
}
