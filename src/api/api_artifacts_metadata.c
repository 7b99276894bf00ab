/* SPDX-License-Identifier: MIT */
/*
 * PUT /api/v1/artifacts/{id}/metadata (spec/API.md): the fields of the
 * artifact's frontmatter, written to its file first (sm_edit_artifact), with
 * optimistic locking through If-Match or expected_revision (409 with the
 * current revision, nothing written). Runs on a worker under the writer lock.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/cache.h"
#include "skillmeat/edit.h"
#include "skillmeat/error.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/ops_team.h"
#include "skillmeat/store_pg.h"
#include "util/banned.h"

struct mjob {
	struct sm_app *app;
	char *id;	  /* as requested */
	char *collection; /* the row's file collection */
	char *type_name;  /* type:name inside it */
	char *expected;	  /* If-Match or expected_revision, or NULL */
	char *str[SM_FM_FIELD_COUNT];
	char **items[SM_FM_FIELD_COUNT];
	size_t n_items[SM_FM_FIELD_COUNT];
	struct sm_fm_edit fields;
	const char *tenant; /* team mode: the request's tenant (outlives the job) */
	/* out */
	int r;
	struct sm_edit_result res;
	struct strbuf err;
};

static void mjob_free(struct mjob *j)
{
	if (!j)
		return;
	sm_free(j->id);
	sm_free(j->collection);
	sm_free(j->type_name);
	sm_free(j->expected);
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		sm_free(j->str[f]);
		for (size_t i = 0; i < j->n_items[f]; i++)
			sm_free(j->items[f][i]);
		sm_free(j->items[f]);
	}
	sm_edit_result_release(&j->res);
	sm_strbuf_release(&j->err);
	sm_free(j);
}

static void invalidate(void *ud, const char *scope)
{
	api_invalidate(ud, scope);
}

static void meta_work(void *arg)
{
	struct mjob *j = arg;
	struct sm_app *app = j->app;
	struct sm_edit_request rq = {
	    .id = j->type_name,
	    .collection = j->collection,
	    .fields = j->fields,
	    .expected_revision = j->expected,
	};
	struct sm_cache *cache = NULL;
	struct sm_ops_ctx ctx;

	sm_app_write_lock(app);
	j->r = sm_cache_open(app->home, &cache, &j->err);
	if (j->r == 0) {
		sm_ops_ctx_init(&ctx, app->home, cache);
		ctx.invalidate = invalidate;
		ctx.invalidate_ud = app;
		j->r = sm_edit_artifact(&ctx, &rq, &j->res, &j->err);
	}
	sm_app_write_unlock(app);
	sm_cache_close(cache);
}

/* Team mode: the edit on the team store, a connection of this worker's own. */
static void team_meta_work(void *arg)
{
	struct mjob *j = arg;
	struct sm_store *st = NULL;
	const char *colon = strchr(j->type_name, ':');
	char *type = colon ? sm_strndup(j->type_name, (size_t)(colon - j->type_name)) : NULL;

	if (!type) {
		j->r = sm_err(&j->err, -ENOMEM, "out of memory");
		return;
	}
	j->r = api_team_checkout(j->app, j->tenant, &st, &j->err);
	if (j->r == 0) {
		j->r = sm_ops_team_edit_metadata(st, j->collection, type, colon + 1, &j->fields,
						 j->expected, &j->res, &j->err);
		api_team_checkin(j->app, st, api_team_reusable(j->r));
	}
	/* an artifact's fields count in no user collection: no count changes */
	sm_free(type);
}

static int answer(struct sm_http_req *req, struct mjob *j)
{
	struct sm_cache *cache = api_cache(req);
	struct sm_artifact_row row = {0};
	struct strbuf key = STRBUF_INIT, tag = STRBUF_INIT;
	char rev[SM_STORE_REVISION_MAX];
	json_t *colls = NULL, *o;
	int r;

	r = sm_store_get_artifact_by_key(cache->store, j->res.collection, j->res.type,
					 j->res.name, &row, NULL);
	if (r < 0)
		goto out;
	if ((r = api_collections_of(j->app, cache, &row, 1, &colls)) < 0 ||
	    (r = api_artifact_key(cache, &row, &key)) < 0)
		goto out;
	o = api_artifact_response(&row, key.buf, colls);
	if (!o) {
		r = -ENOMEM;
		goto out;
	}
	if (sm_store_revision(cache->store, rev, NULL) == 0 && row.row_hash &&
	    sm_strbuf_addf(&tag, "\"%s.%s\"", row.row_hash, rev) == 0)
		(void)sm_http_set_header(req, "ETag", tag.buf);
	r = sm_http_json(req, 200, o);
out:
	sm_artifact_row_release(&row);
	sm_strbuf_release(&key);
	sm_strbuf_release(&tag);
	return r;
}

static void meta_done(struct sm_http_req *req, void *arg)
{
	struct mjob *j = arg;

	if (!req)
		goto out;
	/* the loop thread's store may have served another tenant meanwhile */
	if (j->tenant && sm_store_pg_set_tenant(api_cache(req)->store, j->tenant, NULL) == 0)
		api_cache(req)->tenant = j->tenant;
	if (j->r == 0 && j->res.conflict) {
		json_t *d = json_pack("{s:s, s:s, s:s}", "error", "conflict", "message",
				      "The artifact was changed since that revision; "
				      "reload it and retry",
				      "current_revision", j->res.current_revision);

		if (d)
			(void)sm_http_error_detail(req, 409, d);
		else
			api_fail(req, -ENOMEM, NULL);
	} else if (j->r == -ENOENT) {
		(void)sm_http_error(req, 404, "%s", j->err.len ? j->err.buf : "Artifact not found");
	} else if (j->r == -EINVAL || j->r == -EBADMSG) {
		(void)sm_http_error(req, 422, "%s", j->err.buf);
	} else if (j->r == -E2BIG) {
		(void)sm_http_error(req, 413, "%s", j->err.buf);
	} else if (j->r < 0) {
		api_fail(req, j->r, j->err.buf);
	} else if (answer(req, j) < 0) {
		api_fail(req, -EIO, NULL);
	}
out:
	mjob_free(j);
}

static const char *const known_keys[] = {
    "title", "description", "author", "license", "version", "tags", "tools", "expected_revision",
};

static int field_of(const char *key)
{
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++)
		if (!strcmp(sm_fm_field_key((enum sm_fm_field)f), key))
			return f;
	return -1;
}

/* The body into j->fields; API_ANSWERED after a 422. */
static int parse_body(struct sm_http_req *req, struct mjob *j, json_t *body)
{
	const char *key;
	json_t *v;
	bool any = false;

	json_object_foreach(body, key, v) {
		bool known = false;
		int f;

		for (size_t i = 0; i < SM_ARRAY_SIZE(known_keys); i++)
			known |= !strcmp(known_keys[i], key);
		if (!known)
			return api_422(req, key, "extra_forbidden", "Extra inputs are not permitted");
		if (!strcmp(key, "expected_revision")) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return api_422(req, key, "string_type", "Input should be a valid string");
			sm_free(j->expected);
			if (!(j->expected = sm_strdup(json_string_value(v))))
				return -ENOMEM;
			continue;
		}
		f = field_of(key);
		any = true;
		j->fields.f[f].set = true;
		if (json_is_null(v))
			continue; /* removes the key */
		if (f == SM_FM_TAGS || f == SM_FM_TOOLS) {
			size_t i, n = json_array_size(v);
			json_t *it;

			if (!json_is_array(v))
				return api_422(req, key, "list_type", "Input should be a valid list");
			if (n > SM_EDIT_TAGS_MAX)
				return api_422(req, key, "too_long", "List should have at most 100 items");
			if (n && !(j->items[f] = sm_calloc(n, sizeof(char *))))
				return -ENOMEM;
			json_array_foreach(v, i, it) {
				if (!json_is_string(it))
					return api_422(req, key, "string_type",
						       "Input should be a valid string");
				if (strlen(json_string_value(it)) != json_string_length(it))
					return api_422(req, key, "string_type",
						       "Input should not contain NUL");
				if (!(j->items[f][i] = sm_strdup(json_string_value(it))))
					return -ENOMEM;
				j->n_items[f] = i + 1;
			}
			j->fields.f[f].items = (const char *const *)j->items[f];
			j->fields.f[f].n_items = j->n_items[f];
			continue;
		}
		if (!json_is_string(v))
			return api_422(req, key, "string_type", "Input should be a valid string");
		if (strlen(json_string_value(v)) != json_string_length(v))
			return api_422(req, key, "string_type", "Input should not contain NUL");
		if (!(j->str[f] = sm_strdup(json_string_value(v))))
			return -ENOMEM;
		j->fields.f[f].str = j->str[f];
	}
	if (!any) {
		(void)sm_http_error(req, 400, "No fields to update");
		return API_ANSWERED;
	}
	{
		struct strbuf err = STRBUF_INIT;
		int r = sm_edit_check(&j->fields, &err);

		if (r == -EINVAL)
			(void)sm_http_error(req, 422, "%s", err.buf);
		sm_strbuf_release(&err);
		if (r == -EINVAL)
			return API_ANSWERED;
		if (r < 0)
			return r;
	}
	return 0;
}

static int art_metadata(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_cache *cache = api_cache(req);
	const char *id = sm_http_param(req, "id"), *coll = sm_http_query(req, "collection");
	const char *im = sm_http_header(req, "If-Match");
	struct sm_artifact_row row = {0};
	struct mjob *j = NULL;
	json_t *body = NULL;
	int r;

	if (sm_http_json_body(req, &body) < 0)
		return SM_HTTP_DONE;
	if (!json_is_object(body)) {
		r = api_422(req, "body", "dict_type", "Input should be a valid dictionary");
		goto out;
	}
	if ((r = api_resolve(req, cache, id, coll, &row)) < 0)
		goto out;
	if (!(j = sm_calloc(1, sizeof(*j)))) {
		r = -ENOMEM;
		goto out;
	}
	j->app = app;
	j->err = (struct strbuf)STRBUF_INIT;
	if ((r = parse_body(req, j, body)) < 0)
		goto out;
	if (im) {
		/* the header wins over the body field */
		sm_free(j->expected);
		j->expected = sm_strdup(im);
	}
	j->id = sm_strdup(id);
	j->collection = sm_strdup(row.collection);
	if ((r = sm_strbuf_addf(&j->err, "%s:%s", row.type, row.name)) == 0)
		j->type_name = sm_strbuf_detach(&j->err, NULL);
	if (r == 0 && (!j->id || !j->collection || !j->type_name || (im && !j->expected)))
		r = -ENOMEM;
	if (r < 0)
		goto out;
	j->tenant = app->team_url ? cache->tenant : NULL;
	r = sm_http_defer(req, app->team_url ? team_meta_work : meta_work, meta_done, j);
	if (r == 0) {
		j = NULL;
		r = SM_HTTP_DEFERRED;
	}
out:
	mjob_free(j);
	json_decref(body);
	sm_artifact_row_release(&row);
	if (r == SM_HTTP_DEFERRED)
		return r;
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

int api_register_artifact_metadata(struct sm_app *app, struct sm_router *router,
				   struct strbuf *err)
{
	int r = sm_router_add(router, "PUT", API_PREFIX "/artifacts/{id}/metadata", art_metadata,
			      app, 0, err);

	return r < 0 ? r : 0;
}
