/* SPDX-License-Identifier: MIT */
/* sync-pull and sync-preview: parse, call the operation, print. */
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_sync.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_pull[] =
	"skillmeat sync-pull [PROJECT] [--strategy overwrite|merge|fork] [--dry-run] "
	"[--artifacts a,b] [-c NAME] [--json]";
static const char help_pull[] =
	"usage: skillmeat sync-pull [PROJECT] [options]\n"
	"       skillmeat sync-preview [PROJECT] [options]   (= sync-pull --dry-run)\n"
	"\n"
	"Bring changes made in a project's deployed copies back into the collection:\n"
	"every deployment whose project copy differs from its record (modified or\n"
	"conflict). An automatic snapshot of the collection is made first (rollback\n"
	"undoes the pull); the lock hash and the deployment record follow the pulled copy.\n"
	"\n"
	"  --strategy overwrite    the project copy replaces the collection copy (default)\n"
	"  --strategy merge        three-way merge per file against the deployed baseline\n"
	"                          (from the snapshots); conflicting files get markers\n"
	"  --strategy fork         the project copy is added as <name>-fork\n"
	"  --dry-run               only list what would be pulled\n"
	"  --artifacts a,b         only these names\n"
	"  -c, --collection NAME   only deployments from this collection\n"
	"  --json                  {status, message, artifacts_synced:[...], conflicts:[...]}\n"
	"\n"
	"Exit 0: success, no changes or dry run; 1: conflicts (partial) or an error.\n";

enum { OPT_STRATEGY = 0x100, OPT_DRY, OPT_ARTS, OPT_FORMAT, OPT_NOINT };

static int run(struct cli *cli, int argc, char **argv, bool preview)
{
	static const struct option opts[] = {
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "artifacts", required_argument, NULL, OPT_ARTS },
		{ "collection", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "no-interactive", no_argument, NULL, OPT_NOINT },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct sm_ops_sync_req req = { .strategy = SM_SYNC_OVERWRITE, .dry_run = preview };
	struct sm_ops_sync_report rep = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct sm_ops_ctx ctx;
	struct sm_home *home;
	char **arts = NULL;
	size_t narts = 0;
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_pull)) < 0)
			goto usage;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			rc = cli_help(help_pull);
			goto out;
		case OPT_STRATEGY:
			if (sm_sync_strategy_parse(optarg, &req.strategy) < 0) {
				cli_usage_error(cli, usage_pull,
						"unknown strategy '%s' (overwrite, merge, fork)",
						optarg);
				goto usage;
			}
			break;
		case OPT_DRY:
			req.dry_run = true;
			break;
		case OPT_ARTS:
			sm_strv_free(arts, narts);
			arts = NULL;
			narts = 0;
			if (cli_split_list(optarg, &arts, &narts) < 0) {
				cli_error(cli, "out of memory");
				goto out;
			}
			break;
		case 'c':
			req.collection = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json")) {
				cli->json = true;
			} else if (strcmp(optarg, "table")) {
				cli_usage_error(cli, usage_pull, "--format json|table");
				goto usage;
			}
			break;
		case OPT_NOINT:
			break; /* never interactive */
		}
	}
	if (argc - optind > 1) {
		cli_usage_error(cli, usage_pull, "give one PROJECT");
		goto usage;
	}
	req.project = optind < argc ? argv[optind] : NULL;
	req.artifacts = (const char *const *)arts;
	req.nartifacts = narts;
	home = cli_home(cli);
	if (!home)
		goto out;
	sm_ops_ctx_init(&ctx, home, req.dry_run ? NULL : cli_cache(cli));
	r = sm_ops_sync_pull(&ctx, &req, &rep, &err);
	sm_ops_ctx_release(&ctx);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (cli->json) {
		json_t *s = json_array(), *c = json_array();

		for (size_t i = 0; i < rep.nsynced; i++)
			json_array_append_new(s, json_string(rep.synced[i]));
		for (size_t i = 0; i < rep.nconflicts; i++) {
			json_t *f = json_array();

			for (size_t k = 0; k < rep.conflicts[i].nfiles; k++)
				json_array_append_new(f, json_string(rep.conflicts[i].files[k]));
			json_array_append_new(c, json_pack("{s:s, s:s, s:o}", "artifact_name",
							   rep.conflicts[i].artifact_name, "error",
							   rep.conflicts[i].error, "conflict_files",
							   f));
		}
		if (cli_print_json(json_pack("{s:s, s:s, s:o, s:o, s:s?}", "status", rep.status,
					     "message",
					     !rep.nsynced  ? "nothing to pull from the project"
					     : req.dry_run ? "would pull from the project"
							   : "pulled from the project",
					     "artifacts_synced", s, "conflicts",
					     c, "snapshot_id",
					     rep.snapshot_id[0] ? rep.snapshot_id : NULL)) < 0)
			goto out;
	} else {
		if (!rep.nsynced)
			cli_info(cli, "No changes to pull from %s", rep.project);
		else
			cli_info(cli, "%s %zu artifact(s) from %s", req.dry_run ? "Would pull" : "Pulled",
				 rep.nsynced, rep.project);
		for (size_t i = 0; i < rep.nsynced; i++)
			cli_info(cli, "  %s", rep.synced[i]);
		for (size_t i = 0; i < rep.nconflicts; i++)
			for (size_t k = 0; k < rep.conflicts[i].nfiles; k++)
				cli_warning(cli, "conflict in %s: %s", rep.conflicts[i].artifact_name,
					    *rep.conflicts[i].files[k] ? rep.conflicts[i].files[k]
								      : "(the file)");
		if (rep.snapshot_id[0])
			cli_info(cli, "Snapshot before the pull: %s", rep.snapshot_id);
	}
	if (!req.dry_run && rep.nsynced)
		cli_api_refresh_batch(cli);
	rc = rep.nconflicts ? EXIT_FAIL : EXIT_OK;
	goto out;
usage:
	rc = EXIT_USAGE;
out:
	sm_ops_sync_report_release(&rep);
	sm_strv_free(arts, narts);
	sm_strbuf_release(&err);
	return rc;
}

int cmd_sync_pull(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, false);
}

int cmd_sync_preview(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, true);
}
