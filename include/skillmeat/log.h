/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_LOG_H
#define SKILLMEAT_LOG_H

/*
 * A small logger writing lines to stderr (never stdout). Levels from
 * SKILLMEAT_LOG_LEVEL (debug|info|warn|error, default warn) and format from
 * SKILLMEAT_LOG_FORMAT (text|json, default text), read by sm_log_init.
 * Text: "<iso time> <LEVEL> <message>". JSON: one object per line,
 * {"ts":..., "level":..., "msg":...} plus any key/value fields passed to
 * sm_log_fields. Thread-safe (one write(2) per line).
 * Until sm_log_init is called: warn, text. Timestamps are UTC with a 'Z'.
 * Lines are capped at 8 KiB; a longer one is cut (JSON stays valid) and marked
 * ("truncated":true, or " [truncated]" in text). Control characters are
 * escaped in both formats so an entry is always one line; JSON replaces
 * invalid UTF-8 with U+FFFD. Logging never allocates and keeps errno.
 */
enum sm_log_level {
	SM_LOG_DEBUG = 0,
	SM_LOG_INFO = 1,
	SM_LOG_WARN = 2,
	SM_LOG_ERROR = 3,
};

void sm_log_init(void);
void sm_log_set_level(enum sm_log_level level);
void sm_log_set_json(int json);
/* Text lines without the time, as a command line tool says them: 'warning: <msg>'. */
void sm_log_set_plain(int plain);
/* For tests: write to fd instead of 2. */
void sm_log_set_fd(int fd);
int sm_log_enabled(enum sm_log_level level);

void sm_log(enum sm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A structured line: msg plus NULL-terminated pairs of (const char *key,
 * const char *value) strings. Text format prints them as key=value (value
 * quoted when empty or holding spaces, '=', '"' or a backslash). A NULL value is
 * JSON null, "(null)" in text.
 */
void sm_log_fields(enum sm_log_level level, const char *msg, ...) __attribute__((sentinel));

#define sm_log_debug(...) sm_log(SM_LOG_DEBUG, __VA_ARGS__)
#define sm_log_info(...) sm_log(SM_LOG_INFO, __VA_ARGS__)
#define sm_log_warn(...) sm_log(SM_LOG_WARN, __VA_ARGS__)
#define sm_log_error(...) sm_log(SM_LOG_ERROR, __VA_ARGS__)

#endif
