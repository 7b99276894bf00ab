/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/json_escape.h"
#include "skillmeat/memory.h"
#include "skillmeat/pyrepr.h"
#include "skillmeat/strbuf.h"

static void test_init_is_empty(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_non_null(sb.buf);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.len, 0);
	sm_strbuf_release(&sb);
	assert_string_equal(sb.buf, "");
}

static void test_append(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_strbuf_addstr(&sb, "abc"), 0);
	assert_int_equal(sm_strbuf_addch(&sb, '-'), 0);
	assert_int_equal(sm_strbuf_add(&sb, "xyz", 2), 0);
	assert_int_equal(sm_strbuf_addf(&sb, "%d/%s", 42, "q"), 0);
	assert_string_equal(sb.buf, "abc-xy42/q");
	assert_int_equal(sb.len, 10);
	sm_strbuf_setlen(&sb, 3);
	assert_string_equal(sb.buf, "abc");
	sm_strbuf_release(&sb);
}

static void test_long_format_grows(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[5000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sm_strbuf_addf(&sb, "[%s]", big), 0);
	assert_int_equal(sb.len, sizeof(big) + 1);
	assert_int_equal(sb.buf[0], '[');
	assert_int_equal(sb.buf[sb.len - 1], ']');
	assert_int_equal(sb.buf[sb.len], '\0');
	sm_strbuf_release(&sb);
}

static void test_cap_is_enforced(void **state)
{
	struct strbuf sb;

	(void)state;
	sm_strbuf_init(&sb, 8);
	assert_int_equal(sm_strbuf_addstr(&sb, "12345678"), 0);
	assert_int_equal(sm_strbuf_addch(&sb, '9'), -E2BIG);
	assert_string_equal(sb.buf, "12345678");
	sm_strbuf_reset(&sb);
	assert_int_equal(sm_strbuf_addf(&sb, "%s", "123456789"), -E2BIG);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	sm_strbuf_release(&sb);
}

static void test_alloc_failure_leaves_buffer(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_strbuf_addstr(&sb, "keep"), 0);
	sm_alloc_fail_after(0);
	char big[200];
	memset(big, 'y', sizeof(big));
	assert_int_equal(sm_strbuf_add(&sb, big, sizeof(big)), -ENOMEM);
	sm_alloc_fail_after(-1);
	assert_string_equal(sb.buf, "keep");
	sm_strbuf_release(&sb);
}

static void test_detach_and_rtrim(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len;
	char *s;

	(void)state;
	s = sm_strbuf_detach(&sb, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	sm_free(s);
	assert_int_equal(sm_strbuf_addstr(&sb, "line \t\r\n"), 0);
	sm_strbuf_rtrim(&sb);
	assert_string_equal(sb.buf, "line");
	s = sm_strbuf_detach(&sb, &len);
	assert_int_equal(len, 4);
	assert_string_equal(s, "line");
	assert_string_equal(sb.buf, "");
	sm_free(s);
}

/*
 * A writer into the caller's buffer returns the buffer's own code: -E2BIG past
 * its cap is not reported as -ENOMEM (issue 8: callee errors not masked).
 */
static void test_writer_keeps_the_cap_code(void **state)
{
	static const double xs[] = { 0.1, 123.5, 1e-7, 1e22, -2.5 };
	struct strbuf sb;

	(void)state;
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		for (size_t cap = 1; cap < 3; cap++) { /* every repr here is longer */
			sm_strbuf_init(&sb, cap);
			assert_int_equal(sm_py_float_repr(xs[i], &sb), -E2BIG);
			sm_strbuf_release(&sb);
		}
		sm_strbuf_init(&sb, 64);
		assert_int_equal(sm_py_float_repr(xs[i], &sb), 0);
		sm_strbuf_release(&sb);
	}
}

/* The one JSON escaper (src/util/json_escape.c): what jansson reads back is the input. */
static void test_add_json(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "", "\"\"" },
		{ "q\"b\\s/", "\"q\\\"b\\\\s/\"" },
		{ "\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
		{ "bad\xff\xc3", "\"bad\\ufffd\\ufffd\"" },
	};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sm_strbuf_reset(&sb);
		assert_int_equal(sm_strbuf_add_json(&sb, cases[i].in), 0);
		assert_string_equal(sb.buf, cases[i].out);
	}
	sm_strbuf_reset(&sb);
	assert_int_equal(sm_strbuf_add_json(&sb, NULL), 0);
	assert_string_equal(sb.buf, "null");
	/* past the cap: -E2BIG and the buffer as it was */
	sm_strbuf_release(&sb);
	sm_strbuf_init(&sb, 8);
	assert_int_equal(sm_strbuf_addstr(&sb, "ab"), 0);
	assert_int_equal(sm_strbuf_add_json(&sb, "a\nlonger one"), -E2BIG);
	assert_string_equal(sb.buf, "ab");
	sm_strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_long_format_grows),
		cmocka_unit_test(test_cap_is_enforced),
		cmocka_unit_test(test_alloc_failure_leaves_buffer),
		cmocka_unit_test(test_detach_and_rtrim),
		cmocka_unit_test(test_writer_keeps_the_cap_code),
		cmocka_unit_test(test_add_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
