/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_ARTIFACT_H
#define SKILLMEAT_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/* Artifact types (spec/skillmeat-formats.md §2.1). */
enum sm_artifact_type {
	SM_TYPE_SKILL,
	SM_TYPE_COMMAND,
	SM_TYPE_AGENT,
	SM_TYPE_HOOK,
	SM_TYPE_MCP,
	SM_TYPE_WORKFLOW,
	SM_TYPE_COMPOSITE,
	SM_TYPE_PROJECT_CONFIG,
	SM_TYPE_SPEC_FILE,
	SM_TYPE_RULE_FILE,
	SM_TYPE_CONTEXT_FILE,
	SM_TYPE_PROGRESS_TEMPLATE,
	SM_TYPE__COUNT,
	SM_TYPE_INVALID = -1,
};

/* "skill", "command", ... */
const char *sm_artifact_type_name(enum sm_artifact_type type);
/* The article a message puts before the type's name: "a" (skill) or "an" (agent, mcp). */
const char *sm_artifact_type_article(enum sm_artifact_type type);
/*
 * Parse a type string: the canonical names plus the aliases mcp_server,
 * mcp-server, mcpserver (→ mcp) and plugin (→ composite). Case-sensitive
 * like the original. SM_TYPE_INVALID when unknown.
 */
enum sm_artifact_type sm_artifact_type_parse(const char *s);
/* Folder under a collection: "skills", "commands", "agents", "composites", ... */
const char *sm_artifact_type_dir(enum sm_artifact_type type);
/* True for types stored as one file (command, agent). */
bool sm_artifact_type_is_file(enum sm_artifact_type type);

/* Longest artifact name we accept, in bytes. */
#define SM_NAME_MAX 128

/*
 * Name rules (§1.4 plus ours): non-empty, at most SM_NAME_MAX bytes, valid
 * UTF-8, no '/', '\\', "..", "::", no leading '.', no control characters.
 * -EINVAL with a message naming the rule otherwise.
 */
int sm_artifact_name_check(const char *name, struct strbuf *err);

#endif
