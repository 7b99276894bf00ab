/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CLI_API_CLIENT_H
#define SKILLMEAT_CLI_API_CLIENT_H

#include <stdbool.h>

struct cli;
struct strbuf;

/*
 * The CLI's hooks into a running server (CLI.md "serve", formats §7): after a
 * CLI mutation, ask the server to refresh its cache. Best effort: they never
 * fail the command. Connection refused, timeouts, 404, 429 and any other
 * non-200 answer are silent (debug log only); a 200 prints "API cache
 * refreshed" on stderr unless --quiet or --json.
 *
 * The base URL is the `url` of SKILLMEAT_HOME/server.json when that file names
 * a live pid, else config `api.base_url` when it is set (no default: a server
 * of another home, or anything else on :8080, is never told).
 * When SKILLMEAT_API_TOKEN is set it is sent as `Authorization: Bearer`.
 */

/* POST {base}/api/v1/user-collections/{collection_id}/refresh-cache (3 s timeout). */
void cli_api_refresh(struct cli *cli, const char *collection_id);
/* POST {base}/api/v1/user-collections/refresh-cache (10 s timeout). */
void cli_api_refresh_batch(struct cli *cli);

/* The base URL the hooks use (no trailing slash), appended to out; -ENOENT when none. */
int cli_api_base_url(struct cli *cli, struct strbuf *out);

/*
 * One request to any server through the skillmeat-post.so module (libcurl):
 * see cli/http_post.h. 0 when an answer came (ret->status), -EIO when none
 * (ret->error says why), -E2BIG when the body passed its cap, -ENOENT when
 * the module is missing.
 */
struct sm_http_call;
struct sm_http_answer;
int cli_http_request(const struct sm_http_call *call, struct sm_http_answer *ret);
/* s percent-escaped (RFC 3986 unreserved characters kept), appended to out. */
int cli_url_escape(struct strbuf *out, const char *s);

#endif
