#ifndef TP_MACROS_H
#define TP_MACROS_H

/*
 * NAME
 *	tp_macros 3h
 * SUMMARY
 *	the TLS macros: which to ask the MTA for, and one TLS state from them
 * SYNOPSIS
 *	#include "policy/tp_macros.h"
 *
 *	void	tp_tls_macros_normalize(const struct tp_tls_macros *raw,
 *					struct tp_tls_names *names);
 *	void	tp_tls_state_from(const struct tp_tls_macros *raw,
 *				  const struct tp_tls_names *names,
 *				  enum tp_tls_how how,
 *				  struct tp_tls_state *tls);
 *	const char *tp_client_name_verified(const char *name,
 *					    const char *resolve);
 *
 *	const struct tp_tls_macro *const tp_tls_macro_table;
 *	void	tp_tls_macros_from(struct tp_tls_macros *raw,
 *				   char *const values[TP_TLS_MACROS]);
 *	size_t	tp_macro_list(enum tp_macro_stage stage, bool all_at_rcpt,
 *			      char *buf, size_t size);
 * DESCRIPTION
 *	The two MTAs describe the same TLS session differently:
 *
 *	Postfix sends {cert_subject} and {cert_issuer} as bare common
 *	names (not xtext; either may be empty), and only for a certificate
 *	it verified; it never sends {verify}, {cn_subject} or {cn_issuer}.
 *	Sendmail sends {verify} (OK, NO, FAIL, ...), full DNs in xtext
 *	in {cert_subject}/{cert_issuer} (also for unverified certificates,
 *	and "" for none) and the common names in {cn_subject}/{cn_issuer}.
 *	Any of its own three macros marks a session as Sendmail's.
 *
 *	tp_tls_macros_normalize() takes Postfix's common names as they
 *	are and decodes Sendmail's (xtext); tp_tls_state_from() builds the
 *	engine's view: verified only when {verify} says OK, or, with no
 *	{verify} at all (Postfix), when a subject or issuer name is not
 *	empty. The raw values stay in raw, for the audit trail. The state
 *	points into raw and names: keep them.
 *
 *	tp_client_name_verified() returns the client host name that
 *	host name rules may match, or NULL: Postfix writes "unknown" for
 *	a name that did not verify; Sendmail's {client_name} may be an
 *	unverified PTR name unless {client_resolve} is OK, and is a
 *	bracketed address when there is no name at all.
 *
 *	The TLS macros are named in one place, tp_tls_macro_table: each
 *	entry is a macro name and the field of struct tp_tls_macros it
 *	fills; it has TP_TLS_MACROS entries, the number of those fields
 *	(macros.c does not compile with a table of another size). The
 *	first entry is {tls_version}, which alone tells whether there is
 *	TLS. A caller keeps the values in an array indexed like the table;
 *	tp_tls_macros_from() points each field of raw at its value (no
 *	copies).
 *
 *	tp_macro_list() writes the space-separated list of macros the
 *	milter asks the MTA for at one stage (libmilter's smfi_setsymlist):
 *	a list replaces the MTA's default, so every stage where TLS can
 *	first be seen (connect, HELO, MAIL, RCPT: a client may send MAIL
 *	with no EHLO after STARTTLS) asks for all the TLS macros. With
 *	all_at_rcpt (the milter negotiated away the connect, HELO and MAIL
 *	events), the RCPT list also holds what those stages would have
 *	given: the client and listener macros, the HELO name (s), the
 *	sender ({mail_addr}), the queue id and authentication. It returns
 *	the length, or 0 if size is too small (TP_MACRO_LIST_MAX is
 *	enough).
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/tp_tls.h"

#define TP_CERT_NAME_MAX	256

/* The macros as the MTA sent them; NULL or "" when absent. */
struct tp_tls_macros {
	const char *version;		/* {tls_version} */
	const char *cipher;		/* {cipher} */
	const char *bits;		/* {cipher_bits} */
	const char *verify;		/* {verify}: Sendmail only */
	const char *cert_subject;	/* {cert_subject} */
	const char *cert_issuer;	/* {cert_issuer} */
	const char *cn_subject;		/* {cn_subject}: Sendmail only */
	const char *cn_issuer;		/* {cn_issuer}: Sendmail only */
};

/* Every field above is one macro of tp_tls_macro_table. */
#define TP_TLS_MACROS	(sizeof(struct tp_tls_macros) / sizeof(const char *))

/* One TLS macro: its name, and the field of struct tp_tls_macros it fills. */
struct tp_tls_macro {
	const char *name;		/* e.g. "{tls_version}" */
	size_t	field;			/* offsetof(struct tp_tls_macros, ...) */
};

extern const struct tp_tls_macro *const tp_tls_macro_table;	/* [TP_TLS_MACROS] */

/* The stages at which the milter asks the MTA for macros. */
enum tp_macro_stage {
	TP_STAGE_CONNECT,
	TP_STAGE_HELO,
	TP_STAGE_MAIL,
	TP_STAGE_RCPT,
	TP_STAGE_EOM,
};

#define TP_MACRO_STAGES		(TP_STAGE_EOM + 1)
#define TP_MACRO_LIST_MAX	512	/* bytes of one stage's list */

/* Decoded common names. */
struct tp_tls_names {
	char	subject[TP_CERT_NAME_MAX];
	char	issuer[TP_CERT_NAME_MAX];
};

extern void tp_tls_macros_normalize(const struct tp_tls_macros *,
				    struct tp_tls_names *);
extern void tp_tls_state_from(const struct tp_tls_macros *,
			      const struct tp_tls_names *, enum tp_tls_how,
			      struct tp_tls_state *);
extern const char *tp_client_name_verified(const char *, const char *);
extern void tp_tls_macros_from(struct tp_tls_macros *,
			       char *const[TP_TLS_MACROS]);
extern size_t tp_macro_list(enum tp_macro_stage, bool, char *, size_t);

#endif
