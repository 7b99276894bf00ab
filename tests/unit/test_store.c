/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

struct fixture {
	char dir[64];
	char path[128];
	struct sm_db *db;
	struct sm_store *st;
	struct strbuf err;
};

static void remove_db(const char *path)
{
	char p[256];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	sm_strbuf_init(&f->err, 4096);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sm-test-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/metadata.db", f->dir);
	if (sm_db_open(f->path, 0, &f->db, &f->err) < 0 ||
	    sm_store_sqlite_new(f->db, &f->st, &f->err) < 0) {
		fprintf(stderr, "setup: %s\n", f->err.buf);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sm_store_free(f->st);
	sm_db_close(f->db);
	remove_db(f->path);
	rmdir(f->dir);
	sm_strbuf_release(&f->err);
	free(f);
	return 0;
}

#define OK(expr)                                                                                   \
	do {                                                                                       \
		int ok_r_ = (expr);                                                                \
		if (ok_r_ < 0)                                                                     \
			fail_msg("%s = %d: %s", #expr, ok_r_, f->err.buf);                         \
	} while (0)

static void uuid_of(unsigned i, char out[33])
{
	snprintf(out, 33, "%032x", i);
}

/* A heap row (release with sm_artifact_row_release). */
static void make_row(struct sm_artifact_row *r, unsigned i, const char *collection,
		     const char *type, const char *name)
{
	char uuid[33];

	memset(r, 0, sizeof(*r));
	uuid_of(i, uuid);
	r->uuid = sm_strdup(uuid);
	r->collection = sm_strdup(collection);
	r->type = sm_strdup(type);
	r->name = sm_strdup(name);
	r->synced_at = 1000;
}

static void set_str(char **field, const char *v)
{
	sm_free(*field);
	*field = v ? sm_strdup(v) : NULL;
}

static void upsert1(struct fixture *f, const struct sm_artifact_row *r, enum sm_upsert_result want)
{
	enum sm_upsert_result res = 99;

	OK(sm_store_upsert_artifacts(f->st, r, 1, &res, NULL, &f->err));
	assert_int_equal(res, want);
}

static void add_simple(struct fixture *f, unsigned i, const char *collection, const char *type,
		       const char *name)
{
	struct sm_artifact_row r;

	make_row(&r, i, collection, type, name);
	upsert1(f, &r, SM_UPSERT_CREATED);
	sm_artifact_row_release(&r);
}

static void add_uc(struct fixture *f, const char *id, const char *name, const char *type)
{
	struct sm_user_collection_row uc = {.id = (char *)id,
					    .name = (char *)name,
					    .collection_type = (char *)type,
					    .created_at = "2026-01-01T00:00:00",
					    .updated_at = "2026-01-01T00:00:00"};

	OK(sm_store_create_user_collection(f->st, &uc, &f->err));
}

/* ---- upsert, get, delete ---- */

static void test_upsert_results_and_revision(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row rows[3], got;
	enum sm_upsert_result res[3];
	struct sm_upsert_stats stats;
	char *hash1;

	make_row(&rows[0], 1, "default", "skill", "canvas");
	make_row(&rows[1], 2, "default", "skill", "pdf");
	make_row(&rows[2], 3, "default", "agent", "reviewer");
	set_str(&rows[0].fingerprint, "100:10:7");
	OK(sm_store_upsert_artifacts(f->st, rows, 3, res, &stats, &f->err));
	for (int i = 0; i < 3; i++)
		assert_int_equal(res[i], SM_UPSERT_CREATED);
	assert_int_equal(stats.created, 3);
	assert_int_equal(stats.updated, 0);

	OK(sm_store_get_artifact(f->st, rows[0].uuid, &got, &f->err));
	assert_int_equal(got.revision, 1);
	assert_int_equal(got.synced_at, 1000);
	assert_non_null(got.row_hash);
	assert_int_equal(strlen(got.row_hash), 16);
	hash1 = sm_strdup(got.row_hash);
	sm_artifact_row_release(&got);

	/* same content: unchanged, only synced_at moves, the indexes are not rewritten */
	for (int i = 0; i < 3; i++)
		rows[i].synced_at = 2000;
	int before = sqlite3_total_changes(sm_db_handle(f->db));
	OK(sm_store_upsert_artifacts(f->st, rows, 3, res, &stats, &f->err));
	assert_int_equal(stats.unchanged, 3);
	assert_int_equal(sqlite3_total_changes(sm_db_handle(f->db)) - before, 3);
	OK(sm_store_get_artifact(f->st, rows[0].uuid, &got, &f->err));
	assert_int_equal(got.revision, 1);
	assert_int_equal(got.synced_at, 2000);
	assert_string_equal(got.row_hash, hash1);
	sm_artifact_row_release(&got);

	/* content change: updated, revision and hash move */
	set_str(&rows[0].description, "new text");
	before = sqlite3_total_changes(sm_db_handle(f->db));
	upsert1(f, &rows[0], SM_UPSERT_UPDATED);
	/* the row plus its FTS entry (trigger changes are counted) */
	assert_true(sqlite3_total_changes(sm_db_handle(f->db)) - before > 1);
	OK(sm_store_get_artifact(f->st, rows[0].uuid, &got, &f->err));
	assert_int_equal(got.revision, 2);
	assert_string_not_equal(got.row_hash, hash1);
	assert_string_equal(got.description, "new text");
	sm_free(hash1);
	hash1 = sm_strdup(got.row_hash);
	sm_artifact_row_release(&got);

	/* fingerprint only: row rewritten, but the content revision, ETag and indexes stay */
	set_str(&rows[0].fingerprint, "200:10:7");
	before = sqlite3_total_changes(sm_db_handle(f->db));
	upsert1(f, &rows[0], SM_UPSERT_FINGERPRINT);
	assert_int_equal(sqlite3_total_changes(sm_db_handle(f->db)) - before, 1);
	OK(sm_store_get_artifact(f->st, rows[0].uuid, &got, &f->err));
	assert_int_equal(got.revision, 2);
	assert_string_equal(got.row_hash, hash1);
	assert_string_equal(got.fingerprint, "200:10:7");
	sm_artifact_row_release(&got);
	upsert1(f, &rows[0], SM_UPSERT_UNCHANGED);
	/* counted unchanged: a refresh reports no row refreshed for it (test_refresher) */
	set_str(&rows[0].fingerprint, "300:10:7");
	OK(sm_store_upsert_artifacts(f->st, &rows[0], 1, NULL, &stats, &f->err));
	assert_int_equal(stats.created + stats.updated, 0);
	assert_int_equal(stats.unchanged, 1);

	/* a walk record: written only over the fingerprint it extends, nothing else moves */
	before = sqlite3_total_changes(sm_db_handle(f->db));
	assert_int_equal(sm_store_set_walk_record(f->st, rows[0].collection, rows[0].type,
						  rows[0].name, "299:10:7", "299:10:7\nfa", &f->err),
			 0);
	assert_int_equal(sm_store_set_walk_record(f->st, rows[0].collection, rows[0].type,
						  rows[0].name, "300:10:7", "300:10:7\nfa", &f->err),
			 1);
	assert_int_equal(sqlite3_total_changes(sm_db_handle(f->db)) - before, 1);
	OK(sm_store_get_artifact(f->st, rows[0].uuid, &got, &f->err));
	assert_string_equal(got.fingerprint, "300:10:7\nfa");
	assert_int_equal(got.revision, 2);
	assert_string_equal(got.row_hash, hash1);
	sm_artifact_row_release(&got);
	assert_int_equal(sm_store_set_walk_record(f->st, rows[0].collection, rows[0].type, "nope",
						  "300:10:7\nfa", "x", &f->err),
			 0);

	/* NULL vs value is a change */
	set_str(&rows[1].title, "");
	upsert1(f, &rows[1], SM_UPSERT_UPDATED);
	set_str(&rows[1].title, NULL);
	upsert1(f, &rows[1], SM_UPSERT_UPDATED);

	sm_free(hash1);
	for (int i = 0; i < 3; i++)
		sm_artifact_row_release(&rows[i]);
}

static void test_every_field_round_trips(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row r, got;

	make_row(&r, 7, "work", "command", "deploy");
	set_str(&r.path, "commands/deploy.md");
	set_str(&r.title, "Deploy");
	set_str(&r.description, "Ships it\nwith \"quotes\" and ünïcode");
	set_str(&r.author, "ann");
	set_str(&r.license, "MIT");
	set_str(&r.tags_json, "[\"ops\",\"Ship\"]");
	set_str(&r.tools_json, "[\"Bash\"]");
	set_str(&r.version, "1.2.0");
	set_str(&r.source, "owner/repo/commands/deploy.md");
	set_str(&r.origin, "github");
	set_str(&r.origin_source, "github");
	set_str(&r.upstream, "https://github.com/owner/repo");
	set_str(&r.version_spec, "latest");
	set_str(&r.resolved_sha, "abc123");
	set_str(&r.resolved_version, "v1.2.0");
	set_str(&r.added, "2026-01-02T03:04:05");
	set_str(&r.content_hash, "c0ffee");
	set_str(&r.lock_hash, "c0ffee");
	r.file_count = 3;
	r.total_size = 12345678901LL;
	set_str(&r.fingerprint, "fp");
	r.synced_at = 1700000000123LL;
	upsert1(f, &r, SM_UPSERT_CREATED);

	OK(sm_store_get_artifact_by_key(f->st, "work", "command", "deploy", &got, &f->err));
#define SAME(x) assert_string_equal(got.x, r.x)
	SAME(uuid);
	SAME(collection);
	SAME(type);
	SAME(name);
	SAME(path);
	SAME(title);
	SAME(description);
	SAME(author);
	SAME(license);
	SAME(tags_json);
	SAME(tools_json);
	SAME(version);
	SAME(source);
	SAME(origin);
	SAME(origin_source);
	SAME(upstream);
	SAME(version_spec);
	SAME(resolved_sha);
	SAME(resolved_version);
	SAME(added);
	SAME(content_hash);
	SAME(lock_hash);
	SAME(fingerprint);
#undef SAME
	assert_int_equal(got.file_count, 3);
	assert_int_equal(got.total_size, 12345678901LL);
	assert_int_equal(got.synced_at, 1700000000123LL);
	assert_false(got.stale);
	assert_null(got.member_added_at);
	sm_artifact_row_release(&got);
	sm_artifact_row_release(&got); /* release twice is harmless */

	assert_int_equal(
	    sm_store_get_artifact_by_key(f->st, "work", "command", "nope", &got, &f->err), -ENOENT);
	assert_int_equal(
	    sm_store_get_artifact(f->st, "ffffffffffffffffffffffffffffffff", &got, &f->err),
	    -ENOENT);
	sm_artifact_row_release(&r);
}

static void test_upsert_rejects_bad_rows_atomically(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row rows[2], got;
	struct sm_artifact_page page;
	struct sm_artifact_query q = {0};

	make_row(&rows[0], 1, "default", "skill", "good");
	make_row(&rows[1], 2, "default", "skill", "bad");
	set_str(&rows[1].tags_json, "not json");
	assert_int_equal(sm_store_upsert_artifacts(f->st, rows, 2, NULL, NULL, &f->err), -EINVAL);
	assert_non_null(strstr(f->err.buf, "bad"));
	assert_int_equal(sm_store_get_artifact(f->st, rows[0].uuid, &got, &f->err), -ENOENT);

	set_str(&rows[1].tags_json, "{\"a\":1}"); /* valid JSON, not an array */
	assert_int_equal(sm_store_upsert_artifacts(f->st, rows, 2, NULL, NULL, &f->err), -EINVAL);

	set_str(&rows[1].tags_json, NULL);
	set_str(&rows[1].uuid, "0123456789ABCDEF0123456789ABCDEF");
	assert_int_equal(sm_store_upsert_artifacts(f->st, rows, 2, NULL, NULL, &f->err), -EINVAL);
	assert_non_null(strstr(f->err.buf, "row 1"));
	set_str(&rows[1].uuid, "00000000000000000000000000000002");
	set_str(&rows[1].name, "");
	assert_int_equal(sm_store_upsert_artifacts(f->st, rows, 2, NULL, NULL, &f->err), -EINVAL);

	OK(sm_store_list_artifacts(f->st, &q, &page, &f->err));
	assert_int_equal(page.n, 0);
	assert_int_equal(page.total_count, 0);
	sm_artifact_page_release(&page);
	sm_artifact_row_release(&rows[0]);
	sm_artifact_row_release(&rows[1]);
}

static void test_upsert_matches_by_key_and_moves_members(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row r, got;
	const char *ids[] = {"default"};
	int64_t count;
	struct sm_membership *m;
	size_t nm;
	const char *uuid2 = "00000000000000000000000000000002";

	add_uc(f, "default", "Default Collection", "default");
	make_row(&r, 1, "default", "skill", "canvas");
	upsert1(f, &r, SM_UPSERT_CREATED);
	OK(sm_store_add_all_members(f->st, "default", "2026-01-01T00:00:00", &f->err));

	/* the manifest gained a uuid: same key, new uuid */
	set_str(&r.uuid, uuid2);
	upsert1(f, &r, SM_UPSERT_UPDATED);
	assert_int_equal(
	    sm_store_get_artifact(f->st, "00000000000000000000000000000001", &got, &f->err),
	    -ENOENT);
	OK(sm_store_get_artifact(f->st, uuid2, &got, &f->err));
	assert_string_equal(got.name, "canvas");
	sm_artifact_row_release(&got);
	OK(sm_store_count_members(f->st, ids, 1, &count, &f->err));
	assert_int_equal(count, 1);
	OK(sm_store_memberships_of(f->st, &uuid2, 1, &m, &nm, &f->err));
	assert_int_equal(nm, 1);
	assert_string_equal(m[0].collection_name, "Default Collection");
	sm_memberships_free(m, nm);
	sm_artifact_row_release(&r);
}

static void test_upsert_takes_key_from_other_uuid(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row r, got;
	struct sm_artifact_query q = {0};
	struct sm_artifact_page page;

	add_simple(f, 1, "default", "skill", "a");
	add_simple(f, 2, "default", "skill", "b");
	/* uuid 2 renamed to "a" while uuid 1 still holds it: 1 is replaced */
	make_row(&r, 2, "default", "skill", "a");
	upsert1(f, &r, SM_UPSERT_UPDATED);
	OK(sm_store_get_artifact_by_key(f->st, "default", "skill", "a", &got, &f->err));
	assert_string_equal(got.uuid, r.uuid);
	sm_artifact_row_release(&got);
	OK(sm_store_list_artifacts(f->st, &q, &page, &f->err));
	assert_int_equal(page.total_count, 1);
	sm_artifact_page_release(&page);
	sm_artifact_row_release(&r);
}

static void test_find_delete_prune(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row *rows;
	size_t n;
	char keep[33];
	const char *keepv[] = {keep};

	add_simple(f, 1, "default", "skill", "canvas");
	add_simple(f, 2, "work", "skill", "canvas");
	add_simple(f, 3, "default", "agent", "canvas");
	add_simple(f, 4, "default", "skill", "other");
	add_simple(f, 5, "work", "skill", "other");

	assert_int_equal(sm_store_find_artifacts(f->st, NULL, "canvas", &rows, &n, &f->err), 3);
	assert_string_equal(rows[0].type, "agent");
	assert_string_equal(rows[1].collection, "default");
	assert_string_equal(rows[2].collection, "work");
	sm_artifact_rows_free(rows, n);
	assert_int_equal(sm_store_find_artifacts(f->st, "skill", "canvas", &rows, &n, &f->err), 2);
	sm_artifact_rows_free(rows, n);
	assert_int_equal(sm_store_find_artifacts(f->st, "skill", "zzz", &rows, &n, &f->err), 0);
	assert_int_equal(n, 0);
	sm_artifact_rows_free(rows, n);

	assert_int_equal(sm_store_list_collection(f->st, "default", &rows, &n, &f->err), 3);
	assert_string_equal(rows[0].type, "agent");
	assert_string_equal(rows[1].name, "canvas");
	assert_string_equal(rows[2].name, "other");
	sm_artifact_rows_free(rows, n);
	assert_int_equal(sm_store_list_collection(f->st, "none", &rows, &n, &f->err), 0);
	sm_artifact_rows_free(rows, n);
	assert_int_equal(sm_store_list_collection(f->st, NULL, &rows, &n, &f->err), -EINVAL);

	uuid_of(3, keep);
	assert_int_equal(sm_store_delete_artifact(f->st, keep, &f->err), 1);
	assert_int_equal(sm_store_delete_artifact(f->st, keep, &f->err), 0);

	/* keep only uuid 1 in "default": 4 goes, "work" is untouched */
	uuid_of(1, keep);
	assert_int_equal(sm_store_prune_artifacts(f->st, "default", keepv, 1, &f->err), 1);
	assert_int_equal(sm_store_find_artifacts(f->st, NULL, "other", &rows, &n, &f->err), 1);
	assert_string_equal(rows[0].collection, "work");
	sm_artifact_rows_free(rows, n);
	/* nkeep 0: the whole collection */
	assert_int_equal(sm_store_prune_artifacts(f->st, "work", NULL, 0, &f->err), 2);
	assert_int_equal(sm_store_prune_artifacts(f->st, "", NULL, 0, &f->err), -EINVAL);
}

/* ---- listing ---- */

static const char *const types3[] = {"agent", "command", "skill"};
static const char *const tagpool[] = {"alpha", "Beta", "gamma"};

struct gen {
	unsigned i;
	const char *collection;
	const char *type;
	char name[16];
	bool tag[3];
	bool tool_read;
	bool member;
	bool posters; /* description mentions posters */
};

#define NGEN 250
static struct gen gens[NGEN];

static void populate(struct fixture *f)
{
	struct sm_artifact_row rows[NGEN];
	const char *members[NGEN];
	size_t nmembers = 0;

	add_uc(f, "0123456789abcdef0123456789abcdef", "Favourites", "artifacts");
	for (unsigned i = 0; i < NGEN; i++) {
		struct gen *g = &gens[i];
		struct strbuf tags = STRBUF_INIT;
		int first = 1;

		g->i = i + 1;
		/* unique (collection, type, name), but each type:name is in both
		 * collections: the cursor needs the collection */
		g->collection = i % 2 ? "work" : "default";
		g->type = types3[(i / 2) % 3];
		snprintf(g->name, sizeof(g->name), "n%03u", 41 - i / 6);
		g->tag[0] = i % 2 == 0;
		g->tag[1] = i % 3 == 0;
		g->tag[2] = i % 7 == 0;
		g->tool_read = i % 4 == 0;
		g->member = i % 6 == 0;
		g->posters = i % 9 == 0;
		make_row(&rows[i], g->i, g->collection, g->type, g->name);
		assert_int_equal(sm_strbuf_addch(&tags, '['), 0);
		for (int t = 0; t < 3; t++) {
			if (!g->tag[t])
				continue;
			assert_int_equal(
			    sm_strbuf_addf(&tags, "%s\"%s\"", first ? "" : ",", tagpool[t]), 0);
			first = 0;
		}
		assert_int_equal(sm_strbuf_addch(&tags, ']'), 0);
		set_str(&rows[i].tags_json, tags.buf);
		sm_strbuf_release(&tags);
		set_str(&rows[i].tools_json, g->tool_read ? "[\"Read\",\"Write\"]" : "[\"Write\"]");
		set_str(&rows[i].description, g->posters ? "Makes posters" : "Does things");
		if (g->member)
			members[nmembers++] = rows[i].uuid;
	}
	/* two batches, the second inside a caller transaction */
	OK(sm_store_upsert_artifacts(f->st, rows, 100, NULL, NULL, &f->err));
	OK(sm_store_begin(f->st, &f->err));
	OK(sm_store_upsert_artifacts(f->st, rows + 100, NGEN - 100, NULL, NULL, &f->err));
	OK(sm_store_commit(f->st, &f->err));
	assert_int_equal(sm_store_add_members(f->st, "0123456789abcdef0123456789abcdef", members,
					      nmembers, "2026-02-02T00:00:00", &f->err),
			 (int)nmembers);
	for (unsigned i = 0; i < NGEN; i++)
		sm_artifact_row_release(&rows[i]);
}

static bool in_list(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v, list[i]))
			return true;
	}
	return false;
}

static bool matches(const struct gen *g, const struct sm_artifact_query *q)
{
	if (q->collection && strcmp(g->collection, q->collection))
		return false;
	if (q->user_collection_id && !g->member)
		return false;
	if (q->ntypes && !in_list(g->type, q->types, q->ntypes))
		return false;
	if (q->ntags) {
		size_t have = 0;

		for (size_t t = 0; t < q->ntags; t++) {
			for (int k = 0; k < 3; k++) {
				if (g->tag[k] && !strcasecmp(tagpool[k], q->tags[t]))
					have++;
			}
		}
		if (q->tags_all ? have != q->ntags : have == 0)
			return false;
	}
	if (q->ntools && !g->tool_read)
		return false; /* the tests filter on "read" only */
	if (q->search && !g->posters)
		return false; /* the tests search "post" only */
	return true;
}

static int cmp_gen(const void *a, const void *b)
{
	const struct gen *x = *(const struct gen *const *)a, *y = *(const struct gen *const *)b;
	int c = strcmp(x->type, y->type);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->collection, y->collection);
}

/* Walk every page of q and compare with the expected rows, in order. */
static void walk(struct fixture *f, struct sm_artifact_query q, size_t limit)
{
	const struct gen *want[NGEN];
	size_t nwant = 0, seen = 0;
	char at[32], an[32], ac[32];

	for (unsigned i = 0; i < NGEN; i++) {
		if (matches(&gens[i], &q))
			want[nwant++] = &gens[i];
	}
	qsort(want, nwant, sizeof(want[0]), cmp_gen);
	q.limit = limit;
	for (;;) {
		struct sm_artifact_page page;

		OK(sm_store_list_artifacts(f->st, &q, &page, &f->err));
		assert_int_equal(page.total_count, (int64_t)nwant);
		assert_true(page.n <= limit);
		for (size_t i = 0; i < page.n; i++) {
			const struct sm_artifact_row *r = &page.rows[i];

			assert_true(seen < nwant);
			assert_string_equal(r->type, want[seen]->type);
			assert_string_equal(r->name, want[seen]->name);
			assert_string_equal(r->collection, want[seen]->collection);
			if (q.user_collection_id)
				assert_string_equal(r->member_added_at, "2026-02-02T00:00:00");
			seen++;
		}
		if (!page.has_next) {
			sm_artifact_page_release(&page);
			break;
		}
		assert_int_equal(page.n, limit);
		snprintf(at, sizeof(at), "%s", page.rows[page.n - 1].type);
		snprintf(an, sizeof(an), "%s", page.rows[page.n - 1].name);
		snprintf(ac, sizeof(ac), "%s", page.rows[page.n - 1].collection);
		q.after_type = at;
		q.after_name = an;
		/* within one collection the key "type:name" alone is enough */
		q.after_collection = q.collection ? NULL : ac;
		sm_artifact_page_release(&page);
	}
	assert_int_equal(seen, nwant);
}

static void test_list_keyset_pagination(void **state)
{
	struct fixture *f = *state;
	const char *const two_types[] = {"skill", "agent"};
	const char *const one_type[] = {"command"};
	const char *const tags_ab[] = {"ALPHA", "beta"};
	const char *const tags_c[] = {"gamma"};
	const char *const tools[] = {"read"};
	struct sm_artifact_query q;
	size_t limits[] = {1, 7, 20, 1000};

	populate(f);
	for (size_t l = 0; l < SM_ARRAY_SIZE(limits); l++) {
		memset(&q, 0, sizeof(q));
		walk(f, q, limits[l]);
		q.collection = "work";
		walk(f, q, limits[l]);
		q.collection = "default";
		q.types = two_types;
		q.ntypes = 2;
		walk(f, q, limits[l]);
		memset(&q, 0, sizeof(q));
		q.tags = tags_ab;
		q.ntags = 2;
		walk(f, q, limits[l]);
		q.tags_all = true;
		walk(f, q, limits[l]);
		memset(&q, 0, sizeof(q));
		q.tools = tools;
		q.ntools = 1;
		q.types = one_type;
		q.ntypes = 1;
		walk(f, q, limits[l]);
		memset(&q, 0, sizeof(q));
		q.search = "post";
		walk(f, q, limits[l]);
		memset(&q, 0, sizeof(q));
		q.user_collection_id = "0123456789abcdef0123456789abcdef";
		walk(f, q, limits[l]);
		q.tags = tags_c;
		q.ntags = 1;
		q.collection = "default";
		walk(f, q, limits[l]);
	}
}

static void test_list_edges(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_query q = {0};
	struct sm_artifact_page page;

	populate(f);
	/* default limit 20; no_total */
	q.no_total = true;
	OK(sm_store_list_artifacts(f->st, &q, &page, &f->err));
	assert_int_equal(page.n, 20);
	assert_true(page.has_next);
	assert_int_equal(page.total_count, -1);
	sm_artifact_page_release(&page);
	/* cursor past the end */
	q.after_type = "zzz";
	q.after_name = "zzz";
	OK(sm_store_list_artifacts(f->st, &q, &page, &f->err));
	assert_int_equal(page.n, 0);
	assert_false(page.has_next);
	sm_artifact_page_release(&page);
	/* bad input */
	q.after_name = NULL;
	assert_int_equal(sm_store_list_artifacts(f->st, &q, &page, &f->err), -EINVAL);
	q.after_type = NULL;
	q.limit = SM_STORE_MAX_LIMIT + 1;
	assert_int_equal(sm_store_list_artifacts(f->st, &q, &page, &f->err), -EINVAL);
	/* an unknown user collection has no members */
	memset(&q, 0, sizeof(q));
	q.user_collection_id = "ffffffffffffffffffffffffffffffff";
	OK(sm_store_list_artifacts(f->st, &q, &page, &f->err));
	assert_int_equal(page.n, 0);
	assert_int_equal(page.total_count, 0);
	sm_artifact_page_release(&page);
}

static int64_t search_count(struct fixture *f, const char *search)
{
	struct sm_artifact_query q = {.search = search};
	struct sm_artifact_page page;
	int64_t n;

	OK(sm_store_list_artifacts(f->st, &q, &page, &f->err));
	n = page.total_count;
	sm_artifact_page_release(&page);
	return n;
}

static void test_fts_search(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row r[3];

	make_row(&r[0], 1, "default", "skill", "canvas-design");
	set_str(&r[0].title, "Canvas Design");
	set_str(&r[0].description, "Makes posters in a café");
	set_str(&r[0].tags_json, "[\"art\",\"visual\"]");
	make_row(&r[1], 2, "default", "command", "review");
	set_str(&r[1].description, "Reviews pull requests");
	set_str(&r[1].tags_json, "[\"code\"]");
	make_row(&r[2], 3, "work", "agent", "poster-bot");
	OK(sm_store_upsert_artifacts(f->st, r, 3, NULL, NULL, &f->err));

	assert_int_equal(search_count(f, "design"), 1);	       /* a word of the name */
	assert_int_equal(search_count(f, "DES"), 1);	       /* prefix, any case */
	assert_int_equal(search_count(f, "poster"), 2);	       /* description and name */
	assert_int_equal(search_count(f, "poster canvas"), 1); /* all words */
	assert_int_equal(search_count(f, "cafe"), 1);	       /* diacritics folded */
	assert_int_equal(search_count(f, "visual"), 1);	       /* tags */
	assert_int_equal(search_count(f, "code"), 1);
	assert_int_equal(search_count(f, "nothing"), 0);
	assert_int_equal(search_count(f, "--"), 0);	 /* no usable word */
	assert_int_equal(search_count(f, "\"pull"), 1);	 /* quotes are literal */
	assert_int_equal(search_count(f, "pull OR"), 0); /* operators are words */
	assert_int_equal(search_count(f, "NEAR(pull)"), 0);
	assert_int_equal(search_count(f, "   "), 3); /* blank: no filter */

	/* the index follows updates and deletes */
	set_str(&r[1].description, "Checks diffs");
	upsert1(f, &r[1], SM_UPSERT_UPDATED);
	assert_int_equal(search_count(f, "pull"), 0);
	assert_int_equal(search_count(f, "diffs"), 1);
	set_str(&r[1].tags_json, "[\"quality\"]");
	upsert1(f, &r[1], SM_UPSERT_UPDATED);
	assert_int_equal(search_count(f, "code"), 0);
	assert_int_equal(search_count(f, "quality"), 1);
	assert_int_equal(sm_store_delete_artifact(f->st, r[0].uuid, &f->err), 1);
	assert_int_equal(search_count(f, "canvas"), 0);
	for (int i = 0; i < 3; i++)
		sm_artifact_row_release(&r[i]);
}

/* ---- user collections and membership ---- */

static void test_user_collection_crud(void **state)
{
	struct fixture *f = *state;
	struct sm_user_collection_row got;
	struct sm_user_collection_row row = {.id = "00112233445566778899aabbccddeeff",
					     .name = "Work",
					     .description = "d",
					     .created_at = "2026-01-01T00:00:00",
					     .updated_at = "2026-01-01T00:00:00"};
	struct sm_user_collection_update u = {.updated_at = "2026-03-03T00:00:00"};

	OK(sm_store_create_user_collection(f->st, &row, &f->err));
	assert_int_equal(sm_store_create_user_collection(f->st, &row, &f->err), -EEXIST);
	row.id = "ffeeddccbbaa99887766554433221100";
	assert_int_equal(sm_store_create_user_collection(f->st, &row, &f->err), -EEXIST);
	assert_non_null(strstr(f->err.buf, "Work"));
	row.id = "not-hex";
	row.name = "Other";
	assert_int_equal(sm_store_create_user_collection(f->st, &row, &f->err), -EINVAL);
	row.id = "ffeeddccbbaa99887766554433221100";
	row.name = "";
	assert_int_equal(sm_store_create_user_collection(f->st, &row, &f->err), -EINVAL);
	row.name = "Other";
	OK(sm_store_create_user_collection(f->st, &row, &f->err));

	OK(sm_store_get_user_collection(f->st, "00112233445566778899aabbccddeeff", &got, &f->err));
	assert_string_equal(got.name, "Work");
	assert_string_equal(got.description, "d");
	assert_null(got.collection_type);
	sm_user_collection_row_release(&got);

	/* partial update */
	u.name = "Job";
	u.context_category = "ctx";
	OK(sm_store_update_user_collection(f->st, "00112233445566778899aabbccddeeff", &u, &f->err));
	OK(sm_store_get_user_collection(f->st, "00112233445566778899aabbccddeeff", &got, &f->err));
	assert_string_equal(got.name, "Job");
	assert_string_equal(got.description, "d");
	assert_string_equal(got.context_category, "ctx");
	assert_string_equal(got.updated_at, "2026-03-03T00:00:00");
	assert_string_equal(got.created_at, "2026-01-01T00:00:00");
	sm_user_collection_row_release(&got);
	u.name = "Other";
	assert_int_equal(
	    sm_store_update_user_collection(f->st, "00112233445566778899aabbccddeeff", &u, &f->err),
	    -EEXIST);
	assert_int_equal(
	    sm_store_update_user_collection(f->st, "ffffffffffffffffffffffffffffffff", &u, &f->err),
	    -ENOENT);
	u.updated_at = NULL;
	assert_int_equal(
	    sm_store_update_user_collection(f->st, "00112233445566778899aabbccddeeff", &u, &f->err),
	    -EINVAL);

	/* put: create then overwrite */
	row.id = "default";
	row.name = "Default Collection";
	row.collection_type = "default";
	assert_int_equal(sm_store_put_user_collection(f->st, &row, &f->err), 1);
	row.description = "everything";
	assert_int_equal(sm_store_put_user_collection(f->st, &row, &f->err), 0);
	OK(sm_store_get_user_collection(f->st, "default", &got, &f->err));
	assert_string_equal(got.description, "everything");
	sm_user_collection_row_release(&got);
	row.name = "Job";
	assert_int_equal(sm_store_put_user_collection(f->st, &row, &f->err), -EEXIST);

	OK(sm_store_delete_user_collection(f->st, "ffeeddccbbaa99887766554433221100", &f->err));
	assert_int_equal(
	    sm_store_delete_user_collection(f->st, "ffeeddccbbaa99887766554433221100", &f->err),
	    -ENOENT);
	assert_int_equal(
	    sm_store_get_user_collection(f->st, "ffeeddccbbaa99887766554433221100", &got, &f->err),
	    -ENOENT);
	const char *keep[] = {"default"};
	assert_int_equal(sm_store_prune_user_collections(f->st, keep, 1, &f->err), 1);
	assert_int_equal(
	    sm_store_get_user_collection(f->st, "00112233445566778899aabbccddeeff", &got, &f->err),
	    -ENOENT);
}

static void test_user_collection_list(void **state)
{
	struct fixture *f = *state;
	struct sm_user_collection_query q = {0};
	struct sm_user_collection_page page;
	char id[33], name[32], last[33] = "";
	size_t seen = 0;

	for (unsigned i = 0; i < 45; i++) {
		uuid_of(i * 2654435761u, id);
		snprintf(name, sizeof(name), "%s %02u", i % 3 ? "Team" : "Personal", i);
		add_uc(f, id, name, i % 2 ? "context" : "artifacts");
	}
	q.limit = 10;
	for (;;) {
		OK(sm_store_list_user_collections(f->st, &q, &page, &f->err));
		assert_int_equal(page.total_count, 45);
		for (size_t i = 0; i < page.n; i++) {
			assert_true(strcmp(page.rows[i].id, last) > 0);
			snprintf(last, sizeof(last), "%s", page.rows[i].id);
			seen++;
		}
		if (!page.has_next) {
			sm_user_collection_page_release(&page);
			break;
		}
		q.after_id = last;
		sm_user_collection_page_release(&page);
	}
	assert_int_equal(seen, 45);

	memset(&q, 0, sizeof(q));
	q.search = "personAL";
	q.limit = 100;
	OK(sm_store_list_user_collections(f->st, &q, &page, &f->err));
	assert_int_equal(page.n, 15);
	assert_int_equal(page.total_count, 15);
	assert_false(page.has_next);
	sm_user_collection_page_release(&page);
	q.collection_type = "context";
	OK(sm_store_list_user_collections(f->st, &q, &page, &f->err));
	assert_int_equal(page.total_count, 7); /* odd multiples of 3 below 45 */
	for (size_t i = 0; i < page.n; i++)
		assert_string_equal(page.rows[i].collection_type, "context");
	sm_user_collection_page_release(&page);
	q.limit = SM_STORE_MAX_LIMIT + 1;
	assert_int_equal(sm_store_list_user_collections(f->st, &q, &page, &f->err), -EINVAL);
}

static void test_membership(void **state)
{
	struct fixture *f = *state;
	char u[5][33];
	const char *uu[5];
	const char *coll = "0123456789abcdef0123456789abcdef";
	struct sm_membership *m;
	size_t nm;
	int64_t count;

	add_uc(f, "default", "Default Collection", "default");
	add_uc(f, coll, "Favourites", NULL);
	for (unsigned i = 0; i < 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "a%u", i);
		add_simple(f, i + 1, "default", "skill", name);
		uuid_of(i + 1, u[i]);
		uu[i] = u[i];
	}
	assert_int_equal(sm_store_add_members(f->st, coll, uu, 3, "t1", &f->err), 3);
	assert_int_equal(sm_store_add_members(f->st, coll, uu + 2, 2, "t2", &f->err), 1);
	/* unknown artifact or collection: nothing is added */
	const char *bad[] = {u[4], "ffffffffffffffffffffffffffffffff"};
	assert_int_equal(sm_store_add_members(f->st, "default", bad, 2, "t", &f->err), -ENOENT);
	assert_non_null(strstr(f->err.buf, "ffffffff"));
	assert_int_equal(
	    sm_store_add_members(f->st, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", uu, 1, "t", &f->err),
	    -ENOENT);
	assert_int_equal(
	    sm_store_add_all_members(f->st, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "t", &f->err),
	    -ENOENT);
	const char *dflt[] = {"default"};
	OK(sm_store_count_members(f->st, dflt, 1, &count, &f->err));
	assert_int_equal(count, 0);
	assert_int_equal(sm_store_add_all_members(f->st, "default", "t0", &f->err), 5);
	assert_int_equal(sm_store_add_all_members(f->st, "default", "t0", &f->err), 0);

	/* memberships of two artifacts, one query */
	OK(sm_store_memberships_of(f->st, uu + 2, 2, &m, &nm, &f->err));
	assert_int_equal(nm, 4);
	assert_string_equal(m[0].artifact_uuid, u[2]);
	assert_string_equal(m[0].collection_name, "Default Collection");
	assert_string_equal(m[1].artifact_uuid, u[2]);
	assert_string_equal(m[1].collection_id, coll);
	assert_string_equal(m[2].artifact_uuid, u[3]);
	assert_string_equal(m[3].collection_name, "Favourites");
	sm_memberships_free(m, nm);

	assert_int_equal(sm_store_remove_member(f->st, coll, u[0], &f->err), 1);
	assert_int_equal(sm_store_remove_member(f->st, coll, u[0], &f->err), 0);
	const char *keep[] = {u[1]};
	assert_int_equal(sm_store_prune_members(f->st, coll, keep, 1, &f->err), 2);
	const char *ids[] = {coll};
	OK(sm_store_count_members(f->st, ids, 1, &count, &f->err));
	assert_int_equal(count, 1);

	/* artifacts deleted from the files take their memberships along */
	assert_int_equal(sm_store_delete_artifact(f->st, u[1], &f->err), 1);
	OK(sm_store_count_members(f->st, ids, 1, &count, &f->err));
	assert_int_equal(count, 0);
	/* deleting the collection drops its memberships */
	OK(sm_store_delete_user_collection(f->st, "default", &f->err));
	OK(sm_store_memberships_of(f->st, uu, 5, &m, &nm, &f->err));
	assert_int_equal(nm, 0);
	sm_memberships_free(m, nm);
}

static void test_grouped_counts(void **state)
{
	struct fixture *f = *state;
	const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	char u[6][33];
	const char *uu[6];
	int64_t counts[5];

	add_uc(f, "default", "Default Collection", "default");
	add_uc(f, a, "A", NULL);
	add_uc(f, b, "B", NULL);
	for (unsigned i = 0; i < 6; i++) {
		char name[8];

		snprintf(name, sizeof(name), "x%u", i);
		add_simple(f, i + 1, "default", "agent", name);
		uuid_of(i + 1, u[i]);
		uu[i] = u[i];
	}
	OK(sm_store_add_members(f->st, a, uu, 2, "t", &f->err));
	OK(sm_store_add_members(f->st, b, uu, 6, "t", &f->err));
	const char *ids[] = {b, "default", "cccccccccccccccccccccccccccccccc", a, b};
	OK(sm_store_count_members(f->st, ids, 5, counts, &f->err));
	assert_int_equal(counts[0], 6);
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[2], 0);
	assert_int_equal(counts[3], 2);
	assert_int_equal(counts[4], 6);
	OK(sm_store_count_members(f->st, NULL, 0, counts, &f->err));
}

/* ---- staleness ---- */

static void test_staleness(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row r[5], *stale;
	struct sm_cache_status cs;
	size_t n;
	const int64_t ttl = 1800 * 1000, now = 10 * ttl;

	make_row(&r[0], 1, "default", "skill", "fresh");
	r[0].synced_at = now - 1000;
	make_row(&r[1], 2, "default", "skill", "old");
	r[1].synced_at = now - ttl - 5000;
	make_row(&r[2], 3, "default", "skill", "older");
	r[2].synced_at = now - ttl - 9000;
	make_row(&r[3], 4, "work", "skill", "never");
	r[3].synced_at = 0;
	make_row(&r[4], 5, "work", "skill", "edge");
	r[4].synced_at = now - ttl; /* exactly ttl old: stale */
	OK(sm_store_upsert_artifacts(f->st, r, 5, NULL, NULL, &f->err));

	OK(sm_store_cache_status(f->st, NULL, now, ttl, &cs, &f->err));
	assert_int_equal(cs.total, 5);
	assert_int_equal(cs.stale, 4);
	assert_int_equal(cs.fresh, 1);
	assert_true(cs.oldest_sync_age_seconds > 1809.0 - 0.001 &&
		    cs.oldest_sync_age_seconds < 1809.0 + 0.001);
	OK(sm_store_cache_status(f->st, "work", now, ttl, &cs, &f->err));
	assert_int_equal(cs.total, 2);
	assert_int_equal(cs.stale, 2);
	OK(sm_store_cache_status(f->st, "nope", now, ttl, &cs, &f->err));
	assert_int_equal(cs.total, 0);
	assert_true(cs.oldest_sync_age_seconds == 0.0);

	/* flag the fresh one: it comes first */
	assert_int_equal(sm_store_mark_stale(f->st, r[0].uuid, &f->err), 1);
	assert_int_equal(sm_store_mark_stale(f->st, "ffffffffffffffffffffffffffffffff", &f->err),
			 0);
	assert_int_equal(sm_store_list_stale(f->st, NULL, now, ttl, 10, &stale, &n, &f->err), 5);
	assert_string_equal(stale[0].name, "fresh");
	assert_true(stale[0].stale);
	assert_string_equal(stale[1].name, "never");
	assert_string_equal(stale[2].name, "older");
	assert_string_equal(stale[3].name, "old");
	assert_string_equal(stale[4].name, "edge");
	sm_artifact_rows_free(stale, n);
	assert_int_equal(sm_store_list_stale(f->st, NULL, now, ttl, 2, &stale, &n, &f->err), 2);
	sm_artifact_rows_free(stale, n);
	assert_int_equal(sm_store_list_stale(f->st, "work", now, ttl, 10, &stale, &n, &f->err), 2);
	assert_string_equal(stale[0].name, "never");
	assert_string_equal(stale[1].name, "edge");
	sm_artifact_rows_free(stale, n);
	assert_int_equal(sm_store_list_stale(f->st, "nope", now, ttl, 10, &stale, &n, &f->err), 0);
	sm_artifact_rows_free(stale, n);
	assert_int_equal(sm_store_list_stale(f->st, NULL, now, ttl, 0, &stale, &n, &f->err),
			 -EINVAL);

	/* a re-read clears the flag */
	r[0].synced_at = now;
	upsert1(f, &r[0], SM_UPSERT_UNCHANGED);
	OK(sm_store_cache_status(f->st, NULL, now, ttl, &cs, &f->err));
	assert_int_equal(cs.stale, 4);
	assert_int_equal(sm_store_mark_stale_collection(f->st, "default", &f->err), 3);
	assert_int_equal(sm_store_mark_stale_collection(f->st, NULL, &f->err), 2);
	OK(sm_store_cache_status(f->st, NULL, 0, ttl, &cs, &f->err));
	assert_int_equal(cs.stale, 5);
	for (int i = 0; i < 5; i++)
		sm_artifact_row_release(&r[i]);
}

/* ---- transactions, data_version, dump ---- */

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_row r[2], got;

	make_row(&r[0], 1, "default", "skill", "one");
	make_row(&r[1], 2, "default", "skill", "two");
	OK(sm_store_begin(f->st, &f->err));
	assert_int_equal(sm_store_begin(f->st, &f->err), -EINVAL);
	upsert1(f, &r[0], SM_UPSERT_CREATED);
	OK(sm_store_rollback(f->st, &f->err));
	assert_int_equal(sm_store_get_artifact(f->st, r[0].uuid, &got, &f->err), -ENOENT);
	assert_int_equal(sm_store_commit(f->st, &f->err), -EINVAL);
	OK(sm_store_rollback(f->st, &f->err)); /* no transaction: nothing to do */

	/* a failing operation inside the caller's transaction undoes only itself */
	OK(sm_store_begin(f->st, &f->err));
	upsert1(f, &r[0], SM_UPSERT_CREATED);
	set_str(&r[1].tools_json, "[");
	assert_int_equal(sm_store_upsert_artifacts(f->st, r, 2, NULL, NULL, &f->err), -EINVAL);
	OK(sm_store_commit(f->st, &f->err));
	OK(sm_store_get_artifact(f->st, r[0].uuid, &got, &f->err));
	sm_artifact_row_release(&got);
	assert_int_equal(sm_store_get_artifact(f->st, r[1].uuid, &got, &f->err), -ENOENT);
	sm_artifact_row_release(&r[0]);
	sm_artifact_row_release(&r[1]);
}

static void test_data_version_sees_other_connections(void **state)
{
	struct fixture *f = *state;
	struct sm_db *db2;
	struct sm_store *st2;
	int64_t v1, v2, v3;

	OK(sm_db_open(f->path, 0, &db2, &f->err));
	OK(sm_store_sqlite_new(db2, &st2, &f->err));
	OK(sm_store_data_version(f->st, &v1, &f->err));
	add_simple(f, 1, "default", "skill", "mine");
	OK(sm_store_data_version(f->st, &v2, &f->err));
	assert_int_equal(v1, v2); /* own commits do not count */
	add_uc(f, "default", "Default Collection", "default");
	OK(sm_store_add_all_members(st2, "default", "t", &f->err));
	OK(sm_store_data_version(f->st, &v3, &f->err));
	assert_int_not_equal(v2, v3);
	/* and the other connection reads the first one's rows */
	const char *ids[] = {"default"};
	int64_t count;
	OK(sm_store_count_members(st2, ids, 1, &count, &f->err));
	assert_int_equal(count, 1);
	sm_store_free(st2);
	sm_db_close(db2);
}

static void fill_for_dump(struct fixture *f, bool reverse)
{
	struct sm_artifact_row r[3];
	const char *names[] = {"a", "b", "c"};
	const char *uu[3];

	for (int k = 0; k < 3; k++) {
		int i = reverse ? 2 - k : k;

		make_row(&r[k], (unsigned)i + 1, "default", "skill", names[i]);
		set_str(&r[k].tags_json, i == 1 ? "[\"x\",\"Y\"]" : "[]");
		set_str(&r[k].description, "line1\nline2\t\"q\"");
		r[k].synced_at = reverse ? 5 : 6;
		uu[k] = r[k].uuid;
	}
	OK(sm_store_upsert_artifacts(f->st, r, 3, NULL, NULL, &f->err));
	add_uc(f, "default", "Default Collection", "default");
	OK(sm_store_add_members(f->st, "default", uu, 3, "t", &f->err));
	for (int k = 0; k < 3; k++)
		sm_artifact_row_release(&r[k]);
}

static void test_dump_is_deterministic(void **state)
{
	struct fixture *f = *state;
	struct strbuf d1 = STRBUF_INIT, d2 = STRBUF_INIT, v1 = STRBUF_INIT, v2 = STRBUF_INIT;
	struct sm_db *db = f->db;
	struct sm_store *st = f->st;
	char path2[160];

	fill_for_dump(f, false);
	OK(sm_store_dump(f->st, 0, &d1, &f->err));
	OK(sm_store_dump(f->st, SM_STORE_DUMP_VOLATILE, &v1, &f->err));

	/* a second database, same facts inserted in the other order */
	snprintf(path2, sizeof(path2), "%s/second.db", f->dir);
	OK(sm_db_open(path2, 0, &f->db, &f->err));
	OK(sm_store_sqlite_new(f->db, &f->st, &f->err));
	fill_for_dump(f, true);
	OK(sm_store_dump(f->st, 0, &d2, &f->err));
	OK(sm_store_dump(f->st, SM_STORE_DUMP_VOLATILE, &v2, &f->err));
	sm_store_free(f->st);
	sm_db_close(f->db);
	remove_db(path2);
	f->db = db;
	f->st = st;

	assert_string_equal(d1.buf, d2.buf);
	assert_string_not_equal(v1.buf, v2.buf); /* synced_at differs */
	assert_non_null(strstr(d1.buf, "description=\"line1\\nline2\\x09\\\"q\\\"\""));
	assert_non_null(
	    strstr(d1.buf, "tag uuid=\"00000000000000000000000000000002\" label=\"y\""));
	assert_non_null(strstr(d1.buf, "member collection_id=\"default\""));
	assert_null(strstr(d1.buf, "synced_at"));
	assert_non_null(strstr(v1.buf, "synced_at=6"));
	sm_strbuf_release(&d1);
	sm_strbuf_release(&d2);
	sm_strbuf_release(&v1);
	sm_strbuf_release(&v2);
}

/* Every allocation of a read path may fail; nothing leaks, errors are -ENOMEM. */
static void test_allocation_failures(void **state)
{
	struct fixture *f = *state;
	struct sm_artifact_query q = {.search = "post", .tags = tagpool, .ntags = 2};
	const char *uc = "0123456789abcdef0123456789abcdef";
	int r;

	populate(f);
	for (long k = 0;; k++) {
		struct sm_artifact_page page;

		sm_alloc_fail_after(k);
		r = sm_store_list_artifacts(f->st, &q, &page, &f->err);
		sm_alloc_fail_after(-1);
		if (r >= 0) {
			sm_artifact_page_release(&page);
			break;
		}
		assert_int_equal(r, -ENOMEM);
	}
	for (long k = 0;; k++) {
		struct sm_membership *m;
		size_t n;
		const char *ids[] = {uc};
		int64_t c;
		struct sm_user_collection_page p;
		struct sm_user_collection_query uq = {0};

		sm_alloc_fail_after(k);
		r = sm_store_memberships_of(f->st, ids, 1, &m, &n, &f->err);
		if (r >= 0) {
			sm_memberships_free(m, n);
			r = sm_store_count_members(f->st, ids, 1, &c, &f->err);
		}
		if (r >= 0) {
			r = sm_store_list_user_collections(f->st, &uq, &p, &f->err);
			if (r >= 0)
				sm_user_collection_page_release(&p);
		}
		sm_alloc_fail_after(-1);
		if (r >= 0)
			break;
		assert_int_equal(r, -ENOMEM);
	}
}

static void test_revision(void **state)
{
	struct fixture *f = *state;
	char r0[SM_STORE_REVISION_MAX], r1[SM_STORE_REVISION_MAX], r2[SM_STORE_REVISION_MAX];
	struct sm_artifact_row r;
	struct sm_db *db2;
	struct sm_store *st2;

	OK(sm_store_revision(f->st, r0, &f->err));
	assert_int_equal(strlen(r0), 16 + 2);
	assert_int_equal(r0[16], '-');
	make_row(&r, 1, "default", "skill", "a");
	upsert1(f, &r, SM_UPSERT_CREATED);
	OK(sm_store_revision(f->st, r1, &f->err));
	assert_string_not_equal(r0, r1);
	assert_memory_equal(r0, r1, 16); /* same epoch */
	/* a re-sync that changes nothing visible, and a stale flag, keep it */
	r.synced_at = 99999;
	upsert1(f, &r, SM_UPSERT_UNCHANGED);
	set_str(&r.fingerprint, "new");
	upsert1(f, &r, SM_UPSERT_FINGERPRINT);
	assert_int_equal(sm_store_mark_stale(f->st, r.uuid, &f->err), 1);
	OK(sm_store_revision(f->st, r2, &f->err));
	assert_string_equal(r1, r2);
	/* content, collections and memberships bump it */
	set_str(&r.title, "T");
	upsert1(f, &r, SM_UPSERT_UPDATED);
	OK(sm_store_revision(f->st, r2, &f->err));
	assert_string_not_equal(r1, r2);
	memcpy(r1, r2, sizeof(r1));
	add_uc(f, "default", "Default Collection", "default");
	OK(sm_store_revision(f->st, r2, &f->err));
	assert_string_not_equal(r1, r2);
	memcpy(r1, r2, sizeof(r1));
	/* seen by another connection after its commit */
	OK(sm_db_open(f->path, 0, &db2, &f->err));
	OK(sm_store_sqlite_new(db2, &st2, &f->err));
	assert_int_equal(sm_store_add_all_members(st2, "default", "t", &f->err), 1);
	OK(sm_store_revision(f->st, r2, &f->err));
	assert_string_not_equal(r1, r2);
	memcpy(r1, r2, sizeof(r1));
	assert_int_equal(sm_store_remove_member(st2, "default", r.uuid, &f->err), 1);
	OK(sm_store_revision(f->st, r2, &f->err));
	assert_string_not_equal(r1, r2);
	sm_store_free(st2);
	sm_db_close(db2);
	sm_artifact_row_release(&r);

	/* another database has another epoch */
	char path2[160], other[SM_STORE_REVISION_MAX];
	snprintf(path2, sizeof(path2), "%s/other.db", f->dir);
	OK(sm_db_open(path2, 0, &db2, &f->err));
	OK(sm_store_sqlite_new(db2, &st2, &f->err));
	OK(sm_store_revision(st2, other, &f->err));
	assert_memory_not_equal(other, r0, 16);
	sm_store_free(st2);
	sm_db_close(db2);
	remove_db(path2);
}

/* ---- one connection per thread ---- */

struct conn_worker {
	const char *path;
	int id;
	int failures;
	char msg[256];
};

static void *conn_run(void *arg)
{
	struct conn_worker *w = arg;
	struct strbuf err = STRBUF_INIT;
	struct sm_db *db = NULL;
	struct sm_store *st = NULL;
	char coll[16];

	snprintf(coll, sizeof(coll), "c%d", w->id);
	if (sm_db_open(w->path, 0, &db, &err) < 0 || sm_store_sqlite_new(db, &st, &err) < 0) {
		w->failures++;
		goto out;
	}
	for (unsigned round = 0; round < 30; round++) {
		struct sm_artifact_row rows[5];
		struct sm_artifact_query q = {.collection = w->id % 2 ? coll : NULL};
		struct sm_artifact_page page;
		const char *ids[] = {"default"};
		int64_t count;
		int r = 0;

		for (unsigned k = 0; k < 5; k++) {
			char name[16];

			snprintf(name, sizeof(name), "r%02u-%u", round, k);
			make_row(&rows[k], (unsigned)w->id * 100000 + round * 10 + k + 1, coll,
				 "skill", name);
		}
		if (w->id < 4) {
			r = sm_store_upsert_artifacts(st, rows, 5, NULL, NULL, &err);
			if (r >= 0)
				r = sm_store_add_all_members(st, "default", "t", &err);
		} else {
			r = sm_store_list_artifacts(st, &q, &page, &err);
			if (r >= 0)
				sm_artifact_page_release(&page);
			if (r >= 0)
				r = sm_store_count_members(st, ids, 1, &count, &err);
		}
		for (unsigned k = 0; k < 5; k++)
			sm_artifact_row_release(&rows[k]);
		if (r < 0) {
			w->failures++;
			break;
		}
	}
out:
	if (w->failures)
		snprintf(w->msg, sizeof(w->msg), "%s", err.buf);
	sm_store_free(st);
	sm_db_close(db);
	sm_strbuf_release(&err);
	return NULL;
}

static void test_connections_per_thread(void **state)
{
	struct fixture *f = *state;
	struct conn_worker w[8];
	pthread_t th[8];
	struct sm_cache_status cs;
	const char *ids[] = {"default"};
	int64_t count;

	add_uc(f, "default", "Default Collection", "default");
	for (int i = 0; i < 8; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].path = f->path;
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, conn_run, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (w[i].failures)
			fail_msg("worker %d: %s", i, w[i].msg);
	}
	OK(sm_store_cache_status(f->st, NULL, 0, 0, &cs, &f->err));
	assert_int_equal(cs.total, 4 * 30 * 5);
	OK(sm_store_count_members(f->st, ids, 1, &count, &f->err));
	assert_int_equal(count, 4 * 30 * 5);
}

/* With argument "threads", only the multi-connection test (the TSan suite). */
int main(int argc, char **argv)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest threads[] = {
	    T(test_connections_per_thread),
	};
	const struct CMUnitTest tests[] = {
	    T(test_upsert_results_and_revision),
	    T(test_every_field_round_trips),
	    T(test_upsert_rejects_bad_rows_atomically),
	    T(test_upsert_matches_by_key_and_moves_members),
	    T(test_upsert_takes_key_from_other_uuid),
	    T(test_find_delete_prune),
	    T(test_list_keyset_pagination),
	    T(test_list_edges),
	    T(test_fts_search),
	    T(test_user_collection_crud),
	    T(test_user_collection_list),
	    T(test_membership),
	    T(test_grouped_counts),
	    T(test_staleness),
	    T(test_transactions),
	    T(test_data_version_sees_other_connections),
	    T(test_revision),
	    T(test_dump_is_deterministic),
	    T(test_allocation_failures),
	    T(test_connections_per_thread),
	};

	if (argc > 1 && !strcmp(argv[1], "threads"))
		return cmocka_run_group_tests(threads, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
