/* SPDX-License-Identifier: MIT */
/*
 * The deployment tracking file <project>/<root>/.skillmeat-deployed.toml
 * (spec/skillmeat-formats.md §4.2) and the built-in profiles (§4.3).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

#define TRACKING_MAX ((size_t)64 << 20)

/* ---- profiles ---- */

int sm_profile_get(const char *id, struct sm_profile *ret, struct strbuf *err)
{
	static const char *const known[] = { "claude_code", "codex", "gemini", "cursor",
					     "remote_git" };
	size_t n;

	if (!id)
		id = "claude_code";
	n = strlen(id);
	if (!n || n > SM_PROFILE_ID_MAX)
		return sm_err(err, -EINVAL, "invalid profile id '%s': 1 to %d characters", id,
			      SM_PROFILE_ID_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return sm_err(err, -EINVAL,
				      "invalid profile id '%s': only letters, digits, '_' and '-'",
				      id);
	}
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->id, id, n + 1);
	ret->root[0] = '.';
	if (!strcmp(id, "claude_code")) {
		memcpy(ret->root, ".claude", sizeof(".claude"));
	} else {
		memcpy(ret->root + 1, id, n + 1);
	}
	memcpy(ret->platform, "other", sizeof("other"));
	for (size_t i = 0; i < SM_ARRAY_SIZE(known); i++)
		if (!strcmp(id, known[i]))
			memcpy(ret->platform, id, n + 1);
	return 0;
}

int sm_deploy_rel_path(enum sm_artifact_type type, const char *name, struct strbuf *out,
		       struct strbuf *err)
{
	int r;

	switch (type) {
	case SM_TYPE_SKILL:
		r = sm_strbuf_addf(out, "skills/%s", name);
		break;
	case SM_TYPE_MCP:
		r = sm_strbuf_addf(out, "mcp/%s", name);
		break;
	case SM_TYPE_COMMAND:
		r = sm_strbuf_addf(out, "commands/%s.md", name);
		break;
	case SM_TYPE_AGENT:
		r = sm_strbuf_addf(out, "agents/%s.md", name);
		break;
	case SM_TYPE_HOOK:
		r = sm_strbuf_addf(out, "hooks/%s.md", name);
		break;
	default:
		return sm_err(err, -EINVAL, "cannot deploy %s %s: unknown artifact type for a project",
			      sm_artifact_type_article(type), sm_artifact_type_name(type));
	}
	return r < 0 ? sm_err(err, r, "out of memory") : 0;
}

/* ---- records ---- */

static size_t arr_len(const struct sm_toml_value *a)
{
	return a && a->type == SM_TOML_ARRAY ? sm_toml_len(a) : 0;
}

static struct sm_toml_value *arr_at(const struct sm_toml_value *a, size_t i)
{
	return sm_toml_at(a, i);
}

const char *sm_rec_name(const struct sm_toml_value *rec)
{
	return sm_toml_get_string(rec, "artifact_name");
}

enum sm_artifact_type sm_rec_type(const struct sm_toml_value *rec)
{
	const char *t = sm_toml_get_string(rec, "artifact_type");

	return t ? sm_artifact_type_parse(t) : SM_TYPE_INVALID;
}

const char *sm_rec_path(const struct sm_toml_value *rec)
{
	return sm_toml_get_string(rec, "artifact_path");
}

const char *sm_rec_collection(const struct sm_toml_value *rec)
{
	return sm_toml_get_string(rec, "from_collection");
}

const char *sm_rec_profile(const struct sm_toml_value *rec)
{
	const char *p = sm_toml_get_string(rec, "deployment_profile_id");

	return p && *p ? p : "claude_code";
}

const char *sm_rec_deployed_at(const struct sm_toml_value *rec)
{
	return sm_toml_get_string(rec, "deployed_at");
}

const char *sm_rec_hash(const struct sm_toml_value *rec)
{
	const char *h = sm_toml_get_string(rec, "collection_sha");

	return h && *h ? h : sm_toml_get_string(rec, "content_hash");
}

bool sm_rec_is_symlink(const struct sm_toml_value *rec)
{
	const char *m = sm_toml_get_string(rec, "deploy_mode");

	return m && !strcmp(m, "symlink");
}

static int set_str(struct sm_toml_value *t, const char *k, const char *v)
{
	return sm_toml_set_string(t, k, v);
}

struct sm_toml_value *sm_rec_new(const char *name, enum sm_artifact_type type,
				 const char *collection, const char *rel_path, const char *hash,
				 const struct sm_profile *profile, const char *uuid, bool symlink)
{
	struct sm_toml_value *t = sm_toml_new_table(), *lin;
	char now[SM_ISO_MAX];
	struct timeval tv;
	int r;

	if (!t)
		return NULL;
	gettimeofday(&tv, NULL);
	if (sm_time_iso(tv.tv_sec, tv.tv_usec, 0, now) < 0)
		goto fail;
	lin = sm_toml_new_array();
	r = set_str(t, "artifact_name", name);
	r = r ?: set_str(t, "artifact_type", sm_artifact_type_name(type));
	r = r ?: set_str(t, "from_collection", collection);
	r = r ?: set_str(t, "deployed_at", now);
	r = r ?: set_str(t, "artifact_path", rel_path);
	r = r ?: set_str(t, "content_hash", hash);
	r = r ?: sm_toml_set(t, "local_modifications", sm_toml_new_bool(false));
	if (!lin) {
		r = -ENOMEM;
	} else if (r == 0) {
		r = sm_toml_push(lin, sm_toml_new_string(hash));
		r = r ?: sm_toml_set(t, "version_lineage", lin);
		lin = NULL;
	}
	sm_toml_free(lin);
	r = r ?: set_str(t, "merge_base_snapshot", hash);
	r = r ?: set_str(t, "deployment_profile_id", profile->id);
	r = r ?: set_str(t, "platform", profile->platform);
	r = r ?: set_str(t, "profile_root_dir", profile->root);
	if (uuid && *uuid)
		r = r ?: set_str(t, "artifact_uuid", uuid);
	r = r ?: set_str(t, "collection_sha", hash);
	if (symlink)
		r = r ?: set_str(t, "deploy_mode", "symlink");
	if (r == 0)
		return t;
fail:
	sm_toml_free(t);
	return NULL;
}

/* ---- validation ---- */

static int check_record(const char *file, size_t i, const struct sm_toml_value *rec,
			const char *root, struct strbuf *err)
{
	static const char *const req[] = { "artifact_name", "artifact_type", "from_collection",
					   "deployed_at", "artifact_path" };
	const char *p, *rd, *h;

	if (rec->type != SM_TOML_TABLE)
		return sm_err(err, -EBADMSG, "'%s': deployment %zu is not a table", file, i + 1);
	for (size_t k = 0; k < SM_ARRAY_SIZE(req); k++)
		if (!sm_toml_get_string(rec, req[k]))
			return sm_err(err, -EBADMSG, "'%s': deployment %zu has no string '%s'", file,
				      i + 1, req[k]);
	h = sm_rec_hash(rec);
	if (!h)
		return sm_err(err, -EBADMSG, "'%s': deployment %zu has no content_hash", file,
			      i + 1);
	if (sm_rec_type(rec) == SM_TYPE_INVALID)
		return sm_err(err, -EBADMSG, "'%s': deployment %zu has an unknown artifact_type '%s'",
			      file, i + 1, sm_toml_get_string(rec, "artifact_type"));
	p = sm_rec_path(rec);
	if (!sm_fs_rel_path_ok(p))
		return sm_err(err, -EPERM,
			      "'%s': deployment %zu: artifact_path '%s' points outside the project "
			      "(refused)",
			      file, i + 1, p);
	rd = sm_toml_get_string(rec, "profile_root_dir");
	if (rd && strcmp(rd, root))
		return sm_err(err, -EPERM,
			      "'%s': deployment %zu: profile_root_dir '%s' is not this root '%s' "
			      "(refused)",
			      file, i + 1, rd, root);
	if (sm_profile_get(sm_rec_profile(rec), &(struct sm_profile){ 0 }, NULL) < 0)
		return sm_err(err, -EPERM, "'%s': deployment %zu: invalid deployment_profile_id",
			      file, i + 1);
	return 0;
}

/* A profile root: "." followed by a valid profile id, or ".claude". */
static int check_root(const char *root, struct strbuf *err)
{
	if (root[0] != '.' || sm_profile_get(root + 1, &(struct sm_profile){ 0 }, NULL) < 0)
		return sm_err(err, -EINVAL, "invalid profile root '%s'", root);
	return 0;
}

/* ---- load / save ---- */

void sm_tracking_free(struct sm_tracking *t)
{
	if (!t)
		return;
	sm_free(t->project);
	sm_free(t->root);
	sm_free(t->path);
	sm_toml_free(t->doc);
	sm_hashmap_free(t->index);
	sm_free(t->checked);
	sm_free(t);
}

int sm_tracking_load(const char *project, const char *root, struct sm_tracking **ret,
		     struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT, buf = STRBUF_INIT;
	struct sm_tracking *t;
	struct stat st;
	int r;

	r = check_root(root, err);
	if (r < 0)
		return r;
	t = sm_calloc(1, sizeof(*t));
	if (!t)
		return sm_err(err, -ENOMEM, "out of memory");
	t->project = sm_strdup(project);
	t->root = sm_strdup(root);
	r = sm_strbuf_addf(&p, "%s/%s", project, root);
	if (r < 0 || !t->project || !t->root) {
		r = sm_err(err, r < 0 ? r : -ENOMEM, "'%s/%s': %s", project, root,
			   sm_strerror(r < 0 ? r : -ENOMEM));
		goto fail;
	}
	if (lstat(p.buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
		r = sm_err(err, -EPERM, "'%s' is not a folder (a symlink is not followed)", p.buf);
		goto fail;
	}
	r = sm_strbuf_addf(&p, "/%s", SM_TRACKING_FILE);
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto fail;
	}
	t->path = sm_strbuf_detach(&p, NULL);
	if (!t->path) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (lstat(t->path, &st) < 0) {
		if (errno != ENOENT) {
			r = sm_err(err, -errno, "cannot read '%s': %s", t->path, sm_strerror(errno));
			goto fail;
		}
		t->doc = sm_toml_new_table();
	} else {
		if (!S_ISREG(st.st_mode)) {
			r = sm_err(err, -EPERM, "'%s' is not a regular file (refused)", t->path);
			goto fail;
		}
		t->existed = true;
		r = sm_fs_read_file(t->path, TRACKING_MAX, &buf, err);
		if (r < 0)
			goto fail;
		r = sm_toml_parse_flags(buf.buf, buf.len, SM_TOML_ARENA, &t->doc, err);
		if (r < 0) {
			sm_err_prefix(err, r, "'%s'", t->path);
			goto fail;
		}
	}
	if (!t->doc) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	t->deployed = sm_toml_get(t->doc, "deployed");
	if (!t->deployed) {
		struct sm_toml_value *a = sm_toml_new_array();

		r = a ? sm_toml_set(t->doc, "deployed", a) : -ENOMEM;
		if (r < 0) {
			r = sm_err(err, r, "out of memory");
			goto fail;
		}
		t->deployed = sm_toml_get(t->doc, "deployed");
	} else if (t->deployed->type != SM_TOML_ARRAY) {
		r = sm_err(err, -EBADMSG, "'%s': 'deployed' is not an array of tables", t->path);
		goto fail;
	}
	for (size_t i = 0; i < arr_len(t->deployed); i++) {
		r = check_record(t->path, i, arr_at(t->deployed, i), root, err);
		if (r < 0)
			goto fail;
	}
	sm_strbuf_release(&buf);
	*ret = t;
	return 0;
fail:
	sm_strbuf_release(&p);
	sm_strbuf_release(&buf);
	sm_tracking_free(t);
	return r;
}

/*
 * The temp files of killed writers of the tracking file in dir: ours are
 * ".<file>.sm-stage-<pid>" (sm_deploy_cleanup_dir: the pid is gone); an
 * earlier version's ".<file>.<random>.tmp" carries no pid, so only one older
 * than a minute is taken for a dead writer's.
 */
static void clean_temps(const char *dir, const char *file)
{
	struct strbuf p = STRBUF_INIT;
	size_t n = strlen(file);
	struct dirent *de;
	struct stat st;
	DIR *d;

	sm_deploy_cleanup_dir(dir);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		const char *s = de->d_name;
		size_t len = strlen(s);

		if (s[0] != '.' || strncmp(s + 1, file, n) || s[n + 1] != '.' || len < n + 6 ||
		    strcmp(s + len - 4, ".tmp"))
			continue;
		sm_strbuf_reset(&p);
		if (sm_strbuf_addf(&p, "%s/%s", dir, s) == 0 && lstat(p.buf, &st) == 0 &&
		    S_ISREG(st.st_mode) && time(NULL) - st.st_mtime > 60)
			(void)unlink(p.buf);
	}
	closedir(d);
	sm_strbuf_release(&p);
}

int sm_tracking_save(struct sm_tracking *t, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, dir = STRBUF_INIT, tmp = STRBUF_INIT;
	const char *file = strrchr(t->path, '/') ? strrchr(t->path, '/') + 1 : t->path;
	int r, fd;

	r = sm_strbuf_addf(&dir, "%s/%s", t->project, t->root);
	r = r ?: sm_strbuf_addf(&tmp, ".%s.sm-stage-%ld", file, (long)getpid());
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto release;
	}
	/* a run that writes, or could have, on this project: dead writers' temps go */
	clean_temps(dir.buf, file);
	if (!t->dirty)
		goto release;
	if (!arr_len(t->deployed)) {
		if (t->existed && unlink(t->path) < 0 && errno != ENOENT)
			r = sm_err(err, -errno, "cannot remove '%s': %s", t->path,
				   sm_strerror(errno));
		else
			r = t->existed ? sm_fs_fsync_dir(dir.buf, err) : 0;
		goto out;
	}
	r = sm_fs_mkdir_p(dir.buf, 0755, err);
	if (r < 0)
		goto out;
	r = sm_toml_encode(t->doc, &out, err);
	if (r < 0)
		goto out;
	/*
	 * One syncfs for the whole run: every artifact staged and renamed into
	 * place before this point is durable before the record naming it is.
	 */
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)syncfs(fd);
		close(fd);
	}
	r = sm_fs_write_atomic_via(t->path, tmp.buf, out.buf, out.len, 0644, err);
	if (r == 0)
		t->existed = true;
out:
	if (r == 0) {
		t->dirty = false;
		t->written = true;
	}
release:
	sm_strbuf_release(&out);
	sm_strbuf_release(&dir);
	sm_strbuf_release(&tmp);
	return r;
}

size_t sm_tracking_count(const struct sm_tracking *t)
{
	return arr_len(t->deployed);
}

struct sm_toml_value *sm_tracking_at(const struct sm_tracking *t, size_t i)
{
	return arr_at(t->deployed, i);
}

/* Length of name without one trailing .md/.txt/.json/.yaml/.yml. */
static size_t stem_len(const char *n)
{
	static const char *const ext[] = { ".md", ".txt", ".json", ".yaml", ".yml" };
	size_t len = strlen(n);

	for (size_t i = 0; i < SM_ARRAY_SIZE(ext); i++) {
		size_t e = strlen(ext[i]);

		if (len > e && !strcmp(n + len - e, ext[i]))
			return len - e;
	}
	return len;
}

/* The index key of a record: "type\0stem\0profile". */
static int index_key(struct strbuf *k, enum sm_artifact_type type, const char *name,
		     const char *profile_id)
{
	const char *tn = sm_artifact_type_name(type);
	int r;

	sm_strbuf_reset(k);
	if ((r = sm_strbuf_addstr(k, tn ? tn : "?")) < 0 || (r = sm_strbuf_add(k, "", 1)) < 0 ||
	    (r = sm_strbuf_add(k, name, stem_len(name))) < 0 || (r = sm_strbuf_add(k, "", 1)) < 0)
		return r;
	return sm_strbuf_addstr(k, profile_id);
}

static void index_drop(struct sm_tracking *t)
{
	sm_hashmap_free(t->index);
	t->index = NULL;
}

/* Note record i in the index (the first of equal keys wins). */
static int index_add(struct sm_tracking *t, size_t i, struct strbuf *k)
{
	const struct sm_toml_value *rec = arr_at(t->deployed, i);
	void *v;

	if (index_key(k, sm_rec_type(rec), sm_rec_name(rec), sm_rec_profile(rec)) < 0)
		return -ENOMEM;
	if (sm_hashmap_get(t->index, k->buf, k->len, &v))
		return 0;
	return sm_hashmap_put(t->index, k->buf, k->len, (void *)(uintptr_t)(i + 1), NULL);
}

/* Build the index once (a lookup per artifact keeps a run linear); false when it cannot. */
static bool index_ready(struct sm_tracking *t)
{
	struct strbuf k = STRBUF_INIT;
	int r = 0;

	if (t->index)
		return true;
	if (sm_hashmap_new(&t->index) < 0)
		return false;
	for (size_t i = 0; r == 0 && i < arr_len(t->deployed); i++)
		r = index_add(t, i, &k);
	sm_strbuf_release(&k);
	if (r < 0)
		index_drop(t);
	return r == 0;
}

long sm_tracking_find(const struct sm_tracking *ct, const char *name, enum sm_artifact_type type,
		      const char *profile_id)
{
	struct sm_tracking *t = (struct sm_tracking *)ct; /* the index is a cache */
	size_t nl = stem_len(name);

	if (!profile_id)
		profile_id = "claude_code";
	if (type != SM_TYPE_INVALID && index_ready(t)) {
		struct strbuf k = STRBUF_INIT;
		void *v = NULL;
		bool hit = false;

		if (index_key(&k, type, name, profile_id) == 0) {
			hit = sm_hashmap_get(t->index, k.buf, k.len, &v);
			sm_strbuf_release(&k);
			return hit ? (long)(uintptr_t)v - 1 : -1;
		}
		sm_strbuf_release(&k);
	}
	for (size_t i = 0; i < arr_len(t->deployed); i++) {
		const struct sm_toml_value *rec = arr_at(t->deployed, i);
		const char *rn = sm_rec_name(rec);

		if (stem_len(rn) != nl || memcmp(rn, name, nl))
			continue;
		if (type != SM_TYPE_INVALID && sm_rec_type(rec) != type)
			continue;
		if (strcmp(sm_rec_profile(rec), profile_id))
			continue;
		return (long)i;
	}
	return -1;
}

int sm_tracking_put(struct sm_tracking *t, long idx, struct sm_toml_value *rec)
{
	struct strbuf k = STRBUF_INIT;
	int r;

	if (!rec)
		return -ENOMEM;
	if (idx >= 0 && (size_t)idx < arr_len(t->deployed)) {
		const struct sm_toml_value *old = arr_at(t->deployed, (size_t)idx);

		/* a replacement under another key: the index is rebuilt on the next find */
		if (t->index && (sm_rec_type(old) != sm_rec_type(rec) ||
				 strcmp(sm_rec_profile(old), sm_rec_profile(rec)) ||
				 strcmp(sm_rec_name(old), sm_rec_name(rec))))
			index_drop(t);
		sm_toml_free(sm_toml_array_swap(t->deployed, (size_t)idx, rec));
		r = 0;
	} else {
		r = sm_toml_push(t->deployed, rec);
		if (r == 0 && t->index && index_add(t, arr_len(t->deployed) - 1, &k) < 0)
			index_drop(t);
	}
	if (r == 0)
		t->dirty = true;
	sm_strbuf_release(&k);
	return r;
}

int sm_tracking_remove(struct sm_tracking *t, size_t idx)
{
	int r = sm_toml_array_remove(t->deployed, idx);

	if (r == 0) {
		t->dirty = true;
		index_drop(t); /* the indices after idx moved */
	}
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sm_tracking_roots(const char *project, char ***ret, size_t *count, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	char **v = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(project);
	if (!d)
		return sm_err(err, -errno, "cannot read '%s': %s", project, sm_strerror(errno));
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (check_root(de->d_name, NULL) < 0)
			continue;
		sm_strbuf_reset(&p);
		if ((r = sm_strbuf_addf(&p, "%s/%s", project, de->d_name)) < 0)
			break;
		/* a symlinked root is never followed */
		if (lstat(p.buf, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if ((r = sm_strbuf_addf(&p, "/%s", SM_TRACKING_FILE)) < 0)
			break;
		if (lstat(p.buf, &st) < 0)
			continue;
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 4;
			char **nv = sm_reallocarray(v, na, sizeof(*v));

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			alloc = na;
		}
		v[n] = sm_strdup(de->d_name);
		if (!v[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	sm_strbuf_release(&p);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			sm_free(v[i]);
		sm_free(v);
		return sm_err(err, r, "out of memory");
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	/* .claude first, as the original reads it first */
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i], ".claude") && i) {
			char *c = v[i];

			memmove(v + 1, v, i * sizeof(*v));
			v[0] = c;
		}
	}
	*ret = v;
	*count = n;
	return 0;
}
