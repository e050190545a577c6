/*
 * NAME
 *	check_metrics 1
 * SUMMARY
 *	unit tests: the counters, the Prometheus text, the status file's
 *	samples read back, and the file replaced whole
 * DESCRIPTION
 *	A known state of the counters, counted through tp_stats_*(), must
 *	give exactly the expected text; the status file's samples, read
 *	back as tlspolicyctl status --prometheus reads them, must give the
 *	same text again; a reader racing a writer that replaces the file
 *	must only ever see a whole file.
 */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_suites.h"
#include "reporter/tp_metrics.h"

/* decision - one recipient decision, counted */

static void
decision(struct tp_stats *st, enum tp_level level, enum tp_result result,
	 enum tp_action action, bool testing, bool error)
{
	struct tp_record_rcpt r;

	memset(&r, 0, sizeof(r));
	r.level = level;
	r.result = result;
	r.action = action;
	r.testing = testing;
	r.error = error;
	tp_stats_decision(st, &r);
}

/* session - one session, counted */

static void
session(struct tp_stats *st, enum tp_tls_how how, enum tp_tls_version version)
{
	struct tp_tls_state tls = {how, NULL, version, NULL, -1, TP_VERIFY_NONE, NULL, NULL, NULL};

	tp_stats_session(st, &tls);
}

/* known_state - the counters of a small day, and what the daemon adds */

static void
known_state(struct tp_stats_snap *snap)
{
	static struct tp_stats st;

	memset(&st, 0, sizeof(st));
	st.started = 1796000000;
	for (int i = 0; i < 3; i++)
		decision(&st, TP_LEVEL_REQUIRE, TP_RESULT_PASS, TP_ACTION_REJECT, false, false);
	decision(&st, TP_LEVEL_REQUIRE, TP_RESULT_FAIL, TP_ACTION_REJECT, false, false);
	decision(&st, TP_LEVEL_REQUIRE, TP_RESULT_FAIL, TP_ACTION_REJECT, false, false);
	decision(&st, TP_LEVEL_REQUIRE, TP_RESULT_FAIL, TP_ACTION_REJECT, true, false);
	decision(&st, TP_LEVEL_PREFER, TP_RESULT_UNMET, TP_ACTION_TAG, false, false);
	/* An error has no level, whatever the record says. */
	decision(&st, TP_LEVEL_REQUIRE, TP_RESULT_PASS, TP_ACTION_TAG, false, true);
	/* Not a combination the engine makes: written, as it was counted. */
	decision(&st, TP_LEVEL_SKIP, TP_RESULT_PASS, TP_ACTION_TAG, false, false);
	session(&st, TP_TLS_HOW_NONE, TP_TLS_NO_VERSION);
	session(&st, TP_TLS_HOW_STARTTLS, TP_TLS_V1_3);
	session(&st, TP_TLS_HOW_STARTTLS, TP_TLS_V1_2);
	session(&st, TP_TLS_HOW_IMPLICIT, TP_TLS_V1_3);
	session(&st, TP_TLS_HOW_IMPLICIT, TP_TLS_UNKNOWN);
	tp_stats_message(&st, "accepted");
	tp_stats_message(&st, "accepted");
	tp_stats_message(&st, "rejected");
	tp_stats_message(&st, "no-such-outcome");
	tp_stats_message(&st, NULL);
	tp_stats_reload(&st, true);
	tp_stats_reload(&st, true);
	tp_stats_reload(&st, false);
	tp_stats_snapshot(&st, snap);
	snap->policy_generation = 3;
	snap->policy_rules = 17;
	snap->audit[TP_STAT_AUDIT_WRITTEN] = 10;
	snap->audit[TP_STAT_AUDIT_LOST] = 2;
	snap->up = 1;
	snap->pid = 4242;
	snap->policy_file = "/etc/tlspolicy/policy.conf";
}

static const char known_text[] =
"# HELP tlspolicy_up 1 while tlspolicy-milter runs; 0 in the file it writes as it stops.\n"
"# TYPE tlspolicy_up gauge\n"
"tlspolicy_up 1\n"
"# HELP tlspolicy_start_time_seconds When tlspolicy-milter started, in seconds since the Unix epoch.\n"
"# TYPE tlspolicy_start_time_seconds gauge\n"
"tlspolicy_start_time_seconds 1796000000\n"
"# HELP tlspolicy_policy_generation Generation of the policy in force: 1 at start, one more for each reload that took.\n"
"# TYPE tlspolicy_policy_generation gauge\n"
"tlspolicy_policy_generation 3\n"
"# HELP tlspolicy_policy_rules Rules in the policy in force.\n"
"# TYPE tlspolicy_policy_rules gauge\n"
"tlspolicy_policy_rules 17\n"
"# HELP tlspolicy_policy_reloads_total Policy reloads (SIGUSR1) by status; a failed one keeps the policy in force.\n"
"# TYPE tlspolicy_policy_reloads_total counter\n"
"tlspolicy_policy_reloads_total{status=\"ok\"} 2\n"
"tlspolicy_policy_reloads_total{status=\"failed\"} 1\n"
"# HELP tlspolicy_sessions_total SMTP sessions ended, by how they used TLS: none, starttls or implicit (TLS from connect).\n"
"# TYPE tlspolicy_sessions_total counter\n"
"tlspolicy_sessions_total{tls=\"none\"} 1\n"
"tlspolicy_sessions_total{tls=\"starttls\"} 2\n"
"tlspolicy_sessions_total{tls=\"implicit\"} 2\n"
"# HELP tlspolicy_tls_version_total SMTP sessions with TLS ended, by TLS version.\n"
"# TYPE tlspolicy_tls_version_total counter\n"
"tlspolicy_tls_version_total{version=\"unknown\"} 1\n"
"tlspolicy_tls_version_total{version=\"TLSv1\"} 0\n"
"tlspolicy_tls_version_total{version=\"TLSv1.1\"} 0\n"
"tlspolicy_tls_version_total{version=\"TLSv1.2\"} 1\n"
"tlspolicy_tls_version_total{version=\"TLSv1.3\"} 2\n"
"# HELP tlspolicy_decisions_total Recipient decisions by the deciding level, result, action of a failure and testing mode.\n"
"# TYPE tlspolicy_decisions_total counter\n"
"tlspolicy_decisions_total{level=\"none\",result=\"error\",action=\"none\",testing=\"no\"} 1\n"
"tlspolicy_decisions_total{level=\"skip\",result=\"pass\",action=\"none\",testing=\"no\"} 1\n"
"tlspolicy_decisions_total{level=\"skip\",result=\"skip\",action=\"none\",testing=\"no\"} 0\n"
"tlspolicy_decisions_total{level=\"prefer\",result=\"pass\",action=\"none\",testing=\"no\"} 0\n"
"tlspolicy_decisions_total{level=\"prefer\",result=\"unmet-prefer\",action=\"none\",testing=\"no\"} 1\n"
"tlspolicy_decisions_total{level=\"require\",result=\"pass\",action=\"none\",testing=\"no\"} 3\n"
"tlspolicy_decisions_total{level=\"require\",result=\"fail\",action=\"tag\",testing=\"no\"} 0\n"
"tlspolicy_decisions_total{level=\"require\",result=\"fail\",action=\"tag\",testing=\"yes\"} 0\n"
"tlspolicy_decisions_total{level=\"require\",result=\"fail\",action=\"quarantine\",testing=\"no\"} 0\n"
"tlspolicy_decisions_total{level=\"require\",result=\"fail\",action=\"quarantine\",testing=\"yes\"} 0\n"
"tlspolicy_decisions_total{level=\"require\",result=\"fail\",action=\"tempfail\",testing=\"no\"} 0\n"
"tlspolicy_decisions_total{level=\"require\",result=\"fail\",action=\"tempfail\",testing=\"yes\"} 0\n"
"tlspolicy_decisions_total{level=\"require\",result=\"fail\",action=\"reject\",testing=\"no\"} 2\n"
"tlspolicy_decisions_total{level=\"require\",result=\"fail\",action=\"reject\",testing=\"yes\"} 1\n"
"tlspolicy_decisions_total{level=\"exempt\",result=\"exempt\",action=\"none\",testing=\"no\"} 0\n"
"# HELP tlspolicy_messages_total Messages by outcome.\n"
"# TYPE tlspolicy_messages_total counter\n"
"tlspolicy_messages_total{outcome=\"accepted\"} 2\n"
"tlspolicy_messages_total{outcome=\"quarantined\"} 0\n"
"tlspolicy_messages_total{outcome=\"rejected\"} 1\n"
"tlspolicy_messages_total{outcome=\"tempfailed\"} 0\n"
"tlspolicy_messages_total{outcome=\"aborted\"} 0\n"
"# HELP tlspolicy_audit_records_total Audit log records written, or lost (queue full, or the file could not be written).\n"
"# TYPE tlspolicy_audit_records_total counter\n"
"tlspolicy_audit_records_total{status=\"written\"} 10\n"
"tlspolicy_audit_records_total{status=\"lost\"} 2\n";

/* format - the Prometheus text of snap into buf; fails if it was cut */

static size_t
format(const struct tp_stats_snap *snap, char *buf, size_t size)
{
	struct tp_buf b = TP_BUF(buf, size);

	tp_metrics_format(snap, &b);
	ck_assert(!b.full);
	return (b.len);
}

START_TEST(test_known_state)
{
	static char text[TP_METRICS_TEXT_MAX];
	struct tp_stats_snap snap;

	known_state(&snap);
	format(&snap, text, sizeof(text));
	ck_assert_str_eq(text, known_text);
}
END_TEST

/* The summary lines keep the buckets tlspolicyctl status always showed. */
START_TEST(test_summary)
{
	char	line[1024];
	struct tp_stats_snap snap;

	known_state(&snap);
	tp_stats_summary(&snap, line, sizeof(line));
	ck_assert_str_eq(line, "stats policy_generation=3 reloads=2 reloads_failed=1 pass=4 "
			 "refused=2 testing=1 quarantine=0 tag=0 unmet_prefer=1 skip=0 exempt=0 "
			 "error=1 audit_written=10 audit_lost=2");
}
END_TEST

static const struct {
	const char *in;
	bool	label;
	const char *want;
} escapes[] = {
	{"plain text", true, "plain text"},
	{"back\\slash", true, "back\\\\slash"},
	{"back\\slash", false, "back\\\\slash"},
	{"a \"quote\"", true, "a \\\"quote\\\""},
	{"a \"quote\"", false, "a \"quote\""},
	{"two\nlines", true, "two\\nlines"},
	{"two\nlines", false, "two\\nlines"},
	{"\\\"\n", true, "\\\\\\\"\\n"},
	{"", true, ""},
};

START_TEST(test_escape)
{
	char	out[64] = "";
	struct tp_buf b = TP_BUF(out, sizeof(out));

	tp_metrics_escape(&b, escapes[_i].in, escapes[_i].label);
	ck_assert_msg(strcmp(out, escapes[_i].want) == 0, "escape(\"%s\", %s): got \"%s\", want \"%s\"",
		      escapes[_i].in, escapes[_i].label ? "label" : "help", out, escapes[_i].want);
}
END_TEST

/*
 * read_back - the status file's samples into a fresh snapshot, split as
 * tlspolicyctl status splits them (the value after the last "=")
 */

static void
read_back(char *status, struct tp_stats_snap *snap)
{
	char   *save = NULL;
	int	samples = 0;

	memset(snap, 0, sizeof(*snap));
	for (char *line = strtok_r(status, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char   *value = strrchr(line, '=');

		if (strncmp(line, "tlspolicy_", 10) != 0)
			continue;
		ck_assert_ptr_nonnull(value);
		*value++ = 0;
		ck_assert_msg(tp_metrics_status_line(snap, line, value) == 1, "not read back: %s", line);
		samples++;
	}
	ck_assert_int_gt(samples, 0);
}

/* every_cell - each value of every metric different, and as large as may be */

static void
every_cell(struct tp_stats_snap *snap, unsigned long long base)
{
	unsigned long long *v = &snap->decisions[0][0][0][0];
	unsigned long long *end = &snap->up + 1;

	memset(snap, 0, sizeof(*snap));
	for (unsigned long long i = 0; v + i < end; i++)
		v[i] = base - i;
	snap->policy_file = "/a/path/that/is/long/enough/to/count/policy.conf";
	snap->audit_log = "/var/log/tlspolicy/audit.jsonl";
}

/* round_trip - status file text, read back, formatted: the same text */

static void
round_trip(const struct tp_stats_snap *snap)
{
	static char status[TP_METRICS_TEXT_MAX], want[TP_METRICS_TEXT_MAX], got[TP_METRICS_TEXT_MAX];
	struct tp_buf b = TP_BUF(status, sizeof(status));
	struct tp_stats_snap back;

	tp_stats_status(snap, &b);
	tp_metrics_status(snap, &b);
	ck_assert(!b.full);
	format(snap, want, sizeof(want));
	read_back(status, &back);
	format(&back, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

START_TEST(test_status_round_trip)
{
	struct tp_stats_snap snap;

	known_state(&snap);
	round_trip(&snap);
	/* Every sample written, each of them 20 digits: both texts still fit. */
	every_cell(&snap, ULLONG_MAX);
	round_trip(&snap);
}
END_TEST

START_TEST(test_status_line_refused)
{
	struct tp_stats_snap snap;

	memset(&snap, 0, sizeof(snap));
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_up", "1"), 1);
	ck_assert_uint_eq(snap.up, 1);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_up", "2x"), -1);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_up", ""), -1);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_up", "-1"), -1);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_up", "18446744073709551616"), -1);
	ck_assert_uint_eq(snap.up, 1);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_upx", "1"), 0);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "reloads", "1"), 0);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_sessions_total{tls=\"bogus\"}", "1"), 0);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_sessions_total{tls=\"implicit\"}",
						"18446744073709551615"), 1);
	ck_assert_uint_eq(snap.sessions[TP_TLS_HOW_IMPLICIT], ULLONG_MAX);
	ck_assert_int_eq(tp_metrics_status_line(&snap, "tlspolicy_sessions_total", "1"), 0);
}
END_TEST

/* read_file - a whole file into buf (size - 1 bytes at most); its length */

static size_t
read_file(const char *path, char *buf, size_t size)
{
	FILE   *fp = fopen(path, "r");
	size_t	n;

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, size - 1, fp);
	buf[n] = 0;
	fclose(fp);
	return (n);
}

START_TEST(test_replace)
{
	char	dir[] = "/tmp/tlspolicy-metrics-XXXXXX";
	char	path[64], buf[64];
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.prom", dir);
	ck_assert_int_eq(tp_stats_replace(path, "old\n", 4), 0);
	ck_assert_int_eq(tp_stats_replace(path, "new text\n", 9), 0);
	read_file(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "new text\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(unlink(path), 0);
	/* Nothing left behind: the directory is empty again. */
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(tp_stats_replace(path, "x", 1), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* A writer replacing the file while a reader reads it again and again. */
struct race {
	const char *path;
	const char *text[2];		/* a short file and a long one */
	size_t	len[2];
	atomic_bool done;
};

#define RACE_WRITES	500

/* race_writer - replace the file RACE_WRITES times, the texts in turn */

static void *
race_writer(void *arg)
{
	struct race *r = arg;
	long	failed = 0;

	for (int i = 0; i < RACE_WRITES; i++)
		failed += tp_stats_replace(r->path, r->text[i % 2], r->len[i % 2]) < 0;
	atomic_store(&r->done, true);
	return ((void *)failed);
}

START_TEST(test_reader_never_sees_a_part)
{
	static char got[TP_METRICS_TEXT_MAX], small[TP_METRICS_TEXT_MAX], big[TP_METRICS_TEXT_MAX];
	char	dir[] = "/tmp/tlspolicy-metrics-XXXXXX";
	char	path[64];
	struct tp_stats_snap snap;
	struct race r;
	pthread_t tid;
	void   *failed;
	long	reads = 0, torn = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tlspolicy.prom", dir);
	known_state(&snap);
	r.len[0] = format(&snap, small, sizeof(small));
	every_cell(&snap, ULLONG_MAX);
	r.len[1] = format(&snap, big, sizeof(big));
	r.path = path;
	r.text[0] = small;
	r.text[1] = big;
	atomic_init(&r.done, false);
	ck_assert_int_eq(tp_stats_replace(path, small, r.len[0]), 0);
	ck_assert_int_eq(pthread_create(&tid, NULL, race_writer, &r), 0);
	while (!atomic_load(&r.done)) {
		size_t	n = read_file(path, got, sizeof(got));

		reads++;
		torn += !((n == r.len[0] && memcmp(got, small, n) == 0)
			  || (n == r.len[1] && memcmp(got, big, n) == 0));
	}
	pthread_join(tid, &failed);
	ck_assert_int_eq((long)failed, 0);
	ck_assert_msg(torn == 0, "%ld of %ld reads saw a part of a file", torn, reads);
	ck_assert_int_gt(reads, 10);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite  *
metrics_suite(void)
{
	Suite  *s = suite_create("metrics");
	TCase  *tc = tcase_create("metrics");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_known_state);
	tcase_add_test(tc, test_summary);
	tcase_add_loop_test(tc, test_escape, 0, sizeof(escapes) / sizeof(escapes[0]));
	tcase_add_test(tc, test_status_round_trip);
	tcase_add_test(tc, test_status_line_refused);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_reader_never_sees_a_part);
	suite_add_tcase(s, tc);
	return (s);
}
