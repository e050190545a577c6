#ifndef TP_MILTER_DAEMON_H
#define TP_MILTER_DAEMON_H

/*
 * NAME
 *	tp_daemon 3h
 * SUMMARY
 *	becoming a daemon: detach, pid file, privileges, descriptors, stacks
 * SYNOPSIS
 *	#include "milter/tp_daemon.h"
 *
 *	void	tp_daemon_std_fds(void);
 *	bool	tp_daemon_running(const char *pidfile);
 *	int	tp_daemon_detach(void);
 *	void	tp_daemon_started(int ready);
 *	int	tp_daemon_write_pidfile(const char *pidfile);
 *	int	tp_daemon_drop_privileges(const struct passwd *pw);
 *	int	tp_daemon_thread_stacks(void);
 * DESCRIPTION
 *	tp_daemon_std_fds() makes sure descriptors 0-2 are open (on
 *	/dev/null), first thing: started without them, the milter socket
 *	or the start-up pipe would be one of them.
 *
 *	tp_daemon_running() tells whether a live daemon holds the pid
 *	file's lock (and says so on stderr), so that a second daemon is
 *	refused before it binds anything.
 *
 *	tp_daemon_detach() forks; the parent waits until the child calls
 *	tp_daemon_started(ready), then exits 0, or exits with the child's
 *	status if the child exits first: whoever started the daemon never
 *	sees success from one that failed later (pid file, privileges).
 *	Until then the child keeps our stderr for its errors and
 *	warnings; tp_daemon_started() then points 0-2 at /dev/null and
 *	stops the log's stderr copy. ready < 0 (not detached) is a no-op.
 *
 *	tp_daemon_write_pidfile() writes the process id, never through a
 *	symlink, and keeps the file locked (its descriptor open) for as
 *	long as the daemon runs.
 *
 *	tp_daemon_drop_privileges() becomes pw (groups, gid, uid) for
 *	good; NULL is a no-op.
 *
 *	tp_daemon_thread_stacks() gives every thread started from then on
 *	(libmilter's, one or more per connection) a stack of
 *	TP_THREAD_STACK bytes instead of glibc's default, the stack
 *	rlimit (8 MiB). glibc keeps the stacks of ended threads for reuse,
 *	up to 40 MiB: five stacks of 8 MiB, so that with more connections
 *	at once than that every new thread would map a fresh stack and
 *	fault in every page it touches. A connection's thread needs about
 *	16 KiB: under 8 KiB for the milter's work (tests/check_stack.c),
 *	the rest libmilter's frames and the thread's TLS. A
 *	ThreadSanitizer build keeps glibc's default: its runtime needs
 *	some 900 KiB of each thread's stack.
 * DIAGNOSTICS
 *	tp_daemon_detach() returns the descriptor for tp_daemon_started()
 *	in the child, or -1. The int functions return 0, or -1 with the
 *	reason logged (tp_log; on stderr until tp_daemon_started()).
 * MEMORY
 *	Nothing to free. The pid file's descriptor stays open until exit;
 *	the caller removes the file.
 */

#include <stdbool.h>

struct passwd;

extern void tp_daemon_std_fds(void);
extern bool tp_daemon_running(const char *);
extern int tp_daemon_detach(void);
extern void tp_daemon_started(int);
extern int tp_daemon_write_pidfile(const char *);
extern int tp_daemon_drop_privileges(const struct passwd *);
extern int tp_daemon_thread_stacks(void);

/* A thread's stack: over ten times the deepest the milter goes. */
#define TP_THREAD_STACK	(256 * 1024)

#endif
