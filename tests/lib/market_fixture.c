/*
 * market_fixture.c - the fixture the market plugin's test files share
 * (test_market_{manifest,leg,timers,dispute,rep,pool,pool_order,tier}):
 * their databases on either engine, the store read one value at a time,
 * and the messages a run sent, looked up with an assertion that names
 * what is missing.  See market_fixture.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "store/store.h"
#include "marketbox-plugin.h"

#include "market_fixture.h"
#include "plugin_mock.h"
#ifdef HAVE_POSTGRESQL
#include "pg_fixture.h"
#endif

/* what market_fixture_drop removes: the folder of a SQLite file (made
   when dir[0] is set), or the PostgreSQL database (on_pg) */
static char	 dir[128], file[256], base[64];
static int	 on_pg;

const char *
market_fixture_sqlite(const char *name)
{
	snprintf(dir, sizeof(dir), "/tmp/market_%s_XXXXXX", name);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s.db", name);
	snprintf(file, sizeof(file), "%s/%s", dir, base);
	on_pg = 0;
	return file;
}

#ifdef HAVE_POSTGRESQL
const char *
market_fixture_pg(const char *name)
{
	dir[0] = '\0';
	on_pg = 1;
	return pg_fixture_create(name);
}
#endif

void
market_fixture_drop(void)
{
	/* SQLite leaves its journal or WAL and shared memory beside it */
	static const char * const tails[] = { "", "-wal", "-shm", "-journal" };
	char	 path[300];
	size_t	 i;

#ifdef HAVE_POSTGRESQL
	if (on_pg) {
		on_pg = 0;
		pg_fixture_drop();
		return;
	}
#endif
	if (dir[0] == '\0')
		return;
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, base, tails[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
	dir[0] = '\0';
}

/* sql prepared on m's store, $1 and $2 bound where it has them */
static struct store_stmt *
prepare(struct mock *m, const char *sql, long long a, long long b)
{
	struct store_stmt	*st = store_query(mock_store(m), sql);

	cr_assert_not_null(st, "%s", sql);
	if (strstr(sql, "$1") != NULL)
		cr_assert_eq(store_bind_int(st, 1, a), 0, "%s: $1", sql);
	if (strstr(sql, "$2") != NULL)
		cr_assert_eq(store_bind_int(st, 2, b), 0, "%s: $2", sql);
	return st;
}

long long
mtest_db_int(struct mock *m, const char *sql, long long a, long long b)
{
	struct store_stmt	*st = prepare(m, sql, a, b);
	long long		 v;

	cr_assert_eq(store_step(st), STORE_ROW, "%s: no row", sql);
	v = store_int(st, 0);
	store_done(st);
	return v;
}

const char *
mtest_db_text(struct mock *m, const char *sql, long long a, long long b)
{
	static char		 buf[400];
	struct store_stmt	*st = prepare(m, sql, a, b);
	const char		*t;

	cr_assert_eq(store_step(st), STORE_ROW, "%s: no row", sql);
	t = store_text(st, 0);
	snprintf(buf, sizeof(buf), "%s", t != NULL ? t : "NULL");
	store_done(st);
	return buf;
}

void
mtest_db_exec(struct mock *m, const char *sql, long long a, long long b)
{
	struct store_stmt	*st = prepare(m, sql, a, b);

	cr_assert_eq(store_step(st), STORE_DONE, "%s", sql);
	store_done(st);
}

const struct mock_msg *
mtest_sent(struct mock *m, size_t i)
{
	cr_assert_lt(i, mock_nsent(m), "no message %zu (%zu sent)", i,
	    mock_nsent(m));
	return mock_sent(m, i);
}

void
mtest_replied(struct mock *m, int rc, const char *text, const char *tmpl)
{
	cr_assert_eq(rc, MB_OK, "%s: rc %d", text, rc);
	cr_assert_null(mtest_sent(m, 0)->to, "%s: a notice first", text);
	cr_assert_str_eq(mtest_sent(m, 0)->tmpl, tmpl, "%s", text);
}

void
mtest_has(struct mock *m, size_t i, const char *name, const char *value)
{
	const char	*v = mock_arg(mtest_sent(m, i), name);

	cr_assert_not_null(v, "message %zu (%s) has no {%s}", i,
	    mtest_sent(m, i)->tmpl, name);
	cr_assert_str_eq(v, value, "message %zu (%s) {%s}", i,
	    mtest_sent(m, i)->tmpl, name);
}

void
mtest_arg_is(const struct mock_msg *s, const char *name, const char *value)
{
	const char	*v = mock_arg(s, name);

	cr_assert_not_null(v, "%s has no {%s}", s->tmpl, name);
	cr_assert_str_eq(v, value, "%s {%s}", s->tmpl, name);
}

/* s went to who (NULL: it is a reply) */
static int
sent_to(const struct mock_msg *s, const char *who)
{
	if ((who == NULL) != (s->to == NULL))
		return 0;
	return who == NULL || strcmp(who, s->to) == 0;
}

size_t
mtest_count(struct mock *m, const char *who, const char *tmpl)
{
	size_t	 i, n = 0;

	for (i = 0; i < mock_nsent(m); i++) {
		const struct mock_msg	*s = mock_sent(m, i);

		n += sent_to(s, who) && strcmp(s->tmpl, tmpl) == 0;
	}
	return n;
}

const struct mock_msg *
mtest_msg(struct mock *m, const char *who, const char *tmpl)
{
	size_t	 i;

	for (i = 0; i < mock_nsent(m); i++) {
		const struct mock_msg	*s = mock_sent(m, i);

		if (sent_to(s, who) && strcmp(s->tmpl, tmpl) == 0)
			return s;
	}
	cr_assert_fail("no %s to %s", tmpl, who != NULL ? who : "the sender");
	return NULL;
}

const char *
mtest_only_arg(struct mock *m, const char *who, const char *tmpl,
    const char *name)
{
	const char	*v;

	cr_assert_eq(mtest_count(m, who, tmpl), 1, "%s: %zu of %s",
	    who != NULL ? who : "the sender", mtest_count(m, who, tmpl), tmpl);
	v = mock_arg(mtest_msg(m, who, tmpl), name);
	cr_assert_not_null(v, "%s has no {%s}", tmpl, name);
	return v;
}
