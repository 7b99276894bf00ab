/* SPDX-License-Identifier: MIT */
/*
 * Python's view of safe_load's values: truthiness, dict lookup, str() and
 * repr() (floats as repr() prints them), and the conversion to TOML.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yaml_py.h"
#include "skillmeat/memory.h"
#include "skillmeat/pyrepr.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

/* ---- UTF-8 and whitespace ------------------------------------------- */

size_t sm_ypy_utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

bool sm_ypy_isspace(uint32_t c)
{
	if (c <= 0x7f)
		return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
	return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* ---- access ----------------------------------------------------------- */

bool sm_ypy_str_eq(const struct sm_ypy *v, const char *s)
{
	size_t n = strlen(s);

	return v && v->type == SM_YPY_STR && v->u.s.len == n && memcmp(v->u.s.ptr, s, n) == 0;
}

const struct sm_ypy *sm_ypy_map_get(const struct sm_ypy *map, const char *key)
{
	if (!map || map->type != SM_YPY_MAP)
		return NULL;
	for (size_t i = 0; i < map->u.map.len; i++)
		if (sm_ypy_str_eq(map->u.map.keys[i], key))
			return map->u.map.vals[i];
	return NULL;
}

bool sm_ypy_truthy(const struct sm_ypy *v)
{
	if (!v)
		return false;
	switch (v->type) {
	case SM_YPY_NULL:
		return false;
	case SM_YPY_BOOL:
		return v->u.b;
	case SM_YPY_INT:
		return v->u.i != 0;
	case SM_YPY_FLOAT:
		return v->u.f != 0; /* nan is true */
	case SM_YPY_STR:
	case SM_YPY_BYTES:
		return v->u.s.len != 0;
	case SM_YPY_SEQ:
	case SM_YPY_TUPLE:
	case SM_YPY_SET:
		return v->u.seq.len != 0;
	case SM_YPY_MAP:
		return v->u.map.len != 0;
	default:
		return true;
	}
}

/* ---- str() and repr() ------------------------------------------------- */

/* Python's str.isprintable() approximated for the characters that matter. */
static bool py_printable(uint32_t c)
{
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0xa0) || c == 0xad)
		return false;
	if ((c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	    (c >= 0x205f && c <= 0x206f) || c == 0x1680 || c == 0x3000 || c == 0xfeff ||
	    (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe000 && c <= 0xf8ff) || c == 0x61c ||
	    (c >= 0x600 && c <= 0x605) || c == 0x6dd || c == 0x70f || c == 0x180e || (c >= 0xf0000))
		return false;
	return true;
}

static int repr_str(const char *s, size_t n, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char q = '\'';
	int rc = 0;

	if (memchr(s, '\'', n) && !memchr(s, '"', n))
		q = '"';
	rc |= sm_strbuf_addch(out, q);
	while (p < end && rc == 0) {
		uint32_t c;
		size_t k = sm_ypy_utf8_decode(p, end, &c);

		if (!k) {
			c = *p;
			k = 1;
		}
		p += k;
		if (c == (uint32_t)q || c == '\\')
			rc = sm_strbuf_addf(out, "\\%c", (char)c);
		else if (c == '\t')
			rc = sm_strbuf_addstr(out, "\\t");
		else if (c == '\n')
			rc = sm_strbuf_addstr(out, "\\n");
		else if (c == '\r')
			rc = sm_strbuf_addstr(out, "\\r");
		else if (py_printable(c))
			rc = sm_strbuf_add(out, p - k, k);
		else if (c <= 0xff)
			rc = sm_strbuf_addf(out, "\\x%02x", c);
		else if (c <= 0xffff)
			rc = sm_strbuf_addf(out, "\\u%04x", c);
		else
			rc = sm_strbuf_addf(out, "\\U%08x", c);
	}
	if (rc == 0)
		rc = sm_strbuf_addch(out, q);
	return rc < 0 ? rc : 0;
}

static int repr_bytes(const char *s, size_t n, struct strbuf *out)
{
	char q = '\'';
	int rc;

	if (memchr(s, '\'', n) && !memchr(s, '"', n))
		q = '"';
	rc = sm_strbuf_addf(out, "b%c", q);
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == (unsigned char)q || c == '\\')
			rc = sm_strbuf_addf(out, "\\%c", c);
		else if (c == '\t')
			rc = sm_strbuf_addstr(out, "\\t");
		else if (c == '\n')
			rc = sm_strbuf_addstr(out, "\\n");
		else if (c == '\r')
			rc = sm_strbuf_addstr(out, "\\r");
		else if (c < 0x20 || c >= 0x7f)
			rc = sm_strbuf_addf(out, "\\x%02x", c);
		else
			rc = sm_strbuf_addch(out, (char)c);
	}
	if (rc == 0)
		rc = sm_strbuf_addch(out, q);
	return rc < 0 ? rc : 0;
}

static int add_offset(const struct sm_ypy_dt *d, struct strbuf *out)
{
	int off = d->offset_sec, sign = '+';

	if (off < 0) {
		sign = '-';
		off = -off;
	}
	if (off % 60)
		return sm_strbuf_addf(out, "%c%02d:%02d:%02d", sign, off / 3600, off / 60 % 60,
				      off % 60);
	return sm_strbuf_addf(out, "%c%02d:%02d", sign, off / 3600, off / 60 % 60);
}

static int str_datetime(const struct sm_ypy_dt *d, struct strbuf *out)
{
	int rc = sm_strbuf_addf(out, "%04d-%02d-%02d %02d:%02d:%02d", d->year, d->month, d->day,
				d->hour, d->minute, d->second);

	if (rc == 0 && d->usec)
		rc = sm_strbuf_addf(out, ".%06d", d->usec);
	if (rc == 0 && d->aware)
		rc = add_offset(d, out);
	return rc < 0 ? rc : 0;
}

static int repr_datetime(const struct sm_ypy_dt *d, struct strbuf *out)
{
	int rc = sm_strbuf_addf(out, "datetime.datetime(%d, %d, %d, %d, %d", d->year, d->month,
				d->day, d->hour, d->minute);

	if (rc == 0 && (d->second || d->usec))
		rc = sm_strbuf_addf(out, ", %d", d->second);
	if (rc == 0 && d->usec)
		rc = sm_strbuf_addf(out, ", %d", d->usec);
	if (rc == 0 && d->aware) {
		if (!d->offset_sec) {
			rc = sm_strbuf_addstr(out, ", tzinfo=datetime.timezone.utc");
		} else {
			int days = d->offset_sec < 0 ? -1 : 0;
			int secs = d->offset_sec - days * 86400;

			if (days)
				rc = sm_strbuf_addf(out,
						    ", tzinfo=datetime.timezone(datetime.timedelta("
						    "days=-1, seconds=%d))",
						    secs);
			else
				rc = sm_strbuf_addf(out,
						    ", tzinfo=datetime.timezone(datetime.timedelta("
						    "seconds=%d))",
						    secs);
		}
	}
	if (rc == 0)
		rc = sm_strbuf_addch(out, ')');
	return rc < 0 ? rc : 0;
}

static int repr_items(struct sm_ypy *const *items, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (i && (rc = sm_strbuf_addstr(out, ", ")) < 0)
			return rc;
		rc = sm_ypy_repr(items[i], out);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sm_ypy_repr(const struct sm_ypy *v, struct strbuf *out)
{
	int rc;

	switch (v->type) {
	case SM_YPY_STR:
		return repr_str(v->u.s.ptr, v->u.s.len, out);
	case SM_YPY_BYTES:
		return repr_bytes(v->u.s.ptr, v->u.s.len, out);
	case SM_YPY_DATE:
		return sm_strbuf_addf(out, "datetime.date(%d, %d, %d)", v->u.dt.year, v->u.dt.month,
				      v->u.dt.day);
	case SM_YPY_DATETIME:
		return repr_datetime(&v->u.dt, out);
	case SM_YPY_SEQ:
		if ((rc = sm_strbuf_addch(out, '[')) < 0)
			return rc;
		rc = repr_items(v->u.seq.items, v->u.seq.len, out);
		if (rc < 0)
			return rc;
		return sm_strbuf_addch(out, ']');
	case SM_YPY_TUPLE:
		if ((rc = sm_strbuf_addch(out, '(')) < 0)
			return rc;
		rc = repr_items(v->u.seq.items, v->u.seq.len, out);
		if (rc < 0)
			return rc;
		return sm_strbuf_addstr(out, v->u.seq.len == 1 ? ",)" : ")");
	case SM_YPY_SET:
		if (!v->u.seq.len)
			return sm_strbuf_addstr(out, "set()");
		if ((rc = sm_strbuf_addch(out, '{')) < 0)
			return rc;
		rc = repr_items(v->u.seq.items, v->u.seq.len, out);
		if (rc < 0)
			return rc;
		return sm_strbuf_addch(out, '}');
	case SM_YPY_MAP:
		if ((rc = sm_strbuf_addch(out, '{')) < 0)
			return rc;
		for (size_t i = 0; i < v->u.map.len; i++) {
			if (i && (rc = sm_strbuf_addstr(out, ", ")) < 0)
				return rc;
			rc = sm_ypy_repr(v->u.map.keys[i], out);
			if (rc == 0)
				rc = sm_strbuf_addstr(out, ": ");
			if (rc == 0)
				rc = sm_ypy_repr(v->u.map.vals[i], out);
			if (rc < 0)
				return rc;
		}
		return sm_strbuf_addch(out, '}');
	default:
		return sm_ypy_str(v, out);
	}
}

int sm_ypy_str(const struct sm_ypy *v, struct strbuf *out)
{
	switch (v->type) {
	case SM_YPY_NULL:
		return sm_strbuf_addstr(out, "None");
	case SM_YPY_BOOL:
		return sm_strbuf_addstr(out, v->u.b ? "True" : "False");
	case SM_YPY_INT:
		return sm_strbuf_addf(out, "%lld", (long long)v->u.i);
	case SM_YPY_FLOAT:
		return sm_py_float_repr(v->u.f, out);
	case SM_YPY_BIGINT:
	case SM_YPY_STR:
		return sm_strbuf_add(out, v->u.s.ptr, v->u.s.len);
	case SM_YPY_DATE:
		return sm_strbuf_addf(out, "%04d-%02d-%02d", v->u.dt.year, v->u.dt.month,
				      v->u.dt.day);
	case SM_YPY_DATETIME:
		return str_datetime(&v->u.dt, out);
	default:
		return sm_ypy_repr(v, out);
	}
}

/* ---- to TOML ----------------------------------------------------------- */

static struct sm_toml_value *dt_to_toml(const struct sm_ypy *v)
{
	struct sm_toml_datetime dt = {0};

	dt.year = v->u.dt.year;
	dt.month = v->u.dt.month;
	dt.day = v->u.dt.day;
	if (v->type == SM_YPY_DATE)
		return sm_toml_new_datetime(SM_TOML_DATE_LOCAL, &dt);
	dt.hour = v->u.dt.hour;
	dt.minute = v->u.dt.minute;
	dt.second = v->u.dt.second;
	dt.nanosecond = (uint32_t)v->u.dt.usec * 1000u;
	dt.frac_digits = v->u.dt.usec ? 6 : 0;
	if (!v->u.dt.aware)
		return sm_toml_new_datetime(SM_TOML_DATETIME_LOCAL, &dt);
	dt.offset_minutes = v->u.dt.offset_sec / 60;
	return sm_toml_new_datetime(SM_TOML_DATETIME, &dt);
}

static struct sm_toml_value *string_of(const struct sm_ypy *v)
{
	struct strbuf sb = STRBUF_INIT;
	struct sm_toml_value *t = NULL;

	if (sm_ypy_str(v, &sb) == 0)
		t = sm_toml_new_stringn(sb.buf, sb.len);
	sm_strbuf_release(&sb);
	return t;
}

int sm_ypy_to_toml(const struct sm_ypy *v, struct sm_toml_value **ret)
{
	struct sm_toml_value *t = NULL;

	*ret = NULL;
	switch (v->type) {
	case SM_YPY_NULL:
		return 0;
	case SM_YPY_BOOL:
		t = sm_toml_new_bool(v->u.b);
		break;
	case SM_YPY_INT:
		t = sm_toml_new_int(v->u.i);
		break;
	case SM_YPY_FLOAT:
		t = sm_toml_new_float(v->u.f);
		break;
	case SM_YPY_BIGINT:
		/* a bare integer, as tomli_w writes Python's int */
		t = sm_toml_new_big_integer(v->u.s.ptr, v->u.s.len);
		if (!t) /* beyond Python's own digit limit: the digits as a string */
			t = sm_toml_new_stringn(v->u.s.ptr, v->u.s.len);
		break;
	case SM_YPY_STR:
		t = sm_toml_new_stringn(v->u.s.ptr, v->u.s.len);
		break;
	case SM_YPY_BYTES:
		t = string_of(v);
		break;
	case SM_YPY_DATE:
	case SM_YPY_DATETIME:
		t = dt_to_toml(v);
		break;
	case SM_YPY_SEQ:
	case SM_YPY_TUPLE:
	case SM_YPY_SET:
		t = sm_toml_new_array();
		for (size_t i = 0; t && i < v->u.seq.len; i++) {
			struct sm_toml_value *item;

			if (sm_ypy_to_toml(v->u.seq.items[i], &item) < 0 ||
			    (item && sm_toml_push(t, item) < 0)) {
				sm_toml_free(t);
				return -ENOMEM;
			}
		}
		break;
	case SM_YPY_MAP:
		t = sm_toml_new_table();
		for (size_t i = 0; t && i < v->u.map.len; i++) {
			struct sm_toml_value *item;
			struct strbuf key = STRBUF_INIT;
			int rc = sm_ypy_to_toml(v->u.map.vals[i], &item);

			if (rc == 0 && item) {
				rc = sm_ypy_str(v->u.map.keys[i], &key);
				if (rc == 0)
					rc = sm_toml_setn(t, key.buf, key.len, item);
				else
					sm_toml_free(item);
			}
			sm_strbuf_release(&key);
			if (rc < 0) {
				sm_toml_free(t);
				return rc;
			}
		}
		break;
	}
	if (!t)
		return -ENOMEM;
	*ret = t;
	return 0;
}
