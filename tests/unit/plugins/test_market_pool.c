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

#include "market_fixture.h"
#include "market_lang.h"
#include "plugin_mock.h"
#include "plugins/market/market.h"

extern const struct mb_plugin marketbox_plugin;

#define OPENER		"+254700000001"		/* Wanjiru, the leader */
#define BUYER		"+254700000002"		/* Otieno, a trader */
#define ANNA		"+254700000011"
#define BETH		"+254700000012"
#define CARO		"+254700000013"
#define STRANGER_MY	"+254700000019"
#define T0		1700000000LL
#define DAY		86400LL

static struct mock	*m;


/* --- collecting what the plugin sends, for the language checks -------------- */

static int		 collecting;

/* the last run's messages, while the tour collects (market_lang.c) */
static void
collect(void)
{
	if (collecting)
		market_lang_collect(m);
}


/* --- the host ---------------------------------------------------------------- */

static void
start(const char *database)
{
	m = mock_new_on(&marketbox_plugin, database);
	mock_set_now(m, T0);
}

static void
setup(void)
{
	start(NULL);
	cr_assert_eq(mock_init(m), MB_OK);
}

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
	market_fixture_drop();
}

#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	start(market_fixture_pg("pool"));
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
	int	 rc;

	mock_clear(m);
	as(who);
	rc = mock_command(m, text);
	collect();
	return rc;
}

/* the fixture's helpers on this file's mock (market_fixture.h) */
#define sent(i)			mtest_sent(m, (i))
#define has(i, name, value)	mtest_has(m, (i), (name), (value))
#define count(who, tmpl)	mtest_count(m, (who), (tmpl))
#define db_int(sql, a)		mtest_db_int(m, (sql), (a), 0)
#define db_text(sql, a)		mtest_db_text(m, (sql), (a), 0)
#define db_exec(sql, a)		mtest_db_exec(m, (sql), (a), 0)
/* who sends text: handled, its first message the reply tmpl */
#define run_reply(who, text, tmpl) \
	mtest_replied(m, run((who), (text)), (text), (tmpl))

static int
timer(long long now)
{
	int	 rc;

	mock_clear(m);
	mock_set_now(m, now);
	rc = mock_timer(m, "market-sweep");
	collect();
	return rc;
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
#define BOTH(name)	MARKET_BOTH(pool, setup_pg, teardown, name)

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

/* The whole pool bought at once must fit one order: refused at POOL. */
BOTH(a_pool_too_big_for_one_order_is_refused)
{
	run_reply(OPENER, "pool sell maize 1000000 bags 200000 7",
	    "market-pool-bad-total");
	has(0, "target", "1000000");
	has(0, "max", "100000000000");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_pools WHERE"
	    " ref > $1", 0), 0);
	run_reply(OPENER, "pool want maize 1000000 bags 200000 7",
	    "market-pool-bad-total");
	/* at the limit it opens */
	run_reply(OPENER, "pool sell maize 1000000 bags 100000 7",
	    "market-pool-ok");
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
	/* the opener is not told to ask himself */
	run_reply(OPENER, "close 1", "market-pool-is-listed-own");
	has(0, "ref", "1");
	run_reply(ANNA, "close 1", "market-pool-not-opener");
	run_reply(OPENER, "join 1 5", "market-pool-is-listed-own");
	run_reply(BETH, "leave 1", "market-pool-is-listed");
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

/* Wanjiru's buying pool ref: 50 bags of maize at up to 3300, listed
   when Anna and Beth join. */
static void
want_pool_listed(long long ref)
{
	char	 cmd[32];

	run_reply(OPENER, "pool want maize 50 bags 3300 10",
	    "market-pool-want-ok");
	snprintf(cmd, sizeof(cmd), "join %lld 20", ref);
	run_reply(ANNA, cmd, "market-pool-join-ok");
	snprintf(cmd, sizeof(cmd), "join %lld 30", ref);
	run_reply(BETH, cmd, "market-pool-join-full");
}

BOTH(a_want_pool_lists_a_want)
{
	want_pool_listed(1);
	cr_assert_str_eq(db_text("SELECT kind FROM market_posts WHERE ref = $1",
	    1), "want");
	cr_assert_eq(count(ANNA, "market-pool-listed-want"), 1);
	/* a seller's SELL under its price tells the opener, as any want,
	   and the seller how to answer the pool: OFFER */
	run_reply(BUYER, "sell maize 50 bags 3100", "market-offer-ok");
	cr_assert_eq(count(OPENER, "market-match-buyer"), 1);
	cr_assert_eq(count(BUYER, "market-pool-match-seller"), 1);
	has(market_lang_find(m, "market-pool-match-seller"), "want", "1");
	has(market_lang_find(m, "market-pool-match-seller"), "farmers", "2");
}

/*
 * A member of a buying pool is never matched with it: not when her SELL
 * comes after the listing, not when the listing comes after her SELL.
 */
BOTH(a_member_is_not_matched_with_her_own_want_pool)
{
	run_reply(ANNA, "sell maize 10 bags 3000", "market-offer-ok"); /* 1 */
	want_pool_listed(2);
	cr_assert_eq(count(ANNA, "market-pool-match-seller"), 0);
	run_reply(ANNA, "sell maize 5 bags 3000", "market-offer-ok");	/* 3 */
	cr_assert_eq(count(OPENER, "market-match-buyer"), 0);
	cr_assert_eq(count(ANNA, "market-pool-match-seller"), 0);
	cr_assert_eq(count(NULL, "market-match-wants"), 0);
	/* a seller who is no member is matched */
	run_reply(CARO, "sell maize 5 bags 3000", "market-offer-ok");
	cr_assert_eq(count(OPENER, "market-match-buyer"), 1);
	cr_assert_eq(count(CARO, "market-pool-match-seller"), 1);
}

/* The opener of a sold pool is not told to ask its opener. */
BOTH(the_opener_of_a_sold_pool_is_told_his_step)
{
	static const char	*cmds[] = { "close 1", "join 1 5" };
	size_t			 i;

	open_pool();
	run_reply(ANNA, "join 1 100", "market-pool-join-full");
	run_reply(BUYER, "buy 1 100", "market-order-ok");
	cr_assert_str_eq(pool_state(1), "sold");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run_reply(OPENER, cmds[i], "market-pool-is-sold-own");
		has(0, "ref", "1");
		/* anyone else: ask its opener */
		run_reply(CARO, cmds[i], i == 0 ? "market-pool-not-opener" :
		    "market-pool-is-sold");
	}
}

/*
 * A listed want pool tells a seller with an open offer to send OFFER
 * with his price: not the buyers' market-pool-match naming BUY.
 */
BOTH(a_want_pool_tells_sellers_to_offer)
{
	run_reply(BUYER, "sell maize 60 bags 3100", "market-offer-ok"); /* 1 */
	want_pool_listed(2);
	cr_assert_eq(count(BUYER, "market-pool-match"), 0);
	cr_assert_eq(count(BUYER, "market-pool-match-seller"), 1);
	{
		size_t	 i;

		for (i = 0; strcmp(sent(i)->tmpl, "market-pool-match-seller")
		    != 0; i++)
			;
		has(i, "want", "2");
		has(i, "farmers", "2");
		has(i, "qty", "50");
		has(i, "price", "3300");
	}
}

/*
 * A selling pool listed under a buying pool's price is an offer the want
 * pool's opener hears of; its own opener is not told to OFFER the same
 * lots again personally.
 */
BOTH(a_listed_sell_pool_is_not_told_to_offer)
{
	want_pool_listed(1);
	run_reply(CARO, "pool sell maize 40 bags 3000 7", "market-pool-ok");
	run_reply(BUYER, "join 2 40", "market-pool-join-full");
	cr_assert_str_eq(pool_state(2), "listed");
	cr_assert_eq(count(CARO, "market-pool-match-seller"), 0);
	cr_assert_eq(count(BUYER, "market-pool-match-seller"), 0);
	/* a dealer's own SELL still is */
	run_reply(BUYER, "sell maize 5 bags 3000", "market-offer-ok");
	cr_assert_eq(count(BUYER, "market-pool-match-seller"), 1);
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

/* --- MY and what buyers see ------------------------------------------------------------------- */

BOTH(my_shows_pools_and_shares)
{
	const char	*items;

	open_pool();
	run_reply(ANNA, "join 1 30", "market-pool-join-ok");
	run_reply(OPENER, "my", "market-my-page");
	items = mock_arg(sent(0), "items");
	cr_assert_not_null(strstr(items, "market-pool-item(state="
	    "market-pool-state-open(),ref=1,"), "%s", items);
	cr_assert_not_null(strstr(items, "qty=30,target=100"), "%s", items);
	run_reply(ANNA, "my", "market-my-page");
	items = mock_arg(sent(0), "items");
	cr_assert_not_null(strstr(items, "market-pool-item-share("), "%s",
	    items);
	cr_assert_not_null(strstr(items, "share=30"), "%s", items);
	/* listed: the pool's line, not its offer's as well */
	run_reply(BETH, "join 1 70", "market-pool-join-full");
	run_reply(OPENER, "my", "market-my-page");
	items = mock_arg(sent(0), "items");
	cr_assert_null(strstr(items, "market-item-offer("), "%s", items);
	cr_assert_not_null(strstr(items, "market-pool-state-listed"), "%s",
	    items);
	run_reply(STRANGER_MY, "my", "market-my-empty");
}

BOTH(a_want_lists_a_pools_offer_with_its_farmers)
{
	size_t		 i;

	open_pool();
	run_reply(ANNA, "join 1 60", "market-pool-join-ok");
	run_reply(BETH, "join 1 40", "market-pool-join-full");
	run_reply(BUYER, "want maize 20 bags 3100", "market-want-ok");
	cr_assert_eq(count(NULL, "market-match-offers"), 1);
	for (i = 0; strcmp(sent(i)->tmpl, "market-match-offers") != 0; i++)
		;
	cr_assert_not_null(strstr(mock_arg(sent(i), "matches"),
	    "market-pool-item-match("), "%s", mock_arg(sent(i), "matches"));
	cr_assert_not_null(strstr(mock_arg(sent(i), "matches"),
	    "farmers=2"), "%s", mock_arg(sent(i), "matches"));
	/* the opener hears of the want as any seller does */
	cr_assert_eq(count(OPENER, "market-match-seller"), 1);
}

/* --- the words: every pool template in every shipped language ------------------------------------
 *
 * A tour of everything pools say, collected as sent; then each template
 * must be in every shipped language, with every placeholder it uses among
 * the arguments, within one SMS (as test_market checks the rest), and
 * every market-pool-* template of en.conf must have been sent.
 */

static void
tour(void)
{
	long long	 i;

	collecting = 1;
	run(BUYER, "want maize 80 bags 3200");			/* 1 */
	run(OPENER, "pool sell maize 100 bags 3000 7");		/* 2 */
	run(OPENER, "pool sell maize 100 bags 3000 900");
	run(ANNA, "join 9 5");
	run(ANNA, "join 2 30");
	run(BETH, "join 2 20");
	run(BETH, "leave 2");
	run(BETH, "leave 2");
	run(OPENER, "close 2");
	run(ANNA, "close 2");
	run(BETH, "join 2 80");
	run(OPENER, "my");
	run(ANNA, "my");
	run(BUYER, "want maize 20 bags 3100");			/* 3 */
	run(CARO, "join 2 5");
	run(OPENER, "pool want maize 50 bags 3300 10");		/* 4 */
	run(ANNA, "join 4 30");
	run(OPENER, "close 4");
	run(OPENER, "pool sell beans 10 kg 100 1");		/* 5 */
	run(ANNA, "join 5 5");
	timer(T0 + DAY);
	timer(T0 + 4 * DAY);
	mock_set_now(m, T0 + 4 * DAY);
	run(ANNA, "join 5 1");
	run(OPENER, "pool sell beans 10 kg 100 1");		/* 6 */
	run(ANNA, "join 6 1");
	run(ANNA, "cancel 6");
	run(OPENER, "cancel 6");
	run(ANNA, "join 6 1");
	run(OPENER, "pool sell maize 10 bags 3000 7");		/* 7 */
	run(ANNA, "join 7 10");
	db_exec("UPDATE market_pool_shares SET sold = 10 WHERE pool = $1", 7);
	run(ANNA, "leave 7");
	run(OPENER, "cancel 7");
	db_exec("UPDATE market_pools SET state = 'sold' WHERE ref = $1", 7);
	run(ANNA, "join 7 1");
	run(OPENER, "join 7 1");
	run(OPENER, "my");
	/* a pool with as many members as one can have */
	run(OPENER, "pool sell maize 1000 bags 3000 7");	/* 8 */
	for (i = 1; i <= MARKET_POOL_SHARES_MAX; i++)
		db_exec("INSERT INTO market_pool_shares(pool, member, qty, sold,"
		    " seq, joined) VALUES (8, 'm:T' || $1, 1, 0, $1, 0)", i);
	run(ANNA, "join 8 1");
	run(OPENER, "my");
	/* a want pool told to a seller; the opener's refusal; too big */
	run(CARO, "sell beans 10 kg 90");				/* 9 */
	run(OPENER, "pool want beans 5 kg 100 7");		/* 10 */
	run(ANNA, "join 10 5");
	run(OPENER, "close 10");
	run(OPENER, "pool sell maize 1000000 bags 200000 7");
	collecting = 0;
}

/* The market-pool-* template names of a language file, NULL-terminated. */
static char **
file_templates(const char *path, size_t *n)
{
	FILE	*fp = fopen(path, "r");
	char	 line[1024], **names = NULL;

	cr_assert_not_null(fp, "%s", path);
	*n = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char	*p;

		if (strncmp(line, "name = market-pool-", 19) != 0)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		p = line + 7;
		names = realloc(names, (*n + 2) * sizeof(*names));
		cr_assert_not_null(names);
		names[(*n)++] = strdup(p);
		names[*n] = NULL;
	}
	fclose(fp);
	return names;
}

MARKET_LANG_FIXTURE(setup, teardown)

/* The numbers each count is tried with, for plural forms and lengths. */
static const char	*counts[] = { "0", "1", "2", "5", "21", "1000" };
static const char	*count_names[] = { "qty", "left", "more", "pages",
	"buy", "target", "share", "asked", "farmers", "days", "min", "grace" };

Test(pool_lang, every_template_in_every_language_fits,
    .init = lang_setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	char			**names;
	size_t			 n, i, l, k, c, checked = 0;

	tour();
	cr_assert_gt(market_nseen, 30);
	for (i = 0; i < market_nseen; i++) {
		const struct market_seen	*s = &market_seen[i];

		if (strncmp(s->tmpl, "usage-", 6) == 0)
			continue;
		cr_assert(strncmp(s->tmpl, "market-", 7) == 0, "%s", s->tmpl);
		checked++;
		for (l = 0; l < 4; l++) {
			const char	*t, *en;

			t = lang_template(market_lang_shipped, codes[l], s->tmpl);
			en = lang_template(market_lang_shipped, "en", s->tmpl);
			cr_assert_not_null(t, "%s lacks %s", codes[l], s->tmpl);
			if (l > 0)
				cr_assert(t != en, "%s falls back for %s",
				    codes[l], s->tmpl);
			market_lang_assert_reads(codes[l], s->tmpl, s->args,
			    s->nargs, NULL, NULL);
			for (k = 0; k < s->nargs; k++)
				for (c = 0; c < sizeof(count_names) /
				    sizeof(count_names[0]); c++) {
					size_t	 j;

					if (strcmp(s->args[k].name,
					    count_names[c]) != 0)
						continue;
					for (j = 0; j < sizeof(counts) /
					    sizeof(counts[0]); j++)
						market_lang_assert_reads(codes[l], s->tmpl,
						    s->args, s->nargs, count_names[c],
						    counts[j]);
				}
		}
	}
	cr_assert_gt(checked, 20);
	/* every pool template of the files was sent or rendered */
	names = file_templates(TEST_SRCDIR "/../conf/lang/en.conf", &n);
	cr_assert_geq(n, 30);
	for (i = 0; i < n; i++) {
		char	 call[80];
		int	 found = 0;
		size_t	 j;

		snprintf(call, sizeof(call), "%s(", names[i]);
		for (k = 0; k < market_nseen && !found; k++) {
			found = strcmp(market_seen[k].tmpl, names[i]) == 0;
			for (j = 0; j < market_seen[k].nargs && !found; j++)
				found = strstr(market_seen[k].args[j].value, call) !=
				    NULL;
		}
		/* the words after POOL are read, not sent */
		found |= strncmp(names[i], "market-pool-word-", 17) == 0;
		/* OFFER's and a pool order's: test_market_pool_order.c's
		   tour */
		found |= strncmp(names[i], "market-pool-offer", 17) == 0 ||
		    strcmp(names[i], "market-pool-buy-dear") == 0 ||
		    strcmp(names[i], "market-pool-expired-ended") == 0;
		cr_assert(found, "the tour never used %s", names[i]);
		for (l = 1; l < 4; l++)
			cr_assert_not_null(lang_template(market_lang_shipped, codes[l],
			    names[i]), "%s lacks %s", codes[l], names[i]);
		free(names[i]);
	}
	free(names);
}

/* --- more states and the conf ------------------------------------------------------------------ */

BOTH(a_listed_pool_whose_offer_expires_lapses)
{
	open_pool();
	run_reply(ANNA, "join 1 100", "market-pool-join-full");
	/* offer-lifetime (7d) after the listing */
	cr_assert_eq(timer(T0 + 7 * DAY), MB_OK);
	cr_assert_str_eq(pool_state(1), "lapsed");
	cr_assert_str_eq(db_text("SELECT state FROM market_posts"
	    " WHERE ref = $1", 1), "expired");
	cr_assert_eq(count(OPENER, "market-pool-lapsed"), 1);
	cr_assert_eq(count(ANNA, "market-pool-lapsed"), 1);
	/* told as a pool, not as a lone offer too */
	cr_assert_eq(count(OPENER, "market-expired-offer"), 0);
}

BOTH(a_member_joins_through_her_agent)
{
	open_pool();
	plugin_mock_member(m, "m:M17", "Mary Wanjiku via Kiambogo point",
	    "+254722555000");
	mock_clear(m);
	mock_sender(m, "m:M17", "Mary Wanjiku via Kiambogo point", "nakuru",
	    "en", MB_ROLE_FARMER);
	cr_assert_eq(mock_command(m, "join 1 100"), MB_OK);
	cr_assert_str_eq(sent(0)->tmpl, "market-pool-join-full");
	cr_assert_str_eq(db_text("SELECT member FROM market_pool_shares"
	    " WHERE pool = $1", 1), "m:M17");
	/* the opener hears of the listing */
	cr_assert_eq(count(OPENER, "market-pool-listed"), 1);
}

Test(pool, conf_values)
{
	const struct market_conf	*cf;

	mock_free(m);
	start(NULL);
	mock_conf(m, "pool-allocation", "prorata");
	mock_conf(m, "pool-min", "80");
	mock_conf(m, "pool-grace", "3d");
	mock_conf(m, "pool-dropoff", "1d");
	cr_assert_eq(mock_init(m), MB_OK);
	cf = &((struct market_state *)mock_state(m))->conf;
	cr_assert_eq(cf->pool_prorata, 1);
	cr_assert_eq(cf->pool_min, 80);
	cr_assert_eq(cf->pool_grace, 3 * DAY);
	cr_assert_eq(cf->pool_dropoff, DAY);
	/* the rule is the pool's from its opening */
	open_pool();
	cr_assert_str_eq(db_text("SELECT rule FROM market_pools WHERE ref = $1",
	    1), "prorata");
	run_reply(ANNA, "join 1 79", "market-pool-join-ok");
	run_reply(OPENER, "close 1", "market-pool-close-low");
	has(0, "min", "80");
}

Test(pool, conf_defaults)
{
	const struct market_conf	*cf;

	cf = &((struct market_state *)mock_state(m))->conf;
	cr_assert_eq(cf->pool_prorata, 0);
	cr_assert_eq(cf->pool_min, 50);
	cr_assert_eq(cf->pool_grace, 2 * DAY);
	cr_assert_eq(cf->pool_dropoff, 2 * DAY);
}

Test(pool, conf_refusals)
{
	static const char	*bad[][2] = {
		{ "pool-allocation", "random" }, { "pool-min", "0" },
		{ "pool-min", "101" }, { "pool-grace", "soon" },
		{ "pool-dropoff", "31d" },
	};
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mock_free(m);
		start(NULL);
		mock_conf(m, bad[i][0], bad[i][1]);
		cr_assert_eq(mock_init(m), MB_FAIL, "%s = %s", bad[i][0],
		    bad[i][1]);
	}
}
