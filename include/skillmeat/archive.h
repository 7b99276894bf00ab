/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_ARCHIVE_H
#define SKILLMEAT_ARCHIVE_H

#include <stddef.h>

struct strbuf;

/*
 * An artifact's files as a gzip tar in memory (API.md "Team mode":
 * GET /artifacts/{id}/archive), through the skillmeat-tar.so module
 * (libarchive). Members are the files' relative paths, regular files only.
 */
struct sm_archive_file {
	char *path; /* relative, '/'-separated */
	unsigned char *data;
	size_t len;
};
void sm_archive_files_free(struct sm_archive_file *v, size_t n);

/* Append the tar.gz of files (in the order given) to out (its cap applies). */
int sm_archive_pack(const struct sm_archive_file *files, size_t n, struct strbuf *out,
		    struct strbuf *err);

/*
 * Read a tar.gz from memory: hostile input. Refused with a one-line message
 * and nothing returned: not a tar.gz or truncated (-EBADMSG), a member that
 * is not a regular file or folder (links, devices), an absolute path or a
 * '..' part, a member twice (-EBADMSG), more than max_files files or more
 * than max_total bytes in all (-E2BIG). Folders are skipped; *ret gets the
 * files in archive order (sm_archive_files_free).
 */
int sm_archive_unpack(const void *data, size_t len, size_t max_files, size_t max_total,
		      struct sm_archive_file **ret, size_t *ret_n, struct strbuf *err);

#endif
