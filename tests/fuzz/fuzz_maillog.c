/*
 * NAME
 *	fuzz_maillog 1
 * SUMMARY
 *	libFuzzer target: the Postfix log reader of tlspolicyctl report
 * SYNOPSIS
 *	fuzz_maillog [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is a piece of Postfix log, or anything: its lines (cut
 *	at each newline) go through tp_maillog_line() (ctl/report_maillog.c),
 *	then tp_maillog_finish(), and the section is printed both ways.
 *
 *	Every line is counted once; the clients' sessions and failures add
 *	up to the totals (with those of the clients beyond the cap), the
 *	failures by reason to the failures; a client never failed more
 *	sessions than it had. The text must be valid UTF-8 with no control
 *	character but newline and no C1 control; the JSON must parse.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/tp_maillog.h"
#include "policy/tp_names.h"
#include "tests/fuzz/fuzz.h"

/* check_sums - the clients add up to the totals */

static void
check_sums(const struct tp_maillog *ml)
{
	struct tp_maillog_totals t;
	const struct tp_maillog_client **v;
	unsigned long sessions = 0, failed = 0, reasons = 0;
	size_t	n;

	tp_maillog_totals(ml, &t);
	FUZZ_ASSERT((v = tp_maillog_sorted(ml, &n)) != NULL, "out of memory");
	FUZZ_ASSERT(n == t.clients, "%zu clients listed, %zu counted", n, t.clients);
	for (size_t i = 0; i < n; i++) {
		unsigned long r = 0;

		for (int k = 0; k < TP_MAILLOG_NREASONS; k++)
			r += v[i]->reasons[k];
		FUZZ_ASSERT(r == v[i]->failed && v[i]->failed <= v[i]->sessions
			    && v[i]->tls <= v[i]->sessions, "client %s counts", v[i]->addr);
		FUZZ_ASSERT(tp_maillog_find(ml, v[i]->addr) == v[i], "find %s", v[i]->addr);
		sessions += v[i]->sessions;
		failed += v[i]->failed;
	}
	for (int k = 0; k < TP_MAILLOG_NREASONS; k++)
		reasons += t.reasons[k];
	FUZZ_ASSERT(sessions + t.other_sessions == t.sessions, "sessions do not add up");
	FUZZ_ASSERT(failed + t.other_failed == t.failed && reasons == t.failed,
		    "failures do not add up");
	FUZZ_ASSERT((t.first_skipped != NULL) == (t.skipped > 0), "first_skipped");
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_maillog *ml = tp_maillog_new();
	struct tp_maillog_totals t;
	const char *p = (const char *)data, *end = p + size, *nl;
	unsigned long lines = 0;
	char   *out = NULL;
	size_t	len = 0;
	FILE   *fp;
	json_object *obj;

	FUZZ_ASSERT(ml != NULL, "out of memory");
	for (; p < end; p = nl + 1, lines++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		tp_maillog_line(ml, p, (size_t)(nl - p));
	}
	tp_maillog_finish(ml);
	tp_maillog_totals(ml, &t);
	FUZZ_ASSERT(t.lines == lines, "%lu lines, %lu counted", lines, t.lines);
	check_sums(ml);
	FUZZ_ASSERT((fp = open_memstream(&out, &len)) != NULL, "open_memstream");
	tp_maillog_print_text(ml, NULL, fp);
	FUZZ_ASSERT(fclose(fp) == 0 && out != NULL, "out of memory");
	FUZZ_ASSERT(fuzz_no_control(out, len, "\n") && fuzz_no_c1(out, len)
		    && tp_utf8_valid(out, len), "text not safe for a terminal");
	free(out);
	FUZZ_ASSERT((fp = open_memstream(&out, &len)) != NULL, "open_memstream");
	tp_maillog_print_json(ml, NULL, fp);
	FUZZ_ASSERT(fclose(fp) == 0 && out != NULL, "out of memory");
	FUZZ_ASSERT((obj = json_tokener_parse(out)) != NULL, "JSON does not parse");
	json_object_put(obj);
	free(out);
	tp_maillog_free(ml);
	return (0);
}
