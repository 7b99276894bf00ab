/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/artifacts and PUT /api/v1/artifacts/{id} (spec/API.md):
 * files first (the library's add, or collection.toml written atomically),
 * then one cache sync of the collection, then the counts invalidated. Both
 * run on a worker under the writer lock and the home lock.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/artifact.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/edit.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_team.h"
#include "skillmeat/source.h"
#include "skillmeat/store.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

#define TAGS_MAX 100
#define TAG_LEN_MAX 200
#define FIELD_LEN_MAX 4096

/* The manifest metadata fields PUT may set (orig ArtifactUpdateRequest.metadata): sm_entry_meta_keys. */
#define NMETA SM_ENTRY_NMETA

struct wjob {
	struct sm_app *app;
	bool update; /* PUT, else POST */
	/* POST */
	char *source;
	bool github;
	char *name;
	enum sm_artifact_type type;
	bool force;
	/* both: the collection (POST: requested or NULL; PUT: the row's) */
	char *collection;
	char **tags;
	size_t ntags;
	bool have_tags;
	/* PUT */
	char *id;	 /* as requested */
	char *type_name; /* "type:name" inside its collection */
	char *row_type;
	char *row_name;
	enum sm_entry_meta_op meta_op[NMETA];
	char *meta_val[NMETA];
	const char *tenant; /* team mode: the request's (borrowed from the app), else NULL */
	char *if_match;	    /* the If-Match header, or NULL */
	char *expected_rev; /* body expected_revision, or NULL */
	/* out */
	int r;
	int status;
	bool conflict;
	char *current_revision;
	char *out_collection;
	char *out_type;
	char *out_name;
	char *out_path;
	struct strbuf err;
};

static void wjob_free(struct wjob *j)
{
	if (!j)
		return;
	sm_free(j->source);
	sm_free(j->name);
	sm_free(j->collection);
	for (size_t i = 0; i < j->ntags; i++)
		sm_free(j->tags[i]);
	sm_free(j->tags);
	sm_free(j->id);
	sm_free(j->type_name);
	sm_free(j->row_type);
	sm_free(j->row_name);
	for (size_t i = 0; i < NMETA; i++)
		sm_free(j->meta_val[i]);
	sm_free(j->if_match);
	sm_free(j->expected_rev);
	sm_free(j->current_revision);
	sm_free(j->out_collection);
	sm_free(j->out_type);
	sm_free(j->out_name);
	sm_free(j->out_path);
	sm_strbuf_release(&j->err);
	sm_free(j);
}

static struct wjob *wjob_new(struct sm_app *app, bool update)
{
	struct wjob *j = sm_calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->app = app;
	j->update = update;
	j->err = (struct strbuf)STRBUF_INIT;
	j->type = SM_TYPE_INVALID;
	return j;
}

/* ---- body validation (422 in FastAPI's shape) ---- */

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Optional string: absent/null → *ret NULL. */
static int opt_str(struct sm_http_req *req, json_t *obj, const char *key, const char **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return api_422(req, key, "string_type", "Input should be a valid string");
	if (json_string_length(v) > FIELD_LEN_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return api_422(req, key, "string_too_long",
			       "String too long or holding a NUL character");
	*ret = json_string_value(v);
	return 0;
}

static int opt_bool(struct sm_http_req *req, json_t *obj, const char *key, bool *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return api_422(req, key, "bool_type", "Input should be a valid boolean");
	*ret = json_is_true(v);
	return 0;
}

/* A list of tags (strings) appended to j->tags, de-duplicated, order kept. */
static int add_tags(struct sm_http_req *req, struct wjob *j, json_t *v, const char *field)
{
	size_t i;
	json_t *t;

	if (!json_is_array(v))
		return api_422(req, field, "list_type", "Input should be a valid list");
	if (json_array_size(v) + j->ntags > TAGS_MAX)
		return api_422(req, field, "too_long", "List should have at most 100 items");
	if (!j->tags && !(j->tags = sm_calloc(TAGS_MAX, sizeof(*j->tags))))
		return -ENOMEM;
	json_array_foreach(v, i, t)
	{
		const char *s = json_is_string(t) ? json_string_value(t) : NULL;
		bool seen = false;

		if (!s || !*s || strlen(s) != json_string_length(t) || strlen(s) > TAG_LEN_MAX ||
		    has_ctl(s))
			return api_422(
			    req, field, "string_type",
			    "Tags should be non-empty strings without control characters");
		for (size_t k = 0; k < j->ntags && !seen; k++)
			seen = !strcmp(j->tags[k], s);
		if (seen)
			continue;
		if (!(j->tags[j->ntags] = sm_strdup(s)))
			return -ENOMEM;
		j->ntags++;
	}
	j->have_tags = true;
	return 0;
}

/* ---- the answer: the ArtifactResponse of the written row ---- */

/*
 * Look the row up on the loop's connection (the worker committed), and
 * answer status with it (ETag set). extra: fields merged in (stolen), may be NULL.
 */
static int answer_row(struct sm_http_req *req, struct sm_app *app, const char *collection,
		      const char *type, const char *name, int status, json_t *extra)
{
	struct sm_cache *cache = api_cache(req);
	struct sm_artifact_row row = {0};
	struct strbuf key = STRBUF_INIT, tag = STRBUF_INIT;
	char rev[SM_STORE_REVISION_MAX];
	json_t *colls = NULL, *o;
	int r;

	r = sm_store_get_artifact_by_key(cache->store, collection, type, name, &row, NULL);
	if (r < 0)
		goto out;
	if ((r = api_collections_of(app, cache, &row, 1, &colls)) < 0 ||
	    (r = api_artifact_key(cache, &row, &key)) < 0)
		goto out;
	o = api_artifact_response(&row, key.buf, colls);
	if (!o) {
		r = -ENOMEM;
		goto out;
	}
	if (extra) {
		json_object_set_new(extra, "artifact_id", json_string(key.buf));
		json_object_update(o, extra);
	}
	if (sm_store_revision(cache->store, rev, NULL) == 0 && row.row_hash &&
	    sm_strbuf_addf(&tag, "\"%s.%s\"", row.row_hash, rev) == 0)
		(void)sm_http_set_header(req, "ETag", tag.buf);
	r = sm_http_json(req, status, o);
out:
	json_decref(extra);
	sm_artifact_row_release(&row);
	sm_strbuf_release(&key);
	sm_strbuf_release(&tag);
	return r;
}

/* ---- POST /artifacts ---- */

/*
 * Team mode: the server fetches the GitHub source as the personal add does
 * and stores it as an upload (sm_ops_team_add_github), in the request's
 * tenant, on a connection of this worker's own.
 */
static void add_team(struct wjob *j)
{
	const struct sm_team_github req = {
	    .spec = j->source,
	    .type = sm_artifact_type_name(j->type),
	    .name = j->name,
	    .tags = (const char *const *)j->tags,
	    .ntags = j->ntags,
	    .force = j->force,
	};
	struct sm_artifact_row row = {0};
	struct sm_store *st = NULL;
	int r;

	r = api_team_checkout(j->app, j->tenant, &st, &j->err);
	if (r == 0) {
		r = sm_ops_team_add_github(st, j->app->home, &req, &row, &j->err);
		api_team_checkin(j->app, st, api_team_reusable(r));
	}
	if (r >= 0) {
		api_invalidate_tenant(j->app, j->tenant);
		j->status = 201; /* created or replaced (force), as the personal add */
		j->out_collection = sm_strdup(row.collection);
		j->out_type = sm_strdup(row.type);
		j->out_name = sm_strdup(row.name);
		j->out_path = sm_strdup("");
		if (!j->out_collection || !j->out_type || !j->out_name || !j->out_path)
			r = -ENOMEM;
	}
	j->r = r < 0 ? r : 0;
	sm_artifact_row_release(&row);
}

static void add_work(void *arg)
{
	struct wjob *j = arg;
	struct sm_ops_ctx ctx;
	struct sm_ops_add req = {
	    .collection = j->collection,
	    .spec = j->source,
	    .source = j->github ? SM_OPS_SOURCE_GITHUB : SM_OPS_SOURCE_LOCAL,
	    .opts = {
		.type = j->type,
		.name = j->name,
		.tags = (const char *const *)j->tags,
		.ntags = j->ntags,
		.force = j->force,
	    },
	    .reports_warning = true,
	};
	struct sm_ops_add_result res = {0};
	const struct sm_add_result *ar = &res.add;
	int r;

	if (j->tenant) {
		add_team(j);
		return;
	}
	api_ops_ctx_init(j->app, &ctx);
	r = sm_ops_add(&ctx, &req, &res, &j->err);
	sm_ops_ctx_release(&ctx);
	if (r >= 0) {
		if (ar->warning)
			sm_log_warn("server: add '%s': %s", j->source, ar->warning);
		j->status = ar->status == SM_ADD_UNCHANGED ? 200 : 201;
		j->out_collection = sm_strdup(res.collection);
		j->out_type = sm_strdup(sm_artifact_type_name(ar->type));
		j->out_name = sm_strdup(ar->name);
		j->out_path = sm_strdup(ar->path);
		if (!j->out_collection || !j->out_type || !j->out_name || !j->out_path)
			r = -ENOMEM;
	}
	j->r = r < 0 ? r : 0;
	sm_ops_add_result_release(&res);
}

static void add_done(struct sm_http_req *req, void *arg)
{
	struct wjob *j = arg;
	json_t *extra;

	if (!req)
		goto out;
	/* the loop thread's store may have served another tenant meanwhile */
	if (j->tenant && sm_store_pg_set_tenant(api_cache(req)->store, j->tenant, NULL) == 0)
		api_cache(req)->tenant = j->tenant;
	if (j->r < 0) {
		int st = sm_http_errno_status(j->r);

		if (j->r == -EEXIST) {
			/* the library speaks to the CLI: name the body field instead */
			static const char cli_hint[] = " (use --force to replace it)";
			size_t hl = sizeof(cli_hint) - 1;

			if (j->err.len > hl && !strcmp(j->err.buf + j->err.len - hl, cli_hint))
				j->err.buf[j->err.len - hl] = '\0';
			(void)sm_http_error(req, 409, "%s (\"force\": true replaces it)",
					    j->err.buf);
		} else if (j->r == -EACCES)
			(void)sm_http_error(req, 403, "%s", j->err.buf);
		else if (st == 500 && j->github && j->r == -EIO)
			(void)sm_http_error(req, 502, "%s", j->err.buf);
		else
			api_fail(req, j->r, j->err.buf);
		goto out;
	}
	extra =
	    json_pack("{s:b, s:s, s:s, s:s, s:s}", "success", 1, "artifact_name", j->out_name,
		      "artifact_type", j->out_type, "source_type", j->github ? "github" : "local",
		      "message", j->status == 201 ? "Artifact added" : "Artifact unchanged");
	if (answer_row(req, j->app, j->out_collection, j->out_type, j->out_name, j->status, extra) <
	    0) {
		/* the files are written; the cache did not follow: say what was added */
		json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:s}", "success", 1,
				      "artifact_name", j->out_name, "artifact_type", j->out_type,
				      "collection", j->out_collection, "source", j->source, "path",
				      j->out_path, "message", "Artifact added; the cache lags");
		(void)sm_http_json(req, j->status, o);
	}
out:
	wjob_free(j);
}

/* Refuse a local source inside the home's own tree; realpath of the source into *ret. */
static int check_local(struct sm_http_req *req, struct sm_app *app, const char *src, char **ret)
{
	char *real, *home;
	size_t hl;
	int r = 0;

	*ret = NULL;
	if (src[0] != '/') {
		(void)sm_http_error(req, 400, "Local source must be an absolute path: '%s'", src);
		return API_ANSWERED;
	}
	real = realpath(src, NULL);
	if (!real) {
		if (errno == ENOMEM)
			return -ENOMEM;
		(void)sm_http_error(req, 404, "Source path not found: '%s'", src);
		return API_ANSWERED;
	}
	home = realpath(app->home->root, NULL);
	hl = home ? strlen(home) : 0;
	if (home && !strncmp(real, home, hl) && (real[hl] == '/' || real[hl] == '\0')) {
		(void)sm_http_error(req, 400, "Source '%s' is inside the SkillMeat home", src);
		r = API_ANSWERED;
	}
	free(home);
	if (r < 0)
		free(real);
	else
		*ret = real;
	return r;
}

static int art_create(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct wjob *j = NULL;
	json_t *body = NULL, *v;
	const char *source, *stype, *atype, *name, *coll;
	char *real = NULL;
	struct sm_github_spec spec;
	struct strbuf err = STRBUF_INIT;
	int r;

	if (sm_http_json_body(req, &body) < 0)
		return SM_HTTP_DONE;
	if (!json_is_object(body)) {
		r = api_422(req, "body", "dict_type", "Input should be a valid dictionary");
		goto out;
	}
	if (!(j = wjob_new(app, false))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = opt_str(req, body, "source", &source)) < 0 ||
	    (r = opt_str(req, body, "source_type", &stype)) < 0 ||
	    (r = opt_str(req, body, "artifact_type", &atype)) < 0 ||
	    (r = opt_str(req, body, "name", &name)) < 0 ||
	    (r = opt_str(req, body, "collection", &coll)) < 0 ||
	    (r = opt_bool(req, body, "force", &j->force)) < 0)
		goto out;
	if (!source) {
		r = api_422(req, "source", "missing", "Field required");
		goto out;
	}
	if (!*source || has_ctl(source)) {
		r = api_422(req, "source", "string_too_short",
			    "String should have at least 1 character and no control characters");
		goto out;
	}
	if (!atype) {
		r = api_422(req, "artifact_type", "missing", "Field required");
		goto out;
	}
	j->type = sm_artifact_type_parse(atype);
	if (j->type == SM_TYPE_INVALID) {
		r = api_422(req, "artifact_type", "enum", "Input should be a known artifact type");
		goto out;
	}
	if (stype && strcmp(stype, "github") && strcmp(stype, "local")) {
		r = api_422(req, "source_type", "literal_error",
			    "Input should be 'github' or 'local'");
		goto out;
	}
	if (name && sm_artifact_name_check(name, &err) < 0) {
		r = api_422(req, "name", "value_error", err.buf);
		goto out;
	}
	/* local: an absolute path (no source_type: anything starting with '/') */
	j->github =
	    stype ? !strcmp(stype, "github") : source[0] != '/' && sm_source_is_github(source);
	if (app->team_url && !j->github) {
		/* API.md "Team mode": the server's disk is not the user's */
		(void)sm_http_error(req, 403,
				    "a local source is not available in team mode: the "
				    "server's disk is not the user's (upload it: team push)");
		r = API_ANSWERED;
		goto out;
	}
	/* team mode: the request's tenant (a GitHub source, fetched by the server) */
	j->tenant = app->team_url ? api_cache(req)->tenant : NULL;
	if ((v = json_object_get(body, "tags")) && !json_is_null(v) &&
	    (r = add_tags(req, j, v, "tags")) < 0)
		goto out;
	if ((v = json_object_get(body, "target_platforms")) && !json_is_null(v) &&
	    !json_is_array(v)) {
		r = api_422(req, "target_platforms", "list_type", "Input should be a valid list");
		goto out;
	}
	if (coll && j->tenant && strcmp(coll, "default")) {
		/* the team store has one collection of artifacts */
		(void)sm_http_error(req, 404, "Collection '%s' not found", coll);
		r = API_ANSWERED;
		goto out;
	}
	if (coll && !j->tenant) {
		sm_strbuf_reset(&err);
		if (sm_collection_name_check(coll, &err) < 0) {
			r = api_422(req, "collection", "value_error", err.buf);
			goto out;
		}
		if (!sm_collection_exists(app->home, coll)) {
			(void)sm_http_error(req, 404, "Collection '%s' not found", coll);
			r = API_ANSWERED;
			goto out;
		}
	}
	if (j->github) {
		sm_strbuf_reset(&err);
		if (!sm_source_is_github(source) || sm_github_spec_parse(source, &spec, &err) < 0) {
			(void)sm_http_error(req, 400, "Invalid GitHub source '%s'%s%s", source,
					    err.len ? ": " : "", err.buf);
			r = API_ANSWERED;
			goto out;
		}
		sm_github_spec_release(&spec);
		j->source = sm_strdup(source);
	} else {
		if ((r = check_local(req, app, source, &real)) < 0)
			goto out;
		j->source = sm_strdup(real);
	}
	j->name = name ? sm_strdup(name) : NULL;
	j->collection = coll ? sm_strdup(coll) : NULL;
	if (!j->source || (name && !j->name) || (coll && !j->collection)) {
		r = -ENOMEM;
		goto out;
	}
	r = sm_http_defer(req, add_work, add_done, j);
	if (r == 0) {
		j = NULL;
		r = SM_HTTP_DEFERRED;
	}
out:
	free(real);
	wjob_free(j);
	json_decref(body);
	sm_strbuf_release(&err);
	if (r == SM_HTTP_DEFERRED)
		return r;
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

/* ---- PUT /artifacts/{id} ---- */

/* If-Match and expected_revision, both when given, name the revision. */
static bool upd_precondition(void *ud, const char *revision)
{
	const struct wjob *j = ud;

	return (!j->if_match || sm_edit_revision_matches(j->if_match, revision)) &&
	       (!j->expected_rev || sm_edit_revision_matches(j->expected_rev, revision));
}

/*
 * Team mode: the same fields on the stored row (sm_ops_team_edit, its
 * compare-and-set), a connection of this worker's own for the tenant.
 */
static void upd_team(struct wjob *j)
{
	struct sm_fm_edit fields = {0};
	struct sm_edit_result res = {0};
	struct sm_store *st = NULL;
	const char *expected = j->if_match ? j->if_match : j->expected_rev;
	int r;

	_Static_assert(NMETA == 4 && SM_FM_TITLE == 0 && SM_FM_LICENSE == 3,
		       "sm_entry_meta_keys are the first SM_FM_* fields, in their order");
	for (size_t i = 0; i < NMETA; i++) {
		fields.f[i].set = j->meta_op[i] != SM_ENTRY_KEEP;
		fields.f[i].str = j->meta_op[i] == SM_ENTRY_SET ? j->meta_val[i] : NULL;
	}
	if (j->have_tags) {
		fields.f[SM_FM_TAGS].set = true;
		fields.f[SM_FM_TAGS].items = (const char *const *)j->tags;
		fields.f[SM_FM_TAGS].n_items = j->ntags;
	}
	if (j->if_match && j->expected_rev &&
	    !sm_edit_revision_matches(j->if_match, j->expected_rev))
		expected = "\"\""; /* two revisions named: they must agree (never a row's) */
	r = api_team_checkout(j->app, j->tenant, &st, &j->err);
	if (r == 0) {
		r = sm_ops_team_edit(st, j->collection, j->row_type, j->row_name, &fields, expected,
				     &res, &j->err);
		api_team_checkin(j->app, st, api_team_reusable(r));
	}
	if (r == 0 && res.conflict) {
		j->conflict = true;
		j->current_revision = res.current_revision;
		res.current_revision = NULL;
	}
	j->r = r < 0 ? r : 0;
	sm_edit_result_release(&res);
}

static void upd_work(void *arg)
{
	struct wjob *j = arg;
	struct sm_ops_ctx ctx;
	struct sm_ops_update req = {
	    .collection = j->collection,
	    .id = j->type_name,
	    .change = {
		.have_tags = j->have_tags,
		.tags = (const char *const *)j->tags,
		.ntags = j->ntags,
	    },
	};
	struct sm_ops_update_result res = {0};
	int r;

	if (j->tenant) {
		upd_team(j);
		return;
	}
	for (size_t i = 0; i < NMETA; i++) {
		req.change.meta_op[i] = j->meta_op[i];
		req.change.meta_val[i] = j->meta_val[i];
	}
	if (j->if_match || j->expected_rev) {
		req.precondition = upd_precondition;
		req.precondition_ud = j;
	}
	api_ops_ctx_init(j->app, &ctx);
	r = sm_ops_update(&ctx, &req, &res, &j->err);
	sm_ops_ctx_release(&ctx);
	if (r == 0 && res.conflict) {
		j->conflict = true;
		j->current_revision = res.current_revision;
		res.current_revision = NULL;
	}
	j->r = r < 0 ? r : 0;
	sm_ops_update_result_release(&res);
}

static void upd_done(struct sm_http_req *req, void *arg)
{
	struct wjob *j = arg;

	if (!req)
		goto out;
	if (j->conflict) {
		json_t *d = json_pack("{s:s, s:s, s:s}", "error", "conflict", "message",
				      "The artifact was changed since that revision; "
				      "reload it and retry",
				      "current_revision", j->current_revision);

		if (d)
			(void)sm_http_error_detail(req, 409, d);
		else
			api_fail(req, -ENOMEM, NULL);
	} else if (j->r == -ENOENT) {
		(void)sm_http_error(req, 404, "Artifact '%s' not found", j->id);
	} else if (j->r < 0) {
		api_fail(req, j->r, j->err.buf);
	} else if (answer_row(req, j->app, j->collection, j->row_type, j->row_name, 200, NULL) <
		   0) {
		api_fail(req, -EIO, NULL);
	}
out:
	wjob_free(j);
}

static int parse_update(struct sm_http_req *req, struct wjob *j, json_t *body)
{
	static const char *const other[] = {"aliases", "owner_type", "visibility"};
	json_t *v, *meta;
	const char *s;
	bool any = false;
	int r;

	if ((v = json_object_get(body, "tags")) && !json_is_null(v)) {
		if ((r = add_tags(req, j, v, "tags")) < 0)
			return r;
		any = true;
	}
	meta = json_object_get(body, "metadata");
	if (meta && !json_is_null(meta)) {
		if (!json_is_object(meta))
			return api_422(req, "metadata", "dict_type",
				       "Input should be a valid dictionary");
		for (size_t i = 0; i < NMETA; i++) {
			if (!(v = json_object_get(meta, sm_entry_meta_keys[i])))
				continue;
			any = true;
			if (json_is_null(v)) {
				j->meta_op[i] = SM_ENTRY_REMOVE;
				continue;
			}
			if ((r = opt_str(req, meta, sm_entry_meta_keys[i], &s)) < 0)
				return r;
			if (!(j->meta_val[i] = sm_strdup(s)))
				return -ENOMEM;
			j->meta_op[i] = SM_ENTRY_SET;
		}
		if ((v = json_object_get(meta, "tags")) && !json_is_null(v)) {
			if ((r = add_tags(req, j, v, "tags")) < 0)
				return r;
			any = true;
		}
	}
	for (size_t i = 0; i < SM_ARRAY_SIZE(other); i++)
		if ((v = json_object_get(body, other[i])) && !json_is_null(v))
			any = true; /* accepted, not stored (as the original's aliases) */
	if ((r = opt_str(req, body, "expected_revision", &s)) < 0)
		return r;
	if (s && !(j->expected_rev = sm_strdup(s)))
		return -ENOMEM;
	if (!any) {
		(void)sm_http_error(req, 400, "No fields to update");
		return API_ANSWERED;
	}
	return 0;
}

static int art_update(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_cache *cache = api_cache(req);
	const char *id = sm_http_param(req, "id"), *coll = sm_http_query(req, "collection");
	const char *im = sm_http_header(req, "If-Match");
	struct sm_artifact_row row = {0};
	struct strbuf tn = STRBUF_INIT;
	struct wjob *j = NULL;
	json_t *body = NULL;
	int r;

	if (sm_http_json_body(req, &body) < 0)
		return SM_HTTP_DONE;
	if (!json_is_object(body)) {
		r = api_422(req, "body", "dict_type", "Input should be a valid dictionary");
		goto out;
	}
	if (coll && sm_collection_name_check(coll, NULL) < 0) {
		(void)sm_http_error(req, 400, "Invalid collection name '%s'", coll);
		r = API_ANSWERED;
		goto out;
	}
	if ((r = api_resolve(req, cache, id, coll, &row)) < 0)
		goto out;
	if (!(j = wjob_new(app, true))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = parse_update(req, j, body)) < 0)
		goto out;
	if ((r = sm_strbuf_addf(&tn, "%s:%s", row.type, row.name)) < 0)
		goto out;
	j->id = sm_strdup(id);
	j->collection = sm_strdup(row.collection);
	j->row_type = sm_strdup(row.type);
	j->row_name = sm_strdup(row.name);
	j->type_name = sm_strbuf_detach(&tn, NULL);
	j->if_match = im ? sm_strdup(im) : NULL;
	j->tenant = app->team_url ? cache->tenant : NULL;
	if (!j->id || !j->collection || !j->row_type || !j->row_name || !j->type_name ||
	    (im && !j->if_match)) {
		r = -ENOMEM;
		goto out;
	}
	r = sm_http_defer(req, upd_work, upd_done, j);
	if (r == 0) {
		j = NULL;
		r = SM_HTTP_DEFERRED;
	}
out:
	wjob_free(j);
	json_decref(body);
	sm_artifact_row_release(&row);
	sm_strbuf_release(&tn);
	if (r == SM_HTTP_DEFERRED)
		return r;
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

int api_register_artifact_writes(struct sm_app *app, struct sm_router *router, struct strbuf *err)
{
	int r;

	r = sm_router_add(router, "POST", API_PREFIX "/artifacts", art_create, app, 0, err);
	if (r >= 0)
		r = sm_router_add(router, "PUT", API_PREFIX "/artifacts/{id}", art_update, app, 0,
				  err);
	return r < 0 ? r : 0;
}
