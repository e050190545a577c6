#ifndef TP_TLSRPT_H
#define TP_TLSRPT_H

/*
 * NAME
 *	tp_tlsrpt 3h
 * SUMMARY
 *	tlspolicyctl report --tlsrpt: RFC 8460 TLS reports, read and summed
 * SYNOPSIS
 *	#include "ctl/tp_tlsrpt.h"
 *
 *	struct tp_tlsrpt *tp_tlsrpt_new(void);
 *	int	tp_tlsrpt_read_path(struct tp_tlsrpt *tr, const char *path,
 *				    FILE *errfp);
 *	int	tp_tlsrpt_read_file(struct tp_tlsrpt *tr, const char *path,
 *				    char *why, size_t whylen);
 *	int	tp_tlsrpt_read_buf(struct tp_tlsrpt *tr, const char *name,
 *				   const char *buf, size_t len,
 *				   char *why, size_t whylen);
 *	void	tp_tlsrpt_free(struct tp_tlsrpt *tr);
 *
 *	void	tp_tlsrpt_totals(const struct tp_tlsrpt *tr,
 *				 struct tp_tlsrpt_totals *t);
 *	const struct tp_tlsrpt_policy **tp_tlsrpt_sorted(
 *				 const struct tp_tlsrpt *tr, size_t *n);
 *	const char *tp_tlsrpt_result_name(enum tp_tlsrpt_result r);
 *
 *	void	tp_tlsrpt_print_text(const struct tp_tlsrpt *tr, FILE *fp);
 *	void	tp_tlsrpt_print_json(const struct tp_tlsrpt *tr, FILE *fp);
 * DESCRIPTION
 *	Domains that publish _smtp._tls (RFC 8460) get daily reports from
 *	the senders: how many sessions to each MX succeeded, which failed
 *	and why. This module reads them, in any of the three forms they
 *	arrive in: the JSON itself, gzip-compressed (.json.gz), or a mail
 *	message with the report attached (any MIME structure; the first
 *	part whose type is application/tlsrpt+gzip, application/tlsrpt+json,
 *	application/gzip or application/json, or whose file name ends in
 *	.json or .gz, is the report; GMime parses the message).
 *
 *	Each report is checked against RFC 8460's schema (section 4.4):
 *	organization-name, contact-info and report-id strings,
 *	date-range with RFC 3339 start-datetime and end-datetime,
 *	policies a non-empty array; each policy with policy (policy-type
 *	tlsa, sts or no-policy-found; policy-domain; policy-string an
 *	array of strings; mx-host an array of strings, or one string as
 *	in the RFC's own example), summary (two whole numbers >= 0) and
 *	failure-details, each with a result-type of RFC 8460's eleven,
 *	failed-session-count, and strings for the rest. A report that
 *	fails any check is refused whole, with the first thing wrong.
 *	A report seen before (same organisation and report-id) counts
 *	once.
 *
 *	Reports are summed per sending organisation and policy
 *	(type, domain, MX patterns): reports, successful and failed
 *	sessions, failed sessions by result type, and the failure rows
 *	(result type, receiving MX, its IP, the sender's failure code and
 *	additional information) summed by their content: the first
 *	TP_TLSRPT_ROWS_MAX distinct rows of a policy are kept, listed most
 *	sessions first; the failed sessions of the others are counted in
 *	rows_dropped.
 *
 *	tp_tlsrpt_read_path() reads a file, or each regular file of a
 *	directory (not its subdirectories; in name order; names starting
 *	with "." left out); it writes "tlspolicyctl report: FILE: why"
 *	to errfp for each file refused and returns how many were, or -1
 *	when memory ran out. tp_tlsrpt_read_file() reads one file: 0
 *	counted (or a duplicate), -1 refused with "FILE: why" in why.
 *	tp_tlsrpt_read_buf() is the same for bytes in memory (name is the
 *	file name to show). Refused files are also kept, at most
 *	TP_TLSRPT_REFUSED_MAX, for the report.
 *
 *	tp_tlsrpt_sorted() lists the organisation/policy entries by
 *	organisation, then most failed sessions (caller frees the array).
 *	The print functions write the report's TLSRPT section, every
 *	string from a report escaped (tp_escape_term(); json-c for JSON).
 * SECURITY
 *	A file over TP_TLSRPT_FILE_MAX bytes, or whose JSON unpacks to more
 *	than TP_TLSRPT_JSON_MAX, is refused ("too big"); JSON nests at most
 *	16 deep; strings must be valid UTF-8; strings over
 *	TP_TLSRPT_STRING_MAX bytes are refused; at most
 *	TP_TLSRPT_ENTRIES_MAX organisation/policy entries are kept (the
 *	rest counted).
 * MEMORY
 *	The object owns everything it returns; tp_tlsrpt_free() (NULL is
 *	fine) frees it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TP_TLSRPT_FILE_MAX	(16 * 1024 * 1024)	/* bytes of one file */
#define TP_TLSRPT_JSON_MAX	(4 * 1024 * 1024)	/* bytes of a report's JSON */
#define TP_TLSRPT_STRING_MAX	2048	/* bytes of one string */
#define TP_TLSRPT_ENTRIES_MAX	10000	/* organisation/policy entries */
#define TP_TLSRPT_ROWS_MAX	50	/* failure rows kept per entry */
#define TP_TLSRPT_REFUSED_MAX	100	/* refused files kept for the report */

enum tp_tlsrpt_result {
	TP_TLSRPT_STARTTLS_NOT_SUPPORTED,
	TP_TLSRPT_CERTIFICATE_HOST_MISMATCH,
	TP_TLSRPT_CERTIFICATE_EXPIRED,
	TP_TLSRPT_CERTIFICATE_NOT_TRUSTED,
	TP_TLSRPT_VALIDATION_FAILURE,
	TP_TLSRPT_TLSA_INVALID,
	TP_TLSRPT_DNSSEC_INVALID,
	TP_TLSRPT_DANE_REQUIRED,
	TP_TLSRPT_STS_POLICY_FETCH_ERROR,
	TP_TLSRPT_STS_POLICY_INVALID,
	TP_TLSRPT_STS_WEBPKI_INVALID,
	TP_TLSRPT_NRESULTS,
};

/* Failed sessions with the same result, MX and explanation. */
struct tp_tlsrpt_row {
	enum tp_tlsrpt_result result;
	const char *mx;			/* receiving-mx-hostname, or NULL */
	const char *ip;			/* receiving-ip, or NULL */
	const char *code;		/* failure-reason-code, or NULL */
	const char *info;		/* additional-information, or NULL */
	unsigned long sessions;
};

/* What one organisation reported about one policy. */
struct tp_tlsrpt_policy {
	const char *org;		/* organization-name */
	const char *contact;		/* contact-info */
	const char *type;		/* tlsa, sts, no-policy-found */
	const char *domain;		/* policy-domain */
	const char *mx_host;		/* mx-host patterns, ", "-joined, or NULL */
	unsigned long reports;
	const char *first;		/* earliest start-datetime */
	const char *last;		/* latest end-datetime */
	unsigned long successful;
	unsigned long failed;
	unsigned long results[TP_TLSRPT_NRESULTS];	/* failed, by result */
	const struct tp_tlsrpt_row *const *rows;	/* most sessions first */
	size_t	nrows;
	unsigned long rows_dropped;	/* failed sessions in rows not kept */
};

/* A file that was refused, and why. */
struct tp_tlsrpt_refused {
	const char *file;
	const char *why;
};

struct tp_tlsrpt_totals {
	unsigned long files;		/* read, refused or not */
	unsigned long reports;		/* counted */
	unsigned long duplicates;	/* seen before: not counted again */
	unsigned long refused;
	const struct tp_tlsrpt_refused *refusals;	/* the first REFUSED_MAX */
	size_t	nrefusals;
	size_t	entries;
	unsigned long entries_dropped;	/* reports' policies not kept */
	unsigned long successful;
	unsigned long failed;
};

struct tp_tlsrpt;

extern struct tp_tlsrpt *tp_tlsrpt_new(void);
extern int tp_tlsrpt_read_path(struct tp_tlsrpt *, const char *, FILE *);
extern int tp_tlsrpt_read_file(struct tp_tlsrpt *, const char *, char *, size_t);
extern int tp_tlsrpt_read_buf(struct tp_tlsrpt *, const char *, const char *, size_t,
			      char *, size_t);
extern void tp_tlsrpt_free(struct tp_tlsrpt *);
extern void tp_tlsrpt_totals(const struct tp_tlsrpt *, struct tp_tlsrpt_totals *);
extern const struct tp_tlsrpt_policy **tp_tlsrpt_sorted(const struct tp_tlsrpt *, size_t *);
extern const char *tp_tlsrpt_result_name(enum tp_tlsrpt_result);
extern void tp_tlsrpt_print_text(const struct tp_tlsrpt *, FILE *);
extern void tp_tlsrpt_print_json(const struct tp_tlsrpt *, FILE *);

#endif
