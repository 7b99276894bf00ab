/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_METRICS_H
#define SKILLMEAT_HTTP_METRICS_H

#include <stddef.h>

#include "skillmeat/strbuf.h"

/*
 * A small metrics registry rendered in the Prometheus text exposition format
 * (version 0.0.4). A family has a type, a name, help text and label names; a
 * series is one set of label values and is created on first use. Updates are
 * lock-free atomics on the series; finding or creating a series takes the
 * family's mutex, so hot paths may keep the series pointer (valid until the
 * registry is freed). Families and series render in creation order.
 *
 * Collectors registered with sm_metrics_add_collector run (without any lock
 * held) at the start of each render, to pull values such as gauges from other
 * modules.
 */

enum sm_metric_type {
	SM_METRIC_COUNTER,
	SM_METRIC_GAUGE,
	SM_METRIC_HISTOGRAM,
};

#define SM_METRICS_MAX_LABELS 4
#define SM_METRICS_MAX_BUCKETS 16

struct sm_metrics;
struct sm_metric_family;
struct sm_metric;

typedef void (*sm_metrics_collect_fn)(struct sm_metrics *m, void *data);

int sm_metrics_new(struct sm_metrics **ret);
void sm_metrics_free(struct sm_metrics *m);

/*
 * Declare a family. labels: NULL-terminated label names (NULL for none).
 * buckets: ascending upper bounds for a histogram (+Inf is implicit), else
 * NULL. Names are copied. -EINVAL for a bad name, too many labels or buckets,
 * -EEXIST when the name is taken, -ENOMEM.
 */
int sm_metrics_family(struct sm_metrics *m, enum sm_metric_type type, const char *name,
		      const char *help, const char *const *labels, const double *buckets,
		      size_t n_buckets, struct sm_metric_family **ret);
/* A family by name, or NULL. */
struct sm_metric_family *sm_metrics_find(struct sm_metrics *m, const char *name);

/*
 * The series for these label values (as many as the family has label names),
 * created when new. NULL on ENOMEM. The values are copied.
 */
struct sm_metric *sm_metric_labels(struct sm_metric_family *f, const char *const *values);
/* Same, values as arguments: sm_metric_get(f, "GET", "/health", "200"). */
struct sm_metric *sm_metric_get(struct sm_metric_family *f, ...);

/* All accept NULL (a series that could not be created) and do nothing. */
void sm_metric_inc(struct sm_metric *s);
void sm_metric_add(struct sm_metric *s, double v);
void sm_metric_set(struct sm_metric *s, double v); /* gauges, or counters mirrored from elsewhere */
void sm_metric_observe(struct sm_metric *s, double v);
double sm_metric_value(const struct sm_metric *s); /* counter/gauge value, histogram sum */
unsigned long long sm_metric_count(const struct sm_metric *s); /* histogram count */

int sm_metrics_add_collector(struct sm_metrics *m, sm_metrics_collect_fn fn, void *data);

/* Append the exposition text to out. -ENOMEM / -E2BIG. */
int sm_metrics_render(struct sm_metrics *m, struct strbuf *out);

/*
 * The series spec/API.md lists, declared on one registry. The cache series
 * are created for cache="count" and cache="metadata" so they show as 0 from
 * the start. process_resident_memory_bytes is read from /proc/self/statm at
 * each render.
 */
struct sm_server_metrics {
	struct sm_metrics *reg;
	struct sm_metric_family *cache_hits;	      /* counter {cache} */
	struct sm_metric_family *cache_misses;	      /* counter {cache} */
	struct sm_metric_family *cache_invalidations; /* counter {cache} */
	struct sm_metric_family *cache_entries;	      /* gauge {cache} */
	struct sm_metric_family *cache_stale;	      /* gauge */
	struct sm_metric_family *refresh_duration;    /* histogram, seconds */
	struct sm_metric_family *refresh_total;	      /* counter {result} */
	struct sm_metric_family *api_requests;	      /* counter {method,endpoint,status} */
	struct sm_metric_family *api_duration;	      /* histogram {endpoint}, seconds */
	struct sm_metric_family *rate_limited;	      /* counter */
	struct sm_metric_family *rss;		      /* gauge */
	struct sm_metric_family *loop_lock_waits;     /* counter, mirrored (loop_guard.h) */
};

int sm_server_metrics_init(struct sm_server_metrics *sm);
void sm_server_metrics_release(struct sm_server_metrics *sm);

/* One answered request (status as a number, duration in seconds). */
void sm_server_metrics_request(struct sm_server_metrics *sm, const char *method,
			       const char *endpoint, int status, double seconds);
/* Cache events: cache is "count" or "metadata". */
void sm_server_metrics_cache_hit(struct sm_server_metrics *sm, const char *cache);
void sm_server_metrics_cache_miss(struct sm_server_metrics *sm, const char *cache);
void sm_server_metrics_cache_invalidation(struct sm_server_metrics *sm, const char *cache);
/* A refresh finished: result "success" or "error". */
void sm_server_metrics_refresh(struct sm_server_metrics *sm, const char *result, double seconds);

/* Resident set size in bytes from /proc/self/statm; negative errno. */
long long sm_metrics_rss_bytes(void);

#endif
