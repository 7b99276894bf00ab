/* SPDX-License-Identifier: MIT */
/* TOML document tree: constructors, lookup (with a key index), edits, clone, equality. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "skillmeat/toml.h"
#include "toml/toml_internal.h"
#include "skillmeat/utf8.h"
#include "util/banned.h"

/* Tables with at least this many keys get a hash index. */
#define INDEX_MIN 16

/* The key index is the util hash map: key → item index + 1. */
static void index_free(struct sm_toml_value *tab)
{
	sm_hashmap_free(tab->u.tab.index);
	tab->u.tab.index = NULL;
}

static bool index_put(struct sm_hashmap *ix, const struct sm_toml_kv *kv, size_t idx)
{
	return sm_hashmap_put(ix, kv->key, kv->keylen, (void *)(uintptr_t)(idx + 1), NULL) == 0;
}

/* (Re)build the index; without one (ENOMEM) lookups scan linearly. */
static bool index_build(struct sm_toml_value *tab)
{
	struct sm_hashmap *ix;

	index_free(tab);
	if (sm_hashmap_new(&ix) < 0)
		return false;
	for (size_t i = 0; i < tab->u.tab.len; i++) {
		if (!index_put(ix, &tab->u.tab.items[i], i)) {
			sm_hashmap_free(ix);
			return false;
		}
	}
	tab->u.tab.index = ix;
	return true;
}

static long linear_find(const struct sm_toml_value *tab, const char *key, size_t keylen)
{
	for (size_t i = 0; i < tab->u.tab.len; i++) {
		const struct sm_toml_kv *kv = &tab->u.tab.items[i];

		if (kv->keylen == keylen && memcmp(kv->key, key, keylen) == 0)
			return (long)i;
	}
	return -1;
}

/* Lookups never modify the table, so concurrent readers of a tree are safe. */
long sm_toml_tab_find(const struct sm_toml_value *tab, const char *key, size_t keylen)
{
	void *v;

	if (!tab->u.tab.index)
		return linear_find(tab, key, keylen);
	if (!sm_hashmap_get(tab->u.tab.index, key, keylen, &v))
		return -1;
	return (long)((uintptr_t)v - 1);
}

/* ---- arena (SM_TOML_ARENA) ---------------------------------------- */

struct arena_block {
	struct arena_block *next;
	size_t cap, used;
	_Alignas(16) unsigned char data[];
};

struct sm_toml_arena {
	struct arena_block *head;
	size_t next_cap;
};

#define ARENA_MIN 4096
#define ARENA_MAX (4u << 20)

struct sm_toml_arena *sm_toml_arena_new(size_t hint)
{
	struct sm_toml_arena *a = sm_calloc(1, sizeof(*a));

	if (a)
		a->next_cap = hint < ARENA_MIN ? ARENA_MIN : hint > ARENA_MAX ? ARENA_MAX : hint;
	return a;
}

void *sm_toml_arena_alloc(struct sm_toml_arena *a, size_t n)
{
	struct arena_block *b = a->head;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < n) {
		size_t cap = a->next_cap;

		if (cap < n)
			cap = n;
		b = sm_malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		if (a->next_cap < ARENA_MAX)
			a->next_cap *= 2;
	}
	b->used += n;
	return b->data + b->used - n;
}

void sm_toml_arena_free(struct sm_toml_arena *a)
{
	if (!a)
		return;
	while (a->head) {
		struct arena_block *next = a->head->next;

		sm_free(a->head);
		a->head = next;
	}
	sm_free(a);
}

struct sm_toml_value *sm_toml_node(struct sm_toml_arena *a, enum sm_toml_type type)
{
	struct sm_toml_value *v;

	if (!a)
		v = sm_calloc(1, sizeof(*v));
	else if ((v = sm_toml_arena_alloc(a, sizeof(*v))))
		memset(v, 0, sizeof(*v));
	if (v) {
		v->type = type;
		if (a)
			v->flags = SM_TOML_F_ARENA;
	}
	return v;
}

struct sm_toml_value *sm_toml_node_string(struct sm_toml_arena *a, const char *s, size_t len)
{
	struct sm_toml_value *v;
	char *p;

	if (!a)
		return sm_toml_new_stringn(s, len);
	/* node and bytes in one piece */
	if (len > SIZE_MAX - sizeof(*v) - 1 || !(v = sm_toml_arena_alloc(a, sizeof(*v) + len + 1)))
		return NULL;
	memset(v, 0, sizeof(*v));
	v->type = SM_TOML_STRING;
	v->flags = SM_TOML_F_ARENA | SM_TOML_F_ARENA_STR;
	p = (char *)(v + 1);
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	v->u.str.ptr = p;
	v->u.str.len = len;
	return v;
}

/*
 * Room for n items of size sz in *items (alloc of them now): doubled from a
 * when not NULL, else by realloc; an array in the arena is copied out of it.
 */
static int grow_items(struct sm_toml_arena *a, struct sm_toml_value *v, void **items,
		      size_t *alloc, size_t len, size_t sz)
{
	size_t na = *alloc ? *alloc * 2 : 4;
	void *n;

	if (na > SIZE_MAX / sz)
		return -ENOMEM;
	if (a) {
		if (!(n = sm_toml_arena_alloc(a, na * sz)))
			return -ENOMEM;
		if (len)
			memcpy(n, *items, len * sz);
		if (!(v->flags & SM_TOML_F_ARENA_ITEMS))
			sm_free(*items);
		v->flags |= SM_TOML_F_ARENA_ITEMS;
	} else if (v->flags & SM_TOML_F_ARENA_ITEMS) {
		if (!(n = sm_reallocarray(NULL, na, sz)))
			return -ENOMEM;
		if (len)
			memcpy(n, *items, len * sz);
		v->flags &= ~(uint32_t)SM_TOML_F_ARENA_ITEMS;
	} else if (!(n = sm_reallocarray(*items, na, sz))) {
		return -ENOMEM;
	}
	*items = n;
	*alloc = na;
	return 0;
}

int sm_toml_tab_append_in(struct sm_toml_arena *a, struct sm_toml_value *tab, const char *key,
			  size_t keylen, struct sm_toml_value *value)
{
	struct sm_toml_kv *kv;
	char *k = NULL;

	if (tab->u.tab.len == tab->u.tab.alloc) {
		void *items = tab->u.tab.items;

		if (grow_items(a, tab, &items, &tab->u.tab.alloc, tab->u.tab.len,
			       sizeof(struct sm_toml_kv)) < 0)
			return -ENOMEM;
		tab->u.tab.items = items;
	}
	if (!a) {
		k = sm_memdup0(key, keylen);
	} else if (keylen < SIZE_MAX && (k = sm_toml_arena_alloc(a, keylen + 1))) {
		if (keylen)
			memcpy(k, key, keylen);
		k[keylen] = '\0';
	}
	if (!k)
		return -ENOMEM;
	kv = &tab->u.tab.items[tab->u.tab.len];
	kv->key = k;
	kv->keylen = keylen;
	kv->value = value;
	kv->arena_key = a != NULL;
	tab->u.tab.len++;
	/* Without an index (ENOMEM while building it) lookups scan linearly. */
	if (tab->u.tab.index) {
		if (!index_put(tab->u.tab.index, kv, tab->u.tab.len - 1))
			index_free(tab);
	} else if (tab->u.tab.len >= INDEX_MIN) {
		index_build(tab);
	}
	return 0;
}

int sm_toml_tab_append(struct sm_toml_value *tab, const char *key, size_t keylen,
		       struct sm_toml_value *value)
{
	return sm_toml_tab_append_in(NULL, tab, key, keylen, value);
}

static struct sm_toml_value *new_value(enum sm_toml_type type)
{
	return sm_toml_node(NULL, type);
}

struct sm_toml_value *sm_toml_new_table(void)
{
	return new_value(SM_TOML_TABLE);
}

struct sm_toml_value *sm_toml_new_array(void)
{
	return new_value(SM_TOML_ARRAY);
}

struct sm_toml_value *sm_toml_new_stringn(const char *s, size_t len)
{
	struct sm_toml_value *v;
	char *p = sm_memdup0(s, len);

	if (!p)
		return NULL;
	v = new_value(SM_TOML_STRING);
	if (!v) {
		sm_free(p);
		return NULL;
	}
	v->u.str.ptr = p;
	v->u.str.len = len;
	return v;
}

struct sm_toml_value *sm_toml_new_string(const char *s)
{
	return sm_toml_new_stringn(s, strlen(s));
}

struct sm_toml_value *sm_toml_new_big_integer(const char *digits, size_t len)
{
	struct sm_toml_value *v;
	size_t i = len && digits[0] == '-';

	if (len - i < 1 || len - i > SM_TOML_BIG_DIGITS || (digits[i] == '0' && len - i > 1))
		return NULL;
	for (; i < len; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return NULL;
	v = sm_toml_new_stringn(digits, len);
	if (v)
		v->type = SM_TOML_BIG_INTEGER;
	return v;
}

bool sm_toml_has_big_integer(const struct sm_toml_value *v)
{
	if (!v)
		return false;
	if (v->type == SM_TOML_BIG_INTEGER)
		return true;
	/* bounded: decoded trees are at most SM_TOML_MAX_DEPTH deep */
	if (v->type == SM_TOML_ARRAY) {
		for (size_t i = 0; i < v->u.arr.len; i++)
			if (sm_toml_has_big_integer(v->u.arr.items[i]))
				return true;
	} else if (v->type == SM_TOML_TABLE) {
		for (size_t i = 0; i < v->u.tab.len; i++)
			if (sm_toml_has_big_integer(v->u.tab.items[i].value))
				return true;
	}
	return false;
}

struct sm_toml_value *sm_toml_new_int(int64_t i)
{
	struct sm_toml_value *v = new_value(SM_TOML_INTEGER);

	if (v)
		v->u.i = i;
	return v;
}

struct sm_toml_value *sm_toml_new_float(double f)
{
	struct sm_toml_value *v = new_value(SM_TOML_FLOAT);

	if (v)
		v->u.f = f;
	return v;
}

struct sm_toml_value *sm_toml_new_bool(bool b)
{
	struct sm_toml_value *v = new_value(SM_TOML_BOOL);

	if (v)
		v->u.b = b;
	return v;
}

struct sm_toml_value *sm_toml_new_datetime(enum sm_toml_type type,
					   const struct sm_toml_datetime *dt)
{
	struct sm_toml_value *v;

	if (type < SM_TOML_DATETIME || type > SM_TOML_TIME_LOCAL)
		return NULL;
	v = new_value(type);
	if (v)
		v->u.dt = *dt;
	return v;
}

static bool has_children(const struct sm_toml_value *v)
{
	return (v->type == SM_TOML_ARRAY && v->u.arr.len) ||
	       (v->type == SM_TOML_TABLE && v->u.tab.len);
}

static size_t *children_len(struct sm_toml_value *v)
{
	return v->type == SM_TOML_ARRAY ? &v->u.arr.len : &v->u.tab.len;
}

static struct sm_toml_value **child_slot(struct sm_toml_value *v, size_t i)
{
	return v->type == SM_TOML_ARRAY ? &v->u.arr.items[i] : &v->u.tab.items[i].value;
}

/* Free v, whose children (if any) are already gone. */
static void free_node(struct sm_toml_value *v)
{
	struct sm_toml_arena *arena = NULL;
	bool own_items = !(v->flags & SM_TOML_F_ARENA_ITEMS);

	switch (v->type) {
	case SM_TOML_STRING:
	case SM_TOML_BIG_INTEGER:
		if (!(v->flags & SM_TOML_F_ARENA_STR))
			sm_free(v->u.str.ptr);
		break;
	case SM_TOML_ARRAY:
		if (own_items)
			sm_free(v->u.arr.items);
		break;
	case SM_TOML_TABLE:
		if (own_items)
			sm_free(v->u.tab.items);
		index_free(v);
		arena = v->u.tab.arena;
		break;
	default:
		break;
	}
	if (!(v->flags & SM_TOML_F_ARENA))
		sm_free(v);
	/* last: the root of an arena tree lives in it */
	sm_toml_arena_free(arena);
}

/*
 * Iterative, allocation-free post-order free, however deep the tree. Children
 * are taken from the end of each container; on the way down, the slot just
 * emptied in the parent holds the grandparent (pointer reversal), so the way
 * back up needs no stack.
 */
void sm_toml_free(struct sm_toml_value *v)
{
	struct sm_toml_value *up = NULL;

	while (v) {
		if (has_children(v)) {
			size_t i = --*children_len(v);
			struct sm_toml_value **slot = child_slot(v, i);
			struct sm_toml_value *c = *slot;

			if (v->type == SM_TOML_TABLE && !v->u.tab.items[i].arena_key)
				sm_free(v->u.tab.items[i].key);
			if (c && has_children(c)) {
				*slot = up;
				up = v;
				v = c;
			} else if (c) {
				free_node(c);
			}
			continue;
		}
		{
			struct sm_toml_value *parent = up;

			if (parent)
				up = *child_slot(parent, *children_len(parent));
			free_node(v);
			v = parent;
		}
	}
}

static struct sm_toml_value *clone_at(const struct sm_toml_value *v, int depth)
{
	struct sm_toml_value *c;

	if (!v || depth > SM_TOML_MAX_DEPTH + 1)
		return NULL;
	switch (v->type) {
	case SM_TOML_STRING:
		c = sm_toml_new_stringn(v->u.str.ptr, v->u.str.len);
		break;
	case SM_TOML_BIG_INTEGER:
		c = sm_toml_new_big_integer(v->u.str.ptr, v->u.str.len);
		break;
	case SM_TOML_ARRAY:
		c = sm_toml_new_array();
		if (!c)
			return NULL;
		for (size_t i = 0; i < v->u.arr.len; i++) {
			struct sm_toml_value *item = clone_at(v->u.arr.items[i], depth + 1);

			if (!item || sm_toml_push(c, item) < 0) {
				sm_toml_free(c);
				return NULL;
			}
		}
		break;
	case SM_TOML_TABLE:
		c = sm_toml_new_table();
		if (!c)
			return NULL;
		for (size_t i = 0; i < v->u.tab.len; i++) {
			const struct sm_toml_kv *kv = &v->u.tab.items[i];
			struct sm_toml_value *item = clone_at(kv->value, depth + 1);

			if (!item)
				goto fail_tab;
			if (sm_toml_tab_append(c, kv->key, kv->keylen, item) < 0) {
				sm_toml_free(item);
				goto fail_tab;
			}
		}
		break;
	fail_tab:
		sm_toml_free(c);
		return NULL;
	default:
		c = new_value(v->type);
		if (c)
			c->u = v->u;
		break;
	}
	if (c) /* a copy is malloc'd whatever the original */
		c->flags = v->flags & ~(uint32_t)(SM_TOML_F_ARENA | SM_TOML_F_ARENA_STR |
						  SM_TOML_F_ARENA_ITEMS);
	return c;
}

struct sm_toml_value *sm_toml_clone(const struct sm_toml_value *v)
{
	return clone_at(v, 0);
}

static bool dt_equal(enum sm_toml_type t, const struct sm_toml_datetime *a,
		     const struct sm_toml_datetime *b)
{
	if (t != SM_TOML_TIME_LOCAL &&
	    (a->year != b->year || a->month != b->month || a->day != b->day))
		return false;
	if (t != SM_TOML_DATE_LOCAL && (a->hour != b->hour || a->minute != b->minute ||
					a->second != b->second || a->nanosecond != b->nanosecond))
		return false;
	if (t == SM_TOML_DATETIME && a->offset_minutes != b->offset_minutes)
		return false;
	return true;
}

static bool equal_at(const struct sm_toml_value *a, const struct sm_toml_value *b, bool ordered,
		     int depth)
{
	if (a == b)
		return true;
	if (!a || !b || a->type != b->type || depth > SM_TOML_MAX_DEPTH + 1)
		return false;
	switch (a->type) {
	case SM_TOML_STRING:
	case SM_TOML_BIG_INTEGER:
		return a->u.str.len == b->u.str.len &&
		       memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
	case SM_TOML_INTEGER:
		return a->u.i == b->u.i;
	case SM_TOML_FLOAT:
		if (isnan(a->u.f) || isnan(b->u.f))
			return isnan(a->u.f) && isnan(b->u.f);
		return a->u.f == b->u.f && signbit(a->u.f) == signbit(b->u.f);
	case SM_TOML_BOOL:
		return a->u.b == b->u.b;
	case SM_TOML_ARRAY:
		if (a->u.arr.len != b->u.arr.len)
			return false;
		for (size_t i = 0; i < a->u.arr.len; i++)
			if (!equal_at(a->u.arr.items[i], b->u.arr.items[i], ordered, depth + 1))
				return false;
		return true;
	case SM_TOML_TABLE:
		if (a->u.tab.len != b->u.tab.len)
			return false;
		for (size_t i = 0; i < a->u.tab.len; i++) {
			const struct sm_toml_kv *ka = &a->u.tab.items[i];
			const struct sm_toml_value *vb;

			if (ordered) {
				const struct sm_toml_kv *kb = &b->u.tab.items[i];

				if (ka->keylen != kb->keylen ||
				    memcmp(ka->key, kb->key, ka->keylen) != 0)
					return false;
				vb = kb->value;
			} else {
				long j = sm_toml_tab_find(b, ka->key, ka->keylen);

				if (j < 0)
					return false;
				vb = b->u.tab.items[j].value;
			}
			if (!equal_at(ka->value, vb, ordered, depth + 1))
				return false;
		}
		return true;
	default:
		return dt_equal(a->type, &a->u.dt, &b->u.dt);
	}
}

enum sm_toml_type sm_toml_type(const struct sm_toml_value *v)
{
	return v ? v->type : (enum sm_toml_type)-1;
}

size_t sm_toml_len(const struct sm_toml_value *v)
{
	if (v && v->type == SM_TOML_ARRAY)
		return v->u.arr.len;
	if (v && v->type == SM_TOML_TABLE)
		return v->u.tab.len;
	return 0;
}

struct sm_toml_value *sm_toml_at(const struct sm_toml_value *arr, size_t i)
{
	if (!arr || arr->type != SM_TOML_ARRAY || i >= arr->u.arr.len)
		return NULL;
	return arr->u.arr.items[i];
}

const struct sm_toml_kv *sm_toml_kv_at(const struct sm_toml_value *tab, size_t i)
{
	if (!tab || tab->type != SM_TOML_TABLE || i >= tab->u.tab.len)
		return NULL;
	return &tab->u.tab.items[i];
}

struct sm_toml_value *sm_toml_value_at(const struct sm_toml_value *tab, size_t i)
{
	const struct sm_toml_kv *kv = sm_toml_kv_at(tab, i);

	return kv ? kv->value : NULL;
}

const char *sm_toml_str(const struct sm_toml_value *v)
{
	return v && v->type == SM_TOML_STRING ? v->u.str.ptr : NULL;
}

size_t sm_toml_strlen(const struct sm_toml_value *v)
{
	return v && v->type == SM_TOML_STRING ? v->u.str.len : 0;
}

const char *sm_toml_big_digits(const struct sm_toml_value *v)
{
	return v && v->type == SM_TOML_BIG_INTEGER ? v->u.str.ptr : NULL;
}

bool sm_toml_equal(const struct sm_toml_value *a, const struct sm_toml_value *b, bool ordered)
{
	return equal_at(a, b, ordered, 0);
}

struct sm_toml_value *sm_toml_getn(const struct sm_toml_value *tab, const char *key, size_t keylen)
{
	long i;

	if (!tab || tab->type != SM_TOML_TABLE)
		return NULL;
	i = sm_toml_tab_find(tab, key, keylen);
	return i < 0 ? NULL : tab->u.tab.items[i].value;
}

struct sm_toml_value *sm_toml_get(const struct sm_toml_value *tab, const char *key)
{
	return sm_toml_getn(tab, key, strlen(key));
}

struct sm_toml_value *sm_toml_get_path(const struct sm_toml_value *tab, const char *path)
{
	const struct sm_toml_value *v = tab;

	for (;;) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		v = sm_toml_getn(v, path, n);
		if (!v || !dot)
			return (struct sm_toml_value *)v;
		path = dot + 1;
	}
}

const char *sm_toml_get_string(const struct sm_toml_value *tab, const char *key)
{
	const struct sm_toml_value *v = sm_toml_get(tab, key);

	return v && v->type == SM_TOML_STRING ? v->u.str.ptr : NULL;
}

bool sm_toml_get_int(const struct sm_toml_value *tab, const char *key, int64_t *ret)
{
	const struct sm_toml_value *v = sm_toml_get(tab, key);

	if (!v || v->type != SM_TOML_INTEGER)
		return false;
	*ret = v->u.i;
	return true;
}

bool sm_toml_get_bool(const struct sm_toml_value *tab, const char *key, bool *ret)
{
	const struct sm_toml_value *v = sm_toml_get(tab, key);

	if (!v || v->type != SM_TOML_BOOL)
		return false;
	*ret = v->u.b;
	return true;
}

int sm_toml_setn(struct sm_toml_value *tab, const char *key, size_t keylen,
		 struct sm_toml_value *value)
{
	long i;
	int r;

	if (!value)
		return -ENOMEM;
	if (!tab || tab->type != SM_TOML_TABLE) {
		sm_toml_free(value);
		return -EINVAL;
	}
	i = sm_toml_tab_find(tab, key, keylen);
	if (i >= 0) {
		sm_toml_free(tab->u.tab.items[i].value);
		tab->u.tab.items[i].value = value;
		return 0;
	}
	r = sm_toml_tab_append(tab, key, keylen, value);
	if (r < 0)
		sm_toml_free(value);
	return r;
}

int sm_toml_set(struct sm_toml_value *tab, const char *key, struct sm_toml_value *value)
{
	return sm_toml_setn(tab, key, strlen(key), value);
}

int sm_toml_set_string(struct sm_toml_value *tab, const char *key, const char *s)
{
	struct sm_toml_value *v = sm_toml_new_string(s);

	if (!v)
		return -ENOMEM;
	return sm_toml_set(tab, key, v);
}

struct sm_toml_value *sm_toml_take(struct sm_toml_value *tab, const char *key)
{
	struct sm_toml_value *v;
	long i;

	if (!tab || tab->type != SM_TOML_TABLE)
		return NULL;
	i = sm_toml_tab_find(tab, key, strlen(key));
	if (i < 0)
		return NULL;
	v = tab->u.tab.items[i].value;
	if (tab->u.tab.index)
		sm_hashmap_remove(tab->u.tab.index, tab->u.tab.items[i].key,
				  tab->u.tab.items[i].keylen, NULL);
	if (!tab->u.tab.items[i].arena_key)
		sm_free(tab->u.tab.items[i].key);
	memmove(&tab->u.tab.items[i], &tab->u.tab.items[i + 1],
		(tab->u.tab.len - (size_t)i - 1) * sizeof(tab->u.tab.items[0]));
	tab->u.tab.len--;
	/* the later items moved down one: their keys exist, so no allocation */
	for (size_t j = (size_t)i; tab->u.tab.index && j < tab->u.tab.len; j++)
		if (!index_put(tab->u.tab.index, &tab->u.tab.items[j], j))
			index_free(tab);
	return v;
}

int sm_toml_remove(struct sm_toml_value *tab, const char *key)
{
	struct sm_toml_value *v;

	if (!tab || tab->type != SM_TOML_TABLE)
		return -EINVAL;
	v = sm_toml_take(tab, key);
	if (!v)
		return -ENOENT;
	sm_toml_free(v);
	return 0;
}

int sm_toml_push_in(struct sm_toml_arena *a, struct sm_toml_value *arr,
		    struct sm_toml_value *value)
{
	if (!value)
		return -ENOMEM;
	if (!arr || arr->type != SM_TOML_ARRAY) {
		sm_toml_free(value);
		return -EINVAL;
	}
	if (arr->u.arr.len == arr->u.arr.alloc) {
		void *items = arr->u.arr.items;

		if (grow_items(a, arr, &items, &arr->u.arr.alloc, arr->u.arr.len,
			       sizeof(struct sm_toml_value *)) < 0) {
			sm_toml_free(value);
			return -ENOMEM;
		}
		arr->u.arr.items = items;
	}
	arr->u.arr.items[arr->u.arr.len++] = value;
	return 0;
}

int sm_toml_push(struct sm_toml_value *arr, struct sm_toml_value *value)
{
	return sm_toml_push_in(NULL, arr, value);
}

int sm_toml_array_remove(struct sm_toml_value *arr, size_t idx)
{
	if (!arr || arr->type != SM_TOML_ARRAY)
		return -EINVAL;
	if (idx >= arr->u.arr.len)
		return -ENOENT;
	sm_toml_free(arr->u.arr.items[idx]);
	memmove(&arr->u.arr.items[idx], &arr->u.arr.items[idx + 1],
		(arr->u.arr.len - idx - 1) * sizeof(arr->u.arr.items[0]));
	arr->u.arr.len--;
	return 0;
}

struct sm_toml_value *sm_toml_array_swap(struct sm_toml_value *arr, size_t idx,
					 struct sm_toml_value *value)
{
	struct sm_toml_value *old;

	if (!arr || arr->type != SM_TOML_ARRAY || idx >= arr->u.arr.len)
		return NULL;
	old = arr->u.arr.items[idx];
	arr->u.arr.items[idx] = value;
	return old;
}

struct sm_toml_value *sm_toml_array_take(struct sm_toml_value *arr, size_t idx)
{
	struct sm_toml_value *v;

	if (!arr || arr->type != SM_TOML_ARRAY || idx >= arr->u.arr.len)
		return NULL;
	v = arr->u.arr.items[idx];
	memmove(&arr->u.arr.items[idx], &arr->u.arr.items[idx + 1],
		(arr->u.arr.len - idx - 1) * sizeof(arr->u.arr.items[0]));
	arr->u.arr.len--;
	return v;
}

int sm_toml_array_insert(struct sm_toml_value *arr, size_t idx, struct sm_toml_value *value)
{
	size_t n;
	int r;

	if (!arr || arr->type != SM_TOML_ARRAY || idx > arr->u.arr.len) {
		sm_toml_free(value);
		return -EINVAL;
	}
	n = arr->u.arr.len;
	if ((r = sm_toml_push(arr, value)) < 0)
		return r;
	memmove(&arr->u.arr.items[idx + 1], &arr->u.arr.items[idx],
		(n - idx) * sizeof(arr->u.arr.items[0]));
	arr->u.arr.items[idx] = value;
	return 0;
}

int sm_toml_table_partition(struct sm_toml_value *tab,
			    bool (*first)(const struct sm_toml_value *value))
{
	size_t n, k = 0;
	struct sm_toml_kv *items;

	if (!tab || tab->type != SM_TOML_TABLE)
		return -EINVAL;
	n = tab->u.tab.len;
	if (n < 2)
		return 0; /* nothing to reorder (and no items array when empty) */
	items = sm_reallocarray(NULL, n, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if (first(tab->u.tab.items[i].value) == (pass == 0))
				items[k++] = tab->u.tab.items[i];
	memcpy(tab->u.tab.items, items, n * sizeof(*items));
	sm_free(items);
	if (tab->u.tab.index && !index_build(tab))
		index_free(tab); /* lookups scan linearly */
	return 0;
}

const char *sm_toml_type_name(enum sm_toml_type type)
{
	static const char *const names[] = {
	    [SM_TOML_STRING] = "string",	 [SM_TOML_INTEGER] = "integer",
	    [SM_TOML_FLOAT] = "float",		 [SM_TOML_BOOL] = "bool",
	    [SM_TOML_DATETIME] = "datetime",	 [SM_TOML_DATETIME_LOCAL] = "datetime-local",
	    [SM_TOML_DATE_LOCAL] = "date-local", [SM_TOML_TIME_LOCAL] = "time-local",
	    [SM_TOML_ARRAY] = "array",		 [SM_TOML_TABLE] = "table",
	    [SM_TOML_BIG_INTEGER] = "integer",
	};

	if ((unsigned)type >= SM_ARRAY_SIZE(names))
		return "unknown";
	return names[type];
}

size_t sm_toml_utf8_len(const unsigned char *p, const unsigned char *end)
{
	return sm_utf8_len(p, end);
}
