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

#include "core/yaml_py.h"
#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/metadata.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

static char tmproot[1024];

static int make_tmproot(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmproot, sizeof(tmproot), "%s/sm-test-metadata-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmproot) ? 0 : -1;
}

static int drop_tmproot(void **state)
{
	(void)state;
	return sm_fs_remove_tree(tmproot, NULL);
}

/* The spec's §2.6 sample SKILL.md. */
static const char sample[] = "---\n"
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

/* Its [artifacts.metadata] as in the spec's §1.4 example. */
static const char sample_toml[] =
    "[metadata]\n"
    "description = \"Create visual designs on an HTML canvas\"\n"
    "author = \"Jane Doe\"\n"
    "license = \"MIT\"\n"
    "version = \"1.2.0\"\n"
    "tools = [\"Read\", \"Write\", \"Bash\"]\n"
    "[metadata.extra]\n"
    "frontmatter_tools = [\"Read\", \"Write\", \"Bash\", \"FooTool\"]\n"
    "unknown_tools = [\"FooTool\"]\n"
    "name = \"canvas-design\"\n"
    "model = \"sonnet\"\n"
    "user-invocable = true\n"
    "custom-key = \"hello\"\n"
    "[metadata.extra.frontmatter]\n"
    "name = \"canvas-design\"\n"
    "description = \"Create visual designs on an HTML canvas\"\n"
    "tools = [\"Read\", \"Write\", \"Bash\", \"FooTool\"]\n"
    "model = \"sonnet\"\n"
    "userInvocable = true\n"
    "author = \"Jane Doe\"\n"
    "license = \"MIT\"\n"
    "version = \"1.2.0\"\n"
    "tags = [\"design\", \"canvas\"]\n"
    "[metadata.extra.frontmatter.extra]\n"
    "custom-key = \"hello\"\n";

static struct sm_toml_value *parse(const char *toml)
{
	struct sm_toml_value *doc = NULL;
	struct strbuf err = STRBUF_INIT;

	if (sm_toml_parse_flags(toml, strlen(toml), SM_TOML_BIG_INTEGERS, &doc, &err) < 0)
		fail_msg("bad test TOML: %s", err.buf);
	sm_strbuf_release(&err);
	return doc;
}

static void extract(const char *text, struct sm_metadata *m)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(sm_metadata_extract_text(text, strlen(text), "test.md", m, &err), 0);
	assert_non_null(m->table);
	assert_non_null(m->tags);
	sm_strbuf_release(&err);
}

static void dump_mismatch(const struct sm_toml_value *got)
{
	struct sm_toml_value *root = sm_toml_new_table();
	struct strbuf out = STRBUF_INIT;

	if (root && sm_toml_set(root, "metadata", sm_toml_clone(got)) == 0 &&
	    sm_toml_encode(root, &out, NULL) == 0)
		fprintf(stderr, "got:\n%s", out.buf);
	sm_toml_free(root);
	sm_strbuf_release(&out);
}

/* m's table equals the [metadata] table of toml, in order */
static void assert_table(const struct sm_metadata *m, const char *toml)
{
	struct sm_toml_value *doc = parse(toml);
	const struct sm_toml_value *want = sm_toml_get(doc, "metadata");
	struct sm_toml_value *empty = sm_toml_new_table();
	bool eq = sm_toml_equal(m->table, want ? want : empty, true);

	if (!eq)
		dump_mismatch(m->table);
	sm_toml_free(doc);
	sm_toml_free(empty);
	assert_true(eq);
}

static void assert_tags(const struct sm_metadata *m, const char *toml_array)
{
	struct strbuf doc = STRBUF_INIT;
	struct sm_toml_value *v;

	assert_int_equal(sm_strbuf_addf(&doc, "tags = %s\n", toml_array), 0);
	v = parse(doc.buf);
	assert_true(sm_toml_equal(m->tags, sm_toml_get(v, "tags"), true));
	sm_toml_free(v);
	sm_strbuf_release(&doc);
}

static const struct sm_toml_value *path(const struct sm_metadata *m, const char *p)
{
	return sm_toml_get_path(m->table, p);
}

static void test_sample(void **state)
{
	struct sm_metadata m;

	(void)state;
	extract(sample, &m);
	assert_table(&m, sample_toml);
	assert_tags(&m, "[\"design\", \"canvas\"]");
	assert_null(m.warning);
	sm_metadata_release(&m);
}

static void test_description_fallback(void **state)
{
	struct sm_metadata m;
	struct strbuf text = STRBUF_INIT;
	const char *d;

	(void)state;
	/* first non-empty line not starting with '#', trimmed */
	extract("---\nname: x\n---\n\n# Title\n  #not either\n\n   First line.  \nSecond\n", &m);
	assert_string_equal(sm_toml_get_string(m.table, "description"), "First line.");
	sm_metadata_release(&m);

	/* no frontmatter at all: the whole text is the body */
	extract("# Only a title\n\nHello there\n", &m);
	assert_string_equal(sm_toml_get_string(m.table, "description"), "Hello there");
	assert_null(sm_toml_get(m.table, "extra"));
	sm_metadata_release(&m);

	/* cut to 200 characters, counted in code points */
	assert_int_equal(sm_strbuf_addstr(&text, "---\nname: x\n---\n"), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(sm_strbuf_addstr(&text, "\xc3\xa9"), 0);
	extract(text.buf, &m);
	d = sm_toml_get_string(m.table, "description");
	assert_non_null(d);
	assert_int_equal(strlen(d), 400);
	sm_metadata_release(&m);
	sm_strbuf_release(&text);

	/* an empty frontmatter description falls back to the body too */
	extract("---\ndescription: ''\n---\nFrom the body\n", &m);
	assert_string_equal(sm_toml_get_string(m.table, "description"), "From the body");
	sm_metadata_release(&m);
}

static void test_tools(void **state)
{
	struct sm_metadata m;

	(void)state;
	extract(
	    "---\ntools: [bash, web-fetch, Multi_Edit, READ, FooTool, ' Grep ', TodoWrite]\n---\n",
	    &m);
	assert_table(&m, "[metadata]\n"
			 "tools = [\"Bash\", \"WebFetch\", \"MultiEdit\", \"Read\", \"Grep\", "
			 "\"TodoWrite\"]\n"
			 "[metadata.extra]\n"
			 "frontmatter_tools = [\"bash\", \"web-fetch\", \"Multi_Edit\", \"READ\", "
			 "\"FooTool\", \"Grep\", \"TodoWrite\"]\n"
			 "unknown_tools = [\"FooTool\"]\n"
			 "[metadata.extra.frontmatter]\n"
			 "tools = [\"bash\", \"web-fetch\", \"Multi_Edit\", \"READ\", \"FooTool\", "
			 "\"Grep\", \"TodoWrite\"]\n");
	sm_metadata_release(&m);

	/* only unknown tools: no tools key at all */
	extract("---\ntools: mcp__x__y\n---\nbody\n", &m);
	assert_null(sm_toml_get(m.table, "tools"));
	assert_non_null(path(&m, "extra.unknown_tools"));
	sm_metadata_release(&m);

	/* disallowed tools are normalised, unknown ones dropped */
	extract("---\ndisallowedTools: bash, nope, web_search\n---\nbody\n", &m);
	assert_table(&m, "[metadata]\n"
			 "description = \"body\"\n"
			 "[metadata.extra]\n"
			 "disallowedTools = \"bash, nope, web_search\"\n"
			 "[metadata.extra.frontmatter]\n"
			 "disallowedTools = [\"Bash\", \"WebSearch\"]\n");
	sm_metadata_release(&m);
}

static void test_yaml11_scalars(void **state)
{
	struct sm_metadata m;

	(void)state;
	extract("---\n"
		"version: 1.10\n"
		"a: yes\n"
		"b: No\n"
		"c: on\n"
		"d: OFF\n"
		"e: 0x1F\n"
		"f: 1_000\n"
		"g: 1:30\n"
		"h: 017\n"
		"i: 1e5\n"
		"j: .inf\n"
		"k: '123'\n"
		"l: 123456789012345678901234567890\n"
		"user-invocable: yes\n"
		"---\n",
		&m);
	assert_table(&m, "[metadata]\n"
			 "version = \"1.1\"\n"
			 "[metadata.extra]\n"
			 "a = true\nb = false\nc = true\nd = false\n"
			 "e = 31\nf = 1000\ng = 90\nh = 15\n"
			 "i = \"1e5\"\nj = inf\nk = \"123\"\n"
			 "l = 123456789012345678901234567890\n"
			 "user-invocable = true\n"
			 "[metadata.extra.frontmatter]\n"
			 "userInvocable = true\n"
			 "version = \"1.1\"\n"
			 "[metadata.extra.frontmatter.extra]\n"
			 "a = true\nb = false\nc = true\nd = false\n"
			 "e = 31\nf = 1000\ng = 90\nh = 15\n"
			 "i = \"1e5\"\nj = inf\nk = \"123\"\n"
			 "l = 123456789012345678901234567890\n");
	sm_metadata_release(&m);
}

static void test_dates(void **state)
{
	struct sm_metadata m;
	const struct sm_toml_value *v;

	(void)state;
	extract("---\n"
		"version: 2024-01-02\n"
		"created: 2024-01-02\n"
		"stamp: 2024-01-02 10:20:30.5\n"
		"zoned: 2024-01-02T10:20:30+02:00\n"
		"---\nbody\n",
		&m);
	assert_string_equal(sm_toml_get_string(m.table, "version"), "2024-01-02");
	v = path(&m, "extra.created");
	assert_non_null(v);
	assert_int_equal(v->type, SM_TOML_DATE_LOCAL);
	assert_int_equal(v->u.dt.year, 2024);
	assert_int_equal(v->u.dt.day, 2);
	v = path(&m, "extra.stamp");
	assert_int_equal(v->type, SM_TOML_DATETIME_LOCAL);
	assert_int_equal(v->u.dt.nanosecond, 500000000);
	v = path(&m, "extra.zoned");
	assert_int_equal(v->type, SM_TOML_DATETIME);
	assert_int_equal(v->u.dt.offset_minutes, 120);
	assert_string_equal(sm_toml_get_string(path(&m, "extra.frontmatter"), "version"),
			    "2024-01-02");
	sm_metadata_release(&m);

	/* an impossible date makes PyYAML raise: no frontmatter metadata, a warning */
	extract("---\nname: x\nwhen: 2024-02-30\n---\nBody\n", &m);
	assert_table(&m, "[metadata]\ndescription = \"Body\"\n");
	assert_non_null(m.warning);
	assert_non_null(strstr(m.warning, "test.md:3:"));
	sm_metadata_release(&m);
}

static void test_nulls(void **state)
{
	struct sm_metadata m;

	(void)state;
	/* S1: the original cannot write these; we leave them out */
	extract("---\nname: x\nfoo:\nmodel: ~\nlist: [1, null, 2]\nmap: {a: null, b: 1}\n---\n",
		&m);
	assert_table(&m, "[metadata]\n"
			 "[metadata.extra]\n"
			 "name = \"x\"\n"
			 "list = [1, 2]\n"
			 "[metadata.extra.frontmatter]\n"
			 "name = \"x\"\n"
			 "[metadata.extra.frontmatter.extra]\n"
			 "list = [1, 2]\n"
			 "[metadata.extra.frontmatter.extra.map]\n"
			 "b = 1\n"
			 "[metadata.extra.map]\n"
			 "b = 1\n");
	assert_null(m.warning);
	sm_metadata_release(&m);

	/* a null description is str(None) in the original, which it does write */
	extract("---\ndescription:\n---\nbody\n", &m);
	assert_string_equal(sm_toml_get_string(m.table, "description"), "None");
	sm_metadata_release(&m);

	/* only a null key: nothing at all */
	extract("---\nfoo:\n---\n", &m);
	assert_table(&m, "");
	sm_metadata_release(&m);
}

static void test_malformed(void **state)
{
	struct sm_metadata m;

	(void)state;
	extract("---\n"
		"name: broken\n"
		"description: \"Half a description\n"
		"tools: Read, Grep, Nope\n"
		"model: 'opus'\n"
		"color: blue\n"
		"---\n"
		"Body\n",
		&m);
	assert_non_null(m.warning);
	assert_non_null(strstr(m.warning, "test.md:"));
	assert_non_null(strstr(m.warning, "malformed frontmatter"));
	assert_non_null(strstr(m.warning, "started at line 3"));
	/* the line-by-line fallback of the original */
	assert_table(&m, "[metadata]\n"
			 "description = \"\\\"Half a description\"\n"
			 "tools = [\"Read\", \"Grep\"]\n"
			 "[metadata.extra]\n"
			 "frontmatter_tools = [\"Read\", \"Grep\"]\n"
			 "[metadata.extra.frontmatter]\n"
			 "name = \"broken\"\n"
			 "description = \"\\\"Half a description\"\n"
			 "tools = [\"Read\", \"Grep\"]\n"
			 "model = \"opus\"\n"
			 "[metadata.extra.frontmatter.extra]\n"
			 "color = \"blue\"\n");
	sm_metadata_release(&m);

	/* PyYAML rejects a tab between tokens where libyaml would not */
	extract("---\nname: a\t\ndescription: d\n---\n", &m);
	assert_non_null(m.warning);
	assert_non_null(strstr(m.warning, "test.md:2:"));
	sm_metadata_release(&m);
}

static void test_bom_crlf(void **state)
{
	struct sm_metadata m;

	(void)state;
	/* a BOM is fine for the first pass; the raw second pass then sees nothing */
	extract("\xef\xbb\xbf---\nname: bom\ndescription: with bom\n---\nbody\n", &m);
	assert_table(&m, "[metadata]\n"
			 "description = \"with bom\"\n"
			 "[metadata.extra.frontmatter]\n"
			 "name = \"bom\"\n"
			 "description = \"with bom\"\n");
	sm_metadata_release(&m);

	extract("---\r\nname: crlf\r\ndescription: d\r\nk: v\r\n---\r\nbody\r\n", &m);
	assert_table(&m, "[metadata]\n"
			 "description = \"d\"\n"
			 "[metadata.extra]\n"
			 "name = \"crlf\"\n"
			 "k = \"v\"\n"
			 "[metadata.extra.frontmatter]\n"
			 "name = \"crlf\"\n"
			 "description = \"d\"\n"
			 "[metadata.extra.frontmatter.extra]\n"
			 "k = \"v\"\n");
	sm_metadata_release(&m);
}

static void test_no_frontmatter_and_empty(void **state)
{
	struct sm_metadata m;

	(void)state;
	extract("", &m);
	assert_int_equal(sm_toml_len(m.table), 0);
	assert_int_equal(sm_toml_len(m.tags), 0);
	assert_null(m.warning);
	sm_metadata_release(&m);

	extract("   \n\n", &m);
	assert_int_equal(sm_toml_len(m.table), 0);
	sm_metadata_release(&m);

	/* an unclosed block is no frontmatter; the body starts at "---" */
	extract("---\nname: x\n", &m);
	assert_table(&m, "[metadata]\ndescription = \"---\"\n");
	sm_metadata_release(&m);

	/* not a mapping */
	extract("---\n- a\n- b\n---\nText\n", &m);
	assert_table(&m, "[metadata]\ndescription = \"Text\"\n");
	sm_metadata_release(&m);
}

static void test_tags_and_keys(void **state)
{
	struct sm_metadata m;

	(void)state;
	extract("---\ntags: a, b, a , ,c\n---\n", &m);
	assert_tags(&m, "[\"a\", \"b\", \"c\"]");
	sm_metadata_release(&m);

	extract("---\ntags: [1, 2.50, true, '', x]\n---\n", &m);
	assert_tags(&m, "[\"1\", \"2.5\", \"True\", \"x\"]");
	sm_metadata_release(&m);

	/* a key that is not a string makes the original's first pass fail */
	extract("---\nname: n\n1: one\n---\n", &m);
	assert_table(&m, "[metadata]\n[metadata.extra]\nname = \"n\"\n1 = \"one\"\n");
	sm_metadata_release(&m);

	/* str() of containers is Python's */
	extract("---\nname: [a, 1, {b: null}]\n---\n", &m);
	assert_string_equal(sm_toml_get_string(path(&m, "extra.frontmatter"), "name"),
			    "['a', 1, {'b': None}]");
	sm_metadata_release(&m);

	/* merge keys and anchors */
	extract("---\nbase: &b {x: 1, y: 2}\nmore:\n  <<: *b\n  y: 3\n---\n", &m);
	assert_table(&m, "[metadata]\n"
			 "[metadata.extra.frontmatter.extra.base]\nx = 1\ny = 2\n"
			 "[metadata.extra.frontmatter.extra.more]\nx = 1\ny = 3\n"
			 "[metadata.extra.base]\nx = 1\ny = 2\n"
			 "[metadata.extra.more]\nx = 1\ny = 3\n");
	sm_metadata_release(&m);
}

static void test_billion_laughs(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct sm_metadata m;

	(void)state;
	assert_int_equal(
	    sm_strbuf_addstr(&text, "---\nname: lol\na: &a [x, x, x, x, x, x, x, x, x, x]\n"), 0);
	for (char c = 'b'; c <= 'j'; c++)
		assert_int_equal(
		    sm_strbuf_addf(
			&text, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c,
			c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1),
		    0);
	assert_int_equal(sm_strbuf_addstr(&text, "---\nBody\n"), 0);
	extract(text.buf, &m);
	assert_non_null(m.warning);
	assert_non_null(strstr(m.warning, "alias expansion"));
	/* the fallback still reads the simple lines */
	assert_string_equal(sm_toml_get_string(path(&m, "extra.frontmatter"), "name"), "lol");
	sm_metadata_release(&m);
	sm_strbuf_release(&text);

	/* a cycle is the same */
	extract("---\na: &a [1, *a]\n---\n", &m);
	assert_non_null(m.warning);
	sm_metadata_release(&m);

	/* deep nesting */
	sm_strbuf_reset(&text);
	assert_int_equal(sm_strbuf_addstr(&text, "---\nx: "), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(sm_strbuf_addch(&text, '['), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(sm_strbuf_addch(&text, ']'), 0);
	assert_int_equal(sm_strbuf_addstr(&text, "\n---\n"), 0);
	extract(text.buf, &m);
	assert_non_null(m.warning);
	assert_non_null(strstr(m.warning, "nested too deeply"));
	sm_metadata_release(&m);
	sm_strbuf_release(&text);
}

static void test_invalid_utf8(void **state)
{
	struct sm_metadata m;

	(void)state;
	extract("---\nname: x\n---\nbad \xff byte\n", &m);
	assert_int_equal(sm_toml_len(m.table), 0);
	assert_non_null(m.warning);
	assert_non_null(strstr(m.warning, "test.md:4:"));
	sm_metadata_release(&m);
}

static void write_file(const char *rel, const char *content)
{
	struct strbuf p = STRBUF_INIT;
	int fd;

	assert_int_equal(sm_strbuf_addf(&p, "%s/%s", tmproot, rel), 0);
	fd = open(p.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	sm_strbuf_release(&p);
}

static void mkdir_rel(const char *rel)
{
	struct strbuf p = STRBUF_INIT;

	assert_int_equal(sm_strbuf_addf(&p, "%s/%s", tmproot, rel), 0);
	assert_int_equal(sm_fs_mkdir_p(p.buf, 0755, NULL), 0);
	sm_strbuf_release(&p);
}

static int find(const char *rel, enum sm_artifact_type type, struct strbuf *out)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	assert_int_equal(sm_strbuf_addf(&p, "%s/%s", tmproot, rel), 0);
	sm_strbuf_reset(out);
	r = sm_metadata_find_file(p.buf, type, out, NULL);
	sm_strbuf_release(&p);
	return r;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void test_files(void **state)
{
	struct strbuf out = STRBUF_INIT, p = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_metadata m;

	(void)state;
	mkdir_rel("skills/empty");
	mkdir_rel("skills/good");
	write_file("skills/good/SKILL.md", sample);
	write_file("skills/empty/skill.md", sample); /* wrong case: not used */
	mkdir_rel("agents/folder");
	write_file("agents/folder/b.md", "---\ndescription: b\n---\n");
	write_file("agents/folder/a.md", "---\ndescription: a\n---\n");
	write_file("agents/one.md", "---\ndescription: one\n---\n");
	write_file("agents/one.txt", "---\ndescription: txt\n---\n");
	mkdir_rel("commands/c");
	write_file("commands/c/x.md", "");
	write_file("commands/c/command.md", "");

	assert_int_equal(find("skills/empty", SM_TYPE_SKILL, &out), 0);
	assert_int_equal(find("skills/good", SM_TYPE_SKILL, &out), 1);
	assert_true(ends_with(out.buf, "/skills/good/SKILL.md"));
	assert_int_equal(find("agents/folder", SM_TYPE_AGENT, &out), 1);
	assert_true(ends_with(out.buf, "/agents/folder/a.md"));
	assert_int_equal(find("agents/one.md", SM_TYPE_AGENT, &out), 1);
	assert_int_equal(find("agents/one.txt", SM_TYPE_AGENT, &out), 0);
	assert_int_equal(find("commands/c", SM_TYPE_COMMAND, &out), 1);
	assert_true(ends_with(out.buf, "/commands/c/command.md"));
	assert_int_equal(find("skills/good", SM_TYPE_HOOK, &out), 0);

	/* a skill folder without SKILL.md: empty metadata, no error */
	assert_int_equal(sm_strbuf_addf(&p, "%s/skills/empty", tmproot), 0);
	assert_int_equal(sm_metadata_extract(p.buf, SM_TYPE_SKILL, &m, &err), 0);
	assert_int_equal(sm_toml_len(m.table), 0);
	assert_int_equal(sm_toml_len(m.tags), 0);
	sm_metadata_release(&m);

	sm_strbuf_reset(&p);
	assert_int_equal(sm_strbuf_addf(&p, "%s/skills/good", tmproot), 0);
	assert_int_equal(sm_metadata_extract(p.buf, SM_TYPE_SKILL, &m, &err), 0);
	assert_table(&m, sample_toml);
	sm_metadata_release(&m);

	sm_strbuf_reset(&p);
	assert_int_equal(sm_strbuf_addf(&p, "%s/skills/gone", tmproot), 0);
	assert_int_equal(sm_metadata_extract(p.buf, SM_TYPE_SKILL, &m, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "skills/gone"));

	sm_strbuf_release(&out);
	sm_strbuf_release(&p);
	sm_strbuf_release(&err);
}

static void test_alloc_failure(void **state)
{
	bool done = false;

	(void)state;
	for (long n = 0; !done && n < 100000; n++) {
		struct sm_metadata m = {0};
		int r;

		sm_alloc_fail_after(n);
		r = sm_metadata_extract_text(sample, strlen(sample), "test.md", &m, NULL);
		sm_alloc_fail_after(-1);
		if (r == 0) {
			assert_table(&m, sample_toml);
			done = true;
		} else {
			assert_int_equal(r, -ENOMEM);
		}
		sm_metadata_release(&m);
	}
	assert_true(done);
}

/* !!binary goes through the one base64 codec with base64.decodebytes' leniency */
static void test_yaml_binary(void **state)
{
	static const struct {
		const char *doc, *bytes;
	} ok[] = {
	    {"x: !!binary aGVsbG8=\n", "hello"},
	    {"x: !!binary |\n  aGVs\n  bG8=\n", "hello"},
	    {"x: !!binary aGVs*bG8=\n", "hello"}, /* non-alphabet bytes skipped */
	    {"x: !!binary aGk=trailing\n", "hi"},  /* stops after the padding */
	    {"x: !!binary ''\n", ""},
	};
	static const char *const bad[] = {"x: !!binary aGVsbG8\n", "x: !!binary a\n"};

	(void)state;
	for (size_t i = 0; i < SM_ARRAY_SIZE(ok); i++) {
		struct sm_yaml_py_doc *doc = NULL;
		struct sm_yaml_py_error e;
		const struct sm_ypy *x;

		assert_int_equal(sm_yaml_py_load(ok[i].doc, strlen(ok[i].doc), &doc, &e), 0);
		x = sm_ypy_map_get(sm_yaml_py_root(doc), "x");
		assert_non_null(x);
		assert_int_equal(x->type, SM_YPY_BYTES);
		assert_int_equal(x->u.s.len, strlen(ok[i].bytes));
		assert_memory_equal(x->u.s.ptr, ok[i].bytes, x->u.s.len);
		sm_yaml_py_doc_free(doc);
	}
	for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++) {
		struct sm_yaml_py_doc *doc = NULL;
		struct sm_yaml_py_error e;

		assert_int_equal(sm_yaml_py_load(bad[i], strlen(bad[i]), &doc, &e), -EBADMSG);
		assert_string_equal(e.msg, "failed to decode base64 data");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_description_fallback),
	    cmocka_unit_test(test_tools),
	    cmocka_unit_test(test_yaml11_scalars),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_nulls),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_bom_crlf),
	    cmocka_unit_test(test_no_frontmatter_and_empty),
	    cmocka_unit_test(test_tags_and_keys),
	    cmocka_unit_test(test_billion_laughs),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_alloc_failure),
	    cmocka_unit_test(test_yaml_binary),
	};

	return cmocka_run_group_tests(tests, make_tmproot, drop_tmproot);
}
