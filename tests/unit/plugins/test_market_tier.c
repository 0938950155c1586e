/*
 * test_market_tier.c - tier prices of the market plugin
 * (plugins/market/market_tier.c), run through the mock host as
 * test_market.c runs the rest: TIER in SELL and its refusals, the BUY
 * reply naming the price now and the next tier, a tier reached (every
 * orderer told once, the orders repriced to the minor unit, later orders
 * at the tier's price, cancelled orders not counted), ACCEPT of an offer
 * accepting its whole batch, MY showing the tiers; and every tier
 * template of the shipped language files within one SMS in each language.
 *
 * The mock's catalogue has maize (unit bag): the dealer's offer is maize
 * here, as DAP is in marketbox(8).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "base/gw.h"
#include "base/conf.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "text/render.h"
#include "marketbox-plugin.h"

#include "market_fixture.h"
#include "market_lang.h"
#include "plugin_mock.h"
#ifdef HAVE_POSTGRESQL
#include "pg_fixture.h"
#endif

extern const struct mb_plugin marketbox_plugin;

#define DEALER		"+254700000005"		/* an agro-dealer */
#define FARMER		"+254700000001"		/* Wanjiru: no dealer */
#define BUYER		"+254700000002"		/* Otieno */
#define TRADER		"+254700000003"
#define STRANGER	"+254700000009"
#define T0		1700000000LL

#define TIERED		"sell maize 200 bags 3400 tier 20 3200 tier 50 3000"

static struct mock	*m;
static int		 on_pg;		/* the suite's store is PostgreSQL */

static void
setup(void)
{
	m = mock_new(&marketbox_plugin);
	cr_assert_eq(mock_init(m), MB_OK);
	mock_set_now(m, T0);
}

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
	market_fixture_drop();
	on_pg = 0;
}

static void
as(const char *who)
{
	unsigned	 roles = MB_ROLE_FARMER | MB_ROLE_BUYER;

	if (strcmp(who, DEALER) == 0)
		roles |= MB_ROLE_DEALER;
	mock_sender(m, who, strcmp(who, FARMER) == 0 ? "Wanjiru" :
	    strcmp(who, BUYER) == 0 ? "Otieno" : "Someone", "nakuru", "en",
	    roles);
}

static int
run(const char *who, const char *text)
{
	mock_clear(m);
	as(who);
	return mock_command(m, text);
}

/* the fixture's helpers on this file's mock (market_fixture.h) */
#define sent(i)			mtest_sent(m, (i))
#define has(i, name, value)	mtest_has(m, (i), (name), (value))
/* Messages of template tmpl sent to to (NULL: replies). */
#define count_to(to, tmpl)	mtest_count(m, (to), (tmpl))

static void
is_reply(size_t i, const char *tmpl)
{
	cr_assert_null(sent(i)->to, "message %zu (%s) is a notice", i,
	    sent(i)->tmpl);
	cr_assert_str_eq(sent(i)->tmpl, tmpl, "message %zu", i);
}

/* The message of template tmpl: its index (it must be there). */
static size_t
find(const char *tmpl)
{
	return market_lang_find(m, tmpl);
}

static long long
db_int(const char *sql, long long a)
{
	sqlite3_stmt	*st;
	long long	 v;

	cr_assert_eq(sqlite3_prepare_v2(mock_db(m), sql, -1, &st, NULL),
	    SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(mock_db(m)));
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, a);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: no row", sql);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A query of literal SQL on the suite's engine: the first value. */
static long long
db_q(const char *sql)
{
#ifdef HAVE_POSTGRESQL
	if (on_pg)
		return pg_fixture_query(sql);
#endif
	return db_int(sql, 0);
}

static long long
price_of(long long order)
{
	return db_int("SELECT price FROM market_orders WHERE ref = ?1", order);
}

static long long
total_of(long long order)
{
	return db_int("SELECT total FROM market_orders WHERE ref = ?1", order);
}

static void
ok(const char *who, const char *text, const char *first)
{
	int	 rc = run(who, text);

	cr_assert_eq(rc, MB_OK, "%s: rc %d", text, rc);
	is_reply(0, first);
}

TestSuite(market_tier, .init = setup, .fini = teardown);

/* --- SELL with TIER -------------------------------------------------------- */

Test(market_tier, a_dealer_posts_tiers)
{
	ok(DEALER, TIERED, "market-offer-ok");
	is_reply(1, "market-tier-posted");
	has(1, "ref", "1");
	has(1, "top", "50");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_tiers WHERE offer = "
	    "?1", 1), 2);
	cr_assert_eq(db_int("SELECT price FROM market_tiers WHERE offer = 1 "
	    "AND qty = ?1", 20), 320000);
	cr_assert_eq(db_int("SELECT price FROM market_tiers WHERE offer = 1 "
	    "AND qty = ?1", 50), 300000);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_tiers WHERE "
	    "reached IS NOT NULL AND offer = ?1", 1), 0);
	/* with the unit after a tier's quantity, and a market after them */
	ok(DEALER, "sell maize 100 bags 3400 tier 20 bags 3200 mombasa",
	    "market-offer-ok");
	has(0, "market", "Mombasa");
	is_reply(1, "market-tier-posted");
	/* an offer without tiers says nothing of them */
	ok(DEALER, "sell maize 10 bags 3400", "market-offer-ok");
	cr_assert_eq(count_to(NULL, "market-tier-posted"), 0);
}

/* A refused SELL posts nothing. */
static void
refused(const char *who, const char *text, const char *tmpl)
{
	long long	 posts = db_int("SELECT COUNT(*) FROM market_posts", 0);

	ok(who, text, tmpl);
	cr_assert_eq(mock_nsent(m), 1, "%s", text);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_posts", 0), posts,
	    "%s posted", text);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_tiers", 0), 0);
}

Test(market_tier, refusals)
{
	refused(FARMER, TIERED, "market-tier-not-dealer");
	refused(DEALER, "sell maize 200 bags 3400 tier 20 3200 tier 50 3100 "
	    "tier 80 3000 tier 100 2900", "market-tier-too-many");
	has(0, "max", "3");
	refused(DEALER, "sell maize 200 bags 3400 tier 50 3200 tier 20 3000",
	    "market-tier-qty-rising");
	has(0, "qty", "20");
	refused(DEALER, "sell maize 200 bags 3400 tier 20 3200 tier 20 3000",
	    "market-tier-qty-rising");
	refused(DEALER, "sell maize 40 bags 3400 tier 20 3200 tier 50 3000",
	    "market-tier-qty-over");
	has(0, "offered", "40");
	refused(DEALER, "sell maize 200 bags 3400 tier 20 3200 tier 50 3300",
	    "market-tier-price-falling");
	refused(DEALER, "sell maize 200 bags 3400 tier 20 3400",
	    "market-tier-price-falling");
	has(0, "base", "3400");
	refused(DEALER, "sell maize 200 bags 3400 tier 20 3500",
	    "market-tier-price-falling");
	refused(DEALER, "sell maize 200 bags 3400 tier", "market-tier-usage");
	refused(DEALER, "sell maize 200 bags 3400 tier 20",
	    "market-tier-usage");
	refused(DEALER, "sell maize 200 bags 3400 tier many 3000",
	    "market-tier-usage");
	refused(DEALER, "sell maize 200 bags 3400 tier 20 cheap",
	    "market-tier-usage");
	refused(DEALER, "sell maize 200 bags 3400 tier 20 bags",
	    "market-tier-usage");
	/* only the offer's own unit */
	refused(DEALER, "sell maize 200 bags 3400 tier 20 kg 3200",
	    "market-tier-usage");
	/* a want has no tiers: its usage */
	cr_assert_eq(run(DEALER, "want maize 20 bags 3400 tier 20 3200"),
	    MB_USAGE);
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_str_eq(sent(0)->tmpl, "usage-WANT");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_posts", 0), 0);
}

/* --- BUY ----------------------------------------------------------------------- */

Test(market_tier, buy_says_the_price_now_and_the_next_tier)
{
	ok(DEALER, TIERED, "market-offer-ok");
	ok(BUYER, "buy 1 12", "market-order-ok");
	has(0, "total", "40800");
	is_reply(1, "market-tier-next");
	has(1, "price", "3400");
	has(1, "next", "3200");
	has(1, "tier", "20");
	has(1, "sofar", "12");
	cr_assert_eq(count_to(DEALER, "market-order-seller"), 1);
	/* an offer without tiers: the reply as before, alone */
	ok(DEALER, "sell maize 10 bags 3000", "market-offer-ok");
	ok(BUYER, "buy 3 2", "market-order-ok");
	cr_assert_eq(count_to(NULL, "market-tier-next"), 0);
}

/*
 * Two orders of Otieno's and one of the trader's reach 20: everybody
 * who ordered is told once, every order takes the tier's price, exact in
 * minor units; the order that reached it is made at that price.
 */
Test(market_tier, a_tier_reached_tells_every_orderer_once)
{
	ok(DEALER, TIERED, "market-offer-ok");
	ok(BUYER, "buy 1 5", "market-order-ok");		/* #2 */
	ok(BUYER, "buy 1 5", "market-order-ok");		/* #3 */
	cr_assert_eq(count_to(BUYER, "market-tier-reached"), 0);
	ok(TRADER, "buy 1 10", "market-order-ok");		/* #4 */
	/* the order reaching the tier is at its price at once */
	has(0, "price", "3200");
	has(0, "total", "32000");
	has(find("market-tier-you-reached"), "tier", "20");
	/* Otieno once, with both her orders */
	cr_assert_eq(count_to(BUYER, "market-tier-reached"), 1);
	has(find("market-tier-reached"), "qty", "10");
	has(find("market-tier-reached"), "total", "32000");
	has(find("market-tier-reached"), "price", "3200");
	/* the trader is told in his reply, not by a notice */
	cr_assert_eq(count_to(TRADER, "market-tier-reached"), 0);
	cr_assert_eq(count_to(DEALER, "market-tier-seller"), 1);
	cr_assert_eq(count_to(DEALER, "market-order-seller"), 1);
	has(find("market-order-seller"), "total", "32000");
	/* the next tier ahead */
	has(find("market-tier-next"), "next", "3000");
	has(find("market-tier-next"), "sofar", "20");
	cr_assert_eq(price_of(2), 320000);
	cr_assert_eq(total_of(2), 1600000);
	cr_assert_eq(price_of(3), 320000);
	cr_assert_eq(total_of(4), 3200000);
	cr_assert_eq(db_int("SELECT reached FROM market_tiers WHERE offer = 1"
	    " AND qty = ?1", 20), T0);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_tiers WHERE offer = 1"
	    " AND reached IS NULL AND qty = ?1", 50), 1);

	/* a later order: the tier's price, nobody told again */
	ok(STRANGER, "buy 1 3", "market-order-ok");		/* #5 */
	has(0, "price", "3200");
	has(0, "total", "9600");
	cr_assert_eq(count_to(BUYER, "market-tier-reached"), 0);
	cr_assert_eq(count_to(NULL, "market-tier-you-reached"), 0);
	cr_assert_eq(total_of(5), 960000);

	/* the next tier: all of them again, once each, at 3,000 */
	ok(STRANGER, "buy 1 27", "market-order-ok");		/* #6 */
	has(0, "price", "3000");
	cr_assert_eq(count_to(BUYER, "market-tier-reached"), 1);
	cr_assert_eq(count_to(TRADER, "market-tier-reached"), 1);
	cr_assert_eq(count_to(STRANGER, "market-tier-reached"), 0);
	has(find("market-tier-reached"), "price", "3000");
	cr_assert_eq(count_to(NULL, "market-tier-next"), 0);
	cr_assert_eq(total_of(2), 1500000);
	cr_assert_eq(total_of(5), 900000);
	cr_assert_eq(total_of(6), 8100000);
}

/* Money with cents: qty * price in minor units, nothing rounded. */
Test(market_tier, totals_are_exact_in_minor_units)
{
	ok(DEALER, "sell maize 200 bags 3400.75 tier 10 3199.99",
	    "market-offer-ok");
	ok(BUYER, "buy 1 3", "market-order-ok");
	has(0, "total", "10202.25");
	ok(TRADER, "buy 1 7", "market-order-ok");
	cr_assert_eq(price_of(2), 319999);
	cr_assert_eq(total_of(2), 959997);
	cr_assert_eq(total_of(3), 2239993);
	has(find("market-tier-reached"), "total", "9599.97");
}

/* A BUY that passes two tiers tells once, with the lower price. */
Test(market_tier, two_tiers_at_once_tell_once)
{
	ok(DEALER, TIERED, "market-offer-ok");
	ok(BUYER, "buy 1 2", "market-order-ok");
	ok(TRADER, "buy 1 60", "market-order-ok");
	has(0, "price", "3000");
	cr_assert_eq(count_to(BUYER, "market-tier-reached"), 1);
	has(find("market-tier-reached"), "price", "3000");
	cr_assert_eq(count_to(NULL, "market-tier-you-reached"), 1);
	cr_assert_eq(total_of(2), 600000);
}

/*
 * Cancelled (and rejected) orders do not count toward a tier; a tier
 * reached stays reached when an order is cancelled after.
 */
Test(market_tier, cancelled_orders_do_not_count)
{
	ok(DEALER, TIERED, "market-offer-ok");
	ok(BUYER, "buy 1 15", "market-order-ok");		/* #2 */
	ok(BUYER, "cancel 2", "market-cancelled-order");
	ok(TRADER, "buy 1 4", "market-order-ok");		/* #3 */
	ok(DEALER, "reject 3", "market-reject-ok");
	ok(TRADER, "buy 1 5", "market-order-ok");		/* #4 */
	has(find("market-tier-next"), "sofar", "5");
	cr_assert_eq(count_to(NULL, "market-tier-you-reached"), 0);
	cr_assert_eq(price_of(4), 340000);
	ok(STRANGER, "buy 1 15", "market-order-ok");		/* #5 */
	has(0, "price", "3200");
	cr_assert_eq(count_to(TRADER, "market-tier-reached"), 1);
	/* the cancelled and rejected orders keep their price */
	cr_assert_eq(price_of(2), 340000);
	cr_assert_eq(price_of(3), 340000);
	/* under 20 again: the price stays */
	ok(STRANGER, "cancel 5", "market-cancelled-order");
	ok(BUYER, "buy 1 1", "market-order-ok");
	has(0, "price", "3200");
	cr_assert_eq(count_to(NULL, "market-tier-you-reached"), 0);
}

/* --- ACCEPT of an offer ---------------------------------------------------- */

Test(market_tier, accept_of_the_offer_accepts_the_batch)
{
	ok(DEALER, TIERED, "market-offer-ok");
	ok(BUYER, "buy 1 5", "market-order-ok");		/* #2 */
	ok(TRADER, "buy 1 10", "market-order-ok");		/* #3 */
	ok(STRANGER, "buy 1 2", "market-order-ok");		/* #4 */
	ok(STRANGER, "cancel 4", "market-cancelled-order");
	ok(BUYER, "buy 1 2", "market-order-ok");		/* #5 */
	ok(DEALER, "accept 3", "market-accept-ok");		/* one alone */

	/* the buyers are told first; the one reply sums them up */
	cr_assert_eq(run(DEALER, "accept 1"), MB_OK);
	cr_assert_eq(count_to(NULL, "market-tier-accept"), 1);
	has(find("market-tier-accept"), "count", "2");
	has(find("market-tier-accept"), "qty", "7");
	has(find("market-tier-accept"), "total", "23800");
	cr_assert_eq(count_to(NULL, "market-accept-ok"), 0);
	cr_assert_eq(count_to(BUYER, "market-accepted"), 2);
	cr_assert_eq(count_to(TRADER, "market-accepted"), 0);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_orders WHERE "
	    "state = 'accepted' AND offer = ?1", 1), 3);
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_orders WHERE "
	    "state = 'cancelled' AND offer = ?1", 1), 1);
	/* nothing left to accept */
	ok(DEALER, "accept 1", "market-tier-accept-none");
	cr_assert_eq(mock_nsent(m), 1);
	/* a buyer's ACCEPT of the offer: as before, the offer refused */
	ok(BUYER, "accept 1", "market-ref-offer");
	/* an offer without tiers: as before */
	ok(DEALER, "sell maize 10 bags 3000", "market-offer-ok");	/* #6 */
	ok(BUYER, "buy 6 1", "market-order-ok");
	ok(DEALER, "accept 6", "market-ref-own-offer");
	cr_assert_eq(mock_nsent(m), 1);
}

/* --- showing tiers -------------------------------------------------------------- */

Test(market_tier, my_shows_the_tiers_ahead)
{
	ok(DEALER, TIERED, "market-offer-ok");
	ok(DEALER, "my", "market-my-page");
	cr_assert_not_null(strstr(mock_arg(sent(0), "items"),
	    "market-item-offer-tiers("), "%s", mock_arg(sent(0), "items"));
	cr_assert_not_null(strstr(mock_arg(sent(0), "items"),
	    "market-tier-item(qty=20,price=3200)"));
	ok(BUYER, "buy 1 25", "market-order-ok");
	ok(DEALER, "my", "market-my-page");
	/* the reached tier is the price now: only 50 is ahead */
	cr_assert_null(strstr(mock_arg(sent(0), "items"), "qty=20,"));
	cr_assert_not_null(strstr(mock_arg(sent(0), "items"),
	    "market-tier-item(qty=50,price=3000)"));
	ok(BUYER, "buy 1 25", "market-order-ok");
	ok(DEALER, "my", "market-my-page");
	cr_assert_null(strstr(mock_arg(sent(0), "items"), "-tiers("));
}

/* A match notice longer than one SMS with the tiers goes without them. */
Test(market_tier, a_match_notice_too_long_goes_without_tiers)
{
	ok(BUYER, "want maize 30 bags 3500", "market-want-ok");
	ok(DEALER, TIERED, "market-offer-ok");
	/* the mock renders "tmpl(name=value,...)": never one SMS here */
	cr_assert_eq(count_to(BUYER, "market-match-buyer"), 1);
	cr_assert_null(mock_arg(sent(find("market-match-buyer")), "tiers"));
}

/* --- a dealer's day, on each engine ------------------------------------------------ */

/*
 * Every statement of the tiers on the suite's engine: tiers written,
 * orders counted (a cancelled one not), a tier reached once, the orders
 * repriced, each orderer told once, the batch accepted.
 */
static void
dealer_day(void)
{
	ok(DEALER, TIERED, "market-offer-ok");
	is_reply(1, "market-tier-posted");
	cr_assert_eq(db_q("SELECT count(*) FROM market_tiers WHERE offer = 1"),
	    2);
	ok(BUYER, "buy 1 6", "market-order-ok");		/* #2 */
	ok(STRANGER, "buy 1 9", "market-order-ok");		/* #3 */
	ok(STRANGER, "cancel 3", "market-cancelled-order");
	ok(BUYER, "buy 1 6", "market-order-ok");		/* #4 */
	has(find("market-tier-next"), "sofar", "12");
	ok(TRADER, "buy 1 8", "market-order-ok");		/* #5 */
	has(0, "total", "25600");
	cr_assert_eq(count_to(BUYER, "market-tier-reached"), 1);
	cr_assert_eq(count_to(STRANGER, "market-tier-reached"), 0);
	has(find("market-tier-reached"), "qty", "12");
	has(find("market-tier-reached"), "total", "38400");
	has(find("market-tier-next"), "sofar", "20");
	cr_assert_eq(db_q("SELECT count(*) FROM market_tiers WHERE offer = 1"
	    " AND reached IS NOT NULL"), 1);
	cr_assert_eq(db_q("SELECT total FROM market_orders WHERE ref = 2"),
	    1920000);
	cr_assert_eq(db_q("SELECT price FROM market_orders WHERE ref = 3"),
	    340000);
	ok(DEALER, "my", "market-my-page");
	cr_assert_eq(run(DEALER, "accept 1"), MB_OK);
	has(find("market-tier-accept"), "count", "3");
	has(find("market-tier-accept"), "qty", "20");
	has(find("market-tier-accept"), "total", "64000");
	cr_assert_eq(db_q("SELECT count(*) FROM market_orders WHERE offer = 1"
	    " AND state = 'accepted'"), 3);
	ok(DEALER, "accept 1", "market-tier-accept-none");
}

Test(market_tier, a_dealers_day)
{
	dealer_day();
}

#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	const char	*db = market_fixture_pg("market_tier");

	on_pg = 1;
	m = mock_new_on(&marketbox_plugin, db);
	cr_assert_eq(mock_init(m), MB_OK);
	mock_set_now(m, T0);
}

TestSuite(market_tier_pg, .init = setup_pg, .fini = teardown);

/* The same on PostgreSQL (MB_TEST_PG; skipped without it). */
Test(market_tier_pg, a_dealers_day_on_postgresql)
{
	dealer_day();
}
#endif

/* --- the language files ---------------------------------------------------------- */

static void
lang_setup(void)
{
	market_lang_open();
}

static void
lang_teardown(void)
{
	market_lang_close();
}

/* Every tier template, with the largest values people will see. */
Test(market_tier_lang, every_template_fits_one_sms, .init = lang_setup,
    .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	static const char	*tmpls[] = {
		"market-tier-item", "market-tier-posted",
		"market-tier-not-dealer", "market-tier-too-many",
		"market-tier-usage", "market-tier-qty-rising",
		"market-tier-qty-over",
		"market-tier-price-falling", "market-tier-reached",
		"market-tier-you-reached", "market-tier-seller",
		"market-tier-next", "market-tier-accept",
		"market-tier-accept-more", "market-tier-accept-none",
		"market-item-offer-tiers", "market-match-buyer-tiers",
		"market-share-repriced",
	};
	static const char	*counts[] = { "0", "1", "2", "21", "1000" };
	size_t			 l, i, c, k;

	for (l = 0; l < 4; l++) {
		struct mb_arg	 item[2] = { { "qty", "1000" },
		    { "price", "3199.99" } };
		struct mb_arg	 usual[2] = { { "qty", "100" },
		    { "price", "3000" } };
		char		 tiers[256] = "", short_tiers[256] = "";
		char		*one;
		const char	*sep = lang_template(market_lang_shipped,
				    codes[l], "market-list-sep");
		const char	*word = lang_template(market_lang_shipped,
				    codes[l], "market-tier-word");

		cr_assert_not_null(word, "%s lacks market-tier-word",
		    codes[l]);
		cr_assert(l == 0 || word != lang_template(market_lang_shipped,
		    "en", "market-tier-word"), "%s falls back", codes[l]);
		cr_assert_null(strchr(word, ' '), "%s: %s", codes[l], word);
		/* three tiers, as long as they come */
		one = market_lang_render(codes[l], "market-tier-item", item, 2);
		for (k = 0; k < 3; k++)
			snprintf(tiers + strlen(tiers), sizeof(tiers) -
			    strlen(tiers), "%s%s", k ? sep : "", one);
		free(one);
		/* where an offer is shown the tiers go only when they fit
		   (market_tier_show), and in UCS-2 (70 characters): there,
		   two as dealers write them (one in Chinese) */
		one = market_lang_render(codes[l], "market-tier-item", usual,
		    2);
		for (k = 0; k < (l == 3 ? 1 : 2); k++)
			snprintf(short_tiers + strlen(short_tiers),
			    sizeof(short_tiers) - strlen(short_tiers), "%s%s",
			    k ? sep : "", one);
		free(one);
		for (i = 0; i < sizeof(tmpls) / sizeof(tmpls[0]); i++)
			for (c = 0; c < sizeof(counts) / sizeof(counts[0]);
			    c++) {
				const struct mb_arg	 args[] = {
					{ "ref", "43210" },
					{ "offer", "43210" },
					{ "want", "43211" },
					{ "pool", "43212" },
					{ "qty", counts[c] },
					{ "tier", counts[c] },
					{ "top", counts[c] },
					{ "offered", counts[c] },
					{ "count", counts[c] },
					{ "sofar", "999" },
					{ "buy", "100" },
					{ "max", "3" },
					{ "unit", "bag" },
					{ "commodity", "maize" },
					{ "currency", "KES" },
					{ "price", "3199.99" },
					{ "base", "3400.75" },
					{ "next", "2999.99" },
					{ "total", "3199990.00" },
					{ "name", strcmp(codes[l], "zh") == 0 ?
					    "王芳" : "Mary Wanjiku" },
					{ "phone", "+254700000001" },
					{ "tiers", l == 3 || strstr(tmpls[i],
					    "-tiers") ? short_tiers : tiers },
				};

				if (l > 0)
					cr_assert(lang_template(
					    market_lang_shipped, codes[l],
					    tmpls[i]) != lang_template(
					    market_lang_shipped, "en", tmpls[i]),
					    "%s falls back for %s", codes[l],
					    tmpls[i]);
				market_lang_assert_reads(codes[l], tmpls[i],
				    args, sizeof(args) / sizeof(args[0]), NULL,
				    NULL);
			}
	}
}
