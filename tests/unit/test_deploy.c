/* SPDX-License-Identifier: MIT */
/* core/tracking.c and core/deploy.c: profiles, the tracking file, staged deploys. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "skillmeat/deploy.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/sha256.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

static char tmproot[1024];

static int make_tmproot(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmproot, sizeof(tmproot), "%s/sm-test-deploy-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmproot) ? 0 : -1;
}

static int drop_tmproot(void **state)
{
	(void)state;
	return sm_fs_remove_tree(tmproot, NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A fresh project folder with .claude/.skillmeat-deployed.toml = text (NULL: none). */
static void project(char *out, size_t n, const char *name, const char *text)
{
	char p[1200];

	snprintf(out, n, "%s/%s", tmproot, name);
	snprintf(p, sizeof(p), "%s/.claude", out);
	assert_int_equal(sm_fs_mkdir_p(p, 0755, NULL), 0);
	if (text) {
		snprintf(p, sizeof(p), "%s/.claude/%s", out, SM_TRACKING_FILE);
		write_file(p, text);
	}
}

static void test_profiles(void **state)
{
	struct sm_profile p;
	static const char *const bad[] = { "", "../x", ".hidden", "a/b", "a b", "x\\y",
					   "0123456789012345678901234567890123456789012345678901234567890123456789" };

	(void)state;
	assert_int_equal(sm_profile_get(NULL, &p, NULL), 0);
	assert_string_equal(p.id, "claude_code");
	assert_string_equal(p.root, ".claude");
	assert_string_equal(p.platform, "claude_code");
	assert_int_equal(sm_profile_get("codex", &p, NULL), 0);
	assert_string_equal(p.root, ".codex");
	assert_string_equal(p.platform, "codex");
	assert_int_equal(sm_profile_get("team-x", &p, NULL), 0);
	assert_string_equal(p.root, ".team-x");
	assert_string_equal(p.platform, "other");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(sm_profile_get(bad[i], &p, &err), -EINVAL);
		assert_non_null(strstr(err.buf, "invalid profile id"));
		sm_strbuf_release(&err);
	}
}

static void test_rel_path(void **state)
{
	struct strbuf s = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_deploy_rel_path(SM_TYPE_SKILL, "x", &s, NULL), 0);
	assert_string_equal(s.buf, "skills/x");
	sm_strbuf_reset(&s);
	assert_int_equal(sm_deploy_rel_path(SM_TYPE_AGENT, "a", &s, NULL), 0);
	assert_string_equal(s.buf, "agents/a.md");
	sm_strbuf_reset(&s);
	assert_int_equal(sm_deploy_rel_path(SM_TYPE_HOOK, "h", &s, NULL), 0);
	assert_string_equal(s.buf, "hooks/h.md");
	sm_strbuf_reset(&s);
	assert_int_equal(sm_deploy_rel_path(SM_TYPE_WORKFLOW, "w", &s, NULL), -EINVAL);
	sm_strbuf_release(&s);
}

static const char good[] = "[[deployed]]\n"
			   "artifact_name = \"review.md\"\n"
			   "artifact_type = \"command\"\n"
			   "from_collection = \"default\"\n"
			   "deployed_at = \"2026-01-12T21:16:14.586689\"\n"
			   "artifact_path = \"commands/review.md\"\n"
			   "collection_sha = \"aa\"\n"
			   "extra_key = 1\n";

static void test_tracking_roundtrip(void **state)
{
	struct sm_tracking *t = NULL;
	struct sm_profile p;
	struct strbuf err = STRBUF_INIT, buf = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *rec;
	char dir[1100];

	(void)state;
	project(dir, sizeof(dir), "rt", good);
	assert_int_equal(sm_tracking_load(dir, ".claude", &t, &err), 0);
	assert_int_equal(sm_tracking_count(t), 1);
	/* names match with one trailing .md stripped; missing profile = claude_code */
	assert_int_equal(sm_tracking_find(t, "review", SM_TYPE_COMMAND, NULL), 0);
	assert_int_equal(sm_tracking_find(t, "review", SM_TYPE_AGENT, NULL), -1);
	assert_int_equal(sm_tracking_find(t, "review", SM_TYPE_INVALID, "codex"), -1);
	assert_string_equal(sm_rec_hash(sm_tracking_at(t, 0)), "aa");
	(void)sm_profile_get(NULL, &p, NULL);
	rec = sm_rec_new("canvas", SM_TYPE_SKILL, "default", "skills/canvas", "bb", &p, NULL,
			 false);
	assert_non_null(rec);
	assert_int_equal(sm_tracking_put(t, -1, rec), 0);
	assert_int_equal(sm_tracking_save(t, &err), 0);
	sm_tracking_free(t);

	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/.claude/%s", SM_TRACKING_FILE);
	assert_int_equal(sm_fs_read_file(dir, 1 << 20, &buf, NULL), 0);
	assert_int_equal(sm_toml_parse(buf.buf, buf.len, &doc, NULL), 0);
	rec = sm_toml_at(sm_toml_get(doc, "deployed"), 1);
	{
		static const char *const keys[] = {
			"artifact_name",     "artifact_type",	    "from_collection",
			"deployed_at",	     "artifact_path",	    "content_hash",
			"local_modifications", "version_lineage",   "merge_base_snapshot",
			"deployment_profile_id", "platform",	    "profile_root_dir",
			"collection_sha",
		};

		assert_int_equal(sm_toml_len(rec), sizeof(keys) / sizeof(keys[0]));
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			assert_string_equal(sm_toml_kv_at(rec, i)->key, keys[i]);
	}
	/* an unknown key of someone else's record survives the rewrite */
	assert_non_null(sm_toml_get(sm_toml_at(sm_toml_get(doc, "deployed"), 0), "extra_key"));
	sm_toml_free(doc);
	sm_strbuf_release(&buf);
	sm_strbuf_release(&err);
}

static void test_tracking_refuses(void **state)
{
	static const char *const paths[] = { "/etc/passwd", "../x", "skills/../../x", "skills//x",
					     "skills/./x", "", "skills/x/" };
	char dir[1100], text[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct sm_tracking *t = NULL;
		struct strbuf err = STRBUF_INIT;
		char name[32];

		snprintf(name, sizeof(name), "bad%zu", i);
		snprintf(text, sizeof(text),
			 "[[deployed]]\nartifact_name = \"x\"\nartifact_type = \"skill\"\n"
			 "from_collection = \"default\"\ndeployed_at = \"2026-01-01T00:00:00\"\n"
			 "artifact_path = \"%s\"\ncontent_hash = \"aa\"\n",
			 paths[i]);
		project(dir, sizeof(dir), name, text);
		assert_int_equal(sm_tracking_load(dir, ".claude", &t, &err), -EPERM);
		assert_non_null(strstr(err.buf, "outside the project"));
		assert_null(t);
		sm_strbuf_release(&err);
	}
	/* a record of another root, a missing key, malformed TOML */
	{
		struct sm_tracking *t = NULL;
		struct strbuf err = STRBUF_INIT;

		project(dir, sizeof(dir), "otherroot",
			"[[deployed]]\nartifact_name = \"x\"\nartifact_type = \"skill\"\n"
			"from_collection = \"default\"\ndeployed_at = \"2026-01-01T00:00:00\"\n"
			"artifact_path = \"skills/x\"\ncontent_hash = \"aa\"\n"
			"profile_root_dir = \"..\"\n");
		assert_int_equal(sm_tracking_load(dir, ".claude", &t, &err), -EPERM);
		project(dir, sizeof(dir), "nokey", "[[deployed]]\nartifact_name = \"x\"\n");
		assert_int_equal(sm_tracking_load(dir, ".claude", &t, &err), -EBADMSG);
		project(dir, sizeof(dir), "malformed", "deployed = [\n");
		assert_int_equal(sm_tracking_load(dir, ".claude", &t, &err), -EBADMSG);
		assert_non_null(strstr(err.buf, SM_TRACKING_FILE));
		assert_int_equal(sm_tracking_load(dir, "../x", &t, &err), -EINVAL);
		sm_strbuf_release(&err);
	}
}

/* sm_tracking_find through its index: appends, replacements, removals, stems, profiles. */
static void test_tracking_find_index(void **state)
{
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;
	struct sm_tracking *t = NULL;
	struct sm_profile claude, codex;
	char name[32];

	(void)state;
	assert_int_equal(sm_strbuf_addf(&dir, "%s/index", tmproot), 0);
	assert_int_equal(sm_fs_mkdir_p(dir.buf, 0755, NULL), 0);
	assert_int_equal(sm_profile_get(NULL, &claude, NULL), 0);
	assert_int_equal(sm_profile_get("codex", &codex, NULL), 0);
	assert_int_equal(sm_tracking_load(dir.buf, ".claude", &t, &err), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(sm_tracking_put(t, -1,
						 sm_rec_new(name, SM_TYPE_SKILL, "default", "skills/x",
							    "aa", &claude, NULL, false)),
				 0);
		if (i == 0) /* the index exists from here on: later appends keep it */
			assert_int_equal(sm_tracking_find(t, "s0", SM_TYPE_SKILL, NULL), 0);
	}
	assert_int_equal(sm_tracking_put(t, -1,
					 sm_rec_new("review", SM_TYPE_COMMAND, "default",
						    "commands/review.md", "aa", &claude, NULL, false)),
			 0);
	assert_int_equal(sm_tracking_put(t, -1,
					 sm_rec_new("review", SM_TYPE_COMMAND, "default",
						    "commands/review.md", "aa", &codex, NULL, false)),
			 0);
	assert_int_equal(sm_tracking_find(t, "s299", SM_TYPE_SKILL, NULL), 299);
	assert_int_equal(sm_tracking_find(t, "s299", SM_TYPE_AGENT, NULL), -1);
	assert_int_equal(sm_tracking_find(t, "s300", SM_TYPE_SKILL, NULL), -1);
	assert_int_equal(sm_tracking_find(t, "review.md", SM_TYPE_COMMAND, "claude_code"), 300);
	assert_int_equal(sm_tracking_find(t, "review", SM_TYPE_COMMAND, "codex"), 301);
	assert_int_equal(sm_tracking_find(t, "review", SM_TYPE_INVALID, "codex"), 301);
	/* a replacement under the same key keeps the index, under another key drops it */
	assert_int_equal(sm_tracking_put(t, 5,
					 sm_rec_new("s5", SM_TYPE_SKILL, "default", "skills/x", "bb",
						    &claude, NULL, false)),
			 0);
	assert_int_equal(sm_tracking_find(t, "s5", SM_TYPE_SKILL, NULL), 5);
	assert_int_equal(sm_tracking_put(t, 6,
					 sm_rec_new("renamed", SM_TYPE_SKILL, "default", "skills/x",
						    "bb", &claude, NULL, false)),
			 0);
	assert_int_equal(sm_tracking_find(t, "s6", SM_TYPE_SKILL, NULL), -1);
	assert_int_equal(sm_tracking_find(t, "renamed", SM_TYPE_SKILL, NULL), 6);
	/* a removal moves the later records */
	assert_int_equal(sm_tracking_remove(t, 0), 0);
	assert_int_equal(sm_tracking_find(t, "s0", SM_TYPE_SKILL, NULL), -1);
	assert_int_equal(sm_tracking_find(t, "s299", SM_TYPE_SKILL, NULL), 298);
	assert_int_equal(sm_tracking_find(t, "review", SM_TYPE_COMMAND, "codex"), 300);
	/* a duplicate key: the first record is found */
	assert_int_equal(sm_tracking_put(t, -1,
					 sm_rec_new("s1", SM_TYPE_SKILL, "default", "skills/x", "cc",
						    &claude, NULL, false)),
			 0);
	assert_int_equal(sm_tracking_find(t, "s1", SM_TYPE_SKILL, NULL), 0);
	sm_tracking_free(t);
	sm_strbuf_release(&err);
	sm_strbuf_release(&dir);
}

static void test_deploy_one(void **state)
{
	struct sm_tracking *t = NULL;
	struct sm_deploy_result res;
	struct sm_deploy_opts opts = { 0 };
	struct sm_profile p;
	struct strbuf err = STRBUF_INIT;
	char dir[1100], src[1200], path[1300];
	struct sm_deploy_src s = { .name = "sk", .type = SM_TYPE_SKILL, .collection = "default" };
	struct stat st1, st2;

	(void)state;
	project(dir, sizeof(dir), "dep", NULL);
	snprintf(src, sizeof(src), "%s/src-sk", tmproot);
	assert_int_equal(sm_fs_mkdir_p(src, 0755, NULL), 0);
	snprintf(path, sizeof(path), "%s/SKILL.md", src);
	write_file(path, "---\nname: sk\n---\nbody\n");
	snprintf(path, sizeof(path), "%s/.DS_Store", src);
	write_file(path, "junk");
	s.path = src;
	(void)sm_profile_get(NULL, &p, NULL);
	assert_int_equal(sm_tracking_load(dir, ".claude", &t, &err), 0);
	assert_int_equal(sm_deploy_one(t, &p, &s, &opts, &res, &err), 0);
	assert_int_equal(res.status, SM_DEPLOY_DEPLOYED);
	assert_string_equal(res.rel_path, "skills/sk");
	sm_deploy_result_release(&res);
	snprintf(path, sizeof(path), "%s/.claude/skills/sk/.DS_Store", dir);
	assert_false(sm_fs_exists(path)); /* the §1.6 ignore list */
	snprintf(path, sizeof(path), "%s/.claude/skills/sk", dir);
	assert_int_equal(stat(path, &st1), 0);
	/* unchanged: not copied again */
	assert_int_equal(sm_deploy_one(t, &p, &s, &opts, &res, &err), 0);
	assert_int_equal(res.status, SM_DEPLOY_UNCHANGED);
	sm_deploy_result_release(&res);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	/* outdated: updated in place, no leftovers beside it */
	snprintf(path, sizeof(path), "%s/SKILL.md", src);
	write_file(path, "---\nname: sk\n---\nbody 2\n");
	assert_int_equal(sm_deploy_one(t, &p, &s, &opts, &res, &err), 0);
	assert_int_equal(res.status, SM_DEPLOY_UPDATED);
	sm_deploy_result_release(&res);
	assert_int_equal(sm_tracking_count(t), 1);
	snprintf(path, sizeof(path), "%s/.claude/skills", dir);
	{
		struct sm_fs_list l = { 0 };

		assert_int_equal(sm_fs_walk(path, &l, NULL), 0);
		assert_int_equal(l.len, 1);
		sm_fs_list_release(&l);
	}
	/* undeploy removes it and the record */
	assert_int_equal(sm_undeploy_one(t, 0, false, &err), 0);
	assert_int_equal(sm_tracking_count(t), 0);
	snprintf(path, sizeof(path), "%s/.claude/skills/sk", dir);
	assert_false(sm_fs_exists(path));
	sm_tracking_free(t);
	sm_strbuf_release(&err);
}

/* Wait (explicitly) until the clock has left the tick of path's ctime. */
static void wait_past_ctime(const char *path)
{
	struct stat st;
	int64_t c;

	assert_int_equal(stat(path, &st), 0);
	c = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	while (sm_hashcache_clock() <= c) {
		struct timespec ms = { 0, 1000000 };

		nanosleep(&ms, NULL);
	}
}

/* Same size, mtime put back (touch -r): only the ctime tells. */
static void edit_same_size(const char *path, const char *text)
{
	struct stat st;
	struct timespec t[2];

	assert_int_equal(stat(path, &st), 0);
	t[0] = st.st_atim;
	t[1] = st.st_mtim;
	write_file(path, text);
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static void cache_file_id(const char *home, struct stat *st)
{
	char p[1200];

	snprintf(p, sizeof(p), "%s/cache/deploy-hashes.bin", home);
	assert_int_equal(stat(p, st), 0);
}

/* The hash cache: a hit stats and reads nothing else; every kind of hand edit is seen. */
static void test_hashcache(void **state)
{
	char home_dir[1100], dir[1100], md[1200], sub[1200], add[1200];
	char h[SM_SHA256_HEX_LEN + 1], want[SM_SHA256_HEX_LEN + 1];
	struct sm_home home = { 0 };
	struct sm_hashcache *hc = NULL;
	struct stat a, b;

	(void)state;
	snprintf(home_dir, sizeof(home_dir), "%s/hc-home", tmproot);
	snprintf(dir, sizeof(dir), "%s/hc/skill", tmproot);
	snprintf(md, sizeof(md), "%s/SKILL.md", dir);
	snprintf(sub, sizeof(sub), "%s/scripts/run.sh", dir);
	snprintf(add, sizeof(add), "%s/scripts/new.sh", dir);
	assert_int_equal(sm_fs_mkdir_p(home_dir, 0755, NULL), 0);
	assert_int_equal(sm_fs_mkdir_p(sub, 0755, NULL), 0);
	assert_int_equal(rmdir(sub), 0);
	write_file(md, "hello\n");
	write_file(sub, "echo 1\n");
	home.root = home_dir;
	assert_int_equal(sm_hashcache_open(&home, &hc, NULL), 0);

	/* racy: computed right after the write, then edited in the same tick or not */
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(dir, want, NULL), 0);
	assert_string_equal(h, want);
	edit_same_size(md, "HELLO\n");
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(dir, want, NULL), 0);
	assert_string_equal(h, want);

	/* settled: a look-up with nothing changed writes nothing new (no recompute) */
	wait_past_ctime(md);
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_int_equal(sm_hashcache_save(hc, NULL), 0);
	cache_file_id(home_dir, &a);
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_string_equal(h, want);
	assert_int_equal(sm_hashcache_save(hc, NULL), 0);
	cache_file_id(home_dir, &b);
	assert_int_equal(a.st_ino, b.st_ino);

	/* a same-size edit with its mtime put back, in a subfolder */
	edit_same_size(sub, "echo 2\n");
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(dir, want, NULL), 0);
	assert_string_equal(h, want);
	/* a file added (only its folder's stat changes among the known ones) */
	wait_past_ctime(sub);
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	write_file(add, "new\n");
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(dir, want, NULL), 0);
	assert_string_equal(h, want);
	/* a file removed */
	wait_past_ctime(add);
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_int_equal(unlink(add), 0);
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(dir, want, NULL), 0);
	assert_string_equal(h, want);
	/* the as-deployed side, kept apart, through a reopened cache file */
	assert_int_equal(sm_hashcache_save(hc, NULL), 0);
	sm_hashcache_free(hc);
	assert_int_equal(sm_hashcache_open(&home, &hc, NULL), 0);
	assert_int_equal(sm_hashcache_hash(hc, dir, true, h, NULL), 0);
	assert_int_equal(sm_deploy_source_hash(dir, want, NULL), 0);
	assert_string_equal(h, want);
	wait_past_ctime(md);
	edit_same_size(md, "hellO\n");
	assert_int_equal(sm_hashcache_hash(hc, dir, true, h, NULL), 0);
	assert_int_equal(sm_deploy_source_hash(dir, want, NULL), 0);
	assert_string_equal(h, want);
	assert_int_equal(sm_hashcache_hash(hc, dir, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(dir, want, NULL), 0);
	assert_string_equal(h, want);
	sm_hashcache_free(hc);
}

/*
 * Look-ups that alternate between folders of three parents (the collection's
 * and two projects', as deploy and status do, each stat'ed relative to a
 * parent kept open) still see an edit in any of them, and the top's own
 * stat handed in by the caller is checked as the top's record.
 */
static void test_hashcache_parents(void **state)
{
	char home_dir[1100], d[3][1100], md[3][1200];
	char h[SM_SHA256_HEX_LEN + 1], want[SM_SHA256_HEX_LEN + 1];
	struct sm_home home = { 0 };
	struct sm_hashcache *hc = NULL;
	struct stat st;

	(void)state;
	snprintf(home_dir, sizeof(home_dir), "%s/hcp-home", tmproot);
	assert_int_equal(sm_fs_mkdir_p(home_dir, 0755, NULL), 0);
	home.root = home_dir;
	for (int i = 0; i < 3; i++) {
		snprintf(d[i], sizeof(d[i]), "%s/hcp/p%d/skills/sk", tmproot, i);
		snprintf(md[i], sizeof(md[i]), "%s/hcp/p%d/skills/sk/SKILL.md", tmproot, i);
		assert_int_equal(sm_fs_mkdir_p(d[i], 0755, NULL), 0);
		write_file(md[i], "one\n");
	}
	assert_int_equal(sm_hashcache_open(&home, &hc, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sm_hashcache_hash(hc, d[i], false, h, NULL), 0);
	for (int i = 0; i < 3; i++) {
		wait_past_ctime(md[i]);
		assert_int_equal(sm_hashcache_hash(hc, d[i], false, h, NULL), 0);
	}
	/* each edited in turn, looked up between look-ups of the others */
	for (int i = 0; i < 3; i++) {
		edit_same_size(md[i], i == 0 ? "ONE\n" : i == 1 ? "oNE\n" : "onE\n");
		for (int k = 0; k < 3; k++) {
			int j = (i + k) % 3;

			assert_int_equal(sm_hashcache_hash(hc, d[j], false, h, NULL), 0);
			assert_int_equal(sm_content_hash(d[j], want, NULL), 0);
			assert_string_equal(h, want);
		}
	}
	/* the caller's stat of the top stands for the top's record: a stale one misses */
	wait_past_ctime(md[2]);
	assert_int_equal(sm_hashcache_hash(hc, d[0], false, h, NULL), 0);
	assert_int_equal(lstat(d[0], &st), 0);
	assert_int_equal(sm_hashcache_hash_st(hc, d[0], &st, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(d[0], want, NULL), 0);
	assert_string_equal(h, want);
	write_file(md[1], "changed, and longer\n");
	assert_int_equal(lstat(d[1], &st), 0);
	assert_int_equal(sm_hashcache_hash_st(hc, d[1], &st, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(d[1], want, NULL), 0);
	assert_string_equal(h, want);
	sm_hashcache_free(hc);
}

/*
 * The folder kept open is replaced during a run (renamed away, a new one made
 * at its name, with other content, or the old copy moved into it): a look-up
 * answers for what the path names now, never for the old folder.
 */
static void test_hashcache_replaced_parent(void **state)
{
	char home_dir[1100], par[1100], bak[1100], d[1200], md[1300], moved[1200];
	char h[SM_SHA256_HEX_LEN + 1], want[SM_SHA256_HEX_LEN + 1], first[SM_SHA256_HEX_LEN + 1];
	struct sm_home home = { 0 };
	struct sm_hashcache *hc = NULL;

	(void)state;
	snprintf(home_dir, sizeof(home_dir), "%s/hcr-home", tmproot);
	snprintf(par, sizeof(par), "%s/hcr/p/skills", tmproot);
	snprintf(bak, sizeof(bak), "%s/hcr/p/skills.bak", tmproot);
	snprintf(d, sizeof(d), "%s/sk", par);
	snprintf(md, sizeof(md), "%s/sk/SKILL.md", par);
	assert_int_equal(sm_fs_mkdir_p(home_dir, 0755, NULL), 0);
	assert_int_equal(sm_fs_mkdir_p(d, 0755, NULL), 0);
	home.root = home_dir;
	write_file(md, "one\n");
	assert_int_equal(sm_hashcache_open(&home, &hc, NULL), 0);
	assert_int_equal(sm_hashcache_hash(hc, d, false, first, NULL), 0);
	wait_past_ctime(md);
	/* trusted now, and the parent is kept open */
	assert_int_equal(sm_hashcache_hash(hc, d, false, h, NULL), 0);
	assert_int_equal(sm_hashcache_hash(hc, d, false, h, NULL), 0);
	assert_string_equal(h, first);
	/* a new folder at the name, other content */
	assert_int_equal(rename(par, bak), 0);
	assert_int_equal(sm_fs_mkdir_p(d, 0755, NULL), 0);
	write_file(md, "two\n");
	assert_int_equal(sm_hashcache_hash(hc, d, false, h, NULL), 0);
	assert_int_equal(sm_content_hash(d, want, NULL), 0);
	assert_string_equal(h, want);
	assert_string_not_equal(h, first);
	/* the old copy moved into the new folder: its own content again */
	assert_int_equal(sm_fs_remove_tree(d, NULL), 0);
	snprintf(moved, sizeof(moved), "%s/sk", bak);
	assert_int_equal(rename(moved, d), 0);
	assert_int_equal(sm_hashcache_hash(hc, d, false, h, NULL), 0);
	assert_string_equal(h, first);
	sm_hashcache_free(hc);
}

/* A write of the cache drops the entries of paths that are gone (a removed project). */
static void test_hashcache_drops_gone(void **state)
{
	char home_dir[1100], a[1100], b[1100], amd[1200], bmd[1200];
	char h[SM_SHA256_HEX_LEN + 1];
	const void *rec;
	size_t len;
	struct sm_home home = { 0 };
	struct sm_hashcache *hc = NULL;

	(void)state;
	snprintf(home_dir, sizeof(home_dir), "%s/hcg-home", tmproot);
	snprintf(a, sizeof(a), "%s/hcg/pa/.claude/skills/sk", tmproot);
	snprintf(b, sizeof(b), "%s/hcg/pb/.claude/skills/sk", tmproot);
	snprintf(amd, sizeof(amd), "%s/hcg/pa/.claude/skills/sk/SKILL.md", tmproot);
	snprintf(bmd, sizeof(bmd), "%s/hcg/pb/.claude/skills/sk/SKILL.md", tmproot);
	assert_int_equal(sm_fs_mkdir_p(home_dir, 0755, NULL), 0);
	assert_int_equal(sm_fs_mkdir_p(a, 0755, NULL), 0);
	assert_int_equal(sm_fs_mkdir_p(b, 0755, NULL), 0);
	write_file(amd, "a\n");
	write_file(bmd, "b\n");
	wait_past_ctime(bmd);
	home.root = home_dir;
	assert_int_equal(sm_hashcache_open(&home, &hc, NULL), 0);
	assert_int_equal(sm_hashcache_hash(hc, a, false, h, NULL), 0);
	assert_int_equal(sm_hashcache_hash(hc, b, false, h, NULL), 0);
	assert_int_equal(sm_hashcache_save(hc, NULL), 0);
	sm_hashcache_free(hc);

	/* project a removed; a later run that looks up only b and writes the cache */
	snprintf(amd, sizeof(amd), "%s/hcg/pa", tmproot);
	assert_int_equal(sm_fs_remove_tree(amd, NULL), 0);
	assert_int_equal(sm_hashcache_open(&home, &hc, NULL), 0);
	write_file(bmd, "bb\n");
	wait_past_ctime(bmd);
	assert_int_equal(sm_hashcache_hash(hc, b, false, h, NULL), 0);
	assert_int_equal(sm_hashcache_save(hc, NULL), 0);
	sm_hashcache_free(hc);

	assert_int_equal(sm_hashcache_open(&home, &hc, NULL), 0);
	assert_int_equal(sm_hashcache_known(hc, a, false, h, &rec, &len), -ENOENT);
	assert_int_equal(sm_hashcache_known(hc, b, false, h, &rec, &len), 0);
	sm_hashcache_free(hc);
}

/* Records compare as sets: the order of a folder walk and of a copy may differ, a stat may not. */
static void test_hashcache_fp_same(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT, d = STRBUF_INIT;
	struct stat s1, s2, s3;

	(void)state;
	memset(&s1, 0, sizeof(s1));
	s1.st_mode = S_IFDIR | 0755;
	s1.st_ino = 10;
	s2 = s1;
	s2.st_mode = S_IFREG | 0644;
	s2.st_ino = 11;
	s2.st_size = 5;
	s3 = s2;
	s3.st_ino = 12;
	assert_int_equal(sm_hashcache_fp_add(&a, "", &s1), 0);
	assert_int_equal(sm_hashcache_fp_add(&a, "SKILL.md", &s2), 0);
	assert_int_equal(sm_hashcache_fp_add(&a, "refs", &s1), 0);
	assert_int_equal(sm_hashcache_fp_add(&a, "refs/x.md", &s3), 0);
	/* the same records, another order */
	assert_int_equal(sm_hashcache_fp_add(&b, "", &s1), 0);
	assert_int_equal(sm_hashcache_fp_add(&b, "refs", &s1), 0);
	assert_int_equal(sm_hashcache_fp_add(&b, "refs/x.md", &s3), 0);
	assert_int_equal(sm_hashcache_fp_add(&b, "SKILL.md", &s2), 0);
	assert_true(sm_hashcache_fp_same(a.buf, a.len, b.buf, b.len));
	assert_true(sm_hashcache_fp_same(b.buf, b.len, a.buf, a.len));
	/* one stat differs (a file's mtime) */
	s3.st_mtim.tv_nsec = 1;
	assert_int_equal(sm_hashcache_fp_add(&c, "", &s1), 0);
	assert_int_equal(sm_hashcache_fp_add(&c, "refs", &s1), 0);
	assert_int_equal(sm_hashcache_fp_add(&c, "refs/x.md", &s3), 0);
	assert_int_equal(sm_hashcache_fp_add(&c, "SKILL.md", &s2), 0);
	assert_false(sm_hashcache_fp_same(a.buf, a.len, c.buf, c.len));
	/* a name differs, same length */
	s3.st_mtim.tv_nsec = 0;
	assert_int_equal(sm_hashcache_fp_add(&d, "", &s1), 0);
	assert_int_equal(sm_hashcache_fp_add(&d, "refs", &s1), 0);
	assert_int_equal(sm_hashcache_fp_add(&d, "refs/y.md", &s3), 0);
	assert_int_equal(sm_hashcache_fp_add(&d, "SKILL.md", &s2), 0);
	assert_false(sm_hashcache_fp_same(a.buf, a.len, d.buf, d.len));
	/* a record missing */
	assert_false(sm_hashcache_fp_same(a.buf, a.len, b.buf, b.len - 1));
	sm_strbuf_release(&a);
	sm_strbuf_release(&b);
	sm_strbuf_release(&c);
	sm_strbuf_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_rel_path),
		cmocka_unit_test(test_tracking_roundtrip),
		cmocka_unit_test(test_tracking_refuses),
		cmocka_unit_test(test_tracking_find_index),
		cmocka_unit_test(test_deploy_one),
		cmocka_unit_test(test_hashcache),
		cmocka_unit_test(test_hashcache_parents),
		cmocka_unit_test(test_hashcache_replaced_parent),
		cmocka_unit_test(test_hashcache_drops_gone),
		cmocka_unit_test(test_hashcache_fp_same),
	};

	return cmocka_run_group_tests(tests, make_tmproot, drop_tmproot);
}
