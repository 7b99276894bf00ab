/* SPDX-License-Identifier: MIT */
/*
 * Edit-to-visible delay of the inotify watcher (not a test): the watcher runs
 * in-process with the default refresh callback (its own thread and SQLite
 * connection, as in serve); the main thread rewrites one skill's SKILL.md
 * with a new description and polls the cache (its own connection) until the
 * row shows it. Prints every delay, then the median and the maximum.
 *
 * usage: bench-watch HOME [EDITS] [DEBOUNCE_MS]   (HOME holds a synced collection with a skill)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skillmeat/watcher.h"
#include "skillmeat/cache.h"
#include "skillmeat/home.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"

#define TIMEOUT_MS 10000

static void die(const char *what, const struct strbuf *err)
{
	fprintf(stderr, "bench-watch: %s: %s\n", what, err ? err->buf : "");
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int visible(struct sm_cache *cache, const struct sm_artifact_row *r, const char *want)
{
	struct sm_artifact_row row = { 0 };
	int ok = 0;

	if (sm_store_get_artifact_by_key(cache->store, r->collection, r->type, r->name, &row,
					 NULL) == 0) {
		ok = row.description && !strcmp(row.description, want);
		sm_artifact_row_release(&row);
	}
	return ok;
}

int main(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct sm_home *home = NULL;
	struct sm_cache *cache = NULL;
	struct sm_sync_stats st = { 0 };
	struct sm_artifact_row *rows = NULL, *target = NULL;
	struct sm_watcher *w = NULL;
	int edits = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 20;
	int64_t debounce = argc > 3 ? strtol(argv[3], NULL, 10) : 100;
	double *delays;
	size_t n = 0;

	if (argc < 2 || edits <= 0) {
		fprintf(stderr, "usage: bench-watch HOME [EDITS] [DEBOUNCE_MS]\n");
		return 2;
	}
	delays = calloc((size_t)edits, sizeof(*delays));
	if (!delays)
		die("out of memory", NULL);
	if (sm_home_open(argv[1], &home, &err) < 0 || sm_cache_open(home, &cache, &err) < 0)
		die("open", &err);
	if (sm_cache_sync(cache, NULL, 0, &st, &err) < 0)
		die("sync", &err);
	sm_sync_stats_release(&st);
	if (sm_store_list_collection(cache->store, sm_home_active_collection(home), &rows, &n,
				     &err) < 0)
		die("list", &err);
	for (size_t i = 0; i < n && !target; i++)
		if (!strcmp(rows[i].type, "skill") && rows[i].path && rows[i].path[0] != '/')
			target = &rows[i];
	if (!target)
		die("no skill in the active collection", NULL);
	if (sm_home_collection_dir(home, target->collection, &path) < 0 ||
	    sm_strbuf_addf(&path, "/%s/SKILL.md", target->path) < 0)
		die("out of memory", NULL);

	{
		struct sm_watcher_refresh wr = { .home_root = home->root };
		struct sm_watcher_opts o = {
			.home_root = home->root, .debounce_ms = debounce,
			.on_change = sm_watcher_default_refresh, .ctx = &wr,
		};
		struct sm_watcher_stats ws;

		if (sm_watcher_start(&o, &w, &err) < 0)
			die("watcher", &err);
		sm_watcher_get_stats(w, &ws);
		printf("artifacts %zu watches %llu debounce_ms %lld file %s\n", n,
		       (unsigned long long)ws.watches, (long long)debounce, path.buf);
		for (int i = 0; i < edits; i++) {
			char want[64];
			FILE *f;
			int64_t t0, end;

			snprintf(want, sizeof(want), "bench edit %d", i);
			sm_strbuf_reset(&text);
			if (sm_strbuf_addf(&text, "---\nname: %s\ndescription: %s\n---\n\nbody\n",
					   target->name, want) < 0)
				die("out of memory", NULL);
			f = fopen(path.buf, "w");
			if (!f || fputs(text.buf, f) < 0)
				die("write", NULL);
			t0 = sm_time_mono_ns();
			if (fclose(f) != 0)
				die("close", NULL);
			end = t0 + (int64_t)TIMEOUT_MS * 1000000;
			while (!visible(cache, target, want)) {
				if (sm_time_mono_ns() > end)
					die("the edit was not seen within 10 s", NULL);
				usleep(500);
			}
			delays[i] = (double)(sm_time_mono_ns() - t0) / 1e6;
			printf("edit %d %.1f ms\n", i, delays[i]);
			usleep(20000);
		}
		sm_watcher_stop(w);
		sm_watcher_refresh_release(&wr);
	}
	qsort(delays, (size_t)edits, sizeof(*delays), cmp_double);
	printf("edit_to_visible_median_ms %.1f\n",
	       edits % 2 ? delays[edits / 2] : (delays[edits / 2 - 1] + delays[edits / 2]) / 2);
	printf("edit_to_visible_max_ms %.1f\n", delays[edits - 1]);
	free(delays);
	sm_artifact_rows_free(rows, n);
	sm_cache_close(cache);
	sm_home_free(home);
	sm_strbuf_release(&err);
	sm_strbuf_release(&path);
	sm_strbuf_release(&text);
	return 0;
}
