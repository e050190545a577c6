/*
 * NAME
 *	probe_dest 3
 * SUMMARY
 *	tlspolicyctl probe --policy: does what the probe saw of an MX
 *	satisfy the domain's dest: rule?
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	void	tp_probe_dest_check(struct tp_probe_result *r);
 *	int	tp_probe_name_covers(const char *a, const char *b);
 * DESCRIPTION
 *	tp_probe_dest_check() compares r's steps with r->dest.rule (the
 *	dest: rule probe.c found for the --mx domain; nothing to do when
 *	it is NULL) as the MTA will once the rule is exported: a require
 *	rule needs a TLS session, at least min_version and min_bits;
 *	verify=yes a certificate that verified (the system's CAs plus
 *	--ca) and, with cert_subject=, one of those names among the
 *	certificate's (else the MX name, as the probe checked it);
 *	verify=dane a TLSA record, DNSSEC-validated, that matched. Skip
 *	and prefer rules ask for nothing a server can fail: plaintext is
 *	allowed. What is unmet goes to r->dest.unmet, "; "-separated.
 *
 *	tp_probe_name_covers() says whether two certificate names match:
 *	equal ignoring case, or one of them "*." and a domain with
 *	exactly one label in place of the "*" (as MTA-STS patterns and
 *	certificate wildcards read).
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl/tp_probe.h"
#include "policy/tp_tls.h"

/* unmet - one more thing the server does not do */

static void __attribute__((format(printf, 2, 3)))
unmet(struct tp_probe_dest *d, const char *fmt,...)
{
	size_t	n = strlen(d->unmet);
	va_list	ap;

	if (n > 0 && n + 2 < sizeof(d->unmet)) {
		memcpy(d->unmet + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(d->unmet + n, sizeof(d->unmet) - n, fmt, ap);
	va_end(ap);
}

/* tp_probe_name_covers - a and b name the same host; "*." is one label */

int
tp_probe_name_covers(const char *a, const char *b)
{
	return (tp_sts_pattern_match(a, b) || tp_sts_pattern_match(b, a));
}

/* subject_match - one of the rule's names among the certificate's */

static int
subject_match(const struct tp_outbound *ob, const struct tp_probe_cert *c)
{
	for (size_t i = 0; i < ob->nnames; i++) {
		for (int j = 0; j < c->nnames; j++)
			if (tp_probe_name_covers(ob->names[i], c->names[j]))
				return (1);
		if (c->nnames == 0 && c->cn[0] && tp_probe_name_covers(ob->names[i], c->cn))
			return (1);
	}
	return (0);
}

/* verify_check - verify=yes and cert_subject= */

static void
verify_check(const struct tp_outbound *ob, const struct tp_probe_result *r,
	     struct tp_probe_dest *d)
{
	const struct tp_probe_cert *c = &r->cert;

	if (!c->verified)
		unmet(d, "verify=yes: the certificate does not verify (%s)",
		      c->verify_text[0] ? c->verify_text : "none");
	if (ob->nnames > 0 && !subject_match(ob, c))
		unmet(d, "cert_subject=: none of the rule's names is the certificate's");
	else if (ob->nnames == 0 && c->name_checked && !c->name_match)
		unmet(d, "verify=yes: the certificate does not name %s", c->check_name);
}

/* tp_probe_dest_check - r against its dest: rule */

void
tp_probe_dest_check(struct tp_probe_result *r)
{
	const struct tp_outbound *ob = r->dest.rule;
	struct tp_probe_dest *d = &r->dest;
	enum tp_tls_version v;

	if (ob == NULL || r->connect != TP_CONNECT_OK)
		return;
	d->checked = 1;
	if (ob->rule->level != TP_LEVEL_REQUIRE)
		return;
	if (!r->tls.ok) {
		unmet(d, "no TLS session");
		return;
	}
	v = tp_tls_version_parse(r->tls.version);
	if (ob->rule->min_version && v < ob->rule->min_version)
		unmet(d, "min_version=%s: the server negotiates %s",
		      tp_tls_version_name(ob->rule->min_version), r->tls.version);
	if (ob->rule->min_bits && r->tls.bits < ob->rule->min_bits)
		unmet(d, "min_bits=%u: the cipher has %d bits",
		      (unsigned) ob->rule->min_bits, r->tls.bits);
	if (ob->verify == TP_DEST_VERIFY_YES)
		verify_check(ob, r, d);
	else if (ob->verify == TP_DEST_VERIFY_DANE && !(r->dane.tlsa != NULL
		 && r->dane.tlsa->status == TP_DNS_SECURE && r->dane.matched == 1))
		unmet(d, "verify=dane: no DNSSEC-validated TLSA record matches");
}
