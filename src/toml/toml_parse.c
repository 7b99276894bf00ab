/* SPDX-License-Identifier: MIT */
/*
 * TOML 1.0 decoder: one pass over the input, no backtracking beyond a token.
 * Redefinition rules follow the spec (and tomllib): a table may be defined by
 * one header or by dotted keys in one section; inline tables and static
 * arrays are sealed; [[a]] only appends to arrays it created.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "toml/toml_internal.h"
#include "util/banned.h"

/*
 * One nesting limit for every path into the tree (dotted keys, [table]
 * headers, [[arrays of tables]], arrays, inline tables): no table or array
 * lies deeper than this below the root. It keeps the decoder's recursion and
 * every recursive walk over a decoded tree bounded.
 */
#define MAX_DEPTH SM_TOML_MAX_DEPTH
/* Longest error message (bytes) before the location prefix. */
#define MAX_MSG 200

struct keyseg {
	size_t off, len;	 /* in kbuf */
	const unsigned char *at; /* where the segment starts in the input */
};

struct parser {
	const unsigned char *start, *p, *end;
	struct strbuf *err;
	struct sm_toml_value *root, *cur;
	/* tables created by dotted keys in the current section */
	struct sm_toml_value **pending;
	size_t npending, apending;
	struct strbuf sbuf; /* decoded string scratch */
	struct strbuf kbuf; /* decoded key segments (a stack) */
	struct keyseg *segs;
	size_t nsegs, asegs;
	int cur_depth; /* depth of cur below the root */
	unsigned flags; /* SM_TOML_* */
	struct sm_toml_arena *arena; /* SM_TOML_ARENA: the root's, else NULL */
};

static int perr(struct parser *P, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct parser *P, const unsigned char *at, const char *fmt, ...)
{
	unsigned line = 1, col = 1;
	struct strbuf msg = STRBUF_INIT;
	va_list ap;
	int r;

	if (at > P->end)
		at = P->end;
	for (const unsigned char *q = P->start; q < at; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else if ((*q & 0xc0) != 0x80) {
			col++;
		}
	}
	va_start(ap, fmt);
	r = sm_strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	/* keys quoted in the message may hold control characters: keep one line */
	for (size_t i = 0; i < msg.len; i++)
		if ((unsigned char)msg.buf[i] < 0x20 || msg.buf[i] == 0x7f)
			msg.buf[i] = '?';
	if (msg.len > MAX_MSG) {
		size_t n = MAX_MSG;

		while (n > 0 && ((unsigned char)msg.buf[n] & 0xc0) == 0x80)
			n--;
		sm_strbuf_setlen(&msg, n);
		if (sm_strbuf_addstr(&msg, "...") < 0)
			r = -ENOMEM;
	}
	if (r < 0)
		r = sm_err(P->err, -EBADMSG, "line %u, column %u: syntax error", line, col);
	else
		r = sm_err(P->err, -EBADMSG, "line %u, column %u: %s", line, col, msg.buf);
	sm_strbuf_release(&msg);
	return r;
}

static int oom(struct parser *P)
{
	return sm_err(P->err, -ENOMEM, "out of memory");
}

static int too_deep(struct parser *P, const unsigned char *at)
{
	return perr(P, at, "tables and arrays nested too deeply (more than %d levels)", MAX_DEPTH);
}

/* Scalars of the tree (in the arena with SM_TOML_ARENA). */
static struct sm_toml_value *pnew_int(struct parser *P, int64_t i)
{
	struct sm_toml_value *v = sm_toml_node(P->arena, SM_TOML_INTEGER);

	if (v)
		v->u.i = i;
	return v;
}

static struct sm_toml_value *pnew_float(struct parser *P, double f)
{
	struct sm_toml_value *v = sm_toml_node(P->arena, SM_TOML_FLOAT);

	if (v)
		v->u.f = f;
	return v;
}

static struct sm_toml_value *pnew_bool(struct parser *P, bool b)
{
	struct sm_toml_value *v = sm_toml_node(P->arena, SM_TOML_BOOL);

	if (v)
		v->u.b = b;
	return v;
}

static struct sm_toml_value *pnew_datetime(struct parser *P, enum sm_toml_type type,
					   const struct sm_toml_datetime *dt)
{
	struct sm_toml_value *v = sm_toml_node(P->arena, type);

	if (v)
		v->u.dt = *dt;
	return v;
}

static inline void skip_ws(struct parser *P)
{
	while (P->p < P->end && (*P->p == ' ' || *P->p == '\t'))
		P->p++;
}

static const bool bare_chars[256] = {
    ['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true, ['_'] = true, ['-'] = true,
};

static inline bool is_bare(unsigned char c)
{
	return bare_chars[c];
}

/*
 * Does none of the 8 bytes of x end a run of plain string characters (a
 * control character, DEL, a byte >= 0x80, a quote or a backslash)? Each test
 * is exact as a whole: (v - 0x01..) & ~v & 0x80.. is non-zero iff a byte of v
 * is zero, (x - n..) & ~x & 0x80.. iff a byte of x is below n.
 */
static inline bool plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
	uint64_t x, bad;

	memcpy(&x, p, 8);
#define SM_HASZERO(v) (((v) - ones) & ~(v) & high)
	bad = x & high;
	bad |= (x - ones * 0x20) & ~x & high;
	bad |= SM_HASZERO(x ^ (ones * 0x7f)) | SM_HASZERO(x ^ (ones * '"'));
	bad |= SM_HASZERO(x ^ (ones * '\'')) | SM_HASZERO(x ^ (ones * '\\'));
#undef SM_HASZERO
	return !bad;
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int describe_char(struct parser *P, const unsigned char *at, const char *what)
{
	if (at >= P->end)
		return perr(P, at, "%s, found end of input", what);
	if (*at == '\n' || *at == '\r')
		return perr(P, at, "%s, found end of line", what);
	if (*at > 0x20 && *at < 0x7f)
		return perr(P, at, "%s, found '%c'", what, *at);
	return perr(P, at, "%s, found byte 0x%02x", what, *at);
}

/* p at '#': skip to the end of the line (not consuming it), validating it. */
static int skip_comment(struct parser *P)
{
	const unsigned char *p = P->p + 1, *end = P->end;

	while (p < end) {
		unsigned char c = *p;

		if (c >= 0x20 && c < 0x7f) {
			p++;
		} else if (c == '\t') {
			p++;
		} else if (c == '\n') {
			break;
		} else if (c == '\r') {
			if (p + 1 < end && p[1] == '\n')
				break;
			return perr(P, p, "carriage return not followed by newline");
		} else if (c >= 0x80) {
			size_t n = sm_toml_utf8_len(p, end);

			if (!n)
				return perr(P, p, "invalid UTF-8 in comment");
			p += n;
		} else {
			return perr(P, p, "control character 0x%02x in comment", c);
		}
	}
	P->p = p;
	return 0;
}

/* Skip whitespace, newlines and comments (inside arrays). */
static int skip_ws_nl(struct parser *P)
{
	for (;;) {
		skip_ws(P);
		if (P->p >= P->end)
			return 0;
		if (*P->p == '\n') {
			P->p++;
		} else if (*P->p == '\r' && P->p + 1 < P->end && P->p[1] == '\n') {
			P->p += 2;
		} else if (*P->p == '#') {
			int r = skip_comment(P);

			if (r < 0)
				return r;
		} else {
			return 0;
		}
	}
}

/* After a key/value or header: whitespace, optional comment, newline or EOF. */
static int expect_eol(struct parser *P)
{
	skip_ws(P);
	if (P->p < P->end && *P->p == '#') {
		int r = skip_comment(P);

		if (r < 0)
			return r;
	}
	if (P->p >= P->end)
		return 0;
	if (*P->p == '\n') {
		P->p++;
		return 0;
	}
	if (*P->p == '\r' && P->p + 1 < P->end && P->p[1] == '\n') {
		P->p += 2;
		return 0;
	}
	return describe_char(P, P->p, "expected end of line");
}

static int put_utf8(struct strbuf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return sm_strbuf_add(out, b, n);
}

static int add_run(struct parser *P, struct strbuf *out, const unsigned char *from,
		   const unsigned char *to)
{
	if (to > from && sm_strbuf_add(out, from, (size_t)(to - from)) < 0)
		return oom(P);
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* P->p at a backslash inside a basic string. */
static int parse_escape(struct parser *P, struct strbuf *out, bool multi)
{
	const unsigned char *at = P->p;
	unsigned char c;
	char ch;
	int r;

	if (P->p + 1 >= P->end)
		return perr(P, at, "unterminated string");
	c = P->p[1];
	switch (c) {
	case 'b':
		ch = '\b';
		break;
	case 't':
		ch = '\t';
		break;
	case 'n':
		ch = '\n';
		break;
	case 'f':
		ch = '\f';
		break;
	case 'r':
		ch = '\r';
		break;
	case '"':
		ch = '"';
		break;
	case '\\':
		ch = '\\';
		break;
	case 'u':
	case 'U': {
		int n = c == 'u' ? 4 : 8;
		uint32_t cp = 0;

		if (P->end - (P->p + 2) < n)
			return perr(P, at, "truncated unicode escape");
		for (int i = 0; i < n; i++) {
			int h = hexval(P->p[2 + i]);

			if (h < 0)
				return perr(P, at, "invalid unicode escape");
			cp = cp << 4 | (uint32_t)h;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return perr(P, at, "unicode escape is not a scalar value");
		if (put_utf8(out, cp) < 0)
			return oom(P);
		P->p += 2 + n;
		return 0;
	}
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		if (multi) {
			const unsigned char *q = P->p + 1;

			while (q < P->end && (*q == ' ' || *q == '\t'))
				q++;
			if (q < P->end && *q == '\n')
				q++;
			else if (q + 1 < P->end && *q == '\r' && q[1] == '\n')
				q += 2;
			else
				return perr(P, at,
					    "invalid escape: backslash followed by whitespace");
			for (;;) {
				if (q < P->end && (*q == ' ' || *q == '\t' || *q == '\n'))
					q++;
				else if (q + 1 < P->end && *q == '\r' && q[1] == '\n')
					q += 2;
				else
					break;
			}
			P->p = q;
			return 0;
		}
		return perr(P, at, "invalid escape sequence");
	default:
		return perr(P, at, "invalid escape sequence");
	}
	r = sm_strbuf_addch(out, ch);
	if (r < 0)
		return oom(P);
	P->p += 2;
	return 0;
}

/*
 * A string at P->p (one of the four forms), decoded and appended to out.
 * allow_multi is false for keys.
 */
static int parse_string(struct parser *P, struct strbuf *out, bool allow_multi)
{
	const unsigned char *start = P->p, *end = P->end, *p, *run;
	unsigned char q = *P->p;
	bool basic = q == '"';
	bool multi = end - P->p >= 3 && P->p[1] == q && P->p[2] == q;
	int r;

	if (multi) {
		if (!allow_multi)
			return perr(P, start, "multi-line string cannot be a key");
		p = P->p + 3;
		if (p < end && *p == '\n')
			p++;
		else if (p + 1 < end && *p == '\r' && p[1] == '\n')
			p += 2;
	} else {
		p = P->p + 1;
	}
	run = p;
	for (;;) {
		unsigned char c;

		while (end - p >= 8 && plain8(p))
			p += 8;
		if (p >= end)
			return perr(P, start, "unterminated string");
		c = *p;
		if (c >= 0x20 && c < 0x7f && c != q && c != '\\') {
			p++;
			continue;
		}
		if (c == q) {
			size_t n = 1;

			if (!multi) {
				if ((r = add_run(P, out, run, p)) < 0)
					return r;
				P->p = p + 1;
				return 0;
			}
			while (p + n < end && p[n] == q)
				n++;
			if (n < 3) {
				p += n;
				continue;
			}
			if (n > 5)
				return perr(P, p,
					    "too many quotes at the end of a multi-line string");
			if ((r = add_run(P, out, run, p + n - 3)) < 0)
				return r;
			P->p = p + n;
			return 0;
		}
		if (c == '\\' && basic) {
			if ((r = add_run(P, out, run, p)) < 0)
				return r;
			P->p = p;
			if ((r = parse_escape(P, out, multi)) < 0)
				return r;
			p = run = P->p;
			continue;
		}
		if (c == '\\' || c == '\t') {
			p++;
			continue;
		}
		if (c >= 0x80) {
			size_t n = sm_toml_utf8_len(p, end);

			if (!n)
				return perr(P, p, "invalid UTF-8 in string");
			p += n;
			continue;
		}
		if (multi && c == '\n') {
			p++;
			continue;
		}
		if (multi && c == '\r' && p + 1 < end && p[1] == '\n') {
			/* normalised to LF, like tomllib */
			if ((r = add_run(P, out, run, p)) < 0)
				return r;
			p++;
			run = p;
			continue;
		}
		if (c == '\n' || c == '\r')
			return perr(P, p, "newline in single-line string");
		return perr(P, p, "control character 0x%02x in string", c);
	}
}

static int push_seg(struct parser *P, size_t off, const unsigned char *at)
{
	if (P->nsegs == P->asegs) {
		size_t na = P->asegs ? P->asegs * 2 : 16;
		struct keyseg *s = sm_reallocarray(P->segs, na, sizeof(*s));

		if (!s)
			return oom(P);
		P->segs = s;
		P->asegs = na;
	}
	P->segs[P->nsegs].off = off;
	P->segs[P->nsegs].len = P->kbuf.len - off;
	P->segs[P->nsegs].at = at;
	P->nsegs++;
	return 0;
}

/* A (dotted) key at P->p; its segments are pushed onto segs/kbuf. */
static int parse_key(struct parser *P)
{
	for (size_t n = 0;; n++) {
		const unsigned char *at = P->p;
		size_t off = P->kbuf.len;
		int r;

		if (at >= P->end)
			return describe_char(P, at, "expected a key");
		if (*at == '"' || *at == '\'') {
			if ((r = parse_string(P, &P->kbuf, false)) < 0)
				return r;
		} else if (is_bare(*at)) {
			const unsigned char *q = at;

			while (q < P->end && is_bare(*q))
				q++;
			if (sm_strbuf_add(&P->kbuf, at, (size_t)(q - at)) < 0)
				return oom(P);
			P->p = q;
		} else {
			return describe_char(P, at, "expected a key");
		}
		/* more segments than levels: too deep wherever the key lands */
		if (n > MAX_DEPTH)
			return too_deep(P, at);
		if ((r = push_seg(P, off, at)) < 0)
			return r;
		skip_ws(P);
		if (P->p < P->end && *P->p == '.') {
			P->p++;
			skip_ws(P);
			continue;
		}
		return 0;
	}
}

static void pop_segs(struct parser *P, size_t base)
{
	if (base < P->nsegs)
		sm_strbuf_setlen(&P->kbuf, P->segs[base].off);
	P->nsegs = base;
}

static inline const char *seg_key(struct parser *P, size_t i)
{
	return P->kbuf.buf + P->segs[i].off;
}

static int add_pending(struct parser *P, struct sm_toml_value *t)
{
	if (P->npending == P->apending) {
		size_t na = P->apending ? P->apending * 2 : 16;
		struct sm_toml_value **n = sm_reallocarray(P->pending, na, sizeof(*n));

		if (!n)
			return oom(P);
		P->pending = n;
		P->apending = na;
	}
	P->pending[P->npending++] = t;
	return 0;
}

/* Append a new empty table under key i of the segment stack. */
static int new_subtable(struct parser *P, struct sm_toml_value *parent, size_t i, uint32_t flags,
			struct sm_toml_value **ret)
{
	struct sm_toml_value *t = sm_toml_node(P->arena, SM_TOML_TABLE);

	if (!t)
		return oom(P);
	t->flags |= flags;
	if (sm_toml_tab_append_in(P->arena, parent, seg_key(P, i), P->segs[i].len, t) < 0) {
		sm_toml_free(t);
		return oom(P);
	}
	*ret = t;
	return 0;
}

static int parse_value(struct parser *P, int depth, struct sm_toml_value **ret);

/*
 * key = value into tab (the current section's table or an inline table),
 * which lies depth levels below the root.
 */
static int parse_keyval(struct parser *P, struct sm_toml_value *tab, int depth)
{
	size_t base = P->nsegs, last;
	struct sm_toml_value *t = tab, *v = NULL;
	int r;

	if ((r = parse_key(P)) < 0)
		return r;
	last = P->nsegs - 1;
	for (size_t i = base; i < last; i++) {
		long j = sm_toml_tab_find(t, seg_key(P, i), P->segs[i].len);
		struct sm_toml_value *n = NULL;

		if (++depth > MAX_DEPTH)
			return too_deep(P, P->segs[i].at);
		if (j < 0) {
			if ((r = new_subtable(P, t, i, SM_TOML_F_DOTTED, &n)) < 0)
				return r;
		} else {
			n = t->u.tab.items[j].value;
			if (n->type != SM_TOML_TABLE)
				return perr(P, P->segs[i].at, "key '%s' is already defined as %s",
					    seg_key(P, i), sm_toml_type_name(n->type));
			if (n->flags & SM_TOML_F_INLINE)
				return perr(P, P->segs[i].at, "cannot extend inline table '%s'",
					    seg_key(P, i));
			if (n->flags & SM_TOML_F_DEFINED)
				return perr(
				    P, P->segs[i].at,
				    "cannot add dotted keys to table '%s' defined elsewhere",
				    seg_key(P, i));
		}
		if (!(n->flags & SM_TOML_F_DOTTED) || j < 0) {
			n->flags |= SM_TOML_F_DOTTED;
			if ((r = add_pending(P, n)) < 0)
				return r;
		}
		t = n;
	}
	if (sm_toml_tab_find(t, seg_key(P, last), P->segs[last].len) >= 0)
		return perr(P, P->segs[last].at, "duplicate key '%s'", seg_key(P, last));
	if (P->p >= P->end || *P->p != '=')
		return describe_char(P, P->p, "expected '=' after a key");
	P->p++;
	skip_ws(P);
	if ((r = parse_value(P, depth + 1, &v)) < 0)
		return r;
	if (sm_toml_tab_append_in(P->arena, t, seg_key(P, last), P->segs[last].len, v) < 0) {
		sm_toml_free(v);
		return oom(P);
	}
	pop_segs(P, base);
	return 0;
}

/* An array at P->p that will lie depth levels below the root. */
static int parse_array(struct parser *P, int depth, struct sm_toml_value **ret)
{
	const unsigned char *at = P->p;
	struct sm_toml_value *arr;
	int r;

	if (depth > MAX_DEPTH)
		return too_deep(P, at);
	arr = sm_toml_node(P->arena, SM_TOML_ARRAY);
	if (!arr)
		return oom(P);
	arr->flags |= SM_TOML_F_INLINE;
	P->p++;
	for (;;) {
		struct sm_toml_value *v = NULL;

		if ((r = skip_ws_nl(P)) < 0)
			goto fail;
		if (P->p < P->end && *P->p == ']')
			break;
		if ((r = parse_value(P, depth + 1, &v)) < 0)
			goto fail;
		if (sm_toml_push_in(P->arena, arr, v) < 0) {
			r = oom(P);
			goto fail;
		}
		if ((r = skip_ws_nl(P)) < 0)
			goto fail;
		if (P->p < P->end && *P->p == ',') {
			P->p++;
			continue;
		}
		if (P->p < P->end && *P->p == ']')
			break;
		r = describe_char(P, P->p, "expected ',' or ']' in array");
		goto fail;
	}
	P->p++;
	*ret = arr;
	return 0;
fail:
	sm_toml_free(arr);
	return r;
}

static int parse_inline_table(struct parser *P, int depth, struct sm_toml_value **ret)
{
	const unsigned char *at = P->p;
	struct sm_toml_value *tab;
	int r;

	if (depth > MAX_DEPTH)
		return too_deep(P, at);
	tab = sm_toml_node(P->arena, SM_TOML_TABLE);
	if (!tab)
		return oom(P);
	P->p++;
	skip_ws(P);
	if (P->p < P->end && *P->p == '}')
		goto done;
	for (;;) {
		if ((r = parse_keyval(P, tab, depth)) < 0)
			goto fail;
		skip_ws(P);
		if (P->p < P->end && *P->p == ',') {
			P->p++;
			skip_ws(P);
			if (P->p < P->end && *P->p == '}') {
				r = perr(P, P->p, "trailing comma in inline table");
				goto fail;
			}
			continue;
		}
		if (P->p < P->end && *P->p == '}')
			break;
		r = describe_char(P, P->p, "expected ',' or '}' in inline table");
		goto fail;
	}
done:
	P->p++;
	tab->flags |= SM_TOML_F_INLINE;
	*ret = tab;
	return 0;
fail:
	sm_toml_free(tab);
	return r;
}

static int ndigits(const unsigned char *p, const unsigned char *end, int n)
{
	int v = 0;

	if (end - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* HH:MM:SS[.frac] at P->p into dt. */
static int parse_time(struct parser *P, struct sm_toml_datetime *dt)
{
	const unsigned char *p = P->p, *end = P->end;
	int h = ndigits(p, end, 2), m = -1, s = -1;

	if (h >= 0 && end - p >= 8 && p[2] == ':' && p[5] == ':') {
		m = ndigits(p + 3, end, 2);
		s = ndigits(p + 6, end, 2);
	}
	if (h < 0 || m < 0 || s < 0)
		return perr(P, p, "invalid time (expected HH:MM:SS)");
	if (h > 23 || m > 59 || s > 59)
		return perr(P, p, "time out of range");
	dt->hour = h;
	dt->minute = m;
	dt->second = s;
	dt->nanosecond = 0;
	dt->frac_digits = 0;
	p += 8;
	if (p < end && *p == '.') {
		uint32_t ns = 0;
		int n = 0;

		p++;
		if (p >= end || !is_digit(*p))
			return perr(P, p, "expected digits after '.' in time");
		while (p < end && is_digit(*p)) {
			if (n < 9) {
				ns = ns * 10 + (uint32_t)(*p - '0');
				n++;
			}
			p++;
		}
		dt->frac_digits = n;
		while (n++ < 9)
			ns *= 10;
		dt->nanosecond = ns;
	}
	P->p = p;
	return 0;
}

static int parse_datetime(struct parser *P, struct sm_toml_value **ret)
{
	const unsigned char *start = P->p, *p = P->p, *end = P->end;
	struct sm_toml_datetime dt = {0};
	enum sm_toml_type type;
	struct sm_toml_value *v;
	int r;

	if (end - p >= 3 && p[2] == ':') {
		if ((r = parse_time(P, &dt)) < 0)
			return r;
		type = SM_TOML_TIME_LOCAL;
		goto out;
	}
	dt.year = ndigits(p, end, 4);
	if (dt.year < 0 || end - p < 10 || p[4] != '-' || p[7] != '-' ||
	    (dt.month = ndigits(p + 5, end, 2)) < 0 || (dt.day = ndigits(p + 8, end, 2)) < 0)
		return perr(P, start, "invalid date (expected YYYY-MM-DD)");
	if (dt.month < 1 || dt.month > 12 || dt.day < 1 ||
	    dt.day > sm_time_days_in_month(dt.year, dt.month))
		return perr(P, start, "date out of range");
	p += 10;
	if (p < end && (*p == 'T' || *p == 't' || (*p == ' ' && p + 1 < end && is_digit(p[1])))) {
		P->p = p + 1;
		if ((r = parse_time(P, &dt)) < 0)
			return r;
		p = P->p;
		type = SM_TOML_DATETIME_LOCAL;
		if (p < end && (*p == 'Z' || *p == 'z')) {
			dt.offset_z = true;
			type = SM_TOML_DATETIME;
			p++;
		} else if (p < end && (*p == '+' || *p == '-')) {
			int oh = ndigits(p + 1, end, 2), om = -1;

			if (oh >= 0 && end - p >= 6 && p[3] == ':')
				om = ndigits(p + 4, end, 2);
			if (oh < 0 || om < 0)
				return perr(P, p, "invalid time offset (expected +HH:MM)");
			if (oh > 23 || om > 59)
				return perr(P, p, "time offset out of range");
			dt.offset_minutes = (oh * 60 + om) * (*p == '-' ? -1 : 1);
			type = SM_TOML_DATETIME;
			p += 6;
		}
		P->p = p;
	} else {
		type = SM_TOML_DATE_LOCAL;
		P->p = p;
	}
out:
	v = pnew_datetime(P, type, &dt);
	if (!v)
		return oom(P);
	*ret = v;
	return 0;
}

/* digits of base with single underscores between them, from s to e; true if well-formed */
static bool digits_ok(const unsigned char *s, const unsigned char *e, int base)
{
	bool prev_digit = false;

	if (s >= e)
		return false;
	for (; s < e; s++) {
		int d = hexval(*s);

		if (*s == '_') {
			if (!prev_digit)
				return false;
			prev_digit = false;
		} else if (d >= 0 && d < base) {
			prev_digit = true;
		} else {
			return false;
		}
	}
	return prev_digit;
}

static int parse_float_token(struct parser *P, const unsigned char *s, const unsigned char *e,
			     double *ret)
{
	const unsigned char *q = s, *t;
	char *endp;
	double d;

	if (q < e && (*q == '+' || *q == '-'))
		q++;
	/* integer part: no leading zeros */
	t = q;
	while (t < e && (is_digit(*t) || *t == '_'))
		t++;
	if (!digits_ok(q, t, 10) || (*q == '0' && t - q > 1))
		return perr(P, s, "invalid float");
	if (t < e && *t == '.') {
		q = ++t;
		while (t < e && (is_digit(*t) || *t == '_'))
			t++;
		if (!digits_ok(q, t, 10))
			return perr(P, s, "invalid float");
	}
	if (t < e && (*t == 'e' || *t == 'E')) {
		t++;
		if (t < e && (*t == '+' || *t == '-'))
			t++;
		q = t;
		while (t < e && (is_digit(*t) || *t == '_'))
			t++;
		if (!digits_ok(q, t, 10))
			return perr(P, s, "invalid float exponent");
	}
	if (t != e)
		return perr(P, s, "invalid float");
	sm_strbuf_reset(&P->sbuf);
	for (q = s; q < e; q++)
		if (*q != '_' && sm_strbuf_addch(&P->sbuf, *q) < 0)
			return oom(P);
	d = strtod(P->sbuf.buf, &endp);
	if (*endp)
		return perr(P, s, "invalid float");
	*ret = d;
	return 0;
}

/* A decimal integer beyond 64 bits (digits q..e, underscores allowed), kept as digits. */
static int big_integer(struct parser *P, const unsigned char *s, bool neg, const unsigned char *q,
		       const unsigned char *e, struct sm_toml_value **ret)
{
	struct sm_toml_value *v;

	sm_strbuf_reset(&P->sbuf);
	if (neg && sm_strbuf_addch(&P->sbuf, '-') < 0)
		return oom(P);
	for (; q < e; q++)
		if (*q != '_' && sm_strbuf_addch(&P->sbuf, *q) < 0)
			return oom(P);
	if (P->sbuf.len - neg > SM_TOML_BIG_DIGITS)
		return perr(P, s, "integer out of range (more than %d digits)", SM_TOML_BIG_DIGITS);
	v = sm_toml_new_big_integer(P->sbuf.buf, P->sbuf.len);
	if (!v)
		return oom(P);
	P->p = e;
	*ret = v;
	return 0;
}

static int parse_number(struct parser *P, struct sm_toml_value **ret)
{
	const unsigned char *s = P->p, *e = P->p, *q;
	struct sm_toml_value *v;
	bool neg = false, is_float = false;
	uint64_t acc = 0, limit;
	int base = 10, r;

	while (e < P->end && (is_bare(*e) || *e == '.' || *e == '+'))
		e++;
	q = s;
	if (*q == '+' || *q == '-') {
		neg = *q == '-';
		q++;
	}
	if (e - q == 3 && (memcmp(q, "inf", 3) == 0 || memcmp(q, "nan", 3) == 0)) {
		double d = q[0] == 'i' ? INFINITY : NAN;

		v = pnew_float(P, neg ? -d : d);
		goto out;
	}
	if (e - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'o' || q[1] == 'b')) {
		if (q != s)
			return perr(P, s, "sign not allowed on hex, octal or binary integers");
		base = q[1] == 'x' ? 16 : q[1] == 'o' ? 8 : 2;
		q += 2;
		if (!digits_ok(q, e, base))
			return perr(P, s, "invalid integer");
	} else {
		for (const unsigned char *t = q; t < e; t++)
			if (*t == '.' || *t == 'e' || *t == 'E')
				is_float = true;
		if (is_float) {
			double d = 0;

			if ((r = parse_float_token(P, s, e, &d)) < 0)
				return r;
			v = pnew_float(P, d);
			goto out;
		}
		if (!digits_ok(q, e, 10))
			return perr(P, s, "invalid number");
		if (*q == '0' && e - q > 1)
			return perr(P, s, "leading zeros not allowed");
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (const unsigned char *t = q; t < e; t++) {
		unsigned d;

		if (*t == '_')
			continue;
		d = (unsigned)hexval(*t);
		if (acc > (limit - d) / (unsigned)base) {
			if (base == 10 && (P->flags & SM_TOML_BIG_INTEGERS))
				return big_integer(P, s, neg, q, e, ret);
			return perr(P, s, "integer out of range");
		}
		acc = acc * (unsigned)base + d;
	}
	if (neg)
		v = pnew_int(P, acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc);
	else
		v = pnew_int(P, (int64_t)acc);
out:
	if (!v)
		return oom(P);
	P->p = e;
	*ret = v;
	return 0;
}

static bool looks_like_datetime(const unsigned char *p, const unsigned char *end)
{
	if (end - p >= 3 && is_digit(p[0]) && is_digit(p[1]) && p[2] == ':')
		return true;
	return end - p >= 5 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) &&
	       is_digit(p[3]) && p[4] == '-';
}

/* A value at P->p that will lie depth levels below the root. */
static int parse_value(struct parser *P, int depth, struct sm_toml_value **ret)
{
	const unsigned char *p = P->p;
	struct sm_toml_value *v;
	int r;

	if (p >= P->end)
		return perr(P, p, "expected a value, found end of input");
	switch (*p) {
	case '"':
	case '\'':
		sm_strbuf_reset(&P->sbuf);
		if ((r = parse_string(P, &P->sbuf, true)) < 0)
			return r;
		v = sm_toml_node_string(P->arena, P->sbuf.buf, P->sbuf.len);
		if (!v)
			return oom(P);
		*ret = v;
		return 0;
	case 't':
	case 'f': {
		bool b = *p == 't';
		size_t n = b ? 4 : 5;

		if ((size_t)(P->end - p) < n || memcmp(p, b ? "true" : "false", n) != 0 ||
		    (p + n < P->end && is_bare(p[n])))
			return perr(P, p, "invalid value");
		v = pnew_bool(P, b);
		if (!v)
			return oom(P);
		P->p += n;
		*ret = v;
		return 0;
	}
	case '[':
		return parse_array(P, depth, ret);
	case '{':
		return parse_inline_table(P, depth, ret);
	default:
		if (looks_like_datetime(p, P->end))
			return parse_datetime(P, ret);
		if (is_digit(*p) || *p == '+' || *p == '-' || *p == 'i' || *p == 'n')
			return parse_number(P, ret);
		return describe_char(P, p, "expected a value");
	}
}

static int parse_header(struct parser *P)
{
	const unsigned char *at = P->p;
	size_t base = P->nsegs, last;
	struct sm_toml_value *t = P->root;
	int depth = 0; /* of t */
	bool aot;
	long j;
	int r;

	P->p++;
	aot = P->p < P->end && *P->p == '[';
	if (aot)
		P->p++;
	skip_ws(P);
	if ((r = parse_key(P)) < 0)
		return r;
	if (P->p >= P->end || *P->p != ']')
		return describe_char(P, P->p, "expected ']' after table name");
	P->p++;
	if (aot) {
		if (P->p >= P->end || *P->p != ']')
			return describe_char(P, P->p, "expected ']]' after array of tables name");
		P->p++;
	}
	/* dotted-key tables of the previous section are now defined */
	for (size_t i = 0; i < P->npending; i++)
		P->pending[i]->flags |= SM_TOML_F_DEFINED;
	P->npending = 0;

	last = P->nsegs - 1;
	for (size_t i = base; i < last; i++) {
		struct sm_toml_value *n = NULL;

		if (++depth > MAX_DEPTH)
			return too_deep(P, P->segs[i].at);
		j = sm_toml_tab_find(t, seg_key(P, i), P->segs[i].len);
		if (j < 0) {
			if ((r = new_subtable(P, t, i, 0, &n)) < 0)
				return r;
		} else {
			n = t->u.tab.items[j].value;
			if (n->type == SM_TOML_ARRAY && (n->flags & SM_TOML_F_AOT)) {
				/* the array, then its last table */
				if (++depth > MAX_DEPTH)
					return too_deep(P, P->segs[i].at);
				n = n->u.arr.items[n->u.arr.len - 1];
			} else if (n->type != SM_TOML_TABLE) {
				return perr(P, P->segs[i].at, "key '%s' is already defined as %s",
					    seg_key(P, i), sm_toml_type_name(n->type));
			} else if (n->flags & SM_TOML_F_INLINE) {
				return perr(P, P->segs[i].at, "cannot extend inline table '%s'",
					    seg_key(P, i));
			}
		}
		t = n;
	}
	j = sm_toml_tab_find(t, seg_key(P, last), P->segs[last].len);
	/* the new section: a table one level down, or an array and its table two */
	if (depth + 1 + aot > MAX_DEPTH)
		return too_deep(P, P->segs[last].at);
	P->cur_depth = depth + 1 + aot;
	if (aot) {
		struct sm_toml_value *arr, *n;

		if (j < 0) {
			arr = sm_toml_node(P->arena, SM_TOML_ARRAY);
			if (!arr)
				return oom(P);
			arr->flags |= SM_TOML_F_AOT;
			if (sm_toml_tab_append_in(P->arena, t, seg_key(P, last), P->segs[last].len, arr) < 0) {
				sm_toml_free(arr);
				return oom(P);
			}
		} else {
			arr = t->u.tab.items[j].value;
			if (arr->type != SM_TOML_ARRAY || !(arr->flags & SM_TOML_F_AOT))
				return perr(P, at,
					    "cannot define '%s' as an array of tables: "
					    "already defined as %s",
					    seg_key(P, last),
					    (arr->flags & SM_TOML_F_INLINE) &&
						    arr->type == SM_TOML_ARRAY
						? "a static array"
						: sm_toml_type_name(arr->type));
		}
		n = sm_toml_node(P->arena, SM_TOML_TABLE);
		if (!n)
			return oom(P);
		n->flags |= SM_TOML_F_DEFINED;
		if (sm_toml_push_in(P->arena, arr, n) < 0)
			return oom(P);
		P->cur = n;
	} else if (j < 0) {
		if ((r = new_subtable(P, t, last, SM_TOML_F_DEFINED, &P->cur)) < 0)
			return r;
	} else {
		struct sm_toml_value *n = t->u.tab.items[j].value;

		if (n->type != SM_TOML_TABLE)
			return perr(P, at, "key '%s' is already defined as %s", seg_key(P, last),
				    n->flags & SM_TOML_F_AOT ? "an array of tables"
							     : sm_toml_type_name(n->type));
		if (n->flags & (SM_TOML_F_INLINE | SM_TOML_F_DEFINED))
			return perr(P, at, "table '%s' is already defined", seg_key(P, last));
		n->flags |= SM_TOML_F_DEFINED;
		P->cur = n;
	}
	pop_segs(P, base);
	return 0;
}

static int parse_document(struct parser *P)
{
	int r;

	if (P->end - P->p >= 3 && memcmp(P->p, "\xef\xbb\xbf", 3) == 0)
		P->p += 3;
	while (P->p < P->end) {
		unsigned char c;

		skip_ws(P);
		if (P->p >= P->end)
			break;
		c = *P->p;
		if (c == '\n') {
			P->p++;
			continue;
		}
		if (c == '#' || c == '\r') {
			r = expect_eol(P);
		} else {
			if (c == '[')
				r = parse_header(P);
			else
				r = parse_keyval(P, P->cur, P->cur_depth);
			if (r >= 0)
				r = expect_eol(P);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int sm_toml_parse(const char *buf, size_t len, struct sm_toml_value **ret, struct strbuf *err)
{
	return sm_toml_parse_flags(buf, len, 0, ret, err);
}

int sm_toml_parse_flags(const char *buf, size_t len, unsigned flags, struct sm_toml_value **ret,
			struct strbuf *err)
{
	struct parser P = {
	    .err = err,
	    .flags = flags,
	    .sbuf = STRBUF_INIT,
	    .kbuf = STRBUF_INIT,
	};
	int r;

	if (!buf && len)
		return sm_err(err, -EINVAL, "no input");
	if (!buf)
		buf = "";
	P.start = P.p = (const unsigned char *)buf;
	P.end = P.start + len;
	if ((flags & SM_TOML_ARENA) && !(P.arena = sm_toml_arena_new(len + len / 2)))
		return oom(&P);
	P.root = sm_toml_node(P.arena, SM_TOML_TABLE);
	if (!P.root) {
		sm_toml_arena_free(P.arena);
		return oom(&P);
	}
	P.root->u.tab.arena = P.arena; /* freed with the root */
	P.cur = P.root;
	r = parse_document(&P);
	sm_strbuf_release(&P.sbuf);
	sm_strbuf_release(&P.kbuf);
	sm_free(P.segs);
	sm_free(P.pending);
	if (r < 0) {
		sm_toml_free(P.root);
		return r;
	}
	*ret = P.root;
	return 0;
}
