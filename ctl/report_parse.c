/*
 * NAME
 *	report_parse 3
 * SUMMARY
 *	tlspolicyctl report: audit log lines in, facts out
 * SYNOPSIS
 *	#include "ctl/report_impl.h"
 *
 *	struct json_tokener *tp_report_tokener(void);
 *	void	tp_report_parse_batch(struct batch *b,
 *				      struct json_tokener *tok);
 *	void	tp_report_batch_free(struct batch *b);
 *
 *	extern const char *const tp_report_how_names[];
 *	extern const char *const tp_report_verify_names[];
 * DESCRIPTION
 *	A line is checked as bytes first (length, NUL, UTF-8; pure ASCII
 *	is recognized eight bytes at a time), then parsed by json-c with
 *	the caller's tokener, and the fields the report uses are checked
 *	against the audit schema and copied into a struct fact, strings
 *	into the batch's arena, domains in canonical form. Everything
 *	else in the record is ignored. A line that does not fit the
 *	schema becomes a fact with only why set, such as
 *	"rcpts[0].level: missing" or "tls.bits: expected an integer, got
 *	string".
 *
 *	Every worker thread has its own tokener; a batch is parsed by
 *	one thread at a time, so nothing here locks.
 * DIAGNOSTICS
 *	When memory runs out, the batch's nomem is set and the line
 *	reads "out of memory".
 * MEMORY
 *	A batch keeps its facts, recipients and arena blocks from one
 *	parse to the next; tp_report_batch_free() frees them.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/report_impl.h"
#include "policy/tp_names.h"

#define ARENA_BLOCK	(256 * 1024)
#define JSON_DEPTH	8		/* the schema needs 4 */

/*
 * json-c 0.15 added the parse end and trailing characters in strict mode;
 * before it, the tokener's own field says where parsing stopped, and only
 * the lax mode stops at the end of the object rather than failing there.
 */
#if JSON_C_VERSION_NUM >= ((0 << 16) | (15 << 8))
#define TOKENER_FLAGS	(JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS)
#define PARSE_END(tok)	json_tokener_get_parse_end(tok)
#else
#define TOKENER_FLAGS	0
#define PARSE_END(tok)	((size_t)(tok)->char_offset)
#endif

#define F_REQUIRED	1		/* a missing member is malformed */
#define F_NULLABLE	2		/* null is a value */

/* One block of a batch's arena (struct arena, report_impl.h). */
struct arena_block {
	struct arena_block *next;
	size_t	used;
	char	data[ARENA_BLOCK];
};

/* Parsing one line: where facts go, what went wrong. */
struct parse {
	struct batch *b;
	struct fact *f;
	char	why[200];
};

const char *const tp_report_how_names[TP_REPORT_NHOW] = {
	"none", "starttls", "implicit",
};
const char *const tp_report_verify_names[TP_REPORT_NVERIFY] = {
	"none", "ok", "fail", "unknown", "other",
};

/* ---- per-batch storage -------------------------------------------------- */

/* arena_alloc - n bytes (n <= ARENA_BLOCK) that stay until arena_reset */

static char *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *blk;

	if (n > ARENA_BLOCK)
		return (NULL);
	while (a->cur != NULL && a->cur->used + n > ARENA_BLOCK)
		a->cur = a->cur->next;
	if (a->cur == NULL) {
		if ((blk = malloc(sizeof(*blk))) == NULL)
			return (NULL);
		blk->next = a->head;		/* order does not matter */
		blk->used = 0;
		a->head = a->cur = blk;
	}
	a->cur->used += n;
	return (a->cur->data + a->cur->used - n);
}

/* arena_reset - make every block empty again */

static void
arena_reset(struct arena *a)
{
	for (struct arena_block *blk = a->head; blk != NULL; blk = blk->next)
		blk->used = 0;
	a->cur = a->head;
}

/* batch_reset - forget the facts of a batch, keep its memory */

static void
batch_reset(struct batch *b)
{
	b->nfacts = b->nrcpts = 0;
	b->nlines = 0;
	b->nomem = false;
	arena_reset(&b->arena);
}

/* tp_report_batch_free - a batch's memory */

void
tp_report_batch_free(struct batch *b)
{
	struct arena_block *blk, *next;

	for (blk = b->arena.head; blk != NULL; blk = next) {
		next = blk->next;
		free(blk);
	}
	free(b->text);
	free(b->facts);
	free(b->rcpts);
}

/* grow - make room for one more element of an array */

static int
grow(void **array, size_t *size, size_t used, size_t elsize)
{
	size_t	n = *size ? *size * 2 : 256;
	void   *p;

	if (used < *size)
		return (0);
	if ((p = realloc(*array, n * elsize)) == NULL)
		return (-1);
	*array = p;
	*size = n;
	return (0);
}

/* ---- one line into a fact ----------------------------------------------- */

/* bad - note why a line is malformed; returns -1 */

static int
bad(struct parse *p, const char *pfx, const char *key, const char *what)
{
	snprintf(p->why, sizeof(p->why), "%s%s: %s", pfx, key, what);
	return (-1);
}

/* bad_type - "expected a string, got int" */

static int
bad_type(struct parse *p, const char *pfx, const char *key,
	 const char *want, struct json_object *v)
{
	char	what[80];

	snprintf(what, sizeof(what), "expected %s, got %s", want,
		 v == NULL ? "null" : json_type_to_name(json_object_get_type(v)));
	return (bad(p, pfx, key, what));
}

/* member - obj[key] of the given type; *v NULL if absent or null (allowed) */

static int
member(struct parse *p, struct json_object *obj, const char *pfx,
       const char *key, enum json_type type, int flags, struct json_object **v)
{
	static const char *const names[] = {
		[json_type_boolean] = "true or false", [json_type_int] = "an integer",
		[json_type_object] = "an object", [json_type_array] = "an array",
		[json_type_string] = "a string", [json_type_double] = "a number",
		[json_type_null] = "null",
	};

	if (!json_object_object_get_ex(obj, key, v))
		return ((flags & F_REQUIRED) ? bad(p, pfx, key, "missing") : 0);
	if (*v == NULL && (flags & F_NULLABLE))
		return (0);
	if (*v == NULL || !json_object_is_type(*v, type))
		return (bad_type(p, pfx, key, names[type], *v));
	return (0);
}

/* member_str - a string member, as json-c holds it (*s NULL: null) */

static int
member_str(struct parse *p, struct json_object *obj, const char *pfx,
	   const char *key, int flags, const char **s, size_t *len)
{
	struct json_object *v;

	*s = NULL;
	*len = 0;
	if (member(p, obj, pfx, key, json_type_string, flags, &v) < 0)
		return (-1);
	if (v == NULL)
		return (0);
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (*len > TP_REPORT_STRING_MAX)
		return (bad(p, pfx, key, "string longer than 2048 bytes"));
	if (memchr(*s, 0, *len) != NULL)
		return (bad(p, pfx, key, "NUL character in string"));
	return (0);
}

/* get_str - a string member, copied into the batch arena */

static int
get_str(struct parse *p, struct json_object *obj, const char *pfx,
	const char *key, int flags, const char **out)
{
	const char *s;
	size_t	len;
	char   *copy;

	*out = NULL;
	if (member_str(p, obj, pfx, key, flags, &s, &len) < 0)
		return (-1);
	if (s == NULL)
		return (0);
	if ((copy = arena_alloc(&p->b->arena, len + 1)) == NULL) {
		p->b->nomem = true;
		return (bad(p, pfx, key, "out of memory"));
	}
	memcpy(copy, s, len + 1);
	*out = copy;
	return (0);
}

/* get_domain - a domain member in canonical form (NULL: null) */

static int
get_domain(struct parse *p, struct json_object *obj, const char *pfx,
	   const char *key, const char **out)
{
	const char *why;

	if (get_str(p, obj, pfx, key, F_NULLABLE, out) < 0)
		return (-1);
	/* Canonical form is never longer: normalize the copy in place. */
	if (*out != NULL && tp_domain_normalize(*out, strlen(*out), (char *)(uintptr_t)*out, &why) < 0) {
		*out = NULL;
		return (bad(p, pfx, key, why));
	}
	return (0);
}

/* word - index of s in names[n], or dflt; -1 for no match and dflt -1 */

static int
word(const char *s, const char *const *names, int n, int dflt)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (i);
	return (dflt);
}

/* extract_tls - the tls object */

static int
extract_tls(struct parse *p, struct json_object *rec)
{
	struct json_object *tls, *v;
	const char *s;
	size_t	len;
	int	how;
	int64_t bits;

	if (member(p, rec, "", "tls", json_type_object, F_REQUIRED, &tls) < 0
	    || member_str(p, tls, "tls.", "how", F_REQUIRED, &s, &len) < 0)
		return (-1);
	if ((how = word(s, tp_report_how_names, TP_REPORT_NHOW, -1)) < 0)
		return (bad(p, "tls.", "how", "expected none, starttls or implicit"));
	p->f->how = (unsigned char)how;
	if (get_str(p, tls, "tls.", "version", F_NULLABLE, &p->f->version) < 0
	    || member_str(p, tls, "tls.", "verify", F_REQUIRED, &s, &len) < 0
	    || member(p, tls, "tls.", "bits", json_type_int, F_NULLABLE, &v) < 0)
		return (-1);
	p->f->verify = (unsigned char)word(s, tp_report_verify_names,
					   TP_REPORT_VERIFY_OTHER,
					   TP_REPORT_VERIFY_OTHER);
	p->f->bits = -1;
	if (v != NULL) {
		if ((bits = json_object_get_int64(v)) < 0 || bits > 65535)
			return (bad(p, "tls.", "bits", "not a number from 0 to 65535"));
		p->f->bits = (int)bits;
	}
	return (0);
}

/* extract_rcpt - one element of rcpts[] */

static int
extract_rcpt(struct parse *p, struct json_object *o, size_t i)
{
	static const char *const fail[] = {"unmet-prefer", "fail"};
	struct rfact *r = &p->b->rcpts[p->b->nrcpts];
	struct json_object *v;
	const char *level, *result;
	size_t	len;
	char	pfx[32];
	int	res;

	snprintf(pfx, sizeof(pfx), "rcpts[%zu].", i);
	if (!json_object_is_type(o, json_type_object))
		return (bad_type(p, "rcpts", "[]", "an object", o));
	if (get_str(p, o, pfx, "addr", F_REQUIRED, &r->addr) < 0
	    || get_domain(p, o, pfx, "domain", &r->domain) < 0
	    || member_str(p, o, pfx, "level", F_REQUIRED, &level, &len) < 0
	    || member_str(p, o, pfx, "result", F_REQUIRED, &result, &len) < 0
	    || member(p, o, pfx, "testing", json_type_boolean, F_NULLABLE, &v) < 0
	    || get_str(p, o, pfx, "reason", F_NULLABLE, &r->reason) < 0)
		return (-1);
	res = word(result, fail, 2, -1);
	r->would = res == 0 || (res == 1 && v != NULL && json_object_get_boolean(v));
	r->soft = r->would || strcmp(level, "prefer") == 0
	    || (v != NULL && json_object_get_boolean(v));
	p->b->nrcpts++;
	return (0);
}

/* extract_rcpts - the rcpts array */

static int
extract_rcpts(struct parse *p, struct json_object *rec)
{
	struct json_object *a;
	size_t	n;

	if (member(p, rec, "", "rcpts", json_type_array, F_REQUIRED, &a) < 0)
		return (-1);
	n = json_object_array_length(a);
	p->f->rcpt0 = p->b->nrcpts;
	p->f->nrcpts = n;
	for (size_t i = 0; i < n; i++) {
		if (grow((void **)&p->b->rcpts, &p->b->rcpts_size, p->b->nrcpts,
			 sizeof(*p->b->rcpts)) < 0) {
			p->b->nomem = true;
			return (bad(p, "", "rcpts", "out of memory"));
		}
		if (extract_rcpt(p, json_object_array_get_idx(a, i), i) < 0)
			return (-1);
	}
	return (0);
}

/* extract - every field the report uses, checked */

static int
extract(struct parse *p, struct json_object *rec)
{
	struct fact *f = p->f;
	struct json_object *v, *client;
	char	what[64];

	if (member(p, rec, "", "v", json_type_int, F_REQUIRED, &v) < 0)
		return (-1);
	if (json_object_get_int64(v) != 1) {
		snprintf(what, sizeof(what), "schema version %lld, expected 1",
			 (long long)json_object_get_int64(v));
		return (bad(p, "", "v", what));
	}
	if (get_str(p, rec, "", "time", F_REQUIRED, &f->time) < 0)
		return (-1);
	if (tp_report_rfc3339(f->time, &f->ms) < 0)
		return (bad(p, "", "time", "not an RFC 3339 time"));
	if (get_str(p, rec, "", "session", F_REQUIRED, &f->session) < 0
	    || get_str(p, rec, "", "queue_id", F_NULLABLE, &f->queue_id) < 0
	    || member(p, rec, "", "client", json_type_object, F_NULLABLE, &client) < 0)
		return (-1);
	f->client_addr = f->client_name = NULL;
	if (client != NULL
	    && (get_str(p, client, "client.", "addr", F_NULLABLE, &f->client_addr) < 0
	 || get_str(p, client, "client.", "name", F_NULLABLE, &f->client_name) < 0))
		return (-1);
	if (extract_tls(p, rec) < 0
	    || get_str(p, rec, "", "sender", F_NULLABLE, &f->sender) < 0
	    || get_domain(p, rec, "", "sender_domain", &f->sender_domain) < 0)
		return (-1);
	return (extract_rcpts(p, rec));
}

/* ascii - no byte has its high bit set; eight at a time */

static bool
ascii(const char *s, size_t len)
{
	uint64_t acc = 0, w;
	size_t	i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < len; i++)
		acc |= (unsigned char)s[i];
	return ((acc & 0x8080808080808080ULL) == 0);
}

/* check_bytes - the line as bytes: size, NUL, UTF-8 */

static const char *
check_bytes(const char *line, size_t len)
{
	if (len > TP_REPORT_LINE_MAX)
		return ("line longer than 1048576 bytes");
	if (memchr(line, 0, len) != NULL)
		return ("NUL byte in line");
	if (!ascii(line, len) && !tp_utf8_valid(line, len))
		return ("not valid UTF-8");
	return (NULL);
}

/* bad_line - note why a whole line is malformed; returns -1 */

static int
bad_line(struct parse *p, const char *what, const char *detail)
{
	snprintf(p->why, sizeof(p->why), "%s%s", what, detail);
	return (-1);
}

/* check_parse - what the tokener made of the line */

static int
check_parse(struct parse *p, struct json_tokener *tok, struct json_object *obj,
	    const char *line, size_t len, bool partial)
{
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t	i = 0, end;

	while (i < len && strchr(" \t\r", line[i]) != NULL)
		i++;
	if (i == len)
		return (bad_line(p, "empty line", ""));
	if (line[i] != '{')
		return (bad_line(p, "not a JSON object", ""));
	if (err == json_tokener_continue)
		return (bad_line(p, "truncated record", partial
				 ? " (no newline at end of file)" : ""));
	if (err != json_tokener_success)
		return (bad_line(p, "not JSON: ", json_tokener_error_desc(err)));
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return (bad_line(p, "not a JSON object", ""));
	for (end = PARSE_END(tok); end < len; end++)
		if (strchr(" \t\r", line[end]) == NULL)
			return (bad_line(p, "text after the JSON object", ""));
	return (0);
}

/* skip - the current fact is a malformed line: keep why */

static void
skip(struct parse *p, const char *why)
{
	size_t	len = strlen(why);
	char   *copy = arena_alloc(&p->b->arena, len + 1);

	if (copy == NULL) {
		p->b->nomem = true;
		p->f->why = "out of memory";
		return;
	}
	memcpy(copy, why, len + 1);
	p->f->why = copy;
}

/* new_fact - the next fact of a batch, empty; NULL: out of memory */

static struct fact *
new_fact(struct batch *b, unsigned long idx)
{
	struct fact *f;

	if (grow((void **)&b->facts, &b->facts_size, b->nfacts, sizeof(*b->facts)) < 0) {
		b->nomem = true;
		return (NULL);
	}
	f = &b->facts[b->nfacts++];
	memset(f, 0, sizeof(*f));
	f->line = idx;
	f->rcpt0 = b->nrcpts;
	return (f);
}

/* parse_line - one line into a fact of the batch */

static void
parse_line(struct batch *b, struct json_tokener *tok, const char *line,
	   size_t len, unsigned long idx, bool partial)
{
	struct parse p = {b, NULL, ""};
	struct json_object *obj = NULL;
	const char *why;

	if ((p.f = new_fact(b, idx)) == NULL)
		return;
	if ((why = check_bytes(line, len)) != NULL) {
		skip(&p, why);
		return;
	}
	json_tokener_reset(tok);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (check_parse(&p, tok, obj, line, len, partial) < 0 || extract(&p, obj) < 0) {
		b->nrcpts = p.f->rcpt0;
		skip(&p, p.why);
	}
	json_object_put(obj);
}

/* tp_report_parse_batch - every line of a batch */

void
tp_report_parse_batch(struct batch *b, struct json_tokener *tok)
{
	const char *s = b->text, *end = b->text + b->len, *nl;
	unsigned long idx = 0;

	batch_reset(b);
	if (tok == NULL) {
		b->nomem = true;
		return;
	}
	if (b->flags & BATCH_OVERLONG) {		/* the reader dropped it */
		struct parse p = {b, new_fact(b, idx), ""};

		if (p.f != NULL)
			skip(&p, "line longer than 1048576 bytes");
		b->nlines = 1;
		return;
	}
	for (; s < end; s = nl + 1, idx++) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		parse_line(b, tok, s, (size_t)(nl - s), idx, nl == end);
	}
	b->nlines = idx;
}

/* tp_report_tokener - a tokener for audit records; NULL: out of memory */

struct json_tokener *
tp_report_tokener(void)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);

	if (tok != NULL)
		json_tokener_set_flags(tok, TOKENER_FLAGS);
	return (tok);
}
