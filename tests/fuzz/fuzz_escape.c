/*
 * NAME
 *	fuzz_escape 1
 * SUMMARY
 *	libFuzzer target: the escapers, one per output, and the record writers
 * SYNOPSIS
 *	fuzz_escape [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is one byte (an output size), then strings separated by
 *	NUL bytes: what a client may put in a decision record (client
 *	address and name, HELO, listener, port, AUTH name, sender, TLS
 *	version, cipher, {verify}, certificate names, policy file, a
 *	reply, then address, reason and reply of each recipient).
 *
 *	The first string goes through tp_escape() (util/escape.c) for
 *	each kind of output, from a copy of its exact length (ASan: no
 *	kind reads past the input), once whole and once into the given
 *	size. Whole, it must keep what that kind promises (util/tp_escape.h):
 *
 *	log: printable ASCII, every '"' and '\' escaped, and it unescapes
 *	to the input.
 *
 *	JSON: valid UTF-8 with no raw control, DEL, C1 control or U+2028/9,
 *	that json-c reads back as a string: the input itself when that is
 *	valid UTF-8 of at most TP_JSON_INPUT_MAX bytes.
 *
 *	reply: printable ASCII without '%', one byte for each input byte:
 *	the byte when it is printable and not '%', else '?';
 *	tp_escape_reply() the same, and "none" for NULL.
 *
 *	terminal: no control, DEL or C1 byte, no raw U+2028/9, valid
 *	UTF-8, and it unescapes to the input; tp_escape_term() the same.
 *
 *	HTML: no raw < > " ', every & starts &amp; &lt; &gt; &quot; or
 *	&#39;, and with those undone it is the terminal's output.
 *
 *	Into the given size, every kind writes the whole output if it
 *	fits, else (*cut) a prefix of it cut between escapes and ended in
 *	"..." (nothing under 4 bytes), a prefix that keeps the kind's
 *	promise (it unescapes, parses, is UTF-8, ends in no half
 *	reference). tp_escape_span() must
 *	count exactly the leading bytes that no kind escapes.
 *
 *	Then the strings make a record with up to RCPTS_MAX recipients
 *	(more than TP_RECORD_TEXT_RCPTS, so that late ones are classified
 *	as they are written), prepared once (tp_record_prepare(),
 *	reporter/record.c). tp_audit_format() (reporter/audit_json.c) of
 *	it, into a full-size buffer and into a small one, must be one line
 *	of valid UTF-8 that json-c parses, with no byte under 0x20 but its
 *	newline and no raw DEL, C1 control or U+2028/9 (one of each in
 *	tests/fuzz/crashers/fuzz_escape/ passed raw before the escapers
 *	were one module); a HELO that is valid UTF-8 of at most
 *	TP_JSON_INPUT_MAX bytes must come back as it was. Each
 *	recipient's syslog line (tp_record_syslog()) and the result header
 *	(tp_record_header()) must be printable ASCII.
 */

#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "policy/tp_names.h"
#include "reporter/tp_audit.h"
#include "reporter/tp_record.h"
#include "util/tp_escape.h"
#include "tests/fuzz/fuzz.h"

#define RCPTS_MAX	20		/* > TP_RECORD_TEXT_RCPTS */

enum {
	F_ADDR, F_NAME, F_HELO, F_DAEMON, F_PORT, F_AUTH, F_SENDER, F_VERSION,
	F_CIPHER, F_VERIFY, F_SUBJECT, F_ISSUER, F_POLICY, F_REPLY, F_RCPT0,
	F_FIELDS = F_RCPT0 + 3 * RCPTS_MAX,
};

/* printable - nothing but printable ASCII */

static int
printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return (0);
	return (1);
}

/* strict_ok - no DEL, C1 or U+2028/9 raw: terminals and JavaScript trip on them */

static int
strict_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++)
		if (u[i] == 0x7f || (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
		    || (u[i] == 0xe2 && i + 2 < len && u[i + 1] == 0x80
			&& (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)))
			return (0);
	return (1);
}

/* put_utf8 - code point cp (< 0x10000) as UTF-8 at out; its length */

static size_t
put_utf8(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return (1);
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return (2);
	}
	out[0] = (char)(0xe0 | cp >> 12);
	out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return (3);
}

/* hex_at - the value of n (<= 4) lower-case hex digits at s; -1 if they are not */

static long
hex_at(const char *s, size_t n)
{
	char	digits[5] = {0};

	memcpy(digits, s, n);
	if (strspn(digits, "0123456789abcdef") != n)
		return (-1);
	return (strtol(digits, NULL, 16));
}

/*
 * unescape - undo TP_ESCAPE_LOG (\" \\ \xHH, no raw ") or TP_ESCAPE_TERM
 * (\\ \xHH \uHHHH): the length, or -1 if an escape is malformed. A
 * \uHHHH is at most 3 bytes of UTF-8, fewer than its 6: out needs len.
 */
static ssize_t
unescape(enum tp_escape_kind kind, const char *in, size_t len, char *out)
{
	size_t	o = 0;
	long	v;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '"' && kind == TP_ESCAPE_LOG)
			return (-1);
		if (in[i] != '\\') {
			out[o++] = in[i];
		} else if (i + 1 < len && (in[i + 1] == '\\'
					   || (in[i + 1] == '"' && kind == TP_ESCAPE_LOG))) {
			out[o++] = in[++i];
		} else if (i + 3 < len && in[i + 1] == 'x' && (v = hex_at(in + i + 2, 2)) >= 0) {
			out[o++] = (char)v;
			i += 3;
		} else if (kind == TP_ESCAPE_TERM && i + 5 < len && in[i + 1] == 'u'
			   && (v = hex_at(in + i + 2, 4)) >= 0) {
			o += put_utf8((unsigned long)v, out + o);
			i += 5;
		} else {
			return (-1);
		}
	}
	return ((ssize_t)o);
}

/* unentity - undo TP_ESCAPE_HTML's references: the length, -1 on raw markup or a stray & */

static ssize_t
unentity(const char *in, size_t len, char *out)
{
	static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
	static const char chars[] = "&<>\"'";
	size_t	o = 0, k, n;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '<' || in[i] == '>' || in[i] == '"' || in[i] == '\'')
			return (-1);
		if (in[i] != '&') {
			out[o++] = in[i];
			continue;
		}
		for (k = 0; k < 5; k++)
			if (len - i >= (n = strlen(refs[k])) && memcmp(in + i, refs[k], n) == 0)
				break;
		if (k == 5)
			return (-1);
		out[o++] = chars[k];
		i += n - 1;
	}
	return ((ssize_t)o);
}

/* check_html - whole: HTML is the terminal's output with references */

static void
check_html(const char *in, size_t len, const char *out, size_t olen, char *back)
{
	size_t	tsize = 6 * len + 1;
	char   *term = malloc(tsize);
	ssize_t	n = unentity(out, olen, back);
	bool	cut;

	FUZZ_ASSERT(term != NULL, "out of memory");
	tp_escape(TP_ESCAPE_TERM, in, term, tsize, &cut);
	FUZZ_ASSERT(n >= 0, "HTML: raw markup or a stray &: %s", out);
	FUZZ_ASSERT((size_t)n == strlen(term) && memcmp(back, term, (size_t)n) == 0,
		    "HTML: \"%s\" is not the terminal's \"%s\" with references", out, term);
	free(term);
}

/* json_string - out as the inside of a JSON string, read back; NULL if it is not one */

static json_object *
json_string(const char *out, size_t len)
{
	char   *quoted = malloc(len + 3);
	json_object *obj;

	FUZZ_ASSERT(quoted != NULL, "out of memory");
	quoted[0] = '"';
	memcpy(quoted + 1, out, len);
	memcpy(quoted + 1 + len, "\"", 2);
	obj = json_tokener_parse(quoted);
	free(quoted);
	if (obj != NULL && !json_object_is_type(obj, json_type_string)) {
		json_object_put(obj);
		obj = NULL;
	}
	return (obj);
}

/* check_whole - what each kind promises of a string escaped whole */

static void
check_whole(enum tp_escape_kind kind, const char *in, size_t len,
	    const char *out, size_t olen)
{
	char   *back = malloc(olen + 1);
	json_object *obj;

	FUZZ_ASSERT(back != NULL, "out of memory");
	switch (kind) {
	case TP_ESCAPE_LOG:
		FUZZ_ASSERT(printable(out, olen), "log: not printable: \"%s\"", out);
		FUZZ_ASSERT(unescape(kind, out, olen, back) == (ssize_t)len && memcmp(back, in, len) == 0,
			    "log: \"%s\" does not unescape to the input", out);
		break;
	case TP_ESCAPE_JSON:
		for (size_t i = 0; i < olen; i++)
			FUZZ_ASSERT((unsigned char)out[i] >= 0x20, "JSON: raw control: %s", out);
		FUZZ_ASSERT(tp_utf8_valid(out, olen) && strict_ok(out, olen),
			    "JSON: not UTF-8, or raw DEL, C1 or U+2028/9: %s", out);
		FUZZ_ASSERT((obj = json_string(out, olen)) != NULL, "JSON: not a string: %s", out);
		if (len <= TP_JSON_INPUT_MAX && tp_utf8_valid(in, len))
			FUZZ_ASSERT((size_t)json_object_get_string_len(obj) == len
				    && memcmp(json_object_get_string(obj), in, len) == 0,
				    "JSON: %s does not read back as the input", out);
		json_object_put(obj);
		break;
	case TP_ESCAPE_REPLY:
		FUZZ_ASSERT(olen == len, "reply: %zu bytes for %zu", olen, len);
		for (size_t i = 0; i < len; i++)
			FUZZ_ASSERT(out[i] == (in[i] >= 0x20 && in[i] <= 0x7e && in[i] != '%' ? in[i] : '?'),
				    "reply: byte %zu of \"%s\"", i, out);
		break;
	case TP_ESCAPE_TERM:
		FUZZ_ASSERT(fuzz_no_control(out, olen, "") && strict_ok(out, olen)
			    && tp_utf8_valid(out, olen), "terminal: unsafe: %s", out);
		FUZZ_ASSERT(unescape(kind, out, olen, back) == (ssize_t)len && memcmp(back, in, len) == 0,
			    "terminal: \"%s\" does not unescape to the input", out);
		break;
	case TP_ESCAPE_HTML:
		check_html(in, len, out, olen, back);
		break;
	}
	free(back);
}

/* check_prefix - a cut output, without its "...", keeps the kind's promise */

static void
check_prefix(enum tp_escape_kind kind, const char *out, size_t olen)
{
	char   *back = malloc(olen + 1);
	json_object *obj;

	FUZZ_ASSERT(back != NULL, "out of memory");
	switch (kind) {
	case TP_ESCAPE_LOG:
		FUZZ_ASSERT(unescape(kind, out, olen, back) >= 0, "log cut inside an escape: %.*s",
			    (int)olen, out);
		break;
	case TP_ESCAPE_TERM:
		FUZZ_ASSERT(unescape(kind, out, olen, back) >= 0 && tp_utf8_valid(out, olen),
			    "terminal cut inside an escape or a character: %.*s", (int)olen, out);
		break;
	case TP_ESCAPE_JSON:
		FUZZ_ASSERT(tp_utf8_valid(out, olen) && (obj = json_string(out, olen)) != NULL,
			    "JSON cut inside an escape or a character: %.*s", (int)olen, out);
		json_object_put(obj);
		break;
	case TP_ESCAPE_REPLY:		/* one byte for one: any prefix is whole */
		break;
	case TP_ESCAPE_HTML: {
		ssize_t	n = unentity(out, olen, back);
		char   *term = malloc(olen + 1);

		FUZZ_ASSERT(term != NULL, "out of memory");
		FUZZ_ASSERT(n >= 0 && unescape(TP_ESCAPE_TERM, back, (size_t)n, term) >= 0
			    && tp_utf8_valid(back, (size_t)n),
			    "HTML cut inside a reference, an escape or a character: %.*s",
			    (int)olen, out);
		free(term);
		break;
	}
	}
	free(back);
}

/* check_kind - tp_escape() of s for one kind, whole and into size bytes */

static void
check_kind(enum tp_escape_kind kind, const char *s, size_t size)
{
	size_t	len = strlen(s);
	size_t	fsize = 6 * len + 1;	/* the longest: \u00XX for each byte */
	char   *in = malloc(len + 1), *full = malloc(fsize), *cut = malloc(size);
	size_t	flen, clen;
	bool	was_cut;

	FUZZ_ASSERT(in && full && cut, "out of memory");
	memcpy(in, s, len + 1);
	flen = tp_escape(kind, in, full, fsize, &was_cut);
	FUZZ_ASSERT(!was_cut && flen == strlen(full), "kind %d: cut or wrong length whole", kind);
	check_whole(kind, in, len, full, flen);
	clen = tp_escape(kind, in, cut, size, &was_cut);
	FUZZ_ASSERT(clen < size && clen == strlen(cut), "kind %d: %zu bytes in %zu", kind, clen, size);
	if (flen < size) {
		FUZZ_ASSERT(!was_cut && strcmp(cut, full) == 0, "kind %d: \"%s\" fits but became \"%s\"",
			    kind, full, cut);
	} else if (size < 4) {
		FUZZ_ASSERT(was_cut && clen == 0, "kind %d: \"%s\" in %zu bytes", kind, cut, size);
	} else {
		FUZZ_ASSERT(was_cut && clen >= 3 && strcmp(cut + clen - 3, "...") == 0
			    && memcmp(cut, full, clen - 3) == 0,
			    "kind %d: \"%s\" cut to %zu bytes as \"%s\"", kind, full, size, cut);
		check_prefix(kind, cut, clen - 3);
	}
	if (kind == TP_ESCAPE_REPLY)
		FUZZ_ASSERT(tp_escape_reply(in, cut, size) == cut && strlen(cut) == clen,
			    "tp_escape_reply differs from tp_escape");
	if (kind == TP_ESCAPE_TERM)
		FUZZ_ASSERT(tp_escape_term(in, cut, size) == cut && strlen(cut) == clen,
			    "tp_escape_term differs from tp_escape");
	free(in);
	free(full);
	free(cut);
}

/* plain - a byte that no kind escapes: printable ASCII but % " \ & < > ' */

static int
plain(char c)
{
	return (c >= 0x20 && c <= 0x7e && strchr("%\"\\&<>'", c) == NULL);
}

/* check_escapers - every kind of output of s, and tp_escape_span() */

static void
check_escapers(const char *s, size_t size)
{
	size_t	len = strlen(s), span = tp_escape_span(s, len);
	size_t	max = size < len ? size : len;
	char	none[8];

	for (enum tp_escape_kind k = TP_ESCAPE_LOG; k <= TP_ESCAPE_HTML; k++)
		check_kind(k, s, size);
	for (size_t i = 0; i < span; i++)
		FUZZ_ASSERT(plain(s[i]), "span %zu takes byte %zu, 0x%02x", span, i,
			    (unsigned char)s[i]);
	FUZZ_ASSERT(span == len || !plain(s[span]), "span %zu stops at a plain byte", span);
	FUZZ_ASSERT(tp_escape_span(s, max) == (span < max ? span : max), "span capped at %zu", max);
	FUZZ_ASSERT(strcmp(tp_escape_reply(NULL, none, sizeof(none)), "none") == 0,
		    "tp_escape_reply(NULL) is \"%s\"", none);
}

/* check_json - tp_audit_format() of the prepared record into size bytes */

static void
check_json(const struct tp_record_text *text, size_t size, int must_fit)
{
	static const struct timespec when = {1795000000, 123456789};
	char   *buf = malloc(size);
	size_t	len;
	json_object *obj, *v;
	const char *helo = text->rec->helo;

	FUZZ_ASSERT(buf != NULL, "out of memory");
	len = tp_audit_format(text, &when, buf, size);
	FUZZ_ASSERT(len > 0 || !must_fit, "record does not fit in %zu bytes", size);
	if (len > 0) {
		FUZZ_ASSERT(len < size && strlen(buf) == len && buf[len - 1] == '\n'
			    && memchr(buf, '\n', len) == buf + len - 1, "not one line");
		for (size_t i = 0; i + 1 < len; i++)
			FUZZ_ASSERT((unsigned char)buf[i] >= 0x20, "raw control byte: %s", buf);
		FUZZ_ASSERT(tp_utf8_valid(buf, len), "not UTF-8: %s", buf);
		FUZZ_ASSERT(strict_ok(buf, len), "DEL, C1 or U+2028/9 raw: %s", buf);
		obj = json_tokener_parse(buf);
		FUZZ_ASSERT(obj != NULL && json_object_is_type(obj, json_type_object), "not JSON: %s", buf);
		if (helo != NULL && strlen(helo) <= TP_JSON_INPUT_MAX
		    && tp_utf8_valid(helo, strlen(helo))) {
			FUZZ_ASSERT(json_object_object_get_ex(obj, "client", &v)
				    && json_object_object_get_ex(v, "helo", &v)
				    && strcmp(json_object_get_string(v), helo) == 0,
				    "helo \"%s\" did not come back", helo);
		}
		json_object_put(obj);
	}
	free(buf);
}

/* field - the i-th string, or NULL past the last */

static const char *
field(const char **f, size_t n, size_t i)
{
	return (i < n ? f[i] : NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *text;
	const char *f[F_FIELDS];
	size_t	n;
	struct tp_tls_state tls;
	struct tp_record_rcpt rcpts[RCPTS_MAX];
	struct tp_record rec;
	static struct tp_record_text rtext;	/* large: not on the stack */
	char	line[4096];

	if (size == 0)
		return (0);
	FUZZ_ASSERT((text = malloc(size)) != NULL, "out of memory");
	memcpy(text, data + 1, size - 1);
	n = fuzz_fields(text, size - 1, f, F_FIELDS);
	check_escapers(f[0], (size_t)data[0] + 1);

	tls = (struct tp_tls_state) {
		(enum tp_tls_how)(data[0] % 3), field(f, n, F_VERSION),
		tp_tls_version_parse(field(f, n, F_VERSION)), field(f, n, F_CIPHER), data[0] - 1,
		tp_verify_parse(field(f, n, F_VERIFY)), field(f, n, F_VERIFY),
		field(f, n, F_SUBJECT), field(f, n, F_ISSUER),
	};
	memset(rcpts, 0, sizeof(rcpts));
	for (size_t i = 0; i < RCPTS_MAX; i++) {
		rcpts[i].addr = field(f, n, F_RCPT0 + 3 * i);
		rcpts[i].reason = field(f, n, F_RCPT0 + 3 * i + 1);
		rcpts[i].reply = field(f, n, F_RCPT0 + 3 * i + 2);
		rcpts[i].result = (enum tp_result)((data[0] + i) % (TP_RESULT_EXEMPT + 1));
		rcpts[i].level = TP_LEVEL_REQUIRE;
	}
	rec = (struct tp_record) {
		"S1", NULL, field(f, n, F_ADDR), field(f, n, F_NAME), field(f, n, F_HELO),
		field(f, n, F_DAEMON), field(f, n, F_PORT), field(f, n, F_AUTH),
		field(f, n, F_SENDER), &tls, field(f, n, F_POLICY), 1, field(f, n, F_HELO),
		"accepted", rcpts, n > F_RCPT0 ? (n - F_RCPT0 + 2) / 3 : 1,
		field(f, n, F_REPLY),
	};
	tp_record_prepare(&rec, &rtext);
	check_json(&rtext, TP_AUDIT_RECORD_MAX, size < 8192);
	check_json(&rtext, 512 + 64 * (size_t)data[0], 0);
	for (size_t i = 0; i < rec.nrcpts; i++) {
		size_t	len = tp_record_syslog(&rtext, i, line, sizeof(line));

		FUZZ_ASSERT(printable(line, len), "syslog line: %s", line);
	}
	n = tp_record_header(&rec, line, sizeof(line));
	FUZZ_ASSERT(printable(line, n), "header: %s", line);
	free(text);
	return (0);
}
