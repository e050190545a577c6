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
 *	ssize_t	tp_local_fold(const char *in, size_t len, char *out);
 *	int	tp_address_parse(const char *in, struct tp_address *addr);
 *	size_t	tp_address_external(const char *internal, char *out,
 *				    size_t size);
 *	int	tp_address_readings(const char *in, const char *delimiters,
 *				    struct tp_readings *r);
 * DESCRIPTION
 *	Policy selectors and the MTA's envelope addresses are compared in
 *	one canonical form. Domains: lower case, no trailing dot, and a
 *	name with UTF-8 in its A-label form (UTS #46 nontransitional, as
 *	Postfix's SMTPUTF8 support maps names), so that a U-label and its
 *	A-label are one name. Local parts: ASCII lower case; with UTF-8,
 *	full case folding and NFC (JÜRGEN, jürgen).
 *
 *	tp_domain_normalize() writes the canonical form of the len bytes
 *	at in to out (at least TP_DOMAIN_MAX + 1 bytes) and returns its
 *	length, or -1 with a static reason in *why: empty label, label
 *	over 63 bytes, name over 253 bytes, a character that no host
 *	name has, not a valid IDN.
 *
 *	tp_local_fold() writes the canonical form of a local part to out
 *	(TP_LOCAL_MAX + 1 bytes) and returns its length, or -1 if it is
 *	longer than TP_LOCAL_MAX or not valid UTF-8.
 *
 *	tp_address_readings() takes an address as the MTA passes it to a
 *	milter, as the client wrote it ("<user@example.org>",
 *	"user@example.org", "<>", with or without a source route, RFC 822
 *	comments, white space or a quoted local part, all of which the
 *	MTAs accept) and fills r with every mailbox the MTA may deliver
 *	it to. The engine does not know which domains are the MTA's own:
 *	for "a@b@c" the MTA routes to c, or, if c is its own, strips it and
 *	routes a@b. So each is a reading (c with local part "a@b", then b
 *	with "a"), and the same for "b!a@c" and "a%b@c" (Postfix's
 *	swap_bangpath and allow_percent_hack, on by default) and for a
 *	quoted local part, whose quotes the MTA drops before it routes it
 *	anew. The first reading splits at the last '@'. Each reading has
 *	its user name too, the local part before the first of the
 *	delimiters (Postfix's recipient_delimiter; "" for none) where it
 *	has one and something precedes it, else "". A reading without
 *	a domain, or whose domain is a literal or not a valid name, has
 *	domain "". The null address yields r->null and no reading.
 *
 *	It returns -1 for what is not plainly one mailbox (an unbalanced
 *	quote, comment or bracket, a '[' or ']' anywhere but around a
 *	whole domain literal, text after the closing bracket, a list or
 *	group, a source route without its colon), out of which an MTA may
 *	still read some mailbox, for more than TP_READINGS_MAX readings, and
 *	for input longer than TP_ADDRESS_MAX, more than any SMTP command
 *	line, and when memory runs out (an address not written plainly is
 *	cleaned in a copy on the heap: the milter's threads keep their
 *	stacks small): the caller must not take that for "no rule".
 *
 *	tp_address_parse() is the first reading alone, for logs and
 *	replies: has_domain false if it has no domain; -1 as above.
 *
 *	tp_address_external() writes, as a client would, an address an MTA
 *	passes as a macro ({mail_addr}: Postfix's is quoted where needed,
 *	"" for the null sender; an internal, unquoted form is taken too): in
 *	angle brackets, the local part (all before the last '@') as it is
 *	if it is a dot-atom or one quoted-string, else quoted with each
 *	quote and backslash escaped; "" and "<>" give "<>". It returns the
 *	length, or 0 if out (size bytes) is too small.
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
	char	local[TP_LOCAL_MAX + 1];	/* canonical; "" if too long */
	char	domain[TP_DOMAIN_MAX + 1];	/* canonical form */
};

/* One mailbox an address may be delivered to. */
struct tp_mailbox {
	char	local[TP_LOCAL_MAX + 1];	/* canonical; "" if too long */
	char	user[TP_LOCAL_MAX + 1];		/* without extension; "" if none */
	char	domain[TP_DOMAIN_MAX + 1];	/* canonical; "" if none */
};

#define TP_READINGS_MAX	8		/* more: the address is refused */

struct tp_readings {
	const char *delimiters;		/* of extensions */
	bool	null;			/* <> */
	bool	bad_domain;		/* a domain neither a name nor a literal */
	size_t	n;			/* readings in box[] */
	struct tp_mailbox box[TP_READINGS_MAX];
};

extern bool tp_utf8_valid(const char *, size_t);
extern ssize_t tp_domain_normalize(const char *, size_t, char *, const char **);
extern ssize_t tp_local_fold(const char *, size_t, char *);
extern int tp_address_parse(const char *, struct tp_address *);
extern size_t tp_address_external(const char *, char *, size_t);
extern int tp_address_readings(const char *, const char *,
			       struct tp_readings *);

#endif
