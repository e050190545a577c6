/*
 * NAME
 *	config 3
 * SUMMARY
 *	the daemon's configuration: defaults, config file, command line
 * DESCRIPTION
 *	See tp_config.h. The config key table below is the one list of
 *	settings; usage() is the manual in brief.
 */

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "milter/tp_config.h"
#include "milter/tp_log.h"
#include "milter/tp_socket.h"
#include "util/tp_conf.h"
#include "util/tp_paths.h"

struct tp_config tp_config;

#define KEY(name, type, field, max) {name, type, offsetof(struct tp_config, field), max}
static const struct tp_conf_key config_keys[] = {
	KEY("socket", TP_CONF_STRING, socket, 0),
	KEY("policy", TP_CONF_STRING, policy, 0),
	KEY("user", TP_CONF_STRING, user, 0),
	KEY("pidfile", TP_CONF_STRING, pidfile, 0),
	KEY("foreground", TP_CONF_BOOL, foreground, 0),
	KEY("allow_root", TP_CONF_BOOL, allow_root, 0),
	KEY("dry_run", TP_CONF_BOOL, dry_run, 0),
	KEY("recipient_delimiter", TP_CONF_STRING, rcpt_delimiter, 0),
	KEY("header", TP_CONF_BOOL, add_header, 0),
	KEY("header_name", TP_CONF_STRING, header_name, 0),
	KEY("strip_header", TP_CONF_STRING, strip_header, 0),
	KEY("implicit_tls", TP_CONF_STRING, implicit_tls, 0),
	KEY("early_events", TP_CONF_BOOL, early_events, 0),
	KEY("syslog", TP_CONF_BOOL, use_syslog, 0),
	KEY("syslog_facility", TP_CONF_STRING, syslog_facility, 0),
	KEY("hostname", TP_CONF_STRING, hostname, 0),
	KEY("timeout", TP_CONF_UINT, timeout, 3600),
	KEY("socket_group", TP_CONF_STRING, socket_group, 0),
	KEY("audit_log", TP_CONF_STRING, audit_log, 0),
	KEY("audit_queue_kb", TP_CONF_UINT, audit_queue_kb, 1024 * 1024),
	KEY("stats_file", TP_CONF_STRING, stats_file, 0),
	KEY("stats_interval", TP_CONF_UINT, stats_interval, 86400),
	KEY("metrics_file", TP_CONF_STRING, metrics_file, 0),
	{NULL, 0, 0, 0},
};


/* tp_listener_is_implicit - is this listener named in implicit_tls? */

bool
tp_listener_is_implicit(const char *name, const char *port)
{
	const char *list = tp_config.implicit_tls;

	while (list != NULL && *list) {
		size_t	len;

		list += strspn(list, ", \t");
		len = strcspn(list, ", \t");
		if (len > 0 && ((name && strlen(name) == len && strncasecmp(list, name, len) == 0)
			|| (port && strlen(port) == len && strncmp(list, port, len) == 0)))
			return (true);
		list += len;
	}
	return (false);
}

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicy-milter [OPTIONS]\n"
"\n"
"Milter for Postfix and Sendmail that enforces per-domain TLS policy.\n"
"\n"
"Options (each has a key in the config file, shown in brackets):\n"
"  -c, --config FILE     config file of \"key = value\" lines\n"
"                        (default %s; a missing default file is fine)\n"
"  -p, --socket SPEC     milter socket [socket]: unix:/PATH, inet:PORT@HOST or\n"
"                        inet6:PORT@HOST (default\n"
"                        %s).\n"
"                        A unix socket's directory, if missing, is made with\n"
"                        mode 0750 for USER and socket_group. Whoever can\n"
"                        connect can crash libmilter: untrusted users must\n"
"                        not reach the socket (every local user reaches\n"
"                        inet: on 127.0.0.1)\n"
"  -f, --policy FILE     policy file [policy] (default %s)\n"
"  -u, --user USER       run as USER once the socket is open [user]; without\n"
"                        it the daemon refuses to keep running as root\n"
"      --allow-root      run as root all the same [allow_root]\n"
"  -P, --pidfile FILE    write the process id here [pidfile]\n"
"                        (default, when not in the foreground: %s)\n"
"  -F, --foreground      do not detach; log to stderr too, unless stderr is\n"
"                        systemd's journal [foreground]\n"
"  -a, --audit-log FILE  JSON-lines audit log, one record per message, or\n"
"                        \"none\" [audit_log] (default %s)\n"
"  -n, --check           check the configuration and the policy, then exit\n"
"      --dry-run         treat every rule as mode=testing: decide and record,\n"
"                        never refuse [dry_run]\n"
"  -V, --version         print the version\n"
"  -h, --help            this text\n"
"\n"
"Config file only:\n"
"  header = yes|no       add the result header to accepted mail (default yes)\n"
"  header_name = NAME    its name (default X-TLS-Policy); copies that arrive\n"
"                        with a message are removed\n"
"  strip_header = WHO    who removes those copies: milter (default) or mta;\n"
"                        mta: Postfix's header_checks do (see\n"
"                        contrib/postfix), and the milter asks for no header\n"
"                        events. Sendmail cannot: keep milter there\n"
"  recipient_delimiter = CHARS\n"
"                        Postfix's recipient_delimiter, which it must equal\n"
"                        (default +; empty: none): user+ext@domain then also\n"
"                        meets rcpt:user@domain rules\n"
"  implicit_tls = LIST   listener names ({daemon_name}) or ports that take TLS\n"
"                        from connect (default 465; e.g. 465, MTA-SSL)\n"
"  early_events = yes|no take the MTA's connect, HELO and MAIL events (default\n"
"                        yes); no: read the client, HELO name, sender and TLS\n"
"                        at RCPT TO instead (a small saving: BENCHMARKS.md).\n"
"                        Sessions that reach no RCPT TO are then not recorded,\n"
"                        the sender is read as the MTA parsed it, and implicit\n"
"                        TLS is known from the listener only (implicit_tls, or\n"
"                        Sendmail's M=s)\n"
"  socket_group = GROUP  group of a unix socket (mode 0660) and of the\n"
"                        directory made for it, e.g. the MTA's (default:\n"
"                        USER's group)\n"
"  syslog = yes|no       log to syslog (default yes); no: to standard error\n"
"                        only, in the foreground (e.g. in a container)\n"
"  syslog_facility = F   mail (default), daemon, local0 ... local7\n"
"  hostname = NAME       name in the result header (default: this host's)\n"
"  timeout = SECONDS     how long libmilter waits for the MTA (default 600)\n"
"  audit_queue_kb = N    memory queue in front of the audit log (default 4096);\n"
"                        when full, records are dropped and counted, mail flows\n"
"  stats_file = FILE     status file for tlspolicyctl status, or \"\" for none\n"
"                        (default %s)\n"
"  stats_interval = S    write it and log the counters every S seconds\n"
"                        (default 300; 0: only on SIGUSR2)\n"
"  metrics_file = FILE   the counters in the Prometheus text format, for\n"
"                        node_exporter's textfile collector (a .prom file in\n"
"                        its directory), written with the status file\n"
"                        (default: none)\n"
"\n"
"Signals: SIGUSR1 reloads the policy (a bad file keeps the old policy);\n"
"SIGUSR2 reopens the audit log (log rotation) and writes the status and\n"
"metrics files;\n"
"SIGTERM, SIGHUP and SIGINT stop gracefully.\n"
"Exit status: 0 normal stop or -n success; 64 usage; 78 bad configuration\n"
"or policy; 71 cannot start (socket, user, fork).\n",
		TP_DEFAULT_CONFIG, TP_DEFAULT_SOCKET, TP_DEFAULT_POLICY, TP_DEFAULT_PIDFILE,
		TP_DEFAULT_AUDIT, TP_DEFAULT_STATUS);
}

/* set_defaults - every string malloc'd, as tp_conf_free expects */

static int
set_defaults(void)
{
	char	host[256];

	memset(&tp_config, 0, sizeof(tp_config));
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = 0;
	tp_config.add_header = 1;
	tp_config.use_syslog = 1;
	tp_config.timeout = 600;
	tp_config.audit_queue_kb = 4096;
	tp_config.stats_interval = 300;
	tp_config.early_events = 1;
	return ((tp_config.socket = strdup(TP_DEFAULT_SOCKET)) == NULL
		|| (tp_config.policy = strdup(TP_DEFAULT_POLICY)) == NULL
		|| (tp_config.header_name = strdup("X-TLS-Policy")) == NULL
		|| (tp_config.strip_header = strdup("milter")) == NULL
		|| (tp_config.implicit_tls = strdup("465")) == NULL
		|| (tp_config.syslog_facility = strdup("mail")) == NULL
		|| (tp_config.hostname = strdup(host)) == NULL
		|| (tp_config.audit_log = strdup(TP_DEFAULT_AUDIT)) == NULL
		|| (tp_config.stats_file = strdup(TP_DEFAULT_STATUS)) == NULL ? -1 : 0);
}

#define SHORT_OPTIONS	"c:p:f:u:P:a:FnVh"

static const struct option options[] = {
	{"config", required_argument, NULL, 'c'},
	{"socket", required_argument, NULL, 'p'},
	{"policy", required_argument, NULL, 'f'},
	{"user", required_argument, NULL, 'u'},
	{"pidfile", required_argument, NULL, 'P'},
	{"foreground", no_argument, NULL, 'F'},
	{"allow-root", no_argument, NULL, 'R'},
	{"audit-log", required_argument, NULL, 'a'},
	{"check", no_argument, NULL, 'n'},
	{"dry-run", no_argument, NULL, 'D'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* config_key_of - the config key a flag sets, or NULL */

static const char *
config_key_of(int opt)
{
	switch (opt) {
	case 'p': return ("socket");
	case 'f': return ("policy");
	case 'u': return ("user");
	case 'P': return ("pidfile");
	case 'F': return ("foreground");
	case 'D': return ("dry_run");
	case 'a': return ("audit_log");
	case 'R': return ("allow_root");
	}
	return (NULL);
}

/* parse_file - the config file, if any; TP_CONFIG_RUN or exit status */

static int
parse_file(const char *file, bool explicit)
{
	struct tp_errors errs;
	int	rc = TP_CONFIG_RUN;

	if (!explicit && access(file, F_OK) != 0)
		return (TP_CONFIG_RUN);
	tp_errors_init(&errs);
	if (tp_conf_load(file, config_keys, &tp_config, &errs) < 0) {
		for (size_t i = 0; i < errs.kept; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		rc = TP_EXIT_CONFIG;
	}
	tp_errors_free(&errs);
	return (rc);
}

/* parse_flags - the flags that set keys, over the file's values */

static int
parse_flags(int argc, char **argv)
{
	const char *why;
	int	c;

	optind = 1;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, options, NULL)) != -1) {
		const char *key = config_key_of(c);

		if (key && tp_conf_set(config_keys, &tp_config, key,
				       optarg ? optarg : "yes", &why) < 0) {
			fprintf(stderr, "tlspolicy-milter: -%c: %s\n", c, why);
			return (TP_EXIT_USAGE);
		}
	}
	return (TP_CONFIG_RUN);
}

/* check_derive - what no single key can check; the derived fields */

static int
check_derive(int check_only)
{
	if ((tp_config.facility = tp_log_facility(tp_config.syslog_facility)) < 0) {
		fprintf(stderr, "tlspolicy-milter: unknown syslog_facility %s\n", tp_config.syslog_facility);
		return (TP_EXIT_CONFIG);
	}
	if (!tp_config.use_syslog && !tp_config.foreground && !check_only) {
		fprintf(stderr, "tlspolicy-milter: syslog = no needs foreground = yes (-F): "
			"a daemon that detaches has no standard error to log to\n");
		return (TP_EXIT_CONFIG);
	}
	if (tp_config.header_name[0] == 0 || strpbrk(tp_config.header_name, ": \t\r\n") != NULL) {
		fprintf(stderr, "tlspolicy-milter: header_name \"%s\" is not a header field name\n",
			tp_config.header_name);
		return (TP_EXIT_CONFIG);
	}
	if (strcmp(tp_config.strip_header, "milter") != 0 && strcmp(tp_config.strip_header, "mta") != 0) {
		fprintf(stderr, "tlspolicy-milter: strip_header \"%s\": must be milter or mta\n",
			tp_config.strip_header);
		return (TP_EXIT_CONFIG);
	}
	tp_config.strip_header_mta = strcmp(tp_config.strip_header, "mta") == 0;
	/* The default pid file is for a daemon that detaches. */
	if (tp_config.pidfile == NULL && !tp_config.foreground
	    && (tp_config.pidfile = strdup(TP_DEFAULT_PIDFILE)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: out of memory\n");
		return (TP_EXIT_OS);
	}
	tp_config.reply_at_data = tp_socket_unix_path(tp_config.socket) == NULL;
	return (TP_CONFIG_RUN);
}

/* tp_config_load - defaults, the config file, then the flags */

int
tp_config_load(int argc, char **argv, int *check_only)
{
	const char *file = TP_DEFAULT_CONFIG;
	bool	explicit = false;
	int	c, rc;

	if (set_defaults() < 0) {
		fprintf(stderr, "tlspolicy-milter: out of memory\n");
		return (TP_EXIT_OS);
	}
	/* First pass: only -c, -h, -V, -n, so that flags override the file. */
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, options, NULL)) != -1) {
		if (c == 'c') {
			file = optarg, explicit = true;
		} else if (c == 'h') {
			usage(stdout);
			return (0);
		} else if (c == 'V') {
			printf("tlspolicy-milter %s\n", PACKAGE_VERSION);
			return (0);
		} else if (c == 'n') {
			*check_only = 1;
		} else if (c == '?') {
			fprintf(stderr, "Try 'tlspolicy-milter --help'.\n");
			return (TP_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tlspolicy-milter: unexpected argument \"%s\"\n", argv[optind]);
		return (TP_EXIT_USAGE);
	}
	if ((rc = parse_file(file, explicit)) != TP_CONFIG_RUN
	    || (rc = parse_flags(argc, argv)) != TP_CONFIG_RUN)
		return (rc);
	return (check_derive(*check_only));
}

/* tp_config_free - free the configuration's strings */

void
tp_config_free(void)
{
	tp_conf_free(config_keys, &tp_config);
}
