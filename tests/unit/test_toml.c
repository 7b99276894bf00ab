/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

static struct sm_toml_value *parse_ok(const char *src)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_toml_value *root = NULL;
	int r = sm_toml_parse(src, strlen(src), &root, &err);

	if (r < 0)
		fail_msg("parse failed: %s\n--- input ---\n%s", err.buf, src);
	sm_strbuf_release(&err);
	return root;
}

/* Parse must fail with -EBADMSG and a message starting with prefix. */
static void parse_fails(const char *src, const char *prefix)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_toml_value *root = NULL;

	assert_int_equal(sm_toml_parse(src, strlen(src), &root, &err), -EBADMSG);
	assert_null(root);
	if (prefix && strncmp(err.buf, prefix, strlen(prefix)) != 0)
		fail_msg("error '%s' does not start with '%s'", err.buf, prefix);
	assert_null(strchr(err.buf, '\n'));
	sm_strbuf_release(&err);
}

static char *encode(const struct sm_toml_value *root)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(sm_toml_encode(root, &out, &err), 0);
	sm_strbuf_release(&err);
	return sm_strbuf_detach(&out, NULL);
}

static void assert_encodes(const struct sm_toml_value *root, const char *expected)
{
	char *s = encode(root);

	assert_string_equal(s, expected);
	sm_free(s);
}

/* decode(src) encodes to exactly expected (src itself when expected is NULL) */
static void assert_reencodes(const char *src, const char *expected)
{
	struct sm_toml_value *root = parse_ok(src);

	assert_encodes(root, expected ? expected : src);
	sm_toml_free(root);
}

static void test_scalars(void **state)
{
	struct sm_toml_value *root;

	(void)state;
	root = parse_ok("s = \"a\\tb\\u00e9\\U0001F600\\\\\"\n"
			"l = 'C:\\path'\n"
			"ml = \"\"\"\nline1\\\n    line2\"\"\"\n"
			"mll = '''\nraw\\n'''\n"
			"i = 1_000\nh = 0xdead_BEEF\no = 0o755\nb = 0b1010\n"
			"min = -9223372036854775808\nmax = 9223372036854775807\n"
			"f = 6.626e-34\nf2 = -1_0.5\ninf = -inf\nnan = nan\n"
			"t = true\nff = false\n"
			"odt = 1979-05-27T07:32:00.999Z\nodt2 = 1979-05-27 00:32:00-07:30\n"
			"ldt = 1979-05-27T07:32:00\nld = 1979-05-27\nlt = 07:32:00.123456789\n");
	assert_string_equal(sm_toml_get_string(root, "s"), "a\tb\xc3\xa9\xf0\x9f\x98\x80\\");
	assert_string_equal(sm_toml_get_string(root, "l"), "C:\\path");
	assert_string_equal(sm_toml_get_string(root, "ml"), "line1line2");
	assert_string_equal(sm_toml_get_string(root, "mll"), "raw\\n");
	{
		int64_t i;
		bool b;

		assert_true(sm_toml_get_int(root, "i", &i));
		assert_int_equal(i, 1000);
		assert_true(sm_toml_get_int(root, "h", &i));
		assert_int_equal(i, 0xdeadbeef);
		assert_true(sm_toml_get_int(root, "o", &i));
		assert_int_equal(i, 0755);
		assert_true(sm_toml_get_int(root, "b", &i));
		assert_int_equal(i, 10);
		assert_true(sm_toml_get_int(root, "min", &i));
		assert_true(i == INT64_MIN);
		assert_true(sm_toml_get_int(root, "max", &i));
		assert_true(i == INT64_MAX);
		assert_false(sm_toml_get_int(root, "s", &i));
		assert_true(sm_toml_get_bool(root, "t", &b));
		assert_true(b);
		assert_true(sm_toml_get_bool(root, "ff", &b));
		assert_false(b);
		assert_false(sm_toml_get_bool(root, "missing", &b));
	}
	assert_true(sm_toml_get(root, "f")->u.f == 6.626e-34);
	assert_true(sm_toml_get(root, "f2")->u.f == -10.5);
	assert_true(isinf(sm_toml_get(root, "inf")->u.f) && sm_toml_get(root, "inf")->u.f < 0);
	assert_true(isnan(sm_toml_get(root, "nan")->u.f));
	{
		const struct sm_toml_value *v = sm_toml_get(root, "odt");

		assert_int_equal(v->type, SM_TOML_DATETIME);
		assert_int_equal(v->u.dt.year, 1979);
		assert_int_equal(v->u.dt.nanosecond, 999000000);
		assert_int_equal(v->u.dt.frac_digits, 3);
		assert_true(v->u.dt.offset_z);
		v = sm_toml_get(root, "odt2");
		assert_int_equal(v->u.dt.offset_minutes, -450);
		assert_int_equal(sm_toml_get(root, "ldt")->type, SM_TOML_DATETIME_LOCAL);
		assert_int_equal(sm_toml_get(root, "ld")->type, SM_TOML_DATE_LOCAL);
		v = sm_toml_get(root, "lt");
		assert_int_equal(v->type, SM_TOML_TIME_LOCAL);
		assert_int_equal(v->u.dt.nanosecond, 123456789);
	}
	assert_string_equal(sm_toml_type_name(sm_toml_get(root, "lt")->type), "time-local");
	sm_toml_free(root);
}

static void test_tables_and_order(void **state)
{
	struct sm_toml_value *root = parse_ok("z = 1\n"
					      "a.b.c = 2\n"
					      "[t]\n"
					      "y = 1\n"
					      "x = 2\n"
					      "[[arr]]\n"
					      "n = 1\n"
					      "[arr.sub]\n"
					      "k = 'v'\n"
					      "[[arr]]\n"
					      "n = 2\n"
					      "[settings]\n"
					      "default-collection = \"main\"\n"
					      "inl = { p = 1, q.r = [1, 2, ] }\n");
	struct sm_toml_value *t, *arr;

	(void)state;
	assert_string_equal(root->u.tab.items[0].key, "z");
	assert_string_equal(root->u.tab.items[1].key, "a");
	assert_string_equal(root->u.tab.items[2].key, "t");
	t = sm_toml_get(root, "t");
	assert_string_equal(t->u.tab.items[0].key, "y");
	assert_string_equal(t->u.tab.items[1].key, "x");
	assert_int_equal(sm_toml_get_path(root, "a.b.c")->u.i, 2);
	assert_string_equal(sm_toml_get_path(root, "settings.default-collection")->u.str.ptr,
			    "main");
	assert_null(sm_toml_get_path(root, "settings.nope"));
	assert_null(sm_toml_get_path(root, "z.x"));
	arr = sm_toml_get(root, "arr");
	assert_int_equal(arr->type, SM_TOML_ARRAY);
	assert_int_equal(arr->u.arr.len, 2);
	assert_string_equal(sm_toml_get_path(arr->u.arr.items[0], "sub.k")->u.str.ptr, "v");
	assert_int_equal(sm_toml_get_path(root, "settings.inl.q.r")->u.arr.len, 2);
	assert_null(sm_toml_get(sm_toml_get(root, "z"), "x")); /* not a table */
	sm_toml_free(root);
}

static void test_edit_api(void **state)
{
	struct sm_toml_value *t = sm_toml_new_table(), *c, *arr, *v;

	(void)state;
	assert_int_equal(sm_toml_set(t, "b", sm_toml_new_int(1)), 0);
	assert_int_equal(sm_toml_set(t, "a", sm_toml_new_int(2)), 0);
	assert_int_equal(sm_toml_set_string(t, "c", "x"), 0);
	assert_int_equal(sm_toml_set(t, "b", sm_toml_new_int(3)), 0); /* keeps its place */
	assert_string_equal(t->u.tab.items[0].key, "b");
	assert_int_equal(t->u.tab.items[0].value->u.i, 3);
	assert_int_equal(t->u.tab.len, 3);
	assert_int_equal(sm_toml_setn(t, "n\0ul", 4, sm_toml_new_bool(true)), 0);
	assert_non_null(sm_toml_getn(t, "n\0ul", 4));
	assert_null(sm_toml_get(t, "n"));

	c = sm_toml_clone(t);
	assert_true(sm_toml_equal(t, c, true));
	assert_int_equal(sm_toml_remove(t, "a"), 0);
	assert_int_equal(sm_toml_remove(t, "a"), -ENOENT);
	assert_false(sm_toml_equal(t, c, false));
	assert_string_equal(t->u.tab.items[1].key, "c");
	v = sm_toml_take(c, "a");
	assert_non_null(v);
	assert_int_equal(v->u.i, 2);
	assert_true(sm_toml_equal(t, c, true));
	sm_toml_free(v);
	assert_null(sm_toml_take(c, "a"));

	/* ordered vs unordered equality */
	assert_int_equal(sm_toml_set(c, "zz", sm_toml_new_int(1)), 0);
	assert_int_equal(sm_toml_set(t, "zz", sm_toml_new_int(1)), 0);
	v = sm_toml_take(t, "b");
	assert_int_equal(sm_toml_set(t, "b", v), 0);
	assert_false(sm_toml_equal(t, c, true));
	assert_true(sm_toml_equal(t, c, false));

	arr = sm_toml_new_array();
	assert_int_equal(sm_toml_push(arr, sm_toml_new_string("x")), 0);
	assert_int_equal(sm_toml_push(arr, sm_toml_new_float(1.5)), 0);
	assert_int_equal(sm_toml_push(arr, sm_toml_new_table()), 0);
	assert_int_equal(sm_toml_array_remove(arr, 0), 0);
	assert_int_equal(sm_toml_array_remove(arr, 5), -ENOENT);
	assert_int_equal(arr->u.arr.len, 2);
	assert_true(arr->u.arr.items[0]->u.f == 1.5);
	assert_int_equal(sm_toml_set(t, "arr", arr), 0);

	/* errors take ownership too */
	assert_int_equal(sm_toml_set(arr, "k", sm_toml_new_int(1)), -EINVAL);
	assert_int_equal(sm_toml_push(t, sm_toml_new_int(1)), -EINVAL);
	assert_int_equal(sm_toml_set(t, "k", NULL), -ENOMEM);
	assert_int_equal(sm_toml_remove(arr, "k"), -EINVAL);
	assert_null(sm_toml_get(NULL, "k"));
	assert_null(sm_toml_new_datetime(SM_TOML_STRING, &(struct sm_toml_datetime){0}));
	sm_toml_free(t);
	sm_toml_free(c);
	sm_toml_free(NULL);
}

static void test_big_table_index(void **state)
{
	struct strbuf src = STRBUF_INIT;
	struct sm_toml_value *root, *entries;
	char key[64];

	(void)state;
	assert_int_equal(sm_strbuf_addstr(&src, "[lock]\nversion = \"1.0.0\"\n"), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(sm_strbuf_addf(&src,
						"\n[lock.entries.\"a%d::skill\"]\n"
						"content_hash = \"%064d\"\n",
						i, i),
				 0);
	root = parse_ok(src.buf);
	entries = sm_toml_get_path(root, "lock.entries");
	assert_int_equal(entries->u.tab.len, 5000);
	for (int i = 0; i < 5000; i += 7) {
		snprintf(key, sizeof(key), "a%d::skill", i);
		assert_non_null(sm_toml_get(entries, key));
	}
	assert_int_equal(sm_toml_remove(entries, "a10::skill"), 0);
	assert_null(sm_toml_get(entries, "a10::skill"));
	assert_non_null(sm_toml_get(entries, "a11::skill"));
	assert_int_equal(sm_toml_set(entries, "new", sm_toml_new_table()), 0);
	assert_non_null(sm_toml_get(entries, "new"));
	assert_string_equal(entries->u.tab.items[4999].key, "new");
	assert_string_equal(entries->u.tab.items[10].key, "a11::skill");
	/* the index follows removals, takes and re-adds */
	for (int i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "a%d::skill", i);
		if (i != 10)
			assert_int_equal(sm_toml_remove(entries, key), 0);
	}
	for (int i = 1; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "a%d::skill", i);
		assert_non_null(sm_toml_get(entries, key));
		snprintf(key, sizeof(key), "a%d::skill", i - 1);
		assert_null(sm_toml_get(entries, key));
	}
	for (int i = 1; i < 40; i += 2) {
		struct sm_toml_value *v;

		snprintf(key, sizeof(key), "a%d::skill", i);
		v = sm_toml_take(entries, key);
		assert_non_null(v);
		assert_int_equal(sm_toml_set(entries, key, v), 0);
		assert_ptr_equal(sm_toml_get(entries, key), v);
	}
	assert_int_equal(entries->u.tab.len, 2501);
	/* a duplicate among many keys is still found */
	assert_int_equal(sm_strbuf_addstr(&src, "\n[lock.entries.\"a4321::skill\"]\n"), 0);
	parse_fails(src.buf, "line 15004, column 1: table 'a4321::skill' is already defined");
	sm_toml_free(root);
	sm_strbuf_release(&src);
}

static void test_errors(void **state)
{
	(void)state;
	parse_fails("a = 1\nb = \n", "line 2, column 5: expected a value");
	parse_fails("a = 1\na = 2\n", "line 2, column 1: duplicate key 'a'");
	parse_fails("x = \"h\xc3\xa9llo\" junk\n", "line 1, column 13: expected end of line");
	parse_fails("a = \"\xff\"\n", "line 1, column 6: invalid UTF-8");
	parse_fails("a = \"x\x01\"\n", "line 1, column 7: control character 0x01");
	parse_fails("# c\x7f\n", "line 1, column 4: control character");
	parse_fails("a = 1\r\nb = 2\r", "line 2, column 6: ");
	parse_fails("a = 01\n", "line 1, column 5: leading zeros");
	parse_fails("a = 9223372036854775808\n", "line 1, column 5: integer out of range");
	parse_fails("a = 1__0\n", NULL);
	parse_fails("a = 1.\n", NULL);
	parse_fails("a = .1\n", NULL);
	parse_fails("a = 1e\n", NULL);
	parse_fails("a = +0x1\n", NULL);
	parse_fails("a = 1979-02-29\n", "line 1, column 5: date out of range");
	parse_fails("a = 24:00:00\n", NULL);
	parse_fails("a = 1979-05-27T07:32\n", NULL);
	parse_fails("a = \"\\x41\"\n", "line 1, column 6: invalid escape");
	parse_fails("a = \"\\uD800\"\n", NULL);
	parse_fails("a = '''x''''''\n", NULL);
	parse_fails("a = { b = 1, }\n", NULL);
	parse_fails("a = { b = 1\n}\n", NULL);
	parse_fails("a = [1 2]\n", NULL);
	parse_fails("\"\"\"k\"\"\" = 1\n", NULL);
	parse_fails("a = truee\n", NULL);
	parse_fails("\"x\\ny\" = 1\n\"x\\ny\" = 2\n", "line 2, column 1: duplicate key 'x?y'");
	/* redefinitions */
	parse_fails("[a]\n[a]\n", "line 2, column 1: table 'a' is already defined");
	parse_fails("[a.b]\n[a]\nb = 1\n", NULL);
	parse_fails("a = {}\n[a]\n", NULL);
	parse_fails("a = {b = 1}\na.c = 2\n", NULL);
	parse_fails("a = {b = {c = 1}, b.d = 2}\n", NULL);
	parse_fails("a.b = 1\n[a]\n", NULL);
	parse_fails("[a]\nb.c = 1\n[a.b]\n", NULL);
	parse_fails("[a.b]\nx = 1\n[a]\nb.y = 2\n", NULL);
	parse_fails("a = []\n[[a]]\n", NULL);
	parse_fails("[[a]]\n[a]\n", NULL);
	parse_fails("[a]\n[[a]]\n", NULL);
	parse_fails("a = [{}]\n[a.b]\n", NULL);
	parse_fails("a = 1\n[a.b]\n", NULL);
	parse_fails("a = 1\na.b = 2\n", NULL);
	/* ... and what stays allowed */
	sm_toml_free(parse_ok("[a.b.c]\n[a]\nb.d = 1\n"));
	sm_toml_free(parse_ok("[a]\nb.c = 1\n[a.b.d]\n"));
	sm_toml_free(parse_ok("[a.b]\n[a]\n"));
	sm_toml_free(parse_ok("[[a]]\n[a.b]\n[[a]]\n[a.b]\n"));
	sm_toml_free(parse_ok("a = {b.c = 1, b.d = 2}\n"));
	sm_toml_free(parse_ok("\xef\xbb\xbf"
			      "a = 1\r\n# c\r\n"));
	sm_toml_free(parse_ok(""));
	{
		struct sm_toml_value *root = NULL;

		assert_int_equal(sm_toml_parse(NULL, 0, &root, NULL), 0);
		assert_int_equal(root->u.tab.len, 0);
		sm_toml_free(root);
		assert_int_equal(sm_toml_parse(NULL, 1, &root, NULL), -EINVAL);
		assert_int_equal(sm_toml_parse("a", 1, &root, NULL), -EBADMSG);
	}
}

static void test_long_key_message(void **state)
{
	struct strbuf src = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_toml_value *root = NULL;

	(void)state;
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 1000; j++)
			assert_int_equal(sm_strbuf_addch(&src, 'k'), 0);
		assert_int_equal(sm_strbuf_addstr(&src, " = 1\n"), 0);
	}
	assert_int_equal(sm_toml_parse(src.buf, src.len, &root, &err), -EBADMSG);
	assert_true(err.len < 300);
	assert_string_equal(err.buf + err.len - 3, "...");
	sm_strbuf_release(&src);
	sm_strbuf_release(&err);
}

static void test_deep_nesting(void **state)
{
	struct strbuf src = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_strbuf_addstr(&src, "a = "), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(sm_strbuf_addch(&src, '['), 0);
	parse_fails(src.buf, "line 1, column ");
	sm_strbuf_release(&src);
}


/* n copies of unit, then tail, as a NUL-terminated heap string */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(sm_strbuf_addstr(&sb, head), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sm_strbuf_addstr(&sb, unit), 0);
	assert_int_equal(sm_strbuf_addstr(&sb, tail), 0);
	return sm_strbuf_detach(&sb, NULL);
}

/* src parses, and encodes to something that parses to an equal tree */
static void depth_ok(char *src)
{
	struct sm_toml_value *root = parse_ok(src), *back, *c;
	char *out = encode(root);

	back = parse_ok(out);
	assert_true(sm_toml_equal(root, back, false));
	c = sm_toml_clone(root);
	assert_non_null(c);
	assert_true(sm_toml_equal(root, c, true));
	sm_toml_free(c);
	sm_toml_free(back);
	sm_toml_free(root);
	sm_free(out);
	sm_free(src);
}

/* src is refused with a one-line message starting with where, naming the limit */
static void depth_fails(char *src, const char *where)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_toml_value *root = NULL;

	assert_int_equal(sm_toml_parse(src, strlen(src), &root, &err), -EBADMSG);
	assert_null(root);
	if (strncmp(err.buf, where, strlen(where)) != 0 ||
	    !strstr(err.buf, "tables and arrays nested too deeply (more than 512 levels)") ||
	    strchr(err.buf, '\n'))
		fail_msg("error '%s' is not '%s...: nested too deeply'", err.buf, where);
	sm_strbuf_release(&err);
	sm_free(src);
}

/*
 * One limit (SM_TOML_MAX_DEPTH levels below the root) on every path into the
 * tree: exactly at the limit parses and round-trips, one level more is a
 * one-line error with line and column.
 */
static void test_depth_limit(void **state)
{
	const int D = SM_TOML_MAX_DEPTH;

	(void)state;
	/* dotted keys: D-1 tables, then an array at depth D */
	depth_ok(repeat("x", ".x", (size_t)D - 1, " = [1]\n"));
	depth_fails(repeat("x", ".x", (size_t)D, " = [1]\n"), "line 1, column");
	depth_ok(repeat("x", ".x", (size_t)D, " = 1\n"));
	depth_fails(repeat("x", ".x", (size_t)D + 1, " = 1\n"), "line 1, column");
	/* 1M levels in a 2 MB file (issue 11): refused at the first level too many */
	depth_fails(repeat("x", ".x", 1000000, " = 1\n"), "line 1, column 1027");
	/* headers, also a long chain of them, and reopened ones */
	depth_ok(repeat("[x", ".x", (size_t)D - 1, "]\nk = 1\n"));
	depth_fails(repeat("[x", ".x", (size_t)D, "]\n"), "line 1, column");
	depth_fails(repeat("[x", ".x", 1000000, "]\n"), "line 1, column");
	{
		char *a = repeat("[x", ".x", (size_t)D - 2, "]\n");
		char *b = repeat("[x", ".x", (size_t)D - 2, ".y]\nz = [1]\n");
		struct strbuf s = STRBUF_INIT;

		assert_int_equal(sm_strbuf_addstr(&s, a), 0);
		assert_int_equal(sm_strbuf_addstr(&s, b), 0);
		depth_fails(sm_strbuf_detach(&s, NULL), "line 3, column 5");
		sm_free(a);
		sm_free(b);
	}
	/* arrays of tables count two levels: the array and its table */
	depth_ok(repeat("[[x", ".x", (size_t)D - 2, "]]\nk = 1\n"));
	depth_fails(repeat("[[x", ".x", (size_t)D - 1, "]]\nk = 1\n"), "line 1, column");
	depth_ok(repeat("", "[[a]]\n[[a.a]]\n", 1, ""));
}

/* arrays, inline tables and dotted keys inside inline tables share the limit */
static void test_depth_limit_values(void **state)
{
	const size_t D = SM_TOML_MAX_DEPTH;
	struct strbuf s = STRBUF_INIT;
	char *in;

	(void)state;
	in = repeat("x = ", "[", D, "");
	depth_ok(repeat(in, "]", D, "\n"));
	sm_free(in);
	depth_fails(repeat("x = ", "[", D + 1, ""), "line 1, column");
	in = repeat("x = ", "{a = ", D, "1");
	depth_ok(repeat(in, "}", D, "\n"));
	sm_free(in);
	depth_fails(repeat("x = ", "{a = ", D + 1, "1"), "line 1, column");
	depth_fails(repeat("x = {", "a.", D, "b = 1}\n"), "line 1, column");
	/* a table at D - 2, an inline table in it, then a dotted key inside that */
	assert_int_equal(sm_strbuf_addstr(&s, "[t"), 0);
	for (size_t i = 1; i < D - 2; i++)
		assert_int_equal(sm_strbuf_addstr(&s, ".t"), 0);
	assert_int_equal(sm_strbuf_addstr(&s, "]\nv = {a.b = [1]}\n"), 0);
	depth_fails(sm_strbuf_detach(&s, NULL), "line 2, column 12");
}

/* Trees deeper than any decoded one (built by hand) free and encode without recursion. */
static void test_deep_trees_no_recursion(void **state)
{
	struct sm_toml_value *root = sm_toml_new_table(), *t = root, *arr, *a;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	for (int i = 0; i < 1000000; i++) {
		struct sm_toml_value *n = sm_toml_new_table();

		assert_non_null(n);
		assert_int_equal(sm_toml_set(t, "x", n), 0);
		t = n;
	}
	assert_int_equal(sm_toml_set(t, "k", sm_toml_new_int(1)), 0);
	/* one header "[x.x.x...]" of 2M characters */
	sm_strbuf_init(&out, (size_t)8 << 20);
	assert_int_equal(sm_toml_encode(root, &out, &err), 0);
	assert_true(out.len > 2000000);
	assert_null(sm_toml_clone(root)); /* deeper than clone follows */
	sm_toml_free(root);

	/* 1M nested arrays: output cap reached, no crash */
	arr = a = sm_toml_new_array();
	for (int i = 0; i < 1000000; i++) {
		struct sm_toml_value *n = sm_toml_new_array();

		assert_int_equal(sm_toml_push(a, n), 0);
		a = n;
	}
	root = sm_toml_new_table();
	assert_int_equal(sm_toml_set(root, "a", arr), 0);
	sm_strbuf_release(&out);
	sm_strbuf_init(&out, (size_t)1 << 20);
	assert_int_equal(sm_toml_encode(root, &out, &err), -E2BIG);
	assert_int_equal(out.len, 0);
	sm_toml_free(root);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

/* Integers beyond 64 bits: refused by default, kept as digits with SM_TOML_BIG_INTEGERS. */
static void test_big_integers(void **state)
{
	const char *src = "a = 123456789012345678901234567890\nb = [-1_000_000_000_000_000_000_000]\n"
			  "c = 9223372036854775807\nd = -9223372036854775808\n";
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct sm_toml_value *root = NULL, *c;
	struct strbuf huge = STRBUF_INIT;

	(void)state;
	parse_fails(src, "line 1, column 5: integer out of range");
	parse_fails("a = 9223372036854775808\n", "line 1, column 5: integer out of range");
	assert_int_equal(sm_toml_parse_flags(src, strlen(src), SM_TOML_BIG_INTEGERS, &root, &err), 0);
	assert_int_equal(sm_toml_get(root, "a")->type, SM_TOML_BIG_INTEGER);
	assert_string_equal(sm_toml_get(root, "a")->u.str.ptr, "123456789012345678901234567890");
	assert_string_equal(sm_toml_get(root, "b")->u.arr.items[0]->u.str.ptr,
			    "-1000000000000000000000");
	assert_int_equal(sm_toml_get(root, "c")->type, SM_TOML_INTEGER); /* 64 bits stay plain */
	assert_int_equal(sm_toml_get(root, "d")->type, SM_TOML_INTEGER);
	assert_true(sm_toml_has_big_integer(root));
	assert_false(sm_toml_has_big_integer(sm_toml_get(root, "c")));
	assert_string_equal(sm_toml_type_name(SM_TOML_BIG_INTEGER), "integer");
	assert_int_equal(sm_toml_encode(root, &out, &err), 0);
	assert_string_equal(out.buf, "a = 123456789012345678901234567890\nb = [\n"
				     "    -1000000000000000000000,\n]\n"
				     "c = 9223372036854775807\nd = -9223372036854775808\n");
	c = sm_toml_clone(root);
	assert_true(sm_toml_equal(root, c, true));
	sm_toml_free(c);
	sm_toml_free(root);
	/* hex, octal and binary beyond 64 bits stay errors; so do 4301 digits */
	assert_int_equal(sm_toml_parse_flags("a = 0xffffffffffffffffff", 23, SM_TOML_BIG_INTEGERS,
					     &root, &err), -EBADMSG);
	assert_int_equal(sm_strbuf_addstr(&huge, "a = "), 0);
	for (int i = 0; i < SM_TOML_BIG_DIGITS + 1; i++)
		assert_int_equal(sm_strbuf_addch(&huge, '7'), 0);
	assert_int_equal(sm_toml_parse_flags(huge.buf, huge.len, SM_TOML_BIG_INTEGERS, &root, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.buf, "more than 4300 digits"));
	/* the constructor checks its digits */
	assert_null(sm_toml_new_big_integer("012", 3));
	assert_null(sm_toml_new_big_integer("-", 1));
	assert_null(sm_toml_new_big_integer("1a", 2));
	c = sm_toml_new_big_integer("-5", 2);
	assert_non_null(c);
	sm_toml_free(c);
	sm_strbuf_release(&huge);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

static void test_encode_layout(void **state)
{
	(void)state;
	/* tomli_w's README example: plain keys first, empty table gets a header */
	assert_reencodes("val2 = 2\nval1 = 1\n[table]\nval3 = 3\n[table.nested]\n",
			 "val2 = 2\nval1 = 1\n\n[table]\nval3 = 3\n\n[table.nested]\n");
	/* key/values after sub-tables in the source still come first */
	assert_reencodes("[t.sub]\nx = 1\n[t]\ny = 2\n", "[t]\ny = 2\n\n[t.sub]\nx = 1\n");
	/* a table holding only tables has no header of its own */
	assert_reencodes("[a.b]\nx = 1\n\n[a.c]\ny = 2\n", NULL);
	/* arrays: multi-line with trailing comma, nested indent, empty */
	assert_reencodes("a = [\n    1,\n    [\n        \"x\",\n        [],\n    ],\n]\nb = []\n",
			 NULL);
	/* short tables in a list become an inline array of inline tables */
	assert_reencodes("tags = [\n    { name = \"Design\", slug = \"design\" },\n    {},\n]\n",
			 NULL);
	/* ... unless one does not fit in 100 characters */
	assert_reencodes("[[tags]]\nname = \"Design\"\n"
			 "description = \"0123456789012345678901234567890123456789"
			 "01234567890123456789012345678901234567890123456789\"\n\n"
			 "[[tags]]\nname = \"b\"\n",
			 NULL);
	/* ... or contains a non-empty array (which would need a newline) */
	assert_reencodes("[[g]]\nmembers = [\n    \"x\",\n]\n", NULL);
	/* exactly 100 characters (counted in characters, not bytes) still fits */
	assert_reencodes("t = [\n    { k = \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			 "6789012345678901234567890123456789012345678901234567"
			 "890123456789012345678901234\" },\n]\n",
			 NULL);
	assert_reencodes("[[t]]\nk = \"0123456789012345678901234567890123456789"
			 "01234567890123456789012345678901234567890123456789012345\"\n",
			 NULL);
	/* nested inline tables inside arrays, arrays inside inline tables */
	assert_reencodes("a = [\n    [\n        { x = { y = 1 } },\n    ],\n]\n", NULL);
	assert_reencodes("a = [\n    1,\n    { b = [\n    2,\n] },\n]\n", NULL);
	/* arrays of tables in arrays of tables, and empty AoT entries */
	assert_reencodes("[[a]]\nx = [\n    1,\n]\n\n[[a.b]]\ny = [\n    2,\n]\n\n[[a]]\n"
			 "x = []\n",
			 NULL);
	/* keys: bare when possible, quoted otherwise */
	assert_reencodes("\"a b\" = 1\n\"\" = 2\n\"\xc3\xa9\" = 3\nok-_9 = 4\n"
			 "\n[\"x.y\".\"canvas-design::skill\"]\nk = 1\n",
			 NULL);
	/* strings: tomli_w's escapes */
	assert_reencodes("s = \"q\\\" b\\\\ \\n\\r\\b\\f\\t\\u0001\\u001f\\u007f \xc3\xa9\"\n",
			 "s = \"q\\\" b\\\\ \\n\\r\\b\\f\t\\u0001\\u001f\\u007f \xc3\xa9\"\n");
	assert_reencodes("s = '''\nmulti\nline'''\nl = 'lit\\'\n",
			 "s = \"multi\\nline\"\nl = \"lit\\\\\"\n");
	/* floats as Python's repr */
	assert_reencodes("f = [1.0, 1e20, 1e16, 1e15, 0.0001, 0.00001, -0.0, 3.14, 1.5e-7, "
			 "inf, -inf, nan, +nan, 2.5e300, 123456.789, 0.1, 1_000.5]\n",
			 "f = [\n    1.0,\n    1e+20,\n    1e+16,\n    1000000000000000.0,\n"
			 "    0.0001,\n    1e-05,\n    -0.0,\n    3.14,\n    1.5e-07,\n"
			 "    inf,\n    -inf,\n    nan,\n    nan,\n    2.5e+300,\n"
			 "    123456.789,\n    0.1,\n    1000.5,\n]\n");
	assert_reencodes("i = [0x10, -0, +5, 0b11]\n",
			 "i = [\n    16,\n    0,\n    5,\n    3,\n]\n");
	/* dates and times as Python's str() */
	assert_reencodes("a = 1979-05-27T07:32:00Z\nb = 1979-05-27t07:32:00.5-07:00\n"
			 "c = 1979-05-27T07:32:00.123456\nd = 1979-05-27\ne = 07:32:00.1\n"
			 "f = 00:00:00.000000001\n",
			 "a = 1979-05-27 07:32:00+00:00\nb = 1979-05-27 07:32:00.500000-07:00\n"
			 "c = 1979-05-27 07:32:00.123456\nd = 1979-05-27\ne = 07:32:00.100000\n"
			 "f = 00:00:00.000000001\n");
	assert_reencodes("", NULL);
	assert_reencodes("[a]\n", NULL);
}

static void test_encode_api(void **state)
{
	struct sm_toml_value *root = sm_toml_new_table(), *coll = sm_toml_new_table();
	struct sm_toml_value *arts = sm_toml_new_array(), *art = sm_toml_new_table();
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_toml_set_string(coll, "name", "default"), 0);
	assert_int_equal(sm_toml_set(root, "collection", coll), 0);
	assert_int_equal(sm_toml_set(root, "artifacts", arts), 0);
	assert_encodes(root, "artifacts = []\n\n[collection]\nname = \"default\"\n");
	assert_int_equal(sm_toml_set_string(art, "name", "x"), 0);
	assert_int_equal(sm_toml_set(art, "tags", sm_toml_new_array()), 0);
	assert_int_equal(sm_toml_push(sm_toml_get(art, "tags"), sm_toml_new_string("t")), 0);
	assert_int_equal(sm_toml_push(arts, art), 0);
	assert_encodes(root, "[collection]\nname = \"default\"\n\n[[artifacts]]\nname = \"x\"\n"
			     "tags = [\n    \"t\",\n]\n");
	/* appends to out */
	assert_int_equal(sm_strbuf_addstr(&out, "# head\n"), 0);
	assert_int_equal(sm_toml_encode(sm_toml_get(root, "collection"), &out, &err), 0);
	assert_string_equal(out.buf, "# head\nname = \"default\"\n");
	assert_int_equal(sm_toml_encode(arts, &out, &err), -EINVAL);
	assert_string_equal(out.buf, "# head\nname = \"default\"\n");
	assert_true(err.len > 0);
	/* strings must be UTF-8 */
	assert_int_equal(sm_toml_set(coll, "bad", sm_toml_new_string("\xc3(")), 0);
	assert_int_equal(sm_toml_encode(root, &out, &err), -EINVAL);
	assert_string_equal(out.buf, "# head\nname = \"default\"\n");
	assert_int_equal(sm_toml_remove(coll, "bad"), 0);
	/* a capped output fails with -E2BIG and is left as it was */
	sm_strbuf_release(&out);
	sm_strbuf_init(&out, 10);
	assert_int_equal(sm_toml_encode(root, &out, &err), -E2BIG);
	assert_int_equal(out.len, 0);
	sm_toml_free(root);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

static const char alloc_doc[] = "title = \"x\"\n"
				"arr = [1, 2.5, \"s\", [true], {a = 1}]\n"
				"dt = 1979-05-27T07:32:00Z\n"
				"a.b.c = \"\\u00e9 escaped\"\n"
				"[tab]\n"
				"k = '''multi\nline'''\n"
				"[[aot]]\n"
				"x = 1\n"
				"[aot.sub]\n"
				"y = 2\n"
				"[[aot]]\n";

static void test_alloc_failure(void **state)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, big = STRBUF_INIT;
	struct sm_toml_value *root = NULL, *full;
	long n;
	int r;

	(void)state;
	for (n = 0;; n++) {
		sm_alloc_fail_after(n);
		r = sm_toml_parse(alloc_doc, strlen(alloc_doc), &root, &err);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_null(root);
	}
	assert_true(n > 10);
	full = root;
	for (n = 0;; n++) {
		sm_alloc_fail_after(n);
		r = sm_toml_encode(full, &out, &err);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(out.len, 0);
	}
	for (n = 0;; n++) {
		struct sm_toml_value *c;

		sm_alloc_fail_after(n);
		c = sm_toml_clone(full);
		sm_alloc_fail_after(-1);
		if (c) {
			assert_true(sm_toml_equal(c, full, true));
			sm_toml_free(c);
			break;
		}
	}
	/* a large table (with its key index) under failing allocations */
	for (int i = 0; i < 40; i++)
		assert_int_equal(sm_strbuf_addf(&big, "k%d = %d\n", i, i), 0);
	for (n = 0;; n++) {
		sm_alloc_fail_after(n);
		r = sm_toml_parse(big.buf, big.len, &root, &err);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
	}
	assert_int_equal(sm_toml_get(root, "k39")->u.i, 39);
	sm_toml_free(root);
	sm_toml_free(full);
	sm_strbuf_release(&err);
	sm_strbuf_release(&out);
	sm_strbuf_release(&big);
}

/*
 * SM_TOML_ARENA: the same tree as a plain decode, edited like any other
 * (values taken out and freed, replaced, removed, keys and items appended
 * past the arena's arrays, a clone outliving the root) without a leak or a
 * double free (the unit suite runs under ASan and valgrind); allocation
 * failures while decoding leave nothing behind.
 */
static void test_arena(void **state)
{
	static const char doc[] = "a = 1\nb = \"two\"\nc = [1, 2, 3, 4]\n"
				  "[t]\nx = 1979-05-27T07:32:00Z\ny = { p = 1.5 }\n"
				  "[[aot]]\nn = \"x\"\n[[aot]]\nn = \"y\"\n";
	struct sm_toml_value *plain = NULL, *root = NULL, *v, *c, *arr;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	long n;
	int r;

	(void)state;
	assert_int_equal(sm_toml_parse(doc, strlen(doc), &plain, &err), 0);
	for (n = 0;; n++) {
		sm_alloc_fail_after(n);
		r = sm_toml_parse_flags(doc, strlen(doc), SM_TOML_ARENA, &root, &err);
		sm_alloc_fail_after(-1);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_null(root);
	}
	assert_true(sm_toml_equal(plain, root, true));
	assert_non_null(root->u.tab.arena);

	v = sm_toml_take(root, "b"); /* out of the arena tree, freed before the root */
	assert_string_equal(sm_toml_str(v), "two");
	sm_toml_free(v);
	assert_int_equal(sm_toml_set(root, "a", sm_toml_new_string("one")), 0); /* replaced */
	for (int i = 0; i < 20; i++) { /* past the arena's items, then the key index */
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(sm_toml_set(root, key, sm_toml_new_int(i)), 0);
	}
	assert_int_equal(sm_toml_get(root, "k19")->u.i, 19);
	assert_string_equal(sm_toml_get_string(root, "a"), "one");
	arr = sm_toml_get(root, "c");
	assert_int_equal(sm_toml_push(arr, sm_toml_new_int(5)), 0); /* items copied out */
	assert_int_equal(sm_toml_array_remove(arr, 0), 0);
	sm_toml_free(sm_toml_array_swap(arr, 0, sm_toml_new_string("s")));
	assert_int_equal(sm_toml_array_insert(arr, 1, sm_toml_new_bool(true)), 0);
	assert_int_equal(sm_toml_len(arr), 5);
	sm_toml_free(sm_toml_array_take(sm_toml_get(root, "aot"), 0));
	assert_string_equal(sm_toml_get_string(sm_toml_at(sm_toml_get(root, "aot"), 0), "n"), "y");
	assert_int_equal(sm_toml_remove(root, "t"), 0);
	assert_int_equal(sm_toml_encode(root, &out, &err), 0);
	c = sm_toml_clone(root);
	assert_true(sm_toml_equal(c, root, true));
	sm_toml_free(root);
	/* the clone is on its own */
	assert_int_equal(sm_toml_set(c, "z", sm_toml_new_int(0)), 0);
	sm_toml_free(c);

	/* a refused document frees its arena */
	assert_int_equal(sm_toml_parse_flags("a = 1\na = 2\n", 12, SM_TOML_ARENA, &root, &err),
			 -EBADMSG);
	sm_toml_free(plain);
	sm_strbuf_release(&err);
	sm_strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars),	 cmocka_unit_test(test_tables_and_order),
	    cmocka_unit_test(test_edit_api),	 cmocka_unit_test(test_big_table_index),
	    cmocka_unit_test(test_errors),	 cmocka_unit_test(test_long_key_message),
	    cmocka_unit_test(test_deep_nesting), cmocka_unit_test(test_encode_layout),
	    cmocka_unit_test(test_encode_api),	 cmocka_unit_test(test_alloc_failure),
	    cmocka_unit_test(test_depth_limit),	 cmocka_unit_test(test_depth_limit_values),
	    cmocka_unit_test(test_deep_trees_no_recursion), cmocka_unit_test(test_big_integers),
	    cmocka_unit_test(test_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
