/* SPDX-License-Identifier: MIT */
/* The one UTF-8 validator (skillmeat/utf8.h) that the TOML parser, the user
 * collections, the HTTP layer, the files endpoint, the logger and edits share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/utf8.h"

static size_t len_of(const char *s, size_t n)
{
	return sm_utf8_len((const unsigned char *)s, (const unsigned char *)s + n);
}

static void test_lengths(void **state)
{
	(void)state;
	assert_int_equal(len_of("a", 1), 1);
	assert_int_equal(len_of("\xc3\xa9", 2), 2);	    /* é */
	assert_int_equal(len_of("\xe2\x82\xac", 3), 3);	    /* € */
	assert_int_equal(len_of("\xf0\x9f\x98\x80", 4), 4); /* 😀 */
	assert_int_equal(len_of("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
	assert_int_equal(len_of("\xed\x9f\xbf", 3), 3);	    /* U+D7FF */
}

static void test_invalid(void **state)
{
	(void)state;
	assert_int_equal(len_of("\x80", 1), 0);		    /* lone continuation */
	assert_int_equal(len_of("\xc0\xaf", 2), 0);	    /* overlong '/' */
	assert_int_equal(len_of("\xc1\xbf", 2), 0);	    /* overlong */
	assert_int_equal(len_of("\xe0\x80\xaf", 3), 0);	    /* overlong, 3 bytes */
	assert_int_equal(len_of("\xf0\x80\x80\xaf", 4), 0); /* overlong, 4 bytes */
	assert_int_equal(len_of("\xed\xa0\x80", 3), 0);	    /* surrogate U+D800 */
	assert_int_equal(len_of("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
	assert_int_equal(len_of("\xf5\x80\x80\x80", 4), 0);
	assert_int_equal(len_of("\xff", 1), 0);
	assert_int_equal(len_of("\xc3", 1), 0);		/* truncated at the end */
	assert_int_equal(len_of("\xe2\x82", 2), 0);
	assert_int_equal(len_of("\xe2\x28\xa1", 3), 0); /* bad continuation */
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(sm_utf8_valid("", 0));
	assert_true(sm_utf8_valid("plain ascii", 11));
	assert_true(sm_utf8_valid("caf\xc3\xa9 \xe2\x82\xac", 9));
	assert_true(sm_utf8_valid("a\0b", 3)); /* NUL is the caller's rule */
	assert_false(sm_utf8_valid("caf\xc3", 4));
	assert_false(sm_utf8_valid("x\xed\xa0\x80y", 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
