/*
 * NAME
 *	probe_sts 3
 * SUMMARY
 *	tlspolicyctl probe, step 8: a domain's MTA-STS policy (RFC 8461)
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	void	tp_probe_sts_run(const struct tp_probe_opts *opts,
 *				 struct tp_dns *dns, const char *domain,
 *				 struct tp_probe_sts *sts);
 *	void	tp_probe_sts_free(struct tp_probe_sts *sts);
 * DESCRIPTION
 *	tp_probe_sts_run() does what a sending MTA does before it
 *	delivers to a --mx domain: the TXT record of _mta-sts.DOMAIN
 *	through the probe's resolver (tp_sts_txt_select), then, if it
 *	names a policy, the policy over HTTPS with a verified certificate
 *	(tp_sts_fetch: the system's CAs plus --ca, --connect-to; with
 *	--dns the policy host's addresses come from that resolver too),
 *	parsed (tp_sts_parse). Everything is kept in sts, escaped, for the
 *	printers and for each MX's verdicts; the MX patterns are matched
 *	there (tp_sts_mx_match) as each MX is probed.
 * MEMORY
 *	tp_probe_sts_free() frees the policy that sts holds.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/tp_probe.h"
#include "util/tp_errors.h"

/* txt_record - the _mta-sts TXT record: sts->found, id or why */

static void
txt_record(struct tp_dns *dns, const char *domain, struct tp_probe_sts *sts)
{
	char	name[300], why[TP_PROBE_TEXT_MAX + TP_DNS_WHY_MAX];
	struct tp_dns_result res;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	(void) tp_dns_txt(dns, name, &res);
	sts->txt_status = res.status;
	switch (res.status) {
	case TP_DNS_SECURE:
	case TP_DNS_INSECURE:
		sts->found = tp_sts_txt_select(&res, sts->id, why, sizeof(why));
		break;
	case TP_DNS_NXDOMAIN:
		sts->found = 0;
		snprintf(why, sizeof(why), "no %s TXT record", name);
		break;
	default:
		sts->found = -1;
		snprintf(why, sizeof(why), "%s TXT: %s%s%s", name,
			 tp_dns_status_name(res.status), res.why[0] ? ": " : "", res.why);
		break;
	}
	if (sts->found != 1)
		tp_probe_store(sts->why, sizeof(sts->why), why);
	tp_dns_result_free(&res);
}

/* fetch - the policy body over HTTPS, parsed into sts->policy or sts->error */

static void
fetch(const struct tp_probe_opts *opts, struct tp_dns *dns, const char *domain,
      struct tp_probe_sts *sts)
{
	struct tp_sts_fetch_opts fo = {.ca_file = opts->ca,.connect_to = opts->connect_to,
	.nconnect_to = opts->nconnect_to,.timeout_ms = opts->timeout * 1000};
	char	resolve[TP_STS_RESOLVE_MAX], why[TP_PROBE_TEXT_MAX], url[300];
	const char *entries[1] = {resolve};
	struct tp_errors errs;
	char   *body = NULL;
	size_t	len;

	snprintf(url, sizeof(url), TP_STS_URL_FMT, domain);
	tp_probe_store(sts->url, sizeof(sts->url), url);
	if (opts->dns_server != NULL
	    && tp_sts_resolve_entry(dns, domain, resolve, sizeof(resolve))) {
		fo.resolve = entries;
		fo.nresolve = 1;
	}
	if (tp_sts_fetch(domain, &fo, &body, &len, why, sizeof(why)) < 0) {
		tp_probe_store(sts->error, sizeof(sts->error), why);
		return;
	}
	tp_errors_init(&errs);
	if ((sts->policy = tp_sts_parse(body, len, url, &errs)) == NULL)
		tp_probe_store(sts->error, sizeof(sts->error),
			       errs.kept ? errs.msgs[0] : "not a valid policy");
	tp_errors_free(&errs);
	free(body);
}

/* tp_probe_sts_run - step 8 for one domain */

void
tp_probe_sts_run(const struct tp_probe_opts *opts, struct tp_dns *dns,
		 const char *domain, struct tp_probe_sts *sts)
{
	memset(sts, 0, sizeof(*sts));
	tp_probe_store(sts->domain, sizeof(sts->domain), domain);
	txt_record(dns, domain, sts);
	if (sts->found == 1)
		fetch(opts, dns, domain, sts);
}

/* tp_probe_sts_free - the policy sts holds */

void
tp_probe_sts_free(struct tp_probe_sts *sts)
{
	tp_sts_policy_free(sts->policy);
	sts->policy = NULL;
}
