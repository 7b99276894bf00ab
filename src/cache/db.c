/* SPDX-License-Identifier: MIT */
/*
 * The cache database connection: open with pragmas, error mapping, and the
 * embedded schema migrations. Data queries live in store.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cache/db_internal.h"
#include "skillmeat/db.h"
#include "skillmeat/error.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

struct sm_db {
	sqlite3 *h;
	char *path;
	bool readonly;
	/* trouble this connection has met (sm_db_trouble), and the reset generation then */
	unsigned trouble;
	unsigned trouble_gen;
	char trouble_msg[256]; /* the message of the failure that showed it */
};

/*
 * Resets of a database's content (sm_db_replace, the reset at open) are
 * serialized in the process, and counted: a connection that met corruption
 * before the last reset need not reset again.
 */
static pthread_mutex_t reset_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned reset_gen;

struct migration {
	int version;
	const char *name;
	const char *up;
	const char *down;
};

/*
 * The schema. Keep every migration's down the exact inverse of its up, and
 * never edit a migration once released: add a new one.
 *
 * artifacts.id is the rowid the FTS and label tables point at (an explicit
 * INTEGER PRIMARY KEY, so VACUUM never renumbers it); uuid is the identity
 * everything else uses. revision counts content changes; row_hash is a hash
 * over the cached content (the artifact's ETag); synced_at is milliseconds
 * since the epoch (NULL = never synced).
 */
/* clang-format off */
static const char m1_up[] =
	"CREATE TABLE artifacts ("
	" id INTEGER PRIMARY KEY,"
	" uuid TEXT NOT NULL UNIQUE"
	"  CHECK (length(uuid) = 32 AND NOT uuid GLOB '*[^0-9a-f]*'),"
	" collection TEXT NOT NULL CHECK (length(collection) > 0),"
	" type TEXT NOT NULL CHECK (length(type) > 0),"
	" name TEXT NOT NULL CHECK (length(name) > 0),"
	" path TEXT,"
	" title TEXT,"
	" description TEXT,"
	" author TEXT,"
	" license TEXT,"
	" tags_json TEXT CHECK (tags_json IS NULL OR"
	"  CASE WHEN json_valid(tags_json) THEN json_type(tags_json) = 'array' ELSE 0 END),"
	" tools_json TEXT CHECK (tools_json IS NULL OR"
	"  CASE WHEN json_valid(tools_json) THEN json_type(tools_json) = 'array' ELSE 0 END),"
	" version TEXT,"
	" source TEXT,"
	" origin TEXT,"
	" origin_source TEXT,"
	" upstream TEXT,"
	" version_spec TEXT,"
	" resolved_sha TEXT,"
	" resolved_version TEXT,"
	" added TEXT,"
	" content_hash TEXT,"
	" lock_hash TEXT,"
	" file_count INTEGER NOT NULL DEFAULT 0,"
	" total_size INTEGER NOT NULL DEFAULT 0,"
	" fingerprint TEXT,"
	" stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),"
	" synced_at INTEGER,"
	" revision INTEGER NOT NULL DEFAULT 1,"
	" row_hash TEXT NOT NULL,"
	" UNIQUE (collection, type, name)"
	");"
	"CREATE INDEX idx_artifacts_key ON artifacts (type, name, collection);"
	"CREATE TABLE user_collections ("
	" id TEXT PRIMARY KEY CHECK (id = 'default' OR"
	"  (length(id) = 32 AND NOT id GLOB '*[^0-9a-f]*')),"
	" name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),"
	" description TEXT,"
	" collection_type TEXT,"
	" context_category TEXT,"
	" created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX idx_user_collections_type ON user_collections (collection_type, id);"
	"CREATE TABLE collection_artifacts ("
	" collection_id TEXT NOT NULL REFERENCES user_collections (id)"
	"  ON DELETE CASCADE ON UPDATE CASCADE,"
	" artifact_uuid TEXT NOT NULL REFERENCES artifacts (uuid)"
	"  ON DELETE CASCADE ON UPDATE CASCADE,"
	" added_at TEXT NOT NULL,"
	" PRIMARY KEY (collection_id, artifact_uuid)"
	") WITHOUT ROWID;"
	"CREATE INDEX idx_collection_artifacts_artifact"
	" ON collection_artifacts (artifact_uuid, collection_id);";

static const char m1_down[] =
	"DROP TABLE collection_artifacts;"
	"DROP TABLE user_collections;"
	"DROP TABLE artifacts;";

/*
 * Full-text search. The FTS table keeps its own copy of the text (rowid =
 * artifacts.id); tags are the JSON array's strings joined by spaces. The
 * update trigger fires only when an indexed column really changed, so a sync
 * that only touches synced_at never rewrites the index.
 */
#define FTS_ROW(r)                                                                                 \
	"(" r ".id, " r ".name, " r ".title, " r ".description,"                                   \
	" (SELECT group_concat(value, ' ') FROM json_each(" r ".tags_json)"                        \
	"  WHERE type = 'text'))"

static const char m2_up[] =
	"CREATE VIRTUAL TABLE artifact_fts USING fts5("
	" name, title, description, tags,"
	" tokenize = 'unicode61 remove_diacritics 2');"
	"INSERT INTO artifact_fts (rowid, name, title, description, tags)"
	" SELECT a.id, a.name, a.title, a.description,"
	" (SELECT group_concat(value, ' ') FROM json_each(a.tags_json) WHERE type = 'text')"
	" FROM artifacts a;"
	"CREATE TRIGGER artifacts_fts_insert AFTER INSERT ON artifacts BEGIN"
	" INSERT INTO artifact_fts (rowid, name, title, description, tags) VALUES " FTS_ROW("NEW") ";"
	" END;"
	"CREATE TRIGGER artifacts_fts_delete AFTER DELETE ON artifacts BEGIN"
	" DELETE FROM artifact_fts WHERE rowid = OLD.id;"
	" END;"
	"CREATE TRIGGER artifacts_fts_update AFTER UPDATE OF name, title, description, tags_json"
	" ON artifacts WHEN OLD.name IS NOT NEW.name OR OLD.title IS NOT NEW.title"
	" OR OLD.description IS NOT NEW.description OR OLD.tags_json IS NOT NEW.tags_json BEGIN"
	" DELETE FROM artifact_fts WHERE rowid = OLD.id;"
	" INSERT INTO artifact_fts (rowid, name, title, description, tags) VALUES " FTS_ROW("NEW") ";"
	" END;";

static const char m2_down[] =
	"DROP TRIGGER artifacts_fts_update;"
	"DROP TRIGGER artifacts_fts_delete;"
	"DROP TRIGGER artifacts_fts_insert;"
	"DROP TABLE artifact_fts;";

/* Staleness: the refresher and `cache status` read these (orig §8.12). */
static const char m3_up[] =
	"CREATE INDEX idx_artifacts_synced_at ON artifacts (synced_at);"
	"CREATE INDEX idx_artifacts_stale ON artifacts (id) WHERE stale = 1;";

static const char m3_down[] =
	"DROP INDEX idx_artifacts_stale;"
	"DROP INDEX idx_artifacts_synced_at;";

/*
 * Tag and tool filters: one row per (lower-cased) label, kept in step with
 * tags_json / tools_json by triggers, so `?tags=` and `?tools=` use an index
 * instead of parsing every row's JSON.
 */
#define LABEL_TABLE(t, col)                                                                        \
	"CREATE TABLE artifact_" t " ("                                                            \
	" label TEXT NOT NULL,"                                                                    \
	" artifact_id INTEGER NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,"               \
	" PRIMARY KEY (label, artifact_id)) WITHOUT ROWID;"                                        \
	"CREATE INDEX idx_artifact_" t "_artifact ON artifact_" t " (artifact_id);"                \
	"INSERT OR IGNORE INTO artifact_" t " (label, artifact_id)"                                \
	" SELECT lower(j.value), a.id FROM artifacts a, json_each(a." col ") j"                    \
	" WHERE j.type = 'text';"                                                                  \
	"CREATE TRIGGER artifacts_" t "_insert AFTER INSERT ON artifacts BEGIN"                    \
	" INSERT OR IGNORE INTO artifact_" t " (label, artifact_id)"                               \
	"  SELECT lower(value), NEW.id FROM json_each(NEW." col ") WHERE type = 'text';"           \
	" END;"                                                                                    \
	"CREATE TRIGGER artifacts_" t "_update AFTER UPDATE OF " col " ON artifacts"               \
	" WHEN OLD." col " IS NOT NEW." col " BEGIN"                                               \
	" DELETE FROM artifact_" t " WHERE artifact_id = OLD.id;"                                  \
	" INSERT OR IGNORE INTO artifact_" t " (label, artifact_id)"                               \
	"  SELECT lower(value), NEW.id FROM json_each(NEW." col ") WHERE type = 'text';"           \
	" END;"

static const char m4_up[] = LABEL_TABLE("tags", "tags_json") LABEL_TABLE("tools", "tools_json");

static const char m4_down[] =
	"DROP TRIGGER artifacts_tools_update;"
	"DROP TRIGGER artifacts_tools_insert;"
	"DROP TABLE artifact_tools;"
	"DROP TRIGGER artifacts_tags_update;"
	"DROP TRIGGER artifacts_tags_insert;"
	"DROP TABLE artifact_tags;";

/* Resolving a bare name ("show canvas") across types and collections. */
static const char m5_up[] = "CREATE INDEX idx_artifacts_name ON artifacts (name, type, collection);";

static const char m5_down[] = "DROP INDEX idx_artifacts_name;";

/*
 * The database revision (list ETags, spec/API.md): an epoch drawn when the
 * table is made (so a rebuilt database never repeats an old value) and a
 * counter every visible change bumps, whoever writes. A sync that only
 * touches synced_at or the stale flag does not count.
 */
#define REV_TRIGGER(name, when)                                                                    \
	"CREATE TRIGGER " name " " when " BEGIN UPDATE db_revision SET n = n + 1; END;"

static const char m6_up[] =
	"CREATE TABLE db_revision ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" epoch TEXT NOT NULL,"
	" n INTEGER NOT NULL);"
	"INSERT INTO db_revision (id, epoch, n) VALUES (1, lower(hex(randomblob(8))), 0);"
	REV_TRIGGER("rev_artifacts_insert", "AFTER INSERT ON artifacts")
	REV_TRIGGER("rev_artifacts_delete", "AFTER DELETE ON artifacts")
	REV_TRIGGER("rev_artifacts_update", "AFTER UPDATE ON artifacts"
		    " WHEN OLD.row_hash IS NOT NEW.row_hash OR OLD.uuid IS NOT NEW.uuid")
	REV_TRIGGER("rev_members_insert", "AFTER INSERT ON collection_artifacts")
	REV_TRIGGER("rev_members_delete", "AFTER DELETE ON collection_artifacts")
	REV_TRIGGER("rev_members_update", "AFTER UPDATE ON collection_artifacts")
	REV_TRIGGER("rev_collections_insert", "AFTER INSERT ON user_collections")
	REV_TRIGGER("rev_collections_delete", "AFTER DELETE ON user_collections")
	REV_TRIGGER("rev_collections_update", "AFTER UPDATE ON user_collections");

static const char m6_down[] =
	"DROP TRIGGER rev_collections_update;"
	"DROP TRIGGER rev_collections_delete;"
	"DROP TRIGGER rev_collections_insert;"
	"DROP TRIGGER rev_members_update;"
	"DROP TRIGGER rev_members_delete;"
	"DROP TRIGGER rev_members_insert;"
	"DROP TRIGGER rev_artifacts_update;"
	"DROP TRIGGER rev_artifacts_delete;"
	"DROP TRIGGER rev_artifacts_insert;"
	"DROP TABLE db_revision;";

/*
 * 7: what each collection's manifest and lock looked like (stat) at its last
 * full sync, so a warm sync can skip parsing an unchanged manifest.
 */
static const char m7_up[] =
	"CREATE TABLE sync_state ("
	" collection TEXT PRIMARY KEY,"
	" files_fp TEXT NOT NULL);";

static const char m7_down[] = "DROP TABLE sync_state;";

/*
 * 8: a bulk sync may defer the full-text index: while fts_defer holds a row
 * (only inside the syncing transaction), inserts skip the per-row FTS insert,
 * and the sync indexes all its new rows with one INSERT ... SELECT at the end.
 */
static const char m8_up[] =
	"CREATE TABLE fts_defer (id INTEGER PRIMARY KEY CHECK (id = 1));"
	"DROP TRIGGER artifacts_fts_insert;"
	"CREATE TRIGGER artifacts_fts_insert AFTER INSERT ON artifacts"
	" WHEN NOT EXISTS (SELECT 1 FROM fts_defer) BEGIN"
	" INSERT INTO artifact_fts (rowid, name, title, description, tags) VALUES " FTS_ROW("NEW") ";"
	" END;";

static const char m8_down[] =
	"DROP TRIGGER artifacts_fts_insert;"
	"CREATE TRIGGER artifacts_fts_insert AFTER INSERT ON artifacts BEGIN"
	" INSERT INTO artifact_fts (rowid, name, title, description, tags) VALUES " FTS_ROW("NEW") ";"
	" END;"
	"DROP TABLE fts_defer;";

/*
 * 9: search finds body text. artifact_text holds the text of an artifact's
 * text files (capped per artifact by the sync); the full-text table gains a
 * body column and prefix indexes, and artifact_vocab (its vocabulary) lets a
 * query word that matches nothing be widened to close spellings.
 */
#define FTS9_EXPRS(r)                                                                              \
	r ".id, " r ".name, " r ".title, " r ".description,"                                       \
	" (SELECT group_concat(value, ' ') FROM json_each(" r ".tags_json)"                        \
	"  WHERE type = 'text'),"                                                                  \
	" (SELECT body FROM artifact_text WHERE artifact_id = " r ".id)"
#define FTS9_ROW(r) "(" FTS9_EXPRS(r) ")"
#define FTS9_COLS "(rowid, name, title, description, tags, body)"

/* the FTS5 index of migration 9 and its triggers (migration 9 up, migration 12 down) */
#define FTS9_SCHEMA                                                                                \
	"CREATE VIRTUAL TABLE artifact_fts USING fts5("                                            \
	" name, title, description, tags, body,"                                                   \
	" tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');"                            \
	"CREATE VIRTUAL TABLE artifact_vocab USING fts5vocab(artifact_fts, 'row');"                \
	"INSERT INTO artifact_fts " FTS9_COLS " SELECT " FTS9_EXPRS("a") " FROM artifacts a;"      \
	"CREATE TRIGGER artifacts_fts_insert AFTER INSERT ON artifacts"                            \
	" WHEN NOT EXISTS (SELECT 1 FROM fts_defer) BEGIN"                                         \
	" INSERT INTO artifact_fts " FTS9_COLS " VALUES " FTS9_ROW("NEW") ";"                      \
	" END;"                                                                                    \
	"CREATE TRIGGER artifacts_fts_delete AFTER DELETE ON artifacts BEGIN"                      \
	" DELETE FROM artifact_fts WHERE rowid = OLD.id;"                                          \
	" END;"                                                                                    \
	"CREATE TRIGGER artifacts_fts_update AFTER UPDATE OF name, title, description, tags_json"  \
	" ON artifacts WHEN OLD.name IS NOT NEW.name OR OLD.title IS NOT NEW.title"                \
	" OR OLD.description IS NOT NEW.description OR OLD.tags_json IS NOT NEW.tags_json BEGIN"   \
	" DELETE FROM artifact_fts WHERE rowid = OLD.id;"                                          \
	" INSERT INTO artifact_fts " FTS9_COLS " VALUES " FTS9_ROW("NEW") ";"                      \
	" END;"                                                                                    \
	"CREATE TRIGGER artifact_text_insert AFTER INSERT ON artifact_text"                        \
	" WHEN NOT EXISTS (SELECT 1 FROM fts_defer) BEGIN"                                         \
	" DELETE FROM artifact_fts WHERE rowid = NEW.artifact_id;"                                 \
	" INSERT INTO artifact_fts " FTS9_COLS " SELECT " FTS9_EXPRS("a")                          \
	" FROM artifacts a WHERE a.id = NEW.artifact_id;"                                          \
	" END;"                                                                                    \
	"CREATE TRIGGER artifact_text_update AFTER UPDATE ON artifact_text"                        \
	" WHEN OLD.body IS NOT NEW.body BEGIN"                                                     \
	" DELETE FROM artifact_fts WHERE rowid = NEW.artifact_id;"                                 \
	" INSERT INTO artifact_fts " FTS9_COLS " SELECT " FTS9_EXPRS("a")                          \
	" FROM artifacts a WHERE a.id = NEW.artifact_id;"                                          \
	" END;"

static const char m9_up[] =
	"CREATE TABLE artifact_text ("
	" artifact_id INTEGER PRIMARY KEY REFERENCES artifacts (id) ON DELETE CASCADE,"
	" body TEXT NOT NULL);"
	"DROP TRIGGER artifacts_fts_update;"
	"DROP TRIGGER artifacts_fts_delete;"
	"DROP TRIGGER artifacts_fts_insert;"
	"DROP TABLE artifact_fts;"
	FTS9_SCHEMA
	/* the next sync of each collection re-reads every artifact (sync.c), filling artifact_text */
	"INSERT INTO sync_state (collection, files_fp) SELECT DISTINCT collection, 'reread-all'"
	" FROM artifacts WHERE true"
	" ON CONFLICT (collection) DO UPDATE SET files_fp = 'reread-all';";

static const char m9_down[] =
	"DELETE FROM sync_state WHERE files_fp = 'reread-all';"
	"DROP TRIGGER artifact_text_update;"
	"DROP TRIGGER artifact_text_insert;"
	"DROP TRIGGER artifacts_fts_update;"
	"DROP TRIGGER artifacts_fts_delete;"
	"DROP TRIGGER artifacts_fts_insert;"
	"DROP TABLE artifact_vocab;"
	"DROP TABLE artifact_fts;"
	"DROP TABLE artifact_text;"
	"CREATE VIRTUAL TABLE artifact_fts USING fts5("
	" name, title, description, tags,"
	" tokenize = 'unicode61 remove_diacritics 2');"
	"INSERT INTO artifact_fts (rowid, name, title, description, tags)"
	" SELECT a.id, a.name, a.title, a.description,"
	" (SELECT group_concat(value, ' ') FROM json_each(a.tags_json) WHERE type = 'text')"
	" FROM artifacts a;"
	"CREATE TRIGGER artifacts_fts_insert AFTER INSERT ON artifacts"
	" WHEN NOT EXISTS (SELECT 1 FROM fts_defer) BEGIN"
	" INSERT INTO artifact_fts (rowid, name, title, description, tags) VALUES " FTS_ROW("NEW") ";"
	" END;"
	"CREATE TRIGGER artifacts_fts_delete AFTER DELETE ON artifacts BEGIN"
	" DELETE FROM artifact_fts WHERE rowid = OLD.id;"
	" END;"
	"CREATE TRIGGER artifacts_fts_update AFTER UPDATE OF name, title, description, tags_json"
	" ON artifacts WHEN OLD.name IS NOT NEW.name OR OLD.title IS NOT NEW.title"
	" OR OLD.description IS NOT NEW.description OR OLD.tags_json IS NOT NEW.tags_json BEGIN"
	" DELETE FROM artifact_fts WHERE rowid = OLD.id;"
	" INSERT INTO artifact_fts (rowid, name, title, description, tags) VALUES " FTS_ROW("NEW") ";"
	" END;";

/*
 * 10: the newest mtime of an artifact's files (sort by "updated"). A sync
 * reads a row without it again (sync.c), which fills it.
 */
static const char m10_up[] = "ALTER TABLE artifacts ADD COLUMN updated TEXT;";

static const char m10_down[] = "ALTER TABLE artifacts DROP COLUMN updated;";

/*
 * 11: the deployments of the projects listed in the home's projects.toml, as
 * their tracking files record them (an index: rebuilt from the files).
 */
static const char m11_up[] =
	"CREATE TABLE deployments ("
	" project TEXT NOT NULL,"
	" root TEXT NOT NULL,"
	" profile_id TEXT NOT NULL,"
	" collection TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" artifact_path TEXT NOT NULL,"
	" deployed_at TEXT,"
	" content_hash TEXT,"
	" platform TEXT,"
	" local_modifications INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (project, root, profile_id, type, name));"
	"CREATE INDEX idx_deployments_artifact ON deployments (collection, type, name);"
	REV_TRIGGER("rev_deployments_insert", "AFTER INSERT ON deployments")
	REV_TRIGGER("rev_deployments_delete", "AFTER DELETE ON deployments");

static const char m11_down[] =
	"DROP TRIGGER rev_deployments_delete;"
	"DROP TRIGGER rev_deployments_insert;"
	"DROP TABLE deployments;";

/*
 * 12: search reads less and the text is stored once. artifact_search holds
 * each artifact's searchable document (name, title, description, tags,
 * the text of its files); the full-text table indexes it as external
 * content instead of keeping a copy of its own (the text was stored twice).
 * Triggers keep the document in step with artifacts, and the index with the
 * document (the old tokens are removed with the old values, as FTS5 needs).
 * A bulk sync defers the rows above fts_defer.mark: their documents exist,
 * their index entries come from its one flush. idx_artifacts_search covers
 * what a search page sorts, filters and joins on, so thousands of matches
 * are visited without their whole rows.
 */
#define FTS12_COLS "name, title, description, tags, body"
#define FTS12_LIVE(id) " NOT EXISTS (SELECT 1 FROM fts_defer WHERE " id " > mark)"
#define FTS12_TAGS(r)                                                                              \
	"(SELECT group_concat(value, ' ') FROM json_each(" r ".tags_json) WHERE type = 'text')"
#define FTS12_VALUES(r)                                                                            \
	r ".artifact_id, " r ".name, " r ".title, " r ".description, " r ".tags, " r ".body"

static const char m12_up[] =
	"CREATE TABLE artifact_search ("
	" artifact_id INTEGER PRIMARY KEY REFERENCES artifacts (id) ON DELETE CASCADE,"
	" name TEXT, title TEXT, description TEXT, tags TEXT, body TEXT);"
	"INSERT INTO artifact_search (artifact_id, " FTS12_COLS ")"
	" SELECT a.id, a.name, a.title, a.description, " FTS12_TAGS("a") ", t.body"
	" FROM artifacts a LEFT JOIN artifact_text t ON t.artifact_id = a.id;"
	"DROP TRIGGER artifact_text_update;"
	"DROP TRIGGER artifact_text_insert;"
	"DROP TRIGGER artifacts_fts_update;"
	"DROP TRIGGER artifacts_fts_delete;"
	"DROP TRIGGER artifacts_fts_insert;"
	"DROP TABLE artifact_vocab;"
	"DROP TABLE artifact_fts;"
	"DROP TABLE artifact_text;"
	"DROP TABLE fts_defer;"
	"CREATE TABLE fts_defer ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" mark INTEGER NOT NULL DEFAULT 0);"
	"CREATE VIRTUAL TABLE artifact_fts USING fts5(" FTS12_COLS ","
	" content = 'artifact_search', content_rowid = 'artifact_id',"
	" tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');"
	"CREATE VIRTUAL TABLE artifact_vocab USING fts5vocab(artifact_fts, 'row');"
	"INSERT INTO artifact_fts (artifact_fts) VALUES ('rebuild');"
	/* the document follows its artifact */
	"CREATE TRIGGER artifacts_search_insert AFTER INSERT ON artifacts BEGIN"
	" INSERT INTO artifact_search (artifact_id, name, title, description, tags)"
	" VALUES (NEW.id, NEW.name, NEW.title, NEW.description, " FTS12_TAGS("NEW") ");"
	" END;"
	"CREATE TRIGGER artifacts_search_update AFTER UPDATE OF name, title, description, tags_json"
	" ON artifacts WHEN OLD.name IS NOT NEW.name OR OLD.title IS NOT NEW.title"
	" OR OLD.description IS NOT NEW.description OR OLD.tags_json IS NOT NEW.tags_json BEGIN"
	" UPDATE artifact_search SET name = NEW.name, title = NEW.title,"
	" description = NEW.description, tags = " FTS12_TAGS("NEW")
	" WHERE artifact_id = NEW.id;"
	" END;"
	"CREATE TRIGGER artifacts_search_delete BEFORE DELETE ON artifacts BEGIN"
	" DELETE FROM artifact_search WHERE artifact_id = OLD.id;"
	" END;"
	/* the index follows the document */
	"CREATE TRIGGER artifact_search_insert AFTER INSERT ON artifact_search"
	" WHEN" FTS12_LIVE("NEW.artifact_id") " BEGIN"
	" INSERT INTO artifact_fts (rowid, " FTS12_COLS ") VALUES (" FTS12_VALUES("NEW") ");"
	" END;"
	"CREATE TRIGGER artifact_search_delete AFTER DELETE ON artifact_search"
	" WHEN" FTS12_LIVE("OLD.artifact_id") " BEGIN"
	" INSERT INTO artifact_fts (artifact_fts, rowid, " FTS12_COLS ")"
	" VALUES ('delete', " FTS12_VALUES("OLD") ");"
	" END;"
	"CREATE TRIGGER artifact_search_update AFTER UPDATE ON artifact_search"
	" WHEN" FTS12_LIVE("NEW.artifact_id") " AND (OLD.name IS NOT NEW.name"
	" OR OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description"
	" OR OLD.tags IS NOT NEW.tags OR OLD.body IS NOT NEW.body) BEGIN"
	" INSERT INTO artifact_fts (artifact_fts, rowid, " FTS12_COLS ")"
	" VALUES ('delete', " FTS12_VALUES("OLD") ");"
	" INSERT INTO artifact_fts (rowid, " FTS12_COLS ") VALUES (" FTS12_VALUES("NEW") ");"
	" END;"
	"CREATE INDEX idx_artifacts_search"
	" ON artifacts (id, type, name, collection, uuid, added, updated);";

static const char m12_down[] =
	"DROP INDEX idx_artifacts_search;"
	"CREATE TABLE artifact_text ("
	" artifact_id INTEGER PRIMARY KEY REFERENCES artifacts (id) ON DELETE CASCADE,"
	" body TEXT NOT NULL);"
	"INSERT INTO artifact_text (artifact_id, body)"
	" SELECT artifact_id, body FROM artifact_search WHERE body IS NOT NULL;"
	"DROP TRIGGER artifact_search_update;"
	"DROP TRIGGER artifact_search_delete;"
	"DROP TRIGGER artifact_search_insert;"
	"DROP TRIGGER artifacts_search_delete;"
	"DROP TRIGGER artifacts_search_update;"
	"DROP TRIGGER artifacts_search_insert;"
	"DROP TABLE artifact_vocab;"
	"DROP TABLE artifact_fts;"
	"DROP TABLE artifact_search;"
	"DROP TABLE fts_defer;"
	"CREATE TABLE fts_defer (id INTEGER PRIMARY KEY CHECK (id = 1));"
	FTS9_SCHEMA;

/* SQL for the store's bulk mode (store_sqlite.c): the documents it deferred, indexed at once. */
const char sm_db_sql_fts_flush[] =
	"INSERT INTO artifact_fts (rowid, " FTS12_COLS ")"
	" SELECT " FTS12_VALUES("s") " FROM artifact_search s WHERE s.artifact_id > :max";

static const struct migration migrations[] = {
	{ 1, "base schema", m1_up, m1_down },
	{ 2, "full-text search", m2_up, m2_down },
	{ 3, "staleness indexes", m3_up, m3_down },
	{ 4, "tag and tool indexes", m4_up, m4_down },
	{ 5, "name index", m5_up, m5_down },
	{ 6, "database revision", m6_up, m6_down },
	{ 7, "sync state", m7_up, m7_down },
	{ 8, "deferred full-text indexing", m8_up, m8_down },
	{ 9, "body text search", m9_up, m9_down },
	{ 10, "updated time", m10_up, m10_down },
	{ 11, "deployments index", m11_up, m11_down },
	{ 12, "search reads less, text stored once", m12_up, m12_down },
};

static const char bootstrap_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));";
/* clang-format on */

int sm_db_errno(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
	case SQLITE_CONSTRAINT_DATATYPE:
		return -EINVAL;
	default:
		break;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_PROTOCOL:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOTFOUND:
		return -ENOENT;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		return -EINVAL;
	case SQLITE_INTERRUPT:
		return -EINTR;
	case SQLITE_ABORT:
		return -ECANCELED;
	case SQLITE_SCHEMA:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

sqlite3 *sm_db_handle(struct sm_db *db)
{
	return db->h;
}

const char *sm_db_path(const struct sm_db *db)
{
	return db->path;
}

int sm_db_fail(struct sm_db *db, int rc, struct strbuf *err, const char *fmt, ...)
{
	int code = sm_db_errno(rc);
	struct strbuf what = STRBUF_INIT;
	va_list ap;

	if (!code)
		code = -EIO;
	/* a failed open has an errno worth more than SQLite's generic code */
	if ((rc & 0xff) == SQLITE_CANTOPEN && db && db->h) {
		int sys = sqlite3_system_errno(db->h);

		if (sys > 0)
			code = -sys;
	}
	/* a write refused for space (or a file size limit) is a full disk, whatever the step */
	if ((rc & 0xff) == SQLITE_IOERR && db && db->h) {
		int sys = sqlite3_system_errno(db->h);

		if (sys == ENOSPC || sys == EDQUOT || sys == EFBIG)
			code = -ENOSPC;
	}
	if (db && (code == -EBADMSG || code == -ENOSPC)) {
		db->trouble |= code == -EBADMSG ? SM_DB_CORRUPT : SM_DB_FULL;
		db->trouble_gen = __atomic_load_n(&reset_gen, __ATOMIC_ACQUIRE);
		snprintf(db->trouble_msg, sizeof(db->trouble_msg), "%s",
			 db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
	}
	if (!err)
		return code;
	va_start(ap, fmt);
	if (sm_strbuf_vaddf(&what, fmt, ap) < 0)
		sm_strbuf_reset(&what);
	va_end(ap);
	sm_err(err, code, "%s: %s", what.buf,
	       db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
	sm_strbuf_release(&what);
	return code;
}

int sm_db_exec(struct sm_db *db, const char *sql, struct strbuf *err)
{
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return sm_db_fail(db, rc, err, "cannot run sql on '%s'", db->path);
	return 0;
}

int sm_db_latest_version(void)
{
	return migrations[SM_ARRAY_SIZE(migrations) - 1].version;
}

int sm_db_migration_info(int i, struct sm_db_migration_info *ret)
{
	if (i < 0 || (size_t)i >= SM_ARRAY_SIZE(migrations))
		return -ENOENT;
	ret->version = migrations[i].version;
	ret->name = migrations[i].name;
	return 0;
}

static int has_migrations_table(struct sm_db *db, bool *ret, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db->h,
				"SELECT 1 FROM sqlite_master WHERE type = 'table'"
				" AND name = 'schema_migrations'",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return sm_db_fail(db, rc, err, "cannot read schema of '%s'", db->path);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sm_db_fail(db, rc, err, "cannot read schema of '%s'", db->path);
	*ret = rc == SQLITE_ROW;
	return 0;
}

int sm_db_version(struct sm_db *db, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	bool exists = false;
	int rc, r;

	r = has_migrations_table(db, &exists, err);
	if (r < 0)
		return r;
	if (!exists)
		return 0;
	rc = sqlite3_prepare_v2(db->h, "SELECT coalesce(max(version), 0) FROM schema_migrations",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return sm_db_fail(db, rc, err, "cannot read schema version of '%s'", db->path);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = sm_db_fail(db, rc, err, "cannot read schema version of '%s'", db->path);
		sqlite3_finalize(st);
		return r;
	}
	r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r;
}

static int record_version(struct sm_db *db, const struct migration *m, bool up, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db->h,
				up ? "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)"
				   : "DELETE FROM schema_migrations WHERE version = ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 1, m->version);
	if (rc == SQLITE_OK && up)
		rc = sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = sm_db_fail(db, rc, err, "cannot record migration %d", m->version);
	sqlite3_finalize(st);
	return r;
}

/*
 * Apply one step from version `from` toward `target` inside one IMMEDIATE
 * transaction. The version is read again under the write lock, so a second
 * process migrating at the same time sees the first one's work. Returns the
 * version reached.
 */
static int migrate_step(struct sm_db *db, int target, struct strbuf *err)
{
	const struct migration *m = NULL;
	int cur, r;
	bool up;

	r = sm_db_exec(db, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	r = sm_db_exec(db, bootstrap_sql, err);
	if (r < 0)
		goto rollback;
	cur = sm_db_version(db, err);
	if (cur < 0) {
		r = cur;
		goto rollback;
	}
	if (cur == target) {
		r = sm_db_exec(db, "COMMIT", err);
		return r < 0 ? r : cur;
	}
	up = cur < target;
	for (size_t i = 0; i < SM_ARRAY_SIZE(migrations); i++) {
		if (migrations[i].version == (up ? cur + 1 : cur))
			m = &migrations[i];
	}
	if (!m) {
		r = sm_err(err, -ENOTSUP, "'%s' has schema version %d, unknown to this skillmeat",
			   db->path, cur);
		goto rollback;
	}
	r = sqlite3_exec(db->h, up ? m->up : m->down, NULL, NULL, NULL);
	if (r != SQLITE_OK) {
		r = sm_db_fail(db, r, err, "migration %d (%s) %s failed", m->version, m->name,
			       up ? "up" : "down");
		goto rollback;
	}
	r = record_version(db, m, up, err);
	if (r < 0)
		goto rollback;
	r = sm_db_exec(db, "COMMIT", err);
	if (r < 0)
		goto rollback;
	return up ? m->version : m->version - 1;
rollback:
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int sm_db_migrate_to(struct sm_db *db, int version, struct strbuf *err)
{
	int cur;

	if (version < 0 || version > sm_db_latest_version())
		return sm_err(err, -EINVAL, "schema version %d out of range 0..%d", version,
			      sm_db_latest_version());
	if (db->readonly)
		return sm_err(err, -EROFS, "cannot migrate '%s': opened read-only", db->path);
	cur = sm_db_version(db, err);
	if (cur < 0)
		return cur;
	if (cur > sm_db_latest_version())
		return sm_err(err, -ENOTSUP,
			      "'%s' has schema version %d, newer than this skillmeat (%d)",
			      db->path, cur, sm_db_latest_version());
	while (cur != version) {
		cur = migrate_step(db, version, err);
		if (cur < 0)
			return cur;
	}
	return cur;
}

static int set_pragmas(struct sm_db *db, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	rc = sqlite3_busy_timeout(db->h, SM_DB_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK)
		return sm_db_fail(db, rc, err, "cannot set busy timeout on '%s'", db->path);
	r = sm_db_exec(db,
		       "PRAGMA foreign_keys = ON;"
		       "PRAGMA synchronous = NORMAL;"
		       "PRAGMA temp_store = MEMORY;"
		       /* a search visits thousands of rows: its pages must stay cached */
		       "PRAGMA cache_size = -8192;",
		       err);
	if (r < 0 || db->readonly)
		return r;
	/* journal_mode answers with the mode in effect: "memory" for :memory: */
	rc = sqlite3_prepare_v2(db->h, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = sm_db_fail(db, rc, err, "cannot set WAL mode on '%s'", db->path);
		sqlite3_finalize(st);
		return r;
	}
	sqlite3_finalize(st);
	/*
	 * The WAL and its index outlive the last close, emptied (a non-negative
	 * size limit truncates the WAL to 0 after the closing checkpoint): every
	 * short-lived verb created both and unlinked both again.
	 */
	{
		int on = 1;

		(void)sqlite3_file_control(db->h, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	}
	return sm_db_exec(db, "PRAGMA journal_size_limit = 4194304;", err);
}

/* Pragmas, migrations (unless told not to), and a check that the file is a database. */
static int open_checks(struct sm_db *db, unsigned flags, struct strbuf *err)
{
	int r = set_pragmas(db, err);

	if (r < 0)
		return r;
	if (!(flags & (SM_DB_NO_MIGRATE | SM_DB_READONLY)))
		r = sm_db_migrate_to(db, sm_db_latest_version(), err);
	else
		r = sm_db_version(db, err); /* still reject a file that is not a database */
	return r < 0 ? r : 0;
}

/*
 * Empty the database in place, however damaged (SQLite's documented way:
 * SQLITE_DBCONFIG_RESET_DATABASE, then VACUUM). Other connections to the
 * file stay valid; they see an empty database. Caller holds reset_lock.
 */
static int reset_content(struct sm_db *db, struct strbuf *err)
{
	int rc;

	/* have the schema read (errors ignored), so WAL mode survives the reset */
	(void)sqlite3_exec(db->h, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL);
	rc = sqlite3_db_config(db->h, SQLITE_DBCONFIG_RESET_DATABASE, 1, 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->h, "VACUUM", NULL, NULL, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_RESET_DATABASE, 0, 0);
	if (rc != SQLITE_OK)
		return sm_db_fail(db, rc, err, "cannot reset '%s'", db->path);
	__atomic_add_fetch(&reset_gen, 1, __ATOMIC_ACQ_REL);
	db->trouble = 0;
	return 0;
}

/* Copy every page of src over db's main database, in one write transaction. */
static int copy_pages(struct sm_db *db, struct sm_db *src, struct strbuf *err)
{
	sqlite3_backup *b = sqlite3_backup_init(db->h, "main", src->h, "main");
	int rc;

	if (!b)
		return sm_db_fail(db, sqlite3_errcode(db->h), err, "cannot replace '%s'", db->path);
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		/* backup_finish leaves the code on the destination connection */
		return sm_db_fail(db, rc, err, "cannot replace '%s'", db->path);
	}
	return 0;
}

unsigned sm_db_trouble(const struct sm_db *db)
{
	return db ? db->trouble : 0;
}

const char *sm_db_trouble_message(const struct sm_db *db)
{
	return db && db->trouble ? db->trouble_msg : "";
}

bool sm_db_repaired_since(const struct sm_db *db)
{
	return db && (db->trouble & SM_DB_CORRUPT) &&
	       db->trouble_gen != __atomic_load_n(&reset_gen, __ATOMIC_ACQUIRE);
}

unsigned sm_db_trouble_gen(const struct sm_db *db)
{
	return db ? db->trouble_gen : 0;
}

void sm_db_set_trouble(struct sm_db *db, unsigned trouble, unsigned gen, const char *msg)
{
	if (!db)
		return;
	db->trouble = trouble;
	db->trouble_gen = gen;
	snprintf(db->trouble_msg, sizeof(db->trouble_msg), "%s", msg ? msg : "");
}

void sm_db_clear_trouble(struct sm_db *db)
{
	if (db)
		db->trouble = 0;
}

int sm_db_replace(struct sm_db *db, struct sm_db *src, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int r;

	if (db->readonly)
		return sm_err(err, -EROFS, "cannot replace '%s': opened read-only", db->path);
	pthread_mutex_lock(&reset_lock);
	if (sm_db_repaired_since(db)) {
		/* another connection of this process replaced it since we met the damage */
		db->trouble = 0;
		r = 1;
		goto out;
	}
	r = copy_pages(db, src, &why);
	if (r == -EBADMSG || r == -EIO) {
		/* a header too damaged to begin a transaction on: empty it first */
		sm_strbuf_reset(&why);
		r = reset_content(db, &why);
		if (r == 0)
			r = copy_pages(db, src, &why);
	}
	if (r < 0) {
		sm_err(err, r, "%s", why.buf);
		goto out;
	}
	__atomic_add_fetch(&reset_gen, 1, __ATOMIC_ACQ_REL);
	db->trouble = 0;
out:
	pthread_mutex_unlock(&reset_lock);
	sm_strbuf_release(&why);
	return r;
}

/*
 * Before SQLite's first use: no memory statistics (sqlite3_memory_used and
 * friends are never asked, and keeping them takes a global mutex around
 * every allocation SQLite makes).
 */
static void sqlite_config_once(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int sm_db_open(const char *path, unsigned flags, struct sm_db **ret, struct strbuf *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct sm_db *db;
	int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	int rc, r;

	if (!path || !*path)
		return sm_err(err, -EINVAL, "empty database path");
	pthread_once(&once, sqlite_config_once);
	db = sm_calloc(1, sizeof(*db));
	if (!db)
		return sm_err(err, -ENOMEM, "out of memory");
	db->path = sm_strdup(path);
	if (!db->path) {
		sm_free(db);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	db->readonly = flags & SM_DB_READONLY;
	oflags |= db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db->h, oflags, NULL);
	if (rc != SQLITE_OK) {
		r = sm_db_fail(db, rc, err, "cannot open '%s'", path);
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	r = open_checks(db, flags, err);
	if ((r == -EBADMSG || r == -ENOTSUP) && (flags & SM_DB_RESET_UNUSABLE) && !db->readonly) {
		/* only an index: empty it in place (other connections may have it open) */
		pthread_mutex_lock(&reset_lock);
		r = open_checks(db, flags, NULL);
		if (r == -EBADMSG || r == -ENOTSUP) {
			sm_log_warn("cache: '%s' is unusable (%s): emptied, the next sync rebuilds it",
				    path, err && err->len ? err->buf : sm_strerror(r));
			r = reset_content(db, err);
			if (r == 0)
				r = open_checks(db, flags, err);
			if (r == 0)
				r = 1;
		}
		pthread_mutex_unlock(&reset_lock);
	}
	if (r < 0)
		goto fail;
	db->trouble = 0;
	*ret = db;
	return r;
fail:
	sm_db_close(db);
	return r;
}

void sm_db_close(struct sm_db *db)
{
	if (!db)
		return;
	if (db->h)
		sqlite3_close_v2(db->h);
	sm_free(db->path);
	sm_free(db);
}
