/* SPDX-License-Identifier: MIT */
/* The SQLite store's dump: every table in a stable text form, for tests
 * and `cache dump` (a rebuild must give the same dump as the syncs did). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cache/db_internal.h"
#include "cache/store_internal.h"
#include "cache/store_sqlite.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

/* Append a value in dump form: NULL, an integer, or a quoted C-escaped string. */
static int dump_value(sqlite3_stmt *q, int col, struct strbuf *out)
{
	const unsigned char *p;
	int r;

	switch (sqlite3_column_type(q, col)) {
	case SQLITE_NULL:
		return sm_strbuf_addstr(out, "NULL");
	case SQLITE_INTEGER:
		return sm_strbuf_addf(out, "%lld", (long long)sqlite3_column_int64(q, col));
	case SQLITE_FLOAT:
		return sm_strbuf_addf(out, "%.17g", sqlite3_column_double(q, col));
	default:
		break;
	}
	p = sqlite3_column_text(q, col);
	if (!p)
		return -ENOMEM;
	r = sm_strbuf_addch(out, '"');
	for (; *p && r == 0; p++) {
		if (*p == '"' || *p == '\\')
			r = sm_strbuf_addf(out, "\\%c", *p);
		else if (*p == '\n')
			r = sm_strbuf_addstr(out, "\\n");
		else if (*p < 0x20 || *p == 0x7f)
			r = sm_strbuf_addf(out, "\\x%02x", *p);
		else
			r = sm_strbuf_addch(out, *p);
	}
	return r ? r : sm_strbuf_addch(out, '"');
}

/* One line per row: "<label> col=value col=value". */
static int dump_query(struct sqlite_store *s, const char *label, const char *sql,
		      struct strbuf *out, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int r, rc;

	r = sm_sq_prepare(s, sql, &q, err);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r = sm_strbuf_addstr(out, label);
		for (int c = 0; c < sqlite3_column_count(q) && r == 0; c++) {
			r = sm_strbuf_addf(out, " %s=", sqlite3_column_name(q, c));
			if (r == 0)
				r = dump_value(q, c, out);
		}
		if (r == 0)
			r = sm_strbuf_addch(out, '\n');
		if (r < 0)
			return sm_err(err, r, "cannot dump '%s'", label);
	}
	return rc == SQLITE_DONE ? 0 : sm_sq_fail(s, rc, err, "cannot dump cache");
}

/*
 * A fingerprint without its walk record (sync.c: "<files>:<manifest>\n<walk>"):
 * the record depends on when the folders were read, not on what they hold.
 */
#define DUMP_FP                                                                          \
	"CASE WHEN instr(fingerprint, char(10)) > 0"                                     \
	" THEN substr(fingerprint, 1, instr(fingerprint, char(10)) - 1)"                 \
	" ELSE fingerprint END AS fingerprint"

int sm_sq_dump(struct sm_store *st, unsigned flags, struct strbuf *out, struct strbuf *err)
{
	struct sqlite_store *s = sm_sq(st);
	bool vol = flags & SM_STORE_DUMP_VOLATILE;
	int own, r;

	r = sm_sq_op_begin(s, false, &own, err);
	if (r < 0)
		return r;
	r = dump_query(
	    s, "artifact",
	    vol ? "SELECT uuid, collection, type, name, path, title, description, author,"
		  " license, tags_json, tools_json, version, source, origin,"
		  " origin_source, upstream, version_spec, resolved_sha,"
		  " resolved_version, added, updated, content_hash, lock_hash, file_count,"
		  " total_size, " DUMP_FP ", row_hash, stale, synced_at, revision"
		  " FROM artifacts ORDER BY uuid"
		: "SELECT uuid, collection, type, name, path, title, description, author,"
		  " license, tags_json, tools_json, version, source, origin,"
		  " origin_source, upstream, version_spec, resolved_sha,"
		  " resolved_version, added, updated, content_hash, lock_hash, file_count,"
		  " total_size, " DUMP_FP ", row_hash FROM artifacts ORDER BY uuid",
	    out, err);
	if (r == 0)
		r = dump_query(s, "fts",
			       "SELECT a.uuid AS uuid, f.name, f.title, f.description, f.tags"
			       " FROM artifact_fts f LEFT JOIN artifacts a ON a.id = f.rowid"
			       " ORDER BY a.uuid, f.rowid",
			       out, err);
	if (r == 0)
		r = dump_query(
		    s, "tag",
		    "SELECT a.uuid AS uuid, t.label FROM artifact_tags t"
		    " LEFT JOIN artifacts a ON a.id = t.artifact_id ORDER BY a.uuid, t.label",
		    out, err);
	if (r == 0)
		r = dump_query(
		    s, "tool",
		    "SELECT a.uuid AS uuid, t.label FROM artifact_tools t"
		    " LEFT JOIN artifacts a ON a.id = t.artifact_id ORDER BY a.uuid, t.label",
		    out, err);
	if (r == 0)
		r = dump_query(s, "user_collection",
			       "SELECT " UC_COLS " FROM user_collections ORDER BY id", out, err);
	if (r == 0)
		r = dump_query(
		    s, "member",
		    "SELECT collection_id, artifact_uuid, added_at FROM collection_artifacts"
		    " ORDER BY collection_id, artifact_uuid",
		    out, err);
	return sm_sq_op_end(s, false, own, r, err);
}
