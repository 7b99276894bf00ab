/* SPDX-License-Identifier: MIT */
/*
 * The CLI's one HTTP request (POST refresh-cache to a running server) with
 * libcurl: the skillmeat-post.so module, loaded only when a mutation tells a
 * server (cli/api_client.c), so no verb loads libcurl and its TLS, LDAP and
 * HTTP/2 stack at start.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli/http_post.h"
#include "skillmeat/log.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

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
static long post(const char *url, long timeout_ms, const char *token, struct strbuf *body)
{
	static bool global_done;
	struct curl_slist *headers = NULL;
	struct strbuf auth = STRBUF_INIT;
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

const struct sm_post_ops sm_post_module = {
	.post = post,
};
