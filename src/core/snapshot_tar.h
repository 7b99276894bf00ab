/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CORE_SNAPSHOT_TAR_H
#define SKILLMEAT_CORE_SNAPSHOT_TAR_H

#include <stdbool.h>
#include <stddef.h>

struct sm_archive_file;

struct strbuf;

/*
 * The tarball half of snapshots (snapshot_tar.c, libarchive), behind a table
 * so only snapshot and restore load libarchive (skillmeat-tar.so).
 * write: dir as a gzip tar whose members are top/..., into out.
 * extract: the members under "<top>/<rel>" of tarball into dest (dest takes
 * the place of <top>/<rel>; rel NULL: the whole collection); *found tells
 * whether any member matched. Both: 0 or a negative errno with err set.
 */
struct sm_tar_ops {
	int (*write)(const char *dir, const char *top, const char *out, struct strbuf *err);
	int (*extract)(const char *tarball, const char *rel, const char *dest, bool *found,
		       struct strbuf *err);
	/* skillmeat/archive.h: an artifact's files as tar.gz in memory, and back */
	int (*pack)(const struct sm_archive_file *files, size_t n, struct strbuf *out,
		    struct strbuf *err);
	int (*unpack)(const void *data, size_t len, size_t max_files, size_t max_total,
		      struct sm_archive_file **ret, size_t *ret_n, struct strbuf *err);
};

void sm_tar_register(const struct sm_tar_ops *ops);
extern const struct sm_tar_ops sm_tar_module;

#endif
