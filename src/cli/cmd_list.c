/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "skillmeat/collection.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

static const char usage_list[] =
	"skillmeat list [--type TYPE] [--tag TAG] [--search TEXT] [--collection NAME] [--json]";
static const char help_list[] =
	"usage: skillmeat list [options]\n"
	"\n"
	"List the artifacts of a collection (default: the active one), sorted by type\n"
	"then name, with their metadata read from their files now.\n"
	"\n"
	"  -t, --type TYPE         only this type (skill, command, agent, ...)\n"
	"  --tag TAG               only artifacts carrying TAG\n"
	"  -s, --search TEXT       only artifacts whose name, title, description or\n"
	"                          tags contain TEXT (case-insensitive)\n"
	"  -c, --collection NAME   the collection\n"
	"  --json                  an array of objects (see CLI.md)\n";

static const char usage_show[] = "skillmeat show ID [--collection NAME] [--json]";
static const char help_show[] =
	"usage: skillmeat show ID [options]\n"
	"\n"
	"Show one artifact. ID is type:name or a name that is unique in the collection.\n"
	"\n"
	"  -c, --collection NAME   the collection\n"
	"  --json                  the list object plus uuid, metadata, files, lock\n";

enum { OPT_TAG = 0x100 };

static const char *meta_str(const struct sm_view *v, const char *key)
{
	return sm_toml_get_string(v->meta.table, key);
}

static json_t *str_array(const struct sm_toml_value *arr)
{
	json_t *j = json_array();

	for (size_t i = 0; j && arr && arr->type == SM_TOML_ARRAY && i < arr->u.arr.len; i++)
		if (arr->u.arr.items[i]->type == SM_TOML_STRING)
			json_array_append_new(j, json_string(arr->u.arr.items[i]->u.str.ptr));
	return j;
}

/* The fixed `list --json` object (CLI.md). */
static json_t *view_json(const struct sm_collection *c, const struct sm_view *v)
{
	const struct sm_toml_value *e = v->entry;
	struct strbuf id = STRBUF_INIT;
	json_t *o;

	if (sm_strbuf_addf(&id, "%s:%s", sm_artifact_type_name(v->type), v->name) < 0)
		return NULL;
	o = json_object();
	if (o) {
		json_object_set_new(o, "id", json_string(id.buf));
		json_object_set_new(o, "name", json_string(v->name));
		json_object_set_new(o, "type", json_string(sm_artifact_type_name(v->type)));
		json_object_set_new(o, "collection", json_string(c->name));
		json_object_set_new(o, "path", cli_json_str(sm_entry_str(e, "path")));
		json_object_set_new(o, "origin", cli_json_str(sm_entry_str(e, "origin")));
		json_object_set_new(o, "title", cli_json_str(meta_str(v, "title")));
		json_object_set_new(o, "description", cli_json_str(meta_str(v, "description")));
		json_object_set_new(o, "author", cli_json_str(meta_str(v, "author")));
		json_object_set_new(o, "license", cli_json_str(meta_str(v, "license")));
		json_object_set_new(o, "version", cli_json_str(meta_str(v, "version")));
		json_object_set_new(o, "tags", str_array(v->tags));
		json_object_set_new(o, "tools", str_array(sm_toml_get(v->meta.table, "tools")));
		json_object_set_new(o, "content_hash", cli_json_str(v->have_hash ? v->hash : NULL));
		json_object_set_new(o, "locally_modified", json_boolean(v->locally_modified));
		json_object_set_new(o, "upstream", cli_json_str(sm_entry_str(e, "upstream")));
		json_object_set_new(o, "version_spec", cli_json_str(sm_entry_str(e, "version_spec")));
		json_object_set_new(o, "resolved_sha", cli_json_str(sm_entry_str(e, "resolved_sha")));
		json_object_set_new(o, "resolved_version",
				    cli_json_str(sm_entry_str(e, "resolved_version")));
		json_object_set_new(o, "added", cli_json_str(sm_entry_str(e, "added")));
	}
	sm_strbuf_release(&id);
	return o;
}

static bool contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle);
}

static bool view_matches(const struct sm_view *v, enum sm_artifact_type type, const char *tag,
			 const char *search)
{
	if (type != SM_TYPE_INVALID && v->type != type)
		return false;
	if (tag) {
		bool found = false;

		for (size_t i = 0; i < v->tags->u.arr.len && !found; i++)
			found = !strcmp(v->tags->u.arr.items[i]->u.str.ptr, tag);
		if (!found)
			return false;
	}
	if (search) {
		bool found = contains_ci(v->name, search) ||
			     contains_ci(meta_str(v, "title"), search) ||
			     contains_ci(meta_str(v, "description"), search);

		for (size_t i = 0; i < v->tags->u.arr.len && !found; i++)
			found = contains_ci(v->tags->u.arr.items[i]->u.str.ptr, search);
		if (!found)
			return false;
	}
	return true;
}

static int cmp_views(const void *a, const void *b)
{
	const struct sm_view *x = a, *y = b;
	int r = strcmp(sm_artifact_type_name(x->type), sm_artifact_type_name(y->type));

	return r ? r : strcmp(x->name, y->name);
}

static void print_table(struct cli *cli, const struct sm_view *v, size_t n)
{
	int width = cli_term_width(), wname = 4, wtags = 4, wdesc;
	struct strbuf tags = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(v[i].name);

		if (l > wname)
			wname = l;
	}
	if (wname > 40)
		wname = 40;
	wtags = 20;
	printf("%sArtifacts (%zu)%s\n", cli_c(cli, C_BOLD), n, cli_c(cli, C_RESET));
	if (!n)
		return;
	wdesc = width - wname - 9 - 7 - 8 - wtags - 5 * 2;
	if (wdesc < 10)
		wdesc = 10;
	printf("%s", cli_c(cli, C_BOLD));
	cli_print_cut(stdout, "NAME", wname, true);
	printf("  %-9s  %-7s  %-8s  ", "TYPE", "ORIGIN", "VERSION");
	cli_print_cut(stdout, "TAGS", wtags, true);
	printf("  DESCRIPTION%s\n", cli_c(cli, C_RESET));
	for (size_t i = 0; i < n; i++) {
		const char *ver = meta_str(&v[i], "version");

		sm_strbuf_reset(&tags);
		for (size_t k = 0; k < v[i].tags->u.arr.len; k++)
			if (sm_strbuf_addf(&tags, "%s%s", k ? "," : "",
					   v[i].tags->u.arr.items[k]->u.str.ptr) < 0)
				break;
		printf("%s", cli_c(cli, C_CYAN));
		cli_print_cut(stdout, v[i].name, wname, true);
		printf("%s  %-9s  %-7s  ", cli_c(cli, C_RESET), sm_artifact_type_name(v[i].type),
		       sm_entry_str(v[i].entry, "origin"));
		cli_print_cut(stdout, ver ? ver : "-", 8, true);
		printf("  ");
		cli_print_cut(stdout, tags.len ? tags.buf : "-", wtags, true);
		printf("  ");
		if (v[i].error)
			printf("%s(%s)%s", cli_c(cli, C_YELLOW), v[i].error, cli_c(cli, C_RESET));
		else
			cli_print_cut(stdout, meta_str(&v[i], "description"), wdesc, false);
		putchar('\n');
	}
	sm_strbuf_release(&tags);
}

static int open_for_read(struct cli *cli, const char *name, struct sm_collection **ret)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_home *home = cli_home(cli);
	int r;

	if (!home)
		return -ENOENT;
	r = sm_collection_open(home, name, ret, &err);
	if (r < 0)
		cli_error(cli, "%s", err.buf);
	sm_strbuf_release(&err);
	return r;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "search", required_argument, NULL, 's' },
		{ "collection", required_argument, NULL, 'c' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	enum sm_artifact_type type = SM_TYPE_INVALID;
	const char *tag = NULL, *search = NULL, *coll = NULL;
	struct strbuf err = STRBUF_INIT;
	struct sm_collection *c = NULL;
	struct sm_view *views = NULL;
	size_t n = 0;
	int ch, g, rc = EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "t:s:c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_list)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			return cli_help(help_list);
		case 't':
			type = sm_artifact_type_parse(optarg);
			if (type == SM_TYPE_INVALID)
				return cli_usage_error(cli, usage_list, "unknown artifact type '%s'",
						       optarg);
			break;
		case OPT_TAG:
			tag = optarg;
			break;
		case 's':
			search = optarg;
			break;
		case 'c':
			coll = optarg;
			break;
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, usage_list, "unexpected argument '%s'", argv[optind]);
	if (open_for_read(cli, coll, &c) < 0)
		return EXIT_FAIL;
	views = sm_calloc(sm_manifest_count(c->manifest) + 1, sizeof(*views));
	if (!views) {
		cli_error(cli, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sm_manifest_count(c->manifest); i++) {
		if (sm_view_load(c, i, &views[n], &err) < 0) {
			cli_error(cli, "%s", err.buf);
			goto out;
		}
		if (view_matches(&views[n], type, tag, search))
			n++;
		else
			sm_view_release(&views[n]);
	}
	qsort(views, n, sizeof(*views), cmp_views);
	if (cli->json) {
		json_t *arr = json_array();

		for (size_t i = 0; arr && i < n; i++)
			json_array_append_new(arr, view_json(c, &views[i]));
		if (cli_print_json(arr) < 0) {
			cli_error(cli, "cannot write the output");
			goto out;
		}
	} else {
		print_table(cli, views, n);
	}
	rc = EXIT_OK;
out:
	for (size_t i = 0; views && i < n; i++)
		sm_view_release(&views[i]);
	sm_free(views);
	sm_collection_free(c);
	sm_strbuf_release(&err);
	return rc;
}

static json_t *files_json(const struct sm_view *v)
{
	struct sm_fs_list list = { 0 };
	json_t *arr = json_array();

	if (arr && sm_fs_walk(v->abs_path, &list, NULL) == 0)
		for (size_t i = 0; i < list.len; i++)
			json_array_append_new(arr, json_string(list.items[i].rel));
	sm_fs_list_release(&list);
	return arr;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collection", required_argument, NULL, 'c' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct strbuf err = STRBUF_INIT;
	struct sm_collection *c = NULL;
	struct sm_view v = { 0 };
	const char *coll = NULL, *id;
	const struct sm_toml_value *lock;
	long idx;
	int ch, g, rc = EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_show)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		if (ch == 'h')
			return cli_help(help_show);
		if (ch == 'c')
			coll = optarg;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, usage_show, argc - optind ? "give one ID" : "missing ID");
	id = argv[optind];
	if (open_for_read(cli, coll, &c) < 0)
		return EXIT_FAIL;
	idx = sm_collection_resolve(c, id, &err);
	if (idx < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	if (sm_view_load(c, (size_t)idx, &v, &err) < 0) {
		cli_error(cli, "%s", err.buf);
		goto out;
	}
	lock = sm_lock_get(c->lock, v.name, v.type);
	if (cli->json) {
		json_t *o = view_json(c, &v), *meta = sm_toml_get(v.entry, "metadata")
								   ? cli_toml_to_json(sm_toml_get(v.entry, "metadata"))
								   : json_object();

		json_object_set_new(o, "uuid", cli_json_str(sm_entry_str(v.entry, "uuid")));
		json_object_set_new(o, "metadata", meta);
		json_object_set_new(o, "files", files_json(&v));
		json_object_set_new(o, "lock",
				    lock ? json_pack("{s:o, s:o}", "content_hash",
						     cli_json_str(sm_toml_get_string(lock, "content_hash")),
						     "fetched",
						     cli_json_str(sm_toml_get_string(lock, "fetched")))
					 : json_null());
		cli_print_json(o);
	} else {
		const char *s;

		printf("%s%s%s (%s)\n", cli_c(cli, C_BOLD), v.name, cli_c(cli, C_RESET),
		       sm_artifact_type_name(v.type));
		if ((s = meta_str(&v, "title")))
			printf("Title:       %s\n", s);
		if ((s = meta_str(&v, "description")))
			printf("Description: %s\n", s);
		printf("Collection:  %s\n", c->name);
		printf("Path:        %s\n", sm_entry_str(v.entry, "path"));
		printf("Origin:      %s\n", sm_entry_str(v.entry, "origin"));
		if ((s = sm_entry_str(v.entry, "upstream")))
			printf("Upstream:    %s\n", s);
		if ((s = sm_entry_str(v.entry, "resolved_version")) ||
		    (s = sm_entry_str(v.entry, "version_spec")))
			printf("Version:     %s\n", s);
		if ((s = meta_str(&v, "version")))
			printf("File version: %s\n", s);
		if ((s = meta_str(&v, "author")))
			printf("Author:      %s\n", s);
		if ((s = meta_str(&v, "license")))
			printf("License:     %s\n", s);
		if (v.tags->u.arr.len) {
			printf("Tags:        ");
			for (size_t i = 0; i < v.tags->u.arr.len; i++)
				printf("%s%s", i ? ", " : "", v.tags->u.arr.items[i]->u.str.ptr);
			putchar('\n');
		}
		printf("Added:       %s\n", sm_entry_str(v.entry, "added"));
		if (v.have_hash)
			printf("Hash:        %s%s\n", v.hash,
			       v.locally_modified ? " (locally modified)" : "");
		if (v.error)
			printf("%sFiles:       %s%s\n", cli_c(cli, C_YELLOW), v.error,
			       cli_c(cli, C_RESET));
	}
	rc = EXIT_OK;
out:
	sm_view_release(&v);
	sm_collection_free(c);
	sm_strbuf_release(&err);
	return rc;
}
