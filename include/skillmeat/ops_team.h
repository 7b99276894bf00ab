/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_OPS_TEAM_H
#define SKILLMEAT_OPS_TEAM_H

/*
 * Team-mode operations (docs/team.md): the team store (store_pg.h) is the
 * truth, so an operation validates, builds the row from the uploaded files
 * (metadata as the file reader extracts it, SkillMeat's content hash) and
 * writes it in one transaction of the store.
 */

#include <stdbool.h>
#include <stddef.h>

struct sm_artifact_row;
struct sm_store;
struct strbuf;

struct sm_team_file {
	const char *path;	 /* relative, '/'-separated, no '.' or '..' part */
	const char *content_b64; /* standard base64 */
};

/* POST /api/v1/team/artifacts (API.md "Team mode"). */
struct sm_team_upload {
	const char *type;
	const char *name;
	const struct sm_team_file *files;
	size_t nfiles;
	/* metadata given with the upload: wins over the files' frontmatter; NULL = none */
	const char *title, *description, *author, *license, *version;
	const char *const *tags;
	size_t ntags;
	bool force; /* replace an artifact of that type and name */
};

/*
 * Validate (type, name rules, paths, base64, the metadata file a type needs),
 * build the row and store it with its files; *ret (may be NULL) gets the row
 * as stored. Returns 1 created, 0 replaced (force); -EINVAL bad input (the
 * message names it), -EEXIST a name clash without force.
 */
int sm_ops_team_upload(struct sm_store *st, const struct sm_team_upload *u,
		       struct sm_artifact_row *ret, struct strbuf *err);

/*
 * PUT /artifacts/{id}/metadata in team mode: the fields (skillmeat/edit.h,
 * checked with sm_edit_check) applied to the stored row of (collection,
 * type, name) with optimistic locking: expected (an If-Match value or a bare
 * revision, NULL = none) must name the row's revision (row_hash), checked
 * again by the store's compare-and-set, so of two edits from the same
 * revision — through any instances — exactly one is written and the other
 * is a conflict (ret->conflict, current_revision set). 0 (also on a
 * conflict), -ENOENT, -EINVAL.
 */
struct sm_fm_edit;
struct sm_edit_result;
int sm_ops_team_edit(struct sm_store *st, const char *collection, const char *type,
		     const char *name, const struct sm_fm_edit *fields, const char *expected,
		     struct sm_edit_result *ret, struct strbuf *err);

#endif
