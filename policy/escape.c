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

#include "tp_escape.h"

/* tp_escape - printable ASCII, quotes and backslashes escaped, capped */

const char *
tp_escape(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t	o = 0;

	if (size == 0)
		return (out);
	for (; in != NULL && *in != 0; in++) {
		unsigned char c = (unsigned char)*in;
		char	enc[4];
		size_t	n;

		if (c == '"' || c == '\\') {
			enc[0] = '\\';
			enc[1] = (char)c;
			n = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			enc[0] = '\\';
			enc[1] = 'x';
			enc[2] = hex[c >> 4];
			enc[3] = hex[c & 15];
			n = 4;
		} else {
			enc[0] = (char)c;
			n = 1;
		}
		/* Keep room for "..." unless this is the last byte. */
		if (o + n + (in[1] ? 3 : 0) > size - 1) {
			if (size > 4) {
				while (o + 3 > size - 1)
					o--;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, enc, n);
		o += n;
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
