/*
 * NAME
 *	tlspolicy-milter 8
 * SUMMARY
 *	enforce per-domain TLS policy in Postfix and Sendmail
 * SYNOPSIS
 *	tlspolicy-milter [-c CONFIG] [-p SOCKET] [-f POLICY] [-u USER]
 *		[-P PIDFILE] [-F] [-n] [--dry-run] [-V] [-h]
 * DESCRIPTION
 *	main() reads the configuration (defaults, then the config file,
 *	then command-line flags, which share the config file's parser),
 *	loads the policy (refusing to start on any error), opens the
 *	milter socket (never taking over one that a running daemon
 *	listens on), detaches, drops privileges, and hands over to
 *	libmilter. A detaching start returns only once the daemon runs,
 *	with its exit status if it did not get that far.
 *	See tlspolicy-milter(8) and usage() for every option.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "milter/milter.h"
#include "util/tp_conf.h"

#define DEFAULT_CONFIG	TP_SYSCONFDIR "/tlspolicy/tlspolicy-milter.conf"
#define DEFAULT_POLICY	TP_SYSCONFDIR "/tlspolicy/policy.conf"
#define DEFAULT_SOCKET	"inet:8895@127.0.0.1"
#define DEFAULT_PIDFILE	TP_RUNSTATEDIR "/tlspolicy/tlspolicy-milter.pid"
#define DEFAULT_AUDIT	TP_LOCALSTATEDIR "/log/tlspolicy/audit.jsonl"
#define DEFAULT_STATS	TP_RUNSTATEDIR "/tlspolicy/status"
#define EXIT_CONFIG	78		/* EX_CONFIG */
#define EXIT_USAGE	64		/* EX_USAGE */
#define EXIT_OS		71		/* EX_OSERR */

extern struct smfiDesc tp_milter_desc;

struct tp_config tp_config;
struct tp_stats tp_stats;
struct tp_audit *tp_audit_log;

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
	KEY("implicit_tls", TP_CONF_STRING, implicit_tls, 0),
	KEY("syslog", TP_CONF_BOOL, use_syslog, 0),
	KEY("syslog_facility", TP_CONF_STRING, syslog_facility, 0),
	KEY("hostname", TP_CONF_STRING, hostname, 0),
	KEY("timeout", TP_CONF_UINT, timeout, 3600),
	KEY("socket_group", TP_CONF_STRING, socket_group, 0),
	KEY("audit_log", TP_CONF_STRING, audit_log, 0),
	KEY("audit_queue_kb", TP_CONF_UINT, audit_queue_kb, 1024 * 1024),
	KEY("stats_file", TP_CONF_STRING, stats_file, 0),
	KEY("stats_interval", TP_CONF_UINT, stats_interval, 86400),
	{NULL, 0, 0, 0},
};

/*
 * Log lines this urgent or more are copied to standard error: every line
 * in the foreground; while a detaching daemon starts, its errors and
 * warnings, for whoever started it; none once it has detached. Atomic:
 * the audit writer's thread may log while start-up finishes.
 */
static atomic_int stderr_upto = -1;

/* tp_log_text - one finished line (len bytes, NUL-terminated) to the log */

void
tp_log_text(int pri, const char *line, size_t len)
{
	if (tp_config.use_syslog)
		syslog(pri, "%s", line);
	if (pri <= atomic_load_explicit(&stderr_upto, memory_order_relaxed)) {
		char	small[TP_LOG_LINE_MAX + 1];
		char   *copy = len < sizeof(small) ? small : malloc(len + 1);

		/* One write per line, so that the lines of threads never mix. */
		if (copy != NULL) {
			memcpy(copy, line, len);
			copy[len] = '\n';
			(void)!write(STDERR_FILENO, copy, len + 1);
			if (copy != small)
				free(copy);
		}
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

/* stderr_is_journal - whether systemd's journal reads our stderr */

static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	/* systemd sets "DEV:INODE" of the stream it connected us to. */
	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return (0);
	return ((unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino);
}

/* audit_warning - the audit writer's rate-limited warnings */

static void
audit_warning(const char *msg)
{
	tp_log(LOG_WARNING, "%s", msg);
}

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
"  -p, --socket SPEC     milter socket: inet:PORT@HOST, inet6:PORT@HOST or\n"
"                        unix:/PATH [socket] (default %s)\n"
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
"  implicit_tls = LIST   listener names ({daemon_name}) or ports that take TLS\n"
"                        from connect (e.g. smtps, 465), for MTAs that do not\n"
"                        tell (Sendmail)\n"
"  socket_group = GROUP  group of a unix socket, e.g. the MTA's (mode 0660)\n"
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
"\n"
"Signals: SIGUSR1 reloads the policy (a bad file keeps the old policy);\n"
"SIGUSR2 reopens the audit log (log rotation) and writes the status file;\n"
"SIGTERM, SIGHUP and SIGINT stop gracefully.\n"
"Exit status: 0 normal stop or -n success; 64 usage; 78 bad configuration\n"
"or policy; 71 cannot start (socket, user, fork).\n",
		DEFAULT_CONFIG, DEFAULT_SOCKET, DEFAULT_POLICY, DEFAULT_PIDFILE,
		DEFAULT_AUDIT, DEFAULT_STATS);
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
	return ((tp_config.socket = strdup(DEFAULT_SOCKET)) == NULL
		|| (tp_config.policy = strdup(DEFAULT_POLICY)) == NULL
		|| (tp_config.header_name = strdup("X-TLS-Policy")) == NULL
		|| (tp_config.syslog_facility = strdup("mail")) == NULL
		|| (tp_config.hostname = strdup(host)) == NULL
		|| (tp_config.audit_log = strdup(DEFAULT_AUDIT)) == NULL
		|| (tp_config.stats_file = strdup(DEFAULT_STATS)) == NULL ? -1 : 0);
}

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

/* load_config - defaults, the config file, then the flags; exit on error */

static void
load_config(int argc, char **argv, int *check_only)
{
	const char *file = DEFAULT_CONFIG;
	int	explicit = 0;
	struct tp_errors errs;
	const char *why;
	int	c;

	if (set_defaults() < 0) {
		fprintf(stderr, "tlspolicy-milter: out of memory\n");
		exit(EXIT_OS);
	}
	/* First pass: only -c, -h, -V, -n, so that flags override the file. */
	while ((c = getopt_long(argc, argv, "c:p:f:u:P:a:FnVh", options, NULL)) != -1) {
		if (c == 'c')
			file = optarg, explicit = 1;
		else if (c == 'h')
			usage(stdout), exit(0);
		else if (c == 'V')
			printf("tlspolicy-milter %s\n", PACKAGE_VERSION), exit(0);
		else if (c == 'n')
			*check_only = 1;
		else if (c == '?') {
			fprintf(stderr, "Try 'tlspolicy-milter --help'.\n");
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tlspolicy-milter: unexpected argument \"%s\"\n", argv[optind]);
		exit(EXIT_USAGE);
	}
	tp_errors_init(&errs);
	if ((explicit || access(file, F_OK) == 0)
	    && tp_conf_load(file, config_keys, &tp_config, &errs) < 0) {
		for (size_t i = 0; i < errs.kept; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		exit(EXIT_CONFIG);
	}
	tp_errors_free(&errs);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:p:f:u:P:a:FnVh", options, NULL)) != -1) {
		const char *key = config_key_of(c);

		if (key && tp_conf_set(config_keys, &tp_config, key,
				       optarg ? optarg : "yes", &why) < 0) {
			fprintf(stderr, "tlspolicy-milter: -%c: %s\n", c, why);
			exit(EXIT_USAGE);
		}
	}
	if (tp_config.header_name[0] == 0 || strpbrk(tp_config.header_name, ": \t\r\n") != NULL) {
		fprintf(stderr, "tlspolicy-milter: header_name \"%s\" is not a header field name\n",
			tp_config.header_name);
		exit(EXIT_CONFIG);
	}
}

/* facility_of - syslog facility by name, or -1 */

static int
facility_of(const char *name)
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

/* set_nodelay - TCP_NODELAY on libmilter's listening socket */

static void
set_nodelay(void)
{
	int	maxfd = (int)sysconf(_SC_OPEN_MAX);

	/*
	 * A reply that follows a header change is a second small write;
	 * with Nagle it waits for the MTA's delayed ACK (~40 ms a message).
	 * libmilter does not expose its socket: find it; accepted sockets
	 * inherit the option.
	 */
	for (int fd = 0; fd < maxfd && fd < 4096; fd++) {
		int	listening = 0, domain = 0, one = 1;
		socklen_t len = sizeof(int);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
			continue;
		len = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0
		    && (domain == AF_INET || domain == AF_INET6))
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

/* unix_socket_path - the path of a unix: or local: socket spec, or NULL */

static const char *
unix_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return (spec + 5);
	if (strncmp(spec, "local:", 6) == 0)
		return (spec + 6);
	if (spec[0] == '/')
		return (spec);
	return (NULL);
}

/*
 * claim_unix_path - remove a stale unix socket, but never a live one:
 * libmilter would unlink any socket, and the daemon listening on it would
 * run on, unreachable, while the MTA found only a dead socket once we
 * stopped. Only a socket that refuses connections is stale. The caller
 * holds lock_unix_path(), so that a daemon starting at the same moment
 * cannot find our new socket before it listens and take it for stale.
 */

static int
claim_unix_path(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int	fd, rc, err;

	if (lstat(path, &st) != 0 || strlen(path) >= sizeof(sun.sun_path))
		return (0);
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "tlspolicy-milter: %s: not a socket; not replacing it\n",
			tp_config.socket);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "tlspolicy-milter: socket: %s\n", strerror(errno));
		return (-1);
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	err = errno;
	close(fd);
	if (rc == 0) {
		fprintf(stderr, "tlspolicy-milter: %s: another process is listening on this socket "
			"(another tlspolicy-milter?); not taking it over\n", tp_config.socket);
		return (-1);
	}
	if (err != ECONNREFUSED && err != ENOENT) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot tell whether another process listens "
			"on this socket: %s; not taking it over\n", tp_config.socket, strerror(err));
		return (-1);
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		fprintf(stderr, "tlspolicy-milter: cannot remove stale socket %s: %s\n",
			path, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * lock_unix_path - a lock on PATH.lock, held from claim_unix_path() until
 * the socket listens, for two daemons that start at once; its descriptor,
 * or -1 with the error said.
 */

static int
lock_unix_path(const char *path)
{
	char	lock[PATH_MAX];
	int	fd;

	if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)) {
		fprintf(stderr, "tlspolicy-milter: %s: name too long\n", path);
		return (-1);
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) != 0) {
		fprintf(stderr, "tlspolicy-milter: cannot lock %s: %s\n", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * inet_bind_errno - why an inet: or inet6: spec cannot be bound, or 0.
 * libmilter tells only syslog; bind once more, as it does, to say why.
 */

static int
inet_bind_errno(const char *spec)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	char	port[256];
	char   *host;
	int	fd, one = 1, err = 0;

	if (strncmp(spec, "inet:", 5) == 0)
		hints.ai_family = AF_INET, spec += 5;
	else if (strncmp(spec, "inet6:", 6) == 0)
		hints.ai_family = AF_INET6, spec += 6;
	else
		return (0);
	if (snprintf(port, sizeof(port), "%s", spec) >= (int)sizeof(port))
		return (0);
	/* PORT@HOST, HOST maybe [ADDRESS]; without it, every address. */
	if ((host = strchr(port, '@')) != NULL) {
		*host++ = 0;
		if (*host == '[')
			host++, host[strcspn(host, "]")] = 0;
	}
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return (0);
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0)
			err = errno;
		close(fd);
	}
	freeaddrinfo(res);
	return (err);
}

/* open_socket - bind the milter socket as configured */

static int
open_socket(const struct passwd *pw)
{
	const char *path = unix_socket_path(tp_config.socket);
	mode_t	old;
	int	rc, err;
	int	lock = -1;

	if (path != NULL && (lock = lock_unix_path(path)) < 0)
		return (-1);
	if (path != NULL && claim_unix_path(path) < 0) {
		close(lock);
		return (-1);
	}
	old = umask(0117);			/* unix socket: 0660 */
	rc = smfi_opensocket(false);
	umask(old);
	/* It listens now: a rival's connect succeeds, and it backs off. */
	if (lock >= 0)
		close(lock);
	if (rc != MI_SUCCESS) {
		if ((err = inet_bind_errno(tp_config.socket)) != 0)
			fprintf(stderr, "tlspolicy-milter: cannot open socket %s: %s%s\n", tp_config.socket,
				strerror(err), err == EADDRINUSE ? " (another tlspolicy-milter?)" : "");
		else
			fprintf(stderr, "tlspolicy-milter: cannot open socket %s\n", tp_config.socket);
		return (-1);
	}
	set_nodelay();
	tp_config.reply_at_data = unix_socket_path(tp_config.socket) == NULL;
	if (path != NULL) {
		gid_t	gid = pw ? pw->pw_gid : (gid_t)-1;

		if (tp_config.socket_group != NULL) {
			struct group *gr = getgrnam(tp_config.socket_group);

			if (gr == NULL) {
				fprintf(stderr, "tlspolicy-milter: unknown socket_group %s\n", tp_config.socket_group);
				return (-1);
			}
			gid = gr->gr_gid;
		}
		if (chown(path, pw ? pw->pw_uid : (uid_t)-1, gid) != 0) {
			fprintf(stderr, "tlspolicy-milter: chown %s: %s\n", path, strerror(errno));
			return (-1);
		}
	}
	return (0);
}

/* drop_privileges - become the configured user for good */

static int
drop_privileges(const struct passwd *pw)
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
 * std_fds_open - make sure descriptors 0-2 are open. Started without them,
 * the milter socket or the start-up pipe would be one, and the daemon's
 * own redirection of 0-2 to /dev/null would close it.
 */

static void
std_fds_open(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		 /* void */ ;
	if (fd > 2)
		close(fd);
}

/*
 * daemonize - detach from the terminal. The parent waits until the child
 * calls startup_done(), or exits with the child's status if it never does:
 * whoever started us must not see success from a daemon that failed to
 * write its pid file or to drop privileges. Until then the child keeps
 * our standard error for its errors. Returns the descriptor for
 * startup_done(), or -1.
 */

static int
daemonize(void)
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
			_exit(EXIT_OS);
		if (WIFEXITED(status))
			_exit(WEXITSTATUS(status));
		fprintf(stderr, "tlspolicy-milter: died during start-up (signal %d)\n", WTERMSIG(status));
		_exit(EXIT_OS);
	}
	close(ready[0]);
	if (setsid() < 0 || chdir("/") != 0) {
		tp_log(LOG_ERR, "cannot detach: %s", strerror(errno));
		return (-1);
	}
	return (ready[1]);
}

/* startup_done - let the parent of daemonize() go, and its terminal too */

static void
startup_done(int ready)
{
	int	fd;

	if (ready < 0)
		return;
	atomic_store(&stderr_upto, -1);
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
 * write_pidfile - the process id, never through a symlink, and locked for
 * as long as we run, so that a second daemon with the same pid file
 * refuses to start instead of overwriting it. The descriptor stays open.
 */

static int
write_pidfile(const char *path)
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

/* already_running - does a live daemon hold this pid file's lock? */

static bool
already_running(const char *path)
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

/*
 * block_signals - block our signals everywhere, before any thread starts:
 * SIGUSR1/2 are for our signal thread, SIGHUP/SIGTERM/SIGINT for
 * libmilter's, which blocks them only in the threads it starts itself.
 * A thread of ours that left SIGTERM open would die of it, and the
 * process with it, instead of stopping gracefully.
 */

static void
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
main(int argc, char **argv)
{
	struct passwd *pw = NULL;
	int	check_only = 0;
	int	facility;
	const char *pidfile;
	int	ready = -1;
	int	rc;

	std_fds_open();
	load_config(argc, argv, &check_only);
	if ((facility = facility_of(tp_config.syslog_facility)) < 0) {
		fprintf(stderr, "tlspolicy-milter: unknown syslog_facility %s\n", tp_config.syslog_facility);
		return (EXIT_CONFIG);
	}
	if (!tp_config.use_syslog && !tp_config.foreground && !check_only) {
		fprintf(stderr, "tlspolicy-milter: syslog = no needs foreground = yes (-F): "
			"a daemon that detaches has no standard error to log to\n");
		return (EXIT_CONFIG);
	}
	/* Under systemd the journal gets syslog already: not every line twice. */
	if (!tp_config.use_syslog || !stderr_is_journal())
		atomic_store(&stderr_upto, tp_config.foreground || check_only ? LOG_DEBUG : LOG_WARNING);
	if (tp_config.use_syslog)
		openlog("tlspolicy-milter", LOG_PID | LOG_NDELAY, facility);
	block_signals();
	if (tp_policy_start(tp_config.policy) < 0)
		return (EXIT_CONFIG);
	if (tp_config.user && (pw = getpwnam(tp_config.user)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: unknown user %s\n", tp_config.user);
		return (EXIT_CONFIG);
	}
	if (check_only) {
		printf("tlspolicy-milter: configuration and policy OK\n");
		return (0);
	}
	if ((pw ? pw->pw_uid : geteuid()) == 0 && !tp_config.allow_root) {
		fprintf(stderr, "tlspolicy-milter: refusing to run as root once the socket is "
			"open: give -u USER (user = USER), or allow_root = yes\n");
		return (EXIT_CONFIG);
	}

	if (smfi_setconn(tp_config.socket) != MI_SUCCESS
	    || smfi_settimeout((int)tp_config.timeout) != MI_SUCCESS
	    || smfi_register(tp_milter_desc) != MI_SUCCESS) {
		fprintf(stderr, "tlspolicy-milter: libmilter refused the configuration (socket %s)\n",
			tp_config.socket);
		return (EXIT_CONFIG);
	}
	pidfile = tp_config.pidfile ? tp_config.pidfile : tp_config.foreground ? NULL : DEFAULT_PIDFILE;
	/* Before binding, for the message; open_socket() checks the socket. */
	if (pidfile && already_running(pidfile))
		return (EXIT_OS);
	if (open_socket(pw) < 0)
		return (EXIT_OS);
	if (!tp_config.foreground && (ready = daemonize()) < 0)
		return (EXIT_OS);
	if (pidfile && write_pidfile(pidfile) < 0)
		return (EXIT_OS);
	if (drop_privileges(pw) < 0)
		return (EXIT_OS);

	/* Opened as the user we run as, like every file written from now on. */
	if (strcmp(tp_config.audit_log, "none") != 0 && *tp_config.audit_log
	    && (tp_audit_log = tp_audit_open(tp_config.audit_log,
				 (size_t)tp_config.audit_queue_kb * 1024, audit_warning)) == NULL) {
		tp_log(LOG_ERR, "cannot start the audit log writer");
		return (EXIT_OS);
	}
	tp_stats.started = time(NULL);
	if (tp_signal_thread_start() < 0) {
		tp_log(LOG_ERR, "cannot start the signal thread");
		return (EXIT_OS);
	}
	startup_done(ready);
	tp_log(LOG_INFO, "tlspolicy-milter %s listening on %s%s", PACKAGE_VERSION,
	       tp_config.socket, tp_config.dry_run ? " (dry run: nothing is refused)" : "");
	rc = smfi_main();
	tp_log(LOG_INFO, "stopping");
	tp_stats_report();
	tp_audit_close(tp_audit_log);
	if (pidfile)
		unlink(pidfile);
	tp_policy_stop();
	tp_conf_free(config_keys, &tp_config);
	return (rc == MI_SUCCESS ? 0 : EXIT_OS);
}
