/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CORE_COPY_H
#define SKILLMEAT_CORE_COPY_H

#include <stdbool.h>

struct strbuf;

/*
 * Copy an artifact's file or folder from src to dst (which must not exist),
 * as SkillMeat's copy_artifact (spec/skillmeat-formats.md §1.6): folders
 * recursively, skipping at every level .git, .github, .gitignore,
 * __pycache__, node_modules, .venv, venv, .DS_Store, Thumbs.db, *.pyc, *.pyo,
 * *.egg-info; files with their mode and mtime. Symlinks are followed only
 * while their target stays inside src (-EPERM otherwise: a link out of the
 * source is refused). No fsync: the caller syncs once per operation.
 */
int sm_copy_artifact(const char *src, const char *dst, struct strbuf *err);

/* What a traced copy also gives, in the same pass over the files. */
struct sm_copy_trace {
	char hex[65];	       /* the content hash of the copy (algorithm A) */
	struct strbuf *src_fp; /* NULL or: the stat records of src (sm_hashcache_fp_add) */
	struct strbuf *dst_fp; /* NULL or: those of dst below its top (stat that where it ends) */
	/*
	 * Set by the caller: no hash (hex stays ""), the bytes copied in the kernel
	 * (copy_file_range); each source file is stat'ed again once copied and
	 * moved is set when that differs from its record in src_fp (it changed
	 * during the copy: src_fp does not vouch for what was copied).
	 */
	bool no_hash;
	bool moved;
};

/* sm_copy_artifact hashing what it writes and recording stats (t may be NULL). */
int sm_copy_artifact_traced(const char *src, const char *dst, struct sm_copy_trace *t,
			    struct strbuf *err);

/*
 * The content hash (algorithm A) that a copy of src made by sm_copy_artifact
 * would have, without copying: to tell an unchanged re-import cheaply.
 * -ENOTSUP when src holds a symlinked folder (the copy follows it; compare
 * a real copy instead), -EPERM for a link out of src like the copy.
 */
int sm_copy_hash(const char *src, char hex[65], struct strbuf *err);

/* True for a name on the skip list. */
bool sm_copy_skipped(const char *name);

#endif
