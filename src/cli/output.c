/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "skillmeat/array.h"
#include "skillmeat/error.h"
#include "skillmeat/home.h"
#include "skillmeat/log.h"
#include "skillmeat/memory.h"
#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"
#include "util/banned.h"

static void vline(FILE *f, bool color, const char *prefix, const char *code, const char *fmt,
		  va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	/*
	 * One line: the message is flattened so scripts can read it, and control
	 * characters (from hostile names echoed back) cannot drive the terminal.
	 */
	if (sm_strbuf_vaddf(&sb, fmt, ap) == 0 && sb.len == 0 && sm_strbuf_addstr(&sb, "failed") < 0)
		sm_strbuf_reset(&sb); /* a line is never empty; cli_fail names the cause */
	if (sb.len) {
		for (size_t i = 0; i < sb.len; i++) {
			unsigned char ch = (unsigned char)sb.buf[i];

			if (ch == '\n' || ch == '\r' || ch == '\t')
				sb.buf[i] = ' ';
			else if (ch < 0x20 || ch == 0x7f)
				sb.buf[i] = '?';
		}
	}
	if (color)
		fprintf(f, "%s%s" C_RESET "%s\n", code, prefix, sb.buf);
	else
		fprintf(f, "%s%s\n", prefix, sb.buf);
	sm_strbuf_release(&sb);
}

int cli_error(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(stderr, cli->color_err, "error: ", "\033[31m", fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

int cli_fail(struct cli *cli, int code, const struct strbuf *err)
{
	if (err && err->len)
		return cli_error(cli, "%s", err->buf);
	return cli_error(cli, "%s", sm_strerror(code < 0 ? code : -EIO));
}

int cli_finish_output(struct cli *cli, int r)
{
	int bad = ferror(stdout);
	int e = 0;

	if (fflush(stdout) != 0 || bad) {
		e = errno ? errno : EIO;
		clearerr(stdout);
		cli_error(cli, "cannot write the output: %s", sm_strerror(-e));
		return EXIT_FAIL;
	}
	return r;
}

int cli_usage_error(struct cli *cli, const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(stderr, cli->color_err, "error: ", "\033[31m", fmt, ap);
	va_end(ap);
	if (usage)
		fprintf(stderr, "usage: %s\n", usage);
	return EXIT_USAGE;
}

void cli_warning(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet)
		return;
	va_start(ap, fmt);
	vline(stderr, cli->color_err, "warning: ", C_YELLOW, fmt, ap);
	va_end(ap);
}

void cli_set_quiet(struct cli *cli)
{
	cli->quiet = true;
	/* the library's warnings (a malformed file met by a sync) go too */
	sm_log_set_level(SM_LOG_ERROR);
}

void cli_info(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet || cli->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int cli_help(const char *text)
{
	fputs(text, stdout);
	return EXIT_OK;
}

const char *cli_c(const struct cli *cli, const char *code)
{
	return cli->color ? code : "";
}

/*
 * What getopt_long found wrong (opterr is 0 and every option string starts with
 * ':'), as 'error: …' like every other error: ':' a missing value, '?' an unknown
 * option (optopt its letter, or 0 for a long one, named at argv[optind - 1]).
 */
static int option_error(struct cli *cli, int c, const char *usage)
{
	const char *arg = cli->argv && optind > 0 ? cli->argv[optind - 1] : NULL;
	const char *eq;

	if (!arg)
		return cli_usage_error(cli, usage, "bad option");
	if (c == ':')
		return cli_usage_error(cli, usage, "option '%s' needs a value", arg);
	if (!strncmp(arg, "--", 2) && (eq = strchr(arg, '=')) && optopt)
		return cli_usage_error(cli, usage, "option '%.*s' takes no value",
				       (int)(eq - arg), arg);
	if (optopt > 0 && optopt < 0x80 && isgraph(optopt))
		return cli_usage_error(cli, usage, "unknown option '-%c'", optopt);
	return cli_usage_error(cli, usage, "unknown option '%s'", arg);
}

int cli_common_opt(struct cli *cli, int c, const char *usage)
{
	switch (c) {
	case OPT_HOME:
		cli->home_dir = optarg;
		return 1;
	case OPT_JSON:
		cli->json = true;
		return 1;
	case OPT_QUIET:
		cli_set_quiet(cli);
		return 1;
	case OPT_NO_COLOR:
		cli->color = cli->color_err = false;
		return 1;
	case '?':
	case ':':
		(void)option_error(cli, c, usage);
		return -1;
	default:
		return 0;
	}
}

struct sm_home *cli_home(struct cli *cli)
{
	struct strbuf err = STRBUF_INIT;
	int r;

	if (!cli->home && (r = sm_home_open(cli->home_dir, &cli->home, &err)) < 0)
		cli_fail(cli, r, &err);
	sm_strbuf_release(&err);
	return cli->home;
}

int cli_term_width(void)
{
	const char *cols = getenv("COLUMNS");
	struct winsize ws;
	long n;

	if (cols) {
		n = strtol(cols, NULL, 10);
		if (n > 20 && n < 1000)
			return (int)n;
	}
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 100;
}

void cli_print_cut(FILE *f, const char *s, int width, bool pad)
{
	int cols = 0;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *start = p, *cut = NULL;
	int need_ellipsis = 0;

	/* count display columns as code points (good enough for text tables) */
	while (*p) {
		if ((*p & 0xc0) != 0x80) {
			if (cols == width - 1 && !cut)
				cut = p;
			if (cols == width) {
				need_ellipsis = 1;
				break;
			}
			cols++;
		}
		p++;
	}
	/* in runs (not a character at a time), a line break or a tab as a space */
	for (const unsigned char *q = start, *end = need_ellipsis ? (cut ? cut : start) : p;
	     q < end;) {
		size_t run = 0;

		while (q + run < end && q[run] != '\n' && q[run] != '\t')
			run++;
		fwrite(q, 1, run, f);
		q += run;
		if (q < end) {
			fputc(' ', f);
			q++;
		}
	}
	if (need_ellipsis) {
		fputs("…", f);
		return;
	}
	if (pad)
		cli_print_spaces(f, width - cols);
}

void cli_print_spaces(FILE *f, int n)
{
	static const char spaces[] = "                                ";

	for (; n > 0; n -= (int)sizeof(spaces) - 1)
		fwrite(spaces, 1, n < (int)sizeof(spaces) - 1 ? (size_t)n : sizeof(spaces) - 1, f);
}

int cli_print_json(json_t *v)
{
	int r;

	if (!v)
		return -ENOMEM;
	r = json_dumpf(v, stdout,
		       JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(v);
	return r < 0 ? -EIO : 0;
}

json_t *cli_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *datetime_json(const struct sm_toml_value *v)
{
	const struct sm_toml_datetime *d = &v->u.dt;
	char buf[64];
	size_t n = 0;

	if (v->type != SM_TOML_TIME_LOCAL)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%04d-%02d-%02d", d->year, d->month,
				      d->day);
	if (v->type == SM_TOML_DATETIME || v->type == SM_TOML_DATETIME_LOCAL)
		buf[n++] = 'T';
	if (v->type != SM_TOML_DATE_LOCAL) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%02d:%02d:%02d", d->hour,
				      d->minute, d->second);
		if (d->frac_digits > 0) {
			char frac[16];

			snprintf(frac, sizeof(frac), "%09u", d->nanosecond);
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%.*s",
					      d->frac_digits > 9 ? 9 : d->frac_digits, frac);
		}
	}
	if (v->type == SM_TOML_DATETIME) {
		if (d->offset_z || d->offset_minutes == 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Z");
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%c%02d:%02d",
					      d->offset_minutes < 0 ? '-' : '+',
					      abs(d->offset_minutes) / 60,
					      abs(d->offset_minutes) % 60);
	}
	(void)n;
	return json_string(buf);
}

json_t *cli_toml_to_json(const struct sm_toml_value *v)
{
	json_t *j;

	if (!v)
		return json_null();
	switch (v->type) {
	case SM_TOML_STRING:
		return json_stringn(sm_toml_str(v), sm_toml_strlen(v));
	case SM_TOML_INTEGER:
		return json_integer(v->u.i);
	case SM_TOML_BIG_INTEGER: /* beyond what a JSON reader keeps exactly: the digits */
		return json_stringn(sm_toml_str(v), sm_toml_strlen(v));
	case SM_TOML_FLOAT:
		return json_real(v->u.f);
	case SM_TOML_BOOL:
		return json_boolean(v->u.b);
	case SM_TOML_ARRAY:
		j = json_array();
		for (size_t i = 0; j && i < sm_toml_len(v); i++)
			if (json_array_append_new(j, cli_toml_to_json(sm_toml_at(v, i))) < 0) {
				json_decref(j);
				return NULL;
			}
		return j;
	case SM_TOML_TABLE:
		j = json_object();
		for (size_t i = 0; j && i < sm_toml_len(v); i++)
			if (json_object_setn_new(j, sm_toml_kv_at(v, i)->key, sm_toml_kv_at(v, i)->keylen,
						 cli_toml_to_json(sm_toml_value_at(v, i))) < 0) {
				json_decref(j);
				return NULL;
			}
		return j;
	default:
		return datetime_json(v);
	}
}

void cli_progress_start(struct cli *cli, struct cli_progress *p, const char *label, size_t total)
{
	p->on = cli->tty_err && !cli->quiet && !cli->json && total > 1;
	p->total = total;
	p->label = label;
}

void cli_progress_update(struct cli_progress *p, size_t done, const char *item)
{
	int width = 30, filled;

	if (!p->on)
		return;
	filled = p->total ? (int)(done * (size_t)width / p->total) : width;
	fprintf(stderr, "\r\033[K%s [", p->label);
	for (int i = 0; i < width; i++)
		fputc(i < filled ? '#' : '-', stderr);
	fprintf(stderr, "] %zu/%zu ", done, p->total);
	cli_print_cut(stderr, item, 30, false);
	fflush(stderr);
}

void cli_progress_end(struct cli_progress *p)
{
	if (!p->on)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

bool cli_confirm(struct cli *cli, const char *fmt, ...)
{
	char line[64];
	va_list ap;

	if (!cli->tty_in)
		return false;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" [y/N] ", stderr);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

int cli_split_list(const char *s, char ***ret, size_t *count)
{
	char **v = NULL;
	size_t n = 0, alloc = 0;

	while (s && *s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *b = s, *e = s + len;

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b) {
			if (SM_GROW(v, alloc, n + 1) < 0 ||
			    !(v[n] = sm_strndup(b, (size_t)(e - b)))) {
				for (size_t i = 0; i < n; i++)
					sm_free(v[i]);
				sm_free(v);
				return -ENOMEM;
			}
			n++;
		}
		s = end ? end + 1 : s + len;
	}
	*ret = v;
	*count = n;
	return 0;
}
