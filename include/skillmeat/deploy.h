/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_DEPLOY_H
#define SKILLMEAT_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skillmeat/artifact.h"
#include "skillmeat/sha256.h"

struct sm_hashmap;

struct strbuf;
struct sm_home;
struct sm_toml_value;

/*
 * Deployments into projects (spec/skillmeat-formats.md §4, §5): profiles,
 * the tracking file `<project>/<root>/.skillmeat-deployed.toml`, and the
 * file side of deploy, undeploy and status. The library never prompts: a
 * caller that may ask the user passes a confirm callback.
 */

/* ---- profiles (§4.3) ---- */

#define SM_PROFILE_ID_MAX 64

struct sm_profile {
	char id[SM_PROFILE_ID_MAX + 1];
	char platform[16];		/* claude_code, codex, gemini, cursor, remote_git, other */
	char root[SM_PROFILE_ID_MAX + 2]; /* ".claude", ".codex", ".<id>" */
};

/*
 * The built-in profile of an id (claude_code when id is NULL). Ids are
 * 1..64 of [A-Za-z0-9_-] (no '/', no "..", no leading dot): -EINVAL otherwise.
 */
int sm_profile_get(const char *id, struct sm_profile *ret, struct strbuf *err);

/*
 * The path of a deployed artifact relative to its profile root:
 * "skills/<name>" for skill and mcp, "<container>/<name>.md" for command,
 * agent and hook. -EINVAL for types deploy does not know (workflow,
 * composite, context types), as the original's "unknown artifact type".
 */
int sm_deploy_rel_path(enum sm_artifact_type type, const char *name, struct strbuf *out,
		       struct strbuf *err);

/* ---- the tracking file (§4.2) ---- */

#define SM_TRACKING_FILE ".skillmeat-deployed.toml"

/* One profile root's tracking file, kept as its TOML tree (unknown keys survive). */
struct sm_tracking {
	char *project;			/* absolute, resolved */
	char *root;			/* ".claude" */
	char *path;			/* project/root/.skillmeat-deployed.toml */
	struct sm_toml_value *doc;	/* root table */
	struct sm_toml_value *deployed; /* borrowed: doc.deployed (array of tables) */
	bool existed;
	bool dirty;
	bool written; /* saved (or removed) by sm_tracking_save since the load */
	/* (type, stem, profile) -> first index + 1, built on first find; NULL: none */
	struct sm_hashmap *index;
	/* a folder of this root deploy found real (no symlink up to the root) in this run */
	char *checked;
};

/*
 * Read one root's tracking file (a missing file is empty). Every record is
 * checked: required keys (§4.2), a known type, and an artifact_path that is
 * relative and has no ".." (a file written by someone else that points
 * outside the project is refused: -EPERM, nothing followed). -EBADMSG for
 * malformed TOML (file and line in err). root must be a profile root
 * (".<id>") and must not be a symlink (-EPERM).
 */
int sm_tracking_load(const char *project, const char *root, struct sm_tracking **ret,
		     struct strbuf *err);
/*
 * Write it when dirty: to a temp file beside it, one syncfs of the project's
 * filesystem (which also makes every artifact staged before it durable),
 * rename, fsync of the folder. With no record left the file is deleted (as
 * the original). The root folder is created if needed. Dirty or not, the
 * temp files of killed writers beside it are removed first: the temp is
 * ".<file>.sm-stage-<pid>", removed when <pid> is gone.
 */
int sm_tracking_save(struct sm_tracking *t, struct strbuf *err);
void sm_tracking_free(struct sm_tracking *t);

size_t sm_tracking_count(const struct sm_tracking *t);
struct sm_toml_value *sm_tracking_at(const struct sm_tracking *t, size_t i);
/*
 * The record of (name, type, profile id): names compared with one trailing
 * .md/.txt/.json/.yaml/.yml stripped, a missing profile id is claude_code.
 * type SM_TYPE_INVALID matches any type. -1 when none.
 */
long sm_tracking_find(const struct sm_tracking *t, const char *name, enum sm_artifact_type type,
		      const char *profile_id);
/* Replace the record at idx (>= 0) or append (idx < 0). Ownership of rec taken. */
int sm_tracking_put(struct sm_tracking *t, long idx, struct sm_toml_value *rec);
int sm_tracking_remove(struct sm_tracking *t, size_t idx);

/*
 * The roots of a project that hold a tracking file: ".claude" first when
 * present, then every other "<project>/.X/.skillmeat-deployed.toml" sorted.
 */
int sm_tracking_roots(const char *project, char ***ret, size_t *count, struct strbuf *err);

/* Record accessors (borrowed; defaults as the original reads them). */
const char *sm_rec_name(const struct sm_toml_value *rec);
enum sm_artifact_type sm_rec_type(const struct sm_toml_value *rec);
const char *sm_rec_path(const struct sm_toml_value *rec);
const char *sm_rec_collection(const struct sm_toml_value *rec);
const char *sm_rec_profile(const struct sm_toml_value *rec); /* claude_code when missing */
const char *sm_rec_deployed_at(const struct sm_toml_value *rec);
/* The baseline: collection_sha, else content_hash. */
const char *sm_rec_hash(const struct sm_toml_value *rec);
bool sm_rec_is_symlink(const struct sm_toml_value *rec);

/*
 * A new record in the original's key order (§4.2): artifact_name,
 * artifact_type, from_collection, deployed_at (local time), artifact_path,
 * content_hash, local_modifications, version_lineage, merge_base_snapshot,
 * deployment_profile_id, platform, profile_root_dir, artifact_uuid (when
 * given), collection_sha; plus deploy_mode = "symlink" for a linked one.
 */
struct sm_toml_value *sm_rec_new(const char *name, enum sm_artifact_type type,
				 const char *collection, const char *rel_path, const char *hash,
				 const struct sm_profile *profile, const char *uuid, bool symlink);

/*
 * The absolute path of a record's artifact, confined to the project:
 * every existing folder between the project and the artifact must be a real
 * folder (a symlink there is refused with -EPERM, never followed); the
 * artifact itself may be a symlink only when the record says so.
 */
int sm_rec_target(const struct sm_tracking *t, const struct sm_toml_value *rec, struct strbuf *out,
		  struct strbuf *err);

/* ---- deploy / undeploy ---- */

/* One artifact to deploy: where its files are in the collection. */
struct sm_deploy_src {
	const char *name;
	enum sm_artifact_type type;
	const char *collection; /* collection name */
	const char *path;	/* absolute path of the collection copy */
	const char *uuid;	/* or NULL */
	const struct stat *st;	/* NULL or: path's lstat, just taken (not a link) */
};

enum sm_deploy_status {
	SM_DEPLOY_DEPLOYED,  /* copied (new) */
	SM_DEPLOY_UPDATED,   /* copied over an outdated or confirmed target */
	SM_DEPLOY_UNCHANGED, /* deployed copy and record already match: nothing copied */
	SM_DEPLOY_FAILED,
};

struct sm_deploy_result {
	enum sm_deploy_status status;
	char *rel_path; /* relative to the profile root */
	char *error;	/* FAILED: why */
	char hash[SM_SHA256_HEX_LEN + 1];
};
void sm_deploy_result_release(struct sm_deploy_result *r);

struct sm_deploy_opts {
	bool overwrite; /* replace untracked or locally modified targets */
	bool symlink;	/* link to the collection copy instead of copying */
	/* Asked before replacing an untracked or modified target (may be NULL: refuse). */
	bool (*confirm)(void *ctx, const char *question);
	void *confirm_ctx;
	struct sm_hashcache *hashes; /* may be NULL */
};

/*
 * Deploy one artifact into t's root (t loaded for profile p). Stages the
 * copy beside the target and renames it into place (an existing folder is
 * swapped atomically), so the artifact is whole or absent at any moment;
 * records it in t (in memory: sm_tracking_save writes it). An artifact
 * whose deployed copy and record match the collection is not copied again.
 * Errors about this artifact go to ret->error with status FAILED and
 * return 0; a negative return is a failure of the whole run.
 */
int sm_deploy_one(struct sm_tracking *t, const struct sm_profile *p,
		  const struct sm_deploy_src *src, const struct sm_deploy_opts *opts,
		  struct sm_deploy_result *ret, struct strbuf *err);

/*
 * Undeploy the record idx of t: remove what it records (a locally modified
 * copy only with force: -EBUSY otherwise) and drop the record (in memory).
 */
int sm_undeploy_one(struct sm_tracking *t, size_t idx, bool force, struct strbuf *err);

/* Remove leftovers of an interrupted run (".<name>.sm-stage-*" entries) under t's root. */
void sm_deploy_cleanup(const struct sm_tracking *t);
/* The same for one folder (".<x>.sm-stage-<pid>", ".sm-old-", ".sm-base-", ".sm-restore-" of dead pids). */
void sm_deploy_cleanup_dir(const char *dir);

/* ---- status (§5, for every type) ---- */

enum sm_dep_state {
	SM_DEP_SYNCED,
	SM_DEP_MODIFIED, /* project copy changed, collection not */
	SM_DEP_OUTDATED, /* collection changed, project copy not */
	SM_DEP_CONFLICT, /* both changed */
	SM_DEP_MISSING,	 /* deployed copy gone */
	SM_DEP_REMOVED,	 /* no longer in the collection */
	SM_DEP_ERROR,	 /* cannot be checked (refused path, unreadable) */
};
const char *sm_dep_state_name(enum sm_dep_state s);

struct sm_dep_status {
	char *name;
	enum sm_artifact_type type;
	char *collection;
	char *profile_id;
	char *root;
	char *rel_path;
	char *deployed_at;
	char *error;	     /* SM_DEP_ERROR */
	char baseline[SM_SHA256_HEX_LEN + 1];
	char project_hash[SM_SHA256_HEX_LEN + 1];    /* "" when missing */
	char collection_hash[SM_SHA256_HEX_LEN + 1]; /* "" when removed */
	enum sm_dep_state state;
	bool symlink;
};

struct sm_dep_status_list {
	struct sm_dep_status *items;
	size_t len;
};
void sm_dep_status_list_release(struct sm_dep_status_list *l);
/*
 * The collection side of s learnt elsewhere (a team server's content hash for
 * a deploy --from-team record, which sm_deploy_status takes as the baseline;
 * NULL: gone there): its state decided again as sm_deploy_status decides it
 * (a missing or unreadable project copy stays so).
 */
void sm_dep_status_set_collection_hash(struct sm_dep_status *s, const char *hash);

/*
 * The from_collection of a deployment from a team server (deploy --from-team):
 * "team:<URL>". Its collection side is not asked (status reads no network):
 * taken as the baseline, so the state tells whether the project copy changed.
 */
#define SM_DEPLOY_TEAM_PREFIX "team:"

/*
 * The state of every deployment of a project (every root, or only profile
 * when non-NULL), comparing the deployed copy and the collection copy
 * (resolved in home by the record's from_collection) with the baseline.
 * Reads only.
 */
int sm_deploy_status(struct sm_home *home, const char *project, const char *profile,
		     struct sm_dep_status_list *ret, struct strbuf *err);

/* Copy an artifact's file or folder as deploy does (§1.6 ignore list); dst must not exist. */
int sm_deploy_copy(const char *src, const char *dst, struct strbuf *err);

/* The hash the deployed copy of the collection copy at path would have (§1.6 ignore list). */
int sm_deploy_source_hash(const char *path, char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err);

/* ---- a cache of content hashes by stat records (<home>/cache/deploy-hashes.bin) ---- */

struct sm_hashcache;
struct stat;
/* A missing or malformed cache file is an empty cache. */
int sm_hashcache_open(const struct sm_home *home, struct sm_hashcache **ret, struct strbuf *err);
/* Write it (atomically) when something was added. */
int sm_hashcache_save(struct sm_hashcache *hc, struct strbuf *err);
void sm_hashcache_free(struct sm_hashcache *hc);
/*
 * The content hash of path (as_deployed: the hash its deployed copy would
 * have, sm_deploy_source_hash; else sm_content_hash), from the cache when
 * a stat of the folder, every folder and every file below finds mode,
 * inode, size, mtime and ctime as when it was computed, and none of those
 * ctimes was as new as the clock then (racy: read again, as git does).
 * hc NULL: computed every time.
 */
int sm_hashcache_hash(struct sm_hashcache *hc, const char *path, bool as_deployed,
		      char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err);
/*
 * The same, with top (when not NULL and not a link) the caller's own stat of
 * path just before: path itself is not stat'ed again to check its record.
 */
int sm_hashcache_hash_st(struct sm_hashcache *hc, const char *path, const struct stat *top,
			 bool as_deployed, char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err);

/*
 * The hash recorded for path and its records as they were taken, when they
 * are trusted (not racy), without stat'ing anything: 0, -ENOENT when there is
 * none. The caller compares the records with stats of its own (a copy's).
 */
int sm_hashcache_known(struct sm_hashcache *hc, const char *path, bool as_deployed,
		       char hex[SM_SHA256_HEX_LEN + 1], const void **records, size_t *len);

/* Record hex as the hash of path as it is now (after writing it ourselves). */
int sm_hashcache_note(struct sm_hashcache *hc, const char *path, bool as_deployed,
		      const char hex[SM_SHA256_HEX_LEN + 1]);

/*
 * The same with records gathered by the caller (sm_hashcache_fp_add for
 * path itself as "" and each folder and file below by relative path),
 * stat'ed after the clock read sm_hashcache_clock() returned as taken.
 */
int sm_hashcache_note_fp(struct sm_hashcache *hc, const char *path, bool as_deployed,
			 const char hex[SM_SHA256_HEX_LEN + 1], const struct strbuf *fp,
			 int64_t taken);
int sm_hashcache_fp_add(struct strbuf *fp, const char *rel, const struct stat *st);
/*
 * Do records a and b hold the same records (names and stats), in any order
 * (a folder walk's order and a copy's sorted one differ)?
 */
bool sm_hashcache_fp_same(const void *a, size_t alen, const void *b, size_t blen);
/* The clock file timestamps come from (coarse realtime), in nanoseconds. */
int64_t sm_hashcache_clock(void);

/* ---- the home's registry of projects deployed to (projects.toml) ---- */

/*
 * `<home>/projects.toml`: `[[projects]]` with `path` (absolute) and `updated`
 * (UTC ISO). sm_projects_note adds project (has_deployments) or drops it,
 * writing the file atomically only when it changes; the caller holds the
 * home lock. sm_projects_list returns the paths in file order.
 */
int sm_projects_note(struct sm_home *home, const char *project, bool has_deployments,
		     struct strbuf *err);
int sm_projects_list(const struct sm_home *home, char ***ret, size_t *count, struct strbuf *err);

#endif
