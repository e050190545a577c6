/*
 * NAME
 *	import 3
 * SUMMARY
 *	tlspolicyctl import: dest: rules from what domains publish
 * SYNOPSIS
 *	#include "ctl/tp_ctl.h"
 *
 *	int	tp_import_main(int argc, char **argv);
 * DESCRIPTION
 *	"tlspolicyctl import" turns published TLS policies into a policy
 *	file of dest: rules, meant to be included from the policy written
 *	by hand (which then wins over it): MTA-STS policy bodies read
 *	from files (--mta-sts DOMAIN=FILE...) or fetched as a sender
 *	would (--fetch DOMAIN...: the _mta-sts TXT record, then the
 *	policy over verified HTTPS; import_fetch.c), and the EFF's
 *	STARTTLS Everywhere list (--starttls-everywhere FILE;
 *	import_stle.c). Each source writes through import_out.c. See
 *	usage() below, which is also its --help.
 *
 *	The mapping is the one the contract of the dest: language fixes:
 *	enforce: "dest:D require verify=yes cert_subject=PATTERNS";
 *	testing: the same and mode=testing; none: a comment, no rule.
 *	A comment line before each rule says where it came from and when
 *	it expires.
 *
 *	It is all or nothing: any source refused means nothing is
 *	written, so a failed run never drops a rule an earlier run wrote.
 *	With -o the file is replaced atomically (a temporary file in the
 *	same directory, then rename), so a reloading milter never reads
 *	half of it.
 * DIAGNOSTICS
 *	Errors of a file as "FILE:LINE: what is wrong" (the policy URL
 *	for a fetched body); others as "tlspolicyctl import: ...".
 */

/* System library. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Application-specific. */
#include "ctl/import_impl.h"
#include "ctl/tp_ctl.h"
#include "policy/tp_names.h"

#define EXIT_REFUSED	1		/* a source refused: nothing written */

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl import [-o FILE] --mta-sts DOMAIN=FILE...\n"
"       tlspolicyctl import [-o FILE] [FETCH OPTIONS] --fetch DOMAIN...\n"
"       tlspolicyctl import [-o FILE] --starttls-everywhere LIST.json\n"
"\n"
"Write dest: rules (see tlspolicy.policy(5)) from the TLS policies domains\n"
"publish, as a policy file to include from your own: your rules for the\n"
"same domains then win over the imported ones.\n"
"\n"
"  --mta-sts           each operand is DOMAIN=FILE: FILE is DOMAIN's MTA-STS\n"
"                      policy body (RFC 8461, the text served at\n"
"                      https://mta-sts.DOMAIN/.well-known/mta-sts.txt).\n"
"  --fetch             each operand is a DOMAIN: look up its _mta-sts TXT\n"
"                      record and fetch its policy over HTTPS (certificate\n"
"                      verified, no redirects, at most 64 KiB), as a sending\n"
"                      MTA does. A domain without a TXT record gets a comment.\n"
"  --starttls-everywhere LIST.json\n"
"                      the EFF's STARTTLS Everywhere list (policy.json). The\n"
"                      list ended in 2020: an expired list gives mode=testing\n"
"                      rules only, with a warning, as the list's rules say.\n"
"\n"
"  An MTA-STS policy becomes, by its mode:\n"
"    enforce  dest:DOMAIN require verify=yes cert_subject=MX-PATTERNS\n"
"    testing  the same with mode=testing\n"
"    none     a comment only\n"
"  A STARTTLS Everywhere entry the same way; its mx \".example.net\" (one more\n"
"  label) becomes \"*.example.net\". Before each rule a comment gives its\n"
"  source and expiry (MTA-STS: max_age from now; the list: its expires).\n"
"\n"
"Options:\n"
"  -o, --output FILE       write FILE (replaced atomically) instead of\n"
"                          standard output\n"
"  -h, --help              this text\n"
"Fetch options:\n"
"      --dns ADDR[@PORT]   ask this DNS server (also for mta-sts.DOMAIN's\n"
"                          address) instead of the system's resolver\n"
"      --trust-anchor FILE DNSSEC trust anchor (default %s)\n"
"      --ca FILE           trust the CA certificates in FILE as well as the\n"
"                          system's, for the HTTPS fetch\n"
"      --connect-to HOST:PORT:CHOST:CPORT\n"
"                          connect to CHOST:CPORT for HOST:PORT (as curl's\n"
"                          --connect-to; the certificate must still be\n"
"                          valid for HOST); may be repeated\n"
"      --timeout SECONDS   for each DNS lookup and each fetch (default 10)\n"
"\n"
"Errors: a malformed policy is refused with FILE:LINE: what is wrong (the\n"
"policy's URL for a fetched one); then nothing is written at all, so that a\n"
"failed run never removes a rule an earlier run wrote.\n"
"\n"
"Exit status:\n"
"  0 written; 1 a source refused or unreachable, nothing written; 64 usage\n"
"  error.\n", TP_DNS_ROOT_KEY);
}

/* ---- --mta-sts DOMAIN=FILE -------------------------------------------- */

/* import_file - one DOMAIN=FILE operand */

static int
import_file(struct tp_import *imp, const char *arg)
{
	char	domain[TP_DOMAIN_MAX + 1];
	const char *eq = strchr(arg, '='), *why;
	char   *name, *body;
	size_t	len;
	int	ret = -1;

	if (eq == NULL || eq == arg || eq[1] == 0) {
		fprintf(stderr, "tlspolicyctl import: %s: not DOMAIN=FILE\n", arg);
		return (-1);
	}
	if ((name = strndup(arg, (size_t)(eq - arg))) == NULL)
		return (-1);
	if (tp_import_domain(imp, name, domain, &why) < 0) {
		fprintf(stderr, "tlspolicyctl import: %s: %s\n", name, why);
		goto out;
	}
	if ((body = tp_import_read(eq + 1, TP_STS_BODY_MAX, &len)) == NULL)
		goto out;
	ret = tp_import_policy(imp, domain, body, len, eq + 1, NULL);
	free(body);
out:
	free(name);
	return (ret);
}

/* ---- the command ------------------------------------------------------ */

/* write_file - the whole output into path, atomically; 0 or -1 */

static int
write_file(const char *path, const char *buf, size_t len)
{
	char	tmp[4096];
	FILE   *fp = NULL;
	int	fd, ok;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = mkstemp(tmp)) < 0)
		return (-1);
	/* mkstemp's 0600 would hide the rules from a milter run as its user */
	ok = fchmod(fd, 0644) == 0 && (fp = fdopen(fd, "w")) != NULL
		&& fwrite(buf, 1, len, fp) == len && fflush(fp) == 0
		&& fsync(fd) == 0;
	if (fp != NULL)
		ok = (fclose(fp) == 0) && ok;
	else
		close(fd);
	if (ok && rename(tmp, path) == 0)
		return (0);
	unlink(tmp);
	return (-1);
}

/* emit - the output, to standard output or -o FILE; 0 or -1 */

static int
emit(const char *path, const char *buf, size_t len)
{
	if (path == NULL) {
		if (fwrite(buf, 1, len, stdout) == len && fflush(stdout) == 0)
			return (0);
	} else if (write_file(path, buf, len) == 0)
		return (0);
	fprintf(stderr, "tlspolicyctl import: %s: %s\n",
		path ? path : "standard output", strerror(errno));
	return (-1);
}

/* header - what the file is, at its top */

static void
header(struct tp_import *imp)
{
	char	now[32];

	fprintf(imp->out,
		"# Written by tlspolicyctl import at %s. Do not edit: the next\n"
		"# import replaces this file. Include it from the policy written by\n"
		"# hand (\"include PATH\"), whose rules then win over these.\n",
		tp_import_time(imp->now, now, sizeof(now)));
}

/* run - every source; 0, or -1 after the errors went to stderr */

static int
run(struct tp_import *imp, const struct tp_import_args *a, int argc,
    char **argv)
{
	int	ret = 0;

	if (a->stle != NULL && tp_import_stle(imp, a->stle) < 0)
		ret = -1;
	for (int i = 0; i < argc; i++)
		if (a->mode == 'm' ? import_file(imp, argv[i]) < 0
		    : tp_import_fetch(imp, a, argv[i]) < 0)
			ret = -1;
	return (ret);
}

/* parse_args - the options; -1 done (exit with *status), else 0 */

static int
parse_args(int argc, char **argv, struct tp_import_args *a, int *status)
{
	static const struct option longopts[] = {
		{"mta-sts", no_argument, NULL, 'm'},
		{"fetch", no_argument, NULL, 'F'},
		{"starttls-everywhere", required_argument, NULL, 'S'},
		{"output", required_argument, NULL, 'o'},
		{"dns", required_argument, NULL, 'd'},
		{"trust-anchor", required_argument, NULL, 'T'},
		{"ca", required_argument, NULL, 'c'},
		{"connect-to", required_argument, NULL, 'C'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long	secs;
	int	c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case 'F':
			if (a->mode != 0 && a->mode != c)
				goto conflict;
			a->mode = c;
			break;
		case 'S':
			a->stle = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'd':
			a->dns.server = optarg;
			break;
		case 'T':
			a->dns.trust_anchor = optarg;
			break;
		case 'c':
			a->fetch.ca_file = optarg;
			break;
		case 'C':
			if (a->nconnect_to == TP_IMPORT_CONNECT_MAX) {
				*status = tp_ctl_usage_error("import", TP_CTL_EXIT_USAGE,
							     "too many --connect-to", NULL);
				return (-1);
			}
			a->connect_to[a->nconnect_to++] = optarg;
			break;
		case 't':
			if (tp_ctl_number(optarg, 1, 600, &secs) < 0) {
				*status = tp_ctl_usage_error("import", TP_CTL_EXIT_USAGE,
							     "--timeout: not 1 to 600 seconds", optarg);
				return (-1);
			}
			a->dns.timeout_ms = a->fetch.timeout_ms = (int)secs * 1000;
			break;
		case 'h':
			usage(stdout);
			*status = 0;
			return (-1);
		default:
			*status = tp_ctl_option_error("import", TP_CTL_EXIT_USAGE, c, argv);
			return (-1);
		}
	}
	a->fetch.connect_to = a->connect_to;
	a->fetch.nconnect_to = a->nconnect_to;
	if (a->mode == 0 && a->stle == NULL) {
		*status = tp_ctl_usage_error("import", TP_CTL_EXIT_USAGE,
					     "nothing to import: --mta-sts, --fetch or --starttls-everywhere", NULL);
		return (-1);
	}
	if ((a->mode != 0) != (optind < argc)) {
		*status = tp_ctl_usage_error("import", TP_CTL_EXIT_USAGE, a->mode
					     ? "no DOMAIN given" : "unexpected argument",
					     optind < argc ? argv[optind] : NULL);
		return (-1);
	}
	return (0);
conflict:
	*status = tp_ctl_usage_error("import", TP_CTL_EXIT_USAGE,
				     "--mta-sts and --fetch exclude each other", NULL);
	return (-1);
}

/* tp_import_main - tlspolicyctl import */

int
tp_import_main(int argc, char **argv)
{
	struct tp_import_args a = {0};
	struct tp_import imp = {0};
	char   *buf = NULL;
	size_t	len = 0;
	int	status, ok;

	if (parse_args(argc, argv, &a, &status) < 0)
		return (status);
	imp.now = time(NULL);
	/* In memory first: nothing is written unless every source is good. */
	if ((imp.out = open_memstream(&buf, &len)) == NULL) {
		fprintf(stderr, "tlspolicyctl import: %s\n", strerror(errno));
		return (EXIT_REFUSED);
	}
	header(&imp);
	ok = run(&imp, &a, argc - optind, argv + optind) == 0;
	tp_import_fetch_done(&imp);
	if (fclose(imp.out) != 0 && ok) {
		fprintf(stderr, "tlspolicyctl import: out of memory\n");
		ok = 0;
	}
	if (!ok)
		fprintf(stderr, "tlspolicyctl import: refused; nothing written\n");
	else if (emit(a.output, buf, len) < 0)
		ok = 0;
	free(buf);
	for (size_t i = 0; i < imp.ndomains; i++)
		free(imp.domains[i]);
	free(imp.domains);
	return (ok ? 0 : EXIT_REFUSED);
}
