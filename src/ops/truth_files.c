/* SPDX-License-Identifier: MIT */
/* The source of truth as files under SKILLMEAT_HOME + the SQLite index (skillmeat/truth.h). */
#include <errno.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/manifest.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/truth.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

static int files_lock(struct sm_truth *t, struct strbuf *err)
{
	int r;

	if (t->write_lock)
		t->write_lock(t->lock_ud);
	r = sm_home_lock(t->home, err);
	if (r < 0 && t->write_unlock)
		t->write_unlock(t->lock_ud);
	return r;
}

static void files_unlock(struct sm_truth *t)
{
	sm_home_unlock(t->home);
	if (t->write_unlock)
		t->write_unlock(t->lock_ud);
}

static int files_open_collection(struct sm_truth *t, const char *name, struct sm_collection **ret,
				 struct strbuf *err)
{
	return sm_collection_open(t->home, name, ret, err);
}

static int files_commit_collection(struct sm_truth *t, struct sm_collection *c,
				   struct sm_user_collections *uc, struct strbuf *err)
{
	(void)t;
	return sm_collection_commit_with(c, uc, err);
}

static int files_commit_manifest(struct sm_truth *t, struct sm_collection *c, struct strbuf *err)
{
	(void)t;
	return sm_manifest_save(c->manifest, 0, err);
}

static int files_load_uc(struct sm_truth *t, struct sm_user_collections **ret, struct strbuf *err)
{
	return sm_user_collections_load(t->home->root, ret, err);
}

static int files_save_uc(struct sm_truth *t, struct sm_user_collections *f, struct strbuf *err)
{
	(void)t;
	return sm_user_collections_save(f, err);
}

static struct sm_cache *files_index(struct sm_truth *t, struct strbuf *err)
{
	if (t->cache || t->cache_failed)
		goto out;
	if (sm_cache_open(t->home, &t->cache, err) < 0) {
		t->cache = NULL;
		t->cache_failed = true;
		sm_err_prefix(err, -EIO, "cannot open the metadata cache");
		goto out;
	}
	t->own_cache = true;
out:
	if (!t->cache && err && !err->len)
		sm_err(err, -EIO, "no metadata cache");
	return t->cache;
}

static int files_index_collection(struct sm_truth *t, struct sm_collection *c, unsigned flags,
				  struct sm_sync_stats *st, struct strbuf *err)
{
	struct sm_cache *cache = files_index(t, err);

	return cache ? sm_cache_sync_open(cache, c, flags, st, err) : -EIO;
}

static int files_index_uc(struct sm_truth *t, struct sm_sync_stats *st, struct strbuf *err)
{
	struct sm_cache *cache = files_index(t, err);

	return cache ? sm_cache_sync_user_collections(cache, st, err) : -EIO;
}

static int files_index_sync(struct sm_truth *t, const char *name, unsigned flags,
			    struct sm_sync_stats *st, struct strbuf *err)
{
	struct sm_cache *cache = files_index(t, err);

	return cache ? sm_cache_sync(cache, name, flags, st, err) : -EIO;
}

/*
 * The artifact's root (its folder, or the file of a one-file artifact) into
 * out. A manifest path leading outside its collection: -EXDEV (never read).
 */
static int artifact_root(struct sm_truth *t, const struct sm_artifact_row *row, struct strbuf *out,
			 struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	int r;

	r = sm_home_collection_dir(t->home, row->collection, &dir);
	if (r >= 0)
		r = sm_artifact_files_path(dir.buf, row->path, out, NULL);
	sm_strbuf_release(&dir);
	if (r == -EINVAL || r == -ENOENT)
		return sm_err(err, -EXDEV, "the files of %s:%s lie outside its collection",
			      row->type, row->name);
	return r < 0 ? sm_err(err, r, "cannot find the files of %s:%s", row->type, row->name) : 0;
}

static int files_list_files(struct sm_truth *t, const struct sm_artifact_row *row,
			    struct sm_truth_file **ret, size_t *ret_n, struct strbuf *err)
{
	struct strbuf root = STRBUF_INIT, tmp = STRBUF_INIT;
	struct sm_fs_list list = {0};
	struct sm_truth_file *v = NULL;
	size_t n = 0;
	bool single;
	int r;

	if ((r = artifact_root(t, row, &root, err)) < 0)
		goto out;
	single = sm_fs_is_file(root.buf);
	if ((r = sm_fs_walk(root.buf, &list, NULL)) == -ENOENT) {
		r = sm_err(err, -ENOENT, "the files of %s:%s are missing", row->type, row->name);
		goto out;
	}
	if (r < 0) {
		r = sm_err(err, r, "cannot list the files of %s:%s", row->type, row->name);
		goto out;
	}
	if (list.len && !(v = sm_calloc(list.len, sizeof(*v)))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < list.len; i++) {
		/* a symlink resolving outside the artifact is not part of it */
		if (!single && sm_fs_safe_join(root.buf, list.items[i].rel, &tmp, NULL) < 0)
			continue;
		v[n].size = list.items[i].size;
		v[n++].path = list.items[i].rel;
		list.items[i].rel = NULL;
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
out:
	sm_truth_files_free(v, n);
	sm_fs_list_release(&list);
	sm_strbuf_release(&root);
	sm_strbuf_release(&tmp);
	return r < 0 ? r : 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int files_read_file(struct sm_truth *t, const struct sm_artifact_row *row, const char *rel,
			   size_t max, struct strbuf *out, struct strbuf *err)
{
	struct strbuf root = STRBUF_INIT, full = STRBUF_INIT;
	int r;

	if ((r = artifact_root(t, row, &root, err)) < 0)
		goto out;
	if (sm_fs_is_file(root.buf)) {
		/* a one-file artifact has one path: its own name */
		if (strcmp(rel, base_name(root.buf))) {
			r = -ENOENT;
			goto out;
		}
		r = sm_strbuf_addstr(&full, root.buf);
	} else {
		r = sm_fs_safe_join(root.buf, rel, &full, err);
	}
	if (r < 0)
		goto out;
	if (!sm_fs_is_file(full.buf)) {
		r = -ENOENT;
		goto out;
	}
	r = sm_fs_read_file(full.buf, max, out, err);
	if (r == -EISDIR)
		r = -ENOENT;
out:
	if (r == -ENOENT)
		r = sm_err(err, -ENOENT, "file '%s' not found in %s:%s", rel, row->type, row->name);
	sm_strbuf_release(&root);
	sm_strbuf_release(&full);
	return r < 0 ? r : 0;
}

static const struct sm_truth_ops files_ops = {
	.lock = files_lock,
	.unlock = files_unlock,
	.open_collection = files_open_collection,
	.commit_collection = files_commit_collection,
	.commit_manifest = files_commit_manifest,
	.load_user_collections = files_load_uc,
	.save_user_collections = files_save_uc,
	.index = files_index,
	.index_collection = files_index_collection,
	.index_user_collections = files_index_uc,
	.index_sync = files_index_sync,
	.list_files = files_list_files,
	.read_file = files_read_file,
};

void sm_truth_files_init(struct sm_truth *t, struct sm_home *home, struct sm_cache *cache)
{
	memset(t, 0, sizeof(*t));
	t->ops = &files_ops;
	t->home = home;
	t->cache = cache;
}

void sm_truth_release(struct sm_truth *t)
{
	if (t->ops && t->ops->release)
		t->ops->release(t);
	if (t->own_cache)
		sm_cache_close(t->cache);
	t->cache = NULL;
	t->own_cache = false;
}
