/* SPDX-License-Identifier: MIT */
/*
 * The embedded web page: the bytes compiled in are the files of web/ (read
 * from $SKILLMEAT_SRC at test time), each ETag is the SHA-256 of its bytes,
 * and the routes answer 200 with the right content type, 304 on a matching
 * If-None-Match, without a token and without rate limiting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/fs.h"
#include "skillmeat/sha256.h"
#include "skillmeat/strbuf.h"
#include "http/dispatch.h"
#include "http/rate_limit.h"
#include "http/router.h"
#include "http/web.h"

static void read_web_file(const char *name, struct strbuf *out)
{
	const char *src = getenv("SKILLMEAT_SRC");
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;

	assert_non_null(src);
	assert_int_equal(sm_strbuf_addf(&path, "%s/web/%s", src, name), 0);
	if (sm_fs_read_file(path.buf, 4u << 20, out, &err) < 0)
		fail_msg("cannot read '%s': %s", path.buf, err.buf);
	sm_strbuf_release(&path);
	sm_strbuf_release(&err);
}

static void test_bytes_equal_files(void **state)
{
	static const char *const names[] = {"index.html", "app.css",	"app.js",
					    "content.js", "edit.js",	"deploy.js",
					    "favicon.svg"};

	(void)state;
	assert_int_equal(sm_web_n_assets, 7);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct strbuf file = STRBUF_INIT, path = STRBUF_INIT;
		const struct sm_web_asset *a;
		char hex[SM_SHA256_HEX_LEN + 1];

		read_web_file(names[i], &file);
		assert_int_equal(sm_strbuf_addf(&path, "/%s", names[i]), 0);
		a = sm_web_find(path.buf);
		assert_non_null(a);
		assert_string_equal(a->path, path.buf);
		assert_int_equal(a->len, file.len);
		assert_memory_equal(a->data, file.buf, file.len);
		assert_int_equal(a->data[a->len], '\0');
		assert_int_equal(sm_sha256_hex(file.buf, file.len, hex), 0);
		assert_string_equal(a->etag, hex);
		sm_strbuf_release(&file);
		sm_strbuf_release(&path);
	}
	/* the per-file symbols are the table's */
	assert_ptr_equal(sm_web_find("/")->data, sm_web_index_html);
	assert_int_equal(sm_web_find("/index.html")->len, sm_web_index_html_len);
	assert_string_equal(sm_web_index_html_type, "text/html; charset=utf-8");
	assert_ptr_equal(sm_web_find("/app.css")->data, sm_web_app_css);
	assert_int_equal(sm_web_app_css_len, sm_web_find("/app.css")->len);
	assert_string_equal(sm_web_app_css_type, "text/css; charset=utf-8");
	assert_ptr_equal(sm_web_find("/app.js")->data, sm_web_app_js);
	assert_int_equal(sm_web_app_js_len, sm_web_find("/app.js")->len);
	assert_string_equal(sm_web_app_js_type, "text/javascript; charset=utf-8");
	assert_string_equal(sm_web_app_js_etag, sm_web_find("/app.js")->etag);
	assert_string_equal(sm_web_find("/favicon.svg")->content_type, "image/svg+xml");
	assert_null(sm_web_find("/nope.html"));
	assert_null(sm_web_find(NULL));
}

struct fixture {
	struct sm_server_config cfg;
	struct sm_router *router;
	struct sm_rate_limit *rl;
	struct sm_dispatch d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT;

	assert_non_null(f);
	assert_int_equal(sm_server_config_init(&f->cfg), 0);
	/* a token: the page must stay public */
	assert_int_equal(sm_server_config_set_token(&f->cfg, "secret"), 0);
	f->cfg.rate.burst_threshold = 3;
	assert_int_equal(sm_router_new(&f->router), 0);
	assert_int_equal(sm_web_register(f->router, &err), 0);
	assert_int_equal(sm_rate_limit_new(&f->cfg.rate, NULL, NULL, &f->rl), 0);
	f->d.cfg = &f->cfg;
	f->d.router = f->router;
	f->d.rate_limit = f->rl;
	sm_strbuf_release(&err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sm_rate_limit_free(f->rl);
	sm_router_free(f->router);
	sm_server_config_release(&f->cfg);
	free(f);
	return 0;
}

static void get(struct fixture *f, const char *method, const char *path, const char *inm,
		struct sm_http_req *req)
{
	static struct sm_http_header h[1];

	sm_http_req_init(req);
	req->method = method;
	req->path = path;
	req->path_len = strlen(path);
	snprintf(req->client_ip, sizeof(req->client_ip), "127.0.0.1");
	if (inm) {
		h[0] = (struct sm_http_header){"if-none-match", 13, inm, strlen(inm)};
		req->headers = h;
		req->n_headers = 1;
	}
	assert_int_equal(sm_dispatch(&f->d, req), SM_HTTP_DONE);
}

static void expect_asset(struct fixture *f, const char *path, const char *type,
			 const unsigned char *data, size_t len, const char *etag)
{
	struct sm_http_req req;
	char quoted[SM_SHA256_HEX_LEN + 3];
	char list[3 * SM_SHA256_HEX_LEN];

	snprintf(quoted, sizeof(quoted), "\"%s\"", etag);

	get(f, "GET", path, NULL, &req);
	assert_int_equal(req.res.status, 200);
	assert_string_equal(req.res.content_type, type);
	assert_ptr_equal(req.res.static_body, data);
	assert_int_equal(req.res.static_len, len);
	assert_string_equal(sm_http_res_header(&req, "ETag"), quoted);
	assert_string_equal(sm_http_res_header(&req, "Cache-Control"), "no-cache");
	assert_string_equal(sm_http_res_header(&req, "X-Content-Type-Options"), "nosniff");
	sm_http_req_release(&req);

	/* a matching If-None-Match, alone or in a list, weak or strong → 304 */
	get(f, "GET", path, quoted, &req);
	assert_int_equal(req.res.status, 304);
	assert_null(req.res.static_body);
	assert_int_equal(req.res.body.len, 0);
	assert_string_equal(sm_http_res_header(&req, "ETag"), quoted);
	assert_string_equal(sm_http_res_header(&req, "Cache-Control"), "no-cache");
	sm_http_req_release(&req);
	snprintf(list, sizeof(list), "\"old\", W/%s", quoted);
	get(f, "GET", path, list, &req);
	assert_int_equal(req.res.status, 304);
	sm_http_req_release(&req);

	/* a stale tag → the bytes again */
	get(f, "GET", path, "\"0123\"", &req);
	assert_int_equal(req.res.status, 200);
	assert_ptr_equal(req.res.static_body, data);
	sm_http_req_release(&req);
}

static void test_routes(void **state)
{
	struct fixture *f = *state;
	struct sm_http_req req;

	expect_asset(f, "/", "text/html; charset=utf-8", sm_web_index_html, sm_web_index_html_len,
		     sm_web_index_html_etag);
	expect_asset(f, "/index.html", "text/html; charset=utf-8", sm_web_index_html,
		     sm_web_index_html_len, sm_web_index_html_etag);
	expect_asset(f, "/app.css", "text/css; charset=utf-8", sm_web_app_css, sm_web_app_css_len,
		     sm_web_app_css_etag);
	expect_asset(f, "/app.js", "text/javascript; charset=utf-8", sm_web_app_js,
		     sm_web_app_js_len, sm_web_app_js_etag);

	/* the page forbids inline scripts and foreign origins */
	get(f, "GET", "/", NULL, &req);
	assert_non_null(
	    strstr(sm_http_res_header(&req, "Content-Security-Policy"), "script-src 'self'"));
	sm_http_req_release(&req);

	/* HEAD is served by the GET route */
	get(f, "HEAD", "/app.js", NULL, &req);
	assert_int_equal(req.res.status, 200);
	sm_http_req_release(&req);

	/* not an asset: the token is still asked for elsewhere */
	get(f, "GET", "/api/v1/user-collections", NULL, &req);
	assert_int_equal(req.res.status, 401);
	sm_http_req_release(&req);

	/* read-only */
	assert_int_equal(sm_server_config_set_token(&f->cfg, NULL), 0);
	get(f, "POST", "/", NULL, &req);
	assert_int_equal(req.res.status, 405);
	assert_string_equal(sm_http_res_header(&req, "allow"), "GET");
	sm_http_req_release(&req);
}

/* Reloading the page many times never trips the burst rule. */
static void test_no_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct sm_http_req req;
	const struct sm_route *route = NULL;

	for (int i = 0; i < 50; i++) {
		get(f, "GET", "/", NULL, &req);
		assert_int_equal(req.res.status, 200);
		sm_http_req_release(&req);
	}
	sm_http_req_init(&req);
	assert_int_equal(sm_router_match(f->router, "GET", "/app.css", 8, &req, &route, NULL, 0),
			 0);
	assert_int_equal(route->flags, SM_ROUTE_PUBLIC | SM_ROUTE_NO_RATE_LIMIT);
	sm_http_req_release(&req);
}

static void test_register_twice(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(sm_web_register(f->router, &err), -EEXIST);
	assert_true(err.len > 0);
	sm_strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bytes_equal_files),
	    cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_twice, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
