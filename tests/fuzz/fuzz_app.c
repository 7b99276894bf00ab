/* SPDX-License-Identifier: MIT */
/* The REST application without sockets, for the libFuzzer targets (fuzz_app.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "api/app.h"
#include "fuzz_app.h"
#include "http/request.h"
#include "http/router.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/strbuf.h"

#define TARGET_MAX 4096

static struct {
	bool ready;
	char dir[64];
	char home_dir[128];
	char uc_path[160];
	struct sm_home *home;
	struct sm_app *app;
	struct sm_router *router;
	struct sm_app_thread thread;
	struct strbuf uc_text; /* user-collections.toml after the setup */
	char uc_id[64];
} fz;

static void die(const char *what, const struct strbuf *err)
{
	fprintf(stderr, "fuzz_app: %s: %s\n", what, err && err->len ? err->buf : "failed");
	abort();
}

static void write_text(const char *path, const char *text)
{
	struct strbuf err = STRBUF_INIT;

	if (sm_fs_write_atomic_nosync(path, text, strlen(text), 0644, &err) < 0)
		die(path, &err);
	sm_strbuf_release(&err);
}

/* Collection coll with skills <prefix>0..n-1 (and an agent), from a source folder. */
static void add_collection(const char *coll, const char *prefix, int n, bool agent)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_collection *c;
	bool created;

	if (sm_home_lock(fz.home, &err) < 0 || sm_collection_init(fz.home, coll, &created, &err) < 0 ||
	    sm_collection_open(fz.home, coll, &c, &err) < 0)
		die(coll, &err);
	for (int i = 0; i < n + agent; i++) {
		char src[256], file[300], text[256], name[32];
		struct sm_add_opts o = {.type = SM_TYPE_INVALID};
		struct sm_add_result res = {0};

		if (i < n) {
			snprintf(name, sizeof(name), "%s%d", prefix, i);
			snprintf(src, sizeof(src), "%s/src/%s/skills/%s", fz.dir, coll, name);
			if (sm_fs_mkdir_p(src, 0755, &err) < 0)
				die(src, &err);
			snprintf(file, sizeof(file), "%s/SKILL.md", src);
			snprintf(text, sizeof(text),
				 "---\nname: %s\ndescription: skill %d\ntags: [a, b%d]\n---\n# %s\n\nbody\n",
				 name, i, i, name);
			write_text(file, text);
			snprintf(file, sizeof(file), "%s/notes.md", src);
			write_text(file, "# notes\n\n<b>raw</b> *text*\n");
		} else {
			snprintf(src, sizeof(src), "%s/src/%s/agents", fz.dir, coll);
			if (sm_fs_mkdir_p(src, 0755, &err) < 0)
				die(src, &err);
			snprintf(src, sizeof(src), "%s/src/%s/agents/helper.md", fz.dir, coll);
			write_text(src, "---\ndescription: an agent\ntools: [Read]\n---\nhelp\n");
		}
		if (sm_collection_add_local(c, src, &o, &res, &err) < 0)
			die(src, &err);
		sm_add_result_release(&res);
	}
	if (sm_collection_commit(c, &err) < 0)
		die(coll, &err);
	sm_collection_free(c);
	sm_home_unlock(fz.home);
	sm_strbuf_release(&err);
}

static void sync_all(void)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_sync_stats st = {0};

	if (sm_cache_sync(fz.thread.cache, NULL, 0, &st, &err) < 0)
		die("sync", &err);
	sm_sync_stats_release(&st);
	sm_strbuf_release(&err);
}

/* The user-collection writes a handler did itself: back to the setup's state. */
static void restore(void)
{
	if (fz.uc_text.len)
		write_text(fz.uc_path, fz.uc_text.buf);
	else
		(void)unlink(fz.uc_path);
	sync_all();
	api_invalidate(fz.app, NULL);
}

static void check_answer(const char *method, const char *target, struct sm_http_req *req)
{
	const char *ct = req->res.content_type;
	const char *text = req->res.static_body ? req->res.static_body : req->res.body.buf;
	size_t len = req->res.static_body ? req->res.static_len : req->res.body.len;
	json_t *j = NULL, *d;

	if (req->res.status < 100 || req->res.status > 599) {
		fprintf(stderr, "%s %s: no status (%d)\n", method, target, req->res.status);
		abort();
	}
	if (req->res.status == 500) {
		fprintf(stderr, "%s %s: 500 %.*s\n", method, target, (int)len, text);
		abort();
	}
	if (!ct || strncmp(ct, "application/json", 16) != 0) {
		if (req->res.status >= 400) {
			fprintf(stderr, "%s %s: error %d not JSON\n", method, target,
				req->res.status);
			abort();
		}
		return;
	}
	j = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	if (!j) {
		fprintf(stderr, "%s %s: %d answer is not JSON: %.*s\n", method, target,
			req->res.status, (int)len, text);
		abort();
	}
	if (req->res.status >= 400 &&
	    (!json_is_object(j) || !(d = json_object_get(j, "detail")) || json_is_null(d))) {
		fprintf(stderr, "%s %s: %d without a detail: %.*s\n", method, target,
			req->res.status, (int)len, text);
		abort();
	}
	json_decref(j);
}

static int run(const char *method, const char *target, const char *body, size_t body_len,
	       struct strbuf *answer)
{
	char buf[TARGET_MAX], allow[256];
	const struct sm_route *route = NULL;
	/*
	 * sm_http_defer looks past the request for the server's exchange (a
	 * magic number): zeroes there make it refuse, as without a server.
	 */
	struct {
		struct sm_http_req req;
		char exchange[4096];
	} x = {0};
	char *q;
	int r, status;

	if (strlen(target) >= sizeof(buf))
		return 0;
#define req x.req
	memcpy(buf, target, strlen(target) + 1);
	sm_http_req_init(&req);
	req.method = method;
	req.path = buf;
	req.query = "";
	if ((q = strchr(buf, '?'))) {
		*q = '\0';
		req.query = q + 1;
	}
	req.path_len = strlen(req.path);
	req.query_len = strlen(req.query);
	req.body = body;
	req.body_len = body ? body_len : 0;
	req.max_body = 1 << 20;
	req.thread_data = &fz.thread;
	snprintf(req.client_ip, sizeof(req.client_ip), "127.0.0.1");

	r = sm_router_match(fz.router, method, req.path, req.path_len, &req, &route, allow,
			    sizeof(allow));
	if (r != 0) {
		if (r != -ENOENT && r != -EOPNOTSUPP && r != -EINVAL) {
			fprintf(stderr, "%s %s: router returned %d\n", method, target, r);
			abort();
		}
		sm_http_req_release(&req);
		return 0;
	}
	r = route->fn(&req, route->data);
	if (r == SM_HTTP_DEFERRED) {
		/* sm_http_defer cannot succeed without a server */
		fprintf(stderr, "%s %s: deferred without a server\n", method, target);
		abort();
	}
	if (r < 0)
		(void)sm_http_error_errno(&req, r, NULL);
	check_answer(method, target, &req);
	status = req.res.status;
	if (answer && sm_strbuf_add(answer, req.res.body.buf, req.res.body.len) < 0)
		abort();
	sm_http_req_release(&req);
#undef req
	return status;
}

static void cleanup(void)
{
	if (fz.dir[0])
		(void)sm_fs_remove_tree(fz.dir, NULL);
}

static void setup(void)
{
	struct strbuf err = STRBUF_INIT;

	sm_log_set_level(SM_LOG_ERROR + 1);
	snprintf(fz.dir, sizeof(fz.dir), "%s/sm-fuzz-app.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(fz.dir))
		die("mkdtemp", NULL);
	atexit(cleanup);
	snprintf(fz.home_dir, sizeof(fz.home_dir), "%s/home", fz.dir);
	snprintf(fz.uc_path, sizeof(fz.uc_path), "%s/user-collections.toml", fz.home_dir);
	if (sm_home_open(fz.home_dir, &fz.home, &err) < 0)
		die("home", &err);
	add_collection("default", "s", 3, true);
	add_collection("other", "o", 2, false);
	if (sm_app_new(fz.home, &fz.app, &err) < 0 || sm_router_new(&fz.router) < 0 ||
	    api_register_user_collections(fz.app, fz.router, &err) < 0 ||
	    api_register_artifacts(fz.app, fz.router, &err) < 0 ||
	    api_register_artifact_writes(fz.app, fz.router, &err) < 0 ||
	    api_register_artifact_metadata(fz.app, fz.router, &err) < 0 ||
	    api_register_files(fz.app, fz.router, &err) < 0)
		die("app", &err);
	/* as a server's loop thread: its app (the answer cache's metrics go through it) */
	fz.thread.app = fz.app;
	if (sm_cache_open(fz.home, &fz.thread.cache, &err) < 0)
		die("cache", &err);
	sync_all();

	/* a user collection with two members (the API's writes need a server's workers) */
	snprintf(fz.uc_id, sizeof(fz.uc_id), "%s", "0123456789abcdef0123456789abcdef");
	write_text(fz.uc_path, "[[collections]]\nid = \"0123456789abcdef0123456789abcdef\"\n"
			       "name = \"fuzz\"\ndescription = \"made by the fuzz setup\"\n"
			       "created_at = \"2026-01-01T00:00:00\"\n"
			       "updated_at = \"2026-01-01T00:00:00\"\n"
			       "members = [\"skill:s0\", \"agent:helper\"]\n");
	sync_all();
	sm_strbuf_init(&fz.uc_text, 1 << 20);
	if (sm_fs_read_file(fz.uc_path, 1 << 20, &fz.uc_text, &err) < 0)
		die("user-collections.toml", &err);
	sm_strbuf_release(&err);
	fz.ready = true;
}

const char *fuzz_app_uc_id(void)
{
	if (!fz.ready)
		setup();
	return fz.uc_id;
}

int fuzz_app_request(const char *method, const char *target, const char *body, size_t body_len)
{
	int status;

	if (!fz.ready)
		setup();
	status = run(method, target, body, body_len, NULL);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && status >= 200 &&
	    status < 300)
		restore();
	return status;
}
