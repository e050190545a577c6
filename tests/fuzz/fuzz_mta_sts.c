/*
 * NAME
 *	fuzz_mta_sts 1
 * SUMMARY
 *	libFuzzer target: the MTA-STS policy body and TXT record parsers
 * SYNOPSIS
 *	fuzz_mta_sts [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is a policy body as a policy host serves it, and also a
 *	TXT record: both come from the network (ctl/mta_sts.c).
 *
 *	tp_sts_parse() must fail exactly when it reported an error; every
 *	error must be "B:LINE: ..." or "B: ..." without a control
 *	character. A policy it accepts must be what RFC 8461 allows:
 *	max_age 0 to 31557600, at most TP_STS_MX_MAX patterns, mx
 *	patterns unless the mode is none, each pattern lower case letters,
 *	digits, '-', '_' and dots (an optional leading "*."), no empty
 *	label, matching a host made from it. tp_sts_txt_parse() must give
 *	an id of 1 to 32 letters and digits when it says the record is
 *	valid, and a reason when it says it is malformed.
 */

#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl/tp_mta_sts.h"
#include "tests/fuzz/fuzz.h"

/* check_pattern - one accepted mx pattern */

static void
check_pattern(const char *mx)
{
	char	host[256 + 2];
	const char *name = strncmp(mx, "*.", 2) == 0 ? mx + 2 : mx;
	size_t	n = strlen(name);

	FUZZ_ASSERT(n > 0 && n <= 253 && name[0] != '.' && name[n - 1] != '.'
		    && strstr(name, "..") == NULL, "pattern \"%s\"", mx);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')
			    || name[i] == '-' || name[i] == '_' || name[i] == '.',
			    "pattern \"%s\": byte 0x%02x", mx, (unsigned char)name[i]);
	snprintf(host, sizeof(host), "%s%s", name == mx ? "" : "a.", name);
	FUZZ_ASSERT(tp_sts_pattern_match(mx, host), "\"%s\" does not match %s", mx, host);
}

/* check_policy - what an accepted body must be */

static void
check_policy(const struct tp_sts_policy *p)
{
	FUZZ_ASSERT(p->max_age >= 0 && p->max_age <= TP_STS_MAX_AGE_MAX, "max_age %ld", p->max_age);
	FUZZ_ASSERT(p->nmx <= TP_STS_MX_MAX, "%zu patterns", p->nmx);
	FUZZ_ASSERT(p->mode == TP_STS_MODE_NONE || p->nmx > 0, "mode %d without mx", p->mode);
	for (size_t i = 0; i < p->nmx; i++)
		check_pattern(p->mx[i]);
}

/* check_txt - the same bytes as a TXT record */

static void
check_txt(const char *text, size_t len)
{
	char	id[TP_STS_ID_MAX + 1] = "", why[128] = "";
	int	r = tp_sts_txt_parse(text, len, id, why, sizeof(why));
	size_t	n = strlen(id);

	if (r == 1) {
		FUZZ_ASSERT(n >= 1 && n <= TP_STS_ID_MAX, "id of %zu bytes", n);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z')
				    || (id[i] >= '0' && id[i] <= '9'), "id \"%s\"", id);
	} else if (r < 0)
		FUZZ_ASSERT(why[0] != 0, "malformed without a reason");
	else
		FUZZ_ASSERT(r == 0, "returned %d", r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_errors errs;
	struct tp_sts_policy *p;
	const char *body = (const char *)data;

	tp_errors_init(&errs);
	p = tp_sts_parse(body, size, "B", &errs);
	FUZZ_ASSERT((p == NULL) == (errs.count > 0), "policy %p after %zu errors",
		    (const void *)p, errs.count);
	for (size_t i = 0; i < errs.kept; i++)
		FUZZ_ASSERT(strncmp(errs.msgs[i], "B:", 2) == 0
			    && fuzz_no_control(errs.msgs[i], strlen(errs.msgs[i]), ""),
			    "error \"%s\"", errs.msgs[i]);
	if (p != NULL)
		check_policy(p);
	tp_sts_policy_free(p);
	tp_errors_free(&errs);
	check_txt(body, size);
	return (0);
}
