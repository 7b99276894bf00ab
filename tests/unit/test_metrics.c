/* SPDX-License-Identifier: MIT */
/*
 * Metrics registry: exact exposition text for a small registry, histogram
 * buckets, label escaping, number formatting, collectors, the server series.
 * With "threads" as argument: concurrent updates and renders (TSan build).
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

#include "skillmeat/memory.h"
#include "http/metrics.h"

static void test_render_exact(void **state)
{
	static const char *const l_cache[] = {"cache", NULL};
	static const double buckets[] = {0.1, 0.5, 1};
	struct sm_metrics *m;
	struct sm_metric_family *hits, *up, *dur;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_metrics_new(&m), 0);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_COUNTER, "t_hits_total", "Hits.", l_cache,
					   NULL, 0, &hits),
			 0);
	assert_int_equal(
	    sm_metrics_family(m, SM_METRIC_GAUGE, "t_up", "Up \\ or\ndown.", NULL, NULL, 0, &up),
	    0);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_HISTOGRAM, "t_seconds", "Durations.", NULL,
					   buckets, 3, &dur),
			 0);
	sm_metric_inc(sm_metric_get(hits, "count"));
	sm_metric_add(sm_metric_get(hits, "count"), 2);
	sm_metric_inc(sm_metric_get(hits, "a\"b\\c\nd"));
	sm_metric_set(sm_metric_get(up), 0.25);
	sm_metric_observe(sm_metric_get(dur), 0.1);  /* le 0.1 (inclusive) */
	sm_metric_observe(sm_metric_get(dur), 0.25); /* le 0.5 */
	sm_metric_observe(sm_metric_get(dur), 0.5);  /* le 0.5 */
	sm_metric_observe(sm_metric_get(dur), 7.0);  /* +Inf */
	assert_int_equal(sm_metrics_render(m, &out), 0);
	assert_string_equal(out.buf, "# HELP t_hits_total Hits.\n"
				     "# TYPE t_hits_total counter\n"
				     "t_hits_total{cache=\"count\"} 3\n"
				     "t_hits_total{cache=\"a\\\"b\\\\c\\nd\"} 1\n"
				     "# HELP t_up Up \\\\ or\\ndown.\n"
				     "# TYPE t_up gauge\n"
				     "t_up 0.25\n"
				     "# HELP t_seconds Durations.\n"
				     "# TYPE t_seconds histogram\n"
				     "t_seconds_bucket{le=\"0.1\"} 1\n"
				     "t_seconds_bucket{le=\"0.5\"} 3\n"
				     "t_seconds_bucket{le=\"1\"} 3\n"
				     "t_seconds_bucket{le=\"+Inf\"} 4\n"
				     "t_seconds_sum 7.85\n"
				     "t_seconds_count 4\n");
	assert_int_equal(sm_metric_count(sm_metric_get(dur)), 4);
	sm_strbuf_release(&out);
	sm_metrics_free(m);
}

static void test_labels_and_histogram_with_labels(void **state)
{
	static const char *const l2[] = {"method", "status", NULL};
	static const double b[] = {1, 2};
	struct sm_metrics *m;
	struct sm_metric_family *f, *h;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_metrics_new(&m), 0);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_COUNTER, "req_total", "", l2, NULL, 0, &f),
			 0);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_HISTOGRAM, "h", "x", l2 + 1, b, 2, &h), 0);
	assert_ptr_equal(sm_metric_get(f, "GET", "200"), sm_metric_get(f, "GET", "200"));
	assert_ptr_not_equal(sm_metric_get(f, "GET", "200"), sm_metric_get(f, "GET", "404"));
	sm_metric_inc(sm_metric_get(f, "GET", "404"));
	sm_metric_observe(sm_metric_get(h, "200"), 1.5);
	assert_int_equal(sm_metrics_render(m, &out), 0);
	assert_string_equal(out.buf, "# HELP req_total \n"
				     "# TYPE req_total counter\n"
				     "req_total{method=\"GET\",status=\"200\"} 0\n"
				     "req_total{method=\"GET\",status=\"404\"} 1\n"
				     "# HELP h x\n"
				     "# TYPE h histogram\n"
				     "h_bucket{status=\"200\",le=\"1\"} 0\n"
				     "h_bucket{status=\"200\",le=\"2\"} 1\n"
				     "h_bucket{status=\"200\",le=\"+Inf\"} 1\n"
				     "h_sum{status=\"200\"} 1.5\n"
				     "h_count{status=\"200\"} 1\n");
	assert_ptr_equal(sm_metrics_find(m, "h"), h);
	assert_null(sm_metrics_find(m, "nope"));
	sm_strbuf_release(&out);
	sm_metrics_free(m);
}

static void test_bad_families(void **state)
{
	static const double unsorted[] = {1, 0.5};
	static const double b[] = {1};
	static const char *const bad_label[] = {"a-b", NULL};
	static const char *const five[] = {"a", "b", "c", "d", "e", NULL};
	struct sm_metrics *m;

	(void)state;
	assert_int_equal(sm_metrics_new(&m), 0);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_COUNTER, "ok", "", NULL, NULL, 0, NULL), 0);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_GAUGE, "ok", "", NULL, NULL, 0, NULL),
			 -EEXIST);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_COUNTER, "1x", "", NULL, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_COUNTER, "a b", "", NULL, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_COUNTER, "x", "", bad_label, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_COUNTER, "y", "", five, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(
	    sm_metrics_family(m, SM_METRIC_HISTOGRAM, "z", "", NULL, unsorted, 2, NULL), -EINVAL);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_HISTOGRAM, "z", "", NULL, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_COUNTER, "z", "", NULL, b, 1, NULL),
			 -EINVAL);
	/* NULL series are ignored */
	sm_metric_inc(NULL);
	sm_metric_observe(NULL, 1);
	assert_null(sm_metric_get(NULL));
	sm_metrics_free(m);
}

static void set_gauge(struct sm_metrics *m, void *data)
{
	sm_metric_set(sm_metric_get(sm_metrics_find(m, "g")), *(double *)data);
}

static void test_collector_and_numbers(void **state)
{
	struct sm_metrics *m;
	struct sm_metric_family *g;
	struct strbuf out = STRBUF_INIT;
	double v = 1e20;

	(void)state;
	assert_int_equal(sm_metrics_new(&m), 0);
	assert_int_equal(sm_metrics_family(m, SM_METRIC_GAUGE, "g", "G", NULL, NULL, 0, &g), 0);
	assert_int_equal(sm_metrics_add_collector(m, set_gauge, &v), 0);
	assert_int_equal(sm_metrics_render(m, &out), 0);
	assert_string_equal(out.buf, "# HELP g G\n# TYPE g gauge\ng 1e+20\n");
	static const struct {
		double v;
		const char *s;
	} cases[] = {
	    {0, "0"},
	    {-3, "-3"},
	    {0.1, "0.1"},
	    {1.0 / 3, "0.3333333333333333"},
	    {123456789012.0, "123456789012"},
	    {2.5e-7, "2.5e-07"},
	};
	for (size_t i = 0; i < SM_ARRAY_SIZE(cases); i++) {
		char want[128];

		v = cases[i].v;
		sm_strbuf_reset(&out);
		assert_int_equal(sm_metrics_render(m, &out), 0);
		snprintf(want, sizeof(want), "# HELP g G\n# TYPE g gauge\ng %s\n", cases[i].s);
		assert_string_equal(out.buf, want);
	}
	sm_strbuf_release(&out);
	sm_metrics_free(m);
}

static void test_server_metrics(void **state)
{
	struct sm_server_metrics sm;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_server_metrics_init(&sm), 0);
	sm_server_metrics_request(&sm, "GET", "/api/v1/user-collections/{id}", 200, 0.003);
	sm_server_metrics_request(&sm, "GET", "/api/v1/user-collections/{id}", 200, 0.2);
	sm_server_metrics_cache_hit(&sm, "count");
	sm_server_metrics_cache_miss(&sm, "metadata");
	sm_server_metrics_cache_invalidation(&sm, "count");
	sm_server_metrics_refresh(&sm, "success", 1.5);
	sm_metric_set(sm_metric_get(sm.cache_entries, "count"), 12);
	sm_metric_set(sm_metric_get(sm.cache_stale), 3);
	assert_int_equal(sm_metrics_render(sm.reg, &out), 0);
	static const char *const want[] = {
	    "skillmeat_cache_hits_total{cache=\"count\"} 1\n",
	    "skillmeat_cache_hits_total{cache=\"metadata\"} 0\n",
	    "skillmeat_cache_misses_total{cache=\"metadata\"} 1\n",
	    "skillmeat_cache_invalidations_total{cache=\"count\"} 1\n",
	    "skillmeat_cache_entries{cache=\"count\"} 12\n",
	    "skillmeat_cache_stale_artifacts 3\n",
	    "# TYPE skillmeat_cache_refresh_duration_seconds histogram\n",
	    "skillmeat_cache_refresh_duration_seconds_bucket{le=\"2.5\"} 1\n",
	    "skillmeat_cache_refresh_total{result=\"success\"} 1\n",
	    "skillmeat_cache_refresh_total{result=\"error\"} 0\n",
	    "skillmeat_api_requests_total{method=\"GET\",endpoint=\"/api/v1/user-collections/"
	    "{id}\",status=\"200\"} 2\n",
	    "skillmeat_api_request_duration_seconds_bucket{endpoint=\"/api/v1/user-collections/"
	    "{id}\",le=\"0.005\"} 1\n",
	    "skillmeat_api_request_duration_seconds_bucket{endpoint=\"/api/v1/user-collections/"
	    "{id}\",le=\"0.25\"} 2\n",
	    "skillmeat_api_request_duration_seconds_count{endpoint=\"/api/v1/user-collections/"
	    "{id}\"} 2\n",
	    "skillmeat_rate_limited_total 0\n",
	    "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ",
	};
	for (size_t i = 0; i < SM_ARRAY_SIZE(want); i++) {
		if (!strstr(out.buf, want[i]))
			fail_msg("missing: %s\nin:\n%s", want[i], out.buf);
	}
	assert_true(sm_metrics_rss_bytes() > 0);
	sm_strbuf_release(&out);
	sm_server_metrics_release(&sm);
}

/* threads: updates from 8 threads, new series on the fly, renders at the same time */
#define NTHREADS 8
#define ITERS 20000

static struct sm_server_metrics shared;

static void *writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	char ep[32];

	for (unsigned i = 0; i < ITERS; i++) {
		snprintf(ep, sizeof(ep), "/e%u", i % 16);
		sm_server_metrics_request(&shared, "GET", ep, 200 + (int)(id % 2),
					  0.001 * (i % 50));
		sm_server_metrics_cache_hit(&shared, "count");
	}
	return NULL;
}

static void *renderer(void *arg)
{
	struct strbuf out = STRBUF_INIT;

	(void)arg;
	for (int i = 0; i < 50; i++) {
		sm_strbuf_reset(&out);
		assert_int_equal(sm_metrics_render(shared.reg, &out), 0);
	}
	sm_strbuf_release(&out);
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[NTHREADS + 1];
	double total = 0;
	unsigned long long count = 0;
	char ep[32];

	(void)state;
	assert_int_equal(sm_server_metrics_init(&shared), 0);
	for (unsigned i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(uintptr_t)i), 0);
	assert_int_equal(pthread_create(&t[NTHREADS], NULL, renderer, NULL), 0);
	for (unsigned i = 0; i <= NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (unsigned e = 0; e < 16; e++) {
		snprintf(ep, sizeof(ep), "/e%u", e);
		total += sm_metric_value(sm_metric_get(shared.api_requests, "GET", ep, "200"));
		total += sm_metric_value(sm_metric_get(shared.api_requests, "GET", ep, "201"));
		count += sm_metric_count(sm_metric_get(shared.api_duration, ep));
	}
	assert_true(total == (double)NTHREADS * ITERS);
	assert_true(count == (unsigned long long)NTHREADS * ITERS);
	assert_true(sm_metric_value(sm_metric_get(shared.cache_hits, "count")) ==
		    (double)NTHREADS * ITERS);
	sm_server_metrics_release(&shared);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_exact),
	    cmocka_unit_test(test_labels_and_histogram_with_labels),
	    cmocka_unit_test(test_bad_families),
	    cmocka_unit_test(test_collector_and_numbers),
	    cmocka_unit_test(test_server_metrics),
	};
	const struct CMUnitTest thread_tests[] = {
	    cmocka_unit_test(test_threads),
	};

	if (argc > 1 && strcmp(argv[1], "threads") == 0)
		return cmocka_run_group_tests(thread_tests, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
