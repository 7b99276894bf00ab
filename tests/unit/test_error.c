/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/error.h"
#include "skillmeat/strbuf.h"

static void test_err_sets_message(void **state)
{
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(sm_err(&err, -EINVAL, "bad name '%s'", "../x"), -EINVAL);
	assert_string_equal(err.buf, "bad name '../x'");
	/* a second error replaces the first */
	assert_int_equal(sm_err(&err, -ENOENT, "no '%s'", "y"), -ENOENT);
	assert_string_equal(err.buf, "no 'y'");
	sm_strbuf_release(&err);
}

static void test_err_null_is_fine(void **state)
{
	(void)state;
	assert_int_equal(sm_err(NULL, -EBADMSG, "x %d", 1), -EBADMSG);
	assert_int_equal(sm_err_prefix(NULL, -EBADMSG, "x"), -EBADMSG);
}

static void test_err_prefix(void **state)
{
	struct strbuf err = STRBUF_INIT;

	(void)state;
	sm_err(&err, -EBADMSG, "line 3, column 1: expected '='");
	assert_int_equal(sm_err_prefix(&err, -EBADMSG, "cannot parse '%s'", "a.toml"), -EBADMSG);
	assert_string_equal(err.buf, "cannot parse 'a.toml': line 3, column 1: expected '='");
	sm_strbuf_release(&err);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sm_strerror(-ENOENT), sm_strerror(ENOENT));
	assert_true(strlen(sm_strerror(-ENOENT)) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_sets_message),
		cmocka_unit_test(test_err_null_is_fine),
		cmocka_unit_test(test_err_prefix),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
