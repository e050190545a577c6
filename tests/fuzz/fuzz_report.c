/*
 * NAME
 *	fuzz_report 1
 * SUMMARY
 *	libFuzzer target: the audit log reader of tlspolicyctl report
 * SYNOPSIS
 *	fuzz_report [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is a piece of audit log: lines of JSON, or anything. Each
 *	line goes to tp_report_line() (ctl/report.c, which parses it with
 *	ctl/report_parse.c and counts it), as tlspolicyctl report does,
 *	and then the report is printed both ways.
 *
 *	Every line must be counted once: as a record, as a session
 *	without mail, or skipped; the text output, where every string from the log is
 *	shown through tp_report_display(), must be valid UTF-8 with no
 *	control character but newline and no C1 control, so that no
 *	record can drive the admin's terminal; the JSON output must parse.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tp_report_opts opts = {false, 0, NULL, 0, false};
	struct tp_report *rep = tp_report_new(&opts);
	struct tp_report_totals t;
	const char *s = (const char *)data, *end = s + size, *nl;
	unsigned long lines = 0, counted = 0, skipped = 0;
	char   *out;
	size_t	len;
	json_object *obj;

	FUZZ_ASSERT(rep != NULL, "out of memory");
	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		switch (tp_report_line(rep, s, (size_t)(nl - s), "fuzz.jsonl", ++lines)) {
		case 1:
			counted++;
			break;
		case 0:			/* no filter here: a session without mail */
			break;
		case -1:
			skipped++;
			break;
		default:
			FUZZ_ASSERT(0, "line %lu: out of memory", lines);
		}
	}
	tp_report_totals(rep, &t);
	FUZZ_ASSERT(t.records == counted && t.left_out == 0 && t.skipped == skipped,
		    "totals %lu/%lu/%lu, want %lu/0/%lu", t.records, t.left_out, t.skipped,
		    counted, skipped);
	FUZZ_ASSERT((t.first_skipped != NULL) == (skipped > 0), "first_skipped");
	out = printed(tp_report_print_text, rep, &len);
	check_text(out, len);
	free(out);
	out = printed(tp_report_print_json, rep, &len);
	FUZZ_ASSERT((obj = json_tokener_parse(out)) != NULL, "JSON report does not parse");
	json_object_put(obj);
	free(out);
	tp_report_free(rep);
	return (0);
}
