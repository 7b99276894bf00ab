/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CACHE_CACHE_INTERNAL_H
#define SKILLMEAT_CACHE_CACHE_INTERNAL_H

/* Shared by sync.c and heal.c: the cache's connection and one sync attempt. */

#include <stdint.h>

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

/*
 * fingerprint.c: the files part of the fingerprint of path (relative to dfd,
 * or absolute) into out; with walk, a folder's record too (left empty when it
 * cannot be trusted: a racy folder, a link, a single file).
 */
int sm_fingerprint_files(int dfd, const char *path, struct strbuf *out, int64_t *nfiles,
			 int64_t *total, int64_t *newest_ns, struct strbuf *walk, struct strbuf *err);
/*
 * The files part again from a record: 1 with out written when every recorded
 * folder is as recorded and every recorded file a regular file; 0 when the
 * folders must be read (sm_fingerprint_files).
 */
int sm_fingerprint_from_walk(int dfd, const char *path, const char *walk, struct strbuf *out);

#endif
