/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_USER_COLLECTIONS_H
#define SKILLMEAT_USER_COLLECTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;
struct sm_home;
struct sm_toml_value;

/*
 * User collections (ARCHITECTURE.md §2, §4): named sets of artifacts across
 * file collections, persisted in SKILLMEAT_HOME/user-collections.toml (ours,
 * the truth; cache/metadata.db only indexes it):
 *
 *   [[collections]]
 *   id = "9f1c0e6a4b2d4c58a7e3b1f0d2c4e6a8"   # 32 lowercase hex, random
 *   name = "Frontend"                         # unique, case-sensitive
 *   description = "UI work"                   # optional
 *   collection_type = "artifacts"             # optional
 *   context_category = "web"                  # optional
 *   created_at = "2026-11-22T05:40:00.123456" # ISO (timeutil.h)
 *   updated_at = "2026-11-22T05:41:10.654321"
 *   members = [                               # optional
 *       "skill:canvas",                       # type:name
 *       "work/agent:reviewer",                # collection/type:name when the
 *   ]                                         # type:name is in several collections
 *
 * The `default` collection (id "default", name "Default Collection") is
 * implicit: it is never written to the file, and the file may not use its id
 * or name. Keys this module does not know (at the top or in an entry) survive
 * a rewrite: the whole TOML tree is kept and edited in place.
 *
 * An entry we cannot understand (a hand edit, another writer) degrades only
 * itself: one warning names it (sm_log_warn, once per process for the same
 * problem) and it is left out of the view but kept in the tree, so a save
 * writes it back where it was. An entry is left out when it is not a table,
 * its id is missing or not 32 lowercase hex digits, its name is missing or
 * breaks the name rules, or an earlier entry has its id or name; an optional
 * field that is not a valid string (a timestamp not ISO) reads as absent; a
 * member that is not a string or not a well-formed key is not listed; a
 * 'members' that is not an array lists none. Writes that could only drop such
 * an entry are refused with -EBADMSG naming it (adding a collection when
 * 'collections' is not an array, adding members when 'members' is not one);
 * a name held by an entry left out is taken (-EEXIST).
 *
 * Writers hold the home lock (sm_home_lock) from load to save. Nothing here
 * touches the cache; callers re-sync it after a save.
 */

#define SM_UC_DEFAULT_ID "default"
#define SM_UC_DEFAULT_NAME "Default Collection"
#define SM_UC_FILE "user-collections.toml"
/* Longest name in bytes (the DB holds 1..255 characters). */
#define SM_UC_NAME_MAX 255
/* Longest description and collection_type/context_category, in bytes. */
#define SM_UC_DESCRIPTION_MAX 16384
#define SM_UC_LABEL_MAX 128
/* Largest user-collections.toml we read. */
#define SM_UC_FILE_MAX ((size_t)16 << 20)

/*
 * One collection of the file. Every pointer is borrowed from the loaded tree
 * and valid until the next change to the file object (or its free).
 * Optional fields are NULL when absent.
 */
struct sm_user_collection {
	const char *id;
	const char *name;
	const char *description;
	const char *collection_type;
	const char *context_category;
	const char *created_at; /* NULL when the file has none */
	const char *updated_at;
	const char **members; /* member keys as written, in file order (well-formed ones) */
	size_t nmembers;
	size_t at; /* internal: the entry's place in the file's collections array */
};

/* The loaded file. */
struct sm_user_collections {
	char *path;		   /* absolute path of user-collections.toml */
	struct sm_toml_value *doc; /* the whole document (unknown keys kept) */
	struct sm_user_collection *items;
	size_t n;
	size_t ignored; /* entries of the file left out of items (not understood) */
	bool exists;	/* the file was there at load */
};

/*
 * Load root/user-collections.toml (a missing file is an empty set): the
 * entries understood in items (above: `collections` an array of tables; each
 * with a valid unique id and name (sm_user_collections_name_check), optional
 * fields strings, timestamps ISO-8601, members an array of well-formed keys
 * (sm_user_collections_key_parse)); each thing not understood is warned about
 * as "'<path>': line L: collections[i] ('name'): ... ignored: why" (line of
 * the entry's [[collections]] header when it has one). Errors: -EBADMSG with
 * "cannot parse '<path>': line L, column C: ..." for a file that is not TOML;
 * -E2BIG over SM_UC_FILE_MAX; -ENOMEM, I/O errors. *ret is written only on
 * success.
 */
int sm_user_collections_load(const char *home_root, struct sm_user_collections **ret,
			     struct strbuf *err);
/* Same for an explicit path (tests). */
int sm_user_collections_load_path(const char *path, struct sm_user_collections **ret,
				  struct strbuf *err);
/*
 * Same for a document held in memory (the team store builds one from its
 * rows); label stands for the path in messages and f->path. No save.
 */
int sm_user_collections_load_text(const char *label, const char *text, size_t len,
				  struct sm_user_collections **ret, struct strbuf *err);
void sm_user_collections_free(struct sm_user_collections *f);

/*
 * Write the file atomically (sm_fs_write_atomic, mode 0644 for a new file).
 * The caller holds the home lock. On failure the file on disk is untouched.
 */
int sm_user_collections_save(struct sm_user_collections *f, struct strbuf *err);

/*
 * Index of the collection with this id, else with this name (exact,
 * case-sensitive); -ENOENT "user collection 'x' not found". The default
 * collection is not in the file: -ENOENT for it too (see
 * sm_user_collections_is_default).
 */
long sm_user_collections_find(const struct sm_user_collections *f, const char *id_or_name,
			      struct strbuf *err);
/* Whether id_or_name names the implicit default collection. */
bool sm_user_collections_is_default(const char *id_or_name);

/*
 * Name rules: non-empty, at most SM_UC_NAME_MAX bytes, valid UTF-8, no
 * control characters (C0, DEL, C1), not only white space, not the default
 * collection's name. -EINVAL with the rule otherwise.
 */
int sm_user_collections_name_check(const char *name, struct strbuf *err);

/*
 * A member key: "[collection/]type:name" with a known type (aliases allowed)
 * and a name without control characters. On success (0) the parts are
 * written: *coll_len is 0 without a collection part; type_out gets the
 * canonical type name. -EINVAL otherwise. Pointers into key.
 */
struct sm_user_collection_key {
	const char *collection; /* NULL when unqualified */
	size_t collection_len;
	char type[32]; /* canonical ("mcp" for "mcp_server") */
	const char *name;
};
int sm_user_collections_key_parse(const char *key, struct sm_user_collection_key *ret,
				  struct strbuf *err);

/* Fields for create and update; NULL leaves a field as it is (update) or unset (create). */
struct sm_user_collection_fields {
	const char *name;
	const char *description;
	const char *collection_type;
	const char *context_category;
};

/*
 * Append a new collection with a fresh random id (created_at = updated_at =
 * now, an ISO string). -EINVAL for a bad field, -EEXIST when the name is
 * taken. Returns the new index.
 */
long sm_user_collections_create(struct sm_user_collections *f,
				const struct sm_user_collection_fields *fields, const char *now,
				struct strbuf *err);
/*
 * Change the given fields of collection idx and set updated_at = now. An
 * empty string removes an optional field (not the name). -EINVAL, -EEXIST
 * (name taken by another collection), -ENOENT (idx out of range).
 */
int sm_user_collections_update(struct sm_user_collections *f, size_t idx,
			       const struct sm_user_collection_fields *fields, const char *now,
			       struct strbuf *err);
/* Remove collection idx. -ENOENT when out of range. */
int sm_user_collections_delete(struct sm_user_collections *f, size_t idx, struct strbuf *err);
/*
 * Append key (validated with sm_user_collections_key_parse) to the members of
 * idx unless it is there already (exact string). Returns 1 added, 0 present.
 */
int sm_user_collections_add_member(struct sm_user_collections *f, size_t idx, const char *key,
				   struct strbuf *err);
/* Remove key (exact string) from the members of idx. Returns 1 removed, 0 absent. */
int sm_user_collections_remove_member(struct sm_user_collections *f, size_t idx, const char *key,
				      struct strbuf *err);

#endif
