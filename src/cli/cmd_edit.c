/* SPDX-License-Identifier: MIT */
/* skillmeat edit TYPE:NAME [--description D] ... (CLI.md, fixed) */
#include <errno.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "skillmeat/array.h"
#include "skillmeat/edit.h"
#include "skillmeat/frontmatter.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_edit[] =
	"skillmeat edit TYPE:NAME [--description D] [--author A] [--license L] [--version V]\n"
	"                         [--title T] [--tag T]... [--tool T]... [--collection NAME] [--json]";
static const char help_edit[] =
	"usage: skillmeat edit TYPE:NAME [options]\n"
	"\n"
	"Change an artifact's metadata in its own file: the frontmatter of SKILL.md\n"
	"(skills) or of the agent's / command's file. Only the keys given change;\n"
	"every other byte of the file stays as it was. Tags are written to the\n"
	"frontmatter and to collection.toml; the [artifacts.metadata] copy and the\n"
	"lock's content hash follow (a GitHub-sourced artifact keeps its upstream\n"
	"hash in the lock, so the edit shows as a local modification).\n"
	"\n"
	"Options:\n"
	"  --description D     the description ('' removes the key)\n"
	"  --author A          the author ('' removes it)\n"
	"  --license L         the license ('' removes it)\n"
	"  --version V         the version ('' removes it)\n"
	"  --title T           the title ('' removes it)\n"
	"  --tag T             a tag; given at all, the tags become exactly these\n"
	"  --no-tags           remove every tag\n"
	"  --tool T            a tool (Read, Bash, ...); given at all, the tools become\n"
	"                      exactly these\n"
	"  --no-tools          remove the tools key\n"
	"  -c, --collection NAME  the file collection (default: the active one)\n"
	"  --json              print the artifact as `show --json` does\n"
	"\n"
	"Exit status: 0 edited (or nothing to change), 1 failure, 2 usage error.\n";

enum {
	OPT_DESCRIPTION = 0x2000,
	OPT_AUTHOR,
	OPT_LICENSE,
	OPT_VERSION,
	OPT_TITLE,
	OPT_TAG,
	OPT_TOOL,
	OPT_NO_TAGS,
	OPT_NO_TOOLS,
};

struct list_arg {
	const char **items;
	size_t n, alloc;
};

static int push(struct list_arg *l, const char *s)
{
	if (SM_GROW(l->items, l->alloc, l->n + 1) < 0)
		return -ENOMEM;
	l->items[l->n++] = s;
	return 0;
}

static void set_str(struct sm_fm_edit *ed, enum sm_fm_field f, const char *s)
{
	ed->f[f].set = true;
	ed->f[f].str = s;
}

int cmd_edit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "description", required_argument, NULL, OPT_DESCRIPTION },
		{ "author", required_argument, NULL, OPT_AUTHOR },
		{ "license", required_argument, NULL, OPT_LICENSE },
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "tool", required_argument, NULL, OPT_TOOL },
		{ "no-tags", no_argument, NULL, OPT_NO_TAGS },
		{ "no-tools", no_argument, NULL, OPT_NO_TOOLS },
		{ "collection", required_argument, NULL, 'c' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct sm_edit_request req = { 0 };
	struct sm_edit_result res = { 0 };
	struct list_arg tags = { 0 }, tools = { 0 };
	struct strbuf err = STRBUF_INIT, id = STRBUF_INIT;
	struct sm_ops_ctx ctx;
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_edit)) < 0)
			goto usage;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			rc = cli_help(help_edit);
			goto out;
		case 'c':
			req.collection = optarg;
			break;
		case OPT_DESCRIPTION:
			set_str(&req.fields, SM_FM_DESCRIPTION, optarg);
			break;
		case OPT_AUTHOR:
			set_str(&req.fields, SM_FM_AUTHOR, optarg);
			break;
		case OPT_LICENSE:
			set_str(&req.fields, SM_FM_LICENSE, optarg);
			break;
		case OPT_VERSION:
			set_str(&req.fields, SM_FM_VERSION, optarg);
			break;
		case OPT_TITLE:
			set_str(&req.fields, SM_FM_TITLE, optarg);
			break;
		case OPT_TAG:
		case OPT_TOOL:
			if (push(ch == OPT_TAG ? &tags : &tools, optarg) < 0) {
				cli_error(cli, "out of memory");
				goto out;
			}
			/* fall through */
		case OPT_NO_TAGS:
		case OPT_NO_TOOLS:
			req.fields.f[ch == OPT_TAG || ch == OPT_NO_TAGS ? SM_FM_TAGS : SM_FM_TOOLS]
			    .set = true;
			break;
		default:
			break;
		}
	}
	if (argc - optind != 1) {
		rc = cli_usage_error(cli, usage_edit, argc - optind ? "give one TYPE:NAME" : "missing TYPE:NAME");
		goto out;
	}
	req.id = argv[optind];
	req.fields.f[SM_FM_TAGS].items = tags.items;
	req.fields.f[SM_FM_TAGS].n_items = tags.n;
	req.fields.f[SM_FM_TOOLS].items = tools.items;
	req.fields.f[SM_FM_TOOLS].n_items = tools.n;
	if (sm_edit_check(&req.fields, &err) < 0) {
		rc = cli_usage_error(cli, usage_edit, "%s", err.buf);
		goto out;
	}
	if (!cli_cache(cli))
		goto out;
	sm_ops_ctx_init(&ctx, cli->home, cli->cache);
	if ((r = sm_edit_artifact(&ctx, &req, &res, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (res.changed)
		cli_api_refresh(cli, "default");
	if (sm_strbuf_addf(&id, "%s:%s", res.type, res.name) < 0) {
		cli_error(cli, "out of memory");
		goto out;
	}
	if (cli->json) {
		rc = cli_show(cli, res.collection, id.buf);
		goto out;
	}
	cli_info(cli, res.changed ? "Edited %s" : "Nothing to change in %s", id.buf);
	rc = EXIT_OK;
	goto out;
usage:
	rc = EXIT_USAGE;
out:
	sm_edit_result_release(&res);
	sm_free(tags.items);
	sm_free(tools.items);
	sm_strbuf_release(&err);
	sm_strbuf_release(&id);
	return rc;
}
