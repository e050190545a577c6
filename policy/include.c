/*
 * NAME
 *	include 3
 * SUMMARY
 *	load a policy file and the files it includes, as one
 * SYNOPSIS
 *	#include "policy/tp_policy.h"
 *
 *	struct tp_policy *tp_policy_load(const char *path,
 *					 struct tp_errors *errs);
 *	int	tp_policy_file_changed(const struct tp_policy *p, size_t i);
 * DESCRIPTION
 *	tp_policy_load() parses a policy file and every file that it
 *	includes ("include PATH", PATH a file or a glob(3) pattern, taken
 *	relative to the directory of the including file). The set of
 *	files is one policy: an error in any file refuses all of them,
 *	and each error names its own FILE:LINE.
 *
 *	A file that does not exist, cannot be read or is no regular
 *	file is an error, as is a file included twice (by its device and
 *	inode: a cycle, or two ways to the same file), a nesting deeper
 *	than TP_INCLUDE_DEPTH and more than TP_FILES_MAX files in all. A
 *	pattern that matches nothing is no error (an import not made
 *	yet); the files it matches are read in sorted order, and
 *	directories among them are passed over.
 *
 *	tp_policy_file_changed() tells whether file i of a loaded policy
 *	(tp_policy_file_at) has another inode, size or modification time
 *	than when it was read: 1 if so, 0 if not, -1 if it cannot be
 *	stat'ed (errno) or there is no file i. A reload uses it to refuse
 *	a file that was being written while it was read.
 * DIAGNOSTICS
 *	"FILE:LINE: include: what is wrong", at the include line.
 * MEMORY
 *	The caller releases the policy with tp_policy_unref().
 */

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/tp_buf.h"
#include "policy/tp_policy_impl.h"

#define GLOB_CHARS	"*?[\\"

static int read_file(const struct tp_includer *, size_t, unsigned long,
		     const char *, struct tp_errors *);

/* stamp - note what file f looks like as it is read */

static void
stamp(struct tp_policy *p, size_t f, const struct stat *st)
{
	p->stamps[f] = (struct tp_file_stamp) {st->st_dev, st->st_ino, st->st_size, st->st_mtim};
}

/* depth_of - how many includes deep file f is */

static unsigned
depth_of(const struct tp_policy *p, size_t f)
{
	unsigned depth = 0;

	for (; f != 0 && depth <= TP_FILES_MAX; f = p->parents[f])
		depth++;
	return (depth);
}

/* seen_before - the file already read with this identity, or -1 */

static long
seen_before(const struct tp_policy *p, const struct stat *st)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (p->stamps[i].dev == st->st_dev && p->stamps[i].ino == st->st_ino)
			return ((long)i);
	return (-1);
}

/* is_ancestor - is file a the file f or one that includes it? */

static int
is_ancestor(const struct tp_policy *p, size_t a, size_t f)
{
	for (unsigned n = 0; n <= TP_FILES_MAX; n++, f = p->parents[f]) {
		if (f == a)
			return (1);
		if (f == 0)
			break;
	}
	return (0);
}

/* check_new_file - may this opened file join the set? 0 or -1 (reported) */

static int
check_new_file(const struct tp_policy *p, size_t parent, unsigned long line,
	       const char *path, const struct stat *st, struct tp_errors *errs)
{
	const char *from = p->files[parent];
	long	seen;

	if (!S_ISREG(st->st_mode)) {
		tp_errors_add(errs, from, line, "include: %s is not a regular file", path);
		return (-1);
	}
	if ((seen = seen_before(p, st)) >= 0) {
		if (is_ancestor(p, (size_t)seen, parent))
			tp_errors_add(errs, from, line, "include: cycle: %s includes %s, directly or not",
				      path, from);
		else
			tp_errors_add(errs, from, line, "include: %s is included twice (already as %s)",
				      path, p->files[seen]);
		return (-1);
	}
	return (0);
}

/*
 * read_file - read one included file into the policy. -1: reported and
 * parsing goes on; -3: a limit was passed or memory ran out, stop.
 */

static int
read_file(const struct tp_includer *inc, size_t parent, unsigned long line,
	  const char *path, struct tp_errors *errs)
{
	struct tp_policy *p = inc->ctx;
	const char *from = p->files[parent];
	struct stat st;
	FILE   *fp;
	size_t	f;
	int	rc = -1;

	if (depth_of(p, parent) >= TP_INCLUDE_DEPTH) {
		tp_errors_add(errs, from, line, "include: %s: includes nested more than %d deep",
			      path, TP_INCLUDE_DEPTH);
		return (-1);
	}
	if (p->nfiles >= TP_FILES_MAX) {
		tp_errors_add(errs, from, line, "include: %s: more than %d files in the policy",
			      path, TP_FILES_MAX);
		return (-3);
	}
	if ((fp = fopen(path, "re")) == NULL) {
		tp_errors_add(errs, from, line, "include: cannot open %s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fileno(fp), &st) != 0) {
		tp_errors_add(errs, from, line, "include: %s: %s", path, strerror(errno));
		goto out;
	}
	if (check_new_file(p, parent, line, path, &st, errs) < 0)
		goto out;
	if (tp_policy_add_file(p, path, parent) < 0) {
		tp_errors_add(errs, from, line, "out of memory");
		rc = -3;
		goto out;
	}
	f = p->nfiles - 1;
	stamp(p, f, &st);
	rc = tp_policy_parse_file(p, fp, f, inc, errs) < 0 ? -3 : 0;
out:
	fclose(fp);
	return (rc);
}

/* resolve - the path relative to the including file's directory, into buf */

static int
resolve(const char *from, const char *path, char *buf, size_t len, int escape)
{
	struct tp_buf b = TP_BUF(buf, len);
	const char *slash = strrchr(from, '/');

	if (path[0] != '/' && slash != NULL) {
		/* The directory is a name, not a pattern: escape glob's characters. */
		for (const char *c = from; c <= slash; c++) {
			if (escape && strchr(GLOB_CHARS, *c) != NULL)
				tp_buf_add(&b, "\\", 1);
			tp_buf_add(&b, c, 1);
		}
	}
	tp_buf_adds(&b, path);
	return (b.len + 1 < len ? 0 : -1);
}

/* include_glob - every regular file a pattern matches, in sorted order */

static int
include_glob(const struct tp_includer *inc, size_t parent, unsigned long line,
	     const char *pattern, struct tp_errors *errs)
{
	const char *from = ((struct tp_policy *)inc->ctx)->files[parent];
	glob_t	g;
	int	status = 0;
	int	rc;

	switch (glob(pattern, GLOB_MARK, NULL, &g)) {
	case 0:
		break;
	case GLOB_NOMATCH:
		globfree(&g);
		return (0);
	case GLOB_NOSPACE:
		tp_errors_add(errs, from, line, "out of memory");
		return (-3);
	default:
		tp_errors_add(errs, from, line, "include: %s: cannot read a directory", pattern);
		globfree(&g);
		return (-1);
	}
	for (size_t i = 0; i < g.gl_pathc && status > -2; i++) {
		size_t	len = strlen(g.gl_pathv[i]);

		if (len > 0 && g.gl_pathv[i][len - 1] == '/')
			continue;		/* a directory (GLOB_MARK) */
		if ((rc = read_file(inc, parent, line, g.gl_pathv[i], errs)) < status)
			status = rc;
	}
	globfree(&g);
	return (status);
}

/* include - follow one include line of file parent */

static int
include(const struct tp_includer *inc, size_t parent, unsigned long line,
	const char *path, struct tp_errors *errs)
{
	const char *from = ((struct tp_policy *)inc->ctx)->files[parent];
	int	pattern = strpbrk(path, GLOB_CHARS) != NULL;
	char	full[PATH_MAX];

	if (resolve(from, path, full, sizeof(full), pattern) < 0) {
		tp_errors_add(errs, from, line, "include: path longer than %d bytes", PATH_MAX - 1);
		return (-1);
	}
	if (pattern)
		return (include_glob(inc, parent, line, full, errs));
	return (read_file(inc, parent, line, full, errs));
}

/* tp_policy_file_changed - file i since it was read: 1 changed, 0 not, -1 */

int
tp_policy_file_changed(const struct tp_policy *p, size_t i)
{
	const struct tp_file_stamp *s;
	struct stat st;

	if (i >= p->nfiles || stat(p->files[i], &st) != 0)
		return (-1);
	s = &p->stamps[i];
	return (!(st.st_dev == s->dev && st.st_ino == s->ino && st.st_size == s->size
		  && st.st_mtim.tv_sec == s->mtime.tv_sec
		  && st.st_mtim.tv_nsec == s->mtime.tv_nsec));
}

/* tp_policy_load - parse a policy file and its includes; NULL on any error */

struct tp_policy *
tp_policy_load(const char *path, struct tp_errors *errs)
{
	struct tp_includer inc = {include, NULL};
	struct tp_policy *p = NULL;
	size_t	before = errs->count;
	struct stat st;
	FILE   *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		tp_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
		return (NULL);
	}
	if ((p = tp_policy_new(path)) == NULL) {
		tp_errors_add(errs, path, 0, "out of memory");
		goto out;
	}
	if (fstat(fileno(fp), &st) == 0)
		stamp(p, 0, &st);
	inc.ctx = p;
	if (tp_policy_parse_file(p, fp, 0, &inc, errs) < 0 || errs->count > before) {
		tp_policy_free(p);
		p = NULL;
		goto out;
	}
	tp_policy_finish(p);
out:
	fclose(fp);
	return (p);
}
