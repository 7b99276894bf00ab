/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/http_post.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/module.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define SERVER_JSON_MAX 65536
#define RESPONSE_MAX 65536
#define SINGLE_TIMEOUT_MS 3000L
#define BATCH_TIMEOUT_MS 10000L

/* The url of server.json when it names a live process; 0 when found, else -ENOENT. */
static int server_json_url(const struct sm_home *home, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	json_t *j = NULL, *pid, *url;
	int r = -ENOENT;

	if (sm_fs_join(&path, home->root, "server.json") < 0 ||
	    sm_fs_read_file(path.buf, SERVER_JSON_MAX, &text, NULL) < 0)
		goto out;
	j = json_loadb(text.buf, text.len, 0, NULL);
	pid = json_object_get(j, "pid");
	url = json_object_get(j, "url");
	if (!json_is_integer(pid) || !json_is_string(url) || json_integer_value(pid) <= 0 ||
	    json_integer_value(pid) > (json_int_t)0x7fffffff || !json_string_length(url)) {
		sm_log_debug("api: ignoring '%s': no pid or url", path.buf);
		goto out;
	}
	if (kill((pid_t)json_integer_value(pid), 0) < 0 && errno != EPERM) {
		sm_log_debug("api: ignoring '%s': pid %lld is not running", path.buf,
			     (long long)json_integer_value(pid));
		goto out;
	}
	r = sm_strbuf_addstr(out, json_string_value(url));
out:
	json_decref(j);
	sm_strbuf_release(&path);
	sm_strbuf_release(&text);
	return r;
}

int cli_api_base_url(struct cli *cli, struct strbuf *out)
{
	struct sm_home *home = cli_home(cli);
	size_t start = out->len;
	int r;

	if (!home)
		return -EIO;
	if (server_json_url(home, out) != 0) {
		/* only a server named by this home or by the user, never a guess */
		const char *base = sm_config_string(home, "api.base_url", NULL);

		sm_strbuf_setlen(out, start);
		if (!base || !*base)
			return -ENOENT;
		r = sm_strbuf_addstr(out, base);
		if (r < 0)
			return r;
	}
	while (out->len > start && out->buf[out->len - 1] == '/')
		sm_strbuf_setlen(out, out->len - 1);
	return 0;
}

/* POST url with no body; the status (>= 0), or a negative errno when no answer came. */
static long post(const char *url, long timeout_ms, struct strbuf *body)
{
	static const struct sm_post_ops *ops;
	const char *token = getenv("SKILLMEAT_API_TOKEN");
	const void *sym;

	if (!ops) {
		struct strbuf err = STRBUF_INIT;

		if (sm_module_load("skillmeat-post.so", "sm_post_module", &sym, &err) < 0) {
			sm_log_debug("api: %s", err.buf);
			sm_strbuf_release(&err);
			return -ENOENT;
		}
		ops = sym;
	}
	return ops->post(url, timeout_ms, token, body);
}

static int add_escaped(struct strbuf *out, const char *s);

int cli_http_request(const struct sm_http_call *call, struct sm_http_answer *ret)
{
	static const struct sm_post_ops *ops;
	const void *sym;

	if (!ops) {
		struct strbuf err = STRBUF_INIT;
		int r = sm_module_load("skillmeat-post.so", "sm_post_module", &sym, &err);

		if (r < 0) {
			snprintf(ret->error, sizeof(ret->error), "%s", err.buf);
			sm_strbuf_release(&err);
			return r;
		}
		ops = sym;
	}
	return ops->request(call, ret);
}

int cli_url_escape(struct strbuf *out, const char *s)
{
	return add_escaped(out, s);
}

/* RFC 3986 unreserved characters kept, everything else %XX (as curl_escape). */
static int add_escaped(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int r;

		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			r = sm_strbuf_addch(out, (char)*p);
		else
			r = sm_strbuf_addf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The refreshed line for a batch answer: with the numbers when some were updated. */
static void batch_line(const struct strbuf *body)
{
	json_t *j = json_loadb(body->buf, body->len, 0, NULL);
	json_t *upd = json_object_get(j, "total_updated");
	json_t *colls = json_object_get(j, "collections_refreshed");

	if (json_is_integer(upd) && json_integer_value(upd) > 0 && json_is_integer(colls))
		fprintf(stderr, "API cache refreshed (%lld artifacts in %lld collections)",
			(long long)json_integer_value(upd), (long long)json_integer_value(colls));
	else
		fputs("API cache refreshed", stderr);
	json_decref(j);
}

static void refresh(struct cli *cli, const char *collection_id, long timeout_ms)
{
	struct strbuf url = STRBUF_INIT, body = STRBUF_INIT;
	long status;

	sm_strbuf_init(&body, RESPONSE_MAX);
	if (cli_api_base_url(cli, &url) < 0)
		goto out; /* no server of this home to tell */
	if (collection_id) {
		if (sm_strbuf_addstr(&url, "/api/v1/user-collections/") < 0 ||
		    add_escaped(&url, collection_id) < 0 ||
		    sm_strbuf_addstr(&url, "/refresh-cache") < 0)
			goto out;
	} else if (sm_strbuf_addstr(&url, "/api/v1/user-collections/refresh-cache") < 0) {
		goto out;
	}
	status = post(url.buf, timeout_ms, &body);
	if (status != 200) {
		if (status >= 0)
			sm_log_debug("api: POST %s returned %ld", url.buf, status);
		goto out;
	}
	if (cli->quiet || cli->json)
		goto out;
	if (cli->color_err)
		fputs(C_DIM, stderr);
	if (collection_id)
		fputs("API cache refreshed", stderr);
	else
		batch_line(&body);
	fputs(cli->color_err ? C_RESET "\n" : "\n", stderr);
out:
	sm_strbuf_release(&url);
	sm_strbuf_release(&body);
}

void cli_api_refresh(struct cli *cli, const char *collection_id)
{
	refresh(cli, collection_id ? collection_id : "default", SINGLE_TIMEOUT_MS);
}

void cli_api_refresh_batch(struct cli *cli)
{
	refresh(cli, NULL, BATCH_TIMEOUT_MS);
}
