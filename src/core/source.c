/* SPDX-License-Identifier: MIT */
/*
 * GitHub sources (spec/skillmeat-formats.md §3): parsing `owner/repo[/path][@v]`
 * and github.com URLs, and fetching a commit with libgit2 into a temporary
 * checkout.
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

#define SPEC_MAX 4096
#define DEFAULT_GITHUB_URL "https://github.com"

/* ---------------------------------------------------------------- parsing */

static bool has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* A GitHub owner or repository name: [A-Za-z0-9._-]+, not "." or "..". */
static bool valid_name(const char *s)
{
	if (!s || !*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool valid_component(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/') && !has_ctl(s, strlen(s));
}

/* A relative path of valid components separated by single '/'; "" is the root. */
static bool valid_rel_path(const char *p)
{
	const char *c = p;

	if (!p)
		return false;
	if (!*p)
		return true;
	if (has_ctl(p, strlen(p)))
		return false;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!slash)
			return true;
		c = slash + 1;
	}
}

static bool valid_version(const char *v)
{
	return v && *v && !has_ctl(v, strlen(v));
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

/* Decode %XX escapes in place; false on a malformed escape or a control character. */
static bool percent_decode(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		int hi = hexval((unsigned char)r[1]),
		    lo = hi < 0 ? -1 : hexval((unsigned char)r[2]);

		if (hi < 0 || lo < 0 || hi < 2 || (hi == 7 && lo == 15))
			return false;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return true;
}

/*
 * Split s in place at '/'. Trailing empty components (a trailing slash) are
 * dropped; empty ones elsewhere are kept for the caller to reject.
 */
static int split_components(char *s, char ***ret, size_t *ret_n)
{
	size_t n = 1, i = 0;
	char **v;

	for (const char *p = s; *p; p++)
		n += *p == '/';
	v = sm_calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (char *p = s;;) {
		char *slash = strchr(p, '/');

		v[i++] = p;
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	while (i > 0 && !*v[i - 1])
		i--;
	*ret = v;
	*ret_n = i;
	return 0;
}

static int join_path(char **comps, size_t n, char **ret)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; i < n && !r; i++) {
		if (i)
			r = sm_strbuf_addch(&sb, '/');
		if (!r)
			r = sm_strbuf_addstr(&sb, comps[i]);
	}
	if (!r) {
		*ret = sm_strbuf_detach(&sb, NULL);
		if (!*ret)
			r = -ENOMEM;
	}
	sm_strbuf_release(&sb);
	return r;
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

/*
 * When spec is a URL (has "://", or starts with "github.com/" or
 * "www.github.com/"), point *rest past "host/" and return 1; return 0 for the
 * shorthand form; -EINVAL for a URL to another host or with another scheme.
 */
static int url_rest(const char *spec, const char **rest, struct strbuf *err)
{
	static const char *const hosts[] = {"github.com", "www.github.com"};
	const char *p = spec, *slash;
	size_t hlen;

	if (strstr(spec, "://")) {
		if (has_prefix_ci(spec, "https://"))
			p = spec + 8;
		else if (has_prefix_ci(spec, "http://"))
			p = spec + 7;
		else
			return sm_err(err, -EINVAL, "only GitHub sources are supported: '%s'",
				      spec);
	} else if (!has_prefix_ci(spec, "github.com/") && !has_prefix_ci(spec, "www.github.com/")) {
		return 0;
	}
	slash = strchr(p, '/');
	hlen = slash ? (size_t)(slash - p) : strlen(p);
	for (size_t i = 0; i < SM_ARRAY_SIZE(hosts); i++) {
		if (hlen == strlen(hosts[i]) && !strncasecmp(p, hosts[i], hlen)) {
			*rest = slash ? slash + 1 : p + hlen;
			return 1;
		}
	}
	return sm_err(err, -EINVAL, "only GitHub sources are supported: '%s'", spec);
}

/* URL path after the host: owner/repo[.git][/tree/<ref>[/path]|/blob/<ref>/path] */
static int parse_url_path(const char *spec, char **c, size_t n, struct sm_github_spec *s,
			  struct strbuf *err)
{
	size_t path_from = n;
	size_t rlen;
	int r;

	for (size_t i = 0; i < n; i++)
		if (!percent_decode(c[i]))
			return sm_err(err, -EINVAL, "invalid GitHub URL '%s': bad %%-escape", spec);
	if (n < 2)
		return sm_err(err, -EINVAL,
			      "invalid GitHub URL '%s': expected https://github.com/owner/repo",
			      spec);
	rlen = strlen(c[1]);
	if (rlen > 4 && !strcmp(c[1] + rlen - 4, ".git"))
		c[1][rlen - 4] = '\0';
	if (n == 2) {
		s->version = sm_strdup("latest");
	} else if ((!strcmp(c[2], "tree") && n >= 4) || (!strcmp(c[2], "blob") && n >= 5)) {
		if (!valid_version(c[3]) || strchr(c[3], '/'))
			return sm_err(err, -EINVAL, "invalid ref '%s' in '%s'", c[3], spec);
		s->version = sm_strdup(c[3]);
		path_from = 4;
	} else {
		return sm_err(err, -EINVAL,
			      "unsupported GitHub URL '%s': expected .../tree/<ref>[/path] or "
			      ".../blob/<ref>/path",
			      spec);
	}
	if (!s->version)
		return -ENOMEM;
	for (size_t i = path_from; i < n; i++)
		if (!valid_component(c[i]))
			return sm_err(err, -EINVAL, "invalid path component '%s' in '%s'", c[i],
				      spec);
	r = join_path(c + path_from, n - path_from, &s->path);
	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

/* Shorthand owner/repo[/path...]; the '@version' part was already cut off. */
static int parse_short_path(const char *spec, char **c, size_t n, struct sm_github_spec *s,
			    struct strbuf *err)
{
	int r;

	if (n < 2)
		return sm_err(err, -EINVAL,
			      "invalid GitHub spec '%s': expected owner/repo[/path][@version]",
			      spec);
	for (size_t i = 2; i < n; i++)
		if (!valid_component(c[i]))
			return sm_err(err, -EINVAL, "invalid path component '%s' in '%s'", c[i],
				      spec);
	r = join_path(c + 2, n - 2, &s->path);
	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

int sm_github_spec_parse(const char *spec, struct sm_github_spec *ret, struct strbuf *err)
{
	struct sm_github_spec s = {0};
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ char **comps = NULL;
	const char *rest = NULL;
	size_t n = 0;
	int r, is_url;

	if (!spec || !*spec)
		return sm_err(err, -EINVAL, "empty GitHub spec");
	if (strlen(spec) > SPEC_MAX)
		return sm_err(err, -EINVAL, "GitHub spec is too long (over %d bytes)", SPEC_MAX);
	if (has_ctl(spec, strlen(spec)))
		return sm_err(err, -EINVAL, "invalid GitHub spec: it contains a control character");
	is_url = url_rest(spec, &rest, err);
	if (is_url < 0)
		return is_url;
	buf = sm_strdup(is_url ? rest : spec);
	if (!buf)
		return sm_err(err, -ENOMEM, "out of memory");

	if (is_url) {
		buf[strcspn(buf, "?#")] = '\0';
	} else {
		char *at = strrchr(buf, '@');

		if (at) {
			*at = '\0';
			if (!valid_version(at + 1))
				return sm_err(err, -EINVAL, "empty version in '%s'", spec);
		}
		s.version = sm_strdup(at ? at + 1 : "latest");
		if (!s.version)
			return sm_err(err, -ENOMEM, "out of memory");
	}

	r = split_components(buf, &comps, &n);
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto fail;
	}
	r = is_url ? parse_url_path(spec, comps, n, &s, err)
		   : parse_short_path(spec, comps, n, &s, err);
	if (r < 0)
		goto fail;
	if (!valid_name(comps[0])) {
		r = sm_err(err, -EINVAL, "invalid owner '%s' in '%s'", comps[0], spec);
		goto fail;
	}
	if (!valid_name(comps[1])) {
		r = sm_err(err, -EINVAL, "invalid repository '%s' in '%s'", comps[1], spec);
		goto fail;
	}
	s.owner = sm_strdup(comps[0]);
	s.repo = sm_strdup(comps[1]);
	if (!s.owner || !s.repo) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	sm_github_spec_release(&s);
	return r;
}

void sm_github_spec_release(struct sm_github_spec *spec)
{
	if (!spec)
		return;
	sm_free(spec->owner);
	sm_free(spec->repo);
	sm_free(spec->path);
	sm_free(spec->version);
	*spec = (struct sm_github_spec){0};
}

bool sm_source_is_github(const char *spec)
{
	return spec && strchr(spec, '/') && spec[0] != '.' && spec[0] != '/';
}

/* ---------------------------------------------------------------- fetching */

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

static int clone_url(const struct sm_github_spec *spec, struct strbuf *url)
{
	const char *base = getenv("SKILLMEAT_GITHUB_URL");
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

	r = clone_url(c->spec, &url);
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

int sm_git_fetch(const struct sm_github_spec *spec, const char *token, struct sm_git_fetch *ret,
		 struct strbuf *err)
{
	struct fetch_ctx c = {.spec = spec, .token = token};
	struct sm_git_fetch f = {0};
	int r, gr;

	if (!spec || !ret)
		return sm_err(err, -EINVAL, "missing GitHub spec");
	if (!valid_name(spec->owner) || !valid_name(spec->repo) || !valid_rel_path(spec->path) ||
	    !valid_version(spec->version))
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

void sm_git_fetch_release(struct sm_git_fetch *f)
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
