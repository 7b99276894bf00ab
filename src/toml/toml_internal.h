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
	/* SM_TOML_ARENA: memory of the value that lives in the root's arena */
	SM_TOML_F_ARENA = 1u << 4,	 /* the node itself */
	SM_TOML_F_ARENA_STR = 1u << 5,	 /* u.str.ptr */
	SM_TOML_F_ARENA_ITEMS = 1u << 6, /* u.arr.items / u.tab.items */
};

/*
 * Bump allocator of SM_TOML_ARENA trees: blocks freed all at once with the
 * root that owns it (u.tab.arena).
 */
struct sm_toml_arena;
struct sm_toml_arena *sm_toml_arena_new(size_t hint);
/* n bytes aligned for any value; NULL on ENOMEM. */
void *sm_toml_arena_alloc(struct sm_toml_arena *a, size_t n);
void sm_toml_arena_free(struct sm_toml_arena *a);
/* A zeroed value of type (from a when not NULL, else malloc'd). */
struct sm_toml_value *sm_toml_node(struct sm_toml_arena *a, enum sm_toml_type type);
/* A string value holding a copy of s (from a when not NULL). */
struct sm_toml_value *sm_toml_node_string(struct sm_toml_arena *a, const char *s, size_t len);
/* sm_toml_tab_append / sm_toml_push with keys and item arrays from a (when not NULL). */
int sm_toml_tab_append_in(struct sm_toml_arena *a, struct sm_toml_value *tab, const char *key,
			  size_t keylen, struct sm_toml_value *value);
int sm_toml_push_in(struct sm_toml_arena *a, struct sm_toml_value *arr,
		    struct sm_toml_value *value);

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
