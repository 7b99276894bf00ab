/* SPDX-License-Identifier: MIT */
#ifndef SM_CORE_YAML_PY_H
#define SM_CORE_YAML_PY_H

/*
 * YAML loading with PyYAML safe_load semantics, on top of libyaml's event
 * parser: YAML 1.1 implicit resolution (bools yes/no/on/off, ints with
 * underscores, 0b/0x/octal and base 60, floats, timestamps, nulls), merge
 * keys, the SafeConstructor tags, duplicate keys (last value wins, first
 * position kept, Python equality so 1, 1.0 and true are one key) and
 * Python's str() of the resulting values. Internal to src/core.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct sm_toml_value;

/* Python value kinds a safe_load can produce. */
enum sm_ypy_type {
	SM_YPY_NULL,
	SM_YPY_BOOL,
	SM_YPY_INT,
	SM_YPY_BIGINT, /* outside int64: u.s holds the decimal digits (with '-') */
	SM_YPY_FLOAT,
	SM_YPY_STR,
	SM_YPY_BYTES, /* !!binary */
	SM_YPY_DATE,
	SM_YPY_DATETIME,
	SM_YPY_SEQ,
	SM_YPY_TUPLE, /* items of !!omap / !!pairs */
	SM_YPY_SET,   /* !!set: u.seq holds the members in document order */
	SM_YPY_MAP,
};

struct sm_ypy_dt {
	int year, month, day;
	int hour, minute, second, usec;
	bool aware;	/* had a zone */
	int offset_sec; /* when aware */
};

struct sm_ypy {
	enum sm_ypy_type type;
	uint32_t size;	 /* nodes in the expanded tree (aliases counted each time) */
	uint32_t height; /* depth of the expanded tree */
	union {
		bool b;
		int64_t i;
		double f;
		struct {
			char *ptr; /* NUL-terminated; may hold NULs (len counts) */
			size_t len;
		} s;
		struct sm_ypy_dt dt;
		struct {
			struct sm_ypy **items;
			size_t len;
		} seq;
		struct {
			struct sm_ypy **keys;
			struct sm_ypy **vals;
			size_t len;
		} map;
	} u;
};

/* Limits: past them the document is rejected as malformed. */
#define SM_YAML_PY_MAX_NODES 100000 /* expanded nodes (billion laughs) */
#define SM_YAML_PY_MAX_DEPTH 200    /* nesting, also after alias expansion */

enum sm_yaml_py_fail {
	SM_YAML_PY_SYNTAX = 1, /* what PyYAML reports as a YAMLError */
	SM_YAML_PY_VALUE,      /* what makes PyYAML raise another exception */
};

struct sm_yaml_py_error {
	enum sm_yaml_py_fail kind;
	unsigned line;	  /* 0-based line in the text */
	int context_line; /* 0-based line where the construct began, or -1 */
	char msg[200];
};

struct sm_yaml_py_doc;

/*
 * Load one YAML document from text (UTF-8). 0 on success; -EBADMSG when
 * loading fails (details in *e, kind tells PyYAML's exception class);
 * -ENOMEM. An empty stream loads as None.
 */
int sm_yaml_py_load(const char *text, size_t len, struct sm_yaml_py_doc **ret,
		    struct sm_yaml_py_error *e);
/* The document's value; borrowed, valid until the doc is freed. */
const struct sm_ypy *sm_yaml_py_root(const struct sm_yaml_py_doc *doc);
void sm_yaml_py_doc_free(struct sm_yaml_py_doc *doc);

/* dict.get(key) for a str key; NULL when missing (a None value is a NULL-type node). */
const struct sm_ypy *sm_ypy_map_get(const struct sm_ypy *map, const char *key);
/* Python's bool(v). */
bool sm_ypy_truthy(const struct sm_ypy *v);
/* v is a str equal to s. */
bool sm_ypy_str_eq(const struct sm_ypy *v, const char *s);
/* Append Python's str(v) / repr(v). */
int sm_ypy_str(const struct sm_ypy *v, struct strbuf *out);
int sm_ypy_repr(const struct sm_ypy *v, struct strbuf *out);

/*
 * Convert to a TOML value: str → string, int → integer (outside int64 →
 * string), float, bool, date → local date, datetime → local or offset
 * datetime, seq/tuple/set → array, map → table with str() keys, bytes →
 * string (Python repr). None is dropped: a None v gives *ret = NULL, None
 * items and None-valued keys are left out. 0 or -ENOMEM.
 */
int sm_ypy_to_toml(const struct sm_ypy *v, struct sm_toml_value **ret);

/* Decode one UTF-8 sequence at p (< end); returns its length, 0 when invalid. */
size_t sm_ypy_utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp);
/* Python's str.isspace() for one code point. */
bool sm_ypy_isspace(uint32_t cp);

#endif
