/*
 * NAME
 *	probe_util 3
 * SUMMARY
 *	tlspolicyctl probe: clock, waiting, and keeping server text
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	long	tp_probe_now_ms(void);
 *	long	tp_probe_ms_left(const struct tp_probe_opts *opts);
 *	int	tp_probe_io_wait(int fd, short events, long deadline);
 *	void	tp_probe_store(char *dst, size_t size, const char *raw);
 * DESCRIPTION
 *	What the probe's network modules (probe_smtp.c, probe_tls.c)
 *	share, in a module below both.
 *
 *	tp_probe_now_ms() is the monotonic clock in milliseconds, the unit
 *	of every deadline. tp_probe_ms_left() is what is left of the run.
 *	tp_probe_io_wait() polls fd for events until deadline: 1 when
 *	ready, TP_PROBE_TIMEOUT, or -1 on an error.
 *
 *	tp_probe_store() copies raw server text into dst, escaped for a
 *	terminal (TP_ESCAPE_TERM: valid UTF-8, no control character), cut
 *	to fit.
 */

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <time.h>

#include "ctl/tp_probe.h"
#include "util/tp_escape.h"

/* tp_probe_now_ms - the monotonic clock in milliseconds */

long
tp_probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000L + ts.tv_nsec / 1000000L);
}

/* tp_probe_ms_left - what is left of the whole run */

long
tp_probe_ms_left(const struct tp_probe_opts *opts)
{
	long	end = opts->deadline.tv_sec * 1000L + opts->deadline.tv_nsec / 1000000L;
	long	left = end - tp_probe_now_ms();

	return (left > 0 ? left : 0);
}

/* tp_probe_io_wait - poll fd until deadline: 1 ready, TP_PROBE_TIMEOUT, -1 */

int
tp_probe_io_wait(int fd, short events, long deadline)
{
	struct pollfd pfd = {.fd = fd,.events = events};
	long	left;
	int	n;

	for (;;) {
		if ((left = deadline - tp_probe_now_ms()) <= 0)
			return (TP_PROBE_TIMEOUT);
		n = poll(&pfd, 1, (int) left);
		if (n > 0)
			return (1);
		if (n == 0)
			return (TP_PROBE_TIMEOUT);
		if (errno != EINTR)
			return (-1);
	}
}

/* tp_probe_store - keep server text, escaped for a terminal */

void
tp_probe_store(char *dst, size_t size, const char *raw)
{
	bool	cut;

	(void) tp_escape(TP_ESCAPE_TERM, raw, dst, size, &cut);
}
