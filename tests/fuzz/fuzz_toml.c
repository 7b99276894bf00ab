/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TOML decoder: any input must be decoded or
 * rejected without crashing; whatever decodes must encode, the encoding must
 * decode again to an equal tree, and encoding that must give the same bytes.
 *
 * The work runs on a thread with a small stack (FUZZ_STACK): the decoder's
 * recursion is bounded by SM_TOML_MAX_DEPTH and free/encode do not recurse,
 * so a walk that recursed once per level of an input's nesting (dotted keys,
 * [a.b.c] headers, arrays, inline tables) overflows it at a few thousand
 * levels - well inside -max_len=16384 - instead of at the ~1M levels it
 * takes on a main thread.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

#define FUZZ_STACK (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct job {
	const uint8_t *data;
	size_t size;
};

/*
 * Decode with flags; whatever decodes must round-trip. Returns the tree (or
 * NULL when the input was refused).
 */
static struct sm_toml_value *roundtrip(const struct job *j, unsigned flags)
{
	struct strbuf err = STRBUF_INIT, out1 = STRBUF_INIT, out2 = STRBUF_INIT;
	struct sm_toml_value *a = NULL, *b = NULL;

	if (sm_toml_parse_flags((const char *)j->data, j->size, flags, &a, &err) < 0)
		goto out;
	if (sm_toml_encode(a, &out1, &err) < 0)
		abort();
	if (sm_toml_parse_flags(out1.buf, out1.len, flags, &b, &err) < 0)
		abort();
	if (!sm_toml_equal(a, b, false))
		abort();
	if (sm_toml_encode(b, &out2, &err) < 0 || out1.len != out2.len ||
	    memcmp(out1.buf, out2.buf, out1.len) != 0)
		abort();
out:
	sm_toml_free(b);
	sm_strbuf_release(&err);
	sm_strbuf_release(&out1);
	sm_strbuf_release(&out2);
	return a;
}

/*
 * Edits of an arena tree (SM_TOML_ARENA): the first key taken out and freed,
 * a key appended (its items copied out of the arena), the last item of each
 * array of the root replaced; the tree must still encode.
 */
static void edit(struct sm_toml_value *t)
{
	struct strbuf out = STRBUF_INIT;
	const struct sm_toml_kv *kv = sm_toml_kv_at(t, 0);

	if (kv) {
		struct strbuf key = STRBUF_INIT;

		if (sm_strbuf_add(&key, kv->key, kv->keylen) < 0)
			abort();
		if (strlen(key.buf) == kv->keylen)
			sm_toml_free(sm_toml_take(t, key.buf));
		sm_strbuf_release(&key);
	}
	for (size_t i = 0; i < sm_toml_len(t); i++) {
		struct sm_toml_value *a = sm_toml_value_at(t, i);

		if (sm_toml_type(a) == SM_TOML_ARRAY && sm_toml_len(a))
			sm_toml_free(sm_toml_array_swap(a, sm_toml_len(a) - 1, sm_toml_new_int(1)));
	}
	if (sm_toml_set(t, "\x01fuzz", sm_toml_new_string("x")) < 0)
		abort();
	if (sm_toml_encode(t, &out, NULL) < 0)
		abort();
	sm_strbuf_release(&out);
}

/*
 * Strict (the conformance decoder), lenient (SkillMeat's files: integers
 * beyond 64 bits kept as digits) and lenient in an arena: what strict accepts,
 * lenient accepts equal, and the arena tree is the same tree.
 */
static void *run(void *arg)
{
	const struct job *j = arg;
	struct sm_toml_value *strict = roundtrip(j, 0), *lenient = roundtrip(j, SM_TOML_BIG_INTEGERS);
	struct sm_toml_value *arena = roundtrip(j, SM_TOML_BIG_INTEGERS | SM_TOML_ARENA);

	if (strict && !sm_toml_equal(strict, lenient, true))
		abort();
	if (!lenient != !arena || (lenient && !sm_toml_equal(lenient, arena, true)))
		abort();
	if (arena)
		edit(arena);
	sm_toml_free(strict);
	sm_toml_free(lenient);
	sm_toml_free(arena);
	return NULL;
}

/* One worker with a small stack, reused for every input (a thread per input is slow). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static const struct job *pending;
static bool finished;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (!pending)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
		run((void *)pending);
		pthread_mutex_lock(&mu);
		pending = NULL;
		finished = true;
		pthread_cond_broadcast(&cv);
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool started;
	struct job j = {data, size};

	if (!started) {
		pthread_attr_t attr;
		pthread_t t;

		if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, FUZZ_STACK) ||
		    pthread_create(&t, &attr, worker, NULL))
			abort();
		pthread_attr_destroy(&attr);
		started = true;
	}
	pthread_mutex_lock(&mu);
	finished = false;
	pending = &j;
	pthread_cond_broadcast(&cv);
	while (!finished)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}
