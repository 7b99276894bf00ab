/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CORE_YAML_PY_INTERNAL_H
#define SKILLMEAT_CORE_YAML_PY_INTERNAL_H

/*
 * Shared by the three parts of the safe_load port: yaml_py.c (arena, compose,
 * the checks where PyYAML is stricter than libyaml), yaml_py_resolve.c
 * (implicit tag resolution) and yaml_py_construct.c (SafeConstructor).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/yaml_py.h"

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_block *head;
};

enum tid {
	T_NULL,
	T_BOOL,
	T_INT,
	T_FLOAT,
	T_BINARY,
	T_TIMESTAMP,
	T_OMAP,
	T_PAIRS,
	T_SET,
	T_STR,
	T_SEQ,
	T_MAP,
	T_MERGE,
	T_VALUE,
	T_OTHER,
};

enum rkind { R_SCALAR, R_SEQ, R_MAP };

struct rnode {
	enum rkind kind;
	enum tid tid;
	bool complete;
	bool flattened;
	const char *tag; /* as written (resolved handle), for messages */
	char *val;	 /* scalar */
	size_t len;
	struct rnode **items; /* seq items; map: key, value, key, value ... */
	size_t n;
	unsigned line;
	struct sm_ypy *obj;
};

struct anchor {
	const char *name;
	struct rnode *node;
};

struct frame {
	struct rnode *node;
	struct rnode **items;
	size_t n, alloc;
};

struct sm_yaml_py_doc {
	struct arena arena;
	struct sm_ypy *root;
};

struct ctx {
	struct arena *arena;
	struct sm_yaml_py_error *e;
	const char *text;
	size_t textlen;
	struct anchor *anchors;
	size_t nanchors, anchors_alloc;
	struct frame frames[SM_YAML_PY_MAX_DEPTH + 1];
	size_t depth;
	struct rnode *root;
	size_t nodes;	      /* sm_ypy_budget: composed nodes plus merged pairs */
	struct rnode **queue; /* collections waiting to be filled */
	size_t nqueue, queue_alloc;
};

struct ts {
	int year, month, day, hour, minute, second, usec;
	bool has_time, tz, tz_sign_neg, tz_signed;
	int tz_hour, tz_minute;
};

/* ---- yaml_py.c: arena, errors ---- */

void *sm_ypy_arena_alloc(struct arena *a, size_t n);
void *sm_ypy_arena_zalloc(struct arena *a, size_t n);
char *sm_ypy_arena_strndup(struct arena *a, const char *s, size_t n);
/* record a failure of kind at line in c->e; returns -EBADMSG */
int sm_ypy_fail(struct ctx *c, enum sm_yaml_py_fail kind, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- yaml_py_resolve.c: PyYAML's Resolver ---- */

extern const char *const sm_ypy_bool_words[];
bool sm_ypy_is_digit(char ch);
/* s[0..n) is one of the NULL-terminated words */
bool sm_ypy_one_of(const char *s, size_t n, const char *const *words);
/* PyYAML's timestamp_regexp (the constructor's, a superset of the resolver's) */
bool sm_ypy_parse_ts(const char *s, size_t n, struct ts *t);
/* the implicit tag of a plain scalar */
enum tid sm_ypy_resolve_plain(const char *s, size_t n);
/* the tid of an explicit tag:yaml.org,2002: tag, T_OTHER for any other */
enum tid sm_ypy_tag_id(const char *tag);

/* ---- yaml_py_construct.c: SafeConstructor ---- */

/* count more nodes against the document's budget; -EBADMSG past it */
int sm_ypy_budget(struct ctx *c, size_t more, unsigned line);
/* construct c->root (composed, checked) into *ret (arena-owned) */
int sm_ypy_construct_document(struct ctx *c, struct sm_ypy **ret);

#endif
