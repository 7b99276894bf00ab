/* SPDX-License-Identifier: MIT */
/*
 * The team store's listener (skillmeat/store_pg.h, docs/team.md
 * "Invalidation"): one libpq connection of its own on a background thread,
 * LISTEN skillmeat_team, each notification (migration 3's payload
 * "<epoch> <serial> <revision> <counts> <answers> <tenant>") handed to the hooks that
 * drop the cache entries it affects, then recorded as the revision the
 * instance has caught up with for that tenant.
 *
 * A request may use a cache only when the listener is connected and has
 * caught up with the revision the request's probe read
 * (sm_pg_listen_fresh): a notification not received yet, or lost with the
 * connection, can then never leave a stale entry in use. Reconnecting
 * drops every entry (whatever was missed is unknown), then reads every
 * tenant's revision: caught up again.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cache/store_pg_internal.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/store_pg.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

#define RETRY_MIN_MS 50
#define RETRY_MAX_MS 1000

struct known {
	int64_t serial, revision;
};

struct sm_pg_listener {
	char *url;
	struct sm_pg_listen_hooks hooks;
	pthread_t thread;
	int stopfd; /* eventfd: sm_pg_listen_stop wakes the thread */
	pthread_mutex_t lock;
	/* under lock: */
	bool stop;
	bool connected;		  /* and caught up at connect time */
	bool resync;		  /* a probe saw another epoch: read everything again */
	int64_t epoch;		  /* team_meta.epoch of the connection */
	struct sm_hashmap *known; /* tenant id -> struct known: the revision caught up with */
	uint64_t connects, notes;
};

static void known_clear(struct sm_hashmap *map)
{
	size_t pos = 0;
	const void *k;
	size_t kl;
	void *v;

	while (sm_hashmap_next(map, &pos, &k, &kl, &v))
		sm_free(v);
	sm_hashmap_clear(map);
}

/* Record tenant at (serial, revision) under the lock: never backwards within one serial. */
static int known_set(struct sm_hashmap *map, const char *tenant, int64_t serial, int64_t rev)
{
	struct known *k;
	void *v;

	if (sm_hashmap_get(map, tenant, strlen(tenant), &v)) {
		k = v;
		if (k->serial != serial || rev > k->revision) {
			k->serial = serial;
			k->revision = rev;
		}
		return 0;
	}
	if (!(k = sm_malloc(sizeof(*k))))
		return -ENOMEM;
	k->serial = serial;
	k->revision = rev;
	if (sm_hashmap_put(map, tenant, strlen(tenant), k, NULL) < 0) {
		sm_free(k);
		return -ENOMEM;
	}
	return 0;
}

bool sm_pg_listen_fresh_impl(struct sm_pg_listener *l, const char *tenant,
			     const struct sm_pg_revision *rev)
{
	struct known none = {0, 0}, *k = &none;
	bool fresh = false, wake = false;
	void *v;

	if (!l)
		return false;
	pthread_mutex_lock(&l->lock);
	if (l->connected && rev->epoch != l->epoch) {
		/* the schema was made again under us: start over */
		wake = !l->resync;
		l->resync = true;
	} else if (l->connected) {
		/* a tenant never seen had no row when the listener caught up: 0, 0 */
		if (sm_hashmap_get(l->known, tenant, strlen(tenant), &v))
			k = v;
		fresh = k->serial == rev->serial && k->revision >= rev->revision;
	}
	pthread_mutex_unlock(&l->lock);
	if (wake) {
		uint64_t one = 1;

		(void)!write(l->stopfd, &one, sizeof(one));
	}
	return fresh;
}

void sm_pg_listen_stats_impl(struct sm_pg_listener *l, struct sm_pg_listen_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	ret->connected = l->connected;
	ret->connects = l->connects;
	ret->notes = l->notes;
	pthread_mutex_unlock(&l->lock);
}

static void set_disconnected(struct sm_pg_listener *l)
{
	pthread_mutex_lock(&l->lock);
	l->connected = false;
	pthread_mutex_unlock(&l->lock);
}

/*
 * Connect, LISTEN, drop every cache entry, then read every tenant's
 * revision: from then on each notification is one we have not seen yet.
 */
static int connect_and_catch_up(struct sm_pg_listener *l, PGconn **ret)
{
	static const char *const keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {l->url, "skillmeat-listen", NULL};
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	PGresult *res = NULL, *meta = NULL;
	struct sm_hashmap *map = NULL;
	int r = -ECONNREFUSED;

	if (!conn || PQstatus(conn) != CONNECTION_OK)
		goto out;
	res = PQexec(conn, "LISTEN skillmeat_team");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto out;
	PQclear(res);
	/* the entries of before are unknown now: dropped before we say caught up */
	l->hooks.drop(l->hooks.ctx, &(struct sm_pg_note){.all_counts = true, .all_answers = true});
	meta = PQexec(conn, "SELECT epoch FROM team_meta");
	res = PQexec(conn, "SELECT id, serial, revision FROM tenants");
	if (PQresultStatus(meta) != PGRES_TUPLES_OK || PQntuples(meta) != 1 ||
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		goto out;
	if (sm_hashmap_new(&map) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < PQntuples(res); i++)
		if (known_set(map, PQgetvalue(res, i, 0), strtoll(PQgetvalue(res, i, 1), NULL, 10),
			      strtoll(PQgetvalue(res, i, 2), NULL, 10)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	pthread_mutex_lock(&l->lock);
	known_clear(l->known);
	sm_hashmap_free(l->known);
	l->known = TAKE_PTR(map);
	l->epoch = strtoll(PQgetvalue(meta, 0, 0), NULL, 10);
	l->connected = true;
	l->resync = false;
	l->connects++;
	pthread_mutex_unlock(&l->lock);
	*ret = TAKE_PTR(conn);
	r = 0;
out:
	if (map) {
		known_clear(map);
		sm_hashmap_free(map);
	}
	PQclear(meta);
	PQclear(res);
	PQfinish(conn);
	return r;
}

/* Split "a,b,c" in place into ids (at most max); returns their number. */
static size_t split_ids(char *s, const char **ids, size_t max)
{
	size_t n = 0;

	for (char *p = s; p && *p && n < max;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		ids[n++] = p;
		p = comma ? comma + 1 : NULL;
	}
	return n;
}

/* One notification: drop what it affects, then record the revision reached. */
static void handle(struct sm_pg_listener *l, const char *payload)
{
	char buf[8192], *f[5], *p = buf;
	const char *ids[512], *uuids[64];
	struct sm_pg_note note = {0};
	int64_t epoch, serial, rev;

	if (snprintf(buf, sizeof(buf), "%s", payload) >= (int)sizeof(buf))
		goto unknown;
	for (int i = 0; i < 5; i++) {
		f[i] = p;
		if (!(p = strchr(p, ' ')))
			goto unknown;
		*p++ = '\0';
	}
	note.tenant = p;
	epoch = strtoll(f[0], NULL, 10);
	serial = strtoll(f[1], NULL, 10);
	rev = strtoll(f[2], NULL, 10);
	note.all_counts = !strcmp(f[3], "*");
	if (!note.all_counts && strcmp(f[3], "-") != 0) {
		note.n = split_ids(f[3], ids, sizeof(ids) / sizeof(ids[0]));
		note.ids = ids;
		note.all_counts = f[3][0] == '\0' || note.n == sizeof(ids) / sizeof(ids[0]);
	}
	/* never fewer answers than it names: a list that does not fit drops them all */
	note.all_answers = !strcmp(f[4], "*") || f[4][0] == '\0';
	if (!note.all_answers) {
		size_t commas = 0;

		for (const char *c = f[4]; *c; c++)
			commas += *c == ',';
		note.all_answers = commas >= sizeof(uuids) / sizeof(uuids[0]);
		note.nuuids = split_ids(f[4], uuids, sizeof(uuids) / sizeof(uuids[0]));
		note.uuids = uuids;
	}
	if (note.all_counts) {
		note.ids = NULL;
		note.n = 0;
	}
	if (note.all_answers) {
		note.uuids = NULL;
		note.nuuids = 0;
	}
	l->hooks.drop(l->hooks.ctx, &note);
	pthread_mutex_lock(&l->lock);
	l->notes++;
	if (epoch == l->epoch && known_set(l->known, note.tenant, serial, rev) < 0)
		l->resync = true; /* not recorded: that tenant stays not fresh until resync */
	if (epoch != l->epoch)
		l->resync = true;
	pthread_mutex_unlock(&l->lock);
	return;
unknown:
	/* a payload we cannot read (an older schema's): read everything again */
	sm_log_warn("team listener: unreadable notification, reading every revision again");
	pthread_mutex_lock(&l->lock);
	l->resync = true;
	pthread_mutex_unlock(&l->lock);
}

/* Wait for the socket (fd >= 0) or the stop/resync event, up to ms. Returns true to stop. */
static bool wait_for(struct sm_pg_listener *l, int fd, int ms)
{
	struct pollfd p[2] = {{.fd = l->stopfd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
	uint64_t v;
	bool stop;

	if (poll(p, fd >= 0 ? 2 : 1, ms) > 0 && (p[0].revents & POLLIN))
		(void)!read(l->stopfd, &v, sizeof(v));
	pthread_mutex_lock(&l->lock);
	stop = l->stop;
	pthread_mutex_unlock(&l->lock);
	return stop;
}

static bool stopping(struct sm_pg_listener *l, bool *resync)
{
	bool stop;

	pthread_mutex_lock(&l->lock);
	stop = l->stop;
	*resync = l->resync;
	pthread_mutex_unlock(&l->lock);
	return stop;
}

static void *listen_main(void *arg)
{
	struct sm_pg_listener *l = arg;
	int retry_ms = RETRY_MIN_MS;
	PGconn *conn = NULL;
	bool resync = false;

	while (!stopping(l, &resync)) {
		PGnotify *n;

		if (conn && resync) {
			set_disconnected(l);
			PQfinish(conn);
			conn = NULL;
		}
		if (!conn) {
			if (connect_and_catch_up(l, &conn) < 0) {
				if (wait_for(l, -1, retry_ms))
					break;
				retry_ms =
				    retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2;
				continue;
			}
			retry_ms = RETRY_MIN_MS;
			sm_log_info("team listener: listening, caught up");
		}
		if (wait_for(l, PQsocket(conn), 1000))
			break;
		if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
			/* every cache is stale until the next connect has caught up */
			set_disconnected(l);
			sm_log_warn(
			    "team listener: connection lost, caches bypassed until it is back");
			PQfinish(conn);
			conn = NULL;
			continue;
		}
		while ((n = PQnotifies(conn))) {
			handle(l, n->extra);
			PQfreemem(n);
		}
	}
	set_disconnected(l);
	PQfinish(conn);
	return NULL;
}

static void listener_free(struct sm_pg_listener *l)
{
	if (l->known) {
		known_clear(l->known);
		sm_hashmap_free(l->known);
	}
	if (l->stopfd >= 0)
		close(l->stopfd);
	pthread_mutex_destroy(&l->lock);
	sm_free(l->url);
	sm_free(l);
}

int sm_pg_listen_start_impl(const char *url, const struct sm_pg_listen_hooks *hooks,
			    struct sm_pg_listener **ret, struct strbuf *err)
{
	struct sm_pg_listener *l = sm_calloc(1, sizeof(*l));
	int r;

	if (!l)
		return sm_err(err, -ENOMEM, "out of memory");
	l->stopfd = -1;
	pthread_mutex_init(&l->lock, NULL);
	l->hooks = *hooks;
	if (!(l->url = sm_strdup(url)) || sm_hashmap_new(&l->known) < 0) {
		listener_free(l);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stopfd < 0) {
		r = -errno;
		listener_free(l);
		return sm_err(err, r, "cannot make the listener's event: %s", strerror(-r));
	}
	r = pthread_create(&l->thread, NULL, listen_main, l);
	if (r) {
		listener_free(l);
		return sm_err(err, -r, "cannot start the listener thread: %s", strerror(r));
	}
	*ret = l;
	return 0;
}

void sm_pg_listen_stop_impl(struct sm_pg_listener *l)
{
	uint64_t one = 1;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_mutex_unlock(&l->lock);
	(void)!write(l->stopfd, &one, sizeof(one));
	pthread_join(l->thread, NULL);
	listener_free(l);
}
