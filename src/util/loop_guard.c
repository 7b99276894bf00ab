/* SPDX-License-Identifier: MIT */
/* Lock waits on event-loop threads, counted (skillmeat/loop_guard.h). */
#include <errno.h>

#include "skillmeat/loop_guard.h"
#include "util/banned.h"

static _Thread_local bool is_loop;
static uint64_t waits;

void sm_loop_guard_set(bool on)
{
	is_loop = on;
}

bool sm_loop_guard_is_loop(void)
{
	return is_loop;
}

void sm_loop_guard_count_wait(void)
{
	__atomic_add_fetch(&waits, 1, __ATOMIC_RELAXED);
}

uint64_t sm_loop_guard_waits(void)
{
	return __atomic_load_n(&waits, __ATOMIC_RELAXED);
}

void sm_loop_guard_mutex_lock(pthread_mutex_t *m)
{
	if (is_loop) {
		if (pthread_mutex_trylock(m) == 0)
			return;
		sm_loop_guard_count_wait();
	}
	pthread_mutex_lock(m);
}
