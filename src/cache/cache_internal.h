/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CACHE_CACHE_INTERNAL_H
#define SKILLMEAT_CACHE_CACHE_INTERNAL_H

/* Shared by sync.c and heal.c: the cache's connection and one sync attempt. */

struct strbuf;
struct sm_cache;
struct sm_collection;
struct sm_sync_stats;

/* The cache's connection (store, then db) closed. */
void sm_cache_close_db(struct sm_cache *c);
/* Give c a private in-memory index (filled by the next sync); sets in_memory. */
int sm_cache_open_memory(struct sm_cache *c, struct strbuf *err);
/* One attempt of sm_cache_sync / sm_cache_sync_open, without recovery. */
int sm_cache_sync_once(struct sm_cache *cache, const char *collection, unsigned flags,
		       struct sm_sync_stats *stats, struct strbuf *err);
int sm_cache_sync_open_once(struct sm_cache *cache, struct sm_collection *coll, unsigned flags,
			    struct sm_sync_stats *stats, struct strbuf *err);

#endif
