/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_WATCHER_H
#define SKILLMEAT_WATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/*
 * The inotify watcher (ARCHITECTURE.md §5): watches every folder of every
 * file collection of a home (recursively, new folders and new collections
 * included, and the collection folder rather than collection.toml itself, so
 * an atomic rename of the manifest is seen), coalesces events for a debounce
 * period, then reports once per collection on its own thread.
 *
 * Usage (serve, when server.watch is true):
 *
 *	struct sm_watcher_refresh wr = { .home_root = home->root,
 *					 .after_refresh = drop_counts, .ctx = app };
 *	struct sm_watcher_opts o = { .home_root = home->root,
 *				     .debounce_ms = sm_config_int(home, "server.watch-debounce-ms", 100),
 *				     .on_change = sm_watcher_default_refresh, .ctx = &wr };
 *	if (sm_watcher_start(&o, &w, &err) < 0)
 *		log a warning: the refresher still covers hand edits;
 *	...
 *	sm_watcher_stop(w);		(joins the thread)
 *	sm_watcher_refresh_release(&wr); (after the stop)
 */

/*
 * Called on the watcher thread, once per collection per debounce period.
 * collection: the file collection's folder name. paths: the changed
 * top-level entries, relative to the collection folder and deduplicated
 * ("skills/pdf", "agents/x.md"; a change anywhere inside a skill folder is
 * reported as that folder), borrowed for the call. manifest_changed: the
 * manifest or the lock changed, the collection folder appeared or vanished,
 * or events were lost — treat the whole collection as changed (n may then
 * be 0).
 */
typedef void (*sm_watcher_change_fn)(void *ctx, const char *collection, const char *const *paths,
				     size_t n, bool manifest_changed);

struct sm_watcher_opts {
	const char *home_root;	/* SKILLMEAT_HOME, absolute; copied */
	int64_t debounce_ms;	/* quiet period before acting; <= 0: 100 */
	sm_watcher_change_fn on_change;
	void *ctx;
	/* Tests: pretend the inotify watch limit is this many watches (0: none). */
	size_t max_watches;
};

struct sm_watcher;

/*
 * Watch the home's collections: every existing folder is watched before this
 * returns (a change made after the return is seen), then the thread runs.
 * Running out of inotify watches is not an error: a warning is logged once
 * and stats.degraded set (those folders are left to the refresher).
 * Errors: -EMFILE/-ENOMEM from inotify_init1 (no instance left), -ENOMEM,
 * -EAGAIN (thread), -EINVAL (no home_root or on_change).
 */
int sm_watcher_start(const struct sm_watcher_opts *opts, struct sm_watcher **ret,
		     struct strbuf *err);
/* Stop the thread (waits for a running callback to return), close, free. NULL is accepted. */
void sm_watcher_stop(struct sm_watcher *w);

struct sm_watcher_stats {
	uint64_t events;    /* inotify events read */
	uint64_t batches;   /* debounce periods that ended in callbacks */
	uint64_t callbacks; /* on_change calls */
	uint64_t overflows; /* IN_Q_OVERFLOW: events were lost */
	uint64_t watches;   /* folders watched now */
	bool degraded;	    /* some folders could not be watched */
};

/* A snapshot of the counters; callable from any thread. */
void sm_watcher_get_stats(struct sm_watcher *w, struct sm_watcher_stats *ret);

/*
 * The ready-made on_change (ctx: a struct sm_watcher_refresh): on the
 * watcher thread, with its own home and SQLite connection (opened on the
 * first call), flag the rows of the changed paths stale and run
 * sm_cache_sync(collection, SM_SYNC_REFRESH_STALE) — or a warm sync of
 * every collection when the collection folder is gone (not a collection), so
 * its rows are removed — then call
 * after_refresh (the server drops its count caches there). Errors are
 * logged and counted, never fatal.
 */
struct sm_watcher_refresh {
	const char *home_root; /* borrowed; must outlive the watcher */
	void (*after_refresh)(void *ctx, const char *collection);
	void *ctx;
	/*
	 * Optional: held around each sync (a server passes its writer lock, so
	 * one sync runs at a time in the process). Called with ctx.
	 */
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	/* Private, zero-initialise. */
	struct sm_home *home;
	struct sm_cache *cache;
	uint64_t refreshes; /* syncs run; read with __atomic_load_n */
	uint64_t errors;    /* failed opens and syncs; read with __atomic_load_n */
	uint64_t artifact_errors; /* artifacts a sync could not read; __atomic_load_n */
};

void sm_watcher_default_refresh(void *ctx, const char *collection, const char *const *paths,
				size_t n, bool manifest_changed);
/* Close the cache and home the callback opened; call after sm_watcher_stop. */
void sm_watcher_refresh_release(struct sm_watcher_refresh *r);

#endif
