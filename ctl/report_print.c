/*
 * NAME
 *	report_print 3
 * SUMMARY
 *	tlspolicyctl report: the report as text tables or JSON
 * SYNOPSIS
 *	#include "ctl/tp_report.h"
 *
 *	void	tp_report_print_text(const struct tp_report *rep, FILE *fp);
 *	void	tp_report_print_json(const struct tp_report *rep, FILE *fp);
 * DESCRIPTION
 *	Both outputs list the names of each group most messages first,
 *	then by name, and count TLS versions, cipher strengths and
 *	verification results by the words the log used.
 *
 *	The text is a header (files, period, records, filters), one
 *	table per group with columns as wide as their widest cell, and
 *	the examples of names that are not ready to enforce. Every
 *	string from the log goes through tp_escape_term() (control
 *	characters, C1 controls, invalid UTF-8, backslash escaped; long
 *	names cut) so that a hostile record cannot drive the terminal.
 *	Column widths count characters, not bytes.
 *
 *	The JSON is one object: the header's facts, then one array per
 *	group, one object per name on a line of its own; json-c writes
 *	the values.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/report_impl.h"
#include "ctl/tp_maillog.h"
#include "ctl/tp_tlsrpt.h"


static const char *const group_titles[TP_REPORT_NGROUPS] = {
	"sender domain", "recipient domain", "client",
};
static const char *const group_json[TP_REPORT_NGROUPS] = {
	"sender_domains", "rcpt_domains", "clients",
};

/* ---- text helpers ------------------------------------------------------- */

/* width - columns that text takes: one per character */

static size_t
width(const char *text)
{
	size_t	n = 0;

	for (; *text != 0; text++)
		n += ((unsigned char)*text & 0xc0) != 0x80;
	return (n);
}

/* ---- text output -------------------------------------------------------- */

enum {
	COL_NAME, COL_HOST, COL_MESSAGES, COL_TLS, COL_STARTTLS, COL_IMPLICIT,
	COL_VERSIONS, COL_MIN_BITS, COL_BITS, COL_VERIFY, COL_REJECT, COL_READY,
	NCOLS,
};

static const struct {
	const char *title;
	bool	right;			/* numbers: right-aligned */
} columns[NCOLS] = {
	{"NAME", false}, {"HOST NAME", false}, {"MESSAGES", true}, {"TLS", true},
	{"STARTTLS", true}, {"IMPLICIT", true}, {"VERSIONS", false},
	{"MIN BITS", true}, {"BITS", false}, {"VERIFY", false},
	{"WOULD REJECT", true}, {"READY", false},
};

static const char *const name_titles[TP_REPORT_NGROUPS] = {
	"SENDER DOMAIN", "RECIPIENT DOMAIN", "CLIENT",
};

/* One counted value, for a "name:count ..." cell. */
struct tally {
	char	name[VERSION_NAME_MAX * 6 + 16];	/* &quot; is 6 bytes */
	unsigned long n;
};

/* by_count - biggest count first, then by name */

static int
by_count(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	if (x->n != y->n)
		return (x->n > y->n ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* name_of - a key as people read it */

static const char *
name_of(const struct entry *e, int g, char *buf, size_t size)
{
	if (e->key[0] == 0)
		return (tp_report_unnamed(g));
	return (tp_escape_term(e->key, buf, size));
}

/* tally_cell - "TLSv1.3:1000 TLSv1.2:194", biggest first; "-" if none */

static void
tally_cell(struct tally *t, size_t n, char *cell, size_t size)
{
	size_t	o = 0;

	qsort(t, n, sizeof(*t), by_count);
	strcpy(cell, "-");
	for (size_t i = 0; i < n && t[i].n > 0 && o < size; i++)
		o += (size_t)snprintf(cell + o, size - o, "%s%s:%lu", o ? " " : "",
				      t[i].name, t[i].n);
}

/* tp_report_versions_cell - TLS versions with counts, escaped for kind */

void
tp_report_versions_cell(const struct tp_report *rep, const struct entry *e,
			enum tp_escape_kind kind, char *cell)
{
	bool	cut;

	struct tally t[TP_REPORT_VERSIONS + 1];
	size_t	n = 0;

	for (size_t i = 0; i <= rep->nversions; i++) {
		size_t	k = i < rep->nversions ? i : TP_REPORT_VERSIONS;

		tp_escape(kind, k < TP_REPORT_VERSIONS ? rep->versions[k] : "other",
			  t[n].name, sizeof(t[n].name), &cut);
		t[n++].n = e->s.versions[k];
	}
	tally_cell(t, n, cell, CELL_MAX);
}

/* tp_report_bits_cell - cipher strengths with counts */

void
tp_report_bits_cell(const struct tp_report *rep, const struct entry *e, char *cell)
{
	struct tally t[TP_REPORT_BITS + 1];
	size_t	n = 0;

	for (size_t i = 0; i <= rep->nbits; i++) {
		size_t	k = i < rep->nbits ? i : TP_REPORT_BITS;

		if (k == TP_REPORT_BITS)
			strcpy(t[n].name, "other");
		else if (rep->bits[k] < 0)
			strcpy(t[n].name, "unknown");
		else
			snprintf(t[n].name, sizeof(t[n].name), "%d", rep->bits[k]);
		t[n++].n = e->s.bits[k];
	}
	tally_cell(t, n, cell, CELL_MAX);
}

/* tp_report_verify_cell - certificate verification results with counts */

void
tp_report_verify_cell(const struct entry *e, char *cell)
{
	struct tally t[TP_REPORT_NVERIFY];

	for (size_t i = 0; i < TP_REPORT_NVERIFY; i++) {
		strcpy(t[i].name, tp_report_verify_names[i]);
		t[i].n = e->s.verify[i];
	}
	tally_cell(t, TP_REPORT_NVERIFY, cell, CELL_MAX);
}

/* row_cells - one table row as text */

static void
row_cells(const struct tp_report *rep, const struct entry *e, int g,
	  char cells[NCOLS][CELL_MAX])
{
	const struct tp_report_stats *s = &e->s;

	name_of(e, g, cells[COL_NAME], NAME_SHOW_MAX);
	if (s->name != NULL)
		tp_escape_term(s->name, cells[COL_HOST], NAME_SHOW_MAX);
	else
		strcpy(cells[COL_HOST], "-");
	snprintf(cells[COL_MESSAGES], CELL_MAX, "%lu", s->messages);
	snprintf(cells[COL_TLS], CELL_MAX, "%.1f%%",
		 s->messages ? 100.0 * (double)s->tls / (double)s->messages : 0.0);
	snprintf(cells[COL_STARTTLS], CELL_MAX, "%lu", s->how[TP_REPORT_HOW_STARTTLS]);
	snprintf(cells[COL_IMPLICIT], CELL_MAX, "%lu", s->how[TP_REPORT_HOW_IMPLICIT]);
	tp_report_versions_cell(rep, e, TP_ESCAPE_TERM, cells[COL_VERSIONS]);
	snprintf(cells[COL_MIN_BITS], CELL_MAX, s->min_bits < 0 ? "-" : "%d", s->min_bits);
	tp_report_bits_cell(rep, e, cells[COL_BITS]);
	tp_report_verify_cell(e, cells[COL_VERIFY]);
	snprintf(cells[COL_REJECT], CELL_MAX, s->soft ? "%lu" : "-", s->would_reject);
	strcpy(cells[COL_READY], s->soft == 0 ? "-" : s->would_reject ? "no" : "yes");
}

/* print_row - cells padded to their column widths */

static void
print_row(FILE *fp, char cells[NCOLS][CELL_MAX], const size_t *widths, int g)
{
	for (int c = 0; c < NCOLS; c++) {
		size_t	pad;

		if (c == COL_HOST && g != TP_REPORT_CLIENT)
			continue;
		pad = widths[c] - width(cells[c]);
		if (columns[c].right)
			fprintf(fp, "%*s%s", (int)pad, "", cells[c]);
		else
			fprintf(fp, "%s%*s", cells[c], c == NCOLS - 1 ? 0 : (int)pad, "");
		fputs(c == NCOLS - 1 ? "\n" : "  ", fp);
	}
}

/* print_table - one group: a header, then a row per name */

static void
print_table(const struct tp_report *rep, FILE *fp, int g)
{
	char	cells[NCOLS][CELL_MAX];
	size_t	widths[NCOLS], n;
	const struct entry **v = tp_report_sorted(rep, g, &n);

	fprintf(fp, "\n%c%ss: %zu\n", group_titles[g][0] - 'a' + 'A', group_titles[g] + 1, n);
	for (int c = 0; c < NCOLS; c++) {
		strcpy(cells[c], c == COL_NAME ? name_titles[g] : columns[c].title);
		widths[c] = width(cells[c]);
	}
	for (size_t i = 0; v != NULL && i < n; i++) {
		row_cells(rep, v[i], g, cells);
		for (int c = 0; c < NCOLS; c++)
			widths[c] = width(cells[c]) > widths[c] ? width(cells[c]) : widths[c];
	}
	for (int c = 0; c < NCOLS; c++)
		strcpy(cells[c], c == COL_NAME ? name_titles[g] : columns[c].title);
	print_row(fp, cells, widths, g);
	for (size_t i = 0; v != NULL && i < n; i++) {
		row_cells(rep, v[i], g, cells);
		print_row(fp, cells, widths, g);
	}
	free(v);
}

/* print_example - one message require would have rejected */

static void
print_example(FILE *fp, const struct tp_report_example *x)
{
	char	a[NAME_SHOW_MAX], b[NAME_SHOW_MAX], c[NAME_SHOW_MAX];

	fprintf(fp, "  %s  session %s", tp_escape_term(x->time, a, sizeof(a)),
		tp_escape_term(x->session, b, sizeof(b)));
	fprintf(fp, "  queue_id %s", x->queue_id
		? tp_escape_term(x->queue_id, a, sizeof(a)) : "-");
	fprintf(fp, "  client %s%s%s%s\n", x->client_addr
		? tp_escape_term(x->client_addr, b, sizeof(b)) : "(unknown)",
		x->client_name ? " (" : "",
		x->client_name ? tp_escape_term(x->client_name, c, sizeof(c)) : "",
		x->client_name ? ")" : "");
	fprintf(fp, "    from %s to %s\n", tp_escape_term(x->sender, a, sizeof(a)),
		tp_escape_term(x->rcpt, b, sizeof(b)));
	fprintf(fp, "    reason: %s\n", x->reason
		? tp_escape_term(x->reason, c, sizeof(c)) : "-");
}

/* print_examples - names with messages require would have rejected */

static size_t
print_examples(const struct tp_report *rep, FILE *fp, int g)
{
	char	name[NAME_SHOW_MAX];
	size_t	n, shown = 0;
	const struct entry **v = tp_report_sorted(rep, g, &n);

	for (size_t i = 0; v != NULL && i < n; i++) {
		const struct tp_report_stats *s = &v[i]->s;

		if (s->would_reject == 0)
			continue;
		fprintf(fp, "\n%s %s: %lu of %lu message%s; not ready to enforce\n",
			group_titles[g], name_of(v[i], g, name, sizeof(name)),
			s->would_reject, s->messages, s->messages == 1 ? "" : "s");
		for (size_t j = 0; j < s->nexamples; j++)
			print_example(fp, s->examples[j]);
		shown++;
	}
	free(v);
	return (shown);
}

/* print_header - what was read, and the filters */

static void
print_header(const struct tp_report *rep, FILE *fp)
{
	char	a[NAME_SHOW_MAX], b[NAME_SHOW_MAX];

	fprintf(fp, "tlspolicy audit report\n");
	if (rep->nfiles > 0) {
		fprintf(fp, "  files     ");
		for (size_t i = 0; i < rep->nfiles; i++)
			fprintf(fp, "%s%s", i ? ", " : "",
				tp_escape_term(rep->files[i], a, sizeof(a)));
		fprintf(fp, "\n");
	}
	if (rep->has_period)
		fprintf(fp, "  period    %s to %s\n",
			tp_report_format_ms(rep->first_ms, a, sizeof(a)),
			tp_report_format_ms(rep->last_ms, b, sizeof(b)));
	fprintf(fp, "  records   %lu", rep->records);
	if (rep->no_message)
		fprintf(fp, " (and %lu sessions without a message)", rep->no_message);
	fprintf(fp, "\n");
	if (rep->opts.has_since || rep->domain != NULL) {
		fprintf(fp, "  left out  %lu (", rep->left_out);
		if (rep->opts.has_since)
			fprintf(fp, "before %s%s",
				tp_report_format_ms(rep->opts.since_ms, a, sizeof(a)),
				rep->domain ? "; " : "");
		if (rep->domain != NULL)
			fprintf(fp, "not to or from %s",
				tp_escape_term(rep->domain, b, sizeof(b)));
		fprintf(fp, ")\n");
	}
}

/* print_audit - the audit log's part of the report */

static void
print_audit(const struct tp_report *rep, FILE *fp)
{
	size_t	shown = 0;

	print_header(rep, fp);
	if (rep->records == 0)
		return;
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		print_table(rep, fp, g);
	fprintf(fp, "\nMessages that require would have rejected "
		"(the newest %d per name)\n", TP_REPORT_EXAMPLES);
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		shown += print_examples(rep, fp, g);
	if (shown == 0)
		fprintf(fp, "  none\n");
}

/* tp_report_print_text - the report for people */

void
tp_report_print_text(const struct tp_report *rep, FILE *fp)
{
	/* Without an audit log, only the sections of the logs given. */
	if (rep->nfiles > 0 || (rep->maillog == NULL && rep->tlsrpt == NULL))
		print_audit(rep, fp);
	if (rep->maillog != NULL)
		tp_maillog_print_text(rep->maillog, rep, fp);
	if (rep->tlsrpt != NULL)
		tp_tlsrpt_print_text(rep->tlsrpt, fp);
}

/* ---- JSON output -------------------------------------------------------- */

/* json_put - write a value (NULL: null) and drop it */

static void
json_put(FILE *fp, struct json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
					     | JSON_C_TO_STRING_NOSLASHESCAPE), fp);
	json_object_put(o);
}

/* json_str - a string value, or null */

static struct json_object *
json_str(const char *s)
{
	return (s != NULL ? json_object_new_string(s) : NULL);
}

/* json_counts - {"name": count, ...} of the non-zero counts */

static struct json_object *
json_counts(const char *const *names, const unsigned long *counts, size_t n)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < n; i++)
		if (counts[i] > 0)
			json_object_object_add(o, names[i], json_object_new_int64((int64_t)counts[i]));
	return (o);
}

/* json_tls - TLS versions, cipher strengths, verification */

static void
json_tls(const struct tp_report *rep, const struct entry *e, struct json_object *o)
{
	const char *names[TP_REPORT_BITS + 1];
	char	bits[TP_REPORT_BITS][16];
	struct json_object *cb = json_object_new_object();
	size_t	i;

	for (i = 0; i < rep->nversions; i++)
		names[i] = rep->versions[i];
	for (; i <= TP_REPORT_VERSIONS; i++)
		names[i] = "other";
	json_object_object_add(o, "tls_versions", json_counts(names, e->s.versions,
							    TP_REPORT_VERSIONS + 1));
	for (i = 0; i < rep->nbits; i++) {
		snprintf(bits[i], sizeof(bits[i]), "%d", rep->bits[i]);
		names[i] = rep->bits[i] < 0 ? "unknown" : bits[i];
	}
	for (; i <= TP_REPORT_BITS; i++)
		names[i] = "other";
	json_object_object_add(cb, "min", e->s.min_bits < 0 ? NULL
			       : json_object_new_int(e->s.min_bits));
	json_object_object_add(cb, "counts", json_counts(names, e->s.bits, TP_REPORT_BITS + 1));
	json_object_object_add(o, "cipher_bits", cb);
	json_object_object_add(o, "verify", json_counts(tp_report_verify_names,
							e->s.verify, TP_REPORT_NVERIFY));
}

/* json_example - one message require would have rejected */

static struct json_object *
json_example(const struct tp_report_example *x)
{
	struct json_object *o = json_object_new_object();
	struct json_object *c = json_object_new_object();

	json_object_object_add(o, "time", json_str(x->time));
	json_object_object_add(o, "session", json_str(x->session));
	json_object_object_add(o, "queue_id", json_str(x->queue_id));
	json_object_object_add(c, "addr", json_str(x->client_addr));
	json_object_object_add(c, "name", json_str(x->client_name));
	json_object_object_add(o, "client", c);
	json_object_object_add(o, "sender", json_str(x->sender));
	json_object_object_add(o, "rcpt", json_str(x->rcpt));
	json_object_object_add(o, "reason", json_str(x->reason));
	return (o);
}

/* json_stats - one name's counts */

static struct json_object *
json_stats(const struct tp_report *rep, const struct entry *e, int g)
{
	const struct tp_report_stats *s = &e->s;
	struct json_object *o = json_object_new_object();
	struct json_object *ex = json_object_new_array();
	char	share[16];

	json_object_object_add(o, g == TP_REPORT_CLIENT ? "addr" : "domain",
			       json_str(e->key[0] ? e->key : NULL));
	if (g == TP_REPORT_CLIENT)
		json_object_object_add(o, "name", json_str(s->name));
	json_object_object_add(o, "messages", json_object_new_int64((int64_t)s->messages));
	json_object_object_add(o, "tls", json_object_new_int64((int64_t)s->tls));
	snprintf(share, sizeof(share), "%.4f", s->messages ? (double)s->tls / (double)s->messages : 0.0);
	json_object_object_add(o, "tls_share", json_object_new_double_s(
			       s->messages ? (double)s->tls / (double)s->messages : 0.0, share));
	json_object_object_add(o, "how", json_counts(tp_report_how_names, s->how,
						     TP_REPORT_NHOW));
	json_tls(rep, e, o);
	json_object_object_add(o, "prefer_or_testing", json_object_new_int64((int64_t)s->soft));
	json_object_object_add(o, "would_reject", json_object_new_int64((int64_t)s->would_reject));
	json_object_object_add(o, "ready_to_enforce", s->soft == 0 ? NULL
			       : json_object_new_boolean(s->would_reject == 0));
	for (size_t i = 0; i < s->nexamples; i++)
		json_object_array_add(ex, json_example(s->examples[i]));
	json_object_object_add(o, "examples", ex);
	return (o);
}

/* json_head - what was read, the filters, the totals */

static void
json_head(const struct tp_report *rep, FILE *fp)
{
	struct json_object *files = json_object_new_array();
	char	a[32], b[32];

	for (size_t i = 0; i < rep->nfiles; i++)
		json_object_array_add(files, json_object_new_string(rep->files[i]));
	fprintf(fp, "{\"report\":\"tlspolicy audit\",\"version\":1,\"files\":");
	json_put(fp, files);
	fprintf(fp, ",\"since\":");
	json_put(fp, rep->opts.has_since ? json_str(tp_report_format_ms(
				rep->opts.since_ms, a, sizeof(a))) : NULL);
	fprintf(fp, ",\"domain\":");
	json_put(fp, json_str(rep->domain));
	fprintf(fp, ",\"records\":%lu,\"sessions_without_message\":%lu,\"left_out\":%lu,"
		"\"skipped\":%lu,\"first_skipped\":",
		rep->records, rep->no_message, rep->left_out, rep->skipped);
	json_put(fp, json_str(rep->first_skipped));
	if (rep->has_period)
		fprintf(fp, ",\"period\":{\"first\":\"%s\",\"last\":\"%s\"}",
			tp_report_format_ms(rep->first_ms, a, sizeof(a)),
			tp_report_format_ms(rep->last_ms, b, sizeof(b)));
	else
		fprintf(fp, ",\"period\":null");
}

/* tp_report_print_json - the report as one JSON object */

void
tp_report_print_json(const struct tp_report *rep, FILE *fp)
{
	json_head(rep, fp);
	for (int g = 0; g < TP_REPORT_NGROUPS; g++) {
		size_t	n;
		const struct entry **v = tp_report_sorted(rep, g, &n);

		fprintf(fp, ",\n\"%s\":[", group_json[g]);
		for (size_t i = 0; v != NULL && i < n; i++) {
			fputs(i ? ",\n" : "\n", fp);
			json_put(fp, json_stats(rep, v[i], g));
		}
		fputs("]", fp);
		free(v);
	}
	if (rep->maillog != NULL) {
		fputs(",\n\"maillog\":", fp);
		tp_maillog_print_json(rep->maillog, rep, fp);
	}
	if (rep->tlsrpt != NULL) {
		fputs(",\n\"tlsrpt\":", fp);
		tp_tlsrpt_print_json(rep->tlsrpt, fp);
	}
	fputs("}\n", fp);
}
