/* SPDX-License-Identifier: MIT */
/*
 * PyYAML safe_load semantics over libyaml events. Two phases like PyYAML:
 * compose (events → node graph with anchors/aliases; syntax errors,
 * duplicate anchors, undefined aliases, several documents) and construct
 * (tag resolution, SafeConstructor, merge keys, dict semantics). Values live
 * in an arena owned by the document; aliases share values.
 *
 * Longer than a usual module: PyYAML's resolver, SafeConstructor and the
 * scanner checks where PyYAML is stricter than libyaml are one port and
 * are kept together; Python's str()/repr() and the TOML mapping live in
 * yaml_py_value.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/yaml_py.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

/* ---- arena ---------------------------------------------------------- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_block *head;
};

#define ARENA_BLOCK 65536

static void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;

	n = (n + 15) & ~(size_t)15;
	if (!n)
		n = 16;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = sm_malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		if (a->head && n > ARENA_BLOCK) {
			/* a big one-off: keep the current block in front */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	b->used += n;
	return b->data + b->used - n;
}

static void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void arena_release(struct arena *a)
{
	while (a->head) {
		struct arena_block *next = a->head->next;

		sm_free(a->head);
		a->head = next;
	}
}

/* ---- raw nodes (compose) -------------------------------------------- */

enum tid {
	T_NULL,
	T_BOOL,
	T_INT,
	T_FLOAT,
	T_BINARY,
	T_TIMESTAMP,
	T_OMAP,
	T_PAIRS,
	T_SET,
	T_STR,
	T_SEQ,
	T_MAP,
	T_MERGE,
	T_VALUE,
	T_OTHER,
};

enum rkind { R_SCALAR, R_SEQ, R_MAP };

struct rnode {
	enum rkind kind;
	enum tid tid;
	bool complete;
	bool flattened;
	const char *tag; /* as written (resolved handle), for messages */
	char *val;	 /* scalar */
	size_t len;
	struct rnode **items; /* seq items; map: key, value, key, value ... */
	size_t n;
	unsigned line;
	struct sm_ypy *obj;
};

struct anchor {
	const char *name;
	struct rnode *node;
};

struct frame {
	struct rnode *node;
	struct rnode **items;
	size_t n, alloc;
};

struct sm_yaml_py_doc {
	struct arena arena;
	struct sm_ypy *root;
};

struct ctx {
	struct arena *arena;
	struct sm_yaml_py_error *e;
	const char *text;
	size_t textlen;
	struct anchor *anchors;
	size_t nanchors, anchors_alloc;
	struct frame frames[SM_YAML_PY_MAX_DEPTH + 1];
	size_t depth;
	struct rnode *root;
	size_t nodes;	      /* budget: composed nodes plus merged pairs */
	struct rnode **queue; /* collections waiting to be filled */
	size_t nqueue, queue_alloc;
};

static int fail(struct ctx *c, enum sm_yaml_py_fail kind, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct ctx *c, enum sm_yaml_py_fail kind, unsigned line, const char *fmt, ...)
{
	va_list ap;

	c->e->kind = kind;
	c->e->line = line;
	c->e->context_line = -1;
	va_start(ap, fmt);
	vsnprintf(c->e->msg, sizeof(c->e->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define HASH_SEED 0xcbf29ce484222325ULL

static struct anchor *anchor_slot(struct ctx *c, const char *name)
{
	size_t mask = c->anchors_alloc - 1;
	size_t i = hash_bytes(name, strlen(name), HASH_SEED) & mask;

	while (c->anchors[i].name && strcmp(c->anchors[i].name, name) != 0)
		i = (i + 1) & mask;
	return &c->anchors[i];
}

static int anchor_grow(struct ctx *c)
{
	struct anchor *old = c->anchors;
	size_t oldn = c->anchors_alloc;

	c->anchors_alloc = oldn ? oldn * 2 : 64;
	c->anchors = sm_calloc(c->anchors_alloc, sizeof(*c->anchors));
	if (!c->anchors) {
		c->anchors = old;
		c->anchors_alloc = oldn;
		return -ENOMEM;
	}
	for (size_t i = 0; i < oldn; i++)
		if (old[i].name)
			*anchor_slot(c, old[i].name) = old[i];
	sm_free(old);
	return 0;
}

static int anchor_add(struct ctx *c, const yaml_char_t *name, struct rnode *node)
{
	struct anchor *a;

	if (!name)
		return 0;
	if ((c->nanchors + 1) * 2 > c->anchors_alloc && anchor_grow(c) < 0)
		return -ENOMEM;
	a = anchor_slot(c, (const char *)name);
	if (a->name)
		return fail(c, SM_YAML_PY_SYNTAX, node->line, "found duplicate anchor '%s'",
			    (const char *)name);
	a->name = arena_strndup(c->arena, (const char *)name, strlen((const char *)name));
	if (!a->name)
		return -ENOMEM;
	a->node = node;
	c->nanchors++;
	return 0;
}

static struct rnode *anchor_find(struct ctx *c, const char *name)
{
	struct anchor *a;

	if (!c->anchors_alloc)
		return NULL;
	a = anchor_slot(c, name);
	return a->name ? a->node : NULL;
}

/* ---- implicit resolution (PyYAML's Resolver) ------------------------- */

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool one_of(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && memcmp(*words, s, n) == 0)
			return true;
	return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const bool_words[] = {"yes",	 "Yes",	 "YES",	  "no",	   "No",    "NO", "true",
					 "True", "TRUE", "false", "False", "FALSE", "on", "On",
					 "ON",	 "off",	 "Off",	  "OFF",   NULL};

/* (:[0-5]?[0-9])+ starting at s[*i] == ':'; stops before a char in stop or end */
static bool match_base60(const char *s, size_t n, size_t *i, const char *stop)
{
	bool any = false;

	while (*i < n && s[*i] == ':') {
		size_t j = *i + 1;

		if (j + 1 < n && s[j] >= '0' && s[j] <= '5' && is_digit(s[j + 1]) &&
		    (j + 2 == n || strchr(stop, s[j + 2])))
			j += 2;
		else if (j < n && is_digit(s[j]) && (j + 1 == n || strchr(stop, s[j + 1])))
			j += 1;
		else
			return false;
		*i = j;
		any = true;
	}
	return any;
}

static size_t skip_sign(const char *s, size_t n)
{
	return n && (s[0] == '-' || s[0] == '+') ? 1 : 0;
}

static size_t span(const char *s, size_t n, size_t i, const char *set)
{
	while (i < n && s[i] && strchr(set, s[i]))
		i++;
	return i;
}

static bool match_exp(const char *s, size_t n, size_t i)
{
	if (i == n)
		return true;
	if (s[i] != 'e' && s[i] != 'E')
		return false;
	i++;
	if (i >= n || (s[i] != '-' && s[i] != '+'))
		return false;
	i++;
	if (i >= n || !is_digit(s[i]))
		return false;
	return span(s, n, i, "0123456789") == n;
}

static bool match_float(const char *s, size_t n)
{
	size_t i = skip_sign(s, n), j;

	/* [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)? and the base 60 form */
	if (i < n && is_digit(s[i])) {
		j = span(s, n, i + 1, "0123456789_");
		if (j < n && s[j] == '.') {
			j = span(s, n, j + 1, "0123456789_");
			return match_exp(s, n, j);
		}
		if (j < n && s[j] == ':' && match_base60(s, n, &j, ":.") && j < n && s[j] == '.')
			return span(s, n, j + 1, "0123456789_") == n;
		return false;
	}
	if (i < n && s[i] == '.') {
		const char *r = s + i + 1;
		size_t rn = n - i - 1;

		if (rn == 3 &&
		    (!memcmp(r, "inf", 3) || !memcmp(r, "Inf", 3) || !memcmp(r, "INF", 3)))
			return true;
		if (i == 0 && rn == 3 &&
		    (!memcmp(r, "nan", 3) || !memcmp(r, "NaN", 3) || !memcmp(r, "NAN", 3)))
			return true;
		/* \.[0-9][0-9_]*(?:[eE][-+][0-9]+)? — no sign allowed */
		if (i == 0 && rn && is_digit(r[0]))
			return match_exp(s, n, span(s, n, 2, "0123456789_"));
	}
	return false;
}

static bool match_int(const char *s, size_t n)
{
	size_t i = skip_sign(s, n), j;

	if (i >= n)
		return false;
	if (n - i >= 3 && s[i] == '0' && s[i + 1] == 'b')
		return span(s, n, i + 2, "01_") == n;
	if (n - i >= 3 && s[i] == '0' && s[i + 1] == 'x')
		return span(s, n, i + 2, "0123456789abcdefABCDEF_") == n;
	if (s[i] == '0')
		return n - i == 1 || span(s, n, i + 1, "01234567_") == n;
	if (s[i] < '1' || s[i] > '9')
		return false;
	j = span(s, n, i + 1, "0123456789_");
	if (j == n)
		return true;
	return s[j] == ':' && match_base60(s, n, &j, ":") && j == n;
}

static bool digits_at(const char *s, size_t n, size_t i, size_t count)
{
	if (i + count > n)
		return false;
	for (size_t k = 0; k < count; k++)
		if (!is_digit(s[i + k]))
			return false;
	return true;
}

/* 1 or 2 digits at *i */
static bool digits12(const char *s, size_t n, size_t *i, int *val)
{
	if (!digits_at(s, n, *i, 1))
		return false;
	*val = s[*i] - '0';
	(*i)++;
	if (*i < n && is_digit(s[*i])) {
		*val = *val * 10 + s[*i] - '0';
		(*i)++;
	}
	return true;
}

struct ts {
	int year, month, day, hour, minute, second, usec;
	bool has_time, tz, tz_sign_neg, tz_signed;
	int tz_hour, tz_minute;
};

/* PyYAML's timestamp_regexp (the constructor's, a superset of the resolver's) */
static bool parse_ts(const char *s, size_t n, struct ts *t)
{
	size_t i = 0;

	memset(t, 0, sizeof(*t));
	if (!digits_at(s, n, 0, 4) || n < 5 || s[4] != '-')
		return false;
	t->year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	i = 5;
	if (!digits12(s, n, &i, &t->month) || i >= n || s[i] != '-')
		return false;
	i++;
	if (!digits12(s, n, &i, &t->day))
		return false;
	if (i == n)
		return true;
	if (s[i] == 'T' || s[i] == 't') {
		i++;
	} else if (s[i] == ' ' || s[i] == '\t') {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
	} else {
		return false;
	}
	t->has_time = true;
	if (!digits12(s, n, &i, &t->hour) || i >= n || s[i] != ':' || !digits_at(s, n, i + 1, 2))
		return false;
	t->minute = (s[i + 1] - '0') * 10 + s[i + 2] - '0';
	i += 3;
	if (i >= n || s[i] != ':' || !digits_at(s, n, i + 1, 2))
		return false;
	t->second = (s[i + 1] - '0') * 10 + s[i + 2] - '0';
	i += 3;
	if (i < n && s[i] == '.') {
		int k = 0;

		i++;
		for (; i < n && is_digit(s[i]); i++, k++)
			if (k < 6)
				t->usec = t->usec * 10 + s[i] - '0';
		for (; k < 6; k++)
			t->usec *= 10;
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n) {
		/* trailing blanks without a zone do not match */
		return s[n - 1] != ' ' && s[n - 1] != '\t';
	}
	if (s[i] == 'Z') {
		t->tz = true;
		return i + 1 == n;
	}
	if (s[i] != '-' && s[i] != '+')
		return false;
	t->tz = t->tz_signed = true;
	t->tz_sign_neg = s[i] == '-';
	i++;
	if (!digits12(s, n, &i, &t->tz_hour))
		return false;
	if (i < n && s[i] == ':') {
		if (!digits_at(s, n, i + 1, 2))
			return false;
		t->tz_minute = (s[i + 1] - '0') * 10 + s[i + 2] - '0';
		i += 3;
	}
	return i == n;
}

static bool match_timestamp(const char *s, size_t n)
{
	struct ts t;

	if (!parse_ts(s, n, &t))
		return false;
	/* the resolver wants exactly YYYY-MM-DD for a bare date */
	if (!t.has_time)
		return n == 10;
	return true;
}

static enum tid resolve_plain(const char *s, size_t n)
{
	char c0 = n ? s[0] : '\0';

	if (n && strchr("yYnNtTfFoO", c0) && one_of(s, n, bool_words))
		return T_BOOL;
	if (n && strchr("-+0123456789.", c0) && match_float(s, n))
		return T_FLOAT;
	if (n && strchr("-+0123456789", c0) && match_int(s, n))
		return T_INT;
	if (n == 2 && s[0] == '<' && s[1] == '<')
		return T_MERGE;
	if ((!n || strchr("~nN", c0)) && one_of(s, n, null_words))
		return T_NULL;
	if (n && is_digit(c0) && match_timestamp(s, n))
		return T_TIMESTAMP;
	if (n == 1 && c0 == '=')
		return T_VALUE;
	return T_STR;
}

static enum tid tag_id(const char *tag)
{
	static const struct {
		const char *name;
		enum tid id;
	} tags[] = {
	    {"null", T_NULL},	{"bool", T_BOOL},     {"int", T_INT},
	    {"float", T_FLOAT}, {"binary", T_BINARY}, {"timestamp", T_TIMESTAMP},
	    {"omap", T_OMAP},	{"pairs", T_PAIRS},   {"set", T_SET},
	    {"str", T_STR},	{"seq", T_SEQ},	      {"map", T_MAP},
	    {"merge", T_MERGE}, {"value", T_VALUE},
	};
	static const char prefix[] = "tag:yaml.org,2002:";

	if (strncmp(tag, prefix, sizeof(prefix) - 1) != 0)
		return T_OTHER;
	tag += sizeof(prefix) - 1;
	for (size_t i = 0; i < SM_ARRAY_SIZE(tags); i++)
		if (strcmp(tag, tags[i].name) == 0)
			return tags[i].id;
	return T_OTHER;
}

/* ---- compose -------------------------------------------------------- */

static int add_child(struct ctx *c, struct rnode *node)
{
	struct frame *f;

	if (++c->nodes > SM_YAML_PY_MAX_NODES)
		return fail(c, SM_YAML_PY_SYNTAX, node->line, "too many nodes (more than %d)",
			    SM_YAML_PY_MAX_NODES);
	if (!c->depth) {
		c->root = node;
		return 0;
	}
	f = &c->frames[c->depth - 1];
	if (f->n == f->alloc) {
		size_t na = f->alloc ? f->alloc * 2 : 8;
		struct rnode **p = sm_reallocarray(f->items, na, sizeof(*p));

		if (!p)
			return -ENOMEM;
		f->items = p;
		f->alloc = na;
	}
	f->items[f->n++] = node;
	return 0;
}

static struct rnode *new_rnode(struct ctx *c, enum rkind kind, const yaml_char_t *tag,
			       const yaml_mark_t *mark)
{
	struct rnode *r = arena_zalloc(c->arena, sizeof(*r));

	if (!r)
		return NULL;
	r->kind = kind;
	r->line = (unsigned)mark->line;
	if (tag) {
		r->tag = arena_strndup(c->arena, (const char *)tag, strlen((const char *)tag));
		if (!r->tag)
			return NULL;
	}
	return r;
}

static bool tag_is_nonspecific(const char *tag)
{
	return !tag || strcmp(tag, "!") == 0;
}

static int on_scalar(struct ctx *c, yaml_event_t *ev)
{
	struct rnode *r = new_rnode(c, R_SCALAR, ev->data.scalar.tag, &ev->start_mark);
	int ret;

	if (!r)
		return -ENOMEM;
	r->val =
	    arena_strndup(c->arena, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	if (!r->val)
		return -ENOMEM;
	r->len = ev->data.scalar.length;
	/* PyYAML resolves a '!' scalar like a plain one, also when it is empty */
	if (!r->tag)
		r->tid = ev->data.scalar.plain_implicit ? resolve_plain(r->val, r->len) : T_STR;
	else if (strcmp(r->tag, "!") == 0)
		r->tid = resolve_plain(r->val, r->len);
	else
		r->tid = tag_id(r->tag);
	r->complete = true;
	ret = anchor_add(c, ev->data.scalar.anchor, r);
	return ret < 0 ? ret : add_child(c, r);
}

static int on_start(struct ctx *c, yaml_event_t *ev, enum rkind kind)
{
	const yaml_char_t *tag, *anchor;
	struct rnode *r;
	int ret;

	if (kind == R_SEQ) {
		tag = ev->data.sequence_start.tag;
		anchor = ev->data.sequence_start.anchor;
	} else {
		tag = ev->data.mapping_start.tag;
		anchor = ev->data.mapping_start.anchor;
	}
	r = new_rnode(c, kind, tag, &ev->start_mark);
	if (!r)
		return -ENOMEM;
	if (tag_is_nonspecific(r->tag))
		r->tid = kind == R_SEQ ? T_SEQ : T_MAP;
	else
		r->tid = tag_id(r->tag);
	ret = anchor_add(c, anchor, r);
	if (ret < 0)
		return ret;
	ret = add_child(c, r);
	if (ret < 0)
		return ret;
	if (c->depth >= SM_YAML_PY_MAX_DEPTH)
		return fail(c, SM_YAML_PY_SYNTAX, r->line,
			    "nested too deeply (more than %d levels)", SM_YAML_PY_MAX_DEPTH);
	c->frames[c->depth].node = r;
	c->frames[c->depth].items = NULL;
	c->frames[c->depth].n = c->frames[c->depth].alloc = 0;
	c->depth++;
	return 0;
}

static int on_end(struct ctx *c)
{
	struct frame *f = &c->frames[c->depth - 1];
	struct rnode *r = f->node;

	r->n = f->n;
	if (f->n) {
		r->items = arena_alloc(c->arena, f->n * sizeof(*r->items));
		if (!r->items)
			return -ENOMEM;
		memcpy(r->items, f->items, f->n * sizeof(*r->items));
	}
	sm_free(f->items);
	f->items = NULL;
	r->complete = true;
	c->depth--;
	return 0;
}

static unsigned offset_line(const struct ctx *c, size_t off)
{
	unsigned line = 0;

	if (off > c->textlen)
		off = c->textlen;
	for (size_t i = 0; i < off; i++)
		if (c->text[i] == '\n')
			line++;
	return line;
}

static int parser_fail(struct ctx *c, const yaml_parser_t *p)
{
	unsigned line;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR)
		line = offset_line(c, p->problem_offset);
	else
		line = (unsigned)p->problem_mark.line;
	if (p->context) {
		fail(c, SM_YAML_PY_SYNTAX, line, "%s: %s", p->context,
		     p->problem ? p->problem : "error");
		if (p->context_mark.line != line)
			c->e->context_line = (int)p->context_mark.line;
		return -EBADMSG;
	}
	return fail(c, SM_YAML_PY_SYNTAX, line, "%s", p->problem ? p->problem : "error");
}

/*
 * PyYAML's scanner is stricter than libyaml's in two places: a tab may only
 * appear inside quoted scalars, block scalar content and comments, and in
 * flow context a plain scalar ends at '?'. libyaml accepts both, so find
 * them from libyaml's tokens first and fail like PyYAML would.
 */
struct cursor {
	size_t chars, bytes;
};

static size_t char_to_byte(const struct ctx *c, struct cursor *cur, size_t chars)
{
	while (cur->chars < chars && cur->bytes < c->textlen) {
		unsigned char b = (unsigned char)c->text[cur->bytes];

		cur->bytes += b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
		cur->chars++;
	}
	if (cur->bytes > c->textlen)
		cur->bytes = c->textlen;
	return cur->bytes;
}

static int tab_error(struct ctx *c, size_t at)
{
	return fail(c, SM_YAML_PY_SYNTAX, offset_line(c, at),
		    "while scanning for the next token: found character '\\t' that cannot "
		    "start any token");
}

/* between tokens: blanks, line breaks and comments; a tab before a '#' is an error */
static int check_gap(struct ctx *c, size_t from, size_t to)
{
	bool comment = false;

	for (size_t i = from; i < to; i++) {
		char ch = c->text[i];

		if (ch == '\n')
			comment = false;
		else if (ch == '#')
			comment = true;
		else if (ch == '\t' && !comment)
			return tab_error(c, i);
	}
	return 0;
}

static int check_scalar(struct ctx *c, const yaml_token_t *t, size_t from, size_t to, int flow)
{
	const char *s = c->text + from;
	size_t n = to - from;
	const char *q;

	switch (t->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE:
		q = memchr(s, '\t', n);
		if (q)
			return tab_error(c, (size_t)(q - c->text));
		q = n > 1 ? memchr(s + 1, '?', n - 1) : NULL;
		if (flow && q)
			return fail(c, SM_YAML_PY_SYNTAX, offset_line(c, (size_t)(q - c->text)),
				    "while parsing a flow node: expected ',' or the end of the "
				    "collection, but got '?'");
		return 0;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE: {
		const char *nl = memchr(s, '\n', n);
		size_t header = nl ? (size_t)(nl - s) : n;

		q = memchr(s, '\t', header);
		if (q)
			return fail(c, SM_YAML_PY_SYNTAX, offset_line(c, (size_t)(q - c->text)),
				    "while scanning a block scalar: expected a comment or a line "
				    "break, but found '\\t'");
		return 0;
	}
	default:
		return 0;
	}
}

static int check_strict(struct ctx *c)
{
	yaml_parser_t p;
	yaml_token_t t;
	struct cursor cur = {0, 0};
	size_t prev = 0;
	int flow = 0, rc = 0;
	bool done = false;

	if (!memchr(c->text, '\t', c->textlen) && !memchr(c->text, '?', c->textlen) &&
	    !memchr(c->text, '!', c->textlen))
		return 0;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)c->text, c->textlen);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!done && rc == 0) {
		size_t start, end;

		if (!yaml_parser_scan(&p, &t))
			break; /* the parse reports it */
		start = char_to_byte(c, &cur, t.start_mark.index);
		if (start >= prev)
			rc = check_gap(c, prev, start);
		end = char_to_byte(c, &cur, t.end_mark.index);
		switch (t.type) {
		case YAML_SCALAR_TOKEN:
			if (rc == 0)
				rc = check_scalar(c, &t, start, end, flow);
			break;
		case YAML_TAG_TOKEN:
			/* PyYAML's tag URIs go on over ',', '[' and ']' in flow context too */
			if (rc == 0 && flow && end < c->textlen && strchr(",[]", c->text[end]))
				rc = fail(c, SM_YAML_PY_SYNTAX, offset_line(c, end),
					  "could not determine a constructor for the tag '%s%c'",
					  t.data.tag.suffix ? (const char *)t.data.tag.suffix : "",
					  c->text[end]);
			break;
		case YAML_FLOW_SEQUENCE_START_TOKEN:
		case YAML_FLOW_MAPPING_START_TOKEN:
			flow++;
			break;
		case YAML_FLOW_SEQUENCE_END_TOKEN:
		case YAML_FLOW_MAPPING_END_TOKEN:
			flow--;
			break;
		case YAML_STREAM_END_TOKEN:
			done = true;
			break;
		default:
			break;
		}
		if (end > prev)
			prev = end;
		yaml_token_delete(&t);
	}
	yaml_parser_delete(&p);
	return rc;
}

static int compose(struct ctx *c)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int docs = 0, ret = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)c->text, c->textlen);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!done && ret == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			ret = parser_fail(c, &p);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (docs++)
				ret = fail(c, SM_YAML_PY_SYNTAX, (unsigned)ev.start_mark.line,
					   "expected a single document in the stream");
			break;
		case YAML_ALIAS_EVENT: {
			const char *name = (const char *)ev.data.alias.anchor;
			struct rnode *r = anchor_find(c, name);

			/*
			 * An alias into its own anchor's node is allowed like in
			 * PyYAML; the cycle is caught when the value is measured.
			 */
			if (!r)
				ret = fail(c, SM_YAML_PY_SYNTAX, (unsigned)ev.start_mark.line,
					   "found undefined alias '%s'", name);
			else
				ret = add_child(c, r);
			break;
		}
		case YAML_SCALAR_EVENT:
			ret = on_scalar(c, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			ret = on_start(c, &ev, R_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			ret = on_start(c, &ev, R_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			ret = on_end(c);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	while (c->depth) {
		sm_free(c->frames[c->depth - 1].items);
		c->depth--;
	}
	return ret;
}

/* ---- values --------------------------------------------------------- */

static struct sm_ypy *new_val(struct ctx *c, enum sm_ypy_type type)
{
	struct sm_ypy *v = arena_zalloc(c->arena, sizeof(*v));

	if (v) {
		v->type = type;
		if (type < SM_YPY_SEQ)
			v->size = v->height = 1;
	}
	return v;
}

static struct sm_ypy *new_strval(struct ctx *c, enum sm_ypy_type type, const char *s, size_t n)
{
	struct sm_ypy *v = new_val(c, type);

	if (v) {
		v->u.s.ptr = arena_strndup(c->arena, s, n);
		if (!v->u.s.ptr)
			return NULL;
		v->u.s.len = n;
	}
	return v;
}

/* Python equality of hashable values (dict keys). */
static bool num_of(const struct sm_ypy *v, bool *is_int, int64_t *i, double *f)
{
	switch (v->type) {
	case SM_YPY_BOOL:
		*is_int = true;
		*i = v->u.b;
		return true;
	case SM_YPY_INT:
		*is_int = true;
		*i = v->u.i;
		return true;
	case SM_YPY_FLOAT:
		*is_int = false;
		*f = v->u.f;
		return true;
	default:
		return false;
	}
}

static int64_t dt_instant(const struct sm_ypy_dt *d, int64_t *usec)
{
	/* days from civil (proleptic Gregorian) */
	int64_t y = d->year - (d->month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (d->month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe;

	*usec = d->usec;
	return days * 86400 + d->hour * 3600 + d->minute * 60 + d->second -
	       (d->aware ? d->offset_sec : 0);
}

static bool py_eq(const struct sm_ypy *a, const struct sm_ypy *b)
{
	bool ai, bi;
	int64_t ia = 0, ib = 0;
	double fa = 0, fb = 0;

	if (num_of(a, &ai, &ia, &fa) && num_of(b, &bi, &ib, &fb)) {
		if (ai && bi)
			return ia == ib;
		if (!ai && !bi)
			return fa == fb;
		if (ai) {
			fa = fb;
			ib = ia;
		}
		return fa == floor(fa) && fa >= -9223372036854775808.0 &&
		       fa < 9223372036854775808.0 && (int64_t)fa == ib;
	}
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SM_YPY_NULL:
		return true;
	case SM_YPY_BIGINT:
	case SM_YPY_STR:
	case SM_YPY_BYTES:
		return a->u.s.len == b->u.s.len && !memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len);
	case SM_YPY_DATE:
		return a->u.dt.year == b->u.dt.year && a->u.dt.month == b->u.dt.month &&
		       a->u.dt.day == b->u.dt.day;
	case SM_YPY_DATETIME: {
		int64_t ua, ub;

		if (a->u.dt.aware != b->u.dt.aware)
			return false;
		return dt_instant(&a->u.dt, &ua) == dt_instant(&b->u.dt, &ub) && ua == ub;
	}
	default:
		return false;
	}
}

static uint64_t py_hash(const struct sm_ypy *v)
{
	bool is_int;
	int64_t i = 0, us;
	double f = 0;

	if (num_of(v, &is_int, &i, &f)) {
		if (!is_int) {
			if (f == floor(f) && f >= -9223372036854775808.0 &&
			    f < 9223372036854775808.0)
				i = (int64_t)f;
			else
				return hash_bytes(&f, sizeof(f), 7);
		}
		return hash_bytes(&i, sizeof(i), 11);
	}
	switch (v->type) {
	case SM_YPY_BIGINT:
	case SM_YPY_STR:
	case SM_YPY_BYTES:
		return hash_bytes(v->u.s.ptr, v->u.s.len, HASH_SEED + v->type);
	case SM_YPY_DATE:
		return (uint64_t)(v->u.dt.year * 400 + v->u.dt.month * 32 + v->u.dt.day);
	case SM_YPY_DATETIME:
		i = dt_instant(&v->u.dt, &us);
		return (uint64_t)i * 31 + (uint64_t)us;
	default:
		return 0;
	}
}

/* ---- scalar constructors -------------------------------------------- */

/* A little bignum for ints past int64: little-endian base 1e9 limbs. */
struct bignum {
	uint32_t *limb;
	size_t n, alloc;
};

static int big_muladd(struct bignum *b, uint32_t mul, uint32_t add)
{
	uint64_t carry = add;

	for (size_t i = 0; i < b->n; i++) {
		uint64_t x = (uint64_t)b->limb[i] * mul + carry;

		b->limb[i] = (uint32_t)(x % 1000000000u);
		carry = x / 1000000000u;
	}
	while (carry) {
		if (b->n == b->alloc) {
			size_t na = b->alloc ? b->alloc * 2 : 4;
			uint32_t *p = sm_reallocarray(b->limb, na, sizeof(*p));

			if (!p)
				return -ENOMEM;
			b->limb = p;
			b->alloc = na;
		}
		b->limb[b->n++] = (uint32_t)(carry % 1000000000u);
		carry /= 1000000000u;
	}
	return 0;
}

static int digit_val(char ch)
{
	if (is_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A' + 10;
	return 99;
}

/* Python int(s, base) of an underscore-free string; false when invalid. */
static int big_parse(struct bignum *b, const char *s, size_t n, int base, bool *ok)
{
	size_t i = 0;

	*ok = false;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (base != 10 && n - i >= 2 && s[i] == '0') {
		char p = (char)(s[i + 1] | 0x20);

		if ((base == 2 && p == 'b') || (base == 8 && p == 'o') || (base == 16 && p == 'x'))
			i += 2;
	}
	if (i >= n)
		return 0;
	for (; i < n; i++) {
		int d = digit_val(s[i]);
		int r;

		if (d >= base)
			return 0;
		r = big_muladd(b, (uint32_t)base, (uint32_t)d);
		if (r < 0)
			return r;
	}
	*ok = true;
	return 0;
}

static struct sm_ypy *big_to_val(struct ctx *c, struct bignum *b, bool neg)
{
	char buf[16];
	struct strbuf sb = STRBUF_INIT;
	struct sm_ypy *v = NULL;
	size_t i;

	if (neg && b->n)
		if (sm_strbuf_addch(&sb, '-') < 0)
			goto out;
	if (!b->n) {
		if (sm_strbuf_addch(&sb, '0') < 0)
			goto out;
	}
	for (i = b->n; i-- > 0;) {
		snprintf(buf, sizeof(buf), i + 1 == b->n ? "%u" : "%09u", b->limb[i]);
		if (sm_strbuf_addstr(&sb, buf) < 0)
			goto out;
	}
	{
		const char *digits = sb.buf + (sb.buf[0] == '-');
		size_t nd = strlen(digits);
		const char *lim = sb.buf[0] == '-' ? "9223372036854775808" : "9223372036854775807";

		if (nd < 19 || (nd == 19 && strcmp(digits, lim) <= 0)) {
			v = new_val(c, SM_YPY_INT);
			if (v)
				v->u.i = strtoll(sb.buf, NULL, 10);
		} else {
			v = new_strval(c, SM_YPY_BIGINT, sb.buf, sb.len);
		}
	}
out:
	sm_strbuf_release(&sb);
	return v;
}

/* Copy of s without '_' into a heap string. */
static char *strip_underscores(const char *s, size_t n, size_t *outn)
{
	char *p = sm_malloc(n + 1);
	size_t k = 0;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_')
			p[k++] = s[i];
	p[k] = '\0';
	*outn = k;
	return p;
}

static int construct_int(struct ctx *c, const struct rnode *r, struct sm_ypy **ret)
{
	struct bignum b = {0};
	size_t n, i = 0;
	bool neg = false, ok = false;
	char *s = strip_underscores(r->val, r->len, &n);
	int rc = 0;

	if (!s)
		return -ENOMEM;
	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (!n) {
		ok = false;
	} else if (n - i == 1 && s[i] == '0') {
		ok = true;
	} else if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'b') {
		rc = big_parse(&b, s + i + 2, n - i - 2, 2, &ok);
	} else if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'x') {
		rc = big_parse(&b, s + i + 2, n - i - 2, 16, &ok);
	} else if (n - i >= 1 && s[i] == '0') {
		rc = big_parse(&b, s + i, n - i, 8, &ok);
	} else if (memchr(s + i, ':', n - i)) {
		/* base 60: the first part may be large, the others are small */
		const char *p = s + i, *end = s + n;
		const char *colon = memchr(p, ':', (size_t)(end - p));

		rc = big_parse(&b, p, (size_t)(colon - p), 10, &ok);
		p = colon + 1;
		while (rc == 0 && ok && p <= end) {
			const char *q = memchr(p, ':', (size_t)(end - p));
			struct bignum part = {0};

			if (!q)
				q = end;
			rc = big_parse(&part, p, (size_t)(q - p), 10, &ok);
			if (rc == 0 && ok && part.n > 1)
				ok = false; /* a part >= 1e9 cannot come from the resolver */
			if (rc == 0 && ok)
				rc = big_muladd(&b, 60, part.n ? part.limb[0] : 0);
			sm_free(part.limb);
			p = q + 1;
		}
	} else {
		rc = big_parse(&b, s + i, n - i, 10, &ok);
	}
	if (rc == 0 && !ok)
		rc = fail(c, SM_YAML_PY_VALUE, r->line, "invalid literal for int(): '%.60s'",
			  r->val);
	if (rc == 0) {
		*ret = big_to_val(c, &b, neg);
		if (!*ret)
			rc = -ENOMEM;
	}
	sm_free(b.limb);
	sm_free(s);
	return rc;
}

/* Python float() of an underscore-free, lowercased string. */
static bool py_float(const char *s, double *ret)
{
	char *end;
	size_t n = strlen(s);

	while (*s == ' ' || *s == '\t')
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n || memchr(s, 'x', n) || memchr(s, '(', n) || memchr(s, 'p', n))
		return false;
	errno = 0;
	*ret = strtod(s, &end);
	return end == s + n;
}

static int construct_float(struct ctx *c, const struct rnode *r, struct sm_ypy **ret)
{
	size_t n, i = 0;
	double sign = 1, val = 0;
	bool ok = true;
	char *s = strip_underscores(r->val, r->len, &n);

	if (!s)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		if (s[k] >= 'A' && s[k] <= 'Z')
			s[k] = (char)(s[k] | 0x20);
	if (n && (s[0] == '-' || s[0] == '+')) {
		if (s[0] == '-')
			sign = -1;
		i = 1;
	}
	if (strcmp(s + i, ".inf") == 0) {
		val = sign * INFINITY;
	} else if (strcmp(s + i, ".nan") == 0) {
		val = NAN;
	} else if (strchr(s + i, ':')) {
		/* base 60, summed from the last part like PyYAML */
		double base = 1;
		char *p = s + n;

		while (ok) {
			char *q = p;
			double d;

			while (q > s + i && q[-1] != ':')
				q--;
			*p = '\0';
			ok = py_float(q, &d);
			val += d * base;
			base *= 60;
			if (q == s + i)
				break;
			p = q - 1;
		}
		val *= sign;
	} else {
		ok = py_float(s + i, &val);
		val *= sign;
	}
	sm_free(s);
	if (!ok)
		return fail(c, SM_YAML_PY_VALUE, r->line,
			    "could not convert string to float: '%.60s'", r->val);
	*ret = new_val(c, SM_YPY_FLOAT);
	if (!*ret)
		return -ENOMEM;
	(*ret)->u.f = val;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int construct_timestamp(struct ctx *c, const struct rnode *r, struct sm_ypy **ret)
{
	struct ts t;
	struct sm_ypy *v;
	int off;

	if (!parse_ts(r->val, r->len, &t))
		return fail(c, SM_YAML_PY_VALUE, r->line, "invalid timestamp '%.60s'", r->val);
	if (t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 ||
	    t.day > days_in_month(t.year, t.month))
		return fail(c, SM_YAML_PY_VALUE, r->line, "invalid date '%.60s'", r->val);
	if (t.has_time && (t.hour > 23 || t.minute > 59 || t.second > 59))
		return fail(c, SM_YAML_PY_VALUE, r->line, "invalid time '%.60s'", r->val);
	off = (t.tz_hour * 60 + t.tz_minute) * 60;
	if (t.tz_signed && off >= 86400)
		return fail(c, SM_YAML_PY_VALUE, r->line, "invalid time zone '%.60s'", r->val);
	v = new_val(c, t.has_time ? SM_YPY_DATETIME : SM_YPY_DATE);
	if (!v)
		return -ENOMEM;
	v->u.dt.year = t.year;
	v->u.dt.month = t.month;
	v->u.dt.day = t.day;
	if (t.has_time) {
		v->u.dt.hour = t.hour;
		v->u.dt.minute = t.minute;
		v->u.dt.second = t.second;
		v->u.dt.usec = t.usec;
		v->u.dt.aware = t.tz;
		v->u.dt.offset_sec = t.tz_sign_neg ? -off : off;
	}
	*ret = v;
	return 0;
}

static int b64_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* base64.decodebytes: non-alphabet bytes skipped, padding checked */
static int construct_binary(struct ctx *c, const struct rnode *r, struct sm_ypy **ret)
{
	unsigned char *out;
	size_t k = 0, q = 0, pads = 0;
	uint32_t acc = 0;
	struct sm_ypy *v;

	for (size_t i = 0; i < r->len; i++)
		if ((unsigned char)r->val[i] >= 0x80)
			return fail(c, SM_YAML_PY_SYNTAX, r->line,
				    "failed to convert base64 data into ascii");
	out = sm_malloc(r->len / 4 * 3 + 3);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < r->len; i++) {
		int d = b64_val((unsigned char)r->val[i]);

		if (r->val[i] == '=') {
			if (q >= 2)
				pads++;
			if (q >= 2 && q + pads >= 4)
				break;
			continue;
		}
		if (d < 0)
			continue;
		pads = 0;
		acc = (acc << 6) | (uint32_t)d;
		if (++q == 4) {
			out[k++] = (unsigned char)(acc >> 16);
			out[k++] = (unsigned char)(acc >> 8);
			out[k++] = (unsigned char)acc;
			q = 0;
			acc = 0;
		}
	}
	if (q == 1 || (q && q + pads < 4)) {
		sm_free(out);
		return fail(c, SM_YAML_PY_SYNTAX, r->line, "failed to decode base64 data");
	}
	if (q == 2)
		out[k++] = (unsigned char)(acc >> 4);
	if (q == 3) {
		out[k++] = (unsigned char)(acc >> 10);
		out[k++] = (unsigned char)(acc >> 2);
	}
	v = new_strval(c, SM_YPY_BYTES, (const char *)out, k);
	sm_free(out);
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

static const char *kind_name(enum rkind k)
{
	return k == R_SCALAR ? "scalar" : k == R_SEQ ? "sequence" : "mapping";
}

static int expect(struct ctx *c, const struct rnode *r, enum rkind kind)
{
	if (r->kind == kind)
		return 0;
	return fail(c, SM_YAML_PY_SYNTAX, r->line, "expected a %s node, but found %s",
		    kind_name(kind), kind_name(r->kind));
}

static int construct_scalar(struct ctx *c, struct rnode *r, struct sm_ypy **ret)
{
	struct sm_ypy *v;
	int rc;

	switch (r->tid) {
	case T_NULL:
		v = new_val(c, SM_YPY_NULL);
		break;
	case T_BOOL: {
		char low[6] = {0};

		for (size_t i = 0; i < r->len && i < 5; i++)
			low[i] = (char)(r->val[i] >= 'A' && r->val[i] <= 'Z' ? r->val[i] | 0x20
									     : r->val[i]);
		if (r->len > 5 || !one_of(low, r->len, bool_words))
			return fail(c, SM_YAML_PY_VALUE, r->line, "invalid bool '%.60s'", r->val);
		v = new_val(c, SM_YPY_BOOL);
		if (v)
			v->u.b = low[0] == 'y' || low[0] == 't' || (low[0] == 'o' && low[1] == 'n');
		break;
	}
	case T_INT:
		return construct_int(c, r, ret);
	case T_FLOAT:
		return construct_float(c, r, ret);
	case T_TIMESTAMP:
		return construct_timestamp(c, r, ret);
	case T_BINARY:
		return construct_binary(c, r, ret);
	case T_STR:
		v = new_strval(c, SM_YPY_STR, r->val, r->len);
		break;
	default:
		rc = fail(c, SM_YAML_PY_SYNTAX, r->line,
			  "could not determine a constructor for the tag '%.80s'",
			  r->tid == T_MERGE   ? "tag:yaml.org,2002:merge"
			  : r->tid == T_VALUE ? "tag:yaml.org,2002:value"
			  : r->tag	      ? r->tag
					      : "?");
		return rc;
	}
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

/* ---- collections ---------------------------------------------------- */

struct vec {
	struct rnode **p;
	size_t n, alloc;
};

static int vec_push(struct vec *v, struct rnode *a, struct rnode *b)
{
	if (v->n + 2 > v->alloc) {
		size_t na = v->alloc ? v->alloc * 2 : 16;
		struct rnode **p = sm_reallocarray(v->p, na, sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->p = p;
		v->alloc = na;
	}
	v->p[v->n++] = a;
	v->p[v->n++] = b;
	return 0;
}

static int budget(struct ctx *c, size_t more, unsigned line)
{
	c->nodes += more;
	if (c->nodes > SM_YAML_PY_MAX_NODES)
		return fail(c, SM_YAML_PY_SYNTAX, line,
			    "too many nodes after merging (more than %d)", SM_YAML_PY_MAX_NODES);
	return 0;
}

/* PyYAML's flatten_mapping: merged pairs first, the node's own pairs after. */
static int flatten(struct ctx *c, struct rnode *node, int depth)
{
	struct vec merge = {0}, own = {0};
	int rc = 0;

	if (node->flattened)
		return 0;
	if (depth > 2 * SM_YAML_PY_MAX_DEPTH)
		return fail(c, SM_YAML_PY_SYNTAX, node->line, "merge keys nested too deeply");
	for (size_t i = 0; rc == 0 && i + 1 < node->n; i += 2) {
		struct rnode *k = node->items[i], *v = node->items[i + 1];

		if (k->tid != T_MERGE) {
			if (k->tid == T_VALUE)
				k->tid = T_STR;
			rc = vec_push(&own, k, v);
			continue;
		}
		if (v->kind == R_MAP) {
			rc = flatten(c, v, depth + 1);
			for (size_t j = 0; rc == 0 && j + 1 < v->n; j += 2)
				rc = vec_push(&merge, v->items[j], v->items[j + 1]);
		} else if (v->kind == R_SEQ) {
			for (size_t j = 0; rc == 0 && j < v->n; j++) {
				if (v->items[j]->kind != R_MAP)
					rc =
					    fail(c, SM_YAML_PY_SYNTAX, v->items[j]->line,
						 "while constructing a mapping: expected a mapping "
						 "for merging, but found %s",
						 kind_name(v->items[j]->kind));
				else
					rc = flatten(c, v->items[j], depth + 1);
			}
			for (size_t j = v->n; rc == 0 && j-- > 0;) {
				struct rnode *m = v->items[j];

				for (size_t q = 0; rc == 0 && q + 1 < m->n; q += 2)
					rc = vec_push(&merge, m->items[q], m->items[q + 1]);
			}
		} else {
			rc = fail(c, SM_YAML_PY_SYNTAX, v->line,
				  "while constructing a mapping: expected a mapping or list of "
				  "mappings for merging, but found scalar");
		}
	}
	if (rc == 0 && merge.n)
		rc = budget(c, merge.n / 2, node->line);
	if (rc == 0 && merge.n + own.n != node->n) {
		size_t total = merge.n + own.n;
		struct rnode **items = arena_alloc(c->arena, (total ? total : 1) * sizeof(*items));

		if (!items) {
			rc = -ENOMEM;
		} else {
			if (merge.n)
				memcpy(items, merge.p, merge.n * sizeof(*items));
			if (own.n)
				memcpy(items + merge.n, own.p, own.n * sizeof(*items));
			node->items = items;
			node->n = total;
		}
	} else if (rc == 0 && merge.n) {
		/* same count: merged pairs still go first */
		memcpy(node->items, merge.p, merge.n * sizeof(*node->items));
		if (own.n)
			memcpy(node->items + merge.n, own.p, own.n * sizeof(*node->items));
	}
	if (rc == 0)
		node->flattened = true;
	sm_free(merge.p);
	sm_free(own.p);
	return rc;
}

struct keyindex {
	size_t *slot; /* index + 1; 0 = empty */
	size_t alloc;
};

static long key_find(const struct sm_ypy *m, const struct keyindex *ix, const struct sm_ypy *k)
{
	if (!ix->alloc) {
		for (size_t i = 0; i < m->u.map.len; i++)
			if (py_eq(m->u.map.keys[i], k))
				return (long)i;
		return -1;
	}
	for (size_t h = py_hash(k) & (ix->alloc - 1);; h = (h + 1) & (ix->alloc - 1)) {
		size_t s = ix->slot[h];

		if (!s)
			return -1;
		if (py_eq(m->u.map.keys[s - 1], k))
			return (long)(s - 1);
	}
}

static void key_put(struct keyindex *ix, const struct sm_ypy *k, size_t idx)
{
	size_t h = py_hash(k) & (ix->alloc - 1);

	while (ix->slot[h])
		h = (h + 1) & (ix->alloc - 1);
	ix->slot[h] = idx + 1;
}

/*
 * PyYAML's construct_object(node, deep=False): scalars are built at once,
 * collections come back empty and are filled later, breadth first (its
 * state_generators), so errors surface in the same order as in PyYAML.
 */
static int construct_obj(struct ctx *c, struct rnode *r, struct sm_ypy **ret)
{
	enum sm_ypy_type type;
	struct sm_ypy *v;
	int rc;

	if (r->obj) {
		*ret = r->obj;
		return 0;
	}
	switch (r->tid) {
	case T_SEQ:
	case T_OMAP:
	case T_PAIRS:
		type = SM_YPY_SEQ;
		break;
	case T_MAP:
		type = SM_YPY_MAP;
		break;
	case T_SET:
		type = SM_YPY_SET;
		break;
	case T_OTHER:
		return fail(c, SM_YAML_PY_SYNTAX, r->line,
			    "could not determine a constructor for the tag '%.80s'",
			    r->tag ? r->tag : "?");
	default:
		rc = expect(c, r, R_SCALAR);
		if (rc == 0)
			rc = construct_scalar(c, r, ret);
		if (rc == 0)
			r->obj = *ret;
		return rc;
	}
	v = new_val(c, type);
	if (!v)
		return -ENOMEM;
	if (c->nqueue == c->queue_alloc) {
		size_t na = c->queue_alloc ? c->queue_alloc * 2 : 64;
		struct rnode **q = sm_reallocarray(c->queue, na, sizeof(*q));

		if (!q)
			return -ENOMEM;
		c->queue = q;
		c->queue_alloc = na;
	}
	c->queue[c->nqueue++] = r;
	r->obj = v;
	*ret = v;
	return 0;
}

static int fill_seq(struct ctx *c, struct rnode *r)
{
	struct sm_ypy *v = r->obj;
	int rc = expect(c, r, R_SEQ);

	if (rc < 0)
		return rc;
	v->u.seq.items = arena_alloc(c->arena, (r->n ? r->n : 1) * sizeof(*v->u.seq.items));
	if (!v->u.seq.items)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		rc = construct_obj(c, r->items[i], &v->u.seq.items[i]);
		if (rc < 0)
			return rc;
		v->u.seq.len++;
	}
	return 0;
}

/* !!omap / !!pairs: a list of 2-tuples from one-pair mappings */
static int fill_pairs(struct ctx *c, struct rnode *r)
{
	struct sm_ypy *v = r->obj;
	int rc = expect(c, r, R_SEQ);

	if (rc < 0)
		return rc;
	v->u.seq.items = arena_alloc(c->arena, (r->n ? r->n : 1) * sizeof(*v->u.seq.items));
	if (!v->u.seq.items)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		struct rnode *m = r->items[i];
		struct sm_ypy *t;

		if (m->kind != R_MAP || m->n != 2)
			return fail(c, SM_YAML_PY_SYNTAX, m->line,
				    "while constructing an ordered map: expected a single mapping "
				    "item");
		t = new_val(c, SM_YPY_TUPLE);
		if (!t)
			return -ENOMEM;
		t->u.seq.items = arena_alloc(c->arena, 2 * sizeof(*t->u.seq.items));
		if (!t->u.seq.items)
			return -ENOMEM;
		rc = construct_obj(c, m->items[0], &t->u.seq.items[0]);
		if (rc == 0)
			rc = construct_obj(c, m->items[1], &t->u.seq.items[1]);
		if (rc < 0)
			return rc;
		t->u.seq.len = 2;
		v->u.seq.items[v->u.seq.len++] = t;
	}
	return 0;
}

static int fill_map(struct ctx *c, struct rnode *r, bool set)
{
	struct sm_ypy *v = r->obj;
	struct keyindex ix = {0};
	size_t pairs;
	int rc = expect(c, r, R_MAP);

	if (rc < 0)
		return rc;
	rc = flatten(c, r, 0);
	if (rc < 0)
		return rc;
	pairs = r->n / 2;
	v->u.map.keys = arena_alloc(c->arena, (pairs ? pairs : 1) * sizeof(*v->u.map.keys));
	v->u.map.vals = arena_alloc(c->arena, (pairs ? pairs : 1) * sizeof(*v->u.map.vals));
	if (!v->u.map.keys || !v->u.map.vals)
		return -ENOMEM;
	if (pairs > 8) {
		ix.alloc = 16;
		while (ix.alloc < pairs * 2)
			ix.alloc *= 2;
		ix.slot = sm_calloc(ix.alloc, sizeof(*ix.slot));
		if (!ix.slot)
			return -ENOMEM;
	}
	for (size_t i = 0; i < pairs; i++) {
		struct rnode *kn = r->items[2 * i], *vn = r->items[2 * i + 1];
		struct sm_ypy *k, *val;
		long at;

		rc = construct_obj(c, kn, &k);
		if (rc < 0)
			break;
		if (k->type == SM_YPY_SEQ || k->type == SM_YPY_MAP || k->type == SM_YPY_SET) {
			rc = fail(c, SM_YAML_PY_SYNTAX, kn->line,
				  "while constructing a mapping: found unhashable key");
			break;
		}
		rc = construct_obj(c, vn, &val);
		if (rc < 0)
			break;
		at = key_find(v, &ix, k);
		if (at >= 0) {
			v->u.map.vals[at] = val;
		} else {
			if (ix.alloc)
				key_put(&ix, k, v->u.map.len);
			v->u.map.keys[v->u.map.len] = k;
			v->u.map.vals[v->u.map.len++] = val;
		}
	}
	sm_free(ix.slot);
	if (rc == 0 && set) {
		/* a set keeps its members in u.seq (sharing the keys array) */
		struct sm_ypy **keys = v->u.map.keys;
		size_t n = v->u.map.len;

		v->u.seq.items = keys;
		v->u.seq.len = n;
	}
	return rc;
}

static int fill(struct ctx *c, struct rnode *r)
{
	switch (r->tid) {
	case T_SEQ:
		return fill_seq(c, r);
	case T_OMAP:
	case T_PAIRS:
		return fill_pairs(c, r);
	case T_SET:
		return fill_map(c, r, true);
	default:
		return fill_map(c, r, false);
	}
}

static int too_big(struct ctx *c, unsigned line)
{
	return fail(c, SM_YAML_PY_SYNTAX, line,
		    "document too large after alias expansion (more than %d nodes or %d levels)",
		    SM_YAML_PY_MAX_NODES, SM_YAML_PY_MAX_DEPTH);
}

/*
 * Size and height of the expanded tree, memoised per value (aliases share
 * values). The recursion stops at SM_YAML_PY_MAX_DEPTH.
 */
static int measure(struct ctx *c, struct sm_ypy *v, unsigned depth, unsigned line)
{
	struct sm_ypy *const *kids[2] = {NULL, NULL};
	size_t n = 0;
	uint64_t size = 1;
	uint32_t height = 0;

	if (v->height) /* a scalar, or measured before */
		return depth + v->height > SM_YAML_PY_MAX_DEPTH ? too_big(c, line) : 0;
	if (depth >= SM_YAML_PY_MAX_DEPTH)
		return too_big(c, line);
	if (v->type == SM_YPY_MAP) {
		kids[0] = v->u.map.keys;
		kids[1] = v->u.map.vals;
		n = v->u.map.len;
	} else {
		kids[0] = v->u.seq.items;
		n = v->u.seq.len;
	}
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; kids[k] && i < n; i++) {
			struct sm_ypy *child = kids[k][i];
			int rc = measure(c, child, depth + 1, line);

			if (rc < 0)
				return rc;
			size += child->size;
			if (size > SM_YAML_PY_MAX_NODES)
				return too_big(c, line);
			if (child->height > height)
				height = child->height;
		}
	}
	v->size = (uint32_t)size;
	v->height = height + 1;
	return depth + v->height > SM_YAML_PY_MAX_DEPTH ? too_big(c, line) : 0;
}

static int construct_document(struct ctx *c, struct sm_ypy **ret)
{
	int rc = construct_obj(c, c->root, ret);

	for (size_t i = 0; rc == 0 && i < c->nqueue; i++)
		rc = fill(c, c->queue[i]);
	if (rc == 0)
		rc = measure(c, *ret, 0, c->root->line);
	return rc;
}

static struct sm_ypy null_value = {.type = SM_YPY_NULL, .size = 1, .height = 1};

int sm_yaml_py_load(const char *text, size_t len, struct sm_yaml_py_doc **ret,
		    struct sm_yaml_py_error *e)
{
	struct sm_yaml_py_doc *doc = sm_calloc(1, sizeof(*doc));
	struct ctx *c;
	int rc;

	memset(e, 0, sizeof(*e));
	e->context_line = -1;
	if (!doc)
		return -ENOMEM;
	c = sm_calloc(1, sizeof(*c));
	if (!c) {
		sm_free(doc);
		return -ENOMEM;
	}
	c->arena = &doc->arena;
	c->e = e;
	c->text = text;
	c->textlen = len;
	rc = compose(c);
	if (rc == 0)
		rc = check_strict(c);
	if (rc == 0 && c->root)
		rc = construct_document(c, &doc->root);
	sm_free(c->anchors);
	sm_free(c->queue);
	sm_free(c);
	if (rc < 0) {
		sm_yaml_py_doc_free(doc);
		return rc;
	}
	*ret = doc;
	return 0;
}

const struct sm_ypy *sm_yaml_py_root(const struct sm_yaml_py_doc *doc)
{
	return doc->root ? doc->root : &null_value;
}

void sm_yaml_py_doc_free(struct sm_yaml_py_doc *doc)
{
	if (!doc)
		return;
	arena_release(&doc->arena);
	sm_free(doc);
}
