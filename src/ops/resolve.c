/* SPDX-License-Identifier: MIT */
/* Artifact ids as the REST API spells them, resolved against the index (skillmeat/ops.h). */
#include <errno.h>
#include <string.h>

#include "skillmeat/artifact.h"
#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/ops.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

int sm_ops_resolve_id(struct sm_cache *cache, const char *id, const char *collection,
		      struct sm_artifact_row *ret, struct strbuf *err)
{
	const char *colon = strchr(id, ':'), *slash;
	struct strbuf full = STRBUF_INIT, part = STRBUF_INIT;
	int r;

	if (!colon || colon == id || !colon[1])
		return sm_err(err, -EINVAL, "Invalid artifact ID format. Expected 'type:name'");
	slash = memchr(id, '/', (size_t)(colon - id));
	if (slash) {
		if ((r = sm_strbuf_add(&part, id, (size_t)(slash - id))) < 0)
			goto out;
		if (sm_collection_name_check(part.buf, NULL) < 0) {
			r = sm_err(err, -EINVAL, "invalid collection in artifact id '%s'", id);
			goto out;
		}
		if (collection && strcmp(collection, part.buf)) {
			r = sm_err(err, -ENOENT, "Artifact '%s' not found", id);
			goto out;
		}
	}
	if (sm_artifact_name_check(colon + 1, NULL) < 0) {
		r = sm_err(err, -EINVAL, "invalid artifact name in '%s'", id);
		goto out;
	}
	if (collection && !slash) {
		if (sm_collection_name_check(collection, NULL) < 0) {
			r = sm_err(err, -EINVAL, "invalid collection '%s'", collection);
			goto out;
		}
		if ((r = sm_strbuf_addf(&full, "%s/%s", collection, id)) < 0)
			goto out;
		id = full.buf;
	}
	r = sm_cache_resolve_artifact(cache, id, false, ret, err);
	if (r == -ENOENT)
		r = sm_err(err, -ENOENT, "Artifact '%s' not found", id);
	else if (r == -EEXIST)
		r = sm_err_prefix(err, -EEXIST, "artifact id '%s' is ambiguous", id);
out:
	/* a buffer's own failure (no message yet): named, not turned into another code */
	if (r == -ENOMEM && (!err || !err->len))
		r = sm_err(err, r, "out of memory");
	else if (r == -E2BIG && (!err || !err->len))
		r = sm_err(err, r, "artifact id '%s' is too long", id);
	sm_strbuf_release(&full);
	sm_strbuf_release(&part);
	return r;
}
