/* SPDX-License-Identifier: MIT */
/*
 * The inotify watcher over a real temporary home: every kind of change is
 * reported (in-place write, sed -i, an editor's backup-and-write, a nested
 * file, a new artifact, a deleted one, a rewritten collection.toml, a new
 * collection), a burst is coalesced into one callback, stop is clean, the
 * watch limit degrades gracefully, and the default callback makes an edit
 * visible in the cache. Runs in the 'threads' suite (TSan) too.
 *
 * Seeing a change is polled with a generous deadline, never a fixed sleep.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#include "skillmeat/watcher.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

#define DEADLINE_MS 10000
#define MAX_RECORDS 256

struct record {
	char coll[64];
	char paths[1024]; /* "|a|b|" */
	bool manifest;
};

struct recorder {
	pthread_mutex_t lock;
	struct record recs[MAX_RECORDS];
	size_t n;
	unsigned after_refresh;
};

struct fixture {
	char dir[64];
	char home[128];
	char coll[160];
	struct recorder rec;
	struct sm_watcher *w;
};

static void on_change(void *ctx, const char *collection, const char *const *paths, size_t n,
		      bool manifest_changed)
{
	struct recorder *r = ctx;
	struct record rec = { .manifest = manifest_changed };
	size_t len;

	snprintf(rec.coll, sizeof(rec.coll), "%s", collection);
	len = (size_t)snprintf(rec.paths, sizeof(rec.paths), "|");
	for (size_t i = 0; i < n && len < sizeof(rec.paths); i++)
		len += (size_t)snprintf(rec.paths + len, sizeof(rec.paths) - len, "%s|", paths[i]);
	pthread_mutex_lock(&r->lock);
	if (r->n < MAX_RECORDS)
		r->recs[r->n++] = rec;
	pthread_mutex_unlock(&r->lock);
}

static size_t nrecords(struct recorder *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* A record from index from on, of coll, naming path (or manifest_changed when path is NULL). */
static bool seen(struct recorder *r, size_t from, const char *coll, const char *path)
{
	char want[256];
	bool found = false;

	snprintf(want, sizeof(want), "|%s|", path ? path : "");
	pthread_mutex_lock(&r->lock);
	for (size_t i = from; i < r->n && !found; i++)
		found = !strcmp(r->recs[i].coll, coll) &&
			(path ? strstr(r->recs[i].paths, want) != NULL : r->recs[i].manifest);
	pthread_mutex_unlock(&r->lock);
	return found;
}

static bool wait_seen(struct recorder *r, size_t from, const char *coll, const char *path)
{
	int64_t end = sm_time_mono_ns() / 1000000 + DEADLINE_MS;

	while (!seen(r, from, coll, path)) {
		if (sm_time_mono_ns() / 1000000 > end) {
			fprintf(stderr, "not seen: %s %s\n", coll, path ? path : "(manifest)");
			return false;
		}
		usleep(5000);
	}
	return true;
}

static void write_file(const char *path, const char *text);

/*
 * Let every event so far be delivered, explicitly: write a marker file in
 * skills/<skill> of coll and wait until a batch names it. inotify keeps the
 * order of events, so whatever came before the marker is in that batch or
 * an earlier one; the next change starts a batch of its own.
 */
static void settle(struct recorder *r, const char *home, const char *coll, const char *skill)
{
	static int n;
	char p[512], rel[128];
	size_t from = nrecords(r);

	snprintf(p, sizeof(p), "%s/collections/%s/skills/%s/settle-%d.txt", home, coll, skill, ++n);
	write_file(p, "marker\n");
	snprintf(rel, sizeof(rel), "skills/%s", skill);
	assert_true(wait_seen(r, from, coll, rel));
}

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
	snprintf(text, sizeof(text), "---\nname: %s\ndescription: %s\n---\n\n# %s\n", name, desc,
		 name);
	write_file(p, text);
}

/* A home with collection default holding skills s0..s5. */
static void build_home(struct fixture *f)
{
	struct sm_home *home;
	struct sm_collection *c;
	struct sm_cache *cache;
	struct sm_sync_stats st = { 0 };
	bool created;

	assert_int_equal(sm_home_open(f->home, &home, NULL), 0);
	assert_int_equal(sm_home_lock(home, NULL), 0);
	assert_int_equal(sm_collection_init(home, "default", &created, NULL), 0);
	assert_int_equal(sm_collection_open(home, "default", &c, NULL), 0);
	for (int i = 0; i < 6; i++) {
		char src[256], name[16], desc[64];
		struct sm_add_opts o = { .type = SM_TYPE_INVALID };
		struct sm_add_result res = { 0 };

		snprintf(name, sizeof(name), "s%d", i);
		snprintf(src, sizeof(src), "%s/src/%s", f->dir, name);
		snprintf(desc, sizeof(desc), "skill %d", i);
		make_skill(src, name, desc);
		assert_int_equal(sm_collection_add_local(c, src, &o, &res, NULL), 0);
		sm_add_result_release(&res);
	}
	assert_int_equal(sm_collection_commit(c, NULL), 0);
	sm_collection_free(c);
	sm_home_unlock(home);
	assert_int_equal(sm_cache_open(home, &cache, NULL), 0);
	assert_int_equal(sm_cache_sync(cache, NULL, 0, &st, NULL), 0);
	sm_sync_stats_release(&st);
	sm_cache_close(cache);
	sm_home_free(home);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/sm-watch.XXXXXX", "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->home, sizeof(f->home), "%s/home", f->dir);
	snprintf(f->coll, sizeof(f->coll), "%s/collections/default", f->home);
	pthread_mutex_init(&f->rec.lock, NULL);
	*state = f;
	build_home(f);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sm_watcher_stop(f->w);
	sm_fs_remove_tree(f->dir, NULL);
	pthread_mutex_destroy(&f->rec.lock);
	free(f);
	return 0;
}

static void start(struct fixture *f, int64_t debounce_ms)
{
	struct sm_watcher_opts o = {
		.home_root = f->home, .debounce_ms = debounce_ms, .on_change = on_change,
		.ctx = &f->rec,
	};
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(sm_watcher_start(&o, &f->w, &err), 0);
	sm_strbuf_release(&err);
}

static void cpath(char *out, size_t n, const struct fixture *f, const char *rel)
{
	snprintf(out, n, "%s/%s", f->coll, rel);
}

static void test_in_place_write(void **state)
{
	struct fixture *f = *state;
	char p[512];

	start(f, 20);
	cpath(p, sizeof(p), f, "skills/s1/SKILL.md");
	write_file(p, "---\nname: s1\ndescription: edited in place\n---\n");
	assert_true(wait_seen(&f->rec, 0, "default", "skills/s1"));
	assert_false(seen(&f->rec, 0, "default", "skills/s2"));
}

static void test_sed_i(void **state)
{
	struct fixture *f = *state;
	char p[512], cmd[1024];

	start(f, 20);
	cpath(p, sizeof(p), f, "skills/s2/SKILL.md");
	snprintf(cmd, sizeof(cmd), "sed -i 's/skill 2/edited by sed/' '%s'", p);
	assert_int_equal(system(cmd), 0);
	assert_true(wait_seen(&f->rec, 0, "default", "skills/s2"));
}

static void test_editor_rename(void **state)
{
	struct fixture *f = *state;
	char p[512], tmp[512], bak[512];

	start(f, 20);
	/* write to a temp file, rename over */
	cpath(p, sizeof(p), f, "skills/s3/SKILL.md");
	cpath(tmp, sizeof(tmp), f, "skills/s3/.SKILL.md.swp");
	write_file(tmp, "---\nname: s3\ndescription: renamed over\n---\n");
	assert_int_equal(rename(tmp, p), 0);
	assert_true(wait_seen(&f->rec, 0, "default", "skills/s3"));
	/* vim's way: the original renamed to a backup, a new file written */
	size_t from = nrecords(&f->rec);
	cpath(p, sizeof(p), f, "skills/s0/SKILL.md");
	cpath(bak, sizeof(bak), f, "skills/s0/SKILL.md~");
	assert_int_equal(rename(p, bak), 0);
	write_file(p, "---\nname: s0\ndescription: vim\n---\n");
	assert_int_equal(unlink(bak), 0);
	assert_true(wait_seen(&f->rec, from, "default", "skills/s0"));
}

static void test_nested_and_new_folders(void **state)
{
	struct fixture *f = *state;
	char p[512];
	size_t from;

	start(f, 20);
	cpath(p, sizeof(p), f, "skills/s4/deep/er");
	assert_int_equal(sm_fs_mkdir_p(p, 0755, NULL), 0);
	cpath(p, sizeof(p), f, "skills/s4/deep/er/file.txt");
	write_file(p, "nested\n");
	assert_true(wait_seen(&f->rec, 0, "default", "skills/s4"));
	/* the new folders are watched now: a later edit deep inside is seen */
	settle(&f->rec, f->home, "default", "s1"); /* the burst above is over */
	from = nrecords(&f->rec);
	write_file(p, "nested again\n");
	assert_true(wait_seen(&f->rec, from, "default", "skills/s4"));

	/* a new artifact folder, made and filled at once */
	from = nrecords(&f->rec);
	cpath(p, sizeof(p), f, "skills/fresh");
	make_skill(p, "fresh", "new one");
	assert_true(wait_seen(&f->rec, from, "default", "skills/fresh"));
	/* a single-file artifact */
	cpath(p, sizeof(p), f, "agents");
	assert_int_equal(sm_fs_mkdir_p(p, 0755, NULL), 0);
	cpath(p, sizeof(p), f, "agents/helper.md");
	write_file(p, "---\ndescription: an agent\n---\n");
	assert_true(wait_seen(&f->rec, from, "default", "agents/helper.md"));
}

/*
 * A replace as core/txn.c does it: the staged copy exchanged with the
 * artifact folder (RENAME_EXCHANGE: the new copy's MOVED_TO, then the old
 * one's MOVED_FROM of the same name). The new folder, and one inside it,
 * are watched: hand edits after the replace are seen.
 */
static void test_exchanged_folder(void **state)
{
	struct fixture *f = *state;
	char p[512], staged[512];
	size_t from;

	start(f, 20);
	cpath(staged, sizeof(staged), f, "skills/.s3.sm-new-1");
	make_skill(staged, "s3", "replaced");
	cpath(p, sizeof(p), f, "skills/.s3.sm-new-1/docs");
	assert_int_equal(sm_fs_mkdir_p(p, 0755, NULL), 0);
	cpath(p, sizeof(p), f, "skills/.s3.sm-new-1/docs/a.md");
	write_file(p, "a\n");
	cpath(p, sizeof(p), f, "skills/s3");
	from = nrecords(&f->rec);
	assert_int_equal(renameat2(AT_FDCWD, staged, AT_FDCWD, p, RENAME_EXCHANGE), 0);
	assert_true(wait_seen(&f->rec, from, "default", "skills/s3"));
	assert_int_equal(sm_fs_remove_tree(staged, NULL), 0); /* the old copy */
	settle(&f->rec, f->home, "default", "s1");
	from = nrecords(&f->rec);
	cpath(p, sizeof(p), f, "skills/s3/SKILL.md");
	write_file(p, "---\nname: s3\ndescription: edited by hand\n---\n");
	assert_true(wait_seen(&f->rec, from, "default", "skills/s3"));
	settle(&f->rec, f->home, "default", "s1");
	from = nrecords(&f->rec);
	cpath(p, sizeof(p), f, "skills/s3/docs/a.md");
	write_file(p, "edited\n");
	assert_true(wait_seen(&f->rec, from, "default", "skills/s3"));
}

static void test_deleted_artifact(void **state)
{
	struct fixture *f = *state;
	char p[512];

	start(f, 20);
	cpath(p, sizeof(p), f, "skills/s5");
	assert_int_equal(sm_fs_remove_tree(p, NULL), 0);
	assert_true(wait_seen(&f->rec, 0, "default", "skills/s5"));
}

static void test_manifest_rename(void **state)
{
	struct fixture *f = *state;
	char p[512], tmp[512];
	struct strbuf text = STRBUF_INIT;

	start(f, 20);
	cpath(p, sizeof(p), f, "collection.toml");
	cpath(tmp, sizeof(tmp), f, ".collection.toml.tmp");
	assert_int_equal(sm_fs_read_file(p, 1 << 20, &text, NULL), 0);
	write_file(tmp, text.buf);
	assert_int_equal(rename(tmp, p), 0);
	assert_true(wait_seen(&f->rec, 0, "default", NULL));
	/* again: the new inode is watched through its folder too */
	size_t from = nrecords(&f->rec);
	write_file(tmp, text.buf);
	assert_int_equal(rename(tmp, p), 0);
	assert_true(wait_seen(&f->rec, from, "default", NULL));
	/* and a rewrite in place */
	from = nrecords(&f->rec);
	write_file(p, text.buf);
	assert_true(wait_seen(&f->rec, from, "default", NULL));
	sm_strbuf_release(&text);
}

static void test_new_collection(void **state)
{
	struct fixture *f = *state;
	char p[512];
	size_t from;

	start(f, 20);
	snprintf(p, sizeof(p), "%s/collections/other/skills/x", f->home);
	assert_int_equal(sm_fs_mkdir_p(p, 0755, NULL), 0);
	snprintf(p, sizeof(p), "%s/collections/other/collection.toml", f->home);
	write_file(p, "[collection]\nname = \"other\"\n");
	assert_true(wait_seen(&f->rec, 0, "other", NULL));
	settle(&f->rec, f->home, "other", "x");
	from = nrecords(&f->rec);
	snprintf(p, sizeof(p), "%s/collections/other/skills/x/SKILL.md", f->home);
	write_file(p, "---\nname: x\n---\n");
	assert_true(wait_seen(&f->rec, from, "other", "skills/x"));
}

static void test_debounce(void **state)
{
	struct fixture *f = *state;
	char p[512];
	struct sm_watcher_stats st;
	int64_t end;

	start(f, 400);
	/* a burst of writes, each well inside the debounce period of the last */
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 5; i++) {
			char rel[64], text[64];

			snprintf(rel, sizeof(rel), "skills/s%d/SKILL.md", i);
			snprintf(text, sizeof(text), "---\nname: s%d\ndescription: r%d\n---\n", i,
				 round);
			cpath(p, sizeof(p), f, rel);
			write_file(p, text);
		}
		usleep(10000);
	}
	assert_true(wait_seen(&f->rec, 0, "default", "skills/s0"));
	/* quiet for several debounce periods: still exactly one callback */
	end = sm_time_mono_ns() / 1000000 + 1500;
	while (sm_time_mono_ns() / 1000000 < end)
		usleep(20000);
	assert_int_equal(nrecords(&f->rec), 1);
	for (int i = 0; i < 5; i++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "skills/s%d", i);
		assert_true(seen(&f->rec, 0, "default", rel));
	}
	sm_watcher_get_stats(f->w, &st);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.callbacks, 1);
	assert_true(st.events >= 50);
	assert_false(st.degraded);
}

static void test_stop_clean(void **state)
{
	struct fixture *f = *state;
	char p[512];

	/* start and stop at once, and with events pending */
	for (int i = 0; i < 5; i++) {
		start(f, 5000);
		if (i & 1) {
			cpath(p, sizeof(p), f, "skills/s1/SKILL.md");
			write_file(p, "---\nname: s1\n---\n");
		}
		sm_watcher_stop(f->w);
		f->w = NULL;
	}
	assert_int_equal(nrecords(&f->rec), 0);
	sm_watcher_stop(NULL);
}

static void test_watch_limit(void **state)
{
	struct fixture *f = *state;
	struct sm_watcher_opts o = {
		.home_root = f->home, .debounce_ms = 20, .on_change = on_change,
		.ctx = &f->rec, .max_watches = 3,
	};
	struct sm_watcher_stats st;

	/* root, collections/, default/: the skills are left to the refresher */
	assert_int_equal(sm_watcher_start(&o, &f->w, NULL), 0);
	sm_watcher_get_stats(f->w, &st);
	assert_true(st.degraded);
	assert_int_equal(st.watches, 3);
	/* the manifest is still watched */
	char p[512];
	cpath(p, sizeof(p), f, "collection.lock");
	struct strbuf text = STRBUF_INIT;
	assert_int_equal(sm_fs_read_file(p, 1 << 20, &text, NULL), 0);
	write_file(p, text.buf);
	sm_strbuf_release(&text);
	assert_true(wait_seen(&f->rec, 0, "default", NULL));
}

static void after_refresh(void *ctx, const char *collection)
{
	struct recorder *r = ctx;

	(void)collection;
	pthread_mutex_lock(&r->lock);
	r->after_refresh++;
	pthread_mutex_unlock(&r->lock);
}

static char *description_of(struct sm_cache *cache, const char *coll, const char *name)
{
	struct sm_artifact_row row = { 0 };
	char *d = NULL;

	if (sm_store_get_artifact_by_key(cache->store, coll, "skill", name, &row, NULL) == 0) {
		d = row.description ? strdup(row.description) : NULL;
		sm_artifact_row_release(&row);
	}
	return d;
}

static bool wait_description(struct sm_cache *cache, const char *name, const char *want)
{
	int64_t end = sm_time_mono_ns() / 1000000 + DEADLINE_MS;

	for (;;) {
		char *d = description_of(cache, "default", name);
		bool ok = d && !strcmp(d, want);

		free(d);
		if (ok)
			return true;
		if (sm_time_mono_ns() / 1000000 > end)
			return false;
		usleep(5000);
	}
}

static void test_default_refresh(void **state)
{
	struct fixture *f = *state;
	struct sm_watcher_refresh wr = {
		.home_root = f->home, .after_refresh = after_refresh, .ctx = &f->rec,
	};
	struct sm_watcher_opts o = {
		.home_root = f->home, .debounce_ms = 20, .on_change = sm_watcher_default_refresh,
		.ctx = &wr,
	};
	struct sm_home *home;
	struct sm_cache *cache;
	struct sm_artifact_row row = { 0 };
	char p[512];

	assert_int_equal(sm_home_open(f->home, &home, NULL), 0);
	assert_int_equal(sm_cache_open(home, &cache, NULL), 0);
	assert_int_equal(sm_watcher_start(&o, &f->w, NULL), 0);

	/* the same size, written twice quickly: the stale flag catches what the fingerprint may not */
	cpath(p, sizeof(p), f, "skills/s1/SKILL.md");
	write_file(p, "---\nname: s1\ndescription: aaaa\n---\n");
	assert_true(wait_description(cache, "s1", "aaaa"));
	write_file(p, "---\nname: s1\ndescription: bbbb\n---\n");
	assert_true(wait_description(cache, "s1", "bbbb"));

	/* sed -i */
	cpath(p, sizeof(p), f, "skills/s2/SKILL.md");
	{
		char cmd[1024];

		snprintf(cmd, sizeof(cmd), "sed -i 's/skill 2/by sed/' '%s'", p);
		assert_int_equal(system(cmd), 0);
	}
	assert_true(wait_description(cache, "s2", "by sed"));

	/* a deleted collection folder: its rows go */
	{
		char op[512];
		int64_t end = sm_time_mono_ns() / 1000000 + DEADLINE_MS;
		uint64_t before = __atomic_load_n(&wr.refreshes, __ATOMIC_RELAXED);
		bool done = false;

		/*
		 * Every event of the sed above delivered and its refresh counted:
		 * a marker edit after it is seen, and every callback started so
		 * far has finished (refreshes + errors == callbacks).
		 */
		cpath(op, sizeof(op), f, "skills/s3/SKILL.md");
		write_file(op, "---\nname: s3\ndescription: settled\n---\n");
		assert_true(wait_description(cache, "s3", "settled"));
		for (;;) {
			struct sm_watcher_stats ws;
			uint64_t fin = __atomic_load_n(&wr.refreshes, __ATOMIC_RELAXED) +
				       __atomic_load_n(&wr.errors, __ATOMIC_RELAXED);

			sm_watcher_get_stats(f->w, &ws);
			if (fin == ws.callbacks)
				break;
			assert_true(sm_time_mono_ns() / 1000000 < end);
			usleep(5000);
		}
		before = __atomic_load_n(&wr.refreshes, __ATOMIC_RELAXED);
		snprintf(op, sizeof(op), "%s/collections/gone", f->home);
		assert_int_equal(sm_fs_mkdir_p(op, 0755, NULL), 0);
		assert_int_equal(sm_fs_remove_tree(op, NULL), 0);
		while (!done && sm_time_mono_ns() / 1000000 < end) {
			done = __atomic_load_n(&wr.refreshes, __ATOMIC_RELAXED) > before;
			usleep(5000);
		}
		assert_true(done);
		/* a sync of every collection ran: the rows of default stay */
		assert_int_equal(sm_store_get_artifact_by_key(cache->store, "default", "skill",
							      "s3", &row, NULL),
				 0);
		sm_artifact_row_release(&row);
	}

	sm_watcher_stop(f->w);
	f->w = NULL;
	pthread_mutex_lock(&f->rec.lock);
	assert_true(f->rec.after_refresh >= 3);
	pthread_mutex_unlock(&f->rec.lock);
	assert_int_equal(__atomic_load_n(&wr.errors, __ATOMIC_RELAXED), 0);
	sm_watcher_refresh_release(&wr);
	sm_cache_close(cache);
	sm_home_free(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_place_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sed_i, setup, teardown),
		cmocka_unit_test_setup_teardown(test_editor_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_and_new_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exchanged_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_artifact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manifest_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_collection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debounce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_refresh, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
