/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_RATE_LIMIT_H
#define SKILLMEAT_HTTP_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/server_config.h"

/*
 * Per-client-IP rate limiting (spec/API.md "Rate limiting").
 *
 * - The burst rule (the original's): a request is identified by method, path
 *   and query; when a client makes burst_threshold identical requests within
 *   window_sec, that request is refused and the client is blocked for
 *   block_sec. A burst of reads (GET, HEAD, OPTIONS) blocks every
 *   (non-exempt) request of the client; a burst of writes blocks only its
 *   writes, so a page saving in a loop can still be read.
 * - The token bucket (refresh-cache endpoints): refresh_burst tokens,
 *   refilled one per refresh_refill_sec; a request without a token is refused
 *   until the next one arrives. A block from the burst rule applies too.
 *
 * Thread-safe (one mutex). Memory is bounded: at most max_clients clients and
 * 32 request kinds per client are tracked; idle clients are swept and, when
 * full, the least recently seen one is evicted. Time comes from an injectable
 * monotonic clock in nanoseconds.
 */

typedef int64_t (*sm_rate_clock_fn)(void *ctx);

enum sm_rate_kind {
	SM_RATE_BURST = 0,
	SM_RATE_BUCKET = 1,
};

struct sm_rate_result {
	bool allowed;
	unsigned retry_after; /* whole seconds, >= 1, when refused */
	unsigned current;     /* identical requests in the window, this one included */
};

struct sm_rate_limit;

/* clock NULL = CLOCK_MONOTONIC. The config is copied. -EINVAL for zero limits, -ENOMEM. */
int sm_rate_limit_new(const struct sm_rate_limit_config *cfg, sm_rate_clock_fn clock,
		      void *clock_ctx, struct sm_rate_limit **ret);
void sm_rate_limit_free(struct sm_rate_limit *rl);

/*
 * Account one request of client ip and decide. With the limiter disabled every
 * request is allowed. -ENOMEM is never returned: when memory runs out the
 * request is allowed.
 */
void sm_rate_limit_check(struct sm_rate_limit *rl, const char *ip, enum sm_rate_kind kind,
			 const char *method, const char *path, const char *query,
			 struct sm_rate_result *res);

/* Number of tracked clients (tests). */
size_t sm_rate_limit_clients(struct sm_rate_limit *rl);
/* Drop clients idle for long enough to hold no state (also done as needed). */
void sm_rate_limit_sweep(struct sm_rate_limit *rl);

#endif
