#ifndef TP_MTA_STS_H
#define TP_MTA_STS_H

/*
 * NAME
 *	tp_mta_sts 3h
 * SUMMARY
 *	MTA-STS (RFC 8461): the TXT record, the policy body, MX patterns,
 *	and the HTTPS fetch
 * SYNOPSIS
 *	#include "ctl/tp_mta_sts.h"
 *
 *	int	tp_sts_txt_parse(const char *text, size_t len,
 *				 char id[TP_STS_ID_MAX + 1],
 *				 char *why, size_t whylen);
 *	int	tp_sts_txt_select(const struct tp_dns_result *txt,
 *				  char id[TP_STS_ID_MAX + 1],
 *				  char *why, size_t whylen);
 *
 *	struct tp_sts_policy *tp_sts_parse(const char *body, size_t len,
 *					   const char *source,
 *					   struct tp_errors *errs);
 *	void	tp_sts_policy_free(struct tp_sts_policy *p);
 *	const char *tp_sts_mode_name(enum tp_sts_mode mode);
 *
 *	int	tp_sts_pattern_match(const char *pattern, const char *host);
 *	int	tp_sts_mx_match(const struct tp_sts_policy *p,
 *				const char *host);
 *
 *	int	tp_sts_fetch(const char *domain,
 *			     const struct tp_sts_fetch_opts *opts,
 *			     char **body, size_t *len,
 *			     char *why, size_t whylen);
 *	int	tp_sts_resolve_entry(struct tp_dns *dns, const char *domain,
 *				     char *buf, size_t size);
 * DESCRIPTION
 *	tp_sts_txt_parse() reads one TXT record of _mta-sts.DOMAIN
 *	(RFC 8461 section 3.1, "v=STSv1; id=20260101;"): 1 and the id if
 *	it is a valid STSv1 record, 0 if it does not start with
 *	"v=STSv1" (another kind of record: ignored), -1 with why if it
 *	does but is malformed. tp_sts_txt_select() applies the RFC's rule
 *	to a whole TXT answer (the caller checks its status first): 1 if
 *	exactly one record is STSv1 and it is valid; 0 if none is (why:
 *	"no STSv1 record"); -1 if several are, or the one is malformed
 *	(why). In both 0 and -1 a sender must act as if there were no
 *	policy; -1 is worth telling the domain's admin.
 *
 *	tp_sts_parse() reads a policy body (section 3.2): "key: value"
 *	lines ending in LF or CRLF; version (STSv1), mode (enforce,
 *	testing, none) and max_age (0 to 31557600 seconds) exactly once;
 *	mx at least once unless the mode is none; other keys ignored if
 *	well-formed. Each mx pattern is a host name or "*." and a host
 *	name, stored lower case, A-labels. The body is hostile: at most
 *	TP_STS_BODY_MAX bytes and TP_STS_MX_MAX patterns, no NUL, no
 *	control character. On any error it returns NULL with every
 *	problem in errs as "SOURCE:LINE: what is wrong" (SOURCE as the
 *	caller names the body: a file, or the policy URL).
 *
 *	tp_sts_pattern_match() says whether host matches one mx pattern
 *	(section 4.1): equal ignoring case and a trailing dot, or for
 *	"*.example.net" exactly one more leftmost label (a.example.net,
 *	not example.net, not a.b.example.net). tp_sts_mx_match() is 1
 *	if host matches any of the policy's patterns, else 0.
 *
 *	tp_sts_fetch() fetches https://mta-sts.DOMAIN/.well-known/mta-sts.txt
 *	(TP_STS_URL_FMT, section 3.3) with libcurl: HTTPS only, the certificate verified
 *	against the system's CAs (plus opts->ca_file if given) and the
 *	name mta-sts.DOMAIN, no redirect followed, no proxy from the
 *	environment, HTTP 200 and Content-Type text/plain required, at
 *	most TP_STS_BODY_MAX bytes, within opts->timeout_ms (0:
 *	TP_STS_FETCH_TIMEOUT_MS) in all. opts->connect_to entries are
 *	curl's CURLOPT_CONNECT_TO ("HOST:PORT:CONNECT-HOST:CONNECT-PORT",
 *	tests and --connect-to) and opts->resolve entries CURLOPT_RESOLVE
 *	("HOST:PORT:ADDR", so the caller's resolver is the one used); the
 *	certificate is still checked against mta-sts.DOMAIN. It returns 0
 *	and a malloc'd, NUL-terminated body (len without the NUL), or -1
 *	and why: a sentence naming the URL and what failed.
 *	opts may be NULL. The first call initializes libcurl: call it
 *	first from one thread.
 *
 *	tp_sts_resolve_entry() writes "mta-sts.DOMAIN:443:ADDR,..." with
 *	the A and AAAA records dns finds (at most size bytes, e.g.
 *	TP_STS_RESOLVE_MAX), for opts->resolve, so that the resolver of
 *	--dns also finds the policy host: 1, or 0 when it has no address.
 * MEMORY
 *	tp_sts_policy_free() frees the policy (NULL is fine); the caller
 *	frees a fetched body with free() and owns errs.
 */

#include <stddef.h>

#include "ctl/tp_dns.h"
#include "util/tp_errors.h"

#define TP_STS_BODY_MAX		(64 * 1024)	/* bytes of a policy body */
#define TP_STS_MX_MAX		100		/* mx patterns in one policy */
#define TP_STS_MAX_AGE_MAX	31557600L	/* RFC 8461: about one year */
#define TP_STS_ID_MAX		32		/* RFC 8461: 1*32(ALPHA/DIGIT) */
#define TP_STS_FETCH_TIMEOUT_MS	10000
#define TP_STS_RESOLVE_MAX	2048		/* "HOST:443:a,b,[c],..." */
#define TP_STS_URL_FMT		"https://mta-sts.%s/.well-known/mta-sts.txt"

enum tp_sts_mode {
	TP_STS_MODE_NONE,
	TP_STS_MODE_TESTING,
	TP_STS_MODE_ENFORCE,
};

struct tp_sts_policy {
	enum tp_sts_mode mode;
	long	max_age;		/* seconds */
	size_t	nmx;
	char  **mx;			/* patterns, lower case, A-labels */
};

struct tp_sts_fetch_opts {
	const char *ca_file;		/* extra trusted CAs, or NULL */
	const char *const *connect_to;	/* CURLOPT_CONNECT_TO entries */
	size_t	nconnect_to;
	const char *const *resolve;	/* CURLOPT_RESOLVE entries */
	size_t	nresolve;
	int	timeout_ms;		/* whole fetch; 0: default */
};

extern int tp_sts_txt_parse(const char *, size_t, char *, char *, size_t);
extern int tp_sts_txt_select(const struct tp_dns_result *, char *, char *,
			     size_t);
extern struct tp_sts_policy *tp_sts_parse(const char *, size_t, const char *,
					  struct tp_errors *);
extern void tp_sts_policy_free(struct tp_sts_policy *);
extern const char *tp_sts_mode_name(enum tp_sts_mode);
extern int tp_sts_pattern_match(const char *, const char *);
extern int tp_sts_mx_match(const struct tp_sts_policy *, const char *);
extern int tp_sts_fetch(const char *, const struct tp_sts_fetch_opts *,
			char **, size_t *, char *, size_t);
extern int tp_sts_resolve_entry(struct tp_dns *, const char *, char *, size_t);

#endif
