/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/user-collections (spec/API.md): user-collections.toml is the
 * truth; every write is writer lock → home lock → file saved atomically →
 * cache synced from it → counts invalidated after the commit.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

#define UC_LIMIT_MAX 100
#define UC_DEFAULT_LIMIT 20
/* artifact_ids of one POST */
#define UC_MAX_IDS 1000

static int not_found(struct sm_http_req *req, const char *id)
{
	(void)sm_http_error(req, 404, "Collection '%s' not found", id);
	return SM_HTTP_DONE;
}

static int default_conflict(struct sm_http_req *req, const char *what)
{
	(void)sm_http_error(req, 409,
			    "The default collection cannot be %s: it holds every artifact of the "
			    "home",
			    what);
	return SM_HTTP_DONE;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		sm_free(v[i]);
	sm_free(v);
}

/* A collection as returned: the stored row and its count. */
static int respond_row(struct sm_app *app, struct sm_http_req *req, int status, const char *id,
		       bool groups)
{
	struct sm_cache *cache = api_cache(req);
	struct sm_user_collection_row row = {0};
	int64_t count = -1;
	json_t *o;
	int r;

	r = sm_store_get_user_collection(cache->store, id, &row, NULL);
	if (r == -ENOENT)
		return not_found(req, id);
	if (r < 0)
		return api_fail(req, r, NULL);
	r = api_counts(app, cache, (const char *const *)&row.id, 1, &count);
	if (r < 0) {
		sm_user_collection_row_release(&row);
		return api_fail(req, r, NULL);
	}
	o = api_user_collection_json(&row, count);
	sm_user_collection_row_release(&row);
	if (o && groups)
		json_object_set_new(o, "groups", json_array());
	if (!o)
		return api_fail(req, -ENOMEM, NULL);
	return sm_http_json(req, status, o);
}

/* ---- GET /user-collections ---- */

static int uc_list(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_cache *cache = api_cache(req);
	struct sm_user_collection_query q = {0};
	struct sm_user_collection_page page = {0};
	const char **ids = NULL;
	int64_t *counts = NULL;
	json_t *items = NULL, *o;
	char *after;
	int r;

	if ((r = api_limit(req, UC_DEFAULT_LIMIT, UC_LIMIT_MAX, &q.limit)) < 0 ||
	    (r = api_cursor(req, &after)) < 0)
		return api_fail(req, r, NULL);
	q.after_id = after;
	q.search = sm_http_query(req, "search");
	q.collection_type = sm_http_query(req, "collection_type");
	if (api_revision_etag(req, cache, "uc"))
		return SM_HTTP_DONE;
	r = sm_store_list_user_collections(cache->store, &q, &page, NULL);
	if (r < 0)
		return api_fail(req, r, NULL);
	ids = sm_calloc(page.n + 1, sizeof(*ids));
	counts = sm_calloc(page.n + 1, sizeof(*counts));
	items = json_array();
	if (!ids || !counts || !items) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < page.n; i++)
		ids[i] = page.rows[i].id;
	r = api_counts(app, cache, ids, page.n, counts);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < page.n; i++)
		json_array_append_new(items, api_user_collection_json(&page.rows[i], counts[i]));
	o = json_pack("{s:O, s:o}", "items", items, "page_info",
		      api_page_info(page.n ? page.rows[0].id : NULL,
				    page.n ? page.rows[page.n - 1].id : NULL, page.has_next,
				    after != NULL, page.total_count));
	r = o ? sm_http_json(req, 200, o) : -ENOMEM;
out:
	json_decref(items);
	sm_free(ids);
	sm_free(counts);
	sm_user_collection_page_release(&page);
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

/* ---- bodies ---- */

struct uc_body {
	json_t *json;
	struct sm_user_collection_fields f;
	bool any;
};

/* One optional string field: absent or null → NULL; else a string (422 otherwise). */
static int body_str(struct sm_http_req *req, json_t *obj, const char *key, size_t max,
		    const char **ret, bool *any)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return api_422(req, key, "string_type", "Input should be a valid string");
	if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
		return api_422(req, key, "string_too_long",
			       "String too long or holding a NUL character");
	*ret = json_string_value(v);
	*any = true;
	return 0;
}

static int parse_body(struct sm_http_req *req, struct uc_body *b, bool create)
{
	int r;

	memset(b, 0, sizeof(*b));
	if (sm_http_json_body(req, &b->json) < 0)
		return API_ANSWERED;
	if (!json_is_object(b->json))
		return api_422(req, "body", "dict_type", "Input should be a valid dictionary");
	if ((r = body_str(req, b->json, "name", SM_UC_NAME_MAX, &b->f.name, &b->any)) < 0 ||
	    (r = body_str(req, b->json, "description", SM_UC_DESCRIPTION_MAX, &b->f.description,
			  &b->any)) < 0 ||
	    (r = body_str(req, b->json, "collection_type", SM_UC_LABEL_MAX, &b->f.collection_type,
			  &b->any)) < 0 ||
	    (r = body_str(req, b->json, "context_category", SM_UC_LABEL_MAX, &b->f.context_category,
			  &b->any)) < 0)
		return r;
	if (create && !b->f.name)
		return api_422(req, "name", "missing", "Field required");
	if (b->f.name && !*b->f.name)
		return api_422(req, "name", "string_too_short",
			       "String should have at least 1 character");
	return 0;
}

/* Map a user_collections.h error of a write. */
static int write_error(struct sm_http_req *req, int r, const struct strbuf *err, const char *name)
{
	if (r == -EEXIST && name) {
		(void)sm_http_error(req, 409, "Collection with name '%s' already exists", name);
		return SM_HTTP_DONE;
	}
	if (r == -EINVAL) {
		(void)api_422(req, "name", "value_error", err->buf);
		return SM_HTTP_DONE;
	}
	return api_fail(req, r, err->buf);
}

/* ---- writes: src/ops on a worker (api_run_op) ---- */

/* One user-collection write: its input, and the operation's result. */
struct uc_job {
	struct sm_app *app;
	char *id;      /* the collection id of the path, or NULL (create) */
	char *aid;     /* DELETE .../artifacts/{artifact_id} */
	struct uc_body b;
	json_t *ids;   /* POST .../artifacts: artifact_ids */
	struct sm_ops_uc_result res;
};

static void uc_job_free(void *arg)
{
	struct uc_job *j = arg;

	sm_free(j->id);
	sm_free(j->aid);
	json_decref(j->b.json);
	json_decref(j->ids);
	sm_ops_uc_result_release(&j->res);
	sm_free(j);
}

static struct uc_job *uc_job_new(struct sm_app *app, const char *id)
{
	struct uc_job *j = sm_calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->app = app;
	if (id && !(j->id = sm_strdup(id))) {
		sm_free(j);
		return NULL;
	}
	return j;
}

/*
 * Answer a failed operation: -ENOENT is the collection of the path; a
 * malformed file is api_fail's (a 500 naming the file and the line).
 */
static void uc_op_fail(struct sm_http_req *req, struct uc_job *j, int r, const struct strbuf *err)
{
	if (r == -ENOENT && j->id) {
		not_found(req, j->id);
	} else {
		write_error(req, r, err, j->b.f.name);
	}
}

/* ---- POST /user-collections ---- */

static int create_work(struct sm_ops_ctx *ctx, void *arg, struct strbuf *err)
{
	struct uc_job *j = arg;

	return sm_ops_uc_create(ctx, &j->b.f, &j->res, err);
}

static void create_done(struct sm_http_req *req, void *arg, int r, struct strbuf *err)
{
	struct uc_job *j = arg;

	if (r < 0)
		uc_op_fail(req, j, r, err);
	else
		respond_row(j->app, req, 201, j->res.id, false);
}

static int uc_create(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct uc_job *j = uc_job_new(app, NULL);
	int r;

	if (!j)
		return api_fail(req, -ENOMEM, NULL);
	r = parse_body(req, &j->b, true);
	if (r == 0 && !strcmp(j->b.f.name, SM_UC_DEFAULT_NAME)) {
		(void)sm_http_error(req, 409, "Collection with name '%s' already exists",
				    j->b.f.name);
		r = API_ANSWERED;
	}
	if (r < 0) {
		uc_job_free(j);
		return r == API_ANSWERED ? SM_HTTP_DONE : api_fail(req, r, NULL);
	}
	return api_run_op(req, app, create_work, create_done, j, uc_job_free);
}

/* ---- GET /user-collections/{id} ---- */

static int uc_get(struct sm_http_req *req, void *data)
{
	const char *id = sm_http_param(req, "id");
	struct sm_user_collection_row row = {0};
	int r = sm_store_get_user_collection(api_cache(req)->store, id, &row, NULL);

	sm_user_collection_row_release(&row);
	if (r == -ENOENT)
		return not_found(req, id);
	if (r < 0)
		return api_fail(req, r, NULL);
	if (api_revision_etag(req, api_cache(req), "uc1"))
		return SM_HTTP_DONE;
	return respond_row(data, req, 200, id, true);
}

/* ---- PUT /user-collections/{id} ---- */

static int update_work(struct sm_ops_ctx *ctx, void *arg, struct strbuf *err)
{
	struct uc_job *j = arg;
	struct sm_ops_uc_ref ref = { .ref = j->id, .by_id = true };

	return sm_ops_uc_update(ctx, &ref, &j->b.f, &j->res, err);
}

static void update_done(struct sm_http_req *req, void *arg, int r, struct strbuf *err)
{
	struct uc_job *j = arg;

	if (r < 0)
		uc_op_fail(req, j, r, err);
	else
		respond_row(j->app, req, 200, j->id, false);
}

static int uc_update(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	const char *id = sm_http_param(req, "id");
	struct uc_job *j = uc_job_new(app, id);
	int r;

	if (!j)
		return api_fail(req, -ENOMEM, NULL);
	r = parse_body(req, &j->b, false);
	if (r < 0)
		goto out;
	if (!j->b.any) {
		(void)sm_http_error(req, 400, "At least one update parameter must be provided");
		r = API_ANSWERED;
	} else if (api_is_default(id)) {
		default_conflict(req, "modified");
		r = API_ANSWERED;
	} else if (j->b.f.name && !strcmp(j->b.f.name, SM_UC_DEFAULT_NAME)) {
		(void)sm_http_error(req, 409, "Collection with name '%s' already exists",
				    j->b.f.name);
		r = API_ANSWERED;
	}
out:
	if (r < 0) {
		uc_job_free(j);
		return r == API_ANSWERED ? SM_HTTP_DONE : api_fail(req, r, NULL);
	}
	return api_run_op(req, app, update_work, update_done, j, uc_job_free);
}

/* ---- DELETE /user-collections/{id} ---- */

static int delete_work(struct sm_ops_ctx *ctx, void *arg, struct strbuf *err)
{
	struct uc_job *j = arg;
	struct sm_ops_uc_ref ref = { .ref = j->id, .by_id = true };

	return sm_ops_uc_delete(ctx, &ref, NULL, NULL, &j->res, err);
}

static void no_content_done(struct sm_http_req *req, void *arg, int r, struct strbuf *err)
{
	if (r < 0)
		uc_op_fail(req, arg, r, err);
	else
		sm_http_no_content(req);
}

static int uc_delete(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	const char *id = sm_http_param(req, "id");
	struct uc_job *j;

	if (api_is_default(id))
		return default_conflict(req, "deleted");
	if (!(j = uc_job_new(app, id)))
		return api_fail(req, -ENOMEM, NULL);
	return api_run_op(req, app, delete_work, no_content_done, j, uc_job_free);
}

/* ---- GET /user-collections/{id}/artifacts ---- */

static json_t *uca_item(const struct sm_artifact_row *row, const char *key, json_t *colls,
		       void *ctx)
{
	json_t *o = api_artifact_summary(row, key, colls);

	if (o && *(const bool *)ctx)
		json_object_set_new(o, "groups", json_array()); /* no groups yet */
	return o;
}

static int uc_artifacts(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	const char *id = sm_http_param(req, "id"), *tags = sm_http_query(req, "tags");
	const char *ig = sm_http_query(req, "include_groups");
	bool groups = ig && (!strcmp(ig, "true") || !strcmp(ig, "1"));
	struct sm_cache *cache = api_cache(req);
	struct sm_artifact_query q = {0};
	struct sm_user_collection_row row = {0};
	char tok[API_RESP_TOKEN_MAX];
	bool cacheable;
	int r;

	api_set_rerun(req, uc_artifacts, data);
	if ((r = api_limit(req, UC_DEFAULT_LIMIT, UC_LIMIT_MAX, &q.limit)) < 0 ||
	    (r = api_sort(req, &q)) < 0 || (r = api_artifact_cursor(req, &q)) < 0 ||
	    (r = api_types(req, &q)) < 0)
		return api_fail(req, r, NULL);
	if (tags && (r = api_split(req, tags, (const char ***)&q.tags, &q.ntags)) < 0)
		return api_fail(req, r, NULL);
	q.search = sm_http_query(req, "search");
	if (q.search && !*q.search)
		q.search = NULL;
	q.user_collection_id = id;
	/* a cached answer is only ever for this revision: the collection existed then */
	cacheable = api_resp_token(req, tok) == 1;
	if (cacheable && api_resp_get(req, tok, "uca"))
		return SM_HTTP_DONE;
	r = sm_store_get_user_collection(cache->store, id, &row, NULL);
	sm_user_collection_row_release(&row);
	if (r == -ENOENT)
		return not_found(req, id);
	if (r < 0)
		return api_fail(req, r, NULL);
	return api_answer_page(req, app, &q, "uca", uca_item, &groups, tok, cacheable);
}

/* ---- membership ---- */

/* Collection must exist (404) and not be the default one (409). */
static int member_target(struct sm_http_req *req, const char *id)
{
	struct sm_user_collection_row row = {0};
	int r;

	if (api_is_default(id)) {
		(void)sm_http_error(req, 409,
				    "The default collection holds every artifact of the home: its "
				    "members cannot be changed");
		return API_ANSWERED;
	}
	r = sm_store_get_user_collection(api_cache(req)->store, id, &row, NULL);
	sm_user_collection_row_release(&row);
	if (r == -ENOENT) {
		not_found(req, id);
		return API_ANSWERED;
	}
	return r;
}

/* A malformed or ambiguous artifact id is a 400 with the reason. */
static void member_fail(struct sm_http_req *req, struct uc_job *j, int r, struct strbuf *err)
{
	if (r == -EINVAL || r == -EEXIST)
		(void)sm_http_error(req, 400, "%s", err->buf);
	else
		uc_op_fail(req, j, r, err);
}

static int add_work(struct sm_ops_ctx *ctx, void *arg, struct strbuf *err)
{
	struct uc_job *j = arg;
	struct sm_ops_uc_ref ref = { .ref = j->id, .by_id = true };
	size_t n = json_array_size(j->ids);
	const char **ids = sm_calloc(n + 1, sizeof(*ids));
	int r;

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ids[i] = json_string_value(json_array_get(j->ids, i));
	r = sm_ops_uc_add_members(ctx, &ref, ids, n, SM_OPS_UNKNOWN_LISTED, &j->res, err);
	sm_free(ids);
	return r;
}

static void add_done(struct sm_http_req *req, void *arg, int r, struct strbuf *err)
{
	struct uc_job *j = arg;
	const char *id = j->id;
	int64_t total = 0;
	json_t *nf, *o;

	if (r < 0) {
		member_fail(req, j, r, err);
		return;
	}
	r = sm_store_count_members(api_cache(req)->store, &id, 1, &total, NULL);
	if (r < 0) {
		api_fail(req, r, NULL);
		return;
	}
	nf = json_array();
	for (size_t i = 0; nf && i < j->res.n_not_found; i++)
		json_array_append_new(nf, json_string(j->res.not_found[i]));
	o = nf ? json_pack("{s:s, s:I, s:I, s:I, s:o}", "collection_id", id, "added_count",
			   (json_int_t)j->res.changed, "already_present_count",
			   (json_int_t)j->res.present, "total_artifacts", (json_int_t)total,
			   "not_found", nf)
	       : NULL;
	if (!o)
		api_fail(req, -ENOMEM, NULL);
	else
		sm_http_json(req, j->res.changed ? 201 : 200, o);
}

static int uc_add_artifacts(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	const char *id = sm_http_param(req, "id");
	struct uc_job *j = NULL;
	json_t *body = NULL, *ids, *v;
	size_t i;
	int r;

	if (sm_http_json_body(req, &body) < 0)
		return SM_HTTP_DONE;
	ids = json_object_get(body, "artifact_ids");
	if (!json_is_object(body) || !ids) {
		r = api_422(req, "artifact_ids", "missing", "Field required");
		goto out;
	}
	if (!json_is_array(ids) || json_array_size(ids) == 0) {
		r = api_422(req, "artifact_ids", "too_short", "List should have at least 1 item");
		goto out;
	}
	if (json_array_size(ids) > UC_MAX_IDS) {
		r = api_422(req, "artifact_ids", "too_long", "List should have at most 1000 items");
		goto out;
	}
	for (i = 0; i < json_array_size(ids); i++) {
		v = json_array_get(ids, i);
		if (!json_is_string(v) || !json_string_length(v)) {
			r = api_422(req, "artifact_ids", "string_type",
				    "Input should be a non-empty string");
			goto out;
		}
	}
	if ((r = member_target(req, id)) < 0)
		goto out;
	if (!(j = uc_job_new(app, id))) {
		r = -ENOMEM;
		goto out;
	}
	j->ids = json_incref(ids);
	json_decref(body);
	return api_run_op(req, app, add_work, add_done, j, uc_job_free);
out:
	json_decref(body);
	if (r < 0 && r != API_ANSWERED)
		api_fail(req, r, NULL);
	return SM_HTTP_DONE;
}

static int remove_work(struct sm_ops_ctx *ctx, void *arg, struct strbuf *err)
{
	struct uc_job *j = arg;
	struct sm_ops_uc_ref ref = { .ref = j->id, .by_id = true };
	const char *ids[] = { j->aid };

	return sm_ops_uc_remove_members(ctx, &ref, ids, 1, false, &j->res, err);
}

static void remove_done(struct sm_http_req *req, void *arg, int r, struct strbuf *err)
{
	if (r < 0)
		member_fail(req, arg, r, err);
	else
		sm_http_no_content(req);
}

static int uc_remove_artifact(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	const char *id = sm_http_param(req, "id"), *aid = sm_http_param(req, "artifact_id");
	struct uc_job *j;
	int r;

	if ((r = member_target(req, id)) < 0)
		return r == API_ANSWERED ? SM_HTTP_DONE : api_fail(req, r, NULL);
	if (!(j = uc_job_new(app, id)) || !(j->aid = sm_strdup(aid))) {
		if (j)
			uc_job_free(j);
		return api_fail(req, -ENOMEM, NULL);
	}
	return api_run_op(req, app, remove_work, remove_done, j, uc_job_free);
}

/* ---- refresh-cache, migrate-to-default (worker thread) ---- */

enum job_kind {
	JOB_REFRESH_ONE,
	JOB_REFRESH_ALL,
	JOB_MIGRATE,
};

struct job {
	struct sm_app *app;
	enum job_kind kind;
	char *id; /* JOB_REFRESH_ONE */
	int r;
	struct strbuf err;
	struct sm_sync_stats stats;
	size_t collections; /* user collections */
	int64_t before, after, total;
};

static void job_free(struct job *j)
{
	sm_free(j->id);
	sm_strbuf_release(&j->err);
	sm_sync_stats_release(&j->stats);
	sm_free(j);
}

/* The file collections holding members of a user collection (sorted, distinct). */
static int member_collections(struct sm_cache *c, const char *id, char ***ret, size_t *ret_n)
{
	struct sm_artifact_query q = {
	    .user_collection_id = id, .limit = SM_STORE_MAX_LIMIT, .no_total = true};
	struct sm_artifact_page page = {0};
	char **v = NULL, *after_t = NULL, *after_n = NULL, *after_c = NULL;
	size_t n = 0;
	int r;

	for (;;) {
		q.after_type = after_t;
		q.after_name = after_n;
		q.after_collection = after_c;
		r = sm_store_list_artifacts(c->store, &q, &page, NULL);
		if (r < 0)
			break;
		for (size_t i = 0; i < page.n && r >= 0; i++) {
			bool seen = false;
			char **nv;

			for (size_t k = 0; k < n && !seen; k++)
				seen = !strcmp(v[k], page.rows[i].collection);
			if (seen)
				continue;
			nv = sm_reallocarray(v, n + 1, sizeof(*v));
			if (!nv || !(nv[n] = sm_strdup(page.rows[i].collection))) {
				if (nv)
					v = nv;
				r = -ENOMEM;
				break;
			}
			v = nv;
			n++;
		}
		sm_free(after_t);
		sm_free(after_n);
		sm_free(after_c);
		after_t = after_n = after_c = NULL;
		if (r >= 0 && page.has_next && page.n) {
			const struct sm_artifact_row *last = &page.rows[page.n - 1];

			after_t = sm_strdup(last->type);
			after_n = sm_strdup(last->name);
			after_c = sm_strdup(last->collection);
			if (!after_t || !after_n || !after_c)
				r = -ENOMEM;
		}
		sm_artifact_page_release(&page);
		if (r < 0 || !after_t)
			break;
	}
	sm_free(after_t);
	sm_free(after_n);
	sm_free(after_c);
	if (r < 0) {
		strv_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/*
 * On a worker with the operation context of the request (api_run_op): the
 * files and the SQLite index, or in team mode the team truth of the
 * request's tenant, whose sync fills the default collection
 * (src/ops/truth_team.c).
 */
static int job_work(struct sm_ops_ctx *ctx, void *arg, struct strbuf *err)
{
	struct job *j = arg;
	struct sm_app *app = j->app;
	struct sm_cache *c = NULL;
	struct sm_user_collection_query uq = {.limit = 1};
	struct sm_user_collection_page up = {0};
	struct sm_cache_status cs = {0};
	const char *def = SM_UC_DEFAULT_ID;
	int64_t t0 = sm_time_mono_ns();

	(void)err; /* the job's own err is answered */
	c = ctx->truth.ops->index(&ctx->truth, &j->err);
	j->r = c ? 0 : -EIO;
	if (j->r < 0)
		goto out;
	if (j->kind == JOB_MIGRATE)
		j->r = sm_store_count_members(c->store, &def, 1, &j->before, &j->err);
	if (j->r < 0)
		goto out;
	if (j->kind == JOB_REFRESH_ONE && !api_is_default(j->id)) {
		char **colls = NULL;
		size_t n = 0;

		j->r = member_collections(c, j->id, &colls, &n);
		if (j->r >= 0 && n)
			j->r = sm_ops_refresh(ctx, (const char *const *)colls, n,
					      SM_SYNC_REFRESH_STALE, &j->stats, &j->err);
		strv_free(colls, n);
	} else {
		j->r = sm_ops_refresh(ctx, NULL, 0,
				      j->kind == JOB_MIGRATE ? 0 : SM_SYNC_REFRESH_STALE,
				      &j->stats, &j->err);
	}
	if (j->r < 0)
		goto out;
	if (j->kind == JOB_MIGRATE)
		j->r = sm_store_count_members(c->store, &def, 1, &j->after, &j->err);
	if (j->r >= 0)
		j->r = sm_store_cache_status(c->store, NULL, sm_time_real_ns() / 1000000,
					     app->stale_ttl_ms, &cs, &j->err);
	j->total = cs.total;
	if (j->r >= 0 && app->metrics)
		sm_metric_set(sm_metric_get(app->metrics->cache_stale), (double)cs.stale);
	if (j->r >= 0 && j->kind == JOB_REFRESH_ALL) {
		j->r = sm_store_list_user_collections(c->store, &uq, &up, &j->err);
		j->collections = j->r >= 0 ? (size_t)up.total_count : 0;
		sm_user_collection_page_release(&up);
	}
out:
	/* an artifact that could not be read makes the refresh an error too */
	if (app->metrics)
		sm_server_metrics_refresh(app->metrics,
					  j->r < 0 || j->stats.errors ? "error" : "success",
					  (double)(sm_time_mono_ns() - t0) / 1e9);
	return j->r < 0 ? j->r : 0;
}

static json_t *messages_json(const struct sm_sync_stats *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->nmessages; i++)
		json_array_append_new(a, json_string(s->messages[i]));
	return a;
}

/* The answer (the operation dropped the counts it changed: sm_ops_refresh). */
static void job_done(struct sm_http_req *req, void *arg, int r, struct strbuf *err)
{
	struct job *j = arg;
	const struct sm_sync_stats *s = &j->stats;
	json_t *o = NULL, *errs;

	(void)r;
	(void)err;
	if (j->r < 0) {
		sm_log_error("server: refresh failed: %s", j->err.buf);
		if (j->kind == JOB_REFRESH_ALL)
			o = json_pack("{s:s, s:s}", "error", "batch_cache_refresh_failed",
				      "message", "Batch cache refresh failed");
		if (o)
			(void)sm_http_error_detail(req, 500, o);
		else
			api_fail(req, j->r, NULL);
		return;
	}
	switch (j->kind) {
	case JOB_REFRESH_ONE:
		o = json_pack("{s:s, s:I, s:I, s:o}", "collection_id", j->id, "updated_count",
			      (json_int_t)(s->created + s->updated), "skipped_count",
			      (json_int_t)s->unchanged, "errors", messages_json(s));
		break;
	case JOB_REFRESH_ALL:
		errs = json_array();
		if (errs && s->nmessages)
			json_array_append_new(errs, json_pack("{s:s, s:o}", "collection_id",
							      SM_UC_DEFAULT_ID, "errors",
							      messages_json(s)));
		o = json_pack("{s:b, s:I, s:I, s:I, s:o, s:f}", "success", 1,
			      "collections_refreshed", (json_int_t)j->collections, "total_updated",
			      (json_int_t)(s->created + s->updated), "total_skipped",
			      (json_int_t)s->unchanged, "errors", errs, "duration_seconds",
			      round(s->duration_seconds * 100) / 100);
		break;
	case JOB_MIGRATE: {
		int64_t migrated = j->after > j->before ? j->after - j->before : 0;

		o = json_pack(
		    "{s:b, s:s, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:o}, s:i, s:{}}", "success", 1,
		    "message", "Artifacts migrated to the default collection", "migrated_count",
		    (json_int_t)migrated, "already_present_count",
		    (json_int_t)(j->after - migrated), "total_artifacts", (json_int_t)j->total,
		    "metadata_cache", "created_count", (json_int_t)s->created, "updated_count",
		    (json_int_t)s->updated, "skipped_count", (json_int_t)s->unchanged, "errors",
		    messages_json(s), "tag_sync_count", 0, "recovery");
		break;
	}
	}
	if (!o || sm_http_json(req, 200, o) < 0)
		api_fail(req, -ENOMEM, NULL);
}

static void job_free_op(void *arg)
{
	job_free(arg);
}

static int start_job(struct sm_http_req *req, struct sm_app *app, enum job_kind kind,
		     const char *id)
{
	struct job *j = sm_calloc(1, sizeof(*j));

	if (!j)
		return api_fail(req, -ENOMEM, NULL);
	j->app = app;
	j->kind = kind;
	j->err = (struct strbuf)STRBUF_INIT;
	if (id && !(j->id = sm_strdup(id))) {
		job_free(j);
		return api_fail(req, -ENOMEM, NULL);
	}
	return api_run_op(req, app, job_work, job_done, j, job_free_op);
}

static int uc_refresh_one(struct sm_http_req *req, void *data)
{
	const char *id = sm_http_param(req, "id");
	struct sm_user_collection_row row = {0};
	int r = sm_store_get_user_collection(api_cache(req)->store, id, &row, NULL);

	sm_user_collection_row_release(&row);
	if (r == -ENOENT) {
		struct strbuf msg = STRBUF_INIT;
		json_t *d = NULL;

		if (sm_strbuf_addf(&msg, "Collection '%s' not found", id) == 0)
			d = json_pack("{s:s, s:s, s:s}", "error", "collection_not_found",
				      "collection_id", id, "message", msg.buf);
		sm_strbuf_release(&msg);
		if (!d)
			return api_fail(req, -ENOMEM, NULL);
		(void)sm_http_error_detail(req, 404, d);
		return SM_HTTP_DONE;
	}
	if (r < 0)
		return api_fail(req, r, NULL);
	return start_job(req, data, JOB_REFRESH_ONE, id);
}

static int uc_refresh_all(struct sm_http_req *req, void *data)
{
	return start_job(req, data, JOB_REFRESH_ALL, NULL);
}

static int uc_migrate(struct sm_http_req *req, void *data)
{
	return start_job(req, data, JOB_MIGRATE, NULL);
}

/* ---- GET /user-collections/cache-stats ---- */

static int uc_cache_stats(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	const char *ttl_s = sm_http_query(req, "ttl_seconds");
	struct sm_count_cache_stats cc;
	struct sm_cache_status cs;
	int64_t ttl = app->stale_ttl_ms / 1000;
	double pct, hit_rate;
	json_t *o;
	int r;

	if (ttl_s) {
		char *end;

		errno = 0;
		ttl = strtoll(ttl_s, &end, 10);
		if (errno || end == ttl_s || *end || ttl < 60 || ttl > 86400) {
			(void)sm_http_error(
			    req, 400, "Invalid ttl_seconds '%s': expected 60 to 86400", ttl_s);
			return SM_HTTP_DONE;
		}
	}
	r = sm_store_cache_status(api_cache(req)->store, NULL, sm_time_real_ns() / 1000000,
				  ttl * 1000, &cs, NULL);
	if (r < 0)
		return api_fail(req, r, NULL);
	sm_count_cache_stats(app->counts, &cc);
	if (app->metrics && ttl * 1000 == app->stale_ttl_ms)
		sm_metric_set(sm_metric_get(app->metrics->cache_stale), (double)cs.stale);
	pct = cs.total ? round((double)cs.stale * 1000.0 / (double)cs.total) / 10.0 : 0.0;
	hit_rate = cc.hits + cc.misses ? (double)cc.hits / (double)(cc.hits + cc.misses) : 0.0;
	o = json_pack("{s:I, s:I, s:I, s:f, s:f, s:I, s:{s:I, s:I, s:I, s:I, s:f}}",
		      "total_artifacts", (json_int_t)cs.total, "stale_count", (json_int_t)cs.stale,
		      "fresh_count", (json_int_t)cs.fresh, "oldest_sync_age_seconds",
		      cs.oldest_sync_age_seconds, "percentage_stale", pct, "ttl_seconds",
		      (json_int_t)ttl, "count_cache", "size", (json_int_t)cc.size, "ttl_seconds",
		      (json_int_t)(cc.ttl_ms / 1000), "hits", (json_int_t)cc.hits, "misses",
		      (json_int_t)cc.misses, "hit_rate", round(hit_rate * 10000) / 10000);
	if (!o)
		return api_fail(req, -ENOMEM, NULL);
	r = sm_http_json(req, 200, o);
	if (r >= 0)
		(void)api_body_etag(req); /* ages and hit counts move without a commit */
	return r;
}

static const struct {
	const char *method, *pattern;
	sm_http_handler_fn fn;
	unsigned flags;
} routes[] = {
    {"GET", API_PREFIX "/user-collections", uc_list, 0},
    {"POST", API_PREFIX "/user-collections", uc_create, 0},
    {"GET", API_PREFIX "/user-collections/cache-stats", uc_cache_stats, 0},
    {"POST", API_PREFIX "/user-collections/refresh-cache", uc_refresh_all, SM_ROUTE_REFRESH},
    {"POST", API_PREFIX "/user-collections/migrate-to-default", uc_migrate, 0},
    {"GET", API_PREFIX "/user-collections/{id}", uc_get, 0},
    {"PUT", API_PREFIX "/user-collections/{id}", uc_update, 0},
    {"DELETE", API_PREFIX "/user-collections/{id}", uc_delete, 0},
    {"GET", API_PREFIX "/user-collections/{id}/artifacts", uc_artifacts, 0},
    {"POST", API_PREFIX "/user-collections/{id}/artifacts", uc_add_artifacts, 0},
    {"DELETE", API_PREFIX "/user-collections/{id}/artifacts/{artifact_id}", uc_remove_artifact, 0},
    {"POST", API_PREFIX "/user-collections/{id}/refresh-cache", uc_refresh_one, SM_ROUTE_REFRESH},
};

int api_register_user_collections(struct sm_app *app, struct sm_router *router, struct strbuf *err)
{
	int r = sm_router_qualified(
	    router, API_PREFIX "/user-collections/{id}/artifacts/{artifact_id}", err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < SM_ARRAY_SIZE(routes); i++) {
		r = sm_router_add(router, routes[i].method, routes[i].pattern, routes[i].fn,
				      app, routes[i].flags, err);
		if (r < 0)
			return r;
	}
	return 0;
}
