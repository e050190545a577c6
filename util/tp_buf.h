#ifndef TP_BUF_H
#define TP_BUF_H

/*
 * NAME
 *	tp_buf 3h
 * SUMMARY
 *	a bounded string builder for log lines, headers and JSON
 * SYNOPSIS
 *	#include "util/tp_buf.h"
 *
 *	struct tp_buf b = TP_BUF(array, sizeof(array));
 *
 *	void	tp_buf_add(struct tp_buf *b, const char *s, size_t n);
 *	void	TP_BUF_LIT(struct tp_buf *b, "string literal");
 *	void	tp_buf_adds(struct tp_buf *b, const char *s);
 *	void	tp_buf_addu(struct tp_buf *b, unsigned long v);
 *	void	tp_buf_addi(struct tp_buf *b, long v);
 *	void	tp_buf_addf(struct tp_buf *b, const char *fmt, ...);
 *	void	tp_buf_add_log(struct tp_buf *b, const char *s);
 *	void	tp_buf_add_json(struct tp_buf *b, const char *s);
 * DESCRIPTION
 *	Appends never write past the array and always leave it
 *	NUL-terminated; what does not fit is cut and b->full is set, so a
 *	caller that must not emit a cut record can tell. The array (at
 *	least one byte) belongs to the caller. A struct tp_buf made by
 *	hand rather than with TP_BUF() must have len < size.
 *
 *	The decision record is formatted for every message, so the
 *	common appends (bytes, strings, numbers) copy directly instead of
 *	going through printf; tp_buf_addf() is for the rare rest.
 *	TP_BUF_LIT() appends a string literal, its length counted by
 *	the compiler (sizeof), not by hand.
 *
 *	tp_buf_add_log() appends s escaped as a log value (tp_escape(3h),
 *	TP_ESCAPE_LOG), cut with "..." at TP_FIELD_MAX - 1 bytes; NULL
 *	appends nothing. tp_buf_add_json() appends s as a JSON string,
 *	quotes included (TP_ESCAPE_JSON), or null for NULL. Both escape
 *	straight into the array; what the array cannot hold sets b->full.
 */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct tp_buf {
	char   *buf;
	size_t	size;			/* of buf, terminator included */
	size_t	len;			/* bytes before the terminator */
	bool	full;			/* something was cut */
};

#define TP_BUF(array, size)	{(array), (size), 0, false}

/* tp_buf_add - append n bytes, or as many as fit (inline: called per field) */

static inline void
tp_buf_add(struct tp_buf *b, const char *s, size_t n)
{
	size_t	room = b->size - 1 - b->len;

	if (n > room) {
		n = room;
		b->full = true;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = 0;
}

/* TP_BUF_LIT - append a string literal ("" makes anything else an error) */

#define TP_BUF_LIT(b, lit)	tp_buf_add((b), "" lit, sizeof(lit) - 1)

/* tp_buf_adds - append a string */

static inline void
tp_buf_adds(struct tp_buf *b, const char *s)
{
	tp_buf_add(b, s, strlen(s));
}

extern void tp_buf_addu(struct tp_buf *, unsigned long);
extern void tp_buf_addi(struct tp_buf *, long);
extern void tp_buf_addf(struct tp_buf *, const char *,...)
	__attribute__((format(printf, 2, 3)));
extern void tp_buf_add_log(struct tp_buf *, const char *);
extern void tp_buf_add_json(struct tp_buf *, const char *);

#endif
