/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_COLLECTION_H
#define SKILLMEAT_COLLECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/array.h" /* sm_strv_free */
#include "skillmeat/artifact.h"
#include "skillmeat/metadata.h"
#include "skillmeat/sha256.h"

struct strbuf;
struct sm_home;
struct sm_manifest;
struct sm_lock;
struct sm_toml_value;
struct sm_txn;

/*
 * File collections (spec/skillmeat-formats.md §1.3-1.6, §3): the source of
 * truth. Every function that writes expects the caller to hold the home lock
 * (sm_home_lock) from before sm_collection_open until after the commit, so
 * two processes never interleave writes.
 */

/*
 * Create collections/<name> as the original's init (§1.3): folders, an empty
 * manifest and lock; name "default" also sets settings.default-collection.
 * An existing collection folder is left untouched: *created = false, success.
 */
int sm_collection_init(struct sm_home *home, const char *name, bool *created, struct strbuf *err);
bool sm_collection_exists(const struct sm_home *home, const char *name);
/* Sorted names of the collections (folders holding a collection.toml). */
int sm_collection_names(const struct sm_home *home, char ***ret, size_t *count,
			struct strbuf *err);
/* Delete a collection folder. -EBUSY when it is the active one, -ENOENT if missing. */
int sm_collection_delete(struct sm_home *home, const char *name, struct strbuf *err);

/* An open collection: its manifest and lock, loaded at open. */
struct sm_collection {
	struct sm_home *home; /* borrowed */
	char *name;
	char *dir;
	struct sm_manifest *manifest;
	struct sm_lock *lock;
	bool dirty; /* manifest or lock changed since open */
	struct sm_txn *txn; /* internal: file moves done at commit (core/txn.h) */
};

/*
 * name NULL → the active collection. -ENOENT "collection 'x' does not exist".
 * When the caller holds the home lock (every write), an interrupted earlier
 * write is finished or undone first and the leftovers of dead writers are
 * removed (core/txn.h); without the lock (a read) nothing is changed, and a
 * committed but unfinished write is read from its staged files.
 */
int sm_collection_open(struct sm_home *home, const char *name, struct sm_collection **ret,
		       struct strbuf *err);
void sm_collection_free(struct sm_collection *c);
/*
 * Commit when dirty: one syncfs of the home's filesystem (so the staged
 * copies are durable before the manifest names them), then the manifest, the
 * lock and the file moves of this write as one crash-safe step (core/txn.h):
 * a crash at any point leaves the old or the new state.
 */
int sm_collection_commit(struct sm_collection *c, struct strbuf *err);
/*
 * The same, with the home's user-collections.toml (uc as it is now, e.g.
 * without the memberships of a removed artifact) written in the same
 * crash-safe step. uc NULL: as sm_collection_commit.
 */
struct sm_user_collections;
int sm_collection_commit_with(struct sm_collection *c, struct sm_user_collections *uc,
			      struct strbuf *err);

/* Detect the type of a local source (§1.6 detection registry). */
enum sm_artifact_type sm_detect_type(const char *path);

struct sm_add_opts {
	enum sm_artifact_type type; /* SM_TYPE_INVALID: detect */
	const char *name;	    /* NULL: derived from the source (§3.1) */
	const char *const *tags;    /* user tags, merged before frontmatter tags */
	size_t ntags;
	bool force; /* replace an existing artifact of the same type and name */
};

enum sm_add_status {
	SM_ADD_ADDED,
	SM_ADD_REPLACED,
	SM_ADD_UNCHANGED, /* same content hash as the collection copy: nothing written */
};

struct sm_add_result {
	enum sm_add_status status;
	enum sm_artifact_type type;
	char *name;
	char *path;	/* relative, as in the manifest */
	char *warning;	/* malformed frontmatter etc., or NULL */
	char hash[SM_SHA256_HEX_LEN + 1];
};
void sm_add_result_release(struct sm_add_result *r);

/*
 * Copy a local file or folder into the collection (skip list of §1.6,
 * symlinks followed only while they stay inside the source), extract its
 * metadata, and add or replace its manifest and lock entries in memory
 * (sm_collection_commit writes them). The copy is staged beside its
 * destination and moved into place by the commit. An existing (type, name)
 * with the same content hash is UNCHANGED (a missing lock entry is written
 * again); with another hash it is -EEXIST unless force. On failure nothing is
 * left in the collection.
 */
int sm_collection_add_local(struct sm_collection *c, const char *src,
			    const struct sm_add_opts *opts, struct sm_add_result *ret,
			    struct strbuf *err);

/*
 * Add from GitHub (§3.2-3.3): fetch spec with libgit2, then as add_local with
 * origin github, upstream, version_spec, resolved_sha, resolved_version.
 */
int sm_collection_add_github(struct sm_collection *c, const char *spec,
			     const struct sm_add_opts *opts, struct sm_add_result *ret,
			     struct strbuf *err);

/* One artifact found under a folder by sm_scan_folder. */
struct sm_found {
	char *path; /* absolute */
	char *rel;  /* relative to the scanned folder */
	enum sm_artifact_type type;
	char *name;	/* derived name */
	char *holder;	/* name of the folder holding the type folder, or NULL */
};

/*
 * Find every artifact under dir in sorted path order: a folder holding
 * SKILL.md is one skill (not searched further); .md files directly inside
 * agents-like and commands-like folders (detection registry aliases) are
 * agents and commands. Hidden entries and the §1.6 skip list are ignored.
 */
int sm_scan_folder(const char *dir, struct sm_found **ret, size_t *count, struct strbuf *err);
void sm_found_free(struct sm_found *v, size_t n);

/*
 * Where the files of an artifact whose manifest path is rel lie, for a
 * collection folder dir, into out (replacing its content). rel is relative to
 * dir, or absolute inside it (the original's marketplace imports write those).
 * Refused with -EINVAL when it leads outside dir: an absolute path elsewhere,
 * a ".." component, or symlinks resolving outside (sm_fs_safe_join); -ENOENT
 * when rel is NULL or empty. Every reader and writer of an artifact's files
 * goes through it: the manifest is input.
 */
int sm_artifact_files_path(const char *dir, const char *rel, struct strbuf *out,
			   struct strbuf *err);
/* The same for manifest entry e of collection c. */
int sm_collection_entry_path(const struct sm_collection *c, const struct sm_toml_value *e,
			     struct strbuf *out, struct strbuf *err);
/* The same, with the lstat its check took of the path (sm_fs_safe_join_st). */
struct stat;
int sm_collection_entry_path_st(const struct sm_collection *c, const struct sm_toml_value *e,
				struct strbuf *out, struct stat *st, bool *have,
				struct strbuf *err);

/*
 * Replace the file path (absolute: artifact idx's own file, or a file inside
 * its folder) by data at commit: the artifact is staged as a copy sharing
 * its other files (sm_fs_link_tree) with the new file written into it, and
 * moved into place by the commit with the manifest and the lock, as a forced
 * replace; until then the collection is unchanged. hash: the content hash of
 * the artifact as the commit leaves it.
 */
int sm_collection_stage_file(struct sm_collection *c, size_t idx, const char *path,
			     const void *data, size_t len, char hash[SM_SHA256_HEX_LEN + 1],
			     struct strbuf *err);

/*
 * Replace the files of artifact idx at commit by a tree fill writes, the
 * general form of sm_collection_stage_file (sync-pull's pulled copies): fill
 * creates staged (absolute, absent) from cur, the artifact as this write holds
 * it so far (a copy an earlier step staged, else the collection copy; it may
 * be missing). The staged tree is moved into place by the commit with the
 * manifest and the lock, as a forced replace; until then the collection is
 * unchanged, and a failure or a crash leaves nothing of it once recovered.
 * hash: the content hash of the staged tree (the lock's, after the commit).
 */
int sm_collection_stage_tree(struct sm_collection *c, size_t idx,
			     int (*fill)(const char *cur, const char *staged, void *arg,
					 struct strbuf *err),
			     void *arg, char hash[SM_SHA256_HEX_LEN + 1], struct strbuf *err);

/*
 * Remove an artifact: manifest entry and lock entry in memory; its files are
 * set aside at commit, together with the manifest, and deleted after it.
 */
int sm_collection_remove(struct sm_collection *c, size_t idx, bool keep_files,
			 struct strbuf *err);

/*
 * Resolve an id: "type:name", "collection/type:name" (collection must match),
 * or a unique name. Returns the index; -ENOENT when missing; -EINVAL for a
 * malformed id; ambiguous → -EEXIST with the candidates in err.
 */
long sm_collection_resolve(const struct sm_collection *c, const char *id, struct strbuf *err);

/* An artifact as list/show present it: manifest facts plus its files now. */
struct sm_view {
	const struct sm_toml_value *entry; /* borrowed from the manifest */
	enum sm_artifact_type type;
	const char *name;		   /* borrowed */
	struct sm_metadata meta;	   /* from the files */
	struct sm_toml_value *tags;	   /* manifest tags ∪ frontmatter tags */
	bool have_hash;			   /* false when the files are gone */
	char hash[SM_SHA256_HEX_LEN + 1];
	bool locally_modified; /* hash differs from the lock's */
	char *abs_path;
	char *error; /* why the files could not be read, or NULL */
};

int sm_view_load(const struct sm_collection *c, size_t idx, struct sm_view *ret,
		 struct strbuf *err);
void sm_view_release(struct sm_view *v);

#endif
