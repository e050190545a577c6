#ifndef TP_MILTER_H
#define TP_MILTER_H

/*
 * NAME
 *	milter 3h
 * SUMMARY
 *	tlspolicy-milter internals: connection state, and the daemon's
 *	modules the callbacks use
 * DESCRIPTION
 *	main.c starts the daemon: config.c reads the configuration, log.c
 *	logs, socket.c and daemon.c set the process up, signals.c and
 *	reload.c keep the policy and the counters; each has its own
 *	header, included here for the callbacks. callbacks.c holds the
 *	mlfi_* callbacks, which translate what the MTA says into engine
 *	queries (conn.c keeps it per connection).
 *
 *	Thread model: libmilter runs one thread per connection. The only
 *	shared state is the configuration (read-only after start-up), the
 *	counters (atomic), the audit writer, and the current policy
 *	(tp_current_policy(), reference counted).
 */

#include <stdbool.h>

#include "milter/tp_conn.h"
#include "milter/tp_config.h"
#include "milter/tp_log.h"
#include "milter/tp_reload.h"
#include "milter/tp_signals.h"
#include "policy/tp_macros.h"
#include "policy/tp_policy.h"
#include "reporter/tp_audit.h"
#include "reporter/tp_record.h"
#include "reporter/tp_stats.h"

#endif
