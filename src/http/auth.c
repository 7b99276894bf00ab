/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "http/auth.h"

#include "util/banned.h"

bool sm_auth_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[64];
	size_t len;

	if (!host)
		return false;
	len = strlen(host);
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, host, len + 1);
	/* [::1] */
	if (len >= 2 && buf[0] == '[' && buf[len - 1] == ']') {
		memmove(buf, buf + 1, len - 2);
		buf[len - 2] = '\0';
		len -= 2;
	}
	if (len && buf[len - 1] == '.')
		buf[--len] = '\0';
	if (strcasecmp(buf, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, buf, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		/* ::ffff:127.x.y.z */
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return false;
}

bool sm_auth_token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	volatile unsigned char diff = (unsigned char)(la != lb);

	/* compare over a's length, reading b cyclically so the time depends on la only */
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)(lb ? b[i % lb] : 0);
	return diff == 0;
}

bool sm_auth_check(struct sm_http_req *req, const char *token)
{
	const char *v;

	if (!token || !*token)
		return true;
	v = sm_http_header(req, "authorization");
	if (v && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		while (*v == ' ')
			v++;
		if (sm_auth_token_equal(token, v))
			return true;
	}
	v = sm_http_header(req, "x-api-key");
	return v && sm_auth_token_equal(token, v);
}

bool sm_cors_allowed(const char *const *origins, const char *origin)
{
	if (!origins || !origin || !*origin || strcmp(origin, "*") == 0)
		return false;
	for (; *origins; origins++)
		if (strcmp(*origins, origin) == 0)
			return true;
	return false;
}

bool sm_cors_headers(struct sm_http_req *req, const char *const *origins)
{
	const char *origin = sm_http_header(req, "origin");
	const char *vary;

	if (!origin)
		return false;
	vary = sm_http_res_header(req, "Vary");
	if (!vary || !strstr(vary, "Origin"))
		(void)sm_http_add_header(req, "Vary", "Origin");
	if (!sm_cors_allowed(origins, origin))
		return false;
	(void)sm_http_set_header(req, "Access-Control-Allow-Origin", origin);
	(void)sm_http_set_header(req, "Access-Control-Allow-Credentials", "true");
	return true;
}

bool sm_cors_is_preflight(struct sm_http_req *req)
{
	return strcmp(req->method, "OPTIONS") == 0 && sm_http_header(req, "origin") &&
	       sm_http_header(req, "access-control-request-method");
}

void sm_cors_preflight(struct sm_http_req *req, const char *const *origins, const char *allow)
{
	const char *hdrs = sm_http_header(req, "access-control-request-headers");

	if (!sm_cors_headers(req, origins)) {
		(void)sm_http_error(req, 400, "Disallowed CORS origin");
		return;
	}
	sm_http_no_content(req);
	(void)sm_http_set_header(req, "Access-Control-Allow-Methods",
				 allow && *allow ? allow : "GET, POST, PUT, DELETE");
	/* the original allows any header: echo what was asked for */
	(void)sm_http_set_header(req, "Access-Control-Allow-Headers",
				 hdrs && *hdrs ? hdrs : "Authorization, Content-Type, X-API-Key");
	(void)sm_http_set_header(req, "Access-Control-Max-Age", "600");
}
