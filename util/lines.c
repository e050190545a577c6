/*
 * NAME
 *	lines 3
 * SUMMARY
 *	read one line of a file that may be hostile
 * DESCRIPTION
 *	See tp_lines.h.
 */

#include "util/tp_lines.h"

/* tp_read_line - one line into buf; its full length even if it did not fit */

int
tp_read_line(FILE *fp, char *buf, size_t size, size_t *lenp)
{
	size_t	len = 0;
	int	c;

	while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
		if (len < size - 1)
			buf[len] = (char)c;
		len++;
	}
	if (c == EOF && len == 0)
		return (-1);
	buf[len < size - 1 ? len : size - 1] = 0;
	*lenp = len;
	return (0);
}

/* tp_line_control - the first control character of a line, or -1 */

int
tp_line_control(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return (c);
	}
	return (-1);
}
