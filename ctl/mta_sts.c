/*
 * NAME
 *	mta_sts 3
 * SUMMARY
 *	MTA-STS (RFC 8461): the TXT record, the policy body, MX patterns
 * SYNOPSIS
 *	#include "ctl/tp_mta_sts.h"
 *
 *	int	tp_sts_txt_parse(const char *text, size_t len, char *id,
 *				 char *why, size_t whylen);
 *	int	tp_sts_txt_select(const struct tp_dns_result *txt, char *id,
 *				  char *why, size_t whylen);
 *	struct tp_sts_policy *tp_sts_parse(const char *body, size_t len,
 *					   const char *source,
 *					   struct tp_errors *errs);
 *	void	tp_sts_policy_free(struct tp_sts_policy *p);
 *	const char *tp_sts_mode_name(enum tp_sts_mode mode);
 *	int	tp_sts_pattern_match(const char *pattern, const char *host);
 *	int	tp_sts_mx_match(const struct tp_sts_policy *p,
 *				const char *host);
 * DESCRIPTION
 *	The parsers for what a domain publishes, written to RFC 8461's
 *	grammar (sections 3.1 and 3.2) and to the rule that everything
 *	fetched from the network is hostile: lengths are capped before
 *	anything is copied, every byte is checked, and an error names
 *	the line. The fetch itself is in mta_sts_fetch.c. See
 *	tp_mta_sts.h for the contract.
 * DIAGNOSTICS
 *	tp_sts_parse(): "SOURCE:LINE: what is wrong" in errs, every
 *	problem of the body, then NULL.
 * MEMORY
 *	tp_sts_parse() returns a policy for tp_sts_policy_free().
 */

/* System library. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Application-specific. */
#include "ctl/tp_mta_sts.h"
#include "policy/tp_names.h"

#define STS_EXT_NAME_MAX 32		/* (ALPHA/DIGIT) *31(...) */

/* What one body has said so far: each single field once. */
struct sts_parse {
	const char *source;		/* for the errors */
	unsigned long line;
	struct tp_errors *errs;
	unsigned long version_line;	/* 0: not seen */
	unsigned long mode_line;
	unsigned long max_age_line;
	bool	mx_seen;		/* an mx line, valid or not */
	size_t	errors;			/* of this body */
	struct tp_sts_policy *p;
};

/* is_wsp - RFC 5234 WSP */

static bool
is_wsp(int c)
{
	return (c == ' ' || c == '\t');
}

/* is_alnum - ASCII letter or digit, whatever the locale */

static bool
is_alnum(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		|| (c >= '0' && c <= '9'));
}

/* ext_name_len - length of an sts-ext-name at s (at most n bytes), 0: none */

static size_t
ext_name_len(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || !is_alnum((unsigned char)s[0]))
		return (0);
	for (i = 1; i < n && i < STS_EXT_NAME_MAX; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '_'
		    && s[i] != '-' && s[i] != '.')
			break;
	return (i);
}

/* tp_sts_mode_name - the word a policy uses for a mode */

const char *
tp_sts_mode_name(enum tp_sts_mode mode)
{
	switch (mode) {
	case TP_STS_MODE_ENFORCE:
		return ("enforce");
	case TP_STS_MODE_TESTING:
		return ("testing");
	case TP_STS_MODE_NONE:
		break;
	}
	return ("none");
}

/* ---- the TXT record (section 3.1) ------------------------------------- */

/* txt_field - one "name=value" of a TXT record; 0, or -1 and why */

static int
txt_field(const char *s, size_t n, char *id, bool *have_id, char *why,
	  size_t whylen)
{
	size_t	name = ext_name_len(s, n), i;

	if (name == 0 || name >= n || s[name] != '=') {
		snprintf(why, whylen, "a field is not name=value");
		return (-1);
	}
	for (i = name + 1; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || s[i] == '=' || s[i] > 0x7e) {
			snprintf(why, whylen, "a field value has a character "
				 "that is not allowed");
			return (-1);
		}
	if (i == name + 1) {
		snprintf(why, whylen, "a field has an empty value");
		return (-1);
	}
	if (name != 2 || memcmp(s, "id", 2) != 0)
		return (0);			/* an extension: ignored */
	if (*have_id) {
		snprintf(why, whylen, "id= appears twice");
		return (-1);
	}
	if (n - 3 > TP_STS_ID_MAX) {
		snprintf(why, whylen, "the id is longer than %d characters",
			 TP_STS_ID_MAX);
		return (-1);
	}
	for (i = 3; i < n; i++)
		if (!is_alnum((unsigned char)s[i])) {
			snprintf(why, whylen, "the id has a character other "
				 "than a letter or digit");
			return (-1);
		}
	memcpy(id, s + 3, n - 3);
	id[n - 3] = 0;
	*have_id = true;
	return (0);
}

/* tp_sts_txt_parse - one TXT record: 1 STSv1 and id, 0 not STSv1, -1 bad */

int
tp_sts_txt_parse(const char *text, size_t len, char *id, char *why,
		 size_t whylen)
{
	static const char version[] = "v=STSv1";
	bool	have_id = false;
	size_t	i = sizeof(version) - 1, start;

	if (len < i || memcmp(text, version, i) != 0
	    || (len > i && !is_wsp(text[i]) && text[i] != ';'))
		return (0);
	while (i < len) {
		/* sts-field-delim = *WSP ";" *WSP */
		while (i < len && is_wsp(text[i]))
			i++;
		if (i == len)
			break;
		if (text[i] != ';') {
			snprintf(why, whylen, "a field is not followed by ';'");
			return (-1);
		}
		for (i++; i < len && is_wsp(text[i]); i++)
			 /* skip */ ;
		if (i == len)
			break;			/* a trailing delimiter */
		for (start = i; i < len && text[i] != ';' && !is_wsp(text[i]); i++)
			 /* the field */ ;
		if (txt_field(text + start, i - start, id, &have_id, why, whylen) < 0)
			return (-1);
	}
	if (!have_id) {
		snprintf(why, whylen, "no id= field");
		return (-1);
	}
	return (1);
}

/* tp_sts_txt_select - RFC 8461's choice among the TXT records of a name */

int
tp_sts_txt_select(const struct tp_dns_result *txt, char *id, char *why,
		  size_t whylen)
{
	char	one[TP_STS_ID_MAX + 1];
	char	reason[128] = "";
	size_t	sts = 0;
	int	bad = 0;

	for (size_t i = 0; i < txt->count; i++) {
		int	r = tp_sts_txt_parse(txt->txt[i].text, txt->txt[i].len,
					     one, reason, sizeof(reason));

		if (r == 0)
			continue;
		sts++;
		if (r < 0)
			bad = 1;
		else
			memcpy(id, one, sizeof(one));
	}
	if (sts == 0) {
		snprintf(why, whylen, "no STSv1 TXT record");
		return (0);
	}
	if (sts > 1) {
		snprintf(why, whylen, "%zu STSv1 TXT records, where RFC 8461 "
			 "allows one: no policy", sts);
		return (-1);
	}
	if (bad) {
		snprintf(why, whylen, "the STSv1 TXT record is malformed (%s): "
			 "no policy", reason);
		return (-1);
	}
	return (1);
}

/* ---- the policy body (section 3.2) ------------------------------------ */

/* sts_error - one "SOURCE:LINE: what" for this body */

static void
sts_error(struct sts_parse *st, const char *what)
{
	tp_errors_add(st->errs, st->source, st->line, "%s", what);
	st->errors++;
}

/* once - a single-valued field: 0 the first time, -1 (and an error) after */

static int
once(struct sts_parse *st, unsigned long *seen, const char *name)
{
	char	msg[128];

	if (*seen == 0) {
		*seen = st->line;
		return (0);
	}
	snprintf(msg, sizeof(msg), "%s: given again (first on line %lu)",
		 name, *seen);
	sts_error(st, msg);
	return (-1);
}

/* field_mode - "mode: enforce|testing|none" */

static void
field_mode(struct sts_parse *st, const char *v)
{
	if (once(st, &st->mode_line, "mode") < 0)
		return;
	if (strcmp(v, "enforce") == 0)
		st->p->mode = TP_STS_MODE_ENFORCE;
	else if (strcmp(v, "testing") == 0)
		st->p->mode = TP_STS_MODE_TESTING;
	else if (strcmp(v, "none") == 0)
		st->p->mode = TP_STS_MODE_NONE;
	else
		sts_error(st, "mode: not enforce, testing or none");
}

/* field_max_age - "max_age: 1*10DIGIT", at most TP_STS_MAX_AGE_MAX */

static void
field_max_age(struct sts_parse *st, const char *v)
{
	size_t	n = strspn(v, "0123456789");
	long	age;
	char	msg[128];

	if (once(st, &st->max_age_line, "max_age") < 0)
		return;
	if (n == 0 || v[n] != 0 || n > 10) {
		sts_error(st, "max_age: not a number of seconds (1 to 10 digits)");
		return;
	}
	age = strtol(v, NULL, 10);
	if (age > TP_STS_MAX_AGE_MAX) {
		snprintf(msg, sizeof(msg), "max_age: %ld is more than %ld "
			 "seconds, RFC 8461's limit", age, TP_STS_MAX_AGE_MAX);
		sts_error(st, msg);
		return;
	}
	st->p->max_age = age;
}

/* field_mx - "mx: [*.]Domain", kept in canonical form */

static void
field_mx(struct sts_parse *st, const char *v)
{
	char	name[TP_DOMAIN_MAX + 1];
	const char *why;
	size_t	star = strncmp(v, "*.", 2) == 0 ? 2 : 0;
	char  **grown;
	char	msg[128];

	st->mx_seen = true;
	if (st->p->nmx >= TP_STS_MX_MAX) {
		snprintf(msg, sizeof(msg), "mx: more than %d patterns",
			 TP_STS_MX_MAX);
		sts_error(st, msg);
		return;
	}
	if (strchr(v + star, '*') != NULL) {
		sts_error(st, "mx: a '*' other than one leading \"*.\"");
		return;
	}
	if (tp_domain_normalize(v + star, strlen(v + star), name, &why) < 0) {
		snprintf(msg, sizeof(msg), "mx: %s", why);
		sts_error(st, msg);
		return;
	}
	if ((grown = realloc(st->p->mx, (st->p->nmx + 1) * sizeof(*grown))) == NULL
	    || (grown[st->p->nmx] = malloc(star + strlen(name) + 1)) == NULL) {
		if (grown != NULL)
			st->p->mx = grown;
		sts_error(st, "out of memory");
		return;
	}
	st->p->mx = grown;
	memcpy(grown[st->p->nmx], "*.", star);
	strcpy(grown[st->p->nmx] + star, name);
	st->p->nmx++;
}

/* field_value_ok - sts-policy-ext-value: visible ASCII or UTF-8, inner WSP */

static bool
field_value_ok(const char *v)
{
	size_t	n = strlen(v);

	if (n == 0 || !tp_utf8_valid(v, n))
		return (false);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
			return (false);
		else if (v[i] == 0x7f)
			return (false);
	return (true);
}

/* policy_line - one "key: value" line (no line end, no NUL) */

static void
policy_line(struct sts_parse *st, char *s, size_t n)
{
	size_t	name = ext_name_len(s, n);
	char   *v;

	while (n > 0 && is_wsp(s[n - 1]))
		s[--n] = 0;			/* *WSP before the term */
	if (n == 0)
		return;				/* a blank line: harmless */
	if (name == 0 || name >= n || s[name] != ':') {
		sts_error(st, "not a \"key: value\" line");
		return;
	}
	s[name] = 0;
	for (v = s + name + 1; is_wsp(*v); v++)
		 /* sts-policy-field-delim = ":" *WSP */ ;
	if (!field_value_ok(v)) {
		sts_error(st, *v ? "a value with a control character or "
			  "invalid UTF-8" : "a key without a value");
		return;
	}
	if (strcmp(s, "version") == 0) {
		if (once(st, &st->version_line, "version") == 0
		    && strcmp(v, "STSv1") != 0)
			sts_error(st, "version: not STSv1");
	} else if (strcmp(s, "mode") == 0)
		field_mode(st, v);
	else if (strcmp(s, "max_age") == 0)
		field_max_age(st, v);
	else if (strcmp(s, "mx") == 0)
		field_mx(st, v);
	/* Any other well-formed key is an extension: ignored (3.2). */
}

/* policy_complete - the fields a policy must have (line 0: the body) */

static void
policy_complete(struct sts_parse *st)
{
	st->line = 0;
	if (st->version_line == 0)
		sts_error(st, "no \"version: STSv1\" line");
	if (st->mode_line == 0)
		sts_error(st, "no \"mode:\" line");
	if (st->max_age_line == 0)
		sts_error(st, "no \"max_age:\" line");
	if (st->mode_line != 0 && st->p->mode != TP_STS_MODE_NONE
	    && !st->mx_seen)
		sts_error(st, "no \"mx:\" line, which an enforce or testing "
			  "policy must have");
}

/* policy_lines - split the body (a copy of it, in place) into lines */

static void
policy_lines(struct sts_parse *st, char *body, size_t len)
{
	size_t	start = 0, end, n;

	while (start < len) {
		char   *lf = memchr(body + start, '\n', len - start);
		char   *line = body + start;

		end = lf ? (size_t)(lf - body) : len;
		n = end - start;
		st->line++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		line[n] = 0;
		if (memchr(line, 0, n) != NULL)
			sts_error(st, "a NUL byte");
		else if (memchr(line, '\r', n) != NULL)
			sts_error(st, "a CR that does not end the line");
		else
			policy_line(st, line, n);
		start = end + 1;
	}
}

/* tp_sts_parse - a policy body, or NULL with every error in errs */

struct tp_sts_policy *
tp_sts_parse(const char *body, size_t len, const char *source,
	     struct tp_errors *errs)
{
	struct sts_parse st = {.source = source, .errs = errs};
	char   *copy;

	if (len > TP_STS_BODY_MAX) {
		tp_errors_add(errs, source, 0, "the policy is %zu bytes, more "
			      "than the %d allowed", len, TP_STS_BODY_MAX);
		return (NULL);
	}
	if ((st.p = calloc(1, sizeof(*st.p))) == NULL
	    || (copy = malloc(len + 1)) == NULL) {
		free(st.p);
		tp_errors_add(errs, source, 0, "out of memory");
		return (NULL);
	}
	memcpy(copy, body, len);
	copy[len] = 0;
	policy_lines(&st, copy, len);
	free(copy);
	policy_complete(&st);
	if (st.errors > 0) {
		tp_sts_policy_free(st.p);
		return (NULL);
	}
	return (st.p);
}

/* tp_sts_policy_free - release a policy; NULL is fine */

void
tp_sts_policy_free(struct tp_sts_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	free(p);
}

/* ---- MX patterns (section 4.1) ---------------------------------------- */

/* name_equal - host names equal ignoring ASCII case and a trailing dot */

static bool
name_equal(const char *a, size_t alen, const char *b)
{
	size_t	blen = strlen(b);

	if (alen > 0 && a[alen - 1] == '.')
		alen--;
	if (blen > 0 && b[blen - 1] == '.')
		blen--;
	return (alen == blen && strncasecmp(a, b, alen) == 0);
}

/* tp_sts_pattern_match - host against one pattern; "*." is one label */

int
tp_sts_pattern_match(const char *pattern, const char *host)
{
	const char *dot;

	if (strncmp(pattern, "*.", 2) != 0)
		return (name_equal(pattern, strlen(pattern), host));
	/* The wildcard is exactly the leftmost label, never empty. */
	if ((dot = strchr(host, '.')) == NULL || dot == host)
		return (0);
	return (name_equal(pattern + 2, strlen(pattern + 2), dot + 1));
}

/* tp_sts_mx_match - host against every pattern of the policy */

int
tp_sts_mx_match(const struct tp_sts_policy *p, const char *host)
{
	for (size_t i = 0; i < p->nmx; i++)
		if (tp_sts_pattern_match(p->mx[i], host))
			return (1);
	return (0);
}
