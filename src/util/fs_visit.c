/* SPDX-License-Identifier: MIT */
/* The one folder reader with a visitor (include/skillmeat/fs.h). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skillmeat/array.h"
#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "util/banned.h"

static bool is_dots(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

static unsigned char resolve_type(int dfd, const char *name, unsigned char type, int *gone)
{
	struct stat st;

	*gone = 0;
	if (type != DT_UNKNOWN)
		return type;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		*gone = errno == ENOENT;
		return DT_UNKNOWN;
	}
	return S_ISDIR(st.st_mode)   ? DT_DIR
	       : S_ISREG(st.st_mode) ? DT_REG
	       : S_ISLNK(st.st_mode) ? DT_LNK
				     : DT_UNKNOWN;
}

struct named {
	char *name;
	unsigned char type;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static int visit_sorted(DIR *d, sm_fs_visit_fn visit, void *ctx)
{
	struct named *v = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	int r = 0;

	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			r = errno ? -errno : 0;
			break;
		}
		if (is_dots(de->d_name))
			continue;
		if (SM_GROW(v, alloc, n + 1) < 0 || !(v[n].name = sm_strdup(de->d_name))) {
			r = -ENOMEM;
			break;
		}
		v[n++].type = de->d_type;
	}
	if (r == 0 && n > 1)
		qsort(v, n, sizeof(*v), cmp_named);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct sm_fs_dirent e = {.dfd = dirfd(d), .name = v[i].name};
		int gone;

		e.type = resolve_type(e.dfd, e.name, v[i].type, &gone);
		if (!gone)
			r = visit(&e, ctx);
	}
	for (size_t i = 0; i < n; i++)
		sm_free(v[i].name);
	sm_free(v);
	return r;
}

int sm_fs_visit_dirfd(int dfd, unsigned flags, sm_fs_visit_fn visit, void *ctx)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	if (flags & SM_FS_VISIT_SORTED) {
		r = visit_sorted(d, visit, ctx);
		closedir(d);
		return r;
	}
	for (;;) {
		struct sm_fs_dirent e = {.dfd = dfd};
		int gone;

		errno = 0;
		de = readdir(d);
		if (!de) {
			r = errno ? -errno : 0;
			break;
		}
		if (is_dots(de->d_name))
			continue;
		e.name = de->d_name;
		e.type = resolve_type(dfd, de->d_name, de->d_type, &gone);
		if (gone)
			continue;
		r = visit(&e, ctx);
		if (r)
			break;
	}
	closedir(d);
	return r;
}

int sm_fs_visit_dir(const char *dir, unsigned flags, sm_fs_visit_fn visit, void *ctx)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return sm_fs_visit_dirfd(fd, flags, visit, ctx);
}
