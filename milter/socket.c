/*
 * NAME
 *	socket 3
 * SUMMARY
 *	the milter socket: claim, bind, own
 * DESCRIPTION
 *	See tp_socket.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "milter/tp_socket.h"

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

/* tp_socket_unix_path - the path of a unix: or local: socket spec, or NULL */

const char *
tp_socket_unix_path(const char *spec)
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
claim_unix_path(const char *spec, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int	fd, rc, err;

	if (lstat(path, &st) != 0 || strlen(path) >= sizeof(sun.sun_path))
		return (0);
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "tlspolicy-milter: %s: not a socket; not replacing it\n",
			spec);
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
			"(another tlspolicy-milter?); not taking it over\n", spec);
		return (-1);
	}
	if (err != ECONNREFUSED && err != ENOENT) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot tell whether another process listens "
			"on this socket: %s; not taking it over\n", spec, strerror(err));
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

/* socket_gid - the group of a unix socket: socket_group, else the user's */

static int
socket_gid(const char *group, const struct passwd *pw, gid_t *gid)
{
	struct group *gr;

	*gid = pw ? pw->pw_gid : (gid_t)-1;
	if (group == NULL)
		return (0);
	if ((gr = getgrnam(group)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: unknown socket_group %s\n", group);
		return (-1);
	}
	*gid = gr->gr_gid;
	return (0);
}

/* tp_socket_open - bind the milter socket as configured */

int
tp_socket_open(const char *spec, const struct passwd *pw, const char *group)
{
	const char *path = tp_socket_unix_path(spec);
	mode_t	old;
	gid_t	gid;
	int	rc, err;
	int	lock = -1;

	if (path != NULL && socket_gid(group, pw, &gid) < 0)
		return (-1);
	if (path != NULL && (lock = lock_unix_path(path)) < 0)
		return (-1);
	if (path != NULL && claim_unix_path(spec, path) < 0) {
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
		if ((err = inet_bind_errno(spec)) != 0)
			fprintf(stderr, "tlspolicy-milter: cannot open socket %s: %s%s\n", spec,
				strerror(err), err == EADDRINUSE ? " (another tlspolicy-milter?)" : "");
		else
			fprintf(stderr, "tlspolicy-milter: cannot open socket %s\n", spec);
		return (-1);
	}
	set_nodelay();
	if (path != NULL && chown(path, pw ? pw->pw_uid : (uid_t)-1, gid) != 0) {
		fprintf(stderr, "tlspolicy-milter: chown %s: %s\n", path, strerror(errno));
		return (-1);
	}
	return (0);
}
