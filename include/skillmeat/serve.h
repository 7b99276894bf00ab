/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_SERVE_H
#define SKILLMEAT_SERVE_H

#include <stdbool.h>

struct sm_home;
struct strbuf;

/*
 * `skillmeat serve` as a library (spec/CLI.md `serve`): the HTTP layer
 * (src/http), the REST application and the web page (src/api), and the
 * cache upkeep threads (watcher, refresher in src/cache), wired together.
 * The front end parses its flags, runs the startup sync, blocks SIGINT and
 * SIGTERM, then:
 *
 *	sm_serve_new(home, &opts, &s, err);   config.toml server.* keys, checks
 *	sm_serve_start(s, err);               listening; server.json claimed
 *	printf("%s\n", sm_serve_url(s));
 *	sm_serve_start_upkeep(s, warn, ud);   watcher + refresher
 *	sigwait(...);
 *	sm_serve_stop(s);                     drains, joins
 *	sm_serve_free(s);                     removes server.json if ours
 *
 * Nothing here prints; warnings go to the callback, errors to err.
 */

struct sm_serve_options {
	const char *host;   /* bind address, NULL = config/default 127.0.0.1 */
	int port;	    /* < 0: default 8080; 0 picks a free port */
	unsigned threads;   /* loop threads, 0 = one per core */
	bool no_rate_limit; /* every rate limit off */
	bool trust_proxy;   /* client IP from X-Forwarded-For */
	const char *token;  /* SKILLMEAT_API_TOKEN, NULL or "" = no auth */
	/*
	 * Team mode: the team store (postgresql://…, store_pg.h) instead of the
	 * home's files and SQLite index; NULL = config server.store, if any.
	 */
	const char *store;
};

struct sm_serve;

/*
 * Read the server.* keys of config.toml over the defaults, apply opts, and
 * check that the bind is allowed (a non-loopback address needs a token:
 * -EINVAL) and that no live server holds the home (server.json: -EBUSY).
 * home must outlive the server. -ENOMEM.
 */
int sm_serve_new(struct sm_home *home, const struct sm_serve_options *opts,
		 struct sm_serve **ret, struct strbuf *err);

/*
 * Open the application, bind and start the loop threads, then claim the
 * home in server.json (under the home lock). -EBUSY when another server
 * claimed it meanwhile, or the error of the bind.
 */
int sm_serve_start(struct sm_serve *s, struct strbuf *err);
/* "http://HOST:PORT" once started. */
const char *sm_serve_url(const struct sm_serve *s);
unsigned sm_serve_threads(const struct sm_serve *s);

/*
 * Start the background upkeep: the inotify watcher (server.watch) and the
 * refresher (warm syncs when the watcher is off or degraded). A part that
 * cannot start is a warning, passed to warn (may be NULL).
 */
void sm_serve_start_upkeep(struct sm_serve *s, void (*warn)(void *ud, const char *msg),
			   void *ud);

/*
 * Stop the upkeep threads, then the server (drains requests in flight).
 * -ETIMEDOUT when some request was not drained.
 */
int sm_serve_stop(struct sm_serve *s);
/* Free; removes server.json when it names this process. NULL is accepted. */
void sm_serve_free(struct sm_serve *s);

#endif
