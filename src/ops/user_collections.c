/* SPDX-License-Identifier: MIT */
/*
 * User collections (skillmeat/ops.h): user-collections.toml is the truth;
 * every write is lock → file saved atomically → index synced from it →
 * unlock → invalidation of the collection's counts and answers.
 */
#include <errno.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		sm_free(v[i]);
	sm_free(v);
}

void sm_ops_uc_result_release(struct sm_ops_uc_result *r)
{
	sm_free(r->id);
	sm_free(r->name);
	sm_free(r->description);
	sm_free(r->collection_type);
	sm_free(r->context_category);
	sm_free(r->created_at);
	sm_free(r->updated_at);
	sm_free(r->old_name);
	strv_free(r->not_found, r->n_not_found);
	memset(r, 0, sizeof(*r));
}

/* An open write: the lock held, the file loaded, the entry found. */
struct uc_write {
	struct sm_ops_ctx *ctx;
	struct sm_user_collections *f;
	long idx;
	bool locked;
};

static int begin(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref, struct uc_write *w,
		 struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	int r;

	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->idx = -1;
	if ((r = t->ops->lock(t, err)) < 0)
		return r;
	w->locked = true;
	if ((r = t->ops->load_user_collections(t, &w->f, err)) < 0)
		return r;
	if (!ref)
		return 0;
	if (ref->by_id) {
		for (size_t i = 0; i < w->f->n && w->idx < 0; i++)
			if (!strcmp(w->f->items[i].id, ref->ref))
				w->idx = (long)i;
		if (w->idx < 0)
			return sm_err(err, -ENOENT, "user collection '%s' not found", ref->ref);
		return 0;
	}
	w->idx = sm_user_collections_find(w->f, ref->ref, err);
	return w->idx < 0 ? (int)w->idx : 0;
}

/* Save the file, then index it: an index failure is a warning (the file stands). */
static int save(struct uc_write *w, struct strbuf *err)
{
	struct sm_truth *t = &w->ctx->truth;
	struct sm_sync_stats st = { 0 };
	struct strbuf ierr = STRBUF_INIT;
	int r;

	if ((r = t->ops->save_user_collections(t, w->f, err)) < 0)
		return r;
	if (t->ops->index_user_collections(t, &st, &ierr) < 0)
		sm_ops_warn(w->ctx, "the metadata cache was not updated: %s", ierr.buf);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&ierr);
	return 0;
}

/* Unlock, then (after the commit) invalidate scope. */
static void end(struct uc_write *w, const char *scope, bool committed)
{
	struct sm_truth *t = &w->ctx->truth;

	if (w->locked)
		t->ops->unlock(t);
	w->locked = false;
	if (committed)
		sm_ops_invalidate(w->ctx, scope);
	sm_user_collections_free(w->f);
	w->f = NULL;
}

/*
 * A copy of s (NULL stays NULL) into *dst; 0 when out of memory. An int, so
 * that set_entry's '&' runs every copy without clang's bool warning.
 */
static int copy(char **dst, const char *s)
{
	sm_free(*dst);
	*dst = s ? sm_strdup(s) : NULL;
	return !s || *dst;
}

static int set_entry(struct sm_ops_uc_result *ret, const struct sm_user_collection *uc)
{
	bool ok = copy(&ret->id, uc->id) & copy(&ret->name, uc->name) &
		  copy(&ret->description, uc->description) &
		  copy(&ret->collection_type, uc->collection_type) &
		  copy(&ret->context_category, uc->context_category) &
		  copy(&ret->created_at, uc->created_at) &
		  copy(&ret->updated_at, uc->updated_at ? uc->updated_at : uc->created_at);

	return ok ? 0 : -ENOMEM;
}

int sm_ops_uc_create(struct sm_ops_ctx *ctx, const struct sm_user_collection_fields *fields,
		     struct sm_ops_uc_result *ret, struct strbuf *err)
{
	struct uc_write w;
	char now[SM_ISO_MAX];
	bool ok = false;
	long idx;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = sm_time_now_iso(now)) < 0)
		return sm_err(err, r, "cannot read the clock");
	if ((r = begin(ctx, NULL, &w, err)) < 0)
		goto out;
	idx = sm_user_collections_create(w.f, fields, now, err);
	if (idx < 0) {
		r = (int)idx;
		goto out;
	}
	if ((r = set_entry(ret, &w.f->items[idx])) < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	ok = (r = save(&w, err)) == 0;
out:
	end(&w, ret->id, ok);
	return r;
}

int sm_ops_uc_update(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref,
		     const struct sm_user_collection_fields *fields, struct sm_ops_uc_result *ret,
		     struct strbuf *err)
{
	struct uc_write w;
	char now[SM_ISO_MAX];
	bool ok = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = sm_time_now_iso(now)) < 0)
		return sm_err(err, r, "cannot read the clock");
	if ((r = begin(ctx, ref, &w, err)) < 0)
		goto out;
	if (!(ret->old_name = sm_strdup(w.f->items[w.idx].name))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = sm_user_collections_update(w.f, (size_t)w.idx, fields, now, err)) < 0)
		goto out;
	if ((r = set_entry(ret, &w.f->items[w.idx])) < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	ok = (r = save(&w, err)) == 0;
out:
	end(&w, ret->id, ok);
	return r;
}

int sm_ops_uc_delete(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref,
		     bool (*confirm)(void *ud, const char *name), void *confirm_ud,
		     struct sm_ops_uc_result *ret, struct strbuf *err)
{
	struct uc_write w;
	bool ok = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = begin(ctx, ref, &w, err)) < 0)
		goto out;
	if ((r = set_entry(ret, &w.f->items[w.idx])) < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	if (confirm && !confirm(confirm_ud, ret->name)) {
		ret->cancelled = true;
		goto out;
	}
	if ((r = sm_user_collections_delete(w.f, (size_t)w.idx, err)) < 0)
		goto out;
	ok = (r = save(&w, err)) == 0;
out:
	end(&w, ret->id, ok);
	return r;
}

/* uuid of every member of uc that resolves (NULL for the others). */
static char **member_uuids(struct sm_cache *cache, const struct sm_user_collection *uc)
{
	char **v = sm_calloc(uc->nmembers + 1, sizeof(*v));

	for (size_t k = 0; v && k < uc->nmembers; k++) {
		struct sm_artifact_row m;

		if (sm_cache_resolve_artifact(cache, uc->members[k], true, &m, NULL) == 0) {
			v[k] = m.uuid;
			m.uuid = NULL;
			sm_artifact_row_release(&m);
		}
	}
	return v;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && !strcmp(v[i], s))
			return true;
	return false;
}

/* The index brought up to date before ids are resolved (the CLI's warm sync). */
static struct sm_cache *warm_index(struct sm_ops_ctx *ctx, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	struct sm_sync_stats st = { 0 };
	struct sm_cache *cache = t->ops->index(t, err);

	if (cache && t->ops->index_sync(t, NULL, 0, &st, err) < 0)
		cache = NULL;
	for (size_t i = 0; cache && i < st.nmessages; i++)
		sm_ops_warn(ctx, "%s", st.messages[i]);
	sm_sync_stats_release(&st);
	return cache;
}

struct plan {
	char **keys;
	char **uuids;
	size_t n;
};

/* Resolve every id before anything is written. */
static int plan_add(struct sm_ops_ctx *ctx, struct sm_cache *cache, const char *const *ids,
		    size_t n, enum sm_ops_unknown mode, struct plan *p,
		    struct sm_ops_uc_result *ret, struct strbuf *bad, struct strbuf *err)
{
	struct strbuf one = STRBUF_INIT, key = STRBUF_INIT;
	int r = 0;

	(void)ctx;
	p->keys = sm_calloc(n + 1, sizeof(*p->keys));
	p->uuids = sm_calloc(n + 1, sizeof(*p->uuids));
	ret->not_found = sm_calloc(n + 1, sizeof(*ret->not_found));
	if (!p->keys || !p->uuids || !ret->not_found)
		return sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct sm_artifact_row row;

		sm_strbuf_reset(&one);
		if (mode == SM_OPS_UNKNOWN_LISTED)
			r = sm_ops_resolve_id(cache, ids[i], NULL, &row, &one);
		else
			r = sm_cache_resolve_artifact(cache, ids[i], false, &row, &one);
		if (r == 0) {
			sm_strbuf_reset(&key);
			r = sm_cache_artifact_key(cache, &row, &key, &one);
			if (r == 0 && !(p->keys[p->n] = sm_strbuf_detach(&key, NULL)))
				r = -ENOMEM;
			if (r == 0) {
				p->uuids[p->n++] = row.uuid;
				row.uuid = NULL;
			}
			sm_artifact_row_release(&row);
		}
		if (r == -ENOMEM)
			break;
		if (mode == SM_OPS_UNKNOWN_LISTED) {
			if (r == -ENOENT) {
				if (!(ret->not_found[ret->n_not_found++] = sm_strdup(ids[i]))) {
					r = -ENOMEM;
					break;
				}
				r = 0;
			}
			if (r < 0) {
				r = sm_err(err, r, "%s", one.buf);
				break;
			}
		} else if (r < 0) {
			if ((r = sm_strbuf_addf(bad, "%s%s", bad->len ? "; " : "", one.buf)) < 0)
				break;
			r = 0;
		}
	}
	if (r == -ENOMEM)
		r = sm_err(err, r, "out of memory");
	sm_strbuf_release(&one);
	sm_strbuf_release(&key);
	return r;
}

int sm_ops_uc_add_members(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref,
			  const char *const *ids, size_t n, enum sm_ops_unknown mode,
			  struct sm_ops_uc_result *ret, struct strbuf *err)
{
	struct strbuf bad = STRBUF_INIT;
	struct plan p = { 0 };
	struct uc_write w;
	struct sm_cache *cache;
	char **have = NULL;
	size_t nhave = 0;
	bool ok = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = begin(ctx, ref, &w, err)) < 0)
		goto out;
	if ((r = set_entry(ret, &w.f->items[w.idx])) < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	cache = mode == SM_OPS_UNKNOWN_FAILS ? warm_index(ctx, err)
					     : ctx->truth.ops->index(&ctx->truth, err);
	if (!cache) {
		r = -EIO;
		goto out;
	}
	if ((r = plan_add(ctx, cache, ids, n, mode, &p, ret, &bad, err)) < 0)
		goto out;
	if (bad.len) {
		r = sm_err(err, -ENOENT, "nothing added to '%s': %s", ret->name, bad.buf);
		goto out;
	}
	/* a member already there under another spelling counts as present */
	nhave = w.f->items[w.idx].nmembers;
	if (!(have = member_uuids(cache, &w.f->items[w.idx]))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p.n; i++) {
		if (in_list(have, nhave, p.uuids[i]) || in_list(p.uuids, i, p.uuids[i])) {
			ret->present++;
			continue;
		}
		r = sm_user_collections_add_member(w.f, (size_t)w.idx, p.keys[i], err);
		if (r < 0)
			goto out;
		ret->changed += (size_t)r;
		ret->present += r == 0;
	}
	r = 0;
	if (ret->changed)
		ok = (r = save(&w, err)) == 0;
out:
	end(&w, ret->id, ok);
	strv_free(have, nhave);
	strv_free(p.keys, p.n);
	strv_free(p.uuids, p.n);
	sm_strbuf_release(&bad);
	return r;
}

/*
 * The member of uc that id names: the same string, else (with the index) a
 * member resolving to the same artifact. -1 when none.
 */
static long member_of(struct sm_cache *cache, const struct sm_user_collection *uc, const char *id)
{
	struct sm_artifact_row want;
	long found = -1;

	for (size_t k = 0; k < uc->nmembers; k++)
		if (!strcmp(uc->members[k], id))
			return (long)k;
	if (!cache || sm_cache_resolve_artifact(cache, id, true, &want, NULL) < 0)
		return -1;
	for (size_t k = 0; k < uc->nmembers && found < 0; k++) {
		struct sm_artifact_row m;

		if (sm_cache_resolve_artifact(cache, uc->members[k], true, &m, NULL) < 0)
			continue;
		if (!strcmp(m.uuid, want.uuid))
			found = (long)k;
		sm_artifact_row_release(&m);
	}
	sm_artifact_row_release(&want);
	return found;
}

/* The CLI's rule: every id a member, the first match of each goes. */
static int remove_strict(struct sm_ops_ctx *ctx, struct uc_write *w, const char *const *ids,
			 size_t n, struct sm_ops_uc_result *ret, struct strbuf *err)
{
	const struct sm_user_collection *uc = &w->f->items[w->idx];
	struct strbuf bad = STRBUF_INIT;
	struct sm_cache *cache = NULL;
	char **drop = NULL;
	size_t ndrop = 0;
	int r = 0;

	/* ids that are not members by their string need the index to compare */
	for (size_t i = 0; i < n && !cache; i++)
		if (member_of(NULL, uc, ids[i]) < 0 && !(cache = warm_index(ctx, err)))
			return -EIO;
	if (!(drop = sm_calloc(n + 1, sizeof(*drop)))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		long k = member_of(cache, uc, ids[i]);

		if (k < 0) {
			if ((r = sm_strbuf_addf(&bad, "%s'%s'", bad.len ? ", " : "", ids[i])) < 0) {
				r = sm_err(err, r, "'%s': %s", ids[i], sm_strerror(r));
				goto out;
			}
			continue;
		}
		if (!(drop[ndrop++] = sm_strdup(uc->members[k]))) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (bad.len) {
		r = sm_err(err, -ENOENT, "nothing removed from '%s': not a member: %s", ret->name,
			   bad.buf);
		goto out;
	}
	for (size_t i = 0; i < ndrop; i++) {
		r = sm_user_collections_remove_member(w->f, (size_t)w->idx, drop[i], err);
		if (r < 0)
			goto out;
		ret->changed += (size_t)r;
	}
	r = 0;
out:
	strv_free(drop, ndrop);
	sm_strbuf_release(&bad);
	return r;
}

/* The REST rule: every member naming the id (same string or artifact) goes. */
static int remove_all_matching(struct sm_ops_ctx *ctx, struct uc_write *w, const char *id,
			       struct sm_ops_uc_result *ret, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	struct sm_cache *cache = t->ops->index(t, err);
	struct sm_artifact_row row = { 0 };
	struct strbuf one = STRBUF_INIT;
	bool have_row;
	int r;

	if (!cache)
		return -EIO;
	r = sm_ops_resolve_id(cache, id, NULL, &row, &one);
	if (r == -EINVAL || r == -EEXIST) {
		r = sm_err(err, r, "%s", one.buf);
		goto out;
	}
	if (r < 0 && r != -ENOENT) {
		r = sm_err(err, r, "%s", one.buf);
		goto out;
	}
	have_row = r == 0;
	r = 0;
	for (size_t k = w->f->items[w->idx].nmembers; r == 0 && k-- > 0;) {
		const char *m = w->f->items[w->idx].members[k];
		struct sm_artifact_row mr;
		bool same = !strcmp(m, id);

		if (!same && have_row && sm_cache_resolve_artifact(cache, m, true, &mr, NULL) == 0) {
			same = !strcmp(mr.uuid, row.uuid);
			sm_artifact_row_release(&mr);
		}
		if (!same)
			continue;
		r = sm_user_collections_remove_member(w->f, (size_t)w->idx, m, err);
		if (r > 0) {
			ret->changed += (size_t)r;
			r = 0;
		}
	}
out:
	sm_artifact_row_release(&row);
	sm_strbuf_release(&one);
	return r;
}

int sm_ops_uc_remove_members(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref,
			     const char *const *ids, size_t n, bool strict,
			     struct sm_ops_uc_result *ret, struct strbuf *err)
{
	struct uc_write w;
	bool ok = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = begin(ctx, ref, &w, err)) < 0)
		goto out;
	if ((r = set_entry(ret, &w.f->items[w.idx])) < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	if (strict)
		r = remove_strict(ctx, &w, ids, n, ret, err);
	else
		for (size_t i = 0; i < n && r == 0; i++)
			r = remove_all_matching(ctx, &w, ids[i], ret, err);
	if (r == 0 && ret->changed)
		ok = (r = save(&w, err)) == 0;
out:
	end(&w, ret->id, ok);
	return r;
}
