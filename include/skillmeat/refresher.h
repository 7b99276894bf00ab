/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_REFRESHER_H
#define SKILLMEAT_REFRESHER_H

#include <stdbool.h>
#include <stdint.h>

struct strbuf;

/*
 * The background refresher (ARCHITECTURE.md §5): a thread that every
 * interval re-reads the cache's stale rows (flagged, never synced, or older
 * than cache.stale-ttl-seconds) with a time budget per pass: the collections
 * holding stale rows (most urgent first) are synced with
 * SM_SYNC_REFRESH_STALE one after another until the budget is spent (a
 * collection that was started is finished). It runs at a lower priority
 * (SCHED_BATCH and nice 10 for its thread) on its own home and SQLite
 * connection. Errors are logged and counted, never fatal.
 *
 * Usage (serve):
 *
 *	struct sm_refresher_opts o = { .home_root = home->root,
 *				       .after_refresh = drop_counts, .ctx = app };
 *	if (sm_refresher_start(&o, &r, &err) < 0)
 *		warn;
 *	... /metrics: sm_refresher_get_stats(r, &st);
 *	sm_refresher_stop(r);
 */
/* What one pass did (sm_refresher_opts.after_pass). */
struct sm_refresher_pass {
	uint64_t refreshed; /* rows whose cached content changed */
	uint64_t removed;
	uint64_t errors; /* artifacts that could not be read, failed syncs */
	bool over_budget;
	double seconds;
};

struct sm_refresher_opts {
	const char *home_root; /* SKILLMEAT_HOME, absolute; copied */
	/*
	 * Period between passes; <= 0: config server.refresh-interval-seconds
	 * (default 300 s). The first pass runs one interval after the start.
	 */
	int64_t interval_ms;
	/* Work per pass; <= 0: config server.refresh-budget-ms (default 200). */
	int64_t budget_ms;
	/*
	 * Also start each pass with a warm sync of every collection (a stat of
	 * every artifact against its fingerprint), so hand edits show within
	 * an interval without the watcher: set it when server.watch is off or
	 * the watcher is degraded (sm_watcher_stats.degraded). Not budgeted.
	 */
	bool warm_sync;
	/* Called on the refresher thread after a pass that changed rows. */
	void (*after_refresh)(void *ctx);
	/* Optional: called on the refresher thread after every pass (metrics). */
	void (*after_pass)(void *ctx, const struct sm_refresher_pass *pass);
	void *ctx;
	/*
	 * Optional: held around each sync (a server passes its writer lock, so
	 * one sync runs at a time in the process). Called with ctx.
	 */
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
};

struct sm_refresher;

/*
 * Open the home (config), start the thread. Errors: -EINVAL (no home_root),
 * -ENOMEM, -EAGAIN (thread), or the home's open error.
 */
int sm_refresher_start(const struct sm_refresher_opts *opts, struct sm_refresher **ret,
		       struct strbuf *err);
/* Stop (a pass in progress finishes its current collection), join, free. NULL is accepted. */
void sm_refresher_stop(struct sm_refresher *r);
/* Turn the warm sync of every collection per pass on or off (see the option). */
void sm_refresher_set_warm_sync(struct sm_refresher *r, bool on);
/* Run a pass now rather than at the end of the interval (tests, an admin action). */
void sm_refresher_kick(struct sm_refresher *r);

struct sm_refresher_stats {
	uint64_t runs;		/* passes done */
	uint64_t refreshed;	/* rows whose cached content changed (created, updated) */
	uint64_t removed;	/* rows of artifacts gone from their manifest */
	uint64_t errors;	/* artifacts that could not be read, failed syncs */
	uint64_t over_budget;	/* passes that stopped with stale rows left */
	int64_t last_duration_us;
	int64_t last_run_ms;	/* wall clock (ms since the epoch) of the last pass end; 0: none */
	int64_t interval_ms;
	int64_t budget_ms;
};

/* A consistent snapshot of the counters; callable from any thread. */
void sm_refresher_get_stats(struct sm_refresher *r, struct sm_refresher_stats *ret);

#endif
