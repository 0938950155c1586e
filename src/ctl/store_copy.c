/*
 * store_copy.c - marketctl store copy FROM TO: the one command that
 * writes a database, and only one no marketbox has open (it checks).
 * Either side may be SQLite or PostgreSQL; the schemas are brought level
 * by marketbox's own migrations (the core's in src/store, the plugins'
 * through plugin.c), never written here.  The counts of both sides are
 * printed with rows.c.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/conf.h"
#include "plugin/plugin.h"
#include "store/store.h"
#include "ctl/ctl.h"

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

int
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

int
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
		goto out;
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
