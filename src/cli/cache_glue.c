/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/home.h"
#include "skillmeat/json_escape.h"
#include "skillmeat/ops.h"
#include "skillmeat/row_json.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

void cli_cache_opened(struct cli *cli, struct sm_home *home)
{
	/* a one-shot command answers from memory when the disk fills up */
	cli->cache->memory_fallback = true;
	if (cli->cache->no_space)
		cli_warning(cli, "no space left for the metadata cache of '%s': using an in-memory "
				 "index",
			    home->root);
	else if (cli->cache->in_memory)
		cli_warning(cli, "'%s' is not writable: using an in-memory cache", home->root);
}

struct sm_cache *cli_cache(struct cli *cli)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_home *home = cli_home(cli);

	if (home && !cli->cache) {
		if (sm_cache_open(home, &cli->cache, &err) < 0)
			cli_error(cli, "cannot open the metadata cache: %s", err.buf);
		else
			cli_cache_opened(cli, home);
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
		cli_fail(cli, r, &err);
	else
		report(cli, &st);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
	return r;
}

/* Sync one open collection; announce it to a running server when rows changed. */
static void sync_open(struct cli *cli, struct sm_collection *c, bool announce)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_sync_stats st = { 0 };
	struct sm_cache *cache = cli_cache(cli);
	int r = -EIO;

	if (cache && (r = sm_cache_sync_open(cache, c, 0, &st, &err)) < 0)
		cli_warning(cli, "the metadata cache was not updated: %s", err.buf);
	/*
	 * Tell a running server (formats §7: collection "default"), when the
	 * cache changed or could not be brought up to date.
	 */
	if (announce && (r < 0 || st.created || st.updated || st.removed))
		cli_api_refresh(cli, "default");
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
}

static void ops_warning(void *ud, const char *msg)
{
	cli_warning(ud, "%s", msg);
}

void cli_ops_init(struct cli *cli, struct sm_ops_ctx *ctx, struct sm_cache *cache)
{
	sm_ops_ctx_init(ctx, cli->home, cache);
	ctx->warn = ops_warning;
	ctx->warn_ud = cli;
}

void cli_ops_release(struct cli *cli, struct sm_ops_ctx *ctx)
{
	struct sm_truth *t = &ctx->truth;

	/* an index the operation opened becomes the CLI's */
	if (t->own_cache && t->cache && !cli->cache) {
		cli->cache = t->cache;
		t->own_cache = false;
		cli_cache_opened(cli, cli->home);
	}
	sm_ops_ctx_release(ctx);
}

int cli_config_set(struct cli *cli, const char *key, const char *value, struct strbuf *err)
{
	struct sm_ops_ctx ctx;
	int r;

	cli_ops_init(cli, &ctx, cli->cache);
	r = sm_ops_config_set(&ctx, key, value, err);
	cli_ops_release(cli, &ctx);
	return r;
}

int cli_collection_init(struct cli *cli, const char *name, bool *created, struct strbuf *err)
{
	struct sm_ops_ctx ctx;
	int r;

	cli_ops_init(cli, &ctx, cli->cache);
	r = sm_ops_collection_init(&ctx, name, created, err);
	cli_ops_release(cli, &ctx);
	return r;
}

int cli_collection_delete(struct cli *cli, const char *name, struct strbuf *err)
{
	struct sm_ops_ctx ctx;
	int r;

	cli_ops_init(cli, &ctx, cli->cache);
	r = sm_ops_collection_delete(&ctx, name, err);
	cli_ops_release(cli, &ctx);
	return r;
}

void cli_announce(struct cli *cli, bool changed)
{
	/* formats §7: collection "default" */
	if (changed)
		cli_api_refresh(cli, "default");
}

void cli_cache_after_write(struct cli *cli, struct sm_collection *c)
{
	sync_open(cli, c, true);
}

void cli_warm_sync_open(struct cli *cli, struct sm_collection *c)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_sync_stats st = { 0 };
	struct sm_cache *cache = cli_cache(cli);

	/*
	 * By name: the warm fast path (an unchanged manifest and unchanged
	 * files cost a stat each; nothing is hashed or parsed again) that a
	 * sync of the open collection would skip.
	 */
	if (cache && sm_cache_sync(cache, c->name, 0, &st, &err) < 0)
		cli_warning(cli, "the metadata cache was not updated: %s", err.buf);
	else
		report(cli, &st);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
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
		json_object_set_new(o, "tags", sm_json_array_text(r->tags_json));
		json_object_set_new(o, "tools", sm_json_array_text(r->tools_json));
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

/* A cached JSON array column, or [] (the store keeps them valid). */
static int json_raw_array(struct strbuf *sb, const char *text)
{
	if (!text || text[0] != '[')
		return sm_strbuf_add(sb, "[]", 2);
	return sm_strbuf_addstr(sb, text);
}

/*
 * The `list --json` array written directly (no JSON tree): one object per
 * line, the keys of cli_row_json in the same order. 10,000 rows would
 * otherwise spend more time in building and freeing a tree than in the query.
 */
int cli_print_rows_json(const struct sm_artifact_row *rows, size_t n)
{
	struct strbuf sb;
	int r = 0;

	sm_strbuf_init(&sb, (size_t)1 << 31);
	if ((r = sm_strbuf_addch(&sb, '[')) < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct sm_artifact_row *w = &rows[i];
		bool modified = w->content_hash && w->lock_hash && strcmp(w->content_hash, w->lock_hash);

		if ((r = sm_strbuf_addstr(&sb, i ? ",\n  {\"id\": " : "\n  {\"id\": ")) < 0 ||
		    (r = sm_strbuf_addch(&sb, '"')) < 0)
			break;
		/* type:name, escaped as one string */
		{
			struct strbuf id = STRBUF_INIT;

			r = sm_strbuf_addf(&id, "%s:%s", w->type, w->name);
			if (r == 0) {
				sm_strbuf_setlen(&sb, sb.len - 1);
				r = sm_strbuf_add_json(&sb, id.buf);
			}
			sm_strbuf_release(&id);
		}
#define KEY(k, v) (r == 0 && (r = sm_strbuf_addstr(&sb, ", \"" k "\": ")) == 0 && (r = (v)) == 0)
#define STR(k, v) KEY(k, sm_strbuf_add_json(&sb, v))
		if (STR("name", w->name) && STR("type", w->type) &&
		    STR("collection", w->collection) && STR("path", w->path) &&
		    STR("origin", w->origin) && STR("title", w->title) &&
		    STR("description", w->description) && STR("author", w->author) &&
		    STR("license", w->license) && STR("version", w->version) &&
		    KEY("tags", json_raw_array(&sb, w->tags_json)) &&
		    KEY("tools", json_raw_array(&sb, w->tools_json)) &&
		    STR("content_hash", w->content_hash) &&
		    KEY("locally_modified", sm_strbuf_addstr(&sb, modified ? "true" : "false")) &&
		    STR("upstream", w->upstream) && STR("version_spec", w->version_spec) &&
		    STR("resolved_sha", w->resolved_sha) &&
		    STR("resolved_version", w->resolved_version) && STR("added", w->added))
			r = sm_strbuf_addch(&sb, '}');
#undef STR
#undef KEY
	}
	if (r == 0)
		r = sm_strbuf_addstr(&sb, n ? "\n]\n" : "]\n");
	if (r == 0 && fwrite(sb.buf, 1, sb.len, stdout) != sb.len)
		r = -EIO;
	sm_strbuf_release(&sb);
	return r;
}
