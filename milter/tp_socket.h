#ifndef TP_MILTER_SOCKET_H
#define TP_MILTER_SOCKET_H

/*
 * NAME
 *	tp_socket 3h
 * SUMMARY
 *	the milter socket: claim, bind, own
 * SYNOPSIS
 *	#include "milter/tp_socket.h"
 *
 *	const char *tp_socket_unix_path(const char *spec);
 *	int	tp_socket_open(const char *spec, const struct passwd *pw,
 *			       const char *group);
 *	int	tp_socket_remove(void);
 * DESCRIPTION
 *	tp_socket_unix_path() gives the path of a "unix:PATH",
 *	"local:PATH" or "/PATH" socket spec (a pointer into spec), or NULL
 *	for inet: and inet6:.
 *
 *	tp_socket_open() binds the socket given to smfi_setconn() before
 *	(spec is the same string, for messages). A unix socket is never
 *	taken over from a running daemon: a socket that accepts a
 *	connection is live and refused; one that refuses is stale and
 *	replaced. PATH.lock serialises two daemons that start at once:
 *	it is opened never through a symlink, must be a plain file, and
 *	is removed as soon as the socket listens (while still locked),
 *	so it exists only during a start.
 *	The socket gets mode 0660, owner pw (NULL: unchanged) and group
 *	group (NULL: pw's group). Its directory, if missing, is made with
 *	mode 0750 and the same owner and group; an existing one is left
 *	as it is. An inet: or inet6: listening socket
 *	gets TCP_NODELAY, which the accepted ones inherit: a reply that
 *	follows a header change would otherwise wait for the MTA's
 *	delayed ACK.
 *
 *	tp_socket_remove() removes the unix socket at exit if the path
 *	is still the socket tp_socket_open() made (not one a later daemon
 *	put there); libmilter does so too, but only when not root.
 * DIAGNOSTICS
 *	tp_socket_open() returns 0, or -1 with the reason on stderr (the
 *	daemon has not detached yet; libmilter tells only syslog, so an
 *	inet: bind is tried once more to say why it failed).
 *	tp_socket_remove() returns 0 (also when there is nothing of ours
 *	to remove), or -1 with errno (e.g. the daemon's user may not
 *	write the socket's directory: a later start replaces the socket).
 * MEMORY
 *	Nothing to free; libmilter owns the socket.
 */

struct passwd;

extern const char *tp_socket_unix_path(const char *);
extern int tp_socket_open(const char *, const struct passwd *, const char *);
extern int tp_socket_remove(void);

#endif
