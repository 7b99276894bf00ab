/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what the server makes of a request before a handler
 * runs its own logic: the router (path decoding, parameters, 404/405), the
 * query string, the base64 list cursor (?after=) and the JSON body reader.
 * Input: "METHOD TARGET\n" then the body. Every error answer must be a JSON
 * object whose "detail" is not null.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "http/request.h"
#include "http/router.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const routes[][2] = {
    {"GET", "/health"},
    {"GET", "/metrics"},
    {"GET", "/"},
    {"GET", "/static/{file}"},
    {"GET", API_PREFIX "/artifacts"},
    {"POST", API_PREFIX "/artifacts"},
    {"GET", API_PREFIX "/artifacts/{id}"},
    {"PUT", API_PREFIX "/artifacts/{id}"},
    {"DELETE", API_PREFIX "/artifacts/{id}"},
    {"GET", API_PREFIX "/user-collections"},
    {"POST", API_PREFIX "/user-collections"},
    {"GET", API_PREFIX "/user-collections/cache-stats"},
    {"POST", API_PREFIX "/user-collections/refresh-cache"},
    {"POST", API_PREFIX "/user-collections/migrate-to-default"},
    {"GET", API_PREFIX "/user-collections/{id}"},
    {"PUT", API_PREFIX "/user-collections/{id}"},
    {"DELETE", API_PREFIX "/user-collections/{id}"},
    {"GET", API_PREFIX "/user-collections/{id}/artifacts"},
    {"POST", API_PREFIX "/user-collections/{id}/artifacts"},
    {"DELETE", API_PREFIX "/user-collections/{id}/artifacts/{artifact_id}"},
    {"POST", API_PREFIX "/user-collections/{id}/refresh-cache"},
};

static int handler(struct sm_http_req *req, void *data)
{
	(void)req;
	(void)data;
	return 0;
}

static struct sm_router *router(void)
{
	static struct sm_router *r;

	if (!r) {
		if (sm_router_new(&r) < 0)
			abort();
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
			if (sm_router_add(r, routes[i][0], routes[i][1], handler, NULL, 0, NULL) < 0)
				abort();
	}
	return r;
}

/* An answer set by the code under test must be {"detail": <not null>}. */
static void check_error_answer(struct sm_http_req *req)
{
	json_t *j, *d;

	if (!req->res.status)
		return;
	if (req->res.status < 400)
		abort();
	j = json_loadb(req->res.body.buf, req->res.body.len, 0, NULL);
	if (!j || !json_is_object(j) || !(d = json_object_get(j, "detail")) || json_is_null(d))
		abort();
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size), *sp, *q;
	struct sm_artifact_query aq = {0};
	const struct sm_route *route = NULL;
	struct sm_http_req req;
	char allow[256], *line, *method, *path, *query;
	size_t line_len, pos = 0;
	json_t *body = NULL;
	int r;

	if (!nl)
		return 0;
	line_len = (size_t)(nl - (const char *)data);
	line = malloc(line_len + 3);
	if (!line)
		return 0;
	memcpy(line, data, line_len);
	line[line_len] = '\0';
	sp = memchr(line, ' ', line_len);
	if (!sp || strlen(line) != line_len) {
		free(line);
		return 0;
	}
	method = line;
	line[sp - line] = '\0';
	path = line + (sp - line) + 1;
	q = strchr(path, '?');
	query = (char *)"";
	if (q) {
		query = (char *)q + 1;
		path[q - path] = '\0';
	}

	sm_http_req_init(&req);
	req.method = method;
	req.path = path;
	req.path_len = strlen(path);
	req.query = query;
	req.query_len = strlen(query);
	req.body = nl + 1;
	req.body_len = size - line_len - 1;
	req.max_body = 1 << 20;

	r = sm_router_match(router(), method, path, req.path_len, &req, &route, allow,
			    sizeof(allow));
	if (r == 0) {
		if (!route || !req.endpoint)
			abort();
		(void)sm_http_param(&req, "id");
		(void)sm_http_param(&req, "artifact_id");
	} else if (r != -ENOENT && r != -EOPNOTSUPP && r != -EINVAL && r != -ENOMEM) {
		abort();
	}

	/* the query: every value of a repeated name, then the list cursor */
	while (sm_http_query_next(&req, "artifact_type", &pos))
		;
	r = api_artifact_cursor(&req, &aq);
	if (r == 0 && aq.after_name && (!aq.after_type || !*aq.after_name))
		abort();
	if (r == API_ANSWERED)
		check_error_answer(&req);
	sm_http_req_release(&req);

	/* the body, in an exchange of its own */
	sm_http_req_init(&req);
	req.method = method;
	req.path = path;
	req.path_len = strlen(path);
	req.query = "";
	req.body = nl + 1;
	req.body_len = size - line_len - 1;
	req.max_body = 1 << 20;
	r = sm_http_json_body(&req, &body);
	if (r == 0) {
		if (!body || req.res.status)
			abort();
		json_decref(body);
	} else {
		check_error_answer(&req);
	}
	sm_http_req_release(&req);
	free(line);
	return 0;
}
