/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
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

/*
 * Load user-collections.toml and drop the members naming the artifact (in
 * memory). Without a cache the memberships are left (a warning): they dangle
 * harmlessly until removed by hand.
 */
static int drop_memberships(struct cli *cli, struct sm_collection *c, enum sm_artifact_type type,
			    const char *name, struct sm_user_collections **uc, int *dropped)
{
	struct strbuf err = STRBUF_INIT, key = STRBUF_INIT;
	struct sm_artifact_row row = { 0 };
	struct sm_cache *cache;
	int r;

	*dropped = 0;
	r = sm_user_collections_load(cli->home->root, uc, &err);
	if (r < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	if (!(*uc)->n)
		goto out;
	cache = cli_cache(cli);
	if (!cache) {
		cli_warning(cli, "no metadata cache: user collections still name '%s'", name);
		goto out;
	}
	cli_warm_sync_open(cli, c); /* the row of this artifact, up to date */
	r = sm_store_get_artifact_by_key(cache->store, c->name, sm_artifact_type_name(type), name,
					 &row, &err);
	if (r == 0)
		r = sm_cache_artifact_key(cache, &row, &key, &err);
	if (r == 0)
		r = sm_cache_drop_members(cache, *uc, row.uuid, key.buf, &err);
	if (r < 0) {
		cli_error(cli, "cannot update the user collections: %s", err.buf);
		goto out;
	}
	*dropped = r;
	r = 0;
out:
	sm_artifact_row_release(&row);
	sm_strbuf_release(&err);
	sm_strbuf_release(&key);
	return r;
}

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
	char cbuf[256];
	char *name = NULL;
	struct sm_user_collections *uc = NULL;
	int dropped = 0;
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
	/* collection/type:name names its collection, active or not */
	coll = cli_id_collection(coll, id, cbuf, sizeof(cbuf));
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
	/* its memberships go with it (user-collections.toml is written after the manifest) */
	if (drop_memberships(cli, c, type, name, &uc, &dropped) < 0)
		goto out;
	if (sm_collection_remove(c, (size_t)idx, keep, &err) < 0 ||
	    sm_collection_commit(c, &err) < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	if (dropped > 0 && sm_user_collections_save(uc, &err) < 0)
		cli_warning(cli, "removed, but user-collections.toml still names it: %s", err.buf);
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
	sm_user_collections_free(uc);
	sm_collection_free(c);
	sm_strbuf_release(&err);
	return rc;
}
