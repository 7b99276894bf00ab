/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "skillmeat/memory.h"

static long fail_after = -1;

static int should_fail(void)
{
	if (fail_after < 0)
		return 0;
	if (fail_after == 0)
		return 1;
	fail_after--;
	return 0;
}

void sm_alloc_fail_after(long n)
{
	fail_after = n;
}

void *sm_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *sm_calloc(size_t nmemb, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *sm_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void *sm_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	return sm_realloc(p, nmemb * size);
}

void sm_free(void *p)
{
	free(p);
}

char *sm_memdup0(const void *p, size_t n)
{
	char *r;

	if (n == SIZE_MAX)
		return NULL;
	r = sm_malloc(n + 1);
	if (!r)
		return NULL;
	if (n)
		memcpy(r, p, n);
	r[n] = '\0';
	return r;
}

char *sm_strdup(const char *s)
{
	return sm_memdup0(s, strlen(s));
}

char *sm_strndup(const char *s, size_t n)
{
	return sm_memdup0(s, strnlen(s, n));
}

void sm_memory_huge_heap(size_t bytes)
{
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE) && !defined(__SANITIZE_ADDRESS__) &&          \
	!defined(__SANITIZE_THREAD__)
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t lo, hi;
	void *p;

	/* big buffers from the heap too, and a freed one kept there for the next */
	if (!mallopt(M_MMAP_THRESHOLD, 32 << 20) || !mallopt(M_TRIM_THRESHOLD, 64 << 20) ||
	    !mallopt(M_TOP_PAD, (int)bytes))
		return;
	lo = (uintptr_t)sbrk(0);
	p = malloc(bytes);
	free(p);
	hi = (uintptr_t)sbrk(0);
	if (lo == (uintptr_t)-1 || hi == (uintptr_t)-1 || !p)
		return;
	lo = (lo + huge - 1) & ~(huge - 1);
	hi &= ~(huge - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* THP off: ignored */
#else
	(void)bytes;
#endif
}
