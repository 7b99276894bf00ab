/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_WEB_H
#define SKILLMEAT_HTTP_WEB_H

#include <stddef.h>

#include "http/router.h"

/*
 * The web page (web/index.html, app.css, app.js), embedded into the binary
 * at build time by tools/embed.py (web/meson.build). Read-only: it lists the
 * user collections and their artifacts through /api/v1.
 *
 * Every asset is answered with Cache-Control: no-cache and an ETag (the
 * SHA-256 of its bytes); If-None-Match with that tag → 304 and no body.
 */

struct sm_web_asset {
	const char *path;	  /* where it is served: "/index.html" */
	const char *content_type; /* "text/html; charset=utf-8" */
	const unsigned char *data;
	size_t len;
	const char *etag; /* SHA-256 hex of the bytes, without quotes */
};

/* Generated (web_assets.c): the table, and each file under its own name. */
extern const struct sm_web_asset sm_web_assets[];
extern const size_t sm_web_n_assets;

extern const unsigned char sm_web_index_html[];
extern const size_t sm_web_index_html_len;
extern const char sm_web_index_html_type[];
extern const char sm_web_index_html_etag[];

extern const unsigned char sm_web_app_css[];
extern const size_t sm_web_app_css_len;
extern const char sm_web_app_css_type[];
extern const char sm_web_app_css_etag[];

extern const unsigned char sm_web_app_js[];
extern const size_t sm_web_app_js_len;
extern const char sm_web_app_js_type[];
extern const char sm_web_app_js_etag[];

/* The asset served at path ("/" is "/index.html"); NULL when there is none. */
const struct sm_web_asset *sm_web_find(const char *path);

/*
 * Register GET / and GET /<file> for every asset, public and exempt from
 * rate limiting (SM_ROUTE_PUBLIC | SM_ROUTE_NO_RATE_LIMIT). The assets are
 * static, so nothing has to outlive the router. -EEXIST when a route is
 * taken, -EINVAL, -ENOMEM (message in err).
 */
int sm_web_register(struct sm_router *router, struct strbuf *err);

#endif
