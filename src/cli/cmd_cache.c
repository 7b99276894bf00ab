/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/db.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/store.h"
#include "skillmeat/ops.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

static const char usage_cache[] =
	"skillmeat cache status | refresh [--collection NAME] | rebuild | migrate [--to N] | dump";
static const char help_cache[] =
	"usage: skillmeat cache status | refresh [--collection NAME] | rebuild | migrate [--to N]\n"
	"\n"
	"The metadata cache (SKILLMEAT_HOME/cache/metadata.db): an index of the files,\n"
	"safe to delete at any time.\n"
	"\n"
	"  status        how many artifacts are cached, how many are stale, the DB size\n"
	"  refresh       re-read stale and changed artifacts (one collection with\n"
	"                --collection NAME, else all)\n"
	"  rebuild       drop everything cached and read every artifact again, in one\n"
	"                transaction (readers see the old cache or the new one)\n"
	"  migrate       schema migrations: --to N goes up or down to version N\n"
	"                (default: the latest); --list shows them\n"
	"  dump          a canonical text of everything cached (after a warm sync),\n"
	"                for comparing two caches\n"
	"  --json        machine-readable output\n";

enum { OPT_TO = 0x100, OPT_LIST };

static int cache_status(struct cli *cli)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, p2 = STRBUF_INIT;
	struct sm_cache_status st = { 0 };
	struct sm_cache *cache;
	int64_t now_ms, size = 0;
	double pct;
	struct stat sb;
	int rc = EXIT_FAIL;
	int r;

	if (cli_warm_sync(cli, NULL) < 0)
		return EXIT_FAIL;
	cache = cli->cache;
	now_ms = sm_time_real_ns() / 1000000;
	r = sm_store_cache_status(cache->store, NULL, now_ms, cache->stale_ttl_ms, &st, &err);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (cache->in_memory) {
		if (sm_strbuf_addstr(&path, ":memory:") < 0)
			goto out;
	} else if (sm_cache_db_path(cli->home, &path) < 0) {
		goto out;
	}
	/* the DB is its file plus its write-ahead log */
	if (!cache->in_memory) {
		if (stat(path.buf, &sb) == 0)
			size += sb.st_size;
		if (sm_strbuf_addf(&p2, "%s-wal", path.buf) == 0 && stat(p2.buf, &sb) == 0)
			size += sb.st_size;
	}
	pct = st.total ? 100.0 * (double)st.stale / (double)st.total : 0.0;
	if (cli->json) {
		cli_print_json(json_pack("{s:I, s:I, s:I, s:f, s:f, s:I, s:s, s:I}", "total_artifacts",
					 (json_int_t)st.total, "stale_count", (json_int_t)st.stale,
					 "fresh_count", (json_int_t)st.fresh, "oldest_sync_age_seconds",
					 st.oldest_sync_age_seconds, "percentage_stale", pct,
					 "ttl_seconds", (json_int_t)(cache->stale_ttl_ms / 1000),
					 "db_path", path.buf, "db_size_bytes", (json_int_t)size));
	} else {
		printf("Artifacts cached:   %lld\n", (long long)st.total);
		printf("Stale:              %lld (%.1f%%)\n", (long long)st.stale, pct);
		printf("Fresh:              %lld\n", (long long)st.fresh);
		printf("Oldest sync:        %.1f s ago\n", st.oldest_sync_age_seconds);
		printf("Staleness TTL:      %lld s\n", (long long)(cache->stale_ttl_ms / 1000));
		printf("Database:           %s (%lld bytes)\n", path.buf, (long long)size);
	}
	rc = EXIT_OK;
out:
	sm_strbuf_release(&err);
	sm_strbuf_release(&path);
	sm_strbuf_release(&p2);
	return rc;
}

struct progress_ctx {
	struct cli_progress bar;
	struct cli *cli;
	char coll[160];
};

static void on_progress(void *ctx, const char *collection, size_t done, size_t total)
{
	struct progress_ctx *p = ctx;

	if (strcmp(p->coll, collection)) {
		cli_progress_end(&p->bar);
		snprintf(p->coll, sizeof(p->coll), "%s", collection);
		cli_progress_start(p->cli, &p->bar, p->coll, total);
	}
	if (done % 16 == 0 || done == total)
		cli_progress_update(&p->bar, done, "");
}

static int cache_sync_cmd(struct cli *cli, const char *coll, bool rebuild)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_sync_stats st = { 0 };
	struct progress_ctx pc = { .cli = cli };
	struct sm_cache *cache;
	int rc = EXIT_FAIL, r;

	cache = cli_cache(cli);
	if (!cache)
		return EXIT_FAIL;
	if (coll && !sm_collection_exists(cli->home, coll))
		return cli_error(cli, "collection '%s' does not exist", coll);
	cache->progress = on_progress;
	cache->progress_ctx = &pc;
	{
		struct sm_ops_ctx ctx;

		cli_ops_init(cli, &ctx, cache);
		r = sm_ops_refresh(&ctx, &coll, coll ? 1 : 0,
				   rebuild ? SM_SYNC_REBUILD : SM_SYNC_REFRESH_STALE, &st, &err);
		cli_ops_release(cli, &ctx);
	}
	cli_progress_end(&pc.bar);
	cache->progress = NULL;
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (cli->json) {
		json_t *errs = json_array();

		for (size_t i = 0; errs && i < st.nmessages; i++)
			json_array_append_new(errs, json_string(st.messages[i]));
		cli_print_json(json_pack("{s:I, s:I, s:I, s:I, s:o, s:f}", "collections_refreshed",
					 (json_int_t)st.collections, "total_updated",
					 (json_int_t)(st.created + st.updated + st.removed),
					 "total_skipped", (json_int_t)st.unchanged, "total_removed",
					 (json_int_t)st.removed, "errors", errs, "duration_seconds",
					 st.duration_seconds));
	} else {
		for (size_t i = 0; i < st.nmessages; i++)
			cli_warning(cli, "%s", st.messages[i]);
		cli_info(cli, "%s %zu collection(s): %zu created, %zu updated, %zu unchanged, "
			      "%zu removed, %zu error(s) in %.3f s",
			 rebuild ? "Rebuilt" : "Refreshed", st.collections, st.created, st.updated,
			 st.unchanged, st.removed, st.errors, st.duration_seconds);
	}
	rc = EXIT_OK;
out:
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
	return rc;
}

static int cache_migrate(struct cli *cli, long to, bool list)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, dir = STRBUF_INIT;
	struct sm_db *db = NULL;
	int from, reached, rc = EXIT_FAIL, latest = sm_db_latest_version();

	if (list) {
		struct sm_db_migration_info mi;
		json_t *arr = cli->json ? json_array() : NULL;

		for (int i = 0; sm_db_migration_info(i, &mi) == 0; i++) {
			if (arr)
				json_array_append_new(arr, json_pack("{s:i, s:s}", "version",
								     mi.version, "name", mi.name));
			else
				printf("%3d  %s\n", mi.version, mi.name);
		}
		if (arr)
			cli_print_json(arr);
		return EXIT_OK;
	}
	if (to < 0)
		to = latest;
	if (to > latest)
		return cli_error(cli, "no migration %ld: the latest is %d", to, latest);
	if (!cli_home(cli))
		return EXIT_FAIL;
	if (sm_strbuf_addf(&dir, "%s/cache", cli->home->root) < 0 ||
	    sm_cache_db_path(cli->home, &path) < 0)
		goto out;
	if ((from = sm_fs_mkdir_p(dir.buf, 0755, &err)) < 0 ||
	    (from = sm_db_open(path.buf, SM_DB_NO_MIGRATE, &db, &err)) < 0 ||
	    (from = sm_db_version(db, &err)) < 0) {
		cli_fail(cli, from, &err);
		goto out;
	}
	reached = sm_db_migrate_to(db, (int)to, &err);
	if (reached < 0) {
		cli_fail(cli, reached, &err);
		goto out;
	}
	if (cli->json)
		cli_print_json(json_pack("{s:i, s:i, s:i}", "from", from, "to", reached, "latest",
					 latest));
	else
		cli_info(cli, "Cache schema: version %d -> %d (latest %d)", from, reached, latest);
	rc = EXIT_OK;
out:
	sm_db_close(db);
	sm_strbuf_release(&err);
	sm_strbuf_release(&path);
	sm_strbuf_release(&dir);
	return rc;
}

static int cache_dump(struct cli *cli)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	int rc = EXIT_FAIL;
	int r;

	sm_strbuf_init(&out, (size_t)1 << 30);
	if (cli_warm_sync(cli, NULL) < 0)
		goto done;
	if ((r = sm_store_dump(cli->cache->store, 0, &out, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto done;
	}
	fwrite(out.buf, 1, out.len, stdout);
	rc = EXIT_OK;
done:
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
	return rc;
}

int cmd_cache(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collection", required_argument, NULL, 'c' },
		{ "to", required_argument, NULL, OPT_TO },
		{ "list", no_argument, NULL, OPT_LIST },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	const char *coll = NULL, *sub;
	long to = -1;
	bool list = false;
	char *end;
	int ch, g;

	while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_cache)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_cache);
		case 'c':
			coll = optarg;
			break;
		case OPT_TO:
			errno = 0;
			to = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || to < 0)
				return cli_usage_error(cli, usage_cache, "--to takes a version number");
			break;
		case OPT_LIST:
			list = true;
			break;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, usage_cache, argc - optind ? "give one subcommand"
								       : "missing subcommand");
	sub = argv[optind];
	if (strcmp(sub, "refresh") && coll)
		return cli_usage_error(cli, usage_cache, "--collection goes with 'refresh'");
	if (strcmp(sub, "migrate") && (to >= 0 || list))
		return cli_usage_error(cli, usage_cache, "--to and --list go with 'migrate'");
	if (!strcmp(sub, "status"))
		return cli_home(cli) ? cache_status(cli) : EXIT_FAIL;
	if (!strcmp(sub, "refresh"))
		return cli_home(cli) ? cache_sync_cmd(cli, coll, false) : EXIT_FAIL;
	if (!strcmp(sub, "rebuild"))
		return cli_home(cli) ? cache_sync_cmd(cli, NULL, true) : EXIT_FAIL;
	if (!strcmp(sub, "migrate"))
		return cache_migrate(cli, to, list);
	if (!strcmp(sub, "dump"))
		return cli_home(cli) ? cache_dump(cli) : EXIT_FAIL;
	return cli_usage_error(cli, usage_cache, "unknown subcommand '%s'", sub);
}
