/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the frontmatter reader (sm_metadata_extract_text: the
 * YAML 1.1 reader modelled on PyYAML's safe_load, then SkillMeat's
 * normalisation): any file content must give metadata or a warning, never a
 * crash; the metadata table must be writable into collection.toml and read
 * back unchanged (what `add` and the manifest rewrite rely on).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/metadata.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const struct sm_metadata *m)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_toml_value *root = sm_toml_new_table(), *back = NULL;
	int r;

	if (!root || sm_toml_set(root, "metadata", sm_toml_clone(m->table)) < 0 ||
	    sm_toml_set(root, "tags", sm_toml_clone(m->tags)) < 0)
		goto out; /* out of memory */
	r = sm_toml_encode(root, &out, &err);
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		fprintf(stderr, "encode: %s\n", err.buf);
		abort(); /* metadata that cannot be written to the manifest */
	}
	/* read back as the manifest is read: integers past 64 bits are kept as digits */
	if (sm_toml_parse_flags(out.buf, out.len, SM_TOML_BIG_INTEGERS, &back, &err) < 0) {
		if (err.len && strstr(err.buf, "out of memory"))
			goto out;
		abort(); /* written, but not readable */
	}
	if (!sm_toml_equal(root, back, false)) /* the encoder puts tables last */
		abort();
out:
	sm_toml_free(root);
	sm_toml_free(back);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_metadata m = {0};

	if (sm_metadata_extract_text((const char *)data, size, "fuzz/SKILL.md", &m, &err) == 0) {
		if (!m.table || m.table->type != SM_TOML_TABLE || !m.tags ||
		    m.tags->type != SM_TOML_ARRAY)
			abort();
		if (m.warning && strchr(m.warning, '\n'))
			abort(); /* warnings are one line */
		check_roundtrip(&m);
	}
	sm_metadata_release(&m);
	sm_strbuf_release(&err);
	return 0;
}
