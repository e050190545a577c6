/*
 * NAME
 *	import_stle 3
 * SUMMARY
 *	tlspolicyctl import --starttls-everywhere: the EFF's list
 * SYNOPSIS
 *	#include "ctl/import_impl.h"
 *
 *	int	tp_import_stle(struct tp_import *imp, const char *path);
 * DESCRIPTION
 *	The STARTTLS Everywhere policy list (policy.json, format 0.1,
 *	schema policy-0.1.schema.json of that project): "policies" maps
 *	each mail domain to a policy ("mode" testing or enforce, "mxs")
 *	or to a "policy-alias" in "policy-aliases". Each domain becomes a
 *	dest: rule with its alias resolved; an mx ".example.net" (the
 *	list's RULES.md: exactly one more label) becomes "*.example.net".
 *	The list expires ("expires", RFC 3339 or seconds since the
 *	epoch); an expired list must not be enforced (the list's own
 *	rule), so its rules are all written with mode=testing and a
 *	warning goes to standard error. The project ended in 2020.
 *
 *	The file is hostile input: at most STLE_MAX bytes, JSON nested at
 *	most STLE_DEPTH deep, every domain and mx a valid host name; any
 *	error refuses the whole list.
 * DIAGNOSTICS
 *	"FILE: policies: DOMAIN: what is wrong" (the JSON has no useful
 *	lines but for a syntax error: "FILE:LINE: not JSON: why").
 */

/* System library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Outside libraries. */
#include <json-c/json.h>

/* Application-specific. */
#include "ctl/import_impl.h"
#include "ctl/report_impl.h"
#include "policy/tp_names.h"
#include "util/tp_escape.h"

#define STLE_MAX	(16 * 1024 * 1024)	/* the 2020 list is 121 KB */
#define STLE_DEPTH	8			/* the format nests 4 deep */

#if JSON_C_VERSION_NUM >= ((0 << 16) | (15 << 8))
#define PARSE_END(tok)	json_tokener_get_parse_end(tok)
#else
#define PARSE_END(tok)	((size_t)(tok)->char_offset)
#endif

/* What every entry of one list shares. */
struct stle {
	const char *path;
	struct json_object *aliases;	/* may be NULL */
	char	when[64];		/* the list's timestamp, for comments */
	char	until[64];		/* its expiry */
	int	expired;
};

/* parse_json - the whole file as JSON; NULL after a FILE:LINE message */

static struct json_object *
parse_json(const char *path, const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(STLE_DEPTH);
	struct json_object *obj = NULL;
	enum json_tokener_error err;
	unsigned long line = 1;
	size_t	end;

	if (tok == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		return (NULL);
	}
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	err = json_tokener_get_error(tok);
	end = PARSE_END(tok);
	if (obj != NULL && err == json_tokener_success
	    && strspn(buf + end, " \t\r\n") == len - end)
		goto out;
	for (size_t i = 0; i < end && i < len; i++)
		line += buf[i] == '\n';
	fprintf(stderr, "%s:%lu: not JSON: %s\n", path, line,
		err == json_tokener_success ? "text after the end"
		: err == json_tokener_continue ? "the file ends inside it"
		: json_tokener_error_desc(err));
	json_object_put(obj);
	obj = NULL;
out:
	json_tokener_free(tok);
	return (obj);
}

/* list_time - "expires"/"timestamp": RFC 3339 text or epoch seconds */

static int
list_time(struct json_object *v, time_t *t)
{
	long long ms;

	if (json_object_is_type(v, json_type_int)) {
		*t = (time_t)json_object_get_int64(v);
		return (*t >= 0 ? 0 : -1);
	}
	if (json_object_is_type(v, json_type_string)
	    && tp_report_rfc3339(json_object_get_string(v), &ms) == 0) {
		*t = (time_t)(ms / 1000);
		return (0);
	}
	return (-1);
}

/* header - version, timestamp, expires; 0, or -1 after a message */

static int
header(struct stle *l, struct tp_import *imp, struct json_object *root)
{
	struct json_object *v;
	time_t	when = 0, until;

	if (!json_object_object_get_ex(root, "version", &v)
	    || strcmp(json_object_get_string(v), "0.1") != 0) {
		fprintf(stderr, "%s: not a STARTTLS Everywhere list of version 0.1\n",
			l->path);
		return (-1);
	}
	if (!json_object_object_get_ex(root, "expires", &v) || list_time(v, &until) < 0) {
		fprintf(stderr, "%s: \"expires\" missing or not a time\n", l->path);
		return (-1);
	}
	if (json_object_object_get_ex(root, "timestamp", &v))
		(void)list_time(v, &when);
	tp_import_time(when, l->when, sizeof(l->when));
	tp_import_time(until, l->until, sizeof(l->until));
	if ((l->expired = until <= imp->now))
		fprintf(stderr, "%s: warning: the list expired on %s; its rules are "
			"imported with mode=testing only (an expired list must not "
			"be enforced)\n", l->path, l->until);
	if (json_object_object_get_ex(root, "policy-aliases", &l->aliases)
	    && !json_object_is_type(l->aliases, json_type_object)) {
		fprintf(stderr, "%s: \"policy-aliases\" is not an object\n", l->path);
		return (-1);
	}
	return (0);
}

/* mx_pattern - ".example.net" or "mx.example.net" to a cert_subject name */

static char *
mx_pattern(const char *mx, const char **why)
{
	char	name[TP_DOMAIN_MAX + 1];
	size_t	dot = mx[0] == '.';
	char   *out;

	if (strchr(mx, '*') != NULL) {
		*why = "a '*' in an mx (the list writes \".example.net\")";
		return (NULL);
	}
	if (tp_domain_normalize(mx + dot, strlen(mx + dot), name, why) < 0)
		return (NULL);
	if ((out = malloc(strlen(name) + 3)) == NULL) {
		*why = "out of memory";
		return (NULL);
	}
	snprintf(out, strlen(name) + 3, "%s%s", dot ? "*." : "", name);
	return (out);
}

/* policy_of - the policy object of an entry, its alias resolved */

static struct json_object *
policy_of(struct stle *l, struct json_object *entry, const char **alias,
	  const char **why)
{
	struct json_object *a, *p;

	*alias = NULL;
	if (!json_object_is_type(entry, json_type_object)) {
		*why = "not an object";
		return (NULL);
	}
	if (!json_object_object_get_ex(entry, "policy-alias", &a))
		return (entry);
	*alias = json_object_get_string(a);
	if (l->aliases == NULL || !json_object_object_get_ex(l->aliases, *alias, &p)
	    || !json_object_is_type(p, json_type_object)) {
		*why = "its policy-alias is not in policy-aliases";
		return (NULL);
	}
	return (p);
}

/* entry_mode - "mode": testing or enforce */

static int
entry_mode(struct json_object *p, enum tp_sts_mode *mode)
{
	struct json_object *m;
	const char *s;

	if (!json_object_object_get_ex(p, "mode", &m)
	    || !json_object_is_type(m, json_type_string))
		return (-1);
	s = json_object_get_string(m);
	if (strcmp(s, "enforce") == 0)
		*mode = TP_STS_MODE_ENFORCE;
	else if (strcmp(s, "testing") == 0)
		*mode = TP_STS_MODE_TESTING;
	else
		return (-1);
	return (0);
}

/* entry_mxs - "mxs" as cert_subject names; the count, or -1 and why */

static int
entry_mxs(struct json_object *p, char **mx, const char **why)
{
	struct json_object *a;
	size_t	n;

	if (!json_object_object_get_ex(p, "mxs", &a)
	    || !json_object_is_type(a, json_type_array)
	    || (n = json_object_array_length(a)) == 0 || n > TP_STS_MX_MAX) {
		*why = "\"mxs\" is not a list of 1 to 100 names";
		return (-1);
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(a, i);

		if (!json_object_is_type(v, json_type_string)) {
			*why = "an mx that is not a string";
			mx[i] = NULL;
		} else
			mx[i] = mx_pattern(json_object_get_string(v), why);
		if (mx[i] == NULL) {
			while (i > 0)
				free(mx[--i]);
			return (-1);
		}
	}
	return ((int)n);
}

/* entry - one domain of "policies" to its rule; 0, or -1 after a message */

static int
entry(struct stle *l, struct tp_import *imp, const char *key,
      struct json_object *value)
{
	char	domain[TP_DOMAIN_MAX + 1], comment[1024], shown[TP_DOMAIN_MAX + 8];
	char   *mx[TP_STS_MX_MAX];
	const char *why = NULL, *alias;
	struct json_object *p;
	enum tp_sts_mode mode;
	int	n = 0, ret = -1;

	if (tp_import_domain(imp, key, domain, &why) < 0
	    || (p = policy_of(l, value, &alias, &why)) == NULL)
		goto out;
	if (entry_mode(p, &mode) < 0) {
		why = "\"mode\" is not testing or enforce";
		goto out;
	}
	if ((n = entry_mxs(p, mx, &why)) < 0)
		goto out;
	snprintf(comment, sizeof(comment), "%s: STARTTLS Everywhere %s of %s, "
		 "mode %s%s%s: %s %s%s", domain, l->path, l->when,
		 tp_sts_mode_name(mode), alias ? ", alias " : "",
		 alias ? tp_escape_term(alias, shown, sizeof(shown)) : "",
		 l->expired ? "the list expired" : "the list expires", l->until,
		 l->expired && mode == TP_STS_MODE_ENFORCE ? ": testing only" : "");
	ret = tp_import_rule(imp, domain, l->expired ? TP_STS_MODE_TESTING : mode,
			     mx, (size_t)n, comment);
	while (n > 0)
		free(mx[--n]);
out:
	if (why != NULL)
		fprintf(stderr, "%s: policies: %s: %s\n", l->path,
			tp_escape_term(key, shown, sizeof(shown)), why);
	return (ret);
}

/* tp_import_stle - every domain of a STARTTLS Everywhere list */

int
tp_import_stle(struct tp_import *imp, const char *path)
{
	struct stle l = {.path = path};
	struct json_object *root = NULL, *policies;
	size_t	len;
	char   *buf;
	int	ret = -1;

	if ((buf = tp_import_read(path, STLE_MAX, &len)) == NULL)
		return (-1);
	if ((root = parse_json(path, buf, len)) == NULL)
		goto out;
	if (!json_object_is_type(root, json_type_object)) {
		fprintf(stderr, "%s: not a JSON object\n", path);
		goto out;
	}
	if (header(&l, imp, root) < 0)
		goto out;
	if (!json_object_object_get_ex(root, "policies", &policies)
	    || !json_object_is_type(policies, json_type_object)) {
		fprintf(stderr, "%s: no \"policies\" object\n", path);
		goto out;
	}
	ret = 0;
	json_object_object_foreach(policies, key, value)
		if (entry(&l, imp, key, value) < 0)
			ret = -1;
out:
	json_object_put(root);
	free(buf);
	return (ret);
}
