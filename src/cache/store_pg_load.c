/* SPDX-License-Identifier: MIT */
/*
 * skillmeat/store_pg.h for the program: the team store (libpq) is the
 * skillmeat-pg.so module, loaded on first use, so no other verb loads libpq.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "skillmeat/memory.h"
#include "skillmeat/module.h"
#include "skillmeat/store_pg.h"
#include "util/banned.h"

static const struct sm_pg_ops *pg_ops;

static const struct sm_pg_ops *ops_get(struct strbuf *err)
{
	const struct sm_pg_ops *ops = __atomic_load_n(&pg_ops, __ATOMIC_ACQUIRE);
	const void *sym;

	if (ops)
		return ops;
	if (sm_module_load("skillmeat-pg.so", "sm_pg_module", &sym, err) < 0)
		return NULL;
	__atomic_store_n(&pg_ops, (const struct sm_pg_ops *)sym, __ATOMIC_RELEASE);
	return sym;
}

bool sm_store_is_pg_url(const char *url)
{
	return url && (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11));
}

int sm_store_pg_open(const char *url, const char *tenant, struct sm_store **ret,
		     struct strbuf *err)
{
	const struct sm_pg_ops *ops = ops_get(err);

	return ops ? ops->open(url, tenant, ret, err) : -ENOENT;
}

int sm_store_pg_set_tenant(struct sm_store *st, const char *tenant, struct strbuf *err)
{
	/* a team store exists only when the module was loaded */
	return pg_ops->set_tenant(st, tenant, err);
}

int sm_store_pg_put_artifact(struct sm_store *st, const struct sm_artifact_row *row,
			     const struct sm_pg_file *files, size_t n, bool force, char uuid_out[33],
			     struct strbuf *err)
{
	return pg_ops->put_artifact(st, row, files, n, force, uuid_out, err);
}

int sm_store_pg_update_artifact(struct sm_store *st, const struct sm_artifact_row *row,
				const char *expected, struct strbuf *err)
{
	return pg_ops->update_artifact(st, row, expected, err);
}

int sm_store_pg_get_files(struct sm_store *st, const char *uuid, size_t max_total,
			  struct sm_pg_blob **ret, size_t *ret_n, struct strbuf *err)
{
	return pg_ops->get_files(st, uuid, max_total, ret, ret_n, err);
}

void sm_pg_blobs_free(struct sm_pg_blob *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		sm_free(v[i].path);
		sm_free(v[i].data);
	}
	sm_free(v);
}

static const struct sm_pg_truth_ops *truth_ops;

/* The module is loaded (a store exists): its table of the team truth's entries. */
static const struct sm_pg_truth_ops *truth_ops_get(struct strbuf *err)
{
	const struct sm_pg_truth_ops *ops = __atomic_load_n(&truth_ops, __ATOMIC_ACQUIRE);
	const void *sym;

	if (ops)
		return ops;
	if (sm_module_load("skillmeat-pg.so", "sm_pg_truth_module", &sym, err) < 0)
		return NULL;
	__atomic_store_n(&truth_ops, (const struct sm_pg_truth_ops *)sym, __ATOMIC_RELEASE);
	return sym;
}

int sm_store_pg_list_files(struct sm_store *st, const char *uuid, struct sm_pg_file_info **ret,
			   size_t *ret_n, struct strbuf *err)
{
	const struct sm_pg_truth_ops *ops = truth_ops_get(err);

	return ops ? ops->list_files(st, uuid, ret, ret_n, err) : -EIO; /* not "no file" */
}

int sm_store_pg_read_file(struct sm_store *st, const char *uuid, const char *path, size_t max,
			  struct strbuf *out, struct strbuf *err)
{
	const struct sm_pg_truth_ops *ops = truth_ops_get(err);

	return ops ? ops->read_file(st, uuid, path, max, out, err) : -EIO;
}

int sm_store_pg_fill_default(struct sm_store *st, const char *collection, int64_t *artifacts,
			     int64_t *added, struct strbuf *err)
{
	const struct sm_pg_truth_ops *ops = truth_ops_get(err);

	return ops ? ops->fill_default(st, collection, artifacts, added, err) : -EIO;
}

int sm_store_pg_put_file(struct sm_store *st, const char *uuid, const char *path,
			 const void *data, size_t len, const char *hash, int64_t total,
			 struct strbuf *err)
{
	const struct sm_pg_truth_ops *ops = truth_ops_get(err);

	return ops ? ops->put_file(st, uuid, path, data, len, hash, total, err) : -EIO;
}

void sm_pg_file_infos_free(struct sm_pg_file_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		sm_free(v[i].path);
	sm_free(v);
}

int sm_pg_migrate_to(const char *url, int version, struct strbuf *err)
{
	const struct sm_pg_ops *ops = ops_get(err);

	return ops ? ops->migrate_to(url, version, err) : -ENOENT;
}

int sm_pg_version(const char *url, struct strbuf *err)
{
	const struct sm_pg_ops *ops = ops_get(err);

	return ops ? ops->version(url, err) : -ENOENT;
}

int sm_pg_latest_version(struct strbuf *err)
{
	const struct sm_pg_ops *ops = ops_get(err);

	return ops ? ops->latest : -ENOENT;
}

int sm_store_pg_probe(struct sm_store *st, struct sm_pg_revision *ret, struct strbuf *err)
{
	return pg_ops->probe(st, ret, err);
}

int sm_pg_listen_start(const char *url, const struct sm_pg_listen_hooks *hooks,
		       struct sm_pg_listener **ret, struct strbuf *err)
{
	const struct sm_pg_ops *ops = ops_get(err);

	return ops ? ops->listen_start(url, hooks, ret, err) : -ENOENT;
}

void sm_pg_listen_stop(struct sm_pg_listener *l)
{
	if (l)
		pg_ops->listen_stop(l);
}

bool sm_pg_listen_fresh(struct sm_pg_listener *l, const char *tenant,
			const struct sm_pg_revision *rev)
{
	return l && pg_ops->listen_fresh(l, tenant, rev);
}

void sm_pg_listen_stats(struct sm_pg_listener *l, struct sm_pg_listen_stats *ret)
{
	if (l)
		pg_ops->listen_stats(l, ret);
	else
		memset(ret, 0, sizeof(*ret));
}
