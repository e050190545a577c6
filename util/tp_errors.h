#ifndef TP_ERRORS_H
#define TP_ERRORS_H

/*
 * NAME
 *	tp_errors 3h
 * SUMMARY
 *	collect "FILE:LINE: what is wrong" diagnostics
 * SYNOPSIS
 *	#include "util/tp_errors.h"
 *
 *	void	tp_errors_init(struct tp_errors *errs);
 *	void	tp_errors_add(struct tp_errors *errs, const char *file,
 *			      unsigned long line, const char *fmt, ...);
 *	void	tp_errors_free(struct tp_errors *errs);
 * DESCRIPTION
 *	A parser reports every error it finds, not only the first, so
 *	errors are collected rather than returned. At most TP_ERRORS_KEEP
 *	messages are kept (a garbage file of a million lines must not
 *	exhaust memory); count is the total, so callers can say how many
 *	were not shown. A line of 0 means "the file as a whole".
 *
 *	If memory runs out while adding, the message is counted but not
 *	kept; count stays truthful.
 * MEMORY
 *	tp_errors_free() frees every kept message; errs can be reused
 *	after tp_errors_init().
 */

#include <stddef.h>

#define TP_ERRORS_KEEP	1000

struct tp_errors {
	char  **msgs;			/* kept messages, malloc'd */
	size_t	kept;			/* number in msgs */
	size_t	count;			/* number reported, kept or not */
};

extern void tp_errors_init(struct tp_errors *);
extern void tp_errors_add(struct tp_errors *, const char *, unsigned long,
			  const char *,...)
	__attribute__((format(printf, 4, 5)));
extern void tp_errors_free(struct tp_errors *);

#endif
