/* SPDX-License-Identifier: MIT */
/* Test hooks (skillmeat/test_hooks.h), compiled only with -Dtest_hooks=true. */
#include <stdlib.h>

#include "skillmeat/test_hooks.h"
#include "util/banned.h"

#ifdef SM_TEST_HOOKS
long sm_test_hook(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 10);
	return *end || v < 0 ? def : v;
}
#endif
