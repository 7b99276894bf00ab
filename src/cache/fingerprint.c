/* SPDX-License-Identifier: MIT */
/*
 * The files part of an artifact's fingerprint: 32 hex over every file's
 * relative path, size, mtime, ctime and inode (one walk, no reads; the ctime
 * sees an in-place edit keeping size and mtime, touch -r).
 *
 * A walk of a folder can also write its record: each folder's inode, mtime
 * and ctime and the names of the files below it. A warm sync that finds
 * every folder's stat as recorded knows the folders still hold the recorded
 * names (adding, removing or renaming an entry changes its folder's mtime
 * and ctime), so it stats the recorded files without reading any folder;
 * a folder that differs, or any surprise, sends it back to the walk. A
 * folder changed too close to the walk (in the same timestamp tick, a later
 * change could leave its times as recorded) is racy, as git says: then no
 * record is written and that artifact is always walked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_internal.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

/* A 64-bit mix (splitmix64's finaliser) for the per-file terms. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

struct fp_acc {
	uint64_t sum, xr; /* order-independent combination of the files' terms */
	int64_t nfiles, total;
	int64_t newest_ns; /* the newest mtime */
};

static void fp_add(struct fp_acc *a, const char *rel, size_t rlen, const struct stat *st)
{
	uint64_t h = sm_hash_bytes(rel, rlen);

	h = mix64(h ^ mix64((uint64_t)st->st_size));
	h = mix64(h ^ mix64((uint64_t)ts_ns(&st->st_mtim)));
	h = mix64(h ^ mix64((uint64_t)ts_ns(&st->st_ctim)));
	h = mix64(h ^ (uint64_t)st->st_ino);
	a->sum += h;
	a->xr ^= mix64(h + 0x9e3779b97f4a7c15ULL);
	a->nfiles++;
	a->total += st->st_size;
	if (ts_ns(&st->st_mtim) > a->newest_ns)
		a->newest_ns = ts_ns(&st->st_mtim);
}

static int fp_format(const struct fp_acc *a, struct strbuf *out)
{
	static const char digits[] = "0123456789abcdef";
	uint64_t v[2] = { mix64(a->sum ^ (uint64_t)a->nfiles), a->xr };
	char hex[32];

	/* "%016llx%016llx" without printf: every warm sync formats one per artifact */
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 16; i++)
			hex[k * 16 + i] = digits[(v[k] >> (60 - 4 * i)) & 15];
	sm_strbuf_reset(out);
	return sm_strbuf_add(out, hex, sizeof(hex));
}

/* The record being written by a walk; ok turns false at the first surprise. */
struct fp_rec {
	struct strbuf *sb; /* NULL: no record wanted */
	bool ok;
	int64_t t0; /* the clock before the walk (ns since the epoch) */
};

/*
 * A folder changed within a timestamp tick of the walk: a change after the
 * walk could keep its times. Timestamps without nanoseconds (a filesystem
 * counting seconds, FAT's two) get seconds of margin, others 100 ms (the
 * kernel stamps with a clock ticking every few ms).
 */
static bool racy(const struct stat *st, int64_t t0)
{
	int64_t m = ts_ns(&st->st_mtim), c = ts_ns(&st->st_ctim);
	int64_t slack = st->st_mtim.tv_nsec == 0 && st->st_ctim.tv_nsec == 0 ? 3000000000LL
									    : 100000000LL;

	return (m > c ? m : c) >= t0 - slack;
}

static void rec_folder(struct fp_rec *rec, int fd, const char *rel)
{
	struct stat st;

	if (!rec->sb || !rec->ok)
		return;
	if (strchr(rel, '\n') || fstat(fd, &st) < 0 || racy(&st, rec->t0) ||
	    sm_strbuf_addf(rec->sb, "d%llx %llx %llx %s\n", (unsigned long long)st.st_ino,
			   (unsigned long long)ts_ns(&st.st_mtim),
			   (unsigned long long)ts_ns(&st.st_ctim), rel) < 0)
		rec->ok = false;
}

static void rec_file(struct fp_rec *rec, const char *rel, size_t rlen)
{
	if (!rec->sb || !rec->ok)
		return;
	if (memchr(rel, '\n', rlen) || sm_strbuf_addch(rec->sb, 'f') < 0 ||
	    sm_strbuf_add(rec->sb, rel, rlen) < 0 || sm_strbuf_addch(rec->sb, '\n') < 0)
		rec->ok = false;
}

/*
 * The files below fd0 (closed here), as sm_fs_walk sees them (hidden
 * included, symlinked files followed, symlinked folders not descended),
 * without sorting: the terms are combined in an order-independent way. The
 * folder is read with getdents64 into a buffer of its own (no DIR stream:
 * fdopendir costs an fstat and fcntls per folder, and a warm sync reads
 * every folder of the collection). Anything but a real folder or a regular
 * file (a symlinked folder, a dangling link, no d_type) leaves no record.
 */
#define FP_DENTS ((size_t)16 << 10)

static int fp_walk(int fd0, char *rel, size_t rlen, size_t cap, int depth, struct fp_acc *a,
		   struct fp_rec *rec)
{
	char *buf;
	ssize_t got;
	int r = 0;

	if (depth > 64) {
		close(fd0);
		return -ELOOP;
	}
	rec_folder(rec, fd0, rel);
	buf = sm_malloc(FP_DENTS);
	if (!buf) {
		close(fd0);
		return -ENOMEM;
	}
	while (r == 0 && (got = getdents64(fd0, buf, FP_DENTS)) != 0) {
		if (got < 0) {
			r = -errno;
			break;
		}
		for (size_t off = 0; r == 0 && off < (size_t)got;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			const char *nm = de->d_name;
			size_t nl = strlen(nm), l2;
			struct stat st;

			off += de->d_reclen;
			if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
				continue;
			l2 = rlen + (rlen ? 1 : 0) + nl;
			if (l2 + 1 > cap) {
				r = -ENAMETOOLONG;
				break;
			}
			if (rlen)
				rel[rlen] = '/';
			memcpy(rel + rlen + (rlen ? 1 : 0), nm, nl + 1);
			if (de->d_type == DT_DIR) {
				int fd = openat(fd0, nm,
						O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

				if (fd < 0)
					r = -errno;
				else
					r = fp_walk(fd, rel, l2, cap, depth + 1, a, rec);
			} else if (fstatat(fd0, nm, &st, 0) == 0) {
				if (S_ISREG(st.st_mode)) {
					fp_add(a, rel, l2, &st);
					rec_file(rec, rel, l2);
				} else if (S_ISDIR(st.st_mode) && de->d_type == DT_UNKNOWN) {
					struct stat lst;
					int fd;

					rec->ok = false;
					/* no d_type from this filesystem: descend real folders only */
					if (fstatat(fd0, nm, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
					    S_ISDIR(lst.st_mode)) {
						fd = openat(fd0, nm,
							    O_RDONLY | O_DIRECTORY | O_CLOEXEC |
								    O_NOFOLLOW);
						if (fd < 0)
							r = -errno;
						else
							r = fp_walk(fd, rel, l2, cap, depth + 1, a,
								    rec);
					}
				} else {
					rec->ok = false;
				}
			} else if (errno != ENOENT) {
				r = -errno; /* a dangling symlink is skipped, like the walk */
			} else {
				rec->ok = false;
			}
			rel[rlen] = '\0';
		}
	}
	sm_free(buf);
	close(fd0);
	return r;
}

/*
 * One system call less per artifact: a name with an extension (a command's or
 * an agent's .md) is stat'ed first, any other is opened as a folder first (a
 * skill); either way the other follows when it was the wrong guess.
 */
int sm_fingerprint_files(int dfd, const char *path, struct strbuf *out, int64_t *nfiles,
			 int64_t *total, int64_t *newest_ns, struct strbuf *walk, struct strbuf *err)
{
	struct fp_acc a = { 0 };
	struct fp_rec rec = { .sb = walk, .ok = walk != NULL };
	struct stat st;
	char rel[4096];
	const char *base = strrchr(path, '/');
	int fd = -1, r;

	if (walk) {
		struct timespec now;

		sm_strbuf_reset(walk);
		if (clock_gettime(CLOCK_REALTIME, &now) < 0)
			rec.ok = false;
		rec.t0 = ts_ns(&now);
	}
	base = base ? base + 1 : path;
	if (strchr(base, '.') && fstatat(dfd, path, &st, 0) == 0 && S_ISREG(st.st_mode)) {
		fp_add(&a, base, strlen(base), &st);
		rec.ok = false; /* one file: its stat is all a warm sync takes */
		goto done;
	}
	fd = openat(dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rel[0] = '\0';
		r = fp_walk(fd, rel, 0, sizeof(rel), 0, &a, &rec);
		if (r < 0)
			return sm_err(err, r, "cannot read '%s': %s", path, sm_strerror(r));
	} else if (errno != ENOTDIR) {
		return sm_err(err, -errno, "cannot read '%s': %s", path, sm_strerror(errno));
	} else if (fstatat(dfd, path, &st, 0) < 0) {
		return sm_err(err, -errno, "cannot read '%s': %s", path, sm_strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		fp_add(&a, base, strlen(base), &st);
		rec.ok = false;
	} else {
		return sm_err(err, -EINVAL, "'%s' is neither a file nor a folder", path);
	}
done:
	if (walk && !rec.ok)
		sm_strbuf_reset(walk);
	*nfiles = a.nfiles;
	*total = a.total;
	if (newest_ns)
		*newest_ns = a.newest_ns;
	return fp_format(&a, out);
}

/* "<hex> " at *p (lowercase, 1 to 16 digits): the value, *p past the space; false when malformed */
static bool hex_field(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int n = 0;

	for (;; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else
			break;
		if (n == 16)
			return false;
		x = x << 4 | d;
	}
	if (!n || *s != ' ')
		return false;
	*v = x;
	*p = s + 1;
	return true;
}

int sm_fingerprint_from_walk(int dfd, const char *path, const char *walk, struct strbuf *out)
{
	struct fp_acc a = { 0 };
	char p[4096];
	size_t plen = strlen(path);
	const char *s = walk;

	if (!*s || plen + 2 > sizeof(p))
		return 0;
	memcpy(p, path, plen);
	while (*s) {
		const char *nl = strchr(s, '\n'), *rel;
		char kind = *s++;
		uint64_t ino = 0, mt = 0, ct = 0;
		size_t rlen;
		struct stat st;

		if (!nl)
			return 0;
		if (kind == 'd' && !(hex_field(&s, &ino) && hex_field(&s, &mt) && hex_field(&s, &ct)))
			return 0;
		if ((kind != 'd' && kind != 'f') || s > nl)
			return 0;
		rel = s;
		rlen = (size_t)(nl - s);
		s = nl + 1;
		if (plen + 1 + rlen + 1 > sizeof(p))
			return 0;
		p[plen] = '/';
		memcpy(p + plen + 1, rel, rlen);
		p[plen + (rlen ? 1 + rlen : 0)] = '\0';
		if (kind == 'd') {
			/* the artifact's own folder is followed like the walk's open, others not */
			if (fstatat(dfd, p, &st, rlen ? AT_SYMLINK_NOFOLLOW : 0) < 0 ||
			    !S_ISDIR(st.st_mode) || (uint64_t)st.st_ino != ino ||
			    (uint64_t)ts_ns(&st.st_mtim) != mt || (uint64_t)ts_ns(&st.st_ctim) != ct)
				return 0;
		} else {
			if (!rlen || fstatat(dfd, p, &st, 0) < 0 || !S_ISREG(st.st_mode))
				return 0;
			fp_add(&a, rel, rlen, &st);
		}
	}
	return fp_format(&a, out) < 0 ? 0 : 1;
}
