/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_OPS_SYNC_H
#define SKILLMEAT_OPS_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/snapshot.h"

struct strbuf;
struct sm_ops_ctx;

/*
 * sync-pull (spec/skillmeat-formats.md §5.3) and snapshots (§1.7) as
 * operations: home lock → automatic snapshot → collection files → manifest,
 * lock and tracking files → the cache (ctx->cache) → invalidation.
 */

enum sm_sync_strategy { SM_SYNC_OVERWRITE, SM_SYNC_MERGE, SM_SYNC_FORK };
/* "overwrite", "merge", "fork"; -EINVAL otherwise. */
int sm_sync_strategy_parse(const char *s, enum sm_sync_strategy *ret);

struct sm_ops_sync_req {
	const char *project;
	enum sm_sync_strategy strategy;
	bool dry_run;
	const char *const *artifacts; /* names to limit to (NULL/0: all) */
	size_t nartifacts;
	const char *collection; /* only deployments from it (NULL: all) */
};

struct sm_sync_conflict {
	char *artifact_name;
	char *error;
	char **files;
	size_t nfiles;
};

struct sm_ops_sync_report {
	const char *status; /* "success", "partial", "no_changes", "dry_run" (static) */
	char *project;
	char **synced; /* ids type:name pulled (or that would be, dry run) */
	size_t nsynced, synced_alloc;
	struct sm_sync_conflict *conflicts;
	size_t nconflicts;
	char snapshot_id[SM_SNAPSHOT_ID_MAX]; /* the automatic snapshot, or "" */
};
void sm_ops_sync_report_release(struct sm_ops_sync_report *r);

/*
 * Pull the project's changes (deployments whose project copy differs from
 * the record's baseline: modified or conflict) into the collection.
 * overwrite: the project copy replaces the collection copy; merge: three-way
 * per file against the snapshot copy whose hash is the record's
 * merge_base_snapshot (else the collection copy), conflicts marked in the
 * collection copy; fork: the project copy is added as "<name>-fork". The
 * lock hash and the record's baseline follow (the original leaves both
 * stale). One automatic snapshot of each changed collection first.
 */
int sm_ops_sync_pull(const struct sm_ops_ctx *ctx, const struct sm_ops_sync_req *req,
		     struct sm_ops_sync_report *ret, struct strbuf *err);

/* A manual snapshot of collection (NULL: the active one). */
int sm_ops_snapshot(const struct sm_ops_ctx *ctx, const char *collection, const char *message,
		    char ret_id[SM_SNAPSHOT_ID_MAX], struct strbuf *err);

/*
 * Roll collection back to snapshot id: an automatic safety snapshot first
 * (its id in ret_safety), the restore, an audit entry in
 * <home>/audit/<collection>_rollback_audit.toml, the cache.
 */
int sm_ops_rollback(const struct sm_ops_ctx *ctx, const char *collection, const char *id,
		    char ret_safety[SM_SNAPSHOT_ID_MAX], struct strbuf *err);

/* config snapshot.keep (default 20). */
long sm_ops_snapshot_keep(const struct sm_ops_ctx *ctx);

#endif
