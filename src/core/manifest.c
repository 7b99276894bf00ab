/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "skillmeat/array.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/log.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

/* Manifests hold metadata copies: a 10,000-artifact one is ~8 MB. */
#define MANIFEST_MAX ((size_t)256 << 20)

static void index_drop(struct sm_manifest *m);
static int index_key(struct strbuf *key, const char *type, const char *name);

static int load_doc(const char *path, struct sm_toml_value **ret, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	int r;

	r = sm_fs_read_file(path, MANIFEST_MAX, &buf, err);
	if (r < 0)
		goto out;
	r = sm_toml_parse_flags(buf.buf, buf.len, SM_TOML_BIG_INTEGERS | SM_TOML_ARENA, ret, err);
	if (r < 0)
		sm_err_prefix(err, r, "cannot parse '%s'", path);
out:
	sm_strbuf_release(&buf);
	return r;
}

static int save_doc(const char *path, const struct sm_toml_value *doc, int flags,
		    struct strbuf *err)
{
	struct strbuf out;
	int r;

	sm_strbuf_init(&out, MANIFEST_MAX);
	r = sm_toml_encode(doc, &out, err);
	if (r < 0)
		goto out;
	if (flags & SM_WRITE_NOSYNC)
		r = sm_fs_write_atomic_nosync(path, out.buf, out.len, 0644, err);
	else
		r = sm_fs_write_atomic(path, out.buf, out.len, 0644, err);
out:
	sm_strbuf_release(&out);
	return r;
}

static const char *str_of(const struct sm_toml_value *tab, const char *key)
{
	return sm_toml_get_string(tab, key);
}

/*
 * Why entry e is not understood (the reason in why), or 0. An entry we cannot
 * understand is held aside with a warning: it hides neither the collection
 * nor the other entries, and a rewrite keeps it where it was.
 */
static int entry_problem(const struct sm_toml_value *e, struct sm_hashmap *seen,
			 struct strbuf *key, struct strbuf *why)
{
	static const char *const required[] = { "name", "type", "path", "origin", "added" };
	const char *origin, *name, *uuid;
	enum sm_artifact_type type;
	int r;

	if (e->type != SM_TOML_TABLE)
		return sm_strbuf_addstr(why, "not a table") ?: 1;
	for (size_t k = 0; k < SM_ARRAY_SIZE(required); k++)
		if (!str_of(e, required[k]))
			return sm_strbuf_addf(why, "missing string '%s'", required[k]) ?: 1;
	name = str_of(e, "name");
	type = sm_artifact_type_parse(str_of(e, "type"));
	if (type == SM_TYPE_INVALID)
		return sm_strbuf_addf(why, "unknown type '%s'", str_of(e, "type")) ?: 1;
	origin = str_of(e, "origin");
	if (strcmp(origin, "local") && strcmp(origin, "github") && strcmp(origin, "marketplace"))
		return sm_strbuf_addf(why, "unknown origin '%s'", origin) ?: 1;
	if (sm_artifact_name_check(name, NULL) < 0)
		return sm_strbuf_addstr(why, "invalid name") ?: 1;
	if (!*str_of(e, "path"))
		return sm_strbuf_addstr(why, "empty path") ?: 1;
	if ((r = index_key(key, sm_artifact_type_name(type), name)) < 0)
		return r;
	if (sm_hashmap_get(seen, key->buf, key->len, NULL))
		return sm_strbuf_addf(why, "a second %s '%s'", sm_artifact_type_name(type),
				      name) ?: 1;
	uuid = str_of(e, "uuid");
	if (uuid) {
		/* the uuid is the artifact's identity in the index: one holder */
		sm_strbuf_reset(why);
		if ((r = sm_strbuf_addf(why, "%c%s", '\001', uuid)) < 0)
			return r;
		if (sm_hashmap_get(seen, why->buf, why->len, NULL)) {
			sm_strbuf_reset(why);
			return sm_strbuf_addf(why, "uuid %s of an earlier artifact", uuid) ?: 1;
		}
		r = sm_hashmap_put(seen, why->buf, why->len, (void *)1, NULL);
		sm_strbuf_reset(why);
		if (r < 0)
			return r;
	}
	return sm_hashmap_put(seen, key->buf, key->len, (void *)1, NULL);
}

/* Hold entry i of arts aside (see entry_problem); kept = understood entries before it. */
static int hold(struct sm_manifest *m, size_t i, size_t kept)
{
	struct sm_toml_value *e;
	int r;

	if (!m->held && !(m->held = sm_toml_new_array()))
		return -ENOMEM;
	if (SM_GROW(m->held_at, m->held_alloc, sm_toml_len(m->held) + 1) < 0)
		return -ENOMEM;
	e = sm_toml_array_take(m->artifacts, i);
	r = sm_toml_push(m->held, e);
	if (r < 0) {
		/* put it back: the document stays whole */
		(void)sm_toml_array_insert(m->artifacts, i, e);
		return r;
	}
	m->held_at[sm_toml_len(m->held) - 1] = kept;
	return 0;
}

/* Sort the understood entries from the others (held aside, with a warning). */
static int sort_entries(struct sm_manifest *m)
{
	struct strbuf key = STRBUF_INIT, why = STRBUF_INIT;
	struct sm_hashmap *seen = NULL;
	size_t i = 0, n = 0;
	int r;

	if ((r = sm_hashmap_new(&seen)) < 0)
		goto out;
	while (i < sm_toml_len(m->artifacts)) {
		const struct sm_toml_value *e = sm_toml_at(m->artifacts, i);
		const char *name = e->type == SM_TOML_TABLE ? str_of(e, "name") : NULL;

		sm_strbuf_reset(&why);
		r = entry_problem(e, seen, &key, &why);
		if (r < 0)
			goto out;
		if (r > 0) {
			sm_log_warn("'%s': artifact %zu%s%s%s ignored: %s", m->path, n + 1,
				    name ? " ('" : "", name ? name : "", name ? "')" : "",
				    why.buf);
			if ((r = hold(m, i, i)) < 0)
				goto out;
			n++;
			continue;
		}
		/* the original writes Python ints of any size: kept digit for digit */
		if (sm_toml_has_big_integer(e))
			sm_log_warn("'%s': artifact %zu ('%s'): an integer wider than 64 bits, "
				    "kept as written",
				    m->path, n + 1, name);
		i++;
		n++;
	}
	r = 0;
out:
	sm_hashmap_free(seen);
	sm_strbuf_release(&key);
	sm_strbuf_release(&why);
	return r;
}

/*
 * The original writes its model (Collection.to_dict) in this order, and tomli_w puts
 * [collection] before [[artifacts]] once the array is not empty. A fresh file has
 * `artifacts = []` above [collection] (a literal goes first), so a document read in
 * another order is put in this one: what we write stays what the original would.
 * Keys it does not know follow, in the order read. A no-op for the files it wrote.
 */
static const char *const top_order[] = {"collection", "artifacts", "mcp_servers",
					 "tag_definitions", "groups"};

/* Index of kv's key in top_order, or SM_ARRAY_SIZE(top_order) for a key it lacks. */
static size_t top_rank(const struct sm_toml_kv *kv)
{
	size_t k;

	for (k = 0; k < SM_ARRAY_SIZE(top_order); k++)
		if (kv->keylen == strlen(top_order[k]) && !memcmp(kv->key, top_order[k], kv->keylen))
			break;
	return k;
}

static int order_top(struct sm_toml_value *doc)
{
	size_t i, n = sm_toml_len(doc), want = 0, others = 0;
	bool sorted = true;
	struct sm_toml_value *v;

	for (i = 0; i < n; i++) {
		const struct sm_toml_kv *kv = sm_toml_kv_at(doc, i);
		size_t k = top_rank(kv);

		if (k == SM_ARRAY_SIZE(top_order)) {
			if (kv->keylen != strlen(kv->key))
				return 0; /* a key with a NUL byte: left where it is */
			continue;
		}
		if (k < want)
			sorted = false;
		want = k;
	}
	if (sorted)
		return 0;
	/* the known keys to the end in their order, then the others after them */
	for (i = 0; i < SM_ARRAY_SIZE(top_order); i++)
		if ((v = sm_toml_take(doc, top_order[i])) && sm_toml_set(doc, top_order[i], v) < 0)
			return -ENOMEM;
	while (others < n && top_rank(sm_toml_kv_at(doc, others)) == SM_ARRAY_SIZE(top_order))
		others++;
	while (others-- > 0) {
		char *key = sm_strdup(sm_toml_kv_at(doc, 0)->key);

		v = key ? sm_toml_take(doc, key) : NULL;
		if (!v || sm_toml_set(doc, key, v) < 0) {
			sm_free(key);
			return -ENOMEM;
		}
		sm_free(key);
	}
	return 0;
}

static int manifest_wrap(const char *path, struct sm_toml_value *doc, struct sm_manifest **ret,
			 struct strbuf *err)
{
	struct sm_manifest *m;
	struct sm_toml_value *coll, *arts;
	int r;

	if ((r = order_top(doc)) < 0)
		goto fail;
	coll = sm_toml_get(doc, "collection");
	if (!coll || coll->type != SM_TOML_TABLE || !str_of(coll, "name")) {
		r = sm_err(err, -EBADMSG, "'%s': missing [collection] table with a name", path);
		goto fail;
	}
	arts = sm_toml_get(doc, "artifacts");
	if (!arts) {
		arts = sm_toml_new_array();
		if (!arts || (r = sm_toml_set(doc, "artifacts", arts)) < 0) {
			r = -ENOMEM;
			goto fail;
		}
	} else if (arts->type != SM_TOML_ARRAY) {
		r = sm_err(err, -EBADMSG, "'%s': 'artifacts' is not an array", path);
		goto fail;
	}
	m = sm_calloc(1, sizeof(*m));
	if (!m || !(m->path = sm_strdup(path))) {
		sm_free(m);
		r = -ENOMEM;
		goto fail;
	}
	m->doc = doc;
	m->artifacts = arts;
	r = sort_entries(m);
	if (r < 0) {
		sm_manifest_free(m);
		return r;
	}
	*ret = m;
	return 0;
fail:
	sm_toml_free(doc);
	return r;
}

int sm_manifest_load(const char *path, struct sm_manifest **ret, struct strbuf *err)
{
	struct sm_toml_value *doc = NULL;
	int r = load_doc(path, &doc, err);

	if (r < 0)
		return r;
	return manifest_wrap(path, doc, ret, err);
}

int sm_manifest_new(const char *path, const char *name, struct sm_manifest **ret,
		    struct strbuf *err)
{
	struct sm_toml_value *doc = sm_toml_new_table(), *coll = sm_toml_new_table(), *arts;
	char now[SM_ISO_MAX];
	int r = -ENOMEM;

	if (!doc || !coll)
		goto fail;
	r = sm_time_now_iso(now);
	if (r < 0)
		goto fail;
	/* the original's dict order: collection, then artifacts */
	if ((r = sm_toml_set_string(coll, "name", name)) < 0 ||
	    (r = sm_toml_set_string(coll, "version", "1.0.0")) < 0 ||
	    (r = sm_toml_set_string(coll, "created", now)) < 0 ||
	    (r = sm_toml_set_string(coll, "updated", now)) < 0)
		goto fail;
	r = sm_toml_set(doc, "collection", coll);
	coll = NULL;
	if (r < 0)
		goto fail;
	arts = sm_toml_new_array();
	if (!arts || (r = sm_toml_set(doc, "artifacts", arts)) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	return manifest_wrap(path, doc, ret, err);
fail:
	sm_toml_free(coll);
	sm_toml_free(doc);
	return r;
}

/* Write the document with the held entries back where they were among the others. */
static int save_held(struct sm_manifest *m, int flags, struct strbuf *err)
{
	size_t nheld = sm_toml_len(m->held), in = 0;
	int r = 0;

	for (; in < nheld; in++) {
		struct sm_toml_value *c = sm_toml_clone(sm_toml_at(m->held, in));
		size_t at = m->held_at[in] + in;

		if (at > sm_toml_len(m->artifacts))
			at = sm_toml_len(m->artifacts);
		if (!c || (r = sm_toml_array_insert(m->artifacts, at, c)) < 0) {
			r = -ENOMEM;
			break;
		}
		m->held_at[in] = at; /* where it went, for taking it out below */
	}
	if (r == 0)
		r = save_doc(m->path, m->doc, flags, err);
	while (in-- > 0) {
		(void)sm_toml_array_remove(m->artifacts, m->held_at[in]);
		m->held_at[in] -= in;
	}
	return r;
}

int sm_manifest_save(struct sm_manifest *m, int flags, struct strbuf *err)
{
	struct sm_toml_value *coll = sm_toml_get(m->doc, "collection");
	char now[SM_ISO_MAX];
	int r;

	if (!(flags & SM_WRITE_KEEP_STAMP)) {
		r = sm_time_now_iso(now);
		if (r < 0)
			return r;
		r = sm_toml_set_string(coll, "updated", now);
		if (r < 0)
			return r;
	}
	return save_held(m, flags, err);
}

int sm_manifest_save_as(struct sm_manifest *m, const char *path, int flags, struct strbuf *err)
{
	char *keep = m->path;
	int r;

	/* the document is written as it would be to its own path */
	m->path = (char *)path;
	r = sm_manifest_save(m, flags, err);
	m->path = keep;
	return r;
}

void sm_manifest_free(struct sm_manifest *m)
{
	if (!m)
		return;
	index_drop(m);
	sm_toml_free(m->held);
	sm_free(m->held_at);
	sm_toml_free(m->doc);
	sm_free(m->path);
	sm_free(m);
}

const char *sm_manifest_name(const struct sm_manifest *m)
{
	return str_of(sm_toml_get(m->doc, "collection"), "name");
}

size_t sm_manifest_count(const struct sm_manifest *m)
{
	return sm_toml_len(m->artifacts);
}

struct sm_toml_value *sm_manifest_at(const struct sm_manifest *m, size_t i)
{
	return i < sm_toml_len(m->artifacts) ? sm_toml_at(m->artifacts, i) : NULL;
}

const char *sm_entry_name(const struct sm_toml_value *e)
{
	return str_of(e, "name");
}

enum sm_artifact_type sm_entry_type(const struct sm_toml_value *e)
{
	return sm_artifact_type_parse(str_of(e, "type"));
}

const char *sm_entry_str(const struct sm_toml_value *e, const char *key)
{
	return str_of(e, key);
}

static int index_key(struct strbuf *key, const char *type, const char *name)
{
	sm_strbuf_reset(key);
	int r;

	if ((r = sm_strbuf_addstr(key, type)) < 0 || (r = sm_strbuf_addch(key, '\0')) < 0)
		return r;
	return sm_strbuf_addstr(key, name);
}

static void index_drop(struct sm_manifest *m)
{
	sm_hashmap_free(m->index);
	m->index = NULL;
}

/* Build the (type, name) index; on ENOMEM lookups fall back to a scan. */
static void index_build(struct sm_manifest *m)
{
	struct strbuf key = STRBUF_INIT;

	if (m->index || sm_hashmap_new(&m->index) < 0)
		goto out;
	for (size_t i = 0; i < sm_toml_len(m->artifacts); i++) {
		const struct sm_toml_value *e = sm_toml_at(m->artifacts, i);

		if (index_key(&key, sm_artifact_type_name(sm_entry_type(e)), sm_entry_name(e)) < 0 ||
		    sm_hashmap_put(m->index, key.buf, key.len, (void *)(uintptr_t)(i + 1), NULL) < 0) {
			index_drop(m);
			break;
		}
	}
out:
	sm_strbuf_release(&key);
}

long sm_manifest_find(const struct sm_manifest *cm, enum sm_artifact_type type, const char *name)
{
	struct sm_manifest *m = (struct sm_manifest *)cm; /* the index is a cache */
	struct strbuf key = STRBUF_INIT;
	void *v;
	long r = -1;

	index_build(m);
	if (m->index && index_key(&key, sm_artifact_type_name(type), name) == 0) {
		if (sm_hashmap_get(m->index, key.buf, key.len, &v))
			r = (long)(uintptr_t)v - 1;
		sm_strbuf_release(&key);
		return r;
	}
	sm_strbuf_release(&key);
	for (size_t i = 0; i < sm_toml_len(m->artifacts); i++) {
		const struct sm_toml_value *e = sm_toml_at(m->artifacts, i);

		if (sm_entry_type(e) == type && !strcmp(sm_entry_name(e), name))
			return (long)i;
	}
	return -1;
}

/* Length of name without one trailing .md/.txt/.json/.yaml/.yml. */
static size_t stem_len(const char *name)
{
	static const char *const exts[] = { ".md", ".txt", ".json", ".yaml", ".yml" };
	size_t n = strlen(name);

	for (size_t i = 0; i < SM_ARRAY_SIZE(exts); i++) {
		size_t l = strlen(exts[i]);

		if (n > l && !strcmp(name + n - l, exts[i]))
			return n - l;
	}
	return n;
}

size_t sm_manifest_find_name(const struct sm_manifest *m, const char *name, long *idx, size_t max)
{
	size_t want = stem_len(name), found = 0;

	for (size_t i = 0; i < sm_toml_len(m->artifacts); i++) {
		const char *n = sm_entry_name(sm_toml_at(m->artifacts, i));

		if (stem_len(n) == want && !memcmp(n, name, want)) {
			if (found < max)
				idx[found] = (long)i;
			found++;
		}
	}
	return found;
}

int sm_manifest_append(struct sm_manifest *m, struct sm_toml_value *entry, struct strbuf *err)
{
	int r;

	if (sm_manifest_find(m, sm_entry_type(entry), sm_entry_name(entry)) >= 0) {
		r = sm_err(err, -EEXIST, "%s '%s' already exists in collection '%s'",
			       sm_entry_str(entry, "type"), sm_entry_name(entry),
			       sm_manifest_name(m));
		sm_toml_free(entry);
		return r;
	}
	r = sm_toml_push(m->artifacts, entry);
	if (r == 0 && m->index) {
		struct strbuf key = STRBUF_INIT;

		if (index_key(&key, sm_artifact_type_name(sm_entry_type(entry)), sm_entry_name(entry)) < 0 ||
		    sm_hashmap_put(m->index, key.buf, key.len,
				   (void *)(uintptr_t)sm_toml_len(m->artifacts), NULL) < 0)
			index_drop(m);
		sm_strbuf_release(&key);
	}
	return r;
}

int sm_manifest_replace(struct sm_manifest *m, size_t i, struct sm_toml_value *entry)
{
	if (i >= sm_toml_len(m->artifacts)) {
		sm_toml_free(entry);
		return -ENOENT;
	}
	sm_toml_free(sm_toml_array_swap(m->artifacts, i, entry));
	index_drop(m);
	return 0;
}

int sm_manifest_remove(struct sm_manifest *m, size_t i)
{
	index_drop(m);
	if (i < sm_toml_len(m->artifacts))
		for (size_t k = 0; k < sm_toml_len(m->held); k++)
			if (m->held_at[k] > i)
				m->held_at[k]--;
	return sm_toml_array_remove(m->artifacts, i);
}

/* ---- collection.lock ---- */

static int lock_key(struct strbuf *key, const char *name, enum sm_artifact_type type)
{
	sm_strbuf_reset(key);
	return sm_strbuf_addf(key, "%s::%s", name, sm_artifact_type_name(type));
}

static int lock_wrap(const char *path, struct sm_toml_value *doc, struct sm_lock **ret,
		     struct strbuf *err)
{
	struct sm_toml_value *lock, *entries;
	struct sm_lock *l;
	int r = -ENOMEM;

	lock = sm_toml_get(doc, "lock");
	if (!lock) {
		lock = sm_toml_new_table();
		if (!lock || sm_toml_set_string(lock, "version", "1.0.0") < 0 ||
		    sm_toml_set(doc, "lock", lock) < 0)
			goto fail;
	} else if (lock->type != SM_TOML_TABLE) {
		r = sm_err(err, -EBADMSG, "'%s': 'lock' is not a table", path);
		goto fail;
	}
	entries = sm_toml_get(lock, "entries");
	if (!entries) {
		entries = sm_toml_new_table();
		if (!entries || sm_toml_set(lock, "entries", entries) < 0)
			goto fail;
	} else if (entries->type != SM_TOML_TABLE) {
		r = sm_err(err, -EBADMSG, "'%s': 'lock.entries' is not a table", path);
		goto fail;
	}
	for (size_t i = 0; i < sm_toml_len(entries); i++) {
		const struct sm_toml_kv *kv = sm_toml_kv_at(entries, i);

		/* an entry we cannot read is no hash: that artifact only, never the file */
		if (kv->value->type != SM_TOML_TABLE || !str_of(kv->value, "content_hash"))
			sm_log_warn("'%s': lock entry '%s' has no content_hash, ignored", path,
				    kv->key);
	}
	l = sm_calloc(1, sizeof(*l));
	if (!l || !(l->path = sm_strdup(path))) {
		sm_free(l);
		goto fail;
	}
	l->doc = doc;
	l->entries = entries;
	*ret = l;
	return 0;
fail:
	sm_toml_free(doc);
	return r;
}

int sm_lock_load(const char *path, struct sm_lock **ret, struct strbuf *err)
{
	struct sm_toml_value *doc = NULL;
	int r = load_doc(path, &doc, err);

	if (r == -ENOENT) {
		doc = sm_toml_new_table();
		if (!doc)
			return -ENOMEM;
	} else if (r < 0) {
		return r;
	}
	return lock_wrap(path, doc, ret, err);
}

int sm_lock_save(struct sm_lock *l, int flags, struct strbuf *err)
{
	return save_doc(l->path, l->doc, flags, err);
}

int sm_lock_save_as(struct sm_lock *l, const char *path, int flags, struct strbuf *err)
{
	return save_doc(path, l->doc, flags, err);
}

void sm_lock_free(struct sm_lock *l)
{
	if (!l)
		return;
	sm_toml_free(l->doc);
	sm_free(l->path);
	sm_free(l);
}

struct sm_toml_value *sm_lock_get(const struct sm_lock *l, const char *name,
				  enum sm_artifact_type type)
{
	struct strbuf key = STRBUF_INIT;
	struct sm_toml_value *v = NULL;

	if (lock_key(&key, name, type) == 0)
		v = sm_toml_getn(l->entries, key.buf, key.len);
	sm_strbuf_release(&key);
	return v;
}

const char *sm_lock_hash(const struct sm_lock *l, const char *name, enum sm_artifact_type type)
{
	return str_of(sm_lock_get(l, name, type), "content_hash");
}

int sm_lock_set(struct sm_lock *l, const char *name, enum sm_artifact_type type,
		const char *content_hash, const char *upstream, const char *resolved_sha,
		const char *resolved_version)
{
	struct sm_toml_value *e = sm_toml_new_table();
	struct strbuf key = STRBUF_INIT;
	char now[SM_ISO_MAX];
	int r;

	if (!e)
		return -ENOMEM;
	if ((r = sm_time_now_iso(now)) < 0 ||
	    (r = sm_toml_set_string(e, "content_hash", content_hash)) < 0 ||
	    (r = sm_toml_set_string(e, "fetched", now)) < 0 ||
	    (upstream && (r = sm_toml_set_string(e, "upstream", upstream)) < 0) ||
	    (resolved_sha && (r = sm_toml_set_string(e, "resolved_sha", resolved_sha)) < 0) ||
	    (resolved_version &&
	     (r = sm_toml_set_string(e, "resolved_version", resolved_version)) < 0) ||
	    (r = lock_key(&key, name, type)) < 0) {
		sm_toml_free(e);
		goto out;
	}
	r = sm_toml_setn(l->entries, key.buf, key.len, e);
out:
	sm_strbuf_release(&key);
	return r;
}

int sm_lock_remove(struct sm_lock *l, const char *name, enum sm_artifact_type type)
{
	struct strbuf key = STRBUF_INIT;
	int r = lock_key(&key, name, type);

	if (r == 0)
		r = sm_toml_remove(l->entries, key.buf);
	sm_strbuf_release(&key);
	return r;
}

/* ---- entry updates (PUT /artifacts/{id}, the metadata edit) ---- */

const char *const sm_entry_meta_keys[SM_ENTRY_NMETA] = {"title", "description", "author",
							  "license"};

/*
 * The tags, written in the original's key order: a new "tags" key goes
 * before origin_source ... uuid, as SkillMeat writes an entry.
 */
struct sm_toml_value *sm_entry_updated(const struct sm_toml_value *old,
				       const struct sm_entry_update *u)
{
	static const char *const after_tags[] = {"origin_source", "target_platforms", "import_id",
						 "uuid"};
	struct sm_toml_value *e = NULL, *tags = NULL, *meta;

	if (u->have_tags) {
		if (!(tags = sm_toml_new_array()))
			return NULL;
		for (size_t i = 0; i < u->ntags; i++)
			if (sm_toml_push(tags, sm_toml_new_string(u->tags[i])) < 0)
				goto fail;
		if (sm_toml_get(old, "tags") || !u->ntags) {
			if (!(e = sm_toml_clone(old)))
				goto fail;
			if (u->ntags) {
				if (sm_toml_set(e, "tags", tags) < 0)
					goto fail;
			} else {
				(void)sm_toml_remove(e, "tags"); /* written only if non-empty */
				sm_toml_free(tags);
			}
			tags = NULL;
		} else {
			/* a new key, in the original's order: before origin_source ... uuid */
			bool placed = false;

			if (!(e = sm_toml_new_table()))
				goto fail;
			for (size_t i = 0; i < sm_toml_len(old); i++) {
				const struct sm_toml_kv *kv = sm_toml_kv_at(old, i);
				struct sm_toml_value *c;

				for (size_t k = 0; !placed && k < SM_ARRAY_SIZE(after_tags); k++)
					if (!strcmp(kv->key, after_tags[k])) {
						if (sm_toml_set(e, "tags", tags) < 0)
							goto fail;
						tags = NULL;
						placed = true;
					}
				if (!(c = sm_toml_clone(kv->value)) ||
				    sm_toml_setn(e, kv->key, kv->keylen, c) < 0) {
					sm_toml_free(c);
					goto fail;
				}
			}
			if (!placed && sm_toml_set(e, "tags", tags) < 0)
				goto fail;
			tags = NULL;
		}
	} else if (!(e = sm_toml_clone(old))) {
		return NULL;
	}
	meta = sm_toml_get(e, "metadata");
	for (size_t i = 0; i < SM_ENTRY_NMETA; i++) {
		if (u->meta_op[i] == SM_ENTRY_KEEP)
			continue;
		if (u->meta_op[i] == SM_ENTRY_REMOVE) {
			if (meta && meta->type == SM_TOML_TABLE)
				(void)sm_toml_remove(meta, sm_entry_meta_keys[i]);
			continue;
		}
		if (!meta) {
			if (!(meta = sm_toml_new_table()) || sm_toml_set(e, "metadata", meta) < 0) {
				sm_toml_free(meta);
				goto fail;
			}
		}
		if (meta->type != SM_TOML_TABLE ||
		    sm_toml_set_string(meta, sm_entry_meta_keys[i], u->meta_val[i]) < 0)
			goto fail;
	}
	if (meta && meta->type == SM_TOML_TABLE && sm_toml_len(meta) == 0)
		(void)sm_toml_remove(e, "metadata"); /* written only if non-empty */
	return e;
fail:
	sm_toml_free(tags);
	sm_toml_free(e);
	return NULL;
}
