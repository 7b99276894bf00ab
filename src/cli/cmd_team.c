/* SPDX-License-Identifier: MIT */
/* skillmeat team: the team store on PostgreSQL (spec/CLI.md, docs/team.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/home.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_team[] = "skillmeat team migrate [--store URL] [--to N]";
static const char help_team[] =
    "usage: skillmeat team migrate [--store URL] [--to N]\n"
    "\n"
    "The team store: a PostgreSQL database that `serve --store postgresql://…`\n"
    "serves to several instances (docs/team.md).\n"
    "\n"
    "  migrate       schema migrations of the team store, under pg_advisory_lock:\n"
    "                --to N goes up or down to version N (default: the latest)\n"
    "  --store URL   the database (postgresql://…); default: config server.store\n"
    "  --json        machine-readable output\n";

enum { OPT_STORE = 0x100, OPT_TO };

/* --store, else server.store of config.toml; NULL (error printed) when neither. */
static const char *store_url(struct cli *cli, const char *opt)
{
	const char *url = opt;
	struct sm_home *home;

	if (!url && (home = cli_home(cli)))
		url = sm_config_string(home, "server.store", NULL);
	if (!url) {
		if (cli_home(cli))
			cli_error(cli, "no team store: give --store postgresql://… or set server.store");
		return NULL;
	}
	if (!sm_store_is_pg_url(url)) {
		cli_error(cli, "'%s' is not a PostgreSQL URL (postgresql://…)", url);
		return NULL;
	}
	return url;
}

static int team_migrate(struct cli *cli, const char *url, long to)
{
	struct strbuf err = STRBUF_INIT;
	int from, reached, latest, rc = EXIT_FAIL;

	if ((latest = sm_pg_latest_version(&err)) < 0 || (from = sm_pg_version(url, &err)) < 0) {
		cli_fail(cli, latest < 0 ? latest : from, &err);
		goto out;
	}
	if (to > latest) {
		rc = cli_error(cli, "no team migration %ld: the latest is %d", to, latest);
		goto out;
	}
	reached = sm_pg_migrate_to(url, to < 0 ? -1 : (int)to, &err);
	if (reached < 0) {
		cli_fail(cli, reached, &err);
		goto out;
	}
	if (cli->json)
		cli_print_json(json_pack("{s:i, s:i, s:i}", "from", from, "to", reached, "latest",
					 latest));
	else
		cli_info(cli, "Team store schema: version %d -> %d (latest %d)", from, reached,
			 latest);
	rc = EXIT_OK;
out:
	sm_strbuf_release(&err);
	return rc;
}

int cmd_team(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"store", required_argument, NULL, OPT_STORE},
	    {"to", required_argument, NULL, OPT_TO},
	    CLI_GLOBAL_OPTIONS,
	    {0},
	};
	const char *store = NULL, *url;
	long to = -1;
	char *end;
	int ch, g;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_team)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_team);
		case OPT_STORE:
			store = optarg;
			break;
		case OPT_TO:
			errno = 0;
			to = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || to < 0 || to > 1000000)
				return cli_usage_error(cli, usage_team, "invalid version '%s'",
						       optarg);
			break;
		}
	}
	if (optind >= argc)
		return cli_usage_error(cli, usage_team, "missing subcommand");
	if (strcmp(argv[optind], "migrate") != 0)
		return cli_usage_error(cli, usage_team, "unknown subcommand '%s'", argv[optind]);
	if (optind + 1 < argc)
		return cli_usage_error(cli, usage_team, "unexpected argument '%s'",
				       argv[optind + 1]);
	url = store_url(cli, store);
	return url ? team_migrate(cli, url, to) : EXIT_FAIL;
}
