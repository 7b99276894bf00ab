/* SPDX-License-Identifier: MIT */
/*
 * Collection count cache: a chained hash table under one mutex. Entries are
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
#include "skillmeat/memory.h"

#include "util/banned.h"

struct entry {
	struct entry *next;
	uint64_t hash;
	int64_t count;
	int64_t stamp_ms;
	uint64_t inval_gen; /* generation of its last invalidation, 0 = none */
	bool live;
	char key[];
};

struct sm_count_cache {
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t nbuckets; /* power of two */
	size_t nentries; /* live and tombstones */
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
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

int sm_count_cache_new(int64_t ttl_ms, int64_t (*clock_ms)(void *ctx), void *clock_ctx,
		       struct sm_count_cache **ret)
{
	struct sm_count_cache *c = sm_calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->nbuckets = 16;
	c->buckets = sm_calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		sm_free(c);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&c->lock, NULL)) {
		sm_free(c->buckets);
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

/* Unlink every entry into one chain (returned, to free outside the lock). */
static struct entry *take_all(struct sm_count_cache *c)
{
	struct entry *all = NULL;

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry *e = c->buckets[i];

		while (e) {
			struct entry *next = e->next;

			e->next = all;
			all = e;
			e = next;
		}
		c->buckets[i] = NULL;
	}
	c->nentries = 0;
	c->nlive = 0;
	return all;
}

void sm_count_cache_free(struct sm_count_cache *c)
{
	if (!c)
		return;
	free_chain(take_all(c));
	sm_free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	sm_free(c);
}

static struct entry **find(struct sm_count_cache *c, const char *key, uint64_t hash)
{
	struct entry **p = &c->buckets[hash & (c->nbuckets - 1)];

	for (; *p; p = &(*p)->next) {
		if ((*p)->hash == hash && !strcmp((*p)->key, key))
			return p;
	}
	return p;
}

static struct entry *new_entry(const char *key)
{
	size_t len = strlen(key);
	struct entry *e = sm_malloc(sizeof(*e) + len + 1);

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, len + 1);
	e->hash = hash_str(key);
	return e;
}

/* Double the table when it is full; a failed grow only costs speed. */
static void maybe_grow(struct sm_count_cache *c)
{
	size_t n = c->nbuckets * 2;
	struct entry **b;

	if (c->nentries < c->nbuckets)
		return;
	b = sm_calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry *e = c->buckets[i];

		while (e) {
			struct entry *next = e->next;
			struct entry **slot = &b[e->hash & (n - 1)];

			e->next = *slot;
			*slot = e;
			e = next;
		}
	}
	sm_free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static void insert(struct sm_count_cache *c, struct entry **slot, struct entry *e)
{
	e->next = *slot;
	*slot = e;
	c->nentries++;
}

size_t sm_count_cache_get(struct sm_count_cache *c, const char *const *ids, size_t n,
			  int64_t *counts, size_t *missing, size_t *nmissing, uint64_t *gen)
{
	int64_t now = c->clock_ms(c->clock_ctx);
	struct entry *expired = NULL;
	size_t hits = 0, nmiss = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		struct entry **p = find(c, ids[i], hash_str(ids[i]));
		struct entry *e = *p;

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
				*p = e->next;
				e->next = expired;
				expired = e;
				c->nentries--;
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
	int stored = 0;

	for (size_t i = 0; i < n; i++) {
		if (counts[i] < 0)
			return -EINVAL;
	}
	if (n == 0)
		return 0;
	/* allocate outside the lock; the unused ones are freed after it */
	fresh = sm_calloc(n, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		fresh[i] = new_entry(ids[i]);
		if (!fresh[i]) {
			for (size_t j = 0; j < i; j++)
				sm_free(fresh[j]);
			sm_free(fresh);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&c->lock);
	if (gen == SM_COUNT_CACHE_ANY_GEN || gen >= c->all_gen) {
		for (size_t i = 0; i < n; i++) {
			struct entry **p = find(c, ids[i], fresh[i]->hash);
			struct entry *e = *p;

			if (e && gen != SM_COUNT_CACHE_ANY_GEN && e->inval_gen > gen)
				continue; /* invalidated after the caller's read */
			if (!e) {
				e = TAKE_PTR(fresh[i]);
				insert(c, p, e);
			}
			if (!e->live)
				c->nlive++;
			e->live = true;
			e->count = counts[i];
			e->stamp_ms = now;
			stored++;
		}
		c->st.sets += (uint64_t)stored;
		maybe_grow(c);
	}
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++)
		sm_free(fresh[i]);
	sm_free(fresh);
	return stored;
}

int sm_count_cache_invalidate(struct sm_count_cache *c, const char *id)
{
	struct entry *fresh = new_entry(id);
	struct entry **p, *e;

	if (!fresh)
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	c->gen++;
	c->st.invalidations++;
	p = find(c, id, fresh->hash);
	e = *p;
	if (!e) {
		e = TAKE_PTR(fresh);
		insert(c, p, e);
		maybe_grow(c);
	} else if (e->live) {
		c->nlive--;
	}
	e->live = false;
	e->inval_gen = c->gen;
	pthread_mutex_unlock(&c->lock);
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

void sm_count_cache_stats(struct sm_count_cache *c, struct sm_count_cache_stats *ret)
{
	pthread_mutex_lock(&c->lock);
	*ret = c->st;
	ret->size = c->nlive;
	ret->ttl_ms = c->ttl_ms;
	pthread_mutex_unlock(&c->lock);
}
