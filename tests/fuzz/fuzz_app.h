/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_FUZZ_APP_H
#define SKILLMEAT_FUZZ_APP_H

#include <stddef.h>

/*
 * The REST application of `skillmeat serve` without the sockets, for the
 * libFuzzer targets: a temporary home (two collections, a user collection),
 * the real app (sm_app_new), every API route on a real router, one loop
 * thread's SQLite connection, and the handlers called as the dispatcher
 * calls them. Writes (and read repairs) that a server hands to a worker
 * (sm_http_defer) are refused here (no server), so their validation runs and
 * nothing is written; a write a handler would do itself is undone after
 * each input (user-collections.toml restored, the index synced).
 *
 * fuzz_app_request checks what every answer must be: the router returns
 * only its documented codes; a handler always sets a status; an error
 * answer (>= 400) is {"detail": <not null>} and never 500 (an internal
 * failure on bad input is a bug); a JSON answer parses. Any breach aborts.
 */

/* The id of the user collection the setup made (32 hex). */
const char *fuzz_app_uc_id(void);

/*
 * Route method + target ("/path?query") with body (may be NULL) through the
 * app; returns the status answered (0: no route matched).
 */
int fuzz_app_request(const char *method, const char *target, const char *body, size_t body_len);

#endif
