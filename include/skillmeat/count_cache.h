/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_COUNT_CACHE_H
#define SKILLMEAT_COUNT_CACHE_H

/*
 * The collection count cache (spec/seeds/phase-4-caching-layer.md): an
 * in-memory map from user collection id to its member count, with a TTL
 * (default 300 s), lazy expiry on read, explicit invalidation, and counters
 * for metrics. Thread-safe: one mutex guards it, and nothing is called out
 * (clock, SQLite, logger) while it is held.
 *
 * Use (ARCHITECTURE.md §5):
 *   uint64_t gen;
 *   sm_count_cache_get(c, ids, n, counts, missing, &nmissing, &gen);
 *   ... one grouped COUNT query for the missing ids (sm_store_count_members) ...
 *   sm_count_cache_set(c, missing_ids, missing_counts, nmissing, gen);
 * and after every commit that changes membership, sm_count_cache_invalidate()
 * (or _invalidate_all() when another process committed).
 *
 * The generation token closes the read/invalidate race: a count read from
 * the DB before an invalidation of that id (or of everything) is not stored
 * by a set made after it, so nothing stale survives an invalidation.
 */

#include <stddef.h>
#include <stdint.h>

struct sm_count_cache;

#define SM_COUNT_CACHE_DEFAULT_TTL_MS ((int64_t)300 * 1000)
/* A generation token that always stores (use only for values known current). */
#define SM_COUNT_CACHE_ANY_GEN UINT64_MAX

/*
 * New empty cache. ttl_ms <= 0 means the default. clock_ms returns a
 * monotonic time in milliseconds (called with clock_ctx, never under the
 * lock); NULL means CLOCK_MONOTONIC. Tests inject a fake clock.
 * Returns 0 or -ENOMEM.
 */
int sm_count_cache_new(int64_t ttl_ms, int64_t (*clock_ms)(void *ctx), void *clock_ctx,
		       struct sm_count_cache **ret);

/* NULL is accepted. No other thread may use the cache any more. */
void sm_count_cache_free(struct sm_count_cache *c);

/*
 * Look up n ids. counts[i] gets the count of ids[i], or -1 when it is a miss
 * (absent, invalidated, or expired: an expired entry is removed now).
 * missing (may be NULL, else room for n) gets the indexes of the misses, in
 * order, and *nmissing (may be NULL) their number. *gen (may be NULL) gets the
 * token to pass to sm_count_cache_set() for counts read after this call.
 * Returns the number of hits.
 */
size_t sm_count_cache_get(struct sm_count_cache *c, const char *const *ids, size_t n,
			  int64_t *counts, size_t *missing, size_t *nmissing, uint64_t *gen);

/*
 * Store counts[i] for ids[i], stamped now, unless ids[i] (or everything) was
 * invalidated after the token gen was handed out. Returns the number stored,
 * or -ENOMEM (then nothing is stored). -EINVAL for a negative count.
 */
int sm_count_cache_set(struct sm_count_cache *c, const char *const *ids, const int64_t *counts,
		       size_t n, uint64_t gen);

/* Drop the entry of id (present or not). Returns 0 or -ENOMEM. */
int sm_count_cache_invalidate(struct sm_count_cache *c, const char *id);

/*
 * Drop every entry whose id starts with prefix (team mode: one tenant's,
 * "<tenant>\x1f"); the others stay. A set with a token from before this
 * call is refused for every id (ids of the prefix not in the map have no
 * mark to refuse it by).
 */
void sm_count_cache_invalidate_prefix(struct sm_count_cache *c, const char *prefix);

/* Drop every entry. */
void sm_count_cache_invalidate_all(struct sm_count_cache *c);

struct sm_count_cache_stats {
	size_t size; /* live entries, expired-but-unread ones included */
	int64_t ttl_ms;
	uint64_t hits;		/* per id looked up */
	uint64_t misses;	/* per id looked up, expirations included */
	uint64_t expirations;	/* entries found expired on read */
	uint64_t invalidations; /* invalidate and invalidate_all calls */
	uint64_t sets;		/* entries stored */
};

/* A consistent snapshot of the counters. */
void sm_count_cache_stats(struct sm_count_cache *c, struct sm_count_cache_stats *ret);

#endif
