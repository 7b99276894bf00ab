/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skillmeat/watcher.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

#define DEFAULT_DEBOUNCE_MS 100
/* A steady stream of events still gets a callback this often. */
#define MIN_MAX_WAIT_MS 1000
/* Past this many distinct paths a collection is reported as a whole. */
#define MAX_PATHS 1024
#define MAX_DEPTH 64

#define DIR_MASK                                                                             \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | \
	 IN_ATTRIB | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define COLLS_MASK                                                                           \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_ONLYDIR |   \
	 IN_DONT_FOLLOW)
#define ROOT_MASK (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW)

enum watch_kind {
	W_ROOT,	 /* SKILLMEAT_HOME: for collections/ appearing */
	W_COLLS, /* collections/ */
	W_DIR,	 /* a folder of a collection (rel "" = the collection folder) */
};

struct watch {
	int wd;
	enum watch_kind kind;
	char *coll; /* W_DIR */
	char *rel;  /* W_DIR: relative to the collection folder */
};

struct pending {
	char *coll;
	char **paths;
	size_t n, alloc;
	bool manifest;
};

struct sm_watcher {
	char *root;
	char *colls_dir;
	int64_t debounce_ms;
	sm_watcher_change_fn on_change;
	void *ctx;
	size_t max_watches;
	int ifd, stopfd;
	pthread_t thread;
	bool thread_started;
	bool warned;
	/* thread-owned after start */
	struct watch *watches; /* sorted by wd */
	size_t nwatches, awatches;
	struct pending *pend;
	size_t npend, apend;
	int64_t first_ms, last_ms;
	/* counters, read from any thread */
	_Atomic uint64_t events, batches, callbacks, overflows, nwatch_now;
	atomic_bool degraded;
};

static bool ignored_name(const char *name)
{
	size_t n = strlen(name);

	/* hidden entries (editor temp files, .git) and backup files */
	return n == 0 || name[0] == '.' || name[n - 1] == '~';
}

static ssize_t find_watch(const struct sm_watcher *w, int wd)
{
	size_t lo = 0, hi = w->nwatches;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->watches[mid].wd == wd)
			return (ssize_t)mid;
		if (w->watches[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(ssize_t)lo - 1;
}

static void watch_release(struct watch *x)
{
	sm_free(x->coll);
	sm_free(x->rel);
}

static void drop_watch_at(struct sm_watcher *w, size_t i)
{
	watch_release(&w->watches[i]);
	memmove(&w->watches[i], &w->watches[i + 1], (w->nwatches - i - 1) * sizeof(*w->watches));
	w->nwatches--;
	atomic_store(&w->nwatch_now, w->nwatches);
}

static void limit_reached(struct sm_watcher *w, const char *path)
{
	atomic_store(&w->degraded, true);
	if (!w->warned) {
		w->warned = true;
		sm_log_warn("watcher: out of inotify watches at '%s' (fs.inotify.max_user_watches): "
			    "changes there are left to the background refresher",
			    path);
	}
}

/* Watch path; 1 when watched, 0 when skipped (gone, limit), negative errno on ENOMEM. */
static int add_watch(struct sm_watcher *w, const char *path, enum watch_kind kind,
		     const char *coll, const char *rel)
{
	uint32_t mask = kind == W_ROOT ? ROOT_MASK : kind == W_COLLS ? COLLS_MASK : DIR_MASK;
	struct watch x = { .kind = kind };
	ssize_t at;
	int wd;

	if (w->max_watches && w->nwatches >= w->max_watches) {
		limit_reached(w, path);
		return 0;
	}
	wd = inotify_add_watch(w->ifd, path, mask);
	if (wd < 0) {
		if (errno == ENOSPC)
			limit_reached(w, path);
		else if (errno == ENOMEM)
			return -ENOMEM;
		else
			sm_log_debug("watcher: cannot watch '%s': %s", path, strerror(errno));
		return 0;
	}
	x.wd = wd;
	if ((coll && !(x.coll = sm_strdup(coll))) || (rel && !(x.rel = sm_strdup(rel)))) {
		watch_release(&x);
		inotify_rm_watch(w->ifd, wd);
		return -ENOMEM;
	}
	at = find_watch(w, wd);
	if (at >= 0) {
		/* the same inode again (moved back): take the new name */
		watch_release(&w->watches[at]);
		w->watches[at] = x;
		return 1;
	}
	if (w->nwatches == w->awatches) {
		size_t na = w->awatches ? w->awatches * 2 : 64;
		struct watch *nw = sm_reallocarray(w->watches, na, sizeof(*nw));

		if (!nw) {
			watch_release(&x);
			inotify_rm_watch(w->ifd, wd);
			return -ENOMEM;
		}
		w->watches = nw;
		w->awatches = na;
	}
	at = -at - 1;
	memmove(&w->watches[at + 1], &w->watches[at], ((size_t)w->nwatches - (size_t)at) *
							       sizeof(*w->watches));
	w->watches[at] = x;
	w->nwatches++;
	atomic_store(&w->nwatch_now, w->nwatches);
	return 1;
}

/* Watch a collection folder (or one inside it) and every folder below it. */
static int add_tree(struct sm_watcher *w, const char *coll, const char *rel, int depth)
{
	struct strbuf path = STRBUF_INIT, sub = STRBUF_INIT;
	DIR *d = NULL;
	struct dirent *de;
	int r;

	if (depth > MAX_DEPTH)
		return 0;
	r = sm_strbuf_addf(&path, "%s/%s%s%s", w->colls_dir, coll, rel[0] ? "/" : "", rel);
	if (r < 0)
		goto out;
	r = add_watch(w, path.buf, W_DIR, coll, rel);
	if (r <= 0)
		goto out;
	r = 0;
	d = opendir(path.buf);
	if (!d)
		goto out;
	while ((de = readdir(d))) {
		bool isdir = de->d_type == DT_DIR;

		if (ignored_name(de->d_name))
			continue;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			isdir = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				S_ISDIR(st.st_mode);
		}
		if (!isdir)
			continue;
		sm_strbuf_reset(&sub);
		r = sm_strbuf_addf(&sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (r == 0)
			r = add_tree(w, coll, sub.buf, depth + 1);
		if (r < 0)
			break;
	}
out:
	if (d)
		closedir(d);
	sm_strbuf_release(&path);
	sm_strbuf_release(&sub);
	return r;
}

static void note(struct sm_watcher *w, const char *coll, const char *path, size_t len);

/* Watch collections/ and every collection in it; report: note each one as changed. */
static int add_collections(struct sm_watcher *w, bool report)
{
	DIR *d;
	struct dirent *de;
	int r;

	r = add_watch(w, w->colls_dir, W_COLLS, NULL, NULL);
	if (r <= 0)
		return r;
	d = opendir(w->colls_dir);
	if (!d)
		return 0;
	r = 0;
	while (r >= 0 && (de = readdir(d))) {
		if (ignored_name(de->d_name) || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		r = add_tree(w, de->d_name, "", 0);
		if (report)
			note(w, de->d_name, NULL, 0);
	}
	closedir(d);
	return r < 0 ? r : 0;
}

/* Stop watching coll/rel and everything below it (moved away). rel NULL: the whole collection. */
static void drop_tree(struct sm_watcher *w, const char *coll, const char *rel)
{
	size_t rl = rel ? strlen(rel) : 0;

	for (size_t i = w->nwatches; i-- > 0;) {
		const struct watch *x = &w->watches[i];

		if (x->kind != W_DIR || strcmp(x->coll, coll))
			continue;
		if (rel && !(!strncmp(x->rel, rel, rl) && (x->rel[rl] == '\0' || x->rel[rl] == '/')))
			continue;
		inotify_rm_watch(w->ifd, x->wd);
		drop_watch_at(w, i);
	}
}

static struct pending *pending_of(struct sm_watcher *w, const char *coll)
{
	struct pending *p;

	for (size_t i = 0; i < w->npend; i++)
		if (!strcmp(w->pend[i].coll, coll))
			return &w->pend[i];
	if (w->npend == w->apend) {
		size_t na = w->apend ? w->apend * 2 : 8;
		struct pending *np = sm_reallocarray(w->pend, na, sizeof(*np));

		if (!np)
			return NULL;
		w->pend = np;
		w->apend = na;
	}
	p = &w->pend[w->npend];
	memset(p, 0, sizeof(*p));
	p->coll = sm_strdup(coll);
	if (!p->coll)
		return NULL;
	w->npend++;
	return p;
}

/* Record a change: path (relative to the collection) NULL = the whole collection. */
static void note(struct sm_watcher *w, const char *coll, const char *path, size_t len)
{
	int64_t now = sm_time_mono_ns() / 1000000;
	struct pending *p;

	if (!w->npend)
		w->first_ms = now;
	w->last_ms = now;
	p = pending_of(w, coll);
	if (!p) {
		sm_log_warn("watcher: out of memory: a change in '%s' is left to the refresher", coll);
		return;
	}
	if (!path) {
		p->manifest = true;
		return;
	}
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->paths[i]) == len && !memcmp(p->paths[i], path, len))
			return;
	if (p->n >= MAX_PATHS) {
		p->manifest = true;
		return;
	}
	if (p->n == p->alloc) {
		size_t na = p->alloc ? p->alloc * 2 : 8;
		char **np = sm_reallocarray(p->paths, na, sizeof(*np));

		if (!np) {
			p->manifest = true;
			return;
		}
		p->paths = np;
		p->alloc = na;
	}
	p->paths[p->n] = sm_strndup(path, len);
	if (!p->paths[p->n])
		p->manifest = true;
	else
		p->n++;
}

static void note_all(struct sm_watcher *w)
{
	for (size_t i = 0; i < w->nwatches; i++)
		if (w->watches[i].kind == W_DIR && !w->watches[i].rel[0])
			note(w, w->watches[i].coll, NULL, 0);
}

/* An event in a collection folder (or below it). */
static void dir_event(struct sm_watcher *w, const struct watch *x, const struct inotify_event *ev)
{
	struct strbuf full = STRBUF_INIT;
	bool isdir = ev->mask & IN_ISDIR;
	const char *slash;
	size_t entry_len;
	char *coll;

	if (ev->mask & (IN_DELETE_SELF | IN_IGNORED)) {
		/* the collection folder itself vanished; deeper folders are seen from their parent */
		if (!x->rel[0] && (ev->mask & IN_DELETE_SELF))
			note(w, x->coll, NULL, 0);
		return;
	}
	if (!ev->len || ignored_name(ev->name))
		return;
	if (!x->rel[0] && !isdir &&
	    (!strcmp(ev->name, "collection.toml") || !strcmp(ev->name, "collection.lock"))) {
		note(w, x->coll, NULL, 0);
		return;
	}
	if (sm_strbuf_addf(&full, "%s%s%s", x->rel, x->rel[0] ? "/" : "", ev->name) < 0) {
		note(w, x->coll, NULL, 0);
		goto out;
	}
	/* the top-level entry: "skills/pdf" of "skills/pdf/docs/a.md" */
	slash = strchr(full.buf, '/');
	entry_len = slash ? (size_t)((strchr(slash + 1, '/') ?: full.buf + full.len) - full.buf)
			  : full.len;
	note(w, x->coll, full.buf, entry_len);
	if (!isdir)
		goto out;
	/* x may move in the array below: copy the collection name first */
	coll = sm_strdup(x->coll);
	if (!coll) {
		note(w, x->coll, NULL, 0);
		goto out;
	}
	/*
	 * A folder moved away: its watches go. A replace exchanges the staged
	 * copy with the folder (core/txn.c, RENAME_EXCHANGE), which the kernel
	 * reports as the new copy's MOVED_TO and then the old one's MOVED_FROM
	 * of the same name: what is at the name now is watched again (nothing
	 * when the name is empty).
	 */
	if (ev->mask & IN_MOVED_FROM) {
		drop_tree(w, coll, full.buf);
		if (add_tree(w, coll, full.buf, 0) < 0)
			note(w, coll, NULL, 0);
	} else if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && add_tree(w, coll, full.buf, 0) < 0) {
		note(w, coll, NULL, 0);
	}
	sm_free(coll);
out:
	sm_strbuf_release(&full);
}

/* An event in collections/: a collection folder appeared or went. */
static void colls_event(struct sm_watcher *w, const struct inotify_event *ev)
{
	if (ev->mask & IN_DELETE_SELF) {
		note_all(w);
		return;
	}
	if (!ev->len || ignored_name(ev->name) || !(ev->mask & IN_ISDIR))
		return;
	if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
		if (add_tree(w, ev->name, "", 0) < 0)
			sm_log_warn("watcher: out of memory watching '%s'", ev->name);
	} else if (ev->mask & IN_MOVED_FROM) {
		drop_tree(w, ev->name, NULL);
	}
	note(w, ev->name, NULL, 0);
}

static void handle_event(struct sm_watcher *w, const struct inotify_event *ev)
{
	ssize_t at;

	atomic_fetch_add(&w->events, 1);
	if (ev->mask & IN_Q_OVERFLOW) {
		atomic_fetch_add(&w->overflows, 1);
		sm_log_warn("watcher: inotify queue overflow: rescanning every collection");
		note_all(w);
		return;
	}
	at = find_watch(w, ev->wd);
	if (at < 0)
		return;
	switch (w->watches[at].kind) {
	case W_ROOT:
		if (ev->len && !strcmp(ev->name, "collections") && (ev->mask & IN_ISDIR) &&
		    add_collections(w, true) < 0)
			sm_log_warn("watcher: out of memory watching '%s'", w->colls_dir);
		break;
	case W_COLLS:
		colls_event(w, ev);
		break;
	case W_DIR:
		dir_event(w, &w->watches[at], ev);
		break;
	}
	if (ev->mask & IN_IGNORED) {
		at = find_watch(w, ev->wd);
		if (at >= 0)
			drop_watch_at(w, (size_t)at);
	}
}

static void read_events(struct sm_watcher *w)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(w->ifd, buf, sizeof(buf));

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			handle_event(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void flush(struct sm_watcher *w)
{
	struct pending *pend = w->pend;
	size_t npend = w->npend;

	/* callbacks may run long: new events queue up in the kernel meanwhile */
	w->pend = NULL;
	w->npend = w->apend = 0;
	atomic_fetch_add(&w->batches, 1);
	for (size_t i = 0; i < npend; i++) {
		struct pending *p = &pend[i];

		atomic_fetch_add(&w->callbacks, 1);
		w->on_change(w->ctx, p->coll, (const char *const *)p->paths, p->n, p->manifest);
		for (size_t j = 0; j < p->n; j++)
			sm_free(p->paths[j]);
		sm_free(p->paths);
		sm_free(p->coll);
	}
	sm_free(pend);
}

static void *run(void *arg)
{
	struct sm_watcher *w = arg;
	int64_t max_wait = w->debounce_ms * 10 > MIN_MAX_WAIT_MS ? w->debounce_ms * 10
								: MIN_MAX_WAIT_MS;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = w->stopfd, .events = POLLIN },
			{ .fd = w->ifd, .events = POLLIN },
		};
		int timeout = -1;

		if (w->npend) {
			int64_t now = sm_time_mono_ns() / 1000000;
			int64_t due = w->last_ms + w->debounce_ms;

			if (due > w->first_ms + max_wait)
				due = w->first_ms + max_wait;
			if (due <= now) {
				flush(w);
				continue;
			}
			timeout = (int)(due - now);
		}
		if (poll(fds, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			sm_log_error("watcher: poll: %s", strerror(errno));
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents & POLLIN)
			read_events(w);
	}
	return NULL;
}

static void watcher_free(struct sm_watcher *w)
{
	if (!w)
		return;
	if (w->ifd >= 0)
		close(w->ifd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	for (size_t i = 0; i < w->nwatches; i++)
		watch_release(&w->watches[i]);
	sm_free(w->watches);
	for (size_t i = 0; i < w->npend; i++) {
		for (size_t j = 0; j < w->pend[i].n; j++)
			sm_free(w->pend[i].paths[j]);
		sm_free(w->pend[i].paths);
		sm_free(w->pend[i].coll);
	}
	sm_free(w->pend);
	sm_free(w->root);
	sm_free(w->colls_dir);
	sm_free(w);
}

int sm_watcher_start(const struct sm_watcher_opts *opts, struct sm_watcher **ret,
		     struct strbuf *err)
{
	struct sm_watcher *w;
	struct strbuf cd = STRBUF_INIT;
	int r;

	if (!opts || !opts->home_root || !opts->on_change)
		return sm_err(err, -EINVAL, "watcher: no home or callback");
	w = sm_calloc(1, sizeof(*w));
	if (!w)
		return sm_err(err, -ENOMEM, "out of memory");
	w->ifd = w->stopfd = -1;
	w->debounce_ms = opts->debounce_ms > 0 ? opts->debounce_ms : DEFAULT_DEBOUNCE_MS;
	w->on_change = opts->on_change;
	w->ctx = opts->ctx;
	w->max_watches = opts->max_watches;
	w->root = sm_strdup(opts->home_root);
	if (!w->root || sm_strbuf_addf(&cd, "%s/collections", opts->home_root) < 0 ||
	    !(w->colls_dir = sm_strbuf_detach(&cd, NULL))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		r = sm_err(err, -errno, "cannot start the watcher: inotify_init1: %s",
			   strerror(errno));
		goto fail;
	}
	w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->stopfd < 0) {
		r = sm_err(err, -errno, "cannot start the watcher: eventfd: %s", strerror(errno));
		goto fail;
	}
	/* the home for collections/ appearing, then every collection */
	r = add_watch(w, w->root, W_ROOT, NULL, NULL);
	if (r >= 0)
		r = add_collections(w, false);
	if (r < 0) {
		r = sm_err(err, r, "cannot start the watcher: %s", strerror(-r));
		goto fail;
	}
	sm_log_debug("watcher: watching %zu folders of '%s'", w->nwatches, w->root);
	r = -pthread_create(&w->thread, NULL, run, w);
	if (r < 0) {
		r = sm_err(err, r, "cannot start the watcher thread: %s", strerror(-r));
		goto fail;
	}
	w->thread_started = true;
	*ret = w;
	return 0;
fail:
	sm_strbuf_release(&cd);
	watcher_free(w);
	return r;
}

void sm_watcher_stop(struct sm_watcher *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	if (w->thread_started) {
		while (write(w->stopfd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_join(w->thread, NULL);
	}
	watcher_free(w);
}

void sm_watcher_get_stats(struct sm_watcher *w, struct sm_watcher_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!w)
		return;
	ret->events = atomic_load(&w->events);
	ret->batches = atomic_load(&w->batches);
	ret->callbacks = atomic_load(&w->callbacks);
	ret->overflows = atomic_load(&w->overflows);
	ret->watches = atomic_load(&w->nwatch_now);
	ret->degraded = atomic_load(&w->degraded);
}

/*
 * Flag the rows whose path is one of paths stale, so the sync re-reads them;
 * not a row whose fingerprint still describes its files (our own write,
 * already indexed): flagged, it would make the sync read the whole manifest.
 */
static size_t mark_paths(struct sm_cache *cache, const char *coll, const char *const *paths,
			 size_t n)
{
	struct sm_artifact_row *rows = NULL, row;
	size_t nrows = 0, current = 0;
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;

	if (sm_home_collection_dir(cache->home, coll, &dir) < 0 ||
	    sm_store_list_fingerprints(cache->store, coll, &rows, &nrows, &err) < 0) {
		sm_log_debug("watcher: cannot list '%s': %s", coll, err.buf);
		goto out;
	}
	for (size_t i = 0; i < nrows; i++) {
		if (!rows[i].path)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (strcmp(rows[i].path, paths[j]))
				continue;
			if (sm_cache_row_current(dir.buf, &rows[i])) {
				current++;
				break;
			}
			if (sm_store_get_artifact_by_key(cache->store, coll, rows[i].type,
							 rows[i].name, &row, &err) < 0) {
				sm_log_debug("watcher: cannot find '%s': %s", rows[i].path, err.buf);
				break;
			}
			if (sm_store_mark_stale(cache->store, row.uuid, &err) < 0)
				sm_log_debug("watcher: cannot flag '%s': %s", rows[i].path, err.buf);
			sm_artifact_row_release(&row);
			break;
		}
	}
out:
	sm_artifact_rows_free(rows, nrows);
	sm_strbuf_release(&err);
	sm_strbuf_release(&dir);
	return n - current; /* paths not known to be indexed as they are */
}

/* Is the index in step with coll's manifest and lock as they are now? */
static bool manifest_in_step(struct sm_cache *cache, const char *coll)
{
	struct strbuf dir = STRBUF_INIT;
	char *now = NULL, *stored = NULL;
	bool same = sm_home_collection_dir(cache->home, coll, &dir) == 0 &&
		    sm_cache_manifest_fp(dir.buf, &now) == 0 &&
		    sm_store_get_sync_state(cache->store, coll, &stored, NULL) == 0 && stored &&
		    !strcmp(stored, now);

	sm_free(now);
	sm_free(stored);
	sm_strbuf_release(&dir);
	return same;
}

void sm_watcher_default_refresh(void *ctx, const char *collection, const char *const *paths,
				size_t n, bool manifest_changed)
{
	struct sm_watcher_refresh *wr = ctx;
	struct sm_sync_stats st = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *which = collection;
	size_t unknown = n;
	bool indexed;
	int r;

	if (!wr->cache) {
		if (!wr->home && sm_home_open(wr->home_root, &wr->home, &err) < 0)
			goto fail;
		if (sm_cache_open(wr->home, &wr->cache, &err) < 0)
			goto fail;
	}
	if (wr->lock)
		wr->lock(wr->ctx);
	if (!sm_collection_exists(wr->home, collection))
		which = NULL; /* gone (or not a collection yet): prune its rows */
	else if (n)
		unknown = mark_paths(wr->cache, collection, paths, n);
	/*
	 * Our own write, already indexed (ops/edit.c): every changed file is
	 * as its row says and the manifest as the sync state says. Nothing
	 * to read: a sync would stat every file of the collection.
	 */
	indexed = which && !unknown && manifest_in_step(wr->cache, collection);
	/* the prune of a vanished collection needs no re-read of the others */
	r = indexed ? 0
		    : sm_cache_sync(wr->cache, which, which ? SM_SYNC_REFRESH_STALE : 0, &st, &err);
	if (wr->unlock)
		wr->unlock(wr->ctx);
	if (r < 0)
		goto fail;
	__atomic_fetch_add(&wr->refreshes, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&wr->artifact_errors, (uint64_t)st.errors, __ATOMIC_RELAXED);
	if (indexed)
		sm_log_debug("watcher: '%s' changed (%zu paths%s): already indexed", collection, n,
			     manifest_changed ? ", manifest" : "");
	else
		sm_log_debug("watcher: '%s' changed (%zu paths%s): %zu created, %zu updated, "
			     "%zu removed",
			     collection, n, manifest_changed ? ", manifest" : "", st.created,
			     st.updated, st.removed);
	if (wr->after_refresh)
		wr->after_refresh(wr->ctx, collection);
	goto out;
fail:
	__atomic_fetch_add(&wr->errors, 1, __ATOMIC_RELAXED);
	sm_log_warn("watcher: cannot refresh '%s': %s", collection, err.buf);
out:
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
}

void sm_watcher_refresh_release(struct sm_watcher_refresh *r)
{
	if (!r)
		return;
	sm_cache_close(r->cache);
	r->cache = NULL;
	sm_home_free(r->home);
	r->home = NULL;
}
