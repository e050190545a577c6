/*
 * NAME
 *	audit 3
 * SUMMARY
 *	the audit log writer: a bounded queue and a thread of its own
 * DESCRIPTION
 *	See tp_audit.h. Connection threads only copy a finished line into
 *	the queue under a mutex (well under a microsecond); the writer
 *	thread takes everything queued, writes it with one write() per
 *	batch, and cuts the file back if the write failed or fell short,
 *	so that the file holds whole lines only. Only this thread touches
 *	the file descriptor.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reporter/tp_audit.h"

#define WARN_INTERVAL	60		/* seconds between warnings */
#define BATCH_BYTES	(64 * 1024)	/* wake the writer once this much waits */
#define BATCH_WAIT_MS	200		/* or once the oldest record is this old */

struct tp_audit {
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* work for the writer */
	pthread_cond_t drained;		/* the queue went empty */
	pthread_t writer;
	char   *path;
	int	fd;			/* writer thread only; -1: not open */
	char   *queue;			/* records waiting, whole lines */
	size_t	used;
	size_t	size;
	bool	reopen;			/* asked to reopen */
	bool	stop;			/* asked to finish */
	bool	busy;			/* the writer holds a batch */
	bool	flush;			/* asked to write what is queued now */
	struct tp_audit_counts counts;
	unsigned long long warned_lost;	/* lost count at the last warning */
	time_t	warned_at;
	void	(*warn) (const char *);
};

/* open_file - open for appending; -1 with errno */

static int
open_file(const char *path)
{
	return (open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
}

/* count_lines - records in a batch */

static unsigned long long
count_lines(const char *buf, size_t len)
{
	unsigned long long n = 0;

	for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))) != NULL; p++)
		n++;
	return (n);
}

/* warn_due - with the lock held: is a warning due? then its text in msg */

static bool
warn_due(struct tp_audit *a, const char *why, char *msg, size_t size)
{
	time_t	now = time(NULL);

	if (a->warn == NULL || now - a->warned_at < WARN_INTERVAL)
		return (false);
	a->warned_at = now;
	snprintf(msg, size, "audit log %s: %s; %llu records lost so far",
		 a->path, why, a->counts.lost);
	return (true);
}

/* write_batch - write whole lines or none; returns records written */

static unsigned long long
write_batch(struct tp_audit *a, const char *buf, size_t len, const char **why)
{
	struct stat st;
	ssize_t	n;

	if (a->fd < 0 && (a->fd = open_file(a->path)) < 0) {
		*why = strerror(errno);
		return (0);
	}
	if (fstat(a->fd, &st) != 0) {
		*why = strerror(errno);
		return (0);
	}
	n = write(a->fd, buf, len);
	if (n == (ssize_t)len)
		return (count_lines(buf, len));
	*why = n < 0 ? strerror(errno) : "short write";
	/* Leave no partial line behind. */
	if (n > 0 && ftruncate(a->fd, st.st_size) != 0)
		*why = "short write, and the file could not be cut back";
	return (0);
}

/*
 * wait_for_work - with the lock held: until a batch is full, the oldest
 * queued record is BATCH_WAIT_MS old, or a reopen, flush or stop is
 * asked for. Waking the writer for every record would cost a context
 * switch and a write() per message; batches cost a few per second.
 */

static void
wait_for_work(struct tp_audit *a)
{
	struct timespec deadline;

	while (!a->reopen && !a->stop && !a->flush && a->used < BATCH_BYTES) {
		if (a->used == 0) {
			pthread_cond_wait(&a->wake, &a->lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_nsec += BATCH_WAIT_MS * 1000000L;
		deadline.tv_sec += deadline.tv_nsec / 1000000000L;
		deadline.tv_nsec %= 1000000000L;
		if (pthread_cond_timedwait(&a->wake, &a->lock, &deadline) == ETIMEDOUT)
			return;
	}
}

/* writer_main - take what is queued, write it, repeat */

static void *
writer_main(void *arg)
{
	struct tp_audit *a = arg;
	char   *batch = malloc(a->size);
	char	msg[512];

	pthread_mutex_lock(&a->lock);
	for (;;) {
		wait_for_work(a);
		if (a->reopen) {
			a->reopen = false;
			pthread_mutex_unlock(&a->lock);
			if (a->fd >= 0)
				close(a->fd);
			a->fd = open_file(a->path);
			pthread_mutex_lock(&a->lock);
			a->counts.reopens += a->fd >= 0;
		}
		if (a->used > 0 && batch != NULL) {
			size_t	len = a->used;
			unsigned long long lines, done;
			const char *why = NULL;

			memcpy(batch, a->queue, len);
			a->used = 0;
			a->busy = true;
			pthread_mutex_unlock(&a->lock);
			lines = count_lines(batch, len);
			done = write_batch(a, batch, len, &why);
			pthread_mutex_lock(&a->lock);
			a->busy = false;
			a->counts.written += done;
			a->counts.lost += lines - done;
			if (why != NULL && warn_due(a, why, msg, sizeof(msg))) {
				pthread_mutex_unlock(&a->lock);
				a->warn(msg);
				pthread_mutex_lock(&a->lock);
			}
		} else if (a->used > 0) {
			a->counts.lost += count_lines(a->queue, a->used);
			a->used = 0;
		}
		if (a->used == 0)
			a->flush = false;
		pthread_cond_broadcast(&a->drained);
		if (a->stop && a->used == 0)
			break;
	}
	pthread_mutex_unlock(&a->lock);
	free(batch);
	return (NULL);
}

/* tp_audit_open - start a log; NULL if out of memory or no thread */

struct tp_audit *
tp_audit_open(const char *path, size_t queue_bytes, void (*warn) (const char *))
{
	struct tp_audit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return (NULL);
	a->fd = -1;
	a->size = queue_bytes < TP_AUDIT_RECORD_MAX ? TP_AUDIT_RECORD_MAX : queue_bytes;
	a->warn = warn;
	pthread_condattr_t attr;

	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&a->drained, NULL);
	/* Open now, so that a bad path is reported at start-up; the writer
	 * tries again at every batch. */
	if ((a->fd = open_file(path)) < 0 && warn != NULL) {
		char	msg[512];

		snprintf(msg, sizeof(msg), "audit log %s: %s; records are lost until it can be written",
			 path, strerror(errno));
		warn(msg);
	}
	if ((a->path = strdup(path)) == NULL || (a->queue = malloc(a->size)) == NULL
	    || pthread_create(&a->writer, NULL, writer_main, a) != 0) {
		if (a->fd >= 0)
			close(a->fd);
		free(a->path);
		free(a->queue);
		free(a);
		return (NULL);
	}
	return (a);
}

/* tp_audit_submit - queue one whole line; -1 if it was dropped */

int
tp_audit_submit(struct tp_audit *a, const char *line, size_t len)
{
	char	msg[512];
	bool	warn = false;
	int	rc = 0;

	pthread_mutex_lock(&a->lock);
	if (len == 0 || a->size - a->used < len) {
		a->counts.lost++;
		warn = warn_due(a, len ? "queue full (the disk is slower than the mail)"
				: "record too large", msg, sizeof(msg));
		rc = -1;
	} else {
		memcpy(a->queue + a->used, line, len);
		/* The first record starts the writer's clock; a full batch wakes it. */
		if (a->used == 0 || (a->used < BATCH_BYTES && a->used + len >= BATCH_BYTES))
			pthread_cond_signal(&a->wake);
		a->used += len;
	}
	pthread_mutex_unlock(&a->lock);
	if (warn)
		a->warn(msg);
	return (rc);
}

/* tp_audit_reopen - reopen the file at the writer's next turn */

void
tp_audit_reopen(struct tp_audit *a)
{
	pthread_mutex_lock(&a->lock);
	a->reopen = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

/* tp_audit_stats - the counters so far (records still queued not counted) */

void
tp_audit_stats(struct tp_audit *a, struct tp_audit_counts *counts)
{
	pthread_mutex_lock(&a->lock);
	*counts = a->counts;
	pthread_mutex_unlock(&a->lock);
}

/* tp_audit_flush - wait until everything queued so far was written or lost */

void
tp_audit_flush(struct tp_audit *a)
{
	pthread_mutex_lock(&a->lock);
	a->flush = true;
	pthread_cond_signal(&a->wake);
	while (a->busy || a->used > 0 || a->reopen)
		pthread_cond_wait(&a->drained, &a->lock);
	pthread_mutex_unlock(&a->lock);
}

/* tp_audit_close - write what is queued, stop, free */

void
tp_audit_close(struct tp_audit *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->writer, NULL);
	if (a->fd >= 0)
		close(a->fd);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	pthread_cond_destroy(&a->drained);
	free(a->queue);
	free(a->path);
	free(a);
}
