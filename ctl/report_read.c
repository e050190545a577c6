/*
 * NAME
 *	report_read 3
 * SUMMARY
 *	tlspolicyctl report: reading audit logs, parsing in threads
 * SYNOPSIS
 *	#include "ctl/tp_report.h"
 *
 *	int	tp_report_read(struct tp_report *rep, const char *path,
 *			       char *why, size_t whylen);
 * DESCRIPTION
 *	tp_report_read() reads a file (zlib reads plain and gzip files
 *	alike; "-" is standard input) in batches of whole lines,
 *	BATCH_SIZE bytes each. A line longer than a batch is dropped up
 *	to its newline and counted as one malformed line.
 *
 *	Worker threads, each with its own json_tokener, parse batches
 *	into facts (report_parse.c), oldest first, and the reading thread
 *	counts them into the report (tp_report_aggregate(), report.c),
 *	which knows nothing of reading: the arrow points one way. It
 *	keeps a ring of 2 * threads + 2 batches: it fills the next one
 *	and submits it; before it fills a batch again, it waits for that
 *	batch and counts its facts (report.c), so batches are counted in
 *	the order they were read. Without threads there is one batch,
 *	and the reading thread parses it itself with a tokener of its
 *	own. Why threads: json-c
 *	parses about 120 MB/s on one core of the reference machine, and
 *	a million records are about 900 MB.
 *
 *	While a file is read slowly, standard error shows progress, if
 *	opts.progress asked for it.
 * DIAGNOSTICS
 *	tp_report_read() returns -1 with "FILE: why" in why, why being
 *	the system's reason, zlib's, "gzip file ends early (truncated?)"
 *	or "out of memory"; just "out of memory" if the workers could
 *	not be set up.
 * MEMORY
 *	Each tp_report_read() starts the workers and their batches and
 *	stops them before it returns: nothing of a read outlives it but
 *	the counts in the report.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zlib.h>

#include "ctl/report_impl.h"

#define BATCH_SIZE	(2 * 1024 * 1024)	/* bytes of lines per batch */
#define NBATCH_MAX	(2 * TP_REPORT_THREADS_MAX + 2)
#define PROGRESS_DELAY	0.5		/* seconds before progress shows */
#define PROGRESS_EVERY	0.2		/* seconds between updates */

#define BATCH_FREE	0		/* states of a batch */
#define BATCH_QUEUED	1		/* filled, waiting for a worker */
#define BATCH_BUSY	2		/* a worker parses it */
#define BATCH_DONE	3		/* parsed, waiting to be aggregated */

/* The parsing threads and the batches they share with the reader. */
struct workers {
	pthread_mutex_t lock;		/* guards state, seq and stop */
	pthread_cond_t queued;		/* a batch to parse, or stop */
	pthread_cond_t parsed;		/* a batch is done */
	pthread_t threads[TP_REPORT_THREADS_MAX];
	size_t	nthreads;
	struct json_tokener *tok;	/* the reading thread's, without threads */
	bool	stop;
	struct batch batches[NBATCH_MAX];
	size_t	nbatches;
	size_t	next;			/* the batch to fill next: the oldest */
	unsigned long seq;
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

/* now - monotonic seconds */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* ---- parsing in threads ------------------------------------------------- */

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
	struct json_tokener *tok = tp_report_tokener();
	struct batch *b;

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
		tp_report_parse_batch(b, tok);
		pthread_mutex_lock(&w->lock);
		b->state = BATCH_DONE;
		pthread_cond_broadcast(&w->parsed);
	}
	pthread_mutex_unlock(&w->lock);
	if (tok != NULL)
		json_tokener_free(tok);
	return (NULL);
}

/* workers_stop - end the threads, free the batches (NULL: fine) */

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
		tp_report_batch_free(&w->batches[i]);
	if (w->tok != NULL)
		json_tokener_free(w->tok);
	pthread_cond_destroy(&w->parsed);
	pthread_cond_destroy(&w->queued);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* workers_start - the batches, opts.threads threads (fewer: fine); NULL */

static struct workers *
workers_start(const struct tp_report *rep)
{
	struct workers *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return (NULL);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->queued, NULL);
	pthread_cond_init(&w->parsed, NULL);
	w->nbatches = rep->opts.threads ? 2 * rep->opts.threads + 2 : 1;
	for (size_t i = 0; i < w->nbatches; i++)
		if ((w->batches[i].text = malloc(BATCH_SIZE)) == NULL)
			goto fail;
	if ((w->tok = tp_report_tokener()) == NULL)
		goto fail;
	for (size_t i = 0; i < rep->opts.threads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker, w) != 0)
			break;
		w->nthreads++;
	}
	return (w);
fail:
	workers_stop(w);
	return (NULL);
}

/* submit - hand a filled batch to the workers, or parse it here */

static void
submit(struct workers *w, struct batch *b)
{
	b->pending = true;
	if (w->nthreads == 0) {
		tp_report_parse_batch(b, w->tok);
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
collect(struct tp_report *rep, struct workers *w, struct reader *rd,
	struct batch *b, int rc)
{
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
			tp_report_skipped(rep, rd->path, rd->lineno + f->line + 1,
					  f->why);
		else if (tp_report_aggregate(rep, f, b->rcpts + f->rcpt0) == -2)
			return (-2);
	}
	rd->lineno += b->nlines;
	return (0);
}

/* ---- reading a file ----------------------------------------------------- */

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
				   tp_escape_term(rd->path, name, sizeof(name)),
				   rd->lineno) - 1;
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
pump(struct tp_report *rep, struct workers *w, struct reader *rd)
{
	struct batch *b;
	int	rc = 0, n;

	for (;;) {
		b = &w->batches[w->next];
		if (b->pending)
			rc = collect(rep, w, rd, b, rc);
		if (rc != 0 || (n = fill(rd, b)) == 0)
			break;
		if (n < 0) {
			rd->error = errno;
			rc = -1;
			break;
		}
		submit(w, b);
		w->next = (w->next + 1) % w->nbatches;
		progress(rep, rd);
	}
	for (size_t i = 0; i < w->nbatches; i++) {
		b = &w->batches[(w->next + i) % w->nbatches];
		if (b->pending)
			rc = collect(rep, w, rd, b, rc);
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
	struct workers *w;
	int	rc;

	memset(&rd, 0, sizeof(rd));
	if (rep->started == 0)
		rep->started = now();
	if (open_reader(&rd, path, why, whylen) < 0) {
		if (rd.gz != NULL)
			gzclose(rd.gz);
		return (-1);
	}
	if ((w = workers_start(rep)) == NULL) {
		snprintf(why, whylen, "out of memory");
		gzclose(rd.gz);
		free(rd.carry);
		return (-1);
	}
	rc = pump(rep, w, &rd);
	workers_stop(w);
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
