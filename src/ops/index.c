/* SPDX-License-Identifier: MIT */
/* Refresh and rebuild of the index; file collections created and deleted (skillmeat/ops.h). */
#include <errno.h>
#include <string.h>

#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

/* Add s to the running total to (messages moved). */
static void add_stats(struct sm_sync_stats *to, struct sm_sync_stats *s)
{
	char **m;

	to->collections += s->collections;
	to->created += s->created;
	to->updated += s->updated;
	to->unchanged += s->unchanged;
	to->removed += s->removed;
	to->errors += s->errors;
	to->duration_seconds += s->duration_seconds;
	if (s->nmessages &&
	    (m = sm_realloc(to->messages, (to->nmessages + s->nmessages) * sizeof(*m)))) {
		memcpy(m + to->nmessages, s->messages, s->nmessages * sizeof(*m));
		to->messages = m;
		to->nmessages += s->nmessages;
		sm_free(s->messages);
		s->messages = NULL;
		s->nmessages = 0;
	}
	sm_sync_stats_release(s);
}

int sm_ops_refresh(struct sm_ops_ctx *ctx, const char *const *names, size_t n, unsigned flags,
		   struct sm_sync_stats *st, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	int r = 0;

	if (t->write_lock)
		t->write_lock(t->lock_ud);
	if (!n) {
		r = t->ops->index_sync(t, NULL, flags, st, err);
	} else {
		for (size_t i = 0; r >= 0 && i < n; i++) {
			struct sm_sync_stats s = { 0 };

			r = t->ops->index_sync(t, names[i], flags, &s, err);
			add_stats(st, &s);
		}
	}
	if (t->write_unlock)
		t->write_unlock(t->lock_ud);
	/* even a failed sync may have committed some collections */
	sm_ops_invalidate(ctx, NULL);
	return r < 0 ? r : 0;
}

int sm_ops_collection_init(struct sm_ops_ctx *ctx, const char *name, bool *created,
			   struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	int r;

	if ((r = t->ops->lock(t, err)) < 0)
		return r;
	r = sm_collection_init(t->home, name, created, err);
	t->ops->unlock(t);
	return r;
}

int sm_ops_collection_delete(struct sm_ops_ctx *ctx, const char *name, struct strbuf *err)
{
	struct sm_truth *t = &ctx->truth;
	int r;

	if ((r = t->ops->lock(t, err)) < 0)
		return r;
	r = sm_collection_delete(t->home, name, err);
	t->ops->unlock(t);
	if (r == 0)
		sm_ops_invalidate(ctx, NULL);
	return r;
}
