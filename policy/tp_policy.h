#ifndef TP_POLICY_H
#define TP_POLICY_H

/*
 * NAME
 *	tp_policy 3h
 * SUMMARY
 *	TLS policy engine: load a policy file, decide per recipient
 * SYNOPSIS
 *	#include "policy/tp_policy.h"
 *
 *	struct tp_policy *tp_policy_load(const char *path,
 *					 struct tp_errors *errs);
 *	struct tp_policy *tp_policy_ref(struct tp_policy *policy);
 *	void	tp_policy_unref(struct tp_policy *policy);
 *
 *	int	tp_policy_decide(const struct tp_policy *policy,
 *				 const struct tp_query *query,
 *				 struct tp_decision *decision);
 * DESCRIPTION
 *	This is the whole interface that the milter and tlspolicyctl use.
 *	The engine knows nothing of libmilter: callers translate what the
 *	MTA said into a struct tp_query (see tp_tls.h for the TLS part)
 *	and turn the struct tp_decision into an SMTP reply, a header and
 *	log records.
 *
 *	tp_policy_load() parses a policy file. A file with any error is
 *	refused as a whole: the result is NULL and every error is in errs
 *	as "FILE:LINE: what is wrong". A loaded policy is immutable, so
 *	any number of threads may call tp_policy_decide() on it at once.
 *
 *	tp_policy_ref() and tp_policy_unref() count references so that
 *	a reload can replace a policy while connections still use the
 *	old one; the last unref frees it. Both are thread-safe.
 *
 *	A policy file may include others ("include PATH|GLOB"); the set
 *	of files loads as one, and a rule's file is the file it is in.
 *	dest: rules (mail this MTA sends) and the starttls=off client
 *	rules are for the tools that hand the outbound half to the MTA:
 *	tp_policy_dest_next(), tp_policy_starttls_off_next() and
 *	tp_policy_dest_lookup() read them; tp_policy_decide() never uses
 *	a dest: rule.
 *
 *	tp_policy_decide() combines the rules that match one recipient
 *	with the session's TLS state. All strings in the decision point
 *	into the policy or into the decision itself: the decision is
 *	valid as long as the caller holds its reference to the policy.
 * DIAGNOSTICS
 *	tp_policy_decide() returns 0 on success and -1 when the query
 *	cannot be decided (e.g. a client address that is not an address);
 *	decision->reason then says why, and the caller must tempfail.
 * MEMORY
 *	The caller owns errs (tp_errors_init/tp_errors_free) and the
 *	decision (a plain struct, nothing to free).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/tp_names.h"
#include "policy/tp_tls.h"
#include "util/tp_errors.h"

/* Levels, in order of strictness; exempt overrides everything. */
enum tp_level {
	TP_LEVEL_SKIP,
	TP_LEVEL_PREFER,
	TP_LEVEL_REQUIRE,
	TP_LEVEL_EXEMPT,
};

/* Actions of a failed require, least severe first. */
enum tp_action {
	TP_ACTION_TAG,
	TP_ACTION_QUARANTINE,
	TP_ACTION_TEMPFAIL,
	TP_ACTION_REJECT,
};

/* Selector kinds. */
enum tp_kind {
	TP_KIND_DEFAULT,
	TP_KIND_SENDER,		/* sender:DOMAIN, sender:.DOMAIN, sender:<> */
	TP_KIND_RCPT,		/* rcpt:DOMAIN, rcpt:.DOMAIN, rcpt:LOCAL@DOMAIN */
	TP_KIND_CLIENT_ADDR,	/* client:IP[/PREFIX] */
	TP_KIND_CLIENT_NAME,	/* client:HOST, client:.DOMAIN */
	TP_KIND_DEST,		/* dest:DOMAIN, dest:.DOMAIN: mail this MTA sends */
};
#define TP_KIND_COUNT	(TP_KIND_DEST + 1)

/* verify= of a dest: rule (tp_rule.verify); inbound rules use 0 and 1. */
enum tp_dest_verify {
	TP_DEST_VERIFY_NONE,		/* any certificate will do */
	TP_DEST_VERIFY_YES,		/* verify=yes, or implied by cert_subject= */
	TP_DEST_VERIFY_DANE,		/* verify=dane: DANE only (RFC 7672) */
};

/* What a recipient's decision came to. */
enum tp_result {
	TP_RESULT_PASS,		/* every requirement held */
	TP_RESULT_FAIL,		/* a require rule failed: see action, testing */
	TP_RESULT_UNMET,	/* a prefer rule was not met; never blocks */
	TP_RESULT_SKIP,		/* nothing to check */
	TP_RESULT_EXEMPT,	/* an exempt rule matched */
};

/* The requirements a rule can make, as bits (unmet ones are reported). */
#define TP_REQ_TLS		(1u << 0)	/* any TLS at all */
#define TP_REQ_VERSION		(1u << 1)
#define TP_REQ_BITS		(1u << 2)
#define TP_REQ_VERIFY		(1u << 3)
#define TP_REQ_SUBJECT		(1u << 4)
#define TP_REQ_ISSUER		(1u << 5)

/* One rule as written in the policy file. Immutable after load. */
struct tp_rule {
	const char *selector;		/* as written, e.g. "sender:.bank.example" */
	const char *file;		/* policy file name (shared) */
	uint32_t line;			/* line number in file */
	uint8_t kind;			/* enum tp_kind */
	uint8_t level;			/* enum tp_level */
	uint8_t action;			/* enum tp_action */
	uint8_t min_version;		/* enum tp_tls_version; 0: no minimum */
	uint8_t testing;		/* mode=testing */
	uint8_t verify;			/* verify=yes (or implied by cert_*) */
	uint16_t min_bits;		/* 0: no minimum */
	const char *cert_subject;	/* NULL: not required */
	const char *cert_issuer;	/* NULL: not required */
	const char *reply;		/* NULL: default reply text */
};

/* One recipient to decide, with the session it arrived in. */
struct tp_query {
	const char *client_addr;	/* IPv4/IPv6 text, NULL if unknown */
	const char *client_name;	/* verified host name, NULL if none */
	const char *sender;		/* MAIL FROM address; "" or "<>": null */
	const char *rcpt;		/* RCPT TO address */
	const struct tp_tls_state *tls;	/* NULL: plaintext */
	bool dry_run;			/* treat every rule as mode=testing */
	const char *rcpt_delimiter;	/* recipient_delimiter; NULL: "+" */
};

/* Postfix's recipient_delimiter as Debian sets it. */
#define TP_RCPT_DELIMITER	"+"

/* addr, name, sender, one rcpt rule per reading of the address, default */
#define TP_DECISION_MAX_RULES	(4 + TP_READINGS_MAX)
#define TP_REASON_MAX		512

/* The answer for one recipient. */
struct tp_decision {
	enum tp_result result;
	enum tp_level level;		/* effective (strictest) level */
	enum tp_action action;		/* with TP_RESULT_FAIL: what to do */
	bool testing;			/* FAIL in testing mode: would have acted */
	unsigned unmet;			/* TP_REQ_* bits not met by any rule */
	const struct tp_rule *rules[TP_DECISION_MAX_RULES];
	unsigned rule_unmet[TP_DECISION_MAX_RULES];	/* TP_REQ_* per rule */
	size_t nrules;			/* every rule that took part */
	const struct tp_rule *decider;	/* rule that decided; NULL: none */
	const char *reply_code;		/* "530", "550", "450", "451" or NULL */
	const char *reply_xcode;	/* "5.7.0" etc. or NULL */
	char reason[TP_REASON_MAX];	/* plain text: why, for logs and reply */
	char reply_text[TP_REASON_MAX];	/* text after the codes */
};

struct tp_policy;

extern struct tp_policy *tp_policy_load(const char *, struct tp_errors *);
extern struct tp_policy *tp_policy_ref(struct tp_policy *);
extern void tp_policy_unref(struct tp_policy *);
extern int tp_policy_decide(const struct tp_policy *, const struct tp_query *,
			    struct tp_decision *);

/* Summary for "tlspolicyctl check" and for the daemon's start-up log. */
struct tp_policy_summary {
	size_t rules;
	size_t by_kind[TP_KIND_COUNT];
	enum tp_level default_level;
	bool has_default;
};
extern void tp_policy_summarize(const struct tp_policy *,
				struct tp_policy_summary *);
extern const char *tp_policy_file(const struct tp_policy *);

/*
 * What a dest: rule, or a client rule with starttls=off, says beyond its
 * struct tp_rule (which holds selector, file, line, kind, level,
 * min_version, min_bits, testing; for dest: rules verify is an enum
 * tp_dest_verify and cert_subject the names joined with ",").
 */
struct tp_outbound {
	const struct tp_rule *rule;
	const char *target;		/* canonical domain, host name or
					 * ADDRESS[/PREFIX], without "dest:" or
					 * "client:" and without the leading "." */
	bool	subdomains;		/* dest:.DOMAIN, client:.DOMAIN */
	bool	starttls_off;		/* client: ... skip starttls=off */
	enum tp_dest_verify verify;	/* dest: rules */
	size_t	nnames;			/* cert_subject names */
	const char *const *names;	/* lower case A-labels, or "*." and one;
					 * NULL when nnames is 0 */
};

/*
 * Read-only walks over a loaded policy, in the order the rules were
 * read (a rule of an including file takes the place of the included
 * rule it shadows). *iter starts at 0; NULL at the end. dest: rules are
 * for tools (check, explain --dest, export): tp_policy_decide() never
 * uses them.
 */
extern const struct tp_rule *tp_policy_rule_next(const struct tp_policy *, size_t *);
extern const struct tp_outbound *tp_policy_dest_next(const struct tp_policy *, size_t *);
extern const struct tp_outbound *tp_policy_starttls_off_next(const struct tp_policy *,
							     size_t *);
/* The outbound part of a rule of this policy; NULL if it has none. */
extern const struct tp_outbound *tp_policy_outbound(const struct tp_policy *,
						    const struct tp_rule *);
/* A dest: or starttls=off rule back as policy text. */
extern void tp_outbound_format(const struct tp_outbound *, char *, size_t);

/*
 * The dest: rule for mail sent to a domain, as rcpt: rules are found:
 * dest:DOMAIN, else dest:.PARENT for the nearest parent. 1 and *rule,
 * 0 (no rule, *rule NULL), or -1 when domain is no valid name (*why).
 * The domain may be written with U-labels and in any case.
 */
extern int tp_policy_dest_lookup(const struct tp_policy *, const char *,
				 const struct tp_outbound **, const char **);
extern const char *tp_dest_verify_name(enum tp_dest_verify);

/*
 * The require rules that would still apply to mail from the client of a
 * starttls=off rule: their number; the first max of them in out[].
 */
extern size_t tp_policy_starttls_conflicts(const struct tp_policy *,
					   const struct tp_outbound *,
					   const struct tp_rule **, size_t);

/* A rule of an included file that the including file overrides. */
struct tp_shadowed {
	const char *selector;		/* canonical, as in struct tp_rule */
	const char *file;		/* the shadowed rule */
	uint32_t line;
	const char *by_file;		/* the rule in force */
	uint32_t by_line;
};
extern size_t tp_policy_shadowed(const struct tp_policy *,
				 const struct tp_shadowed **);

/* Every file the policy was read from, the main one first. */
extern size_t tp_policy_file_count(const struct tp_policy *);
extern const char *tp_policy_file_at(const struct tp_policy *, size_t);
/* Has file i another inode, size or time than when read? 1, 0, -1: error. */
extern int tp_policy_file_changed(const struct tp_policy *, size_t);

/* One rule on its own: what it did not get, why, what it says. */
extern unsigned tp_rule_unmet(const struct tp_rule *,
			      const struct tp_tls_state *);
extern void tp_rule_reason(const struct tp_rule *, unsigned,
			   const struct tp_query *, char *, size_t);
extern void tp_rule_format(const struct tp_rule *, char *, size_t);

/* Names, for output and logs. */
extern const char *tp_level_name(enum tp_level);
extern const char *tp_action_name(enum tp_action);
extern const char *tp_action_past(enum tp_action);
extern const char *tp_result_name(enum tp_result);

#endif
