/* SPDX-License-Identifier: MIT */
/* Reads of an artifact's files through the source of truth (skillmeat/ops_files.h). */
#include <errno.h>
#include <string.h>

#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops_files.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/truth.h"
#include "util/banned.h"

void sm_truth_files_free(struct sm_truth_file *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		sm_free(v[i].path);
	sm_free(v);
}

int sm_ops_artifact_files(struct sm_truth *t, const struct sm_artifact_row *row,
			  struct sm_truth_file **ret, size_t *ret_n, struct strbuf *err)
{
	*ret = NULL;
	*ret_n = 0;
	return t->ops->list_files(t, row, ret, ret_n, err);
}

/*
 * rel[0..len) as a clean relative path into out: the rule of
 * sm_fs_safe_joinn without a base ('.' and empty parts dropped; '..', a
 * leading '/', a NUL byte or nothing left: -EINVAL).
 */
static int clean_rel(const char *rel, size_t len, struct strbuf *out, struct strbuf *err)
{
	size_t i = 0;
	int r = 0;

	if (memchr(rel, '\0', len))
		return sm_err(err, -EINVAL, "unsafe path: contains a NUL byte");
	if (len && rel[0] == '/')
		return sm_err(err, -EINVAL, "unsafe path '%.*s': absolute", (int)len, rel);
	while (r == 0 && i < len) {
		size_t j = i;

		while (j < len && rel[j] != '/')
			j++;
		if (j - i == 2 && rel[i] == '.' && rel[i + 1] == '.')
			return sm_err(err, -EINVAL, "unsafe path '%.*s': '..' component", (int)len,
				      rel);
		if (j > i && !(j - i == 1 && rel[i] == '.')) {
			if (out->len)
				r = sm_strbuf_addch(out, '/');
			if (r == 0)
				r = sm_strbuf_add(out, rel + i, j - i);
		}
		i = j + 1;
	}
	if (r < 0)
		return sm_err(err, r, "out of memory");
	if (!out->len)
		return sm_err(err, -EINVAL, "unsafe path '%.*s': empty", (int)len, rel);
	return 0;
}

int sm_ops_artifact_file(struct sm_truth *t, const struct sm_artifact_row *row, const char *rel,
			 size_t len, size_t max, struct strbuf *out, struct strbuf *err)
{
	struct strbuf clean = STRBUF_INIT;
	int r = clean_rel(rel, len, &clean, err);

	if (r == 0)
		r = t->ops->read_file(t, row, clean.buf, max, out, err);
	sm_strbuf_release(&clean);
	return r;
}
