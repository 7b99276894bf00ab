/* SPDX-License-Identifier: MIT */
/*
 * Finding and reading an artifact's metadata file (spec/skillmeat-formats.md
 * §2.3): SKILL.md in a skill folder; a command's or agent's .md file, or the
 * conventional name in its folder, else its first *.md by name. The text is
 * read with a cap and handed to the extraction (metadata.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/metadata_internal.h"
#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/metadata.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

#define MAX_FILE ((size_t)4 << 20) /* read for frontmatter */

int sm_md_empty(struct sm_metadata *m)
{
	m->table = sm_toml_new_table();
	m->tags = sm_toml_new_array();
	if (!m->table || !m->tags) {
		sm_metadata_release(m);
		return -ENOMEM;
	}
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* PurePath.suffix == ".md" */
static bool md_suffix(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	return dot && dot != base && strcmp(dot, ".md") == 0;
}

static int take_md(const struct sm_fs_dirent *e, void *ctx)
{
	struct strbuf *name = ctx;

	if (!md_suffix(e->name) && strcmp(e->name, ".md") != 0)
		return 0;
	return sm_strbuf_addstr(name, e->name) < 0 ? -ENOMEM : 1;
}

/* the first "*.md" entry of dir (sorted by name, so the choice is stable) */
static int first_md(const char *dir, struct strbuf *out, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	int r = sm_fs_visit_dir(dir, SM_FS_VISIT_SORTED, take_md, &name);

	if (r == 1 && (r = sm_strbuf_addf(out, "%s/%s", dir, name.buf)) == 0)
		r = 1;
	sm_strbuf_release(&name);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r == -ENOMEM)
		return sm_err(err, r, "cannot list '%s': out of memory", dir);
	if (r < 0)
		return sm_err(err, r, "cannot list '%s': %s", dir, sm_strerror(r));
	return r;
}

static int try_child(const char *dir, const char *name, struct strbuf *out, int *found)
{
	struct strbuf sb = STRBUF_INIT;

	int r;

	*found = 0;
	if ((r = sm_strbuf_addf(&sb, "%s/%s", dir, name)) == 0 && exists(sb.buf)) {
		*found = 1;
		r = sm_strbuf_add(out, sb.buf, sb.len);
	}
	sm_strbuf_release(&sb);
	return r;
}

int sm_metadata_find_file(const char *path, enum sm_artifact_type type, struct strbuf *out,
			  struct strbuf *err)
{
	static const char *const agent_names[] = {"AGENT.md", "agent.md", NULL};
	static const char *const command_names[] = {"command.md", NULL};
	const char *const *names;
	int found, r;

	switch (type) {
	case SM_TYPE_SKILL:
		if (!is_dir(path))
			return 0;
		r = try_child(path, "SKILL.md", out, &found);
		if (r < 0)
			return sm_err(err, r, "out of memory");
		return found;
	case SM_TYPE_COMMAND:
		names = command_names;
		break;
	case SM_TYPE_AGENT:
		names = agent_names;
		break;
	default:
		return 0;
	}
	if (is_file(path)) {
		if (!md_suffix(path))
			return 0;
		return sm_strbuf_addstr(out, path) < 0 ? sm_err(err, -ENOMEM, "out of memory") : 1;
	}
	if (!is_dir(path))
		return 0;
	for (; *names; names++) {
		r = try_child(path, *names, out, &found);
		if (r < 0)
			return sm_err(err, r, "out of memory");
		if (found)
			return 1;
	}
	return first_md(path, out, err);
}

/* up to max bytes of the file; a cut UTF-8 sequence at the end is dropped */
static int read_capped(const char *path, size_t max, struct strbuf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r = 0;

	if (fd < 0)
		return -errno;
	while (out->len < max) {
		size_t want = max - out->len < 65536 ? max - out->len : 65536;
		ssize_t n;

		if ((r = sm_strbuf_grow(out, want)) < 0)
			break;
		n = read(fd, out->buf + out->len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (!n)
			break;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
	}
	close(fd);
	if (r == 0 && out->len == max) {
		size_t k = out->len, back = 0;

		while (k && back < 4 && ((unsigned char)out->buf[k - 1] & 0xc0) == 0x80)
			k--, back++;
		if (k && (unsigned char)out->buf[k - 1] >= 0xc0)
			sm_strbuf_setlen(out, k - 1);
	}
	return r;
}

int sm_metadata_extract(const char *path, enum sm_artifact_type type, struct sm_metadata *ret,
			struct strbuf *err)
{
	struct strbuf file = STRBUF_INIT, data = STRBUF_INIT, msg = STRBUF_INIT;
	struct sm_metadata m = {0};
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return sm_err(err, -errno, "cannot read artifact '%s': %s", path,
			      sm_strerror(errno));
	r = sm_metadata_find_file(path, type, &file, err);
	if (r < 0)
		goto out;
	if (r == 0) {
		r = sm_md_empty(&m);
		if (r < 0)
			r = sm_err(err, r, "out of memory");
		goto out;
	}
	r = read_capped(file.buf, MAX_FILE, &data);
	if (r == -ENOMEM) {
		r = sm_err(err, r, "cannot read '%s': out of memory", file.buf);
		goto out;
	}
	if (r < 0) {
		/* like the original: an unreadable metadata file gives no metadata */
		int code = r;

		r = sm_md_empty(&m);
		if (r == 0 && sm_strbuf_addf(&msg, "%s: cannot read: %s; no metadata", file.buf,
					     sm_strerror(code)) == 0) {
			m.warning = sm_strbuf_detach(&msg, NULL);
			if (!m.warning)
				r = -ENOMEM;
		} else if (r == 0) {
			r = -ENOMEM;
		}
		if (r < 0) {
			sm_metadata_release(&m);
			r = sm_err(err, r, "out of memory");
		}
		goto out;
	}
	r = sm_metadata_extract_text(data.buf, data.len, file.buf, &m, err);
out:
	sm_strbuf_release(&file);
	sm_strbuf_release(&data);
	sm_strbuf_release(&msg);
	if (r >= 0) {
		*ret = m;
		return 0;
	}
	return r;
}
