/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_DISPATCH_H
#define SKILLMEAT_HTTP_DISPATCH_H

#include "http/metrics.h"
#include "http/rate_limit.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server_config.h"

/*
 * What happens to a request between the socket and its handler, free of
 * libh2o so it can be tested on hand-made requests. In order:
 *   1. CORS headers for an allowed Origin (Vary: Origin always);
 *   2. a CORS preflight is answered here (404 when no route has the path);
 *   3. routing (decoding path parameters);
 *   4. rate limiting, unless the route is exempt (token bucket on
 *      SM_ROUTE_REFRESH routes, the burst rule elsewhere, including 404s);
 *   5. the token, unless the route is SM_ROUTE_PUBLIC → 401;
 *   6. 404 / 405 / 400 for a path that did not route;
 *   7. the body cap → 413;
 *   8. the before hook, then the handler; a negative return becomes an
 *      error response.
 * sm_dispatch_finish records the metrics of an answered request.
 */

struct sm_dispatch {
	const struct sm_server_config *cfg;
	struct sm_router *router;
	struct sm_rate_limit *rate_limit;  /* NULL = no limits */
	struct sm_server_metrics *metrics; /* may be NULL */
	/*
	 * Called on the loop thread for every routed, authorised request just
	 * before its handler (e.g. to check PRAGMA data_version and drop stale
	 * caches). A negative return answers the request with that error.
	 */
	int (*before)(struct sm_http_req *req, void *app);
	void *app;
	const unsigned *port; /* the bound port (for the Host check); may be NULL */
};

/*
 * Whether a request with this Host header may be served (DNS rebinding, on a
 * loopback bind only; server.allowed-hosts adds names).
 */
bool sm_dispatch_host_allowed(const struct sm_dispatch *d, const char *host);

/*
 * SM_HTTP_DONE (the response is set) or SM_HTTP_DEFERRED. Before routing,
 * a Host not allowed gets 421; after it, a write (POST, PUT, PATCH, DELETE)
 * whose Origin is neither the page's own nor in the CORS list gets 403, and
 * a body that is not application/json gets 415 (no handler runs).
 */
int sm_dispatch(struct sm_dispatch *d, struct sm_http_req *req);
/*
 * Run the before hook and the handler of the route req matched again (its
 * response dropped first: sm_http_res_reset); routing, rate limit and auth
 * are not repeated. SM_HTTP_DONE or SM_HTTP_DEFERRED.
 */
int sm_dispatch_again(struct sm_dispatch *d, struct sm_http_req *req);
/* Make sure a response is set (500 otherwise) and record it; seconds = duration. */
void sm_dispatch_finish(struct sm_dispatch *d, struct sm_http_req *req, double seconds);

#endif
