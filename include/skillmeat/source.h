/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_SOURCE_H
#define SKILLMEAT_SOURCE_H

#include <stdbool.h>

struct strbuf;

/*
 * GitHub sources for `skillmeat add` (spec/skillmeat-formats.md §3).
 *
 * A spec is `owner/repo[/path...][@version]` (version after the LAST '@',
 * default "latest"; fewer than two segments → -EINVAL) or a github.com URL:
 * https://github.com/owner/repo, .../tree/<ref>[/path], .../blob/<ref>/path
 * (optionally with a trailing ".git" on repo, or "www."); any other host →
 * -EINVAL "only GitHub sources are supported".
 */
struct sm_github_spec {
	char *owner;
	char *repo;
	char *path;    /* "" when the artifact is the repository root */
	char *version; /* "latest" when none was given */
};

/*
 * Parse spec into *ret (fields owned, free with sm_github_spec_release; *ret is
 * written only on success). Owner and repo are [A-Za-z0-9._-]+ other than "."
 * and ".."; path components must not be empty, "." or ".."; control
 * characters are rejected; a trailing '/' is dropped. URLs may omit the scheme
 * ("github.com/o/r"), take http or https, drop "?query" and "#fragment", and
 * have %XX escapes decoded (a decoded control character or '/' is rejected).
 * Errors: -EINVAL with a one-line message, -ENOMEM.
 */
int sm_github_spec_parse(const char *spec, struct sm_github_spec *ret, struct strbuf *err);
void sm_github_spec_release(struct sm_github_spec *spec);
/* True when spec looks like a GitHub spec (§3.1: contains '/', does not start with '.' or '/'), or a URL. */
bool sm_source_is_github(const char *spec);

/* The result of a fetch: a temporary checkout the caller must release. */
struct sm_git_fetch {
	char *workdir;		/* temporary folder holding the checked-out tree (no .git) */
	char *artifact_path;	/* workdir/path (workdir itself for the root): what to copy */
	char sha[41];		/* resolved 40-hex commit */
	char *resolved_version; /* the spec version iff it starts with 'v' or contains '.', else NULL */
	char *upstream;		/* https://github.com/<owner>/<repo>/tree/<sha>[/<path>] */
};

/*
 * Clone <base_url>/<owner>/<repo> (base_url: config `github.api-url`, NULL or
 * "" = https://github.com; tests point it at file:// bare repos) into a
 * temporary folder (under $TMPDIR or
 * /tmp), resolve the version (latest → HEAD of the default branch; 7-40 hex →
 * that commit; else tag refs/tags/<v> (annotated tags peeled), then branch
 * <v>; else -ENOENT "version '<v>' not found in owner/repo"), check it out,
 * and check that <path> exists in it (-ENOENT otherwise). token may be NULL;
 * when set it is sent as oauth2 basic auth over https. On failure nothing is
 * left on disk.
 *
 * Details: hex versions match either case; an ambiguous or unknown commit is
 * -ENOENT. The clone is bare, in a second temporary folder that is removed
 * before returning; the tree is checked out into workdir, so no .git is ever
 * part of the artifact. <path> is looked up in the commit's tree: a symlink or
 * a submodule there is -EINVAL. A repository with no commits is -ENOENT.
 * Clone failures are "cannot clone 'owner/repo': <libgit2 message>" with
 * -ENOENT (not found), -EACCES (authentication, certificate) or -EIO. spec is
 * re-validated (owner/repo names, a relative path without "." or ".."):
 * -EINVAL. *ret is written only on success. Balances git_libgit2_init and
 * git_libgit2_shutdown itself.
 */
int sm_git_fetch(const struct sm_github_spec *spec, const char *base_url, const char *token,
		 struct sm_git_fetch *ret, struct strbuf *err);
/* Removes the temporary folder and frees the fields. */
void sm_git_fetch_release(struct sm_git_fetch *f);

/*
 * The fetch lives in the skillmeat-git.so module (libgit2), loaded on the
 * first sm_git_fetch (-ENOENT with a message when it cannot be loaded);
 * programs that link it in (sm_git) register it at start-up.
 */
struct sm_git_ops {
	int (*fetch)(const struct sm_github_spec *spec, const char *base_url, const char *token,
		     struct sm_git_fetch *ret, struct strbuf *err);
	void (*release)(struct sm_git_fetch *f);
};
void sm_git_register(const struct sm_git_ops *ops);
/* The module's table: the symbol skillmeat-git.so exports. */
extern const struct sm_git_ops sm_git_module;

/* Name checks shared by parsing and the fetch's re-validation. */
bool sm_github_valid_name(const char *s);
bool sm_github_valid_rel_path(const char *p);
bool sm_github_valid_version(const char *v);

#endif
