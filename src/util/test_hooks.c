/* SPDX-License-Identifier: MIT */
/* Test hooks (skillmeat/test_hooks.h), compiled only with -Dtest_hooks=true. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static pthread_mutex_t point_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned kill_seen, fail_seen;

/* Does spec ("step" or "step#N") name this passage of step? */
static int matches(const char *spec, const char *step, unsigned *seen)
{
	size_t n = strlen(step);
	unsigned long want = 1;

	if (!spec || strncmp(spec, step, n) || (spec[n] && spec[n] != '#'))
		return 0;
	if (spec[n] == '#') {
		char *end;

		errno = 0;
		want = strtoul(spec + n + 1, &end, 10);
		if (errno || *end || !want)
			return 0;
	}
	return ++*seen == want;
}

int sm_test_point(const char *step)
{
	const char *trace = getenv("SKILLMEAT_TEST_TRACE");
	int r = 0;

	pthread_mutex_lock(&point_mu);
	if (trace && *trace) {
		int fd = open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

		if (fd >= 0) {
			size_t n = strlen(step);

			if (write(fd, step, n) == (ssize_t)n)
				(void)!write(fd, "\n", 1);
			close(fd);
		}
	}
	if (matches(getenv("SKILLMEAT_TEST_KILL_AT"), step, &kill_seen))
		kill(getpid(), SIGKILL);
	if (matches(getenv("SKILLMEAT_TEST_FAIL_AT"), step, &fail_seen))
		r = -EIO;
	pthread_mutex_unlock(&point_mu);
	return r;
}
#endif
