/*
 * test_backup.c - marketctl backup and restore (src/ctl/backup.c): a
 * backup of a database with rows passes integrity_check and has the same
 * counts, without what a writer has not committed; a DIR keeps the --keep
 * newest backups and no other file; restore refuses a corrupt file and a
 * SQLite file that is not marketbox's, and a database another process
 * has open (as marketbox holds it: a SQLite connection in WAL mode), and
 * keeps the database it replaces as DB.before-restore with its mode.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "store/store.h"
#include "ctl/ctl.h"

/* marketctl.c's, which has main: messages go to stderr as there. */
void
ctl_err(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "marketctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char	dir[64];		/* /tmp/test_backup.XXXXXX */

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_backup.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char	 cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(backup, .init = setup, .fini = teardown);

static void
path(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

static void
exec_sql(sqlite3 *db, const char *sql)
{
	char	*err = NULL;

	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK,
	    "%s: %s", sql, err ? err : "?");
}

static long long
one_int(const char *file, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
one_text(const char *file, const char *sql, char *out, size_t size)
{
	sqlite3		*db;
	sqlite3_stmt	*st;

	*out = '\0';
	cr_assert_eq(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A marketbox database (the core's migrations) with n rows in extra. */
static void
make_db(const char *file, int n)
{
	struct store	*s;
	sqlite3		*db;
	char		 sql[128];
	int		 i;

	cr_assert_not_null(s = store_open(file, NULL), "%s", file);
	store_free(s);
	cr_assert_eq(sqlite3_open(file, &db), SQLITE_OK);
	exec_sql(db, "CREATE TABLE extra (id INTEGER PRIMARY KEY, v TEXT)");
	exec_sql(db, "BEGIN");
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO extra (v) VALUES "
		    "('row %d')", i);
		exec_sql(db, sql);
	}
	exec_sql(db, "COMMIT");
	sqlite3_close(db);
}

static struct ctl
quiet_ctl(void)
{
	struct ctl	 c;

	memset(&c, 0, sizeof(c));
	c.format = CTL_CSV;
	c.limit = -1;
	return c;
}

Test(backup, copies_rows_checked_without_what_is_uncommitted)
{
	char		 db[PATH_MAX], out[PATH_MAX], mode[32];
	struct ctl	 c = quiet_ctl();
	sqlite3		*w;

	path(db, "marketbox.db");
	path(out, "copy.db");
	make_db(db, 500);
	/* A writer in the middle of a transaction, as marketbox may be. */
	cr_assert_eq(sqlite3_open(db, &w), SQLITE_OK);
	exec_sql(w, "BEGIN IMMEDIATE");
	exec_sql(w, "INSERT INTO extra (v) VALUES ('uncommitted')");
	cr_assert_eq(ctl_backup_file(&c, db, out), 0);
	exec_sql(w, "ROLLBACK");
	sqlite3_close(w);
	one_text(out, "PRAGMA integrity_check", mode, sizeof(mode));
	cr_assert_str_eq(mode, "ok");
	cr_assert_eq(one_int(out, "SELECT COUNT(*) FROM extra"), 500);
	cr_assert_eq(one_int(out, "SELECT COUNT(*) FROM schema_versions"),
	    one_int(db, "SELECT COUNT(*) FROM schema_versions"));
	cr_assert_eq(one_int(out, "PRAGMA user_version"),
	    one_int(db, "PRAGMA user_version"));
	cr_assert_eq(one_int(out, "SELECT COUNT(*) FROM inbox"),
	    one_int(db, "SELECT COUNT(*) FROM inbox"));
	/* One file: no WAL to carry with it. */
	one_text(out, "PRAGMA journal_mode", mode, sizeof(mode));
	cr_assert_str_eq(mode, "delete");
}

/*
 * Rows committed by a writer that stays open are in the -wal only (no
 * checkpoint): a file copy of the database would miss them, the backup
 * has them.
 */
Test(backup, copies_what_is_committed_in_the_wal_only)
{
	char		 db[PATH_MAX], out[PATH_MAX], wal[PATH_MAX + 8];
	struct ctl	 c = quiet_ctl();
	struct stat	 sb;
	sqlite3		*w;

	path(db, "marketbox.db");
	path(out, "copy.db");
	make_db(db, 10);
	cr_assert_eq(sqlite3_open(db, &w), SQLITE_OK);
	exec_sql(w, "PRAGMA journal_mode = WAL");
	exec_sql(w, "PRAGMA wal_autocheckpoint = 0");
	exec_sql(w, "INSERT INTO extra (v) VALUES ('in the wal')");
	snprintf(wal, sizeof(wal), "%s-wal", db);
	cr_assert_eq(stat(wal, &sb), 0);
	cr_assert_gt(sb.st_size, 0, "the row is in the -wal");
	cr_assert_eq(ctl_backup_file(&c, db, out), 0);
	cr_assert_eq(one_int(out, "SELECT COUNT(*) FROM extra"), 11);
	cr_assert_eq(one_int(out, "SELECT COUNT(*) FROM extra WHERE v = "
	    "'in the wal'"), 1);
	sqlite3_close(w);
}

/* FILE is where the backup goes: never the database or its -wal. */
Test(backup, refuses_to_write_over_the_database)
{
	char		 db[PATH_MAX], side[PATH_MAX + 8], link2[PATH_MAX];
	struct ctl	 c = quiet_ctl();

	path(db, "marketbox.db");
	make_db(db, 3);
	cr_assert_eq(ctl_backup_file(&c, db, db), -1);
	snprintf(side, sizeof(side), "%s-wal", db);
	cr_assert_eq(ctl_backup_file(&c, db, side), -1);
	cr_assert_eq(access(side, F_OK), -1, "no -wal was made");
	path(link2, "same.db");
	cr_assert_eq(link(db, link2), 0);
	cr_assert_eq(ctl_backup_file(&c, db, link2), -1);
	cr_assert_eq(one_int(db, "SELECT COUNT(*) FROM extra"), 3);
}

Test(backup, a_failed_backup_leaves_no_file)
{
	char		 db[PATH_MAX], out[PATH_MAX];
	struct ctl	 c = quiet_ctl();
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	path(db, "missing.db");
	path(out, "copy.db");
	cr_assert_eq(ctl_backup_file(&c, db, out), -1);
	/* Not a database at all. */
	path(db, "garbage.db");
	FILE *fp = fopen(db, "w");
	cr_assert_not_null(fp);
	fputs("this is not a database, just some text of a few bytes\n", fp);
	fclose(fp);
	cr_assert_eq(ctl_backup_file(&c, db, out), -1);
	cr_assert_not_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	cr_assert_eq(n, 1, "only garbage.db is left (%d files)", n);
	cr_assert_eq(ctl_backup_file(&c, "postgresql://u@h/db", out), -1);
}

Test(backup, rotation_keeps_the_newest_and_nothing_else)
{
	static const char *const files[] = {
		"marketbox-20260101T000000Z.db",
		"marketbox-20260102T000000Z.db",
		"marketbox-20261130T235959Z.db",
		"marketbox-20261201T000000Z.db",
		"marketbox-20251231T120000Z.db",
		/* not of the pattern: never removed */
		"marketbox.db", "marketbox-old.db", "notes.txt",
		"marketbox-20240101T000000Z.db.tmp-abcdef",
		"marketbox-2024010T000000Z.db",
	};
	char	 p[PATH_MAX];
	size_t	 i;
	int	 fd;

	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		path(p, files[i]);
		cr_assert_neq(fd = open(p, O_CREAT | O_WRONLY, 0600), -1);
		close(fd);
	}
	cr_assert_eq(ctl_backup_rotate(dir, 2, NULL), 0);
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		path(p, files[i]);
		if (i == 2 || i == 3 || i >= 5)
			cr_assert_eq(access(p, F_OK), 0, "%s kept", files[i]);
		else
			cr_assert_eq(access(p, F_OK), -1, "%s removed",
			    files[i]);
	}
	/* a clock set back: the backup just written ranks last, and stays */
	path(p, "marketbox-20200101T000000Z.db");
	cr_assert_neq(fd = open(p, O_CREAT | O_WRONLY, 0600), -1);
	close(fd);
	cr_assert_eq(ctl_backup_rotate(dir, 1,
	    "marketbox-20200101T000000Z.db"), 0);
	cr_assert_eq(access(p, F_OK), 0, "the backup just written stays");
	path(p, files[3]);
	cr_assert_eq(access(p, F_OK), 0, "the newest stays");
	path(p, files[2]);
	cr_assert_eq(access(p, F_OK), -1, "the second newest is removed");
	cr_assert(store_backup_name("marketbox-20261206T021500Z.db"));
	cr_assert(!store_backup_name("marketbox-20261206T021500Z.db-wal"));
	cr_assert(!store_backup_name("marketbox-2026120xT021500Z.db"));
}

Test(backup, restore_refuses_what_is_not_a_marketbox_backup)
{
	char		 db[PATH_MAX], bad[PATH_MAX], kept[PATH_MAX];
	struct stat	 before, after;
	sqlite3		*o;
	FILE		*fp;

	path(db, "marketbox.db");
	path(kept, "marketbox.db.before-restore");
	make_db(db, 3);
	cr_assert_eq(stat(db, &before), 0);
	/* Garbage. */
	path(bad, "garbage.db");
	cr_assert_not_null(fp = fopen(bad, "w"));
	fputs("not a database", fp);
	fclose(fp);
	cr_assert_eq(ctl_restore_file(db, bad), -2);
	/* A database cut short: the header says more pages than there are. */
	path(bad, "cut.db");
	{
		char	 cmd[3 * PATH_MAX];

		make_db(bad, 2000);
		snprintf(cmd, sizeof(cmd), "truncate -s 8192 '%s'", bad);
		cr_assert_eq(system(cmd), 0);
	}
	cr_assert_eq(ctl_restore_file(db, bad), -2);
	/* SQLite, but not marketbox's. */
	path(bad, "other.db");
	cr_assert_eq(sqlite3_open(bad, &o), SQLITE_OK);
	exec_sql(o, "CREATE TABLE inbox (id INTEGER PRIMARY KEY)");
	sqlite3_close(o);
	cr_assert_eq(ctl_restore_file(db, bad), -2);
	/* The database untouched, nothing kept aside. */
	cr_assert_eq(stat(db, &after), 0);
	cr_assert_eq(after.st_ino, before.st_ino);
	cr_assert_eq(one_int(db, "SELECT COUNT(*) FROM extra"), 3);
	cr_assert_eq(access(kept, F_OK), -1);
}

Test(backup, restore_refused_while_another_process_has_it_open)
{
	char		 db[PATH_MAX], bk[PATH_MAX], kept[PATH_MAX], b;
	struct ctl	 c = quiet_ctl();
	int		 ready[2], hold[2], status;
	pid_t		 pid;

	path(db, "marketbox.db");
	path(bk, "backup.db");
	path(kept, "marketbox.db.before-restore");
	make_db(db, 3);
	cr_assert_eq(ctl_backup_file(&c, db, bk), 0);
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(hold), 0);
	fflush(NULL);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		/* Open it as marketbox does, idle, until told. */
		struct store	*s;

		close(ready[0]);
		close(hold[1]);
		if ((s = store_open(db, NULL)) == NULL)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		(void)read(hold[0], &b, 1);
		store_free(s);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	cr_assert_eq(read(ready[0], &b, 1), 1, "the child opened it");
	cr_assert_eq(ctl_copy_live_lite(db), 1);
	cr_assert_eq(ctl_restore_file(db, bk), -2);
	cr_assert_eq(access(kept, F_OK), -1, "nothing kept aside");
	close(hold[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
	/* Closed: it goes through. */
	cr_assert_eq(ctl_copy_live_lite(db), 0);
	cr_assert_eq(ctl_restore_file(db, bk), 0);
}

Test(backup, restore_keeps_the_old_database_before_restore)
{
	char		 db[PATH_MAX], bk[PATH_MAX], kept[PATH_MAX],
			 side[PATH_MAX + 8];
	struct ctl	 c = quiet_ctl();
	struct stat	 sb;
	sqlite3		*o;
	int		 fd;

	path(db, "marketbox.db");
	path(bk, "backup.db");
	path(kept, "marketbox.db.before-restore");
	make_db(bk, 0);
	cr_assert_eq(sqlite3_open(bk, &o), SQLITE_OK);
	exec_sql(o, "INSERT INTO extra (v) VALUES ('a'), ('b'), ('c'), "
	    "('d'), ('e')");
	sqlite3_close(o);
	/* The backup as the command makes it. */
	path(side, "made.db");
	cr_assert_eq(ctl_backup_file(&c, bk, side), 0);
	make_db(db, 3);
	cr_assert_eq(chmod(db, 0600), 0);
	/* A stale -shm of the old database goes. */
	snprintf(side, sizeof(side), "%s-shm", db);
	cr_assert_neq(fd = open(side, O_CREAT | O_WRONLY, 0600), -1);
	close(fd);
	path(bk, "made.db");
	cr_assert_eq(ctl_restore_file(db, bk), 0);
	cr_assert_eq(one_int(db, "SELECT COUNT(*) FROM extra"), 5);
	cr_assert_eq(one_int(kept, "SELECT COUNT(*) FROM extra"), 3);
	cr_assert_eq(stat(db, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600, "the old mode: %o",
	    sb.st_mode & 07777);
	cr_assert_eq(access(side, F_OK), -1, "the old -shm is gone");
	/* marketbox opens it as its own. */
	{
		struct store *s = store_open(db, NULL);

		cr_assert_not_null(s);
		store_free(s);
	}
	/* Again: the kept one is not overwritten. */
	cr_assert_eq(ctl_restore_file(db, bk), -2);
	cr_assert_eq(one_int(kept, "SELECT COUNT(*) FROM extra"), 3);
}

Test(backup, restore_into_a_new_database)
{
	char		 db[PATH_MAX], bk[PATH_MAX], kept[PATH_MAX];
	struct ctl	 c = quiet_ctl();

	path(bk, "source.db");
	make_db(bk, 7);
	path(db, "made.db");
	cr_assert_eq(ctl_backup_file(&c, bk, db), 0);
	snprintf(bk, sizeof(bk), "%s", db);
	path(db, "new.db");
	path(kept, "new.db.before-restore");
	cr_assert_eq(ctl_restore_file(db, bk), 0);
	cr_assert_eq(one_int(db, "SELECT COUNT(*) FROM extra"), 7);
	cr_assert_eq(access(kept, F_OK), -1, "nothing to keep");
}
