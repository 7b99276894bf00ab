/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_MODULE_H
#define SKILLMEAT_MODULE_H

struct strbuf;

/*
 * The parts of skillmeat that need heavy libraries (git sources: libgit2;
 * serve: libh2o; telling a running server: libcurl) are shared modules loaded
 * on first use, so the verbs that never touch the network or serve start
 * with libc, SQLite, jansson and libyaml only (libcrypto is opened when
 * something is first hashed: src/util/crypto.c).
 *
 * Load the module file (e.g. "skillmeat-serve.so") and return its exported
 * table symbol in *ret. The module is looked for next to the running
 * executable (/proc/self/exe: build/, build-asan/, ...), then in the
 * installed module folder (SM_MODULE_DIR). Loaded once, never unloaded;
 * thread-safe. -ENOENT "cannot load module '…': <dlerror>" when missing.
 */
int sm_module_load(const char *file, const char *symbol, const void **ret, struct strbuf *err);

#endif
