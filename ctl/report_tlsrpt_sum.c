/*
 * NAME
 *	report_tlsrpt_sum 3
 * SUMMARY
 *	tlspolicyctl report --tlsrpt: RFC 8460's schema, and the sums
 * SYNOPSIS
 *	#include "ctl/report_tlsrpt_impl.h"
 *
 *	int	tp_tlsrpt_add(struct tp_tlsrpt *tr, struct json_object *doc,
 *			      char *why, size_t whylen);
 * DESCRIPTION
 *	One walk over a parsed report both checks it and sums it: the
 *	first walk only checks, so that a report refused halfway adds
 *	nothing; the second, over a report known good, sums. Each check
 *	names the member it refuses, with its path:
 *	"policies[0].failure-details[2].failed-session-count: not a whole
 *	number >= 0".
 * DIAGNOSTICS
 *	tp_tlsrpt_add(): 1 counted, 0 a duplicate, -1 refused (why), -2
 *	out of memory.
 */

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/report_impl.h"
#include "ctl/report_tlsrpt_impl.h"

#define WHERE_MAX	96		/* bytes of a member's path */
#define MX_MAX		1024		/* bytes of the joined mx-host patterns */

static const char *const result_names[TP_TLSRPT_NRESULTS] = {
	"starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
	"certificate-not-trusted", "validation-failure", "tlsa-invalid",
	"dnssec-invalid", "dane-required", "sts-policy-fetch-error",
	"sts-policy-invalid", "sts-webpki-invalid",
};

/* tp_tlsrpt_result_name - RFC 8460's name of a result type */

const char *
tp_tlsrpt_result_name(enum tp_tlsrpt_result r)
{
	return ((unsigned)r < TP_TLSRPT_NRESULTS ? result_names[r] : "?");
}

/* One walk: checking only, or summing a report known good. */
struct walk {
	struct tp_tlsrpt *tr;
	bool	sum;
	char   *why;
	size_t	whylen;
	const char *org;
	const char *contact;
	long long start_ms, end_ms;
	const char *start, *end;
	struct trentry *entry;		/* summing: the policy's entry, or NULL */
	bool	nomem;
};

/* ---- checks ------------------------------------------------------------- */

/* member - key of o: 1 of type t, 0 absent or null and optional, -1 refused */

static int
member(struct walk *w, struct json_object *o, const char *where, const char *key,
       json_type t, bool required, struct json_object **out)
{
	static const char *const names[] = {
		[json_type_null] = "null", [json_type_boolean] = "a boolean",
		[json_type_double] = "a number", [json_type_int] = "a whole number",
		[json_type_object] = "an object", [json_type_array] = "an array",
		[json_type_string] = "a string",
	};

	*out = NULL;
	if (!json_object_object_get_ex(o, key, out) || *out == NULL) {
		if (!required)
			return (0);
		snprintf(w->why, w->whylen, "%s%s: missing", where, key);
		return (-1);
	}
	if (!json_object_is_type(*out, t)) {
		snprintf(w->why, w->whylen, "%s%s: not %s", where, key, names[t]);
		return (-1);
	}
	if (t == json_type_string && json_object_get_string_len(*out) > TP_TLSRPT_STRING_MAX) {
		snprintf(w->why, w->whylen, "%s%s: longer than %d bytes", where, key,
			 TP_TLSRPT_STRING_MAX);
		return (-1);
	}
	return (1);
}

/* string - a string member: its text, NULL when absent; -1 refused */

static int
string(struct walk *w, struct json_object *o, const char *where, const char *key,
       bool required, const char **out)
{
	struct json_object *v;
	int	rc = member(w, o, where, key, json_type_string, required, &v);

	*out = rc > 0 ? json_object_get_string(v) : NULL;
	return (rc < 0 ? -1 : 0);
}

/* count - a whole number >= 0 */

static int
count(struct walk *w, struct json_object *o, const char *where, const char *key,
      unsigned long *out)
{
	struct json_object *v;
	int64_t	n;

	if (member(w, o, where, key, json_type_int, true, &v) < 0)
		return (-1);
	if ((n = json_object_get_int64(v)) < 0) {
		snprintf(w->why, w->whylen, "%s%s: not a whole number >= 0", where, key);
		return (-1);
	}
	*out = (uint64_t)n > ULONG_MAX ? ULONG_MAX : (unsigned long)n;
	return (0);
}

/* strings - an array of strings, joined with ", " into buf (cut to size) */

static int
strings(struct walk *w, struct json_object *a, const char *where, const char *key,
	char *buf, size_t size)
{
	size_t	o = 0;

	buf[0] = 0;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s = json_object_array_get_idx(a, i);

		if (!json_object_is_type(s, json_type_string)
		    || json_object_get_string_len(s) > TP_TLSRPT_STRING_MAX) {
			snprintf(w->why, w->whylen, "%s%s[%zu]: not a string (of at most %d bytes)",
				 where, key, i, TP_TLSRPT_STRING_MAX);
			return (-1);
		}
		if (o < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "",
					      json_object_get_string(s));
	}
	return (0);
}

static void path(char *, size_t, const char *,...)
	__attribute__((format(printf, 3, 4)));

/* path - a member's path, cut to size (paths are short: their parts are ours) */

static void
path(char *buf, size_t size, const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* add - saturating addition */

static void
add(unsigned long *to, unsigned long n)
{
	*to = *to > ULONG_MAX - n ? ULONG_MAX : *to + n;
}

/* ---- sums --------------------------------------------------------------- */

/* same - two optional strings are equal */

static bool
same(const char *a, const char *b)
{
	return (a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0);
}

/* entry_new - a new organisation/policy entry, its strings in one block */

static struct trentry *
entry_new(struct walk *w, const char *type, const char *domain, const char *mx)
{
	const char *src[] = {w->org, w->contact, type, domain, mx};
	const char **dst[5];
	struct trentry *e = calloc(1, sizeof(*e));
	size_t	size = 0;
	char   *p;

	if (e == NULL)
		return (NULL);
	dst[0] = &e->pub.org, dst[1] = &e->pub.contact, dst[2] = &e->pub.type;
	dst[3] = &e->pub.domain, dst[4] = &e->pub.mx_host;
	for (int i = 0; i < 5; i++)
		size += src[i] ? strlen(src[i]) + 1 : 0;
	if ((p = e->strings = malloc(size + 1)) == NULL) {
		free(e);
		return (NULL);
	}
	for (int i = 0; i < 5; i++) {
		*dst[i] = NULL;
		if (src[i] == NULL)
			continue;
		strcpy(p, src[i]);
		*dst[i] = p;
		p += strlen(p) + 1;
	}
	e->pub.rows = (const struct tp_tlsrpt_row *const *)e->rows;
	return (e);
}

/* entry_get - the entry of an organisation's policy; NULL: not kept */

static struct trentry *
entry_get(struct walk *w, const char *type, const char *domain, const char *mx)
{
	struct tp_tlsrpt *tr = w->tr;
	struct trentry *e, **v;

	for (size_t i = 0; i < tr->nentries; i++) {
		e = tr->entries[i];
		if (strcmp(e->pub.org, w->org) == 0 && strcmp(e->pub.type, type) == 0
		    && strcmp(e->pub.domain, domain) == 0 && same(e->pub.mx_host, mx))
			return (e);
	}
	if (tr->nentries >= TP_TLSRPT_ENTRIES_MAX) {
		tr->entries_dropped++;
		return (NULL);
	}
	if (tr->nentries == tr->entries_size) {
		size_t	size = tr->entries_size ? 2 * tr->entries_size : 16;

		if ((v = realloc(tr->entries, size * sizeof(*v))) == NULL)
			goto nomem;
		tr->entries = v;
		tr->entries_size = size;
	}
	if ((e = entry_new(w, type, domain, mx)) == NULL)
		goto nomem;
	tr->entries[tr->nentries++] = e;
	return (e);
nomem:
	w->nomem = true;
	return (NULL);
}

/* entry_period - widen an entry's period to the report's */

static void
entry_period(struct walk *w, struct trentry *e)
{
	if (e->pub.reports++ == 0 || w->start_ms < e->first_ms) {
		e->first_ms = w->start_ms;
		snprintf(e->first, sizeof(e->first), "%s", w->start);
	}
	if (e->pub.reports == 1 || w->end_ms > e->last_ms) {
		e->last_ms = w->end_ms;
		snprintf(e->last, sizeof(e->last), "%s", w->end);
	}
	e->pub.first = e->first;
	e->pub.last = e->last;
}

/* row_new - a failure row, its strings in the same block */

static struct tp_tlsrpt_row *
row_new(const struct tp_tlsrpt_row *r)
{
	const char *src[] = {r->mx, r->ip, r->code, r->info};
	size_t	size = sizeof(*r);
	struct tp_tlsrpt_row *x;
	char   *p;

	for (int i = 0; i < 4; i++)
		size += src[i] ? strlen(src[i]) + 1 : 0;
	if ((x = malloc(size)) == NULL)
		return (NULL);
	*x = *r;
	p = (char *)(x + 1);
	x->mx = src[0] ? strcpy(p, src[0]) : NULL;
	p += src[0] ? strlen(src[0]) + 1 : 0;
	x->ip = src[1] ? strcpy(p, src[1]) : NULL;
	p += src[1] ? strlen(src[1]) + 1 : 0;
	x->code = src[2] ? strcpy(p, src[2]) : NULL;
	p += src[2] ? strlen(src[2]) + 1 : 0;
	x->info = src[3] ? strcpy(p, src[3]) : NULL;
	return (x);
}

/* sum_row - add failed sessions to their row, most sessions first */

static void
sum_row(struct walk *w, struct trentry *e, const struct tp_tlsrpt_row *r)
{
	size_t	i;

	add(&e->pub.results[r->result], r->sessions);
	for (i = 0; i < e->pub.nrows; i++)
		if (e->rows[i]->result == r->result && same(e->rows[i]->mx, r->mx)
		    && same(e->rows[i]->ip, r->ip) && same(e->rows[i]->code, r->code)
		    && same(e->rows[i]->info, r->info))
			break;
	if (i == e->pub.nrows) {
		if (i == TP_TLSRPT_ROWS_MAX) {
			add(&e->pub.rows_dropped, r->sessions);
			return;
		}
		if ((e->rows[i] = row_new(r)) == NULL) {
			w->nomem = true;
			return;
		}
		e->rows[i]->sessions = 0;
		e->pub.nrows++;
	}
	add(&e->rows[i]->sessions, r->sessions);
	for (; i > 0 && e->rows[i - 1]->sessions < e->rows[i]->sessions; i--) {
		struct tp_tlsrpt_row *t = e->rows[i - 1];

		e->rows[i - 1] = e->rows[i];
		e->rows[i] = t;
	}
}

/* ---- the walk ----------------------------------------------------------- */

/* walk_detail - one failure-details member */

static int
walk_detail(struct walk *w, struct json_object *d, const char *where)
{
	struct tp_tlsrpt_row r;
	const char *type, *ignored;
	int	i;

	memset(&r, 0, sizeof(r));
	if (!json_object_is_type(d, json_type_object)) {
		snprintf(w->why, w->whylen, "%s: not an object", where);
		return (-1);
	}
	if (string(w, d, where, "result-type", true, &type) < 0
	    || string(w, d, where, "sending-mta-ip", false, &ignored) < 0
	    || string(w, d, where, "receiving-mx-hostname", false, &r.mx) < 0
	    || string(w, d, where, "receiving-mx-helo", false, &ignored) < 0
	    || string(w, d, where, "receiving-ip", false, &r.ip) < 0
	    || string(w, d, where, "additional-information", false, &r.info) < 0
	    || string(w, d, where, "failure-reason-code", false, &r.code) < 0
	    || count(w, d, where, "failed-session-count", &r.sessions) < 0)
		return (-1);
	for (i = 0; i < TP_TLSRPT_NRESULTS && strcmp(result_names[i], type) != 0; i++)
		;
	if (i == TP_TLSRPT_NRESULTS) {
		snprintf(w->why, w->whylen, "%sresult-type: not one of RFC 8460's result types", where);
		return (-1);
	}
	r.result = (enum tp_tlsrpt_result)i;
	if (w->sum && w->entry != NULL)
		sum_row(w, w->entry, &r);
	return (0);
}

/* walk_policy_desc - the "policy" member: type, domain, MX patterns */

static int
walk_policy_desc(struct walk *w, struct json_object *p, const char *where,
		 const char **type, const char **domain, char *mx)
{
	struct json_object *pol, *v;
	char	at[WHERE_MAX];

	path(at, sizeof(at), "%spolicy.", where);
	if (member(w, p, where, "policy", json_type_object, true, &pol) < 0
	    || string(w, pol, at, "policy-type", true, type) < 0
	    || string(w, pol, at, "policy-domain", true, domain) < 0)
		return (-1);
	if (strcmp(*type, "tlsa") != 0 && strcmp(*type, "sts") != 0
	    && strcmp(*type, "no-policy-found") != 0) {
		snprintf(w->why, w->whylen, "%spolicy-type: not tlsa, sts or no-policy-found", at);
		return (-1);
	}
	if (member(w, pol, at, "policy-string", json_type_array, false, &v) < 0
	    || (v != NULL && strings(w, v, at, "policy-string", mx, 1) < 0))
		return (-1);
	/* mx-host: an array in the schema, one string in the RFC's example. */
	mx[0] = 0;
	if (json_object_object_get_ex(pol, "mx-host", &v)
	    && json_object_is_type(v, json_type_string)) {
		const char *one;

		if (string(w, pol, at, "mx-host", true, &one) < 0)
			return (-1);
		snprintf(mx, MX_MAX, "%s", one);
		return (0);
	}
	if (member(w, pol, at, "mx-host", json_type_array, false, &v) < 0
	    || (v != NULL && strings(w, v, at, "mx-host", mx, MX_MAX) < 0))
		return (-1);
	return (0);
}

/* walk_policy - one member of "policies" */

static int
walk_policy(struct walk *w, struct json_object *p, size_t idx)
{
	struct json_object *summary, *details;
	const char *type, *domain;
	char	where[WHERE_MAX], at[WHERE_MAX], mx[MX_MAX + 1];
	unsigned long ok, fail;

	path(where, sizeof(where), "policies[%zu].", idx);
	if (!json_object_is_type(p, json_type_object)) {
		snprintf(w->why, w->whylen, "policies[%zu]: not an object", idx);
		return (-1);
	}
	path(at, sizeof(at), "%ssummary.", where);
	if (walk_policy_desc(w, p, where, &type, &domain, mx) < 0
	    || member(w, p, where, "summary", json_type_object, true, &summary) < 0
	    || count(w, summary, at, "total-successful-session-count", &ok) < 0
	    || count(w, summary, at, "total-failure-session-count", &fail) < 0
	    || member(w, p, where, "failure-details", json_type_array, false, &details) < 0)
		return (-1);
	w->entry = NULL;
	if (w->sum && (w->entry = entry_get(w, type, domain, mx[0] ? mx : NULL)) != NULL) {
		entry_period(w, w->entry);
		add(&w->entry->pub.successful, ok);
		add(&w->entry->pub.failed, fail);
	}
	if (w->sum) {
		add(&w->tr->successful, ok);
		add(&w->tr->failed, fail);
	}
	for (size_t i = 0; details != NULL && i < json_object_array_length(details); i++) {
		path(at, sizeof(at), "%sfailure-details[%zu].", where, i);
		if (walk_detail(w, json_object_array_get_idx(details, i), at) < 0)
			return (-1);
	}
	return (0);
}

/* walk_report - the report's own members, then each policy */

static int
walk_report(struct walk *w, struct json_object *doc, const char **id)
{
	struct json_object *range, *policies;

	if (!json_object_is_type(doc, json_type_object)) {
		snprintf(w->why, w->whylen, "not a JSON object");
		return (-1);
	}
	if (string(w, doc, "", "organization-name", true, &w->org) < 0
	    || string(w, doc, "", "contact-info", true, &w->contact) < 0
	    || string(w, doc, "", "report-id", true, id) < 0
	    || member(w, doc, "", "date-range", json_type_object, true, &range) < 0
	    || string(w, range, "date-range.", "start-datetime", true, &w->start) < 0
	    || string(w, range, "date-range.", "end-datetime", true, &w->end) < 0
	    || member(w, doc, "", "policies", json_type_array, true, &policies) < 0)
		return (-1);
	if (tp_report_rfc3339(w->start, &w->start_ms) < 0
	    || tp_report_rfc3339(w->end, &w->end_ms) < 0) {
		snprintf(w->why, w->whylen, "date-range: not an RFC 3339 date-time");
		return (-1);
	}
	if (w->start_ms > w->end_ms) {
		snprintf(w->why, w->whylen, "date-range: start-datetime after end-datetime");
		return (-1);
	}
	if (json_object_array_length(policies) == 0) {
		snprintf(w->why, w->whylen, "policies: empty");
		return (-1);
	}
	for (size_t i = 0; i < json_object_array_length(policies); i++)
		if (walk_policy(w, json_object_array_get_idx(policies, i), i) < 0)
			return (-1);
	return (0);
}

/* seen - the report was counted before; else remember it (-1: no memory) */

static int
seen(struct tp_tlsrpt *tr, const char *org, const char *id)
{
	size_t	len = strlen(org) + strlen(id) + 2;
	char   *key = malloc(len), **v;

	if (key == NULL)
		return (-1);
	snprintf(key, len, "%s\n%s", org, id);
	for (size_t i = 0; i < tr->nseen; i++)
		if (strcmp(tr->seen[i], key) == 0) {
			free(key);
			return (1);
		}
	if (tr->nseen == tr->seen_size) {
		size_t	size = tr->seen_size ? 2 * tr->seen_size : 16;

		if ((v = realloc(tr->seen, size * sizeof(*v))) == NULL) {
			free(key);
			return (-1);
		}
		tr->seen = v;
		tr->seen_size = size;
	}
	tr->seen[tr->nseen++] = key;
	return (0);
}

/* tp_tlsrpt_add - check one report, then sum it */

int
tp_tlsrpt_add(struct tp_tlsrpt *tr, struct json_object *doc, char *why, size_t whylen)
{
	struct walk w;
	const char *id;
	int	dup;

	memset(&w, 0, sizeof(w));
	w.tr = tr;
	w.why = why;
	w.whylen = whylen;
	if (walk_report(&w, doc, &id) < 0)
		return (-1);
	if ((dup = seen(tr, w.org, id)) != 0) {
		tr->duplicates += dup > 0;
		return (dup > 0 ? 0 : -2);
	}
	w.sum = true;
	if (walk_report(&w, doc, &id) < 0 || w.nomem)
		return (-2);
	tr->reports++;
	return (1);
}
