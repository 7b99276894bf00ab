/* SPDX-License-Identifier: MIT */
/*
 * A file collection (src/core/collection.c) on a real temporary home: init
 * as the original (an existing one untouched), names, open, add from a local
 * folder and file (added, unchanged by hash, refused or replaced when it
 * changed), the id forms resolve names, remove takes files, manifest and
 * lock entries together, commit writes both, the active one is not deleted;
 * the steps of one write see what the earlier ones staged.
 */
#include <dirent.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "skillmeat/collection.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/sha256.h"
#include "skillmeat/strbuf.h"

struct fixture {
	char dir[64];
	char home_dir[128];
	struct sm_home *home;
};

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static void make_skill(const char *dir, const char *name, const char *desc)
{
	char p[512], text[256];

	assert_int_equal(sm_fs_mkdir_p(dir, 0755, NULL), 0);
	snprintf(p, sizeof(p), "%s/SKILL.md", dir);
	snprintf(text, sizeof(text), "---\nname: %s\ndescription: %s\n---\n# %s\n", name, desc,
		 name);
	write_file(p, text);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sm-coll.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->home_dir, sizeof(f->home_dir), "%s/home", f->dir);
	if (sm_home_open(f->home_dir, &f->home, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sm_home_free(f->home);
	sm_fs_remove_tree(f->dir, NULL);
	free(f);
	return 0;
}

static void test_init_and_names(void **state)
{
	struct fixture *f = *state;
	struct strbuf err = STRBUF_INIT;
	struct sm_collection *c = NULL;
	char **names = NULL, p[512];
	size_t n = 0;
	bool created;

	assert_false(sm_collection_exists(f->home, "default"));
	assert_int_equal(sm_collection_open(f->home, "default", &c, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "'default'"));
	sm_strbuf_reset(&err);
	assert_int_equal(sm_home_lock(f->home, NULL), 0);
	assert_int_equal(sm_collection_init(f->home, "work", &created, NULL), 0);
	assert_true(created);
	assert_int_equal(sm_collection_init(f->home, "default", &created, NULL), 0);
	assert_true(created);
	/* an existing collection is left untouched */
	snprintf(p, sizeof(p), "%s/collections/work/collection.toml", f->home_dir);
	write_file(p, "[collection]\nname = \"work\"\nmine = \"kept\"\n");
	assert_int_equal(sm_collection_init(f->home, "work", &created, NULL), 0);
	assert_false(created);
	{
		struct strbuf text = STRBUF_INIT;

		assert_int_equal(sm_fs_read_file(p, 1 << 20, &text, NULL), 0);
		assert_non_null(strstr(text.buf, "mine = \"kept\""));
		sm_strbuf_release(&text);
	}
	/* hostile names never make a folder */
	assert_int_equal(sm_collection_init(f->home, "../escape", &created, &err), -EINVAL);
	assert_true(err.len > 0);
	sm_strbuf_reset(&err);
	snprintf(p, sizeof(p), "%s/escape", f->dir);
	assert_false(sm_fs_is_dir(p));
	assert_int_equal(sm_collection_names(f->home, &names, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "default");
	assert_string_equal(names[1], "work");
	sm_strv_free(names, n);
	assert_true(sm_collection_exists(f->home, "work"));
	assert_string_equal(sm_home_active_collection(f->home), "default");
	/* the active collection is not deleted; another is */
	assert_int_equal(sm_collection_delete(f->home, "default", &err), -EBUSY);
	sm_strbuf_reset(&err);
	assert_int_equal(sm_collection_delete(f->home, "work", NULL), 0);
	assert_false(sm_collection_exists(f->home, "work"));
	assert_int_equal(sm_collection_delete(f->home, "work", &err), -ENOENT);
	sm_home_unlock(f->home);
	sm_strbuf_release(&err);
}

static void add(struct sm_collection *c, const char *src, const struct sm_add_opts *o, int want,
		enum sm_add_status status)
{
	struct sm_add_result res = {0};
	struct strbuf err = STRBUF_INIT;
	int r = sm_collection_add_local(c, src, o, &res, &err);

	if (r != want)
		fail_msg("add '%s': %d, wanted %d (%s)", src, r, want, err.buf);
	if (r == 0)
		assert_int_equal(res.status, status);
	else
		assert_true(err.len > 0);
	sm_add_result_release(&res);
	sm_strbuf_release(&err);
}

static void test_add_resolve_remove(void **state)
{
	struct fixture *f = *state;
	struct sm_add_opts o = {.type = SM_TYPE_INVALID};
	struct sm_add_opts forced = {.type = SM_TYPE_INVALID, .force = true};
	struct sm_collection *c = NULL, *again = NULL;
	struct strbuf err = STRBUF_INIT;
	char src[256], p[512];
	bool created;
	long i;

	assert_int_equal(sm_home_lock(f->home, NULL), 0);
	assert_int_equal(sm_collection_init(f->home, "default", &created, NULL), 0);
	assert_int_equal(sm_collection_open(f->home, NULL, &c, NULL), 0);
	assert_string_equal(c->name, "default");

	snprintf(src, sizeof(src), "%s/src/pdf", f->dir);
	make_skill(src, "pdf", "read pdfs");
	add(c, src, &o, 0, SM_ADD_ADDED);
	add(c, src, &o, 0, SM_ADD_UNCHANGED); /* the same content: nothing written */
	make_skill(src, "pdf", "read pdfs, changed");
	add(c, src, &o, -EEXIST, 0);
	add(c, src, &forced, 0, SM_ADD_REPLACED);
	snprintf(p, sizeof(p), "%s/src/agents/pdf.md", f->dir);
	assert_int_equal(sm_fs_mkdir_p(p, 0755, NULL), 0);
	assert_int_equal(rmdir(p), 0);
	write_file(p, "---\ndescription: an agent of the same name\n---\n");
	add(c, p, &o, 0, SM_ADD_ADDED);
	assert_true(c->dirty);
	assert_int_equal(sm_manifest_count(c->manifest), 2);

	/* the id forms */
	assert_int_equal(sm_collection_resolve(c, "skill:pdf", NULL), 0);
	assert_int_equal(sm_collection_resolve(c, "default/agent:pdf", NULL), 1);
	assert_int_equal(sm_collection_resolve(c, "skill:nothing", &err), -ENOENT);
	sm_strbuf_reset(&err);
	assert_int_equal(sm_collection_resolve(c, "pdf", &err), -EEXIST); /* ambiguous */
	assert_non_null(strstr(err.buf, "skill:pdf"));
	sm_strbuf_reset(&err);
	assert_int_equal(sm_collection_resolve(c, "gadget:pdf", &err), -EINVAL);
	assert_true(err.len > 0);
	sm_strbuf_reset(&err);

	assert_int_equal(sm_collection_commit(c, NULL), 0);
	assert_false(c->dirty);
	assert_int_equal(sm_collection_open(f->home, "default", &again, NULL), 0);
	assert_int_equal(sm_manifest_count(again->manifest), 2);
	assert_non_null(sm_lock_hash(again->lock, "pdf", SM_TYPE_SKILL));
	assert_non_null(sm_lock_hash(again->lock, "pdf", SM_TYPE_AGENT));
	sm_collection_free(again);

	/* remove: files, manifest and lock entries */
	i = sm_collection_resolve(c, "skill:pdf", NULL);
	assert_int_equal(sm_collection_remove(c, (size_t)i, false, NULL), 0);
	assert_int_equal(sm_collection_commit(c, NULL), 0);
	snprintf(p, sizeof(p), "%s/collections/default/skills/pdf", f->home_dir);
	assert_false(sm_fs_is_dir(p));
	assert_int_equal(sm_collection_open(f->home, "default", &again, NULL), 0);
	assert_int_equal(sm_manifest_count(again->manifest), 1);
	assert_null(sm_lock_hash(again->lock, "pdf", SM_TYPE_SKILL));
	assert_int_equal(sm_collection_resolve(again, "pdf", NULL), 0); /* unique now */
	/* keep_files: the entry goes, the file stays */
	assert_int_equal(sm_collection_remove(again, 0, true, NULL), 0);
	assert_int_equal(sm_collection_commit(again, NULL), 0);
	snprintf(p, sizeof(p), "%s/collections/default/agents/pdf.md", f->home_dir);
	assert_true(sm_fs_is_file(p));
	sm_collection_free(again);
	sm_collection_free(c);
	sm_collection_free(NULL);
	sm_home_unlock(f->home);
	sm_strbuf_release(&err);
}

/* Entries of dir starting with '.' (staged or set-aside copies left behind). */
static int hidden_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void assert_file_has(const char *path, const char *text)
{
	struct strbuf s = STRBUF_INIT;

	assert_int_equal(sm_fs_read_file(path, 1 << 20, &s, NULL), 0);
	if (!strstr(s.buf, text))
		fail_msg("'%s' does not hold '%s': %s", path, text, s.buf);
	sm_strbuf_release(&s);
}

/*
 * Copies are staged until the commit: a later step of the same write sees
 * what an earlier one staged (the same content again is unchanged, a forced
 * replace replaces the staged copy, a remove drops it), and the commit moves
 * exactly the last state into place, with nothing left beside it.
 */
static void test_one_write_sees_its_steps(void **state)
{
	struct fixture *f = *state;
	struct sm_add_opts o = {.type = SM_TYPE_INVALID};
	struct sm_add_opts forced = {.type = SM_TYPE_INVALID, .force = true};
	struct sm_collection *c = NULL, *again = NULL;
	char src[256], tmp[256], skills[256], p[512], hash[SM_SHA256_HEX_LEN + 1];
	bool created;

	assert_int_equal(sm_home_lock(f->home, NULL), 0);
	assert_int_equal(sm_collection_init(f->home, "default", &created, NULL), 0);
	assert_int_equal(sm_collection_open(f->home, NULL, &c, NULL), 0);
	snprintf(src, sizeof(src), "%s/src/pdf", f->dir);
	snprintf(tmp, sizeof(tmp), "%s/src/tmp", f->dir);
	snprintf(skills, sizeof(skills), "%s/collections/default/skills", f->home_dir);

	/* one write: added, replaced twice, then the same content again */
	make_skill(src, "pdf", "first");
	add(c, src, &o, 0, SM_ADD_ADDED);
	make_skill(src, "pdf", "second");
	add(c, src, &o, -EEXIST, 0); /* other content than the staged copy */
	add(c, src, &forced, 0, SM_ADD_REPLACED);
	make_skill(src, "pdf", "third");
	add(c, src, &forced, 0, SM_ADD_REPLACED);
	add(c, src, &o, 0, SM_ADD_UNCHANGED);
	/* added and removed in the same write: never moved in */
	make_skill(tmp, "tmp", "short-lived");
	add(c, tmp, &o, 0, SM_ADD_ADDED);
	assert_int_equal(sm_collection_remove(c, (size_t)sm_collection_resolve(c, "skill:tmp", NULL),
					      false, NULL),
			 0);
	assert_int_equal(sm_collection_commit(c, NULL), 0);
	snprintf(p, sizeof(p), "%s/pdf/SKILL.md", skills);
	assert_file_has(p, "description: third");
	snprintf(p, sizeof(p), "%s/tmp", skills);
	assert_false(sm_fs_exists(p));
	assert_int_equal(hidden_entries(skills), 0);
	assert_int_equal(sm_collection_open(f->home, NULL, &again, NULL), 0);
	assert_int_equal(sm_manifest_count(again->manifest), 1);
	snprintf(p, sizeof(p), "%s/pdf", skills);
	assert_int_equal(sm_content_hash(p, hash, NULL), 0);
	assert_string_equal(sm_lock_hash(again->lock, "pdf", SM_TYPE_SKILL), hash);
	assert_null(sm_lock_hash(again->lock, "tmp", SM_TYPE_SKILL));
	sm_collection_free(again);

	/* a committed artifact replaced, then removed, in one write: gone, nothing beside it */
	make_skill(src, "pdf", "fourth");
	add(c, src, &forced, 0, SM_ADD_REPLACED);
	assert_int_equal(sm_collection_remove(c, (size_t)sm_collection_resolve(c, "skill:pdf", NULL),
					      false, NULL),
			 0);
	assert_int_equal(sm_collection_commit(c, NULL), 0);
	snprintf(p, sizeof(p), "%s/pdf", skills);
	assert_false(sm_fs_exists(p));
	assert_int_equal(hidden_entries(skills), 0);

	/* a write never committed leaves nothing */
	make_skill(src, "pdf", "fifth");
	add(c, src, &o, 0, SM_ADD_ADDED);
	sm_collection_free(c);
	assert_int_equal(hidden_entries(skills), 0);
	snprintf(p, sizeof(p), "%s/pdf", skills);
	assert_false(sm_fs_exists(p));
	sm_home_unlock(f->home);
}

/* sync-pull's staging: a tree fill writes, moved in only by the commit, seen by later steps. */
static int fill_append(const char *cur, const char *staged, void *arg, struct strbuf *err)
{
	char p[512];
	FILE *f;
	int r = sm_fs_link_tree(cur, staged, err);

	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "%s/%s", staged, (const char *)arg);
	f = fopen(p, "w");
	if (!f)
		return -errno;
	fprintf(f, "written by a step\n");
	fclose(f);
	return 0;
}

static int fill_fail(const char *cur, const char *staged, void *arg, struct strbuf *err)
{
	(void)cur;
	(void)arg;
	(void)err;
	assert_int_equal(mkdir(staged, 0755), 0);
	return -EIO;
}

static void test_stage_tree(void **state)
{
	struct fixture *f = *state;
	struct sm_add_opts o = {.type = SM_TYPE_INVALID};
	struct sm_collection *c = NULL, *again = NULL;
	char src[256], skills[256], p[512], hash[SM_SHA256_HEX_LEN + 1], disk[SM_SHA256_HEX_LEN + 1];
	bool created;
	long idx;

	assert_int_equal(sm_home_lock(f->home, NULL), 0);
	assert_int_equal(sm_collection_init(f->home, "default", &created, NULL), 0);
	assert_int_equal(sm_collection_open(f->home, NULL, &c, NULL), 0);
	snprintf(src, sizeof(src), "%s/src/pdf", f->dir);
	snprintf(skills, sizeof(skills), "%s/collections/default/skills", f->home_dir);
	make_skill(src, "pdf", "first");
	add(c, src, &o, 0, SM_ADD_ADDED);
	assert_int_equal(sm_collection_commit(c, NULL), 0);
	idx = sm_collection_resolve(c, "skill:pdf", NULL);
	assert_true(idx >= 0);

	/* two steps: the second fills from what the first staged */
	assert_int_equal(sm_collection_stage_tree(c, (size_t)idx, fill_append, "one.md", hash, NULL), 0);
	snprintf(p, sizeof(p), "%s/pdf/one.md", skills);
	assert_false(sm_fs_exists(p)); /* nothing moved before the commit */
	assert_int_equal(sm_collection_stage_tree(c, (size_t)idx, fill_append, "two.md", hash, NULL), 0);
	/* a failing fill leaves nothing and keeps what was staged */
	assert_int_equal(sm_collection_stage_tree(c, (size_t)idx, fill_fail, NULL, disk, NULL), -EIO);
	assert_int_equal(sm_lock_set(c->lock, "pdf", SM_TYPE_SKILL, hash, NULL, NULL, NULL), 0);
	assert_int_equal(sm_collection_commit(c, NULL), 0);
	assert_true(sm_fs_exists(p));
	snprintf(p, sizeof(p), "%s/pdf/two.md", skills);
	assert_true(sm_fs_exists(p));
	snprintf(p, sizeof(p), "%s/pdf", skills);
	assert_int_equal(sm_content_hash(p, disk, NULL), 0);
	assert_string_equal(hash, disk);
	assert_int_equal(hidden_entries(skills), 0);
	assert_int_equal(sm_collection_open(f->home, NULL, &again, NULL), 0);
	assert_string_equal(sm_lock_hash(again->lock, "pdf", SM_TYPE_SKILL), disk);
	sm_collection_free(again);

	/* never committed: nothing left */
	assert_int_equal(sm_collection_stage_tree(c, (size_t)idx, fill_append, "three.md", hash, NULL), 0);
	sm_collection_free(c);
	snprintf(p, sizeof(p), "%s/pdf/three.md", skills);
	assert_false(sm_fs_exists(p));
	assert_int_equal(hidden_entries(skills), 0);
	sm_home_unlock(f->home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_and_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_resolve_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_write_sees_its_steps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stage_tree, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
