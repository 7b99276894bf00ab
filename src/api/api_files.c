/* SPDX-License-Identifier: MIT */
/*
 * The files of an artifact (spec/API.md "Files of an artifact"):
 *   GET /api/v1/artifacts/{id}/files         the tree
 *   GET /api/v1/artifacts/{id}/files/{path}  one file's UTF-8 text
 * with ?format=html adding "html": the text rendered as CommonMark by
 * libcmark with every piece of raw HTML turned into literal text and unsafe
 * link schemes dropped (cmark's safe mode), the frontmatter shown as a YAML
 * code block. Artifact files are hostile input: paths are confined to the
 * artifact (symlinks resolving outside it are neither listed nor read),
 * binary files are 415, files over FILE_MAX 413.
 */
#include <cmark.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "skillmeat/cache.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops_files.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/truth.h"
#include "skillmeat/utf8.h"
#include "util/banned.h"

#define FILE_MAX (1024 * 1024) /* bytes of one file's text */
#define LIST_MAX 5000	       /* files of one tree */
#define PATH_DEPTH 7	       /* /files/{p1}/.../{p7}: {id} is the 8th parameter */

/*
 * The source of truth the files are read from, for this request: the files
 * under the home, or in team mode the team store through this loop thread's
 * connection (already scoped to the request's tenant). No lock: a read.
 */
static int read_truth(struct sm_app *app, struct sm_http_req *req, struct sm_truth *t)
{
	struct sm_cache *cache = api_cache(req);

	if (!app->team_url) {
		sm_truth_files_init(t, app->home, cache);
		return 0;
	}
	if (sm_truth_team_init(t, app->home, app->team_url,
			       cache->tenant ? cache->tenant : "default") < 0) {
		sm_truth_release(t);
		return -ENOMEM;
	}
	t->cache = cache; /* borrowed */
	return 0;
}

/* Answer for an artifact whose manifest path leads outside its collection. */
static int outside(struct sm_http_req *req, const char *key)
{
	return sm_http_error(req, 404, "The files of artifact '%s' lie outside its collection", key);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static const char *mime_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".md", "text/markdown"},	   {".markdown", "text/markdown"},
		{".json", "application/json"},	   {".yaml", "application/yaml"},
		{".yml", "application/yaml"},	   {".toml", "application/toml"},
		{".py", "text/x-python"},	   {".sh", "text/x-shellscript"},
		{".js", "text/javascript"},	   {".ts", "text/x-typescript"},
		{".html", "text/html"},		   {".css", "text/css"},
		{".xml", "application/xml"},	   {".csv", "text/csv"},
	};
	const char *dot = strrchr(base_name(path), '.');

	if (dot)
		for (size_t i = 0; i < SM_ARRAY_SIZE(types); i++)
			if (!strcasecmp(dot, types[i].ext))
				return types[i].type;
	return "text/plain";
}

static bool is_markdown(const char *path)
{
	return !strcmp(mime_of(path), "text/markdown");
}

/*
 * Resolve {id} (and ?collection) to a fresh row; API_ANSWERED on 4xx,
 * API_DEFERRED when a read repair took the request to a worker.
 */
static int resolve(struct sm_app *app, struct sm_http_req *req, struct sm_artifact_row *row)
{
	struct sm_cache *cache = api_cache(req);
	const char *id = sm_http_param(req, "id");
	int r;

	r = api_resolve(req, cache, id, sm_http_query(req, "collection"), row);
	if (r < 0)
		return r;
	r = api_row_fresh(req, app, cache, row);
	if (r == -ENOENT) {
		(void)sm_http_error(req, 404, "Artifact '%s' not found", id);
		return API_ANSWERED;
	}
	return r;
}

static json_t *head_of(const struct sm_artifact_row *row, const char *key)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "artifact_id", key, "artifact_name", row->name,
			 "artifact_type", row->type, "collection_name", row->collection);
}

/* ---- the tree ---- */

/* The child of dir named name (a folder node), created when missing. */
static json_t *folder(json_t *dir, const char *name, size_t len, const char *path, size_t plen)
{
	size_t i;
	json_t *n;

	json_array_foreach(dir, i, n)
	{
		const char *nm = json_string_value(json_object_get(n, "name"));

		if (nm && strlen(nm) == len && !memcmp(nm, name, len) &&
		    json_object_get(n, "children") && json_is_array(json_object_get(n, "children")))
			return json_object_get(n, "children");
	}
	n = json_pack("{s:s%, s:s%, s:s, s:n, s:[]}", "name", name, len, "path", path, plen, "type",
		      "directory", "size", "children");
	if (!n || json_array_append_new(dir, n) < 0)
		return NULL;
	return json_object_get(n, "children");
}

static int tree_add(json_t *top, const char *rel, uint64_t size)
{
	json_t *dir = top, *leaf;
	const char *p = rel, *s;

	while ((s = strchr(p, '/'))) {
		dir = folder(dir, p, (size_t)(s - p), rel, (size_t)(s - rel));
		if (!dir)
			return -ENOMEM;
		p = s + 1;
	}
	leaf = json_pack("{s:s, s:s, s:s, s:I, s:n}", "name", p, "path", rel, "type", "file", "size",
			 (json_int_t)size, "children");
	if (!leaf || json_array_append_new(dir, leaf) < 0)
		return -ENOMEM;
	return 0;
}

static int files_tree(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_artifact_row row = {0};
	struct strbuf key = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_truth truth = {0};
	struct sm_truth_file *list = NULL;
	size_t len = 0, n = 0;
	json_t *o = NULL, *files;
	int r;

	api_set_rerun(req, files_tree, data);
	if ((r = resolve(app, req, &row)) < 0)
		goto out;
	if ((r = api_artifact_key(api_cache(req), &row, &key)) < 0)
		goto out;
	if ((r = read_truth(app, req, &truth)) < 0)
		goto out;
	r = sm_ops_artifact_files(&truth, &row, &list, &len, &err);
	if (r == -EXDEV) {
		r = outside(req, key.buf);
		goto out;
	}
	if (r == -ENOENT) {
		r = sm_http_error(req, 404, "The files of artifact '%s' are missing", key.buf);
		goto out;
	}
	if (r < 0)
		goto out;
	if (!(o = head_of(&row, key.buf)) || !(files = json_array()) ||
	    json_object_set_new(o, "files", files) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (; n < len && n < LIST_MAX; n++)
		if ((r = tree_add(files, list[n].path, list[n].size)) < 0)
			goto out;
	json_object_set_new(o, "truncated", json_boolean(n < len));
	r = sm_http_json(req, 200, o);
	o = NULL;
	if (r >= 0)
		(void)api_body_etag(req); /* what the files hold now */
out:
	json_decref(o);
	sm_truth_files_free(list, len);
	sm_truth_release(&truth);
	sm_artifact_row_release(&row);
	sm_strbuf_release(&key);
	sm_strbuf_release(&err);
	return r < 0 && r != API_ANSWERED ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

/* ---- one file ---- */

/* Text is UTF-8 without NUL bytes (what a browser can show as text). */
static bool is_text(const unsigned char *s, size_t n)
{
	return !memchr(s, 0, n) && sm_utf8_valid((const char *)s, n);
}

/* The length of a leading frontmatter block ("---" line ... "---"/"..." line), or 0. */
static size_t frontmatter_len(const char *s, size_t n, size_t *body_start)
{
	size_t i;

	if (n < 4 || memcmp(s, "---", 3) || (s[3] != '\n' && !(s[3] == '\r' && n > 4 && s[4] == '\n')))
		return 0;
	i = s[3] == '\n' ? 4 : 5;
	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - s) : n, len = end - i;

		if (len && s[i + len - 1] == '\r')
			len--;
		if (len == 3 && (!memcmp(s + i, "---", 3) || !memcmp(s + i, "...", 3))) {
			*body_start = nl ? end + 1 : n;
			return i;
		}
		i = nl ? end + 1 : n;
	}
	return 0;
}

/*
 * Raw HTML becomes text: an HTML block a code block of its source, inline
 * HTML a text node. The renderer then escapes it like any text.
 */
static int defuse_html(cmark_node *doc)
{
	cmark_iter *it = cmark_iter_new(doc);
	cmark_node **found = NULL;
	size_t n = 0, alloc = 0;
	cmark_event_type ev;
	int r = 0;

	if (!it)
		return -ENOMEM;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);
		cmark_node_type t = cmark_node_get_type(node);

		if (ev != CMARK_EVENT_ENTER || (t != CMARK_NODE_HTML_BLOCK && t != CMARK_NODE_HTML_INLINE))
			continue;
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			cmark_node **f = sm_realloc(found, na * sizeof(*f));

			if (!f) {
				r = -ENOMEM;
				goto out;
			}
			found = f;
			alloc = na;
		}
		found[n++] = node;
	}
	for (size_t i = 0; i < n; i++) {
		bool block = cmark_node_get_type(found[i]) == CMARK_NODE_HTML_BLOCK;
		cmark_node *text = cmark_node_new(block ? CMARK_NODE_CODE_BLOCK : CMARK_NODE_TEXT);
		const char *lit = cmark_node_get_literal(found[i]);

		if (!text || !cmark_node_set_literal(text, lit ? lit : "") ||
		    (block && !cmark_node_set_fence_info(text, "html")) ||
		    !cmark_node_replace(found[i], text)) {
			if (text)
				cmark_node_free(text);
			r = -ENOMEM;
			goto out;
		}
		cmark_node_free(found[i]);
	}
out:
	sm_free(found);
	cmark_iter_free(it);
	return r;
}

/* Markdown text → safe HTML in out. */
static int render_markdown(const char *s, size_t n, struct strbuf *out)
{
	size_t body = 0, fm = frontmatter_len(s, n, &body);
	cmark_node *doc;
	char *html = NULL;
	int r;

	doc = cmark_parse_document(s + body, n - body, CMARK_OPT_VALIDATE_UTF8);
	if (!doc)
		return -ENOMEM;
	r = defuse_html(doc);
	if (r == 0 && fm) {
		/* the frontmatter, as the file has it, as a code block first */
		cmark_node *code = cmark_node_new(CMARK_NODE_CODE_BLOCK);
		char *lit = sm_strndup(s + 4, fm - 4 - (s[3] == '\r'));

		if (!code || !lit || !cmark_node_set_literal(code, lit) ||
		    !cmark_node_set_fence_info(code, "yaml") || !cmark_node_prepend_child(doc, code)) {
			if (code && !cmark_node_parent(code))
				cmark_node_free(code);
			r = -ENOMEM;
		}
		sm_free(lit);
	}
	/* CMARK_OPT_DEFAULT is safe mode: no raw HTML, no javascript:/vbscript:/file:/data: links */
	if (r == 0 && !(html = cmark_render_html(doc, CMARK_OPT_DEFAULT)))
		r = -ENOMEM;
	if (r == 0)
		r = sm_strbuf_addstr(out, html);
	free(html); /* cmark's default allocator */
	cmark_node_free(doc);
	return r;
}

/* Any other text → <pre><code>, escaped by the same renderer. */
static int render_code(const char *s, struct strbuf *out)
{
	cmark_node *doc = cmark_node_new(CMARK_NODE_DOCUMENT);
	cmark_node *code = cmark_node_new(CMARK_NODE_CODE_BLOCK);
	char *html = NULL;
	int r = -ENOMEM;

	if (doc && code && cmark_node_set_literal(code, s) && cmark_node_append_child(doc, code)) {
		code = NULL;
		html = cmark_render_html(doc, CMARK_OPT_DEFAULT);
	}
	if (html)
		r = sm_strbuf_addstr(out, html);
	free(html);
	if (code)
		cmark_node_free(code);
	if (doc)
		cmark_node_free(doc);
	return r;
}

/* {p1}/{p2}/... of the route into one relative path (req's arena). */
static int path_param(struct sm_http_req *req, struct strbuf *out)
{
	static const char *const names[PATH_DEPTH] = {"p1", "p2", "p3", "p4", "p5", "p6", "p7"};
	int r = 0;

	for (size_t i = 0; i < PATH_DEPTH && r >= 0; i++) {
		const char *p = sm_http_param(req, names[i]);

		if (!p)
			break;
		if (i)
			r = sm_strbuf_addch(out, '/');
		if (r >= 0)
			r = sm_strbuf_addstr(out, p);
	}
	return r;
}

static int file_get(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_artifact_row row = {0};
	struct strbuf key = STRBUF_INIT, rel = STRBUF_INIT, text = STRBUF_INIT, html = STRBUF_INIT,
		      err = STRBUF_INIT;
	struct sm_truth truth = {0};
	const char *format = sm_http_query(req, "format");
	json_t *o = NULL;
	int r;

	api_set_rerun(req, file_get, data);
	if (format && strcmp(format, "html") && strcmp(format, "text")) {
		r = sm_http_error(req, 400, "Invalid format '%s' (html or text)", format);
		goto out;
	}
	if ((r = path_param(req, &rel)) < 0)
		goto out;
	if ((r = resolve(app, req, &row)) < 0)
		goto out;
	if ((r = api_artifact_key(api_cache(req), &row, &key)) < 0)
		goto out;
	if ((r = read_truth(app, req, &truth)) < 0)
		goto out;
	r = sm_ops_artifact_file(&truth, &row, rel.buf, rel.len, FILE_MAX, &text, &err);
	if (r == -EXDEV) {
		r = outside(req, key.buf);
		goto out;
	}
	if (r == -EINVAL) {
		r = sm_http_error(req, 400, "Invalid file path '%s': it leads outside the artifact",
				  rel.buf);
		goto out;
	}
	if (r == -E2BIG) {
		r = sm_http_error(req, 413, "File '%s' is larger than %d bytes", rel.buf, FILE_MAX);
		goto out;
	}
	if (r == -ENOENT) {
		r = sm_http_error(req, 404, "File '%s' not found in artifact '%s'", rel.buf, key.buf);
		goto out;
	}
	if (r < 0)
		goto out;
	if (!is_text((const unsigned char *)text.buf, text.len)) {
		r = sm_http_error(req, 415, "File '%s' is binary, not UTF-8 text", rel.buf);
		goto out;
	}
	if (!(o = head_of(&row, key.buf)) ||
	    json_object_set_new(o, "path", json_stringn(rel.buf, rel.len)) < 0 ||
	    json_object_set_new(o, "content", json_stringn(text.buf, text.len)) < 0 ||
	    json_object_set_new(o, "size", json_integer((json_int_t)text.len)) < 0 ||
	    json_object_set_new(o, "mime_type", json_string(mime_of(rel.buf))) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (format && !strcmp(format, "html")) {
		r = is_markdown(rel.buf) ? render_markdown(text.buf, text.len, &html)
					 : render_code(text.buf, &html);
		if (r < 0)
			goto out;
		if (json_object_set_new(o, "html", json_stringn(html.buf, html.len)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = sm_http_json(req, 200, o);
	o = NULL;
	if (r >= 0)
		(void)api_body_etag(req); /* what the files hold now */
out:
	json_decref(o);
	sm_truth_release(&truth);
	sm_artifact_row_release(&row);
	sm_strbuf_release(&key);
	sm_strbuf_release(&rel);
	sm_strbuf_release(&text);
	sm_strbuf_release(&html);
	sm_strbuf_release(&err);
	return r < 0 && r != API_ANSWERED ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}

int api_register_files(struct sm_app *app, struct sm_router *router, struct strbuf *err)
{
	struct strbuf pat = STRBUF_INIT;
	int r;

	r = sm_router_add(router, "GET", API_PREFIX "/artifacts/{id}/files", files_tree, app, 0,
			  err);
	if (r >= 0)
		r = sm_strbuf_addstr(&pat, API_PREFIX "/artifacts/{id}/files");
	for (int i = 1; r >= 0 && i <= PATH_DEPTH; i++) {
		r = sm_strbuf_addf(&pat, "/{p%d}", i);
		if (r >= 0)
			r = sm_router_add(router, "GET", pat.buf, file_get, app, 0, err);
	}
	sm_strbuf_release(&pat);
	return r < 0 ? r : 0;
}
