/* SPDX-License-Identifier: MIT */
/* user-collections.toml into the cache (src/cache/user_sync.c) on a real home. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"

static char tmproot[1024];

struct fixture {
	char dir[2048];
	struct sm_home *home;
	struct sm_cache *cache;
};

static void put(const char *path, const char *content)
{
	assert_int_equal(sm_fs_write_atomic(path, content, strlen(content), 0644, NULL), 0);
}

static void add_skill(struct fixture *fx, const char *coll, const char *name)
{
	struct sm_add_opts opts = {.type = SM_TYPE_SKILL};
	struct sm_add_result res = {0};
	struct sm_collection *c = NULL;
	char src[4200], md[4300], text[256];

	snprintf(src, sizeof(src), "%s/src/%s", fx->dir, name);
	snprintf(md, sizeof(md), "%s/SKILL.md", src);
	snprintf(text, sizeof(text), "---\nname: %s\ndescription: the %s skill\n---\n# T\n", name,
		 name);
	assert_int_equal(sm_fs_mkdir_p(src, 0755, NULL), 0);
	put(md, text);
	assert_int_equal(sm_home_lock(fx->home, NULL), 0);
	assert_int_equal(sm_collection_open(fx->home, coll, &c, NULL), 0);
	assert_int_equal(sm_collection_add_local(c, src, &opts, &res, NULL), 0);
	assert_int_equal(sm_collection_commit(c, NULL), 0);
	sm_add_result_release(&res);
	sm_collection_free(c);
	sm_home_unlock(fx->home);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sm_sync_stats st = {0};
	const char *t = getenv("TMPDIR");
	bool created;

	if (!fx)
		return -1;
	snprintf(tmproot, sizeof(tmproot), "%s/sm-test-usync-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmproot))
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s", tmproot);
	if (sm_home_open(fx->dir, &fx->home, NULL) < 0 ||
	    sm_collection_init(fx->home, "default", &created, NULL) < 0 ||
	    sm_collection_init(fx->home, "work", &created, NULL) < 0)
		return -1;
	add_skill(fx, "default", "alpha");
	add_skill(fx, "default", "beta");
	add_skill(fx, "work", "alpha");
	add_skill(fx, "work", "gamma");
	if (sm_cache_open(fx->home, &fx->cache, NULL) < 0 ||
	    sm_cache_sync(fx->cache, NULL, 0, &st, NULL) < 0)
		return -1;
	sm_sync_stats_release(&st);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	sm_cache_close(fx->cache);
	sm_home_free(fx->home);
	sm_fs_remove_tree(tmproot, NULL);
	free(fx);
	return 0;
}

/* ---- helpers ---- */

static void write_uc(struct fixture *fx, const char *content)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", fx->dir, SM_UC_FILE);
	put(path, content);
}

static int sync_uc(struct fixture *fx, struct strbuf *msgs)
{
	struct sm_sync_stats st = {0};
	struct strbuf err = STRBUF_INIT;
	int r = sm_cache_sync_user_collections(fx->cache, &st, &err);

	for (size_t i = 0; msgs && i < st.nmessages; i++)
		assert_int_equal(sm_strbuf_addf(msgs, "%s\n", st.messages[i]), 0);
	if (r < 0 && r != -ENOMEM)
		fail_msg("sync: %s", err.buf);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
	return r;
}

static char *dump(struct fixture *fx)
{
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(sm_store_dump(fx->cache->store, 0, &out, NULL), 0);
	return sm_strbuf_detach(&out, NULL);
}

static int64_t count(struct fixture *fx, const char *id)
{
	int64_t n = -1;

	assert_int_equal(sm_store_count_members(fx->cache->store, &id, 1, &n, NULL), 0);
	return n;
}

static char *uuid_of(struct fixture *fx, const char *coll, const char *name)
{
	struct sm_artifact_row row;
	char *u;

	assert_int_equal(
	    sm_store_get_artifact_by_key(fx->cache->store, coll, "skill", name, &row, NULL), 0);
	u = row.uuid;
	row.uuid = NULL;
	sm_artifact_row_release(&row);
	return u;
}

/* Is artifact coll/skill:name a member of user collection id? */
static bool is_member(struct fixture *fx, const char *id, const char *coll, const char *name)
{
	char *u = uuid_of(fx, coll, name);
	struct sm_membership *m = NULL;
	size_t n = 0;
	bool found = false;

	assert_true(sm_store_memberships_of(fx->cache->store, (const char *const *)&u, 1, &m, &n,
					    NULL) >= 0);
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(m[i].collection_id, id);
	sm_memberships_free(m, n);
	sm_free(u);
	return found;
}

#define A "0123456789abcdef0123456789abcdef"
#define B "fedcba9876543210fedcba9876543210"

static const char two[] = "[[collections]]\n"
			  "id = \"" A "\"\n"
			  "name = \"Front\"\n"
			  "created_at = \"2026-01-01T00:00:00\"\n"
			  "members = [\"skill:beta\", \"work/skill:alpha\", \"skill:alpha\",\n"
			  "  \"skill:ghost\", \"skill:beta.md\", \"skill:gamma\"]\n"
			  "\n"
			  "[[collections]]\n"
			  "id = \"" B "\"\n"
			  "name = \"Back\"\n"
			  "description = \"server side\"\n";

/* ---- tests ---- */

static void check_two(struct fixture *fx)
{
	struct sm_user_collection_row row;

	assert_int_equal(sm_store_get_user_collection(fx->cache->store, A, &row, NULL), 0);
	assert_string_equal(row.name, "Front");
	assert_string_equal(row.created_at, "2026-01-01T00:00:00");
	assert_string_equal(row.updated_at, "2026-01-01T00:00:00");
	sm_user_collection_row_release(&row);
	assert_int_equal(sm_store_get_user_collection(fx->cache->store, B, &row, NULL), 0);
	assert_string_equal(row.description, "server side");
	sm_user_collection_row_release(&row);
	/* beta (twice, once with .md), work's alpha, default's alpha (active), gamma */
	assert_int_equal(count(fx, A), 4);
	assert_true(is_member(fx, A, "default", "beta"));
	assert_true(is_member(fx, A, "work", "alpha"));
	assert_true(is_member(fx, A, "default", "alpha"));
	assert_true(is_member(fx, A, "work", "gamma"));
	assert_int_equal(count(fx, B), 0);
	assert_int_equal(sm_store_get_user_collection(fx->cache->store, "default", &row, NULL), 0);
	sm_user_collection_row_release(&row);
}

static void test_sync(void **state)
{
	struct fixture *fx = *state;
	char rev1[SM_STORE_REVISION_MAX], rev2[SM_STORE_REVISION_MAX];
	char *d1, *d2;

	for (int pass = 0; pass < 2; pass++) {
		/* per-member queries, then the bulk index */
		setenv("SKILLMEAT_UC_INDEX_MIN", pass ? "1" : "1000000", 1);
		write_uc(fx, "");
		assert_int_equal(sync_uc(fx, NULL), 0);
		assert_int_equal(count(fx, A), 0);
		write_uc(fx, two);
		assert_int_equal(sync_uc(fx, NULL), 0);
		check_two(fx);
		/* an unchanged file writes nothing */
		assert_int_equal(sm_store_revision(fx->cache->store, rev1, NULL), 0);
		d1 = dump(fx);
		assert_int_equal(sync_uc(fx, NULL), 0);
		assert_int_equal(sm_store_revision(fx->cache->store, rev2, NULL), 0);
		assert_string_equal(rev1, rev2);
		d2 = dump(fx);
		assert_string_equal(d1, d2);
		sm_free(d1);
		sm_free(d2);
	}
	unsetenv("SKILLMEAT_UC_INDEX_MIN");
}

static void test_swap_prune(void **state)
{
	struct fixture *fx = *state;
	struct sm_user_collection_row row;

	write_uc(fx, two);
	assert_int_equal(sync_uc(fx, NULL), 0);
	/* names swapped by hand, one member dropped, one collection gone */
	write_uc(fx, "[[collections]]\nid = \"" A "\"\nname = \"Back\"\n"
		     "members = [\"skill:beta\"]\n"
		     "[[collections]]\nid = \"" B "\"\nname = \"Front\"\n"
		     "members = [\"work/skill:gamma\"]\n");
	assert_int_equal(sync_uc(fx, NULL), 0);
	assert_int_equal(sm_store_get_user_collection(fx->cache->store, A, &row, NULL), 0);
	assert_string_equal(row.name, "Back");
	assert_null(row.description);
	sm_user_collection_row_release(&row);
	assert_int_equal(count(fx, A), 1);
	assert_int_equal(count(fx, B), 1);
	assert_true(is_member(fx, B, "work", "gamma"));
	write_uc(fx, "[[collections]]\nid = \"" B "\"\nname = \"Front\"\n");
	assert_int_equal(sync_uc(fx, NULL), 0);
	assert_int_equal(sm_store_get_user_collection(fx->cache->store, A, &row, NULL), -ENOENT);
	assert_int_equal(count(fx, A), 0);
	assert_int_equal(count(fx, B), 0);
	/* the default collection is never pruned */
	assert_int_equal(sm_store_get_user_collection(fx->cache->store, "default", &row, NULL), 0);
	sm_user_collection_row_release(&row);
}

static void test_malformed_keeps_cache(void **state)
{
	struct fixture *fx = *state;
	struct strbuf msgs = STRBUF_INIT;
	char *d1, *d2;

	write_uc(fx, two);
	assert_int_equal(sync_uc(fx, NULL), 0);
	d1 = dump(fx);
	write_uc(fx, "[[collections]]\nid = \"" A "\"\nname = \"Front\n");
	assert_int_equal(sync_uc(fx, &msgs), 0);
	assert_non_null(strstr(msgs.buf, SM_UC_FILE));
	assert_non_null(strstr(msgs.buf, "line 3"));
	d2 = dump(fx);
	assert_string_equal(d1, d2);
	sm_free(d1);
	sm_free(d2);
	sm_strbuf_release(&msgs);
}

static void test_caller_transaction(void **state)
{
	struct fixture *fx = *state;
	char *d1, *d2;

	write_uc(fx, "");
	assert_int_equal(sync_uc(fx, NULL), 0);
	d1 = dump(fx);
	write_uc(fx, two);
	assert_int_equal(sm_store_begin(fx->cache->store, NULL), 0);
	assert_int_equal(sync_uc(fx, NULL), 0);
	assert_int_equal(sm_store_rollback(fx->cache->store, NULL), 0);
	d2 = dump(fx);
	assert_string_equal(d1, d2);
	sm_free(d2);
	assert_int_equal(sm_store_begin(fx->cache->store, NULL), 0);
	assert_int_equal(sync_uc(fx, NULL), 0);
	assert_int_equal(sm_store_commit(fx->cache->store, NULL), 0);
	check_two(fx);
	sm_free(d1);
}

/* Every allocation failing in turn: -ENOMEM and the cache as it was, then success. */
static void test_alloc_failure(void **state)
{
	struct fixture *fx = *state;

	for (int pass = 0; pass < 2; pass++) {
		char *before, *after;
		long n;
		int r = -1;

		setenv("SKILLMEAT_UC_INDEX_MIN", pass ? "1" : "1000000", 1);
		write_uc(fx, "");
		assert_int_equal(sync_uc(fx, NULL), 0);
		write_uc(fx, two);
		before = dump(fx);
		for (n = 0; n < 100000; n++) {
			sm_alloc_fail_after(n);
			r = sync_uc(fx, NULL);
			sm_alloc_fail_after(-1);
			if (r == 0)
				break;
			assert_int_equal(r, -ENOMEM);
			after = dump(fx);
			assert_string_equal(before, after);
			sm_free(after);
		}
		assert_int_equal(r, 0);
		assert_true(n > 20); /* the failures did happen */
		check_two(fx);
		sm_free(before);
	}
	unsetenv("SKILLMEAT_UC_INDEX_MIN");
}

static void test_resolve(void **state)
{
	struct fixture *fx = *state;
	struct sm_artifact_row row;
	struct strbuf err = STRBUF_INIT, key = STRBUF_INIT;

	assert_int_equal(sm_cache_resolve_artifact(fx->cache, "skill:beta", false, &row, NULL), 0);
	assert_int_equal(sm_cache_artifact_key(fx->cache, &row, &key, NULL), 0);
	assert_string_equal(key.buf, "skill:beta");
	sm_artifact_row_release(&row);
	assert_int_equal(sm_cache_resolve_artifact(fx->cache, "gamma", false, &row, NULL), 0);
	assert_string_equal(row.collection, "work");
	sm_artifact_row_release(&row);
	assert_int_equal(sm_cache_resolve_artifact(fx->cache, "skill:alpha", false, &row, &err),
			 -EEXIST);
	assert_non_null(strstr(err.buf, "default/skill:alpha"));
	assert_non_null(strstr(err.buf, "work/skill:alpha"));
	assert_int_equal(sm_cache_resolve_artifact(fx->cache, "alpha", true, &row, NULL), 0);
	assert_string_equal(row.collection, "default");
	sm_strbuf_reset(&key);
	assert_int_equal(sm_cache_artifact_key(fx->cache, &row, &key, NULL), 0);
	assert_string_equal(key.buf, "default/skill:alpha");
	sm_artifact_row_release(&row);
	assert_int_equal(
	    sm_cache_resolve_artifact(fx->cache, "work/skill:alpha.md", false, &row, NULL), 0);
	assert_string_equal(row.collection, "work");
	sm_artifact_row_release(&row);
	assert_int_equal(
	    sm_cache_resolve_artifact(fx->cache, "nope/skill:alpha", false, &row, NULL), -ENOENT);
	assert_int_equal(sm_cache_resolve_artifact(fx->cache, "skill:zzz", false, &row, NULL),
			 -ENOENT);
	assert_int_equal(sm_cache_resolve_artifact(fx->cache, "gadget:x", false, &row, NULL),
			 -EINVAL);
	assert_int_equal(sm_cache_resolve_artifact(fx->cache, "", false, &row, NULL), -EINVAL);
	sm_strbuf_release(&err);
	sm_strbuf_release(&key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_sync),
	    cmocka_unit_test(test_swap_prune),
	    cmocka_unit_test(test_malformed_keeps_cache),
	    cmocka_unit_test(test_caller_transaction),
	    cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
