/* SPDX-License-Identifier: MIT */
/* The server as a whole: HTTP layer + REST application + web page + upkeep (serve.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "api/api.h"
#include "api/app.h"
#include "http/auth.h"
#include "http/http.h"
#include "http/web.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/refresher.h"
#include "skillmeat/serve.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "skillmeat/log.h"
#include "skillmeat/watcher.h"
#include "util/banned.h"

struct sm_serve {
	struct sm_home *home;
	struct sm_server_config cfg;
	struct sm_http_server *srv;
	struct sm_app *app;
	struct sm_watcher *watcher;
	struct sm_watcher_refresh wr;
	struct sm_refresher *refresher;
	bool started; /* the loops run */
	bool wrote;   /* server.json names us */
	char *store;  /* team mode: the team store's URL */
};

/*
 * server.allowed-hosts: a TOML array of names, or one string of names
 * separated by commas (the environment's SKILLMEAT_SERVER_ALLOWED_HOSTS).
 */
static int allowed_hosts(struct sm_home *home, struct sm_server_config *cfg)
{
	const struct sm_toml_value *v = sm_config_lookup(home, "server.allowed-hosts");
	const char *s = sm_config_string(home, "server.allowed-hosts", NULL);
	int r = 0;

	if (!s && v && v->type == SM_TOML_ARRAY) {
		for (size_t i = 0; r == 0 && i < sm_toml_len(v); i++)
			if (sm_toml_type(sm_toml_at(v, i)) == SM_TOML_STRING)
				r = sm_server_config_add_allowed_host(cfg,
								      sm_toml_str(sm_toml_at(v, i)));
		return r;
	}
	while (s && *s && r == 0) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char one[256];

		if (len < sizeof(one)) {
			memcpy(one, s, len);
			one[len] = '\0';
			r = sm_server_config_add_allowed_host(cfg, one);
		}
		s = comma ? comma + 1 : NULL;
	}
	return r;
}

/* The server.* keys of config.toml (spec/CLI.md). */
static int configure(struct sm_home *home, struct sm_server_config *cfg)
{
	struct sm_rate_limit_config *rc = &cfg->rate;
	const char *cors = sm_config_string(home, "server.cors-origins", NULL);
	int64_t v;

	rc->enabled = sm_config_bool(home, "server.rate-limit.enabled", rc->enabled);
	v = sm_config_int(home, "server.rate-limit.refresh-burst", rc->refresh_burst);
	if (v > 0)
		rc->refresh_burst = (unsigned)v;
	v = sm_config_int(home, "server.rate-limit.refresh-refill-seconds",
			  (int64_t)rc->refresh_refill_sec);
	if (v > 0)
		rc->refresh_refill_sec = (double)v;
	v = sm_config_int(home, "server.rate-limit.burst-threshold", rc->burst_threshold);
	if (v > 0)
		rc->burst_threshold = (unsigned)v;
	v = sm_config_int(home, "server.rate-limit.window-seconds", (int64_t)rc->window_sec);
	if (v > 0)
		rc->window_sec = (double)v;
	v = sm_config_int(home, "server.rate-limit.block-seconds", (int64_t)rc->block_sec);
	if (v > 0)
		rc->block_sec = (double)v;
	v = sm_config_int(home, "server.max-body-bytes", (int64_t)cfg->max_body);
	if (v > 0)
		cfg->max_body = (size_t)v;
	if (cors && sm_server_config_set_cors(cfg, cors) < 0)
		return -ENOMEM;
	return allowed_hosts(home, cfg);
}

/* ---- lifecycle ---- */

int sm_serve_new(struct sm_home *home, const struct sm_serve_options *opts,
		 struct sm_serve **ret, struct strbuf *err)
{
	const char *opts_store = opts->store;
	struct sm_serve *s;
	int r;

	/*
	 * skillmeat-serve.so binds its own copy of the logger (-Bsymbolic):
	 * read SKILLMEAT_LOG_LEVEL/FORMAT for it too, or the server's own lines
	 * (watcher, refresher, requests) stay at the default level.
	 */
	sm_log_init();
	s = sm_calloc(1, sizeof(*s));
	if (!s)
		return sm_err(err, -ENOMEM, "out of memory");
	s->home = home;
	if (sm_server_config_init(&s->cfg) < 0) {
		sm_free(s);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	if (configure(home, &s->cfg) < 0 || sm_server_config_set_token(&s->cfg, opts->token) < 0 ||
	    (opts->host && sm_server_config_set_host(&s->cfg, opts->host) < 0)) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (opts->port >= 0)
		s->cfg.port = (unsigned)opts->port;
	if (opts->threads)
		s->cfg.threads = opts->threads;
	if (opts->no_rate_limit)
		s->cfg.rate.enabled = false;
	if (opts->trust_proxy)
		s->cfg.trust_proxy = true;
	if (!sm_auth_host_is_loopback(s->cfg.host) && !s->cfg.token) {
		r = sm_err(err, -EINVAL, "binding '%s' (not loopback) needs SKILLMEAT_API_TOKEN",
			   s->cfg.host);
		goto fail;
	}
	if (!opts->store)
		opts_store = sm_config_string(home, "server.store", NULL);
	if (opts_store && !sm_store_is_pg_url(opts_store)) {
		r = sm_err(err, -EINVAL, "server.store '%s' is not a PostgreSQL URL (postgresql://…)",
			   opts_store);
		goto fail;
	}
	if (opts_store && !(s->store = sm_strdup(opts_store))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	/* a team server serves the database, not the home: any number per home */
	if (!s->store && (r = sm_ops_server_check(home, err)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	sm_serve_free(s);
	return r;
}

int sm_serve_start(struct sm_serve *s, struct strbuf *err)
{
	struct sm_ops_ctx ctx;
	int r;

	if ((r = sm_app_new(s->home, &s->app, err)) < 0)
		return r;
	s->app->api_token = s->cfg.token != NULL;
	if ((s->store && (r = sm_app_set_team(s->app, s->store, err)) < 0) ||
	    (r = sm_http_server_new(&s->cfg, &s->srv, err)) < 0 ||
	    (r = sm_app_attach(s->app, s->srv, err)) < 0 ||
	    (r = sm_web_register(sm_http_server_router(s->srv), err)) < 0)
		return r;
	if ((r = sm_http_server_start(s->srv, err)) < 0)
		return sm_err_prefix(err, r, "cannot serve on %s:%u", s->cfg.host, s->cfg.port);
	s->started = true;
	if (s->store)
		return 0;
	/* one server per home: check again now that we listen, then claim it */
	api_ops_ctx_init(s->app, &ctx);
	r = sm_ops_server_claim(&ctx, sm_http_server_url(s->srv), err);
	sm_ops_ctx_release(&ctx);
	s->wrote = r == 0;
	return r;
}

const char *sm_serve_url(const struct sm_serve *s)
{
	return sm_http_server_url(s->srv);
}

unsigned sm_serve_threads(const struct sm_serve *s)
{
	return sm_http_server_threads(s->srv);
}

static void app_lock(void *ctx)
{
	sm_app_write_lock(ctx);
}

static void app_unlock(void *ctx)
{
	sm_app_write_unlock(ctx);
}

static void warn_msg(void (*warn)(void *, const char *), void *ud, const char *prefix,
		     const char *msg)
{
	struct strbuf line = STRBUF_INIT;

	if (!warn)
		return;
	if (sm_strbuf_addf(&line, "%s%s", prefix, msg) == 0)
		warn(ud, line.buf);
	sm_strbuf_release(&line);
}

/*
 * The watcher's refresh, counted in skillmeat_cache_refresh_*: an error when
 * the sync failed or an artifact could not be read.
 */
static void watch_refresh(void *ctx, const char *collection, const char *const *paths, size_t n,
			  bool manifest_changed)
{
	struct sm_serve *s = ctx;
	uint64_t errors = __atomic_load_n(&s->wr.errors, __ATOMIC_RELAXED) +
			  __atomic_load_n(&s->wr.artifact_errors, __ATOMIC_RELAXED);
	int64_t t0 = sm_time_mono_ns();
	bool failed;

	sm_watcher_default_refresh(&s->wr, collection, paths, n, manifest_changed);
	failed = __atomic_load_n(&s->wr.errors, __ATOMIC_RELAXED) +
			 __atomic_load_n(&s->wr.artifact_errors, __ATOMIC_RELAXED) !=
		 errors;
	if (s->app->metrics)
		sm_server_metrics_refresh(s->app->metrics, failed ? "error" : "success",
					  (double)(sm_time_mono_ns() - t0) / 1e9);
}

/* Every pass of the refresher, counted the same way. */
static void refresher_pass(void *ctx, const struct sm_refresher_pass *pass)
{
	struct sm_app *app = ctx;

	if (app->metrics)
		sm_server_metrics_refresh(app->metrics, pass->errors ? "error" : "success",
					  pass->seconds);
}

/*
 * Background upkeep: the inotify watcher (server.watch) marks what changed
 * stale and re-syncs it; the refresher re-reads stale rows every
 * server.refresh-interval-seconds, and also warm-syncs everything when the
 * watcher is off or out of inotify watches. Both sync under the writer lock.
 */
void sm_serve_start_upkeep(struct sm_serve *s, void (*warn)(void *ud, const char *msg),
			   void *ud)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_refresher_opts ro = { 0 };
	struct sm_watcher_opts wo = { 0 };
	struct sm_watcher_stats ws = { 0 };
	bool watching = false;

	if (s->store)
		return; /* team mode: the database is the truth, no files to watch */
	if (sm_config_bool(s->home, "server.watch", true)) {
		s->wr.home_root = s->home->root;
		s->wr.ctx = s->app;
		s->wr.lock = app_lock;
		s->wr.unlock = app_unlock;
		wo.home_root = s->home->root;
		wo.debounce_ms = sm_config_int(s->home, "server.watch-debounce-ms", 100);
		wo.on_change = watch_refresh;
		wo.ctx = s;
		if (sm_watcher_start(&wo, &s->watcher, &err) < 0) {
			warn_msg(warn, ud, "file watching is off: ", err.buf);
		} else {
			sm_watcher_get_stats(s->watcher, &ws);
			watching = !ws.degraded;
			if (ws.degraded)
				warn_msg(warn, ud, "",
					 "out of inotify watches: some folders are not watched");
		}
	}
	ro.home_root = s->home->root;
	ro.warm_sync = !watching;
	ro.ctx = s->app;
	ro.after_pass = refresher_pass;
	ro.lock = app_lock;
	ro.unlock = app_unlock;
	sm_strbuf_reset(&err);
	if (sm_refresher_start(&ro, &s->refresher, &err) < 0)
		warn_msg(warn, ud, "no background refresh: ", err.buf);
	sm_strbuf_release(&err);
}

int sm_serve_stop(struct sm_serve *s)
{
	int r = 0;

	/* background syncs first: they may hold the writer lock */
	sm_watcher_stop(s->watcher);
	s->watcher = NULL;
	sm_watcher_refresh_release(&s->wr);
	sm_refresher_stop(s->refresher);
	s->refresher = NULL;
	if (s->started) {
		sm_http_server_request_stop(s->srv);
		r = sm_http_server_wait(s->srv);
	}
	return r < 0 ? -ETIMEDOUT : 0;
}

void sm_serve_free(struct sm_serve *s)
{
	if (!s)
		return;
	if (s->wrote)
		sm_ops_server_release(s->home);
	/* the listener thread's hook reaches the server's metrics and threads */
	sm_app_stop_listener(s->app);
	sm_http_server_free(s->srv);
	sm_app_free(s->app);
	sm_server_config_release(&s->cfg);
	sm_free(s->store);
	sm_free(s);
}
