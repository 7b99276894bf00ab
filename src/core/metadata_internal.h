/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CORE_METADATA_INTERNAL_H
#define SKILLMEAT_CORE_METADATA_INTERNAL_H

/*
 * Shared by the parts of the metadata extraction: metadata.c (the passes),
 * metadata_fields.c (field rules), metadata_file.c (finding and reading).
 */
#include <stdbool.h>
#include <stddef.h>

struct sm_metadata;
struct sm_toml_value;
struct sm_ypy;

/* ---- metadata_fields.c ---- */

char sm_md_ascii_lower(char c);
/* _normalize_tool_name on an already stripped name: canonical name or NULL. */
const char *sm_md_normalize_tool(const char *s, size_t n);
/* _normalize_tools: the valid canonical names of raw (an array of strings) */
int sm_md_normalize_tools(const struct sm_toml_value *raw, struct sm_toml_value **ret);
/* str.strip(): [*b, *e) of s without leading/trailing Unicode whitespace */
void sm_md_py_strip(const char *s, size_t n, size_t *b, size_t *e);
/* the length of str.lstrip()'s cut */
size_t sm_md_py_lstrip(const char *s, size_t n);
size_t sm_md_count_lines(const char *s, size_t n);
int sm_md_push_string(struct sm_toml_value *arr, const char *s, size_t n);
/* tab[key] = str(v) */
int sm_md_set_str(struct sm_toml_value *tab, const char *key, const struct sm_ypy *v);
/* s.split(",") stripped, empty items dropped, appended to arr */
int sm_md_split_commas(struct sm_toml_value *arr, const char *s, size_t n);
/* [str(t) for t in list if t] or a comma-split string; *ret NULL otherwise */
int sm_md_string_list(const struct sm_ypy *v, struct sm_toml_value **ret);
/* [str(t).strip() for t in list if t is not None] appended to arr */
int sm_md_stripped_items(const struct sm_ypy *v, struct sm_toml_value *arr, bool drop_empty);
/* Python's bool() of a TOML value */
bool sm_md_toml_truthy(const struct sm_toml_value *v);

/* ---- metadata_file.c ---- */

/* an empty table and tag list in *m; -ENOMEM (m released) */
int sm_md_empty(struct sm_metadata *m);

#endif
