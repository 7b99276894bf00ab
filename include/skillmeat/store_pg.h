/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_STORE_PG_H
#define SKILLMEAT_STORE_PG_H

/*
 * The team store: the cache store interface (skillmeat/store.h) over
 * PostgreSQL through libpq, for `serve --store postgresql://…` (docs/team.md).
 * In team mode the database is the truth for the team collection, every row
 * carries a tenant id and every query is scoped by the store's tenant.
 *
 * libpq lives only in the skillmeat-pg.so module (skillmeat/module.h): these
 * functions load it on first use, so no other verb loads libpq.
 *
 * Errors: negative errno with a one-line message in err: -ENOENT the module
 * is missing, -ECONNREFUSED the server cannot be reached, -ENOTSUP a schema
 * newer than this binary, -EIO any other database failure.
 */

#include <stdbool.h>

struct sm_artifact_row;
struct sm_store;
struct strbuf;

/* Does url name a PostgreSQL store (postgresql:// or postgres://)? */
bool sm_store_is_pg_url(const char *url);

/*
 * Connect to url, migrate the schema to the latest version (under
 * pg_advisory_lock, so instances starting together do not race) and return a
 * store scoped to tenant. One connection: one store per thread, as SQLite.
 */
int sm_store_pg_open(const char *url, const char *tenant, struct sm_store **ret,
		     struct strbuf *err);
/* Scope every later query of st (a store from sm_store_pg_open) to tenant. */
int sm_store_pg_set_tenant(struct sm_store *st, const char *tenant, struct strbuf *err);

/* One file of an artifact for sm_store_pg_put_artifact: content as standard base64. */
struct sm_pg_file {
	const char *path; /* relative, '/'-separated */
	const char *content_b64;
};

/*
 * Upload: row (tenant from the store; uuid, collection, type, name, the
 * metadata and content_hash filled by the caller; the store sets row_hash
 * and revision) with its files,
 * joined to the tenant's "default" user collection, in one transaction.
 * -EEXIST when (collection, type, name) exists, unless force: then its row
 * and files are replaced (its uuid and memberships kept; *uuid_out gets the
 * uuid kept, 33 bytes). Returns 1 created, 0 replaced.
 */
int sm_store_pg_put_artifact(struct sm_store *st, const struct sm_artifact_row *row,
			     const struct sm_pg_file *files, size_t n, bool force, char uuid_out[33],
			     struct strbuf *err);

/*
 * An edit of row's metadata fields (title, description, author, license,
 * version, tags_json, tools_json, updated) as one compare-and-set: written
 * only while the stored row_hash is still expected (the store sets the new
 * row_hash and bumps revision). Returns 1 written, 0 when the row changed
 * or went meanwhile (nothing written).
 */
int sm_store_pg_update_artifact(struct sm_store *st, const struct sm_artifact_row *row,
				const char *expected, struct strbuf *err);

/*
 * Migrate the database at url up or down to version (0..latest; -1 the
 * latest), one migration per transaction, under the advisory lock. Returns
 * the version reached.
 */
int sm_pg_migrate_to(const char *url, int version, struct strbuf *err);
/* The schema version of the database at url (0: empty). */
int sm_pg_version(const char *url, struct strbuf *err);
/* The highest migration this binary knows (loads the module). */
int sm_pg_latest_version(struct strbuf *err);

/* The table skillmeat-pg.so exports as sm_pg_module. */
struct sm_pg_ops {
	int (*open)(const char *url, const char *tenant, struct sm_store **ret,
		    struct strbuf *err);
	int (*set_tenant)(struct sm_store *st, const char *tenant, struct strbuf *err);
	int (*put_artifact)(struct sm_store *st, const struct sm_artifact_row *row,
			    const struct sm_pg_file *files, size_t n, bool force, char uuid_out[33],
			    struct strbuf *err);
	int (*update_artifact)(struct sm_store *st, const struct sm_artifact_row *row,
			       const char *expected, struct strbuf *err);
	int (*migrate_to)(const char *url, int version, struct strbuf *err);
	int (*version)(const char *url, struct strbuf *err);
	int latest;
};

extern const struct sm_pg_ops sm_pg_module;

#endif
