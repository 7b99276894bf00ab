/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_JSON_ESCAPE_H
#define SKILLMEAT_JSON_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/*
 * The one JSON string escaper, for the places that write JSON text without
 * building a jansson tree: the allocation-free logger, `list --json` and the
 * lists bound to SQLite's json_each(). Everything else goes through jansson.
 *
 * Escapes s[0..n) (no quotes): '"', '\\', the short escapes, other control
 * characters and DEL as \u00XX, invalid UTF-8 as \ufffd. put receives the
 * output in runs; when it returns false the escape stops and false is
 * returned.
 */
bool sm_json_escape(const char *s, size_t n, bool (*put)(void *ctx, const char *p, size_t len),
		    void *ctx);

/* s as a quoted JSON string appended to sb ("null" for NULL): 0, -ENOMEM or -E2BIG. */
int sm_strbuf_add_json(struct strbuf *sb, const char *s);

#endif
