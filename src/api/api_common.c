/* SPDX-License-Identifier: MIT */
/* Helpers shared by the REST handlers: the write bracket, counts, read repair;
 * parameters are api_params.c, JSON views api_views.c, answers api_answers.c. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/artifact.h"
#include "skillmeat/base64.h"
#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

/* ---- writes ---- */

int api_write_begin(struct sm_app *app, struct sm_http_req *req)
{
	struct strbuf err = STRBUF_INIT;
	int r;

	pthread_mutex_lock(&app->write_lock);
	r = sm_home_lock(app->home, &err);
	if (r < 0) {
		pthread_mutex_unlock(&app->write_lock);
		sm_log_error("server: cannot lock the home: %s", err.buf);
		sm_strbuf_release(&err);
		api_fail(req, r, NULL);
		return API_ANSWERED;
	}
	sm_strbuf_release(&err);
	return 0;
}

void api_write_end(struct sm_app *app)
{
	sm_home_unlock(app->home);
	pthread_mutex_unlock(&app->write_lock);
}

void api_invalidate(struct sm_app *app, const char *id)
{
	if (id)
		(void)sm_count_cache_invalidate(app->counts, id);
	else
		sm_count_cache_invalidate_all(app->counts);
	if (app->metrics)
		sm_server_metrics_cache_invalidation(app->metrics, "count");
}

int api_counts(struct sm_app *app, struct sm_cache *cache, const char *const *ids, size_t n,
	       int64_t *counts)
{
	size_t *missing = NULL, nmissing = 0;
	const char **mids = NULL;
	int64_t *mcounts = NULL;
	uint64_t gen = 0;
	int r = 0;

	if (n == 0)
		return 0;
	missing = sm_calloc(n, sizeof(*missing));
	mids = sm_calloc(n, sizeof(*mids));
	mcounts = sm_calloc(n, sizeof(*mcounts));
	if (!missing || !mids || !mcounts) {
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
	r = sm_store_count_members(cache->store, mids, nmissing, mcounts, NULL);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < nmissing; i++)
		counts[missing[i]] = mcounts[i];
	(void)sm_count_cache_set(app->counts, mids, mcounts, nmissing, gen);
	r = 0;
out:
	sm_free(missing);
	sm_free(mids);
	sm_free(mcounts);
	return r;
}

/* ---- read repair ---- */

static bool needs_repair(const struct sm_artifact_row *row)
{
	return row->stale || row->synced_at == 0;
}

/* Warm-sync the file collections of the rows that need it. Returns 1 when one ran. */
static int repair(struct sm_app *app, struct sm_cache *cache, const struct sm_artifact_row *rows,
		  size_t n)
{
	const char **done = NULL;
	size_t ndone = 0;
	bool changed = false;
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++) {
		struct sm_sync_stats st = {0};
		struct strbuf err = STRBUF_INIT;
		bool seen = false;

		if (!needs_repair(&rows[i]))
			continue;
		for (size_t k = 0; k < ndone && !seen; k++)
			seen = !strcmp(done[k], rows[i].collection);
		if (seen)
			continue;
		if (!done && !(done = sm_calloc(n, sizeof(*done)))) {
			r = -ENOMEM;
			break;
		}
		done[ndone++] = rows[i].collection;
		/* every sync of this process runs under the writer lock, one at a time */
		pthread_mutex_lock(&app->write_lock);
		r = sm_cache_sync(cache, rows[i].collection, 0, &st, &err);
		pthread_mutex_unlock(&app->write_lock);
		if (r < 0)
			sm_log_warn("server: read repair of '%s' failed: %s", rows[i].collection,
				    err.buf);
		changed |= st.created || st.updated || st.removed;
		sm_sync_stats_release(&st);
		sm_strbuf_release(&err);
		r = r == -ENOMEM ? r : 0;
	}
	sm_free(done);
	if (changed)
		api_invalidate(app, NULL);
	if (app->metrics && ndone)
		sm_server_metrics_cache_miss(app->metrics, "metadata");
	return r < 0 ? r : ndone > 0;
}

int api_list_fresh(struct sm_app *app, struct sm_cache *cache, const struct sm_artifact_query *q,
		   struct sm_artifact_page *ret)
{
	struct sm_artifact_page page = {0};
	int r = sm_store_list_artifacts(cache->store, q, &page, NULL);

	if (r < 0)
		return r;
	r = repair(app, cache, page.rows, page.n);
	if (r > 0) {
		sm_artifact_page_release(&page);
		r = sm_store_list_artifacts(cache->store, q, &page, NULL);
	} else if (r == 0 && app->metrics) {
		sm_server_metrics_cache_hit(app->metrics, "metadata");
	}
	if (r < 0) {
		sm_artifact_page_release(&page);
		return r;
	}
	*ret = page;
	return 0;
}

int api_row_fresh(struct sm_app *app, struct sm_cache *cache, struct sm_artifact_row *row)
{
	struct sm_artifact_row fresh = {0};
	int r = repair(app, cache, row, 1);

	if (r <= 0)
		return r;
	r = sm_store_get_artifact_by_key(cache->store, row->collection, row->type, row->name,
					 &fresh, NULL);
	if (r < 0)
		return r;
	sm_artifact_row_release(row);
	*row = fresh;
	return 0;
}
