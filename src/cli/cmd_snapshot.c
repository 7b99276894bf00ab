/* SPDX-License-Identifier: MIT */
/* snapshot, history and rollback. */
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "skillmeat/collection.h"
#include "skillmeat/home.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_sync.h"
#include "skillmeat/snapshot.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_snapshot[] = "skillmeat snapshot [MESSAGE | -m MESSAGE] [-c NAME] [--json]";
static const char help_snapshot[] =
	"usage: skillmeat snapshot [MESSAGE | -m MESSAGE] [options]\n"
	"\n"
	"Save the whole collection as <home>/snapshots/<collection>/<id>.tar.gz and list it\n"
	"in snapshots.toml (SkillMeat's format). Manual snapshots are never pruned;\n"
	"automatic ones (before sync-pull, rollback and update) keep the newest\n"
	"snapshot.keep (default 20).\n"
	"\n"
	"  -m, --message MESSAGE   the message (default \"Manual snapshot\")\n"
	"  -c, --collection NAME   the collection (default: the active one)\n"
	"  --json                  {id, message, collection}\n";

static const char usage_history[] = "skillmeat history [-c NAME] [--json]";
static const char help_history[] =
	"usage: skillmeat history [options]\n"
	"\n"
	"The snapshots of a collection, newest first.\n"
	"\n"
	"  -c, --collection NAME   the collection (default: the active one)\n"
	"  --json                  [{id, timestamp, message, artifact_count, tarball_path}]\n";

static const char usage_rollback[] = "skillmeat rollback ID [-c NAME] [-y] [--json]";
static const char help_rollback[] =
	"usage: skillmeat rollback ID [options]\n"
	"\n"
	"Restore the collection to snapshot ID. An automatic safety snapshot of the\n"
	"current state is made first (roll back to it to undo), and the rollback is\n"
	"appended to <home>/audit/<collection>_rollback_audit.toml. Asks on a terminal\n"
	"unless -y; never asks when stdin is not a terminal.\n"
	"\n"
	"  -c, --collection NAME   the collection (default: the active one)\n"
	"  -y, --yes               do not ask\n"
	"  --json                  {rolled_back_to, safety_snapshot_id, collection}\n";

static const char *coll_or_active(struct sm_home *home, const char *c)
{
	return c ? c : sm_home_active_collection(home);
}

int cmd_snapshot(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "collection", required_argument, NULL, 'c' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct strbuf err = STRBUF_INIT;
	const char *msg = NULL, *coll = NULL;
	char id[SM_SNAPSHOT_ID_MAX];
	struct sm_ops_ctx ctx;
	struct sm_home *home;
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":m:c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_snapshot)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_snapshot);
		case 'm':
			msg = optarg;
			break;
		case 'c':
			coll = optarg;
			break;
		}
	}
	if (argc - optind > 1 || (msg && optind < argc))
		return cli_usage_error(cli, usage_snapshot, "give one MESSAGE");
	if (optind < argc)
		msg = argv[optind];
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	coll = coll_or_active(home, coll);
	sm_ops_ctx_init(&ctx, home, NULL);
	r = sm_ops_snapshot(&ctx, coll, msg, id, &err);
	sm_ops_ctx_release(&ctx);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (cli->json) {
		if (cli_print_json(json_pack("{s:s, s:s, s:s}", "id", id, "message",
					     msg ? msg : "Manual snapshot", "collection", coll)) < 0)
			goto out;
	} else {
		cli_info(cli, "Snapshot %s of '%s': %s", id, coll, msg ? msg : "Manual snapshot");
	}
	rc = EXIT_OK;
out:
	sm_strbuf_release(&err);
	return rc;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collection", required_argument, NULL, 'c' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct sm_snapshot_list l = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *coll = NULL;
	struct sm_home *home;
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_history)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		if (ch == 'h')
			return cli_help(help_history);
		if (ch == 'c')
			coll = optarg;
	}
	if (optind != argc)
		return cli_usage_error(cli, usage_history, "unexpected argument '%s'", argv[optind]);
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	coll = coll_or_active(home, coll);
	if ((r = sm_collection_name_check(coll, &err)) < 0 ||
	    (r = sm_snapshot_list(home, coll, &l, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (cli->json) {
		json_t *a = json_array();

		for (size_t i = 0; i < l.len; i++)
			json_array_append_new(
				a, json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", l.items[i].id,
					     "timestamp", l.items[i].timestamp, "message",
					     l.items[i].message, "artifact_count",
					     (json_int_t)l.items[i].artifact_count, "tarball_path",
					     l.items[i].tarball_path));
		if (cli_print_json(a) < 0)
			goto out;
	} else if (!l.len) {
		cli_info(cli, "No snapshots of '%s'", coll);
	} else {
		for (size_t i = 0; i < l.len; i++)
			cli_info(cli, "%s  %s  %ld artifact(s)  %s", l.items[i].id,
				 l.items[i].timestamp, l.items[i].artifact_count,
				 l.items[i].message);
	}
	rc = EXIT_OK;
out:
	sm_snapshot_list_release(&l);
	sm_strbuf_release(&err);
	return rc;
}

int cmd_rollback(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collection", required_argument, NULL, 'c' },
		{ "yes", no_argument, NULL, 'y' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct strbuf err = STRBUF_INIT;
	const char *coll = NULL;
	char safety[SM_SNAPSHOT_ID_MAX];
	struct sm_ops_ctx ctx;
	struct sm_home *home;
	bool yes = false;
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":c:yh", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_rollback)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_rollback);
		case 'c':
			coll = optarg;
			break;
		case 'y':
			yes = true;
			break;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, usage_rollback, "give one snapshot ID");
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	coll = coll_or_active(home, coll);
	if (!yes && cli->tty_in && !cli->json &&
	    !cli_confirm(cli, "Roll collection '%s' back to %s?", coll, argv[optind])) {
		cli_info(cli, "Cancelled");
		return EXIT_OK;
	}
	sm_ops_ctx_init(&ctx, home, cli_cache(cli));
	r = sm_ops_rollback(&ctx, coll, argv[optind], safety, &err);
	sm_ops_ctx_release(&ctx);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (cli->json) {
		if (cli_print_json(json_pack("{s:s, s:s, s:s}", "rolled_back_to", argv[optind],
					     "safety_snapshot_id", safety, "collection", coll)) < 0)
			goto out;
	} else {
		cli_info(cli, "Rolled '%s' back to %s (safety snapshot: %s)", coll, argv[optind],
			 safety);
	}
	cli_api_refresh_batch(cli);
	rc = EXIT_OK;
out:
	sm_strbuf_release(&err);
	return rc;
}
