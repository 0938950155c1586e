/*
 * test_market_pay.c - money paid outside the provider (market_pay.c:
 * PAID, RECEIVED, cash at DELIVERED) through the mock host, whose
 * pay_said is the core's own (src/pay/pay_said.c) on the mock's store:
 * the claims (payment_claims) and the ledger rows (payments, said_by)
 * are read back as the daemon would write them.  The buyer's PAID asks
 * the seller; the seller's RECEIVED enters the rest of what is due (just
 * the rest after a provider's part payment) and tells the buyer; a PAID
 * of a TransID the provider already confirmed is "already recorded";
 * cash-at-delivery = yes makes DELIVERED enter the rest as the seller's;
 * every refusal changes nothing; every new template in the four shipped
 * languages within one SMS, with the longest values too (a 16-character
 * reference, a 6-digit order, 1,234,567.50).  Each test runs on SQLite (suite market_pay)
 * and on PostgreSQL (suite market_pay_pg, with MB_TEST_PG).
 */
#include "config.h"

#include <stddef.h>
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
#define T0		1700000000LL

static struct mock	*m;
static int		 collecting;	/* keep what is sent in market_seen */

/* --- the host ---------------------------------------------------------------- */

static void
start(const char *database, const char *cash)
{
	m = mock_new_on(&marketbox_plugin, database);
	mock_set_now(m, T0);
	if (cash != NULL)
		mock_conf(m, "cash-at-delivery", cash);
	cr_assert_eq(mock_init(m), MB_OK);
}

static void
setup(void)
{
	start(NULL, NULL);
}

static void
setup_cash(void)
{
	start(NULL, "yes");
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
	start(market_fixture_pg("pay"), NULL);
}

static void
setup_cash_pg(void)
{
	start(market_fixture_pg("pay"), "yes");
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
#define count(who, tmpl)	mtest_count(m, (who), (tmpl))
#define db_int(sql, a)		mtest_db_int(m, (sql), (a), 0)
#define db_text(sql, a)		mtest_db_text(m, (sql), (a), 0)
#define db_exec(sql, a, b)	mtest_db_exec(m, (sql), (a), (b))
/*
 * who sends text: handled, with one reply, tmpl (the core's notice to
 * the other party may come before it); has() reads that reply.
 */
static const char	*replied;

static void
run_reply(const char *who, const char *text, const char *tmpl)
{
	cr_assert_eq(run(who, text), MB_OK, "%s", text);
	cr_assert_eq(count(NULL, tmpl), 1, "%s: no reply %s", text, tmpl);
	replied = tmpl;
}
#define has(name, value)	mtest_arg_is(mtest_msg(m, NULL, replied), \
				    (name), (value))

static long long
claims(void)
{
	return db_int("SELECT COUNT(*) FROM payment_claims", 0);
}

static long long
ledger(void)
{
	return db_int("SELECT COUNT(*) FROM payments", 0);
}

/*
 * An order of 2 bags of maize at 3,000 KES on Wanjiru's offer (ref 1):
 * order 2, total 6,000 KES (600000 minor units), moved to state.
 */
static void
order_in(const char *state)
{
	run_reply(SELLER, "sell maize 10 bags 3000", "market-offer-ok");
	cr_assert_eq(run(BUYER, "buy 1 2"), MB_OK);
	if (strcmp(state, "pending") == 0)
		return;
	if (strcmp(state, "rejected") == 0) {
		cr_assert_eq(run(SELLER, "reject 2"), MB_OK);
		return;
	}
	cr_assert_eq(run(SELLER, "accept 2"), MB_OK);
	if (strcmp(state, "accepted") == 0)
		return;
	cr_assert_eq(run(SELLER, "sent 2 0711000333"), MB_OK);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "sent");
}

/* What the provider's callback leaves for order 2: its ledger row
   (said_by NULL) and the money state (pay_confirm, test_payments). */
static void
provider_paid(const char *trans, long long amount, const char *state)
{
	static const char	 ledger_sql[] = "INSERT INTO payments "
	    "(trans_id, kind, order_ref, amount, currency, msisdn, outcome, "
	    "raw, created) VALUES ($1, 'payment', 2, $2, 'KES', $3, $4, "
	    "'{}', $5)";
	static const char	 state_sql[] = "INSERT INTO order_payments "
	    "(order_ref, due, paid, state, updated) VALUES (2, 600000, $1, "
	    "$2, $3)";
	struct store_stmt	*st;

	cr_assert_not_null(st = store_query(mock_store(m), ledger_sql));
	store_bind_text(st, 1, trans);
	store_bind_int(st, 2, amount);
	store_bind_text(st, 3, BUYER);
	store_bind_text(st, 4, state);
	store_bind_int(st, 5, T0);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	cr_assert_not_null(st = store_query(mock_store(m), state_sql));
	store_bind_int(st, 1, amount);
	store_bind_text(st, 2, state);
	store_bind_int(st, 3, T0);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
}

#define BOTH(name)	MARKET_BOTH(market_pay, setup_pg, teardown, name)
#define CASH(name)	MARKET_BOTH(market_pay_cash, setup_cash_pg, teardown, \
			    name)

TestSuite(market_pay, .init = setup, .fini = teardown);
TestSuite(market_pay_cash, .init = setup_cash, .fini = teardown);

/* --- PAID -------------------------------------------------------------------- */

/* The buyer's word moves no money: the claim is kept as said, the seller
   asked to confirm it with RECEIVED. */
BOTH(paid_asks_the_seller_and_moves_no_money)
{
	order_in("accepted");
	run_reply(BUYER, "paid 2 QBC1X2Y3Z", "market-paid-ok");
	has("ref", "2");
	has("amount", "6000");
	has("currency", "KES");
	has("trans", "QBC1X2Y3Z");
	cr_assert_eq(count(SELLER, "pay-said-paid-seller"), 1);
	cr_assert_str_eq(mtest_only_arg(m, SELLER, "pay-said-paid-seller",
	    "trans"), "QBC1X2Y3Z");
	cr_assert_str_eq(mtest_only_arg(m, SELLER, "pay-said-paid-seller",
	    "amount"), "6000");
	cr_assert_eq(claims(), 1);
	cr_assert_str_eq(db_text("SELECT kind || ' ' || said_by || ' ' || "
	    "reference FROM payment_claims WHERE order_ref = $1", 2),
	    "paid " BUYER " QBC1X2Y3Z");
	cr_assert_eq(db_int("SELECT amount FROM payment_claims", 0), 600000);
	cr_assert_eq(ledger(), 0, "the buyer's word enters nothing");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM order_payments", 0), 0);
}

/* A reference of 16 characters, the longest, as typed. */
BOTH(paid_with_the_longest_reference)
{
	order_in("accepted");
	run_reply(BUYER, "paid 2 QBC1X2Y3Z4abcdef", "market-paid-ok");
	has("trans", "QBC1X2Y3Z4abcdef");
	cr_assert_str_eq(db_text("SELECT reference FROM payment_claims", 0),
	    "QBC1X2Y3Z4abcdef");
}

BOTH(paid_without_a_reference)
{
	order_in("pending");
	run_reply(BUYER, "paid 2", "market-paid-ok-noref");
	cr_assert_eq(count(SELLER, "pay-said-paid-seller"), 1);
	cr_assert_str_eq(mtest_only_arg(m, SELLER, "pay-said-paid-seller",
	    "trans"), "-");
	cr_assert_str_eq(db_text("SELECT reference FROM payment_claims", 0),
	    "NULL");
	cr_assert_eq(ledger(), 0);
}

/* A TransID the provider already confirmed for the order, in any case:
   already recorded, the claim kept with its amount, nobody asked. */
BOTH(paid_of_a_confirmed_transid_is_already_recorded)
{
	order_in("accepted");
	provider_paid("QBC1X", 600000, "paid");
	run_reply(BUYER, "paid 2 qbc1x", "market-paid-known");
	has("amount", "6000");
	has("trans", "qbc1x");
	cr_assert_eq(mock_nsent(m), 1, "the seller is not asked again");
	cr_assert_eq(db_int("SELECT amount FROM payment_claims WHERE kind = "
	    "'paid'", 0), 600000);
	cr_assert_eq(ledger(), 1);
	cr_assert_eq(db_int("SELECT paid FROM order_payments", 0), 600000);
}

/* Part paid by the provider, the buyer names that TransID: known too
   (that payment's amount, the seller not asked); another reference on
   a paid order: already paid. */
BOTH(paid_of_a_paid_order_says_so)
{
	order_in("accepted");
	provider_paid("QBC1X", 200000, "part");
	run_reply(BUYER, "paid 2 QBC1X", "market-paid-known");
	has("amount", "2000");
	has("trans", "QBC1X");
	cr_assert_eq(mock_nsent(m), 1, "the seller is not asked");
	cr_assert_eq(db_int("SELECT amount FROM payment_claims", 0), 200000);
	cr_assert_str_eq(db_text("SELECT state FROM order_payments", 0),
	    "part", "the buyer's word moves nothing");
	/* the rest came (the provider's): paid in full */
	db_exec("UPDATE order_payments SET paid = 600000, state = 'paid' "
	    "WHERE order_ref = $1", 2, 0);
	run_reply(BUYER, "paid 2 OTHER1", "market-paid-already");
	has("ref", "2");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(claims(), 2, "the claim is kept");
	cr_assert_eq(db_int("SELECT amount FROM payment_claims WHERE "
	    "reference = 'OTHER1'", 0), 0);
	cr_assert_eq(ledger(), 1);
}

/* --- RECEIVED ----------------------------------------------------------------- */

/* The seller has the money: the rest entered in her name, the money
   state moved, the buyer told. */
BOTH(received_enters_the_rest_and_tells_the_buyer)
{
	long long	 claim;
	char		 trans[64];

	order_in("accepted");
	run_reply(SELLER, "received 2", "market-received-ok");
	has("amount", "6000");
	has("currency", "KES");
	cr_assert_eq(count(BUYER, "pay-said-received-buyer"), 1);
	cr_assert_str_eq(mtest_only_arg(m, BUYER, "pay-said-received-buyer",
	    "amount"), "6000");
	cr_assert_eq(claims(), 1);
	cr_assert_str_eq(db_text("SELECT kind || ' ' || said_by FROM "
	    "payment_claims WHERE order_ref = $1", 2), "received " SELLER);
	claim = db_int("SELECT id FROM payment_claims", 0);
	snprintf(trans, sizeof(trans), "RECEIVED-2-%lld", claim);
	cr_assert_eq(ledger(), 1);
	cr_assert_str_eq(db_text("SELECT trans_id FROM payments", 0), trans);
	cr_assert_str_eq(db_text("SELECT kind || ' ' || said_by || ' ' || "
	    "outcome || ' ' || currency FROM payments WHERE order_ref = $1",
	    2), "payment " SELLER " paid KES");
	cr_assert_eq(db_int("SELECT amount FROM payments", 0), 600000);
	cr_assert_str_eq(db_text("SELECT state FROM order_payments WHERE "
	    "order_ref = $1", 2), "paid");
	cr_assert_eq(db_int("SELECT paid FROM order_payments", 0), 600000);
	/* said again: paid in full, refused, the claim kept */
	run_reply(SELLER, "received 2", "market-received-already");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(claims(), 2);
	cr_assert_eq(ledger(), 1);
}

/* After the provider's part payment only the rest is entered. */
BOTH(received_after_a_part_payment_enters_just_the_rest)
{
	order_in("accepted");
	provider_paid("QBC1X", 200000, "part");
	run_reply(SELLER, "received 2", "market-received-ok");
	has("amount", "4000");
	cr_assert_eq(db_int("SELECT amount FROM payments WHERE said_by IS "
	    "NOT NULL", 0), 400000);
	cr_assert_eq(db_int("SELECT SUM(amount) FROM payments WHERE "
	    "order_ref = $1", 2), 600000);
	cr_assert_eq(db_int("SELECT amount FROM payment_claims", 0), 400000);
	cr_assert_str_eq(db_text("SELECT state FROM order_payments", 0),
	    "paid");
	cr_assert_eq(db_int("SELECT paid FROM order_payments", 0), 600000);
}

/* A delivered order can still be settled; the buyer's word first, the
   seller's after. */
BOTH(paid_then_received_on_a_delivered_order)
{
	order_in("sent");
	cr_assert_eq(run(BUYER, "delivered 2"), MB_OK);
	cr_assert_eq(count(NULL, "market-delivered-ok"), 1,
	    "no cash without cash-at-delivery");
	cr_assert_eq(claims(), 0);
	run_reply(BUYER, "paid 2 CASH", "market-paid-ok");
	run_reply(SELLER, "received 2", "market-received-ok");
	cr_assert_eq(claims(), 2);
	cr_assert_eq(ledger(), 1);
	cr_assert_str_eq(db_text("SELECT state FROM order_payments", 0),
	    "paid");
}

/* --- refusals ------------------------------------------------------------------- */

BOTH(each_refusal_names_the_next_step_and_keeps_nothing)
{
	order_in("accepted");
	run_reply(STRANGER, "paid 2 X1", "market-not-yours");
	run_reply(STRANGER, "received 2", "market-not-yours");
	run_reply(SELLER, "paid 2 X1", "market-paid-seller");
	has("ref", "2");
	run_reply(BUYER, "received 2", "market-received-buyer");
	has("ref", "2");
	run_reply(BUYER, "paid 99", "market-unknown-ref");
	run_reply(SELLER, "received 99", "market-unknown-ref");
	run_reply(BUYER, "paid 1", "market-ref-offer");
	cr_assert_eq(run(BUYER, "paid"), MB_USAGE);
	cr_assert_str_eq(mtest_sent(m, 0)->tmpl, "usage-PAID");
	cr_assert_eq(run(BUYER, "paid 2 A B"), MB_USAGE);
	/* a reference of at most 16 letters and digits */
	cr_assert_eq(run(BUYER, "paid 2 QBC1X2Y3Z4ABCDEFG"), MB_USAGE);
	cr_assert_str_eq(mtest_sent(m, 0)->tmpl, "usage-PAID");
	cr_assert_eq(run(BUYER, "paid 2 QBC1-X2Y3"), MB_USAGE);
	cr_assert_eq(run(BUYER, "paid 2 \"QBC1X\""), MB_USAGE);
	cr_assert_eq(run(SELLER, "received 2 now"), MB_USAGE);
	cr_assert_str_eq(mtest_sent(m, 0)->tmpl, "usage-RECEIVED");
	cr_assert_eq(run(SELLER, "received"), MB_USAGE);
	cr_assert_eq(claims(), 0);
	cr_assert_eq(ledger(), 0);
}

/* A closed order takes no money word: where it stands. */
BOTH(a_closed_order_is_refused)
{
	order_in("rejected");
	run_reply(BUYER, "paid 2 X1", "market-order-ended-rejected");
	run_reply(SELLER, "received 2", "market-order-ended-rejected");
	db_exec("UPDATE market_orders SET state = 'cancelled' WHERE ref = $1",
	    2, 0);
	run_reply(SELLER, "received 2", "market-order-ended-cancelled");
	db_exec("UPDATE market_orders SET state = 'expired' WHERE ref = $1",
	    2, 0);
	run_reply(BUYER, "paid 2", "market-order-ended-expired");
	cr_assert_eq(claims(), 0);
	cr_assert_eq(ledger(), 0);
}

/* A notice that fails rolls the whole unit back, claim and ledger. */
BOTH(a_failing_notice_keeps_nothing)
{
	order_in("accepted");
	mock_clear(m);
	as(SELLER);
	mock_fail_sends(m, 1);
	cr_assert_eq(mock_command(m, "received 2"), MB_FAIL);
	mock_fail_sends(m, 0);
	cr_assert_eq(claims(), 0);
	cr_assert_eq(ledger(), 0);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM order_payments", 0), 0);
}

/* A host without pay_said: said so, nothing kept, DELIVERED as ever. */
Test(market_pay_cash, a_host_without_pay_said_says_so)
{
	order_in("sent");
	mock_host_size(m, offsetof(struct mb_host, pay_said));
	run_reply(BUYER, "paid 2 X1", "market-pay-unavailable");
	run_reply(SELLER, "received 2", "market-pay-unavailable");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(count(SELLER, "market-delivered-seller"), 1);
	cr_assert_eq(claims(), 0);
}

Test(market_pay, cash_at_delivery_is_yes_or_no)
{
	struct mock	*bad = mock_new(&marketbox_plugin);

	mock_conf(bad, "cash-at-delivery", "maybe");
	cr_assert_eq(mock_init(bad), MB_FAIL);
	mock_free(bad);
	bad = mock_new(&marketbox_plugin);
	mock_conf(bad, "cash-at-delivery", "no");
	cr_assert_eq(mock_init(bad), MB_OK);
	mock_free(bad);
}

/* --- cash at delivery ---------------------------------------------------------- */

/* DELIVERED with cash-at-delivery = yes: the claim (said by who
   confirmed), the rest as the seller's, both texts say so. */
CASH(delivered_records_the_cash_the_seller_took)
{
	order_in("sent");
	run_reply(BUYER, "delivered 2", "market-delivered-ok-cash");
	has("amount", "6000");
	cr_assert_eq(count(SELLER, "market-delivered-seller-cash"), 1);
	cr_assert_str_eq(mtest_only_arg(m, SELLER,
	    "market-delivered-seller-cash", "amount"), "6000");
	cr_assert_eq(count(SELLER, "market-delivered-seller"), 0);
	cr_assert_str_eq(db_text("SELECT kind || ' ' || said_by FROM "
	    "payment_claims", 0), "cash-at-delivery " BUYER);
	cr_assert_eq(db_int("SELECT amount FROM payment_claims", 0), 600000);
	cr_assert_eq(ledger(), 1);
	cr_assert_str_eq(db_text("SELECT said_by || ' ' || outcome FROM "
	    "payments WHERE order_ref = $1", 2), SELLER " paid");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM payments WHERE trans_id "
	    "LIKE 'CASH-2-%'", 0), 1);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "delivered");
	cr_assert_str_eq(db_text("SELECT state FROM order_payments", 0),
	    "paid");
	/* the seller's RECEIVED after it: already paid */
	run_reply(SELLER, "received 2", "market-received-already");
}

CASH(cash_after_a_part_payment_is_just_the_rest)
{
	order_in("sent");
	provider_paid("QBC1X", 250000, "part");
	run_reply(BUYER, "delivered 2", "market-delivered-ok-cash");
	has("amount", "3500");
	cr_assert_eq(db_int("SELECT SUM(amount) FROM payments WHERE "
	    "order_ref = $1", 2), 600000);
	cr_assert_eq(db_int("SELECT paid FROM order_payments", 0), 600000);
}

/* Paid in full by the provider: nothing to record, the usual texts. */
CASH(cash_of_a_paid_order_records_nothing)
{
	order_in("sent");
	provider_paid("QBC1X", 600000, "paid");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(count(SELLER, "market-delivered-seller"), 1);
	cr_assert_eq(claims(), 0);
	cr_assert_eq(ledger(), 1);
}

/* The transporter with the code: the claim is his word. */
CASH(the_transporter_confirms_the_cash)
{
	const char	*code;
	char		 cmd[64];

	order_in("sent");
	code = db_text("SELECT code FROM market_orders WHERE ref = $1", 2);
	snprintf(cmd, sizeof(cmd), "delivered 2 %s", code);
	run_reply(CARRIER, cmd, "market-delivered-ok-cash");
	cr_assert_eq(count(SELLER, "market-delivered-seller-cash"), 1);
	cr_assert_str_eq(db_text("SELECT said_by FROM payment_claims", 0),
	    CARRIER);
	cr_assert_str_eq(db_text("SELECT said_by FROM payments", 0), SELLER);
}

/* The timer's delivery: nobody saw a handover, no cash recorded. */
CASH(the_timers_delivery_records_no_cash)
{
	order_in("sent");
	mock_set_now(m, T0 + 8 * 86400);
	mock_clear(m);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
	cr_assert_str_eq(db_text("SELECT state FROM market_orders WHERE ref"
	    " = $1", 2), "delivered");
	cr_assert_eq(claims(), 0);
	cr_assert_eq(ledger(), 0);
}

/* --- every template in every language ------------------------------------------------------ */

static void
lang_start(void)
{
	start(NULL, "yes");
}

MARKET_LANG_FIXTURE(lang_start, teardown)

/* PAID's, RECEIVED's and the cash's every reply and notice. */
static void
tour(void)
{
	collecting = 1;
	order_in("accepted");
	run(SELLER, "paid 2 X");
	run(BUYER, "received 2");
	run(BUYER, "paid 2 QBC1X2Y3Z4ABCDEF");
	run(BUYER, "paid 2");
	provider_paid("QBC1X", 100050, "part");
	run(BUYER, "paid 2 QBC1X");
	run(SELLER, "received 2");
	run(BUYER, "paid 2 X");
	run(SELLER, "received 2");
	/* order 3, its cash at delivery */
	run(BUYER, "buy 1 2");
	run(SELLER, "accept 3");
	run(SELLER, "sent 3");
	run(BUYER, "delivered 3");
	mock_host_size(m, offsetof(struct mb_host, pay_said));
	run(BUYER, "paid 3 X");
	collecting = 0;
}

/*
 * Message s with the longest values it can carry: a reference of
 * MARKET_PAY_REF_MAX characters (PAID takes no longer one), a 6-digit
 * order number, an amount of 1,234,567.50; it still fits one SMS in
 * lang.
 */
static void
t_assert_longest(const char *lang, const struct market_seen *s)
{
	struct mb_arg	 args[MARKET_MAX_ARGS_TEST];
	size_t		 k;

	cr_assert_leq(s->nargs, MARKET_MAX_ARGS_TEST);
	for (k = 0; k < s->nargs; k++) {
		args[k] = s->args[k];
		if (strcmp(args[k].name, "ref") == 0)
			args[k].value = "123456";
		else if (strcmp(args[k].name, "trans") == 0)
			args[k].value = "QBC1X2Y3Z4ABCDEF";
		else if (strcmp(args[k].name, "amount") == 0 ||
		    strcmp(args[k].name, "due") == 0 ||
		    strcmp(args[k].name, "total") == 0 ||
		    strcmp(args[k].name, "credit") == 0)
			args[k].value = "1234567.50";
	}
	market_lang_assert_reads(lang, s->tmpl, args, s->nargs, NULL, NULL);
}

Test(market_pay_lang, every_template_in_every_language_fits,
    .init = lang_setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	static const char	*used[] = { "market-paid-ok",
	    "market-paid-ok-noref", "market-paid-known",
	    "market-paid-already", "market-paid-seller",
	    "market-received-buyer", "market-received-already",
	    "market-pay-unavailable", "market-delivered-ok-cash",
	    "market-delivered-seller-cash", "market-received-ok",
	    "pay-said-paid-seller", "pay-said-received-buyer" };
	static const char	*words[] = { "usage-PAID", "help-PAID",
	    "usage-RECEIVED", "help-RECEIVED" };
	const struct mb_arg	 none[1] = { { "x", "" } };
	size_t			 i, l, k, found;

	tour();
	for (k = 0; k < sizeof(used) / sizeof(used[0]); k++) {
		for (i = 0, found = 0; i < market_nseen; i++)
			found += strcmp(market_seen[i].tmpl, used[k]) == 0;
		cr_assert_gt(found, 0, "the tour never sent %s", used[k]);
	}
	for (i = 0; i < market_nseen; i++) {
		const struct market_seen	*s = &market_seen[i];

		if (strncmp(s->tmpl, "market-paid", 11) != 0 &&
		    strncmp(s->tmpl, "market-received", 15) != 0 &&
		    strncmp(s->tmpl, "market-pay-", 11) != 0 &&
		    strstr(s->tmpl, "-cash") == NULL &&
		    strncmp(s->tmpl, "pay-said", 8) != 0)
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
			t_assert_longest(codes[l], s);
		}
	}
	for (l = 0; l < 4; l++) {
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
			cr_assert_not_null(lang_template(market_lang_shipped,
			    codes[l], words[k]), "%s lacks %s", codes[l],
			    words[k]);
			market_lang_assert_reads(codes[l], words[k], none, 0,
			    NULL, NULL);
		}
	}
}
