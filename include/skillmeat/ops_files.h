/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_OPS_FILES_H
#define SKILLMEAT_OPS_FILES_H

/*
 * Reads of an artifact's files (API.md "Files of an artifact"), once for
 * every source of truth (skillmeat/truth.h: the files under the home, or the
 * team store's artifact_files): no lock, no write.
 */

#include <stddef.h>

#include "skillmeat/truth.h"

struct sm_artifact_row;
struct strbuf;

/*
 * The files of row (an artifact of t's index) in sm_fs_walk's order; free
 * with sm_truth_files_free. -EXDEV its files lie outside its collection,
 * -ENOENT they are missing.
 */
int sm_ops_artifact_files(struct sm_truth *t, const struct sm_artifact_row *row,
			  struct sm_truth_file **ret, size_t *ret_n, struct strbuf *err);

/*
 * The bytes of row's file rel[0..len) into out, at most max. rel is a path
 * relative to the artifact, '/'-separated; '.' and empty parts are dropped.
 * -EINVAL when it is empty, absolute, holds a NUL byte or a '..' part, or
 * (files) leads outside the artifact through a symbolic link; -ENOENT no such
 * file (a folder is none); -EXDEV the artifact's files lie outside its
 * collection; -E2BIG over max bytes.
 */
int sm_ops_artifact_file(struct sm_truth *t, const struct sm_artifact_row *row, const char *rel,
			 size_t len, size_t max, struct strbuf *out, struct strbuf *err);

#endif
