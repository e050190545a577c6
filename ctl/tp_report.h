#ifndef TP_REPORT_H
#define TP_REPORT_H

/*
 * NAME
 *	tp_report 3h
 * SUMMARY
 *	tlspolicyctl report: what the audit log says, per domain and client
 * SYNOPSIS
 *	#include "ctl/tp_report.h"
 *
 *	int	tp_report_main(int argc, char **argv);
 *
 *	struct tp_report *tp_report_new(const struct tp_report_opts *opts);
 *	int	tp_report_read(struct tp_report *rep, const char *path,
 *			       char *why, size_t whylen);
 *	void	tp_report_print_text(const struct tp_report *rep, FILE *fp);
 *	void	tp_report_print_json(const struct tp_report *rep, FILE *fp);
 *	int	tp_report_print_html(const struct tp_report *rep, FILE *fp);
 *	void	tp_report_free(struct tp_report *rep);
 *
 *	void	tp_report_totals(const struct tp_report *rep,
 *				 struct tp_report_totals *totals);
 *	const struct tp_report_stats *tp_report_find(
 *				 const struct tp_report *rep,
 *				 enum tp_report_group group, const char *key);
 *	unsigned long tp_report_version_count(const struct tp_report *rep,
 *				 const struct tp_report_stats *s,
 *				 const char *version);
 *	unsigned long tp_report_bits_count(const struct tp_report *rep,
 *				 const struct tp_report_stats *s, int bits);
 *	size_t	tp_report_days(const struct tp_report *rep,
 *			       const struct tp_report_stats *s,
 *			       struct tp_report_day days[TP_REPORT_DAYS]);
 *	int	tp_report_parse_time(const char *text, time_t now,
 *				     long long *ms, const char **why);
 *
 *	void	tp_report_attach(struct tp_report *rep,
 *				 const struct tp_maillog *ml,
 *				 const struct tp_tlsrpt *tr);
 * DESCRIPTION
 *	tp_report_main() is "tlspolicyctl report": argv[0] is "report",
 *	options and audit log names follow; it returns the exit status
 *	(0, 1 a TLSRPT file refused, 2 a log cannot be read, 64 usage).
 *	See its --help.
 *
 *	The rest is the aggregator behind it. tp_report_new() starts an
 *	empty report with filters and reading options (copied).
 *	tp_report_read() feeds every line of a file to the report, plain
 *	or gzip compressed, "-" for standard input, parsing in
 *	opts->threads worker threads. A line is counted, or left out by
 *	a filter (since, domain: totals.left_out), or skipped as
 *	malformed: not a JSON object, NUL bytes, invalid UTF-8, a wrong
 *	type, a missing field, "v" other than 1. It returns -1 with a
 *	reason in why when the file cannot be opened or read, or memory
 *	ran out (the report then holds an unknown part of it: do not
 *	print it).
 *
 *	A record counts once for its sender domain ("<>" for the null
 *	sender), once for its client address and once for each distinct
 *	recipient domain; "" stands for an unknown domain or address.
 *	TLS versions, cipher bits and certificate verification are
 *	counted over the messages that used TLS. A recipient decision at
 *	level prefer or in testing mode is a "soft" decision; if it was
 *	unmet-prefer, or fail in testing mode, require would have
 *	rejected the message: would_reject counts such messages, and the
 *	newest TP_REPORT_EXAMPLES are kept. A name with soft decisions is
 *	ready to enforce when would_reject is 0.
 *
 *	tp_report_print_text() writes aligned tables sorted by message
 *	count, descending, then the examples; every string from the log
 *	is shown with control characters escaped. tp_report_print_json()
 *	writes the same as one JSON object. tp_report_print_html() writes
 *	it as one self-contained HTML page with charts (report_html.c); it
 *	returns -1 when memory ran out, 0 otherwise.
 *
 *	tp_report_totals(), tp_report_find(), tp_report_version_count()
 *	and tp_report_bits_count() read results, for callers and tests;
 *	bits -1 counts TLS messages whose strength was unknown.
 *
 *	tp_report_days() writes the daily series of a name (s NULL: of
 *	every record) into days, oldest first, and returns how many days
 *	it wrote: every UTC day from the oldest record counted to the
 *	newest, but at most the newest TP_REPORT_DAYS of them, days
 *	without mail included. Each name keeps only that many days
 *	(memory stays bounded however long the period): a record older
 *	than a name's newest TP_REPORT_DAYS days is counted everywhere
 *	but in its series.
 *
 *	tp_report_parse_time() reads --since: RFC 3339 (2026-11-01T00:00:00Z,
 *	fractions and offsets allowed), a date (2026-11-01, midnight UTC)
 *	or an age before now ("30m", "24h", "7d"; also s and w). It
 *	returns -1 with a static reason in *why if text is none of these.
 *
 *	tp_report_attach() adds the Postfix log's section (tp_maillog(3h),
 *	--maillog) and the TLSRPT section (tp_tlsrpt(3h), --tlsrpt) to what
 *	the print functions write; NULL for none. The report does not own
 *	them.
 * DIAGNOSTICS
 *	Malformed lines are never fatal: totals.skipped counts them and
 *	totals.first_skipped says "FILE:LINE: why" for the first.
 * MEMORY
 *	The report owns everything it returns; tp_report_free() (NULL is
 *	fine) frees it all.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define TP_REPORT_EXAMPLES	3	/* kept per name: the newest */
#define TP_REPORT_VERSIONS	8	/* TLS versions counted apart */
#define TP_REPORT_BITS		12	/* cipher strengths counted apart */
#define TP_REPORT_LINE_MAX	(1024 * 1024)	/* records are <= 64 KiB */
#define TP_REPORT_STRING_MAX	2048	/* network strings are <= 1024 */
#define TP_REPORT_THREADS_MAX	8
#define TP_REPORT_DAYS		30	/* daily series kept per name: the newest */
#define TP_REPORT_HTML_ROWS	500	/* names per table of the page, at most */

enum tp_report_group {
	TP_REPORT_SENDER,		/* sender domain */
	TP_REPORT_RCPT,			/* recipient domain */
	TP_REPORT_CLIENT,		/* client address */
	TP_REPORT_NGROUPS,
};

enum tp_report_how {
	TP_REPORT_HOW_NONE,
	TP_REPORT_HOW_STARTTLS,
	TP_REPORT_HOW_IMPLICIT,
	TP_REPORT_NHOW,
};

enum tp_report_verify {
	TP_REPORT_VERIFY_NONE,
	TP_REPORT_VERIFY_OK,
	TP_REPORT_VERIFY_FAIL,
	TP_REPORT_VERIFY_UNKNOWN,
	TP_REPORT_VERIFY_OTHER,		/* a word this version does not know */
	TP_REPORT_NVERIFY,
};

struct tp_report_opts {
	bool	has_since;
	long long since_ms;		/* leave out records older than this */
	const char *domain;		/* canonical; NULL: every record */
	unsigned threads;		/* workers for tp_report_read(); 0: none */
	bool	progress;		/* "\rreading FILE: N records" on stderr */
};

/* One message that require would have rejected. NULL: null in the log. */
struct tp_report_example {
	long long ms;			/* time, in ms since the epoch */
	const char *time;		/* as written */
	const char *session;
	const char *queue_id;
	const char *client_addr;
	const char *client_name;
	const char *sender;
	const char *rcpt;		/* the recipient it would have refused */
	const char *reason;
};

/* Everything counted for one sender domain, recipient domain or client. */
struct tp_report_stats {
	const char *key;		/* domain or address; "": unknown */
	const char *name;		/* clients: verified host name, or NULL */
	unsigned long messages;
	unsigned long tls;		/* messages over TLS */
	unsigned long how[TP_REPORT_NHOW];
	unsigned long verify[TP_REPORT_NVERIFY];	/* TLS messages */
	unsigned long versions[TP_REPORT_VERSIONS + 1];	/* last: other */
	unsigned long bits[TP_REPORT_BITS + 1];		/* last: other */
	int	min_bits;		/* -1: no TLS message with known bits */
	unsigned long soft;		/* messages with prefer/testing decisions */
	unsigned long would_reject;	/* ... that require would have rejected */
	const struct tp_report_example *examples[TP_REPORT_EXAMPLES];
	size_t	nexamples;		/* newest first */
};

/* One UTC day of a name's mail. */
struct tp_report_day {
	long long day;			/* days since 1970-01-01 */
	unsigned long messages;
	unsigned long tls;		/* messages over TLS */
};

struct tp_report_totals {
	unsigned long records;		/* counted */
	unsigned long left_out;		/* by the since or domain filter */
	unsigned long skipped;		/* malformed lines */
	const char *first_skipped;	/* "FILE:LINE: why", or NULL */
	bool	has_period;		/* records > 0 */
	long long first_ms;		/* oldest record counted */
	long long last_ms;		/* newest record counted */
	size_t	names[TP_REPORT_NGROUPS];	/* distinct names per group */
};

struct tp_report;
struct tp_maillog;
struct tp_tlsrpt;

extern int tp_report_main(int, char **);
extern struct tp_report *tp_report_new(const struct tp_report_opts *);
extern int tp_report_read(struct tp_report *, const char *, char *, size_t);
extern void tp_report_print_text(const struct tp_report *, FILE *);
extern void tp_report_print_json(const struct tp_report *, FILE *);
extern int tp_report_print_html(const struct tp_report *, FILE *);
extern void tp_report_free(struct tp_report *);
extern void tp_report_totals(const struct tp_report *, struct tp_report_totals *);
extern const struct tp_report_stats *tp_report_find(const struct tp_report *,
					enum tp_report_group, const char *);
extern unsigned long tp_report_version_count(const struct tp_report *,
				const struct tp_report_stats *, const char *);
extern unsigned long tp_report_bits_count(const struct tp_report *,
				const struct tp_report_stats *, int);
extern size_t tp_report_days(const struct tp_report *,
			     const struct tp_report_stats *,
			     struct tp_report_day *);
extern int tp_report_parse_time(const char *, time_t, long long *, const char **);
extern void tp_report_attach(struct tp_report *, const struct tp_maillog *,
			     const struct tp_tlsrpt *);

#endif
