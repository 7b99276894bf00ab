/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_AUTH_H
#define SKILLMEAT_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

/*
 * Token authentication and CORS (spec/API.md "Auth and binding").
 */

/* Is host a loopback address or name: 127.0.0.0/8, ::1, localhost (any case, trailing dot)? */
bool sm_auth_host_is_loopback(const char *host);

/* Constant-time comparison of two NUL-terminated strings (time depends on lengths only). */
bool sm_auth_token_equal(const char *a, const char *b);

/*
 * Does the request carry token, as "Authorization: Bearer <token>" or
 * "X-API-Key: <token>"? A NULL token means no auth is configured: true.
 */
bool sm_auth_check(struct sm_http_req *req, const char *token);

/* Is origin in the NULL-terminated allow-list (exact, case-sensitive, never "*")? */
bool sm_cors_allowed(const char *const *origins, const char *origin);

/*
 * Add the CORS headers for an allowed Origin to any response:
 * Access-Control-Allow-Origin: <origin>, Access-Control-Allow-Credentials:
 * true, and always Vary: Origin. Returns whether the origin was allowed.
 */
bool sm_cors_headers(struct sm_http_req *req, const char *const *origins);

/*
 * Is this request a CORS preflight (OPTIONS with Origin and
 * Access-Control-Request-Method)?
 */
bool sm_cors_is_preflight(struct sm_http_req *req);

/*
 * Answer a preflight for a path whose allowed methods are allow ("GET, PUT"):
 * 204 with Allow-Methods/-Headers/Max-Age when the origin is allowed, else
 * 400 {"detail":"Disallowed CORS origin"} (Starlette's answer).
 */
void sm_cors_preflight(struct sm_http_req *req, const char *const *origins, const char *allow);

#endif
