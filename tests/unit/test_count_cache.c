/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/count_cache.h"
#include "skillmeat/memory.h"

#define TTL 300000

struct fake_clock {
	int64_t now;
};

static int64_t fake_now(void *ctx)
{
	return ((struct fake_clock *)ctx)->now;
}

struct fixture {
	struct fake_clock clock;
	struct sm_count_cache *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->clock.now = 1000000;
	if (sm_count_cache_new(TTL, fake_now, &f->clock, &f->c) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sm_count_cache_free(f->c);
	free(f);
	return 0;
}

static const char *const ids3[] = {"aaaa", "bbbb", "cccc"};

static void test_empty_get_misses(void **state)
{
	struct fixture *f = *state;
	int64_t counts[3];
	size_t missing[3], nmissing = 99;
	struct sm_count_cache_stats st;

	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, missing, &nmissing, NULL), 0);
	assert_int_equal(nmissing, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(counts[i], -1);
		assert_int_equal(missing[i], i);
	}
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, 0);
	assert_int_equal(st.ttl_ms, TTL);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 3);
	/* n = 0 and NULL outputs are fine */
	assert_int_equal(sm_count_cache_get(f->c, NULL, 0, NULL, NULL, NULL, NULL), 0);
}

static void test_set_then_get(void **state)
{
	struct fixture *f = *state;
	const char *const some[] = {"aaaa", "cccc"};
	const int64_t vals[] = {5, 0};
	int64_t counts[3];
	size_t missing[3], nmissing;
	uint64_t gen;
	struct sm_count_cache_stats st;

	sm_count_cache_get(f->c, some, 2, counts, NULL, NULL, &gen);
	assert_int_equal(sm_count_cache_set(f->c, some, vals, 2, gen), 2);
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, missing, &nmissing, NULL), 2);
	assert_int_equal(counts[0], 5);
	assert_int_equal(counts[1], -1);
	assert_int_equal(counts[2], 0);
	assert_int_equal(nmissing, 1);
	assert_int_equal(missing[0], 1);
	/* overwrite */
	const int64_t seven = 7;
	assert_int_equal(sm_count_cache_set(f->c, some, &seven, 1, SM_COUNT_CACHE_ANY_GEN), 1);
	assert_int_equal(sm_count_cache_get(f->c, some, 1, counts, NULL, NULL, NULL), 1);
	assert_int_equal(counts[0], 7);
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.sets, 3);
	assert_int_equal(st.expirations, 0);
}

static void test_negative_count_rejected(void **state)
{
	struct fixture *f = *state;
	const int64_t bad = -1;
	struct sm_count_cache_stats st;

	assert_int_equal(sm_count_cache_set(f->c, ids3, &bad, 1, SM_COUNT_CACHE_ANY_GEN), -EINVAL);
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, 0);
	assert_int_equal(sm_count_cache_set(f->c, ids3, NULL, 0, 0), 0);
}

static void test_full_ttl_expiry(void **state)
{
	struct fixture *f = *state;
	const int64_t vals[] = {1, 2, 3};
	int64_t counts[3];
	size_t nmissing;
	struct sm_count_cache_stats st;

	assert_int_equal(sm_count_cache_set(f->c, ids3, vals, 3, SM_COUNT_CACHE_ANY_GEN), 3);
	f->clock.now += TTL - 1;
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, NULL, &nmissing, NULL), 3);
	f->clock.now += 1; /* age == ttl: expired (strict now - ts < ttl) */
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, 3); /* expired but not read yet */
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, NULL, &nmissing, NULL), 0);
	assert_int_equal(nmissing, 3);
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, 0);
	assert_int_equal(st.expirations, 3);
	assert_int_equal(st.misses, 3);
	/* a second read is a plain miss, not another expiration */
	sm_count_cache_get(f->c, ids3, 3, counts, NULL, &nmissing, NULL);
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.expirations, 3);
	assert_int_equal(st.misses, 6);
}

static void test_partial_ttl_expiry(void **state)
{
	struct fixture *f = *state;
	const int64_t one = 1, two = 2;
	int64_t counts[3];
	size_t missing[3], nmissing;

	assert_int_equal(sm_count_cache_set(f->c, &ids3[0], &one, 1, SM_COUNT_CACHE_ANY_GEN), 1);
	f->clock.now += 100000;
	assert_int_equal(sm_count_cache_set(f->c, &ids3[1], &two, 1, SM_COUNT_CACHE_ANY_GEN), 1);
	f->clock.now += TTL - 100000; /* aaaa is exactly ttl old, bbbb 200 s */
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, missing, &nmissing, NULL), 1);
	assert_int_equal(counts[0], -1);
	assert_int_equal(counts[1], 2);
	assert_int_equal(counts[2], -1);
	assert_int_equal(nmissing, 2);
	assert_int_equal(missing[0], 0);
	assert_int_equal(missing[1], 2);
	/* a refreshed entry gets a new stamp */
	assert_int_equal(sm_count_cache_set(f->c, &ids3[0], &one, 1, SM_COUNT_CACHE_ANY_GEN), 1);
	f->clock.now += 100000; /* bbbb now ttl old, aaaa 100 s */
	assert_int_equal(sm_count_cache_get(f->c, ids3, 2, counts, NULL, &nmissing, NULL), 1);
	assert_int_equal(counts[0], 1);
	assert_int_equal(counts[1], -1);
}

static void test_invalidate_one(void **state)
{
	struct fixture *f = *state;
	const int64_t vals[] = {1, 2, 3};
	int64_t counts[3];
	size_t nmissing;
	struct sm_count_cache_stats st;

	sm_count_cache_set(f->c, ids3, vals, 3, SM_COUNT_CACHE_ANY_GEN);
	assert_int_equal(sm_count_cache_invalidate(f->c, "bbbb"), 0);
	assert_int_equal(sm_count_cache_invalidate(f->c, "absent"), 0);
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, NULL, &nmissing, NULL), 2);
	assert_int_equal(counts[1], -1);
	assert_int_equal(nmissing, 1);
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.invalidations, 2);
	/* set again after the invalidation (new token) works */
	uint64_t gen;
	sm_count_cache_get(f->c, &ids3[1], 1, counts, NULL, NULL, &gen);
	assert_int_equal(sm_count_cache_set(f->c, &ids3[1], &vals[1], 1, gen), 1);
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, NULL, NULL, NULL), 3);
}

static void test_invalidate_all(void **state)
{
	struct fixture *f = *state;
	const int64_t vals[] = {1, 2, 3};
	int64_t counts[3];
	struct sm_count_cache_stats st;

	sm_count_cache_set(f->c, ids3, vals, 3, SM_COUNT_CACHE_ANY_GEN);
	sm_count_cache_invalidate(f->c, "aaaa");
	sm_count_cache_invalidate_all(f->c);
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, NULL, NULL, NULL), 0);
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, 0);
	assert_int_equal(st.invalidations, 2);
}

/* Team mode: one tenant's entries ("<tenant>\x1f<id>") dropped, the others kept. */
static void test_invalidate_prefix(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[] = {"acme\x1f" "a", "acme\x1f" "b", "acmex\x1f" "a",
					  "globex\x1f" "a"};
	static const char *const absent[] = {"acme\x1f" "new"};
	const int64_t vals[] = {1, 2, 3, 4};
	int64_t counts[4];
	size_t missing[4], nmissing;
	uint64_t gen;
	struct sm_count_cache_stats st;

	sm_count_cache_set(f->c, ids, vals, 4, SM_COUNT_CACHE_ANY_GEN);
	/* a reader of an id not cached yet takes its token before the change */
	sm_count_cache_get(f->c, absent, 1, counts, NULL, NULL, &gen);
	sm_count_cache_invalidate_prefix(f->c, "acme\x1f");
	assert_int_equal(sm_count_cache_get(f->c, ids, 4, counts, missing, &nmissing, NULL), 2);
	assert_int_equal(nmissing, 2);
	assert_int_equal(missing[0], 0);
	assert_int_equal(missing[1], 1);
	assert_int_equal(counts[2], 3); /* "acmex" is another tenant */
	assert_int_equal(counts[3], 4);
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, 2);
	/* its count read before the change is not stored after it */
	assert_int_equal(sm_count_cache_set(f->c, absent, vals, 1, gen), 0);
	assert_int_equal(sm_count_cache_get(f->c, absent, 1, counts, NULL, NULL, &gen), 0);
	/* a new token stores again */
	assert_int_equal(sm_count_cache_set(f->c, ids, vals, 2, gen), 2);
	assert_int_equal(sm_count_cache_get(f->c, ids, 4, counts, NULL, NULL, NULL), 4);
}

/* A count read before an invalidation must not be stored after it. */
static void test_set_after_invalidation_is_dropped(void **state)
{
	struct fixture *f = *state;
	const int64_t old[] = {10, 20, 30};
	int64_t counts[3];
	uint64_t gen;

	sm_count_cache_get(f->c, ids3, 3, counts, NULL, NULL, &gen);
	/* ... the reader queries the DB; meanwhile a writer commits bbbb ... */
	sm_count_cache_invalidate(f->c, "bbbb");
	assert_int_equal(sm_count_cache_set(f->c, ids3, old, 3, gen), 2);
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, NULL, NULL, NULL), 2);
	assert_int_equal(counts[1], -1);

	/* same with invalidate_all: nothing from the old token is stored */
	sm_count_cache_get(f->c, ids3, 3, counts, NULL, NULL, &gen);
	sm_count_cache_invalidate_all(f->c);
	assert_int_equal(sm_count_cache_set(f->c, ids3, old, 3, gen), 0);
	assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, NULL, NULL, NULL), 0);
}

/* Old token, then someone stores the new value, then the old set arrives. */
static void test_late_set_does_not_overwrite_newer(void **state)
{
	struct fixture *f = *state;
	const int64_t stale = 1, current = 2;
	int64_t count;
	uint64_t g1, g2;

	sm_count_cache_get(f->c, ids3, 1, &count, NULL, NULL, &g1);
	sm_count_cache_invalidate(f->c, ids3[0]);
	sm_count_cache_get(f->c, ids3, 1, &count, NULL, NULL, &g2);
	assert_int_equal(sm_count_cache_set(f->c, ids3, &current, 1, g2), 1);
	assert_int_equal(sm_count_cache_set(f->c, ids3, &stale, 1, g1), 0);
	sm_count_cache_get(f->c, ids3, 1, &count, NULL, NULL, NULL);
	assert_int_equal(count, 2);
	/* even after the newer entry expired and was dropped on read */
	f->clock.now += TTL;
	assert_int_equal(sm_count_cache_get(f->c, ids3, 1, &count, NULL, NULL, NULL), 0);
	assert_int_equal(sm_count_cache_set(f->c, ids3, &stale, 1, g1), 0);
	assert_int_equal(sm_count_cache_get(f->c, ids3, 1, &count, NULL, NULL, NULL), 0);
}

static void test_many_entries(void **state)
{
	struct fixture *f = *state;
	enum { N = 2000 };
	static char names[N][16];
	static const char *ids[N];
	static int64_t vals[N], counts[N];
	struct sm_count_cache_stats st;

	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "c%05d", i);
		ids[i] = names[i];
		vals[i] = i;
	}
	assert_int_equal(sm_count_cache_set(f->c, ids, vals, N, SM_COUNT_CACHE_ANY_GEN), N);
	for (int i = 0; i < N; i += 3)
		assert_int_equal(sm_count_cache_invalidate(f->c, ids[i]), 0);
	assert_int_equal(sm_count_cache_get(f->c, ids, N, counts, NULL, NULL, NULL), N - 667);
	for (int i = 0; i < N; i++)
		assert_int_equal(counts[i], i % 3 ? i : -1);
	sm_count_cache_stats(f->c, &st);
	assert_int_equal(st.size, N - 667);
}

static void test_allocation_failure(void **state)
{
	struct fixture *f = *state;
	const int64_t vals[] = {1, 2, 3};
	int64_t counts[3];
	struct sm_count_cache *c = NULL;

	for (long k = 0; k < 3; k++) {
		sm_alloc_fail_after(k);
		assert_int_equal(sm_count_cache_set(f->c, ids3, vals, 3, SM_COUNT_CACHE_ANY_GEN),
				 -ENOMEM);
		sm_alloc_fail_after(-1);
		assert_int_equal(sm_count_cache_get(f->c, ids3, 3, counts, NULL, NULL, NULL), 0);
	}
	sm_alloc_fail_after(0);
	assert_int_equal(sm_count_cache_invalidate(f->c, "aaaa"), -ENOMEM);
	assert_int_equal(sm_count_cache_new(0, NULL, NULL, &c), -ENOMEM);
	sm_alloc_fail_after(1);
	assert_int_equal(sm_count_cache_new(0, NULL, NULL, &c), -ENOMEM);
	sm_alloc_fail_after(-1);
	assert_null(c);
}

static void test_default_ttl_and_clock(void **state)
{
	struct sm_count_cache *c;
	struct sm_count_cache_stats st;
	const int64_t one = 1;
	int64_t count;

	(void)state;
	assert_int_equal(sm_count_cache_new(0, NULL, NULL, &c), 0);
	sm_count_cache_stats(c, &st);
	assert_int_equal(st.ttl_ms, SM_COUNT_CACHE_DEFAULT_TTL_MS);
	assert_int_equal(sm_count_cache_set(c, ids3, &one, 1, SM_COUNT_CACHE_ANY_GEN), 1);
	assert_int_equal(sm_count_cache_get(c, ids3, 1, &count, NULL, NULL, NULL), 1);
	sm_count_cache_free(c);
	sm_count_cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_empty_get_misses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_then_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_negative_count_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_ttl_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_ttl_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalidate_one, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalidate_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalidate_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_after_invalidation_is_dropped, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_late_set_does_not_overwrite_newer, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_many_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_allocation_failure, setup, teardown),
	    cmocka_unit_test(test_default_ttl_and_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
