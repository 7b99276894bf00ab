/* SPDX-License-Identifier: MIT */
/* Helpers shared by the REST handlers: parameters, cursors, counts, views. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/artifact.h"
#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

/* ---- writes ---- */

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

/* ---- parameters ---- */

int api_fail(struct sm_http_req *req, int r, const char *msg)
{
	if (r == API_ANSWERED)
		return SM_HTTP_DONE;
	if (r == API_DEFERRED)
		return SM_HTTP_DEFERRED;
	if (sm_http_errno_status(r) == 500)
		sm_log_error("server: %s %s: %s", req->method, req->path,
			     msg && *msg ? msg : sm_strerror(r));
	(void)sm_http_error_errno(req, r, msg && *msg ? msg : NULL);
	return SM_HTTP_DONE;
}

int api_limit(struct sm_http_req *req, size_t def, size_t max, size_t *ret)
{
	const char *s = sm_http_query(req, "limit");
	char *end;
	long v;

	if (!s) {
		*ret = def;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || (unsigned long)v > max) {
		(void)sm_http_error(
		    req, 400, "Invalid limit '%s': expected an integer from 1 to %zu", s, max);
		return API_ANSWERED;
	}
	*ret = (size_t)v;
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Decode standard base64 (padding required); -EINVAL when malformed. */
static int b64_decode(const char *s, struct strbuf *out)
{
	size_t len = strlen(s);

	if (len == 0 || len % 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		unsigned long w;
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64_value(s[i + k])) < 0) {
				return -EINVAL;
			}
		}
		w = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
		    ((unsigned long)v[2] << 6) | (unsigned long)v[3];
		if (sm_strbuf_addch(out, (int)((w >> 16) & 0xff)) < 0 ||
		    (pad < 2 && sm_strbuf_addch(out, (int)((w >> 8) & 0xff)) < 0) ||
		    (pad < 1 && sm_strbuf_addch(out, (int)(w & 0xff)) < 0))
			return -ENOMEM;
	}
	return 0;
}

static int b64_encode(const char *s, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i += 3) {
		unsigned long w = (unsigned long)p[i] << 16;
		size_t rem = len - i;
		char q[4];

		if (rem > 1)
			w |= (unsigned long)p[i + 1] << 8;
		if (rem > 2)
			w |= p[i + 2];
		q[0] = b64[(w >> 18) & 63];
		q[1] = b64[(w >> 12) & 63];
		q[2] = rem > 1 ? b64[(w >> 6) & 63] : '=';
		q[3] = rem > 2 ? b64[w & 63] : '=';
		if (sm_strbuf_add(out, q, 4) < 0)
			return -ENOMEM;
	}
	return 0;
}

int api_cursor(struct sm_http_req *req, char **ret)
{
	const char *s = sm_http_query(req, "after");
	struct strbuf d = STRBUF_INIT;
	int r;

	*ret = NULL;
	if (!s)
		return 0;
	r = b64_decode(s, &d);
	if (r == 0 && (d.len == 0 || strlen(d.buf) != d.len))
		r = -EINVAL;
	if (r == -EINVAL) {
		(void)sm_http_error(req, 400, "Invalid cursor format: not base64 of a key");
		r = API_ANSWERED;
	} else if (r == 0 && !(*ret = sm_http_strndup(req, d.buf, d.len))) {
		r = -ENOMEM;
	}
	sm_strbuf_release(&d);
	return r;
}

json_t *api_cursor_json(const char *s)
{
	struct strbuf e = STRBUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	j = b64_encode(s, &e) == 0 ? json_string(e.buf) : NULL;
	sm_strbuf_release(&e);
	return j;
}

int api_split(struct sm_http_req *req, const char *s, const char ***ret, size_t *ret_n)
{
	size_t cap = 1, n = 0;
	const char **v;
	const char *p;

	for (p = s; *p; p++)
		cap += *p == ',';
	v = sm_http_alloc(req, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (p = s;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len && !(v[n++] = sm_http_strndup(req, p, len)))
			return -ENOMEM;
		if (!e)
			break;
		p = e + 1;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int api_422(struct sm_http_req *req, const char *field, const char *type, const char *msg)
{
	json_t *item =
	    json_pack("{s:s, s:[s, s], s:s}", "type", type, "loc", "body", field, "msg", msg);
	json_t *detail = item ? json_pack("[o]", item) : NULL;

	if (!detail)
		return -ENOMEM;
	(void)sm_http_error_detail(req, 422, detail);
	return API_ANSWERED;
}

bool api_revision_etag(struct sm_http_req *req, struct sm_cache *cache, const char *extra)
{
	char rev[SM_STORE_REVISION_MAX];
	struct strbuf tag = STRBUF_INIT;
	bool done = false;

	if (sm_store_revision(cache->store, rev, NULL) < 0)
		return false;
	if (sm_strbuf_addf(&tag, "%s%s%s", extra ? extra : "", extra ? "." : "", rev) == 0)
		done = sm_http_etag(req, tag.buf);
	sm_strbuf_release(&tag);
	return done;
}

bool api_is_default(const char *id)
{
	return id && !strcmp(id, SM_UC_DEFAULT_ID);
}

/* ---- artifact ids ---- */

int api_resolve(struct sm_http_req *req, struct sm_cache *cache, const char *id,
		const char *collection, struct sm_artifact_row *ret)
{
	struct strbuf err = STRBUF_INIT;
	int r = sm_ops_resolve_id(cache, id, collection, ret, &err);

	if (r == -EEXIST) {
		(void)sm_http_error(req, 400, "%s (use collection/type:name or ?collection=)",
				    err.buf);
		r = API_ANSWERED;
	} else if (r == -EINVAL || r == -ENOENT) {
		api_fail(req, r, err.buf);
		r = API_ANSWERED;
	} else if (r < 0) {
		api_fail(req, r, err.buf);
		r = API_ANSWERED;
	}
	sm_strbuf_release(&err);
	return r;
}

int api_artifact_key(struct sm_cache *cache, const struct sm_artifact_row *row, struct strbuf *out)
{
	return sm_cache_artifact_key(cache, row, out, NULL);
}

/* ---- views ---- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *array_of(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	if (!json_is_array(j)) {
		json_decref(j);
		j = json_array();
	}
	return j;
}

int api_collections_of(struct sm_app *app, struct sm_cache *cache,
		       const struct sm_artifact_row *rows, size_t n, json_t **out)
{
	const char **uuids = NULL, **ids = NULL;
	struct sm_membership *m = NULL;
	int64_t *counts = NULL;
	size_t nm = 0, nids = 0;
	int r;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (n == 0)
		return 0;
	uuids = sm_calloc(n, sizeof(*uuids));
	if (!uuids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		uuids[i] = rows[i].uuid;
	r = sm_store_memberships_of(cache->store, uuids, n, &m, &nm, NULL);
	if (r < 0)
		goto out;
	ids = sm_calloc(nm + 1, sizeof(*ids));
	counts = sm_calloc(nm + 1, sizeof(*counts));
	if (!ids || !counts) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < nm; k++) {
		bool seen = false;

		for (size_t j = 0; j < nids && !seen; j++)
			seen = !strcmp(ids[j], m[k].collection_id);
		if (!seen)
			ids[nids++] = m[k].collection_id;
	}
	r = api_counts(app, cache, ids, nids, counts);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		out[i] = json_array();
		if (!out[i]) {
			r = -ENOMEM;
			goto out;
		}
		/* memberships come ordered by artifact uuid: binary search the first */
		size_t lo = 0, hi = nm;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(m[mid].artifact_uuid, rows[i].uuid) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < nm && !strcmp(m[k].artifact_uuid, rows[i].uuid); k++) {
			int64_t c = 0;

			for (size_t j = 0; j < nids; j++)
				if (!strcmp(ids[j], m[k].collection_id))
					c = counts[j];
			json_array_append_new(out[i],
					      json_pack("{s:s, s:s, s:I}", "id", m[k].collection_id,
							"name", m[k].collection_name,
							"artifact_count", (json_int_t)c));
		}
	}
	r = 0;
out:
	if (r < 0)
		for (size_t i = 0; i < n; i++) {
			json_decref(out[i]);
			out[i] = NULL;
		}
	sm_memberships_free(m, nm);
	sm_free(uuids);
	sm_free(ids);
	sm_free(counts);
	return r;
}

/* source: the upstream URL, else the id (as the original). */
static const char *source_of(const struct sm_artifact_row *row, const char *key)
{
	if (row->upstream)
		return row->upstream;
	if (row->source)
		return row->source;
	return key;
}

json_t *api_artifact_summary(const struct sm_artifact_row *row, const char *key,
			     json_t *collections)
{
	json_t *o = json_object();

	if (!o) {
		json_decref(collections);
		return NULL;
	}
	json_object_set_new(o, "id", json_string(key));
	json_object_set_new(o, "name", json_string(row->name));
	json_object_set_new(o, "type", json_string(row->type));
	json_object_set_new(o, "version", str_or_null(row->version));
	json_object_set_new(o, "source", json_string(source_of(row, key)));
	json_object_set_new(o, "description", str_or_null(row->description));
	json_object_set_new(o, "author", str_or_null(row->author));
	json_object_set_new(o, "tags", array_of(row->tags_json));
	json_object_set_new(o, "tools", array_of(row->tools_json));
	json_object_set_new(o, "origin", str_or_null(row->origin));
	json_object_set_new(o, "origin_source", str_or_null(row->origin_source));
	json_object_set_new(o, "collections", collections ? collections : json_array());
	json_object_set_new(o, "deployments", json_array());
	return o;
}

json_t *api_artifact_response(const struct sm_artifact_row *row, const char *key,
			      json_t *collections)
{
	json_t *o = json_object(), *meta, *up;
	bool modified =
	    row->content_hash && row->lock_hash && strcmp(row->content_hash, row->lock_hash);

	if (!o) {
		json_decref(collections);
		return NULL;
	}
	json_object_set_new(o, "id", json_string(key));
	json_object_set_new(o, "uuid", json_string(row->uuid));
	json_object_set_new(o, "name", json_string(row->name));
	json_object_set_new(o, "type", json_string(row->type));
	json_object_set_new(o, "source", json_string(source_of(row, key)));
	json_object_set_new(o, "origin", str_or_null(row->origin));
	json_object_set_new(o, "origin_source", str_or_null(row->origin_source));
	json_object_set_new(o, "version", str_or_null(row->version));
	json_object_set_new(o, "aliases", json_array());
	json_object_set_new(o, "tags", array_of(row->tags_json));
	json_object_set_new(o, "target_platforms", json_array());
	meta = json_object();
	if (meta) {
		json_object_set_new(meta, "title", str_or_null(row->title));
		json_object_set_new(meta, "description", str_or_null(row->description));
		json_object_set_new(meta, "author", str_or_null(row->author));
		json_object_set_new(meta, "license", str_or_null(row->license));
		json_object_set_new(meta, "version", str_or_null(row->version));
		json_object_set_new(meta, "dependencies", json_array());
		json_object_set_new(meta, "tools", array_of(row->tools_json));
		json_object_set_new(meta, "linked_artifacts", json_array());
		json_object_set_new(meta, "unlinked_references", json_array());
	}
	json_object_set_new(o, "metadata", meta ? meta : json_null());
	up = json_object();
	if (up) {
		json_object_set_new(up, "tracking_enabled", json_boolean(row->upstream != NULL));
		json_object_set_new(up, "current_sha", str_or_null(row->resolved_sha));
		json_object_set_new(up, "upstream_sha", json_null());
		json_object_set_new(up, "update_available", json_false());
		json_object_set_new(up, "has_local_modifications", json_boolean(modified));
		json_object_set_new(up, "drift_status", json_null());
	}
	json_object_set_new(o, "upstream", up ? up : json_null());
	json_object_set_new(o, "deployment_stats", json_null());
	json_object_set_new(o, "deployments", json_array());
	json_object_set_new(o, "collections", collections ? collections : json_array());
	json_object_set_new(o, "added", str_or_null(row->added));
	json_object_set_new(o, "updated",
			    str_or_null(row->updated && *row->updated ? row->updated : row->added));
	json_object_set_new(o, "import_id", json_null());
	json_object_set_new(o, "owner_id", json_null());
	json_object_set_new(o, "owner_type", json_string("user"));
	json_object_set_new(o, "visibility", json_string("private"));
	json_object_set_new(o, "workflow_id", json_null());
	/* ours: where it lives and the state of its files */
	json_object_set_new(o, "collection", json_string(row->collection));
	json_object_set_new(o, "path", str_or_null(row->path));
	json_object_set_new(o, "content_hash", str_or_null(row->content_hash));
	json_object_set_new(o, "locally_modified", json_boolean(modified));
	json_object_set_new(o, "revision", str_or_null(row->row_hash));
	return o;
}

json_t *api_user_collection_json(const struct sm_user_collection_row *row, int64_t count)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string(row->id));
	json_object_set_new(o, "name", json_string(row->name));
	json_object_set_new(o, "description", str_or_null(row->description));
	json_object_set_new(o, "created_by", json_null());
	json_object_set_new(o, "collection_type", str_or_null(row->collection_type));
	json_object_set_new(o, "context_category", str_or_null(row->context_category));
	json_object_set_new(o, "created_at", str_or_null(row->created_at));
	json_object_set_new(o, "updated_at", str_or_null(row->updated_at));
	json_object_set_new(o, "group_count", json_integer(0));
	json_object_set_new(o, "artifact_count", count >= 0 ? json_integer(count) : json_null());
	return o;
}

int api_sort(struct sm_http_req *req, struct sm_artifact_query *q)
{
	static const struct {
		const char *name;
		enum sm_artifact_sort sort;
	} sorts[] = {{"name", SM_SORT_NAME}, {"added", SM_SORT_ADDED}, {"updated", SM_SORT_UPDATED}};
	const char *s = sm_http_query(req, "sort");

	if (!s)
		return 0;
	for (size_t i = 0; i < SM_ARRAY_SIZE(sorts); i++) {
		if (!strcmp(s, sorts[i].name)) {
			q->sort = sorts[i].sort;
			return 0;
		}
	}
	(void)sm_http_error(req, 400, "Invalid sort '%s': expected name, added or updated", s);
	return API_ANSWERED;
}

/* Does a cursor of q's order start with the sort value ("<value>\t<key>")? */
static bool cursor_has_value(const struct sm_artifact_query *q)
{
	return q->sort == SM_SORT_ADDED || q->sort == SM_SORT_UPDATED;
}

int api_artifact_cursor(struct sm_http_req *req, struct sm_artifact_query *q)
{
	char *key, *colon, *slash;
	int r = api_cursor(req, &key);

	if (r < 0 || !key)
		return r;
	if (cursor_has_value(q)) {
		char *tab = strchr(key, '\t');

		if (!tab) {
			(void)sm_http_error(req, 400, "Invalid cursor: not a cursor of this sort");
			return API_ANSWERED;
		}
		*tab = '\0';
		q->after_value = key;
		key = tab + 1;
	}
	colon = strchr(key, ':');
	slash = colon ? memchr(key, '/', (size_t)(colon - key)) : NULL;
	if (!colon || !colon[1] || colon == key ||
	    (slash && (slash == key || slash + 1 == colon))) {
		(void)sm_http_error(req, 400, "Invalid cursor: not an artifact key");
		return API_ANSWERED;
	}
	*colon = '\0';
	if (slash) {
		*slash = '\0';
		q->after_collection = key;
		q->after_type = slash + 1;
	} else {
		q->after_type = key;
	}
	q->after_name = colon + 1;
	return 0;
}

int api_types(struct sm_http_req *req, struct sm_artifact_query *q)
{
	const char *s = sm_http_query(req, "artifact_type");
	const char **v;
	size_t n;
	int r;

	if (!s)
		return 0;
	if ((r = api_split(req, s, &v, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		enum sm_artifact_type t = sm_artifact_type_parse(v[i]);

		if (t == SM_TYPE_INVALID) {
			(void)sm_http_error(req, 400, "Invalid artifact type: '%s'", v[i]);
			return API_ANSWERED;
		}
		v[i] = sm_artifact_type_name(t);
	}
	q->types = v;
	q->ntypes = n;
	return 0;
}

json_t *api_page_info(const char *first, const char *last, bool has_next, bool has_prev,
		      int64_t total)
{
	return json_pack("{s:b, s:b, s:o, s:o, s:I}", "has_next_page", has_next,
			 "has_previous_page", has_prev, "start_cursor", api_cursor_json(first),
			 "end_cursor", api_cursor_json(last), "total_count", (json_int_t)total);
}

/* ---- read repair ---- */

static bool needs_repair(const struct sm_artifact_row *row)
{
	return row->stale || row->synced_at == 0;
}

/* A read repair handed off to a worker; the request is answered again after it. */
struct repair_job {
	struct sm_app *app;
	char **names; /* file collections to warm-sync */
	size_t n;
	sm_http_handler_fn fn;
	void *data;
	bool changed;
};

static void repair_job_free(struct repair_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		sm_free(j->names[i]);
	sm_free(j->names);
	sm_free(j);
}

/* On a worker: every sync of this process runs under the writer lock, one at a time. */
static void repair_work(void *arg)
{
	struct repair_job *j = arg;
	struct sm_ops_ctx ctx;
	struct sm_sync_stats st = {0};
	struct strbuf err = STRBUF_INIT;

	api_ops_ctx_init(j->app, &ctx);
	ctx.invalidate = NULL; /* only when rows changed, below */
	if (sm_ops_refresh(&ctx, (const char *const *)j->names, j->n, 0, &st, &err) < 0)
		sm_log_warn("server: read repair failed: %s", err.buf);
	j->changed = st.created || st.updated || st.removed;
	sm_ops_ctx_release(&ctx);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
}

/* Back on the loop thread: answer the request again, this time from the repaired rows. */
static void repair_done(struct sm_http_req *req, void *arg)
{
	struct repair_job *j = arg;

	if (j->changed)
		api_invalidate(j->app, NULL);
	if (req) {
		struct sm_app_thread *t = req->thread_data;
		int r;

		t->repaired = req;
		r = j->fn(req, j->data);
		t->repaired = NULL;
		if (r != SM_HTTP_DEFERRED && !req->res.status)
			api_fail(req, -EIO, NULL);
	}
	repair_job_free(j);
}

void api_set_rerun(struct sm_http_req *req, sm_http_handler_fn fn, void *data)
{
	struct sm_app_thread *t = req->thread_data;

	t->rerun = fn;
	t->rerun_data = data;
}

/*
 * Rows flagged stale or never synced: their file collections are warm-synced
 * on a worker (a loop thread never waits on a sync or the writer lock), then
 * the request is answered again. Returns API_DEFERRED when handed off, 0
 * when nothing needs it (or the request is the repaired one).
 */
static int repair(struct sm_http_req *req, struct sm_app *app, const struct sm_artifact_row *rows,
		  size_t n)
{
	struct sm_app_thread *t = req->thread_data;
	struct repair_job *j = NULL;
	int r;

	if (t->repaired == req || !t->rerun)
		return 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (!needs_repair(&rows[i]))
			continue;
		if (!j && (!(j = sm_calloc(1, sizeof(*j))) ||
			   !(j->names = sm_calloc(n, sizeof(*j->names))))) {
			sm_free(j);
			return -ENOMEM;
		}
		for (size_t k = 0; k < j->n && !seen; k++)
			seen = !strcmp(j->names[k], rows[i].collection);
		if (!seen && !(j->names[j->n++] = sm_strdup(rows[i].collection))) {
			repair_job_free(j);
			return -ENOMEM;
		}
	}
	if (!j)
		return 0;
	j->app = app;
	j->fn = t->rerun;
	j->data = t->rerun_data;
	if (app->metrics)
		sm_server_metrics_cache_miss(app->metrics, "metadata");
	r = sm_http_defer(req, repair_work, repair_done, j);
	if (r < 0) {
		repair_job_free(j);
		return r;
	}
	return API_DEFERRED;
}

int api_list_fresh(struct sm_http_req *req, struct sm_app *app, struct sm_cache *cache,
		   const struct sm_artifact_query *q, struct sm_artifact_page *ret)
{
	struct sm_artifact_page page = {0};
	int r = sm_store_list_artifacts(cache->store, q, &page, NULL);

	if (r < 0)
		return r;
	r = repair(req, app, page.rows, page.n);
	if (r == 0 && app->metrics)
		sm_server_metrics_cache_hit(app->metrics, "metadata");
	if (r < 0) {
		sm_artifact_page_release(&page);
		return r;
	}
	*ret = page;
	return 0;
}

int api_row_fresh(struct sm_http_req *req, struct sm_app *app, struct sm_cache *cache,
		  struct sm_artifact_row *row)
{
	(void)cache;
	return repair(req, app, row, 1);
}

/* ---- serialized answers of the list endpoints ---- */

#define RESP_MAX_ENTRIES 64

struct resp_entry {
	char token[API_RESP_TOKEN_MAX];
	size_t len;
	char body[]; /* len bytes */
};

int api_resp_token(struct sm_cache *cache, char token[API_RESP_TOKEN_MAX])
{
	char rev[SM_STORE_REVISION_MAX];
	bool stale = true;

	if (sm_store_any_flagged_stale(cache->store, &stale, NULL) < 0 || stale)
		return 0;
	if (sm_store_revision(cache->store, rev, NULL) < 0)
		return 0;
	snprintf(token, API_RESP_TOKEN_MAX, "%s", rev);
	return 1;
}

static int resp_key(const struct sm_http_req *req, struct strbuf *key)
{
	if (sm_strbuf_add(key, req->path, req->path_len) < 0 || sm_strbuf_addch(key, '?') < 0)
		return -ENOMEM;
	return sm_strbuf_add(key, req->query, req->query_len);
}

bool api_resp_get(struct sm_http_req *req, const char *token, const char *etag_prefix)
{
	struct sm_app_thread *t = req->thread_data;
	struct strbuf key = STRBUF_INIT;
	struct resp_entry *e = NULL;
	void *v;
	bool hit = false;

	if (!t || !t->resp || resp_key(req, &key) < 0)
		goto out;
	if (!sm_hashmap_get(t->resp, key.buf, key.len, &v))
		goto out;
	e = v;
	if (strcmp(e->token, token))
		goto out;
	hit = true;
	/* the token is the revision: the same ETag api_revision_etag gives, no query */
	sm_strbuf_reset(&key);
	if (sm_strbuf_addf(&key, "%s.%s", etag_prefix, token) == 0 && sm_http_etag(req, key.buf))
		goto out; /* 304 */
	if (sm_http_text(req, 200, "application/json", e->body, e->len) < 0)
		hit = false;
out:
	sm_strbuf_release(&key);
	return hit;
}

static void resp_clear(struct sm_app_thread *t)
{
	size_t pos = 0;
	const void *k;
	size_t kl;
	void *v;

	while (t->resp && sm_hashmap_next(t->resp, &pos, &k, &kl, &v))
		sm_free(v);
	if (t->resp)
		sm_hashmap_clear(t->resp);
	t->nresp = 0;
}

void api_resp_put(struct sm_http_req *req, const char *token)
{
	struct sm_app_thread *t = req->thread_data;
	struct strbuf key = STRBUF_INIT;
	struct resp_entry *e;
	void *old = NULL;
	size_t len = req->res.body.len;

	if (!t || req->res.status != 200 || !len)
		return;
	if (!t->resp && sm_hashmap_new(&t->resp) < 0)
		return;
	if (t->nresp >= RESP_MAX_ENTRIES)
		resp_clear(t); /* bounded memory: start over */
	e = sm_malloc(sizeof(*e) + len);
	if (!e || resp_key(req, &key) < 0) {
		sm_free(e);
		goto out;
	}
	snprintf(e->token, sizeof(e->token), "%s", token);
	e->len = len;
	memcpy(e->body, req->res.body.buf, len);
	if (sm_hashmap_put(t->resp, key.buf, key.len, e, &old) < 0) {
		sm_free(e);
		goto out;
	}
	if (old)
		sm_free(old);
	else
		t->nresp++;
out:
	sm_strbuf_release(&key);
}

void api_resp_free(struct sm_app_thread *t)
{
	resp_clear(t);
	sm_hashmap_free(t->resp);
	t->resp = NULL;
}

/* The cursor of row in q's order: its key, after "<sort value>\t" for a newest-first order. */
static int cursor_of(const struct sm_artifact_query *q, const struct sm_artifact_row *row,
		     const char *key, struct strbuf *out)
{
	const char *v = q->sort == SM_SORT_UPDATED && row->updated && *row->updated ? row->updated
										      : row->added;
	int r = 0;

	if (cursor_has_value(q))
		r = sm_strbuf_addf(out, "%s\t", v ? v : "");
	return r < 0 ? r : sm_strbuf_addstr(out, key);
}

int api_answer_page(struct sm_http_req *req, struct sm_app *app, const struct sm_artifact_query *q,
		    const char *etag_prefix, api_item_fn item, void *ctx, const char *tok,
		    bool cacheable)
{
	struct sm_cache *cache = api_cache(req);
	struct sm_artifact_page page = {0};
	struct strbuf key = STRBUF_INIT, first = STRBUF_INIT, last = STRBUF_INIT;
	json_t **colls = NULL, *items = NULL, *o;
	int r;

	r = api_list_fresh(req, app, cache, q, &page);
	if (r == API_DEFERRED)
		return SM_HTTP_DEFERRED;
	if (r < 0)
		return api_fail(req, r, NULL);
	if (api_revision_etag(req, cache, etag_prefix)) {
		sm_artifact_page_release(&page);
		return SM_HTTP_DONE;
	}
	colls = sm_calloc(page.n + 1, sizeof(*colls));
	items = json_array();
	if (!colls || !items) {
		r = -ENOMEM;
		goto out;
	}
	r = api_collections_of(app, cache, page.rows, page.n, colls);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < page.n; i++) {
		sm_strbuf_reset(&key);
		if ((r = api_artifact_key(cache, &page.rows[i], &key)) < 0)
			goto out;
		if ((i == 0 || i + 1 == page.n) &&
		    (r = cursor_of(q, &page.rows[i], key.buf, i == 0 ? &first : &last)) < 0)
			goto out;
		json_array_append_new(items, item(&page.rows[i], key.buf, colls[i], ctx));
		colls[i] = NULL;
	}
	o = json_pack("{s:O, s:o}", "items", items, "page_info",
		      api_page_info(page.n ? first.buf : NULL,
				    page.n ? (page.n == 1 ? first.buf : last.buf) : NULL,
				    page.has_next, q->after_type != NULL, page.total_count));
	r = o ? sm_http_json(req, 200, o) : -ENOMEM;
	if (r == 0 && cacheable)
		api_resp_put(req, tok);
out:
	for (size_t i = 0; colls && i < page.n; i++)
		json_decref(colls[i]);
	sm_free(colls);
	json_decref(items);
	sm_artifact_page_release(&page);
	sm_strbuf_release(&key);
	sm_strbuf_release(&first);
	sm_strbuf_release(&last);
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}
