/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "skillmeat/timeutil.h"
#include "util/banned.h"

int sm_time_iso(time_t sec, long usec, int utc, char out[SM_ISO_MAX])
{
	struct tm tm;
	int n;

	if (usec < 0 || usec >= 1000000)
		return -EINVAL;
	if (!(utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm)))
		return -EOVERFLOW;
	/* Python's datetime covers years 1..9999 only */
	if (tm.tm_year < 1 - 1900 || tm.tm_year > 9999 - 1900)
		return -EOVERFLOW;
	if (usec)
		n = snprintf(out, SM_ISO_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, usec);
	else
		n = snprintf(out, SM_ISO_MAX, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || n >= SM_ISO_MAX)
		return -EOVERFLOW;
	return 0;
}

int sm_time_now_iso(char out[SM_ISO_MAX])
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	return sm_time_iso(ts.tv_sec, ts.tv_nsec / 1000, 1, out);
}

/* Exactly n ASCII digits at *s, advancing it. */
static int digits(const char **s, int n, int *ret)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		char c = (*s)[i];

		if (c < '0' || c > '9')
			return -EINVAL;
		v = v * 10 + (c - '0');
	}
	*s += n;
	*ret = v;
	return 0;
}

static int expect(const char **s, char c)
{
	if (**s != c)
		return -EINVAL;
	(*s)++;
	return 0;
}

int sm_time_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int sm_time_days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && sm_time_is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t sm_time_days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int sm_time_parse_iso(const char *s, time_t *ret_sec, long *ret_usec)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	long usec = 0;
	int64_t t;

	if (!s)
		return -EINVAL;
	if (digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) || expect(&s, '-') ||
	    digits(&s, 2, &d))
		return -EINVAL;
	if (*s != 'T' && *s != ' ')
		return -EINVAL;
	s++;
	if (digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi) || expect(&s, ':') ||
	    digits(&s, 2, &sec))
		return -EINVAL;
	if (*s == '.') {
		int n = 0;

		s++;
		while (*s >= '0' && *s <= '9' && n < 6) {
			usec = usec * 10 + (*s - '0');
			s++;
			n++;
		}
		if (!n || (*s >= '0' && *s <= '9'))
			return -EINVAL;
		for (; n < 6; n++)
			usec *= 10;
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
		if (digits(&s, 2, &oh) || expect(&s, ':') || digits(&s, 2, &om))
			return -EINVAL;
		if (oh > 23 || om > 59)
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > sm_time_days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 59)
		return -EINVAL;

	t = sm_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	if ((int64_t)(time_t)t != t)
		return -EOVERFLOW;
	*ret_sec = (time_t)t;
	*ret_usec = usec;
	return 0;
}

int64_t sm_time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t sm_time_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
