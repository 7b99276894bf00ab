/* SPDX-License-Identifier: MIT */
/* user-collections.toml into the cache: collections, then memberships. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

/* A stand-in for a missing timestamp, so a rebuild gives the same row. */
#define NO_TIME "1970-01-01T00:00:00"

static const char *const name_exts[] = {".md", ".txt", ".json", ".yaml", ".yml"};

/* Rows named name (of type, or any type when NULL); a trailing extension is ignored. */
static int find_named(struct sm_store *st, const char *type, const char *name,
		      struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	size_t len = strlen(name);
	int r;

	r = sm_store_find_artifacts(st, type, name, ret, ret_n, err);
	if (r != 0)
		return r;
	sm_artifact_rows_free(*ret, *ret_n);
	*ret = NULL;
	for (size_t i = 0; i < SM_ARRAY_SIZE(name_exts); i++) {
		size_t el = strlen(name_exts[i]);
		char *base;

		if (len <= el || strcmp(name + len - el, name_exts[i]))
			continue;
		base = sm_strndup(name, len - el);
		if (!base)
			return sm_err(err, -ENOMEM, "out of memory");
		r = sm_store_find_artifacts(st, type, base, ret, ret_n, err);
		sm_free(base);
		return r;
	}
	return 0;
}

static int take_row(struct sm_artifact_row *rows, size_t n, size_t pick,
		    struct sm_artifact_row *ret)
{
	*ret = rows[pick];
	memset(&rows[pick], 0, sizeof(rows[pick]));
	sm_artifact_rows_free(rows, n);
	return 0;
}

int sm_cache_resolve_artifact(struct sm_cache *cache, const char *id, bool prefer_active,
			      struct sm_artifact_row *ret, struct strbuf *err)
{
	struct sm_user_collection_key k = {0};
	struct sm_artifact_row *rows = NULL;
	struct strbuf coll = STRBUF_INIT, list = STRBUF_INIT;
	const char *type = NULL, *name = id;
	size_t n = 0;
	int r;

	if (strchr(id, ':')) {
		r = sm_user_collections_key_parse(id, &k, err);
		if (r < 0)
			return r;
		type = k.type;
		name = k.name;
	} else if (!*id) {
		return sm_err(err, -EINVAL, "an artifact id cannot be empty");
	}
	r = find_named(cache->store, type, name, &rows, &n, err);
	if (r < 0)
		return r;
	if (k.collection) {
		if ((r = sm_strbuf_add(&coll, k.collection, k.collection_len)) < 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(rows[i].collection, coll.buf)) {
				r = take_row(rows, n, i, ret);
				rows = NULL;
				goto out;
			}
		r = sm_err(err, -ENOENT, "artifact '%s' not found", id);
		goto out;
	}
	if (n == 1) {
		r = take_row(rows, n, 0, ret);
		rows = NULL;
		goto out;
	}
	if (n == 0) {
		r = sm_err(err, -ENOENT, "artifact '%s' not found", id);
		goto out;
	}
	if (prefer_active) {
		const char *active = sm_home_active_collection(cache->home);
		size_t pick = 0, hits = 0;

		for (size_t i = 0; i < n; i++)
			if (!strcmp(rows[i].collection, active)) {
				pick = i;
				hits++;
			}
		if (hits == 1) {
			r = take_row(rows, n, pick, ret);
			rows = NULL;
			goto out;
		}
	}
	for (size_t i = 0; i < n && r >= 0; i++)
		r = sm_strbuf_addf(&list, "%s%s/%s:%s", i ? ", " : "", rows[i].collection,
				   rows[i].type, rows[i].name);
	r = sm_err(err, -EEXIST, "'%s' is ambiguous: %s", id, list.buf);
out:
	sm_artifact_rows_free(rows, n);
	sm_strbuf_release(&coll);
	sm_strbuf_release(&list);
	return r;
}

int sm_cache_artifact_key(struct sm_cache *cache, const struct sm_artifact_row *row,
			  struct strbuf *out, struct strbuf *err)
{
	struct sm_artifact_row *rows = NULL;
	size_t n = 0;
	int r;

	r = sm_store_find_artifacts(cache->store, row->type, row->name, &rows, &n, err);
	if (r < 0)
		return r;
	sm_artifact_rows_free(rows, n);
	if (n > 1)
		r = sm_strbuf_addf(out, "%s/%s:%s", row->collection, row->type, row->name);
	else
		r = sm_strbuf_addf(out, "%s:%s", row->type, row->name);
	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

/* ---- sync ---- */

static void add_note(struct sm_sync_stats *s, const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	char **nv;

	s->errors++;
	if (sm_strbuf_addstr(&sb, msg) < 0)
		goto out;
	nv = sm_reallocarray(s->messages, s->nmessages + 1, sizeof(*nv));
	if (!nv)
		goto out;
	s->messages = nv;
	s->messages[s->nmessages] = sm_strbuf_detach(&sb, NULL);
	if (s->messages[s->nmessages])
		s->nmessages++;
out:
	sm_strbuf_release(&sb);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Every user collection row of the cache, in id order. */
static int db_rows(struct sm_store *st, struct sm_user_collection_row **ret, size_t *ret_n,
		   struct strbuf *err)
{
	struct sm_user_collection_query q = {.limit = SM_STORE_MAX_LIMIT, .no_total = true};
	struct sm_user_collection_page page = {0};
	struct sm_user_collection_row *rows = NULL, *nv;
	char *after = NULL;
	size_t n = 0;
	int r;

	for (;;) {
		q.after_id = after;
		r = sm_store_list_user_collections(st, &q, &page, err);
		if (r < 0)
			break;
		nv = sm_reallocarray(rows, n + page.n + 1, sizeof(*rows));
		if (!nv) {
			sm_user_collection_page_release(&page);
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		rows = nv;
		for (size_t i = 0; i < page.n; i++) {
			rows[n++] = page.rows[i];
			memset(&page.rows[i], 0, sizeof(page.rows[i]));
		}
		sm_free(after);
		after = NULL;
		if (!page.has_next || !page.n) {
			sm_user_collection_page_release(&page);
			break;
		}
		after = sm_strdup(rows[n - 1].id);
		sm_user_collection_page_release(&page);
		if (!after) {
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
	}
	sm_free(after);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			sm_user_collection_row_release(&rows[i]);
		sm_free(rows);
		return r;
	}
	*ret = rows;
	*ret_n = n;
	return 0;
}

static void db_rows_free(struct sm_user_collection_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sm_user_collection_row_release(&rows[i]);
	sm_free(rows);
}

static const struct sm_user_collection_row *db_find(const struct sm_user_collection_row *rows,
						    size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].id, id))
			return &rows[i];
	return NULL;
}

static void file_row(const struct sm_user_collection *uc, struct sm_user_collection_row *row)
{
	/* borrowed strings: the row is only read by the store */
	row->id = (char *)uc->id;
	row->name = (char *)uc->name;
	row->description = (char *)uc->description;
	row->collection_type = (char *)uc->collection_type;
	row->context_category = (char *)uc->context_category;
	row->created_at = (char *)(uc->created_at ? uc->created_at : NO_TIME);
	row->updated_at = (char *)(uc->updated_at ? uc->updated_at : row->created_at);
}

static bool same_row(const struct sm_user_collection_row *a, const struct sm_user_collection_row *b)
{
	return same_str(a->name, b->name) && same_str(a->description, b->description) &&
	       same_str(a->collection_type, b->collection_type) &&
	       same_str(a->context_category, b->context_category) &&
	       same_str(a->created_at, b->created_at) && same_str(a->updated_at, b->updated_at);
}

/*
 * The collection rows: prune the ones gone from the file, then write the
 * changed ones. When a name moves from one collection to another (a swap by
 * hand), the rows whose name changes first take a temporary one.
 */
static int sync_rows(struct sm_cache *cache, const struct sm_user_collections *f,
		     struct strbuf *err)
{
	struct sm_user_collection_row *db = NULL;
	const char **keep = NULL;
	struct strbuf tmp = STRBUF_INIT;
	size_t ndb = 0;
	bool clash = false;
	int r;

	keep = sm_calloc(f->n + 1, sizeof(*keep));
	if (!keep)
		return sm_err(err, -ENOMEM, "out of memory");
	keep[0] = SM_UC_DEFAULT_ID;
	for (size_t i = 0; i < f->n; i++)
		keep[i + 1] = f->items[i].id;
	r = sm_store_prune_user_collections(cache->store, keep, f->n + 1, err);
	if (r < 0)
		goto out;
	r = db_rows(cache->store, &db, &ndb, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < f->n && !clash; i++)
		for (size_t k = 0; k < ndb && !clash; k++)
			clash = !strcmp(db[k].name, f->items[i].name) &&
				strcmp(db[k].id, f->items[i].id);
	for (size_t i = 0; clash && i < f->n && r >= 0; i++) {
		const struct sm_user_collection_row *o = db_find(db, ndb, f->items[i].id);
		struct sm_user_collection_update u = {0};

		if (!o || !strcmp(o->name, f->items[i].name))
			continue;
		sm_strbuf_reset(&tmp);
		if ((r = sm_strbuf_addf(&tmp, "\x1f%s", o->id)) < 0) {
			r = sm_err(err, r, "out of memory");
			break;
		}
		u.name = tmp.buf;
		u.updated_at = o->updated_at;
		r = sm_store_update_user_collection(cache->store, o->id, &u, err);
	}
	for (size_t i = 0; i < f->n && r >= 0; i++) {
		const struct sm_user_collection_row *o = db_find(db, ndb, f->items[i].id);
		struct sm_user_collection_row row = {0};

		file_row(&f->items[i], &row);
		if (o && same_row(o, &row))
			continue;
		r = sm_store_put_user_collection(cache->store, &row, err);
	}
out:
	db_rows_free(db, ndb);
	sm_free(keep);
	sm_strbuf_release(&tmp);
	return r < 0 ? r : 0;
}

/* Resolve the members of one collection and make the memberships equal them. */
static int sync_members(struct sm_cache *cache, const struct sm_user_collection *uc,
			struct strbuf *err)
{
	/*
	 * The file does not record when a member joined; the collection's
	 * creation time stands in, so a rebuild gives the same rows.
	 */
	const char *added_at = uc->created_at ? uc->created_at : NO_TIME;
	struct strbuf why = STRBUF_INIT;
	char **uuids = NULL;
	size_t n = 0;
	int r = 0;

	uuids = sm_calloc(uc->nmembers + 1, sizeof(*uuids));
	if (!uuids)
		return sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < uc->nmembers; i++) {
		struct sm_artifact_row row;
		bool dup = false;

		r = sm_cache_resolve_artifact(cache, uc->members[i], true, &row, &why);
		if (r == -ENOENT || r == -EEXIST || r == -EINVAL) {
			/* a dangling member stays in the file; not indexed */
			sm_log_info("user collection '%s': member '%s' not indexed: %s", uc->name,
				    uc->members[i], why.buf);
			r = 0;
			continue;
		}
		if (r < 0) {
			sm_err(err, r, "%s", why.buf);
			goto out;
		}
		for (size_t k = 0; k < n && !dup; k++)
			dup = !strcmp(uuids[k], row.uuid);
		if (!dup) {
			uuids[n++] = row.uuid;
			row.uuid = NULL;
		}
		sm_artifact_row_release(&row);
	}
	r = sm_store_add_members(cache->store, uc->id, (const char *const *)uuids, n, added_at,
				 err);
	if (r >= 0)
		r = sm_store_prune_members(cache->store, uc->id, (const char *const *)uuids, n,
					   err);
out:
	for (size_t i = 0; i < n; i++)
		sm_free(uuids[i]);
	sm_free(uuids);
	sm_strbuf_release(&why);
	return r < 0 ? r : 0;
}

int sm_cache_sync_user_collections(struct sm_cache *cache, struct sm_sync_stats *stats,
				   struct strbuf *err)
{
	struct sm_user_collections *f = NULL;
	struct strbuf why = STRBUF_INIT;
	bool own = false;
	int r;

	/*
	 * One transaction, or the caller's when one is open. The file is read
	 * inside it: a writer saves the file before its own sync, so whichever
	 * sync commits last has read the newest file.
	 */
	r = sm_store_begin(cache->store, &why);
	if (r == 0) {
		own = true;
	} else if (r != -EINVAL) { /* -EINVAL: the caller's transaction is open */
		r = sm_err(err, r, "%s", why.buf);
		sm_strbuf_release(&why);
		return r;
	}
	sm_strbuf_reset(&why);
	r = sm_user_collections_load(cache->home->root, &f, &why);
	if (r == -ENOMEM) {
		r = sm_err(err, r, "%s", why.buf);
	} else if (r < 0) {
		/* the cache keeps what it had; the file is the user's to fix */
		add_note(stats, why.buf);
		r = 0;
	} else {
		r = sync_rows(cache, f, err);
		for (size_t i = 0; i < f->n && r >= 0; i++)
			r = sync_members(cache, &f->items[i], err);
	}
	if (own) {
		if (r >= 0)
			r = sm_store_commit(cache->store, err);
		else
			sm_store_rollback(cache->store, NULL);
	}
	sm_user_collections_free(f);
	sm_strbuf_release(&why);
	return r < 0 ? r : 0;
}
