/* SPDX-License-Identifier: MIT */
/*
 * skillmeat/serve.h for the program: the server (libh2o and the REST
 * application) is the skillmeat-serve.so module, loaded when `serve` starts,
 * so no other verb loads libh2o.
 */
#include <errno.h>
#include <stddef.h>

#include "skillmeat/lsan.h"
#include "skillmeat/module.h"
#include "skillmeat/serve.h"
#include "skillmeat/serve_module.h"
#include "util/banned.h"

static const struct sm_serve_ops *ops;

/*
 * The server lives in a module loaded by dlopen, after LSan has bound its weak
 * default symbols: the program defines them for it (skillmeat/lsan.h). Without
 * them api-concurrency failed under ASan now and then.
 */
SM_LSAN_DEFAULTS

int sm_serve_new(struct sm_home *home, const struct sm_serve_options *opts,
		 struct sm_serve **ret, struct strbuf *err)
{
	const void *sym;
	int r;

	if (!ops) {
		r = sm_module_load("skillmeat-serve.so", "sm_serve_module", &sym, err);
		if (r < 0)
			return r;
		ops = sym;
	}
	return ops->new_(home, opts, ret, err);
}

/* The others take a server from sm_serve_new, so the module is loaded. */
int sm_serve_start(struct sm_serve *s, struct strbuf *err)
{
	return ops->start(s, err);
}

const char *sm_serve_url(const struct sm_serve *s)
{
	return ops->url(s);
}

unsigned sm_serve_threads(const struct sm_serve *s)
{
	return ops->threads(s);
}

void sm_serve_start_upkeep(struct sm_serve *s, void (*warn)(void *ud, const char *msg), void *ud)
{
	ops->start_upkeep(s, warn, ud);
}

int sm_serve_stop(struct sm_serve *s)
{
	return ops->stop(s);
}

void sm_serve_free(struct sm_serve *s)
{
	if (s)
		ops->free_(s);
}
