/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_MERGE_H
#define SKILLMEAT_MERGE_H

#include <stddef.h>

struct strbuf;

/*
 * Three-way, file-level merge of an artifact (spec/skillmeat-formats.md
 * §5.3, the original's merge_engine): base, local (the collection copy) and
 * remote (the project copy) are each a folder or a single file; the result
 * is written to out (which must not exist). Per file: the same on both sides
 * → kept; changed on one side only → that side (a deletion included);
 * changed on both → a conflict: text files get whole-file markers
 *
 *   <<<<<<< LOCAL (current)
 *   <local text>
 *   =======
 *   <remote text>
 *   >>>>>>> REMOTE (incoming)
 *
 * ("(file deleted)" for a missing side), binary files keep the local copy.
 * base NULL: the local copy is the base (the original's fallback).
 */
struct sm_merge_result {
	char **conflicts; /* relative paths ("" for a single file) */
	size_t nconflicts;
	size_t taken_local, taken_remote, unchanged;
};
void sm_merge_result_release(struct sm_merge_result *r);

int sm_merge_tree(const char *base, const char *local, const char *remote, const char *out,
		  struct sm_merge_result *ret, struct strbuf *err);

#endif
