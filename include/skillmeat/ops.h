/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_OPS_H
#define SKILLMEAT_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/artifact.h"
#include "skillmeat/collection.h"
#include "skillmeat/manifest.h"
#include "skillmeat/truth.h"
#include "skillmeat/user_collections.h"

struct sm_artifact_row;
struct sm_cache;
struct sm_home;
struct strbuf;

/*
 * The use-case layer (src/ops): one function per write operation, called
 * by both front ends, the CLI (src/cli/cmd_*.c) and the REST application
 * (src/api/api_*.c). A front end only parses its input, calls the
 * operation, and formats the result; it never takes the home lock or writes
 * a manifest, lock or user-collections file itself.
 *
 * The contract every operation keeps (docs/architecture.md, "write path"):
 *
 *   1. validate the input (bad input: a clear error, nothing changed);
 *   2. take the home lock (sm_home_lock, SKILLMEAT_HOME/.lock);
 *   3. write the files atomically (the source of truth);
 *   4. one DB transaction bringing the index up to date (ctx->cache);
 *   5. release the home lock;
 *   6. after the commit, ctx->invalidate(ctx->invalidate_ud, scope) for each
 *      user collection whose counts or answers it changed (NULL: all);
 *   7. describe what happened in its result struct, never print: warnings
 *      go to ctx->warn, the error to err (one line, never empty).
 *
 * An operation never announces itself to a running server (the CLI does
 * that after the operation returned, so never while holding the home lock)
 * and never sleeps on a lock it does not own the order of: lock order is
 * in-process writer lock (server) -> home flock -> SQLite write transaction.
 *
 * Threads: a context is used by one thread at a time (it holds that
 * thread's SQLite connection); a server builds one per worker.
 */

/* Called after a commit; scope is a user collection id, or NULL for all. */
typedef void (*sm_ops_invalidate_fn)(void *ud, const char *scope);
/* A warning about one part of the operation (a file, an artifact). */
typedef void (*sm_ops_warn_fn)(void *ud, const char *msg);

struct sm_ops_ctx {
	struct sm_home *home;	/* open home (borrowed; the same as truth.home) */
	struct sm_cache *cache; /* the index connection given at init (borrowed), or NULL */
	struct sm_truth truth;	/* where the operation reads and writes */
	sm_ops_invalidate_fn invalidate; /* may be NULL (the CLI) */
	void *invalidate_ud;
	sm_ops_warn_fn warn; /* may be NULL: warnings dropped */
	void *warn_ud;
};

/*
 * A context over the files of home and the index (cache NULL: opened on
 * first use, closed by sm_ops_ctx_release), no callbacks.
 */
void sm_ops_ctx_init(struct sm_ops_ctx *ctx, struct sm_home *home, struct sm_cache *cache);
void sm_ops_ctx_release(struct sm_ops_ctx *ctx);

/* Run the invalidation callback (after a commit). */
void sm_ops_invalidate(const struct sm_ops_ctx *ctx, const char *scope);
/* Pass a formatted warning to the warning callback. */
void sm_ops_warn(const struct sm_ops_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Resolve an artifact id as the REST API spells it ("type:name" or
 * "collection/type:name", collection optionally imposed) against the index.
 * -EINVAL malformed, -ENOENT "Artifact 'x' not found", -EEXIST ambiguous.
 */
int sm_ops_resolve_id(struct sm_cache *cache, const char *id, const char *collection,
		      struct sm_artifact_row *ret, struct strbuf *err);

/* ---- remove an artifact ---- */

struct sm_ops_remove {
	const char *collection; /* NULL: the active one */
	const char *id;		/* sm_collection_resolve syntax */
	bool keep_files;
	/* Optional: asked under the lock once the artifact is known; false cancels. */
	bool (*confirm)(void *ud, const char *type, const char *name, const char *collection);
	void *confirm_ud;
};

struct sm_ops_remove_result {
	bool cancelled;
	bool index_changed; /* or could not be brought up to date: tell a server */
	enum sm_artifact_type type;
	char *name;
	char *collection;
	size_t dropped; /* user-collection memberships dropped with it */
};
void sm_ops_remove_result_release(struct sm_ops_remove_result *r);

/*
 * Remove an artifact: its memberships in user collections, its files, its
 * manifest and lock entries; the index follows. -ENOENT (collection or
 * artifact), -EINVAL, -EEXIST (ambiguous), -EBADMSG (a malformed
 * user-collections.toml), I/O errors.
 */
int sm_ops_remove(struct sm_ops_ctx *ctx, const struct sm_ops_remove *req,
		  struct sm_ops_remove_result *ret, struct strbuf *err);

/* ---- user collections (user-collections.toml) ---- */

struct sm_ops_uc_result {
	/* the entry as written (after the change; before it for a delete) */
	char *id;
	char *name;
	char *description;
	char *collection_type;
	char *context_category;
	char *created_at;
	char *updated_at; /* created_at when the file has none */
	char *old_name; /* update: the name before */
	size_t changed;	/* members added or removed */
	size_t present; /* members already there (add) */
	char **not_found; /* ids that name no artifact (add, SM_OPS_UNKNOWN_LISTED) */
	size_t n_not_found;
	bool cancelled;
};
void sm_ops_uc_result_release(struct sm_ops_uc_result *r);

/* How a user collection is named: by id only (REST), or id else name (CLI). */
struct sm_ops_uc_ref {
	const char *ref;
	bool by_id;
};

/* Create (created_at = now); -EINVAL (a field), -EEXIST (name taken). */
int sm_ops_uc_create(struct sm_ops_ctx *ctx, const struct sm_user_collection_fields *fields,
		     struct sm_ops_uc_result *ret, struct strbuf *err);
/* Change fields (a rename is the name alone); -ENOENT, -EINVAL, -EEXIST. */
int sm_ops_uc_update(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref,
		     const struct sm_user_collection_fields *fields, struct sm_ops_uc_result *ret,
		     struct strbuf *err);
/* Delete (its artifacts stay). confirm as in sm_ops_remove (may be NULL). */
int sm_ops_uc_delete(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref,
		     bool (*confirm)(void *ud, const char *name), void *confirm_ud,
		     struct sm_ops_uc_result *ret, struct strbuf *err);

enum sm_ops_unknown {
	/* Any id that does not resolve: nothing written, -ENOENT (or the first
	 * other error) with every reason in err (the CLI). The index is warm
	 * synced first. */
	SM_OPS_UNKNOWN_FAILS,
	/* Unknown ids are listed in not_found, the others added; a malformed
	 * or ambiguous id fails (-EINVAL, -EEXIST) before anything is written
	 * (the REST API). */
	SM_OPS_UNKNOWN_LISTED,
};

/*
 * Add artifacts (ids) as members: a member already there under another
 * spelling counts as present. Members are written as their shortest
 * unambiguous key.
 */
int sm_ops_uc_add_members(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref,
			  const char *const *ids, size_t n, enum sm_ops_unknown mode,
			  struct sm_ops_uc_result *ret, struct strbuf *err);
/*
 * Remove members named by ids (the same string, or resolving to the same
 * artifact). strict (the CLI): every id must be a member (-ENOENT "nothing
 * removed ..."), the first matching member goes; otherwise (the REST API)
 * every matching member goes and a non-member is no change.
 */
int sm_ops_uc_remove_members(struct sm_ops_ctx *ctx, const struct sm_ops_uc_ref *ref,
			     const char *const *ids, size_t n, bool strict,
			     struct sm_ops_uc_result *ret, struct strbuf *err);

/* ---- add ---- */

enum sm_ops_source {
	SM_OPS_SOURCE_AUTO,   /* GitHub when spec looks like one and is no local path */
	SM_OPS_SOURCE_LOCAL,
	SM_OPS_SOURCE_GITHUB,
};

struct sm_ops_add {
	const char *collection; /* NULL: the active one (a home with none gets 'default') */
	const char *spec;	/* a local path or a GitHub spec */
	enum sm_ops_source source;
	struct sm_add_opts opts;
	/* the caller reports the result's warning: the index warns no second time */
	bool reports_warning;
};

struct sm_ops_add_result {
	struct sm_add_result add; /* status, type, name, path, hash, warning */
	char *collection;
	bool created_default; /* the 'default' collection was created for it */
	bool index_changed;
};
void sm_ops_add_result_release(struct sm_ops_add_result *r);

/*
 * Add one artifact (sm_collection_add_local/_github), commit, index.
 * -EEXIST (same type and name, other content, without force), -EINVAL,
 * -ENOENT, -EACCES, -EIO (a fetch), ...
 */
int sm_ops_add(struct sm_ops_ctx *ctx, const struct sm_ops_add *req,
	       struct sm_ops_add_result *ret, struct strbuf *err);

/* add --all: every artifact found under a folder, one commit. */
struct sm_ops_add_all {
	const char *collection;
	const char *folder;
	struct sm_add_opts opts; /* type and name are set per artifact */
	bool rename;		 /* a clash gets "-<holder>" appended, else it is skipped */
	/* Optional: called before each artifact (warning NULL) and with each
	 * artifact's warning (malformed frontmatter). i of n, rel its path. */
	void (*event)(void *ud, size_t i, size_t n, const char *rel, const char *warning);
	void *event_ud;
};

struct sm_ops_add_item {
	char *name;
	const char *type;
	char *path;  /* relative to the folder */
	char *kept;  /* skipped: the path kept under that name */
	char *error; /* failed: why */
};

struct sm_ops_add_all_result {
	size_t added, replaced, unchanged;
	struct sm_ops_add_item *skipped, *failed;
	size_t nskipped, nfailed;
	char *collection;
	bool created_default;
	bool index_changed;
};
void sm_ops_add_all_result_release(struct sm_ops_add_all_result *r);

/*
 * Scan the folder (sm_scan_folder), then under one lock add each artifact;
 * a name seen before in the run, or in the collection already with other
 * content, is skipped; a failing artifact is listed and the others go on.
 */
int sm_ops_add_all(struct sm_ops_ctx *ctx, const struct sm_ops_add_all *req,
		   struct sm_ops_add_all_result *ret, struct strbuf *err);

/* ---- update a manifest entry (tags, metadata fields) ---- */

struct sm_ops_update {
	const char *collection; /* the artifact's collection */
	const char *id;		/* "type:name" in it */
	struct sm_entry_update change;
	/*
	 * Optional precondition on the artifact's revision as the files are now
	 * (its index row_hash): false is a conflict, nothing written.
	 */
	bool (*precondition)(void *ud, const char *revision);
	void *precondition_ud;
};

struct sm_ops_update_result {
	bool changed;  /* the manifest was rewritten */
	bool conflict; /* the precondition failed */
	char *current_revision; /* with conflict */
};
void sm_ops_update_result_release(struct sm_ops_update_result *r);

/*
 * Apply the change to the entry (sm_entry_updated) and write the manifest
 * when it differs; the index follows either way. -ENOENT, -EINVAL, ...
 */
int sm_ops_update(struct sm_ops_ctx *ctx, const struct sm_ops_update *req,
		  struct sm_ops_update_result *ret, struct strbuf *err);

/* ---- the index: refresh and rebuild ---- */

/*
 * Sync the index with the files: the named file collections (n == 0: all)
 * with sm_sync_flags (SM_SYNC_REFRESH_STALE for a refresh, SM_SYNC_REBUILD
 * for a rebuild of all). Writes only the index, so it takes the in-process
 * writer lock (a server's) but not the home lock. Stats added up in st.
 */
int sm_ops_refresh(struct sm_ops_ctx *ctx, const char *const *names, size_t n, unsigned flags,
		   struct sm_sync_stats *st, struct strbuf *err);

/* ---- file collections ---- */

/* Create collections/<name> (sm_collection_init) under the home lock. */
int sm_ops_collection_init(struct sm_ops_ctx *ctx, const char *name, bool *created,
			   struct strbuf *err);
/* Delete a collection folder under the home lock (the next sync drops its rows). */
int sm_ops_collection_delete(struct sm_ops_ctx *ctx, const char *name, struct strbuf *err);

/* ---- server.json: one server per home ---- */

/* -EBUSY (message names its pid and URL) when a live server other than us holds the home. */
int sm_ops_server_check(struct sm_home *home, struct strbuf *err);
/* Under the lock: check again, then write server.json naming this process and url. */
int sm_ops_server_claim(struct sm_ops_ctx *ctx, const char *url, struct strbuf *err);
/* Remove server.json if it names this process. */
void sm_ops_server_release(struct sm_home *home);

/* ---- config ---- */

/* Set (value non-NULL) or unset a config.toml key under the home lock. */
int sm_ops_config_set(struct sm_ops_ctx *ctx, const char *key, const char *value,
		      struct strbuf *err);

#endif
