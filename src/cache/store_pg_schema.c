/* SPDX-License-Identifier: MIT */
/*
 * The team store's schema (PostgreSQL): numbered migrations, each an up and
 * a down script, applied one per transaction under pg_advisory_lock by
 * sm_pg_migrate_to (store_pg.c). Every table carries tenant_id, and every
 * key starts with it.
 *
 * Text columns that are sorted or compared as keys use COLLATE "C": byte
 * order, as SQLite's, so pages and cursors are the same in both modes.
 * revision of a tenant counts the commits that changed its rows (triggers,
 * one bump per statement); each such commit also sends NOTIFY
 * skillmeat_team: the tenant id as payload (migration 1), then what changed
 * (migration 2: revision and user collections, for the listeners; migration
 * 3: the artifacts an update changed in place, whose answers alone go).
 */
#include "cache/store_pg_internal.h"

/* clang-format off */
/* migration 1's team_bump(): the tenant id alone as payload */
#define BUMP_V1 \
	"DECLARE t text;" \
	"BEGIN" \
	" IF TG_OP = 'DELETE' THEN" \
	"  FOR t IN SELECT DISTINCT tenant_id FROM old_rows LOOP" \
	"   UPDATE tenants SET revision = revision + 1 WHERE id = t;" \
	"   PERFORM pg_notify('skillmeat_team', t);" \
	"  END LOOP;" \
	" ELSE" \
	"  FOR t IN SELECT DISTINCT tenant_id FROM new_rows LOOP" \
	"   UPDATE tenants SET revision = revision + 1 WHERE id = t;" \
	"   PERFORM pg_notify('skillmeat_team', t);" \
	"  END LOOP;" \
	" END IF;" \
	" RETURN NULL;" \
	"END $$;"

static const char m1_up[] =
	"CREATE TABLE team_meta ("
	" id integer PRIMARY KEY CHECK (id = 1),"
	" epoch bigint NOT NULL"
	");"
	"INSERT INTO team_meta VALUES (1, (random() * 2147483647)::bigint);"
	"CREATE TABLE tenants ("
	" id text COLLATE \"C\" PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),"
	" serial bigserial UNIQUE,"
	" revision bigint NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE artifacts ("
	" tenant_id text COLLATE \"C\" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	" uuid text COLLATE \"C\" NOT NULL CHECK (uuid ~ '^[0-9a-f]{32}$'),"
	" collection text COLLATE \"C\" NOT NULL CHECK (length(collection) > 0),"
	" type text COLLATE \"C\" NOT NULL CHECK (length(type) > 0),"
	" name text COLLATE \"C\" NOT NULL CHECK (length(name) > 0),"
	" path text, title text, description text, author text, license text,"
	" tags_json text CHECK (tags_json IS NULL OR jsonb_typeof(tags_json::jsonb) = 'array'),"
	" tools_json text CHECK (tools_json IS NULL OR jsonb_typeof(tools_json::jsonb) = 'array'),"
	" version text, source text, origin text, origin_source text, upstream text,"
	" version_spec text, resolved_sha text, resolved_version text,"
	" added text COLLATE \"C\", updated text COLLATE \"C\","
	" content_hash text, lock_hash text,"
	" file_count bigint NOT NULL DEFAULT 0, total_size bigint NOT NULL DEFAULT 0,"
	" fingerprint text,"
	" revision bigint NOT NULL DEFAULT 1,"
	" row_hash text NOT NULL,"
	" search tsvector GENERATED ALWAYS AS ("
	"  setweight(to_tsvector('simple'::regconfig, coalesce(name, '')), 'A') ||"
	"  setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'B') ||"
	"  setweight(to_tsvector('simple'::regconfig, coalesce(tags_json, '')), 'B') ||"
	"  setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'C')) STORED,"
	" PRIMARY KEY (tenant_id, uuid),"
	" UNIQUE (tenant_id, collection, type, name)"
	");"
	"CREATE INDEX artifacts_key ON artifacts (tenant_id, type, name, collection);"
	"CREATE INDEX artifacts_name ON artifacts (tenant_id, name, type, collection);"
	"CREATE INDEX artifacts_search ON artifacts USING gin (search);"
	"CREATE TABLE artifact_files ("
	" tenant_id text COLLATE \"C\" NOT NULL,"
	" artifact_uuid text COLLATE \"C\" NOT NULL,"
	" path text COLLATE \"C\" NOT NULL CHECK (length(path) > 0),"
	" content bytea NOT NULL,"
	" PRIMARY KEY (tenant_id, artifact_uuid, path),"
	" FOREIGN KEY (tenant_id, artifact_uuid) REFERENCES artifacts (tenant_id, uuid)"
	"  ON DELETE CASCADE ON UPDATE CASCADE"
	");"
	"CREATE TABLE user_collections ("
	" tenant_id text COLLATE \"C\" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
	" id text COLLATE \"C\" NOT NULL CHECK (id = 'default' OR id ~ '^[0-9a-f]{32}$'),"
	" name text COLLATE \"C\" NOT NULL CHECK (length(name) BETWEEN 1 AND 255),"
	" description text, collection_type text COLLATE \"C\", context_category text,"
	" created_at text NOT NULL, updated_at text NOT NULL,"
	" PRIMARY KEY (tenant_id, id),"
	" UNIQUE (tenant_id, name)"
	");"
	"CREATE TABLE collection_artifacts ("
	" tenant_id text COLLATE \"C\" NOT NULL,"
	" collection_id text COLLATE \"C\" NOT NULL,"
	" artifact_uuid text COLLATE \"C\" NOT NULL,"
	" added_at text NOT NULL,"
	" PRIMARY KEY (tenant_id, collection_id, artifact_uuid),"
	" FOREIGN KEY (tenant_id, collection_id) REFERENCES user_collections (tenant_id, id)"
	"  ON DELETE CASCADE ON UPDATE CASCADE,"
	" FOREIGN KEY (tenant_id, artifact_uuid) REFERENCES artifacts (tenant_id, uuid)"
	"  ON DELETE CASCADE ON UPDATE CASCADE"
	");"
	"CREATE INDEX collection_artifacts_artifact"
	" ON collection_artifacts (tenant_id, artifact_uuid, collection_id);"
	/* one bump and one notification per statement and tenant */
	"CREATE FUNCTION team_bump() RETURNS trigger LANGUAGE plpgsql AS $$"
	BUMP_V1
#define BUMP(tbl) \
	"CREATE TRIGGER " tbl "_ins AFTER INSERT ON " tbl " REFERENCING NEW TABLE AS new_rows" \
	" FOR EACH STATEMENT EXECUTE FUNCTION team_bump();" \
	"CREATE TRIGGER " tbl "_upd AFTER UPDATE ON " tbl " REFERENCING NEW TABLE AS new_rows" \
	" FOR EACH STATEMENT EXECUTE FUNCTION team_bump();" \
	"CREATE TRIGGER " tbl "_del AFTER DELETE ON " tbl " REFERENCING OLD TABLE AS old_rows" \
	" FOR EACH STATEMENT EXECUTE FUNCTION team_bump();"
	BUMP("artifacts")
	BUMP("artifact_files")
	BUMP("user_collections")
	BUMP("collection_artifacts")
#undef BUMP
	;

static const char m1_down[] =
	"DROP TABLE collection_artifacts;"
	"DROP TABLE user_collections;"
	"DROP TABLE artifact_files;"
	"DROP TABLE artifacts;"
	"DROP FUNCTION team_bump();"
	"DROP TABLE tenants;"
	"DROP TABLE team_meta;";

/*
 * Migration 2: the notification says what changed, for the listeners'
 * invalidation (store_pg_listen.c): the payload is
 * "<epoch> <serial> <revision> <counts> <tenant>", the revision the bump
 * reached, and <counts> the user collections whose member counts changed:
 * "-" none (artifacts, files, user collection rows), "*" every one of the
 * tenant's (an UPDATE of memberships, a list too long, a tenant gone), else
 * their ids joined by ','. Tenant last: it may hold spaces.
 */
/* collection_artifacts' three triggers, made again on fn */
#define MEMBERS_TRIGGERS(fn) \
	"DROP TRIGGER collection_artifacts_ins ON collection_artifacts;" \
	"DROP TRIGGER collection_artifacts_upd ON collection_artifacts;" \
	"DROP TRIGGER collection_artifacts_del ON collection_artifacts;" \
	"CREATE TRIGGER collection_artifacts_ins AFTER INSERT ON collection_artifacts" \
	" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION " fn "();" \
	"CREATE TRIGGER collection_artifacts_upd AFTER UPDATE ON collection_artifacts" \
	" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION " fn "();" \
	"CREATE TRIGGER collection_artifacts_del AFTER DELETE ON collection_artifacts" \
	" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION " fn "();"

static const char m2_up[] =
	"CREATE FUNCTION team_note(t text, counts text) RETURNS void LANGUAGE plpgsql AS $$"
	"DECLARE s bigint; rv bigint;"
	"BEGIN"
	" UPDATE tenants SET revision = revision + 1 WHERE id = t RETURNING serial, revision INTO s, rv;"
	" IF s IS NULL OR counts IS NULL OR length(counts) > 4000 THEN counts := '*'; END IF;"
	" PERFORM pg_notify('skillmeat_team', (SELECT epoch FROM team_meta) || ' ' ||"
	"  coalesce(s, 0) || ' ' || coalesce(rv, 0) || ' ' || counts || ' ' || t);"
	"END $$;"
	"CREATE OR REPLACE FUNCTION team_bump() RETURNS trigger LANGUAGE plpgsql AS $$"
	"DECLARE t text;"
	"BEGIN"
	" IF TG_OP = 'DELETE' THEN"
	"  FOR t IN SELECT DISTINCT tenant_id FROM old_rows LOOP PERFORM team_note(t, '-'); END LOOP;"
	" ELSE"
	"  FOR t IN SELECT DISTINCT tenant_id FROM new_rows LOOP PERFORM team_note(t, '-'); END LOOP;"
	" END IF;"
	" RETURN NULL;"
	"END $$;"
	"CREATE FUNCTION team_bump_members() RETURNS trigger LANGUAGE plpgsql AS $$"
	"DECLARE t text; ids text;"
	"BEGIN"
	" IF TG_OP = 'DELETE' THEN"
	"  FOR t, ids IN SELECT tenant_id, string_agg(DISTINCT collection_id, ',') FROM old_rows"
	"   GROUP BY tenant_id LOOP PERFORM team_note(t, ids); END LOOP;"
	" ELSIF TG_OP = 'INSERT' THEN"
	"  FOR t, ids IN SELECT tenant_id, string_agg(DISTINCT collection_id, ',') FROM new_rows"
	"   GROUP BY tenant_id LOOP PERFORM team_note(t, ids); END LOOP;"
	" ELSE"
	"  FOR t IN SELECT DISTINCT tenant_id FROM new_rows LOOP PERFORM team_note(t, '*'); END LOOP;"
	" END IF;"
	" RETURN NULL;"
	"END $$;"
	MEMBERS_TRIGGERS("team_bump_members")
	;

static const char m2_down[] =
	MEMBERS_TRIGGERS("team_bump")
	"DROP FUNCTION team_bump_members();"
	"CREATE OR REPLACE FUNCTION team_bump() RETURNS trigger LANGUAGE plpgsql AS $$"
	BUMP_V1
	"DROP FUNCTION team_note(text, text);";

/*
 * Migration 3: the notification also says which answers it makes stale:
 * "<epoch> <serial> <revision> <counts> <answers> <tenant>", <answers> "*"
 * every answer of the tenant, else the uuids (','-joined, at most 64) of
 * the artifacts an UPDATE of artifacts changed without moving them (the
 * same uuid, collection, type and name: no page gains or loses a row, no
 * order or id changes): an answer that shows none of them stays valid
 * (docs/team.md "Invalidation"). Every other statement says "*".
 */
static const char m3_up[] =
	"DROP FUNCTION team_note(text, text);"
	"CREATE FUNCTION team_note(t text, counts text, answers text DEFAULT '*') RETURNS void"
	" LANGUAGE plpgsql AS $$"
	"DECLARE s bigint; rv bigint;"
	"BEGIN"
	" UPDATE tenants SET revision = revision + 1 WHERE id = t RETURNING serial, revision INTO s, rv;"
	" IF s IS NULL OR counts IS NULL OR length(counts) > 4000 THEN counts := '*'; END IF;"
	" IF s IS NULL OR answers IS NULL OR answers = '' OR length(answers) > 2200 THEN"
	"  answers := '*'; END IF;"
	" PERFORM pg_notify('skillmeat_team', (SELECT epoch FROM team_meta) || ' ' ||"
	"  coalesce(s, 0) || ' ' || coalesce(rv, 0) || ' ' || counts || ' ' || answers || ' ' || t);"
	"END $$;"
	"CREATE FUNCTION team_bump_artifacts() RETURNS trigger LANGUAGE plpgsql AS $$"
	"DECLARE t text; ids text;"
	"BEGIN"
	" FOR t, ids IN SELECT n.tenant_id, CASE WHEN count(*) <= 64 AND bool_and(o.uuid IS NOT NULL"
	"   AND o.collection = n.collection AND o.type = n.type AND o.name = n.name)"
	"   THEN string_agg(n.uuid, ',') ELSE '*' END"
	"  FROM new_rows n LEFT JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.uuid = n.uuid"
	"  GROUP BY n.tenant_id LOOP PERFORM team_note(t, '-', ids); END LOOP;"
	" RETURN NULL;"
	"END $$;"
	"DROP TRIGGER artifacts_upd ON artifacts;"
	"CREATE TRIGGER artifacts_upd AFTER UPDATE ON artifacts"
	" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
	" FOR EACH STATEMENT EXECUTE FUNCTION team_bump_artifacts();";

static const char m3_down[] =
	"DROP TRIGGER artifacts_upd ON artifacts;"
	"CREATE TRIGGER artifacts_upd AFTER UPDATE ON artifacts REFERENCING NEW TABLE AS new_rows"
	" FOR EACH STATEMENT EXECUTE FUNCTION team_bump();"
	"DROP FUNCTION team_bump_artifacts();"
	"DROP FUNCTION team_note(text, text, text);"
	"CREATE FUNCTION team_note(t text, counts text) RETURNS void LANGUAGE plpgsql AS $$"
	"DECLARE s bigint; rv bigint;"
	"BEGIN"
	" UPDATE tenants SET revision = revision + 1 WHERE id = t RETURNING serial, revision INTO s, rv;"
	" IF s IS NULL OR counts IS NULL OR length(counts) > 4000 THEN counts := '*'; END IF;"
	" PERFORM pg_notify('skillmeat_team', (SELECT epoch FROM team_meta) || ' ' ||"
	"  coalesce(s, 0) || ' ' || coalesce(rv, 0) || ' ' || counts || ' ' || t);"
	"END $$;";

/*
 * Migration 4: a statement on artifact_files (an upload's files, a metadata
 * edit's rewritten frontmatter) names its artifacts as <answers>, not "*":
 * no cached answer shows a file, so at most the answers that show those
 * artifacts go (the artifacts row's own update names them as well).
 */
#define FILES_TRIGGERS(fn) \
	"DROP TRIGGER artifact_files_ins ON artifact_files;" \
	"DROP TRIGGER artifact_files_upd ON artifact_files;" \
	"DROP TRIGGER artifact_files_del ON artifact_files;" \
	"CREATE TRIGGER artifact_files_ins AFTER INSERT ON artifact_files" \
	" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION " fn "();" \
	"CREATE TRIGGER artifact_files_upd AFTER UPDATE ON artifact_files" \
	" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION " fn "();" \
	"CREATE TRIGGER artifact_files_del AFTER DELETE ON artifact_files" \
	" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION " fn "();"
#define FILES_NOTE(rows) \
	"  FOR t, ids IN SELECT tenant_id, CASE WHEN count(DISTINCT artifact_uuid) <= 64" \
	"   THEN string_agg(DISTINCT artifact_uuid, ',') ELSE '*' END FROM " rows \
	"   GROUP BY tenant_id LOOP PERFORM team_note(t, '-', ids); END LOOP;"

static const char m4_up[] =
	"CREATE FUNCTION team_bump_files() RETURNS trigger LANGUAGE plpgsql AS $$"
	"DECLARE t text; ids text;"
	"BEGIN"
	" IF TG_OP = 'DELETE' THEN"
	FILES_NOTE("old_rows")
	" ELSE"
	FILES_NOTE("new_rows")
	" END IF;"
	" RETURN NULL;"
	"END $$;"
	FILES_TRIGGERS("team_bump_files");

static const char m4_down[] =
	FILES_TRIGGERS("team_bump")
	"DROP FUNCTION team_bump_files();";
/* clang-format on */

const struct sm_pg_migration sm_pg_migrations[] = {
	{1, "team schema: tenants, artifacts, files, user collections, memberships", m1_up,
	 m1_down},
	{2, "notifications name the revision and the user collections whose counts changed",
	 m2_up, m2_down},
	{3, "notifications name the artifacts an update changed in place: other answers stay",
	 m3_up, m3_down},
	{4, "notifications of artifact files name their artifacts: other answers stay", m4_up,
	 m4_down},
};

const int sm_pg_nmigrations = SM_PG_LATEST;
_Static_assert(sizeof(sm_pg_migrations) / sizeof(sm_pg_migrations[0]) == SM_PG_LATEST,
	       "SM_PG_LATEST names the last migration");
