#ifndef TP_MILTER_LOG_H
#define TP_MILTER_LOG_H

/*
 * NAME
 *	tp_log 3h
 * SUMMARY
 *	the daemon's log: syslog, and a copy on standard error
 * SYNOPSIS
 *	#include "milter/tp_log.h"
 *
 *	int	tp_log_facility(const char *name);
 *	void	tp_log_open(int facility, int stderr_upto);
 *	void	tp_log_stderr(int stderr_upto);
 *	void	tp_log(int pri, const char *fmt, ...);
 *	void	tp_log_text(int pri, const char *line, size_t len);
 * DESCRIPTION
 *	tp_log_facility() maps a syslog facility name ("mail", "daemon",
 *	"user", "local0" ... "local7", any case) to its LOG_* value.
 *
 *	tp_log_open() is called once, before any thread starts: with a
 *	facility (>= 0) lines go to syslog (openlog with LOG_PID and
 *	LOG_NDELAY), with -1 they do not. Lines of priority stderr_upto
 *	or more urgent are copied to standard error (-1: none), except
 *	when syslog is on and standard error is systemd's journal
 *	($JOURNAL_STREAM names it), which has the syslog copy already.
 *	tp_log_stderr() changes that threshold later (a daemon that
 *	detaches stops writing to the terminal it came from); it is
 *	safe while other threads log.
 *
 *	tp_log() formats one line (at most TP_LOG_LINE_MAX - 1 bytes,
 *	cut beyond); tp_log_text() logs a finished line of len bytes,
 *	NUL-terminated. Each stderr copy is one write(2), so that lines
 *	of different threads never mix. Both are thread-safe.
 *
 *	Before tp_log_open() lines go to syslog with its defaults.
 * DIAGNOSTICS
 *	None: a line that cannot be written is lost.
 * MEMORY
 *	Nothing to free; the caller keeps its strings.
 */

#include <stddef.h>

#define TP_LOG_LINE_MAX	8192		/* bytes of one formatted line */

extern int tp_log_facility(const char *);
extern void tp_log_open(int, int);
extern void tp_log_stderr(int);
extern void tp_log(int, const char *,...) __attribute__((format(printf, 2, 3)));
extern void tp_log_text(int, const char *, size_t);

#endif
