/*
 * NAME
 *	metrics 3
 * SUMMARY
 *	the daemon's counters in the Prometheus text exposition format
 * DESCRIPTION
 *	See tp_metrics.h. The metric table below is the one list of
 *	metrics; the README's list and tlspolicy-milter(8) follow it.
 *	The label values are the engine's own names (tp_level_name() and
 *	so on), so that a metric says what the logs and the audit log say.
 */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "policy/tp_policy.h"
#include "reporter/tp_metrics.h"

#define PREFIX		"tlspolicy_"
#define DIMS_MAX	4		/* labels of one metric */
#define SAMPLE_MAX	256		/* one sample's name and labels */

/* One label: its name, how many values, the name of each value. */
struct dim {
	const char *label;
	size_t	n;
	const char *(*value) (size_t i);
};

/* One metric; its values are unsigned long long, row-major by dims. */
struct metric {
	const char *name;
	const char *type;		/* counter or gauge */
	const char *help;
	size_t	offset;			/* of its first value in struct tp_stats_snap */
	const struct dim *dims[DIMS_MAX];	/* NULL after the last */
	bool	(*usual) (const size_t *ix);	/* NULL: every sample is written */
};

/* level_value - none (no decision: an error), then the policy's levels */

static const char *
level_value(size_t i)
{
	return (i == 0 ? "none" : tp_level_name((enum tp_level)(i - 1)));
}

/* result_value - the engine's results, then error */

static const char *
result_value(size_t i)
{
	return (i == TP_STAT_RESULT_ERROR ? "error" : tp_result_name((enum tp_result)i));
}

/* action_value - none (not a failure), then the policy's actions */

static const char *
action_value(size_t i)
{
	return (i == 0 ? "none" : tp_action_name((enum tp_action)(i - 1)));
}

/* yes_no - the testing label */

static const char *
yes_no(size_t i)
{
	return (i ? "yes" : "no");
}

/* how_value - none, starttls, implicit */

static const char *
how_value(size_t i)
{
	return (tp_tls_how_name((enum tp_tls_how)i));
}

/* version_value - TLS versions, from "unknown" on */

static const char *
version_value(size_t i)
{
	return (tp_tls_version_name((enum tp_tls_version)(i + TP_TLS_UNKNOWN)));
}

/* reload_value - ok, failed */

static const char *
reload_value(size_t i)
{
	return (i == TP_STAT_RELOAD_OK ? "ok" : "failed");
}

/* audit_value - written, lost */

static const char *
audit_value(size_t i)
{
	return (i == TP_STAT_AUDIT_WRITTEN ? "written" : "lost");
}

static const struct dim dim_level = {"level", TP_STAT_LEVELS, level_value};
static const struct dim dim_result = {"result", TP_STAT_RESULTS, result_value};
static const struct dim dim_action = {"action", TP_STAT_ACTIONS, action_value};
static const struct dim dim_testing = {"testing", TP_STAT_TESTING, yes_no};
static const struct dim dim_outcome = {"outcome", TP_STAT_OUTCOMES, tp_stats_outcome_name};
static const struct dim dim_how = {"tls", TP_STAT_HOWS, how_value};
static const struct dim dim_version = {"version", TP_STAT_VERSIONS, version_value};
static const struct dim dim_reload = {"status", TP_STAT_RELOADS, reload_value};
static const struct dim dim_audit = {"status", TP_STAT_AUDITS, audit_value};

/*
 * decision_usual - can the engine decide so? A failure is a require
 * rule's; pass needs a prefer or require rule, unmet a prefer; an error
 * has no level. Other combinations are written only if counted.
 */

static bool
decision_usual(const size_t *ix)
{
	size_t	level = ix[0], result = ix[1], action = ix[2], testing = ix[3];

	if (result == TP_RESULT_FAIL)
		return (level == TP_LEVEL_REQUIRE + 1 && action > 0);
	if (action != 0 || testing != 0)
		return (false);
	switch (result) {
	case TP_RESULT_PASS:
		return (level == TP_LEVEL_PREFER + 1 || level == TP_LEVEL_REQUIRE + 1);
	case TP_RESULT_UNMET:
		return (level == TP_LEVEL_PREFER + 1);
	case TP_RESULT_SKIP:
		return (level == TP_LEVEL_SKIP + 1);
	case TP_RESULT_EXEMPT:
		return (level == TP_LEVEL_EXEMPT + 1);
	}
	return (level == 0);
}

#define AT(field)	offsetof(struct tp_stats_snap, field)

static const struct metric metrics[] = {
	{PREFIX "up", "gauge",
		"1 while tlspolicy-milter runs; 0 in the file it writes as it stops.",
	AT(up), {NULL}, NULL},
	{PREFIX "start_time_seconds", "gauge",
		"When tlspolicy-milter started, in seconds since the Unix epoch.",
	AT(started), {NULL}, NULL},
	{PREFIX "policy_generation", "gauge",
		"Generation of the policy in force: 1 at start, one more for each reload that took.",
	AT(policy_generation), {NULL}, NULL},
	{PREFIX "policy_rules", "gauge",
		"Rules in the policy in force.",
	AT(policy_rules), {NULL}, NULL},
	{PREFIX "policy_reloads_total", "counter",
		"Policy reloads (SIGUSR1) by status; a failed one keeps the policy in force.",
	AT(reloads), {&dim_reload}, NULL},
	{PREFIX "sessions_total", "counter",
		"SMTP sessions ended, by how they used TLS: none, starttls or implicit (TLS from connect).",
	AT(sessions), {&dim_how}, NULL},
	{PREFIX "tls_version_total", "counter",
		"SMTP sessions with TLS ended, by TLS version.",
	AT(tls_versions), {&dim_version}, NULL},
	{PREFIX "decisions_total", "counter",
		"Recipient decisions by the deciding level, result, action of a failure and testing mode.",
	AT(decisions), {&dim_level, &dim_result, &dim_action, &dim_testing}, decision_usual},
	{PREFIX "messages_total", "counter",
		"Messages by outcome.",
	AT(messages), {&dim_outcome}, NULL},
	{PREFIX "audit_records_total", "counter",
		"Audit log records written, or lost (queue full, or the file could not be written).",
	AT(audit), {&dim_audit}, NULL},
};

#define METRICS	(sizeof(metrics) / sizeof(metrics[0]))

/* cells - how many samples a metric has */

static size_t
cells(const struct metric *m)
{
	size_t	n = 1;

	for (size_t d = 0; d < DIMS_MAX && m->dims[d] != NULL; d++)
		n *= m->dims[d]->n;
	return (n);
}

/* index_of - the label value indexes of sample k (the last label fastest) */

static void
index_of(const struct metric *m, size_t k, size_t ix[DIMS_MAX])
{
	size_t	ndims = 0;

	while (ndims < DIMS_MAX && m->dims[ndims] != NULL)
		ndims++;
	for (size_t d = ndims; d-- > 0;) {
		ix[d] = k % m->dims[d]->n;
		k /= m->dims[d]->n;
	}
}

/* values - a metric's values in a snapshot */

static const unsigned long long *
values(const struct metric *m, const struct tp_stats_snap *snap)
{
	return ((const unsigned long long *)(const void *)((const char *)snap + m->offset));
}

/* tp_metrics_escape - s escaped as a HELP text or a label value */

void
tp_metrics_escape(struct tp_buf *b, const char *s, bool label)
{
	for (; *s; s++) {
		if (*s == '\\')
			TP_BUF_LIT(b, "\\\\");
		else if (*s == '\n')
			TP_BUF_LIT(b, "\\n");
		else if (*s == '"' && label)
			TP_BUF_LIT(b, "\\\"");
		else
			tp_buf_add(b, s, 1);
	}
}

/* sample_name - name{label="value",...} of the sample with indexes ix */

static void
sample_name(struct tp_buf *b, const struct metric *m, const size_t *ix)
{
	tp_buf_adds(b, m->name);
	for (size_t d = 0; d < DIMS_MAX && m->dims[d] != NULL; d++) {
		tp_buf_add(b, d == 0 ? "{" : ",", 1);
		tp_buf_adds(b, m->dims[d]->label);
		TP_BUF_LIT(b, "=\"");
		tp_metrics_escape(b, m->dims[d]->value(ix[d]), true);
		TP_BUF_LIT(b, "\"");
	}
	if (m->dims[0] != NULL)
		TP_BUF_LIT(b, "}");
}

/* samples - append each written sample: name, sep, value, newline */

static void
samples(const struct metric *m, const struct tp_stats_snap *snap, char sep, struct tp_buf *b)
{
	const unsigned long long *v = values(m, snap);
	size_t	ix[DIMS_MAX];

	for (size_t k = 0, n = cells(m); k < n; k++) {
		index_of(m, k, ix);
		if (m->usual != NULL && v[k] == 0 && !m->usual(ix))
			continue;
		sample_name(b, m, ix);
		tp_buf_add(b, &sep, 1);
		tp_buf_addf(b, "%llu\n", v[k]);
	}
}

/* tp_metrics_format - the Prometheus text */

void
tp_metrics_format(const struct tp_stats_snap *snap, struct tp_buf *b)
{
	for (size_t i = 0; i < METRICS; i++) {
		const struct metric *m = &metrics[i];

		tp_buf_addf(b, "# HELP %s ", m->name);
		tp_metrics_escape(b, m->help, false);
		tp_buf_addf(b, "\n# TYPE %s %s\n", m->name, m->type);
		samples(m, snap, ' ', b);
	}
}

/* tp_metrics_status - the samples as the status file's lines */

void
tp_metrics_status(const struct tp_stats_snap *snap, struct tp_buf *b)
{
	for (size_t i = 0; i < METRICS; i++)
		samples(&metrics[i], snap, '=', b);
}

/* number - a decimal unsigned long long: 0, or -1 */

static int
number(const char *text, unsigned long long *n)
{
	char   *end;

	errno = 0;
	*n = strtoull(text, &end, 10);
	return (*text < '0' || *text > '9' || *end != 0 || errno ? -1 : 0);
}

/* find_cell - the value of sample key in snap, or NULL */

static unsigned long long *
find_cell(struct tp_stats_snap *snap, const char *key)
{
	char	name[SAMPLE_MAX];
	size_t	ix[DIMS_MAX];

	for (size_t i = 0; i < METRICS; i++) {
		const struct metric *m = &metrics[i];
		size_t	len = strlen(m->name);

		if (strncmp(key, m->name, len) != 0 || (key[len] != 0 && key[len] != '{'))
			continue;
		for (size_t k = 0, n = cells(m); k < n; k++) {
			struct tp_buf b = TP_BUF(name, sizeof(name));

			index_of(m, k, ix);
			sample_name(&b, m, ix);
			if (strcmp(name, key) == 0)
				return ((unsigned long long *)(void *)((char *)snap + m->offset) + k);
		}
	}
	return (NULL);
}

/* tp_metrics_status_line - one status file line into snap: 1, 0, -1 */

int
tp_metrics_status_line(struct tp_stats_snap *snap, const char *key, const char *value)
{
	unsigned long long *cell = find_cell(snap, key);
	unsigned long long n;

	if (cell == NULL)
		return (0);
	if (number(value, &n) < 0)
		return (-1);
	*cell = n;
	return (1);
}
