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
#include "skillmeat/error.h"
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
