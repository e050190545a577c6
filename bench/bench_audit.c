/*
 * NAME
 *	bench_audit 1
 * SUMMARY
 *	reporter microbenchmark: CPU per audit record and syslog line
 * SYNOPSIS
 *	bench_audit [RECORDS] [DIR]
 * DESCRIPTION
 *	Prepares RECORDS (default 200000) realistic message records (two
 *	recipients, STARTTLS, a client certificate), formats each as JSON
 *	and submits it to the audit writer, which writes them to
 *	DIR/bench-audit.jsonl; then formats the syslog line of each
 *	recipient (from one prepared record: the milter prepares each
 *	message once); then reports the process's CPU time (all threads:
 *	the connection side and the writer thread) per record, from
 *	getrusage(). Target: < 5 us. Instructions per message, under
 *	callgrind: see BENCHMARKS.md.
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "reporter/tp_audit.h"

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
		+ (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

int
main(int argc, char **argv)
{
	static const struct tp_rule rule = {
		"sender:bank.example", "/etc/tlspolicy/policy.conf", 14, TP_KIND_SENDER,
		TP_LEVEL_REQUIRE, TP_ACTION_REJECT, TP_TLS_V1_2, 0, 0, 0, NULL, NULL, NULL,
	};
	static const struct tp_tls_state tls = {
		TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384", 256,
		TP_VERIFY_OK, NULL, "mx1.bank.example", "Bank Issuing CA 2",
	};
	struct tp_record_rcpt r[2] = {
		{"<bob@example.org>", {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_PASS,
		 0, false, false, false, "TLS requirements met", NULL},
		{"<carol@legal.example.org>", {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_PASS,
		 0, false, false, false, "TLS requirements met", NULL},
	};
	struct tp_record rec = {
		"6B0358E8000001", "4F1A2B3C4D", "192.0.2.7", "mx1.bank.example", "mx1.bank.example",
		"mx.example.org", "25", NULL, "<alice@bank.example>", &tls,
		"/etc/tlspolicy/policy.conf", 3, "mx.example.org", "accepted", r, 2, NULL,
	};
	long	n = argc > 1 ? atol(argv[1]) : 200000;
	char	path[512];
	char	buf[8192], line[4096];
	struct tp_audit_counts counts;
	struct tp_audit *a;
	struct tp_record_text text;
	double	t0, cpu_json, cpu_all;

	snprintf(path, sizeof(path), "%s/bench-audit-%d.jsonl", argc > 2 ? argv[2] : "/tmp", (int)getpid());
	if (n < 1 || (a = tp_audit_open(path, 4 << 20, NULL)) == NULL) {
		fprintf(stderr, "usage: bench_audit [RECORDS] [DIR]\n");
		return (64);
	}
	t0 = cpu_seconds();
	for (long i = 0; i < n; i++) {
		struct timespec now;
		size_t	len;

		clock_gettime(CLOCK_REALTIME, &now);
		tp_record_prepare(&rec, &text);
		len = tp_audit_format(&text, &now, buf, sizeof(buf));
		while (tp_audit_submit(a, buf, len) < 0)
			tp_audit_flush(a);	/* the benchmark must not drop: wait */
	}
	tp_audit_flush(a);
	cpu_json = cpu_seconds() - t0;
	t0 = cpu_seconds();
	for (long i = 0; i < n; i++)
		for (size_t k = 0; k < 2; k++)
			tp_record_syslog(&text, k, line, sizeof(line));
	cpu_all = cpu_json + cpu_seconds() - t0;
	tp_audit_stats(a, &counts);
	tp_audit_close(a);
	unlink(path);
	printf("| %ld records | %zu bytes each | audit record (format+queue+write) %.2f us CPU | "
	       "+ 2 syslog lines %.2f us CPU | written %llu, lost %llu |\n",
	       n, tp_audit_format(&text, &(struct timespec){0, 0}, buf, sizeof(buf)),
	       cpu_json / n * 1e6, cpu_all / n * 1e6, counts.written, counts.lost);
	return (counts.written == (unsigned long long)n ? 0 : 1);
}
