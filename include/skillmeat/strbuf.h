/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_STRBUF_H
#define SKILLMEAT_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A growable string with git's semantics: buf is never NULL and always
 * NUL-terminated, len excludes the NUL. Every strbuf has a size cap (bytes of
 * content): appends past it fail with -E2BIG and leave the buffer unchanged.
 * Appends return 0, -ENOMEM or -E2BIG.
 */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t cap;
};

#define SM_STRBUF_DEFAULT_CAP ((size_t)64 << 20) /* 64 MiB */

extern char sm_strbuf_empty[];

#define STRBUF_INIT                                                            \
	{                                                                      \
		.buf = sm_strbuf_empty, .len = 0, .alloc = 0,                  \
		.cap = SM_STRBUF_DEFAULT_CAP                                   \
	}

#define SM_WUR __attribute__((warn_unused_result))

void sm_strbuf_init(struct strbuf *sb, size_t cap);
void sm_strbuf_release(struct strbuf *sb);
/* Hand out the buffer (heap, caller frees with sm_free); sb is reset. NULL on ENOMEM. */
char *sm_strbuf_detach(struct strbuf *sb, size_t *len);
void sm_strbuf_reset(struct strbuf *sb);
/* Make room for extra more bytes (plus NUL). */
int sm_strbuf_grow(struct strbuf *sb, size_t extra) SM_WUR;
/* len must be <= sb->len. */
void sm_strbuf_setlen(struct strbuf *sb, size_t len);
int sm_strbuf_add(struct strbuf *sb, const void *data, size_t len) SM_WUR;
int sm_strbuf_addstr(struct strbuf *sb, const char *s) SM_WUR;
int sm_strbuf_addch(struct strbuf *sb, int c) SM_WUR;
int sm_strbuf_addf(struct strbuf *sb, const char *fmt, ...) SM_WUR
	__attribute__((format(printf, 2, 3)));
int sm_strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) SM_WUR
	__attribute__((format(printf, 2, 0)));
/* Drop trailing whitespace. */
void sm_strbuf_rtrim(struct strbuf *sb);

static inline void sm_strbuf_releasep(struct strbuf *sb)
{
	sm_strbuf_release(sb);
}

#endif
