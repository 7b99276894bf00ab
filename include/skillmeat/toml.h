/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_TOML_H
#define SKILLMEAT_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/*
 * TOML 1.0: a decoder into an ordered document tree and an encoder that writes
 * a tree the way Python's tomli_w does (spec/skillmeat-formats.md §0).
 * Key order is preserved through decode and encode.
 *
 * Ownership: a value owns its children. Setters and pushes take ownership of
 * the value passed in (also on failure: it is freed). Getters return borrowed
 * pointers valid until the owning tree is changed or freed. Lookups never
 * modify a tree (large tables keep a key index up to date as they change), so
 * several threads may read one tree at the same time.
 */

/*
 * Nesting limit: the decoder refuses a document in which a table or an array
 * lies more than this many levels below the root, whatever path leads there
 * (dotted keys, [a.b.c] headers, [[arrays of tables]], arrays, inline tables).
 * Freeing and encoding never recurse; clone and equality stop at this depth.
 */
#define SM_TOML_MAX_DEPTH 512

enum sm_toml_type {
	SM_TOML_STRING,
	SM_TOML_INTEGER,
	SM_TOML_FLOAT,
	SM_TOML_BOOL,
	SM_TOML_DATETIME,	/* offset date-time: 1979-05-27T07:32:00Z */
	SM_TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
	SM_TOML_DATE_LOCAL,	/* 1979-05-27 */
	SM_TOML_TIME_LOCAL,	/* 07:32:00 */
	SM_TOML_ARRAY,
	SM_TOML_TABLE,
	/*
	 * An integer beyond 64 bits, kept as its decimal digits ("-" and digits,
	 * no leading zero, in u.str): only sm_toml_parse_flags with
	 * SM_TOML_BIG_INTEGERS makes these (Python SkillMeat writes them).
	 */
	SM_TOML_BIG_INTEGER,
};

/* Flags of sm_toml_parse_flags. */
enum {
	/*
	 * Keep decimal integers beyond 64 bits (up to SM_TOML_BIG_DIGITS digits,
	 * Python's int-to-str limit) as SM_TOML_BIG_INTEGER instead of refusing
	 * them. TOML 1.0 lets a decoder refuse them; tomllib keeps them.
	 */
	SM_TOML_BIG_INTEGERS = 1u << 0,
	/*
	 * Allocate the tree's nodes, strings, keys and item arrays from one
	 * arena owned by the root, freed with the root (a parse of a large file
	 * without a malloc and a free per value). The tree is used as any other
	 * (values set, replaced, removed, taken out and freed), with one rule:
	 * a value taken out of it must be freed (or put back) before the root is.
	 */
	SM_TOML_ARENA = 1u << 1,
};
#define SM_TOML_BIG_DIGITS 4300

struct sm_toml_datetime {
	int year, month, day;	  /* date part (unused for TIME_LOCAL) */
	int hour, minute, second; /* time part (unused for DATE_LOCAL) */
	uint32_t nanosecond;	  /* fraction of the second, in ns */
	int frac_digits;	  /* digits written in the source (0 = none), max 9 */
	int offset_minutes;	  /* DATETIME only; 0 with offset_z for 'Z' */
	bool offset_z;		  /* DATETIME written with 'Z' */
};

struct sm_toml_value;

struct sm_toml_kv {
	char *key; /* NUL-terminated; may contain NUL bytes only via keylen */
	size_t keylen;
	struct sm_toml_value *value;
	bool arena_key; /* internal: key lives in the root's arena (SM_TOML_ARENA) */
};

struct sm_toml_value {
	enum sm_toml_type type;
	uint32_t flags; /* internal (decoder bookkeeping, inline/array-of-tables) */
	union {
		struct {
			char *ptr; /* NUL-terminated; len excludes the NUL */
			size_t len;
		} str;
		int64_t i;
		double f;
		bool b;
		struct sm_toml_datetime dt;
		struct {
			struct sm_toml_value **items;
			size_t len;
			size_t alloc;
		} arr;
		struct {
			struct sm_toml_kv *items; /* in insertion order */
			size_t len;
			size_t alloc;
			void *index; /* internal key index for large tables */
			void *arena; /* internal: the arena a root of SM_TOML_ARENA owns */
		} tab;
	} u;
};

/*
 * Decode a whole document (UTF-8, no NUL bytes) into a root table.
 * Errors: -EBADMSG with "line L, column C: <what>" in err (1-based; columns
 * count characters); -ENOMEM. *ret is written only on success. CRLF inside
 * multi-line strings becomes LF (as tomllib does); fractional seconds beyond
 * 9 digits are truncated.
 */
int sm_toml_parse(const char *buf, size_t len, struct sm_toml_value **ret, struct strbuf *err);
/* sm_toml_parse with SM_TOML_* flags (sm_toml_parse is flags 0: strict 64-bit integers). */
int sm_toml_parse_flags(const char *buf, size_t len, unsigned flags, struct sm_toml_value **ret,
			struct strbuf *err);

/*
 * Encode a root table the way tomli_w.dumps does: in each table plain
 * key/values first, then sub-tables ([a.b]) and arrays of tables ([[a]]);
 * non-empty arrays one item per line with a 4-space indent and a trailing
 * comma; basic strings with tomli_w's escapes; bare keys where allowed; a list
 * of tables written as an inline array of inline tables when every item fits
 * tomli_w's line limit. Scalars are written as Python's str() writes what
 * tomllib returns: floats as repr() (1.0, 1e+20, inf, nan), date-times with a
 * space separator, "+00:00" for Z and 6 fraction digits (9 when the value has
 * sub-microsecond precision, which Python cannot hold).
 * Appends to out; on failure out is left as it was. -EINVAL if root is not a
 * table or a string or key is not valid UTF-8; -ENOMEM; -E2BIG when out's cap
 * is reached.
 */
int sm_toml_encode(const struct sm_toml_value *root, struct strbuf *out, struct strbuf *err);

void sm_toml_free(struct sm_toml_value *v);
static inline void sm_toml_freep(struct sm_toml_value **v)
{
	sm_toml_free(*v);
}

/* Constructors: NULL on ENOMEM. */
struct sm_toml_value *sm_toml_new_table(void);
struct sm_toml_value *sm_toml_new_array(void);
struct sm_toml_value *sm_toml_new_string(const char *s);
struct sm_toml_value *sm_toml_new_stringn(const char *s, size_t len);
struct sm_toml_value *sm_toml_new_int(int64_t i);
struct sm_toml_value *sm_toml_new_float(double f);
struct sm_toml_value *sm_toml_new_bool(bool b);
struct sm_toml_value *sm_toml_new_datetime(enum sm_toml_type type,
					   const struct sm_toml_datetime *dt);
/*
 * An integer beyond 64 bits from its decimal digits (optional '-', no leading
 * zero, at most SM_TOML_BIG_DIGITS digits); NULL when malformed or on ENOMEM.
 */
struct sm_toml_value *sm_toml_new_big_integer(const char *digits, size_t len);
/* Does v or anything below it hold an SM_TOML_BIG_INTEGER? */
bool sm_toml_has_big_integer(const struct sm_toml_value *v);
/* Deep copy; NULL on ENOMEM. */
struct sm_toml_value *sm_toml_clone(const struct sm_toml_value *v);
/*
 * Deep equality: tables compare as ordered key lists when ordered, else as
 * maps; arrays in order. Floats by value (nan equals nan, 0.0 differs from
 * -0.0); date-times by value (Z equals +00:00, trailing fraction zeros ignored).
 */
bool sm_toml_equal(const struct sm_toml_value *a, const struct sm_toml_value *b, bool ordered);

/*
 * Reading a value without touching its members (code outside src/toml uses
 * only these; tests/lint/toml_members.sh checks it). All accept NULL.
 */
enum sm_toml_type sm_toml_type(const struct sm_toml_value *v); /* -1 cast for NULL */
/* Items of an array, keys of a table; 0 for anything else. */
size_t sm_toml_len(const struct sm_toml_value *v);
/* Item i of an array; NULL when v is not an array or i is out of range. */
struct sm_toml_value *sm_toml_at(const struct sm_toml_value *arr, size_t i);
/* Key/value pair i of a table (in order); NULL when not a table or out of range. */
const struct sm_toml_kv *sm_toml_kv_at(const struct sm_toml_value *tab, size_t i);
/* The value of pair i of a table; NULL when not a table or out of range. */
struct sm_toml_value *sm_toml_value_at(const struct sm_toml_value *tab, size_t i);
/* A string's bytes (NUL-terminated) and length; NULL / 0 when v is not a string. */
const char *sm_toml_str(const struct sm_toml_value *v);
size_t sm_toml_strlen(const struct sm_toml_value *v);
/* The digits of an SM_TOML_BIG_INTEGER; NULL for anything else. */
const char *sm_toml_big_digits(const struct sm_toml_value *v);

/* Table access. NULL when missing (or tab is not a table). */
struct sm_toml_value *sm_toml_get(const struct sm_toml_value *tab, const char *key);
struct sm_toml_value *sm_toml_getn(const struct sm_toml_value *tab, const char *key,
				   size_t keylen);
/* Dotted path of bare segments: "settings.default-collection". */
struct sm_toml_value *sm_toml_get_path(const struct sm_toml_value *tab, const char *path);
/* Typed helpers: NULL / false when missing or of another type. */
const char *sm_toml_get_string(const struct sm_toml_value *tab, const char *key);
bool sm_toml_get_int(const struct sm_toml_value *tab, const char *key, int64_t *ret);
bool sm_toml_get_bool(const struct sm_toml_value *tab, const char *key, bool *ret);

/*
 * Set key to value (ownership taken). An existing key keeps its position and
 * its old value is freed; a new key is appended. -ENOMEM, -EINVAL (tab not a table).
 */
int sm_toml_set(struct sm_toml_value *tab, const char *key, struct sm_toml_value *value);
int sm_toml_setn(struct sm_toml_value *tab, const char *key, size_t keylen,
		 struct sm_toml_value *value);
/* Convenience: set a string value. */
int sm_toml_set_string(struct sm_toml_value *tab, const char *key, const char *s);
/* Remove key (freeing its value), keeping the order of the others. -ENOENT if missing. */
int sm_toml_remove(struct sm_toml_value *tab, const char *key);
/*
 * Take key's value out of the table without freeing it (NULL if missing);
 * the caller owns the result.
 */
struct sm_toml_value *sm_toml_take(struct sm_toml_value *tab, const char *key);

/* Arrays. */
int sm_toml_push(struct sm_toml_value *arr, struct sm_toml_value *value);
/* Remove and free item idx, keeping order. -ENOENT when out of range. */
int sm_toml_array_remove(struct sm_toml_value *arr, size_t idx);

/* Put value at idx (ownership taken) and return the item it replaces (now the caller's). */
struct sm_toml_value *sm_toml_array_swap(struct sm_toml_value *arr, size_t idx,
					 struct sm_toml_value *value);
/* Take item idx out, keeping order (the caller owns it); NULL when out of range. */
struct sm_toml_value *sm_toml_array_take(struct sm_toml_value *arr, size_t idx);
/* Insert value at idx <= len, keeping order (ownership taken, also on failure). -ENOMEM, -EINVAL. */
int sm_toml_array_insert(struct sm_toml_value *arr, size_t idx, struct sm_toml_value *value);
/*
 * Reorder a table's pairs: those whose value first() accepts come first, the
 * others after, each group in its old order. -ENOMEM (table unchanged).
 */
int sm_toml_table_partition(struct sm_toml_value *tab,
			    bool (*first)(const struct sm_toml_value *value));

const char *sm_toml_type_name(enum sm_toml_type type);

#endif
