/*
 * NAME
 *	report_maillog 3
 * SUMMARY
 *	tlspolicyctl report --maillog: Postfix's log, session by session
 * SYNOPSIS
 *	#include "ctl/tp_maillog.h"
 *
 *	See tp_maillog.h.
 * DESCRIPTION
 *	A line is "TIME HOST TAG[PID]: TEXT". Only smtpd's lines count
 *	(a tag ending in "/smtpd": postfix/smtpd, postfix/smtps/smtpd,
 *	postfix-out/smtpd); HOST plus TAG[PID] names the process, which
 *	handles one session at a time, so it keys the open session. What
 *	a session logged is kept in a struct session until its
 *	"disconnect from" line, which decides (decide()) whether and why
 *	it failed and counts it for its client.
 *
 *	Postfix logs a failed handshake as "SSL_accept error from
 *	NAME[ADDR]: ..." and, before or after it, "warning: TLS library
 *	problem: ...error:CODE:LIB:FUNC:REASON:FILE:LINE:"; REASON (the
 *	OpenSSL words) picks the code. A handshake failure before any
 *	command was on a wrapper-mode port.
 *
 *	Open sessions hang off a chained hash table of
 *	TP_MAILLOG_SESSIONS_MAX entries at most; clients are another,
 *	of TP_MAILLOG_CLIENTS_MAX.
 * DIAGNOSTICS
 *	See tp_maillog.h.
 */

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "ctl/tp_maillog.h"
#include "ctl/report_maillog_impl.h"

#define NBUCKETS	4096		/* of each hash table */
#define KEY_MAX		(TP_MAILLOG_NAME_MAX + 128)	/* HOST TAG[PID] */

/* What one smtpd session logged so far. */
struct session {
	struct session *next;		/* in its bucket */
	char	key[KEY_MAX + 1];
	char	addr[TP_MAILLOG_ADDR_MAX + 1];
	char	name[TP_MAILLOG_NAME_MAX + 1];	/* "": unknown */
	char	detail[TP_MAILLOG_DETAIL_MAX + 1];	/* TLS library's reason */
	bool	handshake_error;	/* SSL_accept error */
	bool	starttls;		/* the client sent STARTTLS */
	bool	lost_after_starttls;
	bool	tls;			/* established */
	bool	rejected;		/* a reject was logged */
	bool	mail_failed;		/* disconnect: mail=N/M, N < M */
	bool	command_seen;		/* disconnect: commands=N/M, M > 0 */
};

/* hash - FNV-1a, to a bucket */

static size_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != 0; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return ((size_t)(h % NBUCKETS));
}

/* ---- reason codes ------------------------------------------------------- */

static const struct {
	const char *code;
	const char *words;
} reasons[TP_MAILLOG_NREASONS] = {
	[TP_MAILLOG_TLS_VERSION_OLD] = {"tls-version-old",
	"the client offered only TLS versions this server refuses"},
	[TP_MAILLOG_NO_SHARED_CIPHER] = {"no-shared-cipher",
	"the client and this server share no cipher"},
	[TP_MAILLOG_IMPLICIT_TLS_PORT] = {"implicit-tls-port",
	"the client spoke plaintext to the implicit-TLS (wrapper-mode) port"},
	[TP_MAILLOG_CERT_UNTRUSTED] = {"cert-untrusted",
	"the client refused this server's certificate"},
	[TP_MAILLOG_CERT_EXPIRED] = {"cert-expired",
	"the client says this server's certificate has expired"},
	[TP_MAILLOG_HANDSHAKE_FAILED] = {"handshake-failed",
	"the TLS handshake failed"},
	[TP_MAILLOG_LOST_AFTER_STARTTLS] = {"lost-after-starttls",
	"the client hung up after STARTTLS, before TLS was up"},
	[TP_MAILLOG_STARTTLS_REQUIRED] = {"starttls-required",
	"the client sent MAIL without STARTTLS and got 530 (TLS required here)"},
};

/* tp_maillog_code - the stable code of a reason */

const char *
tp_maillog_code(enum tp_maillog_reason r)
{
	return ((unsigned)r < TP_MAILLOG_NREASONS ? reasons[r].code : "?");
}

/* tp_maillog_words - a reason in plain words */

const char *
tp_maillog_words(enum tp_maillog_reason r)
{
	return ((unsigned)r < TP_MAILLOG_NREASONS ? reasons[r].words : "?");
}

/* OpenSSL's words, and the code each means. */
static const struct {
	const char *words;
	enum tp_maillog_reason reason;
} openssl_words[] = {
	{"unsupported protocol", TP_MAILLOG_TLS_VERSION_OLD},
	{"version too low", TP_MAILLOG_TLS_VERSION_OLD},
	{"alert protocol version", TP_MAILLOG_TLS_VERSION_OLD},
	{"no protocols available", TP_MAILLOG_TLS_VERSION_OLD},
	{"no shared cipher", TP_MAILLOG_NO_SHARED_CIPHER},
	{"no shared signature algorithms", TP_MAILLOG_NO_SHARED_CIPHER},
	{"no suitable key share", TP_MAILLOG_NO_SHARED_CIPHER},
	{"no shared groups", TP_MAILLOG_NO_SHARED_CIPHER},
	{"wrong version number", TP_MAILLOG_IMPLICIT_TLS_PORT},
	{"http request", TP_MAILLOG_IMPLICIT_TLS_PORT},
	{"https proxy request", TP_MAILLOG_IMPLICIT_TLS_PORT},
	{"unknown protocol", TP_MAILLOG_IMPLICIT_TLS_PORT},
	{"alert unknown ca", TP_MAILLOG_CERT_UNTRUSTED},
	{"alert certificate unknown", TP_MAILLOG_CERT_UNTRUSTED},
	{"alert bad certificate", TP_MAILLOG_CERT_UNTRUSTED},
	{"alert unsupported certificate", TP_MAILLOG_CERT_UNTRUSTED},
	{"alert certificate expired", TP_MAILLOG_CERT_EXPIRED},
};

/* ---- clients ------------------------------------------------------------ */

/* client_get - the client of addr, added if new; NULL: over the cap or no memory */

static struct mlclient *
client_get(struct tp_maillog *ml, const char *addr)
{
	size_t	b = hash(addr);
	struct mlclient *c;

	for (c = ml->clients[b]; c != NULL; c = c->next)
		if (strcmp(c->addr, addr) == 0)
			return (c);
	if (ml->nclients >= TP_MAILLOG_CLIENTS_MAX)
		return (NULL);
	if ((c = calloc(1, sizeof(*c) + strlen(addr) + 1)) == NULL) {
		ml->nomem = true;
		return (NULL);
	}
	strcpy(c->addr, addr);
	c->pub.addr = c->addr;
	c->next = ml->clients[b];
	ml->clients[b] = c;
	ml->nclients++;
	return (c);
}

/* set_copy - replace *dst with a copy of src */

static void
set_copy(struct tp_maillog *ml, char **dst, const char **pub, const char *src)
{
	char   *copy;

	if (*dst != NULL && strcmp(*dst, src) == 0)
		return;
	if ((copy = strdup(src)) == NULL) {
		ml->nomem = true;
		return;
	}
	free(*dst);
	*dst = copy;
	*pub = copy;
}

/* decide - why a finished session failed; -1: it did not */

static int
decide(const struct session *s)
{
	if (s->handshake_error) {
		for (size_t i = 0; i < sizeof(openssl_words) / sizeof(openssl_words[0]); i++) {
			if (strstr(s->detail, openssl_words[i].words) == NULL)
				continue;
			/* Plaintext after STARTTLS is a broken client, not a port mix-up. */
			if (openssl_words[i].reason == TP_MAILLOG_IMPLICIT_TLS_PORT && s->starttls)
				break;
			return (openssl_words[i].reason);
		}
		return (TP_MAILLOG_HANDSHAKE_FAILED);
	}
	if (s->lost_after_starttls && !s->tls)
		return (TP_MAILLOG_LOST_AFTER_STARTTLS);
	if (s->mail_failed && !s->tls && !s->starttls && !s->rejected)
		return (TP_MAILLOG_STARTTLS_REQUIRED);
	return (-1);
}

/* count_session - a finished session, for its client and the totals */

static void
count_session(struct tp_maillog *ml, const struct session *s)
{
	struct mlclient *c = client_get(ml, s->addr);
	int	r = decide(s);

	ml->sessions++;
	if (r >= 0) {
		ml->failed++;
		ml->reasons[r]++;
	}
	if (c == NULL) {
		ml->other_sessions++;
		ml->other_failed += r >= 0;
		return;
	}
	c->pub.sessions++;
	c->pub.tls += s->tls;
	if (s->name[0] != 0 && c->name == NULL)
		set_copy(ml, &c->name, &c->pub.name, s->name);
	if (r < 0)
		return;
	c->pub.failed++;
	c->pub.reasons[r]++;
	if (r == TP_MAILLOG_HANDSHAKE_FAILED && s->detail[0] != 0)
		set_copy(ml, &c->detail, &c->pub.detail, s->detail);
}

/* ---- sessions ----------------------------------------------------------- */

/* session_find - the open session of key, or NULL; *prevp: its link */

static struct session *
session_find(struct tp_maillog *ml, const char *key, struct session ***prevp)
{
	struct session **p = &ml->open[hash(key)];

	for (; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->key, key) == 0)
			break;
	if (prevp != NULL)
		*prevp = p;
	return (*p);
}

/* session_end - count an open session and forget it */

static void
session_end(struct tp_maillog *ml, const char *key)
{
	struct session **p, *s = session_find(ml, key, &p);

	if (s == NULL)
		return;
	*p = s->next;
	count_session(ml, s);
	free(s);
	ml->nopen--;
}

/* session_start - a new session of key; NULL: too many open */

static struct session *
session_start(struct tp_maillog *ml, const char *key, const char *addr,
	      const char *name)
{
	struct session *s;
	size_t	b = hash(key);

	session_end(ml, key);
	if (ml->nopen >= TP_MAILLOG_SESSIONS_MAX) {
		ml->untracked++;
		return (NULL);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		ml->nomem = true;
		return (NULL);
	}
	strcpy(s->key, key);
	strcpy(s->addr, addr);
	if (strcmp(name, "unknown") != 0)
		strcpy(s->name, name);
	s->next = ml->open[b];
	ml->open[b] = s;
	ml->nopen++;
	return (s);
}

/* ---- one line ----------------------------------------------------------- */

/* A line, cut into its parts. */
struct mlline {
	char	key[KEY_MAX + 1];	/* HOST TAG[PID] */
	const char *text;		/* after "TAG[PID]: " */
	char	name[TP_MAILLOG_NAME_MAX + 1];	/* of "connect from NAME[ADDR]" */
	char	addr[TP_MAILLOG_ADDR_MAX + 1];
};

/* skip_time - past "Mmm dd hh:mm:ss " or "RFC3339 "; NULL: neither */

static const char *
skip_time(const char *p)
{
	if (isdigit((unsigned char)p[0])) {
		const char *sp = strchr(p, ' ');

		return (sp ? sp + 1 : NULL);
	}
	if (strlen(p) < 16 || !isalpha((unsigned char)p[0]) || p[3] != ' '
	    || p[6] != ' ' || p[9] != ':' || p[12] != ':' || p[15] != ' ')
		return (NULL);
	return (p + 16);
}

/* split_line - HOST, smtpd TAG[PID] and the text; 0 not smtpd, -1 malformed */

static int
split_line(const char *line, struct mlline *l)
{
	const char *host = skip_time(line), *tag, *colon, *bracket;
	size_t	taglen;

	if (host == NULL || (tag = strchr(host, ' ')) == NULL)
		return (0);
	tag++;
	if ((colon = strstr(tag, ": ")) == NULL)
		return (0);
	taglen = (size_t)(colon - tag);
	if ((bracket = memchr(tag, '[', taglen)) == NULL || colon[-1] != ']'
	    || (size_t)(bracket - tag) < 6 || memcmp(bracket - 6, "/smtpd", 6) != 0)
		return (0);
	if ((size_t)(colon - host) > KEY_MAX)
		return (-1);
	memcpy(l->key, host, (size_t)(colon - host));
	l->key[colon - host] = 0;
	l->text = colon + 2;
	return (1);
}

/* valid_addr - an IP address as Postfix logs it */

static bool
valid_addr(const char *a, size_t len)
{
	if (len == 0 || len > TP_MAILLOG_ADDR_MAX)
		return (false);
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)a[i]) && a[i] != '.' && a[i] != ':')
			return (false);
	return (true);
}

/* valid_name - a host name, or "unknown" */

static bool
valid_name(const char *n, size_t len)
{
	if (len == 0 || len > TP_MAILLOG_NAME_MAX)
		return (false);
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '.' && n[i] != '-' && n[i] != '_')
			return (false);
	return (true);
}

/* parse_client - NAME[ADDR] at from; -1 malformed */

static int
parse_client(const char *from, struct mlline *l)
{
	const char *open, *close;

	if ((open = strchr(from, '[')) == NULL || (close = strchr(open, ']')) == NULL)
		return (-1);
	if (!valid_name(from, (size_t)(open - from))
	    || !valid_addr(open + 1, (size_t)(close - open - 1)))
		return (-1);
	memcpy(l->name, from, (size_t)(open - from));
	l->name[open - from] = 0;
	memcpy(l->addr, open + 1, (size_t)(close - open - 1));
	l->addr[close - open - 1] = 0;
	return (0);
}

/* tls_reason - REASON of "...error:CODE:LIB:FUNC:REASON:...", printable */

static void
tls_reason(const char *text, char *out)
{
	const char *p = strstr(text, "error:");
	size_t	n = 0;

	if (p == NULL)
		p = text;
	else
		for (int fields = 0; fields < 4 && p != NULL; fields++)
			if ((p = strchr(p, ':')) != NULL)
				p++;
	if (p == NULL)
		p = text;
	for (; *p != 0 && *p != ':' && n < TP_MAILLOG_DETAIL_MAX; p++)
		out[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	out[n] = 0;
}

/* disconnect_stats - "ehlo=1 starttls=0/1 mail=0/1 commands=1/2" */

static void
disconnect_stats(struct session *s, const char *text)
{
	const char *p = strchr(text, ']');

	while (p != NULL && (p = strchr(p, ' ')) != NULL) {
		unsigned long ok, all;
		int	n = 0;

		p++;
		if (strncmp(p, "starttls=", 9) == 0)
			s->starttls = true;
		if (strncmp(p, "mail=", 5) == 0
		    && sscanf(p + 5, "%lu/%lu%n", &ok, &all, &n) == 2 && n > 0 && ok < all)
			s->mail_failed = true;
	}
}

/* after_word - text is one word (Anonymous, NOQUEUE, a queue id), then what */

static bool
after_word(const char *text, const char *what)
{
	const char *at = strstr(text, what);

	/* Not later in the line, where a client's HELO or address could put it. */
	return (at != NULL && at > text && memchr(text, ' ', (size_t)(at - text)) == NULL);
}

/* smtpd_text - what one smtpd line says of its session */

static int
smtpd_text(struct tp_maillog *ml, struct mlline *l)
{
	const char *t = l->text;
	struct session *s;

	/* The session's client is that of its connect line. */
	if (strncmp(t, "connect from ", 13) == 0) {
		if (parse_client(t + 13, l) < 0)
			return (-1);
		session_start(ml, l->key, l->addr, l->name);
		return (0);
	}
	if ((s = session_find(ml, l->key, NULL)) == NULL)
		return (0);			/* its connect was not read */
	if (strncmp(t, "disconnect from ", 16) == 0) {
		disconnect_stats(s, t);
		session_end(ml, l->key);
	} else if (strncmp(t, "SSL_accept error from ", 22) == 0) {
		s->handshake_error = true;
	} else if (strncmp(t, "warning: TLS library problem: ", 30) == 0) {
		if (s->detail[0] == 0)
			tls_reason(t + 30, s->detail);
	} else if (strncmp(t, "lost connection after STARTTLS ", 31) == 0
		   || strncmp(t, "timeout after STARTTLS ", 23) == 0) {
		s->starttls = s->lost_after_starttls = true;
	} else if (after_word(t, " TLS connection established from ")) {
		s->tls = s->starttls = true;
	} else if (after_word(t, ": reject: ") || after_word(t, ": milter-reject: ")
		   || strncmp(t, "warning: Illegal address syntax from ", 37) == 0) {
		s->rejected = true;		/* MAIL failed for a logged reason */
	}
	return (0);
}

/* skipped - a malformed or overlong line; the first one's place kept */

static void
skipped(struct tp_maillog *ml, const char *why)
{
	size_t	size;

	if (ml->skipped++ > 0)
		return;
	size = strlen(ml->cur_file) + strlen(why) + 32;
	if ((ml->first_skipped = malloc(size)) == NULL) {
		ml->nomem = true;
		return;
	}
	snprintf(ml->first_skipped, size, "%s:%lu: %s", ml->cur_file, ml->lineno, why);
}

/* tp_maillog_line - one line of the log, without its newline */

void
tp_maillog_line(struct tp_maillog *ml, const char *line, size_t len)
{
	struct mlline l;
	char	buf[TP_MAILLOG_LINE_MAX + 1];
	int	rc;

	ml->lines++;
	ml->lineno++;
	if (len > TP_MAILLOG_LINE_MAX) {
		skipped(ml, "line too long");
		return;
	}
	memcpy(buf, line, len);
	buf[len] = 0;
	if (len > 0 && buf[len - 1] == '\r')
		buf[len - 1] = 0;
	memset(&l, 0, sizeof(l));
	if ((rc = split_line(buf, &l)) == 0)
		return;
	ml->smtpd_lines++;
	if (rc < 0 || smtpd_text(ml, &l) < 0)
		skipped(ml, "malformed smtpd line");
}

/* ---- files -------------------------------------------------------------- */

/* add_file - remember a file's name for the report */

static int
add_file(struct tp_maillog *ml, const char *path)
{
	char  **v = realloc(ml->files, (ml->nfiles + 1) * sizeof(*v));

	if (v == NULL)
		return (-1);
	ml->files = v;
	if ((v[ml->nfiles] = strdup(path)) == NULL)
		return (-1);
	ml->nfiles++;
	return (0);
}

/* read_lines - every line of gz; -1: a read error */

static int
read_lines(struct tp_maillog *ml, gzFile gz)
{
	char	buf[TP_MAILLOG_LINE_MAX + 2];
	size_t	len = 0;
	bool	overlong = false;

	while (gzgets(gz, buf, sizeof(buf)) != NULL) {
		len = strlen(buf);
		if (len > 0 && buf[len - 1] == '\n') {
			if (!overlong)
				tp_maillog_line(ml, buf, len - 1);
			overlong = false;
		} else if (len == sizeof(buf) - 1) {
			if (!overlong)
				tp_maillog_line(ml, buf, len);	/* counted too long */
			overlong = true;
		} else if (!overlong) {
			tp_maillog_line(ml, buf, len);	/* last line, no newline */
		}
	}
	return (gzeof(gz) ? 0 : -1);
}

/* tp_maillog_read - every line of a file */

int
tp_maillog_read(struct tp_maillog *ml, const char *path, char *why, size_t whylen)
{
	gzFile	gz;
	int	errnum, rc;
	const char *zerr;

	if (add_file(ml, path) < 0) {
		snprintf(why, whylen, "%s: out of memory", path);
		return (-1);
	}
	errno = 0;
	gz = strcmp(path, "-") == 0 ? gzdopen(dup(0), "rb") : gzopen(path, "rb");
	if (gz == NULL) {
		snprintf(why, whylen, "%s: %s", path, errno ? strerror(errno) : "out of memory");
		return (-1);
	}
	ml->cur_file = ml->files[ml->nfiles - 1];
	ml->lineno = 0;
	rc = read_lines(ml, gz);
	zerr = gzerror(gz, &errnum);
	if (rc < 0)
		snprintf(why, whylen, "%s: %s", path, errnum == Z_ERRNO ? strerror(errno) : zerr);
	else if (ml->nomem)
		snprintf(why, whylen, "%s: out of memory", path), rc = -1;
	gzclose(gz);
	return (rc);
}

/* ---- the log object ----------------------------------------------------- */

/* tp_maillog_new - an empty log */

struct tp_maillog *
tp_maillog_new(void)
{
	struct tp_maillog *ml = calloc(1, sizeof(*ml));

	if (ml == NULL)
		return (NULL);
	if ((ml->open = calloc(NBUCKETS, sizeof(*ml->open))) == NULL
	    || (ml->clients = calloc(NBUCKETS, sizeof(*ml->clients))) == NULL) {
		tp_maillog_free(ml);
		return (NULL);
	}
	ml->cur_file = "-";
	return (ml);
}

/* tp_maillog_finish - count the sessions still open */

void
tp_maillog_finish(struct tp_maillog *ml)
{
	for (size_t b = 0; b < NBUCKETS; b++)
		while (ml->open[b] != NULL)
			session_end(ml, ml->open[b]->key);
}

/* tp_maillog_free - everything */

void
tp_maillog_free(struct tp_maillog *ml)
{
	if (ml == NULL)
		return;
	for (size_t b = 0; ml->open != NULL && b < NBUCKETS; b++)
		for (struct session *s = ml->open[b], *n; s != NULL; s = n) {
			n = s->next;
			free(s);
		}
	for (size_t b = 0; ml->clients != NULL && b < NBUCKETS; b++)
		for (struct mlclient *c = ml->clients[b], *n; c != NULL; c = n) {
			n = c->next;
			free(c->name);
			free(c->detail);
			free(c);
		}
	for (size_t i = 0; i < ml->nfiles; i++)
		free(ml->files[i]);
	free(ml->files);
	free(ml->open);
	free(ml->clients);
	free(ml->first_skipped);
	free(ml);
}

/* ---- results ------------------------------------------------------------ */

/* tp_maillog_totals - what was read and counted */

void
tp_maillog_totals(const struct tp_maillog *ml, struct tp_maillog_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->lines = ml->lines;
	t->smtpd_lines = ml->smtpd_lines;
	t->skipped = ml->skipped;
	t->first_skipped = ml->first_skipped;
	t->sessions = ml->sessions;
	t->failed = ml->failed;
	memcpy(t->reasons, ml->reasons, sizeof(t->reasons));
	t->untracked = ml->untracked;
	t->clients = ml->nclients;
	t->other_sessions = ml->other_sessions;
	t->other_failed = ml->other_failed;
	t->nfiles = ml->nfiles;
	t->files = (const char *const *)ml->files;
}

/* tp_maillog_find - the counts of one client address, or NULL */

const struct tp_maillog_client *
tp_maillog_find(const struct tp_maillog *ml, const char *addr)
{
	for (const struct mlclient *c = ml->clients[hash(addr)]; c != NULL; c = c->next)
		if (strcmp(c->addr, addr) == 0)
			return (&c->pub);
	return (NULL);
}

/* by_failed - most failed first, then most sessions, then address */

static int
by_failed(const void *a, const void *b)
{
	const struct tp_maillog_client *x = *(const struct tp_maillog_client *const *)a;
	const struct tp_maillog_client *y = *(const struct tp_maillog_client *const *)b;

	if (x->failed != y->failed)
		return (x->failed > y->failed ? -1 : 1);
	if (x->sessions != y->sessions)
		return (x->sessions > y->sessions ? -1 : 1);
	return (strcmp(x->addr, y->addr));
}

/* tp_maillog_sorted - every client, most failed first (caller frees) */

const struct tp_maillog_client **
tp_maillog_sorted(const struct tp_maillog *ml, size_t *n)
{
	const struct tp_maillog_client **v = malloc((ml->nclients + 1) * sizeof(*v));

	*n = 0;
	if (v == NULL)
		return (NULL);
	for (size_t b = 0; b < NBUCKETS; b++)
		for (const struct mlclient *c = ml->clients[b]; c != NULL; c = c->next)
			v[(*n)++] = &c->pub;
	qsort(v, *n, sizeof(*v), by_failed);
	return (v);
}
