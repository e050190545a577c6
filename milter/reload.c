/*
 * NAME
 *	reload 3
 * SUMMARY
 *	the current policy, and its replacement on SIGUSR1
 * SYNOPSIS
 *	int	tp_policy_start(const char *path);
 *	struct tp_policy *tp_current_policy(unsigned long *generation);
 *	void	tp_policy_reload(void);
 *	void	tp_policy_stop(void);
 * DESCRIPTION
 *	tp_policy_start() loads the first policy (every error is logged;
 *	-1 if there was any). tp_current_policy() returns a new reference
 *	to the policy in force and its generation (1, 2, ...): each
 *	connection takes one at its start and keeps it to its end, so a
 *	reload never changes the rules under a session in flight.
 *
 *	tp_policy_reload() runs in the signal thread (signals.c), never in
 *	a connection's callback: it builds the new policy completely, and only if the file has no error swaps it in
 *	under a mutex; the old one is freed when its last connection
 *	closes. A bad file is logged with every error and the old policy
 *	stays.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "milter.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tp_policy *current;	/* the policy in force */
static unsigned long generation;	/* its number, from 1 */
static char *path;			/* where it comes from */

/* load - load and summarize, or log every error */

static struct tp_policy *
load(void)
{
	struct tp_policy_summary s;
	struct tp_errors errs;
	struct tp_policy *p;

	tp_errors_init(&errs);
	if ((p = tp_policy_load(path, &errs)) == NULL) {
		for (size_t i = 0; i < errs.kept; i++)
			tp_log(LOG_ERR, "%s", errs.msgs[i]);
		tp_log(LOG_ERR, "%s: %zu error%s; policy refused", path, errs.count,
		       errs.count == 1 ? "" : "s");
	} else {
		tp_policy_summarize(p, &s);
		tp_log(LOG_INFO, "policy %s loaded: %zu rules (sender %zu, rcpt %zu, "
		       "client address %zu, client name %zu), default %s", path, s.rules,
		       s.by_kind[TP_KIND_SENDER], s.by_kind[TP_KIND_RCPT],
		       s.by_kind[TP_KIND_CLIENT_ADDR], s.by_kind[TP_KIND_CLIENT_NAME],
		       tp_level_name(s.default_level));
	}
	tp_errors_free(&errs);
	return (p);
}

/* tp_policy_start - the first policy */

int
tp_policy_start(const char *file)
{
	if ((path = strdup(file)) == NULL || (current = load()) == NULL)
		return (-1);
	generation = 1;
	return (0);
}

/* tp_current_policy - a reference to the policy in force */

struct tp_policy *
tp_current_policy(unsigned long *gen)
{
	struct tp_policy *p;

	pthread_mutex_lock(&lock);
	p = current ? tp_policy_ref(current) : NULL;
	*gen = generation;
	pthread_mutex_unlock(&lock);
	return (p);
}

/* tp_policy_reload - replace the policy if the file is good */

void
tp_policy_reload(void)
{
	struct tp_policy *fresh = load();
	struct tp_policy *old;
	unsigned long gen;

	if (fresh == NULL) {
		pthread_mutex_lock(&lock);
		gen = generation;
		pthread_mutex_unlock(&lock);
		tp_log(LOG_ERR, "reload failed: keeping policy generation %lu", gen);
		atomic_fetch_add(&tp_stats.reloads_failed, 1);
		return;
	}
	pthread_mutex_lock(&lock);
	old = current;
	current = fresh;
	gen = ++generation;
	pthread_mutex_unlock(&lock);
	tp_policy_unref(old);
	atomic_fetch_add(&tp_stats.reloads, 1);
	tp_log(LOG_INFO, "policy generation %lu in force", gen);
}

/* tp_policy_stop - drop the daemon's own reference at exit */

void
tp_policy_stop(void)
{
	pthread_mutex_lock(&lock);
	tp_policy_unref(current);
	current = NULL;
	pthread_mutex_unlock(&lock);
	free(path);
	path = NULL;
}
