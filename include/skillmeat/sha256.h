/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_SHA256_H
#define SKILLMEAT_SHA256_H

#include <stddef.h>

#define SM_SHA256_HEX_LEN 64

/*
 * Incremental SHA-256 over libcrypto's EVP API (opened on first use). Opaque.
 * -ELIBACC when libcrypto cannot be loaded.
 */
struct sm_sha256;

int sm_sha256_new(struct sm_sha256 **ret);
int sm_sha256_update(struct sm_sha256 *h, const void *data, size_t len);
/* Writes 64 lowercase hex chars plus NUL into hex (65 bytes). Resets h for reuse. */
int sm_sha256_final_hex(struct sm_sha256 *h, char hex[SM_SHA256_HEX_LEN + 1]);
void sm_sha256_free(struct sm_sha256 *h);

/* One-shot. */
int sm_sha256_hex(const void *data, size_t len, char hex[SM_SHA256_HEX_LEN + 1]);

/*
 * SkillMeat's content hash, algorithm A (spec/skillmeat-formats.md §2.7):
 * a file → SHA-256 of its bytes; a folder → one SHA-256 over, for each file of
 * sm_fs_walk's order, its relative path followed by its bytes.
 */
int sm_content_hash(const char *path, char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err);

#endif
