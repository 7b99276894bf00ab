/* SPDX-License-Identifier: MIT */
/*
 * In-place frontmatter editing (skillmeat/frontmatter.h).
 *
 * The block is cut into top-level entries by lines: a line starting at
 * column 0 with a key ("key:" or a quoted key) opens an entry; indented
 * lines, blank lines and "- " items at column 0 continue it; a comment at
 * column 0 stands alone. An edited entry is replaced as a whole (its
 * trailing comment kept when it was one line), a removed one dropped, a new
 * one appended before the closing "---". The result is loaded again and
 * compared with the original, key by key, so a layout this cutting gets
 * wrong is refused instead of written.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/yaml_py.h"
#include "skillmeat/error.h"
#include "skillmeat/frontmatter.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define MAX_ENTRIES 4096

static const char *const field_keys[SM_FM_FIELD_COUNT] = {
    [SM_FM_TITLE] = "title",     [SM_FM_DESCRIPTION] = "description", [SM_FM_AUTHOR] = "author",
    [SM_FM_LICENSE] = "license", [SM_FM_VERSION] = "version",	      [SM_FM_TAGS] = "tags",
    [SM_FM_TOOLS] = "tools",
};

/* the keys the reader takes tools from, in its order (tools or allowed-tools or allowedTools) */
static const char *const tools_keys[] = {"tools", "allowed-tools", "allowedTools"};

const char *sm_fm_field_key(enum sm_fm_field f)
{
	return f < SM_FM_FIELD_COUNT ? field_keys[f] : NULL;
}

/* ---- scalars -------------------------------------------------------------- */

/* YAML 1.1 (PyYAML) printable, and not a line break of YAML 1.1 */
static bool printable_cp(uint32_t cp)
{
	if (cp == 0x85 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
		return false;
	return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		uint32_t cp;
		size_t k;

		if (*p < 0x80) {
			if (!*p)
				return false;
			p++;
			continue;
		}
		k = sm_ypy_utf8_decode(p, end, &cp);
		if (!k)
			return false;
		p += k;
	}
	return true;
}

static bool reserved_word(const char *s)
{
	static const char *const words[] = {"yes", "no", "true", "false", "on", "off", "null", "y", "n"};

	for (size_t i = 0; i < SM_ARRAY_SIZE(words); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

/* s reads back as the same str when written plain (flow: inside [ ]) */
static bool plain_ok(const char *s, bool flow)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	unsigned char c = p[0];

	if (p == end)
		return false;
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '/' ||
	      c == '(' || c >= 0x80))
		return false;
	if (end[-1] == ' ' || end[-1] == ':' || reserved_word(s))
		return false;
	while (p < end) {
		uint32_t cp;
		size_t k = sm_ypy_utf8_decode(p, end, &cp);

		if (!k || !printable_cp(cp))
			return false;
		if (cp == ':' && (flow || p + 1 == end || p[1] == ' '))
			return false;
		if (cp == '#' && p[-1] == ' ')
			return false;
		if (flow && (cp == ',' || cp == '[' || cp == ']' || cp == '{' || cp == '}'))
			return false;
		p += k;
	}
	return true;
}

static int add_double_quoted(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	int r = sm_strbuf_addch(out, '"');

	while (r == 0 && p < end) {
		uint32_t cp;
		size_t k = sm_ypy_utf8_decode(p, end, &cp);

		if (!k)
			return -EINVAL;
		if (cp == '"' || cp == '\\')
			r = sm_strbuf_addf(out, "\\%c", (char)cp);
		else if (cp == '\n')
			r = sm_strbuf_addstr(out, "\\n");
		else if (cp == '\t')
			r = sm_strbuf_addstr(out, "\\t");
		else if (cp == '\r')
			r = sm_strbuf_addstr(out, "\\r");
		else if (cp == ' ' || printable_cp(cp))
			r = sm_strbuf_add(out, p, k);
		else if (cp <= 0xff)
			r = sm_strbuf_addf(out, "\\x%02X", (unsigned)cp);
		else if (cp <= 0xffff)
			r = sm_strbuf_addf(out, "\\u%04X", (unsigned)cp);
		else
			r = sm_strbuf_addf(out, "\\U%08X", (unsigned)cp);
		p += k;
	}
	return r ? r : sm_strbuf_addch(out, '"');
}

/* single-quoted when the old value was, and nothing needs an escape */
static bool single_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);

	if (p == end)
		return true;
	if (*p == ' ' || end[-1] == ' ')
		return false; /* fine for YAML, but keep it obvious */
	while (p < end) {
		uint32_t cp;
		size_t k = sm_ypy_utf8_decode(p, end, &cp);

		if (!k || !printable_cp(cp))
			return false;
		p += k;
	}
	return true;
}

static int add_single_quoted(struct strbuf *out, const char *s)
{
	int r = sm_strbuf_addch(out, '\'');

	for (; r == 0 && *s; s++)
		r = *s == '\'' ? sm_strbuf_addstr(out, "''") : sm_strbuf_addch(out, *s);
	return r ? r : sm_strbuf_addch(out, '\'');
}

enum quoting { Q_PLAIN, Q_SINGLE, Q_DOUBLE };

static int add_scalar(struct strbuf *out, const char *s, enum quoting pref, bool flow)
{
	if (pref == Q_DOUBLE)
		return add_double_quoted(out, s);
	if (pref == Q_SINGLE && single_ok(s))
		return add_single_quoted(out, s);
	if (plain_ok(s, flow))
		return sm_strbuf_addstr(out, s);
	return add_double_quoted(out, s);
}

int sm_fm_scalar(const char *s, struct strbuf *out)
{
	if (!valid_utf8(s, strlen(s)))
		return -EINVAL;
	return add_scalar(out, s, Q_PLAIN, false);
}

/* ---- the block ------------------------------------------------------------ */

struct entry {
	const char *key; /* raw key text (quotes stripped) */
	size_t key_len;
	size_t start;	  /* offset of the key line */
	size_t val;	  /* offset of the value text on the key line */
	size_t line_end;  /* end of the key line (before its EOL) */
	size_t end;	  /* end of the entry (after the EOL of its last line) */
	bool multi;	  /* continuation lines */
	size_t first_cont; /* offset of the first non-blank continuation line */
};

struct block {
	const char *t;
	size_t len;
	size_t start, end; /* [start, end): the lines between the delimiters */
	const char *eol;
	bool found;
	struct entry *e;
	size_t n;
};

static size_t line_end(const char *t, size_t len, size_t i)
{
	const char *nl = memchr(t + i, '\n', len - i);
	size_t e = nl ? (size_t)(nl - t) : len;

	if (e > i && t[e - 1] == '\r')
		e--;
	return e;
}

static size_t next_line(const char *t, size_t len, size_t i)
{
	const char *nl = memchr(t + i, '\n', len - i);

	return nl ? (size_t)(nl - t) + 1 : len;
}

/* "---" [ \t]* at [i, e) */
static bool delimiter(const char *t, size_t i, size_t e)
{
	if (e - i < 3 || memcmp(t + i, "---", 3))
		return false;
	for (i += 3; i < e; i++)
		if (t[i] != ' ' && t[i] != '\t')
			return false;
	return true;
}

static bool blank(const char *t, size_t i, size_t e)
{
	for (; i < e; i++)
		if (t[i] != ' ' && t[i] != '\t')
			return false;
	return true;
}

static void find_block(struct block *b)
{
	const char *t = b->t;
	size_t len = b->len, i = 0, e, nl;

	b->eol = "\n";
	nl = line_end(t, len, 0);
	if (nl < len && t[nl] == '\r')
		b->eol = "\r\n";
	if (len >= 3 && !memcmp(t, "\xef\xbb\xbf", 3))
		i = 3;
	/* leading blank lines, as the reader strips them */
	while (i < len) {
		e = line_end(t, len, i);
		if (!blank(t, i, e) || e == len)
			break;
		i = next_line(t, len, i);
	}
	b->start = i;
	e = line_end(t, len, i);
	if (!delimiter(t, i, e) || e == len)
		return;
	for (size_t j = next_line(t, len, i); j < len; j = next_line(t, len, j)) {
		size_t je = line_end(t, len, j);

		if (delimiter(t, j, je)) {
			b->found = true;
			b->start = next_line(t, len, i);
			b->end = j;
			return;
		}
	}
}

/* key at column 0 of the line [i, e): sets key/val; false when not a key line */
static bool key_line(const char *t, size_t i, size_t e, struct entry *en)
{
	size_t k = i;
	char c = t[i];

	if (i == e || c == ' ' || c == '\t' || c == '#' || c == '-' || c == '?' || c == '[' ||
	    c == '{')
		return false;
	if (c == '"' || c == '\'') {
		k = i + 1;
		while (k < e && t[k] != c)
			k++;
		if (k >= e || memchr(t + i + 1, '\\', k - i - 1) || k + 1 >= e || t[k + 1] != ':')
			return false;
		en->key = t + i + 1;
		en->key_len = k - i - 1;
		k += 2;
	} else {
		while (k < e && !(t[k] == ':' && (k + 1 == e || t[k + 1] == ' ' || t[k + 1] == '\t')))
			k++;
		if (k >= e)
			return false;
		en->key = t + i;
		en->key_len = k - i;
		while (en->key_len && (t[i + en->key_len - 1] == ' ' || t[i + en->key_len - 1] == '\t'))
			en->key_len--;
		k++;
	}
	if (k < e && t[k] != ' ' && t[k] != '\t')
		return false;
	while (k < e && (t[k] == ' ' || t[k] == '\t'))
		k++;
	en->val = k;
	en->line_end = e;
	return true;
}

static int scan_entries(struct block *b)
{
	const char *t = b->t;
	struct entry *cur = NULL;
	size_t last_content = 0;

	for (size_t i = b->start; i < b->end; i = next_line(t, b->len, i)) {
		size_t e = line_end(t, b->len, i);
		struct entry en = {0};

		if (key_line(t, i, e, &en)) {
			if (cur)
				cur->end = last_content;
			if (b->n == MAX_ENTRIES)
				return -EBADMSG;
			if (!(b->n % 16)) {
				struct entry *ne = sm_reallocarray(b->e, b->n + 16, sizeof(*ne));

				if (!ne)
					return -ENOMEM;
				b->e = ne;
			}
			en.start = i;
			cur = &b->e[b->n++];
			*cur = en;
			last_content = next_line(t, b->len, i);
			continue;
		}
		if (!cur)
			continue;
		if (t[i] == '#') {
			/* a comment at column 0 ends the entry */
			cur->end = last_content;
			cur = NULL;
			continue;
		}
		if (blank(t, i, e))
			continue;
		if (!cur->multi)
			cur->first_cont = i;
		cur->multi = true;
		last_content = next_line(t, b->len, i);
	}
	if (cur)
		cur->end = last_content;
	return 0;
}

/* ---- values --------------------------------------------------------------- */

/* the end of a quoted scalar starting at t[i] (after its closing quote), or 0 */
static size_t quoted_end(const char *t, size_t i, size_t e)
{
	char q = t[i];

	for (size_t k = i + 1; k < e; k++) {
		if (q == '"' && t[k] == '\\') {
			k++;
			continue;
		}
		if (t[k] == q) {
			if (q == '\'' && k + 1 < e && t[k + 1] == '\'') {
				k++;
				continue;
			}
			return k + 1;
		}
	}
	return 0;
}

/* offset of a trailing " # comment" (its leading blanks included) of a one-line value, or e */
static size_t comment_start(const char *t, size_t v, size_t e)
{
	size_t k = v;

	if (v < e && (t[v] == '"' || t[v] == '\'')) {
		k = quoted_end(t, v, e);
		if (!k)
			return e;
	} else if (v < e && t[v] == '[') {
		int depth = 0;

		for (k = v; k < e; k++) {
			if (t[k] == '"' || t[k] == '\'') {
				size_t q = quoted_end(t, k, e);

				if (!q)
					return e;
				k = q - 1;
			} else if (t[k] == '[') {
				depth++;
			} else if (t[k] == ']' && --depth == 0) {
				k++;
				break;
			}
		}
	}
	for (; k < e; k++) {
		if (t[k] == '#' && k > v && (t[k - 1] == ' ' || t[k - 1] == '\t')) {
			while (k > v && (t[k - 1] == ' ' || t[k - 1] == '\t'))
				k--;
			return k;
		}
	}
	return e;
}

static enum quoting old_quoting(const char *t, const struct entry *en)
{
	if (en->val < en->line_end && t[en->val] == '"')
		return Q_DOUBLE;
	if (en->val < en->line_end && t[en->val] == '\'')
		return Q_SINGLE;
	return Q_PLAIN;
}

enum list_style { L_FLOW, L_BLOCK, L_COMMA };

static bool comma_ok(const struct sm_fm_value *v)
{
	for (size_t i = 0; i < v->n_items; i++) {
		const char *s = v->items[i];
		size_t n = strlen(s);

		if (strchr(s, ',') || !n || s[0] == ' ' || s[n - 1] == ' ' || strchr(s, '\n') ||
		    strchr(s, '\t'))
			return false;
	}
	return true;
}

static int add_list(struct strbuf *out, const struct sm_fm_value *v, enum list_style st,
		    const char *indent, size_t indent_len, enum quoting q, const char *eol)
{
	int r = 0;

	if (st == L_COMMA) {
		struct strbuf joined = STRBUF_INIT;

		for (size_t i = 0; r == 0 && i < v->n_items; i++) {
			if (i)
				r = sm_strbuf_addstr(&joined, ", ");
			if (r == 0)
				r = sm_strbuf_addstr(&joined, v->items[i]);
		}
		if (r == 0)
			r = add_scalar(out, joined.buf, q, false);
		sm_strbuf_release(&joined);
		return r;
	}
	if (st == L_FLOW) {
		r = sm_strbuf_addch(out, '[');
		for (size_t i = 0; r == 0 && i < v->n_items; i++) {
			if (i)
				r = sm_strbuf_addstr(out, ", ");
			if (r == 0)
				r = add_scalar(out, v->items[i], Q_PLAIN, true);
		}
		return r ? r : sm_strbuf_addch(out, ']');
	}
	for (size_t i = 0; r == 0 && i < v->n_items; i++) {
		r = sm_strbuf_addstr(out, eol);
		if (r == 0)
			r = sm_strbuf_add(out, indent, indent_len);
		if (r == 0)
			r = sm_strbuf_addstr(out, "- ");
		if (r == 0)
			r = add_scalar(out, v->items[i], Q_PLAIN, false);
	}
	return r;
}

/*
 * The replacement of an entry (or a new one when en is NULL) for field f
 * holding v, without the final EOL.
 */
static int render(const struct block *b, const struct entry *en, const char *key,
		  enum sm_fm_field f, const struct sm_fm_value *v, const struct sm_ypy *old,
		  struct strbuf *out, size_t *comment)
{
	const char *t = b->t;
	enum quoting q = en ? old_quoting(t, en) : Q_PLAIN;
	int r;

	*comment = 0;
	if (en) {
		r = sm_strbuf_add(out, t + en->start, en->val - en->start);
		if (r == 0 && en->val == en->line_end)
			r = sm_strbuf_addch(out, ' ');
		else if (r == 0 && en->val > en->start && t[en->val - 1] != ' ' &&
			 t[en->val - 1] != '\t')
			r = sm_strbuf_addch(out, ' ');
		if (!en->multi)
			*comment = comment_start(t, en->val, en->line_end);
	} else {
		r = sm_strbuf_addf(out, "%s: ", key);
	}
	if (r < 0)
		return r;
	if (f != SM_FM_TAGS && f != SM_FM_TOOLS)
		return add_scalar(out, v->str, q, false);

	{
		enum list_style st = L_FLOW;
		const char *indent = "  ";
		size_t indent_len = 2;

		if (en && en->val == en->line_end && en->multi) {
			size_t c = en->first_cont, e = line_end(t, b->len, c), k = c;

			while (k < e && t[k] == ' ')
				k++;
			if (k + 1 < e && t[k] == '-' && (t[k + 1] == ' ' || t[k + 1] == '\t')) {
				st = L_BLOCK;
				indent = t + c;
				indent_len = k - c;
			}
		} else if (old && old->type == SM_YPY_STR && comma_ok(v)) {
			st = L_COMMA;
		}
		if (st == L_BLOCK) {
			/* drop the blank after "key:" */
			sm_strbuf_setlen(out, out->len - 1);
		}
		return add_list(out, v, st, indent, indent_len, q, b->eol);
	}
}

/* ---- checking ------------------------------------------------------------- */

static int load_block(const char *t, size_t n, struct sm_yaml_py_doc **doc, struct strbuf *err,
		      const char *what)
{
	struct strbuf norm = STRBUF_INIT;
	struct sm_yaml_py_error e;
	int r = 0;

	/* as the reader's regex cuts it: without the final line break */
	if (n && t[n - 1] == '\n')
		n--;
	if (n && t[n - 1] == '\r')
		n--;
	/* as the reader sees it: \r\n and \r become \n */
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (t[i] == '\r') {
			r = sm_strbuf_addch(&norm, '\n');
			if (i + 1 < n && t[i + 1] == '\n')
				i++;
		} else {
			r = sm_strbuf_addch(&norm, t[i]);
		}
	}
	if (r == 0)
		r = sm_yaml_py_load(norm.buf ? norm.buf : "", norm.len, doc, &e);
	sm_strbuf_release(&norm);
	if (r == -EBADMSG)
		return sm_err(err, r, "%s frontmatter is not valid YAML: line %u: %s", what,
			      e.line + 2, e.msg);
	return r < 0 ? sm_err(err, r, "cannot load frontmatter: %s", sm_strerror(r)) : 0;
}

static bool edited_key(const struct sm_fm_edit *ed, const struct sm_ypy *k)
{
	if (k->type != SM_YPY_STR)
		return false;
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		if (!ed->f[f].set)
			continue;
		if (f == SM_FM_TOOLS) {
			for (size_t i = 0; i < SM_ARRAY_SIZE(tools_keys); i++)
				if (sm_ypy_str_eq(k, tools_keys[i]))
					return true;
		} else if (sm_ypy_str_eq(k, field_keys[f])) {
			return true;
		}
	}
	return false;
}

static bool same_value(const struct sm_ypy *a, const struct sm_ypy *b)
{
	struct strbuf ra = STRBUF_INIT, rb = STRBUF_INIT;
	bool same = sm_ypy_repr(a, &ra) == 0 && sm_ypy_repr(b, &rb) == 0 && ra.len == rb.len &&
		    !memcmp(ra.buf, rb.buf, ra.len);

	sm_strbuf_release(&ra);
	sm_strbuf_release(&rb);
	return same;
}

/* v (a str or a seq of str) holds exactly the items (a str: split at commas) */
static bool holds_list(const struct sm_ypy *v, const struct sm_fm_value *want)
{
	if (v && v->type == SM_YPY_SEQ) {
		if (v->u.seq.len != want->n_items)
			return false;
		for (size_t i = 0; i < want->n_items; i++)
			if (!sm_ypy_str_eq(v->u.seq.items[i], want->items[i]))
				return false;
		return true;
	}
	if (v && v->type == SM_YPY_STR) {
		const char *s = v->u.s.ptr, *end = s + v->u.s.len;

		for (size_t i = 0; i < want->n_items; i++) {
			size_t n = strlen(want->items[i]);

			if ((size_t)(end - s) < n || memcmp(s, want->items[i], n))
				return false;
			s += n;
			if (i + 1 < want->n_items) {
				if (end - s < 2 || memcmp(s, ", ", 2))
					return false;
				s += 2;
			}
		}
		return s == end;
	}
	return false;
}

static const struct sm_ypy *tools_value(const struct sm_ypy *root)
{
	for (size_t i = 0; i < SM_ARRAY_SIZE(tools_keys); i++) {
		const struct sm_ypy *v = sm_ypy_map_get(root, tools_keys[i]);

		if (v)
			return v;
	}
	return NULL;
}

static int verify(const struct sm_ypy *old, const struct sm_ypy *now, const struct sm_fm_edit *ed)
{
	size_t j = 0;

	if (now->type != SM_YPY_MAP)
		return -EBADMSG;
	/* untouched keys: same keys, same order, same values */
	for (size_t i = 0; old && old->type == SM_YPY_MAP && i < old->u.map.len; i++) {
		const struct sm_ypy *k = old->u.map.keys[i];

		if (edited_key(ed, k))
			continue;
		while (j < now->u.map.len && edited_key(ed, now->u.map.keys[j]))
			j++;
		if (j == now->u.map.len || !same_value(k, now->u.map.keys[j]) ||
		    !same_value(old->u.map.vals[i], now->u.map.vals[j]))
			return -EBADMSG;
		j++;
	}
	for (; j < now->u.map.len; j++)
		if (!edited_key(ed, now->u.map.keys[j]))
			return -EBADMSG;
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		const struct sm_fm_value *v = &ed->f[f];
		const struct sm_ypy *got;

		if (!v->set)
			continue;
		if (f == SM_FM_TOOLS) {
			got = tools_value(now);
			if (!v->n_items ? got != NULL : !holds_list(got, v))
				return -EBADMSG;
			continue;
		}
		got = sm_ypy_map_get(now, field_keys[f]);
		if (f == SM_FM_TAGS) {
			if (!v->n_items ? got != NULL : !holds_list(got, v))
				return -EBADMSG;
		} else if (!v->str || !*v->str) {
			if (got)
				return -EBADMSG;
		} else if (!got || !sm_ypy_str_eq(got, v->str)) {
			return -EBADMSG;
		}
	}
	return 0;
}

/* ---- editing -------------------------------------------------------------- */

static bool removes(enum sm_fm_field f, const struct sm_fm_value *v)
{
	if (f == SM_FM_TAGS || f == SM_FM_TOOLS)
		return v->n_items == 0;
	return !v->str || !*v->str;
}

struct plan {
	const struct entry *en; /* replaced or removed */
	int field;		/* -1: removal */
};

static int check_values(const struct sm_fm_edit *ed, struct strbuf *err)
{
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		const struct sm_fm_value *v = &ed->f[f];

		if (!v->set)
			continue;
		if (v->str && !valid_utf8(v->str, strlen(v->str)))
			return sm_err(err, -EINVAL, "%s is not valid UTF-8", field_keys[f]);
		for (size_t i = 0; i < v->n_items; i++) {
			if (!v->items[i] || !*v->items[i])
				return sm_err(err, -EINVAL, "empty item in %s", field_keys[f]);
			if (!valid_utf8(v->items[i], strlen(v->items[i])))
				return sm_err(err, -EINVAL, "%s is not valid UTF-8", field_keys[f]);
		}
	}
	return 0;
}

static int plan_cmp(const void *a, const void *b)
{
	const struct plan *x = a, *y = b;

	return x->en->start < y->en->start ? -1 : x->en->start > y->en->start;
}

int sm_frontmatter_edit(const char *text, size_t len, enum sm_artifact_type type,
			const struct sm_fm_edit *edit, struct strbuf *out, struct strbuf *err)
{
	struct block b = {.t = text, .len = len};
	struct sm_yaml_py_doc *old_doc = NULL, *new_doc = NULL;
	const struct sm_ypy *old = NULL;
	struct plan plan[MAX_ENTRIES];
	size_t n_plan = 0, pos, out_start = out->len;
	struct strbuf fresh = STRBUF_INIT, piece = STRBUF_INIT;
	int r;

	if ((r = check_values(edit, err)) < 0)
		return r;
	find_block(&b);
	if (b.found) {
		r = load_block(text + b.start, b.end - b.start, &old_doc, err, "the");
		if (r < 0)
			goto out;
		old = sm_yaml_py_root(old_doc);
		if (old->type != SM_YPY_MAP && old->type != SM_YPY_NULL) {
			r = sm_err(err, -EBADMSG, "the frontmatter is not a mapping");
			goto out;
		}
		if ((r = scan_entries(&b)) < 0)
			goto fail_layout;
	}

	/* which entries change, and the new keys */
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		const struct sm_fm_value *v = &edit->f[f];
		const char *keys1[] = {field_keys[f]};
		const char *const *keys = f == SM_FM_TOOLS ? tools_keys : keys1;
		size_t nkeys = f == SM_FM_TOOLS ? SM_ARRAY_SIZE(tools_keys) : 1;
		bool placed = false;

		if (!v->set)
			continue;
		for (size_t k = 0; k < nkeys; k++) {
			size_t klen = strlen(keys[k]);

			for (size_t i = b.n; i-- > 0;) {
				const struct entry *en = &b.e[i];

				if (en->key_len != klen || memcmp(en->key, keys[k], klen))
					continue;
				plan[n_plan].en = en;
				plan[n_plan].field = (!placed && !removes(f, v)) ? f : -1;
				placed = true;
				n_plan++;
			}
		}
		if (!placed && !removes(f, v)) {
			const char *key = field_keys[f];
			size_t c;

			if (f == SM_FM_TOOLS && type != SM_TYPE_AGENT)
				key = "allowed-tools";
			r = render(&b, NULL, key, f, v, NULL, &piece, &c);
			if (r == 0)
				r = sm_strbuf_add(&fresh, piece.buf, piece.len);
			if (r == 0)
				r = sm_strbuf_addstr(&fresh, b.eol);
			sm_strbuf_reset(&piece);
			if (r < 0)
				goto out;
		}
	}
	qsort(plan, n_plan, sizeof(plan[0]), plan_cmp);

	if (!b.found) {
		/* a new block at the top; the rest of the file follows unchanged */
		if (!fresh.len) {
			r = sm_strbuf_add(out, text, len);
			goto out;
		}
		r = sm_strbuf_add(out, text, b.start);
		if (r == 0)
			r = sm_strbuf_addf(out, "---%s", b.eol);
		if (r == 0)
			r = sm_strbuf_add(out, fresh.buf, fresh.len);
		if (r == 0)
			r = sm_strbuf_addf(out, "---%s", b.eol);
		if (r == 0)
			r = sm_strbuf_add(out, text + b.start, len - b.start);
		if (r < 0)
			goto out;
		r = load_block(fresh.buf, fresh.len, &new_doc, err, "the new");
		if (r == 0 && verify(NULL, sm_yaml_py_root(new_doc), edit) < 0)
			goto fail_layout;
		goto out;
	}

	/*
	 * New keys go after the last entry; when that changes how YAML reads
	 * the entry before them (a block scalar at the end of the block gains
	 * its final line break), they go before the first one instead.
	 */
	for (int top = 0; top < 2; top++) {
		size_t nb_start, nb_end;

		sm_strbuf_setlen(out, out_start);
		sm_yaml_py_doc_free(new_doc);
		new_doc = NULL;
		if ((r = sm_strbuf_add(out, text, b.start)) < 0 ||
		    (top && (r = sm_strbuf_add(out, fresh.buf, fresh.len)) < 0))
			goto out;
		pos = b.start;
		for (size_t i = 0; i < n_plan; i++) {
			const struct entry *en = plan[i].en;

			if ((r = sm_strbuf_add(out, text + pos, en->start - pos)) < 0)
				goto out;
			pos = en->end;
			if (plan[i].field >= 0) {
				int f = plan[i].field;
				const struct sm_ypy *ov = NULL;
				size_t c;

				if (old && old->type == SM_YPY_MAP) {
					char key[64];

					if (en->key_len < sizeof(key)) {
						memcpy(key, en->key, en->key_len);
						key[en->key_len] = '\0';
						ov = sm_ypy_map_get(old, key);
					}
				}
				r = render(&b, en, NULL, (enum sm_fm_field)f, &edit->f[f], ov, out,
					   &c);
				if (r == 0 && c && c < en->line_end)
					r = sm_strbuf_add(out, text + c, en->line_end - c);
				if (r == 0)
					r = sm_strbuf_addstr(out, b.eol);
				if (r < 0)
					goto out;
			}
		}
		if ((r = sm_strbuf_add(out, text + pos, b.end - pos)) < 0 ||
		    (!top && (r = sm_strbuf_add(out, fresh.buf, fresh.len)) < 0) ||
		    (r = sm_strbuf_add(out, text + b.end, len - b.end)) < 0)
			goto out;
		/* the new block spans from b.start to where the old closing line now is */
		nb_start = out_start + b.start;
		nb_end = out->len - (len - b.end);
		r = load_block(out->buf + nb_start, nb_end - nb_start, &new_doc, err, "the new");
		if (r < 0)
			goto out;
		if (verify(old, sm_yaml_py_root(new_doc), edit) == 0)
			goto out;
		if (!fresh.len)
			break;
	}
	goto fail_layout;

fail_layout:
	r = sm_err(err, -EBADMSG,
		   "the frontmatter's layout cannot be edited without changing other keys; "
		   "edit the file by hand");
out:
	if (r < 0)
		sm_strbuf_setlen(out, out_start);
	sm_yaml_py_doc_free(old_doc);
	sm_yaml_py_doc_free(new_doc);
	sm_strbuf_release(&fresh);
	sm_strbuf_release(&piece);
	sm_free(b.e);
	return r < 0 ? r : 0;
}
