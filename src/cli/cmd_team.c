/* SPDX-License-Identifier: MIT */
/* skillmeat team: the team store on PostgreSQL (spec/CLI.md, docs/team.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/http_post.h"
#include "skillmeat/archive.h"
#include "skillmeat/base64.h"
#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/array.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/ops_team.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static const char usage_team[] =
    "skillmeat team migrate [--store URL] [--to N] | "
    "team push|pull TYPE:NAME... --server URL [--token T] [--collection NAME] [--force]";
static const char help_team[] =
    "usage: skillmeat team migrate [--store URL] [--to N]\n"
    "       skillmeat team push TYPE:NAME... --server URL [--token T] [--force]\n"
    "       skillmeat team pull TYPE:NAME... --server URL [--token T] [--force]\n"
    "\n"
    "The team store: a PostgreSQL database that `serve --store postgresql://…`\n"
    "serves to several instances (docs/team.md).\n"
    "\n"
    "  migrate          schema migrations of the team store, under pg_advisory_lock:\n"
    "                   --to N goes up or down to version N (default: the latest)\n"
    "  push             upload artifacts of the personal home (files and their content\n"
    "                   hash, which the server checks) to the team server\n"
    "  pull             download artifacts of the team server into the personal home as\n"
    "                   local, hash-locked artifacts (archive and hash checked first)\n"
    "  --store URL      the database (postgresql://…); default: config server.store\n"
    "  --server URL     the team server (http:// or https://)\n"
    "  --token T        its API token (default: SKILLMEAT_TEAM_TOKEN)\n"
    "  -c, --collection NAME  the personal collection (default: the active one)\n"
    "  --force          replace an artifact of that type and name on the other side\n"
    "  --json           machine-readable output: {pushed|pulled:[{id, content_hash,\n"
    "                   status}], failed:[{id, error}]}\n";

enum { OPT_STORE = 0x100, OPT_TO, OPT_SERVER, OPT_TOKEN, OPT_FORCE };

#define TEAM_TIMEOUT_MS 120000L
#define ANSWER_MAX ((size_t)4 << 20)

/* The server's message of an error answer ({"detail": …}), else the status. */
static void answer_error(const struct sm_http_answer *a, struct strbuf *out)
{
	json_t *j = json_loadb(a->body->buf, a->body->len, 0, NULL);
	json_t *d = json_object_get(j, "detail");
	const char *m = json_string_value(d);

	if (!m && json_is_object(d))
		m = json_string_value(json_object_get(d, "message"));
	if ((m ? sm_strbuf_addf(out, "the server answered %ld: %s", a->status, m)
	       : sm_strbuf_addf(out, "the server answered %ld", a->status)) < 0)
		sm_strbuf_reset(out);
	json_decref(j);
}

/* Run call; 0 with an answer, else a negative errno and a one-line message in err. */
static int call_server(const struct sm_http_call *call, struct sm_http_answer *a,
		       struct strbuf *err)
{
	int r = cli_http_request(call, a);

	if (r == -E2BIG)
		return sm_err(err, r, "%s %s: the answer is larger than %zu bytes (refused)",
			      call->method, call->url, a->body->cap);
	if (r < 0)
		return sm_err(err, r, "%s %s: %s", call->method, call->url,
			      a->error[0] ? a->error : sm_strerror(r));
	return 0;
}

/*
 * GET /api/v1/artifacts/{id} of the team server: 1 with *ret (a JSON object,
 * the caller's), 0 when the server has no such artifact and missing_ok, else
 * a negative errno and a one-line message in err.
 */
static int team_artifact(const char *server, const char *token, const char *id, bool missing_ok,
			 json_t **ret, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, ans = STRBUF_INIT, e = STRBUF_INIT;
	struct sm_http_call call = {.method = "GET", .token = token, .timeout_ms = TEAM_TIMEOUT_MS};
	struct sm_http_answer a = {.body = &ans};
	json_t *got = NULL;
	int r;

	*ret = NULL;
	sm_strbuf_init(&ans, ANSWER_MAX);
	if ((r = sm_strbuf_addf(&url, "%s/api/v1/artifacts/", server)) < 0 ||
	    (r = cli_url_escape(&url, id)) < 0) {
		r = sm_err(err, r, "%s", sm_strerror(r));
		goto out;
	}
	call.url = url.buf;
	if ((r = call_server(&call, &a, err)) < 0)
		goto out;
	if (a.status == 404 && missing_ok) {
		r = 0;
		goto out;
	}
	if (a.status != 200) {
		answer_error(&a, &e);
		r = sm_err(err, a.status == 404 ? -ENOENT : -EIO, "%s: %s", id, e.buf);
		goto out;
	}
	/* not an object: no fields (the hash check and the archive's checks refuse what matters) */
	got = json_loadb(ans.buf, ans.len, 0, NULL);
	if (!json_is_object(got)) {
		json_decref(got);
		if (!(got = json_object())) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	*ret = got;
	got = NULL;
	r = 1;
out:
	json_decref(got);
	sm_strbuf_release(&url);
	sm_strbuf_release(&ans);
	sm_strbuf_release(&e);
	return r;
}

/* The team's content hash of id: 1 with hash, 0 when the server has no such artifact. */
static int team_hash(const char *server, const char *token, const char *id,
		     char hash[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	json_t *got = NULL;
	const char *h;
	int r = team_artifact(server, token, id, true, &got, err);

	if (r <= 0)
		return r;
	h = json_string_value(json_object_get(got, "content_hash"));
	if (!h || strlen(h) != SM_SHA256_HEX_LEN || strspn(h, "0123456789abcdef") != strlen(h)) {
		r = sm_err(err, -EBADMSG, "%s: the answer has no content hash", id);
	} else {
		memcpy(hash, h, SM_SHA256_HEX_LEN + 1);
		r = 1;
	}
	json_decref(got);
	return r;
}

void cli_team_status(struct cli *cli, struct sm_dep_status_list *l)
{
	const size_t plen = strlen(SM_DEPLOY_TEAM_PREFIX);
	const char *token = getenv("SKILLMEAT_TEAM_TOKEN");
	struct strbuf id = STRBUF_INIT, err = STRBUF_INIT, failed = STRBUF_INIT;

	for (size_t i = 0; i < l->len; i++) {
		struct sm_dep_status *s = &l->items[i];
		const char *server = s->collection + plen;
		char hash[SM_SHA256_HEX_LEN + 1];
		int r;

		if (strncmp(s->collection, SM_DEPLOY_TEAM_PREFIX, plen) ||
		    s->state == SM_DEP_MISSING || s->state == SM_DEP_ERROR)
			continue;
		/* a server that failed once is not asked again in this run ("\n"-framed) */
		sm_strbuf_reset(&id);
		if (sm_strbuf_addf(&id, "\n%s\n", server) < 0)
			break;
		if (failed.len && strstr(failed.buf, id.buf))
			continue;
		sm_strbuf_reset(&id);
		sm_strbuf_reset(&err);
		if (sm_strbuf_addf(&id, "%s:%s", sm_artifact_type_name(s->type), s->name) < 0)
			break;
		r = team_hash(server, token, id.buf, hash, &err);
		if (r < 0) {
			cli_warning(cli, "cannot ask the team server '%s' (%s): the state of its "
					 "deployments is from their baseline", server, err.buf);
			if (sm_strbuf_addf(&failed, "\n%s\n", server) < 0)
				break;
			continue;
		}
		sm_dep_status_set_collection_hash(s, r ? hash : NULL);
	}
	sm_strbuf_release(&id);
	sm_strbuf_release(&err);
	sm_strbuf_release(&failed);
}

int cli_team_fetch(const char *server, const char *token, const char *id, struct strbuf *body,
		   struct strbuf *hash, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, e = STRBUF_INIT;
	struct sm_http_call call = {.method = "GET", .token = token,
				    .timeout_ms = TEAM_TIMEOUT_MS, .want_header = "X-Content-Hash"};
	struct sm_http_answer a = {.body = body, .header = hash};
	int r;

	sm_strbuf_init(body, SM_TEAM_MAX_BYTES + ((size_t)1 << 20));
	if ((r = sm_strbuf_addf(&url, "%s/api/v1/artifacts/", server)) < 0 ||
	    (r = cli_url_escape(&url, id)) < 0 || (r = sm_strbuf_addstr(&url, "/archive")) < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	call.url = url.buf;
	if ((r = call_server(&call, &a, err)) < 0)
		goto out;
	if (a.status != 200) {
		answer_error(&a, &e);
		r = sm_err(err, a.status == 404 ? -ENOENT : a.status == 401 ? -EACCES : -EIO,
			   "%s: %s", id, e.buf);
	}
out:
	sm_strbuf_release(&url);
	sm_strbuf_release(&e);
	return r;
}

int cli_team_server(struct cli *cli, const char *server, struct strbuf *out)
{
	if (!server)
		return cli_error(cli, "no team server: give --server URL");
	if (strncmp(server, "http://", 7) && strncmp(server, "https://", 8))
		return cli_error(cli, "'%s' is not an http:// or https:// URL", server);
	if (sm_strbuf_addstr(out, server) < 0)
		return cli_error(cli, "out of memory");
	while (out->len && out->buf[out->len - 1] == '/')
		sm_strbuf_setlen(out, out->len - 1);
	return 0;
}

/* TYPE:NAME with a known type and a valid name; else a usage error printed. */
static int split_id(struct cli *cli, const char *id, char *type, size_t tsize, const char **name)
{
	const char *colon = strchr(id, ':');
	size_t n = colon ? (size_t)(colon - id) : 0;

	if (!colon || n == 0 || n >= tsize)
		return cli_usage_error(cli, usage_team, "'%s': give TYPE:NAME", id);
	memcpy(type, id, n);
	type[n] = 0;
	if (sm_artifact_type_parse(type) == SM_TYPE_INVALID)
		return cli_usage_error(cli, usage_team, "'%s': unknown type '%s'", id, type);
	*name = colon + 1;
	if (sm_artifact_name_check(*name, NULL) < 0)
		return cli_usage_error(cli, usage_team, "'%s': invalid name", id);
	return 0;
}

struct team_args {
	const char *server, *token, *collection;
	bool force;
	char **ids;
	size_t nids;
};

static int push_metadata(json_t *j, const struct sm_team_local *l)
{
	static const char *const keys[] = SM_TEAM_META_KEYS;
	json_t *meta = json_object(), *tags = json_array();
	int r = meta && tags ? 0 : -ENOMEM;

	for (size_t k = 0; r == 0 && k < SM_ARRAY_SIZE(keys); k++)
		if (l->meta[k] && json_object_set_new(meta, keys[k], json_string(l->meta[k])) < 0)
			r = -ENOMEM;
	for (size_t k = 0; r == 0 && k < l->nshown; k++)
		if (json_array_append_new(tags, json_string(l->shown_tags[k])) < 0)
			r = -ENOMEM;
	if (r == 0 && l->nshown && json_object_set(meta, "tags", tags) < 0)
		r = -ENOMEM;
	if (r == 0 && json_object_size(meta) && json_object_set(j, "metadata", meta) < 0)
		r = -ENOMEM;
	json_decref(meta);
	json_decref(tags);
	return r;
}

/* One upload; status "created" or "replaced" into st. */
static int push_one(struct cli *cli, const struct team_args *ta, const char *server,
		    const char *id, char hash[SM_SHA256_HEX_LEN + 1], const char **st,
		    struct strbuf *err)
{
	struct sm_team_local l = {0};
	struct sm_ops_ctx ctx;
	struct strbuf url = STRBUF_INIT, b64 = STRBUF_INIT, body = STRBUF_INIT,
		      ans = STRBUF_INIT, e = STRBUF_INIT;
	struct sm_http_call call = {.method = "POST", .token = ta->token,
				    .content_type = "application/json",
				    .timeout_ms = TEAM_TIMEOUT_MS};
	struct sm_http_answer a = {.body = &ans};
	json_t *j = NULL, *files, *got = NULL;
	char *dump = NULL;
	int r;

	sm_strbuf_init(&ans, ANSWER_MAX);
	cli_ops_init(cli, &ctx, cli->cache);
	r = sm_ops_team_read(&ctx, ta->collection, id, SM_TEAM_MAX_BYTES, &l, err);
	cli_ops_release(cli, &ctx);
	if (r < 0)
		goto out;
	if (l.lock_hash[0] && strcmp(l.lock_hash, l.hash))
		cli_warning(cli, "%s:%s is locally modified: its files as they are now are pushed",
			    l.type, l.name);
	j = json_pack("{s:s, s:s, s:s, s:b, s:[]}", "type", l.type, "name", l.name,
		      "content_hash", l.hash, "force", ta->force, "files");
	files = json_object_get(j, "files");
	/* the metadata and tags as the personal home shows them (the manifest's user tags too) */
	if (j && (r = push_metadata(j, &l)) < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	for (size_t i = 0; j && i < l.nfiles; i++) {
		sm_strbuf_reset(&b64);
		if ((r = sm_base64_encode(l.files[i].data, l.files[i].len, &b64)) < 0 ||
		    json_array_append_new(files, json_pack("{s:s, s:s}", "path", l.files[i].path,
							   "content_base64", b64.buf)) < 0) {
			r = sm_err(err, r < 0 ? r : -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!j || !(dump = json_dumps(j, JSON_COMPACT)) ||
	    sm_strbuf_addf(&url, "%s/api/v1/team/artifacts", server) < 0) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	call.url = url.buf;
	call.body = dump;
	call.body_len = strlen(dump);
	if ((r = call_server(&call, &a, err)) < 0)
		goto out;
	if (a.status != 200 && a.status != 201) {
		answer_error(&a, &e);
		r = sm_err(err, a.status == 409 ? -EEXIST : a.status == 401 ? -EACCES : -EIO,
			   "%s:%s: %s%s", l.type, l.name, e.buf,
			   a.status == 409 ? " (--force replaces it)" : "");
		goto out;
	}
	got = json_loadb(ans.buf, ans.len, 0, NULL);
	if (!json_is_string(json_object_get(got, "content_hash")) ||
	    strcmp(json_string_value(json_object_get(got, "content_hash")), l.hash)) {
		r = sm_err(err, -EBADMSG,
			   "%s:%s: the server stored content hash '%s', the files hash to %s",
			   l.type, l.name,
			   json_string_value(json_object_get(got, "content_hash"))
			       ?: "(none)",
			   l.hash);
		goto out;
	}
	memcpy(hash, l.hash, SM_SHA256_HEX_LEN + 1);
	*st = a.status == 201 ? "created" : "replaced";
out:
	json_decref(j);
	json_decref(got);
	free(dump);
	sm_team_local_release(&l);
	sm_strbuf_release(&url);
	sm_strbuf_release(&b64);
	sm_strbuf_release(&body);
	sm_strbuf_release(&ans);
	sm_strbuf_release(&e);
	return r;
}

/*
 * The tags of the team's row (GET /artifacts/{id}), for the pulled entry's
 * manifest: the home shows them as the team does. *ret NULL-terminated.
 */
static int team_tags(const char *server, const char *token, const char *id, char ***ret,
		     size_t *ret_n, struct strbuf *err)
{
	json_t *got = NULL, *tags, *v;
	char **out = NULL;
	size_t i, n = 0;
	int r;

	if ((r = team_artifact(server, token, id, false, &got, err)) < 0)
		goto out;
	tags = json_object_get(got, "tags");
	if (tags && !json_is_array(tags)) {
		r = sm_err(err, -EBADMSG, "%s: the server's tags are not a list", id);
		goto out;
	}
	if (!(out = sm_calloc(json_array_size(tags) + 1, sizeof(*out)))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(tags, i, v) {
		const char *t = json_string_value(v);

		if (!t || !*t || strlen(t) > 256 || strpbrk(t, "\n\r\t")) {
			r = sm_err(err, -EBADMSG, "%s: the server sent a tag that is not one", id);
			goto out;
		}
		if (!(out[n++] = sm_strdup(t))) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	*ret = out;
	*ret_n = n;
	out = NULL;
	r = 0;
out:
	sm_strv_free(out, n);
	json_decref(got);
	return r;
}

static int pull_one(struct cli *cli, const struct team_args *ta, const char *server,
		    const char *id, char hash[SM_SHA256_HEX_LEN + 1], const char **st,
		    struct strbuf *err)
{
	struct strbuf body = STRBUF_INIT, xhash = STRBUF_INIT;
	struct sm_ops_team_pull req = {.collection = ta->collection, .force = ta->force};
	struct sm_ops_add_result res = {0};
	struct sm_ops_ctx ctx;
	char type[32], **tags = NULL;
	size_t ntags = 0;
	const char *name = NULL;
	int r;

	if (split_id(cli, id, type, sizeof(type), &name) != 0)
		return -EINVAL; /* printed */
	sm_strbuf_init(&xhash, 256);
	if ((r = cli_team_fetch(server, ta->token, id, &body, &xhash, err)) < 0 ||
	    (r = team_tags(server, ta->token, id, &tags, &ntags, err)) < 0)
		goto out;
	req.tags = (const char *const *)tags;
	req.ntags = ntags;
	req.fetched = (struct sm_team_fetched){type, name, body.buf, body.len,
					       xhash.len ? xhash.buf : NULL};
	cli_ops_init(cli, &ctx, cli->cache);
	r = sm_ops_team_pull(&ctx, &req, &res, err);
	cli_ops_release(cli, &ctx);
	if (r < 0)
		goto out;
	cli_announce(cli, res.index_changed);
	memcpy(hash, res.add.hash, SM_SHA256_HEX_LEN + 1);
	*st = res.add.status == SM_ADD_UNCHANGED  ? "unchanged"
	      : res.add.status == SM_ADD_REPLACED ? "replaced"
						  : "added";
out:
	sm_ops_add_result_release(&res);
	sm_strv_free(tags, ntags);
	sm_strbuf_release(&body);
	sm_strbuf_release(&xhash);
	return r;
}

static int team_move(struct cli *cli, const struct team_args *ta, bool push)
{
	struct strbuf server = STRBUF_INIT, err = STRBUF_INIT;
	json_t *done = json_array(), *failed = json_array();
	size_t nfail = 0;
	int rc = EXIT_FAIL;

	if (!ta->nids) {
		rc = cli_usage_error(cli, usage_team, "missing TYPE:NAME");
		goto out;
	}
	if (cli_team_server(cli, ta->server, &server) != 0 || !cli_home(cli))
		goto out;
	for (size_t i = 0; i < ta->nids; i++) {
		char hash[SM_SHA256_HEX_LEN + 1] = "";
		const char *st = NULL;
		int r;

		sm_strbuf_reset(&err);
		r = push ? push_one(cli, ta, server.buf, ta->ids[i], hash, &st, &err)
			 : pull_one(cli, ta, server.buf, ta->ids[i], hash, &st, &err);
		if (r == -EINVAL && !err.len) {
			rc = EXIT_USAGE;
			goto out;
		}
		if (r < 0) {
			nfail++;
			if (cli->json)
				json_array_append_new(failed, json_pack("{s:s, s:s}", "id", ta->ids[i],
									"error", err.buf));
			else
				cli_fail(cli, r, &err);
			continue;
		}
		if (cli->json)
			json_array_append_new(done, json_pack("{s:s, s:s, s:s}", "id", ta->ids[i],
							      "content_hash", hash, "status", st));
		else
			cli_info(cli, "%s %s %s %s (%s, sha256 %.12s)", push ? "Pushed" : "Pulled",
				 ta->ids[i], push ? "to" : "from", server.buf, st, hash);
	}
	if (cli->json)
		cli_print_json(json_pack("{s:O, s:O}", push ? "pushed" : "pulled", done, "failed",
					 failed));
	rc = nfail ? EXIT_FAIL : EXIT_OK;
out:
	json_decref(done);
	json_decref(failed);
	sm_strbuf_release(&server);
	sm_strbuf_release(&err);
	return rc;
}

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
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"token", required_argument, NULL, OPT_TOKEN},
	    {"collection", required_argument, NULL, 'c'},
	    {"force", no_argument, NULL, OPT_FORCE},
	    CLI_GLOBAL_OPTIONS,
	    {0},
	};
	const char *store = NULL, *url;
	struct team_args ta = {.token = getenv("SKILLMEAT_TEAM_TOKEN")};
	long to = -1;
	char *end;
	int ch, g;

	while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
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
		case OPT_SERVER:
			ta.server = optarg;
			break;
		case OPT_TOKEN:
			ta.token = optarg;
			break;
		case 'c':
			ta.collection = optarg;
			break;
		case OPT_FORCE:
			ta.force = true;
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
	if (!strcmp(argv[optind], "push") || !strcmp(argv[optind], "pull")) {
		ta.ids = argv + optind + 1;
		ta.nids = (size_t)(argc - optind - 1);
		return team_move(cli, &ta, argv[optind][1] == 'u' && argv[optind][2] == 's');
	}
	if (strcmp(argv[optind], "migrate") != 0)
		return cli_usage_error(cli, usage_team, "unknown subcommand '%s'", argv[optind]);
	if (optind + 1 < argc)
		return cli_usage_error(cli, usage_team, "unexpected argument '%s'",
				       argv[optind + 1]);
	url = store_url(cli, store);
	return url ? team_migrate(cli, url, to) : EXIT_FAIL;
}
