/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "http/rate_limit.h"

#include "util/banned.h"

#define MAX_KINDS 32 /* distinct request fingerprints tracked per client */
#define SWEEP_EVERY 4096
#define NS 1000000000LL

/* One request fingerprint: the times of its latest requests, oldest first. */
struct fp {
	uint64_t hash;
	int64_t last;
	size_t n;
	int64_t times[]; /* capacity: threshold */
};

struct client {
	int64_t last_seen;
	int64_t blocked_until;	     /* a burst of reads: every request refused */
	int64_t writes_blocked_until; /* a burst of writes: writes refused, reads still served */
	double tokens;
	int64_t tokens_at;
	bool bucket_used;
	size_t n_fps;
	struct fp *fps[MAX_KINDS];
};

struct sm_rate_limit {
	pthread_mutex_t lock;
	struct sm_rate_limit_config cfg;
	int64_t window_ns, block_ns, refill_ns, idle_ns;
	sm_rate_clock_fn clock;
	void *clock_ctx;
	struct sm_hashmap *clients;
	unsigned long checks;
};

static int64_t mono_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t sec_to_ns(double s)
{
	return (int64_t)llround(s * 1e9);
}

int sm_rate_limit_new(const struct sm_rate_limit_config *cfg, sm_rate_clock_fn clock,
		      void *clock_ctx, struct sm_rate_limit **ret)
{
	struct sm_rate_limit *rl;
	int64_t bucket_ns;
	int r;

	if (cfg->burst_threshold == 0 || cfg->refresh_burst == 0 || cfg->window_sec <= 0 ||
	    cfg->block_sec < 0 || cfg->refresh_refill_sec <= 0 || cfg->max_clients == 0)
		return -EINVAL;
	rl = sm_calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	r = sm_hashmap_new(&rl->clients);
	if (r < 0) {
		sm_free(rl);
		return r;
	}
	pthread_mutex_init(&rl->lock, NULL);
	rl->cfg = *cfg;
	rl->clock = clock ? clock : mono_ns;
	rl->clock_ctx = clock_ctx;
	rl->window_ns = sec_to_ns(cfg->window_sec);
	rl->block_ns = sec_to_ns(cfg->block_sec);
	rl->refill_ns = sec_to_ns(cfg->refresh_refill_sec);
	bucket_ns = rl->refill_ns * (int64_t)cfg->refresh_burst;
	rl->idle_ns = rl->window_ns;
	if (rl->block_ns > rl->idle_ns)
		rl->idle_ns = rl->block_ns;
	if (bucket_ns > rl->idle_ns)
		rl->idle_ns = bucket_ns;
	*ret = rl;
	return 0;
}

static void client_free(struct client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_fps; i++)
		sm_free(c->fps[i]);
	sm_free(c);
}

void sm_rate_limit_free(struct sm_rate_limit *rl)
{
	size_t pos = 0;
	const void *key;
	size_t keylen;
	void *value;

	if (!rl)
		return;
	while (sm_hashmap_next(rl->clients, &pos, &key, &keylen, &value))
		client_free(value);
	sm_hashmap_free(rl->clients);
	pthread_mutex_destroy(&rl->lock);
	sm_free(rl);
}

static bool client_idle(const struct sm_rate_limit *rl, const struct client *c, int64_t now)
{
	return now - c->last_seen >= rl->idle_ns && c->blocked_until <= now &&
	       c->writes_blocked_until <= now;
}

static void sweep_locked(struct sm_rate_limit *rl, int64_t now)
{
	size_t pos = 0;
	const void *key;
	size_t keylen;
	void *value;

	while (sm_hashmap_next(rl->clients, &pos, &key, &keylen, &value)) {
		if (client_idle(rl, value, now)) {
			sm_hashmap_remove(rl->clients, key, keylen, NULL);
			client_free(value);
		}
	}
}

static void evict_oldest_locked(struct sm_rate_limit *rl)
{
	size_t pos = 0, keylen, best_len = 0;
	const void *key, *best_key = NULL;
	void *value;
	struct client *best = NULL;

	while (sm_hashmap_next(rl->clients, &pos, &key, &keylen, &value)) {
		struct client *c = value;

		if (!best || c->last_seen < best->last_seen) {
			best = c;
			best_key = key;
			best_len = keylen;
		}
	}
	if (!best)
		return;
	sm_hashmap_remove(rl->clients, best_key, best_len, NULL);
	client_free(best);
}

static struct client *get_client(struct sm_rate_limit *rl, const char *ip, int64_t now)
{
	size_t len = strlen(ip);
	void *value;
	struct client *c;

	if (sm_hashmap_get(rl->clients, ip, len, &value))
		return value;
	if (sm_hashmap_size(rl->clients) >= rl->cfg.max_clients) {
		sweep_locked(rl, now);
		while (sm_hashmap_size(rl->clients) >= rl->cfg.max_clients)
			evict_oldest_locked(rl);
	}
	c = sm_calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->tokens = rl->cfg.refresh_burst;
	c->tokens_at = now;
	c->last_seen = now;
	if (sm_hashmap_put(rl->clients, ip, len, c, NULL) < 0) {
		sm_free(c);
		return NULL;
	}
	return c;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	h ^= 0xff; /* separator */
	h *= UINT64_C(0x100000001b3);
	return h;
}

static struct fp *get_fp(struct sm_rate_limit *rl, struct client *c, uint64_t hash)
{
	struct fp *f;
	size_t oldest = 0;

	for (size_t i = 0; i < c->n_fps; i++) {
		if (c->fps[i]->hash == hash)
			return c->fps[i];
		if (c->fps[i]->last < c->fps[oldest]->last)
			oldest = i;
	}
	if (c->n_fps == MAX_KINDS) {
		f = c->fps[oldest];
	} else {
		f = sm_malloc(sizeof(*f) + rl->cfg.burst_threshold * sizeof(f->times[0]));
		if (!f)
			return NULL;
		c->fps[c->n_fps++] = f;
	}
	f->hash = hash;
	f->n = 0;
	f->last = 0;
	return f;
}

static unsigned ceil_sec(int64_t ns)
{
	int64_t s = (ns + NS - 1) / NS;

	return s < 1 ? 1 : (unsigned)s;
}

static bool is_read(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS");
}

static void check_burst(struct sm_rate_limit *rl, struct client *c, int64_t now, const char *method,
			const char *path, const char *query, struct sm_rate_result *res)
{
	uint64_t h = fnv(fnv(fnv(UINT64_C(0xcbf29ce484222325), method), path), query);
	struct fp *f = get_fp(rl, c, h);
	size_t drop = 0;

	if (!f)
		return;
	while (drop < f->n && now - f->times[drop] >= rl->window_ns)
		drop++;
	if (drop) {
		memmove(f->times, f->times + drop, (f->n - drop) * sizeof(f->times[0]));
		f->n -= drop;
	}
	if (f->n == rl->cfg.burst_threshold) {
		memmove(f->times, f->times + 1, (f->n - 1) * sizeof(f->times[0]));
		f->n--;
	}
	f->times[f->n++] = now;
	f->last = now;
	res->current = (unsigned)f->n;
	if (f->n >= rl->cfg.burst_threshold) {
		if (is_read(method))
			c->blocked_until = now + rl->block_ns;
		else
			c->writes_blocked_until = now + rl->block_ns;
		res->allowed = false;
		res->retry_after = ceil_sec(rl->block_ns);
	}
}

static void check_bucket(struct sm_rate_limit *rl, struct client *c, int64_t now,
			 struct sm_rate_result *res)
{
	double cap = rl->cfg.refresh_burst;

	c->tokens += (double)(now - c->tokens_at) / (double)rl->refill_ns;
	if (c->tokens > cap)
		c->tokens = cap;
	c->tokens_at = now;
	if (c->tokens >= 1.0) {
		c->tokens -= 1.0;
		return;
	}
	res->allowed = false;
	res->retry_after = ceil_sec((int64_t)ceil((1.0 - c->tokens) * (double)rl->refill_ns));
}

void sm_rate_limit_check(struct sm_rate_limit *rl, const char *ip, enum sm_rate_kind kind,
			 const char *method, const char *path, const char *query,
			 struct sm_rate_result *res)
{
	struct client *c;
	int64_t now;

	res->allowed = true;
	res->retry_after = 0;
	res->current = 0;
	if (!rl || !rl->cfg.enabled)
		return;
	now = rl->clock(rl->clock_ctx);
	pthread_mutex_lock(&rl->lock);
	if (++rl->checks % SWEEP_EVERY == 0)
		sweep_locked(rl, now);
	c = get_client(rl, ip ? ip : "unknown", now);
	if (!c)
		goto out;
	c->last_seen = now;
	if (!method)
		method = "GET";
	if (c->blocked_until > now) {
		res->allowed = false;
		res->retry_after = ceil_sec(c->blocked_until - now);
		goto out;
	}
	if ((kind == SM_RATE_BUCKET || !is_read(method)) && c->writes_blocked_until > now) {
		res->allowed = false;
		res->retry_after = ceil_sec(c->writes_blocked_until - now);
		goto out;
	}
	if (kind == SM_RATE_BUCKET)
		check_bucket(rl, c, now, res);
	else
		check_burst(rl, c, now, method, path, query, res);
out:
	pthread_mutex_unlock(&rl->lock);
}

size_t sm_rate_limit_clients(struct sm_rate_limit *rl)
{
	size_t n;

	pthread_mutex_lock(&rl->lock);
	n = sm_hashmap_size(rl->clients);
	pthread_mutex_unlock(&rl->lock);
	return n;
}

void sm_rate_limit_sweep(struct sm_rate_limit *rl)
{
	int64_t now = rl->clock(rl->clock_ctx);

	pthread_mutex_lock(&rl->lock);
	sweep_locked(rl, now);
	pthread_mutex_unlock(&rl->lock);
}
