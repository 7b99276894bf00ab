/* SPDX-License-Identifier: MIT */
/*
 * PyYAML's Resolver: the implicit tag of a plain scalar (bool, int, float,
 * null, timestamp, merge, value, else str, with YAML 1.1's forms) and the
 * ids of explicit tags.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/yaml_py_internal.h"
#include "skillmeat/memory.h"
#include "util/banned.h"

bool sm_ypy_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

bool sm_ypy_one_of(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && memcmp(*words, s, n) == 0)
			return true;
	return false;
}

const char *const sm_ypy_bool_words[] = {"yes",	 "Yes",	 "YES",	  "no",	   "No",    "NO", "true",
					 "True", "TRUE", "false", "False", "FALSE", "on", "On",
					 "ON",	 "off",	 "Off",	  "OFF",   NULL};
static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};

/* (:[0-5]?[0-9])+ starting at s[*i] == ':'; stops before a char in stop or end */
static bool match_base60(const char *s, size_t n, size_t *i, const char *stop)
{
	bool any = false;

	while (*i < n && s[*i] == ':') {
		size_t j = *i + 1;

		if (j + 1 < n && s[j] >= '0' && s[j] <= '5' && sm_ypy_is_digit(s[j + 1]) &&
		    (j + 2 == n || strchr(stop, s[j + 2])))
			j += 2;
		else if (j < n && sm_ypy_is_digit(s[j]) && (j + 1 == n || strchr(stop, s[j + 1])))
			j += 1;
		else
			return false;
		*i = j;
		any = true;
	}
	return any;
}

static size_t skip_sign(const char *s, size_t n)
{
	return n && (s[0] == '-' || s[0] == '+') ? 1 : 0;
}

static size_t span(const char *s, size_t n, size_t i, const char *set)
{
	while (i < n && s[i] && strchr(set, s[i]))
		i++;
	return i;
}

static bool match_exp(const char *s, size_t n, size_t i)
{
	if (i == n)
		return true;
	if (s[i] != 'e' && s[i] != 'E')
		return false;
	i++;
	if (i >= n || (s[i] != '-' && s[i] != '+'))
		return false;
	i++;
	if (i >= n || !sm_ypy_is_digit(s[i]))
		return false;
	return span(s, n, i, "0123456789") == n;
}

static bool match_float(const char *s, size_t n)
{
	size_t i = skip_sign(s, n), j;

	/* [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)? and the base 60 form */
	if (i < n && sm_ypy_is_digit(s[i])) {
		j = span(s, n, i + 1, "0123456789_");
		if (j < n && s[j] == '.') {
			j = span(s, n, j + 1, "0123456789_");
			return match_exp(s, n, j);
		}
		if (j < n && s[j] == ':' && match_base60(s, n, &j, ":.") && j < n && s[j] == '.')
			return span(s, n, j + 1, "0123456789_") == n;
		return false;
	}
	if (i < n && s[i] == '.') {
		const char *r = s + i + 1;
		size_t rn = n - i - 1;

		if (rn == 3 &&
		    (!memcmp(r, "inf", 3) || !memcmp(r, "Inf", 3) || !memcmp(r, "INF", 3)))
			return true;
		if (i == 0 && rn == 3 &&
		    (!memcmp(r, "nan", 3) || !memcmp(r, "NaN", 3) || !memcmp(r, "NAN", 3)))
			return true;
		/* \.[0-9][0-9_]*(?:[eE][-+][0-9]+)? — no sign allowed */
		if (i == 0 && rn && sm_ypy_is_digit(r[0]))
			return match_exp(s, n, span(s, n, 2, "0123456789_"));
	}
	return false;
}

static bool match_int(const char *s, size_t n)
{
	size_t i = skip_sign(s, n), j;

	if (i >= n)
		return false;
	if (n - i >= 3 && s[i] == '0' && s[i + 1] == 'b')
		return span(s, n, i + 2, "01_") == n;
	if (n - i >= 3 && s[i] == '0' && s[i + 1] == 'x')
		return span(s, n, i + 2, "0123456789abcdefABCDEF_") == n;
	if (s[i] == '0')
		return n - i == 1 || span(s, n, i + 1, "01234567_") == n;
	if (s[i] < '1' || s[i] > '9')
		return false;
	j = span(s, n, i + 1, "0123456789_");
	if (j == n)
		return true;
	return s[j] == ':' && match_base60(s, n, &j, ":") && j == n;
}

static bool digits_at(const char *s, size_t n, size_t i, size_t count)
{
	if (i + count > n)
		return false;
	for (size_t k = 0; k < count; k++)
		if (!sm_ypy_is_digit(s[i + k]))
			return false;
	return true;
}

/* 1 or 2 digits at *i */
static bool digits12(const char *s, size_t n, size_t *i, int *val)
{
	if (!digits_at(s, n, *i, 1))
		return false;
	*val = s[*i] - '0';
	(*i)++;
	if (*i < n && sm_ypy_is_digit(s[*i])) {
		*val = *val * 10 + s[*i] - '0';
		(*i)++;
	}
	return true;
}

/* PyYAML's timestamp_regexp (the constructor's, a superset of the resolver's) */
bool sm_ypy_parse_ts(const char *s, size_t n, struct ts *t)
{
	size_t i = 0;

	memset(t, 0, sizeof(*t));
	if (!digits_at(s, n, 0, 4) || n < 5 || s[4] != '-')
		return false;
	t->year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	i = 5;
	if (!digits12(s, n, &i, &t->month) || i >= n || s[i] != '-')
		return false;
	i++;
	if (!digits12(s, n, &i, &t->day))
		return false;
	if (i == n)
		return true;
	if (s[i] == 'T' || s[i] == 't') {
		i++;
	} else if (s[i] == ' ' || s[i] == '\t') {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
	} else {
		return false;
	}
	t->has_time = true;
	if (!digits12(s, n, &i, &t->hour) || i >= n || s[i] != ':' || !digits_at(s, n, i + 1, 2))
		return false;
	t->minute = (s[i + 1] - '0') * 10 + s[i + 2] - '0';
	i += 3;
	if (i >= n || s[i] != ':' || !digits_at(s, n, i + 1, 2))
		return false;
	t->second = (s[i + 1] - '0') * 10 + s[i + 2] - '0';
	i += 3;
	if (i < n && s[i] == '.') {
		int k = 0;

		i++;
		for (; i < n && sm_ypy_is_digit(s[i]); i++, k++)
			if (k < 6)
				t->usec = t->usec * 10 + s[i] - '0';
		for (; k < 6; k++)
			t->usec *= 10;
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n) {
		/* trailing blanks without a zone do not match */
		return s[n - 1] != ' ' && s[n - 1] != '\t';
	}
	if (s[i] == 'Z') {
		t->tz = true;
		return i + 1 == n;
	}
	if (s[i] != '-' && s[i] != '+')
		return false;
	t->tz = t->tz_signed = true;
	t->tz_sign_neg = s[i] == '-';
	i++;
	if (!digits12(s, n, &i, &t->tz_hour))
		return false;
	if (i < n && s[i] == ':') {
		if (!digits_at(s, n, i + 1, 2))
			return false;
		t->tz_minute = (s[i + 1] - '0') * 10 + s[i + 2] - '0';
		i += 3;
	}
	return i == n;
}

static bool match_timestamp(const char *s, size_t n)
{
	struct ts t;

	if (!sm_ypy_parse_ts(s, n, &t))
		return false;
	/* the resolver wants exactly YYYY-MM-DD for a bare date */
	if (!t.has_time)
		return n == 10;
	return true;
}

enum tid sm_ypy_resolve_plain(const char *s, size_t n)
{
	char c0 = n ? s[0] : '\0';

	if (n && strchr("yYnNtTfFoO", c0) && sm_ypy_one_of(s, n, sm_ypy_bool_words))
		return T_BOOL;
	if (n && strchr("-+0123456789.", c0) && match_float(s, n))
		return T_FLOAT;
	if (n && strchr("-+0123456789", c0) && match_int(s, n))
		return T_INT;
	if (n == 2 && s[0] == '<' && s[1] == '<')
		return T_MERGE;
	if ((!n || strchr("~nN", c0)) && sm_ypy_one_of(s, n, null_words))
		return T_NULL;
	if (n && sm_ypy_is_digit(c0) && match_timestamp(s, n))
		return T_TIMESTAMP;
	if (n == 1 && c0 == '=')
		return T_VALUE;
	return T_STR;
}

enum tid sm_ypy_tag_id(const char *tag)
{
	static const struct {
		const char *name;
		enum tid id;
	} tags[] = {
	    {"null", T_NULL},	{"bool", T_BOOL},     {"int", T_INT},
	    {"float", T_FLOAT}, {"binary", T_BINARY}, {"timestamp", T_TIMESTAMP},
	    {"omap", T_OMAP},	{"pairs", T_PAIRS},   {"set", T_SET},
	    {"str", T_STR},	{"seq", T_SEQ},	      {"map", T_MAP},
	    {"merge", T_MERGE}, {"value", T_VALUE},
	};
	static const char prefix[] = "tag:yaml.org,2002:";

	if (strncmp(tag, prefix, sizeof(prefix) - 1) != 0)
		return T_OTHER;
	tag += sizeof(prefix) - 1;
	for (size_t i = 0; i < SM_ARRAY_SIZE(tags); i++)
		if (strcmp(tag, tags[i].name) == 0)
			return tags[i].id;
	return T_OTHER;
}
