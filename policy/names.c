/*
 * NAME
 *	names 3
 * SUMMARY
 *	domain names and envelope addresses
 * DESCRIPTION
 *	See tp_names.h.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Internationalized names and text. */
#include <idn2.h>
#include <unicase.h>
#include <uninorm.h>

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

/* idn_ascii - the A-label form of a UTF-8 name (UTS #46 mapping) into out */

static ssize_t
idn_ascii(const char *in, size_t len, int flags, char *out, const char **why)
{
	char	name[TP_DOMAIN_MAX + 1];
	char   *ascii = NULL;
	size_t	n;

	memcpy(name, in, len);
	name[len] = 0;
	if (idn2_to_ascii_8z(name, &ascii, IDN2_NFC_INPUT | flags) != IDN2_OK) {
		*why = "not a valid internationalized domain name";
		return (-1);
	}
	if ((n = strlen(ascii)) > TP_DOMAIN_MAX) {
		idn2_free(ascii);
		*why = "domain name longer than 253 bytes";
		return (-1);
	}
	memcpy(out, ascii, n + 1);
	idn2_free(ascii);
	return ((ssize_t)n);
}

/*
 * domain_form - canonical form of a domain name; a name with UTF-8 in it
 * is mapped the way flags say (IDN2_NONTRANSITIONAL or IDN2_TRANSITIONAL).
 */
static ssize_t
domain_form(const char *in, size_t len, int flags, char *out, const char **why)
{
	char	ascii[TP_DOMAIN_MAX + 1];
	ssize_t	n;
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
	out[len] = 0;
	/* Checked last: the plain ASCII names of nearly all mail skip it. */
	if (!eight_bit)
		return ((ssize_t)len);
	if (!tp_utf8_valid(in, len)) {
		*why = "domain name is not valid UTF-8";
		return (-1);
	}
	/* Mapping may drop characters (U+200B): check the result again. */
	if ((n = idn_ascii(in, len, flags, ascii, why)) < 0)
		return (-1);
	return (domain_form(ascii, (size_t)n, flags, out, why));
}

/* tp_domain_normalize - canonical form of a domain name */

ssize_t
tp_domain_normalize(const char *in, size_t len, char *out, const char **why)
{
	return (domain_form(in, len, IDN2_NONTRANSITIONAL, out, why));
}

/* tp_local_fold - canonical form of a local part */

ssize_t
tp_local_fold(const char *in, size_t len, char *out)
{
	size_t	n = TP_LOCAL_MAX;
	uint8_t *folded;

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)in[i] >= 0x80)
			goto unicode;
		if (i == TP_LOCAL_MAX)
			return (-1);
		out[i] = (char)tolower_ascii((unsigned char)in[i]);
	}
	out[len] = 0;
	return ((ssize_t)len);

unicode:
	/* Full case folding, then NFC: how SMTPUTF8 lookups compare. */
	if (!tp_utf8_valid(in, len))
		return (-1);
	folded = u8_casefold((const uint8_t *)in, len, NULL, UNINORM_NFC,
			     (uint8_t *)out, &n);
	if (folded == NULL)
		return (-1);
	if (folded != (uint8_t *)out) {
		/* More than fits: u8_casefold allocated it. */
		free(folded);
		return (-1);
	}
	out[n] = 0;
	return ((ssize_t)n);
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

/*
 * mailbox - the mailbox in in, bounds in *s and *e: in in itself if it
 * is written plainly, else in a cleaned copy in *box (the caller frees
 * it; on the heap, as the milter's threads keep their stacks small);
 * -1 if it cannot be read as one, or memory ran out.
 */
static int
mailbox(const char *in, char **box, const char **s, const char **e)
{
	ssize_t	len;

	if (plain_mailbox(in, s, e) == 0)
		return (0);
	if ((*box = malloc(TP_ADDRESS_MAX + 1)) == NULL
	    || (len = clean_address(in, *box, TP_ADDRESS_MAX + 1)) < 0)
		return (-1);
	*s = *box;
	*e = *box + len;
	return (0);
}

/* What a byte does to routing: specials() collects these for a span. */
#define SP_AT		1		/* '@': a domain follows */
#define SP_BANG		2		/* '!': site!user */
#define SP_PERCENT	4		/* '%': user%domain */
#define SP_BRACKET	8		/* '[' or ']': a domain literal */
#define SP_8BIT		16		/* UTF-8 */
#define SP_TOKEN	32		/* white space, control, '"', '(': see read_local */

/* special_byte - the SP_* bit of each byte: a table, no branch per byte */
static const unsigned char special_byte[256] = {
	32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
	32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
	32,  2, 32,  0,  0,  4,  0,  0, 32,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 1,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  8,  0,  8,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 32,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
};

/* specials - the SP_* bits of the bytes in s..e, in one pass */

static unsigned
specials(const char *s, const char *e)
{
	unsigned bits = 0;

	for (; s < e; s++)
		bits |= special_byte[(unsigned char)*s];
	return (bits);
}

/*
 * user_part - bytes of s..e before the first delimiter, unless there is
 * none or that leaves no user name (Postfix's split_addr): 0.
 */
static size_t
user_part(const char *s, const char *e, const char *delimiters)
{
	const char *first = e;
	const char *p;

	for (; *delimiters != 0; delimiters++)
		if ((p = memchr(s, *delimiters, (size_t)(first - s))) != NULL)
			first = p;
	return (first < e ? (size_t)(first - s) : 0);
}

/* add_box - one reading, unless it is already there; -1 when full */

static int
add_box(struct tp_readings *r, const char *s, const char *e,
	const char *d, const char *f, int idn_flags)
{
	struct tp_mailbox *b;
	const char *why;
	size_t	user;

	if (r->n == TP_READINGS_MAX)
		return (-1);
	b = &r->box[r->n];
	if (tp_local_fold(s, (size_t)(e - s), b->local) < 0)
		b->local[0] = 0;
	/* Kept apart: a long extension must not hide the user name. */
	b->user[0] = 0;
	if ((user = user_part(s, e, r->delimiters)) > 0
	    && tp_local_fold(s, user, b->user) < 0)
		b->user[0] = 0;
	/*
	 * No domain, or a literal: no rule names it. A domain that is not a
	 * name here may still be one to the MTA (it drops a CR, it maps a
	 * long U-label to a short A-label): the caller must not take it for
	 * "no domain".
	 */
	b->domain[0] = 0;
	if (d != f && *d != '['
	    && domain_form(d, (size_t)(f - d), idn_flags, b->domain, &why) < 0) {
		b->domain[0] = 0;
		r->bad_domain = true;
	}
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->box[i].local, b->local) == 0
		    && strcmp(r->box[i].user, b->user) == 0
		    && strcmp(r->box[i].domain, b->domain) == 0)
			return (0);
	r->n++;
	return (0);
}

/*
 * add_reading - the MTA may route the address to local part s..e at
 * domain d..f, whose specials() are bits. A name with UTF-8 has two
 * A-label forms where UTS #46 transitional and nontransitional mapping
 * differ (straße: strasse and xn--strae-oqa): which one the MTA uses
 * depends on its IDN library, so both are readings.
 */
static int
add_reading(struct tp_readings *r, const char *s, const char *e,
	    const char *d, const char *f, unsigned bits)
{
	if (add_box(r, s, e, d, f, IDN2_NONTRANSITIONAL) < 0)
		return (-1);
	if (bits & SP_8BIT)
		return (add_box(r, s, e, d, f, IDN2_TRANSITIONAL));
	return (0);
}

/* strip_route - skip a source route "@a,@b:" at *s; -1 if it has no colon */

static int
strip_route(const char **s, const char *e)
{
	const char *colon;

	if (*s == e || **s != '@')
		return (0);
	if ((colon = memchr(*s, ':', (size_t)(e - *s))) == NULL)
		return (-1);
	*s = colon + 1;
	return (0);
}

/* find_last - the last c in s..e, or NULL */

static const char *
find_last(const char *s, const char *e, char c)
{
	while (e > s)
		if (*--e == c)
			return (e);
	return (NULL);
}

/*
 * last_at - the last '@' in s..e, or NULL; the specials() of the bytes
 * after it (of all, without one) in *bits: one pass for both.
 */
static const char *
last_at(const char *s, const char *e, unsigned *bits)
{
	*bits = 0;
	while (e > s) {
		unsigned char c = (unsigned char)*--e;

		if (c == '@')
			return (e);
		*bits |= special_byte[c];
	}
	return (NULL);
}

static int read_local(struct tp_readings *, const char *, const char *, int);

/*
 * read_pair - local part s..e at domain d..f, whose specials() are bits: a
 * reading; and, as the domain may be the MTA's own, which it strips, the
 * local part routed anew.
 */
static int
read_pair(struct tp_readings *r, const char *s, const char *e,
	  const char *d, const char *f, unsigned bits, int depth)
{
	/* A literal is the whole domain: "[" anywhere else has no reading. */
	if ((bits & SP_BRACKET) && (f - d < 2 || *d != '[' || f[-1] != ']'
				    || (specials(d + 1, f - 1) & SP_BRACKET)))
		return (-1);
	if (add_reading(r, s, e, d, f, bits) < 0)
		return (-1);
	return (read_local(r, s, e, depth + 1));
}

/*
 * read_local - what the MTA makes of local part s..e after it stripped its
 * own domain (Postfix's resolve loop): a source route is dropped, then
 * "user@domain" is routed to domain, "site!user" to user@site
 * (swap_bangpath) and "user%domain" to user@domain (allow_percent_hack),
 * each again. A plain local part is a mailbox at the domain stripped; at
 * depth 0, the whole address, one at the MTA's own domain: a reading
 * without a domain.
 */
static int
read_local(struct tp_readings *r, const char *s, const char *e, int depth)
{
	const char *sep;
	unsigned bits;
	unsigned sp;

	if (depth > TP_READINGS_MAX || strip_route(&s, e) < 0)
		return (-1);
	/*
	 * Routed anew, a local part is scanned again by the MTA, which drops
	 * white space and comments ("ceo@vault.example "@own goes to
	 * ceo@vault.example): where that could change the route, no reading
	 * here is sure.
	 */
	if (depth > 0 && (sp = specials(s, e)) & SP_TOKEN
	    && sp & (SP_AT | SP_BANG | SP_PERCENT))
		return (-1);
	if ((sep = last_at(s, e, &bits)) != NULL)
		return (read_pair(r, s, sep, sep + 1, e, bits, depth));
	if (depth == 0 && add_reading(r, s, e, e, e, 0) < 0)
		return (-1);
	if (bits & SP_BANG) {
		sep = memchr(s, '!', (size_t)(e - s));
		return (read_pair(r, sep + 1, e, s, sep, specials(s, sep), depth));
	}
	if (bits & SP_PERCENT) {
		sep = find_last(s, e, '%');
		return (read_pair(r, s, sep, sep + 1, e, specials(sep + 1, e), depth));
	}
	return (bits & SP_BRACKET ? -1 : 0);
}

/* tp_address_readings - every mailbox the MTA may route an address to */

int
tp_address_readings(const char *in, const char *delimiters,
		    struct tp_readings *r)
{
	char   *box = NULL;
	const char *s, *e;
	int	rc;

	r->n = 0;
	r->null = false;
	r->bad_domain = false;
	r->delimiters = delimiters;
	if (mailbox(in, &box, &s, &e) < 0) {
		rc = -1;
	} else if (s == e) {
		r->null = true;
		rc = 0;
	} else {
		rc = read_local(r, s, e, 0);
	}
	free(box);
	return (rc);
}

/* tp_address_parse - split an envelope address into local part and domain */

int
tp_address_parse(const char *in, struct tp_address *addr)
{
	struct tp_readings *r = malloc(sizeof(*r));	/* 3 KiB: not on the stack */
	int	rc = -1;

	addr->null = addr->has_domain = false;
	addr->local[0] = addr->domain[0] = 0;
	if (r != NULL && (rc = tp_address_readings(in, "", r)) == 0) {
		addr->null = r->null;
		if (r->n > 0) {
			/* The first reading splits at the last '@', as most mail is. */
			memcpy(addr->local, r->box[0].local, sizeof(addr->local));
			memcpy(addr->domain, r->box[0].domain, sizeof(addr->domain));
			addr->has_domain = addr->domain[0] != 0;
		}
	}
	free(r);
	return (rc);
}

/* dot_atom - is local[0..len) a dot-atom (RFC 5322; UTF-8 as atext)? */

static bool
dot_atom(const char *local, size_t len)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";

	if (len == 0 || local[0] == '.' || local[len - 1] == '.')
		return (false);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)local[i];

		if (ch == '.' ? local[i + 1] == '.'
		    : !(ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
			|| (ch >= '0' && ch <= '9') || (ch != 0 && strchr(specials, ch))))
			return (false);
	}
	return (true);
}

/* quoted_string - is local[0..len) one whole quoted-string (RFC 5321)? */

static bool
quoted_string(const char *local, size_t len)
{
	if (len < 2 || local[0] != '"' || local[len - 1] != '"')
		return (false);
	for (size_t i = 1; i < len - 1; i++) {
		if (local[i] == '"')
			return (false);
		if (local[i] == '\\' && ++i == len - 1)
			return (false);
	}
	return (true);
}

/* tp_address_external - an internal-form address as a client writes it */

size_t
tp_address_external(const char *internal, char *out, size_t size)
{
	const char *at = strrchr(internal, '@');
	size_t	local_len = at ? (size_t)(at - internal) : strlen(internal);
	size_t	domain_len = at ? strlen(at) : 0;	/* with its '@' */
	/* Postfix quotes {mail_addr} itself (quote_821_local): keep that. */
	bool	quote = !dot_atom(internal, local_len) && !quoted_string(internal, local_len);
	size_t	len = 0;

	if (*internal == 0 || strcmp(internal, "<>") == 0)
		return (size < 3 ? 0 : (size_t)snprintf(out, size, "<>"));
	if (size < 2)
		return (0);
	out[len++] = '<';
	if (quote)
		out[len++] = '"';
	for (size_t i = 0; i < local_len; i++) {
		if (len + 2 >= size)
			return (0);
		if (quote && (internal[i] == '"' || internal[i] == '\\'))
			out[len++] = '\\';
		out[len++] = internal[i];
	}
	/* The closing quote, the domain, '>' and the NUL. */
	if (len + quote + domain_len + 2 > size)
		return (0);
	if (quote)
		out[len++] = '"';
	memcpy(out + len, at ? at : "", domain_len);
	len += domain_len;
	out[len++] = '>';
	out[len] = 0;
	return (len);
}
