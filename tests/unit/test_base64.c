/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/base64.h"
#include "skillmeat/pyrepr.h"
#include "skillmeat/strbuf.h"

static const struct {
	const char *plain, *enc;
} vectors[] = {
    /* RFC 4648 §10 */
    {"", ""},	      {"f", "Zg=="},	     {"fo", "Zm8="},	     {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct strbuf e = STRBUF_INIT, d = STRBUF_INIT;

		assert_int_equal(sm_base64_encode(vectors[i].plain, strlen(vectors[i].plain), &e), 0);
		assert_string_equal(e.buf, vectors[i].enc);
		assert_int_equal(sm_base64_decode(e.buf, e.len, &d), 0);
		assert_int_equal(d.len, strlen(vectors[i].plain));
		assert_memory_equal(d.buf, vectors[i].plain, d.len);
		sm_strbuf_release(&e);
		sm_strbuf_release(&d);
	}
}

static void test_binary_and_append(void **state)
{
	unsigned char bytes[256];
	struct strbuf e = STRBUF_INIT, d = STRBUF_INIT;

	(void)state;
	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	assert_int_equal(sm_strbuf_addstr(&d, "x:"), 0);
	assert_int_equal(sm_base64_encode(bytes, sizeof(bytes), &e), 0);
	assert_int_equal(e.len, 344);
	assert_int_equal(sm_base64_decode(e.buf, e.len, &d), 0);
	assert_int_equal(d.len, 2 + 256);
	assert_memory_equal(d.buf, "x:", 2);
	assert_memory_equal(d.buf + 2, bytes, 256);
	sm_strbuf_release(&e);
	sm_strbuf_release(&d);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {"Zg=", "Zg", "Z===", "Zm9v!A==", "Zm 9", "Zg==Zg==",
					  "=Zg=", "\nZg="};
	struct strbuf d = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sm_base64_decode(bad[i], strlen(bad[i]), &d), -EINVAL);
		assert_int_equal(d.len, 0);
	}
	sm_strbuf_release(&d);
}

static void test_py_float_repr(void **state)
{
	static const struct {
		double x;
		const char *s;
	} cases[] = {
	    {0.0, "0.0"},	  {-0.0, "-0.0"},   {1.0, "1.0"},	{0.1, "0.1"},
	    {1.5e-05, "1.5e-05"}, {1e16, "1e+16"},  {1e15, "1000000000000000.0"},
	    {0.0001, "0.0001"},	  {123.456, "123.456"}, {-2.5, "-2.5"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(sm_py_float_repr(cases[i].x, &sb), 0);
		assert_string_equal(sb.buf, cases[i].s);
		sm_strbuf_release(&sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_binary_and_append),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_py_float_repr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
