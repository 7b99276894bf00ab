/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HOME_H
#define SKILLMEAT_HOME_H

#include <stdbool.h>
#include <stdint.h>

struct strbuf;
struct sm_toml_value;

/*
 * A SkillMeat home (`~/.skillmeat`, spec/skillmeat-formats.md §1.1-1.2) and
 * its config.toml. Opening creates the folder and config.toml with the
 * original's defaults when missing; it never rewrites an existing config.
 */
struct sm_home {
	char *root;			  /* absolute path */
	char *config_path;		  /* root/config.toml */
	struct sm_toml_value *config;	  /* parsed config.toml (a table) */
	int lock_fd;			  /* -1 unless sm_home_lock holds it */
	int lock_depth;
};

/*
 * Resolve the home: dir if non-NULL, else $SKILLMEAT_HOME, else ~/.skillmeat.
 * Creates it (and config.toml) when missing. Errors: -EBADMSG for a malformed
 * config.toml (message with file and line), -ENOENT/-EACCES from the fs.
 */
int sm_home_open(const char *dir, struct sm_home **ret, struct strbuf *err);
void sm_home_free(struct sm_home *home);

/* The active collection: settings.default-collection, else "default". */
const char *sm_home_active_collection(const struct sm_home *home);

/* root/collections/<name> appended to out. name must pass sm_collection_name_check. */
int sm_home_collection_dir(const struct sm_home *home, const char *name, struct strbuf *out);

/*
 * The home's write lock (flock on root/.lock): every write of SkillMeat files
 * happens under it. Re-entrant within one process (counted).
 */
int sm_home_lock(struct sm_home *home, struct strbuf *err);
void sm_home_unlock(struct sm_home *home);

/*
 * Config values by dot path ("settings.default-collection"). For our own keys
 * an environment variable overrides the file: SKILLMEAT_ + the key in upper
 * snake case (cache.count-ttl-seconds → SKILLMEAT_CACHE_COUNT_TTL_SECONDS).
 */
struct sm_toml_value *sm_config_lookup(const struct sm_home *home, const char *key);
int64_t sm_config_int(const struct sm_home *home, const char *key, int64_t def);
bool sm_config_bool(const struct sm_home *home, const char *key, bool def);
/* Borrowed string (from the environment or the tree), or def. */
const char *sm_config_string(const struct sm_home *home, const char *key, const char *def);

/*
 * Set a dot-path key to a string value (as the original: no type coercion),
 * creating tables on the way, and write config.toml atomically under the
 * home lock. -EINVAL for an empty key or segment, or when a segment on the
 * way is not a table.
 */
int sm_config_set(struct sm_home *home, const char *key, const char *value, struct strbuf *err);
/* Remove a key; -ENOENT when it is not set. */
int sm_config_unset(struct sm_home *home, const char *key, struct strbuf *err);

/* Collection names follow the artifact name rules (§1.4). */
int sm_collection_name_check(const char *name, struct strbuf *err);

#endif
