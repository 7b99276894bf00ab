/* SPDX-License-Identifier: MIT */
/*
 * A cache of content hashes keyed by path, each with the stat records of
 * what was hashed (the folder itself, every folder and every file below:
 * mode, inode, size, mtime and ctime), so status and an unchanged re-deploy
 * stat what was hashed (no folder read) and hash only what changed. Kept in
 * <home>/cache/deploy-hashes.bin (ours, deletable at any time; anything
 * malformed ends the read). A write of the file drops the entries whose
 * folder is gone (a removed project, its .claude/skills removed) among
 * those the run did not look up: one lstat per distinct folder, only when
 * the file is written anyway.
 *
 * What the records trust, as git's index does: a change to a file changes
 * its size, mtime, ctime or inode, and an entry added, removed or renamed
 * in a folder changes the folder's mtime and ctime. ctime cannot be set
 * from user space, so a hand edit that keeps the size and restores the
 * mtime (touch -r) is seen. The one gap is a change within the same
 * timestamp tick as the stat: records whose newest ctime is not older than
 * the clock when they were taken are "racy" (as git's racily clean entries)
 * and their content is read again at the next look-up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/copy.h"
#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define CACHE_MAX ((size_t)256 << 20)
#define MAGIC "skillmeat-deploy-hashes 2\n"
#define MAX_DEPTH 64

struct hc_entry {
	char hash[SM_SHA256_HEX_LEN + 1];
	bool trusted; /* not racy: every ctime older than the clock when taken */
	bool seen;    /* looked up or noted in this run: its path exists */
	size_t len;
	unsigned char *fp; /* records, as sm_hashcache_fp_add writes them */
};

struct sm_hashcache {
	char *path;
	struct sm_hashmap *map;
	bool dirty;
	/*
	 * The folders of the last paths looked up (O_PATH), kept open: the
	 * entries of one run sit side by side (skills/a, skills/b, ... in the
	 * collection and in the project, looked up in turn), so each record is
	 * stat'ed relative to one with no open and close per entry and no walk
	 * of the long path from the root. The least recently used one goes.
	 */
	struct {
		char *dir;
		int fd;
		uint64_t used;
	} parents[2];
	uint64_t tick;
};

/* One record: u16 name length, the name (relative, "" for the root), then this. */
struct fp_stat {
	uint32_t mode;
	uint64_t ino, size;
	int64_t mtime, ctime;
};

#define REC_FIXED (sizeof(uint16_t) + sizeof(struct fp_stat))

static void stat_of(const struct stat *st, struct fp_stat *f)
{
	memset(f, 0, sizeof(*f));
	f->mode = (uint32_t)st->st_mode;
	f->ino = (uint64_t)st->st_ino;
	f->size = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size;
	f->mtime = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	f->ctime = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

int64_t sm_hashcache_clock(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) < 0 &&
	    clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return INT64_MIN; /* no clock: everything racy */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int sm_hashcache_fp_add(struct strbuf *fp, const char *rel, const struct stat *st)
{
	size_t n = strlen(rel);
	uint16_t n16 = (uint16_t)n;
	struct fp_stat f;

	if (n > UINT16_MAX)
		return -ENAMETOOLONG;
	stat_of(st, &f);
	if (sm_strbuf_add(fp, &n16, sizeof(n16)) < 0 || sm_strbuf_add(fp, rel, n) < 0 ||
	    sm_strbuf_add(fp, &f, sizeof(f)) < 0)
		return -ENOMEM;
	return 0;
}

/* Walk the records: calls fn for each; false when malformed or fn says stop. */
static bool fp_each(const unsigned char *p, size_t len,
		    bool (*fn)(void *ctx, const char *rel, size_t rlen, const struct fp_stat *f),
		    void *ctx)
{
	size_t off = 0;

	while (off < len) {
		uint16_t n;
		struct fp_stat f;

		if (len - off < REC_FIXED)
			return false;
		memcpy(&n, p + off, sizeof(n));
		if (len - off - REC_FIXED < n)
			return false;
		memcpy(&f, p + off + sizeof(n) + n, sizeof(f));
		if (!fn(ctx, (const char *)p + off + sizeof(n), n, &f))
			return false;
		off += REC_FIXED + n;
	}
	return true;
}

struct rec_ref {
	const unsigned char *p; /* the whole record: u16 length, name, stat */
	size_t nlen;
};

static bool ref_push(void *ctx, const char *rel, size_t rlen, const struct fp_stat *f)
{
	struct rec_ref **at = ctx;

	(void)f;
	(*at)->p = (const unsigned char *)rel - sizeof(uint16_t);
	(*at)->nlen = rlen;
	(*at)++;
	return true;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct rec_ref *x = a, *y = b;
	size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
	int c = memcmp(x->p + sizeof(uint16_t), y->p + sizeof(uint16_t), n);

	return c ? c : x->nlen < y->nlen ? -1 : x->nlen > y->nlen;
}

/* The records of a, in name order, into v (room for a's count): false when malformed. */
static bool refs_of(const void *a, size_t alen, struct rec_ref *v, size_t count)
{
	struct rec_ref *at = v;

	if (!fp_each(a, alen, ref_push, &at) || (size_t)(at - v) != count)
		return false;
	qsort(v, count, sizeof(*v), cmp_ref);
	return true;
}

static bool count_rec(void *ctx, const char *rel, size_t rlen, const struct fp_stat *f)
{
	(void)rel;
	(void)rlen;
	(void)f;
	(*(size_t *)ctx)++;
	return true;
}

bool sm_hashcache_fp_same(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t na = 0, nb = 0;
	struct rec_ref *va, *vb;
	bool same;

	if (alen != blen)
		return false;
	if (!memcmp(a, b, alen))
		return true;
	/* the same records in another order (a folder walk's, a copy's sorted one) */
	if (!fp_each(a, alen, count_rec, &na) || !fp_each(b, blen, count_rec, &nb) || na != nb ||
	    !na)
		return false;
	va = sm_calloc(na, sizeof(*va));
	vb = sm_calloc(nb, sizeof(*vb));
	same = va && vb && refs_of(a, alen, va, na) && refs_of(b, blen, vb, nb);
	for (size_t i = 0; same && i < na; i++)
		same = va[i].nlen == vb[i].nlen &&
		       !memcmp(va[i].p, vb[i].p, REC_FIXED + va[i].nlen);
	sm_free(va);
	sm_free(vb);
	return same;
}

static bool newest_ctime(void *ctx, const char *rel, size_t rlen, const struct fp_stat *f)
{
	int64_t *max = ctx;

	(void)rel;
	(void)rlen;
	if (f->ctime > *max)
		*max = f->ctime;
	return true;
}

struct verify {
	int pfd;	   /* path's folder (O_PATH): each record stat'ed relative to it */
	struct strbuf rel; /* path's last name, then "/" and the record's name */
	size_t base;	   /* the length of the last name */
	const struct stat *top; /* NULL or: path's own stat, taken by the caller */
	const char *path;
};

static bool same_stat(void *ctx, const char *rel, size_t rlen, const struct fp_stat *f)
{
	struct verify *v = ctx;
	struct fp_stat now;
	struct stat st;

	if (!rlen && v->top) {
		stat_of(v->top, &now);
		return !memcmp(&now, f, sizeof(now));
	}
	/*
	 * path itself by its full name: the folder kept open may have been
	 * replaced since it was opened (renamed away, a new one made); then
	 * what is at path now is another inode than the record's, and a copy
	 * moved into the new folder is no longer in the old one, so no record
	 * is ever checked in a folder path no longer names
	 */
	if (!rlen) {
		if (stat(v->path, &st) < 0)
			return false;
		stat_of(&st, &now);
		return !memcmp(&now, f, sizeof(now));
	}
	sm_strbuf_setlen(&v->rel, v->base);
	if (rlen && (sm_strbuf_addch(&v->rel, '/') < 0 || sm_strbuf_add(&v->rel, rel, rlen) < 0))
		return false;
	/* followed as stat(path) and a folder opened by path would be */
	if (fstatat(v->pfd, v->rel.buf, &st, 0) < 0)
		return false;
	stat_of(&st, &now);
	return !memcmp(&now, f, sizeof(now));
}

/* The open folder of path (the last one kept), its last name in *base; <0 when none. */
static int parent_of(struct sm_hashcache *hc, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n, lru = 0;
	char *d;
	int fd;

	if (!slash || !slash[1])
		return -EINVAL;
	n = slash == path ? 1 : (size_t)(slash - path);
	*base = slash + 1;
	for (size_t i = 0; i < SM_ARRAY_SIZE(hc->parents); i++) {
		const char *pd = hc->parents[i].dir;

		if (pd && strlen(pd) == n && !memcmp(pd, path, n)) {
			hc->parents[i].used = ++hc->tick;
			return hc->parents[i].fd;
		}
		if (hc->parents[i].used < hc->parents[lru].used)
			lru = i;
	}
	if (!(d = sm_malloc(n + 1)))
		return -ENOMEM;
	memcpy(d, path, n);
	d[n] = '\0';
	fd = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		sm_free(d);
		return -errno;
	}
	if (hc->parents[lru].dir)
		close(hc->parents[lru].fd);
	sm_free(hc->parents[lru].dir);
	hc->parents[lru].dir = d;
	hc->parents[lru].fd = fd;
	hc->parents[lru].used = ++hc->tick;
	return fd;
}

/*
 * Is path still as the records say (one stat per record, no folder read)?
 * Each record is stat'ed as "<last name>/<record>" relative to path's
 * folder, which stays open across look-ups: no open, close or walk from the
 * root per entry.
 */
static bool fp_matches(struct sm_hashcache *hc, const char *path, const struct stat *top,
		       const struct hc_entry *e)
{
	struct verify v = { -1, STRBUF_INIT, 0, top, path };
	const char *base;
	bool ok;

	if (!e->len || (v.pfd = parent_of(hc, path, &base)) < 0)
		return false;
	v.base = strlen(base);
	ok = sm_strbuf_add(&v.rel, base, v.base) == 0 && fp_each(e->fp, e->len, same_stat, &v);
	sm_strbuf_release(&v.rel);
	return ok;
}

static void entry_free(struct hc_entry *e)
{
	if (e)
		sm_free(e->fp);
	sm_free(e);
}

/* Take fp's bytes into a new entry under key. */
static int put(struct sm_hashcache *hc, const char *key, size_t klen, const char *hash,
	       const void *fp, size_t len, bool trusted, bool seen)
{
	struct hc_entry *e = sm_calloc(1, sizeof(*e)), *old = NULL;
	int r;

	if (!e || !(e->fp = sm_malloc(len ? len : 1))) {
		entry_free(e);
		return -ENOMEM;
	}
	memcpy(e->fp, fp, len);
	e->len = len;
	e->trusted = trusted;
	e->seen = seen;
	memcpy(e->hash, hash, sizeof(e->hash));
	r = sm_hashmap_put(hc->map, key, klen, e, (void **)&old);
	if (r < 0)
		entry_free(e);
	entry_free(old);
	return r;
}

void sm_hashcache_free(struct sm_hashcache *hc)
{
	size_t pos = 0, kl;
	const void *k;
	void *v;

	if (!hc)
		return;
	while (hc->map && sm_hashmap_next(hc->map, &pos, &k, &kl, &v))
		entry_free(v);
	sm_hashmap_free(hc->map);
	for (size_t i = 0; i < SM_ARRAY_SIZE(hc->parents); i++) {
		if (hc->parents[i].dir)
			close(hc->parents[i].fd);
		sm_free(hc->parents[i].dir);
	}
	sm_free(hc->path);
	sm_free(hc);
}

static bool hex64(const char *s)
{
	for (size_t i = 0; i < SM_SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Entries: u32 key length, key, 64 hex, u8 trusted, u32 records length, records. */
static void parse(struct sm_hashcache *hc, const char *s, size_t len)
{
	size_t off = strlen(MAGIC);

	if (len < off || memcmp(s, MAGIC, off))
		return;
	while (len - off >= 2 * sizeof(uint32_t) + SM_SHA256_HEX_LEN + 1) {
		uint32_t kl, fl;
		char h[SM_SHA256_HEX_LEN + 1];
		const char *k;

		memcpy(&kl, s + off, sizeof(kl));
		off += sizeof(kl);
		if (len - off < (size_t)kl + SM_SHA256_HEX_LEN + 1 + sizeof(fl))
			return;
		k = s + off;
		off += kl;
		memcpy(h, s + off, SM_SHA256_HEX_LEN);
		h[SM_SHA256_HEX_LEN] = '\0';
		off += SM_SHA256_HEX_LEN;
		if (!hex64(h) || (s[off] != 0 && s[off] != 1))
			return;
		bool trusted = s[off++] == 1;

		memcpy(&fl, s + off, sizeof(fl));
		off += sizeof(fl);
		if (len - off < fl)
			return;
		/* read, not yet looked up */
		if (put(hc, k, kl, h, s + off, fl, trusted, false) < 0)
			return;
		off += fl;
	}
}

int sm_hashcache_open(const struct sm_home *home, struct sm_hashcache **ret, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct sm_hashcache *hc = sm_calloc(1, sizeof(*hc));

	if (!hc || sm_hashmap_new(&hc->map) < 0) {
		sm_hashcache_free(hc);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	if (sm_strbuf_addf(&buf, "%s/cache/deploy-hashes.bin", home->root) < 0 ||
	    !(hc->path = sm_strbuf_detach(&buf, NULL))) {
		sm_hashcache_free(hc);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	if (sm_fs_read_file(hc->path, CACHE_MAX, &buf, NULL) == 0)
		parse(hc, buf.buf, buf.len);
	sm_strbuf_release(&buf);
	*ret = hc;
	return 0;
}

/*
 * Is the folder of key's path ("S:" or "C:" and the path) gone (a removed
 * project, a removed .claude/skills)? Asked at a write of the cache for the
 * entries this run did not look up, so entries of projects that no longer
 * exist are dropped instead of kept forever. One lstat per distinct folder
 * (answers kept in seen: the entries of a project share a few folders), not
 * one per entry. Anything but a clear "not there" keeps the entry.
 */
static bool gone(struct sm_hashmap *seen, const void *key, size_t klen)
{
	static char yes, no;
	const char *p = (const char *)key + 2, *slash;
	struct strbuf dir = STRBUF_INIT;
	struct stat st;
	void *v;
	bool g;

	if (klen < 3 || !(slash = memrchr(p, '/', klen - 2)) || slash == p)
		return false;
	if (sm_hashmap_get(seen, p, (size_t)(slash - p), &v))
		return v == &yes;
	if (sm_strbuf_add(&dir, p, (size_t)(slash - p)) < 0) {
		sm_strbuf_release(&dir);
		return false;
	}
	g = lstat(dir.buf, &st) < 0 && (errno == ENOENT || errno == ENOTDIR);
	(void)sm_hashmap_put(seen, p, (size_t)(slash - p), g ? &yes : &no, NULL);
	sm_strbuf_release(&dir);
	return g;
}

int sm_hashcache_save(struct sm_hashcache *hc, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, dir = STRBUF_INIT;
	struct sm_hashmap *dirs = NULL;
	size_t pos = 0, kl;
	const void *k;
	void *v;
	int r = 0;

	if (!hc || !hc->dirty)
		return 0;
	if (sm_hashmap_new(&dirs) < 0)
		dirs = NULL; /* nothing dropped this time */
	r = sm_strbuf_addstr(&out, MAGIC);
	while (r == 0 && sm_hashmap_next(hc->map, &pos, &k, &kl, &v)) {
		const struct hc_entry *e = v;
		uint32_t k32 = (uint32_t)kl, f32 = (uint32_t)e->len;
		char t = e->trusted ? 1 : 0;

		if (kl > UINT32_MAX || e->len > UINT32_MAX)
			continue;
		if (!e->seen && dirs && gone(dirs, k, kl))
			continue; /* a removed project */
		r = sm_strbuf_add(&out, &k32, sizeof(k32));
		r = r ?: sm_strbuf_add(&out, k, kl);
		r = r ?: sm_strbuf_add(&out, e->hash, SM_SHA256_HEX_LEN);
		r = r ?: sm_strbuf_add(&out, &t, 1);
		r = r ?: sm_strbuf_add(&out, &f32, sizeof(f32));
		r = r ?: sm_strbuf_add(&out, e->fp, e->len);
	}
	if (r == 0) {
		const char *slash = strrchr(hc->path, '/');

		r = sm_strbuf_add(&dir, hc->path, (size_t)(slash - hc->path));
		r = r ?: sm_fs_mkdir_p(dir.buf, 0755, err);
		r = r ?: sm_fs_write_atomic_nosync(hc->path, out.buf, out.len, 0644, err);
	} else {
		r = sm_err(err, r, "out of memory");
	}
	if (r == 0) {
		hc->dirty = false;
		/* the text cache of earlier versions, never read again */
		sm_strbuf_reset(&dir);
		if (sm_strbuf_add(&dir, hc->path, strlen(hc->path) - strlen("bin")) == 0 &&
		    sm_strbuf_addstr(&dir, "tsv") == 0)
			(void)unlink(dir.buf);
	}
	sm_strbuf_release(&out);
	sm_strbuf_release(&dir);
	sm_hashmap_free(dirs);
	return r;
}

/*
 * The records of what the hash of path reads: 0, 1 when they cannot vouch
 * for it (a symlinked folder or a dangling link below: what they lead to is
 * not stat'ed), <0 on an error. as_deployed skips what a copy skips.
 */
static int collect(int dfd, struct strbuf *rel, bool as_deployed, int depth, struct strbuf *fp)
{
	DIR *d;
	struct dirent *de;
	struct strbuf sub = STRBUF_INIT;
	size_t nsub = 0, saved = rel->len;
	int fd, r = 0;

	if (depth > MAX_DEPTH)
		return 1;
	fd = openat(dfd, rel->len ? rel->buf : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while (r == 0 && (de = readdir(d))) {
		const char *n = de->d_name;
		struct stat st;

		if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
			continue;
		if (as_deployed && sm_copy_skipped(n))
			continue;
		if (fstatat(dirfd(d), n, &st, 0) < 0) {
			r = errno == ENOENT || errno == ELOOP ? 1 : -errno; /* dangling */
			break;
		}
		if (de->d_type == DT_LNK && S_ISDIR(st.st_mode)) {
			r = 1;
			break;
		}
		if (de->d_type == DT_UNKNOWN && S_ISDIR(st.st_mode)) {
			struct stat lst;

			if (fstatat(dirfd(d), n, &lst, AT_SYMLINK_NOFOLLOW) < 0 ||
			    S_ISLNK(lst.st_mode)) {
				r = 1;
				break;
			}
		}
		sm_strbuf_setlen(rel, saved);
		if ((saved && sm_strbuf_addch(rel, '/') < 0) || sm_strbuf_addstr(rel, n) < 0 ||
		    sm_hashcache_fp_add(fp, rel->buf, &st) < 0) {
			r = -ENOMEM;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			/* folders after this one is read: one open at a time */
			if (sm_strbuf_add(&sub, n, strlen(n) + 1) < 0)
				r = -ENOMEM;
			nsub++;
		}
	}
	closedir(d);
	for (size_t i = 0, off = 0; r == 0 && i < nsub; i++) {
		const char *n = sub.buf + off;

		off += strlen(n) + 1;
		sm_strbuf_setlen(rel, saved);
		if ((saved && sm_strbuf_addch(rel, '/') < 0) || sm_strbuf_addstr(rel, n) < 0)
			r = -ENOMEM;
		else
			r = collect(dfd, rel, as_deployed, depth + 1, fp);
	}
	sm_strbuf_setlen(rel, saved);
	sm_strbuf_release(&sub);
	return r;
}

static int records(const char *path, bool as_deployed, struct strbuf *fp)
{
	struct strbuf rel = STRBUF_INIT;
	struct stat st;
	int dfd, r;

	if (stat(path, &st) < 0)
		return -errno;
	r = sm_hashcache_fp_add(fp, "", &st);
	if (r < 0 || !S_ISDIR(st.st_mode))
		return r;
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = collect(dfd, &rel, as_deployed, 0, fp);
	close(dfd);
	sm_strbuf_release(&rel);
	return r;
}

static int key_of(struct strbuf *key, const char *path, bool as_deployed)
{
	return sm_strbuf_addf(key, "%c:%s", as_deployed ? 'S' : 'C', path);
}

static int note(struct sm_hashcache *hc, const struct strbuf *key, const char *hex,
		const struct strbuf *fp, int64_t taken)
{
	int64_t newest = INT64_MIN;
	int r;

	if (!fp_each((const unsigned char *)fp->buf, fp->len, newest_ctime, &newest))
		return -EINVAL;
	r = put(hc, key->buf, key->len, hex, fp->buf, fp->len, newest < taken, true);
	if (r == 0)
		hc->dirty = true;
	return r;
}

int sm_hashcache_hash(struct sm_hashcache *hc, const char *path, bool as_deployed,
		      char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	return sm_hashcache_hash_st(hc, path, NULL, as_deployed, hex, err);
}

int sm_hashcache_hash_st(struct sm_hashcache *hc, const char *path, const struct stat *top,
			 bool as_deployed, char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT, fp = STRBUF_INIT;
	struct hc_entry *e;
	int64_t taken;
	int r, rr;

	if (!hc)
		return as_deployed ? sm_deploy_source_hash(path, hex, err)
				   : sm_content_hash(path, hex, err);
	if ((r = key_of(&key, path, as_deployed)) < 0)
		return sm_err(err, r, "'%s': %s", path, sm_strerror(-r));
	if (!sm_hashmap_get(hc->map, key.buf, key.len, (void **)&e))
		e = NULL;
	else
		e->seen = true;
	if (top && S_ISLNK(top->st_mode))
		top = NULL; /* the record is of what the link leads to */
	if (e && e->trusted && fp_matches(hc, path, top, e)) {
		memcpy(hex, e->hash, SM_SHA256_HEX_LEN + 1);
		r = 0;
		goto out;
	}
	/* the records taken before the read: a change during it shows next time */
	taken = sm_hashcache_clock();
	rr = records(path, as_deployed, &fp);
	r = as_deployed ? sm_deploy_source_hash(path, hex, err) : sm_content_hash(path, hex, err);
	if (r == 0 && rr == 0)
		(void)note(hc, &key, hex, &fp, taken);
out:
	sm_strbuf_release(&key);
	sm_strbuf_release(&fp);
	return r;
}

int sm_hashcache_known(struct sm_hashcache *hc, const char *path, bool as_deployed,
		       char hex[SM_SHA256_HEX_LEN + 1], const void **records, size_t *len)
{
	struct strbuf key = STRBUF_INIT;
	struct hc_entry *e;
	bool hit;

	if (!hc || key_of(&key, path, as_deployed) < 0) {
		sm_strbuf_release(&key);
		return -ENOENT;
	}
	hit = sm_hashmap_get(hc->map, key.buf, key.len, (void **)&e);
	if (hit)
		e->seen = true;
	hit = hit && e->trusted && e->len;
	sm_strbuf_release(&key);
	if (!hit)
		return -ENOENT;
	memcpy(hex, e->hash, SM_SHA256_HEX_LEN + 1);
	*records = e->fp;
	*len = e->len;
	return 0;
}

int sm_hashcache_note_fp(struct sm_hashcache *hc, const char *path, bool as_deployed,
			 const char hex[SM_SHA256_HEX_LEN + 1], const struct strbuf *fp,
			 int64_t taken)
{
	struct strbuf key = STRBUF_INIT;
	int r;

	if (!hc)
		return 0;
	r = key_of(&key, path, as_deployed);
	r = r ?: note(hc, &key, hex, fp, taken);
	sm_strbuf_release(&key);
	return r;
}

int sm_hashcache_note(struct sm_hashcache *hc, const char *path, bool as_deployed,
		      const char hex[SM_SHA256_HEX_LEN + 1])
{
	struct strbuf fp = STRBUF_INIT;
	int64_t taken = sm_hashcache_clock();
	int r;

	if (!hc)
		return 0;
	r = records(path, as_deployed, &fp);
	if (r == 0)
		r = sm_hashcache_note_fp(hc, path, as_deployed, hex, &fp, taken);
	sm_strbuf_release(&fp);
	return r < 0 ? r : 0;
}
