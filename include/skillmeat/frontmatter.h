/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_FRONTMATTER_H
#define SKILLMEAT_FRONTMATTER_H

#include <stdbool.h>
#include <stddef.h>

#include "skillmeat/artifact.h"

struct strbuf;

/*
 * Editing the YAML frontmatter of a SKILL.md / agent / command file in place.
 *
 * Only the keys of the fields being changed are rewritten; every other byte
 * of the file (the body, the other keys with their order, comments, quoting,
 * the line endings — CRLF stays CRLF) is kept. A file without a frontmatter
 * block gets one at the top. Values are written so that PyYAML's safe_load
 * and sm_metadata_extract_text() read back exactly what was set: strings YAML
 * would resolve to something else ("yes", "null", "1.0", ": ", " #", a
 * leading "-", control characters, ...) are quoted; lists keep the style the
 * file already uses for that key (block "- x", flow "[x, y]" or a
 * comma-separated string), flow for a new key.
 */

enum sm_fm_field {
	SM_FM_TITLE,
	SM_FM_DESCRIPTION,
	SM_FM_AUTHOR,
	SM_FM_LICENSE,
	SM_FM_VERSION,
	SM_FM_TAGS,  /* list */
	SM_FM_TOOLS, /* list, written to tools / allowed-tools / allowedTools */
	SM_FM_FIELD_COUNT,
};

/* The frontmatter key of a field ("tools" for SM_FM_TOOLS). */
const char *sm_fm_field_key(enum sm_fm_field f);

struct sm_fm_value {
	bool set;		   /* change this field; unset fields are left alone */
	const char *str;	   /* scalar fields: the value; NULL or "" removes the key */
	const char *const *items;  /* list fields: the items (non-empty strings) */
	size_t n_items;		   /* list fields: 0 removes the key */
};

struct sm_fm_edit {
	struct sm_fm_value f[SM_FM_FIELD_COUNT];
};

/*
 * Apply edit to the file text [text, text+len) and append the new text to
 * out. type picks the key name of a new tools list (skills and commands:
 * "allowed-tools", agents: "tools"). Every value must be valid UTF-8 without
 * NUL. The result is checked by parsing it again: the untouched keys must
 * load to the same values and the edited ones to what was set.
 * Errors: -EINVAL (a value is not valid UTF-8 / an empty list item),
 * -EBADMSG (the existing frontmatter is not a readable YAML mapping, or its
 * layout cannot be edited without changing other keys: nothing is produced),
 * -ENOMEM.
 */
int sm_frontmatter_edit(const char *text, size_t len, enum sm_artifact_type type,
			const struct sm_fm_edit *edit, struct strbuf *out, struct strbuf *err);

/*
 * Append the YAML scalar for s as it is written in block context (plain when
 * YAML reads it back as the same string, else double-quoted). For tests and
 * tools; -EINVAL when s is not valid UTF-8.
 */
int sm_fm_scalar(const char *s, struct strbuf *out);

#endif
