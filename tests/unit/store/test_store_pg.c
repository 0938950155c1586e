/*
 * test_store_pg.c - store.c on PostgreSQL (store_pg.c), on the test server
 * (MB_TEST_PG; a database per test): the statement interface, group commit
 * with savepoints, the core migrations and a plugin's, two stores
 * migrating at once, and a connection the server kills.
 */
#include "config.h"

#include <sys/wait.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "store/store.h"

#include <event2/event.h>

#include "pg_fixture.h"

static const char	*db;

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	db = pg_fixture_create("store_pg");
}

static void
teardown(void)
{
	pg_fixture_drop();
	gwlib_shutdown();
}

TestSuite(store_pg, .init = setup, .fini = teardown);

/* One integer from the store itself. */
static long long
one(struct store *s, const char *sql)
{
	struct store_stmt	*st = store_query(s, sql);
	long long		 v = -1;

	cr_assert_not_null(st, "%s", sql);
	if (store_step(st) == STORE_ROW)
		v = store_int(st, 0);
	store_done(st);
	return v;
}

Test(store_pg, opens_postgresql_for_a_conninfo)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	cr_assert_str_eq(store_engine(s), "postgresql");
	cr_assert_null(store_db(s));
	store_free(s);
}

Test(store_pg, parameters_in_any_order_and_twice)
{
	static const char sql[] = "SELECT $2 || '-' || $1, $1 || $1";
	struct store		*s = store_open(db, NULL);
	struct store_stmt	*st;

	cr_assert_not_null(s);
	cr_assert_not_null(st = store_query(s, sql));
	cr_assert_eq(store_columns(st), 2);
	cr_assert_eq(store_bind_text(st, 1, "a"), 0);
	cr_assert_eq(store_bind_text_copy(st, 2, "b"), 0);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_str_eq(store_text(st, 0), "b-a");
	cr_assert_str_eq(store_text(st, 1), "aa");
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	/* The cache: the same statement, bindings cleared (NULL || x). */
	cr_assert_eq(store_query(s, sql), st);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert(store_is_null(st, 0));
	cr_assert_null(store_text(st, 0));
	store_done(st);
	cr_assert_eq(store_bind_int(st, 3, 1), -1);
	cr_assert_null(store_query(s, "SELEKT nonsense"));
	store_free(s);
}

/* Integers bound in decimal, the extremes and zero included. */
Test(store_pg, integers_round_trip)
{
	static const long long v[] = { 0, 7, -1, 10, -4096, 1234567890123LL,
	    LLONG_MAX, LLONG_MIN };
	struct store		*s = store_open(db, NULL);
	struct store_stmt	*st;
	size_t			 i;

	cr_assert_not_null(s);
	cr_assert_not_null(st = store_query(s, "SELECT $1::bigint, "
	    "$1::text"));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char	 want[32];

		cr_assert_eq(store_bind_int(st, 1, v[i]), 0);
		cr_assert_eq(store_step(st), STORE_ROW);
		cr_assert_eq(store_int(st, 0), v[i]);
		snprintf(want, sizeof(want), "%lld", v[i]);
		cr_assert_str_eq(store_text(st, 1), want);
		cr_assert_eq(store_step(st), STORE_DONE);
	}
	store_done(st);
	store_free(s);
}

Test(store_pg, null_round_trip_returning_and_changes)
{
	static const char ins[] =
	    "INSERT INTO users(msisdn, name, created, updated) "
	    "VALUES ($1, $2, $3, $3) RETURNING id";
	static const char get[] =
	    "SELECT name, created, updated, opt_out = 0 FROM users "
	    "WHERE id = $1";
	static const char upd[] = "UPDATE users SET market = $1";
	struct store		*s = store_open(db, NULL);
	struct store_stmt	*st;
	long long		 id1, id2;

	cr_assert_not_null(s);
	cr_assert_not_null(st = store_query(s, ins));
	store_bind_text(st, 1, "+254700000001");
	store_bind_null(st, 2);
	store_bind_int(st, 3, 1700000000123LL);
	cr_assert_eq(store_step(st), STORE_ROW);
	id1 = store_int(st, 0);
	store_done(st);
	cr_assert_eq(store_changes(s), 1);
	st = store_query(s, ins);
	store_bind_text(st, 1, "+254700000002");
	store_bind_text(st, 2, "Wanjiru");
	store_bind_int(st, 3, 5);
	cr_assert_eq(store_step(st), STORE_ROW);
	id2 = store_int(st, 0);
	store_done(st);
	cr_assert_gt(id2, id1);

	cr_assert_not_null(st = store_query(s, get));
	store_bind_int(st, 1, id1);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert(store_is_null(st, 0));
	cr_assert_null(store_text(st, 0));
	cr_assert_eq(store_int(st, 1), 1700000000123LL);
	cr_assert_eq(store_int(st, 3), 1);		/* a boolean, as 1 */
	cr_assert_str_eq(store_column_name(st, 1), "created");
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	/* A SELECT leaves the count of the last change alone. */
	cr_assert_eq(store_changes(s), 1);

	cr_assert_not_null(st = store_query(s, upd));
	store_bind_text(st, 1, "nakuru");
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	cr_assert_eq(store_changes(s), 2);
	store_free(s);
}

Test(store_pg, constraint_violation_is_an_error)
{
	static const char ins[] =
	    "INSERT INTO users(msisdn, created, updated) VALUES ($1, 1, 1)";
	struct store		*s = store_open(db, NULL);
	struct store_stmt	*st;

	cr_assert_not_null(s);
	st = store_query(s, ins);
	store_bind_text(st, 1, "+254700000001");
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	st = store_query(s, ins);
	store_bind_text(st, 1, "+254700000001");
	cr_assert_eq(store_step(st), STORE_ERROR);
	store_done(st);
	cr_assert_not_null(strstr(store_error(s), "duplicate"), "%s",
	    store_error(s));
	/* Outside a transaction nothing is left aborted. */
	cr_assert_eq(one(s, "SELECT count(*) FROM users"), 1);
	store_free(s);
}

static int	told[8], ntold;

static void
tell(void *arg, int ok)
{
	(void)arg;
	if (ntold < 8)
		told[ntold++] = ok;
}

static int
add(struct store *s, const char *msisdn)
{
	static const char ins[] =
	    "INSERT INTO users(msisdn, created, updated) VALUES ($1, 1, 1)";
	struct store_stmt	*st = store_query(s, ins);
	int			 rc;

	cr_assert_not_null(st);
	store_bind_text(st, 1, msisdn);
	rc = store_step(st);
	store_done(st);
	return rc;
}

Test(store_pg, group_commit_rolls_back_a_failed_unit_alone)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	ntold = 0;
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);

	/* The second unit's second statement fails: the unit goes, alone. */
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+2"), STORE_DONE);
	cr_assert_eq(add(s, "+1"), STORE_ERROR);
	cr_assert_eq(store_work_end(s, 0), 0);

	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+3"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_pending(s), 2);
	/* Not visible to others before the COMMIT. */
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(ntold, 2);
	cr_assert(told[0] && told[1]);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 2);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users WHERE "
	    "msisdn = '+2'"), 0);
	store_free(s);
}

Test(store_pg, a_failure_outside_a_unit_fails_the_commit)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	ntold = 0;
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	/* Inside the transaction, outside a unit: the transaction is gone. */
	cr_assert_eq(add(s, "+1"), STORE_ERROR);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+2"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), -1);
	cr_assert_eq(ntold, 1);
	cr_assert_eq(told[0], 0);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 0);
	/* The next transaction works. */
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+3"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 1);
	store_free(s);
}

/*
 * BEGIN and a unit's SAVEPOINT go to the server with the unit's first
 * statement, in one round trip: when that statement fails, the unit is
 * rolled back to its savepoint, alone; a unit that sent nothing needs
 * no round trip to begin, end or roll back.
 */
Test(store_pg, a_failure_in_the_statement_that_carried_the_savepoint)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	ntold = 0;
	cr_assert_eq(add(s, "+1"), STORE_DONE);		/* no transaction */
	cr_assert_eq(store_work_begin(s), 0);		/* nothing sent */
	cr_assert_eq(store_work_end(s, 0), 0);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_work_begin(s), 0);
	/* BEGIN, SAVEPOINT and this INSERT in one pipeline: it fails */
	cr_assert_eq(add(s, "+1"), STORE_ERROR);
	cr_assert_not_null(strstr(store_error(s), "duplicate"), "%s",
	    store_error(s));
	cr_assert_eq(store_work_end(s, 0), 0);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+2"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(ntold, 1);
	cr_assert(told[0]);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 2);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users WHERE "
	    "msisdn = '+2'"), 1);
	store_free(s);
}

/*
 * A statement that does not prepare (a plugin's SQL PostgreSQL refuses),
 * met in a unit whose SAVEPOINT is still to be sent: a failed prepare
 * aborts the server's transaction, so the savepoint must be there first;
 * the unit is rolled back alone and the units before it commit.
 */
Test(store_pg, a_statement_that_does_not_prepare_fails_its_unit_alone)
{
	static const char bad[] = "SELEC 1";
	struct store		*s = store_open(db, NULL);
	struct store_stmt	*st;

	cr_assert_not_null(s);
	ntold = 0;
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_work_begin(s), 0);
	st = store_query(s, bad);
	if (st != NULL) {
		cr_assert_eq(store_step(st), STORE_ERROR);
		store_done(st);
	}
	cr_assert_eq(store_work_end(s, 0), 0);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+2"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(ntold, 1);
	cr_assert(told[0]);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 2);
	store_free(s);
}

/*
 * A unit's RELEASE goes with the next unit's SAVEPOINT and first
 * statement: that statement failing rolls back its own unit, not the one
 * released before it.
 */
Test(store_pg, a_failure_right_after_a_deferred_release)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	ntold = 0;
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);		/* RELEASE owed */
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_ERROR);	/* RELEASE, SAVEPOINT, it */
	cr_assert_eq(store_work_end(s, 0), 0);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+3"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(ntold, 2);
	cr_assert(told[0] && told[1]);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users WHERE "
	    "msisdn IN ('+1', '+3')"), 2);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 2);
	store_free(s);
}

/*
 * A deferred RELEASE that fails (its unit's statement failed, and its
 * caller ended it as a success all the same) fails the statement it was
 * sent with and loses the transaction, as a failure outside a unit does;
 * the COMMIT, which needs no RELEASE before it, fails likewise when the
 * last unit is such a one.
 */
Test(store_pg, a_failed_deferred_release_loses_the_transaction)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	ntold = 0;
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_ERROR);
	cr_assert_eq(store_work_end(s, 1), 0);		/* wrongly: ok */
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+3"), STORE_ERROR);	/* its RELEASE failed */
	cr_assert_eq(store_work_end(s, 0), 0);
	cr_assert_eq(store_commit(s), -1);
	cr_assert_eq(ntold, 1);
	cr_assert_eq(told[0], 0);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 0);

	/* The same unit last: the COMMIT itself fails. */
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_ERROR);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), -1);
	cr_assert_eq(ntold, 2);
	cr_assert_eq(told[1], 0);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 0);

	/* And the next transaction works. */
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+4"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 1);
	store_free(s);
}

/*
 * The COMMIT after a unit carries its RELEASE: none is sent, the unit is
 * committed, and the transaction's savepoint does not outlive it.
 */
Test(store_pg, a_commit_that_carries_the_release)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	ntold = 0;
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(ntold, 1);
	cr_assert(told[0]);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 1);
	/* Outside a transaction now: a statement that fails aborts nothing. */
	cr_assert_eq(add(s, "+1"), STORE_ERROR);
	cr_assert_eq(add(s, "+2"), STORE_DONE);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 2);
	store_free(s);
}

/*
 * The connection dies between a unit's begin and its first statement,
 * which goes in one pipeline with the last unit's RELEASE, BEGIN's
 * SAVEPOINT: the statement fails, the transaction is lost and its
 * callbacks told, and the next unit reconnects.
 */
Test(store_pg, a_connection_lost_mid_pipeline)
{
	struct store	*s = store_open(db, NULL);
	long long	 backend;
	char		 sql[128];

	cr_assert_not_null(s);
	ntold = 0;
	backend = one(s, "SELECT pg_backend_pid()");
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_work_begin(s), 0);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)",
	    backend);
	cr_assert_eq(pg_fixture_query(sql), 1);
	usleep(100000);
	cr_assert_eq(add(s, "+2"), STORE_ERROR);
	cr_assert_eq(store_work_end(s, 0), 0);
	cr_assert_eq(store_commit(s), -1);
	cr_assert_eq(ntold, 1);
	cr_assert_eq(told[0], 0);

	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+3"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_neq(one(s, "SELECT pg_backend_pid()"), backend);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 1);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users WHERE "
	    "msisdn = '+3'"), 1);
	store_free(s);
}

/*
 * A connection the server ended while idle is noticed when a unit
 * begins (BEGIN makes no round trip of its own any more): the unit is
 * refused, and the next one reconnects.
 */
Test(store_pg, a_connection_ended_while_idle_refuses_the_next_unit)
{
	struct store	*s = store_open(db, NULL);
	long long	 backend;
	char		 sql[128];

	cr_assert_not_null(s);
	backend = one(s, "SELECT pg_backend_pid()");
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)",
	    backend);
	cr_assert_eq(pg_fixture_query(sql), 1);
	usleep(100000);
	cr_assert_eq(store_work_begin(s), -1);
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+1"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 1);
	store_free(s);
}

Test(store_pg, core_migrations_reach_the_schema_version_once)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(one(s, "SELECT version FROM schema_versions WHERE "
	    "owner = 'core'"), store_schema_version());
	/* The end state of steps 5 and 6: no kannel_id unique, no indexes
	 * of phones; refs, ussd_sessions and questions there. */
	cr_assert_eq(store_exec(s, "INSERT INTO inbox(kannel_id, channel, "
	    "sender, receiver, text, coding, received, state) VALUES ('k', "
	    "'box', '+1', '777', 'x', 0, 1, 'done');"
	    "INSERT INTO outbox(kind, sender, receiver, text, coding, state, "
	    "next_attempt, kannel_id, created) VALUES ('reply', '777', '+1', "
	    "'a', 0, 'sent', 0, 'same', 1), ('reply', '777', '+1', 'b', 0, "
	    "'sent', 0, 'same', 1)"), 0);
	cr_assert_eq(one(s, "SELECT to_regclass('inbox_sender') IS NULL AND "
	    "to_regclass('outbox_receiver') IS NULL AND "
	    "to_regclass('outbox_due') IS NOT NULL"), 1);
	cr_assert_eq(one(s, "SELECT count(*) FROM refs"), 0);
	cr_assert_eq(one(s, "SELECT count(*) FROM ussd_sessions"), 0);
	cr_assert_eq(one(s, "SELECT count(*) FROM questions"), 0);
	store_free(s);
	/* A second open finds every step done (step 1 again would fail). */
	cr_assert_not_null(s = store_open(db, NULL));
	cr_assert_eq(one(s, "SELECT count(*) FROM outbox"), 2);
	store_free(s);
}

Test(store_pg, a_newer_core_schema_is_refused)
{
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_exec(s, "UPDATE schema_versions SET version = "
	    "version + 1 WHERE owner = 'core'"), 0);
	store_free(s);
	cr_assert_null(store_open(db, NULL));
}

/* A plugin's steps: SQLite's DDL with a PostgreSQL variant, and a step
 * whose second run would fail (it counts its runs). */
static const struct store_migration plugin_steps[] = {
	{ 1, "CREATE TABLE p_offers(id INTEGER PRIMARY KEY AUTOINCREMENT, "
	    "qty INTEGER)",
	    "CREATE TABLE p_offers(id BIGINT GENERATED BY DEFAULT AS IDENTITY "
	    "PRIMARY KEY, qty BIGINT)" },
	{ 2, "CREATE TABLE p_runs(n INTEGER); INSERT INTO p_runs VALUES (1)",
	    NULL },
};

Test(store_pg, plugin_migrations_with_a_postgresql_variant)
{
	static const struct store_migration bad[] = {
		{ 1, "CREATE TABLE q(a INTEGER); CREATE TABLE q(b INTEGER)",
		    NULL },
	};
	struct store	*s = store_open(db, NULL);

	cr_assert_not_null(s);
	cr_assert_eq(store_migrate(s, "market", plugin_steps, 1), 0);
	cr_assert_eq(one(s, "SELECT version FROM schema_versions WHERE "
	    "owner = 'market'"), 1);
	cr_assert_eq(store_migrate(s, "market", plugin_steps, 2), 0);
	cr_assert_eq(store_migrate(s, "market", plugin_steps, 2), 0);
	cr_assert_eq(one(s, "SELECT version FROM schema_versions WHERE "
	    "owner = 'market'"), 2);
	cr_assert_eq(one(s, "SELECT count(*) FROM p_runs"), 1);
	cr_assert_eq(one(s, "INSERT INTO p_offers(qty) VALUES (3) "
	    "RETURNING id"), 1);
	/* An older plugin meeting its newer tables refuses them. */
	cr_assert_eq(store_migrate(s, "market", plugin_steps, 1), -1);
	/* A failing step is rolled back, version and all. */
	cr_assert_eq(store_migrate(s, "broken", bad, 1), -1);
	cr_assert_eq(one(s, "SELECT count(*) FROM schema_versions WHERE "
	    "owner = 'broken'"), 0);
	cr_assert_eq(one(s, "SELECT to_regclass('q') IS NULL"), 1);
	/* Not inside a transaction. */
	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_migrate(s, "later", plugin_steps, 1), -1);
	cr_assert_eq(store_commit(s), 0);
	store_free(s);
}

/*
 * Two stores open the same new database at the same moment (started
 * together through a pipe), each then applying the plugin's steps: both
 * succeed, and the steps ran once.
 */
Test(store_pg, two_stores_migrate_once)
{
	int	 go[2], i, status, ok = 0;
	pid_t	 pid[2];
	char	 c;

	cr_assert_eq(pipe(go), 0);
	for (i = 0; i < 2; i++) {
		cr_assert_neq(pid[i] = fork(), -1);
		if (pid[i] == 0) {
			struct store	*s;
			int		 rc;

			close(go[1]);
			/* The end of the pipe: the start for both. */
			if (read(go[0], &c, 1) != 0)
				_exit(3);
			if ((s = store_open(db, NULL)) == NULL)
				_exit(1);
			rc = store_migrate(s, "market", plugin_steps, 2);
			store_free(s);
			_exit(rc == 0 ? 0 : 2);
		}
	}
	close(go[0]);
	/* Closing the write end wakes both readers at once. */
	usleep(50000);
	close(go[1]);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	}
	cr_assert_eq(ok, 2);
	cr_assert_eq(pg_fixture_query("SELECT version FROM schema_versions "
	    "WHERE owner = 'core'"), store_schema_version());
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM p_runs"), 1);
}

/*
 * The server ends the store's connection (pg_terminate_backend from
 * another one) inside a unit: the statement fails, the unit and its
 * transaction are rolled back and its callback told, and the next unit
 * reconnects, prepares its statement again and commits.
 */
Test(store_pg, a_killed_connection_is_made_again)
{
	struct store	*s = store_open(db, NULL);
	long long	 backend;
	char		 sql[128];

	cr_assert_not_null(s);
	ntold = 0;
	cr_assert_eq(add(s, "+1"), STORE_DONE);	/* prepared before */
	backend = one(s, "SELECT pg_backend_pid()");
	cr_assert_gt(backend, 0);

	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+2"), STORE_DONE);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)",
	    backend);
	cr_assert_eq(pg_fixture_query(sql), 1);
	usleep(100000);
	cr_assert_eq(add(s, "+3"), STORE_ERROR);
	cr_assert_eq(store_work_end(s, 0), 0);
	cr_assert_eq(store_commit(s), -1);
	cr_assert_eq(ntold, 1);
	cr_assert_eq(told[0], 0);

	cr_assert_eq(store_work_begin(s), 0);
	cr_assert_eq(add(s, "+4"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_on_commit(s, tell, NULL), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(ntold, 2);
	cr_assert_eq(told[1], 1);
	cr_assert_neq(one(s, "SELECT pg_backend_pid()"), backend);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users WHERE "
	    "msisdn IN ('+1', '+4')"), 2);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 2);
	store_free(s);
}

/* marketbox -n: reachable, and a schema this program knows. */
Test(store_pg, check_connects_and_reads_the_version)
{
	struct store	*s;
	char		 bad[1100];

	cr_assert_eq(store_check(db), 0);		/* empty: made at start */
	cr_assert_not_null(s = store_open(db, NULL));
	cr_assert_eq(store_check(db), 0);
	cr_assert_eq(store_exec(s, "UPDATE schema_versions SET version = "
	    "version + 1 WHERE owner = 'core'"), 0);
	store_free(s);
	cr_assert_eq(store_check(db), -1);
	snprintf(bad, sizeof(bad), "%s dbname=mb_no_such_database", db);
	cr_assert_eq(store_check(bad), -1);
	/* A SQLite file is not opened by the check. */
	cr_assert_eq(store_check("/nonexistent/dir/marketbox.db"), 0);
	cr_assert(store_is_postgresql("postgresql://u@h/db"));
	cr_assert(store_is_postgresql("host=/tmp port=5432"));
	cr_assert_not(store_is_postgresql("/var/lib/marketbox/x=y.db"));
	cr_assert_not(store_is_postgresql("file:x.db?mode=memory"));
	cr_assert_not(store_is_postgresql(":memory:"));
}

/*
 * The server refuses the store for a while (the database closed to new
 * connections, the store's own ended): units fail, without a reconnect on
 * each (backoff), and once the database is open again the store comes
 * back by itself within the backoff.
 */
Test(store_pg, reconnects_with_backoff_once_the_server_is_back)
{
	struct store	*s = store_open(db, NULL);
	long long	 backend;
	int		 i, failed = 0;

	cr_assert_not_null(s);
	backend = one(s, "SELECT pg_backend_pid()");
	cr_assert_eq(pg_fixture_admin("ALTER DATABASE %s ALLOW_CONNECTIONS "
	    "false"), 0);
	cr_assert_eq(pg_fixture_admin("SELECT pg_terminate_backend(pid) "
	    "FROM pg_stat_activity WHERE datname = '%s'"), 0);
	usleep(100000);
	for (i = 0; i < 20; i++) {
		if (store_work_begin(s) == 0) {
			store_work_end(s, 1);
			break;
		}
		failed++;
		usleep(20000);
	}
	cr_assert_eq(failed, 20);
	cr_assert_eq(store_commit(s), 0);	/* nothing was open */
	cr_assert_eq(pg_fixture_admin("ALTER DATABASE %s ALLOW_CONNECTIONS "
	    "true"), 0);
	/* Backoff: 250 ms after the first failed try, then 500, 1000 ... */
	for (i = 0; i < 100; i++) {
		if (store_work_begin(s) == 0)
			break;
		usleep(50000);
	}
	cr_assert_lt(i, 100, "the store did not come back in 5 s");
	cr_assert_eq(add(s, "+5"), STORE_DONE);
	cr_assert_eq(store_work_end(s, 1), 0);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_neq(one(s, "SELECT pg_backend_pid()"), backend);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM users"), 1);
	store_free(s);
}

/*
 * With the task thread, the loop's thread may not use the connection
 * while a task waits on it: a unit begun or a commit asked by the loop
 * then is refused (transaction control goes to the server without
 * store_query, and was once let through), and the task's own work is
 * untouched.
 */
static struct store	*task_store;
static int		 task_done;

static void
task_waits_in_a_unit(void *arg)
{
	struct store_stmt	*st;

	(void)arg;
	/* (expects, not asserts: this runs on the task thread) */
	cr_expect_eq(store_work_begin(task_store), 0);
	st = store_query(task_store, "SELECT pg_sleep(0.3)");
	cr_expect_not_null(st);
	if (st != NULL) {
		cr_expect_eq(store_step(st), STORE_ROW);
		store_done(st);
	}
	cr_expect_eq(store_work_end(task_store, 1), 0);
	cr_expect_eq(store_commit(task_store), 0);
	task_done = 1;
}

static void
stop_when_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (task_done)
		event_base_loopbreak(arg);
}

Test(store_pg, the_loop_cannot_use_the_connection_while_a_task_waits)
{
	struct event_base	*base = event_base_new();
	struct timeval		 tv = { 0, 10 * 1000 }, limit = { 10, 0 };
	struct event		*poll;

	cr_assert_not_null(base);
	cr_assert_not_null(task_store = store_open(db, NULL));
	cr_assert_eq(store_use_tasks(task_store, base), 0);
	task_done = 0;
	cr_assert_eq(store_task(task_store, task_waits_in_a_unit, NULL), 0);
	/* the task waits for pg_sleep: the loop's turn */
	cr_assert_not(task_done);
	cr_expect_eq(store_work_begin(task_store), -1);
	cr_expect_eq(store_commit(task_store), -1);
	cr_expect_eq(store_exec(task_store, "SELECT 1"), -1);
	poll = event_new(base, -1, EV_PERSIST, stop_when_done_cb, base);
	event_add(poll, &tv);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	cr_expect(task_done, "the task ran to its end, its commit made");
	event_free(poll);
	store_free(task_store);
	event_base_free(base);
}
