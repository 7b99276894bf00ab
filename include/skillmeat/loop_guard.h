/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_LOOP_GUARD_H
#define SKILLMEAT_LOOP_GUARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Event-loop threads never wait on a lock held across slow work: the home
 * flock, the server's writer lock, a sync (docs/architecture.md, "lock
 * order"). A loop thread marks itself; every such lock tries first and,
 * when it would have to wait on a loop thread, counts one wait (and then
 * waits). The count is the metric skillmeat_loop_lock_waits_total and
 * stays 0 when every slow path is handed off to a worker.
 */

/* Mark (or unmark) the calling thread as an event-loop thread. */
void sm_loop_guard_set(bool is_loop);
bool sm_loop_guard_is_loop(void);
/* Count one wait on a loop thread (called by the locks). */
void sm_loop_guard_count_wait(void);
/* The waits counted in this process. */
uint64_t sm_loop_guard_waits(void);

/* A mutex taken like the guarded locks: trylock first, a wait counted on a loop thread. */
void sm_loop_guard_mutex_lock(pthread_mutex_t *m);

#endif
