/* SPDX-License-Identifier: MIT */
/*
 * tomli_w's width rules: which values it writes inline and which as [table]
 * or [[array of tables]] sections (an inline table or array item wider than
 * its MAX_LINE_LENGTH of 100 becomes a section), and so the key order a
 * document has when the original reads back what it wrote: plain values
 * first, then sections, each group in insertion order.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/pyrepr.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "skillmeat/toml_tomli.h"
#include "util/banned.h"

#define INLINE_MAX 100 /* tomli_w's MAX_LINE_LENGTH */

static size_t cp_len(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			k++;
	return k;
}

/* length in code points of tomli_w's basic string for s */
static size_t string_width(const char *s, size_t n)
{
	size_t w = 2 + cp_len(s, n);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c == '\b' || c == '\n' || c == '\f' || c == '\r')
			w += 1;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			w += 5;
	}
	return w;
}

static size_t key_width(const char *k, size_t n)
{
	bool bare = n > 0;

	for (size_t i = 0; i < n && bare; i++) {
		char c = k[i];

		bare = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		       c == '_' || c == '-';
	}
	return bare ? n : string_width(k, n);
}

#define TOO_WIDE ((size_t)-1)

static size_t inline_width(const struct sm_toml_value *v);

static size_t literal_width(const struct sm_toml_value *v)
{
	struct strbuf sb = STRBUF_INIT;
	size_t w;

	switch (v->type) {
	case SM_TOML_STRING:
		return string_width(v->u.str.ptr, v->u.str.len);
	case SM_TOML_BOOL:
		return v->u.b ? 4 : 5;
	case SM_TOML_ARRAY:
		return v->u.arr.len ? TOO_WIDE : 2; /* multi-line */
	case SM_TOML_TABLE:
		return inline_width(v);
	case SM_TOML_BIG_INTEGER:
		return v->u.str.len;
	case SM_TOML_INTEGER:
		if (sm_strbuf_addf(&sb, "%lld", (long long)v->u.i) < 0)
			return TOO_WIDE;
		break;
	case SM_TOML_FLOAT:
		if (sm_py_float_repr(v->u.f, &sb) < 0)
			return TOO_WIDE;
		break;
	case SM_TOML_DATE_LOCAL:
		return 10;
	case SM_TOML_DATETIME_LOCAL:
	case SM_TOML_DATETIME:
		/* Python str(datetime): "YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]" */
		return 19 + (v->u.dt.nanosecond ? 7 : 0) + (v->type == SM_TOML_DATETIME ? 6 : 0);
	default:
		return 8;
	}
	w = sb.len;
	sm_strbuf_release(&sb);
	return w;
}

static size_t inline_width(const struct sm_toml_value *t)
{
	size_t w = 4; /* "{ " ... " }" */

	if (!t->u.tab.len)
		return 2;
	for (size_t i = 0; i < t->u.tab.len; i++) {
		size_t lw = literal_width(t->u.tab.items[i].value);

		if (lw == TOO_WIDE)
			return TOO_WIDE;
		w += (i ? 2 : 0) + key_width(t->u.tab.items[i].key, t->u.tab.items[i].keylen) + 3 +
		     lw;
		if (w > INLINE_MAX)
			return TOO_WIDE;
	}
	return w;
}

/* tomli_w writes this array as [[...]] tables (after the plain keys) */
static bool is_table_array(const struct sm_toml_value *v)
{
	if (v->type != SM_TOML_ARRAY || !v->u.arr.len)
		return false;
	for (size_t i = 0; i < v->u.arr.len; i++)
		if (v->u.arr.items[i]->type != SM_TOML_TABLE)
			return false;
	for (size_t i = 0; i < v->u.arr.len; i++) {
		size_t w = inline_width(v->u.arr.items[i]);

		if (w == TOO_WIDE || 4 + w + 1 > INLINE_MAX)
			return true;
	}
	return false;
}

static bool is_section(const struct sm_toml_value *v)
{
	return v->type == SM_TOML_TABLE || is_table_array(v);
}

static bool is_plain(const struct sm_toml_value *v)
{
	return !is_section(v);
}

int sm_toml_tomli_layout(struct sm_toml_value *tab)
{
	size_t n = tab->u.tab.len;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		struct sm_toml_value *v = tab->u.tab.items[i].value;

		if (v->type == SM_TOML_TABLE) {
			r = sm_toml_tomli_layout(v);
		} else if (is_table_array(v)) {
			for (size_t j = 0; r == 0 && j < v->u.arr.len; j++)
				r = sm_toml_tomli_layout(v->u.arr.items[j]);
		}
		if (r < 0)
			return r;
	}
	return sm_toml_table_partition(tab, is_plain);
}
