/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CLI_HTTP_POST_H
#define SKILLMEAT_CLI_HTTP_POST_H

struct strbuf;

/*
 * The skillmeat-post.so module's table (cli/http_post.c, libcurl): POST url
 * with an empty body, Authorization: Bearer token when token is set, the
 * answer (up to body's cap) into body. Returns the HTTP status, or -EIO when
 * no answer came, -ENOMEM.
 */
struct sm_post_ops {
	long (*post)(const char *url, long timeout_ms, const char *token, struct strbuf *body);
};

extern const struct sm_post_ops sm_post_module;

#endif
