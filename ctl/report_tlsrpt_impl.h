#ifndef REPORT_TLSRPT_IMPL_H
#define REPORT_TLSRPT_IMPL_H

/*
 * NAME
 *	report_tlsrpt_impl 3h
 * SUMMARY
 *	inside tlspolicyctl report --tlsrpt: the summed reports
 * SYNOPSIS
 *	#include "ctl/report_tlsrpt_impl.h"
 *
 *	int	tp_tlsrpt_unpack(const char *buf, size_t len, char **out,
 *				 size_t *outlen, char *why, size_t whylen);
 *	int	tp_tlsrpt_add(struct tp_tlsrpt *tr, struct json_object *doc,
 *			      char *why, size_t whylen);
 * DESCRIPTION
 *	Only the report_tlsrpt*.c files include this. report_tlsrpt.c
 *	reads files and directories; tp_tlsrpt_unpack() (report_tlsrpt_mime.c)
 *	turns a file's bytes into a report's JSON text: as it is, gunzipped,
 *	or the report attached to a mail message (malloc'd *out, caller
 *	frees; 0, or -1 with why). tp_tlsrpt_add() (report_tlsrpt_sum.c)
 *	checks one parsed report against RFC 8460's schema and sums it: 1
 *	counted, 0 a duplicate, -1 refused (why), -2 out of memory.
 *	report_tlsrpt_print.c writes the sums.
 */

#include <stdbool.h>
#include <stddef.h>

#include "ctl/tp_tlsrpt.h"

struct json_object;

/* One organisation/policy entry and what it owns. */
struct trentry {
	struct tp_tlsrpt_policy pub;	/* the public part */
	char   *strings;		/* org, contact, type, domain, mx_host */
	long long first_ms;
	long long last_ms;
	char	first[40];
	char	last[40];
	struct tp_tlsrpt_row *rows[TP_TLSRPT_ROWS_MAX];
};

struct tp_tlsrpt {
	struct trentry **entries;
	size_t	nentries;
	size_t	entries_size;
	unsigned long entries_dropped;
	char  **seen;			/* "org\nreport-id" of reports counted */
	size_t	nseen;
	size_t	seen_size;
	unsigned long files;
	unsigned long reports;
	unsigned long duplicates;
	unsigned long refused;
	struct tp_tlsrpt_refused refusals[TP_TLSRPT_REFUSED_MAX];
	size_t	nrefusals;
	unsigned long successful;
	unsigned long failed;
};

extern int tp_tlsrpt_unpack(const char *, size_t, char **, size_t *, char *, size_t);
extern int tp_tlsrpt_add(struct tp_tlsrpt *, struct json_object *, char *, size_t);

#endif
