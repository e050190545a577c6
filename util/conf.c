/*
 * NAME
 *	conf 3
 * SUMMARY
 *	key = value configuration files, driven by a schema table
 * DESCRIPTION
 *	See tp_conf.h.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/tp_conf.h"
#include "util/tp_lines.h"

#define CONF_LINE_MAX	1024

/* find_key - schema entry of a key, or NULL */

static const struct tp_conf_key *
find_key(const struct tp_conf_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return (keys);
	return (NULL);
}

/* parse_bool - yes/no and friends; -1 if neither */

static int
parse_bool(const char *v)
{
	static const char *const yes[] = {"yes", "true", "on", "1", NULL};
	static const char *const no[] = {"no", "false", "off", "0", NULL};

	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return (1);
		if (strcasecmp(v, no[i]) == 0)
			return (0);
	}
	return (-1);
}

/* tp_conf_set - set one key from its text value */

int
tp_conf_set(const struct tp_conf_key *keys, void *target, const char *name,
	    const char *value, const char **why)
{
	const struct tp_conf_key *k = find_key(keys, name);
	char   *field;

	if (k == NULL) {
		*why = "unknown setting";
		return (-1);
	}
	field = (char *)target + k->offset;
	switch (k->type) {
	case TP_CONF_STRING: {
			char   *copy = strdup(value);

			if (copy == NULL) {
				*why = "out of memory";
				return (-1);
			}
			free(*(char **)field);
			*(char **)field = copy;
			return (0);
		}
	case TP_CONF_BOOL: {
			int	b = parse_bool(value);

			if (b < 0) {
				*why = "expected yes or no";
				return (-1);
			}
			*(int *)field = b;
			return (0);
		}
	case TP_CONF_UINT: {
			char   *end;
			unsigned long n;

			errno = 0;
			n = strtoul(value, &end, 10);
			if (value[0] < '0' || value[0] > '9' || *end != 0 || errno || n > k->max) {
				*why = "expected a whole number in range";
				return (-1);
			}
			*(unsigned *)field = (unsigned)n;
			return (0);
		}
	}
	*why = "bad schema";
	return (-1);
}

/* trim - drop white space at both ends, in place */

static char *
trim(char *s)
{
	char   *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return (s);
}

/* conf_line - one line; errors to errs */

static void
conf_line(const char *path, unsigned long lineno, char *line,
	  const struct tp_conf_key *keys, void *target, unsigned char *seen,
	  struct tp_errors *errs)
{
	char   *eq;
	char   *name;
	const char *why;
	const struct tp_conf_key *k;

	line = trim(line);
	if (*line == 0 || *line == '#')
		return;
	if ((eq = strchr(line, '=')) == NULL) {
		tp_errors_add(errs, path, lineno, "expected \"setting = value\"");
		return;
	}
	*eq = 0;
	name = trim(line);
	if ((k = find_key(keys, name)) == NULL) {
		tp_errors_add(errs, path, lineno, "unknown setting \"%.64s\"", name);
		return;
	}
	if (seen[k - keys]++) {
		tp_errors_add(errs, path, lineno, "%s given twice", k->name);
		return;
	}
	if (tp_conf_set(keys, target, name, trim(eq + 1), &why) < 0)
		tp_errors_add(errs, path, lineno, "%s: %s", k->name, why);
}

/* tp_conf_load - read a whole file */

int
tp_conf_load(const char *path, const struct tp_conf_key *keys, void *target,
	     struct tp_errors *errs)
{
	char	line[CONF_LINE_MAX + 1];
	size_t	len;
	unsigned char seen[64] = {0};
	unsigned long lineno = 0;
	size_t	before = errs->count;
	FILE   *fp;
	int	c;

	if ((fp = fopen(path, "r")) == NULL) {
		tp_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
		return (-1);
	}
	while (tp_read_line(fp, line, sizeof(line), &len) == 0) {
		lineno++;
		if (len > CONF_LINE_MAX) {
			tp_errors_add(errs, path, lineno, "line longer than %d bytes", CONF_LINE_MAX);
			continue;
		}
		if (memchr(line, 0, len) != NULL) {
			tp_errors_add(errs, path, lineno, "NUL byte in line");
			continue;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = 0;
		if ((c = tp_line_control(line, len)) >= 0) {
			tp_errors_add(errs, path, lineno, "control character 0x%02X", (unsigned)c);
			continue;
		}
		conf_line(path, lineno, line, keys, target, seen, errs);
	}
	/* A directory or a failing disk reads as end of file: not as empty. */
	if (ferror(fp))
		tp_errors_add(errs, path, 0, "read error: %s", strerror(errno));
	fclose(fp);
	return (errs->count > before ? -1 : 0);
}

/* tp_conf_free - free every string value */

void
tp_conf_free(const struct tp_conf_key *keys, void *target)
{
	for (; keys->name != NULL; keys++)
		if (keys->type == TP_CONF_STRING) {
			char  **field = (char **)((char *)target + keys->offset);

			free(*field);
			*field = NULL;
		}
}
