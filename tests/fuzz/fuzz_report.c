/*
 * NAME
 *	fuzz_report 1
 * SUMMARY
 *	libFuzzer target: the audit log reader of tlspolicyctl report
 * SYNOPSIS
 *	fuzz_report [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is a piece of audit log: lines of JSON, or anything. It
 *	is written to a memory file (memfd_create, read back by its
 *	/proc/self/fd name) and read through tp_report_read()
 *	(ctl/report_read.c, the only way in, as tlspolicyctl report reads
 *	a log), without worker threads (opts.threads 0: the reader parses
 *	itself, no thread start per input), and then the report is
 *	printed both ways.
 *
 *	Every line (each newline, and the last line if it has none) must
 *	be counted once: as a record, as a session without a message, or
 *	skipped; the totals must agree with the JSON output's counts. An
 *	input that starts like gzip (1f 8b) is read as gzip: it may fail
 *	to read ("truncated"), and its lines are not the input's, so only
 *	the outputs are checked. The text output, where every string from
 *	the log is shown escaped for a terminal (TP_ESCAPE_TERM), must be
 *	valid UTF-8 with no control character but newline and no C1
 *	control, so that no record can drive the admin's terminal; the
 *	JSON output must parse. The page (--html, TP_ESCAPE_HTML) must be
 *	valid UTF-8 with no control character but tab and newline, one
 *	script, and every '<' before it must open or close a tag of the
 *	page's own: no record can add markup.
 */

#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl/tp_report.h"
#include "policy/tp_names.h"
#include "tests/fuzz/fuzz.h"

/* printed - what a print function writes, in a malloc'd string */

static char *
printed(void (*print) (const struct tp_report *, FILE *),
	const struct tp_report *rep, size_t *len)
{
	char   *out = NULL;
	FILE   *fp = open_memstream(&out, len);

	FUZZ_ASSERT(fp != NULL, "open_memstream");
	print(rep, fp);
	FUZZ_ASSERT(fclose(fp) == 0 && out != NULL, "out of memory");
	return (out);
}

/* check_text - safe for a terminal */

static void
check_text(const char *out, size_t len)
{
	FUZZ_ASSERT(fuzz_no_control(out, len, "\n"), "control byte in the text report");
	FUZZ_ASSERT(tp_utf8_valid(out, len), "text report is not UTF-8");
	for (size_t i = 0; i + 1 < len; i++)
		FUZZ_ASSERT(!((unsigned char)out[i] == 0xc2 && (unsigned char)out[i + 1] >= 0x80
			      && (unsigned char)out[i + 1] <= 0x9f), "C1 control in the text report");
}

/* print_html - the page, as a print function */

static void
print_html(const struct tp_report *rep, FILE *fp)
{
	FUZZ_ASSERT(tp_report_print_html(rep, fp) == 0, "tp_report_print_html failed");
}

/* own_tag - the tag at p (just after its '<') is one the page writes */

static bool
own_tag(const char *p)
{
	static const char *const tags[] = {
		"html", "head", "meta", "title", "style", "body", "header", "h1", "h2",
		"h3", "p", "span", "main", "section", "div", "b", "svg", "path", "rect",
		"line", "text", "input", "label", "output", "table", "thead", "tbody",
		"tr", "th", "td", "button", "a", "details", "summary", "strong", "footer",
		"script",
	};
	size_t	n;

	if (strncmp(p, "!DOCTYPE html>", 14) == 0)
		return (true);
	p += *p == '/';
	n = strcspn(p, " />");
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strlen(tags[i]) == n && memcmp(p, tags[i], n) == 0)
			return (true);
	return (false);
}

/* check_html - a page of our own markup only, safe text */

static void
check_html(const char *out, size_t len)
{
	const char *script = strstr(out, "<script");

	FUZZ_ASSERT(fuzz_no_control(out, len, "\n\t"), "control byte in the page");
	FUZZ_ASSERT(tp_utf8_valid(out, len), "the page is not UTF-8");
	FUZZ_ASSERT(script != NULL && strstr(script + 1, "<script") == NULL,
		    "the page has not one script");
	for (const char *p = out; (p = memchr(p, '<', (size_t)(script - p))) != NULL; p++)
		FUZZ_ASSERT(own_tag(p + 1), "markup from the log in the page: %.60s", p);
}

/* log_file - the input as a file: its name, one memory file for all inputs */

static const char *
log_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		FUZZ_ASSERT((fd = memfd_create("fuzz.jsonl", 0)) >= 0, "memfd_create");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0
		    && pwrite(fd, data, size, 0) == (ssize_t)size, "writing the log");
	return (path);
}

/* json_count - a count at the top of the JSON report */

static unsigned long
json_count(json_object *obj, const char *key)
{
	json_object *v;

	FUZZ_ASSERT(json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_int),
		    "JSON report without \"%s\"", key);
	return ((unsigned long)json_object_get_int64(v));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tp_report_opts opts = {false, 0, NULL, 0, false};
	struct tp_report *rep = tp_report_new(&opts);
	struct tp_report_totals t;
	bool	gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
	unsigned long lines = 0, no_message;
	char	why[512];
	char   *out;
	size_t	len;
	int	rc;
	json_object *obj;

	FUZZ_ASSERT(rep != NULL, "out of memory");
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	lines += size > 0 && data[size - 1] != '\n';
	rc = tp_report_read(rep, log_file(data, size), why, sizeof(why));
	FUZZ_ASSERT(rc == 0 || gzip, "tp_report_read: %s", why);
	tp_report_totals(rep, &t);
	FUZZ_ASSERT(t.left_out == 0, "%lu left out without a filter", t.left_out);
	FUZZ_ASSERT((t.first_skipped != NULL) == (t.skipped > 0), "first_skipped");
	out = printed(tp_report_print_text, rep, &len);
	check_text(out, len);
	free(out);
	out = printed(print_html, rep, &len);
	check_html(out, len);
	free(out);
	out = printed(tp_report_print_json, rep, &len);
	FUZZ_ASSERT((obj = json_tokener_parse(out)) != NULL, "JSON report does not parse");
	no_message = json_count(obj, "sessions_without_message");
	FUZZ_ASSERT(json_count(obj, "records") == t.records && json_count(obj, "skipped") == t.skipped,
		    "JSON report counts differ from the totals");
	FUZZ_ASSERT(gzip || t.records + no_message + t.skipped == lines,
		    "%lu lines, counted %lu records, %lu without a message, %lu skipped",
		    lines, t.records, no_message, t.skipped);
	json_object_put(obj);
	free(out);
	tp_report_free(rep);
	return (0);
}
