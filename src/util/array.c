/* SPDX-License-Identifier: MIT */
/* The growable array and the string vector (include/skillmeat/array.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/array.h"
#include "skillmeat/memory.h"
#include "util/banned.h"

int sm_grow(void *ptr, size_t *alloc, size_t need, size_t elemsize)
{
	void *p;
	size_t n;

	if (need <= *alloc)
		return 0;
	if (!elemsize)
		return -EINVAL;
	n = *alloc < 8 ? 8 : *alloc;
	while (n < need)
		n = n <= SIZE_MAX / 2 ? n * 2 : need;
	memcpy(&p, ptr, sizeof(p));
	p = sm_reallocarray(p, n, elemsize);
	if (!p)
		return -ENOMEM;
	memcpy(ptr, &p, sizeof(p));
	*alloc = n;
	return 0;
}

int sm_strvec_push_take(struct sm_strvec *sv, char *s)
{
	if (!s)
		return -ENOMEM;
	if (SM_GROW(sv->v, sv->alloc, sv->n + 2) < 0) {
		sm_free(s);
		return -ENOMEM;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

int sm_strvec_pushn(struct sm_strvec *sv, const char *s, size_t len)
{
	return sm_strvec_push_take(sv, sm_strndup(s, len));
}

int sm_strvec_push(struct sm_strvec *sv, const char *s)
{
	return sm_strvec_push_take(sv, sm_strdup(s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void sm_strvec_sort(struct sm_strvec *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

long sm_strvec_find(const struct sm_strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return (long)i;
	return -1;
}

char **sm_strvec_detach(struct sm_strvec *sv, size_t *n)
{
	char **v = sv->v;

	if (n)
		*n = sv->n;
	sv->v = NULL;
	sv->n = sv->alloc = 0;
	return v;
}

void sm_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		sm_free(v[i]);
	sm_free(v);
}

void sm_strvec_release(struct sm_strvec *sv)
{
	if (!sv)
		return;
	sm_strv_free(sv->v, sv->n);
	sv->v = NULL;
	sv->n = sv->alloc = 0;
}
