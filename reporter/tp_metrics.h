#ifndef TP_METRICS_H
#define TP_METRICS_H

/*
 * NAME
 *	tp_metrics 3h
 * SUMMARY
 *	the daemon's counters in the Prometheus text exposition format
 * SYNOPSIS
 *	#include "reporter/tp_metrics.h"
 *
 *	void	tp_metrics_format(const struct tp_stats_snap *snap,
 *				  struct tp_buf *b);
 *	void	tp_metrics_status(const struct tp_stats_snap *snap,
 *				  struct tp_buf *b);
 *	int	tp_metrics_status_line(struct tp_stats_snap *snap,
 *				       const char *key, const char *value);
 *	void	tp_metrics_escape(struct tp_buf *b, const char *s,
 *				  bool label);
 * DESCRIPTION
 *	One table (metrics.c) defines every metric: its name, type, help
 *	text, fixed label set and where its values are in a struct
 *	tp_stats_snap. No label carries a domain or an address: what one
 *	domain did belongs in the audit log and tlspolicyctl report.
 *
 *	tp_metrics_format() appends the Prometheus text (version 0.0.4):
 *	for each metric a "# HELP" and a "# TYPE" line, then its samples,
 *	one a line, "name{label="value",...} value". Every sample is
 *	written, zero or not, but for tlspolicy_decisions_total, whose
 *	combinations that cannot happen are left out while they are zero
 *	(a failed decision is a require rule's, an error has no level).
 *
 *	tp_metrics_status() appends the same samples as the status file's
 *	"sample=value" lines (the sample as in the Prometheus text, "="
 *	instead of the space). tp_metrics_status_line() takes one such
 *	line back into snap: so tlspolicyctl status --prometheus makes,
 *	from the status file, the text the daemon's metrics file holds.
 *	It returns 1 (a sample, value set), 0 (not a sample: key is some
 *	other status line) or -1 (a sample with a value that is not a
 *	decimal number).
 *
 *	tp_metrics_escape() appends s escaped for the format: a HELP text
 *	(\ and newline as \\ and \n) or, when label is true, a label value
 *	(", \ and newline as \", \\ and \n).
 *
 *	TP_METRICS_TEXT_MAX bytes hold either text with every sample, and
 *	the status file's summary before them.
 * DIAGNOSTICS
 *	A text that does not fit sets b->full; the caller must not write it.
 */

#include <stdbool.h>

#include "reporter/tp_stats.h"
#include "util/tp_buf.h"

#define TP_METRICS_TEXT_MAX	(128 * 1024)

extern void tp_metrics_format(const struct tp_stats_snap *, struct tp_buf *);
extern void tp_metrics_status(const struct tp_stats_snap *, struct tp_buf *);
extern int tp_metrics_status_line(struct tp_stats_snap *, const char *, const char *);
extern void tp_metrics_escape(struct tp_buf *, const char *, bool);

#endif
