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

/* Where the unix socket is, and which file it is, for tp_socket_remove(). */
static char socket_path[PATH_MAX];
static dev_t socket_dev;
static ino_t socket_ino;

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
 * open_lock_file - PATH.lock, opened as root, so never through a symlink
 * (O_NOFOLLOW) and only a plain file of ours: a link planted there would
 * make root create or lock a file elsewhere. O_NONBLOCK: a FIFO there
 * must not hang the start. Its descriptor, or -1 with the error said.
 */

static int
open_lock_file(const char *lock)
{
	struct stat st;
	int	fd;

	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0) {
		fprintf(stderr, "tlspolicy-milter: cannot open lock file %s: %s\n", lock,
			errno == ELOOP ? "it is a symbolic link; refusing to follow it" : strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		fprintf(stderr, "tlspolicy-milter: lock file %s is not a plain file "
			"(a directory, device, FIFO or hard link); refusing it\n", lock);
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * lock_unix_path - a lock on PATH.lock, held from claim_unix_path() until
 * the socket listens, for two daemons that start at once; its descriptor,
 * or -1 with the error said. The holder removes the file before it lets
 * go (unlock_unix_path), so none is left behind; a rival that opened the
 * file before that finds, once it holds the lock, that the name no longer
 * leads to its file, and starts over with a new one.
 */

static int
lock_unix_path(const char *lock)
{
	struct stat held, named;
	int	fd;

	for (int tries = 0; tries < 100; tries++) {
		if ((fd = open_lock_file(lock)) < 0)
			return (-1);
		if (flock(fd, LOCK_EX) != 0 || fstat(fd, &held) != 0) {
			fprintf(stderr, "tlspolicy-milter: cannot lock %s: %s\n", lock, strerror(errno));
			close(fd);
			return (-1);
		}
		if (lstat(lock, &named) == 0 && named.st_dev == held.st_dev
		    && named.st_ino == held.st_ino)
			return (fd);
		close(fd);
	}
	fprintf(stderr, "tlspolicy-milter: cannot lock %s: it keeps being replaced\n", lock);
	return (-1);
}

/* unlock_unix_path - remove the lock file, then let go of the lock */

static void
unlock_unix_path(const char *lock, int fd)
{
	if (fd < 0)
		return;
	(void)unlink(lock);
	close(fd);
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

/* bind_socket - libmilter binds the socket given to smfi_setconn() */

static int
bind_socket(const char *spec)
{
	mode_t	old = umask(0117);		/* unix socket: 0660 */
	int	rc = smfi_opensocket(false);
	int	err;

	umask(old);
	if (rc == MI_SUCCESS)
		return (0);
	if ((err = inet_bind_errno(spec)) != 0)
		fprintf(stderr, "tlspolicy-milter: cannot open socket %s: %s%s\n", spec,
			strerror(err), err == EADDRINUSE ? " (another tlspolicy-milter?)" : "");
	else
		fprintf(stderr, "tlspolicy-milter: cannot open socket %s\n", spec);
	return (-1);
}

/* bind_unix - claim a unix socket's path under its lock, then bind */

static int
bind_unix(const char *spec, const char *path)
{
	char	lock[PATH_MAX];
	struct stat st;
	int	fd, rc = -1;

	if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)
	    || snprintf(socket_path, sizeof(socket_path), "%s", path) >= (int)sizeof(socket_path)) {
		fprintf(stderr, "tlspolicy-milter: %s: name too long\n", path);
		return (-1);
	}
	if ((fd = lock_unix_path(lock)) < 0)
		return (-1);
	if (claim_unix_path(spec, path) == 0)
		rc = bind_socket(spec);
	/* It listens now: a rival's connect succeeds, and it backs off. */
	unlock_unix_path(lock, fd);
	if (rc == 0 && lstat(path, &st) == 0)
		socket_dev = st.st_dev, socket_ino = st.st_ino;
	return (rc);
}

/*
 * socket_dir - the directory of a unix socket. A missing one is made
 * (its last component only), mode 0750, owned by the user the daemon
 * becomes (who can then remove the socket at exit) and by the socket's
 * group (the MTA's): only they reach the socket, and with it libmilter,
 * which a local user could crash (see README, "Known issues"). It is
 * made 0700 first, so that nobody gets in before it is set up. One that
 * exists is left as it is: never loosened.
 */

static int
socket_dir(const char *path, uid_t uid, gid_t gid)
{
	char	dir[PATH_MAX];
	char   *slash;
	int	fd = -1, rc = -1;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return (0);			/* bind_unix() says so */
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return (0);
	*slash = 0;
	if (mkdir(dir, 0700) != 0) {
		if (errno == EEXIST)
			return (0);
		fprintf(stderr, "tlspolicy-milter: cannot create socket directory %s: %s\n",
			dir, strerror(errno));
		return (-1);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
	    || fchown(fd, uid, gid) != 0 || fchmod(fd, 0750) != 0)
		fprintf(stderr, "tlspolicy-milter: cannot set up socket directory %s: %s\n",
			dir, strerror(errno));
	else
		rc = 0;
	if (fd >= 0)
		close(fd);
	return (rc);
}

/* tp_socket_open - bind the milter socket as configured */

int
tp_socket_open(const char *spec, const struct passwd *pw, const char *group)
{
	const char *path = tp_socket_unix_path(spec);
	uid_t	uid;
	gid_t	gid;

	if (path == NULL) {
		if (bind_socket(spec) < 0)
			return (-1);
		set_nodelay();
		return (0);
	}
	uid = pw ? pw->pw_uid : (uid_t)-1;
	if (socket_gid(group, pw, &gid) < 0 || socket_dir(path, uid, gid) < 0
	    || bind_unix(spec, path) < 0)
		return (-1);
	if (chown(path, uid, gid) != 0) {
		fprintf(stderr, "tlspolicy-milter: chown %s: %s\n", path, strerror(errno));
		return (-1);
	}
	return (0);
}

/* tp_socket_remove - remove our unix socket at exit, if still ours */

int
tp_socket_remove(void)
{
	struct stat st;

	if (socket_ino == 0 || lstat(socket_path, &st) != 0
	    || st.st_dev != socket_dev || st.st_ino != socket_ino)
		return (0);
	return (unlink(socket_path));
}
