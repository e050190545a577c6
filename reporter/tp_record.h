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
 *	void	tp_record_prepare(const struct tp_record *rec,
 *				  struct tp_record_text *t);
 *	size_t	tp_record_syslog(const struct tp_record_text *t, size_t i,
 *				 char *buf, size_t size);
 *	size_t	tp_record_header(const struct tp_record *rec,
 *				 char *buf, size_t size);
 *	const struct tp_record_rcpt *tp_record_worst(const struct tp_record *rec);
 *
 *	void	tp_record_str_init(struct tp_record_str *rs, const char *s);
 *	const struct tp_record_rcpt_text *tp_record_text_rcpt(
 *				const struct tp_record_text *t, size_t i,
 *				struct tp_record_rcpt_text *tmp);
 *	const struct tp_record_str *tp_record_text_file(
 *				const struct tp_record_text *t,
 *				const char *file, struct tp_record_str *tmp);
 * DESCRIPTION
 *	The milter fills a struct tp_record from its connection state:
 *	everything the MTA said about the session and the message, and
 *	one struct tp_record_rcpt per recipient decision. Reporters turn
 *	it into text; they know nothing of policy files or libmilter.
 *
 *	A message's record is written several times: one syslog line per
 *	recipient and one audit record (tp_audit_format(3h)).
 *	tp_record_prepare() reads its strings once for all of them. Each
 *	is classified once (tp_record_str_init(), one scan): one that no
 *	output escapes or cuts (printable ASCII but % " \, shorter than
 *	TP_FIELD_MAX: nearly every one) is copied as it is by each output;
 *	any other is escaped by each output for itself, once. The part of
 *	the syslog line that every recipient's line shares (session to
 *	sender) is formatted once.
 *
 *	The first TP_RECORD_TEXT_RCPTS recipients' strings are classified
 *	up front: tp_record_text_rcpt() gives recipient i's, and classifies
 *	a later recipient's into tmp as it is written. tp_record_text_file()
 *	gives a rule's file: its policy's, classified once, or another one
 *	classified into tmp. These are for the writers (the syslog line
 *	here, the JSON in audit_json.c).
 *
 *	tp_record_syslog() formats recipient i as one key=value line
 *	(no newline): every string that came from the network is escaped
 *	(TP_ESCAPE_LOG) and quoted, so that no input can add a line or a
 *	field.
 *
 *	tp_record_header() formats the value of the result header that
 *	the milter adds to an accepted message: the TLS state and the
 *	message's worst recipient decision, escaped, under 900 bytes.
 *
 *	tp_record_worst() picks the recipient whose decision speaks for
 *	an accepted message (fail > unmet > pass > skip > exempt), among
 *	those not refused; NULL if there is none.
 * MEMORY
 *	A record only points at strings the caller owns; a prepared text
 *	points at its record and that record's strings, allocates nothing
 *	and is valid while they are.
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

/* A string of the record, classified once for every output. */
struct tp_record_str {
	const char *s;			/* NULL: none */
	size_t	len;			/* of s, when plain */
	bool	plain;			/* no output escapes or cuts it */
};

struct tp_record_rcpt_text {
	struct tp_record_str addr, reason, reply;
};

#define TP_RECORD_TEXT_RCPTS	16	/* recipients classified up front */
#define TP_RECORD_HEAD_MAX	3072	/* the syslog line's shared head */

struct tp_record_text {
	const struct tp_record *rec;
	struct tp_record_str session_id, queue_id, client_addr, client_name;
	struct tp_record_str helo, daemon_name, daemon_port, auth, sender;
	struct tp_record_str policy_file, hostname, outcome, reply;
	struct tp_record_str version, cipher, verify_raw, subject, issuer;
	struct tp_record_rcpt_text rcpts[TP_RECORD_TEXT_RCPTS];
	char	log_head[TP_RECORD_HEAD_MAX];	/* session=... sender="..." */
	size_t	log_head_len;
};

extern void tp_record_prepare(const struct tp_record *, struct tp_record_text *);
extern size_t tp_record_syslog(const struct tp_record_text *, size_t,
			       char *, size_t);
extern size_t tp_record_header(const struct tp_record *, char *, size_t);
extern const struct tp_record_rcpt *tp_record_worst(const struct tp_record *);
extern void tp_record_str_init(struct tp_record_str *, const char *);
extern const struct tp_record_rcpt_text *tp_record_text_rcpt(
		const struct tp_record_text *, size_t, struct tp_record_rcpt_text *);
extern const struct tp_record_str *tp_record_text_file(
		const struct tp_record_text *, const char *, struct tp_record_str *);

#endif
