#ifndef TP_MILTER_CONFIG_H
#define TP_MILTER_CONFIG_H

/*
 * NAME
 *	tp_config 3h
 * SUMMARY
 *	the daemon's configuration: defaults, config file, command line
 * SYNOPSIS
 *	#include "milter/tp_config.h"
 *
 *	extern struct tp_config tp_config;
 *
 *	int	tp_config_load(int argc, char **argv, int *check_only);
 *	void	tp_config_free(void);
 *	bool	tp_listener_is_implicit(const char *name, const char *port);
 * DESCRIPTION
 *	tp_config_load() fills tp_config: the defaults, then the config
 *	file (-c, or the default file if it exists), then the command-line
 *	flags, which share the config file's parser (tp_conf_set), so that
 *	a flag and its key are checked alike and a flag wins. It then
 *	checks what no single key can (syslog_facility, header_name,
 *	syslog = no without the foreground) and derives the fields marked
 *	so below. -n sets *check_only. --help and --version print to
 *	stdout.
 *
 *	tp_listener_is_implicit() tells whether a listener, by its name
 *	({daemon_name}) or its port, is in the implicit_tls list.
 *
 *	tp_config is written by tp_config_load() alone, before any thread
 *	starts, and only read after that.
 * DIAGNOSTICS
 *	tp_config_load() returns TP_CONFIG_RUN, or the status main() must
 *	exit with: 0 after --help or --version; TP_EXIT_USAGE for a bad
 *	flag; TP_EXIT_CONFIG for a bad config file or value (each error
 *	on stderr, as FILE:LINE: what is wrong); TP_EXIT_OS when out of
 *	memory.
 * MEMORY
 *	The strings in tp_config are malloc'd; tp_config_free() frees
 *	them.
 */

#include <stdbool.h>

/* Exit statuses of the daemon (sysexits.h values; in --help). */
#define TP_EXIT_USAGE	64		/* EX_USAGE */
#define TP_EXIT_OS	71		/* EX_OSERR */
#define TP_EXIT_CONFIG	78		/* EX_CONFIG */

#define TP_CONFIG_RUN	(-1)		/* tp_config_load(): go on */

/* Everything that has a command-line flag has a config key (config.c). */
struct tp_config {
	char   *socket;			/* -p: libmilter socket spec */
	char   *policy;			/* -f: policy file */
	char   *user;			/* -u: run as this user once bound */
	char   *pidfile;		/* -P; NULL: none (derived default) */
	int	foreground;		/* -F: stay in the foreground, log to stderr too */
	int	allow_root;		/* keep running as root once bound */
	int	dry_run;		/* every rule in testing mode */
	char   *rcpt_delimiter;		/* Postfix's recipient_delimiter; NULL: "+" */
	int	add_header;		/* add the result header */
	char   *header_name;		/* its name */
	char   *strip_header;		/* who removes arriving copies: milter|mta */
	char   *implicit_tls;		/* listener names/ports that are TLS from connect */
	int	early_events;		/* take connect, HELO and MAIL events */
	int	use_syslog;		/* no: log to stderr only (foreground) */
	char   *syslog_facility;
	char   *hostname;		/* for the header; default: gethostname */
	unsigned timeout;		/* seconds libmilter waits for the MTA */
	char   *socket_group;		/* group of a unix socket */
	char   *audit_log;		/* -a: JSON-lines audit log; "none": off */
	unsigned audit_queue_kb;	/* bounded queue in front of it */
	char   *stats_file;		/* status file for tlspolicyctl status */
	unsigned stats_interval;	/* seconds between stats; 0: only on SIGUSR2 */
	char   *metrics_file;		/* Prometheus text; NULL or "": none */
	int	facility;		/* derived: LOG_* of syslog_facility */
	int	strip_header_mta;	/* derived: strip_header = mta, no header events */
	int	reply_at_data;		/* derived: the socket is TCP (see mlfi_data) */
};

extern struct tp_config tp_config;

extern int tp_config_load(int, char **, int *);
extern void tp_config_free(void);
extern bool tp_listener_is_implicit(const char *, const char *);

#endif
