/* SPDX-License-Identifier: MIT */
/*
 * Stress test of the count cache: 8 threads get, set, invalidate and expire
 * entries of a small id pool at once. Runs in the 'threads' suite, which
 * `make test-tsan` runs under ThreadSanitizer.
 *
 * Writers bump a "true" count and then invalidate its id, as a commit
 * followed by an invalidation would; readers follow the get -> read truth
 * -> set(gen) protocol. Afterwards every live entry must equal the truth:
 * nothing stale survives an invalidation.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/count_cache.h"

#define NTHREADS 8
#define NIDS 32
#define ITERS 20000

static char names[NIDS][8];
static const char *ids[NIDS];
static int64_t truth[NIDS];
static int64_t clock_now;
static uint64_t lookups;

static int64_t atomic_clock(void *ctx)
{
	(void)ctx;
	return __atomic_load_n(&clock_now, __ATOMIC_RELAXED);
}

static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

struct worker {
	struct sm_count_cache *c;
	uint32_t seed;
	int failures;
};

static void read_and_fill(struct worker *w, uint32_t *rng)
{
	const char *want[4];
	const char *miss_ids[4];
	int64_t counts[4], miss_counts[4];
	size_t missing[4], nmissing, n = 1 + next_rand(rng) % 4;
	uint64_t gen;
	int idx[4];

	for (size_t i = 0; i < n; i++) {
		idx[i] = (int)(next_rand(rng) % NIDS);
		want[i] = ids[idx[i]];
	}
	sm_count_cache_get(w->c, want, n, counts, missing, &nmissing, &gen);
	__atomic_add_fetch(&lookups, n, __ATOMIC_RELAXED);
	for (size_t i = 0; i < n; i++) {
		/* a hit is never ahead of the truth */
		if (counts[i] > __atomic_load_n(&truth[idx[i]], __ATOMIC_ACQUIRE))
			w->failures++;
	}
	for (size_t m = 0; m < nmissing; m++) {
		miss_ids[m] = want[missing[m]];
		miss_counts[m] = __atomic_load_n(&truth[idx[missing[m]]], __ATOMIC_ACQUIRE);
	}
	if (sm_count_cache_set(w->c, miss_ids, miss_counts, nmissing, gen) < 0)
		w->failures++;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	uint32_t rng = w->seed;

	for (int i = 0; i < ITERS; i++) {
		uint32_t op = next_rand(&rng) % 100;

		if (op < 70) {
			read_and_fill(w, &rng);
		} else if (op < 95) {
			int id = (int)(next_rand(&rng) % NIDS);

			/* "commit" then invalidate */
			__atomic_add_fetch(&truth[id], 1, __ATOMIC_RELEASE);
			if (sm_count_cache_invalidate(w->c, ids[id]) < 0)
				w->failures++;
		} else if (op < 97) {
			sm_count_cache_invalidate_all(w->c);
		} else {
			__atomic_add_fetch(&clock_now, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void test_concurrent_get_set_invalidate(void **state)
{
	struct sm_count_cache *c;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct sm_count_cache_stats st;
	int64_t counts[NIDS];

	(void)state;
	for (int i = 0; i < NIDS; i++) {
		snprintf(names[i], sizeof(names[i]), "id%02d", i);
		ids[i] = names[i];
	}
	assert_int_equal(sm_count_cache_new(40, atomic_clock, NULL, &c), 0);
	for (int i = 0; i < NTHREADS; i++) {
		w[i].c = c;
		w[i].seed = 2463534242u + (uint32_t)i * 7919u;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	/* every live entry is current */
	sm_count_cache_get(c, ids, NIDS, counts, NULL, NULL, NULL);
	for (int i = 0; i < NIDS; i++) {
		if (counts[i] >= 0)
			assert_int_equal(counts[i], truth[i]);
	}
	sm_count_cache_stats(c, &st);
	assert_int_equal(st.hits + st.misses, lookups + NIDS);
	assert_true(st.size <= NIDS);
	assert_true(st.sets > 0);
	assert_true(st.invalidations > 0);
	sm_count_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_get_set_invalidate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
