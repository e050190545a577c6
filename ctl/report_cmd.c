/*
 * NAME
 *	report_cmd 3
 * SUMMARY
 *	tlspolicyctl report: the command
 * SYNOPSIS
 *	#include "ctl/tp_report.h"
 *
 *	int	tp_report_main(int argc, char **argv);
 * DESCRIPTION
 *	Options and audit log names in, a report on standard output:
 *	see usage() below, which is also the command's --help. Every
 *	log is opened once before any is read, so that a mistyped name
 *	fails at once rather than after minutes of reading. Parsing uses
 *	one worker thread per processor this process may run on, up to
 *	TP_REPORT_THREADS_MAX, and none on a single processor.
 * DIAGNOSTICS
 *	To standard error, as "tlspolicyctl report: ...", with text from
 *	the log escaped; the exit status is 0, EXIT_REFUSED (1: the
 *	report was written, a TLSRPT file was refused), EXIT_READ (2) or
 *	TP_CTL_EXIT_USAGE (64).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1			/* sched_getaffinity, CPU_COUNT */
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/report_impl.h"
#include "ctl/tp_maillog.h"
#include "ctl/tp_tlsrpt.h"
#include "ctl/tp_ctl.h"
#include "policy/tp_names.h"

#define EXIT_REFUSED	1		/* a TLSRPT report was refused */
#define EXIT_READ	2

/* usage - the manual in brief */

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: tlspolicyctl report [--since TIME] [--domain DOMAIN] [--json | --html FILE]\n"
"                           [--maillog FILE]... [--tlsrpt FILE|DIR]... [AUDITLOG...]\n"
"\n"
"Summarize the milter's audit log: per sender domain, per recipient domain\n"
"and per client, how much mail came over TLS, with which TLS versions,\n"
"cipher strengths and certificate verification; and, for every name whose\n"
"mail was decided at level prefer or by a rule in testing mode, how many\n"
"messages level require would have rejected: is it ready to enforce?\n"
"With --maillog, also the sessions the milter never saw: TLS handshakes\n"
"that failed and clients refused before MAIL, from Postfix's own log. With\n"
"--tlsrpt, what other mail systems report about delivering to yours\n"
"(SMTP TLS Reporting, RFC 8460). At least one AUDITLOG, --maillog or\n"
"--tlsrpt is needed.\n"
"\n"
"Arguments:\n"
"  AUDITLOG            audit log files (audit_log in tlspolicy-milter.conf),\n"
"                      plain or gzip-compressed, in any order: audit.jsonl,\n"
"                      audit.jsonl.1.gz, ...; \"-\" reads standard input\n"
"\n"
"Options:\n"
"      --since TIME    count only records whose time is TIME or later:\n"
"                        2026-11-01T00:00:00Z  RFC 3339 (fractions, +01:00)\n"
"                        2026-11-01            a date: midnight UTC\n"
"                        7d, 24h, 30m          that long before now (s, w too)\n"
"      --domain DOMAIN count only records whose sender domain, or one of whose\n"
"                      recipient domains, is DOMAIN or a subdomain of it; a\n"
"                      record counts whole, with its other domains\n"
"      --json          one JSON object instead of tables, for programs\n"
"      --html FILE     write the report as one web page to FILE instead of\n"
"                      tables (\"-\": standard output); see Page below\n"
"      --maillog FILE  Postfix's log (syslog or maillog_file; plain or gzip):\n"
"                      repeat for more files, oldest first, e.g.\n"
"                      --maillog mail.log.1.gz --maillog mail.log\n"
"      --tlsrpt PATH   a TLSRPT report (JSON, .json.gz, or a mail message with\n"
"                      the report attached), or a directory: its files, not\n"
"                      its subdirectories, \".\" files left out; repeatable\n"
"  -h, --help          this text\n"
"\n"
"Output:\n"
"  Three tables: sender domains, recipient domains and clients (address\n"
"  and verified host name), most messages first; \"<>\" is the null sender,\n"
"  \"(none)\" mail without a domain, \"(unknown)\" a client without an address.\n"
"    MESSAGES       records; a message counts once per name\n"
"    TLS            share of those messages that came over TLS\n"
"    STARTTLS       messages that started TLS with STARTTLS\n"
"    IMPLICIT       messages over implicit TLS (port 465)\n"
"    VERSIONS       TLS versions, with counts\n"
"    MIN BITS       the weakest cipher strength seen\n"
"    BITS           cipher strengths, with counts\n"
"    VERIFY         client certificate verification (ok, fail, none,\n"
"                   unknown; other: a word this version does not know)\n"
"    WOULD REJECT   messages with a recipient decision that require would\n"
"                   have rejected: unmet-prefer, or fail in testing mode;\n"
"                   \"-\" if the name had no prefer or testing decisions\n"
"    READY          ready to enforce: yes if WOULD REJECT is 0\n"
"  VERSIONS, BITS and VERIFY count only messages that used TLS. Then, for\n"
"  every name with WOULD REJECT above 0, its newest 3 such messages: time,\n"
"  session, queue id, client, sender, recipient and the engine's reason.\n"
"  With --json, the same as one object: sender_domains, rcpt_domains and\n"
"  clients are arrays in the same order.\n"
"\n"
"  Lines that are not audit records (not JSON, NUL bytes, invalid UTF-8, a\n"
"  missing field or one of the wrong type, a schema version other than 1)\n"
"  are skipped; their number and the first one, as FILE:LINE: why, go to\n"
"  standard error at the end. While a long log is read, standard error\n"
"  shows progress if it is a terminal. --since and --domain filter audit\n"
"  records only.\n"
"\n"
"  --maillog adds \"Sessions the milter never saw\": smtpd sessions from\n"
"  \"connect from\" to \"disconnect from\", and those that failed, by reason:\n"
"    tls-version-old      the client offered only TLS versions the server\n"
"                         refuses (OpenSSL: unsupported protocol)\n"
"    no-shared-cipher     no cipher both ends accept\n"
"    implicit-tls-port    plaintext to the wrapper-mode (port 465) listener\n"
"                         (OpenSSL: wrong version number)\n"
"    cert-untrusted       the client refused the server's certificate\n"
"    cert-expired         the client says the server's certificate expired\n"
"    handshake-failed     another handshake failure (OpenSSL's words shown)\n"
"    lost-after-starttls  the client hung up after STARTTLS, no TLS error\n"
"    starttls-required    MAIL without STARTTLS refused with 530 (level\n"
"                         encrypt): Postfix does not log the 530 itself; it\n"
"                         is read from the session's command counts\n"
"                         (mail=0/1, no starttls, no reject logged)\n"
"  A table of the clients with failed sessions, then one line each that\n"
"  sets them beside the client's messages in the audit logs: \"192.0.2.1:\n"
"  12 messages, 12 over TLS (TLSv1.3 12); 3 sessions failed: the client\n"
"  offered only TLS versions this server refuses (3)\".\n"
"\n"
"  --tlsrpt adds one section per sending organisation and policy: reports,\n"
"  period, successful and failed sessions, failed sessions by result type,\n"
"  and the failing MX, its address and the sender's explanation. Reports are\n"
"  checked against RFC 8460's schema; one seen twice counts once. A file\n"
"  that is not a valid report, or too big (over 16 MiB, or JSON over 4 MiB\n"
"  unpacked), is refused: \"FILE: why\" on standard error, and the rest\n"
"  are read.\n"
"\n"
"Page:\n"
"  With --html, the same counts as one self-contained HTML file that opens\n"
"  in any browser without a network (styles, charts and a small script to\n"
"  sort and filter are inside it; its Content-Security-Policy forbids any\n"
"  load): a summary with a chart of the daily volume and TLS share and the\n"
"  TLS versions; per sender domain, recipient domain and client a row with\n"
"  the columns above, a chart of its last %d days (bars: messages a day;\n"
"  line: TLS share) and, under READY, the reason; then the messages require\n"
"  would have rejected. A table shows at most %d names, those not ready to\n"
"  enforce first, then the busiest, and says how many it leaves out; the\n"
"  page stays under 5 MB however long the logs. Every string from the log\n"
"  is escaped: a hostile address or host name shows as text. FILE is\n"
"  replaced whole, with a new file, when the page is complete.\n"
"\n"
"Exit status:\n"
"  0 the report was written; 1 it was written, but a TLSRPT file was\n"
"  refused; 2 an audit log or Postfix log cannot be opened or read (or the\n"
"  report cannot be written); 64 usage error.\n"
"\n"
"Examples:\n"
"  tlspolicyctl report /var/log/tlspolicy/audit.jsonl*\n"
"  tlspolicyctl report --since 7d --domain bank.example audit.jsonl\n"
"  tlspolicyctl report --json --since 2026-11-01 audit.jsonl.1.gz audit.jsonl\n"
"  tlspolicyctl report --html /var/www/tls/report.html --since 30d audit.jsonl*\n"
"  tlspolicyctl report --maillog /var/log/mail.log audit.jsonl\n"
"  tlspolicyctl report --tlsrpt /var/mail/tlsrpt-reports/\n",
	    TP_REPORT_DAYS, TP_REPORT_HTML_ROWS);
}

/* cpus - processors this process may run on */

static unsigned
cpus(void)
{
	long	n;

#ifdef CPU_COUNT
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return ((unsigned)CPU_COUNT(&set));
#endif
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return (n > 0 ? (unsigned)n : 1);
}

/* check_files - every log can be opened: fail before reading for long */

static int
check_files(const char *const *paths, int n)
{
	for (int i = 0; i < n; i++) {
		int	fd;

		if (strcmp(paths[i], "-") == 0)
			continue;
		if ((fd = open(paths[i], O_RDONLY | O_NONBLOCK)) < 0) {
			fprintf(stderr, "tlspolicyctl report: %s: %s\n", paths[i], strerror(errno));
			return (-1);
		}
		close(fd);
	}
	return (0);
}

/* The files named on the command line, by kind. */
struct inputs {
	char  **audit;			/* AUDITLOG... */
	int	naudit;
	const char **maillog;		/* --maillog FILE, in order */
	int	nmaillog;
	const char **tlsrpt;		/* --tlsrpt FILE|DIR, in order */
	int	ntlsrpt;
};

/* read_maillogs - every --maillog file into ml: 0, or -1 said why */

static int
read_maillogs(struct tp_maillog *ml, const struct inputs *in)
{
	char	why[512], shown[NAME_SHOW_MAX];

	for (int i = 0; i < in->nmaillog; i++) {
		if (tp_maillog_read(ml, in->maillog[i], why, sizeof(why)) < 0) {
			fprintf(stderr, "tlspolicyctl report: %s\n",
				tp_escape_term(why, shown, sizeof(shown)));
			return (-1);
		}
	}
	tp_maillog_finish(ml);
	return (0);
}

/* add_input - one more FILE of a repeatable option: 0, or -1 out of memory */

static int
add_input(const char ***v, int *n, const char *path)
{
	const char **nv = realloc(*v, (size_t)(*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return (-1);
	nv[(*n)++] = path;
	*v = nv;
	return (0);
}

/* read_tlsrpts - every --tlsrpt path into tr: how many refused, -1 no memory */

static int
read_tlsrpts(struct tp_tlsrpt *tr, const struct inputs *in)
{
	int	refused = 0, n;

	for (int i = 0; i < in->ntlsrpt; i++) {
		if ((n = tp_tlsrpt_read_path(tr, in->tlsrpt[i], stderr)) < 0)
			return (-1);
		refused += n;
	}
	return (refused);
}

/* write_html - the page, to standard output or whole into path: 0 or -1 */

static int
write_html(const struct tp_report *rep, const char *path)
{
	size_t	size = strlen(path) + 8;
	char   *tmp = NULL;
	FILE   *fp = NULL;
	mode_t	mask;
	int	fd = -1, rc = -1;
	const char *why = "out of memory";

	if (strcmp(path, "-") == 0) {
		if (tp_report_print_html(rep, stdout) == 0)
			return (0);
		goto out;
	}
	/* A new file renamed over FILE: a web server never serves half a page. */
	if ((tmp = malloc(size)) == NULL)
		goto out;
	snprintf(tmp, size, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		goto out_errno;
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto out_errno;
	}
	if (tp_report_print_html(rep, fp) < 0)
		goto out;
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) < 0)
		goto out_errno;
	rc = fclose(fp);
	fp = NULL;
	if (rc != 0 || rename(tmp, path) < 0) {
		rc = -1;
		goto out_errno;
	}
	rc = 0;
	goto out;
out_errno:
	why = strerror(errno);
out:
	if (rc < 0)
		fprintf(stderr, "tlspolicyctl report: %s%s%s\n", tmp ? path : "", tmp ? ": " : "", why);
	if (fp != NULL)
		fclose(fp);
	if (rc < 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	return (rc);
}

/* report_run - read every log, print the report: the exit status */

static int
report_run(const struct tp_report_opts *opts, bool json, const char *html,
	   const struct inputs *in)
{
	struct tp_report *rep = tp_report_new(opts);
	struct tp_maillog *ml = NULL;
	struct tp_tlsrpt *tr = NULL;
	struct tp_report_totals t;
	char	why[512], shown[NAME_SHOW_MAX];
	int	rc = 0, refused;

	if (rep == NULL || (in->nmaillog > 0 && (ml = tp_maillog_new()) == NULL)
	    || (in->ntlsrpt > 0 && (tr = tp_tlsrpt_new()) == NULL)) {
		fprintf(stderr, "tlspolicyctl report: out of memory\n");
		rc = EXIT_READ;
		goto out;
	}
	for (int i = 0; i < in->naudit; i++) {
		if (tp_report_read(rep, in->audit[i], why, sizeof(why)) < 0) {
			fprintf(stderr, "tlspolicyctl report: %s\n",
				tp_escape_term(why, shown, sizeof(shown)));
			rc = EXIT_READ;
			goto out;
		}
	}
	if (ml != NULL && read_maillogs(ml, in) < 0) {
		rc = EXIT_READ;
		goto out;
	}
	if (tr != NULL && (refused = read_tlsrpts(tr, in)) != 0) {
		if (refused < 0) {
			fprintf(stderr, "tlspolicyctl report: out of memory\n");
			rc = EXIT_READ;
			goto out;
		}
		rc = EXIT_REFUSED;
	}
	tp_report_attach(rep, ml, tr);
	if (html != NULL) {
		if (write_html(rep, html) < 0)
			rc = EXIT_READ;
	} else if (json) {
		tp_report_print_json(rep, stdout);
	} else {
		tp_report_print_text(rep, stdout);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tlspolicyctl report: standard output: %s\n", strerror(errno));
		rc = EXIT_READ;
	}
	tp_report_totals(rep, &t);
	if (t.skipped > 0)
		fprintf(stderr, "tlspolicyctl report: %lu line%s skipped (first: %s)\n", t.skipped,
			t.skipped == 1 ? "" : "s",
			t.first_skipped ? tp_escape_term(t.first_skipped, shown,
							    sizeof(shown)) : "?");
out:
	tp_report_free(rep);
	tp_maillog_free(ml);
	tp_tlsrpt_free(tr);
	return (rc);
}

enum {
	OPT_SINCE = 256, OPT_DOMAIN, OPT_JSON, OPT_MAILLOG, OPT_TLSRPT, OPT_HTML,
};

static const struct option report_options[] = {
	{"since", required_argument, NULL, OPT_SINCE},
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"json", no_argument, NULL, OPT_JSON},
	{"maillog", required_argument, NULL, OPT_MAILLOG},
	{"tlsrpt", required_argument, NULL, OPT_TLSRPT},
	{"html", required_argument, NULL, OPT_HTML},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* tp_report_main - tlspolicyctl report [options] AUDITLOG... */

int
tp_report_main(int argc, char **argv)
{
	struct tp_report_opts opts;
	struct inputs in = {NULL, 0, NULL, 0, NULL, 0};
	char	domain[TP_DOMAIN_MAX + 1];
	const char *why;
	bool	json = false;
	const char *html = NULL;	/* --html FILE */
	unsigned n = cpus();
	int	c, rc;

	memset(&opts, 0, sizeof(opts));
	optind = 0;				/* a fresh start, past argv[0] */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", report_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case OPT_SINCE:
			if (tp_report_parse_time(optarg, time(NULL), &opts.since_ms, &why) < 0) {
				rc = tp_ctl_usage_error("report", TP_CTL_EXIT_USAGE, "--since", why);
				goto out;
			}
			opts.has_since = true;
			break;
		case OPT_DOMAIN:
			if (tp_domain_normalize(optarg, strlen(optarg), domain, &why) < 0) {
				rc = tp_ctl_usage_error("report", TP_CTL_EXIT_USAGE, "--domain", why);
				goto out;
			}
			opts.domain = domain;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_MAILLOG:
			if (add_input(&in.maillog, &in.nmaillog, optarg) < 0)
				goto nomem;
			break;
		case OPT_TLSRPT:
			if (add_input(&in.tlsrpt, &in.ntlsrpt, optarg) < 0)
				goto nomem;
			break;
		case OPT_HTML:
			html = optarg;
			break;
		default:
			rc = tp_ctl_option_error("report", TP_CTL_EXIT_USAGE, c, argv);
			goto out;
		}
	}
	in.audit = argv + optind;
	in.naudit = argc - optind;
	rc = EXIT_READ;
	if (in.naudit == 0 && in.nmaillog == 0 && in.ntlsrpt == 0)
		rc = tp_ctl_usage_error("report", TP_CTL_EXIT_USAGE,
					"no audit log, --maillog or --tlsrpt given", NULL);
	else if (json && html != NULL)
		rc = tp_ctl_usage_error("report", TP_CTL_EXIT_USAGE,
					"--json and --html exclude each other", NULL);
	else if (check_files((const char *const *)in.audit, in.naudit) == 0
		 && check_files(in.maillog, in.nmaillog) == 0) {
		opts.threads = n > 1 ? (n < TP_REPORT_THREADS_MAX ? n : TP_REPORT_THREADS_MAX) : 0;
		opts.progress = isatty(STDERR_FILENO);
		rc = report_run(&opts, json, html, &in);
	}
	goto out;
nomem:
	fprintf(stderr, "tlspolicyctl report: out of memory\n");
	rc = EXIT_READ;
out:
	free(in.maillog);
	free(in.tlsrpt);
	return (rc);
}
