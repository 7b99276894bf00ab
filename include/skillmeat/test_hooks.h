/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_TEST_HOOKS_H
#define SKILLMEAT_TEST_HOOKS_H

/*
 * Test hooks: fault injection and size thresholds tests set through the
 * environment (SKILLMEAT_FAULT_SYNC_KILL_AFTER, SKILLMEAT_SYNC_BULK_MIN,
 * SKILLMEAT_UC_INDEX_MIN). They exist only in builds configured with
 * `-Dtest_hooks=true` (make test, test-asan, test-tsan); in any other build
 * the library reads no such variable and sm_test_hook() is the default.
 */

#ifdef SM_TEST_HOOKS
/* The variable name as a decimal integer (>= 0), or def when unset or malformed. */
long sm_test_hook(const char *name, long def);
#define SM_HAVE_TEST_HOOKS 1
#else
static inline long sm_test_hook(const char *name, long def)
{
	(void)name;
	return def;
}
#define SM_HAVE_TEST_HOOKS 0
#endif

#endif
