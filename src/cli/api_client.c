/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define DEFAULT_BASE_URL "http://localhost:8080"
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
		sm_strbuf_setlen(out, start);
		r = sm_strbuf_addstr(out, sm_config_string(home, "api.base_url", DEFAULT_BASE_URL));
		if (r < 0)
			return r;
	}
	while (out->len > start && out->buf[out->len - 1] == '/')
		sm_strbuf_setlen(out, out->len - 1);
	return 0;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct strbuf *body = ctx;
	size_t n = size * nmemb;

	/* past the cap the rest is dropped, the transfer still completes */
	if (sm_strbuf_add(body, data, n) < 0)
		sm_log_debug("api: response body over %zu bytes, cut", body->cap);
	return n;
}

/* POST url with no body; the status (>= 0), or -EIO when no answer came. */
static long post(const char *url, long timeout_ms, struct strbuf *body)
{
	static bool global_done;
	struct curl_slist *headers = NULL;
	struct strbuf auth = STRBUF_INIT;
	const char *token = getenv("SKILLMEAT_API_TOKEN");
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = -EIO;
	CURLcode rc;
	CURL *h;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		global_done = true;
	}
	h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	if (token && *token) {
		if (sm_strbuf_addf(&auth, "Authorization: Bearer %s", token) < 0)
			goto out;
		headers = curl_slist_append(headers, auth.buf);
		if (!headers)
			goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* a local server is never reached through a proxy */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "skillmeat/" SM_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else
		sm_log_debug("api: POST %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	sm_strbuf_release(&auth);
	return status;
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
	char *esc = NULL;
	long status;

	sm_strbuf_init(&body, RESPONSE_MAX);
	if (cli_api_base_url(cli, &url) < 0)
		goto out;
	if (collection_id) {
		esc = curl_escape(collection_id, 0);
		if (!esc || sm_strbuf_addf(&url, "/api/v1/user-collections/%s/refresh-cache", esc) < 0)
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
	curl_free(esc);
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
