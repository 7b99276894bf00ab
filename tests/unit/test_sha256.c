/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/sha256.h"
#include "skillmeat/strbuf.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char tmproot[1024];

static int make_tmproot(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmproot, sizeof(tmproot), "%s/sm-test-sha-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmproot) ? 0 : -1;
}

static int drop_tmproot(void **state)
{
	(void)state;
	return sm_fs_remove_tree(tmproot, NULL);
}

static void fresh(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmproot, name);
	assert_int_equal(sm_fs_remove_tree(out, NULL), 0);
	assert_int_equal(mkdir(out, 0755), 0);
}

static void put(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[4200], parent[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	assert_int_equal(sm_fs_mkdir_p(parent, 0755, NULL), 0);
	assert_int_equal(sm_fs_write_atomic_nosync(path, data, len, 0644, NULL), 0);
}

static void puts_(const char *dir, const char *rel, const char *s)
{
	put(dir, rel, s, strlen(s));
}

static void test_known_digests(void **state)
{
	char hex[SM_SHA256_HEX_LEN + 1];

	(void)state;
	assert_int_equal(sm_sha256_hex("", 0, hex), 0);
	assert_string_equal(hex, EMPTY_SHA);
	assert_int_equal(sm_sha256_hex(NULL, 0, hex), 0);
	assert_string_equal(hex, EMPTY_SHA);
	assert_int_equal(sm_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sm_sha256_hex("hello\n", 6, hex), 0);
	assert_string_equal(hex,
			    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
}

static void test_incremental(void **state)
{
	const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[SM_SHA256_HEX_LEN + 1], one[SM_SHA256_HEX_LEN + 1];
	struct sm_sha256 *h = NULL;
	size_t i;

	(void)state;
	assert_int_equal(sm_sha256_new(&h), 0);
	for (i = 0; msg[i]; i++)
		assert_int_equal(sm_sha256_update(h, msg + i, 1), 0);
	assert_int_equal(sm_sha256_update(h, NULL, 0), 0);
	assert_int_equal(sm_sha256_final_hex(h, hex), 0);
	assert_string_equal(hex,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	assert_int_equal(sm_sha256_hex(msg, strlen(msg), one), 0);
	assert_string_equal(hex, one);
	/* final resets for reuse */
	assert_int_equal(sm_sha256_final_hex(h, hex), 0);
	assert_string_equal(hex, EMPTY_SHA);
	assert_int_equal(sm_sha256_update(h, "abc", 3), 0);
	assert_int_equal(sm_sha256_final_hex(h, hex), 0);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sm_sha256_free(h);
	sm_sha256_free(NULL);
}

static void test_new_alloc_fail(void **state)
{
	struct sm_sha256 *h = NULL;

	(void)state;
	sm_alloc_fail_after(0);
	assert_int_equal(sm_sha256_new(&h), -ENOMEM);
	sm_alloc_fail_after(-1);
	assert_null(h);
}

/* spec/skillmeat-formats.md §2.7, first row */
static void test_content_hash_dir_vector(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char dir[4096], hex[SM_SHA256_HEX_LEN + 1];

	(void)state;
	fresh(dir, sizeof(dir), "vec1");
	puts_(dir, ".hidden", "z");
	puts_(dir, "SKILL.md", "hello\n");
	puts_(dir, "a/b.txt", "x");
	puts_(dir, "a-b/c.txt", "y");
	assert_int_equal(sm_content_hash(dir, hex, &err), 0);
	assert_string_equal(hex,
			    "8587c000168371daecfe1ef1fbfe5ad47707ec430fcc23083c60bf80b1aec476");
	/* = sha256 of the concatenation the spec spells out */
	{
		static const char cat[] = ".hiddenzSKILL.mdhello\na/b.txtxa-b/c.txty";
		char one[SM_SHA256_HEX_LEN + 1];

		assert_int_equal(sm_sha256_hex(cat, sizeof(cat) - 1, one), 0);
		assert_string_equal(hex, one);
	}
	sm_strbuf_release(&err);
}

/* second row: a single file */
static void test_content_hash_file_vector(void **state)
{
	char dir[4096], path[4200], hex[SM_SHA256_HEX_LEN + 1];

	(void)state;
	fresh(dir, sizeof(dir), "vec2");
	puts_(dir, "SKILL.md", "hello\n");
	snprintf(path, sizeof(path), "%s/SKILL.md", dir);
	assert_int_equal(sm_content_hash(path, hex, NULL), 0);
	assert_string_equal(hex,
			    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
}

/* third row: the §2.6 SKILL.md plus scripts/run.py */
static void test_content_hash_skill_vector(void **state)
{
	static const char skill[] = "---\n"
				    "name: canvas-design\n"
				    "description: Create visual designs on an HTML canvas\n"
				    "author: Jane Doe\n"
				    "license: MIT\n"
				    "version: 1.2.0\n"
				    "tags: [design, canvas]\n"
				    "allowed-tools: Read, Write, Bash, FooTool\n"
				    "model: sonnet\n"
				    "user-invocable: true\n"
				    "custom-key: hello\n"
				    "---\n"
				    "\n"
				    "# Canvas Design\n"
				    "\n"
				    "Body text here.\n";
	char dir[4096], hex[SM_SHA256_HEX_LEN + 1];

	(void)state;
	fresh(dir, sizeof(dir), "vec3");
	puts_(dir, "SKILL.md", skill);
	puts_(dir, "scripts/run.py", "print(\"hi\")\n");
	assert_int_equal(sm_content_hash(dir, hex, NULL), 0);
	assert_string_equal(hex,
			    "c34dd682deaf5bbb8f1e703d83eda77af12b1a6263392ab24a3e5ab232ff93a4");
}

static void test_content_hash_edges(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char dir[4096], path[4200], hex[SM_SHA256_HEX_LEN + 1];

	(void)state;
	fresh(dir, sizeof(dir), "edges");
	assert_int_equal(sm_content_hash(dir, hex, &err), 0);
	assert_string_equal(hex, EMPTY_SHA);

	/* empty sub-folders add nothing */
	snprintf(path, sizeof(path), "%s/empty/sub", dir);
	assert_int_equal(sm_fs_mkdir_p(path, 0755, NULL), 0);
	assert_int_equal(sm_content_hash(dir, hex, &err), 0);
	assert_string_equal(hex, EMPTY_SHA);

	/* an empty file adds its path only */
	puts_(dir, "e", "");
	assert_int_equal(sm_content_hash(dir, hex, &err), 0);
	{
		char one[SM_SHA256_HEX_LEN + 1];

		assert_int_equal(sm_sha256_hex("e", 1, one), 0);
		assert_string_equal(hex, one);
	}

	memset(hex, 'q', sizeof(hex));
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(sm_content_hash(path, hex, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "cannot hash '"));
	assert_int_equal(hex[0], 'q'); /* untouched on failure */

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(sm_content_hash(path, hex, &err), -EINVAL);
	sm_strbuf_release(&err);
}

static void test_content_hash_symlinks(void **state)
{
	char dir[4096], outside[4096], path[4200], target[4200];
	char a[SM_SHA256_HEX_LEN + 1], b[SM_SHA256_HEX_LEN + 1];

	(void)state;
	fresh(dir, sizeof(dir), "links");
	fresh(outside, sizeof(outside), "links-outside");
	puts_(outside, "t.txt", "T");
	puts_(outside, "sub/s", "S");
	puts_(dir, "f", "F");
	assert_int_equal(sm_content_hash(dir, a, NULL), 0);

	/* a symlinked folder is not descended: the hash is unchanged */
	snprintf(path, sizeof(path), "%s/dl", dir);
	assert_int_equal(symlink(outside, path), 0);
	assert_int_equal(sm_content_hash(dir, b, NULL), 0);
	assert_string_equal(a, b);

	/* a symlinked file counts as its target's bytes */
	snprintf(target, sizeof(target), "%s/t.txt", outside);
	snprintf(path, sizeof(path), "%s/g", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(sm_content_hash(dir, b, NULL), 0);
	assert_int_equal(sm_sha256_hex("fFgT", 4, a), 0);
	assert_string_equal(a, b);
}

static void test_content_hash_large(void **state)
{
	size_t n = 3 * 65536 + 123, i;
	unsigned char *data = malloc(n + 4);
	char dir[4096], path[4200];
	char a[SM_SHA256_HEX_LEN + 1], b[SM_SHA256_HEX_LEN + 1];

	(void)state;
	fresh(dir, sizeof(dir), "large");
	memcpy(data, "big", 3);
	for (i = 0; i < n; i++)
		data[3 + i] = (unsigned char)(i * 7 + 3);
	put(dir, "big", data + 3, n);
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(sm_content_hash(path, a, NULL), 0);
	assert_int_equal(sm_sha256_hex(data + 3, n, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(sm_content_hash(dir, a, NULL), 0);
	assert_int_equal(sm_sha256_hex(data, n + 3, b), 0);
	assert_string_equal(a, b);
	free(data);
}

static void test_content_hash_alloc_fail(void **state)
{
	char dir[4096], hex[SM_SHA256_HEX_LEN + 1];
	long n;
	int r = -1;

	(void)state;
	fresh(dir, sizeof(dir), "alloc");
	puts_(dir, "a/b", "1");
	puts_(dir, "c", "2");
	for (n = 0; n < 200; n++) {
		sm_alloc_fail_after(n);
		r = sm_content_hash(dir, hex, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
	}
	assert_int_equal(r, 0);
	{
		char want[SM_SHA256_HEX_LEN + 1];

		assert_int_equal(sm_sha256_hex("a/b1c2", 6, want), 0);
		assert_string_equal(hex, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_digests),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_new_alloc_fail),
		cmocka_unit_test(test_content_hash_dir_vector),
		cmocka_unit_test(test_content_hash_file_vector),
		cmocka_unit_test(test_content_hash_skill_vector),
		cmocka_unit_test(test_content_hash_edges),
		cmocka_unit_test(test_content_hash_symlinks),
		cmocka_unit_test(test_content_hash_large),
		cmocka_unit_test(test_content_hash_alloc_fail),
	};

	return cmocka_run_group_tests(tests, make_tmproot, drop_tmproot);
}
