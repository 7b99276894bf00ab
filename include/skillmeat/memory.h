/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_MEMORY_H
#define SKILLMEAT_MEMORY_H

#include <stddef.h>
#include <stdlib.h>

/*
 * Every allocation of the library goes through these wrappers so tests can make
 * them fail (sm_alloc_fail_after). They return NULL on failure like malloc.
 */
void *sm_malloc(size_t n);
void *sm_calloc(size_t nmemb, size_t size);
void *sm_realloc(void *p, size_t n);
/* realloc of nmemb * size with overflow check; NULL (and p untouched) on failure */
void *sm_reallocarray(void *p, size_t nmemb, size_t size);
void sm_free(void *p);
char *sm_strdup(const char *s);
char *sm_strndup(const char *s, size_t n);
/* bytes copied plus a NUL; NULL on failure */
char *sm_memdup0(const void *p, size_t n);

/*
 * Test hook: after n more successful allocations, every allocation fails until
 * reset with a negative n. Not thread-safe; for single-threaded unit tests.
 */
void sm_alloc_fail_after(long n);

/*
 * Grow the heap by bytes now and ask for transparent huge pages on it (glibc;
 * a no-op elsewhere, under the sanitizers, or where THP is off). A command
 * that parses megabytes of TOML touches thousands of fresh pages and each first
 * touch is a page fault (a re-deploy of 1,000 skills: 2,500 faults, ~500 with
 * this). Best effort; call once, early, in a program's main.
 */
void sm_memory_huge_heap(size_t bytes);

static inline void sm_freep(void *p)
{
	sm_free(*(void **)p);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(sm_freep)

/* Hand the value out of a cleanup-managed variable. */
#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _ptr_ = (p);                                     \
		(p) = NULL;                                                    \
		_ptr_;                                                         \
	})

#define SM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
