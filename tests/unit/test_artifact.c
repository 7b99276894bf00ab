/* SPDX-License-Identifier: MIT */
/*
 * Artifact types and name rules (src/core/artifact.c, spec §1.4 plus ours):
 * every type round-trips through its name, the aliases parse, and every rule
 * of sm_artifact_name_check refuses what it names (with a message) and lets
 * the names SkillMeat users have through; collection names follow the same
 * rules.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "skillmeat/artifact.h"
#include "skillmeat/home.h"
#include "skillmeat/strbuf.h"

static void test_types(void **state)
{
	(void)state;
	for (int i = 0; i < SM_TYPE__COUNT; i++) {
		enum sm_artifact_type t = (enum sm_artifact_type)i;
		const char *dir = sm_artifact_type_dir(t);

		assert_int_equal(sm_artifact_type_parse(sm_artifact_type_name(t)), t);
		assert_non_null(dir);
		/* the folder is the plural of the name */
		assert_int_equal(strncmp(dir, sm_artifact_type_name(t),
					 strlen(sm_artifact_type_name(t))),
				 0);
		assert_int_equal(dir[strlen(dir) - 1], 's');
	}
	assert_int_equal(sm_artifact_type_parse("mcp_server"), SM_TYPE_MCP);
	assert_int_equal(sm_artifact_type_parse("mcp-server"), SM_TYPE_MCP);
	assert_int_equal(sm_artifact_type_parse("mcpserver"), SM_TYPE_MCP);
	assert_int_equal(sm_artifact_type_parse("plugin"), SM_TYPE_COMPOSITE);
	/* case-sensitive like the original; unknown and NULL are invalid */
	assert_int_equal(sm_artifact_type_parse("Skill"), SM_TYPE_INVALID);
	assert_int_equal(sm_artifact_type_parse("skills"), SM_TYPE_INVALID);
	assert_int_equal(sm_artifact_type_parse(""), SM_TYPE_INVALID);
	assert_int_equal(sm_artifact_type_parse(NULL), SM_TYPE_INVALID);
	assert_string_equal(sm_artifact_type_name(SM_TYPE_INVALID), "invalid");
	assert_null(sm_artifact_type_dir(SM_TYPE_INVALID));
	assert_null(sm_artifact_type_dir(SM_TYPE__COUNT));
	/* one file: command and agent; folders: skill, hook, mcp, ... */
	assert_true(sm_artifact_type_is_file(SM_TYPE_COMMAND));
	assert_true(sm_artifact_type_is_file(SM_TYPE_AGENT));
	assert_false(sm_artifact_type_is_file(SM_TYPE_SKILL));
	assert_false(sm_artifact_type_is_file(SM_TYPE_MCP));
	assert_false(sm_artifact_type_is_file(SM_TYPE_INVALID));
}

/* name is refused with -EINVAL and a message holding want (NULL: any). */
static void refused(const char *name, const char *want)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(sm_artifact_name_check(name, &err), -EINVAL);
	assert_true(err.len > 0);
	assert_null(strchr(err.buf, '\n'));
	if (want && !strstr(err.buf, want))
		fail_msg("'%s': message '%s' lacks '%s'", name ? name : "(null)", err.buf, want);
	sm_strbuf_release(&err);
	/* collection names follow the same rules */
	assert_int_equal(sm_collection_name_check(name, NULL), -EINVAL);
}

static void accepted(const char *name)
{
	struct strbuf err = STRBUF_INIT;

	if (sm_artifact_name_check(name, &err) != 0)
		fail_msg("'%s' refused: %s", name, err.buf);
	assert_int_equal(err.len, 0);
	sm_strbuf_release(&err);
	assert_int_equal(sm_collection_name_check(name, NULL), 0);
}

static void test_name_rules(void **state)
{
	char longest[SM_NAME_MAX + 2];

	(void)state;
	refused(NULL, "empty");
	refused("", "empty");
	refused(".hidden", "start with '.'");
	refused(".", "start with '.'");
	refused("..", NULL);
	refused("a..b", "'..'");
	refused("a/b", "'/'");
	refused("/abs", "'/'");
	refused("a\\b", "'/' or '\\'");
	refused("a::b", "'::'");
	refused("tab\there", "control character");
	refused("nl\nhere", "control character");
	refused("del\x7f", "control character");
	refused("c1\xc2\x85", NULL);	      /* U+0085, a C1 control */
	refused("bad\xff", "UTF-8");	      /* not UTF-8 */
	refused("over\xc0\xaf", "UTF-8");     /* overlong '/' */
	refused("surr\xed\xa0\x80", "UTF-8"); /* a surrogate */
	refused("cut\xe2\x82", "UTF-8");      /* truncated sequence */
	memset(longest, 'a', SM_NAME_MAX + 1);
	longest[SM_NAME_MAX + 1] = '\0';
	refused(longest, "longer than");
	longest[SM_NAME_MAX] = '\0';
	accepted(longest);

	accepted("pdf");
	accepted("canvas-design");
	accepted("my_skill.v2");
	accepted("a.b");
	accepted("trailing.");
	accepted("name with spaces");
	accepted("a:b");
	accepted("\xc3\xa9t\xc3\xa9");		  /* été */
	accepted("\xe6\x97\xa5\xe6\x9c\xac"); /* 日本 */
	accepted("\xf0\x9f\x93\x84-docs");	  /* an emoji */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_name_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
