/* SPDX-License-Identifier: MIT */
/* server.json: the running server of a home, one per home (skillmeat/ops.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/ops.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

/*
 * The pid of a live server named by server.json (other than us), else 0.
 * url gets its URL.
 */
static pid_t live_server(const char *path, struct strbuf *url)
{
	struct strbuf text = STRBUF_INIT;
	json_t *j = NULL, *p;
	pid_t pid = 0;

	if (sm_fs_read_file(path, 65536, &text, NULL) < 0)
		goto out;
	j = json_loads(text.buf, 0, NULL);
	p = json_object_get(j, "pid");
	if (!json_is_integer(p) || json_integer_value(p) <= 0 || json_integer_value(p) > INT32_MAX)
		goto out;
	pid = (pid_t)json_integer_value(p);
	if (pid == getpid() || (kill(pid, 0) < 0 && errno == ESRCH)) {
		pid = 0;
		goto out;
	}
	if (json_is_string(json_object_get(j, "url")) &&
	    sm_strbuf_addstr(url, json_string_value(json_object_get(j, "url"))) < 0)
		sm_strbuf_reset(url);
out:
	json_decref(j);
	sm_strbuf_release(&text);
	return pid;
}

/* -EBUSY when a live server holds the home. */
static int check_server_json(const char *path, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT;
	pid_t pid = live_server(path, &url);
	int r = 0;

	if (pid > 0)
		r = sm_err(err, -EBUSY, "a server (pid %ld) already serves this home at %s",
			   (long)pid, url.len ? url.buf : "(unknown url)");
	sm_strbuf_release(&url);
	return r;
}

static int write_server_json(const char *path, const char *url, struct strbuf *err)
{
	char now[SM_ISO_MAX];
	json_t *j;
	char *text;
	int r;

	if ((r = sm_time_now_iso(now)) < 0)
		return r;
	j = json_pack("{s:I, s:s, s:s}", "pid", (json_int_t)getpid(), "url", url, "started_at",
		      now);
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;
	r = sm_fs_write_atomic(path, text, strlen(text), 0644, err);
	free(text);
	return r;
}

/* Remove server.json if it still names us. */
static void remove_server_json(const char *path)
{
	struct strbuf text = STRBUF_INIT;
	json_t *j = NULL;

	if (sm_fs_read_file(path, 65536, &text, NULL) == 0 && (j = json_loads(text.buf, 0, NULL)) &&
	    json_integer_value(json_object_get(j, "pid")) == (json_int_t)getpid())
		(void)unlink(path);
	json_decref(j);
	sm_strbuf_release(&text);
}

static int server_json_path(const struct sm_home *home, struct strbuf *out, struct strbuf *err)
{
	int r = sm_strbuf_addf(out, "%s/server.json", home->root);

	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

int sm_ops_server_check(struct sm_home *home, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r = server_json_path(home, &path, err);

	if (r == 0)
		r = check_server_json(path.buf, err);
	sm_strbuf_release(&path);
	return r;
}

int sm_ops_server_claim(struct sm_ops_ctx *ctx, const char *url, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	struct strbuf path = STRBUF_INIT;
	int r;

	if ((r = server_json_path(t->home, &path, err)) < 0)
		return r;
	if ((r = t->ops->lock(t, err)) < 0)
		goto out;
	r = check_server_json(path.buf, err);
	if (r == 0 && (r = write_server_json(path.buf, url, err)) < 0)
		sm_err_prefix(err, r, "cannot write '%s'", path.buf);
	t->ops->unlock(t);
out:
	sm_strbuf_release(&path);
	return r;
}

void sm_ops_server_release(struct sm_home *home)
{
	struct strbuf path = STRBUF_INIT;

	if (server_json_path(home, &path, NULL) == 0)
		remove_server_json(path.buf);
	sm_strbuf_release(&path);
}
