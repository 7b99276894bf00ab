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
#define SM_PG_LATEST 1

extern const struct sm_pg_migration sm_pg_migrations[];
extern const int sm_pg_nmigrations;

#endif
