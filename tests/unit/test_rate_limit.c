/* SPDX-License-Identifier: MIT */
/*
 * Rate limiter with a fake clock: the burst rule (the 20th identical request
 * within the window is refused and blocks the client; a burst of writes
 * blocks only its writes), the token bucket,
 * Retry-After values, the off switch, the exemptions in dispatch, eviction.
 * With "threads" as argument: a stress test for the TSan build.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/dispatch.h"
#include "http/rate_limit.h"

#define NS 1000000000LL

static int64_t now_ns;

static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return __atomic_load_n(&now_ns, __ATOMIC_RELAXED);
}

static void advance(double sec)
{
	__atomic_add_fetch(&now_ns, (int64_t)(sec * NS), __ATOMIC_RELAXED);
}

static struct sm_rate_limit *make(struct sm_rate_limit_config *rc)
{
	struct sm_rate_limit *rl = NULL;

	now_ns = 1000 * NS;
	assert_int_equal(sm_rate_limit_new(rc, fake_clock, NULL, &rl), 0);
	return rl;
}

static void burst(struct sm_rate_limit *rl, const char *ip, const char *q,
		  struct sm_rate_result *res)
{
	sm_rate_limit_check(rl, ip, SM_RATE_BURST, "GET", "/api/v1/artifacts", q, res);
}

static void test_burst_rule(void **state)
{
	struct sm_rate_limit_config rc;
	struct sm_rate_limit *rl;
	struct sm_rate_result res;

	(void)state;
	sm_rate_limit_config_init(&rc);
	rl = make(&rc);
	for (int i = 1; i < 20; i++) {
		burst(rl, "1.1.1.1", "a=1", &res);
		assert_true(res.allowed);
		assert_int_equal(res.current, i);
		advance(0.1);
	}
	/* other requests and other clients are not affected yet */
	burst(rl, "1.1.1.1", "a=2", &res);
	assert_true(res.allowed);
	burst(rl, "2.2.2.2", "a=1", &res);
	assert_true(res.allowed);
	/* the 20th identical request within 10 s */
	burst(rl, "1.1.1.1", "a=1", &res);
	assert_false(res.allowed);
	assert_int_equal(res.retry_after, 10);
	/* blocked everywhere, with the time left */
	advance(3.5);
	burst(rl, "1.1.1.1", "a=3", &res);
	assert_false(res.allowed);
	assert_int_equal(res.retry_after, 7);
	sm_rate_limit_check(rl, "1.1.1.1", SM_RATE_BUCKET, "POST", "/x", "", &res);
	assert_false(res.allowed);
	burst(rl, "2.2.2.2", "a=1", &res);
	assert_true(res.allowed);
	/* the block ends */
	advance(6.5);
	burst(rl, "1.1.1.1", "a=1", &res);
	assert_true(res.allowed);
	sm_rate_limit_free(rl);
}

/* A burst of writes blocks the client's writes, never its reads (issue 11). */
static void test_write_burst_keeps_reads(void **state)
{
	struct sm_rate_limit_config rc;
	struct sm_rate_limit *rl;
	struct sm_rate_result res;
	const char *put = "/api/v1/artifacts/skill:a/metadata";

	(void)state;
	sm_rate_limit_config_init(&rc);
	rl = make(&rc);
	for (int i = 1; i < 20; i++) {
		sm_rate_limit_check(rl, "1.1.1.1", SM_RATE_BURST, "PUT", put, "", &res);
		assert_true(res.allowed);
		advance(0.1);
	}
	sm_rate_limit_check(rl, "1.1.1.1", SM_RATE_BURST, "PUT", put, "", &res);
	assert_false(res.allowed);
	assert_int_equal(res.retry_after, 10);
	/* the same client's reads are served all through the block */
	for (int i = 0; i < 10; i++) {
		burst(rl, "1.1.1.1", "a=1", &res);
		assert_true(res.allowed);
		sm_rate_limit_check(rl, "1.1.1.1", SM_RATE_BURST, "HEAD", "/api/v1/artifacts", "",
				    &res);
		assert_true(res.allowed);
		advance(0.5);
	}
	/* its other writes and its refresh-cache POSTs wait, with the time left */
	sm_rate_limit_check(rl, "1.1.1.1", SM_RATE_BURST, "POST", "/api/v1/user-collections", "",
			    &res);
	assert_false(res.allowed);
	assert_int_equal(res.retry_after, 5);
	sm_rate_limit_check(rl, "1.1.1.1", SM_RATE_BUCKET, "POST", "/x", "", &res);
	assert_false(res.allowed);
	sm_rate_limit_check(rl, "1.1.1.1", SM_RATE_BURST, "DELETE", "/api/v1/artifacts/x", "",
			    &res);
	assert_false(res.allowed);
	/* the block ends */
	advance(5.0);
	sm_rate_limit_check(rl, "1.1.1.1", SM_RATE_BURST, "PUT", put, "", &res);
	assert_true(res.allowed);
	/* a burst of reads still blocks everything, writes included */
	for (int i = 1; i < 20; i++) {
		burst(rl, "3.3.3.3", "", &res);
		assert_true(res.allowed);
	}
	burst(rl, "3.3.3.3", "", &res);
	assert_false(res.allowed);
	sm_rate_limit_check(rl, "3.3.3.3", SM_RATE_BURST, "PUT", put, "", &res);
	assert_false(res.allowed);
	sm_rate_limit_free(rl);
}

static void test_window_slides(void **state)
{
	struct sm_rate_limit_config rc;
	struct sm_rate_limit *rl;
	struct sm_rate_result res;

	(void)state;
	sm_rate_limit_config_init(&rc);
	rc.burst_threshold = 5;
	rc.window_sec = 10;
	rl = make(&rc);
	/* 4 per 10 s forever is fine */
	for (int i = 0; i < 40; i++) {
		burst(rl, "ip", "", &res);
		assert_true(res.allowed);
		advance(2.5);
	}
	/* 5 within the window is not */
	for (int i = 0; i < 4; i++) {
		burst(rl, "ip2", "", &res);
		assert_true(res.allowed);
	}
	burst(rl, "ip2", "", &res);
	assert_false(res.allowed);
	assert_int_equal(res.retry_after, 10);
	sm_rate_limit_free(rl);
}

static void test_token_bucket(void **state)
{
	struct sm_rate_limit_config rc;
	struct sm_rate_limit *rl;
	struct sm_rate_result res;

	(void)state;
	sm_rate_limit_config_init(&rc);
	rl = make(&rc);
	for (int i = 0; i < 5; i++) {
		sm_rate_limit_check(rl, "ip", SM_RATE_BUCKET, "POST", "/r", "", &res);
		assert_true(res.allowed);
	}
	sm_rate_limit_check(rl, "ip", SM_RATE_BUCKET, "POST", "/r", "", &res);
	assert_false(res.allowed);
	assert_int_equal(res.retry_after, 10);
	/* a refused request costs nothing; 4 s later 6 s remain */
	advance(4);
	sm_rate_limit_check(rl, "ip", SM_RATE_BUCKET, "POST", "/r", "", &res);
	assert_false(res.allowed);
	assert_int_equal(res.retry_after, 6);
	advance(6);
	sm_rate_limit_check(rl, "ip", SM_RATE_BUCKET, "POST", "/r", "", &res);
	assert_true(res.allowed);
	sm_rate_limit_check(rl, "ip", SM_RATE_BUCKET, "POST", "/r", "", &res);
	assert_false(res.allowed);
	/* the bucket does not block other requests, nor other clients */
	burst(rl, "ip", "", &res);
	assert_true(res.allowed);
	sm_rate_limit_check(rl, "other", SM_RATE_BUCKET, "POST", "/r", "", &res);
	assert_true(res.allowed);
	/* refill is capped at the burst */
	advance(1000);
	for (int i = 0; i < 5; i++) {
		sm_rate_limit_check(rl, "ip", SM_RATE_BUCKET, "POST", "/r", "", &res);
		assert_true(res.allowed);
	}
	sm_rate_limit_check(rl, "ip", SM_RATE_BUCKET, "POST", "/r", "", &res);
	assert_false(res.allowed);
	sm_rate_limit_free(rl);
}

static void test_disabled_and_bad_config(void **state)
{
	struct sm_rate_limit_config rc;
	struct sm_rate_limit *rl;
	struct sm_rate_result res;

	(void)state;
	sm_rate_limit_config_init(&rc);
	rc.enabled = false;
	rl = make(&rc);
	for (int i = 0; i < 100; i++) {
		burst(rl, "ip", "", &res);
		assert_true(res.allowed);
		sm_rate_limit_check(rl, "ip", SM_RATE_BUCKET, "POST", "/r", "", &res);
		assert_true(res.allowed);
	}
	assert_int_equal(sm_rate_limit_clients(rl), 0);
	sm_rate_limit_free(rl);
	/* a NULL limiter allows everything */
	sm_rate_limit_check(NULL, "ip", SM_RATE_BURST, "GET", "/", "", &res);
	assert_true(res.allowed);

	sm_rate_limit_config_init(&rc);
	rc.burst_threshold = 0;
	assert_int_equal(sm_rate_limit_new(&rc, NULL, NULL, &rl), -EINVAL);
	sm_rate_limit_config_init(&rc);
	rc.refresh_refill_sec = 0;
	assert_int_equal(sm_rate_limit_new(&rc, NULL, NULL, &rl), -EINVAL);
}

static void test_eviction(void **state)
{
	struct sm_rate_limit_config rc;
	struct sm_rate_limit *rl;
	struct sm_rate_result res;
	char ip[32];

	(void)state;
	sm_rate_limit_config_init(&rc);
	rc.max_clients = 8;
	rl = make(&rc);
	for (int i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		burst(rl, ip, "", &res);
		advance(0.01);
	}
	assert_int_equal(sm_rate_limit_clients(rl), 8);
	/* full, nobody idle: the least recently seen (10.0.0.0) goes */
	burst(rl, "10.0.1.0", "", &res);
	assert_int_equal(sm_rate_limit_clients(rl), 8);
	for (int i = 0; i < 18; i++)
		burst(rl, "10.0.0.1", "", &res);
	burst(rl, "10.0.0.1", "", &res);
	assert_false(res.allowed);
	/* idle clients are swept once their state has run out (50 s: the bucket) */
	advance(49);
	sm_rate_limit_sweep(rl);
	assert_int_equal(sm_rate_limit_clients(rl), 8);
	advance(2);
	sm_rate_limit_sweep(rl);
	assert_int_equal(sm_rate_limit_clients(rl), 0);
	/* a block survives as long as it lasts, even when the client is idle */
	rc.block_sec = 100;
	sm_rate_limit_free(rl);
	rl = make(&rc);
	for (int i = 0; i < 20; i++)
		burst(rl, "b", "", &res);
	assert_false(res.allowed);
	advance(60);
	sm_rate_limit_sweep(rl);
	assert_int_equal(sm_rate_limit_clients(rl), 1);
	burst(rl, "b", "", &res);
	assert_false(res.allowed);
	assert_int_equal(res.retry_after, 40);
	/* many request kinds per client stay bounded and keep working */
	advance(200);
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "q=%d", i);
		burst(rl, "c", ip, &res);
		assert_true(res.allowed);
	}
	sm_rate_limit_free(rl);
}

static int ok_handler(struct sm_http_req *req, void *data)
{
	(void)data;
	return sm_http_json(req, 200, json_true());
}

/* dispatch: exemptions, the 429 body and headers, the metric */
static void test_dispatch_429(void **state)
{
	struct sm_server_config cfg;
	struct sm_router *router;
	struct sm_server_metrics sm;
	struct sm_rate_limit *rl;
	struct sm_dispatch d = {0};
	struct sm_http_req req;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_server_config_init(&cfg), 0);
	cfg.rate.burst_threshold = 3;
	assert_int_equal(sm_router_new(&router), 0);
	assert_int_equal(sm_router_add(router, "GET", "/health", ok_handler, NULL,
				       SM_ROUTE_PUBLIC | SM_ROUTE_NO_RATE_LIMIT, &err),
			 0);
	assert_int_equal(sm_router_add(router, "GET", "/api/v1/x", ok_handler, NULL, 0, &err), 0);
	assert_int_equal(sm_server_metrics_init(&sm), 0);
	rl = make(&cfg.rate);
	d.cfg = &cfg;
	d.router = router;
	d.rate_limit = rl;
	d.metrics = &sm;

	for (int i = 0; i < 3; i++) {
		sm_http_req_init(&req);
		req.path = "/api/v1/x";
		req.path_len = strlen(req.path);
		assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
		sm_dispatch_finish(&d, &req, 0.001);
		assert_int_equal(req.res.status, i < 2 ? 200 : 429);
		if (i == 2) {
			assert_string_equal(req.res.body.buf,
					    "{\"error\":\"RATE_LIMIT_EXCEEDED\",\"message\":\"Too "
					    "many requests. Please try again later.\","
					    "\"retry_after\":10}");
			assert_string_equal(sm_http_res_header(&req, "Retry-After"), "10");
		}
		sm_http_req_release(&req);
	}
	for (int i = 0; i < 50; i++) {
		sm_http_req_init(&req);
		req.path = "/health";
		req.path_len = strlen(req.path);
		assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
		assert_int_equal(req.res.status, 200);
		sm_http_req_release(&req);
	}
	/* unknown paths are limited too (the client is blocked now) */
	sm_http_req_init(&req);
	req.path = "/nope";
	req.path_len = strlen(req.path);
	assert_int_equal(sm_dispatch(&d, &req), SM_HTTP_DONE);
	assert_int_equal(req.res.status, 429);
	sm_http_req_release(&req);
	assert_true(sm_metric_value(sm_metric_get(sm.rate_limited)) == 2.0);
	assert_true(sm_metric_value(sm_metric_get(sm.api_requests, "GET", "/api/v1/x", "429")) ==
		    1.0);

	sm_rate_limit_free(rl);
	sm_server_metrics_release(&sm);
	sm_router_free(router);
	sm_server_config_release(&cfg);
	sm_strbuf_release(&err);
}

/* threads: many clients and kinds at once; the totals must add up */
#define NTHREADS 8
#define ITERS 20000

static struct sm_rate_limit *shared_rl;
static unsigned long allowed_total;

static void *stress(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct sm_rate_result res;
	char ip[32], q[16];
	unsigned long allowed = 0;

	for (unsigned i = 0; i < ITERS; i++) {
		snprintf(ip, sizeof(ip), "10.%u.0.%u", id, i % 50);
		snprintf(q, sizeof(q), "p=%u", i % 40);
		sm_rate_limit_check(shared_rl, ip, i % 7 ? SM_RATE_BURST : SM_RATE_BUCKET, "GET",
				    "/x", q, &res);
		allowed += res.allowed;
		if (i % 1000 == 0)
			advance(0.5);
	}
	__atomic_add_fetch(&allowed_total, allowed, __ATOMIC_RELAXED);
	return NULL;
}

static void test_threads(void **state)
{
	struct sm_rate_limit_config rc;
	pthread_t t[NTHREADS];

	(void)state;
	sm_rate_limit_config_init(&rc);
	rc.max_clients = 200;
	shared_rl = make(&rc);
	for (unsigned i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, stress, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	assert_true(allowed_total > 0);
	assert_true(sm_rate_limit_clients(shared_rl) <= 200);
	sm_rate_limit_free(shared_rl);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_rule),	 cmocka_unit_test(test_window_slides),
	    cmocka_unit_test(test_write_burst_keeps_reads),
	    cmocka_unit_test(test_token_bucket), cmocka_unit_test(test_disabled_and_bad_config),
	    cmocka_unit_test(test_eviction),	 cmocka_unit_test(test_dispatch_429),
	};
	const struct CMUnitTest thread_tests[] = {
	    cmocka_unit_test(test_threads),
	};

	if (argc > 1 && strcmp(argv[1], "threads") == 0)
		return cmocka_run_group_tests(thread_tests, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
