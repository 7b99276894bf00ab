/* SPDX-License-Identifier: MIT */
/* Team-mode operations over the team store (skillmeat/ops_team.h, docs/team.md). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/artifact.h"
#include "skillmeat/base64.h"
#include "skillmeat/cache.h"
#include "skillmeat/edit.h"
#include "skillmeat/frontmatter.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/metadata.h"
#include "skillmeat/ops_team.h"
#include "skillmeat/sha256.h"
#include "skillmeat/source.h"
#include "skillmeat/store.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

/* The collection every uploaded artifact is in (the team store has one). */
#define TEAM_COLLECTION "default"

int sm_team_path_cmp(const char *a, const char *b)
{
	/* component by component (sm_fs_walk's order, the hash's): '/' sorts first */
	for (;; a++, b++) {
		unsigned ca = *a == '/' ? 1 : (unsigned char)*a, cb = *b == '/' ? 1 : (unsigned char)*b;

		if (ca != cb || !ca)
			return ca < cb ? -1 : ca > cb;
	}
}

static int cmp_path(const void *a, const void *b)
{
	return sm_team_path_cmp(((const struct sm_team_file *)a)->path,
				((const struct sm_team_file *)b)->path);
}

static char *json_list(const char *const *v, size_t n, const struct sm_toml_value *arr)
{
	json_t *j = json_array();
	char *s;

	for (size_t i = 0; j && i < n; i++)
		json_array_append_new(j, json_string(v[i]));
	for (size_t i = 0; j && !v && i < sm_toml_len(arr); i++)
		if (sm_toml_str(sm_toml_at(arr, i)))
			json_array_append_new(j, json_stringn(sm_toml_str(sm_toml_at(arr, i)),
							      sm_toml_strlen(sm_toml_at(arr, i))));
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

/* The given tags, then the frontmatter's not among them (the personal add's shown tags). */
static char *tags_union(const char *const *v, size_t n, const struct sm_toml_value *arr)
{
	json_t *j = json_array();
	char *s;

	for (size_t i = 0; j && i < n; i++)
		json_array_append_new(j, json_string(v[i]));
	for (size_t i = 0; j && i < sm_toml_len(arr); i++) {
		const char *t = sm_toml_str(sm_toml_at(arr, i));
		bool seen = false;

		for (size_t k = 0; t && !seen && k < json_array_size(j); k++)
			seen = !strcmp(json_string_value(json_array_get(j, k)), t);
		if (t && !seen)
			json_array_append_new(j, json_string(t));
	}
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

static char *dup_or(const char *given, const char *found)
{
	const char *v = given ? given : found;

	return v ? sm_strdup(v) : NULL;
}

/*
 * The metadata file among n paths (a skill's SKILL.md; a command's or an
 * agent's one .md file or command.md / AGENT.md / agent.md), or -1. path(v, i)
 * is the i-th path: an upload's files or the stored ones.
 */
static ssize_t metadata_index(enum sm_artifact_type type, size_t n,
			      const char *(*path)(const void *v, size_t i), const void *v)
{
	static const char *const names[] = {"SKILL.md", "command.md", "AGENT.md", "agent.md"};

	for (size_t k = 0; k < SM_ARRAY_SIZE(names); k++)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(path(v, i), names[k]))
				return (ssize_t)i;
	if (type == SM_TYPE_SKILL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p = path(v, i);
		size_t len = strlen(p);

		if (len > 3 && !strcmp(p + len - 3, ".md") && !strchr(p, '/'))
			return (ssize_t)i;
	}
	return -1;
}

static const char *upload_path(const void *v, size_t i)
{
	return ((const struct sm_team_file *)v)[i].path;
}

static const char *blob_path(const void *v, size_t i)
{
	return ((const struct sm_pg_blob *)v)[i].path;
}

/*
 * SkillMeat's content hash of n files in sm_team_path_cmp order: a one-file
 * artifact its bytes, else each file's path then bytes.
 */
static int content_hash(enum sm_artifact_type type, size_t n,
			const char *(*path)(const void *v, size_t i), const void *v,
			const void *(*data)(const void *d, size_t i, size_t *len), const void *d,
			char hex[SM_SHA256_HEX_LEN + 1])
{
	struct sm_sha256 *h = NULL;
	int r = sm_sha256_new(&h);

	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t len;
		const void *b = data(d, i, &len);

		if (!(n == 1 && sm_artifact_type_is_file(type)))
			r = sm_sha256_update(h, path(v, i), strlen(path(v, i)));
		if (r == 0)
			r = sm_sha256_update(h, b, len);
	}
	if (r == 0)
		r = sm_sha256_final_hex(h, hex);
	sm_sha256_free(h);
	return r;
}

static const void *body_data(const void *d, size_t i, size_t *len)
{
	const struct strbuf *b = &((const struct strbuf *)d)[i];

	*len = b->len;
	return b->buf;
}

static const void *blob_data(const void *d, size_t i, size_t *len)
{
	const struct sm_pg_blob *b = &((const struct sm_pg_blob *)d)[i];

	*len = b->len;
	return b->data;
}

static int build_row(const struct sm_team_upload *u, struct sm_team_file *files,
		     struct strbuf *bodies, struct sm_artifact_row *row, struct strbuf *err)
{
	enum sm_artifact_type type = sm_artifact_type_parse(u->type);
	struct sm_metadata meta = {0};
	char hex[SM_SHA256_HEX_LEN + 1], added[SM_ISO_MAX];
	const struct sm_toml_value *t = NULL;
	ssize_t mf = metadata_index(type, u->nfiles, upload_path, files);
	int64_t total = 0;
	int r;

	if (mf < 0 && type == SM_TYPE_SKILL)
		return sm_err(err, -EINVAL, "a skill needs a SKILL.md");
	if (mf >= 0) {
		r = sm_metadata_extract_text(bodies[mf].buf, bodies[mf].len, files[mf].path, &meta,
					     err);
		if (r < 0)
			return r;
		t = meta.table;
	}
	r = content_hash(type, u->nfiles, upload_path, files, body_data, bodies, hex);
	for (size_t i = 0; i < u->nfiles; i++)
		total += (int64_t)bodies[i].len;
	if (r < 0) {
		sm_metadata_release(&meta);
		return sm_err(err, r, "cannot hash the files");
	}
	if (u->content_hash && strcmp(u->content_hash, hex) != 0) {
		sm_metadata_release(&meta);
		return sm_err(err, -EINVAL,
			      "content hash mismatch: the files received hash to %s, the client sent %s"
			      " (nothing stored)",
			      hex, u->content_hash);
	}
	if (sm_time_now_iso(added) < 0)
		added[0] = 0;
	row->uuid = sm_malloc(33);
	if (row->uuid)
		r = sm_cache_derive_uuid(TEAM_COLLECTION, sm_artifact_type_name(type), u->name,
					 row->uuid);
	row->collection = sm_strdup(TEAM_COLLECTION);
	row->type = sm_strdup(sm_artifact_type_name(type));
	row->name = sm_strdup(u->name);
	row->path = NULL;
	if (u->origin) {
		row->source = dup_or(u->source, "");
		row->origin = sm_strdup(u->origin);
		row->upstream = dup_or(u->upstream, NULL);
		row->version_spec = dup_or(u->version_spec, NULL);
		row->resolved_sha = dup_or(u->resolved_sha, NULL);
		row->resolved_version = dup_or(u->resolved_version, NULL);
		if ((u->upstream && !row->upstream) || (u->version_spec && !row->version_spec) ||
		    (u->resolved_sha && !row->resolved_sha) ||
		    (u->resolved_version && !row->resolved_version))
			r = -ENOMEM;
	} else {
		if (sm_strbuf_addf(&bodies[u->nfiles], "%s:%s", row->type ? row->type : "",
				   u->name) == 0)
			row->source = sm_strdup(bodies[u->nfiles].buf);
		row->origin = sm_strdup("team");
	}
	row->title = dup_or(u->title, sm_toml_get_string(t, "title"));
	row->description = dup_or(u->description, sm_toml_get_string(t, "description"));
	row->author = dup_or(u->author, sm_toml_get_string(t, "author"));
	row->license = dup_or(u->license, sm_toml_get_string(t, "license"));
	row->version = dup_or(u->version, sm_toml_get_string(t, "version"));
	row->tags_json = u->origin ? tags_union(u->tags, u->ntags, meta.tags)
				   : json_list(u->tags, u->ntags, meta.tags);
	row->tools_json = json_list(NULL, 0, sm_toml_get(t, "tools"));
	row->added = sm_strdup(added);
	row->updated = sm_strdup(added);
	row->content_hash = sm_strdup(hex);
	row->lock_hash = sm_strdup(hex);
	row->file_count = (int64_t)u->nfiles;
	row->total_size = total;
	sm_metadata_release(&meta);
	if (r < 0 || !row->uuid || !row->collection || !row->type || !row->name || !row->source ||
	    !row->origin || !row->tags_json || !row->tools_json || !row->added || !row->updated ||
	    !row->content_hash || !row->lock_hash)
		return sm_err(err, -ENOMEM, "out of memory");
	return 0;
}

int sm_ops_team_upload(struct sm_store *st, const struct sm_team_upload *u,
		       struct sm_artifact_row *ret, struct strbuf *err)
{
	struct sm_artifact_row row = {0};
	struct sm_team_file *files = NULL;
	struct sm_pg_file *pf = NULL;
	struct strbuf *bodies = NULL;
	char uuid[33];
	int r;

	if (!u->type || sm_artifact_type_parse(u->type) == SM_TYPE_INVALID)
		return sm_err(err, -EINVAL, "unknown artifact type '%s'", u->type ? u->type : "");
	if ((r = sm_artifact_name_check(u->name, err)) < 0)
		return r;
	if (u->nfiles == 0 || u->nfiles > 10000)
		return sm_err(err, -EINVAL, "an artifact needs 1 to 10000 files");
	files = sm_calloc(u->nfiles, sizeof(*files));
	bodies = sm_calloc(u->nfiles + 1, sizeof(*bodies));
	pf = sm_calloc(u->nfiles, sizeof(*pf));
	if (!files || !bodies || !pf) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i <= u->nfiles; i++)
		bodies[i] = (struct strbuf)STRBUF_INIT;
	memcpy(files, u->files, u->nfiles * sizeof(*files));
	qsort(files, u->nfiles, sizeof(*files), cmp_path);
	for (size_t i = 0; i < u->nfiles; i++) {
		if (!sm_fs_rel_path_ok(files[i].path) || (i && !strcmp(files[i].path, files[i - 1].path))) {
			r = sm_err(err, -EINVAL, "invalid or repeated file path '%s'",
				   files[i].path ? files[i].path : "");
			goto out;
		}
		if (!files[i].content_b64 ||
		    sm_base64_decode(files[i].content_b64, strlen(files[i].content_b64),
				     &bodies[i]) < 0) {
			r = sm_err(err, -EINVAL, "file '%s': content_base64 is not base64",
				   files[i].path);
			goto out;
		}
		pf[i].path = files[i].path;
		pf[i].content_b64 = files[i].content_b64;
	}
	if ((r = build_row(u, files, bodies, &row, err)) < 0)
		goto out;
	r = sm_store_pg_put_artifact(st, &row, pf, u->nfiles, u->force, uuid, err);
	/* the row as stored: a forced upload kept the uuid, the store set the revision */
	if (r >= 0 && ret) {
		int g = sm_store_get_artifact(st, uuid, ret, err);

		if (g < 0)
			r = g;
	}
out:
	sm_artifact_row_release(&row);
	for (size_t i = 0; bodies && i <= u->nfiles; i++)
		sm_strbuf_release(&bodies[i]);
	sm_free(bodies);
	sm_free(files);
	sm_free(pf);
	return r;
}

/* The files under the fetched path (a folder, or one file) as an upload's, base64. */
static int read_fetched(const char *src, struct sm_team_file **ret, struct strbuf **ret_b64,
			size_t *ret_n, struct strbuf *err)
{
	struct sm_fs_list list = {0};
	struct sm_team_file *files = NULL;
	struct strbuf *b64 = NULL, dir = STRBUF_INIT, path = STRBUF_INIT, data = STRBUF_INIT;
	size_t total = 0, n = 0;
	int r;

	if ((r = sm_fs_walk(src, &list, err)) < 0)
		return r;
	if (list.len == 0 || list.len > SM_TEAM_MAX_FILES) {
		r = sm_err(err, list.len ? -E2BIG : -EINVAL, "the fetched artifact has %s files",
			   list.len ? "too many" : "no");
		goto out;
	}
	/* a one-file artifact: its file is read from its folder */
	if (sm_fs_is_file(src)) {
		const char *slash = strrchr(src, '/');

		r = sm_strbuf_add(&dir, src, slash ? (size_t)(slash - src) : 0);
	} else {
		r = sm_strbuf_addstr(&dir, src);
	}
	files = sm_calloc(list.len, sizeof(*files));
	b64 = sm_calloc(list.len, sizeof(*b64));
	if (r < 0 || !files || !b64) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (; n < list.len; n++) {
		b64[n] = (struct strbuf)STRBUF_INIT;
		if (list.items[n].size > SM_TEAM_MAX_BYTES - total) {
			r = sm_err(err, -E2BIG, "the fetched artifact's files are over %zu bytes",
				   SM_TEAM_MAX_BYTES);
			n++;
			goto out;
		}
		sm_strbuf_reset(&path);
		sm_strbuf_reset(&data);
		if ((r = sm_fs_join(&path, dir.buf, list.items[n].rel)) < 0 ||
		    (r = sm_fs_read_file(path.buf, SM_TEAM_MAX_BYTES - total, &data, err)) < 0) {
			if (r == -ENOMEM)
				r = sm_err(err, r, "out of memory");
			n++;
			goto out;
		}
		total += data.len;
		if ((r = sm_base64_encode(data.buf, data.len, &b64[n])) < 0) {
			r = sm_err(err, r, "out of memory");
			n++;
			goto out;
		}
		files[n].content_b64 = b64[n].buf;
	}
	/* the paths live in list's entries: detach them into files' own */
	for (size_t i = 0; i < n; i++) {
		files[i].path = list.items[i].rel;
		list.items[i].rel = NULL;
	}
	*ret = files;
	*ret_b64 = b64;
	*ret_n = n;
	files = NULL;
	b64 = NULL;
	r = 0;
out:
	for (size_t i = 0; b64 && i < n; i++)
		sm_strbuf_release(&b64[i]);
	sm_free(b64);
	sm_free(files);
	sm_fs_list_release(&list);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&path);
	sm_strbuf_release(&data);
	return r;
}

/* The default name of a GitHub artifact: the stem of the path's last part, or the repository. */
static int github_name(const struct sm_github_spec *gs, struct strbuf *out)
{
	const char *p = *gs->path ? gs->path : gs->repo, *slash = strrchr(p, '/'), *dot;

	if (slash)
		p = slash + 1;
	dot = strrchr(p, '.');
	return sm_strbuf_add(out, p, dot && dot != p ? (size_t)(dot - p) : strlen(p));
}

int sm_ops_team_add_github(struct sm_store *st, const struct sm_home *home,
			   const struct sm_team_github *req, struct sm_artifact_row *ret,
			   struct strbuf *err)
{
	struct sm_github_spec gs = {0};
	struct sm_git_fetch f = {0};
	struct sm_team_file *files = NULL;
	struct strbuf *b64 = NULL, name = STRBUF_INIT;
	size_t n = 0;
	const char *token = home ? sm_config_string(home, "settings.github-token", NULL) : NULL;
	bool fetched = false;
	int r;

	if (!req->type || sm_artifact_type_parse(req->type) == SM_TYPE_INVALID)
		return sm_err(err, -EINVAL, "unknown artifact type '%s'", req->type ? req->type : "");
	if ((r = sm_github_spec_parse(req->spec, &gs, err)) < 0)
		return r;
	if (req->name)
		r = sm_strbuf_addstr(&name, req->name);
	else
		r = github_name(&gs, &name);
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	/* a bad name is refused before the network is asked */
	if ((r = sm_artifact_name_check(name.buf, err)) < 0)
		goto out;
	if (!token)
		token = getenv("SKILLMEAT_GITHUB_TOKEN");
	if (!token)
		token = getenv("GITHUB_TOKEN");
	r = sm_git_fetch(&gs, home ? sm_config_string(home, "github.api-url", NULL) : NULL, token,
			 &f, err);
	if (r < 0)
		goto out;
	fetched = true;
	if ((r = read_fetched(f.artifact_path, &files, &b64, &n, err)) < 0)
		goto out;
	{
		const struct sm_team_upload u = {
		    .type = req->type,
		    .name = name.buf,
		    .files = files,
		    .nfiles = n,
		    .tags = req->tags,
		    .ntags = req->ntags,
		    .force = req->force,
		    .origin = "github",
		    .source = f.upstream,
		    .upstream = f.upstream,
		    .version_spec = gs.version,
		    .resolved_sha = f.sha,
		    .resolved_version = f.resolved_version,
		};

		r = sm_ops_team_upload(st, &u, ret, err);
	}
out:
	for (size_t i = 0; i < n; i++) {
		sm_free((char *)files[i].path);
		sm_strbuf_release(&b64[i]);
	}
	sm_free(files);
	sm_free(b64);
	if (fetched)
		sm_git_fetch_release(&f);
	sm_github_spec_release(&gs);
	sm_strbuf_release(&name);
	return r;
}

/* A list field as the row stores it: a JSON array of strings. */
static char *items_json(const struct sm_fm_value *v)
{
	return json_list(v->items, v->items ? v->n_items : 0, NULL);
}

static int apply(struct sm_artifact_row *row, const struct sm_fm_edit *fields)
{
	char **str[] = {
	    [SM_FM_TITLE] = &row->title,	     [SM_FM_DESCRIPTION] = &row->description,
	    [SM_FM_AUTHOR] = &row->author,	     [SM_FM_LICENSE] = &row->license,
	    [SM_FM_VERSION] = &row->version,	     [SM_FM_TAGS] = &row->tags_json,
	    [SM_FM_TOOLS] = &row->tools_json,
	};
	char now[SM_ISO_MAX];

	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		const struct sm_fm_value *v = &fields->f[f];
		char *nv = NULL;

		if (!v->set)
			continue;
		if (f == SM_FM_TAGS || f == SM_FM_TOOLS)
			nv = items_json(v);
		else if (v->str)
			nv = sm_strdup(v->str);
		if (!nv && (f == SM_FM_TAGS || f == SM_FM_TOOLS || v->str))
			return -ENOMEM;
		sm_free(*str[f]);
		*str[f] = nv;
	}
	if (sm_time_now_iso(now) == 0) {
		sm_free(row->updated);
		if (!(row->updated = sm_strdup(now)))
			return -ENOMEM;
	}
	return 0;
}

static int cmp_blob(const void *a, const void *b)
{
	return sm_team_path_cmp(((const struct sm_pg_blob *)a)->path,
				((const struct sm_pg_blob *)b)->path);
}

/* The most bytes of an artifact's files a frontmatter rewrite reads (to hash them). */
#define EDIT_MAX_BYTES (256u << 20)

/*
 * The stored metadata file with fields written into its frontmatter (as
 * sm_ops_edit_metadata does to the file of SQLite mode), and the row's
 * content hash, lock hash and size made the files' again, in the caller's
 * transaction. An artifact without a metadata file: nothing to rewrite.
 */
static int rewrite_frontmatter(struct sm_store *st, struct sm_artifact_row *row,
			       const struct sm_fm_edit *fields, struct strbuf *err)
{
	enum sm_artifact_type type = sm_artifact_type_parse(row->type);
	struct sm_pg_blob *b = NULL;
	struct strbuf out = STRBUF_INIT;
	char hex[SM_SHA256_HEX_LEN + 1];
	int64_t total = 0;
	ssize_t mf;
	size_t n = 0;
	int r;

	if ((r = sm_store_pg_get_files(st, row->uuid, EDIT_MAX_BYTES, &b, &n, err)) < 0)
		return r;
	/* the hash's order, not the store's byte order */
	qsort(b, n, sizeof(*b), cmp_blob);
	mf = metadata_index(type, n, blob_path, b);
	if (mf < 0)
		goto out;
	r = sm_frontmatter_edit((const char *)b[mf].data, b[mf].len, type, fields, &out, err);
	if (r < 0 || (out.len == b[mf].len && !memcmp(out.buf, b[mf].data, out.len)))
		goto out;
	sm_free(b[mf].data);
	b[mf].len = out.len;
	b[mf].data = (unsigned char *)sm_strbuf_detach(&out, NULL);
	if (!b[mf].data) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = content_hash(type, n, blob_path, b, blob_data, b, hex)) < 0) {
		r = sm_err(err, r, "cannot hash the files");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		total += (int64_t)b[i].len;
	r = sm_store_pg_put_file(st, row->uuid, b[mf].path, b[mf].data, b[mf].len, hex, total,
				 err);
	if (r < 0)
		goto out;
	/* the row as the compare-and-set writes it (its row_hash covers these) */
	sm_free(row->content_hash);
	sm_free(row->lock_hash);
	row->content_hash = sm_strdup(hex);
	row->lock_hash = sm_strdup(hex);
	row->total_size = total;
	if (!row->content_hash || !row->lock_hash)
		r = sm_err(err, -ENOMEM, "out of memory");
out:
	sm_strbuf_release(&out);
	sm_pg_blobs_free(b, n);
	return r;
}

/*
 * The edit of the row, and with frontmatter of the metadata file too: then
 * one transaction holding the tenant's lock, so the file, its hash and the
 * row change together or not at all.
 */
static int team_edit(struct sm_store *st, const char *collection, const char *type,
		     const char *name, const struct sm_fm_edit *fields, const char *expected,
		     bool frontmatter, struct sm_edit_result *ret, struct strbuf *err)
{
	struct sm_artifact_row row = {0};
	char *was = NULL;
	bool tx = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = sm_edit_check(fields, err)) < 0)
		return r;
	if (frontmatter) {
		if ((r = sm_store_begin(st, err)) < 0)
			return r;
		tx = true;
	}
	if ((r = sm_store_get_artifact_by_key(st, collection, type, name, &row, err)) < 0)
		goto out;
	ret->collection = sm_strdup(collection);
	ret->type = sm_strdup(type);
	ret->name = sm_strdup(name);
	was = sm_strdup(row.row_hash);
	if (!ret->collection || !ret->type || !ret->name || !was) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (expected && !sm_edit_revision_matches(expected, row.row_hash)) {
		ret->conflict = true;
		goto current;
	}
	if ((r = apply(&row, fields)) < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	if (frontmatter && (r = rewrite_frontmatter(st, &row, fields, err)) < 0)
		goto out;
	/* the compare-and-set: a commit of another edit since our read makes this one lose */
	r = sm_store_pg_update_artifact(st, &row, was, err);
	if (r < 0)
		goto out;
	ret->conflict = r == 0;
	ret->changed = r == 1;
	r = 0;
	if (tx) {
		r = ret->changed ? sm_store_commit(st, err) : sm_store_rollback(st, err);
		tx = false;
		if (r < 0)
			goto out;
	}
current:
	sm_artifact_row_release(&row);
	if ((r = sm_store_get_artifact_by_key(st, collection, type, name, &row, err)) < 0)
		goto out;
	if (!(ret->current_revision = sm_strdup(row.row_hash)))
		r = sm_err(err, -ENOMEM, "out of memory");
out:
	if (tx)
		(void)sm_store_rollback(st, NULL);
	sm_free(was);
	sm_artifact_row_release(&row);
	if (r < 0)
		sm_edit_result_release(ret);
	return r;
}

int sm_ops_team_edit(struct sm_store *st, const char *collection, const char *type,
		     const char *name, const struct sm_fm_edit *fields, const char *expected,
		     struct sm_edit_result *ret, struct strbuf *err)
{
	return team_edit(st, collection, type, name, fields, expected, false, ret, err);
}

int sm_ops_team_edit_metadata(struct sm_store *st, const char *collection, const char *type,
			      const char *name, const struct sm_fm_edit *fields,
			      const char *expected, struct sm_edit_result *ret, struct strbuf *err)
{
	return team_edit(st, collection, type, name, fields, expected, true, ret, err);
}
