/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "skillmeat/json_escape.h"
#include "skillmeat/log.h"
#include "skillmeat/timeutil.h"
#include "util/banned.h"

/*
 * Lines are built in fixed stack buffers (no allocation, so logging works
 * when memory is short and never meets sm_alloc_fail_after) and written with
 * one write(2) under a mutex, so lines from threads never interleave.
 */
#define LINE_CAP 8192
#define MSG_CAP 8192
/* kept free at the end of a line for what closes it: '"', ',"truncated":true', '}', '\n' */
#define LINE_TAIL 32

static atomic_int log_level = SM_LOG_WARN;
static atomic_int log_json;
static atomic_int log_plain; /* text without time: 'warning: …' as the CLI says it */
static atomic_int log_fd = 2;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

struct line {
	size_t len;
	bool full; /* something did not fit and was cut */
	char buf[LINE_CAP];
};

static const char *const level_text[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *const level_json[] = {"debug", "info", "warn", "error"};
static const char *const level_plain[] = {"debug: ", "info: ", "warning: ", "error: "};

static int parse_level(const char *s, enum sm_log_level *ret)
{
	if (!strcasecmp(s, "debug"))
		*ret = SM_LOG_DEBUG;
	else if (!strcasecmp(s, "info"))
		*ret = SM_LOG_INFO;
	else if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning"))
		*ret = SM_LOG_WARN;
	else if (!strcasecmp(s, "error"))
		*ret = SM_LOG_ERROR;
	else
		return -EINVAL;
	return 0;
}

void sm_log_init(void)
{
	const char *lv = getenv("SKILLMEAT_LOG_LEVEL");
	const char *fmt = getenv("SKILLMEAT_LOG_FORMAT");
	enum sm_log_level level = SM_LOG_WARN;

	if (lv && parse_level(lv, &level) < 0)
		level = SM_LOG_WARN;
	atomic_store(&log_level, (int)level);
	atomic_store(&log_json, fmt && !strcasecmp(fmt, "json"));
}

static enum sm_log_level clamp(enum sm_log_level level)
{
	if ((int)level < (int)SM_LOG_DEBUG)
		return SM_LOG_DEBUG;
	if ((int)level > (int)SM_LOG_ERROR)
		return SM_LOG_ERROR;
	return level;
}

void sm_log_set_level(enum sm_log_level level)
{
	atomic_store(&log_level, (int)clamp(level));
}

void sm_log_set_json(int json)
{
	atomic_store(&log_json, !!json);
}

void sm_log_set_plain(int plain)
{
	atomic_store(&log_plain, !!plain);
}

void sm_log_set_fd(int fd)
{
	atomic_store(&log_fd, fd < 0 ? 2 : fd);
}

int sm_log_enabled(enum sm_log_level level)
{
	return (int)level >= atomic_load(&log_level);
}

/* Raw bytes, all or nothing, below the tail reserve. */
static bool put(struct line *l, const char *s, size_t n)
{
	if (l->full || n > LINE_CAP - LINE_TAIL - l->len) {
		l->full = true;
		return false;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

static bool puts_(struct line *l, const char *s)
{
	return put(l, s, strlen(s));
}

/* Into the tail reserve: only for the few bytes that close a line. */
static void put_tail(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (n > LINE_CAP - l->len)
		n = LINE_CAP - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/*
 * One run of sm_json_escape's output: an escape all or nothing, a run of text
 * cut at a character boundary when the line is full (a text run never starts
 * with a backslash: sm_json_escape escapes every one).
 */
static bool put_json_run(void *ctx, const char *p, size_t n)
{
	struct line *l = ctx;
	size_t room = l->full ? 0 : LINE_CAP - LINE_TAIL - l->len;

	if (put(l, p, n))
		return true;
	if (n && p[0] != '\\') {
		while (room && ((unsigned char)p[room] & 0xc0) == 0x80)
			room--;
		memcpy(l->buf + l->len, p, room);
		l->len += room;
	}
	l->full = true;
	return false;
}

/* s escaped for a JSON string (without the quotes); invalid UTF-8 becomes U+FFFD. */
static void put_json_escaped(struct line *l, const char *str)
{
	if (!l->full)
		(void)sm_json_escape(str, strlen(str), put_json_run, l);
}

/* s with control characters escaped, so a text line stays one line. */
static void put_text_escaped(struct line *l, const char *str, bool quoted)
{
	const unsigned char *s = (const unsigned char *)str;

	for (; *s && !l->full; s++) {
		char esc[8];

		if (*s == '\n')
			put(l, "\\n", 2);
		else if (*s == '\r')
			put(l, "\\r", 2);
		else if (*s == '\t')
			put(l, "\\t", 2);
		else if (*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *s);
			put(l, esc, 4);
		} else if (quoted && (*s == '"' || *s == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)*s;
			put(l, esc, 2);
		} else {
			put(l, (const char *)s, 1);
		}
	}
}

static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			return true;
	}
	return false;
}

static void begin(struct line *l, enum sm_log_level level, bool json)
{
	char ts[SM_ISO_MAX];
	struct timespec now;

	if (!json && atomic_load(&log_plain)) {
		puts_(l, level_plain[level]);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (sm_time_iso(now.tv_sec, now.tv_nsec / 1000, 1, ts) < 0)
		snprintf(ts, sizeof(ts), "%lld", (long long)now.tv_sec);
	if (json) {
		puts_(l, "{\"ts\":\"");
		puts_(l, ts);
		puts_(l, "Z\",\"level\":\"");
		puts_(l, level_json[level]);
		puts_(l, "\",\"msg\":\"");
	} else {
		puts_(l, ts);
		puts_(l, "Z ");
		puts_(l, level_text[level]);
		puts_(l, " ");
	}
}

static void add_msg(struct line *l, const char *msg, bool json)
{
	if (json) {
		put_json_escaped(l, msg);
		put_tail(l, "\"");
	} else {
		put_text_escaped(l, msg, false);
	}
}

static void add_field(struct line *l, const char *key, const char *value, bool json)
{
	size_t saved = l->len;

	if (l->full)
		return;
	if (json) {
		put(l, ",\"", 2);
		put_json_escaped(l, key);
		if (!put(l, value ? "\":\"" : "\":null", value ? 3 : 6) || l->full) {
			/* no half keys: drop the whole field */
			l->len = saved;
			l->full = true;
			return;
		}
		if (value) {
			put_json_escaped(l, value);
			put_tail(l, "\"");
		}
	} else {
		put(l, " ", 1);
		put_text_escaped(l, key, false);
		if (!put(l, "=", 1)) {
			l->len = saved;
			return;
		}
		if (!value) {
			puts_(l, "(null)");
		} else if (needs_quotes(value)) {
			put(l, "\"", 1);
			put_text_escaped(l, value, true);
			put_tail(l, "\"");
		} else {
			put_text_escaped(l, value, false);
		}
	}
}

static void finish_and_write(struct line *l, bool json)
{
	const char *p = l->buf;
	size_t n;
	int fd;

	if (json)
		put_tail(l, l->full ? ",\"truncated\":true}\n" : "}\n");
	else
		put_tail(l, l->full ? " [truncated]\n" : "\n");
	n = l->len;
	fd = atomic_load(&log_fd);
	pthread_mutex_lock(&write_lock);
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break; /* nowhere to report a failing log */
		}
		p += w;
		n -= (size_t)w;
	}
	pthread_mutex_unlock(&write_lock);
}

void sm_log(enum sm_log_level level, const char *fmt, ...)
{
	char msg[MSG_CAP];
	struct line l;
	bool json;
	int saved_errno = errno, n;
	va_list ap;

	level = clamp(level);
	if (!sm_log_enabled(level))
		return;
	json = atomic_load(&log_json);
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	l.len = 0;
	l.full = false;
	begin(&l, level, json);
	add_msg(&l, msg, json);
	if (n >= (int)sizeof(msg))
		l.full = true;
	finish_and_write(&l, json);
	errno = saved_errno;
}

void sm_log_fields(enum sm_log_level level, const char *msg, ...)
{
	const char *key;
	struct line l;
	bool json;
	int saved_errno = errno;
	va_list ap;

	level = clamp(level);
	if (!sm_log_enabled(level))
		return;
	json = atomic_load(&log_json);
	l.len = 0;
	l.full = false;
	begin(&l, level, json);
	add_msg(&l, msg ? msg : "", json);
	va_start(ap, msg);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		add_field(&l, key, value, json);
	}
	va_end(ap);
	finish_and_write(&l, json);
	errno = saved_errno;
}
