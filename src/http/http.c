/* SPDX-License-Identifier: MIT */
/*
 * libh2o glue: listeners, loop threads, request conversion, response sending,
 * graceful stop, and the worker pool for deferred work.
 *
 * Ownership of one request: on_req allocates a struct exchange in the h2o
 * request's pool (h2o_mem_alloc_shared), so the pool's disposal (after the
 * response went out, or when the connection dies) releases it. Everything a
 * handler allocates lives in the exchange's arena, and the response body is
 * the exchange's strbuf, which h2o sends without a copy.
 *
 * Stopping: request_stop writes to each loop's eventfd. A loop then closes its
 * listener, asks h2o to shut down (no more keep-alive), half-closes every idle
 * connection (shutdown(SHUT_RD): h2o sees EOF and closes it), and keeps running
 * until no request, job or connection is left, or drain_ms passes.
 */
#define H2O_USE_LIBUV 0
#include <h2o.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "skillmeat/error.h"
#include "skillmeat/log.h"
#include "skillmeat/lsan.h"
#include "skillmeat/memory.h"
#include "skillmeat/timeutil.h"
#include "http/dispatch.h"
#include "http/health.h"
#include "http/http.h"
#include "skillmeat/loop_guard.h"

#include "util/banned.h"

static void json_error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot);

#define ACCEPT_BATCH 16

/* test programs that link the server directly get them from here */
SM_LSAN_DEFAULTS

struct loop_thread;

/* One accepted connection (loop-thread only). */
struct conn {
	struct conn *prev, *next;
	struct loop_thread *t;
	h2o_socket_t *sock;
	unsigned busy; /* requests of it not yet disposed */
	bool shut;
};

struct job {
	h2o_multithread_message_t msg; /* first: the receiver gets it back */
	struct job *next;	       /* worker queue */
	struct loop_thread *t;
	struct exchange *ex; /* NULL once the request is gone (loop thread only) */
	sm_http_work_fn work;
	sm_http_done_fn done;
	void *arg;
	bool redo; /* sm_http_redo: the request's handler runs again after done */
};

struct exchange {
	struct sm_http_req req; /* first: sm_http_defer finds the exchange from it */
	uint32_t magic;
	h2o_req_t *h2o;
	struct loop_thread *t;
	struct conn *conn;
	struct job *job;
	int64_t start_ns;
	bool redone; /* sm_http_redo was called for it */
};

#define EXCHANGE_MAGIC 0x736d6578u

struct loop_thread {
	struct sm_http_server *srv;
	unsigned index;
	pthread_t tid;
	bool started;
	int listen_fd;
	int wake_fd;
	h2o_evloop_t *loop;
	h2o_context_t ctx;
	bool ctx_ready;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	h2o_socket_t *waker;
	h2o_multithread_receiver_t job_receiver;
	struct conn conns; /* list head */
	size_t n_conns;
	size_t inflight;
	size_t pending_jobs;
	bool stopping;
	bool drained;
	void *thread_data;
	int init_error;
};

struct sm_http_server {
	const struct sm_server_config *cfg;
	struct sm_http_hooks hooks;
	h2o_globalconf_t gconf;
	h2o_handler_t *handler;
	struct sm_router *router;
	struct sm_rate_limit *rate_limit;
	struct sm_server_metrics metrics;
	struct sm_health health;
	struct sm_dispatch dispatch;
	struct loop_thread *threads;
	unsigned n_threads;
	unsigned port;
	char url[300];
	atomic_int stop;
	atomic_bool running;
	/* startup handshake */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n_ready;
	/* workers */
	pthread_t *workers;
	unsigned n_workers;
	struct job *queue_head, **queue_tail;
	bool workers_stop;
	pthread_cond_t work_cond;
	bool waited;
};

struct handler_ext {
	h2o_handler_t super;
	struct sm_http_server *srv;
};

/* ---------------------------------------------------------------- responses */

static void send_response(struct exchange *ex)
{
	h2o_req_t *h = ex->h2o;
	struct sm_http_req *req = &ex->req;
	static h2o_generator_t generator = {NULL, NULL};
	h2o_iovec_t body = {NULL, 0};
	int status = req->res.status;

	h->res.status = status;
	h->res.reason = sm_http_reason(status);
	for (size_t i = 0; i < req->res.n_headers; i++) {
		const struct sm_http_header *hd = &req->res.headers[i];
		h2o_iovec_t name = h2o_strdup(&h->pool, hd->name, hd->name_len);

		h2o_strtolower(name.base, name.len);
		h2o_add_header_by_str(&h->pool, &h->res.headers, name.base, name.len, 1, NULL,
				      hd->value, hd->value_len);
	}
	if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
		h->res.content_length = SIZE_MAX; /* no body, no length */
	} else {
		if (req->res.static_body) {
			body.base = (char *)req->res.static_body;
			body.len = req->res.static_len;
		} else {
			body.base = req->res.body.buf;
			body.len = req->res.body.len;
		}
		if (req->res.content_type)
			h2o_add_header(&h->pool, &h->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
				       req->res.content_type, strlen(req->res.content_type));
		h->res.content_length = body.len;
		/* HEAD: the headers of the GET, no body (h2o does not strip it itself) */
		if (h2o_memis(h->input.method.base, h->input.method.len, H2O_STRLIT("HEAD")))
			body.len = 0;
	}
	h2o_start_response(h, &generator);
	h2o_send(h, body.len ? &body : NULL, body.len ? 1 : 0, H2O_SEND_STATE_FINAL);
}

static void finish(struct exchange *ex)
{
	struct sm_http_server *srv = ex->t->srv;
	double secs;

	if (srv->hooks.answered && srv->hooks.answered(&ex->req, srv->hooks.app))
		return; /* handed on: sent, or answered anew, after its job */
	secs = (double)(sm_time_mono_ns() - ex->start_ns) / 1e9;
	sm_dispatch_finish(&ex->t->srv->dispatch, &ex->req, secs);
	send_response(ex);
}

/* ------------------------------------------------------------- connections */

static void conn_shut(struct conn *c)
{
	if (c->shut)
		return;
	c->shut = true;
	shutdown(h2o_socket_get_fd(c->sock), SHUT_RD);
}

static void shut_idle_conns(struct loop_thread *t)
{
	for (struct conn *c = t->conns.next; c != &t->conns; c = c->next)
		if (c->busy == 0)
			conn_shut(c);
}

static void on_conn_close(void *data)
{
	struct conn *c = data;

	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->t->n_conns--;
	sm_free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
	struct loop_thread *t = listener->data;

	if (err)
		return;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
		struct conn *c;

		if (!sock)
			return;
		c = sm_calloc(1, sizeof(*c));
		if (!c) {
			h2o_socket_close(sock);
			continue;
		}
		c->t = t;
		c->sock = sock;
		c->next = &t->conns;
		c->prev = t->conns.prev;
		t->conns.prev->next = c;
		t->conns.prev = c;
		t->n_conns++;
		sock->on_close.cb = on_conn_close;
		sock->on_close.data = c;
		h2o_accept(&t->accept_ctx, sock);
	}
}

/* ---------------------------------------------------------------- requests */

static void exchange_dispose(void *p)
{
	struct exchange *ex = p;
	struct loop_thread *t = ex->t;

	if (ex->job)
		ex->job->ex = NULL;
	sm_http_req_release(&ex->req);
	ex->magic = 0;
	t->inflight--;
	if (ex->conn) {
		ex->conn->busy--;
		if (t->stopping && ex->conn->busy == 0)
			conn_shut(ex->conn);
	}
}

static void client_ip(struct exchange *ex)
{
	struct sm_http_req *req = &ex->req;
	struct sockaddr_storage ss;
	socklen_t len;
	const char *xff;

	if (ex->t->srv->cfg->trust_proxy && (xff = sm_http_header(req, "x-forwarded-for"))) {
		size_t n;

		while (*xff == ' ' || *xff == '\t')
			xff++;
		n = strcspn(xff, ", \t");
		if (n > 0 && n < sizeof(req->client_ip)) {
			memcpy(req->client_ip, xff, n);
			req->client_ip[n] = '\0';
			return;
		}
	}
	len = ex->h2o->conn->callbacks->get_peername(ex->h2o->conn, (struct sockaddr *)&ss);
	if (len == 0)
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, req->client_ip,
			  sizeof(req->client_ip));
	} else if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, &a6->s6_addr[12], req->client_ip,
				  sizeof(req->client_ip));
		else
			inet_ntop(AF_INET6, a6, req->client_ip, sizeof(req->client_ip));
	}
}

static int fill_request(struct exchange *ex)
{
	h2o_req_t *h = ex->h2o;
	struct sm_http_req *req = &ex->req;
	size_t plen = h->input.path.len, qat = h->input.query_at;
	struct sm_http_header *hs;

	req->method = sm_http_strndup(req, h->input.method.base, h->input.method.len);
	if (qat != SIZE_MAX && qat < plen) {
		req->path = sm_http_strndup(req, h->input.path.base, qat);
		req->path_len = qat;
		req->query = sm_http_strndup(req, h->input.path.base + qat + 1, plen - qat - 1);
		req->query_len = plen - qat - 1;
	} else {
		req->path = sm_http_strndup(req, h->input.path.base, plen);
		req->path_len = plen;
	}
	hs = sm_http_alloc(req, (h->headers.size ? h->headers.size : 1) * sizeof(*hs));
	if (!req->method || !req->path || !req->query || !hs) {
		/* keep the exchange answerable (the error response and metrics read these) */
		req->method = "OTHER";
		req->path = "/";
		req->path_len = 1;
		req->query = "";
		req->query_len = 0;
		return -ENOMEM;
	}
	for (size_t i = 0; i < h->headers.size; i++) {
		const h2o_header_t *src = &h->headers.entries[i];

		hs[i].name = sm_http_strndup(req, src->name->base, src->name->len);
		hs[i].name_len = src->name->len;
		hs[i].value = sm_http_strndup(req, src->value.base, src->value.len);
		hs[i].value_len = src->value.len;
		if (!hs[i].name || !hs[i].value)
			return -ENOMEM;
	}
	req->headers = hs;
	req->n_headers = h->headers.size;
	/* h2o keeps Host apart from the other headers */
	if (h->input.authority.base) {
		struct sm_http_header *all =
		    sm_http_alloc(req, (req->n_headers + 1) * sizeof(*all));

		if (!all)
			return -ENOMEM;
		memcpy(all, hs, req->n_headers * sizeof(*all));
		all[req->n_headers].name = "host";
		all[req->n_headers].name_len = 4;
		all[req->n_headers].value =
		    sm_http_strndup(req, h->input.authority.base, h->input.authority.len);
		all[req->n_headers].value_len = h->input.authority.len;
		if (!all[req->n_headers].value)
			return -ENOMEM;
		req->headers = all;
		req->n_headers++;
	}
	if (h->entity.base) {
		req->body = h->entity.base;
		req->body_len = h->entity.len;
	}
	req->max_body = ex->t->srv->cfg->max_body;
	client_ip(ex);
	return 0;
}

static struct loop_thread *thread_of(h2o_context_t *ctx)
{
	return H2O_STRUCT_FROM_MEMBER(struct loop_thread, ctx, ctx);
}

static int on_req(h2o_handler_t *self, h2o_req_t *h)
{
	struct sm_http_server *srv = ((struct handler_ext *)self)->srv;
	struct loop_thread *t = thread_of(h->conn->ctx);
	struct exchange *ex;
	h2o_socket_t *sock;

	ex = h2o_mem_alloc_shared(&h->pool, sizeof(*ex), exchange_dispose);
	memset(ex, 0, sizeof(*ex));
	sm_http_req_init(&ex->req);
	ex->magic = EXCHANGE_MAGIC;
	ex->h2o = h;
	ex->t = t;
	ex->start_ns = sm_time_mono_ns();
	ex->req.thread_index = t->index;
	ex->req.thread_data = t->thread_data;
	t->inflight++;
	sock = h->conn->callbacks->get_socket ? h->conn->callbacks->get_socket(h->conn) : NULL;
	if (sock && sock->on_close.cb == on_conn_close) {
		ex->conn = sock->on_close.data;
		ex->conn->busy++;
	}
	if (fill_request(ex) < 0) {
		(void)sm_http_error(&ex->req, 500, "Internal server error");
		finish(ex);
		return 0;
	}
	if (sm_dispatch(&srv->dispatch, &ex->req) == SM_HTTP_DONE)
		finish(ex);
	return 0;
}

/* -------------------------------------------------------------- deferred work */

static void *worker_main(void *arg)
{
	struct sm_http_server *srv = arg;

	for (;;) {
		struct job *j;

		pthread_mutex_lock(&srv->lock);
		while (!srv->queue_head && !srv->workers_stop)
			pthread_cond_wait(&srv->work_cond, &srv->lock);
		j = srv->queue_head;
		if (j) {
			srv->queue_head = j->next;
			if (!srv->queue_head)
				srv->queue_tail = &srv->queue_head;
		}
		pthread_mutex_unlock(&srv->lock);
		if (!j)
			return NULL;
		j->work(j->arg);
		h2o_multithread_send_message(&j->t->job_receiver, &j->msg);
	}
}

static void on_jobs_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	(void)receiver;
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *msg =
		    H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		struct job *j = (struct job *)msg;
		struct exchange *ex = j->ex;

		h2o_linklist_unlink(&msg->link);
		j->t->pending_jobs--;
		if (ex) {
			ex->job = NULL;
			j->done(&ex->req, j->arg);
			/* unless done deferred it again; after sm_http_redo its handler runs again */
			if (!ex->job &&
			    (!j->redo || sm_dispatch_again(&j->t->srv->dispatch, &ex->req) == SM_HTTP_DONE))
				finish(ex);
		} else {
			j->done(NULL, j->arg);
		}
		sm_free(j);
	}
}

int sm_http_defer(struct sm_http_req *req, sm_http_work_fn work, sm_http_done_fn done, void *arg)
{
	struct exchange *ex = (struct exchange *)req;
	struct sm_http_server *srv;
	struct job *j;

	if (!req || ex->magic != EXCHANGE_MAGIC || ex->job || !work || !done)
		return -EINVAL;
	srv = ex->t->srv;
	if (ex->t->stopping || srv->n_workers == 0)
		return -ESHUTDOWN;
	j = sm_calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->t = ex->t;
	j->ex = ex;
	j->work = work;
	j->done = done;
	j->arg = arg;
	ex->job = j;
	req->deferred++;
	ex->t->pending_jobs++;
	pthread_mutex_lock(&srv->lock);
	*srv->queue_tail = j;
	srv->queue_tail = &j->next;
	pthread_cond_signal(&srv->work_cond);
	pthread_mutex_unlock(&srv->lock);
	return 0;
}

int sm_http_redo(struct sm_http_req *req, sm_http_work_fn work, sm_http_done_fn done, void *arg)
{
	struct exchange *ex = (struct exchange *)req;
	int r;

	if (!req || ex->magic != EXCHANGE_MAGIC)
		return -EINVAL;
	if (ex->redone)
		return -EALREADY;
	r = sm_http_defer(req, work, done, arg);
	if (r < 0)
		return r;
	ex->redone = true;
	ex->job->redo = true;
	sm_http_res_reset(req);
	return 0;
}

/* ---------------------------------------------------------------- loop threads */

static void begin_stop(struct loop_thread *t)
{
	if (t->stopping)
		return;
	t->stopping = true;
	if (t->listener) {
		h2o_socket_read_stop(t->listener);
		h2o_socket_close(t->listener);
		t->listener = NULL;
		t->listen_fd = -1;
	}
	/*
	 * What h2o_context_request_shutdown does for HTTP/1 (no keep-alive
	 * from now on), without its HTTP/2 GOAWAY timer, which would keep an
	 * entry on one_sec_timeout for a second (HTTP/2 is off here).
	 */
	t->ctx.shutdown_requested = 1;
	shut_idle_conns(t);
}

static void on_wake(h2o_socket_t *sock, const char *err)
{
	struct loop_thread *t = sock->data;
	uint64_t v;

	(void)err;
	while (read(h2o_socket_get_fd(sock), &v, sizeof(v)) > 0)
		;
	if (atomic_load(&t->srv->stop))
		begin_stop(t);
}

static int thread_setup(struct loop_thread *t)
{
	struct sm_http_server *srv = t->srv;
	int r = 0, fd;

	t->loop = h2o_evloop_create();
	if (!t->loop)
		return -ENOMEM;
	h2o_context_init(&t->ctx, t->loop, &srv->gconf);
	t->ctx_ready = true;
	t->accept_ctx.ctx = &t->ctx;
	t->accept_ctx.hosts = srv->gconf.hosts;
	t->conns.next = t->conns.prev = &t->conns;
	h2o_multithread_register_receiver(t->ctx.queue, &t->job_receiver, on_jobs_done);

	/* h2o owns (and closes) a duplicate; wake_fd stays valid for request_stop */
	fd = fcntl(t->wake_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	t->waker = h2o_evloop_socket_create(t->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
	t->waker->data = t;
	h2o_socket_read_start(t->waker, on_wake);

	t->listener = h2o_evloop_socket_create(t->loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
	t->listener->data = t;
	h2o_socket_read_start(t->listener, on_accept);

	if (srv->hooks.thread_init)
		r = srv->hooks.thread_init(t->index, srv->hooks.app, &t->thread_data);
	return r;
}

static void thread_teardown(struct loop_thread *t)
{
	struct sm_http_server *srv = t->srv;
	h2o_multithread_queue_t *queue;

	if (srv->hooks.thread_fini && t->init_error == 0)
		srv->hooks.thread_fini(t->index, srv->hooks.app, t->thread_data);
	if (!t->drained) {
		/* connections or jobs are still out there: leave h2o's state alone */
		sm_log_warn("server: loop %u stopped with %zu requests and %zu connections left",
			    t->index, t->inflight, t->n_conns);
		return;
	}
	if (t->listener) {
		h2o_socket_close(t->listener);
		t->listener = NULL;
	} else if (t->listen_fd >= 0) { /* setup failed before h2o took it */
		close(t->listen_fd);
	}
	t->listen_fd = -1;
	if (t->waker) {
		h2o_socket_read_stop(t->waker);
		h2o_socket_close(t->waker);
		t->waker = NULL;
	}
	h2o_multithread_unregister_receiver(t->ctx.queue, &t->job_receiver);
	h2o_evloop_run(t->loop, 0);
	queue = t->ctx.queue;
	h2o_context_dispose(&t->ctx);
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR == 2
	/* 2.2's evloop h2o_multithread_destroy_queue closes the queue but never frees it */
	free(queue);
#else
	(void)queue;
#endif
	t->ctx_ready = false;
	h2o_evloop_run(t->loop, 0);
	h2o_evloop_destroy(t->loop);
	t->loop = NULL;
}

/* h2o_context_dispose asserts that every timeout of the context is empty. */
static bool timeouts_empty(h2o_context_t *ctx)
{
	h2o_timeout_t *ts[] = {
	    &ctx->zero_timeout,
	    &ctx->one_sec_timeout,
	    &ctx->hundred_ms_timeout,
	    &ctx->handshake_timeout,
	    &ctx->http1.req_timeout,
	    &ctx->http2.idle_timeout,
	    &ctx->http2.graceful_shutdown_timeout,
	    &ctx->proxy.io_timeout,
	};

	for (size_t i = 0; i < SM_ARRAY_SIZE(ts); i++)
		if (!h2o_linklist_is_empty(&ts[i]->_entries))
			return false;
	return true;
}

static bool drained(struct loop_thread *t)
{
	return !t->inflight && !t->pending_jobs && !t->n_conns && timeouts_empty(&t->ctx);
}

static void *loop_main(void *arg)
{
	struct loop_thread *t = arg;
	struct sm_http_server *srv = t->srv;
	int64_t deadline;

	sm_loop_guard_set(true);
	t->init_error = thread_setup(t);
	pthread_mutex_lock(&srv->lock);
	srv->n_ready++;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);

	if (t->init_error == 0 && !atomic_load(&srv->stop)) {
		while (!t->stopping) {
			h2o_evloop_run(t->loop, INT32_MAX);
			if (atomic_load(&srv->stop))
				begin_stop(t);
		}
	}
	if (t->loop)
		begin_stop(t);
	deadline = sm_time_mono_ns() + (int64_t)srv->cfg->drain_ms * 1000000;
	while (t->loop && !drained(t) && sm_time_mono_ns() < deadline) {
		h2o_evloop_run(t->loop, 50);
		if (t->inflight == 0)
			shut_idle_conns(t);
	}
	t->drained = t->loop && drained(t);
	if (t->loop)
		thread_teardown(t);
	return NULL;
}

/* ---------------------------------------------------------------- listeners */

static int make_listener(const struct addrinfo *ai, unsigned port, struct strbuf *err)
{
	struct sockaddr_storage ss;
	int fd, one = 1;

	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sm_err(err, -errno, "cannot create a socket: %s", sm_strerror(-errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (ai->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
		int e = -errno;

		close(fd);
		return sm_err(err, e, "cannot set socket options: %s", sm_strerror(e));
	}
	if (bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = -errno;

		close(fd);
		return sm_err(err, e, "cannot listen on port %u: %s", port, sm_strerror(e));
	}
	return fd;
}

/*
 * Is the port free? Our listeners set SO_REUSEPORT, which would let a second
 * server of the same user share a port silently (another home's server, for
 * one): probe with a socket that does not set it first.
 */
static int probe_port(const struct addrinfo *ai, unsigned port, struct strbuf *err)
{
	struct sockaddr_storage ss;
	int fd, one = 1, r = 0;

	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sm_err(err, -errno, "cannot create a socket: %s", sm_strerror(-errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ai->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) < 0) {
		r = -errno;
		if (r == -EADDRINUSE)
			sm_err(err, r, "port %u is already in use", port);
		else
			sm_err(err, r, "cannot listen on port %u: %s", port, sm_strerror(r));
	}
	close(fd);
	return r;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int open_listeners(struct sm_http_server *srv, struct strbuf *err)
{
	const struct sm_server_config *cfg = srv->cfg;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	const struct addrinfo *ai;
	char host[256];
	const char *node;
	size_t hl = strlen(cfg->host);
	int r;

	/* accept "[::1]" as well as "::1" */
	if (hl >= 2 && hl < sizeof(host) && cfg->host[0] == '[' && cfg->host[hl - 1] == ']') {
		memcpy(host, cfg->host + 1, hl - 2);
		host[hl - 2] = '\0';
	} else if (hl < sizeof(host)) {
		memcpy(host, cfg->host, hl + 1);
	} else {
		return sm_err(err, -EINVAL, "bad host '%s'", cfg->host);
	}
	if (cfg->port > 65535)
		return sm_err(err, -EINVAL, "bad port %u", cfg->port);
	/*
	 * "localhost" is the loopback address without asking the resolver
	 * (RFC 6761 §6.3): a minimal Debian root has no /etc/hosts.
	 */
	node = host[0] ? host : NULL;
	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost.")) {
		node = "127.0.0.1";
		hints.ai_flags |= AI_NUMERICHOST;
	}
	r = getaddrinfo(node, NULL, &hints, &res);
	if (r != 0)
		return sm_err(err, -EINVAL, "cannot resolve host '%s': %s", cfg->host,
			      gai_strerror(r));
	/* "localhost" may list ::1 first; clients mostly try 127.0.0.1 */
	ai = res;
	for (const struct addrinfo *p = res; p; p = p->ai_next) {
		if (p->ai_family == AF_INET) {
			ai = p;
			break;
		}
	}
	srv->port = cfg->port;
	if (srv->port && (r = probe_port(ai, srv->port, err)) < 0) {
		freeaddrinfo(res);
		return r;
	}
	for (unsigned i = 0; i < srv->n_threads; i++) {
		r = make_listener(ai, srv->port, err);
		if (r < 0)
			break;
		srv->threads[i].listen_fd = r;
		if (i == 0) {
			r = bound_port(srv->threads[0].listen_fd);
			if (r < 0) {
				sm_err(err, r, "cannot read the bound port: %s", sm_strerror(r));
				break;
			}
			srv->port = (unsigned)r;
		}
		r = 0;
	}
	freeaddrinfo(res);
	if (r < 0)
		return r;
	if (!host[0])
		snprintf(srv->url, sizeof(srv->url), "http://0.0.0.0:%u", srv->port);
	else if (strchr(host, ':'))
		snprintf(srv->url, sizeof(srv->url), "http://[%s]:%u", host, srv->port);
	else
		snprintf(srv->url, sizeof(srv->url), "http://%s:%u", host, srv->port);
	return 0;
}

/* ---------------------------------------------------------------- lifecycle */

int sm_http_server_new(const struct sm_server_config *cfg, struct sm_http_server **ret,
		       struct strbuf *err)
{
	struct sm_http_server *srv;
	h2o_hostconf_t *hostconf;
	h2o_pathconf_t *pathconf;
	h2o_filter_t *jf;
	struct handler_ext *he;
	size_t entity_cap;
	int r;

	srv = sm_calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->cfg = cfg;
	srv->queue_tail = &srv->queue_head;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);
	pthread_cond_init(&srv->work_cond, NULL);
	srv->health.started_ns = sm_time_mono_ns();
	srv->health.version = SM_VERSION;

	r = sm_router_new(&srv->router);
	if (r >= 0)
		r = sm_server_metrics_init(&srv->metrics);
	if (r >= 0 && cfg->rate.enabled)
		r = sm_rate_limit_new(&cfg->rate, NULL, NULL, &srv->rate_limit);
	if (r < 0) {
		sm_http_server_free(srv);
		return sm_err(err, r, "cannot set up the server: %s", sm_strerror(r));
	}
	r = sm_health_register(srv->router, &srv->health, &srv->metrics, err);
	if (r < 0) {
		sm_http_server_free(srv);
		return r;
	}
	srv->dispatch.cfg = cfg;
	srv->dispatch.router = srv->router;
	srv->dispatch.rate_limit = srv->rate_limit;
	srv->dispatch.metrics = &srv->metrics;
	srv->dispatch.port = &srv->port;

	h2o_config_init(&srv->gconf);
	srv->gconf.server_name = h2o_iovec_init(H2O_STRLIT("skillmeat"));
	srv->gconf.http1.upgrade_to_http2 = 0;
	/*
	 * h2o reads the whole body before the handler runs and answers a body
	 * over its own limit itself (json_error_setup makes that answer JSON).
	 * Give it room above our cap so the usual oversized body gets dispatch's
	 * 413, through the metrics and the access log.
	 */
	entity_cap = cfg->max_body > SIZE_MAX / 4 ? SIZE_MAX / 2 : cfg->max_body * 2;
	if (entity_cap < cfg->max_body + 65536)
		entity_cap = cfg->max_body + 65536;
	srv->gconf.max_request_entity_size = entity_cap;
	hostconf =
	    h2o_config_register_host(&srv->gconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	if (!(jf = h2o_create_filter(&hostconf->fallback_path, sizeof(*jf)))) {
		sm_http_server_free(srv);
		return sm_err(err, -ENOMEM, "cannot set up the server: %s", sm_strerror(-ENOMEM));
	}
	jf->on_setup_ostream = json_error_setup;
	pathconf = h2o_config_register_path(hostconf, "/", 0);
	he = (struct handler_ext *)h2o_create_handler(pathconf, sizeof(*he));
	he->super.on_req = on_req;
	he->srv = srv;
	srv->handler = &he->super;
	*ret = srv;
	return 0;
}

/*
 * Errors h2o answers itself, before any handler (a body over
 * max_request_entity_size, announced by Content-Length or streamed), are
 * bound to the host's fallback path: this filter turns their plain-text body
 * into the JSON detail every other error has.
 */
struct json_error_ostream {
	h2o_ostream_t super;
	h2o_iovec_t body;
};

static void json_error_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
			    h2o_send_state_t state)
{
	struct json_error_ostream *o = (struct json_error_ostream *)self;
	h2o_iovec_t b = o->body;

	(void)bufs;
	/* the whole body at the first call (h2o_send_inline), nothing after it */
	if (bufcnt == 0 || h2o_memis(req->input.method.base, req->input.method.len,
				     H2O_STRLIT("HEAD")))
		b.len = 0;
	o->body.len = 0;
	h2o_ostream_send_next(self, req, &b, 1, state);
}

static void json_error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
	struct json_error_ostream *o;
	const char *body;

	(void)self;
	if (req->res.status < 400) {
		h2o_setup_next_ostream(req, slot);
		return;
	}
	switch (req->res.status) {
	case 413:
		body = "{\"detail\": \"request body too large\"}";
		break;
	case 400:
		body = "{\"detail\": \"Bad Request\"}";
		break;
	default:
		body = "{\"detail\": \"request refused\"}";
		break;
	}
	req->res.content_length = strlen(body);
	h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
		       H2O_STRLIT("application/json"), 1);
	o = (struct json_error_ostream *)h2o_add_ostream(req, sizeof(*o), slot);
	o->super.do_send = json_error_send;
	o->body = h2o_iovec_init(body, strlen(body));
	slot = &o->super.next;
	h2o_setup_next_ostream(req, slot);
}

void sm_http_server_set_hooks(struct sm_http_server *srv, const struct sm_http_hooks *hooks)
{
	srv->hooks = *hooks;
	srv->dispatch.before = hooks->before;
	srv->dispatch.app = hooks->app;
}

struct sm_router *sm_http_server_router(struct sm_http_server *srv)
{
	return srv->router;
}

struct sm_server_metrics *sm_http_server_metrics(struct sm_http_server *srv)
{
	return &srv->metrics;
}

struct sm_rate_limit *sm_http_server_rate_limit(struct sm_http_server *srv)
{
	return srv->rate_limit;
}

unsigned sm_http_server_port(const struct sm_http_server *srv)
{
	return srv->port;
}

const char *sm_http_server_url(const struct sm_http_server *srv)
{
	return srv->url;
}

unsigned sm_http_server_threads(const struct sm_http_server *srv)
{
	return srv->n_threads;
}

static void stop_workers(struct sm_http_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->workers_stop = true;
	pthread_cond_broadcast(&srv->work_cond);
	pthread_mutex_unlock(&srv->lock);
	for (unsigned i = 0; i < srv->n_workers; i++)
		pthread_join(srv->workers[i], NULL);
	srv->n_workers = 0;
}

static void close_fds(struct sm_http_server *srv)
{
	for (unsigned i = 0; srv->threads && i < srv->n_threads; i++) {
		struct loop_thread *t = &srv->threads[i];

		if (!t->started) {
			if (t->listen_fd >= 0)
				close(t->listen_fd);
			if (t->wake_fd >= 0)
				close(t->wake_fd);
			t->listen_fd = t->wake_fd = -1;
		}
	}
}

int sm_http_server_start(struct sm_http_server *srv, struct strbuf *err)
{
	const struct sm_server_config *cfg = srv->cfg;
	struct sigaction sa = {.sa_handler = SIG_IGN};
	unsigned n = cfg->threads;
	int r = 0;

	if (srv->threads)
		return sm_err(err, -EALREADY, "server already started");
	if (n == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		n = cores > 0 ? (unsigned)cores : 1;
	}
	if (n > 256)
		n = 256;
	srv->threads = sm_calloc(n, sizeof(*srv->threads));
	srv->workers = sm_calloc(cfg->workers ? cfg->workers : 1, sizeof(*srv->workers));
	if (!srv->threads || !srv->workers)
		return sm_err(err, -ENOMEM, "cannot start the server: out of memory");
	srv->n_threads = n;
	for (unsigned i = 0; i < n; i++) {
		srv->threads[i].srv = srv;
		srv->threads[i].index = i;
		srv->threads[i].listen_fd = -1;
		srv->threads[i].wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (srv->threads[i].wake_fd < 0) {
			r = sm_err(err, -errno, "cannot create an eventfd: %s",
				   sm_strerror(-errno));
			goto fail;
		}
	}
	r = open_listeners(srv, err);
	if (r < 0)
		goto fail;
	sigaction(SIGPIPE, &sa, NULL);

	for (unsigned i = 0; i < (cfg->workers ? cfg->workers : 1); i++) {
		r = -pthread_create(&srv->workers[i], NULL, worker_main, srv);
		if (r < 0) {
			sm_err(err, r, "cannot start a worker thread: %s", sm_strerror(r));
			goto fail;
		}
		srv->n_workers++;
	}
	for (unsigned i = 0; i < n; i++) {
		r = -pthread_create(&srv->threads[i].tid, NULL, loop_main, &srv->threads[i]);
		if (r < 0) {
			sm_err(err, r, "cannot start a loop thread: %s", sm_strerror(r));
			break;
		}
		srv->threads[i].started = true;
	}
	/* wait for every started loop to be ready (or to have failed) */
	pthread_mutex_lock(&srv->lock);
	for (;;) {
		unsigned started = 0;

		for (unsigned i = 0; i < n; i++)
			started += srv->threads[i].started;
		if (srv->n_ready == started)
			break;
		pthread_cond_wait(&srv->cond, &srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	for (unsigned i = 0; r >= 0 && i < n; i++) {
		if (srv->threads[i].init_error < 0) {
			r = sm_err(err, srv->threads[i].init_error,
				   "cannot start loop thread %u: %s", i,
				   sm_strerror(srv->threads[i].init_error));
		}
	}
	atomic_store(&srv->running, true);
	if (r < 0) {
		sm_http_server_request_stop(srv);
		(void)sm_http_server_wait(srv);
		return r;
	}
	return 0;
fail:
	stop_workers(srv);
	close_fds(srv);
	return r;
}

void sm_http_server_request_stop(struct sm_http_server *srv)
{
	uint64_t one = 1;

	if (!srv)
		return;
	atomic_store(&srv->stop, 1);
	if (!atomic_load(&srv->running))
		return;
	for (unsigned i = 0; i < srv->n_threads; i++) {
		int fd = srv->threads[i].wake_fd;

		if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
			/* the eventfd counter cannot overflow from ones; nothing to do */
		}
	}
}

int sm_http_server_wait(struct sm_http_server *srv)
{
	int r = 0;

	if (!srv->threads || srv->waited)
		return 0;
	for (unsigned i = 0; i < srv->n_threads; i++) {
		struct loop_thread *t = &srv->threads[i];

		if (!t->started)
			continue;
		pthread_join(t->tid, NULL);
		if (!t->drained)
			r = -ETIMEDOUT;
	}
	atomic_store(&srv->running, false);
	stop_workers(srv);
	srv->waited = true;
	return r;
}

void sm_http_server_free(struct sm_http_server *srv)
{
	bool leaked = false;

	if (!srv)
		return;
	if (srv->threads && !srv->waited) {
		sm_http_server_request_stop(srv);
		(void)sm_http_server_wait(srv);
	}
	for (unsigned i = 0; srv->threads && i < srv->n_threads; i++) {
		struct loop_thread *t = &srv->threads[i];

		if (t->loop)
			leaked = true; /* not drained: h2o still owns sockets */
		if (!t->started && t->listen_fd >= 0)
			close(t->listen_fd);
		if (t->wake_fd >= 0 && !t->loop)
			close(t->wake_fd);
	}
	if (leaked)
		return; /* freeing would pull memory from under h2o's live objects */
	if (srv->handler)
		h2o_config_dispose(&srv->gconf);
	sm_free(srv->threads);
	sm_free(srv->workers);
	sm_rate_limit_free(srv->rate_limit);
	sm_server_metrics_release(&srv->metrics);
	sm_router_free(srv->router);
	pthread_cond_destroy(&srv->work_cond);
	pthread_cond_destroy(&srv->cond);
	pthread_mutex_destroy(&srv->lock);
	sm_free(srv);
}
