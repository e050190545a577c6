/*
 * NAME
 *	fuzz_macros 1
 * SUMMARY
 *	libFuzzer target: Postfix's and Sendmail's macros to a TLS state
 * SYNOPSIS
 *	fuzz_macros [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is one byte that says how the session uses TLS (its
 *	value modulo 3: plaintext, STARTTLS, implicit), then the macro
 *	values separated by NUL bytes: {tls_version}, {cipher},
 *	{cipher_bits}, {verify}, {cert_subject}, {cert_issuer},
 *	{cn_subject}, {cn_issuer}, {client_name}, {client_resolve}. A
 *	value of the one byte 0x01, or one past the last, is a macro the
 *	MTA did not send (NULL); "" is one it sent empty.
 *
 *	tp_tls_macros_normalize() and tp_tls_state_from() (policy/macros.c)
 *	must give names that fit, Postfix's names as sent (cut to fit),
 *	a state that points into the macros and names, cipher bits that
 *	are the macro's number or -1, and certificate names only for a
 *	certificate the MTA looked at. tp_client_name_verified() returns
 *	the name or NULL, never a bracketed address or "unknown".
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/tp_macros.h"
#include "tests/fuzz/fuzz.h"

enum {
	M_VERSION, M_CIPHER, M_BITS, M_VERIFY, M_SUBJECT, M_ISSUER, M_CN_SUBJECT,
	M_CN_ISSUER, M_CLIENT_NAME, M_CLIENT_RESOLVE, M_FIELDS,
};

/* check_name - one decoded name: fits; Postfix's is the macro, cut */

static void
check_name(const char *name, int sendmail, const char *raw)
{
	size_t	len = strnlen(name, TP_CERT_NAME_MAX);

	FUZZ_ASSERT(len < TP_CERT_NAME_MAX, "name of %zu bytes", len);
	if (sendmail)
		return;
	if (raw == NULL) {
		FUZZ_ASSERT(len == 0, "Postfix sent no name, got \"%s\"", name);
		return;
	}
	FUZZ_ASSERT(len == strnlen(raw, TP_CERT_NAME_MAX - 1) && strncmp(name, raw, len) == 0,
		    "Postfix sent \"%s\", got \"%s\"", raw, name);
}

/* check_bits - the macro's number, or -1 */

static void
check_bits(const char *raw, int bits)
{
	char   *end;
	long	n;

	if (raw == NULL || *raw == 0) {
		FUZZ_ASSERT(bits == -1, "no {cipher_bits}, got %d", bits);
		return;
	}
	n = strtol(raw, &end, 10);
	FUZZ_ASSERT(bits == (*end == 0 && n >= 0 && n <= 65535 ? n : -1),
		    "{cipher_bits} \"%s\" gave %d", raw, bits);
}

/* check_state - the engine's view of the session */

static void
check_state(const struct tp_tls_macros *raw, const struct tp_tls_names *names,
	    enum tp_tls_how how, const struct tp_tls_state *tls)
{
	FUZZ_ASSERT(tls->how == how, "how %d, want %d", tls->how, how);
	if (how == TP_TLS_HOW_NONE) {
		FUZZ_ASSERT(tls->version == NULL && tls->cipher == NULL && tls->cert_subject == NULL
			    && tls->cert_issuer == NULL && tls->verify == TP_VERIFY_NONE,
			    "plaintext with TLS details");
		return;
	}
	FUZZ_ASSERT(tls->version == raw->version && tls->verify_raw == raw->verify,
		    "state does not point at the macros");
	FUZZ_ASSERT(tls->version_id == tp_tls_version_parse(raw->version), "version");
	FUZZ_ASSERT(tls->cipher == NULL || tls->cipher == raw->cipher, "cipher");
	check_bits(raw->bits, tls->bits);
	FUZZ_ASSERT(tls->cert_subject == NULL || tls->cert_subject == names->subject, "subject");
	FUZZ_ASSERT(tls->cert_issuer == NULL || tls->cert_issuer == names->issuer, "issuer");
	if (raw->verify != NULL)
		FUZZ_ASSERT(tls->verify == tp_verify_parse(raw->verify), "{verify} %s gave %s",
			    raw->verify, tp_verify_name(tls->verify));
	if (tls->verify != TP_VERIFY_OK && tls->verify != TP_VERIFY_FAIL)
		FUZZ_ASSERT(tls->cert_subject == NULL && tls->cert_issuer == NULL,
			    "names of a certificate nobody verified");
	else
		FUZZ_ASSERT((tls->cert_subject != NULL) == (names->subject[0] != 0)
			    && (tls->cert_issuer != NULL) == (names->issuer[0] != 0),
			    "names of a verified certificate left out");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *text;
	const char *m[M_FIELDS] = {NULL};
	struct tp_tls_macros raw;
	struct tp_tls_names names;
	struct tp_tls_state tls;
	enum tp_tls_how how;
	const char *client;
	int	sendmail;

	if (size == 0)
		return (0);
	FUZZ_ASSERT((text = malloc(size)) != NULL, "out of memory");
	memcpy(text, data + 1, size - 1);
	how = (enum tp_tls_how)(data[0] % 3);
	fuzz_fields(text, size - 1, m, M_FIELDS);
	for (int i = 0; i < M_FIELDS; i++)
		if (m[i] != NULL && strcmp(m[i], "\001") == 0)
			m[i] = NULL;
	raw = (struct tp_tls_macros) {
		m[M_VERSION], m[M_CIPHER], m[M_BITS], m[M_VERIFY], m[M_SUBJECT],
		m[M_ISSUER], m[M_CN_SUBJECT], m[M_CN_ISSUER],
	};
	sendmail = raw.verify != NULL || raw.cn_subject != NULL || raw.cn_issuer != NULL;
	tp_tls_macros_normalize(&raw, &names);
	check_name(names.subject, sendmail, raw.cert_subject);
	check_name(names.issuer, sendmail, raw.cert_issuer);
	tp_tls_state_from(&raw, &names, how, &tls);
	check_state(&raw, &names, how, &tls);
	client = tp_client_name_verified(m[M_CLIENT_NAME], m[M_CLIENT_RESOLVE]);
	FUZZ_ASSERT(client == NULL || (client == m[M_CLIENT_NAME] && client[0] != '['
				       && client[0] != 0 && strcasecmp(client, "unknown") != 0),
		    "client name \"%s\" taken as verified", client);
	free(text);
	return (0);
}
