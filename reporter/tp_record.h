#ifndef TP_RECORD_H
#define TP_RECORD_H

/*
 * NAME
 *	tp_record 3h
 * SUMMARY
 *	the decision record: what one message had and what was decided
 * SYNOPSIS
 *	#include "reporter/tp_record.h"
 *
 *	size_t	tp_record_syslog(const struct tp_record *rec, size_t i,
 *				 char *buf, size_t size);
 *	size_t	tp_record_header(const struct tp_record *rec,
 *				 char *buf, size_t size);
 *	const struct tp_record_rcpt *tp_record_worst(const struct tp_record *rec);
 * DESCRIPTION
 *	The milter fills a struct tp_record from its connection state:
 *	everything the MTA said about the session and the message, and
 *	one struct tp_record_rcpt per recipient decision. Reporters turn
 *	it into text; they know nothing of policy files or libmilter.
 *
 *	tp_record_syslog() formats recipient i as one key=value line
 *	(no newline): every string that came from the network is escaped
 *	(tp_escape) and quoted, so that no input can add a line or a field.
 *
 *	tp_record_header() formats the value of the result header that
 *	the milter adds to an accepted message: the TLS state and the
 *	message's worst recipient decision, escaped, under 900 bytes.
 *
 *	tp_record_worst() picks the recipient whose decision speaks for
 *	an accepted message (fail > unmet > pass > skip > exempt), among
 *	those not refused; NULL if there is none.
 * MEMORY
 *	A record only points at strings the caller owns.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/tp_policy.h"

struct tp_record_rcpt {
	const char *addr;		/* RCPT TO as the MTA gave it */
	const struct tp_rule *rules[TP_DECISION_MAX_RULES];
	size_t	nrules;			/* rules that took part */
	const struct tp_rule *decider;	/* NULL: none */
	enum tp_level level;
	enum tp_result result;
	enum tp_action action;		/* with TP_RESULT_FAIL */
	bool	testing;		/* FAIL in testing mode */
	bool	refused;		/* the milter refused it at RCPT TO */
	bool	error;			/* undecidable: tempfailed */
	const char *reason;		/* the engine's reason */
	const char *reply;		/* "550 5.7.1 ..." sent or that would be */
};

struct tp_record {
	const char *session_id;		/* the milter's own id */
	const char *queue_id;		/* NULL until the MTA says */
	const char *client_addr;
	const char *client_name;	/* verified name, or NULL */
	const char *helo;
	const char *daemon_name;	/* {daemon_name} */
	const char *daemon_port;	/* {daemon_port} */
	const char *auth;		/* {auth_authen} */
	const char *sender;		/* MAIL FROM */
	const struct tp_tls_state *tls;	/* how NONE: plaintext */
	const char *policy_file;
	unsigned long policy_generation;
	const char *hostname;		/* this host, for the header */
	const char *outcome;		/* accepted, rejected, aborted, ... */
	const struct tp_record_rcpt *rcpts;
	size_t	nrcpts;
	const char *reply;		/* a whole-message reply (tempfail at EOM) */
};

extern size_t tp_record_syslog(const struct tp_record *, size_t, char *, size_t);
extern size_t tp_record_header(const struct tp_record *, char *, size_t);
extern const struct tp_record_rcpt *tp_record_worst(const struct tp_record *);

#endif
