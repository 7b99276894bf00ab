/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CACHE_H
#define SKILLMEAT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct sm_artifact_row;
struct sm_home;
struct sm_db;
struct sm_store;

/*
 * A home's metadata cache: SKILLMEAT_HOME/cache/metadata.db kept equal to the
 * files (ARCHITECTURE.md §2, §4-5). The files are the truth; sync reads them
 * and never writes any SkillMeat file (only cache/).
 */
struct sm_cache {
	struct sm_home *home; /* borrowed */
	struct sm_db *db;
	struct sm_store *store;
	bool in_memory;	      /* the home was not writable: a private in-memory DB */
	bool no_space;	      /* ... because the disk was full (in_memory set too) */
	/*
	 * A sync that meets a full disk moves this cache to an in-memory index
	 * (set by one-shot callers like the CLI; a server keeps its shared file).
	 */
	bool memory_fallback;
	/* A team store (store_pg.h): the tenant it is scoped to now (borrowed); else NULL. */
	const char *tenant;
	/*
	 * Team mode, set per request: the listener has not caught up with this
	 * request's revision (or lost its connection): no cache may be used.
	 */
	bool team_stale;
	int64_t stale_ttl_ms; /* cache.stale-ttl-seconds */
	/* Optional: called for each artifact a sync visits (done of total in its collection). */
	void (*progress)(void *ctx, const char *collection, size_t done, size_t total);
	void *progress_ctx;
};

/*
 * Open (creating cache/ and migrating) the home's cache DB. A home we cannot
 * write to, or on a full disk, gets an in-memory DB (in_memory, no_space
 * set; the caller warns). A file that is corrupt or from a newer skillmeat is
 * emptied in place with one warning logged; the next sync fills it.
 */
int sm_cache_open(struct sm_home *home, struct sm_cache **ret, struct strbuf *err);
void sm_cache_close(struct sm_cache *c);
/*
 * A cache over a store of another backend (the team store, store_pg.h): no
 * SQLite connection (db NULL); the cache owns store from now on, also on
 * failure (-ENOMEM).
 */
int sm_cache_open_store(struct sm_home *home, struct sm_store *store, struct sm_cache **ret);

/*
 * Rebuild a corrupt index from the files: a fresh index is built in memory
 * and copied over the damaged file in one transaction (other connections see
 * the old state or the new), with one warning logged naming the file and
 * err's message (the failure that showed the damage). The store of c calls
 * this by itself when an operation outside a transaction meets corruption,
 * and retries the operation; sm_cache_sync does after a failed sync.
 */
int sm_cache_heal(struct sm_cache *c, struct strbuf *err);

/* The cache DB path of a home, appended to out. */
int sm_cache_db_path(const struct sm_home *home, struct strbuf *out);

enum sm_sync_flags {
	/* Re-read every artifact's files even when its fingerprint matches. */
	SM_SYNC_FORCE = 1 << 0,
	/*
	 * Also re-read rows that are stale (flagged by a watcher or a write, or
	 * synced longer ago than the staleness TTL): refresh and the refresher.
	 * Without it (the CLI's warm sync) only changed fingerprints are re-read.
	 */
	SM_SYNC_REFRESH_STALE = 1 << 1,
	/*
	 * Rebuild: drop every cached row and re-read every artifact, all in one
	 * transaction, so every reader (any process) sees the old state or the
	 * new one. Implies SM_SYNC_FORCE; collection must be NULL.
	 */
	SM_SYNC_REBUILD = 1 << 2,
	/*
	 * With collection NULL: also re-read the deployments index from the
	 * tracking files of the projects in projects.toml (implied by
	 * SM_SYNC_REBUILD and SM_SYNC_REFRESH_STALE).
	 */
	SM_SYNC_DEPLOYMENTS = 1 << 3,
	/*
	 * No warning for an artifact's malformed frontmatter: the caller has
	 * reported it already (an add names the file it was given).
	 */
	SM_SYNC_QUIET = 1 << 4,
};

struct sm_sync_stats {
	size_t collections;
	size_t created;
	size_t updated;
	size_t unchanged;
	size_t removed;
	size_t errors;
	double duration_seconds;
	/* One line per error ("<collection>/<type>:<name>: <why>"), owned. */
	char **messages;
	size_t nmessages;
};

void sm_sync_stats_release(struct sm_sync_stats *s);

/*
 * Bring the cache up to date with the files of one file collection
 * (collection != NULL) or of all of them (rows of collections that are gone
 * are removed). Per collection, one transaction: every manifest entry is
 * stat'ed against its row's fingerprint; unchanged ones are recognised
 * without reading their files; changed or new ones are re-read (metadata and
 * content hash); rows of artifacts no longer in the manifest are deleted.
 * Then the `default` user collection is made to hold every artifact.
 * An artifact whose files are gone or unreadable keeps its row, counts as an
 * error and the sync goes on; a malformed manifest is an error for its
 * collection only. Logs one structured info line.
 *
 * Fault injection for tests: SKILLMEAT_FAULT_SYNC_KILL_AFTER=N kills the
 * process (SIGKILL) after N rows were written inside a transaction.
 */
int sm_cache_sync(struct sm_cache *c, const char *collection, unsigned flags,
		  struct sm_sync_stats *stats, struct strbuf *err);

/*
 * The deployments index (the `deployments` table): one project's rows
 * replaced by what its tracking files record now, or every project of the
 * home's projects.toml (rows of projects no longer listed dropped). One
 * transaction each (a savepoint inside the caller's).
 */
int sm_cache_index_project(struct sm_cache *c, const char *project, struct strbuf *err);
/* The rows of one tracking file as loaded (no file read): an operation that just wrote it. */
struct sm_tracking;
int sm_cache_index_tracking(struct sm_cache *c, const struct sm_tracking *t, struct strbuf *err);
int sm_cache_index_projects(struct sm_cache *c, struct strbuf *err);

/*
 * Sync one collection that the caller has open (and may have just written,
 * under the home lock): saves parsing its manifest twice.
 */
struct sm_collection;
int sm_cache_sync_open(struct sm_cache *c, struct sm_collection *coll, unsigned flags,
		       struct sm_sync_stats *stats, struct strbuf *err);

/*
 * The row of manifest entry idx of c (open, and maybe just written by the
 * caller under the home lock), read from its files now — metadata, content
 * hash, fingerprint, row_hash (the artifact's revision) — without the
 * fingerprint shortcut. With write, upserted in one transaction of its own.
 * *ret (may be NULL) gets the row. -ENOENT when the files are gone.
 */
int sm_cache_sync_entry(struct sm_cache *c, const struct sm_collection *coll, size_t idx,
			bool write, struct sm_artifact_row *ret, struct strbuf *err);

/*
 * The stat fingerprint of dir's collection.toml and collection.lock, for
 * sm_cache_note_manifest_write(); *ret is the caller's to free.
 */
int sm_cache_manifest_fp(const char *dir, char **ret);

/*
 * The caller, holding the home lock, rewrote the manifest and lock of
 * collection (folder dir) after reading them at fingerprint before, and
 * resynced every entry it changed (sm_cache_sync_entry). When the index was
 * in step with the files at before, it is in step with them now: the sync
 * state moves to their new fingerprint, so the next sync of the collection
 * (the watcher's, right after) takes the warm path instead of reading the
 * whole manifest again. Otherwise nothing changes. before may be NULL.
 */
int sm_cache_note_manifest_write(struct sm_cache *c, const char *collection, const char *dir,
				 const char *before, struct strbuf *err);

/*
 * Does row's stored fingerprint still describe its files (dir: the folder
 * of its collection)? False for a row without one or files that cannot be read.
 */
bool sm_cache_row_current(const char *dir, const struct sm_artifact_row *row);

/*
 * Bring the user collections of the cache up to date with
 * user-collections.toml (user_collections.h): rows put, pruned (never
 * "default"), each member key resolved to an artifact and the memberships
 * made equal to the resolved ones. A member naming no artifact (or an
 * ambiguous one outside the active collection) stays in the file, is not
 * indexed and is logged at info level. A malformed file is one error in stats
 * (the cache keeps its rows) and returns 0. One transaction, or the caller's
 * when one is open. Negative errno only for cache or memory failures.
 */
int sm_cache_sync_user_collections(struct sm_cache *c, struct sm_sync_stats *stats,
				   struct strbuf *err);

/*
 * Resolve an artifact id against the cache: "type:name" (type aliases and
 * one trailing .md/.txt/.json/.yaml/.yml on the name allowed),
 * "collection/type:name", or a bare name. -ENOENT when none matches, -EINVAL
 * for a malformed id, -EEXIST when several match (candidates in err) — with
 * prefer_active, a unique match in the active collection wins. *ret (release
 * with sm_artifact_row_release) is written on success.
 */
int sm_cache_resolve_artifact(struct sm_cache *c, const char *id, bool prefer_active,
			      struct sm_artifact_row *ret, struct strbuf *err);
/*
 * The id of row as shown and stored in user-collections.toml, appended to
 * out: "type:name", or "collection/type:name" when that type:name is in
 * more than one file collection.
 */
int sm_cache_artifact_key(struct sm_cache *c, const struct sm_artifact_row *row,
			  struct strbuf *out, struct strbuf *err);
/*
 * The same id when the number of rows with row's type and name is known
 * (sm_store_name_counts: a page's ids in one query).
 */
int sm_cache_artifact_key_of(const struct sm_artifact_row *row, size_t same_name,
			     struct strbuf *out);

/*
 * Remove, from the user collections loaded in f (in memory; the caller saves
 * under the home lock), every member that names the artifact uuid, or is
 * exactly key: what removing an artifact does to its memberships (CLI remove
 * and the API's DELETE alike). Returns the number removed.
 */
struct sm_user_collections;
int sm_cache_drop_members(struct sm_cache *c, struct sm_user_collections *f, const char *uuid,
			  const char *key, struct strbuf *err);

/*
 * The deterministic uuid of an artifact with no manifest uuid: 32 hex of
 * SHA-256 over "<collection>\0<type>\0<name>".
 */
int sm_cache_derive_uuid(const char *collection, const char *type, const char *name,
			 char out[33]);

#endif
