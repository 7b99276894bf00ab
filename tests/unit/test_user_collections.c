/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
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
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "skillmeat/user_collections.h"

static char tmproot[1024];

static int make_tmproot(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmproot, sizeof(tmproot), "%s/sm-test-uc-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmproot) ? 0 : -1;
}

static int drop_tmproot(void **state)
{
	(void)state;
	return sm_fs_remove_tree(tmproot, NULL);
}

/* A fresh home folder; with content, its user-collections.toml. */
static void home(char *out, size_t n, const char *name, const char *content)
{
	char path[4200];

	snprintf(out, n, "%s/%s", tmproot, name);
	assert_int_equal(sm_fs_remove_tree(out, NULL), 0);
	assert_int_equal(mkdir(out, 0755), 0);
	if (content) {
		snprintf(path, sizeof(path), "%s/%s", out, SM_UC_FILE);
		assert_int_equal(sm_fs_write_atomic(path, content, strlen(content), 0644, NULL), 0);
	}
}

static char *slurp(const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, SM_UC_FILE);
	if (sm_fs_read_file(path, 1 << 20, &sb, NULL) < 0) {
		sm_strbuf_release(&sb);
		return NULL;
	}
	return sm_strbuf_detach(&sb, NULL);
}

static const char NOW[] = "2026-11-22T05:00:00.123456";
static const char LATER[] = "2026-11-22T06:00:00";

static const char sample[] = "version = 1\n"
			     "\n"
			     "[[collections]]\n"
			     "id = \"0123456789abcdef0123456789abcdef\"\n"
			     "name = \"Frontend\"\n"
			     "description = \"UI\"\n"
			     "color = \"red\"\n"
			     "created_at = \"2026-01-01T00:00:00\"\n"
			     "updated_at = \"2026-01-02T00:00:00\"\n"
			     "members = [\"skill:canvas\", \"work/agent:reviewer\"]\n"
			     "\n"
			     "[collections.extra]\n"
			     "x = 1\n"
			     "\n"
			     "[[collections]]\n"
			     "id = \"fedcba9876543210fedcba9876543210\"\n"
			     "name = \"Backend\"\n"
			     "\n"
			     "[other]\n"
			     "kept = true\n";

/* ---- load ---- */

static void test_missing_file(void **state)
{
	struct sm_user_collections *f = NULL;
	char dir[2048];

	(void)state;
	home(dir, sizeof(dir), "missing", NULL);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	assert_int_equal(f->n, 0);
	assert_false(f->exists);
	assert_int_equal(sm_user_collections_find(f, "x", NULL), -ENOENT);
	sm_user_collections_free(f);
	sm_user_collections_free(NULL);
}

static void test_load_sample(void **state)
{
	struct sm_user_collections *f = NULL;
	char dir[2048];

	(void)state;
	home(dir, sizeof(dir), "sample", sample);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	assert_true(f->exists);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->items[0].name, "Frontend");
	assert_string_equal(f->items[0].description, "UI");
	assert_null(f->items[0].collection_type);
	assert_string_equal(f->items[0].created_at, "2026-01-01T00:00:00");
	assert_int_equal(f->items[0].nmembers, 2);
	assert_string_equal(f->items[0].members[1], "work/agent:reviewer");
	assert_null(f->items[1].created_at);
	assert_int_equal(f->items[1].nmembers, 0);
	assert_int_equal(sm_user_collections_find(f, "Backend", NULL), 1);
	assert_int_equal(sm_user_collections_find(f, "0123456789abcdef0123456789abcdef", NULL), 0);
	/* names are case-sensitive */
	assert_int_equal(sm_user_collections_find(f, "backend", NULL), -ENOENT);
	sm_user_collections_free(f);
}

/* ---- entries we cannot understand: each degrades only itself ---- */

/* Log lines of the library go to a file while a test reads them. */
static int log_to(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	sm_log_set_fd(fd);
	return fd;
}

static char *log_end(int fd, const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	sm_log_set_fd(2);
	close(fd);
	assert_int_equal(sm_fs_read_file(path, 1 << 20, &sb, NULL), 0);
	return sm_strbuf_detach(&sb, NULL);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static struct sm_toml_value *parse_file(const char *dir)
{
	struct sm_toml_value *doc = NULL;
	char *text = slurp(dir);

	assert_non_null(text);
	assert_int_equal(sm_toml_parse_flags(text, strlen(text), SM_TOML_BIG_INTEGERS, &doc, NULL), 0);
	sm_free(text);
	return doc;
}

/*
 * content loads with shown entries understood and ignored left out, one
 * warning holding want (and no other), none at a second load; a save writes
 * the same document back.
 */
static void expect_degraded(const char *name, const char *content, size_t shown, size_t ignored,
			    const char *want)
{
	struct sm_user_collections *f = NULL;
	struct sm_toml_value *before, *after;
	char dir[2048], logp[4200], *log;
	int fd;

	home(dir, sizeof(dir), name, content);
	snprintf(logp, sizeof(logp), "%s.log", dir);
	before = parse_file(dir);
	fd = log_to(logp);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	log = log_end(fd, logp);
	if (!strstr(log, want) || count_lines(log) != 1 || !strstr(log, SM_UC_FILE))
		fail_msg("%s: log '%s' is not one line with '%s'", name, log, want);
	sm_free(log);
	assert_int_equal(f->n, shown);
	assert_int_equal(f->ignored, ignored);
	assert_int_equal(sm_user_collections_save(f, NULL), 0);
	sm_user_collections_free(f);
	after = parse_file(dir);
	if (!sm_toml_equal(before, after, false))
		fail_msg("%s: the save changed the document", name);
	sm_toml_free(before);
	sm_toml_free(after);
	/* the same problem is said once per process */
	fd = log_to(logp);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	log = log_end(fd, logp);
	if (*log)
		fail_msg("%s: warned again: '%s'", name, log);
	sm_free(log);
	sm_user_collections_free(f);
}

#define ENTRY(extra)                                                                               \
	"\n[[collections]]\nid = \"0123456789abcdef0123456789abcdef\"\nname = \"A\"\n" extra
#define ENTRY_B(extra)                                                                             \
	"\n[[collections]]\nid = \"1123456789abcdef0123456789abcdef\"\nname = \"B\"\n" extra

static void test_degraded(void **state)
{
	(void)state;
	expect_degraded("notarray", "collections = 1\n", 0, 0,
			"'collections' is not an array of tables, ignored");
	expect_degraded("notables",
			"collections = [[1], { id = \"1123456789abcdef0123456789abcdef\", name = "
			"\"B\" }]\n",
			1, 1, "collections[0] ignored: not a table");
	expect_degraded("noid", ENTRY("") "\n\n[[collections]]\nname = \"B\"\n", 1, 1,
			"line 7: collections[1] ('B') ignored: 'id' is missing or not a string");
	expect_degraded("badid", "[[collections]]\nid = \"ABC\"\nname = \"A\"\n" ENTRY_B(""), 1,
			1, "line 1: collections[0] ('A') ignored: id 'ABC' is not 32 lowercase hex");
	expect_degraded("defaultid", "[[collections]]\nid = \"default\"\nname = \"A\"\n", 0, 1,
			"id 'default' is not 32 lowercase hex digits");
	expect_degraded("noname", ENTRY_B("") "[[collections]]\nid = \"0123456789abcdef0123456789abcdef\"\n",
			1, 1,
			"collections[1] (id '0123456789abcdef0123456789abcdef') ignored: 'name' is "
			"missing or not a string");
	expect_degraded("tablename",
			"[[collections]]\nid = \"0123456789abcdef0123456789abcdef\"\n"
			"[collections.name]\nx = 1\n" ENTRY_B(""),
			1, 1, "'name' is missing or not a string");
	expect_degraded(
	    "emptyname",
	    ENTRY("") "[[collections]]\nid = \"1123456789abcdef0123456789abcdef\"\nname = \"\"\n", 1,
	    1, "line 5: collections[1] ('') ignored: a user collection name cannot be empty");
	expect_degraded("reserved",
			"[[collections]]\nid = \"0123456789abcdef0123456789abcdef\"\n"
			"name = \"Default Collection\"\n",
			0, 1, "reserved");
	expect_degraded(
	    "control",
	    "[[collections]]\nid = \"0123456789abcdef0123456789abcdef\"\nname = \"a\\u0007b\"\n", 0,
	    1, "control character");
	expect_degraded("dupname",
			ENTRY("") "\n[[ collections ]]\nid = \"1123456789abcdef0123456789abcdef\"\nname "
				  "= \"A\"\n" ENTRY_B(""),
			2, 1, "line 6: collections[1] ('A') ignored: name 'A' is used twice");
	expect_degraded("dupid", ENTRY("") ENTRY(""), 1, 1,
			"collections[1] ('A') ignored: id '0123456789abcdef0123456789abcdef' is "
			"used twice");
	expect_degraded("desc", ENTRY("description = 3\n"), 1, 0,
			"collections[0] ('A'): 'description' ignored: not a string");
	expect_degraded("desctable", ENTRY("[collections.description]\nx = 1\n"), 1, 0,
			"'description' ignored: not a string");
	expect_degraded("type", ENTRY("collection_type = \"a\\u0001\"\n"), 1, 0,
			"'collection_type' ignored: the value holds a control character");
	expect_degraded("time", ENTRY("created_at = \"yesterday\"\n"), 1, 0,
			"'created_at' ignored: not an ISO date-time string");
	expect_degraded("members", ENTRY("members = \"skill:a\"\n"), 1, 0,
			"('A'): 'members' ignored: not an array");
	expect_degraded("member", ENTRY("members = [\"skill:a\", 3]\n"), 1, 0,
			"('A'): members[1] ignored: not a string");
	expect_degraded("membertable", ENTRY("members = [\"skill:a\", { x = 1 }]\n"), 1, 0,
			"members[1] ignored: not a string");
	expect_degraded("memberkey", ENTRY("members = [\"a\"]\n"), 1, 0,
			"members[0] ignored: artifact id 'a'");
	expect_degraded("membertype", ENTRY("members = [\"gadget:a\"]\n"), 1, 0,
			"unknown type 'gadget'");
	/* an inline array has no header lines */
	expect_degraded("inline",
			"collections = [{ id = \"0123456789abcdef0123456789abcdef\", name = \"\" }]\n",
			0, 1, "': collections[0] ('') ignored: a user collection name cannot be empty");
}

/* The view of a degraded file: what is understood of each entry. */
static void test_degraded_view(void **state)
{
	struct sm_user_collections *f = NULL;
	char dir[2048];
	int fd;

	(void)state;
	home(dir, sizeof(dir), "view",
	     ENTRY("description = 3\ncreated_at = \"2026-01-01T00:00:00\"\n"
		   "members = [\"skill:a\", 5, \"gadget:x\", \"work/agent:b\"]\n")
		 "[[collections]]\nid = \"BAD\"\nname = \"Held\"\n" ENTRY_B("updated_at = 5\n"));
	fd = log_to("/dev/null");
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	sm_log_set_fd(2);
	close(fd);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->ignored, 1);
	assert_null(f->items[0].description);
	assert_string_equal(f->items[0].created_at, "2026-01-01T00:00:00");
	assert_int_equal(f->items[0].nmembers, 2);
	assert_string_equal(f->items[0].members[0], "skill:a");
	assert_string_equal(f->items[0].members[1], "work/agent:b");
	assert_string_equal(f->items[1].name, "B");
	assert_null(f->items[1].updated_at);
	assert_int_equal(sm_user_collections_find(f, "Held", NULL), -ENOENT);
	sm_user_collections_free(f);
}

/*
 * Writes keep what they do not understand where it was, and refuse (nothing
 * changed) what they could only do by dropping it.
 */
static void test_degraded_writes(void **state)
{
	struct sm_user_collection_fields fl = {.name = "Held"}, ren = {.name = "A2"};
	struct sm_user_collections *f = NULL;
	struct strbuf err = STRBUF_INIT;
	struct sm_toml_value *doc, *a;
	char dir[2048], logp[4200], *before, *after, *log;
	long idx;
	int fd;

	(void)state;
	home(dir, sizeof(dir), "writes",
	     ENTRY("members = [\"skill:a\", 5, \"skill:b\"]\n")
		 "[[collections]]\nid = \"BAD\"\nname = \"Held\"\nodd = 1\n" ENTRY_B(
		     "members = \"skill:x\"\n") "[[collections]]\nid = \"2123456789abcdef0123456789abcdef\"\n"
						"name = \"C\"\n");
	snprintf(logp, sizeof(logp), "%s.log", dir);
	fd = log_to(logp);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	sm_log_set_fd(2);
	close(fd);
	assert_int_equal(f->n, 3);
	/* a name held by an entry left out is taken */
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, &err), -EEXIST);
	assert_non_null(strstr(err.buf, "collections[1]"));
	assert_int_equal(sm_user_collections_update(f, 2, &fl, NOW, &err), -EEXIST);
	/* members that are not an array: adding is refused, nothing changes */
	before = slurp(dir);
	assert_int_equal(sm_user_collections_add_member(f, 1, "skill:y", &err), -EBADMSG);
	assert_non_null(strstr(err.buf, "'B'"));
	assert_non_null(strstr(err.buf, "'members'"));
	assert_null(strchr(err.buf, '\n'));
	/* the others go on around the entries not understood */
	assert_int_equal(sm_user_collections_remove_member(f, 0, "skill:b", NULL), 1);
	assert_int_equal(sm_user_collections_add_member(f, 0, "skill:c", NULL), 1);
	assert_int_equal(sm_user_collections_update(f, 0, &ren, LATER, NULL), 0);
	assert_string_equal(f->items[0].name, "A2");
	idx = sm_user_collections_find(f, "C", NULL);
	assert_int_equal(idx, 2);
	assert_int_equal(sm_user_collections_delete(f, (size_t)idx, NULL), 0);
	fl.name = "D";
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, NULL), 2);
	assert_int_equal(sm_user_collections_save(f, NULL), 0);
	sm_user_collections_free(f);
	/* a load of the rewritten file says nothing new (no line or index in the keys) */
	snprintf(logp, sizeof(logp), "%s.log", dir);
	fd = log_to(logp);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	log = log_end(fd, logp);
	if (*log)
		fail_msg("warned again after the writes: '%s'", log);
	sm_free(log);
	sm_user_collections_free(f);
	after = slurp(dir);
	assert_string_not_equal(before, after);
	sm_free(before);
	sm_free(after);
	doc = parse_file(dir);
	a = sm_toml_get(doc, "collections");
	assert_int_equal(sm_toml_len(a), 4);
	assert_string_equal(sm_toml_get_string(sm_toml_at(a, 0), "name"), "A2");
	/* the member that is not a string stays, in its place */
	assert_int_equal(sm_toml_len(sm_toml_get(sm_toml_at(a, 0), "members")), 3);
	assert_int_equal(sm_toml_type(sm_toml_at(sm_toml_get(sm_toml_at(a, 0), "members"), 1)),
			 SM_TOML_INTEGER);
	assert_string_equal(sm_toml_get_string(sm_toml_at(a, 1), "id"), "BAD");
	assert_non_null(sm_toml_get(sm_toml_at(a, 1), "odd"));
	assert_string_equal(sm_toml_get_string(sm_toml_at(a, 2), "members"), "skill:x");
	assert_string_equal(sm_toml_get_string(sm_toml_at(a, 3), "name"), "D");
	sm_toml_free(doc);
	/* 'collections' not an array: creating is refused, nothing changes */
	home(dir, sizeof(dir), "writes2", "collections = \"mine\"\n");
	fd = log_to("/dev/null");
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	sm_log_set_fd(2);
	close(fd);
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, &err), -EBADMSG);
	assert_non_null(strstr(err.buf, "'collections' is not an array"));
	assert_string_equal(sm_toml_get_string(f->doc, "collections"), "mine");
	sm_user_collections_free(f);
	sm_strbuf_release(&err);
}

static void test_nul_byte(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_user_collections *f = NULL;
	char dir[2048], path[4200];

	(void)state;
	home(dir, sizeof(dir), "nul", NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, SM_UC_FILE);
	assert_int_equal(sm_fs_write_atomic(path, "a = 1\n\0b = 2\n", 13, 0644, NULL), 0);
	assert_int_equal(sm_user_collections_load(dir, &f, &err), -EBADMSG);
	assert_non_null(strstr(err.buf, "NUL"));
	sm_strbuf_release(&err);
}

static void test_too_large(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_user_collections *f = NULL;
	char dir[2048], path[4200];
	FILE *fp;

	(void)state;
	home(dir, sizeof(dir), "large", NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, SM_UC_FILE);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (long)SM_UC_FILE_MAX + 1, SEEK_SET), 0);
	assert_int_equal(fputc('\n', fp), '\n');
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(sm_user_collections_load(dir, &f, &err), -E2BIG);
	assert_non_null(strstr(err.buf, SM_UC_FILE));
	sm_strbuf_release(&err);
}

/* ---- rules ---- */

static void test_name_rules(void **state)
{
	char name[300];

	(void)state;
	assert_int_equal(sm_user_collections_name_check("Frontend", NULL), 0);
	assert_int_equal(sm_user_collections_name_check("Ünïcödé ✓ 日本", NULL), 0);
	assert_int_equal(sm_user_collections_name_check("a/b\\c'\"$(rm -rf)`;", NULL), 0);
	assert_int_equal(sm_user_collections_name_check("", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check(NULL, NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("   ", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("a\nb", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("a\tb", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("a\x7f", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("a\xc2\x85", NULL), -EINVAL); /* C1 */
	assert_int_equal(sm_user_collections_name_check("a\x1b[31m", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("\xff\xfe", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("\xc0\xaf", NULL), -EINVAL); /* overlong */
	assert_int_equal(sm_user_collections_name_check("\xed\xa0\x80", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("\xe2\x82", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check(SM_UC_DEFAULT_NAME, NULL), -EINVAL);
	assert_int_equal(sm_user_collections_name_check("default", NULL), 0);
	memset(name, 'x', 255);
	name[255] = '\0';
	assert_int_equal(sm_user_collections_name_check(name, NULL), 0);
	name[255] = 'x';
	name[256] = '\0';
	assert_int_equal(sm_user_collections_name_check(name, NULL), -EINVAL);
	assert_true(sm_user_collections_is_default("default"));
	assert_true(sm_user_collections_is_default(SM_UC_DEFAULT_NAME));
	assert_false(sm_user_collections_is_default("Default"));
	assert_false(sm_user_collections_is_default(NULL));
}

static void test_key_parse(void **state)
{
	struct sm_user_collection_key k;

	(void)state;
	assert_int_equal(sm_user_collections_key_parse("skill:canvas", &k, NULL), 0);
	assert_null(k.collection);
	assert_string_equal(k.type, "skill");
	assert_string_equal(k.name, "canvas");
	assert_int_equal(sm_user_collections_key_parse("work/agent:a:b", &k, NULL), 0);
	assert_int_equal(k.collection_len, 4);
	assert_memory_equal(k.collection, "work", 4);
	assert_string_equal(k.type, "agent");
	assert_string_equal(k.name, "a:b");
	assert_int_equal(sm_user_collections_key_parse("mcp_server:db", &k, NULL), 0);
	assert_string_equal(k.type, "mcp");
	assert_int_equal(sm_user_collections_key_parse("skill:a/b", &k, NULL), 0);
	assert_string_equal(k.name, "a/b");
	assert_int_equal(sm_user_collections_key_parse("canvas", &k, NULL), -EINVAL);
	assert_int_equal(sm_user_collections_key_parse(":canvas", &k, NULL), -EINVAL);
	assert_int_equal(sm_user_collections_key_parse("skill:", &k, NULL), -EINVAL);
	assert_int_equal(sm_user_collections_key_parse("/skill:a", &k, NULL), -EINVAL);
	assert_int_equal(sm_user_collections_key_parse("gadget:a", &k, NULL), -EINVAL);
	assert_int_equal(sm_user_collections_key_parse("skill:a\nb", &k, NULL), -EINVAL);
	assert_int_equal(
	    sm_user_collections_key_parse("averyveryverylongtypenamethatoverflows:a", &k, NULL),
	    -EINVAL);
}

/* ---- edits ---- */

static void test_create_save_reload(void **state)
{
	struct sm_user_collection_fields fl = {
	    .name = "Front end ✓",
	    .description = "line one\nline two",
	    .collection_type = "artifacts",
	    .context_category = "web",
	};
	struct strbuf err = STRBUF_INIT;
	struct sm_user_collections *f = NULL, *g = NULL;
	char dir[2048], *text;
	long idx;

	(void)state;
	home(dir, sizeof(dir), "create", NULL);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	idx = sm_user_collections_create(f, &fl, NOW, &err);
	assert_int_equal(idx, 0);
	assert_int_equal(strlen(f->items[0].id), 32);
	assert_int_equal(strspn(f->items[0].id, "0123456789abcdef"), 32);
	assert_string_equal(f->items[0].created_at, NOW);
	assert_string_equal(f->items[0].updated_at, NOW);
	fl.name = "Other";
	fl.description = NULL;
	fl.collection_type = NULL;
	fl.context_category = "";
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, NULL), 1);
	assert_string_not_equal(f->items[0].id, f->items[1].id);
	assert_null(f->items[1].context_category);
	/* duplicates and bad fields */
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, &err), -EEXIST);
	assert_non_null(strstr(err.buf, "already exists"));
	fl.name = NULL;
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, NULL), -EINVAL);
	fl.name = "T";
	fl.collection_type = "default";
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, NULL), -EINVAL);
	fl.collection_type = "a\x01";
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, NULL), -EINVAL);
	fl.collection_type = NULL;
	fl.description = "bad \x01";
	assert_int_equal(sm_user_collections_create(f, &fl, NOW, NULL), -EINVAL);
	assert_int_equal(f->n, 2);
	assert_int_equal(sm_user_collections_add_member(f, 0, "skill:canvas", NULL), 1);
	assert_int_equal(sm_user_collections_save(f, &err), 0);
	text = slurp(dir);
	assert_non_null(strstr(text, "[[collections]]\nid = \""));
	assert_non_null(strstr(text, "members = [\n    \"skill:canvas\",\n]"));
	sm_free(text);
	assert_int_equal(sm_user_collections_load(dir, &g, NULL), 0);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->items[0].id, f->items[0].id);
	assert_string_equal(g->items[0].name, "Front end ✓");
	assert_string_equal(g->items[0].description, "line one\nline two");
	assert_string_equal(g->items[0].context_category, "web");
	assert_int_equal(g->items[0].nmembers, 1);
	sm_user_collections_free(f);
	sm_user_collections_free(g);
	sm_strbuf_release(&err);
}

static void test_unknown_keys_survive(void **state)
{
	struct sm_user_collection_fields fl = {.name = "Web", .description = ""};
	struct sm_user_collections *f = NULL, *g = NULL;
	struct sm_toml_value *t;
	char dir[2048];

	(void)state;
	home(dir, sizeof(dir), "unknown", sample);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	assert_int_equal(sm_user_collections_update(f, 0, &fl, LATER, NULL), 0);
	assert_int_equal(sm_user_collections_add_member(f, 1, "command:deploy", NULL), 1);
	assert_int_equal(sm_user_collections_save(f, NULL), 0);
	assert_int_equal(sm_user_collections_load(dir, &g, NULL), 0);
	assert_string_equal(g->items[0].name, "Web");
	assert_null(g->items[0].description);
	assert_string_equal(g->items[0].updated_at, LATER);
	assert_string_equal(g->items[0].created_at, "2026-01-01T00:00:00");
	assert_string_equal(g->items[1].members[0], "command:deploy");
	assert_non_null(sm_toml_get(g->doc, "version"));
	assert_non_null(sm_toml_get_path(g->doc, "other.kept"));
	t = sm_toml_at(sm_toml_get(g->doc, "collections"), 0);
	assert_string_equal(sm_toml_get_string(t, "color"), "red");
	assert_non_null(sm_toml_get_path(t, "extra.x"));
	sm_user_collections_free(f);
	sm_user_collections_free(g);
}

static void test_update_delete(void **state)
{
	struct sm_user_collection_fields fl = {.name = "Backend"};
	struct strbuf err = STRBUF_INIT;
	struct sm_user_collections *f = NULL;
	char dir[2048];

	(void)state;
	home(dir, sizeof(dir), "update", sample);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	assert_int_equal(sm_user_collections_update(f, 0, &fl, LATER, &err), -EEXIST);
	assert_string_equal(f->items[0].name, "Frontend");
	assert_string_equal(f->items[0].updated_at, "2026-01-02T00:00:00");
	fl.name = "Frontend"; /* its own name: fine */
	assert_int_equal(sm_user_collections_update(f, 0, &fl, LATER, NULL), 0);
	fl.name = "";
	assert_int_equal(sm_user_collections_update(f, 0, &fl, LATER, NULL), -EINVAL);
	fl.name = NULL;
	fl.collection_type = "context";
	assert_int_equal(sm_user_collections_update(f, 1, &fl, LATER, NULL), 0);
	assert_string_equal(f->items[1].collection_type, "context");
	assert_int_equal(sm_user_collections_update(f, 2, &fl, LATER, NULL), -ENOENT);
	assert_int_equal(sm_user_collections_delete(f, 0, NULL), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->items[0].name, "Backend");
	assert_int_equal(sm_user_collections_delete(f, 1, NULL), -ENOENT);
	assert_int_equal(sm_user_collections_delete(f, 0, NULL), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(sm_user_collections_save(f, NULL), 0);
	sm_user_collections_free(f);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	assert_int_equal(f->n, 0);
	assert_non_null(sm_toml_get(f->doc, "version"));
	sm_user_collections_free(f);
	sm_strbuf_release(&err);
}

static void test_members(void **state)
{
	struct sm_user_collections *f = NULL;
	char dir[2048];

	(void)state;
	home(dir, sizeof(dir), "members", sample);
	assert_int_equal(sm_user_collections_load(dir, &f, NULL), 0);
	assert_int_equal(sm_user_collections_add_member(f, 0, "skill:canvas", NULL), 0);
	assert_int_equal(sm_user_collections_add_member(f, 0, "skill:new", NULL), 1);
	assert_int_equal(f->items[0].nmembers, 3);
	assert_int_equal(sm_user_collections_add_member(f, 0, "nope", NULL), -EINVAL);
	assert_int_equal(sm_user_collections_add_member(f, 5, "skill:x", NULL), -ENOENT);
	assert_int_equal(sm_user_collections_remove_member(f, 0, "skill:canvas", NULL), 1);
	assert_int_equal(sm_user_collections_remove_member(f, 0, "skill:canvas", NULL), 0);
	assert_int_equal(sm_user_collections_remove_member(f, 1, "skill:canvas", NULL), 0);
	assert_int_equal(f->items[0].nmembers, 2);
	assert_string_equal(f->items[0].members[0], "work/agent:reviewer");
	assert_string_equal(f->items[0].members[1], "skill:new");
	sm_user_collections_free(f);
}

static void test_save_failure(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_user_collections *f = NULL;

	(void)state;
	assert_int_equal(sm_user_collections_load_path("/nonexistent-dir/x/" SM_UC_FILE, &f, NULL),
			 0);
	assert_int_equal(sm_user_collections_create(
			     f, &(struct sm_user_collection_fields){.name = "A"}, NOW, NULL),
			 0);
	assert_true(sm_user_collections_save(f, &err) < 0);
	assert_true(err.len > 0);
	sm_user_collections_free(f);
	sm_strbuf_release(&err);
}

/* Every allocation failing in turn: -ENOMEM and nothing changed, then success. */
static void test_alloc_failure(void **state)
{
	struct sm_user_collection_fields fl = {.name = "Z", .description = "d"};
	struct sm_user_collection_fields up = {.name = "Y", .description = ""};
	struct sm_user_collections *f = NULL;
	char dir[2048];
	long n;
	int r = -1;

	(void)state;
	home(dir, sizeof(dir), "alloc", sample);
	for (n = 0; n < 1000; n++) {
		sm_alloc_fail_after(n);
		r = sm_user_collections_load(dir, &f, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
	}
	assert_int_equal(r, 0);
	for (n = 0; n < 1000; n++) {
		long idx;

		sm_alloc_fail_after(n);
		idx = sm_user_collections_create(f, &fl, NOW, NULL);
		sm_alloc_fail_after(-1);
		if (idx >= 0)
			break;
		assert_int_equal(idx, -ENOMEM);
		assert_int_equal(f->n, 2);
	}
	assert_int_equal(f->n, 3);
	for (n = 0; n < 1000; n++) {
		sm_alloc_fail_after(n);
		r = sm_user_collections_update(f, 0, &up, LATER, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_string_equal(f->items[0].name, "Frontend");
	}
	assert_string_equal(f->items[0].name, "Y");
	for (n = 0; n < 1000; n++) {
		sm_alloc_fail_after(n);
		r = sm_user_collections_add_member(f, 0, "skill:zz", NULL);
		sm_alloc_fail_after(-1);
		if (r == 1)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(f->items[0].nmembers, 2);
	}
	assert_int_equal(f->items[0].nmembers, 3);
	for (n = 0; n < 1000; n++) {
		sm_alloc_fail_after(n);
		r = sm_user_collections_remove_member(f, 0, "skill:canvas", NULL);
		sm_alloc_fail_after(-1);
		if (r == 1)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(f->items[0].nmembers, 3);
	}
	assert_int_equal(f->items[0].nmembers, 2);
	for (n = 0; n < 1000; n++) {
		sm_alloc_fail_after(n);
		r = sm_user_collections_delete(f, 1, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(f->n, 3);
		assert_string_equal(f->items[1].name, "Backend");
	}
	assert_int_equal(f->n, 2);
	for (n = 0; n < 1000; n++) {
		char *before = slurp(dir), *after;

		sm_alloc_fail_after(n);
		r = sm_user_collections_save(f, NULL);
		sm_alloc_fail_after(-1);
		after = slurp(dir);
		if (r == 0) {
			sm_free(before);
			sm_free(after);
			break;
		}
		assert_int_equal(r, -ENOMEM);
		assert_string_equal(before, after);
		sm_free(before);
		sm_free(after);
	}
	assert_int_equal(r, 0);
	sm_user_collections_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_load_sample),
	    cmocka_unit_test(test_degraded),
	    cmocka_unit_test(test_degraded_view),
	    cmocka_unit_test(test_degraded_writes),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_name_rules),
	    cmocka_unit_test(test_key_parse),
	    cmocka_unit_test(test_create_save_reload),
	    cmocka_unit_test(test_unknown_keys_survive),
	    cmocka_unit_test(test_update_delete),
	    cmocka_unit_test(test_members),
	    cmocka_unit_test(test_save_failure),
	    cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, make_tmproot, drop_tmproot);
}
