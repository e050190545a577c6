/*
 * NAME
 *	check_holder 1
 * SUMMARY
 *	unit tests: the policy in force, reloaded while threads decide
 * DESCRIPTION
 *	Run under ThreadSanitizer too (tests/run-all.sh): readers take and
 *	drop references and decide while another thread reloads.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "policy/tp_holder.h"

static char path[64];

/* write_policy - replace the file atomically, as an admin's editor might */

static void
write_policy(const char *text)
{
	char	tmp[80];
	FILE   *fp;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fp = fopen(tmp, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	ck_assert_int_eq(rename(tmp, path), 0);
}

static void
setup(void)
{
	int	fd;

	snprintf(path, sizeof(path), "/tmp/tlspolicy-holder-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_policy("sender:x.example require\n");
}

static void
teardown(void)
{
	unlink(path);
}

/* decide_x - decide mail from x.example in plaintext */

static enum tp_result
decide_x(struct tp_policy *p)
{
	struct tp_query q = {"192.0.2.1", NULL, "a@x.example", "b@y.example", NULL, false, NULL};
	struct tp_decision d;

	ck_assert_int_eq(tp_policy_decide(p, &q, &d), 0);
	return (d.result);
}

START_TEST(test_reload_good_and_bad)
{
	struct tp_holder h;
	struct tp_errors errs;
	struct tp_policy *p;
	unsigned long gen;

	tp_errors_init(&errs);
	ck_assert_int_eq(tp_holder_init(&h, path, &errs), 0);
	p = tp_holder_get(&h, &gen);
	ck_assert_uint_eq(gen, 1);
	ck_assert_int_eq(decide_x(p), TP_RESULT_FAIL);

	write_policy("sender:x.example requir\n");
	ck_assert_int_eq(tp_holder_reload(&h, &errs, &gen), -1);
	ck_assert_uint_eq(gen, 1);
	ck_assert_uint_eq(errs.count, 1);
	tp_errors_free(&errs);

	write_policy("sender:x.example prefer\n");
	ck_assert_int_eq(tp_holder_reload(&h, &errs, &gen), 0);
	ck_assert_uint_eq(gen, 2);
	/* The old reference still decides by the old rules. */
	ck_assert_int_eq(decide_x(p), TP_RESULT_FAIL);
	tp_policy_unref(p);
	p = tp_holder_get(&h, &gen);
	ck_assert_int_eq(decide_x(p), TP_RESULT_UNMET);
	tp_policy_unref(p);
	tp_holder_free(&h);
	tp_errors_free(&errs);
}
END_TEST

START_TEST(test_init_refuses_bad_file)
{
	struct tp_holder h;
	struct tp_errors errs;

	write_policy("default exempt\n");
	tp_errors_init(&errs);
	ck_assert_int_eq(tp_holder_init(&h, path, &errs), -1);
	ck_assert_uint_eq(errs.count, 1);
	tp_holder_free(&h);
	tp_errors_free(&errs);
}
END_TEST

struct reader {
	struct tp_holder *h;
	long	bad;
};

/* reader_main - take the policy in force, decide, let go; many times */

static void *
reader_main(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < 5000; i++) {
		unsigned long gen;
		struct tp_policy *p = tp_holder_get(r->h, &gen);
		struct tp_query q = {"192.0.2.1", NULL, "a@x.example", "b@y.example", NULL, false, NULL};
		struct tp_decision d;

		if (p == NULL || tp_policy_decide(p, &q, &d) != 0
		    || (d.result != TP_RESULT_FAIL && d.result != TP_RESULT_UNMET))
			r->bad++;
		tp_policy_unref(p);
	}
	return (NULL);
}

START_TEST(test_reload_while_deciding)
{
	struct tp_holder h;
	struct tp_errors errs;
	struct reader readers[4];
	pthread_t tids[4];
	unsigned long gen = 0;

	tp_errors_init(&errs);
	ck_assert_int_eq(tp_holder_init(&h, path, &errs), 0);
	for (int i = 0; i < 4; i++) {
		readers[i] = (struct reader) {&h, 0};
		ck_assert_int_eq(pthread_create(&tids[i], NULL, reader_main, &readers[i]), 0);
	}
	for (int i = 0; i < 100; i++) {
		write_policy(i % 3 == 2 ? "sender:x.example requir\n"
			     : i % 2 ? "sender:x.example prefer\n" : "sender:x.example require\n");
		tp_holder_reload(&h, &errs, &gen);
		tp_errors_free(&errs);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(tids[i], NULL);
		ck_assert_int_eq(readers[i].bad, 0);
	}
	ck_assert_uint_gt(gen, 1);
	tp_holder_free(&h);
}
END_TEST

Suite  *
holder_suite(void)
{
	Suite  *s = suite_create("holder");
	TCase  *tc = tcase_create("holder");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reload_good_and_bad);
	tcase_add_test(tc, test_init_refuses_bad_file);
	tcase_add_test(tc, test_reload_while_deciding);
	suite_add_tcase(s, tc);
	return (s);
}
