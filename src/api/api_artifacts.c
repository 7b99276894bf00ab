/* SPDX-License-Identifier: MIT */
/* /api/v1/artifacts (spec/API.md): DB-first reads, file-first delete. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

#define ART_LIMIT_MAX 500
#define ART_DEFAULT_LIMIT 20

/* ?collection: NULL when absent; unknown → 404, malformed → 400 (API_ANSWERED). */
static int collection_param(struct sm_app *app, struct sm_http_req *req, const char **ret)
{
	const char *c = sm_http_query(req, "collection");

	*ret = NULL;
	if (!c)
		return 0;
	if (sm_collection_name_check(c, NULL) < 0) {
		(void)sm_http_error(req, 400, "Invalid collection name '%s'", c);
		return API_ANSWERED;
	}
	if (!sm_collection_exists(app->home, c)) {
		(void)sm_http_error(req, 404, "Collection '%s' not found", c);
		return API_ANSWERED;
	}
	*ret = c;
	return 0;
}

/*
 * ?collection of the list: a file collection name, or (as the original) a
 * user collection id. Unknown → 404.
 */
static int list_collection_param(struct sm_app *app, struct sm_http_req *req,
				 struct sm_artifact_query *q)
{
	const char *c = sm_http_query(req, "collection");
	struct sm_user_collection_row row = {0};
	int r;

	if (!c || sm_collection_exists(app->home, c))
		return collection_param(app, req, &q->collection);
	r = sm_store_get_user_collection(api_cache(req)->store, c, &row, NULL);
	sm_user_collection_row_release(&row);
	if (r == -ENOENT || r == -EINVAL)
		return collection_param(app, req, &q->collection); /* 400 or 404 */
	if (r < 0)
		return r;
	q->user_collection_id = c;
	return 0;
}

static int split_param(struct sm_http_req *req, const char *name, const char *const **ret,
		       size_t *ret_n)
{
	const char *s = sm_http_query(req, name);

	if (!s)
		return 0;
	return api_split(req, s, (const char ***)ret, ret_n);
}

static json_t *art_item(const struct sm_artifact_row *row, const char *key, json_t *colls,
		       void *ctx)
{
	json_t *o = api_artifact_response(row, key, colls);

	if (o && api_add_deployments(ctx, row, o) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int art_list(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_cache *cache = api_cache(req);
	struct sm_artifact_query q = {0};
	char tok[API_RESP_TOKEN_MAX];
	bool cacheable;
	int r;

	if ((r = api_limit(req, ART_DEFAULT_LIMIT, ART_LIMIT_MAX, &q.limit)) < 0 ||
	    (r = api_artifact_cursor(req, &q)) < 0 || (r = api_types(req, &q)) < 0 ||
	    (r = split_param(req, "tags", &q.tags, &q.ntags)) < 0 ||
	    (r = split_param(req, "tools", &q.tools, &q.ntools)) < 0 ||
	    (r = list_collection_param(app, req, &q)) < 0)
		return api_fail(req, r, NULL);
	q.search = sm_http_query(req, "search");
	if (q.search && !*q.search)
		q.search = NULL;
	cacheable = api_resp_token(cache, tok) == 1;
	if (cacheable && api_resp_get(req, tok, "a"))
		return SM_HTTP_DONE;
	return api_answer_page(req, app, &q, "a", art_item, cache, tok, cacheable);
}

static int art_get(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_cache *cache = api_cache(req);
	const char *id = sm_http_param(req, "id"), *coll;
	struct sm_artifact_row row = {0};
	struct strbuf key = STRBUF_INIT;
	json_t *colls = NULL, *o;
	int r;

	if ((r = collection_param(app, req, &coll)) < 0 ||
	    (r = api_resolve(req, cache, id, coll, &row)) < 0)
		return api_fail(req, r, NULL);
	r = api_row_fresh(app, cache, &row);
	if (r == -ENOENT) {
		(void)sm_http_error(req, 404, "Artifact '%s' not found", id);
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	/* the row's own revision, and the DB's for the counts in collections[] */
	if (api_revision_etag(req, cache, row.row_hash)) {
		r = 0;
		goto out;
	}
	if ((r = api_collections_of(app, cache, &row, 1, &colls)) < 0 ||
	    (r = api_artifact_key(cache, &row, &key)) < 0)
		goto out;
	o = api_artifact_response(&row, key.buf, colls);
	if (o && api_add_deployments(cache, &row, o) < 0) {
		json_decref(o);
		o = NULL;
	}
	r = o ? sm_http_json(req, 200, o) : -ENOMEM;
out:
	sm_artifact_row_release(&row);
	sm_strbuf_release(&key);
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

struct del_job {
	struct sm_app *app;
	char *id; /* as requested, for the 404 message */
	char *collection;
	char *type_name; /* "type:name" inside its collection */
	char *uuid;
	char *key; /* as user-collections.toml may name it */
	int r;
	struct strbuf err;
};

static void del_job_free(struct del_job *j)
{
	sm_free(j->id);
	sm_free(j->collection);
	sm_free(j->type_name);
	sm_free(j->uuid);
	sm_free(j->key);
	sm_strbuf_release(&j->err);
	sm_free(j);
}

static void del_work(void *arg)
{
	struct del_job *j = arg;
	struct sm_app *app = j->app;
	struct sm_cache *cache = NULL;
	struct sm_collection *c = NULL;
	struct sm_user_collections *f = NULL;
	struct sm_sync_stats st = {0};
	long idx = -1;
	int r, dropped = 0;

	pthread_mutex_lock(&app->write_lock);
	r = sm_home_lock(app->home, &j->err);
	if (r < 0)
		goto unlock;
	r = sm_cache_open(app->home, &cache, &j->err);
	if (r == 0)
		r = sm_collection_open(app->home, j->collection, &c, &j->err);
	if (r == 0) {
		idx = sm_collection_resolve(c, j->type_name, &j->err);
		r = idx < 0 ? (int)idx : 0;
	}
	if (r == 0 && (r = sm_user_collections_load(app->home->root, &f, &j->err)) == -EBADMSG) {
		sm_log_error("server: %s", j->err.buf);
		r = -EIO;
	}
	if (r == 0)
		r = dropped = sm_cache_drop_members(cache, f, j->uuid, j->key, &j->err);
	if (r >= 0)
		r = sm_collection_remove(c, (size_t)idx, false, &j->err);
	if (r >= 0)
		r = sm_collection_commit(c, &j->err);
	if (r >= 0 && dropped > 0 && sm_user_collections_save(f, &j->err) < 0)
		sm_log_error("server: '%s' removed, but user-collections.toml kept it: %s", j->id,
			     j->err.buf);
	if (r >= 0 && sm_cache_sync_open(cache, c, 0, &st, &j->err) < 0)
		sm_log_warn("server: the cache was not updated after removing '%s': %s", j->id,
			    j->err.buf);
	sm_home_unlock(app->home);
unlock:
	pthread_mutex_unlock(&app->write_lock);
	j->r = r < 0 ? r : 0;
	sm_sync_stats_release(&st);
	sm_user_collections_free(f);
	sm_collection_free(c);
	sm_cache_close(cache);
}

static void del_done(struct sm_http_req *req, void *arg)
{
	struct del_job *j = arg;

	/* whatever happened, another connection may have committed */
	api_invalidate(j->app, NULL);
	if (!req)
		goto out;
	if (j->r == 0)
		sm_http_no_content(req);
	else if (j->r == -ENOENT)
		(void)sm_http_error(req, 404, "Artifact '%s' not found", j->id);
	else
		api_fail(req, j->r, j->err.buf);
out:
	del_job_free(j);
}

static int art_delete(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_cache *cache = api_cache(req);
	const char *id = sm_http_param(req, "id"), *coll;
	struct sm_artifact_row row = {0};
	struct strbuf key = STRBUF_INIT, tn = STRBUF_INIT;
	struct del_job *j = NULL;
	int r;

	if ((r = collection_param(app, req, &coll)) < 0 ||
	    (r = api_resolve(req, cache, id, coll, &row)) < 0)
		return api_fail(req, r, NULL);
	if ((r = api_artifact_key(cache, &row, &key)) < 0 ||
	    (r = sm_strbuf_addf(&tn, "%s:%s", row.type, row.name)) < 0)
		goto out;
	j = sm_calloc(1, sizeof(*j));
	if (!j) {
		r = -ENOMEM;
		goto out;
	}
	j->app = app;
	j->err = (struct strbuf)STRBUF_INIT;
	j->id = sm_strdup(id);
	j->collection = sm_strdup(row.collection);
	j->type_name = sm_strbuf_detach(&tn, NULL);
	j->uuid = sm_strdup(row.uuid);
	j->key = sm_strbuf_detach(&key, NULL);
	if (!j->id || !j->collection || !j->type_name || !j->uuid || !j->key) {
		r = -ENOMEM;
		goto out;
	}
	r = sm_http_defer(req, del_work, del_done, j);
	if (r == 0) {
		j = NULL;
		r = SM_HTTP_DEFERRED;
	}
out:
	if (j)
		del_job_free(j);
	sm_artifact_row_release(&row);
	sm_strbuf_release(&key);
	sm_strbuf_release(&tn);
	if (r == SM_HTTP_DEFERRED)
		return r;
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

int api_register_artifacts(struct sm_app *app, struct sm_router *router, struct strbuf *err)
{
	int r;

	r = sm_router_add(router, "GET", API_PREFIX "/artifacts", art_list, app, 0, err);
	if (r >= 0)
		r = sm_router_add(router, "GET", API_PREFIX "/artifacts/{id}", art_get, app, 0,
				  err);
	if (r >= 0)
		r = sm_router_add(router, "DELETE", API_PREFIX "/artifacts/{id}", art_delete, app,
				  0, err);
	return r < 0 ? r : 0;
}
