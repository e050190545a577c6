/*
 * NAME
 *	bench_policy 1
 * SUMMARY
 *	policy engine benchmark: load time, memory, decision latency
 * SYNOPSIS
 *	bench_policy RULES [DIR]
 * DESCRIPTION
 *	Writes a policy of RULES rules (sender, subdomain, recipient
 *	domain and address, IPv4 /24 and /32, IPv6 /64 and host name
 *	rules, mixed) to DIR (default /tmp), then in this process:
 *	loads it (wall time, resident memory added), and times decisions
 *	for random queries of which about half hit a rule, each query
 *	with client address, client name, sender and one recipient.
 *	Per-call times include the clock read (~20 ns), so they
 *	overstate the cost. Prints one markdown table row.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/tp_policy.h"

#define QUERIES		200000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* rss_kb - resident set size of this process, from /proc */

static long
rss_kb(void)
{
	char	line[256];
	long	kb = -1;
	FILE   *fp = fopen("/proc/self/status", "r");

	if (fp == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return (kb);
}

/* scramble - a bijection on 32 bits, so generated networks never repeat */

static uint32_t
scramble(uint32_t i)
{
	return (i * 2654435761u + 0x9e3779b9u);
}

/* rule_text - rule number i */

static void
rule_text(uint32_t i, char *buf, size_t len)
{
	uint32_t x = scramble(i);

	switch (i % 10) {
	case 0: case 1: case 2:
		snprintf(buf, len, "sender:d%u.example%u require min_version=TLSv1.2\n", i, i % 97);
		break;
	case 3:
		snprintf(buf, len, "sender:.s%u.example prefer\n", i);
		break;
	case 4:
		snprintf(buf, len, "rcpt:r%u.example.org require min_bits=128 action=tempfail\n", i);
		break;
	case 5:
		snprintf(buf, len, "rcpt:u%u@r%u.example.net exempt\n", i, i);
		break;
	case 6:
		snprintf(buf, len, "client:%u.%u.%u.0/24 require verify=yes\n",
			 (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		break;
	case 7:
		snprintf(buf, len, "client:%u.%u.%u.%u prefer\n",
			 x >> 24, (x >> 16) & 0xff, (x >> 8) & 0xff, x & 0xff);
		break;
	case 8:
		snprintf(buf, len, "client:2001:db8:%x:%x::/64 require\n", i >> 16, i & 0xffff);
		break;
	default:
		snprintf(buf, len, "client:h%u.hosts.example require cert_issuer=\"CA %u\"\n", i, i % 7);
		break;
	}
}

/* write_policy - the generated policy file */

static void
write_policy(const char *path, uint32_t rules)
{
	char	line[256];
	FILE   *fp = fopen(path, "w");

	if (fp == NULL) {
		perror(path);
		exit(1);
	}
	fputs("default prefer\n", fp);
	for (uint32_t i = 0; i < rules - 1; i++) {
		rule_text(i, line, sizeof(line));
		fputs(line, fp);
	}
	if (fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

struct query_text {
	char	client[48];
	char	name[48];
	char	sender[48];
	char	rcpt[64];
};

/* make_query - a query whose parts hit rules about half the time */

static void
make_query(uint32_t rules, unsigned *seed, struct query_text *t)
{
	uint32_t a = (uint32_t)rand_r(seed) % (2 * rules);
	uint32_t b = (uint32_t)rand_r(seed) % (2 * rules);
	uint32_t c = (uint32_t)rand_r(seed) % (2 * rules);
	uint32_t x = scramble(a);

	if (a % 10 == 7)
		snprintf(t->client, sizeof(t->client), "%u.%u.%u.%u", x >> 24, (x >> 16) & 0xff, (x >> 8) & 0xff, x & 0xff);
	else if (a % 10 == 8)
		snprintf(t->client, sizeof(t->client), "2001:db8:%x:%x::25", a >> 16, a & 0xffff);
	else
		snprintf(t->client, sizeof(t->client), "%u.%u.%u.%u", (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, a % 250 + 1);
	snprintf(t->name, sizeof(t->name), "h%u.hosts.example", a);
	if (b % 10 == 3)
		snprintf(t->sender, sizeof(t->sender), "<u@mx.s%u.example>", b);
	else
		snprintf(t->sender, sizeof(t->sender), "<u@d%u.example%u>", b, b % 97);
	if (c % 10 == 5)
		snprintf(t->rcpt, sizeof(t->rcpt), "<u%u@r%u.example.net>", c, c);
	else
		snprintf(t->rcpt, sizeof(t->rcpt), "<x@r%u.example.org>", c);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a;
	double	y = *(const double *)b;

	return ((x > y) - (x < y));
}

int
main(int argc, char **argv)
{
	static const struct tp_tls_state tls = {
		TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384", 256,
		TP_VERIFY_NONE, NULL, NULL, NULL,
	};
	uint32_t rules;
	char	path[512];
	struct tp_errors errs;
	struct tp_policy *p;
	struct query_text *qt;
	double *lat;
	double	t0, load_s, batch_s;
	long	rss0, rss1;
	unsigned seed = 42;
	unsigned long hits = 0;

	if (argc < 2 || (rules = (uint32_t)strtoul(argv[1], NULL, 10)) < 2) {
		fprintf(stderr, "usage: bench_policy RULES [DIR]\n");
		return (64);
	}
	snprintf(path, sizeof(path), "%s/tlspolicy-bench-%u-%d.policy",
		 argc > 2 ? argv[2] : "/tmp", rules, (int)getpid());
	write_policy(path, rules);

	tp_errors_init(&errs);
	rss0 = rss_kb();
	t0 = now();
	p = tp_policy_load(path, &errs);
	load_s = now() - t0;
	rss1 = rss_kb();
	unlink(path);
	if (p == NULL) {
		fprintf(stderr, "load failed: %s\n", errs.kept ? errs.msgs[0] : "?");
		return (1);
	}

	qt = calloc(QUERIES, sizeof(*qt));
	lat = calloc(QUERIES, sizeof(*lat));
	for (int i = 0; i < QUERIES; i++)
		make_query(rules, &seed, &qt[i]);
	for (int i = 0; i < QUERIES; i++) {
		struct tp_query q = {qt[i].client, qt[i].name, qt[i].sender, qt[i].rcpt, &tls, false, NULL};
		struct tp_decision d;
		double	s = now();

		tp_policy_decide(p, &q, &d);
		lat[i] = now() - s;
		hits += d.nrules > 1 || (d.nrules == 1 && d.rules[0]->kind != TP_KIND_DEFAULT);
	}
	t0 = now();
	for (int i = 0; i < QUERIES; i++) {
		struct tp_query q = {qt[i].client, qt[i].name, qt[i].sender, qt[i].rcpt, &tls, false, NULL};
		struct tp_decision d;

		tp_policy_decide(p, &q, &d);
	}
	batch_s = now() - t0;
	qsort(lat, QUERIES, sizeof(*lat), cmp_double);
	printf("| %9u | %7.3f s | %7.1f MB | %6.0f ns | %6.0f ns | %6.0f ns | %4.0f %% |\n",
	       rules, load_s, (rss1 - rss0) / 1024.0, lat[QUERIES / 2] * 1e9,
	       lat[QUERIES * 99 / 100] * 1e9, batch_s / QUERIES * 1e9,
	       100.0 * hits / QUERIES);
	tp_policy_unref(p);
	tp_errors_free(&errs);
	free(qt);
	free(lat);
	return (0);
}
