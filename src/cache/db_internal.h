/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CACHE_DB_INTERNAL_H
#define SKILLMEAT_CACHE_DB_INTERNAL_H

/* Shared by db.c and store*.c only: the raw connection and error mapping. */

#include <sqlite3.h>

#include "skillmeat/db.h"

struct strbuf;

/* The connection of db (borrowed). */
sqlite3 *sm_db_handle(struct sm_db *db);

/*
 * The one place SQLite result codes become errno values: 0 for SQLITE_OK,
 * SQLITE_ROW and SQLITE_DONE, else a negative errno (see db.h for the list).
 * Accepts primary and extended codes.
 */
int sm_db_errno(int rc);

/*
 * Map rc with sm_db_errno() and write "<what>: <sqlite message>" to err.
 * Returns the negative errno.
 */
int sm_db_fail(struct sm_db *db, int rc, struct strbuf *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Run a script of statements (no results). */
int sm_db_exec(struct sm_db *db, const char *sql, struct strbuf *err);

/* Index the artifacts with id > :max that the FTS table lacks (bulk mode, migration 8). */
extern const char sm_db_sql_fts_flush[];

#endif
