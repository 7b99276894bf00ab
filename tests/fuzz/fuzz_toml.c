/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TOML decoder: any input must be decoded or
 * rejected without crashing; whatever decodes must encode, the encoding must
 * decode again to an equal tree, and encoding that must give the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT, out1 = STRBUF_INIT, out2 = STRBUF_INIT;
	struct sm_toml_value *a = NULL, *b = NULL;

	if (sm_toml_parse((const char *)data, size, &a, &err) < 0)
		goto out;
	if (sm_toml_encode(a, &out1, &err) < 0)
		abort();
	if (sm_toml_parse(out1.buf, out1.len, &b, &err) < 0)
		abort();
	if (!sm_toml_equal(a, b, false))
		abort();
	if (sm_toml_encode(b, &out2, &err) < 0 || out1.len != out2.len ||
	    memcmp(out1.buf, out2.buf, out1.len) != 0)
		abort();
out:
	sm_toml_free(a);
	sm_toml_free(b);
	sm_strbuf_release(&err);
	sm_strbuf_release(&out1);
	sm_strbuf_release(&out2);
	return 0;
}
