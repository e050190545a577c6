/*
 * NAME
 *	smtp-load 1
 * SUMMARY
 *	SMTP load client: plaintext, STARTTLS or implicit TLS, one message per connection
 * SYNOPSIS
 *	smtp-load -p PORT [-s HOST] [-m plain|starttls|implicit] [-n N] [-c C]
 *		[-H HEADERS] [-b BODYBYTES] [-r RCPTS] [-f FROM] [-t TO] [-e EHLO]
 *		[-V 1.2|1.3] [-T SECONDS] [-a] [-q] [-K NAME:MODE:RCPT[,RCPT...]]...
 * DESCRIPTION
 *	Sends N messages over C concurrent connections, one message per
 *	connection (connect, banner, EHLO, [STARTTLS, EHLO], MAIL, RCPT...,
 *	DATA, message, ".", QUIT), reading every reply before the next
 *	command (no PIPELINING), and prints one line:
 *
 *	  mode=starttls quickack=1 n=5000 c=20 headers=10 ok=5000 errors=0 seconds=17.42
 *	  rate=287.0 p50_ms=68.1 p99_ms=121.4 cpu_ms=5123
 *
 *	rate is messages accepted (250 after ".") per second of wall time
 *	from the first connect to the last QUIT; p50/p99 are per-connection
 *	times; cpu_ms is this client's own user+system CPU time. The exit status is 1 if any SMTP or TLS error occurred
 *	(the first few are described on stderr), 2 on bad usage.
 *
 *	TLS: TLS 1.3 by default (-V 1.2 for TLS 1.2 only), no certificate
 *	verification (opportunistic, as between MTAs that do not know each
 *	other), no client certificate, and no session resumption: tickets
 *	off, no session cache, a fresh SSL object per connection, so every
 *	connection makes a full handshake (ECDHE + the server's signature).
 *
 *	ACKs: by default the client sets TCP_QUICKACK before every read, so
 *	that it acknowledges what the server sends at once. Without it (-a),
 *	with TLS 1.3 every session stalls ~40 ms: Postfix's smtpd (no
 *	TCP_NODELAY) writes the session tickets that OpenSSL sends after the
 *	handshake, then the EHLO reply (or, with implicit TLS, the banner);
 *	Nagle holds that second write until the client ACKs the tickets, and
 *	the client, having nothing to send, delays its ACK. That stall is
 *	the same with or without a milter and would make every TLS run
 *	latency-bound, hiding the milter's cost.
 *
 *	Classes (-K, up to 16): messages are dealt out to the classes in
 *	turn (message i goes to class i mod K), each with its own mode,
 *	recipients and sender NAME@DOMAIN (DOMAIN: that of -f). With classes
 *	a refusal is an outcome, not an error: a 4xx or 5xx reply to the
 *	banner, STARTTLS, MAIL, DATA or the end of data ends the session
 *	(QUIT) as tempfailed or refused; a refused recipient is counted and
 *	the message goes on with the others (refused or tempfailed when none
 *	was accepted). Every session has one outcome: accepted (250 after
 *	"."), refused, tempfailed, or failed (an I/O, TLS or protocol error
 *	first). One line per class follows the summary line:
 *
 *	  class=req-plain mode=plain sessions=3334 accepted=0 refused=3334
 *	  tempfailed=0 failed=0 errors=0 rcpt_accepted=0 rcpt_refused=3334
 *	  rcpt_tempfailed=0 codes=530:3334
 *
 *	rcpt_accepted counts the recipients of accepted messages only;
 *	codes tallies every 4xx/5xx reply seen (CODE:COUNT,...); errors
 *	counts sessions with an I/O, TLS or protocol error, also after the
 *	outcome (a failed QUIT). In the summary line, ok is the accepted
 *	messages of all classes and errors the sessions with errors.
 *
 *	The message has HEADERS header lines in all: the first of From, To,
 *	Subject, Date, Message-ID, then X-Bench-Filler-N up to the count
 *	(minimum 2: From and To)
 *	and a body of about BODYBYTES bytes in 76-character lines.
 * OPTIONS
 *	-s HOST     server address (default 127.0.0.1)
 *	-p PORT     server port (required)
 *	-m MODE     plain (default), starttls (STARTTLS required) or implicit
 *	-n N        messages (default 1000)
 *	-c C        concurrent connections (default 20)
 *	-H HEADERS  header lines per message (default 10, minimum 2)
 *	-b BYTES    body size (default 2000)
 *	-r RCPTS    recipients per message (default 1): rcpt1@..., rcpt2@... when > 1
 *	-f FROM     envelope sender (default sender@client.bench.test)
 *	-t TO       envelope recipient (default rcpt@remote.bench.test)
 *	-e EHLO     EHLO name (default client.bench.test)
 *	-V VERSION  1.3 (default) or 1.2
 *	-T SECONDS  timeout of every read and write (default 30)
 *	-a          allow delayed ACKs (do not set TCP_QUICKACK)
 *	-q          do not print the per-error lines
 *	-K CLASS    NAME:MODE:RCPT[,RCPT...] (NAME up to 63 characters of
 *	            [A-Za-z0-9._-], MODE plain, starttls or implicit, up to
 *	            64 recipients); -m, -r and -t then do not apply
 * BUILD
 *	cc -O2 -o smtp-load smtp-load.c $(pkg-config --cflags --libs openssl) -pthread
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum mode { MODE_PLAIN, MODE_STARTTLS, MODE_IMPLICIT };
static const char *mode_names[] = {"plain", "starttls", "implicit"};

#define MAX_CLASSES	16
#define MAX_CLASS_RCPTS	64
#define MAX_CODE	600

/* How a session ended; one per session. */
enum outcome { OUT_ACCEPTED, OUT_REFUSED, OUT_TEMPFAILED, OUT_FAILED };

/* A class of messages: what to send, and what became of it. */
struct klass {
	char	name[64];
	enum mode mode;
	char	from[320];
	char  **rcpt;			/* envelope recipients */
	int	nrcpt;
	atomic_long outcomes[OUT_FAILED + 1];
	atomic_long errors;		/* sessions with an I/O/TLS/protocol error */
	atomic_long rcpt_accepted;	/* recipients of accepted messages */
	atomic_long rcpt_refused;	/* 5xx at RCPT */
	atomic_long rcpt_tempfailed;	/* 4xx at RCPT */
	atomic_long codes[MAX_CODE];	/* 4xx/5xx replies seen */
};

static struct {
	const char *host;
	int	port;
	enum mode mode;
	long	n;
	int	c;
	int	headers;
	int	body_bytes;
	int	rcpts;
	const char *from;
	const char *to;
	const char *ehlo;
	int	tls13;
	int	timeout;
	int	quiet;
	int	quickack;
	int	outcomes;		/* -K given: refusals are outcomes */
} opt = {
	"127.0.0.1", 0, MODE_PLAIN, 1000, 20, 10, 2000, 1,
	"sender@client.bench.test", "rcpt@remote.bench.test", "client.bench.test",
	1, 30, 0, 1, 0,
};

static struct klass classes[MAX_CLASSES];
static int nclasses;

static SSL_CTX *ssl_ctx;
static struct sockaddr_in server;
static atomic_long next_msg;		/* messages handed out */
static atomic_int err_printed;
static double *durations;		/* per message, seconds */
static char *body;			/* the body, dot-safe, CRLF */
static size_t body_len;
static long run_id;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* One SMTP connection, plaintext or TLS, with a line buffer. */
struct conn {
	int	fd;
	SSL    *ssl;
	char	buf[8192];
	size_t	len;			/* bytes in buf */
	size_t	off;			/* consumed */
	long	msg;
	struct klass *cls;		/* what this session sends */
	char	last[512];		/* last reply, for error messages */
	const char *stage;
};

static void
report(struct conn *k, const char *fmt,...)
{
	va_list ap;
	char	text[512];

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!opt.quiet && atomic_fetch_add(&err_printed, 1) < 10) {
		fprintf(stderr, "smtp-load: message %ld, %s: %s", k->msg, k->stage, text);
		if (k->ssl != NULL || ERR_peek_error() != 0) {
			unsigned long e;

			while ((e = ERR_get_error()) != 0) {
				char	es[256];

				ERR_error_string_n(e, es, sizeof(es));
				fprintf(stderr, " [%s]", es);
			}
		}
		fputc('\n', stderr);
	}
	ERR_clear_error();
}

static int
k_write(struct conn *k, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t	w;

		if (k->ssl != NULL) {
			int	r = SSL_write(k->ssl, data, (int)len);

			if (r <= 0) {
				report(k, "TLS write failed (SSL error %d)", SSL_get_error(k->ssl, r));
				return (-1);
			}
			w = r;
		} else if ((w = write(k->fd, data, len)) < 0) {
			if (errno == EINTR)
				continue;
			report(k, "write: %s", strerror(errno));
			return (-1);
		}
		data += w;
		len -= (size_t)w;
	}
	return (0);
}

static int
k_fill(struct conn *k)
{
	ssize_t	r;

	if (k->off > 0) {
		memmove(k->buf, k->buf + k->off, k->len - k->off);
		k->len -= k->off;
		k->off = 0;
	}
	if (k->len == sizeof(k->buf)) {
		report(k, "reply line too long");
		return (-1);
	}
	for (;;) {
		if (opt.quickack) {
			int	one = 1;

			/* not sticky: the kernel may return to delayed ACKs */
			setsockopt(k->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		}
		if (k->ssl != NULL) {
			int	n = SSL_read(k->ssl, k->buf + k->len, (int)(sizeof(k->buf) - k->len));

			if (n <= 0) {
				report(k, "TLS read failed (SSL error %d)", SSL_get_error(k->ssl, n));
				return (-1);
			}
			r = n;
		} else if ((r = read(k->fd, k->buf + k->len, sizeof(k->buf) - k->len)) < 0) {
			if (errno == EINTR)
				continue;
			report(k, "read: %s", strerror(errno));
			return (-1);
		}
		if (r == 0) {
			report(k, "connection closed by server");
			return (-1);
		}
		k->len += (size_t)r;
		return (0);
	}
}

/* read_reply - read a (multi-line) reply; its code, or -1 on I/O error */

static int
read_reply(struct conn *k)
{
	for (;;) {
		char   *start = k->buf + k->off;
		char   *nl = memchr(start, '\n', k->len - k->off);
		size_t	linelen;

		if (nl == NULL) {
			if (k_fill(k) < 0)
				return (-1);
			continue;
		}
		linelen = (size_t)(nl - start) + 1;
		k->off += linelen;
		snprintf(k->last, sizeof(k->last), "%.*s", (int)(linelen > 2 ? linelen - 2 : 0), start);
		if (linelen < 5 || start[0] < '1' || start[0] > '5') {
			report(k, "malformed reply \"%s\"", k->last);
			return (-1);
		}
		if (start[3] == ' ' || start[3] == '\r' || start[3] == '\n')
			return ((start[0] - '0') * 100 + (start[1] - '0') * 10 + (start[2] - '0'));
	}
}

/*
 * command - send a command (NULL: none) and read the reply: 0 if it is of
 * WANT's class; with classes, 1 for a 4xx/5xx (its code in *code, tallied);
 * -1 on an I/O error or any other reply (reported).
 */
static int
command(struct conn *k, const char *stage, const char *cmd, int want, int *code)
{
	int	c;

	k->stage = stage;
	if (cmd != NULL && k_write(k, cmd, strlen(cmd)) < 0)
		return (-1);
	if ((c = read_reply(k)) < 0)
		return (-1);
	if (code != NULL)
		*code = c;
	if (c / 100 == want / 100)
		return (0);
	if (opt.outcomes && (c / 100 == 4 || c / 100 == 5) && c < MAX_CODE) {
		atomic_fetch_add(&k->cls->codes[c], 1);
		return (1);
	}
	report(k, "expected %d, got \"%s\"", want, k->last);
	return (-1);
}

static int
start_tls(struct conn *k)
{
	int	r;

	k->stage = "TLS handshake";
	if (k->off != k->len) {
		report(k, "server sent data before the TLS handshake");
		return (-1);
	}
	k->off = k->len = 0;
	if ((k->ssl = SSL_new(ssl_ctx)) == NULL || SSL_set_fd(k->ssl, k->fd) != 1) {
		report(k, "SSL_new failed");
		return (-1);
	}
	if (opt.quickack) {
		int	one = 1;

		setsockopt(k->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
	if ((r = SSL_connect(k->ssl)) != 1) {
		report(k, "handshake failed (SSL error %d)", SSL_get_error(k->ssl, r));
		return (-1);
	}
	return (0);
}

static int
ehlo_has_starttls(struct conn *k, bool *has)
{
	char	cmd[300];

	/* read the multi-line EHLO reply, looking for STARTTLS */
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", opt.ehlo);
	k->stage = "EHLO";
	if (k_write(k, cmd, strlen(cmd)) < 0)
		return (-1);
	*has = false;
	for (;;) {
		char   *start, *nl;

		while ((nl = memchr(k->buf + k->off, '\n', k->len - k->off)) == NULL)
			if (k_fill(k) < 0)
				return (-1);
		start = k->buf + k->off;
		k->off += (size_t)(nl - start) + 1;
		snprintf(k->last, sizeof(k->last), "%.*s", (int)(nl - start), start);
		if (nl - start < 4 || start[0] != '2') {
			report(k, "EHLO refused: \"%s\"", k->last);
			return (-1);
		}
		if (strncasecmp(start + 4, "STARTTLS", 8) == 0)
			*has = true;
		if (start[3] == ' ')
			return (0);
	}
}

/* refused - end a session at a refusal (4xx/5xx CODE): QUIT, outcome */

static enum outcome
refused(struct conn *k, int code, bool *quit_failed)
{
	*quit_failed = command(k, "QUIT", "QUIT\r\n", 221, NULL) != 0;
	return (code / 100 == 4 ? OUT_TEMPFAILED : OUT_REFUSED);
}

/* greet - banner, EHLO and, if the class asks for it, STARTTLS; 0, 1 (code set) or -1 */

static int
greet(struct conn *k, int *code)
{
	bool	has_tls;
	int	r;

	if (k->cls->mode == MODE_IMPLICIT && start_tls(k) < 0)
		return (-1);
	if ((r = command(k, "banner", NULL, 220, code)) != 0)
		return (r);
	if (ehlo_has_starttls(k, &has_tls) < 0)
		return (-1);
	if (k->cls->mode != MODE_STARTTLS)
		return (0);
	if (!has_tls) {
		report(k, "STARTTLS not offered");
		return (-1);
	}
	if ((r = command(k, "STARTTLS", "STARTTLS\r\n", 220, code)) != 0)
		return (r);
	if (start_tls(k) < 0 || ehlo_has_starttls(k, &has_tls) < 0)
		return (-1);
	return (0);
}

/* format_message - the header and body of message k->msg into msgbuf; its length */

static size_t
format_message(struct conn *k, char *msgbuf, size_t msgcap)
{
	time_t	t = time(NULL);
	struct tm tm;
	char	date[64];
	size_t	len = 0;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	for (int h = 0; h < opt.headers && h < 5; h++) {
		switch (h) {
		case 0: len += (size_t)snprintf(msgbuf + len, msgcap - len, "From: <%s>\r\n", k->cls->from); break;
		case 1: len += (size_t)snprintf(msgbuf + len, msgcap - len, "To: <%s>\r\n", k->cls->rcpt[0]); break;
		case 2: len += (size_t)snprintf(msgbuf + len, msgcap - len, "Subject: smtp-load message %ld\r\n", k->msg); break;
		case 3: len += (size_t)snprintf(msgbuf + len, msgcap - len, "Date: %s\r\n", date); break;
		case 4: len += (size_t)snprintf(msgbuf + len, msgcap - len,
						"Message-ID: <%ld.%ld@client.bench.test>\r\n", run_id, k->msg); break;
		}
	}
	for (int h = 5; h < opt.headers; h++)
		len += (size_t)snprintf(msgbuf + len, msgcap - len,
					"X-Bench-Filler-%d: header %d of message %ld\r\n", h - 4, h + 1, k->msg);
	len += (size_t)snprintf(msgbuf + len, msgcap - len, "\r\n");
	memcpy(msgbuf + len, body, body_len);
	len += body_len;
	memcpy(msgbuf + len, ".\r\n", 3);
	return (len + 3);
}

/*
 * one_message - one session of k->cls; its outcome. *quit_failed: the
 * QUIT after the outcome went wrong (an error, the outcome stands).
 */
static enum outcome
one_message(struct conn *k, char *msgbuf, size_t msgcap, bool *quit_failed)
{
	struct klass *c = k->cls;
	char	cmd[600];
	int	r, code = 0, accepted = 0, tempfailed = 0;

	*quit_failed = false;
	if ((r = greet(k, &code)) != 0)
		return (r < 0 ? OUT_FAILED : refused(k, code, quit_failed));
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", c->from);
	if ((r = command(k, "MAIL", cmd, 250, &code)) != 0)
		return (r < 0 ? OUT_FAILED : refused(k, code, quit_failed));
	for (int i = 0; i < c->nrcpt; i++) {
		snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", c->rcpt[i]);
		if ((r = command(k, "RCPT", cmd, 250, &code)) < 0)
			return (OUT_FAILED);
		if (r == 0) {
			accepted++;
		} else if (code / 100 == 4) {
			tempfailed++;
			atomic_fetch_add(&c->rcpt_tempfailed, 1);
		} else {
			atomic_fetch_add(&c->rcpt_refused, 1);
		}
	}
	if (accepted == 0)
		return (refused(k, tempfailed ? 450 : 550, quit_failed));
	if ((r = command(k, "DATA", "DATA\r\n", 354, &code)) != 0)
		return (r < 0 ? OUT_FAILED : refused(k, code, quit_failed));
	k->stage = "end of data";
	if (k_write(k, msgbuf, format_message(k, msgbuf, msgcap)) < 0)
		return (OUT_FAILED);
	if ((r = command(k, "end of data", NULL, 250, &code)) != 0)
		return (r < 0 ? OUT_FAILED : refused(k, code, quit_failed));
	atomic_fetch_add(&c->rcpt_accepted, accepted);
	*quit_failed = command(k, "QUIT", "QUIT\r\n", 221, NULL) != 0;
	return (OUT_ACCEPTED);
}

static int
connect_server(struct conn *k)
{
	struct timeval tv = {opt.timeout, 0};
	int	one = 1;

	k->stage = "connect";
	if ((k->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		report(k, "socket: %s", strerror(errno));
		return (-1);
	}
	setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(k->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(k->fd, (struct sockaddr *)&server, sizeof(server)) < 0) {
		report(k, "connect: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

static void *
worker(void *arg)
{
	size_t	msgcap = (size_t)opt.headers * 80 + body_len + 1024;
	char   *msgbuf = malloc(msgcap);

	(void)arg;
	if (msgbuf == NULL)
		abort();
	for (;;) {
		long	m = atomic_fetch_add(&next_msg, 1);
		struct conn k;
		double	t0;
		enum outcome out;
		bool	quit_failed = false;

		if (m >= opt.n)
			break;
		memset(&k, 0, sizeof(k));
		k.msg = m;
		k.fd = -1;
		t0 = now();
		k.cls = &classes[m % nclasses];
		out = connect_server(&k) < 0 ? OUT_FAILED : one_message(&k, msgbuf, msgcap, &quit_failed);
		if (k.ssl != NULL) {
			if (out != OUT_FAILED && !quit_failed)
				SSL_shutdown(k.ssl);
			SSL_free(k.ssl);
		}
		if (k.fd >= 0)
			close(k.fd);
		durations[m] = now() - t0;
		atomic_fetch_add(&k.cls->outcomes[out], 1);
		if (out == OUT_FAILED || quit_failed)
			atomic_fetch_add(&k.cls->errors, 1);
	}
	free(msgbuf);
	return (NULL);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

static void
make_body(void)
{
	static const char line[] =
	"The quick brown fox jumps over the lazy dog; 0123456789 smtp-load body.";
	size_t	ll = sizeof(line) - 1;	/* 71 + CRLF = 73 */
	size_t	lines = (size_t)opt.body_bytes / (ll + 2) + 1;

	body = malloc(lines * (ll + 2) + 1);
	if (body == NULL)
		abort();
	body_len = 0;
	for (size_t i = 0; i < lines; i++) {
		memcpy(body + body_len, line, ll);
		body_len += ll;
		body[body_len++] = '\r';
		body[body_len++] = '\n';
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtp-load -p PORT [-s HOST] [-m plain|starttls|implicit] [-n N] [-c C]\n"
		"\t[-H HEADERS] [-b BODYBYTES] [-r RCPTS] [-f FROM] [-t TO] [-e EHLO]\n"
		"\t[-V 1.2|1.3] [-T SECONDS] [-a] [-q] [-K NAME:MODE:RCPT[,RCPT...]]...\n");
	exit(2);
}

/* parse_mode - plain, starttls or implicit; -1 if none */

static int
parse_mode(const char *s, size_t len, enum mode *mode)
{
	for (int i = 0; i <= MODE_IMPLICIT; i++)
		if (strlen(mode_names[i]) == len && strncmp(s, mode_names[i], len) == 0) {
			*mode = (enum mode)i;
			return (0);
		}
	return (-1);
}

/* sender_domain - the domain of -f (after its last @) */

static const char *
sender_domain(void)
{
	const char *at = strrchr(opt.from, '@');

	return (at != NULL ? at + 1 : opt.from);
}

/* add_class - -K NAME:MODE:RCPT[,RCPT...]; -1 if it is malformed */

static int
add_class(const char *arg)
{
	struct klass *c = &classes[nclasses];
	const char *colon1 = strchr(arg, ':'), *colon2;
	char   *list, *save = NULL;
	size_t	namelen;

	if (nclasses == MAX_CLASSES || colon1 == NULL || (colon2 = strchr(colon1 + 1, ':')) == NULL)
		return (-1);
	namelen = (size_t)(colon1 - arg);
	if (namelen == 0 || namelen >= sizeof(c->name) || strspn(arg,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") < namelen
	    || parse_mode(colon1 + 1, (size_t)(colon2 - colon1 - 1), &c->mode) < 0)
		return (-1);
	memcpy(c->name, arg, namelen);
	if ((c->rcpt = calloc(MAX_CLASS_RCPTS, sizeof(char *))) == NULL || (list = strdup(colon2 + 1)) == NULL)
		abort();
	for (char *r = strtok_r(list, ",", &save); r != NULL; r = strtok_r(NULL, ",", &save)) {
		if (c->nrcpt == MAX_CLASS_RCPTS || strlen(r) > 300)
			return (-1);
		c->rcpt[c->nrcpt++] = r;
	}
	if (c->nrcpt == 0)
		return (-1);
	nclasses++;
	return (0);
}

/* default_class - without -K: one class from -m, -f, -t and -r */

static void
default_class(void)
{
	struct klass *c = &classes[nclasses++];
	const char *at = strchr(opt.to, '@');
	size_t	size = strlen(opt.to) + 32;

	snprintf(c->name, sizeof(c->name), "all");
	c->mode = opt.mode;
	snprintf(c->from, sizeof(c->from), "%s", opt.from);
	if ((c->rcpt = calloc((size_t)opt.rcpts, sizeof(char *))) == NULL)
		abort();
	for (int i = 0; i < opt.rcpts; i++) {
		if ((c->rcpt[i] = malloc(size)) == NULL)
			abort();
		if (opt.rcpts == 1)
			snprintf(c->rcpt[i], size, "%s", opt.to);
		else
			snprintf(c->rcpt[i], size, "rcpt%d%s%s", i + 1, at ? "" : "@", at ? at : opt.to);
	}
	c->nrcpt = opt.rcpts;
}

/* print_classes - one line per class (with -K) */

static void
print_classes(void)
{
	for (int i = 0; i < nclasses; i++) {
		struct klass *c = &classes[i];
		const char *sep = "";

		printf("class=%s mode=%s sessions=%ld accepted=%ld refused=%ld tempfailed=%ld failed=%ld "
		       "errors=%ld rcpt_accepted=%ld rcpt_refused=%ld rcpt_tempfailed=%ld codes=",
		       c->name, mode_names[c->mode],
		       atomic_load(&c->outcomes[OUT_ACCEPTED]) + atomic_load(&c->outcomes[OUT_REFUSED])
		       + atomic_load(&c->outcomes[OUT_TEMPFAILED]) + atomic_load(&c->outcomes[OUT_FAILED]),
		       atomic_load(&c->outcomes[OUT_ACCEPTED]), atomic_load(&c->outcomes[OUT_REFUSED]),
		       atomic_load(&c->outcomes[OUT_TEMPFAILED]), atomic_load(&c->outcomes[OUT_FAILED]),
		       atomic_load(&c->errors), atomic_load(&c->rcpt_accepted),
		       atomic_load(&c->rcpt_refused), atomic_load(&c->rcpt_tempfailed));
		for (int code = 0; code < MAX_CODE; code++)
			if (atomic_load(&c->codes[code]) > 0) {
				printf("%s%d:%ld", sep, code, atomic_load(&c->codes[code]));
				sep = ",";
			}
		printf("%s\n", *sep ? "" : "none");
	}
}

/* need_tls - does any class use TLS? */

static bool
need_tls(void)
{
	for (int i = 0; i < nclasses; i++)
		if (classes[i].mode != MODE_PLAIN)
			return (true);
	return (false);
}

int
main(int argc, char **argv)
{
	pthread_t *threads;
	double	t0, elapsed;
	struct rusage ru;
	long	ok = 0, errors = 0;
	int	ch;

	while ((ch = getopt(argc, argv, "s:p:m:n:c:H:b:r:f:t:e:V:T:aqK:")) != -1) {
		switch (ch) {
		case 's': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'm':
			if (parse_mode(optarg, strlen(optarg), &opt.mode) < 0)
				usage();
			break;
		case 'n': opt.n = atol(optarg); break;
		case 'c': opt.c = atoi(optarg); break;
		case 'H': opt.headers = atoi(optarg); break;
		case 'b': opt.body_bytes = atoi(optarg); break;
		case 'r': opt.rcpts = atoi(optarg); break;
		case 'f': opt.from = optarg; break;
		case 't': opt.to = optarg; break;
		case 'e': opt.ehlo = optarg; break;
		case 'V':
			if (strcmp(optarg, "1.3") == 0)
				opt.tls13 = 1;
			else if (strcmp(optarg, "1.2") == 0)
				opt.tls13 = 0;
			else
				usage();
			break;
		case 'T': opt.timeout = atoi(optarg); break;
		case 'q': opt.quiet = 1; break;
		case 'a': opt.quickack = 0; break;
		case 'K':
			if (add_class(optarg) < 0) {
				fprintf(stderr, "smtp-load: bad -K %s\n", optarg);
				usage();
			}
			opt.outcomes = 1;
			break;
		default: usage();
		}
	}
	if (optind != argc || opt.port <= 0 || opt.port > 65535 || opt.n <= 0 || opt.c <= 0
	    || opt.headers < 2 || opt.body_bytes < 0 || opt.rcpts < 1 || opt.timeout <= 0)
		usage();
	if (nclasses == 0)
		default_class();
	else
		for (int i = 0; i < nclasses; i++)	/* -f may come after -K */
			snprintf(classes[i].from, sizeof(classes[i].from), "%.63s@%.255s",
				 classes[i].name, sender_domain());
	if (opt.c > opt.n)
		opt.c = (int)opt.n;
	memset(&server, 0, sizeof(server));
	server.sin_family = AF_INET;
	server.sin_port = htons((unsigned short)opt.port);
	if (inet_pton(AF_INET, opt.host, &server.sin_addr) != 1) {
		fprintf(stderr, "smtp-load: -s takes an IPv4 address\n");
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	if (need_tls()) {
		int	v = opt.tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;

		if ((ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL
		    || SSL_CTX_set_min_proto_version(ssl_ctx, v) != 1
		    || SSL_CTX_set_max_proto_version(ssl_ctx, v) != 1) {
			fprintf(stderr, "smtp-load: cannot set up TLS\n");
			return (2);
		}
		/* No resumption: every connection makes a full handshake. */
		SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
	}
	make_body();
	run_id = (long)time(NULL) * 1000 + getpid() % 1000;
	if ((durations = calloc((size_t)opt.n, sizeof(double))) == NULL
	    || (threads = calloc((size_t)opt.c, sizeof(pthread_t))) == NULL)
		abort();
	t0 = now();
	for (int i = 0; i < opt.c; i++)
		if (pthread_create(&threads[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "smtp-load: pthread_create failed\n");
			return (2);
		}
	for (int i = 0; i < opt.c; i++)
		pthread_join(threads[i], NULL);
	elapsed = now() - t0;
	qsort(durations, (size_t)opt.n, sizeof(double), cmp_double);
	getrusage(RUSAGE_SELF, &ru);
	for (int i = 0; i < nclasses; i++) {
		ok += atomic_load(&classes[i].outcomes[OUT_ACCEPTED]);
		errors += atomic_load(&classes[i].errors);
	}
	printf("mode=%s quickack=%d n=%ld c=%d headers=%d ok=%ld errors=%ld seconds=%.3f rate=%.1f p50_ms=%.1f p99_ms=%.1f cpu_ms=%.0f\n",
	       opt.outcomes ? "classes" : mode_names[opt.mode], opt.quickack, opt.n, opt.c, opt.headers,
	       ok, errors, elapsed, ok / elapsed,
	       durations[opt.n / 2] * 1e3, durations[(size_t)(opt.n * 0.99)] * 1e3,
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
	if (opt.outcomes)
		print_classes();
	if (ssl_ctx != NULL)
		SSL_CTX_free(ssl_ctx);
	free(threads);
	free(durations);
	free(body);
	return (errors ? 1 : 0);
}
