/*
 * NAME
 *	fuzz_address 1
 * SUMMARY
 *	libFuzzer target: envelope addresses, fast path against full reader
 * SYNOPSIS
 *	fuzz_address [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is one address as an MTA passes it to the milter (up to
 *	its first NUL byte). tp_address_parse() (policy/names.c) reads a
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
 */

#include "policy/names.c"
#include "tests/fuzz/fuzz.h"

/* check_result - what tp_address_parse() fills in must be well-formed */

static void
check_result(const char *in, const struct tp_address *a)
{
	char	again[TP_DOMAIN_MAX + 1];
	const char *why;
	ssize_t	n;

	FUZZ_ASSERT(!(a->null && (a->has_domain || a->local[0] || a->domain[0])),
		    "\"%s\": null sender with a mailbox", in);
	for (const char *s = a->local; *s != 0; s++)
		FUZZ_ASSERT(*s < 'A' || *s > 'Z', "\"%s\": local part \"%s\" not lower case",
			    in, a->local);
	if (!a->has_domain) {
		FUZZ_ASSERT(a->domain[0] == 0, "\"%s\": domain \"%s\" without has_domain",
			    in, a->domain);
		return;
	}
	n = tp_domain_normalize(a->domain, strlen(a->domain), again, &why);
	FUZZ_ASSERT(n > 0 && strcmp(again, a->domain) == 0,
		    "\"%s\": domain \"%s\" is not canonical", in, a->domain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *in = malloc(size + 1);
	char	box[TP_ADDRESS_MAX + 1];
	const char *s, *e;
	struct tp_address a;
	ssize_t	len;

	FUZZ_ASSERT(in != NULL, "out of memory");
	memcpy(in, data, size);
	in[size] = 0;
	if (plain_mailbox(in, &s, &e) == 0) {
		len = clean_address(in, box, sizeof(box));
		FUZZ_ASSERT(len >= 0, "\"%s\": fast path reads \"%.*s\", full reader refuses it",
			    in, (int)(e - s), s);
		FUZZ_ASSERT((size_t)len == (size_t)(e - s) && memcmp(box, s, (size_t)len) == 0,
			    "\"%s\": fast path reads \"%.*s\", full reader \"%s\"",
			    in, (int)(e - s), s, box);
	}
	if (tp_address_parse(in, &a) == 0)
		check_result(in, &a);
	free(in);
	return (0);
}
