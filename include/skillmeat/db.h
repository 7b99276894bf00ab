/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_DB_H
#define SKILLMEAT_DB_H

/*
 * The metadata cache database (SKILLMEAT_HOME/cache/metadata.db): opening it
 * with the pragmas the cache relies on, and its schema migrations.
 *
 * The database is an index of the files (ARCHITECTURE.md §2): deleting it is
 * always safe, the next start rebuilds it. Migrations are numbered, embedded
 * in the binary, each with an up and a down script; sm_db_open() applies every
 * pending up. The version applied is recorded in the `schema_migrations` table.
 *
 * A struct sm_db is one SQLite connection. It is not thread-safe: use one per
 * thread (each thread opens its own). All SQL other than the schema lives in
 * store.c (store.h).
 *
 * Errors: negative errno, with a one-line message in err (may be NULL):
 *   -ENOENT  parent folder missing (sm_db_open does not create folders)
 *   -EACCES  / -EROFS  permission denied / read-only file or file system
 *   -EBUSY   database locked by another connection past the busy timeout
 *   -EBADMSG the file is not a database or is corrupt (the cache rebuilds it
 *            from the files: sm_cache_heal)
 *   -ENOTSUP the database was written by a newer skillmeat (schema version
 *            above sm_db_latest_version()); rebuild or migrate with that binary
 *   -ENOMEM, -EIO, -ENOSPC as usual
 */

#include <stdbool.h>
#include <stdint.h>

struct strbuf;
struct sm_db;

/* Milliseconds a connection waits for a lock held by another one. */
#define SM_DB_BUSY_TIMEOUT_MS 5000

enum sm_db_open_flags {
	/* Do not apply pending migrations at open (`cache migrate`, tests). */
	SM_DB_NO_MIGRATE = 1 << 0,
	/* Open read-only; no migration is attempted (implies SM_DB_NO_MIGRATE). */
	SM_DB_READONLY = 1 << 1,
	/*
	 * A file that is corrupt, not a database, or from a newer skillmeat is
	 * emptied in place (with one warning logged) and migrated; sm_db_open
	 * then returns 1. In place, so other connections of this or another
	 * process stay valid (deleting the file under them would split them).
	 */
	SM_DB_RESET_UNUSABLE = 1 << 2,
};

/* What a connection has met since it was opened or last cleared (sm_db_trouble). */
enum sm_db_trouble {
	SM_DB_CORRUPT = 1 << 0, /* SQLITE_CORRUPT / SQLITE_NOTADB: -EBADMSG */
	SM_DB_FULL = 1 << 1,	/* SQLITE_FULL, or a write refused with ENOSPC/EDQUOT/EFBIG */
};

/*
 * Open (creating if needed) the database at path and set journal_mode=WAL,
 * synchronous=NORMAL, foreign_keys=ON, busy_timeout, temp_store=MEMORY.
 * path ":memory:" opens a private in-memory database (no WAL), used when the
 * home is not writable. Unless flags has SM_DB_NO_MIGRATE, every pending
 * migration is applied, each in its own transaction; two processes opening at
 * once are safe (the second finds the work done). The parent folder must exist.
 * On success *ret owns the connection; free it with sm_db_close(). Returns 0,
 * or 1 when SM_DB_RESET_UNUSABLE emptied the file.
 */
int sm_db_open(const char *path, unsigned flags, struct sm_db **ret, struct strbuf *err);

/*
 * The sm_db_trouble bits this connection's failures showed, so the layer
 * above can repair (the cache rebuilds a corrupt index from the files).
 */
unsigned sm_db_trouble(const struct sm_db *db);
/* SQLite's message for the failure that set the trouble bits ("" when none; borrowed). */
const char *sm_db_trouble_message(const struct sm_db *db);
void sm_db_clear_trouble(struct sm_db *db);
/*
 * The repair generation at which db met its trouble, and the same set on
 * another connection: a repair handed from the connection that met the
 * damage to one of another thread (a server's loop thread to a worker), so
 * sm_cache_heal there skips the work when it was done in between.
 */
unsigned sm_db_trouble_gen(const struct sm_db *db);
void sm_db_set_trouble(struct sm_db *db, unsigned trouble, unsigned gen, const char *msg);
/*
 * True when db met corruption and another connection of this process has
 * replaced the content since (sm_db_replace): nothing left to repair.
 */
bool sm_db_repaired_since(const struct sm_db *db);

/*
 * Replace the whole content of db with that of src (e.g. an index rebuilt in
 * memory), in one write transaction: readers on other connections see the
 * old content or the new. A file too damaged for that is emptied first. If
 * db met corruption and another connection of this process has replaced the
 * file since, nothing is done and 1 is returned. Clears db's trouble.
 */
int sm_db_replace(struct sm_db *db, struct sm_db *src, struct strbuf *err);

/*
 * Close the connection. A store on it (store.h) must be freed first. NULL is
 * accepted.
 */
void sm_db_close(struct sm_db *db);

/* The path given to sm_db_open (borrowed). */
const char *sm_db_path(const struct sm_db *db);

/* The highest migration this binary knows. */
int sm_db_latest_version(void);

/*
 * The schema version of the database: the highest applied migration, 0 for
 * an empty database. Returns >= 0 or a negative errno.
 */
int sm_db_version(struct sm_db *db, struct strbuf *err);

/*
 * Migrate up or down to version (0 <= version <= sm_db_latest_version()),
 * one migration per transaction; stops at the first failure, leaving the
 * database at the last version that succeeded. Going down drops what the
 * migrations created (a down of the base schema drops all cached data, which
 * the next sync rebuilds). Returns the version reached, or a negative errno
 * (-EINVAL for a version out of range).
 * Cached statements of a store on this connection stay valid only for tables
 * that still exist; migrate while no store is in use.
 */
int sm_db_migrate_to(struct sm_db *db, int version, struct strbuf *err);

/* One migration's description, for `cache migrate` listings. */
struct sm_db_migration_info {
	int version;
	const char *name; /* static string */
};

/*
 * The i-th known migration (0-based, in version order); returns 0, or -ENOENT
 * past the end.
 */
int sm_db_migration_info(int i, struct sm_db_migration_info *ret);

#endif
