/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "util/banned.h"

/*
 * Linear probing with tombstones. Removal only marks a slot, never moves
 * entries, which is what lets an iterator remove the current entry. Occupied
 * plus tombstone slots stay at most 3/4 of the table, so a probe always ends
 * at an empty slot.
 */

#define MIN_CAP 16

static char tombstone_key[1];
#define TOMBSTONE tombstone_key

struct slot {
	char *key; /* NULL: empty; TOMBSTONE: removed; else a copy, NUL-terminated */
	size_t keylen;
	uint64_t hash;
	void *value;
};

struct sm_hashmap {
	struct slot *slots;
	size_t cap; /* power of two, or 0 before the first put */
	size_t size;
	size_t tombs;
};

static inline uint64_t rd64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* 64x64 → 128 multiply, folded: the mixing step of multiply-based hashes. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t sm_hash_fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

uint64_t sm_hash_bytes(const void *data, size_t len)
{
	static const uint64_t k0 = 0x9e3779b97f4a7c15ULL, k1 = 0xbf58476d1ce4e5b9ULL,
			      k2 = 0x94d049bb133111ebULL;
	const unsigned char *p = data;
	uint64_t h = k0 ^ ((uint64_t)len * k1);
	size_t n = len;

	while (n >= 16) {
		h = fold_mul(rd64(p) ^ k1, rd64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	if (n >= 8) {
		h = fold_mul(rd64(p) ^ k2, h ^ k1);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t a, b;

		if (n >= 4) {
			a = rd32(p);
			b = rd32(p + n - 4);
		} else {
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
			b = 0;
		}
		h = fold_mul(a ^ k2, b ^ h ^ k0);
	}
	/* final avalanche (splitmix64's finaliser) */
	h ^= h >> 30;
	h *= k1;
	h ^= h >> 27;
	h *= k2;
	h ^= h >> 31;
	return h;
}

int sm_hashmap_new(struct sm_hashmap **ret)
{
	struct sm_hashmap *map = sm_calloc(1, sizeof(*map));

	if (!map)
		return -ENOMEM;
	*ret = map;
	return 0;
}

void sm_hashmap_clear(struct sm_hashmap *map)
{
	size_t i;

	if (!map || !map->slots)
		return;
	for (i = 0; i < map->cap; i++) {
		if (map->slots[i].key != TOMBSTONE)
			sm_free(map->slots[i].key);
	}
	memset(map->slots, 0, map->cap * sizeof(*map->slots));
	map->size = 0;
	map->tombs = 0;
}

void sm_hashmap_free(struct sm_hashmap *map)
{
	if (!map)
		return;
	sm_hashmap_clear(map);
	sm_free(map->slots);
	sm_free(map);
}

size_t sm_hashmap_size(const struct sm_hashmap *map)
{
	return map->size;
}

static inline int is_live(const struct slot *s)
{
	return s->key && s->key != TOMBSTONE;
}

/* The slot holding key, or NULL. */
static struct slot *find(const struct sm_hashmap *map, const void *key, size_t keylen,
			 uint64_t hash)
{
	size_t mask = map->cap - 1, i;

	if (!map->cap)
		return NULL;
	for (i = (size_t)hash & mask;; i = (i + 1) & mask) {
		struct slot *s = &map->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != TOMBSTONE && s->hash == hash && s->keylen == keylen &&
		    (!keylen || !memcmp(s->key, key, keylen)))
			return s;
	}
}

static int resize(struct sm_hashmap *map, size_t cap)
{
	struct slot *slots = sm_calloc(cap, sizeof(*slots));
	size_t i, mask = cap - 1;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < map->cap; i++) {
		struct slot *s = &map->slots[i];
		size_t j;

		if (!is_live(s))
			continue;
		for (j = (size_t)s->hash & mask; slots[j].key; j = (j + 1) & mask)
			;
		slots[j] = *s;
	}
	sm_free(map->slots);
	map->slots = slots;
	map->cap = cap;
	map->tombs = 0;
	return 0;
}

/* Room for one more entry, keeping used slots at most 3/4 of the table. */
static int reserve_one(struct sm_hashmap *map)
{
	size_t cap;

	if (map->cap && (map->size + map->tombs + 1) * 4 <= map->cap * 3)
		return 0;
	/* size the table for the live entries; tombstones are dropped */
	cap = map->cap ? map->cap : MIN_CAP;
	while ((map->size + 1) * 2 > cap) {
		if (cap > SIZE_MAX / 2 / sizeof(struct slot))
			return -ENOMEM;
		cap *= 2;
	}
	return resize(map, cap);
}

int sm_hashmap_put(struct sm_hashmap *map, const void *key, size_t keylen, void *value, void **old)
{
	uint64_t hash = sm_hash_bytes(key, keylen);
	struct slot *s = find(map, key, keylen, hash);
	char *copy;
	size_t mask, i;
	int r;

	if (s) {
		if (old)
			*old = s->value;
		s->value = value;
		return 0;
	}
	copy = sm_memdup0(keylen ? key : "", keylen);
	if (!copy)
		return -ENOMEM;
	r = reserve_one(map);
	if (r < 0) {
		sm_free(copy);
		return r;
	}
	mask = map->cap - 1;
	for (i = (size_t)hash & mask; is_live(&map->slots[i]); i = (i + 1) & mask)
		;
	s = &map->slots[i];
	if (s->key == TOMBSTONE)
		map->tombs--;
	s->key = copy;
	s->keylen = keylen;
	s->hash = hash;
	s->value = value;
	map->size++;
	if (old)
		*old = NULL;
	return 0;
}

bool sm_hashmap_get(const struct sm_hashmap *map, const void *key, size_t keylen, void **value)
{
	struct slot *s = find(map, key, keylen, sm_hash_bytes(key, keylen));

	if (!s)
		return false;
	if (value)
		*value = s->value;
	return true;
}

bool sm_hashmap_remove(struct sm_hashmap *map, const void *key, size_t keylen, void **value)
{
	struct slot *s = find(map, key, keylen, sm_hash_bytes(key, keylen));

	if (!s)
		return false;
	if (value)
		*value = s->value;
	sm_free(s->key);
	s->key = TOMBSTONE;
	s->keylen = 0;
	s->value = NULL;
	map->size--;
	map->tombs++;
	/* nothing left: forget the tombstones too (no entry moves, iteration stays valid) */
	if (!map->size) {
		memset(map->slots, 0, map->cap * sizeof(*map->slots));
		map->tombs = 0;
	}
	return true;
}

bool sm_hashmap_next(const struct sm_hashmap *map, size_t *pos, const void **key, size_t *keylen,
		     void **value)
{
	size_t i;

	for (i = *pos; i < map->cap; i++) {
		const struct slot *s = &map->slots[i];

		if (!is_live(s))
			continue;
		if (key)
			*key = s->key;
		if (keylen)
			*keylen = s->keylen;
		if (value)
			*value = s->value;
		*pos = i + 1;
		return true;
	}
	*pos = map->cap;
	return false;
}
