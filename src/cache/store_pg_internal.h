/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CACHE_STORE_PG_INTERNAL_H
#define SKILLMEAT_CACHE_STORE_PG_INTERNAL_H

/* Internal to the team store (store_pg*.c, the skillmeat-pg.so module). */

struct sm_pg_migration {
	int version;
	const char *name;
	const char *up;
	const char *down;
};

/* The highest migration (the length of sm_pg_migrations). */
#define SM_PG_LATEST 2

extern const struct sm_pg_migration sm_pg_migrations[];
extern const int sm_pg_nmigrations;

/* The listener (store_pg_listen.c), for the module's table (store_pg.h has the contract). */
#include <stdbool.h>
struct sm_pg_listener;
struct sm_pg_listen_hooks;
struct sm_pg_listen_stats;
struct sm_pg_revision;
struct strbuf;
int sm_pg_listen_start_impl(const char *url, const struct sm_pg_listen_hooks *hooks,
			    struct sm_pg_listener **ret, struct strbuf *err);
void sm_pg_listen_stop_impl(struct sm_pg_listener *l);
bool sm_pg_listen_fresh_impl(struct sm_pg_listener *l, const char *tenant,
			     const struct sm_pg_revision *rev);
void sm_pg_listen_stats_impl(struct sm_pg_listener *l, struct sm_pg_listen_stats *ret);

#endif
