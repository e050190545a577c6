/*
 * NAME
 *	dns 3
 * SUMMARY
 *	DNS lookups with DNSSEC validation (libunbound)
 * SYNOPSIS
 *	#include "ctl/tp_dns.h"
 *
 *	struct tp_dns *tp_dns_new(const struct tp_dns_opts *opts,
 *				  char *why, size_t whylen);
 *	void	tp_dns_free(struct tp_dns *dns);
 *	int	tp_dns_mx(struct tp_dns *dns, const char *domain,
 *			  struct tp_dns_result *res);
 *	int	tp_dns_addr(struct tp_dns *dns, const char *host, int family,
 *			    struct tp_dns_result *res);
 *	int	tp_dns_tlsa(struct tp_dns *dns, const char *host,
 *			    unsigned port, struct tp_dns_result *res);
 *	int	tp_dns_txt(struct tp_dns *dns, const char *name,
 *			   struct tp_dns_result *res);
 *	void	tp_dns_result_free(struct tp_dns_result *res);
 *	const char *tp_dns_status_name(enum tp_dns_status status);
 * DESCRIPTION
 *	A libunbound context (validating, with the trust anchor the
 *	caller names) asked asynchronously, so that each lookup can be
 *	bounded by a timeout: unbound's own retries can take minutes.
 *	Its worker is a thread (ub_ctx_async), not a forked process.
 *	The records come back as RDATA in wire form, which this module
 *	reads itself with every length checked: they come from the
 *	network. See tp_dns.h for the contract.
 * DIAGNOSTICS
 *	tp_dns_new(): NULL and a sentence. Lookups: res->status and
 *	res->why.
 * MEMORY
 *	tp_dns_free() and tp_dns_result_free().
 */

/* System library. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Outside libraries. */
#include <unbound.h>

/* Application-specific. */
#include "ctl/tp_dns.h"
#include "policy/tp_names.h"

#define RR_A		1
#define RR_MX		15
#define RR_TXT		16
#define RR_AAAA		28
#define RR_TLSA		52
#define RCODE_NXDOMAIN	3

struct tp_dns {
	struct ub_ctx *ctx;
	int	timeout_ms;
};

/* One query in flight: what the callback hands back. */
struct pending {
	bool	done;
	int	err;			/* libunbound's error code */
	struct ub_result *result;
};

/* tp_dns_status_name - the word for a status, as probe prints it */

const char *
tp_dns_status_name(enum tp_dns_status status)
{
	static const char *const names[] = {
		[TP_DNS_SECURE] = "secure",
		[TP_DNS_INSECURE] = "insecure",
		[TP_DNS_NXDOMAIN] = "nxdomain",
		[TP_DNS_BOGUS] = "bogus",
		[TP_DNS_ERROR] = "error",
		[TP_DNS_TIMEOUT] = "timeout",
	};

	if ((unsigned)status < sizeof(names) / sizeof(names[0]))
		return (names[status]);
	return ("error");
}

/* ---- the context ------------------------------------------------------ */

/* server_ok - "ADDR[@PORT]": an IPv4 or IPv6 address, a port 1-65535 */

static bool
server_ok(const char *server)
{
	char	addr[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *at = strchr(server, '@');
	size_t	n = at ? (size_t)(at - server) : strlen(server);
	char   *end;
	long	port;

	if (n == 0 || n >= sizeof(addr))
		return (false);
	memcpy(addr, server, n);
	addr[n] = 0;
	if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
		return (false);
	if (at == NULL)
		return (true);
	errno = 0;
	port = strtol(at + 1, &end, 10);
	return (at[1] != 0 && *end == 0 && errno == 0 && port > 0 && port < 65536);
}

/* anchor_ok - the file is readable and names a DS or DNSKEY record */

static bool
anchor_ok(const char *path, char *why, size_t whylen)
{
	char	line[4096];
	bool	found = false;
	FILE   *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(why, whylen, "trust anchor %s: %s", path, strerror(errno));
		return (false);
	}
	/* An anchor file without a key would make every answer insecure. */
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		char   *save = NULL, *w;

		if (line[0] == ';' || line[0] == '#')
			continue;
		for (w = strtok_r(line, " \t\r\n", &save); w != NULL && !found;
		     w = strtok_r(NULL, " \t\r\n", &save))
			found = strcmp(w, "DS") == 0 || strcmp(w, "DNSKEY") == 0;
	}
	fclose(fp);
	if (!found)
		snprintf(why, whylen, "trust anchor %s: no DS or DNSKEY record in it",
			 path);
	return (found);
}

/* tp_dns_new - a validating resolver; NULL and why */

struct tp_dns *
tp_dns_new(const struct tp_dns_opts *opts, char *why, size_t whylen)
{
	const char *anchor = opts && opts->trust_anchor ? opts->trust_anchor
		: TP_DNS_ROOT_KEY;
	const char *server = opts ? opts->server : NULL;
	struct tp_dns *dns;
	const char *what = NULL;
	int	err;

	if (server != NULL && !server_ok(server)) {
		snprintf(why, whylen, "DNS server %s: not ADDR[@PORT] (an IP address, "
			 "a port from 1 to 65535)", server);
		return (NULL);
	}
	if (!anchor_ok(anchor, why, whylen))
		return (NULL);
	if ((dns = calloc(1, sizeof(*dns))) == NULL || (dns->ctx = ub_ctx_create()) == NULL) {
		snprintf(why, whylen, "cannot create a DNS resolver (out of memory)");
		free(dns);
		return (NULL);
	}
	dns->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : TP_DNS_TIMEOUT_MS;
	if ((err = ub_ctx_async(dns->ctx, 1)) != 0)
		what = "threads";
	else if ((err = server ? ub_ctx_set_fwd(dns->ctx, server)
		  : ub_ctx_resolvconf(dns->ctx, NULL)) != 0)
		what = server ? server : "/etc/resolv.conf";
	else if ((err = ub_ctx_add_ta_file(dns->ctx, anchor)) != 0)
		what = anchor;
	if (err != 0) {
		snprintf(why, whylen, "DNS resolver set-up: %s: %s", what, ub_strerror(err));
		tp_dns_free(dns);
		return (NULL);
	}
	return (dns);
}

/* tp_dns_free - release the resolver; NULL is fine */

void
tp_dns_free(struct tp_dns *dns)
{
	if (dns == NULL)
		return;
	ub_ctx_delete(dns->ctx);
	free(dns);
}

/* ---- one query ------------------------------------------------------- */

/* on_answer - libunbound's callback: keep the answer */

static void
on_answer(void *arg, int err, struct ub_result *result)
{
	struct pending *p = arg;

	p->done = true;
	p->err = err;
	p->result = result;
}

/* now_ms - a monotonic clock in milliseconds */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* ask - one query, bounded by the timeout; the answer or NULL and status */

static struct ub_result *
ask(struct tp_dns *dns, const char *name, int type, struct tp_dns_result *res)
{
	struct pending p = {0};
	struct pollfd pfd = {.fd = ub_fd(dns->ctx), .events = POLLIN};
	long long deadline = now_ms() + dns->timeout_ms;
	int	id, err;

	if ((err = ub_resolve_async(dns->ctx, name, type, 1, &p, on_answer, &id)) != 0)
		goto fail;
	while (!p.done) {
		long long left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			ub_cancel(dns->ctx, id);
			res->status = TP_DNS_TIMEOUT;
			snprintf(res->why, sizeof(res->why), "no answer for %s within "
				 "%d ms", name, dns->timeout_ms);
			return (NULL);
		}
		if ((err = ub_process(dns->ctx)) != 0) {
			ub_cancel(dns->ctx, id);
			goto fail;
		}
	}
	if ((err = p.err) == 0)
		return (p.result);
	ub_resolve_free(p.result);
fail:
	res->status = TP_DNS_ERROR;
	snprintf(res->why, sizeof(res->why), "%s: %s", name, ub_strerror(err));
	return (NULL);
}

/* rcode_name - the DNS rcodes a resolver hands back */

static const char *
rcode_name(int rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
	"NXDOMAIN", "NOTIMP", "REFUSED"};

	return (rcode >= 0 && rcode < 6 ? names[rcode] : "an unknown error");
}

/* canon - res->canonname from unbound's text form (no trailing dot) */

static void
canon(struct tp_dns_result *res, const char *name, const struct ub_result *r)
{
	const char *src = r->canonname ? r->canonname : name;
	size_t	n = strlen(src), i;

	if (n > 0 && src[n - 1] == '.')
		n--;
	for (i = 0; i < n && i < sizeof(res->canonname) - 1; i++) {
		unsigned char c = (unsigned char)src[i];

		/* unbound escapes odd bytes, but its form is not ours: plain */
		res->canonname[i] = (char)(c > 0x20 && c < 0x7f ? c : '?');
	}
	res->canonname[i] = 0;
}

/* classify - the status of an answer; true if it holds records to read */

static bool
classify(struct tp_dns_result *res, const char *name, const struct ub_result *r)
{
	res->rcode = r->rcode;
	canon(res, name, r);
	if (r->bogus) {
		res->status = TP_DNS_BOGUS;
		snprintf(res->why, sizeof(res->why), "%s",
			 r->why_bogus ? r->why_bogus : "DNSSEC validation failed");
		return (false);
	}
	res->secure = r->secure;
	if (r->nxdomain || r->rcode == RCODE_NXDOMAIN) {
		res->status = TP_DNS_NXDOMAIN;
		return (false);
	}
	if (r->rcode != 0) {
		res->status = TP_DNS_ERROR;
		res->secure = 0;
		snprintf(res->why, sizeof(res->why), "%s: the server answered %s",
			 name, rcode_name(r->rcode));
		return (false);
	}
	res->status = r->secure ? TP_DNS_SECURE : TP_DNS_INSECURE;
	return (r->havedata != 0);
}

/* query_name - a name from the caller in canonical form; -1 and status */

static int
query_name(const char *in, char *out, struct tp_dns_result *res)
{
	const char *why;

	memset(res, 0, sizeof(*res));
	if (tp_domain_normalize(in, strlen(in), out, &why) >= 0)
		return (0);
	res->status = TP_DNS_ERROR;
	snprintf(res->why, sizeof(res->why), "not a domain name (%s)", why);
	return (-1);
}

/* ---- reading RDATA ---------------------------------------------------- */

/* wire_name - an uncompressed wire-format name to text; -1 if malformed */

static int
wire_name(const unsigned char *p, size_t len, char *out, size_t size)
{
	size_t	i = 0, o = 0, total = 0;

	while (i < len && p[i] != 0) {
		size_t	lab = p[i++];

		/* A pointer (0xc0) or reserved type: not in unbound's form. */
		if (lab > 63 || i + lab > len || (total += lab + 1) > 255)
			return (-1);
		if (o > 0)
			out[o++] = '.';
		for (size_t k = 0; k < lab; k++, i++) {
			unsigned char c = p[i];

			if (o + 5 > size)
				return (-1);
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
			    || c == '-' || c == '_')
				out[o++] = (char)c;
			else if (c >= 'A' && c <= 'Z')
				out[o++] = (char)(c - 'A' + 'a');
			else
				o += (size_t)snprintf(out + o, size - o, "\\%03u", c);
		}
	}
	if (i >= len || i + 1 != len)
		return (-1);			/* no root label, or bytes after */
	out[o] = 0;
	return (0);
}

/* count_of - the records to read, capped */

static size_t
count_of(const struct ub_result *r)
{
	size_t	n = 0;

	while (r->data[n] != NULL && n < TP_DNS_RECORDS_MAX)
		n++;
	return (n);
}

/* mx_order - preference, then name */

static int
mx_order(const void *a, const void *b)
{
	const struct tp_dns_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return (x->pref < y->pref ? -1 : 1);
	return (strcmp(x->host, y->host));
}

/* read_mx - MX records, sorted; -1 on a malformed one */

static int
read_mx(struct tp_dns_result *res, const struct ub_result *r)
{
	size_t	n = count_of(r);

	if ((res->mx = calloc(n, sizeof(*res->mx))) == NULL)
		return (-1);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *d = (const unsigned char *)r->data[i];

		if (r->len[i] < 3 || wire_name(d + 2, (size_t)r->len[i] - 2,
				res->mx[i].host, sizeof(res->mx[i].host)) < 0)
			return (-1);
		res->mx[i].pref = (unsigned)d[0] << 8 | d[1];
		res->count++;
	}
	qsort(res->mx, n, sizeof(*res->mx), mx_order);
	res->null_mx = n == 1 && res->mx[0].host[0] == 0;
	return (0);
}

/* read_addr - A or AAAA records */

static int
read_addr(struct tp_dns_result *res, const struct ub_result *r, int family)
{
	size_t	n = count_of(r), want = family == AF_INET ? 4 : 16;

	if ((res->addr = calloc(n, sizeof(*res->addr))) == NULL)
		return (-1);
	for (size_t i = 0; i < n; i++) {
		struct tp_dns_addr *a = &res->addr[i];

		if ((size_t)r->len[i] != want)
			return (-1);
		a->family = family;
		memcpy(a->addr, r->data[i], want);
		inet_ntop(family, a->addr, a->text, sizeof(a->text));
		res->count++;
	}
	return (0);
}

/* read_tlsa - TLSA records: usage, selector, matching type, data */

static int
read_tlsa(struct tp_dns_result *res, const struct ub_result *r)
{
	size_t	n = count_of(r);

	if ((res->tlsa = calloc(n, sizeof(*res->tlsa))) == NULL)
		return (-1);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *d = (const unsigned char *)r->data[i];
		struct tp_dns_tlsa *t = &res->tlsa[i];

		if (r->len[i] < 4 || (t->data = malloc((size_t)r->len[i] - 3)) == NULL)
			return (-1);
		t->usage = d[0];
		t->selector = d[1];
		t->mtype = d[2];
		t->len = (size_t)r->len[i] - 3;
		memcpy(t->data, d + 3, t->len);
		res->count++;
	}
	return (0);
}

/* read_txt - TXT records, each one's strings joined */

static int
read_txt(struct tp_dns_result *res, const struct ub_result *r)
{
	size_t	n = count_of(r);

	if ((res->txt = calloc(n, sizeof(*res->txt))) == NULL)
		return (-1);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *d = (const unsigned char *)r->data[i];
		size_t	len = (size_t)r->len[i], k = 0, o = 0;
		char   *text;

		if ((text = malloc(len + 1)) == NULL)
			return (-1);
		res->txt[i].text = text;
		res->count++;
		while (k < len) {
			size_t	s = d[k++];

			if (k + s > len)
				return (-1);
			memcpy(text + o, d + k, s);
			o += s;
			k += s;
		}
		text[o] = 0;
		res->txt[i].len = o;
	}
	return (0);
}

/* lookup - ask, classify, read the records of one type */

static int
lookup(struct tp_dns *dns, const char *name, int type, int family,
       struct tp_dns_result *res)
{
	struct ub_result *r;
	int	bad = 0;

	if ((r = ask(dns, name, type, res)) == NULL)
		return (0);
	if (classify(res, name, r)) {
		switch (type) {
		case RR_MX:
			bad = read_mx(res, r);
			break;
		case RR_A:
		case RR_AAAA:
			bad = read_addr(res, r, family);
			break;
		case RR_TLSA:
			bad = read_tlsa(res, r);
			break;
		case RR_TXT:
			bad = read_txt(res, r);
			break;
		}
	}
	ub_resolve_free(r);
	if (bad) {
		tp_dns_result_free(res);
		res->status = TP_DNS_ERROR;
		res->secure = 0;
		snprintf(res->why, sizeof(res->why), "%s: a malformed record in "
			 "the answer, or out of memory", name);
	}
	return (0);
}

/* ---- the lookups ------------------------------------------------------ */

/* tp_dns_mx - MX records by preference */

int
tp_dns_mx(struct tp_dns *dns, const char *domain, struct tp_dns_result *res)
{
	char	name[TP_DOMAIN_MAX + 1];

	if (query_name(domain, name, res) < 0)
		return (-1);
	return (lookup(dns, name, RR_MX, 0, res));
}

/* tp_dns_addr - A or AAAA records */

int
tp_dns_addr(struct tp_dns *dns, const char *host, int family,
	    struct tp_dns_result *res)
{
	char	name[TP_DOMAIN_MAX + 1];

	if (query_name(host, name, res) < 0)
		return (-1);
	if (family != AF_INET && family != AF_INET6) {
		res->status = TP_DNS_ERROR;
		snprintf(res->why, sizeof(res->why), "address family %d", family);
		return (-1);
	}
	return (lookup(dns, name, family == AF_INET ? RR_A : RR_AAAA, family, res));
}

/* tp_dns_tlsa - TLSA records of _PORT._tcp.HOST */

int
tp_dns_tlsa(struct tp_dns *dns, const char *host, unsigned port,
	    struct tp_dns_result *res)
{
	char	name[TP_DOMAIN_MAX + 1], q[TP_DOMAIN_MAX + 16];

	if (query_name(host, name, res) < 0)
		return (-1);
	if (port == 0 || port > 65535) {
		res->status = TP_DNS_ERROR;
		snprintf(res->why, sizeof(res->why), "port %u", port);
		return (-1);
	}
	snprintf(q, sizeof(q), "_%u._tcp.%s", port, name);
	return (lookup(dns, q, RR_TLSA, 0, res));
}

/* tp_dns_txt - TXT records, strings joined */

int
tp_dns_txt(struct tp_dns *dns, const char *qname, struct tp_dns_result *res)
{
	char	name[TP_DOMAIN_MAX + 1];

	if (query_name(qname, name, res) < 0)
		return (-1);
	return (lookup(dns, name, RR_TXT, 0, res));
}

/* tp_dns_result_free - the records of a result; the status stays */

void
tp_dns_result_free(struct tp_dns_result *res)
{
	if (res->tlsa != NULL)
		for (size_t i = 0; i < res->count; i++)
			free(res->tlsa[i].data);
	if (res->txt != NULL)
		for (size_t i = 0; i < res->count; i++)
			free(res->txt[i].text);
	free(res->mx);
	free(res->addr);
	free(res->tlsa);
	free(res->txt);
	res->mx = NULL;
	res->addr = NULL;
	res->tlsa = NULL;
	res->txt = NULL;
	res->count = 0;
}
