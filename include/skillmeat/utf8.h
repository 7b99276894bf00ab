/* SPDX-License-Identifier: MIT */
/* UTF-8 validation, once for every layer (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
#ifndef SKILLMEAT_UTF8_H
#define SKILLMEAT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at p (p < end), 0 when invalid. */
size_t sm_utf8_len(const unsigned char *p, const unsigned char *end);
/* Is s[0..n) valid UTF-8 (NUL bytes count as valid)? */
bool sm_utf8_valid(const char *s, size_t n);

#endif
