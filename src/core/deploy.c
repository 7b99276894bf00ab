/* SPDX-License-Identifier: MIT */
/*
 * The file side of deploy, undeploy and status (spec/skillmeat-formats.md
 * §4, §5.1): staged copies renamed into place, targets confined to the
 * project, states compared against the tracking file's baseline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/copy.h"
#include "skillmeat/collection.h"
#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

#define STAGE_TAG ".sm-stage-"
#define OLD_TAG ".sm-old-"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

void sm_deploy_result_release(struct sm_deploy_result *r)
{
	if (!r)
		return;
	sm_free(r->rel_path);
	sm_free(r->error);
	r->rel_path = r->error = NULL;
}

int sm_deploy_copy(const char *src, const char *dst, struct strbuf *err)
{
	return sm_copy_artifact(src, dst, err);
}

int sm_deploy_source_hash(const char *path, char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	int r = sm_copy_hash(path, hex, err);

	if (r == -ENOTSUP) {
		/* a symlinked folder inside: hash what a real copy would hold */
		char tmpl[] = "/tmp/skillmeat-hash.XXXXXX";
		struct strbuf d = STRBUF_INIT;

		if (!mkdtemp(tmpl))
			return sm_err(err, -errno, "cannot create a temporary folder: %s",
				      sm_strerror(errno));
		r = sm_strbuf_addf(&d, "%s/a", tmpl);
		r = r ?: sm_copy_artifact(path, d.buf, err);
		r = r ?: sm_content_hash(d.buf, hex, err);
		(void)sm_fs_remove_tree(tmpl, NULL);
		sm_strbuf_release(&d);
	}
	return r;
}

/*
 * project/root/rel, refusing a symlink or a non-folder at any existing
 * folder level on the way (never followed), and at the last component
 * unless link_ok. *checked (when given) is a folder this run already found
 * real, all the way up: a target inside it needs only its own lstat, and it
 * becomes the target's folder once that is found real. *last and *exists
 * (when given) get the target's lstat.
 */
static int target_path_at(const char *project, const char *root, const char *rel, bool link_ok,
			  char **checked, struct stat *last, bool *exists, struct strbuf *out,
			  struct strbuf *err)
{
	struct stat st;
	const char *slash;
	int r;

	if (exists)
		*exists = false;
	sm_strbuf_reset(out);
	r = sm_strbuf_addf(out, "%s/%s/%s", project, root, rel);
	if (r < 0)
		return sm_err(err, r, "out of memory");
	slash = strrchr(out->buf, '/');
	if (checked && *checked && strlen(*checked) == (size_t)(slash - out->buf) &&
	    !strncmp(out->buf, *checked, (size_t)(slash - out->buf)))
		goto last;
	sm_strbuf_reset(out);
	r = sm_strbuf_addf(out, "%s/%s", project, root);
	if (r < 0)
		return sm_err(err, r, "out of memory");
	for (const char *s = rel;;) {
		const char *e = strchr(s, '/');

		if (lstat(out->buf, &st) < 0) {
			if (errno != ENOENT)
				return sm_err(err, -errno, "cannot stat '%s': %s", out->buf,
					      sm_strerror(errno));
			/* nothing below a missing folder exists: no link to follow */
			r = sm_strbuf_addf(out, "/%s", s);
			return r < 0 ? sm_err(err, r, "out of memory") : 0;
		}
		if (!S_ISDIR(st.st_mode))
			return sm_err(err, -EPERM,
				      "'%s' is a symlink or not a folder: refused (a deployment "
				      "never leaves the project)",
				      out->buf);
		if (!e && checked) {
			sm_free(*checked);
			*checked = sm_strdup(out->buf); /* no memory: checked again next time */
		}
		r = e ? sm_strbuf_addf(out, "/%.*s", (int)(e - s), s) : sm_strbuf_addf(out, "/%s", s);
		if (r < 0)
			return sm_err(err, r, "out of memory");
		if (!e)
			break;
		s = e + 1;
	}
last:
	if (lstat(out->buf, &st) == 0) {
		if (S_ISLNK(st.st_mode) && !link_ok)
			return sm_err(err, -EPERM, "'%s' is a symlink: refused (not followed)",
				      out->buf);
		if (last)
			*last = st;
		if (exists)
			*exists = true;
	}
	return 0;
}

static int target_path(const char *project, const char *root, const char *rel, bool link_ok,
		       struct strbuf *out, struct strbuf *err)
{
	return target_path_at(project, root, rel, link_ok, NULL, NULL, NULL, out, err);
}

int sm_rec_target(const struct sm_tracking *t, const struct sm_toml_value *rec, struct strbuf *out,
		  struct strbuf *err)
{
	return target_path(t->project, t->root, sm_rec_path(rec), sm_rec_is_symlink(rec), out, err);
}

/* Hash of what is at a target now (a link: of what it points to). */
static int target_hash(const char *path, char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	return sm_content_hash(path, hex, err);
}

/* Split "a/b/c" into dir "a/b" and base "c" (pointers into a copy in dir). */
static int split(const char *path, struct strbuf *dir, const char **base)
{
	const char *s = strrchr(path, '/');
	int r;

	sm_strbuf_reset(dir);
	if (!s)
		return -EINVAL;
	if ((r = sm_strbuf_add(dir, path, (size_t)(s - path))) < 0)
		return r;
	*base = s + 1;
	return 0;
}

static int side_name(const char *dir, const char *base, const char *tag, struct strbuf *out)
{
	sm_strbuf_reset(out);
	return sm_strbuf_addf(out, "%s/.%s%s%ld", dir, base, tag, (long)getpid());
}

/* Put stage at target: exchange with an existing one atomically, then drop the old one. */
static int swap_in(const char *stage, const char *target, const char *dir, const char *base,
		   bool exists, struct strbuf *err)
{
	struct strbuf old = STRBUF_INIT;
	int r = 0;

	if (!exists) {
		if (rename(stage, target) < 0)
			r = sm_err(err, -errno, "cannot rename '%s' to '%s': %s", stage, target,
				   sm_strerror(errno));
		return r;
	}
	if (renameat2(AT_FDCWD, stage, AT_FDCWD, target, RENAME_EXCHANGE) == 0)
		return sm_fs_remove_tree(stage, err); /* stage now holds the old copy */
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return sm_err(err, -errno, "cannot swap '%s' into place: %s", target,
			      sm_strerror(errno));
	/* no exchange on this filesystem: move the old one aside first */
	if (side_name(dir, base, OLD_TAG, &old) < 0)
		return sm_err(err, -ENOMEM, "out of memory");
	(void)sm_fs_remove_tree(old.buf, NULL);
	if (rename(target, old.buf) < 0) {
		r = sm_err(err, -errno, "cannot move '%s' aside: %s", target, sm_strerror(errno));
	} else if (rename(stage, target) < 0) {
		r = sm_err(err, -errno, "cannot rename '%s' to '%s': %s", stage, target,
			   sm_strerror(errno));
		(void)rename(old.buf, target);
	} else {
		r = sm_fs_remove_tree(old.buf, err);
	}
	sm_strbuf_release(&old);
	return r;
}

static int fail_result(struct sm_deploy_result *ret, const char *fmt, const char *a,
		       const char *b)
{
	struct strbuf m = STRBUF_INIT;
	int r;

	ret->status = SM_DEPLOY_FAILED;
	if ((r = sm_strbuf_addf(&m, fmt, a, b)) < 0)
		return r;
	ret->error = sm_strbuf_detach(&m, NULL);
	return ret->error ? 0 : -ENOMEM;
}

/*
 * The hashes a copy computed, for both sides: the collection copy's records
 * as the copy read them, the deployed copy's as written (its top stat'ed
 * where the rename put it). A cache: a failure only costs a read later.
 */
static void note_copy(struct sm_hashcache *hc, const char *src, const char *target,
		      const char *hex, const struct strbuf *sfp, const struct strbuf *dfp,
		      int64_t taken)
{
	struct strbuf fp = STRBUF_INIT;
	struct stat st;

	(void)sm_hashcache_note_fp(hc, src, true, hex, sfp, taken);
	if (stat(target, &st) == 0 && sm_hashcache_fp_add(&fp, "", &st) == 0 &&
	    sm_strbuf_add(&fp, dfp->buf, dfp->len) == 0)
		(void)sm_hashcache_note_fp(hc, target, false, hex, &fp, taken);
	sm_strbuf_release(&fp);
}

/*
 * Copy src to stage with phash the hash over the copy (§4.1 step 5). As it
 * is written, or, when the cache knows src's hash and the copy's stats of
 * src equal its records (nothing changed since it was hashed, nor during the
 * copy), the bytes are copied in the kernel and the known hash is the copy's:
 * the same bytes. A record that differs: the copy itself is hashed.
 */
static int copy_hashed(struct sm_hashcache *hc, const char *src, const char *stage,
		       struct sm_copy_trace *tr, char phash[SM_SHA256_HEX_LEN + 1],
		       struct strbuf *err)
{
	char known[SM_SHA256_HEX_LEN + 1];
	const void *rec = NULL;
	size_t len = 0;
	int r;

	tr->no_hash = tr->src_fp && sm_hashcache_known(hc, src, true, known, &rec, &len) == 0;
	r = sm_copy_artifact_traced(src, stage, tr, err);
	if (r < 0)
		return r;
	if (!tr->no_hash) {
		memcpy(phash, tr->hex, SM_SHA256_HEX_LEN + 1);
		return 0;
	}
	if (!tr->moved && sm_hashcache_fp_same(tr->src_fp->buf, tr->src_fp->len, rec, len)) {
		memcpy(phash, known, SM_SHA256_HEX_LEN + 1);
		return 0;
	}
	return sm_content_hash(stage, phash, err);
}

static bool ask(const struct sm_deploy_opts *o, const char *name, const struct sm_profile *p,
		const char *why)
{
	struct strbuf q = STRBUF_INIT;
	bool yes = false;

	if (o->overwrite)
		return true;
	if (!o->confirm)
		return false;
	if (sm_strbuf_addf(&q, "%s %s (%s): overwrite?", name, why, p->id) == 0)
		yes = o->confirm(o->confirm_ctx, q.buf);
	sm_strbuf_release(&q);
	return yes;
}

/* Is target a symlink whose text is exactly src? */
static bool links_to(const char *target, const char *src)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(target, buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, src);
}

int sm_deploy_one(struct sm_tracking *t, const struct sm_profile *p,
		  const struct sm_deploy_src *src, const struct sm_deploy_opts *opts,
		  struct sm_deploy_result *ret, struct strbuf *err)
{
	struct strbuf rel = STRBUF_INIT, target = STRBUF_INIT, dir = STRBUF_INIT,
		      stage = STRBUF_INIT, e = STRBUF_INIT, sfp = STRBUF_INIT, dfp = STRBUF_INIT;
	struct sm_copy_trace tr = { .hex = "" };
	int64_t taken = 0;
	char chash[SM_SHA256_HEX_LEN + 1], phash[SM_SHA256_HEX_LEN + 1] = "";
	const struct sm_toml_value *rec = NULL;
	const char *base;
	struct stat st;
	bool exists, was_link, adopt = false;
	long idx;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = sm_deploy_rel_path(src->type, src->name, &rel, &e);
	if (r < 0) {
		r = fail_result(ret, "%s%s", e.buf, "");
		goto out;
	}
	ret->rel_path = sm_strdup(rel.buf);
	if (!ret->rel_path) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = target_path_at(t->project, t->root, rel.buf, true, &t->checked, &st, &exists, &target,
			   &e);
	if (r < 0) {
		r = fail_result(ret, "%s%s", e.buf, "");
		goto out;
	}
	was_link = exists && S_ISLNK(st.st_mode);
	/* nothing at the target: the copy hashes what it writes, nothing to compare first */
	if (exists || opts->symlink) {
		r = sm_hashcache_hash_st(opts->hashes, src->path, src->st, !opts->symlink, chash,
					 &e);
		if (r < 0) {
			r = fail_result(ret, "cannot read the collection copy: %s%s", e.buf, "");
			goto out;
		}
	}
	idx = sm_tracking_find(t, src->name, src->type, p->id);
	if (idx >= 0)
		rec = sm_tracking_at(t, (size_t)idx);
	if (exists && was_link && !(rec && sm_rec_is_symlink(rec))) {
		if (!opts->symlink || !links_to(target.buf, src->path)) {
			r = fail_result(ret, "'%s' is a symlink that we did not make: refused%s",
					target.buf, "");
			goto out;
		}
	}
	if (exists && (!was_link || links_to(target.buf, src->path))) {
		r = was_link ? target_hash(target.buf, phash, &e)
			     : sm_hashcache_hash_st(opts->hashes, target.buf, &st, false, phash, &e);
		if (r < 0) {
			r = fail_result(ret, "cannot read the deployed copy: %s%s", e.buf, "");
			goto out;
		}
	}
	if (rec && exists) {
		const char *b = sm_rec_hash(rec);
		bool same_mode = sm_rec_is_symlink(rec) == opts->symlink;

		if (same_mode && !strcmp(phash, b) && !strcmp(chash, b) &&
		    (!opts->symlink || links_to(target.buf, src->path))) {
			ret->status = SM_DEPLOY_UNCHANGED;
			memcpy(ret->hash, b, sizeof(ret->hash));
			r = 0;
			goto out;
		}
		if (same_mode && !opts->symlink && !was_link && !strcmp(phash, chash)) {
			/* already the collection's copy (e.g. an interrupted run): record it */
			ret->status = SM_DEPLOY_UNCHANGED;
			adopt = true;
		} else if (strcmp(phash, b) && !sm_rec_is_symlink(rec) &&
		    !ask(opts, src->name, p, "was modified in the project")) {
			r = fail_result(ret,
					"'%s' was modified in the project: not overwritten "
					"(use --overwrite)%s",
					target.buf, "");
			goto out;
		} else {
			ret->status = SM_DEPLOY_UPDATED;
		}
	} else if (exists) {
		if (!opts->symlink && !was_link && !strcmp(phash, chash)) {
			adopt = true; /* the same content: record it, copy nothing */
			ret->status = SM_DEPLOY_UNCHANGED;
		} else if (!ask(opts, src->name, p, "exists and is not tracked")) {
			r = fail_result(ret,
					"'%s' exists and was not deployed by skillmeat: not "
					"overwritten (use --overwrite)%s",
					target.buf, "");
			goto out;
		} else {
			ret->status = SM_DEPLOY_UPDATED;
		}
	} else {
		ret->status = SM_DEPLOY_DEPLOYED;
	}
	if (!adopt) {
		if ((r = split(target.buf, &dir, &base)) < 0 ||
		    (r = side_name(dir.buf, base, STAGE_TAG, &stage)) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
		/* the target's folder, unless found real above */
		if (!t->checked || strcmp(t->checked, dir.buf))
			r = sm_fs_mkdir_p(dir.buf, 0755, &e);
		if (r == 0)
			r = sm_fs_remove_tree(stage.buf, &e);
		if (r == 0) {
			if (opts->symlink) {
				if (symlink(src->path, stage.buf) < 0)
					r = sm_err(&e, -errno, "cannot link '%s': %s", stage.buf,
						   sm_strerror(errno));
				else
					memcpy(phash, chash, sizeof(phash));
			} else {
				tr.src_fp = opts->hashes ? &sfp : NULL;
				tr.dst_fp = opts->hashes ? &dfp : NULL;
				taken = sm_hashcache_clock();
				r = copy_hashed(opts->hashes, src->path, stage.buf, &tr, phash, &e);
			}
		}
		if (r == 0)
			r = swap_in(stage.buf, target.buf, dir.buf, base, exists, &e);
		if (r == 0 && !opts->symlink && opts->hashes)
			note_copy(opts->hashes, src->path, target.buf, phash, &sfp, &dfp, taken);
		if (r < 0) {
			(void)sm_fs_remove_tree(stage.buf, NULL);
			r = fail_result(ret, "%s%s", e.buf, "");
			goto out;
		}
	}
	memcpy(ret->hash, phash, sizeof(ret->hash));
	r = sm_tracking_put(t, idx,
			    sm_rec_new(src->name, src->type, src->collection, rel.buf, phash, p,
				       src->uuid, opts->symlink));
	if (r < 0)
		r = sm_err(err, r, "out of memory");
out:
	sm_strbuf_release(&rel);
	sm_strbuf_release(&target);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&stage);
	sm_strbuf_release(&e);
	sm_strbuf_release(&sfp);
	sm_strbuf_release(&dfp);
	return r;
}

int sm_undeploy_one(struct sm_tracking *t, size_t idx, bool force, struct strbuf *err)
{
	struct strbuf target = STRBUF_INIT, dir = STRBUF_INIT, old = STRBUF_INIT;
	const struct sm_toml_value *rec = sm_tracking_at(t, idx);
	char h[SM_SHA256_HEX_LEN + 1];
	const char *base;
	struct stat st;
	int r;

	r = sm_rec_target(t, rec, &target, err);
	if (r < 0)
		goto out;
	if (lstat(target.buf, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			if (unlink(target.buf) < 0) {
				r = sm_err(err, -errno, "cannot remove '%s': %s", target.buf,
					   sm_strerror(errno));
				goto out;
			}
		} else {
			if (!force) {
				r = target_hash(target.buf, h, err);
				if (r < 0)
					goto out;
				if (strcmp(h, sm_rec_hash(rec))) {
					r = sm_err(err, -EBUSY,
						   "'%s' was modified in the project: not removed "
						   "(use --force)",
						   target.buf);
					goto out;
				}
			}
			/* out of sight in one rename, then deleted */
			if (split(target.buf, &dir, &base) < 0 ||
			    side_name(dir.buf, base, OLD_TAG, &old) < 0) {
				r = sm_err(err, -ENOMEM, "out of memory");
				goto out;
			}
			(void)sm_fs_remove_tree(old.buf, NULL);
			if (rename(target.buf, old.buf) < 0) {
				r = sm_err(err, -errno, "cannot remove '%s': %s", target.buf,
					   sm_strerror(errno));
				goto out;
			}
			r = sm_fs_remove_tree(old.buf, err);
			if (r < 0)
				goto out;
		}
	}
	r = sm_tracking_remove(t, idx);
	if (r < 0)
		r = sm_err(err, r, "out of memory");
out:
	sm_strbuf_release(&target);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&old);
	return r;
}

/* ".<name>.sm-stage-<pid>" or ".sm-old-": a leftover when <pid> is gone. */
static bool leftover(const char *n)
{
	static const char *const tags[] = { STAGE_TAG, OLD_TAG, ".sm-base-", ".sm-restore-" };
	const char *pid = NULL, *s;
	char *end;
	long v;

	if (n[0] != '.')
		return false;
	for (size_t i = 0; i < SM_ARRAY_SIZE(tags) && !pid; i++)
		if ((s = strstr(n, tags[i])))
			pid = s + strlen(tags[i]);
	if (!pid)
		return false;
	v = strtol(pid, &end, 10);
	if ((*end && strcmp(end, ".old")) || v <= 0 || end == pid)
		return false;
	return v == (long)getpid() || (kill((pid_t)v, 0) < 0 && errno == ESRCH);
}

void sm_deploy_cleanup_dir(const char *dir)
{
	struct strbuf q = STRBUF_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!leftover(de->d_name))
			continue;
		sm_strbuf_reset(&q);
		if (sm_strbuf_addf(&q, "%s/%s", dir, de->d_name) == 0)
			(void)sm_fs_remove_tree(q.buf, NULL);
	}
	closedir(d);
	sm_strbuf_release(&q);
}

void sm_deploy_cleanup(const struct sm_tracking *t)
{
	static const char *const containers[] = { "skills", "commands", "agents", "hooks", "mcp" };
	struct strbuf p = STRBUF_INIT;

	for (size_t i = 0; i < SM_ARRAY_SIZE(containers); i++) {
		struct stat st;

		sm_strbuf_reset(&p);
		if (sm_strbuf_addf(&p, "%s/%s/%s", t->project, t->root, containers[i]) < 0)
			break;
		if (lstat(p.buf, &st) == 0 && S_ISDIR(st.st_mode))
			sm_deploy_cleanup_dir(p.buf);
	}
	sm_strbuf_release(&p);
}

/* ---- status ---- */

const char *sm_dep_state_name(enum sm_dep_state s)
{
	static const char *const names[] = { "synced",	"modified", "outdated", "conflict",
					     "missing", "removed",  "error" };

	return (size_t)s < SM_ARRAY_SIZE(names) ? names[s] : "error";
}

void sm_dep_status_list_release(struct sm_dep_status_list *l)
{
	for (size_t i = 0; l && i < l->len; i++) {
		struct sm_dep_status *s = &l->items[i];

		sm_free(s->name);
		sm_free(s->collection);
		sm_free(s->profile_id);
		sm_free(s->root);
		sm_free(s->rel_path);
		sm_free(s->deployed_at);
		sm_free(s->error);
	}
	if (l) {
		sm_free(l->items);
		l->items = NULL;
		l->len = 0;
	}
}

/* Collections opened once per status run. */
struct coll_cache {
	struct sm_collection **v;
	size_t n;
};

static struct sm_collection *coll_get(struct coll_cache *cc, struct sm_home *home,
				      const char *name)
{
	struct sm_collection *c = NULL, **nv;

	for (size_t i = 0; i < cc->n; i++)
		if (cc->v[i] && !strcmp(cc->v[i]->name, name))
			return cc->v[i];
	if (sm_collection_name_check(name, NULL) < 0 || !sm_collection_exists(home, name))
		return NULL;
	if (sm_collection_open(home, name, &c, NULL) < 0)
		return NULL;
	nv = sm_reallocarray(cc->v, cc->n + 1, sizeof(*nv));
	if (!nv) {
		sm_collection_free(c);
		return NULL;
	}
	cc->v = nv;
	cc->v[cc->n++] = c;
	return c;
}

static int dup_into(char **dst, const char *s)
{
	*dst = sm_strdup(s ? s : "");
	return *dst ? 0 : -ENOMEM;
}

/* The state of a deployment whose both sides are hashed (or the collection's gone). */
static void decide(struct sm_dep_status *s)
{
	if (!s->collection_hash[0]) {
		s->state = SM_DEP_REMOVED;
	} else {
		bool pm = strcmp(s->project_hash, s->baseline) != 0,
		     cm = strcmp(s->collection_hash, s->baseline) != 0;

		if (s->symlink)
			pm = false; /* a link shows the collection copy itself */
		s->state = pm && cm ? SM_DEP_CONFLICT
			   : pm	    ? SM_DEP_MODIFIED
			   : cm	    ? SM_DEP_OUTDATED
				    : SM_DEP_SYNCED;
	}
}

void sm_dep_status_set_collection_hash(struct sm_dep_status *s, const char *hash)
{
	snprintf(s->collection_hash, sizeof(s->collection_hash), "%s", hash ? hash : "");
	if (s->state != SM_DEP_MISSING && s->state != SM_DEP_ERROR)
		decide(s);
}

static int status_of(struct sm_home *home, struct coll_cache *cc, struct sm_hashcache *hc,
		     const struct sm_tracking *t, const struct sm_toml_value *rec, char **checked,
		     struct sm_dep_status *s)
{
	struct strbuf target = STRBUF_INIT, e = STRBUF_INIT, src = STRBUF_INIT;
	const char *b = sm_rec_hash(rec);
	struct sm_collection *c;
	struct stat st;
	bool exists;
	int r;

	memset(s, 0, sizeof(*s));
	s->type = sm_rec_type(rec);
	s->symlink = sm_rec_is_symlink(rec);
	snprintf(s->baseline, sizeof(s->baseline), "%s", b);
	r = dup_into(&s->name, sm_rec_name(rec));
	r = r ?: dup_into(&s->collection, sm_rec_collection(rec));
	r = r ?: dup_into(&s->profile_id, sm_rec_profile(rec));
	r = r ?: dup_into(&s->root, t->root);
	r = r ?: dup_into(&s->rel_path, sm_rec_path(rec));
	r = r ?: dup_into(&s->deployed_at, sm_rec_deployed_at(rec));
	if (r < 0)
		goto out;
	/* the collection side; a team server's (deploy --from-team) is not asked: the baseline */
	if (!strncmp(s->collection, SM_DEPLOY_TEAM_PREFIX, strlen(SM_DEPLOY_TEAM_PREFIX)))
		snprintf(s->collection_hash, sizeof(s->collection_hash), "%s", b);
	c = s->collection_hash[0] ? NULL : coll_get(cc, home, s->collection);
	if (c) {
		long i = sm_manifest_find(c->manifest, s->type, s->name);

		if (i >= 0) {
			/* a path leading outside the collection is not read: no hash */
			r = sm_collection_entry_path(c, sm_manifest_at(c->manifest, (size_t)i), &src,
						     NULL);
			if (r == -ENOMEM)
				goto out;
			if (r < 0 || sm_hashcache_hash(hc, src.buf, true, s->collection_hash, NULL) < 0)
				s->collection_hash[0] = '\0';
			r = 0;
		}
	}
	/* the project side */
	if (target_path_at(t->project, t->root, sm_rec_path(rec), sm_rec_is_symlink(rec), checked,
			   &st, &exists, &target, &e) < 0) {
		s->state = SM_DEP_ERROR;
		r = dup_into(&s->error, e.buf);
		goto out;
	}
	if (!exists) {
		s->state = SM_DEP_MISSING;
		goto out;
	}
	if ((s->symlink ? target_hash(target.buf, s->project_hash, &e)
			: sm_hashcache_hash_st(hc, target.buf, &st, false, s->project_hash, &e)) < 0) {
		s->state = SM_DEP_ERROR;
		r = dup_into(&s->error, e.buf);
		goto out;
	}
	decide(s);
out:
	sm_strbuf_release(&target);
	sm_strbuf_release(&e);
	sm_strbuf_release(&src);
	return r;
}

int sm_deploy_status(struct sm_home *home, const char *project, const char *profile,
		     struct sm_dep_status_list *ret, struct strbuf *err)
{
	struct coll_cache cc = { 0 };
	struct sm_dep_status_list l = { 0 };
	struct sm_hashcache *hc = NULL;
	struct sm_profile p;
	char **roots = NULL;
	size_t nroots = 0, alloc = 0;
	int r;

	if (profile) {
		r = sm_profile_get(profile, &p, err);
		if (r < 0)
			return r;
	}
	r = sm_tracking_roots(project, &roots, &nroots, err);
	if (r < 0)
		return r;
	if (sm_hashcache_open(home, &hc, NULL) < 0)
		hc = NULL;
	for (size_t k = 0; k < nroots && r == 0; k++) {
		struct sm_tracking *t = NULL;
		char *checked = NULL; /* the folder of the last target, found real */

		if (profile && strcmp(roots[k], p.root))
			continue;
		r = sm_tracking_load(project, roots[k], &t, err);
		for (size_t i = 0; r == 0 && i < sm_tracking_count(t); i++) {
			const struct sm_toml_value *rec = sm_tracking_at(t, i);

			if (profile && strcmp(sm_rec_profile(rec), profile))
				continue;
			if (l.len == alloc) {
				size_t na = alloc ? alloc * 2 : 64;
				struct sm_dep_status *nv =
					sm_reallocarray(l.items, na, sizeof(*nv));

				if (!nv) {
					r = sm_err(err, -ENOMEM, "out of memory");
					break;
				}
				l.items = nv;
				alloc = na;
			}
			r = status_of(home, &cc, hc, t, rec, &checked, &l.items[l.len]);
			l.len++;
			if (r < 0)
				r = sm_err(err, r, "out of memory");
		}
		sm_tracking_free(t);
		sm_free(checked);
	}
	for (size_t i = 0; i < cc.n; i++)
		sm_collection_free(cc.v[i]);
	sm_free(cc.v);
	sm_strv_free(roots, nroots);
	(void)sm_hashcache_save(hc, NULL); /* a cache: a read-only home just recomputes */
	sm_hashcache_free(hc);
	if (r < 0) {
		sm_dep_status_list_release(&l);
		return r;
	}
	*ret = l;
	return 0;
}
