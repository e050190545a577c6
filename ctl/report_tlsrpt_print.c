/*
 * NAME
 *	report_tlsrpt_print 3
 * SUMMARY
 *	tlspolicyctl report --tlsrpt: the section, as text or JSON
 * SYNOPSIS
 *	#include "ctl/tp_tlsrpt.h"
 *
 *	void	tp_tlsrpt_print_text(const struct tp_tlsrpt *tr, FILE *fp);
 *	void	tp_tlsrpt_print_json(const struct tp_tlsrpt *tr, FILE *fp);
 * DESCRIPTION
 *	The text: what was read and refused, then per sending
 *	organisation and policy: the period, sessions, failed sessions by
 *	result type, and the failure rows (failing MX, its address,
 *	result, sessions, the sender's failure code and additional
 *	information). Every string from a report goes through
 *	tp_escape_term(): a report is written by a stranger.
 *
 *	The JSON is one object (the value of the report's "tlsrpt" key):
 *	totals, "refused" [{file, why}], and "policies", one object per
 *	organisation and policy, with "rows".
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/report_tlsrpt_impl.h"
#include "util/tp_escape.h"

#define SHOW_MAX	300		/* bytes of a string shown */

/* print_rows - one policy's failure rows */

static void
print_rows(const struct tp_tlsrpt_policy *p, FILE *fp)
{
	char	mx[SHOW_MAX], ip[SHOW_MAX], code[SHOW_MAX], info[SHOW_MAX];

	if (p->nrows == 0)
		return;
	fprintf(fp, "    %-32s  %-15s  %-25s  %8s  %s\n", "FAILING MX", "MX ADDRESS", "RESULT",
		"SESSIONS", "SENDER'S EXPLANATION");
	for (size_t i = 0; i < p->nrows; i++) {
		const struct tp_tlsrpt_row *r = p->rows[i];

		tp_escape_term(r->mx ? r->mx : "-", mx, sizeof(mx));
		tp_escape_term(r->ip ? r->ip : "-", ip, sizeof(ip));
		tp_escape_term(r->code ? r->code : "", code, sizeof(code));
		tp_escape_term(r->info ? r->info : "", info, sizeof(info));
		fprintf(fp, "    %-32s  %-15s  %-25s  %8lu  %s%s%s\n", mx, ip,
			tp_tlsrpt_result_name(r->result), r->sessions, code,
			code[0] && info[0] ? " " : "", code[0] || info[0] ? info : "-");
	}
	if (p->rows_dropped > 0)
		fprintf(fp, "    (and %lu failed sessions in rows beyond the first %d)\n",
			p->rows_dropped, TP_TLSRPT_ROWS_MAX);
}

/* print_policy - one organisation's report on one policy */

static void
print_policy(const struct tp_tlsrpt_policy *p, FILE *fp)
{
	char	a[SHOW_MAX], b[SHOW_MAX];
	unsigned long all = p->successful + p->failed;

	fprintf(fp, "  policy %s %s", tp_escape_term(p->type, a, sizeof(a)),
		tp_escape_term(p->domain, b, sizeof(b)));
	if (p->mx_host != NULL)
		fprintf(fp, " (mx %s)", tp_escape_term(p->mx_host, a, sizeof(a)));
	fprintf(fp, ": %lu report%s, %s to %s\n", p->reports, p->reports == 1 ? "" : "s",
		tp_escape_term(p->first, a, sizeof(a)), tp_escape_term(p->last, b, sizeof(b)));
	fprintf(fp, "    sessions %lu successful, %lu failed (%.1f%%)\n", p->successful,
		p->failed, all ? 100.0 * (double)p->failed / (double)all : 0.0);
	for (int r = 0; r < TP_TLSRPT_NRESULTS; r++)
		if (p->results[r] > 0)
			fprintf(fp, "      %-28s %lu\n", tp_tlsrpt_result_name(r), p->results[r]);
	print_rows(p, fp);
}

/* tp_tlsrpt_print_text - the section for people */

void
tp_tlsrpt_print_text(const struct tp_tlsrpt *tr, FILE *fp)
{
	char	a[SHOW_MAX], b[SHOW_MAX];
	size_t	n;
	const struct tp_tlsrpt_policy **v = tp_tlsrpt_sorted(tr, &n);

	fprintf(fp, "\nTLS reports from senders (TLSRPT, RFC 8460)\n");
	fprintf(fp, "  files     %lu read: %lu report%s counted, %lu duplicate%s, %lu refused\n",
		tr->files, tr->reports, tr->reports == 1 ? "" : "s", tr->duplicates,
		tr->duplicates == 1 ? "" : "s", tr->refused);
	for (size_t i = 0; i < tr->nrefusals; i++)
		fprintf(fp, "    refused %s: %s\n", tp_escape_term(tr->refusals[i].file, a, sizeof(a)),
			tp_escape_term(tr->refusals[i].why, b, sizeof(b)));
	fprintf(fp, "  sessions  %lu successful, %lu failed\n", tr->successful, tr->failed);
	if (tr->entries_dropped > 0)
		fprintf(fp, "  (%lu policies beyond the first %d not shown)\n", tr->entries_dropped,
			TP_TLSRPT_ENTRIES_MAX);
	for (size_t i = 0; v != NULL && i < n; i++) {
		if (i == 0 || strcmp(v[i]->org, v[i - 1]->org) != 0)
			fprintf(fp, "\nOrganisation %s (contact %s)\n",
				tp_escape_term(v[i]->org, a, sizeof(a)),
				tp_escape_term(v[i]->contact, b, sizeof(b)));
		print_policy(v[i], fp);
	}
	free(v);
}

/* ---- JSON --------------------------------------------------------------- */

/* jstr - a string value, or null */

static struct json_object *
jstr(const char *s)
{
	return (s != NULL ? json_object_new_string(s) : NULL);
}

/* jnum - a count */

static struct json_object *
jnum(unsigned long n)
{
	return (json_object_new_int64((int64_t)n));
}

/* json_policy - one organisation's report on one policy */

static struct json_object *
json_policy(const struct tp_tlsrpt_policy *p)
{
	struct json_object *o = json_object_new_object();
	struct json_object *res = json_object_new_object();
	struct json_object *rows = json_object_new_array();

	json_object_object_add(o, "organization", jstr(p->org));
	json_object_object_add(o, "contact", jstr(p->contact));
	json_object_object_add(o, "policy_type", jstr(p->type));
	json_object_object_add(o, "policy_domain", jstr(p->domain));
	json_object_object_add(o, "mx_host", jstr(p->mx_host));
	json_object_object_add(o, "reports", jnum(p->reports));
	json_object_object_add(o, "first", jstr(p->first));
	json_object_object_add(o, "last", jstr(p->last));
	json_object_object_add(o, "successful", jnum(p->successful));
	json_object_object_add(o, "failed", jnum(p->failed));
	for (int r = 0; r < TP_TLSRPT_NRESULTS; r++)
		if (p->results[r] > 0)
			json_object_object_add(res, tp_tlsrpt_result_name(r), jnum(p->results[r]));
	json_object_object_add(o, "results", res);
	for (size_t i = 0; i < p->nrows; i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "result", jstr(tp_tlsrpt_result_name(p->rows[i]->result)));
		json_object_object_add(r, "mx", jstr(p->rows[i]->mx));
		json_object_object_add(r, "ip", jstr(p->rows[i]->ip));
		json_object_object_add(r, "sessions", jnum(p->rows[i]->sessions));
		json_object_object_add(r, "failure_reason_code", jstr(p->rows[i]->code));
		json_object_object_add(r, "additional_information", jstr(p->rows[i]->info));
		json_object_array_add(rows, r);
	}
	json_object_object_add(o, "rows", rows);
	json_object_object_add(o, "rows_dropped_sessions", jnum(p->rows_dropped));
	return (o);
}

/* tp_tlsrpt_print_json - the section as one JSON object */

void
tp_tlsrpt_print_json(const struct tp_tlsrpt *tr, FILE *fp)
{
	struct json_object *o = json_object_new_object();
	struct json_object *refused = json_object_new_array();
	struct json_object *policies = json_object_new_array();
	size_t	n;
	const struct tp_tlsrpt_policy **v = tp_tlsrpt_sorted(tr, &n);

	json_object_object_add(o, "files", jnum(tr->files));
	json_object_object_add(o, "reports", jnum(tr->reports));
	json_object_object_add(o, "duplicates", jnum(tr->duplicates));
	json_object_object_add(o, "refused_count", jnum(tr->refused));
	for (size_t i = 0; i < tr->nrefusals; i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "file", jstr(tr->refusals[i].file));
		json_object_object_add(r, "why", jstr(tr->refusals[i].why));
		json_object_array_add(refused, r);
	}
	json_object_object_add(o, "refused", refused);
	json_object_object_add(o, "successful", jnum(tr->successful));
	json_object_object_add(o, "failed", jnum(tr->failed));
	json_object_object_add(o, "policies_dropped", jnum(tr->entries_dropped));
	for (size_t i = 0; v != NULL && i < n; i++)
		json_object_array_add(policies, json_policy(v[i]));
	json_object_object_add(o, "policies", policies);
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
					     | JSON_C_TO_STRING_NOSLASHESCAPE), fp);
	json_object_put(o);
	free(v);
}
