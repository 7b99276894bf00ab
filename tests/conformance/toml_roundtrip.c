/* SPDX-License-Identifier: MIT */
/*
 * Round-trip check: TOML on stdin is decoded, encoded and decoded again; the
 * two trees must be equal (tables as maps, arrays in order) and encoding the
 * second tree must give the same bytes as the first encoding. Exit 0 when the
 * input round-trips, 1 when it does not, 2 when the input is not valid TOML.
 * With --same the first encoding must also be byte-identical to the input
 * (true for anything tomli_w wrote).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

int main(int argc, char **argv)
{
	struct strbuf in = STRBUF_INIT, err = STRBUF_INIT, out1 = STRBUF_INIT, out2 = STRBUF_INIT;
	struct sm_toml_value *a = NULL, *b = NULL;
	char buf[65536];
	size_t n;
	int rc = 1;

	sm_strbuf_init(&in, (size_t)256 << 20);
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (sm_strbuf_add(&in, buf, n) < 0)
			return 2;
	if (sm_toml_parse(in.buf, in.len, &a, &err) < 0) {
		fprintf(stderr, "toml-roundtrip: input: %s\n", err.buf);
		rc = 2;
		goto out;
	}
	if (sm_toml_encode(a, &out1, &err) < 0) {
		fprintf(stderr, "toml-roundtrip: encode: %s\n", err.buf);
		goto out;
	}
	if (sm_toml_parse(out1.buf, out1.len, &b, &err) < 0) {
		fprintf(stderr, "toml-roundtrip: re-decode: %s\n--- encoded ---\n%s", err.buf,
			out1.buf);
		goto out;
	}
	if (!sm_toml_equal(a, b, false)) {
		fprintf(stderr,
			"toml-roundtrip: values differ after round trip\n"
			"--- encoded ---\n%s",
			out1.buf);
		goto out;
	}
	if (sm_toml_encode(b, &out2, &err) < 0 || out1.len != out2.len ||
	    memcmp(out1.buf, out2.buf, out1.len) != 0) {
		fprintf(stderr, "toml-roundtrip: second encoding differs\n");
		goto out;
	}
	if (argc > 1 && strcmp(argv[1], "--same") == 0 &&
	    (in.len != out1.len || memcmp(in.buf, out1.buf, in.len) != 0)) {
		size_t i = 0, line = 1;

		while (i < in.len && i < out1.len && in.buf[i] == out1.buf[i])
			line += in.buf[i++] == '\n';
		fprintf(stderr, "toml-roundtrip: encoding differs from the input at line %zu\n",
			line);
		goto out;
	}
	rc = 0;
out:
	sm_toml_free(a);
	sm_toml_free(b);
	sm_strbuf_release(&in);
	sm_strbuf_release(&err);
	sm_strbuf_release(&out1);
	sm_strbuf_release(&out2);
	return rc;
}
