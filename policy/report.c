/*
 * NAME
 *	report 3
 * SUMMARY
 *	tlspolicyctl report: audit log records in, per-name statistics out
 * SYNOPSIS
 *	#include "tp_report.h"
 *
 *	See tp_report.h for the interface.
 * DESCRIPTION
 *	Reading. tp_report_read() reads a file (zlib reads plain and gzip
 *	files alike) in batches of whole lines, BATCH_SIZE bytes each.
 *	Worker threads, each with its own json_tokener, parse batches into
 *	facts: the few fields the report uses, copied into the batch's
 *	arena, or why the line is malformed. The reading thread aggregates
 *	the batches in the order it read them, so the result, the first
 *	skipped line and the examples are the same with any number of
 *	threads. Why threads: json-c parses about 120 MB/s on one core of
 *	the reference machine, and a million records are about 900 MB.
 *
 *	Aggregation. Three hash tables (open addressing, FNV-1a) map a
 *	sender domain, recipient domain or client address to its counts;
 *	a record costs 2 + recipients lookups. A serial number per record
 *	makes a message count once per name, however many of its
 *	recipients share a domain.
 *
 *	Output. The text tables escape every string from the log (control
 *	characters, C1 controls, backslash) so that a hostile record cannot
 *	drive the terminal; JSON is written by json-c.
 * DIAGNOSTICS
 *	Malformed lines are counted, with the first one's FILE:LINE: why.
 *	Memory exhaustion makes tp_report_line() return -2 and
 *	tp_report_read() fail with "out of memory".
 * MEMORY
 *	Batches, facts and arenas are reused from batch to batch; entries
 *	and examples live until tp_report_free().
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1			/* sched_getaffinity, CPU_COUNT */
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zlib.h>

#include "tp_names.h"
#include "tp_report.h"

#define EXIT_READ	2
#define EXIT_USAGE	64

#define BATCH_SIZE	(2 * 1024 * 1024)	/* bytes of lines per batch */
#define NBATCH_MAX	(2 * TP_REPORT_THREADS_MAX + 2)
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
#define VERSION_NAME_MAX 32		/* longer TLS version names: other */
#define CELL_MAX	1024		/* bytes of one text table cell */
#define NAME_SHOW_MAX	300		/* bytes of a name shown in the text */
#define PROGRESS_DELAY	0.5		/* seconds before progress shows */
#define PROGRESS_EVERY	0.2		/* seconds between updates */

#define F_REQUIRED	1		/* a missing member is malformed */
#define F_NULLABLE	2		/* null is a value */

#define BATCH_FREE	0		/* states of a batch */
#define BATCH_QUEUED	1		/* filled, waiting for a worker */
#define BATCH_BUSY	2		/* a worker parses it */
#define BATCH_DONE	3		/* parsed, waiting to be aggregated */

#define BATCH_PARTIAL	1		/* the last line has no newline */
#define BATCH_OVERLONG	2		/* one line too long to hold */

/* What the report needs of one recipient. */
struct rfact {
	const char *addr;
	const char *domain;		/* canonical, or NULL */
	const char *reason;		/* or NULL */
	bool	soft;			/* level prefer, or testing */
	bool	would;			/* require would have rejected it */
};

/* What the report needs of one record, or why it was skipped. */
struct fact {
	unsigned long line;		/* 0-based, in its batch */
	const char *why;		/* malformed: why; NULL: a record */
	long long ms;
	const char *time;
	const char *session;
	const char *queue_id;
	const char *client_addr;
	const char *client_name;
	const char *sender;
	const char *sender_domain;	/* canonical, or NULL */
	const char *version;		/* TLS version, or NULL */
	int	bits;			/* -1: null */
	unsigned char how;		/* enum tp_report_how */
	unsigned char verify;		/* enum tp_report_verify */
	size_t	rcpt0;			/* first recipient in batch->rcpts */
	size_t	nrcpts;
};

struct arena_block {
	struct arena_block *next;
	size_t	used;
	char	data[ARENA_BLOCK];
};

/* Strings that live as long as their batch. */
struct arena {
	struct arena_block *head;
	struct arena_block *cur;
};

/* Whole lines, and what they were parsed into. */
struct batch {
	char   *text;			/* BATCH_SIZE bytes; NULL: single lines */
	size_t	len;
	int	flags;			/* BATCH_PARTIAL, BATCH_OVERLONG */
	int	state;			/* BATCH_FREE ... */
	unsigned long seq;		/* order of submission */
	bool	pending;		/* submitted, not collected (reader only) */
	unsigned long nlines;		/* lines in text, set by the parser */
	struct fact *facts;
	size_t	nfacts;
	size_t	facts_size;
	struct rfact *rcpts;
	size_t	nrcpts;
	size_t	rcpts_size;
	struct arena arena;
	bool	nomem;
};

/* The parsing threads and the batches they share with the reader. */
struct workers {
	pthread_mutex_t lock;		/* guards state, seq and stop */
	pthread_cond_t queued;		/* a batch to parse, or stop */
	pthread_cond_t parsed;		/* a batch is done */
	pthread_t threads[TP_REPORT_THREADS_MAX];
	size_t	nthreads;
	bool	stop;
	struct batch batches[NBATCH_MAX];
	size_t	nbatches;
	size_t	next;			/* the batch to fill next: the oldest */
	unsigned long seq;
};

/* One name's counts, and what aggregation needs besides. */
struct entry {
	struct tp_report_stats s;	/* the public part */
	struct tp_report_example *ex[TP_REPORT_EXAMPLES];
	char   *name;			/* s.name */
	uint64_t hash;
	unsigned long seen;		/* serial of the last record counted */
	unsigned long soft_seen;
	unsigned long reject_seen;
	char	key[];			/* s.key */
};

struct table {
	struct entry **slots;		/* open addressing, linear probing */
	size_t	size;			/* a power of two, or 0 */
	size_t	count;
};

struct tp_report {
	struct tp_report_opts opts;	/* opts.domain: points to domain */
	char   *domain;
	size_t	domain_len;
	struct table tables[TP_REPORT_NGROUPS];
	char	versions[TP_REPORT_VERSIONS][VERSION_NAME_MAX + 1];
	size_t	nversions;
	int	bits[TP_REPORT_BITS];	/* -1: unknown */
	size_t	nbits;
	unsigned long records;		/* also the current record's serial */
	unsigned long left_out;
	unsigned long no_message;	/* records of sessions without a message */
	unsigned long skipped;
	char   *first_skipped;
	bool	has_period;
	long long first_ms;
	long long last_ms;
	char  **files;			/* read with tp_report_read */
	size_t	nfiles;
	bool	nomem;
	struct json_tokener *tok;	/* the caller's thread */
	struct batch line;		/* tp_report_line's batch */
	struct workers *work;		/* NULL until tp_report_read */
	double	started;		/* first tp_report_read */
	double	shown;			/* last progress update */
	int	shown_width;		/* its width; 0: nothing shown */
};

/* The reading side of one file. */
struct reader {
	gzFile	gz;
	const char *path;
	bool	eof;
	bool	discarding;		/* inside an overlong line */
	char   *carry;			/* the start of the next line */
	size_t	ncarry;
	unsigned long lineno;		/* lines aggregated so far */
	int	error;			/* errno after a failed read */
};

/* Parsing one line: where facts go, what went wrong. */
struct parse {
	struct batch *b;
	struct fact *f;
	char	why[200];
};

static const char *const how_names[TP_REPORT_NHOW] = {"none", "starttls", "implicit"};
static const char *const verify_names[TP_REPORT_NVERIFY] = {
	"none", "ok", "fail", "unknown", "other",
};
static const char *const group_titles[TP_REPORT_NGROUPS] = {
	"sender domain", "recipient domain", "client",
};
static const char *const group_json[TP_REPORT_NGROUPS] = {
	"sender_domains", "rcpt_domains", "clients",
};

/* ---- time --------------------------------------------------------------- */

/* now - monotonic seconds */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* days_from_civil - days since 1970-01-01 of a Gregorian date */

static long long
days_from_civil(int y, int m, int d)
{
	long long era;
	int	yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return (era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468);
}

/* format_ms - RFC 3339 UTC with milliseconds */

static const char *
format_ms(long long ms, char *buf, size_t size)
{
	long long secs = ms / 1000 - (ms % 1000 < 0);
	long long days = secs / 86400 - (secs % 86400 < 0);
	long long z = days + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1;
	long long m = mp < 10 ? mp + 3 : mp - 9;
	long long sod = secs - days * 86400;

	snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
		 yoe + era * 400 + (m <= 2), m, d, sod / 3600, sod / 60 % 60,
		 sod % 60, ms - secs * 1000);
	return (buf);
}

/* num - exactly n digits at *sp, advancing; -1 if not */

static int
num(const char **sp, int n)
{
	int	v = 0;

	for (; n > 0; n--, (*sp)++) {
		if (**sp < '0' || **sp > '9')
			return (-1);
		v = v * 10 + (**sp - '0');
	}
	return (v);
}

/* parse_date - "YYYY-MM-DD" at *sp, advancing: days since the epoch */

static int
parse_date(const char **sp, long long *days)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int	y, m, d;

	if ((y = num(sp, 4)) < 0 || *(*sp)++ != '-' || (m = num(sp, 2)) < 1
	    || m > 12 || *(*sp)++ != '-' || (d = num(sp, 2)) < 1 || d > mdays[m - 1])
		return (-1);
	if (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))
		return (-1);
	*days = days_from_civil(y, m, d);
	return (0);
}

/* parse_offset - "Z" or "+HH:MM" at *sp, advancing: minutes east of UTC */

static int
parse_offset(const char **sp, int *minutes)
{
	int	sign, hh, mm;

	if (**sp == 'Z' || **sp == 'z') {
		(*sp)++;
		*minutes = 0;
		return (0);
	}
	if (**sp != '+' && **sp != '-')
		return (-1);
	sign = *(*sp)++ == '-' ? -1 : 1;
	if ((hh = num(sp, 2)) < 0 || hh > 23 || *(*sp)++ != ':'
	    || (mm = num(sp, 2)) < 0 || mm > 59)
		return (-1);
	*minutes = sign * (hh * 60 + mm);
	return (0);
}

/* parse_rfc3339 - an RFC 3339 time, whole string: ms since the epoch */

static int
parse_rfc3339(const char *s, long long *ms)
{
	long long days;
	int	hh, mm, ss, frac = 0, off;

	if (parse_date(&s, &days) < 0 || (*s != 'T' && *s != 't' && *s != ' '))
		return (-1);
	s++;
	if ((hh = num(&s, 2)) < 0 || hh > 23 || *s++ != ':' || (mm = num(&s, 2)) < 0
	    || mm > 59 || *s++ != ':' || (ss = num(&s, 2)) < 0 || ss > 60)
		return (-1);
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return (-1);
		for (int scale = 100; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (parse_offset(&s, &off) < 0 || *s != 0)
		return (-1);
	*ms = ((days * 86400 + hh * 3600 + mm * 60 + ss) - off * 60LL) * 1000 + frac;
	return (0);
}

/* tp_report_parse_time - --since: RFC 3339, a date, or an age */

int
tp_report_parse_time(const char *text, time_t when, long long *ms,
		     const char **why)
{
	static const struct {
		char	unit;
		long long ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000},
	{'w', 604800000}};
	const char *s = text;
	long long n = 0, days;

	for (; *s >= '0' && *s <= '9' && n < 100000000; s++)
		n = n * 10 + (*s - '0');
	for (size_t i = 0; s > text && *s != 0 && s[1] == 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (*s == units[i].unit) {
			*ms = (long long)when * 1000 - n * units[i].ms;
			return (0);
		}
	}
	s = text;
	if (strlen(text) == 10 && parse_date(&s, &days) == 0) {
		*ms = days * 86400000;
		return (0);
	}
	if (parse_rfc3339(text, ms) == 0)
		return (0);
	*why = "expected an RFC 3339 time (2026-11-01T00:00:00Z), a date "
	    "(2026-11-01) or an age (30m, 24h, 7d)";
	return (-1);
}

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

/* batch_free - a batch's memory */

static void
batch_free(struct batch *b)
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
	const char *s, *why;
	size_t	len;
	char   *copy;

	*out = NULL;
	if (member_str(p, obj, pfx, key, F_NULLABLE, &s, &len) < 0)
		return (-1);
	if (s == NULL)
		return (0);
	if ((copy = arena_alloc(&p->b->arena, len + 1)) == NULL) {
		p->b->nomem = true;
		return (bad(p, pfx, key, "out of memory"));
	}
	if (tp_domain_normalize(s, len, copy, &why) < 0)
		return (bad(p, pfx, key, why));
	*out = copy;
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
	if ((how = word(s, how_names, TP_REPORT_NHOW, -1)) < 0)
		return (bad(p, "tls.", "how", "expected none, starttls or implicit"));
	p->f->how = (unsigned char)how;
	if (get_str(p, tls, "tls.", "version", F_NULLABLE, &p->f->version) < 0
	    || member_str(p, tls, "tls.", "verify", F_REQUIRED, &s, &len) < 0
	    || member(p, tls, "tls.", "bits", json_type_int, F_NULLABLE, &v) < 0)
		return (-1);
	p->f->verify = (unsigned char)word(s, verify_names, TP_REPORT_VERIFY_OTHER,
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
	if (parse_rfc3339(f->time, &f->ms) < 0)
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

/* batch_parse - every line of a batch */

static void
batch_parse(struct batch *b, struct json_tokener *tok)
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

/* ---- hash tables -------------------------------------------------------- */

/* hash - FNV-1a */

static uint64_t
hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return (h);
}

/* table_grow - twice the slots, every entry rehashed */

static int
table_grow(struct table *t)
{
	size_t	size = t->size ? t->size * 2 : 64;
	struct entry **slots = calloc(size, sizeof(*slots));

	if (slots == NULL)
		return (-1);
	for (size_t i = 0; i < t->size; i++) {
		size_t	j;

		if (t->slots[i] == NULL)
			continue;
		for (j = t->slots[i]->hash & (size - 1); slots[j] != NULL; j = (j + 1) & (size - 1))
			;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->size = size;
	return (0);
}

/* table_get - the entry of key, added if new; NULL: out of memory */

static struct entry *
table_get(struct table *t, const char *key)
{
	size_t	len = strlen(key), i;
	uint64_t h = hash(key, len);
	struct entry *e;

	if (t->size > 0) {
		for (i = h & (t->size - 1); (e = t->slots[i]) != NULL; i = (i + 1) & (t->size - 1))
			if (e->hash == h && strcmp(e->key, key) == 0)
				return (e);
	}
	if ((t->count + 1) * 2 > t->size && table_grow(t) < 0)
		return (NULL);
	if ((e = calloc(1, sizeof(*e) + len + 1)) == NULL)
		return (NULL);
	memcpy(e->key, key, len + 1);
	e->s.key = e->key;
	e->s.min_bits = -1;
	e->hash = h;
	for (i = h & (t->size - 1); t->slots[i] != NULL; i = (i + 1) & (t->size - 1))
		;
	t->slots[i] = e;
	t->count++;
	return (e);
}

/* table_find - the entry of key, or NULL */

static const struct entry *
table_find(const struct table *t, const char *key)
{
	uint64_t h = hash(key, strlen(key));
	const struct entry *e;

	if (t->size == 0)
		return (NULL);
	for (size_t i = h & (t->size - 1); (e = t->slots[i]) != NULL; i = (i + 1) & (t->size - 1))
		if (e->hash == h && strcmp(e->key, key) == 0)
			return (e);
	return (NULL);
}

/* table_free - every entry, its examples, the slots */

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->size; i++) {
		struct entry *e = t->slots[i];

		if (e == NULL)
			continue;
		for (size_t j = 0; j < e->s.nexamples; j++)
			free(e->ex[j]);
		free(e->name);
		free(e);
	}
	free(t->slots);
}

/* ---- aggregation -------------------------------------------------------- */

/* version_index - the counter of a TLS version name */

static size_t
version_index(struct tp_report *rep, const char *version)
{
	const char *name = version ? version : "unknown";
	size_t	i;

	for (i = 0; i < rep->nversions; i++)
		if (strcmp(rep->versions[i], name) == 0)
			return (i);
	if (i == TP_REPORT_VERSIONS || strlen(name) > VERSION_NAME_MAX)
		return (TP_REPORT_VERSIONS);
	strcpy(rep->versions[i], name);
	return (rep->nversions++);
}

/* bits_index - the counter of a cipher strength (-1: unknown) */

static size_t
bits_index(struct tp_report *rep, int bits)
{
	size_t	i;

	for (i = 0; i < rep->nbits; i++)
		if (rep->bits[i] == bits)
			return (i);
	if (i == TP_REPORT_BITS)
		return (TP_REPORT_BITS);
	rep->bits[i] = bits;
	return (rep->nbits++);
}

/* count_message - a message for one name, once per record */

static void
count_message(struct tp_report *rep, struct entry *e, const struct fact *f,
	      size_t version, size_t bits)
{
	if (e->seen == rep->records)
		return;
	e->seen = rep->records;
	e->s.messages++;
	e->s.how[f->how]++;
	if (f->how == TP_REPORT_HOW_NONE)
		return;
	e->s.tls++;
	e->s.versions[version]++;
	e->s.bits[bits]++;
	e->s.verify[f->verify]++;
	if (f->bits >= 0 && (e->s.min_bits < 0 || f->bits < e->s.min_bits))
		e->s.min_bits = f->bits;
}

/* copy_to - s into the block at *cursor, advancing; NULL stays NULL */

static const char *
copy_to(char **cursor, const char *s)
{
	char   *out = *cursor;
	size_t	len;

	if (s == NULL)
		return (NULL);
	len = strlen(s) + 1;
	memcpy(out, s, len);
	*cursor += len;
	return (out);
}

/* example_new - one example in one block of memory */

static struct tp_report_example *
example_new(const struct fact *f, const struct rfact *r)
{
	const char *strs[] = {f->time, f->session, f->queue_id, f->client_addr,
	f->client_name, f->sender, r->addr, r->reason};
	struct tp_report_example *x;
	size_t	size = sizeof(*x);
	char   *cursor;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		size += strs[i] ? strlen(strs[i]) + 1 : 0;
	if ((x = malloc(size)) == NULL)
		return (NULL);
	cursor = (char *)(x + 1);
	x->ms = f->ms;
	x->time = copy_to(&cursor, f->time);
	x->session = copy_to(&cursor, f->session);
	x->queue_id = copy_to(&cursor, f->queue_id);
	x->client_addr = copy_to(&cursor, f->client_addr);
	x->client_name = copy_to(&cursor, f->client_name);
	x->sender = copy_to(&cursor, f->sender);
	x->rcpt = copy_to(&cursor, r->addr);
	x->reason = copy_to(&cursor, r->reason);
	return (x);
}

/* add_example - keep the newest examples, newest first */

static int
add_example(struct entry *e, const struct fact *f, const struct rfact *r)
{
	size_t	n = e->s.nexamples, i;
	struct tp_report_example *x;

	if (n == TP_REPORT_EXAMPLES && f->ms <= e->ex[n - 1]->ms)
		return (0);
	if ((x = example_new(f, r)) == NULL)
		return (-1);
	if (n == TP_REPORT_EXAMPLES)
		free(e->ex[--n]);
	for (i = n; i > 0 && e->ex[i - 1]->ms < f->ms; i--)
		e->ex[i] = e->ex[i - 1];
	e->ex[i] = x;
	e->s.nexamples = n + 1;
	for (i = 0; i < e->s.nexamples; i++)
		e->s.examples[i] = e->ex[i];
	return (0);
}

/* count_decision - a recipient decision for one name */

static int
count_decision(struct tp_report *rep, struct entry *e, const struct fact *f,
	       const struct rfact *r)
{
	if (r->soft && e->soft_seen != rep->records) {
		e->soft_seen = rep->records;
		e->s.soft++;
	}
	if (!r->would || e->reject_seen == rep->records)
		return (0);
	e->reject_seen = rep->records;
	e->s.would_reject++;
	return (add_example(e, f, r));
}

/* in_domain - name is the report's domain or a subdomain of it */

static bool
in_domain(const struct tp_report *rep, const char *name)
{
	size_t	len;

	if (name == NULL)
		return (false);
	len = strlen(name);
	if (len == rep->domain_len)
		return (memcmp(name, rep->domain, len) == 0);
	return (len > rep->domain_len && name[len - rep->domain_len - 1] == '.'
		&& memcmp(name + len - rep->domain_len, rep->domain, rep->domain_len) == 0);
}

/* wanted - the record passes the since and domain filters */

static bool
wanted(const struct tp_report *rep, const struct fact *f, const struct rfact *r)
{
	if (rep->opts.has_since && f->ms < rep->opts.since_ms)
		return (false);
	if (rep->domain == NULL || in_domain(rep, f->sender_domain))
		return (true);
	for (size_t i = 0; i < f->nrcpts; i++)
		if (in_domain(rep, r[i].domain))
			return (true);
	return (false);
}

/* count_name - a client's verified name, the first one seen */

static int
count_name(struct entry *client, const char *name)
{
	if (client->name != NULL || name == NULL)
		return (0);
	if ((client->name = strdup(name)) == NULL)
		return (-1);
	client->s.name = client->name;
	return (0);
}

/* aggregate - count one record: 1, 0 left out, -2 out of memory */

static int
aggregate(struct tp_report *rep, const struct fact *f, const struct rfact *r)
{
	const char *skey;
	struct entry *sender, *client, *rd;
	size_t	version = 0, bits = 0;
	int	rc = 0;

	/* A session without a message (outcome "no-message") is no message. */
	if (f->sender == NULL) {
		rep->no_message++;
		return (0);
	}
	if (!wanted(rep, f, r)) {
		rep->left_out++;
		return (0);
	}
	rep->records++;
	skey = f->sender_domain ? f->sender_domain : strcmp(f->sender, "<>") == 0 ? "<>" : "";
	if (!rep->has_period || f->ms < rep->first_ms)
		rep->first_ms = f->ms;
	if (!rep->has_period || f->ms > rep->last_ms)
		rep->last_ms = f->ms;
	rep->has_period = true;
	if (f->how != TP_REPORT_HOW_NONE) {
		version = version_index(rep, f->version);
		bits = bits_index(rep, f->bits);
	}
	if ((sender = table_get(&rep->tables[TP_REPORT_SENDER], skey)) == NULL
	    || (client = table_get(&rep->tables[TP_REPORT_CLIENT],
				   f->client_addr ? f->client_addr : "")) == NULL)
		return (-2);
	count_message(rep, sender, f, version, bits);
	count_message(rep, client, f, version, bits);
	rc |= count_name(client, f->client_name);
	for (size_t i = 0; i < f->nrcpts; i++) {
		if ((rd = table_get(&rep->tables[TP_REPORT_RCPT],
				    r[i].domain ? r[i].domain : "")) == NULL)
			return (-2);
		count_message(rep, rd, f, version, bits);
		rc |= count_decision(rep, sender, f, &r[i]);
		rc |= count_decision(rep, client, f, &r[i]);
		rc |= count_decision(rep, rd, f, &r[i]);
	}
	return (rc < 0 ? -2 : 1);
}

/* skipped - count a malformed line, keep the first one's place */

static void
skipped(struct tp_report *rep, const char *file, unsigned long lineno,
	const char *why)
{
	size_t	size;

	if (rep->skipped++ > 0)
		return;
	size = strlen(file) + strlen(why) + 32;
	if ((rep->first_skipped = malloc(size)) != NULL)
		snprintf(rep->first_skipped, size, "%s:%lu: %s", file, lineno, why);
}

/* tp_report_new - an empty report */

struct tp_report *
tp_report_new(const struct tp_report_opts *opts)
{
	struct tp_report *rep = calloc(1, sizeof(*rep));

	if (rep == NULL)
		return (NULL);
	rep->opts = *opts;
	if (rep->opts.threads > TP_REPORT_THREADS_MAX)
		rep->opts.threads = TP_REPORT_THREADS_MAX;
	if ((rep->tok = json_tokener_new_ex(JSON_DEPTH)) == NULL
	    || (opts->domain != NULL && (rep->domain = strdup(opts->domain)) == NULL)) {
		tp_report_free(rep);
		return (NULL);
	}
	json_tokener_set_flags(rep->tok, TOKENER_FLAGS);
	rep->opts.domain = rep->domain;
	rep->domain_len = rep->domain ? strlen(rep->domain) : 0;
	return (rep);
}

/* tp_report_line - one record: 1 counted, 0 left out, -1 skipped, -2 no memory */

int
tp_report_line(struct tp_report *rep, const char *line, size_t len,
	       const char *file, unsigned long lineno)
{
	struct batch *b = &rep->line;
	const struct fact *f;
	int	rc;

	batch_reset(b);
	parse_line(b, rep->tok, line, len, 0, false);
	if (b->nomem) {
		rep->nomem = true;
		return (-2);
	}
	f = &b->facts[0];
	if (f->why != NULL) {
		skipped(rep, file, lineno, f->why);
		return (-1);
	}
	if ((rc = aggregate(rep, f, b->rcpts + f->rcpt0)) == -2)
		rep->nomem = true;
	return (rc);
}

/* ---- text helpers ------------------------------------------------------- */

/* display - terminal-safe text: control bytes and C1 escaped, capped */

static const char *
display(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t	o = 0, n, i;

	while (*s != 0) {
		if (size - o < 12) {		/* an escape, "..." and NUL */
			memcpy(out + o, "...", 4);
			return (out);
		}
		n = *s < 0x80 ? 1 : *s < 0xc2 || *s > 0xf4 ? 0 : *s < 0xe0 ? 2 : *s < 0xf0 ? 3 : 4;
		for (i = 1; i < n && (s[i] & 0xc0) == 0x80; i++)
			;
		if (n == 2 && s[0] == 0xc2 && s[1] <= 0x9f) {
			o += (size_t)snprintf(out + o, size - o, "\\u%04x", s[1]);
			s += 2;
		} else if (n == 0 || i < n || *s < 0x20 || *s == 0x7f) {
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", *s++);
		} else if (*s == '\\') {
			out[o++] = '\\';
			out[o++] = *s++;
		} else {
			memcpy(out + o, s, n);
			o += n;
			s += n;
		}
	}
	out[o] = 0;
	return (out);
}

/* width - columns that text takes: one per character */

static size_t
width(const char *text)
{
	size_t	n = 0;

	for (; *text != 0; text++)
		n += ((unsigned char)*text & 0xc0) != 0x80;
	return (n);
}

/* ---- reading files, parsing in threads ---------------------------------- */

/* next_queued - the oldest queued batch, or NULL (lock held) */

static struct batch *
next_queued(struct workers *w)
{
	struct batch *oldest = NULL;

	for (size_t i = 0; i < w->nbatches; i++)
		if (w->batches[i].state == BATCH_QUEUED
		    && (oldest == NULL || w->batches[i].seq < oldest->seq))
			oldest = &w->batches[i];
	return (oldest);
}

/* worker - a parsing thread: queued batches, oldest first, until stop */

static void *
worker(void *arg)
{
	struct workers *w = arg;
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	struct batch *b;

	if (tok != NULL)
		json_tokener_set_flags(tok, TOKENER_FLAGS);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		if ((b = next_queued(w)) == NULL) {
			if (w->stop)
				break;
			pthread_cond_wait(&w->queued, &w->lock);
			continue;
		}
		b->state = BATCH_BUSY;
		pthread_mutex_unlock(&w->lock);
		batch_parse(b, tok);
		pthread_mutex_lock(&w->lock);
		b->state = BATCH_DONE;
		pthread_cond_broadcast(&w->parsed);
	}
	pthread_mutex_unlock(&w->lock);
	if (tok != NULL)
		json_tokener_free(tok);
	return (NULL);
}

/* workers_stop - end the threads, free the batches (NULL is fine) */

static void
workers_stop(struct workers *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->queued);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	for (size_t i = 0; i < w->nbatches; i++)
		batch_free(&w->batches[i]);
	pthread_cond_destroy(&w->parsed);
	pthread_cond_destroy(&w->queued);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* workers_start - the batches, and opts.threads threads (fewer: fine) */

static int
workers_start(struct tp_report *rep)
{
	struct workers *w = calloc(1, sizeof(*w));

	if ((rep->work = w) == NULL)
		return (-1);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->queued, NULL);
	pthread_cond_init(&w->parsed, NULL);
	w->nbatches = rep->opts.threads ? 2 * rep->opts.threads + 2 : 1;
	for (size_t i = 0; i < w->nbatches; i++)
		if ((w->batches[i].text = malloc(BATCH_SIZE)) == NULL)
			return (-1);
	for (size_t i = 0; i < rep->opts.threads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker, w) != 0)
			break;
		w->nthreads++;
	}
	return (0);
}

/* submit - hand a filled batch to the workers, or parse it here */

static void
submit(struct tp_report *rep, struct batch *b)
{
	struct workers *w = rep->work;

	b->pending = true;
	if (w->nthreads == 0) {
		batch_parse(b, rep->tok);
		return;
	}
	pthread_mutex_lock(&w->lock);
	b->seq = ++w->seq;
	b->state = BATCH_QUEUED;
	pthread_cond_signal(&w->queued);
	pthread_mutex_unlock(&w->lock);
}

/* collect - wait for a submitted batch, count it unless failed before */

static int
collect(struct tp_report *rep, struct reader *rd, struct batch *b, int rc)
{
	struct workers *w = rep->work;

	if (w->nthreads > 0) {
		pthread_mutex_lock(&w->lock);
		while (b->state != BATCH_DONE)
			pthread_cond_wait(&w->parsed, &w->lock);
		b->state = BATCH_FREE;
		pthread_mutex_unlock(&w->lock);
	}
	b->pending = false;
	if (rc != 0)
		return (rc);
	if (b->nomem)
		return (-2);
	for (size_t i = 0; i < b->nfacts; i++) {
		const struct fact *f = &b->facts[i];

		if (f->why != NULL)
			skipped(rep, rd->path, rd->lineno + f->line + 1, f->why);
		else if (aggregate(rep, f, b->rcpts + f->rcpt0) == -2)
			return (-2);
	}
	rd->lineno += b->nlines;
	return (0);
}

/* last_newline - the last '\n' in text, or NULL */

static const char *
last_newline(const char *text, size_t len)
{
	while (len > 0)
		if (text[--len] == '\n')
			return (text + len);
	return (NULL);
}

/* discard - drop data up to the end of an overlong line: bytes kept */

static size_t
discard(struct reader *rd, char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);
	size_t	keep;

	if (nl == NULL)
		return (0);
	rd->discarding = false;
	keep = len - (size_t)(nl + 1 - data);
	memmove(data, nl + 1, keep);
	return (keep);
}

/* truncated - at the end of input, inside a gzip stream */

static bool
truncated(gzFile gz)
{
	int	zerr;

	gzerror(gz, &zerr);
	return (zerr == Z_BUF_ERROR);
}

/* fill - whole lines into a batch: 1, 0 at the end, -1 read error */

static int
fill(struct reader *rd, struct batch *b)
{
	const char *nl;
	int	n;

	b->flags = 0;
	memcpy(b->text, rd->carry, rd->ncarry);
	b->len = rd->ncarry;
	rd->ncarry = 0;
	while (!rd->eof && b->len < BATCH_SIZE) {
		if ((n = gzread(rd->gz, b->text + b->len, (unsigned)(BATCH_SIZE - b->len))) < 0)
			return (-1);
		if (n == 0 && truncated(rd->gz))
			return (-1);
		if (n == 0)
			rd->eof = true;
		else
			b->len += rd->discarding ? discard(rd, b->text + b->len, (size_t)n) : (size_t)n;
	}
	if (b->len == 0)
		return (0);
	if ((nl = last_newline(b->text, b->len)) != NULL) {
		rd->ncarry = b->len - (size_t)(nl + 1 - b->text);
		memcpy(rd->carry, nl + 1, rd->ncarry);
		b->len = (size_t)(nl + 1 - b->text);
	} else if (rd->eof) {
		b->flags |= BATCH_PARTIAL;
	} else {
		b->flags |= BATCH_OVERLONG;
		b->len = 0;
		rd->discarding = true;
	}
	return (1);
}

/* progress - "\rreading FILE: N records" on stderr, once reading is slow */

static void
progress(struct tp_report *rep, const struct reader *rd)
{
	char	name[NAME_SHOW_MAX];
	double	t;

	if (!rep->opts.progress || (t = now()) - rep->started < PROGRESS_DELAY
	    || t - rep->shown < PROGRESS_EVERY)
		return;
	rep->shown = t;
	rep->shown_width = fprintf(stderr, "\rreading %s: %lu records",
				   display(rd->path, name, sizeof(name)), rd->lineno) - 1;
}

/* progress_end - clear the progress line */

static void
progress_end(struct tp_report *rep)
{
	if (rep->shown_width > 0)
		fprintf(stderr, "\r%*s\r", rep->shown_width, "");
	rep->shown_width = 0;
}

/* pump - read, parse and count a whole file: 0, -1 read error, -2 memory */

static int
pump(struct tp_report *rep, struct reader *rd)
{
	struct workers *w = rep->work;
	struct batch *b;
	int	rc = 0, n;

	for (;;) {
		b = &w->batches[w->next];
		if (b->pending)
			rc = collect(rep, rd, b, rc);
		if (rc != 0 || (n = fill(rd, b)) == 0)
			break;
		if (n < 0) {
			rd->error = errno;
			rc = -1;
			break;
		}
		submit(rep, b);
		w->next = (w->next + 1) % w->nbatches;
		progress(rep, rd);
	}
	for (size_t i = 0; i < w->nbatches; i++) {
		b = &w->batches[(w->next + i) % w->nbatches];
		if (b->pending)
			rc = collect(rep, rd, b, rc);
	}
	return (rc);
}

/* open_reader - the file (or "-", standard input) through zlib */

static int
open_reader(struct reader *rd, const char *path, char *why, size_t whylen)
{
	int	fd;

	errno = 0;
	if (strcmp(path, "-") == 0) {
		rd->path = "(standard input)";
		if ((fd = dup(STDIN_FILENO)) >= 0 && (rd->gz = gzdopen(fd, "rb")) == NULL)
			close(fd);
	} else {
		rd->path = path;
		rd->gz = gzopen(path, "rb");
	}
	if (rd->gz == NULL || (rd->carry = malloc(BATCH_SIZE)) == NULL) {
		snprintf(why, whylen, "%s: %s", rd->path, errno ? strerror(errno) : "out of memory");
		return (-1);
	}
	gzbuffer(rd->gz, 256 * 1024);
	return (0);
}

/* read_error - why reading failed: the system's word or zlib's */

static void
read_error(const struct reader *rd, char *why, size_t whylen)
{
	int	zerr;
	const char *msg = gzerror(rd->gz, &zerr);

	if (zerr == Z_BUF_ERROR)
		msg = "gzip file ends early (truncated?)";
	snprintf(why, whylen, "%s: %s", rd->path, zerr == Z_ERRNO ? strerror(rd->error) : msg);
}

/* add_file - remember a file read, for the report's header */

static int
add_file(struct tp_report *rep, const char *path)
{
	char  **files = realloc(rep->files, (rep->nfiles + 1) * sizeof(*files));

	if (files == NULL)
		return (-1);
	rep->files = files;
	if ((files[rep->nfiles] = strdup(path)) == NULL)
		return (-1);
	rep->nfiles++;
	return (0);
}

/* tp_report_read - every line of one audit log */

int
tp_report_read(struct tp_report *rep, const char *path, char *why, size_t whylen)
{
	struct reader rd;
	int	rc;

	memset(&rd, 0, sizeof(rd));
	if (rep->work == NULL && workers_start(rep) < 0) {
		workers_stop(rep->work);
		rep->work = NULL;
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	if (rep->started == 0)
		rep->started = now();
	if (open_reader(&rd, path, why, whylen) < 0) {
		if (rd.gz != NULL)
			gzclose(rd.gz);
		return (-1);
	}
	rc = pump(rep, &rd);
	progress_end(rep);
	if (rc == -1)
		read_error(&rd, why, whylen);
	else if (rc == -2 || add_file(rep, rd.path) < 0)
		snprintf(why, whylen, "%s: out of memory", rd.path);
	if (rc == -2)
		rep->nomem = true;
	gzclose(rd.gz);
	free(rd.carry);
	return (rc == 0 && !rep->nomem ? 0 : -1);
}

/* tp_report_free - everything */

void
tp_report_free(struct tp_report *rep)
{
	if (rep == NULL)
		return;
	if (rep->work != NULL)
		workers_stop(rep->work);
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		table_free(&rep->tables[g]);
	for (size_t i = 0; i < rep->nfiles; i++)
		free(rep->files[i]);
	free(rep->files);
	free(rep->first_skipped);
	free(rep->domain);
	if (rep->tok != NULL)
		json_tokener_free(rep->tok);
	batch_free(&rep->line);
	free(rep);
}

/* ---- results ------------------------------------------------------------ */

/* tp_report_totals - what was read, counted, left out and skipped */

void
tp_report_totals(const struct tp_report *rep, struct tp_report_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->records = rep->records;
	t->left_out = rep->left_out;
	t->skipped = rep->skipped;
	t->first_skipped = rep->first_skipped;
	t->has_period = rep->has_period;
	t->first_ms = rep->first_ms;
	t->last_ms = rep->last_ms;
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		t->names[g] = rep->tables[g].count;
}

/* tp_report_find - the counts of one name */

const struct tp_report_stats *
tp_report_find(const struct tp_report *rep, enum tp_report_group g,
	       const char *key)
{
	const struct entry *e = table_find(&rep->tables[g], key);

	return (e ? &e->s : NULL);
}

/* tp_report_version_count - TLS messages of a name with this version */

unsigned long
tp_report_version_count(const struct tp_report *rep,
			const struct tp_report_stats *s, const char *version)
{
	for (size_t i = 0; i < rep->nversions; i++)
		if (strcmp(rep->versions[i], version) == 0)
			return (s->versions[i]);
	return (strcmp(version, "other") == 0 ? s->versions[TP_REPORT_VERSIONS] : 0);
}

/* tp_report_bits_count - TLS messages of a name with this strength */

unsigned long
tp_report_bits_count(const struct tp_report *rep,
		     const struct tp_report_stats *s, int bits)
{
	for (size_t i = 0; i < rep->nbits; i++)
		if (rep->bits[i] == bits)
			return (s->bits[i]);
	return (0);
}

/* ---- text output -------------------------------------------------------- */

enum {
	COL_NAME, COL_HOST, COL_MESSAGES, COL_TLS, COL_STARTTLS, COL_IMPLICIT,
	COL_VERSIONS, COL_MIN_BITS, COL_BITS, COL_VERIFY, COL_REJECT, COL_READY,
	NCOLS,
};

static const struct {
	const char *title;
	bool	right;			/* numbers: right-aligned */
} columns[NCOLS] = {
	{"NAME", false}, {"HOST NAME", false}, {"MESSAGES", true}, {"TLS", true},
	{"STARTTLS", true}, {"IMPLICIT", true}, {"VERSIONS", false},
	{"MIN BITS", true}, {"BITS", false}, {"VERIFY", false},
	{"WOULD REJECT", true}, {"READY", false},
};

static const char *const name_titles[TP_REPORT_NGROUPS] = {
	"SENDER DOMAIN", "RECIPIENT DOMAIN", "CLIENT",
};

/* One counted value, for a "name:count ..." cell. */
struct tally {
	char	name[VERSION_NAME_MAX * 4 + 16];
	unsigned long n;
};

/* by_messages - most messages first, then by name */

static int
by_messages(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;

	if (x->s.messages != y->s.messages)
		return (x->s.messages > y->s.messages ? -1 : 1);
	return (strcmp(x->key, y->key));
}

/* by_count - biggest count first, then by name */

static int
by_count(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	if (x->n != y->n)
		return (x->n > y->n ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* sorted - a group's entries, most messages first (caller frees) */

static const struct entry **
sorted(const struct tp_report *rep, int g, size_t *n)
{
	const struct table *t = &rep->tables[g];
	const struct entry **v = malloc((t->count + 1) * sizeof(*v));

	*n = 0;
	if (v == NULL)
		return (NULL);
	for (size_t i = 0; i < t->size; i++)
		if (t->slots[i] != NULL)
			v[(*n)++] = t->slots[i];
	qsort(v, *n, sizeof(*v), by_messages);
	return (v);
}

/* name_of - a key as people read it */

static const char *
name_of(const struct entry *e, int g, char *buf, size_t size)
{
	if (e->key[0] == 0)
		return (g == TP_REPORT_CLIENT ? "(unknown)" : "(none)");
	return (display(e->key, buf, size));
}

/* tally_cell - "TLSv1.3:1000 TLSv1.2:194", biggest first; "-" if none */

static void
tally_cell(struct tally *t, size_t n, char *cell, size_t size)
{
	size_t	o = 0;

	qsort(t, n, sizeof(*t), by_count);
	strcpy(cell, "-");
	for (size_t i = 0; i < n && t[i].n > 0 && o < size; i++)
		o += (size_t)snprintf(cell + o, size - o, "%s%s:%lu", o ? " " : "",
				      t[i].name, t[i].n);
}

/* versions_cell - TLS versions with counts */

static void
versions_cell(const struct tp_report *rep, const struct entry *e, char *cell)
{
	struct tally t[TP_REPORT_VERSIONS + 1];
	size_t	n = 0;

	for (size_t i = 0; i <= rep->nversions; i++) {
		size_t	k = i < rep->nversions ? i : TP_REPORT_VERSIONS;

		display(k < TP_REPORT_VERSIONS ? rep->versions[k] : "other",
			t[n].name, sizeof(t[n].name));
		t[n++].n = e->s.versions[k];
	}
	tally_cell(t, n, cell, CELL_MAX);
}

/* bits_cell - cipher strengths with counts */

static void
bits_cell(const struct tp_report *rep, const struct entry *e, char *cell)
{
	struct tally t[TP_REPORT_BITS + 1];
	size_t	n = 0;

	for (size_t i = 0; i <= rep->nbits; i++) {
		size_t	k = i < rep->nbits ? i : TP_REPORT_BITS;

		if (k == TP_REPORT_BITS)
			strcpy(t[n].name, "other");
		else if (rep->bits[k] < 0)
			strcpy(t[n].name, "unknown");
		else
			snprintf(t[n].name, sizeof(t[n].name), "%d", rep->bits[k]);
		t[n++].n = e->s.bits[k];
	}
	tally_cell(t, n, cell, CELL_MAX);
}

/* verify_cell - certificate verification results with counts */

static void
verify_cell(const struct entry *e, char *cell)
{
	struct tally t[TP_REPORT_NVERIFY];

	for (size_t i = 0; i < TP_REPORT_NVERIFY; i++) {
		strcpy(t[i].name, verify_names[i]);
		t[i].n = e->s.verify[i];
	}
	tally_cell(t, TP_REPORT_NVERIFY, cell, CELL_MAX);
}

/* row_cells - one table row as text */

static void
row_cells(const struct tp_report *rep, const struct entry *e, int g,
	  char cells[NCOLS][CELL_MAX])
{
	const struct tp_report_stats *s = &e->s;

	name_of(e, g, cells[COL_NAME], NAME_SHOW_MAX);
	if (s->name != NULL)
		display(s->name, cells[COL_HOST], NAME_SHOW_MAX);
	else
		strcpy(cells[COL_HOST], "-");
	snprintf(cells[COL_MESSAGES], CELL_MAX, "%lu", s->messages);
	snprintf(cells[COL_TLS], CELL_MAX, "%.1f%%",
		 s->messages ? 100.0 * (double)s->tls / (double)s->messages : 0.0);
	snprintf(cells[COL_STARTTLS], CELL_MAX, "%lu", s->how[TP_REPORT_HOW_STARTTLS]);
	snprintf(cells[COL_IMPLICIT], CELL_MAX, "%lu", s->how[TP_REPORT_HOW_IMPLICIT]);
	versions_cell(rep, e, cells[COL_VERSIONS]);
	snprintf(cells[COL_MIN_BITS], CELL_MAX, s->min_bits < 0 ? "-" : "%d", s->min_bits);
	bits_cell(rep, e, cells[COL_BITS]);
	verify_cell(e, cells[COL_VERIFY]);
	snprintf(cells[COL_REJECT], CELL_MAX, s->soft ? "%lu" : "-", s->would_reject);
	strcpy(cells[COL_READY], s->soft == 0 ? "-" : s->would_reject ? "no" : "yes");
}

/* print_row - cells padded to their column widths */

static void
print_row(FILE *fp, char cells[NCOLS][CELL_MAX], const size_t *widths, int g)
{
	for (int c = 0; c < NCOLS; c++) {
		size_t	pad;

		if (c == COL_HOST && g != TP_REPORT_CLIENT)
			continue;
		pad = widths[c] - width(cells[c]);
		if (columns[c].right)
			fprintf(fp, "%*s%s", (int)pad, "", cells[c]);
		else
			fprintf(fp, "%s%*s", cells[c], c == NCOLS - 1 ? 0 : (int)pad, "");
		fputs(c == NCOLS - 1 ? "\n" : "  ", fp);
	}
}

/* print_table - one group: a header, then a row per name */

static void
print_table(const struct tp_report *rep, FILE *fp, int g)
{
	char	cells[NCOLS][CELL_MAX];
	size_t	widths[NCOLS], n;
	const struct entry **v = sorted(rep, g, &n);

	fprintf(fp, "\n%c%ss: %zu\n", group_titles[g][0] - 'a' + 'A', group_titles[g] + 1, n);
	for (int c = 0; c < NCOLS; c++) {
		strcpy(cells[c], c == COL_NAME ? name_titles[g] : columns[c].title);
		widths[c] = width(cells[c]);
	}
	for (size_t i = 0; v != NULL && i < n; i++) {
		row_cells(rep, v[i], g, cells);
		for (int c = 0; c < NCOLS; c++)
			widths[c] = width(cells[c]) > widths[c] ? width(cells[c]) : widths[c];
	}
	for (int c = 0; c < NCOLS; c++)
		strcpy(cells[c], c == COL_NAME ? name_titles[g] : columns[c].title);
	print_row(fp, cells, widths, g);
	for (size_t i = 0; v != NULL && i < n; i++) {
		row_cells(rep, v[i], g, cells);
		print_row(fp, cells, widths, g);
	}
	free(v);
}

/* print_example - one message require would have rejected */

static void
print_example(FILE *fp, const struct tp_report_example *x)
{
	char	a[NAME_SHOW_MAX], b[NAME_SHOW_MAX], c[NAME_SHOW_MAX];

	fprintf(fp, "  %s  session %s", display(x->time, a, sizeof(a)),
		display(x->session, b, sizeof(b)));
	fprintf(fp, "  queue_id %s", x->queue_id ? display(x->queue_id, a, sizeof(a)) : "-");
	fprintf(fp, "  client %s%s%s%s\n",
		x->client_addr ? display(x->client_addr, b, sizeof(b)) : "(unknown)",
		x->client_name ? " (" : "",
		x->client_name ? display(x->client_name, c, sizeof(c)) : "",
		x->client_name ? ")" : "");
	fprintf(fp, "    from %s to %s\n", display(x->sender, a, sizeof(a)),
		display(x->rcpt, b, sizeof(b)));
	fprintf(fp, "    reason: %s\n", x->reason ? display(x->reason, c, sizeof(c)) : "-");
}

/* print_examples - names with messages require would have rejected */

static size_t
print_examples(const struct tp_report *rep, FILE *fp, int g)
{
	char	name[NAME_SHOW_MAX];
	size_t	n, shown = 0;
	const struct entry **v = sorted(rep, g, &n);

	for (size_t i = 0; v != NULL && i < n; i++) {
		const struct tp_report_stats *s = &v[i]->s;

		if (s->would_reject == 0)
			continue;
		fprintf(fp, "\n%s %s: %lu of %lu message%s; not ready to enforce\n",
			group_titles[g], name_of(v[i], g, name, sizeof(name)),
			s->would_reject, s->messages, s->messages == 1 ? "" : "s");
		for (size_t j = 0; j < s->nexamples; j++)
			print_example(fp, s->examples[j]);
		shown++;
	}
	free(v);
	return (shown);
}

/* print_header - what was read, and the filters */

static void
print_header(const struct tp_report *rep, FILE *fp)
{
	char	a[NAME_SHOW_MAX], b[NAME_SHOW_MAX];

	fprintf(fp, "tlspolicy audit report\n");
	if (rep->nfiles > 0) {
		fprintf(fp, "  files     ");
		for (size_t i = 0; i < rep->nfiles; i++)
			fprintf(fp, "%s%s", i ? ", " : "", display(rep->files[i], a, sizeof(a)));
		fprintf(fp, "\n");
	}
	if (rep->has_period)
		fprintf(fp, "  period    %s to %s\n", format_ms(rep->first_ms, a, sizeof(a)),
			format_ms(rep->last_ms, b, sizeof(b)));
	fprintf(fp, "  records   %lu", rep->records);
	if (rep->no_message)
		fprintf(fp, " (and %lu sessions without a message)", rep->no_message);
	fprintf(fp, "\n");
	if (rep->opts.has_since || rep->domain != NULL) {
		fprintf(fp, "  left out  %lu (", rep->left_out);
		if (rep->opts.has_since)
			fprintf(fp, "before %s%s", format_ms(rep->opts.since_ms, a, sizeof(a)),
				rep->domain ? "; " : "");
		if (rep->domain != NULL)
			fprintf(fp, "not to or from %s", display(rep->domain, b, sizeof(b)));
		fprintf(fp, ")\n");
	}
}

/* tp_report_print_text - the report for people */

void
tp_report_print_text(const struct tp_report *rep, FILE *fp)
{
	size_t	shown = 0;

	print_header(rep, fp);
	if (rep->records == 0)
		return;
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		print_table(rep, fp, g);
	fprintf(fp, "\nMessages that require would have rejected "
		"(the newest %d per name)\n", TP_REPORT_EXAMPLES);
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		shown += print_examples(rep, fp, g);
	if (shown == 0)
		fprintf(fp, "  none\n");
}

/* ---- JSON output -------------------------------------------------------- */

/* json_put - write a value (NULL: null) and drop it */

static void
json_put(FILE *fp, struct json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
					     | JSON_C_TO_STRING_NOSLASHESCAPE), fp);
	json_object_put(o);
}

/* json_str - a string value, or null */

static struct json_object *
json_str(const char *s)
{
	return (s != NULL ? json_object_new_string(s) : NULL);
}

/* json_counts - {"name": count, ...} of the non-zero counts */

static struct json_object *
json_counts(const char *const *names, const unsigned long *counts, size_t n)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < n; i++)
		if (counts[i] > 0)
			json_object_object_add(o, names[i], json_object_new_int64((int64_t)counts[i]));
	return (o);
}

/* json_tls - TLS versions, cipher strengths, verification */

static void
json_tls(const struct tp_report *rep, const struct entry *e, struct json_object *o)
{
	const char *names[TP_REPORT_BITS + 1];
	char	bits[TP_REPORT_BITS][16];
	struct json_object *cb = json_object_new_object();
	size_t	i;

	for (i = 0; i < rep->nversions; i++)
		names[i] = rep->versions[i];
	for (; i <= TP_REPORT_VERSIONS; i++)
		names[i] = "other";
	json_object_object_add(o, "tls_versions", json_counts(names, e->s.versions,
							    TP_REPORT_VERSIONS + 1));
	for (i = 0; i < rep->nbits; i++) {
		snprintf(bits[i], sizeof(bits[i]), "%d", rep->bits[i]);
		names[i] = rep->bits[i] < 0 ? "unknown" : bits[i];
	}
	for (; i <= TP_REPORT_BITS; i++)
		names[i] = "other";
	json_object_object_add(cb, "min", e->s.min_bits < 0 ? NULL
			       : json_object_new_int(e->s.min_bits));
	json_object_object_add(cb, "counts", json_counts(names, e->s.bits, TP_REPORT_BITS + 1));
	json_object_object_add(o, "cipher_bits", cb);
	json_object_object_add(o, "verify", json_counts(verify_names, e->s.verify,
							TP_REPORT_NVERIFY));
}

/* json_example - one message require would have rejected */

static struct json_object *
json_example(const struct tp_report_example *x)
{
	struct json_object *o = json_object_new_object();
	struct json_object *c = json_object_new_object();

	json_object_object_add(o, "time", json_str(x->time));
	json_object_object_add(o, "session", json_str(x->session));
	json_object_object_add(o, "queue_id", json_str(x->queue_id));
	json_object_object_add(c, "addr", json_str(x->client_addr));
	json_object_object_add(c, "name", json_str(x->client_name));
	json_object_object_add(o, "client", c);
	json_object_object_add(o, "sender", json_str(x->sender));
	json_object_object_add(o, "rcpt", json_str(x->rcpt));
	json_object_object_add(o, "reason", json_str(x->reason));
	return (o);
}

/* json_stats - one name's counts */

static struct json_object *
json_stats(const struct tp_report *rep, const struct entry *e, int g)
{
	const struct tp_report_stats *s = &e->s;
	struct json_object *o = json_object_new_object();
	struct json_object *ex = json_object_new_array();
	char	share[16];

	json_object_object_add(o, g == TP_REPORT_CLIENT ? "addr" : "domain",
			       json_str(e->key[0] ? e->key : NULL));
	if (g == TP_REPORT_CLIENT)
		json_object_object_add(o, "name", json_str(s->name));
	json_object_object_add(o, "messages", json_object_new_int64((int64_t)s->messages));
	json_object_object_add(o, "tls", json_object_new_int64((int64_t)s->tls));
	snprintf(share, sizeof(share), "%.4f", s->messages ? (double)s->tls / (double)s->messages : 0.0);
	json_object_object_add(o, "tls_share", json_object_new_double_s(
			       s->messages ? (double)s->tls / (double)s->messages : 0.0, share));
	json_object_object_add(o, "how", json_counts(how_names, s->how, TP_REPORT_NHOW));
	json_tls(rep, e, o);
	json_object_object_add(o, "prefer_or_testing", json_object_new_int64((int64_t)s->soft));
	json_object_object_add(o, "would_reject", json_object_new_int64((int64_t)s->would_reject));
	json_object_object_add(o, "ready_to_enforce", s->soft == 0 ? NULL
			       : json_object_new_boolean(s->would_reject == 0));
	for (size_t i = 0; i < s->nexamples; i++)
		json_object_array_add(ex, json_example(s->examples[i]));
	json_object_object_add(o, "examples", ex);
	return (o);
}

/* json_head - what was read, the filters, the totals */

static void
json_head(const struct tp_report *rep, FILE *fp)
{
	struct json_object *files = json_object_new_array();
	char	a[32], b[32];

	for (size_t i = 0; i < rep->nfiles; i++)
		json_object_array_add(files, json_object_new_string(rep->files[i]));
	fprintf(fp, "{\"report\":\"tlspolicy audit\",\"version\":1,\"files\":");
	json_put(fp, files);
	fprintf(fp, ",\"since\":");
	json_put(fp, rep->opts.has_since ? json_str(format_ms(rep->opts.since_ms, a, sizeof(a))) : NULL);
	fprintf(fp, ",\"domain\":");
	json_put(fp, json_str(rep->domain));
	fprintf(fp, ",\"records\":%lu,\"sessions_without_message\":%lu,\"left_out\":%lu,"
		"\"skipped\":%lu,\"first_skipped\":",
		rep->records, rep->no_message, rep->left_out, rep->skipped);
	json_put(fp, json_str(rep->first_skipped));
	if (rep->has_period)
		fprintf(fp, ",\"period\":{\"first\":\"%s\",\"last\":\"%s\"}",
			format_ms(rep->first_ms, a, sizeof(a)), format_ms(rep->last_ms, b, sizeof(b)));
	else
		fprintf(fp, ",\"period\":null");
}

/* tp_report_print_json - the report as one JSON object */

void
tp_report_print_json(const struct tp_report *rep, FILE *fp)
{
	json_head(rep, fp);
	for (int g = 0; g < TP_REPORT_NGROUPS; g++) {
		size_t	n;
		const struct entry **v = sorted(rep, g, &n);

		fprintf(fp, ",\n\"%s\":[", group_json[g]);
		for (size_t i = 0; v != NULL && i < n; i++) {
			fputs(i ? ",\n" : "\n", fp);
			json_put(fp, json_stats(rep, v[i], g));
		}
		fputs("]", fp);
		free(v);
	}
	fputs("}\n", fp);
}

/* ---- tlspolicyctl report ------------------------------------------------ */

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fputs(
"Usage: tlspolicyctl report [--since TIME] [--domain DOMAIN] [--json] AUDITLOG...\n"
"\n"
"Summarize the milter's audit log: per sender domain, per recipient domain\n"
"and per client, how much mail came over TLS, with which TLS versions,\n"
"cipher strengths and certificate verification; and, for every name whose\n"
"mail was decided at level prefer or by a rule in testing mode, how many\n"
"messages level require would have rejected: is it ready to enforce?\n"
"\n"
"Arguments:\n"
"  AUDITLOG            audit log files (audit_log in tlspolicy-milter.conf),\n"
"                      plain or gzip-compressed, in any order: audit.jsonl,\n"
"                      audit.jsonl.1.gz, ...; \"-\" reads standard input\n"
"\n"
"Options:\n"
"      --since TIME    count only records whose time is TIME or later:\n"
"                        2026-11-01T00:00:00Z  RFC 3339 (fractions, +01:00)\n"
"                        2026-11-01            a date: midnight UTC\n"
"                        7d, 24h, 30m          that long before now (s, w too)\n"
"      --domain DOMAIN count only records whose sender domain, or one of whose\n"
"                      recipient domains, is DOMAIN or a subdomain of it; a\n"
"                      record counts whole, with its other domains\n"
"      --json          one JSON object instead of tables, for programs\n"
"  -h, --help          this text\n"
"\n"
"Output:\n"
"  Three tables: sender domains, recipient domains and clients (address\n"
"  and verified host name), most messages first; \"<>\" is the null sender,\n"
"  \"(none)\" mail without a domain, \"(unknown)\" a client without an address.\n"
"    MESSAGES       records; a message counts once per name\n"
"    TLS            share of those messages that came over TLS\n"
"    STARTTLS       messages that started TLS with STARTTLS\n"
"    IMPLICIT       messages over implicit TLS (port 465)\n"
"    VERSIONS       TLS versions, with counts\n"
"    MIN BITS       the weakest cipher strength seen\n"
"    BITS           cipher strengths, with counts\n"
"    VERIFY         client certificate verification (ok, fail, none,\n"
"                   unknown; other: a word this version does not know)\n"
"    WOULD REJECT   messages with a recipient decision that require would\n"
"                   have rejected: unmet-prefer, or fail in testing mode;\n"
"                   \"-\" if the name had no prefer or testing decisions\n"
"    READY          ready to enforce: yes if WOULD REJECT is 0\n"
"  VERSIONS, BITS and VERIFY count only messages that used TLS. Then, for\n"
"  every name with WOULD REJECT above 0, its newest 3 such messages: time,\n"
"  session, queue id, client, sender, recipient and the engine's reason.\n"
"  With --json, the same as one object: sender_domains, rcpt_domains and\n"
"  clients are arrays in the same order.\n"
"\n"
"  Lines that are not audit records (not JSON, NUL bytes, invalid UTF-8, a\n"
"  missing field or one of the wrong type, a schema version other than 1)\n"
"  are skipped; their number and the first one, as FILE:LINE: why, go to\n"
"  standard error at the end. While a long log is read, standard error\n"
"  shows progress if it is a terminal.\n"
"\n"
"Exit status:\n"
"  0 the report was written; 2 an audit log cannot be opened or read (or\n"
"  the report cannot be written); 64 usage error.\n"
"\n"
"Examples:\n"
"  tlspolicyctl report /var/log/tlspolicy/audit.jsonl*\n"
"  tlspolicyctl report --since 7d --domain bank.example audit.jsonl\n"
"  tlspolicyctl report --json --since 2026-11-01 audit.jsonl.1.gz audit.jsonl\n", fp);
}

/* usage_error - complain, point at --help */

static int
usage_error(const char *what, const char *detail)
{
	fprintf(stderr, "tlspolicyctl report: %s%s%s\nTry 'tlspolicyctl report --help'.\n",
		what, detail ? ": " : "", detail ? detail : "");
	return (EXIT_USAGE);
}

/* cpus - processors this process may run on */

static unsigned
cpus(void)
{
	long	n;

#ifdef CPU_COUNT
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return ((unsigned)CPU_COUNT(&set));
#endif
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return (n > 0 ? (unsigned)n : 1);
}

/* check_files - every log can be opened: fail before reading for long */

static int
check_files(char **paths, int n)
{
	for (int i = 0; i < n; i++) {
		int	fd;

		if (strcmp(paths[i], "-") == 0)
			continue;
		if ((fd = open(paths[i], O_RDONLY | O_NONBLOCK)) < 0) {
			fprintf(stderr, "tlspolicyctl report: %s: %s\n", paths[i], strerror(errno));
			return (-1);
		}
		close(fd);
	}
	return (0);
}

/* report_run - read every log, print the report: the exit status */

static int
report_run(const struct tp_report_opts *opts, bool json, char **paths, int n)
{
	struct tp_report *rep = tp_report_new(opts);
	struct tp_report_totals t;
	char	why[512], shown[NAME_SHOW_MAX];
	int	rc = 0;

	if (rep == NULL) {
		fprintf(stderr, "tlspolicyctl report: out of memory\n");
		return (EXIT_READ);
	}
	for (int i = 0; i < n; i++) {
		if (tp_report_read(rep, paths[i], why, sizeof(why)) < 0) {
			fprintf(stderr, "tlspolicyctl report: %s\n", display(why, shown, sizeof(shown)));
			tp_report_free(rep);
			return (EXIT_READ);
		}
	}
	if (json)
		tp_report_print_json(rep, stdout);
	else
		tp_report_print_text(rep, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tlspolicyctl report: standard output: %s\n", strerror(errno));
		rc = EXIT_READ;
	}
	tp_report_totals(rep, &t);
	if (t.skipped > 0)
		fprintf(stderr, "tlspolicyctl report: %lu line%s skipped (first: %s)\n", t.skipped,
			t.skipped == 1 ? "" : "s",
			t.first_skipped ? display(t.first_skipped, shown, sizeof(shown)) : "?");
	tp_report_free(rep);
	return (rc);
}

enum {
	OPT_SINCE = 256, OPT_DOMAIN, OPT_JSON,
};

static const struct option report_options[] = {
	{"since", required_argument, NULL, OPT_SINCE},
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* tp_report_main - tlspolicyctl report [options] AUDITLOG... */

int
tp_report_main(int argc, char **argv)
{
	struct tp_report_opts opts;
	char	domain[TP_DOMAIN_MAX + 1];
	const char *why;
	bool	json = false;
	unsigned n = cpus();
	int	c;

	memset(&opts, 0, sizeof(opts));
	optind = 0;				/* a fresh start, past argv[0] */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", report_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return (0);
		case OPT_SINCE:
			if (tp_report_parse_time(optarg, time(NULL), &opts.since_ms, &why) < 0)
				return (usage_error("--since", why));
			opts.has_since = true;
			break;
		case OPT_DOMAIN:
			if (tp_domain_normalize(optarg, strlen(optarg), domain, &why) < 0)
				return (usage_error("--domain", why));
			opts.domain = domain;
			break;
		case OPT_JSON:
			json = true;
			break;
		case ':':
			return (usage_error("option needs a value", argv[optind - 1]));
		default:
			return (usage_error("unknown option", argv[optind - 1]));
		}
	}
	if (optind >= argc)
		return (usage_error("no audit log given", NULL));
	if (check_files(argv + optind, argc - optind) < 0)
		return (EXIT_READ);
	opts.threads = n > 1 ? (n < TP_REPORT_THREADS_MAX ? n : TP_REPORT_THREADS_MAX) : 0;
	opts.progress = isatty(STDERR_FILENO);
	return (report_run(&opts, json, argv + optind, argc - optind));
}
