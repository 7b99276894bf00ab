/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "skillmeat/artifact.h"
#include "skillmeat/error.h"
#include "util/banned.h"

static const struct {
	const char *name;
	const char *dir;
	bool is_file;
} types[SM_TYPE__COUNT] = {
	[SM_TYPE_SKILL] = { "skill", "skills", false },
	[SM_TYPE_COMMAND] = { "command", "commands", true },
	[SM_TYPE_AGENT] = { "agent", "agents", true },
	[SM_TYPE_HOOK] = { "hook", "hooks", false },
	[SM_TYPE_MCP] = { "mcp", "mcps", false },
	[SM_TYPE_WORKFLOW] = { "workflow", "workflows", false },
	[SM_TYPE_COMPOSITE] = { "composite", "composites", false },
	[SM_TYPE_PROJECT_CONFIG] = { "project_config", "project_configs", true },
	[SM_TYPE_SPEC_FILE] = { "spec_file", "spec_files", true },
	[SM_TYPE_RULE_FILE] = { "rule_file", "rule_files", true },
	[SM_TYPE_CONTEXT_FILE] = { "context_file", "context_files", true },
	[SM_TYPE_PROGRESS_TEMPLATE] = { "progress_template", "progress_templates", true },
};

const char *sm_artifact_type_name(enum sm_artifact_type type)
{
	if ((int)type < 0 || type >= SM_TYPE__COUNT)
		return "invalid";
	return types[type].name;
}

const char *sm_artifact_type_article(enum sm_artifact_type type)
{
	const char *n = sm_artifact_type_name(type);

	return strchr("aeiou", n[0]) || type == SM_TYPE_MCP ? "an" : "a";
}

const char *sm_artifact_type_dir(enum sm_artifact_type type)
{
	if ((int)type < 0 || type >= SM_TYPE__COUNT)
		return NULL;
	return types[type].dir;
}

bool sm_artifact_type_is_file(enum sm_artifact_type type)
{
	if ((int)type < 0 || type >= SM_TYPE__COUNT)
		return false;
	return types[type].is_file;
}

enum sm_artifact_type sm_artifact_type_parse(const char *s)
{
	static const char *const mcp_aliases[] = { "mcp_server", "mcp-server", "mcpserver" };

	if (!s)
		return SM_TYPE_INVALID;
	for (int i = 0; i < SM_TYPE__COUNT; i++)
		if (!strcmp(s, types[i].name))
			return (enum sm_artifact_type)i;
	for (size_t i = 0; i < sizeof(mcp_aliases) / sizeof(mcp_aliases[0]); i++)
		if (!strcmp(s, mcp_aliases[i]))
			return SM_TYPE_MCP;
	if (!strcmp(s, "plugin"))
		return SM_TYPE_COMPOSITE;
	return SM_TYPE_INVALID;
}

/* Length of the UTF-8 sequence at s (max n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 control characters */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return len;
}

int sm_artifact_name_check(const char *name, struct strbuf *err)
{
	size_t n;

	if (!name || !*name)
		return sm_err(err, -EINVAL, "artifact name is empty");
	n = strlen(name);
	if (n > SM_NAME_MAX)
		return sm_err(err, -EINVAL, "artifact name is longer than %d bytes", SM_NAME_MAX);
	if (name[0] == '.')
		return sm_err(err, -EINVAL, "invalid artifact name '%s': must not start with '.'",
			      name);
	if (strstr(name, ".."))
		return sm_err(err, -EINVAL, "invalid artifact name '%s': must not contain '..'",
			      name);
	if (strstr(name, "::"))
		return sm_err(err, -EINVAL, "invalid artifact name '%s': must not contain '::'",
			      name);
	for (size_t i = 0; i < n;) {
		const unsigned char c = (unsigned char)name[i];
		size_t l;

		if (c == '/' || c == '\\')
			return sm_err(err, -EINVAL,
				      "invalid artifact name '%s': must not contain '/' or '\\'", name);
		if (c < 0x20 || c == 0x7f)
			return sm_err(err, -EINVAL,
				      "invalid artifact name: contains a control character");
		l = utf8_len((const unsigned char *)name + i, n - i);
		if (!l)
			return sm_err(err, -EINVAL,
				      "invalid artifact name: not valid UTF-8 or a control character");
		i += l;
	}
	return 0;
}
