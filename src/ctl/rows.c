/*
 * rows.c - marketctl's reading side: the database opened read-only (the
 * daemon alone migrates and writes it), and the rows of a query printed
 * for people (an aligned table, cut to --limit rows, control characters
 * made visible) or for programs (CSV as RFC 4180 with formulas
 * defused, JSON as an array of objects), streamed when they are long.
 *
 * What each command asks is left to its own file (lists.c, stats.c,
 * export.c); this file knows columns and cells, not tables' meanings.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "base/conf.h"
#include "store/store.h"
#include "ctl/ctl.h"

#define CTL_CELL_MAX		40	/* characters of a table cell */
#define CTL_PROGRESS_EVERY	10000	/* rows between export progress */

void
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

void
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
void
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

void
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
			ctl_json_value(o->fp, cells[i].text, cells[i].number);
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
void
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
 * whichever engine holds the data.  Money is a number like the counts,
 * whatever its column is called: aligned right in a table, a number in
 * JSON (CSV has no types).
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
			cells[i].number = 1;
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
int
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

int
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
struct store_stmt *
ctl_prepare(struct ctl *c, const char *sql)
{
	struct store_stmt	*st;

	if ((st = store_query(c->store, sql)) == NULL)
		ctl_err("%s", store_error(c->store));
	return st;
}

/* 1 if the database has table (each engine lists its tables its way). */
int
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

/* 1 if table has column (a column a plugin's later step adds). */
int
ctl_has_column(struct ctl *c, const char *table, const char *column)
{
	static const char lite[] = "SELECT 1 FROM pragma_table_info($1) "
	    "WHERE name = $2";
	static const char pg[] = "SELECT 1 FROM information_schema.columns "
	    "WHERE table_schema = current_schema() AND table_name = $1 AND "
	    "column_name = $2";
	struct store_stmt	*st;
	int			 found;

	if ((st = ctl_prepare(c, strcmp(store_engine(c->store), "sqlite") ==
	    0 ? lite : pg)) == NULL)
		return 0;
	store_bind_text(st, 1, table);
	store_bind_text(st, 2, column);
	found = store_step(st) == STORE_ROW;
	store_done(st);
	return found;
}

/* The limit for a list: --limit, else CTL_TABLE_LIMIT for tables and all
 * for scripts. */
long
ctl_limit(const struct ctl *c)
{
	if (c->limit >= 0)
		return c->limit;
	return c->format == CTL_TABLE ? CTL_TABLE_LIMIT : 0;
}

/* 0 if the market plugin's tables are there, else -1 (said). */
int
ctl_need_market(struct ctl *c)
{
	if (ctl_has_table(c, "market_posts") &&
	    ctl_has_table(c, "market_orders"))
		return 0;
	ctl_err("this database has no market tables (is the market plugin "
	    "loaded?)");
	return -1;
}
