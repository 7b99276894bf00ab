/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_FS_H
#define SKILLMEAT_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

/*
 * Read a whole file into out (appended), failing with -E2BIG when it is larger
 * than max bytes. Opens with O_CLOEXEC. Errors: -ENOENT, -EISDIR, -E2BIG, ...
 * (out's own cap also gives -E2BIG). On failure out is left as it was.
 */
int sm_fs_read_file(const char *path, size_t max, struct strbuf *out, struct strbuf *err);

/*
 * Atomic replace: write data to ".<name>.<random>.tmp" in the same folder,
 * fsync it, rename it over path, fsync the folder. mode for a new file
 * (an existing file's mode is kept). On failure the temp file is removed and
 * path is untouched.
 */
int sm_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		       struct strbuf *err);
/*
 * Like sm_fs_write_atomic through the temp file tmp_name in path's folder (a
 * name without '/', replaced if it exists), named by the caller so that the
 * leftover of a killed writer can be told apart (a pid in the name).
 */
int sm_fs_write_atomic_via(const char *path, const char *tmp_name, const void *data, size_t len,
			   mode_t mode, struct strbuf *err);
/* Like sm_fs_write_atomic without any fsync: for callers that syncfs once at the end. */
int sm_fs_write_atomic_nosync(const char *path, const void *data, size_t len, mode_t mode,
			      struct strbuf *err);

/* fsync a folder (after creating/renaming entries in it). */
int sm_fs_fsync_dir(const char *dir, struct strbuf *err);

/*
 * An exclusive advisory lock (flock) on path, created if missing; blocks until
 * it is granted. *ret_fd is the open descriptor; sm_fs_unlock closes it.
 */
int sm_fs_lock(const char *path, int *ret_fd, struct strbuf *err);
void sm_fs_unlock(int fd);

/* mkdir -p with mode for each created level. */
int sm_fs_mkdir_p(const char *path, mode_t mode, struct strbuf *err);
/* rm -rf; a missing path is success. Does not follow symlinks. */
int sm_fs_remove_tree(const char *path, struct strbuf *err);
/*
 * rm -rf of a tree we set aside ourselves (a removed artifact): folders the
 * owner cannot write (a read-only subfolder) are made writable (0700) first.
 */
int sm_fs_remove_tree_force(const char *path, struct strbuf *err);
/*
 * A copy of the folder from at to (which must not exist) that shares the
 * files' contents: folders made with their modes, regular files hard-linked,
 * symlinks made again with their targets, other kinds skipped. Replacing a
 * file of the copy by a rename leaves the original untouched. On failure
 * what was made is removed.
 */
int sm_fs_link_tree(const char *from, const char *to, struct strbuf *err);

/*
 * Join base and rel into out (replacing its content), rejecting rel when it is
 * absolute, empty, has a ".." component or a NUL, or — when base exists — when
 * the joined path resolves (through symlinks) outside base. -EINVAL on reject.
 * "." components and repeated slashes are dropped, so a rel of only those
 * counts as empty. The deepest existing part of the joined path must resolve
 * under realpath(base); a dangling symlink there is rejected (its target is
 * unknown). The check is advisory: it cannot stop a later symlink swap.
 */
int sm_fs_safe_join(const char *base, const char *rel, struct strbuf *out, struct strbuf *err);
/* Same with an explicit length, so a rel holding a NUL byte can be rejected. */
int sm_fs_safe_joinn(const char *base, const char *rel, size_t rel_len, struct strbuf *out,
		     struct strbuf *err);
/*
 * sm_fs_safe_join, and *have (st not NULL) true with the lstat the check
 * took of the joined path itself when it exists and is not a symlink, so a
 * caller need not stat it again; false when the check took none.
 */
struct stat;
int sm_fs_safe_join_st(const char *base, const char *rel, struct strbuf *out, struct stat *st,
		       bool *have, struct strbuf *err);

/* Plain join "a/b" (no checks), appended to out. */
int sm_fs_join(struct strbuf *out, const char *a, const char *b);

bool sm_fs_is_dir(const char *path);
bool sm_fs_is_file(const char *path);
bool sm_fs_exists(const char *path);

/*
 * One regular file found by sm_fs_walk: rel is the path relative to the root
 * with '/' separators; size, mtime_ns, ino from stat (symlinks followed).
 */
struct sm_fs_entry {
	char *rel;
	uint64_t size;
	int64_t mtime_ns;
	uint64_t ino;
};

struct sm_fs_list {
	struct sm_fs_entry *items;
	size_t len;
	size_t alloc;
};

/*
 * Every regular file below root, recursively: hidden files included, symlinked
 * files followed, symlinked folders not descended; sorted by relative path
 * compared component by component (bytes), as SkillMeat's hash algorithm A
 * (spec/skillmeat-formats.md §2.7). If root is a regular file the list holds
 * one entry whose rel is its base name. Dangling symlinks and special files
 * are skipped; an unreadable folder is an error. *ret (release it with
 * sm_fs_list_release) is written only on success.
 */
int sm_fs_walk(const char *root, struct sm_fs_list *ret, struct strbuf *err);
void sm_fs_list_release(struct sm_fs_list *list);

/*
 * The one folder reader: visit calls back once per entry of a folder ("." and
 * ".." skipped). type is the entry's DT_* as readdir gives it, resolved with
 * lstat when the filesystem gives DT_UNKNOWN (an entry gone meanwhile is
 * skipped); dfd is the folder, for the *at() calls. visit returns 0 to go
 * on, anything else to stop: that value is returned. Recursive walks recurse
 * from their visitor.
 */
struct sm_fs_dirent {
	int dfd;
	const char *name;
	unsigned char type;
};
typedef int (*sm_fs_visit_fn)(const struct sm_fs_dirent *e, void *ctx);

enum {
	SM_FS_VISIT_SORTED = 1 << 0, /* in strcmp order of the names (read all first) */
};

/*
 * Visit the folder dir (a path). A failure to open or read it is returned as
 * a negative errno without a message (the caller names what it was reading);
 * -ENOMEM when sorting runs out of memory.
 */
int sm_fs_visit_dir(const char *dir, unsigned flags, sm_fs_visit_fn visit, void *ctx);
/* The same over an open folder descriptor, which it takes (closes). */
int sm_fs_visit_dirfd(int dfd, unsigned flags, sm_fs_visit_fn visit, void *ctx);

/* sm_fs_walk's order on two relative paths: <0, 0, >0 like strcmp. */
int sm_fs_path_cmp(const char *a, const char *b);

/*
 * A path that stays inside the folder it is relative to (an archive member,
 * an uploaded file, a deployment record's artifact_path): not empty,
 * '/'-separated, no leading '/', no empty, '.' or '..' part, no '\\', at
 * most 4096 bytes.
 */
bool sm_fs_rel_path_ok(const char *p);

#endif
