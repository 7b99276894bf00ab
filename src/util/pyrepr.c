/* SPDX-License-Identifier: MIT */
/*
 * Python's repr() of a float, for the places that must print numbers the way
 * the original's tomli_w and str() do.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skillmeat/pyrepr.h"
#include "skillmeat/strbuf.h"
#include "util/banned.h"

int sm_py_float_repr(double x, struct strbuf *out)
{
	char buf[64], digits[32];
	int p, exp, nd = 0, decpt;
	char *e;
	bool neg;
	int rc;

	if (isnan(x))
		return sm_strbuf_addstr(out, "nan");
	if (isinf(x))
		return sm_strbuf_addstr(out, x < 0 ? "-inf" : "inf");
	if (x == 0)
		return sm_strbuf_addstr(out, signbit(x) ? "-0.0" : "0.0");
	for (p = 0; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	neg = buf[0] == '-';
	for (char *s = buf + neg; *s && *s != 'e'; s++)
		if ((*s >= '0' && *s <= '9'))
			digits[nd++] = *s;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	e = strchr(buf, 'e');
	exp = e ? (int)strtol(e + 1, NULL, 10) : 0;
	decpt = exp + 1;
	if (neg && (rc = sm_strbuf_addch(out, '-')) < 0)
		return rc;
	/* the first failure's code (-ENOMEM, or -E2BIG past out's cap) is returned */
	if (decpt > -4 && decpt <= 16) {
		rc = 0;
		if (decpt <= 0) {
			rc = sm_strbuf_addstr(out, "0.");
			for (int k = 0; rc == 0 && k < -decpt; k++)
				rc = sm_strbuf_addch(out, '0');
			if (rc == 0)
				rc = sm_strbuf_addstr(out, digits);
		} else if (decpt >= nd) {
			rc = sm_strbuf_addstr(out, digits);
			for (int k = 0; rc == 0 && k < decpt - nd; k++)
				rc = sm_strbuf_addch(out, '0');
			if (rc == 0)
				rc = sm_strbuf_addstr(out, ".0");
		} else {
			rc = sm_strbuf_add(out, digits, (size_t)decpt);
			if (rc == 0)
				rc = sm_strbuf_addch(out, '.');
			if (rc == 0)
				rc = sm_strbuf_addstr(out, digits + decpt);
		}
		return rc;
	}
	if ((rc = sm_strbuf_addch(out, digits[0])) < 0)
		return rc;
	if (nd > 1 && (rc = sm_strbuf_addf(out, ".%s", digits + 1)) < 0)
		return rc;
	return sm_strbuf_addf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}
