/* SPDX-License-Identifier: MIT */
/* Loading the shared modules next to the executable (include/skillmeat/module.h). */
#include <dlfcn.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "skillmeat/error.h"
#include "skillmeat/module.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#ifndef SM_MODULE_DIR
#define SM_MODULE_DIR ""
#endif

/* The folder of the running executable, into out; false when unknown. */
static bool exe_dir(struct strbuf *out)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return sm_strbuf_addstr(out, buf) == 0;
}

static void *try_open(const char *dir, const char *file, struct strbuf *why)
{
	struct strbuf path = STRBUF_INIT;
	void *h = NULL;

	if (sm_strbuf_addf(&path, "%s/%s", dir, file) == 0) {
		h = dlopen(path.buf, RTLD_NOW | RTLD_LOCAL);
		if (!h && !why->len) {
			const char *e = dlerror();

			if (sm_strbuf_addstr(why, e ? e : path.buf) < 0)
				sm_strbuf_reset(why);
		}
	}
	sm_strbuf_release(&path);
	return h;
}

static const char module_dir[] = SM_MODULE_DIR;

int sm_module_load(const char *file, const char *symbol, const void **ret, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, why = STRBUF_INIT;
	void *h = NULL, *sym;
	int r = 0;

	if (exe_dir(&dir))
		h = try_open(dir.buf, file, &why);
	/* not SM_MODULE_DIR[0] itself: clang -Werror refuses '&&' with a constant */
	if (!h && module_dir[0])
		h = try_open(module_dir, file, &why);
	if (!h) {
		r = sm_err(err, -ENOENT, "cannot load module '%s': %s", file,
			   why.len ? why.buf : "not found");
		goto out;
	}
	sym = dlsym(h, symbol);
	if (!sym) {
		r = sm_err(err, -ENOENT, "cannot load module '%s': no symbol '%s'", file, symbol);
		goto out;
	}
	*ret = sym;
out:
	sm_strbuf_release(&dir);
	sm_strbuf_release(&why);
	return r;
}
