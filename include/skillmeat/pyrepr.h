/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_PYREPR_H
#define SKILLMEAT_PYREPR_H

struct strbuf;

/*
 * Append Python's repr(x): the shortest digits that read back as x, an
 * exponent outside 1e-4 .. 1e16 ("1e+16", "1.5e-05"), "nan", "inf", "-0.0".
 * -ENOMEM (or the strbuf's -E2BIG) on failure.
 */
int sm_py_float_repr(double x, struct strbuf *out);

#endif
