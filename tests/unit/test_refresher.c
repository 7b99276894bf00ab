/* SPDX-License-Identifier: MIT */
/*
 * The background refresher over a real temporary home: a stale row is
 * re-read within one short interval, a small budget spreads the work over
 * passes, the thread runs at a lower priority, stop is clean, the config
 * gives the defaults. Runs in the 'threads' suite (TSan) too.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "skillmeat/refresher.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

#define DEADLINE_MS 10000

struct fixture {
	char dir[64];
	char home[128];
	struct sm_home *h;
	struct sm_cache *cache;
	struct sm_refresher *r;
	pthread_mutex_t lock;
	unsigned after;
	int policy;
	int nice;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void make_skill(const char *dir, const char *name, const char *desc)
{
	char p[512], text[256];

	assert_int_equal(sm_fs_mkdir_p(dir, 0755, NULL), 0);
	snprintf(p, sizeof(p), "%s/SKILL.md", dir);
	snprintf(text, sizeof(text), "---\nname: %s\ndescription: %s\n---\n", name, desc);
	write_file(p, text);
}

/* Collection coll with skills <prefix>0..n-1. */
static void add_collection(struct fixture *f, const char *coll, const char *prefix, int n)
{
	struct sm_collection *c;
	bool created;

	assert_int_equal(sm_home_lock(f->h, NULL), 0);
	assert_int_equal(sm_collection_init(f->h, coll, &created, NULL), 0);
	assert_int_equal(sm_collection_open(f->h, coll, &c, NULL), 0);
	for (int i = 0; i < n; i++) {
		char src[256], name[32];
		struct sm_add_opts o = { .type = SM_TYPE_INVALID };
		struct sm_add_result res = { 0 };

		snprintf(name, sizeof(name), "%s%d", prefix, i);
		snprintf(src, sizeof(src), "%s/src/%s/%s", f->dir, coll, name);
		make_skill(src, name, "original");
		assert_int_equal(sm_collection_add_local(c, src, &o, &res, NULL), 0);
		sm_add_result_release(&res);
	}
	assert_int_equal(sm_collection_commit(c, NULL), 0);
	sm_collection_free(c);
	sm_home_unlock(f->h);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sm_sync_stats st = { 0 };

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sm-refresh.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->home, sizeof(f->home), "%s/home", f->dir);
	pthread_mutex_init(&f->lock, NULL);
	f->policy = -1;
	*state = f;
	assert_int_equal(sm_home_open(f->home, &f->h, NULL), 0);
	add_collection(f, "default", "s", 5);
	add_collection(f, "other", "o", 3);
	assert_int_equal(sm_cache_open(f->h, &f->cache, NULL), 0);
	assert_int_equal(sm_cache_sync(f->cache, NULL, 0, &st, NULL), 0);
	sm_sync_stats_release(&st);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sm_refresher_stop(f->r);
	sm_cache_close(f->cache);
	sm_home_free(f->h);
	sm_fs_remove_tree(f->dir, NULL);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

static void after(void *ctx)
{
	struct fixture *f = ctx;
	int policy = sched_getscheduler(0);
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	pthread_mutex_lock(&f->lock);
	f->after++;
	f->policy = policy;
	f->nice = nice;
	pthread_mutex_unlock(&f->lock);
}

static void start(struct fixture *f, int64_t interval_ms, int64_t budget_ms)
{
	struct sm_refresher_opts o = {
		.home_root = f->home, .interval_ms = interval_ms, .budget_ms = budget_ms,
		.after_refresh = after, .ctx = f,
	};

	assert_int_equal(sm_refresher_start(&o, &f->r, NULL), 0);
}

static char *description_of(struct fixture *f, const char *coll, const char *name)
{
	struct sm_artifact_row row = { 0 };
	char *d = NULL;

	if (sm_store_get_artifact_by_key(f->cache->store, coll, "skill", name, &row, NULL) == 0) {
		d = row.description ? strdup(row.description) : NULL;
		sm_artifact_row_release(&row);
	}
	return d;
}

static bool wait_description(struct fixture *f, const char *coll, const char *name,
			     const char *want)
{
	int64_t end = sm_time_mono_ns() / 1000000 + DEADLINE_MS;

	for (;;) {
		char *d = description_of(f, coll, name);
		bool ok = d && !strcmp(d, want);

		free(d);
		if (ok)
			return true;
		if (sm_time_mono_ns() / 1000000 > end)
			return false;
		usleep(5000);
	}
}

/* Edit a skill's file (the same size as before) and flag its row, as the watcher would. */
static void edit_and_flag(struct fixture *f, const char *coll, const char *name,
			  const char *desc)
{
	struct sm_artifact_row row = { 0 };
	char p[512];

	snprintf(p, sizeof(p), "%s/collections/%s/skills/%s/SKILL.md", f->home, coll, name);
	{
		char text[256];

		snprintf(text, sizeof(text), "---\nname: %s\ndescription: %s\n---\n", name, desc);
		write_file(p, text);
	}
	assert_int_equal(sm_store_get_artifact_by_key(f->cache->store, coll, "skill", name, &row,
						      NULL),
			 0);
	assert_int_equal(sm_store_mark_stale(f->cache->store, row.uuid, NULL), 1);
	sm_artifact_row_release(&row);
}

static void test_refreshes_stale_row(void **state)
{
	struct fixture *f = *state;
	struct sm_refresher_stats st;

	edit_and_flag(f, "default", "s1", "edited!!");
	start(f, 50, 200);
	assert_true(wait_description(f, "default", "s1", "edited!!"));
	/* the counters follow (the pass that wrote the row ends just after) */
	{
		int64_t end = sm_time_mono_ns() / 1000000 + DEADLINE_MS;

		do {
			sm_refresher_get_stats(f->r, &st);
			if (st.refreshed >= 1)
				break;
			usleep(5000);
		} while (sm_time_mono_ns() / 1000000 < end);
	}
	assert_true(st.runs >= 1);
	assert_int_equal(st.refreshed, 1);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.over_budget, 0);
	assert_true(st.last_run_ms > 0);
	assert_int_equal(st.interval_ms, 50);
	assert_int_equal(st.budget_ms, 200);
	/* nothing stale is left: the next passes re-read nothing */
	{
		struct sm_artifact_row *rows = NULL;
		size_t n = 0;

		assert_int_equal(sm_store_list_stale(f->cache->store, NULL,
						     sm_time_real_ns() / 1000000,
						     f->cache->stale_ttl_ms, 10, &rows, &n, NULL),
				 0);
		assert_int_equal(n, 0);
		sm_artifact_rows_free(rows, n);
	}
	/* the after hook ran on the refresher thread, at the lower priority */
	pthread_mutex_lock(&f->lock);
	assert_true(f->after >= 1);
	assert_int_equal(f->policy, SCHED_BATCH);
	assert_true(f->nice >= 10);
	pthread_mutex_unlock(&f->lock);
}

static void test_budget_spreads_work(void **state)
{
	struct fixture *f = *state;
	struct sm_refresher_stats st;
	int64_t end;

	/* two collections whose every row must be re-read: each takes well over 1 ms */
	add_collection(f, "big1", "a", 120);
	add_collection(f, "big2", "b", 120);
	{
		struct sm_sync_stats ss = { 0 };

		assert_int_equal(sm_cache_sync(f->cache, NULL, 0, &ss, NULL), 0);
		sm_sync_stats_release(&ss);
	}
	assert_int_equal(sm_store_mark_stale_collection(f->cache->store, "big1", NULL), 120);
	assert_int_equal(sm_store_mark_stale_collection(f->cache->store, "big2", NULL), 120);
	edit_and_flag(f, "big1", "a7", "budget-a");
	edit_and_flag(f, "big2", "b9", "budget-b");
	/* 1 ms: one collection per pass */
	start(f, 30, 1);
	assert_true(wait_description(f, "big1", "a7", "budget-a"));
	assert_true(wait_description(f, "big2", "b9", "budget-b"));
	end = sm_time_mono_ns() / 1000000 + DEADLINE_MS;
	do {
		sm_refresher_get_stats(f->r, &st);
		if (st.refreshed >= 2 && st.runs >= 2)
			break;
		usleep(5000);
	} while (sm_time_mono_ns() / 1000000 < end);
	assert_int_equal(st.refreshed, 2); /* the others were re-read and found equal */
	assert_true(st.runs >= 2);
	assert_true(st.over_budget >= 1);
}

static void test_kick_and_stop(void **state)
{
	struct fixture *f = *state;
	struct sm_refresher_stats st;
	int64_t t0;

	/* an hour's interval: nothing runs until kicked */
	start(f, 3600 * 1000, 200);
	edit_and_flag(f, "default", "s3", "kicked");
	sm_refresher_kick(f->r);
	assert_true(wait_description(f, "default", "s3", "kicked"));
	/* stop does not wait for the interval */
	t0 = sm_time_mono_ns();
	sm_refresher_stop(f->r);
	f->r = NULL;
	assert_true(sm_time_mono_ns() - t0 < (int64_t)5 * 1000000000);
	sm_refresher_stop(NULL);
	sm_refresher_get_stats(NULL, &st);
	assert_int_equal(st.runs, 0);
}

static void test_warm_sync(void **state)
{
	struct fixture *f = *state;
	char p[512];

	/* an edit nobody flagged (no watcher): only the warm sync finds it */
	snprintf(p, sizeof(p), "%s/collections/other/skills/o0/SKILL.md", f->home);
	write_file(p, "---\nname: o0\ndescription: unflagged edit\n---\n");
	start(f, 3600 * 1000, 200);
	sm_refresher_kick(f->r);
	{
		struct sm_refresher_stats st;
		int64_t end = sm_time_mono_ns() / 1000000 + DEADLINE_MS;

		do {
			sm_refresher_get_stats(f->r, &st);
			usleep(5000);
		} while (st.runs < 1 && sm_time_mono_ns() / 1000000 < end);
		assert_int_equal(st.runs, 1);
	}
	{
		char *d = description_of(f, "other", "o0");

		assert_string_equal(d, "original");
		free(d);
	}
	sm_refresher_set_warm_sync(f->r, true);
	sm_refresher_kick(f->r);
	assert_true(wait_description(f, "other", "o0", "unflagged edit"));
}

static void test_config_defaults(void **state)
{
	struct fixture *f = *state;
	struct sm_refresher_stats st;

	start(f, 0, 0);
	sm_refresher_get_stats(f->r, &st);
	assert_int_equal(st.interval_ms, 300 * 1000);
	assert_int_equal(st.budget_ms, 200);
	assert_int_equal(st.runs, 0);
	sm_refresher_stop(f->r);
	f->r = NULL;

	setenv("SKILLMEAT_SERVER_REFRESH_INTERVAL_SECONDS", "7", 1);
	setenv("SKILLMEAT_SERVER_REFRESH_BUDGET_MS", "50", 1);
	start(f, 0, 0);
	unsetenv("SKILLMEAT_SERVER_REFRESH_INTERVAL_SECONDS");
	unsetenv("SKILLMEAT_SERVER_REFRESH_BUDGET_MS");
	sm_refresher_get_stats(f->r, &st);
	assert_int_equal(st.interval_ms, 7000);
	assert_int_equal(st.budget_ms, 50);
}

static void test_gone_collection(void **state)
{
	struct fixture *f = *state;
	char p[512];
	struct sm_artifact_row row = { 0 };
	int64_t end;
	int r;

	/* a flagged row of a collection whose folder was removed: its rows go */
	edit_and_flag(f, "other", "o2", "doomed!!");
	snprintf(p, sizeof(p), "%s/collections/other", f->home);
	assert_int_equal(sm_fs_remove_tree(p, NULL), 0);
	start(f, 30, 200);
	end = sm_time_mono_ns() / 1000000 + DEADLINE_MS;
	while ((r = sm_store_get_artifact_by_key(f->cache->store, "other", "skill", "o2", &row,
						 NULL)) == 0) {
		sm_artifact_row_release(&row);
		assert_true(sm_time_mono_ns() / 1000000 < end);
		usleep(5000);
	}
	assert_int_equal(r, -ENOENT);
	assert_int_equal(sm_store_get_artifact_by_key(f->cache->store, "default", "skill", "s0",
						      &row, NULL),
			 0);
	sm_artifact_row_release(&row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refreshes_stale_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_spreads_work, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kick_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warm_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_collection, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
