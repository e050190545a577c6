/*
 * NAME
 *	mta_sts_fetch 3
 * SUMMARY
 *	MTA-STS (RFC 8461 section 3.3): fetch a policy over HTTPS (libcurl)
 * SYNOPSIS
 *	#include "ctl/tp_mta_sts.h"
 *
 *	int	tp_sts_fetch(const char *domain,
 *			     const struct tp_sts_fetch_opts *opts,
 *			     char **body, size_t *len,
 *			     char *why, size_t whylen);
 *	int	tp_sts_resolve_entry(struct tp_dns *dns, const char *domain,
 *				     char *buf, size_t size);
 * DESCRIPTION
 *	One GET of https://mta-sts.DOMAIN/.well-known/mta-sts.txt, as the
 *	RFC asks a sender to make it: HTTPS only, a certificate that
 *	verifies for mta-sts.DOMAIN, redirects refused, no cache, TLS 1.2
 *	or later. The peer is hostile: the body is cut off (and the fetch
 *	failed) past TP_STS_BODY_MAX bytes, and the whole transfer has one
 *	deadline. An extra CA file is added to the system's store (not
 *	put in its place) through libcurl's SSL_CTX hook, which the
 *	OpenSSL flavour of libcurl has. See tp_mta_sts.h.
 * DIAGNOSTICS
 *	-1 and why: "URL: what failed".
 * MEMORY
 *	The body is malloc'd; the caller frees it.
 */

/* System library. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Outside libraries. */
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

/* Application-specific. */
#include "config.h"
#include "ctl/tp_mta_sts.h"
#include "policy/tp_names.h"

#define STS_URL_MAX	(TP_DOMAIN_MAX + 64)

/* The body as it arrives. */
struct sink {
	char   *buf;
	size_t	len;
	bool	too_big;
	const char *ca_file;		/* extra CAs, for on_ssl_ctx */
};

/* on_data - libcurl's write callback: keep at most TP_STS_BODY_MAX */

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t	n = size * nmemb;

	if (n > TP_STS_BODY_MAX - s->len) {
		s->too_big = true;
		return (0);			/* aborts the transfer */
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return (n);
}

/* on_ssl_ctx - add the extra CA file to the store libcurl set up */

static CURLcode
on_ssl_ctx(CURL *curl, void *sslctx, void *arg)
{
	X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *) sslctx);
	const struct sink *s = arg;
	int	ok;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	ok = X509_STORE_load_file(store, s->ca_file);
#else
	ok = X509_STORE_load_locations(store, s->ca_file, NULL);
#endif
	ERR_clear_error();
	return (ok ? CURLE_OK : CURLE_SSL_CACERT_BADFILE);
}

/* list_of - a curl_slist of n strings; NULL for none or no memory */

static struct curl_slist *
list_of(const char *const *items, size_t n, bool *failed)
{
	struct curl_slist *list = NULL, *grown;

	for (size_t i = 0; i < n; i++) {
		if ((grown = curl_slist_append(list, items[i])) == NULL) {
			*failed = true;
			break;
		}
		list = grown;
	}
	return (list);
}

/* content_ok - Content-Type text/plain, parameters allowed */

static bool
content_ok(const char *type)
{
	size_t	n = strlen("text/plain");

	return (type != NULL && strncasecmp(type, "text/plain", n) == 0
		&& (type[n] == 0 || type[n] == ';' || type[n] == ' '));
}

/* set_options - a GET as RFC 8461 wants it */

static CURLcode
set_options(CURL *curl, const char *url, const struct tp_sts_fetch_opts *opts,
	    struct sink *s, char *errbuf)
{
	long	ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms
		: TP_STS_FETCH_TIMEOUT_MS;
	CURLcode e;

	if ((e = curl_easy_setopt(curl, CURLOPT_URL, url)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https")) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_SSLVERSION,
				     (long)CURL_SSLVERSION_TLSv1_2)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_PROXY, "")) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
				     (curl_off_t)TP_STS_BODY_MAX)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_USERAGENT,
				     "tlspolicyctl/" PACKAGE_VERSION)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_WRITEDATA, s)) != CURLE_OK)
		return (e);
	if (opts && (s->ca_file = opts->ca_file) != NULL
	    && ((e = curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx)) != CURLE_OK
		|| (e = curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, s)) != CURLE_OK))
		return (e);
	return (CURLE_OK);
}

/* check_reply - HTTP 200 and text/plain; 0, or -1 and why */

static int
check_reply(CURL *curl, const char *url, char *why, size_t whylen)
{
	long	code = 0;
	char   *type = NULL;

	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
	if (code >= 300 && code < 400) {
		snprintf(why, whylen, "%s: HTTP %ld, a redirect, which RFC 8461 "
			 "forbids following", url, code);
		return (-1);
	}
	if (code != 200) {
		snprintf(why, whylen, "%s: HTTP %ld, not 200", url, code);
		return (-1);
	}
	if (!content_ok(type)) {
		snprintf(why, whylen, "%s: Content-Type %s, not text/plain", url,
			 type ? type : "missing");
		return (-1);
	}
	return (0);
}

/* perform - the transfer and its checks; 0, or -1 and why */

static int
perform(CURL *curl, const char *url, const struct tp_sts_fetch_opts *opts,
	struct sink *s, char *why, size_t whylen)
{
	char	errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *connect_to = NULL, *resolve = NULL;
	bool	failed = false;
	CURLcode e;
	int	ret = -1;

	if (opts) {
		connect_to = list_of(opts->connect_to, opts->nconnect_to, &failed);
		resolve = list_of(opts->resolve, opts->nresolve, &failed);
	}
	if (failed || (e = set_options(curl, url, opts, s, errbuf)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to)) != CURLE_OK
	    || (e = curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve)) != CURLE_OK) {
		snprintf(why, whylen, "%s: cannot set up the fetch%s", url,
			 failed ? " (out of memory)" : "");
		goto out;
	}
	if ((e = curl_easy_perform(curl)) != CURLE_OK) {
		if (s->too_big || e == CURLE_FILESIZE_EXCEEDED)
			snprintf(why, whylen, "%s: more than %d bytes: refused", url,
				 TP_STS_BODY_MAX);
		else
			snprintf(why, whylen, "%s: %s", url, errbuf[0] ? errbuf
				 : curl_easy_strerror(e));
		goto out;
	}
	ret = check_reply(curl, url, why, whylen);
out:
	curl_slist_free_all(connect_to);
	curl_slist_free_all(resolve);
	return (ret);
}

/* tp_sts_fetch - the policy of a domain over HTTPS; 0, or -1 and why */

int
tp_sts_fetch(const char *domain, const struct tp_sts_fetch_opts *opts,
	     char **body, size_t *len, char *why, size_t whylen)
{
	static bool initialized;
	char	name[TP_DOMAIN_MAX + 1], url[STS_URL_MAX];
	struct sink s = {0};
	const char *bad;
	CURL   *curl = NULL;
	int	ret = -1;

	/* The name goes into a URL: only a valid host name may. */
	if (tp_domain_normalize(domain, strlen(domain), name, &bad) < 0) {
		snprintf(why, whylen, "%s: %s", domain, bad);
		return (-1);
	}
	snprintf(url, sizeof(url), TP_STS_URL_FMT, name);
	if (!initialized) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(why, whylen, "%s: libcurl failed to start", url);
			return (-1);
		}
		initialized = true;
		atexit(curl_global_cleanup);
	}
	if ((s.buf = malloc(TP_STS_BODY_MAX + 1)) == NULL
	    || (curl = curl_easy_init()) == NULL) {
		snprintf(why, whylen, "%s: out of memory", url);
		goto out;
	}
	if ((ret = perform(curl, url, opts, &s, why, whylen)) == 0) {
		s.buf[s.len] = 0;
		*body = s.buf;
		*len = s.len;
		s.buf = NULL;
	}
out:
	curl_easy_cleanup(curl);
	free(s.buf);
	return (ret);
}

/* add_addrs - the A or AAAA records of host after "HOST:443:" */

static void
add_addrs(struct tp_dns *dns, const char *host, int family, char *buf,
	  size_t size)
{
	struct tp_dns_result res;

	tp_dns_addr(dns, host, family, &res);
	for (size_t i = 0; i < res.count; i++) {
		size_t	n = strlen(buf);

		snprintf(buf + n, size - n, "%s%s%s%s", buf[n - 1] == ':' ? "" : ",",
			 family == AF_INET6 ? "[" : "", res.addr[i].text,
			 family == AF_INET6 ? "]" : "");
	}
	tp_dns_result_free(&res);
}

/* tp_sts_resolve_entry - "mta-sts.DOMAIN:443:ADDRS" from dns; 0 none */

int
tp_sts_resolve_entry(struct tp_dns *dns, const char *domain, char *buf, size_t size)
{
	char	host[TP_DOMAIN_MAX + 16];

	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	snprintf(buf, size, "%s:443:", host);
	add_addrs(dns, host, AF_INET, buf, size);
	add_addrs(dns, host, AF_INET6, buf, size);
	return (buf[strlen(buf) - 1] != ':');
}
