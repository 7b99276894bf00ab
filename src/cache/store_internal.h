/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_CACHE_STORE_INTERNAL_H
#define SKILLMEAT_CACHE_STORE_INTERNAL_H

/* Shared by the store wrappers and its backends: the artifact row's fields. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skillmeat/store.h"

enum sm_field_kind { SM_FIELD_STR, SM_FIELD_INT };

struct sm_artifact_field {
	const char *name; /* column and parameter name */
	size_t off;	  /* in struct sm_artifact_row */
	enum sm_field_kind kind;
};

#define F_STR(n)                                                                                   \
	{                                                                                          \
#n, offsetof(struct sm_artifact_row, n), SM_FIELD_STR                              \
	}
#define F_INT(n)                                                                                   \
	{                                                                                          \
#n, offsetof(struct sm_artifact_row, n), SM_FIELD_INT                              \
	}

/*
 * The content columns of an artifact row, in the order of the SQLite
 * backend's ART_COLS. Everything but fingerprint goes into row_hash.
 */
#define SM_ARTIFACT_NFIELDS 26
#define SM_ARTIFACT_FP_FIELD 25
extern const struct sm_artifact_field sm_artifact_fields[SM_ARTIFACT_NFIELDS];

static inline char **str_field(struct sm_artifact_row *row, size_t i)
{
	return (char **)((char *)row + sm_artifact_fields[i].off);
}

static inline const char *cstr_field(const struct sm_artifact_row *row, size_t i)
{
	return *(char *const *)((const char *)row + sm_artifact_fields[i].off);
}

static inline int64_t int_field(const struct sm_artifact_row *row, size_t i)
{
	return *(const int64_t *)((const char *)row + sm_artifact_fields[i].off);
}

/*
 * The row's ETag: 16 hex digits over the content fields (all but
 * fingerprint and the sync state), each hashed as (index, length or NULL
 * mark, bytes).
 */
void sm_artifact_row_hash(const struct sm_artifact_row *row, char out[17]);

/* 32 lowercase hex digits. */
bool sm_is_hex32(const char *s);

#endif
