/* SPDX-License-Identifier: MIT */
/*
 * Router: literal-over-parameter precedence (the original's shadowed
 * /user-collections/cache-stats), percent-decoding of parameters, 404/405
 * with Allow, pattern validation; plus the request helpers the router feeds
 * (query parsing, ETag) and the dispatch pipeline on hand-made requests.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "http/auth.h"
#include "http/dispatch.h"
#include "http/router.h"

static int h_a(struct sm_http_req *req, void *data)
{
	(void)data;
	return sm_http_json(req, 200, json_string("a"));
}

static int h_b(struct sm_http_req *req, void *data)
{
	(void)data;
	return sm_http_json(req, 200, json_string("b"));
}

static int h_fail(struct sm_http_req *req, void *data)
{
	(void)req;
	return (int)(intptr_t)data;
}

struct match {
	int r;
	const struct sm_route *route;
	char allow[64];
	struct sm_http_req req;
};

static void do_match(struct sm_router *r, const char *method, const char *path, struct match *m)
{
	sm_http_req_init(&m->req);
	m->route = NULL;
	m->r = sm_router_match(r, method, path, strlen(path), &m->req, &m->route, m->allow,
			       sizeof(m->allow));
}

static struct sm_router *uc_router(void)
{
	struct sm_router *r;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(sm_router_new(&r), 0);
	/* the {id} route first, as the original declared it */
	assert_int_equal(
	    sm_router_add(r, "GET", "/api/v1/user-collections/{id}", h_a, NULL, 0, &err), 0);
	assert_int_equal(
	    sm_router_add(r, "PUT", "/api/v1/user-collections/{id}", h_a, NULL, 0, &err), 0);
	assert_int_equal(
	    sm_router_add(r, "DELETE", "/api/v1/user-collections/{id}", h_a, NULL, 0, &err), 0);
	assert_int_equal(
	    sm_router_add(r, "GET", "/api/v1/user-collections/cache-stats", h_b, NULL, 0, &err), 0);
	assert_int_equal(sm_router_add(r, "POST", "/api/v1/user-collections/refresh-cache", h_b,
				       NULL, SM_ROUTE_REFRESH, &err),
			 0);
	assert_int_equal(sm_router_add(r, "POST", "/api/v1/user-collections/{id}/refresh-cache",
				       h_a, NULL, SM_ROUTE_REFRESH, &err),
			 0);
	assert_int_equal(sm_router_add(r, "DELETE",
				       "/api/v1/user-collections/{id}/artifacts/{artifact_id}", h_a,
				       NULL, 0, &err),
			 0);
	assert_int_equal(sm_router_add(r, "GET", "/health", h_b, NULL, SM_ROUTE_PUBLIC, &err), 0);
	assert_int_equal(sm_router_add(r, "GET", "/", h_b, NULL, SM_ROUTE_PUBLIC, &err), 0);
	sm_strbuf_release(&err);
	return r;
}

static void test_literal_wins(void **state)
{
	struct sm_router *r = uc_router();
	struct match m;

	(void)state;
	do_match(r, "GET", "/api/v1/user-collections/cache-stats", &m);
	assert_int_equal(m.r, 0);
	assert_ptr_equal(m.route->fn, h_b);
	assert_string_equal(m.req.endpoint, "/api/v1/user-collections/cache-stats");
	assert_int_equal(m.req.n_params, 0);
	sm_http_req_release(&m.req);

	do_match(r, "GET", "/api/v1/user-collections/abc", &m);
	assert_int_equal(m.r, 0);
	assert_ptr_equal(m.route->fn, h_a);
	assert_string_equal(m.req.endpoint, "/api/v1/user-collections/{id}");
	assert_string_equal(sm_http_param(&m.req, "id"), "abc");
	sm_http_req_release(&m.req);

	/* no PUT on the literal: falls back to {id} = "cache-stats" */
	do_match(r, "PUT", "/api/v1/user-collections/cache-stats", &m);
	assert_int_equal(m.r, 0);
	assert_string_equal(m.req.endpoint, "/api/v1/user-collections/{id}");
	assert_string_equal(sm_http_param(&m.req, "id"), "cache-stats");
	sm_http_req_release(&m.req);

	do_match(r, "POST", "/api/v1/user-collections/refresh-cache", &m);
	assert_int_equal(m.r, 0);
	assert_true(m.route->flags & SM_ROUTE_REFRESH);
	assert_string_equal(m.req.endpoint, "/api/v1/user-collections/refresh-cache");
	sm_http_req_release(&m.req);

	/* backtracking: the literal subtree has no "x/refresh-cache" */
	do_match(r, "POST", "/api/v1/user-collections/cache-stats/refresh-cache", &m);
	assert_int_equal(m.r, 0);
	assert_string_equal(m.req.endpoint, "/api/v1/user-collections/{id}/refresh-cache");
	assert_string_equal(sm_http_param(&m.req, "id"), "cache-stats");
	sm_http_req_release(&m.req);

	do_match(r, "GET", "/", &m);
	assert_int_equal(m.r, 0);
	assert_string_equal(m.req.endpoint, "/");
	sm_http_req_release(&m.req);
	sm_router_free(r);
}

static void test_decoding(void **state)
{
	struct sm_router *r = uc_router();
	struct match m;

	(void)state;
	do_match(r, "DELETE", "/api/v1/user-collections/c%201/artifacts/default%2Fskill%3Apdf", &m);
	assert_int_equal(m.r, 0);
	assert_int_equal(m.req.n_params, 2);
	assert_string_equal(sm_http_param(&m.req, "id"), "c 1");
	assert_string_equal(sm_http_param(&m.req, "artifact_id"), "default/skill:pdf");
	assert_null(sm_http_param(&m.req, "nope"));
	sm_http_req_release(&m.req);

	/* an encoded literal still matches */
	do_match(r, "GET", "/api/v1/user-collections/cache%2Dstats", &m);
	assert_int_equal(m.r, 0);
	assert_ptr_equal(m.route->fn, h_b);
	sm_http_req_release(&m.req);

	do_match(r, "GET", "/api/v1/user-collections/%zz", &m);
	assert_int_equal(m.r, -EINVAL);
	sm_http_req_release(&m.req);
	do_match(r, "GET", "/api/v1/user-collections/a%00b", &m);
	assert_int_equal(m.r, -EINVAL);
	sm_http_req_release(&m.req);
	do_match(r, "GET", "/api/v1/user-collections/%4", &m);
	assert_int_equal(m.r, -EINVAL);
	sm_http_req_release(&m.req);
	sm_router_free(r);
}

static void test_not_found_and_405(void **state)
{
	struct sm_router *r = uc_router();
	struct match m;

	(void)state;
	do_match(r, "GET", "/api/v1/nothing", &m);
	assert_int_equal(m.r, -ENOENT);
	sm_http_req_release(&m.req);
	/* empty parameter segment and trailing slash do not match */
	do_match(r, "GET", "/api/v1/user-collections/", &m);
	assert_int_equal(m.r, -ENOENT);
	sm_http_req_release(&m.req);
	do_match(r, "GET", "/health/", &m);
	assert_int_equal(m.r, -ENOENT);
	sm_http_req_release(&m.req);
	do_match(r, "GET", "/api/v1/user-collections", &m);
	assert_int_equal(m.r, -ENOENT);
	sm_http_req_release(&m.req);
	do_match(r, "GET", "", &m);
	assert_int_equal(m.r, -ENOENT);
	sm_http_req_release(&m.req);

	do_match(r, "POST", "/api/v1/user-collections/abc", &m);
	assert_int_equal(m.r, -EOPNOTSUPP);
	assert_string_equal(m.allow, "GET, PUT, DELETE");
	sm_http_req_release(&m.req);
	/* allowed methods of every route the path matches */
	do_match(r, "POST", "/api/v1/user-collections/cache-stats", &m);
	assert_int_equal(m.r, -EOPNOTSUPP);
	assert_string_equal(m.allow, "GET, PUT, DELETE");
	sm_http_req_release(&m.req);
	do_match(r, "HEAD", "/health", &m);
	assert_int_equal(m.r, -EOPNOTSUPP);
	assert_string_equal(m.allow, "GET");
	sm_http_req_release(&m.req);
	/* a NULL method matches any */
	do_match(r, NULL, "/api/v1/user-collections/x/artifacts/y", &m);
	assert_int_equal(m.r, 0);
	sm_http_req_release(&m.req);
	sm_router_free(r);
}

static void test_bad_patterns(void **state)
{
	struct sm_router *r;
	struct strbuf err = STRBUF_INIT;
	static const char *const bad[] = {
	    "",
	    "x",
	    "/a//b",
	    "/a/",
	    "/{}",
	    "/{a",
	    "/a}",
	    "/{a}b",
	    "/x{a}",
	    "/{a{b}}",
	    "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}",
	};

	(void)state;
	assert_int_equal(sm_router_new(&r), 0);
	for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++)
		assert_int_equal(sm_router_add(r, "GET", bad[i], h_a, NULL, 0, &err), -EINVAL);
	assert_int_equal(sm_router_add(r, "GET", "/a/{id}", h_a, NULL, 0, &err), 0);
	assert_int_equal(sm_router_add(r, "GET", "/a/{other}", h_a, NULL, 0, &err), -EEXIST);
	assert_non_null(strstr(err.buf, "already registered"));
	assert_int_equal(sm_router_add(r, "PUT", "/a/{other}", h_a, NULL, 0, &err), 0);
	sm_strbuf_release(&err);
	sm_router_free(r);
}

static void test_query(void **state)
{
	struct sm_http_req req;
	size_t pos = 0;
	const char *q = "tags=a&tags=b%20c&search=x+y&empty=&flag&tags=d&bad=%zz";

	(void)state;
	sm_http_req_init(&req);
	req.query = q;
	req.query_len = strlen(q);
	assert_string_equal(sm_http_query(&req, "search"), "x y");
	assert_string_equal(sm_http_query(&req, "empty"), "");
	assert_string_equal(sm_http_query(&req, "flag"), "");
	assert_string_equal(sm_http_query(&req, "bad"), "%zz");
	assert_null(sm_http_query(&req, "none"));
	assert_string_equal(sm_http_query_next(&req, "tags", &pos), "a");
	assert_string_equal(sm_http_query_next(&req, "tags", &pos), "b c");
	assert_string_equal(sm_http_query_next(&req, "tags", &pos), "d");
	assert_null(sm_http_query_next(&req, "tags", &pos));
	sm_http_req_release(&req);
}

static void test_etag_and_errors(void **state)
{
	struct sm_http_req req;
	struct sm_http_header h[] = {
	    {"if-none-match", 13, "W/\"x\", \"abc\"", 12},
	};

	(void)state;
	sm_http_req_init(&req);
	req.headers = h;
	req.n_headers = 1;
	assert_true(sm_http_etag(&req, "abc"));
	assert_int_equal(req.res.status, 304);
	assert_string_equal(sm_http_res_header(&req, "etag"), "\"abc\"");
	assert_false(sm_http_etag(&req, "ab"));
	assert_true(sm_http_etag(&req, "x"));
	sm_http_req_release(&req);

	sm_http_req_init(&req);
	assert_int_equal(sm_http_set_header(&req, "X-A", "a\r\nSet-Cookie: x"), -EINVAL);
	assert_int_equal(sm_http_set_header(&req, "X-A\r\nB", "a"), -EINVAL);
	assert_int_equal(sm_http_set_header(&req, "", "a"), -EINVAL);
	assert_null(sm_http_res_header(&req, "X-A"));
	assert_int_equal(sm_http_error_errno(&req, -EEXIST, "name 'x' is taken"), 0);
	assert_int_equal(req.res.status, 409);
	assert_string_equal(req.res.body.buf, "{\"detail\":\"name 'x' is taken\"}");
	assert_int_equal(sm_http_error_errno(&req, -EIO, "secret internals"), 0);
	assert_int_equal(req.res.status, 500);
	assert_string_equal(req.res.body.buf, "{\"detail\":\"Internal server error\"}");
	req.body = "[1,";
	req.body_len = 3;
	json_t *j = NULL;
	assert_int_equal(sm_http_json_body(&req, &j), -EBADMSG);
	assert_int_equal(req.res.status, 422);
	assert_non_null(strstr(req.res.body.buf, "\"type\":\"value_error.jsondecode\""));
	assert_non_null(strstr(req.res.body.buf, "\"loc\":[\"body\","));
	sm_http_req_release(&req);
}

/* the dispatch pipeline on hand-made requests */
static void test_dispatch(void **state)
{
	struct sm_router *r = uc_router();
	struct sm_server_config cfg;
	struct sm_dispatch d = {0};
	struct sm_http_req req;
	struct sm_http_header auth[] = {{"x-api-key", 9, "tok", 3}};
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_server_config_init(&cfg), 0);
	assert_int_equal(
	    sm_router_add(r, "GET", "/api/v1/fail", h_fail, (void *)(intptr_t)-ENOENT, 0, &err), 0);
	d.cfg = &cfg;
	d.router = r;

	sm_http_req_init(&req);
	req.path = "/api/v1/fail";
	req.path_len = strlen(req.path);
	assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
	assert_int_equal(req.res.status, 404);
	assert_string_equal(req.res.body.buf, "{\"detail\":\"Not Found\"}");
	sm_http_req_release(&req);

	sm_http_req_init(&req);
	req.method = "PATCH";
	req.path = "/health";
	req.path_len = strlen(req.path);
	assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
	assert_int_equal(req.res.status, 405);
	assert_string_equal(req.res.body.buf, "{\"detail\":\"Method Not Allowed\"}");
	assert_string_equal(sm_http_res_header(&req, "allow"), "GET");
	sm_http_req_release(&req);

	/* body cap */
	cfg.max_body = 4;
	sm_http_req_init(&req);
	req.path = "/health";
	req.path_len = strlen(req.path);
	req.body = "12345";
	req.body_len = 5;
	assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
	assert_int_equal(req.res.status, 413);
	assert_string_equal(req.res.body.buf, "{\"detail\":\"request body too large\"}");
	sm_http_req_release(&req);

	/* token */
	assert_int_equal(sm_server_config_set_token(&cfg, "tok"), 0);
	sm_http_req_init(&req);
	req.path = "/api/v1/user-collections/x";
	req.path_len = strlen(req.path);
	assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
	assert_int_equal(req.res.status, 401);
	assert_string_equal(req.res.body.buf, "{\"detail\":\"Not authenticated\"}");
	sm_http_req_release(&req);
	sm_http_req_init(&req);
	req.path = "/api/v1/user-collections/x";
	req.path_len = strlen(req.path);
	req.headers = auth;
	req.n_headers = 1;
	assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
	assert_int_equal(req.res.status, 200);
	sm_http_req_release(&req);
	sm_http_req_init(&req);
	req.path = "/health"; /* public */
	req.path_len = strlen(req.path);
	assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
	assert_int_equal(req.res.status, 200);
	sm_http_req_release(&req);

	sm_strbuf_release(&err);
	sm_server_config_release(&cfg);
	sm_router_free(r);
}

static void test_auth_helpers(void **state)
{
	static const char *const origins[] = {"http://localhost:3000", NULL};

	(void)state;
	assert_true(sm_auth_host_is_loopback("127.0.0.1"));
	assert_true(sm_auth_host_is_loopback("127.8.9.10"));
	assert_true(sm_auth_host_is_loopback("::1"));
	assert_true(sm_auth_host_is_loopback("[::1]"));
	assert_true(sm_auth_host_is_loopback("localhost"));
	assert_true(sm_auth_host_is_loopback("LocalHost."));
	assert_true(sm_auth_host_is_loopback("::ffff:127.0.0.1"));
	assert_false(sm_auth_host_is_loopback("0.0.0.0"));
	assert_false(sm_auth_host_is_loopback("::"));
	assert_false(sm_auth_host_is_loopback("128.0.0.1"));
	assert_false(sm_auth_host_is_loopback("10.0.0.1"));
	assert_false(sm_auth_host_is_loopback("example.com"));
	assert_false(sm_auth_host_is_loopback("localhost.example.com"));
	assert_false(sm_auth_host_is_loopback(""));
	assert_false(sm_auth_host_is_loopback(NULL));

	assert_true(sm_auth_token_equal("abc", "abc"));
	assert_false(sm_auth_token_equal("abc", "abd"));
	assert_false(sm_auth_token_equal("abc", "ab"));
	assert_false(sm_auth_token_equal("abc", "abcabc"));
	assert_false(sm_auth_token_equal("abc", ""));
	assert_true(sm_auth_token_equal("", ""));

	assert_true(sm_cors_allowed(origins, "http://localhost:3000"));
	assert_false(sm_cors_allowed(origins, "http://localhost:3000/"));
	assert_false(sm_cors_allowed(origins, "*"));
	assert_false(sm_cors_allowed(origins, NULL));
}

static void test_config(void **state)
{
	struct sm_server_config cfg;

	(void)state;
	assert_int_equal(sm_server_config_init(&cfg), 0);
	assert_string_equal(cfg.host, "127.0.0.1");
	assert_int_equal(cfg.port, 8080);
	assert_int_equal(cfg.max_body, 1048576);
	assert_true(cfg.rate.enabled);
	assert_int_equal(cfg.rate.burst_threshold, 20);
	assert_int_equal(cfg.n_cors_origins, 4);
	assert_string_equal(cfg.cors_origins[0], "http://localhost:3000");
	assert_null(cfg.cors_origins[4]);
	assert_int_equal(sm_server_config_set_cors(&cfg, " http://a:1 ,,http://b "), 0);
	assert_int_equal(cfg.n_cors_origins, 2);
	assert_string_equal(cfg.cors_origins[0], "http://a:1");
	assert_string_equal(cfg.cors_origins[1], "http://b");
	assert_null(cfg.cors_origins[2]);
	assert_int_equal(sm_server_config_set_cors(&cfg, ""), 0);
	assert_int_equal(cfg.n_cors_origins, 0);
	assert_null(cfg.cors_origins[0]);
	assert_int_equal(sm_server_config_set_token(&cfg, ""), 0);
	assert_null(cfg.token);
	sm_server_config_release(&cfg);
}

static int build_and_match(void)
{
	struct sm_router *r = NULL;
	struct sm_http_req req;
	const struct sm_route *route;
	char allow[32];
	int ret;

	sm_http_req_init(&req);
	ret = sm_router_new(&r);
	if (ret >= 0)
		ret = sm_router_add(r, "GET", "/api/v1/user-collections/{id}", h_a, NULL, 0, NULL);
	if (ret >= 0)
		ret = sm_router_add(r, "GET", "/api/v1/user-collections/cache-stats", h_b, NULL, 0,
				    NULL);
	if (ret >= 0)
		ret = sm_router_add(r, "DELETE", "/api/v1/x/{a}/y/{b}", h_b, NULL, 0, NULL);
	if (ret >= 0)
		ret = sm_router_match(r, "DELETE", "/api/v1/x/1/y/%32", 17, &req, &route, allow,
				      sizeof(allow));
	if (ret >= 0 && strcmp(sm_http_param(&req, "b"), "2") != 0)
		ret = -EIO;
	if (ret >= 0)
		ret = sm_http_json(&req, 200, json_string("x"));
	if (ret >= 0 && sm_http_set_header(&req, "X-A", "b") < 0)
		ret = -ENOMEM;
	sm_http_req_release(&req);
	sm_router_free(r);
	return ret;
}

/* every allocation failure is reported as -ENOMEM and leaks nothing (ASan) */
static void test_alloc_failure(void **state)
{
	struct sm_server_config cfg;
	int r = -1;

	(void)state;
	for (long n = 0; n < 200; n++) {
		sm_alloc_fail_after(n);
		r = build_and_match();
		sm_alloc_fail_after(-1);
		if (r >= 0)
			break;
		assert_int_equal(r, -ENOMEM);
	}
	assert_true(r >= 0);
	for (long n = 0; n < 50; n++) {
		sm_alloc_fail_after(n);
		r = sm_server_config_init(&cfg);
		if (r >= 0)
			r = sm_server_config_set_cors(&cfg, "http://a,http://b");
		sm_alloc_fail_after(-1);
		if (r >= 0) {
			assert_int_equal(cfg.n_cors_origins, 2);
			sm_server_config_release(&cfg);
			break;
		}
		assert_int_equal(r, -ENOMEM);
		sm_server_config_release(&cfg);
	}
	assert_true(r >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literal_wins),
	    cmocka_unit_test(test_decoding),
	    cmocka_unit_test(test_not_found_and_405),
	    cmocka_unit_test(test_bad_patterns),
	    cmocka_unit_test(test_query),
	    cmocka_unit_test(test_etag_and_errors),
	    cmocka_unit_test(test_dispatch),
	    cmocka_unit_test(test_auth_helpers),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
