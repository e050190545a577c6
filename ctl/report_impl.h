#ifndef REPORT_IMPL_H
#define REPORT_IMPL_H

/*
 * NAME
 *	report_impl 3h
 * SUMMARY
 *	inside tlspolicyctl report: batches, facts, per-name tables
 * SYNOPSIS
 *	#include "ctl/report_impl.h"
 *
 *	const char *tp_report_format_ms(long long ms, char *buf, size_t size);
 *	int	tp_report_rfc3339(const char *text, long long *ms);
 *
 *	struct json_tokener *tp_report_tokener(void);
 *	void	tp_report_parse_batch(struct batch *b,
 *				      struct json_tokener *tok);
 *	void	tp_report_batch_free(struct batch *b);
 *
 *	int	tp_report_aggregate(struct tp_report *rep,
 *				    const struct fact *f,
 *				    const struct rfact *rcpts);
 *	void	tp_report_skipped(struct tp_report *rep, const char *file,
 *				  unsigned long lineno, const char *why);
 * DESCRIPTION
 *	Only the report*.c files include this (and import_stle.c, for
 *	tp_report_rfc3339). A record travels through
 *	them in this order:
 *
 *	report_read.c fills a struct batch with whole lines of a file
 *	and hands it to a worker thread; report_parse.c turns each line
 *	into a struct fact and its recipients' struct rfact, strings in
 *	the batch's arena, or why the line is malformed; report.c counts
 *	facts into a struct entry per name, in one struct table per
 *	group; report_print.c writes the tables as text or JSON;
 *	report_cmd.c is the command around it all. report_time.c reads
 *	and writes the times.
 *
 *	tp_report_format_ms() writes RFC 3339 UTC with milliseconds into
 *	buf and returns it. tp_report_rfc3339() reads an RFC 3339 time,
 *	the whole string, into ms since the epoch: 0, or -1.
 *
 *	tp_report_tokener() is a json_tokener set up for audit records
 *	(NULL: out of memory). tp_report_parse_batch() empties a batch
 *	and parses every line of b->text, numbering them from 0 (tok
 *	NULL: the batch is out of memory); it sets b->nomem when memory
 *	ran out.
 *	tp_report_batch_free() frees what a batch holds, not the batch.
 *
 *	tp_report_aggregate() counts one record: 1, 0 when a filter left
 *	it out (or the session had no message), -2 out of memory.
 *	tp_report_skipped() counts a malformed line and keeps the first
 *	one's "FILE:LINE: why".
 *
 * MEMORY
 *	A batch's strings live in its arena until the batch is parsed
 *	again; entries and their examples live until tp_report_free().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/tp_report.h"
#include "util/tp_escape.h"

#define VERSION_NAME_MAX 32		/* longer TLS version names: other */
#define NAME_SHOW_MAX	300		/* bytes of a name shown in the text */

#define BATCH_PARTIAL	1		/* the last line has no newline */
#define BATCH_OVERLONG	2		/* one line too long to hold */

struct json_tokener;
struct arena_block;			/* report_parse.c */

/* What the report needs of one recipient. */
struct rfact {
	const char *addr;
	const char *domain;		/* canonical, or NULL */
	const char *reason;		/* or NULL */
	bool	soft;			/* level prefer, or testing */
	bool	would;			/* require would have rejected it */
};

/* What the report needs of one record, or why it was skipped. */
struct fact {
	unsigned long line;		/* 0-based, in its batch */
	const char *why;		/* malformed: why; NULL: a record */
	long long ms;
	const char *time;
	const char *session;
	const char *queue_id;
	const char *client_addr;
	const char *client_name;
	const char *sender;
	const char *sender_domain;	/* canonical, or NULL */
	const char *version;		/* TLS version, or NULL */
	int	bits;			/* -1: null */
	unsigned char how;		/* enum tp_report_how */
	unsigned char verify;		/* enum tp_report_verify */
	size_t	rcpt0;			/* first recipient in batch->rcpts */
	size_t	nrcpts;
};

/* Strings that live as long as their batch. */
struct arena {
	struct arena_block *head;
	struct arena_block *cur;
};

/* Whole lines, and what they were parsed into. */
struct batch {
	char   *text;			/* BATCH_SIZE bytes; NULL: single lines */
	size_t	len;
	int	flags;			/* BATCH_PARTIAL, BATCH_OVERLONG */
	int	state;			/* BATCH_FREE ... (report_read.c) */
	unsigned long seq;		/* order of submission */
	bool	pending;		/* submitted, not collected (reader only) */
	unsigned long nlines;		/* lines in text, set by the parser */
	struct fact *facts;
	size_t	nfacts;
	size_t	facts_size;
	struct rfact *rcpts;
	size_t	nrcpts;
	size_t	rcpts_size;
	struct arena arena;
	bool	nomem;
};

/* One name's counts, and what aggregation needs besides. */
struct entry {
	struct tp_report_stats s;	/* the public part */
	struct tp_report_example *ex[TP_REPORT_EXAMPLES];
	char   *name;			/* s.name */
	uint64_t hash;
	unsigned long seen;		/* serial of the last record counted */
	unsigned long soft_seen;
	unsigned long reject_seen;
	char	key[];			/* s.key */
};

struct table {
	struct entry **slots;		/* open addressing, linear probing */
	size_t	size;			/* a power of two, or 0 */
	size_t	count;
};

struct tp_report {
	struct tp_report_opts opts;	/* opts.domain: points to domain */
	char   *domain;
	size_t	domain_len;
	struct table tables[TP_REPORT_NGROUPS];
	char	versions[TP_REPORT_VERSIONS][VERSION_NAME_MAX + 1];
	size_t	nversions;
	int	bits[TP_REPORT_BITS];	/* -1: unknown */
	size_t	nbits;
	unsigned long records;		/* also the current record's serial */
	unsigned long left_out;
	unsigned long no_message;	/* records of sessions without a message */
	unsigned long skipped;
	char   *first_skipped;
	bool	has_period;
	long long first_ms;
	long long last_ms;
	char  **files;			/* read with tp_report_read */
	size_t	nfiles;
	bool	nomem;
	double	started;		/* first tp_report_read */
	double	shown;			/* last progress update */
	int	shown_width;		/* its width; 0: nothing shown */
};

/* The words of the log, by enum tp_report_how and tp_report_verify. */
extern const char *const tp_report_how_names[TP_REPORT_NHOW];
extern const char *const tp_report_verify_names[TP_REPORT_NVERIFY];

/* report_time.c */
extern const char *tp_report_format_ms(long long, char *, size_t);
extern int tp_report_rfc3339(const char *, long long *);

/* report_parse.c */
extern struct json_tokener *tp_report_tokener(void);
extern void tp_report_parse_batch(struct batch *, struct json_tokener *);
extern void tp_report_batch_free(struct batch *);

/* report.c */
extern int tp_report_aggregate(struct tp_report *, const struct fact *,
			       const struct rfact *);
extern void tp_report_skipped(struct tp_report *, const char *,
			      unsigned long, const char *);

#endif
