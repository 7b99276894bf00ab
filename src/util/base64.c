/* SPDX-License-Identifier: MIT */
/* Base64 through libcrypto's EVP block coder (no hand-written codec). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "skillmeat/base64.h"
#include "skillmeat/strbuf.h"
#include "util/crypto.h"
#include "util/banned.h"

int sm_base64_encode(const void *data, size_t len, struct strbuf *out)
{
	const struct sm_crypto *c = sm_crypto();
	size_t need;
	int n, r;

	if (!c)
		return -ELIBACC;
	if (len > (size_t)INT_MAX / 4 * 3 - 3)
		return -E2BIG;
	need = (len + 2) / 3 * 4;
	if ((r = sm_strbuf_grow(out, need)) < 0)
		return r;
	n = c->encode_block((unsigned char *)out->buf + out->len, data, (int)len);
	if (n < 0)
		return -EINVAL;
	out->len += (size_t)n;
	out->buf[out->len] = '\0';
	return 0;
}

static bool b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int sm_base64_decode(const char *s, size_t len, struct strbuf *out)
{
	const struct sm_crypto *c;
	size_t pad = 0, old = out->len;
	int n, r;

	if (len % 4 || len > (size_t)INT_MAX)
		return -EINVAL;
	/* EVP_DecodeBlock skips blanks and allows '=' anywhere: check first */
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (!b64_char((unsigned char)s[i]))
			return -EINVAL;
	if (!len)
		return 0;
	if (!(c = sm_crypto()))
		return -ELIBACC;
	if ((r = sm_strbuf_grow(out, len / 4 * 3)) < 0)
		return r;
	n = c->decode_block((unsigned char *)out->buf + old, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		out->buf[old] = '\0';
		return -EINVAL;
	}
	out->len = old + (size_t)n - pad;
	out->buf[out->len] = '\0';
	return 0;
}
