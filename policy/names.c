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

#include "policy/tp_names.h"

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

/* tolower_ascii - lower case without the locale */

static inline int
tolower_ascii(int c)
{
	return (c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c);
}

/*
 * name_byte - per byte: 0 if no host name has it, '.' for a dot, else its
 * canonical (lower case) form. Underscores occur in real host names;
 * 8-bit bytes are UTF-8 IDNs, checked as a whole afterwards.
 */
static const unsigned char name_byte[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x2e, 0x00,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x5f,
	0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
	0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

/* tp_domain_normalize - canonical form of a domain name */

ssize_t
tp_domain_normalize(const char *in, size_t len, char *out, const char **why)
{
	size_t	label = 0;
	int	eight_bit = 0;

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
	for (size_t i = 0; i < len; i++) {
		unsigned char c = name_byte[(unsigned char)in[i]];

		if (c == '.') {
			if (label == 0) {
				*why = "empty label in domain name";
				return (-1);
			}
			label = 0;
		} else if (c == 0) {
			*why = "character not allowed in a domain name";
			return (-1);
		} else if (++label > TP_LABEL_MAX) {
			*why = "label longer than 63 bytes in domain name";
			return (-1);
		}
		eight_bit |= c & 0x80;
		out[i] = (char)c;
	}
	if (label == 0) {
		*why = "empty label in domain name";
		return (-1);
	}
	/* Checked last: the plain ASCII names of nearly all mail skip it. */
	if (eight_bit && !tp_utf8_valid(in, len)) {
		*why = "domain name is not valid UTF-8";
		return (-1);
	}
	out[len] = 0;
	return ((ssize_t)len);
}

/*
 * clean_address - the mailbox as the MTA reads it, into out (size bytes):
 * RFC 822 comments and white space dropped, quoted strings and quoted
 * pairs (in quotes or not, as Postfix reads them) unquoted, a phrase
 * before and one pair of angle brackets around the mailbox removed.
 * Postfix and Sendmail accept these forms in MAIL and RCPT and deliver
 * to the mailbox inside: a rule must match it however it was written.
 * -1 if the text is not plainly one mailbox: unbalanced, text after the
 * closing bracket, a list or group (',' ';' ':' outside a source route),
 * or too long. An MTA may read some mailbox out of those; the caller
 * must not guess which.
 */
static ssize_t
clean_address(const char *in, char *out, size_t size)
{
	size_t	n = 0;
	int	depth = 0;		/* of nested comments */
	bool	quoted = false;
	bool	opened = false, closed = false;
	bool	routed = false;		/* the colon of a source route seen */
	bool	literal = false;	/* in [...]: "[IPv6:2001:db8::1]" */

	for (const char *s = in; *s != 0; s++) {
		char	c = *s;

		if (c == '\\') {
			/* A quoted pair, in quotes or not (Postfix's reading). */
			if (*++s == 0)
				return (-1);
			if (depth > 0)
				continue;
			c = *s;
		} else if (depth > 0) {
			depth += (c == '(') - (c == ')');
			continue;
		} else if (c == '"' && !literal) {
			quoted = !quoted;
			continue;
		} else if (literal || (c == '[' && !quoted)) {
			literal = c != ']';
		} else if (!quoted) {
			if (c == ' ' || c == '\t')
				continue;
			if (c == '(') {
				depth = 1;
				continue;
			}
			/* Lists and groups: not one mailbox, whatever an MTA makes of it. */
			if (c == ')' || c == ';'
			    || ((c == ',' || c == ':') && (n == 0 || out[0] != '@' || routed))
			    || (c == '<' && opened) || (c == '>' && (!opened || closed)))
				return (-1);
			routed |= c == ':';
			if (c == '<' || c == '>') {
				/* "Phrase <mailbox>": the mailbox is inside. */
				if (c == '<')
					n = 0;
				opened = true;
				closed = c == '>';
				continue;
			}
		}
		if (closed || n + 1 >= size)
			return (-1);
		out[n++] = c;
	}
	if (quoted || literal || depth > 0 || opened != closed)
		return (-1);
	out[n] = 0;
	return ((ssize_t)n);
}

/*
 * plain_mailbox - where the mailbox of in lies, if in is written plainly
 * ("<user@example.org>" or without brackets, as nearly every address is):
 * 0 and the bounds in *s, *e; else -1 and clean_address() must read it.
 * A '[' goes there too: only it knows whether a domain literal is closed.
 */
static int
plain_mailbox(const char *in, const char **s, const char **e)
{
	size_t	len = strcspn(in, "()\"\\ \t,;:[");
	const char *b = in;
	const char *f = in + len;

	if (in[len] != 0 || len > TP_ADDRESS_MAX)
		return (-1);
	if (len >= 2 && *b == '<' && f[-1] == '>')
		b++, f--;
	if (memchr(b, '<', (size_t)(f - b)) != NULL || memchr(b, '>', (size_t)(f - b)) != NULL)
		return (-1);
	*s = b;
	*e = f;
	return (0);
}

/* tp_address_parse - split an envelope address into local part and domain */

int
tp_address_parse(const char *in, struct tp_address *addr)
{
	char	box[TP_ADDRESS_MAX + 1];
	const char *s, *e;
	const char *at;
	const char *why;
	ssize_t	len;

	addr->null = addr->has_domain = false;
	addr->local[0] = addr->domain[0] = 0;
	if (plain_mailbox(in, &s, &e) < 0) {
		if ((len = clean_address(in, box, sizeof(box))) < 0)
			return (-1);
		s = box;
		e = box + len;
	}
	len = e - s;
	if (len == 0) {
		addr->null = true;
		return (0);
	}
	/* RFC 5321 source route "@a,@b:user@c": only the mailbox counts. */
	if (*s == '@') {
		const char *colon = memchr(s, ':', (size_t)len);

		if (colon == NULL)
			return (-1);
		s = colon + 1;
	}
	for (at = e; at > s && at[-1] != '@'; at--)
		 /* void */ ;
	at = at > s ? at - 1 : NULL;
	if (at == NULL) {
		at = e;
	} else if (at + 1 < e && at[1] != '[') {
		addr->has_domain =
		    tp_domain_normalize(at + 1, (size_t)(e - at - 1),
					addr->domain, &why) > 0;
	}
	if ((size_t)(at - s) <= TP_LOCAL_MAX) {
		size_t	n = (size_t)(at - s);

		for (size_t i = 0; i < n; i++)
			addr->local[i] = (char)tolower_ascii((unsigned char)s[i]);
		addr->local[n] = 0;
	}
	if (!addr->has_domain)
		addr->domain[0] = 0;
	return (0);
}
