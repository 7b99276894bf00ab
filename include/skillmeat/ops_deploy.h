/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_OPS_DEPLOY_H
#define SKILLMEAT_OPS_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/deploy.h"

struct strbuf;
struct sm_ops_ctx;

/*
 * Deploy, undeploy and status as operations, once for the CLI and the API:
 * each takes the home lock, reads each tracking file once, writes the
 * project's files (staged, renamed), writes each tracking file once
 * (atomically, after one syncfs), then the home's projects.toml registry,
 * then the ops context's invalidation callback (every scope: artifact
 * answers carry their deployments).
 */

struct sm_ops_deploy_req {
	const char *project;	/* NULL: the current directory; must be an existing folder */
	const char *collection; /* NULL: the active collection */
	const char *const *ids; /* type:name or unique names */
	size_t nids;
	bool all;			     /* every artifact of the collection */
	const char *const *profiles; /* NULL/0: claude_code */
	size_t nprofiles;
	bool all_profiles; /* every profile whose root exists in the project (else claude_code) */
	struct sm_deploy_opts opts;
	/* recorded as the deployments' from_collection instead of the collection's name
	 * (deploy --from-team: SM_DEPLOY_TEAM_PREFIX "URL"); NULL: the name */
	const char *record_collection;
};

struct sm_ops_deploy_item {
	char *id; /* type:name, or the id as given when it was not found */
	char *profile_id;
	struct sm_deploy_result res;
};

struct sm_ops_deploy_report {
	char *project;	  /* resolved */
	char *collection; /* the collection deployed from */
	struct sm_ops_deploy_item *items;
	size_t n;
	size_t failed;
};
void sm_ops_deploy_report_release(struct sm_ops_deploy_report *r);

/* Per-artifact failures are FAILED items (return 0); negative: nothing or part written. */
int sm_ops_deploy(struct sm_ops_ctx *ctx, const struct sm_ops_deploy_req *req,
		  struct sm_ops_deploy_report *ret, struct strbuf *err);

struct sm_ops_undeploy_req {
	const char *project;
	const char *const *ids; /* name or type:name */
	size_t nids;
	const char *profile; /* NULL: every profile the name is deployed to */
	bool force;	     /* also a locally modified copy */
};

/* items: removed ones have status DEPLOYED (= done), failures FAILED. */
int sm_ops_undeploy(struct sm_ops_ctx *ctx, const struct sm_ops_undeploy_req *req,
		    struct sm_ops_deploy_report *ret, struct strbuf *err);

/* Resolve a project argument (NULL: cwd) to an absolute existing folder. */
int sm_ops_project_path(const char *project, char **ret, struct strbuf *err);

#endif
