/*
 * NAME
 *	names 3
 * SUMMARY
 *	domain names and envelope addresses
 * DESCRIPTION
 *	See tp_names.h.
 */

#include <stdint.h>
#include <string.h>

#include "tp_names.h"

/* tp_utf8_valid - strict UTF-8 check: no overlongs, surrogates or > U+10FFFF */

bool
tp_utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	const unsigned char *end = s + len;

	while (s < end) {
		unsigned c = *s++;
		size_t	more;
		uint32_t cp;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else
			return (false);
		if ((size_t)(end - s) < more)
			return (false);
		for (size_t i = 0; i < more; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return (false);
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		s += more;
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000)
		    || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (false);
	}
	return (true);
}

/* name_char_ok - may this byte appear in a host name label? */

static bool
name_char_ok(unsigned char c)
{
	/* Underscores occur in real host names; 8-bit bytes are UTF-8 IDNs. */
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		|| (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80);
}

/* tp_domain_normalize - canonical form of a domain name */

ssize_t
tp_domain_normalize(const char *in, size_t len, char *out, const char **why)
{
	size_t	label = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "empty domain name";
		return (-1);
	}
	if (len > TP_DOMAIN_MAX) {
		*why = "domain name longer than 253 bytes";
		return (-1);
	}
	if (!tp_utf8_valid(in, len)) {
		*why = "domain name is not valid UTF-8";
		return (-1);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (label == 0) {
				*why = "empty label in domain name";
				return (-1);
			}
			label = 0;
		} else if (!name_char_ok(c)) {
			*why = "character not allowed in a domain name";
			return (-1);
		} else if (++label > TP_LABEL_MAX) {
			*why = "label longer than 63 bytes in domain name";
			return (-1);
		}
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 'a' - 'A') : (char)c;
	}
	out[len] = 0;
	return ((ssize_t)len);
}

/* strip_envelope - drop white space, angle brackets and a source route */

static void
strip_envelope(const char **start, const char **end)
{
	const char *s = *start;
	const char *e = *end;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e - s >= 2 && *s == '<' && e[-1] == '>') {
		s++;
		e--;
	}
	/* RFC 5321 source route "@a,@b:user@c": only the mailbox counts. */
	if (s < e && *s == '@') {
		const char *colon = memchr(s, ':', (size_t)(e - s));

		if (colon != NULL)
			s = colon + 1;
	}
	*start = s;
	*end = e;
}

/* tp_address_parse - split an envelope address into local part and domain */

int
tp_address_parse(const char *in, struct tp_address *addr)
{
	const char *s = in;
	const char *e;
	const char *at = NULL;
	const char *why;
	size_t	inlen = strlen(in);

	memset(addr, 0, sizeof(*addr));
	if (inlen > 4 * (TP_LOCAL_MAX + TP_DOMAIN_MAX))
		return (-1);
	e = in + inlen;
	strip_envelope(&s, &e);
	if (s == e) {
		addr->null = true;
		return (0);
	}
	for (const char *p = s; p < e; p++)
		if (*p == '@')
			at = p;
	if (at == NULL) {
		at = e;
	} else if (at + 1 < e && at[1] != '[') {
		addr->has_domain =
		    tp_domain_normalize(at + 1, (size_t)(e - at - 1),
					addr->domain, &why) > 0;
	}
	if ((size_t)(at - s) <= TP_LOCAL_MAX) {
		for (size_t i = 0; s + i < at; i++) {
			char	c = s[i];

			addr->local[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 'a' - 'A') : c;
		}
		addr->local[at - s] = 0;
	}
	if (!addr->has_domain)
		addr->domain[0] = 0;
	return (0);
}
