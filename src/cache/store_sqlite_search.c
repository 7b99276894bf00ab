/* SPDX-License-Identifier: MIT */
/* Full-text search queries of the SQLite store: the FTS5 query built from a
 * search string, with close terms from the index vocabulary for typos. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cache/db_internal.h"
#include "cache/store_internal.h"
#include "cache/store_sqlite.h"
#include "skillmeat/array.h"
#include "skillmeat/hashmap.h"
#include "skillmeat/db.h"
#include "skillmeat/error.h"
#include "skillmeat/memory.h"
#include "skillmeat/store.h"
#include "skillmeat/strbuf.h"

#include "util/banned.h"


/* ---- full-text queries ---- */

#define TYPO_CANDIDATES 8

/* Levenshtein distance of a and b, or max + 1 once it is certainly above max */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb, size_t max)
{
	size_t prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t best;

		cur[0] = i;
		best = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
			if (d < best)
				best = d;
		}
		if (best > max)
			return max + 1;
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

/* Does any indexed token start with w (lower-case ASCII)? */
static int vocab_has_prefix(struct sqlite_store *s, const char *w, size_t n, bool *ret)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char hi[64];
	int r, rc;

	memcpy(hi, w, n);
	hi[n - 1]++;
	r = sm_sq_prepare(s, "SELECT 1 FROM artifact_vocab WHERE term >= :lo AND term < :hi LIMIT 1",
			  &st, NULL);
	if (r < 0)
		return r;
	rc = sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":lo"), w, (int)n,
			       SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":hi"), hi, (int)n,
				       SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -EIO;
	*ret = rc == SQLITE_ROW;
	return 0;
}

/*
 * Indexed tokens within one edit (two for words of 7 letters or more) of w,
 * sharing its first letter, appended to out as  OR "term"  (at most
 * TYPO_CANDIDATES, closest first).
 */
static int add_close_terms(struct sqlite_store *s, const char *w, size_t n, struct strbuf *out)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	size_t max = n >= 7 ? 2 : 1, nc = 0;
	struct {
		char term[64];
		size_t d;
	} c[TYPO_CANDIDATES];
	char lo[2] = {w[0], 0}, hi[2] = {(char)(w[0] + 1), 0};
	int r, rc;

	r = sm_sq_prepare(s, "SELECT term FROM artifact_vocab WHERE term >= :lo AND term < :hi",
			  &st, NULL);
	if (r < 0)
		return r;
	rc = sm_sq_bind_text(st, ":lo", lo);
	if (rc == SQLITE_OK)
		rc = sm_sq_bind_text(st, ":hi", hi);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			break;
		const char *t = (const char *)sqlite3_column_text(st, 0);
		size_t tl = (size_t)sqlite3_column_bytes(st, 0), d, k;

		if (!t || tl >= sizeof(c[0].term))
			continue;
		d = edit_distance(w, n, t, tl, max);
		if (d > max)
			continue;
		/* keep the closest ones, in order */
		for (k = nc; k > 0 && c[k - 1].d > d; k--)
			;
		if (k == TYPO_CANDIDATES)
			continue;
		if (nc < TYPO_CANDIDATES)
			nc++;
		memmove(&c[k + 1], &c[k], (nc - 1 - k) * sizeof(c[0]));
		memcpy(c[k].term, t, tl + 1);
		c[k].d = d;
	}
	if (rc != SQLITE_DONE)
		return -EIO;
	for (size_t i = 0; i < nc && r == 0; i++)
		r = sm_strbuf_addf(out, " OR \"%s\"", c[i].term);
	return r;
}

/*
 * An FTS5 query from user words: each word with a letter or digit becomes a
 * quoted prefix term ("word"*), all must match. A plain word (ASCII letters
 * and digits, 4 or more) that is the prefix of no indexed token also matches
 * the indexed tokens one or two edits away (typos). No usable word gives a
 * query that matches nothing.
 */
int sm_sq_fts_query(struct sqlite_store *s, const char *search, struct strbuf *out)
{
	const char *p = search;
	size_t terms = 0;
	int r = 0;

	while (*p && r == 0) {
		const char *w;
		bool usable = false, plain = true;
		char lw[64];
		size_t n;

		while (*p && isspace((unsigned char)*p))
			p++;
		w = p;
		while (*p && !isspace((unsigned char)*p)) {
			if (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)
				usable = true;
			if (!isalnum((unsigned char)*p))
				plain = false;
			p++;
		}
		if (!usable)
			continue;
		n = (size_t)(p - w);
		r = sm_strbuf_addstr(out, terms++ ? " AND (\"" : "(\"");
		for (const char *c = w; c < p && r == 0; c++)
			r = *c == '"' ? sm_strbuf_addstr(out, "\"\"") : sm_strbuf_addch(out, *c);
		if (r == 0)
			r = sm_strbuf_addstr(out, "\"*");
		if (r == 0 && plain && n >= 4 && n < sizeof(lw)) {
			bool found = true;

			for (size_t i = 0; i < n; i++)
				lw[i] = (char)tolower((unsigned char)w[i]);
			lw[n] = '\0';
			/* the vocabulary is a help: when it cannot be read, no typos */
			if (vocab_has_prefix(s, lw, n, &found) == 0 && !found &&
			    add_close_terms(s, lw, n, out) == -ENOMEM)
				r = -ENOMEM;
		}
		if (r == 0)
			r = sm_strbuf_addch(out, ')');
	}
	if (r == 0 && terms == 0)
		r = sm_strbuf_addstr(out, "\"\"");
	return r;
}

bool sm_sq_blank(const char *s)
{
	if (!s)
		return true;
	while (*s && isspace((unsigned char)*s))
		s++;
	return !*s;
}
