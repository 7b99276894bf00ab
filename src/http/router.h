/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_ROUTER_H
#define SKILLMEAT_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

/*
 * Method + path routing. Patterns are absolute paths whose segments are
 * literals or {name} parameters: "/api/v1/user-collections/{id}/artifacts".
 * A parameter matches one non-empty segment; its value is percent-decoded
 * (so "%2F" inside an id stays in that parameter). Literal segments win over
 * parameters at every level, with backtracking, whatever the order of
 * registration: "/user-collections/cache-stats" reaches its own route even
 * though "/user-collections/{id}" also matches.
 *
 * A path that matches a route but not for this method is answered 405 with
 * the methods that would match (Allow); no match at all is 404.
 */

typedef int (*sm_http_handler_fn)(struct sm_http_req *req, void *data);

enum sm_route_flags {
	SM_ROUTE_PUBLIC = 1 << 0,	 /* no token needed (health, web page) */
	SM_ROUTE_NO_RATE_LIMIT = 1 << 1, /* exempt from rate limiting */
	SM_ROUTE_REFRESH = 1 << 2,	 /* token bucket instead of the burst rule */
};

struct sm_route {
	const char *method;  /* upper case */
	const char *pattern; /* as registered: the metrics endpoint label */
	sm_http_handler_fn fn;
	void *data;
	unsigned flags;
};

struct sm_router;

int sm_router_new(struct sm_router **ret);
void sm_router_free(struct sm_router *router);

/*
 * Register a route. The pattern is copied. -EINVAL for a malformed pattern
 * (not starting with '/', an empty or unclosed {}, more than
 * SM_HTTP_MAX_PARAMS parameters), -EEXIST when method + pattern (with any
 * parameter names) is already registered, -ENOMEM.
 */
int sm_router_add(struct sm_router *router, const char *method, const char *pattern,
		  sm_http_handler_fn fn, void *data, unsigned flags, struct strbuf *err);

/*
 * Let the parameter that ends pattern ("/api/v1/artifacts/{id}") match, in
 * every route through it, two segments "collection/type:name" too (a first
 * segment without ':' or '/', a second with ':'), tried before the one
 * segment: the unencoded form of a qualified artifact id. -EINVAL for a
 * pattern not ending in a parameter, -ENOMEM.
 */
int sm_router_qualified(struct sm_router *router, const char *pattern, struct strbuf *err);

/*
 * Match method and path (raw, without the query). On success *ret is the
 * route, req->params hold the decoded parameters (allocated from req's arena)
 * and req->endpoint is the route's pattern. A NULL method matches any method
 * (CORS preflight). Errors: -ENOENT no route for the path; -EOPNOTSUPP the
 * path exists for other methods, listed in allow ("GET, PUT", may be NULL);
 * -EINVAL a malformed percent escape or an encoded NUL; -ENOMEM.
 */
int sm_router_match(const struct sm_router *router, const char *method, const char *path,
		    size_t path_len, struct sm_http_req *req, const struct sm_route **ret,
		    char *allow, size_t allow_size);

#endif
