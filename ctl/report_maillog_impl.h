#ifndef REPORT_MAILLOG_IMPL_H
#define REPORT_MAILLOG_IMPL_H

/*
 * NAME
 *	report_maillog_impl 3h
 * SUMMARY
 *	inside tlspolicyctl report --maillog: the log object
 * SYNOPSIS
 *	#include "ctl/report_maillog_impl.h"
 * DESCRIPTION
 *	Only report_maillog.c (reading, counting) and
 *	report_maillog_print.c (text and JSON) include this.
 */

#include <stdbool.h>
#include <stddef.h>

#include "ctl/tp_maillog.h"

struct session;

/* One client's counts, in its hash bucket. */
struct mlclient {
	struct mlclient *next;
	struct tp_maillog_client pub;	/* the public part */
	char   *name;			/* pub.name */
	char   *detail;			/* pub.detail */
	char	addr[];			/* pub.addr */
};

struct tp_maillog {
	struct session **open;		/* NBUCKETS chains of open sessions */
	size_t	nopen;
	struct mlclient **clients;	/* NBUCKETS chains */
	size_t	nclients;
	unsigned long lines;
	unsigned long smtpd_lines;
	unsigned long skipped;
	char   *first_skipped;
	unsigned long sessions;
	unsigned long failed;
	unsigned long reasons[TP_MAILLOG_NREASONS];
	unsigned long untracked;
	unsigned long other_sessions;
	unsigned long other_failed;
	char  **files;
	size_t	nfiles;
	const char *cur_file;		/* for FILE:LINE of a skipped line */
	unsigned long lineno;
	bool	nomem;
};

#endif
