/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_TRUTH_H
#define SKILLMEAT_TRUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sm_artifact_row;
struct sm_cache;
struct sm_collection;
struct sm_home;
struct sm_sync_stats;
struct sm_user_collections;
struct strbuf;

/* One file of an artifact as list_files gives it: relative, '/'-separated path. */
struct sm_truth_file {
	char *path;
	uint64_t size;
};
void sm_truth_files_free(struct sm_truth_file *v, size_t n);

/*
 * The source of truth as the operations (src/ops) see it: the durable
 * documents (a file collection's manifest and lock, the user collections)
 * loaded as core objects, changed in memory by the operation, then
 * persisted, and the index kept equal to them. Today: files under
 * SKILLMEAT_HOME plus the SQLite index (sm_truth_files_init); a team server
 * puts a PostgreSQL backend behind the same table. No operation names a
 * file path or an SQL statement: it calls these.
 *
 * Order inside an operation: lock, open/load, change in memory, commit/save,
 * index_*, unlock, then the invalidation callback (skillmeat/ops.h).
 */
struct sm_truth;

struct sm_truth_ops {
	/* Writer exclusion: in-process lock (if any), then the home's flock. */
	int (*lock)(struct sm_truth *t, struct strbuf *err);
	void (*unlock)(struct sm_truth *t);
	/* A file collection (name NULL: the active one), loaded. */
	int (*open_collection)(struct sm_truth *t, const char *name, struct sm_collection **ret,
			       struct strbuf *err);
	/*
	 * Persist a changed collection (manifest, lock and the artifact files
	 * the change staged or set aside) as one crash-safe step: a crash at
	 * any point leaves the old or the new state. uc, when not NULL: the
	 * user collections, persisted in the same step.
	 */
	int (*commit_collection)(struct sm_truth *t, struct sm_collection *c,
				 struct sm_user_collections *uc, struct strbuf *err);
	/* Persist only the manifest of a collection whose entries were edited. */
	int (*commit_manifest)(struct sm_truth *t, struct sm_collection *c, struct strbuf *err);
	int (*load_user_collections)(struct sm_truth *t, struct sm_user_collections **ret,
				     struct strbuf *err);
	int (*save_user_collections)(struct sm_truth *t, struct sm_user_collections *f,
				     struct strbuf *err);
	/* The index for lookups, opened on first use; NULL (err set) when unavailable. */
	struct sm_cache *(*index)(struct sm_truth *t, struct strbuf *err);
	/* Bring the index up to date: one collection, the user collections, or a sync
	 * of name (NULL: all) with sm_sync_flags. One transaction each. */
	int (*index_collection)(struct sm_truth *t, struct sm_collection *c, unsigned flags,
				struct sm_sync_stats *st, struct strbuf *err);
	int (*index_user_collections)(struct sm_truth *t, struct sm_sync_stats *st,
				      struct strbuf *err);
	int (*index_sync)(struct sm_truth *t, const char *name, unsigned flags,
			  struct sm_sync_stats *st, struct strbuf *err);
	/*
	 * A truth that is its own index (team): remove the artifact
	 * collection/type:name with its files and memberships, under the lock,
	 * committed; *dropped gets the memberships it had. -ENOENT when absent.
	 * NULL for the files (sm_ops_remove edits the manifest then).
	 */
	int (*remove_artifact)(struct sm_truth *t, const char *collection, const char *type,
			       const char *name, size_t *dropped, struct strbuf *err);
	/*
	 * Reads, without the lock, of the files of an artifact row of the
	 * index (sm_ops_artifact_files / sm_ops_artifact_file call them).
	 * list_files: every file, in sm_fs_walk's order (component by
	 * component). read_file: the bytes of the
	 * file rel (already checked: relative, no '.', '..' or empty part) into
	 * out. Errors: -EXDEV the artifact's files lie outside its collection
	 * (a manifest path leading out), -ENOENT its files are missing / no
	 * such file (a folder is no file), -EINVAL rel leads outside the
	 * artifact (a symbolic link), -E2BIG the file is over max bytes.
	 */
	int (*list_files)(struct sm_truth *t, const struct sm_artifact_row *row,
			  struct sm_truth_file **ret, size_t *ret_n, struct strbuf *err);
	int (*read_file)(struct sm_truth *t, const struct sm_artifact_row *row, const char *rel,
			 size_t max, struct strbuf *out, struct strbuf *err);
	/* Free the backend's own state (may be NULL). */
	void (*release)(struct sm_truth *t);
};

struct sm_truth {
	const struct sm_truth_ops *ops;
	struct sm_home *home;	/* borrowed */
	struct sm_cache *cache; /* the index connection: borrowed, or opened on demand */
	bool own_cache;
	bool cache_failed; /* an open failed: not retried */
	/* Optional in-process writer lock taken before the home lock (a server's). */
	void (*write_lock)(void *ud);
	void (*write_unlock)(void *ud);
	void *lock_ud;
	void *impl; /* the backend's own state (team: truth_team.c) */
};

/*
 * Files under home + the SQLite index. cache may be NULL: the index is
 * opened on first use (and closed by sm_truth_release).
 */
void sm_truth_files_init(struct sm_truth *t, struct sm_home *home, struct sm_cache *cache);
void sm_truth_release(struct sm_truth *t);

/*
 * The team store (docs/team.md) for one tenant: the PostgreSQL database at
 * url is the truth and its own index. lock opens a transaction holding the
 * tenant's row lock (writes of one tenant through every instance run one
 * after another); load_user_collections reads the tenant's collections and
 * members (keys "collection/type:name"); save_user_collections writes what
 * changed since the load, row by row, and commits (the schema's triggers
 * bump the revision and NOTIFY); unlock rolls back what was not committed;
 * index is the same database (tenant-scoped reads); index_sync (refresh,
 * migrate) makes the default user collection hold every artifact of the
 * tenant (of collection name) in a transaction of its own, every artifact
 * counted unchanged (nothing to read again), and does nothing inside an
 * operation holding the lock; the other index_* do nothing;
 * remove_artifact deletes the row (its files and memberships follow) and
 * commits; list_files and read_file read the rows of artifact_files (the
 * files as uploaded). The file collection entries (open/commit) are not
 * built: -ENOTSUP. No in-process lock is taken (write_lock is ignored).
 * t->cache may be set, before first use, to an open team cache of the same
 * tenant (borrowed: a server's loop-thread connection), else one is opened.
 * -ENOMEM when out of memory (t is then unusable but may be released).
 */
int sm_truth_team_init(struct sm_truth *t, struct sm_home *home, const char *url,
		       const char *tenant);

#endif
