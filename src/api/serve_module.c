/* SPDX-License-Identifier: MIT */
/* The table skillmeat-serve.so exports (skillmeat/serve_module.h). */
#include "skillmeat/serve_module.h"

const struct sm_serve_ops sm_serve_module = {
	.new_ = sm_serve_new,
	.start = sm_serve_start,
	.url = sm_serve_url,
	.threads = sm_serve_threads,
	.start_upkeep = sm_serve_start_upkeep,
	.stop = sm_serve_stop,
	.free_ = sm_serve_free,
};
