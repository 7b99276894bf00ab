/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_EDIT_H
#define SKILLMEAT_EDIT_H

#include <stdbool.h>

#include "skillmeat/frontmatter.h"

struct sm_ops_ctx;
struct strbuf;

/*
 * Editing an artifact's metadata, file first (src/ops/edit.c), for the CLI
 * verb `edit` and PUT /api/v1/artifacts/{id}/metadata alike.
 *
 * Under the home lock: the artifact's files are re-read and its revision
 * (the row hash the API sends as ETag) compared with the precondition; then
 * the frontmatter of its metadata file is rewritten in place
 * (sm_frontmatter_edit), the manifest entry's tags (when tags are set) and
 * its [artifacts.metadata] copy (re-extracted from the new file) written,
 * the lock's content_hash updated — except for GitHub-sourced artifacts,
 * whose lock keeps the upstream hash so the edit shows as a local
 * modification — and the artifact's row refreshed in one transaction. After
 * the commit every cached answer is invalidated.
 */

#define SM_EDIT_FIELD_MAX 4096 /* bytes of one scalar value */
#define SM_EDIT_TAGS_MAX 100
#define SM_EDIT_TAG_MAX 200

struct sm_edit_request {
	const char *id;		/* "type:name", "collection/type:name" or a unique name */
	const char *collection; /* file collection; NULL: the active one */
	struct sm_fm_edit fields;
	/*
	 * NULL: no precondition. Else an If-Match value ("rev", "\"rev.dbrev\"",
	 * a list, "*") or a bare revision; a mismatch is a conflict.
	 */
	const char *expected_revision;
};

struct sm_edit_result {
	bool conflict;		/* precondition failed: nothing written */
	char *current_revision; /* the revision now (conflict or not) */
	bool changed;		/* a file was written */
	char *collection, *type, *name;
};

void sm_edit_result_release(struct sm_edit_result *r);

/*
 * Check the fields (before any lock): scalars valid UTF-8 of at most
 * SM_EDIT_FIELD_MAX bytes without control characters (description may hold
 * newlines and tabs); tags non-empty, without control characters or
 * surrounding blanks, at most SM_EDIT_TAGS_MAX of SM_EDIT_TAG_MAX bytes;
 * tools known tool names (rewritten in place to their canonical names is
 * the caller's business: see sm_metadata_tool_name). -EINVAL with the field
 * named in err.
 */
int sm_edit_check(const struct sm_fm_edit *fields, struct strbuf *err);

/* Does an If-Match value (or a bare revision) name revision rev? */
bool sm_edit_revision_matches(const char *want, const char *rev);

/*
 * Edit (see above). 0 on success or on a conflict (ret->conflict); errors:
 * -EINVAL bad fields or a type without frontmatter (hooks, MCP servers, ...),
 * -ENOENT no such artifact or no metadata file, -EEXIST an ambiguous id
 * (candidates in err), -EBADMSG the file's frontmatter cannot be edited
 * safely (malformed YAML, an unusual layout), -E2BIG file too large, I/O errors.
 */
int sm_edit_artifact(const struct sm_ops_ctx *ctx, const struct sm_edit_request *req,
		     struct sm_edit_result *ret, struct strbuf *err);

#endif
