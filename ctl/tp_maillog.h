#ifndef TP_MAILLOG_H
#define TP_MAILLOG_H

/*
 * NAME
 *	tp_maillog 3h
 * SUMMARY
 *	tlspolicyctl report --maillog: the sessions the milter never sees
 * SYNOPSIS
 *	#include "ctl/tp_maillog.h"
 *
 *	struct tp_maillog *tp_maillog_new(void);
 *	int	tp_maillog_read(struct tp_maillog *ml, const char *path,
 *				char *why, size_t whylen);
 *	void	tp_maillog_line(struct tp_maillog *ml, const char *line,
 *				size_t len);
 *	void	tp_maillog_finish(struct tp_maillog *ml);
 *	void	tp_maillog_free(struct tp_maillog *ml);
 *
 *	void	tp_maillog_totals(const struct tp_maillog *ml,
 *				  struct tp_maillog_totals *t);
 *	const struct tp_maillog_client *tp_maillog_find(
 *				  const struct tp_maillog *ml,
 *				  const char *addr);
 *	const struct tp_maillog_client **tp_maillog_sorted(
 *				  const struct tp_maillog *ml, size_t *n);
 *	const char *tp_maillog_code(enum tp_maillog_reason r);
 *	const char *tp_maillog_words(enum tp_maillog_reason r);
 *
 *	void	tp_maillog_print_text(const struct tp_maillog *ml,
 *				      const struct tp_report *rep, FILE *fp);
 *	void	tp_maillog_print_json(const struct tp_maillog *ml,
 *				      const struct tp_report *rep, FILE *fp);
 * DESCRIPTION
 *	Postfix refuses some sessions before any milter hears of them: a
 *	TLS handshake that fails, a client that hangs up after STARTTLS,
 *	MAIL without STARTTLS where smtpd_tls_security_level=encrypt.
 *	This module reads Postfix's own log (syslog lines with a
 *	traditional "Dec  5 09:01:01" or an RFC 3339 time, which is also
 *	what maillog_file writes), follows each smtpd process's session
 *	from "connect from" to "disconnect from", and counts the sessions
 *	that failed per client address, with a reason code:
 *
 *	tls-version-old	the handshake failed on the protocol version:
 *			the client offered only versions the server
 *			refuses ("unsupported protocol", "version too low")
 *	no-shared-cipher	no cipher (or signature algorithm, group)
 *			both ends accept
 *	implicit-tls-port	a client spoke plaintext where the server
 *			expected a TLS handshake at once (wrapper mode):
 *			"wrong version number", "http request", ...
 *	cert-untrusted	the client refused this server's certificate
 *			(alert unknown CA, bad or unknown certificate)
 *	cert-expired	the client says this server's certificate expired
 *	handshake-failed	any other handshake failure; detail holds the
 *			TLS library's words
 *	lost-after-starttls	the client hung up (or timed out) after
 *			STARTTLS, with no TLS error logged
 *	starttls-required	MAIL refused in a session that never started
 *			TLS, with no reject logged: Postfix's 530 "Must
 *			issue a STARTTLS command first", which it does not
 *			log itself, inferred from the disconnect line's
 *			command counts (mail=0/1, no starttls)
 *
 *	The codes are those of tlspolicyctl probe's verdicts where one
 *	fits (tls-version-old, implicit-tls-port, cert-untrusted,
 *	cert-expired, starttls-required); the others are this module's.
 *
 *	tp_maillog_read() reads a file, plain or gzip ("-": standard
 *	input), line by line; sessions stay open across files, so give
 *	rotated logs oldest first. tp_maillog_line() feeds one line (for
 *	tests and fuzzing). tp_maillog_finish() closes the sessions still
 *	open (their disconnect line was not read); call it once, after
 *	the last file.
 *
 *	tp_maillog_sorted() lists the clients, most failed sessions
 *	first, then most sessions, then by address (caller frees the
 *	array, not the clients). The print functions write the section of
 *	the report, each failing client beside what the audit log (rep,
 *	NULL for none) says of it: "12 messages, 12 over TLS (TLSv1.3
 *	12); 3 sessions failed: the client offered only TLS versions this
 *	server refuses (3)".
 * SECURITY
 *	Every line is hostile. Lines longer than TP_MAILLOG_LINE_MAX are
 *	skipped (counted); an address must be an IP address, a host name
 *	letters, digits, dots, hyphens and underscores, or the line is
 *	skipped; the TLS library's words are kept as printable ASCII, cut
 *	to TP_MAILLOG_DETAIL_MAX. At most TP_MAILLOG_SESSIONS_MAX sessions
 *	are followed at once (more: counted as untracked) and at most
 *	TP_MAILLOG_CLIENTS_MAX clients counted apart; the sessions of the
 *	others are added to totals.other_* .
 * DIAGNOSTICS
 *	tp_maillog_read() returns -1 with "FILE: why" in why when the file
 *	cannot be opened or read, or memory ran out; 0 otherwise.
 * MEMORY
 *	The log object owns every client and string it returns;
 *	tp_maillog_free() (NULL is fine) frees them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TP_MAILLOG_LINE_MAX	8192	/* syslog lines are <= 8 KiB */
#define TP_MAILLOG_DETAIL_MAX	120	/* bytes of the TLS library's words */
#define TP_MAILLOG_NAME_MAX	255	/* a host name */
#define TP_MAILLOG_ADDR_MAX	64	/* an IP address, as logged */
#define TP_MAILLOG_SESSIONS_MAX	8192	/* sessions followed at once */
#define TP_MAILLOG_CLIENTS_MAX	10000	/* clients counted apart */

enum tp_maillog_reason {
	TP_MAILLOG_TLS_VERSION_OLD,
	TP_MAILLOG_NO_SHARED_CIPHER,
	TP_MAILLOG_IMPLICIT_TLS_PORT,
	TP_MAILLOG_CERT_UNTRUSTED,
	TP_MAILLOG_CERT_EXPIRED,
	TP_MAILLOG_HANDSHAKE_FAILED,
	TP_MAILLOG_LOST_AFTER_STARTTLS,
	TP_MAILLOG_STARTTLS_REQUIRED,
	TP_MAILLOG_NREASONS,
};

/* What the log says of one client address. */
struct tp_maillog_client {
	const char *addr;		/* IP address, as logged */
	const char *name;		/* host name, or NULL: "unknown" */
	unsigned long sessions;		/* connect .. disconnect */
	unsigned long tls;		/* sessions with TLS established */
	unsigned long failed;		/* sessions that failed, all reasons */
	unsigned long reasons[TP_MAILLOG_NREASONS];
	const char *detail;		/* OpenSSL's words (handshake-failed) or NULL */
};

struct tp_maillog_totals {
	unsigned long lines;		/* lines read */
	unsigned long smtpd_lines;	/* of them, smtpd's */
	unsigned long skipped;		/* too long, or malformed smtpd lines */
	const char *first_skipped;	/* "FILE:LINE: why", or NULL */
	unsigned long sessions;
	unsigned long failed;
	unsigned long reasons[TP_MAILLOG_NREASONS];
	unsigned long untracked;	/* sessions beyond SESSIONS_MAX */
	size_t	clients;		/* counted apart */
	unsigned long other_sessions;	/* of clients beyond CLIENTS_MAX */
	unsigned long other_failed;
	size_t	nfiles;
	const char *const *files;
};

struct tp_maillog;
struct tp_report;

extern struct tp_maillog *tp_maillog_new(void);
extern int tp_maillog_read(struct tp_maillog *, const char *, char *, size_t);
extern void tp_maillog_line(struct tp_maillog *, const char *, size_t);
extern void tp_maillog_finish(struct tp_maillog *);
extern void tp_maillog_free(struct tp_maillog *);
extern void tp_maillog_totals(const struct tp_maillog *, struct tp_maillog_totals *);
extern const struct tp_maillog_client *tp_maillog_find(const struct tp_maillog *,
						       const char *);
extern const struct tp_maillog_client **tp_maillog_sorted(const struct tp_maillog *,
							  size_t *);
extern const char *tp_maillog_code(enum tp_maillog_reason);
extern const char *tp_maillog_words(enum tp_maillog_reason);
extern void tp_maillog_print_text(const struct tp_maillog *,
				  const struct tp_report *, FILE *);
extern void tp_maillog_print_json(const struct tp_maillog *,
				  const struct tp_report *, FILE *);

#endif
