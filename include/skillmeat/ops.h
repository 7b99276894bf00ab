/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_OPS_H
#define SKILLMEAT_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/artifact.h"
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

/* ---- config ---- */

/* Set (value non-NULL) or unset a config.toml key under the home lock. */
int sm_ops_config_set(struct sm_ops_ctx *ctx, const char *key, const char *value,
		      struct strbuf *err);

#endif
