/* SPDX-License-Identifier: MIT */
/* The home's registry of the projects it deployed to: <home>/projects.toml. */
#include <errno.h>
#include <string.h>

#include "skillmeat/deploy.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/home.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

#define PROJECTS_MAX ((size_t)16 << 20)

static int load(const struct sm_home *home, struct strbuf *path, struct sm_toml_value **ret,
		struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *a;
	int r;

	r = sm_strbuf_addf(path, "%s/projects.toml", home->root);
	if (r < 0)
		return sm_err(err, r, "out of memory");
	r = sm_fs_read_file(path->buf, PROJECTS_MAX, &buf, err);
	if (r == -ENOENT) {
		doc = sm_toml_new_table();
		r = doc ? 0 : sm_err(err, -ENOMEM, "out of memory");
	} else if (r == 0) {
		r = sm_toml_parse(buf.buf, buf.len, &doc, err);
		if (r < 0)
			sm_err_prefix(err, r, "'%s'", path->buf);
	}
	sm_strbuf_release(&buf);
	if (r < 0)
		return r;
	a = sm_toml_get(doc, "projects");
	if (!a) {
		a = sm_toml_new_array();
		r = a ? sm_toml_set(doc, "projects", a) : -ENOMEM;
		if (r < 0) {
			sm_toml_free(doc);
			return sm_err(err, r, "out of memory");
		}
	} else if (a->type != SM_TOML_ARRAY) {
		sm_toml_free(doc);
		return sm_err(err, -EBADMSG, "'%s': 'projects' is not an array of tables",
			      path->buf);
	}
	*ret = doc;
	return 0;
}

int sm_projects_note(struct sm_home *home, const char *project, bool has_deployments,
		     struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, out = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *a, *t;
	char now[SM_ISO_MAX];
	long found = -1;
	int r;

	r = load(home, &path, &doc, err);
	if (r < 0)
		goto out;
	a = sm_toml_get(doc, "projects");
	for (size_t i = 0; i < sm_toml_len(a); i++) {
		const char *p = sm_toml_get_string(sm_toml_at(a, i), "path");

		if (p && !strcmp(p, project))
			found = (long)i;
	}
	if (found >= 0 && !has_deployments) {
		r = sm_toml_array_remove(a, (size_t)found);
	} else if (found < 0 && has_deployments) {
		t = sm_toml_new_table();
		r = sm_time_now_iso(now);
		r = r ?: (t ? 0 : -ENOMEM);
		r = r ?: sm_toml_set_string(t, "path", project);
		r = r ?: sm_toml_set_string(t, "updated", now);
		if (r == 0)
			r = sm_toml_push(a, t);
		else
			sm_toml_free(t);
	} else {
		goto out; /* nothing changes */
	}
	if (r < 0) {
		r = sm_err(err, r, "out of memory");
		goto out;
	}
	r = sm_toml_encode(doc, &out, err);
	if (r == 0)
		r = sm_fs_write_atomic(path.buf, out.buf, out.len, 0644, err);
out:
	sm_toml_free(doc);
	sm_strbuf_release(&path);
	sm_strbuf_release(&out);
	return r;
}

int sm_projects_list(const struct sm_home *home, char ***ret, size_t *count, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct sm_toml_value *doc = NULL, *a;
	char **v = NULL;
	size_t n = 0;
	int r;

	r = load(home, &path, &doc, err);
	sm_strbuf_release(&path);
	if (r < 0)
		return r;
	a = sm_toml_get(doc, "projects");
	if (sm_toml_len(a)) {
		v = sm_calloc(sm_toml_len(a), sizeof(*v));
		if (!v) {
			sm_toml_free(doc);
			return sm_err(err, -ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < sm_toml_len(a); i++) {
		const char *p = sm_toml_get_string(sm_toml_at(a, i), "path");

		if (!p || p[0] != '/')
			continue;
		v[n] = sm_strdup(p);
		if (!v[n]) {
			for (size_t k = 0; k < n; k++)
				sm_free(v[k]);
			sm_free(v);
			sm_toml_free(doc);
			return sm_err(err, -ENOMEM, "out of memory");
		}
		n++;
	}
	sm_toml_free(doc);
	*ret = v;
	*count = n;
	return 0;
}
