/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "skillmeat/memory.h"
#include "http/server_config.h"

#include "util/banned.h"

/* The original's allowed origins (skillmeat-cache-api.md §6). */
static const char *const default_origins[] = {
    "http://localhost:3000",
    "http://localhost:3001",
    "http://localhost:5173",
    "http://localhost:8080",
};

void sm_rate_limit_config_init(struct sm_rate_limit_config *rc)
{
	rc->enabled = true;
	rc->refresh_burst = 5;
	rc->refresh_refill_sec = 10;
	rc->burst_threshold = 20;
	rc->window_sec = 10;
	rc->block_sec = 10;
	rc->max_clients = 4096;
}

static void free_origins(struct sm_server_config *cfg)
{
	if (cfg->cors_origins) {
		for (size_t i = 0; i < cfg->n_cors_origins; i++)
			sm_free(cfg->cors_origins[i]);
		sm_free(cfg->cors_origins);
	}
	cfg->cors_origins = NULL;
	cfg->n_cors_origins = 0;
}

static int push_origin(char ***list, size_t *n, const char *s, size_t len)
{
	char **nl = sm_reallocarray(*list, *n + 2, sizeof(*nl));

	if (!nl)
		return -ENOMEM;
	*list = nl;
	nl[*n] = sm_strndup(s, len);
	if (!nl[*n])
		return -ENOMEM;
	(*n)++;
	nl[*n] = NULL;
	return 0;
}

int sm_server_config_init(struct sm_server_config *cfg)
{
	int r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->port = SM_SERVER_DEFAULT_PORT;
	cfg->workers = 2;
	cfg->max_body = SM_SERVER_DEFAULT_MAX_BODY;
	cfg->drain_ms = 10000;
	sm_rate_limit_config_init(&cfg->rate);
	cfg->host = sm_strdup(SM_SERVER_DEFAULT_HOST);
	if (!cfg->host)
		return -ENOMEM;
	for (size_t i = 0; i < SM_ARRAY_SIZE(default_origins); i++) {
		r = push_origin(&cfg->cors_origins, &cfg->n_cors_origins, default_origins[i],
				strlen(default_origins[i]));
		if (r < 0) {
			sm_server_config_release(cfg);
			return r;
		}
	}
	return 0;
}

void sm_server_config_release(struct sm_server_config *cfg)
{
	if (!cfg)
		return;
	sm_free(cfg->host);
	cfg->host = NULL;
	if (cfg->token) {
		explicit_bzero(cfg->token, strlen(cfg->token));
		sm_free(cfg->token);
		cfg->token = NULL;
	}
	free_origins(cfg);
	for (size_t i = 0; i < cfg->n_allowed_hosts; i++)
		sm_free(cfg->allowed_hosts[i]);
	sm_free(cfg->allowed_hosts);
	cfg->allowed_hosts = NULL;
	cfg->n_allowed_hosts = 0;
}

int sm_server_config_add_allowed_host(struct sm_server_config *cfg, const char *host)
{
	size_t len = strlen(host);
	int r;

	while (len && (*host == ' ' || *host == '\t'))
		host++, len--;
	while (len && (host[len - 1] == ' ' || host[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	r = push_origin(&cfg->allowed_hosts, &cfg->n_allowed_hosts, host, len);
	if (r == 0)
		for (char *p = cfg->allowed_hosts[cfg->n_allowed_hosts - 1]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	return r;
}

int sm_server_config_set_host(struct sm_server_config *cfg, const char *host)
{
	char *h = sm_strdup(host);

	if (!h)
		return -ENOMEM;
	sm_free(cfg->host);
	cfg->host = h;
	return 0;
}

int sm_server_config_set_token(struct sm_server_config *cfg, const char *token)
{
	char *t = NULL;

	if (token && *token) {
		t = sm_strdup(token);
		if (!t)
			return -ENOMEM;
	}
	if (cfg->token) {
		explicit_bzero(cfg->token, strlen(cfg->token));
		sm_free(cfg->token);
	}
	cfg->token = t;
	return 0;
}

int sm_server_config_set_cors(struct sm_server_config *cfg, const char *comma_list)
{
	char **list = NULL;
	size_t n = 0;
	const char *p = comma_list;
	int r = 0;

	list = sm_calloc(1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;

		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len) {
			r = push_origin(&list, &n, s, len);
			if (r < 0)
				break;
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			sm_free(list[i]);
		sm_free(list);
		return r;
	}
	free_origins(cfg);
	cfg->cors_origins = list;
	cfg->n_cors_origins = n;
	return 0;
}
