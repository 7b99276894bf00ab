/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "skillmeat/array.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/loop_guard.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/test_hooks.h"
#include "util/banned.h"

#define READ_CHUNK ((size_t)64 << 10)

int sm_fs_read_file(const char *path, size_t max, struct strbuf *out, struct strbuf *err)
{
	size_t start = out->len, got = 0;
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sm_err(err, -errno, "cannot open '%s': %s", path, sm_strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return sm_err(err, r, "cannot stat '%s': %s", path, sm_strerror(r));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return sm_err(err, -EISDIR, "cannot read '%s': %s", path, sm_strerror(EISDIR));
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		close(fd);
		return sm_err(err, -E2BIG, "cannot read '%s': larger than %zu bytes", path, max);
	}
	/* a file's size known: one allocation and one read (no realloc copies of a big file) */
	size_t chunk = READ_CHUNK;

	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size >= READ_CHUNK) {
		chunk = (size_t)st.st_size + 1;
		if (chunk > out->cap - out->len || sm_strbuf_grow(out, chunk) < 0)
			chunk = READ_CHUNK;
	}
	for (;;) {
		/* one byte past max tells a file that grew since fstat */
		size_t want = max - got < chunk ? max - got + 1 : chunk;
		size_t room = out->cap - out->len;
		ssize_t n;

		if (want > room)
			want = room;
		/* sized: the end-of-file read fits the room left (no growth for it) */
		if (chunk > READ_CHUNK && out->alloc > out->len + 1 && want > out->alloc - out->len - 1)
			want = out->alloc - out->len - 1;
		if (!want) {
			char probe;

			/* out is full: fine only if the file ends here */
			n = read(fd, &probe, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = sm_err(err, -errno, "cannot read '%s': %s", path,
					   sm_strerror(errno));
				goto fail;
			}
			if (n == 0)
				break;
			r = sm_err(err, -E2BIG, "cannot read '%s': larger than %zu bytes", path,
				   got < max ? got : max);
			goto fail;
		}
		r = sm_strbuf_grow(out, want);
		if (r < 0) {
			sm_err(err, r, "cannot read '%s': %s", path, sm_strerror(r));
			goto fail;
		}
		n = read(fd, out->buf + out->len, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = sm_err(err, -errno, "cannot read '%s': %s", path, sm_strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			r = sm_err(err, -E2BIG, "cannot read '%s': larger than %zu bytes", path,
				   max);
			goto fail;
		}
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
	}
	close(fd);
	return 0;
fail:
	close(fd);
	sm_strbuf_setlen(out, start);
	return r;
}

/* Split path into its folder ("." when none) and base name. */
static int split_path(const char *path, struct strbuf *dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*base = path;
		return sm_strbuf_addch(dir, '.');
	}
	*base = slash + 1;
	if (slash == path)
		return sm_strbuf_addch(dir, '/');
	return sm_strbuf_add(dir, path, (size_t)(slash - path));
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_quiet(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
		r = -errno;
	close(fd);
	return r;
}

int sm_fs_fsync_dir(const char *dir, struct strbuf *err)
{
	int r = fsync_dir_quiet(dir);

	if (r < 0)
		return sm_err(err, r, "cannot sync folder '%s': %s", dir, sm_strerror(r));
	return 0;
}

/* tmp_name: the temp file's name in path's folder (replaced if it exists), or NULL: random */
static int write_atomic(const char *path, const char *tmp_name, const void *data, size_t len,
			mode_t mode, int sync, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, tmp = STRBUF_INIT;
	const char *base;
	struct stat st;
	int fd = -1, r, tries, keep_mode = 0;

	r = split_path(path, &dir, &base);
	if (r < 0)
		goto out_msg;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		r = sm_err(err, -EINVAL, "cannot write '%s': not a file name", path);
		goto out;
	}
	if (stat(path, &st) == 0) {
		mode = st.st_mode & 07777;
		keep_mode = 1;
	}

	for (tries = 0; tries < 16; tries++) {
		uint32_t rnd;

		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			rnd = (uint32_t)((uintptr_t)&rnd ^ (uint32_t)getpid() ^ (uint32_t)tries);
		sm_strbuf_reset(&tmp);
		r = sm_strbuf_add(&tmp, dir.buf, dir.len);
		if (!r && strcmp(dir.buf, "/") != 0)
			r = sm_strbuf_addch(&tmp, '/');
		if (!r)
			r = tmp_name ? sm_strbuf_addstr(&tmp, tmp_name)
				     : sm_strbuf_addf(&tmp, ".%s.%08x.tmp", base, rnd);
		if (r < 0)
			goto out_msg;
		if (tmp_name)
			(void)unlink(tmp.buf);
		fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		r = sm_err(err, -errno, "cannot create '%s': %s", tmp.buf, sm_strerror(errno));
		goto out;
	}
	/* an existing file keeps its mode whatever the umask */
	if (keep_mode && fchmod(fd, mode) < 0 && errno != EPERM) {
		r = -errno;
		goto fail_write;
	}
	r = write_all(fd, data, len);
	if (r < 0)
		goto fail_write;
	if (sync && fsync(fd) < 0) {
		r = -errno;
		goto fail_write;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail_write;
	}
	fd = -1;
	if ((r = SM_TEST_POINT("atomic-write-tmp")) < 0)
		goto fail_write;
	if (rename(tmp.buf, path) < 0) {
		r = sm_err(err, -errno, "cannot rename '%s' to '%s': %s", tmp.buf, path,
			   sm_strerror(errno));
		unlink(tmp.buf);
		goto out;
	}
	if ((r = SM_TEST_POINT("atomic-write-renamed")) < 0) {
		sm_err(err, r, "cannot sync folder '%s': injected failure", dir.buf);
		goto out;
	}
	if (sync) {
		r = fsync_dir_quiet(dir.buf);
		if (r < 0) {
			sm_err(err, r, "cannot sync folder '%s': %s", dir.buf, sm_strerror(r));
			goto out;
		}
	}
	r = 0;
	goto out;

fail_write:
	sm_err(err, r, "cannot write '%s': %s", path, sm_strerror(r));
	if (fd >= 0)
		close(fd);
	unlink(tmp.buf);
	goto out;
out_msg:
	sm_err(err, r, "cannot write '%s': %s", path, sm_strerror(r));
out:
	sm_strbuf_release(&dir);
	sm_strbuf_release(&tmp);
	return r;
}

int sm_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		       struct strbuf *err)
{
	return write_atomic(path, NULL, data, len, mode, 1, err);
}

int sm_fs_write_atomic_nosync(const char *path, const void *data, size_t len, mode_t mode,
			      struct strbuf *err)
{
	return write_atomic(path, NULL, data, len, mode, 0, err);
}

int sm_fs_write_atomic_via(const char *path, const char *tmp_name, const void *data, size_t len,
			   mode_t mode, struct strbuf *err)
{
	if (!*tmp_name || strchr(tmp_name, '/'))
		return sm_err(err, -EINVAL, "cannot write '%s': bad temp name '%s'", path, tmp_name);
	return write_atomic(path, tmp_name, data, len, mode, 1, err);
}

int sm_fs_lock(const char *path, int *ret_fd, struct strbuf *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);

	if (fd < 0)
		return sm_err(err, -errno, "cannot open lock '%s': %s", path, sm_strerror(errno));
	/* an event-loop thread must never wait here: count it when it would */
	if (sm_loop_guard_is_loop() && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		sm_loop_guard_count_wait();
	while (flock(fd, LOCK_EX) < 0) {
		int r = -errno;

		if (r == -EINTR)
			continue;
		close(fd);
		return sm_err(err, r, "cannot lock '%s': %s", path, sm_strerror(r));
	}
	*ret_fd = fd;
	return 0;
}

void sm_fs_unlock(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}

int sm_fs_mkdir_p(const char *path, mode_t mode, struct strbuf *err)
{
	_cleanup_free_ char *p = sm_strdup(path);
	struct stat st;
	char *s;

	if (!p)
		return sm_err(err, -ENOMEM, "cannot create '%s': %s", path, sm_strerror(ENOMEM));
	if (!*p)
		return sm_err(err, -EINVAL, "cannot create folder: empty path");
	/* fast path: it is already there */
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	for (s = p + 1;; s++) {
		int end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		if (s[-1] == '/') {
			if (end)
				break;
			continue;
		}
		*s = '\0';
		if (mkdir(p, mode) < 0) {
			int e = errno;

			/* EEXIST, or EACCES/EROFS on a level that is already there */
			if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
				if (e == EEXIST)
					e = ENOTDIR;
				return sm_err(err, -e, "cannot create folder '%s': %s", p,
					      sm_strerror(e));
			}
		}
		if (end)
			break;
		*s = '/';
	}
	return 0;
}

static int remove_contents(int dfd, const char *path, bool force, struct strbuf *err);

/*
 * Remove one entry of the folder dfd (at path), recursing into folders.
 * force: make each folder writable by its owner before emptying it.
 */
static int remove_entry(int dfd, const char *path, const struct dirent *de, bool force,
			struct strbuf *err)
{
	int is_dir = de->d_type == DT_DIR, r;

	if (de->d_type == DT_UNKNOWN) {
		struct stat st;

		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				return 0;
			r = -errno;
			goto fail;
		}
		is_dir = S_ISDIR(st.st_mode);
	}
	if (is_dir) {
		struct strbuf sub = STRBUF_INIT;
		int cfd;

		if (force)
			(void)fchmodat(dfd, de->d_name, 0700, 0);
		cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			r = -errno;
			goto fail;
		}
		r = sm_fs_join(&sub, path, de->d_name);
		if (r < 0) {
			close(cfd);
			sm_strbuf_release(&sub);
			goto fail;
		}
		r = remove_contents(cfd, sub.buf, force, err);
		sm_strbuf_release(&sub);
		if (r < 0)
			return r;
	}
	if (unlinkat(dfd, de->d_name, is_dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	return sm_err(err, r, "cannot remove '%s/%s': %s", path, de->d_name, sm_strerror(r));
}

/* Empty the folder dfd (which it closes), not following symlinks. */
static int remove_contents(int dfd, const char *path, bool force, struct strbuf *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		r = -errno;
		close(dfd);
		return sm_err(err, r, "cannot open folder '%s': %s", path, sm_strerror(r));
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				r = sm_err(err, -errno, "cannot read folder '%s': %s", path,
					   sm_strerror(errno));
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = remove_entry(dirfd(d), path, de, force, err);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

static int remove_tree(const char *path, bool force, struct strbuf *err)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return sm_err(err, -errno, "cannot remove '%s': %s", path, sm_strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return sm_err(err, -errno, "cannot remove '%s': %s", path,
				      sm_strerror(errno));
		return 0;
	}
	if (force)
		(void)chmod(path, 0700);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sm_err(err, -errno, "cannot open folder '%s': %s", path, sm_strerror(errno));
	r = remove_contents(fd, path, force, err);
	if (r < 0)
		return r;
	if (rmdir(path) < 0 && errno != ENOENT)
		return sm_err(err, -errno, "cannot remove '%s': %s", path, sm_strerror(errno));
	return 0;
}

int sm_fs_remove_tree(const char *path, struct strbuf *err)
{
	return remove_tree(path, false, err);
}

int sm_fs_remove_tree_force(const char *path, struct strbuf *err)
{
	return remove_tree(path, true, err);
}

static int link_into(const char *from, const char *to, struct strbuf *err);

struct link_ctx {
	const char *from, *to;
	struct strbuf *err;
};

static int link_entry(const struct sm_fs_dirent *e, void *arg)
{
	struct link_ctx *x = arg;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, target = STRBUF_INIT;
	struct stat st;
	int r;

	if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
		return 0;
	if ((r = sm_fs_join(&a, x->from, e->name)) < 0 || (r = sm_fs_join(&b, x->to, e->name)) < 0)
		goto out;
	if (lstat(a.buf, &st) < 0) {
		r = sm_err(x->err, -errno, "cannot read '%s': %s", a.buf, sm_strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = link_into(a.buf, b.buf, x->err);
	} else if (S_ISREG(st.st_mode)) {
		if (link(a.buf, b.buf) < 0)
			r = sm_err(x->err, -errno, "cannot link '%s' to '%s': %s", a.buf, b.buf,
				   sm_strerror(errno));
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n;

		if ((r = sm_strbuf_grow(&target, (size_t)PATH_MAX)) < 0)
			goto out;
		n = readlink(a.buf, target.buf, PATH_MAX);
		if (n < 0 || n >= PATH_MAX) {
			r = sm_err(x->err, n < 0 ? -errno : -ENAMETOOLONG, "cannot read link '%s'",
				   a.buf);
			goto out;
		}
		target.buf[n] = '\0';
		if (symlink(target.buf, b.buf) < 0)
			r = sm_err(x->err, -errno, "cannot make link '%s': %s", b.buf,
				   sm_strerror(errno));
	}
out:
	sm_strbuf_release(&a);
	sm_strbuf_release(&b);
	sm_strbuf_release(&target);
	return r;
}

/* Make to (a folder with from's mode, set once it is filled) and link from's entries into it. */
static int link_into(const char *from, const char *to, struct strbuf *err)
{
	struct link_ctx x = {.from = from, .to = to, .err = err};
	struct stat st;
	int r;

	if (stat(from, &st) < 0)
		return sm_err(err, -errno, "cannot read '%s': %s", from, sm_strerror(errno));
	if (mkdir(to, 0700) < 0)
		return sm_err(err, -errno, "cannot create folder '%s': %s", to, sm_strerror(errno));
	r = sm_fs_visit_dir(from, 0, link_entry, &x);
	if (r < 0 && err && !err->len)
		sm_err(err, r, "cannot read folder '%s': %s", from, sm_strerror(r));
	if (r == 0 && chmod(to, st.st_mode & 07777) < 0)
		r = sm_err(err, -errno, "cannot set the mode of '%s': %s", to, sm_strerror(errno));
	return r;
}

int sm_fs_link_tree(const char *from, const char *to, struct strbuf *err)
{
	struct stat st;
	int r;

	if (lstat(to, &st) == 0)
		return sm_err(err, -EEXIST, "cannot copy '%s' to '%s': it exists", from, to);
	r = link_into(from, to, err);

	if (r < 0)
		(void)sm_fs_remove_tree_force(to, NULL);
	return r;
}

int sm_fs_join(struct strbuf *out, const char *a, const char *b)
{
	size_t la = strlen(a);
	int r;

	if (la) {
		r = sm_strbuf_add(out, a, la);
		if (r < 0)
			return r;
		if (a[la - 1] != '/' && *b) {
			r = sm_strbuf_addch(out, '/');
			if (r < 0)
				return r;
		}
	}
	return sm_strbuf_addstr(out, b);
}

/* realpath of path (PATH_MAX buffer, no heap), as a negative errno */
static int real_path(const char *path, char buf[PATH_MAX])
{
	return realpath(path, buf) ? 0 : -errno;
}

static int under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strncmp(path, root, n) != 0)
		return 0;
	/* root "/" contains everything */
	return path[n] == '\0' || path[n] == '/' || (n && root[n - 1] == '/');
}

/*
 * The part of joined below base that exists (found with lstat, so a dangling
 * symlink counts) must resolve under base; the rest cannot escape since it has
 * no ".." and no symlinks yet.
 */
/*
 * No symlink among the components of joined below base (one lstat each, up
 * to the first missing one): with no ".." either, it stays under base.
 */
static bool no_link_below(char *joined, size_t base_len, struct stat *last, bool *have)
{
	size_t n = strlen(joined);
	struct stat st;

	for (size_t i = base_len + 1; i <= n; i++) {
		int rc, e;

		if ((joined[i] != '/' && joined[i] != '\0') || joined[i - 1] == '/')
			continue;
		joined[i] = '\0';
		rc = lstat(joined, &st);
		e = errno;
		if (i < n)
			joined[i] = '/';
		if (rc < 0) /* nothing below a missing component exists */
			return e == ENOENT || e == ENOTDIR;
		if (S_ISLNK(st.st_mode))
			return false;
		if (i == n && last) {
			*last = st;
			*have = true;
		}
	}
	return true;
}

static int check_escape(const char *base, char *joined, size_t base_len, const char *rel,
			size_t rel_len, struct stat *last, bool *have, struct strbuf *err)
{
	char rbase[PATH_MAX], rpath[PATH_MAX];
	size_t n = strlen(joined);
	struct stat st;
	int r;

	if (base_len && no_link_below(joined, base_len, last, have))
		return 0;
	if (last)
		*have = false;
	r = real_path(base, rbase);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0; /* base not there: nothing can be a symlink yet */
	if (r < 0)
		return sm_err(err, r, "cannot resolve '%s': %s", base, sm_strerror(r));
	for (;;) {
		if (lstat(joined, &st) == 0)
			break;
		if (errno != ENOENT && errno != ENOTDIR)
			return sm_err(err, -errno, "cannot resolve '%s': %s", joined,
				      sm_strerror(errno));
		/* drop the last component */
		while (n > base_len && joined[n - 1] != '/')
			n--;
		while (n > base_len && joined[n - 1] == '/')
			n--;
		if (n <= base_len)
			return 0; /* only base exists, and it is base */
		joined[n] = '\0';
	}
	r = real_path(joined, rpath);
	if (r < 0) {
		/* a dangling or looping symlink: where it leads is unknown */
		return sm_err(err, -EINVAL, "unsafe path '%.*s': cannot resolve '%s': %s",
			      (int)rel_len, rel, joined, sm_strerror(r));
	}
	if (!under(rpath, rbase))
		return sm_err(err, -EINVAL, "unsafe path '%.*s': leads outside '%s'", (int)rel_len,
			      rel, base);
	return 0;
}

static int safe_joinn(const char *base, const char *rel, size_t rel_len, struct strbuf *out,
		      struct stat *last, bool *have, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i = 0, base_len, ncomp = 0;
	int r;

	if (!rel_len)
		return sm_err(err, -EINVAL, "unsafe path '': empty");
	if (memchr(rel, '\0', rel_len))
		return sm_err(err, -EINVAL, "unsafe path '%s': contains a NUL byte", rel);
	if (rel[0] == '/')
		return sm_err(err, -EINVAL, "unsafe path '%.*s': absolute", (int)rel_len, rel);

	r = sm_strbuf_addstr(&sb, base);
	if (r < 0)
		goto fail_alloc;
	/* keep base as given, without its trailing slashes (but "/" stays) */
	while (sb.len > 1 && sb.buf[sb.len - 1] == '/')
		sm_strbuf_setlen(&sb, sb.len - 1);
	base_len = sb.len;

	while (i < rel_len) {
		size_t j = i;

		while (j < rel_len && rel[j] != '/')
			j++;
		if (j - i == 2 && rel[i] == '.' && rel[i + 1] == '.') {
			sm_strbuf_release(&sb);
			return sm_err(err, -EINVAL, "unsafe path '%.*s': '..' component",
				      (int)rel_len, rel);
		}
		if (j > i && !(j - i == 1 && rel[i] == '.')) {
			if (sb.len && sb.buf[sb.len - 1] != '/')
				r = sm_strbuf_addch(&sb, '/');
			if (!r)
				r = sm_strbuf_add(&sb, rel + i, j - i);
			if (r < 0)
				goto fail_alloc;
			ncomp++;
		}
		i = j + 1;
	}
	if (!ncomp) {
		sm_strbuf_release(&sb);
		return sm_err(err, -EINVAL, "unsafe path '%.*s': empty", (int)rel_len, rel);
	}

	{
		_cleanup_free_ char *probe = sm_memdup0(sb.buf, sb.len);

		if (!probe) {
			r = -ENOMEM;
			goto fail_alloc;
		}
		r = check_escape(base_len ? base : ".", probe, base_len, rel, rel_len, last, have,
				 err);
	}
	if (r < 0) {
		sm_strbuf_release(&sb);
		return r;
	}
	sm_strbuf_reset(out);
	r = sm_strbuf_add(out, sb.buf, sb.len);
	sm_strbuf_release(&sb);
	if (r < 0)
		return sm_err(err, r, "cannot join '%.*s': %s", (int)rel_len, rel, sm_strerror(r));
	return 0;

fail_alloc:
	sm_strbuf_release(&sb);
	return sm_err(err, r, "cannot join '%.*s': %s", (int)rel_len, rel, sm_strerror(r));
}

int sm_fs_safe_joinn(const char *base, const char *rel, size_t rel_len, struct strbuf *out,
		     struct strbuf *err)
{
	return safe_joinn(base, rel, rel_len, out, NULL, NULL, err);
}

int sm_fs_safe_join(const char *base, const char *rel, struct strbuf *out, struct strbuf *err)
{
	return safe_joinn(base, rel, strlen(rel), out, NULL, NULL, err);
}

int sm_fs_safe_join_st(const char *base, const char *rel, struct strbuf *out, struct stat *st,
		       bool *have, struct strbuf *err)
{
	*have = false;
	return safe_joinn(base, rel, strlen(rel), out, st, have, err);
}

bool sm_fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool sm_fs_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool sm_fs_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- walk ---- */

static int list_add(struct sm_fs_list *list, char *rel, const struct stat *st)
{
	struct sm_fs_entry *e;

	if (SM_GROW(list->items, list->alloc, list->len + 1) < 0)
		return -ENOMEM;
	e = &list->items[list->len++];
	e->rel = rel;
	e->size = (uint64_t)st->st_size;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	e->ino = (uint64_t)st->st_ino;
	return 0;
}

void sm_fs_list_release(struct sm_fs_list *list)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < list->len; i++)
		sm_free(list->items[i].rel);
	sm_free(list->items);
	list->items = NULL;
	list->len = 0;
	list->alloc = 0;
}

/*
 * Component-wise order: a component that ends ('/' or end of string) sorts
 * before one that goes on, and a path that ends before one that goes on.
 */
bool sm_fs_rel_path_ok(const char *p)
{
	const char *seg = p;

	if (!p || !*p || *p == '/' || strchr(p, '\\') || strlen(p) > 4096)
		return false;
	for (const char *c = p;; c++) {
		if (*c == '/' || !*c) {
			size_t len = (size_t)(c - seg);

			if (len == 0 || (len == 1 && seg[0] == '.') ||
			    (len == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			if (!*c)
				return true;
			seg = c + 1;
		}
	}
}

int sm_fs_path_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	if (*x == *y)
		return 0;
	if (!*x)
		return -1;
	if (!*y)
		return 1;
	if (*x == '/')
		return -1;
	if (*y == '/')
		return 1;
	return *x < *y ? -1 : 1;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct sm_fs_entry *x = a, *y = b;

	return sm_fs_path_cmp(x->rel, y->rel);
}

struct walk {
	int root_fd;
	const char *root;
	struct sm_fs_list *list;
	struct strbuf *err;
	struct strbuf rel; /* folder being read, relative, "" at the root */
};

static int walk_err(struct walk *w, int r, const char *what, const char *name)
{
	return sm_err(w->err, r, "cannot %s '%s%s%s%s%s': %s", what, w->root,
		      w->rel.len || name ? "/" : "", w->rel.buf, w->rel.len && name ? "/" : "",
		      name ? name : "", sm_strerror(r));
}

static char *rel_name(const struct strbuf *dir, const char *name)
{
	size_t nl = strlen(name), n = dir->len ? dir->len + 1 + nl : nl;
	char *s = sm_malloc(n + 1);

	if (!s)
		return NULL;
	if (dir->len) {
		memcpy(s, dir->buf, dir->len);
		s[dir->len] = '/';
		memcpy(s + dir->len + 1, name, nl + 1);
	} else {
		memcpy(s, name, nl + 1);
	}
	return s;
}

/*
 * Read the folder w->rel (all of it, then close it) and recurse into its
 * subfolders afterwards, so at most one folder is open besides the root.
 */
static int walk_dir(struct walk *w)
{
	char **subdirs = NULL;
	size_t nsub = 0, asub = 0, i, saved;
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if (w->rel.len)
		fd =
		    openat(w->root_fd, w->rel.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	else
		fd = openat(w->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return walk_err(w, -errno, "open folder", NULL);
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return walk_err(w, r, "open folder", NULL);
	}
	for (;;) {
		struct stat st;
		int type;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				r = walk_err(w, -errno, "read folder", NULL);
			break;
		}
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		type = de->d_type;
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue;
				r = walk_err(w, -errno, "stat", de->d_name);
				break;
			}
			type = S_ISDIR(st.st_mode)   ? DT_DIR
			       : S_ISREG(st.st_mode) ? DT_REG
			       : S_ISLNK(st.st_mode) ? DT_LNK
						     : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			char *sub;

			if (SM_GROW(subdirs, asub, nsub + 1) < 0) {
				r = walk_err(w, -ENOMEM, "read folder", NULL);
				break;
			}
			sub = sm_strdup(de->d_name);
			if (!sub) {
				r = walk_err(w, -ENOMEM, "read folder", NULL);
				break;
			}
			subdirs[nsub++] = sub;
			continue;
		}
		if (type != DT_REG && type != DT_LNK)
			continue;
		/* regular files, and symlinks that lead to one */
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0) {
			if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
				continue;
			r = walk_err(w, -errno, "stat", de->d_name);
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		{
			char *rel = rel_name(&w->rel, de->d_name);

			if (!rel || list_add(w->list, rel, &st) < 0) {
				sm_free(rel);
				r = walk_err(w, -ENOMEM, "read folder", NULL);
				break;
			}
		}
	}
	closedir(d);

	saved = w->rel.len;
	for (i = 0; i < nsub && r >= 0; i++) {
		if (saved)
			r = sm_strbuf_addch(&w->rel, '/');
		if (r >= 0)
			r = sm_strbuf_addstr(&w->rel, subdirs[i]);
		if (r < 0) {
			r = walk_err(w, r, "read folder", subdirs[i]);
			break;
		}
		r = walk_dir(w);
		sm_strbuf_setlen(&w->rel, saved);
	}
	for (i = 0; i < nsub; i++)
		sm_free(subdirs[i]);
	sm_free(subdirs);
	return r;
}

int sm_fs_walk(const char *root, struct sm_fs_list *ret, struct strbuf *err)
{
	struct sm_fs_list list = {0};
	struct walk w;
	struct stat st;
	int r;

	if (stat(root, &st) < 0)
		return sm_err(err, -errno, "cannot stat '%s': %s", root, sm_strerror(errno));
	if (S_ISREG(st.st_mode)) {
		const char *slash = strrchr(root, '/');
		char *rel = sm_strdup(slash ? slash + 1 : root);

		if (!rel || list_add(&list, rel, &st) < 0) {
			sm_free(rel);
			return sm_err(err, -ENOMEM, "cannot list '%s': %s", root,
				      sm_strerror(ENOMEM));
		}
		*ret = list;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return sm_err(err, -EINVAL, "cannot list '%s': not a file or folder", root);

	w.root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.root_fd < 0)
		return sm_err(err, -errno, "cannot open folder '%s': %s", root, sm_strerror(errno));
	w.root = root;
	w.list = &list;
	w.err = err;
	sm_strbuf_init(&w.rel, PATH_MAX);
	r = walk_dir(&w);
	sm_strbuf_release(&w.rel);
	close(w.root_fd);
	if (r < 0) {
		sm_fs_list_release(&list);
		return r;
	}
	if (list.len > 1)
		qsort(list.items, list.len, sizeof(*list.items), entry_cmp);
	*ret = list;
	return 0;
}
