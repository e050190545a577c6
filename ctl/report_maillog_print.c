/*
 * NAME
 *	report_maillog_print 3
 * SUMMARY
 *	tlspolicyctl report --maillog: the section, as text or JSON
 * SYNOPSIS
 *	#include "ctl/tp_maillog.h"
 *
 *	void	tp_maillog_print_text(const struct tp_maillog *ml,
 *				      const struct tp_report *rep, FILE *fp);
 *	void	tp_maillog_print_json(const struct tp_maillog *ml,
 *				      const struct tp_report *rep, FILE *fp);
 * DESCRIPTION
 *	The text: what was read, the failed sessions by reason, a table
 *	of the clients with failed sessions, and one sentence per such
 *	client that sets its failures beside its messages in the audit
 *	log. Every string from the log goes through tp_escape_term().
 *
 *	The JSON is one object (the value of the report's "maillog"
 *	key): totals, "reasons" {code: count}, and "clients", the
 *	clients with failed sessions, each with "audit" (its messages in
 *	the audit log, or null) and "summary" (the sentence).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/report_impl.h"
#include "ctl/report_maillog_impl.h"

#define SENTENCE_MAX	2048

/* audit_part - "12 messages, 12 over TLS (TLSv1.3 12)"; "" without audit logs */

static void
audit_part(const struct tp_report *rep, const char *addr, char *buf, size_t size)
{
	const struct tp_report_stats *s;
	size_t	o;

	buf[0] = 0;
	if (rep == NULL || rep->nfiles == 0)
		return;
	if ((s = tp_report_find(rep, TP_REPORT_CLIENT, addr)) == NULL) {
		snprintf(buf, size, "no message in the audit log");
		return;
	}
	o = (size_t)snprintf(buf, size, "%lu message%s, ", s->messages, s->messages == 1 ? "" : "s");
	if (s->tls == 0) {
		snprintf(buf + o, size - o, "none over TLS");
		return;
	}
	o += (size_t)snprintf(buf + o, size - o, "%lu over TLS (", s->tls);
	for (size_t i = 0, n = 0; i < rep->nversions && o < size; i++) {
		if (s->versions[i] == 0)
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s%s %lu", n++ ? ", " : "",
				      rep->versions[i], s->versions[i]);
	}
	if (s->versions[TP_REPORT_VERSIONS] > 0 && o < size)
		o += (size_t)snprintf(buf + o, size - o, ", other %lu", s->versions[TP_REPORT_VERSIONS]);
	if (o < size)
		snprintf(buf + o, size - o, ")");
}

/* sentence - one client's failures in words, beside its audit record */

static void
sentence(const struct tp_maillog_client *c, const struct tp_report *rep,
	 char *buf, size_t size)
{
	char	audit[512], detail[TP_MAILLOG_DETAIL_MAX * 4 + 1];
	size_t	o;

	audit_part(rep, c->addr, audit, sizeof(audit));
	o = (size_t)snprintf(buf, size, "%s%s%lu session%s failed:", audit, audit[0] ? "; " : "",
			     c->failed, c->failed == 1 ? "" : "s");
	for (int r = 0, n = 0; r < TP_MAILLOG_NREASONS && o < size; r++) {
		if (c->reasons[r] == 0)
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s %s (%lu)", n++ ? ";" : "",
				      tp_maillog_words(r), c->reasons[r]);
	}
	if (c->detail != NULL && c->reasons[TP_MAILLOG_HANDSHAKE_FAILED] > 0 && o < size)
		snprintf(buf + o, size - o, " [TLS library: %s]",
			 tp_escape_term(c->detail, detail, sizeof(detail)));
}

/* reasons_cell - "tls-version-old:2 implicit-tls-port:1" */

static void
reasons_cell(const unsigned long *counts, char *buf, size_t size)
{
	size_t	o = 0;

	strcpy(buf, "-");
	for (int r = 0; r < TP_MAILLOG_NREASONS && o < size; r++)
		if (counts[r] > 0)
			o += (size_t)snprintf(buf + o, size - o, "%s%s:%lu", o ? " " : "",
					      tp_maillog_code(r), counts[r]);
}

/* print_head - files, lines, sessions, failures by reason */

static void
print_head(const struct tp_maillog *ml, FILE *fp)
{
	char	a[NAME_SHOW_MAX];

	fprintf(fp, "\nSessions the milter never saw (Postfix log)\n  files     ");
	for (size_t i = 0; i < ml->nfiles; i++)
		fprintf(fp, "%s%s", i ? ", " : "", tp_escape_term(ml->files[i], a, sizeof(a)));
	fprintf(fp, "\n  lines     %lu, %lu of them smtpd's", ml->lines, ml->smtpd_lines);
	if (ml->skipped > 0)
		fprintf(fp, "; %lu skipped (first: %s)", ml->skipped,
			ml->first_skipped ? tp_escape_term(ml->first_skipped, a, sizeof(a)) : "?");
	fprintf(fp, "\n  sessions  %lu; %lu failed before the milter saw a message\n",
		ml->sessions, ml->failed);
	for (int r = 0; r < TP_MAILLOG_NREASONS; r++)
		if (ml->reasons[r] > 0)
			fprintf(fp, "    %-20s %6lu  %s\n", tp_maillog_code(r), ml->reasons[r],
				tp_maillog_words(r));
	if (ml->untracked > 0)
		fprintf(fp, "  untracked %lu sessions (over %d open at once)\n", ml->untracked,
			TP_MAILLOG_SESSIONS_MAX);
	if (ml->other_sessions > 0)
		fprintf(fp, "  others    %lu sessions, %lu failed, of clients beyond the first %d\n",
			ml->other_sessions, ml->other_failed, TP_MAILLOG_CLIENTS_MAX);
}

/* tp_maillog_print_text - the section for people */

void
tp_maillog_print_text(const struct tp_maillog *ml, const struct tp_report *rep, FILE *fp)
{
	char	addr[NAME_SHOW_MAX], name[NAME_SHOW_MAX], cell[512], text[SENTENCE_MAX];
	size_t	n, nfail = 0, wa = 6, wn = 9;
	const struct tp_maillog_client **v = tp_maillog_sorted(ml, &n);

	print_head(ml, fp);
	for (size_t i = 0; v != NULL && i < n && v[i]->failed > 0; i++, nfail++) {
		size_t	la = strlen(tp_escape_term(v[i]->addr, addr, sizeof(addr)));
		size_t	ln = v[i]->name ? strlen(tp_escape_term(v[i]->name, name, sizeof(name))) : 1;

		wa = la > wa ? la : wa;
		wn = ln > wn ? ln : wn;
	}
	fprintf(fp, "\nClients with failed sessions: %zu (of %zu)\n", nfail, n);
	if (nfail == 0)
		goto out;
	fprintf(fp, "%-*s  %-*s  %8s  %8s  %8s  %s\n", (int)wa, "CLIENT", (int)wn, "HOST NAME",
		"SESSIONS", "TLS", "FAILED", "REASONS");
	for (size_t i = 0; i < nfail; i++) {
		reasons_cell(v[i]->reasons, cell, sizeof(cell));
		fprintf(fp, "%-*s  %-*s  %8lu  %8lu  %8lu  %s\n",
			(int)wa, tp_escape_term(v[i]->addr, addr, sizeof(addr)),
			(int)wn, v[i]->name ? tp_escape_term(v[i]->name, name, sizeof(name)) : "-",
			v[i]->sessions, v[i]->tls, v[i]->failed, cell);
	}
	fprintf(fp, "\nIn words%s:\n", rep != NULL && rep->nfiles > 0 ? ", beside the audit log" : "");
	for (size_t i = 0; i < nfail; i++) {
		sentence(v[i], rep, text, sizeof(text));
		fprintf(fp, "  %s%s%s%s: %s\n", tp_escape_term(v[i]->addr, addr, sizeof(addr)),
			v[i]->name ? " (" : "",
			v[i]->name ? tp_escape_term(v[i]->name, name, sizeof(name)) : "",
			v[i]->name ? ")" : "", text);
	}
out:
	free(v);
}

/* ---- JSON --------------------------------------------------------------- */

/* json_reasons - {"code": count, ...} of the non-zero counts */

static struct json_object *
json_reasons(const unsigned long *counts)
{
	struct json_object *o = json_object_new_object();

	for (int r = 0; r < TP_MAILLOG_NREASONS; r++)
		if (counts[r] > 0)
			json_object_object_add(o, tp_maillog_code(r),
					       json_object_new_int64((int64_t)counts[r]));
	return (o);
}

/* json_audit - the client's messages in the audit log, or NULL */

static struct json_object *
json_audit(const struct tp_report *rep, const char *addr)
{
	const struct tp_report_stats *s;
	struct json_object *o, *vers;

	if (rep == NULL || (s = tp_report_find(rep, TP_REPORT_CLIENT, addr)) == NULL)
		return (NULL);
	o = json_object_new_object();
	vers = json_object_new_object();
	json_object_object_add(o, "messages", json_object_new_int64((int64_t)s->messages));
	json_object_object_add(o, "tls", json_object_new_int64((int64_t)s->tls));
	for (size_t i = 0; i < rep->nversions; i++)
		if (s->versions[i] > 0)
			json_object_object_add(vers, rep->versions[i],
					       json_object_new_int64((int64_t)s->versions[i]));
	if (s->versions[TP_REPORT_VERSIONS] > 0)
		json_object_object_add(vers, "other", json_object_new_int64(
				       (int64_t)s->versions[TP_REPORT_VERSIONS]));
	json_object_object_add(o, "tls_versions", vers);
	return (o);
}

/* json_client - one client with failed sessions */

static struct json_object *
json_client(const struct tp_maillog_client *c, const struct tp_report *rep)
{
	struct json_object *o = json_object_new_object();
	char	text[SENTENCE_MAX];

	sentence(c, rep, text, sizeof(text));
	json_object_object_add(o, "addr", json_object_new_string(c->addr));
	json_object_object_add(o, "name", c->name ? json_object_new_string(c->name) : NULL);
	json_object_object_add(o, "sessions", json_object_new_int64((int64_t)c->sessions));
	json_object_object_add(o, "tls", json_object_new_int64((int64_t)c->tls));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)c->failed));
	json_object_object_add(o, "reasons", json_reasons(c->reasons));
	json_object_object_add(o, "detail", c->detail ? json_object_new_string(c->detail) : NULL);
	json_object_object_add(o, "audit", json_audit(rep, c->addr));
	json_object_object_add(o, "summary", json_object_new_string(text));
	return (o);
}

/* tp_maillog_print_json - the section as one JSON object */

void
tp_maillog_print_json(const struct tp_maillog *ml, const struct tp_report *rep, FILE *fp)
{
	struct json_object *o = json_object_new_object();
	struct json_object *files = json_object_new_array();
	struct json_object *clients = json_object_new_array();
	size_t	n;
	const struct tp_maillog_client **v = tp_maillog_sorted(ml, &n);

	for (size_t i = 0; i < ml->nfiles; i++)
		json_object_array_add(files, json_object_new_string(ml->files[i]));
	json_object_object_add(o, "files", files);
	json_object_object_add(o, "lines", json_object_new_int64((int64_t)ml->lines));
	json_object_object_add(o, "smtpd_lines", json_object_new_int64((int64_t)ml->smtpd_lines));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)ml->skipped));
	json_object_object_add(o, "first_skipped", ml->first_skipped
			       ? json_object_new_string(ml->first_skipped) : NULL);
	json_object_object_add(o, "sessions", json_object_new_int64((int64_t)ml->sessions));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)ml->failed));
	json_object_object_add(o, "reasons", json_reasons(ml->reasons));
	json_object_object_add(o, "untracked", json_object_new_int64((int64_t)ml->untracked));
	json_object_object_add(o, "clients_total", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "other_sessions", json_object_new_int64((int64_t)ml->other_sessions));
	json_object_object_add(o, "other_failed", json_object_new_int64((int64_t)ml->other_failed));
	for (size_t i = 0; v != NULL && i < n && v[i]->failed > 0; i++)
		json_object_array_add(clients, json_client(v[i], rep));
	json_object_object_add(o, "clients", clients);
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
					     | JSON_C_TO_STRING_NOSLASHESCAPE), fp);
	json_object_put(o);
	free(v);
}
