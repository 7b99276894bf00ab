/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the REST handlers: invalidation, counts, read repair;
 * parameters are api_params.c, JSON views api_views.c, answers api_answers.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/artifact.h"
#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

/* ---- writes ---- */

void api_invalidate(struct sm_app *app, const char *id)
{
	if (id)
		(void)sm_count_cache_invalidate(app->counts, id);
	else
		sm_count_cache_invalidate_all(app->counts);
	if (app->metrics)
		sm_server_metrics_cache_invalidation(app->metrics, "count");
}

void api_invalidate_tenant(struct sm_app *app, const char *tenant)
{
	struct strbuf k = STRBUF_INIT;

	if (sm_strbuf_addf(&k, "%s\x1f", tenant) < 0)
		sm_count_cache_invalidate_all(app->counts); /* no memory: drop more, never less */
	else
		sm_count_cache_invalidate_prefix(app->counts, k.buf);
	sm_strbuf_release(&k);
	if (app->metrics)
		sm_server_metrics_cache_invalidation(app->metrics, "count");
}

/*
 * Team mode: the process-wide count cache is keyed by "<tenant> <id>" (the
 * same collection id exists in every tenant), the query by the bare ids.
 */
static int tenant_counts(struct sm_app *app, struct sm_cache *cache, const char *const *ids,
			 size_t n, int64_t *counts)
{
	const char *tenant = cache->tenant;
	char **keys;
	struct sm_cache plain = *cache;
	int r;

	if (cache->team_stale) {
		/* the listener is behind this request's revision: the database answers */
		if (app->metrics)
			for (size_t i = 0; i < n; i++)
				sm_server_metrics_cache_miss(app->metrics, "count");
		return sm_store_count_members(cache->store, ids, n, counts, NULL);
	}
	keys = sm_calloc(n, sizeof(*keys));
	r = keys ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct strbuf k = STRBUF_INIT;

		if (sm_strbuf_addf(&k, "%s\x1f%s", tenant, ids[i]) < 0)
			r = -ENOMEM;
		keys[i] = sm_strbuf_detach(&k, NULL);
	}
	plain.tenant = NULL;
	if (r == 0)
		r = api_counts(app, &plain, (const char *const *)keys, n, counts);
	for (size_t i = 0; keys && i < n; i++)
		sm_free(keys[i]);
	sm_free(keys);
	return r;
}

int api_counts(struct sm_app *app, struct sm_cache *cache, const char *const *ids, size_t n,
	       int64_t *counts)
{
	size_t *missing = NULL, nmissing = 0;
	const char **mids = NULL, **qids = NULL;
	int64_t *mcounts = NULL;
	uint64_t gen = 0;
	int r = 0;

	if (n == 0)
		return 0;
	if (cache->tenant)
		return tenant_counts(app, cache, ids, n, counts);
	missing = sm_calloc(n, sizeof(*missing));
	mids = sm_calloc(n, sizeof(*mids));
	mcounts = sm_calloc(n, sizeof(*mcounts));
	qids = sm_calloc(n, sizeof(*qids));
	if (!missing || !mids || !mcounts || !qids) {
		r = -ENOMEM;
		goto out;
	}
	sm_count_cache_get(app->counts, ids, n, counts, missing, &nmissing, &gen);
	if (sm_log_enabled(SM_LOG_DEBUG)) {
		struct sm_count_cache_stats cs;

		sm_count_cache_stats(app->counts, &cs);
		sm_log_debug("count cache: %zu of %zu hit; total hits %llu, misses %llu, hit rate %.3f",
			     n - nmissing, n, (unsigned long long)cs.hits,
			     (unsigned long long)cs.misses,
			     cs.hits + cs.misses ? (double)cs.hits / (double)(cs.hits + cs.misses) : 0.0);
	}
	if (app->metrics) {
		for (size_t i = nmissing; i < n; i++)
			sm_server_metrics_cache_hit(app->metrics, "count");
		for (size_t i = 0; i < nmissing; i++)
			sm_server_metrics_cache_miss(app->metrics, "count");
	}
	if (nmissing == 0)
		goto out;
	for (size_t i = 0; i < nmissing; i++)
		mids[i] = ids[missing[i]];
	/* a team key "<tenant>\x1f<id>" (tenant_counts) queries its id */
	for (size_t i = 0; i < nmissing; i++)
		qids[i] = strrchr(mids[i], '\x1f') ? strrchr(mids[i], '\x1f') + 1 : mids[i];
	r = sm_store_count_members(cache->store, qids, nmissing, mcounts, NULL);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < nmissing; i++)
		counts[missing[i]] = mcounts[i];
	(void)sm_count_cache_set(app->counts, mids, mcounts, nmissing, gen);
	r = 0;
out:
	sm_free(missing);
	sm_free(mids);
	sm_free(qids);
	sm_free(mcounts);
	return r;
}

/* ---- parameters ---- */

/* ---- read repair ---- */

static bool needs_repair(const struct sm_artifact_row *row)
{
	return row->stale || row->synced_at == 0;
}

/* A read repair handed off to a worker; the request is answered again after it. */
struct repair_job {
	struct sm_app *app;
	char **names; /* file collections to warm-sync */
	size_t n;
	sm_http_handler_fn fn;
	void *data;
	bool changed;
};

static void repair_job_free(struct repair_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		sm_free(j->names[i]);
	sm_free(j->names);
	sm_free(j);
}

/* On a worker: every sync of this process runs under the writer lock, one at a time. */
static void repair_work(void *arg)
{
	struct repair_job *j = arg;
	struct sm_ops_ctx ctx;
	struct sm_sync_stats st = {0};
	struct strbuf err = STRBUF_INIT;

	api_ops_ctx_init(j->app, &ctx);
	ctx.invalidate = NULL; /* only when rows changed, below */
	if (sm_ops_refresh(&ctx, (const char *const *)j->names, j->n, 0, &st, &err) < 0)
		sm_log_warn("server: read repair failed: %s", err.buf);
	j->changed = st.created || st.updated || st.removed;
	sm_ops_ctx_release(&ctx);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
}

/* Back on the loop thread: answer the request again, this time from the repaired rows. */
static void repair_done(struct sm_http_req *req, void *arg)
{
	struct repair_job *j = arg;

	if (j->changed)
		api_invalidate(j->app, NULL);
	if (req) {
		struct sm_app_thread *t = req->thread_data;
		int r;

		t->repaired = req;
		r = j->fn(req, j->data);
		t->repaired = NULL;
		if (r != SM_HTTP_DEFERRED && !req->res.status)
			api_fail(req, -EIO, NULL);
	}
	repair_job_free(j);
}

void api_set_rerun(struct sm_http_req *req, sm_http_handler_fn fn, void *data)
{
	struct sm_app_thread *t = req->thread_data;

	t->rerun = fn;
	t->rerun_data = data;
}

/*
 * Rows flagged stale or never synced: their file collections are warm-synced
 * on a worker (a loop thread never waits on a sync or the writer lock), then
 * the request is answered again. Returns API_DEFERRED when handed off, 0
 * when nothing needs it (or the request is the repaired one).
 */
static int repair(struct sm_http_req *req, struct sm_app *app, const struct sm_artifact_row *rows,
		  size_t n)
{
	struct sm_app_thread *t = req->thread_data;
	struct repair_job *j = NULL;
	int r;

	if (t->repaired == req || !t->rerun)
		return 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (!needs_repair(&rows[i]))
			continue;
		if (!j && (!(j = sm_calloc(1, sizeof(*j))) ||
			   !(j->names = sm_calloc(n, sizeof(*j->names))))) {
			sm_free(j);
			return -ENOMEM;
		}
		for (size_t k = 0; k < j->n && !seen; k++)
			seen = !strcmp(j->names[k], rows[i].collection);
		if (!seen && !(j->names[j->n++] = sm_strdup(rows[i].collection))) {
			repair_job_free(j);
			return -ENOMEM;
		}
	}
	if (!j)
		return 0;
	j->app = app;
	j->fn = t->rerun;
	j->data = t->rerun_data;
	if (app->metrics)
		sm_server_metrics_cache_miss(app->metrics, "metadata");
	r = sm_http_defer(req, repair_work, repair_done, j);
	if (r < 0) {
		repair_job_free(j);
		return r;
	}
	return API_DEFERRED;
}

int api_list_fresh(struct sm_http_req *req, struct sm_app *app, struct sm_cache *cache,
		   const struct sm_artifact_query *q, struct sm_artifact_page *ret)
{
	struct sm_artifact_page page = {0};
	int r = sm_store_list_artifacts(cache->store, q, &page, NULL);

	if (r < 0)
		return r;
	r = repair(req, app, page.rows, page.n);
	if (r == 0 && app->metrics)
		sm_server_metrics_cache_hit(app->metrics, "metadata");
	if (r < 0) {
		sm_artifact_page_release(&page);
		return r;
	}
	*ret = page;
	return 0;
}

int api_row_fresh(struct sm_http_req *req, struct sm_app *app, struct sm_cache *cache,
		  struct sm_artifact_row *row)
{
	(void)cache;
	return repair(req, app, row, 1);
}

/* ---- serialized answers of the list endpoints ---- */

#define RESP_MAX_ENTRIES 64

struct resp_entry {
	char token[API_RESP_TOKEN_MAX];
	size_t len;
	char body[]; /* len bytes */
};
