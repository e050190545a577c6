/*
 * NAME
 *	report_html 3
 * SUMMARY
 *	tlspolicyctl report --html: the report as one self-contained page
 * SYNOPSIS
 *	#include "ctl/tp_report.h"
 *
 *	int	tp_report_print_html(const struct tp_report *rep, FILE *fp);
 * DESCRIPTION
 *	tp_report_print_html() writes the report as one HTML file that
 *	needs nothing else: the style sheet, the charts (SVG, drawn
 *	here) and a small script that sorts and filters the tables are
 *	all inline. A Content-Security-Policy meta tag forbids every
 *	load from the network and runs only the page's own style and
 *	script (a random nonce), so that even a hostile string that got
 *	past escaping could neither run nor fetch anything.
 *
 *	The page shows what the text report shows, with the same counts
 *	(report.c, report_print.c's cells): a summary (messages, TLS
 *	share, STARTTLS and implicit TLS, TLS versions, would-reject
 *	counts, a chart of the daily volume and TLS share), then a
 *	table per group (sender domains, recipient domains, clients)
 *	with a small daily chart per row, and the messages that require
 *	would have rejected, the newest TP_REPORT_EXAMPLES per name.
 *	The script reads only the DOM (data-v attributes and cell text).
 *
 *	The page stays small however many records were read: it holds
 *	aggregates, at most TP_REPORT_HTML_ROWS rows per table (names not ready
 *	to enforce first, then the busiest; a last row counts the rest),
 *	and stops adding rows or examples past a byte budget, so that
 *	names made long and full of characters to escape cannot grow it
 *	past about 4.6 MB. Every string from the log goes through
 *	tp_escape(TP_ESCAPE_HTML), cut at NAME_SHOW_MAX bytes; the same
 *	text serves element text and quoted attribute values.
 * DIAGNOSTICS
 *	tp_report_print_html() returns -1 when memory ran out or no
 *	random nonce could be had, 0 otherwise; write errors are the
 *	caller's to find (ferror).
 */

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1		/* getentropy */
#endif

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/report_impl.h"

#define TABLE_BUDGET	(1000 * 1000)	/* bytes of one table (+ one row) */
#define PAGE_BUDGET	(4400 * 1000)	/* no more examples past this */
#define REASON_SHOW_MAX	200		/* bytes of a reason in a table cell */
#define DAY_MS		86400000LL
#define FILES_SHOW	20		/* file names in the header, at most */
#define CHART_W		720		/* width of the summary's daily chart */

/* The page being written. */
struct page {
	FILE   *fp;
	size_t	bytes;			/* written so far */
	char	nonce[33];		/* hex, for the CSP */
};

/* What the summary adds up over every record. */
struct sums {
	unsigned long messages;
	unsigned long tls;
	unsigned long how[TP_REPORT_NHOW];
	unsigned long versions[TP_REPORT_VERSIONS + 1];
	unsigned long would_reject;	/* messages */
	size_t	not_ready[TP_REPORT_NGROUPS];	/* names */
};

/* A chart's geometry, in SVG user units. */
struct geom {
	int	day_w;			/* width of one day */
	int	h;			/* height of the plot */
	int	top;			/* room above it */
	int	bottom;			/* room below it, for dates */
	bool	detail;			/* titles per day, dates, scale */
};

static const char *const group_id[TP_REPORT_NGROUPS] = {"s", "r", "c"};
static const char *const group_head[TP_REPORT_NGROUPS] = {
	"Sender domains", "Recipient domains", "Clients",
};
static const char *const group_one[TP_REPORT_NGROUPS] = {
	"sender domain", "recipient domain", "client",
};

static const char page_style[] =
":root{--fg:#1d2330;--mut:#5b6474;--bg:#f5f6f8;--card:#fff;--line:#dde1e7;"
"--ok:#1a7f37;--bad:#c62828;--bar:#9db3d3;--tls:#1a7f37}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
"color:var(--fg);background:var(--bg)}\n"
"header,main,footer{max-width:1400px;margin:0 auto;padding:10px 16px}\n"
"h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em}\n"
"h3{font-size:1em;margin:0 0 .4em}\n"
".meta{color:var(--mut);margin:.1em 0;overflow-wrap:anywhere}\n"
".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(118px,1fr));gap:8px}\n"
".card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 10px}\n"
".card b{display:block;font-size:1.45em;font-variant-numeric:tabular-nums}\n"
".charts{display:grid;grid-template-columns:2fr 1fr;gap:8px;margin-top:8px}\n"
"@media (max-width:800px){.charts{grid-template-columns:1fr}}\n"
".chart{width:100%;height:auto;display:block}\n"
".chart text{font-size:11px;fill:var(--mut)}\n"
".v{fill:var(--bar)}.s{fill:none;stroke:var(--tls);stroke-width:1.5}\n"
".chart .s{stroke-width:2}.ax{stroke:var(--line)}\n"
".tools{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;margin:.4em 0}\n"
".tools input[type=search]{flex:1 1 220px;max-width:420px;padding:6px 8px;font:inherit;"
"border:1px solid var(--line);border-radius:4px}\n"
".scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:6px}\n"
"table{border-collapse:collapse;width:100%}\n"
"th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;"
"vertical-align:top;white-space:nowrap}\n"
"thead th{position:sticky;top:0;background:var(--card)}\n"
".n{text-align:right;font-variant-numeric:tabular-nums}\n"
"td.k{white-space:normal;overflow-wrap:break-word;max-width:28em}\n"
"th button{font:inherit;font-weight:600;background:none;border:0;padding:0;"
"cursor:pointer;color:inherit}\n"
"th[aria-sort=ascending] button::after{content:\" \\25B2\"}\n"
"th[aria-sort=descending] button::after{content:\" \\25BC\"}\n"
".yes{color:var(--ok)}.no{color:var(--bad);font-weight:600}.mut{color:var(--mut)}\n"
".why{display:block;color:var(--mut);font-weight:normal;white-space:normal;"
"font-size:.9em;min-width:14em;max-width:26em;overflow-wrap:anywhere}\n"
"details{background:var(--card);border:1px solid var(--line);border-radius:6px;"
"margin:4px 0;padding:4px 8px}\n"
"summary{cursor:pointer;overflow-wrap:anywhere}\n"
".ex td{white-space:normal;overflow-wrap:anywhere}\n"
"footer{color:var(--mut)}\n"
"@media (max-width:600px){body{font-size:13px}th,td{padding:3px 5px}"
"header,main,footer{padding:8px}.daily text{font-size:20px}}\n";

/* Sorting on a header's button; filtering by text and readiness. */
static const char page_script[] =
"(function () {\n"
"\"use strict\";\n"
"function key(td, num) {\n"
"\tvar v = td.getAttribute(\"data-v\");\n"
"\tif (v === null && !num)\n"
"\t\treturn td.textContent.toLowerCase();\n"
"\treturn parseFloat(v === null ? td.textContent : v);\n"
"}\n"
"function sortBy(table, th, col) {\n"
"\tvar desc = th.getAttribute(\"aria-sort\") !== \"descending\";\n"
"\tvar num = th.classList.contains(\"n\");\n"
"\tvar body = table.tBodies[0];\n"
"\tvar rows = Array.prototype.slice.call(body.rows);\n"
"\tArray.prototype.forEach.call(th.parentNode.cells, function (h) {\n"
"\t\th.removeAttribute(\"aria-sort\");\n"
"\t});\n"
"\tth.setAttribute(\"aria-sort\", desc ? \"descending\" : \"ascending\");\n"
"\trows.forEach(function (r, i) { r.sortIndex = i; });\n"
"\trows.sort(function (a, b) {\n"
"\t\tvar x = key(a.cells[col], num), y = key(b.cells[col], num);\n"
"\t\tvar c = x < y ? -1 : x > y ? 1 : 0;\n"
"\t\treturn (desc ? -c : c) || a.sortIndex - b.sortIndex;\n"
"\t});\n"
"\trows.forEach(function (r) { body.appendChild(r); });\n"
"}\n"
"function filter(box, table) {\n"
"\tvar q = box.querySelector(\"input[type=search]\").value.toLowerCase();\n"
"\tvar only = box.querySelector(\"input[type=checkbox]\").checked;\n"
"\tvar rows = table.tBodies[0].rows, n = 0;\n"
"\tfor (var i = 0; i < rows.length; i++) {\n"
"\t\tvar r = rows[i], names = r.cells[0].textContent;\n"
"\t\tif (table.hasAttribute(\"data-host\"))\n"
"\t\t\tnames += \" \" + r.cells[1].textContent;\n"
"\t\tvar show = names.toLowerCase().indexOf(q) >= 0\n"
"\t\t    && (!only || r.getAttribute(\"data-ready\") === \"no\");\n"
"\t\tr.hidden = !show;\n"
"\t\tn += show;\n"
"\t}\n"
"\tbox.querySelector(\"output\").textContent = n + \" of \" + rows.length + \" shown\";\n"
"}\n"
"Array.prototype.forEach.call(document.querySelectorAll(\"table.sortable\"), function (t) {\n"
"\tArray.prototype.forEach.call(t.tHead.rows[0].cells, function (th, col) {\n"
"\t\tvar b = th.querySelector(\"button\");\n"
"\t\tif (b)\n"
"\t\t\tb.addEventListener(\"click\", function () { sortBy(t, th, col); });\n"
"\t});\n"
"});\n"
"Array.prototype.forEach.call(document.querySelectorAll(\"[data-filter]\"), function (box) {\n"
"\tvar t = document.getElementById(box.getAttribute(\"data-filter\"));\n"
"\tvar run = function () { filter(box, t); };\n"
"\tbox.querySelector(\"input[type=search]\").addEventListener(\"input\", run);\n"
"\tbox.querySelector(\"input[type=checkbox]\").addEventListener(\"change\", run);\n"
"\trun();\n"
"});\n"
"})();\n";

/* ---- writing ------------------------------------------------------------- */

/* put - printf onto the page, counting bytes */

static void __attribute__((format(printf, 2, 3)))
put(struct page *p, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vfprintf(p->fp, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->bytes += (size_t)n;
}

/* put_text - a string from the log, escaped for HTML, cut at max bytes */

static void
put_text(struct page *p, const char *s, size_t max)
{
	char	buf[NAME_SHOW_MAX];
	bool	cut;

	tp_escape(TP_ESCAPE_HTML, s, buf, max < sizeof(buf) ? max : sizeof(buf), &cut);
	put(p, "%s", buf);
}

/* put_opt - a string from the log, or "-" for null */

static void
put_opt(struct page *p, const char *s)
{
	if (s == NULL)
		put(p, "<span class=\"mut\">-</span>");
	else
		put_text(p, s, NAME_SHOW_MAX);
}

/* put_key - a name, or the group's word for an empty one */

static void
put_key(struct page *p, const struct entry *e, int g)
{
	if (e->key[0] == 0)
		put(p, "<span class=\"mut\">%s</span>", tp_report_unnamed(g));
	else
		put_text(p, e->key, NAME_SHOW_MAX);
}

/* share - part of whole, 0 if whole is 0 */

static double
share(unsigned long part, unsigned long whole)
{
	return (whole ? (double)part / (double)whole : 0.0);
}

/* day_text - "2026-11-20" of a day since 1970-01-01 */

static const char *
day_text(long long day, char *buf, size_t size)
{
	tp_report_format_ms(day * DAY_MS, buf, size);
	if (size > 10)
		buf[10] = 0;
	return (buf);
}

/* ---- charts -------------------------------------------------------------- */

/* chart_y - the y of a value in 0..max on a plot of height h below top */

static double
chart_y(const struct geom *gm, double value, double max)
{
	return (gm->top + gm->h - (max > 0 ? value / max : 0.0) * gm->h);
}

/* chart_detail - a day's title, the scale and the dates of a big chart */

static void
chart_detail(struct page *p, const struct geom *gm, const struct tp_report_day *d,
	     size_t n, unsigned long max)
{
	char	a[40];
	int	w = (int)n * gm->day_w, base = gm->top + gm->h;

	for (size_t i = 0; i < n; i++)
		put(p, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"transparent\">"
		    "<title>%s: %lu messages, %.1f%% over TLS</title></rect>",
		    (int)i * gm->day_w, gm->top, gm->day_w, gm->h,
		    day_text(d[i].day, a, sizeof(a)), d[i].messages,
		    100.0 * share(d[i].tls, d[i].messages));
	put(p, "<line class=\"ax\" x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", base, w, base);
	put(p, "<text x=\"0\" y=\"%d\">%lu messages a day at most</text>", gm->top - 6, max);
	put(p, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">TLS share 0-100%%</text>",
	    w, gm->top - 6);
	put(p, "<text x=\"0\" y=\"%d\">%s</text>", base + 22, day_text(d[0].day, a, sizeof(a)));
	if (n > 1)
		put(p, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", w, base + 22,
		    day_text(d[n - 1].day, a, sizeof(a)));
}

/* put_chart - daily volume as bars, TLS share as a line, over n days */

static void
put_chart(struct page *p, const struct geom *gm, const struct tp_report_day *d,
	  size_t n, const char *cls)
{
	unsigned long max = 0;
	bool	first = true;
	int	w = (int)n * gm->day_w, hh = gm->top + gm->h + gm->bottom;
	char	a[40], b[40];

	for (size_t i = 0; i < n; i++)
		max = d[i].messages > max ? d[i].messages : max;
	put(p, "<svg class=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"messages a day (bars) and TLS share (line), %s to %s\">",
	    cls, w, hh, w, hh, n ? day_text(d[0].day, a, sizeof(a)) : "-",
	    n ? day_text(d[n - 1].day, b, sizeof(b)) : "-");
	put(p, "<path class=\"v\" d=\"");
	for (size_t i = 0; i < n; i++)
		if (d[i].messages > 0)
			put(p, "M%d %dV%.1fh%dV%dz", (int)i * gm->day_w + 1, gm->top + gm->h,
			    chart_y(gm, (double)d[i].messages, (double)max),
			    gm->day_w - 2 > 1 ? gm->day_w - 2 : 1, gm->top + gm->h);
	put(p, "\"/><path class=\"s\" d=\"");
	for (size_t i = 0; i < n; i++) {
		if (d[i].messages == 0)
			continue;
		put(p, "%c%.1f %.1f", first ? 'M' : 'L', (double)i * gm->day_w + gm->day_w / 2.0,
		    chart_y(gm, share(d[i].tls, d[i].messages), 1.0));
		first = false;
	}
	put(p, "\"/>");
	if (gm->detail && n > 0)
		chart_detail(p, gm, d, n, max);
	put(p, "</svg>");
}

/* put_versions - a bar per TLS version, its share of TLS messages */

static void
put_versions(struct page *p, const struct tp_report *rep, const struct sums *t)
{
	const int row = 22, w = 300, label = 90;
	size_t	n = 0;

	for (size_t i = 0; i <= TP_REPORT_VERSIONS; i++)
		n += t->versions[i] > 0;
	put(p, "<svg class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"TLS versions\">", w, (int)n * row + 4, w, (int)n * row + 4);
	n = 0;
	for (size_t i = 0; i <= TP_REPORT_VERSIONS; i++) {
		double	f = share(t->versions[i], t->tls);

		if (t->versions[i] == 0)
			continue;
		put(p, "<text x=\"0\" y=\"%d\">", (int)n * row + 15);
		put_text(p, i < rep->nversions ? rep->versions[i] : "other", 40);
		put(p, "</text><rect class=\"v\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"16\"/>"
		    "<text x=\"%d\" y=\"%d\">%lu (%.1f%%)</text>", label, (int)n * row + 3,
		    f * (w - label - 90), label + 4 + (int)(f * (w - label - 90)), (int)n * row + 15,
		    t->versions[i], 100.0 * f);
		n++;
	}
	put(p, "</svg>");
}

/* ---- the summary --------------------------------------------------------- */

/* add_sums - every record's counts: each counts once for its sender */

static void
add_sums(const struct tp_report *rep, struct sums *t)
{
	memset(t, 0, sizeof(*t));
	for (int g = 0; g < TP_REPORT_NGROUPS; g++) {
		const struct table *tab = &rep->tables[g];

		for (size_t i = 0; i < tab->size; i++) {
			const struct entry *e = tab->slots[i];

			if (e == NULL)
				continue;
			t->not_ready[g] += e->s.would_reject > 0;
			if (g != TP_REPORT_SENDER)
				continue;
			t->messages += e->s.messages;
			t->tls += e->s.tls;
			t->would_reject += e->s.would_reject;
			for (int h = 0; h < TP_REPORT_NHOW; h++)
				t->how[h] += e->s.how[h];
			for (int v = 0; v <= TP_REPORT_VERSIONS; v++)
				t->versions[v] += e->s.versions[v];
		}
	}
}

/* put_card - one figure of the summary; key names it for programs */

static void
put_card(struct page *p, const char *key, const char *value, const char *what)
{
	put(p, "<div class=\"card\"><b data-k=\"%s\">%s</b>%s</div>\n", key, value, what);
}

/* put_cards - the summary's figures */

static void
put_cards(struct page *p, const struct sums *t)
{
	char	v[64];

	put(p, "<div class=\"cards\">\n");
	snprintf(v, sizeof(v), "%lu", t->messages);
	put_card(p, "messages", v, "messages");
	snprintf(v, sizeof(v), "%.1f%%", 100.0 * share(t->tls, t->messages));
	put_card(p, "tls_share", v, "over TLS");
	snprintf(v, sizeof(v), "%lu", t->how[TP_REPORT_HOW_STARTTLS]);
	put_card(p, "starttls", v, "with STARTTLS");
	snprintf(v, sizeof(v), "%lu", t->how[TP_REPORT_HOW_IMPLICIT]);
	put_card(p, "implicit", v, "over implicit TLS");
	snprintf(v, sizeof(v), "%lu", t->how[TP_REPORT_HOW_NONE]);
	put_card(p, "plaintext", v, "in plaintext");
	snprintf(v, sizeof(v), "%lu", t->would_reject);
	put_card(p, "would_reject", v, "require would have rejected");
	for (int g = 0; g < TP_REPORT_NGROUPS; g++) {
		char	key[32], what[64];

		snprintf(key, sizeof(key), "not_ready_%s", group_id[g]);
		snprintf(v, sizeof(v), "%zu", t->not_ready[g]);
		snprintf(what, sizeof(what), "%ss not ready to enforce", group_one[g]);
		put_card(p, key, v, what);
	}
	put(p, "</div>\n");
}

/* put_summary - the figures and charts over every record */

static void
put_summary(struct page *p, const struct tp_report *rep)
{
	struct tp_report_day days[TP_REPORT_DAYS];
	struct sums t;
	size_t	n = tp_report_days(rep, NULL, days);
	/* As wide as CHART_W whatever the days: the browser scales it. */
	struct geom big = {n ? CHART_W / (int)n : CHART_W, 150, 26, 28, true};

	add_sums(rep, &t);
	put(p, "<section id=\"summary\"><h2>Summary</h2>\n");
	put_cards(p, &t);
	put(p, "<div class=\"charts\"><div class=\"card\"><h3>Daily: messages and TLS share"
	    " (last %zu day%s)</h3>", n, n == 1 ? "" : "s");
	put_chart(p, &big, days, n, "chart daily");
	put(p, "</div><div class=\"card\"><h3>TLS versions (of %lu TLS messages)</h3>", t.tls);
	put_versions(p, rep, &t);
	put(p, "</div></div></section>\n");
}

/* ---- the tables ---------------------------------------------------------- */

/* choose - the entries that get a row: not ready first, then the busiest */

static void
choose(const struct entry **v, size_t n, bool *shown)
{
	size_t	k = 0;

	for (size_t i = 0; i < n && k < TP_REPORT_HTML_ROWS; i++)
		if ((shown[i] = v[i]->s.would_reject > 0))
			k++;
	for (size_t i = 0; i < n && k < TP_REPORT_HTML_ROWS; i++)
		if (!shown[i]) {
			shown[i] = true;
			k++;
		}
}

/* put_ready - the ready cell: yes, no or -, and why */

static void
put_ready(struct page *p, const struct tp_report_stats *s, int g, size_t i)
{
	if (s->soft == 0) {
		put(p, "<td data-v=\"0\" title=\"no prefer or testing decisions\">-</td>");
	} else if (s->would_reject == 0) {
		put(p, "<td data-v=\"1\" class=\"yes\">yes<span class=\"why\">%lu prefer or "
		    "testing message%s, none would fail</span></td>", s->soft,
		    s->soft == 1 ? "" : "s");
	} else {
		put(p, "<td data-v=\"2\" class=\"no\"><a href=\"#x-%s-%zu\">no</a>"
		    "<span class=\"why\">%lu of %lu messages would have been rejected", group_id[g],
		    i, s->would_reject, s->messages);
		if (s->nexamples > 0 && s->examples[0]->reason != NULL) {
			put(p, "; newest: ");
			put_text(p, s->examples[0]->reason, REASON_SHOW_MAX);
		}
		put(p, "</span></td>");
	}
}

/* put_row - one name's row */

static void
put_row(struct page *p, const struct tp_report *rep, const struct entry *e, int g,
	size_t i)
{
	static const struct geom spark = {5, 20, 2, 2, false};
	const struct tp_report_stats *s = &e->s;
	struct tp_report_day days[TP_REPORT_DAYS];
	char	cell[CELL_MAX];
	size_t	n = tp_report_days(rep, s, days);

	put(p, "<tr data-ready=\"%s\"><td class=\"k\">",
	    s->soft == 0 ? "-" : s->would_reject ? "no" : "yes");
	put_key(p, e, g);
	if (g == TP_REPORT_CLIENT) {
		put(p, "</td><td class=\"k\">");
		put_opt(p, s->name);
	}
	put(p, "</td><td class=\"n\">%lu</td><td class=\"n\" data-v=\"%.6f\">%.1f%%</td><td>",
	    s->messages, share(s->tls, s->messages), 100.0 * share(s->tls, s->messages));
	put_chart(p, &spark, days, n, "spark");
	put(p, "</td><td class=\"n\">%lu</td><td class=\"n\">%lu</td>",
	    s->how[TP_REPORT_HOW_STARTTLS], s->how[TP_REPORT_HOW_IMPLICIT]);
	tp_report_versions_cell(rep, e, TP_ESCAPE_HTML, cell);
	put(p, "<td>%s</td>", cell);
	if (s->min_bits < 0)
		put(p, "<td class=\"n\" data-v=\"-1\">-</td>");
	else
		put(p, "<td class=\"n\">%d</td>", s->min_bits);
	tp_report_bits_cell(rep, e, cell);
	put(p, "<td>%s</td>", cell);
	tp_report_verify_cell(e, cell);
	put(p, "<td>%s</td>", cell);
	if (s->soft == 0)
		put(p, "<td class=\"n\" data-v=\"-1\">-</td>");
	else
		put(p, "<td class=\"n\">%lu</td>", s->would_reject);
	put_ready(p, s, g, i);
	put(p, "</tr>\n");
}

/* put_head - a table's header: a sort button per column but the chart */

static void
put_head(struct page *p, int g, size_t ndays)
{
	static const struct {
		const char *key, *title;
		bool	num;
	} cols[] = {
		{"name", "Name", false}, {"host", "Host name", false},
		{"messages", "Messages", true}, {"tls_share", "TLS", true},
		{"daily", NULL, false}, {"starttls", "STARTTLS", true},
		{"implicit", "Implicit", true}, {"versions", "Versions", false},
		{"min_bits", "Min bits", true}, {"bits", "Bits", false},
		{"verify", "Verify", false}, {"would_reject", "Would reject", true},
		{"ready", "Ready to enforce", false},
	};

	put(p, "<thead><tr>");
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		if (c == 1 && g != TP_REPORT_CLIENT)
			continue;
		put(p, "<th data-c=\"%s\"%s>", cols[c].key, cols[c].num ? " class=\"n\"" : "");
		if (cols[c].title != NULL)
			put(p, "<button type=\"button\">%s</button></th>", cols[c].title);
		else
			put(p, "Daily, %zu day%s</th>", ndays, ndays == 1 ? "" : "s");
	}
	put(p, "</tr></thead>\n");
}

/* put_table - a group's table, its tools and what it leaves out */

static int
put_table(struct page *p, const struct tp_report *rep, int g, bool *shown)
{
	struct tp_report_day days[TP_REPORT_DAYS];
	size_t	n, left = 0, start = p->bytes;
	unsigned long left_messages = 0;
	const struct entry **v = tp_report_sorted(rep, g, &n);

	if (v == NULL)
		return (-1);
	choose(v, n, shown);
	put(p, "<section id=\"%s\"><h2>%s: %zu</h2>\n<div class=\"tools\" data-filter=\"t-%s\">"
	    "<input type=\"search\" placeholder=\"filter by name\" aria-label=\"filter %ss by name\">"
	    "<label><input type=\"checkbox\"> not ready to enforce only</label><output></output>"
	    "</div>\n<div class=\"scroll\"><table class=\"sortable\" id=\"t-%s\"%s>\n",
	    group_id[g], group_head[g], n, group_id[g], group_one[g], group_id[g],
	    g == TP_REPORT_CLIENT ? " data-host" : "");
	put_head(p, g, tp_report_days(rep, NULL, days));
	put(p, "<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		if (shown[i] && p->bytes - start > TABLE_BUDGET)
			shown[i] = false;	/* names made to fill the page */
		if (shown[i]) {
			put_row(p, rep, v[i], g, i);
		} else {
			left++;
			left_messages += v[i]->s.messages;
		}
	}
	put(p, "</tbody></table></div>\n");
	if (left > 0)
		put(p, "<p class=\"meta\" data-left=\"%zu\">%zu more %ss with %lu messages are not "
		    "shown: the table keeps %zu of %zu, those not ready to enforce first, then the "
		    "busiest. tlspolicyctl report --json lists them all.</p>\n",
		    left, left, group_one[g], left_messages, n - left, n);
	put(p, "</section>\n");
	free(v);
	return (0);
}

/* ---- the examples -------------------------------------------------------- */

/* put_example - one message that require would have rejected */

static void
put_example(struct page *p, const struct tp_report_example *x)
{
	put(p, "<tr><td>");
	put_opt(p, x->time);
	put(p, "</td><td>");
	put_opt(p, x->session);
	put(p, "</td><td>");
	put_opt(p, x->queue_id);
	put(p, "</td><td>");
	put_opt(p, x->client_addr);
	if (x->client_name != NULL) {
		put(p, " (");
		put_text(p, x->client_name, NAME_SHOW_MAX);
		put(p, ")");
	}
	put(p, "</td><td>");
	put_opt(p, x->sender);
	put(p, "</td><td>");
	put_opt(p, x->rcpt);
	put(p, "</td><td>");
	put_opt(p, x->reason);
	put(p, "</td></tr>\n");
}

/* put_examples - a group's names that are not ready, with their examples */

static size_t
put_examples(struct page *p, const struct tp_report *rep, int g, const bool *shown,
	     bool *full)
{
	size_t	n, listed = 0;
	const struct entry **v = tp_report_sorted(rep, g, &n);

	for (size_t i = 0; v != NULL && i < n && !*full; i++) {
		const struct tp_report_stats *s = &v[i]->s;

		if (!shown[i] || s->would_reject == 0)
			continue;
		if (p->bytes > PAGE_BUDGET) {
			*full = true;
			break;
		}
		put(p, "<details id=\"x-%s-%zu\"><summary>%s <strong>", group_id[g], i,
		    group_one[g]);
		put_key(p, v[i], g);
		put(p, "</strong>: %lu of %lu message%s; not ready to enforce</summary>"
		    "<div class=\"scroll\"><table class=\"ex\"><thead><tr><th>Time</th>"
		    "<th>Session</th><th>Queue ID</th><th>Client</th><th>Sender</th>"
		    "<th>Recipient</th><th>Reason</th></tr></thead><tbody>\n",
		    s->would_reject, s->messages, s->messages == 1 ? "" : "s");
		for (size_t j = 0; j < s->nexamples; j++)
			put_example(p, s->examples[j]);
		put(p, "</tbody></table></div></details>\n");
		listed++;
	}
	free(v);
	return (listed);
}

/* ---- the page ------------------------------------------------------------ */

/* make_nonce - 128 random bits in hex: -1 if the system has none */

static int
make_nonce(char *hex)
{
	unsigned char r[16];

	if (getentropy(r, sizeof(r)) != 0)
		return (-1);
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return (0);
}

/* put_header - the document's head, the title and what was read */

static void
put_header(struct page *p, const struct tp_report *rep)
{
	char	a[40], b[40];

	put(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'nonce-%s'; script-src 'nonce-%s'; base-uri 'none'; form-action 'none'\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>tlspolicy audit report</title>\n<style nonce=\"%s\">\n%s</style></head>\n"
	    "<body><header><h1>tlspolicy audit report</h1>\n", p->nonce, p->nonce, p->nonce,
	    page_style);
	if (rep->nfiles > 0) {
		put(p, "<p class=\"meta\">files: ");
		for (size_t i = 0; i < rep->nfiles && i < FILES_SHOW; i++) {
			put(p, "%s", i ? ", " : "");
			put_text(p, rep->files[i], NAME_SHOW_MAX);
		}
		if (rep->nfiles > FILES_SHOW)
			put(p, " and %zu more", rep->nfiles - FILES_SHOW);
		put(p, "</p>\n");
	}
	if (rep->has_period)
		put(p, "<p class=\"meta\">period: %s to %s</p>\n",
		    tp_report_format_ms(rep->first_ms, a, sizeof(a)),
		    tp_report_format_ms(rep->last_ms, b, sizeof(b)));
	put(p, "<p class=\"meta\">records: <span data-k=\"records\">%lu</span>", rep->records);
	if (rep->no_message)
		put(p, " (and %lu sessions without a message)", rep->no_message);
	if (rep->opts.has_since)
		put(p, "; left out before %s",
		    tp_report_format_ms(rep->opts.since_ms, a, sizeof(a)));
	if (rep->domain != NULL) {
		put(p, "; only to or from ");
		put_text(p, rep->domain, NAME_SHOW_MAX);
	}
	if (rep->opts.has_since || rep->domain != NULL)
		put(p, " (%lu left out)", rep->left_out);
	if (rep->skipped)
		put(p, "; %lu malformed line%s skipped", rep->skipped, rep->skipped == 1 ? "" : "s");
	put(p, "</p></header>\n<main>\n");
}

/* put_body - the summary, the tables and the examples */

static int
put_body(struct page *p, const struct tp_report *rep)
{
	bool   *shown[TP_REPORT_NGROUPS] = {NULL};
	bool	full = false;
	size_t	listed = 0;
	int	rc = -1;

	put_summary(p, rep);
	for (int g = 0; g < TP_REPORT_NGROUPS; g++) {
		if ((shown[g] = calloc(rep->tables[g].count + 1, sizeof(bool))) == NULL
		    || put_table(p, rep, g, shown[g]) < 0)
			goto out;
	}
	put(p, "<section id=\"examples\"><h2>Messages that require would have rejected</h2>\n"
	    "<p class=\"meta\">The newest %d per name.</p>\n", TP_REPORT_EXAMPLES);
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		listed += put_examples(p, rep, g, shown[g], &full);
	if (listed == 0 && !full)
		put(p, "<p>None.</p>\n");
	if (full)
		put(p, "<p class=\"meta\">More names are not shown: the page is full. "
		    "tlspolicyctl report lists them all.</p>\n");
	put(p, "</section>\n");
	rc = 0;
out:
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		free(shown[g]);
	return (rc);
}

/* tp_report_print_html - the report as one page; -1: out of memory */

int
tp_report_print_html(const struct tp_report *rep, FILE *fp)
{
	struct page p = {fp, 0, ""};

	if (make_nonce(p.nonce) < 0)
		return (-1);
	put_header(&p, rep);
	if (rep->records == 0)
		put(&p, "<p>No records.</p>\n");
	else if (put_body(&p, rep) < 0)
		return (-1);
	put(&p, "</main><footer>Made by tlspolicyctl report --html. Click a column title to sort; "
	    "the filter matches names.</footer>\n<script nonce=\"%s\">\n%s</script>\n"
	    "</body></html>\n", p.nonce, page_script);
	return (0);
}
