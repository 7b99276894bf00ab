/* SPDX-License-Identifier: MIT */
/* libcrypto loaded on first use (util/crypto.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

#include <openssl/opensslv.h>

#include "util/crypto.h"
#include "util/banned.h"

#if OPENSSL_VERSION_MAJOR < 3
#error "libcrypto 3 or later: its soname is libcrypto.so.<major>"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
/* the library of the ABI the headers describe */
#define LIBCRYPTO "libcrypto.so." STR(OPENSSL_VERSION_MAJOR)

static struct sm_crypto fns;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(field, name)                                                       \
	do {                                                                   \
		*(void **)&fns.field = dlsym(h, name);                         \
		if (!fns.field)                                                \
			return;                                                \
	} while (0)

static void load(void)
{
	/* never closed: the table lives as long as the process */
	void *h = dlopen(LIBCRYPTO, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
	SYM(md_ctx_new, "EVP_MD_CTX_new");
	SYM(md_ctx_free, "EVP_MD_CTX_free");
	SYM(sha256, "EVP_sha256");
	SYM(digest_init, "EVP_DigestInit_ex");
	SYM(digest_update, "EVP_DigestUpdate");
	SYM(digest_final, "EVP_DigestFinal_ex");
	SYM(digest, "EVP_Digest");
	SYM(encode_block, "EVP_EncodeBlock");
	SYM(decode_block, "EVP_DecodeBlock");
	loaded = true;
}

const struct sm_crypto *sm_crypto(void)
{
	pthread_once(&once, load);
	return loaded ? &fns : NULL;
}
