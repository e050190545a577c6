/*
 * NAME
 *	probe_print 3
 * SUMMARY
 *	tlspolicyctl probe: one address's result as text or as JSON
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	void	tp_probe_print_text(FILE *fp,
 *				    const struct tp_probe_result *r);
 *	struct json_object *tp_probe_json(const struct tp_probe_result *r);
 * DESCRIPTION
 *	tp_probe_print_text() prints the steps, numbered as in
 *	tlspolicyctl(8), then the verdicts with their sentences, wrapped
 *	for an 80-column terminal.
 *
 *	tp_probe_json() returns the same as a JSON object (the members of
 *	an "addresses" element of the --json document; see
 *	tlspolicyctl(8)). A step that was not reached is absent or null.
 *
 *	Server text in r is escaped already (tp_probe_store()); json-c
 *	escapes what JSON needs on top.
 * MEMORY
 *	tp_probe_json(): the caller owns the object (json_object_put).
 */

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "ctl/tp_dane.h"
#include "ctl/tp_probe.h"

#define WRAP_COLUMNS	78

static const char *const mode_text[] = {
	[TP_MODE_UNKNOWN] = "not-reached",
	[TP_MODE_PLAIN] = "smtp-banner",
	[TP_MODE_IMPLICIT] = "implicit-tls",
	[TP_MODE_NOT_SMTP] = "not-smtp",
	[TP_MODE_SILENT] = "silent",
};
static const char *const connect_text[] = {
	[TP_CONNECT_NOT_TRIED] = "not-tried",
	[TP_CONNECT_OK] = "connected",
	[TP_CONNECT_REFUSED] = "refused",
	[TP_CONNECT_TIMEOUT] = "timeout",
	[TP_CONNECT_ERROR] = "error",
};
static const char *const starttls_text[] = {
	[TP_STARTTLS_UNKNOWN] = "unknown",
	[TP_STARTTLS_OFFERED] = "offered",
	[TP_STARTTLS_NOT_OFFERED] = "not-offered",
	[TP_STARTTLS_MASKED] = "masked",
};
static const char *const enforce_text[] = {
	[TP_ENFORCE_NOT_TRIED] = "not-tried",
	[TP_ENFORCE_REQUIRED] = "tls-required",
	[TP_ENFORCE_ACCEPTED] = "plaintext-accepted",
	[TP_ENFORCE_OTHER] = "other",
};
static const char *const vtry_text[] = {
	[TP_VTRY_NOT_TRIED] = "not-tried",
	[TP_VTRY_ACCEPTED] = "accepted",
	[TP_VTRY_REFUSED] = "refused",
	[TP_VTRY_IMPOSSIBLE] = "impossible-here",
};

/* wrap - lead, then the words of text, lines after the first from indent */

static void
wrap(FILE *fp, const char *lead, int indent, const char *text)
{
	int	col = fprintf(fp, "%s", lead), first = 1, n;

	while (*text) {
		n = (int) strcspn(text, " ");
		if (!first && col + 1 + n > WRAP_COLUMNS) {
			col = fprintf(fp, "\n%*s", indent, "") - 1;
		} else if (!first) {
			fputc(' ', fp);
			col++;
		}
		col += fprintf(fp, "%.*s", n, text);
		first = 0;
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', fp);
}

/* print_keywords - an EHLO reply's keywords on a line */

static void
print_keywords(FILE *fp, const struct tp_probe_ehlo *e)
{
	if (e->reply.code != 250) {
		fprintf(fp, "refused: %s\n", e->reply.text);
		return;
	}
	for (int i = 0; i < e->ncaps; i++)
		fprintf(fp, "%s%s", i ? " " : "", e->caps[i]);
	fprintf(fp, "%s\n", e->ncaps ? "" : "(no keywords)");
}

/* print_plain - steps 3 and 4 */

static void
print_plain(FILE *fp, const struct tp_probe_result *r)
{
	if (!r->ehlo.done)
		return;
	fprintf(fp, "  3 EHLO          ");
	print_keywords(fp, &r->ehlo);
	fprintf(fp, "                  STARTTLS %s", r->starttls == TP_STARTTLS_MASKED
		? "masked as " : r->starttls == TP_STARTTLS_OFFERED ? "offered" : "not offered");
	fprintf(fp, "%s\n", r->starttls == TP_STARTTLS_MASKED ? r->masked_as : "");
	if (r->enforce == TP_ENFORCE_NOT_TRIED)
		return;
	fprintf(fp, "  4 before TLS    MAIL FROM:<> got \"%s\": %s (then RSET)\n",
		r->mail.text, r->enforce == TP_ENFORCE_REQUIRED ? "TLS is required"
		: r->enforce == TP_ENFORCE_ACCEPTED ? "plaintext is accepted"
		: "neither 250 nor 530");
	if (r->starttls_reply.code)
		fprintf(fp, "    STARTTLS      \"%s\"\n", r->starttls_reply.text);
}

/* print_versions - one line per TLS version tried */

static void
print_versions(FILE *fp, const struct tp_probe_tls *t)
{
	static const char *const pretty[] = {"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};

	for (int i = 0; i < TP_PROBE_NVERSIONS; i++) {
		fprintf(fp, "    %-14s%s", i ? "" : "versions", pretty[i]);
		if (t->vtry[i] == TP_VTRY_IMPOSSIBLE) {
			fprintf(fp, " not tried: the local OpenSSL cannot offer it%s\n",
				t->vtry_seclevel0[i] ? ", even at SECLEVEL=0" : "");
			continue;
		}
		fprintf(fp, " %s%s%s", vtry_text[t->vtry[i]],
			t->vtry_error[i][0] ? ": " : "", t->vtry_error[i]);
		fprintf(fp, "%s\n", t->vtry_seclevel0[i] && t->vtry[i] != TP_VTRY_NOT_TRIED ?
			" (tried at SECLEVEL=0: this OpenSSL allows it at no other level)" : "");
	}
}

/* print_cert - step 6 */

static void
print_cert(FILE *fp, const struct tp_probe_cert *c)
{
	if (!c->present) {
		fprintf(fp, "  6 certificate   none sent\n");
		return;
	}
	fprintf(fp, "  6 certificate   subject %s\n", c->subject);
	fprintf(fp, "                  issuer %s\n", c->issuer);
	fprintf(fp, "                  names");
	for (int i = 0; i < c->nnames; i++)
		fprintf(fp, "%s %s", i ? "," : "", c->names[i]);
	fprintf(fp, "%s\n", c->nnames ? "" : " (none besides the CN)");
	if (c->verified)
		fprintf(fp, "                  chain verifies%s\n", c->incomplete_chain ?
			" here, but the server does not send its intermediates" : "");
	else
		fprintf(fp, "                  chain does NOT verify: %s%s\n", c->verify_text,
			c->incomplete_chain ? " (incomplete chain)" : "");
	if (c->self_signed)
		fprintf(fp, "                  self-signed\n");
	if (c->name_checked)
		fprintf(fp, "                  name %s: %s\n", c->check_name,
			c->name_match ? "matches" : "does NOT match");
	fprintf(fp, "                  valid until %s (%ld days %s)\n", c->not_after,
		c->days_left < 0 ? -c->days_left : c->days_left,
		c->days_left < 0 ? "ago: EXPIRED" : "left");
}

/* print_tls - steps 5-7 */

static void
print_tls(FILE *fp, const struct tp_probe_result *r)
{
	const struct tp_probe_tls *t = &r->tls;

	if (!t->tried)
		return;
	if (!t->ok)
		fprintf(fp, "  5 TLS           handshake failed: %s\n", t->error);
	if (!t->peer_tls)
		return;
	if (t->version[0])
		fprintf(fp, "%s%s, %s, %d bits, key exchange %s\n", t->ok ? "  5 TLS           "
			: "                  limited to one version, it works: ", t->version,
			t->cipher, t->bits, t->group[0] ? t->group : "(none)");
	print_versions(fp, t);
	fprintf(fp, "    client cert   %s\n", t->ccert_requested ? "requested" : "not requested");
	for (int i = 0; i < t->ncas; i++)
		fprintf(fp, "                  CA name %s\n", t->cas[i]);
	print_cert(fp, &r->cert);
	if (!r->ehlo_tls.done)
		return;
	fprintf(fp, "  7 EHLO in TLS   ");
	print_keywords(fp, &r->ehlo_tls);
	fprintf(fp, "                  REQUIRETLS %s\n", r->requiretls ? "offered" : "not offered");
}

/* print_first - steps 1 and 2 */

static void
print_first(FILE *fp, const struct tp_probe_result *r)
{
	if (r->connect != TP_CONNECT_OK) {
		fprintf(fp, "  1 connect       %s%s%s\n", connect_text[r->connect],
			r->connect_error[0] ? ": " : "", r->connect_error);
		return;
	}
	fprintf(fp, "  1 connect       connected in %ld ms\n", r->connect_ms);
	switch (r->mode) {
	case TP_MODE_PLAIN:
		fprintf(fp, "  2 first bytes   \"%s\": plaintext SMTP\n", r->banner.text);
		break;
	case TP_MODE_IMPLICIT:
		fprintf(fp, "  2 first bytes   none; a TLS hello got a TLS answer: implicit TLS\n");
		if (r->banner.code)
			fprintf(fp, "    banner in TLS \"%s\"\n", r->banner.text);
		break;
	case TP_MODE_NOT_SMTP:
		fprintf(fp, "  2 first bytes   %s%s%snot an SMTP banner, and no TLS either\n",
			r->banner.text[0] ? "\"" : "", r->banner.text,
			r->banner.text[0] ? "\": " : "");
		break;
	case TP_MODE_SILENT:
		fprintf(fp, "  2 first bytes   none, and no answer to a TLS hello\n");
		break;
	default:
		break;
	}
}

/* print_dane - step 9 */

static void
print_dane(FILE *fp, const struct tp_probe_dane *d)
{
	const struct tp_dns_result *t = d->tlsa;

	if (t == NULL)
		return;
	fprintf(fp, "  9 DANE          TLSA %s: %s, %zu record(s)%s%s\n", d->name,
		tp_dns_status_name(t->status), t->count, t->why[0] ? ": " : "", t->why);
	if (d->tried && d->matched == 1)
		fprintf(fp, "                  the certificate matches %s %s %s at depth %d\n",
			tp_dane_usage_name(d->usage), tp_dane_selector_name(d->selector),
			tp_dane_mtype_name(d->mtype), d->depth);
	else if (d->tried)
		fprintf(fp, "                  the certificate does NOT match: %s\n", d->why);
	else if (t->status == TP_DNS_SECURE && t->count > 0)
		fprintf(fp, "                  not checked: no TLS session\n");
}

/* print_sts - step 8 for this MX: inside the policy's patterns or not */

static void
print_sts(FILE *fp, const struct tp_probe_result *r)
{
	const struct tp_probe_sts *s = r->sts;

	if (s == NULL || s->policy == NULL)
		return;
	fprintf(fp, "  8 MTA-STS       mode %s: %s %s the policy's mx patterns\n",
		tp_sts_mode_name(s->policy->mode), r->host,
		r->sts_match ? "matches" : "is NOT among");
}

/* print_dest - --policy: the dest: rule, satisfied or not */

static void
print_dest(FILE *fp, const struct tp_probe_dest *d)
{
	char	text[TP_PROBE_TEXT_MAX];

	if (d->rule == NULL)
		return;
	tp_outbound_format(d->rule, text, sizeof(text));
	fprintf(fp, "    dest: rule    %s:%u  %s\n", d->rule->rule->file,
		(unsigned) d->rule->rule->line, text);
	fprintf(fp, "                  %s%s\n", !d->checked ? "not checked: no connection"
		: d->unmet[0] ? "NOT satisfied: " : "satisfied", d->unmet);
}

/* tp_probe_sts_print - step 8 for a domain, before its MX are probed */

void
tp_probe_sts_print(FILE *fp, const struct tp_probe_sts *s,
		   const struct tp_dns_result *mx)
{
	const struct tp_sts_policy *p = s->policy;

	fprintf(fp, "  8 MTA-STS       _mta-sts.%s TXT (%s): %s%s\n", s->domain,
		tp_dns_status_name(s->txt_status), s->found == 1 ? "v=STSv1, id=" : "",
		s->found == 1 ? s->id : s->why);
	if (s->found == 1 && p == NULL)
		wrap(fp, "                  policy NOT usable: ", 18, s->error);
	if (p == NULL) {
		fputc('\n', fp);
		return;
	}
	fprintf(fp, "                  %s: mode %s, max_age %ld s\n", s->url,
		tp_sts_mode_name(p->mode), p->max_age);
	for (size_t i = 0; i < p->nmx; i++)
		fprintf(fp, "                  mx: %s\n", p->mx[i]);
	for (size_t i = 0; i < mx->count && !mx->null_mx; i++)
		fprintf(fp, "                  MX %s %s\n", mx->mx[i].host,
			tp_sts_mx_match(p, mx->mx[i].host) ? "matches"
			: "does NOT match: senders that apply the policy skip it");
	fputc('\n', fp);
}

/* tp_probe_print_text - one address, steps and verdicts */

void
tp_probe_print_text(FILE *fp, const struct tp_probe_result *r)
{
	char	lead[64];

	fprintf(fp, "%s port %d at %s (%s), %.2f s\n", r->host, r->port, r->addr,
		r->family == AF_INET6 ? "IPv6" : "IPv4", r->elapsed_ms / 1000.0);
	print_first(fp, r);
	print_plain(fp, r);
	print_tls(fp, r);
	print_sts(fp, r);
	print_dane(fp, &r->dane);
	print_dest(fp, &r->dest);
	fprintf(fp, "  verdicts:%s\n", r->nfindings ? "" : " none");
	for (int i = 0; i < r->nfindings; i++) {
		const struct tp_probe_finding *f = &r->findings[i];

		snprintf(lead, sizeof(lead), "  %c %s%s", tp_probe_verdict_serious(f->code)
			 ? '!' : '-', tp_probe_verdict_code(f->code), f->detail[0] ? ": " : "");
		wrap(fp, lead, 6, f->detail);
		wrap(fp, "      ", 6, tp_probe_verdict_text(f->code));
	}
	fputc('\n', fp);
}

/* jstr - a string member; empty strings are left out */

static void
jstr(struct json_object *o, const char *key, const char *val)
{
	if (val != NULL && *val != 0)
		json_object_object_add(o, key, json_object_new_string(val));
}

/* jint - an integer member */

static void
jint(struct json_object *o, const char *key, long val)
{
	json_object_object_add(o, key, json_object_new_int64(val));
}

/* jbool - a boolean member */

static void
jbool(struct json_object *o, const char *key, int val)
{
	json_object_object_add(o, key, json_object_new_boolean(val != 0));
}

/* jreply - {"code": N, "text": "..."} */

static struct json_object *
jreply(const struct tp_probe_reply *rep)
{
	struct json_object *o = json_object_new_object();

	jint(o, "code", rep->code);
	jstr(o, "text", rep->text);
	return (o);
}

/* jehlo - an EHLO reply with its keywords */

static struct json_object *
jehlo(const struct tp_probe_ehlo *e)
{
	struct json_object *o = jreply(&e->reply), *a = json_object_new_array();

	for (int i = 0; i < e->ncaps; i++)
		json_object_array_add(a, json_object_new_string(e->caps[i]));
	json_object_object_add(o, "keywords", a);
	return (o);
}

/* jcert - step 6 */

static struct json_object *
jcert(const struct tp_probe_cert *c)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	jstr(o, "subject", c->subject);
	jstr(o, "cn", c->cn);
	jstr(o, "issuer", c->issuer);
	for (int i = 0; i < c->nnames; i++)
		json_object_array_add(a, json_object_new_string(c->names[i]));
	json_object_object_add(o, "names", a);
	jbool(o, "verified", c->verified);
	jint(o, "verify_error", c->verify_error);
	jstr(o, "verify_text", c->verify_text);
	jstr(o, "checked_name", c->check_name);
	if (c->name_checked)
		jbool(o, "name_match", c->name_match);
	jstr(o, "not_after", c->not_after);
	jint(o, "days_left", c->days_left);
	jbool(o, "expired", c->expired);
	jbool(o, "not_yet_valid", c->not_yet_valid);
	jbool(o, "self_signed", c->self_signed);
	jbool(o, "incomplete_chain", c->incomplete_chain);
	jint(o, "chain_length", c->chain_len);
	return (o);
}

/* jtls - step 5 */

static struct json_object *
jtls(const struct tp_probe_result *r)
{
	const struct tp_probe_tls *t = &r->tls;
	struct json_object *o = json_object_new_object(), *v, *a;

	jbool(o, "ok", t->ok);
	jbool(o, "server_speaks_tls", t->peer_tls);
	jstr(o, "error", t->error);
	if (!t->peer_tls)
		return (o);
	jstr(o, "version", t->version);
	jstr(o, "cipher", t->cipher);
	jint(o, "bits", t->bits);
	jstr(o, "group", t->group);
	jbool(o, "client_cert_requested", t->ccert_requested);
	a = json_object_new_array();
	for (int i = 0; i < t->ncas; i++)
		json_object_array_add(a, json_object_new_string(t->cas[i]));
	json_object_object_add(o, "client_ca_names", a);
	a = json_object_new_object();
	for (int i = 0; i < TP_PROBE_NVERSIONS; i++) {
		v = json_object_new_object();
		jstr(v, "result", vtry_text[t->vtry[i]]);
		jbool(v, "seclevel0", t->vtry_seclevel0[i]);
		jstr(v, "error", t->vtry_error[i]);
		json_object_object_add(a, tp_probe_tls_version_name(i), v);
	}
	json_object_object_add(o, "versions", a);
	if (r->cert.present)
		json_object_object_add(o, "certificate", jcert(&r->cert));
	return (o);
}

/* jsteps - steps 1-4 and 7 */

static void
jsteps(struct json_object *o, const struct tp_probe_result *r)
{
	struct json_object *s = json_object_new_object();

	jstr(s, "result", connect_text[r->connect]);
	jstr(s, "error", r->connect_error);
	jint(s, "ms", r->connect_ms);
	json_object_object_add(o, "connect", s);
	s = json_object_new_object();
	jstr(s, "result", mode_text[r->mode]);
	if (r->banner.code || r->banner.text[0])
		json_object_object_add(s, "banner", jreply(&r->banner));
	json_object_object_add(o, "first_bytes", s);
	if (r->ehlo.done) {
		s = jehlo(&r->ehlo);
		jstr(s, "starttls", starttls_text[r->starttls]);
		jstr(s, "masked_as", r->masked_as);
		json_object_object_add(o, "ehlo", s);
	}
	if (r->enforce != TP_ENFORCE_NOT_TRIED) {
		s = jreply(&r->mail);
		jstr(s, "result", enforce_text[r->enforce]);
		json_object_object_add(o, "mail_before_tls", s);
	}
	if (r->starttls_reply.code)
		json_object_object_add(o, "starttls", jreply(&r->starttls_reply));
	if (r->tls.tried)
		json_object_object_add(o, "tls", jtls(r));
	if (r->ehlo_tls.done) {
		s = jehlo(&r->ehlo_tls);
		jbool(s, "requiretls", r->requiretls);
		json_object_object_add(o, "ehlo_tls", s);
	}
}

/* jdane - step 9 */

static struct json_object *
jdane(const struct tp_probe_dane *d)
{
	struct json_object *o = json_object_new_object();
	const struct tp_dns_result *t = d->tlsa;

	jstr(o, "name", d->name);
	jstr(o, "dnssec", tp_dns_status_name(t->status));
	jstr(o, "why", t->why);
	jint(o, "records", (long) t->count);
	jstr(o, "result", !d->tried ? "not-checked" : d->matched == 1 ? "match"
	     : "mismatch");
	if (d->matched == 1) {
		jint(o, "usage", d->usage);
		jint(o, "selector", d->selector);
		jint(o, "mtype", d->mtype);
		jint(o, "depth", d->depth);
	} else
		jstr(o, "error", d->why);
	return (o);
}

/* jdest - --policy: the dest: rule against this MX */

static struct json_object *
jdest(const struct tp_probe_dest *d)
{
	struct json_object *o = json_object_new_object();
	char	text[TP_PROBE_TEXT_MAX];

	tp_outbound_format(d->rule, text, sizeof(text));
	jstr(o, "file", d->rule->rule->file);
	jint(o, "line", (long) d->rule->rule->line);
	jstr(o, "rule", text);
	jstr(o, "result", !d->checked ? "not-checked" : d->unmet[0] ? "unmet" : "satisfied");
	jstr(o, "unmet", d->unmet);
	return (o);
}

/* tp_probe_sts_json - step 8 for a domain: the "mta_sts" member of a target */

struct json_object *
tp_probe_sts_json(const struct tp_probe_sts *s, const struct tp_dns_result *mx)
{
	struct json_object *o = json_object_new_object(), *a, *m;
	const struct tp_sts_policy *p = s->policy;

	jstr(o, "txt_dnssec", tp_dns_status_name(s->txt_status));
	jstr(o, "txt", s->found == 1 ? "valid" : s->found == 0 ? "none" : "invalid");
	jstr(o, "id", s->id);
	jstr(o, "why", s->why);
	jstr(o, "url", s->url);
	jstr(o, "error", s->error);
	if (p == NULL)
		return (o);
	jstr(o, "mode", tp_sts_mode_name(p->mode));
	jint(o, "max_age", p->max_age);
	a = json_object_new_array();
	for (size_t i = 0; i < p->nmx; i++)
		json_object_array_add(a, json_object_new_string(p->mx[i]));
	json_object_object_add(o, "mx_patterns", a);
	a = json_object_new_array();
	for (size_t i = 0; i < mx->count && !mx->null_mx; i++) {
		m = json_object_new_object();
		jstr(m, "host", mx->mx[i].host);
		jbool(m, "match", tp_sts_mx_match(p, mx->mx[i].host));
		json_object_array_add(a, m);
	}
	json_object_object_add(o, "mx_match", a);
	return (o);
}

/* tp_probe_json - one address as a JSON object */

struct json_object *
tp_probe_json(const struct tp_probe_result *r)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	jstr(o, "host", r->host);
	jstr(o, "address", r->addr);
	jstr(o, "family", r->family == AF_INET6 ? "ipv6" : "ipv4");
	jint(o, "port", r->port);
	jint(o, "elapsed_ms", r->elapsed_ms);
	if (r->timeout_step != TP_STEP_NONE)
		jstr(o, "timeout_step", tp_probe_step_name(r->timeout_step));
	jsteps(o, r);
	if (r->dane.tlsa != NULL)
		json_object_object_add(o, "dane", jdane(&r->dane));
	if (r->sts != NULL && r->sts->policy != NULL)
		jbool(o, "mta_sts_match", r->sts_match);
	if (r->dest.rule != NULL)
		json_object_object_add(o, "dest_rule", jdest(&r->dest));
	for (int i = 0; i < r->nfindings; i++) {
		struct json_object *v = json_object_new_object();

		jstr(v, "code", tp_probe_verdict_code(r->findings[i].code));
		jbool(v, "serious", tp_probe_verdict_serious(r->findings[i].code));
		jstr(v, "detail", r->findings[i].detail);
		jstr(v, "text", tp_probe_verdict_text(r->findings[i].code));
		json_object_array_add(a, v);
	}
	json_object_object_add(o, "verdicts", a);
	return (o);
}
