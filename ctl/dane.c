/*
 * NAME
 *	dane 3
 * SUMMARY
 *	match a server's certificate chain against TLSA records (RFC 7672)
 * SYNOPSIS
 *	#include "ctl/tp_dane.h"
 *
 *	int	tp_dane_match(const struct tp_dns_tlsa *recs, size_t n,
 *			      STACK_OF(X509) *chain,
 *			      const char *const *names, size_t nnames,
 *			      struct tp_dane_result *res);
 *	const char *tp_dane_usage_name(unsigned usage);
 *	const char *tp_dane_selector_name(unsigned selector);
 *	const char *tp_dane_mtype_name(unsigned mtype);
 * DESCRIPTION
 *	The matching is OpenSSL's own (the code Postfix relies on): a
 *	throw-away SSL object gets the records with SSL_dane_tlsa_add(),
 *	and the peer's chain is verified with X509_verify_cert() under
 *	that SSL object's DANE state, as libssl does during a handshake
 *	(ssl_verify_cert_chain). The trust store is empty: DANE-TA(2)
 *	and DANE-EE(3), the usages SMTP uses, need none, and PKIX-TA(0)
 *	and PKIX-EE(1) are not added (RFC 7672 section 3.1.3). See
 *	tp_dane.h for the contract.
 * DIAGNOSTICS
 *	res->why: OpenSSL's verification error in words.
 * MEMORY
 *	Everything made here is freed here.
 */

/* System library. */
#include <stdio.h>
#include <string.h>

/* Outside libraries. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

/* Application-specific. */
#include "ctl/tp_dane.h"

#define USAGE_DANE_TA	2

/* tp_dane_usage_name - RFC 7218's acronym of a usage */

const char *
tp_dane_usage_name(unsigned usage)
{
	static const char *const names[] = {"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"};

	return (usage < 4 ? names[usage] : "unknown-usage");
}

/* tp_dane_selector_name - RFC 7218's acronym of a selector */

const char *
tp_dane_selector_name(unsigned selector)
{
	return (selector == 0 ? "Cert" : selector == 1 ? "SPKI" : "unknown-selector");
}

/* tp_dane_mtype_name - RFC 7218's acronym of a matching type */

const char *
tp_dane_mtype_name(unsigned mtype)
{
	static const char *const names[] = {"Full", "SHA2-256", "SHA2-512"};

	return (mtype < 3 ? names[mtype] : "unknown-mtype");
}

/* add_records - the usable records into ssl; the count */

static size_t
add_records(SSL *ssl, const struct tp_dns_tlsa *recs, size_t n)
{
	size_t	usable = 0;

	for (size_t i = 0; i < n; i++) {
		if (recs[i].usage < USAGE_DANE_TA)
			continue;		/* PKIX-*: not for SMTP */
		/* 0: unusable (unknown type, wrong digest length): skipped */
		if (SSL_dane_tlsa_add(ssl, recs[i].usage, recs[i].selector,
				      recs[i].mtype, recs[i].data, recs[i].len) > 0)
			usable++;
	}
	ERR_clear_error();
	return (usable);
}

/* which - the index in recs of the record OpenSSL says matched */

static void
which(SSL *ssl, const struct tp_dns_tlsa *recs, size_t n,
      struct tp_dane_result *res)
{
	const unsigned char *data = NULL;
	uint8_t	usage = 0, selector = 0, mtype = 0;
	size_t	dlen = 0;

	res->depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &dlen);
	res->usage = usage;
	res->selector = selector;
	res->mtype = mtype;
	for (size_t i = 0; i < n; i++)
		if (recs[i].usage == usage && recs[i].selector == selector
		    && recs[i].mtype == mtype && recs[i].len == dlen
		    && memcmp(recs[i].data, data, dlen) == 0) {
			res->index = i;
			break;
		}
}

/* verify - X509_verify_cert under ssl's DANE state: 1, 0, -1 */

static int
verify(SSL *ssl, STACK_OF(X509) *chain, struct tp_dane_result *res)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *xs = X509_STORE_CTX_new();
	int	ret = -1;

	if (store == NULL || xs == NULL
	    || !X509_STORE_CTX_init(xs, store, sk_X509_value(chain, 0), chain)) {
		snprintf(res->why, sizeof(res->why), "out of memory");
		goto out;
	}
	/* What libssl's ssl_verify_cert_chain() does for a client. */
	X509_STORE_CTX_set_default(xs, "ssl_server");
	X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xs), SSL_get0_param(ssl));
	X509_STORE_CTX_set0_dane(xs, SSL_get0_dane(ssl));
	if (X509_verify_cert(xs) > 0) {
		SSL_set_verify_result(ssl, X509_V_OK);
		ret = 1;
	} else {
		snprintf(res->why, sizeof(res->why), "no TLSA record matches: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
		ret = 0;
	}
out:
	X509_STORE_CTX_free(xs);
	X509_STORE_free(store);
	ERR_clear_error();
	return (ret);
}

/* setup - an SSL object with DANE on for names; NULL and why */

static SSL *
setup(SSL_CTX *ctx, const char *const *names, size_t nnames,
      struct tp_dane_result *res)
{
	SSL    *ssl;

	if (SSL_CTX_dane_enable(ctx) <= 0 || (ssl = SSL_new(ctx)) == NULL) {
		snprintf(res->why, sizeof(res->why), "OpenSSL has no DANE support "
			 "here, or out of memory");
		return (NULL);
	}
	if (SSL_dane_enable(ssl, names[0]) <= 0) {
		snprintf(res->why, sizeof(res->why), "%s: not a name DANE can use",
			 names[0]);
		SSL_free(ssl);
		return (NULL);
	}
	for (size_t i = 1; i < nnames; i++)
		if (!SSL_add1_host(ssl, names[i])) {
			snprintf(res->why, sizeof(res->why), "%s: not a name DANE "
				 "can use", names[i]);
			SSL_free(ssl);
			return (NULL);
		}
	/* RFC 7672 section 3.1.1: DANE-EE(3) ignores names. */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	return (ssl);
}

/* tp_dane_match - does a record authenticate the chain? 1, 0, -1 */

int
tp_dane_match(const struct tp_dns_tlsa *recs, size_t n, STACK_OF(X509) *chain,
	      const char *const *names, size_t nnames,
	      struct tp_dane_result *res)
{
	SSL_CTX *ctx = NULL;
	SSL    *ssl = NULL;
	int	ret = -1;

	memset(res, 0, sizeof(*res));
	if (chain == NULL || sk_X509_num(chain) < 1 || nnames == 0) {
		snprintf(res->why, sizeof(res->why), chain == NULL || sk_X509_num(chain) < 1
			 ? "no certificate chain" : "no name to match");
		return (-1);
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(res->why, sizeof(res->why), "out of memory");
		goto out;
	}
	if ((ssl = setup(ctx, names, nnames, res)) == NULL)
		goto out;
	if ((res->usable = add_records(ssl, recs, n)) == 0) {
		snprintf(res->why, sizeof(res->why), "no usable TLSA records "
			 "(only PKIX-TA/PKIX-EE, or types OpenSSL does not know)");
		ret = 0;
		goto out;
	}
	if ((ret = verify(ssl, chain, res)) == 1)
		which(ssl, recs, n, res);
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return (ret);
}
