/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "skillmeat/cache.h"
#include "skillmeat/collection.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

static const char usage_list[] =
	"skillmeat list [--type TYPE] [--tag TAG] [--search TEXT] [--collection NAME] [--json]";
static const char help_list[] =
	"usage: skillmeat list [options]\n"
	"\n"
	"List the artifacts of a collection (default: the active one), sorted by type\n"
	"then name. Reads the metadata cache after a warm sync (a stat of each\n"
	"artifact's files), so a hand edit shows at once.\n"
	"\n"
	"  -t, --type TYPE         only this type (skill, command, agent, ...); repeatable\n"
	"  --tag TAG               only artifacts carrying TAG; repeatable (any of them)\n"
	"  -s, --search TEXT       full-text: every word a prefix of a word of the name,\n"
	"                          title, description or tags\n"
	"  -c, --collection NAME   the collection\n"
	"  --json                  an array of objects (see spec/CLI.md)\n";

static const char usage_search[] =
	"skillmeat search QUERY [--limit N] [--type TYPE] [--collection NAME] [--json]";
static const char help_search[] =
	"usage: skillmeat search QUERY [options]\n"
	"\n"
	"Full-text search over the name, title, description, tags and the text of\n"
	"every text file (SKILL.md, references/, ...; 256 KiB per artifact) of every\n"
	"artifact of every collection (from the metadata cache, after a warm sync).\n"
	"Every word of QUERY must match the start of a word; a word that matches\n"
	"nothing also matches words one or two letters off (typos). Best match\n"
	"first: a match in the name ranks above one in the title or tags, then the\n"
	"description, then the body text.\n"
	"\n"
	"  -n, --limit N           at most N results (default 20, no upper bound)\n"
	"  -t, --type TYPE         only this type; repeatable\n"
	"  -c, --collection NAME   only this collection\n"
	"  --json                  the list objects of the matches, best first\n";

static const char usage_show[] = "skillmeat show ID [--collection NAME] [--json]";
static const char help_show[] =
	"usage: skillmeat show ID [options]\n"
	"\n"
	"Show one artifact. ID is type:name or a name that is unique in the collection.\n"
	"\n"
	"  -c, --collection NAME   the collection\n"
	"  --json                  the list object plus uuid, metadata, files, lock\n";

enum { OPT_TAG = 0x100 };

#define MAX_FILTERS 32

struct query_args {
	size_t limit; /* search: at most this many, ranked */
	const char *types[MAX_FILTERS];
	size_t ntypes;
	const char *tags[MAX_FILTERS];
	size_t ntags;
	const char *search;
	const char *collection;
};

/* s then "  ", padded to width like printf's "%-*s  " (never cut) */
static void put_col(const char *s, int width)
{
	size_t l = strlen(s);

	fwrite(s, 1, l, stdout);
	cli_print_spaces(stdout, width - (int)l + 2);
}

/* One line a row: fputs and fwrite, not printf (488 lines of ten fields add up). */
static void print_table(struct cli *cli, const struct sm_artifact_row *rows, size_t n,
			bool show_coll)
{
	static char obuf[64 << 10];
	int width = cli_term_width(), wname = 4, wtags = 20, wdesc;
	json_t *tags;

	/* the table (about 100 bytes a row) in a few writes, not one per 4 KiB */
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));

	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(rows[i].name) + (show_coll ? (int)strlen(rows[i].collection) + 1 : 0);

		if (l > wname)
			wname = l;
	}
	if (wname > 40)
		wname = 40;
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
		const struct sm_artifact_row *r = &rows[i];
		struct strbuf sb = STRBUF_INIT;
		size_t k;
		json_t *t;

		fputs(cli_c(cli, C_CYAN), stdout);
		if (show_coll && sm_strbuf_addf(&sb, "%s/%s", r->collection, r->name) == 0)
			cli_print_cut(stdout, sb.buf, wname, true);
		else
			cli_print_cut(stdout, r->name, wname, true);
		fputs(cli_c(cli, C_RESET), stdout);
		fputs("  ", stdout);
		put_col(r->type, 9);
		put_col(r->origin ? r->origin : "-", 7);
		cli_print_cut(stdout, r->version ? r->version : "-", 8, true);
		fputs("  ", stdout);
		sm_strbuf_reset(&sb);
		/* most rows have none: no JSON parse for "[]" */
		tags = r->tags_json && strcmp(r->tags_json, "[]") ? json_loads(r->tags_json, 0, NULL)
								  : NULL;
		json_array_foreach(tags, k, t)
			if (sm_strbuf_addf(&sb, "%s%s", k ? "," : "", json_string_value(t)) < 0)
				break;
		json_decref(tags);
		cli_print_cut(stdout, sb.len ? sb.buf : "-", wtags, true);
		fputs("  ", stdout);
		if (!r->content_hash)
			printf("%s(files missing)%s", cli_c(cli, C_YELLOW), cli_c(cli, C_RESET));
		else
			cli_print_cut(stdout, r->description, wdesc, false);
		putchar('\n');
		sm_strbuf_release(&sb);
	}
}

/* Every matching row, page by page (keyset), into one array. */
static int query_all(struct cli *cli, const struct query_args *a, struct sm_artifact_row **ret,
		     size_t *ret_n)
{
	struct sm_artifact_query q = { 0 };
	struct sm_artifact_page page = { 0 };
	struct sm_artifact_row *all = NULL;
	struct strbuf err = STRBUF_INIT;
	size_t n = 0;
	int r;

	q.collection = a->collection;
	q.types = a->types;
	q.ntypes = a->ntypes;
	q.tags = a->tags;
	q.ntags = a->ntags;
	q.search = a->search;
	q.limit = SM_STORE_MAX_LIMIT;
	q.no_total = true;
	q.brief = !cli->json; /* the table shows a few fields; --json all of them */
	if (a->limit) {
		/* a ranked search: one query, best first */
		q.rank = true;
		q.limit = a->limit;
	}
	for (;;) {
		struct sm_artifact_row *nv;

		r = sm_store_list_artifacts(cli->cache->store, &q, &page, &err);
		if (r < 0) {
			cli_fail(cli, r, &err);
			break;
		}
		nv = sm_reallocarray(all, n + page.n + 1, sizeof(*all));
		if (!nv) {
			cli_error(cli, "out of memory");
			r = -ENOMEM;
			break;
		}
		all = nv;
		if (page.n) /* an empty page has no rows: memcpy(…, NULL, 0) is undefined */
			memcpy(all + n, page.rows, page.n * sizeof(*all));
		n += page.n;
		sm_free(page.rows); /* the rows' strings now belong to all */
		page.rows = NULL;
		if (!page.has_next || !page.n || q.rank)
			break;
		q.after_type = all[n - 1].type;
		q.after_name = all[n - 1].name;
		q.after_collection = all[n - 1].collection;
	}
	sm_artifact_page_release(&page);
	sm_strbuf_release(&err);
	if (r < 0) {
		sm_artifact_rows_free(all, n);
		return r;
	}
	*ret = all;
	*ret_n = n;
	return 0;
}

static int output_rows(struct cli *cli, struct sm_artifact_row *rows, size_t n, bool show_coll)
{
	if (cli->json) {
		if (cli_print_rows_json(rows, n) < 0)
			return cli_error(cli, "cannot write the output");
	} else {
		print_table(cli, rows, n, show_coll);
	}
	return EXIT_OK;
}

static int parse_query_opts(struct cli *cli, int argc, char **argv, const char *usage,
			    const char *help, bool allow_search, struct query_args *a)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "search", required_argument, NULL, 's' },
		{ "collection", required_argument, NULL, 'c' },
		{ "limit", required_argument, NULL, 'n' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	int ch, g;

	while ((ch = getopt_long(argc, argv, ":t:s:c:n:h", opts, NULL)) != -1) {
		if ((g = cli_common_opt(cli, ch, usage)) < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		switch (ch) {
		case 'h':
			cli_help(help);
			return -1;
		case 't':
			if (sm_artifact_type_parse(optarg) == SM_TYPE_INVALID)
				return cli_usage_error(cli, usage, "unknown artifact type '%s'", optarg);
			if (a->ntypes == MAX_FILTERS)
				return cli_usage_error(cli, usage, "too many --type");
			a->types[a->ntypes++] = sm_artifact_type_name(sm_artifact_type_parse(optarg));
			break;
		case OPT_TAG:
			if (!allow_search)
				return cli_usage_error(cli, usage, "unknown option '--tag'");
			if (a->ntags == MAX_FILTERS)
				return cli_usage_error(cli, usage, "too many --tag");
			a->tags[a->ntags++] = optarg;
			break;
		case 's':
			if (!allow_search)
				return cli_usage_error(cli, usage, "unknown option '--search'");
			a->search = optarg;
			break;
		case 'c':
			a->collection = optarg;
			break;
		case 'n': {
			char *end;
			unsigned long long v;

			if (allow_search)
				return cli_usage_error(cli, usage, "unknown option '--limit'");
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > (1ULL << 40) ||
			    optarg[0] == '-')
				return cli_usage_error(cli, usage, "--limit wants a positive integer, not '%s'",
						       optarg);
			a->limit = (size_t)v;
			break;
		}
		}
	}
	return 0;
}

static int check_collection(struct cli *cli, const char *name)
{
	struct strbuf err = STRBUF_INIT;
	int r = 0;

	if ((r = sm_collection_name_check(name, &err)) < 0)
		r = cli_fail(cli, r, &err);
	else if (!sm_collection_exists(cli->home, name))
		r = cli_error(cli, "collection '%s' does not exist", name);
	sm_strbuf_release(&err);
	return r;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct query_args a = { 0 };
	struct sm_artifact_row *rows = NULL;
	size_t n = 0;
	int r;

	r = parse_query_opts(cli, argc, argv, usage_list, help_list, true, &a);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (optind < argc)
		return cli_usage_error(cli, usage_list, "unexpected argument '%s'", argv[optind]);
	if (!cli_home(cli))
		return EXIT_FAIL;
	if (!a.collection) {
		char **names = NULL;
		size_t nn = 0;

		a.collection = sm_home_active_collection(cli->home);
		/* a new home: nothing to list yet is not an error */
		if (!sm_collection_exists(cli->home, a.collection) &&
		    sm_collection_names(cli->home, &names, &nn, NULL) == 0 && nn == 0) {
			if (!cli->quiet && !cli->json)
				cli_info(cli, "No collection yet: 'skillmeat init', or 'skillmeat add PATH'");
			return output_rows(cli, NULL, 0, false);
		}
		sm_strv_free(names, nn);
	}
	if (check_collection(cli, a.collection))
		return EXIT_FAIL;
	if (cli_warm_sync(cli, a.collection) < 0 || query_all(cli, &a, &rows, &n) < 0)
		return EXIT_FAIL;
	r = output_rows(cli, rows, n, false);
	sm_artifact_rows_free(rows, n);
	return r;
}

int cmd_search(struct cli *cli, int argc, char **argv)
{
	struct query_args a = { 0 };
	struct sm_artifact_row *rows = NULL;
	size_t n = 0;
	int r;

	a.limit = 20;
	r = parse_query_opts(cli, argc, argv, usage_search, help_search, false, &a);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (argc - optind != 1)
		return cli_usage_error(cli, usage_search, argc - optind ? "give one QUERY" : "missing QUERY");
	a.search = argv[optind];
	if (!*a.search)
		return cli_usage_error(cli, usage_search, "QUERY is empty");
	if (!cli_home(cli))
		return EXIT_FAIL;
	if (a.collection && check_collection(cli, a.collection))
		return EXIT_FAIL;
	if (cli_warm_sync(cli, a.collection) < 0 || query_all(cli, &a, &rows, &n) < 0)
		return EXIT_FAIL;
	r = output_rows(cli, rows, n, true);
	sm_artifact_rows_free(rows, n);
	return r;
}

static json_t *files_json(const char *abs)
{
	struct sm_fs_list list = { 0 };
	json_t *arr = json_array();

	if (arr && sm_fs_walk(abs, &list, NULL) == 0)
		for (size_t i = 0; i < list.len; i++)
			json_array_append_new(arr, json_string(list.items[i].rel));
	sm_fs_list_release(&list);
	return arr;
}

static void print_show(struct cli *cli, const struct sm_artifact_row *r)
{
	json_t *tags = r->tags_json ? json_loads(r->tags_json, 0, NULL) : NULL, *t;
	size_t k;

	printf("%s%s%s (%s)\n", cli_c(cli, C_BOLD), r->name, cli_c(cli, C_RESET), r->type);
#define FIELD(label, v)                                                        \
	do {                                                                   \
		if (v)                                                         \
			printf("%-13s%s\n", label, v);                          \
	} while (0)
	FIELD("Title:", r->title);
	FIELD("Description:", r->description);
	FIELD("Collection:", r->collection);
	FIELD("Path:", r->path);
	FIELD("Origin:", r->origin);
	FIELD("Upstream:", r->upstream);
	FIELD("Version:", r->resolved_version ? r->resolved_version : r->version_spec);
	FIELD("File version:", r->version);
	FIELD("Author:", r->author);
	FIELD("License:", r->license);
	if (json_array_size(tags)) {
		printf("%-13s", "Tags:");
		json_array_foreach(tags, k, t)
			printf("%s%s", k ? ", " : "", json_string_value(t));
		putchar('\n');
	}
	FIELD("Added:", r->added);
#undef FIELD
	if (r->content_hash)
		printf("%-13s%s%s\n", "Hash:", r->content_hash,
		       r->lock_hash && strcmp(r->lock_hash, r->content_hash) ? " (locally modified)"
									     : "");
	else
		printf("%s%-13s%s%s\n", cli_c(cli, C_YELLOW), "Files:", "missing",
		       cli_c(cli, C_RESET));
	json_decref(tags);
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collection", required_argument, NULL, 'c' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	const char *coll = NULL;
	int ch, g;

	while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
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
	return cli_show(cli, coll, argv[optind]);
}

const char *cli_id_collection(const char *coll, const char *id, char *buf, size_t size)
{
	const char *slash = strchr(id, '/'), *colon = strchr(id, ':');
	size_t n;

	if (coll || !slash || !colon || slash > colon)
		return coll;
	n = (size_t)(slash - id);
	if (n == 0 || n >= size)
		return coll;
	memcpy(buf, id, n);
	buf[n] = '\0';
	return buf;
}

int cli_show(struct cli *cli, const char *coll, const char *id)
{
	struct strbuf err = STRBUF_INIT, abs = STRBUF_INIT;
	struct sm_collection *c = NULL;
	struct sm_artifact_row row = { 0 };
	const struct sm_toml_value *e, *lock;
	char cbuf[256];
	long idx;
	int rc = EXIT_FAIL;
	int r;

	if (!cli_home(cli))
		return EXIT_FAIL;
	/* collection/type:name names its collection, active or not */
	coll = cli_id_collection(coll, id, cbuf, sizeof(cbuf));
	if ((r = sm_collection_open(cli->home, coll, &c, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	idx = sm_collection_resolve(c, id, &err);
	if (idx < 0) {
		cli_fail(cli, idx, &err);
		goto out;
	}
	e = sm_manifest_at(c->manifest, (size_t)idx);
	if (!cli_cache(cli))
		goto out;
	cli_warm_sync_open(cli, c);
	if ((r = sm_store_get_artifact_by_key(cli->cache->store, c->name, sm_entry_str(e, "type"),
					 sm_entry_name(e), &row, &err)) < 0) {
		cli_fail(cli, r, &err);
		goto out;
	}
	lock = sm_lock_get(c->lock, row.name, sm_entry_type(e));
	if (cli->json) {
		json_t *o = cli_row_json(&row), *meta = sm_toml_get(e, "metadata")
								  ? cli_toml_to_json(sm_toml_get(e, "metadata"))
								  : json_object();

		/* a path leading outside the collection lists no files */
		r = sm_collection_entry_path(c, e, &abs, NULL);
		if (r == -ENOMEM) {
			cli_error(cli, "out of memory");
			json_decref(o);
			json_decref(meta);
			goto out;
		}
		json_object_set_new(o, "uuid", cli_json_str(row.uuid));
		json_object_set_new(o, "metadata", meta);
		json_object_set_new(o, "files", r < 0 ? json_array() : files_json(abs.buf));
		json_object_set_new(o, "lock",
				    lock ? json_pack("{s:o, s:o}", "content_hash",
						     cli_json_str(sm_toml_get_string(lock, "content_hash")),
						     "fetched",
						     cli_json_str(sm_toml_get_string(lock, "fetched")))
					 : json_null());
		cli_print_json(o);
	} else {
		print_show(cli, &row);
	}
	rc = EXIT_OK;
out:
	sm_artifact_row_release(&row);
	sm_collection_free(c);
	sm_strbuf_release(&err);
	sm_strbuf_release(&abs);
	return rc;
}
