/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/collection.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_collection[] =
	"skillmeat collection create NAME | list | use NAME | delete NAME [--force]";
static const char help_collection[] =
	"usage: skillmeat collection create NAME | list | use NAME | delete NAME [--force]\n"
	"\n"
	"File collections under the home's collections/ folder.\n"
	"\n"
	"  create NAME   create a collection (as 'init NAME')\n"
	"  list          the collections, which one is active, how many artifacts each holds\n"
	"  use NAME      make NAME the active collection (settings.default-collection)\n"
	"  delete NAME   delete a collection and its files (asks on a terminal unless\n"
	"                --force; never the active one)\n"
	"  --json        machine-readable output\n";

int cli_init_collection(struct cli *cli, const char *name);

static int coll_list(struct cli *cli, struct sm_home *home)
{
	struct strbuf err = STRBUF_INIT;
	const char *active = sm_home_active_collection(home);
	char **names = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	int rc = EXIT_FAIL;
	int r;

	if ((r = sm_collection_names(home, &names, &n, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (cli->json)
		arr = json_array();
	else
		printf("%s%-24s %-7s %s%s\n", cli_c(cli, C_BOLD), "NAME", "ACTIVE", "ARTIFACTS",
		       cli_c(cli, C_RESET));
	for (size_t i = 0; i < n; i++) {
		struct sm_collection *c = NULL;
		long count = -1;

		if (sm_collection_open(home, names[i], &c, &err) == 0)
			count = (long)sm_manifest_count(c->manifest);
		else
			cli_warning(cli, "%s", err.buf);
		sm_collection_free(c);
		if (arr)
			json_array_append_new(arr, json_pack("{s:s, s:b, s:o}", "name", names[i],
							     "active", !strcmp(active, names[i]),
							     "artifact_count",
							     count >= 0 ? json_integer(count)
									: json_null()));
		else
			printf("%-24s %-7s %ld\n", names[i], !strcmp(active, names[i]) ? "✓" : "",
			       count);
	}
	if (arr)
		cli_print_json(arr);
	rc = EXIT_OK;
out:
	sm_strv_free(names, n);
	sm_strbuf_release(&err);
	return rc;
}

int cmd_collection(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct strbuf err = STRBUF_INIT;
	struct sm_home *home;
	const char *sub, *name = NULL;
	bool force = false;
	int ch, g, rc = EXIT_OK;
	int r;

	while ((ch = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_collection)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		if (ch == 'h')
			return cli_help(help_collection);
		if (ch == 'f')
			force = true;
	}
	if (optind >= argc)
		return cli_usage_error(cli, usage_collection, "missing subcommand");
	sub = argv[optind++];
	if (!strcmp(sub, "list")) {
		if (optind != argc)
			return cli_usage_error(cli, usage_collection, "'list' takes no argument");
	} else if (!strcmp(sub, "create") || !strcmp(sub, "use") || !strcmp(sub, "delete")) {
		if (optind + 1 != argc)
			return cli_usage_error(cli, usage_collection, "'%s' takes one NAME", sub);
		name = argv[optind];
		if ((r = sm_collection_name_check(name, &err)) < 0) {
			rc = cli_fail(cli, r, &err);
			goto out;
		}
	} else {
		return cli_usage_error(cli, usage_collection, "unknown subcommand '%s'", sub);
	}
	if (!strcmp(sub, "create")) {
		rc = cli_init_collection(cli, name);
		goto out;
	}
	home = cli_home(cli);
	if (!home) {
		rc = EXIT_FAIL;
		goto out;
	}
	if (!strcmp(sub, "list")) {
		rc = coll_list(cli, home);
	} else if (!strcmp(sub, "use")) {
		if (!sm_collection_exists(home, name))
			rc = cli_error(cli, "collection '%s' does not exist", name);
		else if ((r = cli_config_set(cli, "settings.default-collection", name, &err)) < 0)
			rc = cli_fail(cli, r, &err);
		else if (cli->json)
			cli_print_json(json_pack("{s:s}", "active", name));
		else
			cli_info(cli, "Active collection: %s", name);
	} else {
		if (!force && cli->tty_in && !cli->json &&
		    !cli_confirm(cli, "Delete collection '%s' and all its files?", name)) {
			cli_info(cli, "Cancelled");
		} else if ((r = cli_collection_delete(cli, name, &err)) < 0) {
			rc = cli_fail(cli, r, &err);
		} else if (cli->json) {
			cli_print_json(json_pack("{s:s}", "deleted", name));
		} else {
			cli_info(cli, "Deleted collection '%s'", name);
		}
	}
out:
	sm_strbuf_release(&err);
	return rc;
}
