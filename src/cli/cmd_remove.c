/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/artifact.h"
#include "skillmeat/ops.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_remove[] =
	"skillmeat remove ID [--collection NAME] [--force] [--keep-files] [--json]";
static const char help_remove[] =
	"usage: skillmeat remove ID [options]\n"
	"\n"
	"Remove an artifact: its files, its manifest entry and its lock entry.\n"
	"ID is type:name or a name that is unique in the collection. On a terminal it\n"
	"asks first unless --force; it never asks when stdin is not a terminal.\n"
	"\n"
	"  -c, --collection NAME   the collection\n"
	"  -f, --force             do not ask\n"
	"  --keep-files            leave the files in place (only the entries go)\n"
	"  --json                  print {\"removed\": {name, type, collection}}\n";

enum { OPT_KEEP = 0x100 };

static bool confirm(void *ud, const char *type, const char *name, const char *collection)
{
	struct cli *cli = ud;

	return cli_confirm(cli, "Remove %s '%s' from collection '%s'?", type, name, collection);
}

int cmd_remove(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collection", required_argument, NULL, 'c' },
		{ "force", no_argument, NULL, 'f' },
		{ "keep-files", no_argument, NULL, OPT_KEEP },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct strbuf err = STRBUF_INIT;
	struct sm_ops_remove req = { 0 };
	struct sm_ops_remove_result res = { 0 };
	struct sm_ops_ctx ctx;
	struct sm_home *home;
	const char *coll = NULL;
	char cbuf[256];
	bool force = false, keep = false;
	int ch, g, r;

	while ((ch = getopt_long(argc, argv, ":c:fh", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_remove)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_remove);
		case 'c':
			coll = optarg;
			break;
		case 'f':
			force = true;
			break;
		case OPT_KEEP:
			keep = true;
			break;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, usage_remove,
				       argc - optind ? "give one ID" : "missing ID");
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	/* collection/type:name names its collection, active or not */
	req.collection = cli_id_collection(coll, argv[optind], cbuf, sizeof(cbuf));
	req.id = argv[optind];
	req.keep_files = keep;
	if (!force && cli->tty_in && !cli->json) {
		req.confirm = confirm;
		req.confirm_ud = cli;
	}
	cli_ops_init(cli, &ctx, cli->cache);
	r = sm_ops_remove(&ctx, &req, &res, &err);
	cli_ops_release(cli, &ctx);
	if (r < 0) {
		cli_fail(cli, r, &err);
	} else if (res.cancelled) {
		cli_info(cli, "Cancelled");
	} else {
		/* after the home lock is released */
		cli_announce(cli, res.index_changed);
		if (cli->json)
			cli_print_json(json_pack("{s:{s:s, s:s, s:s, s:b}}", "removed", "name",
						 res.name, "type", sm_artifact_type_name(res.type),
						 "collection", res.collection, "files_kept", keep));
		else
			cli_info(cli, "Removed %s: %s", sm_artifact_type_name(res.type), res.name);
	}
	sm_ops_remove_result_release(&res);
	sm_strbuf_release(&err);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
