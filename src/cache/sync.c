/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/db.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/sha256.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/test_hooks.h"
#include "skillmeat/timeutil.h"
#include "cache/cache_internal.h"
#include "cache/store_internal.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

/* The fingerprint of a row whose files could not be read at its last sync. */
#define FP_MISSING "missing"

/* ---- open / close ---- */

int sm_cache_db_path(const struct sm_home *home, struct strbuf *out)
{
	return sm_strbuf_addf(out, "%s/cache/metadata.db", home->root);
}

void sm_cache_close_db(struct sm_cache *c)
{
	sm_store_free(c->store);
	c->store = NULL;
	sm_db_close(c->db);
	c->db = NULL;
}

static int heal_hook(void *ctx, struct strbuf *err)
{
	return sm_cache_heal(ctx, err);
}

int sm_cache_open_memory(struct sm_cache *c, struct strbuf *err)
{
	int r = sm_db_open(":memory:", 0, &c->db, err);

	if (r == 0)
		r = sm_store_sqlite_new(c->db, &c->store, err);
	if (r == 0)
		c->in_memory = true;
	return r;
}

int sm_cache_open(struct sm_home *home, struct sm_cache **ret, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, dir = STRBUF_INIT;
	struct sm_cache *c;
	int r;

	c = sm_calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->home = home;
	c->stale_ttl_ms = sm_config_int(home, "cache.stale-ttl-seconds", 1800) * 1000;
	if ((r = sm_strbuf_addf(&dir, "%s/cache", home->root)) < 0 ||
	    (r = sm_cache_db_path(home, &path)) < 0)
		goto fail;
	r = sm_fs_mkdir_p(dir.buf, 0755, NULL);
	/*
	 * Corrupt, not a database, or from a newer binary: the DB is only an
	 * index, it is emptied in place (warned once) and the next sync fills it.
	 */
	if (r == 0)
		r = sm_db_open(path.buf, SM_DB_RESET_UNUSABLE, &c->db, err);
	if (r > 0)
		r = 0;
	if (r == 0) {
		r = sm_store_sqlite_new(c->db, &c->store, err);
		if (r == 0)
			sm_store_set_heal(c->store, heal_hook, c);
	}
	if (r == -EACCES || r == -EROFS || r == -EPERM || r == -ENOSPC) {
		/*
		 * A home we cannot write to, or a full disk: served from memory
		 * (ARCHITECTURE §2.7); the caller warns.
		 */
		sm_cache_close_db(c);
		if (r == -ENOSPC)
			c->no_space = true;
		if (err)
			sm_strbuf_reset(err);
		r = sm_cache_open_memory(c, err);
	}
	if (r < 0)
		goto fail;
	sm_strbuf_release(&path);
	sm_strbuf_release(&dir);
	*ret = c;
	return 0;
fail:
	sm_strbuf_release(&path);
	sm_strbuf_release(&dir);
	sm_cache_close(c);
	return r;
}

int sm_cache_open_store(struct sm_home *home, struct sm_store *store, struct sm_cache **ret)
{
	struct sm_cache *c = sm_calloc(1, sizeof(*c));

	if (!c) {
		sm_store_free(store);
		return -ENOMEM;
	}
	c->home = home;
	c->store = store;
	c->stale_ttl_ms = sm_config_int(home, "cache.stale-ttl-seconds", 1800) * 1000;
	*ret = c;
	return 0;
}

void sm_cache_close(struct sm_cache *c)
{
	if (!c)
		return;
	sm_cache_close_db(c);
	sm_free(c);
}

void sm_sync_stats_release(struct sm_sync_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmessages; i++)
		sm_free(s->messages[i]);
	sm_free(s->messages);
	memset(s, 0, sizeof(*s));
}

static void add_message(struct sm_sync_stats *s, const char *coll, const char *type,
			const char *name, const char *why)
{
	struct strbuf sb = STRBUF_INIT;
	char **nv;

	s->errors++;
	if (sm_strbuf_addf(&sb, "%s/%s:%s: %s", coll, type ? type : "?", name ? name : "?",
			   why && *why ? why : "error") < 0)
		goto out;
	nv = sm_reallocarray(s->messages, s->nmessages + 1, sizeof(*nv));
	if (!nv)
		goto out;
	s->messages = nv;
	s->messages[s->nmessages] = sm_strbuf_detach(&sb, NULL);
	if (s->messages[s->nmessages])
		s->nmessages++;
out:
	sm_strbuf_release(&sb);
}

int sm_cache_derive_uuid(const char *collection, const char *type, const char *name, char out[33])
{
	struct strbuf sb = STRBUF_INIT;
	char hex[SM_SHA256_HEX_LEN + 1];
	int r;

	if ((r = sm_strbuf_add(&sb, collection, strlen(collection) + 1)) < 0 ||
	    (r = sm_strbuf_add(&sb, type, strlen(type) + 1)) < 0 ||
	    (r = sm_strbuf_addstr(&sb, name)) < 0 ||
	    (r = sm_sha256_hex(sb.buf, sb.len, hex)) < 0)
		goto out;
	memcpy(out, hex, 32);
	out[32] = '\0';
out:
	sm_strbuf_release(&sb);
	return r;
}

/* ---- one artifact ---- */

static char *dup_or_null(const char *s)
{
	return s ? sm_strdup(s) : NULL;
}

/* A JSON array of the strings of a TOML array (NULL → "[]"). */
static char *json_strings(const struct sm_toml_value *arr)
{
	json_t *j = json_array();
	char *out = NULL, *s;

	if (!j)
		return NULL;
	for (size_t i = 0; arr && arr->type == SM_TOML_ARRAY && i < sm_toml_len(arr); i++)
		if (sm_toml_at(arr, i)->type == SM_TOML_STRING)
			json_array_append_new(j, json_stringn(sm_toml_str(sm_toml_at(arr, i)),
							      sm_toml_strlen(sm_toml_at(arr, i))));
	s = json_dumps(j, JSON_COMPACT);
	if (s) {
		out = sm_strdup(s);
		free(s);
	}
	json_decref(j);
	return out;
}

/*
 * row->updated: the newest mtime of its files (ns since the epoch), ISO as
 * added; "" when it has no file. NULL only in a row read before migration 9,
 * which a sync reads again.
 */
static int set_updated(struct sm_artifact_row *row, int64_t newest_ns)
{
	char iso[SM_ISO_MAX] = "";

	if (newest_ns > 0 &&
	    sm_time_iso((time_t)(newest_ns / 1000000000LL), (long)(newest_ns % 1000000000LL / 1000),
			1, iso) < 0)
		iso[0] = '\0';
	return (row->updated = sm_strdup(iso)) ? 0 : -ENOMEM;
}

/*
 * The fingerprint "<files>:<manifest>[\n<walk>]": 32 hex over every file's
 * relative path, size, mtime, ctime and inode (fingerprint.c), then 16 hex
 * over the manifest's tags (shown tags combine them with the frontmatter's)
 * and the lock hash, then a folder's walk record when it has one. A warm
 * sync whose manifest is unchanged compares the files part alone, taken from
 * the walk record when its folders are as recorded.
 */
static int fingerprint(const char *abs, const struct sm_toml_value *entry, const char *lockhash,
		       struct strbuf *out, int64_t *nfiles, int64_t *total, int64_t *newest_ns,
		       struct strbuf *err)
{
	const struct sm_toml_value *tags = sm_toml_get(entry, "tags");
	struct sm_sha256 *h = NULL;
	struct strbuf walk = STRBUF_INIT;
	char hex[SM_SHA256_HEX_LEN + 1];
	int r;

	r = sm_fingerprint_files(AT_FDCWD, abs, out, nfiles, total, newest_ns, &walk, err);
	if (r < 0)
		goto out;
	r = sm_sha256_new(&h);
	if (r < 0)
		goto out;
	for (size_t i = 0; tags && tags->type == SM_TOML_ARRAY && i < sm_toml_len(tags); i++)
		if (sm_toml_at(tags, i)->type == SM_TOML_STRING &&
		    (r = sm_sha256_update(h, sm_toml_str(sm_toml_at(tags, i)),
					  sm_toml_strlen(sm_toml_at(tags, i)) + 1)) < 0)
			goto out;
	if (lockhash && (r = sm_sha256_update(h, lockhash, strlen(lockhash))) < 0)
		goto out;
	if ((r = sm_sha256_final_hex(h, hex)) < 0 || (r = sm_strbuf_addch(out, ':')) < 0)
		goto out;
	r = sm_strbuf_add(out, hex, 16);
	if (r == 0 && walk.len && (r = sm_strbuf_addch(out, '\n')) == 0)
		r = sm_strbuf_add(out, walk.buf, walk.len);
out:
	sm_sha256_free(h);
	sm_strbuf_release(&walk);
	return r;
}

/* fingerprints a and b agree on the files and the manifest (their walk records aside) */
static bool same_fp(const char *a, const char *b)
{
	size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");

	return la == lb && !memcmp(a, b, la);
}

/* stat fingerprint of the manifest and the lock: "<ino>.<size>.<mtime_ns>;..." */
static int manifest_fingerprint(const char *dir, struct strbuf *out)
{
	static const char *const files[] = { "collection.toml", "collection.lock" };
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	int r = 0;

	sm_strbuf_reset(out);
	for (size_t i = 0; r == 0 && i < SM_ARRAY_SIZE(files); i++) {
		sm_strbuf_reset(&p);
		if ((r = sm_strbuf_addf(&p, "%s/%s", dir, files[i])) < 0)
			break;
		if (stat(p.buf, &st) < 0)
			r = sm_strbuf_addstr(out, "-;");
		else
			r = sm_strbuf_addf(out, "%llu.%lld.%lld.%09ld;", (unsigned long long)st.st_ino,
					   (long long)st.st_size, (long long)st.st_mtim.tv_sec,
					   st.st_mtim.tv_nsec);
	}
	sm_strbuf_release(&p);
	return r;
}

int sm_cache_manifest_fp(const char *dir, char **ret)
{
	struct strbuf fp = STRBUF_INIT;
	int r = manifest_fingerprint(dir, &fp);

	if (r == 0 && !(*ret = sm_strbuf_detach(&fp, NULL)))
		r = -ENOMEM;
	sm_strbuf_release(&fp);
	return r;
}

int sm_cache_note_manifest_write(struct sm_cache *cache, const char *collection, const char *dir,
				 const char *before, struct strbuf *err)
{
	struct strbuf now = STRBUF_INIT;
	char *stored = NULL;
	int r;

	if (!before)
		return 0;
	r = sm_store_get_sync_state(cache->store, collection, &stored, err);
	if (r < 0 || !stored || strcmp(stored, before))
		goto out; /* the index was behind already: the next sync reads it all */
	r = manifest_fingerprint(dir, &now);
	if (r == 0 && strcmp(now.buf, before))
		r = sm_store_set_sync_state(cache->store, collection, now.buf, err);
out:
	sm_free(stored);
	sm_strbuf_release(&now);
	return r < 0 ? r : 0;
}

bool sm_cache_row_current(const char *dir, const struct sm_artifact_row *row)
{
	struct strbuf abs = STRBUF_INIT, fp = STRBUF_INIT;
	const char *colon = row->fingerprint ? strchr(row->fingerprint, ':') : NULL;
	int64_t nf, tot;
	bool same = false;

	if (!row->path || !colon)
		goto out;
	if (row->path[0] == '/' ? sm_strbuf_addstr(&abs, row->path) < 0
				: sm_strbuf_addf(&abs, "%s/%s", dir, row->path) < 0)
		goto out;
	same = sm_fingerprint_files(AT_FDCWD, abs.buf, &fp, &nf, &tot, NULL, NULL, NULL) == 0 &&
	       fp.len == (size_t)(colon - row->fingerprint) &&
	       !memcmp(fp.buf, row->fingerprint, fp.len);
out:
	sm_strbuf_release(&abs);
	sm_strbuf_release(&fp);
	return same;
}

struct walk_rec {
	const struct sm_artifact_row *row;
	char *fp; /* its fingerprint with the walk record */
};

/*
 * The walk records a warm sync found missing and could take (folders synced
 * while racy, settled since), written at once so that later syncs stat the
 * recorded files instead of reading the folders. Best effort: a read never
 * fails for it (a read-only cache, a busy writer), the next one tries again.
 */
static void write_walk_records(struct sm_cache *cache, const char *coll,
			       const struct walk_rec *recs, size_t n)
{
	int tx = sm_store_begin(cache->store, NULL), r = 0;

	if (tx < 0 && tx != -EINVAL) /* -EINVAL: the caller's transaction is open */
		return;
	for (size_t i = 0; i < n && r >= 0; i++)
		r = sm_store_set_walk_record(cache->store, coll, recs[i].row->type,
					     recs[i].row->name, recs[i].row->fingerprint, recs[i].fp,
					     NULL);
	if (tx == 0 && (r < 0 || sm_store_commit(cache->store, NULL) < 0))
		sm_store_rollback(cache->store, NULL);
}

/*
 * Warm fast path: the manifest and lock are as they were at the last full
 * sync, so only the files can have changed. Returns 1 when every row's files
 * are unchanged (nothing to do), 0 when the full path is needed.
 */
static int files_unchanged(struct sm_cache *cache, const char *dir,
			   const struct sm_artifact_row *old, size_t nold, unsigned flags,
			   int64_t now_ms, const char *coll, struct sm_sync_stats *stats)
{
	struct strbuf abs = STRBUF_INIT, fp = STRBUF_INIT, why = STRBUF_INIT, rec = STRBUF_INIT;
	size_t nmissing = 0, nrecs = 0, arecs = 0;
	struct walk_rec *recs = NULL;
	/* paths relative to the collection folder: the kernel walks it once */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 1;

	for (size_t i = 0; i < nold && r == 1; i++) {
		const struct sm_artifact_row *o = &old[i];
		bool missing = o->fingerprint && !strcmp(o->fingerprint, FP_MISSING);
		int64_t nf, tot;
		const char *colon = NULL, *walk;
		int at;

		if (!o->path || !o->fingerprint ||
		    (!missing && !(colon = strchr(o->fingerprint, ':'))) ||
		    ((flags & SM_SYNC_REFRESH_STALE) &&
		     (o->stale || o->synced_at <= now_ms - cache->stale_ttl_ms))) {
			r = 0;
			break;
		}
		sm_strbuf_reset(&abs);
		if (o->path[0] == '/' || dfd < 0) {
			if (o->path[0] == '/' ? sm_strbuf_addstr(&abs, o->path) < 0
					      : sm_strbuf_addf(&abs, "%s/%s", dir, o->path) < 0) {
				r = 0;
				break;
			}
		} else if (sm_strbuf_addstr(&abs, o->path) < 0) {
			r = 0;
			break;
		}
		at = abs.buf[0] == '/' ? AT_FDCWD : dfd;
		walk = missing ? NULL : strchr(colon, '\n');
		if (missing) {
			/* still gone: unchanged (reported below); back: the full path */
			if (sm_fingerprint_files(at, abs.buf, &fp, &nf, &tot, NULL, NULL, NULL) == 0)
				r = 0;
			nmissing++;
		} else if ((!walk || sm_fingerprint_from_walk(at, abs.buf, walk + 1, &fp) != 1) &&
			   sm_fingerprint_files(at, abs.buf, &fp, &nf, &tot, NULL, walk ? NULL : &rec,
						NULL) < 0) {
			r = 0;
		} else if (fp.len != (size_t)(colon - o->fingerprint) ||
			   memcmp(fp.buf, o->fingerprint, fp.len)) {
			r = 0;
		} else if (!walk && rec.len) {
			/* a folder synced while racy has settled: its walk record, once */
			sm_strbuf_reset(&abs);
			if (SM_GROW(recs, arecs, nrecs + 1) == 0 &&
			    sm_strbuf_addf(&abs, "%s\n%s", o->fingerprint, rec.buf) == 0 &&
			    (recs[nrecs].fp = sm_strbuf_detach(&abs, NULL)) != NULL)
				recs[nrecs++].row = o;
		}
	}
	if (r == 1 && nrecs)
		write_walk_records(cache, coll, recs, nrecs);
	for (size_t i = 0; i < nrecs; i++)
		sm_free(recs[i].fp);
	sm_free(recs);
	/* the same warning a full sync gives for each artifact whose files are gone */
	for (size_t i = 0; r == 1 && nmissing && i < nold; i++) {
		const struct sm_artifact_row *o = &old[i];
		int64_t nf, tot;

		if (strcmp(o->fingerprint, FP_MISSING))
			continue;
		sm_strbuf_reset(&abs);
		sm_strbuf_reset(&why);
		if ((o->path[0] == '/' ? sm_strbuf_addstr(&abs, o->path)
				       : sm_strbuf_addf(&abs, "%s/%s", dir, o->path)) < 0)
			break;
		if (sm_fingerprint_files(AT_FDCWD, abs.buf, &fp, &nf, &tot, NULL, NULL, &why) < 0)
			add_message(stats, coll, o->type, o->name, why.buf);
	}
	if (dfd >= 0)
		close(dfd);
	sm_strbuf_release(&abs);
	sm_strbuf_release(&fp);
	sm_strbuf_release(&why);
	sm_strbuf_release(&rec);
	return r;
}

/* ---- searchable text ---- */

#define TEXT_CAP ((size_t)256 << 10) /* bytes of text indexed per artifact */

/* length of the longest valid UTF-8 prefix of [p, p+n) without NUL; n when all valid */
static size_t text_prefix(const unsigned char *p, size_t n, bool *binary)
{
	size_t i = 0;

	*binary = false;
	while (i < n) {
		unsigned char c = p[i];
		size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
				       : (c & 0xf8) == 0xf0 ? 4 : 0;

		if (!c || !k) {
			*binary = true;
			return i;
		}
		if (i + k > n)
			return i; /* cut at the cap */
		for (size_t j = 1; j < k; j++)
			if ((p[i + j] & 0xc0) != 0x80) {
				*binary = true;
				return i;
			}
		i += k;
	}
	return i;
}

/* append the text of one regular file (not a symlink) within the cap */
static int add_text_file(const char *path, struct strbuf *out)
{
	struct strbuf buf = STRBUF_INIT;
	struct stat st;
	size_t room, n;
	bool binary;
	int fd, r = 0;
	ssize_t got;

	if (out->len >= TEXT_CAP || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	room = TEXT_CAP - out->len;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if ((r = sm_strbuf_grow(&buf, room)) < 0) {
		close(fd);
		return r;
	}
	while (buf.len < room && (got = read(fd, buf.buf + buf.len, room - buf.len)) > 0)
		buf.len += (size_t)got;
	close(fd);
	n = text_prefix((const unsigned char *)buf.buf, buf.len, &binary);
	if (!binary && n) {
		r = sm_strbuf_add(out, buf.buf, n);
		if (r == 0 && out->len < TEXT_CAP)
			r = sm_strbuf_addch(out, '\n');
	}
	sm_strbuf_release(&buf);
	return r;
}

/*
 * The searchable text of an artifact: its text files (valid UTF-8, no NUL;
 * top-level files first, then the rest in path order), TEXT_CAP in all.
 */
static int artifact_text(const char *abs, char **ret)
{
	struct strbuf out = STRBUF_INIT, p = STRBUF_INIT;
	struct sm_fs_list list = {0};
	int r = 0;

	if (!sm_fs_is_dir(abs)) {
		r = add_text_file(abs, &out);
	} else if (sm_fs_walk(abs, &list, NULL) == 0) {
		for (int pass = 0; pass < 2 && r == 0; pass++) {
			for (size_t i = 0; i < list.len && r == 0 && out.len < TEXT_CAP; i++) {
				bool top = !strchr(list.items[i].rel, '/');

				if (top != (pass == 0))
					continue;
				sm_strbuf_reset(&p);
				r = sm_strbuf_addf(&p, "%s/%s", abs, list.items[i].rel);
				if (r == 0)
					r = add_text_file(p.buf, &out);
			}
		}
	}
	sm_fs_list_release(&list);
	sm_strbuf_release(&p);
	if (r < 0) {
		sm_strbuf_release(&out);
		return r;
	}
	*ret = sm_strbuf_detach(&out, NULL);
	return *ret ? 0 : -ENOMEM;
}

/* Manifest facts of entry idx into row (identity and provenance). */
static int row_from_entry(const struct sm_collection *c, const struct sm_toml_value *e,
			  struct sm_artifact_row *row)
{
	const char *type = sm_entry_str(e, "type"), *name = sm_entry_name(e);
	const char *uuid = sm_entry_str(e, "uuid"), *up = sm_entry_str(e, "upstream");
	struct strbuf id = STRBUF_INIT;
	char derived[33];
	int r;

	/* a manifest uuid is used only when it has our shape (32 hex) */
	if (!uuid || strlen(uuid) != 32 || strspn(uuid, "0123456789abcdef") != 32) {
		r = sm_cache_derive_uuid(c->name, type, name, derived);
		if (r < 0)
			return r;
		uuid = derived;
	}
	if ((r = sm_strbuf_addf(&id, "%s:%s", type, name)) < 0)
		return r;
	row->uuid = sm_strdup(uuid);
	row->collection = sm_strdup(c->name);
	row->type = sm_strdup(type);
	row->name = sm_strdup(name);
	row->path = dup_or_null(sm_entry_str(e, "path"));
	row->origin = dup_or_null(sm_entry_str(e, "origin"));
	row->origin_source = dup_or_null(sm_entry_str(e, "origin_source"));
	row->upstream = dup_or_null(up);
	row->version_spec = dup_or_null(sm_entry_str(e, "version_spec"));
	row->resolved_sha = dup_or_null(sm_entry_str(e, "resolved_sha"));
	row->resolved_version = dup_or_null(sm_entry_str(e, "resolved_version"));
	row->added = dup_or_null(sm_entry_str(e, "added"));
	row->lock_hash = dup_or_null(sm_lock_hash(c->lock, name, sm_entry_type(e)));
	row->source = sm_strdup(up ? up : id.buf);
	sm_strbuf_release(&id);
	if (!row->uuid || !row->collection || !row->type || !row->name || !row->source)
		return -ENOMEM;
	return 0;
}

/* Metadata facts from the files (a fresh read). */
static int row_from_view(const struct sm_view *v, struct sm_artifact_row *row)
{
	const struct sm_toml_value *t = v->meta.table;

	row->title = dup_or_null(sm_toml_get_string(t, "title"));
	row->description = dup_or_null(sm_toml_get_string(t, "description"));
	row->author = dup_or_null(sm_toml_get_string(t, "author"));
	row->license = dup_or_null(sm_toml_get_string(t, "license"));
	row->version = dup_or_null(sm_toml_get_string(t, "version"));
	row->tags_json = json_strings(v->tags);
	row->tools_json = json_strings(sm_toml_get(t, "tools"));
	row->content_hash = v->have_hash ? sm_strdup(v->hash) : NULL;
	if (!row->tags_json || !row->tools_json || (v->have_hash && !row->content_hash))
		return -ENOMEM;
	return 0;
}

/* Metadata facts carried over from the stored row (fingerprint unchanged). */
static int row_from_old(const struct sm_artifact_row *old, struct sm_artifact_row *row)
{
	row->title = dup_or_null(old->title);
	row->description = dup_or_null(old->description);
	row->author = dup_or_null(old->author);
	row->license = dup_or_null(old->license);
	row->version = dup_or_null(old->version);
	row->tags_json = dup_or_null(old->tags_json);
	row->tools_json = dup_or_null(old->tools_json);
	row->content_hash = dup_or_null(old->content_hash);
	return 0;
}

static const struct sm_artifact_row *find_old(const struct sm_artifact_row *rows, size_t n,
					      const char *type, const char *name)
{
	size_t lo = 0, hi = n;

	/* list_collection returns (type, name) order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rows[mid].type, type);

		if (!c)
			c = strcmp(rows[mid].name, name);
		if (!c)
			return &rows[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* tolerate a different collation: fall back to a scan */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].type, type) && !strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Do the manifest facts of row equal the stored ones? */
static bool same_entry(const struct sm_artifact_row *o, const struct sm_artifact_row *r)
{
	return same_str(o->uuid, r->uuid) && same_str(o->path, r->path) &&
	       same_str(o->origin, r->origin) && same_str(o->origin_source, r->origin_source) &&
	       same_str(o->upstream, r->upstream) && same_str(o->version_spec, r->version_spec) &&
	       same_str(o->resolved_sha, r->resolved_sha) &&
	       same_str(o->resolved_version, r->resolved_version) && same_str(o->added, r->added) &&
	       same_str(o->lock_hash, r->lock_hash) && same_str(o->source, r->source) &&
	       same_str(o->fingerprint, r->fingerprint) && o->file_count == r->file_count &&
	       o->total_size == r->total_size;
}

static long fault_budget = -2; /* -2: not read yet, -1: off */

/* Tests only (a test hook); atomic, since a server may sync on several threads. */
static void fault_tick(void)
{
	long b = __atomic_load_n(&fault_budget, __ATOMIC_RELAXED);

	if (b == -2) {
		b = sm_test_hook("SKILLMEAT_FAULT_SYNC_KILL_AFTER", -1);
		__atomic_store_n(&fault_budget, b, __ATOMIC_RELAXED);
	}
	if (b < 0)
		return;
	if (__atomic_fetch_sub(&fault_budget, 1, __ATOMIC_RELAXED) == 0)
		raise(SIGKILL);
}

/* The read phase of a collection sync, shared by its worker threads. */
struct prep {
	struct sm_cache *cache;
	const struct sm_collection *c;
	const struct sm_artifact_row *old;
	size_t nold;
	struct sm_artifact_row *rows;
	const char **keep;
	bool *skip;
	unsigned flags;
	int64_t now_ms;
	size_t n;
	const char *name;
	struct sm_sync_stats *stats;
	pthread_mutex_t lock; /* stats, progress, the first error */
	size_t next;	      /* next index to take (atomic) */
	bool *ready;	      /* rows[i] prepared (atomic, release/acquire) */
	size_t done;
	int error;
	struct strbuf errmsg;
};

static void prep_message(struct prep *p, const struct sm_artifact_row *row, const char *why)
{
	pthread_mutex_lock(&p->lock);
	add_message(p->stats, p->name, row->type, row->name, why);
	pthread_mutex_unlock(&p->lock);
}

/* Compute rows[i]: manifest facts, fingerprint, and the files' facts when they changed. */
static int prepare_one(struct prep *p, size_t i, struct strbuf *abs, struct strbuf *fp,
		       struct strbuf *why)
{
	const struct sm_toml_value *e = sm_manifest_at(p->c->manifest, i);
	const struct sm_artifact_row *o;
	struct sm_artifact_row *row = &p->rows[i];
	int64_t nfiles = 0, total = 0, newest = 0;
	bool reread;
	int r;

	r = row_from_entry(p->c, e, row);
	if (r < 0)
		return r;
	p->keep[i] = row->uuid;
	o = find_old(p->old, p->nold, row->type, row->name);
	/* a path leading outside the collection is not read: reported like missing files */
	r = sm_collection_entry_path(p->c, e, abs, why);
	row->synced_at = p->now_ms;
	if (r == 0)
		r = fingerprint(abs->buf, e, row->lock_hash, fp, &nfiles, &total, &newest, why);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* files gone or unreadable: keep the row, report, go on */
		prep_message(p, row, why->buf);
		row->fingerprint = sm_strdup(FP_MISSING);
		if (!row->fingerprint)
			return -ENOMEM;
		if (o && !(p->flags & SM_SYNC_FORCE) && !o->stale && same_entry(o, row) &&
		    p->now_ms - o->synced_at < p->cache->stale_ttl_ms / 2) {
			/* gone at the last sync too: nothing to write */
			p->skip[i] = true;
			pthread_mutex_lock(&p->lock);
			p->stats->unchanged++;
			pthread_mutex_unlock(&p->lock);
		}
		return 0;
	}
	row->fingerprint = sm_strbuf_detach(fp, NULL);
	row->file_count = nfiles;
	row->total_size = total;
	if (!row->fingerprint)
		return -ENOMEM;
	if ((r = set_updated(row, newest)) < 0)
		return r;
	reread = !o || (p->flags & SM_SYNC_FORCE) || !o->fingerprint || !o->updated ||
		 !same_fp(o->fingerprint, row->fingerprint) ||
		 ((p->flags & SM_SYNC_REFRESH_STALE) &&
		  (o->stale || o->synced_at <= p->now_ms - p->cache->stale_ttl_ms));
	/* a new walk record alone (a folder's times, a racy folder settled) is written */
	if (!reread && !o->stale && same_entry(o, row) && !strcmp(o->fingerprint, row->fingerprint) &&
	    p->now_ms - o->synced_at < p->cache->stale_ttl_ms / 2) {
		/* nothing to write: verified recently and nothing changed */
		p->skip[i] = true;
		pthread_mutex_lock(&p->lock);
		p->stats->unchanged++;
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	if (!reread)
		return row_from_old(o, row);
	{
		struct sm_view v;

		r = sm_view_load(p->c, i, &v, why);
		if (r < 0)
			return r;
		if (v.error)
			prep_message(p, row, v.error);
		else if (v.meta.warning && !(p->flags & SM_SYNC_QUIET))
			sm_log_warn("%s", v.meta.warning);
		r = row_from_view(&v, row);
		sm_view_release(&v);
	}
	if (r == 0)
		r = artifact_text(abs->buf, &row->body);
	return r;
}

/* Prepare the next untaken row; false when none is left (or an error stopped us). */
static bool prep_take(struct prep *p, struct strbuf *abs, struct strbuf *fp, struct strbuf *why)
{
	size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
	int r;

	if (i >= p->n || __atomic_load_n(&p->error, __ATOMIC_RELAXED))
		return false;
	sm_strbuf_reset(why);
	r = prepare_one(p, i, abs, fp, why);
	pthread_mutex_lock(&p->lock);
	if (r < 0 && !p->error) {
		p->error = r;
		if (sm_strbuf_addstr(&p->errmsg, why->len ? why->buf : sm_strerror(r)) < 0)
			sm_strbuf_reset(&p->errmsg);
	}
	p->done++;
	if (p->cache->progress)
		p->cache->progress(p->cache->progress_ctx, p->name, p->done, p->n);
	pthread_mutex_unlock(&p->lock);
	if (p->ready)
		__atomic_store_n(&p->ready[i], true, __ATOMIC_RELEASE);
	return true;
}

static void *prep_worker(void *arg)
{
	struct prep *p = arg;
	struct strbuf abs = STRBUF_INIT, fp = STRBUF_INIT, why = STRBUF_INIT;

	while (prep_take(p, &abs, &fp, &why))
		;
	sm_strbuf_release(&abs);
	sm_strbuf_release(&fp);
	sm_strbuf_release(&why);
	return NULL;
}

/* Write rows [from, to) that are not skipped, in runs (the fault switch ticks per row). */
/*
 * A manifest uuid another collection's artifact holds already (a copied
 * collection.toml): row takes its derived uuid (1, the reason in why), so
 * neither artifact hides the other. Within one manifest a second holder is
 * held aside at load (sm_manifest_load).
 */
static int uuid_taken(struct sm_cache *cache, struct sm_artifact_row *row, struct strbuf *why,
		      struct strbuf *err)
{
	struct sm_artifact_row other = { 0 };
	char derived[33];
	char *u;
	int r;

	r = sm_cache_derive_uuid(row->collection, row->type, row->name, derived);
	if (r < 0 || !strcmp(derived, row->uuid))
		return r;
	r = sm_store_get_artifact(cache->store, row->uuid, &other, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return sm_err(err, r, "cannot look up uuid %s", row->uuid);
	r = 0;
	if (strcmp(other.collection, row->collection)) {
		if (!(u = sm_strdup(derived)) ||
		    sm_strbuf_addf(why, "uuid %s is %s/%s:%s's already: %s used", row->uuid,
				   other.collection, other.type, other.name, derived) < 0) {
			sm_free(u);
			r = -ENOMEM;
		} else {
			sm_free(row->uuid);
			row->uuid = u;
			r = 1;
		}
	}
	sm_artifact_row_release(&other);
	return r;
}

/* uuid_taken for row i of a collection sync: its keep entry and a message follow. */
static int own_uuid(struct prep *p, size_t i, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int r = uuid_taken(p->cache, &p->rows[i], &why, err);

	if (r > 0) {
		prep_message(p, &p->rows[i], why.buf);
		p->keep[i] = p->rows[i].uuid;
		r = 0;
	}
	sm_strbuf_release(&why);
	return r;
}

static int write_rows(struct prep *p, size_t from, size_t to, struct sm_upsert_stats *us,
		      struct strbuf *err)
{
	size_t i = from;

	for (size_t k = from; k < to; k++)
		if (!p->skip[k]) {
			int r = own_uuid(p, k, err);

			if (r < 0)
				return r;
		}
	while (i < to) {
		size_t j;
		struct sm_upsert_stats part = { 0 };
		int r;

		if (p->skip[i]) {
			i++;
			continue;
		}
		for (j = i; j < to && !p->skip[j]; j++)
			;
		r = sm_store_upsert_artifacts(p->cache->store, p->rows + i, j - i, NULL, &part, err);
		if (r < 0)
			return r;
		us->created += part.created;
		us->updated += part.updated;
		us->unchanged += part.unchanged;
		for (size_t k = i; k < j; k++)
			fault_tick();
		i = j;
	}
	return 0;
}

/*
 * Prepare every row and write it, pipelined: a worker thread reads artifacts
 * while this thread writes the rows that are ready (in order, in chunks) and
 * reads too when nothing is ready. The store is used by this thread only.
 */
static int prepare_and_write(struct prep *p, struct sm_upsert_stats *us, struct strbuf *err)
{
	struct strbuf abs = STRBUF_INIT, fp = STRBUF_INIT, why = STRBUF_INIT;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t w = 0;
	pthread_t t;
	bool threaded;
	int r = 0;

	sm_strbuf_init(&p->errmsg, 4096);
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return -ENOMEM;
	threaded = p->n >= 64 && cores > 1 && pthread_create(&t, NULL, prep_worker, p) == 0;
	while (w < p->n && r == 0) {
		size_t k = w;

		while (k < p->n && __atomic_load_n(&p->ready[k], __ATOMIC_ACQUIRE))
			k++;
		if (__atomic_load_n(&p->error, __ATOMIC_RELAXED))
			break;
		if (k - w >= 64 || (k == p->n && k > w)) {
			r = write_rows(p, w, k, us, err);
			w = k;
			continue;
		}
		if (!prep_take(p, &abs, &fp, &why) && k == w)
			sched_yield(); /* the worker holds the next row: wait for it */
	}
	if (r < 0) {
		/* stop the reader */
		pthread_mutex_lock(&p->lock);
		if (!p->error)
			p->error = r;
		pthread_mutex_unlock(&p->lock);
	}
	if (threaded)
		pthread_join(t, NULL);
	pthread_mutex_destroy(&p->lock);
	if (r == 0 && p->error < 0) {
		r = p->error;
		sm_err(err, r, "%s", p->errmsg.buf);
	}
	sm_strbuf_release(&p->errmsg);
	sm_strbuf_release(&abs);
	sm_strbuf_release(&fp);
	sm_strbuf_release(&why);
	return r;
}

/* Rows from which a first sync indexes text in bulk; SKILLMEAT_SYNC_BULK_MIN for tests. */
static size_t bulk_min(void)
{
	return (size_t)sm_test_hook("SKILLMEAT_SYNC_BULK_MIN", 256);
}

/* ---- one collection ---- */

/*
 * Sync collection `name`, or `open` when the caller has it open. In an outer
 * transaction (rebuild) no transaction of its own is taken.
 */
static int sync_collection(struct sm_cache *cache, const char *name, struct sm_collection *open,
			   unsigned flags, int64_t now_ms, bool outer_tx,
			   struct sm_sync_stats *stats, struct strbuf *err)
{
	struct sm_collection *c = open;
	struct sm_artifact_row *old = NULL, *rows = NULL;
	const char **keep = NULL;
	bool *skip = NULL, *ready = NULL;
	size_t nold = 0, n = 0;
	struct strbuf fp = STRBUF_INIT, why = STRBUF_INIT, abs = STRBUF_INIT, mfp = STRBUF_INIT;
	struct sm_upsert_stats us = { 0 };
	char *stored = NULL;
	bool in_tx = false;
	int r;

	if (!c) {
		/* warm fast path: an unchanged manifest is not even parsed */
		r = sm_home_collection_dir(cache->home, name, &abs);
		if (r == 0)
			r = manifest_fingerprint(abs.buf, &mfp);
		if (r < 0)
			goto out;
		if (!(flags & SM_SYNC_FORCE) &&
		    sm_store_get_sync_state(cache->store, name, &stored, NULL) == 0 && stored &&
		    !strcmp(stored, mfp.buf)) {
			r = sm_store_list_fingerprints(cache->store, name, &old, &nold, err);
			if (r < 0)
				goto out;
			if (files_unchanged(cache, abs.buf, old, nold, flags, now_ms, name, stats) == 1) {
				stats->unchanged += nold;
				stats->collections++;
				r = 0;
				goto out;
			}
			sm_artifact_rows_free(old, nold);
			old = NULL;
			nold = 0;
		}
		r = sm_collection_open(cache->home, name, &c, err);
		if (r < 0)
			goto out;
	} else {
		r = manifest_fingerprint(c->dir, &mfp);
		if (r < 0)
			goto out;
	}
	name = c->name;
	/* after migration 9 every artifact is read once more, for its searchable text */
	if (!stored)
		(void)sm_store_get_sync_state(cache->store, name, &stored, NULL);
	if (stored && !strcmp(stored, "reread-all"))
		flags |= SM_SYNC_FORCE;
	r = sm_store_list_collection(cache->store, name, &old, &nold, err);
	if (r < 0)
		goto out;
	n = sm_manifest_count(c->manifest);
	rows = sm_calloc(n ? n : 1, sizeof(*rows));
	keep = sm_calloc(n ? n : 1, sizeof(*keep));
	skip = sm_calloc(n ? n : 1, sizeof(*skip));
	ready = sm_calloc(n ? n : 1, sizeof(*ready));
	if (!rows || !keep || !skip || !ready) {
		r = -ENOMEM;
		goto out;
	}
	if (!outer_tx) {
		r = sm_store_begin(cache->store, err);
		if (r < 0)
			goto out;
		in_tx = true;
	}
	{
		struct prep pp = {
			.cache = cache, .c = c, .old = old, .nold = nold, .rows = rows,
			.keep = keep, .skip = skip, .flags = flags, .now_ms = now_ms, .n = n,
			.name = name, .stats = stats, .ready = ready,
		};
		/* a first sync (or a rebuild) of many rows: index their text once, at the end */
		bool bulk = nold == 0 && n >= bulk_min();
		int64_t mark = 0;

		if (bulk && (r = sm_store_bulk_begin(cache->store, &mark, err)) < 0)
			goto out;
		r = prepare_and_write(&pp, &us, err);
		if (r == 0 && bulk)
			r = sm_store_bulk_end(cache->store, mark, err);
		if (r < 0)
			goto out;
	}
	r = sm_store_prune_artifacts(cache->store, name, keep, n, err);
	if (r < 0)
		goto out;
	stats->removed += (size_t)r;
	r = sm_store_set_sync_state(cache->store, name, mfp.buf, err);
	if (r < 0)
		goto out;
	if (in_tx) {
		r = sm_store_commit(cache->store, err);
		in_tx = false;
		if (r < 0)
			goto out;
	}
	stats->created += us.created;
	stats->updated += us.updated;
	stats->unchanged += us.unchanged;
	stats->collections++;
out:
	if (in_tx)
		sm_store_rollback(cache->store, NULL);
	sm_artifact_rows_free(rows, n);
	sm_artifact_rows_free(old, nold);
	sm_free(keep);
	sm_free(skip);
	sm_free(ready);
	if (c != open)
		sm_collection_free(c);
	sm_strbuf_release(&fp);
	sm_strbuf_release(&why);
	sm_strbuf_release(&abs);
	sm_strbuf_release(&mfp);
	sm_free(stored);
	return r;
}

/* Remove rows of file collections that no longer exist (names: the ones that do). */
static int prune_collections(struct sm_cache *cache, char **names, size_t n, struct sm_sync_stats *stats,
			     struct strbuf *err)
{
	char **have = NULL;
	size_t nhave = 0;
	int r;

	r = sm_store_list_collection_names(cache->store, &have, &nhave, err);
	for (size_t k = 0; r >= 0 && k < nhave; k++) {
		bool known = false;

		for (size_t i = 0; i < n && !known; i++)
			known = !strcmp(names[i], have[k]);
		if (known)
			continue;
		r = sm_store_prune_artifacts(cache->store, have[k], NULL, 0, err);
		if (r > 0)
			stats->removed += (size_t)r;
		if (r >= 0)
			r = sm_store_set_sync_state(cache->store, have[k], NULL, err);
	}
	sm_strv_free(have, nhave);
	return r < 0 ? r : 0;
}

/*
 * The implicit `default` user collection holds every artifact. Its members
 * are brought up to date only when this sync created rows (or it is new):
 * removed rows leave it by cascade.
 */
static int ensure_default(struct sm_cache *cache, const struct sm_sync_stats *stats,
			  struct strbuf *err)
{
	struct sm_user_collection_row row = { 0 }, cur = { 0 };
	char now[SM_ISO_MAX];
	int r;

	r = sm_store_get_user_collection(cache->store, "default", &cur, NULL);
	if (r == 0) {
		sm_user_collection_row_release(&cur);
		if (stats->created == 0)
			return 0;
	} else {
		/*
		 * The implicit collection has no creation time of its own; a fixed
		 * one keeps every rebuild identical (ARCHITECTURE §2.1).
		 */
		row.id = "default";
		row.name = "Default Collection";
		row.description = "Every artifact of the home";
		row.collection_type = "default";
		row.created_at = "1970-01-01T00:00:00";
		row.updated_at = "1970-01-01T00:00:00";
		r = sm_store_put_user_collection(cache->store, &row, err);
		if (r < 0)
			return r;
	}
	if ((r = sm_time_now_iso(now)) < 0)
		return r;
	r = sm_store_add_all_members(cache->store, "default", now, err);
	return r < 0 ? r : 0;
}

static void log_stats(const struct sm_sync_stats *stats)
{
	char b[6][32];

	if (!sm_log_enabled(SM_LOG_INFO))
		return;
	snprintf(b[0], sizeof(b[0]), "%zu", stats->created);
	snprintf(b[1], sizeof(b[1]), "%zu", stats->updated);
	snprintf(b[2], sizeof(b[2]), "%zu", stats->unchanged);
	snprintf(b[3], sizeof(b[3]), "%zu", stats->removed);
	snprintf(b[4], sizeof(b[4]), "%zu", stats->errors);
	snprintf(b[5], sizeof(b[5]), "%.6f", stats->duration_seconds);
	sm_log_fields(SM_LOG_INFO, "cache sync", "created", b[0], "updated", b[1], "unchanged",
		      b[2], "removed", b[3], "errors", b[4], "duration_seconds", b[5],
		      (char *)NULL);
}

int sm_cache_sync_open_once(struct sm_cache *cache, struct sm_collection *coll, unsigned flags,
			    struct sm_sync_stats *stats, struct strbuf *err)
{
	int64_t t0 = sm_time_mono_ns(), now_ms = sm_time_real_ns() / 1000000;
	int r;

	memset(stats, 0, sizeof(*stats));
	r = sync_collection(cache, NULL, coll, flags & ~(unsigned)SM_SYNC_REBUILD, now_ms, false,
			    stats, err);
	if (r == 0)
		r = sm_cache_sync_user_collections(cache, stats, err);
	if (r == 0)
		r = ensure_default(cache, stats, err);
	stats->duration_seconds = (double)(sm_time_mono_ns() - t0) / 1e9;
	if (r == 0)
		log_stats(stats);
	return r;
}

int sm_cache_sync_once(struct sm_cache *cache, const char *collection, unsigned flags,
		       struct sm_sync_stats *stats, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int64_t t0 = sm_time_mono_ns(), now_ms = sm_time_real_ns() / 1000000;
	bool rebuild = flags & SM_SYNC_REBUILD, in_tx = false;
	char **names = NULL;
	size_t n = 0;
	int r;

	memset(stats, 0, sizeof(*stats));
	if (rebuild && collection)
		return sm_err(err, -EINVAL, "a rebuild covers every collection");
	if (rebuild) {
		flags |= SM_SYNC_FORCE;
		r = sm_store_begin(cache->store, err);
		if (r < 0)
			goto out;
		in_tx = true;
		/* no collection kept: every row goes, then everything is read again */
		r = prune_collections(cache, NULL, 0, stats, err);
		if (r < 0)
			goto out;
		stats->removed = 0;
	}
	if (collection) {
		r = sync_collection(cache, collection, NULL, flags, now_ms, false, stats, err);
		if (r < 0)
			goto out;
	} else {
		r = sm_collection_names(cache->home, &names, &n, err);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			r = sync_collection(cache, names[i], NULL, flags, now_ms, in_tx, stats, &why);
			/* the cache's own trouble (corrupt, full) is no manifest's fault */
			if (r == -ENOMEM || (r < 0 && (in_tx || sm_db_trouble(cache->db)))) {
				sm_err(err, r, "%s", why.buf);
				goto out;
			}
			if (r < 0) /* a malformed manifest: that collection only */
				add_message(stats, names[i], "collection", names[i], why.buf);
		}
		if (!rebuild) {
			r = prune_collections(cache, names, n, stats, err);
			if (r < 0)
				goto out;
		}
	}
	r = sm_cache_sync_user_collections(cache, stats, err);
	if (r < 0)
		goto out;
	r = ensure_default(cache, stats, err);
	if (r < 0)
		goto out;
	if (!collection && (flags & (SM_SYNC_DEPLOYMENTS | SM_SYNC_REBUILD | SM_SYNC_REFRESH_STALE))) {
		r = sm_cache_index_projects(cache, err);
		if (r < 0)
			goto out;
	}
	if (in_tx) {
		r = sm_store_commit(cache->store, err);
		in_tx = false;
	}
out:
	if (in_tx)
		sm_store_rollback(cache->store, NULL);
	stats->duration_seconds = (double)(sm_time_mono_ns() - t0) / 1e9;
	if (r >= 0)
		log_stats(stats);
	sm_strv_free(names, n);
	sm_strbuf_release(&why);
	return r < 0 ? r : 0;
}

/* ---- one artifact ---- */

int sm_cache_sync_entry(struct sm_cache *cache, const struct sm_collection *c, size_t idx,
			bool write, struct sm_artifact_row *ret, struct strbuf *err)
{
	const struct sm_toml_value *e = sm_manifest_at(c->manifest, idx);
	struct sm_artifact_row row = {0};
	struct strbuf abs = STRBUF_INIT, fp = STRBUF_INIT, why = STRBUF_INIT;
	struct sm_upsert_stats us = {0};
	struct sm_view v;
	char hash[17];
	int64_t newest = 0;
	int r;

	if (!e)
		return sm_err(err, -ENOENT, "no manifest entry %zu", idx);
	if ((r = row_from_entry(c, e, &row)) < 0)
		goto out;
	if ((r = sm_collection_entry_path(c, e, &abs, err)) < 0)
		goto out;
	row.synced_at = sm_time_real_ns() / 1000000;
	r = fingerprint(abs.buf, e, row.lock_hash, &fp, &row.file_count, &row.total_size, &newest,
			&why);
	if (r >= 0)
		r = set_updated(&row, newest);
	if (r < 0) {
		r = sm_err(err, r, "%s", why.len ? why.buf : sm_strerror(r));
		goto out;
	}
	if (!(row.fingerprint = sm_strbuf_detach(&fp, NULL))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = sm_view_load(c, idx, &v, err)) < 0)
		goto out;
	r = row_from_view(&v, &row);
	sm_view_release(&v);
	if (r == 0)
		r = artifact_text(abs.buf, &row.body);
	if (r < 0)
		goto out;
	sm_strbuf_reset(&why);
	if ((r = uuid_taken(cache, &row, &why, err)) < 0)
		goto out;
	if (r > 0)
		sm_log_warn("collection '%s': %s:%s: %s", c->name, row.type, row.name, why.buf);
	sm_artifact_row_hash(&row, hash);
	if (!(row.row_hash = sm_strdup(hash))) {
		r = -ENOMEM;
		goto out;
	}
	if (write) {
		if ((r = sm_store_begin(cache->store, err)) < 0)
			goto out;
		r = sm_store_upsert_artifacts(cache->store, &row, 1, NULL, &us, err);
		if (r >= 0)
			r = sm_store_commit(cache->store, err);
		else
			(void)sm_store_rollback(cache->store, NULL);
		if (r < 0)
			goto out;
	}
	r = 0;
	if (ret) {
		*ret = row;
		memset(&row, 0, sizeof(row));
	}
out:
	sm_artifact_row_release(&row);
	sm_strbuf_release(&abs);
	sm_strbuf_release(&fp);
	sm_strbuf_release(&why);
	return r;
}
