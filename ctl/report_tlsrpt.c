/*
 * NAME
 *	report_tlsrpt 3
 * SUMMARY
 *	tlspolicyctl report --tlsrpt: reading RFC 8460 reports
 * SYNOPSIS
 *	#include "ctl/tp_tlsrpt.h"
 *
 *	See tp_tlsrpt.h.
 * DESCRIPTION
 *	A path is a file or a directory (its regular files, in name
 *	order, not recursively). A file is read whole, at most
 *	TP_TLSRPT_FILE_MAX bytes; report_tlsrpt_mime.c unpacks it to the
 *	report's JSON, which must be valid UTF-8 without NUL bytes and
 *	parse as one JSON value; report_tlsrpt_sum.c checks it against
 *	RFC 8460's schema and sums it.
 * DIAGNOSTICS
 *	A refused file: "FILE: why", kept (the first
 *	TP_TLSRPT_REFUSED_MAX) and, from tp_tlsrpt_read_path(), written to
 *	errfp with text from the file escaped.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl/report_tlsrpt_impl.h"
#include "policy/tp_names.h"
#include "util/tp_escape.h"

#define JSON_DEPTH	16		/* the schema needs 5 */
#define WHY_MAX		512

/* refuse - count a refused file, keep "FILE: why" */

static int
refuse(struct tp_tlsrpt *tr, const char *name, const char *reason, char *why, size_t whylen)
{
	struct tp_tlsrpt_refused *r = &tr->refusals[tr->nrefusals];
	char	copy[WHY_MAX];

	snprintf(copy, sizeof(copy), "%s", reason);
	snprintf(why, whylen, "%s: %s", name, copy);
	tr->refused++;
	if (tr->nrefusals < TP_TLSRPT_REFUSED_MAX
	    && (r->file = strdup(name)) != NULL) {
		if ((r->why = strdup(copy)) == NULL)
			free((void *)(uintptr_t)r->file);
		else
			tr->nrefusals++;
	}
	return (-1);
}

/* parse - the report's JSON text, checked as bytes, then parsed */

static struct json_object *
parse(const char *text, size_t len, char *why, size_t whylen)
{
	struct json_tokener *tok;
	struct json_object *doc = NULL;
	enum json_tokener_error err;

	if (memchr(text, 0, len) != NULL) {
		snprintf(why, whylen, "not JSON: a NUL byte");
		return (NULL);
	}
	if (!tp_utf8_valid(text, len)) {
		snprintf(why, whylen, "not JSON: not valid UTF-8");
		return (NULL);
	}
	if ((tok = json_tokener_new_ex(JSON_DEPTH)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (NULL);
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	doc = json_tokener_parse_ex(tok, text, (int)len);
	if ((err = json_tokener_get_error(tok)) != json_tokener_success) {
		snprintf(why, whylen, "not JSON: %s", err == json_tokener_continue
			 ? "it ends early" : json_tokener_error_desc(err));
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	return (doc);
}

/* tp_tlsrpt_read_buf - one report file's bytes */

int
tp_tlsrpt_read_buf(struct tp_tlsrpt *tr, const char *name, const char *buf, size_t len,
		   char *why, size_t whylen)
{
	char	reason[WHY_MAX], *text = NULL;
	size_t	tlen = 0;
	struct json_object *doc = NULL;
	int	rc;

	tr->files++;
	if (len > TP_TLSRPT_FILE_MAX) {
		snprintf(reason, sizeof(reason), "more than %d bytes: too big", TP_TLSRPT_FILE_MAX);
		return (refuse(tr, name, reason, why, whylen));
	}
	if (tp_tlsrpt_unpack(buf, len, &text, &tlen, reason, sizeof(reason)) < 0
	    || (doc = parse(text, tlen, reason, sizeof(reason))) == NULL) {
		free(text);
		return (refuse(tr, name, reason, why, whylen));
	}
	free(text);
	rc = tp_tlsrpt_add(tr, doc, reason, sizeof(reason));
	json_object_put(doc);
	if (rc == -2)
		snprintf(reason, sizeof(reason), "out of memory");
	if (rc < 0)
		return (refuse(tr, name, reason, why, whylen));
	return (0);
}

/* slurp - a whole file, at most TP_TLSRPT_FILE_MAX + 1 bytes */

static int
slurp(const char *path, char **buf, size_t *len, char *reason, size_t size)
{
	int	fd = open(path, O_RDONLY | O_NOCTTY);
	ssize_t	n;

	*buf = NULL;
	*len = 0;
	if (fd < 0 || (*buf = malloc(TP_TLSRPT_FILE_MAX + 1)) == NULL) {
		snprintf(reason, size, "%s", fd < 0 ? strerror(errno) : "out of memory");
		if (fd >= 0)
			close(fd);
		return (-1);
	}
	while (*len < TP_TLSRPT_FILE_MAX + 1
	       && (n = read(fd, *buf + *len, TP_TLSRPT_FILE_MAX + 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(reason, size, "%s", strerror(errno));
			close(fd);
			free(*buf);
			*buf = NULL;
			return (-1);
		}
		*len += (size_t)n;
	}
	close(fd);
	return (0);
}

/* tp_tlsrpt_read_file - one report file */

int
tp_tlsrpt_read_file(struct tp_tlsrpt *tr, const char *path, char *why, size_t whylen)
{
	char	reason[WHY_MAX], *buf;
	size_t	len;
	int	rc;

	if (slurp(path, &buf, &len, reason, sizeof(reason)) < 0) {
		tr->files++;
		return (refuse(tr, path, reason, why, whylen));
	}
	rc = tp_tlsrpt_read_buf(tr, path, buf, len, why, whylen);
	free(buf);
	return (rc);
}

/* by_name - directory entries in name order */

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return (strcmp((*a)->d_name, (*b)->d_name));
}

/* visible - what scandir() keeps: not ".", "..", ".anything" */

static int
visible(const struct dirent *d)
{
	return (d->d_name[0] != '.');
}

/* read_one - one file; its refusal written to errfp: 1 refused, 0 not */

static int
read_one(struct tp_tlsrpt *tr, const char *path, FILE *errfp)
{
	char	why[WHY_MAX + PATH_MAX], shown[WHY_MAX + PATH_MAX];

	if (tp_tlsrpt_read_file(tr, path, why, sizeof(why)) == 0)
		return (0);
	fprintf(errfp, "tlspolicyctl report: %s\n", tp_escape_term(why, shown, sizeof(shown)));
	return (1);
}

/* tp_tlsrpt_read_path - a file, or a directory's files: how many refused */

int
tp_tlsrpt_read_path(struct tp_tlsrpt *tr, const char *path, FILE *errfp)
{
	struct dirent **names;
	struct stat st;
	int	n, refused = 0;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return (read_one(tr, path, errfp));
	if ((n = scandir(path, &names, visible, by_name)) < 0)
		return (read_one(tr, path, errfp));
	for (int i = 0; i < n; i++) {
		size_t	len = strlen(path) + strlen(names[i]->d_name) + 2;
		char   *file = malloc(len);

		if (file != NULL) {
			snprintf(file, len, "%s/%s", path, names[i]->d_name);
			if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
				refused += read_one(tr, file, errfp);
		} else {
			refused = -1;
		}
		free(file);
		free(names[i]);
	}
	free(names);
	return (refused);
}

/* ---- the object --------------------------------------------------------- */

/* tp_tlsrpt_new - nothing read yet */

struct tp_tlsrpt *
tp_tlsrpt_new(void)
{
	return (calloc(1, sizeof(struct tp_tlsrpt)));
}

/* tp_tlsrpt_free - everything */

void
tp_tlsrpt_free(struct tp_tlsrpt *tr)
{
	if (tr == NULL)
		return;
	for (size_t i = 0; i < tr->nentries; i++) {
		for (size_t j = 0; j < tr->entries[i]->pub.nrows; j++)
			free(tr->entries[i]->rows[j]);
		free(tr->entries[i]->strings);
		free(tr->entries[i]);
	}
	for (size_t i = 0; i < tr->nseen; i++)
		free(tr->seen[i]);
	for (size_t i = 0; i < tr->nrefusals; i++) {
		free((void *)(uintptr_t)tr->refusals[i].file);
		free((void *)(uintptr_t)tr->refusals[i].why);
	}
	free(tr->entries);
	free(tr->seen);
	free(tr);
}

/* tp_tlsrpt_totals - what was read, counted and refused */

void
tp_tlsrpt_totals(const struct tp_tlsrpt *tr, struct tp_tlsrpt_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->files = tr->files;
	t->reports = tr->reports;
	t->duplicates = tr->duplicates;
	t->refused = tr->refused;
	t->refusals = tr->refusals;
	t->nrefusals = tr->nrefusals;
	t->entries = tr->nentries;
	t->entries_dropped = tr->entries_dropped;
	t->successful = tr->successful;
	t->failed = tr->failed;
}

/* by_org - organisation, then most failed sessions, then domain and type */

static int
by_org(const void *a, const void *b)
{
	const struct tp_tlsrpt_policy *x = *(const struct tp_tlsrpt_policy *const *)a;
	const struct tp_tlsrpt_policy *y = *(const struct tp_tlsrpt_policy *const *)b;
	int	c;

	if ((c = strcmp(x->org, y->org)) != 0)
		return (c);
	if (x->failed != y->failed)
		return (x->failed > y->failed ? -1 : 1);
	if ((c = strcmp(x->domain, y->domain)) != 0)
		return (c);
	return (strcmp(x->type, y->type));
}

/* tp_tlsrpt_sorted - the entries by organisation (caller frees) */

const struct tp_tlsrpt_policy **
tp_tlsrpt_sorted(const struct tp_tlsrpt *tr, size_t *n)
{
	const struct tp_tlsrpt_policy **v = malloc((tr->nentries + 1) * sizeof(*v));

	*n = 0;
	if (v == NULL)
		return (NULL);
	for (size_t i = 0; i < tr->nentries; i++)
		v[(*n)++] = &tr->entries[i]->pub;
	qsort(v, *n, sizeof(*v), by_org);
	return (v);
}
