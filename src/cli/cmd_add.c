/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/collection.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/source.h"
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

/* Open (creating 'default' on a home with no collection) under the home lock. */
static int open_collection(struct cli *cli, struct sm_home *home, const char *name,
			   struct sm_collection **ret)
{
	struct strbuf err = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	bool created;
	int r;

	if (!name && sm_collection_names(home, &names, &n, &err) == 0 && n == 0) {
		r = sm_collection_init(home, "default", &created, &err);
		if (r < 0)
			goto out;
		if (created && !cli->json)
			cli_info(cli, "Created collection 'default'");
		if (strcmp(sm_home_active_collection(home), "default")) {
			r = sm_config_set(home, "settings.default-collection", "default", &err);
			if (r < 0)
				goto out;
		}
	}
	r = sm_collection_open(home, name, ret, &err);
out:
	if (r < 0)
		cli_fail(cli, r, &err);
	sm_strv_free(names, n);
	sm_strbuf_release(&err);
	return r;
}

static int add_one(struct cli *cli, struct sm_home *home, struct add_args *a, const char *spec)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_collection *c = NULL;
	struct sm_add_result res = { 0 };
	int r, rc = EXIT_FAIL;

	r = sm_home_lock(home, &err);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (open_collection(cli, home, a->collection, &c) < 0)
		goto out;
	if (sm_source_is_github(spec) && !sm_fs_exists(spec))
		r = sm_collection_add_github(c, spec, &a->opts, &res, &err);
	else
		r = sm_collection_add_local(c, spec, &a->opts, &res, &err);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	r = sm_collection_commit(c, &err);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	cli_cache_after_write(cli, c);
	if (res.warning)
		cli_warning(cli, "%s", res.warning);
	if (cli->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "status",
					 "success", "command", "add", "result",
					 res.status == SM_ADD_UNCHANGED ? "unchanged"
					 : res.status == SM_ADD_REPLACED ? "replaced"
									 : "added",
					 "artifact", "name", res.name, "type",
					 sm_artifact_type_name(res.type), "collection", c->name,
					 "path", res.path, "content_hash", res.hash));
	} else if (res.status == SM_ADD_UNCHANGED) {
		cli_info(cli, "Unchanged %s: %s", sm_artifact_type_name(res.type), res.name);
	} else {
		cli_info(cli, "%s%s %s: %s%s", cli_c(cli, C_GREEN),
			 res.status == SM_ADD_REPLACED ? "Replaced" : "Added",
			 sm_artifact_type_name(res.type), res.name, cli_c(cli, C_RESET));
	}
	rc = EXIT_OK;
out:
	sm_home_unlock(home);
	sm_add_result_release(&res);
	sm_collection_free(c);
	sm_strbuf_release(&err);
	return rc;
}

struct seen {
	char *name;
	char *rel;
};

/*
 * A clash is a name seen before in this run, whatever its type: that is the
 * rule SkillMeat's own import of the corpus followed (fixtures/: the agent
 * implement.md became implement-ship-mate after the command implement.md),
 * and it keeps names unique for lookups by name.
 */
static const char *seen_find(struct sm_hashmap *map, const char *name)
{
	void *v;

	return sm_hashmap_get(map, name, strlen(name), &v) ? v : NULL;
}

static int add_all(struct cli *cli, struct sm_home *home, struct add_args *a)
{
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT;
	struct sm_collection *c = NULL;
	struct sm_found *found = NULL;
	struct seen *seen = NULL;
	struct sm_hashmap *seen_map = NULL;
	struct cli_progress prog;
	size_t nfound = 0, nseen = 0, added = 0, unchanged = 0, replaced = 0;
	json_t *skipped = json_array(), *failed = json_array();
	int rc = EXIT_FAIL, r;

	if (!skipped || !failed) {
		cli_error(cli, "out of memory");
		goto out;
	}
	r = sm_scan_folder(a->all, &found, &nfound, &err);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	seen = sm_calloc(nfound ? nfound : 1, sizeof(*seen));
	if (!seen || sm_hashmap_new(&seen_map) < 0) {
		cli_error(cli, "out of memory");
		goto out;
	}
	r = sm_home_lock(home, &err);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (open_collection(cli, home, a->collection, &c) < 0)
		goto out;
	cli_progress_start(cli, &prog, "Adding", nfound);
	for (size_t i = 0; i < nfound; i++) {
		const struct sm_found *f = &found[i];
		const char *kept;
		struct sm_add_opts o = a->opts;
		struct sm_add_result res = { 0 };

		cli_progress_update(&prog, i, f->rel);
		sm_strbuf_reset(&name);
		if (sm_strbuf_addstr(&name, f->name) < 0)
			goto oom;
		kept = seen_find(seen_map, name.buf);
		if (kept && a->rename && f->holder) {
			if (sm_strbuf_addf(&name, "-%s", f->holder) < 0)
				goto oom;
			kept = seen_find(seen_map, name.buf);
		}
		if (kept) {
			json_array_append_new(skipped,
					      json_pack("{s:s, s:s, s:s, s:s}", "name", name.buf,
							"type", sm_artifact_type_name(f->type),
							"path", f->rel, "kept", kept));
			continue;
		}
		seen[nseen].name = sm_strdup(name.buf);
		seen[nseen].rel = sm_strdup(f->rel);
		if (!seen[nseen].name || !seen[nseen].rel)
			goto oom;
		if (sm_hashmap_put(seen_map, seen[nseen].name, strlen(seen[nseen].name),
				   seen[nseen].rel, NULL) < 0) {
			nseen++;
			goto oom;
		}
		nseen++;
		o.type = f->type;
		o.name = name.buf;
		r = sm_collection_add_local(c, f->path, &o, &res, &err);
		if (r == -EEXIST) {
			/* in the collection already, with other content: not ours to overwrite */
			long idx = sm_manifest_find(c->manifest, f->type, name.buf);
			const char *p = idx >= 0 ? sm_entry_str(sm_manifest_at(c->manifest,
									       (size_t)idx),
								"path")
						 : "";

			json_array_append_new(skipped,
					      json_pack("{s:s, s:s, s:s, s:s}", "name", name.buf,
							"type", sm_artifact_type_name(f->type),
							"path", f->rel, "kept", p));
		} else if (r == -ENOMEM) {
			goto oom;
		} else if (r < 0) {
			json_array_append_new(failed, json_pack("{s:s, s:s}", "path", f->rel,
								"error", err.buf));
		} else {
			if (res.status == SM_ADD_UNCHANGED)
				unchanged++;
			else if (res.status == SM_ADD_REPLACED)
				replaced++;
			else
				added++;
			if (res.warning && !cli->json) {
				cli_progress_end(&prog);
				cli_warning(cli, "%s", res.warning);
			}
		}
		sm_add_result_release(&res);
	}
	cli_progress_end(&prog);
	r = sm_collection_commit(c, &err);
	if (r < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	cli_cache_after_write(cli, c);
	if (cli->json) {
		cli_print_json(json_pack("{s:I, s:I, s:I, s:O, s:O}", "added", (json_int_t)added,
					 "replaced", (json_int_t)replaced, "unchanged",
					 (json_int_t)unchanged, "skipped", skipped, "failed",
					 failed));
	} else {
		size_t ns = json_array_size(skipped), nf = json_array_size(failed), k;
		json_t *it;

		json_array_foreach(skipped, k, it)
			cli_warning(cli, "skipped %s '%s' (%s): same type and name as '%s'",
				    json_string_value(json_object_get(it, "type")),
				    json_string_value(json_object_get(it, "name")),
				    json_string_value(json_object_get(it, "path")),
				    json_string_value(json_object_get(it, "kept")));
		json_array_foreach(failed, k, it)
			cli_error(cli, "%s: %s", json_string_value(json_object_get(it, "path")),
				  json_string_value(json_object_get(it, "error")));
		cli_info(cli, "%sAdded %zu, replaced %zu, unchanged %zu, skipped %zu, failed %zu%s",
			 cli_c(cli, C_BOLD), added, replaced, unchanged, ns, nf,
			 cli_c(cli, C_RESET));
	}
	rc = json_array_size(failed) ? EXIT_FAIL : EXIT_OK;
	goto out;
oom:
	cli_progress_end(&prog);
	cli_error(cli, "out of memory");
out:
	sm_home_unlock(home);
	for (size_t i = 0; i < nseen; i++) {
		sm_free(seen[i].name);
		sm_free(seen[i].rel);
	}
	sm_free(seen);
	sm_hashmap_free(seen_map);
	sm_found_free(found, nfound);
	sm_collection_free(c);
	json_decref(skipped);
	json_decref(failed);
	sm_strbuf_release(&err);
	sm_strbuf_release(&name);
	return rc;
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
	struct sm_home *home;
	const char *spec = NULL;
	int c, g, rc;

	while ((c = getopt_long(argc, argv, "n:c:t:fh", opts, NULL)) != -1) {
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
	if (a.opts.name && sm_artifact_name_check(a.opts.name, &err) < 0) {
		rc = cli_error(cli, "%s", err.buf);
		goto out;
	}
	if (a.collection && sm_collection_name_check(a.collection, &err) < 0) {
		rc = cli_error(cli, "%s", err.buf);
		goto out;
	}
	rc = EXIT_FAIL;
	home = cli_home(cli);
	if (!home)
		goto out;
	rc = a.all ? add_all(cli, home, &a) : add_one(cli, home, &a, spec);
out:
	sm_strv_free(a.tags, a.ntags);
	sm_strbuf_release(&err);
	return rc;
}
