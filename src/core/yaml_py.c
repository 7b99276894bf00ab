/* SPDX-License-Identifier: MIT */
/*
 * PyYAML safe_load semantics over libyaml events. Two phases like PyYAML:
 * compose (events → node graph with anchors/aliases; syntax errors,
 * duplicate anchors, undefined aliases, several documents) and construct
 * (tag resolution, SafeConstructor, merge keys, dict semantics). Values live
 * in an arena owned by the document; aliases share values.
 *
 * This file: the arena, compose and the scanner checks where PyYAML is
 * stricter than libyaml. The resolver is yaml_py_resolve.c, SafeConstructor
 * yaml_py_construct.c; Python's str()/repr() and the TOML mapping live in
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
#include "core/yaml_py_internal.h"
#include "skillmeat/array.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"
/* ---- arena ---------------------------------------------------------- */

#define ARENA_BLOCK 65536

void *sm_ypy_arena_alloc(struct arena *a, size_t n)
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

void *sm_ypy_arena_zalloc(struct arena *a, size_t n)
{
	void *p = sm_ypy_arena_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

char *sm_ypy_arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = sm_ypy_arena_alloc(a, n + 1);

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

int sm_ypy_fail(struct ctx *c, enum sm_yaml_py_fail kind, unsigned line, const char *fmt, ...)
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

static struct anchor *anchor_slot(struct ctx *c, const char *name)
{
	size_t mask = c->anchors_alloc - 1;
	size_t i = sm_hash_fnv1a(SM_FNV1A_INIT, name, strlen(name)) & mask;

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
		return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, node->line, "found duplicate anchor '%s'",
			    (const char *)name);
	a->name = sm_ypy_arena_strndup(c->arena, (const char *)name, strlen((const char *)name));
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

/* ---- compose -------------------------------------------------------- */

static int add_child(struct ctx *c, struct rnode *node)
{
	struct frame *f;

	if (++c->nodes > SM_YAML_PY_MAX_NODES)
		return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, node->line, "too many nodes (more than %d)",
			    SM_YAML_PY_MAX_NODES);
	if (!c->depth) {
		c->root = node;
		return 0;
	}
	f = &c->frames[c->depth - 1];
	if (SM_GROW(f->items, f->alloc, f->n + 1) < 0)
		return -ENOMEM;
	f->items[f->n++] = node;
	return 0;
}

static struct rnode *new_rnode(struct ctx *c, enum rkind kind, const yaml_char_t *tag,
			       const yaml_mark_t *mark)
{
	struct rnode *r = sm_ypy_arena_zalloc(c->arena, sizeof(*r));

	if (!r)
		return NULL;
	r->kind = kind;
	r->line = (unsigned)mark->line;
	if (tag) {
		r->tag = sm_ypy_arena_strndup(c->arena, (const char *)tag, strlen((const char *)tag));
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
	    sm_ypy_arena_strndup(c->arena, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	if (!r->val)
		return -ENOMEM;
	r->len = ev->data.scalar.length;
	/* PyYAML resolves a '!' scalar like a plain one, also when it is empty */
	if (!r->tag)
		r->tid = ev->data.scalar.plain_implicit ? sm_ypy_resolve_plain(r->val, r->len) : T_STR;
	else if (strcmp(r->tag, "!") == 0)
		r->tid = sm_ypy_resolve_plain(r->val, r->len);
	else
		r->tid = sm_ypy_tag_id(r->tag);
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
		r->tid = sm_ypy_tag_id(r->tag);
	ret = anchor_add(c, anchor, r);
	if (ret < 0)
		return ret;
	ret = add_child(c, r);
	if (ret < 0)
		return ret;
	if (c->depth >= SM_YAML_PY_MAX_DEPTH)
		return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, r->line,
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
		r->items = sm_ypy_arena_alloc(c->arena, f->n * sizeof(*r->items));
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
		sm_ypy_fail(c, SM_YAML_PY_SYNTAX, line, "%s: %s", p->context,
		     p->problem ? p->problem : "error");
		if (p->context_mark.line != line)
			c->e->context_line = (int)p->context_mark.line;
		return -EBADMSG;
	}
	return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, line, "%s", p->problem ? p->problem : "error");
}

/*
 * PyYAML's scanner is stricter than libyaml's in two places: a tab may only
 * appear inside quoted scalars, block scalar content and comments, and in
 * flow context a plain scalar ends at '?'. libyaml accepts both, so find
 * them from libyaml's tokens first and sm_ypy_fail like PyYAML would.
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
	return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, offset_line(c, at),
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
			return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, offset_line(c, (size_t)(q - c->text)),
				    "while parsing a flow node: expected ',' or the end of the "
				    "collection, but got '?'");
		return 0;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE: {
		const char *nl = memchr(s, '\n', n);
		size_t header = nl ? (size_t)(nl - s) : n;

		q = memchr(s, '\t', header);
		if (q)
			return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, offset_line(c, (size_t)(q - c->text)),
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
				rc = sm_ypy_fail(c, SM_YAML_PY_SYNTAX, offset_line(c, end),
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
				ret = sm_ypy_fail(c, SM_YAML_PY_SYNTAX, (unsigned)ev.start_mark.line,
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
				ret = sm_ypy_fail(c, SM_YAML_PY_SYNTAX, (unsigned)ev.start_mark.line,
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
		rc = sm_ypy_construct_document(c, &doc->root);
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
