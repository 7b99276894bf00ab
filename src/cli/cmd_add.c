/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/collection.h"
#include "skillmeat/home.h"
#include "skillmeat/ops.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_add[] =
	"skillmeat add [TYPE] SPEC [--name NAME] [--collection NAME] [--tags a,b] [--force]\n"
	"       skillmeat add --all FOLDER [--on-clash skip|rename] [--collection NAME] [--force]";
static const char help_add[] =
	"usage: skillmeat add [TYPE] SPEC [options]\n"
	"       skillmeat add --all FOLDER [options]\n"
	"\n"
	"Add an artifact to a collection. SPEC is a local file or folder, a GitHub\n"
	"spec owner/repo/path[@ref], or a github.com URL. TYPE (skill, command, agent,\n"
	"workflow, composite) is detected when not given.\n"
	"\n"
	"  -n, --name NAME         the artifact's name (default: from the source path)\n"
	"  -c, --collection NAME   the collection (default: the active one)\n"
	"  -t, --tags a,b          tags to add besides the frontmatter's\n"
	"  -f, --force             replace an existing artifact of the same type and name\n"
	"  --all FOLDER            add every artifact found under FOLDER (sorted walk):\n"
	"                          folders holding SKILL.md, .md files in agents/ and\n"
	"                          commands/ folders; unchanged ones are left alone\n"
	"  --on-clash skip|rename  with --all, for a second artifact with a name seen\n"
	"                          before (any type): skip it (default) or append\n"
	"                          -<folder holding its type folder>\n"
	"  --json                  machine-readable result\n";

enum { OPT_ALL = 0x100, OPT_ON_CLASH };

struct add_args {
	struct sm_add_opts opts;
	const char *collection;
	const char *all;
	bool rename;
	char **tags;
	size_t ntags;
};

static void created_default(struct cli *cli, bool created)
{
	if (created && !cli->json)
		cli_info(cli, "Created collection 'default'");
}

static int add_one(struct cli *cli, struct add_args *a, const char *spec)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_ops_add req = {
		.collection = a->collection, .spec = spec, .opts = a->opts, .reports_warning = true
	};
	struct sm_ops_add_result res = { 0 };
	const struct sm_add_result *ar = &res.add;
	struct sm_ops_ctx ctx;
	int r;

	cli_ops_init(cli, &ctx, cli->cache);
	r = sm_ops_add(&ctx, &req, &res, &err);
	cli_ops_release(cli, &ctx);
	created_default(cli, res.created_default);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	/* after the home lock is released */
	cli_announce(cli, res.index_changed);
	if (ar->warning)
		cli_warning(cli, "%s", ar->warning);
	if (cli->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "status",
					 "success", "command", "add", "result",
					 ar->status == SM_ADD_UNCHANGED ? "unchanged"
					 : ar->status == SM_ADD_REPLACED ? "replaced"
									 : "added",
					 "artifact", "name", ar->name, "type",
					 sm_artifact_type_name(ar->type), "collection",
					 res.collection, "path", ar->path, "content_hash", ar->hash));
	} else if (ar->status == SM_ADD_UNCHANGED) {
		cli_info(cli, "Unchanged %s: %s", sm_artifact_type_name(ar->type), ar->name);
	} else {
		cli_info(cli, "%s%s %s: %s%s", cli_c(cli, C_GREEN),
			 ar->status == SM_ADD_REPLACED ? "Replaced" : "Added",
			 sm_artifact_type_name(ar->type), ar->name, cli_c(cli, C_RESET));
	}
out:
	sm_ops_add_result_release(&res);
	sm_strbuf_release(&err);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

struct all_events {
	struct cli *cli;
	struct cli_progress prog;
	bool started;
};

static void all_event(void *ud, size_t i, size_t n, const char *rel, const char *warning)
{
	struct all_events *ev = ud;

	if (!ev->started) {
		cli_progress_start(ev->cli, &ev->prog, "Adding", n);
		ev->started = true;
	}
	if (!warning) {
		cli_progress_update(&ev->prog, i, rel);
	} else if (!ev->cli->json) {
		cli_progress_end(&ev->prog);
		cli_warning(ev->cli, "%s", warning);
	}
}

static json_t *items_json(const struct sm_ops_add_item *v, size_t n, bool failed)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, failed ? json_pack("{s:s, s:s}", "path", v[i].path,
							    "error", v[i].error)
						: json_pack("{s:s, s:s, s:s, s:s}", "name",
							    v[i].name, "type", v[i].type, "path",
							    v[i].path, "kept", v[i].kept));
	return a;
}

static int add_all(struct cli *cli, struct add_args *a)
{
	struct strbuf err = STRBUF_INIT;
	struct all_events ev = { .cli = cli };
	struct sm_ops_add_all req = {
		.collection = a->collection,
		.folder = a->all,
		.opts = a->opts,
		.rename = a->rename,
		.event = all_event,
		.event_ud = &ev,
	};
	struct sm_ops_add_all_result res = { 0 };
	struct sm_ops_ctx ctx;
	int r;

	cli_ops_init(cli, &ctx, cli->cache);
	r = sm_ops_add_all(&ctx, &req, &res, &err);
	cli_ops_release(cli, &ctx);
	if (ev.started)
		cli_progress_end(&ev.prog);
	created_default(cli, res.created_default);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	/* after the home lock is released */
	cli_announce(cli, res.index_changed);
	if (cli->json) {
		cli_print_json(json_pack("{s:I, s:I, s:I, s:o, s:o}", "added", (json_int_t)res.added,
					 "replaced", (json_int_t)res.replaced, "unchanged",
					 (json_int_t)res.unchanged, "skipped",
					 items_json(res.skipped, res.nskipped, false), "failed",
					 items_json(res.failed, res.nfailed, true)));
	} else {
		for (size_t k = 0; k < res.nskipped; k++)
			cli_warning(cli, "skipped %s '%s' (%s): same type and name as '%s'",
				    res.skipped[k].type, res.skipped[k].name, res.skipped[k].path,
				    res.skipped[k].kept);
		for (size_t k = 0; k < res.nfailed; k++)
			cli_error(cli, "%s: %s", res.failed[k].path, res.failed[k].error);
		cli_info(cli, "%sAdded %zu, replaced %zu, unchanged %zu, skipped %zu, failed %zu%s",
			 cli_c(cli, C_BOLD), res.added, res.replaced, res.unchanged, res.nskipped,
			 res.nfailed, cli_c(cli, C_RESET));
	}
	r = res.nfailed ? -EIO : 0;
out:
	sm_ops_add_all_result_release(&res);
	sm_strbuf_release(&err);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "collection", required_argument, NULL, 'c' },
		{ "tags", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "all", required_argument, NULL, OPT_ALL },
		{ "on-clash", required_argument, NULL, OPT_ON_CLASH },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct add_args a = { .opts = { .type = SM_TYPE_INVALID } };
	struct strbuf err = STRBUF_INIT;
	const char *spec = NULL;
	int c, g, rc;
	int r;

	while ((c = getopt_long(argc, argv, ":n:c:t:fh", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, c, usage_add)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (c) {
		case 'h':
			return cli_help(help_add);
		case 'n':
			a.opts.name = optarg;
			break;
		case 'c':
			a.collection = optarg;
			break;
		case 't':
			sm_strv_free(a.tags, a.ntags);
			if (cli_split_list(optarg, &a.tags, &a.ntags) < 0)
				return cli_error(cli, "out of memory");
			break;
		case 'f':
			a.opts.force = true;
			break;
		case OPT_ALL:
			a.all = optarg;
			break;
		case OPT_ON_CLASH:
			if (!strcmp(optarg, "rename"))
				a.rename = true;
			else if (strcmp(optarg, "skip"))
				return cli_usage_error(cli, usage_add,
						       "--on-clash takes 'skip' or 'rename'");
			break;
		}
	}
	a.opts.tags = (const char *const *)a.tags;
	a.opts.ntags = a.ntags;
	rc = EXIT_USAGE;
	if (a.all) {
		if (optind < argc) {
			cli_usage_error(cli, usage_add, "--all takes a FOLDER and no SPEC");
			goto out;
		}
		if (a.opts.name) {
			cli_usage_error(cli, usage_add, "--name cannot be used with --all");
			goto out;
		}
	} else {
		if (argc - optind == 2) {
			a.opts.type = sm_artifact_type_parse(argv[optind]);
			if (a.opts.type == SM_TYPE_INVALID) {
				cli_usage_error(cli, usage_add, "unknown artifact type '%s'",
						argv[optind]);
				goto out;
			}
			optind++;
		}
		if (argc - optind != 1) {
			cli_usage_error(cli, usage_add,
					argc - optind < 1 ? "missing SPEC" : "too many arguments");
			goto out;
		}
		spec = argv[optind];
	}
	if (a.opts.name && (r = sm_artifact_name_check(a.opts.name, &err)) < 0) {
		rc = cli_fail(cli, r, &err);
		goto out;
	}
	if (a.collection && (r = sm_collection_name_check(a.collection, &err)) < 0) {
		rc = cli_fail(cli, r, &err);
		goto out;
	}
	rc = EXIT_FAIL;
	if (!cli_home(cli))
		goto out;
	rc = a.all ? add_all(cli, &a) : add_one(cli, &a, spec);
out:
	sm_strv_free(a.tags, a.ntags);
	sm_strbuf_release(&err);
	return rc;
}
