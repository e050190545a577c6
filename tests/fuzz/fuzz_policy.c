/*
 * NAME
 *	fuzz_policy 1
 * SUMMARY
 *	libFuzzer target: policy parser, then decisions on what it parsed
 * SYNOPSIS
 *	fuzz_policy [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is a policy file, optionally followed by a line "%%" and
 *	a query, one field a line: client address, client name, sender,
 *	recipient, then the TLS state: how (0 plaintext, 1 STARTTLS, 2
 *	implicit), version, cipher, bits, {verify}, subject, issuer, and
 *	the recipient delimiters (recipient_delimiter). An empty or
 *	missing line is NULL (for the delimiters: the default, "+").
 *
 *	The policy is read from memory (fmemopen) by tp_policy_parse(),
 *	as tp_policy_load() does: any error refuses the whole file, and
 *	every error must be "fuzz.policy:LINE: ..." without a control
 *	character but tab. A policy that loads is asked the input's query, and for
 *	each rule a query aimed at it (its own domain, address or host,
 *	with and without TLS, and with the delimiters NULL, "+", "+-" and
 *	"" in turn, so that a recipient is read every way). Every decision must be well-formed (result,
 *	rules, decider, SMTP codes, reply text that can go on the wire),
 *	a rule named exactly by its selector must take part in the
 *	decision aimed at it, and the rules, formatted back as text
 *	(tp_rule_format, tp_outbound_format), must parse to the same rules.
 *	No dest: rule may take part in a decision, and the dest: lookup of
 *	a dest: rule's own domain must find it. An include line is an error
 *	here (the policy is read from memory, tp_policy_parse), so no input
 *	can make the target read a file.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/tp_policy_impl.h"
#include "util/tp_buf.h"
#include "tests/fuzz/fuzz.h"

#define FILE_NAME	"fuzz.policy"
#define QUERY_MARK	"\n%%\n"
#define AIMED_MAX	64		/* rules to aim a query at, per input */
#define ROUND_TRIP_MAX	512		/* rules formatted and parsed back */
#define RULE_TEXT_MAX	2048		/* a formatted rule: 2 * 255 + 2 * 200 + ... */

enum {
	Q_ADDR, Q_NAME, Q_SENDER, Q_RCPT, Q_HOW, Q_VERSION, Q_CIPHER, Q_BITS,
	Q_VERIFY, Q_SUBJECT, Q_ISSUER, Q_DELIM, Q_FIELDS,
};

/* load - parse text as tp_policy_load() would; NULL if it has errors */

static struct tp_policy *
load(char *text, size_t len, struct tp_errors *errs)
{
	struct tp_policy *p = tp_policy_new(FILE_NAME);
	FILE   *fp;
	int	rc = 0;

	FUZZ_ASSERT(p != NULL, "out of memory");
	/* fmemopen() refuses 0 bytes; an empty file has no rules anyway. */
	if (len > 0) {
		FUZZ_ASSERT((fp = fmemopen(text, len, "r")) != NULL, "fmemopen");
		rc = tp_policy_parse(p, fp, errs);
		fclose(fp);
	}
	for (size_t i = 0; i < errs->kept; i++) {
		const char *m = errs->msgs[i];

		FUZZ_ASSERT(strncmp(m, FILE_NAME ":", sizeof(FILE_NAME)) == 0, "%s", m);
		FUZZ_ASSERT(fuzz_no_control(m, strlen(m), "\t"), "control byte in \"%s\"", m);
	}
	if (rc < 0 || errs->count > 0) {
		tp_policy_free(p);
		return (NULL);
	}
	return (p);
}

/* query_fields - the lines after "%%", cut in place; missing ones NULL */

static void
query_fields(char *text, const char **q)
{
	for (int i = 0; i < Q_FIELDS; i++) {
		char   *nl;

		q[i] = text != NULL && *text != 0 ? text : NULL;
		if (text == NULL)
			continue;
		if ((nl = strchr(text, '\n')) != NULL)
			*nl++ = 0;
		text = nl;
	}
}

/* tls_state - the query's TLS state from its fields */

static void
tls_state(const char **q, struct tp_tls_state *tls)
{
	memset(tls, 0, sizeof(*tls));
	tls->how = q[Q_HOW] == NULL ? TP_TLS_HOW_NONE : (enum tp_tls_how)(q[Q_HOW][0] % 3);
	tls->version = q[Q_VERSION];
	tls->version_id = tp_tls_version_parse(q[Q_VERSION]);
	tls->cipher = q[Q_CIPHER];
	tls->bits = q[Q_BITS] ? atoi(q[Q_BITS]) : -1;
	tls->verify_raw = q[Q_VERIFY];
	tls->verify = tp_verify_parse(q[Q_VERIFY]);
	tls->cert_subject = q[Q_SUBJECT];
	tls->cert_issuer = q[Q_ISSUER];
}

/* check_decision - what every decision must look like */

static void
check_decision(const struct tp_decision *d, int rc)
{
	size_t	len = strnlen(d->reason, sizeof(d->reason));

	FUZZ_ASSERT(len < sizeof(d->reason) && len > 0, "reason of %zu bytes", len);
	FUZZ_ASSERT(fuzz_no_control(d->reason, len, ""), "reason \"%s\"", d->reason);
	if (rc < 0)
		return;
	FUZZ_ASSERT(rc == 0, "tp_policy_decide returned %d", rc);
	FUZZ_ASSERT(d->result <= TP_RESULT_EXEMPT && d->level <= TP_LEVEL_EXEMPT,
		    "result %d level %d", d->result, d->level);
	FUZZ_ASSERT(d->nrules <= TP_DECISION_MAX_RULES, "%zu rules", d->nrules);
	if (d->decider != NULL) {
		size_t	i = 0;

		while (i < d->nrules && d->rules[i] != d->decider)
			i++;
		FUZZ_ASSERT(i < d->nrules, "decider is not one of the rules");
	}
	FUZZ_ASSERT((d->result == TP_RESULT_EXEMPT) == (d->level == TP_LEVEL_EXEMPT),
		    "result %s at level %s", tp_result_name(d->result), tp_level_name(d->level));
	if (d->result != TP_RESULT_FAIL) {
		FUZZ_ASSERT(d->reply_code == NULL, "reply %s without a failure", d->reply_code);
		return;
	}
	FUZZ_ASSERT(d->decider != NULL && d->level == TP_LEVEL_REQUIRE, "failure without a require rule");
	FUZZ_ASSERT(d->reply_code != NULL && d->reply_xcode != NULL
		    && d->reply_code[0] == d->reply_xcode[0]
		    && (d->reply_code[0] == '4') == (d->action == TP_ACTION_TEMPFAIL),
		    "reply %s %s for action %s", d->reply_code, d->reply_xcode,
		    tp_action_name(d->action));
	len = strnlen(d->reply_text, sizeof(d->reply_text));
	FUZZ_ASSERT(len > 0 && len < sizeof(d->reply_text), "reply text of %zu bytes", len);
	FUZZ_ASSERT(fuzz_no_control(d->reply_text, len, ""), "reply text \"%s\"", d->reply_text);
}

/* decide - one decision, checked */

static void
decide(const struct tp_policy *p, const struct tp_query *q, const struct tp_rule *aim)
{
	struct tp_decision d;
	int	rc = tp_policy_decide(p, q, &d);

	check_decision(&d, rc);
	for (size_t i = 0; rc == 0 && i < d.nrules; i++)
		FUZZ_ASSERT(d.rules[i]->kind != TP_KIND_DEST, "dest: rule %s in an inbound decision",
			    d.rules[i]->selector);
	if (aim == NULL || rc < 0)
		return;
	for (size_t i = 0; i < d.nrules; i++)
		if (d.rules[i] == aim)
			return;
	/* rcpt:DOMAIN gives way to rcpt:LOCAL@DOMAIN; nothing else is nearer. */
	for (size_t i = 0; i < d.nrules; i++)
		if (aim->kind == TP_KIND_RCPT && d.rules[i]->kind == TP_KIND_RCPT
		    && strchr(d.rules[i]->selector, '@') != NULL)
			return;
	FUZZ_ASSERT(0, "rule %s:%u (%s) not in its own decision", aim->file,
		    aim->line, aim->selector);
}

/*
 * aim - a query that the rule's selector names; *exact when no other
 * rule can be nearer to it than this one.
 */
static void
aim(const struct tp_rule *r, struct tp_query *q, char *buf, size_t size, int *exact)
{
	const char *v = strchr(r->selector, ':');
	const char *slash;

	*exact = 0;
	if (v == NULL)			/* default */
		return;
	v++;
	switch (r->kind) {
	case TP_KIND_SENDER:
	case TP_KIND_RCPT:
		*exact = *v != '.';
		if (strcmp(v, "<>") == 0)
			snprintf(buf, size, "<>");
		else if (*v == '.')
			snprintf(buf, size, "<fuzz@x%s>", v);
		else if (strchr(v, '@') != NULL)
			snprintf(buf, size, "<%s>", v);
		else
			snprintf(buf, size, "<fuzz@%s>", v);
		*(r->kind == TP_KIND_SENDER ? &q->sender : &q->rcpt) = buf;
		break;
	case TP_KIND_CLIENT_ADDR:
		slash = strchr(v, '/');
		snprintf(buf, size, "%.*s", slash ? (int)(slash - v) : (int)strlen(v), v);
		q->client_addr = buf;
		break;
	case TP_KIND_CLIENT_NAME:
		*exact = *v != '.';
		snprintf(buf, size, "%s%s", *v == '.' ? "x" : "", v);
		q->client_name = buf;
		break;
	}
}

/* same_rule - two rules say the same */

static int
same_rule(const struct tp_rule *a, const struct tp_rule *b)
{
	return (strcmp(a->selector, b->selector) == 0 && a->kind == b->kind
		&& a->level == b->level && a->action == b->action
		&& a->min_version == b->min_version && a->testing == b->testing
		&& a->verify == b->verify && a->min_bits == b->min_bits
		&& !a->cert_subject == !b->cert_subject && !a->cert_issuer == !b->cert_issuer
		&& !a->reply == !b->reply
		&& (!a->cert_subject || strcmp(a->cert_subject, b->cert_subject) == 0)
		&& (!a->cert_issuer || strcmp(a->cert_issuer, b->cert_issuer) == 0)
		&& (!a->reply || strcmp(a->reply, b->reply) == 0));
}

/* same_outbound - two rules' outbound parts say the same */

static int
same_outbound(const struct tp_outbound *a, const struct tp_outbound *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	if (strcmp(a->target, b->target) != 0 || a->subdomains != b->subdomains
	    || a->starttls_off != b->starttls_off || a->verify != b->verify
	    || a->nnames != b->nnames)
		return (0);
	for (size_t i = 0; i < a->nnames; i++)
		if (strcmp(a->names[i], b->names[i]) != 0)
			return (0);
	return (1);
}

/* aim_dest - the dest: lookup of a dest: rule's own domain finds it */

static void
aim_dest(const struct tp_policy *p, const struct tp_outbound *ob)
{
	char	name[TP_LINE_MAX + 8];
	const struct tp_outbound *got;
	const char *why;
	int	rc;

	/* dest:.D is found for x.D, unless a rule for x.D is nearer. */
	snprintf(name, sizeof(name), "%s%s", ob->subdomains ? "x." : "", ob->target);
	rc = tp_policy_dest_lookup(p, name, &got, &why);
	if (rc < 0 && ob->subdomains)
		return;			/* x.D may be one label too many */
	FUZZ_ASSERT(rc == 1, "no dest: rule for %s (%s)", name, ob->rule->selector);
	FUZZ_ASSERT(got == ob || ob->subdomains, "dest: lookup of %s found %s", name,
		    got->rule->selector);
}

/* round_trip - the rules as text (tp_rule_format) parse back to the same rules */

static void
round_trip(const struct tp_policy *p)
{
	static char text[ROUND_TRIP_MAX * RULE_TEXT_MAX];
	size_t	n = p->nentries < ROUND_TRIP_MAX ? p->nentries : ROUND_TRIP_MAX;
	struct tp_buf b = TP_BUF(text, sizeof(text));
	struct tp_errors errs;
	struct tp_policy *again;

	for (size_t i = 0; i < n; i++) {
		char	line[RULE_TEXT_MAX];

		if (p->entries[i].ob != NULL)
			tp_outbound_format(p->entries[i].ob, line, sizeof(line));
		else
			tp_rule_format(&p->entries[i].rule, line, sizeof(line));
		tp_buf_adds(&b, line);
		tp_buf_add(&b, "\n", 1);
	}
	tp_errors_init(&errs);
	again = load(text, b.len, &errs);
	FUZZ_ASSERT(again != NULL && again->nentries == n, "rules do not parse back: %s\n%s",
		    errs.kept ? errs.msgs[0] : "", text);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(same_rule(&p->entries[i].rule, &again->entries[i].rule)
			    && same_outbound(p->entries[i].ob, again->entries[i].ob),
			    "line %zu parses to another rule:\n%s", i + 1, text);
	tp_policy_free(again);
	tp_errors_free(&errs);
}

/*
 * aimed_queries - for each rule, a query that its selector names; the
 * delimiters of each from seed, so that each rule meets every choice
 */

static void
aimed_queries(const struct tp_policy *p, const struct tp_tls_state *tls, size_t seed)
{
	static const char *const delimiters[] = {NULL, "+", "+-", ""};
	static const struct tp_tls_state full = {
		TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384",
		256, TP_VERIFY_OK, "OK", "mx.partner.example", "Partner CA",
	};

	for (size_t i = 0; i < p->nentries && i < AIMED_MAX; i++) {
		const struct tp_rule *r = &p->entries[i].rule;
		struct tp_query q = {"192.0.2.99", NULL, "<>", "<fuzz@rcpt.example>", tls, i & 1,
			delimiters[(i + seed) % 4]};
		char	buf[TP_LINE_MAX + 16];
		int	exact;

		if (r->kind == TP_KIND_DEST)
			aim_dest(p, p->entries[i].ob);
		aim(r, &q, buf, sizeof(buf), &exact);
		decide(p, &q, exact ? r : NULL);
		q.tls = i & 2 ? &full : NULL;
		decide(p, &q, exact ? r : NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *text = malloc(size + 1);
	char   *mark;
	size_t	len = size;
	const char *qf[Q_FIELDS];
	struct tp_errors errs;
	struct tp_policy *p;
	struct tp_tls_state tls;

	FUZZ_ASSERT(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = 0;
	if ((mark = memmem(text, size, QUERY_MARK, strlen(QUERY_MARK))) != NULL)
		len = (size_t)(mark - text) + 1;
	query_fields(mark ? mark + strlen(QUERY_MARK) : NULL, qf);
	tls_state(qf, &tls);
	tp_errors_init(&errs);
	if ((p = load(text, len, &errs)) != NULL) {
		struct tp_query q = {qf[Q_ADDR], qf[Q_NAME], qf[Q_SENDER], qf[Q_RCPT], &tls, false,
			qf[Q_DELIM]};

		decide(p, &q, NULL);
		aimed_queries(p, &tls, size);
		round_trip(p);
		tp_policy_free(p);
	}
	tp_errors_free(&errs);
	free(text);
	return (0);
}
