/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/collection.h"
#include "skillmeat/home.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_init[] = "skillmeat init [NAME] [-n NAME]";
static const char help_init[] =
	"usage: skillmeat init [NAME] [-n NAME]\n"
	"\n"
	"Create a collection (default 'default') in the home: its folders, an empty\n"
	"collection.toml and collection.lock. An existing collection is left as it is.\n"
	"\n"
	"  -n, --name NAME   the collection's name\n"
	"  --json            print {\"collection\", \"path\", \"created\"}\n";

/* Shared by `init` and `collection create`. */
int cli_init_collection(struct cli *cli, const char *name);

int cli_init_collection(struct cli *cli, const char *name)
{
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;
	struct sm_home *home = cli_home(cli);
	bool created;
	int r;

	if (!home)
		return EXIT_FAIL;
	r = cli_collection_init(cli, name, &created, &err);
	if (r < 0) {
		r = cli_fail(cli, r, &err);
		goto out;
	}
	if (sm_home_collection_dir(home, name, &dir) < 0) {
		r = cli_error(cli, "out of memory");
		goto out;
	}
	if (cli->json) {
		cli_print_json(json_pack("{s:s, s:s, s:b}", "collection", name, "path", dir.buf,
					 "created", created));
	} else if (created) {
		cli_info(cli, "Collection '%s' initialized", name);
		cli_info(cli, "Location: %s", dir.buf);
		cli_info(cli, "Artifacts: 0");
	} else if (!cli->quiet) {
		printf("%sCollection '%s' already exists at %s%s\n", cli_c(cli, C_YELLOW), name,
		       dir.buf, cli_c(cli, C_RESET));
	}
	r = EXIT_OK;
out:
	sm_strbuf_release(&err);
	sm_strbuf_release(&dir);
	return r;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	const char *name = NULL;
	int c, g;

	while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, c, usage_init)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		if (c == 'h')
			return cli_help(help_init);
		if (c == 'n')
			name = optarg;
	}
	if (optind < argc) {
		if (name)
			return cli_usage_error(cli, usage_init, "give the name once");
		name = argv[optind++];
	}
	if (optind < argc)
		return cli_usage_error(cli, usage_init, "unexpected argument '%s'", argv[optind]);
	return cli_init_collection(cli, name ? name : "default");
}
