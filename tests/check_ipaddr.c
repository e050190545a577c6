/*
 * NAME
 *	check_ipaddr 1
 * SUMMARY
 *	unit tests: client addresses and prefixes
 */

#include <string.h>

#include "check_suites.h"
#include "policy/tp_ipaddr.h"

static const struct {
	const char *in;
	const char *want;		/* text form; NULL: refused */
} ip_cases[] = {
	{"192.0.2.1", "192.0.2.1"},
	{"[192.0.2.1]", "192.0.2.1"},
	{"2001:db8::1", "2001:db8::1"},
	{"IPv6:2001:db8::1", "2001:db8::1"},	/* Sendmail's spelling */
	{"[IPv6:2001:DB8::1]", "2001:db8::1"},
	{"::ffff:192.0.2.1", "192.0.2.1"},	/* mapped: becomes IPv4 */
	{"::1", "::1"},
	{"192.0.2", NULL},
	{"192.0.2.256", NULL},
	{"example.org", NULL},
	{"", NULL},
	{"2001:db8::1%eth0", NULL},
	{"1.2.3.4\n", NULL},
};

START_TEST(test_ip_parse)
{
	struct tp_ip ip;
	char	buf[TP_IP_TEXT_MAX];
	int	rc = tp_ip_parse(ip_cases[_i].in, &ip);

	if (ip_cases[_i].want == NULL) {
		ck_assert_msg(rc < 0, "\"%s\": accepted", ip_cases[_i].in);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\": refused", ip_cases[_i].in);
	ck_assert_str_eq(tp_ip_format(&ip, buf, sizeof(buf)), ip_cases[_i].want);
}
END_TEST

static const struct {
	const char *in;
	int	want_ok;
	unsigned want_plen;
	int	want_family;
} prefix_cases[] = {
	{"192.0.2.0/24", 1, 24, 4},
	{"192.0.2.1", 1, 32, 4},
	{"0.0.0.0/0", 1, 0, 4},
	{"2001:db8::/32", 1, 32, 6},
	{"2001:db8::1", 1, 128, 6},
	{"::ffff:192.0.2.0/120", 1, 24, 4},
	{"192.0.2.1/24", 0, 0, 0},	/* host bits set */
	{"192.0.2.0/33", 0, 0, 0},
	{"2001:db8::/129", 0, 0, 0},
	{"192.0.2.0/", 0, 0, 0},
	{"192.0.2.0/-1", 0, 0, 0},
	{"192.0.2.0/24x", 0, 0, 0},
	{"::ffff:0.0.0.0/95", 0, 0, 0},
	{"300.0.0.0/8", 0, 0, 0},
	{"192.0.2.0/99999999999999999999", 0, 0, 0},
};

START_TEST(test_prefix_parse)
{
	struct tp_ip ip;
	unsigned plen = 999;
	const char *why = NULL;
	int	rc = tp_prefix_parse(prefix_cases[_i].in, &ip, &plen, &why);

	if (!prefix_cases[_i].want_ok) {
		ck_assert_msg(rc < 0, "\"%s\": accepted", prefix_cases[_i].in);
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\": %s", prefix_cases[_i].in, why);
	ck_assert_uint_eq(plen, prefix_cases[_i].want_plen);
	ck_assert_int_eq(ip.family, prefix_cases[_i].want_family);
}
END_TEST

START_TEST(test_mask)
{
	struct tp_ip ip;
	char	buf[TP_IP_TEXT_MAX];

	ck_assert_int_eq(tp_ip_parse("192.0.2.255", &ip), 0);
	tp_ip_mask(&ip, 25);
	ck_assert_str_eq(tp_ip_format(&ip, buf, sizeof(buf)), "192.0.2.128");
	ck_assert_int_eq(tp_ip_parse("2001:db8:ffff::1", &ip), 0);
	tp_ip_mask(&ip, 36);
	ck_assert_str_eq(tp_ip_format(&ip, buf, sizeof(buf)), "2001:db8:f000::");
	tp_ip_mask(&ip, 0);
	ck_assert_str_eq(tp_ip_format(&ip, buf, sizeof(buf)), "::");
}
END_TEST

Suite  *
ipaddr_suite(void)
{
	Suite  *s = suite_create("ipaddr");
	TCase  *tc = tcase_create("ipaddr");

	tcase_add_loop_test(tc, test_ip_parse, 0, sizeof(ip_cases) / sizeof(ip_cases[0]));
	tcase_add_loop_test(tc, test_prefix_parse, 0, sizeof(prefix_cases) / sizeof(prefix_cases[0]));
	tcase_add_test(tc, test_mask);
	suite_add_tcase(s, tc);
	return (s);
}
