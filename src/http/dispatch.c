/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* The before hook, then the handler of the route the request matched. */
static int run_route(struct sm_dispatch *d, struct sm_http_req *req)
{
	int r;

	if (d->before) {
		r = d->before(req, d->app);
		if (r < 0) {
			if (!req->res.status) /* unless the hook answered itself */
				(void)sm_http_error_errno(req, r, NULL);
			return SM_HTTP_DONE;
		}
	}
	return call_handler(req->route, req);
}

/* ---- Host, Origin and content type (spec/API.md "Writes: content type, Origin and Host") ---- */

static bool same_name(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/*
 * On a loopback bind, the Host a browser sends for a page of another site
 * whose name was made to resolve to 127.0.0.1 (DNS rebinding) names that
 * site: accept only the bound address, localhost, 127.0.0.1, [::1] and
 * server.allowed-hosts, with the bound port when a port is given.
 */
bool sm_dispatch_host_allowed(const struct sm_dispatch *d, const char *host)
{
	const struct sm_server_config *cfg = d->cfg;
	const char *name = host, *port = NULL;
	size_t nlen;

	if (!cfg->host || !sm_auth_host_is_loopback(cfg->host))
		return true; /* bound for the network: names are the proxy's business */
	if (!host)
		return true; /* HTTP/1.0 without Host: not a browser */
	for (size_t i = 0; i < cfg->n_allowed_hosts; i++)
		if (strcasecmp(host, cfg->allowed_hosts[i]) == 0)
			return true;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');

		if (!close)
			return false;
		nlen = (size_t)(close - host) + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return false;
	} else {
		const char *colon = strrchr(host, ':');

		nlen = colon ? (size_t)(colon - host) : strlen(host);
		port = colon ? colon + 1 : NULL;
	}
	if (port) {
		char want[16];

		if (!d->port)
			return false;
		snprintf(want, sizeof(want), "%u", *d->port);
		if (strcmp(port, want) != 0)
			return false;
	}
	if (same_name(name, nlen, "localhost") || same_name(name, nlen, "127.0.0.1") ||
	    same_name(name, nlen, "[::1]") || same_name(name, nlen, cfg->host))
		return true;
	/* a bound IPv6 literal given without brackets */
	if (nlen > 2 && name[0] == '[' && strlen(cfg->host) == nlen - 2 &&
	    strncasecmp(name + 1, cfg->host, nlen - 2) == 0)
		return true;
	for (size_t i = 0; i < cfg->n_allowed_hosts; i++)
		if (same_name(name, nlen, cfg->allowed_hosts[i]))
			return true;
	return false;
}

static bool is_write(const char *method)
{
	return !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH") ||
	       !strcmp(method, "DELETE");
}

/* application/json, with parameters (charset) or not, any case */
static bool is_json(const char *ct)
{
	size_t n = strlen("application/json");

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", n) != 0)
		return false;
	ct += n;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* The page's own origin: http(s):// and the Host it reached us by. */
static bool same_origin(struct sm_http_req *req, const char *origin)
{
	const char *host = sm_http_header(req, "host");

	if (!host)
		return false;
	if (!strncmp(origin, "http://", 7))
		origin += 7;
	else if (!strncmp(origin, "https://", 8))
		origin += 8;
	else
		return false;
	return strcasecmp(origin, host) == 0;
}

/*
 * A write from a page of another site, or a body a form or a text/plain
 * fetch could send without a CORS preflight: answered here, nothing runs.
 */
static bool refuse_write(struct sm_dispatch *d, struct sm_http_req *req)
{
	const char *origin = sm_http_header(req, "origin");

	if (!is_write(req->method))
		return false;
	if (origin && !same_origin(req, origin) &&
	    !sm_cors_allowed((const char *const *)d->cfg->cors_origins, origin)) {
		(void)sm_http_error(req, 403, "Origin not allowed for writes");
		return true;
	}
	if (req->body_len > 0 && !is_json(sm_http_header(req, "content-type"))) {
		(void)sm_http_error(req, 415, "Unsupported Media Type: a request body must be "
					      "application/json");
		return true;
	}
	return false;
}

int sm_dispatch(struct sm_dispatch *d, struct sm_http_req *req)
{
	const char *const *origins = (const char *const *)d->cfg->cors_origins;
	const struct sm_route *route = NULL;
	char allow[128];
	int r;

	(void)sm_cors_headers(req, origins);

	if (!sm_dispatch_host_allowed(d, sm_http_header(req, "host"))) {
		(void)sm_http_error(req, 421, "Misdirected Request: host not allowed");
		return SM_HTTP_DONE;
	}

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
	if (refuse_write(d, req))
		return SM_HTTP_DONE;
	req->route = route;
	req->routed_headers = req->res.n_headers;
	return run_route(d, req);
}

int sm_dispatch_again(struct sm_dispatch *d, struct sm_http_req *req)
{
	if (!req->route) {
		(void)sm_http_error(req, 500, "Internal server error");
		return SM_HTTP_DONE;
	}
	sm_http_res_reset(req);
	return run_route(d, req);
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
