/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_TOML_INTERNAL_H
#define SKILLMEAT_TOML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/toml.h"

/* Bits of sm_toml_value.flags (decoder bookkeeping). */
enum {
	SM_TOML_F_INLINE = 1u << 0,  /* inline table or static array: sealed */
	SM_TOML_F_DEFINED = 1u << 1, /* table defined by a header or dotted keys */
	SM_TOML_F_DOTTED = 1u << 2,  /* table created by a dotted key */
	SM_TOML_F_AOT = 1u << 3,     /* array created by [[header]] */
};

/* Index of key in tab's items, or -1. Builds the key index for large tables. */
long sm_toml_tab_find(const struct sm_toml_value *tab, const char *key, size_t keylen);
/*
 * Append key (copied) with value to tab without checking for duplicates.
 * Takes ownership of value only on success. -ENOMEM.
 */
int sm_toml_tab_append(struct sm_toml_value *tab, const char *key, size_t keylen,
		       struct sm_toml_value *value);

/* Length of the UTF-8 sequence at p (1-4), or 0 if invalid. p < end. */
size_t sm_toml_utf8_len(const unsigned char *p, const unsigned char *end);

#endif
