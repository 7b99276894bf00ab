/* SPDX-License-Identifier: MIT */
/*
 * The source of truth in team mode (skillmeat/truth.h, docs/team.md): one
 * tenant's rows of the PostgreSQL store, which is also its own index. The
 * user collections are loaded as the document the operations edit (built
 * from the rows), and saved back as the rows that changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/truth.h"
#include "skillmeat/user_collections.h"
#include "skillmeat/utf8.h"
#include "util/banned.h"

struct team {
	char *url;
	char *tenant;
	bool in_tx;
	/* as loaded: the document, its rows, and each member key's uuid */
	struct sm_user_collections *snap;
	struct sm_user_collection_row *rows;
	size_t nrows;
	char **keys, **uuids;
	size_t nkeys, capkeys;
};

static struct team *team(struct sm_truth *t)
{
	return t->impl;
}

static void snap_release(struct team *tm)
{
	sm_user_collections_free(tm->snap);
	tm->snap = NULL;
	for (size_t i = 0; i < tm->nrows; i++)
		sm_user_collection_row_release(&tm->rows[i]);
	sm_free(tm->rows);
	tm->rows = NULL;
	tm->nrows = 0;
	for (size_t i = 0; i < tm->nkeys; i++) {
		sm_free(tm->keys[i]);
		sm_free(tm->uuids[i]);
	}
	sm_free(tm->keys);
	sm_free(tm->uuids);
	tm->keys = tm->uuids = NULL;
	tm->nkeys = tm->capkeys = 0;
}

/* The store of the tenant, as a cache (the index of the operations). */
static int team_connect(struct sm_truth *t, struct strbuf *err)
{
	struct team *tm = team(t);
	struct sm_store *st = NULL;
	int r;

	if (t->cache)
		return 0;
	if ((r = sm_store_pg_open(tm->url, tm->tenant, &st, err)) < 0)
		return r;
	if ((r = sm_cache_open_store(t->home, st, &t->cache)) < 0) {
		t->cache = NULL;
		return sm_err(err, r, "out of memory");
	}
	t->cache->tenant = tm->tenant;
	t->own_cache = true;
	return 0;
}

static int team_lock(struct sm_truth *t, struct strbuf *err)
{
	struct team *tm = team(t);
	int r;

	if ((r = team_connect(t, err)) < 0)
		return r;
	if ((r = sm_store_begin(t->cache->store, err)) < 0)
		return r;
	tm->in_tx = true;
	return 0;
}

static void team_unlock(struct sm_truth *t)
{
	struct team *tm = team(t);

	if (tm->in_tx && t->cache)
		(void)sm_store_rollback(t->cache->store, NULL);
	tm->in_tx = false;
	snap_release(tm);
}

static int not_built(struct strbuf *err)
{
	return sm_err(err, -ENOTSUP, "not available in team mode yet");
}

static int team_open_collection(struct sm_truth *t, const char *name, struct sm_collection **ret,
				struct strbuf *err)
{
	(void)t;
	(void)name;
	(void)ret;
	return not_built(err);
}

static int team_commit_collection(struct sm_truth *t, struct sm_collection *c,
				  struct sm_user_collections *uc, struct strbuf *err)
{
	(void)t;
	(void)c;
	(void)uc;
	return not_built(err);
}

static int team_commit_manifest(struct sm_truth *t, struct sm_collection *c, struct strbuf *err)
{
	(void)t;
	(void)c;
	return not_built(err);
}

/* s as a TOML basic string. */
static int toml_str(struct strbuf *out, const char *s)
{
	int r = sm_strbuf_addch(out, '"');

	for (const unsigned char *c = (const unsigned char *)s; r == 0 && *c; c++) {
		if (*c == '"' || *c == '\\')
			r = sm_strbuf_addf(out, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			r = sm_strbuf_addf(out, "\\u%04x", *c);
		else
			r = sm_strbuf_addch(out, (char)*c);
	}
	return r ? r : sm_strbuf_addch(out, '"');
}

static int field(struct strbuf *out, const char *key, const char *v)
{
	int r;

	if (!v)
		return 0;
	if ((r = sm_strbuf_addf(out, "%s = ", key)) < 0 || (r = toml_str(out, v)) < 0)
		return r;
	return sm_strbuf_addch(out, '\n');
}

static int add_key(struct team *tm, char *key, const char *uuid)
{
	if (tm->nkeys == tm->capkeys) {
		size_t cap = tm->capkeys ? tm->capkeys * 2 : 64;
		char **k = sm_realloc(tm->keys, cap * sizeof(*k)), **u = NULL;

		if (k) {
			tm->keys = k;
			u = sm_realloc(tm->uuids, cap * sizeof(*u));
		}
		if (!u) {
			sm_free(key);
			return -ENOMEM;
		}
		tm->uuids = u;
		tm->capkeys = cap;
	}
	tm->keys[tm->nkeys] = key;
	if (!(tm->uuids[tm->nkeys] = sm_strdup(uuid))) {
		sm_free(key);
		return -ENOMEM;
	}
	tm->nkeys++;
	return 0;
}

static const char *uuid_of(const struct team *tm, const char *key)
{
	for (size_t i = 0; i < tm->nkeys; i++)
		if (!strcmp(tm->keys[i], key))
			return tm->uuids[i];
	return NULL;
}

/* "members = [...]" of collection id, every page of it; keys recorded. */
static int members(struct team *tm, struct sm_store *st, const char *id, struct strbuf *out,
		   struct strbuf *err)
{
	struct sm_artifact_query q = {.user_collection_id = id, .limit = SM_STORE_MAX_LIMIT,
				      .no_total = true};
	struct sm_artifact_page page = {0};
	char *at = NULL, *an = NULL, *ac = NULL;
	bool first = true;
	int r = sm_strbuf_addstr(out, "members = [");

	for (bool more = true; r == 0 && more;) {
		q.after_type = at;
		q.after_name = an;
		q.after_collection = ac;
		if ((r = sm_store_list_artifacts(st, &q, &page, err)) < 0)
			break;
		r = 0; /* the row count */
		for (size_t i = 0; r == 0 && i < page.n; i++) {
			const struct sm_artifact_row *a = &page.rows[i];
			struct strbuf key = STRBUF_INIT;

			r = sm_strbuf_addf(&key, "%s/%s:%s", a->collection, a->type, a->name);
			if (r == 0)
				r = sm_strbuf_addstr(out, first ? "" : ", ");
			if (r == 0)
				r = toml_str(out, key.buf);
			if (r == 0)
				r = add_key(tm, sm_strbuf_detach(&key, NULL), a->uuid);
			sm_strbuf_release(&key);
			first = false;
		}
		more = page.has_next && page.n;
		sm_free(at);
		sm_free(an);
		sm_free(ac);
		at = an = ac = NULL;
		if (r == 0 && more) {
			const struct sm_artifact_row *last = &page.rows[page.n - 1];

			at = sm_strdup(last->type);
			an = sm_strdup(last->name);
			ac = sm_strdup(last->collection);
			if (!at || !an || !ac)
				r = -ENOMEM;
		}
		sm_artifact_page_release(&page);
	}
	sm_free(at);
	sm_free(an);
	sm_free(ac);
	if (r == 0)
		r = sm_strbuf_addstr(out, "]\n");
	return r;
}

/* Every user collection of the tenant but the default one, as rows. */
static int read_rows(struct team *tm, struct sm_store *st, struct strbuf *err)
{
	struct sm_user_collection_query q = {.limit = SM_STORE_MAX_LIMIT, .no_total = true};
	struct sm_user_collection_page page = {0};
	char *after = NULL;
	int r = 0;

	for (bool more = true; r == 0 && more;) {
		q.after_id = after;
		if ((r = sm_store_list_user_collections(st, &q, &page, err)) < 0)
			break;
		r = 0; /* the row count */
		struct sm_user_collection_row *v =
		    sm_realloc(tm->rows, (tm->nrows + page.n + 1) * sizeof(*v));

		more = page.has_next && page.n;
		sm_free(after);
		after = more ? sm_strdup(page.rows[page.n - 1].id) : NULL;
		if (!v || (more && !after)) {
			r = -ENOMEM;
		} else {
			tm->rows = v;
			for (size_t i = 0; i < page.n; i++) {
				if (!strcmp(page.rows[i].id, SM_UC_DEFAULT_ID)) {
					sm_user_collection_row_release(&page.rows[i]);
					continue;
				}
				tm->rows[tm->nrows++] = page.rows[i];
			}
			/* the rows moved into tm->rows: only the array goes */
			sm_free(page.rows);
			page.rows = NULL;
			page.n = 0;
		}
		sm_user_collection_page_release(&page);
	}
	sm_free(after);
	return r;
}

static int team_load_uc(struct sm_truth *t, struct sm_user_collections **ret, struct strbuf *err)
{
	struct team *tm = team(t);
	struct strbuf doc = STRBUF_INIT;
	struct sm_store *st;
	int r;

	if ((r = team_connect(t, err)) < 0)
		return r;
	st = t->cache->store;
	snap_release(tm);
	r = read_rows(tm, st, err);
	for (size_t i = 0; r == 0 && i < tm->nrows; i++) {
		const struct sm_user_collection_row *u = &tm->rows[i];

		r = sm_strbuf_addstr(&doc, "[[collections]]\n");
		if (r == 0)
			r = field(&doc, "id", u->id);
		if (r == 0)
			r = field(&doc, "name", u->name);
		if (r == 0)
			r = field(&doc, "description", u->description);
		if (r == 0)
			r = field(&doc, "collection_type", u->collection_type);
		if (r == 0)
			r = field(&doc, "context_category", u->context_category);
		if (r == 0)
			r = field(&doc, "created_at", u->created_at);
		if (r == 0)
			r = field(&doc, "updated_at", u->updated_at);
		if (r == 0)
			r = members(tm, st, u->id, &doc, err);
	}
	if (r == -ENOMEM)
		r = sm_err(err, r, "out of memory");
	if (r == 0)
		r = sm_user_collections_load_text("team store", doc.buf, doc.len, &tm->snap, err);
	if (r == 0)
		r = sm_user_collections_load_text("team store", doc.buf, doc.len, ret, err);
	sm_strbuf_release(&doc);
	return r;
}

static const struct sm_user_collection *find_id(const struct sm_user_collections *f,
						const char *id)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (!strcmp(f->items[i].id, id))
			return &f->items[i];
	return NULL;
}

static const struct sm_user_collection_row *raw_row(const struct team *tm, const char *id)
{
	for (size_t i = 0; i < tm->nrows; i++)
		if (!strcmp(tm->rows[i].id, id))
			return &tm->rows[i];
	return NULL;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool has_key(const struct sm_user_collection *u, const char *key)
{
	for (size_t k = 0; u && k < u->nmembers; k++)
		if (!strcmp(u->members[k], key))
			return true;
	return false;
}

/* The members of now that were not in was: added, by uuid, in one statement. */
static int save_added(struct sm_truth *t, const struct sm_user_collection *was,
		      const struct sm_user_collection *now, const char *at, struct strbuf *err)
{
	struct sm_store *st = t->cache->store;
	char **uuids = sm_calloc(now->nmembers + 1, sizeof(*uuids));
	size_t n = 0;
	int r = uuids ? 0 : sm_err(err, -ENOMEM, "out of memory");

	for (size_t k = 0; r == 0 && k < now->nmembers; k++) {
		const char *key = now->members[k];
		const char *known = uuid_of(team(t), key);
		struct sm_artifact_row row;

		if (has_key(was, key))
			continue;
		if (known) {
			uuids[n] = sm_strdup(known);
		} else if ((r = sm_cache_resolve_artifact(t->cache, key, true, &row, err)) == 0) {
			uuids[n] = row.uuid;
			row.uuid = NULL;
			sm_artifact_row_release(&row);
		}
		if (r == 0 && !uuids[n++])
			r = sm_err(err, -ENOMEM, "out of memory");
	}
	if (r == 0 && n)
		r = sm_store_add_members(st, now->id, (const char *const *)uuids, n, at, err);
	for (size_t i = 0; uuids && i < n; i++)
		sm_free(uuids[i]);
	sm_free(uuids);
	return r < 0 ? r : 0;
}

static int save_removed(struct sm_truth *t, const struct sm_user_collection *was,
			const struct sm_user_collection *now, struct strbuf *err)
{
	int r = 0;

	for (size_t k = 0; r >= 0 && was && k < was->nmembers; k++) {
		const char *uuid = uuid_of(team(t), was->members[k]);

		if (!has_key(now, was->members[k]) && uuid)
			r = sm_store_remove_member(t->cache->store, now->id, uuid, err);
	}
	return r < 0 ? r : 0;
}

static int save_one(struct sm_truth *t, const struct sm_user_collection *now, const char *stamp,
		    struct strbuf *err)
{
	struct team *tm = team(t);
	const struct sm_user_collection *was = find_id(tm->snap, now->id);
	const struct sm_user_collection_row *raw = raw_row(tm, now->id);
	struct sm_user_collection_row row = {
	    .id = (char *)now->id,
	    .name = (char *)now->name,
	    .description = (char *)now->description,
	    .collection_type = (char *)now->collection_type,
	    .context_category = (char *)now->context_category,
	    .created_at = (char *)(now->created_at ? now->created_at
				   : raw	   ? raw->created_at
						   : stamp),
	    .updated_at = (char *)(now->updated_at ? now->updated_at : stamp),
	};
	int r = 0;

	if (!was)
		r = sm_store_create_user_collection(t->cache->store, &row, err);
	else if (!same(was->name, now->name) || !same(was->description, now->description) ||
		 !same(was->collection_type, now->collection_type) ||
		 !same(was->context_category, now->context_category) ||
		 !same(was->updated_at, now->updated_at))
		r = sm_store_put_user_collection(t->cache->store, &row, err);
	if (r >= 0)
		r = save_removed(t, was, now, err);
	if (r >= 0)
		r = save_added(t, was, now, row.updated_at, err);
	return r < 0 ? r : 0;
}

static int team_save_uc(struct sm_truth *t, struct sm_user_collections *f, struct strbuf *err)
{
	struct team *tm = team(t);
	char stamp[SM_ISO_MAX];
	int r;

	if (!tm->in_tx || !t->cache)
		return sm_err(err, -EINVAL, "the team store is not locked");
	if ((r = sm_time_now_iso(stamp)) < 0)
		return sm_err(err, r, "cannot read the clock");
	/* gone first: a new or renamed collection may take a deleted one's name */
	for (size_t i = 0; r >= 0 && tm->snap && i < tm->snap->n; i++)
		if (!find_id(f, tm->snap->items[i].id))
			r = sm_store_delete_user_collection(t->cache->store, tm->snap->items[i].id,
							    err);
	for (size_t i = 0; r >= 0 && i < f->n; i++)
		r = save_one(t, &f->items[i], stamp, err);
	if (r >= 0)
		r = sm_store_commit(t->cache->store, err);
	else
		(void)sm_store_rollback(t->cache->store, NULL);
	tm->in_tx = false;
	return r < 0 ? r : 0;
}

static int team_remove_artifact(struct sm_truth *t, const char *collection, const char *type,
				const char *name, size_t *dropped, struct strbuf *err)
{
	struct team *tm = team(t);
	struct sm_artifact_row row = {0};
	struct sm_membership *m = NULL;
	size_t nm = 0;
	int r;

	if (!tm->in_tx || !t->cache)
		return sm_err(err, -EINVAL, "the team store is not locked");
	r = sm_store_get_artifact_by_key(t->cache->store, collection, type, name, &row, err);
	if (r == 0)
		r = sm_store_memberships_of(t->cache->store, (const char *const *)&row.uuid, 1, &m,
					    &nm, err);
	if (r >= 0)
		r = sm_store_delete_artifact(t->cache->store, row.uuid, err);
	if (r >= 0)
		r = sm_store_commit(t->cache->store, err);
	else
		(void)sm_store_rollback(t->cache->store, NULL);
	tm->in_tx = false;
	sm_memberships_free(m, nm);
	sm_artifact_row_release(&row);
	if (r >= 0)
		*dropped = nm;
	return r < 0 ? r : 0;
}

static struct sm_cache *team_index(struct sm_truth *t, struct strbuf *err)
{
	return team_connect(t, err) < 0 ? NULL : t->cache;
}

/* The database is its own index: nothing to bring up to date. */
static int team_index_collection(struct sm_truth *t, struct sm_collection *c, unsigned flags,
				 struct sm_sync_stats *st, struct strbuf *err)
{
	(void)t;
	(void)c;
	(void)flags;
	(void)st;
	(void)err;
	return 0;
}

static int team_index_uc(struct sm_truth *t, struct sm_sync_stats *st, struct strbuf *err)
{
	(void)t;
	(void)st;
	(void)err;
	return 0;
}

/*
 * A sync (refresh-cache, migrate-to-default): the rows are the truth, so no
 * artifact is read again (each counts as unchanged); what remains of a sync
 * is that the default user collection holds every artifact, as the SQLite
 * sync makes it (an artifact a client wrote without its membership joins
 * it). One transaction under the tenant's lock; when nothing is added, no
 * row changes (no revision bump). Inside an operation that holds the lock (a warm sync before ids
 * are resolved): nothing to do.
 */
static int team_index_sync(struct sm_truth *t, const char *name, unsigned flags,
			   struct sm_sync_stats *st, struct strbuf *err)
{
	struct team *tm = team(t);
	int64_t artifacts = 0, added = 0, t0 = sm_time_mono_ns();
	int r;

	(void)flags;
	/* an operation's warm sync under its own lock: it reads what it holds */
	if (tm->in_tx)
		return 0;
	if ((r = team_connect(t, err)) < 0)
		return r;
	if ((r = sm_store_begin(t->cache->store, err)) < 0)
		return r;
	r = sm_store_pg_fill_default(t->cache->store, name, &artifacts, &added, err);
	if (r == 0)
		r = sm_store_commit(t->cache->store, err);
	else
		(void)sm_store_rollback(t->cache->store, NULL);
	if (r < 0)
		return r;
	if (st) {
		st->collections += 1;
		st->unchanged += (size_t)artifacts;
		st->duration_seconds += (double)(sm_time_mono_ns() - t0) / 1e9;
	}
	return 0;
}

static int by_walk_order(const void *a, const void *b)
{
	return sm_fs_path_cmp(((const struct sm_truth_file *)a)->path,
			      ((const struct sm_truth_file *)b)->path);
}

/* The rows of artifact_files: paths and sizes, in sm_fs_walk's order as the files'. */
static int team_list_files(struct sm_truth *t, const struct sm_artifact_row *row,
			   struct sm_truth_file **ret, size_t *ret_n, struct strbuf *err)
{
	struct sm_pg_file_info *v = NULL;
	struct sm_truth_file *f = NULL;
	size_t n = 0;
	int r;

	if ((r = team_connect(t, err)) < 0)
		return r;
	if ((r = sm_store_pg_list_files(t->cache->store, row->uuid, &v, &n, err)) < 0)
		return r;
	if (n == 0) {
		/* an upload has at least one file: none is a row whose files are gone */
		sm_free(v);
		return sm_err(err, -ENOENT, "the files of %s:%s are missing", row->type, row->name);
	}
	f = sm_calloc(n, sizeof(*f));
	if (!f) {
		sm_pg_file_infos_free(v, n);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		f[i] = (struct sm_truth_file){v[i].path, v[i].size};
	sm_free(v);
	/* byte order ("a-b/x" < "a/x") is not the walk's ("a/x" < "a-b/x") */
	qsort(f, n, sizeof(*f), by_walk_order);
	*ret = f;
	*ret_n = n;
	return 0;
}

static int team_read_file(struct sm_truth *t, const struct sm_artifact_row *row, const char *rel,
			  size_t max, struct strbuf *out, struct strbuf *err)
{
	int r;

	/* stored paths came in JSON strings: another byte string names none of them */
	if (!sm_utf8_valid(rel, strlen(rel)))
		return sm_err(err, -ENOENT, "file not found in %s:%s", row->type, row->name);
	if ((r = team_connect(t, err)) < 0)
		return r;
	r = sm_store_pg_read_file(t->cache->store, row->uuid, rel, max, out, err);
	if (r == -ENOENT)
		r = sm_err(err, -ENOENT, "file '%s' not found in %s:%s", rel, row->type, row->name);
	return r;
}

static void team_release(struct sm_truth *t)
{
	struct team *tm = team(t);

	if (!tm)
		return;
	team_unlock(t);
	sm_free(tm->url);
	sm_free(tm->tenant);
	sm_free(tm);
	t->impl = NULL;
}

static const struct sm_truth_ops team_ops = {
	.lock = team_lock,
	.unlock = team_unlock,
	.open_collection = team_open_collection,
	.commit_collection = team_commit_collection,
	.commit_manifest = team_commit_manifest,
	.load_user_collections = team_load_uc,
	.save_user_collections = team_save_uc,
	.index = team_index,
	.index_collection = team_index_collection,
	.index_user_collections = team_index_uc,
	.index_sync = team_index_sync,
	.remove_artifact = team_remove_artifact,
	.list_files = team_list_files,
	.read_file = team_read_file,
	.release = team_release,
};

int sm_truth_team_init(struct sm_truth *t, struct sm_home *home, const char *url,
		       const char *tenant)
{
	struct team *tm = sm_calloc(1, sizeof(*tm));

	memset(t, 0, sizeof(*t));
	t->ops = &team_ops;
	t->home = home;
	if (!tm)
		return -ENOMEM;
	t->impl = tm;
	tm->url = sm_strdup(url);
	tm->tenant = sm_strdup(tenant);
	return tm->url && tm->tenant ? 0 : -ENOMEM;
}
