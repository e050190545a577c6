/*
 * NAME
 *	daemon 3
 * SUMMARY
 *	becoming a daemon: detach, pid file, privileges, descriptors, stacks
 * DESCRIPTION
 *	See tp_daemon.h.
 */

#include "config.h"			/* _GNU_SOURCE: pthread_setattr_default_np */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "milter/tp_config.h"
#include "milter/tp_daemon.h"
#include "milter/tp_log.h"

/* tp_daemon_drop_privileges - become the configured user for good */

int
tp_daemon_drop_privileges(const struct passwd *pw)
{
	if (pw == NULL)
		return (0);
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0
	    || setuid(pw->pw_uid) != 0) {
		tp_log(LOG_ERR, "cannot become %s: %s", pw->pw_name, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * tp_daemon_std_fds - make sure descriptors 0-2 are open. Started without them,
 * the milter socket or the start-up pipe would be one, and the daemon's
 * own redirection of 0-2 to /dev/null would close it.
 */

void
tp_daemon_std_fds(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		 /* void */ ;
	if (fd > 2)
		close(fd);
}

/*
 * tp_daemon_detach - detach from the terminal. The parent waits until the child
 * calls tp_daemon_started(), or exits with the child's status if it never does:
 * whoever started us must not see success from a daemon that failed to
 * write its pid file or to drop privileges. Until then the child keeps
 * our standard error for its errors. Returns the descriptor for
 * tp_daemon_started(), or -1.
 */

int
tp_daemon_detach(void)
{
	int	ready[2];
	pid_t	pid;
	int	status;
	char	c;

	if (pipe(ready) != 0 || (pid = fork()) < 0) {
		fprintf(stderr, "tlspolicy-milter: cannot detach: %s\n", strerror(errno));
		return (-1);
	}
	if (pid > 0) {
		close(ready[1]);
		if (read(ready[0], &c, 1) == 1)
			_exit(0);
		/* No word: the child is exiting, and has said why. */
		if (waitpid(pid, &status, 0) < 0)
			_exit(TP_EXIT_OS);
		if (WIFEXITED(status))
			_exit(WEXITSTATUS(status));
		fprintf(stderr, "tlspolicy-milter: died during start-up (signal %d)\n", WTERMSIG(status));
		_exit(TP_EXIT_OS);
	}
	close(ready[0]);
	if (setsid() < 0 || chdir("/") != 0) {
		tp_log(LOG_ERR, "cannot detach: %s", strerror(errno));
		return (-1);
	}
	return (ready[1]);
}

/* tp_daemon_started - let the starting parent go, and its terminal too */

void
tp_daemon_started(int ready)
{
	int	fd;

	if (ready < 0)
		return;
	tp_log_stderr(-1);
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	/* Last: whoever reads our standard error sees its end with the parent's. */
	(void)!write(ready, "", 1);
	close(ready);
}

/*
 * tp_daemon_write_pidfile - the process id, never through a symlink, and locked for
 * as long as we run, so that a second daemon with the same pid file
 * refuses to start instead of overwriting it. The descriptor stays open.
 */

int
tp_daemon_write_pidfile(const char *path)
{
	char	buf[32];
	int	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	int	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fd < 0) {
		tp_log(LOG_ERR, "cannot open pid file %s: %s", path, strerror(errno));
		return (-1);
	}
	if (fcntl(fd, F_SETLK, &lk) < 0) {
		ssize_t	n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		tp_log(LOG_ERR, "pid file %s is locked: tlspolicy-milter is already running (pid %s)",
		       path, buf);
		close(fd);
		return (-1);
	}
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)len) != len) {
		tp_log(LOG_ERR, "cannot write pid file %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	return (0);
}

/* tp_daemon_running - does a live daemon hold this pid file's lock? */

bool
tp_daemon_running(const char *path)
{
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	bool	held;

	if (fd < 0)
		return (false);
	held = fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK;
	if (held)
		fprintf(stderr, "tlspolicy-milter: pid file %s is locked: already running (pid %ld)\n",
			path, (long)lk.l_pid);
	close(fd);
	return (held);
}


/* ThreadSanitizer's runtime wants some 900 KiB of every thread's stack. */
#if defined(__SANITIZE_THREAD__)
#define STACKS_OF_GLIBC	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STACKS_OF_GLIBC	1
#endif
#endif

/* tp_daemon_thread_stacks - stacks of TP_THREAD_STACK for new threads */

int
tp_daemon_thread_stacks(void)
{
#ifdef STACKS_OF_GLIBC
	return (0);
#else
	pthread_attr_t attr;
	int	err;

	if ((err = pthread_attr_init(&attr)) == 0) {
		if ((err = pthread_attr_setstacksize(&attr, TP_THREAD_STACK)) == 0)
			err = pthread_setattr_default_np(&attr);
		pthread_attr_destroy(&attr);
	}
	if (err != 0) {
		tp_log(LOG_ERR, "cannot set the threads' stack size: %s", strerror(err));
		return (-1);
	}
	return (0);
#endif
}
