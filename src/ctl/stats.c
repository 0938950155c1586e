/*
 * marketctl.c - the operators' command line for marketbox.
 *
 * It reads marketbox's database directly, opened read-only (users,
 * offers, orders, outbox, stats, export), and asks a running marketbox
 * for every change through its admin HTTP interface (broadcast, retry,
 * user set), so the daemon stays the only writer and its rules (STOP,
 * throughput, units of work) apply.  The one exception, store copy,
 * writes a database no marketbox has open (it checks).  The conf (-c) gives the database,
 * http-interface, http-port and admin-password.
 *
 * Output: aligned tables for people; --csv (RFC 4180) and --json (an
 * array of objects) for scripts.  Long operations (export, broadcast,
 * retry) show their progress on standard error when it is a terminal.
 * Exit status: 0 done, 1 failed (the reason on standard error), 2 usage.
 * See marketctl(1).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "base/gw.h"

#include "base/conf.h"
#include "engine/core.h"
#include "text/lang.h"
#include "plugin/plugin.h"
#include "store/store.h"

#ifndef MARKETBOX_CONF_FILE
#define MARKETBOX_CONF_FILE	"/usr/local/etc/marketbox/marketbox.conf"
#endif

#define CTL_TABLE_LIMIT		100	/* rows shown to people by default */
#define CTL_CELL_MAX		40	/* characters of a table cell */
#define CTL_CONNECT_MS		5000
#define CTL_ANSWER_MS		30000
#define CTL_ANSWER_MAX		(1 << 20)
#define CTL_POLL_MS		500	/* between broadcast progress asks */
#define CTL_PROGRESS_EVERY	10000	/* rows between export progress */

enum ctl_format { CTL_TABLE, CTL_CSV, CTL_JSON };

struct ctl {
	const char	*conf_path;	/* -c, or the default */
	int		 conf_given;
	const char	*db_path;	/* -d */
	struct conf	*conf;
	struct store	*store;		/* opened read-only */
	enum ctl_format	 format;
	long		 limit;		/* -1: the format's default */
	int		 tty;		/* stderr is a terminal: progress */
};

/* --- messages ------------------------------------------------------------- */

static void ctl_err(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
ctl_err(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "marketctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
ctl_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: marketctl [-c conf] [-d db] [--csv|--json] command ...\n"
	    "  users [--market M] [--role R] [--language L] [--opted-out]\n"
	    "  offers [--kind offer|want] [--state S|all] [--commodity C]\n"
	    "         [--market M]\n"
	    "  orders [--state S]\n"
	    "  outbox [--state S] [--kind K] [--to PHONE]\n"
	    "  stats\n"
	    "  export [trades|prices] [--since DATE] [--until DATE]\n"
	    "         [--with-phones] [-o FILE|DIR]\n"
	    "  broadcast (--market M | --commodity C | --all) [--wait] TEXT\n"
	    "  retry [--kind K]\n"
	    "  user set ROLE PHONE\n"
	    "  template LANG NAME [name=value ...]\n"
	    "  store copy [--force] FROM TO\n"
	    "Lists take --limit N (0: all; tables show %d by default).\n"
	    "See marketctl(1).\n", CTL_TABLE_LIMIT);
}

/* --- rows and their printing ---------------------------------------------------- */

/* A value: text (NULL for SQL NULL), and whether it is a number. */
struct ctl_cell {
	char	*text;
	int	 number;
};

struct ctl_rows {
	char		**names;
	size_t		  ncols;
	struct ctl_cell	 *cells;	/* nrows * ncols */
	size_t		  nrows, cap;
};

static void
ctl_rows_free(struct ctl_rows *r)
{
	size_t	 i;

	for (i = 0; i < r->ncols; i++)
		free(r->names[i]);
	for (i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i].text);
	free(r->names);
	free(r->cells);
	memset(r, 0, sizeof(*r));
}

static char *
ctl_strdup(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL) {
		ctl_err("out of memory");
		exit(1);
	}
	return d;
}

static void
ctl_rows_columns(struct ctl_rows *r, const char *const *names, size_t n)
{
	size_t	 i;

	if ((r->names = calloc(n, sizeof(*r->names))) == NULL) {
		ctl_err("out of memory");
		exit(1);
	}
	for (i = 0; i < n; i++)
		r->names[i] = ctl_strdup(names[i]);
	r->ncols = n;
}

/* Append a row of ncols cells (copied). */
static void
ctl_rows_add(struct ctl_rows *r, const struct ctl_cell *cells)
{
	size_t	 i;

	if (r->nrows == r->cap) {
		size_t		 ncap = r->cap ? r->cap * 2 : 64;
		struct ctl_cell	*n = realloc(r->cells,
				    ncap * r->ncols * sizeof(*n));

		if (n == NULL) {
			ctl_err("out of memory");
			exit(1);
		}
		r->cells = n;
		r->cap = ncap;
	}
	for (i = 0; i < r->ncols; i++) {
		r->cells[r->nrows * r->ncols + i].text =
		    ctl_strdup(cells[i].text);
		r->cells[r->nrows * r->ncols + i].number = cells[i].number;
	}
	r->nrows++;
}

/* Columns shown as money: JSON numbers although SQL gives text. */
static int
ctl_money_column(const char *name)
{
	return strcmp(name, "price") == 0 || strcmp(name, "total") == 0;
}

/* The display width of UTF-8 text (wide characters count 2). */
static size_t
ctl_width(const char *s, size_t max_chars, size_t *bytes)
{
	mbstate_t	 ps;
	wchar_t		 wc;
	size_t		 n, w = 0, chars = 0, off = 0, len = strlen(s);
	int		 cw;

	memset(&ps, 0, sizeof(ps));
	while (off < len && chars < max_chars) {
		n = mbrtowc(&wc, s + off, len - off, &ps);
		if (n == (size_t)-1 || n == (size_t)-2) {
			/* Not UTF-8 (or no UTF-8 locale): one per byte. */
			memset(&ps, 0, sizeof(ps));
			n = 1;
			cw = 1;
		} else {
			if (n == 0)
				n = 1;
			cw = wcwidth(wc);
			if (cw < 0)
				cw = 1;
		}
		off += n;
		w += (size_t)cw;
		chars++;
	}
	if (bytes != NULL)
		*bytes = off;
	return w;
}

/*
 * 1 if a spreadsheet could take cell s for a formula: it starts with = + -
 * @, a tab or a CR (OWASP's list), and it is not a plain number or a phone
 * number in international form ("+2547...", "-12.50"), which are harmless
 * as they are and which programs reading the CSV expect unchanged.
 */
static int
ctl_csv_formula(const char *s)
{
	const char	*p = s;

	if (strchr("=+-@\t\r", s[0]) == NULL || s[0] == '\0')
		return 0;
	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return 1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.' && p[1] >= '0' && p[1] <= '9')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	return *p != '\0';
}

/*
 * One CSV cell (RFC 4180).  A cell a spreadsheet would run as a formula
 * (=HYPERLINK(...), =cmd|'/C calc'!A0, @SUM(...)) gets a leading ' as
 * OWASP advises, so it is shown as text; the ' is part of the cell.
 */
static void
ctl_csv_value(FILE *fp, const char *s)
{
	const char	*p;
	int		 formula;

	if (s == NULL)
		return;
	formula = ctl_csv_formula(s);
	if (!formula && strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ' &&
	    (s[0] == '\0' || s[strlen(s) - 1] != ' ')) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	if (formula)
		fputc('\'', fp);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', fp);
		fputc(*p, fp);
	}
	fputc('"', fp);
}

/*
 * s with every control character made visible (ESC as \x1b, C1 controls
 * as \u0085...), so text from phones (names, senders, messages) cannot
 * move the cursor, clear the screen or retitle the operator's terminal.
 * A malloc'd copy, or NULL for NULL.
 */
static char *
ctl_visible(const char *s)
{
	const unsigned char	*p;
	char			*out, *o;

	if (s == NULL)
		return NULL;
	if ((out = malloc(strlen(s) * 6 + 1)) == NULL) {
		ctl_err("out of memory");
		exit(1);
	}
	for (p = (const unsigned char *)s, o = out; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += sprintf(o, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			o += sprintf(o, "\\u%04x", *++p);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

static void
ctl_json_value(FILE *fp, const char *s, int number)
{
	const unsigned char	*p;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	if (number) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", fp);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/* 1 if s is a plain decimal number (as JSON takes it). */
static int
ctl_is_decimal(const char *s)
{
	const char	*p = s;

	if (s == NULL || *s == '\0')
		return 0;
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* The streaming printers: header, each row, footer. */
struct ctl_out {
	FILE		*fp;
	enum ctl_format	 format;
	char		**names;
	size_t		 ncols;
	unsigned long	 rows;
};

static void
ctl_out_row(struct ctl_out *o, const struct ctl_cell *cells)
{
	size_t	 i;

	if (o->format == CTL_CSV) {
		for (i = 0; i < o->ncols; i++) {
			if (i)
				fputc(',', o->fp);
			ctl_csv_value(o->fp, cells[i].text);
		}
		fputs("\r\n", o->fp);
	} else {
		fputs(o->rows ? ",\n  {" : "\n  {", o->fp);
		for (i = 0; i < o->ncols; i++) {
			fputs(i ? ", " : "", o->fp);
			ctl_json_value(o->fp, o->names[i], 0);
			fputs(": ", o->fp);
			ctl_json_value(o->fp, cells[i].text, cells[i].number ||
			    (ctl_money_column(o->names[i]) &&
			    ctl_is_decimal(cells[i].text)));
		}
		fputc('}', o->fp);
	}
	o->rows++;
}

static void
ctl_out_begin(struct ctl_out *o)
{
	size_t	 i;

	o->rows = 0;
	if (o->format == CTL_CSV) {
		for (i = 0; i < o->ncols; i++) {
			if (i)
				fputc(',', o->fp);
			ctl_csv_value(o->fp, o->names[i]);
		}
		fputs("\r\n", o->fp);
	} else if (o->format == CTL_JSON)
		fputc('[', o->fp);
}

static void
ctl_out_end(struct ctl_out *o)
{
	if (o->format == CTL_JSON)
		fputs(o->rows ? "\n]\n" : "]\n", o->fp);
}

/* Print rows as an aligned table (cells cut at CTL_CELL_MAX characters). */
static void
ctl_table(FILE *fp, const struct ctl_rows *r)
{
	size_t	*w, i, j, cw, bytes;

	if ((w = calloc(r->ncols, sizeof(*w))) == NULL) {
		ctl_err("out of memory");
		exit(1);
	}
	/* What a terminal shows: control characters as escapes. */
	for (i = 0; i < r->nrows * r->ncols; i++) {
		char	*v = ctl_visible(r->cells[i].text);

		free(r->cells[i].text);
		r->cells[i].text = v;
	}
	for (j = 0; j < r->ncols; j++)
		w[j] = ctl_width(r->names[j], CTL_CELL_MAX, NULL);
	for (i = 0; i < r->nrows; i++)
		for (j = 0; j < r->ncols; j++) {
			const char	*t = r->cells[i * r->ncols + j].text;

			cw = ctl_width(t != NULL ? t : "-", CTL_CELL_MAX, NULL);
			if (cw > w[j])
				w[j] = cw;
		}
	for (j = 0; j < r->ncols; j++)
		fprintf(fp, "%s%-*s", j ? "  " : "",
		    j + 1 < r->ncols ? (int)w[j] : 0, r->names[j]);
	fputc('\n', fp);
	for (i = 0; i < r->nrows; i++) {
		for (j = 0; j < r->ncols; j++) {
			const struct ctl_cell	*c = &r->cells[i * r->ncols + j];
			const char		*t = c->text != NULL ? c->text :
						    "-";
			size_t			 pad;
			int			 cut;

			cw = ctl_width(t, CTL_CELL_MAX, &bytes);
			cut = bytes < strlen(t);
			pad = w[j] > cw ? w[j] - cw : 0;
			if (j)
				fputs("  ", fp);
			if (c->number && c->text != NULL)
				fprintf(fp, "%*s%s", (int)pad, "", t);
			else {
				fwrite(t, 1, bytes, fp);
				if (cut)
					fputs("\xE2\x80\xA6", fp);	/* ... */
				if (j + 1 < r->ncols)
					fprintf(fp, "%*s", (int)pad, "");
			}
		}
		fputc('\n', fp);
	}
	free(w);
}

/* Print rows in the chosen format. */
static void
ctl_print_rows(struct ctl *c, FILE *fp, struct ctl_rows *r)
{
	struct ctl_out	 o;
	size_t		 i;

	if (c->format == CTL_TABLE) {
		ctl_table(fp, r);
		return;
	}
	o.fp = fp;
	o.format = c->format;
	o.names = r->names;
	o.ncols = r->ncols;
	ctl_out_begin(&o);
	for (i = 0; i < r->nrows; i++)
		ctl_out_row(&o, &r->cells[i * r->ncols]);
	ctl_out_end(&o);
}

/*
 * What a column holds, one letter a column of a query (a column past the
 * string is text):
 *	t	text
 *	n	a number, as the database writes it
 *	d	a day, from Unix seconds: 2026-03-01
 *	D	a moment, from Unix seconds: 2026-03-01 14:05:09 (UTC)
 *	m	money in minor units, as the plugins show it: 3000, or 2.50
 * The database gives integers; what people read is made here, the same
 * whichever engine holds the data.
 */
#define CTL_CELL_BUF	48

/* Unix seconds t as a day (with_time 0) or a moment, into buf. */
static void
ctl_time(char *buf, size_t size, long long t, int with_time)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, size, "%lld", t);
		return;
	}
	if (with_time)
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	else
		snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday);
}

/* Minor units v as 3000 (whole) or 2.50, into buf. */
static void
ctl_money(char *buf, size_t size, long long v)
{
	long long	 a = v < 0 ? -v : v;

	if (a % 100 == 0)
		snprintf(buf, size, "%lld", v / 100);
	else
		snprintf(buf, size, "%s%lld.%02lld", v < 0 ? "-" : "",
		    a / 100, a % 100);
}

/* The cells of the current row of st; bufs holds the ones made here. */
static void
ctl_stmt_cells(struct store_stmt *st, const char *kinds,
    struct ctl_cell *cells, char (*bufs)[CTL_CELL_BUF], int n)
{
	size_t	 nk = kinds != NULL ? strlen(kinds) : 0;
	int	 i;
	char	 k;

	for (i = 0; i < n; i++) {
		k = (size_t)i < nk ? kinds[i] : 't';
		cells[i].number = 0;
		if (store_is_null(st, i)) {
			cells[i].text = NULL;
			continue;
		}
		switch (k) {
		case 'd':
		case 'D':
			ctl_time(bufs[i], CTL_CELL_BUF, store_int(st, i),
			    k == 'D');
			cells[i].text = bufs[i];
			break;
		case 'm':
			ctl_money(bufs[i], CTL_CELL_BUF, store_int(st, i));
			cells[i].text = bufs[i];
			break;
		default:
			cells[i].text = (char *)store_text(st, i);
			cells[i].number = k == 'n';
			break;
		}
	}
}

/*
 * Run st and print its rows: a table (at most limit rows, the count of
 * the rest on stderr), or streamed as CSV or JSON.  kinds says what each
 * column holds (above).  Progress on a terminal when what (non-NULL)
 * names a long operation.  The statement is done with on return.  0 or
 * -1.
 */
static int
ctl_print_stmt(struct ctl *c, FILE *fp, struct store_stmt *st,
    const char *kinds, long limit, const char *what)
{
	struct ctl_rows	 r;
	struct ctl_out	 o;
	struct ctl_cell	*cells;
	char		(*bufs)[CTL_CELL_BUF];
	const char	**names;
	int		 n = store_columns(st), i, rc;
	unsigned long	 more = 0;

	memset(&r, 0, sizeof(r));
	if ((names = calloc((size_t)n, sizeof(*names))) == NULL ||
	    (cells = calloc((size_t)n, sizeof(*cells))) == NULL ||
	    (bufs = calloc((size_t)n, sizeof(*bufs))) == NULL) {
		ctl_err("out of memory");
		exit(1);
	}
	for (i = 0; i < n; i++)
		names[i] = store_column_name(st, i);
	ctl_rows_columns(&r, names, (size_t)n);
	o.fp = fp;
	o.format = c->format;
	o.names = r.names;
	o.ncols = r.ncols;
	if (c->format != CTL_TABLE)
		ctl_out_begin(&o);
	while ((rc = store_step(st)) == STORE_ROW) {
		ctl_stmt_cells(st, kinds, cells, bufs, n);
		if (c->format != CTL_TABLE) {
			ctl_out_row(&o, cells);
			if (what != NULL && c->tty &&
			    o.rows % CTL_PROGRESS_EVERY == 0)
				fprintf(stderr, "\r%s: %lu rows", what, o.rows);
		} else if (limit <= 0 || r.nrows < (size_t)limit)
			ctl_rows_add(&r, cells);
		else
			more++;
	}
	if (c->format != CTL_TABLE) {
		ctl_out_end(&o);
		if (what != NULL && c->tty && o.rows >= CTL_PROGRESS_EVERY)
			fprintf(stderr, "\r%s: %lu rows\n", what, o.rows);
	} else {
		ctl_table(fp, &r);
		if (more > 0)
			fprintf(stderr, "(%lu more; --limit 0 shows all)\n",
			    more);
	}
	store_done(st);
	free(names);
	free(cells);
	free(bufs);
	ctl_rows_free(&r);
	if (rc != STORE_DONE) {
		ctl_err("the database could not be read");
		return -1;
	}
	if (fflush(fp) == EOF || ferror(fp)) {
		ctl_err("cannot write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* --- the database ----------------------------------------------------------------- */

static int
ctl_db_open(struct ctl *c)
{
	const char	*path = c->db_path;

	if (path == NULL && c->conf != NULL)
		path = c->conf->database;
	if (path == NULL) {
		ctl_err("no database: give -d FILE or -c marketbox.conf");
		return -1;
	}
	/* A file must be there: a reader creates nothing (a connection
	 * string names no file). */
	if (strstr(path, "://") == NULL && strchr(path, '=') == NULL &&
	    access(path, R_OK) == -1) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	/* Read as it is: the daemon alone migrates and writes. */
	if ((c->store = store_open_flags(path, NULL, STORE_READONLY |
	    STORE_NO_MIGRATE)) == NULL) {
		ctl_err("%s: cannot open the database", path);
		return -1;
	}
	return 0;
}

/* The statement for sql (a literal), or NULL (the cause said). */
static struct store_stmt *
ctl_prepare(struct ctl *c, const char *sql)
{
	struct store_stmt	*st;

	if ((st = store_query(c->store, sql)) == NULL)
		ctl_err("%s", store_error(c->store));
	return st;
}

/* 1 if the database has table (each engine lists its tables its way). */
static int
ctl_has_table(struct ctl *c, const char *table)
{
	static const char lite[] = "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'table' AND name = $1";
	static const char pg[] = "SELECT 1 FROM information_schema.tables "
	    "WHERE table_schema = current_schema() AND table_name = $1";
	struct store_stmt	*st;
	int			 found;

	if ((st = ctl_prepare(c, strcmp(store_engine(c->store), "sqlite") ==
	    0 ? lite : pg)) == NULL)
		return 0;
	store_bind_text(st, 1, table);
	found = store_step(st) == STORE_ROW;
	store_done(st);
	return found;
}

/* The limit for a list: --limit, else CTL_TABLE_LIMIT for tables and all
 * for scripts. */
static long
ctl_limit(const struct ctl *c)
{
	if (c->limit >= 0)
		return c->limit;
	return c->format == CTL_TABLE ? CTL_TABLE_LIMIT : 0;
}

/* --- the commands that read ----------------------------------------------------------- */

/*
 * Options of the read commands, parsed by ctl_list_options: each command
 * says which it takes.
 */
struct ctl_filters {
	const char	*market, *role, *language, *kind, *state, *commodity,
			*to, *since, *until, *output;
	int		 opted_out, with_phones;
};

enum {
	CTL_OPT_CSV = 256, CTL_OPT_JSON, CTL_OPT_LIMIT, CTL_OPT_MARKET,
	CTL_OPT_ROLE, CTL_OPT_LANGUAGE, CTL_OPT_OPTED_OUT, CTL_OPT_KIND,
	CTL_OPT_STATE, CTL_OPT_COMMODITY, CTL_OPT_TO, CTL_OPT_SINCE,
	CTL_OPT_UNTIL, CTL_OPT_WITH_PHONES, CTL_OPT_ALL, CTL_OPT_WAIT,
	CTL_OPT_TIMEOUT, CTL_OPT_FORCE
};

static const struct option ctl_longopts[] = {
	{ "csv",	 no_argument,	    NULL, CTL_OPT_CSV },
	{ "json",	 no_argument,	    NULL, CTL_OPT_JSON },
	{ "limit",	 required_argument, NULL, CTL_OPT_LIMIT },
	{ "market",	 required_argument, NULL, CTL_OPT_MARKET },
	{ "role",	 required_argument, NULL, CTL_OPT_ROLE },
	{ "language",	 required_argument, NULL, CTL_OPT_LANGUAGE },
	{ "opted-out",	 no_argument,	    NULL, CTL_OPT_OPTED_OUT },
	{ "kind",	 required_argument, NULL, CTL_OPT_KIND },
	{ "state",	 required_argument, NULL, CTL_OPT_STATE },
	{ "commodity",	 required_argument, NULL, CTL_OPT_COMMODITY },
	{ "to",		 required_argument, NULL, CTL_OPT_TO },
	{ "since",	 required_argument, NULL, CTL_OPT_SINCE },
	{ "until",	 required_argument, NULL, CTL_OPT_UNTIL },
	{ "with-phones", no_argument,	    NULL, CTL_OPT_WITH_PHONES },
	{ "all",	 no_argument,	    NULL, CTL_OPT_ALL },
	{ "wait",	 no_argument,	    NULL, CTL_OPT_WAIT },
	{ "timeout",	 required_argument, NULL, CTL_OPT_TIMEOUT },
	{ "force",	 no_argument,	    NULL, CTL_OPT_FORCE },
	{ "help",	 no_argument,	    NULL, 'h' },
	{ NULL,		 0,		    NULL, 0 }
};

struct ctl_args {
	struct ctl_filters	 f;
	int			 all, wait, force;
	long			 timeout;
	int			 argc;		/* what is left */
	char			**argv;
};

/*
 * Parse a command's options and leave its words in a->argc/argv.  Every
 * command accepts every option; each uses those that mean something to
 * it.  Options and words may come in any order ("--" ends the options).
 * Returns 0, or 2 on a usage error.
 */
static int
ctl_parse(struct ctl *c, int argc, char **argv, struct ctl_args *a)
{
	char	*end;
	int	 ch;

	memset(a, 0, sizeof(*a));
	a->timeout = 600;
	optind = 0;		/* glibc: start afresh; argv[0] is the command */
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "o:h", ctl_longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case CTL_OPT_CSV:	c->format = CTL_CSV; break;
		case CTL_OPT_JSON:	c->format = CTL_JSON; break;
		case CTL_OPT_LIMIT:
			c->limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || c->limit < 0) {
				ctl_err("--limit takes a number (0: all)");
				return 2;
			}
			break;
		case CTL_OPT_MARKET:	a->f.market = optarg; break;
		case CTL_OPT_ROLE:	a->f.role = optarg; break;
		case CTL_OPT_LANGUAGE:	a->f.language = optarg; break;
		case CTL_OPT_OPTED_OUT:	a->f.opted_out = 1; break;
		case CTL_OPT_KIND:	a->f.kind = optarg; break;
		case CTL_OPT_STATE:	a->f.state = optarg; break;
		case CTL_OPT_COMMODITY:	a->f.commodity = optarg; break;
		case CTL_OPT_TO:	a->f.to = optarg; break;
		case CTL_OPT_SINCE:	a->f.since = optarg; break;
		case CTL_OPT_UNTIL:	a->f.until = optarg; break;
		case CTL_OPT_WITH_PHONES: a->f.with_phones = 1; break;
		case CTL_OPT_ALL:	a->all = 1; break;
		case CTL_OPT_WAIT:	a->wait = 1; break;
		case CTL_OPT_FORCE:	a->force = 1; break;
		case CTL_OPT_TIMEOUT:
			a->timeout = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || a->timeout < 1) {
				ctl_err("--timeout takes seconds");
				return 2;
			}
			break;
		case 'o':		a->f.output = optarg; break;
		case 'h':
			ctl_usage(stdout);
			exit(0);
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	return 0;
}

static int
ctl_users(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT msisdn AS phone, name, market, language, role, "
	    "CASE opt_out WHEN 0 THEN 'no' ELSE 'yes' END AS stop, trades, "
	    "created AS since FROM users "
	    "WHERE (CAST($1 AS TEXT) IS NULL OR market = $1) "
	    "AND (CAST($2 AS TEXT) IS NULL OR role = $2) "
	    "AND (CAST($3 AS TEXT) IS NULL OR COALESCE(language, '') = $3) "
	    "AND ($4 = 0 OR opt_out <> 0) ORDER BY id";
	struct store_stmt	*st;

	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.market);
	store_bind_text(st, 2, a->f.role);
	store_bind_text(st, 3, a->f.language);
	store_bind_int(st, 4, a->f.opted_out);
	return ctl_print_stmt(c, stdout, st, "ttttttnd", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

static int
ctl_need_market(struct ctl *c)
{
	if (ctl_has_table(c, "market_posts") &&
	    ctl_has_table(c, "market_orders"))
		return 0;
	ctl_err("this database has no market tables (is the market plugin "
	    "loaded?)");
	return -1;
}

static int
ctl_offers(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT ref, kind, msisdn AS phone, commodity, market, qty, "
	    "qty_left AS left, unit, price, state, created AS posted, "
	    "expires FROM market_posts "
	    "WHERE (CAST($1 AS TEXT) IS NULL OR kind = $1) "
	    "AND (CAST($2 AS TEXT) IS NULL OR state = $2) "
	    "AND (CAST($3 AS TEXT) IS NULL OR commodity = $3) "
	    "AND (CAST($4 AS TEXT) IS NULL OR market = $4) "
	    "ORDER BY ref DESC";
	struct store_stmt	*st;
	const char		*state = a->f.state != NULL ? a->f.state :
				    "open";

	if (ctl_need_market(c) == -1)
		return 1;
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.kind);
	store_bind_text(st, 2, strcmp(state, "all") == 0 ? NULL : state);
	store_bind_text(st, 3, a->f.commodity);
	store_bind_text(st, 4, a->f.market);
	return ctl_print_stmt(c, stdout, st, "nttttnntmtDD", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

static int
ctl_orders(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT o.ref, o.offer, p.commodity, p.market, o.qty, p.unit, "
	    "o.price AS price, o.total AS total, o.seller, o.buyer, o.state, "
	    "o.updated AS updated FROM market_orders o "
	    "LEFT JOIN market_posts p ON p.ref = o.offer "
	    "WHERE (CAST($1 AS TEXT) IS NULL OR o.state = $1) "
	    "ORDER BY o.ref DESC";
	struct store_stmt	*st;

	if (ctl_need_market(c) == -1)
		return 1;
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.state != NULL &&
	    strcmp(a->f.state, "all") != 0 ? a->f.state : NULL);
	return ctl_print_stmt(c, stdout, st, "nnttntmmtttD", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

static int
ctl_outbox(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT id, kind, receiver AS phone, state, dlr_state AS dlr, "
	    "attempts, CAST(part AS TEXT) || '/' || CAST(parts AS TEXT) "
	    "AS part, created, text, error "
	    "FROM outbox WHERE (CAST($1 AS TEXT) IS NULL OR state = $1) "
	    "AND (CAST($2 AS TEXT) IS NULL OR kind = $2) "
	    "AND (CAST($3 AS TEXT) IS NULL OR receiver = $3) "
	    "ORDER BY id DESC";
	struct store_stmt	*st;

	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.state);
	store_bind_text(st, 2, a->f.kind);
	store_bind_text(st, 3, a->f.to);
	return ctl_print_stmt(c, stdout, st, "nttttntDtt", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

/* Add the (label, count) rows of sql as figures prefix.label. */
static int
ctl_stats_group(struct ctl *c, struct ctl_rows *r, const char *prefix,
    const char *sql)
{
	struct store_stmt	*st;
	struct ctl_cell		 cells[2];
	char			 name[160];
	int			 rc;

	if ((st = ctl_prepare(c, sql)) == NULL)
		return -1;
	while ((rc = store_step(st)) == STORE_ROW) {
		const char	*label = store_text(st, 0);

		snprintf(name, sizeof(name), "%s%s%s", prefix,
		    label != NULL ? "." : "", label != NULL ? label : "");
		cells[0].text = name;
		cells[0].number = 0;
		cells[1].text = (char *)store_text(st, 1);
		cells[1].number = 1;
		ctl_rows_add(r, cells);
	}
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

static int
ctl_stats(struct ctl *c, const struct ctl_args *a)
{
	static const char *const names[] = { "figure", "value" };
	struct ctl_rows	 r;
	int		 bad = 0;

	(void)a;
	memset(&r, 0, sizeof(r));
	ctl_rows_columns(&r, names, 2);
	bad |= ctl_stats_group(c, &r, "users", "SELECT NULL, COUNT(*) FROM "
	    "users");
	bad |= ctl_stats_group(c, &r, "users.registered", "SELECT NULL, "
	    "COUNT(name) FROM users");
	bad |= ctl_stats_group(c, &r, "users.opted_out", "SELECT NULL, "
	    "COUNT(*) FROM users WHERE opt_out <> 0");
	bad |= ctl_stats_group(c, &r, "users.role", "SELECT role, COUNT(*) "
	    "FROM users GROUP BY role ORDER BY role");
	bad |= ctl_stats_group(c, &r, "users.language", "SELECT "
	    "COALESCE(language, 'none'), COUNT(*) FROM users GROUP BY 1 "
	    "ORDER BY 1");
	bad |= ctl_stats_group(c, &r, "mo", "SELECT NULL, COUNT(*) FROM inbox");
	bad |= ctl_stats_group(c, &r, "outbox", "SELECT state, COUNT(*) FROM "
	    "outbox GROUP BY state ORDER BY state");
	bad |= ctl_stats_group(c, &r, "dlr", "SELECT dlr_state, COUNT(*) FROM "
	    "outbox WHERE dlr_state IS NOT NULL GROUP BY dlr_state "
	    "ORDER BY dlr_state");
	bad |= ctl_stats_group(c, &r, "failed", "SELECT kind, COUNT(*) FROM "
	    "outbox WHERE state = 'failed' GROUP BY kind ORDER BY kind");
	if (ctl_has_table(c, "market_posts"))
		bad |= ctl_stats_group(c, &r, "posts", "SELECT kind || '.' || "
		    "state, COUNT(*) FROM market_posts GROUP BY kind, state "
		    "ORDER BY kind, state");
	if (ctl_has_table(c, "market_orders"))
		bad |= ctl_stats_group(c, &r, "orders", "SELECT state, COUNT(*) "
		    "FROM market_orders GROUP BY state ORDER BY state");
	if (ctl_has_table(c, "prices_reports"))
		bad |= ctl_stats_group(c, &r, "prices", "SELECT status, "
		    "COUNT(*) FROM prices_reports GROUP BY status ORDER BY "
		    "status");
	if (bad) {
		ctl_err("the database could not be read");
		ctl_rows_free(&r);
		return 1;
	}
	if (c->format == CTL_JSON) {
		size_t	 i;

		/* One object, figure: value, for scripts. */
		printf("{");
		for (i = 0; i < r.nrows; i++) {
			printf("%s\n  ", i ? "," : "");
			ctl_json_value(stdout, r.cells[i * 2].text, 0);
			printf(": %s", r.cells[i * 2 + 1].text ?
			    r.cells[i * 2 + 1].text : "null");
		}
		printf("\n}\n");
	} else
		ctl_print_rows(c, stdout, &r);
	ctl_rows_free(&r);
	return 0;
}

/* A YYYY-MM-DD date (UTC midnight) into *t.  0 or -1. */
static int
ctl_date(const char *s, long long *t)
{
	struct tm	 tm;
	int		 y, m, d;
	char		 extra;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 ||
	    y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*t = (long long)timegm(&tm);
	return 0;
}

/* Write one export (trades or prices) to fp. */
static int
ctl_export_one(struct ctl *c, const struct ctl_args *a, const char *what,
    FILE *fp, long long since, long long until)
{
	static const char trades[] =
	    "SELECT o.ref AS order_ref, o.updated AS date, "
	    "p.commodity, p.market, o.qty, p.unit, o.price AS price, "
	    "o.total AS total, CAST($3 AS TEXT) AS currency, "
	    "CASE WHEN $4 = 1 THEN o.seller END AS seller, "
	    "CASE WHEN $4 = 1 THEN o.buyer END AS buyer "
	    "FROM market_orders o JOIN market_posts p ON p.ref = o.offer "
	    "WHERE o.state = 'delivered' AND o.updated >= $1 AND "
	    "o.updated < $2 ORDER BY o.updated, o.ref";
	static const char prices[] =
	    "SELECT id AS report, created AS date, commodity, market, "
	    "price, CAST($3 AS TEXT) AS currency, "
	    "CASE WHEN agent <> 0 THEN 'agent' ELSE 'user' END AS reporter, "
	    "CASE WHEN $4 = 1 THEN msisdn END AS phone FROM prices_reports "
	    "WHERE status = 'ok' AND created >= $1 AND created < $2 "
	    "ORDER BY created, id";
	struct store_stmt	*st;
	const char		*currency = c->conf != NULL &&
				    c->conf->currency != NULL ?
				    c->conf->currency : "";
	int			 is_trades = strcmp(what, "trades") == 0;

	if (is_trades ? ctl_need_market(c) == -1 :
	    !ctl_has_table(c, "prices_reports")) {
		if (!is_trades)
			ctl_err("this database has no price reports (is the "
			    "prices plugin loaded?)");
		return -1;
	}
	if ((st = ctl_prepare(c, is_trades ? trades : prices)) == NULL)
		return -1;
	store_bind_int(st, 1, since);
	store_bind_int(st, 2, until);
	store_bind_text(st, 3, currency);
	store_bind_int(st, 4, a->f.with_phones ? 1 : 0);
	return ctl_print_stmt(c, fp, st, is_trades ? "ndttntmmttt" :
	    "ndttmttt", 0, what);
}

static int
ctl_export(struct ctl *c, const struct ctl_args *a)
{
	static const char *const all[] = { "trades", "prices" };
	const char	*what = a->argc > 0 ? a->argv[0] : NULL;
	long long	 since = 0, until = (long long)1 << 62;
	struct stat	 sb;
	char		 file[4096];
	FILE		*fp;
	size_t		 i;
	int		 bad = 0;

	if (a->argc > 1 || (what != NULL && strcmp(what, "trades") != 0 &&
	    strcmp(what, "prices") != 0)) {
		ctl_err("export takes trades, prices, or nothing for both");
		return 2;
	}
	if ((a->f.since != NULL && ctl_date(a->f.since, &since) == -1) ||
	    (a->f.until != NULL && ctl_date(a->f.until, &until) == -1)) {
		ctl_err("dates are YYYY-MM-DD");
		return 2;
	}
	if (a->f.until != NULL)
		until += 86400;		/* the day itself is included */
	if (c->format == CTL_TABLE)
		c->format = CTL_CSV;	/* an export is for a program */
	if (what != NULL) {
		if (a->f.output == NULL)
			return ctl_export_one(c, a, what, stdout, since,
			    until) == 0 ? 0 : 1;
		if ((fp = fopen(a->f.output, "w")) == NULL) {
			ctl_err("%s: %s", a->f.output, strerror(errno));
			return 1;
		}
		bad = ctl_export_one(c, a, what, fp, since, until);
		if (fclose(fp) == EOF)
			bad = -1;
		return bad == 0 ? 0 : 1;
	}
	/* Both, into a directory. */
	if (a->f.output != NULL && (stat(a->f.output, &sb) == -1 ||
	    !S_ISDIR(sb.st_mode))) {
		ctl_err("%s: not a directory (export without trades or prices "
		    "writes trades.csv and prices.csv there)", a->f.output);
		return 1;
	}
	for (i = 0; i < 2; i++) {
		snprintf(file, sizeof(file), "%s/%s.%s", a->f.output != NULL ?
		    a->f.output : ".", all[i], c->format == CTL_JSON ? "json" :
		    "csv");
		if ((fp = fopen(file, "w")) == NULL) {
			ctl_err("%s: %s", file, strerror(errno));
			return 1;
		}
		if (ctl_export_one(c, a, all[i], fp, since, until) == -1)
			bad = 1;
		if (fclose(fp) == EOF)
			bad = 1;
		if (!bad)
			fprintf(stderr, "wrote %s\n", file);
	}
	return bad;
}

/* --- the admin HTTP interface --------------------------------------------------------- */

struct ctl_answer {
	int	 code;
	char	*body;		/* NUL-terminated */
};

static void
ctl_answer_free(struct ctl_answer *a)
{
	free(a->body);
	a->body = NULL;
}

static const char ctl_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
ctl_base64(const char *s)
{
	size_t		 n = strlen(s), i, o = 0;
	char		*out;
	unsigned	 v;

	if ((out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i += 3) {
		v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = ctl_b64[v >> 18 & 63];
		out[o++] = ctl_b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? ctl_b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? ctl_b64[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* Append name=value (urlencoded) to a form of size bytes.  0 or -1. */
static int
ctl_form_add(char *form, size_t size, const char *name, const char *value)
{
	size_t		 len = strlen(form);
	const char	*p;
	int		 n;

	n = snprintf(form + len, size - len, "%s%s=", len ? "&" : "", name);
	if (n < 0 || (size_t)n >= size - len)
		return -1;
	len += (size_t)n;
	for (p = value; *p != '\0'; p++) {
		unsigned char	 ch = (unsigned char)*p;

		if (len + 4 >= size)
			return -1;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~')
			form[len++] = (char)ch;
		else
			len += (size_t)snprintf(form + len, size - len, "%%%02X",
			    ch);
	}
	form[len] = '\0';
	return 0;
}

/* Wait for fd to be ready for events, until deadline (ms, monotonic). */
static int
ctl_wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
	long long	 now;
	int		 rc;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc > 0)
			return 0;
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

static long long
ctl_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One request to the running marketbox's admin interface: method, target
 * (path and query), a form body or NULL.  Fills ans; 0, or -1 (said on
 * stderr) when marketbox cannot be reached.
 */
static int
ctl_http(struct ctl *c, const char *method, const char *target,
    const char *form, struct ctl_answer *ans)
{
	const struct conf	*k = c->conf;
	struct addrinfo		 hints, *ai = NULL;
	const char		*host;
	char			 port[16], *auth = NULL, *req = NULL, *cred = NULL;
	char			*buf = NULL, *sep;
	size_t			 len = 0, cap = 0;
	ssize_t			 n;
	long long		 deadline;
	int			 fd = -1, rc = -1, err, gai;
	socklen_t		 elen = sizeof(err);

	memset(ans, 0, sizeof(*ans));
	if (k == NULL) {
		ctl_err("this needs marketbox's conf (-c): it says where the "
		    "admin interface listens");
		return -1;
	}
	if (k->http_port == 0) {
		ctl_err("%s: http-port is 0: marketbox has no HTTP server, so "
		    "no admin interface", k->path);
		return -1;
	}
	if (k->admin_password == NULL) {
		ctl_err("%s: no admin-password: the admin interface is off",
		    k->path);
		return -1;
	}
	host = k->http_interface;
	if (host == NULL || *host == '\0' || strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	snprintf(port, sizeof(port), "%d", k->http_port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, port, &hints, &ai)) != 0) {
		ctl_err("%s: %s", host, gai_strerror(gai));
		return -1;
	}
	if (asprintf(&cred, "marketctl:%s", k->admin_password) == -1) {
		cred = NULL;
		goto oom;
	}
	if ((auth = ctl_base64(cred)) == NULL)
		goto oom;
	if (asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "Authorization: Basic %s\r\nX-Marketbox-Admin: 1\r\n"
	    "User-Agent: marketctl/%s\r\nConnection: close\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\n%s", method, target, host, port,
	    auth, MARKETBOX_VERSION, form != NULL ? strlen(form) : (size_t)0,
	    form != NULL ? form : "") == -1) {
		req = NULL;
		goto oom;
	}
	deadline = ctl_now_ms() + CTL_CONNECT_MS;
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto neterr;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto neterr;
		if (ctl_wait_fd(fd, POLLOUT, deadline) == -1)
			goto neterr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			goto neterr;
		if (err != 0) {
			errno = err;
			goto neterr;
		}
	}
	deadline = ctl_now_ms() + CTL_ANSWER_MS;
	for (len = 0; len < strlen(req); ) {
		if (ctl_wait_fd(fd, POLLOUT, deadline) == -1)
			goto neterr;
		n = send(fd, req + len, strlen(req) - len, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			goto neterr;
		if (n > 0)
			len += (size_t)n;
	}
	for (len = 0;;) {
		if (len + 4096 + 1 > cap) {
			char	*nb;

			if (cap >= CTL_ANSWER_MAX) {
				ctl_err("the answer is too big");
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL)
				goto oom;
			buf = nb;
		}
		if (ctl_wait_fd(fd, POLLIN, deadline) == -1)
			goto neterr;
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto neterr;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &ans->code) != 1 ||
	    (sep = strstr(buf, "\r\n\r\n")) == NULL) {
		ctl_err("marketbox at %s:%s answered something that is not "
		    "HTTP", host, port);
		goto out;
	}
	if ((ans->body = strdup(sep + 4)) == NULL)
		goto oom;
	rc = 0;
	goto out;
neterr:
	ctl_err("cannot reach marketbox at %s:%s: %s (is it running, with "
	    "http-port set?)", host, port, strerror(errno));
	goto out;
oom:
	ctl_err("out of memory");
out:
	if (fd != -1)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	free(cred);
	free(auth);
	free(req);
	free(buf);
	return rc;
}

/* The number after "key": in a JSON text, or def. */
static long long
ctl_json_int(const char *json, const char *key, long long def)
{
	char		 pat[64];
	const char	*p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	if (json == NULL || (p = strstr(json, pat)) == NULL)
		return def;
	return strtoll(p + strlen(pat), NULL, 10);
}

static int
ctl_json_true(const char *json, const char *key)
{
	char	 pat[64];

	snprintf(pat, sizeof(pat), "\"%s\": true", key);
	return json != NULL && strstr(json, pat) != NULL;
}

/* An answer that is not the one hoped for: say why.  Returns 1. */
static int
ctl_refused(const struct ctl_answer *ans)
{
	const char	*p, *e;

	if (ans->body != NULL && (p = strstr(ans->body, "\"error\": \"")) !=
	    NULL && (e = strchr(p + 10, '"')) != NULL)
		ctl_err("marketbox said %d: %.*s", ans->code,
		    (int)(e - p - 10), p + 10);
	else if (ans->code == 401)
		ctl_err("marketbox refused the admin-password of the conf "
		    "(401)");
	else
		ctl_err("marketbox answered %d: %s", ans->code,
		    ans->body != NULL ? ans->body : "");
	return 1;
}

static int
ctl_broadcast(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[8192], target[64];
	long long		 id, people, deadline, queued_rows, waiting;
	int			 rc = 1, done = 0, shown = 0;

	if (a->argc != 1 || a->argv[0][0] == '\0') {
		ctl_err("broadcast takes one text (quote it)");
		return 2;
	}
	if (a->f.market == NULL && a->f.commodity == NULL && !a->all) {
		ctl_err("broadcast needs --market, --commodity or --all");
		return 2;
	}
	form[0] = '\0';
	if ((a->f.market != NULL && ctl_form_add(form, sizeof(form), "market",
	    a->f.market) == -1) || (a->f.commodity != NULL &&
	    ctl_form_add(form, sizeof(form), "commodity", a->f.commodity) ==
	    -1) || (a->all && ctl_form_add(form, sizeof(form), "all", "1") ==
	    -1) || ctl_form_add(form, sizeof(form), "text", a->argv[0]) == -1) {
		ctl_err("the text is too long");
		return 2;
	}
	if (ctl_http(c, "POST", "/admin/broadcast", form, &ans) == -1)
		return 1;
	if (ans.code != 202) {
		rc = ctl_refused(&ans);
		ctl_answer_free(&ans);
		return rc;
	}
	id = ctl_json_int(ans.body, "id", 0);
	people = ctl_json_int(ans.body, "recipients", 0);
	ctl_answer_free(&ans);
	snprintf(target, sizeof(target), "/admin/broadcast?id=%lld", id);
	deadline = ctl_now_ms() + a->timeout * 1000;
	/* Until every notice is queued (and with --wait, handed on). */
	while (ctl_now_ms() < deadline) {
		if (ctl_http(c, "GET", target, NULL, &ans) == -1)
			return 1;
		if (ans.code != 200) {
			rc = ctl_refused(&ans);
			ctl_answer_free(&ans);
			return rc;
		}
		queued_rows = ctl_json_int(ans.body, "queued", 0);
		waiting = queued_rows + ctl_json_int(ans.body, "sending", 0);
		done = ctl_json_true(ans.body, "done");
		if (c->tty) {
			fprintf(stderr, "\rbroadcast %lld: %lld of %lld people "
			    "queued, %lld SMS waiting to leave   ", id,
			    ctl_json_int(ans.body, "notices", 0), people,
			    waiting);
			shown = 1;
		}
		if (ctl_json_true(ans.body, "failed")) {
			if (shown)
				fputc('\n', stderr);
			ctl_err("broadcast %lld stopped: see marketbox's log", id);
			ctl_answer_free(&ans);
			return 1;
		}
		if (done && (!a->wait || waiting == 0)) {
			if (shown)
				fputc('\n', stderr);
			if (c->format == CTL_JSON)
				fputs(ans.body, stdout);
			else
				printf("broadcast %lld: %lld people matched, "
				    "%lld notices queued\n", id, people,
				    ctl_json_int(ans.body, "notices", 0));
			ctl_answer_free(&ans);
			return 0;
		}
		ctl_answer_free(&ans);
		usleep(CTL_POLL_MS * 1000);
	}
	if (shown)
		fputc('\n', stderr);
	ctl_err("broadcast %lld: not %s after %ld s (it goes on in marketbox)",
	    id, done ? "sent" : "queued", a->timeout);
	return 1;
}

static int
ctl_retry(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[256];
	long long		 total = 0, n, left = 0;
	long			 rounds;
	int			 rc;

	form[0] = '\0';
	if (a->f.kind != NULL && ctl_form_add(form, sizeof(form), "kind",
	    a->f.kind) == -1)
		return 2;
	/* Each request requeues a batch; bounded, in case rows keep
	 * failing as fast as they are requeued. */
	for (rounds = 0; rounds < 100000; rounds++) {
		if (ctl_http(c, "POST", "/admin/retry", form, &ans) == -1)
			return 1;
		if (ans.code != 200) {
			rc = ctl_refused(&ans);
			ctl_answer_free(&ans);
			return rc;
		}
		n = ctl_json_int(ans.body, "requeued", 0);
		left = ctl_json_int(ans.body, "failed_left", 0);
		ctl_answer_free(&ans);
		total += n;
		if (c->tty && (left > 0 || rounds > 0))
			fprintf(stderr, "\rretry: %lld queued again, %lld "
			    "failed left   ", total, left);
		if (n == 0 || left == 0)
			break;
	}
	if (c->tty && rounds > 0)
		fputc('\n', stderr);
	if (c->format == CTL_JSON)
		printf("{\"requeued\": %lld, \"failed_left\": %lld}\n", total,
		    left);
	else
		printf("%lld failed message%s queued again\n", total,
		    total == 1 ? "" : "s");
	return 0;
}

static int
ctl_user(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[256];
	int			 rc;

	if (a->argc != 3 || strcmp(a->argv[0], "set") != 0) {
		ctl_err("usage: marketctl user set ROLE PHONE");
		return 2;
	}
	form[0] = '\0';
	if (ctl_form_add(form, sizeof(form), "role", a->argv[1]) == -1 ||
	    ctl_form_add(form, sizeof(form), "msisdn", a->argv[2]) == -1)
		return 2;
	if (ctl_http(c, "POST", "/admin/user", form, &ans) == -1)
		return 1;
	if (ans.code != 200) {
		rc = ctl_refused(&ans);
		ctl_answer_free(&ans);
		return rc;
	}
	if (c->format == CTL_JSON)
		fputs(ans.body, stdout);
	else {
		const char	*m = strstr(ans.body, "\"msisdn\": \"");
		const char	*e = m != NULL ? strchr(m + 11, '"') : NULL;

		printf("%.*s is now %s%s\n", e != NULL ? (int)(e - m - 11) : 0,
		    m != NULL ? m + 11 : "", a->argv[1],
		    ctl_json_true(ans.body, "created") ? " (new)" : "");
	}
	ctl_answer_free(&ans);
	return 0;
}

/*
 * template LANG NAME [name=value ...]: the template NAME of language LANG
 * filled as marketbox fills it (catalogue words, numbers, plural forms),
 * for admins editing a language file and for the tests' expected texts.
 * Fails (1) when the language has no such template of its own or of the
 * default language, or a placeholder gets no value.
 */
static int
ctl_template(struct ctl *c, const struct ctl_args *a)
{
	struct lang_set	*langs;
	struct mb_arg	*args;
	char		*text, *eq;
	size_t		 n, i, missing = 0;
	int		 rc = 1;

	if (a->argc < 2) {
		ctl_err("usage: marketctl template LANG NAME [name=value ...]");
		return 2;
	}
	n = (size_t)a->argc - 2;
	if ((args = calloc(n + 1, sizeof(*args))) == NULL) {
		ctl_err("out of memory");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if ((eq = strchr(a->argv[2 + i], '=')) == NULL) {
			ctl_err("'%s' is not name=value", a->argv[2 + i]);
			free(args);
			return 2;
		}
		*eq = '\0';
		args[i].name = a->argv[2 + i];
		args[i].value = eq + 1;
	}
	if ((langs = lang_load(c->conf->language_dir,
	    c->conf->default_language)) == NULL) {
		ctl_err("%s: cannot use these language files",
		    c->conf->language_dir);
		free(args);
		return 1;
	}
	if (!lang_exists(langs, a->argv[0]))
		ctl_err("no language '%s' in %s", a->argv[0],
		    c->conf->language_dir);
	else if (lang_template(langs, a->argv[0], a->argv[1]) == NULL)
		ctl_err("no template '%s'", a->argv[1]);
	else if ((text = host_text(c->conf, langs, a->argv[0], a->argv[1],
	    args, n, &missing)) == NULL)
		ctl_err("cannot render '%s'", a->argv[1]);
	else {
		if (missing > 0)
			ctl_err("%s: %zu placeholder(s) without a value",
			    a->argv[1], missing);
		else {
			printf("%s\n", text);
			rc = 0;
		}
		free(text);
	}
	lang_free(langs);
	free(args);
	return rc;
}

/*
 * A database string as messages show it: a password (user:PASSWORD@ in a
 * URI, password=... as a keyword or a URI parameter) left out.  Freed by
 * the caller; NULL when out of memory.
 */
static char *
ctl_db_shown(const char *db)
{
	char	*s, *p, *at, *end;

	if ((s = strdup(db)) == NULL)
		return NULL;
	if (!store_is_postgresql(db))
		return s;
	if ((p = strstr(s, "://")) != NULL) {
		p += 3;
		at = strchr(p, '@');
		end = p + strcspn(p, "/?");
		if (at != NULL && at < end && (p = memchr(p, ':', at - p)) !=
		    NULL)
			memmove(p, at, strlen(at) + 1);
	}
	/* Bounded: each pass removes one password=. */
	while ((p = strstr(s, "password=")) != NULL) {
		end = p + 9 + strcspn(p + 9, " &");
		memmove(p, end + (*end == '&'), strlen(end + (*end == '&')) +
		    1);
	}
	return s;
}

/* --- store copy ---------------------------------------------------------------------- */

/*
 * marketctl store copy FROM TO: every table of FROM, as it is, into TO,
 * made (or brought) to the same schema versions by the same migrations
 * marketbox runs: the core's and those of the plugins the conf loads.
 * Tables go parents first, columns by name, in one transaction on TO,
 * CTL_COPY_BATCH rows a read and CTL_COPY_ROWS rows an INSERT; then
 * PostgreSQL's identity sequences are set past the ids copied, and the
 * rows of each table counted on both sides.
 *
 * The store caches statements on their SQL's address: the SQL made here
 * for each table is kept (cc->sql) until both stores are freed.
 */
#define CTL_COPY_TABLES		256	/* tables at most */
#define CTL_COPY_COLUMNS	200	/* columns of a table at most */
#define CTL_COPY_BATCH		5000	/* rows read at a time */
#define CTL_COPY_ROWS		50	/* rows one INSERT carries */
#define CTL_COPY_SQL		1024	/* SQL strings made at most */

struct ctl_copy {
	struct store	*from, *to;
	const char	*from_path, *to_path;	/* as given */
	char		*from_name, *to_name;	/* as shown: no password */
	char		*tables[CTL_COPY_TABLES];
	size_t		 ntables;
	char		*sql[CTL_COPY_SQL];
	size_t		 nsql;
	int		 force;
};

static int
ctl_is_lite(struct store *s)
{
	return strcmp(store_engine(s), "sqlite") == 0;
}

/* A SQL string kept until the stores are gone, or NULL (said). */
static const char *ctl_sql(struct ctl_copy *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static const char *
ctl_sql(struct ctl_copy *cc, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	if (cc->nsql == CTL_COPY_SQL) {
		ctl_err("too many statements to make");
		return NULL;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1) {
		ctl_err("out of memory");
		return NULL;
	}
	return cc->sql[cc->nsql++] = s;
}

/* A table or column name as the schemas write them: quoted without fear. */
static int
ctl_name_ok(const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0' || strlen(s) > 63)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return 0;
	return 1;
}

/* One integer a statement with at most one text parameter answers. */
static int
ctl_value(struct store *s, const char *sql, const char *param, long long *v)
{
	struct store_stmt	*st;
	int			 rc;

	*v = 0;
	if ((st = store_query(s, sql)) == NULL)
		return -1;
	if (param != NULL)
		store_bind_text(st, 1, param);
	if ((rc = store_step(st)) == STORE_ROW)
		*v = store_int(st, 0);
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/*
 * The schema versions of a database: owner=version words, "core" first
 * (SQLite keeps the core's in PRAGMA user_version).  0 or -1.
 */
static int
ctl_versions(struct store *s, char *buf, size_t size)
{
	static const char owners[] = "SELECT owner, version FROM "
	    "schema_versions WHERE owner <> 'core' ORDER BY owner";
	static const char core_pg[] = "SELECT version FROM schema_versions "
	    "WHERE owner = 'core'";
	struct store_stmt	*st;
	long long		 core;
	size_t			 len;
	int			 rc;

	if (ctl_value(s, ctl_is_lite(s) ? "PRAGMA user_version" : core_pg,
	    NULL, &core) == -1)
		return -1;
	snprintf(buf, size, "core=%lld", core);
	if ((st = store_query(s, owners)) == NULL)
		return -1;
	while ((rc = store_step(st)) == STORE_ROW) {
		len = strlen(buf);
		snprintf(buf + len, size - len, " %s=%lld", store_text(st, 0),
		    store_int(st, 1));
	}
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/* The names of a table's columns, in order: n, or -1. */
static int
ctl_columns(struct store *s, const char *table, char **cols, int max)
{
	static const char lite[] = "SELECT name FROM pragma_table_info($1) "
	    "ORDER BY cid";
	static const char pg[] = "SELECT column_name FROM "
	    "information_schema.columns WHERE table_schema = current_schema() "
	    "AND table_name = $1 ORDER BY ordinal_position";
	struct store_stmt	*st;
	int			 n = 0, rc;

	if ((st = store_query(s, ctl_is_lite(s) ? lite : pg)) == NULL)
		return -1;
	store_bind_text(st, 1, table);
	while ((rc = store_step(st)) == STORE_ROW && n < max)
		if ((cols[n++] = strdup(store_text(st, 0))) == NULL)
			rc = STORE_ERROR;
	store_done(st);
	if (rc == STORE_ROW)
		ctl_err("%s: more than %d columns", table, max);
	if (rc != STORE_DONE) {
		while (n > 0)
			free(cols[--n]);
		return -1;
	}
	return n;
}

static void
ctl_columns_free(char **cols, int n)
{
	while (n > 0)
		free(cols[--n]);
}

/*
 * FROM's tables in cc->tables, parents before the tables whose foreign
 * keys name them.  schema_versions and instances are left out.  0 or -1.
 */
static int
ctl_copy_tables(struct ctl_copy *cc)
{
	static const char lite[] = "SELECT name FROM sqlite_master WHERE "
	    "type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name";
	static const char pg[] = "SELECT table_name FROM "
	    "information_schema.tables WHERE table_schema = current_schema() "
	    "AND table_type = 'BASE TABLE' ORDER BY table_name";
	static const char fk_lite[] = "SELECT \"table\" FROM "
	    "pragma_foreign_key_list($1)";
	static const char fk_pg[] = "SELECT p.relname FROM pg_constraint k "
	    "JOIN pg_class c ON c.oid = k.conrelid "
	    "JOIN pg_class p ON p.oid = k.confrelid "
	    "JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE k.contype = 'f' AND c.relname = $1 "
	    "AND n.nspname = current_schema()";
	struct store		*s = cc->from;
	struct store_stmt	*st;
	char			*names[CTL_COPY_TABLES];
	char			 parents[CTL_COPY_TABLES][CTL_COPY_TABLES];
	size_t			 n = 0, i, j, pass;
	int			 rc, ready;

	if ((st = store_query(s, ctl_is_lite(s) ? lite : pg)) == NULL)
		return -1;
	while ((rc = store_step(st)) == STORE_ROW && n < CTL_COPY_TABLES) {
		/* Each side's migrations wrote its own schema_versions; the
		 * instances that ran on FROM do not run on TO. */
		if (strcmp(store_text(st, 0), "schema_versions") == 0 ||
		    strcmp(store_text(st, 0), "instances") == 0)
			continue;
		if (!ctl_name_ok(store_text(st, 0))) {
			ctl_err("%s: a table named '%s': not copied by name",
			    cc->from_name, store_text(st, 0));
			rc = STORE_ERROR;
			break;
		}
		if ((names[n++] = strdup(store_text(st, 0))) == NULL)
			rc = STORE_ERROR;
	}
	store_done(st);
	if (rc == STORE_ROW)
		ctl_err("%s: more than %d tables", cc->from_name,
		    CTL_COPY_TABLES);
	if (rc != STORE_DONE)
		goto fail;
	/* parents[i][j]: table i names table j (itself does not count). */
	memset(parents, 0, sizeof(parents));
	for (i = 0; i < n; i++) {
		if ((st = store_query(s, ctl_is_lite(s) ? fk_lite : fk_pg)) ==
		    NULL)
			goto fail;
		store_bind_text(st, 1, names[i]);
		while ((rc = store_step(st)) == STORE_ROW)
			for (j = 0; j < n; j++)
				if (j != i && strcmp(names[j],
				    store_text(st, 0)) == 0)
					parents[i][j] = 1;
		store_done(st);
		if (rc != STORE_DONE)
			goto fail;
	}
	/* Each pass takes the tables whose parents are all taken. */
	for (pass = 0; pass < n && cc->ntables < n; pass++) {
		for (i = 0; i < n; i++) {
			if (names[i] == NULL)
				continue;
			for (ready = 1, j = 0; j < n && ready; j++)
				if (parents[i][j] && names[j] != NULL)
					ready = 0;
			if (!ready)
				continue;
			cc->tables[cc->ntables++] = names[i];
			names[i] = NULL;
		}
	}
	if (cc->ntables < n) {
		ctl_err("%s: the foreign keys of its tables go round in a "
		    "circle: no order to copy them in", cc->from_name);
		goto fail;
	}
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(names[i]);
	return -1;
}

/*
 * Whether TO is in use by a marketbox.  PostgreSQL: another session
 * named marketbox (its application_name) on the database.  SQLite: a
 * process holds a lock on the file or its -shm (a marketbox keeps both
 * locked as long as it has the database open, even idle).  1 live, 0
 * not, -1 error.
 */
static int
ctl_copy_live_pg(struct store *s)
{
	static const char sql[] = "SELECT COUNT(*) FROM pg_stat_activity "
	    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
	    "AND application_name = 'marketbox'";
	long long	 n;

	if (ctl_value(s, sql, NULL, &n) == -1)
		return -1;
	return n > 0;
}

static int
ctl_file_locked(const char *path)
{
	struct flock	 fl;
	int		 fd, locked;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;		/* the whole file, SQLite's lock bytes too */
	locked = fcntl(fd, F_GETLK, &fl) == -1 ? -1 : fl.l_type != F_UNLCK;
	close(fd);
	return locked;
}

static int
ctl_copy_live_lite(const char *path)
{
	char	 shm[PATH_MAX];
	int	 a, b;

	if (snprintf(shm, sizeof(shm), "%s-shm", path) >= (int)sizeof(shm))
		return -1;
	if ((a = ctl_file_locked(path)) == -1 ||
	    (b = ctl_file_locked(shm)) == -1) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	return a || b;
}

/* Rows of table on s, or -1. */
static long long
ctl_count(struct ctl_copy *cc, struct store *s, const char *table)
{
	const char	*sql;
	long long	 n;

	if ((sql = ctl_sql(cc, "SELECT COUNT(*) FROM \"%s\"", table)) ==
	    NULL || ctl_value(s, sql, NULL, &n) == -1)
		return -1;
	return n;
}

/* INSERT INTO table (cols) VALUES ($1, ...), ... for rows rows. */
static const char *
ctl_insert_sql(struct ctl_copy *cc, const char *table, char **cols, int n,
    int rows)
{
	char	*buf;
	size_t	 size, len;
	int	 r, i, k = 1;
	const char *sql;

	size = 64 + strlen(table) + (size_t)n * 72 + (size_t)rows * n * 10;
	if ((buf = malloc(size)) == NULL) {
		ctl_err("out of memory");
		return NULL;
	}
	len = snprintf(buf, size, "INSERT INTO \"%s\" (", table);
	for (i = 0; i < n; i++)
		len += snprintf(buf + len, size - len, "%s\"%s\"",
		    i ? ", " : "", cols[i]);
	len += snprintf(buf + len, size - len, ") VALUES ");
	for (r = 0; r < rows; r++) {
		len += snprintf(buf + len, size - len, "%s(", r ? ", " : "");
		for (i = 0; i < n; i++)
			len += snprintf(buf + len, size - len, "%s$%d",
			    i ? ", " : "", k++);
		len += snprintf(buf + len, size - len, ")");
	}
	sql = ctl_sql(cc, "%s", buf);
	free(buf);
	return sql;
}

/* SELECT cols FROM table ORDER BY every column LIMIT $1 OFFSET $2. */
static const char *
ctl_select_sql(struct ctl_copy *cc, const char *table, char **cols, int n)
{
	char	*buf;
	size_t	 size, len;
	int	 i;
	const char *sql;

	size = 96 + strlen(table) + (size_t)n * 80;
	if ((buf = malloc(size)) == NULL) {
		ctl_err("out of memory");
		return NULL;
	}
	len = snprintf(buf, size, "SELECT ");
	for (i = 0; i < n; i++)
		len += snprintf(buf + len, size - len, "%s\"%s\"",
		    i ? ", " : "", cols[i]);
	/* Every column: the same order each batch, whatever the keys. */
	len += snprintf(buf + len, size - len, " FROM \"%s\" ORDER BY ", table);
	for (i = 0; i < n; i++)
		len += snprintf(buf + len, size - len, "%s%d", i ? ", " : "",
		    i + 1);
	snprintf(buf + len, size - len, " LIMIT $1 OFFSET $2");
	sql = ctl_sql(cc, "%s", buf);
	free(buf);
	return sql;
}

/*
 * Write the rows held in vals (rows of n values, NULL for NULL): one
 * INSERT when they fill it, else one a row.  Frees them.  0 or -1.
 */
static int
ctl_copy_flush(struct ctl_copy *cc, const char *many, const char *one,
    char **vals, int n, int rows)
{
	struct store_stmt	*wr;
	int			 r, i, rc = 0, full = rows == CTL_COPY_ROWS;

	for (r = 0; r < (full ? 1 : rows) && rc == 0; r++) {
		if ((wr = store_query(cc->to, full ? many : one)) == NULL) {
			rc = -1;
			break;
		}
		for (i = 0; i < (full ? rows * n : n); i++)
			store_bind_text(wr, i + 1, vals[r * n + i]);
		if (store_step(wr) == STORE_ERROR)
			rc = -1;
		store_done(wr);
	}
	for (i = 0; i < rows * n; i++) {
		free(vals[i]);
		vals[i] = NULL;
	}
	return rc;
}

/* Copy one table's rows; 0, or -1 (said). */
static int
ctl_copy_table(struct ctl_copy *cc, const char *table)
{
	char			*cols[CTL_COPY_COLUMNS], *tcols[CTL_COPY_COLUMNS];
	char			**vals = NULL;
	const char		*sel, *many, *one, *v;
	struct store_stmt	*rd;
	long long		 off = 0, got;
	int			 n, tn, i, j, rows = 0, rc = -1, step;

	if ((n = ctl_columns(cc->from, table, cols, CTL_COPY_COLUMNS)) <= 0)
		return -1;
	if ((tn = ctl_columns(cc->to, table, tcols, CTL_COPY_COLUMNS)) == -1) {
		ctl_columns_free(cols, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < tn && strcmp(cols[i], tcols[j]) != 0; j++)
			;
		if (!ctl_name_ok(cols[i]) || j == tn) {
			ctl_err("%s: table %s has no column %s (the schemas "
			    "differ)", cc->to_name, table, cols[i]);
			goto out;
		}
	}
	if ((vals = calloc((size_t)CTL_COPY_ROWS * n, sizeof(*vals))) ==
	    NULL || (sel = ctl_select_sql(cc, table, cols, n)) == NULL ||
	    (many = ctl_insert_sql(cc, table, cols, n, CTL_COPY_ROWS)) ==
	    NULL || (one = ctl_insert_sql(cc, table, cols, n, 1)) == NULL)
		goto out;
	/* Bounded: each batch reads CTL_COPY_BATCH rows more, or stops. */
	for (;;) {
		if ((rd = store_query(cc->from, sel)) == NULL)
			goto out;
		store_bind_int(rd, 1, CTL_COPY_BATCH);
		store_bind_int(rd, 2, off);
		got = 0;
		while ((step = store_step(rd)) == STORE_ROW) {
			for (i = 0; i < n; i++) {
				v = store_text(rd, i);
				if (v != NULL && (vals[rows * n + i] =
				    strdup(v)) == NULL)
					break;
			}
			got++;
			if (i < n || (++rows == CTL_COPY_ROWS &&
			    ctl_copy_flush(cc, many, one, vals, n, rows) ==
			    -1)) {
				step = STORE_ERROR;
				break;
			}
			if (rows == CTL_COPY_ROWS)
				rows = 0;
		}
		store_done(rd);
		if (step != STORE_DONE)
			goto out;
		off += got;
		if (got < CTL_COPY_BATCH)
			break;
	}
	if (ctl_copy_flush(cc, many, one, vals, n, rows) == -1)
		goto out;
	rows = 0;
	rc = 0;
out:
	if (vals != NULL)
		for (i = 0; i < CTL_COPY_ROWS * n; i++)
			free(vals[i]);
	free(vals);
	ctl_columns_free(tcols, tn);
	ctl_columns_free(cols, n);
	if (rc == -1)
		ctl_err("%s: table %s could not be copied", cc->to_name, table);
	return rc;
}

/*
 * PostgreSQL: each identity column's sequence set past the highest id
 * copied (and past SQLite's AUTOINCREMENT high mark, which remembers ids
 * of rows since deleted), so the next row does not take a copied id.
 * SQLite keeps its own marks as rows with ids go in.  0 or -1.
 */
static int
ctl_copy_sequences(struct ctl_copy *cc)
{
	static const char serial[] = "SELECT pg_get_serial_sequence($1, $2)";
	static const char setval[] = "SELECT setval($1::regclass, $2::bigint)";
	static const char lite_seq[] = "SELECT seq FROM sqlite_sequence "
	    "WHERE name = $1";
	static const char has_seq[] = "SELECT COUNT(*) FROM sqlite_master "
	    "WHERE name = 'sqlite_sequence'";
	char			*cols[CTL_COPY_COLUMNS], *seq;
	const char		*sql;
	struct store_stmt	*st;
	long long		 hi, mark, lite = 0;
	size_t			 t;
	int			 n, i, rc = 0, step;

	if (ctl_is_lite(cc->to))
		return 0;
	if (ctl_is_lite(cc->from) && ctl_value(cc->from, has_seq, NULL,
	    &lite) == -1)
		return -1;
	for (t = 0; t < cc->ntables && rc == 0; t++) {
		if ((n = ctl_columns(cc->to, cc->tables[t], cols,
		    CTL_COPY_COLUMNS)) == -1)
			return -1;
		for (i = 0; i < n && rc == 0; i++) {
			if ((st = store_query(cc->to, serial)) == NULL) {
				rc = -1;
				break;
			}
			store_bind_text(st, 1, cc->tables[t]);
			store_bind_text(st, 2, cols[i]);
			seq = NULL;
			if ((step = store_step(st)) == STORE_ROW &&
			    !store_is_null(st, 0))
				seq = strdup(store_text(st, 0));
			store_done(st);
			if (step == STORE_ERROR) {
				rc = -1;
				break;
			}
			if (seq == NULL)
				continue;
			mark = 0;
			if ((sql = ctl_sql(cc, "SELECT COALESCE(MAX(\"%s\"), 0) "
			    "FROM \"%s\"", cols[i], cc->tables[t])) == NULL ||
			    ctl_value(cc->to, sql, NULL, &hi) == -1 ||
			    (lite && ctl_value(cc->from, lite_seq,
			    cc->tables[t], &mark) == -1))
				rc = -1;
			if (mark > hi)
				hi = mark;
			if (rc == 0 && hi > 0) {
				if ((st = store_query(cc->to, setval)) == NULL)
					rc = -1;
				else {
					store_bind_text(st, 1, seq);
					store_bind_int(st, 2, hi);
					if (store_step(st) == STORE_ERROR)
						rc = -1;
					store_done(st);
				}
			}
			free(seq);
		}
		ctl_columns_free(cols, n);
	}
	return rc;
}

/* Count every table on both sides, print them; 0 equal, -1 not. */
static int
ctl_copy_counts(struct ctl_copy *cc, struct ctl *c)
{
	static const char *const names[] = { "table", "from", "to" };
	struct ctl_rows		 r;
	struct ctl_cell		 cells[3];
	char			 a[24], b[24];
	long long		 nf, nt;
	size_t			 t;
	int			 rc = 0;

	memset(&r, 0, sizeof(r));
	ctl_rows_columns(&r, names, 3);
	for (t = 0; t < cc->ntables; t++) {
		nf = ctl_count(cc, cc->from, cc->tables[t]);
		nt = ctl_count(cc, cc->to, cc->tables[t]);
		if (nf < 0 || nt < 0 || nf != nt) {
			ctl_err("table %s: %lld rows in %s, %lld in %s",
			    cc->tables[t], nf, cc->from_name, nt, cc->to_name);
			rc = -1;
		}
		snprintf(a, sizeof(a), "%lld", nf);
		snprintf(b, sizeof(b), "%lld", nt);
		cells[0].text = cc->tables[t];
		cells[0].number = 0;
		cells[1].text = a;
		cells[1].number = 1;
		cells[2].text = b;
		cells[2].number = 1;
		ctl_rows_add(&r, cells);
	}
	ctl_print_rows(c, stdout, &r);
	ctl_rows_free(&r);
	return rc;
}

/* Every row of TO's tables removed, children first: a --force, and the
 * rows a migration seeds. */
static int
ctl_copy_clear(struct ctl_copy *cc)
{
	const char	*sql;
	size_t		 t;

	for (t = cc->ntables; t > 0; t--)
		if ((sql = ctl_sql(cc, "DELETE FROM \"%s\"",
		    cc->tables[t - 1])) == NULL || store_exec(cc->to, sql) == -1)
			return -1;
	return 0;
}

/* TO's open store, migrated with the plugins' tables too.  0 or -1. */
static int
ctl_copy_open_to(struct ctl *c, struct ctl_copy *cc)
{
	struct plugin_set	*set;
	int			 live;

	if (store_is_postgresql(cc->to_path)) {
		/* Ask before creating a table there. */
		if ((cc->to = store_open_flags(cc->to_path, NULL,
		    STORE_NO_MIGRATE)) == NULL)
			return -1;
		live = ctl_copy_live_pg(cc->to);
		store_free(cc->to);
		cc->to = NULL;
	} else
		live = ctl_copy_live_lite(cc->to_path);
	if (live == -1)
		return -1;
	if (live) {
		ctl_err("%s is in use by a running marketbox: stop it first",
		    cc->to_name);
		return -1;
	}
	if ((cc->to = store_open_flags(cc->to_path, NULL, 0)) == NULL) {
		ctl_err("%s: cannot open the database", cc->to_name);
		return -1;
	}
	/* The plugins' own tables, by their own migrations. */
	if ((set = plugin_load(c->conf)) == NULL)
		return -1;
	live = plugin_migrate_all(set, cc->to);
	plugin_free(set);
	return live;
}

/* The core's tables every installation that ran has rows in. */
static const char *const ctl_copy_data[] = { "inbox", "outbox", "users",
    "refs" };

static int
ctl_store(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_copy	 cc;
	char		 vf[1024], vt[1024];
	long long	 n;
	size_t		 t;
	int		 rc = 1, data = 0;

	if (a->argc != 3 || strcmp(a->argv[0], "copy") != 0) {
		ctl_err("usage: marketctl store copy [--force] FROM TO");
		return 2;
	}
	memset(&cc, 0, sizeof(cc));
	cc.from_path = a->argv[1];
	cc.to_path = a->argv[2];
	cc.force = a->force;
	if ((cc.from_name = ctl_db_shown(cc.from_path)) == NULL ||
	    (cc.to_name = ctl_db_shown(cc.to_path)) == NULL) {
		ctl_err("out of memory");
		goto out;
	}
	if (strcmp(cc.from_path, cc.to_path) == 0) {
		ctl_err("FROM and TO are the same database");
		rc = 2;
		goto out;
	}
	if (c->conf == NULL) {
		ctl_err("store copy needs the conf (-c): its plugins make "
		    "their tables");
		goto out;
	}
	if (!store_is_postgresql(cc.from_path) &&
	    access(cc.from_path, R_OK) == -1) {
		ctl_err("%s: %s", cc.from_name, strerror(errno));
		return 1;
	}
	/* Read as it is: never migrated or written. */
	if ((cc.from = store_open_flags(cc.from_path, NULL, STORE_READONLY |
	    STORE_NO_MIGRATE)) == NULL) {
		ctl_err("%s: cannot open the database", cc.from_name);
		goto out;
	}
	if (ctl_copy_open_to(c, &cc) == -1)
		goto out;
	if (ctl_versions(cc.from, vf, sizeof(vf)) == -1 ||
	    ctl_versions(cc.to, vt, sizeof(vt)) == -1)
		goto out;
	if (strcmp(vf, vt) != 0) {
		ctl_err("the schemas differ: %s has %s, %s has %s (start this "
		    "marketbox once on %s to bring it up to date, and give "
		    "the conf that loads its plugins)", cc.from_name, vf,
		    cc.to_name, vt, cc.from_name);
		goto out;
	}
	/*
	 * One snapshot of FROM for every read, whoever writes it meanwhile
	 * (per engine: SQLite's BEGIN is already one read snapshot).
	 */
	if (store_exec(cc.from, ctl_is_lite(cc.from) ? "BEGIN" :
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") == -1)
		goto out;
	if (ctl_copy_tables(&cc) == -1)
		goto out;
	/*
	 * Data is what the traffic leaves: migrations may seed a table of
	 * their own (those rows are replaced by FROM's without a word).
	 */
	for (t = 0; t < sizeof(ctl_copy_data) / sizeof(*ctl_copy_data);
	    t++) {
		if ((n = ctl_count(&cc, cc.to, ctl_copy_data[t])) == -1)
			goto out;
		data += n > 0;
	}
	if (data && !cc.force) {
		ctl_err("%s already holds data: refusing to copy over it "
		    "(--force replaces it)", cc.to_name);
		goto out;
	}
	if (data)
		fprintf(stderr, "marketctl: %s: its data is replaced by %s's\n",
		    cc.to_name, cc.from_name);
	/* One transaction: TO has all of FROM or nothing of it. */
	if (store_work_begin(cc.to) == -1)
		goto out;
	if (ctl_copy_clear(&cc) == -1) {
		store_work_end(cc.to, 0);
		goto out;
	}
	for (t = 0; t < cc.ntables; t++) {
		if (c->tty)
			fprintf(stderr, "marketctl: copying %s\n",
			    cc.tables[t]);
		if (ctl_copy_table(&cc, cc.tables[t]) == -1)
			break;
	}
	if (t < cc.ntables || ctl_copy_sequences(&cc) == -1) {
		store_work_end(cc.to, 0);
		store_commit(cc.to);
		goto out;
	}
	if (store_work_end(cc.to, 1) == -1 || store_commit(cc.to) == -1) {
		ctl_err("%s: the copy could not be committed", cc.to_name);
		goto out;
	}
	rc = ctl_copy_counts(&cc, c) == 0 ? 0 : 1;
out:
	store_free(cc.from);
	store_free(cc.to);
	for (t = 0; t < cc.ntables; t++)
		free(cc.tables[t]);
	for (t = 0; t < cc.nsql; t++)
		free(cc.sql[t]);
	free(cc.from_name);
	free(cc.to_name);
	return rc;
}

/* --- main ---------------------------------------------------------------------------- */

struct ctl_command {
	const char	*name;
	int		 needs_db;
	int		(*run)(struct ctl *, const struct ctl_args *);
};

static const struct ctl_command ctl_commands[] = {
	{ .name = "users",	.needs_db = 1, .run = ctl_users },
	{ .name = "offers",	.needs_db = 1, .run = ctl_offers },
	{ .name = "orders",	.needs_db = 1, .run = ctl_orders },
	{ .name = "outbox",	.needs_db = 1, .run = ctl_outbox },
	{ .name = "stats",	.needs_db = 1, .run = ctl_stats },
	{ .name = "export",	.needs_db = 1, .run = ctl_export },
	{ .name = "broadcast",	.needs_db = 0, .run = ctl_broadcast },
	{ .name = "retry",	.needs_db = 0, .run = ctl_retry },
	{ .name = "user",	.needs_db = 0, .run = ctl_user },
	{ .name = "template",	.needs_db = 0, .run = ctl_template },
	{ .name = "store",	.needs_db = 0, .run = ctl_store },
};

int
main(int argc, char **argv)
{
	static const struct option globals[] = {
		{ "csv",	no_argument,		NULL, CTL_OPT_CSV },
		{ "json",	no_argument,		NULL, CTL_OPT_JSON },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	const struct ctl_command	*cmd = NULL;
	struct ctl			 c;
	struct ctl_args			 args;
	size_t				 i;
	int				 ch, rc;

	/* Exports hold phones and names: not for others (0640 at most). */
	umask(027);
	memset(&c, 0, sizeof(c));
	c.conf_path = MARKETBOX_CONF_FILE;
	c.limit = -1;
	c.tty = isatty(STDERR_FILENO);
	/* Widths of UTF-8 text in tables, whatever the user's locale. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	while ((ch = getopt_long(argc, argv, "+c:d:Vh", globals, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.conf_path = optarg;
			c.conf_given = 1;
			break;
		case 'd':
			c.db_path = optarg;
			break;
		case CTL_OPT_CSV:
			c.format = CTL_CSV;
			break;
		case CTL_OPT_JSON:
			c.format = CTL_JSON;
			break;
		case 'V':
			printf("marketctl %s\n", MARKETBOX_VERSION);
			return 0;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(argv[optind], ctl_commands[i].name) == 0)
			cmd = &ctl_commands[i];
	if (cmd == NULL) {
		ctl_err("unknown command '%s'", argv[optind]);
		ctl_usage(stderr);
		return 2;
	}
	if ((rc = ctl_parse(&c, argc - optind, argv + optind, &args)) != 0)
		return rc;

	gwlib_init();
	/* libgw's parser reports conf problems; nothing chattier. */
	log_set_output_level(GW_WARNING);
	rc = 1;
	if (c.conf_given || c.db_path == NULL || !cmd->needs_db) {
		if (!c.conf_given && access(c.conf_path, R_OK) == -1 &&
		    c.db_path != NULL && cmd->needs_db)
			;	/* -d alone is enough to read */
		else if ((c.conf = conf_load(c.conf_path)) == NULL) {
			ctl_err("%s: cannot use this configuration",
			    c.conf_path);
			goto out;
		}
	}
	if (cmd->needs_db && ctl_db_open(&c) == -1)
		goto out;
	rc = cmd->run(&c, &args);
out:
	store_free(c.store);
	conf_free(c.conf);
	gwlib_shutdown();
	return rc;
}
