/* SPDX-License-Identifier: MIT */
/*
 * The field rules of the original's metadata extraction: tool-name
 * normalisation (_normalize_tool_name), the Python string methods the passes
 * use (str.strip, str.split(",")), and building TOML lists and strings from
 * safe_load values.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/metadata_internal.h"
#include "core/yaml_py.h"
#include "skillmeat/memory.h"
#include "skillmeat/metadata.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

/* ---- tool names ---------------------------------------------------------- */

static const char *const valid_tools[] = {
    "Read",	    "Write", "Edit",	   "MultiEdit",	      "Glob",	       "Grep",
    "NotebookEdit", "Bash",  "KillShell",  "AskUserQuestion", "TodoWrite",     "WebFetch",
    "WebSearch",    "Task",  "TaskOutput", "Skill",	      "EnterPlanMode", "ExitPlanMode",
};

char sm_md_ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

/*
 * lower is the lowercased candidate; does it spell tool in lowercase with
 * sep ('\0' = none, '_' or '-') between the CamelCase words?
 */
static bool tool_form(const char *lower, size_t n, const char *tool, char sep)
{
	size_t j = 0;

	for (size_t i = 0; tool[i]; i++) {
		if (i && sep && tool[i] >= 'A' && tool[i] <= 'Z') {
			if (j >= n || lower[j] != sep)
				return false;
			j++;
		}
		if (j >= n || lower[j] != sm_md_ascii_lower(tool[i]))
			return false;
		j++;
	}
	return j == n;
}

/* _normalize_tool_name on an already stripped name: canonical name or NULL. */
const char *sm_md_normalize_tool(const char *s, size_t n)
{
	char lower[64];

	if (!n || n >= sizeof(lower))
		return NULL;
	for (size_t i = 0; i < SM_ARRAY_SIZE(valid_tools); i++)
		if (strlen(valid_tools[i]) == n && memcmp(valid_tools[i], s, n) == 0)
			return valid_tools[i];
	for (size_t i = 0; i < n; i++)
		lower[i] = sm_md_ascii_lower(s[i]);
	for (size_t i = 0; i < SM_ARRAY_SIZE(valid_tools); i++)
		if (tool_form(lower, n, valid_tools[i], '\0') ||
		    tool_form(lower, n, valid_tools[i], '_') ||
		    tool_form(lower, n, valid_tools[i], '-'))
			return valid_tools[i];
	return NULL;
}

const char *sm_metadata_tool_name(const char *s)
{
	return sm_md_normalize_tool(s, strlen(s));
}

/* ---- Python string helpers ------------------------------------------------ */

/* str.strip(): [*b, *e) of s without leading/trailing Unicode whitespace */
void sm_md_py_strip(const char *s, size_t n, size_t *b, size_t *e)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t i = 0, last = 0;
	bool seen = false;

	*b = *e = 0;
	while (i < n) {
		uint32_t cp;
		size_t k = sm_ypy_utf8_decode(p + i, end, &cp);

		if (!k) {
			k = 1;
			cp = 0xfffd;
		}
		if (!sm_ypy_isspace(cp)) {
			if (!seen)
				*b = i;
			seen = true;
			last = i + k;
		}
		i += k;
	}
	if (seen)
		*e = last;
}

size_t sm_md_py_lstrip(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k = sm_ypy_utf8_decode(p + i, end, &cp);

		if (!k || !sm_ypy_isspace(cp))
			break;
		i += k;
	}
	return i;
}

size_t sm_md_count_lines(const char *s, size_t n)
{
	size_t lines = 0;

	for (const char *p = s; (p = memchr(p, '\n', (size_t)(s + n - p))); p++)
		lines++;
	return lines;
}

/* ---- TOML helpers --------------------------------------------------------- */

int sm_md_push_string(struct sm_toml_value *arr, const char *s, size_t n)
{
	return sm_toml_push(arr, sm_toml_new_stringn(s, n));
}

int sm_md_set_str(struct sm_toml_value *tab, const char *key, const struct sm_ypy *v)
{
	struct strbuf sb = STRBUF_INIT;
	int r = sm_ypy_str(v, &sb);

	if (r == 0)
		r = sm_toml_set(tab, key, sm_toml_new_stringn(sb.buf, sb.len));
	sm_strbuf_release(&sb);
	return r;
}

/* s.split(",") stripped, empty items dropped, appended to arr */
int sm_md_split_commas(struct sm_toml_value *arr, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ',')
			continue;
		{
			size_t b, e;
			int r;

			sm_md_py_strip(s + start, i - start, &b, &e);
			if (e > b) {
				r = sm_md_push_string(arr, s + start + b, e - b);
				if (r < 0)
					return r;
			}
		}
		start = i + 1;
	}
	return 0;
}

/* [str(t) for t in list if t] or a comma-split string; NULL type otherwise */
int sm_md_string_list(const struct sm_ypy *v, struct sm_toml_value **ret)
{
	struct sm_toml_value *arr;
	int r = 0;

	*ret = NULL;
	if (!v || (v->type != SM_YPY_SEQ && v->type != SM_YPY_STR))
		return 0;
	arr = sm_toml_new_array();
	if (!arr)
		return -ENOMEM;
	if (v->type == SM_YPY_STR) {
		r = sm_md_split_commas(arr, v->u.s.ptr, v->u.s.len);
	} else {
		for (size_t i = 0; r == 0 && i < v->u.seq.len; i++) {
			struct strbuf sb = STRBUF_INIT;

			if (!sm_ypy_truthy(v->u.seq.items[i]))
				continue;
			r = sm_ypy_str(v->u.seq.items[i], &sb);
			if (r == 0)
				r = sm_md_push_string(arr, sb.buf, sb.len);
			sm_strbuf_release(&sb);
		}
	}
	if (r < 0) {
		sm_toml_free(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

/* [str(t).strip() for t in list if t is not None] */
int sm_md_stripped_items(const struct sm_ypy *v, struct sm_toml_value *arr, bool drop_empty)
{
	for (size_t i = 0; i < v->u.seq.len; i++) {
		struct strbuf sb = STRBUF_INIT;
		size_t b, e;
		int r;

		if (v->u.seq.items[i]->type == SM_YPY_NULL)
			continue;
		r = sm_ypy_str(v->u.seq.items[i], &sb);
		sm_md_py_strip(sb.buf, sb.len, &b, &e);
		if (r == 0 && (e > b || !drop_empty))
			r = sm_md_push_string(arr, sb.buf + b, e - b);
		sm_strbuf_release(&sb);
		if (r < 0)
			return r;
	}
	return 0;
}

/* _normalize_tools: valid canonical names only */
int sm_md_normalize_tools(const struct sm_toml_value *raw, struct sm_toml_value **ret)
{
	struct sm_toml_value *arr = sm_toml_new_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; raw && i < sm_toml_len(raw); i++) {
		const struct sm_toml_value *t = sm_toml_at(raw, i);
		const char *name = sm_md_normalize_tool(sm_toml_str(t), sm_toml_strlen(t));
		int r;

		if (!name)
			continue;
		r = sm_toml_push(arr, sm_toml_new_string(name));
		if (r < 0) {
			sm_toml_free(arr);
			return r;
		}
	}
	*ret = arr;
	return 0;
}

bool sm_md_toml_truthy(const struct sm_toml_value *v)
{
	if (!v)
		return false;
	switch (v->type) {
	case SM_TOML_STRING:
		return sm_toml_strlen(v) != 0;
	case SM_TOML_INTEGER:
		return v->u.i != 0;
	case SM_TOML_BIG_INTEGER:
		return true;
	case SM_TOML_FLOAT:
		return v->u.f != 0;
	case SM_TOML_BOOL:
		return v->u.b;
	case SM_TOML_ARRAY:
		return sm_toml_len(v) != 0;
	case SM_TOML_TABLE:
		return sm_toml_len(v) != 0;
	default:
		return true;
	}
}
