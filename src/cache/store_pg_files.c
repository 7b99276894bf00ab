/* SPDX-License-Identifier: MIT */
/*
 * The team store's reads of an artifact's files (skillmeat/store_pg.h), for
 * the team truth's list_files and read_file (src/ops/truth_team.c): the rows
 * of artifact_files of the store's tenant, the list without the bytes, one
 * file's bytes only when it is within the caller's cap.
 */
#include <errno.h>
#include <inttypes.h>
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

const struct sm_pg_files_ops sm_pg_files_module = {
	.list_files = pg_list_files,
	.read_file = pg_read_file,
};
