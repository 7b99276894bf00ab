/* SPDX-License-Identifier: MIT */
#ifndef SM_UTIL_TEST_HOOKS_H
#define SM_UTIL_TEST_HOOKS_H

/*
 * Test-only points in the write sequences, compiled only with the meson
 * option -Dtest_hooks=true (the Makefile's test builds); in any other build
 * SM_TEST_POINT(step) is the constant 0 and nothing reads the environment.
 *
 * With hooks compiled in, each point:
 *   - appends "step\n" to the file $SKILLMEAT_TEST_TRACE when set (so a test
 *     can list the points an operation passes);
 *   - kills the process with SIGKILL when $SKILLMEAT_TEST_KILL_AT is "step"
 *     or "step#N" (the Nth time the point is passed, from 1);
 *   - returns -EIO (an injected failure the caller handles as a real one)
 *     when $SKILLMEAT_TEST_FAIL_AT matches the same way.
 * Otherwise it returns 0.
 */
#ifdef SM_TEST_HOOKS
int sm_test_point(const char *step);
#define SM_TEST_POINT(step) sm_test_point(step)
#else
#define SM_TEST_POINT(step) 0
#endif

#endif
