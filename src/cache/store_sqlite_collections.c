/* SPDX-License-Identifier: MIT */
/* The SQLite store backend: user collections and membership. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cache/db_internal.h"
#include "cache/store_internal.h"
#include "cache/store_sqlite.h"
#include "skillmeat/array.h"
#include "skillmeat/db.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

static int read_uc(sqlite3_stmt *st, struct sm_user_collection_row *row)
{
	int r;

	memset(row, 0, sizeof(*row));
	r = sm_sq_col_str(st, 0, &row->id);
	if (r == 0)
		r = sm_sq_col_str(st, 1, &row->name);
	if (r == 0)
		r = sm_sq_col_str(st, 2, &row->description);
	if (r == 0)
		r = sm_sq_col_str(st, 3, &row->collection_type);
	if (r == 0)
		r = sm_sq_col_str(st, 4, &row->context_category);
	if (r == 0)
		r = sm_sq_col_str(st, 5, &row->created_at);
	if (r == 0)
		r = sm_sq_col_str(st, 6, &row->updated_at);
	if (r < 0)
		sm_user_collection_row_release(row);
	return r;
}

static int uc_where(const struct sm_user_collection_query *q, bool with_cursor, struct strbuf *sb)
{
	int r = sm_strbuf_addstr(sb, " FROM user_collections WHERE 1");

	if (r == 0 && q->search && *q->search)
		r = sm_strbuf_addstr(sb, " AND instr(lower(name), lower(:search)) > 0");
	if (r == 0 && q->collection_type)
		r = sm_strbuf_addstr(sb, " AND collection_type = :ctype");
	if (r == 0 && with_cursor && q->after_id)
		r = sm_strbuf_addstr(sb, " AND id > :after");
	return r;
}

static int bind_uc_query(sqlite3_stmt *st, const struct sm_user_collection_query *q, size_t limit)
{
	int rc = sm_sq_bind_text(st, ":search", q->search);

	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":ctype", q->collection_type);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":after", q->after_id);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_int(st, ":limit", (int64_t)limit + 1);
	return rc;
}

int sm_sq_list_user_collections(struct sm_store *st, const struct sm_user_collection_query *q,
				struct sm_user_collection_page *ret, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	struct strbuf sql = STRBUF_INIT;
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct sm_user_collection_page page = {.total_count = -1};
	size_t limit = q->limit ? q->limit : DEFAULT_LIMIT;
	int own = 0, r, rc;
	bool began = false;

	r = sm_strbuf_addstr(&sql, "SELECT " UC_COLS);
	if (r == 0)
		r = uc_where(q, true, &sql);
	if (r == 0)
		r = sm_strbuf_addstr(&sql, " ORDER BY id LIMIT :limit");
	if (r < 0) {
		r = sm_err(err, r, "cannot build collection query");
		goto out;
	}
	page.rows = sm_calloc(limit, sizeof(*page.rows));
	if (!page.rows) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = sm_sq_op_begin(s, false, &own, err);
	if (r < 0)
		goto out;
	began = true;
	r = sm_sq_prepare(s, sql.buf, &stmt, err);
	if (r < 0)
		goto out;
	rc = bind_uc_query(stmt, q, limit);
	if (rc != SQLITE_OK) {
		r = sm_sq_fail(s, rc, err, "cannot bind collection query");
		goto out;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (page.n == limit) {
			page.has_next = true;
			rc = SQLITE_DONE;
			break;
		}
		if (read_uc(stmt, &page.rows[page.n]) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
		page.n++;
	}
	if (rc != SQLITE_DONE) {
		r = sm_sq_fail(s, rc, err, "cannot list user collections");
		goto out;
	}
	sm_sq_stmt_donep(&stmt);
	if (q->no_total)
		goto out;
	sm_strbuf_reset(&sql);
	r = sm_strbuf_addstr(&sql, "SELECT count(*)");
	if (r == 0)
		r = uc_where(q, false, &sql);
	if (r < 0) {
		r = sm_err(err, r, "cannot build collection query");
		goto out;
	}
	r = sm_sq_prepare(s, sql.buf, &stmt, err);
	if (r < 0)
		goto out;
	rc = bind_uc_query(stmt, q, limit);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		r = sm_sq_fail(s, rc, err, "cannot count user collections");
		goto out;
	}
	page.total_count = sqlite3_column_int64(stmt, 0);
out:
	if (began)
		r = sm_sq_op_end(s, false, own, r, err);
	sm_strbuf_release(&sql);
	if (r < 0) {
		sm_user_collection_page_release(&page);
		return r;
	}
	*ret = page;
	return (int)page.n;
}

int sm_sq_get_user_collection(struct sm_store *st, const char *id,
			      struct sm_user_collection_row *ret, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int r, rc;

	r = sm_sq_prepare(s, "SELECT " UC_COLS " FROM user_collections WHERE id = :id", &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(q, ":id", id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return sm_err(err, -ENOENT, "user collection '%s' not found", id);
	if (rc != SQLITE_ROW)
		return sm_sq_fail(s, rc, err, "cannot read user collection");
	if (read_uc(q, ret) < 0)
		return sm_err(err, -ENOMEM, "out of memory");
	return 0;
}

static int bind_uc(sqlite3_stmt *st, const struct sm_user_collection_row *row)
{
	int rc = sm_sq_bind_text(st, ":id", row->id);

	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":name", row->name);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":description", row->description);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":ctype", row->collection_type);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":ccat", row->context_category);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":created", row->created_at);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":updated", row->updated_at);
	return rc;
}

static int uc_write(struct sqlite_store *s, const char *sql,
		    const struct sm_user_collection_row *row, int *changes, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r, rc;

	r = sm_sq_prepare(s, sql, &st, err);
	if (r < 0)
		return r;
	rc = bind_uc(st, row);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, "cannot bind user collection");
	r = sm_sq_run(s, st, changes, err, "cannot write user collection");
	if (r == -EEXIST)
		return sm_err(err, r, "user collection '%s' already exists", row->name);
	return r;
}

static const char sql_uc_insert[] =
    "INSERT INTO user_collections (" UC_COLS ")"
    " VALUES (:id, :name, :description, :ctype, :ccat, :created, :updated)";

int sm_sq_create_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
				 struct strbuf *err)
{
	return uc_write(sm_sq(st), sql_uc_insert, row, NULL, err);
}

int sm_sq_put_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
			      struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	struct sm_user_collection_row old;
	int own, r, created = 0;

	r = sm_sq_op_begin(s, true, &own, err);
	if (r < 0)
		return r;
	r = sm_sq_get_user_collection(st, row->id, &old, err);
	if (r == 0) {
		sm_user_collection_row_release(&old);
		r = uc_write(s,
			     "UPDATE user_collections SET name = :name, description = :description,"
			     " collection_type = :ctype, context_category = :ccat,"
			     " created_at = :created, updated_at = :updated WHERE id = :id",
			     row, NULL, err);
	} else if (r == -ENOENT) {
		created = 1;
		r = uc_write(s, sql_uc_insert, row, NULL, err);
	}
	r = sm_sq_op_end(s, true, own, r, err);
	return r < 0 ? r : created;
}

int sm_sq_update_user_collection(struct sm_store *st, const char *id,
				 const struct sm_user_collection_update *u, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int changes = 0, r, rc;

	r = sm_sq_prepare(s,
			  "UPDATE user_collections SET name = coalesce(:name, name),"
			  " description = coalesce(:description, description),"
			  " collection_type = coalesce(:ctype, collection_type),"
			  " context_category = coalesce(:ccat, context_category),"
			  " updated_at = :updated WHERE id = :id",
			  &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(q, ":id", id);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":name", u->name);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":description", u->description);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":ctype", u->collection_type);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":ccat", u->context_category);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":updated", u->updated_at);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, "cannot bind user collection");
	r = sm_sq_run(s, q, &changes, err, "cannot update user collection");
	if (r == -EEXIST)
		return sm_err(err, r, "user collection '%s' already exists", u->name);
	if (r < 0)
		return r;
	if (!changes)
		return sm_err(err, -ENOENT, "user collection '%s' not found", id);
	return 0;
}

int sm_sq_delete_user_collection(struct sm_store *st, const char *id, struct strbuf *err)
{
	int r = sm_sq_write3(sm_sq(st), "DELETE FROM user_collections WHERE id = :id", ":id", id,
			     NULL, NULL, NULL, NULL, err, "cannot delete user collection");

	if (r == 0)
		return sm_err(err, -ENOENT, "user collection '%s' not found", id);
	return r < 0 ? r : 0;
}

int sm_sq_prune_user_collections(struct sm_store *st, const char *const *keep_ids, size_t nkeep,
				 struct strbuf *err)
{
	return sm_sq_write_with_list(sm_sq(st),
				     "DELETE FROM user_collections"
				     " WHERE id NOT IN (SELECT value FROM json_each(:list))",
				     NULL, NULL, keep_ids, nkeep, err,
				     "cannot prune user collections");
}

static int uc_exists(struct sqlite_store *s, const char *id, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int r, rc;

	r = sm_sq_prepare(s, "SELECT 1 FROM user_collections WHERE id = :id", &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(q, ":id", id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return sm_err(err, -ENOENT, "user collection '%s' not found", id);
	return rc == SQLITE_ROW ? 0 : sm_sq_fail(s, rc, err, "cannot read user collection");
}

int sm_sq_add_members(struct sm_store *st, const char *collection_id, const char *const *uuids,
		      size_t n, const char *added_at, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	int own, r, added = 0;

	r = sm_sq_op_begin(s, true, &own, err);
	if (r == 0)
		r = uc_exists(s, collection_id, err);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = sm_sq_write3(
		    s,
		    "INSERT INTO collection_artifacts (collection_id, artifact_uuid, added_at)"
		    " VALUES (:c, :u, :a) ON CONFLICT DO NOTHING",
		    ":c", collection_id, ":u", uuids[i], ":a", added_at, err, "cannot add member");
		if (r == -ENOENT) {
			r = sm_err(err, r, "artifact '%s' not in cache", uuids[i]);
		} else if (r > 0) {
			added += r;
			r = 0;
		}
	}
	r = sm_sq_op_end(s, true, own, r, err);
	return r < 0 ? r : added;
}

int sm_sq_add_all_members(struct sm_store *st, const char *collection_id, const char *added_at,
			  struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	int own, r;

	r = sm_sq_op_begin(s, true, &own, err);
	if (r == 0)
		r = uc_exists(s, collection_id, err);
	if (r == 0)
		r = sm_sq_write3(
		    s,
		    "INSERT INTO collection_artifacts (collection_id, artifact_uuid, added_at)"
		    " SELECT :c, uuid, COALESCE(added, :a) FROM artifacts WHERE 1"
		    " ON CONFLICT DO NOTHING",
		    ":c", collection_id, ":a", added_at, NULL, NULL, err, "cannot add members");
	return sm_sq_op_end(s, true, own, r, err);
}

int sm_sq_remove_member(struct sm_store *st, const char *collection_id, const char *uuid,
			struct strbuf *err)
{
	return sm_sq_write3(sm_sq(st),
			    "DELETE FROM collection_artifacts WHERE collection_id = :c"
			    " AND artifact_uuid = :u",
			    ":c", collection_id, ":u", uuid, NULL, NULL, err,
			    "cannot remove member");
}

int sm_sq_prune_members(struct sm_store *st, const char *collection_id,
			const char *const *keep_uuids, size_t nkeep, struct strbuf *err)
{
	return sm_sq_write_with_list(
	    sm_sq(st),
	    "DELETE FROM collection_artifacts WHERE collection_id = :c"
	    " AND artifact_uuid NOT IN (SELECT value FROM json_each(:list))",
	    ":c", collection_id, keep_uuids, nkeep, err, "cannot prune members");
}

/* Prepare sql and bind a JSON array of the n strings to :list. */
static int prepare_list(struct sqlite_store *s, const char *sql, const char *const *list, size_t n,
			struct strbuf *json, sqlite3_stmt **ret, struct strbuf *err)
{
	int r = sm_sq_json_array(list, n, json);
	int rc;

	if (r < 0)
		return sm_err(err, r, "cannot build id list");
	r = sm_sq_prepare(s, sql, ret, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(*ret, ":list", json->buf);
	return rc == SQLITE_OK ? 0 : sm_sq_fail(s, rc, err, "cannot bind id list");
}

int sm_sq_memberships_of(struct sm_store *st, const char *const *uuids, size_t n,
			 struct sm_membership **ret, size_t *ret_n, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	struct strbuf json = STRBUF_INIT;
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct sm_membership *m = NULL;
	size_t count = 0, alloc = 0;
	int r, rc;

	r = prepare_list(
	    s,
	    "SELECT m.artifact_uuid, m.collection_id, c.name"
	    " FROM collection_artifacts m JOIN user_collections c ON c.id = m.collection_id"
	    " WHERE m.artifact_uuid IN (SELECT value FROM json_each(:list))"
	    " ORDER BY m.artifact_uuid, c.name, c.id",
	    uuids, n, &json, &q, err);
	while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (SM_GROW(m, alloc, count + 1) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		memset(&m[count], 0, sizeof(m[count]));
		count++;
		if (sm_sq_col_str(q, 0, &m[count - 1].artifact_uuid) < 0 ||
		    sm_sq_col_str(q, 1, &m[count - 1].collection_id) < 0 ||
		    sm_sq_col_str(q, 2, &m[count - 1].collection_name) < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sm_sq_fail(s, rc, err, "cannot read memberships");
	sm_strbuf_release(&json);
	if (r < 0) {
		sm_memberships_free(m, count);
		return r;
	}
	*ret = m;
	*ret_n = count;
	return (int)count;
}

struct id_index {
	const char *id;
	size_t i;
};

static int cmp_id_index(const void *a, const void *b)
{
	return strcmp(((const struct id_index *)a)->id, ((const struct id_index *)b)->id);
}

int sm_sq_count_members(struct sm_store *st, const char *const *ids, size_t n, int64_t *counts,
			struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	struct strbuf json = STRBUF_INIT;
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct id_index *idx;
	int r, rc = SQLITE_DONE;

	if (n == 0)
		return 0;
	/* sorted, so each result row finds its (possibly repeated) ids quickly */
	idx = sm_calloc(n, sizeof(*idx));
	if (!idx)
		return sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		idx[i].id = ids[i] ? ids[i] : "";
		idx[i].i = i;
		counts[i] = 0;
	}
	qsort(idx, n, sizeof(*idx), cmp_id_index);
	r = prepare_list(s,
			 "SELECT collection_id, count(*) FROM collection_artifacts"
			 " WHERE collection_id IN (SELECT value FROM json_each(:list))"
			 " GROUP BY collection_id",
			 ids, n, &json, &q, err);
	while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct id_index key = {(const char *)sqlite3_column_text(q, 0), 0};
		struct id_index *hit;
		int64_t c = sqlite3_column_int64(q, 1);

		if (!key.id)
			continue;
		hit = bsearch(&key, idx, n, sizeof(*idx), cmp_id_index);
		if (!hit)
			continue;
		while (hit > idx && !strcmp(hit[-1].id, key.id))
			hit--;
		for (; hit < idx + n && !strcmp(hit->id, key.id); hit++)
			counts[hit->i] = c;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sm_sq_fail(s, rc, err, "cannot count members");
	sm_strbuf_release(&json);
	sm_free(idx);
	return r;
}
