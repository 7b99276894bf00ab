/* SPDX-License-Identifier: MIT */
/*
 * The deployments index: the tracking files of the projects the home's
 * projects.toml lists, read into the deployments table (cache.h).
 */
#include <errno.h>
#include <string.h>

#include "skillmeat/array.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

struct rows {
	struct sm_deployment_row *v;
	size_t n, alloc;
};

static int dup(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = sm_strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* Append the records of one loaded tracking file. */
static int read_tracking(const struct sm_tracking *t, struct rows *out)
{
	int r = 0;

	for (size_t i = 0; i < sm_tracking_count(t) && r == 0; i++) {
		const struct sm_toml_value *rec = sm_tracking_at(t, i);
		struct sm_deployment_row *d;
		bool lm = false;

		if (SM_GROW(out->v, out->alloc, out->n + 1) < 0)
			return -ENOMEM;
		d = &out->v[out->n++];
		memset(d, 0, sizeof(*d));
		(void)sm_toml_get_bool(rec, "local_modifications", &lm);
		d->local_modifications = lm;
		r = dup(&d->project, t->project);
		r = r ?: dup(&d->root, t->root);
		r = r ?: dup(&d->profile_id, sm_rec_profile(rec));
		r = r ?: dup(&d->collection, sm_rec_collection(rec));
		r = r ?: dup(&d->type, sm_artifact_type_name(sm_rec_type(rec)));
		r = r ?: dup(&d->name, sm_rec_name(rec));
		r = r ?: dup(&d->artifact_path, sm_rec_path(rec));
		r = r ?: dup(&d->deployed_at, sm_rec_deployed_at(rec));
		r = r ?: dup(&d->content_hash, sm_rec_hash(rec));
		r = r ?: dup(&d->platform, sm_toml_get_string(rec, "platform"));
	}
	return r;
}

int sm_cache_index_tracking(struct sm_cache *cache, const struct sm_tracking *t,
			    struct strbuf *err)
{
	struct rows rows = { 0 };
	int r = read_tracking(t, &rows);

	if (r < 0)
		r = sm_err(err, r, "out of memory");
	else
		r = sm_store_replace_deployments(cache->store, t->project, t->root, rows.v, rows.n,
						 err);
	sm_deployment_rows_free(rows.v, rows.n);
	return r;
}

/* Append the records of every root of project; a refused file is skipped. */
static int read_project(const char *project, struct rows *out)
{
	char **roots = NULL;
	size_t nroots = 0;
	int r = 0;

	if (sm_tracking_roots(project, &roots, &nroots, NULL) < 0)
		return 0; /* gone or unreadable: nothing deployed there now */
	for (size_t k = 0; k < nroots && r == 0; k++) {
		struct sm_tracking *t;

		if (sm_tracking_load(project, roots[k], &t, NULL) < 0)
			continue;
		r = read_tracking(t, out);
		sm_tracking_free(t);
	}
	sm_strv_free(roots, nroots);
	return r;
}

int sm_cache_index_project(struct sm_cache *cache, const char *project, struct strbuf *err)
{
	struct rows rows = { 0 };
	int r = read_project(project, &rows);

	if (r < 0)
		r = sm_err(err, r, "out of memory");
	else
		r = sm_store_replace_deployments(cache->store, project, NULL, rows.v, rows.n, err);
	sm_deployment_rows_free(rows.v, rows.n);
	return r;
}

int sm_cache_index_projects(struct sm_cache *cache, struct strbuf *err)
{
	struct rows rows = { 0 };
	char **projects = NULL;
	size_t n = 0;
	int r;

	r = sm_projects_list(cache->home, &projects, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		r = read_project(projects[i], &rows);
	if (r < 0)
		r = sm_err(err, r, "out of memory");
	else
		r = sm_store_replace_deployments(cache->store, NULL, NULL, rows.v, rows.n, err);
	sm_deployment_rows_free(rows.v, rows.n);
	sm_strv_free(projects, n);
	return r;
}
