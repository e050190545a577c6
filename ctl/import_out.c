/*
 * NAME
 *	import_out 3
 * SUMMARY
 *	tlspolicyctl import: the rules and comments every source writes
 * SYNOPSIS
 *	#include "ctl/import_impl.h"
 *
 *	int	tp_import_domain(struct tp_import *imp, const char *in,
 *				 char *out, const char **why);
 *	int	tp_import_rule(struct tp_import *imp, const char *domain,
 *			       enum tp_sts_mode mode, char *const *mx,
 *			       size_t nmx, const char *comment);
 *	int	tp_import_note(struct tp_import *imp, const char *domain,
 *			       const char *what);
 *	int	tp_import_policy(struct tp_import *imp, const char *domain,
 *				 const char *body, size_t len,
 *				 const char *source, const char *id);
 *	char   *tp_import_read(const char *path, size_t max, size_t *len);
 *	const char *tp_import_time(time_t t, char *buf, size_t size);
 * DESCRIPTION
 *	The one place that writes a dest: rule from a published policy
 *	(the mapping the dest: contract fixes), so that MTA-STS files,
 *	fetched policies and the STARTTLS Everywhere list come out alike.
 *	See import_impl.h.
 * DIAGNOSTICS
 *	To standard error: "FILE:LINE: what is wrong" for a body, and
 *	"FILE: why" for a file that cannot be read.
 */

/* System library. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Application-specific. */
#include "ctl/import_impl.h"
#include "policy/tp_names.h"

/* tp_import_time - RFC 3339 UTC of a time, for the comments */

const char *
tp_import_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL
	    || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "(time %lld)", (long long)t);
	return (buf);
}

/* tp_import_domain - canonical form of an imported domain; -1 and why */

int
tp_import_domain(struct tp_import *imp, const char *in, char *out,
		 const char **why)
{
	if (tp_domain_normalize(in, strlen(in), out, why) < 0)
		return (-1);
	for (size_t i = 0; i < imp->ndomains; i++)
		if (strcmp(imp->domains[i], out) == 0) {
			*why = "imported twice (one rule per domain)";
			return (-1);
		}
	return (0);
}

/* remember - the domain has a rule now: a second one is refused */

static int
remember(struct tp_import *imp, const char *domain)
{
	char  **grown;

	grown = realloc(imp->domains, (imp->ndomains + 1) * sizeof(*grown));
	if (grown == NULL)
		return (-1);
	imp->domains = grown;
	if ((grown[imp->ndomains] = strdup(domain)) == NULL)
		return (-1);
	imp->ndomains++;
	return (0);
}

/* comment - one comment line; a byte that could end it (or confuse a
 * terminal) is written as '?': a path or a list's text could hold one, and
 * a line end would turn the rest into a rule */

static void
comment(FILE *out, const char *text)
{
	fputs("# ", out);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
	fputc('\n', out);
}

/* tp_import_rule - the comment and the dest: rule of one domain */

int
tp_import_rule(struct tp_import *imp, const char *domain,
	       enum tp_sts_mode mode, char *const *mx, size_t nmx,
	       const char *text)
{
	if (remember(imp, domain) < 0) {
		fprintf(stderr, "tlspolicyctl import: out of memory\n");
		return (-1);
	}
	fputc('\n', imp->out);
	comment(imp->out, text);
	if (mode == TP_STS_MODE_NONE) {
		fprintf(imp->out, "# %s: mode none: no rule\n", domain);
		return (0);
	}
	fprintf(imp->out, "dest:%s require verify=yes cert_subject=", domain);
	for (size_t i = 0; i < nmx; i++)
		fprintf(imp->out, "%s%s", i ? "," : "", mx[i]);
	fprintf(imp->out, "%s\n", mode == TP_STS_MODE_TESTING ? " mode=testing" : "");
	return (0);
}

/* tp_import_note - a comment line for a domain that gets no rule */

int
tp_import_note(struct tp_import *imp, const char *domain, const char *what)
{
	char	text[1024];

	if (remember(imp, domain) < 0) {
		fprintf(stderr, "tlspolicyctl import: out of memory\n");
		return (-1);
	}
	snprintf(text, sizeof(text), "%s: %s: no rule", domain, what);
	fputc('\n', imp->out);
	comment(imp->out, text);
	return (0);
}

/* tp_import_read - a whole file of at most max bytes; -1 and a message */

char   *
tp_import_read(const char *path, size_t max, size_t *len)
{
	FILE   *fp;
	char   *buf = NULL;
	size_t	n;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(max + 2)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	n = fread(buf, 1, max + 1, fp);
	if (ferror(fp)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto fail;
	}
	if (n > max) {
		fprintf(stderr, "%s: more than %zu bytes: refused\n", path, max);
		goto fail;
	}
	buf[n] = 0;
	*len = n;
	goto out;
fail:
	free(buf);
	buf = NULL;
out:
	fclose(fp);
	return (buf);
}

/* tp_import_policy - one parsed MTA-STS body to its rule; errors to stderr */

int
tp_import_policy(struct tp_import *imp, const char *domain, const char *body,
		 size_t len, const char *source, const char *id)
{
	struct tp_errors errs;
	struct tp_sts_policy *p;
	char	comment[1024], until[32];
	int	ret;

	tp_errors_init(&errs);
	if ((p = tp_sts_parse(body, len, source, &errs)) == NULL) {
		for (size_t i = 0; i < errs.kept; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "%s: MTA-STS policy of %s refused\n", source, domain);
		tp_errors_free(&errs);
		return (-1);
	}
	snprintf(comment, sizeof(comment), "%s: MTA-STS policy from %s%s%s, "
		 "mode %s, max_age %ld: expires %s", domain, source,
		 id ? ", id " : "", id ? id : "", tp_sts_mode_name(p->mode),
		 p->max_age, tp_import_time(imp->now + p->max_age, until,
					    sizeof(until)));
	ret = tp_import_rule(imp, domain, p->mode, p->mx, p->nmx, comment);
	tp_sts_policy_free(p);
	return (ret);
}

