#ifndef FUZZ_H
#define FUZZ_H

/*
 * NAME
 *	fuzz 3h
 * SUMMARY
 *	what the libFuzzer targets share
 * SYNOPSIS
 *	#include "tests/fuzz/fuzz.h"
 *
 *	FUZZ_ASSERT(cond, fmt, ...);
 *	size_t	fuzz_fields(char *text, size_t len, const char **fields,
 *			    size_t max);
 *	int	fuzz_no_control(const char *s, size_t len, const char *allow);
 * DESCRIPTION
 *	Each target in tests/fuzz/ is one program: libFuzzer calls its
 *	LLVMFuzzerTestOneInput() with one input, and any crash, sanitizer
 *	report, leak or failed FUZZ_ASSERT() is a finding that it saves
 *	as a crash-* file (tests/fuzz/run.sh).
 *
 *	FUZZ_ASSERT() checks a property the code promises; when it fails
 *	it says which and aborts, so that libFuzzer keeps the input.
 *
 *	fuzz_fields() cuts text (len bytes, text[len] must be writable)
 *	at each NUL byte into at most max C strings; it returns how many.
 *	The last field ends at len. Targets that need several strings use
 *	it, so that every field may hold any byte but NUL.
 *
 *	fuzz_no_control() is 1 when no byte of s is a control character
 *	(< 0x20, or DEL) other than those in allow (e.g. "\t").
 *
 *	fuzz_no_c1() is 1 when s holds no UTF-8 C1 control (U+0080 to
 *	U+009F): with fuzz_no_control() and valid UTF-8, text that cannot
 *	drive a terminal.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: FUZZ_ASSERT(%s) failed: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_fields - split at NUL bytes into at most max strings */

static inline size_t
fuzz_fields(char *text, size_t len, const char **fields, size_t max)
{
	size_t	n = 0;
	char   *s = text, *end = text + len;

	text[len] = 0;
	while (n < max) {
		fields[n++] = s;
		if ((s = memchr(s, 0, (size_t)(end - s))) == NULL || s == end)
			break;
		s++;
	}
	return (n);
}

/* fuzz_no_control - no control byte but those allowed */

static inline int
fuzz_no_control(const char *s, size_t len, const char *allow)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 || c == 0x7f) && (c == 0 || strchr(allow, c) == NULL))
			return (0);
	}
	return (1);
}

/* fuzz_no_c1 - no C1 control, U+0080 .. U+009F, in UTF-8 */

static inline int
fuzz_no_c1(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] >= 0x80
		    && (unsigned char)s[i + 1] <= 0x9f)
			return (0);
	return (1);
}

#endif
