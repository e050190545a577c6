#ifndef TP_DNS_H
#define TP_DNS_H

/*
 * NAME
 *	tp_dns 3h
 * SUMMARY
 *	DNS lookups with DNSSEC validation (libunbound), for probe and import
 * SYNOPSIS
 *	#include "ctl/tp_dns.h"
 *
 *	struct tp_dns *tp_dns_new(const struct tp_dns_opts *opts,
 *				  char *why, size_t whylen);
 *	void	tp_dns_free(struct tp_dns *dns);
 *
 *	int	tp_dns_mx(struct tp_dns *dns, const char *domain,
 *			  struct tp_dns_result *res);
 *	int	tp_dns_addr(struct tp_dns *dns, const char *host, int family,
 *			    struct tp_dns_result *res);
 *	int	tp_dns_tlsa(struct tp_dns *dns, const char *host,
 *			    unsigned port, struct tp_dns_result *res);
 *	int	tp_dns_txt(struct tp_dns *dns, const char *name,
 *			   struct tp_dns_result *res);
 *	void	tp_dns_result_free(struct tp_dns_result *res);
 *
 *	const char *tp_dns_status_name(enum tp_dns_status status);
 * DESCRIPTION
 *	tp_dns_new() makes a validating resolver. opts->server
 *	("ADDR[@PORT]", IPv4 or IPv6, as --dns takes it) is the one
 *	server every query goes to, as a forwarder; NULL means the
 *	system's resolver (/etc/resolv.conf; unbound resolves from the
 *	root itself when that names none). opts->trust_anchor is a file
 *	of DS or DNSKEY records in zone-file form (--trust-anchor; it
 *	is only read); NULL means TP_DNS_ROOT_KEY, Debian's copy of the
 *	root key (dns-root-data). A missing or unreadable anchor is an
 *	error: an unvalidated answer is never passed off as validated.
 *	opts->timeout_ms bounds each lookup (0: TP_DNS_TIMEOUT_MS).
 *	On error it returns NULL with a sentence in why.
 *
 *	Each lookup fills *res (always, also on error) and returns 0,
 *	or -1 when the query could not be asked at all (a name that is
 *	not a domain name, out of memory: status TP_DNS_ERROR).
 *	res->status is what the answer is worth:
 *	TP_DNS_SECURE	DNSSEC-validated; count may be 0 (no such record,
 *			proven).
 *	TP_DNS_INSECURE	an answer that is not signed (or not below a
 *			trust anchor); count may be 0.
 *	TP_DNS_NXDOMAIN	the name does not exist; res->secure says whether
 *			that was proven by DNSSEC.
 *	TP_DNS_BOGUS	signed, but validation failed (res->why: the
 *			validator's reason). No records are returned.
 *	TP_DNS_ERROR	no answer: SERVFAIL, REFUSED, a network error
 *			(res->why).
 *	TP_DNS_TIMEOUT	no answer within the timeout.
 *	res->secure is 1 for a validated answer or denial, else 0.
 *	res->canonname is the name after CNAMEs (as asked if none).
 *
 *	tp_dns_mx() returns the MX records sorted by preference (then by
 *	name, so that the order is stable). A null MX (RFC 7505: one
 *	record "0 .") is one record with host "" and res->null_mx set.
 *	tp_dns_addr() asks A (family AF_INET) or AAAA (AF_INET6).
 *	tp_dns_tlsa() asks _PORT._tcp.HOST, as DANE does (RFC 7672).
 *	tp_dns_txt() returns each TXT record with its strings joined, as
 *	MTA-STS and TLSRPT read them; text may hold any byte, NUL too,
 *	so len is what counts (text is NUL-terminated for convenience).
 *	Host names in records are in text form, lower case, without the
 *	trailing dot; a label byte outside letters, digits, '-' and '_'
 *	is written as \DDD, so a name read from the network never
 *	carries a control character, a space or a dot of its own.
 * MEMORY
 *	tp_dns_result_free() frees what a lookup put in *res (not res
 *	itself) and may be called on a result of a failed lookup; each
 *	lookup overwrites *res, so free it before reusing. A tp_dns is
 *	for one thread at a time.
 */

#include <stddef.h>
#include <stdint.h>

#define TP_DNS_ROOT_KEY		"/usr/share/dns/root.key"
#define TP_DNS_TIMEOUT_MS	10000
#define TP_DNS_NAME_MAX		1025	/* 255 octets as \DDD text + NUL */
#define TP_DNS_WHY_MAX		256
#define TP_DNS_RECORDS_MAX	256	/* more in one answer: ignored */

enum tp_dns_status {
	TP_DNS_SECURE,
	TP_DNS_INSECURE,
	TP_DNS_NXDOMAIN,
	TP_DNS_BOGUS,
	TP_DNS_ERROR,
	TP_DNS_TIMEOUT,
};

struct tp_dns_opts {
	const char *server;		/* "ADDR[@PORT]", NULL: the system's */
	const char *trust_anchor;	/* file, NULL: TP_DNS_ROOT_KEY */
	int	timeout_ms;		/* per lookup, 0: TP_DNS_TIMEOUT_MS */
};

struct tp_dns_mx {
	unsigned pref;			/* preference, lower first */
	char	host[TP_DNS_NAME_MAX];	/* "" for a null MX */
};

struct tp_dns_addr {
	int	family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* 4 or 16 bytes, network order */
	char	text[46];		/* inet_ntop form */
};

struct tp_dns_tlsa {
	uint8_t	usage;			/* 0 PKIX-TA .. 3 DANE-EE */
	uint8_t	selector;		/* 0 certificate, 1 public key */
	uint8_t	mtype;			/* 0 full, 1 SHA-256, 2 SHA-512 */
	unsigned char *data;		/* association data */
	size_t	len;
};

struct tp_dns_txt {
	char   *text;			/* strings joined, NUL-terminated */
	size_t	len;			/* bytes in text, NUL excluded */
};

struct tp_dns_result {
	enum tp_dns_status status;
	int	secure;			/* validated answer or denial */
	int	rcode;			/* DNS rcode of the answer */
	int	null_mx;		/* tp_dns_mx: "0 ." */
	char	canonname[TP_DNS_NAME_MAX];
	char	why[TP_DNS_WHY_MAX];	/* BOGUS, ERROR, TIMEOUT: why */
	size_t	count;			/* records in the one array below */
	struct tp_dns_mx *mx;		/* tp_dns_mx() */
	struct tp_dns_addr *addr;	/* tp_dns_addr() */
	struct tp_dns_tlsa *tlsa;	/* tp_dns_tlsa() */
	struct tp_dns_txt *txt;		/* tp_dns_txt() */
};

struct tp_dns;

extern struct tp_dns *tp_dns_new(const struct tp_dns_opts *, char *, size_t);
extern void tp_dns_free(struct tp_dns *);
extern int tp_dns_mx(struct tp_dns *, const char *, struct tp_dns_result *);
extern int tp_dns_addr(struct tp_dns *, const char *, int,
		       struct tp_dns_result *);
extern int tp_dns_tlsa(struct tp_dns *, const char *, unsigned,
		       struct tp_dns_result *);
extern int tp_dns_txt(struct tp_dns *, const char *, struct tp_dns_result *);
extern void tp_dns_result_free(struct tp_dns_result *);
extern const char *tp_dns_status_name(enum tp_dns_status);

#endif
