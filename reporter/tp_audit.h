#ifndef TP_AUDIT_H
#define TP_AUDIT_H

/*
 * NAME
 *	tp_audit 3h
 * SUMMARY
 *	the JSON-lines audit log: one record per message, never blocking
 * SYNOPSIS
 *	#include "reporter/tp_audit.h"
 *
 *	size_t	tp_audit_format(const struct tp_record_text *t,
 *				const struct timespec *when,
 *				char *buf, size_t size);
 *
 *	struct tp_audit *tp_audit_open(const char *path, size_t queue_bytes,
 *				       void (*warn)(const char *));
 *	int	tp_audit_submit(struct tp_audit *log, const char *line,
 *				size_t len);
 *	void	tp_audit_reopen(struct tp_audit *log);
 *	void	tp_audit_stats(struct tp_audit *log,
 *			       struct tp_audit_counts *counts);
 *	void	tp_audit_flush(struct tp_audit *log);
 *	void	tp_audit_close(struct tp_audit *log);
 * DESCRIPTION
 *	tp_audit_format() writes one record, prepared with
 *	tp_record_prepare() (schema version 1, see the README) as one line
 *	of JSON ending in a newline, and returns its
 *	length; at most size - 1 bytes (records are capped: recipients
 *	that do not fit are left out and counted in "rcpts_dropped").
 *	Every string is JSON-escaped (TP_ESCAPE_JSON) and capped; bytes
 *	that are not UTF-8 become \u00XX, so the line is valid JSON and
 *	valid UTF-8 whatever the client sent.
 *
 *	The writer never blocks mail: tp_audit_submit() copies the line
 *	into a bounded in-memory queue and returns; a thread of the log's
 *	own writes the queue to the file. When the queue is full, or the
 *	file cannot be written (disk full, permissions, directory gone),
 *	records are dropped and counted, and warn() is called at most
 *	once a minute. A record is written whole or not at all: after a
 *	failed or short write the file is cut back to where it was.
 *
 *	tp_audit_reopen() asks the writer to reopen the file (after log
 *	rotation); it is safe in any thread. tp_audit_stats() reads the
 *	counters without waiting; tp_audit_flush() waits until what was
 *	queued so far is written or counted lost (tests, shutdown). tp_audit_close() writes what
 *	is queued, stops the thread and frees the log.
 */

#include <stddef.h>
#include <time.h>

#include "reporter/tp_record.h"

#define TP_AUDIT_RECORD_MAX	(64 * 1024)

struct tp_audit_counts {
	unsigned long long written;	/* records written */
	unsigned long long lost;	/* records dropped: queue full or I/O error */
	unsigned long long reopens;	/* successful reopens */
};

struct tp_audit;

extern size_t tp_audit_format(const struct tp_record_text *, const struct timespec *,
			      char *, size_t);
extern struct tp_audit *tp_audit_open(const char *, size_t, void (*) (const char *));
extern int tp_audit_submit(struct tp_audit *, const char *, size_t);
extern void tp_audit_reopen(struct tp_audit *);
extern void tp_audit_stats(struct tp_audit *, struct tp_audit_counts *);
extern void tp_audit_flush(struct tp_audit *);
extern void tp_audit_close(struct tp_audit *);

#endif
