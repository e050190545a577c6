/*
 * NAME
 *	fuzz_address 1
 * SUMMARY
 *	libFuzzer target: envelope addresses, fast path against full reader
 * SYNOPSIS
 *	fuzz_address [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is an address as an MTA passes it to the milter (up to
 *	its first NUL byte), then, after that NUL, the recipient
 *	delimiters (recipient_delimiter; none: "+"). tp_address_parse() (policy/names.c) reads a
 *	plainly written address ("<user@example.org>") on a fast path,
 *	plain_mailbox(), and everything else with the full RFC 5321/822
 *	reader, clean_address(); both only find the mailbox, which the
 *	rest of tp_address_parse() splits. So wherever the fast path
 *	takes an input, the full reader must take it too and find the
 *	same mailbox: then tp_address_parse() gives the same result on
 *	either path. Both are static, so this file includes names.c
 *	itself rather than linking libtlspolicy.a.
 *
 *	Every result must also be well-formed: a lower-case local part,
 *	a domain in canonical form (tp_domain_normalize() leaves it as it
 *	is), nothing but the null flag for "<>".
 *
 *	tp_address_readings() reads the address every way the MTA may
 *	route it: with no delimiters it must accept and refuse what
 *	tp_address_parse() does (with some, it may refuse for too many
 *	readings); what it accepts, its first reading must be tp_address_parse()'s result, it never
 *	has more than TP_READINGS_MAX readings, and each reading is
 *	well-formed as above (domain "" or canonical). (A reading's user
 *	name is cut from the raw local part before folding, so it need
 *	not be a prefix of the canonical one: not checked.)
 */

#include "policy/names.c"
#include "tests/fuzz/fuzz.h"

/* canonical - domain is "" or its own canonical form */

static int
canonical(const char *domain)
{
	char	again[TP_DOMAIN_MAX + 1];
	const char *why;

	return (domain[0] == 0
		|| (tp_domain_normalize(domain, strlen(domain), again, &why) > 0
		    && strcmp(again, domain) == 0));
}

/*
 * check_readings - every reading well-formed, the first tp_address_parse()'s.
 * Delimiters only tell readings apart by user name, so with "" (as
 * tp_address_parse() reads) it must accept what it accepts; with others
 * it may find more than TP_READINGS_MAX and refuse.
 */
static void
check_readings(const char *in, const char *delims, int parse_rc,
	       const struct tp_address *a)
{
	struct tp_readings r;
	int	rc = tp_address_readings(in, delims, &r);

	FUZZ_ASSERT(rc == parse_rc || (rc < 0 && delims[0] != 0),
		    "\"%s\" (delimiters \"%s\"): readings %d, parse %d", in, delims, rc, parse_rc);
	if (rc < 0)
		return;
	FUZZ_ASSERT(r.n <= TP_READINGS_MAX, "\"%s\": %zu readings", in, r.n);
	FUZZ_ASSERT(r.null == a->null && (r.null ? r.n == 0 : r.n > 0),
		    "\"%s\": null %d with %zu readings, parse null %d", in, r.null, r.n, a->null);
	if (r.n > 0)
		FUZZ_ASSERT(strcmp(r.box[0].local, a->local) == 0
			    && strcmp(r.box[0].domain, a->domain) == 0,
			    "\"%s\": first reading %s@%s, parse %s@%s", in,
			    r.box[0].local, r.box[0].domain, a->local, a->domain);
	for (size_t i = 0; i < r.n; i++) {
		const struct tp_mailbox *b = &r.box[i];

		FUZZ_ASSERT(canonical(b->domain), "\"%s\": reading %zu domain \"%s\" "
			    "not canonical", in, i, b->domain);
		for (const char *s = b->local; *s != 0; s++)
			FUZZ_ASSERT(*s < 'A' || *s > 'Z', "\"%s\": reading %zu local part \"%s\"",
				    in, i, b->local);
	}
}

/* check_result - what tp_address_parse() fills in must be well-formed */

static void
check_result(const char *in, const struct tp_address *a)
{
	FUZZ_ASSERT(!(a->null && (a->has_domain || a->local[0] || a->domain[0])),
		    "\"%s\": null sender with a mailbox", in);
	for (const char *s = a->local; *s != 0; s++)
		FUZZ_ASSERT(*s < 'A' || *s > 'Z', "\"%s\": local part \"%s\" not lower case",
			    in, a->local);
	FUZZ_ASSERT(a->has_domain == (a->domain[0] != 0), "\"%s\": domain \"%s\", has_domain %d",
		    in, a->domain, a->has_domain);
	FUZZ_ASSERT(canonical(a->domain), "\"%s\": domain \"%s\" is not canonical",
		    in, a->domain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *in = malloc(size + 1);
	const char *delims;
	char	box[TP_ADDRESS_MAX + 1];
	const char *s, *e;
	struct tp_address a;
	ssize_t	len;
	int	rc;

	FUZZ_ASSERT(in != NULL, "out of memory");
	memcpy(in, data, size);
	in[size] = 0;
	delims = strlen(in) < size ? in + strlen(in) + 1 : "+";	/* TP_RCPT_DELIMITER */
	if (plain_mailbox(in, &s, &e) == 0) {
		len = clean_address(in, box, sizeof(box));
		FUZZ_ASSERT(len >= 0, "\"%s\": fast path reads \"%.*s\", full reader refuses it",
			    in, (int)(e - s), s);
		FUZZ_ASSERT((size_t)len == (size_t)(e - s) && memcmp(box, s, (size_t)len) == 0,
			    "\"%s\": fast path reads \"%.*s\", full reader \"%s\"",
			    in, (int)(e - s), s, box);
	}
	if ((rc = tp_address_parse(in, &a)) == 0)
		check_result(in, &a);
	check_readings(in, "", rc, &a);
	if (rc == 0)
		check_readings(in, delims, rc, &a);
	free(in);
	return (0);
}
