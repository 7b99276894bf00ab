/* SPDX-License-Identifier: MIT */
/*
 * The cache repairs itself (docs/cli.md, "The cache heals itself"): a
 * corrupt index is rebuilt from the files and copied over the damaged file;
 * a sync that meets a full disk moves a one-shot cache to an in-memory index.
 */
#include <errno.h>

#include "skillmeat/cache.h"
#include "skillmeat/db.h"
#include "skillmeat/error.h"
#include "skillmeat/log.h"
#include "skillmeat/strbuf.h"
#include "cache/cache_internal.h"
#include "util/banned.h"

/*
 * After a sync failed: repair what the cache's connection met. A corrupt
 * index is rebuilt from the files; a full disk moves a cache that may
 * (memory_fallback) to an in-memory index. Returns 1 when the sync should run
 * again, 0 when nothing could be done, or a negative errno.
 */
static int recover(struct sm_cache *c, int r, struct strbuf *err)
{
	unsigned t = sm_db_trouble(c->db);
	int h;

	if (c->in_memory)
		return 0;
	if (t & SM_DB_CORRUPT) {
		h = sm_cache_heal(c, err);
		return h < 0 ? h : 1;
	}
	if (((t & SM_DB_FULL) || r == -ENOSPC) && c->memory_fallback) {
		struct strbuf path = STRBUF_INIT;

		if (sm_cache_db_path(c->home, &path) == 0)
			sm_log_warn("cache: no space left for '%s' (%s): answering from an "
				    "in-memory index",
				    path.buf, err && err->len ? err->buf : sm_strerror(r));
		sm_strbuf_release(&path);
		sm_cache_close_db(c);
		c->no_space = true;
		if (err)
			sm_strbuf_reset(err);
		h = sm_cache_open_memory(c, err);
		return h < 0 ? h : 1;
	}
	return 0;
}

int sm_cache_sync(struct sm_cache *cache, const char *collection, unsigned flags,
		  struct sm_sync_stats *stats, struct strbuf *err)
{
	int r = sm_cache_sync_once(cache, collection, flags, stats, err);

	if (r < 0 && recover(cache, r, err) > 0) {
		sm_sync_stats_release(stats);
		r = sm_cache_sync_once(cache, collection, flags, stats, err);
	}
	return r;
}

int sm_cache_sync_open(struct sm_cache *cache, struct sm_collection *coll, unsigned flags,
		       struct sm_sync_stats *stats, struct strbuf *err)
{
	int r = sm_cache_sync_open_once(cache, coll, flags, stats, err);

	if (r < 0 && recover(cache, r, err) > 0) {
		sm_sync_stats_release(stats);
		r = sm_cache_sync_once(cache, NULL, flags & ~(unsigned)SM_SYNC_REBUILD, stats, err);
	}
	return r;
}

int sm_cache_heal(struct sm_cache *c, struct strbuf *err)
{
	struct sm_cache tmp = { .home = c->home, .stale_ttl_ms = c->stale_ttl_ms };
	struct sm_sync_stats st = { 0 };
	struct strbuf why = STRBUF_INIT, path = STRBUF_INIT;
	int r;

	if (c->in_memory || !c->db)
		return sm_err(err, -EBADMSG, "the %s cache is damaged",
			      c->in_memory ? "in-memory" : "team");
	if (sm_db_repaired_since(c->db)) {
		/* another connection of this process (a server's loop, its refresher) did it */
		sm_db_clear_trouble(c->db);
		return 0;
	}
	if (sm_strbuf_addstr(&why, *sm_db_trouble_message(c->db) ? sm_db_trouble_message(c->db)
				   : err && err->len			 ? err->buf
									 : "corrupt") < 0)
		sm_strbuf_reset(&why);
	if (err)
		sm_strbuf_reset(err);
	/*
	 * The index rebuilt from the files in memory (deployments included),
	 * then copied over the damaged one.
	 */
	r = sm_cache_open_memory(&tmp, err);
	tmp.in_memory = false;
	if (r == 0)
		r = sm_cache_sync_once(&tmp, NULL, SM_SYNC_DEPLOYMENTS, &st, err);
	if (r == 0)
		r = sm_db_replace(c->db, tmp.db, err);
	if (r == 0 && sm_cache_db_path(c->home, &path) == 0)
		sm_log_warn("cache: '%s' is corrupt (%s): rebuilt from the files", path.buf,
			    why.buf);
	sm_cache_close_db(&tmp);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&why);
	sm_strbuf_release(&path);
	return r < 0 ? r : 0;
}
