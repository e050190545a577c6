#ifndef IMPORT_IMPL_H
#define IMPORT_IMPL_H

/*
 * NAME
 *	import_impl 3h
 * SUMMARY
 *	inside tlspolicyctl import: what its source readers share
 * SYNOPSIS
 *	#include "ctl/import_impl.h"
 *
 *	int	tp_import_domain(struct tp_import *imp, const char *in,
 *				 char *out, const char **why);
 *	int	tp_import_rule(struct tp_import *imp, const char *domain,
 *			       enum tp_sts_mode mode, char *const *mx,
 *			       size_t nmx, const char *comment);
 *	int	tp_import_note(struct tp_import *imp, const char *domain,
 *			       const char *what);
 *	int	tp_import_policy(struct tp_import *imp, const char *domain,
 *				 const char *body, size_t len,
 *				 const char *source, const char *id);
 *	char   *tp_import_read(const char *path, size_t max, size_t *len);
 *	const char *tp_import_time(time_t t, char *buf, size_t size);
 *						import_out.c
 *	int	tp_import_stle(struct tp_import *imp, const char *path);
 *						import_stle.c
 *	int	tp_import_fetch(struct tp_import *imp,
 *				const struct tp_import_args *a,
 *				const char *domain);
 *	void	tp_import_fetch_done(struct tp_import *imp);
 *						import_fetch.c
 * DESCRIPTION
 *	Only the import*.c files include this. Each source reader turns
 *	its input into calls of tp_import_rule() (a rule and its comment)
 *	or tp_import_note() (a comment, no rule) and returns 0, or -1
 *	after its errors went to standard error.
 *
 *	tp_import_domain() puts a domain in canonical form and refuses
 *	one that already has a rule (a selector twice is an error in a
 *	policy file). tp_import_policy() parses an MTA-STS body and
 *	writes its rule. tp_import_read() reads a whole file of at most
 *	max bytes (NULL after a message on stderr).
 * MEMORY
 *	tp_import_read(): the caller frees the buffer.
 *	tp_import_fetch_done() frees the resolver the fetches shared.
 */

#include <stdio.h>
#include <time.h>

#include "ctl/tp_dns.h"
#include "ctl/tp_mta_sts.h"

#define TP_IMPORT_CONNECT_MAX	16	/* --connect-to options */

/* The command line. */
struct tp_import_args {
	int	mode;			/* 'm' --mta-sts, 'F' --fetch, 0 */
	const char *stle;		/* --starttls-everywhere FILE */
	const char *output;		/* -o FILE, NULL: stdout */
	struct tp_dns_opts dns;		/* --dns, --trust-anchor, --timeout */
	struct tp_sts_fetch_opts fetch;	/* --ca, --connect-to, --timeout */
	const char *connect_to[TP_IMPORT_CONNECT_MAX];
	size_t	nconnect_to;
};

/* One run. */
struct tp_import {
	FILE   *out;			/* the output, in memory until the end */
	time_t	now;			/* expiry times count from here */
	char  **domains;		/* that have a rule (or note) already */
	size_t	ndomains;
	struct tp_dns *dns;		/* --fetch: made on first use */
};

extern int tp_import_domain(struct tp_import *, const char *, char *,
			    const char **);
extern int tp_import_rule(struct tp_import *, const char *, enum tp_sts_mode,
			  char *const *, size_t, const char *);
extern int tp_import_note(struct tp_import *, const char *, const char *);
extern int tp_import_policy(struct tp_import *, const char *, const char *,
			    size_t, const char *, const char *);
extern char *tp_import_read(const char *, size_t, size_t *);
extern const char *tp_import_time(time_t, char *, size_t);
extern int tp_import_stle(struct tp_import *, const char *);
extern int tp_import_fetch(struct tp_import *, const struct tp_import_args *,
			   const char *);
extern void tp_import_fetch_done(struct tp_import *);

#endif
