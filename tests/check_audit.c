/*
 * NAME
 *	check_audit 1
 * SUMMARY
 *	unit tests: audit records as JSON, and the non-blocking writer
 * DESCRIPTION
 *	Records are parsed back with json-c, the same library that
 *	tlspolicyctl report reads them with: every hostile input must still
 *	give one valid line of JSON with the value intact or safely marked.
 */

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_suites.h"
#include "reporter/tp_audit.h"

static const struct tp_rule rule = {
	"sender:bank.example", "/etc/tlspolicy/policy.conf", 5, TP_KIND_SENDER,
	TP_LEVEL_REQUIRE, TP_ACTION_REJECT, TP_TLS_V1_2, 0, 0, 0, NULL, NULL, NULL,
};
static const struct tp_tls_state tls = {
	TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_TLS_V1_3, "TLS_AES_256_GCM_SHA384", 256,
	TP_VERIFY_OK, "OK", "mx.example.org", "Example CA",
};
static const struct timespec when = {1795000000, 123456789};

/* format - a record prepared and formatted as JSON */

static size_t
format(const struct tp_record *rec, const struct timespec *at, char *buf, size_t size)
{
	struct tp_record_text t;

	tp_record_prepare(rec, &t);
	return (tp_audit_format(&t, at, buf, size));
}

/* parse - one record back; fails the test unless it is one line of JSON */

static json_object *
parse(const char *line, size_t len)
{
	json_object *obj;

	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_eq(memchr(line, '\n', len), line + len - 1);
	obj = json_tokener_parse(line);
	ck_assert_msg(obj != NULL, "not JSON: %s", line);
	return (obj);
}

/* get - a member by path "a.b", or NULL */

static json_object *
get(json_object *obj, const char *path)
{
	char	buf[64];
	char   *save, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && obj; part = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(obj, part, &obj))
			return (NULL);
	return (obj);
}

/* get_str - a string member, or NULL for null/missing */

static const char *
get_str(json_object *obj, const char *path)
{
	json_object *v = get(obj, path);

	return (v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL);
}

START_TEST(test_record_fields)
{
	struct tp_record_rcpt r = {
		"<bob@Example.ORG>", {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_FAIL,
		TP_ACTION_REJECT, true, false, false, "TLS required", "530 5.7.0 Must issue",
	};
	struct tp_record rec = {
		"SID1", NULL, "192.0.2.1", "mx.example.net", "mx.example.net", "smtps", "465",
		"alice", "<alice@Bank.Example.>", &tls, "/etc/tlspolicy/policy.conf", 7,
		"mx.example.org", "accepted", &r, 1, NULL,
	};
	char	buf[8192];
	size_t	len = format(&rec, &when, buf, sizeof(buf));
	json_object *obj = parse(buf, len);
	json_object *rc0 = json_object_array_get_idx(get(obj, "rcpts"), 0);

	ck_assert_int_eq(json_object_get_int(get(obj, "v")), 1);
	ck_assert_str_eq(get_str(obj, "time"), "2026-11-18T11:06:40.123Z");
	ck_assert_ptr_null(get_str(obj, "queue_id"));
	ck_assert_str_eq(get_str(obj, "tls.how"), "implicit");
	ck_assert_int_eq(json_object_get_int(get(obj, "tls.bits")), 256);
	ck_assert_str_eq(get_str(obj, "tls.verify"), "ok");
	ck_assert_str_eq(get_str(obj, "sender_domain"), "bank.example");
	ck_assert_str_eq(get_str(obj, "listener.port"), "465");
	ck_assert_str_eq(get_str(rc0, "domain"), "example.org");
	ck_assert_str_eq(get_str(rc0, "result"), "fail");
	ck_assert_int_eq(json_object_get_boolean(get(rc0, "testing")), 1);
	ck_assert_str_eq(get_str(rc0, "decided_by"), "/etc/tlspolicy/policy.conf:5");
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(get(rc0, "rules"), 0)),
			 "/etc/tlspolicy/policy.conf:5");
	ck_assert_int_eq(json_object_get_int(get(obj, "policy.generation")), 7);
	ck_assert_str_eq(get_str(obj, "outcome"), "accepted");
	json_object_put(obj);
}
END_TEST

/* Hostile HELO names and what must come back out of the JSON. */
static const struct {
	const char *helo;
	const char *want;
} hostile[] = {
	{"a\r\nb", "a\r\nb"},
	{"quote\" back\\slash", "quote\" back\\slash"},
	{"caf\xc3\xa9", "caf\xc3\xa9"},
	{"bad\xff\xfe", "bad\xc3\xbf\xc3\xbe"},	/* not UTF-8: each byte as U+00XX */
	{"\xe2\x82", "\xc3\xa2\xc2\x82"},		/* truncated sequence */
	{"\x01\x1f\x7f", "\x01\x1f\x7f"},
	{"}],\"v\":2,{", "}],\"v\":2,{"},
};

START_TEST(test_hostile_strings)
{
	struct tp_record rec = {
		"S", "Q", "192.0.2.1", NULL, hostile[_i].helo, NULL, NULL, NULL, "<>", NULL,
		"p", 1, "h", "no-message", NULL, 0, NULL,
	};
	char	buf[8192];
	size_t	len = format(&rec, &when, buf, sizeof(buf));
	json_object *obj = parse(buf, len);

	ck_assert_str_eq(get_str(obj, "client.helo"), hostile[_i].want);
	ck_assert_int_eq(json_object_get_int(get(obj, "v")), 1);
	json_object_put(obj);
}
END_TEST

/* What the line holds for a hostile HELO: the README's escapes, nothing raw. */
static const struct {
	const char *helo;
	const char *want;		/* in the line, as written */
	const char *want_read;		/* read back; NULL: the HELO */
} hostile_raw[] = {
	{"del\x7f", "\"helo\":\"del\\u007f\"", NULL},
	{"c1\xc2\x80\xc2\x85\xc2\x9f", "\"helo\":\"c1\\u0080\\u0085\\u009f\"", NULL},
	{"ls\xe2\x80\xa8ps\xe2\x80\xa9", "\"helo\":\"ls\\u2028ps\\u2029\"", NULL},
	{"nbsp\xc2\xa0", "\"helo\":\"nbsp\xc2\xa0\"", NULL},
	{"lf\n", "\"helo\":\"lf\\u000a\"", NULL},
	{"bad\xc2", "\"helo\":\"bad\\u00c2\"", "bad\xc3\x82"},
};

START_TEST(test_hostile_raw)
{
	struct tp_record rec = {
		"S", "Q", "192.0.2.1", NULL, hostile_raw[_i].helo, NULL, NULL, NULL, "<>", NULL,
		"p", 1, "h", "no-message", NULL, 0, NULL,
	};
	char	buf[8192];
	size_t	len = format(&rec, &when, buf, sizeof(buf));
	json_object *obj = parse(buf, len);

	ck_assert_msg(strstr(buf, hostile_raw[_i].want) != NULL, "got %s, want %s in it",
		      buf, hostile_raw[_i].want);
	ck_assert_str_eq(get_str(obj, "client.helo"), hostile_raw[_i].want_read
			 ? hostile_raw[_i].want_read : hostile_raw[_i].helo);
	json_object_put(obj);
}
END_TEST

/* raw_control - the first raw control, DEL, C1 or separator in s, or NULL */

static const char *
raw_control(const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u != 0; u++)
		if (*u < 0x20 || *u == 0x7f || (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
		    || (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)))
			return ((const char *)u);
	return (NULL);
}

/* Every byte at the start, middle and end of every network string. */
START_TEST(test_every_byte_every_position)
{
	struct tp_record_rcpt r = {
		NULL, {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_FAIL,
		TP_ACTION_REJECT, false, true, false, NULL, NULL,
	};
	struct tp_record rec = {
		"S", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &tls,
		"p", 1, "h", "rejected", &r, 1, NULL,
	};

	for (unsigned c = 1; c < 256; c++) {
		for (int pos = 0; pos < 3; pos++) {
			char	s[4] = "xx", buf[8192];
			size_t	len;
			json_object *obj;

			s[pos] = (char)c;	/* pos 2: at the end */
			rec.queue_id = rec.client_addr = rec.client_name = rec.helo = s;
			rec.daemon_name = rec.daemon_port = rec.auth = rec.sender = s;
			r.addr = r.reason = r.reply = s;
			len = format(&rec, &when, buf, sizeof(buf));
			buf[len > 0 ? len - 1 : 0] = 0;
			obj = json_tokener_parse(buf);
			if (len == 0 || obj == NULL || raw_control(buf) != NULL)
				ck_abort_msg("byte 0x%02x at %d: raw or not JSON: %s", c, pos, buf);
			json_object_put(obj);
		}
	}
}
END_TEST

START_TEST(test_long_strings_capped)
{
	static char big[10241];
	struct tp_record rec = {
		"S", big, big, big, big, big, big, big, big, NULL, big, 1, big, "accepted", NULL, 0, big,
	};
	char	buf[TP_AUDIT_RECORD_MAX];
	size_t	len;
	json_object *obj;

	memset(big, '"', sizeof(big) - 1);	/* worst case: every byte escaped */
	len = format(&rec, &when, buf, sizeof(buf));
	obj = parse(buf, len);
	ck_assert_uint_eq(strlen(get_str(obj, "client.helo")), 1024);
	json_object_put(obj);
}
END_TEST

START_TEST(test_many_rcpts_dropped)
{
	static struct tp_record_rcpt r[1000];
	struct tp_record rec = {
		"S", "Q", "192.0.2.1", NULL, "h", NULL, NULL, NULL, "<a@b>", &tls, "p", 1,
		"h", "accepted", r, 1000, NULL,
	};
	static char addr[300];
	char	buf[TP_AUDIT_RECORD_MAX];
	size_t	len;
	json_object *obj;

	memset(addr, 'x', sizeof(addr) - 1);
	for (int i = 0; i < 1000; i++)
		r[i] = (struct tp_record_rcpt) {addr, {&rule}, 1, &rule, TP_LEVEL_REQUIRE,
		TP_RESULT_PASS, 0, false, false, false, "TLS requirements met", NULL};
	len = format(&rec, &when, buf, sizeof(buf));
	ck_assert_uint_lt(len, sizeof(buf));
	obj = parse(buf, len);
	ck_assert_int_gt(json_object_get_int(get(obj, "rcpts_dropped")), 0);
	ck_assert_int_eq((int)json_object_array_length(get(obj, "rcpts"))
			 + json_object_get_int(get(obj, "rcpts_dropped")), 1000);
	json_object_put(obj);
}
END_TEST

/*
 * A record whose head ends anywhere near the end of the buffer: each
 * length either fits whole or gives 0 (the caller then retries with a
 * bigger buffer); nothing is written past the buffer.
 */
START_TEST(test_head_near_the_end)
{
	static char helo[1025], sender[1025], addr[1025], name[1025];
	struct tp_record_rcpt r = {
		addr, {&rule}, 1, &rule, TP_LEVEL_REQUIRE, TP_RESULT_FAIL,
		TP_ACTION_REJECT, false, true, false, "TLS required", "530 5.7.0 x",
	};
	struct tp_record rec = {
		"S", "Q", "192.0.2.1", name, helo, NULL, NULL, NULL, sender, &tls,
		"p", 1, "h", "accepted", &r, 1, NULL,
	};
	enum { SIZE = 8192, GUARD = 256 };
	static char area[SIZE + GUARD];
	int	whole = 0;

	/* The head then ends between 6.2K and 8.3K: across the end. */
	memset(sender, 1, sizeof(sender) - 1);	/* 6 bytes each in JSON */
	memset(name, 'n', sizeof(name) - 1);
	memset(addr, 1, sizeof(addr) - 1);
	for (size_t n = 0; n < sizeof(helo) - 1; n++) {
		size_t	len;

		memset(helo, 'h', n);
		helo[n] = 0;
		memset(area, 0xa5, sizeof(area));
		len = format(&rec, &when, area, SIZE);
		for (size_t i = SIZE; i < sizeof(area); i++)
			ck_assert_msg((unsigned char)area[i] == 0xa5,
				      "HELO of %zu bytes: written past the buffer", n);
		if (len > 0) {
			json_object *obj = parse(area, len);

			ck_assert_uint_lt(len, SIZE);
			json_object_put(obj);
			whole++;
		}
	}
	ck_assert_int_gt(whole, 0);
}
END_TEST

/* The longest tail (reply and policy file of escaped bytes) is not lost. */
START_TEST(test_long_tail_kept)
{
	static char big[1025];
	struct tp_record rec = {
		"S", "Q", "192.0.2.1", NULL, "h", NULL, NULL, NULL, "<a@b>", &tls,
		big, 1, "h", "rejected", NULL, 0, big,
	};
	static char buf[TP_AUDIT_RECORD_MAX];
	size_t	len;
	json_object *obj;

	memset(big, 2, sizeof(big) - 1);
	len = format(&rec, &when, buf, sizeof(buf));
	obj = parse(buf, len);
	ck_assert_uint_eq(strlen(get_str(obj, "reply")), 1024);
	ck_assert_uint_eq(strlen(get_str(obj, "policy.file")), 1024);
	json_object_put(obj);
}
END_TEST

/* lines_in - number of lines in a file, -1 if it cannot be read */

static long
lines_in(const char *path)
{
	FILE   *fp = fopen(path, "r");
	long	n = 0;
	int	c;

	if (fp == NULL)
		return (-1);
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return (n);
}

START_TEST(test_writer_writes_and_reopens)
{
	char	dir[] = "/tmp/tlspolicy-audit-XXXXXX";
	char	path[128], moved[128];
	struct tp_audit_counts n;
	struct tp_audit *a;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	snprintf(moved, sizeof(moved), "%s/audit.jsonl.1", dir);
	a = tp_audit_open(path, 1 << 20, NULL);
	ck_assert_ptr_nonnull(a);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(tp_audit_submit(a, "{\"v\":1}\n", 8), 0);
	tp_audit_flush(a);
	ck_assert_int_eq(lines_in(path), 100);
	ck_assert_int_eq(rename(path, moved), 0);
	tp_audit_reopen(a);
	tp_audit_flush(a);
	ck_assert_int_eq(tp_audit_submit(a, "{\"v\":1}\n", 8), 0);
	tp_audit_flush(a);
	tp_audit_stats(a, &n);
	ck_assert_int_eq(lines_in(path), 1);
	ck_assert_uint_eq(n.written, 101);
	ck_assert_uint_eq(n.lost, 0);
	ck_assert_uint_eq(n.reopens, 1);
	tp_audit_close(a);
	unlink(path);
	unlink(moved);
	rmdir(dir);
}
END_TEST

START_TEST(test_writer_counts_loss)
{
	char	dir[] = "/tmp/tlspolicy-audit-XXXXXX";
	char	path[128];
	struct tp_audit_counts n;
	struct tp_audit *a;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gone/audit.jsonl", dir);
	/* The directory does not exist: every record is lost, none blocks. */
	a = tp_audit_open(path, 1 << 20, NULL);
	ck_assert_ptr_nonnull(a);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(tp_audit_submit(a, "{}\n", 3), 0);
	tp_audit_flush(a);
	tp_audit_stats(a, &n);
	ck_assert_uint_eq(n.written, 0);
	ck_assert_uint_eq(n.lost, 10);
	/* An empty record (one that could not be made) counts as lost. */
	ck_assert_int_eq(tp_audit_submit(a, "", 0), -1);
	tp_audit_stats(a, &n);
	ck_assert_uint_eq(n.lost, 11);
	tp_audit_close(a);
	rmdir(dir);
}
END_TEST

START_TEST(test_writer_queue_full)
{
	char	path[] = "/tmp/tlspolicy-audit-XXXXXX";
	static char line[TP_AUDIT_RECORD_MAX];
	struct tp_audit_counts n;
	struct tp_audit *a;
	int	fd = mkstemp(path);
	int	dropped = 0;

	ck_assert_int_ge(fd, 0);
	close(fd);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	/* The smallest queue holds one record: a burst must drop, not block. */
	a = tp_audit_open(path, 0, NULL);
	ck_assert_ptr_nonnull(a);
	for (int i = 0; i < 50; i++)
		dropped += tp_audit_submit(a, line, sizeof(line)) < 0;
	tp_audit_flush(a);
	tp_audit_stats(a, &n);
	ck_assert_uint_eq(n.written + n.lost, 50);
	ck_assert_uint_eq(n.lost, (unsigned)dropped);
	ck_assert_int_eq(lines_in(path), (long)n.written);
	tp_audit_close(a);
	unlink(path);
}
END_TEST

Suite  *
audit_suite(void)
{
	Suite  *s = suite_create("audit");
	TCase  *tc = tcase_create("audit");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_record_fields);
	tcase_add_loop_test(tc, test_hostile_strings, 0, sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_loop_test(tc, test_hostile_raw, 0, sizeof(hostile_raw) / sizeof(hostile_raw[0]));
	tcase_add_test(tc, test_every_byte_every_position);
	tcase_add_test(tc, test_long_strings_capped);
	tcase_add_test(tc, test_many_rcpts_dropped);
	tcase_add_test(tc, test_head_near_the_end);
	tcase_add_test(tc, test_long_tail_kept);
	tcase_add_test(tc, test_writer_writes_and_reopens);
	tcase_add_test(tc, test_writer_counts_loss);
	tcase_add_test(tc, test_writer_queue_full);
	suite_add_tcase(s, tc);
	return (s);
}
