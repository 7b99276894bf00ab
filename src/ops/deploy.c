/* SPDX-License-Identifier: MIT */
/*
 * Deploy and undeploy as whole operations: home lock → project files and one
 * write per tracking file → projects.toml → invalidation.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_deploy.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

int sm_ops_project_path(const char *project, char **ret, struct strbuf *err)
{
	char *real;
	struct stat st;

	if (!project)
		project = ".";
	if (!*project)
		return sm_err(err, -EINVAL, "empty project path");
	real = realpath(project, NULL);
	if (!real)
		return sm_err(err, -errno, "project '%s': %s", project, sm_strerror(errno));
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(real);
		return sm_err(err, -ENOTDIR, "project '%s' is not a folder", project);
	}
	*ret = sm_strdup(real);
	free(real);
	return *ret ? 0 : sm_err(err, -ENOMEM, "out of memory");
}

void sm_ops_deploy_report_release(struct sm_ops_deploy_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		sm_free(r->items[i].id);
		sm_free(r->items[i].profile_id);
		sm_deploy_result_release(&r->items[i].res);
	}
	sm_free(r->items);
	sm_free(r->project);
	sm_free(r->collection);
	memset(r, 0, sizeof(*r));
}

static struct sm_ops_deploy_item *report_add(struct sm_ops_deploy_report *r, const char *id,
					     const char *profile)
{
	struct sm_ops_deploy_item *nv = sm_reallocarray(r->items, r->n + 1, sizeof(*nv)), *it;

	if (!nv)
		return NULL;
	r->items = nv;
	it = &r->items[r->n];
	memset(it, 0, sizeof(*it));
	it->id = sm_strdup(id);
	it->profile_id = sm_strdup(profile ? profile : "");
	if (!it->id || !it->profile_id) {
		sm_free(it->id);
		sm_free(it->profile_id);
		return NULL;
	}
	r->n++;
	return it;
}

static int item_fail(struct sm_ops_deploy_report *r, const char *id, const char *profile,
		     const char *msg)
{
	struct sm_ops_deploy_item *it = report_add(r, id, profile);

	if (!it)
		return -ENOMEM;
	it->res.status = SM_DEPLOY_FAILED;
	it->res.error = sm_strdup(msg);
	r->failed++;
	return it->res.error ? 0 : -ENOMEM;
}

/* Trackings of one run, one per profile root. */
struct trackings {
	struct sm_tracking **v;
	size_t n;
};

static int tracking_for(struct trackings *ts, const char *project, const char *root,
			struct sm_tracking **ret, struct strbuf *err)
{
	struct sm_tracking *t, **nv;
	int r;

	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->v[i]->root, root)) {
			*ret = ts->v[i];
			return 0;
		}
	r = sm_tracking_load(project, root, &t, err);
	if (r < 0)
		return r;
	nv = sm_reallocarray(ts->v, ts->n + 1, sizeof(*nv));
	if (!nv) {
		sm_tracking_free(t);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	ts->v = nv;
	ts->v[ts->n++] = t;
	sm_deploy_cleanup(t);
	*ret = t;
	return 0;
}

static void trackings_free(struct trackings *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		sm_tracking_free(ts->v[i]);
	sm_free(ts->v);
}

/* Write every changed tracking file, then the registry. */
static int finish(struct sm_home *home, const char *project, struct trackings *ts,
		  struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	char **roots = NULL;
	size_t nroots = 0, total = 0;
	int r = 0;

	for (size_t i = 0; i < ts->n && r == 0; i++)
		r = sm_tracking_save(ts->v[i], err);
	if (r < 0)
		return r;
	/* does the project still hold deployments (any root)? the loaded ones count as they are */
	for (size_t i = 0; i < ts->n; i++)
		total += sm_tracking_count(ts->v[i]);
	if (!total && sm_tracking_roots(project, &roots, &nroots, &e) == 0) {
		for (size_t i = 0; i < nroots; i++) {
			struct sm_tracking *t;
			bool loaded = false;

			for (size_t k = 0; k < ts->n; k++)
				loaded |= !strcmp(ts->v[k]->root, roots[i]);
			if (!loaded && sm_tracking_load(project, roots[i], &t, NULL) == 0) {
				total += sm_tracking_count(t);
				sm_tracking_free(t);
			}
		}
		sm_strv_free(roots, nroots);
	}
	sm_strbuf_release(&e);
	return sm_projects_note(home, project, total > 0, err);
}

/*
 * The deployments index follows the files, from the trackings in memory (no
 * second read), for the tracking files this run wrote (an unchanged re-deploy
 * touches no row); a failure only delays it to the next refresh.
 */
static void index_trackings(struct sm_ops_ctx *ctx, const struct trackings *ts)
{
	struct strbuf e = STRBUF_INIT;
	struct sm_cache *cache = ctx->cache;

	for (size_t i = 0; i < ts->n; i++) {
		if (!ts->v[i]->written)
			continue;
		/* the index opened only when a tracking file was written (not by a no-op) */
		if (!cache && !(cache = ctx->truth.ops->index(&ctx->truth, &e)))
			break;
		if (sm_cache_index_tracking(cache, ts->v[i], &e) < 0) {
			sm_ops_warn(ctx, "the deployments index is behind the files: %s", e.buf);
			break;
		}
	}
	sm_strbuf_release(&e);
}

static int profiles_of(const struct sm_ops_deploy_req *req, const char *project,
		       struct sm_profile **ret, size_t *n, struct strbuf *err)
{
	static const char *const builtin[] = { "claude_code", "codex", "gemini", "cursor",
					       "remote_git" };
	struct sm_profile *v;
	size_t k = 0;
	int r;

	if (req->all_profiles && req->nprofiles)
		return sm_err(err, -EINVAL, "give --profile or --all-profiles, not both");
	v = sm_calloc(SM_ARRAY_SIZE(builtin) + req->nprofiles + 1, sizeof(*v));
	if (!v)
		return sm_err(err, -ENOMEM, "out of memory");
	if (req->all_profiles) {
		struct strbuf p = STRBUF_INIT;

		for (size_t i = 0; i < SM_ARRAY_SIZE(builtin); i++) {
			struct sm_profile pr;

			(void)sm_profile_get(builtin[i], &pr, NULL);
			sm_strbuf_reset(&p);
			if (sm_strbuf_addf(&p, "%s/%s", project, pr.root) == 0 && sm_fs_is_dir(p.buf))
				v[k++] = pr;
		}
		sm_strbuf_release(&p);
	}
	for (size_t i = 0; i < req->nprofiles; i++) {
		r = sm_profile_get(req->profiles[i], &v[k], err);
		if (r < 0) {
			sm_free(v);
			return r;
		}
		k++;
	}
	if (!k)
		(void)sm_profile_get(NULL, &v[k++], NULL);
	*ret = v;
	*n = k;
	return 0;
}

static int deploy_entry(struct sm_collection *c, size_t idx, const struct sm_profile *profs,
			size_t nprofs, struct trackings *ts, const struct sm_ops_deploy_req *req,
			struct sm_ops_deploy_report *rep, struct strbuf *err)
{
	const struct sm_toml_value *e = sm_manifest_at(c->manifest, idx);
	const char *name = sm_entry_name(e);
	enum sm_artifact_type type = sm_entry_type(e);
	struct strbuf id = STRBUF_INIT, src = STRBUF_INIT, te = STRBUF_INIT;
	struct stat st;
	bool have_st;
	int r;

	r = sm_strbuf_addf(&id, "%s:%s", sm_artifact_type_name(type), name);
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	/* never deploy what lies outside the collection: that item fails */
	r = sm_collection_entry_path_st(c, e, &src, &st, &have_st, &te);
	if (r == -EINVAL || r == -ENOENT) {
		r = item_fail(rep, id.buf, NULL, te.buf);
		goto out;
	}
	if (r < 0)
		goto out;
	for (size_t k = 0; k < nprofs; k++) {
		struct sm_deploy_src s = { .name = name,
					   .type = type,
					   .collection = req->record_collection
								 ? req->record_collection
								 : c->name,
					   .path = src.buf,
					   .uuid = sm_entry_str(e, "uuid"),
					   .st = have_st ? &st : NULL };
		struct sm_ops_deploy_item *it;
		struct sm_tracking *t;

		r = tracking_for(ts, rep->project, profs[k].root, &t, err);
		if (r < 0)
			goto out;
		it = report_add(rep, id.buf, profs[k].id);
		if (!it) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
		r = sm_deploy_one(t, &profs[k], &s, &req->opts, &it->res, err);
		if (r < 0)
			goto out;
		if (it->res.status == SM_DEPLOY_FAILED)
			rep->failed++;
	}
out:
	sm_strbuf_release(&id);
	sm_strbuf_release(&src);
	sm_strbuf_release(&te);
	return r;
}

int sm_ops_deploy(struct sm_ops_ctx *ctx, const struct sm_ops_deploy_req *req,
		  struct sm_ops_deploy_report *ret, struct strbuf *err)
{
	struct sm_home *home = ctx->home;
	struct sm_ops_deploy_report rep = { 0 };
	struct trackings ts = { 0 };
	struct sm_collection *c = NULL;
	struct sm_profile *profs = NULL;
	struct strbuf e = STRBUF_INIT;
	struct sm_ops_deploy_req rq = *req;

	size_t nprofs = 0;
	bool locked = false;
	int r;

	rq.opts.hashes = NULL;
	if (!req->all && !req->nids)
		return sm_err(err, -EINVAL, "nothing to deploy: give names or --all");
	r = sm_ops_project_path(req->project, &rep.project, err);
	if (r < 0)
		return r;
	r = profiles_of(req, rep.project, &profs, &nprofs, err);
	if (r < 0)
		goto out;
	r = sm_home_lock(home, err);
	if (r < 0)
		goto out;
	locked = true;
	r = sm_collection_open(home, req->collection, &c, err);
	if (r < 0)
		goto out;
	rep.collection = sm_strdup(c->name);
	if (!rep.collection) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (sm_hashcache_open(home, &rq.opts.hashes, NULL) < 0)
		rq.opts.hashes = NULL;
	req = &rq;
	if (req->all) {
		for (size_t i = 0; i < sm_manifest_count(c->manifest) && r == 0; i++) {
			enum sm_artifact_type t = sm_entry_type(sm_manifest_at(c->manifest, i));
			struct strbuf tmp = STRBUF_INIT;

			/* --all: the deployable types only */
			if (sm_deploy_rel_path(t, "x", &tmp, NULL) == 0)
				r = deploy_entry(c, i, profs, nprofs, &ts, req, &rep, err);
			sm_strbuf_release(&tmp);
		}
	}
	for (size_t i = 0; i < req->nids && r == 0; i++) {
		long idx = sm_collection_resolve(c, req->ids[i], &e);

		if (idx < 0)
			r = item_fail(&rep, req->ids[i], NULL, e.buf);
		else
			r = deploy_entry(c, (size_t)idx, profs, nprofs, &ts, req, &rep, err);
		if (r == -ENOMEM)
			r = sm_err(err, r, "out of memory");
	}
	if (r == 0)
		r = finish(home, rep.project, &ts, err);
	if (r == 0)
		index_trackings(ctx, &ts);
	(void)sm_hashcache_save(rq.opts.hashes, NULL);
	if (locked)
		sm_home_unlock(home);
	locked = false;
	if (r == 0)
		sm_ops_invalidate(ctx, NULL);
out:
	if (locked)
		sm_home_unlock(home);
	trackings_free(&ts);
	sm_collection_free(c);
	sm_hashcache_free(rq.opts.hashes);
	sm_free(profs);
	sm_strbuf_release(&e);
	if (r < 0) {
		sm_ops_deploy_report_release(&rep);
		return r;
	}
	*ret = rep;
	return 0;
}

/* "type:name" → type and name; a plain name → SM_TYPE_INVALID. */
static int split_id(const char *id, enum sm_artifact_type *type, const char **name)
{
	const char *colon = strchr(id, ':');
	char buf[32];

	*type = SM_TYPE_INVALID;
	*name = id;
	if (!colon)
		return 0;
	if ((size_t)(colon - id) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, id, (size_t)(colon - id));
	buf[colon - id] = '\0';
	*type = sm_artifact_type_parse(buf);
	*name = colon + 1;
	return *type == SM_TYPE_INVALID ? -EINVAL : 0;
}

/*
 * A bare NAME names the one type deployed under it (in the profiles asked for):
 * *type set to it, 0; -ENOENT when none is; -EEXIST when several are, with the
 * candidates in msg (nothing is undeployed for it, as deploy and edit refuse).
 */
static int bare_name_type(const struct trackings *ts, const char *name, const char *profile,
			  enum sm_artifact_type *type, struct strbuf *msg)
{
	bool seen[SM_TYPE__COUNT] = { false };
	size_t n = 0;

	for (size_t k = 0; k < ts->n; k++) {
		const struct sm_tracking *t = ts->v[k];

		for (size_t j = 0; j < sm_tracking_count(t); j++) {
			const struct sm_toml_value *rec = sm_tracking_at(t, j);
			enum sm_artifact_type rt = sm_rec_type(rec);

			if (rt == SM_TYPE_INVALID || (int)rt >= SM_TYPE__COUNT || seen[rt] ||
			    strcmp(sm_rec_name(rec), name) ||
			    (profile && strcmp(sm_rec_profile(rec), profile)))
				continue;
			seen[rt] = true;
			*type = rt;
			n++;
		}
	}
	if (n < 2)
		return n ? 0 : -ENOENT;
	if (sm_strbuf_addf(msg, "ambiguous: deployed as") < 0)
		return -ENOMEM;
	for (int i = 0; i < SM_TYPE__COUNT; i++)
		if (seen[i] && sm_strbuf_addf(msg, " %s:%s", sm_artifact_type_name(i), name) < 0)
			return -ENOMEM;
	return sm_strbuf_addf(msg, " (give TYPE:NAME)") < 0 ? -ENOMEM : -EEXIST;
}

int sm_ops_undeploy(struct sm_ops_ctx *ctx, const struct sm_ops_undeploy_req *req,
		    struct sm_ops_deploy_report *ret, struct strbuf *err)
{
	struct sm_home *home = ctx->home;
	struct sm_ops_deploy_report rep = { 0 };
	struct trackings ts = { 0 };
	struct strbuf e = STRBUF_INIT, id = STRBUF_INIT;
	struct sm_profile only;
	char **roots = NULL;
	size_t nroots = 0;
	bool locked = false;
	int r;

	if (!req->nids)
		return sm_err(err, -EINVAL, "nothing to undeploy: give names");
	if (req->profile && (r = sm_profile_get(req->profile, &only, err)) < 0)
		return r;
	r = sm_ops_project_path(req->project, &rep.project, err);
	if (r < 0)
		return r;
	r = sm_home_lock(home, err);
	if (r < 0)
		goto out;
	locked = true;
	r = sm_tracking_roots(rep.project, &roots, &nroots, err);
	for (size_t k = 0; k < nroots && r == 0; k++) {
		struct sm_tracking *t;

		if (req->profile && strcmp(roots[k], only.root))
			continue;
		r = tracking_for(&ts, rep.project, roots[k], &t, err);
	}
	for (size_t i = 0; i < req->nids && r == 0; i++) {
		enum sm_artifact_type type;
		const char *name;
		size_t hits = 0;

		if (split_id(req->ids[i], &type, &name) < 0) {
			r = item_fail(&rep, req->ids[i], NULL, "invalid artifact id");
			continue;
		}
		if (type == SM_TYPE_INVALID) {
			sm_strbuf_reset(&e);
			r = bare_name_type(&ts, name, req->profile, &type, &e);
			if (r == -EEXIST) {
				r = item_fail(&rep, req->ids[i], req->profile, e.buf);
				continue;
			}
			if (r == -ENOENT)
				r = 0; /* not deployed: said below */
		}
		for (size_t k = 0; k < ts.n && r == 0; k++) {
			struct sm_tracking *t = ts.v[k];

			for (size_t j = sm_tracking_count(t); j-- > 0 && r == 0;) {
				const struct sm_toml_value *rec = sm_tracking_at(t, j);
				const char *prof = sm_rec_profile(rec);
				struct sm_ops_deploy_item *it;

				if (sm_tracking_find(t, name, type, prof) != (long)j)
					continue;
				if (req->profile && strcmp(prof, req->profile))
					continue;
				hits++;
				sm_strbuf_reset(&id);
				if (sm_strbuf_addf(&id, "%s:%s",
						   sm_artifact_type_name(sm_rec_type(rec)),
						   sm_rec_name(rec)) < 0 ||
				    !(it = report_add(&rep, id.buf, prof))) {
					r = sm_err(err, -ENOMEM, "out of memory");
					break;
				}
				it->res.rel_path = sm_strdup(sm_rec_path(rec));
				if (sm_undeploy_one(t, j, req->force, &e) < 0) {
					it->res.status = SM_DEPLOY_FAILED;
					it->res.error = sm_strdup(e.buf);
					rep.failed++;
				} else {
					it->res.status = SM_DEPLOY_DEPLOYED;
				}
			}
		}
		if (r == 0 && !hits) {
			sm_strbuf_reset(&e);
			r = sm_strbuf_addf(&e, "'%s' is not deployed in '%s'", req->ids[i],
					   rep.project);
			if (r == 0)
				r = item_fail(&rep, req->ids[i], req->profile, e.buf);
		}
		if (r == -ENOMEM)
			r = sm_err(err, r, "out of memory");
	}
	if (r == 0)
		r = finish(home, rep.project, &ts, err);
	if (r == 0)
		index_trackings(ctx, &ts);
	if (locked)
		sm_home_unlock(home);
	locked = false;
	if (r == 0)
		sm_ops_invalidate(ctx, NULL);
out:
	if (locked)
		sm_home_unlock(home);
	trackings_free(&ts);
	sm_strv_free(roots, nroots);
	sm_strbuf_release(&e);
	sm_strbuf_release(&id);
	if (r < 0) {
		sm_ops_deploy_report_release(&rep);
		return r;
	}
	*ret = rep;
	return 0;
}
