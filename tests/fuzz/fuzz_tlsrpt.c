/*
 * NAME
 *	fuzz_tlsrpt 1
 * SUMMARY
 *	libFuzzer target: the TLSRPT report reader of tlspolicyctl report
 * SYNOPSIS
 *	fuzz_tlsrpt [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is one report file's bytes: JSON, gzip, a mail message,
 *	or anything. It goes through tp_tlsrpt_read_buf()
 *	(ctl/report_tlsrpt.c: GMime, zlib, json-c, the schema checks),
 *	then the section is printed both ways.
 *
 *	A file is counted once: as a report, or refused with a reason that
 *	names it, and then nothing of it is summed. Within each policy the
 *	failed sessions by result type equal the rows' sessions plus those
 *	of the rows not kept. The text must be valid UTF-8 with no control
 *	character but newline and no C1 control; the JSON must parse.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/tp_tlsrpt.h"
#include "policy/tp_names.h"
#include "tests/fuzz/fuzz.h"

/* check_sums - each policy's rows add up to its results */

static void
check_sums(const struct tp_tlsrpt *tr)
{
	const struct tp_tlsrpt_policy **v;
	size_t	n;

	FUZZ_ASSERT((v = tp_tlsrpt_sorted(tr, &n)) != NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		unsigned long results = 0, rows = v[i]->rows_dropped;

		for (int r = 0; r < TP_TLSRPT_NRESULTS; r++)
			results += v[i]->results[r];
		for (size_t j = 0; j < v[i]->nrows; j++) {
			rows += v[i]->rows[j]->sessions;
			FUZZ_ASSERT(j == 0 || v[i]->rows[j - 1]->sessions >= v[i]->rows[j]->sessions,
				    "rows not sorted");
		}
		FUZZ_ASSERT(results == rows, "results %lu, rows %lu", results, rows);
	}
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_tlsrpt *tr = tp_tlsrpt_new();
	struct tp_tlsrpt_totals t;
	char	why[1024], *out = NULL;
	size_t	len = 0;
	FILE   *fp;
	json_object *obj;
	int	rc;

	FUZZ_ASSERT(tr != NULL, "out of memory");
	rc = tp_tlsrpt_read_buf(tr, "fuzz", (const char *)data, size, why, sizeof(why));
	tp_tlsrpt_totals(tr, &t);
	FUZZ_ASSERT(t.files == 1 && t.reports + t.duplicates + t.refused == 1, "counted once");
	if (rc < 0)
		FUZZ_ASSERT(t.refused == 1 && strncmp(why, "fuzz: ", 6) == 0 && t.entries == 0
			    && t.successful == 0 && t.failed == 0, "refused: %s", why);
	else
		FUZZ_ASSERT(rc == 0 && t.reports == 1, "rc %d", rc);
	check_sums(tr);
	FUZZ_ASSERT((fp = open_memstream(&out, &len)) != NULL, "open_memstream");
	tp_tlsrpt_print_text(tr, fp);
	FUZZ_ASSERT(fclose(fp) == 0 && out != NULL, "out of memory");
	FUZZ_ASSERT(fuzz_no_control(out, len, "\n") && fuzz_no_c1(out, len)
		    && tp_utf8_valid(out, len), "text not safe for a terminal");
	free(out);
	FUZZ_ASSERT((fp = open_memstream(&out, &len)) != NULL, "open_memstream");
	tp_tlsrpt_print_json(tr, fp);
	FUZZ_ASSERT(fclose(fp) == 0 && out != NULL, "out of memory");
	FUZZ_ASSERT((obj = json_tokener_parse(out)) != NULL, "JSON does not parse");
	json_object_put(obj);
	free(out);
	tp_tlsrpt_free(tr);
	return (0);
}
