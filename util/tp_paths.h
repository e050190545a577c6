#ifndef TP_PATHS_H
#define TP_PATHS_H

/*
 * NAME
 *	tp_paths 3h
 * SUMMARY
 *	where the daemon and tlspolicyctl look when told nothing
 * SYNOPSIS
 *	#include "util/tp_paths.h"
 * DESCRIPTION
 *	The default files of an installation, shared by tlspolicy-milter
 *	and tlspolicyctl, so that "tlspolicyctl apply" and "status" find
 *	what the daemon uses. The directories come from configure
 *	(--sysconfdir, --runstatedir, --localstatedir).
 */

#define TP_DEFAULT_CONFIG	TP_SYSCONFDIR "/tlspolicy/tlspolicy-milter.conf"
#define TP_DEFAULT_POLICY	TP_SYSCONFDIR "/tlspolicy/policy.conf"
#define TP_DEFAULT_SOCKET	"unix:" TP_RUNSTATEDIR "/tlspolicy/tlspolicy.sock"
#define TP_DEFAULT_PIDFILE	TP_RUNSTATEDIR "/tlspolicy/tlspolicy-milter.pid"
#define TP_DEFAULT_AUDIT	TP_LOCALSTATEDIR "/log/tlspolicy/audit.jsonl"
#define TP_DEFAULT_STATUS	TP_RUNSTATEDIR "/tlspolicy/status"

#endif
