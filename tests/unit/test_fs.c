/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"

static char tmproot[1024];

static int make_tmproot(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmproot, sizeof(tmproot), "%s/sm-test-fs-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmproot))
		return -1;
	return 0;
}

static int drop_tmproot(void **state)
{
	(void)state;
	return sm_fs_remove_tree(tmproot, NULL);
}

/* A fresh empty folder below tmproot for one test. */
static void fresh(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmproot, name);
	assert_int_equal(sm_fs_remove_tree(out, NULL), 0);
	assert_int_equal(mkdir(out, 0755), 0);
}

static void put(const char *dir, const char *rel, const char *content)
{
	char path[4096], parent[4096];
	char *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	assert_int_equal(sm_fs_mkdir_p(parent, 0755, NULL), 0);
	f = fopen(path, "wbe");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
	assert_int_equal(fclose(f), 0);
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* ---- read ---- */

static void test_read_file(void **state)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	char dir[4096], path[4200];

	(void)state;
	fresh(dir, sizeof(dir), "read");
	put(dir, "f", "0123456789");
	snprintf(path, sizeof(path), "%s/f", dir);

	assert_int_equal(sm_strbuf_addstr(&sb, "pre:"), 0);
	assert_int_equal(sm_fs_read_file(path, 10, &sb, &err), 0);
	assert_string_equal(sb.buf, "pre:0123456789");

	/* over the cap: -E2BIG and out untouched */
	assert_int_equal(sm_fs_read_file(path, 9, &sb, &err), -E2BIG);
	assert_string_equal(sb.buf, "pre:0123456789");
	assert_non_null(strstr(err.buf, "larger than 9 bytes"));

	/* the buffer's own cap counts too */
	sm_strbuf_release(&sb);
	sm_strbuf_init(&sb, 5);
	assert_int_equal(sm_fs_read_file(path, 100, &sb, &err), -E2BIG);
	assert_int_equal(sb.len, 0);
	sm_strbuf_release(&sb);
	sm_strbuf_init(&sb, 10);
	assert_int_equal(sm_fs_read_file(path, 100, &sb, &err), 0);
	assert_string_equal(sb.buf, "0123456789");
	sm_strbuf_release(&sb);

	/* empty file */
	put(dir, "empty", "");
	snprintf(path, sizeof(path), "%s/empty", dir);
	assert_int_equal(sm_fs_read_file(path, 0, &sb, &err), 0);
	assert_int_equal(sb.len, 0);

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(sm_fs_read_file(path, 100, &sb, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "cannot open '"));
	assert_non_null(strstr(err.buf, "missing': No such file"));

	assert_int_equal(sm_fs_read_file(dir, 100, &sb, &err), -EISDIR);
	sm_strbuf_release(&sb);
	sm_strbuf_release(&err);
}

static void test_read_large_file(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char dir[4096], path[4200];
	size_t n = 300000, i;
	char *data = malloc(n + 1);

	(void)state;
	fresh(dir, sizeof(dir), "readlarge");
	for (i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	data[n] = '\0';
	put(dir, "big", data);
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(sm_fs_read_file(path, n, &sb, NULL), 0);
	assert_int_equal(sb.len, n);
	assert_memory_equal(sb.buf, data, n);
	sm_strbuf_reset(&sb);
	assert_int_equal(sm_fs_read_file(path, n - 1, &sb, NULL), -E2BIG);
	assert_int_equal(sb.len, 0);
	sm_strbuf_release(&sb);
	free(data);
}

/* ---- atomic write ---- */

static void test_write_atomic(void **state)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	char dir[4096], path[4200];
	struct stat st;
	mode_t um = umask(022);

	(void)state;
	fresh(dir, sizeof(dir), "atomic");
	snprintf(path, sizeof(path), "%s/collection.toml", dir);

	assert_int_equal(sm_fs_write_atomic(path, "one\n", 4, 0644, &err), 0);
	assert_int_equal(sm_fs_read_file(path, 100, &sb, NULL), 0);
	assert_string_equal(sb.buf, "one\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* replace keeps an existing file's mode */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(sm_fs_write_atomic(path, "two", 3, 0600, &err), 0);
	sm_strbuf_reset(&sb);
	assert_int_equal(sm_fs_read_file(path, 100, &sb, NULL), 0);
	assert_string_equal(sb.buf, "two");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);

	assert_int_equal(sm_fs_write_atomic_nosync(path, "", 0, 0644, &err), 0);
	sm_strbuf_reset(&sb);
	assert_int_equal(sm_fs_read_file(path, 100, &sb, NULL), 0);
	assert_int_equal(sb.len, 0);

	/* only the target is left: no temp files */
	assert_int_equal(count_entries(dir), 1);

	/* a plain relative name works too (folder ".") */
	{
		char cwd[4096];

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(dir), 0);
		assert_int_equal(sm_fs_write_atomic("rel.txt", "r", 1, 0644, &err), 0);
		assert_int_equal(chdir(cwd), 0);
		assert_int_equal(count_entries(dir), 2);
	}

	/* a trailing slash is not a file name */
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(sm_fs_write_atomic(path, "x", 1, 0644, &err), -EINVAL);

	umask(um);
	sm_strbuf_release(&sb);
	sm_strbuf_release(&err);
}

static void test_write_atomic_missing_dir(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char dir[4096], path[4200], missing[4200];

	(void)state;
	fresh(dir, sizeof(dir), "atomic-missing");
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	snprintf(path, sizeof(path), "%s/nope/file", dir);
	assert_int_equal(sm_fs_write_atomic(path, "x", 1, 0644, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "cannot create '"));
	assert_false(sm_fs_exists(missing));
	assert_int_equal(count_entries(dir), 0);
	sm_strbuf_release(&err);
}

static void test_write_atomic_over_dir_fails_clean(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char dir[4096], path[4200];

	(void)state;
	fresh(dir, sizeof(dir), "atomic-overdir");
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	put(path, "keep", "k");
	/* rename over a non-empty folder fails: temp removed, folder intact */
	assert_true(sm_fs_write_atomic(path, "x", 1, 0644, &err) < 0);
	assert_non_null(strstr(err.buf, "cannot rename"));
	assert_int_equal(count_entries(dir), 1);
	assert_true(sm_fs_is_dir(path));
	sm_strbuf_release(&err);
}

static void test_write_atomic_alloc_fail(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char dir[4096], path[4200];
	long n;
	int r = -1;

	(void)state;
	fresh(dir, sizeof(dir), "atomic-alloc");
	snprintf(path, sizeof(path), "%s/f", dir);
	for (n = 0; n < 100; n++) {
		sm_alloc_fail_after(n);
		r = sm_fs_write_atomic(path, "data", 4, 0644, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(count_entries(dir), 0);
	}
	assert_int_equal(r, 0);
	assert_int_equal(count_entries(dir), 1);
	sm_strbuf_release(&err);
}

/* ---- lock ---- */

/*
 * Wait (deadline 30 s) until process pid is blocked waiting for a lock: the
 * kernel lists such a waiter in /proc/locks as "N: -> FLOCK ... PID ...".
 * An explicit wait, not a sleep that passes whether or not it got there.
 */
static bool wait_blocked_on_lock(pid_t pid)
{
	char want[32];

	snprintf(want, sizeof(want), " %d ", (int)pid);
	for (int i = 0; i < 30000; i++) {
		FILE *f = fopen("/proc/locks", "r");
		char line[256];
		bool found = false;

		if (!f)
			return false;
		while (!found && fgets(line, sizeof(line), f))
			found = strstr(line, "->") && strstr(line, want);
		fclose(f);
		if (found)
			return true;
		usleep(1000);
	}
	return false;
}

static int try_lock_nb(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = flock(fd, LOCK_EX | LOCK_NB) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static void test_lock(void **state)
{
	char dir[4096], path[4200];
	int fd = -1, fd2 = -1, status;
	pid_t pid;

	(void)state;
	fresh(dir, sizeof(dir), "lock");
	snprintf(path, sizeof(path), "%s/collection.lock", dir);
	assert_int_equal(sm_fs_lock(path, &fd, NULL), 0);
	assert_true(fd >= 0);
	assert_true(sm_fs_is_file(path));

	/* another open file description in this process is refused */
	assert_int_equal(try_lock_nb(path), -EWOULDBLOCK);

	/* so is another process */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(try_lock_nb(path) == -EWOULDBLOCK ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* a child blocking in sm_fs_lock gets it once we let go */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd = -1;

		if (sm_fs_lock(path, &cfd, NULL) < 0)
			_exit(2);
		sm_fs_unlock(cfd);
		_exit(0);
	}
	assert_true(wait_blocked_on_lock(pid)); /* it waits in flock, for us */
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	sm_fs_unlock(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(try_lock_nb(path), 0);
	assert_int_equal(sm_fs_lock(path, &fd2, NULL), 0);
	sm_fs_unlock(fd2);
	sm_fs_unlock(-1);

	snprintf(path, sizeof(path), "%s/missing/x.lock", dir);
	assert_int_equal(sm_fs_lock(path, &fd, NULL), -ENOENT);
}

/* ---- mkdir_p / remove_tree ---- */

static void test_mkdir_p(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char dir[4096], path[4200];

	(void)state;
	fresh(dir, sizeof(dir), "mkdir");
	snprintf(path, sizeof(path), "%s/a/b//c/", dir);
	assert_int_equal(sm_fs_mkdir_p(path, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_true(sm_fs_is_dir(path));
	/* existing is fine */
	assert_int_equal(sm_fs_mkdir_p(path, 0755, &err), 0);
	/* a file in the way */
	put(dir, "a/file", "x");
	snprintf(path, sizeof(path), "%s/a/file/sub", dir);
	assert_int_equal(sm_fs_mkdir_p(path, 0755, &err), -ENOTDIR);
	assert_non_null(strstr(err.buf, "cannot create folder"));
	assert_int_equal(sm_fs_mkdir_p("", 0755, &err), -EINVAL);
	assert_int_equal(sm_fs_mkdir_p("/", 0755, &err), 0);
	sm_strbuf_release(&err);
}

static void test_remove_tree(void **state)
{
	char dir[4096], outside[4096], path[4200], link[4200];

	(void)state;
	fresh(dir, sizeof(dir), "rm");
	fresh(outside, sizeof(outside), "rm-outside");
	put(outside, "keep/me", "precious");
	put(dir, "t/a/b/c.txt", "c");
	put(dir, "t/.hidden/x", "x");
	put(dir, "t/top", "t");
	snprintf(link, sizeof(link), "%s/t/a/link", dir);
	assert_int_equal(symlink(outside, link), 0);

	snprintf(path, sizeof(path), "%s/t", dir);
	assert_int_equal(sm_fs_remove_tree(path, NULL), 0);
	assert_false(sm_fs_exists(path));
	snprintf(path, sizeof(path), "%s/keep/me", outside);
	assert_true(sm_fs_is_file(path));

	/* missing is success; a single file; a symlink root is unlinked, not followed */
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(sm_fs_remove_tree(path, NULL), 0);
	put(dir, "single", "s");
	snprintf(path, sizeof(path), "%s/single", dir);
	assert_int_equal(sm_fs_remove_tree(path, NULL), 0);
	assert_false(sm_fs_exists(path));
	snprintf(link, sizeof(link), "%s/rootlink", dir);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(sm_fs_remove_tree(link, NULL), 0);
	assert_int_equal(access(link, F_OK), -1);
	snprintf(path, sizeof(path), "%s/keep/me", outside);
	assert_true(sm_fs_is_file(path));
	assert_int_equal(count_entries(dir), 0);
}

/*
 * A linked copy shares its files, keeps folder modes and symlinks, and a file
 * replaced in it by an atomic write leaves the original as it was; an
 * existing destination is refused and left alone. A read-only folder is
 * removed by the forced removal.
 */
static void test_link_tree(void **state)
{
	char dir[4096], from[4200], to[4200], p[4300], q[4300];
	struct strbuf s = STRBUF_INIT, err = STRBUF_INIT;
	struct stat a, b;

	(void)state;
	fresh(dir, sizeof(dir), "link");
	snprintf(from, sizeof(from), "%s/from", dir);
	snprintf(to, sizeof(to), "%s/to", dir);
	put(from, "SKILL.md", "old text");
	put(from, "notes/ro/file.txt", "kept");
	put(from, ".hidden", "h");
	snprintf(p, sizeof(p), "%s/link", from);
	assert_int_equal(symlink("SKILL.md", p), 0);
	snprintf(p, sizeof(p), "%s/notes/ro", from);
	assert_int_equal(chmod(p, 0555), 0);

	assert_int_equal(sm_fs_link_tree(from, to, &err), 0);
	snprintf(p, sizeof(p), "%s/notes/ro/file.txt", from);
	snprintf(q, sizeof(q), "%s/notes/ro/file.txt", to);
	assert_int_equal(stat(p, &a), 0);
	assert_int_equal(stat(q, &b), 0);
	assert_true(a.st_ino == b.st_ino); /* shared, not copied */
	snprintf(q, sizeof(q), "%s/notes/ro", to);
	assert_int_equal(stat(q, &b), 0);
	assert_int_equal(b.st_mode & 07777, 0555);
	snprintf(q, sizeof(q), "%s/link", to);
	assert_int_equal(lstat(q, &b), 0);
	assert_true(S_ISLNK(b.st_mode));
	snprintf(q, sizeof(q), "%s/.hidden", to);
	assert_true(sm_fs_is_file(q));

	/* a file replaced in the copy: the original keeps its text */
	snprintf(q, sizeof(q), "%s/SKILL.md", to);
	assert_int_equal(sm_fs_write_atomic(q, "new text", 8, 0644, NULL), 0);
	snprintf(p, sizeof(p), "%s/SKILL.md", from);
	assert_int_equal(sm_fs_read_file(p, 1024, &s, NULL), 0);
	assert_string_equal(s.buf, "old text");

	/* an existing destination is refused and not touched */
	sm_strbuf_reset(&err);
	assert_int_equal(sm_fs_link_tree(from, to, &err), -EEXIST);
	assert_true(err.len > 0);
	assert_true(sm_fs_is_file(q));

	assert_int_equal(sm_fs_remove_tree_force(to, NULL), 0);
	assert_false(sm_fs_exists(to));
	assert_int_equal(sm_fs_remove_tree_force(from, NULL), 0);
	assert_false(sm_fs_exists(from));
	sm_strbuf_release(&s);
	sm_strbuf_release(&err);
}

static void test_remove_tree_alloc_fail(void **state)
{
	char dir[4096], path[4200];
	long n;
	int r = -1;

	(void)state;
	fresh(dir, sizeof(dir), "rm-alloc");
	put(dir, "t/a/b/c", "1");
	put(dir, "t/a/d/e", "2");
	put(dir, "t/f", "3");
	snprintf(path, sizeof(path), "%s/t", dir);
	/* each failure is reported; what is left can be removed by a retry */
	for (n = 0; n < 100; n++) {
		sm_alloc_fail_after(n);
		r = sm_fs_remove_tree(path, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
	}
	assert_int_equal(r, 0);
	assert_false(sm_fs_exists(path));
}

/* ---- joins ---- */

static void expect_reject(const char *base, const char *rel)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(sm_strbuf_addstr(&out, "unchanged"), 0);
	if (sm_fs_safe_join(base, rel, &out, &err) != -EINVAL)
		fail_msg("'%s' was not rejected", rel);
	assert_string_equal(out.buf, "unchanged");
	assert_true(err.len > 0);
	assert_non_null(strstr(err.buf, "unsafe path"));
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

static void expect_join(const char *base, const char *rel, const char *want_rel)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char want[8192];

	snprintf(want, sizeof(want), "%s/%s", base, want_rel);
	assert_int_equal(sm_strbuf_addstr(&out, "old content"), 0);
	if (sm_fs_safe_join(base, rel, &out, &err) != 0)
		fail_msg("'%s' rejected: %s", rel, err.buf);
	assert_string_equal(out.buf, want);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

/* The join's own lstat of the joined path: given when it exists and no symlink is on the way. */
static void test_safe_join_st(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char dir[4096], path[4200], link[4200];
	struct stat st, want;
	bool have = true;

	(void)state;
	fresh(dir, sizeof(dir), "join-st");
	put(dir, "skills/canvas/SKILL.md", "x");
	assert_int_equal(sm_fs_safe_join_st(dir, "skills/canvas", &out, &st, &have, &err), 0);
	assert_true(have);
	snprintf(path, sizeof(path), "%s/skills/canvas", dir);
	assert_string_equal(out.buf, path);
	assert_int_equal(lstat(path, &want), 0);
	assert_true(st.st_ino == want.st_ino && st.st_dev == want.st_dev &&
		    st.st_mode == want.st_mode);
	/* missing: none */
	assert_int_equal(sm_fs_safe_join_st(dir, "skills/gone", &out, &st, &have, &err), 0);
	assert_false(have);
	/* a symlink (inside base) on the way or at the end: none, the join still checked */
	snprintf(link, sizeof(link), "%s/skills/alias", dir);
	assert_int_equal(symlink("canvas", link), 0);
	have = true;
	assert_int_equal(sm_fs_safe_join_st(dir, "skills/alias", &out, &st, &have, &err), 0);
	assert_false(have);
	have = true;
	assert_int_equal(sm_fs_safe_join_st(dir, "skills/alias/SKILL.md", &out, &st, &have, &err),
			 0);
	assert_false(have);
	/* a rejected path: an error, none */
	have = true;
	assert_int_equal(sm_fs_safe_join_st(dir, "../x", &out, &st, &have, &err), -EINVAL);
	assert_false(have);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

static void test_safe_join(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char dir[4096], outside[4096], path[4200], base_slash[4200];

	(void)state;
	fresh(dir, sizeof(dir), "join");
	fresh(outside, sizeof(outside), "join-outside");
	put(dir, "skills/canvas/SKILL.md", "x");

	expect_reject(dir, "../x");
	expect_reject(dir, "a/../../b");
	expect_reject(dir, "a/..");
	expect_reject(dir, "..");
	expect_reject(dir, "/abs");
	expect_reject(dir, "/etc/passwd");
	expect_reject(dir, "");
	expect_reject(dir, ".");
	expect_reject(dir, "./");
	expect_reject(dir, "a/b/../c");

	/* NUL byte inside the given length */
	assert_int_equal(sm_fs_safe_joinn(dir, "a\0b", 3, &out, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "NUL"));
	/* length shorter than the string is honoured */
	assert_int_equal(sm_fs_safe_joinn(dir, "ab/../x", 2, &out, &err), 0);
	snprintf(path, sizeof(path), "%s/ab", dir);
	assert_string_equal(out.buf, path);

	expect_join(dir, "skills/canvas/SKILL.md", "skills/canvas/SKILL.md");
	expect_join(dir, "skills/new/deeper/file", "skills/new/deeper/file");
	expect_join(dir, "./a//b/", "a/b");
	expect_join(dir, "...", "...");
	expect_join(dir, "..hidden", "..hidden");
	expect_join(dir, "x..", "x..");

	/* base given with a trailing slash */
	snprintf(base_slash, sizeof(base_slash), "%s/", dir);
	assert_int_equal(sm_fs_safe_join(base_slash, "a", &out, &err), 0);
	snprintf(path, sizeof(path), "%s/a", dir);
	assert_string_equal(out.buf, path);

	/* symlinks leading outside base */
	snprintf(path, sizeof(path), "%s/out", dir);
	assert_int_equal(symlink(outside, path), 0);
	expect_reject(dir, "out");
	expect_reject(dir, "out/x");
	expect_reject(dir, "out/deep/er/x");
	snprintf(path, sizeof(path), "%s/skills/canvas/up", dir);
	assert_int_equal(symlink("../../..", path), 0);
	expect_reject(dir, "skills/canvas/up/x");
	snprintf(path, sizeof(path), "%s/passwd", dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	expect_reject(dir, "passwd");
	/* dangling: its target is unknown */
	snprintf(path, sizeof(path), "%s/dangling", dir);
	assert_int_equal(symlink("/nonexistent/sm-test", path), 0);
	expect_reject(dir, "dangling");

	/* symlinks that stay inside are fine */
	snprintf(path, sizeof(path), "%s/alias", dir);
	assert_int_equal(symlink("skills/canvas", path), 0);
	expect_join(dir, "alias/SKILL.md", "alias/SKILL.md");
	expect_join(dir, "alias/new", "alias/new");

	/* base itself reached through a symlink */
	snprintf(path, sizeof(path), "%s/join-via-link", tmproot);
	assert_int_equal(symlink(dir, path), 0);
	expect_join(path, "skills/canvas/SKILL.md", "skills/canvas/SKILL.md");
	expect_reject(path, "out/x");
	unlink(path);

	/* a base that does not exist yet only gets the lexical checks */
	snprintf(path, sizeof(path), "%s/not-yet", dir);
	expect_join(path, "a/b", "a/b");
	expect_reject(path, "../b");

	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

static void test_safe_join_alloc_fail(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char dir[4096];
	long n;
	int r = -1;

	(void)state;
	fresh(dir, sizeof(dir), "join-alloc");
	for (n = 0; n < 100; n++) {
		sm_alloc_fail_after(n);
		r = sm_fs_safe_join(dir, "a/b/c", &out, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
	}
	assert_int_equal(r, 0);
	sm_strbuf_release(&out);
}

static void test_join(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_fs_join(&out, "a", "b"), 0);
	assert_string_equal(out.buf, "a/b");
	sm_strbuf_reset(&out);
	assert_int_equal(sm_fs_join(&out, "a/", "b/c"), 0);
	assert_string_equal(out.buf, "a/b/c");
	sm_strbuf_reset(&out);
	assert_int_equal(sm_fs_join(&out, "", "b"), 0);
	assert_string_equal(out.buf, "b");
	sm_strbuf_reset(&out);
	assert_int_equal(sm_fs_join(&out, "/", "b"), 0);
	assert_string_equal(out.buf, "/b");
	/* appends */
	assert_int_equal(sm_fs_join(&out, "x", "y"), 0);
	assert_string_equal(out.buf, "/bx/y");
	sm_strbuf_release(&out);
}

static void test_predicates(void **state)
{
	char dir[4096], path[4200], link[4200];

	(void)state;
	fresh(dir, sizeof(dir), "pred");
	put(dir, "f", "x");
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_true(sm_fs_is_file(path));
	assert_false(sm_fs_is_dir(path));
	assert_true(sm_fs_exists(path));
	assert_true(sm_fs_is_dir(dir));
	assert_false(sm_fs_is_file(dir));
	snprintf(link, sizeof(link), "%s/l", dir);
	assert_int_equal(symlink("f", link), 0);
	assert_true(sm_fs_is_file(link)); /* followed */
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_false(sm_fs_exists(path));
	assert_false(sm_fs_is_file(path));
	assert_false(sm_fs_is_dir(path));
}

/* ---- walk ---- */

/* archive members and uploaded paths (snapshot_tar.c, team.c) stay inside their folder */
static void test_rel_path_ok(void **state)
{
	static const char *const good[] = { "a", "SKILL.md", "a/b.txt", ".hidden", "a/.b/..c",
					     "...", "a..b/c" };
	static const char *const bad[] = { "", "/abs", "a//b", "a/", "./a", "a/./b", "..",
					   "../a", "a/../b", "a/..", "a\\b", "." };
	char *longp = malloc(4098);

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(sm_fs_rel_path_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(sm_fs_rel_path_ok(bad[i]));
	assert_false(sm_fs_rel_path_ok(NULL));
	assert_non_null(longp);
	memset(longp, 'x', 4096);
	longp[4096] = '\0';
	assert_true(sm_fs_rel_path_ok(longp));
	longp[4096] = 'x';
	longp[4097] = '\0';
	assert_false(sm_fs_rel_path_ok(longp));
	free(longp);
}

static void test_path_cmp(void **state)
{
	(void)state;
	assert_true(sm_fs_path_cmp("a/b.txt", "a-b/c.txt") < 0);
	assert_true(sm_fs_path_cmp("a-b/c.txt", "a/b.txt") > 0);
	assert_true(strcmp("a/b.txt", "a-b/c.txt") > 0); /* what a plain sort would do */
	assert_true(sm_fs_path_cmp(".hidden", "SKILL.md") < 0);
	assert_true(sm_fs_path_cmp("SKILL.md", "a/b.txt") < 0);
	assert_true(sm_fs_path_cmp("a", "a/b") < 0);
	assert_true(sm_fs_path_cmp("a/b", "a") > 0);
	assert_true(sm_fs_path_cmp("a/b", "a/b") == 0);
	assert_true(sm_fs_path_cmp("a/b", "a.b") < 0);
	assert_true(sm_fs_path_cmp("ab/c", "a/z") > 0);
	assert_true(sm_fs_path_cmp("\xc3\xa9", "z") > 0); /* UTF-8 bytes, unsigned */
}

static void test_walk_order_and_kinds(void **state)
{
	struct sm_fs_list list = {0};
	struct strbuf err = STRBUF_INIT;
	char dir[4096], outside[4096], path[4200], target[4200];
	static const char *const want[] = {
		".hidden", "SKILL.md", "a/b.txt", "a/filelink", "a-b/c.txt", "z/.dot/deep",
	};
	struct stat st;
	size_t i;

	(void)state;
	fresh(dir, sizeof(dir), "walk");
	fresh(outside, sizeof(outside), "walk-outside");
	put(outside, "inner/secret", "s");
	put(outside, "target.txt", "target!");
	put(dir, ".hidden", "z");
	put(dir, "SKILL.md", "hello\n");
	put(dir, "a/b.txt", "x");
	put(dir, "a-b/c.txt", "y");
	put(dir, "z/.dot/deep", "d");
	/* symlinked folder: not descended; symlinked file: followed */
	snprintf(path, sizeof(path), "%s/a/dirlink", dir);
	assert_int_equal(symlink(outside, path), 0);
	snprintf(target, sizeof(target), "%s/target.txt", outside);
	snprintf(path, sizeof(path), "%s/a/filelink", dir);
	assert_int_equal(symlink(target, path), 0);
	/* dangling symlink, fifo and empty folder: skipped */
	snprintf(path, sizeof(path), "%s/a/dangling", dir);
	assert_int_equal(symlink("nowhere", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/emptydir", dir);
	assert_int_equal(mkdir(path, 0755), 0);

	assert_int_equal(sm_fs_walk(dir, &list, &err), 0);
	for (i = 0; i < list.len; i++)
		print_message("walk: %s\n", list.items[i].rel);
	assert_int_equal(list.len, SM_ARRAY_SIZE(want));
	for (i = 0; i < list.len; i++)
		assert_string_equal(list.items[i].rel, want[i]);

	/* stat data follows the symlink */
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(list.items[3].size, 7);
	assert_int_equal(list.items[3].ino, (uint64_t)st.st_ino);
	assert_int_equal(list.items[3].mtime_ns,
			 (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
	assert_int_equal(list.items[1].size, 6);
	sm_fs_list_release(&list);
	sm_fs_list_release(&list); /* twice is fine */
	sm_strbuf_release(&err);
}

static void test_walk_edges(void **state)
{
	struct sm_fs_list list = {0};
	struct strbuf err = STRBUF_INIT;
	char dir[4096], path[4200];

	(void)state;
	fresh(dir, sizeof(dir), "walk-edges");
	assert_int_equal(sm_fs_walk(dir, &list, &err), 0);
	assert_int_equal(list.len, 0);
	sm_fs_list_release(&list);

	put(dir, "only.md", "abc");
	snprintf(path, sizeof(path), "%s/only.md", dir);
	assert_int_equal(sm_fs_walk(path, &list, &err), 0);
	assert_int_equal(list.len, 1);
	assert_string_equal(list.items[0].rel, "only.md");
	assert_int_equal(list.items[0].size, 3);
	sm_fs_list_release(&list);

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(sm_fs_walk(path, &list, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "missing"));

	/* a root that is a symlink to a folder is walked */
	snprintf(path, sizeof(path), "%s/rootlink", tmproot);
	assert_int_equal(symlink(dir, path), 0);
	assert_int_equal(sm_fs_walk(path, &list, &err), 0);
	assert_int_equal(list.len, 1);
	assert_string_equal(list.items[0].rel, "only.md");
	sm_fs_list_release(&list);
	unlink(path);
	sm_strbuf_release(&err);
}

static void test_walk_many(void **state)
{
	struct sm_fs_list list = {0};
	char dir[4096], rel[256];
	size_t i;
	int a, b;

	(void)state;
	fresh(dir, sizeof(dir), "walk-many");
	for (a = 0; a < 20; a++) {
		for (b = 0; b < 25; b++) {
			snprintf(rel, sizeof(rel), "d%d/%s/f%d", a, b % 2 ? "x-y" : "x", b);
			put(dir, rel, "c");
		}
		snprintf(rel, sizeof(rel), "d%d.txt", a);
		put(dir, rel, "t");
	}
	assert_int_equal(sm_fs_walk(dir, &list, NULL), 0);
	assert_int_equal(list.len, 20 * 25 + 20);
	for (i = 1; i < list.len; i++)
		assert_true(sm_fs_path_cmp(list.items[i - 1].rel, list.items[i].rel) < 0);
	/* "d0/x/..." before "d0/x-y/..." before "d0.txt" */
	assert_string_equal(list.items[0].rel, "d0/x/f0");
	assert_true(strncmp(list.items[13].rel, "d0/x-y/", 7) == 0);
	assert_string_equal(list.items[25].rel, "d0.txt");
	sm_fs_list_release(&list);
}

static void test_walk_alloc_fail(void **state)
{
	struct sm_fs_list list = {0};
	char dir[4096];
	long n;
	int r = -1;

	(void)state;
	fresh(dir, sizeof(dir), "walk-alloc");
	put(dir, "a/b/c", "1");
	put(dir, "a/d", "2");
	put(dir, "e", "3");
	for (n = 0; n < 200; n++) {
		sm_alloc_fail_after(n);
		r = sm_fs_walk(dir, &list, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
	}
	assert_int_equal(r, 0);
	assert_int_equal(list.len, 3);
	sm_fs_list_release(&list);
}

struct seen {
	char names[16][32];
	unsigned char types[16];
	int n, stop_at;
};

static int record(const struct sm_fs_dirent *e, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < 16);
	assert_true(e->dfd >= 0);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", e->name);
	s->types[s->n] = e->type;
	s->n++;
	return s->n == s->stop_at ? 42 : 0;
}

static void test_visit_dir(void **state)
{
	char dir[4096], link[4200], target[4200];
	struct seen s = {0};

	(void)state;
	fresh(dir, sizeof(dir), "visit");
	put(dir, "b.md", "b");
	put(dir, ".hidden", "h");
	put(dir, "a/inner.md", "i");
	snprintf(link, sizeof(link), "%s/c", dir);
	snprintf(target, sizeof(target), "%s/b.md", dir);
	assert_int_equal(symlink(target, link), 0);
	/* sorted, "." and ".." skipped, hidden entries included, types resolved */
	assert_int_equal(sm_fs_visit_dir(dir, SM_FS_VISIT_SORTED, record, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.names[0], ".hidden");
	assert_string_equal(s.names[1], "a");
	assert_int_equal(s.types[1], DT_DIR);
	assert_string_equal(s.names[2], "b.md");
	assert_int_equal(s.types[2], DT_REG);
	assert_string_equal(s.names[3], "c");
	assert_int_equal(s.types[3], DT_LNK);
	/* unsorted sees the same four; a non-zero visitor result stops and is returned */
	memset(&s, 0, sizeof(s));
	assert_int_equal(sm_fs_visit_dir(dir, 0, record, &s), 0);
	assert_int_equal(s.n, 4);
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(sm_fs_visit_dir(dir, SM_FS_VISIT_SORTED, record, &s), 42);
	assert_int_equal(s.n, 2);
	/* errors as negative errno */
	assert_int_equal(sm_fs_visit_dir(target, 0, record, &s), -ENOTDIR);
	snprintf(target, sizeof(target), "%s/missing", dir);
	assert_int_equal(sm_fs_visit_dir(target, 0, record, &s), -ENOENT);
	/* sorting out of memory */
	sm_alloc_fail_after(0);
	assert_int_equal(sm_fs_visit_dir(dir, SM_FS_VISIT_SORTED, record, &s), -ENOMEM);
	sm_alloc_fail_after(-1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_large_file),
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_write_atomic_missing_dir),
		cmocka_unit_test(test_write_atomic_over_dir_fails_clean),
		cmocka_unit_test(test_write_atomic_alloc_fail),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_remove_tree),
		cmocka_unit_test(test_remove_tree_alloc_fail),
		cmocka_unit_test(test_link_tree),
		cmocka_unit_test(test_safe_join),
		cmocka_unit_test(test_safe_join_st),
		cmocka_unit_test(test_safe_join_alloc_fail),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_predicates),
		cmocka_unit_test(test_visit_dir),
		cmocka_unit_test(test_rel_path_ok),
		cmocka_unit_test(test_path_cmp),
		cmocka_unit_test(test_walk_order_and_kinds),
		cmocka_unit_test(test_walk_edges),
		cmocka_unit_test(test_walk_many),
		cmocka_unit_test(test_walk_alloc_fail),
	};

	return cmocka_run_group_tests(tests, make_tmproot, drop_tmproot);
}
