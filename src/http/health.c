/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "skillmeat/timeutil.h"
#include "http/health.h"

#include "util/banned.h"

static int health_get(struct sm_http_req *req, void *data)
{
	struct sm_health *h = data;
	int64_t up = (sm_time_mono_ns() - h->started_ns) / 1000000000;
	json_t *body = json_pack("{s:s, s:s, s:I}", "status", "ok", "version", h->version,
				 "uptime_seconds", (json_int_t)(up < 0 ? 0 : up));

	if (!body)
		return -ENOMEM;
	return sm_http_json(req, 200, body);
}

static int metrics_get(struct sm_http_req *req, void *data)
{
	struct sm_server_metrics *sm = data;
	int r;

	r = sm_http_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", "", 0);
	if (r >= 0)
		r = sm_metrics_render(sm->reg, &req->res.body);
	return r;
}

int sm_health_register(struct sm_router *router, struct sm_health *health,
		       struct sm_server_metrics *metrics, struct strbuf *err)
{
	const unsigned flags = SM_ROUTE_PUBLIC | SM_ROUTE_NO_RATE_LIMIT;
	int r;

	r = sm_router_add(router, "GET", "/health", health_get, health, flags, err);
	if (r >= 0)
		r = sm_router_add(router, "GET", "/api/v1/health", health_get, health, flags, err);
	/* /health stays open to a load balancer's liveness probe; /metrics needs the token */
	if (r >= 0 && metrics)
		r = sm_router_add(router, "GET", "/metrics", metrics_get, metrics,
				  SM_ROUTE_NO_RATE_LIMIT, err);
	return r;
}
