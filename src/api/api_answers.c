/* SPDX-License-Identifier: MIT */
/* Serialized answers of the list endpoints, per loop thread, valid for one DB revision. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "skillmeat/artifact.h"
#include "skillmeat/base64.h"
#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

/* ---- serialized answers of the list endpoints ---- */

#define RESP_MAX_ENTRIES 64

#define RESP_UUID 33 /* a uuid and its NUL */

struct resp_entry {
	char token[API_RESP_TOKEN_MAX];
	size_t len;
	/* team mode: also serves later revisions while none of uuids is dropped */
	bool extend;
	size_t nuuids;
	char *uuids; /* nuuids * RESP_UUID bytes, after body */
	char body[]; /* len bytes */
};

/* Same database and tenant (the token before its '-'): only the revision differs. */
static bool same_tenant(const char *a, const char *b)
{
	const char *da = strrchr(a, '-'), *db = strrchr(b, '-');

	return da && db && da - a == db - b && !memcmp(a, b, (size_t)(da - a));
}

int api_resp_token(struct sm_http_req *req, char token[API_RESP_TOKEN_MAX])
{
	struct sm_app_thread *t = req->thread_data;
	struct sm_cache *cache = t->cache;
	char rev[SM_STORE_REVISION_MAX];
	bool stale = true;

	if (cache->tenant && t->team_rev_ok) {
		/*
		 * Team mode: the revision the probe of this request read, no
		 * second query. An answer is kept under the revision read before
		 * its rows, so it serves whatever the listener's state: the
		 * listener only frees a tenant's answers (its counts are what
		 * needs it caught up: api_counts).
		 */
		snprintf(token, API_RESP_TOKEN_MAX, "%s", t->team_rev);
		return 1;
	}

	if (sm_store_any_flagged_stale(cache->store, &stale, NULL) < 0 || stale)
		return 0;
	if (sm_store_revision(cache->store, rev, NULL) < 0)
		return 0;
	snprintf(token, API_RESP_TOKEN_MAX, "%s", rev);
	return 1;
}

/* "path?query", after "<tenant>\x1f" in team mode (the listener drops a tenant's). */
static int resp_key(struct sm_http_req *req, struct strbuf *key)
{
	const char *tenant = req->thread_data ? api_cache(req)->tenant : NULL;
	int r;

	if (tenant &&
	    ((r = sm_strbuf_addstr(key, tenant)) < 0 || (r = sm_strbuf_addch(key, '\x1f')) < 0))
		return r;
	if ((r = sm_strbuf_add(key, req->path, req->path_len)) < 0 ||
	    (r = sm_strbuf_addch(key, '?')) < 0)
		return r;
	return sm_strbuf_add(key, req->query, req->query_len);
}

/*
 * The listener has not handled the commits up to this request's probe yet
 * (a write a moment ago): they were committed, so their notifications are
 * on their way. Rather than read the page again (~4 ms of queries on this
 * thread), wait up to 5 ms for the listener, while it is connected.
 */
static bool wait_listener(struct sm_app_thread *t)
{
	struct sm_app *app = t->app;
	const char *tenant = t->cache->tenant ? t->cache->tenant : "default";
	struct sm_pg_listen_stats ls;

	sm_pg_listen_stats(app->listener, &ls);
	for (int i = 0; ls.connected && i < 25; i++) {
		if (sm_pg_listen_fresh(app->listener, tenant, &t->team_probe)) {
			t->cache->team_stale = false;
			return true;
		}
		nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
	}
	return false;
}

bool api_resp_get(struct sm_http_req *req, const char *token, const char *etag_prefix)
{
	struct sm_app_thread *t = req->thread_data;
	struct strbuf key = STRBUF_INIT;
	struct resp_entry *e = NULL;
	bool hit = false, waited = false;
	void *v;

	if (!t || resp_key(req, &key) < 0)
		goto out;
again:
	pthread_mutex_lock(&t->resp_lock);
	if (!t->resp || !sm_hashmap_get(t->resp, key.buf, key.len, &v))
		goto unlock;
	e = v;
	if (strcmp(e->token, token) && e->extend && t->team_rev_ok && t->cache->team_stale &&
	    !waited && same_tenant(e->token, token)) {
		/* never while holding the lock the listener drops answers under */
		pthread_mutex_unlock(&t->resp_lock);
		waited = true;
		if (wait_listener(t))
			goto again;
		goto out;
	}
	/*
	 * Another revision: served when the answer may outlive commits and the
	 * listener has handled every one up to this request's probe (fresh):
	 * each that touched the answer dropped it before being recorded.
	 */
	if (strcmp(e->token, token) &&
	    !(e->extend && t->team_rev_ok && !t->cache->team_stale && same_tenant(e->token, token)))
		goto unlock;
	hit = true;
	if (t->app->metrics)
		sm_server_metrics_cache_hit(t->app->metrics, "answer");
	/* the token is the revision: the same ETag api_revision_etag gives, no query */
	sm_strbuf_reset(&key);
	if (sm_strbuf_addf(&key, "%s.%s", etag_prefix, token) == 0 && sm_http_etag(req, key.buf))
		goto unlock; /* 304 */
	if (sm_http_text(req, 200, "application/json", e->body, e->len) < 0)
		hit = false;
unlock:
	pthread_mutex_unlock(&t->resp_lock);
out:
	sm_strbuf_release(&key);
	return hit;
}

static void resp_clear(struct sm_app_thread *t)
{
	size_t pos = 0;
	const void *k;
	size_t kl;
	void *v;

	while (t->resp && sm_hashmap_next(t->resp, &pos, &k, &kl, &v))
		sm_free(v);
	if (t->resp)
		sm_hashmap_clear(t->resp);
	t->nresp = 0;
}

void api_resp_put(struct sm_http_req *req, const char *token, bool extend,
		  const struct sm_artifact_row *rows, size_t n)
{
	struct sm_app_thread *t = req->thread_data;
	struct strbuf key = STRBUF_INIT;
	struct resp_entry *e;
	void *old = NULL;
	size_t len = req->res.body.len;

	if (!t || req->res.status != 200 || !len)
		return;
	if (!extend || !t->team_rev_ok)
		n = 0;
	e = sm_malloc(sizeof(*e) + len + n * RESP_UUID);
	if (!e || resp_key(req, &key) < 0) {
		sm_free(e);
		goto out;
	}
	snprintf(e->token, sizeof(e->token), "%s", token);
	e->len = len;
	memcpy(e->body, req->res.body.buf, len);
	e->extend = extend && t->team_rev_ok;
	e->nuuids = n;
	e->uuids = e->body + len;
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].uuid || strlen(rows[i].uuid) >= RESP_UUID)
			e->extend = false;
		snprintf(e->uuids + i * RESP_UUID, RESP_UUID, "%s", rows[i].uuid ? rows[i].uuid : "");
	}
	pthread_mutex_lock(&t->resp_lock);
	/* a notification handled since the probe may have been one that touched it */
	if (t->resp_gen != t->resp_gen_probe)
		e->extend = false;
	if (!t->resp && sm_hashmap_new(&t->resp) < 0)
		goto unlock;
	if (t->nresp >= RESP_MAX_ENTRIES)
		resp_clear(t); /* bounded memory: start over */
	if (sm_hashmap_put(t->resp, key.buf, key.len, e, &old) < 0)
		goto unlock;
	e = NULL;
	if (!old)
		t->nresp++;
unlock:
	pthread_mutex_unlock(&t->resp_lock);
	sm_free(old);
	sm_free(e);
out:
	sm_strbuf_release(&key);
}

/* Does e show one of the artifacts uuids[0..n)? */
static bool shows_any(const struct resp_entry *e, const char *const *uuids, size_t n)
{
	for (size_t i = 0; i < e->nuuids; i++)
		for (size_t j = 0; j < n; j++)
			if (!strcmp(e->uuids + i * RESP_UUID, uuids[j]))
				return true;
	return false;
}

void api_resp_drop(struct sm_app_thread *t, const struct sm_pg_note *note)
{
	const char *tenant = note->tenant;
	size_t plen = tenant ? strlen(tenant) : 0, pos = 0;
	const void *k;
	size_t kl;
	void *v;

	pthread_mutex_lock(&t->resp_lock);
	t->resp_gen++;
	while (t->resp && sm_hashmap_next(t->resp, &pos, &k, &kl, &v)) {
		const struct resp_entry *e = v;

		if (tenant && (kl <= plen || memcmp(k, tenant, plen) != 0 ||
			       ((const char *)k)[plen] != '\x1f'))
			continue;
		/* an answer of one revision is dead anyway; a longer one unless untouched */
		if (tenant && e->extend && !note->all_answers &&
		    !shows_any(e, note->uuids, note->nuuids))
			continue;
		sm_hashmap_remove(t->resp, k, kl, NULL);
		sm_free(v);
		t->nresp--;
	}
	pthread_mutex_unlock(&t->resp_lock);
}

void api_resp_free(struct sm_app_thread *t)
{
	resp_clear(t);
	sm_hashmap_free(t->resp);
	t->resp = NULL;
}

/* The cursor of row in q's order: its key, after "<sort value>\t" for a newest-first order. */
static int cursor_of(const struct sm_artifact_query *q, const struct sm_artifact_row *row,
		     const char *key, struct strbuf *out)
{
	const char *v = q->sort == SM_SORT_UPDATED && row->updated && *row->updated ? row->updated
										      : row->added;
	int r = 0;

	if (api_sort_has_value(q))
		r = sm_strbuf_addf(out, "%s\t", v ? v : "");
	return r < 0 ? r : sm_strbuf_addstr(out, key);
}

/*
 * May an answer of q outlive commits that change none of its rows? Only when
 * an update in place of another row cannot move that row into the page or
 * change its order: no filter on tags, tools or words, and the key or name
 * order (an update bumps "updated"); the type, file collection, user
 * collection and cursor filters are on keys and memberships, whose changes
 * drop every answer (migration 3). Team mode only (api_resp_put).
 */
static bool extendable(const struct sm_artifact_query *q)
{
	return !q->ntags && !q->ntools && !q->search && !q->rank &&
	       (q->sort == SM_SORT_KEY || q->sort == SM_SORT_NAME);
}

int api_answer_page(struct sm_http_req *req, struct sm_app *app, const struct sm_artifact_query *q,
		    const char *etag_prefix, api_item_fn item, void *ctx, const char *tok,
		    bool cacheable)
{
	struct sm_cache *cache = api_cache(req);
	struct sm_artifact_page page = {0};
	struct strbuf key = STRBUF_INIT, first = STRBUF_INIT, last = STRBUF_INIT;
	json_t **colls = NULL, *items = NULL, *o;
	size_t *same = NULL;
	int r;

	r = api_list_fresh(req, app, cache, q, &page);
	if (r == API_DEFERRED)
		return SM_HTTP_DEFERRED;
	if (r < 0)
		return api_fail(req, r, NULL);
	if (api_revision_etag(req, cache, etag_prefix)) {
		sm_artifact_page_release(&page);
		return SM_HTTP_DONE;
	}
	colls = sm_calloc(page.n + 1, sizeof(*colls));
	items = json_array();
	if (!colls || !items) {
		r = -ENOMEM;
		goto out;
	}
	r = api_collections_of(app, cache, page.rows, page.n, colls);
	/* the ids ("collection/" when a name is in two): one query, not one per row */
	if (r == 0 && page.n && !(same = sm_calloc(page.n, sizeof(*same))))
		r = -ENOMEM;
	if (r == 0)
		r = sm_store_name_counts(cache->store, page.rows, page.n, same, NULL);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < page.n; i++) {
		sm_strbuf_reset(&key);
		if ((r = sm_cache_artifact_key_of(&page.rows[i], same[i], &key)) < 0)
			goto out;
		if ((i == 0 || i + 1 == page.n) &&
		    (r = cursor_of(q, &page.rows[i], key.buf, i == 0 ? &first : &last)) < 0)
			goto out;
		json_array_append_new(items, item(&page.rows[i], key.buf, colls[i], ctx));
		colls[i] = NULL;
	}
	o = json_pack("{s:O, s:o}", "items", items, "page_info",
		      api_page_info(page.n ? first.buf : NULL,
				    page.n ? (page.n == 1 ? first.buf : last.buf) : NULL,
				    page.has_next, q->after_type != NULL, page.total_count));
	r = o ? sm_http_json(req, 200, o) : -ENOMEM;
	if (r == 0 && cacheable)
		api_resp_put(req, tok, extendable(q), page.rows, page.n);
out:
	for (size_t i = 0; colls && i < page.n; i++)
		json_decref(colls[i]);
	sm_free(colls);
	sm_free(same);
	json_decref(items);
	sm_artifact_page_release(&page);
	sm_strbuf_release(&key);
	sm_strbuf_release(&first);
	sm_strbuf_release(&last);
	return r < 0 ? api_fail(req, r, NULL) : SM_HTTP_DONE;
}
