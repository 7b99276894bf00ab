/* SPDX-License-Identifier: MIT */
/*
 * The frontmatter writer: small cases with exact expected bytes, then every
 * artifact file of the shared corpus (LF and CRLF), each field set in turn
 * and all at once, read back with our reader (sm_metadata_extract_text),
 * body and untouched key lines byte-identical.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/artifact.h"
#include "skillmeat/frontmatter.h"
#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/metadata.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

static const char *const tricky[] = {
    "yes",	       "null",		  "1.0",	   "a: b",	     "x #y",
    "- leading dash",  "Ünïcode — dash", "q \" ' \\ end", "~",	     "[not a list]",
    "{x}",	       "@at",		  "%pct",	   "line\nbreak",    "tab\there",
    "  padded  ",      "010",		  "2024-01-01",	   "on",	     "plain words here",
    "ends in colon:",  "&anchor",	  "*alias",	   "!tag",	     "|pipe",
    ">fold",	       "`tick",		  "0x1F",	   ".inf",	     "<<",
    "=",	       "NO",		  "#hash",	   "'single'",	     "\"double\"",
    "bell\x07nul-free", "nel\xc2\x85x",	  "ls\xe2\x80\xa8x", "?q",	     "Off",
};

static const char *const tag_sets[][3] = {
    {"python", "yes", NULL},
    {"a: b", "1.0", "x, y"},
    {"kubernetes", NULL, NULL},
    {"[x]", "null", "#c"},
};
static const char *const tool_sets[][3] = {
    {"Read", "Write", "Bash"},
    {"Grep", NULL, NULL},
    {"WebFetch", "Task", NULL},
};

static size_t count(const char *const *v, size_t max)
{
	size_t n = 0;

	while (n < max && v[n])
		n++;
	return n;
}

static void edit_ok(const char *in, const struct sm_fm_edit *ed, enum sm_artifact_type type,
		    const char *want)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r = sm_frontmatter_edit(in, strlen(in), type, ed, &out, &err);

	if (r < 0)
		fprintf(stderr, "error: %s\n", err.buf);
	assert_int_equal(r, 0);
	if (strcmp(out.buf, want))
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", out.buf, want);
	assert_string_equal(out.buf, want);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

static void test_cases(void **state)
{
	struct sm_fm_edit ed = {0};
	const char *tags[] = {"a", "b c"};
	const char *tools[] = {"Read", "Bash"};

	(void)state;
	ed.f[SM_FM_DESCRIPTION] = (struct sm_fm_value){.set = true, .str = "new"};
	/* comments, order, quoting and CRLF of other keys kept; trailing comment kept */
	edit_ok("---\r\nname: x\r\n# c\r\ndescription: 'old' # note\r\nmodel: \"m\"\r\n---\r\nbody\r\n",
		&ed, SM_TYPE_AGENT,
		"---\r\nname: x\r\n# c\r\ndescription: 'new' # note\r\nmodel: \"m\"\r\n---\r\nbody\r\n");
	/* a folded multi-line value replaced whole */
	edit_ok("---\nname: x\ndescription: >\n  one\n  two\n\nmodel: m\n---\n", &ed, SM_TYPE_AGENT,
		"---\nname: x\ndescription: new\n\nmodel: m\n---\n");
	/* no block: one is added, the text follows unchanged */
	edit_ok("# Title\n\ntext\n", &ed, SM_TYPE_SKILL,
		"---\ndescription: new\n---\n# Title\n\ntext\n");
	edit_ok("\xef\xbb\xbf# T\r\n", &ed, SM_TYPE_SKILL,
		"\xef\xbb\xbf---\r\ndescription: new\r\n---\r\n# T\r\n");
	/* quoting what YAML would read as something else */
	ed.f[SM_FM_DESCRIPTION].str = "yes";
	edit_ok("---\ndescription: x\n---\n", &ed, SM_TYPE_SKILL, "---\ndescription: \"yes\"\n---\n");
	ed.f[SM_FM_DESCRIPTION].str = "a: b # c";
	edit_ok("---\ndescription: x\n---\n", &ed, SM_TYPE_SKILL,
		"---\ndescription: \"a: b # c\"\n---\n");
	/* removal */
	ed.f[SM_FM_DESCRIPTION].str = NULL;
	edit_ok("---\nname: n\ndescription: x\nmodel: m\n---\nb\n", &ed, SM_TYPE_SKILL,
		"---\nname: n\nmodel: m\n---\nb\n");

	/* lists keep their style */
	memset(&ed, 0, sizeof(ed));
	ed.f[SM_FM_TAGS] = (struct sm_fm_value){.set = true, .items = tags, .n_items = 2};
	edit_ok("---\ntags:\n  - x\n  - y\nname: n\n---\n", &ed, SM_TYPE_SKILL,
		"---\ntags:\n  - a\n  - b c\nname: n\n---\n");
	edit_ok("---\ntags: [x]\n---\n", &ed, SM_TYPE_SKILL, "---\ntags: [a, b c]\n---\n");
	edit_ok("---\ntags: x, y\n---\n", &ed, SM_TYPE_SKILL, "---\ntags: a, b c\n---\n");
	edit_ok("---\nname: n\n---\n", &ed, SM_TYPE_SKILL, "---\nname: n\ntags: [a, b c]\n---\n");
	ed.f[SM_FM_TOOLS] = (struct sm_fm_value){.set = true, .items = tools, .n_items = 2};
	ed.f[SM_FM_TAGS].set = false;
	edit_ok("---\nname: n\n---\n", &ed, SM_TYPE_AGENT, "---\nname: n\ntools: [Read, Bash]\n---\n");
	edit_ok("---\nname: n\n---\n", &ed, SM_TYPE_SKILL,
		"---\nname: n\nallowed-tools: [Read, Bash]\n---\n");
	edit_ok("---\nallowed-tools: Read, Grep\n---\n", &ed, SM_TYPE_SKILL,
		"---\nallowed-tools: Read, Bash\n---\n");
	/* an empty set removes the key */
	ed.f[SM_FM_TOOLS].n_items = 0;
	edit_ok("---\nname: n\ntools: Read\n---\n", &ed, SM_TYPE_AGENT, "---\nname: n\n---\n");
}

static void test_refused(void **state)
{
	struct sm_fm_edit ed = {0};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	const char *bad = "---\nname: [x\n---\nbody\n";

	(void)state;
	ed.f[SM_FM_DESCRIPTION] = (struct sm_fm_value){.set = true, .str = "d"};
	assert_int_equal(sm_frontmatter_edit(bad, strlen(bad), SM_TYPE_SKILL, &ed, &out, &err),
			 -EBADMSG);
	assert_int_equal(out.len, 0);
	assert_true(err.len > 0);
	sm_strbuf_reset(&err);
	bad = "---\n- a\n- b\n---\n";
	assert_int_equal(sm_frontmatter_edit(bad, strlen(bad), SM_TYPE_SKILL, &ed, &out, &err),
			 -EBADMSG);
	sm_strbuf_reset(&err);
	ed.f[SM_FM_DESCRIPTION].str = "bad \xff utf-8";
	assert_int_equal(sm_frontmatter_edit("x\n", 2, SM_TYPE_SKILL, &ed, &out, &err), -EINVAL);
	assert_int_equal(out.len, 0);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

/* ---- the corpus ------------------------------------------------------------ */

static bool artifact_file(const char *rel, enum sm_artifact_type *type)
{
	const char *p;
	size_t n = strlen(rel);

	if (n < 3 || strcmp(rel + n - 3, ".md"))
		return false;
	if (n > 9 && (p = strstr(rel, "/skills/")) && !strcmp(rel + n - 9, "/SKILL.md") &&
	    strchr(p + 8, '/') == rel + n - 9) {
		*type = SM_TYPE_SKILL;
		return true;
	}
	if ((p = strstr(rel, "/agents/")) && !strchr(p + 8, '/')) {
		*type = SM_TYPE_AGENT;
		return true;
	}
	if ((p = strstr(rel, "/commands/")) && !strchr(p + 10, '/')) {
		*type = SM_TYPE_COMMAND;
		return true;
	}
	return false;
}

/* offset just after the closing delimiter line, or 0 */
static size_t body_start(const char *t, size_t n)
{
	const char *p = t;

	if (n < 4 || memcmp(t, "---", 3))
		return 0;
	p = memchr(t, '\n', n);
	while (p && (size_t)(p - t) + 1 < n) {
		const char *line = p + 1;
		const char *nl = memchr(line, '\n', n - (size_t)(line - t));

		if (!strncmp(line, "---", 3) &&
		    (line[3] == '\n' || line[3] == '\r' || line + 3 == t + n))
			return nl ? (size_t)(nl + 1 - t) : n;
		p = nl;
	}
	return 0;
}

static bool is_edited_key(const char *line, size_t len, const struct sm_fm_edit *ed)
{
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		static const char *const tools[] = {"tools", "allowed-tools", "allowedTools"};
		const char *keys1[] = {sm_fm_field_key((enum sm_fm_field)f)};
		const char *const *keys = f == SM_FM_TOOLS ? tools : keys1;
		size_t nk = f == SM_FM_TOOLS ? 3 : 1;

		if (!ed->f[f].set)
			continue;
		for (size_t k = 0; k < nk; k++) {
			size_t kl = strlen(keys[k]);

			if (len > kl && !memcmp(line, keys[k], kl) && line[kl] == ':')
				return true;
		}
	}
	return false;
}

struct stats {
	size_t files, edits, refused;
};

static void check_one(const char *rel, const char *text, size_t len, enum sm_artifact_type type,
		      const struct sm_fm_edit *ed, bool crlf, struct stats *st)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_metadata m = {0};
	size_t ob, nb, ls;
	int r;

	r = sm_frontmatter_edit(text, len, type, ed, &out, &err);
	if (r < 0) {
		fprintf(stderr, "%s%s: %s\n", rel, crlf ? " (CRLF)" : "", err.buf);
		st->refused++;
		goto done;
	}
	st->edits++;
	/* the body: the text after the frontmatter is byte-identical */
	ob = body_start(text, len);
	nb = body_start(out.buf, out.len);
	assert_true(nb > 0);
	assert_int_equal(out.len - nb, len - ob);
	assert_memory_equal(out.buf + nb, text + ob, len - ob);
	/* every other key line of the old block is still there, byte for byte */
	for (size_t i = 0; ob && i < ob; i = ls) {
		const char *nl = memchr(text + i, '\n', ob - i);
		size_t e = nl ? (size_t)(nl - text) + 1 : ob;

		ls = e;
		if ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z')) {
			if (!is_edited_key(text + i, e - i, ed) &&
			    !memmem(out.buf, nb, text + i, e - i)) {
				fprintf(stderr, "%s: lost line '%.*s'\n", rel, (int)(e - i),
					text + i);
				fail();
			}
		}
	}
	/* CRLF stays CRLF */
	if (crlf)
		for (size_t i = 0; i < out.len; i++)
			assert_true(out.buf[i] != '\n' || (i && out.buf[i - 1] == '\r'));
	/* our reader gives back what was set */
	assert_int_equal(sm_metadata_extract_text(out.buf, out.len, rel, &m, &err), 0);
	if (m.warning)
		fprintf(stderr, "%s: %s\n", rel, m.warning);
	assert_null(m.warning);
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++) {
		const struct sm_fm_value *v = &ed->f[f];
		const struct sm_toml_value *got;

		if (!v->set)
			continue;
		if (f == SM_FM_TAGS || f == SM_FM_TOOLS) {
			got = f == SM_FM_TAGS ? m.tags : sm_toml_get(m.table, "tools");
			assert_non_null(got);
			assert_int_equal(sm_toml_len(got), v->n_items);
			for (size_t i = 0; i < v->n_items; i++)
				assert_string_equal(sm_toml_str(sm_toml_at(got, i)), v->items[i]);
			continue;
		}
		got = sm_toml_get(m.table, sm_fm_field_key((enum sm_fm_field)f));
		if (!got || strcmp(sm_toml_str(got), v->str))
			fprintf(stderr, "%s: %s: got '%s' want '%s'\n", rel,
				sm_fm_field_key((enum sm_fm_field)f), got ? sm_toml_str(got) : "(none)",
				v->str);
		assert_non_null(got);
		assert_string_equal(sm_toml_str(got), v->str);
	}
done:
	sm_metadata_release(&m);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

static void to_crlf(const char *t, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '\n' && (!i || t[i - 1] != '\r'))
			assert_int_equal(sm_strbuf_addch(out, '\r'), 0);
		assert_int_equal(sm_strbuf_addch(out, t[i]), 0);
	}
}

static void test_corpus(void **state)
{
	const char *shared = getenv("SKILLMEAT_SHARED");
	struct strbuf root = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf crlf = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_fs_list list = {0};
	struct stats st = {0};
	size_t k = 0;

	(void)state;
	if (!shared)
		skip();
	assert_int_equal(sm_strbuf_addf(&root, "%s/corpus/wshobson-agents/plugins", shared), 0);
	assert_int_equal(sm_fs_walk(root.buf, &list, &err), 0);
	for (size_t i = 0; i < list.len; i++) {
		enum sm_artifact_type type;

		if (!artifact_file(list.items[i].rel, &type))
			continue;
		st.files++;
		sm_strbuf_reset(&path);
		sm_strbuf_reset(&text);
		sm_strbuf_reset(&crlf);
		assert_int_equal(sm_strbuf_addf(&path, "%s/%s", root.buf, list.items[i].rel), 0);
		assert_int_equal(sm_fs_read_file(path.buf, 16 << 20, &text, &err), 0);
		to_crlf(text.buf, text.len, &crlf);
		for (int f = 0; f <= SM_FM_FIELD_COUNT; f++) {
			struct sm_fm_edit ed = {0};
			size_t t = k % SM_ARRAY_SIZE(tag_sets), u = k % SM_ARRAY_SIZE(tool_sets);

			k++;
			/* f == SM_FM_FIELD_COUNT: every field at once */
			for (int g = 0; g < SM_FM_FIELD_COUNT; g++) {
				struct sm_fm_value *v = &ed.f[g];

				if (g != f && f != SM_FM_FIELD_COUNT)
					continue;
				v->set = true;
				if (g == SM_FM_TAGS) {
					v->items = tag_sets[t];
					v->n_items = count(tag_sets[t], 3);
				} else if (g == SM_FM_TOOLS) {
					v->items = tool_sets[u];
					v->n_items = count(tool_sets[u], 3);
				} else {
					v->str = tricky[(k + (size_t)g) % SM_ARRAY_SIZE(tricky)];
				}
			}
			check_one(list.items[i].rel, text.buf, text.len, type, &ed, false, &st);
			check_one(list.items[i].rel, crlf.buf, crlf.len, type, &ed, true, &st);
		}
	}
	printf("frontmatter corpus: %zu files, %zu edits checked, %zu refused\n", st.files,
	       st.edits, st.refused);
	assert_true(st.files > 300);
	assert_int_equal(st.refused, 0);
	sm_fs_list_release(&list);
	sm_strbuf_release(&root);
	sm_strbuf_release(&path);
	sm_strbuf_release(&text);
	sm_strbuf_release(&crlf);
	sm_strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
