/*
 * NAME
 *	holder 3
 * SUMMARY
 *	the policy in force, replaced atomically on reload
 * DESCRIPTION
 *	See tp_holder.h. The lock is held only to copy or swap a pointer
 *	and take a reference: parsing a large policy never holds up a
 *	connection.
 */

#include <stdlib.h>
#include <string.h>

#include "policy/tp_holder.h"

/* tp_holder_init - the first policy */

int
tp_holder_init(struct tp_holder *h, const char *path, struct tp_errors *errs)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	if ((h->path = strdup(path)) == NULL) {
		tp_errors_add(errs, path, 0, "out of memory");
		return (-1);
	}
	if ((h->current = tp_policy_load(path, errs)) == NULL)
		return (-1);
	h->generation = 1;
	return (0);
}

/* tp_holder_get - a reference to the policy in force */

struct tp_policy *
tp_holder_get(struct tp_holder *h, unsigned long *generation)
{
	struct tp_policy *p;

	pthread_mutex_lock(&h->lock);
	p = h->current ? tp_policy_ref(h->current) : NULL;
	*generation = h->generation;
	pthread_mutex_unlock(&h->lock);
	return (p);
}

/* tp_holder_reload - swap in a new policy if the file has no error */

int
tp_holder_reload(struct tp_holder *h, struct tp_errors *errs,
		 unsigned long *generation)
{
	struct tp_policy *fresh = tp_policy_load(h->path, errs);
	struct tp_policy *old;

	pthread_mutex_lock(&h->lock);
	if (fresh == NULL) {
		*generation = h->generation;
		pthread_mutex_unlock(&h->lock);
		return (-1);
	}
	old = h->current;
	h->current = fresh;
	*generation = ++h->generation;
	pthread_mutex_unlock(&h->lock);
	tp_policy_unref(old);
	return (0);
}

/* tp_holder_free - drop the holder's reference */

void
tp_holder_free(struct tp_holder *h)
{
	pthread_mutex_lock(&h->lock);
	tp_policy_unref(h->current);
	h->current = NULL;
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_destroy(&h->lock);
	free(h->path);
	h->path = NULL;
}
