/* SPDX-License-Identifier: MIT */
/*
 * PyYAML's SafeConstructor over the composed node graph: scalars by tag
 * (ints of any size, floats, base-60, timestamps, binary), sequences,
 * mappings with merge keys and Python dict semantics (equal keys by value,
 * unhashable keys rejected), !!omap, !!pairs and !!set, with size and depth
 * budgets against alias bombs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yaml_py.h"
#include "core/yaml_py_internal.h"
#include "skillmeat/array.h"
#include "skillmeat/base64.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

/* ---- values --------------------------------------------------------- */

static struct sm_ypy *new_val(struct ctx *c, enum sm_ypy_type type)
{
	struct sm_ypy *v = sm_ypy_arena_zalloc(c->arena, sizeof(*v));

	if (v) {
		v->type = type;
		if (type < SM_YPY_SEQ)
			v->size = v->height = 1;
	}
	return v;
}

static struct sm_ypy *new_strval(struct ctx *c, enum sm_ypy_type type, const char *s, size_t n)
{
	struct sm_ypy *v = new_val(c, type);

	if (v) {
		v->u.s.ptr = sm_ypy_arena_strndup(c->arena, s, n);
		if (!v->u.s.ptr)
			return NULL;
		v->u.s.len = n;
	}
	return v;
}

/* Python equality of hashable values (dict keys). */
static bool num_of(const struct sm_ypy *v, bool *is_int, int64_t *i, double *f)
{
	switch (v->type) {
	case SM_YPY_BOOL:
		*is_int = true;
		*i = v->u.b;
		return true;
	case SM_YPY_INT:
		*is_int = true;
		*i = v->u.i;
		return true;
	case SM_YPY_FLOAT:
		*is_int = false;
		*f = v->u.f;
		return true;
	default:
		return false;
	}
}

static int64_t dt_instant(const struct sm_ypy_dt *d, int64_t *usec)
{
	int64_t days = sm_time_days_from_civil(d->year, d->month, d->day);

	*usec = d->usec;
	return days * 86400 + d->hour * 3600 + d->minute * 60 + d->second -
	       (d->aware ? d->offset_sec : 0);
}

static bool py_eq(const struct sm_ypy *a, const struct sm_ypy *b)
{
	bool ai, bi;
	int64_t ia = 0, ib = 0;
	double fa = 0, fb = 0;

	if (num_of(a, &ai, &ia, &fa) && num_of(b, &bi, &ib, &fb)) {
		if (ai && bi)
			return ia == ib;
		if (!ai && !bi)
			return fa == fb;
		if (ai) {
			fa = fb;
			ib = ia;
		}
		return fa == floor(fa) && fa >= -9223372036854775808.0 &&
		       fa < 9223372036854775808.0 && (int64_t)fa == ib;
	}
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SM_YPY_NULL:
		return true;
	case SM_YPY_BIGINT:
	case SM_YPY_STR:
	case SM_YPY_BYTES:
		return a->u.s.len == b->u.s.len && !memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len);
	case SM_YPY_DATE:
		return a->u.dt.year == b->u.dt.year && a->u.dt.month == b->u.dt.month &&
		       a->u.dt.day == b->u.dt.day;
	case SM_YPY_DATETIME: {
		int64_t ua, ub;

		if (a->u.dt.aware != b->u.dt.aware)
			return false;
		return dt_instant(&a->u.dt, &ua) == dt_instant(&b->u.dt, &ub) && ua == ub;
	}
	default:
		return false;
	}
}

static uint64_t py_hash(const struct sm_ypy *v)
{
	bool is_int;
	int64_t i = 0, us;
	double f = 0;

	if (num_of(v, &is_int, &i, &f)) {
		if (!is_int) {
			if (f == floor(f) && f >= -9223372036854775808.0 &&
			    f < 9223372036854775808.0)
				i = (int64_t)f;
			else
				return sm_hash_fnv1a(7, &f, sizeof(f));
		}
		return sm_hash_fnv1a(11, &i, sizeof(i));
	}
	switch (v->type) {
	case SM_YPY_BIGINT:
	case SM_YPY_STR:
	case SM_YPY_BYTES:
		return sm_hash_fnv1a(SM_FNV1A_INIT + v->type, v->u.s.ptr, v->u.s.len);
	case SM_YPY_DATE:
		return (uint64_t)(v->u.dt.year * 400 + v->u.dt.month * 32 + v->u.dt.day);
	case SM_YPY_DATETIME:
		i = dt_instant(&v->u.dt, &us);
		return (uint64_t)i * 31 + (uint64_t)us;
	default:
		return 0;
	}
}

/* ---- scalar constructors -------------------------------------------- */

/* A little bignum for ints past int64: little-endian base 1e9 limbs. */
struct bignum {
	uint32_t *limb;
	size_t n, alloc;
};

static int big_muladd(struct bignum *b, uint32_t mul, uint32_t add)
{
	uint64_t carry = add;

	for (size_t i = 0; i < b->n; i++) {
		uint64_t x = (uint64_t)b->limb[i] * mul + carry;

		b->limb[i] = (uint32_t)(x % 1000000000u);
		carry = x / 1000000000u;
	}
	while (carry) {
		if (SM_GROW(b->limb, b->alloc, b->n + 1) < 0)
			return -ENOMEM;
		b->limb[b->n++] = (uint32_t)(carry % 1000000000u);
		carry /= 1000000000u;
	}
	return 0;
}

static int digit_val(char ch)
{
	if (sm_ypy_is_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A' + 10;
	return 99;
}

/* Python int(s, base) of an underscore-free string; false when invalid. */
static int big_parse(struct bignum *b, const char *s, size_t n, int base, bool *ok)
{
	size_t i = 0;

	*ok = false;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (base != 10 && n - i >= 2 && s[i] == '0') {
		char p = (char)(s[i + 1] | 0x20);

		if ((base == 2 && p == 'b') || (base == 8 && p == 'o') || (base == 16 && p == 'x'))
			i += 2;
	}
	if (i >= n)
		return 0;
	for (; i < n; i++) {
		int d = digit_val(s[i]);
		int r;

		if (d >= base)
			return 0;
		r = big_muladd(b, (uint32_t)base, (uint32_t)d);
		if (r < 0)
			return r;
	}
	*ok = true;
	return 0;
}

static struct sm_ypy *big_to_val(struct ctx *c, struct bignum *b, bool neg)
{
	char buf[16];
	struct strbuf sb = STRBUF_INIT;
	struct sm_ypy *v = NULL;
	size_t i;

	if (neg && b->n)
		if (sm_strbuf_addch(&sb, '-') < 0)
			goto out;
	if (!b->n) {
		if (sm_strbuf_addch(&sb, '0') < 0)
			goto out;
	}
	for (i = b->n; i-- > 0;) {
		snprintf(buf, sizeof(buf), i + 1 == b->n ? "%u" : "%09u", b->limb[i]);
		if (sm_strbuf_addstr(&sb, buf) < 0)
			goto out;
	}
	{
		const char *digits = sb.buf + (sb.buf[0] == '-');
		size_t nd = strlen(digits);
		const char *lim = sb.buf[0] == '-' ? "9223372036854775808" : "9223372036854775807";

		if (nd < 19 || (nd == 19 && strcmp(digits, lim) <= 0)) {
			v = new_val(c, SM_YPY_INT);
			if (v)
				v->u.i = strtoll(sb.buf, NULL, 10);
		} else {
			v = new_strval(c, SM_YPY_BIGINT, sb.buf, sb.len);
		}
	}
out:
	sm_strbuf_release(&sb);
	return v;
}

/* Copy of s without '_' into a heap string. */
static char *strip_underscores(const char *s, size_t n, size_t *outn)
{
	char *p = sm_malloc(n + 1);
	size_t k = 0;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_')
			p[k++] = s[i];
	p[k] = '\0';
	*outn = k;
	return p;
}

static int construct_int(struct ctx *c, const struct rnode *r, struct sm_ypy **ret)
{
	struct bignum b = {0};
	size_t n, i = 0;
	bool neg = false, ok = false;
	char *s = strip_underscores(r->val, r->len, &n);
	int rc = 0;

	if (!s)
		return -ENOMEM;
	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (!n) {
		ok = false;
	} else if (n - i == 1 && s[i] == '0') {
		ok = true;
	} else if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'b') {
		rc = big_parse(&b, s + i + 2, n - i - 2, 2, &ok);
	} else if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'x') {
		rc = big_parse(&b, s + i + 2, n - i - 2, 16, &ok);
	} else if (n - i >= 1 && s[i] == '0') {
		rc = big_parse(&b, s + i, n - i, 8, &ok);
	} else if (memchr(s + i, ':', n - i)) {
		/* base 60: the first part may be large, the others are small */
		const char *p = s + i, *end = s + n;
		const char *colon = memchr(p, ':', (size_t)(end - p));

		rc = big_parse(&b, p, (size_t)(colon - p), 10, &ok);
		p = colon + 1;
		while (rc == 0 && ok && p <= end) {
			const char *q = memchr(p, ':', (size_t)(end - p));
			struct bignum part = {0};

			if (!q)
				q = end;
			rc = big_parse(&part, p, (size_t)(q - p), 10, &ok);
			if (rc == 0 && ok && part.n > 1)
				ok = false; /* a part >= 1e9 cannot come from the resolver */
			if (rc == 0 && ok)
				rc = big_muladd(&b, 60, part.n ? part.limb[0] : 0);
			sm_free(part.limb);
			p = q + 1;
		}
	} else {
		rc = big_parse(&b, s + i, n - i, 10, &ok);
	}
	if (rc == 0 && !ok)
		rc = sm_ypy_fail(c, SM_YAML_PY_VALUE, r->line, "invalid literal for int(): '%.60s'",
			  r->val);
	if (rc == 0) {
		*ret = big_to_val(c, &b, neg);
		if (!*ret)
			rc = -ENOMEM;
	}
	sm_free(b.limb);
	sm_free(s);
	return rc;
}

/* Python float() of an underscore-free, lowercased string. */
static bool py_float(const char *s, double *ret)
{
	char *end;
	size_t n = strlen(s);

	while (*s == ' ' || *s == '\t')
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n || memchr(s, 'x', n) || memchr(s, '(', n) || memchr(s, 'p', n))
		return false;
	errno = 0;
	*ret = strtod(s, &end);
	return end == s + n;
}

static int construct_float(struct ctx *c, const struct rnode *r, struct sm_ypy **ret)
{
	size_t n, i = 0;
	double sign = 1, val = 0;
	bool ok = true;
	char *s = strip_underscores(r->val, r->len, &n);

	if (!s)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		if (s[k] >= 'A' && s[k] <= 'Z')
			s[k] = (char)(s[k] | 0x20);
	if (n && (s[0] == '-' || s[0] == '+')) {
		if (s[0] == '-')
			sign = -1;
		i = 1;
	}
	if (strcmp(s + i, ".inf") == 0) {
		val = sign * INFINITY;
	} else if (strcmp(s + i, ".nan") == 0) {
		val = NAN;
	} else if (strchr(s + i, ':')) {
		/* base 60, summed from the last part like PyYAML */
		double base = 1;
		char *p = s + n;

		while (ok) {
			char *q = p;
			double d;

			while (q > s + i && q[-1] != ':')
				q--;
			*p = '\0';
			ok = py_float(q, &d);
			val += d * base;
			base *= 60;
			if (q == s + i)
				break;
			p = q - 1;
		}
		val *= sign;
	} else {
		ok = py_float(s + i, &val);
		val *= sign;
	}
	sm_free(s);
	if (!ok)
		return sm_ypy_fail(c, SM_YAML_PY_VALUE, r->line,
			    "could not convert string to float: '%.60s'", r->val);
	*ret = new_val(c, SM_YPY_FLOAT);
	if (!*ret)
		return -ENOMEM;
	(*ret)->u.f = val;
	return 0;
}

static int construct_timestamp(struct ctx *c, const struct rnode *r, struct sm_ypy **ret)
{
	struct ts t;
	struct sm_ypy *v;
	int off;

	if (!sm_ypy_parse_ts(r->val, r->len, &t))
		return sm_ypy_fail(c, SM_YAML_PY_VALUE, r->line, "invalid timestamp '%.60s'", r->val);
	if (t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 ||
	    t.day > sm_time_days_in_month(t.year, t.month))
		return sm_ypy_fail(c, SM_YAML_PY_VALUE, r->line, "invalid date '%.60s'", r->val);
	if (t.has_time && (t.hour > 23 || t.minute > 59 || t.second > 59))
		return sm_ypy_fail(c, SM_YAML_PY_VALUE, r->line, "invalid time '%.60s'", r->val);
	off = (t.tz_hour * 60 + t.tz_minute) * 60;
	if (t.tz_signed && off >= 86400)
		return sm_ypy_fail(c, SM_YAML_PY_VALUE, r->line, "invalid time zone '%.60s'", r->val);
	v = new_val(c, t.has_time ? SM_YPY_DATETIME : SM_YPY_DATE);
	if (!v)
		return -ENOMEM;
	v->u.dt.year = t.year;
	v->u.dt.month = t.month;
	v->u.dt.day = t.day;
	if (t.has_time) {
		v->u.dt.hour = t.hour;
		v->u.dt.minute = t.minute;
		v->u.dt.second = t.second;
		v->u.dt.usec = t.usec;
		v->u.dt.aware = t.tz;
		v->u.dt.offset_sec = t.tz_sign_neg ? -off : off;
	}
	*ret = v;
	return 0;
}

static bool b64_alpha(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '/';
}

/*
 * base64.decodebytes: non-alphabet bytes skipped, padding checked; the
 * alphabet characters kept are decoded by the one base64 codec (util).
 */
static int construct_binary(struct ctx *c, const struct rnode *r, struct sm_ypy **ret)
{
	struct strbuf clean = STRBUF_INIT, out = STRBUF_INIT;
	size_t q = 0, pads = 0;
	struct sm_ypy *v;
	int rc = 0;

	for (size_t i = 0; i < r->len; i++)
		if ((unsigned char)r->val[i] >= 0x80)
			return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, r->line,
				    "failed to convert base64 data into ascii");
	for (size_t i = 0; rc == 0 && i < r->len; i++) {
		if (r->val[i] == '=') {
			if (q >= 2)
				pads++;
			if (q >= 2 && q + pads >= 4)
				break;
			continue;
		}
		if (!b64_alpha((unsigned char)r->val[i]))
			continue;
		pads = 0;
		rc = sm_strbuf_addch(&clean, r->val[i]);
		q = (q + 1) % 4;
	}
	if (rc == 0 && (q == 1 || (q && q + pads < 4))) {
		sm_strbuf_release(&clean);
		return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, r->line, "failed to decode base64 data");
	}
	while (rc == 0 && clean.len % 4)
		rc = sm_strbuf_addch(&clean, '=');
	if (rc == 0)
		rc = sm_base64_decode(clean.buf, clean.len, &out);
	v = rc == 0 ? new_strval(c, SM_YPY_BYTES, out.buf, out.len) : NULL;
	sm_strbuf_release(&clean);
	sm_strbuf_release(&out);
	if (!v)
		return rc == -EINVAL ? sm_ypy_fail(c, SM_YAML_PY_SYNTAX, r->line,
						   "failed to decode base64 data")
				     : -ENOMEM;
	*ret = v;
	return 0;
}

static const char *kind_name(enum rkind k)
{
	return k == R_SCALAR ? "scalar" : k == R_SEQ ? "sequence" : "mapping";
}

static int expect(struct ctx *c, const struct rnode *r, enum rkind kind)
{
	if (r->kind == kind)
		return 0;
	return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, r->line, "expected a %s node, but found %s",
		    kind_name(kind), kind_name(r->kind));
}

static int construct_scalar(struct ctx *c, struct rnode *r, struct sm_ypy **ret)
{
	struct sm_ypy *v;
	int rc;

	switch (r->tid) {
	case T_NULL:
		v = new_val(c, SM_YPY_NULL);
		break;
	case T_BOOL: {
		char low[6] = {0};

		for (size_t i = 0; i < r->len && i < 5; i++)
			low[i] = (char)(r->val[i] >= 'A' && r->val[i] <= 'Z' ? r->val[i] | 0x20
									     : r->val[i]);
		if (r->len > 5 || !sm_ypy_one_of(low, r->len, sm_ypy_bool_words))
			return sm_ypy_fail(c, SM_YAML_PY_VALUE, r->line, "invalid bool '%.60s'", r->val);
		v = new_val(c, SM_YPY_BOOL);
		if (v)
			v->u.b = low[0] == 'y' || low[0] == 't' || (low[0] == 'o' && low[1] == 'n');
		break;
	}
	case T_INT:
		return construct_int(c, r, ret);
	case T_FLOAT:
		return construct_float(c, r, ret);
	case T_TIMESTAMP:
		return construct_timestamp(c, r, ret);
	case T_BINARY:
		return construct_binary(c, r, ret);
	case T_STR:
		v = new_strval(c, SM_YPY_STR, r->val, r->len);
		break;
	default:
		rc = sm_ypy_fail(c, SM_YAML_PY_SYNTAX, r->line,
			  "could not determine a constructor for the tag '%.80s'",
			  r->tid == T_MERGE   ? "tag:yaml.org,2002:merge"
			  : r->tid == T_VALUE ? "tag:yaml.org,2002:value"
			  : r->tag	      ? r->tag
					      : "?");
		return rc;
	}
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

/* ---- collections ---------------------------------------------------- */

struct vec {
	struct rnode **p;
	size_t n, alloc;
};

static int vec_push(struct vec *v, struct rnode *a, struct rnode *b)
{
	if (SM_GROW(v->p, v->alloc, v->n + 2) < 0)
		return -ENOMEM;
	v->p[v->n++] = a;
	v->p[v->n++] = b;
	return 0;
}

int sm_ypy_budget(struct ctx *c, size_t more, unsigned line)
{
	c->nodes += more;
	if (c->nodes > SM_YAML_PY_MAX_NODES)
		return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, line,
			    "too many nodes after merging (more than %d)", SM_YAML_PY_MAX_NODES);
	return 0;
}

/* PyYAML's flatten_mapping: merged pairs first, the node's own pairs after. */
static int flatten(struct ctx *c, struct rnode *node, int depth)
{
	struct vec merge = {0}, own = {0};
	int rc = 0;

	if (node->flattened)
		return 0;
	if (depth > 2 * SM_YAML_PY_MAX_DEPTH)
		return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, node->line, "merge keys nested too deeply");
	for (size_t i = 0; rc == 0 && i + 1 < node->n; i += 2) {
		struct rnode *k = node->items[i], *v = node->items[i + 1];

		if (k->tid != T_MERGE) {
			if (k->tid == T_VALUE)
				k->tid = T_STR;
			rc = vec_push(&own, k, v);
			continue;
		}
		if (v->kind == R_MAP) {
			rc = flatten(c, v, depth + 1);
			for (size_t j = 0; rc == 0 && j + 1 < v->n; j += 2)
				rc = vec_push(&merge, v->items[j], v->items[j + 1]);
		} else if (v->kind == R_SEQ) {
			for (size_t j = 0; rc == 0 && j < v->n; j++) {
				if (v->items[j]->kind != R_MAP)
					rc =
					    sm_ypy_fail(c, SM_YAML_PY_SYNTAX, v->items[j]->line,
						 "while constructing a mapping: expected a mapping "
						 "for merging, but found %s",
						 kind_name(v->items[j]->kind));
				else
					rc = flatten(c, v->items[j], depth + 1);
			}
			for (size_t j = v->n; rc == 0 && j-- > 0;) {
				struct rnode *m = v->items[j];

				for (size_t q = 0; rc == 0 && q + 1 < m->n; q += 2)
					rc = vec_push(&merge, m->items[q], m->items[q + 1]);
			}
		} else {
			rc = sm_ypy_fail(c, SM_YAML_PY_SYNTAX, v->line,
				  "while constructing a mapping: expected a mapping or list of "
				  "mappings for merging, but found scalar");
		}
	}
	if (rc == 0 && merge.n)
		rc = sm_ypy_budget(c, merge.n / 2, node->line);
	if (rc == 0 && merge.n + own.n != node->n) {
		size_t total = merge.n + own.n;
		struct rnode **items = sm_ypy_arena_alloc(c->arena, (total ? total : 1) * sizeof(*items));

		if (!items) {
			rc = -ENOMEM;
		} else {
			if (merge.n)
				memcpy(items, merge.p, merge.n * sizeof(*items));
			if (own.n)
				memcpy(items + merge.n, own.p, own.n * sizeof(*items));
			node->items = items;
			node->n = total;
		}
	} else if (rc == 0 && merge.n) {
		/* same count: merged pairs still go first */
		memcpy(node->items, merge.p, merge.n * sizeof(*node->items));
		if (own.n)
			memcpy(node->items + merge.n, own.p, own.n * sizeof(*node->items));
	}
	if (rc == 0)
		node->flattened = true;
	sm_free(merge.p);
	sm_free(own.p);
	return rc;
}

struct keyindex {
	size_t *slot; /* index + 1; 0 = empty */
	size_t alloc;
};

static long key_find(const struct sm_ypy *m, const struct keyindex *ix, const struct sm_ypy *k)
{
	if (!ix->alloc) {
		for (size_t i = 0; i < m->u.map.len; i++)
			if (py_eq(m->u.map.keys[i], k))
				return (long)i;
		return -1;
	}
	for (size_t h = py_hash(k) & (ix->alloc - 1);; h = (h + 1) & (ix->alloc - 1)) {
		size_t s = ix->slot[h];

		if (!s)
			return -1;
		if (py_eq(m->u.map.keys[s - 1], k))
			return (long)(s - 1);
	}
}

static void key_put(struct keyindex *ix, const struct sm_ypy *k, size_t idx)
{
	size_t h = py_hash(k) & (ix->alloc - 1);

	while (ix->slot[h])
		h = (h + 1) & (ix->alloc - 1);
	ix->slot[h] = idx + 1;
}

/*
 * PyYAML's construct_object(node, deep=False): scalars are built at once,
 * collections come back empty and are filled later, breadth first (its
 * state_generators), so errors surface in the same order as in PyYAML.
 */
static int construct_obj(struct ctx *c, struct rnode *r, struct sm_ypy **ret)
{
	enum sm_ypy_type type;
	struct sm_ypy *v;
	int rc;

	if (r->obj) {
		*ret = r->obj;
		return 0;
	}
	switch (r->tid) {
	case T_SEQ:
	case T_OMAP:
	case T_PAIRS:
		type = SM_YPY_SEQ;
		break;
	case T_MAP:
		type = SM_YPY_MAP;
		break;
	case T_SET:
		type = SM_YPY_SET;
		break;
	case T_OTHER:
		return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, r->line,
			    "could not determine a constructor for the tag '%.80s'",
			    r->tag ? r->tag : "?");
	default:
		rc = expect(c, r, R_SCALAR);
		if (rc == 0)
			rc = construct_scalar(c, r, ret);
		if (rc == 0)
			r->obj = *ret;
		return rc;
	}
	v = new_val(c, type);
	if (!v)
		return -ENOMEM;
	if (SM_GROW(c->queue, c->queue_alloc, c->nqueue + 1) < 0)
		return -ENOMEM;
	c->queue[c->nqueue++] = r;
	r->obj = v;
	*ret = v;
	return 0;
}

static int fill_seq(struct ctx *c, struct rnode *r)
{
	struct sm_ypy *v = r->obj;
	int rc = expect(c, r, R_SEQ);

	if (rc < 0)
		return rc;
	v->u.seq.items = sm_ypy_arena_alloc(c->arena, (r->n ? r->n : 1) * sizeof(*v->u.seq.items));
	if (!v->u.seq.items)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		rc = construct_obj(c, r->items[i], &v->u.seq.items[i]);
		if (rc < 0)
			return rc;
		v->u.seq.len++;
	}
	return 0;
}

/* !!omap / !!pairs: a list of 2-tuples from one-pair mappings */
static int fill_pairs(struct ctx *c, struct rnode *r)
{
	struct sm_ypy *v = r->obj;
	int rc = expect(c, r, R_SEQ);

	if (rc < 0)
		return rc;
	v->u.seq.items = sm_ypy_arena_alloc(c->arena, (r->n ? r->n : 1) * sizeof(*v->u.seq.items));
	if (!v->u.seq.items)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		struct rnode *m = r->items[i];
		struct sm_ypy *t;

		if (m->kind != R_MAP || m->n != 2)
			return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, m->line,
				    "while constructing an ordered map: expected a single mapping "
				    "item");
		t = new_val(c, SM_YPY_TUPLE);
		if (!t)
			return -ENOMEM;
		t->u.seq.items = sm_ypy_arena_alloc(c->arena, 2 * sizeof(*t->u.seq.items));
		if (!t->u.seq.items)
			return -ENOMEM;
		rc = construct_obj(c, m->items[0], &t->u.seq.items[0]);
		if (rc == 0)
			rc = construct_obj(c, m->items[1], &t->u.seq.items[1]);
		if (rc < 0)
			return rc;
		t->u.seq.len = 2;
		v->u.seq.items[v->u.seq.len++] = t;
	}
	return 0;
}

static int fill_map(struct ctx *c, struct rnode *r, bool set)
{
	struct sm_ypy *v = r->obj;
	struct keyindex ix = {0};
	size_t pairs;
	int rc = expect(c, r, R_MAP);

	if (rc < 0)
		return rc;
	rc = flatten(c, r, 0);
	if (rc < 0)
		return rc;
	pairs = r->n / 2;
	v->u.map.keys = sm_ypy_arena_alloc(c->arena, (pairs ? pairs : 1) * sizeof(*v->u.map.keys));
	v->u.map.vals = sm_ypy_arena_alloc(c->arena, (pairs ? pairs : 1) * sizeof(*v->u.map.vals));
	if (!v->u.map.keys || !v->u.map.vals)
		return -ENOMEM;
	if (pairs > 8) {
		ix.alloc = 16;
		while (ix.alloc < pairs * 2)
			ix.alloc *= 2;
		ix.slot = sm_calloc(ix.alloc, sizeof(*ix.slot));
		if (!ix.slot)
			return -ENOMEM;
	}
	for (size_t i = 0; i < pairs; i++) {
		struct rnode *kn = r->items[2 * i], *vn = r->items[2 * i + 1];
		struct sm_ypy *k, *val;
		long at;

		rc = construct_obj(c, kn, &k);
		if (rc < 0)
			break;
		if (k->type == SM_YPY_SEQ || k->type == SM_YPY_MAP || k->type == SM_YPY_SET) {
			rc = sm_ypy_fail(c, SM_YAML_PY_SYNTAX, kn->line,
				  "while constructing a mapping: found unhashable key");
			break;
		}
		rc = construct_obj(c, vn, &val);
		if (rc < 0)
			break;
		at = key_find(v, &ix, k);
		if (at >= 0) {
			v->u.map.vals[at] = val;
		} else {
			if (ix.alloc)
				key_put(&ix, k, v->u.map.len);
			v->u.map.keys[v->u.map.len] = k;
			v->u.map.vals[v->u.map.len++] = val;
		}
	}
	sm_free(ix.slot);
	if (rc == 0 && set) {
		/* a set keeps its members in u.seq (sharing the keys array) */
		struct sm_ypy **keys = v->u.map.keys;
		size_t n = v->u.map.len;

		v->u.seq.items = keys;
		v->u.seq.len = n;
	}
	return rc;
}

static int fill(struct ctx *c, struct rnode *r)
{
	switch (r->tid) {
	case T_SEQ:
		return fill_seq(c, r);
	case T_OMAP:
	case T_PAIRS:
		return fill_pairs(c, r);
	case T_SET:
		return fill_map(c, r, true);
	default:
		return fill_map(c, r, false);
	}
}

static int too_big(struct ctx *c, unsigned line)
{
	return sm_ypy_fail(c, SM_YAML_PY_SYNTAX, line,
		    "document too large after alias expansion (more than %d nodes or %d levels)",
		    SM_YAML_PY_MAX_NODES, SM_YAML_PY_MAX_DEPTH);
}

/*
 * Size and height of the expanded tree, memoised per value (aliases share
 * values). The recursion stops at SM_YAML_PY_MAX_DEPTH.
 */
static int measure(struct ctx *c, struct sm_ypy *v, unsigned depth, unsigned line)
{
	struct sm_ypy *const *kids[2] = {NULL, NULL};
	size_t n = 0;
	uint64_t size = 1;
	uint32_t height = 0;

	if (v->height) /* a scalar, or measured before */
		return depth + v->height > SM_YAML_PY_MAX_DEPTH ? too_big(c, line) : 0;
	if (depth >= SM_YAML_PY_MAX_DEPTH)
		return too_big(c, line);
	if (v->type == SM_YPY_MAP) {
		kids[0] = v->u.map.keys;
		kids[1] = v->u.map.vals;
		n = v->u.map.len;
	} else {
		kids[0] = v->u.seq.items;
		n = v->u.seq.len;
	}
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; kids[k] && i < n; i++) {
			struct sm_ypy *child = kids[k][i];
			int rc = measure(c, child, depth + 1, line);

			if (rc < 0)
				return rc;
			size += child->size;
			if (size > SM_YAML_PY_MAX_NODES)
				return too_big(c, line);
			if (child->height > height)
				height = child->height;
		}
	}
	v->size = (uint32_t)size;
	v->height = height + 1;
	return depth + v->height > SM_YAML_PY_MAX_DEPTH ? too_big(c, line) : 0;
}

int sm_ypy_construct_document(struct ctx *c, struct sm_ypy **ret)
{
	int rc = construct_obj(c, c->root, ret);

	for (size_t i = 0; rc == 0 && i < c->nqueue; i++)
		rc = fill(c, c->queue[i]);
	if (rc == 0)
		rc = measure(c, *ret, 0, c->root->line);
	return rc;
}
