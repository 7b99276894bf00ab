/* SPDX-License-Identifier: MIT */
/*
 * In-process benchmark of the metadata cache (not a test): cold sync into an
 * empty DB, warm sync with nothing changed, one page of 50 from the default
 * collection, and member counts of 1,000 user collections, uncached (one
 * grouped query) and cached (count cache). Times are best of RUNS.
 *
 * usage: bench-cache HOME [RUNS]   (HOME holds the collection to sync)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/home.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"

#define NCOLL 1000

static void die(const char *what, const struct strbuf *err)
{
	fprintf(stderr, "bench-cache: %s: %s\n", what, err ? err->buf : "");
	exit(1);
}

static void rm_db(const struct sm_home *home)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct strbuf p = STRBUF_INIT;

	for (size_t i = 0; i < 3; i++) {
		sm_strbuf_reset(&p);
		if (sm_cache_db_path(home, &p) == 0 && sm_strbuf_addstr(&p, sfx[i]) == 0)
			unlink(p.buf);
	}
	sm_strbuf_release(&p);
}

static double ms_since(int64_t t0)
{
	return (double)(sm_time_mono_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_home *home = NULL;
	struct sm_cache *cache = NULL;
	struct sm_sync_stats st;
	int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
	double cold = 1e18, warm = 1e18, page = 1e18, uncached = 1e18, cached = 1e18;
	static char idbuf[NCOLL][33];
	const char *ids[NCOLL];
	int64_t counts[NCOLL];
	size_t nartifacts = 0;

	if (argc < 2) {
		fputs("usage: bench-cache HOME [RUNS]\n", stderr);
		return 2;
	}
	if (sm_home_open(argv[1], &home, &err) < 0)
		die("home", &err);
	for (int i = 0; i < runs; i++) {
		int64_t t0;

		sm_cache_close(cache);
		cache = NULL;
		rm_db(home);
		if (sm_cache_open(home, &cache, &err) < 0)
			die("open", &err);
		t0 = sm_time_mono_ns();
		if (sm_cache_sync(cache, NULL, 0, &st, &err) < 0)
			die("cold sync", &err);
		if (ms_since(t0) < cold)
			cold = ms_since(t0);
		nartifacts = st.created;
		sm_sync_stats_release(&st);
	}
	for (int i = 0; i < runs * 4; i++) {
		int64_t t0 = sm_time_mono_ns();

		if (sm_cache_sync(cache, NULL, 0, &st, &err) < 0)
			die("warm sync", &err);
		if (ms_since(t0) < warm)
			warm = ms_since(t0);
		sm_sync_stats_release(&st);
	}
	/* one page of 50 of the default collection, 1000 times: the mean of the best batch */
	for (int i = 0; i < runs; i++) {
		int64_t t0 = sm_time_mono_ns();

		for (int k = 0; k < 1000; k++) {
			struct sm_artifact_query q = { .user_collection_id = "default", .limit = 50 };
			struct sm_artifact_page pg = { 0 };

			if (sm_store_list_artifacts(cache->store, &q, &pg, &err) < 0 || pg.n != 50)
				die("page", &err);
			sm_artifact_page_release(&pg);
		}
		if (ms_since(t0) / 1000 < page)
			page = ms_since(t0) / 1000;
	}
	/* 1,000 user collections of 10 members each */
	{
		struct sm_artifact_query q = { .limit = 10 };
		struct sm_artifact_page pg = { 0 };
		const char *uu[10];
		char now[SM_ISO_MAX];

		sm_time_now_iso(now);
		if (sm_store_list_artifacts(cache->store, &q, &pg, &err) < 0 || pg.n < 10)
			die("members", &err);
		for (size_t k = 0; k < 10; k++)
			uu[k] = pg.rows[k].uuid;
		if (sm_store_begin(cache->store, &err) < 0)
			die("begin", &err);
		for (int i = 0; i < NCOLL; i++) {
			struct sm_user_collection_row row = { 0 };
			char name[32];

			snprintf(idbuf[i], sizeof(idbuf[i]), "%032x", i + 1);
			snprintf(name, sizeof(name), "bench %d", i);
			ids[i] = idbuf[i];
			row.id = idbuf[i];
			row.name = name;
			row.collection_type = "custom";
			row.created_at = now;
			row.updated_at = now;
			if (sm_store_create_user_collection(cache->store, &row, &err) < 0 ||
			    sm_store_add_members(cache->store, idbuf[i], uu, 10, now, &err) < 0)
				die("user collections", &err);
		}
		if (sm_store_commit(cache->store, &err) < 0)
			die("commit", &err);
		sm_artifact_page_release(&pg);
	}
	for (int i = 0; i < runs * 20; i++) {
		int64_t t0 = sm_time_mono_ns();

		if (sm_store_count_members(cache->store, ids, NCOLL, counts, &err) < 0)
			die("counts", &err);
		if (ms_since(t0) < uncached)
			uncached = ms_since(t0);
	}
	{
		struct sm_count_cache *cc;
		size_t missing[NCOLL], nmissing;
		uint64_t gen;
		int64_t got[NCOLL];

		if (sm_count_cache_new(300000, NULL, NULL, &cc) < 0)
			die("count cache", NULL);
		sm_count_cache_get(cc, ids, NCOLL, got, missing, &nmissing, &gen);
		sm_count_cache_set(cc, ids, counts, NCOLL, gen);
		for (int i = 0; i < runs * 20; i++) {
			int64_t t0 = sm_time_mono_ns();

			if (sm_count_cache_get(cc, ids, NCOLL, got, missing, &nmissing, &gen) != NCOLL)
				die("count cache hits", NULL);
			if (ms_since(t0) < cached)
				cached = ms_since(t0);
		}
		sm_count_cache_free(cc);
	}
	printf("artifacts %zu\n", nartifacts);
	printf("cold_sync_ms %.3f\n", cold);
	printf("warm_sync_ms %.3f\n", warm);
	printf("page50_ms %.4f\n", page);
	printf("counts1000_uncached_ms %.4f\n", uncached);
	printf("counts1000_cached_ms %.4f\n", cached);
	sm_cache_close(cache);
	rm_db(home);
	sm_home_free(home);
	sm_strbuf_release(&err);
	return 0;
}
