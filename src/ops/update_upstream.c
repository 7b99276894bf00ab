/* SPDX-License-Identifier: MIT */
/* update of GitHub-sourced artifacts (skillmeat/ops_upstream.h). */
#include <errno.h>
#include <string.h>

#include "skillmeat/array.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_sync.h"
#include "skillmeat/ops_upstream.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

void sm_ops_upstream_report_release(struct sm_ops_upstream_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		sm_free(r->items[i].id);
		sm_free(r->items[i].error);
		sm_free(r->items[i].resolved_sha);
	}
	sm_free(r->items);
	memset(r, 0, sizeof(*r));
}

/*
 * "owner/repo[/path]@version" from an upstream
 * https://github.com/<owner>/<repo>/tree/<sha>[/<path>] and the version_spec.
 */
static int spec_of(const char *upstream, const char *version, struct strbuf *out)
{
	static const char pre[] = "https://github.com/";
	const char *s, *tree, *after;
	int r;

	if (strncmp(upstream, pre, strlen(pre)))
		return -EINVAL;
	s = upstream + strlen(pre);
	tree = strstr(s, "/tree/");
	if (!tree)
		return -EINVAL;
	after = strchr(tree + strlen("/tree/"), '/');
	if ((r = sm_strbuf_add(out, s, (size_t)(tree - s))) < 0 ||
	    (after && (r = sm_strbuf_addstr(out, after)) < 0))
		return r;
	return sm_strbuf_addf(out, "@%s", version && *version ? version : "latest");
}

static struct sm_ops_upstream_item *add_item(struct sm_ops_upstream_report *rep, const char *id)
{
	struct sm_ops_upstream_item *nv;

	if (SM_GROW(rep->items, rep->alloc, rep->n + 1) < 0)
		return NULL;
	nv = rep->items;
	memset(&nv[rep->n], 0, sizeof(*nv));
	nv[rep->n].id = sm_strdup(id);
	if (!nv[rep->n].id)
		return NULL;
	return &nv[rep->n++];
}

static int update_one(const struct sm_ops_ctx *ctx, struct sm_collection *c, size_t idx,
		      bool overwrite_local, struct sm_ops_upstream_report *rep, struct strbuf *err)
{
	const struct sm_toml_value *e = sm_manifest_at(c->manifest, idx);
	const char *name = sm_entry_name(e), *origin = sm_entry_str(e, "origin");
	const char *upstream = sm_entry_str(e, "upstream");
	enum sm_artifact_type type = sm_entry_type(e);
	struct strbuf id = STRBUF_INIT, spec = STRBUF_INIT, en = STRBUF_INIT;
	struct sm_ops_upstream_item *it;
	struct sm_view v = { 0 };
	char *nm = NULL;
	int r;

	r = sm_strbuf_addf(&id, "%s:%s", sm_artifact_type_name(type), name);
	if (r < 0 || !(it = add_item(rep, id.buf))) {
		r = sm_err(err, r < 0 ? r : -ENOMEM, "'%s': %s", name,
			   sm_strerror(r < 0 ? r : -ENOMEM));
		goto out;
	}
	r = sm_view_load(c, idx, &v, &en);
	if (r < 0 || !v.have_hash) {
		it->status = "failed";
		it->error = sm_strdup(en.len ? en.buf : "the artifact's files cannot be read");
		rep->failed++;
		r = 0;
		goto out;
	}
	if (!origin || strcmp(origin, "github")) {
		const char *lh = sm_lock_hash(c->lock, name, type);

		if (origin && !strcmp(origin, "local")) {
			it->status = "refreshed_local";
			if (!lh || strcmp(lh, v.hash)) {
				r = sm_lock_set(c->lock, name, type, v.hash, NULL, NULL, NULL);
				c->dirty = true;
				it->changed = r == 0;
			}
		} else {
			it->status = "no_upstream";
		}
		goto out;
	}
	if (!upstream || spec_of(upstream, sm_entry_str(e, "version_spec"), &spec) < 0) {
		it->status = "no_upstream";
		goto out;
	}
	if (v.locally_modified && !overwrite_local) {
		it->status = "local_changes_kept";
		goto out;
	}
	if (!rep->snapshot_id[0]) {
		r = sm_snapshot_create(ctx->home, c->name, "Before update", true,
				       sm_ops_snapshot_keep(ctx), rep->snapshot_id, err);
		if (r < 0)
			goto out;
	}
	nm = sm_strdup(name);
	if (!nm) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	{
		struct sm_add_opts o = { .type = type, .name = nm, .force = true };
		struct sm_add_result ar = { 0 };

		sm_strbuf_reset(&en);
		if (sm_collection_add_github(c, spec.buf, &o, &ar, &en) < 0) {
			it->status = "failed";
			it->error = sm_strdup(en.buf);
			rep->failed++;
		} else {
			long i = sm_manifest_find(c->manifest, type, nm);
			const char *sha = i >= 0 ? sm_entry_str(sm_manifest_at(c->manifest, (size_t)i),
								"resolved_sha")
						 : NULL;

			it->status = ar.status == SM_ADD_UNCHANGED ? "up_to_date" : "updated_github";
			it->changed = ar.status != SM_ADD_UNCHANGED;
			it->resolved_sha = sha ? sm_strdup(sha) : NULL;
		}
		sm_add_result_release(&ar);
	}
out:
	sm_view_release(&v);
	sm_free(nm);
	sm_strbuf_release(&id);
	sm_strbuf_release(&spec);
	sm_strbuf_release(&en);
	return r;
}

int sm_ops_update_upstream(const struct sm_ops_ctx *ctx, const char *collection, const char *const *ids,
		  size_t nids, bool overwrite_local, struct sm_ops_upstream_report *ret,
		  struct strbuf *err)
{
	struct sm_ops_upstream_report rep = { 0 };
	struct sm_collection *c = NULL;
	struct strbuf e = STRBUF_INIT;
	int r;

	r = sm_home_lock(ctx->home, err);
	if (r < 0)
		return r;
	r = sm_collection_open(ctx->home, collection, &c, err);
	if (r < 0)
		goto out;
	if (!nids) {
		size_t n = sm_manifest_count(c->manifest);

		for (size_t i = 0; i < n && r == 0; i++)
			r = update_one(ctx, c, i, overwrite_local, &rep, err);
	}
	for (size_t i = 0; i < nids && r == 0; i++) {
		long idx = sm_collection_resolve(c, ids[i], &e);

		if (idx < 0) {
			struct sm_ops_upstream_item *it = add_item(&rep, ids[i]);

			if (!it) {
				r = sm_err(err, -ENOMEM, "out of memory");
				break;
			}
			it->status = "failed";
			it->error = sm_strdup(e.buf);
			rep.failed++;
			continue;
		}
		r = update_one(ctx, c, (size_t)idx, overwrite_local, &rep, err);
	}
	if (r == 0)
		r = sm_collection_commit(c, err);
	if (r == 0 && ctx->cache) {
		struct sm_sync_stats st = { 0 };

		if (sm_cache_sync_open(ctx->cache, c, 0, &st, &e) < 0)
			sm_ops_warn(ctx, "the cache is behind the files: %s", e.buf);
		sm_sync_stats_release(&st);
	}
out:
	sm_home_unlock(ctx->home);
	if (r == 0)
		sm_ops_invalidate(ctx, NULL);
	sm_collection_free(c);
	sm_strbuf_release(&e);
	if (r < 0) {
		sm_ops_upstream_report_release(&rep);
		return r;
	}
	*ret = rep;
	return 0;
}
