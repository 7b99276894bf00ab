/* SPDX-License-Identifier: MIT */
/*
 * toml-test decoder: TOML on stdin, toml-test tagged JSON on stdout (exit 0);
 * invalid TOML exits 1 with the parser's message on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

static int read_all(FILE *f, struct strbuf *sb)
{
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (sm_strbuf_add(sb, buf, n) < 0)
			return -ENOMEM;
	return ferror(f) ? -EIO : 0;
}

static void fmt_datetime(char *out, size_t size, enum sm_toml_type type,
			 const struct sm_toml_datetime *dt)
{
	size_t n = 0;

	if (type != SM_TOML_TIME_LOCAL)
		n += (size_t)snprintf(out + n, size - n, "%04d-%02d-%02d", dt->year, dt->month,
				      dt->day);
	if (type == SM_TOML_DATE_LOCAL)
		return;
	if (type != SM_TOML_TIME_LOCAL)
		out[n++] = 'T';
	n +=
	    (size_t)snprintf(out + n, size - n, "%02d:%02d:%02d", dt->hour, dt->minute, dt->second);
	if (dt->frac_digits > 0) {
		char frac[16];

		snprintf(frac, sizeof(frac), "%09" PRIu32, dt->nanosecond);
		n += (size_t)snprintf(out + n, size - n, ".%.*s", dt->frac_digits, frac);
	}
	if (type == SM_TOML_DATETIME) {
		int off = dt->offset_minutes;

		if (dt->offset_z)
			snprintf(out + n, size - n, "Z");
		else
			snprintf(out + n, size - n, "%c%02d:%02d", off < 0 ? '-' : '+',
				 (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	}
}

static json_t *tagged(const char *type, const char *value, size_t len)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "value", json_stringn(value, len));
	return o;
}

static json_t *to_json(const struct sm_toml_value *v)
{
	char buf[64];
	json_t *j;

	switch (v->type) {
	case SM_TOML_STRING:
		return tagged("string", sm_toml_str(v), sm_toml_strlen(v));
	case SM_TOML_INTEGER:
		snprintf(buf, sizeof(buf), "%" PRId64, v->u.i);
		return tagged("integer", buf, strlen(buf));
	case SM_TOML_FLOAT:
		if (isnan(v->u.f))
			snprintf(buf, sizeof(buf), "nan");
		else if (isinf(v->u.f))
			snprintf(buf, sizeof(buf), "%sinf", v->u.f < 0 ? "-" : "");
		else
			snprintf(buf, sizeof(buf), "%.17g", v->u.f);
		return tagged("float", buf, strlen(buf));
	case SM_TOML_BIG_INTEGER:
		return tagged("integer", sm_toml_str(v), sm_toml_strlen(v));
	case SM_TOML_BOOL:
		return tagged("bool", v->u.b ? "true" : "false", v->u.b ? 4 : 5);
	case SM_TOML_ARRAY:
		j = json_array();
		for (size_t i = 0; i < sm_toml_len(v); i++)
			json_array_append_new(j, to_json(sm_toml_at(v, i)));
		return j;
	case SM_TOML_TABLE:
		j = json_object();
		for (size_t i = 0; i < sm_toml_len(v); i++) {
			const struct sm_toml_kv *kv = sm_toml_kv_at(v, i);

			json_object_setn_new(j, kv->key, kv->keylen, to_json(kv->value));
		}
		return j;
	default:
		fmt_datetime(buf, sizeof(buf), v->type, &v->u.dt);
		return tagged(sm_toml_type_name(v->type), buf, strlen(buf));
	}
}

int main(void)
{
	struct strbuf in = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_toml_value *root = NULL, *arena = NULL;
	json_t *j;
	int r, ra;

	sm_strbuf_init(&in, (size_t)256 << 20);
	if (read_all(stdin, &in) < 0) {
		fputs("toml-test-decoder: cannot read input\n", stderr);
		return 2;
	}
	r = sm_toml_parse(in.buf, in.len, &root, &err);
	/* the arena tree (SM_TOML_ARENA, the large files' read path) is the same tree */
	ra = sm_toml_parse_flags(in.buf, in.len, SM_TOML_ARENA, &arena, NULL);
	sm_strbuf_release(&in);
	if ((r < 0) != (ra < 0) || (r == 0 && !sm_toml_equal(root, arena, true))) {
		fputs("toml-test-decoder: SM_TOML_ARENA decodes it otherwise\n", stderr);
		sm_toml_free(root);
		sm_toml_free(arena);
		sm_strbuf_release(&err);
		return 3;
	}
	sm_toml_free(arena);
	if (r < 0) {
		fprintf(stderr, "toml-test-decoder: %s\n", err.buf);
		sm_strbuf_release(&err);
		return 1;
	}
	j = to_json(root);
	sm_toml_free(root);
	if (json_dumpf(j, stdout, JSON_PRESERVE_ORDER | JSON_INDENT(1)) < 0) {
		json_decref(j);
		return 2;
	}
	putchar('\n');
	json_decref(j);
	sm_strbuf_release(&err);
	return 0;
}
