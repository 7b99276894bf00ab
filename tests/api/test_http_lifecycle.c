/* SPDX-License-Identifier: MIT */
/*
 * sm_http_server lifecycle in one process, for the sanitizer builds: free
 * without start, start/stop cycles, a stop requested before start, a stop
 * from another thread while clients connect, and a raw HTTP exchange;
 * answering a request anew after a worker's job (sm_http_redo from the
 * answered hook).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/http.h"

static struct sm_server_config cfg;

static int setup(void **state)
{
	(void)state;
	if (sm_server_config_init(&cfg) < 0)
		return -1;
	cfg.port = 0;
	cfg.threads = 3;
	cfg.drain_ms = 5000;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sm_server_config_release(&cfg);
	return 0;
}

/* One request over a fresh connection; returns the status or -1. */
static int get(unsigned port, const char *path, char *body, size_t size)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256], buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd, status = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return -1;
	}
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	if (body) {
		const char *b = strstr(buf, "\r\n\r\n");

		snprintf(body, size, "%s", b ? b + 4 : "");
	}
	return status;
}

static void test_free_without_start(void **state)
{
	struct sm_http_server *srv = NULL;

	(void)state;
	assert_int_equal(sm_http_server_new(&cfg, &srv, NULL), 0);
	sm_http_server_request_stop(srv);
	assert_int_equal(sm_http_server_wait(srv), 0);
	sm_http_server_free(srv);
	sm_http_server_free(NULL);
}

static void test_cycles(void **state)
{
	char body[512];

	(void)state;
	for (int i = 0; i < 10; i++) {
		struct sm_http_server *srv = NULL;
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(sm_http_server_new(&cfg, &srv, &err), 0);
		assert_int_equal(sm_http_server_start(srv, &err), 0);
		assert_int_equal(sm_http_server_threads(srv), 3);
		assert_true(sm_http_server_port(srv) > 0);
		if (i % 2 == 0) {
			assert_int_equal(
			    get(sm_http_server_port(srv), "/health", body, sizeof(body)), 200);
			assert_non_null(strstr(body, "\"status\":\"ok\""));
			assert_int_equal(get(sm_http_server_port(srv), "/nope", body, sizeof(body)),
					 404);
			assert_string_equal(body, "{\"detail\":\"Not Found\"}");
		}
		sm_http_server_request_stop(srv);
		sm_http_server_request_stop(srv);
		assert_int_equal(sm_http_server_wait(srv), 0);
		assert_int_equal(sm_http_server_wait(srv), 0);
		sm_http_server_free(srv);
		sm_strbuf_release(&err);
	}
}

static void test_stop_before_start(void **state)
{
	struct sm_http_server *srv = NULL;

	(void)state;
	assert_int_equal(sm_http_server_new(&cfg, &srv, NULL), 0);
	sm_http_server_request_stop(srv);
	assert_int_equal(sm_http_server_start(srv, NULL), 0);
	assert_int_equal(sm_http_server_wait(srv), 0);
	sm_http_server_free(srv);
}

struct client_arg {
	unsigned port;
	volatile int stop;
	int ok;
};

static void *client(void *p)
{
	struct client_arg *a = p;

	while (!__atomic_load_n(&a->stop, __ATOMIC_RELAXED)) {
		if (get(a->port, "/metrics", NULL, 0) == 200)
			__atomic_add_fetch(&a->ok, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* free without an explicit stop (free stops and drains) while clients run */
static void test_free_under_load(void **state)
{
	struct sm_http_server *srv = NULL;
	struct client_arg a = {0};
	pthread_t t[4];

	(void)state;
	cfg.rate.enabled = false;
	assert_int_equal(sm_http_server_new(&cfg, &srv, NULL), 0);
	assert_int_equal(sm_http_server_start(srv, NULL), 0);
	a.port = sm_http_server_port(srv);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, client, &a), 0);
	while (__atomic_load_n(&a.ok, __ATOMIC_RELAXED) < 50)
		usleep(1000);
	sm_http_server_free(srv);
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(a.ok >= 50);
	cfg.rate.enabled = true;
}

/* ---- sm_http_redo: an answer dropped, a worker's job, the handler again ---- */

static int runs, works, last_redo = 1;

static int redo_handler(struct sm_http_req *req, void *data)
{
	int n = __atomic_add_fetch(&runs, 1, __ATOMIC_SEQ_CST);
	char body[32];

	(void)data;
	snprintf(body, sizeof(body), "run %d", n);
	(void)sm_http_set_header(req, "X-Run", body);
	/* the first run, and every run of /always, meets damage a worker repairs */
	return sm_http_text(req, n == 1 || strstr(req->path, "always") ? 500 : 200, "text/plain",
			    body, strlen(body));
}

static void redo_work(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&works, 1, __ATOMIC_SEQ_CST);
}

static void redo_done(struct sm_http_req *req, void *arg)
{
	(void)req;
	(void)arg;
}

static bool redo_answered(struct sm_http_req *req, void *app)
{
	(void)app;
	if (req->res.status != 500)
		return false;
	last_redo = sm_http_redo(req, redo_work, redo_done, NULL);
	return last_redo == 0;
}

/* Raw response of GET path over a fresh connection. */
static int get_raw(unsigned port, const char *path, char *out, size_t size)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
		 path);
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return -1;
	}
	while (got < size - 1 && (n = read(fd, out + got, size - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	return 0;
}

static void test_redo(void **state)
{
	struct sm_http_server *srv = NULL;
	struct sm_http_hooks hooks = {.answered = redo_answered};
	char res[4096];

	(void)state;
	assert_int_equal(sm_http_server_new(&cfg, &srv, NULL), 0);
	assert_int_equal(sm_router_add(sm_http_server_router(srv), "GET", "/redo", redo_handler,
				       NULL, 0, NULL), 0);
	assert_int_equal(sm_router_add(sm_http_server_router(srv), "GET", "/always", redo_handler,
				       NULL, 0, NULL), 0);
	sm_http_server_set_hooks(srv, &hooks);
	assert_int_equal(sm_http_server_start(srv, NULL), 0);
	/* the first answer (500, X-Run: run 1) dropped; the job ran, then the handler again */
	assert_int_equal(get_raw(sm_http_server_port(srv), "/redo", res, sizeof(res)), 0);
	assert_int_equal(strncmp(res, "HTTP/1.1 200", 12), 0);
	assert_non_null(strstr(res, "\r\n\r\nrun 2"));
	assert_non_null(strstr(res, "x-run: run 2"));
	assert_null(strstr(res, "run 1"));
	assert_int_equal(__atomic_load_n(&works, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(last_redo, 0);
	/* answered anew once per request: the second 500 is sent */
	assert_int_equal(get_raw(sm_http_server_port(srv), "/always", res, sizeof(res)), 0);
	assert_int_equal(strncmp(res, "HTTP/1.1 500", 12), 0);
	assert_non_null(strstr(res, "\r\n\r\nrun 4"));
	assert_int_equal(__atomic_load_n(&runs, __ATOMIC_SEQ_CST), 4);
	assert_int_equal(__atomic_load_n(&works, __ATOMIC_SEQ_CST), 2);
	assert_int_equal(last_redo, -EALREADY);
	sm_http_server_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_free_without_start),
	    cmocka_unit_test(test_cycles),
	    cmocka_unit_test(test_stop_before_start),
	    cmocka_unit_test(test_free_under_load),
	    cmocka_unit_test(test_redo),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
