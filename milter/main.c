/*
 * NAME
 *	tlspolicy-milter 8
 * SUMMARY
 *	enforce per-domain TLS policy in Postfix and Sendmail
 * SYNOPSIS
 *	tlspolicy-milter [-c CONFIG] [-p SOCKET] [-f POLICY] [-u USER]
 *		[-P PIDFILE] [-F] [-n] [--dry-run] [-V] [-h]
 * DESCRIPTION
 *	main() puts the modules together, in this order: the configuration
 *	(config.c), the log (log.c), the signal mask (signals.c), the
 *	policy (reload.c, refusing to start on any error), the milter
 *	socket (socket.c, never taking over one that a running daemon
 *	listens on), then detach, pid file, privileges and the threads'
 *	stack size (daemon.c), the audit writer and the signal thread, and
 *	hands over to libmilter.
 *	A detaching start returns only once the daemon runs, with its
 *	exit status if it did not get that far.
 *	See tlspolicy-milter(8) and --help for every option.
 */

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "milter/tp_config.h"
#include "milter/tp_daemon.h"
#include "milter/tp_log.h"
#include "milter/tp_reload.h"
#include "milter/tp_signals.h"
#include "milter/tp_socket.h"
#include "reporter/tp_audit.h"

extern struct smfiDesc tp_milter_desc;

/* audit_warning - the audit writer's rate-limited warnings */

static void
audit_warning(const char *msg)
{
	tp_log(LOG_WARNING, "%s", msg);
}

/* run_as - the user to become once the socket is open; -1: refused */

static int
run_as(struct passwd **pw)
{
	*pw = NULL;
	if (tp_config.user && (*pw = getpwnam(tp_config.user)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: unknown user %s\n", tp_config.user);
		return (-1);
	}
	return (0);
}

/* setup_libmilter - hand libmilter the socket, timeout and callbacks */

static int
setup_libmilter(void)
{
	if (smfi_setconn(tp_config.socket) != MI_SUCCESS
	    || smfi_settimeout((int)tp_config.timeout) != MI_SUCCESS
	    || smfi_register(tp_milter_desc) != MI_SUCCESS) {
		fprintf(stderr, "tlspolicy-milter: libmilter refused the configuration (socket %s)\n",
			tp_config.socket);
		return (-1);
	}
	return (0);
}

/* start_threads - the audit writer and the signal thread, as the user */

static int
start_threads(void)
{
	if (strcmp(tp_config.audit_log, "none") != 0 && *tp_config.audit_log
	    && (tp_audit_log = tp_audit_open(tp_config.audit_log,
				 (size_t)tp_config.audit_queue_kb * 1024, audit_warning)) == NULL) {
		tp_log(LOG_ERR, "cannot start the audit log writer");
		return (-1);
	}
	tp_stats.started = time(NULL);
	if (tp_signal_thread_start() < 0) {
		tp_log(LOG_ERR, "cannot start the signal thread");
		return (-1);
	}
	return (0);
}

/* serve - run libmilter until it stops; clean up after it */

static int
serve(void)
{
	int	rc;

	tp_log(LOG_INFO, "tlspolicy-milter %s listening on %s%s", PACKAGE_VERSION,
	       tp_config.socket, tp_config.dry_run ? " (dry run: nothing is refused)" : "");
	rc = smfi_main();
	tp_log(LOG_INFO, "stopping");
	tp_signal_thread_stop();
	tp_stats_report();
	tp_audit_close(tp_audit_log);
	if (tp_config.pidfile)
		unlink(tp_config.pidfile);
	if (tp_socket_remove() < 0)
		tp_log(LOG_NOTICE, "cannot remove socket %s: %s (the next start replaces it)",
		       tp_config.socket, strerror(errno));
	tp_policy_stop();
	tp_config_free();
	return (rc == MI_SUCCESS ? 0 : TP_EXIT_OS);
}

int
main(int argc, char **argv)
{
	struct passwd *pw;
	int	check_only = 0;
	int	ready = -1;
	int	rc;

	tp_daemon_std_fds();
	if ((rc = tp_config_load(argc, argv, &check_only)) != TP_CONFIG_RUN)
		return (rc);
	tp_log_open(tp_config.use_syslog ? tp_config.facility : -1,
		    tp_config.foreground || check_only ? LOG_DEBUG : LOG_WARNING);
	tp_signals_block();
	if (tp_policy_start(tp_config.policy) < 0 || run_as(&pw) < 0)
		return (TP_EXIT_CONFIG);
	if (check_only) {
		printf("tlspolicy-milter: configuration and policy OK\n");
		return (0);
	}
	if ((pw ? pw->pw_uid : geteuid()) == 0 && !tp_config.allow_root) {
		fprintf(stderr, "tlspolicy-milter: refusing to run as root once the socket is "
			"open: give -u USER (user = USER), or allow_root = yes\n");
		return (TP_EXIT_CONFIG);
	}
	if (setup_libmilter() < 0)
		return (TP_EXIT_CONFIG);
	/* Before binding, for the message; tp_socket_open() checks the socket. */
	if (tp_config.pidfile && tp_daemon_running(tp_config.pidfile))
		return (TP_EXIT_OS);
	if (tp_socket_open(tp_config.socket, pw, tp_config.socket_group) < 0
	    || (!tp_config.foreground && (ready = tp_daemon_detach()) < 0)
	    || (tp_config.pidfile && tp_daemon_write_pidfile(tp_config.pidfile) < 0)
	    || tp_daemon_drop_privileges(pw) < 0
	    || tp_daemon_thread_stacks() < 0
	    || start_threads() < 0)
		return (TP_EXIT_OS);
	tp_daemon_started(ready);
	return (serve());
}
