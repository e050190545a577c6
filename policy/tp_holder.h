#ifndef TP_HOLDER_H
#define TP_HOLDER_H

/*
 * NAME
 *	tp_holder 3h
 * SUMMARY
 *	the policy in force, replaced atomically on reload
 * SYNOPSIS
 *	#include "policy/tp_holder.h"
 *
 *	int	tp_holder_init(struct tp_holder *h, const char *path,
 *			       struct tp_errors *errs);
 *	int	tp_holder_init_vetted(struct tp_holder *h, const char *path,
 *				      int (*vet)(const struct tp_policy *),
 *				      struct tp_errors *errs);
 *	struct tp_policy *tp_holder_get(struct tp_holder *h,
 *					unsigned long *generation);
 *	int	tp_holder_reload(struct tp_holder *h, struct tp_errors *errs,
 *				 unsigned long *generation);
 *	void	tp_holder_free(struct tp_holder *h);
 * DESCRIPTION
 *	tp_holder_init() loads the first policy from path (-1 and every
 *	error in errs if it has any). tp_holder_get() returns a new
 *	reference to the policy in force and its generation (1, 2, ...):
 *	a connection takes one at its start and keeps it to its end, so a
 *	reload never changes the rules under a session in flight.
 *
 *	tp_holder_reload() loads the file again, completely, outside the
 *	lock; only a policy without errors is swapped in, under the lock,
 *	and the old one is freed when its last user lets go. On error it
 *	returns -1, errs holds every error, and the old policy stays.
 *	*generation is the generation in force afterwards. Any thread may
 *	call any of these at any time.
 *
 *	tp_holder_init_vetted() is tp_holder_init() for a caller that must
 *	vet each freshly loaded policy before it is taken (the daemon: were
 *	its files finished?): init and every reload take a policy only if
 *	vet returns 0, and otherwise fail as on an error, which vet has
 *	reported (errs holds nothing of it).
 */

#include <pthread.h>

#include "policy/tp_policy.h"

struct tp_holder {
	pthread_mutex_t lock;		/* guards current and generation */
	struct tp_policy *current;
	unsigned long generation;
	char   *path;
	int	(*vet) (const struct tp_policy *);	/* NULL, or 0: take it */
};

extern int tp_holder_init(struct tp_holder *, const char *, struct tp_errors *);
extern int tp_holder_init_vetted(struct tp_holder *, const char *,
				 int (*) (const struct tp_policy *), struct tp_errors *);
extern struct tp_policy *tp_holder_get(struct tp_holder *, unsigned long *);
extern int tp_holder_reload(struct tp_holder *, struct tp_errors *, unsigned long *);
extern void tp_holder_free(struct tp_holder *);

#endif
