#ifndef TP_ESCAPE_H
#define TP_ESCAPE_H

/*
 * NAME
 *	tp_escape 3h
 * SUMMARY
 *	make untrusted text safe for one log field or header value
 * SYNOPSIS
 *	#include "util/tp_escape.h"
 *
 *	const char *tp_escape(const char *in, char *out, size_t size);
 *	const char *tp_xtext_decode(const char *in, char *out, size_t size);
 * DESCRIPTION
 *	tp_escape() copies at most size - 1 bytes of in to out so that
 *	the result is printable ASCII that cannot end a line or a field:
 *	CR, LF, NUL and every other control byte, DEL and bytes >= 0x80
 *	become \xHH; a double quote and a backslash become \" and \\.
 *	Spaces are kept: callers write every value in double quotes.
 *	Output that would not fit is cut between escapes and ends in
 *	"...". NULL in gives "". Returns out.
 *
 *	tp_xtext_decode() undoes Sendmail's xtext (RFC 3461 "+HH") in
 *	certificate names; a malformed "+" is kept as it is.
 */

#include <stddef.h>

#define TP_FIELD_MAX	256		/* bytes of one escaped value */

extern const char *tp_escape(const char *, char *, size_t);
extern const char *tp_xtext_decode(const char *, char *, size_t);

#endif
