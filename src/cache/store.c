/* SPDX-License-Identifier: MIT */
/*
 * The store: row helpers and the public wrappers over struct sm_store_ops
 * (the checks every backend shares). The SQLite backend is store_sqlite*.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cache/store_internal.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"

/* ---------------------------------------------------------------------------
 * Rows
 */

const struct sm_artifact_field sm_artifact_fields[] = {
    F_STR(uuid),
    F_STR(collection),
    F_STR(type),
    F_STR(name),
    F_STR(path),
    F_STR(title),
    F_STR(description),
    F_STR(author),
    F_STR(license),
    F_STR(tags_json),
    F_STR(tools_json),
    F_STR(version),
    F_STR(source),
    F_STR(origin),
    F_STR(origin_source),
    F_STR(upstream),
    F_STR(version_spec),
    F_STR(resolved_sha),
    F_STR(resolved_version),
    F_STR(added),
    F_STR(updated),
    F_STR(content_hash),
    F_STR(lock_hash),
    F_INT(file_count),
    F_INT(total_size),
    F_STR(fingerprint),
};

_Static_assert(SM_ARRAY_SIZE(sm_artifact_fields) == SM_ARTIFACT_NFIELDS,
	       "sm_artifact_fields and ART_COLS must agree");

/* p freed unless it lies in the row's block of strings */
static void release_str(const struct sm_artifact_row *row, char *p)
{
	if (!row->strings || (uintptr_t)p < (uintptr_t)row->strings ||
	    (uintptr_t)p >= (uintptr_t)row->strings + row->strings_len)
		sm_free(p);
}

void sm_artifact_row_release(struct sm_artifact_row *row)
{
	if (!row)
		return;
	for (size_t i = 0; i < SM_ARTIFACT_NFIELDS; i++) {
		if (sm_artifact_fields[i].kind == SM_FIELD_STR)
			release_str(row, *str_field(row, i));
	}
	release_str(row, row->row_hash);
	release_str(row, row->member_added_at);
	release_str(row, row->body);
	sm_free(row->strings);
	memset(row, 0, sizeof(*row));
}

void sm_artifact_rows_free(struct sm_artifact_row *rows, size_t n)
{
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++)
		sm_artifact_row_release(&rows[i]);
	sm_free(rows);
}

void sm_artifact_page_release(struct sm_artifact_page *page)
{
	if (!page)
		return;
	sm_artifact_rows_free(page->rows, page->n);
	memset(page, 0, sizeof(*page));
}

void sm_user_collection_row_release(struct sm_user_collection_row *row)
{
	if (!row)
		return;
	sm_free(row->id);
	sm_free(row->name);
	sm_free(row->description);
	sm_free(row->collection_type);
	sm_free(row->context_category);
	sm_free(row->created_at);
	sm_free(row->updated_at);
	memset(row, 0, sizeof(*row));
}

void sm_user_collection_page_release(struct sm_user_collection_page *page)
{
	if (!page)
		return;
	for (size_t i = 0; i < page->n; i++)
		sm_user_collection_row_release(&page->rows[i]);
	sm_free(page->rows);
	memset(page, 0, sizeof(*page));
}

void sm_memberships_free(struct sm_membership *m, size_t n)
{
	if (!m)
		return;
	for (size_t i = 0; i < n; i++) {
		sm_free(m[i].artifact_uuid);
		sm_free(m[i].collection_id);
		sm_free(m[i].collection_name);
	}
	sm_free(m);
}

void sm_artifact_row_hash(const struct sm_artifact_row *row, char out[17])
{
	uint64_t h = SM_FNV1A_INIT;

	for (size_t i = 0; i < SM_ARTIFACT_NFIELDS; i++) {
		unsigned char tag = (unsigned char)i;

		if (i == SM_ARTIFACT_FP_FIELD)
			continue;
		h = sm_hash_fnv1a(h, &tag, 1);
		if (sm_artifact_fields[i].kind == SM_FIELD_INT) {
			int64_t v = int_field(row, i);

			h = sm_hash_fnv1a(h, &v, sizeof(v));
		} else {
			const char *s = cstr_field(row, i);
			uint64_t len = s ? strlen(s) : UINT64_MAX;

			h = sm_hash_fnv1a(h, &len, sizeof(len));
			if (s)
				h = sm_hash_fnv1a(h, s, len);
		}
	}
	snprintf(out, 17, "%016" PRIx64, h);
}

bool sm_is_hex32(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return i == 32;
}

static bool nonempty(const char *s)
{
	return s && *s;
}

/* ---------------------------------------------------------------------------
 * Public wrappers
 */

void sm_store_free(struct sm_store *st)
{
	if (st)
		st->ops->free(st);
}

int sm_store_begin(struct sm_store *st, struct strbuf *err)
{
	return st->ops->begin(st, err);
}

int sm_store_commit(struct sm_store *st, struct strbuf *err)
{
	return st->ops->commit(st, err);
}

int sm_store_rollback(struct sm_store *st, struct strbuf *err)
{
	return st->ops->rollback(st, err);
}

/*
 * A corrupt database met outside a transaction: let the owner repair it
 * (the cache rebuilds the index from the files) and try once more.
 */
static bool want_heal(struct sm_store *st, bool in_tx, int r)
{
	return r == -EBADMSG && st->heal && !st->healing && !in_tx;
}

static int heal(struct sm_store *st, struct strbuf *err)
{
	int r;

	if (err)
		sm_strbuf_reset(err);
	st->healing = true;
	r = st->heal(st->heal_ctx, err);
	st->healing = false;
	return r;
}

#define HEALED(st, err, call)                                                                      \
	({                                                                                         \
		/* asked before the call: SQLite may roll a transaction back on damage */          \
		bool tx_ = st->heal && st->ops->in_transaction(st);                                \
		int r_ = (call);                                                                   \
		if (want_heal(st, tx_, r_) && heal(st, err) >= 0)                                  \
			r_ = (call);                                                               \
		r_;                                                                                \
	})

void sm_store_set_heal(struct sm_store *st, int (*fn)(void *ctx, struct strbuf *err), void *ctx)
{
	st->heal = fn;
	st->heal_ctx = ctx;
}

int sm_store_upsert_artifacts(struct sm_store *st, const struct sm_artifact_row *rows, size_t n,
			      enum sm_upsert_result *results, struct sm_upsert_stats *stats,
			      struct strbuf *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct sm_artifact_row *r = &rows[i];

		if (!sm_is_hex32(r->uuid))
			return sm_err(err, -EINVAL,
				      "artifact row %zu: uuid '%s' is not 32 hex digits", i,
				      r->uuid ? r->uuid : "");
		if (!nonempty(r->collection) || !nonempty(r->type) || !nonempty(r->name))
			return sm_err(err, -EINVAL,
				      "artifact row %zu: collection, type and name are required",
				      i);
	}
	return HEALED(st, err, st->ops->upsert_artifacts(st, rows, n, results, stats, err));
}

int sm_store_prune_artifacts(struct sm_store *st, const char *collection,
			     const char *const *keep_uuids, size_t nkeep, struct strbuf *err)
{
	if (!nonempty(collection))
		return sm_err(err, -EINVAL, "collection name required");
	return HEALED(st, err, st->ops->prune_artifacts(st, collection, keep_uuids, nkeep, err));
}

int sm_store_delete_artifact(struct sm_store *st, const char *uuid, struct strbuf *err)
{
	if (!uuid)
		return sm_err(err, -EINVAL, "uuid required");
	return HEALED(st, err, st->ops->delete_artifact(st, uuid, err));
}

int sm_store_get_artifact(struct sm_store *st, const char *uuid, struct sm_artifact_row *ret,
			  struct strbuf *err)
{
	if (!uuid)
		return sm_err(err, -EINVAL, "uuid required");
	return HEALED(st, err, st->ops->get_artifact(st, uuid, ret, err));
}

int sm_store_get_artifact_by_key(struct sm_store *st, const char *collection, const char *type,
				 const char *name, struct sm_artifact_row *ret, struct strbuf *err)
{
	if (!collection || !type || !name)
		return sm_err(err, -EINVAL, "collection, type and name required");
	return HEALED(st, err, st->ops->get_artifact_by_key(st, collection, type, name, ret, err));
}

int sm_store_find_artifacts(struct sm_store *st, const char *type, const char *name,
			    struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	if (!name)
		return sm_err(err, -EINVAL, "name required");
	return HEALED(st, err, st->ops->find_artifacts(st, type, name, ret, ret_n, err));
}

int sm_store_name_counts(struct sm_store *st, const struct sm_artifact_row *rows, size_t n,
			 size_t *counts, struct strbuf *err)
{
	if (!n)
		return 0;
	if (st->ops->name_counts)
		return HEALED(st, err, st->ops->name_counts(st, rows, n, counts, err));
	for (size_t i = 0; i < n; i++) {
		struct sm_artifact_row *found = NULL;
		size_t nf = 0;
		int r = sm_store_find_artifacts(st, rows[i].type, rows[i].name, &found, &nf, err);

		if (r < 0)
			return r;
		sm_artifact_rows_free(found, nf);
		counts[i] = nf;
	}
	return 0;
}

int sm_store_list_collection(struct sm_store *st, const char *collection,
			     struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	if (!nonempty(collection))
		return sm_err(err, -EINVAL, "collection name required");
	return HEALED(st, err, st->ops->list_collection(st, collection, ret, ret_n, err));
}

int sm_store_list_artifacts(struct sm_store *st, const struct sm_artifact_query *q,
			    struct sm_artifact_page *ret, struct strbuf *err)
{
	if (q->limit > SM_STORE_MAX_LIMIT && !q->rank)
		return sm_err(err, -EINVAL, "limit %zu above %d", q->limit, SM_STORE_MAX_LIMIT);
	if (q->rank && (q->after_type || !q->search))
		return sm_err(err, -EINVAL, "a ranked search takes a query and no cursor");
	if ((q->after_type == NULL) != (q->after_name == NULL) ||
	    (q->after_collection && !q->after_type))
		return sm_err(err, -EINVAL, "cursor needs both type and name");
	return HEALED(st, err, st->ops->list_artifacts(st, q, ret, err));
}

int sm_store_list_user_collections(struct sm_store *st, const struct sm_user_collection_query *q,
				   struct sm_user_collection_page *ret, struct strbuf *err)
{
	if (q->limit > SM_STORE_MAX_LIMIT)
		return sm_err(err, -EINVAL, "limit %zu above %d", q->limit, SM_STORE_MAX_LIMIT);
	return HEALED(st, err, st->ops->list_user_collections(st, q, ret, err));
}

int sm_store_get_user_collection(struct sm_store *st, const char *id,
				 struct sm_user_collection_row *ret, struct strbuf *err)
{
	if (!id)
		return sm_err(err, -EINVAL, "collection id required");
	return HEALED(st, err, st->ops->get_user_collection(st, id, ret, err));
}

static int check_uc_row(const struct sm_user_collection_row *row, struct strbuf *err)
{
	if (!row->id || (strcmp(row->id, "default") && !sm_is_hex32(row->id)))
		return sm_err(err, -EINVAL, "collection id '%s' is not 32 hex digits or 'default'",
			      row->id ? row->id : "");
	if (!nonempty(row->name) || strlen(row->name) > 255)
		return sm_err(err, -EINVAL, "collection name must be 1 to 255 bytes");
	if (!row->created_at || !row->updated_at)
		return sm_err(err, -EINVAL, "collection '%s': created_at and updated_at required",
			      row->id);
	return 0;
}

int sm_store_create_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
				    struct strbuf *err)
{
	int r = check_uc_row(row, err);

	return r < 0 ? r : HEALED(st, err, st->ops->create_user_collection(st, row, err));
}

int sm_store_put_user_collection(struct sm_store *st, const struct sm_user_collection_row *row,
				 struct strbuf *err)
{
	int r = check_uc_row(row, err);

	return r < 0 ? r : HEALED(st, err, st->ops->put_user_collection(st, row, err));
}

int sm_store_update_user_collection(struct sm_store *st, const char *id,
				    const struct sm_user_collection_update *u, struct strbuf *err)
{
	if (!id)
		return sm_err(err, -EINVAL, "collection id required");
	if (!u->updated_at)
		return sm_err(err, -EINVAL, "collection '%s': updated_at required", id);
	if (u->name && (!*u->name || strlen(u->name) > 255))
		return sm_err(err, -EINVAL, "collection name must be 1 to 255 bytes");
	return HEALED(st, err, st->ops->update_user_collection(st, id, u, err));
}

int sm_store_delete_user_collection(struct sm_store *st, const char *id, struct strbuf *err)
{
	if (!id)
		return sm_err(err, -EINVAL, "collection id required");
	return HEALED(st, err, st->ops->delete_user_collection(st, id, err));
}

int sm_store_prune_user_collections(struct sm_store *st, const char *const *keep_ids, size_t nkeep,
				    struct strbuf *err)
{
	return HEALED(st, err, st->ops->prune_user_collections(st, keep_ids, nkeep, err));
}

int sm_store_add_members(struct sm_store *st, const char *collection_id, const char *const *uuids,
			 size_t n, const char *added_at, struct strbuf *err)
{
	if (!collection_id || !added_at)
		return sm_err(err, -EINVAL, "collection id and added_at required");
	return HEALED(st, err, st->ops->add_members(st, collection_id, uuids, n, added_at, err));
}

int sm_store_add_all_members(struct sm_store *st, const char *collection_id, const char *added_at,
			     struct strbuf *err)
{
	if (!collection_id || !added_at)
		return sm_err(err, -EINVAL, "collection id and added_at required");
	return HEALED(st, err, st->ops->add_all_members(st, collection_id, added_at, err));
}

int sm_store_remove_member(struct sm_store *st, const char *collection_id, const char *uuid,
			   struct strbuf *err)
{
	if (!collection_id || !uuid)
		return sm_err(err, -EINVAL, "collection id and uuid required");
	return HEALED(st, err, st->ops->remove_member(st, collection_id, uuid, err));
}

int sm_store_prune_members(struct sm_store *st, const char *collection_id,
			   const char *const *keep_uuids, size_t nkeep, struct strbuf *err)
{
	if (!collection_id)
		return sm_err(err, -EINVAL, "collection id required");
	return HEALED(st, err, st->ops->prune_members(st, collection_id, keep_uuids, nkeep, err));
}

int sm_store_memberships_of(struct sm_store *st, const char *const *uuids, size_t n,
			    struct sm_membership **ret, size_t *ret_n, struct strbuf *err)
{
	return HEALED(st, err, st->ops->memberships_of(st, uuids, n, ret, ret_n, err));
}

int sm_store_count_members(struct sm_store *st, const char *const *ids, size_t n, int64_t *counts,
			   struct strbuf *err)
{
	return HEALED(st, err, st->ops->count_members(st, ids, n, counts, err));
}

int sm_store_cache_status(struct sm_store *st, const char *collection, int64_t now_ms,
			  int64_t ttl_ms, struct sm_cache_status *ret, struct strbuf *err)
{
	if (ttl_ms < 0)
		return sm_err(err, -EINVAL, "negative ttl");
	return HEALED(st, err, st->ops->cache_status(st, collection, now_ms, ttl_ms, ret, err));
}

int sm_store_list_stale(struct sm_store *st, const char *collection, int64_t now_ms, int64_t ttl_ms,
			size_t limit, struct sm_artifact_row **ret, size_t *ret_n,
			struct strbuf *err)
{
	if (ttl_ms < 0)
		return sm_err(err, -EINVAL, "negative ttl");
	if (limit == 0 || limit > SM_STORE_MAX_LIMIT)
		return sm_err(err, -EINVAL, "limit %zu out of range 1..%d", limit,
			      SM_STORE_MAX_LIMIT);
	return HEALED(st, err, st->ops->list_stale(st, collection, now_ms, ttl_ms, limit, ret, ret_n, err));
}

int sm_store_mark_stale(struct sm_store *st, const char *uuid, struct strbuf *err)
{
	if (!uuid)
		return sm_err(err, -EINVAL, "uuid required");
	return HEALED(st, err, st->ops->mark_stale(st, uuid, err));
}

int sm_store_mark_stale_collection(struct sm_store *st, const char *collection, struct strbuf *err)
{
	return HEALED(st, err, st->ops->mark_stale_collection(st, collection, err));
}

int sm_store_data_version(struct sm_store *st, int64_t *ret, struct strbuf *err)
{
	return HEALED(st, err, st->ops->data_version(st, ret, err));
}

int sm_store_revision(struct sm_store *st, char out[SM_STORE_REVISION_MAX], struct strbuf *err)
{
	return HEALED(st, err, st->ops->revision(st, out, err));
}

int sm_store_dump(struct sm_store *st, unsigned flags, struct strbuf *out, struct strbuf *err)
{
	size_t len = out->len;

	/* a retry after a repair starts the text again */
	return HEALED(st, err, (sm_strbuf_setlen(out, len), st->ops->dump(st, flags, out, err)));
}

int sm_store_get_sync_state(struct sm_store *st, const char *collection, char **ret,
			    struct strbuf *err)
{
	if (!collection || !ret)
		return sm_err(err, -EINVAL, "collection required");
	return HEALED(st, err, st->ops->get_sync_state(st, collection, ret, err));
}

int sm_store_set_sync_state(struct sm_store *st, const char *collection, const char *fp,
			    struct strbuf *err)
{
	if (!collection)
		return sm_err(err, -EINVAL, "collection required");
	return HEALED(st, err, st->ops->set_sync_state(st, collection, fp, err));
}

int sm_store_set_walk_record(struct sm_store *st, const char *collection, const char *type,
			     const char *name, const char *old_fp, const char *new_fp,
			     struct strbuf *err)
{
	if (!collection || !type || !name || !old_fp || !new_fp)
		return sm_err(err, -EINVAL, "collection, type, name and fingerprints required");
	return HEALED(st, err,
		      st->ops->set_walk_record(st, collection, type, name, old_fp, new_fp, err));
}

int sm_store_list_fingerprints(struct sm_store *st, const char *collection,
			       struct sm_artifact_row **ret, size_t *ret_n, struct strbuf *err)
{
	if (!collection || !ret || !ret_n)
		return sm_err(err, -EINVAL, "collection required");
	return HEALED(st, err, st->ops->list_fingerprints(st, collection, ret, ret_n, err));
}

int sm_store_list_collection_names(struct sm_store *st, char ***ret, size_t *ret_n,
				   struct strbuf *err)
{
	if (!ret || !ret_n)
		return sm_err(err, -EINVAL, "output required");
	return HEALED(st, err, st->ops->list_collection_names(st, ret, ret_n, err));
}

int sm_store_bulk_begin(struct sm_store *st, int64_t *mark, struct strbuf *err)
{
	if (!mark)
		return sm_err(err, -EINVAL, "mark required");
	return st->ops->bulk_begin(st, mark, err);
}

int sm_store_bulk_end(struct sm_store *st, int64_t mark, struct strbuf *err)
{
	return st->ops->bulk_end(st, mark, err);
}

int sm_store_any_flagged_stale(struct sm_store *st, bool *ret, struct strbuf *err)
{
	if (!ret)
		return sm_err(err, -EINVAL, "output required");
	return HEALED(st, err, st->ops->any_flagged_stale(st, ret, err));
}

void sm_deployment_rows_free(struct sm_deployment_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		sm_free(rows[i].project);
		sm_free(rows[i].root);
		sm_free(rows[i].profile_id);
		sm_free(rows[i].collection);
		sm_free(rows[i].type);
		sm_free(rows[i].name);
		sm_free(rows[i].artifact_path);
		sm_free(rows[i].deployed_at);
		sm_free(rows[i].content_hash);
		sm_free(rows[i].platform);
	}
	sm_free(rows);
}

int sm_store_replace_deployments(struct sm_store *st, const char *project, const char *root,
				 const struct sm_deployment_row *rows, size_t n, struct strbuf *err)
{
	return HEALED(st, err, st->ops->replace_deployments(st, project, root, rows, n, err));
}

int sm_store_deployments_of(struct sm_store *st, const char *collection, const char *type,
			    const char *name, struct sm_deployment_row **ret, size_t *ret_n,
			    struct strbuf *err)
{
	if (!collection || !type || !name)
		return sm_err(err, -EINVAL, "collection, type and name required");
	return HEALED(st, err, st->ops->deployments_of(st, collection, type, name, ret, ret_n, err));
}
