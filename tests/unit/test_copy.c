/* SPDX-License-Identifier: MIT */
/*
 * Copying an artifact into a collection (src/core/copy.c, spec §1.6) on real
 * folders: the skip list at every level, modes and mtimes kept, symlinks
 * followed only while they stay inside the source (a link out is -EPERM, a
 * dangling one -ENOENT), an existing destination refused, and
 * sm_copy_hash(src) equal to the content hash of the copy it predicts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/copy.h"
#include "skillmeat/fs.h"
#include "skillmeat/sha256.h"
#include "skillmeat/strbuf.h"

struct fixture {
	char dir[64];
	char src[128];
	char dst[128];
};

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

/* dir/rel, made with its folders, holding text */
static void put(const char *dir, const char *rel, const char *text)
{
	char p[512], *slash;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	slash = strrchr(p, '/');
	*slash = '\0';
	assert_int_equal(sm_fs_mkdir_p(p, 0755, NULL), 0);
	*slash = '/';
	write_file(p, text);
}

static bool exists(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sm-copy.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->src, sizeof(f->src), "%s/src", f->dir);
	snprintf(f->dst, sizeof(f->dst), "%s/dst", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sm_fs_remove_tree(f->dir, NULL);
	free(f);
	return 0;
}

static void test_skip_list(void **state)
{
	(void)state;
	static const char *const skipped[] = {
	    ".git", ".github", ".gitignore", "__pycache__", "node_modules", ".venv", "venv",
	    ".DS_Store", "Thumbs.db", "x.pyc", "x.pyo", "pkg.egg-info",
	};
	static const char *const kept[] = {
	    "SKILL.md", ".hidden", ".gitattributes", "git", "venv2", "x.py", "pyc", "egg-info.txt",
	};

	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		if (!sm_copy_skipped(skipped[i]))
			fail_msg("'%s' is not skipped", skipped[i]);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (sm_copy_skipped(kept[i]))
			fail_msg("'%s' is skipped", kept[i]);
}

static void test_tree(void **state)
{
	struct fixture *f = *state;
	char p[512], h_src[SM_SHA256_HEX_LEN + 1], h_dst[SM_SHA256_HEX_LEN + 1];
	struct strbuf text = STRBUF_INIT;
	struct timeval tv[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	struct stat st;

	put(f->src, "SKILL.md", "---\nname: s\n---\nbody\n");
	put(f->src, "scripts/run.sh", "#!/bin/sh\necho hi\n");
	put(f->src, "scripts/deep/er/notes.txt", "deep\n");
	put(f->src, ".hidden", "kept\n");
	put(f->src, ".git/config", "skipped\n");
	put(f->src, "scripts/node_modules/x/index.js", "skipped\n");
	put(f->src, "scripts/__pycache__/m.cpython.pyc", "skipped\n");
	put(f->src, "tool.pyc", "skipped\n");
	put(f->src, "pkg.egg-info/PKG-INFO", "skipped\n");
	snprintf(p, sizeof(p), "%s/scripts/run.sh", f->src);
	assert_int_equal(chmod(p, 0750), 0);
	assert_int_equal(utimes(p, tv), 0);
	/* a link inside the source is followed (its content copied) */
	snprintf(p, sizeof(p), "%s/link.md", f->src);
	assert_int_equal(symlink("SKILL.md", p), 0);

	assert_int_equal(sm_copy_hash(f->src, h_src, NULL), 0);
	assert_int_equal(sm_copy_artifact(f->src, f->dst, NULL), 0);
	assert_true(exists(f->dst, "SKILL.md"));
	assert_true(exists(f->dst, "scripts/run.sh"));
	assert_true(exists(f->dst, "scripts/deep/er/notes.txt"));
	assert_true(exists(f->dst, ".hidden"));
	assert_false(exists(f->dst, ".git"));
	assert_false(exists(f->dst, "scripts/node_modules"));
	assert_false(exists(f->dst, "scripts/__pycache__"));
	assert_false(exists(f->dst, "tool.pyc"));
	assert_false(exists(f->dst, "pkg.egg-info"));
	snprintf(p, sizeof(p), "%s/link.md", f->dst);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode)); /* a file now, not a link */
	assert_int_equal(sm_fs_read_file(p, 1 << 20, &text, NULL), 0);
	assert_string_equal(text.buf, "---\nname: s\n---\nbody\n");
	sm_strbuf_release(&text);
	snprintf(p, sizeof(p), "%s/scripts/run.sh", f->dst);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_mtime, 1000000000);
	/* the hash predicted without copying is the copy's */
	assert_int_equal(sm_content_hash(f->dst, h_dst, NULL), 0);
	assert_string_equal(h_src, h_dst);

	/* an existing destination is refused, and left as it was */
	assert_true(sm_copy_artifact(f->src, f->dst, NULL) < 0);
	assert_true(exists(f->dst, "SKILL.md"));
}

static void test_single_file(void **state)
{
	struct fixture *f = *state;
	char s[256], d[256];
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;

	put(f->src, "agent.md", "---\ndescription: a\n---\n");
	snprintf(s, sizeof(s), "%s/agent.md", f->src);
	snprintf(d, sizeof(d), "%s/agent.md", f->dir);
	assert_int_equal(sm_copy_artifact(s, d, NULL), 0);
	assert_int_equal(sm_fs_read_file(d, 1 << 20, &text, NULL), 0);
	assert_string_equal(text.buf, "---\ndescription: a\n---\n");
	assert_int_equal(sm_copy_artifact(s, d, &err), -EEXIST);
	assert_true(err.len > 0);
	sm_strbuf_reset(&err);
	snprintf(s, sizeof(s), "%s/missing.md", f->src);
	assert_int_equal(sm_copy_artifact(s, d, &err), -ENOENT);
	assert_true(err.len > 0);
	sm_strbuf_release(&text);
	sm_strbuf_release(&err);
}

static void test_links_out_refused(void **state)
{
	struct fixture *f = *state;
	char p[512], hex[SM_SHA256_HEX_LEN + 1];
	struct strbuf err = STRBUF_INIT;

	put(f->dir, "secret/id_rsa", "do not copy\n");
	put(f->src, "SKILL.md", "---\nname: s\n---\n");
	snprintf(p, sizeof(p), "%s/sub", f->src);
	assert_int_equal(sm_fs_mkdir_p(p, 0755, NULL), 0);
	snprintf(p, sizeof(p), "%s/sub/key", f->src);
	assert_int_equal(symlink("../../secret/id_rsa", p), 0);
	assert_int_equal(sm_copy_artifact(f->src, f->dst, &err), -EPERM);
	assert_non_null(strstr(err.buf, "outside the source"));
	assert_false(exists(f->dst, "sub/key"));
	sm_strbuf_reset(&err);
	assert_int_equal(sm_copy_hash(f->src, hex, &err), -EPERM);
	sm_strbuf_reset(&err);

	/* a link to a folder out of the source, and a dangling one */
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/sub/up", f->src);
	assert_int_equal(symlink("../../secret", p), 0);
	assert_int_equal(sm_fs_remove_tree(f->dst, NULL), 0);
	assert_int_equal(sm_copy_artifact(f->src, f->dst, &err), -EPERM);
	sm_strbuf_reset(&err);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("nowhere", p), 0);
	assert_int_equal(sm_fs_remove_tree(f->dst, NULL), 0);
	assert_int_equal(sm_copy_artifact(f->src, f->dst, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "broken symlink"));
	sm_strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_skip_list),
	    cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_single_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_links_out_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
