#ifndef TP_MACROS_H
#define TP_MACROS_H

/*
 * NAME
 *	tp_macros 3h
 * SUMMARY
 *	one TLS state from Postfix's or Sendmail's milter macros
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
 */

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

#endif
