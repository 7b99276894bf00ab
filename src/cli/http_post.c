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
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

struct sink {
	struct strbuf *body;
	bool over;
};

static size_t sink_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct sink *k = ctx;
	size_t n = size * nmemb;

	if (sm_strbuf_add(k->body, data, n) < 0) {
		k->over = true;
		return 0; /* stops the transfer */
	}
	return n;
}

struct want {
	const char *name;
	struct strbuf *value;
};

static size_t sink_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct want *w = ctx;
	size_t n = size * nmemb, len = strlen(w->name);

	if (w->name[0] && n > len + 1 && !strncasecmp(data, w->name, len) && data[len] == ':') {
		const char *v = data + len + 1, *end = data + n;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		sm_strbuf_reset(w->value);
		if (sm_strbuf_add(w->value, v, (size_t)(end - v)) < 0)
			sm_strbuf_reset(w->value);
	}
	return n;
}

static int request(const struct sm_http_call *call, struct sm_http_answer *ret)
{
	static bool global_done;
	struct curl_slist *headers = NULL;
	struct strbuf auth = STRBUF_INIT, ct = STRBUF_INIT;
	struct sink k = {ret->body, false};
	struct want w = {call->want_header ? call->want_header : "", ret->header};
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	CURL *h;
	int r = -ENOMEM;

	ret->status = 0;
	ret->error[0] = 0;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		global_done = true;
	}
	if (!(h = curl_easy_init()))
		return -ENOMEM;
	if (call->token && *call->token &&
	    (sm_strbuf_addf(&auth, "Authorization: Bearer %s", call->token) < 0 ||
	     !(headers = curl_slist_append(headers, auth.buf))))
		goto out;
	if (call->body_len &&
	    (sm_strbuf_addf(&ct, "Content-Type: %s", call->content_type) < 0 ||
	     !(headers = curl_slist_append(headers, ct.buf))))
		goto out;
	curl_easy_setopt(h, CURLOPT_URL, call->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
	if (call->body_len) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, call->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, call->timeout_ms < 10000 ? call->timeout_ms
									 : 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "skillmeat/" SM_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	if (call->want_header) {
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sink_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &w);
	}
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(h);
	if (k.over) {
		r = -E2BIG;
	} else if (rc != CURLE_OK) {
		snprintf(ret->error, sizeof(ret->error), "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
		r = -EIO;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ret->status);
		r = 0;
	}
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	sm_strbuf_release(&auth);
	sm_strbuf_release(&ct);
	return r;
}

const struct sm_post_ops sm_post_module = {
	.post = post,
	.request = request,
};
