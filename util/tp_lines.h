#ifndef TP_LINES_H
#define TP_LINES_H

/*
 * NAME
 *	tp_lines 3h
 * SUMMARY
 *	read one line of a file that may be hostile
 * SYNOPSIS
 *	#include "util/tp_lines.h"
 *
 *	int	tp_read_line(FILE *fp, char *buf, size_t size, size_t *len);
 *	int	tp_line_control(const char *line, size_t len);
 * DESCRIPTION
 *	Reads up to the next newline (dropped) into buf, keeping at most
 *	size - 1 bytes and NUL-terminating them. *len is the line's full
 *	length even when it did not fit, and counts NUL bytes, so that the
 *	caller can report an over-long line or a NUL byte (memchr over
 *	min(*len, size - 1) bytes) instead of misreading either. Memory use
 *	is bounded whatever the file holds. Returns -1 at end of file.
 *
 *	tp_line_control() returns the first control character (C0 but
 *	TAB, or DEL) of the len bytes at line, or -1 if there is none:
 *	errors echo a line to a terminal or to syslog, where such bytes
 *	would act, so a configuration line must not hold them.
 */

#include <stdio.h>

extern int tp_read_line(FILE *, char *, size_t, size_t *);
extern int tp_line_control(const char *, size_t);

#endif
