/*
 * pg_fixture.c - a database per test on the test PostgreSQL server: see
 * pg_fixture.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "pg_fixture.h"

static char	 pg_db[64];
static char	 pg_conninfo[1024];

static const char *
pg_fixture_server(void)
{
	const char	*c = getenv("MB_TEST_PG");

	if (c != NULL && *c != '\0')
		return c;
	if (getenv("CI") != NULL && *getenv("CI") != '\0')
		cr_assert_fail("MB_TEST_PG is not set and CI is: the PostgreSQL "
		    "tests must run (scripts/check starts the server)");
	cr_skip_test("MB_TEST_PG is not set: no test PostgreSQL server "
	    "(tests/pg/server.sh start prints one's conninfo)");
	return NULL;
}

static void
pg_fixture_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Run sql on the server's own database (not ours): 0 or -1. */
static int
pg_fixture_run(const char *sql)
{
	PGconn		*c = PQconnectdb(pg_fixture_server());
	PGresult	*r;
	int		 ok;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, pg_fixture_quiet, NULL);
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "pg_fixture: %s: %s", sql,
		    PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

const char *
pg_fixture_create(const char *name)
{
	const char	*server = pg_fixture_server();
	char		 sql[128];

	snprintf(pg_db, sizeof(pg_db), "mb_%s_%ld", name, (long)getpid());
	/* A database left by a test that crashed in a process of this pid. */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", pg_db);
	pg_fixture_run(sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pg_db);
	cr_assert_eq(pg_fixture_run(sql), 0);
	/* In a keyword string the last dbname wins. */
	cr_assert_null(strstr(server, "://"), "MB_TEST_PG must be a keyword "
	    "conninfo (host=... port=...), as tests/pg/server.sh prints");
	snprintf(pg_conninfo, sizeof(pg_conninfo), "%s dbname=%s", server,
	    pg_db);
	return pg_conninfo;
}

void
pg_fixture_drop(void)
{
	char	 sql[128];

	if (pg_db[0] == '\0')
		return;
	/* WITH (FORCE): a store the test left open does not keep it. */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    pg_db);
	pg_fixture_run(sql);
	pg_db[0] = '\0';
}

long long
pg_fixture_query(const char *sql)
{
	PGconn		*c = PQconnectdb(pg_conninfo);
	PGresult	*r;
	long long	 v = -1;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, sql);
	cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK ||
	    PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql,
	    PQresultErrorMessage(r));
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
	    !PQgetisnull(r, 0, 0))
		v = PQgetvalue(r, 0, 0)[0] == 't' ? 1 :
		    strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

int
pg_fixture_admin(const char *fmt)
{
	char	 sql[512];

	snprintf(sql, sizeof(sql), fmt, pg_db);
	return pg_fixture_run(sql);
}

void *
pg_fixture_commit_under_wait(void *arg)
{
	struct pg_fixture_hold	*h = arg;
	PGconn			*c = PQconnectdb(pg_conninfo);
	PGresult		*r;
	int			 i;

	h->seen = 0;
	for (i = 0; i < 1000 && PQstatus(c) == CONNECTION_OK && !h->seen;
	    i++) {
		r = PQexec(c, "SELECT count(*) FROM pg_stat_activity WHERE "
		    "datname = current_database() AND wait_event_type = "
		    "'Lock'");
		h->seen = PQresultStatus(r) == PGRES_TUPLES_OK &&
		    PQntuples(r) == 1 && atoi(PQgetvalue(r, 0, 0)) > 0;
		PQclear(r);
		if (!h->seen)
			usleep(10 * 1000);
	}
	PQfinish(c);
	usleep((useconds_t)h->ms * 1000);
	r = PQexec(h->holder, "COMMIT");
	PQclear(r);
	return NULL;
}
