/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_LSAN_H
#define SKILLMEAT_LSAN_H

/*
 * LeakSanitizer defaults for a program that runs the HTTP server, in ASan
 * builds. libh2o 2.2.5 keeps per-thread recycle caches of memory-pool chunks
 * and socket buffers in thread-local variables (memory.c's static
 * mempool_allocator, socket.c's h2o_socket_buffer_prototype) and has no call
 * to empty them, so they become unreachable when a loop thread exits: bounded
 * (a few chunks per thread) and not ours. LSan reads these two weak symbols
 * when the program starts, so they must be defined by the program itself or a
 * library linked to it, never only by a module loaded later with dlopen.
 * Use SM_LSAN_DEFAULTS once at file scope; LSAN_OPTIONS still overrides.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SM_LSAN_DEFAULTS                                                      \
	const char *__lsan_default_suppressions(void);                        \
	__attribute__((used)) const char *__lsan_default_suppressions(void)   \
	{                                                                     \
		return "leak:h2o_mem_alloc_recycle\n";                        \
	}                                                                     \
	const char *__lsan_default_options(void);                             \
	__attribute__((used)) const char *__lsan_default_options(void)        \
	{                                                                     \
		return "print_suppressions=0";                                \
	}
#else
#define SM_LSAN_DEFAULTS
#endif

#endif
