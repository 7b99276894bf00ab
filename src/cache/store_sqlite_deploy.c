/* SPDX-License-Identifier: MIT */
/* The deployments index of the SQLite store (store.h). */
#include <errno.h>
#include <string.h>

#include "cache/store_sqlite.h"
#include "skillmeat/array.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

int sm_sq_replace_deployments(struct sm_store *st, const char *project, const char *root,
			      const struct sm_deployment_row *rows, size_t n, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	int own, r;

	r = sm_sq_op_begin(s, true, &own, err);
	if (r < 0)
		return r;
	if (project && root)
		r = sm_sq_write3(s, "DELETE FROM deployments WHERE project = :p AND root = :r", ":p",
				 project, ":r", root, NULL, NULL, err, "cannot drop deployments");
	else if (project)
		r = sm_sq_write3(s, "DELETE FROM deployments WHERE project = :p", ":p", project, NULL,
				 NULL, NULL, NULL, err, "cannot drop deployments");
	else
		r = sm_sq_write3(s, "DELETE FROM deployments", NULL, NULL, NULL, NULL, NULL, NULL,
				 err, "cannot drop deployments");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct sm_deployment_row *d = &rows[i];
		_cleanup_stmt_ sqlite3_stmt *q = NULL;

		r = sm_sq_prepare(s,
				  "INSERT OR REPLACE INTO deployments (project, root, profile_id,"
				  " collection, type, name, artifact_path, deployed_at, content_hash,"
				  " platform, local_modifications) VALUES (:p, :ro, :pr, :c, :t, :n,"
				  " :a, :d, :h, :pl, :m)",
				  &q, err);
		if (r < 0)
			break;
		sm_sq_bind_text(q, ":p", d->project);
		sm_sq_bind_text(q, ":ro", d->root ? d->root : ".claude");
		sm_sq_bind_text(q, ":pr", d->profile_id);
		sm_sq_bind_text(q, ":c", d->collection);
		sm_sq_bind_text(q, ":t", d->type);
		sm_sq_bind_text(q, ":n", d->name);
		sm_sq_bind_text(q, ":a", d->artifact_path);
		sm_sq_bind_text(q, ":d", d->deployed_at);
		sm_sq_bind_text(q, ":h", d->content_hash);
		sm_sq_bind_text(q, ":pl", d->platform);
		sm_sq_bind_int(q, ":m", d->local_modifications);
		r = sm_sq_run(s, q, NULL, err, "cannot index a deployment");
	}
	return sm_sq_op_end(s, true, own, r < 0 ? r : 0, err);
}

int sm_sq_deployments_of(struct sm_store *st, const char *collection, const char *type,
			 const char *name, struct sm_deployment_row **ret, size_t *ret_n,
			 struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct sm_deployment_row *v = NULL;
	size_t n = 0, alloc = 0;
	int r, rc;

	r = sm_sq_prepare(s,
			  "SELECT project, profile_id, collection, type, name, artifact_path,"
			  " deployed_at, content_hash, platform, local_modifications"
			  " FROM deployments WHERE collection = :c AND type = :t AND name = :n"
			  " ORDER BY project, profile_id",
			  &q, err);
	if (r < 0)
		return r;
	sm_sq_bind_text(q, ":c", collection);
	sm_sq_bind_text(q, ":t", type);
	sm_sq_bind_text(q, ":n", name);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct sm_deployment_row *d;

		if (SM_GROW(v, alloc, n + 1) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		d = &v[n++];
		memset(d, 0, sizeof(*d));
		r = sm_sq_col_str(q, 0, &d->project);
		r = r ?: sm_sq_col_str(q, 1, &d->profile_id);
		r = r ?: sm_sq_col_str(q, 2, &d->collection);
		r = r ?: sm_sq_col_str(q, 3, &d->type);
		r = r ?: sm_sq_col_str(q, 4, &d->name);
		r = r ?: sm_sq_col_str(q, 5, &d->artifact_path);
		r = r ?: sm_sq_col_str(q, 6, &d->deployed_at);
		r = r ?: sm_sq_col_str(q, 7, &d->content_hash);
		r = r ?: sm_sq_col_str(q, 8, &d->platform);
		d->local_modifications = sqlite3_column_int(q, 9) != 0;
		if (r < 0) {
			r = sm_err(err, r, "out of memory");
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sm_sq_fail(s, rc, err, "cannot read deployments");
	if (r < 0) {
		sm_deployment_rows_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
