/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_ARRAY_H
#define SKILLMEAT_ARRAY_H

#include <stddef.h>

/*
 * The growable array: make room for need elements of elemsize bytes in the
 * array *ptr (ptr points at the array pointer) of capacity *alloc, doubling
 * (from 8 at least) so n appends cost O(n). Returns 0, or -ENOMEM with *ptr
 * and *alloc unchanged (also on size overflow).
 *
 *	if (SM_GROW(v, alloc, n + 1) < 0)
 *		return -ENOMEM;
 *	v[n++] = x;
 */
int sm_grow(void *ptr, size_t *alloc, size_t need, size_t elemsize)
    __attribute__((warn_unused_result));
#define SM_GROW(arr, alloc, need) sm_grow(&(arr), &(alloc), (need), sizeof(*(arr)))

/*
 * A vector of owned strings, NULL-terminated once non-empty (v[n] == NULL).
 * struct sm_strvec sv = SM_STRVEC_INIT; ... sm_strvec_release(&sv);
 */
struct sm_strvec {
	char **v;
	size_t n, alloc;
};

#define SM_STRVEC_INIT {0}

/* Append a copy of s (of len bytes). 0 or -ENOMEM (sv unchanged). */
int sm_strvec_push(struct sm_strvec *sv, const char *s) __attribute__((warn_unused_result));
int sm_strvec_pushn(struct sm_strvec *sv, const char *s, size_t len)
    __attribute__((warn_unused_result));
/* Append s itself, taking ownership (freed on failure too). 0 or -ENOMEM. */
int sm_strvec_push_take(struct sm_strvec *sv, char *s) __attribute__((warn_unused_result));
/* Sort by strcmp. */
void sm_strvec_sort(struct sm_strvec *sv);
/* Index of s, or -1. */
long sm_strvec_find(const struct sm_strvec *sv, const char *s);
/* Hand out the array (caller frees with sm_strv_free(v, n)); sv is reset. */
char **sm_strvec_detach(struct sm_strvec *sv, size_t *n);
/* Free the strings and the array; sv is reset and reusable. Accepts NULL. */
void sm_strvec_release(struct sm_strvec *sv);
/* Free n strings of v and v itself (accepts NULL). */
void sm_strv_free(char **v, size_t n);

#endif
