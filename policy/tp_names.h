#ifndef TP_NAMES_H
#define TP_NAMES_H

/*
 * NAME
 *	tp_names 3h
 * SUMMARY
 *	domain names and envelope addresses
 * SYNOPSIS
 *	#include "policy/tp_names.h"
 *
 *	bool	tp_utf8_valid(const char *text, size_t len);
 *	ssize_t	tp_domain_normalize(const char *in, size_t len,
 *				    char *out, const char **why);
 *	int	tp_address_parse(const char *in, struct tp_address *addr);
 * DESCRIPTION
 *	Policy selectors and the MTA's envelope addresses are compared in
 *	one canonical form: ASCII lower case, no trailing dot. Non-ASCII
 *	names are compared as written (valid UTF-8, no IDN conversion).
 *
 *	tp_domain_normalize() writes the canonical form of the len bytes
 *	at in to out (at least TP_DOMAIN_MAX + 1 bytes) and returns its
 *	length, or -1 with a static reason in *why: empty label, label
 *	over 63 bytes, name over 253 bytes, a character that no host
 *	name has.
 *
 *	tp_address_parse() takes an address as the MTA passes it to a
 *	milter, as the client wrote it ("<user@example.org>",
 *	"user@example.org", "<>", with or without a source route, RFC 822
 *	comments, white space or a quoted local part, all of which the
 *	MTAs accept) and fills addr with the mailbox the MTA delivers to.
 *	The null sender yields addr->null; an address without a domain,
 *	or whose domain is a literal or not a valid name, yields
 *	has_domain false. It returns -1 for what is not plainly one
 *	mailbox (an unbalanced quote, comment or bracket, text after the
 *	closing bracket, a list or group, a source route without its
 *	colon), out of which an MTA may still read some mailbox, and for
 *	input longer than TP_ADDRESS_MAX, more than any SMTP command line:
 *	the caller must not take that for "no rule".
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TP_DOMAIN_MAX	253		/* RFC 1035, without trailing dot */
#define TP_LABEL_MAX	63
#define TP_LOCAL_MAX	64		/* RFC 5321 4.5.3.1.1 */
#define TP_ADDRESS_MAX	4096		/* Postfix and Sendmail cut lines at 2048 */

struct tp_address {
	bool	null;			/* <> */
	bool	has_domain;		/* domain[] holds a valid name */
	char	local[TP_LOCAL_MAX + 1];	/* lower case; "" if too long */
	char	domain[TP_DOMAIN_MAX + 1];	/* canonical form */
};

extern bool tp_utf8_valid(const char *, size_t);
extern ssize_t tp_domain_normalize(const char *, size_t, char *, const char **);
extern int tp_address_parse(const char *, struct tp_address *);

#endif
