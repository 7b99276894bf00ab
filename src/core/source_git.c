/* SPDX-License-Identifier: MIT */
/*
 * Fetching a GitHub source with libgit2 into a temporary checkout
 * (skillmeat/source.h). Built into the skillmeat-git.so module, which the
 * library loads on the first fetch, so only `add` from GitHub pays for
 * libgit2 and its TLS/SSH stack; tests link it in directly (sm_git), which
 * registers it at start-up.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/source.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define DEFAULT_GITHUB_URL "https://github.com"

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

/*
 * rm -rf without following symlinks, best effort: it runs on the way out of
 * failures, -ENOMEM included, so unlike sm_fs_remove_tree it allocates nothing
 * through sm_malloc.
 */
static void remove_tree(const char *path)
{
	if (path && *path)
		(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message && *e->message ? e->message : "unknown libgit2 error";
}

static int git_code(int gerr)
{
	const git_error *e = git_error_last();

	if (e && e->klass == GIT_ERROR_NOMEMORY)
		return -ENOMEM;
	switch (gerr) {
	case GIT_ENOTFOUND:
		return -ENOENT;
	case GIT_EAUTH:
	case GIT_ECERTIFICATE:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* libgit2 (and remote) messages may span lines; errors here are one line. */
static int one_line(struct strbuf *err, int code)
{
	if (err) {
		for (size_t i = 0; i < err->len; i++)
			if (err->buf[i] == '\n' || err->buf[i] == '\r')
				err->buf[i] = ' ';
		sm_strbuf_rtrim(err);
	}
	return code;
}

struct cred_state {
	const char *token;
	int tries;
};

static int credentials_cb(git_credential **out, const char *url, const char *user_from_url,
			  unsigned int allowed, void *payload)
{
	struct cred_state *cs = payload;

	(void)user_from_url;
	if (!cs->token || !*cs->token || !url || !has_prefix_ci(url, "https://") ||
	    !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
		return GIT_PASSTHROUGH;
	/* libgit2 asks again after a rejection; a token either works or not */
	if (cs->tries++ > 0) {
		git_error_set_str(GIT_ERROR_NET, "the GitHub token was rejected");
		return GIT_EAUTH;
	}
	return git_credential_userpass_plaintext_new(out, "oauth2", cs->token);
}

static int make_tempdir(const char *what, struct strbuf *out, struct strbuf *err)
{
	const char *base = getenv("TMPDIR");
	int r;

	if (!base || !*base)
		base = "/tmp";
	sm_strbuf_reset(out);
	r = sm_strbuf_addf(out, "%s/skillmeat-%s-XXXXXX", base, what);
	if (r < 0)
		return sm_err(err, r, "out of memory");
	if (!mkdtemp(out->buf)) {
		r = -errno;
		sm_strbuf_reset(out); /* nothing of ours to remove */
		return sm_err(err, r, "cannot create a temporary folder in '%s': %s", base,
			      sm_strerror(r));
	}
	return 0;
}

static int clone_url(const struct sm_github_spec *spec, const char *base, struct strbuf *url)
{
	size_t n;

	if (!base || !*base)
		base = DEFAULT_GITHUB_URL;
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	return sm_strbuf_addf(url, "%.*s/%s/%s", (int)n, base, spec->owner, spec->repo);
}

static bool is_hex_version(const char *v)
{
	size_t n = strlen(v);

	if (n < 7 || n > GIT_OID_HEXSZ)
		return false;
	for (size_t i = 0; i < n; i++)
		if (hexval((unsigned char)v[i]) < 0)
			return false;
	return true;
}

static int not_found(const struct sm_github_spec *spec, struct strbuf *err)
{
	return sm_err(err, -ENOENT, "version '%s' not found in %s/%s", spec->version, spec->owner,
		      spec->repo);
}

static int resolve_sha(git_repository *repo, const struct sm_github_spec *spec, git_oid *ret,
		       struct strbuf *err)
{
	const char *v = spec->version;
	size_t n = strlen(v);
	git_object *obj = NULL;
	git_oid oid;
	int gr;

	if (git_oid_fromstrn(&oid, v, n) < 0)
		return one_line(err, sm_err(err, -EINVAL, "invalid commit '%s': %s", v, git_msg()));
	if (n == GIT_OID_HEXSZ)
		gr = git_object_lookup(&obj, repo, &oid, GIT_OBJECT_COMMIT);
	else
		gr = git_object_lookup_prefix(&obj, repo, &oid, n, GIT_OBJECT_COMMIT);
	if (gr == GIT_EAMBIGUOUS)
		return sm_err(err, -ENOENT, "version '%s' is ambiguous in %s/%s", v, spec->owner,
			      spec->repo);
	if (gr == GIT_ENOTFOUND || gr == GIT_EINVALIDSPEC)
		return not_found(spec, err);
	if (gr < 0)
		return one_line(err, sm_err(err, git_code(gr), "cannot look up '%s' in %s/%s: %s",
					    v, spec->owner, spec->repo, git_msg()));
	git_oid_cpy(ret, git_object_id(obj));
	git_object_free(obj);
	return 0;
}

/*
 * Look refname up and peel it to a commit: 1 found, 0 no such (or invalid)
 * ref, negative errno on other failures.
 */
static int peel_ref(git_repository *repo, const char *refname, const struct sm_github_spec *spec,
		    git_oid *ret, struct strbuf *err)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int valid = 0, gr;

	if (git_reference_name_is_valid(&valid, refname) < 0 || !valid)
		return 0;
	gr = git_reference_lookup(&ref, repo, refname);
	if (gr == GIT_ENOTFOUND || gr == GIT_EINVALIDSPEC)
		return 0;
	if (gr < 0)
		goto fail;
	gr = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	git_reference_free(ref);
	if (gr < 0)
		goto fail;
	git_oid_cpy(ret, git_object_id(obj));
	git_object_free(obj);
	return 1;
fail:
	return one_line(err, sm_err(err, git_code(gr), "cannot resolve '%s' in %s/%s: %s",
				    spec->version, spec->owner, spec->repo, git_msg()));
}

static int resolve_ref(git_repository *repo, const struct sm_github_spec *spec, git_oid *ret,
		       struct strbuf *err)
{
	/* tags first, then branches (remote-tracking after a clone; the default branch is also
	 * local) */
	static const char *const patterns[] = {"refs/tags/%s", "refs/remotes/origin/%s",
					       "refs/heads/%s"};
	struct strbuf name = STRBUF_INIT;
	int r = 0;

	if (!strcmp(spec->version, "HEAD"))
		return not_found(spec, err);
	for (size_t i = 0; i < SM_ARRAY_SIZE(patterns) && r == 0; i++) {
		sm_strbuf_reset(&name);
		r = sm_strbuf_addf(&name, patterns[i], spec->version);
		if (r < 0) {
			r = sm_err(err, r, "out of memory");
			break;
		}
		r = peel_ref(repo, name.buf, spec, ret, err);
	}
	sm_strbuf_release(&name);
	if (r == 0)
		return not_found(spec, err);
	return r < 0 ? r : 0;
}

static int resolve_version(git_repository *repo, const struct sm_github_spec *spec, git_oid *ret,
			   struct strbuf *err)
{
	int gr;

	if (!strcasecmp(spec->version, "latest")) {
		gr = git_reference_name_to_id(ret, repo, "HEAD");
		if (gr == GIT_ENOTFOUND || gr == GIT_EUNBORNBRANCH)
			return sm_err(err, -ENOENT, "repository %s/%s has no commits", spec->owner,
				      spec->repo);
		if (gr < 0)
			return one_line(err, sm_err(err, git_code(gr),
						    "cannot resolve HEAD of %s/%s: %s", spec->owner,
						    spec->repo, git_msg()));
		return 0;
	}
	if (is_hex_version(spec->version))
		return resolve_sha(repo, spec, ret, err);
	return resolve_ref(repo, spec, ret, err);
}

/* The artifact must be a folder or a regular file at that commit. */
static int check_path(git_tree *tree, const struct sm_github_spec *spec, const char *sha,
		      struct strbuf *err)
{
	git_tree_entry *entry = NULL;
	git_filemode_t mode;
	int gr;

	if (!*spec->path)
		return 0;
	gr = git_tree_entry_bypath(&entry, tree, spec->path);
	if (gr == GIT_ENOTFOUND)
		return sm_err(err, -ENOENT, "path '%s' not found in %s/%s at %.7s", spec->path,
			      spec->owner, spec->repo, sha);
	if (gr < 0)
		return one_line(err, sm_err(err, git_code(gr), "cannot look up '%s' in %s/%s: %s",
					    spec->path, spec->owner, spec->repo, git_msg()));
	mode = git_tree_entry_filemode(entry);
	git_tree_entry_free(entry);
	if (mode == GIT_FILEMODE_LINK)
		return sm_err(err, -EINVAL, "path '%s' in %s/%s is a symbolic link", spec->path,
			      spec->owner, spec->repo);
	if (mode == GIT_FILEMODE_COMMIT)
		return sm_err(err, -EINVAL, "path '%s' in %s/%s is a submodule", spec->path,
			      spec->owner, spec->repo);
	return 0;
}

static int fill_result(const struct sm_github_spec *spec, const char *workdir, const char *sha,
		       struct sm_git_fetch *f)
{
	const char *v = spec->version;
	struct strbuf sb = STRBUF_INIT;
	bool has_path = *spec->path;
	int r;

	memcpy(f->sha, sha, GIT_OID_HEXSZ + 1);
	f->workdir = sm_strdup(workdir);
	if (!f->workdir)
		return -ENOMEM;
	r = sm_strbuf_addf(&sb, "%s%s%s", workdir, has_path ? "/" : "", spec->path);
	if (r < 0 || !(f->artifact_path = sm_strbuf_detach(&sb, NULL)))
		goto oom;
	r = sm_strbuf_addf(&sb, "https://github.com/%s/%s/tree/%s%s%s", spec->owner, spec->repo,
			   sha, has_path ? "/" : "", spec->path);
	if (r < 0 || !(f->upstream = sm_strbuf_detach(&sb, NULL)))
		goto oom;
	if (v[0] == 'v' || strchr(v, '.')) {
		f->resolved_version = sm_strdup(v);
		if (!f->resolved_version)
			goto oom;
	}
	return 0;
oom:
	sm_strbuf_release(&sb);
	return -ENOMEM;
}

struct fetch_ctx {
	const struct sm_github_spec *spec;
	const char *base_url;
	const char *token;
	struct strbuf workdir; /* the checkout, handed to the caller */
	struct strbuf gitdir;  /* the bare clone, always removed */
	git_repository *repo;
	git_commit *commit;
	git_tree *tree;
	char sha[GIT_OID_HEXSZ + 1];
};

/*
 * git_clone's default remote, minus url.<base>.insteadOf rewriting: the URL is
 * ours to choose, and libgit2 1.5 leaks a PCRE2 match block for every config
 * entry it scans while applying insteadOf (fixed upstream in libgit2 #6382).
 */
static int create_remote_cb(git_remote **out, git_repository *repo, const char *name,
			    const char *url, void *payload)
{
	git_remote_create_options o = GIT_REMOTE_CREATE_OPTIONS_INIT;

	(void)payload;
	o.repository = repo;
	o.name = name;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	return git_remote_create_with_opts(out, url, &o);
}

static int do_clone(struct fetch_ctx *c, struct strbuf *err)
{
	git_clone_options opts = GIT_CLONE_OPTIONS_INIT;
	struct cred_state cs = {.token = c->token};
	struct strbuf url = STRBUF_INIT;
	int r, gr;

	r = clone_url(c->spec, c->base_url, &url);
	if (r < 0) {
		sm_strbuf_release(&url);
		return sm_err(err, r, "out of memory");
	}
	opts.bare = 1;
	opts.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
	opts.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	opts.fetch_opts.proxy_opts.type = GIT_PROXY_AUTO;
	opts.fetch_opts.callbacks.credentials = credentials_cb;
	opts.fetch_opts.callbacks.payload = &cs;
	opts.remote_cb = create_remote_cb;
	gr = git_clone(&c->repo, url.buf, c->gitdir.buf, &opts);
	sm_strbuf_release(&url);
	if (gr < 0)
		return one_line(err, sm_err(err, git_code(gr), "cannot clone '%s/%s': %s",
					    c->spec->owner, c->spec->repo, git_msg()));
	return 0;
}

static int do_checkout(struct fetch_ctx *c, struct strbuf *err)
{
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	struct stat st;
	int gr;

	co.checkout_strategy =
	    GIT_CHECKOUT_FORCE | GIT_CHECKOUT_RECREATE_MISSING | GIT_CHECKOUT_DONT_UPDATE_INDEX;
	co.target_directory = c->workdir.buf;
	gr = git_checkout_tree(c->repo, (const git_object *)c->commit, &co);
	if (gr < 0)
		return one_line(err, sm_err(err, git_code(gr), "cannot check out %s/%s at %.7s: %s",
					    c->spec->owner, c->spec->repo, c->sha, git_msg()));
	if (*c->spec->path) {
		struct strbuf p = STRBUF_INIT;
		int r = sm_strbuf_addf(&p, "%s/%s", c->workdir.buf, c->spec->path);

		if (r < 0) {
			sm_strbuf_release(&p);
			return sm_err(err, r, "out of memory");
		}
		r = lstat(p.buf, &st) < 0 ? -errno : 0;
		sm_strbuf_release(&p);
		if (r < 0)
			return sm_err(err, r, "path '%s' is missing from the checkout of %s/%s: %s",
				      c->spec->path, c->spec->owner, c->spec->repo, sm_strerror(r));
	}
	return 0;
}

static int fetch(struct fetch_ctx *c, struct sm_git_fetch *f, struct strbuf *err)
{
	git_oid oid;
	int r, gr;

	r = make_tempdir("src", &c->workdir, err);
	if (r < 0)
		return r;
	r = make_tempdir("git", &c->gitdir, err);
	if (r < 0)
		return r;
	r = do_clone(c, err);
	if (r < 0)
		return r;
	r = resolve_version(c->repo, c->spec, &oid, err);
	if (r < 0)
		return r;
	git_oid_tostr(c->sha, sizeof(c->sha), &oid);
	gr = git_commit_lookup(&c->commit, c->repo, &oid);
	if (gr >= 0)
		gr = git_commit_tree(&c->tree, c->commit);
	if (gr < 0)
		return one_line(err,
				sm_err(err, git_code(gr), "cannot read commit %.7s of %s/%s: %s",
				       c->sha, c->spec->owner, c->spec->repo, git_msg()));
	r = check_path(c->tree, c->spec, c->sha, err);
	if (r < 0)
		return r;
	r = do_checkout(c, err);
	if (r < 0)
		return r;
	r = fill_result(c->spec, c->workdir.buf, c->sha, f);
	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

static int git_fetch(const struct sm_github_spec *spec, const char *base_url, const char *token,
		     struct sm_git_fetch *ret, struct strbuf *err)
{
	struct fetch_ctx c = {.spec = spec, .base_url = base_url, .token = token};
	struct sm_git_fetch f = {0};
	int r, gr;

	if (!spec || !ret)
		return sm_err(err, -EINVAL, "missing GitHub spec");
	if (!sm_github_valid_name(spec->owner) || !sm_github_valid_name(spec->repo) || !sm_github_valid_rel_path(spec->path) ||
	    !sm_github_valid_version(spec->version))
		return sm_err(err, -EINVAL, "invalid GitHub spec '%s/%s'",
			      spec->owner ? spec->owner : "", spec->repo ? spec->repo : "");
	gr = git_libgit2_init();
	if (gr < 0)
		return one_line(err, sm_err(err, -EIO, "cannot initialise libgit2: %s", git_msg()));
	sm_strbuf_init(&c.workdir, 0);
	sm_strbuf_init(&c.gitdir, 0);

	r = fetch(&c, &f, err);

	git_tree_free(c.tree);
	git_commit_free(c.commit);
	git_repository_free(c.repo);
	remove_tree(c.gitdir.buf);
	if (r < 0) {
		remove_tree(c.workdir.buf);
		sm_free(f.workdir);
		sm_free(f.artifact_path);
		sm_free(f.upstream);
		sm_free(f.resolved_version);
	} else {
		*ret = f;
	}
	sm_strbuf_release(&c.gitdir);
	sm_strbuf_release(&c.workdir);
	git_libgit2_shutdown();
	return r;
}

static void git_fetch_release(struct sm_git_fetch *f)
{
	if (!f)
		return;
	remove_tree(f->workdir);
	sm_free(f->workdir);
	sm_free(f->artifact_path);
	sm_free(f->resolved_version);
	sm_free(f->upstream);
	*f = (struct sm_git_fetch){0};
}

/* The module's table (skillmeat-git.so) and the built-in registration. */
const struct sm_git_ops sm_git_module = {
	.fetch = git_fetch,
	.release = git_fetch_release,
};

__attribute__((constructor)) static void register_builtin(void)
{
	sm_git_register(&sm_git_module);
}
