/* SPDX-License-Identifier: MIT */
/*
 * The SQLite store's side of the warm sync: a collection's sync state (the
 * manifest's stat fingerprint at its last full sync) and the files
 * fingerprints of its rows, which a read compares before it reads anything.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "cache/store_internal.h"
#include "cache/store_sqlite.h"
#include "skillmeat/array.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

int sm_sq_get_sync_state(struct sm_store *st, const char *collection, char **ret,
			  struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	char *v = NULL;
	int r, rc;

	r = sm_sq_prepare(s, "SELECT files_fp FROM sync_state WHERE collection = :c", &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(q, ":c", collection);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, "cannot read the sync state");
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		r = sm_sq_col_str(q, 0, &v);
		if (r < 0)
			return r;
	} else if (rc != SQLITE_DONE) {
		return sm_sq_fail(s, rc, err, "cannot read the sync state");
	}
	*ret = v;
	return 0;
}

int sm_sq_list_fingerprints(struct sm_store *st, const char *collection,
			    struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct sm_artifact_row *rows = NULL;
	size_t n = 0, alloc = 0;
	int r, rc;

	r = sm_sq_prepare(s,
			  /* a row without updated (before migration 9) has to be read again */
			  "SELECT type, name, path, CASE WHEN updated IS NULL THEN NULL"
			  " ELSE fingerprint END, stale, synced_at FROM artifacts"
			  " WHERE collection = :c ORDER BY type, name",
			  &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(q, ":c", collection);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, "cannot read fingerprints");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct sm_artifact_row *row;

		if (SM_GROW(rows, alloc, n + 1) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto fail;
		}
		row = &rows[n];
		memset(row, 0, sizeof(*row));
		n++;
		{
			static const int cols[] = { 0, 1, 2, 3 };
			char **const dst[] = { &row->type, &row->name, &row->path,
					       &row->fingerprint };

			if ((r = sm_sq_cols_packed(q, cols, dst, 4, row)) < 0) {
				r = sm_err(err, r, "out of memory");
				goto fail;
			}
		}
		row->stale = sqlite3_column_int(q, 4) != 0;
		row->synced_at = sqlite3_column_int64(q, 5);
	}
	if (rc != SQLITE_DONE) {
		r = sm_sq_fail(s, rc, err, "cannot read fingerprints");
		goto fail;
	}
	*ret = rows;
	*ret_n = n;
	return (int)n;
fail:
	sm_artifact_rows_free(rows, n);
	return r;
}

int sm_sq_set_walk_record(struct sm_store *st, const char *collection, const char *type,
			  const char *name, const char *old_fp, const char *new_fp,
			  struct strbuf *err)
{
	static const char what[] = "cannot write a walk record";
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int changes = 0, r, rc;

	r = sm_sq_prepare(s,
			  "UPDATE artifacts SET fingerprint = :new WHERE collection = :c"
			  " AND type = :t AND name = :n AND fingerprint = :old",
			  &q, err);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(q, ":new", new_fp);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":c", collection);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":t", type);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":n", name);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(q, ":old", old_fp);
	if (rc != SQLITE_OK)
		return sm_sq_fail(s, rc, err, what);
	r = sm_sq_run(s, q, &changes, err, what);
	return r < 0 ? r : changes > 0;
}

int sm_sq_set_sync_state(struct sm_store *st, const char *collection, const char *fp,
			  struct strbuf *err)
{
	int r;

	if (!fp)
		r = sm_sq_write3(sm_sq(st), "DELETE FROM sync_state WHERE collection = :c", ":c",
				 collection, NULL, NULL, NULL, NULL, err, "cannot write the sync state");
	else
		r = sm_sq_write3(sm_sq(st),
				 "INSERT INTO sync_state (collection, files_fp) VALUES (:c, :f)"
				 " ON CONFLICT (collection) DO UPDATE SET files_fp = excluded.files_fp",
				 ":c", collection, ":f", fp, NULL, NULL, err,
				 "cannot write the sync state");
	return r < 0 ? r : 0;
}
