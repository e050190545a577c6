/*
 * NAME
 *	probe_verdict 3
 * SUMMARY
 *	tlspolicyctl probe: what the steps mean, as stable codes and sentences
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	void	tp_probe_verdicts(struct tp_probe_result *r);
 *	const char *tp_probe_verdict_code(enum tp_probe_verdict v);
 *	const char *tp_probe_verdict_text(enum tp_probe_verdict v);
 *	int	tp_probe_verdict_serious(enum tp_probe_verdict v);
 *	const char *tp_probe_step_name(enum tp_probe_step step);
 * DESCRIPTION
 *	One table holds every verdict: its code (stable: scripts and the
 *	--json output use it), whether it is serious (it breaks or weakens
 *	TLS for some peers: exit status 1) or a note, and its sentence for
 *	an admin, which says which end to change and what the other end's
 *	software shows.
 *
 *	tp_probe_verdicts() appends to r->findings the verdicts that the
 *	steps stored in r support, each with a detail naming what was seen
 *	(the step that timed out, the keyword in STARTTLS's place, the
 *	verification error, ...).
 *
 *	tp_probe_step_name() names a network step in words.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl/tp_probe.h"

#define EXPIRING_DAYS	14		/* cert-expiring below this */

static const struct verdict {
	const char *code;
	int	serious;
	const char *text;
} verdicts[TP_V_COUNT] = {
	[TP_V_CONNECT_REFUSED] = {"connect-refused", 1,
		"Nothing accepts connections here: the server is down, listens "
		"on another port or address, or a firewall rejects the "
		"connection. Senders queue the mail and retry (\"Connection "
		"refused\")."},
	[TP_V_TIMEOUT] = {"timeout", 1,
		"The server did not answer in time at this step; a firewall "
		"that drops packets, a tarpit or an overloaded server. Senders "
		"see \"Connection timed out\" and retry later."},
	[TP_V_NOT_SMTP] = {"not-smtp", 1,
		"What answers here is not an SMTP server: no 220 banner, and "
		"no TLS handshake either. Check the port number and what "
		"listens on it."},
	[TP_V_STARTTLS_PORT] = {"starttls-port", 0,
		"This port speaks plaintext SMTP first (a 220 banner) and TLS "
		"only after STARTTLS. A client set for SSL/implicit TLS here "
		"fails with \"Unrecognized SSL message, plaintext connection\" "
		"(Java) or \"wrong version number\" (OpenSSL); set such a "
		"client to STARTTLS, or point it at the implicit-TLS port (465)."},
	[TP_V_IMPLICIT_TLS_PORT] = {"implicit-tls-port", 0,
		"This port speaks TLS at once (implicit TLS, as on 465) and "
		"sends its banner only inside TLS. A client set for STARTTLS "
		"or plaintext here waits for a banner that never comes and "
		"times out; set such a client to SSL/TLS (\"SMTPS\")."},
	[TP_V_NO_TLS] = {"no-tls", 1,
		"No TLS session could be set up on this port: mail to it "
		"travels in plaintext, and a sender that requires TLS "
		"defers it. Enable TLS on the server (Postfix: "
		"smtpd_tls_security_level = may, with a certificate)."},
	[TP_V_STARTTLS_NOT_OFFERED] = {"starttls-not-offered", 1,
		"The server does not offer STARTTLS in its EHLO reply, so "
		"senders deliver in plaintext or, if they require TLS, defer "
		"the mail (\"TLS is required, but was not offered\"). Enable "
		"STARTTLS on the server."},
	[TP_V_STARTTLS_MASKED] = {"starttls-masked", 1,
		"Something between the probe and the server hides STARTTLS: "
		"an unknown keyword stands where STARTTLS belongs, the mark of "
		"a firewall's \"SMTP inspection\" (Cisco ASA/PIX rewrites it to "
		"XXXXXXXA). Senders then deliver in plaintext. Turn off SMTP "
		"inspection (ESMTP fixup) on that firewall."},
	[TP_V_STARTTLS_REQUIRED] = {"starttls-required", 0,
		"The server refuses mail before STARTTLS (530 5.7.0 \"Must "
		"issue a STARTTLS command first\"). Right for submission; on "
		"port 25 a sender that cannot do TLS cannot deliver at all."},
	[TP_V_PLAINTEXT_ACCEPTED] = {"plaintext-accepted", 0,
		"The server accepts mail without TLS (MAIL FROM before STARTTLS "
		"got 250): opportunistic TLS, normal on port 25. A sender that "
		"does not use STARTTLS delivers in plaintext."},
	[TP_V_TLS_VERSION_OLD] = {"tls-version-old", 1,
		"The best TLS version the server accepts is below TLS 1.2. "
		"Current clients refuse it (\"no protocols available\", "
		"\"unsupported protocol\") and deliver in plaintext or defer. "
		"Enable TLS 1.2 and 1.3 on the server."},
	[TP_V_CERT_UNTRUSTED] = {"cert-untrusted", 1,
		"The server's certificate does not verify against the trusted "
		"CAs (the system's, plus --ca). Senders that verify (MTA-STS in "
		"enforce mode, \"verify\" policies, most submission clients) refuse "
		"it (\"certificate verify failed\"). Install a certificate from "
		"a public CA, with its full chain, on the server."},
	[TP_V_CERT_SELF_SIGNED] = {"cert-self-signed", 1,
		"The server's certificate is self-signed: no sender can verify "
		"it without a copy. Verifying senders refuse it (\"self-signed "
		"certificate\"). Install a certificate from a CA on the server."},
	[TP_V_CERT_EXPIRED] = {"cert-expired", 1,
		"The server's certificate has expired (or is not valid yet): "
		"verifying senders refuse it (\"certificate has expired\"). "
		"Renew it on the server, and reload the MTA."},
	[TP_V_CERT_EXPIRING] = {"cert-expiring", 1,
		"The server's certificate expires within 14 days. Renew it "
		"now on the server; check that the renewal job also reloads "
		"the MTA."},
	[TP_V_CERT_NAME_MISMATCH] = {"cert-name-mismatch", 1,
		"The server's certificate does not name the host the probe "
		"asked for (--name, or the host given). Senders that check "
		"names (MTA-STS, \"verify\" policies) refuse it (\"hostname "
		"mismatch\"). Put the MX name in the certificate's subject "
		"alternative names, or ask for the name the certificate has."},
	[TP_V_DANE_MISMATCH] = {"dane-mismatch", 1,
		"The MX publishes DNSSEC-signed TLSA records, but none matches "
		"the certificate the server sends. DANE senders (Postfix with "
		"smtp_tls_security_level = dane, Exim, Microsoft 365) defer "
		"all mail to it (\"TLSA ... did not match\"). Publish records for "
		"the current certificate (and the next one, before a change)."},
	[TP_V_DANE_UNVALIDATED] = {"dane-unvalidated", 1,
		"TLSA records exist for the MX but their answer is not "
		"DNSSEC-validated (an unsigned zone, or a broken signature), so "
		"it is not DANE: senders ignore unsigned records and defer "
		"mail when the signature is bogus. Sign the zone (and fix the "
		"DS at the parent), or remove the records."},
	[TP_V_MTA_STS_MISMATCH] = {"mta-sts-mismatch", 1,
		"The domain publishes an MTA-STS policy that this MX fails: "
		"its name is outside the policy's mx patterns, or the policy "
		"is in enforce mode and the MX's TLS or certificate does not "
		"verify. MTA-STS senders (Gmail, Microsoft 365, Postfix with "
		"an MTA-STS resolver) refuse to deliver to it in enforce mode "
		"and report it in TLSRPT in testing mode. Fix the policy's mx "
		"lines (and its id in the TXT record) or the MX's certificate."},
	[TP_V_MTA_STS_UNUSABLE] = {"mta-sts-unusable", 1,
		"The domain's _mta-sts TXT record announces a policy (or is "
		"malformed, or its lookup failed), but no valid policy could "
		"be had from https://mta-sts.DOMAIN/.well-known/mta-sts.txt. "
		"Senders then act as if there were none (TLSRPT "
		"\"sts-policy-fetch-error\" or \"sts-policy-invalid\"), and "
		"one that cached an enforce policy keeps it. Fix the web "
		"server (certificate, text/plain, status 200) or the policy."},
	[TP_V_DEST_RULE_UNMET] = {"dest-rule-unmet", 1,
		"This MX does not do what the domain's dest: rule in --policy "
		"asks of it (TLS, min_version, min_bits, verify, cert_subject, "
		"DANE): once that rule is exported, this MTA defers mail to "
		"the MX (Postfix: \"TLS is required, but ...\", \"Server "
		"certificate not verified\"). Change the rule, or ask the "
		"domain to change the server."},
	[TP_V_CLIENT_CERT_REQUESTED] = {"client-cert-requested", 0,
		"The server asks clients for a certificate (Postfix: "
		"smtpd_tls_ask_ccert). Harmless for most senders, but some "
		"clients then send an unsuitable certificate and fail the "
		"handshake, or prompt their user for one."},
};

static const char *const step_names[] = {
	[TP_STEP_NONE] = "none",
	[TP_STEP_CONNECT] = "connect",
	[TP_STEP_BANNER] = "banner",
	[TP_STEP_HELLO] = "TLS ClientHello (after no banner)",
	[TP_STEP_EHLO] = "EHLO",
	[TP_STEP_MAIL] = "MAIL FROM before TLS",
	[TP_STEP_STARTTLS] = "STARTTLS",
	[TP_STEP_HANDSHAKE] = "TLS handshake",
	[TP_STEP_EHLO_TLS] = "EHLO in TLS",
	[TP_STEP_RUN] = "none: not probed, the run's bound (--max-time) was reached",
};

/* tp_probe_verdict_code - the stable code */

const char *
tp_probe_verdict_code(enum tp_probe_verdict v)
{
	return (verdicts[v].code);
}

/* tp_probe_verdict_text - the sentence for an admin */

const char *
tp_probe_verdict_text(enum tp_probe_verdict v)
{
	return (verdicts[v].text);
}

/* tp_probe_verdict_serious - 1: breaks or weakens TLS; 0: a note */

int
tp_probe_verdict_serious(enum tp_probe_verdict v)
{
	return (verdicts[v].serious);
}

/* tp_probe_step_name - a network step in words */

const char *
tp_probe_step_name(enum tp_probe_step step)
{
	return (step_names[step]);
}

/* add - one verdict with a detail (escaped text only) */

static void __attribute__((format(printf, 3, 4)))
add(struct tp_probe_result *r, enum tp_probe_verdict v, const char *fmt,...)
{
	struct tp_probe_finding *f;
	va_list	ap;

	if (r->nfindings == TP_PROBE_VERDICTS_MAX)
		return;
	f = &r->findings[r->nfindings++];
	f->code = v;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

/* best_version - the index of the best version accepted, or -1 */

static int
best_version(const struct tp_probe_result *r)
{
	int	best = -1;

	for (int i = 0; i < TP_PROBE_NVERSIONS; i++)
		if (r->tls.vtry[i] == TP_VTRY_ACCEPTED
		    || strcmp(r->tls.version, tp_probe_tls_version_name(i)) == 0)
			best = i;
	return (best);
}

/* plain_verdicts - what the plaintext part of a session shows */

static void
plain_verdicts(struct tp_probe_result *r)
{
	add(r, TP_V_STARTTLS_PORT, "banner: %s", r->banner.text);
	if (r->starttls == TP_STARTTLS_NOT_OFFERED)
		add(r, TP_V_STARTTLS_NOT_OFFERED, "%s", r->tls.ok ?
		    "yet STARTTLS works when sent anyway: something hides it" : "");
	if (r->starttls == TP_STARTTLS_MASKED)
		add(r, TP_V_STARTTLS_MASKED, "the keyword %s stands in its place; %s",
		    r->masked_as, r->tls.ok ? "STARTTLS sent anyway works, so "
		    "the server behind does TLS" : "STARTTLS sent anyway fails too");
	if (r->enforce == TP_ENFORCE_REQUIRED)
		add(r, TP_V_STARTTLS_REQUIRED, "MAIL FROM:<> got: %s", r->mail.text);
	if (r->enforce == TP_ENFORCE_ACCEPTED)
		add(r, TP_V_PLAINTEXT_ACCEPTED, "MAIL FROM:<> got: %s", r->mail.text);
	if (r->tls.ok || r->timeout_step != TP_STEP_NONE || best_version(r) >= 0)
		return;
	if (r->banner.code != 220)
		add(r, TP_V_NO_TLS, "the server refused the session: %s", r->banner.text);
	else if (r->starttls_reply.code != 0 && r->starttls_reply.code != 220)
		add(r, TP_V_NO_TLS, "STARTTLS got: %s", r->starttls_reply.text);
	else
		add(r, TP_V_NO_TLS, "%s", r->tls.error[0] ? r->tls.error
		    : "the session ended before STARTTLS");
}

/* names_text - "CN x; a, b, c": the certificate's names on a line */

static const char *
names_text(const struct tp_probe_cert *c, char *out, size_t size)
{
	size_t	len;

	snprintf(out, size, "CN %s; alternative names:", c->cn[0] ? c->cn : "(none)");
	for (int i = 0; i < c->nnames && (len = strlen(out)) < size; i++)
		snprintf(out + len, size - len, "%s %s", i ? "," : "", c->names[i]);
	if (c->nnames == 0 && (len = strlen(out)) < size)
		snprintf(out + len, size - len, " none");
	return (out);
}

/* cert_verdicts - what the certificate shows */

static void
cert_verdicts(struct tp_probe_result *r)
{
	const struct tp_probe_cert *c = &r->cert;
	char	names[TP_PROBE_TEXT_MAX];
	int	dates = c->verify_error == X509_V_ERR_CERT_HAS_EXPIRED
	    || c->verify_error == X509_V_ERR_CERT_NOT_YET_VALID;

	if (!c->present)
		return;
	if (!c->verified && c->self_signed)
		add(r, TP_V_CERT_SELF_SIGNED, "subject %s", c->subject);
	else if (!c->verified && !dates)
		add(r, TP_V_CERT_UNTRUSTED, "%s%s", c->verify_text, c->incomplete_chain ?
		    "; the server sends an incomplete chain (intermediate "
		    "certificate missing?)" : "");
	if (c->expired)
		add(r, TP_V_CERT_EXPIRED, "expired on %s", c->not_after);
	else if (c->not_yet_valid)
		add(r, TP_V_CERT_EXPIRED, "not valid yet");
	else if (c->days_left < EXPIRING_DAYS)
		add(r, TP_V_CERT_EXPIRING, "expires on %s, in %ld days",
		    c->not_after, c->days_left);
	if (c->name_checked && !c->name_match)
		add(r, TP_V_CERT_NAME_MISMATCH, "%s is not among its names: %s",
		    c->check_name, names_text(c, names, sizeof(names)));
}

/* tls_verdicts - what the TLS session shows */

static void
tls_verdicts(struct tp_probe_result *r)
{
	int	best = best_version(r);

	if (best >= 0 && tp_probe_tls_version(best) < TLS1_2_VERSION)
		add(r, TP_V_TLS_VERSION_OLD, "best version accepted: %s",
		    tp_probe_tls_version_name(best));
	cert_verdicts(r);
	if (r->tls.ccert_requested)
		add(r, TP_V_CLIENT_CERT_REQUESTED, "%d CA name(s) sent%s%s", r->tls.ncas,
		    r->tls.ncas ? ", the first: " : "", r->tls.ncas ? r->tls.cas[0] : "");
}

/* dane_verdicts - step 9 */

static void
dane_verdicts(struct tp_probe_result *r)
{
	const struct tp_dns_result *t = r->dane.tlsa;

	if (t == NULL)
		return;
	if (t->status == TP_DNS_BOGUS)
		add(r, TP_V_DANE_UNVALIDATED, "%s: validation failed: %s", r->dane.name, t->why);
	else if (t->status == TP_DNS_INSECURE && t->count > 0)
		add(r, TP_V_DANE_UNVALIDATED, "%s: %zu record(s), not signed",
		    r->dane.name, t->count);
	else if (r->dane.tried && r->dane.matched != 1)
		add(r, TP_V_DANE_MISMATCH, "%s: %s", r->dane.name, r->dane.why);
}

/* sts_verdicts - step 8: the domain's policy against this MX */

static void
sts_verdicts(struct tp_probe_result *r)
{
	const struct tp_probe_sts *s = r->sts;
	const struct tp_probe_cert *c = &r->cert;
	int	session = (r->mode == TP_MODE_PLAIN || r->mode == TP_MODE_IMPLICIT)
	    && r->timeout_step == TP_STEP_NONE;

	if (s == NULL)
		return;
	if (s->found < 0)
		add(r, TP_V_MTA_STS_UNUSABLE, "%s", s->why);
	else if (s->found == 1 && s->policy == NULL)
		add(r, TP_V_MTA_STS_UNUSABLE, "%s", s->error);
	if (s->policy == NULL || s->policy->mode == TP_STS_MODE_NONE)
		return;
	if (!r->sts_match)
		add(r, TP_V_MTA_STS_MISMATCH, "%s is not among the policy's mx patterns "
		    "(mode %s)", r->host, tp_sts_mode_name(s->policy->mode));
	else if (s->policy->mode == TP_STS_MODE_ENFORCE && session
		 && (!r->tls.ok || !c->verified || (c->name_checked && !c->name_match)))
		add(r, TP_V_MTA_STS_MISMATCH, "mode enforce, but %s", !r->tls.ok ?
		    "no TLS session" : !c->verified ? "the certificate does not verify"
		    : "the certificate does not name the MX");
}

/* dest_verdicts - --policy: the domain's dest: rule against this MX */

static void
dest_verdicts(struct tp_probe_result *r)
{
	const struct tp_rule *rule;

	if (r->dest.rule == NULL || r->dest.unmet[0] == 0)
		return;
	rule = r->dest.rule->rule;
	add(r, TP_V_DEST_RULE_UNMET, "%s:%u: %s%s", rule->file, (unsigned) rule->line,
	    r->dest.unmet, rule->testing ? " (the rule has mode=testing)" : "");
}

/* session_verdicts - steps 1-7 and 9 */

static void
session_verdicts(struct tp_probe_result *r)
{
	if (r->connect == TP_CONNECT_REFUSED || r->connect == TP_CONNECT_ERROR)
		add(r, TP_V_CONNECT_REFUSED, "%s", r->connect_error);
	if (r->timeout_step != TP_STEP_NONE)
		add(r, TP_V_TIMEOUT, "no answer at step: %s",
		    tp_probe_step_name(r->timeout_step));
	switch (r->mode) {
	case TP_MODE_NOT_SMTP:
		if (r->banner.text[0])
			add(r, TP_V_NOT_SMTP, "it said \"%s\"", r->banner.text);
		else
			add(r, TP_V_NOT_SMTP, "%s%s", r->tls.error[0] ? "TLS hello: " : "",
			    r->tls.error[0] ? r->tls.error : "no SMTP banner");
		return;
	case TP_MODE_PLAIN:
		plain_verdicts(r);
		break;
	case TP_MODE_IMPLICIT:
		add(r, TP_V_IMPLICIT_TLS_PORT, "banner in TLS: %s", r->banner.text);
		if (!r->tls.ok && best_version(r) < 0 && r->timeout_step == TP_STEP_NONE)
			add(r, TP_V_NO_TLS, "%s", r->tls.error);
		break;
	default:
		return;
	}
	if (r->tls.peer_tls)
		tls_verdicts(r);
	dane_verdicts(r);
}

/* tp_probe_verdicts - every verdict the steps in r support */

void
tp_probe_verdicts(struct tp_probe_result *r)
{
	r->nfindings = 0;
	session_verdicts(r);
	sts_verdicts(r);
	dest_verdicts(r);
}
