/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CLI_H
#define SKILLMEAT_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct sm_home;
struct sm_toml_value;
struct strbuf;
struct sm_cache;
struct sm_collection;
struct sm_artifact_row;

/* Exit codes (CLI.md, fixed). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

struct cli {
	const char *home_dir; /* --home, or NULL */
	bool json;
	bool quiet;
	bool color;	 /* stdout */
	bool color_err;	 /* stderr */
	bool tty_out;
	bool tty_err;
	bool tty_in;
	struct sm_home *home;	/* opened by cli_home() */
	struct sm_cache *cache; /* opened by cli_cache() */
	char **argv;		/* the verb's arguments, for option errors */
};

struct cli_cmd {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
};

/*
 * Options every command accepts besides its own (codes >= 0x1000); append
 * CLI_GLOBAL_OPTIONS to a command's option table before the terminator.
 */
enum {
	OPT_HOME = 0x1000,
	OPT_JSON,
	OPT_QUIET,
	OPT_NO_COLOR,
	OPT_HELP,
};
#define CLI_GLOBAL_OPTIONS                                                     \
	{ "home", required_argument, NULL, OPT_HOME },                         \
		{ "json", no_argument, NULL, OPT_JSON },                       \
		{ "quiet", no_argument, NULL, OPT_QUIET },                     \
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },               \
		{ "help", no_argument, NULL, 'h' }

/*
 * Handle a global option or a parse error inside a command's getopt loop.
 * Returns 1 when c was handled, 0 when it is the command's own, and -1 for
 * a usage error (message printed, with the usage line).
 */
int cli_common_opt(struct cli *cli, int c, const char *usage);

/* Open the home once (--home, SKILLMEAT_HOME, ~/.skillmeat). Prints the error. */
struct sm_home *cli_home(struct cli *cli);

/*
 * Open the home's metadata cache once (warning when the home is not writable
 * and an in-memory cache is used). Prints the error; NULL on failure.
 */
struct sm_cache *cli_cache(struct cli *cli);
/* After opening cli->cache: allow the in-memory fallback, warn when it is in memory. */
struct sm_home;
void cli_cache_opened(struct cli *cli, struct sm_home *home);
/*
 * The collection an artifact id names ("coll/type:name" → "coll", copied
 * into buf), unless -c gave one (coll) or the id names none (then coll).
 */
const char *cli_id_collection(const char *coll, const char *id, char *buf, size_t size);
/*
 * Warm sync before a read (CLI.md: a stat of each artifact against its
 * fingerprint): one collection, or all when name is NULL. Prints errors;
 * artifacts whose files are gone are warnings. Returns 0 or -errno.
 */
int cli_warm_sync(struct cli *cli, const char *name);
/*
 * After a CLI mutation was committed to the files: bring the cache up to
 * date for that collection in the same operation. A failure here does not
 * undo the write: it is a warning (the next read repairs the cache).
 */
void cli_cache_after_write(struct cli *cli, struct sm_collection *c);
/*
 * An operation context (skillmeat/ops.h) over the CLI's home and the given
 * index connection (NULL: opened on first use); warnings are printed.
 */
struct sm_ops_ctx;
void cli_ops_init(struct cli *cli, struct sm_ops_ctx *ctx, struct sm_cache *cache);
/* Set (value non-NULL) or unset a config key: sm_ops_config_set. Needs cli_home. */
int cli_config_set(struct cli *cli, const char *key, const char *value, struct strbuf *err);
/* sm_ops_collection_init / _delete over the CLI's home. */
int cli_collection_init(struct cli *cli, const char *name, bool *created, struct strbuf *err);
int cli_collection_delete(struct cli *cli, const char *name, struct strbuf *err);
/* Release ctx; an index it opened is kept as the CLI's (with its warning). */
void cli_ops_release(struct cli *cli, struct sm_ops_ctx *ctx);
/*
 * Tell a running server that the home changed (POST refresh-cache), when
 * changed. Called after the operation returned, so never under the home lock.
 */
void cli_announce(struct cli *cli, bool changed);
/*
 * The warm sync of one open collection before a read (no server is told):
 * synced by its name, so an unchanged collection is not read again.
 */
void cli_warm_sync_open(struct cli *cli, struct sm_collection *c);
/* The fixed `list --json` object of a cached row. */
json_t *cli_row_json(const struct sm_artifact_row *row);
/* What `show ID` prints (--json: the fixed object); an exit code. */
/*
 * Team servers (cmd_team.c): the server URL checked (http:// or https://,
 * trailing '/' dropped) into out, else an error printed (non-zero);
 * GET …/artifacts/{id}/archive into body (capped) with X-Content-Hash into
 * hash: 0, or a negative errno with a one-line message.
 */
int cli_team_server(struct cli *cli, const char *server, struct strbuf *out);
/*
 * The deployments of l made by deploy --from-team ("team:URL" records): their
 * collection side asked of the team server (GET /artifacts/{id}'s
 * content_hash, SKILLMEAT_TEAM_TOKEN), so a newer team copy is outdated and
 * one gone is removed. A server that cannot answer: one warning per server,
 * those keep the state from the deploy's baseline.
 */
struct sm_dep_status_list;
void cli_team_status(struct cli *cli, struct sm_dep_status_list *l);
int cli_team_fetch(const char *server, const char *token, const char *id, struct strbuf *body,
		   struct strbuf *hash, struct strbuf *err);

int cli_show(struct cli *cli, const char *collection, const char *id);
/* The `list --json` array of rows, written straight to stdout. */
int cli_print_rows_json(const struct sm_artifact_row *rows, size_t n);

/* "error: <msg>" on stderr; returns EXIT_FAIL. */
int cli_error(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * "error: <err>" for a failed library call that returned code: the library's
 * message, or sm_strerror(code) when it left none (an error line is never
 * empty). Returns EXIT_FAIL.
 */
int cli_fail(struct cli *cli, int code, const struct strbuf *err);
/*
 * At exit: flush stdout; when writing it failed (a full disk, a closed pipe
 * reader, /dev/full) print an error and turn r into EXIT_FAIL.
 */
int cli_finish_output(struct cli *cli, int r);
/* "error: <msg>" plus the usage line; returns EXIT_USAGE. */
int cli_usage_error(struct cli *cli, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cli_warning(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* --quiet: only errors, from the CLI and from the library's log alike. */
void cli_set_quiet(struct cli *cli);
/* Informational line on stdout unless --quiet or --json. */
void cli_info(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print help text (for --help) and return EXIT_OK. */
int cli_help(const char *text);

/* Colour escapes when enabled for stdout, else "". */
const char *cli_c(const struct cli *cli, const char *code);
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"
#define C_RESET "\033[0m"

/* Terminal width of stdout (COLUMNS, ioctl, else 100). */
int cli_term_width(void);
/* Print s in at most width display columns (UTF-8 aware), padding to width if pad. */
void cli_print_cut(FILE *f, const char *s, int width, bool pad);
/* n spaces (none when n <= 0). */
void cli_print_spaces(FILE *f, int n);

/* Print a JSON value on stdout (indented, ordered keys) and free it. */
int cli_print_json(json_t *v);
/* TOML value → JSON (dates as ISO strings). NULL on ENOMEM. */
json_t *cli_toml_to_json(const struct sm_toml_value *v);
/* A string or JSON null. */
json_t *cli_json_str(const char *s);

/* A progress bar on stderr, only when stderr is a TTY and not quiet/json. */
struct cli_progress {
	bool on;
	size_t total;
	const char *label;
};
void cli_progress_start(struct cli *cli, struct cli_progress *p, const char *label, size_t total);
void cli_progress_update(struct cli_progress *p, size_t done, const char *item);
void cli_progress_end(struct cli_progress *p);

/* Ask a yes/no question on the terminal; false when stdin is not a TTY. */
bool cli_confirm(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Split "a,b,c" into trimmed non-empty items (heap array of heap strings). */
int cli_split_list(const char *s, char ***ret, size_t *count);

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_add(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_edit(struct cli *cli, int argc, char **argv);
int cmd_search(struct cli *cli, int argc, char **argv);
int cmd_remove(struct cli *cli, int argc, char **argv);
int cmd_collection(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_user_collection(struct cli *cli, int argc, char **argv);
int cmd_cache(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_team(struct cli *cli, int argc, char **argv);
int cmd_deploy(struct cli *cli, int argc, char **argv);
int cmd_undeploy(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_sync_check(struct cli *cli, int argc, char **argv);
int cmd_sync_pull(struct cli *cli, int argc, char **argv);
int cmd_sync_preview(struct cli *cli, int argc, char **argv);
int cmd_snapshot(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_rollback(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);

#endif
