/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_OPS_UPSTREAM_H
#define SKILLMEAT_OPS_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/snapshot.h"

struct strbuf;
struct sm_ops_ctx;

/*
 * update (spec/skillmeat-formats.md §3.4): GitHub-sourced artifacts are
 * fetched again at their version_spec (kept) from the repository and path of
 * their upstream URL; new content replaces the collection copy, manifest
 * entry (upstream, resolved_sha, resolved_version) and lock entry. A
 * locally modified artifact (files differ from the lock) is kept unless
 * overwrite_local. One automatic snapshot before the first fetch. Local
 * artifacts get their lock hash refreshed.
 */
struct sm_ops_upstream_item {
	char *id;
	const char *status; /* no_upstream, up_to_date, local_changes_kept, updated_github,
			       refreshed_local, failed (static) */
	char *error;
	char *resolved_sha; /* after */
	bool changed;	    /* the collection copy, its manifest entry or its lock entry changed */
};

struct sm_ops_upstream_report {
	struct sm_ops_upstream_item *items;
	size_t n, alloc, failed;
	char snapshot_id[SM_SNAPSHOT_ID_MAX];
};
void sm_ops_upstream_report_release(struct sm_ops_upstream_report *r);

int sm_ops_update_upstream(const struct sm_ops_ctx *ctx, const char *collection, const char *const *ids,
		  size_t nids, bool overwrite_local, struct sm_ops_upstream_report *ret,
		  struct strbuf *err);

#endif
