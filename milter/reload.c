/*
 * NAME
 *	reload 3
 * SUMMARY
 *	the daemon's policy in force: load, reload on SIGUSR1, log
 * DESCRIPTION
 *	See tp_reload.h.
 */

#include <syslog.h>

#include "milter/tp_log.h"
#include "milter/tp_reload.h"
#include "policy/tp_holder.h"

static struct tp_holder holder;

/* log_errors - every error of a refused file */

static void
log_errors(const char *path, const struct tp_errors *errs)
{
	for (size_t i = 0; i < errs->kept; i++)
		tp_log(LOG_ERR, "%s", errs->msgs[i]);
	if (errs->count > errs->kept)
		tp_log(LOG_ERR, "%s: %zu more errors not shown", path, errs->count - errs->kept);
	tp_log(LOG_ERR, "%s: %zu error%s; policy refused", path, errs->count,
	       errs->count == 1 ? "" : "s");
}

/* log_loaded - what a policy holds */

static void
log_loaded(void)
{
	struct tp_policy_summary s;
	unsigned long gen;
	struct tp_policy *p = tp_holder_get(&holder, &gen);

	tp_policy_summarize(p, &s);
	tp_log(LOG_INFO, "policy %s loaded: %zu rules (sender %zu, rcpt %zu, "
	       "client address %zu, client name %zu), default %s; generation %lu in force",
	       holder.path, s.rules, s.by_kind[TP_KIND_SENDER], s.by_kind[TP_KIND_RCPT],
	       s.by_kind[TP_KIND_CLIENT_ADDR], s.by_kind[TP_KIND_CLIENT_NAME],
	       tp_level_name(s.default_level), gen);
	tp_policy_unref(p);
}

/* tp_policy_start - the first policy */

int
tp_policy_start(const char *path)
{
	struct tp_errors errs;
	int	rc;

	tp_errors_init(&errs);
	if ((rc = tp_holder_init(&holder, path, &errs)) < 0)
		log_errors(path, &errs);
	else
		log_loaded();
	tp_errors_free(&errs);
	return (rc);
}

/* tp_current_policy - a reference to the policy in force */

struct tp_policy *
tp_current_policy(unsigned long *generation)
{
	return (tp_holder_get(&holder, generation));
}

/* tp_policy_reload - replace the policy if the file is good */

int
tp_policy_reload(void)
{
	struct tp_errors errs;
	unsigned long gen;
	int	rc;

	tp_errors_init(&errs);
	if ((rc = tp_holder_reload(&holder, &errs, &gen)) < 0) {
		log_errors(holder.path, &errs);
		tp_log(LOG_ERR, "reload failed: keeping policy generation %lu", gen);
	} else {
		log_loaded();
	}
	tp_errors_free(&errs);
	return (rc < 0 ? -1 : 0);
}

/* tp_policy_stop - drop the daemon's own reference at exit */

void
tp_policy_stop(void)
{
	tp_holder_free(&holder);
}
