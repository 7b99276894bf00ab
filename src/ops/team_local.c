/* SPDX-License-Identifier: MIT */
/*
 * The personal side of team mode (skillmeat/ops_team.h): an artifact of the
 * personal home read for `team push`, and an archive from a team server
 * checked (hostile input: members, sizes, content hash) and added to the
 * personal home for `team pull`, or staged for `deploy --from-team`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skillmeat/archive.h"
#include "skillmeat/array.h"
#include "skillmeat/collection.h"
#include "skillmeat/deploy.h"
#include "skillmeat/home.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_deploy.h"
#include "skillmeat/ops_team.h"
#include "skillmeat/sha256.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

void sm_team_local_release(struct sm_team_local *l)
{
	if (!l)
		return;
	sm_archive_files_free(l->files, l->nfiles);
	sm_free(l->type);
	sm_free(l->name);
	sm_free(l->collection);
	sm_strv_free(l->tags, l->ntags);
	sm_strv_free(l->shown_tags, l->nshown);
	for (size_t i = 0; i < SM_ARRAY_SIZE(l->meta); i++)
		sm_free(l->meta[i]);
	memset(l, 0, sizeof(*l));
}

static int cmp_idx(const void *a, const void *b, void *base)
{
	const struct sm_archive_file *f = base;

	return sm_team_path_cmp(f[*(const size_t *)a].path, f[*(const size_t *)b].path);
}

int sm_team_files_hash(enum sm_artifact_type type, const struct sm_archive_file *files, size_t n,
		       char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	struct sm_sha256 *h = NULL;
	size_t *idx = sm_calloc(n ? n : 1, sizeof(*idx));
	bool one_file = n == 1 && sm_artifact_type_is_file(type) && !strchr(files[0].path, '/');
	int r;

	if (!idx)
		return sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_idx, (void *)files);
	r = sm_sha256_new(&h);
	for (size_t k = 0; r == 0 && k < n; k++) {
		const struct sm_archive_file *f = &files[idx[k]];

		if (!one_file)
			r = sm_sha256_update(h, f->path, strlen(f->path));
		if (r == 0)
			r = sm_sha256_update(h, f->data, f->len);
	}
	if (r == 0)
		r = sm_sha256_final_hex(h, hex);
	sm_sha256_free(h);
	sm_free(idx);
	return r < 0 ? sm_err(err, r, "cannot hash the files: %s", sm_strerror(r)) : 0;
}

/* Read the file rel below dir (at most max bytes) into f. */
static int read_one(const char *dir, const char *rel, size_t max, struct sm_archive_file *f,
		    struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int r = sm_fs_join(&path, dir, rel);

	if (r < 0)
		return sm_err(err, r, "'%s': %s", rel, sm_strerror(r));
	r = sm_fs_read_file(path.buf, max, &text, err);
	if (r == 0) {
		f->path = sm_strdup(rel);
		f->len = text.len;
		f->data = (unsigned char *)sm_strbuf_detach(&text, NULL);
		if (!f->path || !f->data)
			r = sm_err(err, -ENOMEM, "out of memory");
	}
	sm_strbuf_release(&path);
	sm_strbuf_release(&text);
	return r;
}

/* The metadata and tags the home shows for entry idx (the manifest's with the files'). */
static int shown(const struct sm_collection *c, size_t idx, struct sm_team_local *l,
		 struct strbuf *err)
{
	static const char *const keys[] = SM_TEAM_META_KEYS;
	struct sm_strvec tv = SM_STRVEC_INIT;
	struct sm_view v;
	int r;

	if ((r = sm_view_load(c, idx, &v, err)) < 0)
		return r;
	for (size_t k = 0; r == 0 && k < SM_ARRAY_SIZE(keys); k++) {
		const char *s = sm_toml_get_string(v.meta.table, keys[k]);

		if (s && !(l->meta[k] = sm_strdup(s)))
			r = -ENOMEM;
	}
	for (size_t k = 0; r == 0 && k < sm_toml_len(v.tags); k++) {
		const char *t = sm_toml_str(sm_toml_at(v.tags, k));

		if (t)
			r = sm_strvec_push(&tv, t);
	}
	if (r == 0)
		l->shown_tags = sm_strvec_detach(&tv, &l->nshown);
	sm_strvec_release(&tv);
	sm_view_release(&v);
	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

int sm_ops_team_read(const struct sm_ops_ctx *ctx, const char *collection, const char *id,
		     size_t max_total, struct sm_team_local *ret, struct strbuf *err)
{
	struct sm_team_local l = {0};
	struct sm_collection *c = NULL;
	struct sm_fs_list list = {0};
	struct strbuf src = STRBUF_INIT, dir = STRBUF_INIT;
	const struct sm_toml_value *e, *tags;
	const char *lock;
	struct sm_strvec tv = SM_STRVEC_INIT;
	size_t total = 0;
	long i;
	int r;

	if ((r = sm_collection_open(ctx->home, collection, &c, err)) < 0)
		return r;
	if ((i = sm_collection_resolve(c, id, err)) < 0) {
		r = (int)i;
		goto out;
	}
	e = sm_manifest_at(c->manifest, (size_t)i);
	l.type = sm_strdup(sm_artifact_type_name(sm_entry_type(e)));
	l.name = sm_strdup(sm_entry_name(e));
	l.collection = sm_strdup(c->name);
	if (!l.type || !l.name || !l.collection) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = sm_collection_entry_path(c, e, &src, err)) < 0)
		goto out;
	if ((r = sm_fs_walk(src.buf, &list, err)) < 0)
		goto out;
	if (list.len == 0) {
		r = sm_err(err, -ENOENT, "%s:%s has no files", l.type, l.name);
		goto out;
	}
	/* a one-file artifact: its file is read from its folder */
	if (sm_fs_is_file(src.buf)) {
		const char *slash = strrchr(src.buf, '/');

		r = sm_strbuf_add(&dir, src.buf, slash ? (size_t)(slash - src.buf) : 0);
	} else {
		r = sm_strbuf_addstr(&dir, src.buf);
	}
	if (r < 0 || !(l.files = sm_calloc(list.len, sizeof(*l.files)))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < list.len; k++) {
		if (list.items[k].size > max_total - total) {
			r = sm_err(err, -E2BIG, "%s:%s: its files are over %zu bytes", l.type,
				   l.name, max_total);
			goto out;
		}
		r = read_one(dir.buf, list.items[k].rel, max_total - total, &l.files[k], err);
		if (r < 0)
			goto out;
		l.nfiles++;
		total += l.files[k].len;
	}
	if ((r = sm_team_files_hash(sm_entry_type(e), l.files, l.nfiles, l.hash, err)) < 0)
		goto out;
	lock = sm_lock_hash(c->lock, l.name, sm_entry_type(e));
	snprintf(l.lock_hash, sizeof(l.lock_hash), "%s", lock ? lock : "");
	tags = sm_toml_get(e, "tags");
	for (size_t k = 0; k < sm_toml_len(tags); k++) {
		const char *t = sm_toml_str(sm_toml_at(tags, k));

		if (t && (r = sm_strvec_push(&tv, t)) < 0) {
			r = sm_err(err, r, "out of memory");
			goto out;
		}
	}
	l.tags = sm_strvec_detach(&tv, &l.ntags);
	if ((r = shown(c, (size_t)i, &l, err)) < 0)
		goto out;
	*ret = l;
	memset(&l, 0, sizeof(l));
	r = 0;
out:
	sm_team_local_release(&l);
	sm_strvec_release(&tv);
	sm_fs_list_release(&list);
	sm_strbuf_release(&src);
	sm_strbuf_release(&dir);
	sm_collection_free(c);
	return r;
}

/* The path (below dir) where an artifact's files are staged, the add's source. */
static int stage_files(const char *dir, enum sm_artifact_type type, const char *name,
		       const struct sm_archive_file *files, size_t n, struct strbuf *src,
		       struct strbuf *err)
{
	bool one_file = n == 1 && sm_artifact_type_is_file(type) && !strchr(files[0].path, '/');
	struct strbuf p = STRBUF_INIT;
	int r;

	/* a one-file artifact keeps its file name; else a folder named after it */
	if ((r = sm_fs_join(src, dir, one_file ? files[0].path : name)) < 0)
		return sm_err(err, r, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		char *slash;

		sm_strbuf_reset(&p);
		if (one_file)
			r = sm_strbuf_addstr(&p, src->buf);
		else
			r = sm_fs_join(&p, src->buf, files[i].path);
		if (r < 0) {
			r = sm_err(err, r, "'%s': %s", files[i].path, sm_strerror(r));
			break;
		}
		slash = strrchr(p.buf, '/');
		*slash = '\0';
		r = sm_fs_mkdir_p(p.buf, 0755, err);
		*slash = '/';
		if (r == 0)
			r = sm_fs_write_atomic_nosync(p.buf, files[i].data, files[i].len, 0644, err);
	}
	sm_strbuf_release(&p);
	return r;
}

int sm_ops_team_stage(const struct sm_team_fetched *f, const char *dir, struct strbuf *src,
		      struct strbuf *err)
{
	struct sm_archive_file *files = NULL;
	enum sm_artifact_type type = sm_artifact_type_parse(f->type);
	char hex[SM_SHA256_HEX_LEN + 1], staged[SM_SHA256_HEX_LEN + 1];
	size_t n = 0;
	int r;

	if (type == SM_TYPE_INVALID)
		return sm_err(err, -EINVAL, "unknown artifact type '%s'", f->type);
	if ((r = sm_artifact_name_check(f->name, err)) < 0)
		return r;
	if (!f->expected_hash || strlen(f->expected_hash) != SM_SHA256_HEX_LEN)
		return sm_err(err, -EBADMSG, "the server sent no content hash for %s:%s (refused)",
			      f->type, f->name);
	{
		struct strbuf e = STRBUF_INIT;

		r = sm_archive_unpack(f->data, f->len, SM_TEAM_MAX_FILES, SM_TEAM_MAX_BYTES, &files,
				      &n, &e);
		if (r < 0)
			(void)sm_err(err, r, "%s:%s: %s", f->type, f->name, e.buf);
		sm_strbuf_release(&e);
		if (r < 0)
			return r;
	}
	if ((r = sm_team_files_hash(type, files, n, hex, err)) < 0)
		goto out;
	if (strcmp(hex, f->expected_hash)) {
		r = sm_err(err, -EBADMSG,
			   "%s:%s: content hash mismatch: the archive's files hash to %s, the server"
			   " announced %s (refused)",
			   f->type, f->name, hex, f->expected_hash);
		goto out;
	}
	if ((r = stage_files(dir, type, f->name, files, n, src, err)) < 0)
		goto out;
	/* what the add will lock: the same hash, or the staged copy is refused */
	if ((r = sm_content_hash(src->buf, staged, err)) < 0)
		goto out;
	if (strcmp(staged, f->expected_hash))
		r = sm_err(err, -EBADMSG,
			   "%s:%s: the staged copy hashes to %s, the server announced %s (refused)",
			   f->type, f->name, staged, f->expected_hash);
out:
	sm_archive_files_free(files, n);
	return r;
}

int sm_ops_team_tmpdir(struct strbuf *out, struct strbuf *err)
{
	const char *tmp = getenv("TMPDIR");
	int r = sm_strbuf_addf(out, "%s/skillmeat-team-XXXXXX", tmp && *tmp ? tmp : "/tmp");

	if (r < 0)
		return sm_err(err, r, "out of memory");
	if (!mkdtemp(out->buf))
		return sm_err(err, -errno, "cannot make a staging folder '%s': %s", out->buf,
			      sm_strerror(errno));
	return 0;
}

int sm_ops_team_pull(struct sm_ops_ctx *ctx, const struct sm_ops_team_pull *req,
		     struct sm_ops_add_result *ret, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, src = STRBUF_INIT;
	struct sm_ops_add add = {0};
	int r;

	/* everything is checked in the staging folder before the home is touched */
	if ((r = sm_ops_team_tmpdir(&dir, err)) < 0)
		goto out;
	if ((r = sm_ops_team_stage(&req->fetched, dir.buf, &src, err)) < 0)
		goto out;
	add.collection = req->collection;
	add.spec = src.buf;
	add.source = SM_OPS_SOURCE_LOCAL;
	add.opts.type = sm_artifact_type_parse(req->fetched.type);
	add.opts.name = req->fetched.name;
	add.opts.tags = req->tags;
	add.opts.ntags = req->ntags;
	add.opts.force = req->force;
	r = sm_ops_add(ctx, &add, ret, err);
	if (r >= 0 && strcmp(ret->add.hash, req->fetched.expected_hash))
		sm_ops_warn(ctx, "%s:%s: the collection copy hashes to %s, the team's to %s",
			    req->fetched.type, req->fetched.name, ret->add.hash,
			    req->fetched.expected_hash);
out:
	if (dir.len)
		(void)sm_fs_remove_tree(dir.buf, NULL);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&src);
	return r;
}

int sm_ops_deploy_from_team(const struct sm_ops_ctx *ctx, const struct sm_ops_team_deploy *req,
			    struct sm_ops_deploy_report *ret, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, hdir = STRBUF_INIT, rec = STRBUF_INIT;
	struct sm_ops_deploy_req dq = req->deploy;
	struct sm_home *stage = NULL;
	struct sm_ops_ctx sc;
	char **ids = NULL;
	bool ctx_open = false;
	int r;

	if (!req->n)
		return sm_err(err, -EINVAL, "nothing to deploy: give TYPE:NAME");
	if (!(ids = sm_calloc(req->n, sizeof(*ids))) ||
	    sm_strbuf_addf(&rec, "%s%s", SM_DEPLOY_TEAM_PREFIX, req->url) < 0) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* a staging home of its own: every archive checked and added before any deploy */
	if ((r = sm_ops_team_tmpdir(&dir, err)) < 0)
		goto out;
	if ((r = sm_fs_join(&hdir, dir.buf, "home")) < 0 ||
	    (r = sm_fs_mkdir_p(hdir.buf, 0700, err)) < 0 ||
	    (r = sm_home_open(hdir.buf, &stage, err)) < 0)
		goto out;
	sm_ops_ctx_init(&sc, stage, NULL);
	sc.warn = ctx->warn;
	sc.warn_ud = ctx->warn_ud;
	ctx_open = true;
	for (size_t i = 0; i < req->n; i++) {
		struct sm_ops_team_pull pq = {.fetched = req->fetched[i]};
		struct sm_ops_add_result ar = {0};
		struct strbuf id = STRBUF_INIT;

		r = sm_ops_team_pull(&sc, &pq, &ar, err);
		sm_ops_add_result_release(&ar);
		if (r < 0)
			goto out;
		if (sm_strbuf_addf(&id, "%s:%s", req->fetched[i].type, req->fetched[i].name) < 0) {
			sm_strbuf_release(&id);
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
		ids[i] = sm_strbuf_detach(&id, NULL);
	}
	dq.collection = NULL;
	dq.all = false;
	dq.ids = (const char *const *)ids;
	dq.nids = req->n;
	dq.record_collection = rec.buf;
	r = sm_ops_deploy(&sc, &dq, ret, err);
out:
	if (ctx_open)
		sm_ops_ctx_release(&sc);
	sm_home_free(stage);
	if (dir.len)
		(void)sm_fs_remove_tree(dir.buf, NULL);
	sm_strv_free(ids, req->n);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&hdir);
	sm_strbuf_release(&rec);
	return r;
}
