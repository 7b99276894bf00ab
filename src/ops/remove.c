/* SPDX-License-Identifier: MIT */
/* Remove an artifact (skillmeat/ops.h): memberships, files, manifest and lock entries, index. */
#include <errno.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

void sm_ops_remove_result_release(struct sm_ops_remove_result *r)
{
	sm_free(r->name);
	sm_free(r->collection);
	memset(r, 0, sizeof(*r));
}

/*
 * Drop the members naming the artifact from f (in memory). Without an index
 * the memberships are left (a warning): they dangle harmlessly until
 * removed by hand. Returns the count dropped.
 */
static int drop_memberships(struct sm_ops_ctx *ctx, struct sm_collection *c,
			    enum sm_artifact_type type, const char *name,
			    struct sm_user_collections *f, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	struct strbuf key = STRBUF_INIT, ierr = STRBUF_INIT;
	struct sm_artifact_row row = { 0 };
	struct sm_sync_stats st = { 0 };
	struct sm_cache *cache;
	int r;

	if (!f->n)
		return 0;
	cache = t->ops->index(t, &ierr);
	if (!cache) {
		sm_ops_warn(ctx, "no metadata cache: user collections still name '%s'", name);
		r = 0;
		goto out;
	}
	/* the row of this artifact, up to date */
	if (t->ops->index_collection(t, c, 0, &st, &ierr) < 0)
		sm_ops_warn(ctx, "the metadata cache was not updated: %s", ierr.buf);
	r = sm_store_get_artifact_by_key(cache->store, c->name, sm_artifact_type_name(type), name,
					 &row, err);
	if (r == 0)
		r = sm_cache_artifact_key(cache, &row, &key, err);
	if (r == 0)
		r = sm_cache_drop_members(cache, f, row.uuid, key.buf, err);
	if (r < 0)
		sm_err_prefix(err, r, "cannot update the user collections");
out:
	sm_sync_stats_release(&st);
	sm_artifact_row_release(&row);
	sm_strbuf_release(&key);
	sm_strbuf_release(&ierr);
	return r;
}

/* A truth that is its own index (team mode): the store removes it, in one commit. */
static int remove_in_store(struct sm_ops_ctx *ctx, const struct sm_ops_remove *req,
			   struct sm_ops_remove_result *ret, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	const char *colon = strchr(req->id, ':');
	char *type = colon ? sm_strndup(req->id, (size_t)(colon - req->id)) : NULL;
	bool committed = false;
	int r;

	if (!colon || !req->collection)
		return sm_err(err, -EINVAL, "'%s': give collection and type:name", req->id);
	if (!type)
		return sm_err(err, -ENOMEM, "out of memory");
	ret->type = sm_artifact_type_parse(type);
	ret->name = sm_strdup(colon + 1);
	ret->collection = sm_strdup(req->collection);
	if (!ret->name || !ret->collection) {
		sm_free(type);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	if ((r = t->ops->lock(t, err)) < 0) {
		sm_free(type);
		return r;
	}
	if (req->confirm && !req->confirm(req->confirm_ud, type, ret->name, ret->collection)) {
		ret->cancelled = true;
		r = 0;
	} else {
		r = t->ops->remove_artifact(t, req->collection, type, colon + 1, &ret->dropped,
					    err);
		committed = r == 0;
		ret->index_changed = committed;
	}
	t->ops->unlock(t);
	if (committed)
		sm_ops_invalidate(ctx, NULL);
	sm_free(type);
	return r;
}

int sm_ops_remove(struct sm_ops_ctx *ctx, const struct sm_ops_remove *req,
		  struct sm_ops_remove_result *ret, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	struct sm_collection *c = NULL;
	struct sm_user_collections *f = NULL;
	struct sm_sync_stats st = { 0 };
	struct strbuf werr = STRBUF_INIT;
	const struct sm_toml_value *e;
	bool committed = false;
	long idx;
	int r, dropped = 0;

	memset(ret, 0, sizeof(*ret));
	if (t->ops->remove_artifact)
		return remove_in_store(ctx, req, ret, err);
	if ((r = t->ops->lock(t, err)) < 0)
		return r;
	if ((r = t->ops->open_collection(t, req->collection, &c, err)) < 0)
		goto unlock;
	idx = sm_collection_resolve(c, req->id, err);
	if (idx < 0) {
		r = (int)idx;
		goto unlock;
	}
	e = sm_manifest_at(c->manifest, (size_t)idx);
	ret->type = sm_entry_type(e);
	ret->name = sm_strdup(sm_entry_name(e));
	ret->collection = sm_strdup(c->name);
	if (!ret->name || !ret->collection) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto unlock;
	}
	if (req->confirm && !req->confirm(req->confirm_ud, sm_artifact_type_name(ret->type),
					  ret->name, c->name)) {
		ret->cancelled = true;
		r = 0;
		goto unlock;
	}
	/* its memberships go with it, committed in the same crash-safe step */
	if ((r = t->ops->load_user_collections(t, &f, err)) < 0)
		goto unlock;
	if ((r = dropped = drop_memberships(ctx, c, ret->type, ret->name, f, err)) < 0)
		goto unlock;
	if ((r = sm_collection_remove(c, (size_t)idx, req->keep_files, err)) < 0 ||
	    (r = t->ops->commit_collection(t, c, dropped > 0 ? f : NULL, err)) < 0)
		goto unlock;
	committed = true;
	ret->dropped = (size_t)dropped;
	if (t->ops->index_collection(t, c, 0, &st, &werr) < 0) {
		sm_ops_warn(ctx, "the metadata cache was not updated: %s", werr.buf);
		ret->index_changed = true;
	} else {
		ret->index_changed = st.created || st.updated || st.removed;
	}
	r = 0;
unlock:
	t->ops->unlock(t);
	if (committed)
		sm_ops_invalidate(ctx, NULL);
	sm_sync_stats_release(&st);
	sm_user_collections_free(f);
	sm_collection_free(c);
	sm_strbuf_release(&werr);
	return r;
}
