/* SPDX-License-Identifier: MIT */
/*
 * GitHub sources (spec/skillmeat-formats.md §3): parsing `owner/repo[/path][@v]`
 * and github.com URLs. Fetching with libgit2 is source_git.c, built into the
 * skillmeat-git.so module (loaded on first use) and into the tests.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/module.h"
#include "skillmeat/source.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define SPEC_MAX 4096

/* ---------------------------------------------------------------- parsing */

static bool has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* A GitHub owner or repository name: [A-Za-z0-9._-]+, not "." or "..". */
bool sm_github_valid_name(const char *s)
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
bool sm_github_valid_rel_path(const char *p)
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

bool sm_github_valid_version(const char *v)
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
		if (!sm_github_valid_version(c[3]) || strchr(c[3], '/'))
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
			if (!sm_github_valid_version(at + 1))
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
	if (!sm_github_valid_name(comps[0])) {
		r = sm_err(err, -EINVAL, "invalid owner '%s' in '%s'", comps[0], spec);
		goto fail;
	}
	if (!sm_github_valid_name(comps[1])) {
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

static const struct sm_git_ops *git_ops;

void sm_git_register(const struct sm_git_ops *ops)
{
	__atomic_store_n(&git_ops, ops, __ATOMIC_RELEASE);
}

static const struct sm_git_ops *ops_get(struct strbuf *err)
{
	const struct sm_git_ops *ops = __atomic_load_n(&git_ops, __ATOMIC_ACQUIRE);
	const void *sym;

	if (ops)
		return ops;
	if (sm_module_load("skillmeat-git.so", "sm_git_module", &sym, err) < 0)
		return NULL;
	sm_git_register(sym);
	return sym;
}

int sm_git_fetch(const struct sm_github_spec *spec, const char *base_url, const char *token,
		 struct sm_git_fetch *ret, struct strbuf *err)
{
	const struct sm_git_ops *ops = ops_get(err);

	if (!ops)
		return -ENOENT;
	return ops->fetch(spec, base_url, token, ret, err);
}

void sm_git_fetch_release(struct sm_git_fetch *f)
{
	const struct sm_git_ops *ops = __atomic_load_n(&git_ops, __ATOMIC_ACQUIRE);

	/* a fetch result exists only when the ops were loaded */
	if (ops)
		ops->release(f);
}
