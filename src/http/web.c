/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "http/web.h"

#include "util/banned.h"

/*
 * The page talks only to its own origin; nothing inline, so a strict policy
 * costs nothing and stops injected markup from running.
 */
#define WEB_CSP                                                                                    \
	"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "            \
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

const struct sm_web_asset *sm_web_find(const char *path)
{
	if (!path)
		return NULL;
	if (!strcmp(path, "/"))
		path = "/index.html";
	for (size_t i = 0; i < sm_web_n_assets; i++)
		if (!strcmp(sm_web_assets[i].path, path))
			return &sm_web_assets[i];
	return NULL;
}

static int asset_get(struct sm_http_req *req, void *data)
{
	const struct sm_web_asset *a = data;
	int r;

	r = sm_http_set_header(req, "Cache-Control", "no-cache");
	if (r >= 0)
		r = sm_http_set_header(req, "X-Content-Type-Options", "nosniff");
	if (r >= 0)
		r = sm_http_set_header(req, "Referrer-Policy", "no-referrer");
	if (r >= 0 && !strncmp(a->content_type, "text/html", 9))
		r = sm_http_set_header(req, "Content-Security-Policy", WEB_CSP);
	if (r < 0)
		return r;
	if (sm_http_etag(req, a->etag))
		return SM_HTTP_DONE;
	sm_http_static(req, 200, a->content_type, a->data, a->len);
	return SM_HTTP_DONE;
}

int sm_web_register(struct sm_router *router, struct strbuf *err)
{
	const unsigned flags = SM_ROUTE_PUBLIC | SM_ROUTE_NO_RATE_LIMIT;
	const struct sm_web_asset *index = sm_web_find("/");
	int r = 0;

	if (index)
		r = sm_router_add(router, "GET", "/", asset_get, (void *)index, flags, err);
	for (size_t i = 0; r >= 0 && i < sm_web_n_assets; i++)
		r = sm_router_add(router, "GET", sm_web_assets[i].path, asset_get,
				  (void *)&sm_web_assets[i], flags, err);
	return r;
}
