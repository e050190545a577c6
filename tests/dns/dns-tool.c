/*
 * NAME
 *	dns-tool 1
 * SUMMARY
 *	test driver: the DNS, DANE and MTA-STS modules against real servers
 * SYNOPSIS
 *	dns-tool [OPTIONS] mx DOMAIN
 *	dns-tool [OPTIONS] addr HOST 4|6
 *	dns-tool [OPTIONS] tlsa HOST PORT
 *	dns-tool [OPTIONS] txt NAME
 *	dns-tool [OPTIONS] dane ADDR:PORT TLSA-HOST TLSA-PORT
 *	dns-tool [OPTIONS] sts DOMAIN [MX-HOST...]
 *
 *	OPTIONS: --dns ADDR@PORT, --trust-anchor FILE, --ca FILE,
 *	--connect-to HOST:PORT:CHOST:CPORT, --timeout-ms N
 * DESCRIPTION
 *	Prints what ctl/dns.c, ctl/dane.c and ctl/mta_sts*.c return, one
 *	fact per line, for tests/dns/t-dns.sh to check:
 *	  status STATUS [secure] [why WHY]   every DNS lookup
 *	  mx PREF HOST / addr TEXT / tlsa U S M HEX / txt TEXT
 *	  dane match INDEX USAGE SELECTOR MTYPE depth D | dane nomatch WHY
 *	    | dane unvalidated STATUS   (TLSA not secure: no DANE)
 *	  sts-txt id ID | sts-txt none WHY | sts-txt bad WHY
 *	  fetch error WHY | policy MODE MAX_AGE MX,MX | policy error LINE...
 *	  mx-match HOST yes|no
 *	"dane" makes a real TLS handshake to ADDR:PORT (SNI TLSA-HOST) and
 *	matches the chain the server sent.
 * EXIT STATUS
 *	0 the calls were made (whatever they found), 2 usage, 1 set-up.
 */

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ctl/tp_dane.h"
#include "ctl/tp_dns.h"
#include "ctl/tp_mta_sts.h"

static struct tp_dns_opts dns_opts;
static struct tp_sts_fetch_opts fetch_opts;
static const char *connect_to[1];

/* status - the status line of a lookup */

static void
status(const struct tp_dns_result *res)
{
	printf("status %s%s%s%s\n", tp_dns_status_name(res->status),
	       res->secure ? " secure" : "", res->why[0] ? " why " : "", res->why);
}

/* print_records - whatever records the lookup returned */

static void
print_records(const struct tp_dns_result *res)
{
	for (size_t i = 0; i < res->count; i++) {
		if (res->mx)
			printf("mx %u %s\n", res->mx[i].pref, res->mx[i].host);
		if (res->addr)
			printf("addr %s\n", res->addr[i].text);
		if (res->txt)
			printf("txt %s\n", res->txt[i].text);
		if (res->tlsa) {
			printf("tlsa %u %u %u ", res->tlsa[i].usage,
			       res->tlsa[i].selector, res->tlsa[i].mtype);
			for (size_t k = 0; k < res->tlsa[i].len; k++)
				printf("%02x", res->tlsa[i].data[k]);
			printf("\n");
		}
	}
}

/* handshake - a TLS connection to addr:port; the SSL or NULL */

static SSL *
handshake(SSL_CTX *ctx, const char *target, const char *sni, int *fd)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char	addr[64];
	const char *colon = strrchr(target, ':');
	SSL    *ssl;

	if (colon == NULL || (size_t)(colon - target) >= sizeof(addr))
		return (NULL);
	memcpy(addr, target, (size_t)(colon - target));
	addr[colon - target] = 0;
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1
	    || (*fd = socket(AF_INET, SOCK_STREAM, 0)) < 0
	    || connect(*fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return (NULL);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, *fd);
	SSL_set_tlsext_host_name(ssl, sni);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		return (NULL);
	}
	return (ssl);
}

/* cmd_dane - handshake, TLSA lookup, match */

static int
cmd_dane(struct tp_dns *dns, char **argv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct tp_dns_result res;
	struct tp_dane_result d;
	const char *names[] = {argv[1]};
	SSL    *ssl;
	int	fd = -1, r;

	if ((ssl = handshake(ctx, argv[0], argv[1], &fd)) == NULL) {
		printf("handshake failed\n");
		ERR_print_errors_fp(stdout);
		SSL_CTX_free(ctx);
		if (fd >= 0)
			close(fd);
		return (0);
	}
	tp_dns_tlsa(dns, argv[1], (unsigned)atoi(argv[2]), &res);
	status(&res);
	if (res.status != TP_DNS_SECURE)
		printf("dane unvalidated %s\n", tp_dns_status_name(res.status));
	else if ((r = tp_dane_match(res.tlsa, res.count, SSL_get_peer_cert_chain(ssl),
				    names, 1, &d)) == 1)
		printf("dane match %zu %s %s %s depth %d\n", d.index,
		       tp_dane_usage_name(d.usage), tp_dane_selector_name(d.selector),
		       tp_dane_mtype_name(d.mtype), d.depth);
	else
		printf("dane %s %s\n", r == 0 ? "nomatch" : "error", d.why);
	tp_dns_result_free(&res);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return (0);
}

/* cmd_sts - TXT record, fetch, parse, MX matches */

static int
cmd_sts(struct tp_dns *dns, char **argv, int argc)
{
	char	name[300], id[TP_STS_ID_MAX + 1], why[512];
	struct tp_dns_result res;
	struct tp_sts_policy *p;
	struct tp_errors errs;
	char   *body;
	size_t	len;
	int	r;

	snprintf(name, sizeof(name), "_mta-sts.%s", argv[0]);
	tp_dns_txt(dns, name, &res);
	status(&res);
	r = tp_sts_txt_select(&res, id, why, sizeof(why));
	tp_dns_result_free(&res);
	if (r == 1)
		printf("sts-txt id %s\n", id);
	else
		printf("sts-txt %s %s\n", r == 0 ? "none" : "bad", why);
	if (tp_sts_fetch(argv[0], &fetch_opts, &body, &len, why, sizeof(why)) < 0) {
		printf("fetch error %s\n", why);
		return (0);
	}
	tp_errors_init(&errs);
	if ((p = tp_sts_parse(body, len, "body", &errs)) == NULL) {
		for (size_t i = 0; i < errs.kept; i++)
			printf("policy error %s\n", errs.msgs[i]);
	} else {
		printf("policy %s %ld ", tp_sts_mode_name(p->mode), p->max_age);
		for (size_t i = 0; i < p->nmx; i++)
			printf("%s%s", i ? "," : "", p->mx[i]);
		printf("\n");
		for (int i = 1; i < argc; i++)
			printf("mx-match %s %s\n", argv[i],
			       tp_sts_mx_match(p, argv[i]) ? "yes" : "no");
	}
	tp_sts_policy_free(p);
	tp_errors_free(&errs);
	free(body);
	return (0);
}

/* lookup - mx, addr, tlsa, txt */

static int
lookup(struct tp_dns *dns, const char *cmd, char **argv, int argc)
{
	struct tp_dns_result res;

	if (strcmp(cmd, "mx") == 0 && argc == 1)
		tp_dns_mx(dns, argv[0], &res);
	else if (strcmp(cmd, "addr") == 0 && argc == 2)
		tp_dns_addr(dns, argv[0], strcmp(argv[1], "6") == 0 ? AF_INET6 : AF_INET, &res);
	else if (strcmp(cmd, "tlsa") == 0 && argc == 2)
		tp_dns_tlsa(dns, argv[0], (unsigned)atoi(argv[1]), &res);
	else if (strcmp(cmd, "txt") == 0 && argc == 1)
		tp_dns_txt(dns, argv[0], &res);
	else
		return (2);
	status(&res);
	print_records(&res);
	tp_dns_result_free(&res);
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dns", required_argument, NULL, 'd'},
		{"trust-anchor", required_argument, NULL, 'T'},
		{"ca", required_argument, NULL, 'c'},
		{"connect-to", required_argument, NULL, 'C'},
		{"timeout-ms", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct tp_dns *dns;
	char	why[256];
	int	c, ret;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'd')
			dns_opts.server = optarg;
		else if (c == 'T')
			dns_opts.trust_anchor = optarg;
		else if (c == 'c')
			fetch_opts.ca_file = optarg;
		else if (c == 'C') {
			connect_to[0] = optarg;
			fetch_opts.connect_to = connect_to;
			fetch_opts.nconnect_to = 1;
		} else if (c == 't')
			dns_opts.timeout_ms = fetch_opts.timeout_ms = atoi(optarg);
		else
			return (2);
	}
	if (argc - optind < 2)
		return (2);
	if ((dns = tp_dns_new(&dns_opts, why, sizeof(why))) == NULL) {
		printf("setup error %s\n", why);
		return (1);
	}
	if (strcmp(argv[optind], "dane") == 0 && argc - optind == 4)
		ret = cmd_dane(dns, argv + optind + 1);
	else if (strcmp(argv[optind], "sts") == 0)
		ret = cmd_sts(dns, argv + optind + 1, argc - optind - 1);
	else
		ret = lookup(dns, argv[optind], argv + optind + 1, argc - optind - 1);
	tp_dns_free(dns);
	return (ret);
}
