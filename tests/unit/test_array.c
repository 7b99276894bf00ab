/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/array.h"
#include "skillmeat/memory.h"

static void test_grow_appends(void **state)
{
	int *v = NULL;
	size_t n = 0, alloc = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(SM_GROW(v, alloc, n + 1), 0);
		assert_true(alloc >= n + 1);
		v[n++] = i;
	}
	for (int i = 0; i < 1000; i++)
		assert_int_equal(v[i], i);
	/* doubling: 1000 appends need at most 1024 slots */
	assert_true(alloc <= 1024);
	/* no growth when there is room */
	{
		int *before = v;
		size_t a = alloc;

		assert_int_equal(SM_GROW(v, alloc, 10), 0);
		assert_ptr_equal(v, before);
		assert_int_equal(alloc, a);
	}
	sm_free(v);
}

static void test_grow_failure_keeps_array(void **state)
{
	long *v = NULL;
	size_t alloc = 0;

	(void)state;
	assert_int_equal(SM_GROW(v, alloc, 3), 0);
	v[0] = 7;
	sm_alloc_fail_after(0);
	assert_int_equal(SM_GROW(v, alloc, 100), -ENOMEM);
	sm_alloc_fail_after(-1);
	assert_non_null(v);
	assert_int_equal(alloc, 8);
	assert_int_equal(v[0], 7);
	/* an impossible size is -ENOMEM too, not an overflowed allocation */
	assert_int_equal(SM_GROW(v, alloc, SIZE_MAX / 2), -ENOMEM);
	assert_int_equal(v[0], 7);
	sm_free(v);
}

static void test_strvec(void **state)
{
	struct sm_strvec sv = SM_STRVEC_INIT;
	char **v;
	size_t n;

	(void)state;
	assert_int_equal(sm_strvec_push(&sv, "pear"), 0);
	assert_int_equal(sm_strvec_pushn(&sv, "applesauce", 5), 0);
	assert_int_equal(sm_strvec_push_take(&sv, sm_strdup("fig")), 0);
	assert_int_equal(sv.n, 3);
	assert_null(sv.v[3]); /* NULL-terminated */
	sm_strvec_sort(&sv);
	assert_string_equal(sv.v[0], "apple");
	assert_string_equal(sv.v[1], "fig");
	assert_string_equal(sv.v[2], "pear");
	assert_int_equal(sm_strvec_find(&sv, "fig"), 1);
	assert_int_equal(sm_strvec_find(&sv, "kiwi"), -1);
	v = sm_strvec_detach(&sv, &n);
	assert_int_equal(n, 3);
	assert_null(sv.v);
	assert_int_equal(sv.n, 0);
	sm_strv_free(v, n);
	/* a failed push leaves the vector as it was */
	assert_int_equal(sm_strvec_push(&sv, "one"), 0);
	sm_alloc_fail_after(0);
	assert_int_equal(sm_strvec_push(&sv, "two"), -ENOMEM);
	assert_int_equal(sm_strvec_push_take(&sv, NULL), -ENOMEM);
	sm_alloc_fail_after(-1);
	assert_int_equal(sv.n, 1);
	assert_string_equal(sv.v[0], "one");
	sm_strvec_release(&sv);
	sm_strvec_release(&sv); /* reusable, idempotent */
	sm_strvec_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grow_appends),
	    cmocka_unit_test(test_grow_failure_keeps_array),
	    cmocka_unit_test(test_strvec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
