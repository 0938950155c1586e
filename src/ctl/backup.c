/*
 * backup.c - marketctl backup [--keep N] [FILE|DIR] and marketctl restore
 * FILE: a SQLite database copied while marketbox runs, and put back while
 * it does not.
 *
 * backup: SQLite's online backup API copies the database (opened
 * read-only) in one step, that is in one read transaction: one consistent
 * snapshot, whoever writes meanwhile, the WAL's committed pages included
 * (a file copy would take neither).  The copy goes to a temp file beside
 * the target, is turned into a self-contained file (journal_mode DELETE:
 * no -wal, no -shm), checked (PRAGMA integrity_check must say ok, every
 * table's rows are counted and printed), fsync'ed and renamed into place.
 * Any failure removes the temp file.  A DIR gets marketbox-
 * YYYYMMDDTHHMMSSZ.db (UTC), and then only the --keep N newest files of
 * that pattern stay (default 7; no other file is touched).  Without FILE
 * or DIR the conf's backup-dir is the DIR.
 *
 *	$ marketctl backup /var/backups/marketbox
 *	< table        rows
 *	< inbox        1204
 *	< ...
 *	< marketctl: /var/lib/marketbox/marketbox.db backed up to
 *	<   /var/backups/marketbox/marketbox-20261206T021500Z.db
 *
 * restore: the backup is checked first (integrity_check, the core's
 * schema_versions table), the database must not be open by a marketbox
 * (the locks store copy looks at), the current database is kept as
 * DB.before-restore (its -wal moves with it, so nothing committed is
 * lost; its -shm is removed), and the backup goes in atomically: copied
 * beside the database, given the old file's owner and mode, fsync'ed and
 * renamed over it.
 *
 * A PostgreSQL database is refused by both: pg_dump and the server's own
 * backups do that job (marketctl(1)).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/conf.h"
#include "store/store.h"
#include "ctl/ctl.h"

#define CTL_BACKUP_KEEP		7	/* files a DIR keeps by default */
#define CTL_BACKUP_TRIES	20	/* busy steps before giving up */
#define CTL_BACKUP_MAX_FILES	100000	/* files of the pattern a DIR may
					   hold (a bound for the scan) */

static const char ctl_pg_refusal[] = "is a PostgreSQL database: marketctl "
    "backs up SQLite files only; use pg_dump (pg_dump -Fc -f FILE DB) or "
    "the server's own backups, and pg_restore to put one back";

/* The database marketctl is to use: -d, or the conf's.  NULL: said. */
static const char *
ctl_bk_db(struct ctl *c)
{
	if (c->db_path != NULL)
		return c->db_path;
	if (c->conf != NULL && c->conf->database != NULL)
		return c->conf->database;
	ctl_err("no database: give -d FILE or -c marketbox.conf");
	return NULL;
}

/* Flush a directory's entries (a rename in it) to the disk.  0 or -1. */
static int
ctl_fsync_dir(const char *file)
{
	char	 dir[PATH_MAX], *slash;
	int	 fd, rc;

	if (snprintf(dir, sizeof(dir), "%s", file) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
ctl_fsync_file(const char *path)
{
	int	 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* A temp file's name and its SQLite companions removed. */
static void
ctl_bk_unlink(const char *path)
{
	char	 side[PATH_MAX + 16];

	unlink(path);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* A new empty file beside target, its name in tmp.  0 or -1 (said). */
static int
ctl_bk_temp(const char *target, char *tmp, size_t size)
{
	int	 fd;

	if (snprintf(tmp, size, "%s.tmp-XXXXXX", target) >= (int)size) {
		ctl_err("%s: name too long", target);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		ctl_err("cannot make a temp file beside %s: %s", target,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The whole of from (any SQLite file, its WAL included) copied into to (a
 * new empty file) by the online backup API, in one step: one read
 * transaction on from.  0 or -1 (said).
 */
static int
ctl_bk_copy(const char *from, const char *to)
{
	sqlite3		*src = NULL, *dst = NULL;
	sqlite3_backup	*b;
	int		 rc = -1, step = SQLITE_OK, tries;

	if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		ctl_err("%s: cannot open it: %s", from, src != NULL ?
		    sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		ctl_err("%s: cannot open it: %s", to, dst != NULL ?
		    sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		ctl_err("%s: cannot start the backup: %s", from,
		    sqlite3_errmsg(dst));
		goto out;
	}
	/*
	 * -1: every page in one step, under one read lock.  A writer in
	 * WAL mode does not block it; a checkpoint or a rollback-mode
	 * writer may (busy: tried again, a bounded number of times).
	 */
	for (tries = 0; tries < CTL_BACKUP_TRIES; tries++) {
		step = sqlite3_backup_step(b, -1);
		if (step != SQLITE_BUSY && step != SQLITE_LOCKED)
			break;
		sqlite3_sleep(250);
	}
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE) {
		ctl_err("%s: the backup failed: %s", from,
		    step == SQLITE_BUSY || step == SQLITE_LOCKED ?
		    "the database stayed busy" : sqlite3_errmsg(dst));
		goto out;
	}
	/* One file: the copy needs no -wal or -shm to be read. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		ctl_err("%s: %s", to, sqlite3_errmsg(dst));
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(src);
	if (dst != NULL && sqlite3_close(dst) != SQLITE_OK) {
		ctl_err("%s: cannot close it: %s", to, sqlite3_errmsg(dst));
		rc = -1;
	}
	return rc;
}

/* A table name quoted for SQL ("" inside doubled); NULL: out of memory. */
static char *
ctl_bk_count_sql(const char *table)
{
	const char	*p;
	char		*sql, *q;

	if ((sql = malloc(strlen(table) * 2 + 32)) == NULL)
		return NULL;
	q = sql + sprintf(sql, "SELECT COUNT(*) FROM \"");
	for (p = table; *p != '\0'; p++) {
		if (*p == '"')
			*q++ = '"';
		*q++ = *p;
	}
	strcpy(q, "\"");
	return sql;
}

/*
 * Check a SQLite file: integrity_check says ok and, with marketbox set,
 * it has the core's schema_versions table.  With rows, each table's rows
 * counted into it.  Opened read-only.  0, or -1 with why in *why (a
 * static string, or the first line integrity_check answered).
 */
static int
ctl_bk_check(const char *path, int marketbox, struct ctl_rows *rows,
    char *why, size_t size)
{
	static const char tables[] = "SELECT name FROM sqlite_master WHERE "
	    "type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name";
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL, *cnt;
	struct ctl_cell	 cells[2];
	char		*sql, n[24];
	int		 rc = -1, step, found = 0;

	snprintf(why, size, "cannot be read as a SQLite database");
	if (access(path, R_OK) == -1) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) !=
	    SQLITE_OK) {
		snprintf(why, size, "%s", sqlite3_errmsg(db));
		goto out;
	}
	if ((step = sqlite3_step(st)) != SQLITE_ROW) {
		snprintf(why, size, "%s", sqlite3_errmsg(db));
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		snprintf(why, size, "integrity_check: %s",
		    sqlite3_column_text(st, 0));
		goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, tables, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, size, "%s", sqlite3_errmsg(db));
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (strcmp(t, "schema_versions") == 0)
			found = 1;
		if (rows == NULL)
			continue;
		if ((sql = ctl_bk_count_sql(t)) == NULL) {
			snprintf(why, size, "out of memory");
			goto out;
		}
		cnt = NULL;
		if (sqlite3_prepare_v2(db, sql, -1, &cnt, NULL) != SQLITE_OK ||
		    sqlite3_step(cnt) != SQLITE_ROW) {
			snprintf(why, size, "table %s: %s", t,
			    sqlite3_errmsg(db));
			sqlite3_finalize(cnt);
			free(sql);
			goto out;
		}
		snprintf(n, sizeof(n), "%lld", (long long)sqlite3_column_int64(
		    cnt, 0));
		sqlite3_finalize(cnt);
		free(sql);
		cells[0].text = (char *)t;
		cells[0].number = 0;
		cells[1].text = n;
		cells[1].number = 1;
		ctl_rows_add(rows, cells);
	}
	if (step != SQLITE_DONE) {
		snprintf(why, size, "%s", sqlite3_errmsg(db));
		goto out;
	}
	if (marketbox && !found) {
		snprintf(why, size, "not a marketbox database (no "
		    "schema_versions table)");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/*
 * Only the keep newest marketbox-*.db of dir stay (names sort as their
 * times); other files are never touched.  0 or -1 (said).
 */
int
ctl_backup_rotate(const char *dir, int keep, const char *written)
{
	DIR		*d;
	struct dirent	*e;
	char		**names = NULL, **more, path[PATH_MAX];
	size_t		 n = 0, cap = 0, i, j;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL) {
		ctl_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL && n < CTL_BACKUP_MAX_FILES) {
		if (!store_backup_name(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((more = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				break;
			names = more;
		}
		if ((names[n] = strdup(e->d_name)) == NULL)
			break;
		n++;
	}
	if (e != NULL) {
		ctl_err("%s: out of memory or too many backups: none removed",
		    dir);
		rc = -1;
	}
	closedir(d);
	/* Newest first (insertion: a directory holds a few). */
	for (i = 1; i < n && rc == 0; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) < 0; j--) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	/* Names later than the one just written: a clock set back (a box
	   without a clock before NTP).  That one stays whatever its rank. */
	for (i = 0; written != NULL && i < n &&
	    strcmp(names[i], written) > 0; i++)
		fprintf(stderr, "marketctl: %s/%s is named later than the "
		    "backup just written (%s): is the clock right?\n", dir,
		    names[i], written);
	for (i = keep; i < n && rc == 0; i++) {
		if (written != NULL && strcmp(names[i], written) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) == -1) {
			ctl_err("%s: cannot remove it: %s", path,
			    strerror(errno));
			rc = -1;
		} else
			fprintf(stderr, "marketctl: %s: removed (--keep %d)\n",
			    path, keep);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/*
 * Whether target is the database db or one of its side files (-wal,
 * -shm, -journal), by name or by the file itself: a backup renamed over
 * them would replace the live database.  1 (said) or 0.
 */
static int
ctl_bk_is_db(const char *db, const char *target)
{
	static const char *const sides[] = { "", "-wal", "-shm", "-journal" };
	char		 side[PATH_MAX];
	struct stat	 tb, sb;
	size_t		 i;
	int		 have_t;

	have_t = stat(target, &tb) == 0;
	for (i = 0; i < sizeof(sides) / sizeof(*sides); i++) {
		if (snprintf(side, sizeof(side), "%s%s", db, sides[i]) >=
		    (int)sizeof(side))
			continue;
		if (strcmp(side, target) == 0 || (have_t &&
		    stat(side, &sb) == 0 && sb.st_dev == tb.st_dev &&
		    sb.st_ino == tb.st_ino)) {
			ctl_err("%s is the live database's own file %s: a "
			    "backup goes to another FILE or to a DIR "
			    "(marketctl backup FILE|DIR names where it goes)",
			    target, side);
			return 1;
		}
	}
	return 0;
}

/*
 * The database db backed up to the file target: the copy, its check,
 * its counts printed, renamed into place.  0 or -1 (said; no temp file
 * left).
 */
int
ctl_backup_file(struct ctl *c, const char *db, const char *target)
{
	static const char *const names[] = { "table", "rows" };
	struct ctl_rows	 rows;
	char		 tmp[PATH_MAX], why[512];
	int		 rc = -1;

	memset(&rows, 0, sizeof(rows));
	ctl_rows_columns(&rows, names, 2);
	if (store_is_postgresql(db)) {
		ctl_err("the database %s", ctl_pg_refusal);
		goto out;
	}
	if (access(db, R_OK) == -1) {
		ctl_err("%s: %s", db, strerror(errno));
		goto out;
	}
	if (ctl_bk_is_db(db, target))
		goto out;
	if (ctl_bk_temp(target, tmp, sizeof(tmp)) == -1)
		goto out;
	if (ctl_bk_copy(db, tmp) == -1)
		goto fail;
	if (ctl_bk_check(tmp, 1, &rows, why, sizeof(why)) == -1) {
		ctl_err("%s: the copy of %s fails its check: %s; no backup "
		    "written", target, db, why);
		goto fail;
	}
	if (ctl_fsync_file(tmp) == -1 || rename(tmp, target) == -1) {
		ctl_err("%s: cannot put the backup in place: %s", target,
		    strerror(errno));
		goto fail;
	}
	if (ctl_fsync_dir(target) == -1) {
		ctl_err("%s: cannot flush its directory: %s", target,
		    strerror(errno));
		goto out;
	}
	ctl_print_rows(c, stdout, &rows);
	fflush(stdout);
	fprintf(stderr, "marketctl: %s backed up to %s\n", db, target);
	rc = 0;
	goto out;
fail:
	ctl_bk_unlink(tmp);
out:
	ctl_rows_free(&rows);
	return rc;
}

/* marketctl backup [--keep N] [FILE|DIR] */
int
ctl_backup(struct ctl *c, const struct ctl_args *a)
{
	const char	*db, *dest;
	char		 path[PATH_MAX];
	struct stat	 sb;
	struct tm	 tm;
	time_t		 now;
	int		 keep = a->keep > 0 ? a->keep : CTL_BACKUP_KEEP;

	if (a->argc > 1) {
		ctl_err("usage: marketctl backup [--keep N] [FILE|DIR]");
		return 2;
	}
	if (a->argc == 1)
		dest = a->argv[0];
	else if (c->conf != NULL && c->conf->backup_dir != NULL)
		dest = c->conf->backup_dir;
	else {
		ctl_err("no FILE or DIR given and no backup-dir in the conf "
		    "(group = marketbox): give one or set backup-dir");
		return 2;
	}
	if ((db = ctl_bk_db(c)) == NULL)
		return 2;
	if (store_is_postgresql(db)) {
		ctl_err("the database %s", ctl_pg_refusal);
		return 1;
	}
	if (stat(dest, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		if (a->argc == 0) {
			ctl_err("backup-dir %s: %s (make it, writable by "
			    "whoever runs the backups)", dest,
			    access(dest, F_OK) == -1 ? strerror(errno) :
			    "not a directory");
			return 1;
		}
		if (a->keep > 0) {
			ctl_err("--keep is for a DIR: %s is not one", dest);
			return 2;
		}
		return ctl_backup_file(c, db, dest) == 0 ? 0 : 1;
	}
	time(&now);
	gmtime_r(&now, &tm);
	if (snprintf(path, sizeof(path), "%s/marketbox-%04d%02d%02dT%02d%02d"
	    "%02dZ.db", dest, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec) >= (int)sizeof(path)) {
		ctl_err("%s: name too long", dest);
		return 1;
	}
	if (ctl_backup_file(c, db, path) == -1)
		return 1;
	return ctl_backup_rotate(dest, keep, strrchr(path, '/') + 1) == 0 ?
	    0 : 1;
}

/* path with a suffix in buf.  0, or -1 when too long (said). */
static int
ctl_bk_name(char *buf, size_t size, const char *path, const char *suffix)
{
	if (snprintf(buf, size, "%s%s", path, suffix) >= (int)size) {
		ctl_err("%s: name too long", path);
		return -1;
	}
	return 0;
}

/* file given the owner and group of the directory of db.  0 or -1. */
static int
ctl_bk_dir_owner(const char *db, const char *file)
{
	char		 dir[PATH_MAX], *slash;
	struct stat	 db_dir;

	if (snprintf(dir, sizeof(dir), "%s", db) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &db_dir) == -1)
		return -1;
	return chown(file, db_dir.st_uid, db_dir.st_gid);
}

/*
 * The backup file put in place of the database db.  0, -1 failed (said),
 * or -2 refused before anything changed (said).
 */
int
ctl_restore_file(const char *db, const char *file)
{
	char		 tmp[PATH_MAX], kept[PATH_MAX], side[PATH_MAX],
			 aside[PATH_MAX], why[512];
	static const char *const sides[] = { "-wal", "-journal" };
	struct stat	 sb, fb;
	size_t		 i;
	int		 had, live;

	if (store_is_postgresql(db)) {
		ctl_err("the database %s", ctl_pg_refusal);
		return -2;
	}
	if (ctl_bk_check(file, 1, NULL, why, sizeof(why)) == -1) {
		ctl_err("%s: not restored: %s", file, why);
		return -2;
	}
	had = stat(db, &sb) == 0;
	if (!had && errno != ENOENT) {
		ctl_err("%s: %s", db, strerror(errno));
		return -2;
	}
	if (had && stat(file, &fb) == 0 && fb.st_dev == sb.st_dev &&
	    fb.st_ino == sb.st_ino) {
		ctl_err("%s is the database itself: nothing to restore", file);
		return -2;
	}
	if ((live = ctl_copy_live_lite(db)) == -1)
		return -2;
	if (live) {
		ctl_err("%s is open by a running marketbox: stop marketbox "
		    "first (systemctl stop marketbox), then restore", db);
		return -2;
	}
	if (ctl_bk_name(kept, sizeof(kept), db, ".before-restore") == -1)
		return -2;
	for (i = 0; had && i < 4; i++) {
		static const char *const ksides[] = { "", "-wal", "-journal",
		    "-shm" };

		if (ctl_bk_name(aside, sizeof(aside), kept, ksides[i]) == -1)
			return -2;
		if (access(aside, F_OK) == 0) {
			ctl_err("%s is there from an earlier restore: move "
			    "it away first (it may be the only copy of that "
			    "database)", aside);
			return -2;
		}
	}
	if (ctl_bk_temp(db, tmp, sizeof(tmp)) == -1)
		return -2;
	if (ctl_bk_copy(file, tmp) == -1)
		goto fail;
	/*
	 * A new database: 0640, as marketbox makes one, and, restored by
	 * root, its directory's owner and group (marketbox's, in a package
	 * install: marketbox refuses a database it does not own).
	 */
	if (!had && (chmod(tmp, 0640) == -1 || (geteuid() == 0 &&
	    ctl_bk_dir_owner(db, tmp) == -1))) {
		ctl_err("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (had && (chmod(tmp, sb.st_mode & 07777) == -1 ||
	    ((sb.st_uid != geteuid() || sb.st_gid != getegid()) &&
	    chown(tmp, sb.st_uid, sb.st_gid) == -1))) {
		ctl_err("%s: cannot give it the owner and mode of %s: %s (run "
		    "as root or as the database's owner)", tmp, db,
		    strerror(errno));
		goto fail;
	}
	if (ctl_fsync_file(tmp) == -1) {
		ctl_err("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	/*
	 * The old database keeps its name as DB.before-restore (a second
	 * link: DB itself is never missing), and its -wal and -journal go
	 * with it, so what it had committed stays readable there.  Without
	 * the database, a -wal left is stale: SQLite would play it into
	 * the backup.  The -shm is rebuilt from the -wal.
	 */
	if (had && link(db, kept) == -1) {
		ctl_err("%s: cannot keep it as %s: %s", db, kept,
		    strerror(errno));
		goto fail;
	}
	for (i = 0; i < sizeof(sides) / sizeof(*sides); i++) {
		if (ctl_bk_name(side, sizeof(side), db, sides[i]) == -1 ||
		    ctl_bk_name(aside, sizeof(aside), kept, sides[i]) == -1)
			goto fail;
		if (access(side, F_OK) == -1)
			continue;
		if (had ? rename(side, aside) == -1 : unlink(side) == -1) {
			ctl_err("%s: %s", side, strerror(errno));
			goto fail;
		}
	}
	if (ctl_bk_name(side, sizeof(side), db, "-shm") == -1 ||
	    (unlink(side) == -1 && errno != ENOENT)) {
		ctl_err("%s: %s", side, strerror(errno));
		goto fail;
	}
	if (rename(tmp, db) == -1) {
		ctl_err("%s: cannot put the backup in place: %s", db,
		    strerror(errno));
		goto fail;
	}
	if (ctl_fsync_dir(db) == -1) {
		ctl_err("%s: cannot flush its directory: %s", db,
		    strerror(errno));
		return -1;
	}
	if (had)
		fprintf(stderr, "marketctl: the database as it was is kept "
		    "as %s\n", kept);
	fprintf(stderr, "marketctl: %s restored from %s\n", db, file);
	return 0;
fail:
	ctl_bk_unlink(tmp);
	return -1;
}

/* marketctl restore FILE */
int
ctl_restore(struct ctl *c, const struct ctl_args *a)
{
	const char	*db;

	if (a->argc != 1) {
		ctl_err("usage: marketctl restore FILE");
		return 2;
	}
	if ((db = ctl_bk_db(c)) == NULL)
		return 2;
	return ctl_restore_file(db, a->argv[0]) == 0 ? 0 : 1;
}
