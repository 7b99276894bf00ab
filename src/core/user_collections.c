/* SPDX-License-Identifier: MIT */
/* user-collections.toml: load, validate, edit in place, save atomically. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "skillmeat/artifact.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/hashmap.h"
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

static void items_release(struct sm_user_collections *f)
{
	for (size_t i = 0; i < f->n; i++)
		sm_free(f->items[i].members);
	sm_free(f->items);
	f->items = NULL;
	f->n = 0;
}

static struct sm_toml_value *coll_array(const struct sm_user_collections *f)
{
	struct sm_toml_value *a = sm_toml_get(f->doc, "collections");

	return a && a->type == SM_TOML_ARRAY ? a : NULL;
}

static struct sm_toml_value *coll_table(const struct sm_user_collections *f, size_t idx)
{
	struct sm_toml_value *a = coll_array(f);

	return a && idx < sm_toml_len(a) ? sm_toml_at(a, idx) : NULL;
}

/* Rebuild items[] from the tree (validated already). */
static int refresh(struct sm_user_collections *f)
{
	const struct sm_toml_value *a = coll_array(f);
	size_t n = a ? sm_toml_len(a) : 0;
	struct sm_user_collection *items;

	items = sm_calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct sm_toml_value *t = sm_toml_at(a, i), *m;
		struct sm_user_collection *uc = &items[i];

		uc->id = sm_toml_get_string(t, "id");
		uc->name = sm_toml_get_string(t, "name");
		uc->description = sm_toml_get_string(t, "description");
		uc->collection_type = sm_toml_get_string(t, "collection_type");
		uc->context_category = sm_toml_get_string(t, "context_category");
		uc->created_at = sm_toml_get_string(t, "created_at");
		uc->updated_at = sm_toml_get_string(t, "updated_at");
		m = sm_toml_get(t, "members");
		if (m && m->type == SM_TOML_ARRAY && sm_toml_len(m)) {
			uc->members = sm_calloc(sm_toml_len(m), sizeof(*uc->members));
			if (!uc->members) {
				for (size_t k = 0; k < i; k++)
					sm_free(items[k].members);
				sm_free(items);
				return -ENOMEM;
			}
			for (size_t k = 0; k < sm_toml_len(m); k++)
				uc->members[k] = sm_toml_str(sm_toml_at(m, k));
			uc->nmembers = sm_toml_len(m);
		}
	}
	items_release(f);
	f->items = items;
	f->n = n;
	return 0;
}

/* ---- load and validate ---- */

/*
 * Line of the idx-th "[[collections]]" header in the source (0 when it has
 * none, e.g. an inline array).
 */
static unsigned header_line(const char *buf, size_t len, size_t idx)
{
	unsigned line = 1;
	size_t seen = 0;
	const char *p = buf, *end = buf + len;

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
				if (e - q >= 2 && q[0] == ']' && q[1] == ']' && seen++ == idx)
					return line;
			}
		}
		if (!eol)
			break;
		p = eol + 1;
		line++;
	}
	return 0;
}

static int opt_string(const struct sm_toml_value *t, const char *key, size_t max,
		      enum text_rule rule, struct strbuf *why)
{
	const struct sm_toml_value *v = sm_toml_get(t, key);

	if (!v)
		return 0;
	if (v->type != SM_TOML_STRING)
		return sm_err(why, -EINVAL, "'%s' is not a string", key);
	return text_check(key, sm_toml_str(v), max, rule, why);
}

static int check_entry(const struct sm_toml_value *t, struct strbuf *why)
{
	const struct sm_toml_value *v;
	static const char *const times[] = {"created_at", "updated_at"};
	int r;

	if (t->type != SM_TOML_TABLE)
		return sm_err(why, -EINVAL, "not a table");
	v = sm_toml_get(t, "id");
	if (!v || v->type != SM_TOML_STRING)
		return sm_err(why, -EINVAL, "'id' is missing or not a string");
	if (!id_ok(sm_toml_str(v)))
		return sm_err(why, -EINVAL, "id '%s' is not 32 lowercase hex digits", sm_toml_str(v));
	v = sm_toml_get(t, "name");
	if (!v || v->type != SM_TOML_STRING)
		return sm_err(why, -EINVAL, "'name' is missing or not a string");
	r = sm_user_collections_name_check(sm_toml_str(v), why);
	if (r < 0)
		return r;
	if ((r = opt_string(t, "description", SM_UC_DESCRIPTION_MAX, TEXT_MULTILINE, why)) < 0 ||
	    (r = opt_string(t, "collection_type", SM_UC_LABEL_MAX, TEXT_LINE, why)) < 0 ||
	    (r = opt_string(t, "context_category", SM_UC_LABEL_MAX, TEXT_LINE, why)) < 0)
		return r;
	for (size_t i = 0; i < SM_ARRAY_SIZE(times); i++) {
		time_t sec;
		long usec;

		v = sm_toml_get(t, times[i]);
		if (!v)
			continue;
		if (v->type != SM_TOML_STRING || sm_time_parse_iso(sm_toml_str(v), &sec, &usec) < 0)
			return sm_err(why, -EINVAL, "'%s' is not an ISO date-time string",
				      times[i]);
	}
	v = sm_toml_get(t, "members");
	if (!v)
		return 0;
	if (v->type != SM_TOML_ARRAY)
		return sm_err(why, -EINVAL, "'members' is not an array");
	for (size_t i = 0; i < sm_toml_len(v); i++) {
		struct sm_user_collection_key k;

		if (sm_toml_at(v, i)->type != SM_TOML_STRING)
			return sm_err(why, -EINVAL, "members[%zu] is not a string", i);
		r = sm_user_collections_key_parse(sm_toml_str(sm_toml_at(v, i)), &k, why);
		if (r < 0)
			return sm_err_prefix(why, r, "members[%zu]", i);
	}
	return 0;
}

static int validate(struct sm_user_collections *f, const char *buf, size_t len, struct strbuf *err)
{
	const struct sm_toml_value *a = sm_toml_get(f->doc, "collections");
	struct strbuf why = STRBUF_INIT;
	struct sm_hashmap *ids = NULL, *names = NULL;
	size_t bad = 0;
	int r = 0;

	if (!a)
		return 0;
	if (a->type != SM_TOML_ARRAY) {
		r = sm_err(err, -EBADMSG, "invalid '%s': 'collections' is not an array of tables",
			   f->path);
		goto out;
	}
	/* ids and names seen so far: one lookup per entry, not a scan of the earlier ones */
	if (sm_hashmap_new(&ids) < 0 || sm_hashmap_new(&names) < 0) {
		r = sm_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sm_toml_len(a) && r == 0; i++) {
		const struct sm_toml_value *t = sm_toml_at(a, i);
		const char *id, *name;

		bad = i;
		r = check_entry(t, &why);
		if (r < 0)
			break;
		id = sm_toml_get_string(t, "id");
		name = sm_toml_get_string(t, "name");
		if (sm_hashmap_get(ids, id, strlen(id), NULL))
			r = sm_err(&why, -EINVAL, "id '%s' is used twice", id);
		else if (sm_hashmap_get(names, name, strlen(name), NULL))
			r = sm_err(&why, -EINVAL, "name '%s' is used twice", name);
		else if (sm_hashmap_put(ids, id, strlen(id), (void *)t, NULL) < 0 ||
			 sm_hashmap_put(names, name, strlen(name), (void *)t, NULL) < 0) {
			r = sm_err(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (r < 0) {
		unsigned line = header_line(buf, len, bad);

		if (line)
			r = sm_err(err, -EBADMSG, "invalid '%s': line %u: collections[%zu]: %s",
				   f->path, line, bad, why.buf);
		else
			r = sm_err(err, -EBADMSG, "invalid '%s': collections[%zu]: %s", f->path,
				   bad, why.buf);
	}
out:
	sm_hashmap_free(ids);
	sm_hashmap_free(names);
	sm_strbuf_release(&why);
	return r;
}

void sm_user_collections_free(struct sm_user_collections *f)
{
	if (!f)
		return;
	items_release(f);
	sm_toml_free(f->doc);
	sm_free(f->path);
	sm_free(f);
}

int sm_user_collections_load_path(const char *path, struct sm_user_collections **ret,
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
		if (r == 0)
			r = validate(f, buf.buf, buf.len, err);
	} else if (r == -E2BIG) {
		sm_err(err, r, "'%s' is larger than %zu bytes", path, SM_UC_FILE_MAX);
	}
	if (r == 0)
		r = refresh(f);
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

static bool name_taken(const struct sm_user_collections *f, const char *name, long except)
{
	for (size_t i = 0; i < f->n; i++)
		if ((long)i != except && !strcmp(f->items[i].name, name))
			return true;
	return false;
}

/* ---- edits ---- */

/*
 * Put table t (owned) in place of entry idx and rebuild the view; on failure
 * the old entry is back and t is freed, so an edit is all or nothing.
 */
static int replace_entry(struct sm_user_collections *f, size_t idx, struct sm_toml_value *t,
			 struct strbuf *err)
{
	struct sm_toml_value *a = coll_array(f), *old = sm_toml_at(a, idx);
	int r;

	sm_toml_array_swap(a, idx, t);
	r = refresh(f);
	if (r < 0) {
		sm_toml_array_swap(a, idx, old);
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
	for (int tries = 0; tries < 8; tries++) {
		unsigned char rnd[16];
		bool used = false;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		for (size_t i = 0; i < 16; i++)
			snprintf(out + 2 * i, 3, "%02x", rnd[i]);
		for (size_t i = 0; i < f->n && !used; i++)
			used = !strcmp(f->items[i].id, out);
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
	if (name_taken(f, fields->name, -1))
		return sm_err(err, -EEXIST, "collection with name '%s' already exists",
			      fields->name);
	r = new_id(f, id);
	if (r < 0)
		return sm_err(err, r, "cannot draw a random id");
	a = coll_array(f);
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
		r = refresh(f);
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
	if (fields->name && name_taken(f, fields->name, (long)idx))
		return sm_err(err, -EEXIST, "collection with name '%s' already exists",
			      fields->name);
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
	int r;

	if (!a || idx >= sm_toml_len(a))
		return sm_err(err, -ENOENT, "no user collection %zu", idx);
	old = sm_toml_array_take(a, idx);
	r = refresh(f);
	if (r < 0) {
		/* room for it is still there: the insert cannot fail */
		(void)sm_toml_array_insert(a, idx, old);
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
	at = member_index(&f->items[idx], key);
	if (at < 0)
		return 0;
	t = sm_toml_clone(t);
	if (!t)
		return sm_err(err, -ENOMEM, "out of memory");
	m = sm_toml_get(t, "members");
	r = sm_toml_array_remove(m, (size_t)at);
	if (r < 0) {
		sm_toml_free(t);
		return sm_err(err, r, "cannot remove member '%s'", key);
	}
	r = replace_entry(f, idx, t, err);
	return r < 0 ? r : 1;
}
