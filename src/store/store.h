/*
 * store.h - the SQLite database: opening, schema migrations, the cache of
 * prepared statements, and group commit.
 *
 * One store per daemon, used from the event loop's thread only.  All work
 * that arrives while a transaction is open runs inside it, and it is
 * committed once: at the end of the loop pass, or after a short delay or a
 * full batch (store_set_commit_policy), so that durability costs one fsync
 * per batch instead of one per message.  Each unit
 * of work (one MO and all its effects) runs inside its own SAVEPOINT, so a
 * failing unit is rolled back alone.  Whoever must not act before the work is
 * durable (the bearerbox link, before it acks an MO) registers a callback
 * that runs after the COMMIT, told whether it succeeded.
 *
 * The store knows nothing of SMS: modules keep their SQL beside their logic
 * and run it through store_stmt(), with every value bound.
 */
#ifndef MARKETBOX_STORE_H
#define MARKETBOX_STORE_H

#include <stddef.h>
#include <sqlite3.h>

struct event_base;
struct store;

/*
 * One schema step: applied once, in one transaction, in order.  On
 * PostgreSQL, sql_pg runs instead of sql when the DDL must differ
 * (identity columns, BIGINT times); NULL: sql runs on both.
 */
struct store_migration {
	int		 version;	/* 1, 2, 3 ... with no gaps */
	const char	*sql;		/* one or more statements */
	const char	*sql_pg;	/* PostgreSQL's, or NULL */
};

/* The version the core schema has after all of schema.c's migrations. */
int		 store_schema_version(void);

/*
 * Open the database path names: a PostgreSQL database for a libpq URI
 * ("postgresql://...", "postgres://...") or keyword string ("host=...
 * dbname=..."), else a SQLite file.
 *
 * SQLite: open (creating if needed) the database at path, set WAL mode,
 * synchronous=FULL, foreign keys and a busy timeout, and apply the core
 * migrations.  base is the loop that runs group commits; it may be NULL, and
 * then the caller commits with store_commit().  Returns NULL (with the cause
 * logged) on failure, including a database whose schema is newer than this
 * program knows.  PostgreSQL: connect, and apply the core migrations
 * under an advisory lock (several instances starting at once migrate
 * once); the core's version is schema_versions' row "core".  A lost
 * connection fails statements (STORE_ERROR) and is made again on a later
 * use, with backoff.
 */
struct store	*store_open(const char *path, struct event_base *base);

/*
 * store_open() with flags.  STORE_READONLY opens the database as it is,
 * for reading only (marketctl): nothing is created, no file is narrowed
 * or checked for its owner, no pragma is set, no migration runs (on
 * PostgreSQL the session's transactions are read-only).
 * STORE_NO_MIGRATE leaves the schema at the version it has.  0 is
 * store_open().
 */
#define STORE_READONLY		0x01
#define STORE_NO_MIGRATE	0x02
struct store	*store_open_flags(const char *path, struct event_base *base,
		    int flags);
void		 store_free(struct store *);

/*
 * marketbox -n: for a PostgreSQL database, that it can be reached and
 * that its core schema is not newer than this program knows (an older one
 * is upgraded at start: logged).  Nothing is changed.  A SQLite
 * file is not opened (0).  0, or -1 with the cause logged.
 */
int		 store_check(const char *path);

/* Whether a database string names a PostgreSQL database (see store_open). */
int		 store_is_postgresql(const char *path);

/*
 * Whether name is a backup's, marketbox-YYYYMMDDTHHMMSSZ.db: the files
 * marketctl backup writes into a directory and rotates, and whose newest
 * /metrics reports.
 */
int		 store_backup_name(const char *name);

/* The SQLite handle, for SQLite's own tools (marketctl's copy, tests);
 * NULL on PostgreSQL. */
sqlite3		*store_db(struct store *);

/*
 * Apply an owner's own migrations (a plugin's tables) recorded in the
 * schema_versions table under owner.  Each step runs in its own transaction.
 * Must be called outside group-commit work.  Returns 0, or -1 with the
 * cause logged (a newer schema than the steps know is refused).
 */
int		 store_migrate(struct store *, const char *owner,
		    const struct store_migration *, size_t n);

/*
 * The prepared statement for sql, prepared on first use and cached for the
 * life of the store.  sql must be a string that lives as long as the store
 * (a literal): the cache is keyed on its address.  The statement returned
 * is reset with bindings cleared.  NULL (logged) if sql does not prepare.
 */
sqlite3_stmt	*store_stmt(struct store *, const char *sql);

/*
 * Statements, whichever engine holds the data.  SQL is written once for
 * both: parameters are $1, $2 ... (the same number may appear twice), times
 * are integers, conflicts are ON CONFLICT, new ids come back with RETURNING.
 *
 *	st = store_query(s, "SELECT name FROM users WHERE msisdn = $1");
 *	store_bind_text(st, 1, msisdn);
 *	while ((rc = store_step(st)) == STORE_ROW)
 *		use(store_text(st, 0));
 *	store_done(st);
 *	if (rc != STORE_DONE)
 *		return -1;	(the cause is logged)
 *
 * store_query() returns the statement for sql, prepared on first use and
 * cached for the life of the store: sql must live as long as the store (a
 * literal), the cache is keyed on its address.  It comes back reset, with
 * its bindings cleared; NULL (logged) when sql does not prepare.
 */
struct store_stmt;

#define STORE_ROW	1	/* a row is there to read */
#define STORE_DONE	0	/* no (more) rows; the statement ran */
#define STORE_ERROR	(-1)	/* failed: logged, with the statement */

struct store_stmt *store_query(struct store *, const char *sql);
/*
 * Bind parameter i (1, 2 ...).  store_bind_text() keeps the pointer: the
 * string must stay as it is until the statement is stepped; NULL binds NULL.
 * store_bind_text_copy() copies it.  0, or -1 (logged).
 */
int		 store_bind_int(struct store_stmt *, int i, long long v);
int		 store_bind_text(struct store_stmt *, int i, const char *v);
int		 store_bind_text_copy(struct store_stmt *, int i,
		    const char *v);
int		 store_bind_null(struct store_stmt *, int i);
/* The next row: STORE_ROW, STORE_DONE, or STORE_ERROR (logged). */
int		 store_step(struct store_stmt *);
/*
 * Column i (0, 1 ...) of the row stepped to: an integer (0 for NULL), text
 * (NULL for NULL; valid until the next step or store_done()), whether it is
 * NULL.  store_columns() and store_column_name() describe a result.
 */
long long	 store_int(struct store_stmt *, int i);
const char	*store_text(struct store_stmt *, int i);
int		 store_is_null(struct store_stmt *, int i);
int		 store_columns(struct store_stmt *);
const char	*store_column_name(struct store_stmt *, int i);
/* Finished with the rows: locks and results are let go. */
void		 store_done(struct store_stmt *);
/* Rows the last INSERT, UPDATE or DELETE changed. */
long long	 store_changes(struct store *);
/* The id the last INSERT gave its row (its identity column's value). */
long long	 store_last_id(struct store *);
/* The engine's last error message, for a caller's own log line. */
const char	*store_error(struct store *);
/* The engine's name, "sqlite" or "postgresql". */
const char	*store_engine(struct store *);
/*
 * Whether other marketbox instances may use the same database at once
 * (PostgreSQL).  Then the outbox claims its rows, timers claim their
 * runs, the USSD cache is checked against the rows and the repeat window
 * is kept in the database.  A SQLite file has one marketbox.
 */
int		 store_shared(struct store *);

/*
 * Whether the unit of work that failed may succeed if it runs again at
 * once: another instance held what it needed (on PostgreSQL a deadlock,
 * a serialization or a lock failure), or a module said so with
 * store_want_retry() (a row another instance moved on since it was
 * read).  Both are forgotten when the next unit begins.
 */
int		 store_retry_wanted(struct store *);
void		 store_want_retry(struct store *);

/* Run statements with no parameters and no results.  0 or -1 (logged). */
int		 store_exec(struct store *, const char *sql);

/*
 * Group commit.  store_work_begin() opens the pass's transaction if none is
 * open and a savepoint for this unit of work; store_work_end() releases the
 * savepoint (ok != 0) or rolls the unit back (ok == 0).  Returns 0 or -1.
 * Units may not nest.
 */
int		 store_work_begin(struct store *);
int		 store_work_end(struct store *, int ok);

/*
 * Call cb(arg, ok) once the transaction now open (or, if none is open, the
 * next one) has committed (ok = 1) or failed and been rolled back (ok = 0).
 * Callbacks run in the order they were registered.
 */
int		 store_on_commit(struct store *, void (*cb)(void *, int),
		    void *arg);

/*
 * Commit the open transaction now and run the callbacks.  Returns 0 if it
 * committed (or nothing was open), -1 if it failed and was rolled back.
 * With a loop, this runs by itself (see store_set_commit_policy).
 */
int		 store_commit(struct store *);

/*
 * When the open transaction commits: delay_ms after its first unit (0: at
 * the end of the loop pass it began in), or as soon as it holds batch
 * units (0: no limit).  Default 0, 0.
 */
void		 store_set_commit_policy(struct store *, int delay_ms,
		    int batch);

/*
 * Store work from the loop.  With a database server the store runs its
 * statements on a task thread (task.h) so that the loop goes on while one
 * waits for its answer; then everything that runs statements once
 * marketbox serves must be a task: store_task() runs fn(arg) as one.
 * Without the thread (SQLite, unless store_use_tasks() was called: tests
 * run SQLite that way to prove every path is a task) fn runs at once.
 * Either way fn may run after store_task() returns: a caller continues in
 * fn, not after the call.  0, or -1 (logged; fn has not run).
 */
int		 store_task(struct store *, void (*fn)(void *), void *arg);
/* Start the task thread (see above).  0 or -1 (logged). */
int		 store_use_tasks(struct store *, struct event_base *);
/*
 * Run the queued tasks to their end (their waits included, the loop not
 * running) and stop the task thread: from then on store_task() runs fn at
 * once.  Before the objects that tasks use are freed, at shutdown.
 */
void		 store_tasks_end(struct store *);
/* 1 when the store runs its work on a task thread. */
int		 store_tasks_on(struct store *);
/*
 * Start-up is over: from now on a statement run by the loop's thread
 * rather than a task is an error in marketbox, logged with its SQL.
 */
void		 store_serving(struct store *);

/* Units of work in the open transaction (0 when none is open). */
size_t		 store_pending(struct store *);

/* Commits done, and the units they carried, since open. */
void		 store_stats(struct store *, unsigned long long *commits,
		    unsigned long long *units);

/*
 * The times the successful COMMITs took (their statement only, on the
 * monotonic clock), since open, as a histogram: le[i] counts the commits
 * that took at most store_commit_bounds[i] seconds (cumulative, as
 * Prometheus has its buckets; the last bound is +Inf, so le of it is
 * count), sum_us their total in microseconds.  store_commit_note adds
 * one commit of us microseconds (store_commit's own; tests give it
 * made-up times).
 */
#define STORE_COMMIT_BUCKETS	12	/* the +Inf one included */
extern const double store_commit_bounds[STORE_COMMIT_BUCKETS];
struct store_commit_times {
	unsigned long long	 le[STORE_COMMIT_BUCKETS];
	unsigned long long	 count, sum_us;
};
void		 store_commit_times(struct store *,
		    struct store_commit_times *);
void		 store_commit_note(struct store *, long long us);

#endif
