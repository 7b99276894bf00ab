/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "http/router.h"

#include "util/banned.h"

/*
 * A tree of path segments. Each node has literal children and at most one
 * parameter child; routes hang on the node their last segment ends at. Match
 * walks literals first and falls back to the parameter child, so the first
 * complete match found is the most literal one.
 */

#define MAX_SEGMENTS 32

struct entry {
	struct sm_route route;
	char *method;
	char *pattern;
	char *names[SM_HTTP_MAX_PARAMS];
	size_t n_names;
};

struct node {
	char *literal; /* decoded; NULL for the root and parameter nodes */
	struct node **lits;
	size_t n_lits;
	struct node *param;
	bool qualified; /* a parameter node that also matches "collection/type:name" */
	struct entry **entries;
	size_t n_entries;
};

struct sm_router {
	struct node root;
};

int sm_router_new(struct sm_router **ret)
{
	struct sm_router *r = sm_calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	*ret = r;
	return 0;
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	sm_free(e->method);
	sm_free(e->pattern);
	for (size_t i = 0; i < e->n_names; i++)
		sm_free(e->names[i]);
	sm_free(e);
}

static void node_release(struct node *n)
{
	for (size_t i = 0; i < n->n_lits; i++) {
		node_release(n->lits[i]);
		sm_free(n->lits[i]);
	}
	sm_free(n->lits);
	if (n->param) {
		node_release(n->param);
		sm_free(n->param);
	}
	for (size_t i = 0; i < n->n_entries; i++)
		entry_free(n->entries[i]);
	sm_free(n->entries);
	sm_free(n->literal);
}

void sm_router_free(struct sm_router *router)
{
	if (!router)
		return;
	node_release(&router->root);
	sm_free(router);
}

static struct node *literal_child(struct node *n, const char *seg, bool create)
{
	struct node **nl, *c;

	for (size_t i = 0; i < n->n_lits; i++)
		if (strcmp(n->lits[i]->literal, seg) == 0)
			return n->lits[i];
	if (!create)
		return NULL;
	c = sm_calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->literal = sm_strdup(seg);
	nl = sm_reallocarray(n->lits, n->n_lits + 1, sizeof(*nl));
	if (!c->literal || !nl) {
		sm_free(c->literal);
		sm_free(c);
		if (nl)
			n->lits = nl;
		return NULL;
	}
	n->lits = nl;
	n->lits[n->n_lits++] = c;
	return c;
}

static int add_entry(struct node *n, struct entry *e, struct strbuf *err)
{
	struct entry **ne;

	for (size_t i = 0; i < n->n_entries; i++)
		if (strcmp(n->entries[i]->method, e->method) == 0)
			return sm_err(err, -EEXIST, "route '%s %s' is already registered",
				      e->method, e->pattern);
	ne = sm_reallocarray(n->entries, n->n_entries + 1, sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	n->entries = ne;
	n->entries[n->n_entries++] = e;
	return 0;
}

/* Walk (creating) the node for e->pattern, collecting parameter names into e. */
static int build_path(struct sm_router *router, struct entry *e, struct node **ret,
		      struct strbuf *err)
{
	const char *p = e->pattern + 1;
	struct node *n = &router->root;
	char seg[256];

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len == 0 || len >= sizeof(seg))
			return sm_err(err, -EINVAL, "bad route pattern '%s'", e->pattern);
		if (p[0] == '{') {
			if (len < 3 || p[len - 1] != '}' || memchr(p + 1, '{', len - 2) ||
			    memchr(p + 1, '}', len - 2))
				return sm_err(err, -EINVAL, "bad route pattern '%s'", e->pattern);
			if (e->n_names == SM_HTTP_MAX_PARAMS)
				return sm_err(err, -EINVAL, "too many parameters in '%s'",
					      e->pattern);
			e->names[e->n_names] = sm_strndup(p + 1, len - 2);
			if (!e->names[e->n_names])
				return -ENOMEM;
			e->n_names++;
			if (!n->param) {
				n->param = sm_calloc(1, sizeof(*n->param));
				if (!n->param)
					return -ENOMEM;
			}
			n = n->param;
		} else {
			long dl;

			if (memchr(p, '{', len) || memchr(p, '}', len))
				return sm_err(err, -EINVAL, "bad route pattern '%s'", e->pattern);
			dl = sm_http_percent_decode(p, len, seg, false, true);
			if (dl < 0)
				return sm_err(err, -EINVAL, "bad route pattern '%s'", e->pattern);
			n = literal_child(n, seg, true);
			if (!n)
				return -ENOMEM;
		}
		p += len;
		if (*p == '/')
			p++;
		if (!*p && p[-1] == '/')
			return sm_err(err, -EINVAL, "bad route pattern '%s'", e->pattern);
	}
	*ret = n;
	return 0;
}

int sm_router_add(struct sm_router *router, const char *method, const char *pattern,
		  sm_http_handler_fn fn, void *data, unsigned flags, struct strbuf *err)
{
	struct entry *e;
	struct node *n;
	int r;

	if (!pattern || pattern[0] != '/' || !method || !*method || !fn)
		return sm_err(err, -EINVAL, "bad route '%s %s'", method ? method : "",
			      pattern ? pattern : "");
	e = sm_calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->method = sm_strdup(method);
	e->pattern = sm_strdup(pattern);
	if (!e->method || !e->pattern) {
		entry_free(e);
		return -ENOMEM;
	}
	r = build_path(router, e, &n, err);
	if (r >= 0)
		r = add_entry(n, e, err);
	if (r < 0) {
		entry_free(e);
		return r;
	}
	e->route.method = e->method;
	e->route.pattern = e->pattern;
	e->route.fn = fn;
	e->route.data = data;
	e->route.flags = flags;
	return 0;
}

int sm_router_qualified(struct sm_router *router, const char *pattern, struct strbuf *err)
{
	struct entry e = {.pattern = (char *)pattern};
	struct node *n;
	size_t len = pattern ? strlen(pattern) : 0;
	int r;

	if (len < 3 || pattern[0] != '/' || pattern[len - 1] != '}')
		return sm_err(err, -EINVAL, "bad qualified parameter '%s'", pattern ? pattern : "");
	r = build_path(router, &e, &n, err);
	for (size_t i = 0; i < e.n_names; i++)
		sm_free(e.names[i]);
	if (r < 0)
		return r;
	n->qualified = true;
	return 0;
}

struct walk {
	const char *method;
	char *segs[MAX_SEGMENTS];
	size_t n_segs;
	char *vals[SM_HTTP_MAX_PARAMS];
	size_t n_vals;
	char *join; /* room for joined values: at most the path's length in all */
	struct entry *found;
	bool path_exists;
	char *allow;
	size_t allow_size;
	size_t allow_len;
};

static void allow_add(struct walk *w, const char *method)
{
	size_t ml = strlen(method);
	const char *p = w->allow;

	if (!w->allow)
		return;
	/* skip duplicates */
	while (p && *p) {
		if (strncmp(p, method, ml) == 0 && (p[ml] == ',' || p[ml] == '\0'))
			return;
		p = strchr(p, ',');
		if (p)
			p += 2;
	}
	if (w->allow_len + ml + 3 > w->allow_size)
		return;
	if (w->allow_len) {
		memcpy(w->allow + w->allow_len, ", ", 2);
		w->allow_len += 2;
	}
	memcpy(w->allow + w->allow_len, method, ml + 1);
	w->allow_len += ml;
}

/*
 * "collection" then "type:name": a collection name holds neither ':' nor '/',
 * an artifact id always holds ':'.
 */
static bool joinable(const char *coll, const char *id)
{
	return coll[0] && !strpbrk(coll, ":/") && strchr(id, ':') && !strchr(id, '/');
}

static bool walk(const struct node *n, size_t i, struct walk *w)
{
	if (i == w->n_segs) {
		for (size_t k = 0; k < n->n_entries; k++) {
			struct entry *e = n->entries[k];

			if (!w->method || strcmp(e->method, w->method) == 0) {
				w->found = e;
				return true;
			}
		}
		for (size_t k = 0; k < n->n_entries; k++) {
			w->path_exists = true;
			allow_add(w, n->entries[k]->method);
		}
		return false;
	}
	for (size_t k = 0; k < n->n_lits; k++) {
		if (strcmp(n->lits[k]->literal, w->segs[i]) == 0) {
			if (walk(n->lits[k], i + 1, w))
				return true;
			break;
		}
	}
	if (n->param && n->param->qualified && w->n_vals < SM_HTTP_MAX_PARAMS &&
	    i + 1 < w->n_segs && joinable(w->segs[i], w->segs[i + 1])) {
		size_t l0 = strlen(w->segs[i]), l1 = strlen(w->segs[i + 1]);
		char *v = w->join;

		memcpy(v, w->segs[i], l0);
		v[l0] = '/';
		memcpy(v + l0 + 1, w->segs[i + 1], l1 + 1);
		w->join += l0 + l1 + 2;
		w->vals[w->n_vals++] = v;
		if (walk(n->param, i + 2, w))
			return true;
		w->n_vals--;
		w->join = v;
	}
	if (n->param && w->segs[i][0] && w->n_vals < SM_HTTP_MAX_PARAMS) {
		w->vals[w->n_vals++] = w->segs[i];
		if (walk(n->param, i + 1, w))
			return true;
		w->n_vals--;
	}
	return false;
}

int sm_router_match(const struct sm_router *router, const char *method, const char *path,
		    size_t path_len, struct sm_http_req *req, const struct sm_route **ret,
		    char *allow, size_t allow_size)
{
	struct walk w = {.method = method, .allow = allow, .allow_size = allow_size};
	char *buf;
	size_t i = 0;

	if (allow && allow_size)
		allow[0] = '\0';
	if (path_len == 0 || path[0] != '/')
		return -ENOENT;
	buf = sm_http_alloc(req, path_len + 1);
	w.join = sm_http_alloc(req, path_len + 1);
	if (!buf || !w.join)
		return -ENOMEM;
	/* split and decode each segment: "/a/b" -> "a", "b"; "/" -> none */
	i = 1;
	while (i < path_len || (i == path_len && path[i - 1] == '/' && path_len > 1)) {
		const char *s = path + i;
		const char *slash = memchr(s, '/', path_len - i);
		size_t len = slash ? (size_t)(slash - s) : path_len - i;
		long dl;

		if (w.n_segs == MAX_SEGMENTS)
			return -ENOENT;
		dl = sm_http_percent_decode(s, len, buf, false, true);
		if (dl < 0)
			return -EINVAL;
		w.segs[w.n_segs++] = buf;
		buf += dl + 1;
		i += len + 1;
		if (!slash)
			break;
	}
	if (!walk(&router->root, 0, &w))
		return w.path_exists ? -EOPNOTSUPP : -ENOENT;
	req->n_params = w.found->n_names;
	for (size_t k = 0; k < w.found->n_names; k++) {
		req->params[k].name = w.found->names[k];
		req->params[k].value = w.vals[k];
	}
	req->endpoint = w.found->pattern;
	*ret = &w.found->route;
	return 0;
}
