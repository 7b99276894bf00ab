/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "skillmeat/refresher.h"
#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

#define DEFAULT_INTERVAL_S 300
#define DEFAULT_BUDGET_MS 200
/* Stale rows looked at per pass to choose the collections. */
#define STALE_LIMIT 1000
#define REFRESH_NICE 10

struct sm_refresher {
	struct sm_home *home; /* opened by start, used by the thread only after */
	struct sm_cache *cache;
	int64_t interval_ms, budget_ms;
	void (*after_refresh)(void *ctx);
	void (*after_pass)(void *ctx, const struct sm_refresher_pass *pass);
	void (*sync_lock)(void *ctx);
	void (*sync_unlock)(void *ctx);
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	bool stop, kick, warm_sync;
	struct sm_refresher_stats stats;
};

static int64_t mono_ms(void)
{
	return sm_time_mono_ns() / 1000000;
}

/* SCHED_BATCH and a higher nice value for this thread only (Linux: per-thread). */
static void lower_priority(void)
{
	struct sched_param sp = { .sched_priority = 0 };
	int r = pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);

	if (r)
		sm_log_debug("refresher: SCHED_BATCH: %s", strerror(r));
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), REFRESH_NICE) < 0)
		sm_log_debug("refresher: setpriority: %s", strerror(errno));
}

struct pass {
	uint64_t refreshed, removed, errors;
	bool over_budget;
};

/* The distinct collections of rows, in order of first appearance (most urgent first). */
static int collections_of(const struct sm_artifact_row *rows, size_t n, const char ***ret,
			  size_t *ret_n)
{
	const char **v = sm_calloc(n ? n : 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < k && strcmp(v[j], rows[i].collection); j++)
			;
		if (j == k)
			v[k++] = rows[i].collection;
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

static void add_stats(struct pass *p, const struct sm_sync_stats *st)
{
	p->refreshed += st->created + st->updated;
	p->removed += st->removed;
	p->errors += st->errors;
}

/* One sync under the caller's lock (the server's writer lock), if any. */
static int locked_sync(struct sm_refresher *r, struct sm_cache *cache, const char *collection,
		       unsigned flags, struct sm_sync_stats *st, struct strbuf *err)
{
	int ret;

	if (r->sync_lock)
		r->sync_lock(r->ctx);
	ret = sm_cache_sync(cache, collection, flags, st, err);
	if (r->sync_unlock)
		r->sync_unlock(r->ctx);
	return ret;
}

static void run_pass(struct sm_refresher *r, bool warm_sync, struct pass *p)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_artifact_row *rows = NULL;
	const char **colls = NULL;
	size_t nrows = 0, ncolls = 0, i;
	int64_t start = mono_ms();

	if (!r->cache && sm_cache_open(r->home, &r->cache, &err) < 0) {
		sm_log_warn("refresher: cannot open the cache: %s", err.buf);
		p->errors++;
		goto out;
	}
	if (warm_sync) {
		struct sm_sync_stats st = { 0 };

		if (locked_sync(r, r->cache, NULL, 0, &st, &err) < 0) {
			sm_log_warn("refresher: warm sync: %s", err.buf);
			p->errors++;
		}
		add_stats(p, &st);
		sm_sync_stats_release(&st);
		sm_strbuf_reset(&err);
	}
	if (sm_store_list_stale(r->cache->store, NULL, sm_time_real_ns() / 1000000,
				r->cache->stale_ttl_ms, STALE_LIMIT, &rows, &nrows, &err) < 0) {
		sm_log_warn("refresher: cannot list stale rows: %s", err.buf);
		p->errors++;
		goto out;
	}
	if (collections_of(rows, nrows, &colls, &ncolls) < 0) {
		p->errors++;
		goto out;
	}
	for (i = 0; i < ncolls; i++) {
		struct sm_sync_stats st = { 0 };
		bool stop;

		/* at least one collection per pass, so a small budget still makes progress */
		if (i > 0 && mono_ms() - start >= r->budget_ms)
			break;
		pthread_mutex_lock(&r->lock);
		stop = r->stop;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;
		sm_strbuf_reset(&err);
		if (locked_sync(r, r->cache, colls[i], SM_SYNC_REFRESH_STALE, &st, &err) < 0) {
			/* a collection folder that is gone: prune its rows with a sync of all */
			sm_log_debug("refresher: '%s': %s", colls[i], err.buf);
			sm_sync_stats_release(&st);
			memset(&st, 0, sizeof(st));
			sm_strbuf_reset(&err);
			if (locked_sync(r, r->cache, NULL, 0, &st, &err) < 0) {
				sm_log_warn("refresher: cannot refresh '%s': %s", colls[i], err.buf);
				p->errors++;
			}
		}
		add_stats(p, &st);
		sm_sync_stats_release(&st);
	}
	p->over_budget = i < ncolls;
out:
	sm_free(colls);
	sm_artifact_rows_free(rows, nrows);
	sm_strbuf_release(&err);
}

static void *run(void *arg)
{
	struct sm_refresher *r = arg;

	lower_priority();
	for (;;) {
		struct pass p = { 0 };
		struct timespec until;
		int64_t t0, t1;
		bool stop, warm_sync;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(r->interval_ms / 1000);
		until.tv_nsec += (long)(r->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&r->lock);
		while (!r->stop && !r->kick &&
		       pthread_cond_timedwait(&r->cond, &r->lock, &until) != ETIMEDOUT)
			;
		stop = r->stop;
		warm_sync = r->warm_sync;
		r->kick = false;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;

		t0 = sm_time_mono_ns();
		run_pass(r, warm_sync, &p);
		t1 = sm_time_mono_ns();

		pthread_mutex_lock(&r->lock);
		r->stats.runs++;
		r->stats.refreshed += p.refreshed;
		r->stats.removed += p.removed;
		r->stats.errors += p.errors;
		r->stats.over_budget += p.over_budget;
		r->stats.last_duration_us = (t1 - t0) / 1000;
		r->stats.last_run_ms = sm_time_real_ns() / 1000000;
		pthread_mutex_unlock(&r->lock);

		if (p.refreshed || p.removed)
			sm_log_info("refresher: %llu rows refreshed, %llu removed in %.1f ms%s",
				    (unsigned long long)p.refreshed, (unsigned long long)p.removed,
				    (double)(t1 - t0) / 1e6,
				    p.over_budget ? " (over budget, the rest next time)" : "");
		if ((p.refreshed || p.removed) && r->after_refresh)
			r->after_refresh(r->ctx);
		if (r->after_pass) {
			struct sm_refresher_pass done = {
			    .refreshed = p.refreshed,
			    .removed = p.removed,
			    .errors = p.errors,
			    .over_budget = p.over_budget,
			    .seconds = (double)(t1 - t0) / 1e9,
			};

			r->after_pass(r->ctx, &done);
		}
	}
	return NULL;
}

static void refresher_free(struct sm_refresher *r)
{
	sm_cache_close(r->cache);
	sm_home_free(r->home);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	sm_free(r);
}

int sm_refresher_start(const struct sm_refresher_opts *opts, struct sm_refresher **ret,
		       struct strbuf *err)
{
	struct sm_refresher *r;
	pthread_condattr_t ca;
	int rc;

	if (!opts || !opts->home_root)
		return sm_err(err, -EINVAL, "refresher: no home");
	r = sm_calloc(1, sizeof(*r));
	if (!r)
		return sm_err(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = sm_home_open(opts->home_root, &r->home, err);
	if (rc < 0) {
		refresher_free(r);
		return rc;
	}
	r->interval_ms = opts->interval_ms > 0
				 ? opts->interval_ms
				 : sm_config_int(r->home, "server.refresh-interval-seconds",
						 DEFAULT_INTERVAL_S) * 1000;
	if (r->interval_ms <= 0)
		r->interval_ms = DEFAULT_INTERVAL_S * 1000;
	r->budget_ms = opts->budget_ms > 0
			       ? opts->budget_ms
			       : sm_config_int(r->home, "server.refresh-budget-ms", DEFAULT_BUDGET_MS);
	if (r->budget_ms <= 0)
		r->budget_ms = DEFAULT_BUDGET_MS;
	r->warm_sync = opts->warm_sync;
	r->after_refresh = opts->after_refresh;
	r->after_pass = opts->after_pass;
	r->sync_lock = opts->lock;
	r->sync_unlock = opts->unlock;
	r->ctx = opts->ctx;
	r->stats.interval_ms = r->interval_ms;
	r->stats.budget_ms = r->budget_ms;
	rc = pthread_create(&r->thread, NULL, run, r);
	if (rc) {
		refresher_free(r);
		return sm_err(err, -rc, "cannot start the refresher thread: %s", strerror(rc));
	}
	*ret = r;
	return 0;
}

void sm_refresher_stop(struct sm_refresher *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	refresher_free(r);
}

void sm_refresher_set_warm_sync(struct sm_refresher *r, bool on)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->warm_sync = on;
	pthread_mutex_unlock(&r->lock);
}

void sm_refresher_kick(struct sm_refresher *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->kick = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void sm_refresher_get_stats(struct sm_refresher *r, struct sm_refresher_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	*ret = r->stats;
	pthread_mutex_unlock(&r->lock);
}
