/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_SERVE_MODULE_H
#define SKILLMEAT_SERVE_MODULE_H

#include "skillmeat/serve.h"

/*
 * `serve` (skillmeat/serve.h, libh2o) is the skillmeat-serve.so module: the
 * program's sm_serve_* load it on first use (skillmeat/module.h) and call
 * through this table, the symbol sm_serve_module the module exports.
 */
struct sm_serve_ops {
	int (*new_)(struct sm_home *home, const struct sm_serve_options *opts,
		    struct sm_serve **ret, struct strbuf *err);
	int (*start)(struct sm_serve *s, struct strbuf *err);
	const char *(*url)(const struct sm_serve *s);
	unsigned (*threads)(const struct sm_serve *s);
	void (*start_upkeep)(struct sm_serve *s, void (*warn)(void *ud, const char *msg),
			     void *ud);
	int (*stop)(struct sm_serve *s);
	void (*free_)(struct sm_serve *s);
};

extern const struct sm_serve_ops sm_serve_module;

#endif
