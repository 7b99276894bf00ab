/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/copy.h"
#include "skillmeat/array.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/sha256.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define MAX_DEPTH 64

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

bool sm_copy_skipped(const char *name)
{
	static const char *const names[] = { ".git",	 ".github", ".gitignore", "__pycache__",
					     "node_modules", ".venv", "venv", ".DS_Store",
					     "Thumbs.db" };

	for (size_t i = 0; i < SM_ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return has_suffix(name, ".pyc") || has_suffix(name, ".pyo") ||
	       has_suffix(name, ".egg-info");
}

static int copy_file(const char *src, const char *dst, const struct stat *st, struct strbuf *err)
{
	char buf[65536];
	int in, out, r = 0;
	ssize_t n;
	struct timespec times[2];

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return sm_err(err, -errno, "cannot open '%s': %s", src, sm_strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
	if (out < 0) {
		r = sm_err(err, -errno, "cannot create '%s': %s", dst, sm_strerror(errno));
		close(in);
		return r;
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = sm_err(err, -errno, "cannot read '%s': %s", src, sm_strerror(errno));
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r = sm_err(err, -errno, "cannot write '%s': %s", dst,
					   sm_strerror(errno));
				goto done;
			}
			off += w;
		}
	}
done:
	if (r == 0) {
		times[0] = st->st_atim;
		times[1] = st->st_mtim;
		(void)futimens(out, times);
	}
	if (close(out) < 0 && r == 0)
		r = sm_err(err, -errno, "cannot write '%s': %s", dst, sm_strerror(errno));
	close(in);
	return r;
}

/* Is path (resolved) inside root (resolved)? */
static bool inside(const char *real, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return true;
	return !strncmp(real, root, n) && (real[n] == '/' || real[n] == '\0');
}

static int copy_tree(const char *src, const char *dst, const char *root, int depth,
		     struct strbuf *err)
{
	struct strbuf s = STRBUF_INIT, d = STRBUF_INIT;
	struct dirent **names = NULL;
	int n, r = 0;

	if (depth > MAX_DEPTH)
		return sm_err(err, -ELOOP, "'%s' is nested too deeply", src);
	if (mkdir(dst, 0755) < 0)
		return sm_err(err, -errno, "cannot create '%s': %s", dst, sm_strerror(errno));
	n = scandir(src, &names, NULL, alphasort);
	if (n < 0)
		return sm_err(err, -errno, "cannot read '%s': %s", src, sm_strerror(errno));
	for (int i = 0; i < n && r == 0; i++) {
		const char *name = names[i]->d_name;
		struct stat lst, st;

		if (!strcmp(name, ".") || !strcmp(name, "..") || sm_copy_skipped(name))
			continue;
		sm_strbuf_reset(&s);
		sm_strbuf_reset(&d);
		if ((r = sm_strbuf_addf(&s, "%s/%s", src, name)) < 0 ||
		    (r = sm_strbuf_addf(&d, "%s/%s", dst, name)) < 0)
			break;
		if (lstat(s.buf, &lst) < 0) {
			r = sm_err(err, -errno, "cannot stat '%s': %s", s.buf, sm_strerror(errno));
			break;
		}
		if (S_ISLNK(lst.st_mode)) {
			char *real = realpath(s.buf, NULL);

			if (!real) {
				/* a dangling link: nothing to copy, as shutil would fail */
				r = sm_err(err, -ENOENT, "broken symlink '%s'", s.buf);
				break;
			}
			if (!inside(real, root)) {
				r = sm_err(err, -EPERM, "symlink '%s' points outside the source",
					   s.buf);
				free(real);
				break;
			}
			free(real);
		}
		if (stat(s.buf, &st) < 0) {
			r = sm_err(err, -errno, "cannot stat '%s': %s", s.buf, sm_strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode))
			r = copy_tree(s.buf, d.buf, root, depth + 1, err);
		else if (S_ISREG(st.st_mode))
			r = copy_file(s.buf, d.buf, &st, err);
		/* sockets, fifos, devices: not artifact content, skipped */
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	sm_strbuf_release(&s);
	sm_strbuf_release(&d);
	return r;
}

int sm_copy_artifact(const char *src, const char *dst, struct strbuf *err)
{
	struct stat st;
	char *root;
	int r;

	if (stat(src, &st) < 0)
		return sm_err(err, -errno, "cannot read '%s': %s", src, sm_strerror(errno));
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, &st, err);
	if (!S_ISDIR(st.st_mode))
		return sm_err(err, -EINVAL, "'%s' is neither a file nor a folder", src);
	root = realpath(src, NULL);
	if (!root)
		return sm_err(err, -errno, "cannot resolve '%s': %s", src, sm_strerror(errno));
	r = copy_tree(src, dst, root, 0, err);
	free(root);
	return r;
}

/* ---- the hash a copy would have ---- */

struct relvec {
	char **v;
	size_t n, alloc;
};

static int rel_push(struct relvec *rv, const char *rel)
{
	if (SM_GROW(rv->v, rv->alloc, rv->n + 1) < 0)
		return -ENOMEM;
	rv->v[rv->n] = sm_strdup(rel);
	if (!rv->v[rv->n])
		return -ENOMEM;
	rv->n++;
	return 0;
}

/* The files copy_tree would write, as relative paths (any order). */
static int list_tree(const char *src, const char *rel, const char *root, int depth,
		     struct relvec *rv, struct strbuf *err)
{
	struct strbuf s = STRBUF_INIT, r2 = STRBUF_INIT;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > MAX_DEPTH)
		return sm_err(err, -ELOOP, "'%s' is nested too deeply", src);
	d = opendir(src);
	if (!d)
		return sm_err(err, -errno, "cannot read '%s': %s", src, sm_strerror(errno));
	while (r == 0 && (de = readdir(d))) {
		const char *name = de->d_name;
		struct stat lst, st;

		if (!strcmp(name, ".") || !strcmp(name, "..") || sm_copy_skipped(name))
			continue;
		sm_strbuf_reset(&s);
		sm_strbuf_reset(&r2);
		if ((r = sm_strbuf_addf(&s, "%s/%s", src, name)) < 0 ||
		    (r = sm_strbuf_addf(&r2, "%s%s%s", rel, *rel ? "/" : "", name)) < 0)
			break;
		if (lstat(s.buf, &lst) < 0) {
			r = sm_err(err, -errno, "cannot stat '%s': %s", s.buf, sm_strerror(errno));
			break;
		}
		if (S_ISLNK(lst.st_mode)) {
			char *real = realpath(s.buf, NULL);

			if (!real) {
				r = sm_err(err, -ENOENT, "broken symlink '%s'", s.buf);
				break;
			}
			if (!inside(real, root))
				r = sm_err(err, -EPERM, "symlink '%s' points outside the source",
					   s.buf);
			free(real);
			if (r < 0)
				break;
		}
		if (stat(s.buf, &st) < 0) {
			r = sm_err(err, -errno, "cannot stat '%s': %s", s.buf, sm_strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (S_ISLNK(lst.st_mode))
				r = -ENOTSUP; /* the copy follows it; the hash walk would not */
			else
				r = list_tree(s.buf, r2.buf, root, depth + 1, rv, err);
		} else if (S_ISREG(st.st_mode)) {
			r = rel_push(rv, r2.buf);
		}
	}
	closedir(d);
	sm_strbuf_release(&s);
	sm_strbuf_release(&r2);
	return r;
}

static int cmp_rel(const void *a, const void *b)
{
	return sm_fs_path_cmp(*(char *const *)a, *(char *const *)b);
}

static int hash_file_into(struct sm_sha256 *h, const char *path, struct strbuf *err)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return sm_err(err, -errno, "cannot open '%s': %s", path, sm_strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = sm_err(err, -errno, "cannot read '%s': %s", path, sm_strerror(errno));
			break;
		}
		r = sm_sha256_update(h, buf, (size_t)n);
		if (r < 0)
			break;
	}
	close(fd);
	return r;
}

int sm_copy_hash(const char *src, char hex[65], struct strbuf *err)
{
	struct relvec rv = { 0 };
	struct sm_sha256 *h = NULL;
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	char *root = NULL;
	int r;

	if (stat(src, &st) < 0)
		return sm_err(err, -errno, "cannot read '%s': %s", src, sm_strerror(errno));
	if (S_ISREG(st.st_mode))
		return sm_content_hash(src, hex, err);
	root = realpath(src, NULL);
	if (!root)
		return sm_err(err, -errno, "cannot resolve '%s': %s", src, sm_strerror(errno));
	r = list_tree(src, "", root, 0, &rv, err);
	if (r < 0)
		goto out;
	if (rv.n)
		qsort(rv.v, rv.n, sizeof(*rv.v), cmp_rel);
	r = sm_sha256_new(&h);
	for (size_t i = 0; r == 0 && i < rv.n; i++) {
		sm_strbuf_reset(&p);
		if ((r = sm_sha256_update(h, rv.v[i], strlen(rv.v[i]))) < 0 ||
		    (r = sm_strbuf_addf(&p, "%s/%s", src, rv.v[i])) < 0)
			break;
		r = hash_file_into(h, p.buf, err);
	}
	if (r == 0)
		r = sm_sha256_final_hex(h, hex);
out:
	sm_sha256_free(h);
	for (size_t i = 0; i < rv.n; i++)
		sm_free(rv.v[i]);
	sm_free(rv.v);
	sm_strbuf_release(&p);
	free(root);
	return r;
}
