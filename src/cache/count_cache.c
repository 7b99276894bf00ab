/* SPDX-License-Identifier: MIT */
/*
 * Collection count cache: the util hash map under one mutex. Entries are
 * live (count + stamp) or tombstones. An entry that was ever invalidated
 * keeps the generation of its last invalidation (until invalidate_all), so a
 * late set of a count read before that invalidation is refused.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "skillmeat/count_cache.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "skillmeat/timeutil.h"

#include "util/banned.h"

struct entry {
	struct entry *next; /* only while waiting to be freed outside the lock */
	int64_t count;
	int64_t stamp_ms;
	uint64_t inval_gen; /* generation of its last invalidation, 0 = none */
	bool live;
};

struct sm_count_cache {
	pthread_mutex_t lock;
	struct sm_hashmap *map; /* id → struct entry (live or tombstone) */
	size_t nlive;
	uint64_t gen;	  /* bumped by every invalidation */
	uint64_t all_gen; /* generation of the last invalidate_all */
	int64_t ttl_ms;
	int64_t (*clock_ms)(void *ctx);
	void *clock_ctx;
	struct sm_count_cache_stats st;
};

static int64_t mono_ms(void *ctx)
{
	(void)ctx;
	return sm_time_mono_ns() / 1000000;
}

int sm_count_cache_new(int64_t ttl_ms, int64_t (*clock_ms)(void *ctx), void *clock_ctx,
		       struct sm_count_cache **ret)
{
	struct sm_count_cache *c = sm_calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (sm_hashmap_new(&c->map) < 0) {
		sm_free(c);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&c->lock, NULL)) {
		sm_hashmap_free(c->map);
		sm_free(c);
		return -ENOMEM;
	}
	c->ttl_ms = ttl_ms > 0 ? ttl_ms : SM_COUNT_CACHE_DEFAULT_TTL_MS;
	c->clock_ms = clock_ms ? clock_ms : mono_ms;
	c->clock_ctx = clock_ctx;
	*ret = c;
	return 0;
}

static void free_chain(struct entry *e)
{
	while (e) {
		struct entry *next = e->next;

		sm_free(e);
		e = next;
	}
}

/* Empty the map into one chain (returned, to free outside the lock). */
static struct entry *take_all(struct sm_count_cache *c)
{
	struct entry *all = NULL;
	size_t pos = 0;
	const void *key;
	size_t keylen;
	void *v;

	while (sm_hashmap_next(c->map, &pos, &key, &keylen, &v)) {
		struct entry *e = v;

		e->next = all;
		all = e;
	}
	sm_hashmap_clear(c->map);
	c->nlive = 0;
	return all;
}

void sm_count_cache_free(struct sm_count_cache *c)
{
	if (!c)
		return;
	free_chain(take_all(c));
	sm_hashmap_free(c->map);
	pthread_mutex_destroy(&c->lock);
	sm_free(c);
}

static struct entry *find(struct sm_count_cache *c, const char *key)
{
	void *v;

	return sm_hashmap_get(c->map, key, strlen(key), &v) ? v : NULL;
}

size_t sm_count_cache_get(struct sm_count_cache *c, const char *const *ids, size_t n,
			  int64_t *counts, size_t *missing, size_t *nmissing, uint64_t *gen)
{
	int64_t now = c->clock_ms(c->clock_ctx);
	struct entry *expired = NULL;
	size_t hits = 0, nmiss = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = find(c, ids[i]);

		counts[i] = -1;
		if (e && e->live && now - e->stamp_ms < c->ttl_ms) {
			counts[i] = e->count;
			hits++;
			continue;
		}
		if (e && e->live) {
			c->nlive--;
			c->st.expirations++;
			if (e->inval_gen) {
				/* keep the invalidation mark for late sets */
				e->live = false;
			} else {
				/* lazy expiry: unlink now, free after unlocking */
				sm_hashmap_remove(c->map, ids[i], strlen(ids[i]), NULL);
				e->next = expired;
				expired = e;
			}
		}
		if (missing)
			missing[nmiss] = i;
		nmiss++;
	}
	c->st.hits += hits;
	c->st.misses += nmiss;
	if (gen)
		*gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	free_chain(expired);
	if (nmissing)
		*nmissing = nmiss;
	return hits;
}

int sm_count_cache_set(struct sm_count_cache *c, const char *const *ids, const int64_t *counts,
		       size_t n, uint64_t gen)
{
	int64_t now = c->clock_ms(c->clock_ctx);
	struct entry **fresh;
	int stored = 0, r = 0;

	for (size_t i = 0; i < n; i++) {
		if (counts[i] < 0)
			return -EINVAL;
	}
	if (n == 0)
		return 0;
	/* allocate the entries outside the lock; the unused ones are freed after it */
	fresh = sm_calloc(n, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		fresh[i] = sm_calloc(1, sizeof(*fresh[i]));
		if (!fresh[i]) {
			for (size_t j = 0; j < i; j++)
				sm_free(fresh[j]);
			sm_free(fresh);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&c->lock);
	if (gen == SM_COUNT_CACHE_ANY_GEN || gen >= c->all_gen) {
		/*
		 * First every missing id gets an entry (not live: a miss until
		 * stored), so a failed insert leaves nothing stored.
		 */
		for (size_t i = 0; r == 0 && i < n; i++) {
			if (!find(c, ids[i]) &&
			    (r = sm_hashmap_put(c->map, ids[i], strlen(ids[i]), fresh[i], NULL)) == 0)
				fresh[i] = NULL;
		}
		for (size_t i = 0; r == 0 && i < n; i++) {
			struct entry *e = find(c, ids[i]);

			if (gen != SM_COUNT_CACHE_ANY_GEN && e->inval_gen > gen)
				continue; /* invalidated after the caller's read */
			if (!e->live)
				c->nlive++;
			e->live = true;
			e->count = counts[i];
			e->stamp_ms = now;
			stored++;
		}
		c->st.sets += (uint64_t)stored;
	}
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++)
		sm_free(fresh[i]);
	sm_free(fresh);
	return r < 0 ? -ENOMEM : stored;
}

int sm_count_cache_invalidate(struct sm_count_cache *c, const char *id)
{
	struct entry *fresh = sm_calloc(1, sizeof(*fresh));
	struct entry *e, *all = NULL;

	if (!fresh)
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	c->gen++;
	c->st.invalidations++;
	e = find(c, id);
	if (!e) {
		if (sm_hashmap_put(c->map, id, strlen(id), fresh, NULL) == 0) {
			e = TAKE_PTR(fresh);
		} else {
			/* no room for the mark: drop everything, refuse older sets */
			c->all_gen = c->gen;
			all = take_all(c);
		}
	} else if (e->live) {
		c->nlive--;
	}
	if (e) {
		e->live = false;
		e->inval_gen = c->gen;
	}
	pthread_mutex_unlock(&c->lock);
	free_chain(all);
	sm_free(fresh);
	return 0;
}

void sm_count_cache_invalidate_all(struct sm_count_cache *c)
{
	struct entry *all;

	pthread_mutex_lock(&c->lock);
	c->gen++;
	c->all_gen = c->gen;
	c->st.invalidations++;
	all = take_all(c);
	pthread_mutex_unlock(&c->lock);
	free_chain(all);
}

void sm_count_cache_invalidate_prefix(struct sm_count_cache *c, const char *prefix)
{
	size_t plen = strlen(prefix), pos = 0;
	const void *key;
	size_t keylen;
	void *v;

	pthread_mutex_lock(&c->lock);
	c->gen++;
	/* ids of the prefix not in the map have no mark: refuse every older set */
	c->all_gen = c->gen;
	c->st.invalidations++;
	while (sm_hashmap_next(c->map, &pos, &key, &keylen, &v)) {
		struct entry *e = v;

		if (keylen < plen || memcmp(key, prefix, plen) != 0)
			continue;
		if (e->live)
			c->nlive--;
		/* the mark stays (no allocation here): a late set of an older read is refused */
		e->live = false;
		e->inval_gen = c->gen;
	}
	pthread_mutex_unlock(&c->lock);
}

void sm_count_cache_stats(struct sm_count_cache *c, struct sm_count_cache_stats *ret)
{
	pthread_mutex_lock(&c->lock);
	*ret = c->st;
	ret->size = c->nlive;
	ret->ttl_ms = c->ttl_ms;
	pthread_mutex_unlock(&c->lock);
}
