/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "skillmeat/json_escape.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/utf8.h"
#include "util/banned.h"

bool sm_json_escape(const char *str, size_t n, bool (*put)(void *ctx, const char *p, size_t len),
		    void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str, *run = s;

	while (n) {
		char esc[6] = { '\\' };
		size_t el = 2, k;

		switch (*s) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			if (*s >= 0x20 && *s != 0x7f) {
				/* plain ASCII and valid UTF-8 pass through in runs */
				k = *s < 0x80 ? 1 : sm_utf8_len(s, s + n);
				if (k) {
					s += k;
					n -= k;
					continue;
				}
				memcpy(esc + 1, "ufffd", 5);
			} else {
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[*s >> 4];
				esc[5] = hex[*s & 15];
			}
			el = 6;
		}
		if ((s > run && !put(ctx, (const char *)run, (size_t)(s - run))) || !put(ctx, esc, el))
			return false;
		s++;
		n--;
		run = s;
	}
	return s == run || put(ctx, (const char *)run, (size_t)(s - run));
}

struct sb_put {
	struct strbuf *sb;
	int r;
};

static bool sb_put(void *ctx, const char *p, size_t len)
{
	struct sb_put *c = ctx;

	return (c->r = sm_strbuf_add(c->sb, p, len)) == 0;
}

int sm_strbuf_add_json(struct strbuf *sb, const char *s)
{
	struct sb_put c = { sb, 0 };
	size_t mark = sb->len;
	int r;

	if (!s)
		return sm_strbuf_add(sb, "null", 4);
	r = sm_strbuf_addch(sb, '"');
	if (r == 0 && !sm_json_escape(s, strlen(s), sb_put, &c))
		r = c.r;
	if (r == 0)
		r = sm_strbuf_addch(sb, '"');
	if (r < 0)
		sm_strbuf_setlen(sb, mark);
	return r;
}
