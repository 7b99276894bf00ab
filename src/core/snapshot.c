/* SPDX-License-Identifier: MIT */
/*
 * Collection snapshots (spec/skillmeat-formats.md §1.7); the tarballs go
 * through libarchive in snapshot_tar.c (the skillmeat-tar.so module).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/snapshot_tar.h"
#include "skillmeat/archive.h"
#include "skillmeat/array.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/module.h"
#include "skillmeat/snapshot.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/test_hooks.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define SNAPSHOTS_MAX ((size_t)16 << 20)

void sm_snapshot_list_release(struct sm_snapshot_list *l)
{
	for (size_t i = 0; l && i < l->len; i++) {
		sm_free(l->items[i].timestamp);
		sm_free(l->items[i].message);
		sm_free(l->items[i].tarball_path);
	}
	if (l) {
		sm_free(l->items);
		l->items = NULL;
		l->len = 0;
	}
}

/* "YYYYmmdd-HHMMSS-ffffff" only: ids name files. */
static bool id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n != 22 || id[8] != '-' || id[15] != '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (i != 8 && i != 15 && (id[i] < '0' || id[i] > '9'))
			return false;
	return true;
}

static int snap_dir(const struct sm_home *home, const char *coll, struct strbuf *out)
{
	return sm_strbuf_addf(out, "%s/snapshots/%s", home->root, coll);
}

static int load_doc(const char *path, struct sm_toml_value **ret, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *a;
	int r = sm_fs_read_file(path, SNAPSHOTS_MAX, &buf, err);

	if (r == -ENOENT) {
		doc = sm_toml_new_table();
		r = doc ? 0 : -ENOMEM;
	} else if (r == 0) {
		r = sm_toml_parse(buf.buf, buf.len, &doc, err);
		if (r < 0)
			sm_err_prefix(err, r, "'%s'", path);
	}
	sm_strbuf_release(&buf);
	if (r < 0)
		return r;
	a = sm_toml_get(doc, "snapshots");
	if (!a) {
		a = sm_toml_new_array();
		r = a ? sm_toml_set(doc, "snapshots", a) : -ENOMEM;
	} else if (a->type != SM_TOML_ARRAY) {
		r = sm_err(err, -EBADMSG, "'%s': 'snapshots' is not an array of tables", path);
	}
	if (r < 0) {
		sm_toml_free(doc);
		return r == -ENOMEM ? sm_err(err, r, "out of memory") : r;
	}
	*ret = doc;
	return 0;
}

/* Entries of skills/, commands/ and agents/ (the original's artifact_count). */
static long count_artifacts(const char *dir)
{
	static const char *const sub[] = { "skills", "commands", "agents" };
	struct strbuf p = STRBUF_INIT;
	long n = 0;

	for (size_t i = 0; i < SM_ARRAY_SIZE(sub); i++) {
		struct dirent *de;
		DIR *d;

		sm_strbuf_reset(&p);
		if (sm_strbuf_addf(&p, "%s/%s", dir, sub[i]) < 0 || !(d = opendir(p.buf)))
			continue;
		while ((de = readdir(d)))
			n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		closedir(d);
	}
	sm_strbuf_release(&p);
	return n;
}

/* The tarballs are written and read by the skillmeat-tar.so module (libarchive). */
static const struct sm_tar_ops *tar_ops;

void sm_tar_register(const struct sm_tar_ops *ops)
{
	__atomic_store_n(&tar_ops, ops, __ATOMIC_RELEASE);
}

static const struct sm_tar_ops *tar(struct strbuf *err)
{
	const struct sm_tar_ops *ops = __atomic_load_n(&tar_ops, __ATOMIC_ACQUIRE);
	const void *sym;

	if (ops)
		return ops;
	if (sm_module_load("skillmeat-tar.so", "sm_tar_module", &sym, err) < 0)
		return NULL;
	sm_tar_register(sym);
	return sym;
}

/* The tar module, loaded if need be (false: not available; nothing to judge a tarball by). */
static bool tar_ops_loaded(void)
{
	return tar(NULL) != NULL;
}

static int write_tarball(const char *dir, const char *top, const char *out, struct strbuf *err)
{
	const struct sm_tar_ops *ops = tar(err);

	return ops ? ops->write(dir, top, out, err) : -ENOENT;
}

static int extract(const char *tarball, const char *rel, const char *dest, bool *found,
		   struct strbuf *err)
{
	const struct sm_tar_ops *ops = tar(err);

	return ops ? ops->extract(tarball, rel, dest, found, err) : -ENOENT;
}

int sm_archive_pack(const struct sm_archive_file *files, size_t n, struct strbuf *out,
		    struct strbuf *err)
{
	const struct sm_tar_ops *ops = tar(err);

	return ops ? ops->pack(files, n, out, err) : -ENOENT;
}

int sm_archive_unpack(const void *data, size_t len, size_t max_files, size_t max_total,
		      struct sm_archive_file **ret, size_t *ret_n, struct strbuf *err)
{
	const struct sm_tar_ops *ops = tar(err);

	return ops ? ops->unpack(data, len, max_files, max_total, ret, ret_n, err) : -ENOENT;
}

void sm_archive_files_free(struct sm_archive_file *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		sm_free(v[i].path);
		sm_free(v[i].data);
	}
	sm_free(v);
}

static int save_doc(const char *path, const struct sm_toml_value *doc, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	int r = sm_toml_encode(doc, &out, err);

	if (r == 0)
		r = sm_fs_write_atomic(path, out.buf, out.len, 0644, err);
	sm_strbuf_release(&out);
	return r;
}

/* Drop automatic snapshots beyond keep (newest kept), files first. */
static int prune(struct sm_toml_value *arr, long keep)
{
	size_t n = sm_toml_len(arr), autos = 0;
	int removed = 0;

	for (size_t i = 0; i < n; i++) {
		const char *m = sm_toml_get_string(sm_toml_at(arr, i), "message");

		autos += m && !strncmp(m, SM_SNAPSHOT_AUTO_PREFIX, strlen(SM_SNAPSHOT_AUTO_PREFIX));
	}
	/* entries are appended in time order: the oldest automatic ones come first */
	for (size_t i = 0; i < sm_toml_len(arr) && autos > (size_t)keep;) {
		struct sm_toml_value *s = sm_toml_at(arr, i);
		const char *m = sm_toml_get_string(s, "message"), *t;

		if (!m || strncmp(m, SM_SNAPSHOT_AUTO_PREFIX, strlen(SM_SNAPSHOT_AUTO_PREFIX))) {
			i++;
			continue;
		}
		t = sm_toml_get_string(s, "tarball_path");
		if (t && sm_toml_get_string(s, "id") && id_ok(sm_toml_get_string(s, "id")))
			(void)unlink(t);
		(void)sm_toml_array_remove(arr, i);
		autos--;
		removed++;
	}
	return removed;
}

int sm_snapshot_create(struct sm_home *home, const char *collection, const char *message,
		       bool automatic, long keep, char ret_id[SM_SNAPSHOT_ID_MAX],
		       struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, cdir = STRBUF_INIT, tar = STRBUF_INIT, meta = STRBUF_INIT,
		      msg = STRBUF_INIT, tmp = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *t = NULL;
	char id[SM_SNAPSHOT_ID_MAX], ts[SM_ISO_MAX];
	struct timeval tv;
	struct tm tm;
	int r;

	gettimeofday(&tv, NULL);
	if (!gmtime_r(&tv.tv_sec, &tm))
		return sm_err(err, -EINVAL, "cannot read the clock");
	if (strftime(id, sizeof(id), "%Y%m%d-%H%M%S-", &tm) != 16)
		return sm_err(err, -EINVAL, "cannot read the clock");
	snprintf(id + 16, sizeof(id) - 16, "%06u", (unsigned)(tv.tv_usec % 1000000));
	r = sm_time_iso(tv.tv_sec, tv.tv_usec, 1, ts);
	r = r ?: snap_dir(home, collection, &dir);
	r = r ?: sm_home_collection_dir(home, collection, &cdir);
	r = r ?: sm_strbuf_addf(&tar, "%s/%s.tar.gz", dir.buf, id);
	r = r ?: sm_strbuf_addf(&tmp, "%s/.%s.tar.gz.tmp", dir.buf, id);
	r = r ?: sm_strbuf_addf(&meta, "%s/snapshots.toml", dir.buf);
	r = r ?: sm_strbuf_addf(&msg, "%s%s", automatic ? SM_SNAPSHOT_AUTO_PREFIX : "",
				message && *message ? message : "Manual snapshot");
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	if (!sm_fs_is_dir(cdir.buf)) {
		r = sm_err(err, -ENOENT, "collection '%s' does not exist", collection);
		goto out;
	}
	r = sm_fs_mkdir_p(dir.buf, 0755, err);
	r = r ?: load_doc(meta.buf, &doc, err);
	r = r ?: write_tarball(cdir.buf, collection, tmp.buf, err);
	if (r == 0 && rename(tmp.buf, tar.buf) < 0)
		r = sm_err(err, -errno, "cannot write '%s': %s", tar.buf, sm_strerror(errno));
	if (r < 0) {
		(void)unlink(tmp.buf);
		goto out;
	}
	t = sm_toml_new_table();
	r = t ? 0 : -ENOMEM;
	r = r ?: sm_toml_set_string(t, "id", id);
	r = r ?: sm_toml_set_string(t, "timestamp", ts);
	r = r ?: sm_toml_set_string(t, "message", msg.buf);
	r = r ?: sm_toml_set(t, "artifact_count", sm_toml_new_int(count_artifacts(cdir.buf)));
	r = r ?: sm_toml_set_string(t, "tarball_path", tar.buf);
	if (r == 0) {
		r = sm_toml_push(sm_toml_get(doc, "snapshots"), t);
		t = NULL;
	}
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	if (automatic && keep > 0)
		(void)prune(sm_toml_get(doc, "snapshots"), keep);
	r = save_doc(meta.buf, doc, err);
	if (r == 0 && ret_id)
		memcpy(ret_id, id, sizeof(id));
out:
	sm_toml_free(t);
	sm_toml_free(doc);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&cdir);
	sm_strbuf_release(&tar);
	sm_strbuf_release(&tmp);
	sm_strbuf_release(&meta);
	sm_strbuf_release(&msg);
	return r;
}

/* The tarballs of dir a killed snapshot may have left out of its list (sm_snapshot_recover). */
static int unlisted_candidates(const char *dir, char ***ret, size_t *ret_n)
{
	struct stat meta, st;
	struct dirent *de;
	bool have_meta;
	char id[SM_SNAPSHOT_ID_MAX];
	size_t alloc = 0;
	int dfd, r = 0;
	DIR *d = opendir(dir);

	*ret = NULL;
	*ret_n = 0;
	if (!d)
		return 0;
	dfd = dirfd(d);
	have_meta = fstatat(dfd, "snapshots.toml", &meta, AT_SYMLINK_NOFOLLOW) == 0;
	while (r == 0 && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n != 22 + 7 || strcmp(de->d_name + 22, ".tar.gz"))
			continue;
		memcpy(id, de->d_name, 22);
		id[22] = '\0';
		if (!id_ok(id) || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		/* the list is written after its tarball: an older tarball was listed */
		if (have_meta && (st.st_mtim.tv_sec < meta.st_mtim.tv_sec ||
				  (st.st_mtim.tv_sec == meta.st_mtim.tv_sec &&
				   st.st_mtim.tv_nsec < meta.st_mtim.tv_nsec)))
			continue;
		if (SM_GROW(*ret, alloc, *ret_n + 1) < 0 || !((*ret)[*ret_n] = sm_strdup(id))) {
			r = -ENOMEM;
			break;
		}
		(*ret_n)++;
	}
	closedir(d);
	return r;
}

static bool listed(const struct sm_toml_value *arr, const char *id)
{
	for (size_t i = 0; i < sm_toml_len(arr); i++) {
		const char *x = sm_toml_get_string(sm_toml_at(arr, i), "id");

		if (x && !strcmp(x, id))
			return true;
	}
	return false;
}

/* The unlisted tarball id of coll: listed when it extracts, else removed; true: doc changed. */
static bool recover_one(struct sm_home *home, const char *coll, const char *dir, const char *id,
			struct sm_toml_value *arr)
{
	struct strbuf tar = STRBUF_INIT, stage = STRBUF_INIT;
	struct sm_toml_value *t = NULL;
	char ts[SM_ISO_MAX];
	bool found = false, changed = false;
	int r;

	r = sm_strbuf_addf(&tar, "%s/%s.tar.gz", dir, id);
	/* extracted where an interrupted restore's stage goes (sm_txn_clean_home removes it) */
	r = r ?: sm_strbuf_addf(&stage, "%s/collections/.%s.sm-restore-%ld", home->root, coll,
				(long)getpid());
	if (r < 0 || !tar_ops_loaded())
		goto out;
	(void)sm_fs_remove_tree_force(stage.buf, NULL);
	r = extract(tar.buf, NULL, stage.buf, &found, NULL);
	if (r < 0 || !found) {
		/* unreadable, hostile or empty: not a snapshot a rollback could restore */
		if (r == 0 || r == -EIO || r == -EPERM || r == -EBADMSG)
			(void)unlink(tar.buf);
		goto out;
	}
	snprintf(ts, sizeof(ts), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s.%.6s", id, id + 4, id + 6, id + 9,
		 id + 11, id + 13, id + 16);
	t = sm_toml_new_table();
	r = t ? 0 : -ENOMEM;
	r = r ?: sm_toml_set_string(t, "id", id);
	r = r ?: sm_toml_set_string(t, "timestamp", ts);
	r = r ?: sm_toml_set_string(t, "message", SM_SNAPSHOT_AUTO_PREFIX
				   "Recovered snapshot (its command was interrupted)");
	r = r ?: sm_toml_set(t, "artifact_count", sm_toml_new_int(count_artifacts(stage.buf)));
	r = r ?: sm_toml_set_string(t, "tarball_path", tar.buf);
	if (r == 0 && sm_toml_push(arr, t) == 0) {
		t = NULL;
		changed = true;
	}
out:
	sm_toml_free(t);
	(void)sm_fs_remove_tree_force(stage.buf, NULL);
	sm_strbuf_release(&tar);
	sm_strbuf_release(&stage);
	return changed;
}

void sm_snapshot_recover(struct sm_home *home)
{
	struct strbuf root = STRBUF_INIT, dir = STRBUF_INIT, meta = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	if (sm_strbuf_addf(&root, "%s/snapshots", home->root) < 0 || !(d = opendir(root.buf))) {
		sm_strbuf_release(&root);
		return;
	}
	while ((de = readdir(d))) {
		struct sm_toml_value *doc = NULL;
		char **ids = NULL;
		size_t n = 0;
		bool changed = false;

		if (de->d_name[0] == '.')
			continue;
		sm_strbuf_reset(&dir);
		sm_strbuf_reset(&meta);
		if (sm_strbuf_addf(&dir, "%s/%s", root.buf, de->d_name) < 0 ||
		    sm_strbuf_addf(&meta, "%s/snapshots.toml", dir.buf) < 0)
			break;
		if (unlisted_candidates(dir.buf, &ids, &n) == 0 && n &&
		    load_doc(meta.buf, &doc, NULL) == 0) {
			for (size_t i = 0; i < n; i++)
				if (!listed(sm_toml_get(doc, "snapshots"), ids[i]))
					changed |= recover_one(home, de->d_name, dir.buf, ids[i],
							       sm_toml_get(doc, "snapshots"));
			if (changed)
				(void)save_doc(meta.buf, doc, NULL);
		}
		sm_toml_free(doc);
		sm_strv_free(ids, n);
	}
	closedir(d);
	sm_strbuf_release(&root);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&meta);
}

static int cmp_newest(const void *a, const void *b)
{
	const struct sm_snapshot *x = a, *y = b;

	return strcmp(y->id, x->id);
}

int sm_snapshot_list(struct sm_home *home, const char *collection, struct sm_snapshot_list *ret,
		     struct strbuf *err)
{
	struct strbuf meta = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *a;
	struct sm_snapshot_list l = { 0 };
	int r;

	r = snap_dir(home, collection, &meta);
	r = r ?: sm_strbuf_addstr(&meta, "/snapshots.toml");
	if (r < 0)
		return sm_err(err, r, "out of memory");
	r = load_doc(meta.buf, &doc, err);
	sm_strbuf_release(&meta);
	if (r < 0)
		return r;
	a = sm_toml_get(doc, "snapshots");
	l.items = sm_calloc(sm_toml_len(a) + 1, sizeof(*l.items));
	if (!l.items) {
		sm_toml_free(doc);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sm_toml_len(a); i++) {
		const struct sm_toml_value *s = sm_toml_at(a, i);
		const char *id = sm_toml_get_string(s, "id");
		struct sm_snapshot *o = &l.items[l.len];
		int64_t n = 0;

		if (!id || !id_ok(id))
			continue; /* not one we could name a file after */
		memcpy(o->id, id, strlen(id) + 1);
		o->timestamp = sm_strdup(sm_toml_get_string(s, "timestamp") ?: "");
		o->message = sm_strdup(sm_toml_get_string(s, "message") ?: "");
		o->tarball_path = sm_strdup(sm_toml_get_string(s, "tarball_path") ?: "");
		(void)sm_toml_get_int(s, "artifact_count", &n);
		o->artifact_count = (long)n;
		l.len++;
		if (!o->timestamp || !o->message || !o->tarball_path) {
			sm_snapshot_list_release(&l);
			sm_toml_free(doc);
			return sm_err(err, -ENOMEM, "out of memory");
		}
	}
	sm_toml_free(doc);
	qsort(l.items, l.len, sizeof(*l.items), cmp_newest);
	*ret = l;
	return 0;
}

int sm_snapshot_extract(const char *tarball, const char *rel, const char *dest,
			struct strbuf *err)
{
	bool found;
	int r = extract(tarball, rel, dest, &found, err);

	if (r == 0 && !found)
		r = sm_err(err, -ENOENT, "'%s' does not hold '%s'", tarball, rel);
	if (r < 0)
		(void)sm_fs_remove_tree(dest, NULL);
	return r;
}

/*
 * Restoring swaps the whole collection folder (manifest, lock and artifacts
 * as the snapshot holds them, taken under the home lock after recovery, so
 * they agree) with the extracted one in one rename: a crash leaves the old
 * collection or the restored one, never a mix. What is left is removed by
 * the next write (sm_txn_clean_home): the swapped-out folder
 * ".NAME.sm-restore-PID", and without RENAME_EXCHANGE, where two renames
 * are needed, the old folder set aside as ".NAME.sm-prev-PID", put back
 * when the crash came before the restored one was moved in.
 */
static int swap_in(const char *stage, const char *cdir, const char *prev, struct strbuf *err)
{
	int r = SM_TEST_POINT("restore-no-exchange") < 0 ? -EINVAL : 0;

	if (r == 0 && renameat2(AT_FDCWD, stage, AT_FDCWD, cdir, RENAME_EXCHANGE) == 0)
		return 0;
	if (r == 0)
		r = -errno;
	if (r == -ENOENT) {
		r = rename(stage, cdir) < 0 ? -errno : 0;
	} else if (r == -EINVAL || r == -ENOSYS || r == -ENOTSUP) {
		/* no exchange on this filesystem: two renames */
		r = rename(cdir, prev) < 0 ? -errno : 0;
		if (r == 0 && (r = SM_TEST_POINT("restore-set-aside")) == 0 &&
		    rename(stage, cdir) < 0)
			r = -errno;
		if (r < 0)
			(void)rename(prev, cdir);
	}
	if (r < 0)
		return sm_err(err, r, "cannot restore '%s': %s", cdir, sm_strerror(r));
	return 0;
}

int sm_snapshot_restore(struct sm_home *home, const char *collection, const char *id,
			struct strbuf *err)
{
	struct strbuf cdir = STRBUF_INIT, tar = STRBUF_INIT, stage = STRBUF_INIT,
		      prev = STRBUF_INIT, parent = STRBUF_INIT;
	bool found;
	int r;

	if (!id_ok(id))
		return sm_err(err, -EINVAL, "invalid snapshot id '%s'", id);
	r = sm_home_collection_dir(home, collection, &cdir);
	r = r ?: snap_dir(home, collection, &tar);
	r = r ?: sm_strbuf_addf(&tar, "/%s.tar.gz", id);
	r = r ?: sm_strbuf_addf(&parent, "%s/collections", home->root);
	r = r ?: sm_strbuf_addf(&stage, "%s/.%s.sm-restore-%ld", parent.buf, collection,
				(long)getpid());
	r = r ?: sm_strbuf_addf(&prev, "%s/.%s.sm-prev-%ld", parent.buf, collection,
				(long)getpid());
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	if (!sm_fs_is_file(tar.buf)) {
		r = sm_err(err, -ENOENT, "snapshot '%s' of collection '%s' not found", id,
			   collection);
		goto out;
	}
	(void)sm_fs_remove_tree_force(stage.buf, NULL);
	r = extract(tar.buf, NULL, stage.buf, &found, err);
	if (r == 0 && !found)
		r = sm_err(err, -EBADMSG, "snapshot '%s' is empty", id);
	if (r == 0) {
		int fd = open(stage.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		/* the restored files durable before they replace the collection */
		if (fd >= 0) {
			(void)syncfs(fd);
			close(fd);
		}
		if ((r = SM_TEST_POINT("restore-extracted")) < 0)
			r = sm_err(err, r, "cannot restore '%s': injected failure", cdir.buf);
	}
	r = r ?: swap_in(stage.buf, cdir.buf, prev.buf, err);
	if (r == 0) {
		(void)sm_fs_fsync_dir(parent.buf, NULL);
		(void)SM_TEST_POINT("restore-swapped");
		/* the old collection: ours to delete, read-only folders too */
		(void)sm_fs_remove_tree_force(prev.buf, NULL);
	}
	(void)sm_fs_remove_tree_force(stage.buf, NULL);
out:
	sm_strbuf_release(&cdir);
	sm_strbuf_release(&tar);
	sm_strbuf_release(&stage);
	sm_strbuf_release(&prev);
	sm_strbuf_release(&parent);
	return r;
}
