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
#include "skillmeat/cache.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/serve.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_serve[] =
    "skillmeat serve [--host H] [--port P] [--threads N] [--no-rate-limit] [--trust-proxy] "
    "[--store URL]";
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
    "  --trust-proxy     take the client IP from X-Forwarded-For\n"
    "  --store URL       team mode: serve the team store at URL (postgresql://…;\n"
    "                    config server.store) to any number of instances; no\n"
    "                    startup sync, no server.json (docs/team.md)\n";

enum {
	OPT_HOST = 0x100,
	OPT_PORT,
	OPT_THREADS,
	OPT_NO_RATE,
	OPT_TRUST,
	OPT_STORE,
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

/* ---- the verb ---- */

static int startup_sync(struct cli *cli)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_sync_stats st = {0};
	struct sm_cache *cache = cli_cache(cli);
	int r;

	if (!cache)
		return -EIO;
	r = sm_cache_sync(cache, NULL, SM_SYNC_DEPLOYMENTS, &st, &err);
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
	const char *store;
};

static int parse_opts(struct cli *cli, int argc, char **argv, struct serve_opts *o)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, OPT_HOST},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"no-rate-limit", no_argument, NULL, OPT_NO_RATE},
	    {"trust-proxy", no_argument, NULL, OPT_TRUST},
	    {"store", required_argument, NULL, OPT_STORE},
	    CLI_GLOBAL_OPTIONS,
	    {0},
	};
	int ch, g;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
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
		case OPT_STORE:
			o->store = optarg;
			break;
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, usage_serve, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static void upkeep_warning(void *ud, const char *msg)
{
	cli_warning(ud, "%s", msg);
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	struct serve_opts o = {0};
	struct sm_serve_options so = { .port = -1 };
	struct sm_serve *s = NULL;
	struct strbuf err = STRBUF_INIT;
	const char *env_host = getenv("SKILLMEAT_HOST"), *env_port = getenv("SKILLMEAT_PORT");
	struct sm_home *home;
	unsigned port;
	sigset_t set;
	int sig, r, rc = EXIT_FAIL;

	r = parse_opts(cli, argc, argv, &o);
	if (r)
		return r < 0 ? EXIT_OK : r;
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	if (env_host && *env_host)
		so.host = env_host;
	if (env_port && *env_port) {
		if (parse_uint(env_port, 65535, &port) < 0)
			return cli_error(cli, "invalid SKILLMEAT_PORT '%s'", env_port);
		so.port = (int)port;
	}
	if (o.host)
		so.host = o.host;
	if (o.port) {
		if (parse_uint(o.port, 65535, &port) < 0)
			return cli_usage_error(cli, usage_serve, "invalid port '%s'", o.port);
		so.port = (int)port;
	}
	if (o.threads && (parse_uint(o.threads, 1024, &so.threads) < 0 || !so.threads))
		return cli_usage_error(cli, usage_serve, "invalid thread count '%s'", o.threads);
	so.no_rate_limit = o.no_rate;
	so.trust_proxy = o.trust;
	so.token = getenv("SKILLMEAT_API_TOKEN");
	so.store = o.store ? o.store : sm_config_string(home, "server.store", NULL);
	if ((r = sm_serve_new(home, &so, &s, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	/* team mode serves the team store: the home's files are not indexed */
	if (!so.store && startup_sync(cli) < 0)
		goto out;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((r = sm_serve_start(s, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto stop;
	}
	printf("%s\n", sm_serve_url(s));
	if (fflush(stdout) != 0)
		goto stop;
	sm_log_info("server: listening on %s (%u threads)", sm_serve_url(s), sm_serve_threads(s));
	sm_serve_start_upkeep(s, upkeep_warning, cli);
	if (sigwait(&set, &sig) == 0)
		sm_log_info("server: signal %d, stopping", sig);
	rc = EXIT_OK;
stop:
	if (sm_serve_stop(s) < 0)
		cli_warning(cli, "stopped without draining every request");
out:
	sm_serve_free(s);
	sm_strbuf_release(&err);
	return rc;
}
