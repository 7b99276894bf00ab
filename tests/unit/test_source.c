/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "skillmeat/memory.h"
#include "skillmeat/source.h"
#include "skillmeat/strbuf.h"

/*
 * Fixture: $root/gh/acme/tools is a bare repo served as
 * base URL file://$root/gh (gh_base). main has two commits (the second
 * adds a symlink and changes SKILL.md), dev branches off the first and adds
 * dev-only.md; v1.0 is a lightweight tag on the first commit, 1.2.0 an
 * annotated tag on the second. $root/gh/acme/empty has no commits.
 */
static char root[256];
static char tmpdir[300];
static char sha_one[41], sha_main[41], sha_dev[41];

static const char fixture_script[] =
    "set -e\n"
    "R=\"$1\"\n"
    "export GIT_CONFIG_NOSYSTEM=1 HOME=\"$R/home\" GIT_AUTHOR_NAME=t "
    "GIT_AUTHOR_EMAIL=t@example.com\n"
    "export GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com\n"
    "mkdir -p \"$R/home\" \"$R/gh/acme\" \"$R/tmp\"\n"
    "git init -q --bare -b main \"$R/gh/acme/tools\"\n"
    "git init -q --bare -b main \"$R/gh/acme/empty\"\n"
    "git init -q -b main \"$R/w\"\n"
    "cd \"$R/w\"\n"
    "mkdir -p skills/demo commands\n"
    "printf -- '---\\nname: demo\\n---\\n# Demo v1\\n' > skills/demo/SKILL.md\n"
    "printf '# Review\\n' > commands/review.md\n"
    "git add -A && git commit -q -m one\n"
    "git tag v1.0\n"
    "git checkout -q -b dev\n"
    "printf 'dev only\\n' > dev-only.md\n"
    "git add -A && git commit -q -m dev\n"
    "git checkout -q main\n"
    "printf -- '---\\nname: demo\\n---\\n# Demo v2\\n' > skills/demo/SKILL.md\n"
    "printf 'x\\n' > skills/demo/extra.txt\n"
    "ln -s ../commands skills/link\n"
    "git add -A && git commit -q -m two\n"
    "git tag -a 1.2.0 -m release\n"
    "git push -q \"$R/gh/acme/tools\" main dev --tags\n";

static int run_sh(const char *script, const char *arg)
{
	char path[400];
	char cmd[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fixture.sh", root);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fputs(script, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s' >/dev/null 2>&1", path, arg);
	return system(cmd);
}

static int rev_parse(const char *rev, char out[41])
{
	char cmd[600];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "git -C '%s/gh/acme/tools' rev-parse '%s'", root, rev);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fgets(out, 41, p) != NULL && strlen(out) == 40;
	pclose(p);
	return ok ? 0 : -1;
}

static char gh_base[400]; /* the base URL fetches clone from */

static int group_setup(void **state)
{
	char url[400];

	(void)state;
	snprintf(root, sizeof(root), "%s", "/tmp/sm-test-source-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	if (run_sh(fixture_script, root) != 0)
		return -1;
	if (rev_parse("main~1", sha_one) || rev_parse("main", sha_main) ||
	    rev_parse("dev", sha_dev))
		return -1;
	snprintf(url, sizeof(url), "file://%s/gh", root);
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", root);
	snprintf(gh_base, sizeof(gh_base), "%s", url);
	setenv("TMPDIR", tmpdir, 1);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

static bool exists(const char *dir, const char *rel)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s%s", dir, *rel ? "/" : "", rel);
	return lstat(p, &st) == 0;
}

static bool file_contains(const char *dir, const char *rel, const char *needle)
{
	char p[1024], buf[4096];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "%s%s%s", dir, *rel ? "/" : "", rel);
	f = fopen(p, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* ---------------------------------------------------------------- parsing */

struct parse_case {
	const char *spec;
	const char *owner, *repo, *path, *version;
};

static void test_parse_good(void **state)
{
	static const struct parse_case cases[] = {
	    {"a/b", "a", "b", "", "latest"},
	    {"a/b/", "a", "b", "", "latest"},
	    {"anthropics/skills/document-skills/pdf@v1.2", "anthropics", "skills",
	     "document-skills/pdf", "v1.2"},
	    {"acme/tools/skills/demo/", "acme", "tools", "skills/demo", "latest"},
	    {"acme/tools@dev", "acme", "tools", "", "dev"},
	    {"acme/tools@feature/x", "acme", "tools", "", "feature/x"},
	    /* the version is after the LAST '@' */
	    {"o/r/dir@x/file.md@v2", "o", "r", "dir@x/file.md", "v2"},
	    {"o/r/a@b", "o", "r", "a", "b"},
	    {"My-Org/repo.name_1/x", "My-Org", "repo.name_1", "x", "latest"},
	    {"o/r/a%20b", "o", "r", "a%20b", "latest"},
	    {"https://github.com/o/r", "o", "r", "", "latest"},
	    {"https://github.com/o/r/", "o", "r", "", "latest"},
	    {"https://github.com/o/r.git", "o", "r", "", "latest"},
	    {"http://GitHub.com/o/r", "o", "r", "", "latest"},
	    {"https://www.github.com/o/r/tree/main", "o", "r", "", "main"},
	    {"https://github.com/o/r/tree/v1.0/skills/demo", "o", "r", "skills/demo", "v1.0"},
	    {"https://github.com/o/r/tree/main/skills/demo/?tab=readme#x", "o", "r", "skills/demo",
	     "main"},
	    {"https://github.com/o/r/blob/1.2.0/commands/review.md", "o", "r", "commands/review.md",
	     "1.2.0"},
	    {"https://github.com/o/r/tree/main/my%20skill", "o", "r", "my skill", "main"},
	    {"github.com/o/r/tree/dev/x", "o", "r", "x", "dev"},
	    {"www.github.com/o/r", "o", "r", "", "latest"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sm_github_spec s;
		struct strbuf err = STRBUF_INIT;
		int r = sm_github_spec_parse(cases[i].spec, &s, &err);

		if (r != 0)
			print_error("spec '%s': %d %s\n", cases[i].spec, r, err.buf);
		assert_int_equal(r, 0);
		assert_string_equal(s.owner, cases[i].owner);
		assert_string_equal(s.repo, cases[i].repo);
		assert_string_equal(s.path, cases[i].path);
		assert_string_equal(s.version, cases[i].version);
		sm_github_spec_release(&s);
		sm_github_spec_release(&s); /* idempotent */
		sm_strbuf_release(&err);
	}
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *spec;
		const char *msg; /* substring of the message, or NULL */
	} cases[] = {
	    {"", "empty"},
	    {"a", "expected owner/repo"},
	    {"a@v1", "expected owner/repo"},
	    {"a/b@", "empty version"},
	    {"/abs/x", "invalid owner"},
	    {"../x", "invalid owner '..'"},
	    {"./x/y", "invalid owner '.'"},
	    {"o/../x", "invalid repository '..'"},
	    {"o/r/../x", "invalid path component '..'"},
	    {"o/r/./x", "invalid path component '.'"},
	    {"o/r//x", "invalid path component ''"},
	    {"o/r/a/../../x", "invalid path component '..'"},
	    {"o w/r", "invalid owner"},
	    {"o/r$", "invalid repository"},
	    {"o/r/x\ny", "control character"},
	    {"o/r@v\t1", "control character"},
	    {"https://gitlab.com/o/r", "only GitHub sources are supported"},
	    {"https://github.com.evil.com/o/r", "only GitHub sources are supported"},
	    {"https://evil.com/github.com/o/r", "only GitHub sources are supported"},
	    {"https://user@github.com/o/r", "only GitHub sources are supported"},
	    {"ftp://github.com/o/r", "only GitHub sources are supported"},
	    {"ssh://git@github.com/o/r", "only GitHub sources are supported"},
	    {"https://github.com", "expected https://github.com/owner/repo"},
	    {"https://github.com/o", "expected https://github.com/owner/repo"},
	    {"https://github.com/o/r/issues/1", "unsupported GitHub URL"},
	    {"https://github.com/o/r/tree", "unsupported GitHub URL"},
	    {"https://github.com/o/r/blob/main", "unsupported GitHub URL"},
	    {"https://github.com/o/r/tree/main/%2e%2e/x", "invalid path component '..'"},
	    {"https://github.com/o/r/tree/main/a%2Fb", "invalid path component"},
	    {"https://github.com/o/r/tree/main/a%00b", "bad %-escape"},
	    {"https://github.com/o/r/tree/main/a%zz", "bad %-escape"},
	    {"https://github.com/o/r/tree/main/a%0ab", "bad %-escape"},
	    {"https://github.com/o%2F/r", "invalid owner"},
	};

	(void)state;
	assert_int_equal(sm_github_spec_parse(NULL, NULL, NULL), -EINVAL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sm_github_spec s = {.owner = (char *)"untouched"};
		struct strbuf err = STRBUF_INIT;
		int r = sm_github_spec_parse(cases[i].spec, &s, &err);

		if (r != -EINVAL || !strstr(err.buf, cases[i].msg))
			print_error("spec '%s': %d '%s'\n", cases[i].spec, r, err.buf);
		assert_int_equal(r, -EINVAL);
		assert_non_null(strstr(err.buf, cases[i].msg));
		assert_null(strchr(err.buf, '\n'));
		assert_string_equal(s.owner, "untouched");
		/* err may be NULL */
		assert_int_equal(sm_github_spec_parse(cases[i].spec, &s, NULL), -EINVAL);
		sm_strbuf_release(&err);
	}
}

static void test_is_github(void **state)
{
	(void)state;
	assert_true(sm_source_is_github("owner/repo"));
	assert_true(sm_source_is_github("owner/repo/x@v1"));
	assert_true(sm_source_is_github("https://github.com/o/r"));
	assert_true(sm_source_is_github("https://gitlab.com/o/r")); /* then rejected by parse */
	assert_false(sm_source_is_github("./x/y"));
	assert_false(sm_source_is_github("../x"));
	assert_false(sm_source_is_github("/abs/x"));
	assert_false(sm_source_is_github("x"));
	assert_false(sm_source_is_github(".hidden"));
	assert_false(sm_source_is_github(""));
	assert_false(sm_source_is_github(NULL));
}

/* ---------------------------------------------------------------- fetching */

static int fetch_spec(const char *spec, const char *token, struct sm_git_fetch *f,
		      struct strbuf *err)
{
	struct sm_github_spec s;
	int r = sm_github_spec_parse(spec, &s, err);

	assert_int_equal(r, 0);
	r = sm_git_fetch(&s, gh_base, token, f, err);
	sm_github_spec_release(&s);
	return r;
}

static void expect_upstream(const struct sm_git_fetch *f, const char *sha, const char *path)
{
	char want[512];

	snprintf(want, sizeof(want), "https://github.com/acme/tools/tree/%s%s%s", sha,
		 *path ? "/" : "", path);
	assert_string_equal(f->upstream, want);
}

static void release_and_check(struct sm_git_fetch *f)
{
	char *workdir = strdup(f->workdir);

	assert_non_null(workdir);
	sm_git_fetch_release(f);
	assert_null(f->workdir);
	assert_null(f->artifact_path);
	assert_null(f->upstream);
	assert_false(exists(workdir, ""));
	free(workdir);
	assert_true(dir_is_empty(tmpdir));
}

static void test_fetch_latest(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;

	(void)state;
	assert_int_equal(fetch_spec("acme/tools", NULL, &f, &err), 0);
	assert_string_equal(f.sha, sha_main);
	assert_string_equal(f.artifact_path, f.workdir);
	assert_int_equal(strncmp(f.workdir, tmpdir, strlen(tmpdir)), 0);
	assert_true(file_contains(f.artifact_path, "skills/demo/SKILL.md", "# Demo v2"));
	assert_true(exists(f.artifact_path, "skills/demo/extra.txt"));
	assert_true(exists(f.artifact_path, "commands/review.md"));
	assert_false(exists(f.artifact_path, "dev-only.md"));
	/* the artifact is the tree only: no git metadata in it */
	assert_false(exists(f.workdir, ".git"));
	expect_upstream(&f, sha_main, "");
	assert_null(f.resolved_version);
	/* the clone itself is gone already; only the checkout is left */
	{
		DIR *d = opendir(tmpdir);
		struct dirent *e;
		int n = 0;

		assert_non_null(d);
		while ((e = readdir(d)))
			n += e->d_name[0] != '.';
		closedir(d);
		assert_int_equal(n, 1);
	}
	release_and_check(&f);

	/* "latest" is case-insensitive */
	assert_int_equal(fetch_spec("acme/tools@LATEST", NULL, &f, &err), 0);
	assert_string_equal(f.sha, sha_main);
	release_and_check(&f);
	sm_strbuf_release(&err);
}

static void test_fetch_branch(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;

	(void)state;
	assert_int_equal(fetch_spec("acme/tools/dev-only.md@dev", NULL, &f, &err), 0);
	assert_string_equal(f.sha, sha_dev);
	assert_true(file_contains(f.workdir, "dev-only.md", "dev only"));
	assert_true(file_contains(f.artifact_path, "", "dev only"));
	assert_true(file_contains(f.workdir, "skills/demo/SKILL.md", "# Demo v1"));
	expect_upstream(&f, sha_dev, "dev-only.md");
	assert_null(f.resolved_version);
	release_and_check(&f);

	/* the default branch by name, through a URL */
	assert_int_equal(
	    fetch_spec("https://github.com/acme/tools/tree/main/commands", NULL, &f, &err), 0);
	assert_string_equal(f.sha, sha_main);
	assert_true(exists(f.artifact_path, "review.md"));
	expect_upstream(&f, sha_main, "commands");
	release_and_check(&f);
	sm_strbuf_release(&err);
}

static void test_fetch_tags(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;
	char want[600];

	(void)state;
	/* lightweight tag */
	assert_int_equal(fetch_spec("acme/tools/skills/demo@v1.0", NULL, &f, &err), 0);
	assert_string_equal(f.sha, sha_one);
	snprintf(want, sizeof(want), "%s/skills/demo", f.workdir);
	assert_string_equal(f.artifact_path, want);
	assert_true(file_contains(f.artifact_path, "SKILL.md", "# Demo v1"));
	assert_false(exists(f.artifact_path, "extra.txt"));
	expect_upstream(&f, sha_one, "skills/demo");
	assert_string_equal(f.resolved_version, "v1.0");
	release_and_check(&f);

	/* annotated tag: peeled to the commit, not the tag object */
	assert_int_equal(fetch_spec("https://github.com/acme/tools/blob/1.2.0/skills/demo/SKILL.md",
				    NULL, &f, &err),
			 0);
	assert_string_equal(f.sha, sha_main);
	assert_true(file_contains(f.artifact_path, "", "# Demo v2"));
	expect_upstream(&f, sha_main, "skills/demo/SKILL.md");
	assert_string_equal(f.resolved_version, "1.2.0");
	release_and_check(&f);
	sm_strbuf_release(&err);
}

static void test_fetch_sha(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;
	char spec[128];

	(void)state;
	/* 7 hex → the full SHA */
	snprintf(spec, sizeof(spec), "acme/tools/skills/demo@%.7s", sha_one);
	assert_int_equal(fetch_spec(spec, NULL, &f, &err), 0);
	assert_string_equal(f.sha, sha_one);
	assert_true(file_contains(f.artifact_path, "SKILL.md", "# Demo v1"));
	expect_upstream(&f, sha_one, "skills/demo");
	assert_null(f.resolved_version);
	release_and_check(&f);

	/* 40 hex of a commit only reachable from a branch */
	snprintf(spec, sizeof(spec), "acme/tools@%s", sha_dev);
	assert_int_equal(fetch_spec(spec, NULL, &f, &err), 0);
	assert_string_equal(f.sha, sha_dev);
	assert_true(exists(f.artifact_path, "dev-only.md"));
	release_and_check(&f);

	/* upper-case hex works too */
	snprintf(spec, sizeof(spec), "acme/tools@%.10s", sha_main);
	for (char *p = strchr(spec, '@'); *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(fetch_spec(spec, NULL, &f, &err), 0);
	assert_string_equal(f.sha, sha_main);
	release_and_check(&f);
	sm_strbuf_release(&err);
}

static void test_fetch_missing_version(void **state)
{
	static const char *const versions[] = {
	    "nope", "0000000",	 "0000000000000000000000000000000000000000",
	    "HEAD", "bad..name", "v9.9"};
	struct strbuf err = STRBUF_INIT;
	char spec[128], want[128];

	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct sm_git_fetch f = {.workdir = (char *)"untouched"};

		snprintf(spec, sizeof(spec), "acme/tools/skills/demo@%s", versions[i]);
		assert_int_equal(fetch_spec(spec, NULL, &f, &err), -ENOENT);
		snprintf(want, sizeof(want), "version '%s' not found in acme/tools", versions[i]);
		assert_string_equal(err.buf, want);
		assert_string_equal(f.workdir, "untouched");
		assert_true(dir_is_empty(tmpdir));
	}
	sm_strbuf_release(&err);
}

static void test_fetch_missing_path(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;
	char want[256];

	(void)state;
	assert_int_equal(fetch_spec("acme/tools/skills/none", NULL, &f, &err), -ENOENT);
	snprintf(want, sizeof(want), "path 'skills/none' not found in acme/tools at %.7s",
		 sha_main);
	assert_string_equal(err.buf, want);
	assert_true(dir_is_empty(tmpdir));

	/* exists on dev, not at v1.0 */
	assert_int_equal(fetch_spec("acme/tools/dev-only.md@v1.0", NULL, &f, &err), -ENOENT);
	snprintf(want, sizeof(want), "path 'dev-only.md' not found in acme/tools at %.7s", sha_one);
	assert_string_equal(err.buf, want);

	/* a file is not a folder */
	assert_int_equal(fetch_spec("acme/tools/commands/review.md/x", NULL, &f, &err), -ENOENT);
	assert_true(dir_is_empty(tmpdir));
	sm_strbuf_release(&err);
}

static void test_fetch_symlink_rejected(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;

	(void)state;
	assert_int_equal(fetch_spec("acme/tools/skills/link", NULL, &f, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "symbolic link"));
	/* and nothing is followed through it */
	assert_int_equal(fetch_spec("acme/tools/skills/link/review.md", NULL, &f, &err), -ENOENT);
	assert_true(dir_is_empty(tmpdir));
	sm_strbuf_release(&err);
}

static void test_fetch_missing_repo(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;

	(void)state;
	assert_true(fetch_spec("acme/nope", NULL, &f, &err) < 0);
	assert_int_equal(strncmp(err.buf, "cannot clone 'acme/nope': ", 26), 0);
	assert_true(err.len > 26);
	assert_null(strchr(err.buf, '\n'));
	assert_true(dir_is_empty(tmpdir));

	assert_int_equal(fetch_spec("acme/empty", NULL, &f, &err), -ENOENT);
	assert_string_equal(err.buf, "repository acme/empty has no commits");
	assert_true(dir_is_empty(tmpdir));
	sm_strbuf_release(&err);
}

static void test_fetch_base_url_and_token(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;
	char url[400];

	(void)state;
	/* a trailing slash on the base URL is fine; a token is not used for file:// */
	snprintf(url, sizeof(url), "file://%s/gh/", root);
	snprintf(gh_base, sizeof(gh_base), "%s", url);
	assert_int_equal(fetch_spec("acme/tools/commands/review.md@v1.0", "ghp_secret", &f, &err),
			 0);
	assert_string_equal(f.sha, sha_one);
	/* upstream always names github.com, wherever the clone came from */
	expect_upstream(&f, sha_one, "commands/review.md");
	release_and_check(&f);
	url[strlen(url) - 1] = '\0';
	snprintf(gh_base, sizeof(gh_base), "%s", url);
	sm_strbuf_release(&err);
}

static void test_fetch_bad_spec(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;
	struct sm_github_spec s = {.owner = (char *)"acme",
				   .repo = (char *)"tools",
				   .path = (char *)"../x",
				   .version = (char *)"latest"};

	(void)state;
	assert_int_equal(sm_git_fetch(&s, gh_base, NULL, &f, &err), -EINVAL);
	s.path = (char *)"/etc";
	assert_int_equal(sm_git_fetch(&s, gh_base, NULL, &f, &err), -EINVAL);
	s.path = (char *)"";
	s.repo = (char *)"..";
	assert_int_equal(sm_git_fetch(&s, gh_base, NULL, &f, &err), -EINVAL);
	assert_int_equal(sm_git_fetch(NULL, gh_base, NULL, &f, &err), -EINVAL);
	assert_true(dir_is_empty(tmpdir));
	sm_strbuf_release(&err);
}

static void test_fetch_tmpdir_unusable(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_git_fetch f;
	char bad[400];

	(void)state;
	snprintf(bad, sizeof(bad), "%s/does-not-exist", root);
	setenv("TMPDIR", bad, 1);
	assert_int_equal(fetch_spec("acme/tools", NULL, &f, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "cannot create a temporary folder"));
	setenv("TMPDIR", tmpdir, 1);
	sm_strbuf_release(&err);
}

/* Every allocation failure is -ENOMEM, leaks nothing and leaves nothing on disk. */
static void test_alloc_failures(void **state)
{
	static const char *const specs[] = {"o/r/a/b@v1", "https://github.com/o/r/tree/main/a%20b"};
	struct strbuf err = STRBUF_INIT;
	bool done = false;

	(void)state;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		done = false;
		for (long n = 0; n < 100 && !done; n++) {
			struct sm_github_spec s;
			int r;

			sm_alloc_fail_after(n);
			r = sm_github_spec_parse(specs[i], &s, &err);
			sm_alloc_fail_after(-1);
			if (r == 0) {
				sm_github_spec_release(&s);
				done = true;
			} else {
				assert_int_equal(r, -ENOMEM);
			}
		}
		assert_true(done);
	}

	done = false;
	for (long n = 0; n < 100 && !done; n++) {
		struct sm_github_spec s;
		struct sm_git_fetch f;
		int r;

		assert_int_equal(sm_github_spec_parse("acme/tools/skills/demo@v1.0", &s, &err), 0);
		sm_alloc_fail_after(n);
		r = sm_git_fetch(&s, gh_base, NULL, &f, &err);
		sm_alloc_fail_after(-1);
		sm_github_spec_release(&s);
		if (r == 0) {
			release_and_check(&f);
			done = true;
		} else {
			assert_int_equal(r, -ENOMEM);
			assert_true(dir_is_empty(tmpdir));
		}
	}
	assert_true(done);
	sm_strbuf_release(&err);
}

static void test_release_null(void **state)
{
	struct sm_git_fetch f = {0};

	(void)state;
	sm_git_fetch_release(NULL);
	sm_git_fetch_release(&f);
	sm_github_spec_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_is_github),
	    cmocka_unit_test(test_fetch_latest),
	    cmocka_unit_test(test_fetch_branch),
	    cmocka_unit_test(test_fetch_tags),
	    cmocka_unit_test(test_fetch_sha),
	    cmocka_unit_test(test_fetch_missing_version),
	    cmocka_unit_test(test_fetch_missing_path),
	    cmocka_unit_test(test_fetch_symlink_rejected),
	    cmocka_unit_test(test_fetch_missing_repo),
	    cmocka_unit_test(test_fetch_base_url_and_token),
	    cmocka_unit_test(test_fetch_bad_spec),
	    cmocka_unit_test(test_fetch_tmpdir_unusable),
	    cmocka_unit_test(test_alloc_failures),
	    cmocka_unit_test(test_release_null),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
