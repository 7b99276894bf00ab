/* SPDX-License-Identifier: MIT */
/* The REST application: per-thread cache connections, hooks, routes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "skillmeat/loop_guard.h"
#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/db.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/toml.h"
#include "http/auth.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

/* This loop thread's data during a request (set by before(), read by collect()). */
static __thread struct sm_app_thread *render_thread;

int sm_app_new(struct sm_home *home, struct sm_app **ret, struct strbuf *err)
{
	struct sm_app *app = sm_calloc(1, sizeof(*app));
	int64_t ttl;
	int r;

	if (!app)
		return sm_err(err, -ENOMEM, "out of memory");
	app->home = home;
	ttl = sm_config_int(home, "cache.count-ttl-seconds", 300);
	app->count_ttl_ms = ttl > 0 ? ttl * 1000 : SM_COUNT_CACHE_DEFAULT_TTL_MS;
	ttl = sm_config_int(home, "cache.stale-ttl-seconds", 1800);
	app->stale_ttl_ms = (ttl > 0 ? ttl : 1800) * 1000;
	r = sm_count_cache_new(app->count_ttl_ms, NULL, NULL, &app->counts);
	if (r < 0) {
		sm_free(app);
		return sm_err(err, r, "out of memory");
	}
	pthread_mutex_init(&app->write_lock, NULL);
	pthread_mutex_init(&app->threads_lock, NULL);
	pthread_mutex_init(&app->pool_lock, NULL);
	*ret = app;
	return 0;
}

void sm_app_stop_listener(struct sm_app *app)
{
	if (!app)
		return;
	sm_pg_listen_stop(app->listener);
	app->listener = NULL;
}

void sm_app_free(struct sm_app *app)
{
	if (!app)
		return;
	sm_app_stop_listener(app); /* first: its hooks use the caches */
	sm_count_cache_free(app->counts);
	sm_cache_close(app->heal);
	pthread_mutex_destroy(&app->write_lock);
	pthread_mutex_destroy(&app->threads_lock);
	for (size_t i = 0; i < app->npool; i++)
		sm_store_free(app->pool[i]);
	pthread_mutex_destroy(&app->pool_lock);
	sm_free(app->threads);
	for (size_t i = 0; i < app->ntokens; i++) {
		sm_free(app->tokens[i].token);
		sm_free(app->tokens[i].tenant);
	}
	sm_free(app->tokens);
	sm_free(app->team_url);
	sm_free(app);
}

void sm_app_write_lock(struct sm_app *app)
{
	sm_loop_guard_mutex_lock(&app->write_lock);
}

void sm_app_write_unlock(struct sm_app *app)
{
	pthread_mutex_unlock(&app->write_lock);
}

int sm_app_set_team(struct sm_app *app, const char *url, struct strbuf *err)
{
	const struct sm_toml_value *tokens = sm_config_lookup(app->home, "team.tokens");
	size_t n = sm_toml_len(tokens);

	if (tokens && sm_toml_type(tokens) != SM_TOML_TABLE)
		return sm_err(err, -EINVAL, "team.tokens must be a table of token = \"tenant\"");
	if (!(app->team_url = sm_strdup(url)) ||
	    (n && !(app->tokens = sm_calloc(n, sizeof(*app->tokens)))))
		return sm_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct sm_toml_kv *kv = sm_toml_kv_at(tokens, i);
		const char *tenant = sm_toml_str(kv->value);

		if (!tenant || !*tenant || !kv->keylen || strlen(kv->key) != kv->keylen)
			return sm_err(err, -EINVAL,
				      "team.tokens: each token must name a tenant (a string)");
		app->tokens[i].token = sm_strdup(kv->key);
		app->tokens[i].tenant = sm_strdup(tenant);
		app->ntokens++;
		if (!app->tokens[i].token || !app->tokens[i].tenant)
			return sm_err(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int api_team_checkout(struct sm_app *app, const char *tenant, struct sm_store **ret,
		      struct strbuf *err)
{
	struct sm_store *st = NULL;
	struct sm_pg_revision rev;
	int r;

	pthread_mutex_lock(&app->pool_lock);
	if (app->npool)
		st = app->pool[--app->npool];
	pthread_mutex_unlock(&app->pool_lock);
	if (st) {
		/* idle since its last job: the probe connects again when it was lost */
		if ((r = sm_store_pg_set_tenant(st, tenant, err)) == 0 &&
		    (r = sm_store_pg_probe(st, &rev, err)) == 0) {
			*ret = st;
			return 0;
		}
		sm_store_free(st);
		sm_strbuf_reset(err);
	}
	return sm_store_pg_open(app->team_url, tenant, ret, err);
}

void api_team_checkin(struct sm_app *app, struct sm_store *st, bool ok)
{
	if (!st)
		return;
	pthread_mutex_lock(&app->pool_lock);
	if (ok && app->npool < API_TEAM_POOL_MAX) {
		app->pool[app->npool++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&app->pool_lock);
	sm_store_free(st);
}

/* A loop thread's connection to the team store, scoped to "default" until a request says. */
static int team_open(struct sm_app *app, unsigned index, struct sm_cache **ret)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_store *st = NULL;
	int r = sm_store_pg_open(app->team_url, "default", &st, &err);

	if (r == 0 && (r = sm_cache_open_store(app->home, st, ret)) < 0)
		(void)sm_err(&err, r, "out of memory");
	if (r < 0)
		sm_log_error("server: loop %u cannot open the team store: %s", index, err.buf);
	else
		(*ret)->tenant = "default";
	sm_strbuf_release(&err);
	return r;
}

/*
 * A corrupt index met by this loop thread's connection: repaired already by
 * another connection since, the store call runs again; otherwise the call
 * fails, and before the answer is sent (answered) the repair goes to a worker
 * and the request is answered anew from the repaired index. A loop thread
 * never takes the writer lock the repair runs under.
 */
static int loop_heal(void *ctx, struct strbuf *err)
{
	struct sm_app_thread *t = ctx;
	struct sm_db *db = t->cache->db;

	if (sm_db_repaired_since(db)) {
		sm_db_clear_trouble(db);
		return 0;
	}
	if (t->cache->in_memory || !t->app->heal)
		return sm_err(err, -EBADMSG, "the index is damaged: %s",
			      sm_db_trouble_message(db));
	t->heal_wanted = true;
	t->heal_gen = sm_db_trouble_gen(db);
	return sm_err(err, -EBADMSG, "the index is damaged (being repaired): %s",
		      sm_db_trouble_message(db));
}

/* A repair handed from a loop thread to a worker. */
struct heal_job {
	struct sm_app *app;
	unsigned gen;
	char msg[256];
};

/*
 * On a worker, under the writer lock like every sync of the process: the
 * index rebuilt from the files unless another connection did since the loop
 * thread met the damage (sm_cache_heal, one warning).
 */
static void heal_work(void *arg)
{
	struct heal_job *j = arg;
	struct strbuf err = STRBUF_INIT;

	sm_app_write_lock(j->app);
	sm_db_set_trouble(j->app->heal->db, SM_DB_CORRUPT, j->gen, j->msg);
	if (sm_cache_heal(j->app->heal, &err) < 0)
		sm_log_error("server: cannot repair the index: %s", err.buf);
	sm_db_clear_trouble(j->app->heal->db);
	sm_app_write_unlock(j->app);
	sm_strbuf_release(&err);
}

static void heal_done(struct sm_http_req *req, void *arg)
{
	struct heal_job *j = arg;

	(void)req;
	api_invalidate(j->app, NULL);
	sm_free(j);
}

/*
 * Before an answer is sent: when its request met a corrupt index, the repair
 * goes to a worker and the request is answered anew after it (a read, or a
 * write none of which ran yet); a write whose operation ran already keeps
 * its answer, sent after the repair. Once per request (sm_http_redo): damage
 * met again after the repair is answered as an error.
 */
static bool answered(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_app_thread *t = req->thread_data;
	struct heal_job *j;
	int r = -EALREADY;

	if (!t || !t->heal_wanted)
		return false;
	t->heal_wanted = false;
	if (!(j = sm_calloc(1, sizeof(*j))))
		return false;
	j->app = app;
	j->gen = t->heal_gen;
	snprintf(j->msg, sizeof(j->msg), "%s", sm_db_trouble_message(t->cache->db));
	if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD") || req->deferred == 0)
		r = sm_http_redo(req, heal_work, heal_done, j);
	if (r == -EALREADY)
		r = sm_http_defer(req, heal_work, heal_done, j);
	if (r < 0) {
		sm_free(j);
		return false;
	}
	return true;
}

/* The loop threads whose answers the listener drops (team mode). */
static int threads_add(struct sm_app *app, struct sm_app_thread *t)
{
	struct sm_app_thread **v;

	pthread_mutex_lock(&app->threads_lock);
	v = sm_realloc(app->threads, (app->nthreads + 1) * sizeof(*v));
	if (v) {
		app->threads = v;
		v[app->nthreads++] = t;
	}
	pthread_mutex_unlock(&app->threads_lock);
	return v ? 0 : -ENOMEM;
}

static void threads_remove(struct sm_app *app, struct sm_app_thread *t)
{
	pthread_mutex_lock(&app->threads_lock);
	for (size_t i = 0; i < app->nthreads; i++)
		if (app->threads[i] == t)
			app->threads[i] = app->threads[--app->nthreads];
	pthread_mutex_unlock(&app->threads_lock);
}

/*
 * The listener's hook (on its thread): a commit of note->tenant changed the
 * member counts of ids (all_counts: every one of the tenant's; none: n 0)
 * and the answers that show uuids (all_answers: every one of the tenant's);
 * tenant NULL: everything (a reconnect).
 */
static void team_drop(void *ctx, const struct sm_pg_note *note)
{
	struct sm_app *app = ctx;
	struct strbuf k = STRBUF_INIT;
	const char *tenant = note->tenant;
	const char *const *ids = note->ids;
	size_t n = note->n;
	bool all = note->all_counts;

	if (!tenant) {
		sm_count_cache_invalidate_all(app->counts);
	} else if (sm_strbuf_addstr(&k, tenant) < 0 || sm_strbuf_addch(&k, '\x1f') < 0) {
		sm_count_cache_invalidate_all(app->counts); /* no memory: drop more, never less */
	} else if (all) {
		sm_count_cache_invalidate_prefix(app->counts, k.buf);
	} else {
		size_t base = k.len;

		for (size_t i = 0; i < n; i++) {
			sm_strbuf_setlen(&k, base);
			if (sm_strbuf_addstr(&k, ids[i]) < 0 ||
			    sm_count_cache_invalidate(app->counts, k.buf) < 0) {
				sm_count_cache_invalidate_all(app->counts);
				break;
			}
		}
	}
	if (app->metrics && (!tenant || all || n))
		sm_server_metrics_cache_invalidation(app->metrics, "count");
	sm_strbuf_release(&k);
	pthread_mutex_lock(&app->threads_lock);
	for (size_t i = 0; i < app->nthreads; i++)
		api_resp_drop(app->threads[i], note);
	pthread_mutex_unlock(&app->threads_lock);
}

static int thread_init(unsigned index, void *data, void **ret)
{
	struct sm_app *app = data;
	struct sm_app_thread *t = sm_calloc(1, sizeof(*t));
	struct strbuf err = STRBUF_INIT;
	int r;

	if (!t)
		return -ENOMEM;
	t->app = app;
	pthread_mutex_init(&t->resp_lock, NULL);
	if (app->team_url) {
		r = team_open(app, index, &t->cache);
		if (r == 0 && (r = threads_add(app, t)) < 0)
			sm_cache_close(t->cache);
		if (r < 0) {
			pthread_mutex_destroy(&t->resp_lock);
			sm_free(t);
			return r;
		}
		goto baseline;
	}
	r = sm_cache_open(app->home, &t->cache, &err);
	if (r < 0) {
		sm_log_error("server: loop %u cannot open the metadata cache: %s", index, err.buf);
		sm_strbuf_release(&err);
		pthread_mutex_destroy(&t->resp_lock);
		sm_free(t);
		return r;
	}
	if (t->cache->db)
		sm_store_set_heal(t->cache->store, loop_heal, t);
	if (t->cache->in_memory) {
		/* a home we cannot write to: each connection is its own in-memory index */
		struct sm_sync_stats st = {0};

		if (sm_cache_sync(t->cache, NULL, 0, &st, &err) < 0)
			sm_log_warn("server: loop %u: in-memory sync failed: %s", index, err.buf);
		sm_sync_stats_release(&st);
	}
baseline:
	/*
	 * The baseline predates every request: a commit by another process
	 * before this thread's first request is still noticed then.
	 */
	if (sm_store_data_version(t->cache->store, &t->data_version, NULL) == 0) {
		t->have_version = true;
		if (sm_store_revision(t->cache->store, t->revision, NULL) < 0)
			t->revision[0] = '\0';
	}
	sm_strbuf_release(&err);
	*ret = t;
	return 0;
}

static void thread_fini(unsigned index, void *data, void *thread_data)
{
	struct sm_app_thread *t = thread_data;

	(void)index;
	(void)data;
	if (!t)
		return;
	if (render_thread == t)
		render_thread = NULL;
	threads_remove(t->app, t);
	api_resp_free(t);
	pthread_mutex_destroy(&t->resp_lock);
	sm_cache_close(t->cache);
	sm_free(t);
}

/*
 * Before every request: when another connection (another loop thread, a
 * worker, the CLI) committed since this thread last looked, drop the counts,
 * so the very next answer reflects it.
 */
static bool has_suffix(const char *s, const char *sfx)
{
	size_t n = strlen(s), k = strlen(sfx);

	return n >= k && !memcmp(s + n - k, sfx, k);
}

/* The writes of the operations built on the team truth (src/ops/truth_team.c). */
static bool team_write_built(const char *ep, const char *method)
{
	static const char *const built[][2] = {
	    {"POST", API_PREFIX "/user-collections"},
	    {"PUT", API_PREFIX "/user-collections/{id}"},
	    {"DELETE", API_PREFIX "/user-collections/{id}"},
	    {"POST", API_PREFIX "/user-collections/{id}/artifacts"},
	    {"DELETE", API_PREFIX "/user-collections/{id}/artifacts/{artifact_id}"},
	    {"DELETE", API_PREFIX "/artifacts/{id}"},
	    {"PUT", API_PREFIX "/artifacts/{id}"},
	};

	for (size_t i = 0; i < sizeof(built) / sizeof(built[0]); i++)
		if (!strcmp(method, built[i][0]) && !strcmp(ep, built[i][1]))
			return true;
	return false;
}

/* The tenant of the team.tokens token req carries, else NULL. */
static const char *team_tenant(struct sm_app *app, struct sm_http_req *req)
{
	const char *tenant = NULL;

	for (size_t i = 0; i < app->ntokens; i++)
		if (sm_auth_check(req, app->tokens[i].token) && !tenant)
			tenant = app->tokens[i].tenant;
	return tenant;
}

static int team_unauthorized(struct sm_http_req *req)
{
	(void)sm_http_error(req, 401, "Not authenticated");
	(void)sm_http_set_header(req, "WWW-Authenticate", "Bearer");
	return -EACCES;
}

/*
 * Team mode, before every request: the tenant of its token (401 without a
 * known one when team.tokens is set), and the refusals of API.md "Team
 * mode": deployments are 403 (the server's disk is not the user's), as is
 * POST /artifacts with a local source (art_create); the writes not built
 * yet are 501.
 */
static int team_before(struct sm_app *app, struct sm_http_req *req, struct sm_app_thread *t)
{
	const char *ep = req->endpoint ? req->endpoint : "";
	const char *tenant = "default";
	struct strbuf err = STRBUF_INIT;
	int r;

	/*
	 * /metrics is nobody's tenant but not public: without
	 * SKILLMEAT_API_TOKEN (which the dispatcher checks) any token of
	 * team.tokens opens it.
	 */
	if (!strcmp(ep, "/metrics") && app->ntokens && !app->api_token)
		return team_tenant(app, req) ? 0 : team_unauthorized(req);
	if (strncmp(ep, API_PREFIX "/", strlen(API_PREFIX "/")) != 0 ||
	    !strcmp(ep, API_PREFIX "/health"))
		return 0; /* the page, /health: nothing of a tenant */
	if (app->ntokens && !(tenant = team_tenant(app, req)))
		return team_unauthorized(req);
	r = sm_store_pg_set_tenant(t->cache->store, tenant, &err);
	sm_strbuf_release(&err);
	if (r < 0)
		return r;
	t->cache->tenant = tenant;
	if (has_suffix(ep, "/deploy") || has_suffix(ep, "/undeploy") || has_suffix(ep, "/sync") ||
	    !strcmp(ep, API_PREFIX "/deployments")) {
		(void)sm_http_error(req, 403,
				    "deployments are not available in team mode: the server's disk "
				    "is not the user's");
		return -EACCES;
	}
	if (team_write_built(ep, req->method))
		return 0;
	if (!strcmp(ep, API_PREFIX "/team/artifacts") ||
	    (!strcmp(ep, API_PREFIX "/artifacts/{id}/metadata") && !strcmp(req->method, "PUT")) ||
	    (!strcmp(ep, API_PREFIX "/artifacts") && !strcmp(req->method, "POST")))
		return 0;
	/* refresh-cache and migrate-to-default: the team truth's sync (truth_team.c) */
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
	    !has_suffix(ep, "/refresh-cache") &&
	    strcmp(ep, API_PREFIX "/user-collections/migrate-to-default") != 0) {
		(void)sm_http_error(req, 501, "not available in team mode yet");
		return -ENOTSUP;
	}
	return 0;
}

static int before(struct sm_http_req *req, void *data)
{
	struct sm_app *app = data;
	struct sm_app_thread *t = req->thread_data;
	int64_t v;
	int r;

	if (!t)
		return -EIO;
	render_thread = t;
	t->heal_wanted = false;
	if (app->team_url) {
		struct sm_pg_revision rev;

		if ((r = team_before(app, req, t)) < 0)
			return r;
		/*
		 * The probe: every commit up to rev is seen by this request. The
		 * caches serve it only when the listener has dropped every entry
		 * those commits made stale (docs/team.md "Invalidation").
		 */
		t->team_rev_ok = false;
		/* before the probe, so before any row this request reads (api_resp_put) */
		pthread_mutex_lock(&t->resp_lock);
		t->resp_gen_probe = t->resp_gen;
		pthread_mutex_unlock(&t->resp_lock);
		r = sm_store_pg_probe(t->cache->store, &rev, NULL);
		if (r < 0)
			return r;
		snprintf(t->team_rev, sizeof(t->team_rev), "%s", rev.text);
		t->team_probe = rev;
		t->team_rev_ok = true;
		t->cache->team_stale = !sm_pg_listen_fresh(
		    app->listener, t->cache->tenant ? t->cache->tenant : "default", &rev);
		return 0;
	}
	r = sm_store_data_version(t->cache->store, &v, NULL);
	if (r < 0)
		return r;
	if (t->have_version && v != t->data_version) {
		char rev[SM_STORE_REVISION_MAX];

		/*
		 * Another connection committed. Counts move only with the revision
		 * (rows, members, collections, deployments): a commit that changed
		 * none of them, such as a folder's walk record, keeps the counts.
		 */
		if (sm_store_revision(t->cache->store, rev, NULL) < 0)
			rev[0] = '\0';
		if (!rev[0] || strcmp(rev, t->revision))
			api_invalidate(app, NULL);
		memcpy(t->revision, rev, sizeof(rev));
	}
	t->data_version = v;
	t->have_version = true;
	return 0;
}

/*
 * Gauges pulled at each /metrics render. The render runs in the /metrics
 * request on a loop thread; before() left that thread's data here, so the
 * stale and cached artifact counts are read live from its connection.
 */
static void collect(struct sm_metrics *m, void *data)
{
	struct sm_app *app = data;
	struct sm_count_cache_stats cs;
	struct sm_cache_status st;

	(void)m;
	sm_count_cache_stats(app->counts, &cs);
	if (!app->metrics)
		return;
	if (app->m_listening) {
		struct sm_pg_listen_stats ls;

		sm_pg_listen_stats(app->listener, &ls);
		sm_metric_set(sm_metric_get(app->m_listening), ls.connected ? 1 : 0);
		sm_metric_set(sm_metric_get(app->m_notes), (double)ls.notes);
		sm_metric_set(sm_metric_get(app->m_connects), (double)ls.connects);
	}
	sm_metric_set(sm_metric_get(app->metrics->cache_entries, "count"), (double)cs.size);
	if (render_thread &&
	    sm_store_cache_status(render_thread->cache->store, NULL, sm_time_real_ns() / 1000000,
				  app->stale_ttl_ms, &st, NULL) == 0) {
		sm_metric_set(sm_metric_get(app->metrics->cache_stale), (double)st.stale);
		sm_metric_set(sm_metric_get(app->metrics->cache_entries, "metadata"),
			      (double)st.total);
	}
}

int sm_app_attach(struct sm_app *app, struct sm_http_server *srv, struct strbuf *err)
{
	struct sm_http_hooks hooks = {
	    .thread_init = thread_init,
	    .thread_fini = thread_fini,
	    .before = before,
	    .answered = answered,
	    .app = app,
	};
	struct sm_router *router = sm_http_server_router(srv);
	int r;

	if (!app->team_url && !app->heal) {
		struct strbuf why = STRBUF_INIT;

		if (sm_cache_open(app->home, &app->heal, &why) < 0)
			sm_log_warn("server: no connection to repair the index with: %s", why.buf);
		else if (app->heal->in_memory) {
			sm_cache_close(app->heal);
			app->heal = NULL;
		}
		sm_strbuf_release(&why);
	}

	app->metrics = sm_http_server_metrics(srv);
	if (app->metrics && sm_metrics_add_collector(app->metrics->reg, collect, app) < 0)
		return sm_err(err, -ENOMEM, "out of memory");
	r = api_register_user_collections(app, router, err);
	if (r >= 0)
		r = api_register_artifacts(app, router, err);
	if (r >= 0)
		r = api_register_artifact_writes(app, router, err);
	if (r >= 0)
		r = api_register_artifact_metadata(app, router, err);
	if (r >= 0)
		r = api_register_files(app, router, err);
	if (r >= 0)
		r = api_register_deployments(app, router, err);
	if (r >= 0)
		r = api_register_team(app, router, err);
	if (r >= 0 && app->team_url && app->metrics) {
		struct sm_metrics *m = app->metrics->reg;

		r = sm_metrics_family(m, SM_METRIC_GAUGE, "skillmeat_team_listening",
				      "1 while the team listener is connected and caught up.", NULL,
				      NULL, 0, &app->m_listening);
		if (r >= 0)
			r = sm_metrics_family(m, SM_METRIC_GAUGE, "skillmeat_team_notifications",
					      "Team notifications handled by the listener.", NULL,
					      NULL, 0, &app->m_notes);
		if (r >= 0)
			r = sm_metrics_family(
			    m, SM_METRIC_GAUGE, "skillmeat_team_listener_connects",
			    "Connections the team listener made (1 + reconnects).", NULL, NULL, 0,
			    &app->m_connects);
		if (r < 0)
			r = sm_err(err, r, "out of memory");
	}
	if (r >= 0 && app->team_url) {
		struct sm_pg_listen_hooks lh = {.drop = team_drop, .ctx = app};

		r = sm_pg_listen_start(app->team_url, &lh, &app->listener, err);
	}
	if (r < 0)
		return r;
	sm_http_server_set_hooks(srv, &hooks);
	return 0;
}
