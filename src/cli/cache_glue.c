/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/home.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

struct sm_cache *cli_cache(struct cli *cli)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_home *home = cli_home(cli);

	if (home && !cli->cache) {
		if (sm_cache_open(home, &cli->cache, &err) < 0)
			cli_error(cli, "cannot open the metadata cache: %s", err.buf);
		else if (cli->cache->in_memory)
			cli_warning(cli, "'%s' is not writable: using an in-memory cache", home->root);
	}
	sm_strbuf_release(&err);
	return cli->cache;
}

static void report(struct cli *cli, const struct sm_sync_stats *st)
{
	for (size_t i = 0; i < st->nmessages; i++)
		cli_warning(cli, "%s", st->messages[i]);
}

int cli_warm_sync(struct cli *cli, const char *name)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_sync_stats st = { 0 };
	struct sm_cache *cache = cli_cache(cli);
	int r;

	if (!cache)
		return -EIO;
	r = sm_cache_sync(cache, name, 0, &st, &err);
	if (r < 0)
		cli_error(cli, "%s", err.buf);
	else
		report(cli, &st);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
	return r;
}

void cli_cache_after_write(struct cli *cli, struct sm_collection *c)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_sync_stats st = { 0 };
	struct sm_cache *cache = cli_cache(cli);

	if (cache && sm_cache_sync_open(cache, c, 0, &st, &err) < 0)
		cli_warning(cli, "the metadata cache was not updated: %s", err.buf);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
}

static json_t *json_array_of(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	if (!json_is_array(j)) {
		json_decref(j);
		j = json_array();
	}
	return j;
}

json_t *cli_row_json(const struct sm_artifact_row *r)
{
	struct strbuf id = STRBUF_INIT;
	json_t *o;

	if (sm_strbuf_addf(&id, "%s:%s", r->type, r->name) < 0)
		return NULL;
	o = json_object();
	if (o) {
		json_object_set_new(o, "id", json_string(id.buf));
		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "type", json_string(r->type));
		json_object_set_new(o, "collection", json_string(r->collection));
		json_object_set_new(o, "path", cli_json_str(r->path));
		json_object_set_new(o, "origin", cli_json_str(r->origin));
		json_object_set_new(o, "title", cli_json_str(r->title));
		json_object_set_new(o, "description", cli_json_str(r->description));
		json_object_set_new(o, "author", cli_json_str(r->author));
		json_object_set_new(o, "license", cli_json_str(r->license));
		json_object_set_new(o, "version", cli_json_str(r->version));
		json_object_set_new(o, "tags", json_array_of(r->tags_json));
		json_object_set_new(o, "tools", json_array_of(r->tools_json));
		json_object_set_new(o, "content_hash", cli_json_str(r->content_hash));
		json_object_set_new(o, "locally_modified",
				    json_boolean(r->content_hash && r->lock_hash &&
						 strcmp(r->content_hash, r->lock_hash)));
		json_object_set_new(o, "upstream", cli_json_str(r->upstream));
		json_object_set_new(o, "version_spec", cli_json_str(r->version_spec));
		json_object_set_new(o, "resolved_sha", cli_json_str(r->resolved_sha));
		json_object_set_new(o, "resolved_version", cli_json_str(r->resolved_version));
		json_object_set_new(o, "added", cli_json_str(r->added));
	}
	sm_strbuf_release(&id);
	return o;
}
