/* SPDX-License-Identifier: MIT */
/*
 * collection.toml and collection.lock (src/core/manifest.c, spec §1.4-1.5)
 * on real files in a temporary folder: a manifest round-trips (keys we do
 * not know survive a rewrite), finds by (type, name) and by name as the
 * original does, refuses a duplicate, and a malformed file is -EBADMSG with
 * a one-line message naming the file and the entry or line; the lock reads
 * a missing file as empty and keeps entries by "<name>::<type>".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "skillmeat/fs.h"
#include "skillmeat/manifest.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

struct fixture {
	char dir[64];
	char path[128];
	char lock[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sm-manifest.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/collection.toml", f->dir);
	snprintf(f->lock, sizeof(f->lock), "%s/collection.lock", f->dir);
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

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static const char manifest_text[] =
    "[collection]\n"
    "name = \"default\"\n"
    "version = \"1.0.0\"\n"
    "created = \"2026-01-01T00:00:00\"\n"
    "updated = \"2026-01-01T00:00:00\"\n"
    "future-key = \"kept\"\n"
    "\n"
    "[[artifacts]]\n"
    "name = \"pdf\"\n"
    "type = \"skill\"\n"
    "path = \"skills/pdf\"\n"
    "origin = \"local\"\n"
    "added = \"2026-01-01T00:00:00\"\n"
    "tags = [\"docs\"]\n"
    "unknown = 7\n"
    "\n"
    "[[artifacts]]\n"
    "name = \"review.md\"\n"
    "type = \"agent\"\n"
    "path = \"agents/review.md\"\n"
    "origin = \"github\"\n"
    "upstream = \"https://github.com/o/r/tree/main/agents/review.md\"\n"
    "added = \"2026-01-02T00:00:00\"\n";

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct sm_manifest *m = NULL, *again = NULL;
	struct sm_toml_value *e;
	long idx[4];

	write_file(f->path, manifest_text);
	assert_int_equal(sm_manifest_load(f->path, &m, NULL), 0);
	assert_string_equal(sm_manifest_name(m), "default");
	assert_int_equal(sm_manifest_count(m), 2);
	assert_int_equal(sm_manifest_find(m, SM_TYPE_SKILL, "pdf"), 0);
	assert_int_equal(sm_manifest_find(m, SM_TYPE_AGENT, "review.md"), 1);
	assert_int_equal(sm_manifest_find(m, SM_TYPE_AGENT, "pdf"), -1);
	/* by name, one trailing .md ignored on both sides (the original's find_artifact) */
	assert_int_equal(sm_manifest_find_name(m, "review", idx, 4), 1);
	assert_int_equal(idx[0], 1);
	assert_int_equal(sm_manifest_find_name(m, "pdf.md", idx, 4), 1);
	assert_int_equal(idx[0], 0);
	assert_int_equal(sm_manifest_find_name(m, "nothing", idx, 4), 0);
	e = sm_manifest_at(m, 1);
	assert_string_equal(sm_entry_name(e), "review.md");
	assert_int_equal(sm_entry_type(e), SM_TYPE_AGENT);
	assert_string_equal(sm_entry_str(e, "origin"), "github");
	assert_null(sm_entry_str(e, "version_spec"));

	/* a duplicate (type, name) is refused; another type of the same name is not */
	e = sm_toml_clone(sm_manifest_at(m, 0));
	assert_non_null(e);
	assert_int_equal(sm_manifest_append(m, e, NULL), -EEXIST);
	e = sm_toml_clone(sm_manifest_at(m, 0));
	assert_int_equal(sm_toml_set_string(e, "type", "command"), 0);
	assert_int_equal(sm_toml_set_string(e, "path", "commands/pdf.md"), 0);
	assert_int_equal(sm_manifest_append(m, e, NULL), 0);
	assert_int_equal(sm_manifest_find(m, SM_TYPE_COMMAND, "pdf"), 2);
	assert_int_equal(sm_manifest_find(m, SM_TYPE_SKILL, "pdf"), 0);
	/* remove keeps the order of the others, and the index follows */
	assert_int_equal(sm_manifest_remove(m, 0), 0);
	assert_int_equal(sm_manifest_find(m, SM_TYPE_SKILL, "pdf"), -1);
	assert_int_equal(sm_manifest_find(m, SM_TYPE_AGENT, "review.md"), 0);
	assert_int_equal(sm_manifest_find(m, SM_TYPE_COMMAND, "pdf"), 1);
	/* replace keeps the position */
	e = sm_toml_clone(sm_manifest_at(m, 0));
	assert_int_equal(sm_toml_set_string(e, "version_spec", "latest"), 0);
	assert_int_equal(sm_manifest_replace(m, 0, e), 0);
	assert_string_equal(sm_entry_str(sm_manifest_at(m, 0), "version_spec"), "latest");

	assert_int_equal(sm_manifest_save(m, SM_WRITE_NOSYNC | SM_WRITE_KEEP_STAMP, NULL), 0);
	assert_int_equal(sm_manifest_load(f->path, &again, NULL), 0);
	assert_int_equal(sm_manifest_count(again), 2);
	assert_int_equal(sm_manifest_find(again, SM_TYPE_COMMAND, "pdf"), 1);
	assert_string_equal(sm_entry_str(sm_manifest_at(again, 0), "version_spec"), "latest");
	/* keys we do not know survive the rewrite */
	{
		struct strbuf text = STRBUF_INIT;

		assert_int_equal(sm_fs_read_file(f->path, 1 << 20, &text, NULL), 0);
		assert_non_null(strstr(text.buf, "future-key = \"kept\""));
		assert_non_null(strstr(text.buf, "unknown = 7"));
		assert_non_null(strstr(text.buf, "updated = \"2026-01-01T00:00:00\""));
		sm_strbuf_release(&text);
	}
	sm_manifest_free(m);
	sm_manifest_free(again);
	sm_manifest_free(NULL);
}

static void test_new_and_stamp(void **state)
{
	struct fixture *f = *state;
	struct sm_manifest *m = NULL, *again = NULL;
	struct strbuf text = STRBUF_INIT;

	assert_int_equal(sm_manifest_new(f->path, "work", &m, NULL), 0);
	assert_int_equal(sm_manifest_count(m), 0);
	assert_false(sm_fs_is_file(f->path)); /* not written yet */
	assert_int_equal(sm_manifest_save(m, SM_WRITE_NOSYNC, NULL), 0);
	assert_int_equal(sm_manifest_load(f->path, &again, NULL), 0);
	assert_string_equal(sm_manifest_name(again), "work");
	assert_int_equal(sm_manifest_count(again), 0);
	assert_int_equal(sm_fs_read_file(f->path, 1 << 20, &text, NULL), 0);
	assert_non_null(strstr(text.buf, "updated = \""));
	assert_null(strstr(text.buf, "updated = \"2026-01-01T00:00:00\""));
	sm_strbuf_release(&text);
	sm_manifest_free(m);
	sm_manifest_free(again);
}

/* text is refused with -EBADMSG and a one-line message holding want. */
static void malformed(struct fixture *f, const char *text, const char *want)
{
	struct sm_manifest *m = NULL;
	struct strbuf err = STRBUF_INIT;

	write_file(f->path, text);
	assert_int_equal(sm_manifest_load(f->path, &m, &err), -EBADMSG);
	assert_null(m);
	assert_non_null(strstr(err.buf, f->path));
	assert_null(strchr(err.buf, '\n'));
	if (!strstr(err.buf, want))
		fail_msg("message '%s' lacks '%s'", err.buf, want);
	sm_strbuf_release(&err);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	struct sm_manifest *m = NULL;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(sm_manifest_load(f->path, &m, &err), -ENOENT);
	assert_true(err.len > 0);
	sm_strbuf_release(&err);
	malformed(f, "[collection\nname = \"x\"\n", "line");
	malformed(f, "artifacts = 3\n[collection]\nname = \"x\"\n", "not an array");
}

#define GOOD(n) "[[artifacts]]\nname = \"" n "\"\ntype = \"skill\"\npath = \"skills/" n \
		"\"\norigin = \"local\"\nadded = \"t\"\n"

/*
 * An entry we cannot understand (bad) between two good ones is held aside:
 * not counted nor found, and written back where it was by a save, also after
 * the entry before it is removed and one is appended.
 */
static void held(struct fixture *f, const char *bad)
{
	struct sm_manifest *m = NULL;
	struct strbuf text = STRBUF_INIT, want = STRBUF_INIT;
	struct sm_toml_value *e;

	assert_int_equal(sm_strbuf_addf(&want, "[collection]\nname = \"x\"\n%s%s%s", GOOD("a"),
					bad, GOOD("b")),
			 0);
	write_file(f->path, want.buf);
	assert_int_equal(sm_manifest_load(f->path, &m, NULL), 0);
	assert_int_equal(sm_manifest_count(m), 2);
	assert_string_equal(sm_entry_name(sm_manifest_at(m, 1)), "b");
	assert_int_equal(sm_manifest_find(m, SM_TYPE_SKILL, "b"), 1);
	assert_int_equal(sm_manifest_remove(m, 0), 0);
	e = sm_toml_clone(sm_manifest_at(m, 0));
	assert_non_null(e);
	assert_int_equal(sm_toml_set_string(e, "name", "c"), 0);
	assert_int_equal(sm_manifest_append(m, e, NULL), 0);
	assert_int_equal(sm_manifest_save(m, SM_WRITE_NOSYNC | SM_WRITE_KEEP_STAMP, NULL), 0);
	assert_int_equal(sm_manifest_count(m), 2);
	sm_manifest_free(m);
	assert_int_equal(sm_fs_read_file(f->path, 1 << 20, &text, NULL), 0);
	/* the encoder writes it again in its own layout: read it back */
	{
		struct sm_manifest *again = NULL;
		const char *b = strstr(text.buf, "name = \"b\""), *c = strstr(text.buf, "name = \"c\"");

		assert_non_null(b);
		assert_non_null(c);
		assert_null(strstr(text.buf, "name = \"a\""));
		assert_true(b < c);
		assert_int_equal(sm_manifest_load(f->path, &again, NULL), 0);
		assert_int_equal(sm_manifest_count(again), 2);
		assert_non_null(again->held);
		assert_int_equal(sm_toml_len(again->held), 1);
		assert_int_equal(again->held_at[0], 0); /* before b */
		sm_manifest_free(again);
	}
	sm_strbuf_release(&want);
	sm_strbuf_release(&text);
}

static void test_held(void **state)
{
	struct fixture *f = *state;

	held(f, "[[artifacts]]\nname = \"x\"\ntype = \"skill\"\n");
	held(f, "[[artifacts]]\nname = \"x\"\ntype = \"gadget\"\npath = \"p\"\norigin = \"local\"\n"
		"added = \"t\"\n");
	held(f, "[[artifacts]]\nname = \"x\"\ntype = \"skill\"\npath = \"p\"\norigin = \"ftp\"\n"
		"added = \"t\"\n");
	held(f, "[[artifacts]]\nname = 5\ntype = \"skill\"\npath = \"p\"\norigin = \"local\"\n"
		"added = \"t\"\n");
	held(f, "[[artifacts]]\nname = \"../x\"\ntype = \"skill\"\npath = \"p\"\n"
		"origin = \"local\"\nadded = \"t\"\n");
	held(f, "[[artifacts]]\nname = \"x\"\ntype = \"skill\"\npath = [\"p\"]\n"
		"origin = \"local\"\nadded = \"t\"\n");
	held(f, "[[artifacts]]\nname = \"x\"\ntype = \"skill\"\npath = \"\"\n"
		"origin = \"local\"\nadded = \"t\"\n");
}

static void test_lock(void **state)
{
	struct fixture *f = *state;
	struct sm_lock *l = NULL, *again = NULL;
	struct strbuf err = STRBUF_INIT;
	const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";

	/* missing reads as empty */
	assert_int_equal(sm_lock_load(f->lock, &l, NULL), 0);
	assert_null(sm_lock_get(l, "pdf", SM_TYPE_SKILL));
	assert_null(sm_lock_hash(l, "pdf", SM_TYPE_SKILL));
	assert_int_equal(sm_lock_remove(l, "pdf", SM_TYPE_SKILL), -ENOENT);
	assert_int_equal(sm_lock_set(l, "pdf", SM_TYPE_SKILL, h1, NULL, NULL, NULL), 0);
	assert_int_equal(sm_lock_set(l, "pdf", SM_TYPE_COMMAND, h2, "https://github.com/o/r",
				     "abc123", "v1"),
			 0);
	assert_string_equal(sm_lock_hash(l, "pdf", SM_TYPE_SKILL), h1);
	assert_string_equal(sm_lock_hash(l, "pdf", SM_TYPE_COMMAND), h2);
	/* set again replaces in place */
	assert_int_equal(sm_lock_set(l, "pdf", SM_TYPE_SKILL, h2, NULL, NULL, NULL), 0);
	assert_string_equal(sm_lock_hash(l, "pdf", SM_TYPE_SKILL), h2);
	assert_int_equal(sm_lock_save(l, SM_WRITE_NOSYNC, NULL), 0);

	assert_int_equal(sm_lock_load(f->lock, &again, NULL), 0);
	assert_string_equal(sm_lock_hash(again, "pdf", SM_TYPE_SKILL), h2);
	assert_string_equal(sm_lock_hash(again, "pdf", SM_TYPE_COMMAND), h2);
	{
		struct strbuf text = STRBUF_INIT;

		assert_int_equal(sm_fs_read_file(f->lock, 1 << 20, &text, NULL), 0);
		assert_non_null(strstr(text.buf, "\"pdf::skill\""));
		assert_non_null(strstr(text.buf, "resolved_sha = \"abc123\""));
		sm_strbuf_release(&text);
	}
	assert_int_equal(sm_lock_remove(again, "pdf", SM_TYPE_SKILL), 0);
	assert_null(sm_lock_hash(again, "pdf", SM_TYPE_SKILL));
	assert_non_null(sm_lock_hash(again, "pdf", SM_TYPE_COMMAND));
	sm_lock_free(l);
	sm_lock_free(again);
	sm_lock_free(NULL);

	write_file(f->lock, "[lock\nbroken");
	again = NULL;
	assert_int_equal(sm_lock_load(f->lock, &again, &err), -EBADMSG);
	assert_null(again);
	assert_non_null(strstr(err.buf, f->lock));
	sm_strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_and_stamp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
