/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "http/metrics.h"
#include "skillmeat/loop_guard.h"

#include "util/banned.h"

struct sm_metric {
	struct sm_metric *next;
	struct sm_metric_family *family;
	char *values[SM_METRICS_MAX_LABELS];
	_Atomic uint64_t value; /* double bits: counter/gauge value, histogram sum */
	_Atomic unsigned long long count;
	_Atomic unsigned long long buckets[]; /* histogram: per-bucket (not cumulative) */
};

struct sm_metric_family {
	struct sm_metric_family *next;
	enum sm_metric_type type;
	char *name;
	char *help;
	char *labels[SM_METRICS_MAX_LABELS];
	size_t n_labels;
	double bounds[SM_METRICS_MAX_BUCKETS];
	size_t n_bounds;
	pthread_mutex_t lock;
	struct sm_metric *head, **tail;
	struct sm_hashmap *index; /* joined label values -> series */
};

struct collector {
	sm_metrics_collect_fn fn;
	void *data;
};

struct sm_metrics {
	pthread_mutex_t lock; /* the family list and collectors */
	struct sm_metric_family *head, **tail;
	struct collector *collectors;
	size_t n_collectors;
};

static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

int sm_metrics_new(struct sm_metrics **ret)
{
	struct sm_metrics *m = sm_calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->tail = &m->head;
	*ret = m;
	return 0;
}

static void series_free(struct sm_metric *s)
{
	for (size_t i = 0; i < SM_METRICS_MAX_LABELS; i++)
		sm_free(s->values[i]);
	sm_free(s);
}

static void family_free(struct sm_metric_family *f)
{
	struct sm_metric *s, *next;

	if (!f)
		return;
	for (s = f->head; s; s = next) {
		next = s->next;
		series_free(s);
	}
	sm_hashmap_free(f->index);
	for (size_t i = 0; i < f->n_labels; i++)
		sm_free(f->labels[i]);
	sm_free(f->name);
	sm_free(f->help);
	pthread_mutex_destroy(&f->lock);
	sm_free(f);
}

void sm_metrics_free(struct sm_metrics *m)
{
	struct sm_metric_family *f, *next;

	if (!m)
		return;
	for (f = m->head; f; f = next) {
		next = f->next;
		family_free(f);
	}
	sm_free(m->collectors);
	pthread_mutex_destroy(&m->lock);
	sm_free(m);
}

static bool valid_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return false;
	return true;
}

struct sm_metric_family *sm_metrics_find(struct sm_metrics *m, const char *name)
{
	struct sm_metric_family *f;

	pthread_mutex_lock(&m->lock);
	for (f = m->head; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	pthread_mutex_unlock(&m->lock);
	return f;
}

int sm_metrics_family(struct sm_metrics *m, enum sm_metric_type type, const char *name,
		      const char *help, const char *const *labels, const double *buckets,
		      size_t n_buckets, struct sm_metric_family **ret)
{
	struct sm_metric_family *f;
	int r;

	if (!valid_name(name) || n_buckets > SM_METRICS_MAX_BUCKETS ||
	    (type == SM_METRIC_HISTOGRAM) != (buckets != NULL))
		return -EINVAL;
	for (size_t i = 1; i < n_buckets; i++)
		if (!(buckets[i] > buckets[i - 1]))
			return -EINVAL;
	if (sm_metrics_find(m, name))
		return -EEXIST;
	f = sm_calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	f->tail = &f->head;
	f->type = type;
	f->name = sm_strdup(name);
	f->help = sm_strdup(help ? help : "");
	r = sm_hashmap_new(&f->index);
	if (!f->name || !f->help || r < 0) {
		family_free(f);
		return -ENOMEM;
	}
	for (; labels && labels[f->n_labels]; f->n_labels++) {
		if (f->n_labels == SM_METRICS_MAX_LABELS || !valid_name(labels[f->n_labels])) {
			family_free(f);
			return -EINVAL;
		}
		f->labels[f->n_labels] = sm_strdup(labels[f->n_labels]);
		if (!f->labels[f->n_labels]) {
			family_free(f);
			return -ENOMEM;
		}
	}
	if (n_buckets)
		memcpy(f->bounds, buckets, n_buckets * sizeof(double));
	f->n_bounds = n_buckets;
	pthread_mutex_lock(&m->lock);
	*m->tail = f;
	m->tail = &f->next;
	pthread_mutex_unlock(&m->lock);
	if (ret)
		*ret = f;
	return 0;
}

struct sm_metric *sm_metric_labels(struct sm_metric_family *f, const char *const *values)
{
	char key[512];
	size_t kl = 0;
	struct sm_metric *s = NULL;
	void *found;

	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n_labels; i++) {
		size_t vl = strlen(values[i]);

		if (kl + vl + 1 > sizeof(key))
			return NULL;
		memcpy(key + kl, values[i], vl);
		kl += vl;
		key[kl++] = '\x1f';
	}
	pthread_mutex_lock(&f->lock);
	if (sm_hashmap_get(f->index, key, kl, &found)) {
		s = found;
		goto out;
	}
	s = sm_calloc(1, sizeof(*s) + (f->n_bounds + 1) * sizeof(s->buckets[0]));
	if (!s)
		goto out;
	s->family = f;
	for (size_t i = 0; i < f->n_labels; i++) {
		s->values[i] = sm_strdup(values[i]);
		if (!s->values[i])
			goto fail;
	}
	if (sm_hashmap_put(f->index, key, kl, s, NULL) < 0)
		goto fail;
	*f->tail = s;
	f->tail = &s->next;
	goto out;
fail:
	series_free(s);
	s = NULL;
out:
	pthread_mutex_unlock(&f->lock);
	return s;
}

struct sm_metric *sm_metric_get(struct sm_metric_family *f, ...)
{
	const char *values[SM_METRICS_MAX_LABELS] = {0};
	va_list ap;

	if (!f)
		return NULL;
	va_start(ap, f);
	for (size_t i = 0; i < f->n_labels; i++)
		values[i] = va_arg(ap, const char *);
	va_end(ap);
	return sm_metric_labels(f, values);
}

static void add_double(_Atomic uint64_t *a, double v)
{
	uint64_t old = atomic_load_explicit(a, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + v),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

void sm_metric_inc(struct sm_metric *s)
{
	sm_metric_add(s, 1.0);
}

void sm_metric_add(struct sm_metric *s, double v)
{
	if (s)
		add_double(&s->value, v);
}

void sm_metric_set(struct sm_metric *s, double v)
{
	if (s)
		atomic_store_explicit(&s->value, dbits(v), memory_order_relaxed);
}

void sm_metric_observe(struct sm_metric *s, double v)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->family->n_bounds; i++)
		if (v <= s->family->bounds[i])
			break;
	atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
	add_double(&s->value, v);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

double sm_metric_value(const struct sm_metric *s)
{
	return s ? bitsd(atomic_load_explicit(&s->value, memory_order_relaxed)) : 0;
}

unsigned long long sm_metric_count(const struct sm_metric *s)
{
	return s ? atomic_load_explicit(&s->count, memory_order_relaxed) : 0;
}

int sm_metrics_add_collector(struct sm_metrics *m, sm_metrics_collect_fn fn, void *data)
{
	struct collector *nc;

	pthread_mutex_lock(&m->lock);
	nc = sm_reallocarray(m->collectors, m->n_collectors + 1, sizeof(*nc));
	if (nc) {
		m->collectors = nc;
		nc[m->n_collectors].fn = fn;
		nc[m->n_collectors].data = data;
		m->n_collectors++;
	}
	pthread_mutex_unlock(&m->lock);
	return nc ? 0 : -ENOMEM;
}

/* Shortest text that reads back as the same double; Prometheus spellings for specials. */
static void fmt_double(char *buf, size_t size, double v)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, size, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static int add_escaped(struct strbuf *out, const char *s, bool quote)
{
	int r = 0;

	for (; *s && r >= 0; s++) {
		if (*s == '\\')
			r = sm_strbuf_addstr(out, "\\\\");
		else if (*s == '\n')
			r = sm_strbuf_addstr(out, "\\n");
		else if (*s == '"' && quote)
			r = sm_strbuf_addstr(out, "\\\"");
		else
			r = sm_strbuf_addch(out, *s);
	}
	return r;
}

/* name{labels[,extra]} value */
static int add_line(struct strbuf *out, const struct sm_metric_family *f, const char *suffix,
		    const struct sm_metric *s, const char *extra_name, const char *extra_value,
		    const char *value)
{
	bool any = f->n_labels || extra_name;
	int r;

	r = sm_strbuf_addstr(out, f->name);
	if (r >= 0 && suffix)
		r = sm_strbuf_addstr(out, suffix);
	if (r >= 0 && any)
		r = sm_strbuf_addch(out, '{');
	for (size_t i = 0; r >= 0 && i < f->n_labels; i++) {
		r = sm_strbuf_addf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
		if (r >= 0)
			r = add_escaped(out, s->values[i], true);
		if (r >= 0)
			r = sm_strbuf_addch(out, '"');
	}
	if (r >= 0 && extra_name)
		r = sm_strbuf_addf(out, "%s%s=\"%s\"", f->n_labels ? "," : "", extra_name,
				   extra_value);
	if (r >= 0 && any)
		r = sm_strbuf_addch(out, '}');
	if (r >= 0)
		r = sm_strbuf_addf(out, " %s\n", value);
	return r;
}

static int render_series(struct strbuf *out, const struct sm_metric_family *f,
			 const struct sm_metric *s)
{
	char num[64], le[64];
	unsigned long long cum = 0;
	int r = 0;

	if (f->type != SM_METRIC_HISTOGRAM) {
		fmt_double(num, sizeof(num), sm_metric_value(s));
		return add_line(out, f, NULL, s, NULL, NULL, num);
	}
	/* read the buckets first: the count is their sum, so the lines agree */
	for (size_t i = 0; r >= 0 && i <= f->n_bounds; i++) {
		cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
		if (i < f->n_bounds)
			fmt_double(le, sizeof(le), f->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		snprintf(num, sizeof(num), "%llu", cum);
		r = add_line(out, f, "_bucket", s, "le", le, num);
	}
	if (r >= 0) {
		fmt_double(num, sizeof(num), sm_metric_value(s));
		r = add_line(out, f, "_sum", s, NULL, NULL, num);
	}
	if (r >= 0) {
		snprintf(num, sizeof(num), "%llu", cum);
		r = add_line(out, f, "_count", s, NULL, NULL, num);
	}
	return r;
}

static const char *type_name(enum sm_metric_type t)
{
	switch (t) {
	case SM_METRIC_COUNTER:
		return "counter";
	case SM_METRIC_GAUGE:
		return "gauge";
	default:
		return "histogram";
	}
}

int sm_metrics_render(struct sm_metrics *m, struct strbuf *out)
{
	struct collector *cs = NULL;
	size_t n = 0;
	struct sm_metric_family *f;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	if (m->n_collectors) {
		cs = (struct collector *)sm_memdup0(m->collectors, m->n_collectors * sizeof(*cs));
		n = cs ? m->n_collectors : 0;
	}
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < n; i++)
		cs[i].fn(m, cs[i].data);
	sm_free(cs);

	pthread_mutex_lock(&m->lock);
	f = m->head;
	pthread_mutex_unlock(&m->lock);
	while (f && r >= 0) {
		r = sm_strbuf_addf(out, "# HELP %s ", f->name);
		if (r >= 0)
			r = add_escaped(out, f->help, false);
		if (r >= 0)
			r = sm_strbuf_addf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
		pthread_mutex_lock(&f->lock);
		for (struct sm_metric *s = f->head; s && r >= 0; s = s->next)
			r = render_series(out, f, s);
		pthread_mutex_unlock(&f->lock);
		pthread_mutex_lock(&m->lock);
		f = f->next;
		pthread_mutex_unlock(&m->lock);
	}
	return r;
}

long long sm_metrics_rss_bytes(void)
{
	char buf[128];
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	unsigned long long size, resident;
	long page = sysconf(_SC_PAGESIZE);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2 || page <= 0)
		return -EBADMSG;
	return (long long)(resident * (unsigned long long)page);
}

static void collect_rss(struct sm_metrics *m, void *data)
{
	struct sm_server_metrics *sm = data;
	long long rss = sm_metrics_rss_bytes();

	(void)m;
	if (rss >= 0)
		sm_metric_set(sm_metric_get(sm->rss), (double)rss);
}

/* Mirrors the process-wide count of skillmeat/loop_guard.h. */
static void collect_loop_waits(struct sm_metrics *m, void *data)
{
	struct sm_server_metrics *sm = data;

	(void)m;
	sm_metric_set(sm_metric_get(sm->loop_lock_waits), (double)sm_loop_guard_waits());
}

static const double request_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double refresh_buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

int sm_server_metrics_init(struct sm_server_metrics *sm)
{
	static const char *const cache_l[] = {"cache", NULL};
	static const char *const result_l[] = {"result", NULL};
	static const char *const req_l[] = {"method", "endpoint", "status", NULL};
	static const char *const endpoint_l[] = {"endpoint", NULL};
	static const char *const caches[] = {"count", "metadata"};
	struct sm_metrics *m;
	int r;

	memset(sm, 0, sizeof(*sm));
	r = sm_metrics_new(&sm->reg);
	if (r < 0)
		return r;
	m = sm->reg;
#define FAM(field, type, name, help, labels, b, nb)                                                \
	do {                                                                                       \
		if (r >= 0)                                                                        \
			r = sm_metrics_family(m, type, name, help, labels, b, nb, &sm->field);     \
	} while (0)
	FAM(cache_hits, SM_METRIC_COUNTER, "skillmeat_cache_hits_total", "Cache hits.", cache_l,
	    NULL, 0);
	FAM(cache_misses, SM_METRIC_COUNTER, "skillmeat_cache_misses_total", "Cache misses.",
	    cache_l, NULL, 0);
	FAM(cache_invalidations, SM_METRIC_COUNTER, "skillmeat_cache_invalidations_total",
	    "Cache invalidations.", cache_l, NULL, 0);
	FAM(cache_entries, SM_METRIC_GAUGE, "skillmeat_cache_entries", "Entries in the cache.",
	    cache_l, NULL, 0);
	FAM(cache_stale, SM_METRIC_GAUGE, "skillmeat_cache_stale_artifacts",
	    "Artifacts whose cached metadata is stale.", NULL, NULL, 0);
	FAM(refresh_duration, SM_METRIC_HISTOGRAM, "skillmeat_cache_refresh_duration_seconds",
	    "Duration of cache refreshes.", NULL, refresh_buckets, SM_ARRAY_SIZE(refresh_buckets));
	FAM(refresh_total, SM_METRIC_COUNTER, "skillmeat_cache_refresh_total",
	    "Cache refreshes by result.", result_l, NULL, 0);
	FAM(api_requests, SM_METRIC_COUNTER, "skillmeat_api_requests_total", "API requests.", req_l,
	    NULL, 0);
	FAM(api_duration, SM_METRIC_HISTOGRAM, "skillmeat_api_request_duration_seconds",
	    "API request duration.", endpoint_l, request_buckets, SM_ARRAY_SIZE(request_buckets));
	FAM(rate_limited, SM_METRIC_COUNTER, "skillmeat_rate_limited_total",
	    "Requests refused by the rate limiter.", NULL, NULL, 0);
	FAM(rss, SM_METRIC_GAUGE, "process_resident_memory_bytes", "Resident memory size in bytes.",
	    NULL, NULL, 0);
	FAM(loop_lock_waits, SM_METRIC_COUNTER, "skillmeat_loop_lock_waits_total",
	    "Times an event-loop thread had to wait on the home lock or the writer lock "
	    "(stays 0: such work runs on workers).",
	    NULL, NULL, 0);
#undef FAM
	/*
	 * The series that exist from the start (at 0). Metadata rows are not
	 * invalidated as such (they are flagged stale and repaired): no
	 * {cache="metadata"} invalidation series, it could never move.
	 */
	for (size_t i = 0; r >= 0 && i < SM_ARRAY_SIZE(caches); i++) {
		if (!sm_metric_get(sm->cache_hits, caches[i]) ||
		    !sm_metric_get(sm->cache_misses, caches[i]) ||
		    !sm_metric_get(sm->cache_entries, caches[i]))
			r = -ENOMEM;
	}
	if (r >= 0 && !sm_metric_get(sm->cache_invalidations, "count"))
		r = -ENOMEM;
	if (r >= 0 && (!sm_metric_get(sm->cache_stale) || !sm_metric_get(sm->refresh_duration) ||
		       !sm_metric_get(sm->refresh_total, "success") ||
		       !sm_metric_get(sm->refresh_total, "error") ||
		       !sm_metric_get(sm->rate_limited) || !sm_metric_get(sm->rss) ||
		       !sm_metric_get(sm->loop_lock_waits)))
		r = -ENOMEM;
	if (r >= 0)
		r = sm_metrics_add_collector(m, collect_rss, sm);
	if (r >= 0)
		r = sm_metrics_add_collector(m, collect_loop_waits, sm);
	if (r < 0) {
		sm_server_metrics_release(sm);
		return r;
	}
	return 0;
}

void sm_server_metrics_release(struct sm_server_metrics *sm)
{
	if (!sm)
		return;
	sm_metrics_free(sm->reg);
	memset(sm, 0, sizeof(*sm));
}

void sm_server_metrics_request(struct sm_server_metrics *sm, const char *method,
			       const char *endpoint, int status, double seconds)
{
	char st[16];

	if (!sm || !sm->reg)
		return;
	snprintf(st, sizeof(st), "%d", status);
	sm_metric_inc(sm_metric_get(sm->api_requests, method, endpoint, st));
	sm_metric_observe(sm_metric_get(sm->api_duration, endpoint), seconds);
}

void sm_server_metrics_cache_hit(struct sm_server_metrics *sm, const char *cache)
{
	sm_metric_inc(sm_metric_get(sm->cache_hits, cache));
}

void sm_server_metrics_cache_miss(struct sm_server_metrics *sm, const char *cache)
{
	sm_metric_inc(sm_metric_get(sm->cache_misses, cache));
}

void sm_server_metrics_cache_invalidation(struct sm_server_metrics *sm, const char *cache)
{
	sm_metric_inc(sm_metric_get(sm->cache_invalidations, cache));
}

void sm_server_metrics_refresh(struct sm_server_metrics *sm, const char *result, double seconds)
{
	sm_metric_inc(sm_metric_get(sm->refresh_total, result));
	sm_metric_observe(sm_metric_get(sm->refresh_duration), seconds);
}
