/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/copy.h"
#include "core/txn.h"
#include "skillmeat/array.h"
#include "skillmeat/collection.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/source.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "skillmeat/user_collections.h"
#include "skillmeat/test_hooks.h"
#include "util/banned.h"

static const char empty_lock[] = "[lock]\nversion = \"1.0.0\"\n\n[lock.entries]\n";

static int coll_file(const struct sm_home *h, const char *name, const char *file,
		     struct strbuf *out)
{
	int r = sm_home_collection_dir(h, name, out);

	if (r == 0 && file)
		r = sm_strbuf_addf(out, "/%s", file);
	return r;
}

bool sm_collection_exists(const struct sm_home *h, const char *name)
{
	struct strbuf p = STRBUF_INIT;
	bool ok = sm_collection_name_check(name, NULL) == 0 &&
		  coll_file(h, name, "collection.toml", &p) == 0 && sm_fs_is_file(p.buf);

	sm_strbuf_release(&p);
	return ok;
}

int sm_collection_init(struct sm_home *h, const char *name, bool *created, struct strbuf *err)
{
	static const char *const subdirs[] = { "skills", "commands", "agents", "workflows" };
	struct strbuf dir = STRBUF_INIT, p = STRBUF_INIT;
	struct sm_manifest *m = NULL;
	int r;

	*created = false;
	r = sm_collection_name_check(name, err);
	if (r < 0)
		return r;
	r = sm_home_lock(h, err);
	if (r < 0)
		return r;
	r = coll_file(h, name, NULL, &dir);
	if (r < 0)
		goto out;
	if (sm_fs_exists(dir.buf))
		goto out; /* the original: an existing folder is left alone */
	for (size_t i = 0; i < SM_ARRAY_SIZE(subdirs); i++) {
		sm_strbuf_reset(&p);
		if ((r = sm_strbuf_addf(&p, "%s/%s", dir.buf, subdirs[i])) < 0 ||
		    (r = sm_fs_mkdir_p(p.buf, 0755, err)) < 0)
			goto out;
	}
	sm_strbuf_reset(&p);
	if ((r = sm_strbuf_addf(&p, "%s/collection.toml", dir.buf)) < 0 ||
	    (r = sm_manifest_new(p.buf, name, &m, err)) < 0 ||
	    (r = sm_manifest_save(m, SM_WRITE_KEEP_STAMP, err)) < 0)
		goto out;
	sm_strbuf_reset(&p);
	if ((r = sm_strbuf_addf(&p, "%s/collection.lock", dir.buf)) < 0 ||
	    (r = sm_fs_write_atomic(p.buf, empty_lock, sizeof(empty_lock) - 1, 0644, err)) < 0)
		goto out;
	if (!strcmp(name, "default") &&
	    strcmp(sm_config_string(h, "settings.default-collection", ""), "default")) {
		r = sm_config_set(h, "settings.default-collection", "default", err);
		if (r < 0)
			goto out;
	}
	*created = true;
out:
	sm_home_unlock(h);
	sm_manifest_free(m);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&p);
	return r;
}

struct names_ctx {
	const struct sm_home *home;
	struct sm_strvec names;
};

static int add_name(const struct sm_fs_dirent *e, void *ctx)
{
	struct names_ctx *c = ctx;

	if (e->name[0] == '.' || !sm_collection_exists(c->home, e->name))
		return 0;
	return sm_strvec_push(&c->names, e->name);
}

int sm_collection_names(const struct sm_home *h, char ***ret, size_t *count, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	struct names_ctx c = {.home = h, .names = SM_STRVEC_INIT};
	int r;

	r = sm_fs_join(&dir, h->root, "collections");
	if (r < 0)
		return r;
	r = sm_fs_visit_dir(dir.buf, SM_FS_VISIT_SORTED, add_name, &c);
	if (r == -ENOENT)
		r = 0;
	else if (r < 0)
		r = sm_err(err, r, "cannot read '%s': %s", dir.buf, sm_strerror(r));
	sm_strbuf_release(&dir);
	if (r < 0) {
		sm_strvec_release(&c.names);
		return r;
	}
	*ret = sm_strvec_detach(&c.names, count);
	return 0;
}

int sm_collection_delete(struct sm_home *h, const char *name, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, old = STRBUF_INIT;
	int r;

	r = sm_collection_name_check(name, err);
	if (r < 0)
		return r;
	if (!sm_collection_exists(h, name))
		return sm_err(err, -ENOENT, "collection '%s' does not exist", name);
	if (!strcmp(sm_home_active_collection(h), name))
		return sm_err(err, -EBUSY,
			      "collection '%s' is the active collection; 'collection use' another first",
			      name);
	r = sm_home_lock(h, err);
	if (r < 0)
		return r;
	r = coll_file(h, name, NULL, &dir);
	/* set aside in one rename, so a crash never leaves half a collection */
	if (r == 0 && (r = sm_home_collection_dir(h, "", &old)) == 0 &&
	    (r = sm_strbuf_addf(&old, ".%s.sm-old-%ld", name, (long)getpid())) == 0 &&
	    (r = sm_fs_remove_tree_force(old.buf, err)) == 0) {
		/*
		 * the rename is the commit: a tree that cannot be deleted now is a
		 * leftover the next write removes (sm_home_lock)
		 */
		if (rename(dir.buf, old.buf) < 0)
			r = sm_err(err, -errno, "cannot remove '%s': %s", dir.buf,
				   sm_strerror(errno));
		else if (SM_TEST_POINT("delete-collection-moved") == 0)
			(void)sm_fs_remove_tree_force(old.buf, NULL);
	}
	sm_home_unlock(h);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&old);
	return r;
}

/* Load from a staged next version, saved later to the real path. */
static int load_manifest_as(const char *from, const char *path, struct sm_manifest **ret,
			    struct strbuf *err)
{
	char *p = sm_strdup(path);
	int r = p ? sm_manifest_load(from, ret, err) : -ENOMEM;

	if (r < 0) {
		sm_free(p);
		return r;
	}
	sm_free((*ret)->path);
	(*ret)->path = p;
	return 0;
}

static int load_lock_as(const char *from, const char *path, struct sm_lock **ret,
			struct strbuf *err)
{
	char *p = sm_strdup(path);
	int r = p ? sm_lock_load(from, ret, err) : -ENOMEM;

	if (r < 0) {
		sm_free(p);
		return r;
	}
	sm_free((*ret)->path);
	(*ret)->path = p;
	return 0;
}

int sm_collection_open(struct sm_home *h, const char *name, struct sm_collection **ret,
		       struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	struct sm_collection *c;
	char *next_m = NULL, *next_l = NULL;
	bool have_next = false;
	int r;

	if (!name)
		name = sm_home_active_collection(h);
	r = sm_collection_name_check(name, err);
	if (r < 0)
		return r;
	c = sm_calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->home = h;
	r = -ENOMEM;
	if (!(c->name = sm_strdup(name)) || coll_file(h, name, NULL, &p) < 0)
		goto fail;
	c->dir = sm_strbuf_detach(&p, NULL);
	if (!c->dir || coll_file(h, name, "collection.toml", &p) < 0)
		goto fail;
	if (h->lock_depth > 0 && sm_fs_is_dir(c->dir)) {
		/* a write: finish or undo an interrupted one first */
		r = sm_txn_recover(c->dir, err);
		if (r < 0)
			goto fail;
	} else if (sm_txn_committed(c->dir, &next_m, &next_l)) {
		/* a read during (or after the crash of) a committed write: its new state */
		have_next = true;
	}
	r = have_next && next_m ? load_manifest_as(next_m, p.buf, &c->manifest, err)
				: sm_manifest_load(p.buf, &c->manifest, err);
	if (r == -ENOENT) {
		r = sm_err(err, -ENOENT, "collection '%s' does not exist", name);
		goto fail;
	}
	if (r < 0)
		goto fail;
	sm_strbuf_reset(&p);
	r = coll_file(h, name, "collection.lock", &p);
	if (r < 0)
		goto fail;
	r = have_next && next_l ? load_lock_as(next_l, p.buf, &c->lock, err)
				: sm_lock_load(p.buf, &c->lock, err);
	if (r < 0)
		goto fail;
	r = sm_txn_new(&c->txn);
	if (r < 0)
		goto fail;
	sm_strbuf_release(&p);
	sm_free(next_m);
	sm_free(next_l);
	*ret = c;
	return 0;
fail:
	sm_strbuf_release(&p);
	sm_free(next_m);
	sm_free(next_l);
	sm_collection_free(c);
	return r;
}

void sm_collection_free(struct sm_collection *c)
{
	if (!c)
		return;
	/* copies staged by a write that was never committed */
	sm_txn_abort(c->dir, c->txn);
	sm_manifest_free(c->manifest);
	sm_lock_free(c->lock);
	sm_free(c->name);
	sm_free(c->dir);
	sm_free(c);
}

int sm_collection_commit(struct sm_collection *c, struct strbuf *err)
{
	return sm_collection_commit_with(c, NULL, err);
}

int sm_collection_commit_with(struct sm_collection *c, struct sm_user_collections *uc,
			      struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int fd, r;

	if (!c->dirty)
		return uc ? sm_user_collections_save(uc, err) : 0;
	if (uc && (r = sm_toml_encode(uc->doc, &text, err)) < 0)
		goto out;
	/* one flush of everything copied so far, instead of an fsync per file */
	fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)syncfs(fd);
		close(fd);
	}
	r = sm_txn_commit(c->dir, c->txn, c->manifest, c->lock, uc ? &text : NULL, err);
	if (r < 0)
		goto out;
	c->dirty = false;
	if (uc)
		uc->exists = true;
out:
	sm_strbuf_release(&text);
	return r;
}

/* ---- type detection and names ---- */

static bool name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

static const char *const skill_dirs[] = { "skills", "skill", "claude-skills", NULL };
static const char *const command_dirs[] = { "commands", "command", "claude-commands", NULL };
static const char *const agent_dirs[] = { "agents", "agent", "subagents", "claude-agents", NULL };

static bool dir_has(const char *dir, const char *file)
{
	struct strbuf p = STRBUF_INIT;
	bool r = sm_fs_join(&p, dir, file) == 0 && sm_fs_is_file(p.buf);

	sm_strbuf_release(&p);
	return r;
}

/* Last path component (without trailing slashes) into out. */
static int base_name(const char *path, struct strbuf *out)
{
	size_t n = strlen(path);
	const char *s;

	while (n > 1 && path[n - 1] == '/')
		n--;
	s = path + n;
	while (s > path && s[-1] != '/')
		s--;
	sm_strbuf_reset(out);
	return sm_strbuf_add(out, s, (size_t)(path + n - s));
}

/* Name of the folder holding path (its parent's base name). */
static int parent_name(const char *path, struct strbuf *out)
{
	struct strbuf tmp = STRBUF_INIT;
	size_t n = strlen(path);
	int r;

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	r = sm_strbuf_add(&tmp, path, n);
	if (r == 0)
		r = base_name(tmp.buf, out);
	sm_strbuf_release(&tmp);
	return r;
}

enum sm_artifact_type sm_detect_type(const char *path)
{
	struct strbuf parent = STRBUF_INIT;
	enum sm_artifact_type t = SM_TYPE_INVALID;

	if (sm_fs_is_dir(path)) {
		if (dir_has(path, "SKILL.md") || dir_has(path, "skill.md"))
			t = SM_TYPE_SKILL;
		else if (dir_has(path, "COMMAND.md") || dir_has(path, "command.md"))
			t = SM_TYPE_COMMAND;
		else if (dir_has(path, "AGENT.md") || dir_has(path, "agent.md"))
			t = SM_TYPE_AGENT;
		else if (dir_has(path, "WORKFLOW.yaml") || dir_has(path, "WORKFLOW.json") ||
			 dir_has(path, "workflow.yaml") || dir_has(path, "workflow.json"))
			t = SM_TYPE_WORKFLOW;
		else if (dir_has(path, "settings.json"))
			t = SM_TYPE_HOOK;
		else if (dir_has(path, ".mcp.json") || dir_has(path, "mcp.json"))
			t = SM_TYPE_MCP;
		return t;
	}
	if (parent_name(path, &parent) == 0) {
		if (name_in(parent.buf, command_dirs))
			t = SM_TYPE_COMMAND;
		else if (name_in(parent.buf, agent_dirs))
			t = SM_TYPE_AGENT;
	}
	sm_strbuf_release(&parent);
	return t;
}

/* Python's Path(path).stem of the last component. */
static int path_stem(const char *path, struct strbuf *out)
{
	int r = base_name(path, out);
	char *dot;

	if (r < 0)
		return r;
	dot = strrchr(out->buf, '.');
	if (dot && dot != out->buf)
		sm_strbuf_setlen(out, (size_t)(dot - out->buf));
	return 0;
}

static bool has_md_suffix(const char *s)
{
	size_t n = strlen(s);

	return n > 3 && !strcasecmp(s + n - 3, ".md");
}

/* Is the file blank (only whitespace)? Reads at most 64 KiB. */
static bool file_blank(const char *path)
{
	bool blank = true;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return true;
	while (blank && (n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r') {
				blank = false;
				break;
			}
	close(fd);
	return blank;
}

/* §2.8 validation of a source before it is copied. */
static int validate_source(const char *src, enum sm_artifact_type type, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	bool isdir = sm_fs_is_dir(src);
	int r = 0;

	switch (type) {
	case SM_TYPE_SKILL:
		if (!isdir)
			return sm_err(err, -EINVAL, "'%s': a skill must be a folder holding SKILL.md",
				      src);
		if ((r = sm_fs_join(&p, src, "SKILL.md")) < 0 ||
		    (!sm_fs_is_file(p.buf) &&
		     (sm_strbuf_reset(&p), (r = sm_fs_join(&p, src, "skill.md")) < 0)))
			r = sm_err(err, r, "'%s': %s", src, sm_strerror(r));
		else if (!sm_fs_is_file(p.buf))
			r = sm_err(err, -EINVAL, "'%s': a skill must be a folder holding SKILL.md",
				   src);
		else if (file_blank(p.buf))
			r = sm_err(err, -EINVAL, "'%s' is empty", p.buf);
		break;
	case SM_TYPE_COMMAND:
	case SM_TYPE_AGENT:
		if (isdir) {
			if (sm_detect_type(src) != type)
				r = sm_err(err, -EINVAL, "'%s': %s %s must be a .md file", src,
					   sm_artifact_type_article(type), sm_artifact_type_name(type));
		} else if (!has_md_suffix(src)) {
			r = sm_err(err, -EINVAL, "'%s': %s %s must be a .md file", src,
				   sm_artifact_type_article(type), sm_artifact_type_name(type));
		} else if (file_blank(src)) {
			r = sm_err(err, -EINVAL, "'%s' is empty", src);
		}
		break;
	case SM_TYPE_WORKFLOW:
	case SM_TYPE_COMPOSITE:
		if (!isdir)
			r = sm_err(err, -EINVAL, "'%s': %s %s must be a folder", src,
				   sm_artifact_type_article(type), sm_artifact_type_name(type));
		break;
	default:
		r = sm_err(err, -EINVAL, "adding %s %s is not supported (skill, command, agent, "
					 "workflow, composite)",
			   sm_artifact_type_article(type), sm_artifact_type_name(type));
	}
	sm_strbuf_release(&p);
	return r;
}

/* ---- add ---- */

void sm_add_result_release(struct sm_add_result *r)
{
	if (!r)
		return;
	sm_free(r->name);
	sm_free(r->path);
	sm_free(r->warning);
	memset(r, 0, sizeof(*r));
}

/* Provenance for a new entry; all NULL for a local add. */
struct provenance {
	const char *origin;
	const char *upstream;
	const char *version_spec;
	const char *resolved_sha;
	const char *resolved_version;
};

static int push_unique(struct sm_toml_value *arr, const char *s)
{
	struct sm_toml_value *v;

	for (size_t i = 0; i < sm_toml_len(arr); i++) {
		v = sm_toml_at(arr, i);
		if (v->type == SM_TOML_STRING && !strcmp(sm_toml_str(v), s))
			return 0;
	}
	v = sm_toml_new_string(s);
	return v ? sm_toml_push(arr, v) : -ENOMEM;
}

/*
 * The [[artifacts]] entry in the original's key order (§1.4): name, type,
 * path, origin, added, metadata, upstream, version_spec, resolved_sha,
 * resolved_version, tags, uuid.
 */
static int build_entry(const char *name, enum sm_artifact_type type, const char *rel,
		       const struct provenance *pv, struct sm_metadata *meta,
		       const struct sm_add_opts *opts, const char *uuid, const char *added,
		       struct sm_toml_value **ret)
{
	struct sm_toml_value *e = sm_toml_new_table(), *tags = sm_toml_new_array();
	char now[SM_ISO_MAX];
	int r = -ENOMEM;

	if (!e || !tags)
		goto fail;
	if (!added) {
		if ((r = sm_time_now_iso(now)) < 0)
			goto fail;
		added = now;
	}
	if ((r = sm_toml_set_string(e, "name", name)) < 0 ||
	    (r = sm_toml_set_string(e, "type", sm_artifact_type_name(type))) < 0 ||
	    (r = sm_toml_set_string(e, "path", rel)) < 0 ||
	    (r = sm_toml_set_string(e, "origin", pv->origin)) < 0 ||
	    (r = sm_toml_set_string(e, "added", added)) < 0)
		goto fail;
	if (meta->table && sm_toml_len(meta->table)) {
		r = sm_toml_set(e, "metadata", meta->table);
		meta->table = NULL;
		if (r < 0)
			goto fail;
	}
	if ((pv->upstream && (r = sm_toml_set_string(e, "upstream", pv->upstream)) < 0) ||
	    (pv->version_spec && (r = sm_toml_set_string(e, "version_spec", pv->version_spec)) < 0) ||
	    (pv->resolved_sha && (r = sm_toml_set_string(e, "resolved_sha", pv->resolved_sha)) < 0) ||
	    (pv->resolved_version &&
	     (r = sm_toml_set_string(e, "resolved_version", pv->resolved_version)) < 0))
		goto fail;
	for (size_t i = 0; i < opts->ntags; i++)
		if ((r = push_unique(tags, opts->tags[i])) < 0)
			goto fail;
	for (size_t i = 0; meta->tags && i < sm_toml_len(meta->tags); i++) {
		const struct sm_toml_value *t = sm_toml_at(meta->tags, i);

		if (t->type == SM_TOML_STRING && (r = push_unique(tags, sm_toml_str(t))) < 0)
			goto fail;
	}
	if (sm_toml_len(tags)) {
		r = sm_toml_set(e, "tags", tags);
		tags = NULL;
		if (r < 0)
			goto fail;
	}
	if (uuid && (r = sm_toml_set_string(e, "uuid", uuid)) < 0)
		goto fail;
	sm_toml_free(tags);
	*ret = e;
	return 0;
fail:
	sm_toml_free(tags);
	sm_toml_free(e);
	return r < 0 ? r : -ENOMEM;
}

/* "<type dir>/.<name>.<tag>-<pid>": staging beside the destination, relative. */
static int side_rel(enum sm_artifact_type type, const char *name, const char *tag,
		    struct strbuf *out)
{
	sm_strbuf_reset(out);
	return sm_strbuf_addf(out, "%s/.%s.%s-%ld", sm_artifact_type_dir(type), name, tag,
			      (long)getpid());
}

/*
 * A staged name of this write not yet taken: ".<name>.sm-new-<pid>", then
 * ".<name>.sm-new-<pid>-2", … when an earlier step staged that artifact
 * already (its copy stays until this one is staged: a failure keeps it).
 */
static int staged_name(const struct sm_collection *c, enum sm_artifact_type type,
		       const char *name, struct strbuf *out)
{
	int r = side_rel(type, name, "sm-new", out);

	for (unsigned i = 2; r == 0 && sm_txn_is_staged(c->txn, out->buf); i++)
		r = side_rel(type, name, "sm-new", out) ?: sm_strbuf_addf(out, "-%u", i);
	return r;
}

/* The lock entry of an unchanged artifact, written again when it went missing. */
static int repair_lock(struct sm_collection *c, const struct sm_toml_value *e, const char *name,
		       enum sm_artifact_type type, const char *hash)
{
	int r;

	if (sm_lock_hash(c->lock, name, type))
		return 0;
	r = sm_lock_set(c->lock, name, type, hash, sm_entry_str(e, "upstream"),
			sm_entry_str(e, "resolved_sha"), sm_entry_str(e, "resolved_version"));
	if (r == 0)
		c->dirty = true;
	return r;
}

static int add_common(struct sm_collection *c, const char *src, const struct sm_add_opts *opts,
		      const struct provenance *pv, struct sm_add_result *ret, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT, rel = STRBUF_INIT, staged = STRBUF_INIT,
		      dest = STRBUF_INIT, old = STRBUF_INIT, dir = STRBUF_INIT,
		      staged_rel = STRBUF_INIT, old_rel = STRBUF_INIT, cur = STRBUF_INIT;
	const char *in;
	struct sm_metadata meta = { 0 };
	struct sm_toml_value *entry = NULL;
	enum sm_artifact_type type = opts->type;
	char hash[SM_SHA256_HEX_LEN + 1], oldhash[SM_SHA256_HEX_LEN + 1];
	const char *uuid = NULL, *added = NULL;
	bool isfile, have_staged = false, dest_same_path = false;
	long idx;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!sm_fs_exists(src))
		return sm_err(err, -ENOENT, "'%s' does not exist", src);
	if (type == SM_TYPE_INVALID) {
		type = sm_detect_type(src);
		if (type == SM_TYPE_INVALID)
			return sm_err(err, -EINVAL,
				      "cannot tell the type of '%s': give it (skill, command or agent)",
				      src);
	}
	r = validate_source(src, type, err);
	if (r < 0)
		return r;
	isfile = !sm_fs_is_dir(src);
	r = opts->name ? sm_strbuf_addstr(&name, opts->name) : path_stem(src, &name);
	if (r < 0)
		goto out;
	r = sm_artifact_name_check(name.buf, err);
	if (r < 0)
		goto out;
	if ((r = sm_strbuf_addf(&rel, "%s/%s%s", sm_artifact_type_dir(type), name.buf,
				isfile ? ".md" : "")) < 0 ||
	    (r = sm_strbuf_addf(&dest, "%s/%s", c->dir, rel.buf)) < 0)
		goto out;

	idx = sm_manifest_find(c->manifest, type, name.buf);
	if (idx >= 0) {
		const struct sm_toml_value *e = sm_manifest_at(c->manifest, (size_t)idx);
		const char *epath = sm_entry_str(e, "path");

		/*
		 * the copy this write will hold at rel: one staged by an earlier
		 * step of the same operation, else the committed one
		 */
		in = sm_txn_incoming(c->txn, rel.buf);
		if (in && (r = sm_strbuf_addf(&cur, "%s/%s", c->dir, in)) < 0)
			goto out;
		if (!in && !sm_txn_outgoing(c->txn, rel.buf) &&
		    (r = sm_strbuf_addstr(&cur, dest.buf)) < 0)
			goto out;
		dest_same_path = epath && !strcmp(epath, rel.buf) && cur.len &&
				 sm_fs_exists(cur.buf);
		/* unchanged: what a copy would hold equals the collection copy */
		if (dest_same_path) {
			r = sm_copy_hash(src, hash, err);
			if (r < 0 && r != -ENOTSUP)
				goto out;
			if (r == 0 && sm_content_hash(cur.buf, oldhash, NULL) == 0 &&
			    !strcmp(oldhash, hash)) {
				ret->status = SM_ADD_UNCHANGED;
				r = repair_lock(c, e, name.buf, type, hash);
				if (r < 0)
					goto out;
				goto fill;
			}
			r = 0;
		}
		if (!opts->force) {
			r = sm_err(err, -EEXIST,
				   "%s '%s' already exists in collection '%s' (use --force to replace it)",
				   sm_artifact_type_name(type), name.buf, c->name);
			goto out;
		}
		uuid = sm_entry_str(e, "uuid");
		ret->status = SM_ADD_REPLACED;
	} else {
		ret->status = SM_ADD_ADDED;
	}

	/* stage the copy beside its destination: no temporary folder to create and delete */
	if ((r = sm_strbuf_addf(&dir, "%s/%s", c->dir, sm_artifact_type_dir(type))) < 0 ||
	    (r = sm_fs_mkdir_p(dir.buf, 0755, err)) < 0 ||
	    (r = staged_name(c, type, name.buf, &staged_rel)) < 0 ||
	    (r = sm_strbuf_addf(&staged, "%s/%s", c->dir, staged_rel.buf)) < 0 ||
	    (r = sm_fs_remove_tree(staged.buf, err)) < 0)
		goto out;
	have_staged = true;
	r = sm_copy_artifact(src, staged.buf, err);
	if (r < 0)
		goto out;
	r = sm_content_hash(staged.buf, hash, err);
	if (r < 0)
		goto out;

	/* from the source, so a warning names the user's file */
	r = sm_metadata_extract(src, type, &meta, err);
	if (r < 0)
		goto out;
	r = build_entry(name.buf, type, rel.buf, pv, &meta, opts, uuid, added, &entry);
	if (r < 0)
		goto out;

	/*
	 * The moves happen at commit, with the manifest and the lock: an existing
	 * destination is set aside, the staged copy moved into place, the old one
	 * deleted after the commit.
	 */
	r = sm_txn_staged(c->txn, staged_rel.buf);
	if (r < 0)
		goto out;
	have_staged = false;
	/* a copy an earlier step staged for rel is replaced by this one */
	sm_txn_drop_incoming(c->dir, c->txn, rel.buf);
	if (access(dest.buf, F_OK) == 0 && !sm_txn_outgoing(c->txn, rel.buf)) {
		if ((r = side_rel(type, name.buf, "sm-old", &old_rel)) < 0 ||
		    (r = sm_strbuf_addf(&old, "%s/%s", c->dir, old_rel.buf)) < 0 ||
		    (r = sm_fs_remove_tree_force(old.buf, err)) < 0 ||
		    (r = sm_txn_move(c->txn, rel.buf, old_rel.buf)) < 0 ||
		    (r = sm_txn_trash(c->txn, old_rel.buf)) < 0)
			goto out;
	}
	r = sm_txn_move(c->txn, staged_rel.buf, rel.buf);
	if (r < 0)
		goto out;
	if (idx >= 0)
		r = sm_manifest_replace(c->manifest, (size_t)idx, entry);
	else
		r = sm_manifest_append(c->manifest, entry, err);
	entry = NULL;
	if (r < 0)
		goto out;
	r = sm_lock_set(c->lock, name.buf, type, hash, pv->upstream, pv->resolved_sha,
			pv->resolved_version);
	if (r < 0)
		goto out;
	c->dirty = true;
fill:
	ret->type = type;
	memcpy(ret->hash, hash, sizeof(hash));
	ret->name = sm_strbuf_detach(&name, NULL);
	ret->path = sm_strbuf_detach(&rel, NULL);
	ret->warning = meta.warning;
	meta.warning = NULL;
	if (!ret->name || !ret->path)
		r = -ENOMEM;
out:
	if (have_staged)
		(void)sm_fs_remove_tree(staged.buf, NULL);
	if (r < 0)
		sm_add_result_release(ret);
	sm_toml_free(entry);
	sm_metadata_release(&meta);
	sm_strbuf_release(&name);
	sm_strbuf_release(&rel);
	sm_strbuf_release(&staged);
	sm_strbuf_release(&dest);
	sm_strbuf_release(&old);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&staged_rel);
	sm_strbuf_release(&old_rel);
	sm_strbuf_release(&cur);
	return r;
}

int sm_collection_add_local(struct sm_collection *c, const char *src,
			    const struct sm_add_opts *opts, struct sm_add_result *ret,
			    struct strbuf *err)
{
	static const struct provenance local = { .origin = "local" };

	return add_common(c, src, opts, &local, ret, err);
}

int sm_collection_add_github(struct sm_collection *c, const char *spec,
			     const struct sm_add_opts *opts, struct sm_add_result *ret,
			     struct strbuf *err)
{
	struct sm_github_spec gs = { 0 };
	struct sm_git_fetch f = { 0 };
	struct sm_add_opts o = *opts;
	struct strbuf name = STRBUF_INIT;
	const char *token;
	int r;

	r = sm_github_spec_parse(spec, &gs, err);
	if (r < 0)
		return r;
	if (!o.name) {
		/* §3.1: the stem of the last path segment, or the repository name */
		r = path_stem(*gs.path ? gs.path : gs.repo, &name);
		if (r < 0)
			goto out;
		o.name = name.buf;
	}
	token = sm_config_string(c->home, "settings.github-token", NULL);
	if (!token)
		token = getenv("SKILLMEAT_GITHUB_TOKEN");
	if (!token)
		token = getenv("GITHUB_TOKEN");
	r = sm_git_fetch(&gs, sm_config_string(c->home, "github.api-url", NULL), token, &f, err);
	if (r < 0)
		goto out;
	{
		const struct provenance pv = {
			.origin = "github",
			.upstream = f.upstream,
			.version_spec = gs.version,
			.resolved_sha = f.sha,
			.resolved_version = f.resolved_version,
		};

		r = add_common(c, f.artifact_path, &o, &pv, ret, err);
	}
out:
	sm_git_fetch_release(&f);
	sm_github_spec_release(&gs);
	sm_strbuf_release(&name);
	return r;
}

/* ---- add --all: scanning a folder ---- */

struct found_vec {
	struct sm_found *v;
	size_t n, alloc;
};

void sm_found_free(struct sm_found *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		sm_free(v[i].path);
		sm_free(v[i].rel);
		sm_free(v[i].name);
		sm_free(v[i].holder);
	}
	sm_free(v);
}

static int found_push(struct found_vec *fv, const char *path, const char *rel,
		      enum sm_artifact_type type, const char *holder)
{
	struct strbuf name = STRBUF_INIT;
	struct sm_found *f;
	int r;

	if (SM_GROW(fv->v, fv->alloc, fv->n + 1) < 0)
		return -ENOMEM;
	r = path_stem(path, &name);
	if (r < 0)
		return r;
	f = &fv->v[fv->n];
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->path = sm_strdup(path);
	f->rel = sm_strdup(rel);
	f->name = sm_strbuf_detach(&name, NULL);
	f->holder = holder ? sm_strdup(holder) : NULL;
	fv->n++;
	if (!f->path || !f->rel || !f->name || (holder && !f->holder))
		return -ENOMEM;
	return 0;
}

/*
 * Walk dir in sorted order. holder_of_type: the name of the folder holding
 * dir, remembered for the clash suffix of what the type folder holds.
 */
static int scan(const char *dir, const char *rel, const char *parent_name, int depth,
		struct found_vec *fv, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT, rp = STRBUF_INIT, self = STRBUF_INIT;
	struct dirent **names = NULL;
	enum sm_artifact_type ftype = SM_TYPE_INVALID;
	int n, r = 0;

	if (depth > 32)
		return 0;
	if (base_name(dir, &self) < 0)
		return -ENOMEM;
	if (depth > 0 && name_in(self.buf, command_dirs))
		ftype = SM_TYPE_COMMAND;
	else if (depth > 0 && name_in(self.buf, agent_dirs))
		ftype = SM_TYPE_AGENT;
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		r = sm_err(err, -errno, "cannot read '%s': %s", dir, sm_strerror(errno));
		goto out;
	}
	/* sorted by bytes, as the walk order promises */
	for (int i = 0; i < n && r == 0; i++) {
		const char *nm = names[i]->d_name;
		struct stat st;

		if (nm[0] == '.' || sm_copy_skipped(nm))
			continue;
		sm_strbuf_reset(&p);
		sm_strbuf_reset(&rp);
		if ((r = sm_strbuf_addf(&p, "%s/%s", dir, nm)) < 0 ||
		    (r = sm_strbuf_addf(&rp, "%s%s%s", rel, *rel ? "/" : "", nm)) < 0)
			break;
		if (stat(p.buf, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (dir_has(p.buf, "SKILL.md")) {
				r = found_push(fv, p.buf, rp.buf, SM_TYPE_SKILL,
					       name_in(self.buf, skill_dirs) ? parent_name : NULL);
				continue;
			}
			r = scan(p.buf, rp.buf, self.buf, depth + 1, fv, err);
		} else if (S_ISREG(st.st_mode) && ftype != SM_TYPE_INVALID && has_md_suffix(nm)) {
			r = found_push(fv, p.buf, rp.buf, ftype, parent_name);
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
out:
	sm_strbuf_release(&p);
	sm_strbuf_release(&rp);
	sm_strbuf_release(&self);
	return r;
}

static int cmp_found(const void *a, const void *b)
{
	return strcmp(((const struct sm_found *)a)->rel, ((const struct sm_found *)b)->rel);
}

int sm_scan_folder(const char *dir, struct sm_found **ret, size_t *count, struct strbuf *err)
{
	struct found_vec fv = { 0 };
	struct strbuf parent = STRBUF_INIT;
	int r;

	if (!sm_fs_is_dir(dir))
		return sm_err(err, -ENOTDIR, "'%s' is not a folder", dir);
	r = parent_name(dir, &parent);
	if (r == 0) {
		if (dir_has(dir, "SKILL.md")) {
			struct strbuf b = STRBUF_INIT;

			r = base_name(dir, &b);
			if (r == 0)
				r = found_push(&fv, dir, b.buf, SM_TYPE_SKILL, NULL);
			sm_strbuf_release(&b);
		} else {
			r = scan(dir, "", parent.buf, 0, &fv, err);
		}
	}
	sm_strbuf_release(&parent);
	if (r < 0) {
		sm_found_free(fv.v, fv.n);
		return r;
	}
	/* scandir sorts per folder; one global sort makes the order of "rel" exact */
	if (fv.n)
		qsort(fv.v, fv.n, sizeof(*fv.v), cmp_found);
	*ret = fv.v;
	*count = fv.n;
	return 0;
}

/* ---- remove, resolve, views ---- */

/* p past "d/" when p lies under folder d, else NULL. */
static const char *under_dir(const char *p, const char *d)
{
	size_t n = strlen(d);

	while (n > 1 && d[n - 1] == '/')
		n--;
	if (strncmp(p, d, n) || p[n] != '/')
		return NULL;
	while (p[n] == '/')
		n++;
	return p + n;
}

static int files_path(const char *dir, const char *rel, struct strbuf *out, struct stat *st,
		      bool *have, struct strbuf *err)
{
	const char *in;
	char real[PATH_MAX];

	if (!rel || !*rel)
		return sm_err(err, -ENOENT, "no path");
	if (rel[0] == '/') {
		in = under_dir(rel, dir);
		if (!in && realpath(dir, real))
			in = under_dir(rel, real);
		if (!in)
			return sm_err(err, -EINVAL, "path '%s' lies outside the collection", rel);
		rel = in;
	}
	return st ? sm_fs_safe_join_st(dir, rel, out, st, have, err)
		  : sm_fs_safe_join(dir, rel, out, err);
}

int sm_artifact_files_path(const char *dir, const char *rel, struct strbuf *out,
			   struct strbuf *err)
{
	return files_path(dir, rel, out, NULL, NULL, err);
}

int sm_collection_entry_path_st(const struct sm_collection *c, const struct sm_toml_value *e,
				struct strbuf *out, struct stat *st, bool *have,
				struct strbuf *err)
{
	const char *rel = sm_entry_str(e, "path");
	int r;

	if (have)
		*have = false;
	r = files_path(c->dir, rel, out, st, have, err);
	if (r < 0)
		sm_err_prefix(err, r, "%s '%s'", sm_entry_str(e, "type"), sm_entry_name(e));
	return r;
}

int sm_collection_entry_path(const struct sm_collection *c, const struct sm_toml_value *e,
			     struct strbuf *out, struct strbuf *err)
{
	return sm_collection_entry_path_st(c, e, out, NULL, NULL, err);
}

int sm_collection_remove(struct sm_collection *c, size_t idx, bool keep_files, struct strbuf *err)
{
	const struct sm_toml_value *e = sm_manifest_at(c->manifest, idx);
	struct strbuf p = STRBUF_INIT, name = STRBUF_INIT, old = STRBUF_INIT, tmp = STRBUF_INIT;
	enum sm_artifact_type type;
	size_t dl;
	int r;

	if (!e)
		return sm_err(err, -ENOENT, "no artifact %zu", idx);
	type = sm_entry_type(e);
	r = sm_strbuf_addstr(&name, sm_entry_name(e));
	if (r < 0)
		goto out;
	if (!keep_files) {
		const char *rel = sm_entry_str(e, "path"), *relp, *base;

		/* only ever delete inside the collection */
		r = sm_collection_entry_path(c, e, &p, err);
		if (r < 0)
			goto out;
		dl = strlen(c->dir);
		if (strncmp(p.buf, c->dir, dl) || p.buf[dl] != '/') {
			r = sm_err(err, -EINVAL, "'%s' is not inside collection '%s'", rel, c->name);
			goto out;
		}
		relp = p.buf + dl + 1;
		base = strrchr(relp, '/');
		base = base ? base + 1 : relp;
		/* a copy staged by an earlier step of this write is never moved in */
		sm_txn_drop_incoming(c->dir, c->txn, relp);
		/* set aside at commit ("<dir>/.<base>.sm-old-<pid>"), deleted after it */
		if (access(p.buf, F_OK) == 0 && !sm_txn_outgoing(c->txn, relp)) {
			if ((r = sm_strbuf_add(&old, relp, (size_t)(base - relp))) < 0 ||
			    (r = sm_strbuf_addf(&old, ".%s.sm-old-%ld", base, (long)getpid())) < 0 ||
			    (r = sm_strbuf_addf(&tmp, "%s/%s", c->dir, old.buf)) < 0 ||
			    (r = sm_fs_remove_tree_force(tmp.buf, err)) < 0 ||
			    (r = sm_txn_move(c->txn, relp, old.buf)) < 0 ||
			    (r = sm_txn_trash(c->txn, old.buf)) < 0)
				goto out;
		}
	}
	r = sm_manifest_remove(c->manifest, idx);
	if (r < 0)
		goto out;
	(void)sm_lock_remove(c->lock, name.buf, type);
	c->dirty = true;
out:
	sm_strbuf_release(&p);
	sm_strbuf_release(&name);
	sm_strbuf_release(&old);
	sm_strbuf_release(&tmp);
	return r;
}

int sm_collection_stage_tree(struct sm_collection *c, size_t idx,
			     int (*fill)(const char *cur, const char *staged, void *arg,
					 struct strbuf *err),
			     void *arg, char hash[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	const struct sm_toml_value *e = sm_manifest_at(c->manifest, idx);
	struct strbuf abs = STRBUF_INIT, src = STRBUF_INIT, staged_rel = STRBUF_INIT,
		      staged = STRBUF_INIT, old_rel = STRBUF_INIT, old = STRBUF_INIT;
	const char *rel, *relp, *in;
	enum sm_artifact_type type;
	char out[SM_SHA256_HEX_LEN + 1];
	bool have_staged = false;
	size_t dl = strlen(c->dir);
	int r;

	if (!e)
		return sm_err(err, -ENOENT, "no artifact %zu", idx);
	type = sm_entry_type(e);
	rel = sm_entry_str(e, "path");
	if ((r = sm_collection_entry_path(c, e, &abs, err)) < 0)
		goto out;
	if (strncmp(abs.buf, c->dir, dl) || abs.buf[dl] != '/') {
		r = sm_err(err, -EINVAL, "'%s' is not inside collection '%s'", rel, c->name);
		goto out;
	}
	relp = abs.buf + dl + 1;
	/* the artifact as this write holds it so far */
	in = sm_txn_incoming(c->txn, relp);
	if ((r = in ? sm_strbuf_addf(&src, "%s/%s", c->dir, in) : sm_strbuf_addstr(&src, abs.buf)) < 0)
		goto out;
	if (!in && sm_txn_outgoing(c->txn, relp)) {
		r = sm_err(err, -ENOENT, "'%s' is removed by this write", rel);
		goto out;
	}
	if ((r = staged_name(c, type, sm_entry_name(e), &staged_rel)) < 0 ||
	    (r = sm_strbuf_addf(&staged, "%s/%s", c->dir, staged_rel.buf)) < 0 ||
	    (r = sm_fs_remove_tree_force(staged.buf, err)) < 0)
		goto out;
	have_staged = true;
	if ((r = fill(src.buf, staged.buf, arg, err)) < 0 ||
	    (r = sm_content_hash(staged.buf, out, err)) < 0 ||
	    (r = sm_txn_staged(c->txn, staged_rel.buf)) < 0)
		goto out;
	have_staged = false;
	/* then as a forced replace: the current copy set aside, the staged one moved in */
	sm_txn_drop_incoming(c->dir, c->txn, relp);
	if (access(abs.buf, F_OK) == 0 && !sm_txn_outgoing(c->txn, relp)) {
		if ((r = side_rel(type, sm_entry_name(e), "sm-old", &old_rel)) < 0 ||
		    (r = sm_strbuf_addf(&old, "%s/%s", c->dir, old_rel.buf)) < 0 ||
		    (r = sm_fs_remove_tree_force(old.buf, err)) < 0 ||
		    (r = sm_txn_move(c->txn, relp, old_rel.buf)) < 0 ||
		    (r = sm_txn_trash(c->txn, old_rel.buf)) < 0)
			goto out;
	}
	if ((r = sm_txn_move(c->txn, staged_rel.buf, relp)) < 0)
		goto out;
	c->dirty = true;
	memcpy(hash, out, sizeof(out));
out:
	if (have_staged)
		(void)sm_fs_remove_tree_force(staged.buf, NULL);
	sm_strbuf_release(&abs);
	sm_strbuf_release(&src);
	sm_strbuf_release(&staged_rel);
	sm_strbuf_release(&staged);
	sm_strbuf_release(&old_rel);
	sm_strbuf_release(&old);
	return r;
}

struct file_fill {
	const char *sub; /* the file below the artifact's path ("" for a file artifact) */
	const void *data;
	size_t len;
};

/* A copy sharing the other files, the new one written into it. */
static int fill_file(const char *cur, const char *staged, void *arg, struct strbuf *err)
{
	const struct file_fill *f = arg;
	struct strbuf file = STRBUF_INIT;
	int r = 0;

	if (*f->sub)
		r = sm_fs_link_tree(cur, staged, err);
	if (r == 0 && (r = sm_strbuf_addf(&file, "%s%s", staged, f->sub)) < 0)
		r = sm_err(err, r, "out of memory");
	if (r == 0)
		r = sm_fs_write_atomic_nosync(file.buf, f->data, f->len, 0644, err);
	sm_strbuf_release(&file);
	return r;
}

int sm_collection_stage_file(struct sm_collection *c, size_t idx, const char *path,
			     const void *data, size_t len, char hash[SM_SHA256_HEX_LEN + 1],
			     struct strbuf *err)
{
	const struct sm_toml_value *e = sm_manifest_at(c->manifest, idx);
	struct strbuf abs = STRBUF_INIT;
	struct file_fill f = { NULL, data, len };
	int r;

	if (!e)
		return sm_err(err, -ENOENT, "no artifact %zu", idx);
	if ((r = sm_collection_entry_path(c, e, &abs, err)) < 0)
		goto out;
	f.sub = path + abs.len;
	if (strncmp(path, abs.buf, abs.len) || (*f.sub && *f.sub != '/')) {
		r = sm_err(err, -EINVAL, "'%s' is not a file of '%s'", path, sm_entry_str(e, "path"));
		goto out;
	}
	r = sm_collection_stage_tree(c, idx, fill_file, &f, hash, err);
out:
	sm_strbuf_release(&abs);
	return r;
}

long sm_collection_resolve(const struct sm_collection *c, const char *id, struct strbuf *err)
{
	const char *colon, *slash = strchr(id, '/');
	long idx[16];
	size_t n;

	if (!*id)
		return sm_err(err, -EINVAL, "empty artifact id");
	colon = strchr(id, ':');
	if (slash && colon && slash < colon) {
		/* collection/type:name */
		if ((size_t)(slash - id) != strlen(c->name) || strncmp(id, c->name, (size_t)(slash - id)))
			return sm_err(err, -ENOENT, "artifact '%s' not found", id);
		id = slash + 1;
	}
	if (colon) {
		char type[32];
		size_t tl = (size_t)(colon - id);
		enum sm_artifact_type t;
		long i;

		if (tl == 0 || tl >= sizeof(type))
			return sm_err(err, -EINVAL, "invalid artifact id '%s'", id);
		memcpy(type, id, tl);
		type[tl] = '\0';
		t = sm_artifact_type_parse(type);
		if (t == SM_TYPE_INVALID)
			return sm_err(err, -EINVAL, "invalid artifact id '%s': unknown type '%s'", id,
				      type);
		i = sm_manifest_find(c->manifest, t, colon + 1);
		if (i >= 0)
			return i;
		/* the original ignores one trailing .md/.txt/... on the name */
		n = sm_manifest_find_name(c->manifest, colon + 1, idx, SM_ARRAY_SIZE(idx));
		for (size_t k = 0; k < n && k < SM_ARRAY_SIZE(idx); k++)
			if (sm_entry_type(sm_manifest_at(c->manifest, (size_t)idx[k])) == t)
				return idx[k];
		return sm_err(err, -ENOENT, "artifact '%s' not found in collection '%s'", id,
			      c->name);
	}
	n = sm_manifest_find_name(c->manifest, id, idx, SM_ARRAY_SIZE(idx));
	if (n == 0)
		return sm_err(err, -ENOENT, "artifact '%s' not found in collection '%s'", id,
			      c->name);
	if (n > 1) {
		struct strbuf msg = STRBUF_INIT;

		for (size_t k = 0; k < n && k < SM_ARRAY_SIZE(idx); k++) {
			const struct sm_toml_value *e = sm_manifest_at(c->manifest, (size_t)idx[k]);

			if (sm_strbuf_addf(&msg, "%s%s:%s", k ? ", " : "", sm_entry_str(e, "type"),
					   sm_entry_name(e)) < 0)
				break;
		}
		sm_err(err, -EEXIST, "'%s' is ambiguous: %s", id, msg.buf);
		sm_strbuf_release(&msg);
		return -EEXIST;
	}
	return idx[0];
}

void sm_view_release(struct sm_view *v)
{
	if (!v)
		return;
	sm_metadata_release(&v->meta);
	sm_toml_free(v->tags);
	sm_free(v->abs_path);
	sm_free(v->error);
	memset(v, 0, sizeof(*v));
}

int sm_view_load(const struct sm_collection *c, size_t idx, struct sm_view *ret,
		 struct strbuf *err)
{
	const struct sm_toml_value *e = sm_manifest_at(c->manifest, idx), *mt;
	struct strbuf p = STRBUF_INIT, why = STRBUF_INIT;
	const char *lockhash;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!e)
		return sm_err(err, -ENOENT, "no artifact %zu", idx);
	ret->entry = e;
	ret->type = sm_entry_type(e);
	ret->name = sm_entry_name(e);
	/* a path leading outside the collection is not read: the artifact shows why */
	r = sm_collection_entry_path(c, e, &p, &why);
	if (r == -ENOMEM)
		goto fail;
	if (r < 0 && !(ret->error = sm_strbuf_detach(&why, NULL))) {
		r = -ENOMEM;
		goto fail;
	}
	ret->abs_path = sm_strbuf_detach(&p, NULL);
	ret->tags = sm_toml_new_array();
	if (!ret->abs_path || !ret->tags) {
		r = -ENOMEM;
		goto fail;
	}
	mt = sm_toml_get(e, "tags");
	for (size_t i = 0; mt && mt->type == SM_TOML_ARRAY && i < sm_toml_len(mt); i++)
		if (sm_toml_at(mt, i)->type == SM_TOML_STRING &&
		    (r = push_unique(ret->tags, sm_toml_str(sm_toml_at(mt, i)))) < 0)
			goto fail;
	r = ret->error ? -EINVAL : sm_metadata_extract(ret->abs_path, ret->type, &ret->meta, &why);
	if (r == -ENOMEM)
		goto fail;
	if (ret->error) {
		/* not read */
	} else if (r < 0) {
		ret->error = sm_strbuf_detach(&why, NULL);
	} else {
		for (size_t i = 0; ret->meta.tags && i < sm_toml_len(ret->meta.tags); i++)
			if (sm_toml_at(ret->meta.tags, i)->type == SM_TOML_STRING &&
			    (r = push_unique(ret->tags, sm_toml_str(sm_toml_at(ret->meta.tags, i)))) < 0)
				goto fail;
		r = sm_content_hash(ret->abs_path, ret->hash, &why);
		if (r == -ENOMEM)
			goto fail;
		if (r < 0)
			ret->error = sm_strbuf_detach(&why, NULL);
		else
			ret->have_hash = true;
	}
	if (!ret->meta.table)
		ret->meta.table = sm_toml_new_table();
	lockhash = sm_lock_hash(c->lock, ret->name, ret->type);
	ret->locally_modified = ret->have_hash && lockhash && strcmp(lockhash, ret->hash);
	sm_strbuf_release(&why);
	return 0;
fail:
	sm_strbuf_release(&p);
	sm_strbuf_release(&why);
	sm_view_release(ret);
	return r;
}
