/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_STORE_H
#define SKILLMEAT_STORE_H

/*
 * The cache store: every query of the metadata cache, behind a small
 * interface (struct sm_store_ops) so another backend (PostgreSQL) can be added
 * without touching callers. One implementation: SQLite (sm_store_sqlite_new).
 *
 * A store wraps one connection and is not thread-safe: one per thread, like
 * the connection. Prepared statements are cached per store.
 *
 * Conventions:
 * - Functions return >= 0 on success (a count where documented) and a
 *   negative errno on failure with a one-line message in err (may be NULL):
 *   -ENOENT not found (or a referenced row missing), -EEXIST conflict
 *   (duplicate id or name), -EINVAL bad input, -EBUSY locked, -ENOMEM,
 *   -EIO. Nothing is changed on failure (each write is atomic on its own, or
 *   part of the caller's transaction, which the caller then rolls back).
 * - Output structs passed by pointer are written only on success and then
 *   owned by the caller (release with the matching _release function).
 * - Times: synced_at and "now" are milliseconds since the epoch (UTC) given
 *   by the caller; the store never reads a clock. Other timestamps (added,
 *   added_at, created_at, updated_at) are ISO-8601 strings stored as given.
 * - uuid and user collection ids are 32 lowercase hex ('default' too for user
 *   collections); other values are rejected with -EINVAL.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct sm_db;

/*
 * One artifact of a file collection, as cached. All strings are owned
 * (sm_malloc) and may be NULL unless noted.
 */
struct sm_artifact_row {
	char *uuid;	  /* 32 hex, required */
	char *collection; /* file collection name, required */
	char *type;	  /* required */
	char *name;	  /* required */
	char *path;	  /* relative to the collection, as in the manifest */
	char *title;
	char *description;
	char *author;
	char *license;
	char *tags_json;  /* JSON array of strings (shown tags) */
	char *tools_json; /* JSON array of strings */
	char *version;
	char *source;
	char *origin;
	char *origin_source;
	char *upstream;
	char *version_spec;
	char *resolved_sha;
	char *resolved_version;
	char *added;
	char *updated;	    /* the newest mtime of its files, ISO (UTC, as added) */
	char *content_hash; /* of the files now */
	char *lock_hash;    /* the lock's content_hash */
	int64_t file_count;
	int64_t total_size;
	char *fingerprint; /* cheap change detector (mtime_ns, size, inode) */
	bool stale;	   /* flagged by a watcher or a write */
	int64_t synced_at; /* ms since the epoch, 0 = never */
	/* Set by the store; ignored on upsert. */
	int64_t revision;      /* bumped on every content change */
	char *row_hash;	       /* 16 hex over the content (not fingerprint/sync state): ETag */
	char *member_added_at; /* membership pages only: when it joined the collection */
	/*
	 * Upsert only, may be NULL (kept as stored): the text of the artifact's
	 * text files for full-text search (not part of row_hash; content_hash
	 * already changes with it).
	 */
	char *body;
	/*
	 * Set by a read of few fields (a brief page, the fingerprints): one
	 * block holding the strings read, which point inside it. A field
	 * pointing elsewhere is its own allocation, as usual.
	 */
	char *strings;
	size_t strings_len;
};

/* Free the strings of row and zero it. NULL is accepted. */
void sm_artifact_row_release(struct sm_artifact_row *row);
/* Release n rows and free the array. */
void sm_artifact_rows_free(struct sm_artifact_row *rows, size_t n);

enum sm_upsert_result {
	SM_UPSERT_UNCHANGED = 0, /* content and fingerprint equal: only synced_at/stale set */
	SM_UPSERT_CREATED = 1,
	SM_UPSERT_UPDATED = 2,
	/*
	 * content equal, the fingerprint alone written (a file's times, a folder's
	 * walk record once no longer racy): the revision stays; counted unchanged
	 */
	SM_UPSERT_FINGERPRINT = 3,
};

struct sm_upsert_stats {
	size_t created;
	size_t updated;
	size_t unchanged;
};

/* Which artifacts a page lists. Zero-initialise, then set what is needed. */
enum sm_artifact_sort { SM_SORT_KEY = 0, SM_SORT_NAME, SM_SORT_ADDED, SM_SORT_UPDATED };

struct sm_artifact_query {
	const char *collection;		/* file collection; NULL = all */
	const char *user_collection_id; /* only members of it; NULL = all */
	const char *const *types;	/* any of these types; ntypes 0 = all */
	size_t ntypes;
	const char *const *tags; /* case-insensitive; any of them, all with tags_all */
	size_t ntags;
	bool tags_all;
	const char *const *tools; /* case-insensitive; any of them */
	size_t ntools;
	/*
	 * Words, full-text over name, title, description, tags and the text of
	 * the artifact's text files; each word a prefix of a word, all must
	 * match; a word that matches nothing also matches close spellings
	 * (one or two letters off). NULL = none.
	 */
	const char *search;
	/*
	 * With search: best match first (bm25: name, then title and tags, then
	 * description, then body text), no cursor, any limit.
	 */
	bool rank;
	/*
	 * Keyset cursor: rows after (type, name[, collection]) in the order
	 * type, name, collection. Leave after_collection NULL when the key was
	 * a plain "type:name" (unique across collections).
	 */
	const char *after_type;
	const char *after_name;
	const char *after_collection;
	/*
	 * The order: SM_SORT_KEY (type, name, collection), SM_SORT_NAME (name,
	 * type, collection), SM_SORT_ADDED / SM_SORT_UPDATED (newest first, then
	 * type, name, collection; updated falls back to added). With ADDED or
	 * UPDATED the cursor also holds after_value, the last row's added/updated
	 * ("" for none).
	 */
	enum sm_artifact_sort sort;
	const char *after_value;
	size_t limit;  /* 1..SM_STORE_MAX_LIMIT, 0 = 20 */
	bool no_total; /* skip total_count (left -1) */
	/*
	 * Only the strings a listing line shows: collection, type, name,
	 * description, tags_json, version, origin and content_hash (and every
	 * integer); the other strings of the rows are left NULL. The CLI's
	 * table of 10,000 rows would otherwise copy 26 strings a row.
	 */
	bool brief;
};

#define SM_STORE_MAX_LIMIT 1000
/* Room for a revision string ("<16 hex epoch>-<counter>") and its NUL. */
#define SM_STORE_REVISION_MAX 48

struct sm_artifact_page {
	struct sm_artifact_row *rows;
	size_t n;
	bool has_next;
	int64_t total_count; /* matches without the cursor; -1 if not asked */
};

void sm_artifact_page_release(struct sm_artifact_page *page);

struct sm_user_collection_row {
	char *id; /* 32 hex or "default" */
	char *name;
	char *description;
	char *collection_type;
	char *context_category;
	char *created_at;
	char *updated_at;
};

void sm_user_collection_row_release(struct sm_user_collection_row *row);

/* A partial update: NULL fields are left as they are. updated_at is required. */
struct sm_user_collection_update {
	const char *name;
	const char *description;
	const char *collection_type;
	const char *context_category;
	const char *updated_at;
};

struct sm_user_collection_query {
	const char *search;	     /* case-insensitive substring of the name */
	const char *collection_type; /* exact */
	const char *after_id;	     /* keyset cursor */
	size_t limit;		     /* 1..SM_STORE_MAX_LIMIT, 0 = 20 */
	bool no_total;
};

struct sm_user_collection_page {
	struct sm_user_collection_row *rows;
	size_t n;
	bool has_next;
	int64_t total_count;
};

void sm_user_collection_page_release(struct sm_user_collection_page *page);

/* One membership of an artifact, for `collections[]` in responses. */
struct sm_membership {
	char *artifact_uuid;
	char *collection_id;
	char *collection_name;
};

void sm_memberships_free(struct sm_membership *m, size_t n);

/* `cache status` numbers (spec/CLI.md), over all rows or one collection. */
struct sm_cache_status {
	int64_t total;
	int64_t stale; /* flagged, never synced, or synced_at older than the TTL */
	int64_t fresh;
	double oldest_sync_age_seconds; /* now - min(synced_at); 0 when none */
};

/*
 * The backend interface. Callers use the sm_store_* wrappers below; a backend
 * fills every pointer. Semantics are those documented on the wrappers.
 */
struct sm_store;
/* One deployment as a project's tracking file records it (the deployments index). */
struct sm_deployment_row {
	char *project;
	char *root; /* the profile root holding the tracking file (".claude") */
	char *profile_id;
	char *collection;
	char *type;
	char *name;
	char *artifact_path;
	char *deployed_at;
	char *content_hash;
	char *platform;
	bool local_modifications;
};
void sm_deployment_rows_free(struct sm_deployment_row *rows, size_t n);

struct sm_store_ops {
	const char *name;
	void (*free)(struct sm_store *st);
	int (*begin)(struct sm_store *st, struct strbuf *err);
	int (*commit)(struct sm_store *st, struct strbuf *err);
	int (*rollback)(struct sm_store *st, struct strbuf *err);
	int (*upsert_artifacts)(struct sm_store *st, const struct sm_artifact_row *rows, size_t n,
				enum sm_upsert_result *results, struct sm_upsert_stats *stats,
				struct strbuf *err);
	int (*prune_artifacts)(struct sm_store *st, const char *collection,
			       const char *const *keep_uuids, size_t nkeep, struct strbuf *err);
	int (*delete_artifact)(struct sm_store *st, const char *uuid, struct strbuf *err);
	int (*get_artifact)(struct sm_store *st, const char *uuid, struct sm_artifact_row *ret,
			    struct strbuf *err);
	int (*get_artifact_by_key)(struct sm_store *st, const char *collection, const char *type,
				   const char *name, struct sm_artifact_row *ret,
				   struct strbuf *err);
	int (*find_artifacts)(struct sm_store *st, const char *type, const char *name,
			      struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err);
	/* optional (NULL: find_artifacts row by row); see sm_store_name_counts */
	int (*name_counts)(struct sm_store *st, const struct sm_artifact_row *rows, size_t n,
			   size_t *counts, struct strbuf *err);
	int (*list_collection)(struct sm_store *st, const char *collection,
			       struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err);
	int (*list_artifacts)(struct sm_store *st, const struct sm_artifact_query *q,
			      struct sm_artifact_page *ret, struct strbuf *err);
	int (*list_user_collections)(struct sm_store *st, const struct sm_user_collection_query *q,
				     struct sm_user_collection_page *ret, struct strbuf *err);
	int (*get_user_collection)(struct sm_store *st, const char *id,
				   struct sm_user_collection_row *ret, struct strbuf *err);
	int (*create_user_collection)(struct sm_store *st, const struct sm_user_collection_row *row,
				      struct strbuf *err);
	int (*put_user_collection)(struct sm_store *st, const struct sm_user_collection_row *row,
				   struct strbuf *err);
	int (*update_user_collection)(struct sm_store *st, const char *id,
				      const struct sm_user_collection_update *u,
				      struct strbuf *err);
	int (*delete_user_collection)(struct sm_store *st, const char *id, struct strbuf *err);
	int (*prune_user_collections)(struct sm_store *st, const char *const *keep_ids,
				      size_t nkeep, struct strbuf *err);
	int (*add_members)(struct sm_store *st, const char *collection_id, const char *const *uuids,
			   size_t n, const char *added_at, struct strbuf *err);
	int (*add_all_members)(struct sm_store *st, const char *collection_id, const char *added_at,
			       struct strbuf *err);
	int (*remove_member)(struct sm_store *st, const char *collection_id, const char *uuid,
			     struct strbuf *err);
	int (*prune_members)(struct sm_store *st, const char *collection_id,
			     const char *const *keep_uuids, size_t nkeep, struct strbuf *err);
	int (*memberships_of)(struct sm_store *st, const char *const *uuids, size_t n,
			      struct sm_membership **ret, size_t *ret_n, struct strbuf *err);
	int (*count_members)(struct sm_store *st, const char *const *ids, size_t n, int64_t *counts,
			     struct strbuf *err);
	int (*cache_status)(struct sm_store *st, const char *collection, int64_t now_ms,
			    int64_t ttl_ms, struct sm_cache_status *ret, struct strbuf *err);
	int (*list_stale)(struct sm_store *st, const char *collection, int64_t now_ms,
			  int64_t ttl_ms, size_t limit, struct sm_artifact_row **ret, size_t *ret_n,
			  struct strbuf *err);
	int (*mark_stale)(struct sm_store *st, const char *uuid, struct strbuf *err);
	int (*mark_stale_collection)(struct sm_store *st, const char *collection,
				     struct strbuf *err);
	int (*data_version)(struct sm_store *st, int64_t *ret, struct strbuf *err);
	int (*revision)(struct sm_store *st, char out[SM_STORE_REVISION_MAX], struct strbuf *err);
	int (*dump)(struct sm_store *st, unsigned flags, struct strbuf *out, struct strbuf *err);
	int (*get_sync_state)(struct sm_store *st, const char *collection, char **ret,
			      struct strbuf *err);
	int (*list_fingerprints)(struct sm_store *st, const char *collection,
				 struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err);
	int (*list_collection_names)(struct sm_store *st, char ***ret, size_t *ret_n,
				     struct strbuf *err);
	int (*any_flagged_stale)(struct sm_store *st, bool *ret, struct strbuf *err);
	int (*bulk_begin)(struct sm_store *st, int64_t *mark, struct strbuf *err);
	int (*bulk_end)(struct sm_store *st, int64_t mark, struct strbuf *err);
	int (*set_sync_state)(struct sm_store *st, const char *collection, const char *fp,
			      struct strbuf *err);
	int (*set_walk_record)(struct sm_store *st, const char *collection, const char *type,
			       const char *name, const char *old_fp, const char *new_fp,
			       struct strbuf *err);
	int (*replace_deployments)(struct sm_store *st, const char *project, const char *root,
				   const struct sm_deployment_row *rows, size_t n,
				   struct strbuf *err);
	int (*deployments_of)(struct sm_store *st, const char *collection, const char *type,
			      const char *name, struct sm_deployment_row **ret, size_t *ret_n,
			      struct strbuf *err);
	bool (*in_transaction)(struct sm_store *st);
};

/*
 * The deployments index: replace every row of project's root (root NULL:
 * of every root; project NULL: of all projects) by rows; the deployments
 * of one artifact, ordered by project and profile.
 */
int sm_store_replace_deployments(struct sm_store *st, const char *project, const char *root,
				 const struct sm_deployment_row *rows, size_t n, struct strbuf *err);
int sm_store_deployments_of(struct sm_store *st, const char *collection, const char *type,
			    const char *name, struct sm_deployment_row **ret, size_t *ret_n,
			    struct strbuf *err);

/* Every backend's handle starts with this. */
struct sm_store {
	const struct sm_store_ops *ops;
	/*
	 * Optional repair (sm_store_set_heal): when an operation run outside a
	 * transaction fails with -EBADMSG (a corrupt database), heal(heal_ctx)
	 * is called once and, when it returns >= 0, the operation is retried.
	 */
	int (*heal)(void *ctx, struct strbuf *err);
	void *heal_ctx;
	bool healing;
};

/* Set (or clear, with heal NULL) the repair hook of st. */
void sm_store_set_heal(struct sm_store *st, int (*heal)(void *ctx, struct strbuf *err),
		       void *ctx);

/*
 * The SQLite backend over db (borrowed: db must outlive the store, and the
 * store must be freed before sm_db_close). The schema must be at the latest
 * version (sm_db_open migrates by default); else -ENOTSUP.
 */
int sm_store_sqlite_new(struct sm_db *db, struct sm_store **ret, struct strbuf *err);

/* Free the store and its cached statements. NULL is accepted. */
void sm_store_free(struct sm_store *st);

/*
 * Transactions. begin takes the write lock at once (BEGIN IMMEDIATE), so a
 * write transaction never fails half-way on a lock upgrade. Not nested:
 * begin inside a transaction is -EINVAL. Operations called outside a
 * transaction run in their own.
 */
int sm_store_begin(struct sm_store *st, struct strbuf *err);
int sm_store_commit(struct sm_store *st, struct strbuf *err);
/* Always ends the transaction; returns 0 or the error of the rollback. */
int sm_store_rollback(struct sm_store *st, struct strbuf *err);

/*
 * Insert or update n artifact rows, atomically (in the caller's transaction
 * when one is open). A row is matched by uuid, else by (collection, type,
 * name) (its uuid is then replaced; memberships follow). A row is
 * UNCHANGED when content and fingerprint equal the stored ones; then only
 * synced_at and stale are written. synced_at and stale come from the row
 * (stale is normally false: the row was just read from the files); a
 * content write never touches the FTS and tag indexes unless the indexed
 * text changed. Another row holding the same
 * (collection, type, name) under another uuid is replaced. results (n
 * entries) and stats may be NULL. Returns 0; -EINVAL names the bad row.
 */
int sm_store_upsert_artifacts(struct sm_store *st, const struct sm_artifact_row *rows, size_t n,
			      enum sm_upsert_result *results, struct sm_upsert_stats *stats,
			      struct strbuf *err);

/*
 * Delete the rows of file collection `collection` whose uuid is not among
 * keep_uuids (nkeep 0 deletes the whole collection). Memberships of deleted
 * rows go with them. Returns the number deleted.
 */
int sm_store_prune_artifacts(struct sm_store *st, const char *collection,
			     const char *const *keep_uuids, size_t nkeep, struct strbuf *err);

/* Delete one row by uuid; returns 1, or 0 when there was none. */
int sm_store_delete_artifact(struct sm_store *st, const char *uuid, struct strbuf *err);

/* One row by uuid, or by (collection, type, name); -ENOENT when absent. */
int sm_store_get_artifact(struct sm_store *st, const char *uuid, struct sm_artifact_row *ret,
			  struct strbuf *err);
int sm_store_get_artifact_by_key(struct sm_store *st, const char *collection, const char *type,
				 const char *name, struct sm_artifact_row *ret, struct strbuf *err);

/*
 * Every row named name (of type type, or any type when NULL), in every
 * collection, in page order: to resolve "type:name" or a bare name and report
 * ambiguity. *ret may be NULL when *ret_n is 0. Returns the count.
 */
int sm_store_find_artifacts(struct sm_store *st, const char *type, const char *name,
			    struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err);
/*
 * counts[i]: how many rows, in every collection, have rows[i]'s type and
 * name (what sm_store_find_artifacts would count), for n rows at once: one
 * query in team mode instead of one per row.
 */
int sm_store_name_counts(struct sm_store *st, const struct sm_artifact_row *rows, size_t n,
			 size_t *counts, struct strbuf *err);

/*
 * Every row of file collection `collection`, in (type, name) order: what a
 * warm sync stats against (path, fingerprint). *ret may be NULL when *ret_n
 * is 0. Returns the count.
 */
int sm_store_list_collection(struct sm_store *st, const char *collection,
			     struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err);

/*
 * One page of artifacts in (type, name, collection) order, after the cursor,
 * with has_next and the total count of matches (both read in one snapshot).
 * With user_collection_id, rows carry member_added_at. Returns the row count.
 */
int sm_store_list_artifacts(struct sm_store *st, const struct sm_artifact_query *q,
			    struct sm_artifact_page *ret, struct strbuf *err);

/* One page of user collections in id order. Returns the row count. */
int sm_store_list_user_collections(struct sm_store *st, const struct sm_user_collection_query *q,
				   struct sm_user_collection_page *ret, struct strbuf *err);
/* -ENOENT when absent. */
int sm_store_get_user_collection(struct sm_store *st, const char *id,
				 struct sm_user_collection_row *ret, struct strbuf *err);
/* -EEXIST when the id or the name is taken. */
int sm_store_create_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
				    struct strbuf *err);
/*
 * Insert, or overwrite every field of the row with that id (sync from
 * user-collections.toml); memberships are kept. -EEXIST when another id holds
 * the name. Returns 1 created, 0 updated or unchanged.
 */
int sm_store_put_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
				 struct strbuf *err);
/* -ENOENT when absent, -EEXIST on a name clash, -EINVAL without updated_at. */
int sm_store_update_user_collection(struct sm_store *st, const char *id,
				    const struct sm_user_collection_update *u, struct strbuf *err);
/* Deletes its memberships too. -ENOENT when absent. */
int sm_store_delete_user_collection(struct sm_store *st, const char *id, struct strbuf *err);
/* Delete the user collections not among keep_ids; returns the number deleted. */
int sm_store_prune_user_collections(struct sm_store *st, const char *const *keep_ids, size_t nkeep,
				    struct strbuf *err);

/*
 * Add artifacts (by uuid) to a user collection; rows already there keep
 * their added_at. Returns the number added (n - added were present).
 * -ENOENT when the collection or one of the artifacts does not exist (then
 * nothing is added).
 */
int sm_store_add_members(struct sm_store *st, const char *collection_id, const char *const *uuids,
			 size_t n, const char *added_at, struct strbuf *err);
/*
 * Make every cached artifact a member (the default collection), joining at
 * the artifact's own `added` time (added_at when it has none), so a rebuild
 * gives the same rows. Returns the number added.
 */
int sm_store_add_all_members(struct sm_store *st, const char *collection_id, const char *added_at,
			     struct strbuf *err);
/* Returns 1 removed, 0 when it was not a member. */
int sm_store_remove_member(struct sm_store *st, const char *collection_id, const char *uuid,
			   struct strbuf *err);
/* Remove the members not among keep_uuids; returns the number removed. */
int sm_store_prune_members(struct sm_store *st, const char *collection_id,
			   const char *const *keep_uuids, size_t nkeep, struct strbuf *err);
/*
 * The memberships of n artifacts in one query, ordered by artifact uuid then
 * collection name. Returns the count; *ret may be NULL when it is 0.
 */
int sm_store_memberships_of(struct sm_store *st, const char *const *uuids, size_t n,
			    struct sm_membership **ret, size_t *ret_n, struct strbuf *err);
/*
 * Member counts of n user collections in one grouped query: counts[i] for
 * ids[i] (0 for an unknown id). Returns 0.
 */
int sm_store_count_members(struct sm_store *st, const char *const *ids, size_t n, int64_t *counts,
			   struct strbuf *err);

/*
 * Staleness over one file collection (NULL = all) at time now_ms with TTL
 * ttl_ms: a row is stale when flagged, never synced, or synced_at <= now -
 * ttl. One snapshot.
 */
int sm_store_cache_status(struct sm_store *st, const char *collection, int64_t now_ms,
			  int64_t ttl_ms, struct sm_cache_status *ret, struct strbuf *err);
/*
 * Up to limit stale rows of a file collection (NULL = all), flagged and
 * never-synced first, then oldest synced_at first: the refresher's work
 * list. Returns the count.
 */
int sm_store_list_stale(struct sm_store *st, const char *collection, int64_t now_ms, int64_t ttl_ms,
			size_t limit, struct sm_artifact_row **ret, size_t *ret_n,
			struct strbuf *err);
/* Flag one row stale; returns 1, or 0 when there is no such row. */
int sm_store_mark_stale(struct sm_store *st, const char *uuid, struct strbuf *err);
/* Flag every row of a file collection (NULL = all) stale; returns the number flagged. */
int sm_store_mark_stale_collection(struct sm_store *st, const char *collection, struct strbuf *err);

/*
 * SQLite's PRAGMA data_version: changes when another connection (any process)
 * commits; a commit on this connection does not change it. Cheap, no I/O
 * beyond the shared lock page.
 */
int sm_store_data_version(struct sm_store *st, int64_t *ret, struct strbuf *err);

/*
 * The database revision, "<epoch>-<counter>": changes with every commit, by
 * any process, that changes an artifact's content, a user collection or a
 * membership (not with a sync that only refreshes synced_at or the stale
 * flag). The epoch is drawn when the database is created, so a rebuilt
 * database never repeats a value. For list ETags.
 */
int sm_store_revision(struct sm_store *st, char out[SM_STORE_REVISION_MAX], struct strbuf *err);

enum sm_store_dump_flags {
	/* Also dump synced_at, stale and revision (they differ between rebuilds). */
	SM_STORE_DUMP_VOLATILE = 1 << 0,
};

/*
 * A deterministic text of every row of every table (artifacts, the FTS and
 * label index rows by artifact uuid, user collections, memberships), sorted,
 * one line per row, appended to out. Two databases holding the same facts
 * dump the same text; for invariant tests.
 */
int sm_store_dump(struct sm_store *st, unsigned flags, struct strbuf *out, struct strbuf *err);

/*
 * The rows of a file collection with only type, name, path, fingerprint,
 * stale and synced_at filled (the rest NULL/0), in (type, name) order: what
 * the warm sync's fast path compares. Returns the count.
 */
int sm_store_list_fingerprints(struct sm_store *st, const char *collection,
			       struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err);

/* Whether any row is flagged stale (one probe of the partial index on stale). */
int sm_store_any_flagged_stale(struct sm_store *st, bool *ret, struct strbuf *err);

/*
 * Bulk mode, inside the caller's transaction, for writing many new rows:
 * begin defers their full-text indexing (mark: where the new rows start);
 * end indexes every row added since mark with one statement and ends the
 * mode. Readers never see the difference (both happen before the commit).
 */
int sm_store_bulk_begin(struct sm_store *st, int64_t *mark, struct strbuf *err);
int sm_store_bulk_end(struct sm_store *st, int64_t mark, struct strbuf *err);

/* The distinct file collection names of the cached rows (sorted; heap strings). */
int sm_store_list_collection_names(struct sm_store *st, char ***ret, size_t *ret_n,
				   struct strbuf *err);

/*
 * The stat fingerprint of a file collection's manifest and lock at its last
 * full sync (warm syncs skip parsing an unchanged manifest). get: *ret owned,
 * NULL when none. set: fp NULL forgets it.
 */
int sm_store_get_sync_state(struct sm_store *st, const char *collection, char **ret,
			    struct strbuf *err);
int sm_store_set_sync_state(struct sm_store *st, const char *collection, const char *fp,
			    struct strbuf *err);

/*
 * A row's fingerprint replaced by new_fp (the same files and manifest part
 * with a folder walk record added) only while it is still old_fp: content,
 * revision and synced_at stay. Returns 1 when written, 0 when the row moved on.
 */
int sm_store_set_walk_record(struct sm_store *st, const char *collection, const char *type,
			     const char *name, const char *old_fp, const char *new_fp,
			     struct strbuf *err);

#endif
