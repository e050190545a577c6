#ifndef TP_DANE_H
#define TP_DANE_H

/*
 * NAME
 *	tp_dane 3h
 * SUMMARY
 *	match a server's certificate chain against TLSA records (RFC 7672)
 * SYNOPSIS
 *	#include "ctl/tp_dane.h"
 *
 *	int	tp_dane_match(const struct tp_dns_tlsa *recs, size_t n,
 *			      STACK_OF(X509) *chain,
 *			      const char *const *names, size_t nnames,
 *			      struct tp_dane_result *res);
 *	const char *tp_dane_usage_name(unsigned usage);
 *	const char *tp_dane_selector_name(unsigned selector);
 *	const char *tp_dane_mtype_name(unsigned mtype);
 * DESCRIPTION
 *	tp_dane_match() asks OpenSSL's DANE verifier (SSL_dane_enable,
 *	SSL_dane_tlsa_add, X509_verify_cert) whether the chain a server
 *	sent (SSL_get_peer_cert_chain() on the client: leaf first) is
 *	authenticated by the n TLSA records, after the handshake, so the
 *	probe can report PKIX and DANE apart from one handshake. recs
 *	must be the records of a SECURE TLSA answer: the caller decides
 *	that an unvalidated answer is no DANE (RFC 7672 section 2.2).
 *
 *	names (at least one) are the reference identifiers a DANE-TA(2)
 *	match must also satisfy (RFC 7672 section 3.2.2: the TLSA base domain, i.e. the
 *	MX host after CNAMEs, first; then e.g. the MX name and the
 *	next-hop domain); DANE-EE(3) ignores names, as the RFC says.
 *	PKIX-TA(0) and PKIX-EE(1) records are not usable for SMTP (RFC
 *	7672 section 3.1.3) and are counted as unusable, as are records
 *	with a selector or matching type OpenSSL does not know.
 *
 *	It returns 1 when a record matched, 0 when none did (res->why
 *	says why: OpenSSL's verification error, or "no usable TLSA
 *	records"), -1 on an error that says nothing of the peer (out of
 *	memory, an empty chain; res->why). On a match res says which
 *	record: its index in recs, its usage, selector and matching
 *	type, and the depth in the chain of the certificate it matched
 *	(0 the server's own).
 * MEMORY
 *	Nothing is kept: recs, chain and names stay the caller's.
 */

#include <stddef.h>

#include <openssl/x509.h>

#include "ctl/tp_dns.h"

#define TP_DANE_WHY_MAX	256

struct tp_dane_result {
	size_t	usable;			/* records OpenSSL could use */
	size_t	index;			/* matched: index in recs */
	unsigned usage;			/* matched: its usage */
	unsigned selector;		/* matched: its selector */
	unsigned mtype;			/* matched: its matching type */
	int	depth;			/* matched: chain depth, 0 leaf */
	char	why[TP_DANE_WHY_MAX];	/* 0 or -1: why not */
};

extern int tp_dane_match(const struct tp_dns_tlsa *, size_t,
			 STACK_OF(X509) *, const char *const *, size_t,
			 struct tp_dane_result *);
extern const char *tp_dane_usage_name(unsigned);
extern const char *tp_dane_selector_name(unsigned);
extern const char *tp_dane_mtype_name(unsigned);

#endif
