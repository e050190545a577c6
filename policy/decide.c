/*
 * NAME
 *	decide 3
 * SUMMARY
 *	combine the rules that match a recipient into one decision
 * SYNOPSIS
 *	#include "policy/tp_policy.h"
 *
 *	int	tp_policy_decide(const struct tp_policy *policy,
 *				 const struct tp_query *query,
 *				 struct tp_decision *decision);
 * DESCRIPTION
 *	The rules that apply to a recipient are the most specific client
 *	address rule, the most specific client name rule, the sender
 *	rule and the recipient rule of every mailbox the MTA may route the
 *	recipient to (tp_address_readings): for each, the first of
 *	user+ext@domain, user@domain (the extension split off at the first
 *	of the query's recipient delimiters, as Postfix's access maps
 *	do), domain, .parent domains. The default rule applies when no
 *	client or sender rule matched and some reading has no rule.
 *
 *	An exempt rule among them wins outright, except that a recipient
 *	rule exempts only if every reading has an exempt rule: otherwise
 *	it is left out. Then the strictest
 *	level applies and every require rule must hold; of several failed
 *	require rules, an enforcing one beats a testing one, then the
 *	more severe action wins, then the earlier rule in the list above.
 *	The decider's reply= text replaces the default text, never the
 *	codes. A global dry run makes every rule a testing rule.
 * DIAGNOSTICS
 *	-1 when the client address is not an address, or the sender or
 *	the recipient cannot be read as one (tp_address_readings) while the
 *	policy has rules for such addresses: a lookup error is never taken
 *	for "no rule", the caller tempfails. -1 also when memory runs out.
 * MEMORY
 *	The lookup table of a decision (~80 KiB) is kept for the next one:
 *	as many as decisions ran at once, at most SPARE_LOOKUPS_MAX (5 MiB),
 *	for the life of the process.
 */

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/tp_names.h"
#include "policy/tp_policy_impl.h"

/* Selector kinds in the order their rules are listed in a decision. */
enum { GROUP_ADDR, GROUP_NAME, GROUP_SENDER, GROUP_RCPT };

/* 129 prefix lengths; client name and sender: <= 127 labels; recipient:
 * per reading two addresses (with and without extension) and its labels. */
#define PROBES_MAX	(129 + 2 * 127 + TP_READINGS_MAX * (2 + 127))

/* All lookups one recipient needs, resolved as one batch. */
struct lookup {
	struct tp_probe probes[PROBES_MAX];
	size_t	n;
	/* group g: probes [start[g], start[g+1]); reading i: group GROUP_RCPT + i */
	size_t	start[GROUP_RCPT + TP_READINGS_MAX + 1];
	struct tp_readings sender;	/* keys point into these */
	struct tp_readings rcpt;
	char	name[TP_DOMAIN_MAX + 1];
	char	rcpt_key[TP_READINGS_MAX][2][TP_LOCAL_MAX + 1 + TP_DOMAIN_MAX + 1];
};

/*
 * A lookup is big (~80 KiB: the worst case an address can ask for) and a
 * decision needs one. Not on the stack: libmilter runs each connection on
 * a short-lived thread, and when a thread ends glibc unmaps its stack
 * below the top 16 KiB, so each connection would fault the pages in again
 * (and each thread's end flush the TLB of every CPU). Not freed after
 * each decision: freeing a block that size makes glibc give the top of
 * the heap back to the kernel, to the same effect. Spares are kept, as
 * many as decisions ran at once, up to a cap (see BENCHMARKS.md).
 */
#define SPARE_LOOKUPS_MAX	64

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lookup *spare[SPARE_LOOKUPS_MAX];
static size_t nspare;

/* lookup_get - a spare lookup, or a new one; NULL if out of memory */

static struct lookup *
lookup_get(void)
{
	struct lookup *l = NULL;

	pthread_mutex_lock(&spare_lock);
	if (nspare > 0)
		l = spare[--nspare];
	pthread_mutex_unlock(&spare_lock);
	return (l != NULL ? l : malloc(sizeof(*l)));
}

/* lookup_put - keep a lookup for the next decision, or free it */

static void
lookup_put(struct lookup *l)
{
	pthread_mutex_lock(&spare_lock);
	if (nspare < SPARE_LOOKUPS_MAX) {
		spare[nspare++] = l;
		l = NULL;
	}
	pthread_mutex_unlock(&spare_lock);
	free(l);
}

/* add_probe - look for a name key of this type */

static void
add_probe(struct lookup *l, int type, const char *key, size_t len)
{
	struct tp_probe *pr = &l->probes[l->n++];

	pr->type = (uint8_t)type;
	pr->key = key;
	pr->len = (uint16_t)len;
}

/* add_domain - the exact rule, then parents that some subtree rule could be */

static void
add_domain(struct lookup *l, const struct tp_policy *p, int exact, int sub,
	   const char *name)
{
	size_t	len = strlen(name);
	unsigned labels = tp_label_count(name, len);

	if (tp_policy_may_have(p, exact, labels))
		add_probe(l, exact, name, len);
	for (const char *dot = strchr(name, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
		if (tp_policy_may_have(p, sub, --labels))
			add_probe(l, sub, dot + 1, len - (size_t)(dot + 1 - name));
}

/* add_client_addr - one probe per prefix length in use, longest first */

static int
add_client_addr(struct lookup *l, const struct tp_policy *p, const char *addr)
{
	struct tp_ip ip;
	int	plen;

	if (addr == NULL || *addr == 0)
		return (0);
	if (tp_ip_parse(addr, &ip) < 0)
		return (-1);
	plen = ip.family == 4 ? 33 : 129;
	while ((plen = tp_policy_prefix_below(p, ip.family, plen)) >= 0)
		tp_probe_ip(&l->probes[l->n++], &ip, (unsigned)plen);
	return (0);
}

/* add_client_name - the verified client host name */

static void
add_client_name(struct lookup *l, const struct tp_policy *p, const char *host)
{
	const char *why;

	if (host != NULL && tp_domain_normalize(host, strlen(host), l->name, &why) >= 0)
		add_domain(l, p, TP_KEY_NAME, TP_KEY_NAME_SUB, l->name);
}

/* add_sender - the envelope sender: <> or its domain; -1 if unreadable */

static int
add_sender(struct lookup *l, const struct tp_policy *p, const char *sender)
{
	if (sender == NULL)
		return (0);
	/* Unreadable: an error only where some rule could have matched it. */
	if (tp_address_readings(sender, "", &l->sender) < 0)
		return (tp_policy_has(p, TP_KEY_SENDER) || tp_policy_has(p, TP_KEY_SENDER_SUB) ? -1 : 0);
	/* A sender is not delivered to: its written domain, the first reading. */
	if (l->sender.null)
		add_probe(l, TP_KEY_NULL_SENDER, "", 0);
	else if (l->sender.n > 0 && l->sender.box[0].domain[0] != 0)
		add_domain(l, p, TP_KEY_SENDER, TP_KEY_SENDER_SUB, l->sender.box[0].domain);
	return (0);
}

/* add_address - probe local@domain, built in key */

static void
add_address(struct lookup *l, char *key, const char *local, const char *domain)
{
	size_t	len = strlen(local);
	size_t	dlen = strlen(domain);

	memcpy(key, local, len);
	key[len] = '@';
	memcpy(key + len + 1, domain, dlen);
	add_probe(l, TP_KEY_RCPT_ADDR, key, len + 1 + dlen);
}

/*
 * add_mailbox - one reading of the recipient: its address, the address
 * without its extension, its domain and parents (Postfix's access map
 * order).
 */
static void
add_mailbox(struct lookup *l, const struct tp_policy *p, size_t i)
{
	const struct tp_mailbox *b = &l->rcpt.box[i];

	if (b->domain[0] == 0)
		return;
	if (tp_policy_may_have(p, TP_KEY_RCPT_ADDR,
			       tp_label_count(b->domain, strlen(b->domain)))) {
		if (b->local[0] != 0)
			add_address(l, l->rcpt_key[i][0], b->local, b->domain);
		if (b->user[0] != 0)
			add_address(l, l->rcpt_key[i][1], b->user, b->domain);
	}
	add_domain(l, p, TP_KEY_RCPT, TP_KEY_RCPT_SUB, b->domain);
}

/* add_rcpt - every reading of one recipient; -1 if unreadable */

static int
add_rcpt(struct lookup *l, const struct tp_policy *p, const struct tp_query *q)
{
	const char *delimiters = q->rcpt_delimiter ? q->rcpt_delimiter : TP_RCPT_DELIMITER;

	l->rcpt.n = 0;
	/* A domain that is no name to us may be one to the MTA: unreadable. */
	if (q->rcpt != NULL && (tp_address_readings(q->rcpt, delimiters, &l->rcpt) < 0
				|| l->rcpt.bad_domain)) {
		l->rcpt.n = 0;
		return (tp_policy_has(p, TP_KEY_RCPT) || tp_policy_has(p, TP_KEY_RCPT_SUB)
			|| tp_policy_has(p, TP_KEY_RCPT_ADDR) ? -1 : 0);
	}
	for (size_t i = 0; i < l->rcpt.n; i++) {
		l->start[GROUP_RCPT + i] = l->n;
		add_mailbox(l, p, i);
	}
	l->start[GROUP_RCPT + l->rcpt.n] = l->n;
	return (0);
}

/* add_rule - note a matching rule, once */

static void
add_rule(struct tp_decision *d, const struct tp_rule *r)
{
	for (size_t i = 0; i < d->nrules; i++)
		if (d->rules[i] == r)
			return;
	d->rules[d->nrules++] = r;
}

/* found - the first rule that probes [from, to) found, or NULL */

static const struct tp_rule *
found(const struct tp_policy *p, const struct lookup *l, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (l->probes[i].idx >= 0)
			return (&p->entries[l->probes[i].idx].rule);
	return (NULL);
}

/*
 * add_rcpt_rules - the recipient rule of each reading. An exempt one
 * exempts only if every reading is exempt: a recipient is as protected
 * as the strictest mailbox it may reach. A reading without a rule takes
 * the default, unless a client or sender rule applies. True if the
 * recipient's exempt rules hold: every reading has one.
 */
static bool
add_rcpt_rules(const struct tp_policy *p, const struct lookup *l,
	       struct tp_decision *d)
{
	size_t	others = d->nrules;
	size_t	exempt = 0;
	bool	bare = l->rcpt.n == 0;

	for (size_t i = 0; i < l->rcpt.n; i++) {
		const struct tp_rule *r = found(p, l, l->start[GROUP_RCPT + i],
						l->start[GROUP_RCPT + i + 1]);

		if (r == NULL) {
			bare = true;
			continue;
		}
		add_rule(d, r);
		exempt += r->level == TP_LEVEL_EXEMPT;
	}
	if (bare && others == 0 && p->default_index != 0)
		add_rule(d, &p->entries[p->default_index - 1].rule);
	return (!bare && exempt == l->rcpt.n);
}

/*
 * collect - every rule that applies to this recipient; whether its exempt
 * rules hold in *rcpt_exempt; -1 on bad input
 */

static int
collect(const struct tp_policy *p, const struct tp_query *q, struct lookup *l,
	struct tp_decision *d, bool *rcpt_exempt)
{
	const struct tp_rule *r;

	l->n = 0;
	l->start[GROUP_ADDR] = 0;
	if (add_client_addr(l, p, q->client_addr) < 0) {
		strcpy(d->reason, "client address is not an IP address");
		return (-1);
	}
	l->start[GROUP_NAME] = l->n;
	add_client_name(l, p, q->client_name);
	l->start[GROUP_SENDER] = l->n;
	if (add_sender(l, p, q->sender) < 0) {
		strcpy(d->reason, "sender address cannot be read");
		return (-1);
	}
	l->start[GROUP_RCPT] = l->n;
	if (add_rcpt(l, p, q) < 0) {
		strcpy(d->reason, "recipient address cannot be read");
		return (-1);
	}
	tp_policy_probe(p, l->probes, l->n);
	/* In each group the probes run from most to least specific. */
	for (int g = GROUP_ADDR; g < GROUP_RCPT; g++)
		if ((r = found(p, l, l->start[g], l->start[g + 1])) != NULL)
			add_rule(d, r);
	*rcpt_exempt = add_rcpt_rules(p, l, d);
	return (0);
}

/* beats - does failed rule a decide over failed rule b? */

static int
beats(const struct tp_rule *a, const struct tp_rule *b, int dry_run)
{
	int	a_enforce = !dry_run && !a->testing;
	int	b_enforce = !dry_run && !b->testing;

	if (a_enforce != b_enforce)
		return (a_enforce);
	return (a->action > b->action);
}

/* set_reply - SMTP codes and text for a failed require rule */

static void
set_reply(struct tp_decision *d, unsigned unmet)
{
	int	no_tls = (unmet & TP_REQ_TLS) != 0;
	int	temp = d->action == TP_ACTION_TEMPFAIL;

	d->reply_code = no_tls ? (temp ? "450" : "530") : (temp ? "451" : "550");
	d->reply_xcode = no_tls ? (temp ? "4.7.0" : "5.7.0") : (temp ? "4.7.1" : "5.7.1");
	if (d->decider->reply != NULL)
		snprintf(d->reply_text, sizeof(d->reply_text), "%s", d->decider->reply);
	else if (no_tls)
		snprintf(d->reply_text, sizeof(d->reply_text),
			 "Must issue a STARTTLS command first: %.400s", d->reason);
	else
		snprintf(d->reply_text, sizeof(d->reply_text), "%s", d->reason);
}

/* evaluate - check the rules of the effective level against the TLS state */

static void
evaluate(const struct tp_query *q, struct tp_decision *d)
{
	size_t	decider = d->nrules;
	size_t	first = d->nrules;

	for (size_t i = 0; i < d->nrules; i++) {
		const struct tp_rule *r = d->rules[i];

		if (r->level < TP_LEVEL_PREFER || r->level == TP_LEVEL_EXEMPT)
			continue;
		d->rule_unmet[i] = tp_rule_unmet(r, q->tls);
		d->unmet |= d->rule_unmet[i];
		if (r->level != d->level)
			continue;
		if (first == d->nrules)
			first = i;
		if (d->rule_unmet[i] != 0 && (decider == d->nrules
				|| beats(r, d->rules[decider], q->dry_run)))
			decider = i;
	}
	if (decider == d->nrules) {
		d->result = TP_RESULT_PASS;
		d->decider = d->rules[first];
		strcpy(d->reason, "TLS requirements met");
		return;
	}
	d->decider = d->rules[decider];
	tp_rule_reason(d->decider, d->rule_unmet[decider], q, d->reason, sizeof(d->reason));
	if (d->level == TP_LEVEL_PREFER) {
		d->result = TP_RESULT_UNMET;
		return;
	}
	d->result = TP_RESULT_FAIL;
	d->action = (enum tp_action)d->decider->action;
	d->testing = q->dry_run || d->decider->testing;
	set_reply(d, d->rule_unmet[decider]);
}

/* tp_policy_decide - the decision for one recipient */

int
tp_policy_decide(const struct tp_policy *p, const struct tp_query *q,
		 struct tp_decision *d)
{
	bool	rcpt_exempt;
	struct lookup *l;
	int	rc;

	/* The text buffers are last and are set as needed: skip clearing them. */
	memset(d, 0, offsetof(struct tp_decision, reason));
	d->reason[0] = d->reply_text[0] = 0;
	if ((l = lookup_get()) == NULL) {
		strcpy(d->reason, "out of memory");
		return (-1);
	}
	rc = collect(p, q, l, d, &rcpt_exempt);
	lookup_put(l);
	if (rc < 0)
		return (-1);
	for (size_t i = 0; i < d->nrules; i++) {
		if (d->rules[i]->level == TP_LEVEL_EXEMPT
		    && (rcpt_exempt || d->rules[i]->kind != TP_KIND_RCPT)) {
			d->level = TP_LEVEL_EXEMPT;
			d->result = TP_RESULT_EXEMPT;
			d->decider = d->rules[i];
			snprintf(d->reason, sizeof(d->reason), "exempt by %s",
				 d->decider->selector);
			return (0);
		}
		if (d->rules[i]->level > d->level && d->rules[i]->level != TP_LEVEL_EXEMPT)
			d->level = (enum tp_level)d->rules[i]->level;
	}
	if (d->level == TP_LEVEL_SKIP) {
		d->result = TP_RESULT_SKIP;
		d->decider = d->nrules ? d->rules[0] : NULL;
		snprintf(d->reason, sizeof(d->reason), "%s",
			 d->nrules ? "policy says skip" : "no rule matched and no default rule");
		return (0);
	}
	evaluate(q, d);
	return (0);
}
