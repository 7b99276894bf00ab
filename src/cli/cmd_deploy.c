/* SPDX-License-Identifier: MIT */
/* deploy and undeploy: parse, call the operation, print. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_deploy.h"
#include "skillmeat/ops_team.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_deploy[] =
	"skillmeat deploy NAME... | --all [--project DIR] [--profile ID | --all-profiles] "
	"[--overwrite] [--symlink] [--json] | deploy --from-team URL [--token T] TYPE:NAME...";
static const char help_deploy[] =
	"usage: skillmeat deploy NAME... | --all [options]\n"
	"\n"
	"Copy artifacts of the collection into a project: <project>/.claude/skills/<name>,\n"
	".claude/agents/<name>.md, .claude/commands/<name>.md (other profiles: .codex, ...),\n"
	"recorded in <root>/.skillmeat-deployed.toml. An artifact already deployed and\n"
	"unchanged is not copied again; an outdated one is updated. A target that exists\n"
	"but was not deployed by skillmeat, or that was modified in the project, is\n"
	"replaced only with --overwrite (or after a yes on a terminal); otherwise it is a\n"
	"failure (exit 1) and left as it is.\n"
	"\n"
	"  -p, --project DIR       the project (default: the current folder)\n"
	"  -c, --collection NAME   the collection (default: the active one)\n"
	"  --all                   every deployable artifact of the collection\n"
	"  --profile ID            deploy for this profile (claude_code, codex, gemini,\n"
	"                          cursor, or any id: root .<id>); repeatable\n"
	"  --all-profiles          every profile whose root folder exists in the project\n"
	"  -o, --overwrite         replace untracked or locally modified targets\n"
	"  --symlink               link to the collection copy instead of copying\n"
	"  --from-team URL         deploy TYPE:NAME... straight from a team server: each\n"
	"                          archive checked (files, hash) in a staging folder first,\n"
	"                          recorded as from_collection \"team:URL\" (status does not\n"
	"                          ask the server: it tells whether the project copy changed)\n"
	"  --token T               the team server's token (default: SKILLMEAT_TEAM_TOKEN)\n"
	"  --json                  print {deployed:[id], unchanged:[id], failed:[{id,error}]}\n";

static const char usage_undeploy[] =
	"skillmeat undeploy NAME... [--project DIR] [--profile ID] [--force] [--json]";
static const char help_undeploy[] =
	"usage: skillmeat undeploy NAME... [options]\n"
	"\n"
	"Remove deployed artifacts from a project: only what the tracking file records.\n"
	"NAME is a name or type:name. A copy modified in the project is kept unless\n"
	"--force. Never prompts.\n"
	"\n"
	"  -p, --project DIR       the project (default: the current folder)\n"
	"  --profile ID            only this profile (default: every profile)\n"
	"  -f, --force             also remove a locally modified copy\n"
	"  --json                  print {undeployed:[id], failed:[{id,error}]}\n";

enum { OPT_ALL = 0x100, OPT_PROFILE, OPT_ALL_PROFILES, OPT_SYMLINK, OPT_FROM_TEAM, OPT_TOKEN };

static bool confirm_cb(void *ctx, const char *question)
{
	return cli_confirm(ctx, "%s", question);
}

static void print_failures(struct cli *cli, const struct sm_ops_deploy_report *rep)
{
	for (size_t i = 0; i < rep->n; i++)
		if (rep->items[i].res.status == SM_DEPLOY_FAILED)
			cli_error(cli, "%s: %s", rep->items[i].id, rep->items[i].res.error);
}

static json_t *failed_json(const struct sm_ops_deploy_report *rep)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < rep->n; i++) {
		const struct sm_ops_deploy_item *it = &rep->items[i];

		if (it->res.status == SM_DEPLOY_FAILED)
			/* spec/CLI.md's shape: the error names the target, so its profile */
			json_array_append_new(a, json_pack("{s:s, s:s}", "id", it->id, "error",
							   it->res.error ? it->res.error : ""));
	}
	return a;
}

/* The first n bytes of s as a string in dst (room for n + 1). */
static char *copy_prefix(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	dst[n] = '\0';
	return dst;
}

/* deploy --from-team: every archive fetched, then one operation stages and deploys them. */
static int deploy_from_team(struct cli *cli, const char *url, const char *token,
			    const struct sm_ops_deploy_req *req, struct sm_ops_deploy_report *rep,
			    struct strbuf *err)
{
	struct strbuf server = STRBUF_INIT;
	struct strbuf *bodies = sm_calloc(req->nids ? req->nids : 1, sizeof(*bodies)),
		      *hashes = sm_calloc(req->nids ? req->nids : 1, sizeof(*hashes));
	struct sm_team_fetched *f = sm_calloc(req->nids ? req->nids : 1, sizeof(*f));
	char (*types)[32] = sm_calloc(req->nids ? req->nids : 1, sizeof(*types));
	struct sm_ops_team_deploy tq = { .fetched = f, .n = req->nids, .deploy = *req };
	struct sm_ops_ctx ctx;
	int r = 0;

	if (!bodies || !hashes || !f || !types) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < req->nids; i++) {
		bodies[i] = (struct strbuf)STRBUF_INIT;
		hashes[i] = (struct strbuf)STRBUF_INIT;
	}
	if (cli_team_server(cli, url, &server) != 0) {
		r = -EIO;
		goto out;
	}
	for (size_t i = 0; i < req->nids; i++) {
		const char *id = req->ids[i], *colon = strchr(id, ':');

		if (!colon || colon == id || (size_t)(colon - id) >= sizeof(types[i]) ||
		    sm_artifact_type_parse(copy_prefix(types[i], id, (size_t)(colon - id))) ==
			    SM_TYPE_INVALID) {
			(void)cli_usage_error(cli, usage_deploy, "'%s': give TYPE:NAME", id);
			r = -EINVAL;
			goto out;
		}
		sm_strbuf_init(&hashes[i], 256);
		if ((r = cli_team_fetch(server.buf, token, id, &bodies[i], &hashes[i], err)) < 0)
			goto out;
		f[i] = (struct sm_team_fetched){ types[i], colon + 1, bodies[i].buf, bodies[i].len,
						 hashes[i].len ? hashes[i].buf : NULL };
	}
	tq.url = server.buf;
	cli_ops_init(cli, &ctx, NULL);
	r = sm_ops_deploy_from_team(&ctx, &tq, rep, err);
	cli_ops_release(cli, &ctx);
out:
	for (size_t i = 0; bodies && hashes && i < req->nids; i++) {
		sm_strbuf_release(&bodies[i]);
		sm_strbuf_release(&hashes[i]);
	}
	sm_free(bodies);
	sm_free(hashes);
	sm_free(f);
	sm_free(types);
	sm_strbuf_release(&server);
	return r;
}

int cmd_deploy(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "collection", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "all-profiles", no_argument, NULL, OPT_ALL_PROFILES },
		{ "overwrite", no_argument, NULL, 'o' },
		{ "symlink", no_argument, NULL, OPT_SYMLINK },
		{ "from-team", required_argument, NULL, OPT_FROM_TEAM },
		{ "token", required_argument, NULL, OPT_TOKEN },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	const char *from_team = NULL, *token = getenv("SKILLMEAT_TEAM_TOKEN");
	struct sm_ops_deploy_req req = { 0 };
	struct sm_ops_deploy_report rep = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *profiles[16];
	struct sm_ops_ctx ctx;
	struct sm_home *home;
	size_t ndeployed = 0, nunchanged = 0;
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":p:c:oh", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_deploy)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_deploy);
		case 'p':
			req.project = optarg;
			break;
		case 'c':
			req.collection = optarg;
			break;
		case OPT_ALL:
			req.all = true;
			break;
		case OPT_PROFILE:
			if (req.nprofiles == SM_ARRAY_SIZE(profiles))
				return cli_usage_error(cli, usage_deploy, "too many --profile");
			profiles[req.nprofiles++] = optarg;
			break;
		case OPT_ALL_PROFILES:
			req.all_profiles = true;
			break;
		case 'o':
			req.opts.overwrite = true;
			break;
		case OPT_SYMLINK:
			req.opts.symlink = true;
			break;
		case OPT_FROM_TEAM:
			from_team = optarg;
			break;
		case OPT_TOKEN:
			token = optarg;
			break;
		}
	}
	if (from_team && (req.all || req.collection || req.opts.symlink))
		return cli_usage_error(cli, usage_deploy,
				       "--from-team takes TYPE:NAME..., not --all, --collection "
				       "or --symlink");
	if (optind == argc && !req.all)
		return cli_usage_error(cli, usage_deploy, "missing NAME (or --all)");
	if (req.all_profiles && req.nprofiles)
		return cli_usage_error(cli, usage_deploy,
				       "give --profile or --all-profiles, not both");
	req.ids = (const char *const *)argv + optind;
	req.nids = (size_t)(argc - optind);
	req.profiles = profiles;
	if (cli->tty_in && !cli->json) {
		req.opts.confirm = confirm_cb;
		req.opts.confirm_ctx = cli;
	}
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	if (from_team) {
		r = deploy_from_team(cli, from_team, token, &req, &rep, &err);
		if (r == -EINVAL && !err.len)
			return EXIT_USAGE;
	} else {
		/* the index opened by the operation, only when a tracking file changed */
		sm_ops_ctx_init(&ctx, home, NULL);
		r = sm_ops_deploy(&ctx, &req, &rep, &err);
		sm_ops_ctx_release(&ctx);
	}
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	for (size_t i = 0; i < rep.n; i++) {
		enum sm_deploy_status s = rep.items[i].res.status;

		ndeployed += s == SM_DEPLOY_DEPLOYED || s == SM_DEPLOY_UPDATED;
		nunchanged += s == SM_DEPLOY_UNCHANGED;
	}
	if (cli->json) {
		json_t *d = json_array(), *u = json_array();

		for (size_t i = 0; i < rep.n; i++) {
			enum sm_deploy_status s = rep.items[i].res.status;

			if (s == SM_DEPLOY_DEPLOYED || s == SM_DEPLOY_UPDATED)
				json_array_append_new(d, json_string(rep.items[i].id));
			else if (s == SM_DEPLOY_UNCHANGED)
				json_array_append_new(u, json_string(rep.items[i].id));
		}
		if (cli_print_json(json_pack("{s:o, s:o, s:o}", "deployed", d, "unchanged", u,
					     "failed", failed_json(&rep))) < 0)
			goto out;
	} else {
		cli_info(cli, "Deployed %zu artifact(s) to %s", ndeployed, rep.project);
		for (size_t i = 0; i < rep.n; i++) {
			enum sm_deploy_status s = rep.items[i].res.status;

			if (s == SM_DEPLOY_DEPLOYED || s == SM_DEPLOY_UPDATED)
				cli_info(cli, "  %s -> %s (%s)", rep.items[i].id,
					 rep.items[i].res.rel_path, rep.items[i].profile_id);
		}
		if (nunchanged)
			cli_info(cli, "%zu artifact(s) already up to date", nunchanged);
	}
	print_failures(cli, &rep);
	if (ndeployed && !from_team) /* from a team: the home is not changed */
		cli_api_refresh_batch(cli);
	rc = rep.failed ? EXIT_FAIL : EXIT_OK;
out:
	sm_ops_deploy_report_release(&rep);
	sm_strbuf_release(&err);
	return rc;
}

int cmd_undeploy(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "force", no_argument, NULL, 'f' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct sm_ops_undeploy_req req = { 0 };
	struct sm_ops_deploy_report rep = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct sm_ops_ctx ctx;
	struct sm_home *home;
	size_t done = 0;
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":p:fh", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_undeploy)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_undeploy);
		case 'p':
			req.project = optarg;
			break;
		case OPT_PROFILE:
			req.profile = optarg;
			break;
		case 'f':
			req.force = true;
			break;
		}
	}
	if (optind == argc)
		return cli_usage_error(cli, usage_undeploy, "missing NAME");
	req.ids = (const char *const *)argv + optind;
	req.nids = (size_t)(argc - optind);
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	sm_ops_ctx_init(&ctx, home, cli_cache(cli));
	r = sm_ops_undeploy(&ctx, &req, &rep, &err);
	sm_ops_ctx_release(&ctx);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (cli->json) {
		json_t *d = json_array();

		for (size_t i = 0; i < rep.n; i++)
			if (rep.items[i].res.status != SM_DEPLOY_FAILED)
				json_array_append_new(d, json_string(rep.items[i].id));
		if (cli_print_json(json_pack("{s:o, s:o}", "undeployed", d, "failed",
					     failed_json(&rep))) < 0)
			goto out;
	} else {
		for (size_t i = 0; i < rep.n; i++)
			if (rep.items[i].res.status != SM_DEPLOY_FAILED) {
				done++;
				cli_info(cli, "Undeployed %s (%s)", rep.items[i].id,
					 rep.items[i].profile_id);
			}
		if (!done && !rep.failed)
			cli_info(cli, "Nothing undeployed");
	}
	print_failures(cli, &rep);
	if (done)
		cli_api_refresh_batch(cli);
	rc = rep.failed ? EXIT_FAIL : EXIT_OK;
out:
	sm_ops_deploy_report_release(&rep);
	sm_strbuf_release(&err);
	return rc;
}
