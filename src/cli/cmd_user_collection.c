/* SPDX-License-Identifier: MIT */
/* skillmeat user-collection (uc): user collections (user-collections.toml + cache). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/cache.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/ops.h"
#include "skillmeat/row_json.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/user_collections.h"
#include "util/banned.h"

static const char usage_uc[] =
    "skillmeat user-collection create NAME [--description D] [--type T] [--category C]\n"
    "       | list | show ID|NAME | rename ID|NAME NEW | delete ID|NAME [--force]\n"
    "       | add ID|NAME ARTIFACT_ID... | remove ID|NAME ARTIFACT_ID...";

static const char help_uc[] =
    "usage: skillmeat user-collection SUBCOMMAND ... (alias: uc)\n"
    "\n"
    "User collections: named sets of artifacts across file collections, kept in\n"
    "SKILLMEAT_HOME/user-collections.toml and indexed in the metadata cache. The\n"
    "'default' collection (\"Default Collection\") holds every artifact and cannot\n"
    "be renamed, deleted or edited.\n"
    "\n"
    "  create NAME      create one (--description D, --type T, --category C)\n"
    "  list             every user collection: name, id, type, artifact count\n"
    "  show ID|NAME     its fields and members\n"
    "  rename ID|NAME NEW\n"
    "  delete ID|NAME   asks on a terminal unless --force\n"
    "  add ID|NAME ARTIFACT_ID...     ARTIFACT_ID: type:name, collection/type:name\n"
    "                                 or a unique name; unknown ones fail the whole add\n"
    "  remove ID|NAME ARTIFACT_ID...\n"
    "  --json           machine-readable output\n"
    "\n"
    "Run 'skillmeat user-collection SUBCOMMAND --help' for one subcommand.\n";

struct sub_help {
	const char *name;
	const char *text;
};

static const struct sub_help sub_helps[] = {
    {"create", "usage: skillmeat user-collection create NAME [--description D] [--type T]\n"
	       "       [--category C]\n"
	       "\n"
	       "Create a user collection with a new random id. NAME: 1-255 bytes of UTF-8, no\n"
	       "control characters, unique (case-sensitive), not \"Default Collection\".\n"
	       "--json prints the collection object (see 'list').\n"},
    {"list", "usage: skillmeat user-collection list\n"
	     "\n"
	     "Every user collection, the default one included, sorted by name: name, id,\n"
	     "type and artifact count. --json prints an array of objects {id, name,\n"
	     "description, collection_type, context_category, created_at, updated_at,\n"
	     "artifact_count}.\n"},
    {"show", "usage: skillmeat user-collection show ID|NAME\n"
	     "\n"
	     "The fields of one user collection and its members (artifact ids). Members\n"
	     "named in the file that match no artifact are listed as missing. --json: the\n"
	     "collection object plus members (array of ids) and missing (array).\n"},
    {"rename", "usage: skillmeat user-collection rename ID|NAME NEW\n"
	       "\n"
	       "Rename a user collection. --json prints the collection object.\n"},
    {"delete", "usage: skillmeat user-collection delete ID|NAME [--force]\n"
	       "\n"
	       "Delete a user collection (its artifacts stay). Asks on a terminal unless\n"
	       "--force. --json prints {deleted, name}.\n"},
    {"add", "usage: skillmeat user-collection add ID|NAME ARTIFACT_ID...\n"
	    "\n"
	    "Add artifacts: type:name, collection/type:name, or a unique name. If any\n"
	    "is unknown or ambiguous nothing is written. --json prints {collection_id,\n"
	    "added_count, already_present_count, total_artifacts}.\n"},
    {"remove", "usage: skillmeat user-collection remove ID|NAME ARTIFACT_ID...\n"
	       "\n"
	       "Remove members. If any is not a member nothing is written. --json prints\n"
	       "{collection_id, removed_count, total_artifacts}.\n"},
};

enum {
	OPT_DESC = 'd',
	OPT_TYPE = 't',
	OPT_CAT = 'c',
	OPT_FORCE = 'f',
};

struct uc_args {
	const char *sub;
	char **pos; /* positional arguments after the subcommand */
	int npos;
	const char *description;
	const char *type;
	const char *category;
	bool force;
};

/* ---- helpers ---- */

static int fail_default(struct cli *cli, const char *verb)
{
	return cli_error(
	    cli, "the default collection cannot be %s: it holds every artifact of the home", verb);
}

static int64_t count_of(struct cli *cli, const char *id)
{
	int64_t n = -1;

	if (!cli->cache || sm_store_count_members(cli->cache->store, &id, 1, &n, NULL) < 0)
		return -1;
	return n;
}

static json_t *count_json(int64_t n)
{
	return n >= 0 ? json_integer(n) : json_null();
}

/* An operation's entry as a row (borrowed strings). */
static void result_row(const struct sm_ops_uc_result *uc, struct sm_user_collection_row *row)
{
	memset(row, 0, sizeof(*row));
	row->id = uc->id;
	row->name = uc->name;
	row->description = uc->description;
	row->collection_type = uc->collection_type;
	row->context_category = uc->context_category;
	row->created_at = uc->created_at;
	row->updated_at = uc->updated_at;
}

static int print_entry(struct cli *cli, const struct sm_ops_uc_result *uc, const char *verb)
{
	struct sm_user_collection_row row;

	if (cli->json) {
		result_row(uc, &row);
		cli_print_json(sm_user_collection_row_json(&row, count_of(cli, uc->id), false));
	} else {
		cli_info(cli, "%s user collection '%s' (id %s)", verb, uc->name, uc->id);
	}
	return EXIT_OK;
}

/* ---- writes (src/ops does each; this prints) ---- */

static bool confirm_delete(void *ud, const char *name)
{
	return cli_confirm(ud, "Delete user collection '%s'? (its artifacts stay)", name);
}

static int print_write(struct cli *cli, const struct uc_args *a, const struct sm_ops_uc_result *res)
{
	const char *sub = a->sub;

	if (!strcmp(sub, "create"))
		return print_entry(cli, res, "Created");
	if (!strcmp(sub, "rename")) {
		if (cli->json)
			return print_entry(cli, res, "Renamed");
		cli_info(cli, "Renamed user collection '%s' to '%s'", res->old_name, res->name);
	} else if (!strcmp(sub, "delete")) {
		if (res->cancelled)
			cli_info(cli, "Cancelled");
		else if (cli->json)
			cli_print_json(json_pack("{s:s, s:s}", "deleted", res->id, "name", res->name));
		else
			cli_info(cli, "Deleted user collection '%s'", res->name);
	} else if (!strcmp(sub, "add")) {
		if (cli->json)
			cli_print_json(json_pack("{s:s, s:I, s:I, s:o}", "collection_id", res->id,
						 "added_count", (json_int_t)res->changed,
						 "already_present_count", (json_int_t)res->present,
						 "total_artifacts", count_json(count_of(cli, res->id))));
		else
			cli_info(cli, "Added %zu artifact(s) to '%s' (%zu already present)",
				 res->changed, res->name, res->present);
	} else {
		if (cli->json)
			cli_print_json(json_pack("{s:s, s:I, s:o}", "collection_id", res->id,
						 "removed_count", (json_int_t)res->changed,
						 "total_artifacts", count_json(count_of(cli, res->id))));
		else
			cli_info(cli, "Removed %zu artifact(s) from '%s'", res->changed, res->name);
	}
	return EXIT_OK;
}

static int run_write(struct cli *cli, const struct uc_args *a)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_ops_uc_result res = { 0 };
	struct sm_ops_uc_ref ref = { .ref = a->pos[0] };
	struct sm_ops_ctx ctx;
	const char *const *ids = (const char *const *)a->pos + 1;
	size_t nids = a->npos > 1 ? (size_t)a->npos - 1 : 0;
	int r, rc = EXIT_FAIL;

	if (!cli_home(cli))
		return EXIT_FAIL;
	cli_ops_init(cli, &ctx, cli->cache);
	if (!strcmp(a->sub, "create")) {
		struct sm_user_collection_fields fl = {
		    .name = a->pos[0],
		    .description = a->description,
		    .collection_type = a->type,
		    .context_category = a->category,
		};

		r = sm_ops_uc_create(&ctx, &fl, &res, &err);
	} else if (!strcmp(a->sub, "rename")) {
		struct sm_user_collection_fields fl = { .name = a->pos[1] };

		r = sm_ops_uc_update(&ctx, &ref, &fl, &res, &err);
	} else if (!strcmp(a->sub, "delete")) {
		bool ask = !a->force && cli->tty_in && !cli->json;

		r = sm_ops_uc_delete(&ctx, &ref, ask ? confirm_delete : NULL, cli, &res, &err);
	} else if (!strcmp(a->sub, "add")) {
		r = sm_ops_uc_add_members(&ctx, &ref, ids, nids, SM_OPS_UNKNOWN_FAILS, &res, &err);
	} else {
		r = sm_ops_uc_remove_members(&ctx, &ref, ids, nids, true, &res, &err);
	}
	cli_ops_release(cli, &ctx);
	if (r < 0)
		cli_fail(cli, r, &err);
	else
		rc = print_write(cli, a, &res);
	sm_ops_uc_result_release(&res);
	sm_strbuf_release(&err);
	return rc;
}

/* ---- reads ---- */

static int cmp_rows(const void *x, const void *y)
{
	const struct sm_user_collection_row *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->id, b->id);
}

static int all_rows(struct cli *cli, struct sm_user_collection_row **ret, size_t *ret_n)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_user_collection_query q = {.limit = SM_STORE_MAX_LIMIT, .no_total = true};
	struct sm_user_collection_page page = {0};
	struct sm_user_collection_row *rows = NULL, *nv;
	char *after = NULL;
	size_t n = 0;
	int r;

	for (;;) {
		q.after_id = after;
		r = sm_store_list_user_collections(cli->cache->store, &q, &page, &err);
		if (r < 0)
			break;
		nv = sm_reallocarray(rows, n + page.n + 1, sizeof(*rows));
		if (!nv) {
			r = sm_err(&err, -ENOMEM, "out of memory");
			sm_user_collection_page_release(&page);
			break;
		}
		rows = nv;
		for (size_t i = 0; i < page.n; i++) {
			rows[n++] = page.rows[i];
			memset(&page.rows[i], 0, sizeof(page.rows[i]));
		}
		sm_free(after);
		after = page.has_next && page.n ? sm_strdup(rows[n - 1].id) : NULL;
		sm_user_collection_page_release(&page);
		if (!after)
			break;
	}
	sm_free(after);
	if (r < 0) {
		cli_fail(cli, r, &err);
		for (size_t i = 0; i < n; i++)
			sm_user_collection_row_release(&rows[i]);
		sm_free(rows);
		sm_strbuf_release(&err);
		return r;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	*ret = rows;
	*ret_n = n;
	sm_strbuf_release(&err);
	return 0;
}

static int uc_list(struct cli *cli)
{
	struct sm_user_collection_row *rows = NULL;
	const char **ids = NULL;
	int64_t *counts = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	int rc = EXIT_FAIL;

	if (all_rows(cli, &rows, &n) < 0)
		return EXIT_FAIL;
	ids = sm_calloc(n + 1, sizeof(*ids));
	counts = sm_calloc(n + 1, sizeof(*counts));
	if (!ids || !counts) {
		cli_error(cli, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = rows[i].id;
	if (n && sm_store_count_members(cli->cache->store, ids, n, counts, NULL) < 0) {
		cli_error(cli, "cannot count the members");
		goto out;
	}
	if (cli->json) {
		arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, sm_user_collection_row_json(&rows[i], counts[i], false));
		cli_print_json(arr);
	} else {
		printf("%s%-32s %-32s %-12s %s%s\n", cli_c(cli, C_BOLD), "NAME", "ID", "TYPE",
		       "ARTIFACTS", cli_c(cli, C_RESET));
		for (size_t i = 0; i < n; i++) {
			cli_print_cut(stdout, rows[i].name, 32, true);
			printf(" %-32s ", rows[i].id);
			cli_print_cut(stdout,
				      rows[i].collection_type ? rows[i].collection_type : "-", 12,
				      true);
			printf(" %lld\n", (long long)counts[i]);
		}
	}
	rc = EXIT_OK;
out:
	for (size_t i = 0; i < n; i++)
		sm_user_collection_row_release(&rows[i]);
	sm_free(rows);
	sm_free(ids);
	sm_free(counts);
	return rc;
}

/* The member ids of a collection from the cache, in (type, name, collection) order. */
static int member_keys(struct cli *cli, const char *id, json_t *out)
{
	struct strbuf err = STRBUF_INIT, key = STRBUF_INIT;
	struct sm_artifact_query q = {
	    .user_collection_id = id,
	    .limit = SM_STORE_MAX_LIMIT,
	    .no_total = true,
	};
	struct sm_artifact_page page = {0};
	char *at = NULL, *an = NULL, *ac = NULL;
	int r;

	for (;;) {
		r = sm_store_list_artifacts(cli->cache->store, &q, &page, &err);
		if (r < 0)
			break;
		for (size_t i = 0; i < page.n && r >= 0; i++) {
			sm_strbuf_reset(&key);
			r = sm_cache_artifact_key(cli->cache, &page.rows[i], &key, &err);
			if (r == 0)
				json_array_append_new(out, json_string(key.buf));
		}
		sm_free(at);
		sm_free(an);
		sm_free(ac);
		at = an = ac = NULL;
		if (r < 0 || !page.has_next || !page.n) {
			sm_artifact_page_release(&page);
			break;
		}
		at = sm_strdup(page.rows[page.n - 1].type);
		an = sm_strdup(page.rows[page.n - 1].name);
		ac = sm_strdup(page.rows[page.n - 1].collection);
		sm_artifact_page_release(&page);
		if (!at || !an || !ac) {
			r = sm_err(&err, -ENOMEM, "out of memory");
			break;
		}
		q.after_type = at;
		q.after_name = an;
		q.after_collection = ac;
	}
	sm_free(at);
	sm_free(an);
	sm_free(ac);
	if (r < 0)
		cli_fail(cli, r, &err);
	sm_strbuf_release(&err);
	sm_strbuf_release(&key);
	return r < 0 ? r : 0;
}

static int uc_show(struct cli *cli, const struct sm_user_collections *f, const char *arg)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_user_collection_row row = {0};
	const struct sm_user_collection *uc = NULL;
	const char *id = SM_UC_DEFAULT_ID;
	json_t *o = NULL, *members = json_array(), *missing = json_array();
	int rc = EXIT_FAIL;
	int r;

	if (!members || !missing) {
		cli_error(cli, "out of memory");
		goto out;
	}
	if (!sm_user_collections_is_default(arg)) {
		long idx = sm_user_collections_find(f, arg, &err);

		if (idx < 0) {
			cli_fail(cli, (int)idx, &err);
			goto out;
		}
		uc = &f->items[idx];
		id = uc->id;
	}
	if ((r = sm_store_get_user_collection(cli->cache->store, id, &row, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	if (member_keys(cli, id, members) < 0)
		goto out;
	/* members of the file that the cache could not index */
	for (size_t i = 0; uc && i < uc->nmembers; i++) {
		struct sm_artifact_row a;

		if (sm_cache_resolve_artifact(cli->cache, uc->members[i], true, &a, NULL) == 0)
			sm_artifact_row_release(&a);
		else
			json_array_append_new(missing, json_string(uc->members[i]));
	}
	if (cli->json) {
		o = sm_user_collection_row_json(&row, (int64_t)json_array_size(members), false);
		json_object_set(o, "members", members);
		json_object_set(o, "missing", missing);
		cli_print_json(o);
	} else {
		size_t i;
		json_t *v;

		printf("%sName:%s        %s\n", cli_c(cli, C_BOLD), cli_c(cli, C_RESET), row.name);
		printf("ID:          %s\n", row.id);
		printf("Type:        %s\n", row.collection_type ? row.collection_type : "-");
		printf("Category:    %s\n", row.context_category ? row.context_category : "-");
		printf("Description: %s\n", row.description ? row.description : "-");
		printf("Created:     %s\n", row.created_at);
		printf("Updated:     %s\n", row.updated_at);
		printf("Members (%zu):\n", json_array_size(members));
		json_array_foreach(members, i, v) printf("  %s\n", json_string_value(v));
		if (json_array_size(missing)) {
			printf("Missing (%zu, no such artifact):\n", json_array_size(missing));
			json_array_foreach(missing, i, v) printf("  %s\n", json_string_value(v));
		}
	}
	rc = EXIT_OK;
out:
	json_decref(members);
	json_decref(missing);
	sm_user_collection_row_release(&row);
	sm_strbuf_release(&err);
	return rc;
}

/* Load the file; prints the error. */
static struct sm_user_collections *load_file(struct cli *cli, struct sm_home *home)
{
	struct strbuf err = STRBUF_INIT;
	struct sm_user_collections *f = NULL;
	int r;

	if ((r = sm_user_collections_load(home->root, &f, &err)) < 0)
		cli_fail(cli, r, &err);
	sm_strbuf_release(&err);
	return f;
}

/* The cache brought up to date before ids are resolved; prints errors. */
static struct sm_cache *read_cache(struct cli *cli)
{
	if (!cli_cache(cli) || cli_warm_sync(cli, NULL) < 0)
		return NULL;
	return cli->cache;
}

static int run_read(struct cli *cli, const struct uc_args *a)
{
	struct sm_home *home = cli_home(cli);
	struct sm_user_collections *f = NULL;
	int rc = EXIT_FAIL;

	if (!home)
		return EXIT_FAIL;
	/* a malformed file is an error here (elsewhere a sync warning) */
	f = load_file(cli, home);
	if (!f || !read_cache(cli))
		goto out;
	if (!strcmp(a->sub, "list"))
		rc = uc_list(cli);
	else
		rc = uc_show(cli, f, a->pos[0]);
out:
	sm_user_collections_free(f);
	return rc;
}

/* ---- entry ---- */

static int sub_help(const char *sub)
{
	for (size_t i = 0; sub && i < SM_ARRAY_SIZE(sub_helps); i++)
		if (!strcmp(sub, sub_helps[i].name))
			return cli_help(sub_helps[i].text);
	return cli_help(help_uc);
}

/* Arity and option checks per subcommand. */
static int check_args(struct cli *cli, const struct uc_args *a)
{
	static const struct {
		const char *name;
		int min, max; /* positional arguments; max -1 = any */
		bool opts;    /* --description/--type/--category */
		bool force;
		const char *shape;
	} subs[] = {
	    {"create", 1, 1, true, false, "create NAME"},
	    {"list", 0, 0, false, false, "list"},
	    {"show", 1, 1, false, false, "show ID|NAME"},
	    {"rename", 2, 2, false, false, "rename ID|NAME NEW"},
	    {"delete", 1, 1, false, true, "delete ID|NAME"},
	    {"add", 2, -1, false, false, "add ID|NAME ARTIFACT_ID..."},
	    {"remove", 2, -1, false, false, "remove ID|NAME ARTIFACT_ID..."},
	};

	for (size_t i = 0; i < SM_ARRAY_SIZE(subs); i++) {
		if (strcmp(a->sub, subs[i].name))
			continue;
		if (a->npos < subs[i].min || (subs[i].max >= 0 && a->npos > subs[i].max))
			return cli_usage_error(cli, usage_uc, "usage: '%s'", subs[i].shape);
		if (!subs[i].opts && (a->description || a->type || a->category))
			return cli_usage_error(cli, usage_uc,
					       "--description, --type and --category go with "
					       "'create' only");
		if (!subs[i].force && a->force)
			return cli_usage_error(cli, usage_uc, "--force goes with 'delete' only");
		return 0;
	}
	return cli_usage_error(cli, usage_uc, "unknown subcommand '%s'", a->sub);
}

int cmd_user_collection(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"description", required_argument, NULL, OPT_DESC},
	    {"type", required_argument, NULL, OPT_TYPE},
	    {"category", required_argument, NULL, OPT_CAT},
	    {"force", no_argument, NULL, OPT_FORCE},
	    CLI_GLOBAL_OPTIONS,
	    {0},
	};
	struct uc_args a = {0};
	bool help = false;
	int ch, g;

	while ((ch = getopt_long(argc, argv, ":d:t:c:fh", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage_uc)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			help = true;
			break;
		case OPT_DESC:
			a.description = optarg;
			break;
		case OPT_TYPE:
			a.type = optarg;
			break;
		case OPT_CAT:
			a.category = optarg;
			break;
		case OPT_FORCE:
			a.force = true;
			break;
		default:
			return cli_usage_error(cli, usage_uc, "unknown option");
		}
	}
	if (help)
		return sub_help(optind < argc ? argv[optind] : NULL);
	if (optind >= argc)
		return cli_usage_error(cli, usage_uc, "missing subcommand");
	a.sub = argv[optind++];
	a.pos = argv + optind;
	a.npos = argc - optind;
	if (check_args(cli, &a) != 0)
		return EXIT_USAGE;
	if (strcmp(a.sub, "list") && strcmp(a.sub, "create") &&
	    sm_user_collections_is_default(a.pos[0])) {
		if (!strcmp(a.sub, "rename"))
			return fail_default(cli, "renamed");
		if (!strcmp(a.sub, "delete"))
			return fail_default(cli, "deleted");
		if (strcmp(a.sub, "show"))
			return fail_default(cli, "edited by hand");
	}
	if (!strcmp(a.sub, "list") || !strcmp(a.sub, "show"))
		return run_read(cli, &a);
	return run_write(cli, &a);
}
