/*
 * NAME
 *	tls 3
 * SUMMARY
 *	parse and name TLS versions and verify results
 * DESCRIPTION
 *	See tp_tls.h.
 */

#include <stddef.h>
#include <strings.h>

#include "policy/tp_tls.h"

static const struct {
	const char *name;
	enum tp_tls_version version;
} version_names[] = {
	{"TLSv1", TP_TLS_V1_0},
	{"TLSv1.0", TP_TLS_V1_0},
	{"TLSv1.1", TP_TLS_V1_1},
	{"TLSv1.2", TP_TLS_V1_2},
	{"TLSv1.3", TP_TLS_V1_3},
};

/* tp_tls_version_parse - map an MTA's version string to an ordered value */

enum tp_tls_version
tp_tls_version_parse(const char *text)
{
	if (text == NULL || *text == 0)
		return (TP_TLS_NO_VERSION);
	for (size_t i = 0; i < sizeof(version_names) / sizeof(version_names[0]); i++)
		if (strcasecmp(text, version_names[i].name) == 0)
			return (version_names[i].version);
	return (TP_TLS_UNKNOWN);
}

/* tp_tls_version_name - canonical spelling of a version */

const char *
tp_tls_version_name(enum tp_tls_version version)
{
	switch (version) {
	case TP_TLS_V1_0:
		return ("TLSv1");
	case TP_TLS_V1_1:
		return ("TLSv1.1");
	case TP_TLS_V1_2:
		return ("TLSv1.2");
	case TP_TLS_V1_3:
		return ("TLSv1.3");
	case TP_TLS_UNKNOWN:
		return ("unknown");
	case TP_TLS_NO_VERSION:
		break;
	}
	return ("none");
}

/* tp_verify_parse - map Sendmail's {verify} to a verdict */

enum tp_verify
tp_verify_parse(const char *text)
{
	/* NO: none presented; NOT: none asked for; NONE: no STARTTLS at all. */
	if (text == NULL || *text == 0 || strcasecmp(text, "NO") == 0
	    || strcasecmp(text, "NOT") == 0 || strcasecmp(text, "NONE") == 0)
		return (TP_VERIFY_NONE);
	if (strcasecmp(text, "OK") == 0)
		return (TP_VERIFY_OK);
	if (strcasecmp(text, "FAIL") == 0)
		return (TP_VERIFY_FAIL);
	return (TP_VERIFY_UNKNOWN);
}

/* tp_verify_name - name of a verify verdict, for logs */

const char *
tp_verify_name(enum tp_verify verify)
{
	switch (verify) {
	case TP_VERIFY_OK:
		return ("ok");
	case TP_VERIFY_FAIL:
		return ("fail");
	case TP_VERIFY_UNKNOWN:
		return ("unknown");
	case TP_VERIFY_NONE:
		break;
	}
	return ("none");
}

/* tp_tls_how_name - name of how TLS came about */

const char *
tp_tls_how_name(enum tp_tls_how how)
{
	switch (how) {
	case TP_TLS_HOW_STARTTLS:
		return ("starttls");
	case TP_TLS_HOW_IMPLICIT:
		return ("implicit");
	case TP_TLS_HOW_NONE:
		break;
	}
	return ("none");
}
