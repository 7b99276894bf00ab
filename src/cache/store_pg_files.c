/* SPDX-License-Identifier: MIT */
/*
 * The team truth's entries that the store interface does not have
 * (skillmeat/store_pg.h, src/ops/truth_team.c), skillmeat-pg.so's
 * sm_pg_truth_module: the reads of an artifact's files for list_files and
 * read_file (the rows of artifact_files of the store's tenant, the list
 * without the bytes, one file's bytes only when it is within the caller's
 * cap), a file's bytes replaced (a metadata edit's frontmatter), and the
 * sync of index_sync (the default collection holds every artifact).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/store_pg_internal.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

static int pg_list_files(struct sm_store *st, const char *uuid, struct sm_pg_file_info **ret,
			 size_t *ret_n, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct pgp p = {{s->tenant, uuid}, 2};
	struct sm_pg_file_info *v = NULL;
	PGresult *res = NULL;
	size_t n = 0;
	int r = sm_pg_run(s->conn,
			  "SELECT path, octet_length(content) FROM artifact_files"
			  " WHERE tenant_id = $1 AND artifact_uuid = $2 ORDER BY path",
			  &p, &res, err, "cannot list the files");

	if (r == 0)
		n = (size_t)PQntuples(res);
	if (r == 0 && n && !(v = sm_calloc(n, sizeof(*v))))
		r = sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		v[i].size = strtoull(PQgetvalue(res, (int)i, 1), NULL, 10);
		if (!(v[i].path = sm_strdup(PQgetvalue(res, (int)i, 0))))
			r = sm_err(err, -ENOMEM, "out of memory");
	}
	PQclear(res);
	if (r < 0) {
		sm_pg_file_infos_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int pg_read_file(struct sm_store *st, const char *uuid, const char *path, size_t max,
			struct strbuf *out, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	char cap[24];
	const char *v[4] = {s->tenant, uuid, path, cap};
	PGresult *res;
	uint64_t size;
	size_t len;
	int r;

	snprintf(cap, sizeof(cap), "%zu", max);
	/* binary results: the bytes as stored; the size as text (a text column's binary form) */
	res = PQexecParams(s->conn,
			   "SELECT octet_length(content)::text, CASE WHEN octet_length(content)"
			   " <= $4::bigint THEN content END FROM artifact_files WHERE tenant_id = $1"
			   " AND artifact_uuid = $2 AND path = $3",
			   4, NULL, v, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = sm_pg_fail(s->conn, res, err, "cannot read the file");
		PQclear(res);
		return r;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return sm_err(err, -ENOENT, "no file '%s'", path);
	}
	size = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	if (size > max || PQgetisnull(res, 0, 1)) {
		PQclear(res);
		return sm_err(err, -E2BIG, "the file '%s' is over %zu bytes", path, max);
	}
	len = (size_t)PQgetlength(res, 0, 1);
	r = sm_strbuf_add(out, PQgetvalue(res, 0, 1), len);
	PQclear(res);
	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

#define NOW_ISO "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* In the caller's transaction (sm_store_begin: the tenant's row locked). */
static int pg_fill_default(struct sm_store *st, const char *collection, int64_t *artifacts,
			   int64_t *added, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct pgp p = {{s->tenant, collection}, collection ? 2 : 1};
	struct pgp t = {{s->tenant}, 1};
	PGresult *res = NULL;
	int r;

	/* as an upload makes it (the default collection's row is a user collection's) */
	r = sm_pg_run(s->conn,
		      "INSERT INTO user_collections (tenant_id, id, name, collection_type,"
		      " created_at, updated_at) VALUES ($1, 'default', 'Default Collection',"
		      " 'default', " NOW_ISO ", " NOW_ISO ") ON CONFLICT DO NOTHING",
		      &t, NULL, err, "cannot add the default collection");
	if (r == 0)
		r = sm_pg_run(s->conn,
			      collection
				  ? "INSERT INTO collection_artifacts SELECT tenant_id, 'default', uuid, "
				    NOW_ISO " FROM artifacts WHERE tenant_id = $1 AND collection = $2"
				    " ON CONFLICT DO NOTHING"
				  : "INSERT INTO collection_artifacts SELECT tenant_id, 'default', uuid, "
				    NOW_ISO " FROM artifacts WHERE tenant_id = $1 ON CONFLICT DO NOTHING",
			      &p, &res, err, "cannot fill the default collection");
	if (r == 0) {
		const char *n = PQcmdTuples(res);

		*added = n && *n ? strtoll(n, NULL, 10) : 0;
		PQclear(res);
		res = NULL;
		r = sm_pg_run(s->conn,
			      collection ? "SELECT count(*) FROM artifacts WHERE tenant_id = $1"
					   " AND collection = $2"
					 : "SELECT count(*) FROM artifacts WHERE tenant_id = $1",
			      &p, &res, err, "cannot count the artifacts");
	}
	if (r == 0)
		*artifacts = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return r;
}

static int pg_put_file(struct sm_store *st, const char *uuid, const char *path, const void *data,
		       size_t len, const char *hash, int64_t total, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	char tot[24];
	const char *v[4] = {s->tenant, uuid, path, data};
	int lens[4] = {0, 0, 0, (int)len}, fmts[4] = {0, 0, 0, 1};
	struct pgp p = {{s->tenant, uuid, hash, tot}, 4};
	PGresult *res;
	int r;

	if (len > INT32_MAX)
		return sm_err(err, -E2BIG, "the file '%s' is too large", path);
	snprintf(tot, sizeof(tot), "%" PRId64, total);
	/* the bytes as a binary parameter: no encoding of them */
	res = PQexecParams(s->conn,
			   "UPDATE artifact_files SET content = $4 WHERE tenant_id = $1"
			   " AND artifact_uuid = $2 AND path = $3",
			   4, NULL, v, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = sm_pg_fail(s->conn, res, err, "cannot write the file");
		PQclear(res);
		return r;
	}
	r = strcmp(PQcmdTuples(res), "1") == 0 ? 0 : sm_err(err, -ENOENT, "no file '%s'", path);
	PQclear(res);
	if (r == 0)
		r = sm_pg_run(s->conn,
			      "UPDATE artifacts SET content_hash = $3, lock_hash = $3,"
			      " total_size = $4::bigint WHERE tenant_id = $1 AND uuid = $2",
			      &p, NULL, err, "cannot update the content hash");
	return r;
}

const struct sm_pg_truth_ops sm_pg_truth_module = {
	.list_files = pg_list_files,
	.read_file = pg_read_file,
	.fill_default = pg_fill_default,
	.put_file = pg_put_file,
};
