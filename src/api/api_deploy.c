/* SPDX-License-Identifier: MIT */
/*
 * Deployments over HTTP (spec/API.md "Deployments", the original's
 * artifacts router): POST /artifacts/{id}/deploy, /undeploy, /sync and
 * GET /deployments?project_path=P. Writes run on a worker under the writer
 * lock through the deploy operations; a project_path must be an existing
 * folder, and nothing is written outside it.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/cache.h"
#include "skillmeat/deploy.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_deploy.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

enum dkind { D_DEPLOY, D_UNDEPLOY, D_SYNC };

struct djob {
	struct sm_app *app;
	enum dkind kind;
	char *id;	  /* type:name */
	char *name, *type;
	char *collection; /* the row's file collection */
	char *project;	  /* resolved */
	char *profile;	  /* or NULL */
	char *strategy;
	bool overwrite, all_profiles;
	/* out */
	int r;
	struct sm_ops_deploy_report rep;
	bool not_deployed; /* sync: 404 */
	struct strbuf err;
};

static void djob_free(struct djob *j)
{
	if (!j)
		return;
	sm_free(j->id);
	sm_free(j->name);
	sm_free(j->type);
	sm_free(j->collection);
	sm_free(j->project);
	sm_free(j->profile);
	sm_free(j->strategy);
	sm_ops_deploy_report_release(&j->rep);
	sm_strbuf_release(&j->err);
	sm_free(j);
}

static void invalidate(void *ud, const char *scope)
{
	api_invalidate(ud, scope);
}

/* Is (type, name) recorded in the project for profile (NULL: any)? */
static bool is_deployed(const char *project, const char *type, const char *name,
			const char *profile)
{
	char **roots = NULL;
	size_t n = 0;
	bool found = false;

	if (sm_tracking_roots(project, &roots, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++) {
		struct sm_tracking *t;

		if (sm_tracking_load(project, roots[i], &t, NULL) < 0)
			continue;
		for (size_t k = 0; k < sm_tracking_count(t); k++) {
			const struct sm_toml_value *rec = sm_tracking_at(t, k);

			if (!strcmp(sm_rec_name(rec), name) &&
			    !strcmp(sm_artifact_type_name(sm_rec_type(rec)), type) &&
			    (!profile || !strcmp(sm_rec_profile(rec), profile)))
				found = true;
		}
		sm_tracking_free(t);
	}
	for (size_t i = 0; i < n; i++)
		sm_free(roots[i]);
	sm_free(roots);
	return found;
}

static void dwork(void *arg)
{
	struct djob *j = arg;
	struct sm_app *app = j->app;
	const char *ids[1] = { j->id };
	const char *profs[1] = { j->profile };
	struct sm_ops_ctx ctx;

	struct sm_cache *cache = NULL;

	sm_app_write_lock(app);
	if (sm_cache_open(app->home, &cache, NULL) < 0)
		cache = NULL; /* the files are written all the same; the index catches up */
	sm_ops_ctx_init(&ctx, app->home, cache);
	ctx.invalidate = invalidate;
	ctx.invalidate_ud = app;
	if (j->kind == D_UNDEPLOY) {
		struct sm_ops_undeploy_req rq = { .project = j->project, .ids = ids, .nids = 1,
						  .profile = j->profile, .force = true };

		j->r = sm_ops_undeploy(&ctx, &rq, &j->rep, &j->err);
	} else {
		struct sm_ops_deploy_req rq = { .project = j->project,
						.collection = j->collection,
						.ids = ids,
						.nids = 1,
						.profiles = j->profile ? profs : NULL,
						.nprofiles = j->profile ? 1 : 0,
						.all_profiles = j->all_profiles };

		rq.opts.overwrite = j->overwrite;
		if (j->kind == D_SYNC) {
			/* theirs: the collection copy wins; ours: the project's is kept */
			rq.opts.overwrite = !strcmp(j->strategy, "theirs");
			if (!is_deployed(j->project, j->type, j->name, j->profile)) {
				j->not_deployed = true;
				goto out;
			}
			if (!strcmp(j->strategy, "ours"))
				goto out;
		}
		j->r = sm_ops_deploy(&ctx, &rq, &j->rep, &j->err);
	}
out:
	sm_app_write_unlock(app);
	sm_ops_ctx_release(&ctx);
	sm_cache_close(cache);
}

static json_t *deploy_answer(struct djob *j)
{
	const struct sm_ops_deploy_item *first = j->rep.n ? &j->rep.items[0] : NULL;
	json_t *profs = json_array(), *actions = json_array();
	size_t copied = 0, skipped = 0;
	const char *fail = NULL;
	struct strbuf path = STRBUF_INIT, msg = STRBUF_INIT;
	json_t *o;

	for (size_t i = 0; i < j->rep.n; i++) {
		const struct sm_ops_deploy_item *it = &j->rep.items[i];
		const char *st = it->res.status == SM_DEPLOY_FAILED      ? "failed"
				 : it->res.status == SM_DEPLOY_UNCHANGED ? "unchanged"
				 : j->kind == D_UNDEPLOY		 ? "removed"
									 : "copied";

		if (it->res.status == SM_DEPLOY_FAILED)
			fail = fail ? fail : it->res.error;
		else
			json_array_append_new(profs, json_string(it->profile_id));
		copied += it->res.status == SM_DEPLOY_DEPLOYED || it->res.status == SM_DEPLOY_UPDATED;
		skipped += it->res.status == SM_DEPLOY_UNCHANGED;
		json_array_append_new(actions,
				      json_pack("{s:s, s:s, s:s?}", "profile_id", it->profile_id,
						"action", st, "path", it->res.rel_path));
	}
	if (first && first->res.rel_path) {
		struct sm_profile p;

		if (sm_profile_get(first->profile_id, &p, NULL) == 0 &&
		    sm_strbuf_addf(&path, "%s/%s/%s", j->rep.project, p.root,
				   first->res.rel_path) < 0)
			sm_strbuf_reset(&path);
	}
	if (sm_strbuf_addf(&msg, "Could not %s %s",
			   j->kind == D_UNDEPLOY ? "undeploy" : "deploy", j->id) < 0)
		sm_strbuf_reset(&msg);
	o = json_pack("{s:b, s:s, s:s, s:s, s:s?, s:s?, s:s, s:{s:I, s:I, s:I, s:I, s:o}, s:s?, s:o}",
		      "success", fail == NULL, "message",
		      fail ? msg.buf : (j->kind == D_UNDEPLOY ? "Artifact undeployed"
							     : "Artifact deployed"),
		      "artifact_name", j->name, "artifact_type", j->type, "deployed_path",
		      path.len ? path.buf : NULL, "error_message", fail, "strategy",
		      j->strategy ? j->strategy : "overwrite", "merge_details", "files_copied",
		      (json_int_t)copied, "files_skipped", (json_int_t)skipped, "files_preserved",
		      (json_int_t)0, "conflicts", (json_int_t)(fail ? 1 : 0), "file_actions",
		      actions, "deployment_profile_id", first ? first->profile_id : NULL,
		      "deployed_profiles", profs);
	sm_strbuf_release(&path);
	sm_strbuf_release(&msg);
	return o;
}

static json_t *sync_answer(struct djob *j)
{
	json_t *conf = json_array();
	size_t synced = 0;
	bool ok = true;

	for (size_t i = 0; i < j->rep.n; i++) {
		const struct sm_ops_deploy_item *it = &j->rep.items[i];

		if (it->res.status == SM_DEPLOY_FAILED) {
			ok = false;
			json_array_append_new(conf, json_pack("{s:s, s:s}", "file_path",
							      it->res.rel_path ? it->res.rel_path : "",
							      "conflict_type", "modified"));
		}
		synced += it->res.status == SM_DEPLOY_DEPLOYED || it->res.status == SM_DEPLOY_UPDATED;
	}
	return json_pack("{s:b, s:s, s:s, s:s, s:o, s:n, s:I}", "success", ok, "message",
			 ok ? (synced ? "Deployment synced from the collection"
				      : "Deployment already in sync")
			    : "The project copy was modified: not overwritten (strategy theirs "
			      "replaces it)",
			 "artifact_name", j->name, "artifact_type", j->type, "conflicts", conf,
			 "updated_version", "synced_files_count", (json_int_t)synced);
}

static void ddone(struct sm_http_req *req, void *arg)
{
	struct djob *j = arg;
	json_t *o;

	if (!req)
		goto out;
	if (j->not_deployed) {
		(void)sm_http_error(req, 404, "Artifact '%s' is not deployed in '%s'", j->id,
				    j->project);
		goto out;
	}
	if (j->r == -EINVAL) {
		(void)sm_http_error(req, 400, "%s", j->err.buf);
		goto out;
	}
	if (j->r == -EPERM || j->r == -EBADMSG) {
		/* a tracking file we refuse (points outside the project, malformed) */
		(void)sm_http_error(req, 409, "%s", j->err.buf);
		goto out;
	}
	if (j->r < 0) {
		api_fail(req, j->r, j->err.buf);
		goto out;
	}
	o = j->kind == D_SYNC ? sync_answer(j) : deploy_answer(j);
	if (!o)
		api_fail(req, -ENOMEM, NULL);
	else
		(void)sm_http_json(req, 200, o);
out:
	djob_free(j);
}

static int body_bool(struct sm_http_req *req, json_t *body, const char *key, bool *ret)
{
	json_t *v = json_object_get(body, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return api_422(req, key, "bool_type", "Input should be a valid boolean");
	*ret = json_is_true(v);
	return 0;
}

static int body_str(struct sm_http_req *req, json_t *body, const char *key, char **ret)
{
	json_t *v = json_object_get(body, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return api_422(req, key, "string_type", "Input should be a valid string");
	*ret = sm_strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

static int start(struct sm_http_req *req, struct sm_app *app, enum dkind kind)
{
	static const char *const keys[] = { "project_path", "overwrite", "strategy",
					    "deployment_profile_id", "all_profiles", "force",
					    "profile_id" };
	struct sm_cache *cache = api_cache(req);
	const char *id = sm_http_param(req, "id"), *coll = sm_http_query(req, "collection");
	struct sm_artifact_row row = { 0 };
	struct strbuf e = STRBUF_INIT;
	struct djob *j = NULL;
	json_t *body = NULL;
	char *project = NULL;
	const char *key;
	json_t *v;
	int r;

	if (sm_http_json_body(req, &body) < 0)
		return SM_HTTP_DONE;
	if (!json_is_object(body)) {
		r = api_422(req, "body", "dict_type", "Input should be a valid dictionary");
		goto out;
	}
	json_object_foreach(body, key, v) {
		bool known = false;

		for (size_t i = 0; i < SM_ARRAY_SIZE(keys); i++)
			known |= !strcmp(keys[i], key);
		if (!known) {
			r = api_422(req, key, "extra_forbidden", "Extra inputs are not permitted");
			goto out;
		}
	}
	if (!(j = sm_calloc(1, sizeof(*j)))) {
		r = -ENOMEM;
		goto out;
	}
	j->app = app;
	j->kind = kind;
	j->err = (struct strbuf)STRBUF_INIT;
	if ((r = body_str(req, body, "project_path", &project)) < 0 ||
	    (r = body_str(req, body, "strategy", &j->strategy)) < 0 ||
	    (r = body_str(req, body, "deployment_profile_id", &j->profile)) < 0 ||
	    (!j->profile && (r = body_str(req, body, "profile_id", &j->profile)) < 0) ||
	    (r = body_bool(req, body, "overwrite", &j->overwrite)) < 0 ||
	    (r = body_bool(req, body, "all_profiles", &j->all_profiles)) < 0)
		goto out;
	if (!project) {
		r = api_422(req, "project_path", "missing", "Field required");
		goto out;
	}
	if (j->profile && j->all_profiles) {
		(void)sm_http_error(req, 400, "give deployment_profile_id or all_profiles, not both");
		r = API_ANSWERED;
		goto out;
	}
	if (j->profile && sm_profile_get(j->profile, &(struct sm_profile){ 0 }, &e) < 0) {
		(void)sm_http_error(req, 400, "%s", e.buf);
		r = API_ANSWERED;
		goto out;
	}
	if (kind == D_DEPLOY && j->strategy && strcmp(j->strategy, "overwrite") &&
	    strcmp(j->strategy, "merge")) {
		r = api_422(req, "strategy", "literal_error", "Input should be 'overwrite' or 'merge'");
		goto out;
	}
	if (kind == D_SYNC) {
		if (!j->strategy && !(j->strategy = sm_strdup("theirs"))) {
			r = -ENOMEM;
			goto out;
		}
		if (strcmp(j->strategy, "theirs") && strcmp(j->strategy, "ours") &&
		    strcmp(j->strategy, "manual")) {
			r = api_422(req, "strategy", "literal_error",
				    "Input should be 'theirs', 'ours' or 'manual'");
			goto out;
		}
	}
	/* an existing folder, resolved: nothing is ever written outside it */
	if (project[0] != '/' || sm_ops_project_path(project, &j->project, &e) < 0) {
		(void)sm_http_error(req, 400, "Project path does not exist or is not a folder: %s",
				    project);
		r = API_ANSWERED;
		goto out;
	}
	if ((r = api_resolve(req, cache, id, coll, &row)) < 0)
		goto out;
	j->name = sm_strdup(row.name);
	j->type = sm_strdup(row.type);
	j->collection = sm_strdup(row.collection);
	sm_strbuf_reset(&e);
	if (sm_strbuf_addf(&e, "%s:%s", row.type, row.name) == 0)
		j->id = sm_strbuf_detach(&e, NULL);
	if (!j->name || !j->type || !j->collection || !j->id) {
		r = -ENOMEM;
		goto out;
	}
	r = sm_http_defer(req, dwork, ddone, j);
	if (r == 0) {
		j = NULL;
		r = SM_HTTP_DEFERRED;
	}
out:
	djob_free(j);
	sm_free(project);
	json_decref(body);
	sm_artifact_row_release(&row);
	sm_strbuf_release(&e);
	if (r == SM_HTTP_DEFERRED)
		return r;
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

static int art_deploy(struct sm_http_req *req, void *data)
{
	return start(req, data, D_DEPLOY);
}

static int art_undeploy(struct sm_http_req *req, void *data)
{
	return start(req, data, D_UNDEPLOY);
}

static int art_sync(struct sm_http_req *req, void *data)
{
	return start(req, data, D_SYNC);
}

int api_add_deployments(struct sm_cache *cache, const struct sm_artifact_row *row, json_t *o)
{
	struct sm_deployment_row *d = NULL;
	size_t n = 0, modified = 0;
	json_t *a, *projects, *stats;
	int r;

	if (!cache || !row->collection || !row->type || !row->name)
		return 0;
	r = sm_store_deployments_of(cache->store, row->collection, row->type, row->name, &d, &n,
				    NULL);
	if (r < 0)
		return r == -ENOMEM ? r : 0; /* an older index: the fields stay empty */
	a = json_array();
	projects = json_object();
	for (size_t i = 0; a && projects && i < n; i++) {
		const char *base = strrchr(d[i].project, '/');

		modified += d[i].local_modifications;
		json_object_set_new(projects, d[i].project, json_true());
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:b, s:s?}", "project_path",
				     d[i].project, "project_name", base ? base + 1 : d[i].project,
				     "deployed_at", d[i].deployed_at, "content_hash",
				     d[i].content_hash, "deployment_profile_id", d[i].profile_id,
				     "local_modifications", d[i].local_modifications, "platform",
				     d[i].platform));
	}
	stats = json_pack("{s:I, s:I, s:I}", "total_deployments", (json_int_t)n,
			  "project_count", (json_int_t)json_object_size(projects),
			  "modified_count", (json_int_t)modified);
	json_decref(projects);
	sm_deployment_rows_free(d, n);
	if (!a || !stats) {
		json_decref(a);
		json_decref(stats);
		return -ENOMEM;
	}
	json_object_set_new(o, "deployments", a);
	if (json_object_get(o, "deployment_stats"))
		json_object_set_new(o, "deployment_stats", stats);
	else
		json_decref(stats);
	return 0;
}

/* GET /deployments?project_path=P: hashes files, so it runs on a worker. */
struct ljob {
	struct sm_app *app;
	char *project;
	int r;
	struct sm_dep_status_list l;
	struct strbuf err;
};

static void lwork(void *arg)
{
	struct ljob *j = arg;

	j->r = sm_deploy_status(j->app->home, j->project, NULL, &j->l, &j->err);
}

static void ldone(struct sm_http_req *req, void *arg)
{
	struct ljob *j = arg;

	if (!req)
		goto out;
	if (j->r < 0) {
		(void)sm_http_error(req, j->r == -EPERM || j->r == -EBADMSG ? 409 : 500, "%s",
				    j->err.buf);
	} else {
		json_t *a = json_array();
		char id[300];

		for (size_t i = 0; a && i < j->l.len; i++) {
			const struct sm_dep_status *s = &j->l.items[i];

			snprintf(id, sizeof(id), "%s:%s", sm_artifact_type_name(s->type), s->name);
			json_array_append_new(
				a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?}",
					     "artifact_id", id, "artifact_name", s->name,
					     "artifact_type", sm_artifact_type_name(s->type),
					     "profile_id", s->profile_id, "artifact_path",
					     s->rel_path, "deployed_at", s->deployed_at, "status",
					     sm_dep_state_name(s->state), "collection",
					     s->collection, "error", s->error));
		}
		/* the answer hashes the project's files: its ETag is its own hash */
		if (sm_http_json(req, 200,
				 json_pack("{s:s, s:o}", "project_path", j->project, "deployments",
					   a)) >= 0)
			(void)api_body_etag(req);
	}
out:
	sm_free(j->project);
	sm_dep_status_list_release(&j->l);
	sm_strbuf_release(&j->err);
	sm_free(j);
}

static int list_deployments(struct sm_http_req *req, void *data)
{
	const char *p = sm_http_query(req, "project_path");
	struct strbuf e = STRBUF_INIT;
	struct ljob *j;
	char *project = NULL;
	int r;

	if (!p || !*p) {
		/* a query parameter: 400 {"detail"} (422 is for bodies) */
		(void)sm_http_error(req, 400, "Missing query parameter 'project_path'");
		return SM_HTTP_DONE;
	}
	if (p[0] != '/' || sm_ops_project_path(p, &project, &e) < 0) {
		sm_strbuf_release(&e);
		(void)sm_http_error(req, 400, "Project path does not exist or is not a folder: %s",
				    p);
		return SM_HTTP_DONE;
	}
	sm_strbuf_release(&e);
	j = sm_calloc(1, sizeof(*j));
	if (!j) {
		sm_free(project);
		return api_fail(req, -ENOMEM, NULL);
	}
	j->app = data;
	j->project = project;
	j->err = (struct strbuf)STRBUF_INIT;
	r = sm_http_defer(req, lwork, ldone, j);
	if (r < 0) {
		sm_free(j->project);
		sm_free(j);
		return api_fail(req, r, NULL);
	}
	return SM_HTTP_DEFERRED;
}

int api_register_deployments(struct sm_app *app, struct sm_router *router, struct strbuf *err)
{
	int r = sm_router_add(router, "POST", API_PREFIX "/artifacts/{id}/deploy", art_deploy, app,
			      0, err);

	r = r < 0 ? r
		  : sm_router_add(router, "POST", API_PREFIX "/artifacts/{id}/undeploy",
				  art_undeploy, app, 0, err);
	r = r < 0 ? r
		  : sm_router_add(router, "POST", API_PREFIX "/artifacts/{id}/sync", art_sync, app,
				  0, err);
	r = r < 0 ? r
		  : sm_router_add(router, "GET", API_PREFIX "/deployments", list_deployments, app,
				  0, err);
	return r < 0 ? r : 0;
}
