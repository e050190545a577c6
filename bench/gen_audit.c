/*
 * NAME
 *	gen_audit 1
 * SUMMARY
 *	write realistic audit log records, for the report benchmark
 * SYNOPSIS
 *	gen_audit RECORDS [SEED] > audit.jsonl
 * DESCRIPTION
 *	Writes RECORDS lines of the audit log (schema version 1, as
 *	tlspolicy-milter writes them) to standard output, one message
 *	each, a week of mail in time order:
 *
 *	3,000 sender domains and 2,000 recipient domains, each picked
 *	with a skewed distribution (a few domains send most mail); each
 *	sender domain has 1 to 4 client addresses (the 100 busiest: 64),
 *	IPv4 or IPv6, most with a verified name: about 14,000 clients. A sender domain's servers have a fixed TLS
 *	profile: plaintext (10 %), TLS 1.3, 1.2 or 1.0, STARTTLS or
 *	implicit, 128 or 256 bits, certificate verified or not.
 *
 *	Each sender domain has a rule level: require (some in testing
 *	mode), prefer or skip; a few recipient domains are exempt. The
 *	result of each recipient (pass, fail, unmet-prefer, skip, exempt)
 *	follows from the level and the TLS profile, as the engine would
 *	decide it, with the action, reply and outcome to match. Messages
 *	have 1 recipient (85 %), 2 (10 %) or 3 (5 %); records are 800 to
 *	1,850 bytes, about 950 on average (the schema's field names alone
 *	take about 400 bytes of each).
 *
 *	The same RECORDS and SEED always give the same output.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SENDER_DOMAINS	3000
#define RCPT_DOMAINS	2000
#define START_TIME	1794700800	/* 2026-11-15T00:00:00Z */
#define SPAN_MS		(7LL * 86400 * 1000)
#define POLICY_FILE	"/etc/tlspolicy/policy.conf"

static uint64_t rng_state;

/* rng - xorshift64*: fast, and the same on every platform */

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 2685821657736338717ULL);
}

/* pick - a number below n */

static unsigned
pick(unsigned n)
{
	return ((unsigned)(rng() % n));
}

/* skewed - a number below n, small numbers far more often */

static unsigned
skewed(unsigned n)
{
	double	u = (double)(rng() >> 11) / 9007199254740992.0;

	return ((unsigned)(n * u * u * u));
}

/* mix - a fixed pseudo-random property of a number */

static unsigned
mix(unsigned x, unsigned salt)
{
	uint32_t h = x * 2654435761u ^ salt * 40503u;

	h ^= h >> 15;
	h *= 2246822519u;
	h ^= h >> 13;
	return (h % 100);
}

/* TLS profile of one sender domain's servers. */
struct profile {
	const char *how;		/* none, starttls, implicit */
	const char *version;
	const char *cipher;
	int	bits;
	const char *verify;
	const char *level;		/* require, prefer, skip */
	int	testing;		/* require in testing mode */
	unsigned rule_line;		/* line of its rule in the policy */
};

/* profile_of - the TLS profile and rule of sender domain d */

static void
profile_of(unsigned d, struct profile *p)
{
	unsigned t = mix(d, 1), v = mix(d, 2), c = mix(d, 3), l = mix(d, 4);

	p->how = t < 10 ? "none" : t < 18 ? "implicit" : "starttls";
	p->version = v < 68 ? "TLSv1.3" : v < 97 ? "TLSv1.2" : "TLSv1";
	p->cipher = v < 68 ? (c < 70 ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256")
	    : v < 97 ? (c < 60 ? "ECDHE-RSA-AES256-GCM-SHA384" : "ECDHE-RSA-AES128-GCM-SHA256")
	    : "ECDHE-RSA-AES128-SHA";
	p->bits = strstr(p->cipher, "AES_256") || strstr(p->cipher, "AES256") ? 256 : 128;
	p->verify = c < 25 ? "ok" : c < 90 ? "none" : c < 95 ? "fail" : "unknown";
	p->level = l < 15 ? "require" : l < 55 ? "prefer" : "skip";
	p->testing = l < 5;
	p->rule_line = 10 + d;
}

/* client_addr - address of client k of sender domain d */

static void
client_addr(unsigned d, unsigned k, char *buf, size_t len)
{
	unsigned id = d * 64 + k;

	if (mix(d, 5) < 20)
		snprintf(buf, len, "2001:db8:%x:%x::%x", id >> 8, id & 0xff, k + 1);
	else
		snprintf(buf, len, "100.%u.%u.%u", 64 + (id >> 16), (id >> 8) & 0xff,
			 id & 0xff);
}

/* sender_domain - name of sender domain d */

static void
sender_domain(unsigned d, char *buf, size_t len)
{
	static const char *const sfx[] = {"example", "example.com", "example.net",
	"example.org", "co.example", "mail.example"};
	static const char *const pfx[] = {"bank", "shop", "news", "corp", "mail", "post"};

	snprintf(buf, len, "%s%u.%s", pfx[d % 6], d, sfx[(d / 6) % 6]);
}

/* Everything about one recipient. */
struct rcpt {
	char	domain[64];
	char	addr[96];
	const char *level;
	const char *result;
	const char *action;		/* NULL unless fail */
	int	testing;
	int	refused;
	unsigned line;			/* deciding rule */
	char	reason[160];
	char	reply[200];
};

/* decide - a recipient's decision, as the engine would make it */

static void
decide(const struct profile *p, const char *from_domain, struct rcpt *r)
{
	int	tls = strcmp(p->how, "none") != 0;

	r->action = NULL;
	r->testing = r->refused = 0;
	r->reply[0] = 0;
	r->line = p->rule_line;
	if (strcmp(r->level, "exempt") == 0) {
		r->result = "exempt";
		snprintf(r->reason, sizeof(r->reason), "recipient %s is exempt", r->addr);
	} else if (strcmp(r->level, "skip") == 0) {
		r->result = "skip";
		snprintf(r->reason, sizeof(r->reason), "no TLS rule for this mail");
	} else if (tls && strcmp(p->version, "TLSv1") != 0) {
		r->result = "pass";
		snprintf(r->reason, sizeof(r->reason), "%s policy met", r->level);
	} else if (strcmp(r->level, "prefer") == 0) {
		r->result = "unmet-prefer";
		snprintf(r->reason, sizeof(r->reason), tls ? "TLSv1.2 preferred for mail from %s, got TLSv1"
			 : "TLS preferred for mail from %s", from_domain);
	} else {
		r->result = "fail";
		r->action = "reject";
		r->testing = p->testing;
		r->refused = !p->testing;
		snprintf(r->reason, sizeof(r->reason), tls ? "TLSv1.2 required for mail from %s, got TLSv1"
			 : "TLS required for mail from %s", from_domain);
		snprintf(r->reply, sizeof(r->reply), "550 5.7.1 %s", r->reason);
	}
}

/* make_rcpt - recipient i of a message from sender domain d */

static void
make_rcpt(unsigned d, const struct profile *p, const char *from_domain,
	  struct rcpt *r)
{
	static const char *const users[] = {"info", "sales", "alice", "bob", "carol",
	"dave", "support", "billing", "jobs", "postmaster"};
	unsigned rd = skewed(RCPT_DOMAINS);
	unsigned u = pick(10);

	snprintf(r->domain, sizeof(r->domain), "hosted%u.example.org", rd);
	snprintf(r->addr, sizeof(r->addr), "<%.16s@%.63s>", users[u], r->domain);
	r->level = u == 9 && mix(rd, 6) < 50 ? "exempt" : p->level;
	decide(p, from_domain, r);
	(void)d;
}

/* put_str - a JSON string or null; generated text needs no escapes */

static void
put_str(FILE *fp, const char *key, const char *value, int comma)
{
	if (value == NULL || *value == 0)
		fprintf(fp, "\"%s\":null%s", key, comma ? "," : "");
	else
		fprintf(fp, "\"%s\":\"%s\"%s", key, value, comma ? "," : "");
}

/* put_rcpt - one element of rcpts[] */

static void
put_rcpt(FILE *fp, const struct rcpt *r, unsigned rd_line)
{
	fputc('{', fp);
	put_str(fp, "addr", r->addr, 1);
	put_str(fp, "domain", r->domain, 1);
	put_str(fp, "level", r->level, 1);
	put_str(fp, "result", r->result, 1);
	put_str(fp, "action", r->action, 1);
	fprintf(fp, "\"testing\":%s,\"refused\":%s,", r->testing ? "true" : "false",
		r->refused ? "true" : "false");
	if (strcmp(r->level, "exempt") == 0)
		fprintf(fp, "\"rules\":[\"" POLICY_FILE ":%u\",\"" POLICY_FILE ":%u\"],",
			r->line, rd_line);
	else
		fprintf(fp, "\"rules\":[\"" POLICY_FILE ":%u\"],", r->line);
	fprintf(fp, "\"decided_by\":\"" POLICY_FILE ":%u\",", r->line);
	put_str(fp, "reason", r->reason, 1);
	put_str(fp, "reply", r->reply, 0);
	fputc('}', fp);
}

/* put_time - RFC 3339 UTC with milliseconds */

static void
put_time(FILE *fp, long long ms)
{
	time_t	t = (time_t)(ms / 1000);
	struct tm tm;
	char	buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(fp, "\"time\":\"%s.%03dZ\",", buf, (int)(ms % 1000));
}

/* put_session - host, session, queue id, client and listener */

static void
put_session(FILE *fp, unsigned long i, unsigned d, const char *from_domain,
	    int queued)
{
	char	addr[64], name[128], qid[16];
	unsigned k = pick(d < 100 ? 64 : mix(d, 7) % 4 + 1);
	int	named = mix(d * 64 + k, 8) < 75;

	client_addr(d, k, addr, sizeof(addr));
	snprintf(name, sizeof(name), "mx%u.%s", k + 1, from_domain);
	snprintf(qid, sizeof(qid), "4%010lX", i * 7919 % 0xffffffffffUL);
	fprintf(fp, "\"host\":\"mx1.example.org\",\"session\":\"%08lX\",", 0x5F000000UL + i);
	put_str(fp, "queue_id", queued ? qid : NULL, 1);
	fprintf(fp, "\"client\":{");
	put_str(fp, "addr", addr, 1);
	put_str(fp, "name", named ? name : NULL, 1);
	put_str(fp, "helo", name, 0);
	fprintf(fp, "},\"listener\":{\"name\":\"%s\",\"port\":\"%s\"},",
		mix(d, 1) < 18 && mix(d, 1) >= 10 ? "smtps" : "smtpd",
		mix(d, 1) < 18 && mix(d, 1) >= 10 ? "465" : "25");
}

/* put_tls - the tls object */

static void
put_tls(FILE *fp, const struct profile *p, const char *from_domain)
{
	char	subject[128];
	int	tls = strcmp(p->how, "none") != 0;
	int	cert = tls && strcmp(p->verify, "none") != 0;

	snprintf(subject, sizeof(subject), "mx.%s", from_domain);
	fprintf(fp, "\"tls\":{\"how\":\"%s\",", p->how);
	put_str(fp, "version", tls ? p->version : NULL, 1);
	put_str(fp, "cipher", tls ? p->cipher : NULL, 1);
	if (tls)
		fprintf(fp, "\"bits\":%d,", p->bits);
	else
		fprintf(fp, "\"bits\":null,");
	fprintf(fp, "\"verify\":\"%s\",\"verify_raw\":null,", tls ? p->verify : "none");
	put_str(fp, "subject", cert ? subject : NULL, 1);
	put_str(fp, "issuer", cert ? "R11" : NULL, 0);
	fprintf(fp, "},");
}

/* put_record - record i, a message from a skewed sender domain */

static void
put_record(FILE *fp, unsigned long i, unsigned long n)
{
	static const char *const users[] = {"newsletter", "noreply", "alice", "billing",
	"orders", "j.smith"};
	struct rcpt r[3];
	struct profile p;
	char	from_domain[64];
	unsigned d = skewed(SENDER_DOMAINS);
	unsigned u = pick(100), nr = u < 85 ? 1 : u < 95 ? 2 : 3;
	int	refused = 0;
	long long ms = START_TIME * 1000LL + (long long)(SPAN_MS * ((double)i / n)) + pick(50);

	profile_of(d, &p);
	sender_domain(d, from_domain, sizeof(from_domain));
	for (unsigned j = 0; j < nr; j++) {
		make_rcpt(d, &p, from_domain, &r[j]);
		refused += r[j].refused;
	}
	fprintf(fp, "{\"v\":1,");
	put_time(fp, ms);
	put_session(fp, i, d, from_domain, refused < (int)nr);
	put_tls(fp, &p, from_domain);
	fprintf(fp, "\"sender\":\"<%s@%s>\",\"sender_domain\":\"%s\",\"auth\":null,\"rcpts\":[",
		users[pick(6)], from_domain, from_domain);
	for (unsigned j = 0; j < nr; j++) {
		if (j > 0)
			fputc(',', fp);
		put_rcpt(fp, &r[j], 3000 + d % 97);
	}
	fprintf(fp, "],\"outcome\":\"%s\",\"reply\":null,", refused == (int)nr ? "rejected" : "accepted");
	fprintf(fp, "\"policy\":{\"file\":\"" POLICY_FILE "\",\"generation\":%lu}}\n", 1 + i * 5 / n);
}

int
main(int argc, char **argv)
{
	static char buf[1 << 20];
	unsigned long n;
	char   *end;

	if (argc < 2 || argc > 3 || (n = strtoul(argv[1], &end, 10)) == 0 || *end != 0) {
		fprintf(stderr, "usage: gen_audit RECORDS [SEED] > audit.jsonl\n");
		return (64);
	}
	rng_state = argc == 3 ? strtoull(argv[2], NULL, 10) | 1 : 0x2545F4914F6CDD1DULL;
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	for (unsigned long i = 0; i < n; i++)
		put_record(stdout, i, n);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("gen_audit: write");
		return (1);
	}
	return (0);
}
