/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CACHE_STORE_SQLITE_H
#define SKILLMEAT_CACHE_STORE_SQLITE_H

/*
 * Internal to the SQLite store backend (store_sqlite*.c): the handle, the
 * per-connection statement cache and the helpers its files share.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "skillmeat/memory.h"
#include "skillmeat/store.h"

struct strbuf;

struct stmt_slot {
	uint64_t hash;
	char *sql;
	sqlite3_stmt *stmt;
};

struct sqlite_store {
	struct sm_store base;
	struct sm_db *db;
	sqlite3 *h;
	struct stmt_slot *slots;
	size_t nslots;
	size_t alloc;
};

static inline struct sqlite_store *sm_sq(struct sm_store *st)
{
	return (struct sqlite_store *)st;
}

/* A page size when the query leaves limit 0. */
#define DEFAULT_LIMIT 20

#define UC_COLS "id, name, description, collection_type, context_category, created_at, updated_at"

/* Map rc to errno (db_internal.h) with "<what>: <sqlite message>". */
int sm_sq_fail(struct sqlite_store *s, int rc, struct strbuf *err, const char *what);

/*
 * The prepared statement for sql, from the cache or prepared now. The
 * statement stays owned by the cache; release it with sm_sq_stmt_donep()
 * (reset, clear bindings), usually through _cleanup_stmt_.
 */
int sm_sq_prepare(struct sqlite_store *s, const char *sql, sqlite3_stmt **ret, struct strbuf *err);
void sm_sq_stmt_donep(sqlite3_stmt **p);
#define _cleanup_stmt_ _cleanup_(sm_sq_stmt_donep)

/* Bind by name (NULL binds NULL); a parameter the statement lacks is skipped. */
int sm_sq_bind_text(sqlite3_stmt *st, const char *param, const char *v);
int sm_sq_bind_int(sqlite3_stmt *st, const char *param, int64_t v);

/* Step a statement without results; *changes (may be NULL) gets the rows changed. */
int sm_sq_run(struct sqlite_store *s, sqlite3_stmt *st, int *changes, struct strbuf *err,
	      const char *what);
int sm_sq_exec_cached(struct sqlite_store *s, const char *sql, struct strbuf *err);

/*
 * Make an operation atomic: its own transaction when none is open (a write
 * takes the lock up front with BEGIN IMMEDIATE), else a savepoint in the
 * caller's. Pass *own and the operation's result to sm_sq_op_end(), which
 * commits or rolls back and returns the result.
 */
int sm_sq_op_begin(struct sqlite_store *s, bool write, int *own, struct strbuf *err);
int sm_sq_op_end(struct sqlite_store *s, bool write, int own, int r, struct strbuf *err);

/* Copy a text column (NULL stays NULL); 0 or -ENOMEM. */
int sm_sq_col_str(sqlite3_stmt *st, int col, char **ret);
/*
 * Columns cols[0..n) as strings (NULL for SQL NULL) into *dst[i], all in one
 * block that row owns (row->strings): one allocation for a row's few fields.
 */
#define SM_SQ_PACK_MAX 8
int sm_sq_cols_packed(sqlite3_stmt *st, const int *cols, char **const *dst, size_t n,
		      struct sm_artifact_row *row);

/* A JSON array of the n strings (to bind to json_each()). */
int sm_sq_json_array(const char *const *v, size_t n, struct strbuf *out);

/* store_sqlite_search.c: the FTS5 MATCH expression for a search string, into out. */
int sm_sq_fts_query(struct sqlite_store *s, const char *search, struct strbuf *out);
/* The store's dump operation (store_sqlite_dump.c). */
int sm_sq_dump(struct sm_store *st, unsigned flags, struct strbuf *out, struct strbuf *err);

/* store_sqlite_sync.c: the sync state and the files fingerprints (struct sm_store_ops). */
int sm_sq_get_sync_state(struct sm_store *st, const char *collection, char **ret,
			 struct strbuf *err);
int sm_sq_set_sync_state(struct sm_store *st, const char *collection, const char *fp,
			 struct strbuf *err);
int sm_sq_set_walk_record(struct sm_store *st, const char *collection, const char *type,
			  const char *name, const char *old_fp, const char *new_fp,
			  struct strbuf *err);
int sm_sq_list_fingerprints(struct sm_store *st, const char *collection,
			    struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err);
/* NULL, empty or only blanks. */
bool sm_sq_blank(const char *s);

/* A write with up to three named text parameters; returns the rows changed. */
int sm_sq_write3(struct sqlite_store *s, const char *sql, const char *n1, const char *v1,
		 const char *n2, const char *v2, const char *n3, const char *v3, struct strbuf *err,
		 const char *what);
/* A write with one text parameter and a list bound to :list; returns the rows changed. */
int sm_sq_write_with_list(struct sqlite_store *s, const char *sql, const char *p1name,
			  const char *p1, const char *const *list, size_t n, struct strbuf *err,
			  const char *what);

/* store_sqlite_collections.c: user collections and membership (see store.h). */
int sm_sq_list_user_collections(struct sm_store *st, const struct sm_user_collection_query *q,
				struct sm_user_collection_page *ret, struct strbuf *err);
int sm_sq_get_user_collection(struct sm_store *st, const char *id,
			      struct sm_user_collection_row *ret, struct strbuf *err);
int sm_sq_create_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
				 struct strbuf *err);
int sm_sq_put_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
			      struct strbuf *err);
int sm_sq_update_user_collection(struct sm_store *st, const char *id,
				 const struct sm_user_collection_update *u, struct strbuf *err);
int sm_sq_delete_user_collection(struct sm_store *st, const char *id, struct strbuf *err);
int sm_sq_prune_user_collections(struct sm_store *st, const char *const *keep_ids, size_t nkeep,
				 struct strbuf *err);
int sm_sq_add_members(struct sm_store *st, const char *collection_id, const char *const *uuids,
		      size_t n, const char *added_at, struct strbuf *err);
int sm_sq_add_all_members(struct sm_store *st, const char *collection_id, const char *added_at,
			  struct strbuf *err);
int sm_sq_replace_deployments(struct sm_store *st, const char *project, const char *root,
			      const struct sm_deployment_row *rows, size_t n, struct strbuf *err);
int sm_sq_deployments_of(struct sm_store *st, const char *collection, const char *type,
			 const char *name, struct sm_deployment_row **ret, size_t *ret_n,
			 struct strbuf *err);
int sm_sq_remove_member(struct sm_store *st, const char *collection_id, const char *uuid,
			struct strbuf *err);
int sm_sq_prune_members(struct sm_store *st, const char *collection_id,
			const char *const *keep_uuids, size_t nkeep, struct strbuf *err);
int sm_sq_memberships_of(struct sm_store *st, const char *const *uuids, size_t n,
			 struct sm_membership **ret, size_t *ret_n, struct strbuf *err);
int sm_sq_count_members(struct sm_store *st, const char *const *ids, size_t n, int64_t *counts,
			struct strbuf *err);

#endif
