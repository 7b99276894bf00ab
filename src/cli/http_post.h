/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CLI_HTTP_POST_H
#define SKILLMEAT_CLI_HTTP_POST_H

struct strbuf;

#include <stdbool.h>
#include <stddef.h>

/*
 * One request to any server (http or https, any host; no redirect followed):
 * method and url, Authorization: Bearer token when set, the body with its
 * content type when body_len > 0.
 */
struct sm_http_call {
	const char *method;
	const char *url;
	const char *token;
	const char *content_type;
	const void *body;
	size_t body_len;
	long timeout_ms;
	const char *want_header; /* a response header to keep (e.g. X-Content-Hash), or NULL */
};

/*
 * The answer: status, the body (binary, up to body's cap: past it the
 * transfer stops and request returns -E2BIG), the wanted header's value.
 * request returns 0 when an answer came, -EIO (error: why) when none,
 * -E2BIG, -ENOMEM.
 */
struct sm_http_answer {
	long status;
	struct strbuf *body;
	struct strbuf *header;
	char error[256];
};

/*
 * The skillmeat-post.so module's table (cli/http_post.c, libcurl): POST url
 * with an empty body, Authorization: Bearer token when token is set, the
 * answer (up to body's cap) into body. Returns the HTTP status, or -EIO when
 * no answer came, -ENOMEM.
 */
struct sm_post_ops {
	long (*post)(const char *url, long timeout_ms, const char *token, struct strbuf *body);
	/* any request (team push/pull): see struct sm_http_call */
	int (*request)(const struct sm_http_call *call, struct sm_http_answer *ret);
};

extern const struct sm_post_ops sm_post_module;

#endif
