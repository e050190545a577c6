/*
 * NAME
 *	escape 3
 * SUMMARY
 *	make untrusted text safe for one output: log, JSON, reply, terminal,
 *	HTML
 * DESCRIPTION
 *	See tp_escape.h. One table and one function classify text; each
 *	kind of output is a row of actions, one per class, and one engine
 *	writes every kind, so the kinds differ only where their row says.
 */

#include <stdint.h>
#include <string.h>

#include "util/tp_escape.h"

/* What a byte, or the character it starts, is. */
enum class {
	CL_PLAIN,			/* printable ASCII but % " \ & < > ' */
	CL_PERCENT,			/* % */
	CL_QUOTE,			/* " */
	CL_BACKSLASH,			/* \ */
	CL_CONTROL,			/* 0x00-0x1f, DEL */
	CL_HIGH,			/* 0x80-0xff: classify() decodes it */
	CL_TEXT,			/* a valid UTF-8 character, none below */
	CL_C1,				/* U+0080-U+009F */
	CL_SEPARATOR,			/* U+2028, U+2029 */
	CL_INVALID,			/* a byte that does not start UTF-8 */
	CL_MARKUP,			/* & < > ': HTML gives them a meaning */
	CL_COUNT,
};

#define P	CL_PLAIN
#define C	CL_CONTROL
#define H	CL_HIGH
#define M	CL_MARKUP
#define ROW(x)	x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x

static const unsigned char byte_class[256] = {
	ROW(C), ROW(C),
	P, P, CL_QUOTE, P, P, CL_PERCENT, M, M, P, P, P, P, P, P, P, P,
	P, P, P, P, P, P, P, P, P, P, P, P, M, P, M, P,
	ROW(P),
	P, P, P, P, P, P, P, P, P, P, P, P, CL_BACKSLASH, P, P, P,
	ROW(P),
	P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, C,
	ROW(H), ROW(H), ROW(H), ROW(H), ROW(H), ROW(H), ROW(H), ROW(H),
};

#undef P
#undef C
#undef H
#undef M
#undef ROW

/* How a kind writes a class. */
enum action {
	KEEP,				/* the bytes as they are */
	DECODE,				/* CL_HIGH only: classify first */
	BACKSLASH,			/* \ and the byte */
	HEX,				/* \xHH for each byte */
	UNICODE,			/* \u and four hex digits of the code point */
	QUESTION,			/* ? for each byte */
	ENTITY,				/* an HTML character reference */
};

static const struct kind {
	unsigned char how[CL_COUNT];
	size_t	inmax;			/* bytes of input read */
}	kinds[] = {
	[TP_ESCAPE_LOG] = {{KEEP, KEEP, BACKSLASH, BACKSLASH, HEX, DECODE,
	HEX, HEX, HEX, HEX, KEEP}, SIZE_MAX},
	[TP_ESCAPE_JSON] = {{KEEP, KEEP, BACKSLASH, BACKSLASH, UNICODE, DECODE,
	KEEP, UNICODE, UNICODE, UNICODE, KEEP}, TP_JSON_INPUT_MAX},
	[TP_ESCAPE_REPLY] = {{KEEP, QUESTION, KEEP, KEEP, QUESTION, DECODE,
	QUESTION, QUESTION, QUESTION, QUESTION, KEEP}, SIZE_MAX},
	[TP_ESCAPE_TERM] = {{KEEP, KEEP, KEEP, BACKSLASH, HEX, DECODE,
	KEEP, UNICODE, UNICODE, HEX, KEEP}, SIZE_MAX},
	[TP_ESCAPE_HTML] = {{KEEP, KEEP, ENTITY, BACKSLASH, HEX, DECODE,
	KEEP, UNICODE, UNICODE, HEX, ENTITY}, SIZE_MAX},
};

#define ENC_MAX	16			/* the longest escape: 4 bytes of \xHH */

/* entity - the HTML character reference of one of & < > " ' */

static const char *
entity(unsigned char c)
{
	switch (c) {
	case '&':
		return ("&amp;");
	case '<':
		return ("&lt;");
	case '>':
		return ("&gt;");
	case '"':
		return ("&quot;");
	default:			/* ' */
		return ("&#39;");
	}
}

/* utf8_char - length of the strictly valid UTF-8 character at s, or 0 */

static size_t
utf8_char(const unsigned char *s, size_t avail, uint32_t *cp)
{
	size_t	n;
	uint32_t v, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return (0);
	}
	if (n > avail)
		return (0);
	/* In order: the terminator is no continuation byte, so we stop at it. */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return (0);
	*cp = v;
	return (n);
}

/* classify - the class of the character at s; its bytes and code point */

static enum class
classify(const unsigned char *s, size_t avail, size_t *n, uint32_t *cp)
{
	enum class c = (enum class)byte_class[s[0]];

	*n = 1;
	*cp = s[0];
	if (c != CL_HIGH)
		return (c);
	if ((*n = utf8_char(s, avail, cp)) == 0) {
		*n = 1;
		return (CL_INVALID);
	}
	if (*cp < 0xa0)
		return (CL_C1);
	if (*cp == 0x2028 || *cp == 0x2029)
		return (CL_SEPARATOR);
	return (CL_TEXT);
}

/* encode - the character at s as kind k writes it; its length */

static size_t
encode(const struct kind *k, const unsigned char *s, size_t avail,
       char *enc, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;
	enum class c = classify(s, avail, used, &cp);

	switch (k->how[c]) {
	case BACKSLASH:
		enc[0] = '\\';
		enc[1] = (char)s[0];
		return (2);
	case HEX:
		for (size_t i = 0; i < *used; i++) {
			memcpy(enc + 4 * i, "\\x", 2);
			enc[4 * i + 2] = hex[s[i] >> 4];
			enc[4 * i + 3] = hex[s[i] & 15];
		}
		return (4 * *used);
	case UNICODE:
		memcpy(enc, "\\u", 2);
		for (int i = 0; i < 4; i++)
			enc[2 + i] = hex[cp >> (12 - 4 * i) & 15];
		return (6);
	case QUESTION:
		memset(enc, '?', *used);
		return (*used);
	case ENTITY:
		memcpy(enc, entity(s[0]), strlen(entity(s[0])));
		return (strlen(entity(s[0])));
	default:			/* KEEP */
		memcpy(enc, s, *used);
		return (*used);
	}
}

/* cut_at - end out at its last boundary before the mark, with "..." */

static size_t
cut_at(char *out, size_t mark, size_t limit, bool *cut)
{
	if (limit >= 3) {
		memcpy(out + mark, "...", 3);
		mark += 3;
	}
	out[mark] = 0;
	*cut = true;
	return (mark);
}

/* tp_escape - in escaped for one kind of output, capped */

size_t
tp_escape(enum tp_escape_kind kind, const char *in, char *out, size_t size,
	  bool *cut)
{
	const struct kind *k = &kinds[kind];
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	size_t	limit = size - 1;
	size_t	mark = limit >= 3 ? limit - 3 : 0;	/* room left for "..." */
	size_t	keep = 0;		/* last boundary at or before mark */
	size_t	i = 0, o = 0;

	for (;;) {
		size_t	run = 0, n, used;
		char	enc[ENC_MAX];

		/* Copy what needs no escaping in one go: nearly every string. */
		while (i + run < k->inmax && k->how[byte_class[s[i + run]]] == KEEP)
			run++;
		if (o + run > limit) {
			if (o < mark)
				memcpy(out + o, s + i, mark - o);
			return (cut_at(out, o <= mark ? mark : keep, limit, cut));
		}
		memcpy(out + o, s + i, run);
		if (o + run <= mark)
			keep = o + run;
		else if (o <= mark)
			keep = mark;
		o += run;
		i += run;
		if (i >= k->inmax || s[i] == 0)
			break;
		n = encode(k, s + i, k->inmax - i, enc, &used);
		if (o + n > limit)
			return (cut_at(out, keep, limit, cut));
		memcpy(out + o, enc, n);
		o += n;
		i += used;
		if (o <= mark)
			keep = o;
	}
	out[o] = 0;
	*cut = false;
	return (o);
}

/* tp_escape_span - leading bytes that no kind of output escapes */

size_t
tp_escape_span(const char *in, size_t max)
{
	size_t	n = 0;

	while (n < max && byte_class[(unsigned char)in[n]] == CL_PLAIN)
		n++;
	return (n);
}

/* tp_escape_reply - network text for an SMTP reply; returns out */

const char *
tp_escape_reply(const char *in, char *out, size_t size)
{
	bool	cut;

	tp_escape(TP_ESCAPE_REPLY, in ? in : "none", out, size, &cut);
	return (out);
}

/* tp_escape_term - text for a terminal; returns out */

const char *
tp_escape_term(const char *in, char *out, size_t size)
{
	bool	cut;

	tp_escape(TP_ESCAPE_TERM, in, out, size, &cut);
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
