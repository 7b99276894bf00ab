/* SPDX-License-Identifier: MIT */
/*
 * Artifact metadata as SkillMeat 0.9.1 extracts it (spec/skillmeat-formats.md
 * §2.3-2.5): a first pass over the normalised frontmatter
 * (extract_frontmatter + populate_metadata_from_frontmatter), a second pass
 * over the raw YAML of a stricter regex (extract_yaml_frontmatter), the body
 * description fallback, then ArtifactMetadata.to_dict with the key order a
 * manifest read back from tomli_w's output has (plain values before tables,
 * src/toml/toml_width.c). The field rules live in metadata_fields.c, finding
 * and reading the file in metadata_file.c.
 *
 * Deliberate differences from the original: a None that would reach the
 * manifest (which makes the original's write fail, S1) is dropped; malformed
 * YAML also yields a warning naming file and line; alias bombs and oversized
 * frontmatter count as malformed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "core/metadata_internal.h"
#include "core/yaml_py.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/metadata.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "skillmeat/toml_tomli.h"
#include "util/banned.h"

#define MAX_FRONTMATTER ((size_t)1 << 20) /* YAML parsed */
#define DESCRIPTION_MAX 200		  /* code points */

/* ---- the extraction -------------------------------------------------------- */

struct fm_match {
	size_t start, len; /* body offsets in the content */
	size_t line;	   /* 1-based line of the body's first line */
};

struct ex {
	const char *content;
	size_t len;
	const char *display;
	char *warning;

	/* ArtifactMetadata fields (owned TOML values, NULL = None) */
	struct sm_toml_value *title, *description, *author, *license, *version;
	struct sm_toml_value *dependencies, *tools, *extra;
	struct sm_toml_value *tags; /* array of strings */
	bool description_truthy, dependencies_truthy;

	/* the first pass's YAML, reused by the second pass for the same body */
	struct sm_yaml_py_doc *doc;
	int doc_rc;
	struct fm_match m1;
	bool have_m1;
};

static int warn(struct ex *x, size_t line, const char *what)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	if (x->warning)
		return 0;
	r = sm_strbuf_addf(&sb, "%s:%zu: %s", x->display ? x->display : "<text>", line, what);
	if (r == 0) {
		x->warning = sm_strbuf_detach(&sb, NULL);
		if (!x->warning)
			r = -ENOMEM;
	}
	sm_strbuf_release(&sb);
	return r < 0 ? -ENOMEM : 0;
}

/* "---" [ \t]* ("\n" | end) at t[k] */
static bool closing1(const char *t, size_t n, size_t k)
{
	if (k + 3 > n || memcmp(t + k, "---", 3) != 0)
		return false;
	k += 3;
	while (k < n && (t[k] == ' ' || t[k] == '\t'))
		k++;
	return k == n || t[k] == '\n';
}

/* ^\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)  (no CR left by now) */
static bool match1(const char *t, size_t n, size_t *bstart, size_t *blen)
{
	size_t i = 0;

	if (n >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	if (n - i < 3 || memcmp(t + i, "---", 3) != 0)
		return false;
	i += 3;
	while (i < n && (t[i] == ' ' || t[i] == '\t'))
		i++;
	if (i >= n || t[i] != '\n')
		return false;
	i++;
	for (size_t j = i; j < n; j++) {
		const char *nl = memchr(t + j, '\n', n - j);

		if (!nl)
			break;
		j = (size_t)(nl - t);
		if (closing1(t, n, j + 1)) {
			*bstart = i;
			*blen = j - i;
			return true;
		}
	}
	return false;
}

/* a run of Python whitespace at t[i]; returns its end, *nl = last '\n' in it or SIZE_MAX */
static size_t ws_run(const char *t, size_t n, size_t i, size_t *nl)
{
	const unsigned char *p = (const unsigned char *)t;

	*nl = (size_t)-1;
	while (i < n) {
		uint32_t cp;
		size_t k = sm_ypy_utf8_decode(p + i, p + n, &cp);

		if (!k || !sm_ypy_isspace(cp))
			break;
		if (cp == '\n')
			*nl = i;
		i += k;
	}
	return i;
}

/* ^---\s*\n(.*?)\n---\s*\n  (extract_yaml_frontmatter) */
static bool match2(const char *t, size_t n, size_t *bstart, size_t *blen)
{
	size_t nl, i;

	if (n < 3 || memcmp(t, "---", 3) != 0)
		return false;
	ws_run(t, n, 3, &nl);
	if (nl == (size_t)-1)
		return false;
	i = nl + 1;
	for (size_t j = i; j < n; j++) {
		const char *p = memchr(t + j, '\n', n - j);
		size_t close_nl;

		if (!p)
			break;
		j = (size_t)(p - t);
		if (j + 4 <= n && memcmp(t + j + 1, "---", 3) == 0) {
			ws_run(t, n, j + 4, &close_nl);
			if (close_nl != (size_t)-1) {
				*bstart = i;
				*blen = j - i;
				return true;
			}
		}
	}
	/*
	 * An earlier '\n' of the opening run could still match with a body of
	 * whitespace only, which loads as None: no frontmatter either way.
	 */
	return false;
}

static bool crash_class(const char *key, size_t n)
{
	static const char *const second_pass_known[] = {
	    "title", "description",  "author", "license",	"version",
	    "tags",  "dependencies", "tools",  "allowed-tools", "allowedTools",
	};

	for (size_t i = 0; i < SM_ARRAY_SIZE(second_pass_known); i++)
		if (strlen(second_pass_known[i]) == n && !memcmp(second_pass_known[i], key, n))
			return false;
	return true;
}

/*
 * data[key] as the first pass sees it: a None that the original would copy
 * into extra (and so fail to write) counts as absent.
 */
static const struct sm_ypy *fm_get(const struct sm_ypy *data, const char *key)
{
	const struct sm_ypy *v = sm_ypy_map_get(data, key);

	if (v && v->type == SM_YPY_NULL && crash_class(key, strlen(key)))
		return NULL;
	return v;
}

static bool is_none(const struct sm_ypy *v)
{
	return !v || v->type == SM_YPY_NULL;
}

/* Python's `a or b or c` over data.get() values */
static const struct sm_ypy *or_chain(const struct sm_ypy *data, const char *const *keys)
{
	const struct sm_ypy *v = NULL;

	for (; *keys; keys++) {
		v = fm_get(data, *keys);
		if (sm_ypy_truthy(v))
			return v;
	}
	return v;
}

static bool known_field(const char *key, size_t n)
{
	static const char *const known[] = {
	    "name",	      "description", "tools", "allowedtools",  "disallowedtools", "model",
	    "permissionmode", "skills",	     "hooks", "userinvocable", "title",		  "author",
	    "license",	      "version",     "tags",  "dependencies",
	};
	char buf[32];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (key[i] == '-' || key[i] == '_')
			continue;
		if (k == sizeof(buf))
			return false;
		buf[k++] = sm_md_ascii_lower(key[i]);
	}
	for (size_t i = 0; i < SM_ARRAY_SIZE(known); i++)
		if (strlen(known[i]) == k && !memcmp(known[i], buf, k))
			return true;
	return false;
}

/* extract_frontmatter's result for a YAML mapping with str keys */
static int normalize(const struct sm_ypy *data, struct sm_toml_value *fm)
{
	static const char *const tools_keys[] = {"tools", "allowed-tools", "allowedTools", NULL};
	static const char *const disallowed_keys[] = {"disallowedTools", "disallowed-tools", NULL};
	static const char *const perm_keys[] = {"permissionMode", "permission-mode", NULL};
	static const char *const inv_keys[] = {"user-invocable", "userInvocable", NULL};
	static const char *const str_fields[] = {"title", "author", "license", "version"};
	const struct sm_ypy *v;
	struct sm_toml_value *arr, *extra;
	int r = 0;

	if ((v = fm_get(data, "name")) && (r = sm_md_set_str(fm, "name", v)) < 0)
		return r;
	if ((v = fm_get(data, "description")) && (r = sm_md_set_str(fm, "description", v)) < 0)
		return r;

	v = or_chain(data, tools_keys);
	if (!is_none(v)) {
		arr = sm_toml_new_array();
		if (!arr)
			return -ENOMEM;
		if (v->type == SM_YPY_STR) {
			if (memchr(v->u.s.ptr, ',', v->u.s.len)) {
				r = sm_md_split_commas(arr, v->u.s.ptr, v->u.s.len);
			} else {
				size_t b, e;

				sm_md_py_strip(v->u.s.ptr, v->u.s.len, &b, &e);
				if (e > b)
					r = sm_md_push_string(arr, v->u.s.ptr + b, e - b);
			}
		} else if (v->type == SM_YPY_SEQ) {
			r = sm_md_stripped_items(v, arr, false);
		}
		if (r < 0) {
			sm_toml_free(arr);
			return r;
		}
		if ((r = sm_toml_set(fm, "tools", arr)) < 0)
			return r;
	}

	v = or_chain(data, disallowed_keys);
	if (!is_none(v)) {
		struct sm_toml_value *raw = sm_toml_new_array(), *norm = NULL;

		if (!raw)
			return -ENOMEM;
		if (v->type == SM_YPY_STR) {
			if (memchr(v->u.s.ptr, ',', v->u.s.len)) {
				r = sm_md_split_commas(raw, v->u.s.ptr, v->u.s.len);
			} else {
				size_t b, e;

				sm_md_py_strip(v->u.s.ptr, v->u.s.len, &b, &e);
				r = sm_md_push_string(raw, v->u.s.ptr + b, e - b);
			}
		} else if (v->type == SM_YPY_SEQ) {
			r = sm_md_stripped_items(v, raw, true);
		}
		if (r == 0)
			r = sm_md_normalize_tools(raw, &norm);
		sm_toml_free(raw);
		if (r < 0 || (r = sm_toml_set(fm, "disallowedTools", norm)) < 0)
			return r;
	}

	if ((v = fm_get(data, "model")) && (r = sm_md_set_str(fm, "model", v)) < 0)
		return r;
	v = or_chain(data, perm_keys);
	if (!is_none(v) && (r = sm_md_set_str(fm, "permissionMode", v)) < 0)
		return r;

	if ((v = fm_get(data, "skills"))) {
		if ((r = sm_md_string_list(v, &arr)) < 0)
			return r;
		if (arr && (r = sm_toml_set(fm, "skills", arr)) < 0)
			return r;
	}
	if ((v = fm_get(data, "hooks"))) {
		if ((r = sm_ypy_to_toml(v, &arr)) < 0)
			return r;
		if (arr && (r = sm_toml_set(fm, "hooks", arr)) < 0)
			return r;
	}

	v = or_chain(data, inv_keys);
	if (v && v->type == SM_YPY_BOOL) {
		r = sm_toml_set(fm, "userInvocable", sm_toml_new_bool(v->u.b));
	} else if (v && v->type == SM_YPY_STR) {
		const char *s = v->u.s.ptr;
		bool yes = (v->u.s.len == 4 && !strncasecmp(s, "true", 4)) ||
			   (v->u.s.len == 3 && !strncasecmp(s, "yes", 3)) ||
			   (v->u.s.len == 1 && s[0] == '1');

		r = sm_toml_set(fm, "userInvocable", sm_toml_new_bool(yes));
	}
	if (r < 0)
		return r;

	for (size_t i = 0; i < SM_ARRAY_SIZE(str_fields); i++)
		if ((v = fm_get(data, str_fields[i])) && (r = sm_md_set_str(fm, str_fields[i], v)) < 0)
			return r;
	if ((v = fm_get(data, "tags"))) {
		if ((r = sm_md_string_list(v, &arr)) < 0)
			return r;
		if (arr && (r = sm_toml_set(fm, "tags", arr)) < 0)
			return r;
	}
	if ((v = fm_get(data, "dependencies"))) {
		if ((r = sm_md_string_list(v, &arr)) < 0)
			return r;
		if (arr && (r = sm_toml_set(fm, "dependencies", arr)) < 0)
			return r;
	}

	extra = sm_toml_new_table();
	if (!extra)
		return -ENOMEM;
	for (size_t i = 0; i < data->u.map.len; i++) {
		const struct sm_ypy *k = data->u.map.keys[i];
		struct sm_toml_value *tv;

		v = data->u.map.vals[i];
		if (v->type == SM_YPY_NULL || known_field(k->u.s.ptr, k->u.s.len))
			continue;
		r = sm_ypy_to_toml(v, &tv);
		if (r == 0 && tv)
			r = sm_toml_setn(extra, k->u.s.ptr, k->u.s.len, tv);
		if (r < 0) {
			sm_toml_free(extra);
			return r;
		}
	}
	if (sm_toml_len(extra))
		return sm_toml_set(fm, "extra", extra);
	sm_toml_free(extra);
	return 0;
}

/* _extract_partial_frontmatter: line-by-line key: value for malformed YAML */
static int partial(const char *s, size_t n, struct sm_toml_value *fm)
{
	struct sm_toml_value *extra = sm_toml_new_table();
	size_t start = 0;
	int r = 0;

	if (!extra)
		return -ENOMEM;
	for (size_t i = 0; i <= n && r == 0; i++) {
		const char *line, *colon;
		size_t b, e, kb, ke, vb, ve, len;
		char lower[16];

		if (i < n && s[i] != '\n')
			continue;
		sm_md_py_strip(s + start, i - start, &b, &e);
		line = s + start + b;
		len = e - b;
		start = i + 1;
		if (!len || line[0] == '#')
			continue;
		colon = memchr(line, ':', len);
		if (!colon)
			continue;
		sm_md_py_strip(line, (size_t)(colon - line), &kb, &ke);
		sm_md_py_strip(colon + 1, len - (size_t)(colon - line) - 1, &vb, &ve);
		if (ke == kb)
			continue;
		{
			const char *key = line + kb, *val = colon + 1 + vb;
			size_t klen = ke - kb, vlen = ve - vb;

			if (vlen > 1 && (val[0] == '"' || val[0] == '\'') &&
			    val[vlen - 1] == val[0]) {
				val++;
				vlen -= 2;
			}
			for (size_t k = 0; k < klen && k < sizeof(lower); k++)
				lower[k] = sm_md_ascii_lower(key[k]);
#define IS(word) (klen == strlen(word) && !memcmp(lower, word, klen))
			if (klen < sizeof(lower) &&
			    (IS("name") || IS("description") || IS("model"))) {
				char word[16];

				memcpy(word, lower, klen);
				word[klen] = '\0';
				r = sm_toml_set(fm, word, sm_toml_new_stringn(val, vlen));
			} else if (klen < sizeof(lower) &&
				   (IS("tools") || IS("allowed-tools") || IS("allowedtools"))) {
				struct sm_toml_value *raw = sm_toml_new_array(), *norm = NULL;

				if (!raw)
					r = -ENOMEM;
				else if (memchr(val, ',', vlen))
					r = sm_md_split_commas(raw, val, vlen);
				else
					r = sm_md_push_string(raw, val, vlen);
				if (r == 0)
					r = sm_md_normalize_tools(raw, &norm);
				sm_toml_free(raw);
				if (r == 0)
					r = sm_toml_set(fm, "tools", norm);
			} else if (vlen) {
				r = sm_toml_setn(extra, key, klen, sm_toml_new_stringn(val, vlen));
			}
#undef IS
		}
	}
	if (r == 0 && sm_toml_len(extra))
		return sm_toml_set(fm, "extra", extra);
	sm_toml_free(extra);
	return r;
}

static int extra_table(struct ex *x)
{
	if (!x->extra)
		x->extra = sm_toml_new_table();
	return x->extra ? 0 : -ENOMEM;
}

static int clone_into(struct sm_toml_value **dst, const struct sm_toml_value *src)
{
	*dst = sm_toml_clone(src);
	return *dst ? 0 : -ENOMEM;
}

/* populate_metadata_from_frontmatter; takes fm */
static int populate(struct ex *x, struct sm_toml_value *fm)
{
	static const char *const fields[] = {"title", "author", "license", "version"};
	struct sm_toml_value **slots[] = {&x->title, &x->author, &x->license, &x->version};
	const struct sm_toml_value *v;
	int r;

	if (!sm_toml_len(fm)) {
		sm_toml_free(fm);
		return 0;
	}
	if ((r = extra_table(x)) < 0 || (r = sm_toml_set(x->extra, "frontmatter", fm)) < 0) {
		if (r == -ENOMEM && !x->extra)
			sm_toml_free(fm);
		return r;
	}
	v = sm_toml_get(fm, "description");
	if (sm_md_toml_truthy(v)) {
		if ((r = clone_into(&x->description, v)) < 0)
			return r;
		x->description_truthy = true;
	}
	v = sm_toml_get(fm, "tools");
	if (sm_md_toml_truthy(v)) {
		struct sm_toml_value *valid = sm_toml_new_array(), *unknown = sm_toml_new_array();
		struct sm_toml_value *copy = sm_toml_clone(v);

		r = valid && unknown && copy ? 0 : -ENOMEM;
		if (r == 0) {
			r = sm_toml_set(x->extra, "frontmatter_tools", copy);
			copy = NULL;
		}
		for (size_t i = 0; r == 0 && i < sm_toml_len(v); i++) {
			const struct sm_toml_value *t = sm_toml_at(v, i);
			const char *name;
			size_t b, e;

			if (!sm_toml_strlen(t))
				continue;
			sm_md_py_strip(sm_toml_str(t), sm_toml_strlen(t), &b, &e);
			name = sm_md_normalize_tool(sm_toml_str(t) + b, e - b);
			if (name)
				r = sm_toml_push(valid, sm_toml_new_string(name));
			else
				r = sm_md_push_string(unknown, sm_toml_str(t), sm_toml_strlen(t));
		}
		if (r == 0) {
			sm_toml_free(x->tools);
			x->tools = valid;
			valid = NULL;
			if (sm_toml_len(unknown)) {
				r = sm_toml_set(x->extra, "unknown_tools", unknown);
				unknown = NULL;
			}
		}
		sm_toml_free(copy);
		sm_toml_free(valid);
		sm_toml_free(unknown);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < SM_ARRAY_SIZE(fields); i++) {
		v = sm_toml_get(fm, fields[i]);
		if (sm_md_toml_truthy(v) && (r = clone_into(slots[i], v)) < 0)
			return r;
	}
	v = sm_toml_get(fm, "tags");
	if (sm_md_toml_truthy(v) && (r = clone_into(&x->tags, v)) < 0)
		return r;
	v = sm_toml_get(fm, "dependencies");
	if (sm_md_toml_truthy(v)) {
		if ((r = clone_into(&x->dependencies, v)) < 0)
			return r;
		x->dependencies_truthy = true;
	}
	return 0;
}

static int yaml_warning(struct ex *x, size_t body_line, const struct sm_yaml_py_error *e)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	r = sm_strbuf_addf(&sb, "malformed frontmatter: %s", e->msg);
	if (r == 0 && e->context_line >= 0)
		r = sm_strbuf_addf(&sb, " (started at line %zu)",
				   body_line + (size_t)e->context_line);
	if (r == 0)
		r = warn(x, body_line + e->line, sb.buf);
	sm_strbuf_release(&sb);
	return r < 0 ? -ENOMEM : 0;
}

static int load(const char *s, size_t n, struct sm_yaml_py_doc **doc, struct sm_yaml_py_error *e)
{
	if (n > MAX_FRONTMATTER) {
		memset(e, 0, sizeof(*e));
		e->kind = SM_YAML_PY_SYNTAX;
		e->context_line = -1;
		snprintf(e->msg, sizeof(e->msg), "frontmatter larger than %zu bytes",
			 MAX_FRONTMATTER);
		return -EBADMSG;
	}
	return sm_yaml_py_load(s, n, doc, e);
}

/* the keys the first pass sees (None-valued ones left out, S1) are all str */
static bool all_str_keys(const struct sm_ypy *m)
{
	for (size_t i = 0; i < m->u.map.len; i++)
		if (m->u.map.keys[i]->type != SM_YPY_STR && m->u.map.vals[i]->type != SM_YPY_NULL)
			return false;
	return true;
}

static int first_pass(struct ex *x)
{
	struct sm_yaml_py_error e;
	struct sm_toml_value *fm;
	const struct sm_ypy *root;
	size_t off = 0, bstart, blen;
	int r;

	if (sm_md_py_lstrip(x->content, x->len) == x->len)
		return 0;
	if (!match1(x->content, x->len, &bstart, &blen)) {
		off = sm_md_py_lstrip(x->content, x->len);
		if (!match1(x->content + off, x->len - off, &bstart, &blen))
			return 0;
	}
	x->have_m1 = true;
	x->m1.start = off + bstart;
	x->m1.len = blen;
	x->m1.line = 1 + sm_md_count_lines(x->content, x->m1.start);

	x->doc_rc = load(x->content + x->m1.start, blen, &x->doc, &e);
	if (x->doc_rc == -ENOMEM)
		return -ENOMEM;
	if (x->doc_rc < 0) {
		r = yaml_warning(x, x->m1.line, &e);
		if (r < 0 || e.kind != SM_YAML_PY_SYNTAX)
			return r;
		fm = sm_toml_new_table();
		if (!fm)
			return -ENOMEM;
		/* what the line-by-line reading looks at is capped like the YAML */
		r = partial(x->content + x->m1.start,
			    blen < MAX_FRONTMATTER ? blen : MAX_FRONTMATTER, fm);
		if (r < 0) {
			sm_toml_free(fm);
			return r;
		}
		return populate(x, fm);
	}
	root = sm_yaml_py_root(x->doc);
	/* not a dict → nothing; a non-str key makes the original raise */
	if (root->type != SM_YPY_MAP || !all_str_keys(root))
		return 0;
	fm = sm_toml_new_table();
	if (!fm)
		return -ENOMEM;
	r = normalize(root, fm);
	if (r < 0) {
		sm_toml_free(fm);
		return r;
	}
	return populate(x, fm);
}

static int raw_field(struct sm_toml_value **slot, const struct sm_ypy *v)
{
	if (*slot || !v)
		return 0;
	return sm_ypy_to_toml(v, slot);
}

static int second_pass(struct ex *x)
{
	struct sm_yaml_py_doc *own = NULL;
	const struct sm_yaml_py_doc *doc;
	struct sm_yaml_py_error e;
	const struct sm_ypy *root, *v;
	size_t bstart, blen;
	int r = 0;

	if (!match2(x->content, x->len, &bstart, &blen))
		return 0;
	if (x->have_m1 && blen == x->m1.len &&
	    !memcmp(x->content + bstart, x->content + x->m1.start, blen)) {
		if (x->doc_rc < 0)
			return 0;
		doc = x->doc;
	} else {
		r = load(x->content + bstart, blen, &own, &e);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return 0;
		doc = own;
	}
	root = sm_yaml_py_root(doc);
	if (root->type != SM_YPY_MAP || !root->u.map.len)
		goto out;

	if ((r = raw_field(&x->title, sm_ypy_map_get(root, "title"))) < 0)
		goto out;
	if (!x->description) {
		v = sm_ypy_map_get(root, "description");
		x->description_truthy = sm_ypy_truthy(v);
		if ((r = raw_field(&x->description, v)) < 0)
			goto out;
	}
	if ((r = raw_field(&x->author, sm_ypy_map_get(root, "author"))) < 0 ||
	    (r = raw_field(&x->license, sm_ypy_map_get(root, "license"))) < 0 ||
	    (r = raw_field(&x->version, sm_ypy_map_get(root, "version"))) < 0)
		goto out;
	if (!sm_md_toml_truthy(x->tags)) {
		struct sm_toml_value *tags;

		if ((r = sm_md_string_list(sm_ypy_map_get(root, "tags"), &tags)) < 0)
			goto out;
		if (tags) {
			sm_toml_free(x->tags);
			x->tags = tags;
		}
	}
	if (!x->dependencies_truthy) {
		v = sm_ypy_map_get(root, "dependencies");
		sm_toml_free(x->dependencies);
		x->dependencies = NULL;
		x->dependencies_truthy = sm_ypy_truthy(v);
		if (v && (r = sm_ypy_to_toml(v, &x->dependencies)) < 0)
			goto out;
	}

	for (size_t i = 0; i < root->u.map.len; i++) {
		const struct sm_ypy *k = root->u.map.keys[i];
		struct strbuf key = STRBUF_INIT;
		struct sm_toml_value *tv = NULL;

		v = root->u.map.vals[i];
		if (k->type == SM_YPY_STR && !crash_class(k->u.s.ptr, k->u.s.len))
			continue;
		if (v->type == SM_YPY_NULL)
			continue; /* S1: the original fails to write it */
		if ((r = extra_table(x)) < 0 || (r = sm_ypy_str(k, &key)) < 0) {
			sm_strbuf_release(&key);
			goto out;
		}
		if (!sm_toml_getn(x->extra, key.buf, key.len)) {
			r = sm_ypy_to_toml(v, &tv);
			if (r == 0 && tv)
				r = sm_toml_setn(x->extra, key.buf, key.len, tv);
		}
		sm_strbuf_release(&key);
		if (r < 0)
			goto out;
	}
out:
	sm_yaml_py_doc_free(own);
	return r;
}

/* extract_description_from_content over the text after the frontmatter */
static int body_description(struct ex *x)
{
	const char *body = x->content;
	size_t n = x->len, start;

	if (n >= 3 && memcmp(body, "---", 3) == 0) {
		const char *nl = memchr(body, '\n', n);

		while (nl) {
			size_t ls = (size_t)(nl + 1 - x->content), le, b, e;
			const char *next = memchr(nl + 1, '\n', x->len - ls);

			le = next ? (size_t)(next - x->content) : x->len;
			sm_md_py_strip(x->content + ls, le - ls, &b, &e);
			if (e - b == 3 && !memcmp(x->content + ls + b, "---", 3)) {
				body = next ? next + 1 : x->content + x->len;
				n = (size_t)(x->content + x->len - body);
				break;
			}
			nl = next;
		}
	}
	start = 0;
	for (size_t i = 0; i <= n; i++) {
		size_t b, e;

		if (i < n && body[i] != '\n')
			continue;
		sm_md_py_strip(body + start, i - start, &b, &e);
		if (e > b && body[start + b] != '#') {
			const char *s = body + start + b;
			size_t len = e - b, k = 0, j = 0;

			/* line[:200] in code points */
			for (; j < len; j++)
				if (((unsigned char)s[j] & 0xc0) != 0x80 && k++ == DESCRIPTION_MAX)
					break;
			x->description = sm_toml_new_stringn(s, j);
			return x->description ? 0 : -ENOMEM;
		}
		start = i + 1;
	}
	return 0;
}

/* ArtifactMetadata.to_dict, then tomli_w's sm_toml_tomli_layout */
static int to_dict(struct ex *x, struct sm_toml_value **ret)
{
	struct sm_toml_value *t = sm_toml_new_table();
	int r = 0;

	if (!t)
		return -ENOMEM;
#define MOVE(key, field)                                                                           \
	do {                                                                                       \
		if (r == 0 && x->field) {                                                          \
			r = sm_toml_set(t, key, x->field);                                         \
			x->field = NULL;                                                           \
		}                                                                                  \
	} while (0)
	MOVE("title", title);
	MOVE("description", description);
	MOVE("author", author);
	MOVE("license", license);
	MOVE("version", version);
	if (x->dependencies_truthy)
		MOVE("dependencies", dependencies);
	if (x->tools && sm_toml_len(x->tools))
		MOVE("tools", tools);
	if (x->extra && sm_toml_len(x->extra))
		MOVE("extra", extra);
#undef MOVE
	if (r == 0)
		r = sm_toml_tomli_layout(t);
	if (r < 0) {
		sm_toml_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

/* frontmatter tags, de-duplicated (first occurrence wins) */
static int final_tags(struct ex *x, struct sm_toml_value **ret)
{
	struct sm_toml_value *out = sm_toml_new_array();

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; x->tags && i < sm_toml_len(x->tags); i++) {
		const struct sm_toml_value *t = sm_toml_at(x->tags, i);
		bool dup = false;
		int r;

		if (t->type != SM_TOML_STRING || !sm_toml_strlen(t))
			continue;
		for (size_t j = 0; j < sm_toml_len(out) && !dup; j++)
			dup = sm_toml_equal(sm_toml_at(out, j), t, true);
		if (dup)
			continue;
		r = sm_toml_push(out, sm_toml_clone(t));
		if (r < 0) {
			sm_toml_free(out);
			return r;
		}
	}
	*ret = out;
	return 0;
}

static void ex_release(struct ex *x)
{
	sm_toml_free(x->title);
	sm_toml_free(x->description);
	sm_toml_free(x->author);
	sm_toml_free(x->license);
	sm_toml_free(x->version);
	sm_toml_free(x->dependencies);
	sm_toml_free(x->tools);
	sm_toml_free(x->extra);
	sm_toml_free(x->tags);
	sm_yaml_py_doc_free(x->doc);
	sm_free(x->warning);
}

/* Python's text-mode read: strict UTF-8, then \r\n and \r become \n. */
static int decode_text(const char *text, size_t len, struct strbuf *out, size_t *bad_line)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	size_t i = 0;
	int r;

	*bad_line = 0;
	while (i < len) {
		uint32_t cp;
		size_t k;

		/* ASCII runs, eight bytes at a time (most of any file) */
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = sm_ypy_utf8_decode(p + i, end, &cp);
		if (!k) {
			*bad_line = 1 + sm_md_count_lines(text, i);
			return 0;
		}
		i += k;
	}
	if ((r = sm_strbuf_grow(out, len)) < 0)
		return r;
	for (i = 0; i < len;) {
		const char *cr = memchr(text + i, '\r', len - i);
		size_t run = cr ? (size_t)(cr - (text + i)) : len - i;

		memcpy(out->buf + out->len, text + i, run);
		out->len += run;
		i += run;
		if (i < len) {
			/* \r\n and a lone \r both become \n */
			out->buf[out->len++] = '\n';
			i += (i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
		}
	}
	out->buf[out->len] = '\0';
	return 0;
}

int sm_metadata_extract_text(const char *text, size_t len, const char *display_path,
			     struct sm_metadata *ret, struct strbuf *err)
{
	struct strbuf content = STRBUF_INIT;
	struct sm_metadata m = {0};
	struct ex x = {0};
	size_t bad_line;
	int r;

	x.display = display_path;
	r = decode_text(text, len, &content, &bad_line);
	if (r < 0)
		goto fail;
	if (bad_line) {
		/* the original cannot read the file and records no metadata */
		r = warn(&x, bad_line, "not valid UTF-8; metadata not read");
		if (r == 0)
			r = sm_md_empty(&m);
		if (r < 0)
			goto fail;
		m.warning = TAKE_PTR(x.warning);
		goto done;
	}
	x.content = content.buf;
	x.len = content.len;

	if ((r = first_pass(&x)) < 0 || (r = second_pass(&x)) < 0)
		goto fail;
	if (!x.description || !x.description_truthy) {
		sm_toml_free(x.description);
		x.description = NULL;
		if ((r = body_description(&x)) < 0)
			goto fail;
	}
	if ((r = to_dict(&x, &m.table)) < 0 || (r = final_tags(&x, &m.tags)) < 0)
		goto fail;
	m.warning = TAKE_PTR(x.warning);
done:
	ex_release(&x);
	sm_strbuf_release(&content);
	*ret = m;
	return 0;
fail:
	sm_metadata_release(&m);
	ex_release(&x);
	sm_strbuf_release(&content);
	return sm_err(err, r, "cannot extract metadata from '%s': %s",
		      display_path ? display_path : "<text>", sm_strerror(r));
}
void sm_metadata_release(struct sm_metadata *m)
{
	if (!m)
		return;
	sm_toml_free(m->table);
	sm_toml_free(m->tags);
	sm_free(m->warning);
	m->table = m->tags = NULL;
	m->warning = NULL;
}
