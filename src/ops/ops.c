/* SPDX-License-Identifier: MIT */
/* The operation context shared by every use-case (skillmeat/ops.h). */
#include <stdarg.h>
#include <string.h>

#include "skillmeat/home.h"
#include "skillmeat/ops.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

void sm_ops_ctx_init(struct sm_ops_ctx *ctx, struct sm_home *home, struct sm_cache *cache)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->home = home;
	ctx->cache = cache;
	sm_truth_files_init(&ctx->truth, home, cache);
}

void sm_ops_ctx_release(struct sm_ops_ctx *ctx)
{
	sm_truth_release(&ctx->truth);
}

int sm_ops_config_set(struct sm_ops_ctx *ctx, const char *key, const char *value,
		      struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	int r;

	if ((r = t->ops->lock(t, err)) < 0)
		return r;
	r = value ? sm_config_set(t->home, key, value, err) : sm_config_unset(t->home, key, err);
	t->ops->unlock(t);
	return r;
}

void sm_ops_invalidate(const struct sm_ops_ctx *ctx, const char *scope)
{
	if (ctx->invalidate)
		ctx->invalidate(ctx->invalidate_ud, scope);
}

void sm_ops_warn(const struct sm_ops_ctx *ctx, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;
	int r;

	if (!ctx->warn)
		return;
	va_start(ap, fmt);
	r = sm_strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (r == 0 || msg.len)
		ctx->warn(ctx->warn_ud, msg.buf);
	sm_strbuf_release(&msg);
}
