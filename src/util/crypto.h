/* SPDX-License-Identifier: MIT */
#ifndef SM_UTIL_CRYPTO_H
#define SM_UTIL_CRYPTO_H

#include <openssl/evp.h>

/*
 * The libcrypto functions skillmeat uses (SHA-256, base64), looked up on
 * first use: the program does not link libcrypto, so the verbs that hash
 * nothing (--version, a list of an unchanged home, show, config) start
 * without loading and relocating it. Typed by the headers built against.
 */
struct sm_crypto {
	__typeof__(EVP_MD_CTX_new) *md_ctx_new;
	__typeof__(EVP_MD_CTX_free) *md_ctx_free;
	__typeof__(EVP_sha256) *sha256;
	__typeof__(EVP_DigestInit_ex) *digest_init;
	__typeof__(EVP_DigestUpdate) *digest_update;
	__typeof__(EVP_DigestFinal_ex) *digest_final;
	__typeof__(EVP_Digest) *digest;
	__typeof__(EVP_EncodeBlock) *encode_block;
	__typeof__(EVP_DecodeBlock) *decode_block;
};

/*
 * The table, loaded once (thread-safe); NULL when libcrypto or one of its
 * functions cannot be loaded: callers return -ELIBACC.
 */
const struct sm_crypto *sm_crypto(void);

#endif
