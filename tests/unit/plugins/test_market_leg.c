/*
 * test_market_leg.c - hubs and legs (market_leg.c) through the mock host
 * and its hub tree (mock_hub): an order sent through three hubs end to
 * end (SENT, IN, OUT ... DELIVERED at the door), collected at the village
 * point (PICKUP, by the hub's operator or the buyer's agent), each leg's
 * handover code and its lock, the refusals with their next step, PROBLEM
 * by a hub's operator written on the leg, an order without hubs (no
 * route, no transporter, no place known for the buyer) exactly as
 * before, legs that survive a restart (the plugin and the store closed
 * and opened again on the same database), and every leg template in the
 * four shipped languages within one SMS.  Each test runs on
 * SQLite (suite leg) and on PostgreSQL (suite leg_pg, with MB_TEST_PG;
 * skipped without it).
 *
 * The tree: county kiambu; township limuru under it; villages ndeiya
 * (serving market nakuru, the seller's) and tigoni (serving mombasa, the
 * buyer's) under limuru; township thika under kiambu with no village.
 * nakuru -> mombasa goes ndeiya, limuru, tigoni: three hubs, four legs.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
#include "plugins/market/market_rep_sql.h"

extern const struct mb_plugin marketbox_plugin;

#define SELLER		"+254700000001"		/* Wanjiru, nakuru */
#define BUYER		"+254700000002"		/* Otieno, mombasa */
#define CARRIER		"+254711000333"		/* Kamau, registered */
#define CARRIER2	"+254722000444"
#define CARRIER3	"+254722000555"
#define OP_NDEIYA	"+254733000101"
#define OP_LIMURU	"+254733000102"
#define OP_TIGONI	"+254733000103"
#define AGENT		"+254733000200"		/* Otieno's point agent */
#define STRANGER	"+254700000019"
#define ADMIN1		"+254799000001"
#define T0		1700000000LL
#define HOUR		3600LL
#define DAY		(24 * HOUR)

static struct mock	*m;
static const char	*database;	/* the file, or the conninfo */
static int		 hubs = 1;	/* declare the tree at each open */

/* --- the mock on a database that outlives it (restarts) ------------------- */

static void
tree(void)
{
	mock_hub(m, "kiambu", "Kiambu", "county", NULL, NULL, NULL);
	mock_hub(m, "limuru", "Limuru", "township", "kiambu", NULL,
	    OP_LIMURU);
	mock_hub(m, "thika", "Thika", "township", "kiambu", NULL, NULL);
	mock_hub(m, "ndeiya", "Ndeiya", "village", "limuru", "nakuru",
	    OP_NDEIYA);
	mock_hub(m, "tigoni", "Tigoni", "village", "limuru", "mombasa",
	    OP_TIGONI);
}

static void
open_mock(long long now)
{
	m = mock_new_on(&marketbox_plugin, database);
	mock_admin(m, ADMIN1);
	if (hubs)
		tree();
	cr_assert_eq(mock_init(m), MB_OK);
	mock_set_now(m, now);
}

static void
restart(long long now)
{
	mock_free(m);
	open_mock(now);
}

static void
setup(void)
{
	hubs = 1;
	database = market_fixture_sqlite("leg");
	open_mock(T0);
}

#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	hubs = 1;
	database = market_fixture_pg("leg");
	open_mock(T0);
}
#endif

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
	market_fixture_drop();
}

/* --- running commands -------------------------------------------------------- */

static void
as(const char *who)
{
	const unsigned	 roles = MB_ROLE_FARMER | MB_ROLE_BUYER;

	if (strcmp(who, SELLER) == 0)
		mock_sender(m, who, "Wanjiru", "nakuru", "en", roles);
	else if (strcmp(who, BUYER) == 0)
		mock_sender(m, who, "Otieno", "mombasa", "en", roles);
	else if (strcmp(who, CARRIER) == 0)
		mock_sender(m, who, "Kamau", "nakuru", "en",
		    MB_ROLE_TRANSPORTER);
	else
		/* operators, carriers, agents: not registered */
		mock_sender(m, who, NULL, NULL, "en", 0);
}

static int
run(const char *who, const char *text)
{
	int	 rc;

	mock_clear(m);
	as(who);
	rc = mock_command(m, text);
	market_lang_collect(m);
	return rc;
}

/* the fixture's helpers on this file's mock (market_fixture.h) */
#define sent(i)			mtest_sent(m, (i))
#define msg(who, tmpl)		mtest_msg(m, (who), (tmpl))
#define count(who, tmpl)	mtest_count(m, (who), (tmpl))
#define arg_is			mtest_arg_is
#define db_int(sql, a, b)	mtest_db_int(m, (sql), (a), (b))
#define db_text(sql, a, b)	mtest_db_text(m, (sql), (a), (b))
/* who sends text: handled, its first message the reply tmpl */
#define run_reply(who, text, tmpl) \
	mtest_replied(m, run((who), (text)), (text), (tmpl))

static const char *
leg_state(int seq)
{
	return db_text("SELECT state FROM market_legs WHERE order_ref = 3"
	    " AND seq = $1", seq, 0);
}

static const char *
order_state(void)
{
	return db_text("SELECT state FROM market_orders WHERE ref = 3", 0, 0);
}

/*
 * Otieno's want (ref 1, his place: mombasa), Wanjiru's offer (ref 2, at
 * nakuru), his order of 2 bags (ref 3), accepted.
 */
static void
accepted(void)
{
	cr_assert_eq(run(BUYER, "want maize 5 bags 3500"), MB_OK);
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	cr_assert_eq(run(BUYER, "buy 2 2"), MB_OK);
	cr_assert_str_eq(order_state(), "pending");
	cr_assert_eq(run(SELLER, "accept 3"), MB_OK);
}

static char	 buyer_code[8];

/* accepted, then SENT with Kamau: the first leg's code into code */
static void
sent_with_kamau(char *code, size_t len)
{
	accepted();
	run_reply(SELLER, "sent 3 0711000333", "market-sent-ok");
	snprintf(buyer_code, sizeof(buyer_code), "%s",
	    mock_arg(msg(BUYER, "market-sent-buyer"), "code"));
	snprintf(code, len, "%s",
	    mock_arg(msg(CARRIER, "market-leg-first"), "code"));
}

/* operator op receives order 3 with code: the reply tmpl */
static void
in(const char *op, const char *code, const char *tmpl)
{
	char	 text[64];

	snprintf(text, sizeof(text), "in 3 %s", code);
	run_reply(op, text, tmpl);
}

/* operator op sends order 3 on with phone (typed): the carrier's code */
static void
out(const char *op, const char *typed, const char *carrier,
    const char *tmpl, char *code, size_t len)
{
	char	 text[64];

	snprintf(text, sizeof(text), "out 3 %s", typed);
	run_reply(op, text, "market-leg-out-ok");
	snprintf(code, len, "%s", mock_arg(msg(carrier, tmpl), "code"));
}

/* the sweep at now: its notices collected for the language tour */
static void
sweep(long long now)
{
	mock_clear(m);
	mock_set_now(m, now);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
	market_lang_collect(m);
}

/* how many leg notices the last sweep sent (posts expire meanwhile) */
static size_t
leg_notices(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < mock_nsent(m); i++)
		n += strncmp(mock_sent(m, i)->tmpl, "market-leg-", 11) == 0;
	return n;
}

/* sent with Kamau, then on to Tigoni, the last hub: its IN done */
static void
at_last_hub(char *code, size_t len)
{
	sent_with_kamau(code, len);
	in(OP_NDEIYA, code, "market-leg-in-ok");
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    len);
	in(OP_LIMURU, code, "market-leg-in-ok");
	out(OP_LIMURU, "0722000555", CARRIER3, "market-leg-carrier", code,
	    len);
	in(OP_TIGONI, code, "market-leg-in-last");
}

#define BOTH(name)	MARKET_BOTH(leg, setup_pg, teardown, name)

TestSuite(leg, .init = setup, .fini = teardown);

/* --- through three hubs ---------------------------------------------------- */

BOTH(an_order_goes_through_three_hubs_to_the_door)
{
	const struct mock_msg	*s;
	char			 code[8];

	sent_with_kamau(code, sizeof(code));
	cr_assert_str_eq(order_state(), "sent");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs WHERE"
	    " order_ref = 3", 0, 0), 4);
	/* Kamau: the pickup and the first hub; Ndeiya's operator told */
	s = msg(CARRIER, "market-leg-first");
	arg_is(s, "hub", "Ndeiya");
	arg_is(s, "phone", SELLER);
	arg_is(s, "market", "Nakuru");
	cr_assert_eq(strlen(code), 4);
	s = msg(OP_NDEIYA, "market-leg-coming");
	arg_is(s, "phone", CARRIER);
	arg_is(s, "hub", "Ndeiya");
	cr_assert_eq(count(OP_LIMURU, "market-leg-coming"), 0);
	cr_assert_eq(count(CARRIER, "market-sent-transporter"), 0);
	cr_assert_str_eq(leg_state(1), "moving");
	cr_assert_str_eq(leg_state(2), "waiting");
	cr_assert_str_eq(db_text("SELECT to_hub FROM market_legs WHERE"
	    " order_ref = 3 AND seq = 1", 0, 0), "ndeiya");
	cr_assert_str_eq(db_text("SELECT from_hub FROM market_legs WHERE"
	    " order_ref = 3 AND seq = 1", 0, 0), "NULL");
	cr_assert_str_eq(db_text("SELECT to_hub FROM market_legs WHERE"
	    " order_ref = 3 AND seq = 4", 0, 0), "NULL");
	/* leg-due-village: 12 h to reach Ndeiya */
	cr_assert_eq(db_int("SELECT due_at FROM market_legs WHERE order_ref"
	    " = 3 AND seq = 1", 0, 0), T0 + 12 * HOUR);

	/* Ndeiya receives with Kamau's code; the buyer is told where */
	in(OP_NDEIYA, code, "market-leg-in-ok");
	arg_is(sent(0), "hub", "Ndeiya");
	s = msg(BUYER, "market-leg-arrived");
	arg_is(s, "hub", "Ndeiya");
	arg_is(s, "ref", "3");
	cr_assert_str_eq(leg_state(1), "done");
	cr_assert_eq(db_int("SELECT due_at FROM market_legs WHERE order_ref"
	    " = 3 AND seq = 2", 0, 0), T0 + 12 * HOUR);

	/* on to Limuru with a new carrier and code; leg-due-township */
	out(OP_NDEIYA, "0722 000 444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	arg_is(sent(0), "phone", CARRIER2);
	s = msg(CARRIER2, "market-leg-carrier");
	arg_is(s, "from", "Ndeiya");
	arg_is(s, "hub", "Limuru");
	arg_is(msg(OP_LIMURU, "market-leg-coming"), "phone", CARRIER2);
	cr_assert_str_eq(leg_state(2), "moving");
	cr_assert_eq(db_int("SELECT due_at FROM market_legs WHERE order_ref"
	    " = 3 AND seq = 2", 0, 0), T0 + 24 * HOUR);
	cr_assert_str_eq(db_text("SELECT transporter FROM market_orders"
	    " WHERE ref = 3", 0, 0), CARRIER2);

	in(OP_LIMURU, code, "market-leg-in-ok");
	arg_is(msg(BUYER, "market-leg-arrived"), "hub", "Limuru");
	out(OP_LIMURU, "0722000555", CARRIER3, "market-leg-carrier", code,
	    sizeof(code));
	arg_is(msg(CARRIER3, "market-leg-carrier"), "hub", "Tigoni");

	/* the last hub: to the door, or collected */
	in(OP_TIGONI, code, "market-leg-in-last");
	arg_is(msg(BUYER, "market-leg-arrived-last"), "hub", "Tigoni");
	out(OP_TIGONI, "0711000333", CARRIER, "market-leg-carrier-last", code,
	    sizeof(code));
	s = msg(CARRIER, "market-leg-carrier-last");
	arg_is(s, "from", "Tigoni");
	arg_is(s, "buyer_phone", BUYER);
	arg_is(msg(BUYER, "market-leg-out-buyer"), "phone", CARRIER);
	cr_assert_str_eq(leg_state(4), "moving");

	/* the door: the buyer's code, as without hubs */
	{
		char	 text[64];

		snprintf(text, sizeof(text), "delivered 3 %s", buyer_code);
		run_reply(CARRIER, text, "market-delivered-ok");
	}
	cr_assert_str_eq(order_state(), "delivered");
	cr_assert_eq(count(SELLER, "market-delivered-seller"), 1);
	cr_assert_eq(count(BUYER, "market-delivered-buyer"), 1);
}

/*
 * Between hubs the order is not asked about nor completed by itself
 * (delivery-remind, delivery-complete): only once its last hub has it.
 */
BOTH(an_order_between_hubs_does_not_complete_by_itself)
{
	char	 code[8];

	sent_with_kamau(code, sizeof(code));
	mock_clear(m);
	mock_set_now(m, T0 + 30 * DAY);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
	cr_assert_str_eq(order_state(), "sent", "still on its way to Ndeiya");
	cr_assert_eq(db_int("SELECT reminded FROM market_orders WHERE"
	    " ref = 3", 0, 0), 0, "the buyer is not asked yet");
	mock_set_now(m, T0);
	in(OP_NDEIYA, code, "market-leg-in-ok");
	out(OP_NDEIYA, "0722 000 444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	in(OP_LIMURU, code, "market-leg-in-ok");
	out(OP_LIMURU, "0722000555", CARRIER3, "market-leg-carrier", code,
	    sizeof(code));
	in(OP_TIGONI, code, "market-leg-in-last");
	/* at the last hub: the buyer's side, the timers as without hubs
	   (a day later: one sweep per sweep-interval) */
	mock_clear(m);
	mock_set_now(m, T0 + 31 * DAY);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
	cr_assert_str_eq(order_state(), "delivered");
}

BOTH(the_buyer_collects_at_the_village_point)
{
	char	 code[8], text[64];

	sent_with_kamau(code, sizeof(code));
	in(OP_NDEIYA, code, "market-leg-in-ok");
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	in(OP_LIMURU, code, "market-leg-in-ok");
	out(OP_LIMURU, "0722000555", CARRIER3, "market-leg-carrier", code,
	    sizeof(code));
	in(OP_TIGONI, code, "market-leg-in-last");

	/* the carrier's code is not the buyer's */
	snprintf(text, sizeof(text), "pickup 3 %s", code);
	if (strcmp(code, buyer_code) != 0) {
		run_reply(OP_TIGONI, text, "market-wrong-code");
		arg_is(sent(0), "left", "2");
	}
	snprintf(text, sizeof(text), "pickup 3 %s", buyer_code);
	run_reply(OP_TIGONI, text, "market-delivered-ok");
	cr_assert_str_eq(order_state(), "delivered");
	cr_assert_str_eq(leg_state(4), "done");
	cr_assert_eq(count(SELLER, "market-delivered-seller"), 1);
	cr_assert_eq(mock_ntrades(m), 1);
	/* delivered: no more handovers */
	run_reply(OP_TIGONI, text, "market-order-ended-delivered");
}

BOTH(the_buyers_agent_collects_for_her)
{
	char	 code[8], text[64];

	plugin_mock_member(m, BUYER, "Otieno via Tigoni point", AGENT);
	sent_with_kamau(code, sizeof(code));
	/* not there yet: the agent is told to wait */
	snprintf(text, sizeof(text), "pickup 3 %s", buyer_code);
	run_reply(AGENT, text, "market-leg-not-yet");
	in(OP_NDEIYA, code, "market-leg-in-ok");
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	in(OP_LIMURU, code, "market-leg-in-ok");
	out(OP_LIMURU, "0722000555", CARRIER3, "market-leg-carrier", code,
	    sizeof(code));
	in(OP_TIGONI, code, "market-leg-in-last");
	/* a stranger may not */
	run_reply(STRANGER, text, "market-leg-not-operator");
	run_reply(AGENT, text, "market-delivered-ok");
	cr_assert_str_eq(order_state(), "delivered");
}

/* --- codes ------------------------------------------------------------------------- */

/* A wrong code different from code. */
static const char *
wrong(const char *code)
{
	return strcmp(code, "0000") == 0 ? "1111" : "0000";
}

BOTH(each_leg_has_its_own_code_and_lock)
{
	char	 code[8];

	sent_with_kamau(code, sizeof(code));
	/* two wrong codes on leg 1, then the right one */
	in(OP_NDEIYA, wrong(code), "market-leg-wrong-code");
	arg_is(sent(0), "left", "2");
	arg_is(sent(0), "phone", CARRIER);
	in(OP_NDEIYA, wrong(code), "market-leg-wrong-code");
	arg_is(sent(0), "left", "1");
	in(OP_NDEIYA, code, "market-leg-in-ok");
	cr_assert_eq(db_int("SELECT code_tries FROM market_legs WHERE"
	    " order_ref = 3 AND seq = 1", 0, 0), 2);

	/* leg 2 counts from 0: two wrong codes do not lock it */
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	in(OP_LIMURU, wrong(code), "market-leg-wrong-code");
	arg_is(sent(0), "left", "2");
	in(OP_LIMURU, wrong(code), "market-leg-wrong-code");
	/* the third locks it: the carrier told too */
	in(OP_LIMURU, wrong(code), "market-leg-code-locked");
	arg_is(sent(0), "hub", "Limuru");
	cr_assert_eq(count(CARRIER2, "market-leg-code-locked-carrier"), 1);
	/* locked: the right code does not open it */
	in(OP_LIMURU, code, "market-leg-code-locked");
	cr_assert_str_eq(leg_state(2), "moving");
	cr_assert_eq(db_int("SELECT code_tries FROM market_legs WHERE"
	    " order_ref = 3 AND seq = 2", 0, 0), 3);
	/* the delivery code is not touched by a leg's */
	cr_assert_eq(db_int("SELECT code_tries FROM market_orders WHERE"
	    " ref = 3", 0, 0), 0);
}

/* --- refusals ----------------------------------------------------------------------- */

BOTH(refusals_name_the_next_step)
{
	char	 code[8], text[64];

	sent_with_kamau(code, sizeof(code));
	snprintf(text, sizeof(text), "in 3 %s", code);
	/* nobody's hub */
	run_reply(STRANGER, text, "market-leg-not-operator");
	arg_is(sent(0), "hub", "Ndeiya");
	/* the wrong hub: where it is and who acts */
	run_reply(OP_LIMURU, text, "market-leg-moving");
	arg_is(sent(0), "hub", "Ndeiya");
	arg_is(sent(0), "phone", CARRIER);
	run_reply(OP_NDEIYA, "out 3 0722000444", "market-leg-moving");
	run_reply(OP_NDEIYA, "pickup 3 1234", "market-leg-moving");
	cr_assert_str_eq(leg_state(1), "moving");
	in(OP_NDEIYA, code, "market-leg-in-ok");
	/* received already: it is at Ndeiya now */
	run_reply(OP_NDEIYA, text, "market-leg-at");
	arg_is(sent(0), "hub", "Ndeiya");
	run_reply(OP_LIMURU, "out 3 0722000444", "market-leg-at");
	/* a carrier's number that is none, or abroad */
	run_reply(OP_NDEIYA, "out 3 hello", "market-leg-bad-phone");
	arg_is(sent(0), "word", "hello");
	/* a local number without country-code: its own reply */
	mock_no_country_code(m, 1);
	run_reply(OP_NDEIYA, "out 3 0722000444", "market-phone-local");
	arg_is(sent(0), "word", "0722000444");
	mock_no_country_code(m, 0);
	run_reply(OP_NDEIYA, "out 3 +33612345678",
	    "market-leg-carrier-refused");
	cr_assert_str_eq(leg_state(2), "waiting");
	/* words missing, an unknown number */
	cr_assert_eq(run(OP_NDEIYA, "in 3"), MB_USAGE);
	cr_assert_eq(run(OP_NDEIYA, "out 3"), MB_USAGE);
	cr_assert_eq(run(OP_NDEIYA, "pickup 3"), MB_USAGE);
	run_reply(OP_NDEIYA, "in 99 1234", "market-unknown-ref");
	/* an offer's number */
	run_reply(OP_NDEIYA, "in 2 1234", "market-ref-offer");
}

BOTH(an_order_without_hubs_is_sent_as_before)
{
	/* one hub serves both places: no route, door to door */
	mock_free(m);
	hubs = 0;
	open_mock(T0);
	mock_hub(m, "coast", "Coast", "county", NULL, "nakuru;mombasa",
	    "+254733000999");
	accepted();
	run_reply(SELLER, "sent 3 0711000333", "market-sent-ok-transporter");
	cr_assert_eq(count(CARRIER, "market-sent-transporter"), 1);
	cr_assert_eq(count(BUYER, "market-sent-buyer-transporter"), 1);
	cr_assert_eq(mock_nsent(m), 3);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs", 0, 0), 0);
	run_reply(OP_NDEIYA, "in 3 1234", "market-leg-no-hubs");
	run_reply(BUYER, "delivered 3", "market-delivered-ok");
	cr_assert_str_eq(order_state(), "delivered");
}

BOTH(a_buyer_who_never_posted_gets_it_door_to_door)
{
	/* no want, no post of his: his place is not known */
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	cr_assert_eq(run(BUYER, "buy 1 2"), MB_OK);
	cr_assert_eq(run(SELLER, "accept 2"), MB_OK);
	run_reply(SELLER, "sent 2 0711000333", "market-sent-ok-transporter");
	cr_assert_eq(count(CARRIER, "market-sent-transporter"), 1);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs", 0, 0), 0);
}

BOTH(sent_without_a_transporter_goes_door_to_door)
{
	accepted();
	run_reply(SELLER, "sent 3", "market-sent-ok");
	cr_assert_eq(count(BUYER, "market-sent-buyer"), 1);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs", 0, 0), 0);
}

BOTH(a_host_without_hubs_sends_as_before)
{
	mock_host_size(m, offsetof(struct mb_host, hub));
	accepted();
	run_reply(SELLER, "sent 3 0711000333", "market-sent-ok-transporter");
	cr_assert_eq(count(CARRIER, "market-sent-transporter"), 1);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs", 0, 0), 0);
}

/* --- PROBLEM on a leg ----------------------------------------------------------- */

BOTH(a_hub_operator_reports_a_problem_on_the_leg)
{
	char	 code[8];

	sent_with_kamau(code, sizeof(code));
	in(OP_NDEIYA, code, "market-leg-in-ok");
	/* at Ndeiya: its operator may report */
	run_reply(OP_NDEIYA, "problem 3 2 bags torn", "market-problem-opened");
	cr_assert_str_eq(db_text("SELECT side FROM market_disputes", 0, 0),
	    "other");
	cr_assert_str_eq(db_text("SELECT problem FROM market_legs WHERE"
	    " order_ref = 3 AND seq = 2", 0, 0), "2 bags torn");
	cr_assert_eq(count(BUYER, "market-problem-party"), 1);
	cr_assert_eq(count(SELLER, "market-problem-party"), 1);
	cr_assert_eq(count(OP_NDEIYA, "market-leg-problem-hub"), 0);
	cr_assert_eq(count(ADMIN1, "market-problem-admin"), 1);
	/* another hub's operator may not */
	run_reply(OP_TIGONI, "problem 3 where is it", "market-not-yours");
}

BOTH(the_current_carrier_reports_and_the_hub_hears)
{
	char	 code[8];

	sent_with_kamau(code, sizeof(code));
	in(OP_NDEIYA, code, "market-leg-in-ok");
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	run_reply(CARRIER2, "problem 3 lorry broke down, late",
	    "market-problem-opened");
	arg_is(msg(OP_LIMURU, "market-leg-problem-hub"), "reason",
	    "lorry broke down, late");
	cr_assert_str_eq(db_text("SELECT problem FROM market_legs WHERE"
	    " order_ref = 3 AND seq = 2", 0, 0), "lorry broke down, late");
	/* the first carrier is no longer the order's */
	run_reply(CARRIER, "problem 3 me too", "market-not-yours");
}

/* --- restarts ------------------------------------------------------------------------ */

BOTH(legs_survive_a_restart)
{
	char	 code[8];

	sent_with_kamau(code, sizeof(code));
	in(OP_NDEIYA, code, "market-leg-in-ok");
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	restart(T0 + 5 * HOUR);
	cr_assert_str_eq(leg_state(1), "done");
	cr_assert_str_eq(leg_state(2), "moving");
	cr_assert_eq(db_int("SELECT due_at FROM market_legs WHERE order_ref"
	    " = 3 AND seq = 2", 0, 0), T0 + 24 * HOUR);
	/* the code given before the restart still opens the handover */
	in(OP_LIMURU, wrong(code), "market-leg-wrong-code");
	restart(T0 + 6 * HOUR);
	in(OP_LIMURU, wrong(code), "market-leg-wrong-code");
	arg_is(sent(0), "left", "1");
	in(OP_LIMURU, code, "market-leg-in-ok");
	cr_assert_str_eq(leg_state(2), "done");
	cr_assert_eq(db_int("SELECT due_at FROM market_legs WHERE order_ref"
	    " = 3 AND seq = 3", 0, 0), T0 + 6 * HOUR + 24 * HOUR);
}


/* --- late legs (market.c's sweep) -------------------------------------------------- */

static long long
reminded(int seq)
{
	return db_int("SELECT reminded FROM market_legs WHERE order_ref = 3"
	    " AND seq = $1", seq, 0);
}

/*
 * A moving leg past its due time: its carrier at once, the hub it goes
 * to (and the buyer, once) leg-escalate later, the admins
 * leg-escalate-admins later; each step once, in order, across restarts.
 */
BOTH(a_late_leg_is_pressed_step_by_step_across_restarts)
{
	const struct mock_msg	*s;
	char			 code[8];

	sent_with_kamau(code, sizeof(code));	/* due at Ndeiya T0 + 12 h */
	sweep(T0 + 12 * HOUR - 60);
	cr_assert_eq(leg_notices(), 0, "not due yet");

	restart(T0 + 12 * HOUR);
	sweep(T0 + 12 * HOUR);
	cr_assert_eq(leg_notices(), 1);
	s = msg(CARRIER, "market-leg-late-carrier");
	arg_is(s, "hub", "Ndeiya");
	arg_is(s, "ref", "3");
	cr_assert_eq(reminded(1), 1);
	sweep(T0 + 12 * HOUR + 120);
	cr_assert_eq(leg_notices(), 0, "step 1 once; step 2 not yet");

	/* leg-escalate (6 h): Ndeiya's operators and the buyer */
	restart(T0 + 18 * HOUR);
	sweep(T0 + 18 * HOUR);
	cr_assert_eq(leg_notices(), 2);
	s = msg(OP_NDEIYA, "market-leg-overdue-moving");
	arg_is(s, "phone", CARRIER);
	arg_is(s, "hub", "Ndeiya");
	arg_is(s, "hours", "6");
	arg_is(msg(BUYER, "market-leg-late-buyer"), "hub", "Nakuru");
	cr_assert_eq(count(ADMIN1, "market-leg-late-admin"), 0);
	restart(T0 + 18 * HOUR + 120);
	sweep(T0 + 18 * HOUR + 120);
	cr_assert_eq(leg_notices(), 0, "step 2 once");

	/* leg-escalate-admins (24 h): the admins, with whom to call */
	restart(T0 + 36 * HOUR);
	sweep(T0 + 36 * HOUR);
	cr_assert_eq(leg_notices(), 1);
	s = msg(ADMIN1, "market-leg-late-admin");
	arg_is(s, "phone", CARRIER);
	arg_is(s, "hours", "24");
	cr_assert_eq(reminded(1), 3);
	/* nothing more, ever; the order stays sent between hubs */
	sweep(T0 + 40 * DAY);
	cr_assert_eq(leg_notices(), 0);
	cr_assert_str_eq(order_state(), "sent");
}

/* A sweep after a long stop takes one step per sweep, in order. */
BOTH(a_long_stop_still_takes_each_step_in_order)
{
	char	 code[8];

	sent_with_kamau(code, sizeof(code));
	sweep(T0 + 5 * DAY);
	cr_assert_eq(leg_notices(), 1);
	cr_assert_eq(count(CARRIER, "market-leg-late-carrier"), 1);
	sweep(T0 + 5 * DAY + 120);
	cr_assert_eq(count(OP_NDEIYA, "market-leg-overdue-moving"), 1);
	cr_assert_eq(count(BUYER, "market-leg-late-buyer"), 1);
	cr_assert_eq(count(ADMIN1, "market-leg-late-admin"), 0);
	sweep(T0 + 5 * DAY + 240);
	cr_assert_eq(count(ADMIN1, "market-leg-late-admin"), 1);
	cr_assert_eq(leg_notices(), 1);
}

/*
 * A parcel sitting at a hub past its departure: the hub's operators are
 * pressed; sent on, the next due time starts the steps again.
 */
BOTH(a_parcel_waiting_at_a_hub_presses_its_operators)
{
	char	 code[8];

	sent_with_kamau(code, sizeof(code));
	in(OP_NDEIYA, code, "market-leg-in-ok");	/* leave by T0 + 12 h */
	sweep(T0 + 12 * HOUR);
	cr_assert_eq(leg_notices(), 1);
	arg_is(msg(OP_NDEIYA, "market-leg-late-hub"), "hub", "Ndeiya");
	cr_assert_eq(reminded(2), 1);
	sweep(T0 + 18 * HOUR);
	arg_is(msg(OP_NDEIYA, "market-leg-overdue-at"), "hours", "6");
	arg_is(msg(BUYER, "market-leg-late-buyer"), "hub", "Ndeiya");
	cr_assert_eq(leg_notices(), 2);
	sweep(T0 + 36 * HOUR);
	arg_is(msg(ADMIN1, "market-leg-late-admin"), "phone", OP_NDEIYA);
	/* sent on: a new due time (Limuru, township: 1 d), pressed anew */
	mock_set_now(m, T0 + 37 * HOUR);
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	cr_assert_eq(reminded(2), 0);
	sweep(T0 + 61 * HOUR - 60);
	cr_assert_eq(leg_notices(), 0);
	sweep(T0 + 61 * HOUR);
	arg_is(msg(CARRIER2, "market-leg-late-carrier"), "hub", "Limuru");
	cr_assert_eq(leg_notices(), 1);
	sweep(T0 + 67 * HOUR);
	cr_assert_eq(count(OP_LIMURU, "market-leg-overdue-moving"), 1);
	/* a new delay: the buyer hears of it, once, where it was last */
	arg_is(msg(BUYER, "market-leg-late-buyer"), "hub", "Ndeiya");
	cr_assert_eq(leg_notices(), 2);
	sweep(T0 + 67 * HOUR + 120);
	cr_assert_eq(leg_notices(), 0);
}

/* The last leg, to the buyer: its carrier, then the hub it left. */
BOTH(a_late_last_leg_goes_to_the_hub_it_left)
{
	char	 code[8];

	at_last_hub(code, sizeof(code));
	out(OP_TIGONI, "0711000333", CARRIER, "market-leg-carrier-last", code,
	    sizeof(code));				/* due T0 + 12 h */
	sweep(T0 + 12 * HOUR);
	arg_is(msg(CARRIER, "market-leg-late-carrier-last"), "buyer_phone",
	    BUYER);
	sweep(T0 + 18 * HOUR);
	arg_is(msg(OP_TIGONI, "market-leg-overdue-last"), "phone", CARRIER);
	arg_is(msg(OP_TIGONI, "market-leg-overdue-last"), "buyer_phone",
	    BUYER);
	arg_is(msg(BUYER, "market-leg-late-buyer"), "hub", "Tigoni");
	cr_assert_eq(leg_notices(), 2);
}

/* Done legs and delivered orders are never pressed. */
BOTH(nothing_for_done_legs_or_delivered_orders)
{
	char	 code[8], text[64];

	at_last_hub(code, sizeof(code));
	snprintf(text, sizeof(text), "pickup 3 %s", buyer_code);
	run_reply(OP_TIGONI, text, "market-delivered-ok");
	sweep(T0 + 40 * DAY);
	cr_assert_eq(leg_notices(), 0);
	cr_assert_eq(db_int("SELECT SUM(reminded) FROM market_legs", 0, 0),
	    0);
}

/* leg-escalate before leg-escalate-admins, both durations; shorter ones
   press sooner. */
BOTH(the_leg_keys_are_checked)
{
	static const char *const bad[][2] = {
		{ "leg-escalate", "2d" }, { "leg-escalate-admins", "1h" },
		{ "leg-escalate", "soon" }, { "leg-escalate-admins", "10s" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mock_free(m);
		m = mock_new_on(&marketbox_plugin, database);
		mock_conf(m, bad[i][0], bad[i][1]);
		cr_assert_eq(mock_init(m), MB_FAIL, "%s = %s", bad[i][0],
		    bad[i][1]);
	}
	mock_free(m);
	m = mock_new_on(&marketbox_plugin, database);
	tree();
	mock_conf(m, "leg-escalate", "1h");
	mock_conf(m, "leg-escalate-admins", "2h");
	cr_assert_eq(mock_init(m), MB_OK);
	mock_set_now(m, T0);
	{
		char	 code[8];

		sent_with_kamau(code, sizeof(code));
	}
	sweep(T0 + 12 * HOUR);
	sweep(T0 + 13 * HOUR);
	cr_assert_eq(count(OP_NDEIYA, "market-leg-overdue-moving"), 1);
	sweep(T0 + 14 * HOUR);
	cr_assert_eq(count(ADMIN1, "market-leg-late-admin"), 0,
	    "no admin declared on this mock");
	cr_assert_eq(reminded(1), 3);
}

/* --- the last leg ends with the order --------------------------------------------- */

BOTH(delivered_at_the_door_closes_the_last_leg)
{
	char	 code[8], text[64];

	at_last_hub(code, sizeof(code));
	out(OP_TIGONI, "0711000333", CARRIER, "market-leg-carrier-last", code,
	    sizeof(code));
	mock_set_now(m, T0 + 2 * HOUR);
	snprintf(text, sizeof(text), "delivered 3 %s", buyer_code);
	run_reply(CARRIER, text, "market-delivered-ok");
	cr_assert_str_eq(order_state(), "delivered");
	cr_assert_str_eq(leg_state(4), "done");
	cr_assert_eq(db_int("SELECT ended FROM market_legs WHERE order_ref"
	    " = 3 AND seq = 4", 0, 0), T0 + 2 * HOUR);
	/* on time: not late (ended before its kept due time) */
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs WHERE"
	    " order_ref = 3 AND ended > due_at", 0, 0), 0);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs WHERE"
	    " order_ref = 3 AND state <> 'done'", 0, 0), 0);
}

BOTH(delivered_between_hubs_is_refused_with_where_it_is)
{
	char	 code[8], text[64];

	sent_with_kamau(code, sizeof(code));
	run_reply(BUYER, "delivered 3", "market-leg-not-arrived-moving");
	arg_is(sent(0), "hub", "Ndeiya");
	arg_is(sent(0), "phone", CARRIER);
	/* the carrier with the buyer's code: refused, no try counted */
	snprintf(text, sizeof(text), "delivered 3 %s", buyer_code);
	run_reply(CARRIER, text, "market-leg-not-arrived-moving");
	cr_assert_eq(db_int("SELECT code_tries FROM market_orders WHERE"
	    " ref = 3", 0, 0), 0);
	in(OP_NDEIYA, code, "market-leg-in-ok");
	run_reply(BUYER, "delivered 3", "market-leg-not-arrived-at");
	arg_is(sent(0), "hub", "Ndeiya");
	cr_assert_str_eq(order_state(), "sent");
	cr_assert_str_eq(leg_state(2), "waiting");
}

/* At the village point the buyer may confirm it himself: it ends there. */
BOTH(the_buyers_delivered_at_the_last_hub_closes_it)
{
	char	 code[8];

	at_last_hub(code, sizeof(code));
	run_reply(BUYER, "delivered 3", "market-delivered-ok");
	cr_assert_str_eq(order_state(), "delivered");
	cr_assert_str_eq(leg_state(4), "done");
	cr_assert_eq(db_int("SELECT ended FROM market_legs WHERE order_ref"
	    " = 3 AND seq = 4", 0, 0), T0);
}

/* --- the buyer's place ----------------------------------------------------------- */

/* No want, no post: the host's place for him routes it. */
BOTH(the_hosts_place_routes_a_buyer_who_never_posted)
{
	mock_place(m, BUYER, "mombasa");
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	cr_assert_eq(run(BUYER, "buy 1 2"), MB_OK);
	cr_assert_eq(run(SELLER, "accept 2"), MB_OK);
	run_reply(SELLER, "sent 2 0711000333", "market-sent-ok");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs", 0, 0), 4);
	arg_is(msg(CARRIER, "market-leg-first"), "hub", "Ndeiya");
}

/* The host's place comes before his newest post's market. */
BOTH(the_hosts_place_comes_before_the_newest_post)
{
	/* his offer is at mombasa; his place nakuru: same place, no route */
	mock_place(m, BUYER, "nakuru");
	cr_assert_eq(run(BUYER, "sell maize 5 bags 3000"), MB_OK);
	cr_assert_str_eq(db_text("SELECT market FROM market_posts WHERE"
	    " ref = 1", 0, 0), "mombasa");
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	cr_assert_eq(run(BUYER, "buy 2 2"), MB_OK);
	cr_assert_eq(run(SELLER, "accept 3"), MB_OK);
	run_reply(SELLER, "sent 3 0711000333", "market-sent-ok-transporter");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs", 0, 0), 0);
}

/* The want the order counts toward comes before the host's place. */
BOTH(the_want_comes_before_the_hosts_place)
{
	char	 code[8];

	mock_place(m, BUYER, "nakuru");
	sent_with_kamau(code, sizeof(code));
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs", 0, 0), 4);
}

/* --- PICKUP's notice, OUT to the buyer ------------------------------------------- */

BOTH(pickup_tells_the_buyer_who_confirmed_it)
{
	const struct mock_msg	*s;
	char			 code[8], text[64];

	at_last_hub(code, sizeof(code));
	snprintf(text, sizeof(text), "pickup 3 %s", buyer_code);
	run_reply(OP_TIGONI, text, "market-delivered-ok");
	s = msg(BUYER, "market-leg-pickup-buyer");
	arg_is(s, "phone", OP_TIGONI);
	arg_is(s, "hub", "Tigoni");
	cr_assert_eq(count(BUYER, "market-delivered-buyer"), 0,
	    "not by the transporter");
	cr_assert_eq(count(SELLER, "market-delivered-seller"), 1);
	cr_assert_eq(mock_ntrades(m), 1);
}

BOTH(pickup_by_the_agent_names_the_agent)
{
	char	 code[8], text[64];

	plugin_mock_member(m, BUYER, "Otieno via Tigoni point", AGENT);
	at_last_hub(code, sizeof(code));
	snprintf(text, sizeof(text), "pickup 3 %s", buyer_code);
	run_reply(AGENT, text, "market-delivered-ok");
	arg_is(msg(BUYER, "market-leg-pickup-agent"), "phone", AGENT);
	cr_assert_eq(count(BUYER, "market-delivered-buyer"), 0);
}

/* The buyer fetches it from the last hub: not refused; he confirms. */
BOTH(out_to_the_buyer_at_the_last_hub)
{
	char	 code[8];

	at_last_hub(code, sizeof(code));
	run_reply(OP_TIGONI, "out 3 0700000002", "market-leg-out-self-ok");
	arg_is(sent(0), "hub", "Tigoni");
	arg_is(msg(BUYER, "market-leg-out-self"), "hub", "Tigoni");
	cr_assert_eq(count(BUYER, "market-leg-carrier-last"), 0,
	    "no handover code to himself");
	cr_assert_str_eq(leg_state(4), "done");
	cr_assert_str_eq(db_text("SELECT carrier FROM market_legs WHERE"
	    " order_ref = 3 AND seq = 4", 0, 0), "NULL", "no carrier, as "
	    "PICKUP's");
	cr_assert_str_eq(order_state(), "sent");
	run_reply(BUYER, "delivered 3", "market-delivered-ok");
	cr_assert_str_eq(order_state(), "delivered");
}

/* Fetched at a hub on the way: the chain ends there; the order's own
   timers ask him, as without hubs. */
BOTH(out_to_the_buyer_on_the_way)
{
	char	 code[8];

	sent_with_kamau(code, sizeof(code));
	in(OP_NDEIYA, code, "market-leg-in-ok");
	run_reply(OP_NDEIYA, "out 3 +254700000002", "market-leg-out-self-ok");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_legs WHERE"
	    " order_ref = 3 AND state <> 'done'", 0, 0), 0);
	sweep(T0 + 3 * DAY);
	cr_assert_eq(count(BUYER, "market-reminder-buyer"), 1);
	cr_assert_eq(count(BUYER, "market-leg-late-buyer"), 0);
	run_reply(BUYER, "delivered 3", "market-delivered-ok");
}

/*
 * A long road: the parcel reaches the last hub eight days after SENT,
 * past delivery-complete (7 days) from it.  Not completed on arrival:
 * the buyer is asked delivery-remind (48 h) after the last hub's IN,
 * and it completes by itself delivery-complete after it.
 */
BOTH(a_long_road_starts_the_delivery_timers_at_the_last_hub)
{
	const long long	 in_at = T0 + 8 * DAY;
	char		 code[8];

	sent_with_kamau(code, sizeof(code));
	mock_set_now(m, T0 + 2 * DAY);
	in(OP_NDEIYA, code, "market-leg-in-ok");
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	mock_set_now(m, T0 + 5 * DAY);
	in(OP_LIMURU, code, "market-leg-in-ok");
	out(OP_LIMURU, "0722000555", CARRIER3, "market-leg-carrier", code,
	    sizeof(code));
	mock_set_now(m, in_at);
	in(OP_TIGONI, code, "market-leg-in-last");
	sweep(in_at + HOUR);
	cr_assert_str_eq(order_state(), "sent", "not auto-delivered on "
	    "arrival at the last hub");
	cr_assert_eq(count(BUYER, "market-reminder-buyer"), 0);
	sweep(in_at + 2 * DAY - HOUR);
	cr_assert_eq(count(BUYER, "market-reminder-buyer"), 0);
	sweep(in_at + 2 * DAY);
	cr_assert_eq(count(BUYER, "market-reminder-buyer"), 1,
	    "asked delivery-remind after the last hub's IN");
	sweep(in_at + 7 * DAY - HOUR);
	cr_assert_str_eq(order_state(), "sent");
	sweep(in_at + 7 * DAY);
	cr_assert_str_eq(order_state(), "delivered",
	    "completed delivery-complete after it");
	cr_assert_str_eq(leg_state(4), "done");
}

/* The same road, the parcel sent on from the last hub a day later: its
   timers from then (the last leg, to the buyer's door). */
BOTH(a_long_road_starts_the_timers_again_on_the_last_leg)
{
	const long long	 out_at = T0 + 9 * DAY;
	char		 code[8];

	at_last_hub(code, sizeof(code));
	mock_set_now(m, out_at);
	out(OP_TIGONI, "0722000444", CARRIER2, "market-leg-carrier-last",
	    code, sizeof(code));
	sweep(out_at + 2 * DAY - HOUR);
	cr_assert_eq(count(BUYER, "market-reminder-buyer"), 0);
	cr_assert_str_eq(order_state(), "sent");
	sweep(out_at + 2 * DAY);
	cr_assert_eq(count(BUYER, "market-reminder-buyer"), 1);
	sweep(out_at + 7 * DAY - HOUR);
	cr_assert_str_eq(order_state(), "sent");
	sweep(out_at + 7 * DAY);
	cr_assert_str_eq(order_state(), "delivered");
}

/* Fetched by the buyer at the first hub after eight days on the road:
   asked delivery-remind after that, not completed at once. */
BOTH(a_long_road_fetched_by_the_buyer_starts_the_timers)
{
	const long long	 at = T0 + 8 * DAY;
	char		 code[8];

	sent_with_kamau(code, sizeof(code));
	mock_set_now(m, at);
	in(OP_NDEIYA, code, "market-leg-in-ok");
	run_reply(OP_NDEIYA, "out 3 0700000002", "market-leg-out-self-ok");
	sweep(at + HOUR);
	cr_assert_str_eq(order_state(), "sent");
	sweep(at + 2 * DAY);
	cr_assert_eq(count(BUYER, "market-reminder-buyer"), 1);
	sweep(at + 7 * DAY);
	cr_assert_str_eq(order_state(), "delivered");
}

/*
 * The buyer fetches it at the last hub a day after it was due to leave:
 * the hub's lateness, not his.  No late leg on his record (the legs
 * the market plugin's record counts, market_rep_sql.h); he is still
 * the one the order is with.
 */
BOTH(a_buyer_fetching_it_late_has_no_late_leg)
{
	char	 code[8];

	at_last_hub(code, sizeof(code));
	mock_set_now(m, T0 + 2 * DAY);
	run_reply(OP_TIGONI, "out 3 0700000002", "market-leg-out-self-ok");
	run_reply(BUYER, "delivered 3", "market-delivered-ok");
	cr_assert_eq(db_int("SELECT " MARKET_REP_SQL_LATE("'" BUYER "'",
	    "CAST($1 AS BIGINT)"), T0 + 3 * DAY, 0), 0,
	    "no late leg on the buyer");
	cr_assert_str_eq(db_text("SELECT transporter FROM market_orders"
	    " WHERE ref = 3", 0, 0), BUYER);
}

/* --- every template in every language ------------------------------------------------- */

MARKET_LANG_FIXTURE(setup, teardown)

/*
 * Order ref: Otieno buys one bag of offer 2, accepted, sent with Kamau,
 * received at ins hubs (sent on between them); the buyer's code into
 * bcode.
 */
static void
tour_order(long long ref, int ins, char *bcode, size_t len)
{
	static const char *const ops[] = { OP_NDEIYA, OP_LIMURU, OP_TIGONI };
	static const char *const typed[] = { "0722000444", "0722000555" };
	static const char *const carriers[] = { CARRIER2, CARRIER3 };
	char			 text[64], code[8];
	int			 i;

	cr_assert_eq(run(BUYER, "buy 2 1"), MB_OK);
	snprintf(text, sizeof(text), "accept %lld", ref);
	cr_assert_eq(run(SELLER, text), MB_OK);
	snprintf(text, sizeof(text), "sent %lld 0711000333", ref);
	cr_assert_eq(run(SELLER, text), MB_OK);
	snprintf(bcode, len, "%s", mock_arg(msg(BUYER, "market-sent-buyer"),
	    "code"));
	snprintf(code, sizeof(code), "%s",
	    mock_arg(msg(CARRIER, "market-leg-first"), "code"));
	for (i = 0; i < ins; i++) {
		snprintf(text, sizeof(text), "in %lld %s", ref, code);
		cr_assert_eq(run(ops[i], text), MB_OK);
		if (i + 1 == ins)
			break;
		snprintf(text, sizeof(text), "out %lld %s", ref, typed[i]);
		cr_assert_eq(run(ops[i], text), MB_OK);
		snprintf(code, sizeof(code), "%s",
		    mock_arg(msg(carriers[i], "market-leg-carrier"), "code"));
	}
}

/* The late legs, DELIVERED before the last hub, PICKUP's notices and
   OUT to the buyer, on orders 6 .. 9 (after tour's 3 and 5). */
static void
tour_late(void)
{
	char	 bcode[8], text[64];

	/* 6: moving to Ndeiya; 7: waiting there, fetched by the buyer */
	tour_order(6, 0, bcode, sizeof(bcode));
	run(BUYER, "delivered 6");
	tour_order(7, 1, bcode, sizeof(bcode));
	run(BUYER, "delivered 7");
	run(OP_NDEIYA, "out 7 0700000002");
	/* 8, 9: collected at Tigoni by its operator, by the buyer's agent */
	tour_order(8, 3, bcode, sizeof(bcode));
	snprintf(text, sizeof(text), "pickup 8 %s", bcode);
	run(OP_TIGONI, text);
	tour_order(9, 3, bcode, sizeof(bcode));
	snprintf(text, sizeof(text), "pickup 9 %s", bcode);
	run(AGENT, text);
	/* 3 (moving to Limuru, due T0 + 24 h), 5 (to the buyer, due T0 +
	   12 h), 6 (moving to Ndeiya, due T0 + 12 h) pressed */
	sweep(T0 + 12 * HOUR);
	sweep(T0 + 24 * HOUR);
	sweep(T0 + 48 * HOUR);
	sweep(T0 + 72 * HOUR);
	/* 10: waiting at Ndeiya past its departure */
	mock_set_now(m, T0 + 72 * HOUR);
	tour_order(10, 1, bcode, sizeof(bcode));
	sweep(T0 + 84 * HOUR);
	sweep(T0 + 90 * HOUR);
}

/* Every reply and notice of the legs, with typical values. */
static void
tour(void)
{
	char	 code[8], text[64];

	plugin_mock_member(m, BUYER, "Otieno via Tigoni point", AGENT);
	sent_with_kamau(code, sizeof(code));
	snprintf(text, sizeof(text), "pickup 3 %s", buyer_code);
	run(AGENT, text);
	run(STRANGER, "in 3 1234");
	run(OP_LIMURU, "in 3 1234");
	in(OP_NDEIYA, wrong(code), "market-leg-wrong-code");
	in(OP_NDEIYA, code, "market-leg-in-ok");
	run(OP_NDEIYA, "in 3 1234");
	run(OP_NDEIYA, "out 3 hello");
	run(OP_NDEIYA, "out 3 +33612345678");
	out(OP_NDEIYA, "0722000444", CARRIER2, "market-leg-carrier", code,
	    sizeof(code));
	run(CARRIER2, "problem 3 lorry broke down, two days late");
	in(OP_LIMURU, wrong(code), "market-leg-wrong-code");
	in(OP_LIMURU, wrong(code), "market-leg-wrong-code");
	in(OP_LIMURU, wrong(code), "market-leg-code-locked");
	/* the rest on a second order (4 is the dispute) */
	run(BUYER, "buy 2 2");
	run(SELLER, "accept 5");
	run(SELLER, "sent 5 0711000333");
	snprintf(code, sizeof(code), "%s",
	    mock_arg(msg(CARRIER, "market-leg-first"), "code"));
	snprintf(text, sizeof(text), "in 5 %s", code);
	run(OP_NDEIYA, text);
	run(OP_NDEIYA, "out 5 0722000444");
	snprintf(code, sizeof(code), "%s",
	    mock_arg(msg(CARRIER2, "market-leg-carrier"), "code"));
	snprintf(text, sizeof(text), "in 5 %s", code);
	run(OP_LIMURU, text);
	run(OP_LIMURU, "out 5 0722000555");
	snprintf(code, sizeof(code), "%s",
	    mock_arg(msg(CARRIER3, "market-leg-carrier"), "code"));
	snprintf(text, sizeof(text), "in 5 %s", code);
	run(OP_TIGONI, text);
	run(OP_TIGONI, "in 5 1234");
	run(OP_TIGONI, "out 5 0711000333");
	run(OP_TIGONI, "in 5 1234");
	tour_late();
}

Test(leg_lang, every_template_in_every_language_fits,
    .init = lang_setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	static const char	*used[] = { "market-leg-first",
	    "market-leg-carrier", "market-leg-carrier-last",
	    "market-leg-coming", "market-leg-out-buyer",
	    "market-leg-not-operator", "market-leg-at", "market-leg-moving",
	    "market-leg-last", "market-leg-wrong-code",
	    "market-leg-code-locked", "market-leg-code-locked-carrier",
	    "market-leg-in-ok", "market-leg-in-last", "market-leg-arrived",
	    "market-leg-arrived-last", "market-leg-bad-phone",
	    "market-leg-carrier-refused", "market-leg-out-ok",
	    "market-leg-not-yet", "market-leg-problem-hub",
	    "market-leg-late-carrier", "market-leg-late-carrier-last",
	    "market-leg-late-hub", "market-leg-overdue-moving",
	    "market-leg-overdue-at", "market-leg-overdue-last",
	    "market-leg-late-buyer", "market-leg-late-admin",
	    "market-leg-pickup-buyer", "market-leg-pickup-agent",
	    "market-leg-not-arrived-moving", "market-leg-not-arrived-at",
	    "market-leg-out-self-ok", "market-leg-out-self" };
	static const struct mb_arg nohubs[] = { { "ref", "43" } };
	static const char	*cmds[] = { "IN", "OUT", "PICKUP" };
	size_t			 i, l, k, found;
	char			 name[32];

	tour();
	for (k = 0; k < sizeof(used) / sizeof(used[0]); k++) {
		for (i = 0, found = 0; i < market_nseen; i++)
			found += strcmp(market_seen[i].tmpl, used[k]) == 0;
		cr_assert_gt(found, 0, "the tour never sent %s", used[k]);
	}
	for (i = 0; i < market_nseen; i++) {
		const struct market_seen	*s = &market_seen[i];

		if (strncmp(s->tmpl, "market-leg-", 11) != 0)
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
			    s->nargs, NULL, NULL);
		}
	}
	for (l = 0; l < 4; l++) {
		const struct mb_arg	 none[1] = { { "x", "" } };

		market_lang_assert_reads(codes[l], "market-leg-no-hubs",
		    nohubs, 1, NULL, NULL);
		for (k = 0; k < 3; k++) {
			snprintf(name, sizeof(name), "usage-%s", cmds[k]);
			cr_assert_not_null(lang_template(market_lang_shipped,
			    codes[l], name), "%s lacks %s", codes[l], name);
			market_lang_assert_reads(codes[l], name, none, 0,
			    NULL, NULL);
			snprintf(name, sizeof(name), "help-%s", cmds[k]);
			market_lang_assert_reads(codes[l], name, none, 0,
			    NULL, NULL);
		}
	}
}
