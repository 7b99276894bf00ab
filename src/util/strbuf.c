/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"

char sm_strbuf_empty[1];

void sm_strbuf_init(struct strbuf *sb, size_t cap)
{
	sb->buf = sm_strbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
	sb->cap = cap ? cap : SM_STRBUF_DEFAULT_CAP;
}

void sm_strbuf_release(struct strbuf *sb)
{
	if (!sb)
		return;
	if (sb->alloc)
		sm_free(sb->buf);
	sb->buf = sm_strbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
}

char *sm_strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *r;

	if (sb->alloc) {
		r = sb->buf;
	} else {
		r = sm_memdup0("", 0);
		if (!r)
			return NULL;
	}
	if (len)
		*len = sb->len;
	sb->buf = sm_strbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
	return r;
}

void sm_strbuf_reset(struct strbuf *sb)
{
	sm_strbuf_setlen(sb, 0);
}

int sm_strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want, n;
	char *p;

	if (extra > sb->cap || sb->len > sb->cap - extra)
		return -E2BIG;
	want = sb->len + extra + 1;
	if (want <= sb->alloc)
		return 0;
	n = sb->alloc ? sb->alloc : 32;
	while (n < want)
		n = n < SIZE_MAX / 2 ? n * 2 : want;
	p = sm_realloc(sb->alloc ? sb->buf : NULL, n);
	if (!p)
		return -ENOMEM;
	if (!sb->alloc)
		p[0] = '\0';
	sb->buf = p;
	sb->alloc = n;
	return 0;
}

void sm_strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc)
		return; /* only 0 is valid for an unallocated buffer */
	sb->len = len;
	sb->buf[len] = '\0';
}

int sm_strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	int r = sm_strbuf_grow(sb, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int sm_strbuf_addstr(struct strbuf *sb, const char *s)
{
	return sm_strbuf_add(sb, s, strlen(s));
}

int sm_strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;

	return sm_strbuf_add(sb, &ch, 1);
}

int sm_strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(sb->alloc ? sb->buf + sb->len : NULL,
		      sb->alloc ? sb->alloc - sb->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	if (sb->alloc && (size_t)n < sb->alloc - sb->len) {
		if ((size_t)n > sb->cap - sb->len) {
			sb->buf[sb->len] = '\0';
			return -E2BIG;
		}
		sb->len += (size_t)n;
		return 0;
	}
	r = sm_strbuf_grow(sb, (size_t)n);
	if (r < 0) {
		if (sb->alloc)
			sb->buf[sb->len] = '\0';
		return r;
	}
	va_copy(cp, ap);
	vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	sb->len += (size_t)n;
	return 0;
}

int sm_strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sm_strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return r;
}

void sm_strbuf_rtrim(struct strbuf *sb)
{
	size_t n = sb->len;

	while (n && (sb->buf[n - 1] == ' ' || sb->buf[n - 1] == '\t' ||
		     sb->buf[n - 1] == '\n' || sb->buf[n - 1] == '\r'))
		n--;
	sm_strbuf_setlen(sb, n);
}
