/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_ERROR_H
#define SKILLMEAT_ERROR_H

#include <errno.h>
#include <stdarg.h>

struct strbuf;

/*
 * Library functions return >= 0 on success and a negative errno on failure,
 * and describe the failure in a trailing `struct strbuf *err` (may be NULL).
 *
 * sm_err() replaces err's content with the formatted one-line message and
 * returns code (which must be negative), so it can be used as
 *   return sm_err(err, -EINVAL, "bad name '%s'", name);
 */
int sm_err(struct strbuf *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sm_verr(struct strbuf *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/*
 * Prefix an existing message: "<prefix>: <old message>". Returns code.
 * Used when a caller adds context to a callee's error without losing it.
 */
int sm_err_prefix(struct strbuf *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* strerror_r wrapper for a negative or positive errno; static buffer per thread. */
const char *sm_strerror(int code);

#endif
