/* SPDX-License-Identifier: MIT */
/*
 * The team store (skillmeat/store_pg.h): struct sm_store_ops over PostgreSQL
 * through libpq, every query scoped by the store's tenant. Built into the
 * skillmeat-pg.so module only. Reads are served here; the operations that
 * keep a file index in step with files (sync state, staleness, fingerprints,
 * bulk mode) have no meaning when the database is the truth and answer
 * -ENOTSUP, as do the writes not built yet (docs/team.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cache/store_internal.h"
#include "cache/store_pg_internal.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/test_hooks.h"
#include "skillmeat/timeutil.h"

#include "util/banned.h"

/* pg_advisory_lock key of the migrations: "skillmeat" in ASCII, truncated. */
#define MIGRATE_LOCK_KEY INT64_C(0x736b696c6c6d6561)
#define PG_DEFAULT_LIMIT 20

/* Append value as the next parameter and "$k" (with cast, may be "") to sql. */
static int param(struct pgp *p, struct strbuf *sql, const char *value, const char *cast)
{
	if (p->n >= PG_MAX_PARAMS)
		return -E2BIG;
	p->v[p->n++] = value;
	return sm_strbuf_addf(sql, "$%d%s", p->n, cast);
}

/* The first line of libpq's message. */
int sm_pg_fail(PGconn *conn, const PGresult *res, struct strbuf *err, const char *what)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	size_t len = strcspn(msg ? msg : "", "\n");
	int code = -EIO;

	if (PQstatus(conn) != CONNECTION_OK)
		code = -ECONNRESET;
	else if (state && !strcmp(state, "23505"))
		code = -EEXIST;
	else if (state && !strcmp(state, "23503"))
		code = -ENOENT;
	else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01")))
		code = -EBUSY;
	return sm_err(err, code, "%s: %.*s", what, (int)len, msg ? msg : "");
}

/* Run sql (p NULL: no parameters); *ret (may be NULL) gets the result of a query. */
int sm_pg_run(PGconn *conn, const char *sql, const struct pgp *p, PGresult **ret,
		  struct strbuf *err, const char *what)
{
	/* without parameters the simple protocol: a migration is several statements */
	PGresult *res = p ? PQexecParams(conn, sql, p->n, NULL, p->v, NULL, NULL, 0)
			  : PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int r;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		r = sm_pg_fail(conn, res, err, what);
		PQclear(res);
		return r;
	}
	if (ret)
		*ret = res;
	else
		PQclear(res);
	return 0;
}

static int pg_str(const PGresult *res, int row, int col, char **ret)
{
	*ret = NULL;
	if (PQgetisnull(res, row, col))
		return 0;
	*ret = sm_strdup(PQgetvalue(res, row, col));
	return *ret ? 0 : -ENOMEM;
}

static int64_t pg_int(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* ---- connection and migrations ---- */

static int pg_connect(const char *url, PGconn **ret, struct strbuf *err)
{
	PGconn *conn = PQconnectdb(url);

	if (!conn)
		return sm_err(err, -ENOMEM, "out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		const char *msg = PQerrorMessage(conn);
		size_t len = strcspn(msg, "\n");
		int r = sm_err(err, -ECONNREFUSED, "cannot connect to the team store: %.*s",
			       (int)len, msg);

		PQfinish(conn);
		return r;
	}
	/* quiet NOTICEs (IF NOT EXISTS) stay off stderr */
	(void)sm_pg_run(conn, "SET client_min_messages = warning", NULL, NULL, NULL, "set");
	*ret = conn;
	return 0;
}

/*
 * The highest migration applied (0: none). create: make the bookkeeping
 * table when missing, only under the migration lock (two sessions creating
 * it at once collide in the catalog).
 */
static int current_version(PGconn *conn, bool create, struct strbuf *err)
{
	PGresult *res = NULL;
	int r = 0;

	if (create) {
		r = sm_pg_run(conn,
			   "CREATE TABLE IF NOT EXISTS schema_migrations ("
			   " version integer PRIMARY KEY,"
			   " applied_at timestamptz NOT NULL DEFAULT now())",
			   NULL, NULL, err, "cannot create schema_migrations");
	} else {
		r = sm_pg_run(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", NULL, &res,
			   err, "cannot read the schema version");
		if (r == 0 && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
			r = 1; /* never migrated */
		PQclear(res);
		res = NULL;
		if (r == 1)
			return 0;
	}
	if (r == 0)
		r = sm_pg_run(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL,
			   &res, err, "cannot read the schema version");
	if (r == 0)
		r = (int)pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

/* One migration in its own transaction: up to version m->version, or down below it. */
static int apply(PGconn *conn, const struct sm_pg_migration *m, bool up, struct strbuf *err)
{
	char v[16];
	struct pgp p = {{v}, 1};
	int r;

	snprintf(v, sizeof(v), "%d", m->version);
	r = sm_pg_run(conn, "BEGIN", NULL, NULL, err, "cannot begin a migration");
	if (r == 0)
		r = sm_pg_run(conn, up ? m->up : m->down, NULL, NULL, err,
			   up ? "migration up failed" : "migration down failed");
	if (r == 0)
		r = sm_pg_run(conn,
			   up ? "INSERT INTO schema_migrations (version) VALUES ($1::integer)"
			      : "DELETE FROM schema_migrations WHERE version = $1::integer",
			   &p, NULL, err, "cannot record a migration");
	if (r == 0)
		return sm_pg_run(conn, "COMMIT", NULL, NULL, err, "cannot commit a migration");
	(void)sm_pg_run(conn, "ROLLBACK", NULL, NULL, NULL, "rollback");
	return r;
}

/* Migrate an open connection to version under the advisory lock; returns the version. */
static int migrate_conn(PGconn *conn, int version, struct strbuf *err)
{
	char key[32];
	struct pgp p = {{key}, 1};
	int cur, r;

	if (version < 0)
		version = sm_pg_nmigrations;
	if (version > sm_pg_nmigrations)
		return sm_err(err, -EINVAL, "no team schema version %d (latest %d)", version,
			      sm_pg_nmigrations);
	snprintf(key, sizeof(key), "%" PRId64, MIGRATE_LOCK_KEY);
	r = sm_pg_run(conn, "SELECT pg_advisory_lock($1::bigint)", &p, NULL, err,
		   "cannot take the migration lock");
	if (r < 0)
		return r;
	cur = current_version(conn, true, err);
	if (cur >= 0 && cur > sm_pg_nmigrations)
		cur = sm_err(err, -ENOTSUP,
			     "the team store is at schema version %d, newer than this skillmeat (%d)",
			     cur, sm_pg_nmigrations);
	r = cur;
	while (r >= 0 && cur < version) {
		r = apply(conn, &sm_pg_migrations[cur], true, err);
		if (r == 0)
			r = ++cur;
	}
	while (r >= 0 && cur > version) {
		r = apply(conn, &sm_pg_migrations[cur - 1], false, err);
		if (r == 0)
			r = --cur;
	}
	(void)sm_pg_run(conn, "SELECT pg_advisory_unlock($1::bigint)", &p, NULL, NULL, "unlock");
	return r < 0 ? r : cur;
}

static int pg_migrate_to(const char *url, int version, struct strbuf *err)
{
	PGconn *conn;
	int r = pg_connect(url, &conn, err);

	if (r < 0)
		return r;
	r = migrate_conn(conn, version, err);
	PQfinish(conn);
	return r;
}

static int pg_version(const char *url, struct strbuf *err)
{
	PGconn *conn;
	int r = pg_connect(url, &conn, err);

	if (r < 0)
		return r;
	r = current_version(conn, false, err);
	PQfinish(conn);
	return r;
}

/* ---- rows ---- */

/* "a.uuid, a.collection, …" in sm_artifact_fields order, then revision and row_hash. */
static int art_cols(struct strbuf *sql)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < SM_ARTIFACT_NFIELDS; i++)
		r = sm_strbuf_addf(sql, "%sa.%s", i ? ", " : "", sm_artifact_fields[i].name);
	if (r == 0)
		r = sm_strbuf_addstr(sql, ", a.revision, a.row_hash");
	return r;
}

#define ART_NCOLS (SM_ARTIFACT_NFIELDS + 2)

static int read_row(const PGresult *res, int i, bool with_member, int64_t now_ms,
		    struct sm_artifact_row *row)
{
	int r = 0;

	memset(row, 0, sizeof(*row));
	for (size_t f = 0; r == 0 && f < SM_ARTIFACT_NFIELDS; f++) {
		if (sm_artifact_fields[f].kind == SM_FIELD_INT)
			*(int64_t *)((char *)row + sm_artifact_fields[f].off) =
			    pg_int(res, i, (int)f);
		else
			r = pg_str(res, i, (int)f, str_field(row, f));
	}
	row->revision = pg_int(res, i, SM_ARTIFACT_NFIELDS);
	if (r == 0)
		r = pg_str(res, i, SM_ARTIFACT_NFIELDS + 1, &row->row_hash);
	if (r == 0 && with_member)
		r = pg_str(res, i, ART_NCOLS, &row->member_added_at);
	/* the database is the truth: a row is never stale, and current now */
	row->stale = false;
	row->synced_at = now_ms;
	if (r < 0)
		sm_artifact_row_release(row);
	return r;
}

/* Every row of res (up to limit; has_next when there were more). */
static int read_rows(const PGresult *res, bool with_member, size_t limit,
		     struct sm_artifact_row **ret, size_t *ret_n, bool *has_next)
{
	size_t n = (size_t)PQntuples(res), take = n > limit ? limit : n;
	struct sm_artifact_row *rows = take ? sm_calloc(take, sizeof(*rows)) : NULL;
	int64_t now = sm_time_real_ns() / 1000000;

	if (take && !rows)
		return -ENOMEM;
	for (size_t i = 0; i < take; i++) {
		if (read_row(res, (int)i, with_member, now, &rows[i]) < 0) {
			sm_artifact_rows_free(rows, i);
			return -ENOMEM;
		}
	}
	*ret = rows;
	*ret_n = take;
	if (has_next)
		*has_next = n > limit;
	return 0;
}

/* A PostgreSQL text[] literal of n strings. */
static int text_array(const char *const *v, size_t n, bool lower, struct strbuf *out)
{
	int r = sm_strbuf_addch(out, '{');

	for (size_t i = 0; r == 0 && i < n; i++) {
		r = sm_strbuf_addstr(out, i ? ",\"" : "\"");
		for (const char *c = v[i]; r == 0 && *c; c++) {
			char ch = lower && *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;

			if (ch == '"' || ch == '\\')
				r = sm_strbuf_addch(out, '\\');
			if (r == 0)
				r = sm_strbuf_addch(out, ch);
		}
		if (r == 0)
			r = sm_strbuf_addch(out, '"');
	}
	return r == 0 ? sm_strbuf_addch(out, '}') : r;
}

/*
 * The words of a search as a tsquery: each word (letters, digits, any
 * non-ASCII byte) a prefix, all required. Empty when there is no word.
 */
static int ts_query(const char *s, struct strbuf *out)
{
	bool in_word = false;
	int r = 0;

	for (const unsigned char *c = (const unsigned char *)s; r == 0; c++) {
		bool w = *c && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				(*c >= '0' && *c <= '9') || *c >= 0x80);

		if (w && !in_word && out->len)
			r = sm_strbuf_addstr(out, " & ");
		if (r == 0 && w)
			r = sm_strbuf_addch(out, *c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		if (r == 0 && !w && in_word)
			r = sm_strbuf_addstr(out, ":*");
		in_word = w;
		if (!*c)
			break;
	}
	return r;
}

/* ---- the store ---- */

static void pg_free(struct sm_store *st)
{
	struct pg_store *s = pg(st);

	PQfinish(s->conn);
	sm_free(s->tenant);
	sm_free(s);
}

static int pg_begin(struct sm_store *st, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	int r;

	struct pgp p = {{s->tenant}, 1};

	if (s->in_tx)
		return sm_err(err, -EINVAL, "a transaction is already open");
	r = sm_pg_run(s->conn, "BEGIN", NULL, NULL, err, "cannot begin");
	s->in_tx = r == 0;
	/*
	 * A write of the truth (src/ops/truth_team.c): the tenant's row locked
	 * until the commit, so the writes of one tenant through every instance
	 * run one after another, each on what the one before committed.
	 */
	if (r == 0)
		r = sm_pg_run(s->conn, "INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING",
			      &p, NULL, err, "cannot add the tenant");
	if (r == 0)
		r = sm_pg_run(s->conn, "SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE", &p, NULL,
			      err, "cannot lock the tenant");
	if (r < 0 && s->in_tx) {
		(void)sm_pg_run(s->conn, "ROLLBACK", NULL, NULL, NULL, "cannot roll back");
		s->in_tx = false;
	}
	return r;
}

static int pg_commit(struct sm_store *st, struct strbuf *err)
{
	struct pg_store *s = pg(st);

	s->in_tx = false;
	return sm_pg_run(s->conn, "COMMIT", NULL, NULL, err, "cannot commit");
}

static int pg_rollback(struct sm_store *st, struct strbuf *err)
{
	struct pg_store *s = pg(st);

	s->in_tx = false;
	return sm_pg_run(s->conn, "ROLLBACK", NULL, NULL, err, "cannot roll back");
}

/* Rows of "SELECT <cols> FROM artifacts a WHERE a.tenant_id = $1 <where>" with up to 3 more params. */
static int select_rows(struct pg_store *s, const char *where, const char *v2, const char *v3,
		       const char *v4, struct sm_artifact_row **ret, size_t *ret_n,
		       struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct pgp p = {{s->tenant, v2, v3, v4}, 1};
	PGresult *res = NULL;
	int r;

	p.n += (v2 != NULL) + (v3 != NULL) + (v4 != NULL);
	r = sm_strbuf_addstr(&sql, "SELECT ");
	if (r == 0)
		r = art_cols(&sql);
	if (r == 0)
		r = sm_strbuf_addf(&sql, " FROM artifacts a WHERE a.tenant_id = $1 %s", where);
	if (r < 0) {
		sm_strbuf_release(&sql);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	r = sm_pg_run(s->conn, sql.buf, &p, &res, err, "cannot read artifacts");
	if (r == 0 && read_rows(res, false, SIZE_MAX, ret, ret_n, NULL) < 0)
		r = sm_err(err, -ENOMEM, "out of memory");
	PQclear(res);
	sm_strbuf_release(&sql);
	return r < 0 ? r : (int)*ret_n;
}

static int one_row(struct pg_store *s, const char *where, const char *v2, const char *v3,
		   const char *v4, struct sm_artifact_row *ret, struct strbuf *err)
{
	struct sm_artifact_row *rows = NULL;
	size_t n = 0;
	int r = select_rows(s, where, v2, v3, v4, &rows, &n, err);

	if (r < 0)
		return r;
	if (n == 0)
		return sm_err(err, -ENOENT, "artifact: not in the team store");
	*ret = rows[0];
	memset(&rows[0], 0, sizeof(rows[0]));
	sm_artifact_rows_free(rows, n);
	return 0;
}

static int pg_get_artifact(struct sm_store *st, const char *uuid, struct sm_artifact_row *ret,
			   struct strbuf *err)
{
	return one_row(pg(st), "AND a.uuid = $2", uuid, NULL, NULL, ret, err);
}

static int pg_get_artifact_by_key(struct sm_store *st, const char *collection, const char *type,
				  const char *name, struct sm_artifact_row *ret, struct strbuf *err)
{
	return one_row(pg(st), "AND a.collection = $2 AND a.type = $3 AND a.name = $4", collection,
		       type, name, ret, err);
}

static int pg_find_artifacts(struct sm_store *st, const char *type, const char *name,
			     struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	if (type)
		return select_rows(pg(st), "AND a.name = $2 AND a.type = $3 ORDER BY a.collection",
				   name, type, NULL, ret, ret_n, err);
	return select_rows(pg(st), "AND a.name = $2 ORDER BY a.type, a.collection", name, NULL,
			   NULL, ret, ret_n, err);
}

/* The rows named as each of rows (any collection), in one query: a page's ids. */
static int pg_name_counts(struct sm_store *st, const struct sm_artifact_row *rows, size_t n,
			  size_t *counts, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct strbuf types = STRBUF_INIT, names = STRBUF_INIT;
	const char **tv = sm_calloc(n, sizeof(*tv)), **nv = sm_calloc(n, sizeof(*nv));
	struct pgp p = {{s->tenant}, 1};
	PGresult *res = NULL;
	int r = tv && nv ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		tv[i] = rows[i].type ? rows[i].type : "";
		nv[i] = rows[i].name ? rows[i].name : "";
	}
	if (r == 0 && (r = text_array(tv, n, false, &types)) == 0)
		r = text_array(nv, n, false, &names);
	if (r < 0) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	p.v[p.n++] = types.buf;
	p.v[p.n++] = names.buf;
	r = sm_pg_run(s->conn,
		      "SELECT x.i, count(a.uuid) FROM unnest($2::text[], $3::text[])"
		      " WITH ORDINALITY x(t, nm, i) LEFT JOIN artifacts a ON a.tenant_id = $1"
		      " AND a.type = x.t AND a.name = x.nm GROUP BY x.i",
		      &p, &res, err, "cannot count artifacts by name");
	if (r == 0 && (size_t)PQntuples(res) != n)
		r = sm_err(err, -EPROTO, "cannot count artifacts by name: %d rows for %zu",
			   PQntuples(res), n);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		int64_t at = pg_int(res, i, 0);

		if (at < 1 || (size_t)at > n) {
			r = sm_err(err, -EPROTO, "cannot count artifacts by name: row %" PRId64, at);
			break;
		}
		counts[at - 1] = (size_t)pg_int(res, i, 1);
	}
	PQclear(res);
out:
	sm_free(tv);
	sm_free(nv);
	sm_strbuf_release(&types);
	sm_strbuf_release(&names);
	return r;
}

static int pg_list_collection(struct sm_store *st, const char *collection,
			      struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	return select_rows(pg(st), "AND a.collection = $2 ORDER BY a.type, a.name", collection,
			   NULL, NULL, ret, ret_n, err);
}

static const char *sort_value(const struct sm_artifact_query *q)
{
	return q->sort == SM_SORT_UPDATED ? "coalesce(nullif(a.updated, ''), a.added, '')"
					  : "coalesce(a.added, '')";
}

static const char *order_by(const struct sm_artifact_query *q)
{
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

struct list_args {
	struct strbuf types, tags, tools, ts;
	int tsq;
};

/* FROM/WHERE of a listing (with_cursor: the keyset bound too). */
static int list_where(struct pg_store *s, const struct sm_artifact_query *q,
		      struct list_args *a, bool with_cursor, struct strbuf *sql, struct pgp *p)
{
	int r = sm_strbuf_addstr(sql, " FROM artifacts a");

	(void)s;
	if (r == 0 && q->user_collection_id) {
		r = sm_strbuf_addstr(sql, " JOIN collection_artifacts m ON m.tenant_id = a.tenant_id"
					  " AND m.artifact_uuid = a.uuid AND m.collection_id = ");
		if (r == 0)
			r = param(p, sql, q->user_collection_id, "");
	}
	if (r == 0)
		r = sm_strbuf_addstr(sql, " WHERE a.tenant_id = $1");
	if (r == 0 && q->collection) {
		r = sm_strbuf_addstr(sql, " AND a.collection = ");
		if (r == 0)
			r = param(p, sql, q->collection, "");
	}
	if (r == 0 && q->ntypes) {
		r = sm_strbuf_addstr(sql, " AND a.type = ANY (");
		if (r == 0)
			r = param(p, sql, a->types.buf, "::text[])");
	}
	if (r == 0 && q->ntags) {
		r = sm_strbuf_addstr(sql, q->tags_all
					      ? " AND (SELECT count(DISTINCT lower(x)) FROM"
						" jsonb_array_elements_text(coalesce(a.tags_json, '[]')::jsonb) x"
						" WHERE lower(x) = ANY ("
					      : " AND EXISTS (SELECT 1 FROM"
						" jsonb_array_elements_text(coalesce(a.tags_json, '[]')::jsonb) x"
						" WHERE lower(x) = ANY (");
		if (r == 0)
			r = param(p, sql, a->tags.buf, "::text[]))");
		if (r == 0 && q->tags_all) {
			r = sm_strbuf_addstr(sql, " = (SELECT count(DISTINCT t) FROM unnest(");
			if (r == 0)
				r = param(p, sql, a->tags.buf, "::text[]) t)");
		}
	}
	if (r == 0 && q->ntools) {
		r = sm_strbuf_addstr(sql, " AND EXISTS (SELECT 1 FROM"
					  " jsonb_array_elements_text(coalesce(a.tools_json, '[]')::jsonb) x"
					  " WHERE lower(x) = ANY (");
		if (r == 0)
			r = param(p, sql, a->tools.buf, "::text[]))");
	}
	if (r == 0 && a->ts.len) {
		r = sm_strbuf_addstr(sql, " AND a.search @@ to_tsquery('simple', ");
		if (r == 0)
			r = param(p, sql, a->ts.buf, ")");
		a->tsq = p->n;
	}
	if (r == 0 && with_cursor && q->after_type) {
		int at = 0, an = 0, ac = 0, av = 0;

		if (p->n + 4 > PG_MAX_PARAMS)
			return -E2BIG;
		p->v[at = p->n++] = q->after_type;
		p->v[an = p->n++] = q->after_name;
		if (q->after_collection)
			p->v[ac = p->n++] = q->after_collection;
		if (q->sort == SM_SORT_ADDED || q->sort == SM_SORT_UPDATED) {
			p->v[av = p->n++] = q->after_value ? q->after_value : "";
			r = sm_strbuf_addf(sql, " AND (%s < $%d OR (%s = $%d AND ", sort_value(q),
					   av + 1, sort_value(q), av + 1);
		} else {
			r = sm_strbuf_addstr(sql, " AND ((");
		}
		if (r == 0 && q->sort == SM_SORT_NAME)
			r = ac ? sm_strbuf_addf(sql, "(a.name, a.type, a.collection) > ($%d, $%d, $%d)",
						an + 1, at + 1, ac + 1)
			       : sm_strbuf_addf(sql, "(a.name, a.type) > ($%d, $%d)", an + 1, at + 1);
		else if (r == 0)
			r = ac ? sm_strbuf_addf(sql, "(a.type, a.name, a.collection) > ($%d, $%d, $%d)",
						at + 1, an + 1, ac + 1)
			       : sm_strbuf_addf(sql, "(a.type, a.name) > ($%d, $%d)", at + 1, an + 1);
		if (r == 0)
			r = sm_strbuf_addstr(sql, "))");
	}
	return r;
}

static void list_args_release(struct list_args *a)
{
	sm_strbuf_release(&a->types);
	sm_strbuf_release(&a->tags);
	sm_strbuf_release(&a->tools);
	sm_strbuf_release(&a->ts);
}

/* A listing of a user collection's members with no other filter. */
static bool members_only(const struct sm_artifact_query *q)
{
	return q->user_collection_id && !q->collection && !q->ntypes && !q->ntags && !q->ntools &&
	       !q->search;
}

static int pg_list_artifacts(struct sm_store *st, const struct sm_artifact_query *q,
			     struct sm_artifact_page *ret, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct list_args a = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, 0};
	struct strbuf sql = STRBUF_INIT, lim = STRBUF_INIT;
	struct sm_artifact_page page = {.total_count = -1};
	struct pgp p = {{s->tenant}, 1};
	size_t limit = q->limit ? q->limit : PG_DEFAULT_LIMIT;
	PGresult *res = NULL;
	bool own = false;
	int r = 0;

	if (q->ntypes)
		r = text_array(q->types, q->ntypes, false, &a.types);
	if (r == 0 && q->ntags)
		r = text_array(q->tags, q->ntags, true, &a.tags);
	if (r == 0 && q->ntools)
		r = text_array(q->tools, q->ntools, true, &a.tools);
	if (r == 0 && q->search)
		r = ts_query(q->search, &a.ts);
	if (r == 0)
		r = sm_strbuf_addf(&lim, "%zu", limit + 1);
	if (r == 0)
		r = sm_strbuf_addstr(&sql, "SELECT ");
	if (r == 0)
		r = art_cols(&sql);
	if (r == 0 && q->user_collection_id)
		r = sm_strbuf_addstr(&sql, ", m.added_at");
	if (r == 0)
		r = list_where(s, q, &a, true, &sql, &p);
	if (r == 0 && q->rank && a.ts.len)
		r = sm_strbuf_addf(&sql,
				   " ORDER BY ts_rank(a.search, to_tsquery('simple', $%d)) DESC,"
				   " a.type, a.name, a.collection",
				   a.tsq);
	else if (r == 0)
		r = sm_strbuf_addstr(&sql, order_by(q));
	if (r == 0)
		r = sm_strbuf_addstr(&sql, " LIMIT ");
	if (r == 0)
		r = param(&p, &sql, lim.buf, "::bigint");
	if (r < 0) {
		r = sm_err(err, r == -E2BIG ? -EINVAL : -ENOMEM, "cannot build the artifact query");
		goto out;
	}
	/* the page and its total in one snapshot */
	if (!s->in_tx && !q->no_total) {
		r = sm_pg_run(s->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, NULL,
			   err, "cannot begin");
		if (r < 0)
			goto out;
		own = true;
	}
	r = sm_pg_run(s->conn, sql.buf, &p, &res, err, "cannot list artifacts");
	if (r == 0 && read_rows(res, q->user_collection_id != NULL, limit, &page.rows, &page.n,
				&page.has_next) < 0)
		r = sm_err(err, -ENOMEM, "out of memory");
	PQclear(res);
	res = NULL;
	if (r == 0 && !q->no_total) {
		struct pgp c = {{s->tenant}, 1};

		sm_strbuf_reset(&sql);
		a.tsq = 0;
		if (members_only(q)) {
			/*
			 * Every membership names an artifact of its tenant (the
			 * foreign key): the members' count is the page's total, from
			 * the primary key alone, not a join over every row (a rebuild
			 * of a 10,000-member page: 45 -> 1.3 ms).
			 */
			r = sm_strbuf_addstr(&sql, "SELECT count(*) FROM collection_artifacts"
						   " WHERE tenant_id = $1 AND collection_id = ");
			if (r == 0)
				r = param(&c, &sql, q->user_collection_id, "");
		} else {
			r = sm_strbuf_addstr(&sql, "SELECT count(*)");
			if (r == 0)
				r = list_where(s, q, &a, false, &sql, &c);
		}
		if (r < 0)
			r = sm_err(err, -ENOMEM, "cannot build the artifact query");
		if (r == 0)
			r = sm_pg_run(s->conn, sql.buf, &c, &res, err, "cannot count artifacts");
		if (r == 0)
			page.total_count = pg_int(res, 0, 0);
		PQclear(res);
	}
	if (own)
		(void)sm_pg_run(s->conn, r == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL, "end");
out:
	list_args_release(&a);
	sm_strbuf_release(&sql);
	sm_strbuf_release(&lim);
	if (r < 0) {
		sm_artifact_page_release(&page);
		return r;
	}
	*ret = page;
	return (int)page.n;
}

/* ---- user collections ---- */

#define UC_COLS "id, name, description, collection_type, context_category, created_at, updated_at"

static int read_uc(const PGresult *res, int i, struct sm_user_collection_row *row)
{
	int r;

	memset(row, 0, sizeof(*row));
	r = pg_str(res, i, 0, &row->id);
	if (r == 0)
		r = pg_str(res, i, 1, &row->name);
	if (r == 0)
		r = pg_str(res, i, 2, &row->description);
	if (r == 0)
		r = pg_str(res, i, 3, &row->collection_type);
	if (r == 0)
		r = pg_str(res, i, 4, &row->context_category);
	if (r == 0)
		r = pg_str(res, i, 5, &row->created_at);
	if (r == 0)
		r = pg_str(res, i, 6, &row->updated_at);
	if (r < 0)
		sm_user_collection_row_release(row);
	return r;
}

static int uc_where(const struct sm_user_collection_query *q, bool with_cursor,
		    struct strbuf *sql, struct pgp *p)
{
	int r = sm_strbuf_addstr(sql, " FROM user_collections WHERE tenant_id = $1");

	if (r == 0 && q->search && *q->search) {
		r = sm_strbuf_addstr(sql, " AND strpos(lower(name), lower(");
		if (r == 0)
			r = param(p, sql, q->search, ")) > 0");
	}
	if (r == 0 && q->collection_type) {
		r = sm_strbuf_addstr(sql, " AND collection_type = ");
		if (r == 0)
			r = param(p, sql, q->collection_type, "");
	}
	if (r == 0 && with_cursor && q->after_id) {
		r = sm_strbuf_addstr(sql, " AND id > ");
		if (r == 0)
			r = param(p, sql, q->after_id, "");
	}
	return r;
}

static int pg_list_user_collections(struct sm_store *st, const struct sm_user_collection_query *q,
				    struct sm_user_collection_page *ret, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct strbuf sql = STRBUF_INIT, lim = STRBUF_INIT;
	struct sm_user_collection_page page = {.total_count = -1};
	struct pgp p = {{s->tenant}, 1}, c = {{s->tenant}, 1};
	size_t limit = q->limit ? q->limit : PG_DEFAULT_LIMIT, n;
	PGresult *res = NULL;
	int r;

	r = sm_strbuf_addf(&lim, "%zu", limit + 1);
	if (r == 0)
		r = sm_strbuf_addstr(&sql, "SELECT " UC_COLS);
	if (r == 0)
		r = uc_where(q, true, &sql, &p);
	if (r == 0)
		r = sm_strbuf_addstr(&sql, " ORDER BY id LIMIT ");
	if (r == 0)
		r = param(&p, &sql, lim.buf, "::bigint");
	if (r < 0) {
		r = sm_err(err, -ENOMEM, "cannot build the collection query");
		goto out;
	}
	r = sm_pg_run(s->conn, sql.buf, &p, &res, err, "cannot list collections");
	if (r < 0)
		goto out;
	n = (size_t)PQntuples(res);
	page.has_next = n > limit;
	if (n > limit)
		n = limit;
	if (n && !(page.rows = sm_calloc(n, sizeof(*page.rows)))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (; page.n < n; page.n++) {
		if (read_uc(res, (int)page.n, &page.rows[page.n]) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!q->no_total) {
		PQclear(res);
		res = NULL;
		sm_strbuf_reset(&sql);
		r = sm_strbuf_addstr(&sql, "SELECT count(*)");
		if (r == 0)
			r = uc_where(q, false, &sql, &c);
		if (r < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
		if (r == 0)
			r = sm_pg_run(s->conn, sql.buf, &c, &res, err, "cannot count collections");
		if (r == 0)
			page.total_count = pg_int(res, 0, 0);
	}
out:
	PQclear(res);
	sm_strbuf_release(&sql);
	sm_strbuf_release(&lim);
	if (r < 0) {
		sm_user_collection_page_release(&page);
		return r;
	}
	*ret = page;
	return (int)page.n;
}

static int pg_get_user_collection(struct sm_store *st, const char *id,
				  struct sm_user_collection_row *ret, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct pgp p = {{s->tenant, id}, 2};
	PGresult *res = NULL;
	int r = sm_pg_run(s->conn,
		       "SELECT " UC_COLS " FROM user_collections WHERE tenant_id = $1 AND id = $2",
		       &p, &res, err, "cannot read the collection");

	if (r == 0 && PQntuples(res) == 0)
		r = sm_err(err, -ENOENT, "collection '%s' not found", id);
	else if (r == 0 && read_uc(res, 0, ret) < 0)
		r = sm_err(err, -ENOMEM, "out of memory");
	PQclear(res);
	return r;
}

static int pg_memberships_of(struct sm_store *st, const char *const *uuids, size_t n,
			     struct sm_membership **ret, size_t *ret_n, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct strbuf arr = STRBUF_INIT;
	struct pgp p = {{s->tenant}, 2};
	struct sm_membership *m = NULL;
	PGresult *res = NULL;
	size_t k = 0, rows;
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	if (text_array(uuids, n, false, &arr) < 0)
		return sm_err(err, -ENOMEM, "out of memory");
	p.v[1] = arr.buf;
	r = sm_pg_run(s->conn,
		   "SELECT m.artifact_uuid, m.collection_id, u.name FROM collection_artifacts m"
		   " JOIN user_collections u ON u.tenant_id = m.tenant_id AND u.id = m.collection_id"
		   " WHERE m.tenant_id = $1 AND m.artifact_uuid = ANY ($2::text[])"
		   " ORDER BY m.artifact_uuid, u.name",
		   &p, &res, err, "cannot read memberships");
	sm_strbuf_release(&arr);
	if (r < 0)
		return r;
	rows = (size_t)PQntuples(res);
	if (rows && !(m = sm_calloc(rows, sizeof(*m))))
		r = sm_err(err, -ENOMEM, "out of memory");
	for (; r == 0 && k < rows; k++) {
		if (pg_str(res, (int)k, 0, &m[k].artifact_uuid) < 0 ||
		    pg_str(res, (int)k, 1, &m[k].collection_id) < 0 ||
		    pg_str(res, (int)k, 2, &m[k].collection_name) < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
	}
	PQclear(res);
	if (r < 0) {
		sm_memberships_free(m, rows);
		return r;
	}
	*ret = m;
	*ret_n = rows;
	return (int)rows;
}

static int pg_count_members(struct sm_store *st, const char *const *ids, size_t n,
			    int64_t *counts, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct strbuf arr = STRBUF_INIT;
	struct pgp p = {{s->tenant}, 2};
	PGresult *res = NULL;
	int r;

	for (size_t i = 0; i < n; i++)
		counts[i] = 0;
	if (n == 0)
		return 0;
	if (text_array(ids, n, false, &arr) < 0)
		return sm_err(err, -ENOMEM, "out of memory");
	p.v[1] = arr.buf;
	r = sm_pg_run(s->conn,
		   "SELECT collection_id, count(*) FROM collection_artifacts"
		   " WHERE tenant_id = $1 AND collection_id = ANY ($2::text[]) GROUP BY 1",
		   &p, &res, err, "cannot count members");
	sm_strbuf_release(&arr);
	for (int k = 0; r == 0 && k < PQntuples(res); k++)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(ids[i], PQgetvalue(res, k, 0)))
				counts[i] = pg_int(res, k, 1);
	PQclear(res);
	return r;
}

static int pg_cache_status(struct sm_store *st, const char *collection, int64_t now_ms,
			   int64_t ttl_ms, struct sm_cache_status *ret, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	struct pgp p = {{s->tenant, collection}, collection ? 2 : 1};
	PGresult *res = NULL;
	int r = sm_pg_run(s->conn,
		       collection ? "SELECT count(*) FROM artifacts WHERE tenant_id = $1"
				    " AND collection = $2"
				  : "SELECT count(*) FROM artifacts WHERE tenant_id = $1",
		       &p, &res, err, "cannot count artifacts");

	(void)now_ms;
	(void)ttl_ms;
	if (r == 0) {
		memset(ret, 0, sizeof(*ret));
		ret->total = pg_int(res, 0, 0);
		ret->fresh = ret->total; /* the database is the truth: nothing is stale */
	}
	PQclear(res);
	return r;
}

/*
 * The tenant's revision: "<database epoch><tenant serial>-<commits>". A
 * tenant with no row yet is at 0. One indexed read: the per-request probe.
 */
static const char probe_sql[] =
    "SELECT m.epoch, coalesce(t.serial, 0), coalesce(t.revision, 0) FROM team_meta m"
    " LEFT JOIN tenants t ON t.id = $1";

/*
 * The probe's query, prepared once per backend (a reset connection is a new
 * backend: prepared again): each request's probe is then bind and execute,
 * no parse or plan (PostgreSQL's CPU per cache hit: 0.23 -> 0.05 ms). When
 * it cannot be prepared (in a failed transaction) the query runs unprepared
 * and reports the error as before.
 */
static bool is_state(const PGresult *res, const char *sqlstate)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return st && !strcmp(st, sqlstate);
}

static int run_probe(struct pg_store *s, const struct pgp *p, PGresult **ret, struct strbuf *err)
{
	int pid = PQbackendPID(s->conn);
	PGresult *res;
	ExecStatusType st;

	if (pid && pid != s->probe_pid) {
		res = PQprepare(s->conn, "sm_probe", probe_sql, 1, NULL);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			s->probe_pid = pid;
		PQclear(res);
	}
	if (!pid || pid != s->probe_pid)
		return sm_pg_run(s->conn, probe_sql, p, ret, err, "cannot read the revision");
	/* (test builds: the statement gone, as a pooler's DISCARD ALL leaves it) */
	if (SM_TEST_POINT("pg-probe-lost") < 0)
		PQclear(PQexec(s->conn, "DEALLOCATE sm_probe"));
	res = PQexecPrepared(s->conn, "sm_probe", p->n, p->v, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_FATAL_ERROR && !s->in_tx && is_state(res, "26000")) {
		/*
		 * the connection lost its prepared statements but not its backend
		 * (a pooler's DISCARD ALL, a DEALLOCATE): prepared again at the
		 * next probe, this one unprepared
		 */
		PQclear(res);
		s->probe_pid = 0;
		return sm_pg_run(s->conn, probe_sql, p, ret, err, "cannot read the revision");
	}
	if (st != PGRES_TUPLES_OK) {
		int r = sm_pg_fail(s->conn, res, err, "cannot read the revision");

		PQclear(res);
		return r;
	}
	*ret = res;
	return 0;
}

static int read_revision(struct pg_store *s, int64_t *n, char out[SM_STORE_REVISION_MAX],
			 struct sm_pg_revision *rev, struct strbuf *err)
{
	struct pgp p = {{s->tenant}, 1};
	PGresult *res = NULL;
	int r;

	/*
	 * The first query of a request: a connection lost since the last one
	 * (PostgreSQL restarted) is made again, once, before answering.
	 */
	if (PQstatus(s->conn) != CONNECTION_OK) {
		s->probe_pid = 0; /* a new backend, whatever its pid: prepared again */
		PQreset(s->conn);
	}
	r = run_probe(s, &p, &res, err);
	if (r < 0 && !s->in_tx && PQstatus(s->conn) != CONNECTION_OK) {
		s->probe_pid = 0;
		PQreset(s->conn);
		if (err)
			sm_strbuf_reset(err);
		r = run_probe(s, &p, &res, err);
	}
	if (r == 0) {
		/*
		 * The data version: unique per tenant too (its serial in the high
		 * bits). A loop thread compares it with the last one it saw, which
		 * may be another tenant's: with the bare revision, tenant B at 6
		 * after this thread saw tenant A at 6 would look unchanged, and B's
		 * counts cached by another thread at 5 would be served.
		 */
		if (n)
			*n = (int64_t)(((uint64_t)pg_int(res, 0, 1) << 40) ^
				       (uint64_t)pg_int(res, 0, 2));
		if (out)
			snprintf(out, SM_STORE_REVISION_MAX, "%08" PRIx64 "%08" PRIx64 "-%" PRId64,
				 (uint64_t)pg_int(res, 0, 0), (uint64_t)pg_int(res, 0, 1),
				 pg_int(res, 0, 2));
		if (rev) {
			snprintf(rev->text, sizeof(rev->text), "%08" PRIx64 "%08" PRIx64 "-%" PRId64,
				 (uint64_t)pg_int(res, 0, 0), (uint64_t)pg_int(res, 0, 1),
				 pg_int(res, 0, 2));
			rev->epoch = pg_int(res, 0, 0);
			rev->serial = pg_int(res, 0, 1);
			rev->revision = pg_int(res, 0, 2);
		}
	}
	PQclear(res);
	return r;
}

static int pg_probe(struct sm_store *st, struct sm_pg_revision *ret, struct strbuf *err)
{
	return read_revision(pg(st), NULL, NULL, ret, err);
}

static int pg_data_version(struct sm_store *st, int64_t *ret, struct strbuf *err)
{
	return read_revision(pg(st), ret, NULL, NULL, err);
}

static int pg_revision(struct sm_store *st, char out[SM_STORE_REVISION_MAX], struct strbuf *err)
{
	return read_revision(pg(st), NULL, out, NULL, err);
}

static int pg_any_flagged_stale(struct sm_store *st, bool *ret, struct strbuf *err)
{
	(void)st;
	(void)err;
	*ret = false;
	return 0;
}

static int pg_deployments_of(struct sm_store *st, const char *collection, const char *type,
			     const char *name, struct sm_deployment_row **ret, size_t *ret_n,
			     struct strbuf *err)
{
	/* the server's disk is not the user's: no deployments in team mode */
	(void)st;
	(void)collection;
	(void)type;
	(void)name;
	(void)err;
	*ret = NULL;
	*ret_n = 0;
	return 0;
}

/* ---- not in team mode (yet) ---- */

static int unsupported(struct strbuf *err)
{
	return sm_err(err, -ENOTSUP, "not available in team mode");
}

#define NOTSUP(name, ...)                                                                          \
	static int name(struct sm_store *st, __VA_ARGS__, struct strbuf *err)                      \
	{                                                                                          \
		(void)st;                                                                          \
		return unsupported(err);                                                           \
	}

/* clang-format off */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
NOTSUP(pg_upsert_artifacts, const struct sm_artifact_row *rows, size_t n,
       enum sm_upsert_result *results, struct sm_upsert_stats *stats)
NOTSUP(pg_prune_artifacts, const char *collection, const char *const *keep, size_t nkeep)
NOTSUP(pg_update_user_collection, const char *id, const struct sm_user_collection_update *u)
NOTSUP(pg_prune_user_collections, const char *const *keep, size_t nkeep)
NOTSUP(pg_add_all_members, const char *id, const char *at)
NOTSUP(pg_prune_members, const char *id, const char *const *keep, size_t nkeep)
NOTSUP(pg_list_stale, const char *collection, int64_t now, int64_t ttl, size_t limit,
       struct sm_artifact_row **ret, size_t *ret_n)
NOTSUP(pg_mark_stale, const char *uuid)
NOTSUP(pg_mark_stale_collection, const char *collection)
NOTSUP(pg_dump, unsigned flags, struct strbuf *out)
NOTSUP(pg_get_sync_state, const char *collection, char **ret)
NOTSUP(pg_list_fingerprints, const char *collection, struct sm_artifact_row **ret, size_t *n)
NOTSUP(pg_list_collection_names, char ***ret, size_t *n)
NOTSUP(pg_bulk_begin, int64_t *mark)
NOTSUP(pg_bulk_end, int64_t mark)
NOTSUP(pg_set_sync_state, const char *collection, const char *fp)
NOTSUP(pg_set_walk_record, const char *collection, const char *type, const char *name,
       const char *old_fp, const char *new_fp)
NOTSUP(pg_replace_deployments, const char *project, const char *root,
       const struct sm_deployment_row *rows, size_t n)
#pragma GCC diagnostic pop
/* clang-format on */

static const struct sm_store_ops pg_ops = {
	.name = "postgresql",
	.free = pg_free,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.upsert_artifacts = pg_upsert_artifacts,
	.prune_artifacts = pg_prune_artifacts,
	.delete_artifact = sm_pg_delete_artifact,
	.get_artifact = pg_get_artifact,
	.get_artifact_by_key = pg_get_artifact_by_key,
	.find_artifacts = pg_find_artifacts,
	.name_counts = pg_name_counts,
	.list_collection = pg_list_collection,
	.list_artifacts = pg_list_artifacts,
	.list_user_collections = pg_list_user_collections,
	.get_user_collection = pg_get_user_collection,
	.create_user_collection = sm_pg_create_user_collection,
	.put_user_collection = sm_pg_put_user_collection,
	.update_user_collection = pg_update_user_collection,
	.delete_user_collection = sm_pg_delete_user_collection,
	.prune_user_collections = pg_prune_user_collections,
	.add_members = sm_pg_add_members,
	.add_all_members = pg_add_all_members,
	.remove_member = sm_pg_remove_member,
	.prune_members = pg_prune_members,
	.memberships_of = pg_memberships_of,
	.count_members = pg_count_members,
	.cache_status = pg_cache_status,
	.list_stale = pg_list_stale,
	.mark_stale = pg_mark_stale,
	.mark_stale_collection = pg_mark_stale_collection,
	.data_version = pg_data_version,
	.revision = pg_revision,
	.dump = pg_dump,
	.get_sync_state = pg_get_sync_state,
	.list_fingerprints = pg_list_fingerprints,
	.list_collection_names = pg_list_collection_names,
	.any_flagged_stale = pg_any_flagged_stale,
	.bulk_begin = pg_bulk_begin,
	.bulk_end = pg_bulk_end,
	.set_sync_state = pg_set_sync_state,
	.set_walk_record = pg_set_walk_record,
	.replace_deployments = pg_replace_deployments,
	.deployments_of = pg_deployments_of,
};

static int pg_set_tenant(struct sm_store *st, const char *tenant, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	char *t;

	if (!tenant || !*tenant || strlen(tenant) > 255)
		return sm_err(err, -EINVAL, "invalid tenant id");
	if (s->tenant && !strcmp(s->tenant, tenant))
		return 0;
	if (!(t = sm_strdup(tenant)))
		return sm_err(err, -ENOMEM, "out of memory");
	sm_free(s->tenant);
	s->tenant = t;
	return 0;
}

/* BEGIN … COMMIT of the upload (sm_store_pg_put_artifact). */
static int put_artifact_tx(struct pg_store *s, const struct sm_artifact_row *row,
			   const struct sm_pg_file *files, size_t n, bool force, char uuid_out[33],
			   bool *created, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT, vals = STRBUF_INIT, upd = STRBUF_INIT;
	struct pgp p = {{s->tenant}, 1};
	char counts[2][24], hash[17];
	PGresult *res = NULL;
	int r = 0;

	sm_artifact_row_hash(row, hash); /* the store sets row_hash, as on upsert */
	snprintf(counts[0], sizeof(counts[0]), "%" PRId64, row->file_count);
	snprintf(counts[1], sizeof(counts[1]), "%" PRId64, row->total_size);
	for (size_t i = 0; r == 0 && i < SM_ARTIFACT_NFIELDS; i++) {
		const char *name = sm_artifact_fields[i].name;

		r = sm_strbuf_addf(&sql, ", %s", name);
		if (r == 0)
			r = sm_strbuf_addstr(&vals, ", ");
		if (r == 0 && sm_artifact_fields[i].kind == SM_FIELD_INT)
			r = param(&p, &vals, counts[!strcmp(name, "total_size")], "::bigint");
		else if (r == 0)
			r = param(&p, &vals, cstr_field(row, i), "");
		/* a forced upload keeps the row's identity: uuid and key */
		if (r == 0 && strcmp(name, "uuid") && strcmp(name, "collection") &&
		    strcmp(name, "type") && strcmp(name, "name"))
			r = sm_strbuf_addf(&upd, ", %s = EXCLUDED.%s", name, name);
	}
	if (r == 0)
		r = sm_strbuf_addstr(&vals, ", ");
	if (r == 0)
		r = param(&p, &vals, hash, "");
	if (r < 0)
		goto oom;
	{
		struct pgp t = {{s->tenant}, 1};

		r = sm_pg_run(s->conn, "INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING",
			   &t, NULL, err, "cannot add the tenant");
	}
	if (r < 0)
		goto out;
	{
		struct strbuf q = STRBUF_INIT;

		r = sm_strbuf_addf(&q,
				   "INSERT INTO artifacts (tenant_id%s, row_hash) VALUES ($1%s)"
				   " ON CONFLICT (tenant_id, collection, type, name) %s%s"
				   " RETURNING uuid, (xmax = 0)",
				   sql.buf, vals.buf,
				   force ? "DO UPDATE SET revision = artifacts.revision + 1,"
					   " row_hash = EXCLUDED.row_hash"
					 : "DO NOTHING",
				   force ? upd.buf : "");
		if (r == 0)
			r = sm_pg_run(s->conn, q.buf, &p, &res, err, "cannot store the artifact");
		else
			r = sm_err(err, -ENOMEM, "out of memory");
		sm_strbuf_release(&q);
	}
	if (r < 0)
		goto out;
	if (PQntuples(res) == 0) {
		r = sm_err(err, -EEXIST, "%s:%s already exists in the team collection", row->type,
			   row->name);
		goto out;
	}
	snprintf(uuid_out, 33, "%s", PQgetvalue(res, 0, 0));
	*created = !strcmp(PQgetvalue(res, 0, 1), "t");
	{
		struct pgp f = {{s->tenant, uuid_out}, 2}, t = {{s->tenant}, 1};

		r = sm_pg_run(s->conn,
			   "DELETE FROM artifact_files WHERE tenant_id = $1 AND artifact_uuid = $2", &f,
			   NULL, err, "cannot replace the files");
		for (size_t i = 0; r == 0 && i < n; i++) {
			struct pgp g = {{s->tenant, uuid_out, files[i].path, files[i].content_b64}, 4};

			r = sm_pg_run(s->conn,
				   "INSERT INTO artifact_files VALUES ($1, $2, $3, decode($4, 'base64'))",
				   &g, NULL, err, "cannot store a file");
		}
		if (r == 0)
			r = sm_pg_run(s->conn,
				   "INSERT INTO user_collections (tenant_id, id, name, collection_type,"
				   " created_at, updated_at) VALUES ($1, 'default', 'Default Collection',"
				   " 'default', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
				   " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
				   " ON CONFLICT DO NOTHING",
				   &t, NULL, err, "cannot add the default collection");
		if (r == 0)
			r = sm_pg_run(s->conn,
				   "INSERT INTO collection_artifacts VALUES ($1, 'default', $2,"
				   " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
				   " ON CONFLICT DO NOTHING",
				   &f, NULL, err, "cannot add the membership");
	}
	goto out;
oom:
	r = sm_err(err, -ENOMEM, "out of memory");
out:
	PQclear(res);
	sm_strbuf_release(&sql);
	sm_strbuf_release(&vals);
	sm_strbuf_release(&upd);
	return r;
}

static int pg_put_artifact(struct sm_store *st, const struct sm_artifact_row *row,
			   const struct sm_pg_file *files, size_t n, bool force, char uuid_out[33],
			   struct strbuf *err)
{
	struct pg_store *s = pg(st);
	bool created = false;
	int r;

	if (s->in_tx)
		return sm_err(err, -EINVAL, "a transaction is already open");
	r = sm_pg_run(s->conn, "BEGIN", NULL, NULL, err, "cannot begin");
	if (r < 0)
		return r;
	r = put_artifact_tx(s, row, files, n, force, uuid_out, &created, err);
	if (r == 0)
		r = sm_pg_run(s->conn, "COMMIT", NULL, NULL, err, "cannot commit");
	else
		(void)sm_pg_run(s->conn, "ROLLBACK", NULL, NULL, NULL, "rollback");
	return r < 0 ? r : created;
}

static int pg_update_artifact(struct sm_store *st, const struct sm_artifact_row *row,
			      const char *expected, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	char hash[17];
	struct pgp p = {{s->tenant, row->uuid, expected, hash, row->title, row->description,
			 row->author, row->license, row->version, row->tags_json, row->tools_json,
			 row->updated},
			12};
	PGresult *res = NULL;
	int r;

	sm_artifact_row_hash(row, hash);
	r = sm_pg_run(s->conn,
		   "UPDATE artifacts SET row_hash = $4, revision = revision + 1, title = $5,"
		   " description = $6, author = $7, license = $8, version = $9, tags_json = $10,"
		   " tools_json = $11, updated = $12"
		   " WHERE tenant_id = $1 AND uuid = $2 AND row_hash = $3",
		   &p, &res, err, "cannot update the artifact");
	if (r == 0)
		r = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	return r;
}

/* The files of an artifact of the tenant, in path order, bytes as stored (binary results). */
static int pg_get_files(struct sm_store *st, const char *uuid, size_t max_total,
			struct sm_pg_blob **ret, size_t *ret_n, struct strbuf *err)
{
	struct pg_store *s = pg(st);
	const char *v[2] = {s->tenant, uuid};
	PGresult *res = PQexecParams(s->conn,
				     "SELECT path, content FROM artifact_files WHERE tenant_id = $1"
				     " AND artifact_uuid = $2 ORDER BY path COLLATE \"C\"",
				     2, NULL, v, NULL, NULL, 1);
	struct sm_pg_blob *b = NULL;
	size_t n, total = 0;
	int r = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = sm_pg_fail(s->conn, res, err, "cannot read the files");
		PQclear(res);
		return r;
	}
	n = (size_t)PQntuples(res);
	if (n && !(b = sm_calloc(n, sizeof(*b))))
		r = sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t len = (size_t)PQgetlength(res, (int)i, 1);

		total += len;
		if (total > max_total) {
			r = sm_err(err, -E2BIG, "the artifact's files are over %zu bytes", max_total);
			break;
		}
		b[i].path = sm_strndup(PQgetvalue(res, (int)i, 0),
				       (size_t)PQgetlength(res, (int)i, 0));
		b[i].data = sm_malloc(len ? len : 1);
		if (!b[i].path || !b[i].data) {
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		memcpy(b[i].data, PQgetvalue(res, (int)i, 1), len);
		b[i].len = len;
	}
	PQclear(res);
	if (r < 0) {
		sm_pg_blobs_free(b, n);
		return r;
	}
	*ret = b;
	*ret_n = n;
	return 0;
}

static int pg_open(const char *url, const char *tenant, struct sm_store **ret, struct strbuf *err)
{
	struct pg_store *s = sm_calloc(1, sizeof(*s));
	int r;

	if (!s)
		return sm_err(err, -ENOMEM, "out of memory");
	s->base.ops = &pg_ops;
	r = pg_connect(url, &s->conn, err);
	if (r == 0)
		r = migrate_conn(s->conn, -1, err);
	if (r >= 0)
		r = pg_set_tenant(&s->base, tenant, err);
	if (r < 0) {
		PQfinish(s->conn);
		sm_free(s->tenant);
		sm_free(s);
		return r;
	}
	*ret = &s->base;
	return 0;
}

const struct sm_pg_ops sm_pg_module = {
	.open = pg_open,
	.set_tenant = pg_set_tenant,
	.put_artifact = pg_put_artifact,
	.update_artifact = pg_update_artifact,
	.get_files = pg_get_files,
	.migrate_to = pg_migrate_to,
	.version = pg_version,
	.probe = pg_probe,
	.listen_start = sm_pg_listen_start_impl,
	.listen_stop = sm_pg_listen_stop_impl,
	.listen_fresh = sm_pg_listen_fresh_impl,
	.listen_stats = sm_pg_listen_stats_impl,
	.latest = SM_PG_LATEST,
};
