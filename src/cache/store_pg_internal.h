/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CACHE_STORE_PG_INTERNAL_H
#define SKILLMEAT_CACHE_STORE_PG_INTERNAL_H

/* Internal to the team store (store_pg*.c, the skillmeat-pg.so module). */

struct sm_pg_migration {
	int version;
	const char *name;
	const char *up;
	const char *down;
};

/* The highest migration (the length of sm_pg_migrations). */
#define SM_PG_LATEST 4

extern const struct sm_pg_migration sm_pg_migrations[];
extern const int sm_pg_nmigrations;

/* The listener (store_pg_listen.c), for the module's table (store_pg.h has the contract). */
#include <stdbool.h>
struct sm_pg_listener;
struct sm_pg_listen_hooks;
struct sm_pg_listen_stats;
struct sm_pg_revision;
struct strbuf;
int sm_pg_listen_start_impl(const char *url, const struct sm_pg_listen_hooks *hooks,
			    struct sm_pg_listener **ret, struct strbuf *err);
void sm_pg_listen_stop_impl(struct sm_pg_listener *l);
bool sm_pg_listen_fresh_impl(struct sm_pg_listener *l, const char *tenant,
			     const struct sm_pg_revision *rev);
void sm_pg_listen_stats_impl(struct sm_pg_listener *l, struct sm_pg_listen_stats *ret);

/* The store (store_pg.c) and its writes (store_pg_write.c). */
#include <libpq-fe.h>

#include "cache/store_internal.h"

#define PG_MAX_PARAMS 32

struct pg_store {
	struct sm_store base;
	PGconn *conn;
	char *tenant;
	bool in_tx;
	int probe_pid; /* the backend the probe is prepared on (0: none) */
};

static inline struct pg_store *pg(struct sm_store *st)
{
	return (struct pg_store *)st;
}

/* Query parameters, as text ($1 is always the tenant). */
struct pgp {
	const char *v[PG_MAX_PARAMS];
	int n;
};

/* libpq's first line in err, as negative errno (-EEXIST a unique key, -ENOENT a foreign key). */
int sm_pg_fail(PGconn *conn, const PGresult *res, struct strbuf *err, const char *what);
/* Run sql (p NULL: no parameters); *ret (may be NULL) gets the result of a query. */
int sm_pg_run(PGconn *conn, const char *sql, const struct pgp *p, PGresult **ret,
	      struct strbuf *err, const char *what);

/* The writes of the truth interface in team mode (store.h has their contracts). */
struct sm_user_collection_row;
int sm_pg_delete_artifact(struct sm_store *st, const char *uuid, struct strbuf *err);
int sm_pg_create_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
				 struct strbuf *err);
int sm_pg_put_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
			      struct strbuf *err);
int sm_pg_delete_user_collection(struct sm_store *st, const char *id, struct strbuf *err);
int sm_pg_add_members(struct sm_store *st, const char *id, const char *const *uuids, size_t n,
		      const char *added_at, struct strbuf *err);
int sm_pg_remove_member(struct sm_store *st, const char *id, const char *uuid, struct strbuf *err);

#endif
