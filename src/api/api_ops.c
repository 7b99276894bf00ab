/* SPDX-License-Identifier: MIT */
/*
 * Writes of the REST application: every operation of src/ops runs on a
 * worker thread (sm_http_defer), never on a loop thread, with an operation
 * context wired to the server: the in-process writer lock before the home
 * lock, warnings to the log, and the invalidation of the count cache after
 * each commit. The loop thread answers once the job is done.
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/truth.h"
#include "util/banned.h"

struct api_op {
	struct sm_app *app;
	const char *tenant; /* team mode: the request's (borrowed from the app), else NULL */
	api_op_fn work;
	api_op_done_fn done;
	void (*free_job)(void *job);
	void *job;
	int r;
	struct strbuf err;
};

static void op_lock(void *ud)
{
	sm_app_write_lock(ud);
}

static void op_unlock(void *ud)
{
	sm_app_write_unlock(ud);
}

static void op_invalidate(void *ud, const char *scope)
{
	api_invalidate(ud, scope);
}

/* Team mode: the counts of the written tenant only, keys "<tenant>\x1f<id>". */
static void op_invalidate_team(void *ud, const char *scope)
{
	struct api_op *op = ud;
	struct strbuf k = STRBUF_INIT;

	if (!scope || sm_strbuf_addf(&k, "%s\x1f%s", op->tenant, scope) < 0)
		api_invalidate_tenant(op->app, op->tenant);
	else
		api_invalidate(op->app, k.buf);
	sm_strbuf_release(&k);
}

static void op_warn(void *ud, const char *msg)
{
	(void)ud;
	sm_log_warn("server: %s", msg);
}

void api_ops_ctx_init(struct sm_app *app, struct sm_ops_ctx *ctx)
{
	sm_ops_ctx_init(ctx, app->home, NULL);
	ctx->truth.write_lock = op_lock;
	ctx->truth.write_unlock = op_unlock;
	ctx->truth.lock_ud = app;
	ctx->invalidate = op_invalidate;
	ctx->invalidate_ud = app;
	ctx->warn = op_warn;
}

static void op_work(void *arg)
{
	struct api_op *op = arg;
	struct sm_ops_ctx ctx;

	api_ops_ctx_init(op->app, &ctx);
	if (op->tenant) {
		/* the team store is the truth (src/ops/truth_team.c), for the request's tenant */
		sm_truth_release(&ctx.truth);
		ctx.invalidate = op_invalidate_team;
		ctx.invalidate_ud = op;
		if (sm_truth_team_init(&ctx.truth, op->app->home, op->app->team_url, op->tenant) < 0) {
			op->r = sm_err(&op->err, -ENOMEM, "out of memory");
			sm_ops_ctx_release(&ctx);
			return;
		}
	}
	op->r = op->work(&ctx, op->job, &op->err);
	sm_ops_ctx_release(&ctx);
}

static void op_done(struct sm_http_req *req, void *arg)
{
	struct api_op *op = arg;

	if (req)
		op->done(req, op->job, op->r, &op->err);
	if (op->free_job)
		op->free_job(op->job);
	sm_strbuf_release(&op->err);
	sm_free(op);
}

int api_run_op(struct sm_http_req *req, struct sm_app *app, api_op_fn work, api_op_done_fn done,
	       void *job, void (*free_job)(void *job))
{
	struct api_op *op = sm_calloc(1, sizeof(*op));
	int r;

	if (!op) {
		if (free_job)
			free_job(job);
		return api_fail(req, -ENOMEM, NULL);
	}
	op->app = app;
	if (app->team_url)
		op->tenant = api_cache(req)->tenant ? api_cache(req)->tenant : "default";
	op->work = work;
	op->done = done;
	op->free_job = free_job;
	op->job = job;
	op->err = (struct strbuf)STRBUF_INIT;
	r = sm_http_defer(req, op_work, op_done, op);
	if (r < 0) {
		op_done(NULL, op);
		return api_fail(req, r, NULL);
	}
	return SM_HTTP_DEFERRED;
}
