/*
 * NAME
 *	escape 3
 * SUMMARY
 *	make untrusted text safe for one log field or header value
 * DESCRIPTION
 *	See tp_escape.h. A client controls its HELO name, its addresses
 *	and its certificate names: none of them may start a new log line
 *	or a new field.
 */

#include <string.h>

#include "util/tp_escape.h"

/* escape_one - the escaped form of one byte into enc; its length */

static size_t
escape_one(unsigned char c, char *enc)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		enc[0] = '\\';
		enc[1] = (char)c;
		return (2);
	}
	if (c < 0x20 || c >= 0x7f) {
		enc[0] = '\\';
		enc[1] = 'x';
		enc[2] = hex[c >> 4];
		enc[3] = hex[c & 15];
		return (4);
	}
	enc[0] = (char)c;
	return (1);
}

/* tp_escape - printable ASCII, quotes and backslashes escaped, capped */

const char *
tp_escape(const char *in, char *out, size_t size)
{
	char	enc[4];
	size_t	total = 0;
	size_t	room;
	size_t	o = 0;

	if (size == 0)
		return (out);
	for (const char *p = in; p != NULL && *p != 0; p++) {
		unsigned char c = (unsigned char)*p;

		total += c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? 1 : escape_one(c, enc);
	}
	/* Nearly every value needs no escaping and fits: one copy. */
	if (in != NULL && total <= size - 1 && total == strlen(in)) {
		memcpy(out, in, total + 1);
		return (out);
	}
	/* What does not fit whole is cut between escapes and marked "...". */
	room = total <= size - 1 ? size - 1 : size - 1 >= 3 ? size - 4 : 0;
	for (; in != NULL && *in != 0; in++) {
		size_t	n = escape_one((unsigned char)*in, enc);

		if (o + n > room)
			break;
		memcpy(out + o, enc, n);
		o += n;
	}
	if (total > size - 1 && size - 1 >= 3) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return (out);
}

/* hexval - value of a hex digit, or -1 */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* tp_xtext_decode - undo "+HH" encoding */

const char *
tp_xtext_decode(const char *in, char *out, size_t size)
{
	size_t	o = 0;

	if (size == 0)
		return (out);
	for (; in != NULL && *in != 0 && o < size - 1; in++) {
		int	hi, lo;

		if (*in == '+' && (hi = hexval(in[1])) >= 0 && (lo = hexval(in[2])) >= 0
		    && (hi << 4 | lo) != 0) {
			out[o++] = (char)(hi << 4 | lo);
			in += 2;
		} else
			out[o++] = *in;
	}
	out[o] = 0;
	return (out);
}
