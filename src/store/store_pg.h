/*
 * store_pg.h - the PostgreSQL side of the store (store_pg.c), for store.c
 * only: store.c keeps the SQLite side, the statement cache and group
 * commit, and hands a PostgreSQL store's work to these functions.
 *
 * A statement is prepared once per connection (named "mb<N>", prepared
 * again after a reconnect), its parameters are sent as text and its rows
 * come back as text.  A lost connection fails the statement (STORE_ERROR,
 * as a SQLite I/O error does) and is made again on the next use, at most
 * every 250 ms doubling to 8 s.
 */
#ifndef MARKETBOX_STORE_PG_H
#define MARKETBOX_STORE_PG_H

#include <stddef.h>
#include <string.h>

#include "store/store.h"

struct store_pg;
struct store_pg_stmt;

/*
 * Connect to conninfo and bring the core schema (steps, in order) up to
 * date under the migrations' advisory lock.  NULL, logged, on failure.
 */
struct store_pg	*store_pg_open(const char *conninfo,
		    const struct store_migration *steps, size_t n);
void		 store_pg_free(struct store_pg *);
/* Round trips made by a task let the loop run meanwhile (task.h). */
struct tasks;
void		 store_pg_set_tasks(struct store_pg *, struct tasks *);
/* store_check(): reachable, and the core's version not above want. */
int		 store_pg_check(const char *conninfo, int want);
/* The database as logs name it: no password. */
const char	*store_pg_name(struct store_pg *);

struct store_pg_stmt *store_pg_prepare(struct store_pg *, const char *sql);
void		 store_pg_stmt_free(struct store_pg_stmt *);
/* Result let go and (clear != 0) parameters unbound. */
void		 store_pg_reset(struct store_pg_stmt *, int clear);
int		 store_pg_bind_int(struct store_pg_stmt *, int i, long long v);
int		 store_pg_bind_text(struct store_pg_stmt *, int i,
		    const char *v, int copy);
int		 store_pg_step(struct store_pg_stmt *);
long long	 store_pg_int(struct store_pg_stmt *, int i);
const char	*store_pg_text(struct store_pg_stmt *, int i);
int		 store_pg_is_null(struct store_pg_stmt *, int i);
int		 store_pg_columns(struct store_pg_stmt *);
const char	*store_pg_column_name(struct store_pg_stmt *, int i);

long long	 store_pg_changes(struct store_pg *);
const char	*store_pg_error(struct store_pg *);
/* Whether the last failure was a conflict with another session (a
 * deadlock, a serialization or lock failure); clear forgets it. */
int		 store_pg_conflict(struct store_pg *, int clear);
int		 store_pg_exec(struct store_pg *, const char *sql);
int		 store_pg_migrate(struct store_pg *, const char *owner,
		    const struct store_migration *, size_t n);
/*
 * One of group commit's statements, as store.c writes them for SQLite
 * ("BEGIN IMMEDIATE", "SAVEPOINT work", "RELEASE work", "ROLLBACK TO work",
 * "COMMIT").  0, or -1 (logged); a COMMIT that fails leaves no transaction
 * open.
 */
int		 store_pg_tx(struct store_pg *, const char *sql);

#endif
