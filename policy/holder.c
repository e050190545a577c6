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

/* load_vetted - load the file; NULL if it has errors or the vet says no */

static struct tp_policy *
load_vetted(const struct tp_holder *h, struct tp_errors *errs)
{
	struct tp_policy *p = tp_policy_load(h->path, errs);

	if (p != NULL && h->vet != NULL && h->vet(p) < 0) {
		tp_policy_unref(p);
		p = NULL;
	}
	return (p);
}

/* tp_holder_init - the first policy */

int
tp_holder_init(struct tp_holder *h, const char *path, struct tp_errors *errs)
{
	return (tp_holder_init_vetted(h, path, NULL, errs));
}

/* tp_holder_init_vetted - the first policy; vet must pass every one taken */

int
tp_holder_init_vetted(struct tp_holder *h, const char *path,
		      int (*vet) (const struct tp_policy *), struct tp_errors *errs)
{
	memset(h, 0, sizeof(*h));
	h->vet = vet;
	pthread_mutex_init(&h->lock, NULL);
	if ((h->path = strdup(path)) == NULL) {
		tp_errors_add(errs, path, 0, "out of memory");
		return (-1);
	}
	if ((h->current = load_vetted(h, errs)) == NULL)
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

/* tp_holder_reload - swap in a new policy if the files have no error */

int
tp_holder_reload(struct tp_holder *h, struct tp_errors *errs,
		 unsigned long *generation)
{
	struct tp_policy *fresh = load_vetted(h, errs);
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
