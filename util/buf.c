/*
 * NAME
 *	buf 3
 * SUMMARY
 *	a bounded string builder
 * DESCRIPTION
 *	See tp_buf.h.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/tp_buf.h"
#include "util/tp_escape.h"

/* tp_buf_addu - append a number in decimal */

void
tp_buf_addu(struct tp_buf *b, unsigned long v)
{
	char	digits[24];
	size_t	i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tp_buf_add(b, digits + i, sizeof(digits) - i);
}

/* tp_buf_addi - append a signed number in decimal */

void
tp_buf_addi(struct tp_buf *b, long v)
{
	if (v < 0) {
		tp_buf_add(b, "-", 1);
		/* Negate in unsigned arithmetic: LONG_MIN has no positive twin. */
		tp_buf_addu(b, 0UL - (unsigned long)v);
	} else {
		tp_buf_addu(b, (unsigned long)v);
	}
}

/* tp_buf_addf - append formatted text */

void
tp_buf_addf(struct tp_buf *b, const char *fmt,...)
{
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->buf[b->len] = 0;
		return;
	}
	if ((size_t)n >= b->size - b->len) {
		b->len = b->size - 1;
		b->full = true;
	} else {
		b->len += (size_t)n;
	}
}

/* add_escaped - append s escaped for kind, at most cap - 1 bytes of it */

static void
add_escaped(struct tp_buf *b, enum tp_escape_kind kind, const char *s, size_t cap)
{
	size_t	room = b->size - b->len;
	bool	cut;

	/* Escape straight into the array: no copy of the common case. */
	b->len += tp_escape(kind, s, b->buf + b->len, cap < room ? cap : room, &cut);
	if (cut && cap >= room)
		b->full = true;
}

/* tp_buf_add_log - append untrusted text as a log value, escaped and capped */

void
tp_buf_add_log(struct tp_buf *b, const char *s)
{
	if (s != NULL)
		add_escaped(b, TP_ESCAPE_LOG, s, TP_FIELD_MAX);
}

/* tp_buf_add_json - append untrusted text as a JSON string, or null */

void
tp_buf_add_json(struct tp_buf *b, const char *s)
{
	if (s == NULL) {
		tp_buf_add(b, "null", 4);
		return;
	}
	tp_buf_add(b, "\"", 1);
	add_escaped(b, TP_ESCAPE_JSON, s, SIZE_MAX);
	tp_buf_add(b, "\"", 1);
}
