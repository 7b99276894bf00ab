/* SPDX-License-Identifier: MIT */
/* Three-way file-level merge of an artifact (skillmeat/merge.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/merge.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

#define FILE_MAX ((size_t)32 << 20)

void sm_merge_result_release(struct sm_merge_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nconflicts; i++)
		sm_free(r->conflicts[i]);
	sm_free(r->conflicts);
	memset(r, 0, sizeof(*r));
}

/* One side: its root and whether it is a single file. */
struct side {
	const char *root;
	bool file;
	struct sm_fs_list list;
};

static int side_open(struct side *s, const char *root, struct strbuf *err)
{
	struct stat st;

	memset(&s->list, 0, sizeof(s->list));
	s->root = root;
	s->file = false;
	if (!root || stat(root, &st) < 0)
		return 0; /* absent: no files */
	s->file = S_ISREG(st.st_mode);
	if (s->file)
		return 0;
	return sm_fs_walk(root, &s->list, err);
}

/* Read rel of side into out; *present false when it has no such file. */
static int side_read(const struct side *s, const char *rel, struct strbuf *out, bool *present,
		     struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	*present = false;
	sm_strbuf_reset(out);
	if (!s->root)
		return 0;
	if (s->file) {
		if (*rel)
			return 0;
		r = sm_strbuf_addstr(&p, s->root);
	} else {
		if (!*rel)
			return 0;
		r = sm_strbuf_addf(&p, "%s/%s", s->root, rel);
	}
	if (r == 0) {
		r = sm_fs_read_file(p.buf, FILE_MAX, out, err);
		if (r == -ENOENT || r == -EISDIR)
			r = 0;
		else if (r == 0)
			*present = true;
	}
	sm_strbuf_release(&p);
	return r;
}

static bool same(bool pa, const struct strbuf *a, bool pb, const struct strbuf *b)
{
	if (pa != pb)
		return false;
	return !pa || (a->len == b->len && !memcmp(a->buf, b->buf, a->len));
}

static bool binary(const struct strbuf *s)
{
	return memchr(s->buf, '\0', s->len) != NULL;
}

static int write_out(const char *out, bool single, const char *rel, const struct strbuf *data,
		     struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT, dir = STRBUF_INIT;
	const char *slash;
	int r;

	r = single ? sm_strbuf_addstr(&p, out) : sm_strbuf_addf(&p, "%s/%s", out, rel);
	if (r < 0)
		return sm_err(err, r, "out of memory");
	slash = strrchr(p.buf, '/');
	if (slash && (r = sm_strbuf_add(&dir, p.buf, (size_t)(slash - p.buf))) == 0)
		r = sm_fs_mkdir_p(dir.buf, 0755, err);
	if (r == 0)
		r = sm_fs_write_atomic_nosync(p.buf, data->buf, data->len, 0644, err);
	sm_strbuf_release(&p);
	sm_strbuf_release(&dir);
	return r;
}

static int add_conflict(struct sm_merge_result *m, const char *rel)
{
	char **nv = sm_reallocarray(m->conflicts, m->nconflicts + 1, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	m->conflicts = nv;
	nv[m->nconflicts] = sm_strdup(rel);
	if (!nv[m->nconflicts])
		return -ENOMEM;
	m->nconflicts++;
	return 0;
}

static int markers(struct strbuf *o, bool pl, const struct strbuf *l, bool pr,
		   const struct strbuf *r)
{
	int e = sm_strbuf_addstr(o, "<<<<<<< LOCAL (current)\n");

	e = e ?: (pl ? sm_strbuf_add(o, l->buf, l->len) : sm_strbuf_addstr(o, "(file deleted)"));
	if (!e && (o->len == 0 || o->buf[o->len - 1] != '\n'))
		e = sm_strbuf_addch(o, '\n');
	e = e ?: sm_strbuf_addstr(o, "=======\n");
	e = e ?: (pr ? sm_strbuf_add(o, r->buf, r->len) : sm_strbuf_addstr(o, "(file deleted)"));
	if (!e && o->buf[o->len - 1] != '\n')
		e = sm_strbuf_addch(o, '\n');
	e = e ?: sm_strbuf_addstr(o, ">>>>>>> REMOTE (incoming)\n");
	return e;
}

static int cmp_rel(const void *a, const void *b)
{
	return sm_fs_path_cmp(*(char *const *)a, *(char *const *)b);
}

int sm_merge_tree(const char *base, const char *local, const char *remote, const char *out,
		  struct sm_merge_result *ret, struct strbuf *err)
{
	struct side sb, sl, sr;
	struct sm_merge_result m = { 0 };
	struct strbuf b = STRBUF_INIT, l = STRBUF_INIT, rm = STRBUF_INIT, o = STRBUF_INIT;
	const char **rels = NULL;
	size_t nrels = 0;
	bool single;
	int r;

	if (!base)
		base = local;
	r = side_open(&sb, base, err);
	r = r ?: side_open(&sl, local, err);
	r = r ?: side_open(&sr, remote, err);
	if (r < 0)
		goto out;
	single = sl.file || sr.file;
	if (!single) {
		r = sm_fs_mkdir_p(out, 0755, err);
		if (r < 0)
			goto out;
	}
	/* the union of the three sides' paths */
	rels = sm_calloc(sb.list.len + sl.list.len + sr.list.len + 1, sizeof(*rels));
	if (!rels) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (single) {
		rels[nrels++] = "";
	} else {
		const struct side *all[] = { &sb, &sl, &sr };

		for (size_t k = 0; k < 3; k++)
			for (size_t i = 0; i < all[k]->list.len; i++)
				rels[nrels++] = all[k]->list.items[i].rel;
		qsort(rels, nrels, sizeof(*rels), cmp_rel);
	}
	for (size_t i = 0; i < nrels && r == 0; i++) {
		bool pb, pl, pr;

		if (i && !strcmp(rels[i], rels[i - 1]))
			continue;
		r = side_read(&sb, rels[i], &b, &pb, err);
		r = r ?: side_read(&sl, rels[i], &l, &pl, err);
		r = r ?: side_read(&sr, rels[i], &rm, &pr, err);
		if (r < 0)
			break;
		if (same(pl, &l, pr, &rm)) {
			m.unchanged++;
			if (pl)
				r = write_out(out, single, rels[i], &l, err);
		} else if (same(pl, &l, pb, &b)) {
			m.taken_remote++;
			if (pr)
				r = write_out(out, single, rels[i], &rm, err);
		} else if (same(pr, &rm, pb, &b)) {
			m.taken_local++;
			if (pl)
				r = write_out(out, single, rels[i], &l, err);
		} else {
			r = add_conflict(&m, rels[i]);
			if (r < 0) {
				r = sm_err(err, r, "out of memory");
				break;
			}
			if ((pl && binary(&l)) || (pr && binary(&rm))) {
				if (pl)
					r = write_out(out, single, rels[i], &l, err);
				continue;
			}
			sm_strbuf_reset(&o);
			r = markers(&o, pl, &l, pr, &rm);
			if (r < 0) {
				r = sm_err(err, r, "out of memory");
				break;
			}
			r = write_out(out, single, rels[i], &o, err);
		}
	}
out:
	sm_free(rels);
	sm_fs_list_release(&sb.list);
	sm_fs_list_release(&sl.list);
	sm_fs_list_release(&sr.list);
	sm_strbuf_release(&b);
	sm_strbuf_release(&l);
	sm_strbuf_release(&rm);
	sm_strbuf_release(&o);
	if (r < 0) {
		sm_merge_result_release(&m);
		(void)sm_fs_remove_tree(out, NULL);
		return r;
	}
	*ret = m;
	return 0;
}
