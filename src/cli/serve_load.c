/* SPDX-License-Identifier: MIT */
/*
 * skillmeat/serve.h for the program: the server (libh2o and the REST
 * application) is the skillmeat-serve.so module, loaded when `serve` starts,
 * so no other verb loads libh2o.
 */
#include <errno.h>
#include <stddef.h>

#include "skillmeat/module.h"
#include "skillmeat/serve.h"
#include "skillmeat/serve_module.h"
#include "util/banned.h"

static const struct sm_serve_ops *ops;

#if defined(__SANITIZE_ADDRESS__)
/*
 * LeakSanitizer reads its default suppressions through a weak symbol bound
 * when the program starts, so the one src/http/http.c defines for libh2o's
 * per-thread recycle caches (see there) is never seen once the server lives
 * in a module loaded later by dlopen: the program defines it for the module.
 * A loop thread that exits holding a recycled chunk made api-concurrency fail
 * under ASan now and then.
 */
const char *__lsan_default_suppressions(void);
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
	return "leak:h2o_mem_alloc_recycle\n";
}

const char *__lsan_default_options(void);
__attribute__((used)) const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

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
