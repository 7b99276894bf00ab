/* SPDX-License-Identifier: MIT */
/* user-collections.toml into the cache: collections, then memberships. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/test_hooks.h"
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
	r = sm_cache_artifact_key_of(row, n, out);
	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

int sm_cache_artifact_key_of(const struct sm_artifact_row *row, size_t same_name,
			     struct strbuf *out)
{
	if (same_name > 1)
		return sm_strbuf_addf(out, "%s/%s:%s", row->collection, row->type, row->name);
	return sm_strbuf_addf(out, "%s:%s", row->type, row->name);
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

/* The row stored under key s in map (id or name), or NULL. */
static const struct sm_user_collection_row *db_find(const struct sm_hashmap *map, const char *s)
{
	void *v = NULL;

	return sm_hashmap_get(map, s, strlen(s), &v) ? v : NULL;
}

/* Maps from id and from name to the rows (borrowed). */
static int db_index(struct sm_user_collection_row *rows, size_t n, struct sm_hashmap **by_id,
		    struct sm_hashmap **by_name)
{
	if (sm_hashmap_new(by_id) < 0 || sm_hashmap_new(by_name) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (sm_hashmap_put(*by_id, rows[i].id, strlen(rows[i].id), &rows[i], NULL) < 0 ||
		    sm_hashmap_put(*by_name, rows[i].name, strlen(rows[i].name), &rows[i], NULL) < 0)
			return -ENOMEM;
	return 0;
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
	struct sm_hashmap *by_id = NULL, *by_name = NULL;
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
	if (db_index(db, ndb, &by_id, &by_name) < 0) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f->n && !clash; i++) {
		const struct sm_user_collection_row *o = db_find(by_name, f->items[i].name);

		clash = o && strcmp(o->id, f->items[i].id);
	}
	for (size_t i = 0; clash && i < f->n && r >= 0; i++) {
		const struct sm_user_collection_row *o = db_find(by_id, f->items[i].id);
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
		const struct sm_user_collection_row *o = db_find(by_id, f->items[i].id);
		struct sm_user_collection_row row = {0};

		file_row(&f->items[i], &row);
		if (o && same_row(o, &row))
			continue;
		r = sm_store_put_user_collection(cache->store, &row, err);
	}
out:
	sm_hashmap_free(by_id);
	sm_hashmap_free(by_name);
	db_rows_free(db, ndb);
	sm_free(keep);
	sm_strbuf_release(&tmp);
	return r < 0 ? r : 0;
}

/*
 * Every artifact of the cache in (type, name, collection) order, with a map
 * from "type\0name" to the run of rows holding it: resolving many members
 * costs one pass over the artifacts instead of a query per member.
 */
struct art_span {
	size_t first, count;
};

struct art_index {
	struct sm_artifact_row *rows;
	size_t n;
	struct art_span *spans;
	struct sm_hashmap *map;
};

static void index_release(struct art_index *ix)
{
	sm_artifact_rows_free(ix->rows, ix->n);
	sm_free(ix->spans);
	sm_hashmap_free(ix->map);
	memset(ix, 0, sizeof(*ix));
}

static int index_rows(struct sm_store *st, struct art_index *ix, struct strbuf *err)
{
	struct sm_artifact_query q = {.limit = SM_STORE_MAX_LIMIT, .no_total = true};
	struct sm_artifact_page page = {0};
	char *at = NULL, *an = NULL, *ac = NULL;
	int r;

	for (;;) {
		struct sm_artifact_row *nv;

		r = sm_store_list_artifacts(st, &q, &page, err);
		if (r < 0)
			break;
		nv = sm_reallocarray(ix->rows, ix->n + page.n + 1, sizeof(*nv));
		if (!nv) {
			sm_artifact_page_release(&page);
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		ix->rows = nv;
		for (size_t i = 0; i < page.n; i++) {
			ix->rows[ix->n++] = page.rows[i];
			memset(&page.rows[i], 0, sizeof(page.rows[i]));
		}
		sm_free(at);
		sm_free(an);
		sm_free(ac);
		at = an = ac = NULL;
		if (!page.has_next || !page.n) {
			sm_artifact_page_release(&page);
			break;
		}
		sm_artifact_page_release(&page);
		at = sm_strdup(ix->rows[ix->n - 1].type);
		an = sm_strdup(ix->rows[ix->n - 1].name);
		ac = sm_strdup(ix->rows[ix->n - 1].collection);
		if (!at || !an || !ac) {
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		q.after_type = at;
		q.after_name = an;
		q.after_collection = ac;
	}
	sm_free(at);
	sm_free(an);
	sm_free(ac);
	return r < 0 ? r : 0;
}

static int span_key(struct strbuf *sb, const char *type, const char *name, size_t namelen)
{
	sm_strbuf_reset(sb);
	int r;

	if ((r = sm_strbuf_add(sb, type, strlen(type) + 1)) < 0)
		return r;
	return sm_strbuf_add(sb, name, namelen);
}

static int index_build(struct sm_store *st, struct art_index *ix, struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT;
	size_t nspans = 0;
	int r;

	memset(ix, 0, sizeof(*ix));
	r = index_rows(st, ix, err);
	if (r == 0 && (r = sm_hashmap_new(&ix->map)) < 0)
		sm_err(err, r, "out of memory");
	if (r == 0 && !(ix->spans = sm_calloc(ix->n + 1, sizeof(*ix->spans))))
		r = sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < ix->n; i++) {
		const struct sm_artifact_row *a = &ix->rows[i];
		struct art_span *sp = nspans ? &ix->spans[nspans - 1] : NULL;

		if (sp && !strcmp(ix->rows[sp->first].type, a->type) &&
		    !strcmp(ix->rows[sp->first].name, a->name)) {
			sp->count++;
			continue;
		}
		sp = &ix->spans[nspans++];
		sp->first = i;
		sp->count = 1;
		if (span_key(&key, a->type, a->name, strlen(a->name)) < 0 ||
		    sm_hashmap_put(ix->map, key.buf, key.len, sp, NULL) < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
	}
	sm_strbuf_release(&key);
	if (r < 0)
		index_release(ix);
	return r;
}

static const struct art_span *index_find(const struct art_index *ix, const char *type,
					 const char *name, struct strbuf *key)
{
	size_t len = strlen(name);
	void *v;

	if (span_key(key, type, name, len) == 0 && sm_hashmap_get(ix->map, key->buf, key->len, &v))
		return v;
	for (size_t i = 0; i < SM_ARRAY_SIZE(name_exts); i++) {
		size_t el = strlen(name_exts[i]);

		if (len <= el || strcmp(name + len - el, name_exts[i]))
			continue;
		if (span_key(key, type, name, len - el) == 0 &&
		    sm_hashmap_get(ix->map, key->buf, key->len, &v))
			return v;
		return NULL;
	}
	return NULL;
}

/* As sm_cache_resolve_artifact(prefer_active) for a member key; NULL when dangling. */
static const struct sm_artifact_row *index_resolve(const struct art_index *ix, const char *active,
						   const char *member, struct strbuf *key)
{
	struct sm_user_collection_key k;
	const struct art_span *sp;
	const struct sm_artifact_row *hit = NULL;
	size_t hits = 0;

	if (sm_user_collections_key_parse(member, &k, NULL) < 0)
		return NULL;
	sp = index_find(ix, k.type, k.name, key);
	if (!sp)
		return NULL;
	for (size_t i = sp->first; i < sp->first + sp->count; i++) {
		const struct sm_artifact_row *a = &ix->rows[i];

		if (k.collection) {
			if (strlen(a->collection) == k.collection_len &&
			    !memcmp(a->collection, k.collection, k.collection_len))
				return a;
		} else if (sp->count == 1) {
			return a;
		} else if (!strcmp(a->collection, active)) {
			hit = a;
			hits++;
		}
	}
	return hits == 1 ? hit : NULL;
}

/* The artifacts the members of one collection resolve to, without duplicates. */
struct resolved {
	char **uuids;
	size_t n;
};

static void resolved_release(struct resolved *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		sm_free(rs->uuids[i]);
	sm_free(rs->uuids);
	memset(rs, 0, sizeof(*rs));
}

static int resolve_members(struct sm_cache *cache, const struct art_index *ix,
			   const struct sm_user_collection *uc, struct resolved *ret,
			   struct strbuf *err)
{
	const char *active = sm_home_active_collection(cache->home);
	struct strbuf why = STRBUF_INIT, key = STRBUF_INIT;
	struct sm_hashmap *seen = NULL;
	struct resolved rs = {0};
	int r = 0;

	rs.uuids = sm_calloc(uc->nmembers + 1, sizeof(*rs.uuids));
	if (!rs.uuids || sm_hashmap_new(&seen) < 0) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < uc->nmembers; i++) {
		struct sm_artifact_row row = {0};
		char *uuid;

		sm_strbuf_reset(&why);
		if (ix) {
			const struct sm_artifact_row *a =
			    index_resolve(ix, active, uc->members[i], &key);

			r = a ? 0 : -ENOENT;
			uuid = a ? sm_strdup(a->uuid) : NULL;
			if (a && !uuid)
				r = -ENOMEM;
		} else {
			r = sm_cache_resolve_artifact(cache, uc->members[i], true, &row, &why);
			uuid = row.uuid;
			row.uuid = NULL;
			sm_artifact_row_release(&row);
		}
		if (r == -ENOENT || r == -EEXIST || r == -EINVAL) {
			/* a dangling member stays in the file; not indexed */
			sm_log_info("user collection '%s': member '%s' not indexed%s%s", uc->name,
				    uc->members[i], why.len ? ": " : "", why.buf);
			r = 0;
			continue;
		}
		if (r < 0) {
			r = sm_err(err, r, "cannot resolve '%s': %s", uc->members[i],
				   why.len ? why.buf : sm_strerror(r));
			goto out;
		}
		if (sm_hashmap_get(seen, uuid, strlen(uuid), NULL)) {
			sm_free(uuid);
			continue;
		}
		rs.uuids[rs.n++] = uuid;
		if (sm_hashmap_put(seen, uuid, strlen(uuid), NULL, NULL) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	if (r < 0)
		resolved_release(&rs);
	else
		*ret = rs;
	sm_hashmap_free(seen);
	sm_strbuf_release(&why);
	sm_strbuf_release(&key);
	return r < 0 ? r : 0;
}

static int member_key(struct strbuf *sb, const char *coll_id, const char *uuid)
{
	sm_strbuf_reset(sb);
	int r;

	if ((r = sm_strbuf_add(sb, coll_id, strlen(coll_id) + 1)) < 0)
		return r;
	return sm_strbuf_addstr(sb, uuid);
}

/*
 * The current memberships of the resolved artifacts, as a set of
 * "collection id\0uuid" (one query for all collections).
 */
static int current_members(struct sm_cache *cache, const struct resolved *rs, size_t nrs,
			   struct sm_hashmap **ret, struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT;
	struct sm_membership *m = NULL;
	struct sm_hashmap *have = NULL;
	const char **all = NULL;
	size_t nall = 0, nm = 0;
	int r;

	for (size_t i = 0; i < nrs; i++)
		nall += rs[i].n;
	if ((r = sm_hashmap_new(&have)) < 0)
		return sm_err(err, r, "out of memory");
	all = sm_calloc(nall + 1, sizeof(*all));
	if (!all) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	nall = 0;
	for (size_t i = 0; i < nrs; i++)
		for (size_t k = 0; k < rs[i].n; k++)
			all[nall++] = rs[i].uuids[k];
	if (nall && (r = sm_store_memberships_of(cache->store, all, nall, &m, &nm, err)) < 0)
		goto out;
	r = 0;
	for (size_t i = 0; i < nm && r == 0; i++)
		if (member_key(&key, m[i].collection_id, m[i].artifact_uuid) < 0 ||
		    sm_hashmap_put(have, key.buf, key.len, NULL, NULL) < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
out:
	sm_memberships_free(m, nm);
	sm_free(all);
	sm_strbuf_release(&key);
	if (r < 0) {
		sm_hashmap_free(have);
		return r;
	}
	*ret = have;
	return 0;
}

/*
 * Make the memberships of uc equal rs: add the missing ones and prune the
 * others, so an unchanged file writes nothing. count: its members now.
 */
static int apply_members(struct sm_cache *cache, const struct sm_user_collection *uc,
			 const struct resolved *rs, const struct sm_hashmap *have, int64_t count,
			 struct strbuf *err)
{
	/*
	 * The file does not record when a member joined; the collection's
	 * creation time stands in, so a rebuild gives the same rows.
	 */
	const char *added_at = uc->created_at ? uc->created_at : NO_TIME;
	struct strbuf key = STRBUF_INIT;
	const char **add;
	size_t nadd = 0;
	int r = 0;

	add = sm_calloc(rs->n + 1, sizeof(*add));
	if (!add)
		return sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < rs->n && r == 0; i++) {
		if (member_key(&key, uc->id, rs->uuids[i]) < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
		else if (!sm_hashmap_get(have, key.buf, key.len, NULL))
			add[nadd++] = rs->uuids[i];
	}
	if (r == 0 && nadd)
		r = sm_store_add_members(cache->store, uc->id, add, nadd, added_at, err);
	/* every one of rs is a member: any more are to go */
	if (r >= 0 && count > (int64_t)(rs->n - nadd))
		r = sm_store_prune_members(cache->store, uc->id, (const char *const *)rs->uuids,
					   rs->n, err);
	sm_free(add);
	sm_strbuf_release(&key);
	return r < 0 ? r : 0;
}

/*
 * From how many members in all the index pays off (a query per member below).
 * SKILLMEAT_UC_INDEX_MIN (a test hook) overrides it, so tests run both paths.
 */
static size_t index_min(void)
{
	return (size_t)sm_test_hook("SKILLMEAT_UC_INDEX_MIN", 64);
}

static int sync_all_members(struct sm_cache *cache, const struct sm_user_collections *f,
			    struct strbuf *err)
{
	struct art_index ix = {0};
	struct resolved *rs = NULL;
	struct sm_hashmap *have = NULL;
	const char **ids = NULL;
	int64_t *counts = NULL;
	bool use_index;
	size_t total = 0;
	int r = 0;

	for (size_t i = 0; i < f->n; i++)
		total += f->items[i].nmembers;
	use_index = total && total >= index_min();
	if (use_index && (r = index_build(cache->store, &ix, err)) < 0)
		return r;
	rs = sm_calloc(f->n + 1, sizeof(*rs));
	if (!rs)
		r = sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < f->n && r >= 0; i++)
		r = resolve_members(cache, use_index ? &ix : NULL, &f->items[i], &rs[i], err);
	if (use_index)
		index_release(&ix);
	if (r >= 0)
		r = current_members(cache, rs, f->n, &have, err);
	if (r >= 0 && f->n) {
		ids = sm_calloc(f->n, sizeof(*ids));
		counts = sm_calloc(f->n, sizeof(*counts));
		if (!ids || !counts)
			r = sm_err(err, -ENOMEM, "out of memory");
		for (size_t i = 0; r >= 0 && i < f->n; i++)
			ids[i] = f->items[i].id;
		if (r >= 0)
			r = sm_store_count_members(cache->store, ids, f->n, counts, err);
	}
	for (size_t i = 0; i < f->n && r >= 0; i++)
		r = apply_members(cache, &f->items[i], &rs[i], have, counts[i], err);
	sm_free(ids);
	sm_free(counts);
	for (size_t i = 0; rs && i < f->n; i++)
		resolved_release(&rs[i]);
	sm_free(rs);
	sm_hashmap_free(have);
	return r;
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
		if (r >= 0)
			r = sync_all_members(cache, f, err);
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

int sm_cache_drop_members(struct sm_cache *cache, struct sm_user_collections *f, const char *uuid,
			  const char *key, struct strbuf *err)
{
	int removed = 0, r;

	for (size_t i = 0; i < f->n; i++) {
		for (size_t k = f->items[i].nmembers; k-- > 0;) {
			const char *m = f->items[i].members[k];
			struct sm_artifact_row row;
			bool same = key && !strcmp(m, key);

			if (!same && sm_cache_resolve_artifact(cache, m, true, &row, NULL) == 0) {
				same = !strcmp(row.uuid, uuid);
				sm_artifact_row_release(&row);
			}
			if (!same)
				continue;
			r = sm_user_collections_remove_member(f, i, m, err);
			if (r < 0)
				return r;
			removed += r;
		}
	}
	return removed;
}
