/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"

#define NKEYS 100000

static void key_of(size_t i, char *buf, size_t n, size_t *len)
{
	*len = (size_t)snprintf(buf, n, "skill:canvas-%zu", i);
}

static void *val_of(size_t i)
{
	return (void *)(uintptr_t)(i + 1);
}

static void test_basic(void **state)
{
	struct sm_hashmap *map = NULL;
	void *v = NULL, *old = (void *)1;

	(void)state;
	assert_int_equal(sm_hashmap_new(&map), 0);
	assert_int_equal(sm_hashmap_size(map), 0);
	assert_false(sm_hashmap_get(map, "a", 1, &v));
	assert_false(sm_hashmap_remove(map, "a", 1, &v));

	assert_int_equal(sm_hashmap_put(map, "a", 1, "A", &old), 0);
	assert_null(old);
	assert_int_equal(sm_hashmap_put(map, "ab", 2, "AB", NULL), 0);
	assert_int_equal(sm_hashmap_size(map), 2);
	assert_true(sm_hashmap_get(map, "a", 1, &v));
	assert_string_equal(v, "A");
	assert_true(sm_hashmap_get(map, "ab", 2, &v));
	assert_string_equal(v, "AB");
	assert_true(sm_hashmap_get(map, "ab", 2, NULL));
	/* a prefix of a key is another key */
	assert_false(sm_hashmap_get(map, "abc", 2 + 1, &v));

	/* replace */
	assert_int_equal(sm_hashmap_put(map, "a", 1, "A2", &old), 0);
	assert_string_equal(old, "A");
	assert_int_equal(sm_hashmap_size(map), 2);
	assert_true(sm_hashmap_get(map, "a", 1, &v));
	assert_string_equal(v, "A2");

	/* binary keys and the empty key */
	assert_int_equal(sm_hashmap_put(map, "x\0y", 3, "bin", NULL), 0);
	assert_int_equal(sm_hashmap_put(map, "", 0, "empty", NULL), 0);
	assert_int_equal(sm_hashmap_put(map, NULL, 0, "empty2", &old), 0);
	assert_string_equal(old, "empty");
	assert_true(sm_hashmap_get(map, "x\0y", 3, &v));
	assert_string_equal(v, "bin");
	assert_false(sm_hashmap_get(map, "x\0z", 3, &v));
	assert_false(sm_hashmap_get(map, "x", 1, &v));

	/* keys are copied */
	{
		char k[8] = "temp";

		assert_int_equal(sm_hashmap_put(map, k, 4, "T", NULL), 0);
		memcpy(k, "XXXX", 4);
		assert_true(sm_hashmap_get(map, "temp", 4, &v));
		assert_false(sm_hashmap_get(map, k, 4, &v));
	}

	assert_true(sm_hashmap_remove(map, "a", 1, &v));
	assert_string_equal(v, "A2");
	assert_false(sm_hashmap_get(map, "a", 1, &v));
	assert_false(sm_hashmap_remove(map, "a", 1, NULL));
	assert_int_equal(sm_hashmap_size(map), 4);

	sm_hashmap_clear(map);
	assert_int_equal(sm_hashmap_size(map), 0);
	assert_false(sm_hashmap_get(map, "ab", 2, &v));
	assert_int_equal(sm_hashmap_put(map, "ab", 2, "again", NULL), 0);
	assert_true(sm_hashmap_get(map, "ab", 2, &v));
	sm_hashmap_free(map);
	sm_hashmap_free(NULL);
}

static void test_many(void **state)
{
	struct sm_hashmap *map = NULL;
	char key[64];
	size_t i, len, pos = 0, seen = 0, keylen;
	unsigned char *mark = calloc(NKEYS, 1);
	const void *k;
	void *v;

	(void)state;
	assert_int_equal(sm_hashmap_new(&map), 0);
	for (i = 0; i < NKEYS; i++) {
		key_of(i, key, sizeof(key), &len);
		assert_int_equal(sm_hashmap_put(map, key, len, val_of(i), NULL), 0);
	}
	assert_int_equal(sm_hashmap_size(map), NKEYS);
	for (i = 0; i < NKEYS; i++) {
		key_of(i, key, sizeof(key), &len);
		assert_true(sm_hashmap_get(map, key, len, &v));
		assert_ptr_equal(v, val_of(i));
	}
	key_of(NKEYS, key, sizeof(key), &len);
	assert_false(sm_hashmap_get(map, key, len, &v));

	/* iterate: every entry exactly once, keys NUL-terminated */
	while (sm_hashmap_next(map, &pos, &k, &keylen, &v)) {
		size_t idx = (size_t)(uintptr_t)v - 1;

		assert_true(idx < NKEYS);
		assert_int_equal(mark[idx], 0);
		mark[idx] = 1;
		key_of(idx, key, sizeof(key), &len);
		assert_int_equal(keylen, len);
		assert_string_equal(k, key);
		seen++;
	}
	assert_int_equal(seen, NKEYS);
	/* the end stays the end */
	assert_false(sm_hashmap_next(map, &pos, &k, &keylen, &v));

	/* remove the odd ones, replace the even ones */
	for (i = 0; i < NKEYS; i++) {
		key_of(i, key, sizeof(key), &len);
		if (i % 2) {
			assert_true(sm_hashmap_remove(map, key, len, &v));
			assert_ptr_equal(v, val_of(i));
		} else {
			void *old = NULL;

			assert_int_equal(sm_hashmap_put(map, key, len, val_of(i + 7), &old), 0);
			assert_ptr_equal(old, val_of(i));
		}
	}
	assert_int_equal(sm_hashmap_size(map), NKEYS / 2);
	for (i = 0; i < NKEYS; i++) {
		key_of(i, key, sizeof(key), &len);
		if (i % 2) {
			assert_false(sm_hashmap_get(map, key, len, &v));
		} else {
			assert_true(sm_hashmap_get(map, key, len, &v));
			assert_ptr_equal(v, val_of(i + 7));
		}
	}
	/* churn: tombstones are recycled, lookups still end */
	for (i = 0; i < 5 * NKEYS; i++) {
		size_t j = NKEYS + i % 1000;

		key_of(j, key, sizeof(key), &len);
		if ((i / 1000) % 2 == 0)
			assert_int_equal(sm_hashmap_put(map, key, len, val_of(j), NULL), 0);
		else
			assert_true(sm_hashmap_remove(map, key, len, NULL));
	}
	assert_int_equal(sm_hashmap_size(map), NKEYS / 2);
	sm_hashmap_free(map);
	free(mark);
}

static void test_remove_during_iteration(void **state)
{
	struct sm_hashmap *map = NULL;
	char key[64];
	size_t i, len, pos = 0, seen = 0, keylen;
	unsigned char *mark = calloc(NKEYS, 1);
	const void *k;
	void *v;

	(void)state;
	assert_int_equal(sm_hashmap_new(&map), 0);
	for (i = 0; i < NKEYS; i++) {
		key_of(i, key, sizeof(key), &len);
		assert_int_equal(sm_hashmap_put(map, key, len, val_of(i), NULL), 0);
	}
	/* remove every entry whose index is a multiple of 3 while iterating */
	while (sm_hashmap_next(map, &pos, &k, &keylen, &v)) {
		size_t idx = (size_t)(uintptr_t)v - 1;

		assert_int_equal(mark[idx], 0);
		mark[idx] = 1;
		seen++;
		if (idx % 3 == 0) {
			char copy[64];
			void *rv = NULL;

			/* k is freed by the removal: use a copy */
			memcpy(copy, k, keylen);
			assert_true(sm_hashmap_remove(map, copy, keylen, &rv));
			assert_ptr_equal(rv, v);
		}
	}
	assert_int_equal(seen, NKEYS); /* nothing skipped, nothing twice */
	assert_int_equal(sm_hashmap_size(map), NKEYS - (NKEYS + 2) / 3);
	for (i = 0; i < NKEYS; i++) {
		key_of(i, key, sizeof(key), &len);
		assert_true(sm_hashmap_get(map, key, len, &v) == (i % 3 != 0));
	}

	/* removing everything while iterating leaves an empty, usable map */
	pos = 0;
	while (sm_hashmap_next(map, &pos, &k, &keylen, &v)) {
		char copy[64];

		memcpy(copy, k, keylen);
		assert_true(sm_hashmap_remove(map, copy, keylen, NULL));
	}
	assert_int_equal(sm_hashmap_size(map), 0);
	pos = 0;
	assert_false(sm_hashmap_next(map, &pos, &k, &keylen, &v));
	assert_int_equal(sm_hashmap_put(map, "z", 1, "Z", NULL), 0);
	assert_true(sm_hashmap_get(map, "z", 1, &v));
	sm_hashmap_free(map);
	free(mark);
}

static void test_empty_map_iteration(void **state)
{
	struct sm_hashmap *map = NULL;
	size_t pos = 0;

	(void)state;
	assert_int_equal(sm_hashmap_new(&map), 0);
	assert_false(sm_hashmap_next(map, &pos, NULL, NULL, NULL));
	sm_hashmap_clear(map);
	sm_hashmap_free(map);
}

static void test_alloc_fail(void **state)
{
	struct sm_hashmap *map = NULL;
	char key[64];
	size_t i, len;
	void *v;
	long n;

	(void)state;
	sm_alloc_fail_after(0);
	assert_int_equal(sm_hashmap_new(&map), -ENOMEM);
	sm_alloc_fail_after(-1);
	assert_null(map);

	assert_int_equal(sm_hashmap_new(&map), 0);
	/* fill up to a resize, then let each allocation of the next put fail */
	for (i = 0; i < 12; i++) {
		key_of(i, key, sizeof(key), &len);
		assert_int_equal(sm_hashmap_put(map, key, len, val_of(i), NULL), 0);
	}
	for (n = 0; n < 2; n++) {
		sm_alloc_fail_after(n);
		key_of(100, key, sizeof(key), &len);
		assert_int_equal(sm_hashmap_put(map, key, len, val_of(100), NULL), -ENOMEM);
		sm_alloc_fail_after(-1);
		assert_int_equal(sm_hashmap_size(map), 12);
		assert_false(sm_hashmap_get(map, key, len, &v));
		for (i = 0; i < 12; i++) {
			key_of(i, key, sizeof(key), &len);
			assert_true(sm_hashmap_get(map, key, len, &v));
			assert_ptr_equal(v, val_of(i));
		}
	}
	/* replacing needs no allocation */
	sm_alloc_fail_after(0);
	key_of(3, key, sizeof(key), &len);
	assert_int_equal(sm_hashmap_put(map, key, len, val_of(33), NULL), 0);
	sm_alloc_fail_after(-1);
	sm_hashmap_free(map);
}

static void test_hash_bytes(void **state)
{
	char buf[64];
	size_t n;
	uint64_t h[64];
	size_t i, j;

	(void)state;
	/* deterministic */
	assert_true(sm_hash_bytes("abc", 3) == sm_hash_bytes("abc", 3));
	assert_true(sm_hash_bytes("", 0) == sm_hash_bytes(NULL, 0));
	/* every length and one-byte change gives a different value */
	memset(buf, 'k', sizeof(buf));
	for (n = 0; n < SM_ARRAY_SIZE(h); n++)
		h[n] = sm_hash_bytes(buf, n);
	for (i = 0; i < SM_ARRAY_SIZE(h); i++)
		for (j = i + 1; j < SM_ARRAY_SIZE(h); j++)
			assert_true(h[i] != h[j]);
	for (n = 1; n < 40; n++) {
		for (i = 0; i < n; i++) {
			uint64_t a = sm_hash_bytes(buf, n), b;

			buf[i] ^= 1;
			b = sm_hash_bytes(buf, n);
			buf[i] ^= 1;
			assert_true(a != b);
		}
	}
	/* low bits spread: sequential keys fill 1024 buckets evenly */
	{
		unsigned counts[1024] = {0};
		unsigned max = 0;
		char key[32];

		for (i = 0; i < 102400; i++) {
			size_t len = (size_t)snprintf(key, sizeof(key), "k%zu", i);
			unsigned c = ++counts[sm_hash_bytes(key, len) & 1023];

			if (c > max)
				max = c;
		}
		assert_true(max < 160); /* mean 100 */
	}
}

static void test_fnv1a(void **state)
{
	(void)state;
	/* the published FNV-1a 64 test vectors */
	assert_true(sm_hash_fnv1a(SM_FNV1A_INIT, "", 0) == UINT64_C(0xcbf29ce484222325));
	assert_true(sm_hash_fnv1a(SM_FNV1A_INIT, "a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
	assert_true(sm_hash_fnv1a(SM_FNV1A_INIT, "foobar", 6) == UINT64_C(0x85944171f73967e8));
	/* chaining equals hashing the concatenation */
	assert_true(sm_hash_fnv1a(sm_hash_fnv1a(SM_FNV1A_INIT, "foo", 3), "bar", 3) ==
		    sm_hash_fnv1a(SM_FNV1A_INIT, "foobar", 6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_remove_during_iteration),
		cmocka_unit_test(test_empty_map_iteration),
		cmocka_unit_test(test_alloc_fail),
		cmocka_unit_test(test_hash_bytes),
		cmocka_unit_test(test_fnv1a),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
