/* SPDX-License-Identifier: MIT */
/* Update one manifest entry: user tags and metadata fields (skillmeat/ops.h). */
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
#include "skillmeat/toml.h"
#include "util/banned.h"

void sm_ops_update_result_release(struct sm_ops_update_result *r)
{
	sm_free(r->current_revision);
	memset(r, 0, sizeof(*r));
}

/* The precondition against the artifact's row as the files are now. */
static int check(struct sm_ops_ctx *ctx, const struct sm_ops_update *req, struct sm_collection *c,
		 size_t idx, struct sm_ops_update_result *ret, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	const struct sm_toml_value *e = sm_manifest_at(c->manifest, idx);
	struct sm_sync_stats st = { 0 };
	struct sm_artifact_row row = { 0 };
	struct sm_cache *cache;
	int r;

	if (!(cache = t->ops->index(t, err)))
		return -EIO;
	r = t->ops->index_collection(t, c, 0, &st, err);
	if (r >= 0)
		r = sm_store_get_artifact_by_key(cache->store, c->name,
						 sm_artifact_type_name(sm_entry_type(e)),
						 sm_entry_name(e), &row, err);
	if (r >= 0 && row.row_hash && !req->precondition(req->precondition_ud, row.row_hash)) {
		ret->conflict = true;
		if (!(ret->current_revision = sm_strdup(row.row_hash)))
			r = sm_err(err, -ENOMEM, "out of memory");
	}
	sm_artifact_row_release(&row);
	sm_sync_stats_release(&st);
	return r < 0 ? r : 0;
}

/* A metadata change asked of an entry whose 'metadata' is not a table (a hand edit). */
static bool metadata_unwritable(const struct sm_toml_value *e, const struct sm_entry_update *u)
{
	const struct sm_toml_value *m = sm_toml_get(e, "metadata");

	if (!m || sm_toml_type(m) == SM_TOML_TABLE)
		return false;
	for (size_t i = 0; i < SM_ENTRY_NMETA; i++)
		if (u->meta_op[i] != SM_ENTRY_KEEP)
			return true;
	return false;
}

int sm_ops_update(struct sm_ops_ctx *ctx, const struct sm_ops_update *req,
		  struct sm_ops_update_result *ret, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	struct sm_collection *c = NULL;
	struct sm_toml_value *e = NULL;
	struct sm_sync_stats st = { 0 };
	struct strbuf ierr = STRBUF_INIT;
	long idx;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = t->ops->lock(t, err)) < 0)
		return r;
	if ((r = t->ops->open_collection(t, req->collection, &c, err)) < 0)
		goto out;
	if ((idx = sm_collection_resolve(c, req->id, err)) < 0) {
		r = (int)idx;
		goto out;
	}
	if (req->precondition && ((r = check(ctx, req, c, (size_t)idx, ret, err)) < 0 ||
				  ret->conflict))
		goto out;
	if (metadata_unwritable(sm_manifest_at(c->manifest, (size_t)idx), &req->change)) {
		/* the user's value stays as written: no guessing what it meant */
		r = sm_err(err, -EBADMSG, "'%s': artifact '%s': 'metadata' is not a table",
			   c->manifest->path, req->id);
		goto out;
	}
	if (!(e = sm_entry_updated(sm_manifest_at(c->manifest, (size_t)idx), &req->change))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (!sm_toml_equal(e, sm_manifest_at(c->manifest, (size_t)idx), true)) {
		r = sm_manifest_replace(c->manifest, (size_t)idx, e);
		e = NULL;
		if (r < 0 || (r = t->ops->commit_manifest(t, c, err)) < 0)
			goto out;
		ret->changed = true;
	}
	/* the index follows the files (also when nothing changed: the answer is read from it) */
	if ((ret->changed || !req->precondition) &&
	    t->ops->index_collection(t, c, 0, &st, &ierr) < 0)
		sm_ops_warn(ctx, "the metadata cache was not updated: %s", ierr.buf);
	r = 0;
out:
	t->ops->unlock(t);
	if (ret->changed)
		sm_ops_invalidate(ctx, NULL);
	sm_toml_free(e);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&ierr);
	sm_collection_free(c);
	return r;
}
