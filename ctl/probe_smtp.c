/*
 * NAME
 *	probe_smtp 3
 * SUMMARY
 *	tlspolicyctl probe: the SMTP conversation with one address and port
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	void	tp_probe_smtp_run(const struct tp_probe_opts *opts,
 *				  struct tp_probe_tls_ctx *tls,
 *				  const struct sockaddr *sa, socklen_t salen,
 *				  struct tp_probe_result *r);
 *
 *	void	tp_probe_ehlo_keep(struct tp_probe_ehlo *e, int code,
 *				   const char *const *lines, int nlines,
 *				   struct tp_probe_result *r, int before_tls);
 *	int	tp_probe_masked_keyword(const char *kw);
 * DESCRIPTION
 *	tp_probe_smtp_run() does steps 1-7 of tlspolicyctl(8) on one
 *	address and fills r (whose host, addr, family and port the caller
 *	set): connect; wait for a banner, and on silence send a TLS
 *	ClientHello; EHLO; MAIL FROM:<> before TLS and then RSET (never a
 *	recipient, never a message); STARTTLS (also where the keyword is
 *	not offered or masked, to see what the server does) and the
 *	handshake; EHLO in TLS; QUIT. Then, on a new connection each, a
 *	handshake limited to each TLS version that the first one did not
 *	already show.
 *
 *	tp_probe_ehlo_keep() reads an EHLO reply's lines (each checked as
 *	an SMTP reply line, "250-KEYWORD ...") into e: the keywords, upper
 *	case and escaped; before TLS whether STARTTLS is offered, not
 *	offered, or masked (tp_probe_masked_keyword(): an unknown keyword
 *	mostly of X, as a firewall's SMTP inspection writes it), after TLS
 *	whether REQUIRETLS is. Both are apart for the unit tests.
 *
 *	Every network step waits at most opts->timeout seconds, and never
 *	past opts->deadline, the bound of the whole run; the banner wait
 *	is at most BANNER_WAIT_MS, after which silence means "try TLS".
 *	A step that times out is named in r->timeout_step and ends the
 *	conversation.
 *
 *	Server input is hostile: replies are read a line at a time into a
 *	fixed buffer, a line longer than REPLY_LINE_MAX or a reply longer
 *	than REPLY_LINES_MAX lines ends the conversation as "not SMTP",
 *	and what is kept is escaped at once (tp_probe_store()).

 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "ctl/tp_probe.h"

#define BANNER_WAIT_MS	3000		/* then silence means "try TLS" */
#define QUIT_WAIT_MS	1000		/* we do not need QUIT's answer */
#define REPLY_LINE_MAX	1024		/* RFC 5321 says 512 */
#define REPLY_LINES_MAX	100

/* What reading a reply gave. */
#define IO_OK		1
#define IO_GARBAGE	0		/* bytes, but not an SMTP reply */
#define IO_CLOSED	(-1)		/* end of file or a socket error */
#define IO_TIMEOUT	TP_PROBE_TIMEOUT

/* One reply as read: its code and raw lines (no CR LF). */
struct raw_reply {
	int	code;
	int	nlines;
	char	lines[REPLY_LINES_MAX][REPLY_LINE_MAX];
};

/* step_deadline - when a step that may take ms must end, as tp_probe_now_ms() */

static long
step_deadline(const struct tp_probe_opts *opts, long ms)
{
	long	left = tp_probe_ms_left(opts);

	if (ms <= 0 || ms > opts->timeout * 1000L)
		ms = opts->timeout * 1000L;
	return (tp_probe_now_ms() + (ms < left ? ms : left));
}

/* io_connect - a non-blocking connection, or -1 with r->connect saying why */

static int
io_connect(const struct tp_probe_opts *opts, const struct sockaddr *sa,
	   socklen_t salen, struct tp_probe_result *r)
{
	long	start = tp_probe_now_ms();
	int	fd, err = 0;
	socklen_t len = sizeof(err);

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		err = errno;
		goto fail;
	}
	if (connect(fd, sa, salen) != 0 && errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	switch (tp_probe_io_wait(fd, POLLOUT, step_deadline(opts, 0))) {
	case IO_TIMEOUT:
		close(fd);
		r->connect = TP_CONNECT_TIMEOUT;
		r->timeout_step = TP_STEP_CONNECT;
		return (-1);
	case 1:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
			r->connect = TP_CONNECT_OK;
			r->connect_ms = tp_probe_now_ms() - start;
			return (fd);
		}
		break;
	default:
		err = errno;
	}
fail:
	if (fd >= 0)
		close(fd);
	r->connect = err == ECONNREFUSED ? TP_CONNECT_REFUSED : TP_CONNECT_ERROR;
	snprintf(r->connect_error, sizeof(r->connect_error), "%s", strerror(err));
	return (-1);
}

/* io_fill - read more bytes into io->in: >0, 0 buffer full, IO_CLOSED, IO_TIMEOUT */

static int
io_fill(struct tp_probe_io *io, long deadline)
{
	size_t	room = sizeof(io->in) - io->inlen;
	ssize_t	n;
	int	w;

	if (room == 0)
		return (0);
	for (;;) {
		if (io->ssl) {
			ERR_clear_error();
			n = SSL_read(io->ssl, io->in + io->inlen, (int) room);
			if (n > 0)
				break;
			if ((w = tp_probe_tls_wait(io, (int) n, deadline)) == 0)
				return (IO_CLOSED);
		} else {
			n = recv(io->fd, io->in + io->inlen, room, 0);
			if (n > 0)
				break;
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				return (IO_CLOSED);
			w = tp_probe_io_wait(io->fd, POLLIN, deadline);
		}
		if (w != 1)
			return (w);
	}
	io->inlen += (size_t) n;
	return ((int) n);
}

/* io_write - the whole of s, until deadline: 1, IO_CLOSED or IO_TIMEOUT */

static int
io_write(struct tp_probe_io *io, const char *s, long deadline)
{
	size_t	len = strlen(s), off = 0;
	ssize_t	n;
	int	w;

	while (off < len) {
		if (io->ssl) {
			ERR_clear_error();
			n = SSL_write(io->ssl, s + off, (int) (len - off));
			if (n > 0) {
				off += (size_t) n;
				continue;
			}
			if ((w = tp_probe_tls_wait(io, (int) n, deadline)) == 0)
				return (IO_CLOSED);
		} else {
			n = send(io->fd, s + off, len - off, MSG_NOSIGNAL);
			if (n > 0) {
				off += (size_t) n;
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				return (IO_CLOSED);
			w = tp_probe_io_wait(io->fd, POLLOUT, deadline);
		}
		if (w != 1)
			return (w);
	}
	return (1);
}

/* io_line - one line without CR LF into line: IO_OK, IO_GARBAGE (too long), ... */

static int
io_line(struct tp_probe_io *io, char *line, size_t size, long deadline)
{
	char   *lf;
	size_t	n;
	int	rc;

	while ((lf = memchr(io->in, '\n', io->inlen)) == NULL) {
		if (io->inlen >= size)
			return (IO_GARBAGE);
		if ((rc = io_fill(io, deadline)) <= 0)
			return (rc == 0 ? IO_GARBAGE : rc);
	}
	n = (size_t) (lf - io->in);
	if (n >= size)
		return (IO_GARBAGE);
	if (memchr(io->in, 0, n) != NULL)
		return (IO_GARBAGE);		/* a NUL inside: not SMTP */
	memcpy(line, io->in, n);
	line[n] = 0;
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = 0;
	io->inlen -= n + 1;
	memmove(io->in, lf + 1, io->inlen);
	return (IO_OK);
}

/* reply_line_code - "DDD" then ' ', '-' or nothing: the code, and *more */

static int
reply_line_code(const char *s, int *more)
{
	if (s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '9'
	    || s[2] < '0' || s[2] > '9' || (s[3] != 0 && s[3] != ' ' && s[3] != '-'))
		return (0);
	*more = s[3] == '-';
	return ((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
}

/* io_reply - one SMTP reply, multi-line or not, into rr */

static int
io_reply(struct tp_probe_io *io, long deadline, struct raw_reply *rr)
{
	int	rc, code, more = 1;

	rr->code = 0;
	rr->nlines = 0;
	while (more) {
		if (rr->nlines == REPLY_LINES_MAX)
			return (IO_GARBAGE);
		rr->lines[rr->nlines][0] = 0;
		rc = io_line(io, rr->lines[rr->nlines], sizeof(rr->lines[0]), deadline);
		if (rc != IO_OK)
			return (rc);
		code = reply_line_code(rr->lines[rr->nlines], &more);
		if (code == 0 || (rr->code != 0 && code != rr->code))
			return (IO_GARBAGE);
		rr->code = code;
		rr->nlines++;
	}
	return (IO_OK);
}

/* keep_garbage - the start of what came instead of a reply, escaped */

static void
keep_garbage(const struct tp_probe_io *io, const struct raw_reply *rr,
	     struct tp_probe_reply *dst)
{
	char	raw[81];
	size_t	n = io->inlen < sizeof(raw) - 1 ? io->inlen : sizeof(raw) - 1;

	if (rr->nlines < REPLY_LINES_MAX && rr->lines[rr->nlines][0] != 0) {
		snprintf(raw, sizeof(raw), "%s", rr->lines[rr->nlines]);
	} else {
		memcpy(raw, io->in, n);		/* a NUL in it ends it early */
		raw[n] = 0;
	}
	dst->code = 0;
	tp_probe_store(dst->text, sizeof(dst->text), raw);
}

/* keep_reply - the code and first line of rr, escaped */

static void
keep_reply(struct tp_probe_reply *dst, const struct raw_reply *rr)
{
	dst->code = rr->code;
	tp_probe_store(dst->text, sizeof(dst->text), rr->nlines ? rr->lines[0] : "");
}

/* command - send cmd, read the reply into rr; IO_* */

static int
command(const struct tp_probe_opts *opts, struct tp_probe_io *io,
	const char *cmd, struct raw_reply *rr, enum tp_probe_step step,
	struct tp_probe_result *r)
{
	long	deadline = step_deadline(opts, 0);
	int	rc;

	if ((rc = io_write(io, cmd, deadline)) == 1)
		rc = io_reply(io, deadline, rr);
	if (rc == IO_TIMEOUT)
		r->timeout_step = step;
	return (rc);
}

/* tp_probe_masked_keyword - an unknown keyword mostly of X: a firewall's mask */

int
tp_probe_masked_keyword(const char *kw)
{
	size_t	n = strlen(kw), x = 0;

	for (size_t i = 0; i < n; i++)
		x += kw[i] == 'X';
	return (n >= 4 && x * 2 > n);
}

/* tp_probe_ehlo_keep - the keywords of an EHLO reply; STARTTLS offered or masked */

void
tp_probe_ehlo_keep(struct tp_probe_ehlo *e, int code, const char *const *lines,
		   int nlines, struct tp_probe_result *r, int before_tls)
{
	char	kw[64];
	size_t	n;

	e->done = 1;
	e->reply.code = code;
	tp_probe_store(e->reply.text, sizeof(e->reply.text), nlines ? lines[0] : "");
	for (int i = 1; i < nlines && e->ncaps < TP_PROBE_CAPS_MAX; i++) {
		const char *s = lines[i] + 4;

		if (strlen(lines[i]) < 4 || (n = strcspn(s, " =")) == 0 || n >= sizeof(kw))
			continue;
		for (size_t j = 0; j < n; j++)
			kw[j] = (char) (s[j] >= 'a' && s[j] <= 'z' ? s[j] - 32 : s[j]);
		kw[n] = 0;
		tp_probe_store(e->caps[e->ncaps++], sizeof(e->caps[0]), kw);
		if (strcmp(kw, "REQUIRETLS") == 0 && !before_tls)
			r->requiretls = 1;
		if (!before_tls)
			continue;
		if (strcmp(kw, "STARTTLS") == 0)
			r->starttls = TP_STARTTLS_OFFERED;
		else if (tp_probe_masked_keyword(kw) && r->starttls != TP_STARTTLS_OFFERED) {
			r->starttls = TP_STARTTLS_MASKED;
			tp_probe_store(r->masked_as, sizeof(r->masked_as), kw);
		}
	}
	if (before_tls && r->starttls == TP_STARTTLS_UNKNOWN)
		r->starttls = TP_STARTTLS_NOT_OFFERED;
}

/* keep_ehlo - an EHLO reply as read, to tp_probe_ehlo_keep() */

static void
keep_ehlo(struct tp_probe_ehlo *e, const struct raw_reply *rr,
	  struct tp_probe_result *r, int before_tls)
{
	const char *lines[REPLY_LINES_MAX];

	for (int i = 0; i < rr->nlines; i++)
		lines[i] = rr->lines[i];
	tp_probe_ehlo_keep(e, rr->code, lines, rr->nlines, r, before_tls);
}

/* ehlo - EHLO NAME: 1 with a 250 reply kept in e, else an IO_* or 0 */

static int
ehlo(const struct tp_probe_opts *opts, struct tp_probe_io *io,
     struct tp_probe_ehlo *e, struct tp_probe_result *r, int before_tls)
{
	struct raw_reply *rr = malloc(sizeof(*rr));
	char	cmd[300];
	int	rc;

	if (rr == NULL)
		return (IO_CLOSED);
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", opts->helo);
	rc = command(opts, io, cmd, rr, before_tls ? TP_STEP_EHLO : TP_STEP_EHLO_TLS, r);
	if (rc == IO_OK && rr->code == 250)
		keep_ehlo(e, rr, r, before_tls);
	else if (rc == IO_OK) {
		e->done = 1;
		keep_reply(&e->reply, rr);
		rc = 0;
	}
	free(rr);
	return (rc);
}

/* simple - a command whose reply is kept in dst: IO_* */

static int
simple(const struct tp_probe_opts *opts, struct tp_probe_io *io,
       const char *cmd, struct tp_probe_reply *dst, enum tp_probe_step step,
       struct tp_probe_result *r)
{
	struct raw_reply *rr = malloc(sizeof(*rr));
	int	rc;

	if (rr == NULL)
		return (IO_CLOSED);
	if ((rc = command(opts, io, cmd, rr, step, r)) == IO_OK && dst != NULL)
		keep_reply(dst, rr);
	free(rr);
	return (rc);
}

/* io_close - QUIT where we may, then close */

static void
io_close(struct tp_probe_io *io, int quit)
{
	struct raw_reply *rr;
	long	deadline = tp_probe_now_ms() + QUIT_WAIT_MS;

	if (quit && io_write(io, "QUIT\r\n", deadline) == 1
	    && (rr = malloc(sizeof(*rr))) != NULL) {
		(void) io_reply(io, deadline, rr);
		free(rr);
	}
	if (io->ssl) {
		(void) SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
		io->ssl = NULL;
	}
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	io->inlen = 0;
}

/* enforcement - step 4: MAIL FROM:<> before TLS, then RSET */

static int
enforcement(const struct tp_probe_opts *opts, struct tp_probe_io *io,
	    struct tp_probe_result *r)
{
	int	rc;

	rc = simple(opts, io, "MAIL FROM:<>\r\n", &r->mail, TP_STEP_MAIL, r);
	if (rc != IO_OK)
		return (rc);
	if (r->mail.code == 250)
		r->enforce = TP_ENFORCE_ACCEPTED;
	else if (r->mail.code == 530 || (r->mail.code / 100 == 5
			&& strlen(r->mail.text) > 4 && strncmp(r->mail.text + 4, "5.7.0", 5) == 0))
		r->enforce = TP_ENFORCE_REQUIRED;
	else
		r->enforce = TP_ENFORCE_OTHER;
	return (simple(opts, io, "RSET\r\n", NULL, TP_STEP_MAIL, r));
}

/* handshake - TLS on io at version (0: any); 1, 0 refused (why), IO_TIMEOUT */

static int
handshake(const struct tp_probe_opts *opts, struct tp_probe_tls_ctx *tls,
	  struct tp_probe_io *io, int version, int seclevel0,
	  const struct tp_probe_result *r, char *why, size_t len)
{
	const char *sni = opts->name ? opts->name : r->host;

	return (tp_probe_tls_handshake(tls, io, version, seclevel0, sni,
				       step_deadline(opts, 0), why, len));
}

/* starttls - STARTTLS; 1 with io in TLS, 0 refused, or IO_* */

static int
starttls(const struct tp_probe_opts *opts, struct tp_probe_io *io,
	 struct tp_probe_reply *reply, struct tp_probe_result *r)
{
	int	rc;

	rc = simple(opts, io, "STARTTLS\r\n", reply, TP_STEP_STARTTLS, r);
	if (rc != IO_OK)
		return (rc);
	if (reply->code != 220)
		return (0);
	if (io->inlen != 0)
		return (IO_GARBAGE);		/* bytes before TLS: injected */
	return (1);
}

/* first_tls - step 5: the first handshake, 1 if it worked */

static int
first_tls(const struct tp_probe_opts *opts, struct tp_probe_tls_ctx *tls,
	  struct tp_probe_io *io, struct tp_probe_result *r)
{
	int	rc;

	r->tls.tried = 1;
	rc = handshake(opts, tls, io, 0, 0, r, r->tls.error, sizeof(r->tls.error));
	if (rc == IO_TIMEOUT)
		r->timeout_step = r->mode == TP_MODE_PLAIN ? TP_STEP_HANDSHAKE
		    : TP_STEP_HELLO;
	r->tls.ok = rc == 1;
	r->tls.peer_tls = io->peer_tls;
	return (rc);
}

/* tls_session - steps 5-7 in TLS: its description, banner, EHLO in TLS */

static void
tls_session(const struct tp_probe_opts *opts, struct tp_probe_tls_ctx *tls,
	    struct tp_probe_io *io, struct tp_probe_result *r)
{
	struct raw_reply *rr;
	const char *name = opts->name ? opts->name : r->host;
	int	rc;

	tp_probe_tls_describe(tls, io, name, r);
	if (r->mode == TP_MODE_IMPLICIT) {
		if ((rr = malloc(sizeof(*rr))) == NULL)
			return;
		rc = io_reply(io, step_deadline(opts, 0), rr);
		if (rc == IO_OK)
			keep_reply(&r->banner, rr);
		free(rr);
		if (rc == IO_TIMEOUT)
			r->timeout_step = TP_STEP_BANNER;
		if (rc != IO_OK || r->banner.code != 220)
			return;
	}
	(void) ehlo(opts, io, &r->ehlo_tls, r, 0);
}

/* plain_session - steps 3-7 after a 220 banner */

static void
plain_session(const struct tp_probe_opts *opts, struct tp_probe_tls_ctx *tls,
	      struct tp_probe_io *io, struct tp_probe_result *r)
{
	int	rc;

	if (r->banner.code != 220)
		return;				/* service refused: no more */
	if (ehlo(opts, io, &r->ehlo, r, 1) != 1)
		return;
	if (enforcement(opts, io, r) != IO_OK)
		return;
	rc = starttls(opts, io, &r->starttls_reply, r);
	if (rc == IO_GARBAGE)
		snprintf(r->tls.error, sizeof(r->tls.error),
			 "the server sent data after its 220 to STARTTLS, before TLS");
	if (rc == 1 && first_tls(opts, tls, io, r) == 1)
		tls_session(opts, tls, io, r);
}

/* first_bytes - step 2: banner, or silence and a ClientHello */

static void
first_bytes(const struct tp_probe_opts *opts, struct tp_probe_tls_ctx *tls,
	    struct tp_probe_io *io, struct tp_probe_result *r)
{
	struct raw_reply *rr = malloc(sizeof(*rr));
	int	rc;

	if (rr == NULL)
		return;
	rc = io_reply(io, step_deadline(opts, BANNER_WAIT_MS), rr);
	if (rc == IO_OK) {
		r->mode = TP_MODE_PLAIN;
		keep_reply(&r->banner, rr);
		free(rr);
		plain_session(opts, tls, io, r);
		return;
	}
	if (rc == IO_GARBAGE)
		keep_garbage(io, rr, &r->banner);
	free(rr);
	if (rc != IO_TIMEOUT || io->inlen != 0) {
		r->mode = TP_MODE_NOT_SMTP;
		return;
	}
	/* Silence: perhaps a port for implicit TLS, waiting for our hello. */
	rc = first_tls(opts, tls, io, r);
	r->mode = r->tls.peer_tls ? TP_MODE_IMPLICIT : rc == IO_TIMEOUT ? TP_MODE_SILENT
	    : TP_MODE_NOT_SMTP;
	if (rc == 1)
		tls_session(opts, tls, io, r);
}

/* version_try - a new connection, a handshake at one version only */

static void
version_try(const struct tp_probe_opts *opts, struct tp_probe_tls_ctx *tls,
	    const struct sockaddr *sa, socklen_t salen, int i,
	    struct tp_probe_result *r)
{
	struct tp_probe_result scratch = *r;	/* steps again, not kept */
	struct tp_probe_io io = {.fd = -1};
	struct tp_probe_reply reply;
	struct tp_probe_ehlo e = {0};
	int	version = tp_probe_tls_version(i), seclevel0 = 0, rc;

	if (tp_probe_tls_can_offer(tls, version, &seclevel0) != 1) {
		r->tls.vtry[i] = TP_VTRY_IMPOSSIBLE;
		r->tls.vtry_seclevel0[i] = 1;
		return;
	}
	r->tls.vtry_seclevel0[i] = seclevel0;
	if ((io.fd = io_connect(opts, sa, salen, &scratch)) < 0)
		return;
	if (r->mode == TP_MODE_PLAIN) {
		struct raw_reply *rr = malloc(sizeof(*rr));

		rc = rr ? io_reply(&io, step_deadline(opts, 0), rr) : IO_CLOSED;
		free(rr);
		if (rc != IO_OK || ehlo(opts, &io, &e, &scratch, 1) != 1
		    || starttls(opts, &io, &reply, &scratch) != 1)
			goto out;
	}
	rc = handshake(opts, tls, &io, version, seclevel0, r,
		       r->tls.vtry_error[i], sizeof(r->tls.vtry_error[i]));
	if (rc == IO_TIMEOUT)
		snprintf(r->tls.vtry_error[i], sizeof(r->tls.vtry_error[i]),
			 "timed out");
	r->tls.vtry[i] = rc == 1 ? TP_VTRY_ACCEPTED : TP_VTRY_REFUSED;
	if (rc == 1 && !r->tls.ok && !r->cert.present)	/* the first failed */
		tp_probe_tls_describe(tls, &io, opts->name ? opts->name : r->host, r);
out:
	io_close(&io, r->mode == TP_MODE_PLAIN || rc == 1);
}

/* versions - step 5: each TLS version that the first handshake did not show */

static void
versions(const struct tp_probe_opts *opts, struct tp_probe_tls_ctx *tls,
	 const struct sockaddr *sa, socklen_t salen, struct tp_probe_result *r)
{
	for (int i = 0; i < TP_PROBE_NVERSIONS; i++) {
		if (strcmp(r->tls.version, tp_probe_tls_version_name(i)) == 0) {
			r->tls.vtry[i] = TP_VTRY_ACCEPTED;
			continue;
		}
		if (tp_probe_ms_left(opts) == 0)
			return;
		version_try(opts, tls, sa, salen, i, r);
	}
}

/* tp_probe_smtp_run - steps 1-7 on one address and port */

void
tp_probe_smtp_run(const struct tp_probe_opts *opts, struct tp_probe_tls_ctx *tls,
		  const struct sockaddr *sa, socklen_t salen,
		  struct tp_probe_result *r)
{
	struct tp_probe_io io = {.fd = -1};
	long	start = tp_probe_now_ms();

	if ((io.fd = io_connect(opts, sa, salen, r)) < 0)
		goto out;
	first_bytes(opts, tls, &io, r);
	io_close(&io, io.fd >= 0 && r->timeout_step == TP_STEP_NONE
		 && r->mode != TP_MODE_NOT_SMTP);
	if (r->tls.peer_tls && opts->versions && r->timeout_step == TP_STEP_NONE)
		versions(opts, tls, sa, salen, r);
out:
	r->elapsed_ms = tp_probe_now_ms() - start;
}
