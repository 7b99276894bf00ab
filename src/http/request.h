/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_REQUEST_H
#define SKILLMEAT_HTTP_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skillmeat/strbuf.h"

/*
 * One HTTP exchange as handlers see it, independent of libh2o: the request
 * (method, path, query, headers, client IP, body, path parameters) and the
 * response being built (status, headers, body). http.c fills the request
 * from h2o and sends the response; tests fill it by hand.
 *
 * Every string a handler gets from a request is borrowed and lives as long as
 * the exchange. Memory a handler needs for the same lifetime comes from
 * sm_http_alloc (a per-exchange arena, freed with the exchange).
 *
 * A handler returns SM_HTTP_DONE after setting the response (any helper
 * below), or SM_HTTP_DEFERRED after handing the exchange to sm_http_defer
 * (http.h). A negative errno return becomes an error response through
 * sm_http_error_errno (500 with no internals for unknown codes).
 *
 *	static int uc_get(struct sm_http_req *req, void *data)
 *	{
 *		const char *id = sm_http_param(req, "id");     decoded {id}
 *		const char *limit = sm_http_query(req, "limit"); NULL when absent
 *
 *		if (!found)
 *			return sm_http_error(req, 404, "Collection '%s' not found", id);
 *		if (sm_http_etag(req, revision))               304 already set
 *			return SM_HTTP_DONE;
 *		return sm_http_json(req, 200, body);            body reference stolen
 *	}
 *	sm_router_add(router, "GET", "/api/v1/user-collections/{id}", uc_get, app, 0, err);
 */

#define SM_HTTP_DONE 0
#define SM_HTTP_DEFERRED 1

#define SM_HTTP_MAX_PARAMS 8
#define SM_HTTP_MAX_RES_HEADERS 24

/* Names and values are NUL-terminated as well as counted. */
struct sm_http_header {
	const char *name; /* request: lower case */
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct sm_http_param {
	const char *name;  /* the {name} of the route pattern */
	const char *value; /* percent-decoded, NUL-terminated */
};

struct sm_http_arena_block;

struct sm_http_req {
	/* request */
	const char *method; /* "GET", NUL-terminated */
	const char *path;   /* raw path without the query, NUL-terminated */
	size_t path_len;
	const char *query; /* raw query without '?', "" when none */
	size_t query_len;
	const struct sm_http_header *headers;
	size_t n_headers;
	char client_ip[64]; /* textual address, "unknown" when none */
	const char *body;   /* NULL when there was none */
	size_t body_len;
	size_t max_body; /* the configured cap */
	struct sm_http_param params[SM_HTTP_MAX_PARAMS];
	size_t n_params;
	const char *endpoint;  /* the matched route's pattern (metrics label) */
	unsigned thread_index; /* loop thread, or 0 */
	void *thread_data;     /* the loop thread's data (sm_http_thread_init_fn) */

	/* response */
	struct {
		int status; /* 0 until set */
		const char *content_type;
		struct sm_http_header headers[SM_HTTP_MAX_RES_HEADERS];
		size_t n_headers;
		struct strbuf body;
		const void *static_body; /* borrowed bytes; wins over body when set */
		size_t static_len;
	} res;

	/* the jobs handed to workers for this exchange so far (sm_http_defer) */
	unsigned deferred;

	/* private */
	struct sm_http_arena_block *arena;
	const void *route;	 /* the matched route (dispatch.c: run again by sm_http_redo) */
	size_t routed_headers; /* response headers set before the route ran (CORS) */
	struct {
		char *buf; /* decoded "name\0value\0" pairs */
		size_t n;
		bool parsed;
		const char **names;
		const char **values;
	} q;
};

/* Set up an empty exchange (no allocation). */
void sm_http_req_init(struct sm_http_req *req);
/* Free the arena and the response body. */
void sm_http_req_release(struct sm_http_req *req);

/* n bytes from the exchange's arena (8-byte aligned, zeroed); NULL on ENOMEM. */
void *sm_http_alloc(struct sm_http_req *req, size_t n);
char *sm_http_strndup(struct sm_http_req *req, const char *s, size_t n);

/* First header with this name (case-insensitive), value NUL-terminated; NULL when absent. */
const char *sm_http_header(struct sm_http_req *req, const char *name);

/*
 * Query parameters, decoded (%XX and '+'). sm_http_query returns the first
 * value of name or NULL; sm_http_query_next iterates over every value of name
 * (start with *pos = 0; NULL at the end). A malformed escape is kept as is.
 */
const char *sm_http_query(struct sm_http_req *req, const char *name);
const char *sm_http_query_next(struct sm_http_req *req, const char *name, size_t *pos);
/* Path parameter {name} (decoded) or NULL. */
const char *sm_http_param(const struct sm_http_req *req, const char *name);

/*
 * Decode the body as JSON into *ret (a new reference). An empty or invalid body
 * sets the 422 FastAPI-shaped response and returns -EBADMSG, so a handler
 * just returns SM_HTTP_DONE on failure.
 */
int sm_http_json_body(struct sm_http_req *req, json_t **ret);

/*
 * Percent-decode src into dst (room for len + 1 bytes); plus_space turns '+'
 * into ' '. Returns the decoded length, or -EINVAL for a malformed escape or
 * a decoded NUL (when strict), else keeps bad escapes as they are.
 */
long sm_http_percent_decode(const char *src, size_t len, char *dst, bool plus_space, bool strict);

/*
 * Drop the response set since routing (status, body, the handler's headers;
 * the CORS headers stay), so the request can be answered anew.
 */
void sm_http_res_reset(struct sm_http_req *req);

/* Response helpers. Each replaces what was set before; -ENOMEM on failure. */
void sm_http_status(struct sm_http_req *req, int status);
/* Header (copied); replaces an earlier one of the same name. -EINVAL for CR/LF. */
int sm_http_set_header(struct sm_http_req *req, const char *name, const char *value);
/* Add a header even when one with that name exists (e.g. Vary). */
int sm_http_add_header(struct sm_http_req *req, const char *name, const char *value);
/* Dump json (reference stolen, may be NULL → "null") as application/json. */
int sm_http_json(struct sm_http_req *req, int status, json_t *json);
/* {"detail": "<msg>"} */
int sm_http_error(struct sm_http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * A JSON string of s; invalid UTF-8 bytes (a file name, a truncated
 * message) are kept as the text \xNN instead of failing. NULL only for
 * out of memory.
 */
json_t *sm_http_json_string(const char *s);
/* {"detail": <detail>} (reference stolen), the object form; NULL gives a status text. */
int sm_http_error_detail(struct sm_http_req *req, int status, json_t *detail);
/* Map a negative errno to a status and {"detail": msg}; msg NULL = generic text. */
int sm_http_error_errno(struct sm_http_req *req, int code, const char *msg);
int sm_http_errno_status(int code);
/* A body with a content type: text is copied, static bytes are borrowed. */
int sm_http_text(struct sm_http_req *req, int status, const char *content_type, const char *text,
		 size_t len);
void sm_http_static(struct sm_http_req *req, int status, const char *content_type, const void *data,
		    size_t len);
/* 204, no body. */
void sm_http_no_content(struct sm_http_req *req);
int sm_http_retry_after(struct sm_http_req *req, unsigned seconds);
/*
 * Set ETag to "<etag>" (quotes added) and, when If-None-Match lists it (or
 * is *), answer 304 with no body and return true: the handler stops there.
 */
bool sm_http_etag(struct sm_http_req *req, const char *etag);

/* Response header lookup (tests, http.c). */
const char *sm_http_res_header(const struct sm_http_req *req, const char *name);
/* Reason phrase for a status. */
const char *sm_http_reason(int status);

#endif
