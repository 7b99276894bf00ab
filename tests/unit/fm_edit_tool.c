/* SPDX-License-Identifier: MIT */
/*
 * Test helper for test_frontmatter_pyyaml.py: applies the frontmatter edits
 * of a JSON job list, [{"in", "out", "type", "crlf", "set": {field: str |
 * [str] | null}}], writing each result to "out". Exit 0 when every job was
 * written; errors go to stderr, one line per job.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "skillmeat/artifact.h"
#include "skillmeat/frontmatter.h"
#include "skillmeat/fs.h"
#include "skillmeat/strbuf.h"

static int field_of(const char *name)
{
	for (int f = 0; f < SM_FM_FIELD_COUNT; f++)
		if (!strcmp(sm_fm_field_key((enum sm_fm_field)f), name))
			return f;
	return -1;
}

static int run(json_t *job)
{
	const char *in = json_string_value(json_object_get(job, "in"));
	const char *outp = json_string_value(json_object_get(job, "out"));
	const char *type = json_string_value(json_object_get(job, "type"));
	json_t *set = json_object_get(job, "set"), *v;
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	struct sm_fm_edit ed = {0};
	const char *items[SM_FM_FIELD_COUNT][16];
	const char *key;
	int r;

	if (!in || !outp || !type || !json_is_object(set))
		return -EINVAL;
	json_object_foreach(set, key, v) {
		int f = field_of(key);

		if (f < 0)
			return -EINVAL;
		ed.f[f].set = true;
		if (json_is_array(v)) {
			for (size_t i = 0; i < json_array_size(v) && i < 16; i++)
				items[f][i] = json_string_value(json_array_get(v, i));
			ed.f[f].items = items[f];
			ed.f[f].n_items = json_array_size(v) < 16 ? json_array_size(v) : 16;
		} else {
			ed.f[f].str = json_string_value(v);
		}
	}
	r = sm_fs_read_file(in, 16 << 20, &text, &err);
	if (r == 0 && json_is_true(json_object_get(job, "crlf"))) {
		struct strbuf c = STRBUF_INIT;

		for (size_t i = 0; r == 0 && i < text.len; i++) {
			if (text.buf[i] == '\n' && (!i || text.buf[i - 1] != '\r'))
				r = sm_strbuf_addch(&c, '\r');
			if (r == 0)
				r = sm_strbuf_addch(&c, text.buf[i]);
		}
		sm_strbuf_release(&text);
		text = c;
	}
	if (r == 0)
		r = sm_frontmatter_edit(text.buf, text.len, sm_artifact_type_parse(type), &ed, &out,
					&err);
	if (r == 0)
		r = sm_fs_write_atomic_nosync(outp, out.buf, out.len, 0644, &err);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", in, err.buf);
	sm_strbuf_release(&text);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
	return r;
}

int main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *jobs;
	size_t i;
	json_t *job;
	int failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fm_edit_tool JOBS.json\n");
		return 2;
	}
	jobs = json_load_file(argv[1], 0, &jerr);
	if (!json_is_array(jobs)) {
		fprintf(stderr, "error: %s\n", jerr.text);
		return 2;
	}
	json_array_foreach(jobs, i, job) {
		if (run(job) < 0)
			failed++;
	}
	json_decref(jobs);
	return failed ? 1 : 0;
}
