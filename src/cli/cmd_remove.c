/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/collection.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
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
	struct sm_collection *c = NULL;
	struct sm_home *home;
	const char *coll = NULL, *id;
	char *name = NULL;
	enum sm_artifact_type type;
	bool force = false, keep = false;
	long idx;
	int ch, g, rc = EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
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
	id = argv[optind];
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	if (sm_home_lock(home, &err) < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	if (sm_collection_open(home, coll, &c, &err) < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	idx = sm_collection_resolve(c, id, &err);
	if (idx < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	type = sm_entry_type(sm_manifest_at(c->manifest, (size_t)idx));
	name = sm_strdup(sm_entry_name(sm_manifest_at(c->manifest, (size_t)idx)));
	if (!name) {
		cli_error(cli, "out of memory");
		goto out;
	}
	if (!force && cli->tty_in && !cli->json &&
	    !cli_confirm(cli, "Remove %s '%s' from collection '%s'?", sm_artifact_type_name(type),
			 name, c->name)) {
		cli_info(cli, "Cancelled");
		rc = EXIT_OK;
		goto out;
	}
	if (sm_collection_remove(c, (size_t)idx, keep, &err) < 0 ||
	    sm_collection_commit(c, &err) < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	cli_cache_after_write(cli, c);
	if (cli->json)
		cli_print_json(json_pack("{s:{s:s, s:s, s:s, s:b}}", "removed", "name", name, "type",
					 sm_artifact_type_name(type), "collection", c->name,
					 "files_kept", keep));
	else
		cli_info(cli, "Removed %s: %s", sm_artifact_type_name(type), name);
	rc = EXIT_OK;
out:
	sm_home_unlock(home);
	sm_free(name);
	sm_collection_free(c);
	sm_strbuf_release(&err);
	return rc;
}
