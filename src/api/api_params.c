/* SPDX-License-Identifier: MIT */
/* Request parameters of the REST handlers: limits, cursors, lists, artifact ids. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/artifact.h"
#include "skillmeat/base64.h"
#include "skillmeat/cache.h"
#include "skillmeat/count_cache.h"
#include "skillmeat/error.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/sha256.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

/* ---- parameters ---- */

int api_fail(struct sm_http_req *req, int r, const char *msg)
{
	if (r == API_ANSWERED)
		return SM_HTTP_DONE;
	if (r == API_DEFERRED)
		return SM_HTTP_DEFERRED;
	if (r == -EBADMSG && msg && *msg) {
		/*
		 * An operation's -EBADMSG is a file of the home that does not parse
		 * (a request body's is answered 422 where it is read): not the
		 * request's fault, but the user can fix it, so the file and the line
		 * are said, not hidden behind "Internal server error".
		 */
		sm_log_error("server: %s %s: %s", req->method, req->path, msg);
		(void)sm_http_error(req, 500, "malformed file: %s", msg);
		return SM_HTTP_DONE;
	}
	if (sm_http_errno_status(r) == 500)
		sm_log_error("server: %s %s: %s", req->method, req->path,
			     msg && *msg ? msg : sm_strerror(r));
	(void)sm_http_error_errno(req, r, msg && *msg ? msg : NULL);
	return SM_HTTP_DONE;
}

int api_limit(struct sm_http_req *req, size_t def, size_t max, size_t *ret)
{
	const char *s = sm_http_query(req, "limit");
	char *end;
	long v;

	if (!s) {
		*ret = def;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || (unsigned long)v > max) {
		(void)sm_http_error(
		    req, 400, "Invalid limit '%s': expected an integer from 1 to %zu", s, max);
		return API_ANSWERED;
	}
	*ret = (size_t)v;
	return 0;
}

/* Cursors are standard base64 (padding required) through the one codec (util). */
static int b64_decode(const char *s, struct strbuf *out)
{
	size_t len = strlen(s);

	return len ? sm_base64_decode(s, len, out) : -EINVAL;
}

static int b64_encode(const char *s, struct strbuf *out)
{
	return sm_base64_encode(s, strlen(s), out);
}

int api_cursor(struct sm_http_req *req, char **ret)
{
	const char *s = sm_http_query(req, "after");
	struct strbuf d = STRBUF_INIT;
	int r;

	*ret = NULL;
	if (!s)
		return 0;
	r = b64_decode(s, &d);
	if (r == 0 && (d.len == 0 || strlen(d.buf) != d.len))
		r = -EINVAL;
	if (r == -EINVAL) {
		(void)sm_http_error(req, 400, "Invalid cursor format: not base64 of a key");
		r = API_ANSWERED;
	} else if (r == 0 && !(*ret = sm_http_strndup(req, d.buf, d.len))) {
		r = -ENOMEM;
	}
	sm_strbuf_release(&d);
	return r;
}

json_t *api_cursor_json(const char *s)
{
	struct strbuf e = STRBUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	j = b64_encode(s, &e) == 0 ? json_string(e.buf) : NULL;
	sm_strbuf_release(&e);
	return j;
}

int api_split(struct sm_http_req *req, const char *s, const char ***ret, size_t *ret_n)
{
	size_t cap = 1, n = 0;
	const char **v;
	const char *p;

	for (p = s; *p; p++)
		cap += *p == ',';
	v = sm_http_alloc(req, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (p = s;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len && !(v[n++] = sm_http_strndup(req, p, len)))
			return -ENOMEM;
		if (!e)
			break;
		p = e + 1;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int api_422(struct sm_http_req *req, const char *field, const char *type, const char *msg)
{
	json_t *item =
	    json_pack("{s:s, s:[s, s], s:s}", "type", type, "loc", "body", field, "msg", msg);
	json_t *detail = item ? json_pack("[o]", item) : NULL;

	if (!detail)
		return -ENOMEM;
	(void)sm_http_error_detail(req, 422, detail);
	return API_ANSWERED;
}

bool api_revision_etag(struct sm_http_req *req, struct sm_cache *cache, const char *extra)
{
	char rev[SM_STORE_REVISION_MAX];
	struct strbuf tag = STRBUF_INIT;
	bool done = false;

	if (sm_store_revision(cache->store, rev, NULL) < 0)
		return false;
	if (sm_strbuf_addf(&tag, "%s%s%s", extra ? extra : "", extra ? "." : "", rev) == 0)
		done = sm_http_etag(req, tag.buf);
	sm_strbuf_release(&tag);
	return done;
}

bool api_body_etag(struct sm_http_req *req)
{
	char hex[SM_SHA256_HEX_LEN + 1];

	if (req->res.status != 200 ||
	    sm_sha256_hex(req->res.body.buf, req->res.body.len, hex) < 0)
		return false;
	hex[32] = '\0'; /* 128 bits tell two answers apart */
	return sm_http_etag(req, hex);
}

bool api_is_default(const char *id)
{
	return id && !strcmp(id, SM_UC_DEFAULT_ID);
}

/* ---- artifact ids ---- */

int api_resolve(struct sm_http_req *req, struct sm_cache *cache, const char *id,
		const char *collection, struct sm_artifact_row *ret)
{
	struct strbuf err = STRBUF_INIT;
	int r = sm_ops_resolve_id(cache, id, collection, ret, &err);

	if (r == -EEXIST) {
		(void)sm_http_error(req, 400, "%s (use collection/type:name or ?collection=)",
				    err.buf);
		r = API_ANSWERED;
	} else if (r == -EINVAL || r == -ENOENT) {
		api_fail(req, r, err.buf);
		r = API_ANSWERED;
	} else if (r < 0) {
		api_fail(req, r, err.buf);
		r = API_ANSWERED;
	}
	sm_strbuf_release(&err);
	return r;
}

int api_artifact_key(struct sm_cache *cache, const struct sm_artifact_row *row, struct strbuf *out)
{
	return sm_cache_artifact_key(cache, row, out, NULL);
}
