/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_API_API_H
#define SKILLMEAT_API_API_H

/*
 * Internal to the REST handlers (app.c, api_*.c): the application state,
 * the per-thread state and the helpers they share (parameters, cursors,
 * counts, JSON views of rows).
 *
 * Helpers that answer the request themselves on bad input return
 * API_ANSWERED (negative, so it propagates like an error); the handler then
 * returns SM_HTTP_DONE.
 */

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/app.h"
#include "http/http.h"
#include "skillmeat/store.h"
#include "skillmeat/store_pg.h"

struct sm_cache;
struct sm_store;
struct sm_count_cache;
struct sm_artifact_row;
struct sm_user_collection_row;
struct sm_artifact_query;
struct sm_artifact_page;

#define API_ANSWERED (-10000)
/* A read repair took the request to a worker: the handler returns SM_HTTP_DEFERRED. */
#define API_DEFERRED (-10001)
#define API_PREFIX "/api/v1"
/* The longest answer-cache token (a revision string). */
#define API_RESP_TOKEN_MAX 96
/* Idle team-store connections kept for the worker jobs (at most one per worker is in use). */
#define API_TEAM_POOL_MAX 16

struct sm_app {
	struct sm_home *home; /* borrowed */
	struct sm_count_cache *counts;
	struct sm_server_metrics *metrics; /* the server's, may be NULL */
	/* every write (files + cache) holds it, with the home lock inside it */
	pthread_mutex_t write_lock;
	int64_t count_ttl_ms;
	int64_t stale_ttl_ms;
	/*
	 * Team mode (serve --store postgresql://…, docs/team.md): the store's
	 * URL, and team.tokens of config.toml (a token names its tenant; none:
	 * the single tenant "default").
	 */
	char *team_url;
	bool api_token; /* SKILLMEAT_API_TOKEN is set (the dispatcher checks it) */
	/*
	 * The connection a worker repairs a corrupt index through (loop threads
	 * hand the repair over: app.c), used under the writer lock; NULL in
	 * team mode or for a home we cannot write to.
	 */
	struct sm_cache *heal;
	struct api_team_token {
		char *token;
		char *tenant;
	} *tokens;
	size_t ntokens;
	/* team mode: the LISTEN thread (store_pg.h), and the loop threads it drops answers of */
	struct sm_pg_listener *listener;
	struct sm_metric_family *m_listening, *m_notes, *m_connects; /* its gauges */
	pthread_mutex_t threads_lock;
	struct sm_app_thread **threads;
	size_t nthreads;
	/* team mode: idle connections of the write and archive jobs (api_team_checkout) */
	pthread_mutex_t pool_lock;
	struct sm_store *pool[API_TEAM_POOL_MAX];
	size_t npool;
};

/* req->thread_data of a loop thread. */
struct sm_app_thread {
	struct sm_app *app;
	struct sm_cache *cache;
	int64_t data_version;
	bool have_version;
	/* the index's revision when data_version last moved: "" when unread */
	char revision[SM_STORE_REVISION_MAX];
	/* serialized list answers of this thread (api_resp_*), under resp_lock: the listener drops some */
	pthread_mutex_t resp_lock;
	struct sm_hashmap *resp;
	/* team mode: the revision this request's probe read (the answers' token) */
	char team_rev[API_RESP_TOKEN_MAX];
	bool team_rev_ok;
	struct sm_pg_revision team_probe; /* the same, as the listener compares it */
	size_t nresp;
	/*
	 * Team mode, under resp_lock: bumped by each notification the listener
	 * hands this thread (api_resp_drop), and its value before this
	 * request's probe: an answer kept while a notification went by may
	 * have missed it, so it serves its own revision alone.
	 */
	uint64_t resp_gen, resp_gen_probe;
	/* the handler answering now, run again after a read repair (api_set_rerun) */
	int (*rerun)(struct sm_http_req *req, void *data);
	void *rerun_data;
	struct sm_http_req *repaired; /* the request being answered after its repair */
	/* a corrupt index met by this thread's request: repaired on a worker (app.c) */
	bool heal_wanted;
	unsigned heal_gen;
};

/*
 * A per-thread cache of serialized 200 answers of the list endpoints, keyed by
 * path and query, valid for one database revision (ARCHITECTURE §5: "the
 * revision is the invalidation"). Never used while any row is flagged stale,
 * so read-repair always runs first.
 *
 * api_resp_token: the validity token now; returns 1 (cacheable), 0 (not now).
 * api_resp_get: on a hit, answers (ETag/304 via etag_prefix) and returns true.
 * api_resp_put: after a 200, keeps req's body under token.
 *
 * Team mode keeps an answer longer when it may (extend): an answer of a page
 * whose rows and order only a key change can move (no tag, tool or search
 * filter, key or name order) also serves a later revision when the listener
 * has caught up with it and dropped none of the artifacts it shows
 * (docs/team.md "Invalidation": an update in place names its artifacts).
 */

/*
 * Answer one page of artifacts for q (list handlers): repair stale rows,
 * ETag/304 (etag_prefix + revision), one JSON item per row from item (key =
 * the artifact id as shown; colls = its collections[], ownership passed),
 * page_info, then keep the answer under tok when cacheable. Returns the
 * handler's return value.
 */
typedef json_t *(*api_item_fn)(const struct sm_artifact_row *row, const char *key, json_t *colls,
			       void *ctx);
int api_answer_page(struct sm_http_req *req, struct sm_app *app, const struct sm_artifact_query *q,
		    const char *etag_prefix, api_item_fn item, void *ctx, const char *tok,
		    bool cacheable);
int api_resp_token(struct sm_http_req *req, char token[API_RESP_TOKEN_MAX]);
bool api_resp_get(struct sm_http_req *req, const char *token, const char *etag_prefix);
void api_resp_put(struct sm_http_req *req, const char *token, bool extend,
		  const struct sm_artifact_row *rows, size_t n);
void api_resp_free(struct sm_app_thread *t);
/* Team mode: drop t's answers a notification makes stale (any thread). */
struct sm_pg_note;
void api_resp_drop(struct sm_app_thread *t, const struct sm_pg_note *note);

static inline struct sm_cache *api_cache(struct sm_http_req *req)
{
	return ((struct sm_app_thread *)req->thread_data)->cache;
}

/*
 * Run a write operation (src/ops) on a worker: work(ctx, job, err) there
 * with an operation context of the server (api_ops_ctx_init), then
 * done(req, job, r, err) back on the loop thread (not called when the
 * client went away), then free_job(job). Returns SM_HTTP_DEFERRED, or
 * answers itself (job freed) and returns SM_HTTP_DONE.
 */
struct sm_ops_ctx;
typedef int (*api_op_fn)(struct sm_ops_ctx *ctx, void *job, struct strbuf *err);
typedef void (*api_op_done_fn)(struct sm_http_req *req, void *job, int r, struct strbuf *err);
int api_run_op(struct sm_http_req *req, struct sm_app *app, api_op_fn work, api_op_done_fn done,
	       void *job, void (*free_job)(void *job));
/* An operation context of the server: writer lock, log warnings, count invalidation. */
void api_ops_ctx_init(struct sm_app *app, struct sm_ops_ctx *ctx);


/*
 * Team mode, on a worker: a connection to the team store scoped to tenant,
 * an idle one of the pool (checked with the revision probe, which connects
 * again when it was lost) or a new one. Give it back with api_team_checkin
 * (ok false, after a failure: closed, not kept).
 */
int api_team_checkout(struct sm_app *app, const char *tenant, struct sm_store **ret,
		      struct strbuf *err);
void api_team_checkin(struct sm_app *app, struct sm_store *st, bool ok);
/*
 * May a connection go back to the pool after a job that returned r? Yes
 * unless the database failed (-EIO, a lost connection: maybe inside a
 * transaction); a refusal of the input (-ENOENT, -EEXIST, -EINVAL, -E2BIG)
 * leaves it idle.
 */
static inline bool api_team_reusable(int r)
{
	return r >= 0 || r == -ENOENT || r == -EEXIST || r == -EINVAL || r == -E2BIG;
}

/* Count cache invalidation (+ metrics) after a commit; id NULL = all. */
void api_invalidate(struct sm_app *app, const char *id);
/*
 * Team mode: every count of one tenant (keys "<tenant>\x1f<id>"), after a
 * commit of that tenant's; the other tenants' stay (the listener drops
 * exactly what a commit changed, this only sooner on the writing instance).
 */
void api_invalidate_tenant(struct sm_app *app, const char *tenant);

/*
 * Member counts of n user collections through the count cache; misses
 * filled by one grouped query. counts[i] for ids[i].
 */
int api_counts(struct sm_app *app, struct sm_cache *cache, const char *const *ids, size_t n,
	       int64_t *counts);

/* ?limit: absent → def; not an integer in 1..max → 400 (API_ANSWERED). */
int api_limit(struct sm_http_req *req, size_t def, size_t max, size_t *ret);
/* ?after: NULL when absent; bad base64 → 400 (API_ANSWERED). *ret from req's arena. */
int api_cursor(struct sm_http_req *req, char **ret);
/* Standard base64 of s (a json string), or json null for NULL. */
json_t *api_cursor_json(const char *s);
/*
 * ?after of an artifact page: base64 of "type:name" or
 * "collection/type:name" into q->after_*. Bad → 400 (API_ANSWERED).
 */
int api_artifact_cursor(struct sm_http_req *req, struct sm_artifact_query *q);
/*
 * ?sort (name, added, updated) into q->sort; call before api_artifact_cursor
 * (a newest-first order's cursor carries the sort value). Bad → 400.
 */
int api_sort(struct sm_http_req *req, struct sm_artifact_query *q);
/* Does a cursor of q's order start with the sort value ("<value>\t<key>")? */
bool api_sort_has_value(const struct sm_artifact_query *q);
/*
 * ?artifact_type (comma list) into q->types; an unknown type → 400
 * (API_ANSWERED). Canonical names, from req's arena.
 */
int api_types(struct sm_http_req *req, struct sm_artifact_query *q);
/* page_info of a page: first/last keys (may be NULL), has_next, after given, total. */
json_t *api_page_info(const char *first, const char *last, bool has_next, bool has_prev,
		      int64_t total);
/* Comma list → arena array of trimmed non-empty items. */
int api_split(struct sm_http_req *req, const char *s, const char ***ret, size_t *ret_n);

/* {"detail": [{"type", "loc": ["body", field], "msg", "input"?}]} */
int api_422(struct sm_http_req *req, const char *field, const char *type, const char *msg);
/* Map r with the message in err (for 4xx); 500 hides it. Returns SM_HTTP_DONE
 * (SM_HTTP_DEFERRED for API_DEFERRED: a read repair took the request). */
int api_fail(struct sm_http_req *req, int r, const char *msg);
/* Set the list ETag (the DB revision); true when 304 was answered. */
bool api_revision_etag(struct sm_http_req *req, struct sm_cache *cache, const char *extra);
/*
 * After a 200 answer is written: its ETag is a hash of its body (for answers
 * read from files or clocks, which the DB revision does not follow); true
 * when If-None-Match matched and the answer became 304.
 */
bool api_body_etag(struct sm_http_req *req);

/* Is id the default user collection? */
bool api_is_default(const char *id);

/*
 * Resolve an artifact id of a request ("type:name", "collection/type:name";
 * a trailing .md/.txt/.json/.yaml/.yml ignored; collection limits it to one
 * file collection). 400 for a malformed id or path tricks, 404 unknown, 400
 * ambiguous: those answered (API_ANSWERED).
 */
int api_resolve(struct sm_http_req *req, struct sm_cache *cache, const char *id,
		const char *collection, struct sm_artifact_row *ret);

/* The id shown for a row: "type:name", or "collection/type:name" when ambiguous. */
int api_artifact_key(struct sm_cache *cache, const struct sm_artifact_row *row, struct strbuf *out);

/*
 * collections[] of n artifacts ({id, name, artifact_count}), one JSON array
 * per row (new references in out[i]), counts from the count cache.
 */
int api_collections_of(struct sm_app *app, struct sm_cache *cache,
		       const struct sm_artifact_row *rows, size_t n, json_t **out);

/*
 * Read repair (ARCHITECTURE §2.3): rows flagged stale (by a watcher or a
 * write) or never synced are re-read from the files before answering. The
 * page of q is listed; when it holds such rows their file collections are
 * synced (warm) on a worker and the handler runs again (API_DEFERRED: it
 * returns SM_HTTP_DEFERRED), so a loop thread never waits on a sync.
 */
int api_list_fresh(struct sm_http_req *req, struct sm_app *app, struct sm_cache *cache,
		   const struct sm_artifact_query *q, struct sm_artifact_page *ret);
/* Same for one row: 0 (row as it is), API_DEFERRED, or an error. */
int api_row_fresh(struct sm_http_req *req, struct sm_app *app, struct sm_cache *cache,
		  struct sm_artifact_row *row);
/*
 * The handler a read repair runs again (set at the start of each handler
 * that reads through api_list_fresh/api_row_fresh).
 */
void api_set_rerun(struct sm_http_req *req, int (*fn)(struct sm_http_req *req, void *data),
		   void *data);

/* ArtifactSummary (user-collection artifact pages). collections stolen. */
json_t *api_artifact_summary(const struct sm_artifact_row *row, const char *key,
			     json_t *collections);
/* ArtifactResponse (/artifacts). collections stolen. */
json_t *api_artifact_response(const struct sm_artifact_row *row, const char *key,
			      json_t *collections);
/*
 * Fill deployments[] and deployment_stats of an artifact answer o from the
 * deployments index (api_deploy.c). 0 or -ENOMEM.
 */
int api_add_deployments(struct sm_cache *cache, const struct sm_artifact_row *row, json_t *o);
/* UserCollectionResponse; count < 0 → null. */
json_t *api_user_collection_json(const struct sm_user_collection_row *row, int64_t count);

int api_register_user_collections(struct sm_app *app, struct sm_router *router, struct strbuf *err);
int api_register_artifacts(struct sm_app *app, struct sm_router *router, struct strbuf *err);
/* POST /artifacts, PUT /artifacts/{id} (api_artifacts_write.c). */
int api_register_deployments(struct sm_app *app, struct sm_router *router, struct strbuf *err);
int api_register_team(struct sm_app *app, struct sm_router *router, struct strbuf *err);
int api_register_artifact_metadata(struct sm_app *app, struct sm_router *router,
				   struct strbuf *err);
int api_register_artifact_writes(struct sm_app *app, struct sm_router *router,
				 struct strbuf *err);
/* GET /artifacts/{id}/files[/{path}] (api_files.c). */
int api_register_files(struct sm_app *app, struct sm_router *router, struct strbuf *err);

#endif
