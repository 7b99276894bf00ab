/* SPDX-License-Identifier: MIT */
/* Add artifacts (skillmeat/ops.h): one spec, or every artifact under a folder. */
#include <errno.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/array.h"
#include "skillmeat/collection.h"
#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/source.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

void sm_ops_add_result_release(struct sm_ops_add_result *r)
{
	sm_add_result_release(&r->add);
	sm_free(r->collection);
	memset(r, 0, sizeof(*r));
}

static void items_free(struct sm_ops_add_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sm_free(v[i].name);
		sm_free(v[i].path);
		sm_free(v[i].kept);
		sm_free(v[i].error);
	}
	sm_free(v);
}

void sm_ops_add_all_result_release(struct sm_ops_add_all_result *r)
{
	items_free(r->skipped, r->nskipped);
	items_free(r->failed, r->nfailed);
	sm_free(r->collection);
	memset(r, 0, sizeof(*r));
}

/* Open the collection (NULL: the active one; a home with none gets 'default'). Locked. */
static int open_collection(struct sm_truth *t, const char *name, struct sm_collection **ret,
			   bool *created, struct strbuf *err)
{
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	*created = false;
	if (!name && sm_collection_names(t->home, &names, &n, err) == 0 && n == 0) {
		r = sm_collection_init(t->home, "default", created, err);
		if (r == 0 && strcmp(sm_home_active_collection(t->home), "default"))
			r = sm_config_set(t->home, "settings.default-collection", "default", err);
	}
	sm_strv_free(names, n);
	if (r < 0)
		return r;
	return t->ops->open_collection(t, name, ret, err);
}

/*
 * Record in the deploy hash cache the hash a deployed copy of each artifact
 * this add wrote will have (rels: paths relative to the collection), so the
 * first deploy copies their bytes in the kernel and hashes nothing. Taken as
 * deploy and status take it (sm_hashcache_hash: the stat records first, then
 * the content read and hashed), under the home lock, after the commit moved
 * the copies into place: a deploy trusts the hash only while the copy's own
 * stats of every file and folder equal these records (copy_hashed in
 * core/deploy.c), so a hand edit after this is read again. A cache: a
 * failure only leaves the hashing to the deploy.
 */
static void note_deploy_hashes(struct sm_ops_ctx *ctx, const struct sm_collection *c,
			       char *const *rels, size_t n)
{
	struct sm_hashcache *hc = NULL;
	struct strbuf p = STRBUF_INIT;
	char hex[SM_SHA256_HEX_LEN + 1];

	if (!n || !c->dir || sm_hashcache_open(ctx->home, &hc, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		sm_strbuf_reset(&p);
		if (sm_strbuf_addf(&p, "%s/%s", c->dir, rels[i]) < 0)
			break;
		(void)sm_hashcache_hash(hc, p.buf, true, hex, NULL);
	}
	(void)sm_hashcache_save(hc, NULL);
	sm_hashcache_free(hc);
	sm_strbuf_release(&p);
}

/*
 * Index the committed collection; true when a server should hear of it.
 * quiet: the add reported a malformed frontmatter already (naming the file
 * it was given), so the index's read of the copy warns no second time.
 */
static bool index_after(struct sm_ops_ctx *ctx, struct sm_collection *c, bool quiet)
{
	struct sm_truth *t = &ctx->truth;
	struct sm_sync_stats st = { 0 };
	struct strbuf err = STRBUF_INIT;
	bool changed = true;

	if (t->ops->index_collection(t, c, quiet ? SM_SYNC_QUIET : 0, &st, &err) < 0)
		sm_ops_warn(ctx, "the metadata cache was not updated: %s", err.buf);
	else
		changed = st.created || st.updated || st.removed;
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
	return changed;
}

int sm_ops_add(struct sm_ops_ctx *ctx, const struct sm_ops_add *req,
	       struct sm_ops_add_result *ret, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	struct sm_collection *c = NULL;
	bool github, committed = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	github = req->source == SM_OPS_SOURCE_GITHUB ||
		 (req->source == SM_OPS_SOURCE_AUTO && sm_source_is_github(req->spec) &&
		  !sm_fs_exists(req->spec));
	if ((r = t->ops->lock(t, err)) < 0)
		return r;
	if ((r = open_collection(t, req->collection, &c, &ret->created_default, err)) < 0)
		goto out;
	r = github ? sm_collection_add_github(c, req->spec, &req->opts, &ret->add, err)
		   : sm_collection_add_local(c, req->spec, &req->opts, &ret->add, err);
	if (r < 0 || (r = t->ops->commit_collection(t, c, NULL, err)) < 0)
		goto out;
	committed = true;
	if (!(ret->collection = sm_strdup(c->name))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	ret->index_changed = index_after(ctx, c, req->reports_warning && ret->add.warning);
	if (ret->add.status != SM_ADD_UNCHANGED && ret->add.path)
		note_deploy_hashes(ctx, c, &ret->add.path, 1);
	r = 0;
out:
	t->ops->unlock(t);
	if (committed)
		sm_ops_invalidate(ctx, NULL);
	sm_collection_free(c);
	return r;
}

/* Append an item; -ENOMEM. */
static int item_add(struct sm_ops_add_item **v, size_t *n, const char *name,
		    enum sm_artifact_type type, const char *path, const char *kept,
		    const char *error)
{
	struct sm_ops_add_item *it;
	struct sm_ops_add_item *nv = sm_realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	it = &nv[*n];
	memset(it, 0, sizeof(*it));
	it->type = sm_artifact_type_name(type);
	it->name = name ? sm_strdup(name) : NULL;
	it->path = sm_strdup(path);
	it->kept = kept ? sm_strdup(kept) : NULL;
	it->error = error ? sm_strdup(error) : NULL;
	(*n)++;
	if ((name && !it->name) || !it->path || (kept && !it->kept) || (error && !it->error))
		return -ENOMEM;
	return 0;
}

struct seen {
	char *name;
	char *rel;
};

/*
 * A clash is a name seen before in this run, whatever its type: that is the
 * rule SkillMeat's own import of the corpus followed (fixtures/: the agent
 * implement.md became implement-ship-mate after the command implement.md),
 * and it keeps names unique for lookups by name.
 */
static const char *seen_find(struct sm_hashmap *map, const char *name)
{
	void *v;

	return sm_hashmap_get(map, name, strlen(name), &v) ? v : NULL;
}

/* Add each found artifact to the open collection (in memory). */
static int add_found(const struct sm_ops_add_all *req, struct sm_collection *c,
		     const struct sm_found *found, size_t nfound, struct sm_ops_add_all_result *ret,
		     struct sm_strvec *written, bool *warned, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT, one = STRBUF_INIT;
	struct seen *seen = sm_calloc(nfound ? nfound : 1, sizeof(*seen));
	struct sm_hashmap *seen_map = NULL;
	size_t nseen = 0;
	int r = 0;

	if (!seen || sm_hashmap_new(&seen_map) < 0)
		goto oom;
	for (size_t i = 0; i < nfound; i++) {
		const struct sm_found *f = &found[i];
		const char *kept;
		struct sm_add_opts o = req->opts;
		struct sm_add_result res = { 0 };

		if (req->event)
			req->event(req->event_ud, i, nfound, f->rel, NULL);
		sm_strbuf_reset(&name);
		if (sm_strbuf_addstr(&name, f->name) < 0)
			goto oom;
		kept = seen_find(seen_map, name.buf);
		if (kept && req->rename && f->holder) {
			if (sm_strbuf_addf(&name, "-%s", f->holder) < 0)
				goto oom;
			kept = seen_find(seen_map, name.buf);
		}
		if (kept) {
			if (item_add(&ret->skipped, &ret->nskipped, name.buf, f->type, f->rel, kept,
				     NULL) < 0)
				goto oom;
			continue;
		}
		seen[nseen].name = sm_strdup(name.buf);
		seen[nseen].rel = sm_strdup(f->rel);
		nseen++;
		if (!seen[nseen - 1].name || !seen[nseen - 1].rel ||
		    sm_hashmap_put(seen_map, seen[nseen - 1].name, strlen(seen[nseen - 1].name),
				   seen[nseen - 1].rel, NULL) < 0)
			goto oom;
		o.type = f->type;
		o.name = name.buf;
		sm_strbuf_reset(&one);
		r = sm_collection_add_local(c, f->path, &o, &res, &one);
		if (r == -EEXIST) {
			/* in the collection already, with other content: not ours to overwrite */
			long idx = sm_manifest_find(c->manifest, f->type, name.buf);
			const char *p = idx >= 0 ? sm_entry_str(sm_manifest_at(c->manifest,
									       (size_t)idx),
								"path")
						 : "";

			r = item_add(&ret->skipped, &ret->nskipped, name.buf, f->type, f->rel,
				     p ? p : "", NULL);
		} else if (r == -ENOMEM) {
			goto oom;
		} else if (r < 0) {
			r = item_add(&ret->failed, &ret->nfailed, NULL, f->type, f->rel, NULL,
				     one.buf);
		} else {
			if (res.status == SM_ADD_UNCHANGED)
				ret->unchanged++;
			else if (res.status == SM_ADD_REPLACED)
				ret->replaced++;
			else
				ret->added++;
			if (res.warning && req->event)
				req->event(req->event_ud, i, nfound, f->rel, res.warning);
			*warned |= res.warning && req->event;
			r = 0;
			if (res.status != SM_ADD_UNCHANGED && res.path &&
			    sm_strvec_push(written, res.path) < 0)
				r = -ENOMEM;
		}
		sm_add_result_release(&res);
		if (r < 0)
			goto oom;
	}
	goto out;
oom:
	r = sm_err(err, -ENOMEM, "out of memory");
out:
	for (size_t i = 0; i < nseen; i++) {
		sm_free(seen[i].name);
		sm_free(seen[i].rel);
	}
	sm_free(seen);
	sm_hashmap_free(seen_map);
	sm_strbuf_release(&name);
	sm_strbuf_release(&one);
	return r;
}

int sm_ops_add_all(struct sm_ops_ctx *ctx, const struct sm_ops_add_all *req,
		   struct sm_ops_add_all_result *ret, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	struct sm_collection *c = NULL;
	struct sm_found *found = NULL;
	struct sm_strvec written = SM_STRVEC_INIT;
	size_t nfound = 0;
	bool committed = false, warned = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = sm_scan_folder(req->folder, &found, &nfound, err)) < 0)
		return r;
	if ((r = t->ops->lock(t, err)) < 0)
		goto free;
	if ((r = open_collection(t, req->collection, &c, &ret->created_default, err)) < 0 ||
	    (r = add_found(req, c, found, nfound, ret, &written, &warned, err)) < 0 ||
	    (r = t->ops->commit_collection(t, c, NULL, err)) < 0)
		goto out;
	committed = true;
	if (!(ret->collection = sm_strdup(c->name))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	ret->index_changed = index_after(ctx, c, warned);
	note_deploy_hashes(ctx, c, written.v, written.n);
out:
	t->ops->unlock(t);
	if (committed)
		sm_ops_invalidate(ctx, NULL);
free:
	sm_collection_free(c);
	sm_found_free(found, nfound);
	sm_strvec_release(&written);
	return r;
}
