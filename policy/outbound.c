/*
 * NAME
 *	outbound 3
 * SUMMARY
 *	read-only walks and the dest: lookup, for the tools
 * SYNOPSIS
 *	#include "policy/tp_policy.h"
 *
 *	const struct tp_rule *tp_policy_rule_next(const struct tp_policy *p,
 *						  size_t *iter);
 *	const struct tp_outbound *tp_policy_dest_next(
 *				const struct tp_policy *p, size_t *iter);
 *	const struct tp_outbound *tp_policy_starttls_off_next(
 *				const struct tp_policy *p, size_t *iter);
 *	const struct tp_outbound *tp_policy_outbound(
 *				const struct tp_policy *p,
 *				const struct tp_rule *rule);
 *	void	tp_outbound_format(const struct tp_outbound *ob,
 *				   char *buf, size_t len);
 *	int	tp_policy_dest_lookup(const struct tp_policy *p,
 *				      const char *domain,
 *				      const struct tp_outbound **ob,
 *				      const char **why);
 *	size_t	tp_policy_starttls_conflicts(const struct tp_policy *p,
 *				const struct tp_outbound *off,
 *				const struct tp_rule **out, size_t max);
 *	size_t	tp_policy_shadowed(const struct tp_policy *p,
 *				   const struct tp_shadowed **list);
 *	size_t	tp_policy_file_count(const struct tp_policy *p);
 *	const char *tp_policy_file_at(const struct tp_policy *p, size_t i);
 * DESCRIPTION
 *	The milter decides inbound mail only (decide.c); what this
 *	module reads out of a policy is for tlspolicyctl: the dest:
 *	rules that say how mail this MTA sends must be protected, and
 *	the client rules with starttls=off, which the MTA enforces once
 *	they are exported. See tp_policy.h.
 *
 *	tp_policy_dest_lookup() finds the rule as the engine finds rcpt:
 *	rules: the exact domain, then the nearest parent with a
 *	dest:.PARENT rule; dest:.D does not match D itself.
 *
 *	tp_policy_starttls_conflicts() finds the require rules that the
 *	engine would still apply to mail from the client of a starttls=off
 *	rule (from which the MTA hides STARTTLS, so that such mail can
 *	only fail): every sender: and rcpt: require rule, and the client
 *	require rules of the same kind inside its address range or domain
 *	(the most specific client rule of a kind is the one that applies;
 *	the default rule never applies where a client rule matched). It
 *	returns how many there are and puts the first max in out[].
 * MEMORY
 *	Every pointer returned points into the policy: valid while the
 *	caller holds its reference.
 */

#include <stdio.h>
#include <string.h>

#include "policy/tp_ipaddr.h"
#include "policy/tp_names.h"
#include "policy/tp_policy_impl.h"

/* entry_of - the entry a rule of this policy is the first member of */

static const struct tp_entry *
entry_of(const struct tp_policy *p, const struct tp_rule *r)
{
	const struct tp_entry *e = (const struct tp_entry *)(const void *)r;

	return (p->nentries > 0 && e >= p->entries && e < p->entries + p->nentries ?
		e : NULL);
}

/* next_ob - the next rule from *iter on with an outbound part keep() wants */

static const struct tp_outbound *
next_ob(const struct tp_policy *p, size_t *iter, int dest)
{
	while (*iter < p->nentries) {
		const struct tp_outbound *ob = p->entries[(*iter)++].ob;

		if (ob != NULL && (dest ? ob->rule->kind == TP_KIND_DEST : ob->starttls_off))
			return (ob);
	}
	return (NULL);
}

/* tp_policy_rule_next - every rule */

const struct tp_rule *
tp_policy_rule_next(const struct tp_policy *p, size_t *iter)
{
	return (*iter < p->nentries ? &p->entries[(*iter)++].rule : NULL);
}

/* tp_policy_dest_next - the dest: rules */

const struct tp_outbound *
tp_policy_dest_next(const struct tp_policy *p, size_t *iter)
{
	return (next_ob(p, iter, 1));
}

/* tp_policy_starttls_off_next - the client rules with starttls=off */

const struct tp_outbound *
tp_policy_starttls_off_next(const struct tp_policy *p, size_t *iter)
{
	return (next_ob(p, iter, 0));
}

/* tp_policy_outbound - the outbound part of a rule, or NULL */

const struct tp_outbound *
tp_policy_outbound(const struct tp_policy *p, const struct tp_rule *r)
{
	const struct tp_entry *e = entry_of(p, r);

	return (e != NULL ? e->ob : NULL);
}

/* tp_outbound_format - the rule as policy text, starttls=off included */

void
tp_outbound_format(const struct tp_outbound *ob, char *buf, size_t len)
{
	size_t	used;

	tp_rule_format(ob->rule, buf, len);
	used = strlen(buf);
	if (ob->starttls_off && used < len)
		snprintf(buf + used, len - used, " starttls=off");
}

/* tp_policy_dest_lookup - the dest: rule for mail to a domain */

int
tp_policy_dest_lookup(const struct tp_policy *p, const char *domain,
		      const struct tp_outbound **ob, const char **why)
{
	struct tp_probe probes[TP_DOMAIN_MAX / 2 + 2];
	char	name[TP_DOMAIN_MAX + 1];
	size_t	n = 0;
	ssize_t	len;

	*ob = NULL;
	if ((len = tp_domain_normalize(domain, strlen(domain), name, why)) < 0)
		return (-1);
	probes[n++] = (struct tp_probe) {.key = name, .len = (uint16_t)len, .type = TP_KEY_DEST};
	for (const char *dot = strchr(name, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
		probes[n++] = (struct tp_probe) {.key = dot + 1,
			.len = (uint16_t)(len - (dot + 1 - name)), .type = TP_KEY_DEST_SUB};
	tp_policy_probe(p, probes, n);
	for (size_t i = 0; i < n; i++)
		if (probes[i].idx >= 0) {
			*ob = p->entries[probes[i].idx].ob;
			return (1);
		}
	return (0);
}

/* addr_within - is entry r's prefix strictly inside entry off's? */

static int
addr_within(const struct tp_entry *r, const struct tp_entry *off)
{
	struct tp_ip ip = r->key.ip;

	if (r->key.ip.family != off->key.ip.family || r->plen <= off->plen)
		return (0);
	tp_ip_mask(&ip, off->plen);
	return (memcmp(ip.bytes, off->key.ip.bytes, sizeof(ip.bytes)) == 0);
}

/* name_within - is name entry r more specific than and under off's? */

static int
name_within(const struct tp_entry *r, const struct tp_entry *off)
{
	/* Only a subtree rule has names under it; an exact host is the end. */
	if (off->ktype != TP_KEY_NAME_SUB || r->klen <= off->klen)
		return (0);
	return (r->key.name[r->klen - off->klen - 1] == '.'
		&& memcmp(r->key.name + r->klen - off->klen, off->key.name, off->klen) == 0);
}

/*
 * requires_of - would require rule r apply to mail from a client that
 * starttls=off rule off matches? A sender: or rcpt: rule can apply to
 * any of its mail. Of client rules, only the most specific of a kind
 * applies, so only one inside off's range or domain can. The default
 * rule never: it applies only where no client rule matched.
 */

static int
requires_of(const struct tp_entry *r, const struct tp_entry *off)
{
	if (r->rule.level != TP_LEVEL_REQUIRE)
		return (0);
	switch (r->rule.kind) {
	case TP_KIND_SENDER:
	case TP_KIND_RCPT:
		return (1);
	case TP_KIND_CLIENT_ADDR:
		return (off->ktype == TP_KEY_IP && addr_within(r, off));
	case TP_KIND_CLIENT_NAME:
		return (off->ktype != TP_KEY_IP && name_within(r, off));
	default:
		return (0);
	}
}

/* tp_policy_starttls_conflicts - require rules that would apply to off's client */

size_t
tp_policy_starttls_conflicts(const struct tp_policy *p, const struct tp_outbound *off,
			     const struct tp_rule **out, size_t max)
{
	const struct tp_entry *oe = entry_of(p, off->rule);
	size_t	n = 0;

	if (oe == NULL || !off->starttls_off)
		return (0);
	for (size_t i = 0; i < p->nentries; i++)
		if (requires_of(&p->entries[i], oe)) {
			if (n < max)
				out[n] = &p->entries[i].rule;
			n++;
		}
	return (n);
}

/* tp_dest_verify_name - the verify= word of a dest: rule */

const char *
tp_dest_verify_name(enum tp_dest_verify v)
{
	static const char *const names[] = {"none", "yes", "dane"};

	return ((size_t)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?");
}

/* tp_policy_shadowed - included rules that the including file overrode */

size_t
tp_policy_shadowed(const struct tp_policy *p, const struct tp_shadowed **list)
{
	*list = p->shadows;
	return (p->nshadows);
}

/* tp_policy_file_count - how many files the policy was read from */

size_t
tp_policy_file_count(const struct tp_policy *p)
{
	return (p->nfiles);
}

/* tp_policy_file_at - file i, the main one first; NULL past the end */

const char *
tp_policy_file_at(const struct tp_policy *p, size_t i)
{
	return (i < p->nfiles ? p->files[i] : NULL);
}
