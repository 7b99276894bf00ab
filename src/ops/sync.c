/* SPDX-License-Identifier: MIT */
/* sync-pull, snapshot and rollback as operations (skillmeat/ops_sync.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skillmeat/array.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/merge.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_deploy.h"
#include "skillmeat/ops_sync.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

#define MERGE_BASE_SEARCH 100

int sm_sync_strategy_parse(const char *s, enum sm_sync_strategy *ret)
{
	if (!strcmp(s, "overwrite"))
		*ret = SM_SYNC_OVERWRITE;
	else if (!strcmp(s, "merge"))
		*ret = SM_SYNC_MERGE;
	else if (!strcmp(s, "fork"))
		*ret = SM_SYNC_FORK;
	else
		return -EINVAL;
	return 0;
}

long sm_ops_snapshot_keep(const struct sm_ops_ctx *ctx)
{
	return (long)sm_config_int(ctx->home, "snapshot.keep", 20);
}

void sm_ops_sync_report_release(struct sm_ops_sync_report *r)
{
	if (!r)
		return;
	sm_strv_free(r->synced, r->nsynced);
	for (size_t i = 0; i < r->nconflicts; i++) {
		sm_free(r->conflicts[i].artifact_name);
		sm_free(r->conflicts[i].error);
		sm_strv_free(r->conflicts[i].files, r->conflicts[i].nfiles);
	}
	sm_free(r->conflicts);
	sm_free(r->project);
	memset(r, 0, sizeof(*r));
}

static void cache_after(const struct sm_ops_ctx *ctx, struct sm_collection *c)
{
	struct sm_sync_stats st = { 0 };
	struct strbuf e = STRBUF_INIT;

	if (ctx->cache && sm_cache_sync_open(ctx->cache, c, 0, &st, &e) < 0)
		sm_ops_warn(ctx, "the cache is behind the files (next read repairs it): %s", e.buf);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&e);
}

/* Leftovers of killed runs beside path. */
static void sm_deploy_cleanup_dir_of(const char *path)
{
	struct strbuf d = STRBUF_INIT;
	const char *slash = strrchr(path, '/');

	if (slash && sm_strbuf_add(&d, path, (size_t)(slash - path)) == 0)
		sm_deploy_cleanup_dir(d.buf);
	sm_strbuf_release(&d);
}

/*
 * The copy of rel in the newest snapshot whose copy hashes to want,
 * extracted into dest. -ENOENT when none of the last 100 holds it.
 */
static int find_base(struct sm_home *home, const char *coll, const char *rel, const char *want,
		     const char *dest)
{
	struct sm_snapshot_list l = { 0 };
	struct strbuf tar = STRBUF_INIT;
	char h[SM_SHA256_HEX_LEN + 1];
	int r = -ENOENT;

	if (sm_snapshot_list(home, coll, &l, NULL) < 0)
		return -ENOENT;
	for (size_t i = 0; i < l.len && i < MERGE_BASE_SEARCH; i++) {
		sm_strbuf_reset(&tar);
		if (sm_strbuf_addf(&tar, "%s/snapshots/%s/%s.tar.gz", home->root, coll,
				   l.items[i].id) < 0)
			break;
		if (sm_snapshot_extract(tar.buf, rel, dest, NULL) < 0)
			continue;
		if (sm_deploy_source_hash(dest, h, NULL) == 0 && !strcmp(h, want)) {
			r = 0;
			break;
		}
		(void)sm_fs_remove_tree(dest, NULL);
	}
	sm_snapshot_list_release(&l);
	sm_strbuf_release(&tar);
	return r;
}

static int push_synced(struct sm_ops_sync_report *rep, const char *s)
{
	if (SM_GROW(rep->synced, rep->synced_alloc, rep->nsynced + 1) < 0 ||
	    !(rep->synced[rep->nsynced] = sm_strdup(s)))
		return -ENOMEM;
	rep->nsynced++;
	return 0;
}

/* The record's new baseline: the project copy's hash (it is what the collection now holds). */
static int rebase_record(struct sm_toml_value *rec, const char *hash)
{
	struct sm_toml_value *lin = sm_toml_get(rec, "version_lineage");
	int r = 0;

	if (sm_toml_get(rec, "content_hash"))
		r = sm_toml_set_string(rec, "content_hash", hash);
	if (r == 0 && sm_toml_get(rec, "collection_sha"))
		r = sm_toml_set_string(rec, "collection_sha", hash);
	if (r == 0 && sm_toml_get(rec, "merge_base_snapshot"))
		r = sm_toml_set_string(rec, "merge_base_snapshot", hash);
	if (r == 0 && lin && lin->type == SM_TOML_ARRAY)
		r = sm_toml_push(lin, sm_toml_new_string(hash));
	return r;
}

/* "<dir>/.<base><tag><pid>" beside path: hidden, and removed by a later run if left. */
static int stage_name(struct strbuf *out, const char *path, const char *tag)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return -EINVAL;
	sm_deploy_cleanup_dir_of(path);
	return sm_strbuf_addf(out, "%.*s/.%s%s%ld", (int)(slash - path), path, slash + 1, tag,
			      (long)getpid());
}

/* What sync-pull stages: the project copy, or its merge with the collection copy. */
struct pull_fill {
	const char *proj;
	const char *base; /* merge: the common ancestor, or NULL */
	struct sm_merge_result *mr; /* merge; NULL: overwrite */
};

static int fill_pull(const char *cur, const char *staged, void *arg, struct strbuf *err)
{
	struct pull_fill *f = arg;

	if (f->mr)
		return sm_merge_tree(f->base, cur, f->proj, staged, f->mr, err);
	return sm_deploy_copy(f->proj, staged, err);
}

struct pull_ctx {
	const struct sm_ops_ctx *ctx;
	const struct sm_ops_sync_req *req;
	struct sm_ops_sync_report *rep;
	struct sm_collection *c;
	bool snapped;
	size_t changed;
};

/* Pull one deployment (record rec of t) into the open collection. */
static int pull_one(struct pull_ctx *pc, struct sm_tracking *t, struct sm_toml_value *rec,
		    struct strbuf *err)
{
	struct sm_collection *c = pc->c;
	const char *name = sm_rec_name(rec);
	enum sm_artifact_type type = sm_rec_type(rec);
	struct strbuf proj = STRBUF_INIT, dst = STRBUF_INIT, base = STRBUF_INIT, rel = STRBUF_INIT,
		      e = STRBUF_INIT, id = STRBUF_INIT;
	struct sm_merge_result mr = { 0 };
	char ph[SM_SHA256_HEX_LEN + 1], ch[SM_SHA256_HEX_LEN + 1];
	const struct sm_toml_value *entry;
	const char *path, *lock_up = NULL, *lock_sha = NULL, *lock_ver = NULL;
	struct sm_toml_value *le;
	long idx;
	int r;

	idx = sm_manifest_find(c->manifest, type, name);
	if (idx < 0)
		return 0; /* removed from the collection: nothing to pull into */
	entry = sm_manifest_at(c->manifest, (size_t)idx);
	path = sm_entry_str(entry, "path");
	r = sm_rec_target(t, rec, &proj, err);
	if (r < 0)
		goto out;
	if (!sm_fs_exists(proj.buf) || sm_rec_is_symlink(rec))
		goto out; /* nothing in the project to pull */
	r = sm_content_hash(proj.buf, ph, err);
	if (r < 0)
		goto out;
	if (!strcmp(ph, sm_rec_hash(rec)))
		goto out; /* not changed in the project */
	/* never write outside the collection */
	r = sm_collection_entry_path(c, entry, &dst, err);
	if (r < 0)
		goto out;
	r = sm_strbuf_addf(&id, "%s:%s", sm_artifact_type_name(type), name);
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	r = push_synced(pc->rep, id.buf);
	if (r < 0 || pc->req->dry_run)
		goto out;
	if (!pc->snapped) {
		struct strbuf m = STRBUF_INIT;

		r = sm_strbuf_addf(&m, "Before sync-pull from %s", t->project);
		r = r ?: sm_snapshot_create(pc->ctx->home, c->name, m.buf, true,
					    sm_ops_snapshot_keep(pc->ctx), pc->rep->snapshot_id,
					    err);
		sm_strbuf_release(&m);
		if (r < 0)
			goto out;
		pc->snapped = true;
	}
	if (pc->req->strategy == SM_SYNC_FORK) {
		struct sm_add_opts o = { .type = type };
		struct sm_add_result ar = { 0 };

		r = sm_strbuf_addf(&e, "%s-fork", name);
		if (r < 0) {
			r = sm_err(err, r, "out of memory");
			goto out;
		}
		o.name = e.buf;
		o.force = true;
		r = sm_collection_add_local(c, proj.buf, &o, &ar, err);
		sm_add_result_release(&ar);
		if (r == 0)
			pc->changed++;
		goto out; /* the deployment stays what it was */
	}
	/*
	 * The new copy is staged beside the collection copy and moved into place
	 * by the commit with the manifest and the lock (core/txn.h): a crash
	 * leaves the old copy under the old lock or the new one under the new.
	 */
	if (pc->req->strategy == SM_SYNC_MERGE) {
		const char *want = sm_toml_get_string(rec, "merge_base_snapshot");
		struct pull_fill f = { proj.buf, NULL, &mr };

		r = stage_name(&base, dst.buf, ".sm-base-");
		r = r ?: sm_strbuf_addstr(&rel, path ? path : "");
		if (r < 0) {
			r = sm_err(err, r, "out of memory");
			goto out;
		}
		(void)sm_fs_remove_tree_force(base.buf, NULL);
		if (want && path && path[0] != '/' &&
		    find_base(pc->ctx->home, c->name, rel.buf, want, base.buf) == 0)
			f.base = base.buf;
		r = sm_collection_stage_tree(c, (size_t)idx, fill_pull, &f, ch, err);
		(void)sm_fs_remove_tree_force(base.buf, NULL);
		if (r < 0)
			goto out;
		if (mr.nconflicts) {
			struct sm_sync_conflict *nv = sm_reallocarray(
				pc->rep->conflicts, pc->rep->nconflicts + 1, sizeof(*nv));

			if (!nv) {
				r = sm_err(err, -ENOMEM, "out of memory");
				goto out;
			}
			pc->rep->conflicts = nv;
			nv = &nv[pc->rep->nconflicts++];
			memset(nv, 0, sizeof(*nv));
			nv->artifact_name = sm_strdup(name);
			nv->error = sm_strdup("conflicting changes: markers written into the "
					      "collection copy");
			nv->files = TAKE_PTR(mr.conflicts);
			nv->nfiles = mr.nconflicts;
			mr.nconflicts = 0;
		}
	} else {
		struct pull_fill f = { proj.buf, NULL, NULL };

		r = sm_collection_stage_tree(c, (size_t)idx, fill_pull, &f, ch, err);
		if (r < 0)
			goto out;
	}
	pc->changed++;
	/* the lock follows the collection copy (the original's lock update fails: S5) */
	le = sm_lock_get(c->lock, name, type);
	if (le) {
		lock_up = sm_toml_get_string(le, "upstream");
		lock_sha = sm_toml_get_string(le, "resolved_sha");
		lock_ver = sm_toml_get_string(le, "resolved_version");
	}
	{
		char *u = lock_up ? sm_strdup(lock_up) : NULL, *s = lock_sha ? sm_strdup(lock_sha) : NULL,
		     *v = lock_ver ? sm_strdup(lock_ver) : NULL;

		r = sm_lock_set(c->lock, name, type, ch, u, s, v);
		sm_free(u);
		sm_free(s);
		sm_free(v);
	}
	c->dirty = true;
	/* and the deployment's baseline is what was pulled (the original leaves it: S5) */
	r = r ?: rebase_record(rec, ph);
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	t->dirty = true;
out:
	sm_merge_result_release(&mr);
	sm_strbuf_release(&proj);
	sm_strbuf_release(&dst);
	sm_strbuf_release(&base);
	sm_strbuf_release(&rel);
	sm_strbuf_release(&e);
	sm_strbuf_release(&id);
	return r;
}

static bool wanted(const struct sm_ops_sync_req *req, const char *name)
{
	if (!req->nartifacts)
		return true;
	for (size_t i = 0; i < req->nartifacts; i++)
		if (!strcmp(req->artifacts[i], name))
			return true;
	return false;
}

int sm_ops_sync_pull(const struct sm_ops_ctx *ctx, const struct sm_ops_sync_req *req,
		     struct sm_ops_sync_report *ret, struct strbuf *err)
{
	struct sm_ops_sync_report rep = { 0 };
	struct sm_tracking **ts = NULL;
	struct sm_collection **cs = NULL;
	size_t nts = 0, ncs = 0, changed = 0;
	char **roots = NULL;
	size_t nroots = 0;
	bool locked = false;
	int r;

	r = sm_ops_project_path(req->project, &rep.project, err);
	if (r < 0)
		return r;
	r = sm_home_lock(ctx->home, err);
	if (r < 0)
		goto out;
	locked = true;
	r = sm_tracking_roots(rep.project, &roots, &nroots, err);
	if (r == 0) {
		ts = sm_calloc(nroots + 1, sizeof(*ts));
		r = ts ? 0 : sm_err(err, -ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < nroots && r == 0; k++) {
		r = sm_tracking_load(rep.project, roots[k], &ts[k], err);
		nts += r == 0;
	}
	for (size_t k = 0; k < nts && r == 0; k++) {
		for (size_t i = 0; i < sm_tracking_count(ts[k]) && r == 0; i++) {
			struct sm_toml_value *rec = sm_tracking_at(ts[k], i);
			const char *coll = sm_rec_collection(rec);
			struct pull_ctx pc = { ctx, req, &rep, NULL, false, 0 };
			size_t j;

			if (!wanted(req, sm_rec_name(rec)) ||
			    (req->collection && strcmp(req->collection, coll)))
				continue;
			for (j = 0; j < ncs; j++)
				if (!strcmp(cs[j]->name, coll))
					break;
			if (j == ncs) {
				struct sm_collection *c, **nv;

				if (sm_collection_name_check(coll, NULL) < 0 ||
				    !sm_collection_exists(ctx->home, coll))
					continue;
				r = sm_collection_open(ctx->home, coll, &c, err);
				if (r < 0)
					break;
				nv = sm_reallocarray(cs, ncs + 1, sizeof(*nv));
				if (!nv) {
					sm_collection_free(c);
					r = sm_err(err, -ENOMEM, "out of memory");
					break;
				}
				cs = nv;
				cs[ncs++] = c;
			}
			pc.c = cs[j];
			pc.snapped = rep.snapshot_id[0] != '\0';
			r = pull_one(&pc, ts[k], rec, err);
			changed += pc.changed;
		}
	}
	/* the collection first (manifest, lock), then the records naming the new baselines */
	for (size_t j = 0; j < ncs && r == 0; j++)
		r = sm_collection_commit(cs[j], err);
	/*
	 * after the commit the pull stands: a record not saved is a warning (its
	 * old baseline makes the next sync-pull find the same change again)
	 */
	for (size_t k = 0; k < nts && r == 0; k++) {
		struct strbuf e = STRBUF_INIT;

		if (sm_tracking_save(ts[k], &e) < 0)
			sm_ops_warn(ctx, "pulled, but the deployment records were not saved: %s",
				    e.buf);
		sm_strbuf_release(&e);
	}
	for (size_t j = 0; j < ncs && r == 0 && changed; j++)
		cache_after(ctx, cs[j]);
	if (locked)
		sm_home_unlock(ctx->home);
	locked = false;
	if (r == 0 && changed)
		sm_ops_invalidate(ctx, NULL);
	rep.status = req->dry_run ? "dry_run"
		     : rep.nconflicts ? "partial"
		     : rep.nsynced    ? "success"
				      : "no_changes";
out:
	if (locked)
		sm_home_unlock(ctx->home);
	for (size_t k = 0; k < nroots && ts; k++)
		sm_tracking_free(ts[k]);
	sm_free(ts);
	for (size_t j = 0; j < ncs; j++)
		sm_collection_free(cs[j]);
	sm_free(cs);
	sm_strv_free(roots, nroots);
	if (r < 0) {
		sm_ops_sync_report_release(&rep);
		return r;
	}
	*ret = rep;
	return 0;
}

/*
 * Under the home lock: an interrupted write of the collection finished or
 * undone (sm_collection_open), so a snapshot holds a manifest, a lock and
 * files that agree, and a restore replaces a finished state.
 */
static int recovered(struct sm_home *home, const char *collection, struct strbuf *err)
{
	struct sm_collection *c = NULL;
	int r = sm_collection_open(home, collection, &c, err);

	sm_collection_free(c);
	return r;
}

int sm_ops_snapshot(const struct sm_ops_ctx *ctx, const char *collection, const char *message,
		    char ret_id[SM_SNAPSHOT_ID_MAX], struct strbuf *err)
{
	int r;

	if (!collection)
		collection = sm_home_active_collection(ctx->home);
	r = sm_collection_name_check(collection, err);
	if (r < 0)
		return r;
	r = sm_home_lock(ctx->home, err);
	if (r < 0)
		return r;
	r = recovered(ctx->home, collection, err);
	r = r ?: sm_snapshot_create(ctx->home, collection, message, false, 0, ret_id, err);
	sm_home_unlock(ctx->home);
	return r;
}

static int audit(struct sm_home *home, const char *coll, const char *id, const char *safety,
		 struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT, buf = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *a, *t;
	char now[SM_ISO_MAX];
	int r;

	r = sm_strbuf_addf(&dir, "%s/audit", home->root);
	r = r ?: sm_strbuf_addf(&path, "%s/%s_rollback_audit.toml", dir.buf, coll);
	r = r ?: sm_fs_mkdir_p(dir.buf, 0755, err);
	if (r < 0)
		goto out;
	r = sm_fs_read_file(path.buf, (size_t)16 << 20, &buf, err);
	if (r == -ENOENT) {
		doc = sm_toml_new_table();
		r = doc ? 0 : -ENOMEM;
	} else if (r == 0) {
		r = sm_toml_parse(buf.buf, buf.len, &doc, err);
	}
	if (r < 0)
		goto out;
	a = sm_toml_get(doc, "entries");
	if (!a) {
		a = sm_toml_new_array();
		r = a ? sm_toml_set(doc, "entries", a) : -ENOMEM;
	} else if (a->type != SM_TOML_ARRAY) {
		r = sm_err(err, -EBADMSG, "'%s': 'entries' is not an array", path.buf);
	}
	if (r < 0)
		goto out;
	t = sm_toml_new_table();
	r = sm_time_now_iso(now);
	r = r ?: (t ? 0 : -ENOMEM);
	r = r ?: sm_toml_set_string(t, "timestamp", now);
	r = r ?: sm_toml_set_string(t, "collection", coll);
	r = r ?: sm_toml_set_string(t, "snapshot_id", id);
	r = r ?: sm_toml_set_string(t, "safety_snapshot_id", safety);
	if (r == 0)
		r = sm_toml_push(a, t);
	else
		sm_toml_free(t);
	sm_strbuf_reset(&buf);
	r = r ?: sm_toml_encode(doc, &buf, err);
	r = r ?: sm_fs_write_atomic(path.buf, buf.buf, buf.len, 0644, err);
out:
	sm_toml_free(doc);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&path);
	sm_strbuf_release(&buf);
	return r;
}

int sm_ops_rollback(const struct sm_ops_ctx *ctx, const char *collection, const char *id,
		    char ret_safety[SM_SNAPSHOT_ID_MAX], struct strbuf *err)
{
	struct strbuf m = STRBUF_INIT, e = STRBUF_INIT;
	struct sm_collection *c = NULL;
	char safety[SM_SNAPSHOT_ID_MAX] = "";
	int r;

	if (!collection)
		collection = sm_home_active_collection(ctx->home);
	r = sm_collection_name_check(collection, err);
	if (r < 0)
		return r;
	r = sm_home_lock(ctx->home, err);
	if (r < 0)
		return r;
	r = sm_strbuf_addf(&m, "Before rollback to %s", id);
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	{
		/* the snapshot must exist before anything is done */
		struct sm_snapshot_list l = { 0 };
		bool found = false;

		r = sm_snapshot_list(ctx->home, collection, &l, err);
		for (size_t i = 0; r == 0 && i < l.len; i++)
			found |= !strcmp(l.items[i].id, id);
		sm_snapshot_list_release(&l);
		if (r == 0 && !found)
			r = sm_err(err, -ENOENT, "snapshot '%s' of collection '%s' not found", id,
				   collection);
		if (r < 0)
			goto out;
	}
	r = recovered(ctx->home, collection, err);
	r = r ?: sm_snapshot_create(ctx->home, collection, m.buf, true, sm_ops_snapshot_keep(ctx),
				    safety, err);
	/* one rename of the whole collection folder: old or restored (core/snapshot.c) */
	r = r ?: sm_snapshot_restore(ctx->home, collection, id, err);
	if (r < 0)
		goto out;
	if (audit(ctx->home, collection, id, safety, &e) < 0)
		sm_ops_warn(ctx, "rolled back, but the audit log was not written: %s", e.buf);
	/* opened under the lock: a write the snapshot caught unfinished is finished */
	if (sm_collection_open(ctx->home, collection, &c, &e) == 0)
		cache_after(ctx, c);
	if (ret_safety)
		memcpy(ret_safety, safety, sizeof(safety));
out:
	sm_home_unlock(ctx->home);
	if (r == 0)
		sm_ops_invalidate(ctx, NULL);
	sm_collection_free(c);
	sm_strbuf_release(&m);
	sm_strbuf_release(&e);
	return r;
}
