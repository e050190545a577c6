#ifndef TP_ESCAPE_H
#define TP_ESCAPE_H

/*
 * NAME
 *	tp_escape 3h
 * SUMMARY
 *	make untrusted text safe for one output: log, JSON, reply, terminal,
 *	HTML
 * SYNOPSIS
 *	#include "util/tp_escape.h"
 *
 *	size_t	tp_escape(enum tp_escape_kind kind, const char *in,
 *			  char *out, size_t size, bool *cut);
 *	size_t	tp_escape_span(const char *in, size_t max);
 *	const char *tp_escape_reply(const char *in, char *out, size_t size);
 *	const char *tp_escape_term(const char *in, char *out, size_t size);
 *
 *	const char *tp_xtext_decode(const char *in, char *out, size_t size);
 * DESCRIPTION
 *	A client controls its HELO name, its addresses and its certificate
 *	names; a log file read back controls what tlspolicyctl prints.
 *	One classification (escape.c) says what each byte or UTF-8
 *	sequence of such text is: printable ASCII, one of the ASCII
 *	characters some output gives a meaning to (%, " and \; & < > '), a control
 *	(0x00-0x1f, DEL 0x7f), or the start of a strictly valid UTF-8
 *	character (no overlongs, surrogates or > U+10FFFF), which is then
 *	a C1 control (U+0080-U+009F), a line or paragraph separator
 *	(U+2028, U+2029) or other text; any other byte is not UTF-8.
 *	Each kind of output writes each class its own way:
 *
 *	TP_ESCAPE_LOG: the inside of a key="value" log field (syslog, the
 *	result header). " and \ become \" and \\; every byte that is not
 *	printable ASCII (controls, DEL, every byte of UTF-8 or not) becomes
 *	\xHH. Guarantee: printable ASCII with no unescaped quote, so the
 *	value can end neither its field nor its line.
 *
 *	TP_ESCAPE_JSON: the inside of a JSON string (the audit log). " and
 *	\ become \" and \\; controls, DEL and C1 controls become \u00XX,
 *	U+2028 and U+2029 \u2028 and \u2029; other UTF-8 characters are
 *	kept; a byte that is not UTF-8 becomes \u00XX, the code point of
 *	its value (read as Latin-1), so no byte is lost and a JSON reader
 *	(json-c: tlspolicyctl report) gets valid UTF-8 back. Guarantee:
 *	valid UTF-8 with no raw control character, C1 control or
 *	separator; a valid JSON string between quotes. At most
 *	TP_JSON_INPUT_MAX bytes of in are read; the rest is left out
 *	unmarked (a character cut there is not UTF-8: \u00XX).
 *
 *	TP_ESCAPE_REPLY: network text quoted in an SMTP reply, which
 *	libmilter also reads as a printf format. Every byte that is not
 *	printable ASCII, and every %, becomes ?, one per byte. Guarantee:
 *	printable ASCII without %: no line end, no format.
 *
 *	TP_ESCAPE_TERM: text for a terminal (tlspolicyctl). \ becomes \\;
 *	controls, DEL and bytes that are not UTF-8 become \xHH; C1
 *	controls \u00XX, U+2028 and U+2029 \u2028 and \u2029; other UTF-8
 *	characters are kept. Guarantee: no byte that a terminal obeys,
 *	and valid UTF-8.
 *
 *	TP_ESCAPE_HTML: text for an HTML page (tlspolicyctl report --html),
 *	both element text and a quoted attribute value: as TP_ESCAPE_TERM,
 *	and & < > " ' become &amp; &lt; &gt; &quot; &#39;. Guarantee: no
 *	markup, no character reference, no quote that could end an
 *	attribute; what a terminal would show, a browser shows.
 *
 *	tp_escape() writes in, escaped for kind, to out, at most size - 1
 *	bytes and a terminator, and returns the length written. What does
 *	not fit whole is cut between characters (never inside an escape
 *	or a UTF-8 sequence) and ends in "..." (nothing when size < 4);
 *	*cut then says so. NULL in is "". size must be at least 1.
 *
 *	tp_escape_span() returns how many leading bytes of in (at most max)
 *	every kind copies as they are (printable ASCII but %, ", \, &, <,
 *	> and '):
 *	a builder that writes a string to several outputs classifies it
 *	once, and copies it to each when it needs no escape at all.
 *
 *	tp_escape_reply() and tp_escape_term() are tp_escape() for printf
 *	callers: they return out. tp_escape_reply(NULL) is "none": a
 *	reply says that nothing was seen.
 *
 *	tp_xtext_decode() undoes Sendmail's xtext (RFC 3461 "+HH") in
 *	certificate names; a malformed "+" is kept as it is.
 * SEE ALSO
 *	tp_buf(3h), tp_buf_add_log() and tp_buf_add_json(): the same,
 *	straight into a string builder.
 */

#include <stdbool.h>
#include <stddef.h>

enum tp_escape_kind {
	TP_ESCAPE_LOG, TP_ESCAPE_JSON, TP_ESCAPE_REPLY, TP_ESCAPE_TERM,
	TP_ESCAPE_HTML,
};

#define TP_FIELD_MAX	256		/* bytes of one escaped log value */
#define TP_JSON_INPUT_MAX 1024		/* bytes of one string read for JSON */

extern size_t tp_escape(enum tp_escape_kind, const char *, char *, size_t, bool *);
extern size_t tp_escape_span(const char *, size_t);
extern const char *tp_escape_reply(const char *, char *, size_t);
extern const char *tp_escape_term(const char *, char *, size_t);
extern const char *tp_xtext_decode(const char *, char *, size_t);

#endif
