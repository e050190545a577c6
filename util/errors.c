/*
 * NAME
 *	errors 3
 * SUMMARY
 *	collect "FILE:LINE: what is wrong" diagnostics
 * DESCRIPTION
 *	See tp_errors.h.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/tp_errors.h"

/* tp_errors_init - start an empty list */

void
tp_errors_init(struct tp_errors *errs)
{
	errs->msgs = NULL;
	errs->kept = 0;
	errs->count = 0;
}

/* tp_errors_add - format and keep one diagnostic */

void
tp_errors_add(struct tp_errors *errs, const char *file, unsigned long line,
	      const char *fmt,...)
{
	char	text[1024];
	char   *msg;
	char  **grown;
	int	off;
	va_list ap;

	errs->count++;
	if (errs->kept >= TP_ERRORS_KEEP)
		return;
	if (line > 0)
		off = snprintf(text, sizeof(text), "%s:%lu: ", file, line);
	else
		off = snprintf(text, sizeof(text), "%s: ", file);
	if (off < 0 || (size_t)off >= sizeof(text))
		off = 0;
	va_start(ap, fmt);
	vsnprintf(text + off, sizeof(text) - (size_t)off, fmt, ap);
	va_end(ap);
	if ((msg = strdup(text)) == NULL)
		return;
	grown = realloc(errs->msgs, (errs->kept + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(msg);
		return;
	}
	errs->msgs = grown;
	errs->msgs[errs->kept++] = msg;
}

/* tp_errors_free - release every kept message */

void
tp_errors_free(struct tp_errors *errs)
{
	for (size_t i = 0; i < errs->kept; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	tp_errors_init(errs);
}
