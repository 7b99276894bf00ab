/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/home.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

static const char usage_config[] = "skillmeat config get KEY | set KEY VALUE | unset KEY | list";
static const char help_config[] =
	"usage: skillmeat config get KEY | set KEY VALUE | unset KEY | list\n"
	"\n"
	"Read and write config.toml by dot path (e.g. settings.default-collection).\n"
	"'set' stores the value as a string, as the original does. Values of keys\n"
	"containing 'token' are masked in the output.\n"
	"\n"
	"  --json   machine-readable output\n";

static bool secret_key(const char *key)
{
	return strstr(key, "token") != NULL;
}

/* Mask "abcd****wxyz" as the original. */
static void masked(struct strbuf *out, const char *v)
{
	size_t n = strlen(v);

	sm_strbuf_reset(out);
	if (n <= 8) {
		if (sm_strbuf_addstr(out, "****") < 0)
			sm_strbuf_reset(out);
		return;
	}
	if (sm_strbuf_add(out, v, 4) < 0 || sm_strbuf_addstr(out, "****") < 0 ||
	    sm_strbuf_add(out, v + n - 4, 4) < 0)
		sm_strbuf_reset(out);
}

static void value_text(const struct sm_toml_value *v, const char *key, struct strbuf *out)
{
	json_t *j;
	char *s;

	sm_strbuf_reset(out);
	if (v->type == SM_TOML_STRING) {
		if (secret_key(key))
			masked(out, sm_toml_str(v));
		else
			if (sm_strbuf_addstr(out, sm_toml_str(v)) < 0)
				sm_strbuf_reset(out);
		return;
	}
	j = cli_toml_to_json(v);
	s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |
				      JSON_REAL_PRECISION(15))
	      : NULL;
	if (s)
		if (sm_strbuf_addstr(out, s) < 0)
			sm_strbuf_reset(out);
	free(s);
	json_decref(j);
}

static void flatten(const struct sm_toml_value *tab, struct strbuf *prefix, json_t *obj)
{
	struct strbuf val = STRBUF_INIT;

	for (size_t i = 0; i < sm_toml_len(tab); i++) {
		const struct sm_toml_kv *kv = sm_toml_kv_at(tab, i);
		size_t keep = prefix->len;

		if ((prefix->len && sm_strbuf_addch(prefix, '.') < 0) ||
		    sm_strbuf_addstr(prefix, kv->key) < 0)
			break;
		if (kv->value->type == SM_TOML_TABLE) {
			flatten(kv->value, prefix, obj);
		} else {
			value_text(kv->value, prefix->buf, &val);
			if (!obj)
				printf("%s = %s\n", prefix->buf, val.buf);
			else if (kv->value->type == SM_TOML_STRING)
				json_object_set_new(obj, prefix->buf, json_string(val.buf));
			else
				json_object_set_new(obj, prefix->buf, cli_toml_to_json(kv->value));
		}
		sm_strbuf_setlen(prefix, keep);
	}
	sm_strbuf_release(&val);
}

int cmd_config(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct strbuf err = STRBUF_INIT, buf = STRBUF_INIT;
	struct sm_home *home;
	const struct sm_toml_value *v;
	const char *sub;
	int c, g, r = EXIT_OK;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, c, usage_config)) < 0)
			return EXIT_USAGE;
		if (!g && c == 'h')
			return cli_help(help_config);
	}
	if (optind >= argc)
		return cli_usage_error(cli, usage_config, "missing subcommand");
	sub = argv[optind++];
	if (!strcmp(sub, "list")) {
		if (optind != argc)
			return cli_usage_error(cli, usage_config, "'config list' takes no argument");
	} else if (!strcmp(sub, "get") || !strcmp(sub, "unset")) {
		if (optind + 1 != argc)
			return cli_usage_error(cli, usage_config, "'config %s' takes one KEY", sub);
	} else if (!strcmp(sub, "set")) {
		if (optind + 2 != argc)
			return cli_usage_error(cli, usage_config, "'config set' takes KEY VALUE");
	} else {
		return cli_usage_error(cli, usage_config, "unknown subcommand '%s'", sub);
	}
	home = cli_home(cli);
	if (!home)
		return EXIT_FAIL;
	if (!strcmp(sub, "list")) {
		json_t *obj = cli->json ? json_object() : NULL;

		flatten(home->config, &buf, obj);
		if (obj)
			cli_print_json(obj);
	} else if (!strcmp(sub, "get")) {
		const char *key = argv[optind];

		v = sm_config_lookup(home, key);
		if (!v) {
			r = cli_error(cli, "config key '%s' is not set", key);
		} else if (cli->json) {
			json_t *j = v->type == SM_TOML_STRING && secret_key(key)
					    ? (masked(&buf, sm_toml_str(v)), json_string(buf.buf))
					    : cli_toml_to_json(v);
			cli_print_json(json_pack("{s:s, s:o}", "key", key, "value", j));
		} else if (v->type == SM_TOML_TABLE) {
			struct strbuf pre = STRBUF_INIT;

			if (sm_strbuf_addstr(&pre, key) == 0)
				flatten(v, &pre, NULL);
			sm_strbuf_release(&pre);
		} else {
			value_text(v, key, &buf);
			printf("%s\n", buf.buf);
		}
	} else if (!strcmp(sub, "set")) {
		const char *key = argv[optind], *val = argv[optind + 1];

		if ((r = cli_config_set(cli, key, val, &err)) < 0) {
			r = cli_fail(cli, r, &err);
		} else if (cli->json) {
			cli_print_json(json_pack("{s:s, s:s}", "key", key, "value",
						 secret_key(key) ? (masked(&buf, val), buf.buf) : val));
		} else {
			cli_info(cli, "Set %s", key);
		}
	} else {
		const char *key = argv[optind];

		if ((r = cli_config_set(cli, key, NULL, &err)) < 0)
			r = cli_fail(cli, r, &err);
		else if (cli->json)
			cli_print_json(json_pack("{s:s, s:b}", "key", key, "removed", 1));
		else
			cli_info(cli, "Unset %s", key);
	}
	sm_strbuf_release(&err);
	sm_strbuf_release(&buf);
	return r;
}
