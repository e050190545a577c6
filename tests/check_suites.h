/*
 * NAME
 *	check_suites 3h
 * SUMMARY
 *	one Check suite per policy/ module
 * DESCRIPTION
 *	check_main.c runs them all. Tests that need a fixture find it
 *	with test_data(), under $srcdir/tests/data, so that make
 *	distcheck (read-only source tree) works.
 */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

extern Suite *names_suite(void);
extern Suite *ipaddr_suite(void);
extern Suite *tls_suite(void);
extern Suite *errors_suite(void);
extern Suite *parse_suite(void);
extern Suite *decide_suite(void);
extern Suite *escape_suite(void);
extern Suite *conf_suite(void);
extern Suite *macros_suite(void);
extern Suite *record_suite(void);
extern Suite *audit_suite(void);
extern Suite *holder_suite(void);
extern Suite *report_cmd_suite(void);
extern Suite *conn_suite(void);
extern Suite *metrics_suite(void);
extern Suite *maillog_suite(void);
extern Suite *tlsrpt_suite(void);
extern Suite *dest_suite(void);
extern Suite *mta_sts_suite(void);
extern Suite *probe_suite(void);
extern Suite *stack_suite(void);

/* A name of 121 labels, and an address read several ways at once. */
#define TEST_LABELS121 \
	"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a." \
	"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a." \
	"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a." \
	"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.example"
#define TEST_HOSTILE_ADDR "<@relay.example:\"user+ext\"%x.example@" TEST_LABELS121 ">"

extern const char *test_data(const char *name);
extern const char *test_tmpfile(const char *content, size_t len);
extern void check_stack_budget(const char *what, void (*work) (void *), void *arg);

#endif
