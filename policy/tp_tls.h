#ifndef TP_TLS_H
#define TP_TLS_H

/*
 * NAME
 *	tp_tls 3h
 * SUMMARY
 *	the TLS state of an SMTP session, as the engine sees it
 * SYNOPSIS
 *	#include "policy/tp_tls.h"
 *
 *	enum tp_tls_version tp_tls_version_parse(const char *text);
 *	const char *tp_tls_version_name(enum tp_tls_version version);
 *	enum tp_verify tp_verify_parse(const char *text);
 *	const char *tp_verify_name(enum tp_verify verify);
 *	const char *tp_tls_how_name(enum tp_tls_how how);
 * DESCRIPTION
 *	A struct tp_tls_state is what the milter (or tlspolicyctl's
 *	command line) knows of a session's TLS: it does not own its
 *	strings. Versions are ordered so that "at least" is a plain
 *	comparison; a version string the engine does not know parses as
 *	TP_TLS_UNKNOWN, which ranks below every minimum (the raw string
 *	stays in the state so that it is recorded as seen).
 *
 *	tp_verify_parse() maps Sendmail's {verify} values: OK is the only
 *	verified result; NO, NOT and NONE mean no certificate (none sent,
 *	none asked for, no STARTTLS); every other value (FAIL, CLEAR,
 *	TEMP, PROTOCOL, SOFTWARE, garbage) counts as not verified.
 */

#include <stdbool.h>

enum tp_tls_version {
	TP_TLS_NO_VERSION,		/* plaintext, or "no minimum" in a rule */
	TP_TLS_UNKNOWN,			/* a version string we do not know */
	TP_TLS_V1_0,
	TP_TLS_V1_1,
	TP_TLS_V1_2,
	TP_TLS_V1_3,
};

enum tp_verify {
	TP_VERIFY_NONE,			/* no client certificate presented */
	TP_VERIFY_OK,			/* presented and verified by the MTA */
	TP_VERIFY_FAIL,			/* presented, not verified */
	TP_VERIFY_UNKNOWN,		/* the MTA said something else */
};

/* How the session came to use TLS. */
enum tp_tls_how {
	TP_TLS_HOW_NONE,		/* plaintext */
	TP_TLS_HOW_STARTTLS,		/* RFC 3207 upgrade */
	TP_TLS_HOW_IMPLICIT,		/* TLS from connect (port 465) */
};

struct tp_tls_state {
	enum tp_tls_how how;		/* NONE: every other field is ignored */
	const char *version;		/* raw, e.g. "TLSv1.3"; may be NULL */
	enum tp_tls_version version_id;	/* parsed version */
	const char *cipher;		/* may be NULL */
	int	bits;			/* cipher strength; < 0: unknown */
	enum tp_verify verify;
	const char *verify_raw;		/* the MTA's own word, may be NULL */
	const char *cert_subject;	/* common name; NULL: none */
	const char *cert_issuer;	/* common name; NULL: none */
};

extern enum tp_tls_version tp_tls_version_parse(const char *);
extern const char *tp_tls_version_name(enum tp_tls_version);
extern enum tp_verify tp_verify_parse(const char *);
extern const char *tp_verify_name(enum tp_verify);
extern const char *tp_tls_how_name(enum tp_tls_how);

#endif
