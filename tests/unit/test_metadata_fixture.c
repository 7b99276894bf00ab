/* SPDX-License-Identifier: MIT */
/*
 * Ground truth: for each of the 488 artifacts SkillMeat 0.9.1 added in
 * fixtures/skillmeat-0.9.1-sample.tar.gz, our extracted metadata table must
 * equal the manifest's [artifacts.metadata] key for key, in order, and our
 * frontmatter tags must equal the artifact's top-level tags.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "skillmeat/artifact.h"
#include "skillmeat/fs.h"
#include "skillmeat/metadata.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

static char tmproot[1024];

static int unpack(void **state)
{
	const char *shared = getenv("SKILLMEAT_SHARED");
	const char *t = getenv("TMPDIR");
	char tarball[2048];
	pid_t pid;
	int status;

	(void)state;
	if (!shared)
		return -1;
	snprintf(tarball, sizeof(tarball), "%s/fixtures/skillmeat-0.9.1-sample.tar.gz", shared);
	snprintf(tmproot, sizeof(tmproot), "%s/sm-test-metafx-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmproot))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("tar", "tar", "xzf", tarball, "-C", tmproot, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return 0;
}

static int cleanup(void **state)
{
	(void)state;
	return sm_fs_remove_tree(tmproot, NULL);
}

static void dump(const char *label, const struct sm_toml_value *v)
{
	struct sm_toml_value *root = sm_toml_new_table();
	struct strbuf out = STRBUF_INIT;

	if (root && sm_toml_set(root, label, sm_toml_clone(v)) == 0 &&
	    sm_toml_encode(root, &out, NULL) == 0)
		fprintf(stderr, "%s", out.buf);
	sm_toml_free(root);
	sm_strbuf_release(&out);
}

static void test_fixture(void **state)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *arts;
	size_t total = 0, matched = 0, shown = 0;

	(void)state;
	assert_int_equal(sm_strbuf_addf(&dir, "%s/skillmeat-home/collections/default", tmproot), 0);
	assert_int_equal(sm_strbuf_addf(&path, "%s/collection.toml", dir.buf), 0);
	assert_int_equal(sm_fs_read_file(path.buf, 64 << 20, &text, &err), 0);
	assert_int_equal(sm_toml_parse(text.buf, text.len, &doc, &err), 0);
	arts = sm_toml_get(doc, "artifacts");
	assert_non_null(arts);
	assert_int_equal(arts->type, SM_TOML_ARRAY);

	for (size_t i = 0; i < sm_toml_len(arts); i++) {
		const struct sm_toml_value *a = sm_toml_at(arts, i);
		const char *rel = sm_toml_get_string(a, "path");
		const char *type = sm_toml_get_string(a, "type");
		const struct sm_toml_value *want = sm_toml_get(a, "metadata");
		const struct sm_toml_value *want_tags = sm_toml_get(a, "tags");
		struct sm_toml_value *empty_tab = sm_toml_new_table();
		struct sm_toml_value *empty_arr = sm_toml_new_array();
		struct sm_metadata m = {0};
		bool ok_table, ok_tags;

		assert_non_null(rel);
		assert_non_null(type);
		total++;
		sm_strbuf_reset(&path);
		assert_int_equal(sm_strbuf_addf(&path, "%s/%s", dir.buf, rel), 0);
		assert_int_equal(
		    sm_metadata_extract(path.buf, sm_artifact_type_parse(type), &m, &err), 0);
		ok_table = sm_toml_equal(m.table, want ? want : empty_tab, true);
		ok_tags = sm_toml_equal(m.tags, want_tags ? want_tags : empty_arr, true);
		if (ok_table && ok_tags && !m.warning) {
			matched++;
		} else if (shown++ < 5) {
			fprintf(stderr, "MISMATCH %s (warning: %s)\n", rel,
				m.warning ? m.warning : "none");
			dump("got", m.table);
			dump("want", want ? want : empty_tab);
			dump("got_tags", m.tags);
		}
		sm_metadata_release(&m);
		sm_toml_free(empty_tab);
		sm_toml_free(empty_arr);
	}
	printf("metadata fixture: %zu/%zu artifacts match\n", matched, total);
	sm_toml_free(doc);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&path);
	sm_strbuf_release(&text);
	sm_strbuf_release(&err);
	assert_int_equal(total, 488);
	assert_int_equal(matched, total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixture),
	};

	return cmocka_run_group_tests(tests, unpack, cleanup);
}
