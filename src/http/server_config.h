/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_HTTP_CONFIG_H
#define SKILLMEAT_HTTP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Settings of the HTTP layer (spec/CLI.md, `serve` and the server.* keys).
 * sm_server_config_init fills the defaults; the caller overrides fields from
 * config.toml, the environment and flags. Strings are owned by the struct
 * (set them with the setters, which copy) and freed by
 * sm_server_config_release.
 */

#define SM_SERVER_DEFAULT_HOST "127.0.0.1"
#define SM_SERVER_DEFAULT_PORT 8080
#define SM_SERVER_DEFAULT_MAX_BODY ((size_t)1 << 20)

struct sm_rate_limit_config {
	bool enabled;		   /* server.rate-limit.enabled; false = --no-rate-limit */
	unsigned refresh_burst;	   /* token bucket capacity on refresh-cache (5) */
	double refresh_refill_sec; /* seconds per token (10) */
	unsigned burst_threshold;  /* identical requests that trigger a block (20) */
	double window_sec;	   /* window of the burst rule (10) */
	double block_sec;	   /* how long a burst blocks the client (10) */
	size_t max_clients;	   /* tracked client IPs before the idlest is evicted (4096) */
};

struct sm_server_config {
	char *host;	     /* bind address: IPv4/IPv6 literal or name ("127.0.0.1") */
	unsigned port;	     /* 0 = pick a free port (8080) */
	unsigned threads;    /* loop threads; 0 = one per online core */
	unsigned workers;    /* threads for long jobs (2; 0 means 1) */
	size_t max_body;     /* request body cap in bytes (1 MiB) */
	unsigned drain_ms;   /* how long a stop waits for in-flight requests (10000) */
	bool trust_proxy;    /* take the client IP from X-Forwarded-For */
	char *token;	     /* SKILLMEAT_API_TOKEN; NULL = no auth */
	char **cors_origins; /* NULL-terminated allow-list, exact origins */
	size_t n_cors_origins;
	/*
	 * server.allowed-hosts: NULL-terminated names (or name:port) accepted in
	 * Host on a loopback bind besides the bound address, localhost,
	 * 127.0.0.1 and [::1] (a proxy's name); NULL = none.
	 */
	char **allowed_hosts;
	size_t n_allowed_hosts;
	struct sm_rate_limit_config rate;
};

/* Defaults above; the CORS list is the original's localhost dev ports. -ENOMEM. */
int sm_server_config_init(struct sm_server_config *cfg);
void sm_server_config_release(struct sm_server_config *cfg);
void sm_rate_limit_config_init(struct sm_rate_limit_config *rc);

int sm_server_config_set_host(struct sm_server_config *cfg, const char *host);
/* NULL or "" clears the token. */
int sm_server_config_set_token(struct sm_server_config *cfg, const char *token);
/* Replace the allow-list with a comma-separated list ("" = allow no origin). */
int sm_server_config_set_cors(struct sm_server_config *cfg, const char *comma_list);
/* Add one name to allowed_hosts (lower-cased). -ENOMEM. */
int sm_server_config_add_allowed_host(struct sm_server_config *cfg, const char *host);

#endif
