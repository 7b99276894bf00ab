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
#include "skillmeat/ops.h"
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

	api_set_rerun(req, art_list, data);
	if ((r = api_limit(req, ART_DEFAULT_LIMIT, ART_LIMIT_MAX, &q.limit)) < 0 ||
	    (r = api_sort(req, &q)) < 0 || (r = api_artifact_cursor(req, &q)) < 0 ||
	    (r = api_types(req, &q)) < 0 ||
	    (r = split_param(req, "tags", &q.tags, &q.ntags)) < 0 ||
	    (r = split_param(req, "tools", &q.tools, &q.ntools)) < 0 ||
	    (r = list_collection_param(app, req, &q)) < 0)
		return api_fail(req, r, NULL);
	q.search = sm_http_query(req, "search");
	if (q.search && !*q.search)
		q.search = NULL;
	cacheable = api_resp_token(req, tok) == 1;
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

	api_set_rerun(req, art_get, data);
	if ((r = collection_param(app, req, &coll)) < 0 ||
	    (r = api_resolve(req, cache, id, coll, &row)) < 0)
		return api_fail(req, r, NULL);
	r = api_row_fresh(req, app, cache, &row);
	if (r == API_DEFERRED) {
		sm_artifact_row_release(&row);
		return SM_HTTP_DEFERRED;
	}
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

/* DELETE /artifacts/{id}: sm_ops_remove on a worker. */
struct del_job {
	char *id; /* as requested, for the 404 message */
	struct sm_ops_remove req;
	char *collection;
	char *type_name; /* "type:name" inside its collection */
	struct sm_ops_remove_result res;
};

static void del_job_free(void *arg)
{
	struct del_job *j = arg;

	sm_free(j->id);
	sm_free(j->collection);
	sm_free(j->type_name);
	sm_ops_remove_result_release(&j->res);
	sm_free(j);
}

static int del_work(struct sm_ops_ctx *ctx, void *arg, struct strbuf *err)
{
	struct del_job *j = arg;

	j->req.collection = j->collection;
	j->req.id = j->type_name;
	return sm_ops_remove(ctx, &j->req, &j->res, err);
}

static void del_done(struct sm_http_req *req, void *arg, int r, struct strbuf *err)
{
	struct del_job *j = arg;

	if (r == 0) {
		sm_http_no_content(req);
	} else if (r == -ENOENT) {
		(void)sm_http_error(req, 404, "Artifact '%s' not found", j->id);
	} else {
		api_fail(req, r, err->buf);
	}
}

static int art_delete(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_cache *cache = api_cache(req);
	const char *id = sm_http_param(req, "id"), *coll;
	struct sm_artifact_row row = {0};
	struct strbuf tn = STRBUF_INIT;
	struct del_job *j = NULL;
	int r;

	if ((r = collection_param(app, req, &coll)) < 0 ||
	    (r = api_resolve(req, cache, id, coll, &row)) < 0)
		return api_fail(req, r, NULL);
	if ((r = sm_strbuf_addf(&tn, "%s:%s", row.type, row.name)) < 0)
		goto out;
	j = sm_calloc(1, sizeof(*j));
	if (!j) {
		r = -ENOMEM;
		goto out;
	}
	j->id = sm_strdup(id);
	j->collection = sm_strdup(row.collection);
	j->type_name = sm_strbuf_detach(&tn, NULL);
	if (!j->id || !j->collection || !j->type_name) {
		r = -ENOMEM;
		goto out;
	}
	r = api_run_op(req, app, del_work, del_done, j, del_job_free);
	j = NULL;
out:
	if (j)
		del_job_free(j);
	sm_artifact_row_release(&row);
	sm_strbuf_release(&tn);
	if (r < 0)
		return api_fail(req, r, NULL);
	return r;
}

int api_register_artifacts(struct sm_app *app, struct sm_router *router, struct strbuf *err)
{
	int r;

	r = sm_router_add(router, "GET", API_PREFIX "/artifacts", art_list, app, 0, err);
	/* every /artifacts/{id}… route takes "collection/type:name" unencoded too */
	if (r >= 0)
		r = sm_router_qualified(router, API_PREFIX "/artifacts/{id}", err);
	if (r >= 0)
		r = sm_router_add(router, "GET", API_PREFIX "/artifacts/{id}", art_get, app, 0,
				  err);
	if (r >= 0)
		r = sm_router_add(router, "DELETE", API_PREFIX "/artifacts/{id}", art_delete, app,
				  0, err);
	return r < 0 ? r : 0;
}
