/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "skillmeat/error.h"
#include "skillmeat/strbuf.h"

int sm_verr(struct strbuf *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		sm_strbuf_reset(err);
		/* a message that cannot be stored is dropped, the code stays */
		if (sm_strbuf_vaddf(err, fmt, ap) < 0)
			sm_strbuf_reset(err);
	}
	return code;
}

int sm_err(struct strbuf *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sm_verr(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int sm_err_prefix(struct strbuf *err, int code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	if (sm_strbuf_vaddf(&sb, fmt, ap) == 0 && sm_strbuf_addstr(&sb, ": ") == 0 &&
	    sm_strbuf_add(&sb, err->buf, err->len) == 0) {
		sm_strbuf_reset(err);
		if (sm_strbuf_add(err, sb.buf, sb.len) < 0)
			sm_strbuf_reset(err);
	}
	va_end(ap);
	sm_strbuf_release(&sb);
	return code;
}

const char *sm_strerror(int code)
{
	static __thread char buf[128];

	if (code < 0)
		code = -code;
	/* GNU strerror_r may return a static string instead of filling buf */
	return strerror_r(code, buf, sizeof(buf));
}
