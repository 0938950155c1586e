/*
 * pg_fixture.h - a database of its own for a test on the test PostgreSQL
 * server (tests/pg/server.sh; scripts/check exports its conninfo as
 * MB_TEST_PG).
 *
 * pg_fixture_create() makes a new database mb_<name>_<pid> through the
 * conninfo's database and returns the conninfo that names it;
 * pg_fixture_drop() drops it.  Without MB_TEST_PG the test is skipped with
 * the reason, unless CI is set: then it fails (CI must run them).
 */
#ifndef MARKETBOX_TEST_PG_FIXTURE_H
#define MARKETBOX_TEST_PG_FIXTURE_H

/* The conninfo of a new database (static storage), or the test skipped. */
const char	*pg_fixture_create(const char *name);
void		 pg_fixture_drop(void);
/* Run sql on the server through a connection of the test's own (not the
 * store's): the first value of the first row as an integer, -1 if none. */
long long	 pg_fixture_query(const char *sql);
/* Run sql through the server's own database ("%s": the test's database
 * name), as the superuser the server was made with.  0 or -1. */
int		 pg_fixture_admin(const char *fmt);

/*
 * Another instance's transaction, open on holder, let go under a waiter:
 * a thread's function (arg: struct pg_fixture_hold).  It waits, 10 s at
 * most, until a session of the test's database waits on a lock, then lets
 * it wait ms more and commits holder; seen says whether a wait was seen
 * (a test asserts it: the conflict it is about did happen).
 */
struct pg_fixture_hold {
	void	*holder;	/* PGconn * */
	int	 ms;
	int	 seen;
};
void		*pg_fixture_commit_under_wait(void *arg);

#endif
