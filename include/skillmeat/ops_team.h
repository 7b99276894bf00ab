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

/* Limits on an artifact's files (a team server's archive, a GitHub fetch). */
#define SM_TEAM_MAX_FILES 10000
#define SM_TEAM_MAX_BYTES ((size_t)64 << 20)

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
	/* the content hash the sender computed: a mismatch is refused (-EINVAL); NULL = none */
	const char *content_hash;
	/*
	 * Where it came from (sm_ops_team_add_github): origin NULL = "team" with
	 * source "type:name"; else the row's origin, source, upstream,
	 * version_spec, resolved_sha and resolved_version (each may be NULL),
	 * and tags are added to the frontmatter's (as the personal add shows
	 * them) rather than replacing them.
	 */
	const char *origin, *source, *upstream, *version_spec, *resolved_sha, *resolved_version;
};

/*
 * The order of an artifact's file paths in its content hash (sm_fs_walk's:
 * component by component, bytes), as strcmp.
 */
int sm_team_path_cmp(const char *a, const char *b);

/*
 * Validate (type, name rules, paths, base64, the metadata file a type needs),
 * build the row and store it with its files; *ret (may be NULL) gets the row
 * as stored. Returns 1 created, 0 replaced (force); -EINVAL bad input (the
 * message names it), -EEXIST a name clash without force.
 */
int sm_ops_team_upload(struct sm_store *st, const struct sm_team_upload *u,
		       struct sm_artifact_row *ret, struct strbuf *err);

/* POST /artifacts from GitHub in team mode. */
struct sm_team_github {
	const char *spec; /* owner/repo[/path][@version] or a github.com URL */
	const char *type; /* the artifact type's name */
	const char *name; /* NULL: the stem of the path's last part, or the repository */
	const char *const *tags;
	size_t ntags;
	bool force;
};

/*
 * Fetch spec as the personal add does (sm_github_spec_parse, sm_git_fetch with
 * home's github.api-url and github token: settings.github-token,
 * SKILLMEAT_GITHUB_TOKEN, GITHUB_TOKEN; home may be NULL), read the files
 * (at most SM_TEAM_MAX_FILES files, SM_TEAM_MAX_BYTES bytes) and store them
 * as sm_ops_team_upload does, the row's origin "github", its source the
 * upstream URL at the resolved commit, version_spec, resolved_sha and
 * resolved_version set. The same returns as sm_ops_team_upload, and the
 * fetch's: -EINVAL a bad spec, -ENOENT repository, version or path not
 * found, -EACCES, -EIO, -E2BIG. Nothing is stored on an error.
 */
struct sm_home;
int sm_ops_team_add_github(struct sm_store *st, const struct sm_home *home,
			   const struct sm_team_github *req, struct sm_artifact_row *ret,
			   struct strbuf *err);

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
/*
 * The same, also writing the fields into the frontmatter of the stored
 * metadata file (SKILL.md, a command's or an agent's .md) as SQLite mode's
 * PUT /metadata does to the file, with the row's content hash made the
 * files' again, all in one transaction holding the tenant's lock (the row
 * alone: PUT /artifacts/{id}, as sm_ops_update). -EBADMSG when that
 * frontmatter cannot be edited (nothing written).
 */
int sm_ops_team_edit_metadata(struct sm_store *st, const char *collection, const char *type,
			      const char *name, const struct sm_fm_edit *fields,
			      const char *expected, struct sm_edit_result *ret, struct strbuf *err);

/* ---- the personal side: team push, team pull, deploy --from-team ---- */

#include "skillmeat/artifact.h"
#include "skillmeat/sha256.h"

struct sm_archive_file;
struct sm_ops_ctx;
struct sm_ops_add_result;

/* Limits on what a team server may send (an archive's files). */

/*
 * The content hash of files as SkillMeat computes it for the artifact they
 * make (sm_content_hash: a one-file artifact its bytes, else each path then
 * bytes in sm_team_path_cmp order).
 */
int sm_team_files_hash(enum sm_artifact_type type, const struct sm_archive_file *files, size_t n,
		       char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err);

/* An artifact of the personal home as read for `team push`. */
struct sm_team_local {
	char *type, *name, *collection;
	struct sm_archive_file *files; /* paths relative to the artifact, walk order */
	size_t nfiles;
	char hash[SM_SHA256_HEX_LEN + 1];      /* of the files read */
	char lock_hash[SM_SHA256_HEX_LEN + 1]; /* the lock's, "" when none */
	char **tags; /* the manifest's user tags */
	size_t ntags;
	/* as the personal home shows it (sm_view_load): SM_TEAM_META_KEYS, NULL when unset */
	char *meta[5];
	char **shown_tags; /* the manifest's tags and the frontmatter's */
	size_t nshown;
};
/* The keys of sm_team_local.meta, as an upload's metadata names them. */
#define SM_TEAM_META_KEYS {"title", "description", "author", "license", "version"}
void sm_team_local_release(struct sm_team_local *l);

/*
 * Read artifact id (sm_collection_resolve syntax) of collection (NULL: the
 * active one) from the files, without the lock (a read): its files (at most
 * max_total bytes, else -E2BIG), their hash, the lock's hash, tags, and the
 * metadata and tags the home shows for it (the manifest's with the files').
 */
int sm_ops_team_read(const struct sm_ops_ctx *ctx, const char *collection, const char *id,
		     size_t max_total, struct sm_team_local *ret, struct strbuf *err);

/* An artifact's archive as a team server answered it (hostile input). */
struct sm_team_fetched {
	const char *type, *name;
	const void *data; /* tar.gz */
	size_t len;
	const char *expected_hash; /* the server's X-Content-Hash */
};

/*
 * Check the archive (sm_archive_unpack: regular files with confined paths,
 * SM_TEAM_MAX_FILES / SM_TEAM_MAX_BYTES) and its content hash against the
 * expected one, then write its files under dir (a one-file artifact as
 * dir/<its file>, else dir/<name>/…), whose path goes to src. -EBADMSG
 * (refused: the message says why), -E2BIG; nothing is written on refusal.
 */
int sm_ops_team_stage(const struct sm_team_fetched *f, const char *dir, struct strbuf *src,
		      struct strbuf *err);
/* A new private staging folder under $TMPDIR (or /tmp), its path appended to out. */
int sm_ops_team_tmpdir(struct strbuf *out, struct strbuf *err);

struct sm_ops_team_pull {
	const char *collection; /* NULL: the active one */
	struct sm_team_fetched fetched;
	const char *const *tags; /* user tags for the new entry */
	size_t ntags;
	bool force;
};

/*
 * team pull: the archive staged and checked (sm_ops_team_stage), then added
 * to the personal home as a local artifact (sm_ops_add: lock, commit, index),
 * so its lock hash is the team's content hash. The staging folder is removed.
 */
int sm_ops_team_pull(struct sm_ops_ctx *ctx, const struct sm_ops_team_pull *req,
		     struct sm_ops_add_result *ret, struct strbuf *err);

/* deploy --from-team: the fetched archives deployed into a project. */
#include "skillmeat/ops_deploy.h"

struct sm_ops_team_deploy {
	const char *url; /* the team server, recorded as from_collection "team:<url>" */
	const struct sm_team_fetched *fetched;
	size_t n;
	struct sm_ops_deploy_req deploy; /* project, profiles, opts (ids, collection set here) */
};

/*
 * Every archive checked and added to a staging home of its own under
 * $TMPDIR (sm_ops_team_pull: a refused one deploys nothing), then
 * sm_ops_deploy from it into the project with the records' from_collection
 * "team:<url>" (status does not ask the team server: SM_DEPLOY_TEAM_PREFIX);
 * the staging home is removed. ctx (the personal home) gives the warning
 * callback only: the personal home is not read or written.
 */
int sm_ops_deploy_from_team(const struct sm_ops_ctx *ctx, const struct sm_ops_team_deploy *req,
			    struct sm_ops_deploy_report *ret, struct strbuf *err);

#endif
