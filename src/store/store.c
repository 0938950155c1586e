/*
 * store.c - the SQLite database: pragmas, running the core schema
 * migrations, the prepared statement cache, and group commit once per
 * loop pass (the times its COMMITs take kept as a histogram for
 * /metrics: store_commit_times).
 *
 * See store.h for the contract.  The core schema is the list of migrations
 * in schema.c; a database is upgraded step by step at open, each step in
 * its own transaction with PRAGMA user_version set inside it, so a crash
 * between steps leaves a database at a known version.  A PostgreSQL
 * database's work goes to store_pg.c (with the steps' sql_pg where they
 * have one).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/gw.h"

#include "base/conf.h"
#include "base/file.h"
#include "store/task.h"

#include "store/schema.h"
#include "store/store.h"
#include "store/store_pg.h"

/*
 * A PostgreSQL store (store_pg.c) has s->pg and its statements st->pg.
 * Every call branches on it once, SQLite's way being the one expected.
 */
#ifdef HAVE_POSTGRESQL
#define STORE_PG(x)	__builtin_expect((x) != NULL, 0)
#else
#define STORE_PG(x)	((void)(x), 0)
#endif

struct store_callback {
	void	(*cb)(void *, int);
	void	 *arg;
};

/*
 * A statement of the cache.  A one-row INSERT ... RETURNING id into a
 * table whose id is its rowid runs without its RETURNING, and its row is
 * made here from sqlite3_last_insert_rowid(): SQLite runs RETURNING
 * through a temporary table it builds and drops at every run, which
 * doubled the cost of storing an MO (store_sql_rowid).
 */
struct store_stmt {
	struct store	*s;
	const char	*sql;		/* as the caller wrote it */
	sqlite3_stmt	*lite;
	int		 rowid;		/* RETURNING id made from the rowid */
	int		 at;		/* rowid: 0 not run, 1 on the row,
					   2 past it */
	long long	 id;		/* rowid: the row's id */
	char		 idtext[24];	/* rowid: the id as text */
	struct store_pg_stmt *pg;	/* a PostgreSQL store's */
};

struct store_slot {
	const char		*sql;
	struct store_stmt	*stmt;
};

struct store {
	sqlite3			*db;
	struct store_pg		*pg;		/* PostgreSQL: store_pg.c's */
	char			*path;
	struct event		*commit_ev;

	struct store_slot	*slots;		/* open-addressed on sql's address */
	size_t			 nslots, nstmts;

	int			 in_txn;	/* BEGIN done, COMMIT pending */
	int			 in_work;	/* inside a savepoint */
	size_t			 units;		/* units in the open txn */
	struct store_callback	*cbs;
	size_t			 ncbs, cbcap;

	unsigned long long	 commits, total_units;
	/* the commit times: per bucket, not cumulative (store_commit_note) */
	unsigned long long	 commit_bucket[STORE_COMMIT_BUCKETS];
	unsigned long long	 commit_us;
	unsigned long		 failing;	/* commits failed in a row */
	int			 delay_ms;	/* commit-delay */
	int			 batch;		/* commit-batch; 0: no limit */
	struct tasks		*tasks;		/* NULL: work runs inline */
	int			 serving;	/* past start-up */
	int			 retry;		/* store_want_retry() since the
						   unit began */
	int			 lost;		/* SQLite rolled the open txn
						   back by itself: its units
						   never commit */
};

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

/*
 * The statements of group commit run for every unit of work: prepared
 * once (through the cache, keyed on these arrays' addresses), not parsed
 * again by sqlite3_exec each time.
 */
static const char store_sql_begin[] = "BEGIN IMMEDIATE";
static const char store_sql_savepoint[] = "SAVEPOINT work";
static const char store_sql_release[] = "RELEASE work";
static const char store_sql_rollback_to[] = "ROLLBACK TO work";
static const char store_sql_commit[] = "COMMIT";

static int	store_tx(struct store *, const char *);
static int	store_outside_task(struct store *, const char *);
static void	store_schedule_commit(struct store *);

int
store_exec(struct store *s, const char *sql)
{
	char	*msg = NULL;

	if (s->tasks != NULL && store_outside_task(s, sql))
		return -1;
	if (STORE_PG(s->pg))
		return store_pg_exec(s->pg, sql);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error(0, "store: %s: %s", s->path, msg ? msg :
		    sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static size_t
store_slot_hash(const char *sql, size_t nslots)
{
	uintptr_t	 h = (uintptr_t)sql;

	h ^= h >> 17;
	h *= (uintptr_t)0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 7) & (nslots - 1);
}

static int
store_slots_grow(struct store *s)
{
	struct store_slot	*old = s->slots;
	size_t			 oldn = s->nslots, i, j;
	size_t			 n = oldn ? oldn * 2 : 64;

	if ((s->slots = calloc(n, sizeof(*s->slots))) == NULL) {
		s->slots = old;
		return -1;
	}
	s->nslots = n;
	for (i = 0; i < oldn; i++) {
		if (old[i].sql == NULL)
			continue;
		j = store_slot_hash(old[i].sql, n);
		while (s->slots[j].sql != NULL)
			j = (j + 1) & (n - 1);
		s->slots[j] = old[i];
	}
	free(old);
	return 0;
}

/*
 * SQL as written for both engines ($1, $2 ...) as SQLite reads it: ?1, ?2
 * ... ($1 is a named parameter to SQLite, numbered by first appearance,
 * which "$2 ... $1" would get wrong).  Quoted text is left alone.  A copy
 * to free, or NULL.
 */
static char *
store_sql_lite(const char *sql)
{
	char	*out, *p, quote = 0;

	if ((out = strdup(sql)) == NULL)
		return NULL;
	for (p = out; *p != '\0'; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '$' && p[1] >= '0' && p[1] <= '9')
			*p = '?';
	}
	return out;
}

/*
 * Whether the id of the table named at p (its name ends at the first
 * character that cannot be in one) is its rowid: declared INTEGER, the
 * primary key, and no index made for a primary key (a WITHOUT ROWID table,
 * a key of several columns, or INTEGER PRIMARY KEY DESC has one).
 */
static int
store_id_is_rowid(struct store *s, const char *p)
{
	static const char sql[] =
	    "SELECT (SELECT upper(type) = 'INTEGER' AND pk = 1"
	    " FROM pragma_table_info(?1) WHERE name = 'id')"
	    " AND NOT EXISTS (SELECT 1 FROM pragma_index_list(?1)"
	    " WHERE origin = 'pk')";
	sqlite3_stmt	*st;
	size_t		 n = 0;
	int		 yes = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
	    (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
		n++;
	if (n == 0 || sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, p, (int)n, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		yes = sqlite3_column_int(st, 0) == 1;
	sqlite3_finalize(st);
	return yes;
}

/*
 * If lite (SQL as SQLite reads it) is "INSERT INTO t ... VALUES (...)
 * ... RETURNING id" with one row of values, no SELECT and no DO UPDATE
 * (whose row would not be the last inserted), into a table whose id is
 * its rowid: cut the RETURNING off and say so.  Anything else keeps its
 * RETURNING, which is right, only slower.
 */
static int
store_sql_rowid(struct store *s, char *lite)
{
	static const char	 into[] = "INSERT INTO ";
	static const char	 tail[] = " RETURNING id";
	size_t			 n = strlen(lite), k = sizeof(tail) - 1;
	char			*p, quote = 0;
	int			 depth = 0;

	if (strncmp(lite, into, sizeof(into) - 1) != 0 || n <= k ||
	    strcmp(lite + n - k, tail) != 0 ||
	    strcasestr(lite, "SELECT") != NULL ||
	    strcasestr(lite, "DO UPDATE") != NULL ||
	    (p = strstr(lite, " VALUES")) == NULL)
		return 0;
	for (p += 7; *p == ' '; p++)
		;
	if (*p != '(')
		return 0;
	/* The end of the first row of values: another may not follow. */
	for (; *p != '\0'; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			break;
	}
	if (*p == '\0')
		return 0;
	for (p++; *p == ' '; p++)
		;
	if (*p == ',' || !store_id_is_rowid(s, lite + sizeof(into) - 1))
		return 0;
	lite[n - k] = '\0';
	return 1;
}

static struct store_stmt *
store_prepare(struct store *s, const char *sql, size_t i)
{
	struct store_stmt	*st;
	char			*lite;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (lite = store_sql_lite(sql)) == NULL) {
		free(st);
		error(0, "store: out of memory");
		return NULL;
	}
	if (STORE_PG(s->pg)) {
		if ((st->pg = store_pg_prepare(s->pg, sql)) == NULL) {
			free(lite);
			free(st);
			return NULL;
		}
	} else if ((st->rowid = store_sql_rowid(s, lite)),
	    sqlite3_prepare_v3(s->db, lite, -1,
	    SQLITE_PREPARE_PERSISTENT, &st->lite, NULL) != SQLITE_OK) {
		error(0, "store: cannot prepare statement: %s: %s",
		    sqlite3_errmsg(s->db), sql);
		free(lite);
		free(st);
		return NULL;
	}
	free(lite);
	st->s = s;
	st->sql = sql;
	s->slots[i].sql = sql;
	s->slots[i].stmt = st;
	s->nstmts++;
	return st;
}

static void
store_stmt_free(struct store_stmt *st)
{
	if (st == NULL)
		return;
	if (STORE_PG(st->pg))
		store_pg_stmt_free(st->pg);
	sqlite3_finalize(st->lite);
	free(st);
}

/*
 * With a task thread, statements run in tasks.  One run by the loop's
 * thread while a task holds the connection would interleave with it:
 * refused.  One run by the loop's thread once marketbox serves is a path
 * not made a task (it would stop the loop while it waits): said, so that
 * tests find it.
 */
static int
store_outside_task(struct store *s, const char *sql)
{
	if (tasks_on_thread(s->tasks))
		return 0;
	if (tasks_busy(s->tasks)) {
		error(0, "store: statement outside a task while a task runs; "
		    "refused: %s", sql);
		return 1;
	}
	if (s->serving)
		error(0, "store: statement outside a task: %s", sql);
	return 0;
}

struct store_stmt *
store_query(struct store *s, const char *sql)
{
	size_t			 i;
	struct store_stmt	*st;

	if (s->tasks != NULL && store_outside_task(s, sql))
		return NULL;

	if (s->nslots == 0 || (s->nstmts + 1) * 2 > s->nslots)
		if (store_slots_grow(s) == -1) {
			error(0, "store: out of memory");
			return NULL;
		}
	i = store_slot_hash(sql, s->nslots);
	while (s->slots[i].sql != NULL) {
		if (s->slots[i].sql == sql) {
			st = s->slots[i].stmt;
			if (STORE_PG(st->pg)) {
				store_pg_reset(st->pg, 1);
				return st;
			}
			sqlite3_reset(st->lite);
			sqlite3_clear_bindings(st->lite);
			st->at = 0;
			return st;
		}
		i = (i + 1) & (s->nslots - 1);
	}
	return store_prepare(s, sql, i);
}

sqlite3_stmt *
store_stmt(struct store *s, const char *sql)
{
	struct store_stmt	*st = store_query(s, sql);

	return st != NULL ? st->lite : NULL;
}

/* A bind that failed: logged with the statement. */
static int
store_bind_rc(struct store_stmt *st, int rc, int i)
{
	if (rc == SQLITE_OK)
		return 0;
	error(0, "store: cannot bind parameter %d: %s: %s", i,
	    sqlite3_errmsg(st->s->db), st->sql);
	return -1;
}

int
store_bind_int(struct store_stmt *st, int i, long long v)
{
	if (STORE_PG(st->pg))
		return store_pg_bind_int(st->pg, i, v);
	return store_bind_rc(st, sqlite3_bind_int64(st->lite, i, v), i);
}

int
store_bind_text(struct store_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return store_bind_null(st, i);
	if (STORE_PG(st->pg))
		return store_pg_bind_text(st->pg, i, v, 0);
	return store_bind_rc(st, sqlite3_bind_text(st->lite, i, v, -1,
	    SQLITE_STATIC), i);
}

int
store_bind_text_copy(struct store_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return store_bind_null(st, i);
	if (STORE_PG(st->pg))
		return store_pg_bind_text(st->pg, i, v, 1);
	return store_bind_rc(st, sqlite3_bind_text(st->lite, i, v, -1,
	    SQLITE_TRANSIENT), i);
}

int
store_bind_null(struct store_stmt *st, int i)
{
	if (STORE_PG(st->pg))
		return store_pg_bind_text(st->pg, i, NULL, 0);
	return store_bind_rc(st, sqlite3_bind_null(st->lite, i), i);
}

static int	 store_txn_lost(struct store *);

int
store_step(struct store_stmt *st)
{
	int	 rc;

	if (STORE_PG(st->pg))
		return store_pg_step(st->pg);

	if (st->rowid && st->at > 0) {
		st->at = 2;
		return STORE_DONE;
	}
	/* after the loss a statement would commit on its own: refused */
	if (store_txn_lost(st->s))
		return STORE_ERROR;
	if (st->s->tasks == NULL)
		rc = sqlite3_step(st->lite);
	else {
		/* SQLite's step stands for a server's round trip here */
		tasks_wait_begin(st->s->tasks);
		rc = sqlite3_step(st->lite);
		tasks_wait_end(st->s->tasks);
	}
	if (rc == SQLITE_ROW)
		return STORE_ROW;
	if (rc == SQLITE_DONE) {
		/* No row inserted (ON CONFLICT DO NOTHING): no id. */
		if (st->rowid && sqlite3_changes64(st->s->db) > 0) {
			st->at = 1;
			st->id = sqlite3_last_insert_rowid(st->s->db);
			return STORE_ROW;
		}
		st->at = 2;
		return STORE_DONE;
	}
	error(0, "store: %s: %s", sqlite3_errmsg(st->s->db), st->sql);
	sqlite3_reset(st->lite);
	return STORE_ERROR;
}

/* Column i of a row made from the rowid: the id, or nothing. */
static int
store_rowid_col(struct store_stmt *st, int i)
{
	return st->at == 1 && i == 0;
}

long long
store_int(struct store_stmt *st, int i)
{
	if (STORE_PG(st->pg))
		return store_pg_int(st->pg, i);
	if (st->rowid)
		return store_rowid_col(st, i) ? st->id : 0;
	return sqlite3_column_int64(st->lite, i);
}

const char *
store_text(struct store_stmt *st, int i)
{
	if (STORE_PG(st->pg))
		return store_pg_text(st->pg, i);
	if (st->rowid) {
		if (!store_rowid_col(st, i))
			return NULL;
		snprintf(st->idtext, sizeof(st->idtext), "%lld", st->id);
		return st->idtext;
	}
	return (const char *)sqlite3_column_text(st->lite, i);
}

int
store_is_null(struct store_stmt *st, int i)
{
	if (STORE_PG(st->pg))
		return store_pg_is_null(st->pg, i);
	if (st->rowid)
		return !store_rowid_col(st, i);
	return sqlite3_column_type(st->lite, i) == SQLITE_NULL;
}

int
store_columns(struct store_stmt *st)
{
	if (STORE_PG(st->pg))
		return store_pg_columns(st->pg);
	if (st->rowid)
		return 1;
	return sqlite3_column_count(st->lite);
}

const char *
store_column_name(struct store_stmt *st, int i)
{
	if (STORE_PG(st->pg))
		return store_pg_column_name(st->pg, i);
	if (st->rowid)
		return i == 0 ? "id" : NULL;
	return sqlite3_column_name(st->lite, i);
}

void
store_done(struct store_stmt *st)
{
	if (st == NULL)
		return;
	if (STORE_PG(st->pg))
		store_pg_reset(st->pg, 0);
	else {
		sqlite3_reset(st->lite);
		st->at = 0;
	}
}

long long
store_changes(struct store *s)
{
	if (STORE_PG(s->pg))
		return store_pg_changes(s->pg);
	return sqlite3_changes64(s->db);
}

long long
store_last_id(struct store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}

const char *
store_error(struct store *s)
{
	if (STORE_PG(s->pg))
		return store_pg_error(s->pg);
	return sqlite3_errmsg(s->db);
}

const char *
store_engine(struct store *s)
{
	return STORE_PG(s->pg) ? "postgresql" : "sqlite";
}

void
store_want_retry(struct store *s)
{
	s->retry = 1;
}

int
store_retry_wanted(struct store *s)
{
	if (s->retry)
		return 1;
#ifdef HAVE_POSTGRESQL
	if (STORE_PG(s->pg))
		return store_pg_conflict(s->pg, 0);
#endif
	return 0;
}

int
store_shared(struct store *s)
{
	return STORE_PG(s->pg);
}

/* Read an integer from a one-row query with no parameters. */
static int
store_query_int(struct store *s, const char *sql, long long *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		error(0, "store: %s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		error(0, "store: %s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/*
 * Bring the core schema up to date, one step per transaction.  The version
 * is PRAGMA user_version: cheap to read, and written inside the step's own
 * transaction so a step is applied entirely or not at all.
 */
static int
store_migrate_core(struct store *s)
{
	long long	 have;
	size_t		 i;
	char		 pragma[64];

	if (store_query_int(s, "PRAGMA user_version", &have) == -1)
		return -1;
	if (have > store_schema_version()) {
		error(0, "store: %s has schema version %lld, newer than the %d "
		    "this marketbox knows; refusing to touch it (run a newer "
		    "marketbox, or restore a backup)", s->path, have,
		    store_schema_version());
		return -1;
	}
	for (i = 0; i < store_core_nmigrations; i++) {
		const struct store_migration *m = &store_core_migrations[i];

		if (m->version <= have)
			continue;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    m->version);
		if (store_exec(s, "BEGIN IMMEDIATE") == -1)
			return -1;
		if (store_exec(s, m->sql) == -1 || store_exec(s, pragma) == -1) {
			store_exec(s, "ROLLBACK");
			error(0, "store: %s: migration to version %d failed",
			    s->path, m->version);
			return -1;
		}
		if (store_exec(s, "COMMIT") == -1)
			return -1;
		if (have > 0)
			info(0, "store: %s upgraded to schema version %d",
			    s->path, m->version);
	}
	return 0;
}

int
store_migrate(struct store *s, const char *owner,
    const struct store_migration *steps, size_t n)
{
	static const char get[] =
	    "SELECT version FROM schema_versions WHERE owner = $1";
	static const char set[] =
	    "INSERT INTO schema_versions(owner, version) VALUES ($1, $2) "
	    "ON CONFLICT(owner) DO UPDATE SET version = excluded.version";
	struct store_stmt	*st;
	long long		 have = 0;
	size_t			 i;
	int			 rc;

	if (s->in_txn) {
		error(0, "store: migrations for %s asked inside a transaction",
		    owner);
		return -1;
	}
	if (STORE_PG(s->pg))
		return store_pg_migrate(s->pg, owner, steps, n);
	if ((st = store_query(s, get)) == NULL)
		return -1;
	store_bind_text(st, 1, owner);
	if ((rc = store_step(st)) == STORE_ROW)
		have = store_int(st, 0);
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (n > 0 && have > steps[n - 1].version) {
		error(0, "store: %s: the tables of %s have schema version %lld, "
		    "newer than the %d it knows; refusing them", s->path, owner,
		    have, steps[n - 1].version);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (steps[i].version <= have)
			continue;
		if (store_exec(s, "BEGIN IMMEDIATE") == -1)
			return -1;
		if (store_exec(s, steps[i].sql) == -1 ||
		    (st = store_query(s, set)) == NULL)
			goto fail;
		store_bind_text(st, 1, owner);
		store_bind_int(st, 2, steps[i].version);
		rc = store_step(st);
		store_done(st);
		if (rc != STORE_DONE)
			goto fail;
		if (store_exec(s, "COMMIT") == -1)
			goto fail;
		continue;
fail:
		store_exec(s, "ROLLBACK");
		error(0, "store: %s: migration of %s to version %d failed",
		    s->path, owner, steps[i].version);
		return -1;
	}
	return 0;
}

/*
 * One cached transaction-control statement: SQLITE_DONE, or SQLite's
 * error (SQLITE_ERROR when it cannot be prepared).  Stepped here rather
 * than with store_step(), which would log every failure: the callers say
 * what failed, and a COMMIT failing again and again is logged once.
 */
static int
store_tx_step(struct store *s, const char *sql)
{
	struct store_stmt	*st;
	int			 rc;

	if (STORE_PG(s->pg)) {
		/* store_query's check, which this path does not pass */
		if (s->tasks != NULL && store_outside_task(s, sql))
			return SQLITE_ERROR;
		return store_pg_tx(s->pg, sql) == 0 ? SQLITE_DONE : SQLITE_ERROR;
	}
	if ((st = store_query(s, sql)) == NULL)
		return SQLITE_ERROR;
	rc = sqlite3_step(st->lite);
	sqlite3_reset(st->lite);
	return rc;
}

/* Run one cached transaction-control statement.  0 or -1 (logged). */
static int
store_tx(struct store *s, const char *sql)
{
	if (STORE_PG(s->pg))
		return store_pg_tx(s->pg, sql);	/* logged there */
	if (store_tx_step(s, sql) != SQLITE_DONE) {
		error(0, "store: %s: %s: %s", s->path, sql,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/*
 * 1 if the transaction of the open group is gone.  An I/O error, a full
 * disk or no memory may make SQLite roll the whole transaction back by
 * itself (the connection is in autocommit mode again), taking with it the
 * units already released into it.  A later SAVEPOINT would then open a
 * new transaction, and the group's COMMIT could succeed with only the
 * units after the loss: the earlier ones' MOs would be acked and lost.
 * So the loss is noted once seen, the group's units all count as failed
 * and no unit begins until the group has ended.
 */
static int
store_txn_lost(struct store *s)
{
	if (STORE_PG(s->pg) || !s->in_txn)
		return 0;
	if (!s->lost && sqlite3_get_autocommit(s->db)) {
		s->lost = 1;
		error(0, "store: %s: the open transaction was rolled back "
		    "(%s): its %zu unit(s) are not stored", s->path,
		    sqlite3_errmsg(s->db), s->units);
	}
	return s->lost;
}

/*
 * The first unit of a transaction schedules its commit: at the end of this
 * loop pass, or commit-delay milliseconds later so that more units share
 * one fsync (a full batch commits at once: store_work_end).
 */
static void
store_schedule_commit(struct store *s)
{
	struct timeval	 tv;

	if (s->commit_ev == NULL)
		return;
	if (s->delay_ms <= 0) {
		event_active(s->commit_ev, 0, 0);
		return;
	}
	tv.tv_sec = s->delay_ms / 1000;
	tv.tv_usec = (s->delay_ms % 1000) * 1000;
	event_add(s->commit_ev, &tv);
}

void
store_set_commit_policy(struct store *s, int delay_ms, int batch)
{
	s->delay_ms = delay_ms;
	s->batch = batch;
}

static void
store_commit_task(void *arg)
{
	store_commit(arg);
}

static void
store_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	store_task(arg, store_commit_task, arg);
}

int
store_task(struct store *s, void (*fn)(void *), void *arg)
{
	if (s->tasks == NULL) {
		fn(arg);
		return 0;
	}
	return tasks_add(s->tasks, fn, arg);
}

int
store_use_tasks(struct store *s, struct event_base *base)
{
	if (s->tasks != NULL)
		return 0;
	if ((s->tasks = tasks_new(base)) == NULL)
		return -1;
#ifdef HAVE_POSTGRESQL
	if (STORE_PG(s->pg))
		store_pg_set_tasks(s->pg, s->tasks);
#endif
	return 0;
}

void
store_tasks_end(struct store *s)
{
	if (s == NULL || s->tasks == NULL)
		return;
	/* what is queued runs to its end first; statements after run inline */
	tasks_free(s->tasks);
	s->tasks = NULL;
#ifdef HAVE_POSTGRESQL
	if (STORE_PG(s->pg))
		store_pg_set_tasks(s->pg, NULL);
#endif
}

int
store_tasks_on(struct store *s)
{
	return s->tasks != NULL;
}

void
store_serving(struct store *s)
{
	s->serving = 1;
}

/*
 * The database and the files SQLite keeps beside it (-wal, -shm, and
 * -journal should WAL ever be off) hold every phone, name and message: each
 * is opened here first without following a link, must be a regular file
 * with one link owned by the user marketbox runs as, and is narrowed to
 * 0600.  The database is made 0600 here when new, and SQLite gives its
 * -wal and -shm the database's mode.  SQLite then opens them itself (with
 * SQLITE_OPEN_NOFOLLOW for the database); main.c has marketbox act as its
 * user by then, so a file swapped in between leads nowhere root could.
 * 0, or -1 (logged).
 */
static int
store_check_files(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char		 file[4096];
	size_t		 i;
	int		 fd;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(file, sizeof(file), "%s%s", path,
		    suffix[i]) >= sizeof(file)) {
			error(0, "store: %s: name too long", path);
			return -1;
		}
		/* The database is made here; the others may not be there. */
		fd = file_open_private(file, "store: database file",
		    O_RDWR | (i == 0 ? O_CREAT : 0), 0600);
		if (fd == -1 && errno == ENOENT && i > 0)
			continue;
		if (fd == -1)
			return -1;
		close(fd);
	}
	return 0;
}

/*
 * SQLite keeps memory statistics under a global mutex on every allocation
 * unless told not to (about 5% of the instructions per MO); marketbox
 * never reads them.  Only before SQLite initialises: later, as in a
 * program that opened a database its own way first, SQLite refuses the
 * call and nothing changes.
 */
static void
store_sqlite_config(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *
store_open(const char *path, struct event_base *base)
{
	return store_open_flags(path, base, 0);
}

struct store *
store_open_flags(const char *path, struct event_base *base, int flags)
{
	struct store	*s;
	char		*mode = NULL;
	long long	 fk = 0;
	sqlite3_stmt	*st;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		error(errno, "store: out of memory");
		free(s);
		return NULL;
	}
	if (conf_database_is_conninfo(path)) {
#ifdef HAVE_POSTGRESQL
		free(s->path);
		s->path = NULL;
		/* A reader (marketctl) takes the schema as it is. */
		if ((s->pg = store_pg_open(path, store_core_migrations,
		    flags & (STORE_READONLY | STORE_NO_MIGRATE) ? 0 :
		    store_core_nmigrations)) == NULL ||
		    (s->path = strdup(store_pg_name(s->pg))) == NULL)
			goto fail;
		if ((flags & STORE_READONLY) && store_exec(s,
		    "SET default_transaction_read_only = on") == -1)
			goto fail;
		goto loop;
#else
		/* The string is not logged: it may hold a password. */
		error(0, "store: the database is a PostgreSQL one, and this "
		    "marketbox was built without PostgreSQL (build it with "
		    "libpq: on Debian, apt-get install libpq-dev, then "
		    "configure again)");
		goto fail;
#endif
	}
	store_sqlite_config();
	if (flags & STORE_READONLY) {
		/* A reader takes the database as the daemon keeps it. */
		if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			error(0, "store: cannot open %s: %s", path,
			    s->db ? sqlite3_errmsg(s->db) : "out of memory");
			goto fail;
		}
		sqlite3_extended_result_codes(s->db, 1);
		sqlite3_busy_timeout(s->db, 5000);
		goto opened;
	}
	if (path[0] != '\0' && strcmp(path, ":memory:") != 0 &&
	    strncmp(path, "file:", 5) != 0 && store_check_files(path) == -1)
		goto fail;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
	    NULL) != SQLITE_OK) {
		error(0, "store: cannot open %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	/* journal_mode answers with the mode in force: check it took. */
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			mode = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		error(0, "store: %s: cannot use WAL mode (%s): %s", path,
		    mode ? mode : "?", sqlite3_errmsg(s->db));
		free(mode);
		goto fail;
	}
	free(mode);
	/*
	 * temp_store FILE, not MEMORY: each unit's SAVEPOINT copies every
	 * page it changes into a sub-journal, which SQLite keeps in memory
	 * either way up to 64 KiB (a unit of one MO writes about six
	 * pages), but in MEMORY mode in 1 KiB chunks, allocated and freed
	 * again for every unit: about 13% of the instructions per MO.
	 */
	if (store_exec(s, "PRAGMA synchronous = FULL") == -1 ||
	    store_exec(s, "PRAGMA temp_store = FILE") == -1 ||
	    store_exec(s, "PRAGMA foreign_keys = ON") == -1 ||
	    store_query_int(s, "PRAGMA foreign_keys", &fk) == -1 || fk != 1) {
		error(0, "store: %s: cannot set the pragmas marketbox needs",
		    path);
		goto fail;
	}
	if (!(flags & STORE_NO_MIGRATE) && store_migrate_core(s) == -1)
		goto fail;
opened:
#ifdef HAVE_POSTGRESQL
loop:
#endif
	if (base != NULL &&
	    (s->commit_ev = event_new(base, -1, 0, store_commit_cb, s)) == NULL) {
		error(0, "store: cannot create the commit event");
		goto fail;
	}
	return s;
fail:
	store_free(s);
	return NULL;
}

int
store_is_postgresql(const char *path)
{
	return conf_database_is_conninfo(path);
}

int
store_backup_name(const char *name)
{
	static const char form[] = "marketbox-########T######Z.db";
	size_t		  i;

	if (strlen(name) != sizeof(form) - 1)
		return 0;
	for (i = 0; form[i] != '\0'; i++)
		if (form[i] == '#' ? name[i] < '0' || name[i] > '9' :
		    name[i] != form[i])
			return 0;
	return 1;
}

int
store_check(const char *path)
{
	if (!conf_database_is_conninfo(path))
		return 0;
#ifdef HAVE_POSTGRESQL
	return store_pg_check(path, store_schema_version());
#else
	error(0, "store: the database is a PostgreSQL one, and this "
	    "marketbox was built without PostgreSQL (build it with libpq: on "
	    "Debian, apt-get install libpq-dev, then configure again)");
	return -1;
#endif
}

static void
store_run_callbacks(struct store *s, int ok)
{
	struct store_callback	*cbs = s->cbs;
	size_t			 n = s->ncbs, i;

	/* Callbacks may register work for the next transaction. */
	s->cbs = NULL;
	s->ncbs = s->cbcap = 0;
	for (i = 0; i < n; i++)
		cbs[i].cb(cbs[i].arg, ok);
	free(cbs);
}

void
store_free(struct store *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	store_tasks_end(s);
	if (s->in_txn)
		store_commit(s);
	if (s->ncbs > 0)
		store_run_callbacks(s, 1);
	if (s->commit_ev != NULL)
		event_free(s->commit_ev);
	for (i = 0; i < s->nslots; i++)
		store_stmt_free(s->slots[i].stmt);
	free(s->slots);
	if (STORE_PG(s->pg))
		store_pg_free(s->pg);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		error(0, "store: %s: close: %s", s->path, sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

int
store_work_begin(struct store *s)
{
	if (s->tasks != NULL && store_outside_task(s, "(a unit of work)"))
		return -1;
	if (s->in_work) {
		error(0, "store: nested unit of work");
		return -1;
	}
	s->retry = 0;
#ifdef HAVE_POSTGRESQL
	if (STORE_PG(s->pg))
		store_pg_conflict(s->pg, 1);
#endif
	if (!s->in_txn) {
		if (store_tx(s, store_sql_begin) == -1)
			return -1;
		s->in_txn = 1;
		s->lost = 0;
		store_schedule_commit(s);
	}
	/* nothing begins in a group already lost: it ends first */
	if (store_txn_lost(s)) {
		if (s->commit_ev != NULL)
			event_active(s->commit_ev, 0, 0);
		return -1;
	}
	if (store_tx(s, store_sql_savepoint) == -1) {
		store_txn_lost(s);
		return -1;
	}
	s->in_work = 1;
	return 0;
}

int
store_work_end(struct store *s, int ok)
{
	int	 rc = 0;

	if (!s->in_work)
		return -1;
	if (s->tasks != NULL && store_outside_task(s, "(a unit's end)"))
		return -1;
	s->in_work = 0;
	if (!ok) {
		if (store_txn_lost(s))
			return 0;	/* nothing of the unit is left */
		rc = store_tx(s, store_sql_rollback_to);
		if (store_tx(s, store_sql_release) == -1)
			rc = -1;
		store_txn_lost(s);
		return rc == 0 ? 0 : -1;
	}
	s->units++;
	/* A full batch commits at the end of this pass, delay or not. */
	if (s->batch > 0 && s->units >= (size_t)s->batch &&
	    s->commit_ev != NULL)
		event_active(s->commit_ev, 0, 0);
	rc = store_tx(s, store_sql_release);
	if (store_txn_lost(s))
		rc = -1;
	return rc;
}

int
store_on_commit(struct store *s, void (*cb)(void *, int), void *arg)
{
	if (s->ncbs == s->cbcap) {
		size_t			 n = s->cbcap ? s->cbcap * 2 : 128;
		struct store_callback	*c;

		if ((c = realloc(s->cbs, n * sizeof(*c))) == NULL) {
			error(errno, "store: out of memory");
			return -1;
		}
		s->cbs = c;
		s->cbcap = n;
	}
	s->cbs[s->ncbs].cb = cb;
	s->cbs[s->ncbs].arg = arg;
	s->ncbs++;
	/* With nothing open, the callbacks still run at the end of the pass. */
	if (!s->in_txn && s->commit_ev != NULL)
		event_active(s->commit_ev, 0, 0);
	return 0;
}

/*
 * The bounds of the commit times' buckets, in seconds and, for the hot
 * path, in microseconds: a COMMIT of a WAL database that fsyncs takes
 * about a millisecond on an SSD, tens on a disk or a busy server; half
 * a second is trouble.
 */
const double store_commit_bounds[STORE_COMMIT_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
	INFINITY
};
static const long long store_commit_bounds_us[STORE_COMMIT_BUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000
};

void
store_commit_note(struct store *s, long long us)
{
	size_t	 i;

	for (i = 0; i < STORE_COMMIT_BUCKETS - 1 &&
	    us > store_commit_bounds_us[i]; i++)
		;
	s->commit_bucket[i]++;
	s->commit_us += us > 0 ? (unsigned long long)us : 0;
}

void
store_commit_times(struct store *s, struct store_commit_times *t)
{
	unsigned long long	 n = 0;
	size_t			 i;

	for (i = 0; i < STORE_COMMIT_BUCKETS; i++) {
		n += s->commit_bucket[i];
		t->le[i] = n;
	}
	t->count = n;
	t->sum_us = s->commit_us;
}

/* Microseconds on the monotonic clock, for the commit times. */
static long long
store_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The group's COMMIT, its time noted when it succeeds: two clock reads
 * and a few adds, on the path every MO waits on. */
static int
store_commit_timed(struct store *s)
{
	long long	 t0 = store_now_us();
	int		 rc;

	if ((rc = store_tx_step(s, store_sql_commit)) == SQLITE_DONE)
		store_commit_note(s, store_now_us() - t0);
	return rc;
}

int
store_commit(struct store *s)
{
	int	 ok = 1;

	/* a task's transaction is the task's to end */
	if (s->tasks != NULL && store_outside_task(s, "(a commit)"))
		return -1;

	if (s->in_work) {
		/* A unit left open is a bug in its caller: it does not commit. */
		error(0, "store: commit with a unit of work open; rolling it back");
		store_work_end(s, 0);
	}
	if (s->commit_ev != NULL)
		event_del(s->commit_ev);
	if (s->in_txn) {
		if (store_txn_lost(s)) {
			/* a SAVEPOINT after the loss may have opened one */
			ok = 0;
			if (!sqlite3_get_autocommit(s->db))
				store_exec(s, "ROLLBACK");
		} else if (store_commit_timed(s) != SQLITE_DONE) {
			ok = 0;
			/*
			 * One line when commits start failing (a full disk
			 * fails every probe the link makes), one when they
			 * succeed again; the failures between at debug level.
			 */
			if (s->failing++ == 0)
				error(0, "store: %s: COMMIT: %s: %zu units rolled "
				    "back (further failures are logged at debug "
				    "level until a commit succeeds)", s->path,
				    store_error(s), s->units);
			else
				debug("mb.store", 0, "store: %s: COMMIT: %s: "
				    "%zu units rolled back (%lu failures in a "
				    "row)", s->path, store_error(s),
				    s->units, s->failing);
			/* PostgreSQL's failed COMMIT leaves nothing open. */
			if (!STORE_PG(s->pg) && !sqlite3_get_autocommit(s->db))
				store_exec(s, "ROLLBACK");
		} else {
			if (s->failing > 0) {
				info(0, "store: %s: commits succeed again, after "
				    "%lu failed", s->path, s->failing);
				s->failing = 0;
			}
			s->commits++;
			s->total_units += s->units;
		}
		s->in_txn = 0;
		s->lost = 0;
		s->units = 0;
	}
	if (s->ncbs > 0)
		store_run_callbacks(s, ok);
	return ok ? 0 : -1;
}

size_t
store_pending(struct store *s)
{
	return s->in_txn ? s->units : 0;
}

void
store_stats(struct store *s, unsigned long long *commits,
    unsigned long long *units)
{
	*commits = s->commits;
	*units = s->total_units;
}
