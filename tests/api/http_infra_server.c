/* SPDX-License-Identifier: MIT */
/*
 * A tiny server for the HTTP infrastructure tests: the real sm_http_server
 * with a few demo routes. Prints its URL on stdout once it accepts and
 * stops gracefully on SIGINT/SIGTERM (exit 0).
 *
 * usage: http-infra-server [--host H] [--port P] [--threads N] [--token T]
 *        [--max-body N] [--burst N] [--window S] [--block S]
 *        [--refresh-burst N] [--refresh-refill S] [--no-rate-limit]
 *        [--cors a,b] [--trust-proxy]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skillmeat/memory.h"
#include "http/auth.h"
#include "http/http.h"

#include "util/banned.h"

static int echo(struct sm_http_req *req, void *data)
{
	json_t *xs = json_array();
	const char *v;
	size_t pos = 0;

	(void)data;
	while ((v = sm_http_query_next(req, "x", &pos)))
		json_array_append_new(xs, json_string(v));
	return sm_http_json(req, 200,
			    json_pack("{s:s, s:s, s:s, s:o, s:s?, s:s}", "method", req->method,
				      "path", req->path, "client_ip", req->client_ip, "x", xs,
				      "user_agent", sm_http_header(req, "user-agent"), "endpoint",
				      req->endpoint));
}

static int json_echo(struct sm_http_req *req, void *data)
{
	json_t *body;

	(void)data;
	if (sm_http_json_body(req, &body) < 0)
		return SM_HTTP_DONE;
	return sm_http_json(req, 201, json_pack("{s:o}", "got", body));
}

static int item(struct sm_http_req *req, void *data)
{
	const char *id = sm_http_param(req, "id");
	char tag[300];

	(void)data;
	snprintf(tag, sizeof(tag), "rev-%zu", strlen(id));
	if (sm_http_etag(req, tag))
		return SM_HTTP_DONE;
	return sm_http_json(req, 200, json_pack("{s:s}", "id", id));
}

static int item_delete(struct sm_http_req *req, void *data)
{
	(void)data;
	(void)req;
	sm_http_no_content(req);
	return SM_HTTP_DONE;
}

static int uc_get(struct sm_http_req *req, void *data)
{
	(void)data;
	return sm_http_json(req, 200, json_pack("{s:s}", "id", sm_http_param(req, "id")));
}

static int uc_stats(struct sm_http_req *req, void *data)
{
	(void)data;
	return sm_http_json(req, 200, json_pack("{s:b}", "cache_stats", 1));
}

static int uc_refresh(struct sm_http_req *req, void *data)
{
	(void)data;
	return sm_http_json(req, 200, json_pack("{s:b}", "success", 1));
}

static int not_found(struct sm_http_req *req, void *data)
{
	(void)data;
	(void)req;
	return -ENOENT;
}

struct slow_job {
	long ms;
	long slept;
	long chain; /* jobs still to run after this one */
};

static void slow_work(void *arg)
{
	struct slow_job *j = arg;
	struct timespec ts = {j->ms / 1000, (j->ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
	j->slept += j->ms;
}

static void slow_done(struct sm_http_req *req, void *arg)
{
	struct slow_job *j = arg;

	if (req && j->chain > 0) {
		j->chain--;
		if (sm_http_defer(req, slow_work, slow_done, j) == 0)
			return;
	}
	if (req)
		(void)sm_http_json(req, 200, json_pack("{s:I}", "slept_ms", (json_int_t)j->slept));
	sm_free(j);
}

static int slow(struct sm_http_req *req, void *data)
{
	const char *ms = sm_http_query(req, "ms");
	struct slow_job *j = sm_calloc(1, sizeof(*j));
	int r;

	(void)data;
	if (!j)
		return -ENOMEM;
	j->ms = ms ? strtol(ms, NULL, 10) : 100;
	j->chain = sm_http_query(req, "chain") ? strtol(sm_http_query(req, "chain"), NULL, 10) : 0;
	r = sm_http_defer(req, slow_work, slow_done, j);
	if (r < 0) {
		sm_free(j);
		return r;
	}
	/* ?mark=PATH: tell the test the job is running */
	if (sm_http_query(req, "mark")) {
		int fd = open(sm_http_query(req, "mark"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
	}
	return SM_HTTP_DEFERRED;
}

static bool fail_init; /* --fail-init: the last loop's init hook fails */
static unsigned n_threads;

static int thread_init(unsigned index, void *app, void **ret)
{
	(void)app;
	if (fail_init && index + 1 == n_threads)
		return -EIO;
	*ret = (void *)(uintptr_t)(index + 1);
	return 0;
}

/* the before hook: a request with "X-Refuse: 1" is refused with 409 */
static int before(struct sm_http_req *req, void *app)
{
	const char *v = sm_http_header(req, "x-refuse");

	(void)app;
	if (!req->thread_data)
		return -EIO;
	return v && strcmp(v, "1") == 0 ? -EEXIST : 0;
}

static int whoami(struct sm_http_req *req, void *data)
{
	(void)data;
	return sm_http_json(req, 200,
			    json_pack("{s:i, s:i}", "thread", (int)req->thread_index, "data",
				      (int)(uintptr_t)req->thread_data));
}

static const struct {
	const char *method, *pattern;
	sm_http_handler_fn fn;
	unsigned flags;
} routes[] = {
    {"GET", "/api/v1/echo", echo, 0},
    {"POST", "/api/v1/json", json_echo, 0},
    {"GET", "/api/v1/items/{id}", item, 0},
    {"DELETE", "/api/v1/items/{id}", item_delete, 0},
    {"GET", "/api/v1/user-collections/{id}", uc_get, 0},
    {"GET", "/api/v1/user-collections/cache-stats", uc_stats, 0},
    {"POST", "/api/v1/user-collections/refresh-cache", uc_refresh, SM_ROUTE_REFRESH},
    {"GET", "/api/v1/missing", not_found, 0},
    {"GET", "/api/v1/slow", slow, 0},
    {"GET", "/api/v1/whoami", whoami, 0},
};

static int num(const char *s, double *ret)
{
	char *end;

	errno = 0;
	*ret = strtod(s, &end);
	return errno || end == s || *end ? -EINVAL : 0;
}

static int parse_args(int argc, char **argv, struct sm_server_config *cfg)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d = 0;
		int r = 0;

		if (strcmp(a, "--no-rate-limit") == 0) {
			cfg->rate.enabled = false;
			continue;
		}
		if (strcmp(a, "--trust-proxy") == 0) {
			cfg->trust_proxy = true;
			continue;
		}
		if (strcmp(a, "--fail-init") == 0) {
			fail_init = true;
			continue;
		}
		if (!v)
			return -EINVAL;
		i++;
		if (strcmp(a, "--host") == 0)
			r = sm_server_config_set_host(cfg, v);
		else if (strcmp(a, "--token") == 0)
			r = sm_server_config_set_token(cfg, v);
		else if (strcmp(a, "--cors") == 0)
			r = sm_server_config_set_cors(cfg, v);
		else if ((r = num(v, &d)) < 0)
			return r;
		else if (strcmp(a, "--port") == 0)
			cfg->port = (unsigned)d;
		else if (strcmp(a, "--threads") == 0)
			cfg->threads = (unsigned)d;
		else if (strcmp(a, "--max-body") == 0)
			cfg->max_body = (size_t)d;
		else if (strcmp(a, "--burst") == 0)
			cfg->rate.burst_threshold = (unsigned)d;
		else if (strcmp(a, "--window") == 0)
			cfg->rate.window_sec = d;
		else if (strcmp(a, "--block") == 0)
			cfg->rate.block_sec = d;
		else if (strcmp(a, "--refresh-burst") == 0)
			cfg->rate.refresh_burst = (unsigned)d;
		else if (strcmp(a, "--refresh-refill") == 0)
			cfg->rate.refresh_refill_sec = d;
		else if (strcmp(a, "--drain-ms") == 0)
			cfg->drain_ms = (unsigned)d;
		else
			return -EINVAL;
		if (r < 0)
			return r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sm_server_config cfg;
	struct sm_http_server *srv = NULL;
	struct strbuf err = STRBUF_INIT;
	struct sm_http_hooks hooks = {.thread_init = thread_init, .before = before};
	sigset_t set;
	int sig, r, rc = 1;

	if (sm_server_config_init(&cfg) < 0)
		return 1;
	if (parse_args(argc, argv, &cfg) < 0) {
		fprintf(stderr, "usage: http-infra-server [options]\n");
		sm_server_config_release(&cfg);
		return 2;
	}
	if (!sm_auth_host_is_loopback(cfg.host) && !cfg.token) {
		fprintf(stderr, "error: binding '%s' needs SKILLMEAT_API_TOKEN\n", cfg.host);
		sm_server_config_release(&cfg);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	r = sm_http_server_new(&cfg, &srv, &err);
	for (size_t i = 0; r >= 0 && i < SM_ARRAY_SIZE(routes); i++)
		r = sm_router_add(sm_http_server_router(srv), routes[i].method, routes[i].pattern,
				  routes[i].fn, NULL, routes[i].flags, &err);
	n_threads = cfg.threads;
	if (r >= 0) {
		sm_http_server_set_hooks(srv, &hooks);
		r = sm_http_server_start(srv, &err);
	}
	if (r < 0) {
		fprintf(stderr, "error: %s\n", err.buf);
		goto out;
	}
	printf("%s\n", sm_http_server_url(srv));
	fflush(stdout);
	sigwait(&set, &sig);
	sm_http_server_request_stop(srv);
	r = sm_http_server_wait(srv);
	if (r < 0)
		fprintf(stderr, "error: stopped without draining: %s\n", strerror(-r));
	else
		rc = 0;
out:
	sm_http_server_free(srv);
	sm_strbuf_release(&err);
	sm_server_config_release(&cfg);
	return rc;
}
