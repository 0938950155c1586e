/*
 * test_market_pool_order.c - a pool's orders (plugins/market/
 * market_pool_order.c), run through the mock host: the allocation in
 * both rules (exact sums, the remainder rule and its ties, more than the
 * shares hold); BUY on a listed sell pool making one share order per
 * member, each told her part and the buyer's name; ACCEPT, SENT and
 * DELIVERED of the pool order moving every share order, each member told
 * once, trade_done per share order and not for the pool order; REJECT
 * giving the parts back so that a second BUY allocates again; OFFER on a
 * want pool and the opener's BUY making buyer-side share orders; and every
 * template these send fitting one SMS in the four shipped languages.
 *
 * Pools are made as market_pool.c leaves them, rows written directly
 * (market_pools, market_pool_shares and the listing's market_posts row of
 * the same ref), so these tests do not depend on POOL and JOIN's replies.
 * The same story runs on PostgreSQL (suite pool_order_pg, MB_TEST_PG).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "store/store.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "text/render.h"
#include "marketbox-plugin.h"

#ifdef HAVE_POSTGRESQL
#include "pg_fixture.h"
#endif
#include "market_fixture.h"
#include "market_lang.h"
#include "plugin_mock.h"
#include "plugins/market/market.h"

extern const struct mb_plugin marketbox_plugin;

#define OPENER		"+254700000001"		/* Wanjiru: opens the pools */
#define BUYER		"+254700000002"		/* Otieno */
#define DEALER		"+254700000003"		/* registered, no mock name */
#define MEMBER_A	"+254700000011"
#define MEMBER_B	"+254700000012"
#define MEMBER_C	"+254700000013"
#define T0		1700000000LL
#define DAY		86400LL
#define POOL		51
#define WANT_POOL	52

static struct mock	*m;

/* --- the allocation (pure) ------------------------------------------------------ */

static void
shares_of(struct market_share *s, const long long *qty, const long long *sold,
    size_t n)
{
	size_t	 i;

	memset(s, 0, n * sizeof(*s));
	for (i = 0; i < n; i++) {
		snprintf(s[i].member, sizeof(s[i].member), "m%zu", i);
		s[i].qty = qty[i];
		s[i].sold = sold != NULL ? sold[i] : 0;
		s[i].seq = (long long)i + 1;
	}
}

static long long
sum(const long long *v, size_t n)
{
	long long	 t = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		t += v[i];
	return t;
}

Test(pool_allocate, joined_fills_in_order_of_joining)
{
	struct market_share	 s[3];
	long long		 q[] = { 5, 20, 10 }, out[3];

	shares_of(s, q, NULL, 3);
	cr_assert_eq(market_pool_allocate(12, s, 3, 0, out), 0);
	cr_assert(out[0] == 5 && out[1] == 7 && out[2] == 0,
	    "%lld %lld %lld", out[0], out[1], out[2]);
	cr_assert_eq(market_pool_allocate(35, s, 3, 0, out), 0);
	cr_assert(out[0] == 5 && out[1] == 20 && out[2] == 10);
}

Test(pool_allocate, prorata_largest_remainder)
{
	struct market_share	 s[3];
	long long		 q[] = { 5, 20, 10 }, out[3];

	/* 12 of 35: 60/35 = 1 r25, 240/35 = 6 r30, 120/35 = 3 r15; 2 left:
	   to remainders 30 then 25 */
	shares_of(s, q, NULL, 3);
	cr_assert_eq(market_pool_allocate(12, s, 3, 1, out), 0);
	cr_assert(out[0] == 2 && out[1] == 7 && out[2] == 3,
	    "%lld %lld %lld", out[0], out[1], out[2]);
}

Test(pool_allocate, prorata_ties_go_to_the_earlier_joiner)
{
	struct market_share	 s[3];
	long long		 q[] = { 1, 1, 1 }, out[3];

	shares_of(s, q, NULL, 3);
	cr_assert_eq(market_pool_allocate(1, s, 3, 1, out), 0);
	cr_assert(out[0] == 1 && out[1] == 0 && out[2] == 0);
	cr_assert_eq(market_pool_allocate(2, s, 3, 1, out), 0);
	cr_assert(out[0] == 1 && out[1] == 1 && out[2] == 0);
	{
		long long	 q2[] = { 3, 3, 3, 3 }, out2[4];
		struct market_share	 s2[4];

		/* 6 of 12: 1.5 each, remainders tie: the first two */
		shares_of(s2, q2, NULL, 4);
		cr_assert_eq(market_pool_allocate(6, s2, 4, 1, out2), 0);
		cr_assert(out2[0] == 2 && out2[1] == 2 && out2[2] == 1 &&
		    out2[3] == 1, "%lld %lld %lld %lld", out2[0], out2[1],
		    out2[2], out2[3]);
	}
}

Test(pool_allocate, one_member_all_and_none)
{
	struct market_share	 s[3];
	long long		 q[] = { 7, 4, 9 }, out[3];
	int			 rule;

	for (rule = 0; rule < 2; rule++) {
		shares_of(s, q, NULL, 1);
		cr_assert_eq(market_pool_allocate(7, s, 1, rule, out), 0);
		cr_assert_eq(out[0], 7);
		shares_of(s, q, NULL, 3);
		cr_assert_eq(market_pool_allocate(20, s, 3, rule, out), 0);
		cr_assert(out[0] == 7 && out[1] == 4 && out[2] == 9);
		cr_assert_eq(market_pool_allocate(0, s, 3, rule, out), 0);
		cr_assert_eq(sum(out, 3), 0);
		cr_assert_eq(market_pool_allocate(0, s, 0, rule, out), 0);
		cr_assert_eq(market_pool_allocate(1, s, 0, rule, out), -1);
	}
}

Test(pool_allocate, more_than_the_shares_hold_is_refused)
{
	struct market_share	 s[3];
	long long		 q[] = { 5, 20, 10 }, sold[] = { 5, 3, 0 };
	long long		 out[3];
	int			 rule;

	for (rule = 0; rule < 2; rule++) {
		shares_of(s, q, NULL, 3);
		cr_assert_eq(market_pool_allocate(36, s, 3, rule, out), -1);
		cr_assert_eq(market_pool_allocate(-1, s, 3, rule, out), -1);
		/* what is sold is not held any more */
		shares_of(s, q, sold, 3);
		cr_assert_eq(market_pool_allocate(28, s, 3, rule, out), -1);
		cr_assert_eq(market_pool_allocate(27, s, 3, rule, out), 0);
		cr_assert(out[0] == 0 && out[1] == 17 && out[2] == 10);
	}
}

Test(pool_allocate, sold_parts_are_not_given_again)
{
	struct market_share	 s[3];
	long long		 q[] = { 10, 10, 10 }, sold[] = { 10, 0, 4 };
	long long		 out[3];

	shares_of(s, q, sold, 3);
	cr_assert_eq(market_pool_allocate(8, s, 3, 1, out), 0);
	/* unsold 0, 10, 6: 80/16 = 5, 48/16 = 3 */
	cr_assert(out[0] == 0 && out[1] == 5 && out[2] == 3,
	    "%lld %lld %lld", out[0], out[1], out[2]);
}

/* Many shapes: both rules sum exactly and never give more than held. */
Test(pool_allocate, sums_are_exact_in_both_rules)
{
	struct market_share	 s[MARKET_POOL_SHARES_MAX];
	long long		 q[MARKET_POOL_SHARES_MAX], out[MARKET_POOL_SHARES_MAX];
	long long		 held, qty;
	unsigned		 seed = 17;
	size_t			 n, i, round;
	int			 rule;

	for (round = 0; round < 400; round++) {
		n = 1 + round % MARKET_POOL_SHARES_MAX;
		held = 0;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			q[i] = 1 + (long long)((seed >> 16) % (round % 3 == 0 ?
			    3 : 1000));
			held += q[i];
		}
		shares_of(s, q, NULL, n);
		for (rule = 0; rule < 2; rule++) {
			seed = seed * 1103515245u + 12345u;
			qty = (long long)((seed >> 8) % (unsigned)(held + 1));
			cr_assert_eq(market_pool_allocate(qty, s, n, rule, out),
			    0);
			cr_assert_eq(sum(out, n), qty, "rule %d n %zu", rule,
			    n);
			for (i = 0; i < n; i++)
				cr_assert(out[i] >= 0 && out[i] <= q[i]);
			cr_assert_eq(market_pool_allocate(held, s, n, rule,
			    out), 0);
			for (i = 0; i < n; i++)
				cr_assert_eq(out[i], q[i]);
			cr_assert_eq(market_pool_allocate(held + 1, s, n, rule,
			    out), -1);
		}
	}
}

/* --- the mock, its store on either engine ------------------------------------- */

static void
setup_on(const char *database)
{
	/* pool-dropoff: its default, 2d */
	m = mock_new_on(&marketbox_plugin, database);
	cr_assert_eq(mock_init(m), MB_OK);
	mock_set_now(m, T0);
}

static void
setup(void)
{
	setup_on(NULL);
}

#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	setup_on(market_fixture_pg("pool_order"));
}
#endif

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
	market_fixture_drop();
}

/* sql on the mock's store, either engine; 0 or the test fails */
static void
exec(const char *sql)
{
	cr_assert_eq(store_exec(mock_store(m), sql), 0, "%s", sql);
}

/* the fixture's helpers on this file's mock (market_fixture.h) */
#define db_int(sql, a)		mtest_db_int(m, (sql), (a), 0)
#define db_text(sql, a)		mtest_db_text(m, (sql), (a), 0)

/* --- helpers ------------------------------------------------------------------ */

static int
run(const char *who, const char *text)
{
	int	 rc;

	mock_clear(m);
	if (strcmp(who, OPENER) == 0)
		mock_sender(m, OPENER, "Wanjiru", "nakuru", "en",
		    MB_ROLE_FARMER | MB_ROLE_BUYER);
	else if (strcmp(who, BUYER) == 0)
		mock_sender(m, BUYER, "Otieno", "nakuru", "en",
		    MB_ROLE_FARMER | MB_ROLE_BUYER);
	else
		mock_sender(m, who, "Someone", "nakuru", "en",
		    MB_ROLE_ANY);
	rc = mock_command(m, text);
	market_lang_collect(m);
	return rc;
}

/* who sends text: handled, its first message the reply tmpl */
#define run_reply(who, text, tmpl) \
	mtest_replied(m, run((who), (text)), (text), (tmpl))
/* The notices of tmpl sent to who (NULL: replies) in the last run. */
#define notices(who, tmpl)	mtest_count(m, (who), (tmpl))
/* The only notice of tmpl to who: its argument name. */
#define notice_arg(who, tmpl, name) \
	mtest_only_arg(m, (who), (tmpl), (name))

static const char	*members[] = { MEMBER_A, MEMBER_B, MEMBER_C };

/*
 * A listed pool as market_pool.c leaves it: kind sell (an offer of ref
 * POOL) or want (a want of ref WANT_POOL), the opener Wanjiru, maize in
 * bags at 3000 KES at nakuru, members A, B, C with 5, 20, 10 bags.
 */
static void
pool_listed(const char *kind, const char *rule)
{
	long long	 ref = strcmp(kind, "sell") == 0 ? POOL : WANT_POOL;
	char		 sql[512];
	static const long long	 qty[] = { 5, 20, 10 };
	size_t		 i;

	snprintf(sql, sizeof(sql), "INSERT INTO market_pools(ref, kind,"
	    " opener, commodity, unit, market, target, price, rule, state,"
	    " created, deadline) VALUES (%lld, '%s', '%s', 'maize', 'bag',"
	    " 'nakuru', 35, 300000, '%s', 'listed', %lld, %lld)", ref, kind,
	    OPENER, rule, T0, T0 + 7 * DAY);
	exec(sql);
	for (i = 0; i < 3; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO market_pool_shares("
		    "pool, member, qty, sold, seq, joined) VALUES (%lld, '%s',"
		    " %lld, 0, %zu, %lld)", ref, members[i], qty[i], i + 1,
		    T0 + (long long)i);
		exec(sql);
	}
	snprintf(sql, sizeof(sql), "INSERT INTO market_posts(ref, kind,"
	    " msisdn, commodity, unit, market, qty, qty_left, price, state,"
	    " created, expires) VALUES (%lld, '%s', '%s', 'maize', 'bag',"
	    " 'nakuru', 35, 35, 300000, 'open', %lld, %lld)", ref,
	    strcmp(kind, "sell") == 0 ? "offer" : "want", OPENER, T0,
	    T0 + 7 * DAY);
	exec(sql);
}

/* An integer of sql with $1 bound to a and $2 to the text b. */
static long long
db_int2(const char *sql, long long a, const char *b)
{
	struct store_stmt	*st = store_query(mock_store(m), sql);
	long long		 v;

	cr_assert_not_null(st, "%s", sql);
	cr_assert_eq(store_bind_int(st, 1, a), 0);
	cr_assert_eq(store_bind_text(st, 2, b), 0);
	cr_assert_eq(store_step(st), STORE_ROW, "%s: no row", sql);
	v = store_int(st, 0);
	store_done(st);
	return v;
}

static long long
sold_of(long long pool, const char *member)
{
	return db_int2("SELECT sold FROM market_pool_shares WHERE pool = $1"
	    " AND member = $2", pool, member);
}

static long long
share_orders(long long parent)
{
	return db_int("SELECT count(*) FROM market_orders WHERE parent = $1",
	    parent);
}

static long long
share_qty(long long parent, const char *member)
{
	return db_int2("SELECT qty FROM market_orders WHERE parent = $1"
	    " AND (seller = $2 OR buyer = $2)", parent, member);
}

static long long
states_of(long long parent, const char *state)
{
	return db_int2("SELECT count(*) FROM market_orders WHERE parent = $1"
	    " AND state = $2", parent, state);
}

/* --- a sell pool's order ---------------------------------------------------------- */

/*
 * The whole story on a sell pool: BUY makes the share orders, ACCEPT,
 * SENT and DELIVERED move them, each member told once per step, a trade
 * per share order.
 */
static void
sell_pool_story(void)
{
	const char	*order;

	pool_listed("sell", "joined");
	/* BUY 51 12: order 1 (ref_next), share orders 2 (A: 5), 3 (B: 7) */
	run_reply(BUYER, "buy 51 12", "market-order-ok");
	cr_assert_eq(share_orders(1), 2);
	cr_assert_eq(share_qty(1, MEMBER_A), 5);
	cr_assert_eq(share_qty(1, MEMBER_B), 7);
	cr_assert_eq(sold_of(POOL, MEMBER_A), 5);
	cr_assert_eq(sold_of(POOL, MEMBER_B), 7);
	cr_assert_eq(sold_of(POOL, MEMBER_C), 0);
	cr_assert_eq(db_int("SELECT total FROM market_orders WHERE ref = $1",
	    3), 7 * 300000LL);
	cr_assert_eq(db_int("SELECT qty_left FROM market_posts WHERE"
	    " ref = $1", POOL), 23, "the pool order reserved, once");
	cr_assert_str_eq(notice_arg(MEMBER_A, "market-share-sold", "qty"),
	    "5");
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-sold", "qty"),
	    "7");
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-sold", "name"),
	    "Otieno");
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-sold", "pool"),
	    "51");
	cr_assert_eq(notices(MEMBER_C, "market-share-sold"), 0);
	cr_assert_eq(notices(OPENER, "market-order-seller"), 1);

	run_reply(OPENER, "accept 1", "market-accept-ok");
	cr_assert_eq(states_of(1, "accepted"), 2);
	cr_assert_str_eq(notice_arg(MEMBER_A, "market-share-accepted", "day"),
	    "2023-11-16");
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-accepted",
	    "point"), "Nakuru");
	cr_assert_eq(notices(MEMBER_C, "market-share-accepted"), 0);

	run_reply(OPENER, "sent 1", "market-sent-ok");
	cr_assert_eq(states_of(1, "sent"), 2);
	cr_assert_eq(notices(MEMBER_A, "market-share-sent"), 1);
	cr_assert_eq(notices(MEMBER_B, "market-share-sent"), 1);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " parent = $1 AND remind_at IS NOT NULL", 1), 0,
	    "share orders have no reminder of their own");

	run_reply(BUYER, "delivered 1", "market-delivered-ok");
	cr_assert_eq(states_of(1, "delivered"), 2);
	order = notice_arg(MEMBER_B, "market-share-delivered", "total");
	cr_assert_str_eq(order, "21000");
	cr_assert_eq(notices(MEMBER_A, "market-share-delivered"), 1);
	/* a trade per share order; none for the pool order */
	cr_assert_eq(mock_ntrades(m), 2);
	cr_assert_eq(mock_trade(m, 0)->ref, 2);
	cr_assert_str_eq(mock_trade(m, 0)->seller, MEMBER_A);
	cr_assert_str_eq(mock_trade(m, 0)->buyer, BUYER);
	cr_assert_eq(mock_trade(m, 0)->total, 5 * 300000LL);
	cr_assert_eq(mock_trade(m, 1)->ref, 3);
	cr_assert_eq(mock_trade(m, 1)->total, 7 * 300000LL);
}

TestSuite(pool_order, .init = setup, .fini = teardown);

Test(pool_order, buy_accept_send_deliver_a_sell_pool)
{
	sell_pool_story();
}

Test(pool_order, prorata_pool_shares_by_the_rule)
{
	pool_listed("sell", "prorata");
	run_reply(BUYER, "buy 51 12", "market-order-ok");
	cr_assert_eq(share_orders(1), 3);
	cr_assert_eq(share_qty(1, MEMBER_A), 2);
	cr_assert_eq(share_qty(1, MEMBER_B), 7);
	cr_assert_eq(share_qty(1, MEMBER_C), 3);
	cr_assert_eq(notices(MEMBER_C, "market-share-sold"), 1);
}

Test(pool_order, reject_gives_the_shares_back_for_the_next_buy)
{
	pool_listed("sell", "joined");
	run_reply(BUYER, "buy 51 30", "market-order-ok");
	cr_assert_eq(sold_of(POOL, MEMBER_C), 5);
	cr_assert_str_eq(db_text("SELECT state FROM market_pools WHERE"
	    " ref = $1", POOL), "listed", "5 bags are still offered");
	run_reply(BUYER, "buy 51 5", "market-order-ok");	/* 5: C 5 */
	cr_assert_str_eq(db_text("SELECT state FROM market_pools WHERE"
	    " ref = $1", POOL), "sold");
	run_reply(OPENER, "reject 5", "market-reject-ok");
	cr_assert_str_eq(db_text("SELECT state FROM market_pools WHERE"
	    " ref = $1", POOL), "listed", "back on offer, listed again");
	cr_assert_eq(sold_of(POOL, MEMBER_C), 5);
	/* LEAVE names her live share order (4), not the rejected one (6) */
	run_reply(MEMBER_C, "leave 51", "market-pool-leave-sold");
	cr_assert_str_eq(mock_arg(mock_sent(m, 0), "order"), "4");
	run_reply(OPENER, "reject 1 lorry broke", "market-reject-ok");
	cr_assert_eq(states_of(1, "rejected"), 3);
	cr_assert_eq(sold_of(POOL, MEMBER_A), 0);
	cr_assert_eq(sold_of(POOL, MEMBER_B), 0);
	cr_assert_eq(sold_of(POOL, MEMBER_C), 0);
	cr_assert_eq(notices(MEMBER_A, "market-share-back"), 1);
	cr_assert_eq(notices(MEMBER_C, "market-share-back"), 1);
	/* all 35 again: a second buyer takes them all */
	run_reply(DEALER, "buy 51 35", "market-order-ok");
	cr_assert_eq(sold_of(POOL, MEMBER_A), 5);
	cr_assert_eq(sold_of(POOL, MEMBER_B), 20);
	cr_assert_eq(sold_of(POOL, MEMBER_C), 10);
	/* the mock has no name for the dealer: his number */
	cr_assert_str_eq(notice_arg(MEMBER_C, "market-share-sold", "name"),
	    DEALER);
}

/*
 * A member never buys her own lot back: her BUY of the pool is refused,
 * naming the way to other offers, and her want is not matched with it
 * (nor the pool's opener told of it), while a buyer's is.
 */
Test(pool_order, a_member_is_not_sold_her_own_lot)
{
	pool_listed("sell", "joined");
	run_reply(MEMBER_A, "buy 51 5", "market-share-own");
	cr_assert_eq(share_orders(1), 0);
	cr_assert_eq(sold_of(POOL, MEMBER_A), 0);
	run_reply(MEMBER_A, "want maize 5 bags 3200", "market-want-ok");
	cr_assert_eq(notices(OPENER, "market-match-seller"), 0);
	run_reply(BUYER, "want maize 5 bags 3200", "market-want-ok");
	cr_assert_eq(notices(OPENER, "market-match-seller"), 1);
}

Test(pool_order, cancel_and_expiry_give_the_shares_back)
{
	pool_listed("sell", "joined");
	run_reply(BUYER, "buy 51 6", "market-order-ok");
	run_reply(BUYER, "cancel 1", "market-cancelled-order");
	cr_assert_eq(states_of(1, "cancelled"), 2);
	cr_assert_eq(sold_of(POOL, MEMBER_B), 0);
	run_reply(BUYER, "buy 51 6", "market-order-ok");	/* 4: 5, 6 */
	cr_assert_eq(sold_of(POOL, MEMBER_B), 1);
	mock_clear(m);
	mock_set_now(m, T0 + 2 * DAY);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
	market_lang_collect(m);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE"
	    " ref = $1", 4), "expired");
	cr_assert_eq(states_of(4, "expired"), 2);
	cr_assert_eq(sold_of(POOL, MEMBER_A), 0);
	cr_assert_eq(sold_of(POOL, MEMBER_B), 0);
	cr_assert_eq(notices(MEMBER_A, "market-share-back"), 1);
}

Test(pool_order, a_share_order_moves_only_with_its_pool_order)
{
	pool_listed("sell", "joined");
	run_reply(BUYER, "buy 51 6", "market-order-ok");
	run_reply(MEMBER_A, "accept 2", "market-share-order");
	run_reply(MEMBER_A, "reject 2", "market-share-order");
	run_reply(MEMBER_A, "cancel 2", "market-share-order");
	run_reply(BUYER, "cancel 3", "market-share-order");
	cr_assert_eq(states_of(1, "pending"), 2);
	cr_assert_eq(sold_of(POOL, MEMBER_A), 5);
}

Test(pool_order, an_ordinary_order_has_no_shares)
{
	run_reply(OPENER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 4", "market-order-ok");
	cr_assert_eq(share_orders(2), 0);
	cr_assert_str_eq(db_text("SELECT parent FROM market_orders WHERE"
	    " ref = $1", 2), "NULL");
	run_reply(OPENER, "accept 2", "market-accept-ok");
	run_reply(OPENER, "sent 2", "market-sent-ok");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(mock_ntrades(m), 1, "an ordinary order is its own trade");
}

/*
 * Through POOL and JOIN (market_pool.c): the pool fills, is listed, a
 * buyer takes it all; the pool is sold, each member has her share order,
 * and LEAVE after the sale is refused.
 */
Test(pool_order, a_pool_made_by_pool_and_join_is_bought)
{
	run_reply(OPENER, "pool sell maize 30 bags 3000 7", "market-pool-ok");
	run_reply(MEMBER_A, "join 1 10", "market-pool-join-ok");
	run_reply(MEMBER_B, "join 1 5", "market-pool-join-ok");
	run(MEMBER_C, "join 1 15");
	cr_assert_str_eq(db_text("SELECT state FROM market_pools WHERE"
	    " ref = $1", 1), "listed");
	run_reply(BUYER, "buy 1 30", "market-order-ok");	/* 2: 3, 4, 5 */
	cr_assert_eq(share_orders(2), 3);
	cr_assert_eq(share_qty(2, MEMBER_A), 10);
	cr_assert_eq(share_qty(2, MEMBER_C), 15);
	cr_assert_eq(notices(MEMBER_B, "market-share-sold"), 1);
	cr_assert_str_eq(db_text("SELECT state FROM market_pools WHERE"
	    " ref = $1", 1), "sold");
	run_reply(MEMBER_A, "leave 1", "market-pool-leave-sold");
	cr_assert_str_eq(mock_arg(mock_sent(m, 0), "order"), "3");
	cr_assert_eq(sold_of(1, MEMBER_A), 10, "her share stays sold");
	run_reply(OPENER, "accept 2", "market-accept-ok");
	cr_assert_eq(states_of(2, "accepted"), 3);
}

/* --- a pool whose offer ends ------------------------------------------------------ */

static const char *
pool_state(long long ref)
{
	return db_text("SELECT state FROM market_pools WHERE ref = $1", ref);
}

static void
sweep_at(long long now)
{
	mock_clear(m);
	mock_set_now(m, now);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
	market_lang_collect(m);
}

/* 1 if who's MY lists a pool (the pool's line or her share's). */
static int
my_lists_a_pool(const char *who)
{
	const char	*items;

	cr_assert_eq(run(who, "my"), MB_OK);
	if (strcmp(mock_sent(m, 0)->tmpl, "market-my-empty") == 0)
		return 0;
	cr_assert_str_eq(mock_sent(m, 0)->tmpl, "market-my-page");
	items = mock_arg(mock_sent(m, 0), "items");
	cr_assert_not_null(items);
	return strstr(items, "market-pool-item") != NULL;
}

/* No member nor the opener was told "nothing was traded". */
static void
none_lapsed(void)
{
	size_t	 i;

	cr_assert_eq(notices(OPENER, "market-pool-lapsed"), 0);
	for (i = 0; i < 3; i++)
		cr_assert_eq(notices(members[i], "market-pool-lapsed"), 0,
		    "%s", members[i]);
}

/*
 * Sold on day 6 of its offer's 7, the pool order rejected on day 8: the
 * parts are back with their members, and the pool, whose offer has
 * ended, lapses instead of staying sold for ever; each member is told
 * her lot is free (not that it is back in a pool no longer offered).
 */
static void
rejected_after_the_offer_ended_lapses(void)
{
	size_t	 i;

	pool_listed("sell", "joined");
	mock_set_now(m, T0 + 6 * DAY);
	run_reply(BUYER, "buy 51 35", "market-order-ok");	/* 1: 2, 3, 4 */
	cr_assert_str_eq(pool_state(POOL), "sold");
	mock_set_now(m, T0 + 8 * DAY);
	run_reply(OPENER, "reject 1", "market-reject-ok");
	cr_assert_str_eq(pool_state(POOL), "lapsed");
	cr_assert_str_eq(db_text("SELECT state FROM market_posts WHERE"
	    " ref = $1", POOL), "expired");
	for (i = 0; i < 3; i++) {
		cr_assert_eq(sold_of(POOL, members[i]), 0);
		cr_assert_eq(notices(members[i], "market-share-ended"), 1,
		    "%s", members[i]);
		cr_assert_eq(notices(members[i], "market-share-back"), 0);
	}
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-ended", "qty"),
	    "20");
	/* the opener sent the REJECT: his reply says it */
	cr_assert_eq(notices(OPENER, "market-pool-lapsed"), 0);
	cr_assert(!my_lists_a_pool(MEMBER_A), "MY shows a lapsed pool");
	cr_assert(!my_lists_a_pool(OPENER));
}

Test(pool_order, a_sold_pool_rejected_after_its_offer_ended_lapses)
{
	rejected_after_the_offer_ended_lapses();
}

/*
 * A sent pool order whose dispute was decided for its buyer: at its
 * completion time it and its share orders end cancelled (reason
 * dispute), the members' parts stay sold (the goods left), no trade, each
 * member told as a party.
 */
static void
dispute_for_the_buyer_cancels_the_shares(void)
{
	pool_listed("sell", "joined");
	run_reply(BUYER, "buy 51 6", "market-order-ok");	/* 1: 2, 3 */
	run_reply(OPENER, "accept 1", "market-accept-ok");
	run_reply(OPENER, "sent 1", "market-sent-ok");
	run_reply(BUYER, "problem 1 wet", "market-problem-opened");
	exec("UPDATE market_disputes SET state = 'closed', closed = 1,"
	    " decision = 'buyer'");
	sweep_at(T0 + 8 * DAY);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE"
	    " ref = $1", 1), "cancelled");
	cr_assert_eq(states_of(1, "cancelled"), 2);
	cr_assert_str_eq(db_text("SELECT reason FROM market_orders WHERE"
	    " ref = $1", 2), "dispute");
	cr_assert_eq(sold_of(POOL, MEMBER_A), 5);
	cr_assert_eq(sold_of(POOL, MEMBER_B), 1);
	cr_assert_eq(db_int("SELECT qty_left FROM market_posts WHERE"
	    " ref = $1", POOL), 29);
	cr_assert_eq(notices(MEMBER_A, "market-dispute-ended-seller"), 1);
	cr_assert_eq(notices(MEMBER_B, "market-dispute-ended-seller"), 1);
	cr_assert_eq(notices(OPENER, "market-dispute-ended-seller"), 1);
	cr_assert_eq(notices(BUYER, "market-dispute-ended-buyer"), 1);
	cr_assert_str_eq(notice_arg(MEMBER_A, "market-dispute-ended-seller",
	    "dispute"), notice_arg(BUYER, "market-dispute-ended-buyer",
	    "dispute"));
	cr_assert_eq(mock_ntrades(m), 0);
}

Test(pool_order, a_dispute_for_the_buyer_cancels_the_shares)
{
	dispute_for_the_buyer_cancels_the_shares();
}

/*
 * A sell pool of rule sold whole by an order made at bought, which
 * expires unanswered when the sweep runs at swept.
 */
static void
pool_order_expires(const char *rule, long long bought, long long swept)
{
	pool_listed("sell", rule);
	mock_set_now(m, bought);
	run_reply(BUYER, "buy 51 35", "market-order-ok");
	cr_assert_str_eq(pool_state(POOL), "sold");
	sweep_at(swept);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE"
	    " ref = $1", 1), "expired");
}

/* The same when the pool order expires unanswered after the offer. */
Test(pool_order, a_sold_pool_whose_order_expires_after_its_offer_lapses)
{
	pool_order_expires("prorata", T0 + 6 * DAY, T0 + 8 * DAY);
	cr_assert_str_eq(pool_state(POOL), "lapsed");
	cr_assert_eq(sold_of(POOL, MEMBER_C), 0);
	cr_assert_eq(notices(MEMBER_C, "market-share-ended"), 1);
	cr_assert_eq(notices(OPENER, "market-pool-lapsed"), 1);
	/* nothing went back on an offer that has ended */
	cr_assert_eq(notices(OPENER, "market-expired-order-seller"), 0);
	cr_assert_str_eq(notice_arg(OPENER, "market-pool-expired-ended",
	    "offer"), "51");
}

/* An order that expires while the pool's offer is open: back on offer. */
Test(pool_order, a_pool_order_expiring_in_its_offer_goes_back_on_it)
{
	pool_order_expires("joined", T0, T0 + 3 * DAY);
	cr_assert_str_eq(pool_state(POOL), "listed");
	cr_assert_eq(notices(OPENER, "market-expired-order-seller"), 1);
	cr_assert_eq(notices(OPENER, "market-pool-expired-ended"), 0);
}

/*
 * A full pool of 35 gets BUY 51 12 (accepted); its offer expires with 23
 * left: the pool is sold (it sold what it sold), nobody is told "nothing
 * was traded"; only the members with units unsold are told how many of
 * theirs; MY keeps showing the pool while its share orders are live.
 */
static void
partly_sold_pool_ends_sold(void)
{
	const char	*items;

	pool_listed("sell", "joined");
	/* ordered and accepted the day before the offer ends: still live
	   when it does (an accepted order is cancelled after 72h unsent) */
	mock_set_now(m, T0 + 6 * DAY);
	run_reply(BUYER, "buy 51 12", "market-order-ok");	/* 1: A 5, B 7 */
	run_reply(OPENER, "accept 1", "market-accept-ok");
	sweep_at(T0 + 7 * DAY);
	cr_assert_str_eq(db_text("SELECT state FROM market_posts WHERE"
	    " ref = $1", POOL), "expired");
	cr_assert_str_eq(pool_state(POOL), "sold");
	none_lapsed();
	cr_assert_eq(notices(MEMBER_A, "market-share-left"), 0,
	    "all of hers is sold");
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-left", "unsold"),
	    "13");
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-left", "share"),
	    "20");
	cr_assert_str_eq(notice_arg(MEMBER_C, "market-share-left", "unsold"),
	    "10");
	cr_assert_eq(notices(OPENER, "market-share-left"), 0);
	cr_assert_eq(states_of(1, "accepted"), 2, "the sale goes on");
	cr_assert(my_lists_a_pool(MEMBER_B));
	items = mock_arg(mock_sent(m, 0), "items");
	cr_assert_not_null(strstr(items, "market-pool-state-sold"), "%s",
	    items);
	cr_assert(my_lists_a_pool(OPENER));
	/* a share order still live, long after: still shown */
	mock_set_now(m, T0 + 30 * DAY);
	cr_assert(my_lists_a_pool(MEMBER_A));
	run_reply(OPENER, "sent 1", "market-sent-ok");
	run_reply(BUYER, "delivered 1", "market-delivered-ok");
	cr_assert_eq(states_of(1, "delivered"), 2);
	/* done, and ended more than offer-lifetime ago: MY lets it go */
	cr_assert(!my_lists_a_pool(MEMBER_A));
	cr_assert(!my_lists_a_pool(OPENER));
}

Test(pool_order, a_partly_sold_pool_whose_offer_expires_is_sold)
{
	partly_sold_pool_ends_sold();
}

/* The same for a buying pool whose want expires partly counted. */
static void
partly_bought_want_pool_ends_sold(void)
{
	pool_listed("want", "joined");
	/* the day before the want ends, as above */
	mock_set_now(m, T0 + 6 * DAY);
	run_reply(DEALER, "offer 52 2900", "market-pool-offer-ok");	/* 1 */
	run_reply(OPENER, "buy 1 10", "market-order-ok");	/* 2: A 5, B 5 */
	cr_assert_eq(share_orders(2), 2);
	run_reply(DEALER, "accept 2", "market-accept-ok");
	sweep_at(T0 + 7 * DAY);
	cr_assert_str_eq(pool_state(WANT_POOL), "sold");
	none_lapsed();
	cr_assert_eq(notices(MEMBER_A, "market-share-left-want"), 0);
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-left-want",
	    "unsold"), "15");
	cr_assert_str_eq(notice_arg(MEMBER_C, "market-share-left-want",
	    "unsold"), "10");
	cr_assert(my_lists_a_pool(MEMBER_B));
}

Test(pool_order, a_partly_bought_want_pool_whose_want_expires_is_sold)
{
	partly_bought_want_pool_ends_sold();
}

/*
 * MY reads a sold pool only while it matters: a share order of it live,
 * or its offer ended less than offer-lifetime (7d) ago.
 */
static void
my_lets_a_done_pool_go(void)
{
	pool_listed("sell", "joined");
	run_reply(BUYER, "buy 51 35", "market-order-ok");
	run_reply(OPENER, "accept 1", "market-accept-ok");
	run_reply(OPENER, "sent 1", "market-sent-ok");
	run_reply(BUYER, "delivered 1", "market-delivered-ok");
	cr_assert_str_eq(pool_state(POOL), "sold");
	mock_set_now(m, T0 + 13 * DAY);
	cr_assert(my_lists_a_pool(MEMBER_C), "recent: shown");
	cr_assert(my_lists_a_pool(OPENER));
	mock_set_now(m, T0 + 15 * DAY);
	cr_assert(!my_lists_a_pool(MEMBER_C), "sold and done: not for ever");
	cr_assert(!my_lists_a_pool(OPENER));
}

Test(pool_order, my_lets_a_sold_pool_go_once_done)
{
	my_lets_a_done_pool_go();
}

/* --- a want pool: OFFER, then the opener's BUY ------------------------------------ */

static void
want_pool_story(void)
{
	pool_listed("want", "joined");
	/* the dealer's offer: ref 1, all 35 at 2900 */
	run_reply(DEALER, "offer 52 2900", "market-pool-offer-ok");
	cr_assert_str_eq(notice_arg(OPENER, "market-pool-offered", "ref"),
	    "1");
	cr_assert_str_eq(notice_arg(OPENER, "market-pool-offered", "qty"),
	    "35");
	cr_assert_eq(db_int("SELECT price FROM market_posts WHERE ref = $1",
	    1), 290000);
	/* the opener buys it: order 2, counted to the pool's want */
	run_reply(OPENER, "buy 1 35", "market-order-ok");
	cr_assert_eq(db_int("SELECT want FROM market_orders WHERE ref = $1",
	    2), WANT_POOL);
	cr_assert_eq(share_orders(2), 3);
	cr_assert_str_eq(db_text("SELECT seller FROM market_orders WHERE"
	    " ref = $1", 3), DEALER);
	cr_assert_str_eq(db_text("SELECT buyer FROM market_orders WHERE"
	    " ref = $1", 3), MEMBER_A);
	cr_assert_eq(share_qty(2, MEMBER_B), 20);
	cr_assert_eq(sold_of(WANT_POOL, MEMBER_C), 10);
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-bought", "name"),
	    DEALER);
	/* her share order is what she answers to (market_pool.c's LEAVE) */
	run_reply(MEMBER_B, "leave 52", "market-pool-leave-sold");
	cr_assert_str_eq(mock_arg(mock_sent(m, 0), "order"), "4");
	run_reply(DEALER, "accept 2", "market-accept-ok");
	cr_assert_eq(notices(MEMBER_A, "market-share-accepted-want"), 1);
	cr_assert_eq(states_of(2, "accepted"), 3);
	run_reply(DEALER, "sent 2", "market-sent-ok");
	run_reply(OPENER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(states_of(2, "delivered"), 3);
	cr_assert_eq(mock_ntrades(m), 3);
	cr_assert_str_eq(mock_trade(m, 0)->buyer, MEMBER_A);
	cr_assert_str_eq(mock_trade(m, 0)->seller, DEALER);
}

Test(pool_order, want_pool_offer_then_buy_makes_buyer_shares)
{
	want_pool_story();
}

/*
 * A dealer's plain offer above the pool's price: the opener's BUY of it
 * is his own (no share order at a price the members never agreed to),
 * and his reply says so and names OFFER; one at the pool's price or less
 * still counts toward the pool.
 */
static void
dear_offer_is_the_openers_own(void)
{
	pool_listed("want", "joined");			/* 3,000 a bag */
	run_reply(DEALER, "sell maize 50 bags 3200", "market-offer-ok");	/* 1 */
	run_reply(OPENER, "buy 1 10", "market-order-ok");
	cr_assert_eq(db_int("SELECT COALESCE(want, 0) FROM market_orders"
	    " WHERE ref = $1", 2), 0, "counted toward the pool");
	cr_assert_eq(share_orders(2), 0);
	cr_assert_eq(sold_of(WANT_POOL, MEMBER_A), 0);
	cr_assert_eq(db_int("SELECT qty_left FROM market_posts WHERE"
	    " ref = $1", WANT_POOL), 35);
	cr_assert_str_eq(notice_arg(NULL, "market-pool-buy-dear", "pool"),
	    "52");
	cr_assert_str_eq(notice_arg(NULL, "market-pool-buy-dear", "max"),
	    "3000");
	/* at the pool's price it counts */
	exec("UPDATE market_posts SET price = 300000 WHERE ref = 1");
	run_reply(OPENER, "buy 1 5", "market-order-ok");
	cr_assert_eq(db_int("SELECT want FROM market_orders WHERE ref = $1",
	    3), WANT_POOL);
	cr_assert_eq(share_qty(3, MEMBER_A), 5);
	cr_assert_eq(notices(NULL, "market-pool-buy-dear"), 0);
}

Test(pool_order, a_dear_offer_is_the_openers_own)
{
	dear_offer_is_the_openers_own();
}

/*
 * The opener's older WANT of his own does not take what a dealer
 * offered the pool: OFFER's offer counts toward its pool first.
 */
static void
offer_counts_toward_its_pool_first(void)
{
	run_reply(OPENER, "want maize 10 bags 3100", "market-want-ok");	/* 1 */
	pool_listed("want", "joined");
	run_reply(DEALER, "offer 52 2900", "market-pool-offer-ok");	/* 2 */
	run_reply(OPENER, "buy 2 35", "market-order-ok");		/* 3 */
	cr_assert_eq(db_int("SELECT want FROM market_orders WHERE ref = $1",
	    3), WANT_POOL);
	cr_assert_eq(db_int("SELECT want_qty FROM market_orders WHERE"
	    " ref = $1", 3), 35);
	cr_assert_eq(share_orders(3), 3);
	cr_assert_eq(db_int("SELECT qty_left FROM market_posts WHERE"
	    " ref = $1", 1), 10, "his own want took it");
}

Test(pool_order, an_offer_for_the_pool_counts_toward_it_first)
{
	offer_counts_toward_its_pool_first();
}

/*
 * The opener orders 45 of a dealer's offer for a pool that wants 35: on
 * delivery the members' shares are traded and so is his own part of 10,
 * once, and nothing twice.
 */
static void
openers_own_part_is_traded(void)
{
	long long	 sum = 0;
	size_t		 i;

	pool_listed("want", "joined");
	run_reply(DEALER, "sell maize 50 bags 2900", "market-offer-ok");	/* 1 */
	run_reply(OPENER, "buy 1 45", "market-order-ok");		/* 2 */
	cr_assert_eq(db_int("SELECT want_qty FROM market_orders WHERE"
	    " ref = $1", 2), 35);
	cr_assert_eq(share_orders(2), 3);
	run_reply(DEALER, "accept 2", "market-accept-ok");
	run_reply(DEALER, "sent 2", "market-sent-ok");
	run_reply(OPENER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(mock_ntrades(m), 4);
	for (i = 0; i < 3; i++) {
		cr_assert_neq(mock_trade(m, i)->ref, 2);
		sum += mock_trade(m, i)->total;
	}
	cr_assert_eq(sum, 35 * 290000LL);
	cr_assert_eq(mock_trade(m, 3)->ref, 2);
	cr_assert_str_eq(mock_trade(m, 3)->buyer, OPENER);
	cr_assert_str_eq(mock_trade(m, 3)->seller, DEALER);
	cr_assert_eq(mock_trade(m, 3)->total, 10 * 290000LL);
}

Test(pool_order, the_openers_own_part_is_his_trade)
{
	openers_own_part_is_traded();
}

/*
 * A dealer's tiered offer answers the pool; the opener's order counts
 * toward it; another buyer's order reaches the tier: the pool order and
 * its members' share orders take the tier's price, totals exact, each
 * member told once.
 */
static void
tier_reprices_the_shares(void)
{
	size_t	 i;

	pool_listed("want", "joined");				/* 3,000 */
	run_reply(DEALER, "sell maize 100 bags 3000 tier 50 2800",
	    "market-offer-ok");					/* 1 */
	run_reply(OPENER, "buy 1 35", "market-order-ok");	/* 2: 3, 4, 5 */
	cr_assert_eq(share_orders(2), 3);
	run_reply(BUYER, "buy 1 20", "market-order-ok");	/* 6 */
	cr_assert_eq(db_int("SELECT price FROM market_orders WHERE ref = $1",
	    2), 280000);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " parent = $1 AND price = 280000", 2), 3);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " parent = $1 AND total <> qty * 280000", 2), 0);
	cr_assert_eq(db_int("SELECT SUM(total) FROM market_orders WHERE"
	    " parent = $1", 2), 35 * 280000LL);
	for (i = 0; i < 3; i++)
		cr_assert_eq(notices(members[i], "market-share-repriced"), 1,
		    "%s", members[i]);
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-repriced",
	    "total"), "56000");
	cr_assert_str_eq(notice_arg(MEMBER_B, "market-share-repriced",
	    "pool"), "52");
	cr_assert_eq(notices(OPENER, "market-tier-reached"), 1);
	/* what they answer to later is at the new price */
	run_reply(DEALER, "accept 2", "market-accept-ok");
	cr_assert_str_eq(notice_arg(MEMBER_C, "market-share-accepted-want",
	    "total"), "28000");
}

Test(pool_order, a_tier_reached_reprices_the_members_shares)
{
	tier_reprices_the_shares();
}

Test(pool_order, offer_refusals)
{
	pool_listed("want", "joined");
	pool_listed("sell", "joined");
	run_reply(DEALER, "offer 52 3001", "market-pool-offer-dear");
	run_reply(DEALER, "offer 51 2900", "market-pool-offer-none");
	run_reply(DEALER, "offer 99 2900", "market-pool-offer-none");
	run_reply(OPENER, "offer 52 2900", "market-pool-offer-own");
	run_reply(DEALER, "offer 52 abc", "market-bad-price");
	/* too much for one order: the limit, not a closed pool */
	exec("UPDATE market_posts SET qty = 100000000000, qty_left ="
	    " 100000000000 WHERE ref = 52");
	run_reply(DEALER, "offer 52 2900", "market-bad-total");
	exec("UPDATE market_posts SET qty = 35, qty_left = 35 WHERE"
	    " ref = 52");
	exec("UPDATE market_pools SET state = 'open' WHERE ref = 52");
	run_reply(DEALER, "offer 52 2900", "market-pool-offer-closed");
	cr_assert_eq(db_int2("SELECT count(*) FROM market_posts WHERE"
	    " ref > $1 AND msisdn = $2", 0, DEALER), 0, "nothing posted");
	cr_assert_eq(run(DEALER, "offer 52"), MB_USAGE);
	cr_assert_str_eq(mock_sent(m, 0)->tmpl, "usage-OFFER");
}

/* OFFER is a command of registered users; usage-OFFER its usage. */
Test(pool_order, offer_is_in_the_command_table)
{
	const struct mb_plugin	*p = &marketbox_plugin;
	size_t			 i;

	for (i = 0; i < p->ncommands; i++)
		if (strcmp(p->commands[i].id, "OFFER") == 0)
			break;
	cr_assert_lt(i, p->ncommands, "no OFFER");
	cr_assert_str_eq(p->commands[i].usage, "usage-OFFER");
	cr_assert_eq(p->commands[i].flags, (unsigned)MB_CMD_REGISTERED);
	cr_assert_eq(p->commands[i].roles, 0);
}

/* --- MY: a share order only to its member ------------------------------------------- */

/* The order lines of who's MY, every page of it (MY, MY next, ...),
   joined into all (a buffer of len). */
static size_t
my_orders(const char *who, char *all, size_t len)
{
	const char	*s, *items, *next = NULL;
	char		 cmd[32];
	size_t		 n = 0, page;

	all[0] = '\0';
	for (page = 0; page < 10; page++) {
		if (next == NULL)
			snprintf(cmd, sizeof(cmd), "my");
		else
			snprintf(cmd, sizeof(cmd), "my %s", next);
		run_reply(who, cmd, "market-my-page");
		items = mock_arg(mock_sent(m, 0), "items");
		cr_assert_not_null(items);
		strncat(all, items, len - strlen(all) - 1);
		for (s = items; (s = strstr(s, "market-item-order-")) != NULL;
		    s++)
			n++;
		next = mock_arg(mock_sent(m, 0), "next");
		s = mock_arg(mock_sent(m, 0), "more");
		if (s == NULL || strcmp(s, "0") == 0 || next == NULL)
			break;
	}
	return n;
}

/*
 * The pool order's counterparty sees the pool order alone, each member
 * her share order alone: a pool's sale is not listed (nor counted) twice.
 */
static void
my_story(void)
{
	char	 items[4096];

	pool_listed("sell", "joined");
	run_reply(BUYER, "buy 51 12", "market-order-ok");	/* 1: 2, 3 */
	cr_assert_eq(my_orders(BUYER, items, sizeof(items)), 1, "%s", items);
	cr_assert_not_null(strstr(items, "market-item-order-buy(ref=1,"),
	    "%s", items);
	cr_assert_eq(my_orders(MEMBER_B, items, sizeof(items)), 1, "%s",
	    items);
	cr_assert_not_null(strstr(items, "market-item-order-sell(ref=3,"),
	    "%s", items);

	pool_listed("want", "joined");
	run_reply(DEALER, "offer 52 2900", "market-pool-offer-ok");	/* 4 */
	run_reply(OPENER, "buy 4 35", "market-order-ok");	/* 5: 6, 7, 8 */
	cr_assert_eq(my_orders(DEALER, items, sizeof(items)), 1, "%s", items);
	cr_assert_not_null(strstr(items, "market-item-order-sell(ref=5,"),
	    "%s", items);
	cr_assert_eq(my_orders(MEMBER_B, items, sizeof(items)), 2, "%s",
	    items);
	cr_assert_not_null(strstr(items, "market-item-order-buy(ref=7,"),
	    "%s", items);
}

Test(pool_order, my_shows_a_share_order_only_to_its_member)
{
	my_story();
}

/* --- the same on PostgreSQL ------------------------------------------------------------ */

#ifdef HAVE_POSTGRESQL
TestSuite(pool_order_pg, .init = setup_pg, .fini = teardown);

Test(pool_order_pg, sell_pool_on_postgresql)
{
	sell_pool_story();
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM market_orders"
	    " WHERE parent = 1"), 2);
}

Test(pool_order_pg, my_on_postgresql)
{
	my_story();
}

Test(pool_order_pg, want_pool_on_postgresql)
{
	want_pool_story();
}

Test(pool_order_pg, a_dispute_for_the_buyer_on_postgresql)
{
	dispute_for_the_buyer_cancels_the_shares();
}

Test(pool_order_pg, ended_pools_on_postgresql)
{
	rejected_after_the_offer_ended_lapses();
}

Test(pool_order_pg, partly_sold_pool_on_postgresql)
{
	partly_sold_pool_ends_sold();
}

Test(pool_order_pg, partly_bought_want_pool_on_postgresql)
{
	partly_bought_want_pool_ends_sold();
}

Test(pool_order_pg, my_lets_a_done_pool_go_on_postgresql)
{
	my_lets_a_done_pool_go();
}

Test(pool_order_pg, a_dear_offer_on_postgresql)
{
	dear_offer_is_the_openers_own();
}

Test(pool_order_pg, an_offer_for_the_pool_on_postgresql)
{
	offer_counts_toward_its_pool_first();
}

Test(pool_order_pg, the_openers_own_part_on_postgresql)
{
	openers_own_part_is_traded();
}

Test(pool_order_pg, tier_reprices_the_shares_on_postgresql)
{
	tier_reprices_the_shares();
}
#endif

/* --- every template in every language, one SMS ------------------------------------- */

MARKET_LANG_FIXTURE(setup, teardown)

/* What the tour must have sent: this file's templates. */
static int
ours(const char *tmpl)
{
	return strncmp(tmpl, "market-share-", 13) == 0 ||
	    strncmp(tmpl, "market-pool-offer", 17) == 0 ||
	    strcmp(tmpl, "market-pool-buy-dear") == 0 ||
	    strcmp(tmpl, "market-pool-expired-ended") == 0 ||
	    strcmp(tmpl, "usage-OFFER") == 0;
}

Test(pool_order_lang, every_template_fits_one_sms_in_every_language,
    .init = lang_setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	static const char	*wanted[] = {
		"market-share-sold", "market-share-bought",
		"market-share-accepted", "market-share-accepted-want",
		"market-share-sent", "market-share-delivered",
		"market-share-back", "market-share-order",
		"market-share-ended", "market-share-left",
		"market-share-left-want",
		"market-pool-offer-ok", "market-pool-offered",
		"market-pool-offer-none", "market-pool-offer-own",
		"market-pool-offer-closed", "market-pool-offer-dear",
		"usage-OFFER", "market-share-repriced",
		"market-pool-buy-dear", "market-pool-expired-ended",
	};
	size_t			 i, l, k, checked = 0;

	/* the tour: every template of pool orders and OFFER */
	sell_pool_story();
	teardown();
	setup();
	want_pool_story();
	teardown();
	setup();
	pool_listed("want", "joined");
	run(DEALER, "offer 99 2900");
	run(OPENER, "offer 52 2900");
	run(DEALER, "offer 52 9999");
	run(DEALER, "offer 52");
	exec("UPDATE market_pools SET state = 'open' WHERE ref = 52");
	run(DEALER, "offer 52 2900");
	pool_listed("sell", "joined");
	run(BUYER, "buy 51 6");
	run(MEMBER_A, "accept 2");
	run(OPENER, "reject 1 the lorry broke down on the road to Nakuru");
	teardown();
	setup();
	rejected_after_the_offer_ended_lapses();
	teardown();
	setup();
	partly_sold_pool_ends_sold();
	teardown();
	setup();
	partly_bought_want_pool_ends_sold();
	teardown();
	setup();
	tier_reprices_the_shares();
	teardown();
	setup();
	dear_offer_is_the_openers_own();
	teardown();
	setup();
	pool_order_expires("prorata", T0 + 6 * DAY, T0 + 8 * DAY);

	for (k = 0; k < sizeof(wanted) / sizeof(wanted[0]); k++) {
		int	 found = 0;

		for (i = 0; i < market_nseen && !found; i++)
			found = strcmp(market_seen[i].tmpl, wanted[k]) == 0;
		cr_assert(found, "the tour never sent %s", wanted[k]);
	}
	for (i = 0; i < market_nseen; i++) {
		const struct market_seen	*s = &market_seen[i];

		if (!ours(s->tmpl))
			continue;
		for (l = 0; l < 4; l++) {
			if (l > 0)
				cr_assert(lang_template(market_lang_shipped,
				    codes[l], s->tmpl) != lang_template(
				    market_lang_shipped, "en", s->tmpl),
				    "%s falls back for %s", codes[l], s->tmpl);
			market_lang_assert_reads(codes[l], s->tmpl, s->args,
			    s->nargs, NULL, NULL);
			market_lang_assert_reads(codes[l], s->tmpl, s->args,
			    s->nargs, "qty", "1000000");
			market_lang_assert_reads(codes[l], s->tmpl, s->args,
			    s->nargs, "qty", "1");
		}
		checked++;
	}
	cr_assert_geq(checked, sizeof(wanted) / sizeof(wanted[0]));
}
