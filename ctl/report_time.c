/*
 * NAME
 *	report_time 3
 * SUMMARY
 *	tlspolicyctl report: reading and writing times
 * SYNOPSIS
 *	#include "ctl/report_impl.h"
 *
 *	int	tp_report_parse_time(const char *text, time_t now,
 *				     long long *ms, const char **why);
 *	int	tp_report_rfc3339(const char *text, long long *ms);
 *	const char *tp_report_format_ms(long long ms, char *buf, size_t size);
 * DESCRIPTION
 *	Times in the audit log and on the command line are RFC 3339;
 *	the report keeps them as milliseconds since the epoch (UTC).
 *	The calendar is proleptic Gregorian, computed with whole days
 *	(Howard Hinnant's civil-from-days), so that no time zone, locale
 *	or static buffer of the C library is involved.
 *
 *	tp_report_parse_time() reads --since (see tp_report.h);
 *	tp_report_rfc3339() reads the "time" of a record: a date, "T",
 *	a time with an optional fraction (milliseconds are kept), and
 *	"Z" or an offset; tp_report_format_ms() writes a time back as
 *	2026-11-01T00:00:00.000Z.
 * DIAGNOSTICS
 *	The readers return -1 on anything else; tp_report_parse_time()
 *	gives a static reason.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl/report_impl.h"

/* days_from_civil - days since 1970-01-01 of a Gregorian date */

static long long
days_from_civil(int y, int m, int d)
{
	long long era;
	int	yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return (era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468);
}

/* tp_report_format_ms - RFC 3339 UTC with milliseconds */

const char *
tp_report_format_ms(long long ms, char *buf, size_t size)
{
	long long secs = ms / 1000 - (ms % 1000 < 0);
	long long days = secs / 86400 - (secs % 86400 < 0);
	long long z = days + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1;
	long long m = mp < 10 ? mp + 3 : mp - 9;
	long long sod = secs - days * 86400;

	snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
		 yoe + era * 400 + (m <= 2), m, d, sod / 3600, sod / 60 % 60,
		 sod % 60, ms - secs * 1000);
	return (buf);
}

/* num - exactly n digits at *sp, advancing; -1 if not */

static int
num(const char **sp, int n)
{
	int	v = 0;

	for (; n > 0; n--, (*sp)++) {
		if (**sp < '0' || **sp > '9')
			return (-1);
		v = v * 10 + (**sp - '0');
	}
	return (v);
}

/* parse_date - "YYYY-MM-DD" at *sp, advancing: days since the epoch */

static int
parse_date(const char **sp, long long *days)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int	y, m, d;

	if ((y = num(sp, 4)) < 0 || *(*sp)++ != '-' || (m = num(sp, 2)) < 1
	    || m > 12 || *(*sp)++ != '-' || (d = num(sp, 2)) < 1 || d > mdays[m - 1])
		return (-1);
	if (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))
		return (-1);
	*days = days_from_civil(y, m, d);
	return (0);
}

/* parse_offset - "Z" or "+HH:MM" at *sp, advancing: minutes east of UTC */

static int
parse_offset(const char **sp, int *minutes)
{
	int	sign, hh, mm;

	if (**sp == 'Z' || **sp == 'z') {
		(*sp)++;
		*minutes = 0;
		return (0);
	}
	if (**sp != '+' && **sp != '-')
		return (-1);
	sign = *(*sp)++ == '-' ? -1 : 1;
	if ((hh = num(sp, 2)) < 0 || hh > 23 || *(*sp)++ != ':'
	    || (mm = num(sp, 2)) < 0 || mm > 59)
		return (-1);
	*minutes = sign * (hh * 60 + mm);
	return (0);
}

/* tp_report_rfc3339 - an RFC 3339 time, whole string: ms since the epoch */

int
tp_report_rfc3339(const char *s, long long *ms)
{
	long long days;
	int	hh, mm, ss, frac = 0, off;

	if (parse_date(&s, &days) < 0 || (*s != 'T' && *s != 't' && *s != ' '))
		return (-1);
	s++;
	if ((hh = num(&s, 2)) < 0 || hh > 23 || *s++ != ':' || (mm = num(&s, 2)) < 0
	    || mm > 59 || *s++ != ':' || (ss = num(&s, 2)) < 0 || ss > 60)
		return (-1);
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return (-1);
		for (int scale = 100; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (parse_offset(&s, &off) < 0 || *s != 0)
		return (-1);
	*ms = ((days * 86400 + hh * 3600 + mm * 60 + ss) - off * 60LL) * 1000 + frac;
	return (0);
}

/* tp_report_parse_time - --since: RFC 3339, a date, or an age */

int
tp_report_parse_time(const char *text, time_t when, long long *ms,
		     const char **why)
{
	static const struct {
		char	unit;
		long long ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000},
	{'w', 604800000}};
	const char *s = text;
	long long n = 0, days;

	for (; *s >= '0' && *s <= '9' && n < 100000000; s++)
		n = n * 10 + (*s - '0');
	for (size_t i = 0; s > text && *s != 0 && s[1] == 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (*s == units[i].unit) {
			*ms = (long long)when * 1000 - n * units[i].ms;
			return (0);
		}
	}
	s = text;
	if (strlen(text) == 10 && parse_date(&s, &days) == 0) {
		*ms = days * 86400000;
		return (0);
	}
	if (tp_report_rfc3339(text, ms) == 0)
		return (0);
	*why = "expected an RFC 3339 time (2026-11-01T00:00:00Z), a date "
	    "(2026-11-01) or an age (30m, 24h, 7d)";
	return (-1);
}
