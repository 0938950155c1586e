/*
 * test_store.c - store.c: pragmas, migrations (fresh, upgrade, refusal of a
 * newer schema, plugin steps), the statement cache, and group commit with
 * its callbacks, isolation, rollback of one unit, durability and the
 * commit times (the histogram of /metrics).
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "base/gw.h"
#include "store/store.h"

static char	dir[] = "/tmp/test_store_XXXXXX";
static char	path[256];

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mb.db", dir);
}

static void
teardown(void)
{
	char	 cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	gwlib_shutdown();
}

TestSuite(store, .init = setup, .fini = teardown);

/* A one-integer query on a separate connection: what another reader sees. */
static long long
peek(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static long long
query(struct store *s, const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(store_db(s)));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
add_user(struct store *s, const char *msisdn)
{
	static const char sql[] =
	    "INSERT INTO users(msisdn, created, updated) VALUES (?1, 1, 1)";
	sqlite3_stmt	*st = store_stmt(s, sql);

	cr_assert_not_null(st);
	sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_reset(st);
}

Test(store, fresh_database_has_schema_and_pragmas)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(query(s, "PRAGMA user_version"), store_schema_version());
	cr_assert_eq(query(s, "PRAGMA foreign_keys"), 1);
	cr_assert_eq(query(s, "PRAGMA synchronous"), 2);	/* FULL */
	cr_assert_eq(query(s, "SELECT count(*) FROM sqlite_master WHERE "
	    "name IN ('users','inbox','outbox','schema_versions','refs')"), 5);
	store_free(s);
}

Test(store, wal_mode_persists)
{
	struct store	*s = store_open(path, NULL);
	sqlite3		*db;
	sqlite3_stmt	*st;

	cr_assert_not_null(s);
	store_free(s);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
	    NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

Test(store, older_schema_is_upgraded_keeping_data)
{
	struct store	*s;
	sqlite3		*db;
	char		*sql, *err = NULL;
	FILE		*fp;
	long		 len;

	/* Make the version-1 database an older marketbox left. */
	fp = fopen(TEST_SRCDIR "/data/schema-v1.sql", "r");
	cr_assert_not_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	sql = calloc(1, len + 1);
	cr_assert_eq(fread(sql, 1, len, fp), (size_t)len);
	fclose(fp);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK,
	    "%s", err ? err : "");
	sqlite3_close(db);
	free(sql);
	cr_assert_eq(peek("PRAGMA user_version"), 1);

	s = store_open(path, NULL);
	cr_assert_not_null(s);
	cr_assert_eq(query(s, "PRAGMA user_version"), store_schema_version());
	cr_assert_eq(query(s, "SELECT count(*) FROM sqlite_master WHERE "
	    "name IN ('refs', 'inbox_sender')"), 1);
	cr_assert_eq(query(s, "SELECT count(*) FROM users WHERE msisdn = "
	    "'+254700000001' AND name = 'Wanjiru' AND trades = 0"), 1);
	/* Version 5 rebuilt the outbox: the row is whole, under its id,
	 * still tied to its MO; kannel_id is no longer indexed. */
	cr_assert_eq(query(s, "SELECT count(*) FROM outbox WHERE id = 41 AND "
	    "inbox_id = 7 AND kannel_id = "
	    "'a0b1c2d3-e4f5-4617-8899-aabbccddeeff' AND state = 'delivered' "
	    "AND dlr_state = 'delivered' AND sent = 1700000001 AND "
	    "text = 'Welcome, Wanjiru'"), 1);
	cr_assert_eq(query(s, "SELECT count(*) FROM pragma_index_list("
	    "'outbox') WHERE origin = 'u'"), 0);
	cr_assert_eq(query(s, "SELECT count(*) FROM sqlite_master WHERE "
	    "name IN ('outbox_due', 'outbox_receiver', 'outbox_v5')"), 1);
	/* Version 6: the inbox by sender and the outbox by receiver are no
	 * longer indexed; the inbox's own key is. */
	cr_assert_eq(query(s, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'index' AND tbl_name IN ('inbox', 'outbox')"), 2);
	cr_assert_eq(query(s, "SELECT count(*) FROM pragma_foreign_key_check"),
	    0);
	/* Version 7: the open questions, none yet. */
	cr_assert_eq(query(s, "SELECT count(*) FROM questions"), 0);
	store_free(s);
}

/* What step 9 made, undone: the tables of several instances. */
/* Steps 12 and 11 (payments) and 10 (service points) undone first: the
 * steps after 9 come back. */
#define UNDO_STEP_9 \
	"DROP TABLE payment_claims; DROP TABLE payment_matches;" \
	"DROP TABLE payments; DROP TABLE order_payments;" \
	"DROP TABLE agents; DROP TABLE members; DROP TABLE agent_actions;" \
	"DROP TABLE commissions;" \
	"DROP TABLE instances; DROP TABLE timer_runs;" \
	"DROP TABLE repeat_window; ALTER TABLE outbox DROP COLUMN owner;"

/*
 * The questions step on a database an earlier marketbox left at version
 * 6, with people in it: they stay, and the table takes one question per
 * phone, a second for the same phone being a conflict the caller replaces.
 */
Test(store, questions_step_upgrades_a_version_6_database)
{
	static const char put[] =
	    "INSERT INTO questions(msisdn, command, language, asker, inbox_id,"
	    " created, expires) VALUES (?1, ?2, 'en', NULL, NULL, 1, 2)";
	struct store	*s = store_open(path, NULL);
	sqlite3_stmt	*st;

	cr_assert_not_null(s);
	add_user(s, "+254700000001");
	cr_assert_eq(store_exec(s, UNDO_STEP_9 "DROP TABLE questions;"
	    "PRAGMA user_version = 6"), 0);
	store_free(s);
	cr_assert_eq(peek("PRAGMA user_version"), 6);
	cr_assert_eq(peek("SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'questions'"), 0);

	s = store_open(path, NULL);
	cr_assert_not_null(s);
	cr_assert_eq(query(s, "PRAGMA user_version"), store_schema_version());
	cr_assert_eq(query(s, "SELECT count(*) FROM users WHERE msisdn = "
	    "'+254700000001'"), 1);
	st = store_stmt(s, put);
	cr_assert_not_null(st);
	sqlite3_bind_text(st, 1, "+254700000001", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, "SELL maize 10 bag 3000", -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	st = store_stmt(s, put);
	sqlite3_bind_text(st, 1, "+254700000001", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, "SELL maize 10 bag 2500", -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st) & 0xff, SQLITE_CONSTRAINT);
	sqlite3_reset(st);
	cr_assert_eq(query(s, "SELECT count(*) FROM questions"), 1);
	store_free(s);
}

/*
 * Step 8 on a database an earlier marketbox left at version 7: HTTP USSD
 * sessions, keyed by the aggregator's id alone, get their phone in the
 * key (a renamed old row too); SMPP sessions keep theirs.
 */
Test(store, session_keys_step_upgrades_a_version_7_database)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_exec(s, "INSERT INTO ussd_sessions(id, msisdn, "
	    "language, stack, vars, state, started, updated) VALUES "
	    "('http:abc', '+254700000001', 'en', 'm:main:0', '', 'open', 1, 1),"
	    "('http:abc#5', '+254700000002', 'en', 'm:main:0', '', 'left', 1, 1),"
	    "('smpp:+254700000003:18', '+254700000003', 'en', 'm:main:0', '',"
	    " 'open', 1, 1);" UNDO_STEP_9
	    "PRAGMA user_version = 7"), 0);
	store_free(s);

	s = store_open(path, NULL);
	cr_assert_not_null(s);
	cr_assert_eq(query(s, "PRAGMA user_version"), store_schema_version());
	cr_assert_eq(query(s, "SELECT count(*) FROM ussd_sessions WHERE id IN "
	    "('http:+254700000001:abc', 'http:+254700000002:abc#5', "
	    "'smpp:+254700000003:18')"), 3);
	store_free(s);
}

Test(store, newer_schema_is_refused_untouched)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_exec(s, "PRAGMA user_version = 99"), 0);
	store_free(s);
	cr_assert_null(store_open(path, NULL));
	cr_assert_eq(peek("PRAGMA user_version"), 99);
}

Test(store, unopenable_path_fails_cleanly)
{
	cr_assert_null(store_open("/nonexistent-dir/x/y.db", NULL));
}

/* The mode of file, or -1. */
static int
mode_of(const char *file)
{
	struct stat	 st;

	return stat(file, &st) == -1 ? -1 : (int)(st.st_mode & 07777);
}

Test(store, database_and_its_wal_are_0600_whatever_the_umask)
{
	char		 wal[300];
	mode_t		 old = umask(022);
	struct store	*s = store_open(path, NULL);

	umask(old);
	cr_assert_not_null(s);
	cr_assert_eq(store_exec(s, "CREATE TABLE t(x)"), 0);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	cr_assert_eq(mode_of(path), 0600, "database mode %o", mode_of(path));
	cr_assert_eq(mode_of(wal), 0600, "-wal mode %o", mode_of(wal));
	store_free(s);
}

Test(store, an_existing_open_database_is_narrowed_to_0600)
{
	int	 fd = open(path, O_CREAT | O_WRONLY, 0644);

	cr_assert(fd != -1);
	close(fd);
	cr_assert_eq(chmod(path, 0644), 0);
	store_free(store_open(path, NULL));
	cr_assert_eq(mode_of(path), 0600, "mode %o", mode_of(path));
}

/* A link planted where the database or its -wal go is refused, and the
 * file it points at is left as it was. */
static void
assert_link_refused(const char *suffix)
{
	char	 target[300], link[300], buf[16] = "";
	FILE	*fp;

	snprintf(target, sizeof(target), "%s/precious", dir);
	snprintf(link, sizeof(link), "%s%s", path, suffix);
	cr_assert_not_null(fp = fopen(target, "w"));
	fputs("precious\n", fp);
	fclose(fp);
	cr_assert_eq(chmod(target, 0644), 0);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_null(store_open(path, NULL), "a link at %s was used", link);
	cr_assert_not_null(fp = fopen(target, "r"));
	cr_assert_not_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	cr_assert_str_eq(buf, "precious\n");
	cr_assert_eq(mode_of(target), 0644);
}

Test(store, a_link_as_the_database_is_refused)
{
	assert_link_refused("");
}

Test(store, a_link_as_the_wal_is_refused)
{
	assert_link_refused("-wal");
}

Test(store, a_hard_link_as_the_database_is_refused)
{
	char	 target[300];
	FILE	*fp;

	snprintf(target, sizeof(target), "%s/other", dir);
	cr_assert_not_null(fp = fopen(target, "w"));
	fclose(fp);
	cr_assert_eq(link(target, path), 0);
	cr_assert_null(store_open(path, NULL));
}

static const struct store_migration plugin_steps[] = {
	{ 1, "CREATE TABLE p_offers(id INTEGER PRIMARY KEY, qty INTEGER)", NULL },
	{ 2, "ALTER TABLE p_offers ADD COLUMN price INTEGER", NULL },
};

Test(store, plugin_migrations_apply_once)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_migrate(s, "market", plugin_steps, 1), 0);
	cr_assert_eq(query(s, "SELECT version FROM schema_versions WHERE "
	    "owner = 'market'"), 1);
	cr_assert_eq(store_migrate(s, "market", plugin_steps, 2), 0);
	cr_assert_eq(store_migrate(s, "market", plugin_steps, 2), 0);
	cr_assert_eq(query(s, "SELECT version FROM schema_versions WHERE "
	    "owner = 'market'"), 2);
	cr_assert_eq(store_exec(s, "INSERT INTO p_offers(qty, price) "
	    "VALUES (1, 2)"), 0);
	/* An older plugin meeting its newer tables refuses them. */
	cr_assert_eq(store_migrate(s, "market", plugin_steps, 1), -1);
	store_free(s);
}

Test(store, failing_plugin_step_is_rolled_back)
{
	static const struct store_migration bad[] = {
		{ 1, "CREATE TABLE q(a); CREATE TABLE q(b)", NULL },
	};
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_migrate(s, "broken", bad, 1), -1);
	cr_assert_eq(query(s, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'q'"), 0);
	cr_assert_eq(query(s, "SELECT count(*) FROM schema_versions WHERE "
	    "owner = 'broken'"), 0);
	store_free(s);
}

Test(store, statement_cache)
{
	static const char sql[] = "SELECT ?1 + 1";
	struct store	*s = store_open(path, NULL);
	sqlite3_stmt	*a, *b;

	cr_assert_not_null(s);
	a = store_stmt(s, sql);
	cr_assert_not_null(a);
	sqlite3_bind_int(a, 1, 41);
	cr_assert_eq(sqlite3_step(a), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(a, 0), 42);
	b = store_stmt(s, sql);
	cr_assert_eq(a, b);
	/* reset with bindings cleared: NULL + 1 is NULL */
	cr_assert_eq(sqlite3_step(b), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_type(b, 0), SQLITE_NULL);
	cr_assert_null(store_stmt(s, "SELEKT nonsense"));
	store_free(s);
}

Test(store, statement_cache_grows)
{
	static char	 sqls[200][32];
	struct store	*s = store_open(path, NULL);
	int		 i;

	cr_assert_not_null(s);
	for (i = 0; i < 200; i++) {
		snprintf(sqls[i], sizeof(sqls[i]), "SELECT %d", i);
		cr_assert_not_null(store_stmt(s, sqls[i]));
	}
	for (i = 0; i < 200; i++) {
		sqlite3_stmt	*st = store_stmt(s, sqls[i]);

		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		cr_assert_eq(sqlite3_column_int(st, 0), i);
	}
	store_free(s);
}

/* Everything in the log file at lp, as one string (caller frees). */
static char *
read_log(const char *lp)
{
	FILE	*fp = fopen(lp, "r");
	char	*buf = calloc(1, 65536);
	size_t	 n;

	cr_assert(fp != NULL && buf != NULL);
	n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/*
 * The statement interface both engines share: $N read by number whatever
 * the order they appear in, NULL text both ways, changes, RETURNING, an
 * error logged with its statement, and a copied binding.
 */
Test(store, statement_interface)
{
	static const char swapped[] = "SELECT $2 || '-' || $1, $2 - $1";
	static const char twice[] = "SELECT $1 + $1 AS twice, $2 AS other";
	static const char insert[] =
	    "INSERT INTO t(k, v) VALUES ($1, $2) RETURNING id";
	static const char get[] = "SELECT v FROM t WHERE id = $1";
	static const char update[] = "UPDATE t SET v = $1 WHERE id >= $2";
	char			 logpath[300], buf[16], *log;
	struct store		*s = store_open(path, NULL);
	struct store_stmt	*st;

	cr_assert_not_null(s);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	cr_assert(log_open(logpath, GW_DEBUG, GW_NON_EXCL) != -1);
	cr_assert_str_eq(store_engine(s), "sqlite");
	cr_assert_eq(store_exec(s, "CREATE TABLE t (id INTEGER PRIMARY KEY,"
	    " k TEXT NOT NULL UNIQUE, v TEXT)"), 0);

	/* $2 before $1: bound by number, not by order of appearance. */
	cr_assert_not_null(st = store_query(s, swapped));
	cr_assert_eq(store_bind_int(st, 1, 10), 0);
	cr_assert_eq(store_bind_int(st, 2, 3), 0);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_str_eq(store_text(st, 0), "3-10");
	cr_assert_eq(store_int(st, 1), -7);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);

	/* The same $1 twice is one value. */
	cr_assert_not_null(st = store_query(s, twice));
	store_bind_int(st, 1, 21);
	store_bind_text(st, 2, "x");
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_columns(st), 2);
	cr_assert_str_eq(store_column_name(st, 0), "twice");
	cr_assert_eq(store_int(st, 0), 42);
	cr_assert_str_eq(store_text(st, 1), "x");
	store_done(st);

	/* New ids come back with RETURNING; NULL text is stored NULL. */
	cr_assert_not_null(st = store_query(s, insert));
	store_bind_text(st, 1, "a");
	store_bind_text(st, 2, NULL);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), 1);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	cr_assert_not_null(st = store_query(s, insert));
	store_bind_text(st, 1, "b");
	store_bind_null(st, 2);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), 2);
	store_done(st);
	cr_assert_not_null(st = store_query(s, get));
	store_bind_int(st, 1, 1);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert(store_is_null(st, 0));
	cr_assert_null(store_text(st, 0));
	cr_assert_eq(store_int(st, 0), 0);
	store_done(st);

	/* Rows changed; a copied binding does not see its buffer change. */
	snprintf(buf, sizeof(buf), "kept");
	cr_assert_not_null(st = store_query(s, update));
	cr_assert_eq(store_bind_text_copy(st, 1, buf), 0);
	store_bind_int(st, 2, 1);
	snprintf(buf, sizeof(buf), "overwritten");
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	cr_assert_eq(store_changes(s), 2);
	cr_assert_not_null(st = store_query(s, get));
	store_bind_int(st, 1, 2);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_str_eq(store_text(st, 0), "kept");
	store_done(st);

	/* A constraint violated: -1, logged with the statement; the
	 * statement serves again. */
	cr_assert_not_null(st = store_query(s, insert));
	store_bind_text(st, 1, "a");
	store_bind_text(st, 2, "again");
	cr_assert_eq(store_step(st), STORE_ERROR);
	cr_assert_eq(STORE_ERROR, -1);
	store_done(st);
	cr_assert(strstr(store_error(s), "UNIQUE") != NULL, "%s",
	    store_error(s));
	log = read_log(logpath);
	cr_assert(strstr(log, "UNIQUE constraint failed") != NULL &&
	    strstr(log, insert) != NULL, "log lacks the error:\n%s", log);
	free(log);
	cr_assert_not_null(st = store_query(s, insert));
	store_bind_text(st, 1, "c");
	store_bind_text(st, 2, "v");
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), 3);
	store_done(st);
	cr_assert_eq(query(s, "SELECT count(*) FROM t"), 3);
	store_free(s);
}

/*
 * RETURNING id, which SQLite's side reads from the rowid when it can
 * (one row inserted, an id that is the rowid), and otherwise runs as
 * written: each form gives the ids a query would.
 */
/* Whether SQLite holds a statement prepared from SQL starting with
 * head that has a RETURNING clause; -1 if none starts so. */
static int
prepared_returning(struct store *s, const char *head)
{
	sqlite3_stmt	*p = NULL;

	while ((p = sqlite3_next_stmt(store_db(s), p)) != NULL)
		if (strncmp(sqlite3_sql(p), head, strlen(head)) == 0)
			return strstr(sqlite3_sql(p), "RETURNING") != NULL;
	return -1;
}

Test(store, returning_id_in_every_form)
{
	static const char insert[] =
	    "INSERT INTO t(k) VALUES ($1) ON CONFLICT(k) DO NOTHING"
	    " RETURNING id";
	static const char upsert[] =
	    "INSERT INTO t(k) VALUES ($1) ON CONFLICT(k) DO UPDATE"
	    " SET k = excluded.k RETURNING id";
	static const char two[] =
	    "INSERT INTO t(k) VALUES ($1), ($2) RETURNING id";
	static const char named[] =
	    "INSERT INTO u(id, n) VALUES ($1, $2) RETURNING id";
	static const char keyed[] =
	    "INSERT INTO w(id, n) VALUES ($1, $2) RETURNING id";
	struct store		*s = store_open(path, NULL);
	struct store_stmt	*st;

	cr_assert_not_null(s);
	cr_assert_eq(store_exec(s, "CREATE TABLE t (id INTEGER PRIMARY KEY,"
	    " k TEXT NOT NULL UNIQUE);"
	    "CREATE TABLE u (id TEXT PRIMARY KEY, n INTEGER);"
	    "CREATE TABLE w (id INTEGER, n INTEGER, PRIMARY KEY (id, n))"
	    " WITHOUT ROWID;"
	    "INSERT INTO t(id, k) VALUES (10, 'ten')"), 0);

	/* One row: its id, as an integer and as text; then no more. */
	cr_assert_not_null(st = store_query(s, insert));
	store_bind_text(st, 1, "eleven");
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_columns(st), 1);
	cr_assert_str_eq(store_column_name(st, 0), "id");
	cr_assert_eq(store_int(st, 0), 11);
	cr_assert_str_eq(store_text(st, 0), "11");
	cr_assert_not(store_is_null(st, 0));
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	/* A conflict with DO NOTHING inserts nothing: no row, no id. */
	cr_assert_not_null(st = store_query(s, insert));
	store_bind_text(st, 1, "ten");
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	/* An upsert that updates gives the updated row's id. */
	cr_assert_not_null(st = store_query(s, upsert));
	store_bind_text(st, 1, "ten");
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), 10);
	store_done(st);
	/* Two rows, two ids. */
	cr_assert_not_null(st = store_query(s, two));
	store_bind_text(st, 1, "twelve");
	store_bind_text(st, 2, "thirteen");
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), 12);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), 13);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	/* An id that is not the rowid comes back as stored. */
	cr_assert_not_null(st = store_query(s, named));
	store_bind_text(st, 1, "x7");
	store_bind_int(st, 2, 1);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_str_eq(store_text(st, 0), "x7");
	store_done(st);
	cr_assert_not_null(st = store_query(s, keyed));
	store_bind_int(st, 1, 99);
	store_bind_int(st, 2, 1);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), 99);
	store_done(st);
	/* SQLite runs the one-row inserts into a rowid table without
	 * RETURNING (it would build a temporary table at every run), and
	 * the others as written. */
	cr_assert_eq(prepared_returning(s, "INSERT INTO t(k) VALUES (?1) ON "
	    "CONFLICT(k) DO NOTHING"), 0);
	cr_assert_eq(prepared_returning(s, "INSERT INTO t(k) VALUES (?1) ON "
	    "CONFLICT(k) DO UPDATE"), 1);
	cr_assert_eq(prepared_returning(s, "INSERT INTO t(k) VALUES (?1), "),
	    1);
	cr_assert_eq(prepared_returning(s, "INSERT INTO u("), 1);
	cr_assert_eq(prepared_returning(s, "INSERT INTO w("), 1);
	/* The same statement again, after store_query's reset. */
	cr_assert_not_null(st = store_query(s, insert));
	store_bind_text(st, 1, "fourteen");
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), 14);
	store_done(st);
	store_free(s);
}

struct seen {
	int	calls, ok, order[8];
};

static struct seen	seen;

static void
commit_cb(void *arg, int ok)
{
	seen.order[seen.calls++ % 8] = (int)(long)arg;
	seen.ok += ok;
}

Test(store, group_commit_once_per_loop_pass)
{
	struct event_base	*base = event_base_new();
	struct store		*s = store_open(path, base);
	unsigned long long	 commits, units;

	cr_assert_not_null(s);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+1");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, commit_cb, (void *)1L), 0);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+2");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, commit_cb, (void *)2L), 0);
	cr_assert_eq(store_pending(s), 2);

	/* Not durable yet: nobody else sees it, nobody was told. */
	cr_assert_eq(peek("SELECT count(*) FROM users"), 0);
	cr_assert_eq(seen.calls, 0);

	cr_assert_neq(event_base_loop(base, EVLOOP_NONBLOCK), -1);
	cr_assert_eq(seen.calls, 2);
	cr_assert_eq(seen.ok, 2);
	cr_assert_eq(seen.order[0], 1);
	cr_assert_eq(seen.order[1], 2);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 2);
	store_stats(s, &commits, &units);
	cr_assert_eq(commits, 1);
	cr_assert_eq(units, 2);
	cr_assert_eq(store_pending(s), 0);
	store_free(s);
	event_base_free(base);
}

Test(store, failed_unit_is_rolled_back_alone)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+1");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+2");
	cr_assert_eq(store_work_end(s, 0), 0);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+3");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 2);
	cr_assert_eq(peek("SELECT count(*) FROM users WHERE msisdn = '+2'"), 0);
	store_free(s);
}

Test(store, nested_unit_refused)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(store_work_begin(s), -1);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_work_end(s, 1), -1);
	store_free(s);
}

Test(store, failed_commit_tells_every_waiter)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	memset(&seen, 0, sizeof(seen));
	/* A deferred foreign key makes COMMIT itself fail. */
	cr_assert_eq(store_exec(s, "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
	    "CREATE TABLE child(pid INTEGER REFERENCES parent(id) "
	    "DEFERRABLE INITIALLY DEFERRED)"), 0);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+1");
	cr_assert_eq(store_exec(s, "INSERT INTO child VALUES (42)"), 0);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, commit_cb, (void *)7L), 0);
	cr_assert_eq(store_commit(s), -1);
	cr_assert_eq(seen.calls, 1);
	cr_assert_eq(seen.ok, 0);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 0);
	/* and the store goes on working */
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+2");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 1);
	store_free(s);
}

/*
 * The commit times (/metrics' marketbox_store_commit_seconds): each
 * successful COMMIT of a group is one more, a failed one is none; the
 * buckets are cumulative up to +Inf, which is the count.
 */
Test(store, commit_times_count_the_commits_that_succeed)
{
	struct store			*s = store_open(path, NULL);
	struct store_commit_times	 t0, t;
	size_t				 i;

	cr_assert_not_null(s);
	store_commit_times(s, &t0);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+1");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	store_commit_times(s, &t);
	cr_assert_eq(t.count, t0.count + 1);
	cr_assert_eq(t.le[STORE_COMMIT_BUCKETS - 1], t.count);
	for (i = 1; i < STORE_COMMIT_BUCKETS; i++)
		cr_assert_geq(t.le[i], t.le[i - 1]);
	cr_assert(isinf(store_commit_bounds[STORE_COMMIT_BUCKETS - 1]));
	/* a COMMIT that fails (a deferred foreign key) is not timed */
	cr_assert_eq(store_exec(s, "CREATE TABLE parent(id INTEGER PRIMARY "
	    "KEY); CREATE TABLE child(pid INTEGER REFERENCES parent(id) "
	    "DEFERRABLE INITIALLY DEFERRED)"), 0);
	t0 = t;
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(store_exec(s, "INSERT INTO child VALUES (42)"), 0);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), -1);
	store_commit_times(s, &t);
	cr_assert_eq(t.count, t0.count);
	/* 0.7 ms: over the 0.5 ms bucket, in the 1 ms one and all above */
	store_commit_note(s, 700);
	store_commit_times(s, &t);
	cr_assert_eq(t.le[0], t0.le[0]);
	for (i = 1; i < STORE_COMMIT_BUCKETS; i++)
		cr_assert_eq(t.le[i], t0.le[i] + 1, "bucket %zu", i);
	cr_assert_eq(t.sum_us, t0.sum_us + 700);
	store_free(s);
}

/*
 * An I/O error, a full disk or no memory may make SQLite roll the open
 * transaction back by itself (the ROLLBACK here stands for it).  The units
 * released into it are gone: none of the group may be reported stored,
 * and nothing may begin until the group has ended (a SAVEPOINT would open
 * a new transaction, which a later RELEASE or COMMIT would commit with
 * the group's callbacks told "stored").  Then the store works again.
 */
Test(store, a_transaction_sqlite_rolled_back_is_never_reported_stored)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+1");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, commit_cb, (void *)5L), 0);
	cr_assert_eq(store_exec(s, "ROLLBACK"), 0);
	cr_assert_eq(store_work_begin(s), -1);
	cr_assert_eq(store_commit(s), -1);
	cr_assert_eq(seen.calls, 1);
	cr_assert_eq(seen.ok, 0);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 0);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+2");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 1);
	store_free(s);
}

Test(store, callback_with_nothing_open_still_runs)
{
	struct event_base	*base = event_base_new();
	struct store		*s = store_open(path, base);

	cr_assert_not_null(s);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_on_commit(s, commit_cb, (void *)3L), 0);
	cr_assert_neq(event_base_loop(base, EVLOOP_NONBLOCK), -1);
	cr_assert_eq(seen.calls, 1);
	cr_assert_eq(seen.ok, 1);
	store_free(s);
	event_base_free(base);
}

Test(store, durable_across_reopen)
{
	struct store	*s = store_open(path, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+254711000000");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	store_free(s);
	s = store_open(path, NULL);
	cr_assert_not_null(s);
	cr_assert_eq(query(s, "SELECT count(*) FROM users WHERE msisdn = "
	    "'+254711000000'"), 1);
	cr_assert_eq(query(s, "SELECT count(*) FROM pragma_integrity_check "
	    "WHERE integrity_check = 'ok'"), 1);
	store_free(s);
}

Test(store, free_accepts_null)
{
	store_free(NULL);
}

Test(store, commit_delay_gathers_units_and_a_full_batch_commits_at_once)
{
	struct event_base	*base = event_base_new();
	struct store		*s = store_open(path, base);
	unsigned long long	 commits, units;

	cr_assert_not_null(s);
	memset(&seen, 0, sizeof(seen));
	store_set_commit_policy(s, 50, 3);
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+1");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, commit_cb, (void *)1L), 0);
	/* The pass ends, the delay has not: nothing is committed yet. */
	cr_assert_neq(event_base_loop(base, EVLOOP_NONBLOCK), -1);
	cr_assert_eq(seen.calls, 0);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 0);
	/* A second unit joins the same transaction. */
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+2");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_neq(event_base_loop(base, EVLOOP_NONBLOCK), -1);
	cr_assert_eq(seen.calls, 0);
	/* The third fills the batch: committed at the end of this pass. */
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+3");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_neq(event_base_loop(base, EVLOOP_NONBLOCK), -1);
	cr_assert_eq(seen.calls, 1);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 3);
	store_stats(s, &commits, &units);
	cr_assert_eq(commits, 1);
	cr_assert_eq(units, 3);
	/* A lone unit commits once the delay is over. */
	cr_assert_eq(store_work_begin(s), 0);
	add_user(s, "+4");
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_neq(event_base_loop(base, EVLOOP_ONCE), -1);
	cr_assert_eq(peek("SELECT count(*) FROM users"), 4);
	store_free(s);
	event_base_free(base);
}

/* --- tasks ------------------------------------------------------------------ */

struct task_probe {
	struct store	*s;
	int		 ran;
	long long	 n;
};

/* A task that runs a statement: with the thread, its step is a wait. */
static void
task_count(void *arg)
{
	struct task_probe	*p = arg;
	struct store_stmt	*st;

	cr_assert_not_null(st = store_query(p->s, "SELECT COUNT(*) FROM users"));
	cr_assert_eq(store_step(st), STORE_ROW);
	p->n = store_int(st, 0);
	store_done(st);
	p->ran++;
}

/*
 * Without the thread store_task runs fn at once.  With it, fn may still be
 * under way when store_task returns; store_tasks_end (shutdown) runs it to
 * its end, and from then on store_task runs fn at once again.
 */
Test(store, tasks_end_runs_what_is_queued_then_tasks_run_inline)
{
	struct event_base	*base = event_base_new();
	struct store		*s;
	struct task_probe	 p = { 0 };

	cr_assert_not_null(base);
	cr_assert_not_null(s = store_open(path, base));
	p.s = s;
	cr_assert_eq(store_task(s, task_count, &p), 0);
	cr_assert_eq(p.ran, 1, "no thread: the task ran inline");

	cr_assert_eq(store_use_tasks(s, base), 0);
	cr_assert(store_tasks_on(s));
	store_serving(s);
	cr_assert_eq(store_task(s, task_count, &p), 0);
	cr_assert_eq(store_task(s, task_count, &p), 0);
	/* the first waits in its step: the second is queued behind it */
	cr_assert_lt(p.ran, 3);
	store_tasks_end(s);
	cr_assert_eq(p.ran, 3, "store_tasks_end ran both to their end");
	cr_assert_not(store_tasks_on(s));
	cr_assert_eq(store_task(s, task_count, &p), 0);
	cr_assert_eq(p.ran, 4, "after the end: inline again");
	cr_assert_eq(p.n, 0);
	store_free(s);
	event_base_free(base);
}
