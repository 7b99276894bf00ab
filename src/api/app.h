/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_API_APP_H
#define SKILLMEAT_API_APP_H

#include <stdint.h>

#include "http/http.h"

struct sm_home;
struct strbuf;

/*
 * The REST application (spec/API.md) on top of the HTTP layer: one SQLite
 * connection (struct sm_cache) per loop thread, the process-wide count
 * cache, the in-process writer lock, and the /api/v1/user-collections and
 * /api/v1/artifacts handlers.
 *
 *	sm_app_new(home, &app, err);       home must outlive app
 *	sm_app_attach(app, srv, err);      routes + hooks, before sm_http_server_start
 *	... serve ...
 *	sm_app_free(app);                  after sm_http_server_wait
 */

struct sm_app;

/*
 * Settings from config.toml/env: cache.count-ttl-seconds (300),
 * cache.stale-ttl-seconds (1800). -ENOMEM.
 */
int sm_app_new(struct sm_home *home, struct sm_app **ret, struct strbuf *err);
/*
 * Stop the team listener (NULL-safe, once): its hook drops answers and counts in
 * the server's metrics and loop threads, so it stops before the HTTP server is freed.
 */
void sm_app_stop_listener(struct sm_app *app);
void sm_app_free(struct sm_app *app);

/*
 * Team mode: every loop thread reads the team store at url (store_pg.h)
 * instead of the home's SQLite index, scoped per request to the tenant its
 * token names (team.tokens; without tokens, the tenant "default"). Call
 * before sm_app_attach. -ENOMEM, -EINVAL for a malformed team.tokens.
 */
int sm_app_set_team(struct sm_app *app, const char *url, struct strbuf *err);

/*
 * The in-process writer lock every API write holds (around the home lock):
 * take it for any other write of the home while the server runs.
 */
void sm_app_write_lock(struct sm_app *app);
void sm_app_write_unlock(struct sm_app *app);

/* Register the API routes and the per-thread hooks on srv (not started yet). */
int sm_app_attach(struct sm_app *app, struct sm_http_server *srv, struct strbuf *err);

#endif
