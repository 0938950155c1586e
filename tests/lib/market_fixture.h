/*
 * market_fixture.h - what the market plugin's test files share around
 * the mock host (market_fixture.c): the database a suite's plugin lives
 * on (a SQLite file that outlives restarts, or a PostgreSQL database of
 * its own with MB_TEST_PG), one value read from its store, and the
 * messages a run sent.
 */
#ifndef MARKETBOX_TEST_MARKET_FIXTURE_H
#define MARKETBOX_TEST_MARKET_FIXTURE_H

#include <stddef.h>

struct mock;
struct mock_msg;

/*
 * The database of a test, named name: market_fixture_sqlite makes a
 * fresh folder /tmp/market_<name>_XXXXXX holding <name>.db and gives
 * that file's path; market_fixture_pg gives the conninfo of a new
 * PostgreSQL database (pg_fixture_create).  market_fixture_drop removes
 * whichever was made last (nothing when neither was).
 */
const char	*market_fixture_sqlite(const char *name);
#ifdef HAVE_POSTGRESQL
const char	*market_fixture_pg(const char *name);
#endif
void		 market_fixture_drop(void);

/*
 * One statement on m's store, $1 and $2 (where the SQL has them) bound
 * to a and b: the first column of its row as an integer, or as text
 * ("NULL" for NULL; in a buffer the next call overwrites); or run to
 * its end.
 */
long long	 mtest_db_int(struct mock *m, const char *sql, long long a,
		    long long b);
const char	*mtest_db_text(struct mock *m, const char *sql, long long a,
		    long long b);
void		 mtest_db_exec(struct mock *m, const char *sql, long long a,
		    long long b);

/* Message i of m's last run: it must be there. */
const struct mock_msg	*mtest_sent(struct mock *m, size_t i);
/* A command text run on m gave rc: handled (MB_OK), its first message
   the reply tmpl (not a notice). */
void		 mtest_replied(struct mock *m, int rc, const char *text,
		    const char *tmpl);
/* Message i has {name} = value. */
void		 mtest_has(struct mock *m, size_t i, const char *name,
		    const char *value);
/* Message s has {name} = value. */
void		 mtest_arg_is(const struct mock_msg *s, const char *name,
		    const char *value);
/* How many messages of m's last run went to who (NULL: the replies)
   with template tmpl. */
size_t		 mtest_count(struct mock *m, const char *who,
		    const char *tmpl);
/* The first message to who (NULL: the reply) of tmpl: it must be there. */
const struct mock_msg	*mtest_msg(struct mock *m, const char *who,
		    const char *tmpl);
/* The only message to who (NULL: the reply) of tmpl in m's last run:
   its {name} (it must have it). */
const char	*mtest_only_arg(struct mock *m, const char *who,
		    const char *tmpl, const char *name);

/*
 * A test run in suite on SQLite (the suite's own init and fini) and, with
 * PostgreSQL built in, in suite_pg with init_pg and fini_pg: write
 *	MARKET_BOTH(suite, setup_pg, teardown, name) { ...body... }
 * (without PostgreSQL init_pg is never named: it need not exist).
 */
#ifdef HAVE_POSTGRESQL
#define MARKET_BOTH(suite, init_pg, fini_pg, name) \
	static void name(void); \
	Test(suite, name) { name(); } \
	Test(suite##_pg, name, .init = init_pg, .fini = fini_pg) { name(); } \
	static void name(void)
#else
#define MARKET_BOTH(suite, init_pg, fini_pg, name) \
	static void name(void); \
	Test(suite, name) { name(); } \
	static void name(void)
#endif

/*
 * lang_setup and lang_teardown, for a suite's language tour: the file's
 * setup and teardown with the shipped language files open around them
 * (market_lang.h), and what the tour collected freed after.
 */
#define MARKET_LANG_FIXTURE(setup, teardown) \
	static void \
	lang_setup(void) \
	{ \
		market_lang_open(); \
		setup(); \
	} \
	static void \
	lang_teardown(void) \
	{ \
		teardown(); \
		market_lang_seen_free(); \
		market_lang_close(); \
	}

#endif
