/*
 * test_market_pool.c - pools of the market plugin (market_pool.c) through
 * the mock host: POOL, JOIN, LEAVE, CLOSE, the pool's states, its deadline
 * and grace on the mock clock, the listing as an offer or a want of the
 * same reference with its match notices, CANCEL and MY of pools; every
 * pool template in the four shipped languages within one SMS.  Each test
 * runs on SQLite (suite pool) and on PostgreSQL (suite pool_pg, with
 * MB_TEST_PG; skipped without it).
 *
 * The mock's catalogue: maize (unit bag), beans (unit kg); markets nakuru
 * and mombasa; currency KES.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "text/render.h"
#include "store/store.h"
#include "marketbox-plugin.h"

#include "plugin_mock.h"
#include "plugins/market/market.h"
#ifdef HAVE_POSTGRESQL
#include "pg_fixture.h"
#endif

extern const struct mb_plugin marketbox_plugin;

#define OPENER		"+254700000001"		/* Wanjiru, the leader */
#define BUYER		"+254700000002"		/* Otieno, a trader */
#define ANNA		"+254700000011"
#define BETH		"+254700000012"
#define CARO		"+254700000013"
#define T0		1700000000LL
#define DAY		86400LL

static struct mock	*m;
static int		 on_pg;

/* --- the host ---------------------------------------------------------------- */

static void
start(const char *database)
{
	m = mock_new_at(&marketbox_plugin, database);
	mock_set_now(m, T0);
}

static void
setup(void)
{
	on_pg = 0;
	start(NULL);
	cr_assert_eq(mock_init(m), MB_OK);
}

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
#ifdef HAVE_POSTGRESQL
	if (on_pg)
		pg_fixture_drop();
#endif
}

#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	const char	*db;

	on_pg = 1;
	db = pg_fixture_create("pool");
	start(db);
	cr_assert_eq(mock_init(m), MB_OK);
}
#endif

static void
as(const char *who)
{
	const unsigned	 roles = MB_ROLE_FARMER | MB_ROLE_BUYER;

	if (strcmp(who, OPENER) == 0)
		mock_sender(m, who, "Wanjiru", "nakuru", "en", roles);
	else if (strcmp(who, BUYER) == 0)
		mock_sender(m, who, "Otieno", "nakuru", "en", roles);
	else
		mock_sender(m, who, "Member", "nakuru", "en", roles);
}

static int
run(const char *who, const char *text)
{
	mock_clear(m);
	as(who);
	return mock_command(m, text);
}

static const struct mock_msg *
sent(size_t i)
{
	cr_assert_lt(i, mock_nsent(m), "no message %zu (%zu sent)", i,
	    mock_nsent(m));
	return mock_sent(m, i);
}

/* who sends text: handled, its first message the reply tmpl */
static void
run_reply(const char *who, const char *text, const char *tmpl)
{
	int	 rc = run(who, text);

	cr_assert_eq(rc, MB_OK, "%s: rc %d", text, rc);
	cr_assert_null(sent(0)->to, "%s: a notice first", text);
	cr_assert_str_eq(sent(0)->tmpl, tmpl, "%s", text);
}

static int
timer(long long now)
{
	mock_clear(m);
	mock_set_now(m, now);
	return mock_timer(m, "market-sweep");
}

static void
has(size_t i, const char *name, const char *value)
{
	const char	*v = mock_arg(sent(i), name);

	cr_assert_not_null(v, "message %zu (%s) has no {%s}", i,
	    sent(i)->tmpl, name);
	cr_assert_str_eq(v, value, "message %zu (%s) {%s}", i, sent(i)->tmpl,
	    name);
}

/* How many messages went to who with tmpl (who NULL: replies). */
static size_t
count(const char *who, const char *tmpl)
{
	size_t	 i, n = 0;

	for (i = 0; i < mock_nsent(m); i++) {
		const struct mock_msg	*s = mock_sent(m, i);

		if ((who == NULL) != (s->to == NULL))
			continue;
		if (who != NULL && strcmp(who, s->to) != 0)
			continue;
		n += strcmp(s->tmpl, tmpl) == 0;
	}
	return n;
}

/* An integer from the store, on either engine: sql with $1 bound to a. */
static long long
db_int(const char *sql, long long a)
{
	struct store_stmt	*st = store_query(mock_store(m), sql);
	long long		 v;

	cr_assert_not_null(st, "%s", sql);
	if (strstr(sql, "$1") != NULL)
		store_bind_int(st, 1, a);
	cr_assert_eq(store_step(st), STORE_ROW, "%s: no row", sql);
	v = store_int(st, 0);
	store_done(st);
	return v;
}

static const char *
db_text(const char *sql, long long a)
{
	static char		 buf[64];
	struct store_stmt	*st = store_query(mock_store(m), sql);
	const char		*t;

	cr_assert_not_null(st, "%s", sql);
	if (strstr(sql, "$1") != NULL)
		store_bind_int(st, 1, a);
	cr_assert_eq(store_step(st), STORE_ROW, "%s: no row", sql);
	t = store_text(st, 0);
	snprintf(buf, sizeof(buf), "%s", t != NULL ? t : "NULL");
	store_done(st);
	return buf;
}

static void
db_exec(const char *sql, long long a)
{
	struct store_stmt	*st = store_query(mock_store(m), sql);

	cr_assert_not_null(st, "%s", sql);
	if (strstr(sql, "$1") != NULL)
		store_bind_int(st, 1, a);
	cr_assert_eq(store_step(st), STORE_DONE, "%s", sql);
	store_done(st);
}

static const char *
pool_state(long long ref)
{
	return db_text("SELECT state FROM market_pools WHERE ref = $1", ref);
}

static long long
pool_total(long long ref)
{
	return db_int("SELECT COALESCE(SUM(qty), 0) FROM market_pool_shares"
	    " WHERE pool = $1", ref);
}

/* Both suites run every test: the SQLite one and, with PostgreSQL, the
   same body on a database of its own. */
#ifdef HAVE_POSTGRESQL
#define BOTH(name) \
	static void name(void); \
	Test(pool, name) { name(); } \
	Test(pool_pg, name, .init = setup_pg, .fini = teardown) { name(); } \
	static void name(void)
#else
#define BOTH(name) \
	static void name(void); \
	Test(pool, name) { name(); } \
	static void name(void)
#endif

TestSuite(pool, .init = setup, .fini = teardown);

/* The usual start: Wanjiru opens pool #1, maize, 100 bags at 3000, 7 days. */
static void
open_pool(void)
{
	run_reply(OPENER, "pool sell maize 100 bags 3000 7", "market-pool-ok");
	has(0, "ref", "1");
	has(0, "target", "100");
	has(0, "days", "7");
	cr_assert_str_eq(pool_state(1), "open");
}

/* --- opening -------------------------------------------------------------------------- */

BOTH(pool_opens)
{
	open_pool();
	cr_assert_eq(db_int("SELECT deadline FROM market_pools WHERE ref = $1",
	    1), T0 + 7 * DAY);
	cr_assert_str_eq(db_text("SELECT rule FROM market_pools WHERE ref = $1",
	    1), "joined");
	cr_assert_str_eq(db_text("SELECT opener FROM market_pools"
	    " WHERE ref = $1", 1), OPENER);
	/* not an offer until it is listed */
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_posts WHERE ref = $1",
	    1), 0);
}

/* --- joining -------------------------------------------------------------------------- */

BOTH(pool_fills_from_three_members)
{
	open_pool();
	run_reply(ANNA, "join 1 30", "market-pool-join-ok");
	has(0, "share", "30");
	has(0, "qty", "30");
	run_reply(BETH, "join 1 50", "market-pool-join-ok");
	has(0, "qty", "80");
	cr_assert_str_eq(pool_state(1), "open");
	/* the third reaches the target: listed at once */
	run_reply(CARO, "join 1 20", "market-pool-join-full");
	cr_assert_str_eq(pool_state(1), "listed");
	cr_assert_eq(count(OPENER, "market-pool-listed"), 1);
	cr_assert_eq(count(ANNA, "market-pool-listed"), 1);
	cr_assert_eq(count(BETH, "market-pool-listed"), 1);
	/* the one who filled it has her reply, not a notice too */
	cr_assert_eq(count(CARO, "market-pool-listed"), 0);
	/* the offer of the same reference, for the whole, by the opener */
	cr_assert_str_eq(db_text("SELECT kind FROM market_posts WHERE ref = $1",
	    1), "offer");
	cr_assert_eq(db_int("SELECT qty_left FROM market_posts WHERE ref = $1",
	    1), 100);
	cr_assert_str_eq(db_text("SELECT msisdn FROM market_posts"
	    " WHERE ref = $1", 1), OPENER);
	cr_assert_eq(db_int("SELECT price FROM market_posts WHERE ref = $1",
	    1), 300000);
	/* and a listed pool takes no more */
	run_reply(ANNA, "join 1 10", "market-pool-is-listed");
	cr_assert_eq(pool_total(1), 100);
}

BOTH(join_repeated_is_idempotent)
{
	open_pool();
	run_reply(ANNA, "join 1 5", "market-pool-join-ok");
	run_reply(ANNA, "join 1 5", "market-pool-join-ok");
	has(0, "qty", "5");
	cr_assert_eq(pool_total(1), 5);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_pool_shares"
	    " WHERE pool = $1", 1), 1);
	/* another JOIN sets it anew, in her place */
	run_reply(BETH, "join 1 3", "market-pool-join-ok");
	run_reply(ANNA, "join 1 7", "market-pool-join-ok");
	has(0, "qty", "10");
	cr_assert_eq(db_int("SELECT seq FROM market_pool_shares WHERE pool = $1"
	    " AND member = '" ANNA "'", 1), 1);
	cr_assert_eq(db_int("SELECT seq FROM market_pool_shares WHERE pool = $1"
	    " AND member = '" BETH "'", 1), 2);
}

BOTH(join_beyond_the_target_takes_what_fits)
{
	open_pool();
	run_reply(ANNA, "join 1 90", "market-pool-join-ok");
	run_reply(BETH, "join 1 25", "market-pool-join-cut");
	has(0, "share", "10");
	has(0, "asked", "25");
	cr_assert_eq(pool_total(1), 100);
	cr_assert_str_eq(pool_state(1), "listed");
	/* full: nobody else fits */
	run_reply(CARO, "join 1 1", "market-pool-is-listed");
}

BOTH(join_refusals)
{
	run_reply(ANNA, "join 9 5", "market-pool-unknown");
	open_pool();
	run_reply(ANNA, "join 1 0", "market-bad-qty");
	cr_assert_eq(run(ANNA, "join 1"), MB_USAGE);
	cr_assert_eq(pool_total(1), 0);
}

/* --- leaving ---------------------------------------------------------------------------- */

BOTH(leave_before_the_sale)
{
	open_pool();
	run_reply(ANNA, "join 1 30", "market-pool-join-ok");
	run_reply(BETH, "join 1 20", "market-pool-join-ok");
	run_reply(ANNA, "leave 1", "market-pool-leave-ok");
	has(0, "qty", "20");
	cr_assert_eq(pool_total(1), 20);
	/* again: she has no share now */
	run_reply(ANNA, "leave 1", "market-pool-not-member");
	/* she may join again, after Beth now */
	run_reply(ANNA, "join 1 5", "market-pool-join-ok");
	cr_assert_gt(db_int("SELECT seq FROM market_pool_shares WHERE pool = $1"
	    " AND member = '" ANNA "'", 1), db_int("SELECT seq FROM"
	    " market_pool_shares WHERE pool = $1 AND member = '" BETH "'", 1));
}

BOTH(leave_after_the_sale_is_refused)
{
	open_pool();
	run_reply(ANNA, "join 1 60", "market-pool-join-ok");
	run_reply(BETH, "join 1 40", "market-pool-join-full");
	/* a share order took part of Anna's share (as pool orders do) */
	db_exec("UPDATE market_pool_shares SET sold = 10 WHERE pool = $1"
	    " AND member = '" ANNA "'", 1);
	run_reply(ANNA, "leave 1", "market-pool-leave-sold");
	cr_assert_eq(pool_total(1), 100);
	/* listed, nothing of hers sold: still no leaving, ask the opener */
	run_reply(BETH, "leave 1", "market-pool-is-listed");
	cr_assert_eq(pool_total(1), 100);
}

/* --- closing ---------------------------------------------------------------------------- */

BOTH(close_below_and_above_pool_min)
{
	open_pool();
	run_reply(ANNA, "join 1 30", "market-pool-join-ok");
	run_reply(BETH, "join 1 19", "market-pool-join-ok");
	/* 49 of 100, pool-min 50 % */
	run_reply(OPENER, "close 1", "market-pool-close-low");
	has(0, "min", "50");
	cr_assert_str_eq(pool_state(1), "open");
	/* only the opener closes */
	run_reply(ANNA, "close 1", "market-pool-not-opener");
	run_reply(CARO, "join 1 1", "market-pool-join-ok");
	run_reply(OPENER, "close 1", "market-pool-close-ok");
	cr_assert_str_eq(pool_state(1), "listed");
	cr_assert_eq(db_int("SELECT qty FROM market_posts WHERE ref = $1", 1),
	    50);
	cr_assert_eq(count(ANNA, "market-pool-listed"), 1);
	cr_assert_eq(count(CARO, "market-pool-listed"), 1);
	cr_assert_eq(count(OPENER, "market-pool-listed"), 0);
	run_reply(OPENER, "close 1", "market-pool-is-listed");
}

/* --- the deadline ----------------------------------------------------------------------- */

BOTH(deadline_below_target_told_once_then_lapses)
{
	open_pool();
	run_reply(ANNA, "join 1 30", "market-pool-join-ok");
	run_reply(BETH, "join 1 5", "market-pool-join-ok");
	cr_assert_eq(timer(T0 + 7 * DAY - 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(timer(T0 + 7 * DAY), MB_OK);
	cr_assert_eq(count(OPENER, "market-pool-deadline"), 1);
	cr_assert_eq(count(ANNA, "market-pool-deadline"), 1);
	cr_assert_eq(count(BETH, "market-pool-deadline"), 1);
	cr_assert_eq(mock_nsent(m), 3);
	has(0, "qty", "35");
	has(0, "grace", "2");
	cr_assert_str_eq(pool_state(1), "open");
	/* once */
	cr_assert_eq(timer(T0 + 8 * DAY), MB_OK);
	cr_assert_eq(count(OPENER, "market-pool-deadline"), 0);
	/* pool-grace (2d) after the deadline: lapsed, everyone told */
	cr_assert_eq(timer(T0 + 9 * DAY), MB_OK);
	cr_assert_str_eq(pool_state(1), "lapsed");
	cr_assert_eq(count(OPENER, "market-pool-lapsed"), 1);
	cr_assert_eq(count(ANNA, "market-pool-lapsed"), 1);
	cr_assert_eq(count(BETH, "market-pool-lapsed"), 1);
	cr_assert_eq(timer(T0 + 10 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	mock_set_now(m, T0 + 10 * DAY);
	run_reply(ANNA, "join 1 5", "market-pool-is-lapsed");
}

BOTH(closed_in_its_grace_does_not_lapse)
{
	open_pool();
	run_reply(ANNA, "join 1 60", "market-pool-join-ok");
	cr_assert_eq(timer(T0 + 7 * DAY), MB_OK);
	cr_assert_eq(count(OPENER, "market-pool-deadline"), 1);
	mock_set_now(m, T0 + 8 * DAY);
	run_reply(OPENER, "close 1", "market-pool-close-ok");
	cr_assert_eq(timer(T0 + 10 * DAY), MB_OK);
	cr_assert_str_eq(pool_state(1), "listed");
}

/* --- the listing and its matches ------------------------------------------------------------ */

BOTH(listing_tells_the_buyers_wanting_it)
{
	run_reply(BUYER, "want maize 80 bags 3200", "market-want-ok"); /* 1 */
	run_reply(OPENER, "pool sell maize 100 bags 3000 7", "market-pool-ok");
	run_reply(ANNA, "join 1 5", "market-pool-unknown");
	run_reply(ANNA, "join 2 60", "market-pool-join-ok");
	run_reply(BETH, "join 2 40", "market-pool-join-full");
	cr_assert_eq(count(BUYER, "market-pool-match"), 1);
	{
		size_t	 i;

		for (i = 0; strcmp(sent(i)->tmpl, "market-pool-match") != 0;
		    i++)
			;
		has(i, "ref", "2");
		has(i, "want", "1");
		has(i, "farmers", "2");
		has(i, "buy", "80");
	}
	/* and a later want finds it as an offer */
	cr_assert_str_eq(db_text("SELECT state FROM market_posts"
	    " WHERE ref = $1", 2), "open");
}

BOTH(a_want_pool_lists_a_want)
{
	run_reply(OPENER, "pool want maize 50 bags 3300 10",
	    "market-pool-want-ok");
	run_reply(ANNA, "join 1 20", "market-pool-join-ok");
	run_reply(BETH, "join 1 30", "market-pool-join-full");
	cr_assert_str_eq(db_text("SELECT kind FROM market_posts WHERE ref = $1",
	    1), "want");
	cr_assert_eq(count(ANNA, "market-pool-listed-want"), 1);
	/* a seller's SELL under its price tells the opener, as any want */
	run_reply(BUYER, "sell maize 50 bags 3100", "market-offer-ok");
	cr_assert_eq(count(OPENER, "market-match-buyer"), 1);
}

/* --- CANCEL ------------------------------------------------------------------------------------ */

BOTH(cancel_by_the_opener)
{
	open_pool();
	run_reply(ANNA, "join 1 30", "market-pool-join-ok");
	run_reply(ANNA, "cancel 1", "market-pool-not-opener");
	run_reply(OPENER, "cancel 1", "market-pool-cancel-ok");
	cr_assert_str_eq(pool_state(1), "cancelled");
	cr_assert_eq(count(ANNA, "market-pool-cancelled"), 1);
	run_reply(OPENER, "cancel 1", "market-pool-is-cancelled");
	run_reply(BETH, "join 1 3", "market-pool-is-cancelled");
}

BOTH(cancel_a_listed_pool_withdraws_its_offer)
{
	open_pool();
	run_reply(ANNA, "join 1 100", "market-pool-join-full");
	run_reply(OPENER, "cancel 1", "market-pool-cancel-ok");
	cr_assert_str_eq(db_text("SELECT state FROM market_posts"
	    " WHERE ref = $1", 1), "cancelled");
	cr_assert_eq(count(ANNA, "market-pool-cancelled"), 1);
}

BOTH(cancel_refused_once_shares_are_sold)
{
	open_pool();
	run_reply(ANNA, "join 1 100", "market-pool-join-full");
	db_exec("UPDATE market_pool_shares SET sold = 10 WHERE pool = $1", 1);
	run_reply(OPENER, "cancel 1", "market-pool-cancel-sold");
	cr_assert_str_eq(pool_state(1), "listed");
}

/* --- the state machine ------------------------------------------------------------------------- */

BOTH(pool_move_checks_its_steps)
{
	struct market_call	 c;
	struct market_pool	 p;

	open_pool();
	run_reply(ANNA, "join 1 60", "market-pool-join-ok");
	mock_clear(m);
	market_call_init(&c, mock_ctx(m), mock_host(),
	    &((struct market_state *)mock_state(m))->conf);
	cr_assert_eq(market_pool_find(&c, 1, &p), 0);
	cr_assert_eq(p.total, 60);
	cr_assert_eq(p.members, 1);
	cr_assert_eq(market_pool_find(&c, 99, &p), 1);
	cr_assert_eq(market_pool_find(&c, 1, &p), 0);
	/* open -> sold is no step */
	cr_assert_eq(market_pool_move(&c, &p, "sold"), 1);
	cr_assert_str_eq(pool_state(1), "open");
	cr_assert_eq(market_pool_move(&c, &p, "listed"), 0);
	cr_assert_eq(market_pool_move(&c, &p, "sold"), 0);
	cr_assert_str_eq(pool_state(1), "sold");
	cr_assert_eq(market_pool_move(&c, &p, "listed"), 0);
	cr_assert_str_eq(pool_state(1), "listed");
	/* one offer only: back from sold lists nothing again */
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_posts WHERE ref = $1",
	    1), 1);
	/* a copy that is behind the table does not move it */
	memcpy(p.state, "open", 5);
	cr_assert_eq(market_pool_move(&c, &p, "cancelled"), 1);
	cr_assert_str_eq(pool_state(1), "listed");
}
