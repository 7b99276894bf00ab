/* SPDX-License-Identifier: MIT */
/*
 * Snapshot tarballs through libarchive (gzip tar, spec/skillmeat-formats.md
 * §1.7): the skillmeat-tar.so module, loaded by snapshot.c on the first
 * snapshot or restore so no other verb loads libarchive and its compressors;
 * tests link it in (sm_tar), which registers it at start-up.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/snapshot_tar.h"
#include "skillmeat/array.h"
#include "skillmeat/archive.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

static int arch_err(struct strbuf *err, struct archive *a, const char *what, const char *path)
{
	const char *m = archive_error_string(a);

	return sm_err(err, -EIO, "%s '%s': %s", what, path, m ? m : "archive error");
}

/* Write dir as a gzip tar whose members are top/... */
static int tar_write(const char *dir, const char *top, const char *out, struct strbuf *err)
{
	struct archive *disk = archive_read_disk_new(), *w = archive_write_new();
	struct archive_entry *e = NULL;
	struct strbuf name = STRBUF_INIT;
	size_t dlen = strlen(dir);
	char buf[65536];
	int r = 0, rc;

	if (!disk || !w) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	archive_write_add_filter_gzip(w);
	archive_write_set_format_pax_restricted(w);
	(void)archive_write_set_filter_option(w, "gzip", "compression-level", "6");
	if (archive_write_open_filename(w, out) != ARCHIVE_OK) {
		r = arch_err(err, w, "cannot write", out);
		goto out;
	}
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		r = arch_err(err, disk, "cannot read", dir);
		goto out;
	}
	for (;;) {
		const char *p;
		int fd;

		e = archive_entry_new();
		if (!e) {
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		rc = archive_read_next_header2(disk, e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK) {
			r = arch_err(err, disk, "cannot read", dir);
			break;
		}
		archive_read_disk_descend(disk);
		p = archive_entry_pathname(e);
		if (strncmp(p, dir, dlen) || (p[dlen] != '/' && p[dlen] != '\0')) {
			archive_entry_free(e);
			continue;
		}
		sm_strbuf_reset(&name);
		if ((r = sm_strbuf_addf(&name, "%s%s", top, p + dlen)) < 0) {
			r = sm_err(err, r, "'%s%s': %s", top, p + dlen, sm_strerror(r));
			break;
		}
		archive_entry_set_pathname(e, name.buf);
		if (archive_write_header(w, e) != ARCHIVE_OK) {
			r = arch_err(err, w, "cannot write", out);
			break;
		}
		if (archive_entry_filetype(e) == AE_IFREG && archive_entry_sourcepath(e)) {
			ssize_t n;

			fd = open(archive_entry_sourcepath(e), O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				r = sm_err(err, -errno, "cannot read '%s': %s",
					   archive_entry_sourcepath(e), sm_strerror(errno));
				break;
			}
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				if (archive_write_data(w, buf, (size_t)n) < 0) {
					r = arch_err(err, w, "cannot write", out);
					break;
				}
			if (n < 0 && r == 0)
				r = sm_err(err, -errno, "cannot read '%s': %s",
					   archive_entry_sourcepath(e), sm_strerror(errno));
			close(fd);
			if (r < 0)
				break;
		}
		archive_entry_free(e);
		e = NULL;
	}
	if (archive_write_close(w) != ARCHIVE_OK && r == 0)
		r = arch_err(err, w, "cannot write", out);
out:
	archive_entry_free(e);
	if (disk)
		archive_read_free(disk);
	if (w)
		archive_write_free(w);
	sm_strbuf_release(&name);
	return r;
}

/*
 * Extract the members of tarball (their names are rebuilt under dest here, so
 * absolute member names are never used as they are) under "<top>/<rel>" into dest (dest takes
 * the place of <top>/<rel>). rel NULL: the whole collection (any top).
 */
static int tar_extract(const char *tarball, const char *rel, const char *dest, bool *found,
		   struct strbuf *err)
{
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	struct archive_entry *e;
	struct strbuf out = STRBUF_INIT;
	int r = 0, rc;

	*found = false;
	if (!a || !w) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto done;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						  ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						  ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM);
	if (archive_read_open_filename(a, tarball, 65536) != ARCHIVE_OK) {
		r = arch_err(err, a, "cannot read", tarball);
		goto done;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e), *slash = strchr(p, '/'), *sub;
		size_t rl = rel ? strlen(rel) : 0;
		int ft = archive_entry_filetype(e);

		/* top-level folder stripped; rel selects a member */
		sub = slash ? slash + 1 : "";
		if (rel) {
			if (strncmp(sub, rel, rl) || (sub[rl] != '/' && sub[rl] != '\0'))
				continue;
			sub += rl;
			if (*sub == '/')
				sub++;
		}
		if (strstr(p, "..") && (strstr(p, "/../") || !strncmp(p, "../", 3) ||
					(strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")))) {
			r = sm_err(err, -EPERM, "'%s': member '%s' leaves the collection (refused)",
				   tarball, p);
			break;
		}
		if (ft != AE_IFREG && ft != AE_IFDIR && ft != AE_IFLNK)
			continue;
		if (ft == AE_IFLNK) {
			const char *t = archive_entry_symlink(e);

			if (!t || t[0] == '/' || strstr(t, ".."))
				continue; /* a link out of the collection is not restored */
		}
		sm_strbuf_reset(&out);
		if ((r = sm_strbuf_addf(&out, "%s%s%s", dest, *sub ? "/" : "", sub)) < 0) {
			r = sm_err(err, r, "'%s/%s': %s", dest, sub, sm_strerror(r));
			break;
		}
		archive_entry_set_pathname(e, out.buf);
		archive_entry_set_hardlink(e, NULL);
		if (archive_write_header(w, e) != ARCHIVE_OK) {
			r = arch_err(err, w, "cannot extract", out.buf);
			break;
		}
		*found = true;
		if (ft == AE_IFREG) {
			const void *buf;
			size_t size;
			la_int64_t off;

			while ((rc = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(w, buf, size, off) != ARCHIVE_OK) {
					r = arch_err(err, w, "cannot extract", out.buf);
					break;
				}
			if (r < 0)
				break;
			if (rc != ARCHIVE_EOF) {
				r = arch_err(err, a, "cannot read", tarball);
				break;
			}
		}
		if (archive_write_finish_entry(w) != ARCHIVE_OK) {
			r = arch_err(err, w, "cannot extract", out.buf);
			break;
		}
	}
	if (r == 0 && rc != ARCHIVE_EOF && rc != ARCHIVE_OK)
		r = arch_err(err, a, "cannot read", tarball);
done:
	if (a)
		archive_read_free(a);
	if (w)
		archive_write_free(w);
	sm_strbuf_release(&out);
	return r;
}

/* ---- artifact archives in memory (skillmeat/archive.h) ---- */

static int mem_pack(const struct sm_archive_file *files, size_t n, struct strbuf *out,
		    struct strbuf *err)
{
	struct archive *w = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t used = 0, cap = 64 * 1024;
	char *buf = NULL;
	int r = 0;

	for (size_t i = 0; i < n; i++)
		cap += files[i].len + 1536;
	if (!w || !e || !(buf = sm_malloc(cap))) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	archive_write_add_filter_gzip(w);
	archive_write_set_format_pax_restricted(w);
	archive_write_set_bytes_in_last_block(w, 1);
	if (archive_write_open_memory(w, buf, cap, &used) != ARCHIVE_OK) {
		r = sm_err(err, -EIO, "cannot write the archive: %s", archive_error_string(w));
		goto out;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, files[i].path);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)files[i].len);
		if (archive_write_header(w, e) != ARCHIVE_OK ||
		    (files[i].len &&
		     archive_write_data(w, files[i].data, files[i].len) != (la_ssize_t)files[i].len))
			r = sm_err(err, -EIO, "cannot write the archive: %s",
				   archive_error_string(w));
	}
	if (archive_write_close(w) != ARCHIVE_OK && r == 0)
		r = sm_err(err, -EIO, "cannot write the archive: %s", archive_error_string(w));
	if (r == 0 && (r = sm_strbuf_add(out, buf, used)) < 0)
		r = sm_err(err, r, "the archive: %s", sm_strerror(r));
out:
	archive_entry_free(e);
	if (w)
		archive_write_free(w);
	sm_free(buf);
	return r;
}

static int mem_unpack(const void *data, size_t len, size_t max_files, size_t max_total,
		      struct sm_archive_file **ret, size_t *ret_n, struct strbuf *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct sm_archive_file *v = NULL;
	size_t n = 0, alloc = 0, total = 0;
	int r = 0, rc;

	if (!a)
		return sm_err(err, -ENOMEM, "out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		r = sm_err(err, -EBADMSG, "not a tar.gz archive: %s", archive_error_string(a));
		goto out;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		int ft = archive_entry_filetype(e);
		la_int64_t size = archive_entry_size(e);
		char *path;

		if (p && strncmp(p, "./", 2) == 0)
			p += 2;
		if (ft == AE_IFDIR)
			continue;
		if (ft != AE_IFREG || archive_entry_hardlink(e)) {
			r = sm_err(err, -EBADMSG, "archive member '%s' is not a regular file (refused)",
				   p ? p : "");
			break;
		}
		if (!sm_fs_rel_path_ok(p)) {
			r = sm_err(err, -EBADMSG, "archive member '%s' leaves the artifact (refused)",
				   p ? p : "");
			break;
		}
		if (n >= max_files) {
			r = sm_err(err, -E2BIG, "the archive holds more than %zu files", max_files);
			break;
		}
		if (size < 0 || (uint64_t)size > max_total - total) {
			r = sm_err(err, -E2BIG, "the archive's files are over %zu bytes", max_total);
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (!strcmp(v[i].path, p)) {
				r = sm_err(err, -EBADMSG, "archive member '%s' appears twice", p);
				break;
			}
		if (r < 0)
			break;
		if (SM_GROW(v, alloc, n + 1) < 0 || !(path = sm_strdup(p))) {
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		v[n].path = path;
		v[n].len = (size_t)size;
		v[n].data = sm_malloc(v[n].len ? v[n].len : 1);
		n++;
		if (!v[n - 1].data) {
			r = sm_err(err, -ENOMEM, "out of memory");
			break;
		}
		if (v[n - 1].len &&
		    archive_read_data(a, v[n - 1].data, v[n - 1].len) != (la_ssize_t)v[n - 1].len) {
			r = sm_err(err, -EBADMSG, "archive member '%s' is truncated", p);
			break;
		}
		total += v[n - 1].len;
	}
	if (r == 0 && rc != ARCHIVE_EOF)
		r = sm_err(err, -EBADMSG, "not a valid tar.gz archive: %s",
			   archive_error_string(a) ? archive_error_string(a) : "read error");
	if (r == 0 && n == 0)
		r = sm_err(err, -EBADMSG, "the archive holds no file");
out:
	archive_read_free(a);
	if (r < 0) {
		for (size_t i = 0; i < n; i++) {
			sm_free(v[i].path);
			sm_free(v[i].data);
		}
		sm_free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

const struct sm_tar_ops sm_tar_module = {
	.write = tar_write,
	.extract = tar_extract,
	.pack = mem_pack,
	.unpack = mem_unpack,
};

__attribute__((constructor)) static void register_builtin(void)
{
	sm_tar_register(&sm_tar_module);
}
