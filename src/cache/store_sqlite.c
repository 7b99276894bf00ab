/* SPDX-License-Identifier: MIT */
/*
 * The SQLite store backend: statement cache, helpers, artifact rows,
 * listing, staleness, dump. User collections and membership are in
 * store_sqlite_collections.c. Every sqlite3_* call of the store is in
 * store_sqlite*.c.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cache/db_internal.h"
#include "cache/store_internal.h"
#include "cache/store_sqlite.h"
#include "skillmeat/array.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/json_escape.h"
#include "skillmeat/db.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

/* The columns read into a struct sm_artifact_row: sm_artifact_fields, then these. */
#define ART_COLS                                                                                   \
	"a.uuid, a.collection, a.type, a.name, a.path, a.title, a.description, a.author,"          \
	" a.license, a.tags_json, a.tools_json, a.version, a.source, a.origin,"                    \
	" a.origin_source, a.upstream, a.version_spec, a.resolved_sha, a.resolved_version,"        \
	" a.added, a.updated, a.content_hash, a.lock_hash, a.file_count, a.total_size, a.fingerprint,"        \
	" a.stale, a.synced_at, a.revision, a.row_hash"
#define ART_NCOLS 30
/*
 * The same positions for a brief read (sm_artifact_query.brief): the strings
 * a listing line does not show are NULL, so no row decodes them.
 */
#define ART_COLS_BRIEF                                                                             \
	"NULL, a.collection, a.type, a.name, NULL, NULL, a.description, NULL, NULL, a.tags_json,"  \
	" NULL, a.version, NULL, a.origin, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"              \
	" a.content_hash, NULL, a.file_count, a.total_size, NULL, a.stale, a.synced_at,"           \
	" a.revision, NULL"

/* ---------------------------------------------------------------------------
 * SQLite backend: statement cache and helpers
 */

int sm_sq_fail(struct sqlite_store *s, int rc, struct strbuf *err, const char *what)
{
	return sm_db_fail(s->db, rc, err, "%s", what);
}

/*
 * The prepared statement for sql, from the cache or prepared now. The
 * statement stays owned by the cache; release it with sm_sq_stmt_donep() (reset and
 * clear bindings) when finished, e.g. through _cleanup_stmt_.
 */
int sm_sq_prepare(struct sqlite_store *s, const char *sql, sqlite3_stmt **ret, struct strbuf *err)
{
	uint64_t hash = sm_hash_fnv1a(SM_FNV1A_INIT, sql, strlen(sql));
	struct stmt_slot *slot;
	sqlite3_stmt *stmt = NULL;
	char *copy;
	int rc;

	for (size_t i = 0; i < s->nslots; i++) {
		if (s->slots[i].hash == hash && !strcmp(s->slots[i].sql, sql)) {
			*ret = s->slots[i].stmt;
			return 0;
		}
	}
	if (SM_GROW(s->slots, s->alloc, s->nslots + 1) < 0)
		return sm_err(err, -ENOMEM, "out of memory");
	copy = sm_strdup(sql);
	if (!copy)
		return sm_err(err, -ENOMEM, "out of memory");
	rc = sqlite3_prepare_v3(s->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (rc != SQLITE_OK) {
		sm_free(copy);
		return sm_sq_fail(s, rc, err, "cannot prepare statement");
	}
	slot = &s->slots[s->nslots++];
	slot->hash = hash;
	slot->sql = copy;
	slot->stmt = stmt;
	*ret = stmt;
	return 0;
}

void sm_sq_stmt_donep(sqlite3_stmt **p)
{
	if (*p) {
		sqlite3_reset(*p);
		sqlite3_clear_bindings(*p);
	}
}

/* Bind by name; a parameter the statement does not use is skipped. */
int sm_sq_bind_text(sqlite3_stmt *st, const char *param, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, param);

	if (!i)
		return SQLITE_OK;
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

int sm_sq_bind_int(sqlite3_stmt *st, const char *param, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, param);

	return i ? sqlite3_bind_int64(st, i, v) : SQLITE_OK;
}

/* Run a statement that returns no rows; *changes (may be NULL) gets the rows changed. */
int sm_sq_run(struct sqlite_store *s, sqlite3_stmt *st, int *changes, struct strbuf *err,
	      const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sm_sq_fail(s, rc, err, what);
	if (changes)
		*changes = sqlite3_changes(s->h);
	return 0;
}

int sm_sq_exec_cached(struct sqlite_store *s, const char *sql, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = sm_sq_prepare(s, sql, &st, err);

	return r < 0 ? r : sm_sq_run(s, st, NULL, err, sql);
}

/*
 * Run an operation atomically: its own transaction when none is open (write:
 * BEGIN IMMEDIATE, so the lock is taken up front), else a savepoint inside
 * the caller's. *own says which; pass it to sm_sq_op_end().
 */
int sm_sq_op_begin(struct sqlite_store *s, bool write, int *own, struct strbuf *err)
{
	if (sqlite3_get_autocommit(s->h)) {
		*own = 1;
		return sm_sq_exec_cached(s, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
	}
	*own = 0;
	return write ? sm_sq_exec_cached(s, "SAVEPOINT sm_op", err) : 0;
}

int sm_sq_op_end(struct sqlite_store *s, bool write, int own, int r, struct strbuf *err)
{
	if (r < 0) {
		if (own)
			sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
		else if (write)
			sqlite3_exec(s->h, "ROLLBACK TO sm_op; RELEASE sm_op", NULL, NULL, NULL);
		return r;
	}
	if (own) {
		int c = sm_sq_exec_cached(s, "COMMIT", err);

		if (c < 0) {
			sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
			return c;
		}
	} else if (write) {
		int c = sm_sq_exec_cached(s, "RELEASE sm_op", err);

		if (c < 0)
			return c;
	}
	return r;
}

int sm_sq_col_str(sqlite3_stmt *st, int col, char **ret)
{
	const unsigned char *t;

	*ret = NULL;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	t = sqlite3_column_text(st, col);
	if (!t)
		return -ENOMEM;
	*ret = sm_memdup0(t, (size_t)sqlite3_column_bytes(st, col));
	return *ret ? 0 : -ENOMEM;
}

int sm_sq_cols_packed(sqlite3_stmt *st, const int *cols, char **const *dst, size_t n,
		      struct sm_artifact_row *row)
{
	const unsigned char *t[SM_SQ_PACK_MAX];
	size_t len[SM_SQ_PACK_MAX], total = 0, off = 0;
	char *block;

	if (n > SM_SQ_PACK_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		*dst[i] = NULL;
		t[i] = NULL;
		len[i] = 0;
		if (sqlite3_column_type(st, cols[i]) == SQLITE_NULL)
			continue;
		t[i] = sqlite3_column_text(st, cols[i]);
		if (!t[i])
			return -ENOMEM;
		len[i] = (size_t)sqlite3_column_bytes(st, cols[i]);
		total += len[i] + 1;
	}
	if (!total)
		return 0;
	block = sm_malloc(total);
	if (!block)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!t[i])
			continue;
		memcpy(block + off, t[i], len[i]);
		block[off + len[i]] = '\0';
		*dst[i] = block + off;
		off += len[i] + 1;
	}
	row->strings = block;
	row->strings_len = total;
	return 0;
}

/* A string field a brief row holds (sm_artifact_query.brief). */
static bool brief_field(size_t i)
{
	switch (sm_artifact_fields[i].off) {
	case offsetof(struct sm_artifact_row, collection):
	case offsetof(struct sm_artifact_row, type):
	case offsetof(struct sm_artifact_row, name):
	case offsetof(struct sm_artifact_row, description):
	case offsetof(struct sm_artifact_row, tags_json):
	case offsetof(struct sm_artifact_row, version):
	case offsetof(struct sm_artifact_row, origin):
	case offsetof(struct sm_artifact_row, content_hash):
		return true;
	default:
		return false;
	}
}

/*
 * Read ART_COLS starting at column base (plus member_added_at when
 * with_member); brief: only the brief_field strings.
 */
static int read_row(sqlite3_stmt *st, int base, bool with_member, bool brief,
		    struct sm_artifact_row *row)
{
	int r = 0;

	int cols[SM_SQ_PACK_MAX];
	char **dst[SM_SQ_PACK_MAX];
	size_t npack = 0;

	memset(row, 0, sizeof(*row));
	for (size_t i = 0; i < SM_ARTIFACT_NFIELDS && r == 0; i++) {
		if (sm_artifact_fields[i].kind != SM_FIELD_STR) {
			*(int64_t *)((char *)row + sm_artifact_fields[i].off) =
			    sqlite3_column_int64(st, base + (int)i);
		} else if (brief && brief_field(i) && npack < SM_SQ_PACK_MAX) {
			/* a brief row's few strings in one block */
			cols[npack] = base + (int)i;
			dst[npack++] = str_field(row, i);
		} else if (!brief || brief_field(i)) {
			r = sm_sq_col_str(st, base + (int)i, str_field(row, i));
		}
	}
	if (r == 0 && npack)
		r = sm_sq_cols_packed(st, cols, dst, npack, row);
	if (r == 0 && brief) {
		row->stale = sqlite3_column_int(st, base + SM_ARTIFACT_NFIELDS) != 0;
		row->synced_at = sqlite3_column_int64(st, base + SM_ARTIFACT_NFIELDS + 1);
		row->revision = sqlite3_column_int64(st, base + SM_ARTIFACT_NFIELDS + 2);
	} else if (r == 0) {
		row->stale = sqlite3_column_int(st, base + SM_ARTIFACT_NFIELDS) != 0;
		row->synced_at = sqlite3_column_int64(st, base + SM_ARTIFACT_NFIELDS + 1);
		row->revision = sqlite3_column_int64(st, base + SM_ARTIFACT_NFIELDS + 2);
		r = sm_sq_col_str(st, base + SM_ARTIFACT_NFIELDS + 3, &row->row_hash);
	}
	if (r == 0 && with_member)
		r = sm_sq_col_str(st, base + ART_NCOLS, &row->member_added_at);
	if (r < 0)
		sm_artifact_row_release(row);
	return r;
}

/* Step st to the end, appending rows into a growing array. */
static int read_rows(struct sqlite_store *s, sqlite3_stmt *st, int base, bool with_member,
		     bool brief, size_t max, struct sm_artifact_row **rows, size_t *n,
		     size_t *alloc, bool *more, struct strbuf *err)
{
	int rc;

	if (more)
		*more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == max) {
			if (more)
				*more = true;
			return 0;
		}
		if (SM_GROW(*rows, *alloc, *n + 1) < 0)
			return sm_err(err, -ENOMEM, "out of memory");
		if ((rc = read_row(st, base, with_member, brief, &(*rows)[*n])) < 0)
			return sm_err(err, rc, "cannot read artifacts: %s", sm_strerror(rc));
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		return sm_sq_fail(s, rc, err, "cannot read artifacts");
	return 0;
}

/* A JSON array of strings, for binding a list to json_each(). */
int sm_sq_json_array(const char *const *v, size_t n, struct strbuf *out)
{
	int r = sm_strbuf_addch(out, '[');

	for (size_t i = 0; i < n && r == 0; i++) {
		if (i)
			r = sm_strbuf_addch(out, ',');
		if (r == 0)
			r = sm_strbuf_add_json(out, v[i] ? v[i] : "");
	}
	return r ? r : sm_strbuf_addch(out, ']');
}

/* ---------------------------------------------------------------------------
 * SQLite backend: operations
 */

static void sq_free(struct sm_store *st)
{
	struct sqlite_store *s = sm_sq(st);

	for (size_t i = 0; i < s->nslots; i++) {
		sqlite3_finalize(s->slots[i].stmt);
		sm_free(s->slots[i].sql);
	}
	sm_free(s->slots);
	sm_free(s);
}

static int sq_begin(struct sm_store *st, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);

	if (!sqlite3_get_autocommit(s->h))
		return sm_err(err, -EINVAL, "a transaction is already open");
	return sm_sq_exec_cached(s, "BEGIN IMMEDIATE", err);
}

static int sq_commit(struct sm_store *st, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	int r;

	if (sqlite3_get_autocommit(s->h))
		return sm_err(err, -EINVAL, "no transaction is open");
	r = sm_sq_exec_cached(s, "COMMIT", err);
	if (r < 0)
		sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static bool sq_in_transaction(struct sm_store *st)
{
	return !sqlite3_get_autocommit(sm_sq(st)->h);
}

static int sq_rollback(struct sm_store *st, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);

	if (sqlite3_get_autocommit(s->h))
		return 0;
	return sm_sq_exec_cached(s, "ROLLBACK", err);
}

/* clang-format off */
static const char sql_find_by_uuid[] =
	"SELECT id, row_hash, fingerprint FROM artifacts WHERE uuid = :uuid";
static const char sql_find_by_key[] =
	"SELECT id, row_hash, fingerprint FROM artifacts"
	" WHERE collection = :collection AND type = :type AND name = :name";
static const char sql_evict_key[] =
	"DELETE FROM artifacts WHERE collection = :collection AND type = :type"
	" AND name = :name AND uuid <> :uuid";
static const char sql_touch[] =
	"UPDATE artifacts SET synced_at = :synced_at, stale = :stale WHERE id = :id";
static const char sql_insert[] =
	"INSERT INTO artifacts (uuid, collection, type, name, path, title, description, author,"
	" license, tags_json, tools_json, version, source, origin, origin_source, upstream,"
	" version_spec, resolved_sha, resolved_version, added, updated, content_hash, lock_hash,"
	" file_count, total_size, fingerprint, stale, synced_at, row_hash, revision)"
	" VALUES (:uuid, :collection, :type, :name, :path, :title, :description, :author,"
	" :license, :tags_json, :tools_json, :version, :source, :origin, :origin_source,"
	" :upstream, :version_spec, :resolved_sha, :resolved_version, :added, :updated, :content_hash,"
	" :lock_hash, :file_count, :total_size, :fingerprint, :stale, :synced_at, :row_hash, 1)";
static const char sql_update[] =
	"UPDATE artifacts SET uuid = :uuid, collection = :collection, type = :type, name = :name,"
	" path = :path, title = :title, description = :description, author = :author,"
	" license = :license, tags_json = :tags_json, tools_json = :tools_json,"
	" version = :version, source = :source, origin = :origin,"
	" origin_source = :origin_source, upstream = :upstream, version_spec = :version_spec,"
	" resolved_sha = :resolved_sha, resolved_version = :resolved_version, added = :added,"
	" updated = :updated,"
	" content_hash = :content_hash, lock_hash = :lock_hash, file_count = :file_count,"
	" total_size = :total_size, fingerprint = :fingerprint, stale = :stale,"
	" synced_at = :synced_at, row_hash = :row_hash,"
	" revision = revision + (row_hash IS NOT :row_hash) WHERE id = :id";
/* clang-format on */

/* Bind every content field, stale, synced_at and row_hash by name. */
static int bind_row(sqlite3_stmt *st, const struct sm_artifact_row *row, const char *hash)
{
	int n = sqlite3_bind_parameter_count(st), rc = SQLITE_OK;

	/* walk the statement's parameters (cheaper than looking each field up) */
	for (int p = 1; p <= n && rc == SQLITE_OK; p++) {
		const char *name = sqlite3_bind_parameter_name(st, p);
		size_t i;

		if (!name || !*name)
			continue;
		name++; /* ':' */
		if (!strcmp(name, "stale")) {
			rc = sqlite3_bind_int(st, p, row->stale ? 1 : 0);
		} else if (!strcmp(name, "synced_at")) {
			rc = row->synced_at > 0 ? sqlite3_bind_int64(st, p, row->synced_at)
						: sqlite3_bind_null(st, p);
		} else if (!strcmp(name, "row_hash")) {
			rc = sqlite3_bind_text(st, p, hash, -1, SQLITE_STATIC);
		} else {
			for (i = 0; i < SM_ARTIFACT_NFIELDS; i++) {
				if (!strcmp(name, sm_artifact_fields[i].name))
					break;
			}
			if (i == SM_ARTIFACT_NFIELDS)
				continue; /* bound by the caller (:id) */
			if (sm_artifact_fields[i].kind == SM_FIELD_INT) {
				rc = sqlite3_bind_int64(st, p, int_field(row, i));
			} else {
				const char *v = cstr_field(row, i);

				rc = v ? sqlite3_bind_text(st, p, v, -1, SQLITE_STATIC)
				       : sqlite3_bind_null(st, p);
			}
		}
	}
	return rc;
}

struct existing {
	bool found;
	int64_t id;
	bool same;	      /* row_hash and fingerprint equal */
	bool same_content; /* row_hash equal */
};

static int lookup(struct sqlite_store *s, const char *sql, const struct sm_artifact_row *row,
		  const char *hash, struct existing *ex, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r, rc;

	r = sm_sq_prepare(s, sql, &st, err);
	if (r < 0)
		return r;
	rc = bind_row(st, row, hash);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	ex->found = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sm_sq_fail(s, rc, err, "cannot look up artifact");
	if (ex->found) {
		const char *h = (const char *)sqlite3_column_text(st, 1);
		const char *fp = (const char *)sqlite3_column_text(st, 2);

		ex->id = sqlite3_column_int64(st, 0);
		ex->same_content = h && !strcmp(h, hash);
		ex->same = ex->same_content &&
			   ((!fp && !row->fingerprint) ||
			    (fp && row->fingerprint && !strcmp(fp, row->fingerprint)));
	}
	return 0;
}

static int upsert_one(struct sqlite_store *s, const struct sm_artifact_row *row,
		      enum sm_upsert_result *res, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct existing ex = {0};
	const char *sql;
	char hash[17];
	int evicted = 0, r, rc;

	sm_artifact_row_hash(row, hash);
	r = lookup(s, sql_find_by_uuid, row, hash, &ex, err);
	if (r == 0 && ex.found) {
		/* the key now belongs to this uuid: drop a row holding it under another */
		r = sm_sq_prepare(s, sql_evict_key, &st, err);
		if (r == 0) {
			rc = bind_row(st, row, hash);
			r = rc == SQLITE_OK
				? sm_sq_run(s, st, &evicted, err, "cannot replace artifact")
				: sm_sq_fail(s, rc, err, "cannot bind artifact");
			sm_sq_stmt_donep(&st);
		}
	} else if (r == 0) {
		r = lookup(s, sql_find_by_key, row, hash, &ex, err);
	}
	if (r < 0)
		return r;
	if (!ex.found) {
		sql = sql_insert;
		*res = SM_UPSERT_CREATED;
	} else if (ex.same && !evicted) {
		sql = sql_touch;
		*res = SM_UPSERT_UNCHANGED;
	} else {
		sql = sql_update;
		/* the fingerprint alone: written, but no content changed (not refreshed) */
		*res = ex.same_content && !evicted ? SM_UPSERT_FINGERPRINT : SM_UPSERT_UPDATED;
	}
	r = sm_sq_prepare(s, sql, &st, err);
	if (r < 0)
		return r;
	rc = bind_row(st, row, hash);
	if (rc == SQLITE_OK && ex.found)
		rc = sm_sq_bind_int(st, ":id", ex.id);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, "cannot bind artifact");
	r = sm_sq_run(s, st, NULL, err, "cannot write artifact");
	if (r == 0 && row->body) {
		/* the searchable text; the trigger re-indexes only when it changed */
		sm_sq_stmt_donep(&st);
		r = sm_sq_prepare(s,
				  "UPDATE artifact_search SET body = :body"
				  " WHERE artifact_id = (SELECT id FROM artifacts WHERE uuid = :uuid)"
				  " AND body IS NOT :body",
				  &st, err);
		if (r == 0) {
			rc = sm_sq_bind_text(st, ":body", row->body);
			if (rc == SQLITE_OK)
				rc = sm_sq_bind_text(st, ":uuid", row->uuid);
			r = rc == SQLITE_OK ? sm_sq_run(s, st, NULL, err, "cannot write artifact text")
					    : sm_sq_fail(s, rc, err, "cannot bind artifact text");
		}
	}
	if (r < 0)
		return sm_err_prefix(err, r, "artifact %s/%s:%s", row->collection, row->type,
				     row->name);
	return 0;
}

static int sq_upsert_artifacts(struct sm_store *st, const struct sm_artifact_row *rows, size_t n,
			       enum sm_upsert_result *results, struct sm_upsert_stats *stats,
			       struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	struct sm_upsert_stats tmp = {0};
	int own, r;

	r = sm_sq_op_begin(s, true, &own, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		enum sm_upsert_result res = SM_UPSERT_UNCHANGED;

		r = upsert_one(s, &rows[i], &res, err);
		if (r < 0)
			break;
		if (results)
			results[i] = res;
		if (res == SM_UPSERT_CREATED)
			tmp.created++;
		else if (res == SM_UPSERT_UPDATED)
			tmp.updated++;
		else
			tmp.unchanged++;
	}
	r = sm_sq_op_end(s, true, own, r, err);
	if (r == 0 && stats)
		*stats = tmp;
	return r;
}

/* Run a write statement with one JSON list parameter; returns rows changed. */
int sm_sq_write_with_list(struct sqlite_store *s, const char *sql, const char *p1name,
			  const char *p1, const char *const *list, size_t n, struct strbuf *err,
			  const char *what)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct strbuf json = STRBUF_INIT;
	int changes = 0, own, r, rc;

	r = sm_sq_json_array(list, n, &json);
	if (r < 0) {
		sm_strbuf_release(&json);
		return sm_err(err, r, "cannot build id list");
	}
	r = sm_sq_op_begin(s, true, &own, err);
	if (r == 0)
		r = sm_sq_prepare(s, sql, &st, err);
	if (r == 0) {
		rc = p1name ? sm_sq_bind_text(st, p1name, p1) : SQLITE_OK;
		if (rc == SQLITE_OK)
			rc = sm_sq_bind_text(st, ":list", json.buf);
		r = rc == SQLITE_OK ? sm_sq_run(s, st, &changes, err, what)
				    : sm_sq_fail(s, rc, err, what);
	}
	sm_sq_stmt_donep(&st);
	sm_strbuf_release(&json);
	r = sm_sq_op_end(s, true, own, r, err);
	return r < 0 ? r : changes;
}

static int sq_prune_artifacts(struct sm_store *st, const char *collection,
			      const char *const *keep_uuids, size_t nkeep, struct strbuf *err)
{
	return sm_sq_write_with_list(sm_sq(st),
				     "DELETE FROM artifacts WHERE collection = :collection"
				     " AND uuid NOT IN (SELECT value FROM json_each(:list))",
				     ":collection", collection, keep_uuids, nkeep, err,
				     "cannot prune artifacts");
}

/* Run a one-statement write with up to three text parameters; returns rows changed. */
int sm_sq_write3(struct sqlite_store *s, const char *sql, const char *n1, const char *v1,
		 const char *n2, const char *v2, const char *n3, const char *v3, struct strbuf *err,
		 const char *what)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int changes = 0, r, rc = SQLITE_OK;

	r = sm_sq_prepare(s, sql, &st, err);
	if (r < 0)
		return r;
	if (n1)
		rc = sm_sq_bind_text(st, n1, v1);
	if (rc == SQLITE_OK && n2)
		rc = sm_sq_bind_text(st, n2, v2);
	if (rc == SQLITE_OK && n3)
		rc = sm_sq_bind_text(st, n3, v3);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, what);
	r = sm_sq_run(s, st, &changes, err, what);
	return r < 0 ? r : changes;
}

static int sq_delete_artifact(struct sm_store *st, const char *uuid, struct strbuf *err)
{
	return sm_sq_write3(sm_sq(st), "DELETE FROM artifacts WHERE uuid = :uuid", ":uuid", uuid,
			    NULL, NULL, NULL, NULL, err, "cannot delete artifact");
}

/* One artifact row from a query with up to three text parameters. */
static int get_one(struct sqlite_store *s, const char *sql, const char *n1, const char *v1,
		   const char *n2, const char *v2, const char *n3, const char *v3,
		   struct sm_artifact_row *ret, struct strbuf *err, const char *what)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r, rc = SQLITE_OK;

	r = sm_sq_prepare(s, sql, &st, err);
	if (r < 0)
		return r;
	if (n1)
		rc = sm_sq_bind_text(st, n1, v1);
	if (rc == SQLITE_OK && n2)
		rc = sm_sq_bind_text(st, n2, v2);
	if (rc == SQLITE_OK && n3)
		rc = sm_sq_bind_text(st, n3, v3);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return sm_err(err, -ENOENT, "%s: not in cache", what);
	if (rc != SQLITE_ROW)
		return sm_sq_fail(s, rc, err, what);
	if ((rc = read_row(st, 0, false, false, ret)) < 0)
		return sm_err(err, rc, "%s: %s", what, sm_strerror(rc));
	return 0;
}

static int sq_get_artifact(struct sm_store *st, const char *uuid, struct sm_artifact_row *ret,
			   struct strbuf *err)
{
	return get_one(sm_sq(st), "SELECT " ART_COLS " FROM artifacts a WHERE a.uuid = :uuid",
		       ":uuid", uuid, NULL, NULL, NULL, NULL, ret, err, "artifact");
}

static int sq_get_artifact_by_key(struct sm_store *st, const char *collection, const char *type,
				  const char *name, struct sm_artifact_row *ret, struct strbuf *err)
{
	return get_one(sm_sq(st),
		       "SELECT " ART_COLS " FROM artifacts a WHERE a.collection = :c"
		       " AND a.type = :t AND a.name = :n",
		       ":c", collection, ":t", type, ":n", name, ret, err, "artifact");
}

/* All rows of a query with up to two text parameters. */
static int get_all(struct sqlite_store *s, const char *sql, const char *n1, const char *v1,
		   const char *n2, const char *v2, struct sm_artifact_row **ret, size_t *ret_n,
		   struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct sm_artifact_row *rows = NULL;
	size_t n = 0, alloc = 0;
	int r, rc;

	r = sm_sq_prepare(s, sql, &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(q, n1, v1);
	if (rc == SQLITE_OK && n2)
		rc = sm_sq_bind_text(q, n2, v2);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, "cannot list artifacts");
	r = read_rows(s, q, 0, false, false, SIZE_MAX, &rows, &n, &alloc, NULL, err);
	if (r < 0) {
		sm_artifact_rows_free(rows, n);
		return r;
	}
	*ret = rows;
	*ret_n = n;
	return (int)n;
}

static int sq_find_artifacts(struct sm_store *st, const char *type, const char *name,
			     struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	if (type)
		return get_all(sm_sq(st),
			       "SELECT " ART_COLS
			       " FROM artifacts a WHERE a.type = :t AND a.name = :n"
			       " ORDER BY a.collection",
			       ":t", type, ":n", name, ret, ret_n, err);
	return get_all(sm_sq(st),
		       "SELECT " ART_COLS " FROM artifacts a WHERE a.name = :n"
		       " ORDER BY a.type, a.collection",
		       ":n", name, NULL, NULL, ret, ret_n, err);
}

static int sq_list_collection(struct sm_store *st, const char *collection,
			      struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	return get_all(sm_sq(st),
		       "SELECT " ART_COLS " FROM artifacts a WHERE a.collection = :c"
		       " ORDER BY a.type, a.name",
		       ":c", collection, NULL, NULL, ret, ret_n, err);
}

/* The FROM/WHERE part of an artifact listing; with_cursor adds the keyset bound. */
/*
 * How a page of a user collection finds its members: JOIN walks the
 * memberships and sorts them (best for a small collection); PROBE walks the
 * artifacts in key order and looks each up (best for a large one, e.g. the
 * default collection, where the first page is found after a few rows).
 */
enum member_plan { MEMBERS_NONE, MEMBERS_JOIN, MEMBERS_PROBE };

#define MEMBER_PROBE                                                                               \
	"(SELECT m.added_at FROM collection_artifacts m"                                           \
	" WHERE m.collection_id = :uc AND m.artifact_uuid = a.uuid)"

/* The value a newest-first order sorts on. */
static const char *sort_value(const struct sm_artifact_query *q)
{
	return q->sort == SM_SORT_UPDATED ? "coalesce(nullif(a.updated, ''), a.added, '')"
					  : "coalesce(a.added, '')";
}

static const char *order_by(const struct sm_artifact_query *q)
{
	if (q->rank)
		return " ORDER BY f.name_hit DESC, f.score, a.type, a.name, a.collection";
	switch (q->sort) {
	case SM_SORT_NAME:
		return " ORDER BY a.name, a.type, a.collection";
	case SM_SORT_ADDED:
		return " ORDER BY coalesce(a.added, '') DESC, a.type, a.name, a.collection";
	case SM_SORT_UPDATED:
		return " ORDER BY coalesce(nullif(a.updated, ''), a.added, '') DESC, a.type, a.name,"
		       " a.collection";
	default:
		return " ORDER BY a.type, a.name, a.collection";
	}
}

/*
 * bm25 weights of the full-text columns: a match in the name counts most,
 * then title and tags, then the description, then the body text.
 */
#define FTS_MATCHES "(SELECT rowid AS fid FROM artifact_fts WHERE artifact_fts MATCH :search)"

/* ranked: a match in the name first (whatever the counts in longer text), then bm25 */
#define FTS_RANKED                                                                                 \
	"(SELECT rowid AS fid, bm25(artifact_fts, 10.0, 6.0, 3.0, 6.0, 1.0) AS score,"             \
	" rowid IN (SELECT rowid FROM artifact_fts WHERE artifact_fts MATCH :name_search)"         \
	" AS name_hit FROM artifact_fts WHERE artifact_fts MATCH :search)"

/*
 * A search is driven by its matches: the FTS rows, then their artifacts by
 * id, then (for a user collection) their membership by key — never every
 * member checked against the FTS (which cost seconds at 8,000 members).
 */
/* The keyset bound of a cursor page: the rows after (after_type, after_name, ...). */
static int cursor_cond(const struct sm_artifact_query *q, struct strbuf *sb)
{
	const char *key;

	if (q->sort == SM_SORT_NAME)
		key = q->after_collection ? "(a.name, a.type, a.collection) > (:an, :at, :ac)"
					  : "(a.name, a.type) > (:an, :at)";
	else
		key = q->after_collection ? "(a.type, a.name, a.collection) > (:at, :an, :ac)"
					  : "(a.type, a.name) > (:at, :an)";
	if (q->sort == SM_SORT_ADDED || q->sort == SM_SORT_UPDATED)
		return sm_strbuf_addf(sb, "(%s < :av OR (%s = :av AND %s))", sort_value(q),
				      sort_value(q), key);
	return sm_strbuf_addstr(sb, key);
}

/*
 * The FROM/WHERE part of a listing; with_cursor adds the keyset bound. keys_only:
 * the caller reads only the sort keys, id and uuid, which the search index
 * covers (idx_artifacts_search: a search visits thousands of rows, and whole
 * rows would not stay in the page cache).
 */
static int artifact_where(const struct sm_artifact_query *q, enum member_plan plan,
			  bool with_cursor, bool keys_only, struct strbuf *sb)
{
	bool search = !sm_sq_blank(q->search);
	int r = sm_strbuf_addstr(sb, !search ? " FROM artifacts a"
				     : q->rank ? " FROM " FTS_RANKED " f CROSS JOIN artifacts a"
					       : " FROM " FTS_MATCHES " f CROSS JOIN artifacts a");

	if (r == 0 && search && keys_only)
		r = sm_strbuf_addstr(sb, " INDEXED BY idx_artifacts_search");
	if (r == 0 && search)
		r = sm_strbuf_addstr(sb, " ON a.id = f.fid");

	if (r == 0 && plan == MEMBERS_JOIN)
		r = sm_strbuf_addstr(sb, search ? " CROSS JOIN collection_artifacts m"
						  " ON m.collection_id = :uc AND m.artifact_uuid = a.uuid"
						: " JOIN collection_artifacts m ON m.artifact_uuid = a.uuid"
						  " AND m.collection_id = :uc");
	if (r == 0)
		r = sm_strbuf_addstr(sb, " WHERE 1");
	if (r == 0 && plan == MEMBERS_PROBE)
		r = sm_strbuf_addstr(sb, " AND " MEMBER_PROBE " IS NOT NULL");
	if (r == 0 && q->collection)
		r = sm_strbuf_addstr(sb, " AND a.collection = :collection");
	if (r == 0 && q->ntypes)
		r = sm_strbuf_addstr(sb, " AND a.type IN (SELECT value FROM json_each(:types))");
	if (r == 0 && q->ntags && !q->tags_all)
		r = sm_strbuf_addstr(
		    sb, " AND a.id IN (SELECT artifact_id FROM artifact_tags"
			" WHERE label IN (SELECT lower(value) FROM json_each(:tags)))");
	if (r == 0 && q->ntags && q->tags_all)
		r = sm_strbuf_addstr(
		    sb, " AND (SELECT count(*) FROM artifact_tags t"
			" WHERE t.artifact_id = a.id AND t.label IN"
			" (SELECT lower(value) FROM json_each(:tags))) ="
			" (SELECT count(DISTINCT lower(value)) FROM json_each(:tags))");
	if (r == 0 && q->ntools)
		r = sm_strbuf_addstr(
		    sb, " AND a.id IN (SELECT artifact_id FROM artifact_tools"
			" WHERE label IN (SELECT lower(value) FROM json_each(:tools)))");
	if (r == 0 && with_cursor && q->after_type) {
		r = sm_strbuf_addstr(sb, " AND ");
		if (r == 0)
			r = cursor_cond(q, sb);
	}
	return r;
}

struct list_params {
	struct strbuf types, tags, tools, fts, name_fts;
};

static void list_params_release(struct list_params *p)
{
	sm_strbuf_release(&p->types);
	sm_strbuf_release(&p->tags);
	sm_strbuf_release(&p->tools);
	sm_strbuf_release(&p->fts);
	sm_strbuf_release(&p->name_fts);
}

static int bind_query(sqlite3_stmt *st, const struct sm_artifact_query *q,
		      const struct list_params *p, size_t limit)
{
	int rc = sm_sq_bind_text(st, ":uc", q->user_collection_id);

	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":collection", q->collection);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":types", p->types.buf);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":tags", p->tags.buf);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":tools", p->tools.buf);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":search", p->fts.buf);
	if (rc == SQLITE_OK && q->rank)
		rc = sm_sq_bind_text(st, ":name_search", p->name_fts.buf);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":at", q->after_type);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":an", q->after_name);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":ac", q->after_collection);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":av", q->after_value ? q->after_value : "");
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_int(st, ":limit", (int64_t)limit + 1);
	return rc;
}

static int count_query(struct sqlite_store *s, const char *sql, int64_t *ret,
		       const struct sm_artifact_query *q, const struct list_params *p,
		       struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r, rc;

	r = sm_sq_prepare(s, sql, &st, err);
	if (r < 0)
		return r;
	rc = q ? bind_query(st, q, p, 0) : SQLITE_OK;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return sm_sq_fail(s, rc, err, "cannot count rows");
	*ret = sqlite3_column_int64(st, 0);
	return 0;
}

/*
 * Members of the user collection, the highest artifact id (to pick a plan)
 * and, when all is set, whether every artifact is a member.
 */
static int member_stats(struct sqlite_store *s, const char *uc, bool all, int64_t *members,
			int64_t *maxid, bool *every, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r, rc;

	r = sm_sq_prepare(
	    s,
	    all ? "SELECT (SELECT count(*) FROM collection_artifacts WHERE collection_id = :uc),"
		  " (SELECT coalesce(max(id), 0) FROM artifacts), (SELECT count(*) FROM artifacts)"
		: "SELECT (SELECT count(*) FROM collection_artifacts WHERE collection_id = :uc),"
		  " (SELECT coalesce(max(id), 0) FROM artifacts), -1",
	    &st, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(st, ":uc", uc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return sm_sq_fail(s, rc, err, "cannot count members");
	*members = sqlite3_column_int64(st, 0);
	*maxid = sqlite3_column_int64(st, 1);
	/* a membership always has its artifact (foreign key): equal counts, same set */
	*every = *members == sqlite3_column_int64(st, 2);
	return 0;
}

static bool only_members_filter(const struct sm_artifact_query *q)
{
	return q->user_collection_id && !q->collection && !q->ntypes && !q->ntags && !q->ntools &&
	       sm_sq_blank(q->search);
}

static int build_page_sql(const struct sm_artifact_query *q, enum member_plan plan,
			  struct strbuf *sql)
{
	int r = sm_strbuf_addstr(sql, q->brief ? "SELECT " ART_COLS_BRIEF : "SELECT " ART_COLS);

	if (r == 0 && plan == MEMBERS_JOIN)
		r = sm_strbuf_addstr(sql, ", m.added_at");
	if (r == 0 && plan == MEMBERS_PROBE)
		r = sm_strbuf_addstr(sql, ", " MEMBER_PROBE);
	if (r == 0)
		r = artifact_where(q, plan, true, false, sql);
	if (r == 0)
		r = sm_strbuf_addstr(sql, order_by(q));
	if (r == 0)
		r = sm_strbuf_addstr(sql, " LIMIT :limit");
	return r;
}

/*
 * A search page and its total in one pass over the matches: their ids in
 * page order from the covering index (with whether each lies after the
 * cursor), counted to the end, then the whole rows of the page's ids only.
 * The matches are never joined twice (page, then count) nor read whole.
 * filter_members: check membership per match (not needed when the user
 * collection holds every artifact).
 */
static int search_page(struct sqlite_store *s, const struct sm_artifact_query *q,
		       const struct list_params *p, bool filter_members, size_t limit,
		       struct sm_artifact_page *page, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct strbuf sql = STRBUF_INIT, ids = STRBUF_INIT;
	bool member = q->user_collection_id != NULL;
	size_t nids = 0, alloc = 0;
	int64_t total = 0;
	int r, rc;

	r = sm_strbuf_addstr(&sql, "SELECT a.id, ");
	if (r == 0)
		r = q->after_type ? cursor_cond(q, &sql) : sm_strbuf_addstr(&sql, "1");
	if (r == 0)
		r = artifact_where(q, filter_members ? MEMBERS_JOIN : MEMBERS_NONE, false, true,
				   &sql);
	if (r == 0)
		r = sm_strbuf_addstr(&sql, order_by(q));
	if (r == 0)
		r = sm_strbuf_addch(&ids, '[');
	if (r < 0) {
		r = sm_err(err, r, "cannot build artifact query");
		goto out;
	}
	r = sm_sq_prepare(s, sql.buf, &st, err);
	if (r < 0)
		goto out;
	rc = bind_query(st, q, p, limit);
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		total++;
		if (nids > limit || !sqlite3_column_int(st, 1))
			continue;
		r = sm_strbuf_addf(&ids, "%s%lld", nids ? "," : "",
				   (long long)sqlite3_column_int64(st, 0));
		if (r < 0) {
			r = sm_err(err, r, "cannot read artifacts");
			goto out;
		}
		nids++;
	}
	if (rc != SQLITE_DONE) {
		r = sm_sq_fail(s, rc, err, "cannot search artifacts");
		goto out;
	}
	sm_sq_stmt_donep(&st);
	if ((r = sm_strbuf_addch(&ids, ']')) < 0) {
		r = sm_err(err, r, "cannot read artifacts");
		goto out;
	}
	r = sm_sq_prepare(s,
			  member ? "SELECT " ART_COLS ", m.added_at FROM json_each(:ids) j"
				   " CROSS JOIN artifacts a ON a.id = j.value"
				   " LEFT JOIN collection_artifacts m"
				   " ON m.collection_id = :uc AND m.artifact_uuid = a.uuid"
				   " ORDER BY j.key"
				 : "SELECT " ART_COLS " FROM json_each(:ids) j"
				   " CROSS JOIN artifacts a ON a.id = j.value ORDER BY j.key",
			  &st, err);
	if (r < 0)
		goto out;
	rc = sm_sq_bind_text(st, ":ids", ids.buf);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":uc", q->user_collection_id);
	if (rc != SQLITE_OK) {
		r = sm_sq_fail(s, rc, err, "cannot bind artifact query");
		goto out;
	}
	r = read_rows(s, st, 0, member, q->brief, limit, &page->rows, &page->n, &alloc,
		      &page->has_next, err);
	if (r == 0)
		page->total_count = total;
out:
	sm_strbuf_release(&sql);
	sm_strbuf_release(&ids);
	return r;
}

static int sq_list_artifacts(struct sm_store *st, const struct sm_artifact_query *q,
			     struct sm_artifact_page *ret, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	struct list_params p = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT};
	struct strbuf sql = STRBUF_INIT;
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct sm_artifact_page page = {.total_count = -1};
	size_t alloc = 0, limit = q->limit ? q->limit : DEFAULT_LIMIT;
	enum member_plan plan = MEMBERS_NONE;
	int64_t members = 0, maxid = 0;
	/* an unranked search with its total: one pass (search_page) */
	bool one_pass = !sm_sq_blank(q->search) && !q->rank && !q->no_total, every = false;
	int own = 0, r = 0, rc;

	if (q->ntypes)
		r = sm_sq_json_array(q->types, q->ntypes, &p.types);
	if (r == 0 && q->ntags)
		r = sm_sq_json_array(q->tags, q->ntags, &p.tags);
	if (r == 0 && q->ntools)
		r = sm_sq_json_array(q->tools, q->ntools, &p.tools);
	if (r == 0 && !sm_sq_blank(q->search))
		r = sm_sq_fts_query(s, q->search, &p.fts);
	if (r == 0 && q->rank)
		r = sm_strbuf_addf(&p.name_fts, "name : (%s)", p.fts.buf);
	if (r < 0) {
		r = sm_err(err, r, "cannot build artifact query");
		goto out_free;
	}
	r = sm_sq_op_begin(s, false, &own, err);
	if (r < 0)
		goto out_free;
	if (q->user_collection_id) {
		r = member_stats(s, q->user_collection_id, one_pass, &members, &maxid, &every,
				 err);
		if (r < 0)
			goto out;
		/* probing costs about limit * maxid / members lookups, joining members */
		plan =
		    members * members > (int64_t)(limit + 1) * maxid ? MEMBERS_PROBE : MEMBERS_JOIN;
		if (!sm_sq_blank(q->search))
			plan = MEMBERS_JOIN; /* driven by the matches */
	}
	if (one_pass) {
		r = search_page(s, q, &p, plan != MEMBERS_NONE && !every, limit, &page, err);
		goto out;
	}
	r = build_page_sql(q, plan, &sql);
	if (r < 0) {
		r = sm_err(err, r, "cannot build artifact query");
		goto out;
	}
	r = sm_sq_prepare(s, sql.buf, &stmt, err);
	if (r < 0)
		goto out;
	rc = bind_query(stmt, q, &p, limit);
	if (rc != SQLITE_OK) {
		r = sm_sq_fail(s, rc, err, "cannot bind artifact query");
		goto out;
	}
	r = read_rows(s, stmt, 0, plan != MEMBERS_NONE, q->brief, limit, &page.rows, &page.n,
		      &alloc, &page.has_next, err);
	sm_sq_stmt_donep(&stmt);
	if (r < 0 || q->no_total)
		goto out;
	if (only_members_filter(q)) {
		/* every membership has its artifact (foreign key) */
		page.total_count = members;
		goto out;
	}
	sm_strbuf_reset(&sql);
	r = sm_strbuf_addstr(&sql, "SELECT count(*)");
	if (r == 0)
		r = artifact_where(q, plan == MEMBERS_NONE ? MEMBERS_NONE : MEMBERS_JOIN, false,
				   false, &sql);
	if (r < 0) {
		r = sm_err(err, r, "cannot build artifact query");
		goto out;
	}
	r = count_query(s, sql.buf, &page.total_count, q, &p, err);
out:
	r = sm_sq_op_end(s, false, own, r, err);
out_free:
	sm_strbuf_release(&sql);
	list_params_release(&p);
	if (r < 0) {
		sm_artifact_page_release(&page);
		return r;
	}
	*ret = page;
	return (int)page.n;
}

#define STALE_COND "(stale = 1 OR synced_at IS NULL OR synced_at <= :cutoff)"

static int sq_cache_status(struct sm_store *st, const char *collection, int64_t now_ms,
			   int64_t ttl_ms, struct sm_cache_status *ret, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct sm_cache_status cs = {0};
	int r, rc;

	r = sm_sq_prepare(s,
			  collection
			      ? "SELECT count(*), coalesce(sum(" STALE_COND "), 0), min(synced_at)"
				" FROM artifacts WHERE collection = :collection"
			      : "SELECT count(*), coalesce(sum(" STALE_COND "), 0), min(synced_at)"
				" FROM artifacts",
			  &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_int(q, ":cutoff", now_ms - ttl_ms);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":collection", collection);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc != SQLITE_ROW)
		return sm_sq_fail(s, rc, err, "cannot read cache status");
	cs.total = sqlite3_column_int64(q, 0);
	cs.stale = sqlite3_column_int64(q, 1);
	cs.fresh = cs.total - cs.stale;
	if (sqlite3_column_type(q, 2) != SQLITE_NULL) {
		int64_t oldest = sqlite3_column_int64(q, 2);

		cs.oldest_sync_age_seconds =
		    oldest < now_ms ? (double)(now_ms - oldest) / 1000.0 : 0;
	}
	*ret = cs;
	return 0;
}

static int sq_list_stale(struct sm_store *st, const char *collection, int64_t now_ms,
			 int64_t ttl_ms, size_t limit, struct sm_artifact_row **ret, size_t *ret_n,
			 struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct sm_artifact_row *rows = NULL;
	size_t n = 0, alloc = 0;
	int r, rc;

	/* one arm per index: flagged, never synced, synced too long ago */
	r = sm_sq_prepare(s,
			  collection
			      ? "SELECT * FROM ("
				" SELECT 0 AS k, " ART_COLS " FROM artifacts a"
				"  WHERE a.stale = 1 AND a.collection = :c"
				" UNION ALL SELECT 1, " ART_COLS " FROM artifacts a"
				"  WHERE a.stale = 0 AND a.synced_at IS NULL AND a.collection = :c"
				" UNION ALL SELECT 2, " ART_COLS " FROM artifacts a"
				"  WHERE a.stale = 0 AND a.synced_at <= :cutoff"
				"  AND a.collection = :c)"
				" ORDER BY k, synced_at, uuid LIMIT :limit"
			      : "SELECT * FROM ("
				" SELECT 0 AS k, " ART_COLS " FROM artifacts a WHERE a.stale = 1"
				" UNION ALL SELECT 1, " ART_COLS " FROM artifacts a"
				"  WHERE a.stale = 0 AND a.synced_at IS NULL"
				" UNION ALL SELECT 2, " ART_COLS " FROM artifacts a"
				"  WHERE a.stale = 0 AND a.synced_at <= :cutoff)"
				" ORDER BY k, synced_at, uuid LIMIT :limit",
			  &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(q, ":c", collection);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_int(q, ":cutoff", now_ms - ttl_ms);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_int(q, ":limit", (int64_t)limit);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, "cannot list stale artifacts");
	r = read_rows(s, q, 1, false, false, limit, &rows, &n, &alloc, NULL, err);
	if (r < 0) {
		sm_artifact_rows_free(rows, n);
		return r;
	}
	*ret = rows;
	*ret_n = n;
	return (int)n;
}

static int sq_mark_stale(struct sm_store *st, const char *uuid, struct strbuf *err)
{
	return sm_sq_write3(sm_sq(st), "UPDATE artifacts SET stale = 1 WHERE uuid = :uuid", ":uuid",
			    uuid, NULL, NULL, NULL, NULL, err, "cannot mark artifact stale");
}

static int sq_mark_stale_collection(struct sm_store *st, const char *collection, struct strbuf *err)
{
	return sm_sq_write3(
	    sm_sq(st),
	    collection ? "UPDATE artifacts SET stale = 1 WHERE collection = :c AND stale = 0"
		       : "UPDATE artifacts SET stale = 1 WHERE stale = 0",
	    ":c", collection, NULL, NULL, NULL, NULL, err, "cannot mark artifacts stale");
}

static int sq_data_version(struct sm_store *st, int64_t *ret, struct strbuf *err)
{
	return count_query(sm_sq(st), "PRAGMA data_version", ret, NULL, NULL, err);
}

static int sq_revision(struct sm_store *st, char out[SM_STORE_REVISION_MAX], struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	const char *epoch;
	int r, rc;

	r = sm_sq_prepare(s, "SELECT epoch, n FROM db_revision WHERE id = 1", &q, err);
	if (r < 0)
		return r;
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return sm_err(err, -EBADMSG, "database revision row missing");
	if (rc != SQLITE_ROW)
		return sm_sq_fail(s, rc, err, "cannot read database revision");
	epoch = (const char *)sqlite3_column_text(q, 0);
	if (!epoch)
		return sm_err(err, -ENOMEM, "out of memory");
	snprintf(out, SM_STORE_REVISION_MAX, "%.16s-%lld", epoch,
		 (long long)sqlite3_column_int64(q, 1));
	return 0;
}

static int sq_list_collection_names(struct sm_store *st, char ***ret, size_t *ret_n,
				    struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	char **v = NULL;
	size_t n = 0, alloc = 0;
	int r, rc;

	r = sm_sq_prepare(s, "SELECT DISTINCT collection FROM artifacts ORDER BY collection", &q,
			  err);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (SM_GROW(v, alloc, n + 1) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto fail;
		}
		v[n] = NULL;
		if (sm_sq_col_str(q, 0, &v[n]) < 0 || !v[n]) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto fail;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = sm_sq_fail(s, rc, err, "cannot read collection names");
		goto fail;
	}
	*ret = v;
	*ret_n = n;
	return (int)n;
fail:
	for (size_t i = 0; i < n; i++)
		sm_free(v[i]);
	sm_free(v);
	return r;
}

static int sq_any_flagged_stale(struct sm_store *st, bool *ret, struct strbuf *err)
{
	int64_t v = 0;
	int r = count_query(sm_sq(st), "SELECT EXISTS (SELECT 1 FROM artifacts WHERE stale = 1)",
			    &v, NULL, NULL, err);

	if (r < 0)
		return r;
	*ret = v != 0;
	return 0;
}

static int sq_bulk_begin(struct sm_store *st, int64_t *mark, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int64_t max = 0;
	int r, rc;

	r = count_query(s, "SELECT COALESCE(MAX(id), 0) FROM artifacts", &max, NULL, NULL, err);
	if (r < 0)
		return r;
	r = sm_sq_prepare(s, "INSERT OR REPLACE INTO fts_defer (id, mark) VALUES (1, :m)", &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_int(q, ":m", max);
	r = rc == SQLITE_OK ? sm_sq_run(s, q, NULL, err, "cannot defer indexing")
			    : sm_sq_fail(s, rc, err, "cannot defer indexing");
	if (r < 0)
		return r;
	*mark = max;
	return 0;
}

static int sq_bulk_end(struct sm_store *st, int64_t mark, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int r, rc;

	r = sm_sq_exec_cached(s, "DELETE FROM fts_defer", err);
	if (r < 0)
		return r;
	r = sm_sq_prepare(s, sm_db_sql_fts_flush, &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_int(q, ":max", mark);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, "cannot index artifacts");
	r = sm_sq_run(s, q, NULL, err, "cannot index artifacts");
	return r < 0 ? r : 0;
}


static const struct sm_store_ops sqlite_ops = {
    .name = "sqlite",
    .free = sq_free,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .upsert_artifacts = sq_upsert_artifacts,
    .prune_artifacts = sq_prune_artifacts,
    .delete_artifact = sq_delete_artifact,
    .get_artifact = sq_get_artifact,
    .get_artifact_by_key = sq_get_artifact_by_key,
    .find_artifacts = sq_find_artifacts,
    .list_collection = sq_list_collection,
    .list_artifacts = sq_list_artifacts,
    .list_user_collections = sm_sq_list_user_collections,
    .get_user_collection = sm_sq_get_user_collection,
    .create_user_collection = sm_sq_create_user_collection,
    .put_user_collection = sm_sq_put_user_collection,
    .update_user_collection = sm_sq_update_user_collection,
    .delete_user_collection = sm_sq_delete_user_collection,
    .prune_user_collections = sm_sq_prune_user_collections,
    .add_members = sm_sq_add_members,
    .add_all_members = sm_sq_add_all_members,
    .remove_member = sm_sq_remove_member,
    .prune_members = sm_sq_prune_members,
    .memberships_of = sm_sq_memberships_of,
    .count_members = sm_sq_count_members,
    .cache_status = sq_cache_status,
    .list_stale = sq_list_stale,
    .mark_stale = sq_mark_stale,
    .mark_stale_collection = sq_mark_stale_collection,
    .data_version = sq_data_version,
    .revision = sq_revision,
    .get_sync_state = sm_sq_get_sync_state,
    .list_fingerprints = sm_sq_list_fingerprints,
    .list_collection_names = sq_list_collection_names,
    .any_flagged_stale = sq_any_flagged_stale,
    .bulk_begin = sq_bulk_begin,
    .bulk_end = sq_bulk_end,
    .set_sync_state = sm_sq_set_sync_state,
    .set_walk_record = sm_sq_set_walk_record,
    .replace_deployments = sm_sq_replace_deployments,
    .deployments_of = sm_sq_deployments_of,
    .dump = sm_sq_dump,
    .in_transaction = sq_in_transaction,
};

int sm_store_sqlite_new(struct sm_db *db, struct sm_store **ret, struct strbuf *err)
{
	struct sqlite_store *s;
	int v;

	v = sm_db_version(db, err);
	if (v < 0)
		return v;
	if (v != sm_db_latest_version())
		return sm_err(err, -ENOTSUP, "'%s' is at schema version %d, the store needs %d",
			      sm_db_path(db), v, sm_db_latest_version());
	s = sm_calloc(1, sizeof(*s));
	if (!s)
		return sm_err(err, -ENOMEM, "out of memory");
	s->base.ops = &sqlite_ops;
	s->db = db;
	s->h = sm_db_handle(db);
	*ret = &s->base;
	return 0;
}
