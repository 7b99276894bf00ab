/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "skillmeat/cache.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "util/banned.h"

static const struct cli_cmd commands[] = {
	{ "init", cmd_init, "create a collection" },
	{ "add", cmd_add, "add an artifact (local path or GitHub), or every artifact of a folder" },
	{ "list", cmd_list, "list the artifacts of a collection" },
	{ "show", cmd_show, "show one artifact" },
	{ "search", cmd_search, "full-text search over names, titles, descriptions, tags and text files" },
	{ "edit", cmd_edit, "change an artifact's metadata in its frontmatter (and the manifest)" },
	{ "remove", cmd_remove, "remove an artifact (files, manifest and lock entries)" },
	{ "collection", cmd_collection, "create, list, use or delete collections" },
	{ "config", cmd_config, "get, set or list config.toml keys" },
	{ "user-collection", cmd_user_collection,
	  "user collections: create, list, show, rename, delete, add, remove (alias uc)" },
	{ "uc", cmd_user_collection, "alias of user-collection" },
	{ "cache", cmd_cache, "metadata cache: status, refresh, rebuild, migrate, dump" },
	{ "deploy", cmd_deploy, "deploy artifacts into a project" },
	{ "undeploy", cmd_undeploy, "remove deployed artifacts from a project" },
	{ "status", cmd_status, "the state of a project's deployments" },
	{ "sync-check", cmd_sync_check, "drift between a project and the collection" },
	{ "sync-pull", cmd_sync_pull, "bring a project's changes back into the collection" },
	{ "sync-preview", cmd_sync_preview, "what sync-pull would bring back (a dry run)" },
	{ "snapshot", cmd_snapshot, "save the collection as a snapshot" },
	{ "history", cmd_history, "list the snapshots of a collection" },
	{ "rollback", cmd_rollback, "restore the collection to a snapshot" },
	{ "update", cmd_update, "fetch GitHub-sourced artifacts again from their upstream" },
	{ "serve", cmd_serve, "serve the REST API over the metadata cache" },
	{ "team", cmd_team, "the team server: push, pull, and its store's schema migrations" },
};

static void usage(FILE *f)
{
	fputs("usage: skillmeat [--home DIR] [--json] [--quiet] [--no-color] VERB [ARGS...]\n"
	      "\n"
	      "A personal collection manager for AI coding-agent artifacts.\n"
	      "\n"
	      "Verbs:\n",
	      f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Global options:\n"
	      "  --home DIR   the SkillMeat home (default $SKILLMEAT_HOME, else ~/.skillmeat)\n"
	      "  --json       machine-readable output\n"
	      "  --quiet      only errors\n"
	      "  --no-color   no colour (also NO_COLOR)\n"
	      "  --version    print the version\n"
	      "\n"
	      "Run 'skillmeat VERB --help' for a verb's options.\n",
	      f);
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const char *no_color = getenv("NO_COLOR");
	int i, r;

	setlocale(LC_CTYPE, "");
	sm_log_init();
	/* the library's warnings read like the CLI's own ('warning: …'), unless a format is asked for */
	if (!getenv("SKILLMEAT_LOG_FORMAT"))
		sm_log_set_plain(1);
	cli.tty_out = isatty(STDOUT_FILENO);
	cli.tty_err = isatty(STDERR_FILENO);
	cli.tty_in = isatty(STDIN_FILENO);
	cli.color = cli.tty_out && !(no_color && *no_color);
	cli.color_err = cli.tty_err && !(no_color && *no_color);

	/* global options before the verb */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("skillmeat %s\n", SM_VERSION);
			return cli_finish_output(&cli, EXIT_OK);
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return cli_finish_output(&cli, EXIT_OK);
		} else if (!strcmp(a, "--json")) {
			cli.json = true;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			cli_set_quiet(&cli);
		} else if (!strcmp(a, "--no-color")) {
			cli.color = cli.color_err = false;
		} else if (!strcmp(a, "--home")) {
			if (i + 1 >= argc)
				return cli_usage_error(&cli, NULL, "--home needs a folder");
			cli.home_dir = argv[++i];
		} else if (!strncmp(a, "--home=", 7)) {
			cli.home_dir = a + 7;
		} else {
			r = cli_usage_error(&cli, NULL, "unknown option '%s'", a);
			usage(stderr);
			return r;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* a verb reads its files into memory: huge pages for it (not the long-lived server) */
	if (strcmp(argv[i], "serve"))
		sm_memory_huge_heap((size_t)16 << 20);
	r = -1;
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (!strcmp(argv[i], commands[k].name)) {
			optind = 1;
			opterr = 0; /* cli_common_opt says what was wrong, as 'error: …' */
			cli.argv = argv + i;
			r = commands[k].run(&cli, argc - i, argv + i);
			break;
		}
	}
	if (r < 0) {
		r = cli_usage_error(&cli, NULL, "unknown verb '%s' (see 'skillmeat --help')",
				    argv[i]);
	}
	sm_cache_close(cli.cache);
	sm_home_free(cli.home);
	return cli_finish_output(&cli, r);
}
