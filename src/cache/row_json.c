/* SPDX-License-Identifier: MIT */
/* JSON views of cached rows shared by the CLI and the REST API (skillmeat/row_json.h). */
#include "skillmeat/row_json.h"
#include "skillmeat/store.h"
#include "util/banned.h"

json_t *sm_json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *sm_json_array_text(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	if (!json_is_array(j)) {
		json_decref(j);
		j = json_array();
	}
	return j;
}

json_t *sm_user_collection_row_json(const struct sm_user_collection_row *row, int64_t count,
				    bool api)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string(row->id));
	json_object_set_new(o, "name", json_string(row->name));
	json_object_set_new(o, "description", sm_json_str_or_null(row->description));
	if (api)
		json_object_set_new(o, "created_by", json_null());
	json_object_set_new(o, "collection_type", sm_json_str_or_null(row->collection_type));
	json_object_set_new(o, "context_category", sm_json_str_or_null(row->context_category));
	json_object_set_new(o, "created_at", sm_json_str_or_null(row->created_at));
	json_object_set_new(o, "updated_at", sm_json_str_or_null(row->updated_at));
	if (api)
		json_object_set_new(o, "group_count", json_integer(0));
	json_object_set_new(o, "artifact_count", count >= 0 ? json_integer(count) : json_null());
	return o;
}
