/* SPDX-License-Identifier: MIT */
/* UTF-8 validation (skillmeat/utf8.h). */
#include "skillmeat/utf8.h"
#include "util/banned.h"

size_t sm_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if ((size_t)(end - p) < len)
		return 0;
	/* the second byte's range rules out overlongs, surrogates and > U+10FFFF */
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

bool sm_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t k = sm_utf8_len(p, end);

		if (!k)
			return false;
		p += k;
	}
	return true;
}
