/*
 * NAME
 *	parse 3
 * SUMMARY
 *	policy file parser
 * DESCRIPTION
 *	One rule per line: SELECTOR LEVEL [ATTRIBUTE=VALUE ...]. A "#"
 *	at the start of a field starts a comment; a value may be double
 *	quoted to hold white space, with \" and \\ inside quotes.
 *
 *	Every line is checked and every error reported, as
 *	"FILE:LINE: selector: what is wrong"; the caller refuses the
 *	file if any was. The parser never trusts the file: lines are
 *	length-capped, NUL bytes, control characters (but TAB) and
 *	invalid UTF-8 are errors, and no value reaches the policy
 *	unchecked.
 *
 *	"include PATH" hands PATH to the includer (include.c), which
 *	reads the file (or every file a glob matches) through here.
 *	A selector defined again is an error in one file, and between
 *	files of which neither includes the other; between an including
 *	and an included file, the including one's rule stands and the
 *	other is noted as shadowed (tp_policy_shadowed).
 *
 *	tp_policy_parse_file() returns -1 only when memory runs out, the
 *	file cannot be read, a limit is passed (TP_RULES_MAX) or an
 *	include fails that way; syntax errors go to errs and parsing goes
 *	on. tp_policy_parse() reads a policy from one stream (no include
 *	is followed: an include line is an error), as the fuzz target
 *	does; tp_policy_load() (include.c) reads a file and its includes.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/tp_buf.h"
#include "util/tp_lines.h"
#include "policy/tp_keywords.h"
#include "policy/tp_names.h"
#include "policy/tp_policy_impl.h"

#define MAX_FIELDS	16
#define REPLY_MAX	200		/* leaves room for codes in a 512-byte line */
#define CERT_NAME_MAX	255
#define DEST_NAMES_MAX	32		/* cert_subject names on a dest: rule */

/* Where we are, for error messages. */
struct where {
	struct tp_errors *errs;
	const char *file;
	unsigned long line;
	const char *selector;		/* first field, once known */
};

/* One rule while it is parsed: the entry and its outbound part. */
struct rule_state {
	struct tp_entry e;
	struct tp_outbound ob;
	const char *names[DEST_NAMES_MAX];	/* cert_subject on dest: (arena) */
};

#define ERR(w, ...) parse_error((w), __VA_ARGS__)

/* parse_error - report one error on the current line */

__attribute__((format(printf, 2, 3)))
static void
parse_error(struct where *w, const char *fmt,...)
{
	char	text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (w->selector)
		tp_errors_add(w->errs, w->file, w->line, "%.300s: %s", w->selector, text);
	else
		tp_errors_add(w->errs, w->file, w->line, "%s", text);
}

/* split_fields - split a line into fields, unquoting values in place */

static int
split_fields(struct where *w, char *line, char **fields)
{
	char   *in = line;
	int	n = 0;

	for (;;) {
		char   *out;
		int	quoted = 0;

		while (*in == ' ' || *in == '\t')
			in++;
		if (*in == 0 || *in == '#')
			return (n);
		if (n == MAX_FIELDS) {
			ERR(w, "more than %d fields on one line", MAX_FIELDS);
			return (-1);
		}
		fields[n++] = out = in;
		for (; *in != 0 && (quoted || (*in != ' ' && *in != '\t')); in++) {
			if (*in == '"')
				quoted = !quoted;
			else if (quoted && *in == '\\' && (in[1] == '"' || in[1] == '\\'))
				*out++ = *++in;
			else
				*out++ = *in;
		}
		if (quoted) {
			ERR(w, "unterminated double quote");
			return (-1);
		}
		if (*in != 0)
			in++;
		*out = 0;
	}
}

/* set_name_key - entry key from a canonical selector and key offset */

static void
set_name_key(struct tp_entry *e, int type, const char *selector, size_t off)
{
	e->ktype = (uint8_t)type;
	e->key.name = selector + off;
	e->klen = (uint16_t)strlen(selector + off);
}

/* local_part_ok - a plain dot-atom local part (RFC 5322 atext and dots) */

static int
local_part_ok(const char *s, size_t len)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~.";

	if (len == 0 || len > TP_LOCAL_MAX)
		return (0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || c >= 0x80
		      || (c != 0 && strchr(specials, c) != NULL)))
			return (0);
	}
	return (1);
}

/* canonical_domain - "PREFIX[.]domain" into buf; 0 or -1 with an error */

static int
canonical_domain(struct where *w, const char *prefix, const char *value,
		 char *buf, size_t *keyoff, int *subtree)
{
	char	name[TP_DOMAIN_MAX + 1];
	const char *why;

	*subtree = value[0] == '.';
	if (*subtree)
		value++;
	if (tp_domain_normalize(value, strlen(value), name, &why) < 0) {
		ERR(w, "%s", why);
		return (-1);
	}
	*keyoff = strlen(prefix) + (size_t)*subtree;
	snprintf(buf, TP_LINE_MAX, "%s%s%s", prefix, *subtree ? "." : "", name);
	return (0);
}

/* parse_sender - sender:DOMAIN, sender:.DOMAIN, sender:<> */

static int
parse_sender(struct where *w, const char *value, char *buf, struct tp_entry *e)
{
	size_t	off;
	int	sub;

	e->rule.kind = TP_KIND_SENDER;
	if (strcmp(value, "<>") == 0) {
		strcpy(buf, "sender:<>");
		e->ktype = TP_KEY_NULL_SENDER;
		return (0);
	}
	if (strchr(value, '@') != NULL) {
		ERR(w, "sender: takes a domain, not an address");
		return (-1);
	}
	if (canonical_domain(w, "sender:", value, buf, &off, &sub) < 0)
		return (-1);
	e->ktype = sub ? TP_KEY_SENDER_SUB : TP_KEY_SENDER;
	return ((int)off);
}

/* parse_rcpt - rcpt:DOMAIN, rcpt:.DOMAIN, rcpt:LOCAL@DOMAIN */

static int
parse_rcpt(struct where *w, const char *value, char *buf, struct tp_entry *e)
{
	const char *at = strrchr(value, '@');
	char	local[TP_LOCAL_MAX + 1];
	char	name[TP_DOMAIN_MAX + 1];
	const char *why;
	size_t	off;
	int	sub;

	e->rule.kind = TP_KIND_RCPT;
	if (at == NULL) {
		if (canonical_domain(w, "rcpt:", value, buf, &off, &sub) < 0)
			return (-1);
		e->ktype = sub ? TP_KEY_RCPT_SUB : TP_KEY_RCPT;
		return ((int)off);
	}
	if (!local_part_ok(value, (size_t)(at - value))
	    || tp_local_fold(value, (size_t)(at - value), local) < 0) {
		ERR(w, "invalid local part (expected 1 to 64 characters of a plain address)");
		return (-1);
	}
	if (tp_domain_normalize(at + 1, strlen(at + 1), name, &why) < 0) {
		ERR(w, "%s", why);
		return (-1);
	}
	snprintf(buf, TP_LINE_MAX, "rcpt:%s@%s", local, name);
	e->ktype = TP_KEY_RCPT_ADDR;
	return ((int)strlen("rcpt:"));
}

/* parse_dest - dest:DOMAIN, dest:.DOMAIN */

static int
parse_dest(struct where *w, const char *value, char *buf, struct tp_entry *e)
{
	size_t	off;
	int	sub;

	e->rule.kind = TP_KIND_DEST;
	if (strchr(value, '@') != NULL) {
		ERR(w, "dest: takes a domain, not an address");
		return (-1);
	}
	if (canonical_domain(w, "dest:", value, buf, &off, &sub) < 0)
		return (-1);
	e->ktype = sub ? TP_KEY_DEST_SUB : TP_KEY_DEST;
	return ((int)off);
}

/* looks_like_address - digits and dots, or any colon or slash */

static int
looks_like_address(const char *value)
{
	return (value[strspn(value, "0123456789.")] == 0
		|| strpbrk(value, ":/") != NULL);
}

/* parse_client - client:ADDRESS[/PREFIX], client:HOST, client:.DOMAIN */

static int
parse_client(struct where *w, const char *value, char *buf, struct tp_entry *e)
{
	char	text[TP_IP_TEXT_MAX];
	const char *why;
	unsigned plen;
	size_t	off;
	int	sub;

	if (!looks_like_address(value)) {
		e->rule.kind = TP_KIND_CLIENT_NAME;
		if (canonical_domain(w, "client:", value, buf, &off, &sub) < 0)
			return (-1);
		e->ktype = sub ? TP_KEY_NAME_SUB : TP_KEY_NAME;
		return ((int)off);
	}
	e->rule.kind = TP_KIND_CLIENT_ADDR;
	if (tp_prefix_parse(value, &e->key.ip, &plen, &why) < 0) {
		ERR(w, "%s", why);
		return (-1);
	}
	e->ktype = TP_KEY_IP;
	e->plen = (uint8_t)plen;
	tp_ip_format(&e->key.ip, text, sizeof(text));
	if (plen == (e->key.ip.family == 4 ? 32u : 128u))
		snprintf(buf, TP_LINE_MAX, "client:%s", text);
	else
		snprintf(buf, TP_LINE_MAX, "client:%s/%u", text, plen);
	return (0);
}

/* parse_selector - fill kind and key; returns key offset in buf or -1 */

static int
parse_selector(struct where *w, const char *sel, char *buf, struct tp_entry *e)
{
	static const struct {
		const char *prefix;
		int	(*parse) (struct where *, const char *, char *, struct tp_entry *);
	}	forms[] = {
		{"sender:", parse_sender},
		{"rcpt:", parse_rcpt},
		{"client:", parse_client},
		{"dest:", parse_dest},
	};

	if (strcasecmp(sel, "default") == 0) {
		e->rule.kind = TP_KIND_DEFAULT;
		e->ktype = TP_KEY_DEFAULT;
		strcpy(buf, "default");
		return (0);
	}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t	len = strlen(forms[i].prefix);

		if (strncasecmp(sel, forms[i].prefix, len) != 0)
			continue;
		if (sel[len] == 0) {
			ERR(w, "nothing after \"%s\"", forms[i].prefix);
			return (-1);
		}
		return (forms[i].parse(w, sel + len, buf, e));
	}
	ERR(w, "unknown selector (expected sender:, rcpt:, client:, dest:, default or include)");
	return (-1);
}

/* parse_level - require, prefer, skip, exempt */

static int
parse_level(struct where *w, const char *text, struct tp_rule *r)
{
	int	l = tp_keyword_find(tp_level_words, text);

	if (l < 0) {
		ERR(w, "unknown level \"%.64s\" (expected require, prefer, skip or exempt)", text);
		return (-1);
	}
	r->level = (uint8_t)l;
	return (0);
}

/* text_ok - a non-empty value of printable ASCII or UTF-8, no controls */

static int
text_ok(const char *s, size_t max, int ascii_only)
{
	size_t	len = strlen(s);

	if (len == 0 || len > max)
		return (0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (ascii_only && c >= 0x80))
			return (0);
	}
	return (1);
}

/* set_version - min_version=TLSv1.2 */

static int
set_version(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	struct tp_rule *r = &rs->e.rule;

	enum tp_tls_version ver = tp_tls_version_parse(v);

	(void)p;
	if (ver < TP_TLS_V1_0) {
		ERR(w, "min_version: unknown TLS version \"%.64s\" (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)", v);
		return (-1);
	}
	r->min_version = (uint8_t)ver;
	return (0);
}

/* set_bits - min_bits=N */

static int
set_bits(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	struct tp_rule *r = &rs->e.rule;

	char   *end;
	unsigned long n;

	(void)p;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != 0 || errno != 0 || n < 1 || n > 4096) {
		ERR(w, "min_bits: \"%.64s\" is not a number from 1 to 4096", v);
		return (-1);
	}
	r->min_bits = (uint16_t)n;
	return (0);
}

/* set_verify - verify=yes|no, and verify=dane on dest: rules */

static int
set_verify(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	struct tp_rule *r = &rs->e.rule;
	int	i = tp_keyword_find(tp_yesno_words, v);

	(void)p;
	if (i < 0 && strcasecmp(v, "dane") == 0) {
		if (r->kind != TP_KIND_DEST) {
			ERR(w, "verify=dane is only for dest: rules (mail this MTA sends)");
			return (-1);
		}
		i = TP_DEST_VERIFY_DANE;
	}
	if (i < 0) {
		ERR(w, "verify: expected yes or no%s, not \"%.64s\"",
		    r->kind == TP_KIND_DEST ? " or dane" : "", v);
		return (-1);
	}
	r->verify = (uint8_t)i;
	return (0);
}

/* set_cert_name - cert_subject=NAME, cert_issuer=NAME */

static int
set_cert_name(struct where *w, struct tp_policy *p, const char *attr,
	      const char *v, const char **slot)
{
	if (!text_ok(v, CERT_NAME_MAX, 0)) {
		ERR(w, "%s: expected a certificate common name of 1 to %d printable characters",
		    attr, CERT_NAME_MAX);
		return (-1);
	}
	if ((*slot = tp_policy_strdup(p, v, strlen(v))) == NULL)
		return (-2);
	return (0);
}

/* dest_name - one cert_subject name of a dest: rule, canonical, into out */

static int
dest_name(struct where *w, const char *v, size_t len, char *out)
{
	size_t	skip = len > 2 && v[0] == '*' && v[1] == '.' ? 2 : 0;
	const char *why;

	if (len == 0) {
		ERR(w, "cert_subject: empty name in the list");
		return (-1);
	}
	memcpy(out, v, skip);
	if (memchr(v + skip, '*', len - skip) != NULL) {
		ERR(w, "cert_subject: \"%.*s\": a wildcard is \"*.\" before a name, as in *.example.net",
		    (int)(len > 64 ? 64 : len), v);
		return (-1);
	}
	if (tp_domain_normalize(v + skip, len - skip, out + skip, &why) < 0) {
		ERR(w, "cert_subject: \"%.*s\": %s", (int)(len > 64 ? 64 : len), v, why);
		return (-1);
	}
	return (0);
}

/* set_dest_names - cert_subject=NAME[,NAME...] on a dest: rule */

static int
set_dest_names(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	char	joined[TP_LINE_MAX];
	struct tp_buf b = TP_BUF(joined, sizeof(joined));
	size_t	n = 0;

	for (const char *at = v;; at++) {
		size_t	len = strcspn(at, ",");
		char	name[TP_DOMAIN_MAX + 3];

		if (n == DEST_NAMES_MAX) {
			ERR(w, "cert_subject: more than %d names", DEST_NAMES_MAX);
			return (-1);
		}
		if (dest_name(w, at, len, name) < 0)
			return (-1);
		if ((rs->names[n++] = tp_policy_strdup(p, name, strlen(name))) == NULL)
			return (-2);
		tp_buf_addf(&b, "%s%s", n > 1 ? "," : "", name);
		at += len;
		if (*at == 0)
			break;
	}
	rs->ob.nnames = n;
	if ((rs->e.rule.cert_subject = tp_policy_strdup(p, joined, b.len)) == NULL)
		return (-2);
	return (0);
}

static int
set_subject(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	if (rs->e.rule.kind == TP_KIND_DEST)
		return (set_dest_names(w, p, v, rs));
	return (set_cert_name(w, p, "cert_subject", v, &rs->e.rule.cert_subject));
}

static int
set_issuer(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	return (set_cert_name(w, p, "cert_issuer", v, &rs->e.rule.cert_issuer));
}

/* set_starttls - starttls=off on a client: rule */

static int
set_starttls(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	(void)p;
	if (strcasecmp(v, "off") != 0) {
		ERR(w, "starttls: expected off, not \"%.64s\"", v);
		return (-1);
	}
	rs->ob.starttls_off = true;
	return (0);
}

/* set_action - action=reject|tempfail|quarantine|tag */

static int
set_action(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	struct tp_rule *r = &rs->e.rule;

	int	a = tp_keyword_find(tp_action_words, v);

	(void)p;
	if (a < 0) {
		ERR(w, "action: expected reject, tempfail, quarantine or tag, not \"%.64s\"", v);
		return (-1);
	}
	r->action = (uint8_t)a;
	return (0);
}

/* set_mode - mode=enforce|testing */

static int
set_mode(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	struct tp_rule *r = &rs->e.rule;

	int	i = tp_keyword_find(tp_mode_words, v);

	(void)p;
	if (i < 0) {
		ERR(w, "mode: expected enforce or testing, not \"%.64s\"", v);
		return (-1);
	}
	r->testing = (uint8_t)i;
	return (0);
}

/* set_reply - reply="TEXT" */

static int
set_reply(struct where *w, struct tp_policy *p, const char *v, struct rule_state *rs)
{
	struct tp_rule *r = &rs->e.rule;

	if (!text_ok(v, REPLY_MAX, 1)) {
		ERR(w, "reply: expected 1 to %d characters of printable ASCII", REPLY_MAX);
		return (-1);
	}
	/* libmilter reads reply text as a format: refuse, never rewrite. */
	if (strchr(v, '%') != NULL) {
		ERR(w, "reply: \"%%\" is not allowed (the milter library reads it as a format)");
		return (-1);
	}
	if ((r->reply = tp_policy_strdup(p, v, strlen(v))) == NULL)
		return (-2);
	return (0);
}

/* Attributes by index: a bit of parse_attributes()'s "seen" mask each. */
enum {
	ATTR_MIN_VERSION, ATTR_MIN_BITS, ATTR_VERIFY, ATTR_CERT_SUBJECT,
	ATTR_CERT_ISSUER, ATTR_ACTION, ATTR_MODE, ATTR_REPLY, ATTR_STARTTLS,
	NATTRIBUTES
};

/* What is inbound only (not on dest:), and what is for client: skip only. */
#define INBOUND_ONLY	((1u << ATTR_ACTION) | (1u << ATTR_REPLY) | (1u << ATTR_CERT_ISSUER))
#define SKIP_ATTRS	(1u << ATTR_STARTTLS)

static const struct attribute {
	const char *name;
	int	(*set) (struct where *, struct tp_policy *, const char *, struct rule_state *);
}	attributes[] = {
	[ATTR_MIN_VERSION] = {"min_version", set_version},
	[ATTR_MIN_BITS] = {"min_bits", set_bits},
	[ATTR_VERIFY] = {"verify", set_verify},
	[ATTR_CERT_SUBJECT] = {"cert_subject", set_subject},
	[ATTR_CERT_ISSUER] = {"cert_issuer", set_issuer},
	[ATTR_ACTION] = {"action", set_action},
	[ATTR_MODE] = {"mode", set_mode},
	[ATTR_REPLY] = {"reply", set_reply},
	[ATTR_STARTTLS] = {"starttls", set_starttls},
};

/* parse_attributes - ATTRIBUTE=VALUE fields; -2 when out of memory */

static int
parse_attributes(struct where *w, struct tp_policy *p, char **fields, int n,
		 struct rule_state *rs, unsigned *seenp)
{
	unsigned seen = 0;
	int	status = 0;

	for (int i = 0; i < n; i++) {
		char   *eq = strchr(fields[i], '=');
		size_t	a;

		if (eq == NULL || eq == fields[i]) {
			ERR(w, "expected ATTRIBUTE=VALUE, not \"%.64s\"", fields[i]);
			status = -1;
			continue;
		}
		*eq = 0;
		for (a = 0; a < NATTRIBUTES; a++)
			if (strcasecmp(fields[i], attributes[a].name) == 0)
				break;
		if (a == NATTRIBUTES) {
			ERR(w, "unknown attribute \"%.64s\" (expected min_version, min_bits, verify, cert_subject, cert_issuer, action, mode, reply or starttls)", fields[i]);
			status = -1;
		} else if (seen & (1u << a)) {
			ERR(w, "attribute %s given twice", attributes[a].name);
			status = -1;
		} else {
			int	rc = attributes[a].set(w, p, eq + 1, rs);

			seen |= 1u << a;
			if (rc == -2)
				return (-2);
			if (rc < 0)
				status = -1;
		}
	}
	*seenp = seen;
	return (status);
}

/* check_dest - what a dest: rule may not say */

static int
check_dest(struct where *w, const struct tp_rule *r, int level_ok, unsigned seen)
{
	int	status = 0;

	if (level_ok && r->level == TP_LEVEL_EXEMPT) {
		ERR(w, "exempt is not allowed on dest: rules (use skip: no TLS asked for)");
		status = -1;
	}
	for (size_t a = 0; a < NATTRIBUTES; a++)
		if (seen & INBOUND_ONLY & (1u << a)) {
			ERR(w, "%s= is not allowed on dest: rules (it is for mail this MTA receives)",
			    attributes[a].name);
			status = -1;
		}
	if (r->verify == TP_DEST_VERIFY_DANE && r->cert_subject != NULL) {
		ERR(w, "verify=dane and cert_subject= cannot go together (DANE's records say which certificate)");
		status = -1;
	}
	return (status);
}

/* check_starttls - starttls=off: client: rules at level skip only */

static int
check_starttls(struct where *w, const struct tp_rule *r, int level_ok)
{
	if (r->kind != TP_KIND_CLIENT_ADDR && r->kind != TP_KIND_CLIENT_NAME) {
		ERR(w, "starttls=off is only for client: rules");
		return (-1);
	}
	if (level_ok && r->level != TP_LEVEL_SKIP) {
		ERR(w, "starttls=off needs level skip (a client from which STARTTLS is hidden cannot use TLS)");
		return (-1);
	}
	return (0);
}

/*
 * check_consistency - combinations of kind, level and attributes. A level
 * that did not parse (level_ok 0) was reported already; checking the
 * default it left behind would only add false errors.
 */

static int
check_consistency(struct where *w, struct rule_state *rs, int level_ok, unsigned seen)
{
	struct tp_rule *r = &rs->e.rule;
	int	verify_no = (seen & (1u << ATTR_VERIFY)) && !r->verify;
	int	status = 0;

	if (r->kind == TP_KIND_DEST)
		status = check_dest(w, r, level_ok, seen);
	if ((seen & SKIP_ATTRS) && check_starttls(w, r, level_ok) < 0)
		status = -1;
	if (level_ok && r->level == TP_LEVEL_EXEMPT
	    && (r->kind == TP_KIND_SENDER || r->kind == TP_KIND_DEFAULT)) {
		ERR(w, "exempt is allowed only on client: and rcpt: rules (a sender address is not proof of anything)");
		status = -1;
	}
	if (level_ok && (seen & ~SKIP_ATTRS) != 0
	    && (r->level == TP_LEVEL_SKIP || r->level == TP_LEVEL_EXEMPT)) {
		ERR(w, "attributes are not allowed on %s rules", tp_level_name(r->level));
		status = -1;
	}
	if (verify_no && (r->cert_subject || r->cert_issuer)) {
		ERR(w, "verify=no contradicts cert_subject/cert_issuer, which need a verified certificate");
		status = -1;
	}
	if ((r->cert_subject || r->cert_issuer) && r->verify == 0)
		r->verify = 1;
	return (status);
}

/* attach_outbound - keep a dest: or starttls=off rule's outbound part */

static int
attach_outbound(struct tp_policy *p, struct rule_state *rs, size_t keyoff)
{
	struct tp_entry *e = &rs->e;
	struct tp_outbound *ob;
	const char **names = NULL;

	if (e->rule.kind != TP_KIND_DEST && !rs->ob.starttls_off)
		return (0);
	if ((ob = tp_policy_alloc(p, sizeof(*ob))) == NULL)
		return (-2);
	if (rs->ob.nnames > 0) {
		if ((names = tp_policy_alloc(p, rs->ob.nnames * sizeof(*names))) == NULL)
			return (-2);
		memcpy(names, rs->names, rs->ob.nnames * sizeof(*names));
	}
	*ob = rs->ob;
	ob->names = names;
	ob->verify = e->rule.kind == TP_KIND_DEST ? (enum tp_dest_verify)e->rule.verify
	    : TP_DEST_VERIFY_NONE;
	ob->subdomains = e->ktype == TP_KEY_DEST_SUB || e->ktype == TP_KEY_NAME_SUB;
	ob->target = e->rule.selector + keyoff;
	ob->rule = &e->rule;		/* set again once the entries have settled */
	e->ob = ob;
	return (0);
}

/* file_is_below - is file f included, at any depth, by file g? */

static int
file_is_below(const struct tp_policy *p, size_t f, size_t g)
{
	for (size_t up = 0; f != 0 && up < TP_FILES_MAX; up++) {
		f = p->parents[f];
		if (f == g)
			return (1);
	}
	return (0);
}

/* note_shadow - an included rule that the including file's rule overrides */

static int
note_shadow(struct tp_policy *p, const struct tp_entry *gone, const struct tp_entry *kept)
{
	if (p->nshadows == p->shadow_cap) {
		size_t	cap = p->shadow_cap ? 2 * p->shadow_cap : 16;
		struct tp_shadowed *grown = realloc(p->shadows, cap * sizeof(*grown));

		if (grown == NULL)
			return (-2);
		p->shadows = grown;
		p->shadow_cap = cap;
	}
	p->shadows[p->nshadows++] = (struct tp_shadowed) {
		kept->rule.selector, gone->rule.file, gone->rule.line,
		kept->rule.file, kept->rule.line,
	};
	return (0);
}

/*
 * add_entry - add a parsed rule. A selector defined again is an error
 * within one file and between files of which neither includes the other;
 * between an including and an included file, the including one wins.
 */

static int
add_entry(struct where *w, struct tp_policy *p, const struct tp_entry *e)
{
	const struct tp_entry *dup;
	int	rc;

	if (p->nentries >= TP_RULES_MAX) {
		ERR(w, "more than %d rules in the policy and the files it includes", TP_RULES_MAX);
		return (-3);
	}
	if ((rc = tp_policy_add(p, e, &dup)) < 0)
		return (-2);
	if (rc == 0)
		return (0);
	if (file_is_below(p, e->fidx, dup->fidx))
		return (note_shadow(p, e, dup));
	if (file_is_below(p, dup->fidx, e->fidx)) {
		if (note_shadow(p, dup, e) < 0)
			return (-2);
		p->entries[dup - p->entries] = *e;
		return (0);
	}
	if (dup->fidx == e->fidx)
		ERR(w, "selector defined twice (first as %s at line %lu)",
		    dup->rule.selector, (unsigned long)dup->rule.line);
	else
		ERR(w, "selector defined twice (first as %s at %s:%lu)",
		    dup->rule.selector, dup->rule.file, (unsigned long)dup->rule.line);
	return (-1);
}

/* parse_rule - one non-empty line; -2 out of memory, -3 too many rules */

static int
parse_rule(struct where *w, struct tp_policy *p, size_t fidx, char **fields, int n)
{
	char	buf[TP_LINE_MAX];
	struct rule_state rs;
	struct tp_entry *e = &rs.e;
	unsigned seen = 0;
	int	level_ok;
	int	keyoff;
	int	status = 0;
	int	rc;

	memset(&rs, 0, sizeof(rs));
	e->fidx = (uint16_t)fidx;
	e->rule.file = p->files[fidx];
	e->rule.line = (uint32_t)w->line;
	e->rule.action = TP_ACTION_REJECT;
	w->selector = fields[0];
	if ((keyoff = parse_selector(w, fields[0], buf, e)) < 0)
		status = -1;
	if (n < 2) {
		ERR(w, "missing level (expected require, prefer, skip or exempt)");
		return (-1);
	}
	level_ok = parse_level(w, fields[1], &e->rule) == 0;
	if (!level_ok)
		status = -1;
	if ((rc = parse_attributes(w, p, fields + 2, n - 2, &rs, &seen)) == -2)
		return (-2);
	if (rc < 0)
		status = -1;
	if (check_consistency(w, &rs, level_ok, seen) < 0 || status < 0)
		return (-1);
	if ((e->rule.selector = tp_policy_strdup(p, buf, strlen(buf))) == NULL)
		return (-2);
	if (e->ktype == TP_KEY_NULL_SENDER)
		e->key.name = "";		/* the null sender's key is empty */
	else if (e->ktype != TP_KEY_IP && e->ktype != TP_KEY_DEFAULT)
		set_name_key(e, e->ktype, e->rule.selector, (size_t)keyoff);
	if (e->ktype == TP_KEY_IP)
		keyoff = (int)strlen("client:");
	if (attach_outbound(p, &rs, (size_t)keyoff) < 0)
		return (-2);
	return (add_entry(w, p, e));
}

/* check_line - length, NUL and control bytes, encoding of a raw line */

static int
check_line(struct where *w, char *line, size_t len)
{
	int	c;

	if (len > TP_LINE_MAX - 1) {
		ERR(w, "line longer than %d bytes", TP_LINE_MAX - 1);
		return (-1);
	}
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = 0;
	if (memchr(line, 0, len) != NULL) {
		ERR(w, "NUL byte in line");
		return (-1);
	}
	if ((c = tp_line_control(line, len)) >= 0) {
		ERR(w, "control character 0x%02X", (unsigned)c);
		return (-1);
	}
	if (!tp_utf8_valid(line, len)) {
		ERR(w, "line is not valid UTF-8");
		return (-1);
	}
	return (0);
}

/* include_line - "include PATH": hand it to the includer, if there is one */

static int
include_line(struct where *w, const struct tp_includer *inc, size_t fidx,
	     char **fields, int n)
{
	w->selector = "include";
	if (n != 2) {
		ERR(w, "expected one path or pattern after include (quote one with white space)");
		return (-1);
	}
	if (inc == NULL) {
		ERR(w, "not followed here: this policy text is not read from a file");
		return (-1);
	}
	return (inc->include(inc, fidx, w->line, fields[1], w->errs));
}

/* tp_policy_parse_file - every rule of file fidx; includes through inc */

int
tp_policy_parse_file(struct tp_policy *p, FILE *fp, size_t fidx,
		     const struct tp_includer *inc, struct tp_errors *errs)
{
	struct where w = {errs, p->files[fidx], 0, NULL};
	char	line[TP_LINE_MAX + 1];
	size_t	len;
	int	status = 0;
	int	rc = 0;

	while (status == 0 && tp_read_line(fp, line, sizeof(line), &len) == 0) {
		char   *fields[MAX_FIELDS];
		int	n;

		w.line++;
		w.selector = NULL;
		if (check_line(&w, line, len) < 0)
			continue;
		if ((n = split_fields(&w, line, fields)) <= 0)
			continue;
		if (strcasecmp(fields[0], "include") == 0)
			rc = include_line(&w, inc, fidx, fields, n);
		else
			rc = parse_rule(&w, p, fidx, fields, n);
		if (rc == -2)
			tp_errors_add(errs, w.file, w.line, "out of memory");
		if (rc < -1)
			status = -1;
	}
	if (status == 0 && ferror(fp)) {
		tp_errors_add(errs, w.file, 0, "read error: %s", strerror(errno));
		status = -1;
	}
	return (status);
}

/* tp_policy_parse - a policy read from one stream, without includes */

int
tp_policy_parse(struct tp_policy *p, FILE *fp, struct tp_errors *errs)
{
	int	rc = tp_policy_parse_file(p, fp, 0, NULL, errs);

	tp_policy_finish(p);
	return (rc);
}

