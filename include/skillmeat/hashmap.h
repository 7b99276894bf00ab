/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HASHMAP_H
#define SKILLMEAT_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Open-addressing hash table from byte-string keys to void * values. The map
 * copies keys; values are borrowed (the caller owns them). Not thread-safe.
 */
struct sm_hashmap;

int sm_hashmap_new(struct sm_hashmap **ret);
void sm_hashmap_free(struct sm_hashmap *map);
size_t sm_hashmap_size(const struct sm_hashmap *map);
/* Insert or replace; *old (if non-NULL) gets the replaced value or NULL. */
int sm_hashmap_put(struct sm_hashmap *map, const void *key, size_t keylen, void *value,
		   void **old);
/* Returns true and sets *value when found. */
bool sm_hashmap_get(const struct sm_hashmap *map, const void *key, size_t keylen,
		    void **value);
/* Returns true when something was removed; *value gets it. */
bool sm_hashmap_remove(struct sm_hashmap *map, const void *key, size_t keylen, void **value);
void sm_hashmap_clear(struct sm_hashmap *map);

/*
 * Iteration: start with *pos = 0; returns false at the end. Order is
 * unspecified. The map must not be modified during iteration, except removing
 * the current entry with sm_hashmap_remove. *key is the map's own copy (also
 * NUL-terminated after keylen bytes), valid until that entry is removed.
 */
bool sm_hashmap_next(const struct sm_hashmap *map, size_t *pos, const void **key,
		     size_t *keylen, void **value);

/* The hash used (for callers that keep their own tables). */
uint64_t sm_hash_bytes(const void *data, size_t len);

/*
 * FNV-1a over data, continuing from h (start with SM_FNV1A_INIT): for hashes
 * built from several fields, or stable across runs (statement caches, keys).
 */
#define SM_FNV1A_INIT UINT64_C(0xcbf29ce484222325)
uint64_t sm_hash_fnv1a(uint64_t h, const void *data, size_t len);

#endif
