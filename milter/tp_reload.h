#ifndef TP_MILTER_RELOAD_H
#define TP_MILTER_RELOAD_H

/*
 * NAME
 *	tp_reload 3h
 * SUMMARY
 *	the daemon's policy in force: load, reload on SIGUSR1, log
 * SYNOPSIS
 *	#include "milter/tp_reload.h"
 *
 *	int	tp_policy_start(const char *path);
 *	struct tp_policy *tp_current_policy(unsigned long *generation);
 *	int	tp_policy_reload(void);
 *	void	tp_policy_stop(void);
 * DESCRIPTION
 *	The daemon's side of the policy holder (tp_holder.h): it logs
 *	what the holder did. tp_policy_start() loads the first policy.
 *	tp_current_policy() gives a connection its reference (and the
 *	policy's generation). tp_policy_reload() runs in the signal
 *	thread (signals.c), never in a connection's callback; a bad file
 *	is logged with every error and the old policy stays in force.
 *
 *	Both read only a finished file: one that keeps its inode, size
 *	and modification time over 200 ms (tried five times) and ends
 *	with a newline. A file still being written would parse as the
 *	part written so far, and a line cut short can be a valid rule of
 *	its own (min_version=TLSv1 cut from TLSv1.3). Each start or
 *	reload so waits 200 ms or more; it happens before any connection
 *	is served, or in the signal thread.
 * DIAGNOSTICS
 *	tp_policy_start() and tp_policy_reload() return 0, or -1 when the
 *	file was refused: every error is logged (FILE:LINE: what is
 *	wrong), then "FILE: N errors; policy refused"; an unfinished
 *	file is logged as "FILE: last line has no newline: still being
 *	written?" or "FILE: still changing after 1000 ms (size, time or
 *	inode): still being written?". A failed reload also logs "reload
 *	failed: keeping policy generation N".
 * MEMORY
 *	The caller of tp_current_policy() drops its reference with
 *	tp_policy_unref(). tp_policy_stop() drops the daemon's own at
 *	exit.
 */

struct tp_policy;

extern int tp_policy_start(const char *);
extern struct tp_policy *tp_current_policy(unsigned long *);
extern int tp_policy_reload(void);
extern void tp_policy_stop(void);

#endif
