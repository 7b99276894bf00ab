/* SPDX-License-Identifier: MIT */
/*
 * JSON views of cached rows shared by both front ends (the CLI's --json and
 * the REST API answer the same shapes from the same rows).
 */
#ifndef SKILLMEAT_ROW_JSON_H
#define SKILLMEAT_ROW_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct sm_user_collection_row;

/* A JSON string, or null for NULL. New reference (NULL on ENOMEM). */
json_t *sm_json_str_or_null(const char *s);
/* The JSON array stored as text (tags_json, tools_json); [] when absent or not an array. */
json_t *sm_json_array_text(const char *text);
/*
 * A user collection: id, name, description, collection_type,
 * context_category, created_at, updated_at, artifact_count (null when
 * count < 0). api adds the REST shape's created_by (null) and group_count (0)
 * (UserCollectionResponse). New reference, NULL on ENOMEM.
 */
json_t *sm_user_collection_row_json(const struct sm_user_collection_row *row, int64_t count,
				    bool api);

#endif
