/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_OPS_H
#define SKILLMEAT_OPS_H

#include <stdbool.h>

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
	struct sm_home *home;	/* open home (borrowed) */
	struct sm_cache *cache; /* this thread's index connection (borrowed), or NULL */
	sm_ops_invalidate_fn invalidate; /* may be NULL (the CLI) */
	void *invalidate_ud;
	sm_ops_warn_fn warn; /* may be NULL: warnings dropped */
	void *warn_ud;
};

/* A context over home and cache, no callbacks. */
void sm_ops_ctx_init(struct sm_ops_ctx *ctx, struct sm_home *home, struct sm_cache *cache);

/* Run the invalidation callback (after a commit). */
void sm_ops_invalidate(const struct sm_ops_ctx *ctx, const char *scope);
/* Pass a formatted warning to the warning callback. */
void sm_ops_warn(const struct sm_ops_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
