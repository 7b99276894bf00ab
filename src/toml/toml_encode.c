/* SPDX-License-Identifier: MIT */
/*
 * TOML encoder with tomli_w 1.0.0's layout (dumps, default options): the
 * output of decoding a tomli_w file and encoding it again is byte-identical.
 * Scalars are written the way Python's str() writes the values tomllib
 * produces (floats as repr(), date-times with a space separator).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "toml/toml_internal.h"
#include "util/banned.h"

#define ARRAY_INDENT 4
#define MAX_LINE_LENGTH 100
/* Bytes an inline-table candidate may take: 100 characters of up to 4 bytes. */
#define PROBE_CAP (MAX_LINE_LENGTH * 4 + 16)

enum kind { K_LITERAL, K_TABLE, K_AOT };

static int format_string(struct strbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	int r;

	if ((r = sm_strbuf_addch(out, '"')) < 0)
		return r;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t n = 2;

		if (c >= 0x80) {
			size_t k = sm_toml_utf8_len((const unsigned char *)s + i,
						    (const unsigned char *)s + len);

			if (!k)
				return -EILSEQ;
			i += k - 1;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		if (c == '\t')
			continue;
		esc[0] = '\\';
		switch (c) {
		case '\b':
			esc[1] = 'b';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
			break;
		}
		if ((r = sm_strbuf_add(out, run, (size_t)(s + i - run))) < 0 ||
		    (r = sm_strbuf_add(out, esc, n)) < 0)
			return r;
		run = s + i + 1;
	}
	if ((r = sm_strbuf_add(out, run, (size_t)(s + len - run))) < 0)
		return r;
	return sm_strbuf_addch(out, '"');
}

static bool is_bare_key(const char *k, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int format_key(struct strbuf *out, const char *k, size_t len)
{
	if (is_bare_key(k, len))
		return sm_strbuf_add(out, k, len);
	return format_string(out, k, len);
}

/* Python's repr(float): shortest round-trip digits, exponent outside 1e-4 .. 1e16. */
static int format_float(struct strbuf *out, double d)
{
	char buf[40], digits[24];
	const char *p;
	int nd = 0, exp10, decpt, r = 0;
	bool neg;

	if (isnan(d))
		return sm_strbuf_addstr(out, "nan");
	if (isinf(d))
		return sm_strbuf_addstr(out, d < 0 ? "-inf" : "inf");
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	p = buf;
	neg = *p == '-';
	if (neg)
		p++;
	digits[nd++] = *p++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits[nd++] = *p;
	exp10 = (int)strtol(p + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	decpt = exp10 + 1;
	if (neg && (r = sm_strbuf_addch(out, '-')) < 0)
		return r;
	if (decpt <= -4 || decpt > 16) {
		if ((r = sm_strbuf_addch(out, digits[0])) < 0)
			return r;
		if (nd > 1 && ((r = sm_strbuf_addch(out, '.')) < 0 ||
			       (r = sm_strbuf_add(out, digits + 1, (size_t)nd - 1)) < 0))
			return r;
		return sm_strbuf_addf(out, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	}
	if (decpt <= 0) {
		if ((r = sm_strbuf_addstr(out, "0.")) < 0)
			return r;
		for (int i = 0; i < -decpt; i++)
			if ((r = sm_strbuf_addch(out, '0')) < 0)
				return r;
		return sm_strbuf_add(out, digits, (size_t)nd);
	}
	if (decpt >= nd) {
		if ((r = sm_strbuf_add(out, digits, (size_t)nd)) < 0)
			return r;
		for (int i = nd; i < decpt; i++)
			if ((r = sm_strbuf_addch(out, '0')) < 0)
				return r;
		return sm_strbuf_addstr(out, ".0");
	}
	if ((r = sm_strbuf_add(out, digits, (size_t)decpt)) < 0 ||
	    (r = sm_strbuf_addch(out, '.')) < 0)
		return r;
	return sm_strbuf_add(out, digits + decpt, (size_t)(nd - decpt));
}

/*
 * Python's str() of date, time and datetime: "YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]".
 * Fractions that need nanoseconds (which Python cannot hold) keep 9 digits.
 */
static int format_datetime(struct strbuf *out, enum sm_toml_type type,
			   const struct sm_toml_datetime *dt)
{
	int r;

	if (type != SM_TOML_TIME_LOCAL) {
		r = sm_strbuf_addf(out, "%04d-%02d-%02d", dt->year, dt->month, dt->day);
		if (r < 0 || type == SM_TOML_DATE_LOCAL)
			return r;
		if ((r = sm_strbuf_addch(out, ' ')) < 0)
			return r;
	}
	r = sm_strbuf_addf(out, "%02d:%02d:%02d", dt->hour, dt->minute, dt->second);
	if (r < 0)
		return r;
	if (dt->nanosecond % 1000)
		r = sm_strbuf_addf(out, ".%09" PRIu32, dt->nanosecond);
	else if (dt->nanosecond)
		r = sm_strbuf_addf(out, ".%06" PRIu32, dt->nanosecond / 1000);
	if (r < 0 || type != SM_TOML_DATETIME)
		return r;
	{
		int off = dt->offset_minutes, a = off < 0 ? -off : off;

		return sm_strbuf_addf(out, "%c%02d:%02d", off < 0 ? '-' : '+', a / 60, a % 60);
	}
}

static int add_indent(struct strbuf *out, int n)
{
	static const char spaces[] = "                                ";
	int r = 0;

	n *= ARRAY_INDENT;
	while (n > 0 && r >= 0) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;

		r = sm_strbuf_add(out, spaces, (size_t)k);
		n -= k;
	}
	return r;
}

/* An array or inline table being written by emit_value. */
struct lit_frame {
	const struct sm_toml_value *v;
	size_t i; /* next item */
	int nest; /* indent level of the array's closing bracket */
};

/* A table being written by gen_table: its sub-tables are still to come. */
struct tab_frame {
	const struct sm_toml_value *t;
	unsigned char *kinds; /* enum kind of each key */
	size_t i, j;	      /* next key; next item of a K_AOT array (1 = done for K_TABLE) */
	size_t namelen;	      /* E->name's length before this table's key was added */
	bool yielded;	      /* something was written for this table */
};

struct enc {
	struct strbuf *out;
	struct strbuf name;  /* dotted name of the table being written */
	struct strbuf probe; /* capped scratch for the inline-table heuristic */
	struct lit_frame *lits;
	size_t nlits, alits;
	struct tab_frame *tabs;
	size_t ntabs, atabs;
};

static int push_lit(struct enc *E, const struct sm_toml_value *v, int nest)
{
	if (E->nlits == E->alits) {
		size_t na = E->alits ? E->alits * 2 : 16;
		struct lit_frame *n = sm_reallocarray(E->lits, na, sizeof(*n));

		if (!n)
			return -ENOMEM;
		E->lits = n;
		E->alits = na;
	}
	E->lits[E->nlits++] = (struct lit_frame){.v = v, .nest = nest};
	return 0;
}

static int format_scalar(struct strbuf *out, const struct sm_toml_value *v)
{
	switch (v->type) {
	case SM_TOML_STRING:
		return format_string(out, v->u.str.ptr, v->u.str.len);
	case SM_TOML_INTEGER:
		return sm_strbuf_addf(out, "%" PRId64, v->u.i);
	case SM_TOML_BIG_INTEGER: /* as Python's str(int): the digits */
		return sm_strbuf_add(out, v->u.str.ptr, v->u.str.len);
	case SM_TOML_FLOAT:
		return format_float(out, v->u.f);
	case SM_TOML_BOOL:
		return sm_strbuf_addstr(out, v->u.b ? "true" : "false");
	default:
		return format_datetime(out, v->type, &v->u.dt);
	}
}

/*
 * One value as written after "key = " (arrays one item per line, indented by
 * nest; tables inline), without recursion however deep the value is. In
 * probe mode a multi-line array stops the rendering with -ECANCELED (the
 * result would contain a newline).
 */
static int emit_value(struct enc *E, struct strbuf *out, const struct sm_toml_value *v, int nest,
		      bool probe)
{
	size_t base = E->nlits;
	int r = 0;

	for (;;) {
		struct lit_frame *f;

		if (v) {
			if (v->type == SM_TOML_ARRAY) {
				if (!v->u.arr.len) {
					r = sm_strbuf_addstr(out, "[]");
				} else if (probe) {
					r = -ECANCELED;
				} else if ((r = sm_strbuf_addstr(out, "[\n")) >= 0) {
					r = push_lit(E, v, nest);
				}
			} else if (v->type == SM_TOML_TABLE) {
				if (!v->u.tab.len)
					r = sm_strbuf_addstr(out, "{}");
				else if ((r = sm_strbuf_addstr(out, "{ ")) >= 0)
					r = push_lit(E, v, nest);
			} else {
				r = format_scalar(out, v);
			}
			if (r < 0)
				break;
			v = NULL;
		}
		if (E->nlits == base)
			break;
		f = &E->lits[E->nlits - 1];
		if (f->v->type == SM_TOML_ARRAY) {
			/* back from an item: end its line */
			if (f->i && (r = sm_strbuf_addstr(out, ",\n")) < 0)
				break;
			if (f->i < f->v->u.arr.len) {
				if ((r = add_indent(out, f->nest + 1)) < 0)
					break;
				v = f->v->u.arr.items[f->i++];
				nest = f->nest + 1;
				continue;
			}
			if ((r = add_indent(out, f->nest)) < 0 || (r = sm_strbuf_addch(out, ']')) < 0)
				break;
		} else {
			if (f->i < f->v->u.tab.len) {
				const struct sm_toml_kv *kv = &f->v->u.tab.items[f->i];

				if ((f->i && (r = sm_strbuf_addstr(out, ", ")) < 0) ||
				    (r = format_key(out, kv->key, kv->keylen)) < 0 ||
				    (r = sm_strbuf_addstr(out, " = ")) < 0)
					break;
				f->i++;
				v = kv->value;
				nest = 0;
				continue;
			}
			if ((r = sm_strbuf_addstr(out, " }")) < 0)
				break;
		}
		E->nlits--;
	}
	E->nlits = base;
	return r;
}

/* Does "    { ... }," fit on one line of MAX_LINE_LENGTH characters? <0 on ENOMEM. */
static int fits_inline(struct enc *E, const struct sm_toml_value *t)
{
	size_t chars = 0;
	int r;

	sm_strbuf_reset(&E->probe);
	r = add_indent(&E->probe, 1);
	if (r >= 0)
		r = emit_value(E, &E->probe, t, 0, true);
	if (r >= 0)
		r = sm_strbuf_addch(&E->probe, ',');
	if (r == -ECANCELED || r == -E2BIG)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < E->probe.len; i++)
		chars += ((unsigned char)E->probe.buf[i] & 0xc0) != 0x80;
	return chars <= MAX_LINE_LENGTH;
}

static int classify(struct enc *E, const struct sm_toml_value *v)
{
	if (v->type == SM_TOML_TABLE)
		return K_TABLE;
	if (v->type != SM_TOML_ARRAY || !v->u.arr.len)
		return K_LITERAL;
	for (size_t i = 0; i < v->u.arr.len; i++)
		if (v->u.arr.items[i]->type != SM_TOML_TABLE)
			return K_LITERAL;
	for (size_t i = 0; i < v->u.arr.len; i++) {
		int r = fits_inline(E, v->u.arr.items[i]);

		if (r <= 0)
			return r < 0 ? r : K_AOT;
	}
	return K_LITERAL;
}

/*
 * Start table t (named E->name): write its header when tomli_w would and its
 * plain keys, then push a frame for its sub-tables. namelen is restored to
 * E->name when the frame is popped.
 */
static int open_table(struct enc *E, const struct sm_toml_value *t, bool inside_aot,
		      size_t namelen)
{
	struct strbuf *out = E->out;
	size_t n = t->u.tab.len, nlit = 0, ntab = 0;
	struct tab_frame *f;
	unsigned char *kinds;
	bool yielded = false;
	int r = 0;

	if (E->ntabs == E->atabs) {
		size_t na = E->atabs ? E->atabs * 2 : 16;
		struct tab_frame *nf = sm_reallocarray(E->tabs, na, sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		E->tabs = nf;
		E->atabs = na;
	}
	kinds = sm_malloc(n ? n : 1);
	if (!kinds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = classify(E, t->u.tab.items[i].value);
		if (r < 0)
			goto fail;
		kinds[i] = (unsigned char)r;
		if (r == K_LITERAL)
			nlit++;
		else
			ntab++;
	}
	r = 0;
	if (inside_aot || (E->name.len && (nlit || !ntab))) {
		yielded = true;
		if ((r = sm_strbuf_addstr(out, inside_aot ? "[[" : "[")) < 0 ||
		    (r = sm_strbuf_add(out, E->name.buf, E->name.len)) < 0 ||
		    (r = sm_strbuf_addstr(out, inside_aot ? "]]\n" : "]\n")) < 0)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sm_toml_kv *kv = &t->u.tab.items[i];

		if (kinds[i] != K_LITERAL)
			continue;
		yielded = true;
		if ((r = format_key(out, kv->key, kv->keylen)) < 0 ||
		    (r = sm_strbuf_addstr(out, " = ")) < 0 ||
		    (r = emit_value(E, out, kv->value, 0, false)) < 0 ||
		    (r = sm_strbuf_addch(out, '\n')) < 0)
			goto fail;
	}
	f = &E->tabs[E->ntabs++];
	*f = (struct tab_frame){.t = t, .kinds = kinds, .namelen = namelen, .yielded = yielded};
	return 0;
fail:
	sm_free(kinds);
	return r;
}

/*
 * The whole document, without recursion: a stack of tables whose sub-tables
 * ([a.b]) and arrays of tables ([[a.b]]) are written after their plain keys.
 */
static int gen_document(struct enc *E, const struct sm_toml_value *root)
{
	int r = open_table(E, root, false, 0);

	while (r >= 0 && E->ntabs) {
		struct tab_frame *f = &E->tabs[E->ntabs - 1];
		const struct sm_toml_value *child;
		const struct sm_toml_kv *kv;
		size_t namelen = E->name.len;
		bool aot = false;

		if (f->i >= f->t->u.tab.len) {
			sm_strbuf_setlen(&E->name, f->namelen);
			sm_free(f->kinds);
			E->ntabs--;
			continue;
		}
		kv = &f->t->u.tab.items[f->i];
		if (f->kinds[f->i] == K_TABLE && !f->j) {
			child = kv->value;
			f->j = 1;
		} else if (f->kinds[f->i] == K_AOT && f->j < kv->value->u.arr.len) {
			child = kv->value->u.arr.items[f->j++];
			aot = true;
		} else {
			f->i++;
			f->j = 0;
			continue;
		}
		if (f->yielded && (r = sm_strbuf_addch(E->out, '\n')) < 0)
			break;
		f->yielded = true;
		if ((namelen && (r = sm_strbuf_addch(&E->name, '.')) < 0) ||
		    (r = format_key(&E->name, kv->key, kv->keylen)) < 0)
			break;
		r = open_table(E, child, aot, namelen);
	}
	while (E->ntabs)
		sm_free(E->tabs[--E->ntabs].kinds);
	return r;
}

int sm_toml_encode(const struct sm_toml_value *root, struct strbuf *out, struct strbuf *err)
{
	struct enc E = {.out = out, .name = STRBUF_INIT};
	size_t orig = out->len;
	int r;

	if (!root || root->type != SM_TOML_TABLE)
		return sm_err(err, -EINVAL, "cannot encode: the root is not a table");
	sm_strbuf_init(&E.probe, PROBE_CAP);
	r = gen_document(&E, root);
	sm_strbuf_release(&E.name);
	sm_strbuf_release(&E.probe);
	sm_free(E.lits);
	sm_free(E.tabs);
	if (r < 0) {
		sm_strbuf_setlen(out, orig);
		if (r == -E2BIG)
			return sm_err(err, r, "cannot encode: output too large");
		if (r == -EILSEQ)
			return sm_err(err, -EINVAL,
				      "cannot encode: a string or key is not valid UTF-8");
		return sm_err(err, -ENOMEM, "cannot encode: out of memory");
	}
	return 0;
}
