/* SPDX-License-Identifier: MIT */
/* JSON views of cached rows (the shapes of spec/API.md). */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/artifact.h"
#include "skillmeat/base64.h"
#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/row_json.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

/* ---- views ---- */

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
	json_object_set_new(o, "version", sm_json_str_or_null(row->version));
	json_object_set_new(o, "source", json_string(source_of(row, key)));
	json_object_set_new(o, "description", sm_json_str_or_null(row->description));
	json_object_set_new(o, "author", sm_json_str_or_null(row->author));
	json_object_set_new(o, "tags", sm_json_array_text(row->tags_json));
	json_object_set_new(o, "tools", sm_json_array_text(row->tools_json));
	json_object_set_new(o, "origin", sm_json_str_or_null(row->origin));
	json_object_set_new(o, "origin_source", sm_json_str_or_null(row->origin_source));
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
	json_object_set_new(o, "origin", sm_json_str_or_null(row->origin));
	json_object_set_new(o, "origin_source", sm_json_str_or_null(row->origin_source));
	json_object_set_new(o, "version", sm_json_str_or_null(row->version));
	json_object_set_new(o, "aliases", json_array());
	json_object_set_new(o, "tags", sm_json_array_text(row->tags_json));
	json_object_set_new(o, "target_platforms", json_array());
	meta = json_object();
	if (meta) {
		json_object_set_new(meta, "title", sm_json_str_or_null(row->title));
		json_object_set_new(meta, "description", sm_json_str_or_null(row->description));
		json_object_set_new(meta, "author", sm_json_str_or_null(row->author));
		json_object_set_new(meta, "license", sm_json_str_or_null(row->license));
		json_object_set_new(meta, "version", sm_json_str_or_null(row->version));
		json_object_set_new(meta, "dependencies", json_array());
		json_object_set_new(meta, "tools", sm_json_array_text(row->tools_json));
		json_object_set_new(meta, "linked_artifacts", json_array());
		json_object_set_new(meta, "unlinked_references", json_array());
	}
	json_object_set_new(o, "metadata", meta ? meta : json_null());
	up = json_object();
	if (up) {
		json_object_set_new(up, "tracking_enabled", json_boolean(row->upstream != NULL));
		json_object_set_new(up, "current_sha", sm_json_str_or_null(row->resolved_sha));
		json_object_set_new(up, "upstream_sha", json_null());
		json_object_set_new(up, "update_available", json_false());
		json_object_set_new(up, "has_local_modifications", json_boolean(modified));
		json_object_set_new(up, "drift_status", json_null());
	}
	json_object_set_new(o, "upstream", up ? up : json_null());
	json_object_set_new(o, "deployment_stats", json_null());
	json_object_set_new(o, "deployments", json_array());
	json_object_set_new(o, "collections", collections ? collections : json_array());
	json_object_set_new(o, "added", sm_json_str_or_null(row->added));
	json_object_set_new(o, "updated",
			    sm_json_str_or_null(row->updated && *row->updated ? row->updated : row->added));
	json_object_set_new(o, "import_id", json_null());
	json_object_set_new(o, "owner_id", json_null());
	json_object_set_new(o, "owner_type", json_string("user"));
	json_object_set_new(o, "visibility", json_string("private"));
	json_object_set_new(o, "workflow_id", json_null());
	/* ours: where it lives and the state of its files */
	json_object_set_new(o, "collection", json_string(row->collection));
	json_object_set_new(o, "path", sm_json_str_or_null(row->path));
	json_object_set_new(o, "content_hash", sm_json_str_or_null(row->content_hash));
	json_object_set_new(o, "locally_modified", json_boolean(modified));
	json_object_set_new(o, "revision", sm_json_str_or_null(row->row_hash));
	return o;
}

json_t *api_user_collection_json(const struct sm_user_collection_row *row, int64_t count)
{
	return sm_user_collection_row_json(row, count, true);
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

bool api_sort_has_value(const struct sm_artifact_query *q)
{
	return q->sort == SM_SORT_ADDED || q->sort == SM_SORT_UPDATED;
}

int api_artifact_cursor(struct sm_http_req *req, struct sm_artifact_query *q)
{
	char *key, *colon, *slash;
	int r = api_cursor(req, &key);

	if (r < 0 || !key)
		return r;
	if (api_sort_has_value(q)) {
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
