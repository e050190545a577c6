/*
 * NAME
 *	fuzz_escape 1
 * SUMMARY
 *	libFuzzer target: the escapers, for logs and for JSON
 * SYNOPSIS
 *	fuzz_escape [libFuzzer options] [CORPUS ...]
 *
 *	FUZZ_JSON_STRICT=1 fuzz_escape ...
 * DESCRIPTION
 *	An input is one byte (an output size), then strings separated by
 *	NUL bytes: what a client may put in a decision record (client
 *	address and name, HELO, listener, port, AUTH name, sender, TLS
 *	version, cipher, {verify}, certificate names, policy file, a
 *	reply, then address, reason and reply of each recipient).
 *
 *	log: tp_escape() of the first string into the given size must be
 *	printable ASCII, every '"' and '\' escaped, and either the whole
 *	escaped string, which unescapes to the input, or a prefix of it
 *	cut between escapes and ended with "..."; the syslog line and the
 *	result header of the record (reporter/record.c) printable ASCII.
 *
 *	JSON: tp_audit_format() (reporter/audit_json.c) of the record,
 *	into a full-size buffer and into a small one, must be one line of
 *	valid UTF-8 that json-c parses, with no byte under 0x20 but its
 *	newline; a string that is valid UTF-8 and under the cap must come
 *	back as it was. With FUZZ_JSON_STRICT=1, DEL, C1 controls and
 *	U+2028/U+2029 must not pass raw either: that fails today (they
 *	pass raw; tests/fuzz/crashers/fuzz_escape/ has one of each) and
 *	is meant to hold, and to become the default, once the escapers
 *	are one module.
 *
 *	Written against today's API (tp_escape, tp_audit_format); only
 *	check_log() and check_json() name it.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "policy/tp_names.h"
#include "reporter/tp_audit.h"
#include "reporter/tp_record.h"
#include "util/tp_escape.h"
#include "tests/fuzz/fuzz.h"

#define STRING_CAP	1024		/* audit_json.c's cap on one string */
#define RCPTS_MAX	4

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

/* unescape - undo tp_escape(); the length, or -1 if an escape is malformed */

static ssize_t
unescape(const char *in, size_t len, char *out)
{
	size_t	o = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '"')
			return (-1);
		if (in[i] != '\\') {
			out[o++] = in[i];
		} else if (i + 1 < len && (in[i + 1] == '"' || in[i + 1] == '\\')) {
			out[o++] = in[++i];
		} else if (i + 3 < len && in[i + 1] == 'x') {
			out[o++] = (char)strtol((char[3]) {in[i + 2], in[i + 3], 0}, NULL, 16);
			i += 3;
		} else {
			return (-1);
		}
	}
	return ((ssize_t)o);
}

/* check_log - tp_escape() of s into size bytes */

static void
check_log(const char *s, size_t size)
{
	size_t	len = strlen(s);
	char   *full = malloc(4 * len + 1), *back = malloc(len + 1), *cut = malloc(size);
	size_t	flen, clen;

	FUZZ_ASSERT(full && back && cut, "out of memory");
	tp_escape(s, full, 4 * len + 1);
	flen = strlen(full);
	FUZZ_ASSERT(printable(full, flen), "not printable: \"%s\"", full);
	FUZZ_ASSERT(unescape(full, flen, back) == (ssize_t)len && memcmp(back, s, len) == 0,
		    "\"%s\" does not unescape to the input", full);
	tp_escape(s, cut, size);
	clen = strlen(cut);
	FUZZ_ASSERT(clen < size, "%zu bytes in %zu", clen, size);
	if (flen < size) {
		FUZZ_ASSERT(strcmp(cut, full) == 0, "\"%s\" fits but became \"%s\"", full, cut);
	} else if (size > 3) {
		FUZZ_ASSERT(clen >= 3 && strcmp(cut + clen - 3, "...") == 0
			    && memcmp(cut, full, clen - 3) == 0
			    && unescape(cut, clen - 3, back) >= 0,
			    "\"%s\" cut to %zu bytes as \"%s\"", full, size, cut);
	}
	free(full);
	free(back);
	free(cut);
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

/* check_json - tp_audit_format() of the record into size bytes */

static void
check_json(const struct tp_record *rec, size_t size, int must_fit)
{
	static const struct timespec when = {1795000000, 123456789};
	char   *buf = malloc(size);
	size_t	len;
	json_object *obj, *v;
	const char *helo = rec->helo;

	FUZZ_ASSERT(buf != NULL, "out of memory");
	len = tp_audit_format(rec, &when, buf, size);
	FUZZ_ASSERT(len > 0 || !must_fit, "record does not fit in %zu bytes", size);
	if (len > 0) {
		FUZZ_ASSERT(len < size && strlen(buf) == len && buf[len - 1] == '\n'
			    && memchr(buf, '\n', len) == buf + len - 1, "not one line");
		for (size_t i = 0; i + 1 < len; i++)
			FUZZ_ASSERT((unsigned char)buf[i] >= 0x20, "raw control byte: %s", buf);
		FUZZ_ASSERT(tp_utf8_valid(buf, len), "not UTF-8: %s", buf);
		if (getenv("FUZZ_JSON_STRICT") != NULL && atoi(getenv("FUZZ_JSON_STRICT")))
			FUZZ_ASSERT(strict_ok(buf, len), "DEL, C1 or U+2028/9 raw: %s", buf);
		obj = json_tokener_parse(buf);
		FUZZ_ASSERT(obj != NULL && json_object_is_type(obj, json_type_object), "not JSON: %s", buf);
		if (helo != NULL && strlen(helo) < STRING_CAP && tp_utf8_valid(helo, strlen(helo))) {
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
	char	line[4096];

	if (size == 0)
		return (0);
	FUZZ_ASSERT((text = malloc(size)) != NULL, "out of memory");
	memcpy(text, data + 1, size - 1);
	n = fuzz_fields(text, size - 1, f, F_FIELDS);
	check_log(f[0], (size_t)data[0] + 1);

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
	check_json(&rec, TP_AUDIT_RECORD_MAX, size < 8192);
	check_json(&rec, 512 + 64 * (size_t)data[0], 0);
	for (size_t i = 0; i < rec.nrcpts; i++) {
		size_t	len = tp_record_syslog(&rec, i, line, sizeof(line));

		FUZZ_ASSERT(printable(line, len), "syslog line: %s", line);
	}
	n = tp_record_header(&rec, line, sizeof(line));
	FUZZ_ASSERT(printable(line, n), "header: %s", line);
	free(text);
	return (0);
}
