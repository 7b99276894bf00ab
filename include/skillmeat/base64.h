/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_BASE64_H
#define SKILLMEAT_BASE64_H

#include <stddef.h>

struct strbuf;

/* Append standard base64 (with padding) of data. 0, -ENOMEM or -E2BIG. */
int sm_base64_encode(const void *data, size_t len, struct strbuf *out);
/*
 * Append the bytes of standard base64 s[0..len) (padding required, no
 * whitespace). -EINVAL when malformed (out unchanged), -ENOMEM, -E2BIG.
 */
int sm_base64_decode(const char *s, size_t len, struct strbuf *out);

#endif
