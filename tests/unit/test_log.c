/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "skillmeat/log.h"

/* Log lines go to a temp file that each test reads back. */
static int log_fd = -1;

static int open_log(void **state)
{
	const char *t = getenv("TMPDIR");
	char path[1024];

	(void)state;
	snprintf(path, sizeof(path), "%s/sm-test-log-XXXXXX", t && *t ? t : "/tmp");
	log_fd = mkostemp(path, O_CLOEXEC);
	if (log_fd < 0)
		return -1;
	unlink(path);
	return 0;
}

static int close_log(void **state)
{
	(void)state;
	sm_log_set_fd(-1);
	close(log_fd);
	return 0;
}

static void reset(enum sm_log_level level, int json)
{
	assert_int_equal(ftruncate(log_fd, 0), 0);
	assert_int_equal(lseek(log_fd, 0, SEEK_SET), 0);
	sm_log_set_fd(log_fd);
	sm_log_set_level(level);
	sm_log_set_json(json);
}

/* Everything logged since reset, NUL-terminated; caller frees. */
static char *slurp(void)
{
	off_t n = lseek(log_fd, 0, SEEK_END);
	char *buf = malloc((size_t)n + 1);

	assert_non_null(buf);
	assert_int_equal(pread(log_fd, buf, (size_t)n, 0), n);
	buf[n] = '\0';
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static json_t *parse_line(const char *line)
{
	json_error_t jerr;
	json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);

	if (!j)
		fail_msg("not JSON (%s): %s", jerr.text, line);
	assert_true(json_is_object(j));
	return j;
}

static void test_level_filtering(void **state)
{
	char *out;

	(void)state;
	reset(SM_LOG_INFO, 0);
	assert_false(sm_log_enabled(SM_LOG_DEBUG));
	assert_true(sm_log_enabled(SM_LOG_INFO));
	assert_true(sm_log_enabled(SM_LOG_ERROR));
	sm_log_debug("hidden %d", 1);
	sm_log_info("shown %d", 2);
	sm_log_warn("warned");
	sm_log_error("failed '%s'", "x");
	sm_log_fields(SM_LOG_DEBUG, "hidden too", "k", "v", NULL);
	out = slurp();
	assert_int_equal(count_lines(out), 3);
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, " INFO shown 2\n"));
	assert_non_null(strstr(out, " WARN warned\n"));
	assert_non_null(strstr(out, " ERROR failed 'x'\n"));
	free(out);

	reset(SM_LOG_ERROR, 0);
	sm_log_warn("no");
	sm_log_error("yes");
	out = slurp();
	assert_int_equal(count_lines(out), 1);
	free(out);

	/* out-of-range levels are clamped */
	reset((enum sm_log_level)99, 0);
	assert_true(sm_log_enabled(SM_LOG_ERROR));
	assert_false(sm_log_enabled(SM_LOG_WARN));
}

static void test_text_format(void **state)
{
	char *out;

	(void)state;
	reset(SM_LOG_DEBUG, 0);
	sm_log_fields(SM_LOG_INFO, "request done", "method", "GET", "path", "/api/v1/x y", "empty",
		      "", "eq", "a=b", "q", "say \"hi\"", "none", NULL, NULL);
	sm_log_debug("two\nlines\tand\x01");
	out = slurp();
	assert_int_equal(count_lines(out), 2);
	/* "YYYY-MM-DDTHH:MM:SS[.ffffff]Z LEVEL ..." */
	assert_int_equal(out[4], '-');
	assert_int_equal(out[10], 'T');
	assert_non_null(strstr(out, "Z INFO request done method=GET path=\"/api/v1/x y\" "
				    "empty=\"\" eq=\"a=b\" q=\"say \\\"hi\\\"\" none=(null)\n"));
	assert_non_null(strstr(out, "Z DEBUG two\\nlines\\tand\\x01\n"));
	free(out);
}

static void test_json_format_and_escaping(void **state)
{
	char *out, *nl;
	json_t *j;

	(void)state;
	reset(SM_LOG_DEBUG, 1);
	sm_log_info("quote \" backslash \\ newline \n tab \t ctl \x01 del \x7f "
		    "utf8 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad \xff \xc3 end");
	sm_log_fields(SM_LOG_WARN, "fields", "path", "C:\\dir\\\"x\"", "ctl", "\x1f\r\n",
		      "we\"ird key", "v", "null", NULL, NULL);
	out = slurp();
	assert_int_equal(count_lines(out), 2);
	/* raw control bytes never reach the output */
	assert_null(strchr(out, '\x01'));
	assert_null(strchr(out, '\x7f'));
	assert_non_null(strstr(out, "\\u0001"));

	nl = strchr(out, '\n');
	*nl = '\0';
	j = parse_line(out);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	assert_non_null(json_string_value(json_object_get(j, "ts")));
	assert_string_equal(json_string_value(json_object_get(j, "msg")),
			    "quote \" backslash \\ newline \n tab \t ctl \x01 del \x7f "
			    "utf8 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad \xef\xbf\xbd "
			    "\xef\xbf\xbd end");
	json_decref(j);

	j = parse_line(nl + 1);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "fields");
	assert_string_equal(json_string_value(json_object_get(j, "path")), "C:\\dir\\\"x\"");
	assert_string_equal(json_string_value(json_object_get(j, "ctl")), "\x1f\r\n");
	assert_string_equal(json_string_value(json_object_get(j, "we\"ird key")), "v");
	assert_true(json_is_null(json_object_get(j, "null")));
	assert_null(json_object_get(j, "truncated"));
	json_decref(j);
	free(out);
}

static void test_invalid_utf8_variants(void **state)
{
	static const char *const bad[] = {
		"\xc0\xaf",	    /* overlong '/' */
		"\xe0\x80\xaf",	    /* overlong */
		"\xed\xa0\x80",	    /* surrogate */
		"\xf4\x90\x80\x80", /* > U+10FFFF */
		"\xf8\x88\x80\x80\x80",
		"\x80",
		"\xe2\x82",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out;
		json_t *j;

		reset(SM_LOG_DEBUG, 1);
		sm_log_fields(SM_LOG_INFO, bad[i], "v", bad[i], NULL);
		out = slurp();
		j = parse_line(out);
		assert_non_null(strstr(json_string_value(json_object_get(j, "msg")),
				       "\xef\xbf\xbd"));
		json_decref(j);
		free(out);
	}
}

static void test_long_lines_truncated(void **state)
{
	size_t n = 100000;
	char *big = malloc(n + 1), *out;
	json_t *j;

	(void)state;
	memset(big, '"', n); /* worst case: every byte escaped */
	big[n] = '\0';

	reset(SM_LOG_DEBUG, 1);
	sm_log_info("%s", big);
	out = slurp();
	assert_int_equal(count_lines(out), 1);
	assert_true(strlen(out) <= 8192);
	j = parse_line(out);
	assert_true(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
	free(out);

	/* a long field value: still one valid object */
	reset(SM_LOG_DEBUG, 1);
	sm_log_fields(SM_LOG_INFO, "m", "a", "1", "big", big, "after", "x", NULL);
	out = slurp();
	j = parse_line(out);
	assert_string_equal(json_string_value(json_object_get(j, "a")), "1");
	assert_true(json_is_true(json_object_get(j, "truncated")));
	assert_null(json_object_get(j, "after"));
	json_decref(j);
	free(out);

	reset(SM_LOG_DEBUG, 0);
	sm_log_fields(SM_LOG_INFO, "m", "big", big, NULL);
	out = slurp();
	assert_int_equal(count_lines(out), 1);
	assert_true(strlen(out) <= 8192);
	assert_non_null(strstr(out, "\" [truncated]\n"));
	free(out);
	free(big);
}

static void test_env_init(void **state)
{
	char *out;

	(void)state;
	setenv("SKILLMEAT_LOG_LEVEL", "debug", 1);
	setenv("SKILLMEAT_LOG_FORMAT", "json", 1);
	sm_log_init();
	assert_true(sm_log_enabled(SM_LOG_DEBUG));
	reset(SM_LOG_DEBUG, 1);
	sm_log_init(); /* reset() overrode; env again */
	sm_log_debug("from env");
	out = slurp();
	assert_int_equal(out[0], '{');
	free(out);

	setenv("SKILLMEAT_LOG_LEVEL", "ERROR", 1);
	setenv("SKILLMEAT_LOG_FORMAT", "text", 1);
	sm_log_init();
	assert_false(sm_log_enabled(SM_LOG_WARN));
	assert_true(sm_log_enabled(SM_LOG_ERROR));

	/* unknown values: the defaults (warn, text) */
	setenv("SKILLMEAT_LOG_LEVEL", "loud", 1);
	setenv("SKILLMEAT_LOG_FORMAT", "xml", 1);
	sm_log_init();
	assert_false(sm_log_enabled(SM_LOG_INFO));
	assert_true(sm_log_enabled(SM_LOG_WARN));
	unsetenv("SKILLMEAT_LOG_LEVEL");
	unsetenv("SKILLMEAT_LOG_FORMAT");
	sm_log_init();
	assert_false(sm_log_enabled(SM_LOG_INFO));
	assert_true(sm_log_enabled(SM_LOG_WARN));
	assert_int_equal(ftruncate(log_fd, 0), 0);
	assert_int_equal(lseek(log_fd, 0, SEEK_SET), 0);
	sm_log_warn("text again");
	out = slurp();
	assert_non_null(strstr(out, " WARN text again\n"));
	free(out);
}

static void test_errno_kept(void **state)
{
	(void)state;
	reset(SM_LOG_DEBUG, 0);
	errno = ENOENT;
	sm_log_info("x");
	assert_int_equal(errno, ENOENT);
	sm_log_set_fd(-5); /* back to stderr... */
	sm_log_set_fd(log_fd);
}

#define NTHREADS 8
#define NLINES 500

static void *writer(void *arg)
{
	char id[16];
	int i;

	snprintf(id, sizeof(id), "%d", (int)(intptr_t)arg);
	for (i = 0; i < NLINES; i++) {
		char n[16];

		snprintf(n, sizeof(n), "%d", i);
		if (i % 2)
			sm_log_fields(SM_LOG_INFO, "tick", "thread", id, "i", n, NULL);
		else
			sm_log_info("tick thread=%s i=%s", id, n);
	}
	return NULL;
}

static void *toggler(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		sm_log_set_json(i % 2);
		sm_log_set_level(SM_LOG_DEBUG + i % 2);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[NTHREADS + 1];
	char *out, *line, *save = NULL;
	size_t lines = 0;
	int i;

	(void)state;
	reset(SM_LOG_DEBUG, 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
	assert_int_equal(pthread_create(&t[NTHREADS], NULL, toggler, NULL), 0);
	for (i = 0; i <= NTHREADS; i++)
		pthread_join(t[i], NULL);
	out = slurp();
	/* every line whole: a JSON object or a text line, never a mix */
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '{') {
			json_t *j = parse_line(line);

			assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
			json_decref(j);
		} else {
			assert_non_null(strstr(line, "Z INFO tick thread="));
			assert_null(strchr(line, '{'));
		}
		lines++;
	}
	assert_int_equal(lines, NTHREADS * NLINES);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_filtering),
		cmocka_unit_test(test_text_format),
		cmocka_unit_test(test_json_format_and_escaping),
		cmocka_unit_test(test_invalid_utf8_variants),
		cmocka_unit_test(test_long_lines_truncated),
		cmocka_unit_test(test_env_init),
		cmocka_unit_test(test_errno_kept),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, open_log, close_log);
}
