/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_MANIFEST_H
#define SKILLMEAT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/artifact.h"

struct strbuf;
struct sm_toml_value;
struct sm_hashmap;

/*
 * collection.toml (spec/skillmeat-formats.md §1.4) and collection.lock (§1.5).
 * Both are kept as TOML trees, so keys we do not know survive a rewrite.
 * Writes are atomic (temp file, fsync, rename, fsync dir); callers hold the
 * home lock.
 */
struct sm_manifest {
	char *path;			 /* .../collection.toml */
	struct sm_toml_value *doc;	 /* the whole document */
	struct sm_toml_value *artifacts; /* borrowed: doc.artifacts (an array of tables) */
	struct sm_hashmap *index;	 /* internal: (type, name) → position, built on demand */
	/* internal: entries not understood (held aside, written back in place) */
	struct sm_toml_value *held;	 /* array of them, or NULL */
	size_t *held_at;		 /* understood entries before each */
	size_t held_alloc;
};

/* Write flags. */
enum {
	SM_WRITE_NOSYNC = 1 << 0,     /* no fsync: the caller syncs the filesystem itself */
	SM_WRITE_KEEP_STAMP = 1 << 1, /* leave collection.updated as it is */
};

/*
 * Load and validate: [collection] with a string name and an 'artifacts'
 * array. -ENOENT when missing; -EBADMSG with the file (and line for TOML
 * errors) in err. An artifact the readers cannot understand (not a table with
 * string name, type (a known type), path, origin (local, github, marketplace)
 * and added; a name breaking the name rules; a second (type, name)) is held
 * aside with a warning: sm_manifest_count/_at/_find never show it, and
 * sm_manifest_save writes it back where it was.
 */
int sm_manifest_load(const char *path, struct sm_manifest **ret, struct strbuf *err);
/* A new, empty manifest for collection name (not written). */
int sm_manifest_new(const char *path, const char *name, struct sm_manifest **ret,
		    struct strbuf *err);
/* Set collection.updated to now (UTC) unless SM_WRITE_KEEP_STAMP, and write atomically. */
int sm_manifest_save(struct sm_manifest *m, int flags, struct strbuf *err);
/* As sm_manifest_save, to another path (a staged next version); m->path is kept. */
int sm_manifest_save_as(struct sm_manifest *m, const char *path, int flags, struct strbuf *err);
void sm_manifest_free(struct sm_manifest *m);

const char *sm_manifest_name(const struct sm_manifest *m);
size_t sm_manifest_count(const struct sm_manifest *m);
struct sm_toml_value *sm_manifest_at(const struct sm_manifest *m, size_t i);
/* Index of the artifact (type, name), or -1. */
long sm_manifest_find(const struct sm_manifest *m, enum sm_artifact_type type, const char *name);
/*
 * Find by name only (the original's find_artifact: one trailing
 * .md/.txt/.json/.yaml/.yml is ignored on both sides). Returns the number of
 * matches; idx gets up to max of their indexes.
 */
size_t sm_manifest_find_name(const struct sm_manifest *m, const char *name, long *idx, size_t max);
/* Append an entry (ownership taken). -EEXIST if (type, name) is present. */
int sm_manifest_append(struct sm_manifest *m, struct sm_toml_value *entry, struct strbuf *err);
/* Replace entry i (ownership taken), keeping its position. */
int sm_manifest_replace(struct sm_manifest *m, size_t i, struct sm_toml_value *entry);
int sm_manifest_remove(struct sm_manifest *m, size_t i);

/* Entry accessors (borrowed; NULL when unset). */
const char *sm_entry_name(const struct sm_toml_value *e);
enum sm_artifact_type sm_entry_type(const struct sm_toml_value *e);
const char *sm_entry_str(const struct sm_toml_value *e, const char *key);

struct sm_lock {
	char *path;
	struct sm_toml_value *doc;
	struct sm_toml_value *entries; /* borrowed: doc.lock.entries */
};

/* A missing file reads as empty. -EBADMSG on a malformed file. */
int sm_lock_load(const char *path, struct sm_lock **ret, struct strbuf *err);
int sm_lock_save(struct sm_lock *l, int flags, struct strbuf *err);
int sm_lock_save_as(struct sm_lock *l, const char *path, int flags, struct strbuf *err);
void sm_lock_free(struct sm_lock *l);
/* The entry table of "<name>::<type>", or NULL. */
struct sm_toml_value *sm_lock_get(const struct sm_lock *l, const char *name,
				  enum sm_artifact_type type);
/* content_hash of the entry, or NULL. */
const char *sm_lock_hash(const struct sm_lock *l, const char *name, enum sm_artifact_type type);
/*
 * Write the entry: content_hash, fetched (now, UTC), then upstream,
 * resolved_sha, resolved_version when non-NULL. Replaces an existing one in place.
 */
int sm_lock_set(struct sm_lock *l, const char *name, enum sm_artifact_type type,
		const char *content_hash, const char *upstream, const char *resolved_sha,
		const char *resolved_version);
/* -ENOENT when absent. */
int sm_lock_remove(struct sm_lock *l, const char *name, enum sm_artifact_type type);

/*
 * A change to one manifest entry (PUT /artifacts/{id}): the user tags
 * (replaced when have_tags; an empty list removes the key) and the
 * [artifacts.metadata] fields the original's ArtifactUpdateRequest sets.
 */
#define SM_ENTRY_NMETA 4
extern const char *const sm_entry_meta_keys[SM_ENTRY_NMETA]; /* title description author license */
enum sm_entry_meta_op { SM_ENTRY_KEEP, SM_ENTRY_SET, SM_ENTRY_REMOVE };
struct sm_entry_update {
	bool have_tags;
	const char *const *tags;
	size_t ntags;
	enum sm_entry_meta_op meta_op[SM_ENTRY_NMETA];
	const char *meta_val[SM_ENTRY_NMETA]; /* SM_ENTRY_SET */
};
/*
 * The entry old with the update applied, as a new table in the key order
 * SkillMeat writes (a new "tags" goes before origin_source, target_platforms,
 * import_id, uuid; empty tags and metadata are not written). NULL on ENOMEM.
 */
struct sm_toml_value *sm_entry_updated(const struct sm_toml_value *old,
				       const struct sm_entry_update *u);

#endif
