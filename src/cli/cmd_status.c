/* SPDX-License-Identifier: MIT */
/* status and sync-check: the state of a project's deployments. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "skillmeat/deploy.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops_deploy.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

static const char usage_status[] = "skillmeat status [--project DIR] [--profile ID] [--json]";
static const char help_status[] =
	"usage: skillmeat status [options]\n"
	"\n"
	"The state of every deployment of a project, for every artifact type:\n"
	"  synced    the deployed copy and the collection copy match the record\n"
	"  modified  the deployed copy was changed in the project\n"
	"  outdated  the collection copy changed since the deploy\n"
	"  conflict  both changed\n"
	"  missing   the deployed copy is gone\n"
	"  removed   the artifact is no longer in its collection\n"
	"\n"
	"  -p, --project DIR       the project (default: the current folder)\n"
	"  --profile ID            only this profile\n"
	"  --json                  print {project, deployments:[...], counts:{...}}\n";

static const char usage_check[] = "skillmeat sync-check [PROJECT] [-c NAME] [--json]";
static const char help_check[] =
	"usage: skillmeat sync-check [PROJECT] [options]\n"
	"\n"
	"Drift between a project's deployments and the collection: modified (push to\n"
	"the collection), outdated (pull from the collection), conflict (review), removed\n"
	"(no longer in the collection). Artifacts never deployed to the project are not\n"
	"drift. Exit 0 when there is no drift, 1 when there is.\n"
	"\n"
	"  -c, --collection NAME   only deployments from this collection\n"
	"  --format json|table     as --json / the default\n"
	"  --json                  {drift_detected, drift_count, artifacts:[...]}\n";

enum { OPT_PROFILE = 0x100, OPT_FORMAT };

static const enum sm_dep_state order[] = { SM_DEP_MODIFIED, SM_DEP_OUTDATED, SM_DEP_CONFLICT,
					   SM_DEP_MISSING,  SM_DEP_REMOVED,  SM_DEP_ERROR,
					   SM_DEP_SYNCED };

static json_t *hash_or_null(const char *h)
{
	return h && *h ? json_string(h) : json_null();
}

static json_t *status_json(const struct sm_dep_status *s)
{
	json_t *o = json_object();
	char id[256];

	snprintf(id, sizeof(id), "%s:%s", sm_artifact_type_name(s->type), s->name);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "type", json_string(sm_artifact_type_name(s->type)));
	json_object_set_new(o, "collection", json_string(s->collection));
	json_object_set_new(o, "profile_id", json_string(s->profile_id));
	json_object_set_new(o, "profile_root_dir", json_string(s->root));
	json_object_set_new(o, "artifact_path", json_string(s->rel_path));
	json_object_set_new(o, "deployed_at", json_string(s->deployed_at));
	json_object_set_new(o, "status", json_string(sm_dep_state_name(s->state)));
	json_object_set_new(o, "symlink", json_boolean(s->symlink));
	json_object_set_new(o, "baseline", hash_or_null(s->baseline));
	json_object_set_new(o, "project_hash", hash_or_null(s->project_hash));
	json_object_set_new(o, "collection_hash", hash_or_null(s->collection_hash));
	json_object_set_new(o, "error", s->error ? json_string(s->error) : json_null());
	return o;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "collection", required_argument, NULL, 'c' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct sm_dep_status_list l = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *project = NULL, *profile = NULL;
	char *path = NULL;
	struct sm_home *home;
	size_t counts[SM_DEP_ERROR + 1] = { 0 };
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":p:c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_status)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_status);
		case 'p':
			project = optarg;
			break;
		case OPT_PROFILE:
			profile = optarg;
			break;
		case 'c':
			break; /* accepted as the original; every record names its collection */
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, usage_status, "unexpected argument '%s'", argv[optind]);
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	if ((r = sm_ops_project_path(project, &path, &err)) < 0 ||
	    (r = sm_deploy_status(home, path, profile, &l, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	cli_team_status(cli, &l);
	for (size_t i = 0; i < l.len; i++)
		counts[l.items[i].state]++;
	if (cli->json) {
		json_t *a = json_array(), *c = json_object();

		for (size_t i = 0; i < l.len; i++)
			json_array_append_new(a, status_json(&l.items[i]));
		for (size_t k = 0; k < SM_ARRAY_SIZE(order); k++)
			json_object_set_new(c, sm_dep_state_name(order[k]),
					    json_integer((json_int_t)counts[order[k]]));
		if (cli_print_json(json_pack("{s:s, s:o, s:o}", "project", path, "deployments", a,
					     "counts", c)) < 0)
			goto out;
	} else if (!l.len) {
		cli_info(cli, "No deployments in %s", path);
	} else {
		cli_info(cli, "%s%s%s: %zu deployment(s)", cli_c(cli, C_BOLD), path,
			 cli_c(cli, C_RESET), l.len);
		for (size_t k = 0; k < SM_ARRAY_SIZE(order); k++) {
			enum sm_dep_state st = order[k];

			if (!counts[st])
				continue;
			cli_info(cli, "%s (%zu):", sm_dep_state_name(st), counts[st]);
			for (size_t i = 0; i < l.len; i++) {
				const struct sm_dep_status *s = &l.items[i];

				if (s->state != st)
					continue;
				if (st == SM_DEP_SYNCED && counts[st] > 20 && !cli->tty_out)
					continue; /* the summary line says it all */
				cli_info(cli, "  %s::%s::%s%s%s", s->name,
					 sm_artifact_type_name(s->type), s->profile_id,
					 s->error ? "  " : "", s->error ? s->error : "");
			}
		}
	}
	rc = EXIT_OK;
out:
	sm_dep_status_list_release(&l);
	sm_free(path);
	sm_strbuf_release(&err);
	return rc;
}

/* deployed_at is local naive time: reported as UTC with a real Z (formats S10). */
static json_t *last_deployed(const char *local)
{
	struct tm tm = { 0 };
	char out[SM_ISO_MAX + 1];
	const char *frac;
	time_t t;

	if (!local || !strptime(local, "%Y-%m-%dT%H:%M:%S", &tm))
		return local ? json_string(local) : json_null();
	tm.tm_isdst = -1;
	t = mktime(&tm);
	frac = strchr(local, '.');
	if (t == (time_t)-1 || sm_time_iso(t, frac ? strtol(frac + 1, NULL, 10) : 0, 1, out) < 0)
		return json_string(local);
	return json_sprintf("%sZ", out);
}

int cmd_sync_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collection", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct sm_dep_status_list l = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *coll = NULL;
	char *path = NULL;
	struct sm_home *home;
	json_t *arts = NULL;
	size_t drift = 0;
	int ch, g, rc = EXIT_FAIL;
	int r;

	while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_check)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_check);
		case 'c':
			coll = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json"))
				cli->json = true;
			else if (strcmp(optarg, "table"))
				return cli_usage_error(cli, usage_check, "--format json|table");
			break;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, usage_check, "give one PROJECT");
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	if ((r = sm_ops_project_path(optind < argc ? argv[optind] : NULL, &path, &err)) < 0 ||
	    (r = sm_deploy_status(home, path, NULL, &l, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	cli_team_status(cli, &l);
	arts = json_array();
	for (size_t i = 0; i < l.len; i++) {
		const struct sm_dep_status *s = &l.items[i];
		const char *dt, *rec;

		if (coll && strcmp(s->collection, coll))
			continue;
		switch (s->state) {
		case SM_DEP_MODIFIED:
			dt = "modified", rec = "push_to_collection";
			break;
		case SM_DEP_OUTDATED:
			dt = "outdated", rec = "pull_from_collection";
			break;
		case SM_DEP_CONFLICT:
			dt = "conflict", rec = "review_manually";
			break;
		case SM_DEP_REMOVED:
			dt = "removed", rec = "remove_from_project";
			break;
		default:
			continue; /* synced, missing (as the original), unreadable */
		}
		drift++;
		json_array_append_new(
			arts,
			json_pack("{s:s, s:s, s:s, s:o, s:o, s:n, s:n, s:o, s:s}", "name", s->name,
				  "type", sm_artifact_type_name(s->type), "drift_type", dt,
				  "collection_sha", hash_or_null(s->collection_hash), "project_sha",
				  hash_or_null(s->project_hash), "collection_version",
				  "project_version", "last_deployed", last_deployed(s->deployed_at),
				  "recommendation", rec));
	}
	if (cli->json) {
		if (cli_print_json(json_pack("{s:b, s:I, s:O}", "drift_detected", drift > 0,
					     "drift_count", (json_int_t)drift, "artifacts",
					     arts)) < 0)
			goto out;
	} else if (!drift) {
		cli_info(cli, "No drift in %s (%zu deployment(s))", path, l.len);
	} else {
		cli_info(cli, "Drift in %s: %zu artifact(s)", path, drift);
		for (size_t i = 0; i < json_array_size(arts); i++) {
			json_t *a = json_array_get(arts, i);

			cli_info(cli, "  %-10s %s:%s  (%s)",
				 json_string_value(json_object_get(a, "drift_type")),
				 json_string_value(json_object_get(a, "type")),
				 json_string_value(json_object_get(a, "name")),
				 json_string_value(json_object_get(a, "recommendation")));
		}
	}
	rc = drift ? EXIT_FAIL : EXIT_OK;
out:
	json_decref(arts);
	sm_dep_status_list_release(&l);
	sm_free(path);
	sm_strbuf_release(&err);
	return rc;
}
