/*
 * NAME
 *	check_main 1
 * SUMMARY
 *	run every unit test suite
 * DESCRIPTION
 *	Exit status 0 when every test passed. Set CK_FORK=no under
 *	valgrind or AddressSanitizer so that leaks are seen.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"

/* test_data - path of a fixture under the source tree */

const char *
test_data(const char *name)
{
	static char path[PATH_MAX];
	const char *srcdir = getenv("srcdir");

	snprintf(path, sizeof(path), "%s/tests/data/%s", srcdir ? srcdir : ".", name);
	return (path);
}

/* test_tmpfile - write content to a fresh temporary file, return its path */

const char *
test_tmpfile(const char *content, size_t len)
{
	static char path[64];
	int	fd;

	snprintf(path, sizeof(path), "/tmp/tlspolicy-test-XXXXXX");
	if ((fd = mkstemp(path)) < 0) {
		perror("mkstemp");
		exit(2);
	}
	if (write(fd, content, len) != (ssize_t)len) {
		perror("write");
		exit(2);
	}
	close(fd);
	return (path);
}

int
main(void)
{
	SRunner *sr = srunner_create(names_suite());
	int	failed;

	srunner_add_suite(sr, ipaddr_suite());
	srunner_add_suite(sr, tls_suite());
	srunner_add_suite(sr, errors_suite());
	srunner_add_suite(sr, parse_suite());
	srunner_add_suite(sr, decide_suite());
	srunner_add_suite(sr, escape_suite());
	srunner_add_suite(sr, conf_suite());
	srunner_add_suite(sr, macros_suite());
	srunner_add_suite(sr, record_suite());
	srunner_add_suite(sr, audit_suite());
	srunner_add_suite(sr, holder_suite());
	srunner_add_suite(sr, report_cmd_suite());
	srunner_add_suite(sr, conn_suite());
	srunner_add_suite(sr, metrics_suite());
	srunner_add_suite(sr, maillog_suite());
	srunner_add_suite(sr, tlsrpt_suite());
	srunner_add_suite(sr, dest_suite());
	srunner_add_suite(sr, mta_sts_suite());
	srunner_add_suite(sr, probe_suite());
	srunner_add_suite(sr, stack_suite());
	setvbuf(stdout, NULL, _IONBF, 0);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
