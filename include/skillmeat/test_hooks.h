/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_TEST_HOOKS_H
#define SKILLMEAT_TEST_HOOKS_H

/*
 * Test hooks: fault injection and size thresholds tests set through the
 * environment (SKILLMEAT_FAULT_SYNC_KILL_AFTER, SKILLMEAT_SYNC_BULK_MIN,
 * SKILLMEAT_UC_INDEX_MIN), and the crash and fault points of the write
 * sequences (SM_TEST_POINT). They exist only in builds configured with
 * `-Dtest_hooks=true` (make test, test-asan, test-tsan); in any other build
 * the library reads no such variable, sm_test_hook() is the default and
 * SM_TEST_POINT(step) the constant 0.
 */

#ifdef SM_TEST_HOOKS
/* The variable name as a decimal integer (>= 0), or def when unset or malformed. */
long sm_test_hook(const char *name, long def);
/*
 * A point of a write sequence (the crash tests, tests/crash). Each passage:
 *   - appends "step\n" to the file $SKILLMEAT_TEST_TRACE when set (so a test
 *     can list the points an operation passes);
 *   - kills the process with SIGKILL when $SKILLMEAT_TEST_KILL_AT is "step"
 *     or "step#N" (the Nth passage of that point, from 1);
 *   - returns -EIO (an injected failure the caller handles as a real one)
 *     when $SKILLMEAT_TEST_FAIL_AT matches the same way.
 * Otherwise 0.
 */
int sm_test_point(const char *step);
#define SM_TEST_POINT(step) sm_test_point(step)
#define SM_HAVE_TEST_HOOKS 1
#else
static inline long sm_test_hook(const char *name, long def)
{
	(void)name;
	return def;
}
#define SM_TEST_POINT(step) 0
#define SM_HAVE_TEST_HOOKS 0
#endif

#endif
