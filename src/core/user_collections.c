/* SPDX-License-Identifier: MIT */
/*
 * user-collections.toml: load, edit in place, save atomically. An entry, field
 * or member we cannot understand is left out of the view with a warning and
 * kept in the file as it is.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "skillmeat/array.h"
#include "skillmeat/artifact.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/timeutil.h"
#include "skillmeat/toml.h"
#include "skillmeat/user_collections.h"
#include "skillmeat/utf8.h"
#include "util/banned.h"

/* ---- text rules ---- */

enum text_rule {
	TEXT_LINE,	/* no control characters at all */
	TEXT_MULTILINE, /* tab and newline allowed */
};

/* Valid UTF-8 without control characters (C0, DEL, C1). */
static int text_check(const char *what, const char *s, size_t max, enum text_rule rule,
		      struct strbuf *err)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);

	if ((size_t)(end - p) > max)
		return sm_err(err, -EINVAL, "%s is longer than %zu bytes", what, max);
	while (p < end) {
		size_t n = sm_utf8_len(p, end);

		if (!n)
			return sm_err(err, -EINVAL, "%s is not valid UTF-8", what);
		if (n == 1 && (*p < 0x20 || *p == 0x7f) &&
		    !(rule == TEXT_MULTILINE && (*p == '\t' || *p == '\n')))
			return sm_err(err, -EINVAL, "%s holds a control character", what);
		if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			return sm_err(err, -EINVAL, "%s holds a control character", what);
		p += n;
	}
	return 0;
}

int sm_user_collections_name_check(const char *name, struct strbuf *err)
{
	int r;

	if (!name || !*name)
		return sm_err(err, -EINVAL, "a user collection name cannot be empty");
	r = text_check("the name", name, SM_UC_NAME_MAX, TEXT_LINE, err);
	if (r < 0)
		return r;
	if (strspn(name, " ") == strlen(name))
		return sm_err(err, -EINVAL, "a user collection name cannot be only spaces");
	if (!strcmp(name, SM_UC_DEFAULT_NAME))
		return sm_err(err, -EINVAL, "the name '%s' is reserved for the default collection",
			      SM_UC_DEFAULT_NAME);
	return 0;
}

static bool id_ok(const char *id)
{
	return strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
}

bool sm_user_collections_is_default(const char *id_or_name)
{
	return id_or_name &&
	       (!strcmp(id_or_name, SM_UC_DEFAULT_ID) || !strcmp(id_or_name, SM_UC_DEFAULT_NAME));
}

int sm_user_collections_key_parse(const char *key, struct sm_user_collection_key *ret,
				  struct strbuf *err)
{
	struct sm_user_collection_key k = {0};
	const char *colon, *slash, *id = key;
	enum sm_artifact_type t;
	size_t tl;
	int r;

	r = text_check("the artifact id", key, 512, TEXT_LINE, err);
	if (r < 0)
		return r;
	colon = strchr(key, ':');
	slash = strchr(key, '/');
	if (!colon)
		return sm_err(err, -EINVAL, "artifact id '%s' is not type:name", key);
	if (slash && slash < colon) {
		if (slash == key)
			return sm_err(err, -EINVAL, "artifact id '%s' has an empty collection",
				      key);
		k.collection = key;
		k.collection_len = (size_t)(slash - key);
		id = slash + 1;
	}
	tl = (size_t)(colon - id);
	if (tl == 0 || tl >= sizeof(k.type))
		return sm_err(err, -EINVAL, "artifact id '%s' has no valid type", key);
	memcpy(k.type, id, tl);
	k.type[tl] = '\0';
	t = sm_artifact_type_parse(k.type);
	if (t == SM_TYPE_INVALID)
		return sm_err(err, -EINVAL, "artifact id '%s': unknown type '%s'", key, k.type);
	snprintf(k.type, sizeof(k.type), "%s", sm_artifact_type_name(t));
	k.name = colon + 1;
	if (!*k.name)
		return sm_err(err, -EINVAL, "artifact id '%s' has an empty name", key);
	*ret = k;
	return 0;
}

/* ---- the view over the tree ---- */

static void items_free(struct sm_user_collection *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sm_free(items[i].members);
	sm_free(items);
}

static void items_release(struct sm_user_collections *f)
{
	items_free(f->items, f->n);
	f->items = NULL;
	f->n = 0;
}

static struct sm_toml_value *coll_array(const struct sm_user_collections *f)
{
	struct sm_toml_value *a = sm_toml_get(f->doc, "collections");

	return a && a->type == SM_TOML_ARRAY ? a : NULL;
}

/* The table of understood collection idx (items[idx]), or NULL. */
static struct sm_toml_value *coll_table(const struct sm_user_collections *f, size_t idx)
{
	return idx < f->n ? sm_toml_at(coll_array(f), f->items[idx].at) : NULL;
}

/*
 * Warnings of a load: one per entry, field or member not understood, each
 * said once per process (a command or a server loads the file again after
 * each write; the same problem is not news). Keyed without line or index,
 * which move when the file is rewritten.
 */
#define WARNED_MAX ((size_t)1 << 18)
struct sm_uc_warned {
	pthread_mutex_t mu;
	struct sm_hashmap *keys;
};
/*
 * One set per process: exported, and looked up by name, because the serve
 * module holds its own copy of this file (it binds its own symbols first,
 * meson.build) while the program's copy ran the start-up sync.
 */
struct sm_uc_warned sm_user_collections_warned_ = {PTHREAD_MUTEX_INITIALIZER, NULL};

static struct sm_uc_warned *warned_set(void)
{
	static _Atomic(struct sm_uc_warned *) set;
	struct sm_uc_warned *w = atomic_load(&set);

	if (!w) {
		/* the program's (RTLD_DEFAULT would start at a -Bsymbolic module itself) */
		void *prog = dlopen(NULL, RTLD_LAZY);

		w = prog ? dlsym(prog, "sm_user_collections_warned_") : NULL;
		if (prog)
			dlclose(prog);
		if (!w)
			w = &sm_user_collections_warned_;
		atomic_store(&set, w);
	}
	return w;
}

static bool first_time(const struct strbuf *key)
{
	struct sm_uc_warned *w = warned_set();
	bool first = true;

	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a: 8 bytes kept per problem */

	for (size_t i = 0; i < key->len; i++)
		h = (h ^ (unsigned char)key->buf[i]) * 0x100000001b3ull;
	pthread_mutex_lock(&w->mu);
	if (!w->keys && sm_hashmap_new(&w->keys) < 0)
		goto out;
	if (sm_hashmap_get(w->keys, &h, sizeof(h), NULL))
		first = false;
	else if (sm_hashmap_size(w->keys) < WARNED_MAX)
		(void)sm_hashmap_put(w->keys, &h, sizeof(h), NULL, NULL);
out:
	pthread_mutex_unlock(&w->mu);
	return first;
}

/* The source of a load, for the lines of the warnings; buf NULL: no warnings. */
struct source {
	const char *path;
	const char *buf;
	size_t len;
	unsigned *lines; /* line of each [[collections]] header, found on first need */
	size_t nlines;
	bool scanned;
	struct sm_hashmap *seen; /* problem keys of this load (problem_key) */
};

/* Line of every "[[collections]]" header, in one pass over the source. */
static void scan_headers(struct source *s)
{
	const char *p = s->buf, *end = s->buf + s->len;
	size_t alloc = 0;
	unsigned line = 1;

	s->scanned = true;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p, *e = eol ? eol : end;

		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if (e - q >= 2 && q[0] == '[' && q[1] == '[') {
			q += 2;
			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if ((size_t)(e - q) >= 11 && !memcmp(q, "collections", 11)) {
				q += 11;
				while (q < e && (*q == ' ' || *q == '\t'))
					q++;
				if (e - q >= 2 && q[0] == ']' && q[1] == ']') {
					if (SM_GROW(s->lines, alloc, s->nlines + 1) < 0)
						return; /* no lines then */
					s->lines[s->nlines++] = line;
				}
			}
		}
		if (!eol)
			break;
		p = eol + 1;
		line++;
	}
}

/* v as TOML text (the identity of something not understood). */
static int value_text(const struct sm_toml_value *v, struct strbuf *out)
{
	struct sm_toml_value *root = sm_toml_new_table(), *c = sm_toml_clone(v);
	int r;

	if (!root || !c) {
		sm_toml_free(root);
		sm_toml_free(c);
		return -ENOMEM;
	}
	r = sm_toml_set(root, "v", c);
	if (r == 0)
		r = sm_toml_encode(root, out, NULL);
	sm_toml_free(root);
	return r;
}

/*
 * The key under which a problem is said once: never a line or an index
 * (they move when the file is rewritten or an entry before goes) but what is
 * not understood: a whole entry by its text, a field by its entry's id and
 * its name, a member by its entry's id and its text; the n-th of identical
 * ones apart.
 */
static int problem_key(struct source *s, const struct sm_toml_value *t, const char *what,
		       const struct sm_toml_value *member, const char *why, struct strbuf *key)
{
	void *seen = NULL;
	uintptr_t n;
	int r;

	r = sm_strbuf_addf(key, "%s%c%s%c%s%c", s->path, 0, why, 0,
			   member ? "member" : what ? what : "", 0);
	if (r == 0 && !what)
		r = value_text(t, key);
	if (r == 0 && what)
		r = sm_strbuf_addstr(key, sm_toml_get_string(t, "id"));
	if (r == 0 && member)
		r = sm_strbuf_add(key, "", 1) ?: value_text(member, key);
	if (r == 0 && !s->seen)
		r = sm_hashmap_new(&s->seen);
	if (r < 0)
		return r;
	(void)sm_hashmap_get(s->seen, key->buf, key->len, &seen);
	n = (uintptr_t)seen;
	r = sm_hashmap_put(s->seen, key->buf, key->len, (void *)(n + 1), NULL);
	return r ?: sm_strbuf_addf(key, "%c%zu", 0, (size_t)n);
}

/*
 * Warn that entry i (what: NULL for the whole entry, else the field or
 * member, which is member when one) is not understood, because of why.
 */
static void report(struct source *s, size_t i, const struct sm_toml_value *t, const char *what,
		   const struct sm_toml_value *member, const char *why)
{
	struct strbuf key = STRBUF_INIT, label = STRBUF_INIT, at = STRBUF_INIT;
	const char *name = sm_toml_get_string(t, "name"), *id = sm_toml_get_string(t, "id");
	int r = 0;

	if (!s || !s->buf)
		return;
	if (!s->scanned)
		scan_headers(s);
	if (name)
		r = sm_strbuf_addf(&label, " ('%s')", name);
	else if (id)
		r = sm_strbuf_addf(&label, " (id '%s')", id);
	if (r == 0 && i < s->nlines)
		r = sm_strbuf_addf(&at, "line %u: ", s->lines[i]);
	if (r == 0)
		r = problem_key(s, t, what, member, why, &key);
	if (r < 0 || first_time(&key)) {
		if (what)
			sm_log_warn("'%s': %scollections[%zu]%s: %s ignored: %s", s->path, at.buf,
				    i, label.buf, what, why);
		else
			sm_log_warn("'%s': %scollections[%zu]%s ignored: %s", s->path, at.buf, i,
				    label.buf, why);
	}
	sm_strbuf_release(&key);
	sm_strbuf_release(&label);
	sm_strbuf_release(&at);
}

static void report_top(struct source *s)
{
	struct strbuf key = STRBUF_INIT;

	if (!s || !s->buf)
		return;
	if (sm_strbuf_addf(&key, "%s%c", s->path, 0) < 0 || first_time(&key))
		sm_log_warn("'%s': 'collections' is not an array of tables, ignored", s->path);
	sm_strbuf_release(&key);
}

/*
 * Why entry t cannot be shown (> 0, the reason in why), or 0 (its id and
 * name then taken in ids and names). The first of two entries with one id or
 * name is the one shown.
 */
static int entry_problem(const struct sm_toml_value *t, struct sm_hashmap *ids,
			 struct sm_hashmap *names, struct strbuf *why)
{
	const struct sm_toml_value *v;
	const char *id, *name;

	if (t->type != SM_TOML_TABLE)
		return sm_strbuf_addstr(why, "not a table") ?: 1;
	v = sm_toml_get(t, "id");
	if (!v || v->type != SM_TOML_STRING)
		return sm_strbuf_addstr(why, "'id' is missing or not a string") ?: 1;
	id = sm_toml_str(v);
	if (!id_ok(id))
		return sm_strbuf_addf(why, "id '%s' is not 32 lowercase hex digits", id) ?: 1;
	v = sm_toml_get(t, "name");
	if (!v || v->type != SM_TOML_STRING)
		return sm_strbuf_addstr(why, "'name' is missing or not a string") ?: 1;
	name = sm_toml_str(v);
	if (sm_user_collections_name_check(name, why) < 0)
		return 1;
	if (sm_hashmap_get(ids, id, strlen(id), NULL))
		return sm_strbuf_addf(why, "id '%s' is used twice", id) ?: 1;
	if (sm_hashmap_get(names, name, strlen(name), NULL))
		return sm_strbuf_addf(why, "name '%s' is used twice", name) ?: 1;
	if (sm_hashmap_put(ids, id, strlen(id), NULL, NULL) < 0 ||
	    sm_hashmap_put(names, name, strlen(name), NULL, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* An optional string field of t, or NULL when absent or not understood (warned). */
static const char *opt_field(struct source *s, size_t i, const struct sm_toml_value *t,
			     const char *key, size_t max, enum text_rule rule, struct strbuf *why)
{
	const struct sm_toml_value *v = sm_toml_get(t, key);
	char what[32];

	if (!v)
		return NULL;
	sm_strbuf_reset(why);
	if (v->type == SM_TOML_STRING && text_check("the value", sm_toml_str(v), max, rule, why) == 0)
		return sm_toml_str(v);
	snprintf(what, sizeof(what), "'%s'", key);
	report(s, i, t, what, NULL, v->type == SM_TOML_STRING ? why->buf : "not a string");
	return NULL;
}

static const char *opt_time(struct source *s, size_t i, const struct sm_toml_value *t,
			    const char *key)
{
	const char *v = sm_toml_get_string(t, key);
	char what[32];
	time_t sec;
	long usec;

	if (!sm_toml_get(t, key) || (v && sm_time_parse_iso(v, &sec, &usec) == 0))
		return v;
	snprintf(what, sizeof(what), "'%s'", key);
	report(s, i, t, what, NULL, "not an ISO date-time string");
	return NULL;
}

/* The members of entry i that are well-formed keys; the others warned about. */
static int view_members(struct source *s, size_t i, const struct sm_toml_value *t,
			struct sm_user_collection *uc, struct strbuf *why)
{
	const struct sm_toml_value *m = sm_toml_get(t, "members");
	char what[48];

	if (!m)
		return 0;
	if (m->type != SM_TOML_ARRAY) {
		report(s, i, t, "'members'", NULL, "not an array");
		return 0;
	}
	if (!sm_toml_len(m))
		return 0;
	uc->members = sm_calloc(sm_toml_len(m), sizeof(*uc->members));
	if (!uc->members)
		return -ENOMEM;
	for (size_t k = 0; k < sm_toml_len(m); k++) {
		const struct sm_toml_value *v = sm_toml_at(m, k);
		struct sm_user_collection_key key;

		sm_strbuf_reset(why);
		if (v->type == SM_TOML_STRING &&
		    sm_user_collections_key_parse(sm_toml_str(v), &key, why) == 0) {
			uc->members[uc->nmembers++] = sm_toml_str(v);
			continue;
		}
		snprintf(what, sizeof(what), "members[%zu]", k);
		report(s, i, t, what, v, v->type == SM_TOML_STRING ? why->buf : "not a string");
	}
	return 0;
}

/*
 * Rebuild items[] from the tree: the entries understood, in file order. An
 * entry, field or member that is not understood is left out of the view
 * (with a warning when s has a source) and stays in the tree as it is, so a
 * save writes it back where it was.
 */
static int refresh(struct sm_user_collections *f, struct source *s)
{
	const struct sm_toml_value *top = sm_toml_get(f->doc, "collections");
	const struct sm_toml_value *a = coll_array(f);
	size_t n = sm_toml_len(a), k = 0, ignored = 0;
	struct sm_hashmap *ids = NULL, *names = NULL;
	struct sm_user_collection *items;
	struct strbuf why = STRBUF_INIT;
	int r = 0;

	items = sm_calloc(n ? n : 1, sizeof(*items));
	if (!items || sm_hashmap_new(&ids) < 0 || sm_hashmap_new(&names) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (top && !a)
		report_top(s);
	for (size_t i = 0; i < n; i++) {
		const struct sm_toml_value *t = sm_toml_at(a, i);
		struct sm_user_collection *uc = &items[k];

		sm_strbuf_reset(&why);
		r = entry_problem(t, ids, names, &why);
		if (r < 0)
			goto out;
		if (r > 0) {
			report(s, i, t, NULL, NULL, why.buf);
			ignored++;
			r = 0;
			continue;
		}
		k++;
		uc->at = i;
		uc->id = sm_toml_get_string(t, "id");
		uc->name = sm_toml_get_string(t, "name");
		uc->description = opt_field(s, i, t, "description", SM_UC_DESCRIPTION_MAX,
					    TEXT_MULTILINE, &why);
		uc->collection_type = opt_field(s, i, t, "collection_type", SM_UC_LABEL_MAX,
						TEXT_LINE, &why);
		uc->context_category = opt_field(s, i, t, "context_category", SM_UC_LABEL_MAX,
						 TEXT_LINE, &why);
		uc->created_at = opt_time(s, i, t, "created_at");
		uc->updated_at = opt_time(s, i, t, "updated_at");
		if ((r = view_members(s, i, t, uc, &why)) < 0)
			goto out;
	}
	items_release(f);
	f->items = items;
	f->n = k;
	f->ignored = ignored;
	items = NULL;
out:
	if (items)
		items_free(items, k);
	sm_hashmap_free(ids);
	sm_hashmap_free(names);
	sm_strbuf_release(&why);
	return r;
}

/* ---- load and save ---- */

void sm_user_collections_free(struct sm_user_collections *f)
{
	if (!f)
		return;
	items_release(f);
	sm_toml_free(f->doc);
	sm_free(f->path);
	sm_free(f);
}

static int load(const char *path, const char *text, size_t len, struct sm_user_collections **ret,
		struct strbuf *err)
{
	struct sm_user_collections *f;
	struct strbuf buf = STRBUF_INIT;
	int r;

	f = sm_calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->path = sm_strdup(path);
	if (!f->path) {
		r = -ENOMEM;
		goto fail;
	}
	if (text)
		r = len > SM_UC_FILE_MAX ? -E2BIG : sm_strbuf_add(&buf, text, len);
	else
		r = sm_fs_read_file(path, SM_UC_FILE_MAX, &buf, err);
	if (r == -ENOENT) {
		f->doc = sm_toml_new_table();
		r = f->doc ? 0 : -ENOMEM;
	} else if (r == 0) {
		f->exists = true;
		if (memchr(buf.buf, '\0', buf.len))
			r = sm_err(err, -EBADMSG, "cannot parse '%s': holds a NUL byte", path);
		else if ((r = sm_toml_parse_flags(buf.buf, buf.len, SM_TOML_BIG_INTEGERS, &f->doc,
						  err)) < 0 &&
			 r != -ENOMEM)
			sm_err_prefix(err, r, "cannot parse '%s'", path);
	} else if (r == -E2BIG) {
		sm_err(err, r, "'%s' is larger than %zu bytes", path, SM_UC_FILE_MAX);
	}
	if (r == 0) {
		struct source src = {.path = path, .buf = f->exists ? buf.buf : NULL, .len = buf.len};

		r = refresh(f, &src);
		sm_free(src.lines);
		sm_hashmap_free(src.seen);
	}
	if (r < 0)
		goto fail;
	sm_strbuf_release(&buf);
	*ret = f;
	return 0;
fail:
	if (r == -ENOMEM)
		sm_err(err, r, "out of memory");
	sm_strbuf_release(&buf);
	sm_user_collections_free(f);
	return r;
}

int sm_user_collections_load_path(const char *path, struct sm_user_collections **ret,
				  struct strbuf *err)
{
	return load(path, NULL, 0, ret, err);
}

int sm_user_collections_load_text(const char *label, const char *text, size_t len,
				  struct sm_user_collections **ret, struct strbuf *err)
{
	return load(label, text, len, ret, err);
}

int sm_user_collections_load(const char *home_root, struct sm_user_collections **ret,
			     struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	r = sm_fs_join(&path, home_root, SM_UC_FILE);
	if (r == 0)
		r = sm_user_collections_load_path(path.buf, ret, err);
	else
		sm_err(err, r, "out of memory");
	sm_strbuf_release(&path);
	return r;
}

int sm_user_collections_save(struct sm_user_collections *f, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	int r;

	r = sm_toml_encode(f->doc, &out, err);
	if (r == 0)
		r = sm_fs_write_atomic(f->path, out.buf, out.len, 0644, err);
	if (r == 0)
		f->exists = true;
	sm_strbuf_release(&out);
	return r;
}

/* ---- queries ---- */

long sm_user_collections_find(const struct sm_user_collections *f, const char *id_or_name,
			      struct strbuf *err)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->items[i].id, id_or_name))
			return (long)i;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->items[i].name, id_or_name))
			return (long)i;
	return sm_err(err, -ENOENT, "user collection '%s' not found", id_or_name);
}

/*
 * -EEXIST when another collection has this name: one shown (except: the
 * index of the one being renamed, or -1) or an entry of the file that is not
 * understood (an id that is not 32 hex digits, a second id): naming a
 * collection after it would make the file say two things.
 */
static int name_taken(const struct sm_user_collections *f, const char *name, long except,
		      struct strbuf *err)
{
	const struct sm_toml_value *a = coll_array(f);
	size_t skip = except >= 0 ? f->items[except].at : SIZE_MAX;

	for (size_t i = 0; i < f->n; i++)
		if ((long)i != except && !strcmp(f->items[i].name, name))
			return sm_err(err, -EEXIST, "collection with name '%s' already exists",
				      name);
	for (size_t i = 0; i < sm_toml_len(a); i++) {
		const char *other = sm_toml_get_string(sm_toml_at(a, i), "name");

		if (i != skip && other && !strcmp(other, name))
			return sm_err(err, -EEXIST,
				      "collection with name '%s' already exists: collections[%zu] "
				      "of '%s', ignored (fix or remove it)",
				      name, i, f->path);
	}
	return 0;
}

/* ---- edits ---- */

/*
 * Put table t (owned) in place of entry idx and rebuild the view; on failure
 * the old entry is back and t is freed, so an edit is all or nothing.
 */
static int replace_entry(struct sm_user_collections *f, size_t idx, struct sm_toml_value *t,
			 struct strbuf *err)
{
	struct sm_toml_value *a = coll_array(f);
	size_t at = f->items[idx].at;
	struct sm_toml_value *old = sm_toml_at(a, at);
	int r;

	sm_toml_array_swap(a, at, t);
	r = refresh(f, NULL);
	if (r < 0) {
		sm_toml_array_swap(a, at, old);
		sm_toml_free(t);
		return sm_err(err, r, "out of memory");
	}
	sm_toml_free(old);
	return 0;
}

static int check_fields(const struct sm_user_collection_fields *fl, struct strbuf *err)
{
	int r = 0;

	if (fl->name)
		r = sm_user_collections_name_check(fl->name, err);
	if (r == 0 && fl->description)
		r = text_check("the description", fl->description, SM_UC_DESCRIPTION_MAX,
			       TEXT_MULTILINE, err);
	if (r == 0 && fl->collection_type) {
		r = text_check("the type", fl->collection_type, SM_UC_LABEL_MAX, TEXT_LINE, err);
		if (r == 0 && !strcmp(fl->collection_type, "default"))
			r = sm_err(err, -EINVAL,
				   "the type 'default' is reserved for the default collection");
	}
	if (r == 0 && fl->context_category)
		r = text_check("the context category", fl->context_category, SM_UC_LABEL_MAX,
			       TEXT_LINE, err);
	return r;
}

static int new_id(const struct sm_user_collections *f, char out[33])
{
	const struct sm_toml_value *a = coll_array(f);

	for (int tries = 0; tries < 8; tries++) {
		unsigned char rnd[16];
		bool used = false;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		for (size_t i = 0; i < 16; i++)
			snprintf(out + 2 * i, 3, "%02x", rnd[i]);
		for (size_t i = 0; i < sm_toml_len(a) && !used; i++) {
			const char *id = sm_toml_get_string(sm_toml_at(a, i), "id");

			used = id && !strcmp(id, out);
		}
		if (!used)
			return 0;
	}
	return -EIO;
}

/* Set or (for "" on an optional field) remove key. */
static int set_field(struct sm_toml_value *t, const char *key, const char *val)
{
	if (!val)
		return 0;
	if (!*val) {
		int r = sm_toml_remove(t, key);

		return r == -ENOENT ? 0 : r;
	}
	return sm_toml_set_string(t, key, val);
}

long sm_user_collections_create(struct sm_user_collections *f,
				const struct sm_user_collection_fields *fields, const char *now,
				struct strbuf *err)
{
	struct sm_toml_value *a, *t;
	char id[33];
	int r;

	if (!fields->name)
		return sm_err(err, -EINVAL, "a user collection needs a name");
	r = check_fields(fields, err);
	if (r < 0)
		return r;
	if ((r = name_taken(f, fields->name, -1, err)) < 0)
		return r;
	r = new_id(f, id);
	if (r < 0)
		return sm_err(err, r, "cannot draw a random id");
	a = coll_array(f);
	if (!a && sm_toml_get(f->doc, "collections"))
		return sm_err(err, -EBADMSG,
			      "cannot add a collection to '%s': its 'collections' is not an array "
			      "of tables (fix or remove it)",
			      f->path);
	if (!a) {
		a = sm_toml_new_array();
		if (!a || (r = sm_toml_set(f->doc, "collections", a)) < 0)
			return sm_err(err, -ENOMEM, "out of memory");
	}
	t = sm_toml_new_table();
	if (!t)
		return sm_err(err, -ENOMEM, "out of memory");
	if ((r = sm_toml_set_string(t, "id", id)) < 0 ||
	    (r = sm_toml_set_string(t, "name", fields->name)) < 0 ||
	    (fields->description && *fields->description &&
	     (r = sm_toml_set_string(t, "description", fields->description)) < 0) ||
	    (fields->collection_type && *fields->collection_type &&
	     (r = sm_toml_set_string(t, "collection_type", fields->collection_type)) < 0) ||
	    (fields->context_category && *fields->context_category &&
	     (r = sm_toml_set_string(t, "context_category", fields->context_category)) < 0) ||
	    (r = sm_toml_set_string(t, "created_at", now)) < 0 ||
	    (r = sm_toml_set_string(t, "updated_at", now)) < 0) {
		sm_toml_free(t);
		return sm_err(err, r, "out of memory");
	}
	r = sm_toml_push(a, t);
	if (r == 0) {
		r = refresh(f, NULL);
		if (r < 0)
			sm_toml_array_remove(a, sm_toml_len(a) - 1);
	}
	if (r < 0)
		return sm_err(err, r, "out of memory");
	return (long)f->n - 1;
}

int sm_user_collections_update(struct sm_user_collections *f, size_t idx,
			       const struct sm_user_collection_fields *fields, const char *now,
			       struct strbuf *err)
{
	struct sm_toml_value *t = coll_table(f, idx);
	int r;

	if (!t)
		return sm_err(err, -ENOENT, "no user collection %zu", idx);
	r = check_fields(fields, err);
	if (r < 0)
		return r;
	if (fields->name && (r = name_taken(f, fields->name, (long)idx, err)) < 0)
		return r;
	/* every allocation first, so a failure leaves the entry as it was */
	t = sm_toml_clone(t);
	if (!t)
		return sm_err(err, -ENOMEM, "out of memory");
	if ((r = set_field(t, "name", fields->name)) < 0 ||
	    (r = set_field(t, "description", fields->description)) < 0 ||
	    (r = set_field(t, "collection_type", fields->collection_type)) < 0 ||
	    (r = set_field(t, "context_category", fields->context_category)) < 0 ||
	    (r = sm_toml_set_string(t, "updated_at", now)) < 0) {
		sm_toml_free(t);
		return sm_err(err, r, "out of memory");
	}
	return replace_entry(f, idx, t, err);
}

int sm_user_collections_delete(struct sm_user_collections *f, size_t idx, struct strbuf *err)
{
	struct sm_toml_value *a = coll_array(f), *old;
	size_t at;
	int r;

	if (!a || idx >= f->n)
		return sm_err(err, -ENOENT, "no user collection %zu", idx);
	at = f->items[idx].at;
	old = sm_toml_array_take(a, at);
	r = refresh(f, NULL);
	if (r < 0) {
		/* room for it is still there: the insert cannot fail */
		(void)sm_toml_array_insert(a, at, old);
		return sm_err(err, r, "out of memory");
	}
	sm_toml_free(old);
	return 0;
}

static long member_index(const struct sm_user_collection *uc, const char *key)
{
	for (size_t i = 0; i < uc->nmembers; i++)
		if (!strcmp(uc->members[i], key))
			return (long)i;
	return -1;
}

int sm_user_collections_add_member(struct sm_user_collections *f, size_t idx, const char *key,
				   struct strbuf *err)
{
	struct sm_user_collection_key k;
	struct sm_toml_value *t = coll_table(f, idx), *m, *s;
	int r;

	if (!t)
		return sm_err(err, -ENOENT, "no user collection %zu", idx);
	r = sm_user_collections_key_parse(key, &k, err);
	if (r < 0)
		return r;
	if (member_index(&f->items[idx], key) >= 0)
		return 0;
	t = sm_toml_clone(t);
	if (!t)
		return sm_err(err, -ENOMEM, "out of memory");
	m = sm_toml_get(t, "members");
	if (m && m->type != SM_TOML_ARRAY) {
		sm_toml_free(t);
		return sm_err(err, -EBADMSG,
			      "cannot add to '%s': its 'members' in '%s' is not an array (fix or "
			      "remove it)",
			      f->items[idx].name, f->path);
	}
	if (!m) {
		m = sm_toml_new_array();
		if (!m || (r = sm_toml_set(t, "members", m)) < 0) {
			sm_toml_free(t);
			return sm_err(err, -ENOMEM, "out of memory");
		}
	}
	s = sm_toml_new_string(key);
	if (!s || (r = sm_toml_push(m, s)) < 0) {
		sm_toml_free(t);
		return sm_err(err, -ENOMEM, "out of memory");
	}
	r = replace_entry(f, idx, t, err);
	return r < 0 ? r : 1;
}

int sm_user_collections_remove_member(struct sm_user_collections *f, size_t idx, const char *key,
				      struct strbuf *err)
{
	struct sm_toml_value *t = coll_table(f, idx), *m;
	long at;
	int r;

	if (!t)
		return sm_err(err, -ENOENT, "no user collection %zu", idx);
	if (member_index(&f->items[idx], key) < 0)
		return 0;
	t = sm_toml_clone(t);
	if (!t)
		return sm_err(err, -ENOMEM, "out of memory");
	m = sm_toml_get(t, "members");
	for (at = 0; at < (long)sm_toml_len(m); at++)
		if (!strcmp(sm_toml_str(sm_toml_at(m, (size_t)at)) ?: "", key))
			break;
	r = sm_toml_array_remove(m, (size_t)at);
	if (r < 0) {
		sm_toml_free(t);
		return sm_err(err, r, "cannot remove member '%s'", key);
	}
	r = replace_entry(f, idx, t, err);
	return r < 0 ? r : 1;
}
