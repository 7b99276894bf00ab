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
#include <stddef.h>
#include <stdint.h>

#include "skillmeat/store.h"

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

/* One stored file of an artifact: its bytes as uploaded. */
struct sm_pg_blob {
	char *path;
	unsigned char *data;
	size_t len;
};
void sm_pg_blobs_free(struct sm_pg_blob *v, size_t n);

/*
 * The files of the tenant's artifact uuid, in path order (none: *ret_n 0).
 * -E2BIG when their sizes add up to more than max_total.
 */
int sm_store_pg_get_files(struct sm_store *st, const char *uuid, size_t max_total,
			  struct sm_pg_blob **ret, size_t *ret_n, struct strbuf *err);

/* One stored file of an artifact without its bytes: path and size. */
struct sm_pg_file_info {
	char *path;
	uint64_t size;
};
void sm_pg_file_infos_free(struct sm_pg_file_info *v, size_t n);

/*
 * The paths and sizes of the files of the tenant's artifact uuid, in byte
 * order of the paths (none: *ret_n 0). No content is read.
 */
int sm_store_pg_list_files(struct sm_store *st, const char *uuid, struct sm_pg_file_info **ret,
			   size_t *ret_n, struct strbuf *err);
/*
 * The bytes of the file path of the tenant's artifact uuid, appended to out:
 * -ENOENT no such file, -E2BIG over max bytes (then not read).
 */
int sm_store_pg_read_file(struct sm_store *st, const char *uuid, const char *path, size_t max,
			  struct strbuf *out, struct strbuf *err);

/*
 * Replace the bytes of the existing file path of the tenant's artifact uuid
 * by data[0..len) and set the row's content_hash and lock_hash to hash and
 * total_size to total, in the caller's transaction (a metadata edit that
 * rewrites the frontmatter; the caller's compare-and-set sets row_hash).
 * -ENOENT when there is no such file.
 */
int sm_store_pg_put_file(struct sm_store *st, const char *uuid, const char *path,
			 const void *data, size_t len, const char *hash, int64_t total,
			 struct strbuf *err);

/*
 * The team truth's sync (index_sync): the tenant's "default" user collection
 * (made when missing) holds every artifact of the tenant (of the file
 * collection collection; NULL: all), in the caller's transaction
 * (sm_store_begin: the tenant's row locked). *artifacts gets how many artifacts there are, *added how many joined
 * the default collection now. A sync that adds nothing changes no row (no
 * revision bump, no notification).
 */
int sm_store_pg_fill_default(struct sm_store *st, const char *collection, int64_t *artifacts,
			     int64_t *added, struct strbuf *err);

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

/*
 * A tenant's revision as the per-request probe reads it: the database's
 * epoch (drawn when the schema is made), the tenant's serial (0: no row
 * yet) and its count of commits.
 */
struct sm_pg_revision {
	int64_t epoch, serial, revision;
	char text[SM_STORE_REVISION_MAX]; /* as sm_store_revision gives it */
};

/* The probe: one indexed read (reconnects once when the connection was lost). */
int sm_store_pg_probe(struct sm_store *st, struct sm_pg_revision *ret, struct strbuf *err);

/*
 * The listener (docs/team.md "Invalidation"): a connection of its own on a
 * background thread that LISTENs to skillmeat_team and calls hooks.drop for
 * each notification, on that thread, with the entries it makes stale
 * (struct sm_pg_note): tenant's answers, all or those showing some
 * artifacts, and the member counts of some or all of its user collections.
 * tenant NULL: every entry of every tenant (at each (re)connect). Lost
 * connections are made again by the thread (50 ms to 1 s apart).
 */
struct sm_pg_listener;
/* What one notification makes stale (migration 3's payload). */
struct sm_pg_note {
	const char *tenant; /* NULL: every entry of every tenant (a (re)connect) */
	/* member counts: of ids[0..n), every one of the tenant's when all_counts */
	const char *const *ids;
	size_t n;
	bool all_counts;
	/*
	 * answers: every one of the tenant's when all_answers, else those that
	 * show one of the artifacts uuids[0..nuuids) (an update in place)
	 */
	const char *const *uuids;
	size_t nuuids;
	bool all_answers;
};
struct sm_pg_listen_hooks {
	void (*drop)(void *ctx, const struct sm_pg_note *note);
	void *ctx;
};
int sm_pg_listen_start(const char *url, const struct sm_pg_listen_hooks *hooks,
		       struct sm_pg_listener **ret, struct strbuf *err);
/* Stop and join the thread, close its connection. NULL is accepted. */
void sm_pg_listen_stop(struct sm_pg_listener *l);
/*
 * May a request whose probe read rev for tenant use the caches? Only when
 * the listener is connected and has handled every notification up to rev
 * (so every entry a commit up to rev made stale is gone). Thread-safe.
 */
bool sm_pg_listen_fresh(struct sm_pg_listener *l, const char *tenant,
			const struct sm_pg_revision *rev);
struct sm_pg_listen_stats {
	bool connected;
	uint64_t connects, notes;
};
void sm_pg_listen_stats(struct sm_pg_listener *l, struct sm_pg_listen_stats *ret);

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
	int (*get_files)(struct sm_store *st, const char *uuid, size_t max_total,
			 struct sm_pg_blob **ret, size_t *ret_n, struct strbuf *err);
	int (*version)(const char *url, struct strbuf *err);
	int (*probe)(struct sm_store *st, struct sm_pg_revision *ret, struct strbuf *err);
	int (*listen_start)(const char *url, const struct sm_pg_listen_hooks *hooks,
			    struct sm_pg_listener **ret, struct strbuf *err);
	void (*listen_stop)(struct sm_pg_listener *l);
	bool (*listen_fresh)(struct sm_pg_listener *l, const char *tenant,
			     const struct sm_pg_revision *rev);
	void (*listen_stats)(struct sm_pg_listener *l, struct sm_pg_listen_stats *ret);
	int latest;
};

extern const struct sm_pg_ops sm_pg_module;

/*
 * The team truth's own entries above (file reads and writes, the sync), skillmeat-pg.so's
 * sm_pg_truth_module (store_pg_files.c).
 */
struct sm_pg_truth_ops {
	int (*list_files)(struct sm_store *st, const char *uuid, struct sm_pg_file_info **ret,
			  size_t *ret_n, struct strbuf *err);
	int (*read_file)(struct sm_store *st, const char *uuid, const char *path, size_t max,
			 struct strbuf *out, struct strbuf *err);
	int (*fill_default)(struct sm_store *st, const char *collection, int64_t *artifacts,
			    int64_t *added, struct strbuf *err);
	int (*put_file)(struct sm_store *st, const char *uuid, const char *path, const void *data,
			size_t len, const char *hash, int64_t total, struct strbuf *err);
};

extern const struct sm_pg_truth_ops sm_pg_truth_module;

#endif
