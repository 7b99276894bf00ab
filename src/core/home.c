/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skillmeat/artifact.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "core/txn.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/snapshot.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

#define CONFIG_MAX ((size_t)4 << 20)

static const char default_config[] = "[settings]\n"
				     "default-collection = \"default\"\n"
				     "update-strategy = \"prompt\"\n"
				     "\n"
				     "[analytics]\n"
				     "enabled = true\n"
				     "retention-days = 90\n"
				     "\n"
				     "[artifact_search]\n"
				     "indexing_mode = \"opt_in\"\n";

static int resolve_root(const char *dir, struct strbuf *out, struct strbuf *err)
{
	const char *env = getenv("SKILLMEAT_HOME");
	const char *home;
	char cwd[4096];

	if (dir && *dir) {
		if (dir[0] != '/') {
			if (!getcwd(cwd, sizeof(cwd)))
				return sm_err(err, -errno, "cannot read the current folder: %s",
					      sm_strerror(errno));
			return sm_fs_join(out, cwd, dir);
		}
		return sm_strbuf_addstr(out, dir);
	}
	if (env && *env)
		return resolve_root(env, out, err);
	home = getenv("HOME");
	if (!home || !*home)
		return sm_err(err, -ENOENT, "cannot find the home folder: HOME is not set");
	return sm_fs_join(out, home, ".skillmeat");
}

static int load_config(struct sm_home *h, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	int r;

	r = sm_fs_read_file(h->config_path, CONFIG_MAX, &buf, err);
	if (r == -ENOENT) {
		r = sm_fs_write_atomic(h->config_path, default_config, sizeof(default_config) - 1,
				       0644, err);
		if (r < 0)
			goto out;
		sm_strbuf_reset(&buf);
		r = sm_strbuf_add(&buf, default_config, sizeof(default_config) - 1);
		if (r < 0)
			goto out;
	} else if (r < 0) {
		goto out;
	}
	r = sm_toml_parse_flags(buf.buf, buf.len, SM_TOML_BIG_INTEGERS, &h->config, err);
	if (r < 0)
		sm_err_prefix(err, r, "cannot parse '%s'", h->config_path);
out:
	sm_strbuf_release(&buf);
	return r;
}

int sm_home_open(const char *dir, struct sm_home **ret, struct strbuf *err)
{
	struct strbuf root = STRBUF_INIT, path = STRBUF_INIT;
	struct sm_home *h;
	int r;

	h = sm_calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->lock_fd = -1;
	r = resolve_root(dir, &root, err);
	if (r < 0)
		goto fail;
	while (root.len > 1 && root.buf[root.len - 1] == '/')
		sm_strbuf_setlen(&root, root.len - 1);
	r = sm_fs_mkdir_p(root.buf, 0755, err);
	if (r < 0)
		goto fail;
	r = sm_fs_join(&path, root.buf, "config.toml");
	if (r < 0)
		goto fail;
	h->root = sm_strbuf_detach(&root, NULL);
	h->config_path = sm_strbuf_detach(&path, NULL);
	if (!h->root || !h->config_path) {
		r = -ENOMEM;
		goto fail;
	}
	r = load_config(h, err);
	if (r < 0)
		goto fail;
	*ret = h;
	return 0;
fail:
	sm_strbuf_release(&root);
	sm_strbuf_release(&path);
	sm_home_free(h);
	return r;
}

void sm_home_free(struct sm_home *h)
{
	if (!h)
		return;
	if (h->lock_fd >= 0)
		sm_fs_unlock(h->lock_fd);
	sm_toml_free(h->config);
	sm_free(h->root);
	sm_free(h->config_path);
	sm_free(h);
}

const char *sm_home_active_collection(const struct sm_home *h)
{
	const struct sm_toml_value *v = sm_toml_get_path(h->config, "settings.default-collection");

	if (v && v->type == SM_TOML_STRING && sm_toml_strlen(v))
		return sm_toml_str(v);
	return "default";
}

int sm_home_collection_dir(const struct sm_home *h, const char *name, struct strbuf *out)
{
	int r = sm_fs_join(out, h->root, "collections");

	if (r == 0)
		r = sm_strbuf_addch(out, '/');
	return r < 0 ? r : sm_strbuf_addstr(out, name);
}

int sm_home_lock(struct sm_home *h, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	if (h->lock_depth++ > 0)
		return 0;
	r = sm_fs_join(&path, h->root, ".lock");
	if (r == 0)
		r = sm_fs_lock(path.buf, &h->lock_fd, err);
	sm_strbuf_release(&path);
	if (r < 0) {
		h->lock_depth = 0;
	} else {
		/* the leftovers of dead writers: ours to remove (or list) now */
		sm_txn_clean_home(h->root);
		sm_snapshot_recover(h);
	}
	return r;
}

void sm_home_unlock(struct sm_home *h)
{
	if (h->lock_depth == 0 || --h->lock_depth > 0)
		return;
	sm_fs_unlock(h->lock_fd);
	h->lock_fd = -1;
}

/* SKILLMEAT_ + upper snake case of key; NULL when unset. */
static const char *env_override(const char *key)
{
	char name[128] = "SKILLMEAT_";
	size_t n = strlen(name);

	for (const char *p = key; *p; p++) {
		if (n + 1 >= sizeof(name))
			return NULL;
		name[n++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
	}
	name[n] = '\0';
	return getenv(name);
}

struct sm_toml_value *sm_config_lookup(const struct sm_home *h, const char *key)
{
	return h->config ? sm_toml_get_path(h->config, key) : NULL;
}

int64_t sm_config_int(const struct sm_home *h, const char *key, int64_t def)
{
	const char *env = env_override(key);
	const struct sm_toml_value *v;
	char *end;
	long long x;

	if (env && *env) {
		errno = 0;
		x = strtoll(env, &end, 10);
		if (!errno && !*end)
			return x;
	}
	v = sm_config_lookup(h, key);
	if (v && v->type == SM_TOML_INTEGER)
		return v->u.i;
	if (v && v->type == SM_TOML_STRING) {
		errno = 0;
		x = strtoll(sm_toml_str(v), &end, 10);
		if (!errno && !*end && end != sm_toml_str(v))
			return x;
	}
	return def;
}

static int parse_bool(const char *s, bool *ret)
{
	if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") ||
	    !strcasecmp(s, "on"))
		*ret = true;
	else if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") ||
		 !strcasecmp(s, "off"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

bool sm_config_bool(const struct sm_home *h, const char *key, bool def)
{
	const char *env = env_override(key);
	const struct sm_toml_value *v;
	bool b;

	if (env && parse_bool(env, &b) == 0)
		return b;
	v = sm_config_lookup(h, key);
	if (v && v->type == SM_TOML_BOOL)
		return v->u.b;
	if (v && v->type == SM_TOML_STRING && parse_bool(sm_toml_str(v), &b) == 0)
		return b;
	return def;
}

const char *sm_config_string(const struct sm_home *h, const char *key, const char *def)
{
	const char *env = env_override(key);
	const struct sm_toml_value *v;

	if (env && *env)
		return env;
	v = sm_config_lookup(h, key);
	if (v && v->type == SM_TOML_STRING)
		return sm_toml_str(v);
	return def;
}

static int check_key(const char *key, struct strbuf *err)
{
	const char *p = key;

	if (!*key)
		return sm_err(err, -EINVAL, "config key is empty");
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 0)
			return sm_err(err, -EINVAL, "invalid config key '%s': empty segment", key);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20)
				return sm_err(err, -EINVAL,
					      "invalid config key: contains a control character");
		if (!dot)
			return 0;
		p = dot + 1;
	}
}

static int write_config(struct sm_home *h, struct sm_toml_value *doc, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	int r;

	r = sm_toml_encode(doc, &out, err);
	if (r == 0)
		r = sm_fs_write_atomic(h->config_path, out.buf, out.len, 0644, err);
	sm_strbuf_release(&out);
	return r;
}

/*
 * Re-read config.toml under the lock (another process may have changed it),
 * apply a change, write it back. op: value != NULL sets, NULL unsets.
 */
static int config_change(struct sm_home *h, const char *key, const char *value,
			 struct strbuf *err)
{
	struct sm_toml_value *doc = NULL, *tab, *leaf;
	struct strbuf buf = STRBUF_INIT;
	const char *p = key;
	int r;

	r = check_key(key, err);
	if (r < 0)
		return r;
	r = sm_home_lock(h, err);
	if (r < 0)
		return r;
	r = sm_fs_read_file(h->config_path, CONFIG_MAX, &buf, err);
	if (r == 0) {
		r = sm_toml_parse_flags(buf.buf, buf.len, SM_TOML_BIG_INTEGERS, &doc, err);
		if (r < 0)
			sm_err_prefix(err, r, "cannot parse '%s'", h->config_path);
	} else if (r == -ENOENT) {
		doc = sm_toml_new_table();
		r = doc ? 0 : -ENOMEM;
	}
	if (r < 0)
		goto out;
	tab = doc;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (!dot) {
			if (value) {
				leaf = sm_toml_new_string(value);
				r = leaf ? sm_toml_setn(tab, p, n, leaf) : -ENOMEM;
			} else if (!sm_toml_getn(tab, p, n)) {
				r = sm_err(err, -ENOENT, "config key '%s' is not set", key);
			} else {
				char *k = sm_strndup(p, n);

				r = k ? sm_toml_remove(tab, k) : -ENOMEM;
				sm_free(k);
			}
			break;
		}
		leaf = sm_toml_getn(tab, p, n);
		if (!leaf) {
			if (!value) {
				r = sm_err(err, -ENOENT, "config key '%s' is not set", key);
				break;
			}
			leaf = sm_toml_new_table();
			if (!leaf || (r = sm_toml_setn(tab, p, n, leaf)) < 0) {
				r = -ENOMEM;
				break;
			}
		} else if (leaf->type != SM_TOML_TABLE) {
			r = sm_err(err, -EINVAL, "cannot set '%s': '%.*s' is not a table", key,
				   (int)(dot - key), key);
			break;
		}
		tab = leaf;
		p = dot + 1;
	}
	if (r < 0)
		goto out;
	r = write_config(h, doc, err);
	if (r < 0)
		goto out;
	sm_toml_free(h->config);
	h->config = doc;
	doc = NULL;
out:
	sm_home_unlock(h);
	sm_toml_free(doc);
	sm_strbuf_release(&buf);
	return r;
}

int sm_config_set(struct sm_home *h, const char *key, const char *value, struct strbuf *err)
{
	return config_change(h, key, value, err);
}

int sm_config_unset(struct sm_home *h, const char *key, struct strbuf *err)
{
	return config_change(h, key, NULL, err);
}

int sm_collection_name_check(const char *name, struct strbuf *err)
{
	int r = sm_artifact_name_check(name, err);

	if (r < 0)
		sm_err(err, r, "invalid collection name '%s'", name ? name : "");
	return r;
}
