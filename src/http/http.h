/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_HTTP_H
#define SKILLMEAT_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "http/metrics.h"
#include "http/rate_limit.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server_config.h"

/*
 * The HTTP server: libh2o (its own evloop), N loop threads, each with its
 * own SO_REUSEPORT listening socket on the same host:port, plus a few worker
 * threads for long jobs. Requests go through dispatch.h (CORS, rate limit,
 * auth, routing, body cap, metrics) to the handlers registered on the router.
 *
 * Lifecycle:
 *
 *	sm_http_server_new(&cfg, &srv, err);        cfg must outlive srv
 *	sm_router_add(sm_http_server_router(srv), "GET", "/api/v1/x", fn, data, 0, err);
 *	sm_http_server_start(srv, err);             listening once it returns
 *	printf("%s\n", sm_http_server_url(srv));
 *	... SIGINT/SIGTERM -> sm_http_server_request_stop(srv) (async-signal-safe)
 *	sm_http_server_wait(srv);                   drains and joins
 *	sm_http_server_free(srv);
 *
 * /health, /api/v1/health and /metrics are registered by sm_http_server_new.
 * Block SIGINT/SIGTERM (pthread_sigmask) before sm_http_server_start so the
 * loop threads inherit the mask and the caller's thread gets the signal
 * (sigwait or a handler calling sm_http_server_request_stop). SIGPIPE is
 * ignored process-wide by start.
 *
 * HTTP/1.1 only (h2c upgrade is off). HEAD is served by GET routes without a
 * body. libh2o 2.2 reads a whole request body before the handler runs; up to
 * cfg->max_body the handler sees it, up to twice that dispatch answers the
 * JSON 413, beyond that h2o itself answers a plain-text 413 and closes.
 */

struct sm_http_server;

/*
 * Called on each loop thread before it serves (index 0..threads-1); the value
 * stored in *ret is req->thread_data for requests on that thread (e.g. its
 * own SQLite connection). A negative return fails sm_http_server_start.
 */
typedef int (*sm_http_thread_init_fn)(unsigned index, void *app, void **ret);
/* Called on the loop thread after it stopped serving. */
typedef void (*sm_http_thread_fini_fn)(unsigned index, void *app, void *thread_data);

/*
 * Runs on the loop thread before each routed, authorised request's handler
 * (req->thread_data is set): the place for per-request checks such as
 * PRAGMA data_version. A negative errno answers the request with that error,
 * unless the hook set a response itself (req->res.status).
 */
typedef int (*sm_http_before_fn)(struct sm_http_req *req, void *app);

/*
 * Runs on the loop thread when a request's answer is about to be sent (after
 * its handler, or after the done of its last job). Returning true keeps the
 * answer back: the hook handed the request on (sm_http_defer, sm_http_redo)
 * and it is sent, or answered anew, once that job is done. E.g. damage the
 * loop thread must not repair itself is repaired on a worker, and the
 * request answered again from the repaired state.
 */
typedef bool (*sm_http_answered_fn)(struct sm_http_req *req, void *app);

struct sm_http_hooks {
	sm_http_thread_init_fn thread_init;
	sm_http_thread_fini_fn thread_fini;
	sm_http_before_fn before;
	sm_http_answered_fn answered;
	void *app;
};

int sm_http_server_new(const struct sm_server_config *cfg, struct sm_http_server **ret,
		       struct strbuf *err);
void sm_http_server_free(struct sm_http_server *srv);

void sm_http_server_set_hooks(struct sm_http_server *srv, const struct sm_http_hooks *hooks);
/* Register routes here before start; the router is not changed afterwards. */
struct sm_router *sm_http_server_router(struct sm_http_server *srv);
struct sm_server_metrics *sm_http_server_metrics(struct sm_http_server *srv);
struct sm_rate_limit *sm_http_server_rate_limit(struct sm_http_server *srv);

/*
 * Bind every loop's socket (the first to the configured port, the others to
 * the port it got, so port 0 works), start the workers and the loops, and
 * return once every loop runs. -EADDRINUSE, -EACCES, -EINVAL (bad host), ...
 * with a one-line message in err; nothing is left running on failure.
 */
int sm_http_server_start(struct sm_http_server *srv, struct strbuf *err);
/* The bound port (after start). */
unsigned sm_http_server_port(const struct sm_http_server *srv);
/* "http://HOST:PORT" with the configured host ([...] around IPv6 literals). */
const char *sm_http_server_url(const struct sm_http_server *srv);
/* Number of loop threads (after start). */
unsigned sm_http_server_threads(const struct sm_http_server *srv);

/*
 * Ask the server to stop: every loop closes its listener, finishes the
 * requests in flight (up to cfg->drain_ms), closes idle connections and exits.
 * Async-signal-safe (an atomic store and write(2) to eventfds); idempotent.
 */
void sm_http_server_request_stop(struct sm_http_server *srv);
/* Wait for the loops and workers to finish. 0, or -ETIMEDOUT when a loop had
 * to give up draining. */
int sm_http_server_wait(struct sm_http_server *srv);

/*
 * Long work: run work(arg) on a worker thread, then done(req, arg) back on
 * the request's loop thread, where done sets the response (the response helpers
 * of request.h) and it is sent. The handler returns SM_HTTP_DEFERRED right
 * after a successful call. If the client went away meanwhile, done gets
 * req == NULL and only frees arg. work must not touch req; done must not
 * block (it may call sm_http_defer again to chain another job). -ENOMEM (the handler then answers
 * itself), -ESHUTDOWN while stopping, -EINVAL for a request not served by an sm_http_server.
 */
typedef void (*sm_http_work_fn)(void *arg);
typedef void (*sm_http_done_fn)(struct sm_http_req *req, void *arg);
int sm_http_defer(struct sm_http_req *req, sm_http_work_fn work, sm_http_done_fn done, void *arg);

/*
 * Answer req anew after work: its response is dropped, work(arg) runs on a
 * worker, then done(req, arg) on the loop thread, then the before hook and
 * the handler of its route run again as if it had just arrived (routing,
 * rate limit and auth are not repeated). Once per request: -EALREADY for a
 * request answered anew already; otherwise as sm_http_defer. The caller (a
 * hook or handler) then returns SM_HTTP_DEFERRED, or true (answered hook).
 */
int sm_http_redo(struct sm_http_req *req, sm_http_work_fn work, sm_http_done_fn done, void *arg);

#endif
