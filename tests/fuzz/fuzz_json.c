/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the API's JSON request bodies: the handlers of every
 * route that reads a body (artifact create, update and metadata PUT,
 * user-collection create, update and add members), on the real application
 * over a temporary home (fuzz_app.h). Input: one byte choosing the route,
 * then the body. Every answer is checked: an error is {"detail": <not
 * null>} and never a 500, a success parses; what a handler writes itself
 * is undone after each input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api/api.h"
#include "fuzz_app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const routes[][2] = {
	    {"POST", API_PREFIX "/artifacts"},
	    {"POST", API_PREFIX "/artifacts?collection=other"},
	    {"PUT", API_PREFIX "/artifacts/skill:s0"},
	    {"PUT", API_PREFIX "/artifacts/skill:o1?collection=other"},
	    {"PUT", API_PREFIX "/artifacts/agent:helper/metadata?collection=default"},
	    {"PUT", API_PREFIX "/artifacts/skill:s1/metadata"},
	    {"POST", API_PREFIX "/user-collections"},
	    {"PUT", API_PREFIX "/user-collections/%s"},
	    {"PUT", API_PREFIX "/user-collections/default"},
	    {"POST", API_PREFIX "/user-collections/%s/artifacts"},
	    {"POST", API_PREFIX "/user-collections/default/artifacts"},
	};
	char target[256];
	size_t k;

	if (size < 1)
		return 0;
	k = data[0] % (sizeof(routes) / sizeof(routes[0]));
	snprintf(target, sizeof(target), routes[k][1], fuzz_app_uc_id());
	(void)fuzz_app_request(routes[k][0], target, (const char *)data + 1, size - 1);
	return 0;
}
