/* SPDX-License-Identifier: MIT */
/* Crash-safe writes of a collection: see txn.h for the sequence. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/txn.h"
#include "skillmeat/array.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/manifest.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "skillmeat/test_hooks.h"
#include "util/banned.h"

#define JOURNAL ".collection.journal"
#define MANIFEST "collection.toml"
#define LOCKFILE "collection.lock"
#define MANIFEST_NEXT ".collection.toml.sm-next"
#define LOCK_NEXT ".collection.lock.sm-next"
#define UC_FILE "user-collections.toml"
#define UC_NEXT ".user-collections.toml.sm-next"
#define JOURNAL_MAX ((size_t)64 << 20)

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

struct sm_txn {
	struct sm_strvec staged, from, to, trash;
	/* every path named by staged, from and to (never shrinks): lookups miss in O(1) */
	struct sm_hashmap *named;
	/*
	 * At commit, per move: for the second move of a replace (X set aside,
	 * then the staged copy onto X), the staged copy's inode, so that
	 * recovery can tell whether the exchange of the two happened; else 0.
	 */
	uint64_t *ino;
	bool user_collections; /* the home's user-collections.toml is part of the write */
};

static int note(struct sm_txn *t, const char *rel)
{
	if (!t->named && sm_hashmap_new(&t->named) < 0)
		return -ENOMEM;
	return sm_hashmap_put(t->named, rel, strlen(rel), t, NULL);
}

/* False when no step of this write named rel (a scan can only find it otherwise). */
static bool maybe_named(const struct sm_txn *t, const char *rel)
{
	void *v;

	return !t->named || sm_hashmap_get(t->named, rel, strlen(rel), &v);
}

int sm_txn_new(struct sm_txn **ret)
{
	struct sm_txn *t = sm_calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	*ret = t;
	return 0;
}

static void txn_clear(struct sm_txn *t)
{
	sm_strvec_release(&t->staged);
	sm_strvec_release(&t->from);
	sm_strvec_release(&t->to);
	sm_strvec_release(&t->trash);
	sm_hashmap_free(t->named);
	t->named = NULL;
	sm_free(t->ino);
	t->ino = NULL;
}

int sm_txn_staged(struct sm_txn *t, const char *rel)
{
	int r = note(t, rel);

	return r < 0 ? r : sm_strvec_push(&t->staged, rel);
}

int sm_txn_move(struct sm_txn *t, const char *from, const char *to)
{
	int r = note(t, from);

	if (r == 0)
		r = note(t, to);
	if (r == 0)
		r = sm_strvec_push(&t->from, from);
	if (r == 0 && (r = sm_strvec_push(&t->to, to)) < 0) {
		sm_free(t->from.v[--t->from.n]);
		t->from.v[t->from.n] = NULL;
	}
	return r;
}

int sm_txn_trash(struct sm_txn *t, const char *rel)
{
	return sm_strvec_push(&t->trash, rel);
}

static void strvec_erase(struct sm_strvec *s, size_t i)
{
	sm_free(s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->v[--s->n] = NULL;
}

/* The index of the move of a staged copy onto rel, or -1. */
static long incoming(const struct sm_txn *t, const char *rel)
{
	if (!maybe_named(t, rel))
		return -1;
	for (size_t i = t->from.n; i-- > 0;)
		if (!strcmp(t->to.v[i], rel) && sm_strvec_find(&t->staged, t->from.v[i]) >= 0)
			return (long)i;
	return -1;
}

const char *sm_txn_incoming(const struct sm_txn *t, const char *rel)
{
	long i = incoming(t, rel);

	return i >= 0 ? t->from.v[i] : NULL;
}

bool sm_txn_outgoing(const struct sm_txn *t, const char *rel)
{
	return maybe_named(t, rel) && sm_strvec_find(&t->from, rel) >= 0;
}

bool sm_txn_is_staged(const struct sm_txn *t, const char *rel)
{
	return maybe_named(t, rel) && sm_strvec_find(&t->staged, rel) >= 0;
}

static int at(const char *dir, const char *rel, struct strbuf *out)
{
	sm_strbuf_reset(out);
	return sm_strbuf_addf(out, "%s/%s", dir, rel);
}

void sm_txn_abort(const char *dir, struct sm_txn *t)
{
	struct strbuf p = STRBUF_INIT;

	if (!t)
		return;
	for (size_t i = 0; i < t->staged.n; i++)
		if (at(dir, t->staged.v[i], &p) == 0)
			(void)sm_fs_remove_tree_force(p.buf, NULL);
	sm_strbuf_release(&p);
	txn_clear(t);
	sm_free(t);
}

void sm_txn_drop_incoming(const char *dir, struct sm_txn *t, const char *rel)
{
	struct strbuf p = STRBUF_INIT;
	long i = incoming(t, rel), s;

	if (i < 0)
		return;
	s = sm_strvec_find(&t->staged, t->from.v[i]);
	if (at(dir, t->from.v[i], &p) == 0)
		(void)sm_fs_remove_tree_force(p.buf, NULL);
	sm_strbuf_release(&p);
	strvec_erase(&t->staged, (size_t)s);
	strvec_erase(&t->from, (size_t)i);
	strvec_erase(&t->to, (size_t)i);
}

/* An injected failure (test builds) reads as an I/O error of that step. */
static int point(const char *step, struct strbuf *err)
{
	int r = SM_TEST_POINT(step);

	return r < 0 ? sm_err(err, r, "cannot commit the collection: injected failure at '%s'",
			      step)
		     : 0;
}

/* ---- the journal ---- */

static struct sm_toml_value *strv_array(const struct sm_strvec *s)
{
	struct sm_toml_value *a = sm_toml_new_array(), *v;

	for (size_t i = 0; a && i < s->n; i++) {
		v = sm_toml_new_string(s->v[i]);
		if (!v || sm_toml_push(a, v) < 0) {
			sm_toml_free(v);
			sm_toml_free(a);
			return NULL;
		}
	}
	return a;
}

static struct sm_toml_value *ino_array(const struct sm_txn *t)
{
	struct sm_toml_value *a = sm_toml_new_array(), *v;

	for (size_t i = 0; a && i < t->from.n; i++) {
		v = sm_toml_new_int((int64_t)t->ino[i]);
		if (!v || sm_toml_push(a, v) < 0) {
			sm_toml_free(v);
			sm_toml_free(a);
			return NULL;
		}
	}
	return a;
}

static int journal_write(const char *dir, const char *state, const struct sm_txn *t,
			 struct strbuf *err)
{
	struct sm_toml_value *doc = sm_toml_new_table(), *a;
	struct strbuf path = STRBUF_INIT, out;
	int r = -ENOMEM;

	sm_strbuf_init(&out, JOURNAL_MAX);
	if (!doc || sm_toml_set_string(doc, "state", state) < 0)
		goto out;
	if (t->user_collections &&
	    (!(a = sm_toml_new_bool(true)) || sm_toml_set(doc, "user_collections", a) < 0))
		goto out;
	if (!(a = strv_array(&t->from)) || sm_toml_set(doc, "from", a) < 0 ||
	    !(a = strv_array(&t->to)) || sm_toml_set(doc, "to", a) < 0 ||
	    !(a = strv_array(&t->trash)) || sm_toml_set(doc, "trash", a) < 0 ||
	    !(a = strv_array(&t->staged)) || sm_toml_set(doc, "staged", a) < 0)
		goto out;
	if (t->ino && (!(a = ino_array(t)) || sm_toml_set(doc, "ino", a) < 0))
		goto out;
	if ((r = sm_toml_encode(doc, &out, err)) < 0 || (r = at(dir, JOURNAL, &path)) < 0)
		goto out;
	r = sm_fs_write_atomic(path.buf, out.buf, out.len, 0644, err);
out:
	sm_toml_free(doc);
	sm_strbuf_release(&out);
	sm_strbuf_release(&path);
	return r;
}

static int read_strv(const struct sm_toml_value *doc, const char *key, struct sm_strvec *s)
{
	const struct sm_toml_value *a = sm_toml_get(doc, key);

	if (!a)
		return 0;
	if (a->type != SM_TOML_ARRAY)
		return -EBADMSG;
	for (size_t i = 0; i < sm_toml_len(a); i++) {
		const struct sm_toml_value *v = sm_toml_at(a, i);
		int r;

		if (v->type != SM_TOML_STRING)
			return -EBADMSG;
		r = sm_strvec_push(s, sm_toml_str(v));
		if (r < 0)
			return r;
	}
	return 0;
}

/* The journal's inodes (none in a journal of an older version: every one 0). */
static int read_ino(const struct sm_toml_value *doc, struct sm_txn *t)
{
	const struct sm_toml_value *a = sm_toml_get(doc, "ino");

	if (!a)
		return 0;
	if (a->type != SM_TOML_ARRAY || sm_toml_len(a) != t->from.n)
		return -EBADMSG;
	if (t->from.n && !(t->ino = sm_calloc(t->from.n, sizeof(*t->ino))))
		return -ENOMEM;
	for (size_t i = 0; i < t->from.n; i++) {
		const struct sm_toml_value *v = sm_toml_at(a, i);

		if (v->type != SM_TOML_INTEGER)
			return -EBADMSG;
		t->ino[i] = (uint64_t)v->u.i;
	}
	return 0;
}

/* ".NAME<tag>PID[-N]" for one of tags. */
static bool tagged_name(const char *base, const char *const *tags)
{
	const char *p = NULL;

	if (base[0] != '.')
		return false;
	for (; *tags && !p; tags++)
		p = strstr(base, *tags);
	if (!p || p == base)
		return false;
	p += strlen(tags[-1]);
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	/* a second copy staged in the same write: "-N" */
	if (*p == '-' && p[1] >= '0' && p[1] <= '9')
		for (p++; *p >= '0' && *p <= '9';)
			p++;
	return !*p;
}

/* A set-aside or staged name of ours: ".NAME.sm-old-PID" / ".NAME.sm-new-PID[-N]". */
static bool side_name(const char *base)
{
	static const char *const tags[] = { ".sm-old-", ".sm-new-", NULL };

	return tagged_name(base, tags);
}

/*
 * What a dead writer may leave in a type folder: its side names, and the
 * merge base sync-pull extracts beside an artifact (".NAME.sm-base-PID"; the
 * ".sm-stage-" copies of older versions).
 */
static bool leftover_name(const char *base)
{
	static const char *const tags[] = { ".sm-old-", ".sm-new-", ".sm-base-", ".sm-stage-",
					    NULL };

	return tagged_name(base, tags);
}

static const char *base_of(const char *rel)
{
	const char *s = strrchr(rel, '/');

	return s ? s + 1 : rel;
}

/*
 * Read the journal of dir: -ENOENT when there is none. Every path must stay
 * in the collection and every rename and deletion touch one of our side
 * names, so a hostile journal can move nothing else.
 */
static int journal_read(const char *dir, char state[16], struct sm_txn *t, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, tmp = STRBUF_INIT;
	struct sm_toml_value *doc = NULL;
	const char *st;
	int r;

	if ((r = at(dir, JOURNAL, &path)) < 0)
		goto out;
	r = sm_fs_read_file(path.buf, JOURNAL_MAX, &text, NULL);
	if (r < 0)
		goto out;
	r = sm_toml_parse(text.buf, text.len, &doc, NULL);
	if (r < 0)
		goto bad;
	st = sm_toml_get_string(doc, "state");
	if (!st || (strcmp(st, "prepared") && strcmp(st, "committed")))
		goto bad;
	snprintf(state, 16, "%s", st);
	(void)sm_toml_get_bool(doc, "user_collections", &t->user_collections);
	if ((r = read_strv(doc, "from", &t->from)) < 0 || (r = read_strv(doc, "to", &t->to)) < 0 ||
	    (r = read_strv(doc, "trash", &t->trash)) < 0 ||
	    (r = read_strv(doc, "staged", &t->staged)) < 0) {
		if (r == -ENOMEM)
			goto out;
		goto bad;
	}
	if (t->from.n != t->to.n)
		goto bad;
	if ((r = read_ino(doc, t)) < 0) {
		if (r == -ENOMEM)
			goto out;
		goto bad;
	}
	for (size_t i = 0; i < t->from.n; i++) {
		if (!side_name(base_of(t->from.v[i])) && !side_name(base_of(t->to.v[i])))
			goto bad;
		if (sm_fs_safe_join(dir, t->from.v[i], &tmp, NULL) < 0 ||
		    sm_fs_safe_join(dir, t->to.v[i], &tmp, NULL) < 0)
			goto bad;
	}
	for (size_t i = 0; i < t->trash.n; i++)
		if (!side_name(base_of(t->trash.v[i])) ||
		    sm_fs_safe_join(dir, t->trash.v[i], &tmp, NULL) < 0)
			goto bad;
	for (size_t i = 0; i < t->staged.n; i++)
		if (!side_name(base_of(t->staged.v[i])) ||
		    sm_fs_safe_join(dir, t->staged.v[i], &tmp, NULL) < 0)
			goto bad;
	r = 0;
	goto out;
bad:
	r = sm_err(err, -EBADMSG, "cannot recover '%s': the journal is malformed", path.buf);
out:
	sm_toml_free(doc);
	sm_strbuf_release(&path);
	sm_strbuf_release(&text);
	sm_strbuf_release(&tmp);
	return r;
}

static int journal_remove(const char *dir, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	int r = at(dir, JOURNAL, &p);

	if (r == 0 && unlink(p.buf) < 0 && errno != ENOENT)
		r = sm_err(err, -errno, "cannot remove '%s': %s", p.buf, sm_strerror(errno));
	if (r == 0)
		r = sm_fs_fsync_dir(dir, err);
	sm_strbuf_release(&p);
	return r;
}

/* ---- steps ---- */

/* The home of the collection folder dir ("<root>/collections/<name>"). */
static int home_of(const char *dir, struct strbuf *out)
{
	const char *s = strrchr(dir, '/');

	sm_strbuf_reset(out);
	while (s && s > dir && s[-1] != '/')
		s--;
	/* s: "collections/<name>" */
	if (!s || s == dir)
		return sm_strbuf_addstr(out, ".");
	return sm_strbuf_add(out, dir, (size_t)(s - dir - 1));
}

static bool exists_rel(const char *dir, const char *rel)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	bool r = at(dir, rel, &p) == 0 && lstat(p.buf, &st) == 0;

	sm_strbuf_release(&p);
	return r;
}

static int rename_rel(const char *dir, const char *from, const char *to, struct strbuf *err)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	int r = at(dir, from, &a);

	if (r == 0)
		r = at(dir, to, &b);
	if (r == 0 && rename(a.buf, b.buf) < 0)
		r = sm_err(err, -errno, "cannot move '%s' to '%s': %s", a.buf, b.buf,
			   sm_strerror(errno));
	sm_strbuf_release(&a);
	sm_strbuf_release(&b);
	return r;
}

/* The inode of dir/rel, 0 when it does not exist. */
static uint64_t ino_rel(const char *dir, const char *rel)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	uint64_t r = at(dir, rel, &p) == 0 && lstat(p.buf, &st) == 0 ? (uint64_t)st.st_ino : 0;

	sm_strbuf_release(&p);
	return r;
}

/* Swap dir/a and dir/b in one step; -EINVAL / -ENOSYS / -ENOTSUP: not here. */
static int exchange_rel(const char *dir, const char *a, const char *b, struct strbuf *err)
{
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	int r = at(dir, a, &x);

	if (r == 0)
		r = at(dir, b, &y);
	/* (test builds: a file system without the exchange) */
	if (r == 0 && SM_TEST_POINT("txn-no-exchange") < 0)
		r = -EINVAL;
	else if (r == 0 && renameat2(AT_FDCWD, x.buf, AT_FDCWD, y.buf, RENAME_EXCHANGE) < 0) {
		r = -errno;
		if (r != -EINVAL && r != -ENOSYS && r != -ENOTSUP)
			r = sm_err(err, r, "cannot swap '%s' into place: %s", y.buf,
				   sm_strerror(errno));
	}
	sm_strbuf_release(&x);
	sm_strbuf_release(&y);
	return r;
}

/*
 * Moves i and i + 1 replace X: X set aside to OLD, then the staged copy onto
 * X. They are done as an exchange of the staged copy with X (X is never
 * missing, not even for a reader between two renames) and then a rename of
 * the staged name, which holds the old X now, to OLD.
 */
static bool is_replace(const struct sm_txn *t, size_t i)
{
	return i + 1 < t->from.n && !strcmp(t->from.v[i], t->to.v[i + 1]);
}

/*
 * Move n is the second of a replace whose exchange was done and whose
 * rename to OLD was not: X holds the staged copy's inode, the staged name
 * holds the old X, OLD does not exist.
 */
static bool exchanged_only(const char *dir, const struct sm_txn *t, size_t n)
{
	return t->ino && t->ino[n] && n > 0 && ino_rel(dir, t->to.v[n]) == t->ino[n] &&
	       exists_rel(dir, t->from.v[n]) && !exists_rel(dir, t->to.v[n - 1]);
}

/*
 * Undo moves [0, n) in reverse: each is undone when only its target exists,
 * and a replace stopped between its exchange and its rename is exchanged back.
 */
static int undo_moves(const char *dir, const struct sm_txn *t, size_t n, struct strbuf *err)
{
	int r = 0, q;

	while (n-- > 0) {
		if (exchanged_only(dir, t, n)) {
			q = exchange_rel(dir, t->from.v[n], t->to.v[n], err);
			/*
			 * no exchange here (the home moved to another file system):
			 * the new copy to the set-aside name, the old one back
			 */
			if (q == -EINVAL || q == -ENOSYS || q == -ENOTSUP)
				q = rename_rel(dir, t->to.v[n], t->to.v[n - 1], err) ?:
				    rename_rel(dir, t->from.v[n], t->to.v[n], err);
		} else if (exists_rel(dir, t->to.v[n]) && !exists_rel(dir, t->from.v[n]))
			q = rename_rel(dir, t->to.v[n], t->from.v[n], err);
		else
			q = 0;
		if (q < 0 && r == 0)
			r = q;
	}
	return r;
}

/*
 * Do moves [*done, ...): a replace as an exchange and a rename (is_replace),
 * where the file system can exchange; *done counts the moves done or begun
 * (undo_moves tells a half-done replace by its inode).
 */
static int do_moves(const char *dir, struct sm_txn *t, size_t *done, struct strbuf *err)
{
	int r;

	while (*done < t->from.n) {
		size_t i = *done;

		if ((r = point("commit-move", err)) < 0)
			return r;
		if (is_replace(t, i) && t->ino[i + 1]) {
			r = exchange_rel(dir, t->from.v[i + 1], t->to.v[i + 1], err);
			if (r == 0) {
				*done = i + 2;
				if ((r = point("commit-move", err)) < 0 ||
				    (r = rename_rel(dir, t->from.v[i + 1], t->to.v[i], err)) < 0)
					return r;
				continue;
			}
			if (r != -EINVAL && r != -ENOSYS && r != -ENOTSUP)
				return r;
			t->ino[i + 1] = 0; /* no exchange here: two renames */
		}
		if ((r = rename_rel(dir, t->from.v[i], t->to.v[i], err)) < 0)
			return r;
		*done = i + 1;
	}
	return 0;
}

/*
 * Make the renames durable: an fsync of each folder they changed (a few type
 * folders), not a syncfs of the whole file system.
 */
static int sync_moves(const char *dir, const struct sm_txn *t, struct strbuf *err)
{
	struct sm_strvec done = SM_STRVEC_INIT;
	struct strbuf p = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; r == 0 && i < 2 * t->from.n; i++) {
		const char *rel = i < t->from.n ? t->from.v[i] : t->to.v[i - t->from.n];
		const char *s = strrchr(rel, '/');

		sm_strbuf_reset(&p);
		if ((r = sm_strbuf_addstr(&p, dir)) < 0 ||
		    (s && ((r = sm_strbuf_addch(&p, '/')) < 0 ||
			   (r = sm_strbuf_add(&p, rel, (size_t)(s - rel))) < 0)))
			break;
		if (sm_strvec_find(&done, p.buf) >= 0)
			continue;
		if ((r = sm_strvec_push(&done, p.buf)) < 0)
			break;
		r = sm_fs_fsync_dir(p.buf, err);
	}
	sm_strvec_release(&done);
	sm_strbuf_release(&p);
	return r;
}

static void unlink_rel(const char *dir, const char *rel)
{
	struct strbuf p = STRBUF_INIT;

	if (at(dir, rel, &p) == 0)
		(void)unlink(p.buf);
	sm_strbuf_release(&p);
}

/*
 * After the commit point: the next files over the real ones, the set-aside
 * copies deleted, the journal removed. Each step can be repeated.
 */
static int finish(const char *dir, const struct sm_txn *t, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	if (exists_rel(dir, MANIFEST_NEXT) && (r = rename_rel(dir, MANIFEST_NEXT, MANIFEST, err)) < 0)
		goto out;
	if ((r = point("commit-manifest-renamed", err)) < 0)
		goto out;
	if (exists_rel(dir, LOCK_NEXT) && (r = rename_rel(dir, LOCK_NEXT, LOCKFILE, err)) < 0)
		goto out;
	if ((r = sm_fs_fsync_dir(dir, err)) < 0 || (r = point("commit-lock-renamed", err)) < 0)
		goto out;
	if (t->user_collections) {
		if ((r = home_of(dir, &p)) < 0)
			goto out;
		if (exists_rel(p.buf, UC_NEXT) &&
		    ((r = rename_rel(p.buf, UC_NEXT, UC_FILE, err)) < 0 ||
		     (r = sm_fs_fsync_dir(p.buf, err)) < 0))
			goto out;
		if ((r = point("commit-user-collections-renamed", err)) < 0)
			goto out;
	}
	for (size_t i = 0; i < t->trash.n; i++) {
		if ((r = at(dir, t->trash.v[i], &p)) < 0 ||
		    (r = sm_fs_remove_tree_force(p.buf, err)) < 0 ||
		    (r = point("commit-trash-deleted", err)) < 0)
			goto out;
	}
	r = journal_remove(dir, err);
	if (r == 0)
		r = point("commit-done", err);
out:
	sm_strbuf_release(&p);
	return r;
}

int sm_txn_commit(const char *dir, struct sm_txn *t, struct sm_manifest *m, struct sm_lock *l,
		  const struct strbuf *uc_text, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT, root = STRBUF_INIT;
	size_t done = 0;
	int r;

	t->user_collections = uc_text != NULL;
	if (uc_text &&
	    ((r = home_of(dir, &root)) < 0 || (r = at(root.buf, UC_NEXT, &p)) < 0 ||
	     (r = sm_fs_write_atomic(p.buf, uc_text->buf, uc_text->len, 0644, err)) < 0))
		goto undo;
	/* 1. the next versions beside the real files */
	if ((r = point("commit-begin", err)) < 0 || (r = at(dir, MANIFEST_NEXT, &p)) < 0 ||
	    (r = sm_manifest_save_as(m, p.buf, 0, err)) < 0 ||
	    (r = point("commit-manifest-staged", err)) < 0 || (r = at(dir, LOCK_NEXT, &p)) < 0 ||
	    (r = sm_lock_save_as(l, p.buf, 0, err)) < 0 ||
	    (r = point("commit-lock-staged", err)) < 0)
		goto undo;
	/* 2. the renames, undone by recovery until the commit point */
	if (t->from.n) {
		if (!(t->ino = sm_calloc(t->from.n, sizeof(*t->ino)))) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto undo;
		}
		for (size_t i = 0; i + 1 < t->from.n; i++)
			if (is_replace(t, i))
				t->ino[i + 1] = ino_rel(dir, t->from.v[i + 1]);
		if ((r = journal_write(dir, "prepared", t, err)) < 0 ||
		    (r = point("commit-prepared", err)) < 0 || (r = do_moves(dir, t, &done, err)) < 0)
			goto undo;
		if ((r = sync_moves(dir, t, err)) < 0 || (r = point("commit-moved", err)) < 0)
			goto undo;
	}
	/* 3. the commit point */
	r = journal_write(dir, "committed", t, err);
	if (r < 0)
		goto undo;
	/* 4. from here the write stands: what fails now is finished by recovery */
	if (point("commit-committed", NULL) == 0)
		(void)finish(dir, t, NULL);
	r = 0;
	txn_clear(t);
	goto out;
undo:
	(void)undo_moves(dir, t, done, NULL);
	(void)journal_remove(dir, NULL);
	unlink_rel(dir, MANIFEST_NEXT);
	unlink_rel(dir, LOCK_NEXT);
	if (uc_text && root.len)
		unlink_rel(root.buf, UC_NEXT);
out:
	sm_strbuf_release(&p);
	sm_strbuf_release(&root);
	return r;
}

/* ---- recovery ---- */

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static bool has_suffix(const char *s, const char *x)
{
	size_t n = strlen(s), m = strlen(x);

	return n >= m && !strcmp(s + n - m, x);
}

void sm_txn_clean_dir(const char *dir, const char *const *prefixes)
{
	struct strbuf p = STRBUF_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		for (size_t i = 0; prefixes[i]; i++) {
			if (!has_prefix(de->d_name, prefixes[i]) ||
			    (!has_suffix(de->d_name, ".tmp") && !has_suffix(de->d_name, ".sm-next")))
				continue;
			if (at(dir, de->d_name, &p) == 0)
				(void)unlink(p.buf);
			break;
		}
	}
	closedir(d);
	sm_strbuf_release(&p);
}

/* .NAME.sm-new-PID and .NAME.sm-old-PID in each folder of the collection. */
static void clean_side_trees(const char *dir)
{
	struct strbuf sub = STRBUF_INIT, p = STRBUF_INIT;
	struct dirent *de, *de2;
	DIR *d = opendir(dir), *d2;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (at(dir, de->d_name, &sub) < 0 || !(d2 = opendir(sub.buf)))
			continue;
		while ((de2 = readdir(d2)))
			if (leftover_name(de2->d_name) && at(sub.buf, de2->d_name, &p) == 0)
				(void)sm_fs_remove_tree_force(p.buf, NULL);
		closedir(d2);
	}
	closedir(d);
	sm_strbuf_release(&sub);
	sm_strbuf_release(&p);
}

int sm_txn_recover(const char *dir, struct strbuf *err)
{
	static const char *const ours[] = { ".collection.", "..collection.", NULL };
	struct sm_txn t = { 0 };
	char state[16];
	int r;

	r = journal_read(dir, state, &t, err);
	if (r == -ENOENT) {
		r = 0;
	} else if (r == 0 && !strcmp(state, "committed")) {
		/*
		 * every rename was done and synced before the commit point: only
		 * the next files, the set-aside copies and the journal are left
		 * (redoing a rename here would move a finished one again)
		 */
		r = finish(dir, &t, err);
	} else if (r == 0) {
		/* prepared: the old state comes back */
		r = undo_moves(dir, &t, t.from.n, err);
		if (r == 0)
			r = sync_moves(dir, &t, err);
		if (r == 0)
			r = journal_remove(dir, err);
	}
	txn_clear(&t);
	if (r < 0)
		return r;
	sm_txn_clean_dir(dir, ours);
	clean_side_trees(dir);
	return 0;
}

/*
 * What an interrupted snapshot restore leaves in the collections folder
 * (core/snapshot.c): a collection it set aside (".NAME.sm-prev-PID") goes
 * back when NAME is missing (the restored one was not moved in yet) and is
 * deleted otherwise; the swapped-out or half-extracted ".NAME.sm-restore-PID"
 * is deleted.
 */
static void clean_restores(const char *dir)
{
	static const char *const prev[] = { ".sm-prev-", NULL }, *const stage[] = {
		".sm-restore-", NULL
	};
	struct strbuf p = STRBUF_INIT, q = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	for (int pass = 0; pass < 2; pass++) {
		if (!(d = opendir(dir)))
			break;
		while ((de = readdir(d))) {
			const char *tag;

			if (!tagged_name(de->d_name, pass ? stage : prev) || at(dir, de->d_name, &p) < 0)
				continue;
			tag = strstr(de->d_name, pass ? stage[0] : prev[0]);
			sm_strbuf_reset(&q);
			if (pass == 0 && sm_strbuf_addf(&q, "%s/%.*s", dir, (int)(tag - de->d_name - 1),
							de->d_name + 1) == 0 &&
			    !exists_rel(dir, q.buf + strlen(dir) + 1) && rename(p.buf, q.buf) == 0) {
				(void)sm_fs_fsync_dir(dir, NULL);
				continue;
			}
			(void)sm_fs_remove_tree_force(p.buf, NULL);
		}
		closedir(d);
	}
	sm_strbuf_release(&p);
	sm_strbuf_release(&q);
}

void sm_txn_clean_home(const char *root)
{
	/* files written only under the home lock */
	static const char *const ours[] = { ".user-collections.toml.", "..user-collections.toml.",
					     ".server.json.", NULL };
	static const char *const config[] = { ".config.toml.", NULL };
	static const char *const hidden[] = { ".", NULL };
	struct strbuf p = STRBUF_INIT, q = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;

	/* an interrupted restore first: its collection may be set aside */
	if (at(root, "collections", &p) == 0)
		clean_restores(p.buf);
	/* then finish or undo interrupted writes: one may still need its next files */
	if (at(root, "collections", &p) == 0 && (d = opendir(p.buf))) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || at(p.buf, de->d_name, &q) < 0 ||
			    !exists_rel(q.buf, JOURNAL))
				continue;
			(void)sm_txn_recover(q.buf, NULL);
		}
		closedir(d);
	}
	sm_txn_clean_dir(root, ours);
	/*
	 * config.toml is also created without the lock when a new home is first
	 * read: only a temp file older than a minute is a dead writer's.
	 */
	d = opendir(root);
	while (d && (de = readdir(d))) {
		if (!has_prefix(de->d_name, config[0]) || !has_suffix(de->d_name, ".tmp") ||
		    at(root, de->d_name, &p) < 0 || lstat(p.buf, &st) < 0)
			continue;
		if (time(NULL) - st.st_mtime > 60)
			(void)unlink(p.buf);
	}
	if (d)
		closedir(d);
	/*
	 * temp files of snapshots and rollback audits cut short (".ID.tar.gz.tmp",
	 * ".snapshots.toml.*.tmp"): written only under the home lock
	 */
	if (at(root, "audit", &p) == 0)
		sm_txn_clean_dir(p.buf, hidden);
	if (at(root, "snapshots", &p) == 0 && (d = opendir(p.buf))) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && at(p.buf, de->d_name, &q) == 0)
				sm_txn_clean_dir(q.buf, hidden);
		closedir(d);
	}
	/* collections set aside by a delete that was interrupted */
	if (at(root, "collections", &p) == 0 && (d = opendir(p.buf))) {
		while ((de = readdir(d)))
			if (side_name(de->d_name) && at(p.buf, de->d_name, &q) == 0)
				(void)sm_fs_remove_tree_force(q.buf, NULL);
		closedir(d);
	}
	sm_strbuf_release(&p);
	sm_strbuf_release(&q);
}

bool sm_txn_committed(const char *dir, char **manifest, char **lock)
{
	struct strbuf p = STRBUF_INIT;
	struct sm_txn t = { 0 };
	char state[16];
	bool r = false;

	*manifest = *lock = NULL;
	if (journal_read(dir, state, &t, NULL) < 0 || strcmp(state, "committed"))
		goto out;
	r = true;
	if (exists_rel(dir, MANIFEST_NEXT) && at(dir, MANIFEST_NEXT, &p) == 0)
		*manifest = sm_strbuf_detach(&p, NULL);
	if (exists_rel(dir, LOCK_NEXT) && at(dir, LOCK_NEXT, &p) == 0)
		*lock = sm_strbuf_detach(&p, NULL);
out:
	txn_clear(&t);
	sm_strbuf_release(&p);
	return r;
}
