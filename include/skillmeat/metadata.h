/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_METADATA_H
#define SKILLMEAT_METADATA_H

#include <stddef.h>

#include "skillmeat/artifact.h"

struct strbuf;
struct sm_toml_value;

/*
 * An artifact's metadata as SkillMeat 0.9.1 extracts it from its files
 * (spec/skillmeat-formats.md §2.3-2.5): frontmatter parsed with YAML 1.1
 * resolution like PyYAML's safe_load, normalised, stringified.
 */
struct sm_metadata {
	/*
	 * The [artifacts.metadata] table exactly as SkillMeat writes it (same keys,
	 * same order, same values), without "tags". Always a table (maybe empty).
	 */
	struct sm_toml_value *table;
	/* Frontmatter tags to merge into the artifact's top-level tags: array of strings. */
	struct sm_toml_value *tags;
	/*
	 * NULL, or a one-line warning naming the file and line when the
	 * frontmatter was malformed and only part of it could be read.
	 */
	char *warning;
};

/*
 * Extract from a file's text. display_path names the file in the warning.
 * Malformed frontmatter is not an error (see warning). -ENOMEM on failure.
 */
int sm_metadata_extract_text(const char *text, size_t len, const char *display_path,
			     struct sm_metadata *ret, struct strbuf *err);

/*
 * Locate the metadata file of the artifact at path (§2.3: skill → SKILL.md;
 * command/agent → the file itself, or for a folder command.md / AGENT.md,
 * agent.md, else the first *.md; other types → none) and extract from it.
 * No metadata file → empty metadata, success. A file larger than 4 MiB is
 * read only up to that size for its frontmatter. Errors: -ENOENT (path gone), -ENOMEM.
 */
int sm_metadata_extract(const char *path, enum sm_artifact_type type, struct sm_metadata *ret,
			struct strbuf *err);

/*
 * The metadata file of an artifact (see above) as a path appended to out;
 * returns 1 when found, 0 when the type has none or none exists, <0 on error.
 */
int sm_metadata_find_file(const char *path, enum sm_artifact_type type, struct strbuf *out,
			  struct strbuf *err);

void sm_metadata_release(struct sm_metadata *m);

/*
 * The canonical name of a Claude tool as the reader normalises it ("read",
 * "Read", "multi_edit" -> "MultiEdit"), or NULL for an unknown tool. Static.
 */
const char *sm_metadata_tool_name(const char *s);

#endif
