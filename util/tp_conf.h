#ifndef TP_CONF_H
#define TP_CONF_H

/*
 * NAME
 *	tp_conf 3h
 * SUMMARY
 *	key = value configuration files, driven by a schema table
 * SYNOPSIS
 *	#include "util/tp_conf.h"
 *
 *	int	tp_conf_load(const char *path, const struct tp_conf_key *keys,
 *			     void *target, struct tp_errors *errs);
 *	int	tp_conf_set(const struct tp_conf_key *keys, void *target,
 *			    const char *name, const char *value,
 *			    const char **why);
 *	void	tp_conf_free(const struct tp_conf_key *keys, void *target);
 * DESCRIPTION
 *	The schema (keys, ended by a NULL name) says for each key its
 *	type and where in the target struct its value goes. The daemon
 *	keeps its own schema; this module knows nothing of it.
 *
 *	A file holds "key = value" lines; "#" starts a comment line;
 *	white space around key and value is dropped. Every error is
 *	reported as "FILE:LINE: what is wrong" and the load fails (-1)
 *	if there was any: unknown key, a key given twice, a bad boolean
 *	(yes/no/true/false/on/off/1/0) or number, an over-long line; a
 *	file that cannot be opened or read (a directory) is "FILE: why".
 *
 *	tp_conf_set() sets one key (command-line options use it, so that
 *	a flag and its config key share one parser): 0, or -1 with a
 *	static reason in *why.
 * MEMORY
 *	String values are malloc'd into the target; tp_conf_free() frees
 *	them and sets them to NULL. Defaults put there by the caller
 *	before loading must be malloc'd too (or NULL).
 */

#include <stddef.h>

#include "util/tp_errors.h"

enum tp_conf_type {
	TP_CONF_STRING,			/* char * */
	TP_CONF_BOOL,			/* int, 0 or 1 */
	TP_CONF_UINT,			/* unsigned, 0 .. max */
};

struct tp_conf_key {
	const char *name;
	enum tp_conf_type type;
	size_t	offset;			/* offsetof(target struct, field) */
	unsigned max;			/* TP_CONF_UINT: largest value */
};

extern int tp_conf_load(const char *, const struct tp_conf_key *, void *,
			struct tp_errors *);
extern int tp_conf_set(const struct tp_conf_key *, void *, const char *,
		       const char *, const char **);
extern void tp_conf_free(const struct tp_conf_key *, void *);

#endif
