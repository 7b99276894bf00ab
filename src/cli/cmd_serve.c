/* SPDX-License-Identifier: MIT */
/* skillmeat serve: the HTTP API over the metadata cache (spec/CLI.md `serve`). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli/cli.h"
#include "server/app.h"
#include "server/refresher.h"
#include "server/watcher.h"
#include "server/web.h"
#include "server/auth.h"
#include "server/http.h"
#include "skillmeat/cache.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

static const char usage_serve[] =
    "skillmeat serve [--host H] [--port P] [--threads N] [--no-rate-limit] [--trust-proxy]";
static const char help_serve[] =
    "usage: skillmeat serve [options]\n"
    "\n"
    "Serve the REST API (/api/v1/...) over the metadata cache. After the startup\n"
    "sync it prints one line on stdout, http://HOST:PORT, and logs to stderr.\n"
    "SIGINT/SIGTERM drain the requests in flight and stop it. One server per home:\n"
    "SKILLMEAT_HOME/server.json names the running one.\n"
    "\n"
    "  --host H          bind address (127.0.0.1; env SKILLMEAT_HOST); a non-loopback\n"
    "                    address needs SKILLMEAT_API_TOKEN\n"
    "  --port P          port (8080; env SKILLMEAT_PORT); 0 picks a free one\n"
    "  --threads N       event-loop threads (one per core)\n"
    "  --no-rate-limit   turn every rate limit off (benchmarks, tests)\n"
    "  --trust-proxy     take the client IP from X-Forwarded-For\n";

enum {
	OPT_HOST = 0x100,
	OPT_PORT,
	OPT_THREADS,
	OPT_NO_RATE,
	OPT_TRUST,
};

static int parse_uint(const char *s, unsigned long max, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* The server.* keys of config.toml/env (spec/CLI.md). */
static int configure(struct cli *cli, struct sm_home *home, struct sm_server_config *cfg)
{
	struct sm_rate_limit_config *rc = &cfg->rate;
	const char *host = getenv("SKILLMEAT_HOST"), *port = getenv("SKILLMEAT_PORT");
	const char *cors = sm_config_string(home, "server.cors-origins", NULL);
	int64_t v;

	if (host && *host && sm_server_config_set_host(cfg, host) < 0)
		return -ENOMEM;
	if (port && *port && parse_uint(port, 65535, &cfg->port) < 0) {
		cli_error(cli, "invalid SKILLMEAT_PORT '%s'", port);
		return -EINVAL;
	}
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
	if (sm_server_config_set_token(cfg, getenv("SKILLMEAT_API_TOKEN")) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- server.json ---- */

static int server_json_path(struct sm_home *home, struct strbuf *out)
{
	return sm_strbuf_addf(out, "%s/server.json", home->root);
}

/*
 * The pid of a live server named by server.json (other than us), else 0.
 * url gets its URL.
 */
static pid_t live_server(const char *path, struct strbuf *url)
{
	struct strbuf text = STRBUF_INIT;
	json_t *j = NULL, *p;
	pid_t pid = 0;

	if (sm_fs_read_file(path, 65536, &text, NULL) < 0)
		goto out;
	j = json_loads(text.buf, 0, NULL);
	p = json_object_get(j, "pid");
	if (!json_is_integer(p) || json_integer_value(p) <= 0 || json_integer_value(p) > INT32_MAX)
		goto out;
	pid = (pid_t)json_integer_value(p);
	if (pid == getpid() || (kill(pid, 0) < 0 && errno == ESRCH)) {
		pid = 0;
		goto out;
	}
	if (json_is_string(json_object_get(j, "url")) &&
	    sm_strbuf_addstr(url, json_string_value(json_object_get(j, "url"))) < 0)
		sm_strbuf_reset(url);
out:
	json_decref(j);
	sm_strbuf_release(&text);
	return pid;
}

/* Refuse when a live server holds the home. Prints the error. */
static int check_server_json(struct cli *cli, const char *path)
{
	struct strbuf url = STRBUF_INIT;
	pid_t pid = live_server(path, &url);
	int r = 0;

	if (pid > 0) {
		r = cli_error(cli, "a server (pid %ld) already serves this home at %s", (long)pid,
			      url.len ? url.buf : "(unknown url)");
		r = -EBUSY;
	}
	sm_strbuf_release(&url);
	return r;
}

static int write_server_json(const char *path, const char *url, struct strbuf *err)
{
	char now[SM_ISO_MAX];
	json_t *j;
	char *text;
	int r;

	if ((r = sm_time_now_iso(now)) < 0)
		return r;
	j = json_pack("{s:I, s:s, s:s}", "pid", (json_int_t)getpid(), "url", url, "started_at",
		      now);
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;
	r = sm_fs_write_atomic(path, text, strlen(text), 0644, err);
	free(text);
	return r;
}

/* Remove server.json if it still names us. */
static void remove_server_json(const char *path)
{
	struct strbuf text = STRBUF_INIT;
	json_t *j = NULL;

	if (sm_fs_read_file(path, 65536, &text, NULL) == 0 && (j = json_loads(text.buf, 0, NULL)) &&
	    json_integer_value(json_object_get(j, "pid")) == (json_int_t)getpid())
		(void)unlink(path);
	json_decref(j);
	sm_strbuf_release(&text);
}

/* ---- the verb ---- */

static int startup_sync(struct cli *cli)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_sync_stats st = {0};
	struct sm_cache *cache = cli_cache(cli);
	int r;

	if (!cache)
		return -EIO;
	r = sm_cache_sync(cache, NULL, 0, &st, &err);
	if (r < 0)
		cli_error(cli, "startup sync failed: %s", err.buf);
	for (size_t i = 0; r >= 0 && i < st.nmessages; i++)
		cli_warning(cli, "%s", st.messages[i]);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
	return r;
}

struct serve_opts {
	const char *host;
	const char *port;
	const char *threads;
	bool no_rate;
	bool trust;
};

static int parse_opts(struct cli *cli, int argc, char **argv, struct serve_opts *o)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, OPT_HOST},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"no-rate-limit", no_argument, NULL, OPT_NO_RATE},
	    {"trust-proxy", no_argument, NULL, OPT_TRUST},
	    CLI_GLOBAL_OPTIONS,
	    {0},
	};
	int ch, g;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_serve)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			cli_help(help_serve);
			return -1;
		case OPT_HOST:
			o->host = optarg;
			break;
		case OPT_PORT:
			o->port = optarg;
			break;
		case OPT_THREADS:
			o->threads = optarg;
			break;
		case OPT_NO_RATE:
			o->no_rate = true;
			break;
		case OPT_TRUST:
			o->trust = true;
			break;
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, usage_serve, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static void app_lock(void *ctx)
{
	sm_app_write_lock(ctx);
}

static void app_unlock(void *ctx)
{
	sm_app_write_unlock(ctx);
}

/*
 * Background upkeep: the inotify watcher (server.watch) marks what changed
 * stale and re-syncs it; the refresher re-reads stale rows every
 * server.refresh-interval-seconds, and also warm-syncs everything when the
 * watcher is off or out of inotify watches. Both sync under the writer lock.
 */
static void start_upkeep(struct cli *cli, struct sm_app *app, struct sm_watcher **watcher,
			 struct sm_watcher_refresh *wr, struct sm_refresher **refresher)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_refresher_opts ro = { 0 };
	struct sm_watcher_opts wo = { 0 };
	struct sm_watcher_stats ws = { 0 };
	bool watching = false;

	if (sm_config_bool(cli->home, "server.watch", true)) {
		wr->home_root = cli->home->root;
		wr->ctx = app;
		wr->lock = app_lock;
		wr->unlock = app_unlock;
		wo.home_root = cli->home->root;
		wo.debounce_ms = sm_config_int(cli->home, "server.watch-debounce-ms", 100);
		wo.on_change = sm_watcher_default_refresh;
		wo.ctx = wr;
		if (sm_watcher_start(&wo, watcher, &err) < 0) {
			cli_warning(cli, "file watching is off: %s", err.buf);
		} else {
			sm_watcher_get_stats(*watcher, &ws);
			watching = !ws.degraded;
			if (ws.degraded)
				cli_warning(cli, "out of inotify watches: some folders are not watched");
		}
	}
	ro.home_root = cli->home->root;
	ro.warm_sync = !watching;
	ro.ctx = app;
	ro.lock = app_lock;
	ro.unlock = app_unlock;
	sm_strbuf_reset(&err);
	if (sm_refresher_start(&ro, refresher, &err) < 0)
		cli_warning(cli, "no background refresh: %s", err.buf);
	sm_strbuf_release(&err);
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	struct serve_opts o = {0};
	struct sm_server_config cfg;
	struct sm_http_server *srv = NULL;
	struct sm_app *app = NULL;
	struct sm_watcher *watcher = NULL;
	struct sm_watcher_refresh wr = { 0 };
	struct sm_refresher *refresher = NULL;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct sm_home *home;
	sigset_t set;
	bool cfg_ok = false, wrote = false;
	int sig, r, rc = EXIT_FAIL;

	r = parse_opts(cli, argc, argv, &o);
	if (r)
		return r < 0 ? EXIT_OK : r;
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	if (sm_server_config_init(&cfg) < 0)
		return cli_error(cli, "out of memory");
	cfg_ok = true;
	r = configure(cli, home, &cfg);
	if (r == -ENOMEM)
		cli_error(cli, "out of memory");
	if (r < 0)
		goto out;
	if (o.host && sm_server_config_set_host(&cfg, o.host) < 0) {
		cli_error(cli, "out of memory");
		goto out;
	}
	if (o.port && parse_uint(o.port, 65535, &cfg.port) < 0) {
		rc = cli_usage_error(cli, usage_serve, "invalid port '%s'", o.port);
		goto out;
	}
	if (o.threads && (parse_uint(o.threads, 1024, &cfg.threads) < 0 || !cfg.threads)) {
		rc = cli_usage_error(cli, usage_serve, "invalid thread count '%s'", o.threads);
		goto out;
	}
	if (o.no_rate)
		cfg.rate.enabled = false;
	if (o.trust)
		cfg.trust_proxy = true;
	if (!sm_auth_host_is_loopback(cfg.host) && !cfg.token) {
		cli_error(cli, "binding '%s' (not loopback) needs SKILLMEAT_API_TOKEN", cfg.host);
		goto out;
	}
	if (server_json_path(home, &path) < 0 || check_server_json(cli, path.buf) < 0)
		goto out;
	if (startup_sync(cli) < 0)
		goto out;
	if (sm_app_new(home, &app, &err) < 0 || sm_http_server_new(&cfg, &srv, &err) < 0 ||
	    sm_app_attach(app, srv, &err) < 0 ||
	    sm_web_register(sm_http_server_router(srv), &err) < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (sm_http_server_start(srv, &err) < 0) {
		cli_error(cli, "cannot serve on %s:%u: %s", cfg.host, cfg.port, err.buf);
		goto out;
	}
	/* one server per home: check again now that we listen, then claim it */
	sm_app_write_lock(app);
	if (sm_home_lock(home, &err) < 0) {
		sm_app_write_unlock(app);
		cli_error(cli, "%s", err.buf);
		goto stop;
	}
	r = check_server_json(cli, path.buf);
	if (r == 0) {
		r = write_server_json(path.buf, sm_http_server_url(srv), &err);
		if (r < 0)
			cli_error(cli, "cannot write '%s': %s", path.buf, err.buf);
		wrote = r == 0;
	}
	sm_home_unlock(home);
	sm_app_write_unlock(app);
	if (r < 0)
		goto stop;
	printf("%s\n", sm_http_server_url(srv));
	if (fflush(stdout) != 0)
		goto stop;
	sm_log_info("server: listening on %s (%u threads)", sm_http_server_url(srv),
		    sm_http_server_threads(srv));
	start_upkeep(cli, app, &watcher, &wr, &refresher);
	if (sigwait(&set, &sig) == 0)
		sm_log_info("server: signal %d, stopping", sig);
	rc = EXIT_OK;
stop:
	/* background syncs first: they may hold the writer lock */
	sm_watcher_stop(watcher);
	watcher = NULL;
	sm_watcher_refresh_release(&wr);
	sm_refresher_stop(refresher);
	refresher = NULL;
	sm_http_server_request_stop(srv);
	if (sm_http_server_wait(srv) < 0)
		cli_warning(cli, "stopped without draining every request");
out:
	if (wrote)
		remove_server_json(path.buf);
	sm_http_server_free(srv);
	sm_app_free(app);
	if (cfg_ok)
		sm_server_config_release(&cfg);
	sm_strbuf_release(&err);
	sm_strbuf_release(&path);
	return rc;
}
