/*
 * NAME
 *	export 3
 * SUMMARY
 *	tlspolicyctl export: the outbound half of the policy, for the MTA
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_export_main(int argc, char **argv);
 * DESCRIPTION
 *	"tlspolicyctl export --postfix|--sendmail": the milter sees only
 *	the mail its MTA receives, so the dest: rules (mail the MTA sends)
 *	and the client rules with starttls=off are handed to the MTA as
 *	its own tables: Postfix's smtp_tls_policy_maps plus a cidr: table
 *	for smtpd_discard_ehlo_keyword_address_maps, or Sendmail access-db
 *	lines (TLS_Rcpt:, Try_TLS:, Srv_Features:). See usage() below,
 *	which is also its --help, and tlspolicyctl(8) for the mapping.
 *
 *	Every rule is mapped on its own into (key, text) lines; the lines
 *	are sorted by key, so the output depends on the rules only, not
 *	on their order or on the time. What a target cannot express is
 *	reported with the rule's FILE:LINE; without --lossy nothing is
 *	written then. With --lossy the closest weaker entry is written
 *	with a comment saying what was dropped.
 *
 *	Never weaker than DANE: when the site's smtp_tls_security_level
 *	is dane or dane-only (postconf -h, or --site-level), a rule that
 *	asks for less gives no entry, so the site's DANE stays in force.
 * DIAGNOSTICS
 *	Policy errors as tlspolicyctl check prints them (exit 2); what a
 *	target cannot express as "FILE:LINE: SELECTOR: what" (exit 1
 *	unless --lossy); usage errors (exit 64).
 * MEMORY
 *	The lines are owned by struct export and freed by export_free().
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/tp_ctl.h"
#include "policy/tp_ipaddr.h"
#include "util/tp_buf.h"

#define EXIT_REFUSED	1		/* the target cannot express a rule */
#define EXIT_POLICY	2		/* the policy has errors */
#define LINE_MAX_LEN	4096
#define CIDR_SUFFIX	".starttls-off.cidr"

enum target {
	TARGET_NONE,
	TARGET_POSTFIX,
	TARGET_SENDMAIL,
};

/* One output line: the key it sorts by, then the text. */
struct line {
	char   *key;
	int	rank;			/* 0: comment before the entry, 1: entry */
	char   *text;
};

/* A table being built. */
struct table {
	struct line *v;
	size_t	n;
	size_t	cap;
};

/* The export of one policy to one target. */
struct export {
	enum target target;
	const char *policy;
	const char *out;		/* NULL: standard output */
	const char *site_level;		/* Postfix smtp_tls_security_level */
	int	site_dane;		/* 0, 1 dane, 2 dane-only */
	int	lossy;
	int	refused;		/* inexpressible rules (not --lossy) */
	const struct tp_outbound *last;	/* the last rule counted in refused */
	int	failed;			/* out of memory, a line too long */
	struct table main;		/* policy map or access db */
	struct table cidr;		/* Postfix: starttls=off addresses */
};

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl export --postfix|--sendmail [-f POLICY] [-o FILE]\n"
"           [--site-level LEVEL] [--lossy]\n"
"\n"
"Write the outbound half of the policy (dest: rules, and client rules with\n"
"starttls=off) as the MTA's own tables, for the MTA to enforce.\n"
"\n"
"  --postfix   an smtp_tls_policy_maps table: require -> encrypt, verify=yes\n"
"              -> secure (match= from cert_subject, or the domain; *.x ->\n"
"              .x), verify=dane -> dane-only, prefer -> may, skip -> none;\n"
"              min_version -> protocols=, min_bits -> ciphers=;\n"
"              dest:.D -> .D. With -o FILE, the starttls=off client\n"
"              addresses go to FILE" CIDR_SUFFIX ", a cidr: table for\n"
"              smtpd_discard_ehlo_keyword_address_maps.\n"
"  --sendmail  access-db lines: TLS_Rcpt:D with TEMP+ENCR:bits or\n"
"              TEMP+VERIFY[:bits] and +CN:name; Try_TLS:D NO for skip;\n"
"              Srv_Features:ADDR S for starttls=off clients.\n"
"\n"
"mode=testing rules are not enforced: they are written as comments.\n"
"\n"
"Options:\n"
"  -f, --policy POLICY    the policy file (default %s)\n"
"  -o, --output FILE      write FILE (and its companion) instead of\n"
"                         standard output; replaced whole, or not at all\n"
"      --site-level LEVEL Postfix's smtp_tls_security_level (default: asked\n"
"                         of postconf -h; MAIL_CONFIG selects the instance).\n"
"                         Under dane or dane-only a rule asking for less\n"
"                         gives no entry, so DANE stays in force\n"
"      --lossy            write what the target can express of a rule it\n"
"                         cannot express whole (weaker), instead of failing\n"
"  -h, --help             this text\n"
"\n"
"Exit status:\n"
"  0 written; 1 a rule the target cannot express (nothing written), or\n"
"  the site level is unknown, or FILE cannot be written; 2 the policy has\n"
"  errors; 64 usage error.\n", TP_DEFAULT_POLICY);
}

/* table_add - append a line; keys and texts are copied */

static void
table_add(struct export *ex, struct table *t, const char *key, int rank,
	  const char *text)
{
	struct line *v;

	if (t->n == t->cap) {
		size_t	cap = t->cap ? 2 * t->cap : 32;

		if ((v = realloc(t->v, cap * sizeof(*v))) == NULL) {
			ex->failed = 1;
			return;
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].key = strdup(key);
	t->v[t->n].text = strdup(text);
	t->v[t->n].rank = rank;
	if (t->v[t->n].key == NULL || t->v[t->n].text == NULL) {
		free(t->v[t->n].key);
		free(t->v[t->n].text);
		ex->failed = 1;
		return;
	}
	t->n++;
}

/* table_addf - append a formatted line */

static void __attribute__((format(printf, 5, 6)))
table_addf(struct export *ex, struct table *t, const char *key, int rank,
	   const char *fmt,...)
{
	char	text[LINE_MAX_LEN];
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(text)) {
		fprintf(stderr, "tlspolicyctl export: %s: line too long\n", key);
		ex->failed = 1;
		return;
	}
	table_add(ex, t, key, rank, text);
}

/* table_free - the lines and the array */

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].text);
	}
	free(t->v);
}

/* line_cmp - by key, comments before the entry, then by text */

static int
line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int	c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return (c);
	if (x->rank != y->rank)
		return (x->rank - y->rank);
	return (strcmp(x->text, y->text));
}

/* cannot - what the target cannot express: refuse, or note the loss */

static void
cannot(struct export *ex, struct table *t, const struct tp_outbound *ob,
       const char *key, const char *what)
{
	const char *mta = ex->target == TARGET_POSTFIX ? "Postfix" : "Sendmail";

	fprintf(stderr, "%s:%u: %s: %s cannot express %s%s\n", ob->rule->file,
		(unsigned) ob->rule->line, ob->rule->selector, mta, what,
		ex->lossy ? "; dropped (--lossy)" : "");
	if (ex->lossy)
		table_addf(ex, t, key, 0, "# %s:%u: %s: %s cannot express %s; dropped",
			   ob->rule->file, (unsigned) ob->rule->line,
			   ob->rule->selector, mta, what);
	else if (ex->last != ob) {
		ex->last = ob;
		ex->refused++;
	}
}

/* note - a comment line before the entry for key */

static void
note(struct export *ex, const struct tp_outbound *ob, const char *key,
     const char *what)
{
	table_addf(ex, &ex->main, key, 0, "# %s:%u: %s: %s", ob->rule->file,
		   (unsigned) ob->rule->line, ob->rule->selector, what);
}

/* dest_key - D or .D */

static void
dest_key(const struct tp_outbound *ob, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", ob->subdomains ? "." : "", ob->target);
}

/* postfix_protocols - protocols= for a TLS version floor */

static const char *
postfix_protocols(unsigned min_version)
{
	/* The exclusion form: every Postfix with TLS reads it (">=" is 3.6+). */
	switch (min_version) {
	case TP_TLS_V1_1:
		return (" protocols=!SSLv2:!SSLv3:!TLSv1");
	case TP_TLS_V1_2:
		return (" protocols=!SSLv2:!SSLv3:!TLSv1:!TLSv1.1");
	case TP_TLS_V1_3:
		return (" protocols=!SSLv2:!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.2");
	default:
		return ("");
	}
}

/* postfix_ciphers - ciphers= for min_bits; NULL: beyond Postfix's grades */

static const char *
postfix_ciphers(unsigned bits)
{
	if (bits == 0)
		return ("");
	if (bits <= 128)
		return (" ciphers=medium");
	return (NULL);
}

/* postfix_match - match= for verify=yes: the names, or the domain */

static void
postfix_match(const struct tp_outbound *ob, struct tp_buf *b)
{
	TP_BUF_LIT(b, " match=");
	if (ob->nnames == 0) {
		/*
		 * The recipient domain. For dest:.D that is each subdomain: the
		 * next hop, as Postfix calls it when no transport overrides it.
		 */
		tp_buf_adds(b, ob->subdomains ? "nexthop" : ob->target);
		return;
	}
	for (size_t i = 0; i < ob->nnames; i++) {
		const char *n = ob->names[i];

		if (i > 0)
			TP_BUF_LIT(b, ":");
		/* *.x: Postfix's .x, which also matches deeper names. */
		tp_buf_adds(b, strncmp(n, "*.", 2) == 0 ? n + 1 : n);
	}
}

/* postfix_level - the level word; NULL when the site's DANE must stay */

static const char *
postfix_level(const struct export *ex, const struct tp_outbound *ob)
{
	const struct tp_rule *r = ob->rule;
	int	strength;		/* 0 none, 1 may, 2 encrypt, 3 secure, 4 dane-only */
	static const char *const words[] = {"none", "may", "encrypt", "secure",
	"dane-only"};

	if (r->level == TP_LEVEL_SKIP)
		strength = 0;
	else if (r->level == TP_LEVEL_PREFER)
		strength = 1;
	else if (ob->verify == TP_DEST_VERIFY_DANE)
		strength = 4;
	else if (ob->verify == TP_DEST_VERIFY_YES)
		strength = 3;
	else
		strength = 2;
	/* Under dane: none, may, encrypt ask for less; under dane-only all but dane-only. */
	if ((ex->site_dane == 1 && strength < 3) || (ex->site_dane == 2 && strength < 4))
		return (NULL);
	return (words[strength]);
}

/* postfix_dest - one dest: rule as an smtp_tls_policy_maps entry */

static void
postfix_dest(struct export *ex, const struct tp_outbound *ob)
{
	const struct tp_rule *r = ob->rule;
	char	key[300], text[LINE_MAX_LEN];
	struct tp_buf b = TP_BUF(text, sizeof(text));
	const char *level, *ciphers;

	dest_key(ob, key, sizeof(key));
	if (r->testing) {
		note(ex, ob, key, "mode=testing: not enforced, no entry");
		return;
	}
	if ((level = postfix_level(ex, ob)) == NULL) {
		note(ex, ob, key, "asks for less than the site's DANE level: no entry");
		return;
	}
	if (ex->site_dane == 1 && strcmp(level, "secure") == 0)
		fprintf(stderr, "%s:%u: %s: warning: secure takes the place of the site's"
			" DANE for this domain\n", r->file, (unsigned) r->line, r->selector);
	tp_buf_addf(&b, "%s\t%s", key, level);
	if (r->level != TP_LEVEL_SKIP) {
		tp_buf_adds(&b, postfix_protocols(r->min_version));
		if ((ciphers = postfix_ciphers(r->min_bits)) == NULL) {
			cannot(ex, &ex->main, ob, key, "min_bits above 128 (its cipher grades stop at"
			       " high, which admits 128-bit ciphers)");
			ciphers = " ciphers=high";
		}
		tp_buf_adds(&b, ciphers);
		if (ob->verify == TP_DEST_VERIFY_YES && r->level == TP_LEVEL_REQUIRE)
			postfix_match(ob, &b);
	}
	if (b.full) {
		fprintf(stderr, "%s:%u: %s: entry too long\n", r->file, (unsigned) r->line,
			r->selector);
		ex->failed = 1;
		return;
	}
	table_add(ex, &ex->main, key, 1, text);
}

/* postfix_client - a starttls=off client address as a cidr: entry */

static void
postfix_client(struct export *ex, const struct tp_outbound *ob)
{
	struct tp_ip ip;
	unsigned plen;
	const char *why;
	char	addr[TP_IP_TEXT_MAX], key[TP_IP_TEXT_MAX + 8];

	if (ob->rule->kind != TP_KIND_CLIENT_ADDR) {
		cannot(ex, &ex->cidr, ob, ob->target, "starttls=off for a host name (its"
		       " smtpd_discard_ehlo_keyword_address_maps take addresses)");
		return;
	}
	if (tp_prefix_parse(ob->target, &ip, &plen, &why) < 0) {
		fprintf(stderr, "%s:%u: %s: %s\n", ob->rule->file,
			(unsigned) ob->rule->line, ob->rule->selector, why);
		ex->failed = 1;
		return;
	}
	tp_ip_format(&ip, addr, sizeof(addr));
	snprintf(key, sizeof(key), "%s/%u", addr, plen);
	table_addf(ex, &ex->cidr, key, 1, "%s\tstarttls", key);
}

/* sendmail_dest - one dest: rule as an access-db line */

static void
sendmail_dest(struct export *ex, const struct tp_outbound *ob)
{
	const struct tp_rule *r = ob->rule;
	char	dom[300], key[320], text[LINE_MAX_LEN];
	struct tp_buf b = TP_BUF(text, sizeof(text));

	/* The key sorts the lines: the whole left-hand side, tag and all. */
	dest_key(ob, dom, sizeof(dom));
	snprintf(key, sizeof(key), "%s:%s", r->level == TP_LEVEL_SKIP ? "Try_TLS" :
		 "TLS_Rcpt", dom);
	if (r->testing) {
		note(ex, ob, key, "mode=testing: not enforced, no entry");
		return;
	}
	if (r->level == TP_LEVEL_SKIP) {
		table_addf(ex, &ex->main, key, 1, "%s\tNO", key);
		return;
	}
	if (r->level == TP_LEVEL_PREFER) {
		note(ex, ob, key, "prefer: Sendmail's default (STARTTLS when offered), no entry");
		return;
	}
	if (r->min_version != TP_TLS_NO_VERSION)
		cannot(ex, &ex->main, ob, key, "a TLS version floor (min_version)");
	if (ob->verify == TP_DEST_VERIFY_DANE)
		cannot(ex, &ex->main, ob, key, "verify=dane per domain (DANE is its"
		       " site-wide confDANE option)");
	if (ob->verify == TP_DEST_VERIFY_YES) {
		tp_buf_adds(&b, "TEMP+VERIFY");
		if (r->min_bits)
			tp_buf_addf(&b, ":%u", (unsigned) r->min_bits);
		if (ob->nnames == 0 && !ob->subdomains)
			tp_buf_addf(&b, "+CN:%s", ob->target);
		else if (ob->nnames == 1 && strncmp(ob->names[0], "*.", 2) != 0)
			tp_buf_addf(&b, "+CN:%s", ob->names[0]);
		else
			cannot(ex, &ex->main, ob, key, ob->nnames == 0 ?
			       "the recipient's subdomain as the certificate name" :
			       "several or wildcard certificate names (+CN: is one"
			       " exact name)");
	} else
		tp_buf_addf(&b, "TEMP+ENCR:%u", r->min_bits ? (unsigned) r->min_bits : 1u);
	table_addf(ex, &ex->main, key, 1, "%s\t%s", key, text);
}

/* sendmail_addr - the access-db key for an address prefix; -1: none */

static int
sendmail_addr(const struct tp_ip *ip, unsigned plen, char *buf, size_t len)
{
	struct tp_buf b = TP_BUF(buf, len);

	if (ip->family == 4) {
		if (plen % 8 != 0 || plen == 0)
			return (-1);
		for (unsigned i = 0; i < plen / 8; i++)
			tp_buf_addf(&b, "%s%u", i ? "." : "", ip->bytes[i]);
	} else {
		/* Sendmail writes IPv6 as IPv6:0:0:0:0:0:0:0:1, no "::". */
		if (plen % 16 != 0 || plen == 0)
			return (-1);
		TP_BUF_LIT(&b, "IPv6:");
		for (unsigned i = 0; i < plen / 16; i++)
			tp_buf_addf(&b, "%s%x", i ? ":" : "",
				    (unsigned) (ip->bytes[2 * i] << 8 | ip->bytes[2 * i + 1]));
	}
	return (b.full ? -1 : 0);
}

/* sendmail_client - a starttls=off client as a Srv_Features: line */

static void
sendmail_client(struct export *ex, const struct tp_outbound *ob)
{
	struct tp_ip ip;
	unsigned plen;
	const char *why;
	char	addr[300], key[320];

	if (ob->rule->kind != TP_KIND_CLIENT_ADDR) {
		snprintf(addr, sizeof(addr), "%s%s", ob->subdomains ? "." : "", ob->target);
	} else if (tp_prefix_parse(ob->target, &ip, &plen, &why) < 0) {
		fprintf(stderr, "%s:%u: %s: %s\n", ob->rule->file,
			(unsigned) ob->rule->line, ob->rule->selector, why);
		ex->failed = 1;
		return;
	} else if (sendmail_addr(&ip, plen, addr, sizeof(addr)) < 0) {
		snprintf(key, sizeof(key), "Srv_Features:%s", ob->target);
		cannot(ex, &ex->main, ob, key, "a prefix that is not whole octets"
		       " (IPv4) or groups of 16 bits (IPv6)");
		return;
	}
	snprintf(key, sizeof(key), "Srv_Features:%s", addr);
	table_addf(ex, &ex->main, key, 1, "%s\tS", key);
}

/* map_rules - every dest: and starttls=off rule through the target */

static void
map_rules(struct export *ex, const struct tp_policy *p)
{
	const struct tp_outbound *ob;
	size_t	it = 0;

	while ((ob = tp_policy_dest_next(p, &it)) != NULL)
		(ex->target == TARGET_POSTFIX ? postfix_dest : sendmail_dest) (ex, ob);
	it = 0;
	while ((ob = tp_policy_starttls_off_next(p, &it)) != NULL)
		(ex->target == TARGET_POSTFIX ? postfix_client : sendmail_client) (ex, ob);
}

/* write_table - header and sorted lines to fp */

static void
write_table(const struct export *ex, FILE *fp, struct table *t, const char *what)
{
	qsort(t->v, t->n, sizeof(*t->v), line_cmp);
	fprintf(fp, "# Generated by tlspolicyctl export --%s from %s.\n"
		"# Do not edit: change the policy and export again.\n# %s\n",
		ex->target == TARGET_POSTFIX ? "postfix" : "sendmail", ex->policy, what);
	if (ex->target == TARGET_POSTFIX && t == &ex->main)
		fprintf(fp, "# Site smtp_tls_security_level: %s\n",
			*ex->site_level ? ex->site_level : "(empty)");
	for (size_t i = 0; i < t->n; i++)
		fprintf(fp, "%s\n", t->v[i].text);
}

/* write_file - a table to path, whole or not at all (temp + rename) */

static int
write_file(const struct export *ex, const char *path, struct table *t,
	   const char *what)
{
	char	tmp[4096];
	FILE   *fp;
	int	ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid()) >= (int) sizeof(tmp)
	    || (fp = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "tlspolicyctl export: %s: cannot write: %s\n", path,
			strerror(errno));
		return (-1);
	}
	write_table(ex, fp, t, what);
	ok = !ferror(fp);
	if (fclose(fp) != 0 || !ok || rename(tmp, path) != 0) {
		fprintf(stderr, "tlspolicyctl export: %s: cannot write: %s\n", path,
			strerror(errno));
		unlink(tmp);
		return (-1);
	}
	return (0);
}

/* write_all - the table(s) to -o FILE or standard output */

static int
write_all(struct export *ex)
{
	const char *what = ex->target == TARGET_POSTFIX ?
	"smtp_tls_policy_maps = hash:FILE; run postmap FILE after each export." :
	"Access-db lines: FEATURE(`access_db'), and FEATURE(`lookupdotdomain')"
	" for .domain keys.";
	const char *cwhat = "smtpd_discard_ehlo_keyword_address_maps = cidr:FILE"
	" (starttls=off clients).";
	char	cpath[4096];

	if (ex->out == NULL) {
		if (ex->cidr.n > 0) {
			fprintf(stderr, "tlspolicyctl export: starttls=off client rules need"
				" -o FILE (they go to FILE" CIDR_SUFFIX ")\n");
			return (EXIT_REFUSED);
		}
		write_table(ex, stdout, &ex->main, what);
		return (fflush(stdout) == 0 ? 0 : EXIT_REFUSED);
	}
	if (ex->target == TARGET_POSTFIX) {
		if (snprintf(cpath, sizeof(cpath), "%s%s", ex->out, CIDR_SUFFIX)
		    >= (int) sizeof(cpath) || write_file(ex, cpath, &ex->cidr, cwhat) < 0)
			return (EXIT_REFUSED);
	}
	return (write_file(ex, ex->out, &ex->main, what) < 0 ? EXIT_REFUSED : 0);
}

/* words_have - a comma- or space-separated list has the word */

static int
words_have(const char *list, const char *word)
{
	size_t	n = strlen(word);

	for (const char *p = list; *p; p += strcspn(p, ", \t")) {
		p += strspn(p, ", \t");
		if (strncmp(p, word, n) == 0 && (p[n] == 0 || strchr(", \t", p[n])))
			return (1);
	}
	return (0);
}

/* site_from_postconf - the level of the Postfix in use; its subdomain rule */

static int
site_from_postconf(char *buf, size_t len, int *parent_matches)
{
	FILE   *fp;
	char	list[4096];
	int	ok;

	/* Two lines, in this order; MAIL_CONFIG picks the instance. */
	if ((fp = popen("postconf -h smtp_tls_security_level"
			" parent_domain_matches_subdomains 2>/dev/null", "r")) == NULL)
		return (-1);
	ok = fgets(buf, (int) len, fp) != NULL && strchr(buf, '\n') != NULL
		&& fgets(list, sizeof(list), fp) != NULL;
	/* Drain, so that postconf is not killed by SIGPIPE. */
	while (fgetc(fp) != EOF)
		continue;
	if (pclose(fp) != 0 || !ok)
		return (-1);
	buf[strcspn(buf, "\r\n")] = 0;
	list[strcspn(list, "\r\n")] = 0;
	*parent_matches = words_have(list, "smtp_tls_policy_maps");
	return (0);
}

/* site_dane - 0, 1 for dane, 2 for dane-only; -1 an unknown level */

static int
site_dane(const char *level)
{
	static const char *const known[] = {"", "none", "may", "encrypt", "fingerprint",
	"verify", "secure"};

	if (strcmp(level, "dane") == 0)
		return (1);
	if (strcmp(level, "dane-only") == 0)
		return (2);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(level, known[i]) == 0)
			return (0);
	return (-1);
}

/* parse_args - the command line into ex: -1 to go on, or the exit status */

static int
parse_args(int argc, char **argv, struct export *ex)
{
	static const struct option longopts[] = {
		{"postfix", no_argument, NULL, 'P'},
		{"sendmail", no_argument, NULL, 'S'},
		{"policy", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"site-level", required_argument, NULL, 'L'},
		{"lossy", no_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int	c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'P':
		case 'S':
			if (ex->target != TARGET_NONE)
				return (tp_ctl_usage_error("export", TP_CTL_EXIT_USAGE,
						"give one of --postfix and --sendmail", NULL));
			ex->target = c == 'P' ? TARGET_POSTFIX : TARGET_SENDMAIL;
			break;
		case 'f':
			ex->policy = optarg;
			break;
		case 'o':
			ex->out = optarg;
			break;
		case 'L':
			ex->site_level = optarg;
			break;
		case 'l':
			ex->lossy = 1;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			return (tp_ctl_option_error("export", TP_CTL_EXIT_USAGE, c, argv));
		}
	}
	if (optind < argc)
		return (tp_ctl_usage_error("export", TP_CTL_EXIT_USAGE,
					   "unexpected argument", argv[optind]));
	if (ex->target == TARGET_NONE)
		return (tp_ctl_usage_error("export", TP_CTL_EXIT_USAGE,
					   "give --postfix or --sendmail", NULL));
	if (ex->site_level && ex->target != TARGET_POSTFIX)
		return (tp_ctl_usage_error("export", TP_CTL_EXIT_USAGE,
					   "--site-level is for --postfix", NULL));
	return (-1);
}

/* resolve_site - the site level from --site-level or postconf */

static int
resolve_site(struct export *ex, char *buf, size_t len)
{
	int	parent_matches = 0;

	if (ex->target != TARGET_POSTFIX)
		return (0);
	if (ex->site_level == NULL) {
		if (site_from_postconf(buf, len, &parent_matches) < 0) {
			fprintf(stderr, "tlspolicyctl export: cannot run postconf -h"
				" smtp_tls_security_level; give --site-level LEVEL\n");
			return (-1);
		}
		ex->site_level = buf;
		if (parent_matches)
			fprintf(stderr, "tlspolicyctl export: warning:"
				" parent_domain_matches_subdomains lists smtp_tls_policy_maps:"
				" an entry for a domain applies to its subdomains too\n");
	}
	if ((ex->site_dane = site_dane(ex->site_level)) < 0) {
		fprintf(stderr, "tlspolicyctl export: unknown smtp_tls_security_level"
			" \"%s\"\n", ex->site_level);
		return (-1);
	}
	return (0);
}

/* tp_export_main - tlspolicyctl export */

int
tp_export_main(int argc, char **argv)
{
	struct export ex = {.policy = TP_DEFAULT_POLICY};
	struct tp_policy *p = NULL;
	char	site[128];
	int	status;

	if ((status = parse_args(argc, argv, &ex)) >= 0)
		return (status);
	if ((p = tp_check_load(ex.policy)) == NULL) {
		status = EXIT_POLICY;
		goto out;
	}
	if (resolve_site(&ex, site, sizeof(site)) < 0) {
		status = EXIT_REFUSED;
		goto out;
	}
	map_rules(&ex, p);
	if (ex.failed || ex.refused) {
		if (ex.refused)
			fprintf(stderr, "%s: %d rule%s the target cannot express; nothing"
				" written (--lossy writes what it can)\n", ex.policy,
				ex.refused, ex.refused == 1 ? "" : "s");
		status = EXIT_REFUSED;
		goto out;
	}
	status = write_all(&ex);
out:
	table_free(&ex.main);
	table_free(&ex.cidr);
	tp_policy_unref(p);
	return (status);
}
