/*
 * NAME
 *	probe 3
 * SUMMARY
 *	tlspolicyctl probe: say in plain words why TLS with a mail server fails
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	int	tp_probe_main(int argc, char **argv);
 * DESCRIPTION
 *	The command: its options, its targets (HOST[:PORT], [ADDR]:PORT;
 *	no port means 25, 465 and 587), their addresses (getaddrinfo(),
 *	IPv4 before IPv6, each reported on its own), the run's time bound,
 *	and the output: text as each address is done, or one JSON document
 *	at the end. With --mx, step 8 (probe_sts.c) once per domain and
 *	the domain's dest: rule of --policy for each MX (probe_dest.c).
 *	The steps are probe_smtp.c's, the verdicts
 *	probe_verdict.c's. See usage() below, which is also its --help,
 *	and tlspolicyctl(8).
 * DIAGNOSTICS
 *	Usage errors and unresolvable hosts to standard error.
 * EXIT STATUS
 *	0 every address speaks TLS that verifies; 1 a finding that breaks
 *	or weakens TLS for some peers; 2 usage error; 3 nothing reachable.
 */

#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "ctl/tp_ctl.h"
#include "ctl/tp_probe.h"
#include "util/tp_escape.h"

#define CMD		"probe"
#define DEFAULT_TIMEOUT	10		/* seconds, each network step */
#define DEFAULT_MAX_TIME 300		/* seconds, the whole run */
#define MAX_ADDRS	16		/* addresses of one host probed */

static const int default_ports[] = {25, 465, 587};

/* What a run has seen so far, for the exit status. */
struct run {
	const struct tp_probe_opts *opts;
	struct tp_policy *policy;	/* --policy FILE, or NULL */
	struct tp_probe_tls_ctx *tls;
	int	json;
	struct json_object *targets;	/* --json: the document's array */
	int	reached;		/* an address answered */
	int	serious;		/* a finding that matters */
};

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl probe [OPTIONS] TARGET... | --mx DOMAIN...\n"
"\n"
"Connect to mail servers the way a sending MTA or a mail client does and say\n"
"in plain words whether TLS works, and if not, why and at which end to fix it.\n"
"TARGET is HOST, HOST:PORT or [ADDRESS]:PORT; without a port, 25, 465 and 587\n"
"are probed. Every address of HOST is probed (IPv4 and IPv6 apart).\n"
"\n"
"For each address and port: 1 connect; 2 wait for a banner (220: plaintext\n"
"SMTP; silence: send a TLS hello, an answer means implicit TLS); 3 EHLO:\n"
"STARTTLS offered, not offered, or masked by a firewall; 4 MAIL FROM:<> before\n"
"STARTTLS, then RSET (never a message): is TLS required? 5 the TLS handshake,\n"
"and one per TLS version 1.0-1.3, cipher, key exchange, client certificate\n"
"request; 6 the certificate: chain, names, validity; 7 EHLO in TLS; with --mx\n"
"also 8 the domain's MTA-STS policy (TXT record, policy fetched over HTTPS,\n"
"each MX against its mx patterns) and 9 the MX's TLSA records,\n"
"DNSSEC-validated, against the certificate.\n"
"Then the verdicts: a stable code and a sentence each (see tlspolicyctl(8)).\n"
"\n"
"Options:\n"
"      --ca FILE        also trust the CA certificates in FILE (PEM)\n"
"      --name NAME      the name the certificate must match (default: HOST,\n"
"                       or with --mx the MX host)\n"
"      --helo NAME      the name to send in EHLO (default: this host's name)\n"
"      --timeout SECS   the limit of each network step (default %d, 1-300)\n"
"      --max-time SECS  the limit of the whole run (default %d, 1-3600)\n"
"      --no-versions    do not try each TLS version on its own (faster)\n"
"      --mx DOMAIN      probe every MX of DOMAIN, by preference (also TLSA/DANE)\n"
"      --port PORT      the port --mx probes (default 25)\n"
"      --dns ADDR[@PORT] for --mx, ask this resolver, not the system's\n"
"      --trust-anchor FILE  for --mx, the DNSSEC trust anchor (default the\n"
"                       root key, %s)\n"
"      --connect-to HOST:PORT:CHOST:CPORT  for --mx, fetch the MTA-STS policy\n"
"                       of HOST:PORT from CHOST:CPORT (as curl's; the\n"
"                       certificate must still name HOST); repeatable\n"
"      --policy FILE    for --mx, say whether each MX satisfies the domain's\n"
"                       dest: rule in the policy FILE\n"
"  -4, -6               only IPv4, only IPv6 addresses\n"
"      --json           one JSON document (schema_version %d) instead of text\n"
"  -h, --help           this text\n"
"\n"
"Exit status:\n"
"  0 every address speaks TLS that verifies; 1 a finding that breaks or weakens\n"
"  TLS for some peers (a verdict marked !); 2 usage error; 3 nothing reachable.\n",
		DEFAULT_TIMEOUT, DEFAULT_MAX_TIME, TP_DNS_ROOT_KEY, TP_PROBE_SCHEMA);
}

/* split_target - HOST[:PORT] or [ADDR][:PORT] into host and port (0: none) */

static int
split_target(const char *arg, char *host, size_t size, int *port)
{
	const char *colon = NULL, *end;
	size_t	n;
	long	p;

	*port = 0;
	if (*arg == '[') {
		if ((end = strchr(arg, ']')) == NULL || (end[1] != 0 && end[1] != ':'))
			return (-1);
		n = (size_t) (end - arg - 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		arg++;
	} else if ((colon = strchr(arg, ':')) != NULL && strchr(colon + 1, ':') != NULL) {
		colon = NULL;			/* a bare IPv6 address */
		n = strlen(arg);
	} else
		n = colon ? (size_t) (colon - arg) : strlen(arg);
	if (n == 0 || n >= size)
		return (-1);
	memcpy(host, arg, n);
	host[n] = 0;
	if (colon != NULL) {
		if (tp_ctl_number(colon + 1, 1, 65535, &p) != 0)
			return (-1);
		*port = (int) p;
	}
	return (0);
}

/* emit - one result: printed now (text) or kept for the document (JSON) */

static void
emit(struct run *run, struct json_object *addrs, const struct tp_probe_result *r)
{
	if (r->connect == TP_CONNECT_OK)
		run->reached = 1;
	for (int i = 0; i < r->nfindings; i++)
		run->serious |= tp_probe_verdict_serious(r->findings[i].code);
	if (run->json)
		json_object_array_add(addrs, tp_probe_json(r));
	else {
		tp_probe_print_text(stdout, r);
		fflush(stdout);
	}
}

/* What --mx adds to the probe of an MX's address. */
struct mx_ctx {
	const struct tp_dns_result *tlsa;	/* step 9 */
	const struct tp_probe_sts *sts;		/* step 8 */
	const struct tp_outbound *dest;		/* --policy: the dest: rule */
};

/* probe_address - steps 1-7 (8, 9 with --mx), or "not probed" past the bound */

static void
probe_address(struct run *run, const char *host, const struct sockaddr *sa,
	      socklen_t salen, int port, const struct mx_ctx *mx,
	      struct json_object *addrs)
{
	struct tp_probe_result *r = calloc(1, sizeof(*r));
	struct sockaddr_storage ss;

	if (r == NULL)
		return;
	memcpy(&ss, sa, salen);
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *) &ss)->sin_port = htons((unsigned short) port);
	else
		((struct sockaddr_in6 *) &ss)->sin6_port = htons((unsigned short) port);
	tp_probe_store(r->host, sizeof(r->host), host);
	getnameinfo(sa, salen, r->addr, sizeof(r->addr), NULL, 0, NI_NUMERICHOST);
	r->family = sa->sa_family;
	r->port = port;
	if (mx != NULL) {
		r->dane.tlsa = mx->tlsa;
		snprintf(r->dane.name, sizeof(r->dane.name), "_%d._tcp.%s", port, r->host);
		r->sts = mx->sts;
		r->sts_match = mx->sts->policy && tp_sts_mx_match(mx->sts->policy, host);
		r->dest.rule = mx->dest;
	}
	if (tp_probe_ms_left(run->opts) == 0)
		r->timeout_step = TP_STEP_RUN;
	else
		tp_probe_smtp_run(run->opts, run->tls, (struct sockaddr *) &ss, salen, r);
	tp_probe_dest_check(r);
	tp_probe_verdicts(r);
	emit(run, addrs, r);
	free(r);
}

/* resolve - host's addresses, IPv4 first; NULL after a message */

static struct addrinfo *
resolve(const char *host, int family, struct json_object *target)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,.ai_family = family};
	struct addrinfo *res = NULL;
	char	why[300], esc[300];
	int	rc;

	if ((rc = getaddrinfo(host, NULL, &hints, &res)) == 0)
		return (res);
	snprintf(why, sizeof(why), "cannot resolve: %s", gai_strerror(rc));
	fprintf(stderr, "tlspolicyctl probe: %s: %s\n",
		tp_escape_term(host, esc, sizeof(esc)), why);
	if (target != NULL)
		json_object_object_add(target, "error", json_object_new_string(why));
	return (NULL);
}

/* seen_before - ai's address is one of the list's before it */

static int
seen_before(const struct addrinfo *list, const struct addrinfo *ai)
{
	for (; list != ai; list = list->ai_next)
		if (list->ai_addrlen == ai->ai_addrlen
		    && memcmp(list->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
			return (1);
	return (0);
}

/* probe_target - every port of every address of one target */

static void
probe_target(struct run *run, const char *arg, int family)
{
	struct json_object *target = NULL, *addrs = NULL;
	struct addrinfo *res, *ai;
	char	host[256];
	int	port, n;

	(void) split_target(arg, host, sizeof(host), &port);	/* checked */
	if (run->json) {
		target = json_object_new_object();
		addrs = json_object_new_array();
		json_object_object_add(target, "target", json_object_new_string(arg));
		json_object_array_add(run->targets, target);
		json_object_object_add(target, "addresses", addrs);
	}
	if ((res = resolve(host, family, target)) == NULL) {
		run->serious = 1;
		return;
	}
	for (size_t p = 0; p < (port ? 1 : sizeof(default_ports) / sizeof(int)); p++)
		for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
			n = 0;
			for (ai = res; ai != NULL && n < MAX_ADDRS; ai = ai->ai_next)
				if (ai->ai_family == fam && !seen_before(res, ai)) {
					probe_address(run, host, ai->ai_addr, ai->ai_addrlen,
					       port ? port : default_ports[p], NULL, addrs);
					n++;
				}
		}
	freeaddrinfo(res);
}

/* mx_json - the MX list of a --mx target */

static void
mx_json(struct json_object *target, const struct tp_dns_result *mx)
{
	struct json_object *a = json_object_new_array(), *o;

	json_object_object_add(target, "mx_dnssec",
			json_object_new_string(tp_dns_status_name(mx->status)));
	for (size_t i = 0; i < mx->count; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "preference", json_object_new_int((int) mx->mx[i].pref));
		json_object_object_add(o, "host", json_object_new_string(mx->mx[i].host));
		json_object_array_add(a, o);
	}
	json_object_object_add(target, "mx", a);
}

/* mx_host - one MX: its TLSA records, then each address, IPv4 first */

static void
mx_host(struct run *run, struct tp_dns *dns, const char *host, int family,
	struct mx_ctx *mx, struct json_object *addrs)
{
	static const int families[] = {AF_INET, AF_INET6};
	struct tp_dns_result tlsa = {0}, a = {0};
	struct sockaddr_storage ss;
	int	port = run->opts->mx_port;

	(void) tp_dns_tlsa(dns, host, (unsigned) port, &tlsa);
	mx->tlsa = &tlsa;
	for (int f = 0; f < 2; f++) {
		if (family != AF_UNSPEC && family != families[f])
			continue;
		(void) tp_dns_addr(dns, host, families[f], &a);
		if (!run->json && a.status != TP_DNS_SECURE && a.status != TP_DNS_INSECURE)
			printf("%s %s: %s%s%s\n\n", host, families[f] == AF_INET ? "A" : "AAAA",
			       tp_dns_status_name(a.status), a.why[0] ? ": " : "", a.why);
		for (size_t i = 0; i < a.count && i < MAX_ADDRS; i++) {
			memset(&ss, 0, sizeof(ss));
			ss.ss_family = (sa_family_t) a.addr[i].family;
			if (a.addr[i].family == AF_INET)
				memcpy(&((struct sockaddr_in *) &ss)->sin_addr, a.addr[i].addr, 4);
			else
				memcpy(&((struct sockaddr_in6 *) &ss)->sin6_addr, a.addr[i].addr, 16);
			probe_address(run, host, (struct sockaddr *) &ss, a.addr[i].family == AF_INET
				      ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
				      port, mx, addrs);
		}
		tp_dns_result_free(&a);
	}
	tp_dns_result_free(&tlsa);
}

/* dest_rule - --policy: the domain's dest: rule, or NULL (said in text) */

static const struct tp_outbound *
dest_rule(struct run *run, const char *domain)
{
	const struct tp_outbound *ob = NULL;
	const char *why;

	if (run->policy == NULL)
		return (NULL);
	if (tp_policy_dest_lookup(run->policy, domain, &ob, &why) < 0)
		ob = NULL;
	if (ob == NULL && !run->json)
		printf("    dest: rule    none for %s in %s\n\n", domain,
		       tp_policy_file(run->policy));
	return (ob);
}

/* probe_mx - --mx DOMAIN: every MX by preference (the domain if none) */

static void
probe_mx(struct run *run, struct tp_dns *dns, const char *domain, int family)
{
	struct json_object *target = NULL, *addrs = NULL;
	struct tp_dns_result mx = {0};
	struct tp_probe_sts sts;
	struct mx_ctx ctx = {.sts = &sts};
	char	esc[300];

	if (run->json) {
		target = json_object_new_object();
		addrs = json_object_new_array();
		json_object_object_add(target, "target", json_object_new_string(domain));
		json_object_object_add(target, "kind", json_object_new_string("mx"));
		json_object_array_add(run->targets, target);
	}
	(void) tp_dns_mx(dns, domain, &mx);
	if (run->json)
		mx_json(target, &mx);
	if (mx.status != TP_DNS_SECURE && mx.status != TP_DNS_INSECURE) {
		fprintf(stderr, "tlspolicyctl probe: %s: MX lookup: %s%s%s\n",
			tp_escape_term(domain, esc, sizeof(esc)), tp_dns_status_name(mx.status),
			mx.why[0] ? ": " : "", mx.why);
		run->serious = 1;
	} else if (!run->json)
		printf("MX of %s (%s):%s\n\n", domain, tp_dns_status_name(mx.status),
		       mx.count ? "" : " none: the domain itself");
	tp_probe_sts_run(run->opts, dns, domain, &sts);
	if (run->json)
		json_object_object_add(target, "mta_sts", tp_probe_sts_json(&sts, &mx));
	else
		tp_probe_sts_print(stdout, &sts, &mx);
	ctx.dest = dest_rule(run, domain);
	for (size_t i = 0; i < mx.count; i++)
		if (!mx.null_mx)
			mx_host(run, dns, mx.mx[i].host, family, &ctx, addrs);
	if (mx.count == 0 && (mx.status == TP_DNS_SECURE || mx.status == TP_DNS_INSECURE))
		mx_host(run, dns, domain, family, &ctx, addrs);	/* RFC 5321 5.1 */
	if (run->json)
		json_object_object_add(target, "addresses", addrs);
	tp_probe_sts_free(&sts);
	tp_dns_result_free(&mx);
}

/* default_helo - this host's name, for EHLO */

static const char *
default_helo(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0 || buf[0] == 0 || strchr(buf, '.') == NULL)
		snprintf(buf, size, "tlspolicy-probe.invalid");
	buf[size - 1] = 0;
	return (buf);
}

/* helo_ok - a name we may put on an SMTP command line */

static int
helo_ok(const char *s)
{
	return (*s != 0 && strlen(s) < 256 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:") == strlen(s));
}

enum {
	OPT_CA = 256, OPT_NAME, OPT_HELO, OPT_TIMEOUT, OPT_MAX_TIME, OPT_NO_VERSIONS,
	OPT_JSON, OPT_MX, OPT_PORT, OPT_DNS, OPT_TRUST_ANCHOR, OPT_CONNECT_TO,
	OPT_POLICY,
};

#define MAX_MX_TARGETS	32
#define MAX_CONNECT_TO	16

/* The --mx domains, in the order given, and what else only --mx uses. */
struct mx_targets {
	int	n;
	const char *domain[MAX_MX_TARGETS];
	const char *connect_to[MAX_CONNECT_TO];
	size_t	nconnect_to;
	const char *policy;		/* --policy FILE */
};

/* parse - the command line into opts; -1 to go on, else the exit status */

static int
parse(int argc, char **argv, struct tp_probe_opts *opts, int *family,
      int *json, long *max_time, struct mx_targets *mx)
{
	static const struct option longopts[] = {
		{"ca", required_argument, NULL, OPT_CA},
		{"name", required_argument, NULL, OPT_NAME},
		{"helo", required_argument, NULL, OPT_HELO},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"max-time", required_argument, NULL, OPT_MAX_TIME},
		{"no-versions", no_argument, NULL, OPT_NO_VERSIONS},
		{"json", no_argument, NULL, OPT_JSON},
		{"mx", required_argument, NULL, OPT_MX},
		{"port", required_argument, NULL, OPT_PORT},
		{"dns", required_argument, NULL, OPT_DNS},
		{"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
		{"connect-to", required_argument, NULL, OPT_CONNECT_TO},
		{"policy", required_argument, NULL, OPT_POLICY},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long	n;
	int	c, port;
	char	host[256];

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":46h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CA:
			opts->ca = optarg;
			break;
		case OPT_NAME:
			opts->name = optarg;
			break;
		case OPT_HELO:
			if (!helo_ok(optarg))
				return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE,
							   "not a host name", optarg));
			opts->helo = optarg;
			break;
		case OPT_TIMEOUT:
			if (tp_ctl_number(optarg, 1, 300, &n) != 0)
				return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE,
				    "--timeout needs 1-300 seconds", optarg));
			opts->timeout = (int) n;
			break;
		case OPT_MAX_TIME:
			if (tp_ctl_number(optarg, 1, 3600, max_time) != 0)
				return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE,
				    "--max-time needs 1-3600 seconds", optarg));
			break;
		case OPT_NO_VERSIONS:
			opts->versions = 0;
			break;
		case OPT_JSON:
			*json = 1;
			break;
		case OPT_MX:
			if (mx->n == MAX_MX_TARGETS || *optarg == 0 || strlen(optarg) > 253)
				return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE,
				    "too many --mx, or not a domain", optarg));
			mx->domain[mx->n++] = optarg;
			break;
		case OPT_PORT:
			if (tp_ctl_number(optarg, 1, 65535, &n) != 0)
				return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE,
				    "--port needs 1-65535", optarg));
			opts->mx_port = (int) n;
			break;
		case OPT_DNS:
			opts->dns_server = optarg;
			break;
		case OPT_TRUST_ANCHOR:
			opts->trust_anchor = optarg;
			break;
		case OPT_CONNECT_TO:
			if (mx->nconnect_to == MAX_CONNECT_TO)
				return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE,
				    "too many --connect-to", NULL));
			mx->connect_to[mx->nconnect_to++] = optarg;
			break;
		case OPT_POLICY:
			mx->policy = optarg;
			break;
		case '4':
		case '6':
			*family = c == '4' ? AF_INET : AF_INET6;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			return (tp_ctl_option_error(CMD, TP_PROBE_EXIT_USAGE, c, argv));
		}
	}
	if (optind == argc && mx->n == 0)
		return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE, "no target", NULL));
	if ((mx->policy != NULL || mx->nconnect_to > 0) && mx->n == 0)
		return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE,
		    "--policy and --connect-to go with --mx", NULL));
	opts->connect_to = mx->connect_to;
	opts->nconnect_to = mx->nconnect_to;
	for (int i = optind; i < argc; i++)
		if (split_target(argv[i], host, sizeof(host), &port) != 0)
			return (tp_ctl_usage_error(CMD, TP_PROBE_EXIT_USAGE,
			    "not HOST, HOST:PORT or [ADDRESS]:PORT", argv[i]));
	return (-1);
}

/* document - the --json document around the targets */

static void
document(struct run *run, long max_time, int status)
{
	struct json_object *doc = json_object_new_object();
	char	when[32];
	time_t	now = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	json_object_object_add(doc, "schema_version", json_object_new_int(TP_PROBE_SCHEMA));
	json_object_object_add(doc, "tool", json_object_new_string("tlspolicyctl probe"));
	json_object_object_add(doc, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(doc, "finished", json_object_new_string(when));
	json_object_object_add(doc, "timeout", json_object_new_int(run->opts->timeout));
	json_object_object_add(doc, "max_time", json_object_new_int64(max_time));
	json_object_object_add(doc, "targets", json_object_get(run->targets));
	json_object_object_add(doc, "exit_status", json_object_new_int(status));
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY
					    | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

/* new_dns - the validating resolver of --mx, or NULL after a message */

static struct tp_dns *
new_dns(const struct tp_probe_opts *opts)
{
	struct tp_dns_opts d = {opts->dns_server, opts->trust_anchor, opts->timeout * 1000};
	struct tp_dns *dns;
	char	why[TP_DNS_WHY_MAX];

	if ((dns = tp_dns_new(&d, why, sizeof(why))) == NULL)
		fprintf(stderr, "tlspolicyctl probe: %s\n", why);
	return (dns);
}

/* tp_probe_main - tlspolicyctl probe */

int
tp_probe_main(int argc, char **argv)
{
	struct tp_probe_opts opts = {.timeout = DEFAULT_TIMEOUT,.versions = 1,.mx_port = 25};
	struct run run = {.opts = &opts};
	struct mx_targets mx = {0};
	struct tp_dns *dns = NULL;
	long	max_time = DEFAULT_MAX_TIME;
	int	family = AF_UNSPEC, status;
	char	helo[256], why[512];

	if ((status = parse(argc, argv, &opts, &family, &run.json, &max_time, &mx)) >= 0)
		return (status);
	if (mx.policy != NULL && (run.policy = tp_check_load(mx.policy)) == NULL)
		return (TP_PROBE_EXIT_USAGE);
	if (mx.n > 0 && (dns = new_dns(&opts)) == NULL) {
		tp_policy_unref(run.policy);
		return (TP_PROBE_EXIT_USAGE);
	}
	if (opts.helo == NULL)
		opts.helo = default_helo(helo, sizeof(helo));
	if ((run.tls = tp_probe_tls_new(opts.ca, why, sizeof(why))) == NULL) {
		fprintf(stderr, "tlspolicyctl probe: %s\n", why);
		tp_dns_free(dns);
		tp_policy_unref(run.policy);
		return (TP_PROBE_EXIT_USAGE);
	}
	clock_gettime(CLOCK_MONOTONIC, &opts.deadline);
	opts.deadline.tv_sec += max_time;
	run.targets = json_object_new_array();
	for (int i = optind; i < argc; i++)
		probe_target(&run, argv[i], family);
	for (int i = 0; i < mx.n; i++)
		probe_mx(&run, dns, mx.domain[i], family);
	status = !run.reached ? TP_PROBE_EXIT_UNREACHABLE
	    : run.serious ? TP_PROBE_EXIT_FINDING : TP_PROBE_EXIT_OK;
	if (run.json)
		document(&run, max_time, status);
	else
		printf("Result: %s (exit status %d)\n", status == TP_PROBE_EXIT_OK ?
		       "TLS works and verifies everywhere" : status == TP_PROBE_EXIT_FINDING ?
		       "findings above (marked !) break or weaken TLS for some peers" :
		       "nothing was reachable", status);
	json_object_put(run.targets);
	tp_probe_tls_free(run.tls);
	tp_dns_free(dns);
	tp_policy_unref(run.policy);
	return (status);
}
