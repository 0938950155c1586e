/*
 * test_market_dispute.c - PROBLEM (market_dispute.c) through the mock
 * host: who may open a dispute (the buyer, the seller, the transporter;
 * a member through her agent), on which states (sent and delivered;
 * pending and accepted refused with their next step), who is told (the
 * other party, both when the transporter opens it, every admin once), a
 * second PROBLEM while one is open, the refusals; every dispute template
 * in the four shipped languages within one SMS (the closing notices the
 * daemon sends too).  Each test runs on SQLite (suite dispute) and on
 * PostgreSQL (suite dispute_pg, with MB_TEST_PG; skipped without it).
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
#include "store/store.h"
#include "marketbox-plugin.h"

#include "market_fixture.h"
#include "market_lang.h"
#include "plugin_mock.h"
#include "plugins/market/market.h"

extern const struct mb_plugin marketbox_plugin;

#define SELLER		"+254700000001"		/* Wanjiru */
#define BUYER		"+254700000002"		/* Otieno */
#define CARRIER		"+254711000333"		/* Kamau, a transporter */
#define STRANGER	"+254700000019"
#define ADMIN1		"+254799000001"
#define ADMIN2		"+254799000002"
#define T0		1700000000LL

static struct mock	*m;
static int		 collecting;	/* keep what is sent in market_seen */

/* --- the host ---------------------------------------------------------------- */

static void
start(const char *database)
{
	m = mock_new_on(&marketbox_plugin, database);
	mock_set_now(m, T0);
	mock_admin(m, ADMIN1);
	mock_admin(m, ADMIN2);
	cr_assert_eq(mock_init(m), MB_OK);
}

static void
setup(void)
{
	start(NULL);
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
	start(market_fixture_pg("dispute"));
}
#endif

static void
as(const char *who)
{
	const unsigned	 roles = MB_ROLE_FARMER | MB_ROLE_BUYER;

	if (strcmp(who, SELLER) == 0)
		mock_sender(m, who, "Wanjiru", "nakuru", "en", roles);
	else if (strcmp(who, BUYER) == 0)
		mock_sender(m, who, "Otieno", "nakuru", "en", roles);
	else if (strcmp(who, CARRIER) == 0)
		mock_sender(m, who, "Kamau", "nakuru", "en",
		    MB_ROLE_TRANSPORTER);
	else
		mock_sender(m, who, "Someone", "nakuru", "en", roles);
}

static int
run(const char *who, const char *text)
{
	int	 rc;

	mock_clear(m);
	as(who);
	rc = mock_command(m, text);
	if (collecting)
		market_lang_collect(m);
	return rc;
}

/* the fixture's helpers on this file's mock (market_fixture.h) */
#define sent(i)			mtest_sent(m, (i))
#define has(i, name, value)	mtest_has(m, (i), (name), (value))
#define count(who, tmpl)	mtest_count(m, (who), (tmpl))
#define db_int(sql, a)		mtest_db_int(m, (sql), (a), 0)
#define db_text(sql, a)		mtest_db_text(m, (sql), (a), 0)
/* who sends text: handled, its first message the reply tmpl */
#define run_reply(who, text, tmpl) \
	mtest_replied(m, run((who), (text)), (text), (tmpl))

static long long
disputes(void)
{
	return db_int("SELECT COUNT(*) FROM market_disputes", 0);
}

/*
 * An order of 2 bags of maize on Wanjiru's offer (ref 1): order 2, moved
 * to state (pending, accepted, sent with Kamau carrying it, delivered).
 */
static void
order_in(const char *state)
{
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	cr_assert_eq(run(BUYER, "buy 1 2"), MB_OK);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "pending");
	if (strcmp(state, "pending") == 0)
		return;
	cr_assert_eq(run(SELLER, "accept 2"), MB_OK);
	if (strcmp(state, "accepted") == 0)
		return;
	cr_assert_eq(run(SELLER, "sent 2 0711000333"), MB_OK);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "sent");
	if (strcmp(state, "sent") == 0)
		return;
	cr_assert_eq(run(BUYER, "delivered 2"), MB_OK);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "delivered");
}

#define BOTH(name)	MARKET_BOTH(dispute, setup_pg, teardown, name)

TestSuite(dispute, .init = setup, .fini = teardown);

/* --- who may, and who is told ----------------------------------------------------------- */

BOTH(the_buyer_opens_a_dispute_on_a_sent_order)
{
	order_in("sent");
	run_reply(BUYER, "problem 2 2 bags wet and torn",
	    "market-problem-opened");
	has(0, "dispute", "3");
	has(0, "ref", "2");
	cr_assert_eq(disputes(), 1);
	cr_assert_str_eq(db_text("SELECT side FROM market_disputes WHERE ref"
	    " = $1", 3), "buyer");
	cr_assert_str_eq(db_text("SELECT opener FROM market_disputes WHERE"
	    " ref = $1", 3), BUYER);
	cr_assert_str_eq(db_text("SELECT state FROM market_disputes WHERE ref"
	    " = $1", 3), "open");
	cr_assert_str_eq(db_text("SELECT text FROM market_disputes WHERE ref"
	    " = $1", 3), "2 bags wet and torn");
	cr_assert_eq(db_int("SELECT created FROM market_disputes WHERE ref"
	    " = $1", 3), T0);
	cr_assert_eq(db_int("SELECT order_ref FROM market_disputes WHERE ref"
	    " = $1", 3), 2);
	/* the seller, and each admin once; not the buyer again, nor the
	   carrier */
	cr_assert_eq(count(SELLER, "market-problem-party"), 1);
	cr_assert_eq(count(BUYER, "market-problem-party"), 0);
	cr_assert_eq(count(CARRIER, "market-problem-party"), 0);
	cr_assert_eq(count(ADMIN1, "market-problem-admin"), 1);
	cr_assert_eq(count(ADMIN2, "market-problem-admin"), 1);
	cr_assert_eq(mock_nsent(m), 4);
	has(1, "name", "Otieno");
	has(1, "reason", "2 bags wet and torn");
	has(1, "dispute", "3");
	has(3, "phone", BUYER);
	/* the order goes on as it was */
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "sent");
}

BOTH(the_seller_opens_one_on_a_delivered_order)
{
	order_in("delivered");
	run_reply(SELLER, "problem 2 paid only half", "market-problem-opened");
	cr_assert_str_eq(db_text("SELECT side FROM market_disputes", 0),
	    "seller");
	cr_assert_eq(count(BUYER, "market-problem-party"), 1);
	cr_assert_eq(count(SELLER, "market-problem-party"), 0);
	cr_assert_eq(count(ADMIN1, "market-problem-admin"), 1);
}

BOTH(the_transporter_opens_one_and_both_parties_hear)
{
	order_in("sent");
	run_reply(CARRIER, "problem 2 road closed, 2 days late",
	    "market-problem-opened");
	cr_assert_str_eq(db_text("SELECT side FROM market_disputes", 0),
	    "other");
	cr_assert_str_eq(db_text("SELECT opener FROM market_disputes", 0),
	    CARRIER);
	cr_assert_eq(count(BUYER, "market-problem-party"), 1);
	cr_assert_eq(count(SELLER, "market-problem-party"), 1);
	cr_assert_eq(count(ADMIN1, "market-problem-admin"), 1);
	cr_assert_eq(count(ADMIN2, "market-problem-admin"), 1);
}

Test(dispute, an_admin_who_is_a_party_is_not_told_twice)
{
	/* the buyer is an admin too: the party notice is enough */
	mock_free(m);
	m = mock_new(&marketbox_plugin);
	mock_set_now(m, T0);
	mock_admin(m, BUYER);
	mock_admin(m, ADMIN1);
	cr_assert_eq(mock_init(m), MB_OK);
	order_in("sent");
	run_reply(SELLER, "problem 2 not paid", "market-problem-opened");
	cr_assert_eq(count(BUYER, "market-problem-party"), 1);
	cr_assert_eq(count(BUYER, "market-problem-admin"), 0);
	cr_assert_eq(count(ADMIN1, "market-problem-admin"), 1);
	cr_assert_eq(mock_nsent(m), 3);
}

BOTH(a_member_opens_one_through_her_agent)
{
	plugin_mock_member(m, "m:M17", "Mary Wanjiku via Kiambogo point",
	    "+254722555000");
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	mock_clear(m);
	mock_sender(m, "m:M17", "Mary Wanjiku via Kiambogo point", "nakuru",
	    "en", MB_ROLE_FARMER | MB_ROLE_BUYER);
	cr_assert_eq(mock_command(m, "buy 1 2"), MB_OK);
	cr_assert_eq(run(SELLER, "accept 2"), MB_OK);
	cr_assert_eq(run(SELLER, "sent 2"), MB_OK);
	mock_clear(m);
	mock_sender(m, "m:M17", "Mary Wanjiku via Kiambogo point", "nakuru",
	    "en", MB_ROLE_FARMER | MB_ROLE_BUYER);
	cr_assert_eq(mock_command(m, "problem 2 only one bag came"), MB_OK);
	cr_assert_str_eq(sent(0)->tmpl, "market-problem-opened");
	cr_assert_str_eq(db_text("SELECT opener FROM market_disputes", 0),
	    "m:M17");
	cr_assert_str_eq(db_text("SELECT side FROM market_disputes", 0),
	    "buyer");
	cr_assert_eq(count(SELLER, "market-problem-party"), 1);
	has(1, "name", "Mary Wanjiku via Kiambogo point");
	/* the admins get the number she is reached on: her agent's */
	cr_assert_eq(count(ADMIN1, "market-problem-admin"), 1);
	has(2, "phone", "+254722555000");
}

/* --- which states -------------------------------------------------------------------------- */

BOTH(a_pending_order_is_refused_with_its_next_step)
{
	order_in("pending");
	run_reply(BUYER, "problem 2 too slow", "market-problem-wait");
	has(0, "ref", "2");
	run_reply(SELLER, "problem 2 no stock", "market-problem-wait-seller");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(disputes(), 0);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "pending");
}

BOTH(an_accepted_order_is_refused_with_cancel)
{
	order_in("accepted");
	run_reply(BUYER, "problem 2 too slow", "market-problem-wait");
	run_reply(SELLER, "problem 2 no lorry", "market-problem-wait");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(disputes(), 0);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "accepted");
}

BOTH(an_order_that_ended_unsent_says_so)
{
	order_in("pending");
	cr_assert_eq(run(BUYER, "cancel 2"), MB_OK);
	run_reply(BUYER, "problem 2 never came", "market-order-ended-cancelled");
	cr_assert_eq(disputes(), 0);
}

/* --- the second PROBLEM, and refusals ------------------------------------------------------- */

BOTH(a_second_problem_names_the_open_dispute)
{
	order_in("sent");
	run_reply(BUYER, "problem 2 wet", "market-problem-opened");
	run_reply(BUYER, "problem 2 still wet", "market-problem-open");
	has(0, "dispute", "3");
	has(0, "ref", "2");
	cr_assert_eq(mock_nsent(m), 1);
	/* the other party too: one order, one open dispute */
	run_reply(SELLER, "problem 2 he lies", "market-problem-open");
	has(0, "dispute", "3");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(disputes(), 1);
	cr_assert_str_eq(db_text("SELECT text FROM market_disputes", 0),
	    "wet");
	/* closed (as the daemon closes it), a new PROBLEM opens another */
	{
		struct store_stmt *st = store_query(mock_store(m),
		    "UPDATE market_disputes SET state = 'closed', closed = $1,"
		    " decision = 'buyer'");

		store_bind_int(st, 1, T0);
		cr_assert_eq(store_step(st), STORE_DONE);
		store_done(st);
	}
	run_reply(SELLER, "problem 2 not paid", "market-problem-opened");
	has(0, "dispute", "4");
	cr_assert_eq(disputes(), 2);
}

/* --- the completion after a dispute ------------------------------------------------------ */

/* Dispute ref closed as the daemon closes it, for side. */
static void
close_dispute(long long ref, const char *side)
{
	struct store_stmt *st = store_query(mock_store(m),
	    "UPDATE market_disputes SET state = 'closed', closed = $1,"
	    " decision = $2 WHERE ref = $3");

	cr_assert_not_null(st);
	store_bind_int(st, 1, T0 + 86400);
	store_bind_text(st, 2, side);
	store_bind_int(st, 3, ref);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
}

/* The sweep at now (a week and a day after SENT: delivery-complete). */
static void
sweep(long long now)
{
	mock_clear(m);
	mock_set_now(m, now);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
}

/*
 * A sent order whose dispute was decided for the buyer does not complete
 * as delivered: cancelled (reason dispute), nothing back on offer (the
 * goods left), no trade, nobody's cancellation, both told.
 */
BOTH(decided_for_the_buyer_a_sent_order_ends_cancelled)
{
	order_in("sent");
	run_reply(BUYER, "problem 2 never came", "market-problem-opened");
	/* while open it waits */
	sweep(T0 + 8 * 86400);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "sent");
	close_dispute(3, "buyer");
	sweep(T0 + 9 * 86400);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "cancelled");
	cr_assert_str_eq(db_text("SELECT reason FROM market_orders WHERE ref"
	    " = $1", 2), "dispute");
	cr_assert_str_eq(db_text("SELECT cancelled_by FROM market_orders"
	    " WHERE ref = $1", 2), "NULL");
	cr_assert_eq(db_int("SELECT qty_left FROM market_posts WHERE ref"
	    " = $1", 1), 8);
	cr_assert_eq(mock_ntrades(m), 0);
	/* money the buyer paid is to be refunded: the core is told */
	cr_assert_str_eq(mock_pay_events(m), "2 closed");
	cr_assert_eq(count(BUYER, "market-dispute-ended-buyer"), 1);
	cr_assert_eq(count(SELLER, "market-dispute-ended-seller"), 1);
	cr_assert_eq(count(BUYER, "market-auto-delivered-buyer"), 0);
	cr_assert_eq(mock_nsent(m), 2);
	has(0, "ref", "2");
	has(0, "dispute", "3");
	has(1, "dispute", "3");
	/* nothing more the next time */
	sweep(T0 + 10 * 86400);
	cr_assert_eq(mock_nsent(m), 0);
	run_reply(SELLER, "cancel 2", "market-order-ended-cancelled");
}

/* The latest closed dispute decides: for the seller, it completes. */
BOTH(decided_for_the_seller_a_sent_order_completes)
{
	order_in("sent");
	run_reply(BUYER, "problem 2 wet", "market-problem-opened");
	close_dispute(3, "buyer");
	run_reply(SELLER, "problem 2 he took them", "market-problem-opened");
	close_dispute(4, "seller");
	sweep(T0 + 9 * 86400);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "delivered");
	cr_assert_eq(count(BUYER, "market-auto-delivered-buyer"), 1);
	cr_assert_eq(mock_ntrades(m), 1);
}

/* The buyer's own DELIVERED still works while it is sent; a sent order
   is never cancelled by a person. */
BOTH(decided_for_the_buyer_delivered_still_works)
{
	order_in("sent");
	run_reply(BUYER, "problem 2 late", "market-problem-opened");
	close_dispute(3, "buyer");
	cr_assert_eq(run(SELLER, "cancel 2"), MB_OK);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "sent");
	cr_assert_eq(run(BUYER, "delivered 2"), MB_OK);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "delivered");
	cr_assert_eq(mock_ntrades(m), 1);
}

BOTH(anyone_else_is_refused)
{
	order_in("sent");
	run_reply(STRANGER, "problem 2 I saw it fall", "market-not-yours");
	has(0, "ref", "2");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(disputes(), 0);
}

BOTH(unknown_refs_offers_and_missing_text)
{
	order_in("sent");
	run_reply(BUYER, "problem 99 wet", "market-unknown-ref");
	run_reply(BUYER, "problem 1 wet", "market-ref-offer");
	/* no text, no number: the usage */
	cr_assert_eq(run(BUYER, "problem 2"), MB_USAGE);
	cr_assert_str_eq(sent(0)->tmpl, "usage-PROBLEM");
	cr_assert_eq(run(BUYER, "problem wet bags"), MB_USAGE);
	cr_assert_eq(run(BUYER, "problem"), MB_USAGE);
	cr_assert_eq(disputes(), 0);
}

BOTH(a_text_too_long_is_refused_with_its_limit)
{
	char	 cmd[MARKET_PROBLEM_LEN + 64];
	size_t	 n;

	order_in("sent");
	n = (size_t)snprintf(cmd, sizeof(cmd), "problem 2 ");
	while (n < sizeof(cmd) - 6)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "wet ");
	run_reply(BUYER, cmd, "market-problem-long");
	has(0, "max", "300");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(disputes(), 0);
	/* at the limit it is taken whole */
	cmd[strlen("problem 2 ") + MARKET_PROBLEM_LEN] = '\0';
	run_reply(BUYER, cmd, "market-problem-opened");
	n = strlen(db_text("SELECT text FROM market_disputes", 0));
	/* as typed (a last space may be dropped) */
	cr_assert(n >= MARKET_PROBLEM_LEN - 1 && n <= MARKET_PROBLEM_LEN,
	    "%zu bytes kept", n);
}

BOTH(a_failing_notice_rolls_it_back)
{
	order_in("sent");
	mock_clear(m);
	as(BUYER);
	mock_fail_sends(m, 1);
	cr_assert_eq(mock_command(m, "problem 2 wet"), MB_FAIL);
	mock_fail_sends(m, 0);
	cr_assert_eq(disputes(), 0);
}

Test(dispute, a_host_without_role_users_tells_no_admin)
{
	order_in("sent");
	mock_host_size(m, offsetof(struct mb_host, role_users));
	run_reply(BUYER, "problem 2 wet", "market-problem-opened");
	cr_assert_eq(count(SELLER, "market-problem-party"), 1);
	cr_assert_eq(count(ADMIN1, "market-problem-admin"), 0);
	cr_assert_eq(disputes(), 1);
}

/* --- every template in every language ------------------------------------------------------ */

MARKET_LANG_FIXTURE(setup, teardown)

/* PROBLEM's every reply and notice, sent with typical values. */
static void
tour(void)
{
	collecting = 1;
	order_in("pending");
	run(BUYER, "problem 2 too slow");
	run(SELLER, "problem 2 no stock");
	run(SELLER, "accept 2");
	run(BUYER, "problem 2 too slow");
	run(SELLER, "sent 2 0711000333");
	run(CARRIER, "problem 2 the road is closed, two days late");
	run(BUYER, "problem 2 two bags were wet");
	run(BUYER, "problem 2 wet wet wet wet wet wet wet wet wet wet wet wet "
	    "wet wet wet wet wet wet wet wet wet wet wet wet wet wet wet wet "
	    "wet wet wet wet wet wet wet wet wet wet wet wet wet wet wet wet "
	    "wet wet wet wet wet wet wet wet wet wet wet wet wet wet wet wet "
	    "wet wet wet wet wet wet wet wet wet wet wet wet wet wet wet wet");
	collecting = 0;
}

Test(dispute_lang, every_template_in_every_language_fits,
    .init = lang_setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	static const char	*closed[] = { "market-dispute-closed-buyer",
	    "market-dispute-closed-seller", "market-dispute-ended-buyer",
	    "market-dispute-ended-seller" };
	static const struct mb_arg close_args[] = {
		{ "dispute", "80" }, { "ref", "43" },
		{ "note", "Seller refunds 2 bags" }
	};
	static const char	*used[] = { "market-problem-opened",
	    "market-problem-open", "market-problem-party",
	    "market-problem-admin", "market-problem-wait",
	    "market-problem-wait-seller", "market-problem-long" };
	size_t			 i, l, k, found;

	tour();
	for (k = 0; k < sizeof(used) / sizeof(used[0]); k++) {
		for (i = 0, found = 0; i < market_nseen; i++)
			found += strcmp(market_seen[i].tmpl, used[k]) == 0;
		cr_assert_gt(found, 0, "the tour never sent %s", used[k]);
	}
	for (i = 0; i < market_nseen; i++) {
		const struct market_seen	*s = &market_seen[i];

		if (strncmp(s->tmpl, "market-problem", 14) != 0)
			continue;
		for (l = 0; l < 4; l++) {
			const char	*t, *en;

			t = lang_template(market_lang_shipped, codes[l], s->tmpl);
			en = lang_template(market_lang_shipped, "en", s->tmpl);
			cr_assert_not_null(t, "%s lacks %s", codes[l], s->tmpl);
			if (l > 0)
				cr_assert(t != en, "%s falls back for %s",
				    codes[l], s->tmpl);
			market_lang_assert_reads(codes[l], s->tmpl, s->args,
			    s->nargs, s->nargs > 0 && strcmp(s->tmpl,
			    "market-problem-long") == 0 ? "max" : NULL, "300");
		}
	}
	/* the admins' notice names the command that works (--for is
	   required), or no form of it where that cannot fit */
	for (l = 0; l < 4; l++) {
		const char	*t = lang_template(market_lang_shipped, codes[l],
				    "market-problem-admin");

		cr_assert(strstr(t, "dispute close {dispute} --for "
		    "buyer|seller") != NULL || strstr(t, "dispute close") ==
		    NULL, "%s: market-problem-admin: %s", codes[l], t);
	}
	/* the daemon's notices of a dispute closed, the timer's of an order
	   ended by one */
	for (k = 0; k < 4; k++)
		for (l = 0; l < 4; l++) {
			cr_assert_not_null(lang_template(market_lang_shipped,
			    codes[l], closed[k]), "%s lacks %s", codes[l],
			    closed[k]);
			market_lang_assert_reads(codes[l], closed[k], close_args,
			    3, NULL, NULL);
		}
	/* the words people type, and the usage */
	for (l = 0; l < 4; l++) {
		const struct mb_arg	 none[1] = { { "x", "" } };

		cr_assert_not_null(lang_template(market_lang_shipped, codes[l],
		    "usage-PROBLEM"), "%s lacks usage-PROBLEM", codes[l]);
		market_lang_assert_reads(codes[l], "usage-PROBLEM", none, 0,
		    NULL, NULL);
		market_lang_assert_reads(codes[l], "help-PROBLEM", none, 0,
		    NULL, NULL);
	}
}
