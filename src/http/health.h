/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_HEALTH_H
#define SKILLMEAT_HTTP_HEALTH_H

#include <stdint.h>

#include "http/metrics.h"
#include "http/router.h"

/*
 * The infrastructure routes: GET /health and /api/v1/health →
 * {"status":"ok","version":...,"uptime_seconds":...}, and GET /metrics (the
 * Prometheus text). All exempt from rate limiting; /health is public (a load
 * balancer's liveness probe), /metrics needs the token like the API.
 */

struct sm_health {
	int64_t started_ns; /* CLOCK_MONOTONIC at start */
	const char *version;
};

/* Both structs must outlive the router. -ENOMEM, -EEXIST. */
int sm_health_register(struct sm_router *router, struct sm_health *health,
		       struct sm_server_metrics *metrics, struct strbuf *err);

#endif
