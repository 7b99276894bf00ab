/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_TIMEUTIL_H
#define SKILLMEAT_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

/* "YYYY-MM-DDTHH:MM:SS[.ffffff]" plus NUL */
#define SM_ISO_MAX 32

/*
 * Python's naive datetime.isoformat(): ".ffffff" only when the microseconds
 * are non-zero; UTC when utc is non-zero, else local time. usec in [0, 1e6).
 */
int sm_time_iso(time_t sec, long usec, int utc, char out[SM_ISO_MAX]);
/* (-EINVAL for usec out of range, -EOVERFLOW outside years 1..9999.) */
/* Now, UTC (datetime.utcnow().isoformat()). */
int sm_time_now_iso(char out[SM_ISO_MAX]);
/*
 * Parse the shape above (also accepting a trailing 'Z' or +HH:MM offset,
 * a space instead of 'T', and 1 to 6 fraction digits) as UTC into seconds and
 * microseconds. -EINVAL on anything else (including impossible dates).
 */
int sm_time_parse_iso(const char *s, time_t *ret_sec, long *ret_usec);
/* Calendar arithmetic (proleptic Gregorian), the one copy of it. */
int sm_time_is_leap(int year);
/* Days in month (1-12) of year. */
int sm_time_days_in_month(int year, int month);
/* Days since 1970-01-01 of year-month-day (negative before). */
int64_t sm_time_days_from_civil(int year, int month, int day);

/* Monotonic clock in nanoseconds. */
int64_t sm_time_mono_ns(void);
/* Wall clock in nanoseconds since the epoch. */
int64_t sm_time_real_ns(void);

#endif
