/*
 * NAME
 *	log 3
 * SUMMARY
 *	the daemon's log: syslog, and a copy on standard error
 * DESCRIPTION
 *	See tp_log.h.
 */

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include "milter/tp_log.h"

/* Set once by tp_log_open(), before any thread starts. */
static bool to_syslog = true;

/*
 * Log lines this urgent or more are copied to standard error. Atomic:
 * tp_log_stderr() changes it while the audit writer's thread may log.
 */
static atomic_int stderr_upto = -1;

/* tp_log_facility - syslog facility by name, or -1 */

int
tp_log_facility(const char *name)
{
	static const struct {
		const char *name;
		int	facility;
	}	names[] = {
		{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
		{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
		{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
		{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return (names[i].facility);
	return (-1);
}

/* stderr_is_journal - whether systemd's journal reads our stderr */

static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	/* systemd sets "DEV:INODE" of the stream it connected us to. */
	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return (false);
	return ((unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino);
}

/* tp_log_open - where lines go from now on */

void
tp_log_open(int facility, int upto)
{
	to_syslog = facility >= 0;
	/* Under systemd the journal gets syslog already: not every line twice. */
	if (to_syslog && stderr_is_journal())
		upto = -1;
	atomic_store(&stderr_upto, upto);
	if (to_syslog)
		openlog("tlspolicy-milter", LOG_PID | LOG_NDELAY, facility);
}

/* tp_log_stderr - copy lines up to this priority to stderr; -1: none */

void
tp_log_stderr(int upto)
{
	atomic_store(&stderr_upto, upto);
}

/* tp_log_text - one finished line (len bytes, NUL-terminated) to the log */

void
tp_log_text(int pri, const char *line, size_t len)
{
	if (to_syslog)
		syslog(pri, "%s", line);
	if (pri <= atomic_load_explicit(&stderr_upto, memory_order_relaxed)) {
		/* One system call per line, so that the lines of threads never mix. */
		struct iovec iov[2] = {
			{.iov_base = (void *)(uintptr_t)line, .iov_len = len},
			{.iov_base = (void *)(uintptr_t)"\n", .iov_len = 1},
		};

		(void)!writev(STDERR_FILENO, iov, 2);
	}
}

/* tp_log - one formatted log line */

void
tp_log(int pri, const char *fmt,...)
{
	char	line[TP_LOG_LINE_MAX];
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= 0)
		tp_log_text(pri, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
