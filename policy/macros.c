/*
 * NAME
 *	macros 3
 * SUMMARY
 *	one TLS state from Postfix's or Sendmail's milter macros
 * DESCRIPTION
 *	See tp_macros.h.
 */

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/tp_escape.h"
#include "policy/tp_macros.h"

#define TLS_MACRO(name, field) {name, offsetof(struct tp_tls_macros, field)}

/* The TLS macros, and where each one goes. */
static const struct tp_tls_macro tls_macros[] = {
	TLS_MACRO("{tls_version}", version),
	TLS_MACRO("{cipher}", cipher),
	TLS_MACRO("{cipher_bits}", bits),
	TLS_MACRO("{verify}", verify),
	TLS_MACRO("{cert_subject}", cert_subject),
	TLS_MACRO("{cert_issuer}", cert_issuer),
	TLS_MACRO("{cn_subject}", cn_subject),
	TLS_MACRO("{cn_issuer}", cn_issuer),
};

static_assert(sizeof(struct tp_tls_macros) == TP_TLS_MACROS * sizeof(const char *),
	      "struct tp_tls_macros holds macro values only");
static_assert(sizeof(tls_macros) / sizeof(tls_macros[0]) == TP_TLS_MACROS,
	      "one TLS macro for each field of struct tp_tls_macros");

const struct tp_tls_macro *const tp_tls_macro_table = tls_macros;

/*
 * What each stage asks for: its own macros, the queue id (qid: "i") and
 * the TLS macros (tls). Only what the milter reads, as the MTA sends each
 * macro asked for with every command of its stage. at_rcpt: what RCPT
 * asks for besides when the earlier stages are negotiated away (their
 * own macros come too): the HELO name and the sender, which those
 * stages' arguments give.
 */
static const struct {
	const char *own;
	const char *at_rcpt;
	bool	qid;
	bool	tls;
}	stage_lists[TP_MACRO_STAGES] = {
	[TP_STAGE_CONNECT] = {"{daemon_name} {daemon_port} {daemon_flags} "
	"{client_addr} {client_name} {client_resolve}", "", false, true},
	[TP_STAGE_HELO] = {"", "s", false, true},
	[TP_STAGE_MAIL] = {"{auth_authen}", "{mail_addr}", true, true},
	[TP_STAGE_RCPT] = {"", "", true, true},
	[TP_STAGE_EOM] = {"", "", true, false},
};

/* tp_tls_macros_from - point each field at its value, values[] in table order */

void
tp_tls_macros_from(struct tp_tls_macros *raw, char *const values[TP_TLS_MACROS])
{
	for (size_t i = 0; i < TP_TLS_MACROS; i++)
		memcpy((char *)raw + tp_tls_macro_table[i].field, &values[i], sizeof(values[i]));
}

/* append - add one word to a list; false if it does not fit */

static bool
append(char *buf, size_t size, size_t *len, const char *word)
{
	size_t	wlen = strlen(word);
	size_t	sep = *len > 0 && wlen > 0;

	if (*len + sep + wlen >= size)
		return (false);
	if (sep)
		buf[(*len)++] = ' ';
	memcpy(buf + *len, word, wlen + 1);
	*len += wlen;
	return (true);
}

/* stage_words - append one stage's own words, and what it moves to RCPT */

static bool
stage_words(enum tp_macro_stage stage, bool moved, char *buf, size_t size, size_t *len)
{
	return (append(buf, size, len, stage_lists[stage].own)
		&& (!moved || append(buf, size, len, stage_lists[stage].at_rcpt)));
}

/* tp_macro_list - the macros to ask the MTA for at one stage */

size_t
tp_macro_list(enum tp_macro_stage stage, bool all_at_rcpt, char *buf, size_t size)
{
	size_t	len = 0;

	if (size == 0 || (unsigned)stage >= TP_MACRO_STAGES)
		return (0);
	buf[0] = 0;
	if (!stage_words(stage, false, buf, size, &len)
	    || (stage_lists[stage].qid && !append(buf, size, &len, "i")))
		return (0);
	/* Without connect, HELO and MAIL events, RCPT asks for theirs too. */
	for (int s = TP_STAGE_CONNECT; all_at_rcpt && stage == TP_STAGE_RCPT && s < TP_STAGE_RCPT; s++)
		if (!stage_words(s, true, buf, size, &len))
			return (0);
	for (size_t i = 0; stage_lists[stage].tls && i < TP_TLS_MACROS; i++)
		if (!append(buf, size, &len, tp_tls_macro_table[i].name))
			return (0);
	return (len);
}

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
