/*
 * test_market_timers.c - orders that always end (plugins/market/market.c's
 * sweep, market_order.c's state machine), run through the mock host on
 * both engines (suite timers; timers_pg on PostgreSQL, MB_TEST_PG):
 *
 *  - every state's exits: pending (accept, reject, cancel, expire),
 *    accepted (sent, cancel, the timer's cancel with the reservation
 *    back), sent (delivered, the timer's completion, counted as a trade);
 *  - an open dispute (market_disputes) holding a sent order: not asked,
 *    not completed, until it is closed;
 *  - each reminder sent once, at its time and not before;
 *  - due times that survive a restart: the store and the plugin closed
 *    and opened again between the step that set them and the sweep;
 *  - a pool order's share orders following the timer's steps;
 *  - schema step 6 on a database made before it: old accepted and sent
 *    orders are given due times, and none ends at the first sweep;
 *  - the conf keys (defaults, custom values, remind < expire checked);
 *  - every template these send, in the four languages, one SMS.
 *
 * The clock is the mock's (mock_set_now); a sweep is one run of the
 * plugin's timer "market-sweep" at a given time.  The default conf:
 * accept-remind 24h, accept-expire 72h, delivery-remind 48h,
 * delivery-complete 7d, sweep-interval 60s.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "store/store.h"
#include "text/lang.h"
#include "marketbox-plugin.h"

#include "market_fixture.h"
#include "market_lang.h"
#include "plugin_mock.h"

extern const struct mb_plugin marketbox_plugin;

#define SELLER		"+254700000001"		/* Wanjiru */
#define BUYER		"+254700000002"		/* Otieno */
#define MEMBER_A	"+254700000011"
#define MEMBER_B	"+254700000012"
#define T0		1700000000LL
#define HOUR		3600LL
#define DAY		86400LL
#define POOL		51

static struct mock	*m;
static const char	*database;	/* the file, or the conninfo */

/* --- the mock on a database that outlives it (restarts) ---------------------------- */

/* The plugin on database, its conf conf[] ("key", "value", ... NULL). */
static void
open_mock(long long now, const char *const *conf)
{
	m = mock_new_on(&marketbox_plugin, database);
	while (conf != NULL && conf[0] != NULL) {
		mock_conf(m, conf[0], conf[1]);
		conf += 2;
	}
	cr_assert_eq(mock_init(m), MB_OK);
	mock_set_now(m, now);
}

/* offers outlive the orders on them here: no offer's expiry notice in
   the sweeps (test_market has those) */
static const char *const long_offers[] = { "offer-lifetime", "60d", NULL };

/* marketbox stopped and started again: the same database, a new plugin */
static void
restart(long long now)
{
	mock_free(m);
	open_mock(now, long_offers);
}

static void
sqlite_database(void)
{
	database = market_fixture_sqlite("timers");
}

static void
setup(void)
{
	sqlite_database();
	open_mock(T0, long_offers);
}

#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	database = market_fixture_pg("timers");
	open_mock(T0, long_offers);
}
#endif

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
	market_fixture_drop();
}

#define BOTH(name)	MARKET_BOTH(timers, setup_pg, teardown, name)

TestSuite(timers, .init = setup, .fini = teardown);

/* --- helpers ---------------------------------------------------------------------- */

static void
exec(const char *sql)
{
	cr_assert_eq(store_exec(mock_store(m), sql), 0, "%s", sql);
}

/* the fixture's helpers on this file's mock (market_fixture.h) */
#define db_int(sql, a)		mtest_db_int(m, (sql), (a), 0)
#define db_text(sql, a)		mtest_db_text(m, (sql), (a), 0)

static const char *
order_state(long long ref)
{
	return db_text("SELECT state FROM market_orders WHERE ref = $1", ref);
}

static const char *
order_reason(long long ref)
{
	return db_text("SELECT reason FROM market_orders WHERE ref = $1", ref);
}

static long long
left_of(long long offer)
{
	return db_int("SELECT qty_left FROM market_posts WHERE ref = $1",
	    offer);
}

static int
run(const char *who, const char *text)
{
	int	 rc;

	mock_clear(m);
	if (strcmp(who, SELLER) == 0)
		mock_sender(m, SELLER, "Wanjiru", "nakuru", "en",
		    MB_ROLE_FARMER | MB_ROLE_BUYER);
	else if (strcmp(who, BUYER) == 0)
		mock_sender(m, BUYER, "Otieno", "nakuru", "en",
		    MB_ROLE_FARMER | MB_ROLE_BUYER);
	else
		mock_sender(m, who, "Someone", "nakuru", "en", MB_ROLE_ANY);
	rc = mock_command(m, text);
	market_lang_collect(m);
	return rc;
}

/* who sends text: handled, its first message the reply tmpl */
#define run_reply(who, text, tmpl) \
	mtest_replied(m, run((who), (text)), (text), (tmpl))

/* One sweep at now (the mock's clock moves there): its result. */
static int
sweep(long long now)
{
	int	 rc;

	mock_clear(m);
	mock_set_now(m, now);
	rc = mock_timer(m, "market-sweep");
	market_lang_collect(m);
	return rc;
}

/* The notices of tmpl to who in the last run. */
#define notices(who, tmpl)	mtest_count(m, (who), (tmpl))

/* The only notice of tmpl to who in the last run: its argument name. */
#define notice_arg(who, tmpl, name) \
	mtest_only_arg(m, (who), (tmpl), (name))

/* Offer 1: Wanjiru's 10 bags of maize at 3000; order 2: Otieno's 4. */
static void
order_on_offer(void)
{
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 4", "market-order-ok");
	cr_assert_eq(left_of(1), 6);
}

/* Order 2 accepted at T0 (due: reminder T0 + 24h, cancel T0 + 72h). */
static void
accepted_at_t0(void)
{
	order_on_offer();
	run_reply(SELLER, "accept 2", "market-accept-ok");
	cr_assert_str_eq(order_state(2), "accepted");
}

/* Order 2 sent at T0 + 1h (due: question + 48h, completion + 7d). */
#define SENT_AT		(T0 + HOUR)
static void
sent_at_t0(void)
{
	accepted_at_t0();
	mock_set_now(m, SENT_AT);
	run_reply(SELLER, "sent 2", "market-sent-ok");
	cr_assert_str_eq(order_state(2), "sent");
}

/* --- pending: accept, reject, cancel, expire ------------------------------------------ */

BOTH(pending_ends_by_accept_reject_cancel_or_expiry)
{
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok"); /* 1 */
	run_reply(BUYER, "buy 1 1", "market-order-ok");			/* 2 */
	run_reply(BUYER, "buy 1 1", "market-order-ok");			/* 3 */
	run_reply(BUYER, "buy 1 1", "market-order-ok");			/* 4 */
	run_reply(BUYER, "buy 1 1", "market-order-ok");			/* 5 */
	cr_assert_eq(left_of(1), 6);
	run_reply(SELLER, "accept 2", "market-accept-ok");
	run_reply(SELLER, "reject 3", "market-reject-ok");
	run_reply(BUYER, "cancel 4", "market-cancelled-order");
	cr_assert_eq(left_of(1), 8, "reject and cancel give back");
	/* order 5 unanswered: the seller reminded at 2h, once */
	cr_assert_eq(sweep(T0 + 2 * HOUR), MB_OK);
	cr_assert_eq(notices(SELLER, "market-reminder-seller"), 1);
	cr_assert_str_eq(notice_arg(SELLER, "market-reminder-seller", "ref"),
	    "5");
	cr_assert_eq(sweep(T0 + 3 * HOUR), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "once");
	/* expired at 24h, both told, the bag back */
	cr_assert_eq(sweep(T0 + DAY), MB_OK);
	cr_assert_eq(notices(BUYER, "market-expired-order-buyer"), 1);
	cr_assert_eq(notices(SELLER, "market-expired-order-seller"), 1);
	cr_assert_str_eq(order_state(2), "accepted");
	cr_assert_str_eq(order_state(3), "rejected");
	cr_assert_str_eq(order_state(4), "cancelled");
	cr_assert_str_eq(order_state(5), "expired");
	cr_assert_eq(left_of(1), 9);
	/* each end told to the core, whose money state follows */
	cr_assert_str_eq(mock_pay_events(m), "3 closed; 4 closed; 5 closed");
}

/* --- accepted: sent, cancelled, or cancelled by the timer -------------------------------- */

BOTH(accepted_ends_by_sent_or_cancel)
{
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok"); /* 1 */
	run_reply(BUYER, "buy 1 4", "market-order-ok");			/* 2 */
	run_reply(BUYER, "buy 1 4", "market-order-ok");			/* 3 */
	run_reply(SELLER, "accept 2", "market-accept-ok");
	run_reply(SELLER, "accept 3", "market-accept-ok");
	run_reply(SELLER, "sent 2", "market-sent-ok");
	run_reply(SELLER, "cancel 3", "market-cancelled-order");
	cr_assert_str_eq(order_state(2), "sent");
	cr_assert_str_eq(order_state(3), "cancelled");
	cr_assert_str_eq(order_reason(3), "NULL", "a person's cancel");
	cr_assert_eq(left_of(1), 6);
	/* a cancelled order's timers are gone; the sent one has its own */
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE ref = 3"
	    " AND remind_at IS NULL AND expires_at IS NULL", 0), 1);
	cr_assert_eq(db_int("SELECT expires_at FROM market_orders WHERE"
	    " ref = $1", 2), T0 + 7 * DAY);
}

BOTH(accepted_unsent_is_reminded_once_then_cancelled)
{
	accepted_at_t0();
	cr_assert_eq(db_int("SELECT remind_at FROM market_orders WHERE"
	    " ref = $1", 2), T0 + DAY);
	cr_assert_eq(db_int("SELECT expires_at FROM market_orders WHERE"
	    " ref = $1", 2), T0 + 3 * DAY);
	/* sweeps a minute apart at least (sweep-interval) */
	cr_assert_eq(sweep(T0 + DAY - 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "not before accept-remind");
	cr_assert_eq(sweep(T0 + DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_str_eq(notice_arg(SELLER, "market-reminder-send", "ref"),
	    "2");
	cr_assert_str_eq(notice_arg(SELLER, "market-reminder-send", "name"),
	    "Otieno");
	cr_assert_str_eq(notice_arg(SELLER, "market-reminder-send", "phone"),
	    BUYER);
	cr_assert_eq(sweep(T0 + 2 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "once");
	cr_assert_eq(sweep(T0 + 3 * DAY - 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "not before accept-expire");
	cr_assert_str_eq(order_state(2), "accepted");
	cr_assert_eq(left_of(1), 6);
	cr_assert_eq(sweep(T0 + 3 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 2);
	cr_assert_str_eq(notice_arg(BUYER, "market-unsent-buyer", "name"),
	    "Wanjiru");
	cr_assert_str_eq(notice_arg(BUYER, "market-unsent-buyer", "commodity"),
	    "maize");
	cr_assert_str_eq(notice_arg(SELLER, "market-unsent-seller", "name"),
	    "Otieno");
	cr_assert_str_eq(notice_arg(SELLER, "market-unsent-seller", "offer"),
	    "1");
	cr_assert_str_eq(notice_arg(SELLER, "market-unsent-seller", "qty"),
	    "4");
	cr_assert_str_eq(order_state(2), "cancelled");
	cr_assert_str_eq(order_reason(2), "auto");
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " ref = $1 AND cancelled_by = 'seller'", 2), 1,
	    "an order accepted and never sent is on its seller's record");
	cr_assert_eq(left_of(1), 10, "the reservation returns");
	cr_assert_eq(mock_ntrades(m), 0);
	cr_assert_str_eq(mock_pay_events(m), "2 closed");
	cr_assert_eq(sweep(T0 + 4 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "ended once");
	/* too late to send */
	run_reply(SELLER, "sent 2", "market-order-ended-cancelled");
}

/* A sold-out offer reopens when the timer cancels its order. */
BOTH(an_unsent_order_reopens_a_sold_out_offer)
{
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 10", "market-order-ok");
	run_reply(SELLER, "accept 2", "market-accept-ok");
	cr_assert_str_eq(db_text("SELECT state FROM market_posts WHERE"
	    " ref = $1", 1), "closed");
	cr_assert_eq(sweep(T0 + 3 * DAY), MB_OK);
	cr_assert_str_eq(order_state(2), "cancelled");
	cr_assert_str_eq(db_text("SELECT state FROM market_posts WHERE"
	    " ref = $1", 1), "open");
	cr_assert_eq(left_of(1), 10);
	run_reply(BUYER, "buy 1 10", "market-order-ok");
}

/* --- sent: delivered, or completed by the timer -------------------------------------- */

BOTH(sent_ends_by_delivered)
{
	sent_at_t0();
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_str_eq(order_state(2), "delivered");
	cr_assert_str_eq(order_reason(2), "NULL");
	cr_assert_eq(mock_ntrades(m), 1);
	cr_assert_eq(sweep(SENT_AT + 30 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "a delivered order has no timer");
	cr_assert_eq(mock_ntrades(m), 1);
}

BOTH(sent_unconfirmed_is_asked_once_then_completes)
{
	const struct mock_trade	*t;

	sent_at_t0();
	cr_assert_eq(sweep(SENT_AT + 2 * DAY - 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(sweep(SENT_AT + 2 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_str_eq(notice_arg(BUYER, "market-reminder-buyer", "ref"),
	    "2");
	cr_assert_str_eq(notice_arg(BUYER, "market-reminder-buyer", "name"),
	    "Wanjiru");
	cr_assert_eq(sweep(SENT_AT + 5 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "asked once");
	cr_assert_eq(sweep(SENT_AT + 7 * DAY - 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "not before delivery-complete");
	cr_assert_str_eq(order_state(2), "sent");
	cr_assert_eq(mock_ntrades(m), 0);
	cr_assert_eq(sweep(SENT_AT + 7 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 2);
	cr_assert_str_eq(notice_arg(BUYER, "market-auto-delivered-buyer",
	    "name"), "Wanjiru");
	cr_assert_str_eq(notice_arg(SELLER, "market-auto-delivered-seller",
	    "name"), "Otieno");
	cr_assert_str_eq(notice_arg(SELLER, "market-auto-delivered-seller",
	    "total"), "12000");
	cr_assert_str_eq(order_state(2), "delivered");
	cr_assert_str_eq(order_reason(2), "auto");
	/* counted as DELIVERED counts it: the host's trade, once */
	cr_assert_eq(mock_ntrades(m), 1);
	t = mock_trade(m, 0);
	cr_assert_eq(t->ref, 2);
	cr_assert_str_eq(t->seller, SELLER);
	cr_assert_str_eq(t->buyer, BUYER);
	cr_assert_eq(t->total, 1200000);
	cr_assert_eq(left_of(1), 6, "a delivered order keeps its quantity");
	cr_assert_str_eq(mock_pay_events(m), "2 delivered");
	cr_assert_eq(sweep(SENT_AT + 8 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(mock_ntrades(m), 1);
	run_reply(BUYER, "delivered 2", "market-order-ended-delivered");
}

/* A dispute (opened by PROBLEM) holds a sent order until it is closed. */
BOTH(an_open_dispute_holds_the_completion)
{
	sent_at_t0();
	exec("INSERT INTO market_disputes(ref, order_ref, opener, side, text,"
	    " state, created) VALUES (90, 2, '" BUYER "', 'buyer',"
	    " 'two bags wet', 'open', 1700003600)");
	cr_assert_eq(sweep(SENT_AT + 2 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "not asked while disputed");
	cr_assert_eq(sweep(SENT_AT + 7 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(sweep(SENT_AT + 30 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_str_eq(order_state(2), "sent", "held by the dispute");
	cr_assert_eq(mock_ntrades(m), 0);
	/* a closed dispute of another order holds nothing; this one's
	   closing lets the next sweep complete it */
	exec("UPDATE market_disputes SET state = 'closed', closed = 1702600000,"
	    " decision = 'seller', note = 'dried' WHERE ref = 90");
	cr_assert_eq(sweep(SENT_AT + 30 * DAY + 60), MB_OK);
	cr_assert_eq(notices(BUYER, "market-auto-delivered-buyer"), 1);
	cr_assert_eq(notices(SELLER, "market-auto-delivered-seller"), 1);
	cr_assert_eq(notices(BUYER, "market-reminder-buyer"), 0,
	    "completed, not asked");
	cr_assert_str_eq(order_state(2), "delivered");
	cr_assert_eq(mock_ntrades(m), 1);
}

/* The buyer confirming while a dispute is open ends it as usual. */
BOTH(a_disputed_order_is_still_confirmed_by_the_buyer)
{
	sent_at_t0();
	exec("INSERT INTO market_disputes(ref, order_ref, opener, side, text,"
	    " state, created) VALUES (90, 2, '" SELLER "', 'seller',"
	    " 'no answer', 'open', 1700003600)");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_str_eq(order_state(2), "delivered");
}

/* --- timers that survive a restart ------------------------------------------------------ */

BOTH(an_accepted_orders_timers_survive_restarts)
{
	accepted_at_t0();
	restart(T0 + HOUR);
	cr_assert_eq(sweep(T0 + DAY), MB_OK);
	cr_assert_eq(notices(SELLER, "market-reminder-send"), 1);
	restart(T0 + 2 * DAY);
	cr_assert_eq(sweep(T0 + 2 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "reminded once, across the restart");
	restart(T0 + 3 * DAY);
	cr_assert_eq(sweep(T0 + 3 * DAY + 60), MB_OK);
	cr_assert_eq(notices(BUYER, "market-unsent-buyer"), 1);
	cr_assert_eq(notices(SELLER, "market-unsent-seller"), 1);
	cr_assert_str_eq(order_state(2), "cancelled");
	cr_assert_eq(left_of(1), 10);
}

BOTH(a_sent_orders_timers_survive_restarts)
{
	sent_at_t0();
	restart(SENT_AT + HOUR);
	cr_assert_eq(sweep(SENT_AT + 2 * DAY), MB_OK);
	cr_assert_eq(notices(BUYER, "market-reminder-buyer"), 1);
	restart(SENT_AT + 3 * DAY);
	cr_assert_eq(sweep(SENT_AT + 3 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	restart(SENT_AT + 8 * DAY);
	/* down over the due time: done at the first sweep after */
	cr_assert_eq(sweep(SENT_AT + 8 * DAY), MB_OK);
	cr_assert_eq(notices(BUYER, "market-auto-delivered-buyer"), 1);
	cr_assert_eq(notices(SELLER, "market-auto-delivered-seller"), 1);
	cr_assert_str_eq(order_state(2), "delivered");
	cr_assert_eq(mock_ntrades(m), 1);
}

/* --- a pool order's share orders follow the timer ---------------------------------------- */

static const char	*members[] = { MEMBER_A, MEMBER_B };

/* A listed sell pool POOL (as market_pool.c leaves it): Wanjiru opened
   it, A and B put in 5 and 20 bags of maize at 3000. */
static void
pool_listed(void)
{
	static const long long	 qty[] = { 5, 20 };
	char			 sql[512];
	size_t			 i;

	snprintf(sql, sizeof(sql), "INSERT INTO market_pools(ref, kind,"
	    " opener, commodity, unit, market, target, price, rule, state,"
	    " created, deadline) VALUES (%d, 'sell', '%s', 'maize', 'bag',"
	    " 'nakuru', 25, 300000, 'joined', 'listed', %lld, %lld)", POOL,
	    SELLER, T0, T0 + 7 * DAY);
	exec(sql);
	for (i = 0; i < 2; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO market_pool_shares("
		    "pool, member, qty, sold, seq, joined) VALUES (%d, '%s',"
		    " %lld, 0, %zu, %lld)", POOL, members[i], qty[i], i + 1,
		    T0);
		exec(sql);
	}
	snprintf(sql, sizeof(sql), "INSERT INTO market_posts(ref, kind,"
	    " msisdn, commodity, unit, market, qty, qty_left, price, state,"
	    " created, expires) VALUES (%d, 'offer', '%s', 'maize', 'bag',"
	    " 'nakuru', 25, 25, 300000, 'open', %lld, %lld)", POOL, SELLER,
	    T0, T0 + 30 * DAY);
	exec(sql);
	/* BUY 51 12: pool order 1, share orders 2 (A: 5) and 3 (B: 7) */
	run_reply(BUYER, "buy 51 12", "market-order-ok");
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " parent = $1", 1), 2);
	run_reply(SELLER, "accept 1", "market-accept-ok");
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " parent = $1 AND state = 'accepted'", 1), 2);
	/* only the pool order has due times */
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " parent = $1 AND remind_at IS NULL AND expires_at IS NULL", 1),
	    2);
}

static long long
sold_of(const char *member)
{
	struct store_stmt	*st = store_query(mock_store(m),
	    "SELECT sold FROM market_pool_shares WHERE pool = $1"
	    " AND member = $2");
	long long		 v;

	cr_assert_not_null(st);
	cr_assert_eq(store_bind_int(st, 1, POOL), 0);
	cr_assert_eq(store_bind_text(st, 2, member), 0);
	cr_assert_eq(store_step(st), STORE_ROW);
	v = store_int(st, 0);
	store_done(st);
	return v;
}

BOTH(an_unsent_pool_order_cancels_its_share_orders)
{
	pool_listed();
	cr_assert_eq(sold_of(MEMBER_A), 5);
	cr_assert_eq(sold_of(MEMBER_B), 7);
	cr_assert_eq(sweep(T0 + DAY), MB_OK);
	cr_assert_eq(notices(SELLER, "market-reminder-send"), 1);
	cr_assert_eq(notices(MEMBER_A, "market-reminder-send"), 0,
	    "the opener answers, not the members");
	cr_assert_eq(sweep(T0 + 3 * DAY), MB_OK);
	cr_assert_eq(notices(BUYER, "market-unsent-buyer"), 1);
	cr_assert_eq(notices(SELLER, "market-unsent-seller"), 1);
	cr_assert_eq(notices(MEMBER_A, "market-share-back"), 1);
	cr_assert_eq(notices(MEMBER_B, "market-share-back"), 1);
	cr_assert_str_eq(order_state(1), "cancelled");
	cr_assert_str_eq(order_state(2), "cancelled");
	cr_assert_str_eq(order_state(3), "cancelled");
	cr_assert_eq(sold_of(MEMBER_A), 0, "her part is hers again");
	cr_assert_eq(sold_of(MEMBER_B), 0);
	cr_assert_eq(left_of(POOL), 25);
	/* the pool order's money follows it, and each share order's */
	cr_assert_str_eq(mock_pay_events(m), "1 closed; 2 closed; 3 closed");
}

BOTH(an_unconfirmed_pool_order_completes_with_its_share_orders)
{
	size_t	 i;

	pool_listed();
	mock_set_now(m, SENT_AT);
	run_reply(SELLER, "sent 1", "market-sent-ok");
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " parent = $1 AND state = 'sent'", 1), 2);
	restart(SENT_AT + DAY);
	cr_assert_eq(sweep(SENT_AT + 7 * DAY), MB_OK);
	cr_assert_eq(notices(BUYER, "market-auto-delivered-buyer"), 1);
	cr_assert_eq(notices(SELLER, "market-auto-delivered-seller"), 1);
	cr_assert_eq(notices(MEMBER_A, "market-share-delivered"), 1);
	cr_assert_eq(notices(MEMBER_B, "market-share-delivered"), 1);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " state = 'delivered'", 0), 3);
	/* trades per share order, none for the pool order */
	cr_assert_eq(mock_ntrades(m), 2);
	for (i = 0; i < 2; i++)
		cr_assert_neq(mock_trade(m, i)->ref, 1);
	cr_assert_str_eq(mock_pay_events(m), "1 delivered; 2 delivered; "
	    "3 delivered");
	cr_assert_eq(sold_of(MEMBER_A), 5);
	cr_assert_eq(sold_of(MEMBER_B), 7);
}

/* --- the conf ------------------------------------------------------------------------- */

Test(timers_conf, custom_times_are_used, .fini = teardown)
{
	static const char *const conf[] = {
		"accept-remind", "1h", "accept-expire", "2h",
		"delivery-remind", "3h", "delivery-complete", "1d", NULL
	};

	sqlite_database();
	open_mock(T0, conf);
	order_on_offer();
	run_reply(SELLER, "accept 2", "market-accept-ok");
	cr_assert_eq(sweep(T0 + HOUR), MB_OK);
	cr_assert_eq(notices(SELLER, "market-reminder-send"), 1);
	cr_assert_eq(sweep(T0 + 2 * HOUR), MB_OK);
	cr_assert_str_eq(order_state(2), "cancelled");
	run_reply(BUYER, "buy 1 4", "market-order-ok");		/* 3 */
	run_reply(SELLER, "accept 3", "market-accept-ok");
	run_reply(SELLER, "sent 3", "market-sent-ok");
	cr_assert_eq(sweep(T0 + 5 * HOUR), MB_OK);
	cr_assert_eq(notices(BUYER, "market-reminder-buyer"), 1);
	cr_assert_eq(sweep(T0 + 2 * HOUR + DAY), MB_OK);
	cr_assert_str_eq(order_state(3), "delivered");
}

/* Each reminder must come before its end, or it would never go out. */
Test(timers_conf, remind_must_be_shorter_than_the_end, .fini = teardown)
{
	static const char *const bad[][2] = {
		{ "accept-remind", "72h" }, { "accept-expire", "24h" },
		{ "delivery-remind", "7d" }, { "delivery-complete", "2d" },
		{ "accept-expire", "soon" }, { "delivery-complete", "0" },
	};
	size_t	 i;

	sqlite_database();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = mock_new_on(&marketbox_plugin, database);
		mock_conf(m, bad[i][0], bad[i][1]);
		cr_assert_eq(mock_init(m), MB_FAIL, "%s = %s", bad[i][0],
		    bad[i][1]);
		mock_free(m);
	}
	m = mock_new_on(&marketbox_plugin, database);
	mock_conf(m, "accept-remind", "2d");
	mock_conf(m, "accept-expire", "5d");
	cr_assert_eq(mock_init(m), MB_OK);
}

Test(timers_conf, the_keys_are_declared)
{
	const struct mb_plugin	*p = &marketbox_plugin;
	static const char	*keys[] = { "accept-remind", "accept-expire",
	    "delivery-remind", "delivery-complete" };
	size_t			 i, k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (i = 0; i < p->nconf_keys; i++)
			if (strcmp(p->conf_keys[i], keys[k]) == 0)
				break;
		cr_assert_lt(i, p->nconf_keys, "%s not declared", keys[k]);
	}
}

/* --- schema step 6: orders of a database made before it ------------------------------- */

/*
 * The market schema up to step 5 on database, with an accepted order 2
 * and a sent order 3 (reminded already) last updated 30 days before now,
 * as the plugin before step 6 left them: no due times.  Then the plugin
 * opens it (step 6 runs).
 */
static void
upgrade_from_step_5(long long now)
{
	struct store_migration	 steps[5];
	struct store		*s;
	char			 sql[1024];
	long long		 old = now - 30 * DAY;
	size_t			 i;

	memset(steps, 0, sizeof(steps));
	for (i = 0; i < 5; i++) {
		steps[i].version = marketbox_plugin.migrations[i].version;
		steps[i].sql = marketbox_plugin.migrations[i].sql;
		steps[i].sql_pg = marketbox_plugin.migrations[i].sql_pg;
	}
	cr_assert_not_null(s = store_open(database, NULL));
	cr_assert_eq(store_migrate(s, "market", steps, 5), 0);
	snprintf(sql, sizeof(sql), "INSERT INTO market_posts(ref, kind,"
	    " msisdn, commodity, unit, market, qty, qty_left, price, state,"
	    " created, expires) VALUES (1, 'offer', '%s', 'maize', 'bag',"
	    " 'nakuru', 10, 2, 300000, 'open', %lld, %lld)", SELLER, old,
	    now + 30 * DAY);
	cr_assert_eq(store_exec(s, sql), 0, "%s", sql);
	snprintf(sql, sizeof(sql), "INSERT INTO market_orders(ref, offer,"
	    " buyer, seller, qty, price, total, state, created, updated,"
	    " remind_at, expires_at, reminded) VALUES"
	    " (2, 1, '%s', '%s', 4, 300000, 1200000, 'accepted', %lld, %lld,"
	    " NULL, NULL, 0),"
	    " (3, 1, '%s', '%s', 4, 300000, 1200000, 'sent', %lld, %lld,"
	    " NULL, NULL, 1)", BUYER, SELLER, old, old, BUYER, SELLER, old,
	    old);
	cr_assert_eq(store_exec(s, sql), 0, "%s", sql);
	store_free(s);
	open_mock(now, NULL);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " remind_at IS NULL AND state = 'accepted'", 0), 0);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE"
	    " expires_at IS NULL", 0), 0);
}

static void
old_orders_end_in_time_not_at_once(void)
{
	long long	 now = (long long)time(NULL);

	upgrade_from_step_5(now);
	/* the first sweep: the old accepted order's seller reminded, and
	   nothing ended */
	cr_assert_eq(sweep(now + 60), MB_OK);
	cr_assert_eq(notices(SELLER, "market-reminder-send"), 1);
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_str_eq(order_state(2), "accepted");
	cr_assert_str_eq(order_state(3), "sent");
	cr_assert_eq(sweep(now + 2 * DAY - HOUR), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "two days to send it");
	cr_assert_eq(sweep(now + 2 * DAY + HOUR), MB_OK);
	cr_assert_str_eq(order_state(2), "cancelled");
	cr_assert_eq(left_of(1), 6);
	cr_assert_str_eq(order_state(3), "sent");
	cr_assert_eq(sweep(now + 5 * DAY - HOUR), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "five days to answer");
	cr_assert_eq(sweep(now + 5 * DAY + HOUR), MB_OK);
	cr_assert_str_eq(order_state(3), "delivered");
	cr_assert_eq(notices(BUYER, "market-auto-delivered-buyer"), 1);
}

Test(timers_upgrade, step_6_gives_old_orders_due_times,
    .init = sqlite_database,
    .fini = teardown)
{
	old_orders_end_in_time_not_at_once();
}

#ifdef HAVE_POSTGRESQL
static void
pg_database(void)
{
	database = market_fixture_pg("timers_up");
}

Test(timers_upgrade, step_6_on_postgresql, .init = pg_database,
    .fini = teardown)
{
	old_orders_end_in_time_not_at_once();
}
#endif

/* --- every template of the timers, four languages, one SMS ------------------------------ */

MARKET_LANG_FIXTURE(setup, teardown)

Test(timers_lang, every_template_fits_one_sms_in_every_language,
    .init = lang_setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	static const char	*wanted[] = {
		"market-reminder-send", "market-unsent-buyer",
		"market-unsent-seller", "market-reminder-buyer",
		"market-auto-delivered-buyer", "market-auto-delivered-seller",
	};
	static const char	*counts[] = { "1", "2", "1000000" };
	size_t			 i, k, l, c;

	market_lang_seen_free();
	accepted_at_t0();
	sweep(T0 + DAY);
	sweep(T0 + 3 * DAY);
	run_reply(BUYER, "buy 1 4", "market-order-ok");		/* 3 */
	run_reply(SELLER, "accept 3", "market-accept-ok");
	run_reply(SELLER, "sent 3", "market-sent-ok");
	sweep(T0 + 5 * DAY + 60);
	sweep(T0 + 10 * DAY + 60);
	for (k = 0; k < sizeof(wanted) / sizeof(wanted[0]); k++) {
		int	 found = 0;

		for (i = 0; i < market_nseen; i++) {
			if (strcmp(market_seen[i].tmpl, wanted[k]) != 0)
				continue;
			found = 1;
			for (l = 0; l < 4; l++) {
				if (l > 0)
					cr_assert(lang_template(
					    market_lang_shipped, codes[l],
					    wanted[k]) != lang_template(
					    market_lang_shipped, "en",
					    wanted[k]), "%s falls back for %s",
					    codes[l], wanted[k]);
				market_lang_assert_reads(codes[l], wanted[k],
				    market_seen[i].args, market_seen[i].nargs,
				    NULL, NULL);
				for (c = 0; c < sizeof(counts) /
				    sizeof(counts[0]); c++)
					market_lang_assert_reads(codes[l],
					    wanted[k], market_seen[i].args,
					    market_seen[i].nargs, "qty",
					    counts[c]);
				/* a longer name than the mock's */
				market_lang_assert_reads(codes[l], wanted[k],
				    market_seen[i].args, market_seen[i].nargs,
				    "name",
				    strcmp(codes[l], "zh") == 0 ? "李明华" :
				    "Margaret Wanjiku");
			}
		}
		cr_assert(found, "the tour never sent %s", wanted[k]);
	}
}
