/* SPDX-License-Identifier: MIT */
/* update: GitHub-sourced artifacts to their upstream's newest commit of version_spec. */
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_upstream.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_update[] =
	"skillmeat update [NAME...] [-c NAME] [--strategy upstream|local] [--json]";
static const char help_update[] =
	"usage: skillmeat update [NAME...] [options]\n"
	"\n"
	"Fetch GitHub-sourced artifacts again at their version spec (latest, a branch, a\n"
	"tag) from the repository and path of their upstream URL; new content replaces\n"
	"the collection copy, and the manifest (upstream, resolved_sha, resolved_version)\n"
	"and lock follow. Without NAME: every artifact of the collection. An automatic\n"
	"snapshot is made before the first fetch. Local artifacts get their lock hash\n"
	"refreshed.\n"
	"\n"
	"  -c, --collection NAME   the collection (default: the active one)\n"
	"  --strategy upstream     also replace artifacts modified in the collection\n"
	"  --strategy local        keep modified artifacts (the default)\n"
	"  --json                  {results:[{id, status, resolved_sha, error}], snapshot_id}\n"
	"\n"
	"Statuses: updated_github, up_to_date, local_changes_kept, no_upstream,\n"
	"refreshed_local, failed (exit 1).\n";

enum { OPT_STRATEGY = 0x100 };

int cmd_update(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collection", required_argument, NULL, 'c' },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "type", required_argument, NULL, 't' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct sm_ops_upstream_report rep = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *coll = NULL;
	bool overwrite = false;
	struct sm_ops_ctx ctx;
	int opr;
	struct sm_home *home;
	size_t changed = 0;
	int ch, g, rc = EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, ":c:t:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_update)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_update);
		case 'c':
			coll = optarg;
			break;
		case 't':
			break; /* names are resolved with type:name ids */
		case OPT_STRATEGY:
			if (!strcmp(optarg, "upstream"))
				overwrite = true;
			else if (strcmp(optarg, "local") && strcmp(optarg, "prompt"))
				return cli_usage_error(cli, usage_update,
						       "unknown strategy '%s' (upstream, local)",
						       optarg);
			break;
		}
	}
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	sm_ops_ctx_init(&ctx, home, cli_cache(cli));
	opr = sm_ops_update_upstream(&ctx, coll, (const char *const *)argv + optind,
				     (size_t)(argc - optind), overwrite, &rep, &err);
	sm_ops_ctx_release(&ctx);
	if (opr < 0) {
		cli_fail(cli, opr, &err);
		goto out;
	}
	/* a refreshed lock hash changes the index row too (locally_modified) */
	for (size_t i = 0; i < rep.n; i++)
		changed += rep.items[i].changed;
	if (cli->json) {
		json_t *a = json_array();

		for (size_t i = 0; i < rep.n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s?, s:s?}", "id",
							   rep.items[i].id, "status",
							   rep.items[i].status, "resolved_sha",
							   rep.items[i].resolved_sha, "error",
							   rep.items[i].error));
		if (cli_print_json(json_pack("{s:o, s:s?}", "results", a, "snapshot_id",
					     rep.snapshot_id[0] ? rep.snapshot_id : NULL)) < 0)
			goto out;
	} else {
		for (size_t i = 0; i < rep.n; i++)
			if (strcmp(rep.items[i].status, "no_upstream"))
				cli_info(cli, "%-20s %s", rep.items[i].status, rep.items[i].id);
		if (rep.snapshot_id[0])
			cli_info(cli, "Snapshot before the update: %s", rep.snapshot_id);
	}
	for (size_t i = 0; i < rep.n; i++)
		if (rep.items[i].error)
			cli_error(cli, "%s: %s", rep.items[i].id, rep.items[i].error);
	if (changed)
		cli_api_refresh_batch(cli);
	rc = rep.failed ? EXIT_FAIL : EXIT_OK;
out:
	sm_ops_upstream_report_release(&rep);
	sm_strbuf_release(&err);
	return rc;
}
