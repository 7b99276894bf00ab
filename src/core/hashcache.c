/* SPDX-License-Identifier: MIT */
/*
 * A cache of content hashes keyed by path and a stat fingerprint (every
 * file's relative path, size, mtime and inode), so status and an unchanged
 * re-deploy hash only what changed. Kept in <home>/cache/deploy-hashes.tsv
 * (ours, deletable at any time); a malformed line is ignored.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/sha256.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define CACHE_MAX ((size_t)64 << 20)

struct hc_entry {
	char fp[SM_SHA256_HEX_LEN + 1];
	char hash[SM_SHA256_HEX_LEN + 1];
};

struct sm_hashcache {
	char *path;
	struct sm_hashmap *map;
	bool dirty;
};

static bool hex64(const char *s, size_t n)
{
	if (n != SM_SHA256_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int put(struct sm_hashcache *hc, const char *key, size_t klen, const char *fp,
	       const char *hash)
{
	struct hc_entry *e = sm_malloc(sizeof(*e)), *old = NULL;
	int r;

	if (!e)
		return -ENOMEM;
	memcpy(e->fp, fp, sizeof(e->fp));
	memcpy(e->hash, hash, sizeof(e->hash));
	r = sm_hashmap_put(hc->map, key, klen, e, (void **)&old);
	if (r < 0)
		sm_free(e);
	sm_free(old);
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
		sm_free(v);
	sm_hashmap_free(hc->map);
	sm_free(hc->path);
	sm_free(hc);
}

int sm_hashcache_open(const struct sm_home *home, struct sm_hashcache **ret, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct sm_hashcache *hc = sm_calloc(1, sizeof(*hc));
	int r;

	if (!hc || sm_hashmap_new(&hc->map) < 0) {
		sm_hashcache_free(hc);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	if (sm_strbuf_addf(&buf, "%s/cache/deploy-hashes.tsv", home->root) < 0 ||
	    !(hc->path = sm_strbuf_detach(&buf, NULL))) {
		sm_hashcache_free(hc);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	r = sm_fs_read_file(hc->path, CACHE_MAX, &buf, NULL);
	/* "<hash>\t<fp>\t<key>\n"; anything else is skipped */
	for (char *s = r == 0 ? buf.buf : NULL, *nl; s && *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			break;
		if (nl - s > 2 * SM_SHA256_HEX_LEN + 2 && s[64] == '\t' && s[129] == '\t' &&
		    hex64(s, 64) && hex64(s + 65, 64)) {
			char h[65], fp[65];

			memcpy(h, s, 64);
			h[64] = '\0';
			memcpy(fp, s + 65, 64);
			fp[64] = '\0';
			if (put(hc, s + 130, (size_t)(nl - s - 130), fp, h) < 0)
				break;
		}
	}
	sm_strbuf_release(&buf);
	*ret = hc;
	return 0;
}

int sm_hashcache_save(struct sm_hashcache *hc, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, dir = STRBUF_INIT;
	size_t pos = 0, kl;
	const void *k;
	void *v;
	int r = 0;

	if (!hc || !hc->dirty)
		return 0;
	while (r == 0 && sm_hashmap_next(hc->map, &pos, &k, &kl, &v)) {
		const struct hc_entry *e = v;

		if (memchr(k, '\n', kl))
			continue;
		r = sm_strbuf_addf(&out, "%s\t%s\t%.*s\n", e->hash, e->fp, (int)kl, (const char *)k);
	}
	if (r == 0) {
		const char *slash = strrchr(hc->path, '/');

		r = sm_strbuf_add(&dir, hc->path, (size_t)(slash - hc->path));
		r = r ?: sm_fs_mkdir_p(dir.buf, 0755, err);
		r = r ?: sm_fs_write_atomic_nosync(hc->path, out.buf, out.len, 0644, err);
	} else {
		r = sm_err(err, r, "out of memory");
	}
	if (r == 0)
		hc->dirty = false;
	sm_strbuf_release(&out);
	sm_strbuf_release(&dir);
	return r;
}

/* The stat fingerprint of a file or a folder's files. -ENOENT when missing. */
static int fingerprint(const char *path, char fp[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	struct sm_fs_list l = { 0 };
	struct strbuf s = STRBUF_INIT;
	struct stat st;
	int r;

	if (lstat(path, &st) < 0)
		return sm_err(err, -errno, "cannot stat '%s': %s", path, sm_strerror(errno));
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		if (stat(path, &st) < 0)
			return sm_err(err, -errno, "cannot stat '%s': %s", path, sm_strerror(errno));
		r = sm_strbuf_addf(&s, "f %" PRIu64 " %" PRId64 " %" PRIu64 " %ld", (uint64_t)st.st_size,
				   (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
				   (uint64_t)st.st_ino, (long)st.st_ctim.tv_sec);
	} else {
		r = sm_fs_walk(path, &l, err);
		if (r < 0)
			return r;
		/* binary: each path with its NUL, then size, mtime and inode (no formatting) */
		r = sm_strbuf_addstr(&s, "D");
		for (size_t i = 0; r == 0 && i < l.len; i++) {
			const uint64_t n[3] = { l.items[i].size, (uint64_t)l.items[i].mtime_ns,
						l.items[i].ino };

			r = sm_strbuf_add(&s, l.items[i].rel, strlen(l.items[i].rel) + 1);
			r = r ?: sm_strbuf_add(&s, n, sizeof(n));
		}
	}
	if (r == 0)
		r = sm_sha256_hex(s.buf, s.len, fp);
	else
		r = sm_err(err, r, "out of memory");
	sm_fs_list_release(&l);
	sm_strbuf_release(&s);
	return r;
}

int sm_hashcache_hash(struct sm_hashcache *hc, const char *path, bool as_deployed,
		      char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT;
	char fp[SM_SHA256_HEX_LEN + 1];
	struct hc_entry *e;
	int r;

	if (!hc)
		return as_deployed ? sm_deploy_source_hash(path, hex, err)
				   : sm_content_hash(path, hex, err);
	r = fingerprint(path, fp, err);
	if (r < 0)
		return r;
	if ((r = sm_strbuf_addf(&key, "%c:%s", as_deployed ? 'S' : 'C', path)) < 0)
		return sm_err(err, r, "'%s': %s", path, sm_strerror(r));
	if (sm_hashmap_get(hc->map, key.buf, key.len, (void **)&e) && !strcmp(e->fp, fp)) {
		memcpy(hex, e->hash, SM_SHA256_HEX_LEN + 1);
		goto out;
	}
	r = as_deployed ? sm_deploy_source_hash(path, hex, err) : sm_content_hash(path, hex, err);
	/* a fingerprint taken before the read: a change during it shows next time */
	if (r == 0 && put(hc, key.buf, key.len, fp, hex) == 0)
		hc->dirty = true;
out:
	sm_strbuf_release(&key);
	return r;
}

int sm_hashcache_note(struct sm_hashcache *hc, const char *path, bool as_deployed,
		      const char hex[SM_SHA256_HEX_LEN + 1])
{
	struct strbuf key = STRBUF_INIT;
	char fp[SM_SHA256_HEX_LEN + 1];
	int r;

	if (!hc)
		return 0;
	r = fingerprint(path, fp, NULL);
	if (r == 0)
		r = sm_strbuf_addf(&key, "%c:%s", as_deployed ? 'S' : 'C', path);
	if (r == 0 && (r = put(hc, key.buf, key.len, fp, hex)) == 0)
		hc->dirty = true;
	sm_strbuf_release(&key);
	return r;
}
