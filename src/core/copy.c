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
#include "skillmeat/deploy.h"
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

/* One copy run: paths for messages and links, the hash and records when traced. */
struct run {
	const char *src;
	char *root;		/* src resolved (symlinks must stay inside), NULL until needed */
	struct strbuf spath;	/* src/rel of the entry at hand */
	struct strbuf rel;	/* its path relative to src */
	struct sm_copy_trace *t;
	struct sm_sha256 *h;
	char *buf;
};

#define COPY_CHUNK 65536

static int run_err(struct run *c, struct strbuf *err, int r, const char *what)
{
	return sm_err(err, r, "cannot %s '%s': %s", what, c->spath.buf, sm_strerror(-r));
}

/*
 * The bytes of in into out in the kernel (nothing hashed): 1 done, 0 when not
 * possible here before anything was written (another filesystem, a file that
 * reports a size and gives nothing: read it instead), <0 an error.
 */
static int copy_range(int in, int out, const struct stat *st)
{
	bool any = false;

	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (!any && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				     errno == EOPNOTSUPP))
				return 0;
			return -errno;
		}
		if (n == 0)
			return any || st->st_size == 0 ? 1 : 0;
		any = true;
	}
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_mode == b->st_mode && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Copy the open file in (stat st) to name in dfd; hash and record it when traced. */
static int copy_fd(struct run *c, int in, const struct stat *st, int dfd, const char *name,
		   const char *dshown, struct strbuf *err)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	int out, r = 0;
	ssize_t n;

	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
	if (out < 0)
		return sm_err(err, -errno, "cannot create '%s': %s", dshown, sm_strerror(errno));
	if (c->h && c->rel.len)
		r = sm_sha256_update(c->h, c->rel.buf, c->rel.len);
	if (!c->h) {
		r = copy_range(in, out, st);
		if (r < 0) {
			r = sm_err(err, r, "cannot copy '%s' to '%s': %s", c->spath.buf, dshown,
				   sm_strerror(-r));
			goto done;
		}
		if (r == 1) {
			r = 0;
			goto done;
		}
	}
	while (r == 0) {
		n = read(in, c->buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = run_err(c, err, -errno, "read");
			break;
		}
		if (n == 0)
			break;
		if (c->h && (r = sm_sha256_update(c->h, c->buf, (size_t)n)) < 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, c->buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r = sm_err(err, -errno, "cannot write '%s': %s", dshown,
					   sm_strerror(errno));
				goto done;
			}
			off += w;
		}
	}
done:
	if (r == 0 && c->t && c->t->no_hash) {
		struct stat now;

		/* what was copied is what src_fp says only if nothing moved meanwhile */
		if (fstat(in, &now) < 0 || !same_stat(st, &now))
			c->t->moved = true;
	}
	if (r == 0)
		(void)futimens(out, times);
	if (r == 0 && c->t && c->t->dst_fp && c->rel.len) {
		struct stat ost;

		if (fstat(out, &ost) < 0)
			r = sm_err(err, -errno, "cannot stat '%s': %s", dshown, sm_strerror(errno));
		else if (sm_hashcache_fp_add(c->t->dst_fp, c->rel.buf, &ost) < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
	}
	if (close(out) < 0 && r == 0)
		r = sm_err(err, -errno, "cannot write '%s': %s", dshown, sm_strerror(errno));
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

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the open folder fd (skip list applied), sorted by bytes. */
static int read_names(int fd, char ***ret, size_t *count, struct strbuf *names)
{
	char buf[32768];
	size_t n = 0, alloc = 0;
	char **v = NULL;
	ssize_t got;

	sm_strbuf_reset(names);
	while ((got = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < got;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			const char *nm = de->d_name;

			off += de->d_reclen;
			if ((nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2]))) ||
			    sm_copy_skipped(nm))
				continue;
			/* the type byte first, then the name */
			if (sm_strbuf_addch(names, (char)de->d_type) < 0 ||
			    sm_strbuf_add(names, nm, strlen(nm) + 1) < 0)
				return -ENOMEM;
			n++;
		}
	}
	if (got < 0)
		return -errno;
	if (n && SM_GROW(v, alloc, n) < 0)
		return -ENOMEM;
	for (size_t i = 0, off = 0; i < n; i++) {
		v[i] = names->buf + off + 1;
		off += strlen(v[i]) + 2;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_name);
	*ret = v;
	*count = n;
	return 0;
}

static int copy_dir(struct run *c, int sfd, int dfd, const char *dst, int depth,
		    struct strbuf *err);

/*
 * One entry name of the folder sfd (type d_type) into dfd. Links are followed
 * while they stay inside the source; special files are not artifact content.
 */
static int copy_entry(struct run *c, int sfd, int dfd, const char *name, unsigned char type,
		      struct strbuf *d, int depth, struct strbuf *err)
{
	struct stat st;
	int in, r, nofollow = O_NOFOLLOW; /* a link only when checked below */

	if (type == DT_UNKNOWN) {
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return run_err(c, err, -errno, "stat");
		type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR
					     : S_ISREG(st.st_mode) ? DT_REG : DT_FIFO;
	}
	if (type == DT_LNK) {
		char *real;

		/* the source resolved once, when the first link asks */
		if (!c->root && !(c->root = realpath(c->src, NULL)))
			return sm_err(err, -errno, "cannot resolve '%s': %s", c->src,
				      sm_strerror(errno));
		real = realpath(c->spath.buf, NULL);

		if (!real) /* a dangling link: nothing to copy, as shutil would fail */
			return sm_err(err, -ENOENT, "broken symlink '%s'", c->spath.buf);
		r = inside(real, c->root) ? 0 : -EPERM;
		free(real);
		if (r < 0)
			return sm_err(err, r, "symlink '%s' points outside the source",
				      c->spath.buf);
		if (fstatat(sfd, name, &st, 0) < 0)
			return run_err(c, err, -errno, "stat");
		type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_FIFO;
		nofollow = 0;
	}
	if (type != DT_DIR && type != DT_REG)
		return 0; /* sockets, fifos, devices: skipped */
	in = openat(sfd, name,
		    O_RDONLY | O_CLOEXEC | O_NONBLOCK | nofollow | (type == DT_DIR ? O_DIRECTORY : 0));
	if (in < 0)
		return run_err(c, err, -errno, "open");
	if (fstat(in, &st) < 0) {
		r = run_err(c, err, -errno, "stat");
	} else if (c->t && c->t->src_fp && sm_hashcache_fp_add(c->t->src_fp, c->rel.buf, &st) < 0) {
		r = sm_err(err, -ENOMEM, "out of memory");
	} else if (S_ISDIR(st.st_mode)) {
		r = copy_dir(c, in, dfd, d->buf, depth + 1, err);
		in = -1; /* closed by copy_dir */
	} else if (S_ISREG(st.st_mode)) {
		r = copy_fd(c, in, &st, dfd, name, d->buf, err);
	} else {
		r = 0;
	}
	if (in >= 0)
		close(in);
	return r;
}

/*
 * Make dst (relative to the folder pfd, or a path when pfd is AT_FDCWD) and
 * copy the open source folder sfd into it (sfd is closed). Names in byte
 * order, depth first: the hash sees files in algorithm A's order.
 */
static int copy_dir(struct run *c, int sfd, int pfd, const char *dst, int depth,
		    struct strbuf *err)
{
	struct strbuf names = STRBUF_INIT, d = STRBUF_INIT;
	const char *base = pfd == AT_FDCWD ? dst : strrchr(dst, '/') + 1;
	size_t slen = c->spath.len, rlen = c->rel.len, n = 0;
	char **v = NULL;
	int dfd = -1, r;

	if (depth > MAX_DEPTH) {
		r = sm_err(err, -ELOOP, "'%s' is nested too deeply", c->spath.buf);
		goto out;
	}
	if (mkdirat(pfd, base, 0755) < 0) {
		r = sm_err(err, -errno, "cannot create '%s': %s", dst, sm_strerror(errno));
		goto out;
	}
	dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		r = sm_err(err, -errno, "cannot open '%s': %s", dst, sm_strerror(errno));
		goto out;
	}
	r = read_names(sfd, &v, &n, &names);
	if (r < 0) {
		r = run_err(c, err, r, "read");
		goto out;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *name = v[i];

		sm_strbuf_setlen(&c->spath, slen);
		sm_strbuf_setlen(&c->rel, rlen);
		sm_strbuf_reset(&d);
		if (sm_strbuf_addch(&c->spath, '/') < 0 || sm_strbuf_addstr(&c->spath, name) < 0 ||
		    (rlen && sm_strbuf_addch(&c->rel, '/') < 0) ||
		    sm_strbuf_addstr(&c->rel, name) < 0 || sm_strbuf_addf(&d, "%s/%s", dst, name) < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
		else
			r = copy_entry(c, sfd, dfd, name, (unsigned char)name[-1], &d, depth, err);
	}
	sm_strbuf_setlen(&c->spath, slen);
	sm_strbuf_setlen(&c->rel, rlen);
	/* a folder's records once its entries are all made */
	if (r == 0 && rlen && c->t && c->t->dst_fp) {
		struct stat st;

		if (fstat(dfd, &st) < 0)
			r = sm_err(err, -errno, "cannot stat '%s': %s", dst, sm_strerror(errno));
		else if (sm_hashcache_fp_add(c->t->dst_fp, c->rel.buf, &st) < 0)
			r = sm_err(err, -ENOMEM, "out of memory");
	}
out:
	if (dfd >= 0)
		close(dfd);
	close(sfd);
	sm_free(v);
	sm_strbuf_release(&names);
	sm_strbuf_release(&d);
	return r;
}

int sm_copy_artifact_traced(const char *src, const char *dst, struct sm_copy_trace *t,
			    struct strbuf *err)
{
	struct run c = { .src = src, .t = t, .spath = STRBUF_INIT, .rel = STRBUF_INIT };
	struct stat st;
	int in, r;

	in = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (in < 0)
		return sm_err(err, -errno, "cannot read '%s': %s", src, sm_strerror(errno));
	if (fstat(in, &st) < 0) {
		r = sm_err(err, -errno, "cannot read '%s': %s", src, sm_strerror(errno));
		close(in);
		return r;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		close(in);
		return sm_err(err, -EINVAL, "'%s' is neither a file nor a folder", src);
	}
	c.buf = sm_malloc(COPY_CHUNK);
	r = c.buf ? sm_strbuf_addstr(&c.spath, src) : -ENOMEM;
	if (t) {
		t->hex[0] = '\0';
		t->moved = false;
	}
	if (r == 0 && t && !t->no_hash)
		r = sm_sha256_new(&c.h);
	if (r == 0 && t && t->src_fp)
		r = sm_hashcache_fp_add(t->src_fp, "", &st);
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		close(in);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		r = copy_fd(&c, in, &st, AT_FDCWD, dst, dst, err);
		close(in);
	} else {
		r = copy_dir(&c, in, AT_FDCWD, dst, 0, err);
	}
	if (r == 0 && c.h)
		r = sm_sha256_final_hex(c.h, t->hex);
out:
	sm_sha256_free(c.h);
	sm_free(c.buf);
	free(c.root);
	sm_strbuf_release(&c.spath);
	sm_strbuf_release(&c.rel);
	return r;
}

int sm_copy_artifact(const char *src, const char *dst, struct strbuf *err)
{
	return sm_copy_artifact_traced(src, dst, NULL, err);
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
