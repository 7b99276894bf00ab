/* SPDX-License-Identifier: MIT */
/* The source of truth as files under SKILLMEAT_HOME + the SQLite index (skillmeat/truth.h). */
#include <errno.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/truth.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

static int files_lock(struct sm_truth *t, struct strbuf *err)
{
	int r;

	if (t->write_lock)
		t->write_lock(t->lock_ud);
	r = sm_home_lock(t->home, err);
	if (r < 0 && t->write_unlock)
		t->write_unlock(t->lock_ud);
	return r;
}

static void files_unlock(struct sm_truth *t)
{
	sm_home_unlock(t->home);
	if (t->write_unlock)
		t->write_unlock(t->lock_ud);
}

static int files_open_collection(struct sm_truth *t, const char *name, struct sm_collection **ret,
				 struct strbuf *err)
{
	return sm_collection_open(t->home, name, ret, err);
}

static int files_commit_collection(struct sm_truth *t, struct sm_collection *c,
				   struct sm_user_collections *uc, struct strbuf *err)
{
	(void)t;
	return sm_collection_commit_with(c, uc, err);
}

static int files_commit_manifest(struct sm_truth *t, struct sm_collection *c, struct strbuf *err)
{
	(void)t;
	return sm_manifest_save(c->manifest, 0, err);
}

static int files_load_uc(struct sm_truth *t, struct sm_user_collections **ret, struct strbuf *err)
{
	return sm_user_collections_load(t->home->root, ret, err);
}

static int files_save_uc(struct sm_truth *t, struct sm_user_collections *f, struct strbuf *err)
{
	(void)t;
	return sm_user_collections_save(f, err);
}

static struct sm_cache *files_index(struct sm_truth *t, struct strbuf *err)
{
	if (t->cache || t->cache_failed)
		goto out;
	if (sm_cache_open(t->home, &t->cache, err) < 0) {
		t->cache = NULL;
		t->cache_failed = true;
		sm_err_prefix(err, -EIO, "cannot open the metadata cache");
		goto out;
	}
	t->own_cache = true;
out:
	if (!t->cache && err && !err->len)
		sm_err(err, -EIO, "no metadata cache");
	return t->cache;
}

static int files_index_collection(struct sm_truth *t, struct sm_collection *c, unsigned flags,
				  struct sm_sync_stats *st, struct strbuf *err)
{
	struct sm_cache *cache = files_index(t, err);

	return cache ? sm_cache_sync_open(cache, c, flags, st, err) : -EIO;
}

static int files_index_uc(struct sm_truth *t, struct sm_sync_stats *st, struct strbuf *err)
{
	struct sm_cache *cache = files_index(t, err);

	return cache ? sm_cache_sync_user_collections(cache, st, err) : -EIO;
}

static int files_index_sync(struct sm_truth *t, const char *name, unsigned flags,
			    struct sm_sync_stats *st, struct strbuf *err)
{
	struct sm_cache *cache = files_index(t, err);

	return cache ? sm_cache_sync(cache, name, flags, st, err) : -EIO;
}

static const struct sm_truth_ops files_ops = {
	.lock = files_lock,
	.unlock = files_unlock,
	.open_collection = files_open_collection,
	.commit_collection = files_commit_collection,
	.commit_manifest = files_commit_manifest,
	.load_user_collections = files_load_uc,
	.save_user_collections = files_save_uc,
	.index = files_index,
	.index_collection = files_index_collection,
	.index_user_collections = files_index_uc,
	.index_sync = files_index_sync,
};

void sm_truth_files_init(struct sm_truth *t, struct sm_home *home, struct sm_cache *cache)
{
	memset(t, 0, sizeof(*t));
	t->ops = &files_ops;
	t->home = home;
	t->cache = cache;
}

void sm_truth_release(struct sm_truth *t)
{
	if (t->ops && t->ops->release)
		t->ops->release(t);
	if (t->own_cache)
		sm_cache_close(t->cache);
	t->cache = NULL;
	t->own_cache = false;
}
