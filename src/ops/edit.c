/* SPDX-License-Identifier: MIT */
/*
 * Metadata editing, files first (skillmeat/edit.h): home lock -> re-read the
 * artifact and check its revision -> frontmatter file, manifest, lock
 * written atomically -> the row refreshed in one transaction -> unlock ->
 * invalidate.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "skillmeat/artifact.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/edit.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/metadata.h"
#include "skillmeat/ops.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "skillmeat/utf8.h"
#include "util/banned.h"

#define FILE_MAX ((size_t)4 << 20)

void sm_edit_result_release(struct sm_edit_result *r)
{
	if (!r)
		return;
	sm_free(r->current_revision);
	sm_free(r->collection);
	sm_free(r->type);
	sm_free(r->name);
	memset(r, 0, sizeof(*r));
}

/* ---- validation ---- */

static bool has_ctl(const char *s, bool allow_newlines)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (allow_newlines && (c == '\n' || c == '\t'))
			continue;
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

static bool utf8_ok(const char *s)
{
	return sm_utf8_valid(s, strlen(s));
}

int sm_edit_check(const struct sm_fm_edit *fields, struct strbuf *err)
{
	bool any = false;

	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		const struct sm_fm_value *v = &fields->f[f];
		const char *key = sm_fm_field_key((enum sm_fm_field)f);

		if (!v->set)
			continue;
		any = true;
		if (f == SM_FM_TAGS || f == SM_FM_TOOLS) {
			if (v->n_items > SM_EDIT_TAGS_MAX)
				return sm_err(err, -EINVAL, "too many %s (at most %d)", key,
					      SM_EDIT_TAGS_MAX);
			for (size_t i = 0; i < v->n_items; i++) {
				const char *s = v->items[i];
				size_t n = s ? strlen(s) : 0;

				if (!n || s[0] == ' ' || s[n - 1] == ' ')
					return sm_err(err, -EINVAL,
						      "%s: an item is empty or has surrounding blanks",
						      key);
				if (n > SM_EDIT_TAG_MAX)
					return sm_err(err, -EINVAL, "%s: an item is longer than %d bytes",
						      key, SM_EDIT_TAG_MAX);
				if (!utf8_ok(s) || has_ctl(s, false))
					return sm_err(err, -EINVAL,
						      "%s: an item is not valid UTF-8 text", key);
				if (f == SM_FM_TOOLS && !sm_metadata_tool_name(s))
					return sm_err(err, -EINVAL, "unknown tool '%s'", s);
			}
			continue;
		}
		if (!v->str)
			continue;
		if (strlen(v->str) > SM_EDIT_FIELD_MAX)
			return sm_err(err, -EINVAL, "%s is longer than %d bytes", key,
				      SM_EDIT_FIELD_MAX);
		if (!utf8_ok(v->str) || has_ctl(v->str, f == SM_FM_DESCRIPTION))
			return sm_err(err, -EINVAL, "%s is not valid UTF-8 text", key);
	}
	if (!any)
		return sm_err(err, -EINVAL, "no field to change");
	return 0;
}

bool sm_edit_revision_matches(const char *want, const char *rev)
{
	const char *p = want;
	size_t rl = strlen(rev);

	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len >= 2 && p[0] == 'W' && p[1] == '/') {
			p += 2;
			len -= 2;
		}
		if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
			p++;
			len -= 2;
		}
		if ((len == 1 && p[0] == '*') ||
		    (len >= rl && !memcmp(p, rev, rl) && (len == rl || p[rl] == '.')))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* ---- the manifest entry ---- */

/* entry with tags (when set) and its metadata copy replaced; a new table */
static struct sm_toml_value *new_entry(const struct sm_toml_value *old, const struct sm_fm_value *tags,
				       const struct sm_toml_value *meta)
{
	static const char *const after_tags[] = {"origin_source", "target_platforms", "import_id",
						 "uuid"};
	struct sm_toml_value *e = sm_toml_new_table();
	bool placed = !tags->set || !tags->n_items || sm_toml_get(old, "tags");

	if (!e)
		return NULL;
	for (size_t i = 0; i < sm_toml_len(old); i++) {
		const struct sm_toml_kv *kv = sm_toml_kv_at(old, i);
		struct sm_toml_value *v;

		for (size_t k = 0; !placed && k < SM_ARRAY_SIZE(after_tags); k++) {
			if (strcmp(kv->key, after_tags[k]))
				continue;
			if (sm_toml_set(e, "tags", sm_toml_new_array()) < 0)
				goto fail;
			placed = true;
		}
		if (!strcmp(kv->key, "metadata")) {
			if (!sm_toml_len(meta))
				continue;
			v = sm_toml_clone(meta);
		} else if (!strcmp(kv->key, "tags") && tags->set) {
			if (!tags->n_items)
				continue;
			v = sm_toml_new_array();
		} else {
			v = sm_toml_clone(kv->value);
		}
		if (!v || sm_toml_setn(e, kv->key, kv->keylen, v) < 0) {
			sm_toml_free(v);
			goto fail;
		}
	}
	if (!placed && sm_toml_set(e, "tags", sm_toml_new_array()) < 0)
		goto fail;
	if (tags->set && tags->n_items) {
		struct sm_toml_value *arr = (struct sm_toml_value *)sm_toml_get(e, "tags");

		for (size_t i = 0; i < tags->n_items; i++)
			if (sm_toml_push(arr, sm_toml_new_string(tags->items[i])) < 0)
				goto fail;
	}
	if (sm_toml_len(meta) && !sm_toml_get(e, "metadata")) {
		struct sm_toml_value *v = sm_toml_clone(meta);

		if (!v || sm_toml_set(e, "metadata", v) < 0)
			goto fail;
	}
	return e;
fail:
	sm_toml_free(e);
	return NULL;
}

/* ---- the operation ---- */

struct tools_copy {
	const char *items[SM_EDIT_TAGS_MAX];
};

static int revision_now(struct sm_cache *cache, const struct sm_collection *c, size_t idx,
			char **ret, struct strbuf *err)
{
	struct sm_artifact_row row = {0};
	int r = sm_cache_sync_entry(cache, c, idx, true, &row, err);

	if (r == 0) {
		*ret = row.row_hash;
		row.row_hash = NULL;
	}
	sm_artifact_row_release(&row);
	return r;
}

static int write_all(struct sm_collection *c, size_t idx, const char *mdpath,
		     const struct strbuf *text, const struct sm_fm_edit *fields,
		     enum sm_artifact_type type, bool *changed, struct strbuf *err)
{
	const struct sm_toml_value *old = sm_manifest_at(c->manifest, idx);
	struct strbuf out = STRBUF_INIT;
	struct sm_metadata m = {0};
	struct sm_toml_value *e = NULL;
	struct sm_view v = {0};
	bool have_view = false, staged = false;
	char staged_hash[SM_SHA256_HEX_LEN + 1];
	const char *origin, *name;
	int r;

	r = sm_frontmatter_edit(text->buf, text->len, type, fields, &out, err);
	if (r < 0)
		goto out;
	r = sm_metadata_extract_text(out.buf, out.len, mdpath, &m, err);
	if (r < 0)
		goto out;
	e = new_entry(old, &fields->f[SM_FM_TAGS], m.table);
	if (!e) {
		r = -ENOMEM;
		goto out;
	}
	if (out.len != text->len || memcmp(out.buf, text->buf, out.len)) {
		/* staged, moved into place by the commit with the manifest and the lock */
		r = sm_collection_stage_file(c, idx, mdpath, out.buf, out.len, staged_hash, err);
		if (r < 0)
			goto out;
		staged = true;
		*changed = true;
	}
	if (!sm_toml_equal(e, old, true)) {
		r = sm_manifest_replace(c->manifest, idx, e);
		e = NULL;
		if (r < 0)
			goto out;
		c->dirty = true;
		*changed = true;
	}
	/* the lock follows a local artifact; a GitHub one keeps the upstream hash */
	old = sm_manifest_at(c->manifest, idx); /* the entry now (the old one may be freed) */
	origin = sm_entry_str(old, "origin");
	name = sm_entry_name(old);
	if (*changed && !(origin && !strcmp(origin, "github"))) {
		const struct sm_toml_value *le = sm_lock_get(c->lock, name, type);
		const char *hash = sm_lock_hash(c->lock, name, type);

		if (staged) {
			memcpy(v.hash, staged_hash, sizeof(staged_hash));
			v.have_hash = true;
		} else if ((r = sm_view_load(c, idx, &v, err)) < 0) {
			goto out;
		} else {
			have_view = true;
		}
		if (v.have_hash && (!hash || strcmp(hash, v.hash))) {
			r = sm_lock_set(c->lock, name, type, v.hash, sm_entry_str(le, "upstream"),
					sm_entry_str(le, "resolved_sha"),
					sm_entry_str(le, "resolved_version"));
			if (r < 0)
				goto out;
			c->dirty = true;
		}
	}
	/* manifest and lock in one crash-safe commit (core/txn.h), never one without the other */
	r = sm_collection_commit(c, err);
out:
	if (have_view)
		sm_view_release(&v);
	sm_toml_free(e);
	sm_metadata_release(&m);
	sm_strbuf_release(&out);
	return r;
}

int sm_edit_artifact(const struct sm_ops_ctx *ctx, const struct sm_edit_request *req,
		     struct sm_edit_result *ret, struct strbuf *err)
{
	struct sm_edit_result res = {0};
	struct sm_fm_edit fields = req->fields;
	struct tools_copy tools;
	struct sm_collection *c = NULL;
	struct sm_cache *own_cache = NULL, *cache = ctx->cache;
	struct strbuf mdpath = STRBUF_INIT, text = STRBUF_INIT, abs = STRBUF_INIT;
	const struct sm_toml_value *e;
	enum sm_artifact_type type;
	bool locked = false, wrote_row = false;
	char *before = NULL;
	long idx;
	int r;

	if ((r = sm_edit_check(&req->fields, err)) < 0)
		return r;
	if (fields.f[SM_FM_TOOLS].set) {
		for (size_t i = 0; i < fields.f[SM_FM_TOOLS].n_items; i++)
			tools.items[i] = sm_metadata_tool_name(fields.f[SM_FM_TOOLS].items[i]);
		fields.f[SM_FM_TOOLS].items = tools.items;
	}
	if (!cache && (r = sm_cache_open(ctx->home, &own_cache, err)) < 0)
		return r;
	if (own_cache)
		cache = own_cache;
	if ((r = sm_home_lock(ctx->home, err)) < 0)
		goto out;
	locked = true;
	if ((r = sm_collection_open(ctx->home, req->collection, &c, err)) < 0)
		goto out;
	/* the manifest as read: the index may follow our write without a full sync */
	if ((r = sm_cache_manifest_fp(c->dir, &before)) < 0)
		goto out;
	idx = sm_collection_resolve(c, req->id, err);
	if (idx < 0) {
		r = (int)idx;
		goto out;
	}
	e = sm_manifest_at(c->manifest, (size_t)idx);
	type = sm_entry_type(e);
	if (type != SM_TYPE_SKILL && type != SM_TYPE_COMMAND && type != SM_TYPE_AGENT) {
		r = sm_err(err, -EINVAL, "%s %s has no frontmatter to edit",
			   sm_artifact_type_article(type), sm_artifact_type_name(type));
		goto out;
	}
	res.collection = sm_strdup(c->name);
	res.type = sm_strdup(sm_artifact_type_name(type));
	res.name = sm_strdup(sm_entry_name(e));
	if (!res.collection || !res.type || !res.name) {
		r = -ENOMEM;
		goto out;
	}

	/* the precondition, against the files as they are now */
	if (req->expected_revision) {
		r = revision_now(cache, c, (size_t)idx, &res.current_revision, err);
		if (r < 0)
			goto out;
		wrote_row = true;
		if (!sm_edit_revision_matches(req->expected_revision, res.current_revision)) {
			res.conflict = true;
			goto out;
		}
	}

	r = sm_collection_entry_path(c, e, &abs, err);
	if (r < 0)
		goto out;
	r = sm_metadata_find_file(abs.buf, type, &mdpath, err);
	if (r < 0)
		goto out;
	if (r == 0) {
		/* a skill folder without SKILL.md gets one; other shapes need their file */
		if (type != SM_TYPE_SKILL || !sm_fs_is_dir(abs.buf)) {
			r = sm_err(err, -ENOENT, "'%s:%s' has no metadata file", res.type,
				   res.name);
			goto out;
		}
		sm_strbuf_reset(&mdpath);
		if ((r = sm_strbuf_addf(&mdpath, "%s/SKILL.md", abs.buf)) < 0)
			goto out;
	} else {
		r = sm_fs_read_file(mdpath.buf, FILE_MAX, &text, err);
		if (r == -E2BIG || r == -EFBIG)
			r = sm_err(err, -E2BIG, "'%s' is too large to edit", mdpath.buf);
		if (r < 0)
			goto out;
	}
	if ((r = write_all(c, (size_t)idx, mdpath.buf, &text, &fields, type, &res.changed, err)) <
	    0)
		goto out;
	if (res.changed || !wrote_row) {
		struct sm_artifact_row row = {0};

		r = sm_cache_sync_entry(cache, c, (size_t)idx, true, &row, err);
		if (r == 0) {
			sm_free(res.current_revision);
			res.current_revision = row.row_hash;
			row.row_hash = NULL;
			wrote_row = true;
		}
		sm_artifact_row_release(&row);
		if (r < 0)
			goto out;
		if (res.changed)
			r = sm_cache_note_manifest_write(cache, c->name, c->dir, before, err);
		if (r < 0)
			goto out;
	}
out:
	if (locked)
		sm_home_unlock(ctx->home);
	if (wrote_row)
		sm_ops_invalidate(ctx, NULL);
	sm_collection_free(c);
	sm_cache_close(own_cache);
	sm_strbuf_release(&mdpath);
	sm_strbuf_release(&text);
	sm_strbuf_release(&abs);
	sm_free(before);
	if (r < 0) {
		sm_edit_result_release(&res);
		return r;
	}
	*ret = res;
	return 0;
}
