/*
 * NAME
 *	macros 3
 * SUMMARY
 *	one TLS state from Postfix's or Sendmail's milter macros
 * DESCRIPTION
 *	See tp_macros.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/tp_escape.h"
#include "policy/tp_macros.h"

/* present - a macro value that says something */

static int
present(const char *v)
{
	return (v != NULL && *v != 0);
}

/* copy_capped - copy what fits, always terminated */

static void
copy_capped(char *out, size_t size, const char *in)
{
	size_t	len = strlen(in);

	if (len >= size)
		len = size - 1;
	memcpy(out, in, len);
	out[len] = 0;
}

/* common_name - the CN of a DN like "/O=Org/CN=Name" or "CN=Name,O=Org" */

static void
common_name(const char *dn, char *out, size_t size)
{
	const char *cn = NULL;
	size_t	len;

	/* Take the last CN=, as the most specific, in either DN style. */
	for (const char *p = dn; (p = strstr(p, "CN=")) != NULL; p += 3)
		if (p == dn || p[-1] == '/' || p[-1] == ',' || p[-1] == ' ')
			cn = p + 3;
	if (cn == NULL) {
		out[0] = 0;
		return;
	}
	len = strcspn(cn, "/,");
	copy_capped(out, len + 1 < size ? len + 1 : size, cn);
}

/* from_sendmail - did Sendmail send these? Postfix knows none of its own */

static int
from_sendmail(const struct tp_tls_macros *raw)
{
	return (raw->verify != NULL || raw->cn_subject != NULL || raw->cn_issuer != NULL);
}

/* one_name - common name: Postfix's as sent, Sendmail's decoded from xtext */

static void
one_name(int sendmail, const char *cn, const char *dn, char *out, size_t size)
{
	char	decoded[TP_CERT_NAME_MAX * 2];

	out[0] = 0;
	if (!sendmail) {
		/* The bare CN, not xtext: "+2E" in it is literal, not a dot. */
		if (dn != NULL)
			copy_capped(out, size, dn);
	} else if (present(cn)) {
		tp_xtext_decode(cn, out, size);
	} else if (present(dn)) {
		tp_xtext_decode(dn, decoded, sizeof(decoded));
		/* A DN with no CN is kept whole, so the audit shows something. */
		if (strstr(decoded, "CN=") != NULL)
			common_name(decoded, out, size);
		else
			copy_capped(out, size, decoded);
	}
}

/* tp_tls_macros_normalize - common names, decoded where the MTA encoded them */

void
tp_tls_macros_normalize(const struct tp_tls_macros *raw, struct tp_tls_names *names)
{
	int	sendmail = from_sendmail(raw);

	one_name(sendmail, raw->cn_subject, raw->cert_subject, names->subject, sizeof(names->subject));
	one_name(sendmail, raw->cn_issuer, raw->cert_issuer, names->issuer, sizeof(names->issuer));
}

/* parse_bits - {cipher_bits}, or -1 */

static int
parse_bits(const char *text)
{
	char   *end;
	long	n;

	if (!present(text))
		return (-1);
	n = strtol(text, &end, 10);
	return (*end == 0 && n >= 0 && n <= 65535 ? (int)n : -1);
}

/* tp_tls_state_from - the engine's view of the session's TLS */

void
tp_tls_state_from(const struct tp_tls_macros *raw, const struct tp_tls_names *names,
		  enum tp_tls_how how, struct tp_tls_state *tls)
{
	memset(tls, 0, sizeof(*tls));
	tls->how = how;
	if (how == TP_TLS_HOW_NONE)
		return;
	tls->version = raw->version;
	tls->version_id = tp_tls_version_parse(raw->version);
	tls->cipher = present(raw->cipher) ? raw->cipher : NULL;
	tls->bits = parse_bits(raw->bits);
	tls->verify_raw = raw->verify;
	tls->cert_subject = names->subject[0] ? names->subject : NULL;
	tls->cert_issuer = names->issuer[0] ? names->issuer : NULL;
	/*
	 * Postfix sends the names only for a certificate it trusted, and a
	 * CN may be empty: any name counts, not only the subject. Both
	 * empty is how Sendmail, not asked for {verify}, says "none".
	 */
	if (raw->verify != NULL)
		tls->verify = tp_verify_parse(raw->verify);
	else
		tls->verify = present(raw->cert_subject) || present(raw->cert_issuer)
		    ? TP_VERIFY_OK : TP_VERIFY_NONE;
	/* Names of a certificate nobody verified prove nothing. */
	if (tls->verify != TP_VERIFY_OK && tls->verify != TP_VERIFY_FAIL) {
		tls->cert_subject = NULL;
		tls->cert_issuer = NULL;
	}
}

/* tp_client_name_verified - the name host name rules may match, or NULL */

const char *
tp_client_name_verified(const char *name, const char *resolve)
{
	if (!present(name) || name[0] == '[' || strcasecmp(name, "unknown") == 0)
		return (NULL);
	if (resolve != NULL && strcasecmp(resolve, "OK") != 0)
		return (NULL);
	return (name);
}
