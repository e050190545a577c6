/*
 * NAME
 *	check_dest 1
 * SUMMARY
 *	unit tests: dest: and starttls=off rules, include, the outbound API
 * DESCRIPTION
 *	The outbound half of the policy language: its errors, the walks
 *	and the dest: lookup of tp_policy.h, that decisions never use a
 *	dest: rule, and include (relative paths, globs, shadowing,
 *	cycles, limits) on files in a temporary directory of its own.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_suites.h"
#include "policy/tp_policy_impl.h"

static char dir[64];			/* this test's temporary directory */

/* put - write a file below dir; its path */

static const char *
put(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE   *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg((fp = fopen(path, "w")) != NULL, "cannot write %s", path);
	fputs(text, fp);
	fclose(fp);
	return (path);
}

/* load - load dir/name; errors into errs (initialized here) */

static struct tp_policy *
load(const char *name, struct tp_errors *errs)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	tp_errors_init(errs);
	return (tp_policy_load(path, errs));
}

/* load_text - a one-file policy from text */

static struct tp_policy *
load_text(const char *text, struct tp_errors *errs)
{
	put("main.policy", text);
	return (load("main.policy", errs));
}

/* has_error - an error at FILE:LINE (FILE below dir) containing text */

static int
has_error(const struct tp_errors *errs, const char *file, unsigned line, const char *text)
{
	char	where[PATH_MAX + 32];

	snprintf(where, sizeof(where), "%s/%s:%u: ", dir, file, line);
	for (size_t i = 0; i < errs->kept; i++)
		if (strncmp(errs->msgs[i], where, strlen(where)) == 0
		    && strstr(errs->msgs[i], text) != NULL)
			return (1);
	return (0);
}

/* all_errors - the errors, one string, for failure messages */

static const char *
all_errors(const struct tp_errors *errs)
{
	static char text[4096];
	size_t	len = 0;

	text[0] = 0;
	for (size_t i = 0; i < errs->kept && len < sizeof(text) - 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", errs->msgs[i]);
	return (text);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tlspolicy-dest-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_dest_rules)
{
	struct tp_errors errs;
	struct tp_policy *p = load_text(
		"dest:Bank.Example require min_version=TLSv1.2 verify=yes\n"
		"dest:.bank.example require cert_subject=*.Bank.example,MX.bücher.example min_bits=128\n"
		"dest:partner.example require verify=dane mode=testing\n"
		"dest:legacy.example skip\n"
		"client:198.51.100.0/24 skip starttls=off\n"
		"client:.broken.example skip starttls=off\n"
		"client:192.0.2.1 skip\n", &errs);
	const struct tp_outbound *ob;
	size_t	iter = 0;

	ck_assert_msg(p != NULL, "refused: %s", all_errors(&errs));
	ob = tp_policy_dest_next(p, &iter);
	ck_assert_str_eq(ob->rule->selector, "dest:bank.example");
	ck_assert_str_eq(ob->target, "bank.example");
	ck_assert(!ob->subdomains);
	ck_assert_int_eq(ob->verify, TP_DEST_VERIFY_YES);
	ck_assert_int_eq(ob->rule->min_version, TP_TLS_V1_2);
	ck_assert_uint_eq(ob->rule->line, 1);
	ck_assert_uint_eq(ob->nnames, 0);
	ob = tp_policy_dest_next(p, &iter);
	ck_assert_str_eq(ob->target, "bank.example");
	ck_assert(ob->subdomains);
	ck_assert_int_eq(ob->verify, TP_DEST_VERIFY_YES);	/* implied */
	ck_assert_uint_eq(ob->nnames, 2);
	ck_assert_str_eq(ob->names[0], "*.bank.example");
	ck_assert_str_eq(ob->names[1], "mx.xn--bcher-kva.example");
	ck_assert_uint_eq(ob->rule->min_bits, 128);
	ob = tp_policy_dest_next(p, &iter);
	ck_assert_int_eq(ob->verify, TP_DEST_VERIFY_DANE);
	ck_assert(ob->rule->testing);
	ob = tp_policy_dest_next(p, &iter);
	ck_assert_int_eq(ob->rule->level, TP_LEVEL_SKIP);
	ck_assert_ptr_null(tp_policy_dest_next(p, &iter));

	iter = 0;
	ob = tp_policy_starttls_off_next(p, &iter);
	ck_assert_str_eq(ob->target, "198.51.100.0/24");
	ck_assert_int_eq(ob->rule->kind, TP_KIND_CLIENT_ADDR);
	ob = tp_policy_starttls_off_next(p, &iter);
	ck_assert_str_eq(ob->target, "broken.example");
	ck_assert(ob->subdomains);
	ck_assert_ptr_null(tp_policy_starttls_off_next(p, &iter));
	ck_assert_ptr_null(tp_policy_outbound(p, tp_policy_rule_next(p, &(size_t){6})));
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

/* A rule as text parses back to the same outbound rule. */
START_TEST(test_format_round_trip)
{
	static const char *const rules[] = {
		"dest:.bank.example require min_version=TLSv1.3 min_bits=256 cert_subject=\"*.bank.example,mx.bank.example\" mode=testing",
		"dest:partner.example require verify=dane",
		"dest:x.example prefer verify=yes",
		"client:2001:db8::/32 skip starttls=off",
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct tp_errors errs;
		struct tp_policy *p;
		char	line[1024], text[1100];
		size_t	iter = 0;
		const struct tp_rule *r;

		snprintf(text, sizeof(text), "%s\n", rules[i]);
		ck_assert_msg((p = load_text(text, &errs)) != NULL, "%s", all_errors(&errs));
		r = tp_policy_rule_next(p, &iter);
		tp_outbound_format(tp_policy_outbound(p, r), line, sizeof(line));
		ck_assert_str_eq(line, rules[i]);
		tp_policy_unref(p);
		tp_errors_free(&errs);
	}
}
END_TEST

/* Every error of the outbound half, on its own line. */
START_TEST(test_dest_errors)
{
	static const struct {
		const char *rule;
		const char *error;
	}	cases[] = {
		{"dest:a.example exempt", "exempt is not allowed on dest: rules"},
		{"dest:a.example require action=tag", "action= is not allowed on dest: rules"},
		{"dest:a.example require reply=no", "reply= is not allowed on dest: rules"},
		{"dest:a.example require cert_issuer=CA", "cert_issuer= is not allowed on dest: rules"},
		{"dest:a.example require verify=dane cert_subject=mx.a.example", "verify=dane and cert_subject="},
		{"dest:a.example require verify=no cert_subject=mx.a.example", "verify=no contradicts"},
		{"dest:a.example require verify=maybe", "expected yes or no or dane"},
		{"dest:a.example require cert_subject=mx*.a.example", "a wildcard is \"*.\" before a name"},
		{"dest:a.example require cert_subject=*.*.a.example", "a wildcard is \"*.\" before a name"},
		{"dest:a.example require cert_subject=*", "a wildcard is \"*.\" before a name"},
		{"dest:a.example require cert_subject=mx.a.example,", "empty name in the list"},
		{"dest:a.example require cert_subject=a..example", "empty label"},
		{"dest:a.example require cert_subject=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,aa,ab,ac,ad,ae,af,ag", "more than 32 names"},
		{"dest:a.example skip min_version=TLSv1.2", "attributes are not allowed on skip rules"},
		{"dest:user@a.example require", "dest: takes a domain, not an address"},
		{"dest:", "nothing after \"dest:\""},
		{"dest:a.example require starttls=off", "starttls=off is only for client: rules"},
		{"rcpt:a.example require verify=dane", "verify=dane is only for dest: rules"},
		{"rcpt:a.example skip starttls=off", "starttls=off is only for client: rules"},
		{"client:192.0.2.1 require starttls=off", "starttls=off needs level skip"},
		{"client:192.0.2.1 skip starttls=on", "starttls: expected off"},
		{"client:192.0.2.1 skip starttls=off mode=testing", "attributes are not allowed on skip rules"},
		{"include", "expected one path or pattern after include"},
		{"include a b", "expected one path or pattern after include"},
		{"dest:a.example require\ndest:A.example. prefer", "selector defined twice (first as dest:a.example at line 1)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tp_errors errs;
		char	text[512];
		unsigned line = strchr(cases[i].rule, '\n') ? 2 : 1;

		snprintf(text, sizeof(text), "%s\n", cases[i].rule);
		ck_assert_ptr_null(load_text(text, &errs));
		ck_assert_msg(has_error(&errs, "main.policy", line, cases[i].error),
			      "%s: want \"%s\", got\n%s", cases[i].rule, cases[i].error,
			      all_errors(&errs));
		tp_errors_free(&errs);
	}
}
END_TEST

/* lookup - the selector of the dest: rule for domain, "" for none, NULL if bad */

static const char *
lookup(const struct tp_policy *p, const char *domain)
{
	const struct tp_outbound *ob;
	const char *why;
	int	rc = tp_policy_dest_lookup(p, domain, &ob, &why);

	if (rc < 0)
		return (NULL);
	ck_assert_int_eq(rc, ob != NULL);
	return (ob ? ob->rule->selector : "");
}

/* The dest: lookup has rcpt:'s semantics: exact, then nearest .parent. */
START_TEST(test_dest_lookup)
{
	struct tp_errors errs;
	struct tp_policy *p = load_text(
		"dest:bank.example require\n"
		"dest:.bank.example prefer\n"
		"dest:.eu.bank.example require verify=yes\n"
		"dest:xn--bcher-kva.example skip\n"
		"rcpt:other.example require\n", &errs);

	ck_assert_msg(p != NULL, "%s", all_errors(&errs));
	ck_assert_str_eq(lookup(p, "bank.example"), "dest:bank.example");
	ck_assert_str_eq(lookup(p, "BANK.example."), "dest:bank.example");
	ck_assert_str_eq(lookup(p, "mx.bank.example"), "dest:.bank.example");
	ck_assert_str_eq(lookup(p, "a.b.bank.example"), "dest:.bank.example");
	/* .eu.bank.example is not eu.bank.example; the nearest parent wins */
	ck_assert_str_eq(lookup(p, "eu.bank.example"), "dest:.bank.example");
	ck_assert_str_eq(lookup(p, "mx.eu.bank.example"), "dest:.eu.bank.example");
	ck_assert_str_eq(lookup(p, "bücher.example"), "dest:xn--bcher-kva.example");
	ck_assert_str_eq(lookup(p, "example"), "");
	ck_assert_str_eq(lookup(p, "xbank.example"), "");
	/* rcpt: rules are inbound: no dest: rule for that domain */
	ck_assert_str_eq(lookup(p, "other.example"), "");
	ck_assert_ptr_null(lookup(p, "a..example"));
	ck_assert_ptr_null(lookup(p, ""));
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

/* decide_rcpt - the decision for a plaintext session to one recipient */

static void
decide_rcpt(const struct tp_policy *p, const char *sender, const char *rcpt,
	    struct tp_decision *d)
{
	struct tp_query q = {"192.0.2.7", "mx.bank.example", sender, rcpt, NULL, false, NULL};

	ck_assert_int_eq(tp_policy_decide(p, &q, d), 0);
}

/* The milter never uses dest: rules for the mail it receives. */
START_TEST(test_decide_ignores_dest)
{
	struct tp_errors errs;
	struct tp_policy *p = load_text(
		"dest:bank.example require\n"
		"dest:.bank.example require\n"
		"rcpt:local.example prefer\n", &errs);
	struct tp_decision d;

	ck_assert_msg(p != NULL, "%s", all_errors(&errs));
	decide_rcpt(p, "<a@bank.example>", "<b@bank.example>", &d);
	ck_assert_int_eq(d.result, TP_RESULT_SKIP);
	ck_assert_uint_eq(d.nrules, 0);
	decide_rcpt(p, "<a@mx.bank.example>", "<b@x.bank.example>", &d);
	ck_assert_uint_eq(d.nrules, 0);
	decide_rcpt(p, "<a@bank.example>", "<b@local.example>", &d);
	ck_assert_uint_eq(d.nrules, 1);
	ck_assert_int_eq(d.result, TP_RESULT_UNMET);
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

/* conflicts - the selectors that would require TLS of off's client, joined */

static const char *
conflicts(const struct tp_policy *p, size_t nth)
{
	static char text[512];
	const struct tp_outbound *off = NULL;
	const struct tp_rule *req[8];
	size_t	iter = 0, n;

	for (size_t i = 0; i <= nth; i++)
		off = tp_policy_starttls_off_next(p, &iter);
	ck_assert_ptr_nonnull(off);
	n = tp_policy_starttls_conflicts(p, off, req, 8);
	text[0] = 0;
	for (size_t i = 0; i < n && i < 8; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s",
			 i ? " " : "", req[i]->selector);
	return (text);
}

/* check's warning: which require rules would still ask a starttls=off client for TLS */
START_TEST(test_starttls_conflicts)
{
	struct tp_errors errs;
	struct tp_policy *p = load_text(
		"client:198.51.100.0/24 skip starttls=off\n"
		"client:.broken.example skip starttls=off\n"
		"client:old.example skip starttls=off\n"
		"client:198.51.100.9 require\n"		/* inside the /24: applies */
		"client:198.51.0.0/16 require\n"	/* around it: the /24 wins */
		"client:203.0.113.1 require\n"		/* elsewhere */
		"client:2001:db8::1 require\n"
		"client:mx.broken.example require\n"	/* under .broken.example */
		"client:.sub.broken.example require\n"
		"client:broken.example require\n"	/* not under .broken.example */
		"client:.example require\n"		/* around: less specific */
		"sender:bank.example require\n"
		"rcpt:.bank.example require\n"
		"rcpt:local.example prefer\n"
		"rcpt:ex.example exempt\n"
		"default require\n", &errs);

	ck_assert_msg(p != NULL, "%s", all_errors(&errs));
	ck_assert_str_eq(conflicts(p, 0),
			 "client:198.51.100.9 sender:bank.example rcpt:.bank.example");
	ck_assert_str_eq(conflicts(p, 1),
			 "client:mx.broken.example client:.sub.broken.example sender:bank.example rcpt:.bank.example");
	ck_assert_str_eq(conflicts(p, 2), "sender:bank.example rcpt:.bank.example");
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

/* Included files: relative paths, globs, FILE:LINE, the file list. */
START_TEST(test_include)
{
	struct tp_errors errs;
	struct tp_policy *p;
	char	sub[PATH_MAX];
	const struct tp_outbound *ob;
	const char *why;
	size_t	iter = 0;

	snprintf(sub, sizeof(sub), "%s/imported", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/imported/subdir.policy", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);	/* a directory the glob matches */
	put("imported/b.policy", "dest:b.example require\n");
	put("imported/a.policy", "dest:a.example require\ninclude ../more/c.policy\n");
	snprintf(sub, sizeof(sub), "%s/more", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	put("more/c.policy", "dest:c.example prefer\n");
	put("main.policy", "rcpt:x.example require\ninclude imported/*.policy\ninclude none/*.policy\n");
	p = load("main.policy", &errs);
	ck_assert_msg(p != NULL, "%s", all_errors(&errs));
	ck_assert_uint_eq(tp_policy_file_count(p), 4);
	ck_assert_ptr_nonnull(strstr(tp_policy_file_at(p, 1), "imported/a.policy"));
	ck_assert_ptr_nonnull(strstr(tp_policy_file_at(p, 2), "more/c.policy"));
	ck_assert_ptr_nonnull(strstr(tp_policy_file_at(p, 3), "imported/b.policy"));
	ck_assert_ptr_null(tp_policy_file_at(p, 4));
	ck_assert_int_eq(tp_policy_dest_lookup(p, "c.example", &ob, &why), 1);
	ck_assert_ptr_nonnull(strstr(ob->rule->file, "imported/../more/c.policy"));
	ck_assert_uint_eq(ob->rule->line, 1);
	while (tp_policy_dest_next(p, &iter) != NULL)
		;
	ck_assert_uint_eq(iter, 4);
	tp_policy_unref(p);
	tp_errors_free(&errs);

	/* An error in an included file: its own FILE:LINE; the set is refused. */
	put("more/c.policy", "dest:c.example exempt\n");
	ck_assert_ptr_null(load("main.policy", &errs));
	ck_assert_msg(has_error(&errs, "imported/../more/c.policy", 1, "exempt is not allowed"),
		      "%s", all_errors(&errs));
	tp_errors_free(&errs);
}
END_TEST

/* Between including and included file the including one wins; else an error. */
START_TEST(test_include_shadow)
{
	struct tp_errors errs;
	struct tp_policy *p;
	const struct tp_shadowed *s;
	const struct tp_outbound *ob;
	const char *why;

	put("inc.policy", "dest:a.example prefer\ndest:b.example prefer\ndest:c.example skip\n");
	put("main.policy", "dest:a.example require\ninclude inc.policy\ndest:b.example require verify=yes\n");
	p = load("main.policy", &errs);
	ck_assert_msg(p != NULL, "%s", all_errors(&errs));
	ck_assert_uint_eq(tp_policy_shadowed(p, &s), 2);
	ck_assert_str_eq(s[0].selector, "dest:a.example");
	ck_assert_ptr_nonnull(strstr(s[0].file, "inc.policy"));
	ck_assert_uint_eq(s[0].line, 1);
	ck_assert_ptr_nonnull(strstr(s[0].by_file, "main.policy"));
	ck_assert_uint_eq(s[0].by_line, 1);
	ck_assert_str_eq(s[1].selector, "dest:b.example");
	ck_assert_uint_eq(s[1].line, 2);
	ck_assert_uint_eq(s[1].by_line, 3);
	ck_assert_int_eq(tp_policy_dest_lookup(p, "a.example", &ob, &why), 1);
	ck_assert_int_eq(ob->rule->level, TP_LEVEL_REQUIRE);
	ck_assert_int_eq(tp_policy_dest_lookup(p, "b.example", &ob, &why), 1);
	ck_assert_int_eq(ob->rule->level, TP_LEVEL_REQUIRE);
	ck_assert_int_eq(ob->verify, TP_DEST_VERIFY_YES);
	ck_assert_ptr_eq(ob->rule, tp_policy_outbound(p, ob->rule)->rule);
	ck_assert_int_eq(tp_policy_dest_lookup(p, "c.example", &ob, &why), 1);
	ck_assert_int_eq(ob->rule->level, TP_LEVEL_SKIP);
	tp_policy_unref(p);
	tp_errors_free(&errs);

	/* Two included files, neither including the other: an error. */
	put("other.policy", "dest:c.example require\n");
	put("main.policy", "include inc.policy\ninclude other.policy\n");
	ck_assert_ptr_null(load("main.policy", &errs));
	ck_assert_msg(has_error(&errs, "other.policy", 1, "selector defined twice (first as dest:c.example at "),
		      "%s", all_errors(&errs));
	tp_errors_free(&errs);
}
END_TEST

/* Missing files, cycles, a file twice, non-files: errors at the include line. */
START_TEST(test_include_errors)
{
	struct tp_errors errs;
	char	path[PATH_MAX];

	put("loop.policy", "include main.policy\n");
	put("twice.policy", "dest:t.example require\n");
	put("main.policy",
	    "include missing.policy\n"
	    "include loop.policy\n"
	    "include twice.policy\n"
	    "include twice.policy\n"
	    "include .\n"
	    "include main.policy\n");
	ck_assert_ptr_null(load("main.policy", &errs));
	ck_assert_msg(has_error(&errs, "main.policy", 1, "include: cannot open ")
		      && has_error(&errs, "main.policy", 1, "missing.policy: No such file"),
		      "%s", all_errors(&errs));
	ck_assert_msg(has_error(&errs, "loop.policy", 1, "include: cycle: "), "%s", all_errors(&errs));
	ck_assert_msg(has_error(&errs, "main.policy", 4, "is included twice"), "%s", all_errors(&errs));
	ck_assert_msg(has_error(&errs, "main.policy", 5, "is not a regular file"), "%s", all_errors(&errs));
	ck_assert_msg(has_error(&errs, "main.policy", 6, "include: cycle: "), "%s", all_errors(&errs));
	ck_assert_uint_eq(errs.count, 5);
	tp_errors_free(&errs);

	/* Too deep: a chain of files each including the next. */
	for (int i = 0; i <= TP_INCLUDE_DEPTH + 1; i++) {
		char	name[32], text[64];

		snprintf(name, sizeof(name), "d%d.policy", i);
		snprintf(text, sizeof(text), "dest:d%d.example require\ninclude d%d.policy\n", i, i + 1);
		put(name, text);
	}
	ck_assert_ptr_null(load("d0.policy", &errs));
	snprintf(path, sizeof(path), "d%d.policy", TP_INCLUDE_DEPTH);
	ck_assert_msg(has_error(&errs, path, 2, "includes nested more than"), "%s", all_errors(&errs));
	ck_assert_uint_eq(errs.count, 1);
	tp_errors_free(&errs);
}
END_TEST

/* More files than TP_FILES_MAX: refused, and the load stops. */
START_TEST(test_include_too_many)
{
	struct tp_errors errs;
	char	sub[PATH_MAX];

	snprintf(sub, sizeof(sub), "%s/many", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	for (int i = 0; i < TP_FILES_MAX; i++) {
		char	name[32], text[64];

		snprintf(name, sizeof(name), "many/%03d.policy", i);
		snprintf(text, sizeof(text), "dest:m%d.example require\n", i);
		put(name, text);
	}
	put("main.policy", "include many/*.policy\n");
	ck_assert_ptr_null(load("main.policy", &errs));
	ck_assert_msg(has_error(&errs, "main.policy", 1, "more than 256 files in the policy"),
		      "%s", all_errors(&errs));
	ck_assert_uint_eq(errs.count, 1);
	tp_errors_free(&errs);
}
END_TEST

/* A reload can tell that a file changed after it was read. */
START_TEST(test_file_changed)
{
	struct tp_errors errs;
	struct tp_policy *p;

	put("inc.policy", "dest:a.example require\n");
	put("main.policy", "include inc.policy\n");
	ck_assert_msg((p = load("main.policy", &errs)) != NULL, "%s", all_errors(&errs));
	ck_assert_int_eq(tp_policy_file_changed(p, 0), 0);
	ck_assert_int_eq(tp_policy_file_changed(p, 1), 0);
	ck_assert_int_eq(tp_policy_file_changed(p, 2), -1);
	put("inc.policy", "dest:a.example require verify=yes\n");
	ck_assert_int_eq(tp_policy_file_changed(p, 1), 1);
	ck_assert_int_eq(tp_policy_file_changed(p, 0), 0);
	tp_policy_unref(p);
	tp_errors_free(&errs);
}
END_TEST

/* A policy read from a stream (the fuzz target's way) follows no include. */
START_TEST(test_stream_no_include)
{
	static char text[] = "dest:a.example require\ninclude /etc/passwd\n";
	struct tp_errors errs;
	struct tp_policy *p = tp_policy_new("stream.policy");
	FILE   *fp = fmemopen(text, strlen(text), "r");

	tp_errors_init(&errs);
	ck_assert_int_eq(tp_policy_parse(p, fp, &errs), 0);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_str_eq(errs.msgs[0], "stream.policy:2: include: not followed here: this policy text is not read from a file");
	ck_assert_uint_eq(tp_policy_file_count(p), 1);
	fclose(fp);
	tp_policy_free(p);
	tp_errors_free(&errs);
}
END_TEST

Suite  *
dest_suite(void)
{
	Suite  *s = suite_create("dest");
	TCase  *tc = tcase_create("dest");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dest_rules);
	tcase_add_test(tc, test_format_round_trip);
	tcase_add_test(tc, test_dest_errors);
	tcase_add_test(tc, test_dest_lookup);
	tcase_add_test(tc, test_decide_ignores_dest);
	tcase_add_test(tc, test_starttls_conflicts);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_include_shadow);
	tcase_add_test(tc, test_include_errors);
	tcase_add_test(tc, test_include_too_many);
	tcase_add_test(tc, test_file_changed);
	tcase_add_test(tc, test_stream_no_include);
	suite_add_tcase(s, tc);
	return (s);
}
