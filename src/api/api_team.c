/* SPDX-License-Identifier: MIT */
/*
 * Team mode's own endpoint (API.md "Team mode", docs/team.md):
 * POST /api/v1/team/artifacts uploads an artifact with its files into the
 * team store of the request's tenant (404 on a server that is not a team
 * server), and GET /api/v1/artifacts/{id}/archive answers an artifact's
 * files as tar.gz with its content hash in X-Content-Hash (team mode only).
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/archive.h"
#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops_team.h"
#include "skillmeat/store.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define UPLOAD_MAX_FILES 10000
/* an archive is built in memory: its files' bytes at most */
#define ARCHIVE_MAX_BYTES (256u << 20)

struct upload_job {
	struct sm_app *app;
	const char *tenant; /* the app's (tokens) or a literal: outlives the job */
	json_t *body;
	struct sm_team_upload u;
	struct sm_team_file *files;
	const char **tags;
	struct sm_artifact_row row;
	int created;
};

static void upload_free(void *arg)
{
	struct upload_job *j = arg;

	json_decref(j->body);
	sm_free(j->files);
	sm_free(j->tags);
	sm_artifact_row_release(&j->row);
	sm_free(j);
}

/* On a worker: a connection of its own to the tenant's store, one transaction. */
static int upload_work(struct sm_ops_ctx *ctx, void *arg, struct strbuf *err)
{
	struct upload_job *j = arg;
	struct sm_store *st = NULL;
	int r;

	(void)ctx;
	r = api_team_checkout(j->app, j->tenant, &st, err);
	if (r < 0)
		return r;
	r = sm_ops_team_upload(st, &j->u, &j->row, err);
	api_team_checkin(j->app, st, api_team_reusable(r));
	if (r >= 0) {
		j->created = r;
		api_invalidate_tenant(j->app, j->tenant);
	}
	return r;
}

static void upload_done(struct sm_http_req *req, void *arg, int r, struct strbuf *err)
{
	struct upload_job *j = arg;
	struct strbuf key = STRBUF_INIT;
	json_t *o;

	if (r < 0) {
		(void)api_fail(req, r, err->len ? err->buf : NULL);
		return;
	}
	if (sm_strbuf_addf(&key, "%s:%s", j->row.type, j->row.name) < 0 ||
	    !(o = api_artifact_response(&j->row, key.buf, NULL))) {
		(void)api_fail(req, -ENOMEM, NULL);
	} else {
		json_object_set_new(o, "content_hash", json_string(j->row.content_hash));
		(void)sm_http_set_header(req, "ETag", j->row.row_hash);
		(void)sm_http_json(req, j->created ? 201 : 200, o);
	}
	sm_strbuf_release(&key);
}

static const char *opt_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int upload(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_app_thread *t = req->thread_data;
	struct upload_job *j = sm_calloc(1, sizeof(*j));
	json_t *files, *meta, *tags, *v;
	size_t i;
	int r;

	if (!app->team_url) {
		sm_free(j);
		(void)sm_http_error(req, 404, "Not Found (a team server's endpoint: serve --store "
					      "postgresql://…)");
		return SM_HTTP_DONE;
	}
	if (!j)
		return api_fail(req, -ENOMEM, NULL);
	j->app = app;
	j->tenant = t->cache->tenant;
	if (sm_http_json_body(req, &j->body) < 0) {
		upload_free(j);
		return SM_HTTP_DONE;
	}
	r = 0;
	if (!json_is_object(j->body))
		r = api_422(req, "body", "dict_type", "Input should be a valid dictionary");
	else if (!json_is_string(json_object_get(j->body, "type")))
		r = api_422(req, "type", "missing", "Field required (a string)");
	else if (!json_is_string(json_object_get(j->body, "name")))
		r = api_422(req, "name", "missing", "Field required (a string)");
	files = json_object_get(j->body, "files");
	if (r == 0 && (!json_is_array(files) || json_array_size(files) == 0 ||
		       json_array_size(files) > UPLOAD_MAX_FILES))
		r = api_422(req, "files", "too_short", "files: a list of 1 to 10000 {path, content_base64}");
	meta = json_object_get(j->body, "metadata");
	if (r == 0 && meta && !json_is_object(meta) && !json_is_null(meta))
		r = api_422(req, "metadata", "dict_type", "Input should be a valid dictionary");
	tags = json_object_get(meta, "tags");
	if (r == 0 && tags && !json_is_array(tags))
		r = api_422(req, "metadata", "list_type", "metadata.tags should be a list of strings");
	v = json_object_get(j->body, "content_hash");
	if (r == 0 && v && !json_is_string(v))
		r = api_422(req, "content_hash", "string_type", "Input should be a valid string");
	v = json_object_get(j->body, "force");
	if (r == 0 && v && !json_is_boolean(v))
		r = api_422(req, "force", "bool_type", "Input should be a valid boolean");
	if (r == 0 && !(j->files = sm_calloc(json_array_size(files), sizeof(*j->files))))
		r = -ENOMEM;
	json_array_foreach(files, i, v) {
		if (r < 0)
			break;
		j->files[i].path = opt_str(v, "path");
		j->files[i].content_b64 = opt_str(v, "content_base64");
		if (!j->files[i].path || !j->files[i].content_b64)
			r = api_422(req, "files", "missing",
				    "each file needs path and content_base64 (strings)");
	}
	if (r == 0 && tags && json_array_size(tags) &&
	    !(j->tags = sm_calloc(json_array_size(tags), sizeof(*j->tags))))
		r = -ENOMEM;
	json_array_foreach(tags, i, v) {
		if (r < 0)
			break;
		if (!(j->tags[i] = json_string_value(v)))
			r = api_422(req, "metadata", "string_type", "metadata.tags: strings only");
	}
	if (r < 0) {
		upload_free(j);
		return r == API_ANSWERED ? SM_HTTP_DONE : api_fail(req, r, NULL);
	}
	j->u.type = opt_str(j->body, "type");
	j->u.name = opt_str(j->body, "name");
	j->u.files = j->files;
	j->u.nfiles = json_array_size(files);
	j->u.title = opt_str(meta, "title");
	j->u.description = opt_str(meta, "description");
	j->u.author = opt_str(meta, "author");
	j->u.license = opt_str(meta, "license");
	j->u.version = opt_str(meta, "version");
	j->u.tags = j->tags;
	j->u.ntags = tags ? json_array_size(tags) : 0;
	j->u.force = json_is_true(json_object_get(j->body, "force"));
	j->u.content_hash = opt_str(j->body, "content_hash");
	return api_run_op(req, app, upload_work, upload_done, j, upload_free);
}

struct archive_job {
	struct sm_app *app;
	const char *tenant;
	struct sm_artifact_row row;
	struct strbuf out, err;
	int r;
};

static void archive_free(struct archive_job *j)
{
	if (!j)
		return;
	sm_artifact_row_release(&j->row);
	sm_strbuf_release(&j->out);
	sm_strbuf_release(&j->err);
	sm_free(j);
}

/* On a worker: the files from a connection of its own, packed. */
static void archive_work(void *arg)
{
	struct archive_job *j = arg;
	struct sm_store *st = NULL;
	struct sm_pg_blob *b = NULL;
	struct sm_archive_file *f = NULL;
	size_t n = 0;

	j->r = api_team_checkout(j->app, j->tenant, &st, &j->err);
	if (j->r == 0) {
		j->r = sm_store_pg_get_files(st, j->row.uuid, ARCHIVE_MAX_BYTES, &b, &n, &j->err);
		api_team_checkin(j->app, st, api_team_reusable(j->r));
	}
	if (j->r == 0 && n && !(f = sm_calloc(n, sizeof(*f))))
		j->r = sm_err(&j->err, -ENOMEM, "out of memory");
	for (size_t i = 0; j->r == 0 && i < n; i++)
		f[i] = (struct sm_archive_file){b[i].path, b[i].data, b[i].len};
	if (j->r == 0 && n == 0)
		j->r = sm_err(&j->err, -ENOENT, "the files of '%s:%s' are missing", j->row.type,
			      j->row.name);
	if (j->r == 0)
		j->r = sm_archive_pack(f, n, &j->out, &j->err);
	sm_free(f);
	sm_pg_blobs_free(b, n);
}

static void archive_done(struct sm_http_req *req, void *arg)
{
	struct archive_job *j = arg;
	struct strbuf cd = STRBUF_INIT;

	if (!req)
		goto out;
	if (j->r < 0) {
		(void)api_fail(req, j->r, j->err.len ? j->err.buf : NULL);
		goto out;
	}
	if (sm_strbuf_addf(&cd, "attachment; filename=\"%s-%s.tar.gz\"", j->row.type,
			   j->row.name) < 0 ||
	    sm_http_set_header(req, "X-Content-Hash", j->row.content_hash) < 0 ||
	    sm_http_set_header(req, "Content-Disposition", cd.buf) < 0 ||
	    sm_http_text(req, 200, "application/gzip", j->out.buf, j->out.len) < 0)
		(void)api_fail(req, -ENOMEM, NULL);
out:
	sm_strbuf_release(&cd);
	archive_free(j);
}

static int archive(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_cache *cache = api_cache(req);
	const char *id = sm_http_param(req, "id"), *coll = sm_http_query(req, "collection");
	struct archive_job *j;
	int r;

	if (!app->team_url) {
		(void)sm_http_error(req, 404, "Not Found (a team server's endpoint: serve --store "
					      "postgresql://…)");
		return SM_HTTP_DONE;
	}
	if (!(j = sm_calloc(1, sizeof(*j))))
		return api_fail(req, -ENOMEM, NULL);
	j->app = app;
	j->tenant = cache->tenant;
	j->out = (struct strbuf)STRBUF_INIT;
	j->err = (struct strbuf)STRBUF_INIT;
	sm_strbuf_init(&j->out, ARCHIVE_MAX_BYTES + (64u << 20));
	if ((r = api_resolve(req, cache, id, coll, &j->row)) < 0) {
		archive_free(j);
		return r == API_ANSWERED ? SM_HTTP_DONE : api_fail(req, r, NULL);
	}
	if (!j->row.content_hash) {
		archive_free(j);
		return api_fail(req, -ENOENT, NULL);
	}
	r = sm_http_defer(req, archive_work, archive_done, j);
	if (r < 0) {
		archive_free(j);
		return api_fail(req, r, NULL);
	}
	return SM_HTTP_DEFERRED;
}

/*
 * Registered in every mode, so a request for it meets the same checks as any
 * write (content type, Origin, Host: tests/api/test_api_origin.py) before a
 * server that is not a team server answers 404.
 */
int api_register_team(struct sm_app *app, struct sm_router *router, struct strbuf *err)
{
	int r = sm_router_add(router, "POST", API_PREFIX "/team/artifacts", upload, app, 0, err);

	if (r == 0)
		r = sm_router_add(router, "GET", API_PREFIX "/artifacts/{id}/archive", archive, app,
				  0, err);
	return r;
}
