/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "http/auth.h"
#include "http/dispatch.h"

#include "util/banned.h"

static void rate_limited(struct sm_dispatch *d, struct sm_http_req *req,
			 const struct sm_rate_result *rr)
{
	json_t *body = json_pack("{s:s, s:s, s:i}", "error", "RATE_LIMIT_EXCEEDED", "message",
				 "Too many requests. Please try again later.", "retry_after",
				 (json_int_t)rr->retry_after);

	(void)sm_http_json(req, 429, body);
	(void)sm_http_retry_after(req, rr->retry_after);
	if (d->metrics)
		sm_metric_inc(sm_metric_get(d->metrics->rate_limited));
}

static int call_handler(const struct sm_route *route, struct sm_http_req *req)
{
	int r = route->fn(req, route->data);

	if (r < 0) {
		(void)sm_http_error_errno(req, r, NULL);
		return SM_HTTP_DONE;
	}
	return r == SM_HTTP_DEFERRED ? SM_HTTP_DEFERRED : SM_HTTP_DONE;
}

int sm_dispatch(struct sm_dispatch *d, struct sm_http_req *req)
{
	const char *const *origins = (const char *const *)d->cfg->cors_origins;
	const struct sm_route *route = NULL;
	char allow[128];
	int r;

	(void)sm_cors_headers(req, origins);

	if (sm_cors_is_preflight(req)) {
		r = sm_router_match(d->router, "\x01", req->path, req->path_len, req, &route, allow,
				    sizeof(allow));
		if (r == -EOPNOTSUPP)
			sm_cors_preflight(req, origins, allow);
		else
			(void)sm_http_error(req, 404, "Not Found");
		return SM_HTTP_DONE;
	}

	r = sm_router_match(d->router, req->method, req->path, req->path_len, req, &route, allow,
			    sizeof(allow));
	/* as Starlette: HEAD is served by the GET route (http.c drops the body) */
	if (r == -EOPNOTSUPP && strcmp(req->method, "HEAD") == 0)
		r = sm_router_match(d->router, "GET", req->path, req->path_len, req, &route, allow,
				    sizeof(allow));

	if (d->rate_limit && !(route && (route->flags & SM_ROUTE_NO_RATE_LIMIT))) {
		struct sm_rate_result rr;

		sm_rate_limit_check(d->rate_limit, req->client_ip,
				    route && (route->flags & SM_ROUTE_REFRESH) ? SM_RATE_BUCKET
									       : SM_RATE_BURST,
				    req->method, req->path, req->query, &rr);
		if (!rr.allowed) {
			rate_limited(d, req, &rr);
			return SM_HTTP_DONE;
		}
	}

	if (d->cfg->token && !(route && (route->flags & SM_ROUTE_PUBLIC)) &&
	    !sm_auth_check(req, d->cfg->token)) {
		(void)sm_http_error(req, 401, "Not authenticated");
		(void)sm_http_set_header(req, "WWW-Authenticate", "Bearer");
		return SM_HTTP_DONE;
	}

	switch (r) {
	case 0:
		break;
	case -EOPNOTSUPP:
		(void)sm_http_error(req, 405, "Method Not Allowed");
		(void)sm_http_set_header(req, "Allow", allow);
		return SM_HTTP_DONE;
	case -EINVAL:
		(void)sm_http_error(req, 400, "Invalid path encoding");
		return SM_HTTP_DONE;
	case -ENOENT:
		(void)sm_http_error(req, 404, "Not Found");
		return SM_HTTP_DONE;
	default:
		(void)sm_http_error_errno(req, r, NULL);
		return SM_HTTP_DONE;
	}

	if (req->body_len > d->cfg->max_body) {
		(void)sm_http_error(req, 413, "request body too large");
		return SM_HTTP_DONE;
	}
	if (d->before) {
		r = d->before(req, d->app);
		if (r < 0) {
			(void)sm_http_error_errno(req, r, NULL);
			return SM_HTTP_DONE;
		}
	}
	return call_handler(route, req);
}

/* Keep the method label bounded: clients may send any token. */
static const char *method_label(const char *m)
{
	static const char *const known[] = {"GET",   "POST",	"PUT", "DELETE",
					    "PATCH", "OPTIONS", "HEAD"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(m, known[i]) == 0)
			return known[i];
	return "OTHER";
}

void sm_dispatch_finish(struct sm_dispatch *d, struct sm_http_req *req, double seconds)
{
	if (req->res.status == 0)
		(void)sm_http_error(req, 500, "Internal server error");
	if (d->metrics)
		sm_server_metrics_request(d->metrics, method_label(req->method), req->endpoint,
					  req->res.status, seconds);
}
