/*
 * NAME
 *	import_fetch 3
 * SUMMARY
 *	tlspolicyctl import --fetch: a domain's MTA-STS policy, as a sender
 *	gets it
 * SYNOPSIS
 *	#include "ctl/import_impl.h"
 *
 *	int	tp_import_fetch(struct tp_import *imp,
 *				const struct tp_import_args *a,
 *				const char *domain);
 *	void	tp_import_fetch_done(struct tp_import *imp);
 * DESCRIPTION
 *	RFC 8461 sections 3.1 to 3.3: the TXT record of _mta-sts.DOMAIN
 *	(no record, or no valid STSv1 record: no policy, a comment); then
 *	the policy over HTTPS (tp_sts_fetch), parsed with the URL as its
 *	file name. With --dns, mta-sts.DOMAIN's addresses come from that
 *	resolver too (given to libcurl as CURLOPT_RESOLVE), so that one
 *	resolver answers for the whole import.
 *
 *	A DNS failure (bogus, error, timeout) or a failed fetch after a
 *	TXT record said there is a policy refuses the import: writing the
 *	file without that domain would drop its rule silently.
 * DIAGNOSTICS
 *	"tlspolicyctl import: DOMAIN: what failed" on standard error.
 */

/* System library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application-specific. */
#include "ctl/import_impl.h"
#include "policy/tp_names.h"


/* fail - one message for a domain; -1 */

static int
fail(const char *domain, const char *what)
{
	fprintf(stderr, "tlspolicyctl import: %s: %s\n", domain, what);
	return (-1);
}

/* policy_record - the TXT record: 1 and id, 0 none (noted), -1 failed */

static int
policy_record(struct tp_import *imp, const char *domain, char *id)
{
	char	name[TP_DOMAIN_MAX + 16], why[TP_DNS_WHY_MAX + TP_DOMAIN_MAX + 64];
	struct tp_dns_result res;
	int	ret;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	tp_dns_txt(imp->dns, name, &res);
	switch (res.status) {
	case TP_DNS_SECURE:
	case TP_DNS_INSECURE:
		break;
	case TP_DNS_NXDOMAIN:
		return (tp_import_note(imp, domain, "no MTA-STS TXT record"));
	default:
		snprintf(why, sizeof(why), "%s TXT: %s: %s", name,
			 tp_dns_status_name(res.status), res.why);
		tp_dns_result_free(&res);
		return (fail(domain, why));
	}
	ret = tp_sts_txt_select(&res, id, why, sizeof(why));
	tp_dns_result_free(&res);
	if (ret == 1)
		return (1);
	if (ret < 0)
		fprintf(stderr, "tlspolicyctl import: %s: warning: %s\n", domain, why);
	return (tp_import_note(imp, domain, why) < 0 ? -1 : 0);
}

/* tp_import_fetch - one --fetch DOMAIN; 0, or -1 after a message */

int
tp_import_fetch(struct tp_import *imp, const struct tp_import_args *a,
		const char *arg)
{
	char	domain[TP_DOMAIN_MAX + 1], id[TP_STS_ID_MAX + 1], why[512];
	char	resolve[TP_STS_RESOLVE_MAX], url[TP_DOMAIN_MAX + 64];
	const char *bad, *entries[1] = {resolve};
	struct tp_sts_fetch_opts fo = a->fetch;
	char   *body = NULL;
	size_t	len;
	int	r;

	if (tp_import_domain(imp, arg, domain, &bad) < 0)
		return (fail(arg, bad));
	if (imp->dns == NULL && (imp->dns = tp_dns_new(&a->dns, why, sizeof(why))) == NULL)
		return (fail(domain, why));
	if ((r = policy_record(imp, domain, id)) <= 0)
		return (r);
	if (a->dns.server != NULL && tp_sts_resolve_entry(imp->dns, domain, resolve,
							  sizeof(resolve))) {
		fo.resolve = entries;
		fo.nresolve = 1;
	}
	if (tp_sts_fetch(domain, &fo, &body, &len, why, sizeof(why)) < 0)
		return (fail(domain, why));
	snprintf(url, sizeof(url), TP_STS_URL_FMT, domain);
	r = tp_import_policy(imp, domain, body, len, url, id);
	free(body);
	return (r);
}

/* tp_import_fetch_done - the resolver the fetches shared */

void
tp_import_fetch_done(struct tp_import *imp)
{
	tp_dns_free(imp->dns);
	imp->dns = NULL;
}
