/* SPDX-License-Identifier: MIT */
/*
 * toml-test encoder: tagged JSON on stdin, TOML (sm_toml_encode) on stdout.
 * Exit 1 with a message on stderr when the JSON is not valid tagged JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

static bool is_leaf(json_t *j)
{
	return json_is_object(j) && json_object_size(j) == 2 &&
	       json_is_string(json_object_get(j, "type")) &&
	       json_is_string(json_object_get(j, "value"));
}

/*
 * jansson cannot load object keys holding NUL. Before loading, NUL escapes
 * become U+10FFFF U+10FFFE and real U+10FFFF becomes U+10FFFF U+10FFFF;
 * unmask() reverses that on keys and strings.
 */
#define X_ESC "\\udbff\\udfff"
#define Y_ESC "\\udbff\\udffe"
#define X_UTF8 "\xf4\x8f\xbf\xbf"
#define Y_UTF8 "\xf4\x8f\xbf\xbe"

static int mask_nul(const char *s, size_t len, struct strbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		int r;

		if (s[i] == '\\' && i + 5 < len && memcmp(s + i + 1, "u0000", 5) == 0) {
			r = sm_strbuf_addstr(out, X_ESC Y_ESC);
			i += 5;
		} else if (s[i] == '\\' && i + 11 < len && strncasecmp(s + i, X_ESC, 12) == 0) {
			r = sm_strbuf_addstr(out, X_ESC X_ESC);
			i += 11;
		} else if (i + 3 < len && memcmp(s + i, X_UTF8, 4) == 0) {
			r = sm_strbuf_addstr(out, X_UTF8 X_UTF8);
			i += 3;
		} else if (s[i] == '\\' && i + 1 < len) {
			r = sm_strbuf_add(out, s + i, 2);
			i++;
		} else {
			r = sm_strbuf_addch(out, s[i]);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static char *unmask(const char *s, size_t len, size_t *ret_len)
{
	char *d = sm_memdup0(s, len);
	size_t o = 0;

	if (!d)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (len - i >= 8 && memcmp(s + i, X_UTF8, 4) == 0) {
			if (memcmp(s + i + 4, Y_UTF8, 4) == 0) {
				d[o++] = '\0';
			} else {
				memcpy(d + o, X_UTF8, 4);
				o += 4;
			}
			i += 7;
		} else {
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	*ret_len = o;
	return d;
}

/* Scalars other than strings and bools: let the decoder read "v = <value>". */
static struct sm_toml_value *scalar(const char *type, const char *value)
{
	struct strbuf doc = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_toml_value *root = NULL, *v = NULL;

	if (sm_strbuf_addf(&doc, "v = %s\n", value) < 0)
		goto out;
	if (sm_toml_parse(doc.buf, doc.len, &root, &err) < 0) {
		fprintf(stderr, "toml-test-encoder: bad %s '%s': %s\n", type, value, err.buf);
		goto out;
	}
	v = sm_toml_take(root, "v");
	if (v && v->type == SM_TOML_INTEGER && strcmp(type, "float") == 0) {
		double f = strtod(value, NULL); /* keeps the sign of -0 */

		sm_toml_free(v);
		v = sm_toml_new_float(f);
	}
	if (v && strcmp(sm_toml_type_name(v->type), type) != 0) {
		fprintf(stderr, "toml-test-encoder: '%s' is not a %s\n", value, type);
		sm_toml_free(v);
		v = NULL;
	}
out:
	sm_toml_free(root);
	sm_strbuf_release(&doc);
	sm_strbuf_release(&err);
	return v;
}

static struct sm_toml_value *from_json(json_t *j)
{
	struct sm_toml_value *v;

	if (is_leaf(j)) {
		const char *type = json_string_value(json_object_get(j, "type"));
		json_t *val = json_object_get(j, "value");

		if (strcmp(type, "string") == 0) {
			size_t n;
			char *str = unmask(json_string_value(val), json_string_length(val), &n);

			v = str ? sm_toml_new_stringn(str, n) : NULL;
			sm_free(str);
			return v;
		}
		if (strcmp(type, "bool") == 0)
			return sm_toml_new_bool(strcmp(json_string_value(val), "true") == 0);
		return scalar(type, json_string_value(val));
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *item;

		v = sm_toml_new_array();
		json_array_foreach(j, i, item)
		{
			if (!v || sm_toml_push(v, from_json(item)) < 0) {
				sm_toml_free(v);
				return NULL;
			}
		}
		return v;
	}
	if (json_is_object(j)) {
		const char *key;
		size_t keylen;
		json_t *item;
		void *tmp;

		v = sm_toml_new_table();
		json_object_keylen_foreach_safe(j, tmp, key, keylen, item)
		{
			size_t n;
			char *k = unmask(key, keylen, &n);

			if (!v || !k || sm_toml_setn(v, k, n, from_json(item)) < 0) {
				sm_free(k);
				sm_toml_free(v);
				return NULL;
			}
			sm_free(k);
		}
		return v;
	}
	fputs("toml-test-encoder: unexpected JSON value\n", stderr);
	return NULL;
}

int main(void)
{
	struct strbuf in = STRBUF_INIT, masked = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_toml_value *root;
	json_error_t jerr;
	char buf[65536];
	size_t n;
	json_t *j;
	int rc = 1;

	sm_strbuf_init(&in, (size_t)256 << 20);
	sm_strbuf_init(&masked, (size_t)512 << 20);
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (sm_strbuf_add(&in, buf, n) < 0)
			return 1;
	if (mask_nul(in.buf, in.len, &masked) < 0)
		return 1;
	j = json_loadb(masked.buf, masked.len, JSON_ALLOW_NUL, &jerr);
	sm_strbuf_release(&in);
	sm_strbuf_release(&masked);
	if (!j) {
		fprintf(stderr, "toml-test-encoder: bad JSON: %s\n", jerr.text);
		return 1;
	}
	root = from_json(j);
	json_decref(j);
	if (!root)
		return 1;
	if (sm_toml_encode(root, &out, &err) < 0) {
		fprintf(stderr, "toml-test-encoder: %s\n", err.buf);
	} else {
		fwrite(out.buf, 1, out.len, stdout);
		rc = 0;
	}
	sm_toml_free(root);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
	return rc;
}
