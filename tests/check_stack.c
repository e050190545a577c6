/*
 * NAME
 *	check_stack 1
 * SUMMARY
 *	unit tests: how deep a connection's work goes into its thread's stack
 * DESCRIPTION
 *	libmilter runs connections on threads that come and go, and when a
 *	thread ends glibc unmaps its stack below the top 16 KiB: whatever
 *	a connection used beyond that is faulted in again by the next one,
 *	and every thread's end flushes the TLB of every CPU (BENCHMARKS.md,
 *	"Issue 10, third run"). With libmilter's own frames and the
 *	thread's TLS above them, the milter's work must stay within
 *	STACK_BUDGET.
 *
 *	check_stack_budget() runs work on a thread whose stack it gives
 *	it, filled with a pattern first; the bytes that no longer hold it
 *	are what was used, less what an empty thread uses. Here it
 *	measures the deepest work of the engine, a decision for a
 *	recipient and a sender written in hostile forms (a route, a quoted
 *	local part, %, 121 labels) against a rule whose reply names the
 *	sender; check_conn.c measures a whole session with an audit log.
 *
 *	Sanitizer builds grow every frame: there the depth is printed,
 *	not judged. Under valgrind, which marks a dead thread's stack
 *	unreadable, the work runs but is not measured.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND	0
#endif

#include "check_suites.h"
#include "policy/tp_policy.h"

#define STACK_BUDGET	(8 * 1024)	/* the milter's share of the 16 KiB */
#define TEST_STACK	(2 * 1024 * 1024)	/* ThreadSanitizer wants 900 KiB */
#define FILL		0xa5

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FRAMES_GROWN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FRAMES_GROWN	1
#endif
#endif

struct job {
	void	(*work) (void *);
	void   *arg;
};

/* run_job - the thread's body */

static void *
run_job(void *p)
{
	struct job *j = p;

	j->work(j->arg);
	return (NULL);
}

/* stack_used - bytes of a fresh thread's stack that work(arg) touched */

static size_t
stack_used(void (*work) (void *), void *arg)
{
	struct job j = {work, arg};
	pthread_attr_t attr;
	pthread_t t;
	unsigned char *stack;
	size_t	untouched = 0;

	ck_assert_int_eq(posix_memalign((void **)&stack, (size_t)sysconf(_SC_PAGESIZE), TEST_STACK), 0);
	memset(stack, FILL, TEST_STACK);
	ck_assert_int_eq(pthread_attr_init(&attr), 0);
	ck_assert_int_eq(pthread_attr_setstack(&attr, stack, TEST_STACK), 0);
	ck_assert_int_eq(pthread_create(&t, &attr, run_job, &j), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
	/* The stack grows down: its lowest bytes are the last touched. */
	while (!RUNNING_ON_VALGRIND && untouched < TEST_STACK && stack[untouched] == FILL)
		untouched++;
	free(stack);
	return (TEST_STACK - untouched);
}

/* nothing - an empty thread: its TLS and glibc's frames */

static void
nothing(void *arg)
{
	(void)arg;
}

/* check_stack_budget - what work(arg) used beyond an empty thread */

void
check_stack_budget(const char *what, void (*work) (void *), void *arg)
{
	size_t	base = stack_used(nothing, NULL);
	size_t	used = stack_used(work, arg);

	if (RUNNING_ON_VALGRIND) {
		printf("stack: %s: not measured under valgrind\n", what);
		return;
	}
	ck_assert_uint_ge(used, base);
	printf("stack: %s: %zu bytes (budget %d)\n", what, used - base, STACK_BUDGET);
#ifndef FRAMES_GROWN
	ck_assert_msg(used - base <= STACK_BUDGET, "%s uses %zu bytes of stack, over %d",
		      what, used - base, STACK_BUDGET);
#endif
}

/* ---- a decision for a hostile recipient -------------------------------------- */

static const char policy_text[] =
	"default prefer\n"
	"client:192.0.2.0/24 prefer\n"
	"client:.client.example prefer\n"
	"sender:.example require\n"
	"rcpt:.example require min_version=TLSv1.2\n"
	"rcpt:user@x.example require\n";

static struct tp_policy *policy;

/* decide - what mlfi_envrcpt does with the engine */

static void
decide(void *arg)
{
	struct tp_decision d;
	struct tp_query q = {
		"192.0.2.1", "mx.client.example", TEST_HOSTILE_ADDR, TEST_HOSTILE_ADDR, NULL, false, "+",
	};

	(void)arg;
	ck_assert_msg(tp_policy_decide(policy, &q, &d) == 0, "undecided: %s", d.reason);
	ck_assert_msg(d.result == TP_RESULT_FAIL, "not refused: %s", d.reason);
}

START_TEST(test_decision_depth)
{
	struct tp_errors errs;

	tp_errors_init(&errs);
	policy = tp_policy_load(test_tmpfile(policy_text, sizeof(policy_text) - 1), &errs);
	ck_assert_ptr_nonnull(policy);
	check_stack_budget("a decision for a hostile recipient", decide, NULL);
	tp_policy_unref(policy);
	tp_errors_free(&errs);
}
END_TEST

Suite  *
stack_suite(void)
{
	Suite  *s = suite_create("stack");
	TCase  *tc = tcase_create("depth");

	tcase_add_test(tc, test_decision_depth);
	suite_add_tcase(s, tc);
	return (s);
}
