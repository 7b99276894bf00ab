/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "skillmeat/timeutil.h"

static void test_iso_utc(void **state)
{
	char out[SM_ISO_MAX];

	(void)state;
	assert_int_equal(sm_time_iso(0, 0, 1, out), 0);
	assert_string_equal(out, "1970-01-01T00:00:00");
	/* 2025-01-15T10:30:00Z; no fraction when microseconds are 0 */
	assert_int_equal(sm_time_iso(1736937000, 0, 1, out), 0);
	assert_string_equal(out, "2025-01-15T10:30:00");
	assert_int_equal(sm_time_iso(1736937000, 123456, 1, out), 0);
	assert_string_equal(out, "2025-01-15T10:30:00.123456");
	/* always six digits when present */
	assert_int_equal(sm_time_iso(1736937000, 5, 1, out), 0);
	assert_string_equal(out, "2025-01-15T10:30:00.000005");
	assert_int_equal(sm_time_iso(1736937000, 500000, 1, out), 0);
	assert_string_equal(out, "2025-01-15T10:30:00.500000");
	/* leap day, end of year */
	assert_int_equal(sm_time_iso(951782400, 0, 1, out), 0);
	assert_string_equal(out, "2000-02-29T00:00:00");
	assert_int_equal(sm_time_iso(253402300799, 999999, 1, out), 0);
	assert_string_equal(out, "9999-12-31T23:59:59.999999");
	/* before the epoch */
	assert_int_equal(sm_time_iso(-1, 0, 1, out), 0);
	assert_string_equal(out, "1969-12-31T23:59:59");

	assert_int_equal(sm_time_iso(0, -1, 1, out), -EINVAL);
	assert_int_equal(sm_time_iso(0, 1000000, 1, out), -EINVAL);
	assert_int_equal(sm_time_iso(253402300800, 0, 1, out), -EOVERFLOW); /* year 10000 */
}

static void test_iso_local(void **state)
{
	char out[SM_ISO_MAX];
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	setenv("TZ", "UTC-2", 1); /* POSIX sign: two hours east */
	tzset();
	assert_int_equal(sm_time_iso(1736937000, 0, 0, out), 0);
	assert_string_equal(out, "2025-01-15T12:30:00");
	assert_int_equal(sm_time_iso(1736937000, 42, 0, out), 0);
	assert_string_equal(out, "2025-01-15T12:30:00.000042");
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

static void test_now(void **state)
{
	char out[SM_ISO_MAX];
	time_t sec, before = time(NULL);
	long usec;

	(void)state;
	assert_int_equal(sm_time_now_iso(out), 0);
	assert_true(strlen(out) == 19 || strlen(out) == 26);
	assert_int_equal(sm_time_parse_iso(out, &sec, &usec), 0);
	assert_true(sec >= before && sec <= time(NULL));
}

static void expect_parse(const char *s, time_t want_sec, long want_usec)
{
	time_t sec = 0;
	long usec = -1;

	if (sm_time_parse_iso(s, &sec, &usec) != 0)
		fail_msg("'%s' rejected", s);
	assert_int_equal(sec, want_sec);
	assert_int_equal(usec, want_usec);
}

static void test_parse(void **state)
{
	(void)state;
	expect_parse("2025-01-15T10:30:00", 1736937000, 0);
	expect_parse("2025-01-15T10:30:00.123456", 1736937000, 123456);
	expect_parse("2025-01-15 10:30:00.5", 1736937000, 500000);
	expect_parse("2025-01-15T10:30:00.123", 1736937000, 123000);
	expect_parse("2025-01-15T10:30:00Z", 1736937000, 0);
	expect_parse("2025-01-15T10:30:00+00:00", 1736937000, 0);
	expect_parse("2025-01-15T12:30:00.000001+02:00", 1736937000, 1);
	expect_parse("2025-01-15T05:00:00-05:30", 1736937000, 0);
	expect_parse("1970-01-01T00:00:00", 0, 0);
	expect_parse("1969-12-31T23:59:59", -1, 0);
	expect_parse("2000-02-29T00:00:00", 951782400, 0);
	expect_parse("0001-01-01T00:00:00", -62135596800LL, 0);
	expect_parse("9999-12-31T23:59:59.999999", 253402300799LL, 999999);
}

static void test_parse_roundtrip(void **state)
{
	static const time_t secs[] = {0, 1, 59, 86399, 951782400, 1736937000, 1767225599,
				      4102444800LL, -86400, -62135596800LL};
	static const long usecs[] = {0, 1, 999999, 123456, 100000};
	char out[SM_ISO_MAX];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		for (j = 0; j < sizeof(usecs) / sizeof(usecs[0]); j++) {
			time_t sec;
			long usec;

			assert_int_equal(sm_time_iso(secs[i], usecs[j], 1, out), 0);
			assert_int_equal(sm_time_parse_iso(out, &sec, &usec), 0);
			assert_int_equal(sec, secs[i]);
			assert_int_equal(usec, usecs[j]);
		}
	}
	/* a sweep of every day over several years, including leap years */
	for (i = 0; i < 6 * 366; i++) {
		time_t t = 946684800 + (time_t)i * 86400 + 3723, sec;
		long usec;

		assert_int_equal(sm_time_iso(t, 0, 1, out), 0);
		assert_int_equal(sm_time_parse_iso(out, &sec, &usec), 0);
		assert_int_equal(sec, t);
	}
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"2025",
		"2025-01-15",
		"2025-01-15T",
		"2025-01-15T10:30",
		"2025-01-15T10:30:0",
		"2025-1-15T10:30:00",
		"2025/01/15T10:30:00",
		"2025-01-15t10:30:00",
		"2025-01-15X10:30:00",
		"2025-01-15T10:30:00.",
		"2025-01-15T10:30:00.1234567",
		"2025-01-15T10:30:00.12a",
		"2025-01-15T10:30:00 ",
		" 2025-01-15T10:30:00",
		"2025-01-15T10:30:00ZZ",
		"2025-01-15T10:30:00+0200",
		"2025-01-15T10:30:00+02",
		"2025-01-15T10:30:00+24:00",
		"2025-01-15T10:30:00+02:60",
		"2025-13-15T10:30:00",
		"2025-00-15T10:30:00",
		"2025-01-00T10:30:00",
		"2025-01-32T10:30:00",
		"2025-02-29T10:30:00",
		"1900-02-29T10:30:00",
		"2025-04-31T10:30:00",
		"2025-01-15T24:00:00",
		"2025-01-15T10:60:00",
		"2025-01-15T10:30:60",
		"0000-01-01T00:00:00",
		"-025-01-15T10:30:00",
		"2025-01-15T10:30:00\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t sec = 77;
		long usec = 77;

		if (sm_time_parse_iso(bad[i], &sec, &usec) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(sec, 77);
		assert_int_equal(usec, 77);
	}
	{
		time_t sec;
		long usec;

		assert_int_equal(sm_time_parse_iso(NULL, &sec, &usec), -EINVAL);
	}
}

static void test_clocks(void **state)
{
	int64_t a, b, r;

	(void)state;
	a = sm_time_mono_ns();
	b = sm_time_mono_ns();
	assert_true(a > 0);
	assert_true(b >= a);
	r = sm_time_real_ns();
	assert_true(r / 1000000000LL >= time(NULL) - 1);
	assert_true(r / 1000000000LL <= time(NULL));
}

static void test_calendar(void **state)
{
	(void)state;
	assert_true(sm_time_is_leap(2000));
	assert_true(sm_time_is_leap(2024));
	assert_false(sm_time_is_leap(1900));
	assert_false(sm_time_is_leap(2023));
	assert_int_equal(sm_time_days_in_month(2024, 2), 29);
	assert_int_equal(sm_time_days_in_month(2100, 2), 28);
	assert_int_equal(sm_time_days_in_month(2023, 4), 30);
	assert_int_equal(sm_time_days_in_month(2023, 12), 31);
	assert_int_equal(sm_time_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(sm_time_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(sm_time_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(sm_time_days_from_civil(1, 1, 1), -719162);
	/* agrees with the ISO formatter */
	{
		char out[SM_ISO_MAX];

		assert_int_equal(sm_time_iso((time_t)sm_time_days_from_civil(2025, 1, 15) * 86400,
					     0, 1, out),
				 0);
		assert_string_equal(out, "2025-01-15T00:00:00");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso_utc),
		cmocka_unit_test(test_iso_local),
		cmocka_unit_test(test_now),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_roundtrip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_calendar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
