/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "skillmeat/memory.h"
#include "http/request.h"

#include "skillmeat/utf8.h"
#include "util/banned.h"

#define ARENA_BLOCK 4096

struct sm_http_arena_block {
	struct sm_http_arena_block *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

void sm_http_req_init(struct sm_http_req *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->path = "/";
	req->path_len = 1;
	req->query = "";
	req->endpoint = "unmatched";
	memcpy(req->client_ip, "unknown", sizeof("unknown"));
	sm_strbuf_init(&req->res.body, SIZE_MAX);
}

void sm_http_req_release(struct sm_http_req *req)
{
	struct sm_http_arena_block *b, *next;

	if (!req)
		return;
	for (b = req->arena; b; b = next) {
		next = b->next;
		sm_free(b);
	}
	req->arena = NULL;
	sm_strbuf_release(&req->res.body);
}

void *sm_http_alloc(struct sm_http_req *req, size_t n)
{
	struct sm_http_arena_block *b = req->arena;
	size_t need = (n + 7) & ~(size_t)7;
	void *p;

	if (need < n)
		return NULL;
	if (!b || b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK / 2 ? need : ARENA_BLOCK;

		b = sm_malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->size = size;
		b->used = 0;
		if (size == ARENA_BLOCK || !req->arena) {
			b->next = req->arena;
			req->arena = b;
		} else {
			/* a big one-off block: keep the current block first */
			b->next = req->arena->next;
			req->arena->next = b;
		}
	}
	p = (char *)b->data + b->used;
	b->used += need;
	memset(p, 0, n);
	return p;
}

char *sm_http_strndup(struct sm_http_req *req, const char *s, size_t n)
{
	char *p = sm_http_alloc(req, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static bool name_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	return alen == blen && strncasecmp(a, b, alen) == 0;
}

const char *sm_http_header(struct sm_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct sm_http_header *h = &req->headers[i];

		if (name_eq(h->name, h->name_len, name))
			return h->value;
	}
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long sm_http_percent_decode(const char *src, size_t len, char *dst, bool plus_space, bool strict)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		if (c == '%') {
			int h1 = i + 1 < len ? hexval(src[i + 1]) : -1;
			int h2 = i + 2 < len ? hexval(src[i + 2]) : -1;

			if (h1 >= 0 && h2 >= 0) {
				c = (char)(h1 << 4 | h2);
				i += 2;
			} else if (strict) {
				return -EINVAL;
			}
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == '\0' && strict)
			return -EINVAL;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return (long)o;
}

static int parse_query(struct sm_http_req *req)
{
	size_t n = 0, o = 0;
	const char *q = req->query;
	size_t len = req->query_len;

	req->q.parsed = true;
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (q[i] == '&')
			n++;
	n++;
	req->q.buf = sm_http_alloc(req, len + 2 * n + 2);
	req->q.names = sm_http_alloc(req, n * sizeof(char *));
	req->q.values = sm_http_alloc(req, n * sizeof(char *));
	if (!req->q.buf || !req->q.names || !req->q.values)
		return -ENOMEM;
	for (size_t i = 0; i <= len;) {
		const char *amp = memchr(q + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - q) : len;
		const char *eq = memchr(q + i, '=', end - i);
		size_t nend = eq ? (size_t)(eq - q) : end;
		long dl;

		if (end > i) {
			char *name = req->q.buf + o;

			dl = sm_http_percent_decode(q + i, nend - i, name, true, false);
			o += (size_t)dl + 1;
			char *value = req->q.buf + o;

			if (eq)
				dl = sm_http_percent_decode(eq + 1, end - nend - 1, value, true,
							    false);
			else
				dl = sm_http_percent_decode("", 0, value, true, false);
			o += (size_t)dl + 1;
			req->q.names[req->q.n] = name;
			req->q.values[req->q.n] = value;
			req->q.n++;
		}
		i = end + 1;
	}
	return 0;
}

const char *sm_http_query_next(struct sm_http_req *req, const char *name, size_t *pos)
{
	if (!req->q.parsed && parse_query(req) < 0)
		return NULL;
	for (size_t i = *pos; i < req->q.n; i++) {
		if (strcmp(req->q.names[i], name) == 0) {
			*pos = i + 1;
			return req->q.values[i];
		}
	}
	*pos = req->q.n;
	return NULL;
}

const char *sm_http_query(struct sm_http_req *req, const char *name)
{
	size_t pos = 0;

	return sm_http_query_next(req, name, &pos);
}

const char *sm_http_param(const struct sm_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_params; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

static int json_422(struct sm_http_req *req, const char *msg, const char *type, int position)
{
	json_t *loc = json_array();
	json_t *item, *detail;

	if (!loc)
		return -ENOMEM;
	json_array_append_new(loc, json_string("body"));
	if (position >= 0)
		json_array_append_new(loc, json_integer(position));
	item = json_pack("{s:o, s:s, s:s}", "loc", loc, "msg", msg, "type", type);
	detail = item ? json_pack("{s:[o]}", "detail", item) : NULL;
	if (!detail)
		return -ENOMEM;
	return sm_http_json(req, 422, detail);
}

int sm_http_json_body(struct sm_http_req *req, json_t **ret)
{
	json_error_t jerr;
	json_t *j;
	int r;

	if (!req->body || req->body_len == 0) {
		r = json_422(req, "field required", "value_error.missing", -1);
		return r < 0 ? r : -EBADMSG;
	}
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!j) {
		r = json_422(req, jerr.text[0] ? jerr.text : "invalid JSON",
			     "value_error.jsondecode", jerr.position);
		return r < 0 ? r : -EBADMSG;
	}
	*ret = j;
	return 0;
}

static void clear_body(struct sm_http_req *req);

void sm_http_res_reset(struct sm_http_req *req)
{
	req->res.status = 0;
	clear_body(req);
	if (req->res.n_headers > req->routed_headers)
		req->res.n_headers = req->routed_headers;
}

void sm_http_status(struct sm_http_req *req, int status)
{
	req->res.status = status;
}

static void clear_body(struct sm_http_req *req)
{
	sm_strbuf_reset(&req->res.body);
	req->res.static_body = NULL;
	req->res.static_len = 0;
	req->res.content_type = NULL;
}

static int add_header(struct sm_http_req *req, const char *name, const char *value, bool replace)
{
	size_t nl = strlen(name), vl = strlen(value);
	struct sm_http_header *h = NULL;
	char *v;

	/* no response splitting, whatever a handler passes on */
	if (!nl || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return -EINVAL;
	if (replace) {
		for (size_t i = 0; i < req->res.n_headers; i++)
			if (name_eq(req->res.headers[i].name, req->res.headers[i].name_len, name))
				h = &req->res.headers[i];
	}
	if (!h) {
		if (req->res.n_headers == SM_HTTP_MAX_RES_HEADERS)
			return -E2BIG;
		h = &req->res.headers[req->res.n_headers];
		h->name = sm_http_strndup(req, name, nl);
		if (!h->name)
			return -ENOMEM;
		h->name_len = nl;
		req->res.n_headers++;
	}
	v = sm_http_strndup(req, value, vl);
	if (!v)
		return -ENOMEM;
	h->value = v;
	h->value_len = vl;
	return 0;
}

int sm_http_set_header(struct sm_http_req *req, const char *name, const char *value)
{
	return add_header(req, name, value, true);
}

int sm_http_add_header(struct sm_http_req *req, const char *name, const char *value)
{
	return add_header(req, name, value, false);
}

const char *sm_http_res_header(const struct sm_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->res.n_headers; i++)
		if (name_eq(req->res.headers[i].name, req->res.headers[i].name_len, name))
			return req->res.headers[i].value;
	return NULL;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	return sm_strbuf_add(data, buf, size) < 0 ? -1 : 0;
}

int sm_http_json(struct sm_http_req *req, int status, json_t *json)
{
	int r = 0;

	clear_body(req);
	req->res.status = status;
	req->res.content_type = "application/json";
	if (!json) {
		r = sm_strbuf_addstr(&req->res.body, "null");
	} else {
		/* 15 digits: 0.06, not 0.059999999999999998 (the CLI's --json too) */
		if (json_dump_callback(json, dump_cb, &req->res.body,
				       JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) < 0)
			r = -ENOMEM;
		json_decref(json);
	}
	if (r < 0) {
		sm_strbuf_reset(&req->res.body);
		req->res.status = 500;
		req->res.static_body = "{\"detail\":\"Internal server error\"}";
		req->res.static_len = strlen(req->res.static_body);
	}
	return r;
}

json_t *sm_http_json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *end;
	json_t *j;
	char *out, *o;

	end = p + strlen((const char *)p);
	j = json_string((const char *)p);
	if (j)
		return j;
	/* invalid UTF-8: each bad byte written as the text \xNN */
	out = sm_malloc((size_t)(end - p) * 4 + 1);
	if (!out)
		return NULL;
	for (o = out; p < end;) {
		size_t n = sm_utf8_len(p, end);

		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			o += snprintf(o, 5, "\\x%02x", *p++);
		}
	}
	*o = '\0';
	j = json_string(out);
	sm_free(out);
	return j;
}

int sm_http_error_detail(struct sm_http_req *req, int status, json_t *detail)
{
	json_t *o = json_object();

	/* never {"detail": null}: a detail that could not be built becomes the status text */
	if (!detail)
		detail = json_string(status >= 500 ? "Internal server error" : "Request failed");
	if (!o || json_object_set_new(o, "detail", detail ? detail : json_null()) < 0) {
		json_decref(o);
		return sm_http_json(req, status, NULL);
	}
	return sm_http_json(req, status, o);
}

int sm_http_error(struct sm_http_req *req, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sm_http_error_detail(req, status, sm_http_json_string(msg));
}

int sm_http_errno_status(int code)
{
	switch (code) {
	case -EINVAL:
		return 400;
	case -ENOENT:
		return 404;
	case -EEXIST:
	case -EBUSY:
		return 409;
	case -E2BIG:
		return 413;
	case -EBADMSG:
		return 422;
	case -EAGAIN:
		return 429;
	case -ESHUTDOWN:
	case -ECONNRESET: /* the team store's connection */
	case -ECONNREFUSED:
		return 503;
	default:
		return 500;
	}
}

int sm_http_error_errno(struct sm_http_req *req, int code, const char *msg)
{
	int status = sm_http_errno_status(code);

	if (status == 500)
		msg = "Internal server error"; /* no internals leaked */
	if (!msg)
		msg = sm_http_reason(status);
	return sm_http_error(req, status, "%s", msg);
}

int sm_http_text(struct sm_http_req *req, int status, const char *content_type, const char *text,
		 size_t len)
{
	clear_body(req);
	req->res.status = status;
	req->res.content_type = content_type;
	return sm_strbuf_add(&req->res.body, text, len);
}

void sm_http_static(struct sm_http_req *req, int status, const char *content_type, const void *data,
		    size_t len)
{
	clear_body(req);
	req->res.status = status;
	req->res.content_type = content_type;
	req->res.static_body = data;
	req->res.static_len = len;
}

void sm_http_no_content(struct sm_http_req *req)
{
	clear_body(req);
	req->res.status = 204;
}

int sm_http_retry_after(struct sm_http_req *req, unsigned seconds)
{
	char v[24];

	snprintf(v, sizeof(v), "%u", seconds);
	return sm_http_set_header(req, "Retry-After", v);
}

/* Does the If-None-Match list hold the quoted tag (weak or strong) or '*'? */
static bool inm_matches(const char *inm, const char *quoted)
{
	size_t ql = strlen(quoted);
	const char *p = inm;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p == '*')
			return true;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (strncmp(p, quoted, ql) == 0 &&
		    (p[ql] == '\0' || p[ql] == ',' || p[ql] == ' ' || p[ql] == '\t'))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

bool sm_http_etag(struct sm_http_req *req, const char *etag)
{
	size_t n = strlen(etag);
	char *quoted = sm_http_alloc(req, n + 3);
	const char *inm;

	if (!quoted)
		return false;
	quoted[0] = '"';
	memcpy(quoted + 1, etag, n);
	quoted[n + 1] = '"';
	quoted[n + 2] = '\0';
	if (sm_http_set_header(req, "ETag", quoted) < 0)
		return false;
	inm = sm_http_header(req, "if-none-match");
	if (inm && inm_matches(inm, quoted)) {
		clear_body(req);
		req->res.status = 304;
		return true;
	}
	return false;
}

const char *sm_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Request Entity Too Large";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}
