/* SPDX-License-Identifier: MIT */
/*
 * The team store's writes of the truth interface (skillmeat/truth.h,
 * src/ops/truth_team.c): user collections, their members, an artifact's
 * delete, each scoped by the store's tenant, in the caller's transaction
 * (sm_store_begin locks the tenant). The statement triggers of the schema
 * bump the tenant's revision and NOTIFY (store_pg_schema.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/store_pg_internal.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

static int affected(PGresult *res)
{
	const char *n = PQcmdTuples(res);

	return n && *n ? (int)strtol(n, NULL, 10) : 0;
}

int sm_pg_delete_artifact(struct sm_store *st, const char *uuid, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct pgp p = {{s->tenant, uuid}, 2};
	PGresult *res = NULL;
	int r = sm_pg_run(s->conn, "DELETE FROM artifacts WHERE tenant_id = $1 AND uuid = $2", &p,
			  &res, err, "cannot delete the artifact");

	if (r == 0)
		r = affected(res);
	PQclear(res);
	return r;
}

static int uc_write(struct pg_store *s, const struct sm_user_collection_row *row, bool upsert,
		    struct strbuf *err)
{
	struct pgp p = {{s->tenant, row->id, row->name, row->description, row->collection_type,
			 row->context_category, row->created_at,
			 row->updated_at ? row->updated_at : row->created_at},
			8};
	PGresult *res = NULL;
	int r;

	r = sm_pg_run(s->conn,
		      upsert ? "INSERT INTO user_collections (tenant_id, id, name, description,"
			       " collection_type, context_category, created_at, updated_at)"
			       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
			       " ON CONFLICT (tenant_id, id) DO UPDATE SET name = $3,"
			       " description = $4, collection_type = $5, context_category = $6,"
			       " created_at = $7, updated_at = $8"
			       " RETURNING (xmax = 0)"
			     : "INSERT INTO user_collections (tenant_id, id, name, description,"
			       " collection_type, context_category, created_at, updated_at)"
			       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING true",
		      &p, &res, err, "cannot write the collection");
	if (r == -EEXIST)
		return sm_err(err, r, "collection name '%s' is taken", row->name);
	if (r == 0)
		r = PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return r;
}

int sm_pg_create_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
				 struct strbuf *err)
{
	int r = uc_write(pg(st), row, false, err);

	return r < 0 ? r : 0;
}

int sm_pg_put_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
			      struct strbuf *err)
{
	return uc_write(pg(st), row, true, err);
}

int sm_pg_delete_user_collection(struct sm_store *st, const char *id, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct pgp p = {{s->tenant, id}, 2};
	PGresult *res = NULL;
	int r = sm_pg_run(s->conn, "DELETE FROM user_collections WHERE tenant_id = $1 AND id = $2",
			  &p, &res, err, "cannot delete the collection");

	if (r == 0 && affected(res) == 0)
		r = sm_err(err, -ENOENT, "collection '%s' not found", id);
	PQclear(res);
	return r;
}

int sm_pg_add_members(struct sm_store *st, const char *id, const char *const *uuids, size_t n,
		      const char *added_at, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct strbuf arr = STRBUF_INIT;
	struct pgp p = {{s->tenant, id, NULL, added_at}, 4};
	PGresult *res = NULL;
	int r = sm_strbuf_addch(&arr, '{');

	if (n == 0)
		return 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		/* uuids are 32 hex digits (the key checks it): no quoting needed */
		for (const char *c = uuids[i]; *c; c++)
			if (!strchr("0123456789abcdef", *c)) {
				sm_strbuf_release(&arr);
				return sm_err(err, -EINVAL, "invalid uuid '%s'", uuids[i]);
			}
		r = sm_strbuf_addf(&arr, "%s%s", i ? "," : "", uuids[i]);
	}
	if (r == 0)
		r = sm_strbuf_addch(&arr, '}');
	if (r < 0) {
		sm_strbuf_release(&arr);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	p.v[2] = arr.buf;
	/* one statement: one revision bump and one notification naming the collection */
	r = sm_pg_run(s->conn,
		      "INSERT INTO collection_artifacts (tenant_id, collection_id, artifact_uuid,"
		      " added_at) SELECT $1, $2, u, $4 FROM unnest($3::text[]) AS u"
		      " ON CONFLICT DO NOTHING",
		      &p, &res, err, "cannot add the members");
	if (r == 0)
		r = affected(res);
	PQclear(res);
	sm_strbuf_release(&arr);
	return r;
}

int sm_pg_remove_member(struct sm_store *st, const char *id, const char *uuid, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct pgp p = {{s->tenant, id, uuid}, 3};
	PGresult *res = NULL;
	int r = sm_pg_run(s->conn,
			  "DELETE FROM collection_artifacts WHERE tenant_id = $1 AND"
			  " collection_id = $2 AND artifact_uuid = $3",
			  &p, &res, err, "cannot remove the member");

	if (r == 0)
		r = affected(res) > 0;
	PQclear(res);
	return r;
}
