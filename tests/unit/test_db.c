/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cache/db_internal.h"
#include "skillmeat/db.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sm-test-db-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/metadata.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t query_int(struct sm_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(sm_db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *query_text(struct sm_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	assert_int_equal(sqlite3_prepare_v2(sm_db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static bool has_table(struct sm_db *db, const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE name = '%s'", name);
	return query_int(db, sql) == 1;
}

static void test_open_applies_all_migrations(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;
	char *mode;

	assert_int_equal(sm_db_open(f->path, 0, &db, &err), 0);
	assert_string_equal(sm_db_path(db), f->path);
	assert_int_equal(sm_db_version(db, &err), sm_db_latest_version());
	assert_true(sm_db_latest_version() >= 2);
	assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"),
			 sm_db_latest_version());
	assert_true(has_table(db, "artifacts"));
	assert_true(has_table(db, "user_collections"));
	assert_true(has_table(db, "collection_artifacts"));
	assert_true(has_table(db, "artifact_fts"));
	assert_true(has_table(db, "idx_artifacts_synced_at"));
	/* pragmas */
	mode = query_text(db, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
	assert_int_equal(query_int(db, "PRAGMA busy_timeout"), SM_DB_BUSY_TIMEOUT_MS);
	sm_db_close(db);

	/* reopening is a no-op */
	assert_int_equal(sm_db_open(f->path, 0, &db, &err), 0);
	assert_int_equal(sm_db_version(db, &err), sm_db_latest_version());
	assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"),
			 sm_db_latest_version());
	sm_db_close(db);
	sm_db_close(NULL);
	sm_strbuf_release(&err);
}

static void test_migration_info(void **state)
{
	struct sm_db_migration_info mi;
	int i;

	(void)state;
	for (i = 0; sm_db_migration_info(i, &mi) == 0; i++) {
		assert_int_equal(mi.version, i + 1);
		assert_non_null(mi.name);
	}
	assert_int_equal(i, sm_db_latest_version());
	assert_int_equal(sm_db_migration_info(-1, &mi), -ENOENT);
}

static void put_data(struct sm_store *st)
{
	struct sm_artifact_row rows[2] = {
	    {.uuid = "0123456789abcdef0123456789abcdef",
	     .collection = "default",
	     .type = "skill",
	     .name = "canvas",
	     .title = "Canvas Design",
	     .description = "Draws posters",
	     .tags_json = "[\"Design\",\"art\"]",
	     .tools_json = "[\"Read\"]",
	     .fingerprint = "1:2:3",
	     .synced_at = 1000},
	    {.uuid = "fedcba9876543210fedcba9876543210",
	     .collection = "default",
	     .type = "command",
	     .name = "review",
	     .description = "Reviews code",
	     .tags_json = "[\"code\"]",
	     .synced_at = 1000},
	};
	struct sm_user_collection_row uc = {.id = "default",
					    .name = "Default Collection",
					    .collection_type = "default",
					    .created_at = "2026-01-01T00:00:00",
					    .updated_at = "2026-01-01T00:00:00"};
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(sm_store_upsert_artifacts(st, rows, 2, NULL, NULL, &err), 0);
	assert_int_equal(sm_store_create_user_collection(st, &uc, &err), 0);
	assert_int_equal(sm_store_add_all_members(st, "default", "2026-01-01T00:00:00", &err), 2);
	sm_strbuf_release(&err);
}

static char *dump(struct sm_db *db)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct sm_store *st = NULL;

	assert_int_equal(sm_store_sqlite_new(db, &st, &err), 0);
	assert_int_equal(sm_store_dump(st, SM_STORE_DUMP_VOLATILE, &out, &err), 0);
	sm_store_free(st);
	sm_strbuf_release(&err);
	return sm_strbuf_detach(&out, NULL);
}

static void test_down_and_up_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;
	struct sm_store *st = NULL;
	char *before, *after;
	int latest = sm_db_latest_version();

	assert_int_equal(sm_db_open(f->path, 0, &db, &err), 0);
	assert_int_equal(sm_store_sqlite_new(db, &st, &err), 0);
	put_data(st);
	sm_store_free(st);
	before = dump(db);
	assert_non_null(strstr(before, "fts uuid=\"0123456789abcdef0123456789abcdef\""));
	assert_non_null(
	    strstr(before, "tag uuid=\"0123456789abcdef0123456789abcdef\" label=\"design\""));

	/* down to the base schema: the derived indexes go, the rows stay */
	assert_int_equal(sm_db_migrate_to(db, 1, &err), 1);
	assert_int_equal(sm_db_version(db, &err), 1);
	assert_false(has_table(db, "artifact_fts"));
	assert_false(has_table(db, "artifact_tags"));
	assert_false(has_table(db, "idx_artifacts_synced_at"));
	assert_int_equal(query_int(db, "SELECT count(*) FROM artifacts"), 2);
	assert_int_equal(query_int(db, "SELECT count(*) FROM collection_artifacts"), 2);
	/* the store refuses an old schema */
	assert_int_equal(sm_store_sqlite_new(db, &st, &err), -ENOTSUP);

	/* back up: the indexes are rebuilt from the rows */
	assert_int_equal(sm_db_migrate_to(db, latest, &err), latest);
	after = dump(db);
	assert_string_equal(before, after);
	free(after);

	/* all the way down: nothing but the migrations table */
	assert_int_equal(sm_db_migrate_to(db, 0, &err), 0);
	assert_int_equal(sm_db_version(db, &err), 0);
	assert_false(has_table(db, "artifacts"));
	assert_false(has_table(db, "user_collections"));
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
				       " AND name NOT LIKE 'sqlite_%'"),
			 1);

	/* and up again: empty, complete */
	assert_int_equal(sm_db_migrate_to(db, latest, &err), latest);
	assert_int_equal(query_int(db, "SELECT count(*) FROM artifacts"), 0);
	assert_int_equal(sm_store_sqlite_new(db, &st, &err), 0);
	put_data(st);
	sm_store_free(st);
	after = dump(db);
	assert_string_equal(before, after);
	free(after);
	free(before);
	sm_db_close(db);
	sm_strbuf_release(&err);
}

static void test_step_by_step(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;
	int latest = sm_db_latest_version();

	assert_int_equal(sm_db_open(f->path, SM_DB_NO_MIGRATE, &db, &err), 0);
	assert_int_equal(sm_db_version(db, &err), 0);
	for (int v = 1; v <= latest; v++) {
		assert_int_equal(sm_db_migrate_to(db, v, &err), v);
		assert_int_equal(sm_db_version(db, &err), v);
	}
	for (int v = latest - 1; v >= 0; v--)
		assert_int_equal(sm_db_migrate_to(db, v, &err), v);
	assert_int_equal(sm_db_migrate_to(db, latest + 1, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "out of range"));
	assert_int_equal(sm_db_migrate_to(db, -1, &err), -EINVAL);
	sm_db_close(db);
	sm_strbuf_release(&err);
}

static void test_newer_schema_rejected(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;

	assert_int_equal(sm_db_open(f->path, 0, &db, &err), 0);
	assert_int_equal(sm_db_exec(db,
				    "INSERT INTO schema_migrations (version, name)"
				    " VALUES (99, 'future')",
				    &err),
			 0);
	sm_db_close(db);
	db = NULL;
	assert_int_equal(sm_db_open(f->path, 0, &db, &err), -ENOTSUP);
	assert_null(db);
	assert_non_null(strstr(err.buf, "99"));
	sm_strbuf_release(&err);
}

static void test_not_a_database(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;
	int fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	char junk[4096];

	assert_true(fd >= 0);
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	assert_int_equal(sm_db_open(f->path, 0, &db, &err), -EBADMSG);
	assert_null(db);
	assert_true(err.len > 0);
	sm_strbuf_release(&err);
}

static void test_missing_folder(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;
	char path[160];

	snprintf(path, sizeof(path), "%s/nope/metadata.db", f->dir);
	assert_int_equal(sm_db_open(path, 0, &db, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "nope"));
	assert_int_equal(sm_db_open("", 0, &db, &err), -EINVAL);
	assert_null(db);
	sm_strbuf_release(&err);
}

static void test_memory_database(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;

	(void)state;
	assert_int_equal(sm_db_open(":memory:", 0, &db, &err), 0);
	assert_int_equal(sm_db_version(db, &err), sm_db_latest_version());
	sm_db_close(db);
	sm_strbuf_release(&err);
}

static void test_readonly(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;

	assert_int_equal(sm_db_open(f->path, 0, &db, &err), 0);
	sm_db_close(db);
	assert_int_equal(sm_db_open(f->path, SM_DB_READONLY, &db, &err), 0);
	assert_int_equal(sm_db_version(db, &err), sm_db_latest_version());
	assert_int_equal(sm_db_migrate_to(db, 1, &err), -EROFS);
	assert_int_equal(sm_db_exec(db, "DELETE FROM artifacts", &err), -EROFS);
	sm_db_close(db);
	sm_strbuf_release(&err);
}

static void test_two_connections(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *a = NULL, *b = NULL;

	assert_int_equal(sm_db_open(f->path, 0, &a, &err), 0);
	assert_int_equal(sm_db_open(f->path, 0, &b, &err), 0);
	assert_int_equal(sm_db_version(b, &err), sm_db_latest_version());
	/* a writer holds the lock: the other waits, then gets -EBUSY */
	assert_int_equal(sm_db_exec(a, "BEGIN IMMEDIATE", &err), 0);
	assert_int_equal(sqlite3_busy_timeout(sm_db_handle(b), 10), SQLITE_OK);
	assert_int_equal(sm_db_exec(b, "BEGIN IMMEDIATE", &err), -EBUSY);
	assert_int_equal(sm_db_exec(a, "COMMIT", &err), 0);
	assert_int_equal(sm_db_exec(b, "BEGIN IMMEDIATE; COMMIT", &err), 0);
	sm_db_close(a);
	sm_db_close(b);
	sm_strbuf_release(&err);
}

static void test_errno_mapping(void **state)
{
	(void)state;
	assert_int_equal(sm_db_errno(SQLITE_OK), 0);
	assert_int_equal(sm_db_errno(SQLITE_ROW), 0);
	assert_int_equal(sm_db_errno(SQLITE_DONE), 0);
	assert_int_equal(sm_db_errno(SQLITE_BUSY), -EBUSY);
	assert_int_equal(sm_db_errno(SQLITE_BUSY_SNAPSHOT), -EBUSY);
	assert_int_equal(sm_db_errno(SQLITE_LOCKED), -EBUSY);
	assert_int_equal(sm_db_errno(SQLITE_NOMEM), -ENOMEM);
	assert_int_equal(sm_db_errno(SQLITE_READONLY), -EROFS);
	assert_int_equal(sm_db_errno(SQLITE_CONSTRAINT_UNIQUE), -EEXIST);
	assert_int_equal(sm_db_errno(SQLITE_CONSTRAINT_PRIMARYKEY), -EEXIST);
	assert_int_equal(sm_db_errno(SQLITE_CONSTRAINT_FOREIGNKEY), -ENOENT);
	assert_int_equal(sm_db_errno(SQLITE_CONSTRAINT_CHECK), -EINVAL);
	assert_int_equal(sm_db_errno(SQLITE_CONSTRAINT_NOTNULL), -EINVAL);
	assert_int_equal(sm_db_errno(SQLITE_CORRUPT), -EBADMSG);
	assert_int_equal(sm_db_errno(SQLITE_NOTADB), -EBADMSG);
	assert_int_equal(sm_db_errno(SQLITE_FULL), -ENOSPC);
	assert_int_equal(sm_db_errno(SQLITE_TOOBIG), -E2BIG);
	assert_int_equal(sm_db_errno(SQLITE_IOERR_WRITE), -EIO);
	assert_int_equal(sm_db_errno(SQLITE_PERM), -EACCES);
	assert_int_equal(sm_db_errno(SQLITE_INTERRUPT), -EINTR);
	assert_int_equal(sm_db_errno(SQLITE_ERROR), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_applies_all_migrations, setup, teardown),
	    cmocka_unit_test(test_migration_info),
	    cmocka_unit_test_setup_teardown(test_down_and_up_keeps_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_step_by_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_folder, setup, teardown),
	    cmocka_unit_test(test_memory_database),
	    cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_connections, setup, teardown),
	    cmocka_unit_test(test_errno_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
