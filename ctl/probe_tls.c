/*
 * NAME
 *	probe_tls 3
 * SUMMARY
 *	tlspolicyctl probe: TLS handshakes and what they show (OpenSSL)
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	struct tp_probe_tls_ctx *tp_probe_tls_new(const char *ca,
 *				  char *why, size_t len);
 *	void	tp_probe_tls_free(struct tp_probe_tls_ctx *tls);
 *	int	tp_probe_tls_can_offer(struct tp_probe_tls_ctx *tls,
 *				  int version, int *seclevel0);
 *	int	tp_probe_tls_handshake(struct tp_probe_tls_ctx *tls,
 *				  struct tp_probe_io *io, int version,
 *				  int seclevel0, const char *sni,
 *				  long deadline, char *why, size_t len);
 *	void	tp_probe_tls_describe(struct tp_probe_tls_ctx *tls,
 *				  struct tp_probe_io *io, const char *name,
 *				  struct tp_probe_result *r);
 *	int	tp_probe_tls_version(int i);
 *	const char *tp_probe_tls_version_name(int i);
 * DESCRIPTION
 *	tp_probe_tls_new() makes the client context of a run: the system's
 *	trust store plus ca (a PEM file, or NULL). Chains are verified
 *	but a failure does not stop the handshake (SSL_VERIFY_NONE): the
 *	probe wants to see the certificate either way. No client
 *	certificate is ever sent; that the server asked for one is
 *	recorded in io->ccert_requested.
 *
 *	tp_probe_tls_can_offer() says whether the local OpenSSL can send a
 *	ClientHello for version (TLS1_VERSION ...) at all: 1 or 0, found
 *	by a handshake into memory. TLS 1.0 and 1.1 need security level 0
 *	in OpenSSL 3 (their MD5/SHA-1 signatures are below level 1); for
 *	them *seclevel0 is set to 1 where the context's level is above 0.
 *
 *	tp_probe_tls_handshake() runs a client handshake on io->fd (which
 *	is non-blocking) until deadline (tp_probe_now_ms()), at version
 *	only (0: what the library offers by default), with sni as server
 *	name unless it is an address. It returns 1 with io->ssl set, 0
 *	with the reason in why, or TP_PROBE_TIMEOUT. io->peer_tls says
 *	whether the server sent a TLS alert or handshake message: a
 *	failed handshake with a server that speaks TLS, just not ours.
 *
 *	tp_probe_tls_describe() fills r->tls (version, cipher, bits,
 *	group, client certificate request and CA names) and r->cert
 *	(names, chain verification, match of name, validity, self-signed,
 *	incomplete chain) from the session on io.
 *
 *	tp_probe_tls_version() maps 0-3 to TLS 1.0-1.3;
 *	tp_probe_tls_version_name() to OpenSSL's names ("TLSv1.2").
 */

#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ctl/tp_dane.h"
#include "ctl/tp_probe.h"

struct tp_probe_tls_ctx {
	SSL_CTX *ctx;
};

static const int versions[TP_PROBE_NVERSIONS] = {
	TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION,
};
static const char *const version_names[TP_PROBE_NVERSIONS] = {
	"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3",
};

/* tp_probe_tls_version - OpenSSL's number of version i */

int
tp_probe_tls_version(int i)
{
	return (versions[i]);
}

/* tp_probe_tls_version_name - OpenSSL's name of version i */

const char *
tp_probe_tls_version_name(int i)
{
	return (version_names[i]);
}

/* client_cert_cb - the server asks for a certificate: note it, send none */

static int
client_cert_cb(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	struct tp_probe_io *io = SSL_get_app_data(ssl);

	(void) x509;
	(void) pkey;
	if (io != NULL)
		io->ccert_requested = 1;
	return (0);
}

/* msg_cb - a TLS alert or handshake message came from the server */

static void
msg_cb(int write_p, int version, int content_type, const void *buf,
       size_t len, SSL *ssl, void *arg)
{
	struct tp_probe_io *io = arg;

	(void) version;
	(void) buf;
	(void) len;
	(void) ssl;
	if (!write_p && (content_type == SSL3_RT_ALERT || content_type == SSL3_RT_HANDSHAKE))
		io->peer_tls = 1;
}

/* tp_probe_tls_new - the run's client context */

struct tp_probe_tls_ctx *
tp_probe_tls_new(const char *ca, char *why, size_t len)
{
	struct tp_probe_tls_ctx *tls = calloc(1, sizeof(*tls));

	if (tls == NULL || (tls->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(why, len, "cannot make a TLS context");
		goto fail;
	}
	if (SSL_CTX_set_default_verify_paths(tls->ctx) != 1) {
		snprintf(why, len, "cannot read the system's trust store");
		goto fail;
	}
	if (ca != NULL && SSL_CTX_load_verify_locations(tls->ctx, ca, NULL) != 1) {
		snprintf(why, len, "%s: no PEM certificate can be read from it", ca);
		goto fail;
	}
	SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_client_cert_cb(tls->ctx, client_cert_cb);
	SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_OFF);
	return (tls);
fail:
	tp_probe_tls_free(tls);
	return (NULL);
}

/* tp_probe_tls_free - the context; NULL is fine */

void
tp_probe_tls_free(struct tp_probe_tls_ctx *tls)
{
	if (tls == NULL)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls);
}

/* new_ssl - an SSL limited to version (0: any) at the security level asked */

static SSL *
new_ssl(struct tp_probe_tls_ctx *tls, int version, int seclevel0)
{
	SSL    *ssl = SSL_new(tls->ctx);

	if (ssl == NULL)
		return (NULL);
	if (version != 0 && (SSL_set_min_proto_version(ssl, version) != 1
			     || SSL_set_max_proto_version(ssl, version) != 1)) {
		SSL_free(ssl);
		return (NULL);
	}
	if (seclevel0) {
		SSL_set_security_level(ssl, 0);
		(void) SSL_set_cipher_list(ssl, "DEFAULT:@SECLEVEL=0");
	}
	return (ssl);
}

/* tp_probe_tls_can_offer - can this OpenSSL send a hello for version? */

int
tp_probe_tls_can_offer(struct tp_probe_tls_ctx *tls, int version, int *seclevel0)
{
	BIO    *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL    *ssl;
	int	ok = 0;

	*seclevel0 = version < TLS1_2_VERSION && SSL_CTX_get_security_level(tls->ctx) > 0;
	if (rb == NULL || wb == NULL || (ssl = new_ssl(tls, version, *seclevel0)) == NULL) {
		BIO_free(rb);
		BIO_free(wb);
		return (0);
	}
	SSL_set_bio(ssl, rb, wb);		/* ssl owns both now */
	ERR_clear_error();
	if (SSL_connect(ssl) != 1 && SSL_get_error(ssl, -1) == SSL_ERROR_WANT_READ)
		ok = BIO_ctrl_pending(wb) > 0;
	SSL_free(ssl);
	ERR_clear_error();
	return (ok);
}

/* is_address - an IPv4 or IPv6 literal (no SNI, IP name match) */

static int
is_address(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1);
}

/* handshake_error - why SSL_connect failed, in words */

static void
handshake_error(SSL *ssl, int rc, char *why, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	if (reason != NULL)
		snprintf(why, len, "%s", reason);
	else if (SSL_get_error(ssl, rc) == SSL_ERROR_SYSCALL
		 || SSL_get_error(ssl, rc) == SSL_ERROR_ZERO_RETURN)
		snprintf(why, len, "the server closed the connection");
	else
		snprintf(why, len, "TLS handshake failed");
	ERR_clear_error();
}

/* tp_probe_tls_handshake - TLS client handshake on io until deadline */

int
tp_probe_tls_handshake(struct tp_probe_tls_ctx *tls, struct tp_probe_io *io,
		       int version, int seclevel0, const char *sni,
		       long deadline, char *why, size_t len)
{
	char	host[256];			/* SSL_set_tlsext_host_name takes char * */
	int	rc, w;

	io->ccert_requested = 0;
	io->peer_tls = 0;
	if ((io->ssl = new_ssl(tls, version, seclevel0)) == NULL
	    || SSL_set_fd(io->ssl, io->fd) != 1) {
		snprintf(why, len, "cannot set up TLS locally");
		return (0);
	}
	SSL_set_app_data(io->ssl, io);
	SSL_set_msg_callback(io->ssl, msg_cb);
	SSL_set_msg_callback_arg(io->ssl, io);
	if (sni != NULL && *sni != 0 && !is_address(sni)
	    && (size_t) snprintf(host, sizeof(host), "%s", sni) < sizeof(host))
		(void) SSL_set_tlsext_host_name(io->ssl, host);
	for (;;) {
		ERR_clear_error();
		if ((rc = SSL_connect(io->ssl)) == 1)
			return (1);
		if ((w = tp_probe_tls_wait(io, rc, deadline)) == 0) {
			handshake_error(io->ssl, rc, why, len);
			return (0);
		}
		if (w == TP_PROBE_TIMEOUT) {
			snprintf(why, len, "no answer within the timeout");
			return (TP_PROBE_TIMEOUT);
		}
		if (w != 1) {
			snprintf(why, len, "the connection failed");
			return (0);
		}
	}
}

/*
 * tp_probe_tls_wait - after an OpenSSL call on io returned rc: wait until
 * it may be called again (1), TP_PROBE_TIMEOUT, -1 (poll failed), or 0 if
 * rc is an error, not a wish to read or write
 */

int
tp_probe_tls_wait(const struct tp_probe_io *io, int rc, long deadline)
{
	switch (SSL_get_error(io->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return (tp_probe_io_wait(io->fd, POLLIN, deadline));
	case SSL_ERROR_WANT_WRITE:
		return (tp_probe_io_wait(io->fd, POLLOUT, deadline));
	default:
		return (0);
	}
}

/* dn_text - a distinguished name on one line (RFC 2253, UTF-8), escaped */

static void
dn_text(const X509_NAME *dn, char *out, size_t size)
{
	BIO    *b = BIO_new(BIO_s_mem());
	char	raw[1024];
	int	n = 0;

	*out = 0;
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, dn, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		n = BIO_read(b, raw, sizeof(raw) - 1);
	raw[n > 0 ? n : 0] = 0;
	tp_probe_store(out, size, raw);
	BIO_free(b);
}

/* asn1_text - an ASN.1 string as UTF-8, escaped */

static void
asn1_text(const ASN1_STRING *s, char *out, size_t size)
{
	unsigned char *utf8 = NULL;
	char	raw[256];
	int	n = ASN1_STRING_to_UTF8(&utf8, s);

	if (n < 0)
		n = 0;
	if ((size_t) n >= sizeof(raw))
		n = sizeof(raw) - 1;
	memcpy(raw, utf8 ? (char *) utf8 : "", (size_t) n);
	raw[n] = 0;
	/* An embedded NUL ends the name here; it is not hidden past it. */
	tp_probe_store(out, size, raw);
	OPENSSL_free(utf8);
}

/* cert_names - the subject CN and the DNS and IP alternative names */

static void
cert_names(X509 *c, struct tp_probe_cert *pc)
{
	const X509_NAME *subj = X509_get_subject_name(c);
	int	i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	GENERAL_NAMES *gens;
	char	ip[INET6_ADDRSTRLEN];

	if (i >= 0)
		asn1_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)),
			  pc->cn, sizeof(pc->cn));
	gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	for (int j = 0; gens && j < sk_GENERAL_NAME_num(gens)
	     && pc->nnames < TP_PROBE_NAMES_MAX; j++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);

		if (g->type == GEN_DNS)
			asn1_text(g->d.dNSName, pc->names[pc->nnames++], sizeof(pc->names[0]));
		else if (g->type == GEN_IPADD && (g->d.iPAddress->length == 4
					     || g->d.iPAddress->length == 16)) {
			inet_ntop(g->d.iPAddress->length == 4 ? AF_INET : AF_INET6,
				  g->d.iPAddress->data, ip, sizeof(ip));
			snprintf(pc->names[pc->nnames++], sizeof(pc->names[0]), "%s", ip);
		}
	}
	GENERAL_NAMES_free(gens);
}

/* cert_validity - not after, days left, expired, not yet valid */

static void
cert_validity(X509 *c, struct tp_probe_cert *pc)
{
	const ASN1_TIME *na = X509_get0_notAfter(c);
	struct tm tm;
	int	days = 0, secs = 0;

	if (ASN1_TIME_to_tm(na, &tm) == 1)
		strftime(pc->not_after, sizeof(pc->not_after), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (ASN1_TIME_diff(&days, &secs, NULL, na) == 1)
		pc->days_left = days - (days <= 0 && secs < 0);
	pc->expired = X509_cmp_current_time(na) < 0;
	pc->not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(c)) > 0;
}

/* sent_by_peer - c is one of the certificates the server sent */

static int
sent_by_peer(STACK_OF(X509) *sent, X509 *c)
{
	for (int i = 0; i < sk_X509_num(sent); i++)
		if (X509_cmp(sk_X509_value(sent, i), c) == 0)
			return (1);
	return (0);
}

/* cert_chain - verification, self-signed, incomplete chain */

static void
cert_chain(SSL *ssl, STACK_OF(X509) *sent, struct tp_probe_cert *pc)
{
	X509   *leaf = sk_X509_value(sent, 0);
	X509   *top = sk_X509_value(sent, sk_X509_num(sent) - 1);
	STACK_OF(X509) *chain;

	pc->verify_error = SSL_get_verify_result(ssl);
	pc->verified = pc->verify_error == X509_V_OK;
	snprintf(pc->verify_text, sizeof(pc->verify_text), "%s",
		 X509_verify_cert_error_string(pc->verify_error));
	pc->self_signed = X509_check_issued(leaf, leaf) == X509_V_OK;
	if (!pc->verified) {
		/* The sent chain stops short of a root nobody here knows. */
		pc->incomplete_chain = X509_check_issued(top, top) != X509_V_OK
		    && (pc->verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
			|| pc->verify_error == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
			|| pc->verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT);
		return;
	}
	/* Verified here, but with intermediates from our store, not the server. */
	chain = SSL_get0_verified_chain(ssl);
	for (int i = 0; chain && i < sk_X509_num(chain) - 1; i++)
		if (!sent_by_peer(sent, sk_X509_value(chain, i)))
			pc->incomplete_chain = 1;
}

/* describe_cert - step 6 */

static void
describe_cert(SSL *ssl, const char *name, struct tp_probe_cert *pc)
{
	STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl);
	X509   *c;

	if (sent == NULL || sk_X509_num(sent) == 0)
		return;
	c = sk_X509_value(sent, 0);
	pc->present = 1;
	pc->chain_len = sk_X509_num(sent);
	dn_text(X509_get_subject_name(c), pc->subject, sizeof(pc->subject));
	dn_text(X509_get_issuer_name(c), pc->issuer, sizeof(pc->issuer));
	cert_names(c, pc);
	cert_chain(ssl, sent, pc);
	cert_validity(c, pc);
	if (name != NULL && *name != 0) {
		pc->name_checked = 1;
		tp_probe_store(pc->check_name, sizeof(pc->check_name), name);
		pc->name_match = is_address(name) ? X509_check_ip_asc(c, name, 0) == 1
		    : X509_check_host(c, name, 0, 0, NULL) == 1;
	}
}

/* key_exchange_group - the group of the server's ephemeral key */

static void
key_exchange_group(SSL *ssl, char *out, size_t size)
{
	EVP_PKEY *k = NULL;
	size_t	n = 0;

	*out = 0;
	if (SSL_get_peer_tmp_key(ssl, &k) != 1 || k == NULL)
		return;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	if (EVP_PKEY_get_group_name(k, out, size, &n) != 1 || n == 0)
		snprintf(out, size, "%s", EVP_PKEY_get0_type_name(k));
#else
	(void) n;
	snprintf(out, size, "%s", OBJ_nid2sn(EVP_PKEY_id(k)));
#endif
	EVP_PKEY_free(k);
}

/* describe_dane - step 9: the chain against a secure answer's TLSA records */

static void
describe_dane(SSL *ssl, const char *host, struct tp_probe_dane *d)
{
	const struct tp_dns_result *t = d->tlsa;
	struct tp_dane_result res;
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);

	if (t == NULL || t->status != TP_DNS_SECURE || t->count == 0 || chain == NULL
	    || d->tried)
		return;
	d->tried = 1;
	d->matched = tp_dane_match(t->tlsa, t->count, chain, &host, 1, &res);
	if (d->matched == 1) {
		d->usage = res.usage;
		d->selector = res.selector;
		d->mtype = res.mtype;
		d->depth = res.depth;
	} else
		tp_probe_store(d->why, sizeof(d->why), res.why);
}

/* tp_probe_tls_describe - steps 5 and 6 from the session on io */

void
tp_probe_tls_describe(struct tp_probe_tls_ctx *tls, struct tp_probe_io *io,
		      const char *name, struct tp_probe_result *r)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(io->ssl);
	STACK_OF(X509_NAME) *cas = SSL_get_client_CA_list(io->ssl);

	(void) tls;
	snprintf(r->tls.version, sizeof(r->tls.version), "%s", SSL_get_version(io->ssl));
	if (c != NULL) {
		snprintf(r->tls.cipher, sizeof(r->tls.cipher), "%s", SSL_CIPHER_get_name(c));
		r->tls.bits = SSL_CIPHER_get_bits(c, NULL);
	}
	key_exchange_group(io->ssl, r->tls.group, sizeof(r->tls.group));
	r->tls.ccert_requested = io->ccert_requested;
	for (int i = 0; cas && i < sk_X509_NAME_num(cas) && r->tls.ncas < TP_PROBE_CAS_MAX; i++)
		dn_text(sk_X509_NAME_value(cas, i), r->tls.cas[r->tls.ncas++],
			sizeof(r->tls.cas[0]));
	describe_cert(io->ssl, name, &r->cert);
	describe_dane(io->ssl, r->host, &r->dane);
}
