/*
 * test_market.c - the market plugin (plugins/market), run through the mock
 * host (plugin_mock.c): every command's good path and every refusal, every
 * order transition and every forbidden one, quantity races, money limits,
 * matching order and limits, the timers on the mock clock, delivery codes
 * and their lock; and the shipped language files: every template the
 * plugin sends exists in all four languages, is given every placeholder
 * it uses, and fits one SMS with the values the plugin really sends.
 *
 * The mock's people: +254700000001 Wanjiru and +254700000002 Otieno have
 * names (user_name); others are shown by their number.  Its catalogue:
 * maize (unit bag), beans (unit kg); markets nakuru (Rift Valley) and
 * mombasa (Coast); currency KES.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "base/gw.h"
#include "text/gsm.h"
#include "base/conf.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "text/render.h"

#include "market_lang.h"
#include "plugin_mock.h"
#include "plugins/market/market.h"


/* plugins/market/market.c, compiled into this program */
extern const struct mb_plugin marketbox_plugin;

#define FARMER		"+254700000001"		/* Wanjiru, Nakuru */
#define BUYER		"+254700000002"		/* Otieno, Nakuru */
#define TRADER		"+254700000003"		/* registered, no mock name */
#define CARRIER		"+254722000111"		/* not registered */
#define HAULIER		"+254711000333"		/* registered (mock: Kamau) */
#define STRANGER	"+254700000009"		/* registered, unrelated */
#define T0		1700000000LL
#define HOUR		3600LL
#define DAY		86400LL

static struct mock	*m;

/* --- collecting what the plugin sends, for the language checks -------------- */

static int		 collecting;
static const char	*sender_lang = "en";

/* the last run's messages, while the tour collects (market_lang.c) */
static void
collect(void)
{
	if (collecting)
		market_lang_collect(m);
}

/* --- helpers ---------------------------------------------------------------- */

/*
 * The suite's init (and teardown its fini): a test names neither again,
 * as Criterion runs the suite's init and then the test's, and a second
 * setup would leak the first mock.  A test that needs another start
 * names setup_conf_only, which frees the suite's mock first.
 */
static void
setup(void)
{
	m = mock_new(&marketbox_plugin);
	cr_assert_eq(mock_init(m), MB_OK);
	mock_set_now(m, T0);
}

/* A fresh mock, init not called (conf first); replaces the suite's. */
static void
setup_conf_only(void)
{
	mock_free(m);
	m = mock_new(&marketbox_plugin);
	mock_set_now(m, T0);
}

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
}

/* Make who the sender (the mock's sender record). */
static void
as(const char *who)
{
	const unsigned	 roles = MB_ROLE_FARMER | MB_ROLE_BUYER;

	if (strcmp(who, FARMER) == 0)
		mock_sender(m, FARMER, "Wanjiru", "nakuru", sender_lang,
		    roles);
	else if (strcmp(who, BUYER) == 0)
		mock_sender(m, BUYER, "Otieno", "nakuru", sender_lang, roles);
	else if (strcmp(who, CARRIER) == 0)
		mock_sender(m, CARRIER, NULL, NULL, sender_lang, 0);
	else
		mock_sender(m, who, "Someone", "nakuru", sender_lang, roles);
}

/* who sends text: the handler's result; what it sent is in the mock. */
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

/* run, and check it was handled with exactly one reply tmpl */
static void
run_reply(const char *who, const char *text, const char *tmpl)
{
	int	 rc = run(who, text);

	cr_assert_eq(rc, MB_OK, "%s: rc %d", text, rc);
	cr_assert_geq(mock_nsent(m), 1, "%s: nothing sent", text);
	cr_assert_null(mock_sent(m, 0)->to, "%s: a notice first", text);
	cr_assert_str_eq(mock_sent(m, 0)->tmpl, tmpl, "%s", text);
}

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

static const struct mock_msg *
sent(size_t i)
{
	return mock_sent(m, i);
}

static void
is_reply(size_t i, const char *tmpl)
{
	cr_assert_lt(i, mock_nsent(m), "no message %zu (%zu sent)", i,
	    mock_nsent(m));
	cr_assert_null(sent(i)->to, "message %zu (%s) is a notice to %s", i,
	    sent(i)->tmpl, sent(i)->to ? sent(i)->to : "");
	cr_assert_str_eq(sent(i)->tmpl, tmpl, "message %zu", i);
}

static void
is_notice(size_t i, const char *to, const char *tmpl)
{
	cr_assert_lt(i, mock_nsent(m), "no message %zu (%zu sent)", i,
	    mock_nsent(m));
	cr_assert_not_null(sent(i)->to, "message %zu (%s) is a reply", i,
	    sent(i)->tmpl);
	cr_assert_str_eq(sent(i)->to, to, "message %zu (%s)", i,
	    sent(i)->tmpl);
	cr_assert_str_eq(sent(i)->tmpl, tmpl, "message %zu", i);
}

static void
has(size_t i, const char *name, const char *value)
{
	const char	*v = mock_arg(sent(i), name);

	cr_assert_not_null(v, "message %zu (%s) has no {%s}", i,
	    sent(i)->tmpl, name);
	cr_assert_str_eq(v, value, "message %zu (%s) {%s}: %s", i,
	    sent(i)->tmpl, name, v);
}

/* The text the mock renders for message i: "tmpl(name=value,...)". */
static char *
mock_text(size_t i)
{
	char	*s;
	size_t	 len, k;
	FILE	*f = open_memstream(&s, &len);

	cr_assert_not_null(f);
	fprintf(f, "%s(", sent(i)->tmpl);
	for (k = 0; k < sent(i)->nargs; k++)
		fprintf(f, "%s%s=%s", k ? "," : "", sent(i)->names[k],
		    sent(i)->values[k]);
	fputc(')', f);
	fclose(f);
	return s;
}

/* An integer from the plugin's tables: sql with ?1 bound to a. */
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

/* A text from the plugin's tables ("NULL" for NULL), in a static buffer. */
static const char *
db_text(const char *sql, long long a)
{
	static char	 buf[256];
	sqlite3_stmt	*st;
	const char	*t;

	cr_assert_eq(sqlite3_prepare_v2(mock_db(m), sql, -1, &st, NULL),
	    SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(mock_db(m)));
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, a);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: no row", sql);
	t = (const char *)sqlite3_column_text(st, 0);
	snprintf(buf, sizeof(buf), "%s", t ? t : "NULL");
	sqlite3_finalize(st);
	return buf;
}

static const char *
order_state(long long ref)
{
	return db_text("SELECT state FROM market_orders WHERE ref = ?1", ref);
}

static const char *
post_state(long long ref)
{
	return db_text("SELECT state FROM market_posts WHERE ref = ?1", ref);
}

static long long
left_of(long long ref)
{
	return db_int("SELECT qty_left FROM market_posts WHERE ref = ?1", ref);
}

/* A string of a number, for has(). */
static const char *
num(long long v)
{
	static char	 buf[4][32];
	static int	 k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%lld", v);
	return buf[k];
}

/*
 * The usual start: Wanjiru offers 10 bag maize at 3000 (ref 1), Otieno
 * orders 4 (order ref 2).  Then the order is moved on to state (accepted,
 * sent, delivered, rejected, cancelled, expired) by the right people.
 */
static long long
order_in(const char *state)
{
	run_reply(FARMER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 4", "market-order-ok");
	if (strcmp(state, "pending") == 0)
		return 2;
	if (strcmp(state, "rejected") == 0) {
		run_reply(FARMER, "reject 2", "market-reject-ok");
		return 2;
	}
	if (strcmp(state, "expired") == 0) {
		cr_assert_eq(timer(T0 + DAY), MB_OK);
		mock_set_now(m, T0 + DAY);
		return 2;
	}
	if (strcmp(state, "cancelled") == 0) {
		run_reply(BUYER, "cancel 2", "market-cancelled-order");
		return 2;
	}
	run_reply(FARMER, "accept 2", "market-accept-ok");
	if (strcmp(state, "accepted") == 0)
		return 2;
	run_reply(FARMER, "sent 2", "market-sent-ok");
	if (strcmp(state, "sent") == 0)
		return 2;
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_str_eq(state, "delivered");
	return 2;
}

/* --- the descriptor ------------------------------------------------------------- */

TestSuite(market, .init = setup, .fini = teardown);

Test(market, descriptor)
{
	const struct mb_plugin	*p = &marketbox_plugin;
	static const char	*ids[] = { "SELL", "WANT", "BUY", "ACCEPT",
	    "REJECT", "SENT", "DELIVERED", "CANCEL", "MY", "POOL", "JOIN",
	    "LEAVE", "CLOSE", "OFFER", "INFO", "RATE",
	    "PROBLEM", "IN", "OUT", "PICKUP", "PAID", "RECEIVED" };
	size_t			 i;

	cr_assert_str_eq(p->name, "market");
	cr_assert_eq(p->ncommands, 22);
	for (i = 0; i < p->ncommands; i++) {
		cr_assert_str_eq(p->commands[i].id, ids[i]);
		cr_assert_eq(p->commands[i].roles, 0);
		/* only DELIVERED, PROBLEM and the hubs' IN, OUT, PICKUP
		   run for people who never registered (a transporter, a
		   hub's operator) */
		cr_assert_eq(p->commands[i].flags, strcmp(ids[i],
		    "DELIVERED") == 0 || strcmp(ids[i], "PROBLEM") == 0 ||
		    strcmp(ids[i], "IN") == 0 || strcmp(ids[i], "OUT") == 0 ||
		    strcmp(ids[i], "PICKUP") == 0 ? 0u :
		    (unsigned)MB_CMD_REGISTERED, "%s", ids[i]);
	}
	cr_assert_eq(p->nmigrations, 11);
	cr_assert_eq(p->ntimers, 1);
	cr_assert_str_eq(p->timers[0].name, "market-sweep");
	cr_assert_eq(p->timers[0].interval, 15);
	cr_assert_eq(p->nconf_keys, 26);
	cr_assert_str_eq(p->conf_keys[25], "cash-at-delivery");
}

Test(market, schema_has_the_shared_columns)
{
	/* the prices plugin reads market_posts: these names are a contract */
	cr_assert_eq(db_int("SELECT count(*) FROM pragma_table_info("
	    "'market_posts') WHERE name IN ('ref', 'kind', 'msisdn',"
	    " 'commodity', 'unit', 'market', 'qty', 'qty_left', 'price',"
	    " 'state', 'created', 'expires')", 0), 12);
	cr_assert_eq(db_int("SELECT count(*) FROM pragma_table_info("
	    "'market_orders') WHERE name IN ('ref', 'offer', 'buyer',"
	    " 'seller', 'qty', 'price', 'total', 'state', 'transporter',"
	    " 'code', 'code_tries', 'reason', 'created', 'updated',"
	    " 'remind_at', 'expires_at', 'reminded')", 0), 17);
	cr_assert_eq(db_int("SELECT count(*) FROM sqlite_master WHERE"
	    " type = 'index' AND name IN ('market_posts_open',"
	    " 'market_posts_owner')", 0), 2);
}

/* --- money and durations ------------------------------------------------------------ */

Test(market, money_parse)
{
	static const struct {
		const char	*in;
		long long	 out;	/* -1: refused */
	} t[] = {
		{ "3000", 300000 }, { "2.50", 250 }, { "2.5", 250 },
		{ "2,50", 250 }, { "0.01", 1 }, { "1", 100 },
		{ "1000000000", 100000000000LL }, { "999999999.99",
		    99999999999LL },
		{ "1000000000.01", -1 }, { "1000000001", -1 },
		{ "12345678901", -1 }, { "0", -1 }, { "0.00", -1 },
		{ "", -1 }, { "abc", -1 }, { "3000x", -1 }, { "2.505", -1 },
		{ "-5", -1 }, { ".5", -1 }, { "5.", -1 }, { "1e3", -1 },
		{ "99999999999999999999", -1 },
	};
	size_t		 i;
	long long	 v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = -1;
		if (market_money_parse(t[i].in, &v) == -1)
			v = -1;
		cr_assert_eq(v, t[i].out, "'%s': %lld, want %lld", t[i].in, v,
		    t[i].out);
	}
	cr_assert_eq(market_money_parse(NULL, &v), -1);
}

Test(market, money_format_and_multiply)
{
	char		 buf[32];
	long long	 v;

	market_money_format(300000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "3000");
	market_money_format(250, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2.50");
	market_money_format(1, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0.01");
	market_money_format(105, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1.05");
	market_money_format(MARKET_TOTAL_MAX, buf, sizeof(buf));
	cr_assert_str_eq(buf, "100000000000");

	cr_assert_eq(market_money_mul(MARKET_QTY_MAX, MARKET_PRICE_MAX, &v), 0);
	cr_assert_eq(v, 100000000000000000LL);
	cr_assert_eq(market_money_mul(LLONG_MAX, 2, &v), -1);
	cr_assert_eq(market_money_mul(4611686018427387904LL, 2, &v), -1);
	cr_assert_eq(market_money_mul(-1, 5, &v), -1);
	cr_assert_eq(market_money_mul(3, 250, &v), 0);
	cr_assert_eq(v, 750);
}

Test(market, durations)
{
	static const struct {
		const char	*in;
		long long	 out;
	} t[] = {
		{ "7d", 604800 }, { "2h", 7200 }, { "30m", 1800 },
		{ "45s", 45 }, { "90", 90 }, { "1D", 86400 }, { " 3h ", 10800 },
		{ "x", -1 }, { "", -1 }, { "5w", -1 }, { "-1", -1 },
		{ "1e3", -1 }, { "2hh", -1 }, { "1234567890", -1 },
	};
	size_t		 i;
	long long	 v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = -1;
		if (market_duration_parse(t[i].in, &v) == -1)
			v = -1;
		cr_assert_eq(v, t[i].out, "'%s'", t[i].in);
	}
}

/* --- SELL and WANT ---------------------------------------------------------------------- */

Test(market, sell)
{
	run_reply(FARMER, "sell maize 10 bags 3000", "market-offer-ok");
	cr_assert_eq(mock_nsent(m), 1, "no match: one reply");
	has(0, "ref", "1");
	has(0, "qty", "10");
	has(0, "unit", "bag");
	has(0, "commodity", "maize");
	has(0, "price", "3000");
	has(0, "currency", "KES");
	has(0, "market", "Nakuru");
	cr_assert_str_eq(db_text("SELECT kind || '|' || msisdn || '|' ||"
	    " commodity || '|' || unit || '|' || market || '|' || qty || '|'"
	    " || qty_left || '|' || price || '|' || state || '|' || created"
	    " || '|' || expires FROM market_posts WHERE ref = 1", 0),
	    "offer|+254700000001|maize|bag|nakuru|10|10|300000|open|"
	    "1700000000|1700604800");
}

Test(market, sell_forms)
{
	/* unit omitted, an alias, a price with cents, "3,000/=", a market */
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	has(0, "unit", "bag");
	run_reply(FARMER, "sell mahindi 5 gunia 2.50", "market-offer-ok");
	has(0, "price", "2.50");
	has(0, "commodity", "maize");
	cr_assert_eq(db_int("SELECT price FROM market_posts WHERE ref = 2", 0),
	    250);
	run_reply(FARMER, "SELL Maize 7 BAGS 3,000/=", "market-offer-ok");
	has(0, "price", "3000");
	has(0, "qty", "7");
	run_reply(FARMER, "sell beans 20 kilos 120 msa", "market-offer-ok");
	has(0, "unit", "kg");
	has(0, "market", "Mombasa");
	cr_assert_str_eq(db_text("SELECT market FROM market_posts WHERE"
	    " ref = 4", 0), "mombasa");
	run_reply(FARMER, "sell maize 1000000 1000000000", "market-offer-ok");
	run_reply(FARMER, "sell maize 1 0.01", "market-offer-ok");
	has(0, "price", "0.01");
}

/*
 * Numbers and words as people type them (issue 12): every form posts the
 * offer "sell maize 10 bags 3000" posts.
 */
Test(market, sell_as_people_type_it)
{
	static const char *const forms[] = {
		"SELL maize 10bags 3000",
		"SELL maize 10BAGS 3000",
		"SELL maize 10 bags @ 3,000",
		"SELL maize 10 bags @3,000",
		"SELL maize 10 bags at 3000",
		"SELL 10 bags maize @ 3,000",
		"SELL 10bags maize 3000",
		"SELL 10 maize 3000",
		"SELL 10 bags mahindi 3000",
		"SELL maize 10 bags 3 000",
		"SELL maize 10 3 000",
		"SELL 10 bags maize 3 000",
		"SELL maize 10 bags 3 000 F",
		"SELL maize 10 bags 3000 F",
		"SELL maize 10 bags 3 000 FCFA",
		"SELL maize 10 bags Ksh3000",
		"SELL maize 10 bags Ksh 3 000",
		"SELL maize 10 bags KES 3000",
		"SELL maize 10 bags 3000/=",
		"SELL maize 10 bags 3000元",
		"SELL maize 10 bags ¥3000",
		"SELL maize 10 bags 3.000",
	};
	size_t	 i;
	char	 ref[16];

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		run_reply(FARMER, forms[i], "market-offer-ok");
		snprintf(ref, sizeof(ref), "%zu", i + 1);
		has(0, "ref", ref);
		cr_assert_str_eq(db_text("SELECT commodity || '|' || unit ||"
		    " '|' || qty || '|' || price || '|' || market FROM"
		    " market_posts WHERE ref = ?1", (long long)i + 1),
		    "maize|bag|10|300000|nakuru", "%s", forms[i]);
	}
	/* a market after a grouped price; a want in the same order */
	run_reply(FARMER, "SELL maize 10 bags 6 000 msa", "market-offer-ok");
	has(0, "market", "Mombasa");
	has(0, "price", "6000");
	run_reply(BUYER, "WANT 5 bags maize @ 3,200", "market-want-ok");
	has(0, "qty", "5");
	has(0, "price", "3200");
	cr_assert_str_eq(db_text("SELECT kind || '|' || commodity || '|' ||"
	    " qty || '|' || price FROM market_posts ORDER BY ref DESC LIMIT 1",
	    0), "want|maize|5|320000");
	/* the unit first is the commodity's own, or refused */
	run_reply(FARMER, "SELL 10 kg maize 3000", "market-bad-unit");
	has(0, "unit", "bag");
	cr_assert_eq(run(FARMER, "SELL 10 bags 3000"), MB_USAGE);
	cr_assert_eq(run(FARMER, "SELL 10 bags maize"), MB_USAGE);
}

/* The wrong readings issue 12 names: never a thousands group there. */
Test(market, decimals_are_never_thousands)
{
	run_reply(FARMER, "SELL maize 2 bags 3000.505", "market-bad-price");
	has(0, "word", "3000.505");
	run_reply(FARMER, "SELL maize 1 0.050", "market-bad-price");
	has(0, "word", "0.050");
	run_reply(FARMER, "SELL maize 2 bags 3000.50", "market-offer-ok");
	has(0, "price", "3000.50");
	cr_assert_eq(db_int("SELECT count(*) FROM market_posts WHERE"
	    " price = 300050500 OR price = 5000", 0), 0);
}

/* "BUY 41 500": an offer and a quantity, never one number. */
Test(market, buy_keeps_two_numbers)
{
	run_reply(FARMER, "sell maize 1000 bags 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 500", "market-order-ok");
	has(0, "offer", "1");
	has(0, "qty", "500");
	cr_assert_eq(left_of(1), 500);
}

Test(market, want)
{
	run_reply(BUYER, "want maize 5 3200", "market-want-ok");
	cr_assert_eq(mock_nsent(m), 1);
	has(0, "ref", "1");
	has(0, "qty", "5");
	has(0, "price", "3200");
	has(0, "market", "Nakuru");
	cr_assert_str_eq(db_text("SELECT kind || '|' || qty_left || '|' ||"
	    " price || '|' || state FROM market_posts WHERE ref = 1", 0),
	    "want|5|320000|open");
}

/* Every malformed SELL or WANT: its refusal, and nothing stored. */
Test(market, sell_refusals)
{
	static const struct {
		const char	*text;
		const char	*tmpl;
		const char	*arg, *value;	/* one placeholder checked */
	} t[] = {
		{ "sell maiz 10 3000", "market-commodity-suggest",
		    "suggestion", "maize" },
		{ "sell rocks 10 3000", "market-unknown-commodity",
		    "word", "rocks" },
		{ "sell sukuma wiki 10 3000", "market-unknown-commodity",
		    "word", "sukuma wiki" },
		{ "sell maize 10 kg 3000", "market-bad-unit", "unit", "bag" },
		{ "sell maize 10 crates 3000", "market-bad-unit",
		    "word", "crates" },
		{ "sell beans 10 bags 3000", "market-bad-unit", "unit", "kg" },
		{ "sell maize 0 3000", "market-bad-qty", "word", "0" },
		{ "sell maize 1000001 3000", "market-bad-qty", "max",
		    "1000000" },
		{ "sell maize 2.5 3000", "market-bad-qty", "word", "2.5" },
		{ "sell maize -5 3000", "market-bad-qty", "word", "-5" },
		{ "sell maize 10 bags 0", "market-bad-price", "word", "0" },
		{ "sell maize 10 bags 1000000000.01", "market-bad-price",
		    "word", "1000000000.01" },
		{ "sell maize 10 bags 12abc", "market-bad-price",
		    "word", "12abc" },
		{ "sell maize 10 2.5555", "market-bad-price", "word", "2.5555" },
		{ "sell maize 10 3000 atlantis", "market-unknown-market",
		    "word", "atlantis" },
		{ "sell", "usage-SELL", NULL, NULL },
		{ "sell maize", "usage-SELL", NULL, NULL },
		{ "sell maize 10", "usage-SELL", NULL, NULL },
		{ "sell maize 10 bags", "usage-SELL", NULL, NULL },
		{ "sell 10 3000", "usage-SELL", NULL, NULL },
		{ "want maiz 5 3000", "market-commodity-suggest",
		    "word", "maiz" },
		{ "want maize 5 kg 3000", "market-bad-unit", "unit", "bag" },
		{ "want maize 5", "usage-WANT", NULL, NULL },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int	 rc = run(FARMER, t[i].text);

		cr_assert(rc == MB_OK || rc == MB_USAGE, "%s: %d", t[i].text,
		    rc);
		cr_assert_eq(mock_nsent(m), 1, "%s", t[i].text);
		cr_assert_str_eq(sent(0)->tmpl, t[i].tmpl, "%s", t[i].text);
		is_reply(0, t[i].tmpl);
		if (t[i].arg != NULL)
			has(0, t[i].arg, t[i].value);
	}
	cr_assert_eq(db_int("SELECT count(*) FROM market_posts", 0), 0);
}

Test(market, sell_needs_a_market_and_a_registration)
{
	mock_clear(m);
	mock_sender(m, TRADER, "Kamau", NULL, "en", MB_ROLE_FARMER);
	cr_assert_eq(mock_command(m, "sell maize 10 3000"), MB_OK);
	is_reply(0, "market-need-market");
	/* a market named last will do */
	mock_clear(m);
	cr_assert_eq(mock_command(m, "sell maize 10 3000 nakuru"), MB_OK);
	is_reply(0, "market-offer-ok");
	/* not registered: the router asks for REG, the handler never runs */
	mock_clear(m);
	mock_sender(m, TRADER, NULL, "nakuru", "en", 0);
	cr_assert_eq(mock_command(m, "sell maize 10 3000"), -101);
	cr_assert_eq(mock_command(m, "buy 1 1"), -101);
	cr_assert_eq(mock_command(m, "my"), -101);
	cr_assert_eq(mock_nsent(m), 0);
}

/* --- matching --------------------------------------------------------------------------- */

Test(market, new_offer_tells_the_best_paying_wants)
{
	/* wants by five people; the offer is at 3050 */
	run_reply("+254711000001", "want maize 5 3100", "market-want-ok");
	run_reply("+254711000002", "want maize 5 3300", "market-want-ok");
	run_reply("+254711000003", "want maize 5 3200", "market-want-ok");
	run_reply("+254711000004", "want maize 5 3000", "market-want-ok");
	run_reply("+254711000005", "want maize 20 3300", "market-want-ok");
	/* not matched: other commodity, other market, own want, cancelled */
	run_reply("+254711000006", "want beans 5 9000", "market-want-ok");
	run_reply("+254711000007", "want maize 5 9000 mombasa",
	    "market-want-ok");
	run_reply(FARMER, "want maize 5 9000", "market-want-ok");
	run_reply("+254711000008", "want maize 5 9000", "market-want-ok");
	run_reply("+254711000008", "cancel 9", "market-cancelled-want");

	run_reply(FARMER, "sell maize 10 bags 3050", "market-offer-ok");
	cr_assert_eq(mock_nsent(m), 5, "reply, 3 notices, the list");
	/* the best price first, then the older; at most 3 */
	is_notice(1, "+254711000002", "market-match-buyer");
	is_notice(2, "+254711000005", "market-match-buyer");
	is_notice(3, "+254711000003", "market-match-buyer");
	has(1, "ref", "10");
	has(1, "want", "2");
	has(1, "qty", "10");
	has(1, "buy", "5");
	has(1, "price", "3050");
	has(1, "name", "Wanjiru");
	has(1, "phone", FARMER);
	has(1, "market", "Nakuru");
	has(2, "buy", "10");
	is_reply(4, "market-match-wants");
	has(4, "ref", "10");
	/*
	 * An item of the language files (the mock renders it as its name
	 * and values); as many as fit one SMS with the reply (with the
	 * mock's long texts, one), and how many more were told.
	 */
	has(4, "matches", "market-item-buyer(ref=2,qty=5,unit=bag,"
	    "price=3300,name=+254711000002)");
	has(4, "more", "2");
	has(4, "count", "3");
}

Test(market, new_want_tells_the_cheapest_offers)
{
	run_reply("+254711000001", "sell maize 10 3000", "market-offer-ok");
	run_reply("+254711000002", "sell maize 10 2900", "market-offer-ok");
	run_reply("+254711000003", "sell maize 10 3300", "market-offer-ok");
	run_reply("+254711000004", "sell maize 10 2900", "market-offer-ok");
	run_reply("+254711000005", "sell maize 10 2.50", "market-offer-ok");
	run_reply("+254711000005", "cancel 5", "market-cancelled-offer");
	run_reply(BUYER, "want maize 5 3200", "market-want-ok");
	cr_assert_eq(mock_nsent(m), 5);
	is_notice(1, "+254711000002", "market-match-seller");
	is_notice(2, "+254711000004", "market-match-seller");
	is_notice(3, "+254711000001", "market-match-seller");
	has(1, "ref", "2");
	has(1, "want", "6");
	has(1, "qty", "5");
	has(1, "price", "3200");
	has(1, "name", "Otieno");
	has(1, "phone", BUYER);
	is_reply(4, "market-match-offers");
	has(4, "matches", "market-item-offer-match(ref=2,qty=10,unit=bag,"
	    "price=2900)");
	has(4, "more", "2");
	/* the example order: the cheapest offer, as much as wanted */
	has(4, "first", "2");
	has(4, "buy", "5");
}

Test(market, match_limits_and_scope, .init = setup_conf_only,
    .fini = teardown)
{
	mock_conf(m, "max-matches", "1");
	mock_conf(m, "match-scope", "all");
	cr_assert_eq(mock_init(m), MB_OK);
	run_reply("+254711000001", "want maize 5 3100 mombasa",
	    "market-want-ok");
	run_reply("+254711000002", "want maize 5 3000", "market-want-ok");
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	cr_assert_eq(mock_nsent(m), 3);
	is_notice(1, "+254711000001", "market-match-buyer");
	is_reply(2, "market-match-wants");
}

Test(market, match_region_scope, .init = setup_conf_only,
    .fini = teardown)
{
	mock_conf(m, "match-scope", "region");
	cr_assert_eq(mock_init(m), MB_OK);
	/* mombasa is in Coast, nakuru in Rift Valley */
	run_reply("+254711000001", "want maize 5 3100 mombasa",
	    "market-want-ok");
	run_reply("+254711000002", "want maize 5 3000 nakuru",
	    "market-want-ok");
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	cr_assert_eq(mock_nsent(m), 3);
	is_notice(1, "+254711000002", "market-match-buyer");
}

Test(market, no_match_notices, .init = setup_conf_only,
    .fini = teardown)
{
	mock_conf(m, "max-matches", "0");
	cr_assert_eq(mock_init(m), MB_OK);
	run_reply(BUYER, "want maize 5 3200", "market-want-ok");
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	cr_assert_eq(mock_nsent(m), 1);
}

Test(market, match_skips_dear_offers_and_expired_wants)
{
	run_reply(BUYER, "want maize 5 2000", "market-want-ok");
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	cr_assert_eq(mock_nsent(m), 1, "3000 is more than 2000");
	run_reply(BUYER, "want maize 5 3500", "market-want-ok");
	cr_assert_eq(mock_nsent(m), 3);
	mock_set_now(m, T0 + 8 * DAY);
	run_reply("+254711000001", "sell maize 10 1000", "market-offer-ok");
	cr_assert_eq(mock_nsent(m), 1, "the wants expired");
}

/* --- BUY --------------------------------------------------------------------------------- */

Test(market, buy)
{
	run_reply(FARMER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 4", "market-order-ok");
	cr_assert_eq(mock_nsent(m), 2);
	has(0, "ref", "2");
	has(0, "offer", "1");
	has(0, "qty", "4");
	has(0, "unit", "bag");
	has(0, "commodity", "maize");
	has(0, "total", "12000");
	has(0, "currency", "KES");
	has(0, "name", "Wanjiru");
	has(0, "phone", FARMER);
	is_notice(1, FARMER, "market-order-seller");
	has(1, "ref", "2");
	has(1, "name", "Otieno");
	has(1, "phone", BUYER);
	has(1, "qty", "4");
	has(1, "total", "12000");
	has(1, "left", "6");
	cr_assert_eq(left_of(1), 6);
	cr_assert_str_eq(db_text("SELECT offer || '|' || buyer || '|' ||"
	    " seller || '|' || qty || '|' || price || '|' || total || '|' ||"
	    " state || '|' || remind_at || '|' || expires_at || '|' ||"
	    " reminded FROM market_orders WHERE ref = 2", 0),
	    "1|+254700000002|+254700000001|4|300000|1200000|pending|"
	    "1700007200|1700086400|0");
	/* "BUY 41 5 bags", "#1" */
	run_reply(BUYER, "buy #1 2 bags", "market-order-ok");
	cr_assert_eq(left_of(1), 4);
	run_reply(BUYER, "buy 1 2 kg", "market-bad-unit");
	cr_assert_eq(left_of(1), 4);
}

Test(market, buy_cents_total)
{
	run_reply(FARMER, "sell maize 10 2.50", "market-offer-ok");
	run_reply(BUYER, "buy 1 3", "market-order-ok");
	has(0, "total", "7.50");
	has(0, "price", "2.50");
}

Test(market, buy_refusals)
{
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");	/* 1 */
	run_reply(BUYER, "want maize 5 2000", "market-want-ok");	/* 2 */
	run_reply(BUYER, "buy 1 1", "market-order-ok");			/* 3 */

	run_reply(FARMER, "buy 1 1", "market-own-offer");
	has(0, "ref", "1");
	run_reply(BUYER, "buy 2 1", "market-ref-own-want");
	has(0, "commodity", "maize");
	run_reply(TRADER, "buy 2 1", "market-ref-want");
	run_reply(BUYER, "buy 3 1", "market-ref-order");
	run_reply(BUYER, "buy 99 1", "market-unknown-ref");
	has(0, "ref", "99");
	run_reply(BUYER, "buy 1 0", "market-bad-qty");
	run_reply(BUYER, "buy 1 lots", "market-bad-qty");
	run_reply(BUYER, "buy 1 1000001", "market-bad-qty");
	cr_assert_eq(run(BUYER, "buy"), MB_USAGE);
	is_reply(0, "usage-BUY");
	cr_assert_eq(run(BUYER, "buy 1"), MB_USAGE);
	cr_assert_eq(run(BUYER, "buy x 5"), MB_USAGE);
	cr_assert_eq(run(BUYER, "buy 1 2 bags now"), MB_USAGE);
	cr_assert_eq(left_of(1), 9, "nothing reserved by a refusal");
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders", 0), 1);
	/* an offer past its time, before the sweep saw it */
	mock_set_now(m, T0 + 7 * DAY);
	run_reply(BUYER, "buy 1 1", "market-offer-ended");
	has(0, "ref", "1");
	has(0, "commodity", "maize");
	/* a withdrawn offer */
	mock_set_now(m, T0);
	run_reply(FARMER, "cancel 1", "market-cancelled-offer");
	run_reply(BUYER, "buy 1 1", "market-offer-ended");
	cr_assert_eq(left_of(1), 9);
}

/* Two buyers for the last bags: the second is told what is left. */
Test(market, quantity_race)
{
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 8", "market-order-ok");
	run_reply(TRADER, "buy 1 5", "market-not-enough");
	cr_assert_eq(mock_nsent(m), 1, "the seller is not bothered");
	has(0, "ref", "1");
	has(0, "left", "2");
	has(0, "qty", "5");
	run_reply(TRADER, "buy 1 2", "market-order-ok");
	cr_assert_eq(left_of(1), 0);
	cr_assert_str_eq(post_state(1), "closed", "sold out");
	/* not "only 0 left, send BUY 1 0": other offers */
	run_reply(STRANGER, "buy 1 1", "market-sold-out");
	has(0, "ref", "1");
	has(0, "commodity", "maize");
	cr_assert_eq(db_int("SELECT sum(qty) FROM market_orders", 0), 10);
	/* an order that does not go through reopens the offer */
	run_reply(FARMER, "reject 2", "market-reject-ok");
	cr_assert_eq(left_of(1), 8);
	cr_assert_str_eq(post_state(1), "open");
	run_reply(STRANGER, "buy 1 8", "market-order-ok");
	cr_assert_str_eq(post_state(1), "closed");
}

/* Money limits: totals above 10^11 are refused, never wrapped. */
Test(market, order_total_limits)
{
	run_reply(FARMER, "sell maize 1000000 1000000000", "market-offer-ok");
	run_reply(BUYER, "buy 1 1000000", "market-bad-total");
	has(0, "qty", "1000000");
	has(0, "price", "1000000000");
	run_reply(BUYER, "buy 1 101", "market-bad-total");
	cr_assert_eq(left_of(1), 1000000);
	run_reply(BUYER, "buy 1 100", "market-order-ok");
	has(0, "total", "100000000000");
	cr_assert_eq(db_int("SELECT total FROM market_orders WHERE ref = 2",
	    0), MARKET_TOTAL_MAX);
}

Test(market, an_order_counts_toward_the_buyers_want)
{
	run_reply(BUYER, "want maize 5 3200", "market-want-ok");	/* 1 */
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");	/* 2 */
	run_reply(BUYER, "buy 2 3", "market-order-ok");			/* 3 */
	cr_assert_eq(left_of(1), 2);
	run_reply(BUYER, "buy 2 4", "market-order-ok");			/* 4 */
	cr_assert_eq(left_of(1), 0);
	cr_assert_str_eq(post_state(1), "closed");
	cr_assert_str_eq(db_text("SELECT want || '/' || want_qty FROM"
	    " market_orders WHERE ref = 4", 0), "1/2");
	/* a new offer does not match a want already ordered */
	run_reply(TRADER, "sell maize 1 3000", "market-offer-ok");
	cr_assert_eq(mock_nsent(m), 1);
	/* the order fails: the want wants again */
	run_reply(FARMER, "reject 4", "market-reject-ok");
	cr_assert_eq(left_of(1), 2);
	cr_assert_str_eq(post_state(1), "open");
}

/* --- the order state machine --------------------------------------------------------------- */

/*
 * The refusal of a command an order cannot take in state, sent by who (its
 * buyer or its seller): where it stands and who must act next.
 */
static const char *
refusal(const char *state, const char *who)
{
	static char	 buf[64];
	int		 seller = strcmp(who, FARMER) == 0;

	if (strcmp(state, "pending") == 0)
		return seller ? "market-order-wait-accept" :
		    "market-order-wait-seller";
	if (strcmp(state, "accepted") == 0)
		return seller ? "market-order-is-accepted" :
		    "market-order-wait-sent";
	if (strcmp(state, "sent") == 0)
		return seller ? "market-order-wait-delivered" :
		    "market-order-on-way";
	snprintf(buf, sizeof(buf), "market-order-ended-%s", state);
	return buf;
}

/*
 * Every command from every state, by the buyer and by the seller: the
 * step where the table allows it, else a refusal that says who must act
 * next (by state and sender), and nothing changed.
 */
Test(market, transitions_from_every_state)
{
	static const char	*states[] = { "pending", "accepted", "sent",
	    "delivered", "rejected", "cancelled", "expired" };
	static const struct {
		const char	*who, *text, *to, *ok;
	} cmds[] = {
		{ FARMER, "accept 2", "accepted", "market-accept-ok" },
		{ FARMER, "reject 2 no", "rejected", "market-reject-ok" },
		{ FARMER, "sent 2", "sent", "market-sent-ok" },
		{ BUYER, "delivered 2", "delivered", "market-delivered-ok" },
		{ BUYER, "cancel 2", "cancelled", "market-cancelled-order" },
		{ FARMER, "cancel 2", "cancelled", "market-cancelled-order" },
		/* the steps of the other party: refused */
		{ BUYER, "accept 2", "-", NULL },
		{ BUYER, "reject 2", "-", NULL },
		{ BUYER, "sent 2", "-", NULL },
		{ FARMER, "delivered 2", "-", NULL },
	};
	static const char	*allowed[] = {
		"pending>accepted", "pending>rejected", "pending>cancelled",
		"accepted>sent", "accepted>cancelled", "sent>delivered",
	};
	size_t			 s, c, k;

	for (s = 0; s < sizeof(states) / sizeof(states[0]); s++)
		for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			char	 step[64];
			int	 ok = 0;
			long long ref, left;

			mock_free(m);
			setup();
			ref = order_in(states[s]);
			cr_assert_str_eq(order_state(ref), states[s]);
			left = left_of(1);
			snprintf(step, sizeof(step), "%s>%s", states[s],
			    cmds[c].to);
			for (k = 0; k < sizeof(allowed) / sizeof(allowed[0]);
			    k++)
				ok |= strcmp(allowed[k], step) == 0;
			run_reply(cmds[c].who, cmds[c].text, ok ? cmds[c].ok :
			    refusal(states[s], cmds[c].who));
			if (ok) {
				cr_assert_str_eq(order_state(ref), cmds[c].to,
				    "%s", step);
				continue;
			}
			cr_assert_eq(mock_nsent(m), 1, "%s: only a refusal",
			    step);
			has(0, "ref", "2");
			cr_assert_str_eq(order_state(ref), states[s], "%s",
			    step);
			cr_assert_eq(left_of(1), left, "%s", step);
		}
}

/* Only the party a step belongs to may take it. */
Test(market, parties)
{
	static const struct {
		const char	*who, *text, *tmpl;
	} t[] = {
		{ BUYER, "accept 2", "market-order-wait-seller" },
		{ BUYER, "reject 2", "market-order-wait-seller" },
		{ BUYER, "sent 2", "market-order-wait-seller" },
		{ STRANGER, "accept 2", "market-not-yours" },
		{ STRANGER, "reject 2", "market-not-yours" },
		{ STRANGER, "sent 2", "market-not-yours" },
		{ STRANGER, "cancel 2", "market-not-yours" },
		{ STRANGER, "delivered 2", "market-not-yours" },
		{ CARRIER, "delivered 2 1234", "market-not-yours" },
		{ STRANGER, "cancel 1", "market-not-yours" },
		{ BUYER, "cancel 1", "market-not-yours" },
		/* an own offer: no BUY suggested, MY shows its orders */
		{ FARMER, "accept 1", "market-ref-own-offer" },
		{ FARMER, "accept 99", "market-unknown-ref" },
		{ FARMER, "cancel 99", "market-unknown-ref" },
		{ BUYER, "delivered 1", "market-ref-offer" },
	};
	size_t	 i;

	order_in("pending");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		run_reply(t[i].who, t[i].text, t[i].tmpl);
		cr_assert_eq(mock_nsent(m), 1, "%s", t[i].text);
		cr_assert_str_eq(order_state(2), "pending", "%s", t[i].text);
		cr_assert_str_eq(post_state(1), "open", "%s", t[i].text);
	}
	/* another's open offer: how to order from it */
	run_reply(BUYER, "accept 1", "market-ref-offer");
	has(0, "left", "6");
	/* the seller may not confirm a delivery: the buyer must */
	run_reply(FARMER, "accept 2", "market-accept-ok");
	run_reply(FARMER, "sent 2", "market-sent-ok");
	run_reply(FARMER, "delivered 2", "market-order-wait-delivered");
	cr_assert_str_eq(order_state(2), "sent");
	cr_assert_eq(db_int("SELECT code_tries FROM market_orders", 0), 0);
	/* a want's number */
	run_reply(BUYER, "want beans 5 100", "market-want-ok");
	run_reply(FARMER, "reject 3", "market-ref-want");
	has(0, "commodity", "beans");
	run_reply(BUYER, "accept 3", "market-ref-own-want");
	/* a sold-out offer's number: other offers, not BUY */
	run_reply(TRADER, "buy 1 6", "market-order-ok");
	run_reply(STRANGER, "accept 1", "market-sold-out");
	/* usage */
	cr_assert_eq(run(FARMER, "accept"), MB_USAGE);
	cr_assert_eq(run(FARMER, "accept two"), MB_USAGE);
	cr_assert_eq(run(FARMER, "accept 2 3"), MB_USAGE);
	cr_assert_eq(run(FARMER, "cancel"), MB_USAGE);
	cr_assert_eq(run(BUYER, "delivered"), MB_USAGE);
	is_reply(0, "usage-DELIVERED");
}

/* With payments taken (host pay_to), the buyer's notice says where to
 * pay: the paybill and the order's number as the account. */
Test(market, accept_tells_the_buyer_where_to_pay)
{
	mock_pay_to(m, "512345");
	order_in("pending");
	run_reply(FARMER, "accept 2", "market-accept-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, BUYER, "market-accepted-pay");
	has(1, "ref", "2");
	has(1, "total", "12000");
	has(1, "currency", "KES");
	has(1, "paybill", "512345");
	has(1, "account", "2");
}

/*
 * Each step that closes an order or delivers it tells the core (host
 * pay_event), whose money state follows (a paid order closed: refund
 * due); the other steps do not.
 */
Test(market, closing_and_delivering_tell_the_money)
{
	order_in("accepted");
	cr_assert_str_eq(mock_pay_events(m), "", "accepting moves no money");
	run_reply(FARMER, "sent 2", "market-sent-ok");
	cr_assert_str_eq(mock_pay_events(m), "");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_str_eq(mock_pay_events(m), "2 delivered");
	mock_free(m);
	setup();
	order_in("rejected");
	cr_assert_str_eq(mock_pay_events(m), "2 closed");
	mock_free(m);
	setup();
	order_in("cancelled");
	cr_assert_str_eq(mock_pay_events(m), "2 closed");
	mock_free(m);
	setup();
	order_in("expired");
	cr_assert_str_eq(mock_pay_events(m), "2 closed");
}

Test(market, accept_and_reject_tell_the_buyer)
{
	order_in("pending");
	run_reply(FARMER, "accept 2", "market-accept-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, BUYER, "market-accepted");
	has(1, "ref", "2");
	has(1, "name", "Wanjiru");
	has(1, "phone", FARMER);
	has(1, "total", "12000");
	/* an accepted order's own timers: accept-remind, accept-expire */
	cr_assert_str_eq(db_text("SELECT (remind_at - created) || '|' ||"
	    " (expires_at - created) FROM market_orders", 0), "86400|259200",
	    "the timers of an accepted order");

	mock_free(m);
	setup();
	order_in("pending");
	run_reply(FARMER, "reject 2 sold at the farm", "market-reject-ok");
	has(0, "qty", "4");
	has(0, "offer", "1");
	is_notice(1, BUYER, "market-rejected-reason");
	has(1, "reason", "sold at the farm");
	has(1, "name", "Wanjiru");
	cr_assert_eq(left_of(1), 10, "the reservation returns");
	cr_assert_str_eq(db_text("SELECT reason FROM market_orders", 0),
	    "sold at the farm");

	mock_free(m);
	setup();
	order_in("pending");
	run_reply(FARMER, "REJECT 2", "market-reject-ok");
	is_notice(1, BUYER, "market-rejected");
}

/*
 * A long REJECT reason is cut at a word, with an ellipsis, so that the
 * buyer's notice is one SMS (here as the mock renders it); nothing else
 * in the notice is cut.  Without blanks (Chinese) the cut is between
 * characters.  The ellipsis is "…", which the outbox sends as "..." in a
 * text that would otherwise need a second SMS.
 */
Test(market, a_long_reason_is_cut_at_a_word_to_fit)
{
	static const char	 reason[] = "the maize got wet in the rain "
	    "last night so I cannot sell it to you now, sorry";
	const char		*got;
	char			*s;
	size_t			 n;

	order_in("pending");
	run_reply(FARMER, "reject 2 the maize got wet in the rain last night "
	    "so I cannot sell it to you now, sorry", "market-reject-ok");
	is_notice(1, BUYER, "market-rejected-reason");
	got = mock_arg(sent(1), "reason");
	n = strlen(got);
	cr_assert_gt(n, 3 + 3);
	cr_assert_str_eq(got + n - 3, "\xe2\x80\xa6", "%s", got);
	cr_assert_lt(n - 3, strlen(reason) - 10, "%s", got);
	cr_assert(strncmp(got, reason, n - 3) == 0, "%s", got);
	cr_assert_eq(reason[n - 3], ' ', "cut inside a word: %s", got);
	/* one SMS as it leaves: "…" folded to "..." when that saves one */
	s = mock_text(1);
	cr_assert_eq(gsm_sent_parts(s, strlen(s)), 1, "%s", s);
	free(s);
	has(1, "name", "Wanjiru");
	has(1, "ref", "2");
	has(1, "total", "12000");
	/* the whole reason is kept on the order */
	cr_assert_str_eq(db_text("SELECT reason FROM market_orders", 0),
	    "the maize got wet in the rain last night so I cannot sell it to "
	    "you now, sorry");

	mock_free(m);
	setup();
	order_in("pending");
	run_reply(FARMER, "reject 2 玉米昨晚被雨淋湿了所以现在不能卖给你",
	    "market-reject-ok");
	got = mock_arg(sent(1), "reason");
	n = strlen(got);
	cr_assert_str_eq(got + n - 3, "\xe2\x80\xa6", "%s", got);
	cr_assert_geq(n, 3 + 3, "%s", got);
	cr_assert(strncmp(got, "玉米昨晚被雨淋湿了所以现在不能卖给你",
	    n - 3) == 0, "%s", got);
	/* (the mock's text, mostly its names, cannot fit 70: the first
	   character is kept) */
	has(1, "name", "Wanjiru");
}

Test(market, sent_without_transporter)
{
	const char	*code;

	order_in("accepted");
	run_reply(FARMER, "sent 2", "market-sent-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, BUYER, "market-sent-buyer");
	code = mock_arg(sent(1), "code");
	cr_assert_not_null(code);
	cr_assert_eq(strlen(code), 4);
	cr_assert(strspn(code, "0123456789") == 4, "code %s", code);
	cr_assert_str_eq(db_text("SELECT code FROM market_orders", 0), code);
	cr_assert_str_eq(db_text("SELECT ifnull(transporter, 'none') || '|' ||"
	    " remind_at || '|' || reminded FROM market_orders", 0),
	    "none|1700172800|0");
}

/*
 * A home-country number that is no registered user may carry the order,
 * but is told it without anybody's name.
 */
Test(market, sent_with_transporter)
{
	order_in("accepted");
	run_reply(FARMER, "sent 2 0722 000 111", "market-sent-ok-transporter");
	has(0, "phone", CARRIER);
	cr_assert_eq(mock_nsent(m), 3);
	is_notice(1, BUYER, "market-sent-buyer-transporter");
	has(1, "phone", CARRIER);
	cr_assert_not_null(mock_arg(sent(1), "code"));
	is_notice(2, CARRIER, "market-sent-transporter-unnamed");
	has(2, "ref", "2");
	has(2, "qty", "4");
	has(2, "unit", "bag");
	has(2, "commodity", "maize");
	has(2, "phone", FARMER);
	has(2, "market", "Nakuru");
	has(2, "buyer_phone", BUYER);
	cr_assert_null(mock_arg(sent(2), "name"), "a name to a non-user");
	cr_assert_null(mock_arg(sent(2), "buyer"), "a name to a non-user");
	cr_assert_null(mock_arg(sent(2), "code"),
	    "the transporter never gets the code");
	cr_assert_str_eq(db_text("SELECT transporter FROM market_orders", 0),
	    CARRIER);
}

/* A registered transporter, of any country, is told the names. */
Test(market, sent_with_a_registered_transporter)
{
	order_in("accepted");
	run_reply(FARMER, "sent 2 0711000333", "market-sent-ok-transporter");
	is_notice(2, "+254711000333", "market-sent-transporter");
	has(2, "name", "Wanjiru");
	has(2, "buyer", "Otieno");
	has(2, "buyer_phone", BUYER);

	mock_free(m);
	setup();
	order_in("accepted");
	run_reply(FARMER, "sent 2 +256772000999", "market-sent-ok-transporter");
	is_notice(2, "+256772000999", "market-sent-transporter");
	has(2, "name", "Wanjiru");
}

/*
 * A number abroad that is no user is refused, and nothing is sent to it:
 * SENT must not let a seller text any number in the world.
 */
Test(market, sent_to_a_foreign_non_user_is_refused)
{
	order_in("accepted");
	run_reply(FARMER, "sent 2 +1900555000111", "market-transporter-refused");
	has(0, "phone", "+1900555000111");
	has(0, "ref", "2");
	cr_assert_eq(mock_nsent(m), 1, "only the refusal");
	cr_assert_str_eq(order_state(2), "accepted");
	run_reply(FARMER, "sent 2 +256772000111", "market-transporter-refused");
	cr_assert_str_eq(order_state(2), "accepted");
}

/* transporter-prefixes: the countries a non-user transporter may be in. */
Test(market, transporter_prefixes)
{
	setup_conf_only();
	mock_conf(m, "transporter-prefixes", "+256;+255");
	cr_assert_eq(mock_init(m), MB_OK);
	order_in("accepted");
	run_reply(FARMER, "sent 2 +256772000111", "market-sent-ok-transporter");
	is_notice(2, "+256772000111", "market-sent-transporter-unnamed");

	setup_conf_only();
	mock_conf(m, "transporter-prefixes", "+256;+255");
	cr_assert_eq(mock_init(m), MB_OK);
	order_in("accepted");
	/* the listed countries only: the home one is not added */
	run_reply(FARMER, "sent 2 0722000111", "market-transporter-refused");

	setup_conf_only();
	mock_conf(m, "transporter-prefixes", "256");
	cr_assert_neq(mock_init(m), MB_OK, "a prefix without its +");
}

Test(market, sent_forms)
{
	order_in("accepted");
	run_reply(FARMER, "sent 2 not-a-phone", "market-bad-phone");
	has(0, "word", "not-a-phone");
	cr_assert_str_eq(order_state(2), "accepted");
	/* without country-code, a local number is refused with its own
	   reply: send it with the country code (the bad-phone one's
	   example is a local number); anything else is still no phone */
	mock_no_country_code(m, 1);
	run_reply(FARMER, "sent 2 0722 000 111", "market-phone-local");
	has(0, "word", "0722 000 111");
	cr_assert_str_eq(order_state(2), "accepted");
	run_reply(FARMER, "sent 2 not-a-phone", "market-bad-phone");
	run_reply(FARMER, "sent 2 00722000111", "market-bad-phone");
	mock_no_country_code(m, 0);
	/* international numbers of the home country, and the seller
	   carrying it alone */
	run_reply(FARMER, "sent 2 +254733000111", "market-sent-ok-transporter");
	is_notice(2, "+254733000111", "market-sent-transporter-unnamed");

	mock_free(m);
	setup();
	order_in("accepted");
	run_reply(FARMER, "sent 2 0700000001", "market-sent-ok");
	cr_assert_eq(mock_nsent(m), 2, "nobody else to tell");
}

Test(market, delivered_by_the_buyer)
{
	order_in("sent");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, FARMER, "market-delivered-seller");
	has(1, "name", "Otieno");
	has(1, "total", "12000");
	cr_assert_str_eq(order_state(2), "delivered");
	cr_assert_str_eq(db_text("SELECT ifnull(remind_at, 'none') FROM"
	    " market_orders", 0), "none");
	/* the buyer needs no code, and a wrong one does not matter */
	mock_free(m);
	setup();
	order_in("sent");
	run_reply(BUYER, "delivered 2 0000", "market-delivered-ok");
}

/* The transporter: the right code, wrong codes counted, then the lock. */
Test(market, delivered_by_the_transporter)
{
	char	 code[8], wrong[8];

	order_in("accepted");
	run_reply(FARMER, "sent 2 0722000111", "market-sent-ok-transporter");
	snprintf(code, sizeof(code), "%s", mock_arg(sent(1), "code"));
	snprintf(wrong, sizeof(wrong), "%04d", (atoi(code) + 1) % 10000);

	/* the transporter need not be registered */
	run_reply(CARRIER, "delivered 2", "market-code-needed");
	cr_assert_eq(db_int("SELECT code_tries FROM market_orders", 0), 0);
	{
		char	 text[32];

		snprintf(text, sizeof(text), "delivered 2 %s", wrong);
		run_reply(CARRIER, text, "market-wrong-code");
		has(0, "left", "2");
		cr_assert_eq(mock_nsent(m), 1);
		cr_assert_eq(db_int("SELECT code_tries FROM market_orders",
		    0), 1);
		cr_assert_str_eq(order_state(2), "sent");
		snprintf(text, sizeof(text), "delivered 2 %s", code);
		run_reply(CARRIER, text, "market-delivered-ok");
	}
	cr_assert_eq(mock_nsent(m), 3);
	is_notice(1, FARMER, "market-delivered-seller");
	is_notice(2, BUYER, "market-delivered-buyer");
	has(2, "phone", CARRIER);
	cr_assert_str_eq(order_state(2), "delivered");
}

/* "DELIVERED 2 code 4831": the word before the code, in any language. */
Test(market, delivered_code_after_its_name)
{
	static const char *const names[] = { "code", "msimbo", "码", "CODE:" };
	char	 code[8], text[48];
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (i > 0) {
			mock_free(m);
			setup();
		}
		order_in("accepted");
		run_reply(FARMER, "sent 2 0722000111",
		    "market-sent-ok-transporter");
		snprintf(code, sizeof(code), "%s", mock_arg(sent(1), "code"));
		snprintf(text, sizeof(text), "delivered 2 %s %s", names[i],
		    code);
		run_reply(CARRIER, text, "market-delivered-ok");
		cr_assert_str_eq(order_state(2), "delivered", "%s", text);
	}
	cr_assert_eq(run(CARRIER, "delivered 2 code 1234 5678"), MB_USAGE);
}

Test(market, wrong_codes_lock_the_code)
{
	char	 code[8], text[32];
	int	 i;

	order_in("accepted");
	run_reply(FARMER, "sent 2 0722000111", "market-sent-ok-transporter");
	snprintf(code, sizeof(code), "%s", mock_arg(sent(1), "code"));
	snprintf(text, sizeof(text), "delivered 2 %04d",
	    (atoi(code) + 5000) % 10000);
	for (i = 1; i <= 2; i++) {
		run_reply(CARRIER, text, "market-wrong-code");
		has(0, "left", num(3 - i));
	}
	run_reply(CARRIER, text, "market-code-locked");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, BUYER, "market-code-locked-buyer");
	has(1, "ref", "2");
	cr_assert_eq(db_int("SELECT code_tries FROM market_orders", 0), 3);
	/* locked: even the right code is refused, and not counted */
	snprintf(text, sizeof(text), "delivered 2 %s", code);
	run_reply(CARRIER, text, "market-code-locked");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(db_int("SELECT code_tries FROM market_orders", 0), 3);
	cr_assert_str_eq(order_state(2), "sent");
	/* the buyer still can */
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_str_eq(order_state(2), "delivered");
}

Test(market, code_tries_from_conf, .init = setup_conf_only,
    .fini = teardown)
{
	mock_conf(m, "code-tries", "1");
	cr_assert_eq(mock_init(m), MB_OK);
	order_in("accepted");
	run_reply(FARMER, "sent 2 0722000111", "market-sent-ok-transporter");
	run_reply(CARRIER, "delivered 2 99999", "market-code-locked");
}

Test(market, cancel)
{
	/* an own offer: withdrawn, the orders on it stand */
	order_in("pending");
	run_reply(FARMER, "cancel 1", "market-cancelled-offer");
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_str_eq(post_state(1), "cancelled");
	run_reply(FARMER, "cancel 1", "market-post-cancelled");
	has(0, "ref", "1");
	run_reply(FARMER, "accept 2", "market-accept-ok");
	/* the buyer cancels an accepted order: the seller is told, the
	   quantity returns (to a withdrawn offer, which stays withdrawn) */
	run_reply(BUYER, "cancel 2", "market-cancelled-order");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, FARMER, "market-order-cancelled");
	has(1, "name", "Otieno");
	has(1, "qty", "4");
	cr_assert_str_eq(order_state(2), "cancelled");
	cr_assert_eq(left_of(1), 10);
	cr_assert_str_eq(post_state(1), "cancelled");
	/* an own want */
	run_reply(BUYER, "want maize 5 3000", "market-want-ok");
	run_reply(BUYER, "cancel 3", "market-cancelled-want");
	cr_assert_str_eq(post_state(3), "cancelled");
}

Test(market, seller_cancels_an_order)
{
	order_in("pending");
	run_reply(FARMER, "cancel 2", "market-cancelled-order");
	is_notice(1, BUYER, "market-order-cancelled");
	has(1, "name", "Wanjiru");
	cr_assert_eq(left_of(1), 10);
	cr_assert_str_eq(post_state(1), "open");
}

/* --- MY -------------------------------------------------------------------------------------- */

/*
 * who's MY, page after page, into items (each page's items, "|" between
 * pages): every page one reply of one SMS (as the mock renders it) unless
 * it holds a single item, its {more} what the later pages hold, its
 * {next} the next page; the page after the last is refused, naming how
 * many there are.  Returns the number of pages.
 */
static int
my_pages(const char *who, char *items, size_t len)
{
	struct gsm_measure	 gm;
	char			 text[32], *s;
	int			 page;
	long			 more = -1, before = -1;

	items[0] = '\0';
	for (page = 1; more != 0; page++) {
		snprintf(text, sizeof(text), page == 1 ? "my" : "my %d", page);
		run_reply(who, text, "market-my-page");
		cr_assert_eq(mock_nsent(m), 1, "%s: one SMS", text);
		has(0, "next", num(page + 1));
		more = atol(mock_arg(sent(0), "more"));
		if (before != -1)
			cr_assert_lt(more, before, "%s: nothing shown", text);
		before = more;
		s = mock_text(0);
		gsm_measure(s, strlen(s), &gm);
		if (strstr(mock_arg(sent(0), "items"), "market-list-sep") !=
		    NULL)
			cr_assert_leq(gm.units, 160, "%s: %s", text, s);
		free(s);
		if (items[0] != '\0')
			strncat(items, "|", len - strlen(items) - 1);
		strncat(items, mock_arg(sent(0), "items"),
		    len - strlen(items) - 1);
	}
	snprintf(text, sizeof(text), "my %d", page);
	run_reply(who, text, "market-my-no-page");
	has(0, "page", num(page));
	has(0, "pages", num(page - 1));
	return page - 1;
}

Test(market, my)
{
	char	 items[4096];

	run_reply(FARMER, "my", "market-my-empty");
	cr_assert_eq(mock_nsent(m), 1);
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");	/* 1 */
	run_reply(BUYER, "buy 1 4", "market-order-ok");			/* 2 */
	run_reply(FARMER, "want beans 5 120.50", "market-want-ok");	/* 3 */
	run_reply(FARMER, "sell beans 8 100", "market-offer-ok");	/* 4 */
	run_reply(FARMER, "cancel 4", "market-cancelled-offer");
	run_reply(TRADER, "sell maize 3 2000", "market-offer-ok");	/* 5 */
	run_reply(FARMER, "buy 5 1", "market-order-ok");		/* 6 */
	/*
	 * Offers, wants, then orders, newest first: every word from the
	 * language files, an order's state too (market-state-*); the mock's
	 * long texts make one item a page.
	 */
	cr_assert_eq(my_pages(FARMER, items, sizeof(items)), 4);
	cr_assert_str_eq(items,
	    "market-item-offer(ref=1,qty=6,posted=10,unit=bag,"
	    "commodity=maize,price=3000)|"
	    "market-item-want(ref=3,qty=5,posted=5,unit=kg,commodity=beans,"
	    "price=120.50)|"
	    "market-item-order-buy(ref=6,offer=5,qty=1,unit=bag,"
	    "commodity=maize,total=2000,state=market-state-pending(ref=6))|"
	    "market-item-order-sell(ref=2,offer=1,qty=4,unit=bag,"
	    "commodity=maize,total=12000,state=market-state-pending(ref=2))");
	/* the first page: how many more, and how to see them */
	run_reply(FARMER, "my", "market-my-page");
	has(0, "more", "3");
	has(0, "next", "2");
	/* the buyer: one order, one page */
	run_reply(FARMER, "accept 2", "market-accept-ok");
	cr_assert_eq(my_pages(BUYER, items, sizeof(items)), 1);
	cr_assert_str_eq(items, "market-item-order-buy(ref=2,offer=1,qty=4,"
	    "unit=bag,commodity=maize,total=12000,"
	    "state=market-state-accepted(ref=2))");
	/* final orders are not listed */
	run_reply(FARMER, "cancel 2", "market-cancelled-order");
	run_reply(BUYER, "my", "market-my-empty");
	cr_assert_eq(run(BUYER, "my orders"), MB_USAGE);
	cr_assert_eq(run(FARMER, "my 0"), MB_USAGE);
	cr_assert_eq(run(FARMER, "my 2 3"), MB_USAGE);
}

Test(market, my_pages_through_many)
{
	char	 items[16384], want[64];
	int	 i, pages;

	for (i = 0; i < 30; i++)
		run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	run_reply(FARMER, "my", "market-my-page");
	cr_assert_eq(mock_nsent(m), 1, "one SMS a page");
	has(0, "more", "29");
	has(0, "next", "2");
	pages = my_pages(FARMER, items, sizeof(items));
	cr_assert_eq(pages, 30);
	/* every offer once, newest first */
	for (i = 30; i >= 1; i--) {
		snprintf(want, sizeof(want), "market-item-offer(ref=%d,", i);
		cr_assert_not_null(strstr(items, want), "#%d not shown", i);
		cr_assert_null(strstr(strstr(items, want) + 1, want),
		    "#%d twice", i);
	}
	cr_assert(strstr(items, "ref=30,") < strstr(items, "ref=1,"));
}

/* --- the timers ---------------------------------------------------------------------------------- */

Test(market, seller_reminded_once_then_order_expires)
{
	order_in("pending");
	cr_assert_eq(timer(T0 + 2 * HOUR - 1), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(timer(T0 + 2 * HOUR + 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 1);
	is_notice(0, FARMER, "market-reminder-seller");
	has(0, "ref", "2");
	has(0, "name", "Otieno");
	has(0, "phone", BUYER);
	cr_assert_eq(db_int("SELECT reminded FROM market_orders", 0), 1);
	cr_assert_eq(timer(T0 + 3 * HOUR), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "once");
	cr_assert_eq(timer(T0 + 23 * HOUR), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(left_of(1), 6);
	cr_assert_eq(timer(T0 + DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(0, BUYER, "market-expired-order-buyer");
	has(0, "name", "Wanjiru");
	is_notice(1, FARMER, "market-expired-order-seller");
	has(1, "name", "Otieno");
	has(1, "qty", "4");
	cr_assert_str_eq(order_state(2), "expired");
	cr_assert_eq(left_of(1), 10, "the reservation returns");
	cr_assert_eq(timer(T0 + DAY + HOUR), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	/* too late to accept */
	run_reply(FARMER, "accept 2", "market-order-ended-expired");
	has(0, "ref", "2");
}

Test(market, an_order_expiring_unreminded_just_expires)
{
	order_in("pending");
	cr_assert_eq(timer(T0 + 2 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(0, BUYER, "market-expired-order-buyer");
	is_notice(1, FARMER, "market-expired-order-seller");
}

Test(market, posts_expire)
{
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");	/* 1 */
	run_reply(BUYER, "want beans 5 100", "market-want-ok");		/* 2 */
	run_reply(BUYER, "buy 1 10", "market-order-ok");		/* 3 */
	run_reply(FARMER, "accept 3", "market-accept-ok");
	run_reply(FARMER, "sent 3", "market-sent-ok");
	run_reply(BUYER, "delivered 3", "market-delivered-ok");
	run_reply(TRADER, "sell maize 4 3000", "market-offer-ok");	/* 4 */
	run_reply(TRADER, "buy 1 1", "market-sold-out");
	cr_assert_eq(timer(T0 + 7 * DAY - 100), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(timer(T0 + 7 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(0, BUYER, "market-expired-want");
	has(0, "ref", "2");
	has(0, "commodity", "beans");
	is_notice(1, TRADER, "market-expired-offer");
	has(1, "ref", "4");
	has(1, "qty", "4");
	/* the sold-out offer 1 is closed, not expired; its delivered order
	   has no timer */
	cr_assert_str_eq(post_state(1), "closed");
	cr_assert_str_eq(post_state(2), "expired");
	cr_assert_eq(timer(T0 + 8 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
}

Test(market, a_sold_out_offer_past_its_time_does_not_reopen)
{
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 10", "market-order-ok");
	cr_assert_str_eq(post_state(1), "closed");
	mock_set_now(m, T0 + 7 * DAY + 1);
	run_reply(FARMER, "reject 2", "market-reject-ok");
	cr_assert_str_eq(post_state(1), "expired");
	cr_assert_eq(left_of(1), 10);
}

Test(market, buyer_reminded_of_a_delivery_once)
{
	order_in("accepted");
	mock_set_now(m, T0 + HOUR);
	run_reply(FARMER, "sent 2", "market-sent-ok");
	cr_assert_eq(timer(T0 + HOUR + 48 * HOUR - 100), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(timer(T0 + HOUR + 48 * HOUR), MB_OK);
	cr_assert_eq(mock_nsent(m), 1);
	is_notice(0, BUYER, "market-reminder-buyer");
	has(0, "ref", "2");
	has(0, "name", "Wanjiru");
	cr_assert_eq(timer(T0 + 5 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 0, "once");
	cr_assert_str_eq(order_state(2), "sent", "a sent order never expires");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
}

Test(market, sweep_interval, .init = setup_conf_only,
    .fini = teardown)
{
	mock_conf(m, "sweep-interval", "1h");
	cr_assert_eq(mock_init(m), MB_OK);
	order_in("pending");
	cr_assert_eq(timer(T0 + 90 * 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	/* due at T0 + 2h, but the last sweep was at T0 + 1h30 */
	cr_assert_eq(timer(T0 + 121 * 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(timer(T0 + 149 * 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(timer(T0 + 150 * 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 1);
	is_notice(0, FARMER, "market-reminder-seller");
}

/*
 * The wall clock set back two days after a sweep: the next sweep is not
 * two days away; an order made meanwhile is reminded when due on the clock
 * as it now is.
 */
Test(market, sweep_after_the_clock_went_back, .init = setup_conf_only,
    .fini = teardown)
{
	mock_conf(m, "sweep-interval", "1h");
	cr_assert_eq(mock_init(m), MB_OK);
	cr_assert_eq(timer(T0 + 3 * 3600), MB_OK);
	mock_set_now(m, T0 - 2 * DAY);
	order_in("pending");
	cr_assert_eq(timer(T0 - 2 * DAY + 121 * 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 1, "reminded on the clock as it is now");
	is_notice(0, FARMER, "market-reminder-seller");
	/* and the interval holds again from there */
	cr_assert_eq(timer(T0 - 2 * DAY + 122 * 60), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
}

/* At most 200 rows a run; the rest the next run, without waiting. */
Test(market, sweep_is_bounded)
{
	int	 i;

	for (i = 0; i < 250; i++)
		run_reply(FARMER, "sell maize 1 3000", "market-offer-ok");
	cr_assert_eq(timer(T0 + 7 * DAY), MB_OK);
	cr_assert_eq(mock_nsent(m), 200);
	cr_assert_eq(db_int("SELECT count(*) FROM market_posts WHERE"
	    " state = 'expired'", 0), 200);
	cr_assert_eq(timer(T0 + 7 * DAY + 1), MB_OK);
	cr_assert_eq(mock_nsent(m), 50);
	cr_assert_eq(timer(T0 + 7 * DAY + 120), MB_OK);
	cr_assert_eq(mock_nsent(m), 0);
}

/* Due times are columns: a timer finds what a restart left due. */
Test(market, timers_read_due_times_from_the_table)
{
	order_in("pending");
	sqlite3_exec(mock_db(m), "UPDATE market_orders SET remind_at = 5,"
	    " expires_at = 10000000000", NULL, NULL, NULL);
	cr_assert_eq(timer(T0 + 1), MB_OK);
	cr_assert_eq(mock_nsent(m), 1);
	is_notice(0, FARMER, "market-reminder-seller");
}

/* --- failures roll back ------------------------------------------------------------------------ */

Test(market, a_failed_notice_fails_the_message)
{
	run_reply(FARMER, "sell maize 10 3000", "market-offer-ok");
	mock_clear(m);
	as(BUYER);
	mock_fail_sends(m, 1);
	cr_assert_eq(mock_command(m, "buy 1 4"), MB_FAIL);
	mock_fail_sends(m, 0);
}

/* --- service points: members their agents trade for --------------------------------------
 *
 * A member of a service point sells and buys as anyone does, under an
 * identity that may be no phone at all ("m:M17").  The core (the mock
 * here) names her to others ("Mary Wanjiku via Kiambogo point"), gives
 * the number she is reached on (contact(): her agent's), routes her
 * notices (the plugin addresses them to her identity; the core sends
 * them on to the agent) and records the commission of a completed trade
 * (trade_done()).
 */

#define AGENT		"+254722555000"		/* the Kiambogo point's agent */
#define MARY		"m:M17"			/* a member without a phone */
#define MARY_LABEL	"Mary Wanjiku via Kiambogo point"

/* No message of the last run went to the agent itself: the core routes. */
static void
none_to_the_agent(void)
{
	size_t	 i;

	for (i = 0; i < mock_nsent(m); i++)
		cr_assert(sent(i)->to == NULL || strcmp(sent(i)->to, AGENT) != 0,
		    "message %zu (%s) addressed to the agent", i,
		    sent(i)->tmpl);
}

/*
 * {name} of message i is the member's label, or (the mock's texts are
 * long: names are cut at a word to fit one SMS) its first words and "…".
 */
static void
has_label(size_t i, const char *name, const char *label)
{
	const char	*v = mock_arg(sent(i), name);
	size_t		 n;

	cr_assert_not_null(v, "message %zu (%s) has no {%s}", i,
	    sent(i)->tmpl, name);
	if (strcmp(v, label) == 0)
		return;
	n = strlen(v);
	cr_assert(n > strlen(MARKET_ELLIPSIS) &&
	    strcmp(v + n - strlen(MARKET_ELLIPSIS), MARKET_ELLIPSIS) == 0,
	    "message %zu (%s) {%s}: %s, not %s", i, sent(i)->tmpl, name, v,
	    label);
	n -= strlen(MARKET_ELLIPSIS);
	cr_assert(n > 0 && strncmp(v, label, n) == 0 && label[n] == ' ',
	    "message %zu (%s) {%s}: %s, not %s", i, sent(i)->tmpl, name, v,
	    label);
}

/* No error was logged (an identity taken for a bad phone, say). */
static void
no_errors(void)
{
	size_t	 i;

	for (i = 0; i < mock_nlogs(m); i++)
		cr_assert(strncmp(mock_log_at(m, i), "3 ", 2) != 0,
		    "an error: %s", mock_log_at(m, i));
}

Test(market, a_members_offer_shows_her_label_and_her_agents_phone)
{
	plugin_mock_member(m, MARY, MARY_LABEL, AGENT);
	run_reply(BUYER, "want maize 5 3100", "market-want-ok");	/* 1 */
	run_reply(MARY, "sell maize 10 bags 3000", "market-offer-ok"); /* 2 */
	is_notice(1, BUYER, "market-match-buyer");
	has_label(1, "name", MARY_LABEL);
	has(1, "phone", AGENT);
	has(1, "ref", "2");

	run_reply(BUYER, "buy 2 4", "market-order-ok");		/* 3 */
	has_label(0, "name", MARY_LABEL);
	has(0, "phone", AGENT);
	is_notice(1, MARY, "market-order-seller");
	has(1, "name", "Otieno");
	has(1, "phone", BUYER);

	run_reply(MARY, "accept 3", "market-accept-ok");
	has(0, "phone", AGENT);
	is_notice(1, BUYER, "market-accepted");
	has_label(1, "name", MARY_LABEL);
	has(1, "phone", AGENT);

	/* the transporter collects from the agent, and is told her label */
	run_reply(MARY, "sent 3 0711000333", "market-sent-ok-transporter");
	has(0, "phone", HAULIER);
	is_notice(1, BUYER, "market-sent-buyer-transporter");
	has(1, "phone", HAULIER);
	is_notice(2, HAULIER, "market-sent-transporter");
	has_label(2, "name", MARY_LABEL);
	has(2, "phone", AGENT);
	has(2, "buyer", "Otieno");
	has(2, "buyer_phone", BUYER);
	no_errors();
}

/* The reminders name the member and give her agent's number too. */
Test(market, reminders_give_a_members_agents_phone)
{
	plugin_mock_member(m, MARY, MARY_LABEL, AGENT);
	run_reply(FARMER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(MARY, "buy 1 4", "market-order-ok");
	cr_assert_eq(timer(T0 + 2 * HOUR + 60), MB_OK);
	is_notice(0, FARMER, "market-reminder-seller");
	has_label(0, "name", MARY_LABEL);
	has(0, "phone", AGENT);

	mock_free(m);
	setup();
	plugin_mock_member(m, MARY, MARY_LABEL, AGENT);
	run_reply(MARY, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 4", "market-order-ok");
	run_reply(MARY, "accept 2", "market-accept-ok");
	run_reply(MARY, "sent 2", "market-sent-ok");
	cr_assert_eq(timer(T0 + 2 * DAY + 60), MB_OK);
	is_notice(0, BUYER, "market-reminder-buyer");
	has_label(0, "name", MARY_LABEL);
	has(0, "phone", AGENT);
}

/* A member without a phone sells: every step, every notice to her identity. */
Test(market, a_phoneless_member_sells_end_to_end)
{
	const struct mock_trade	*t;

	plugin_mock_member(m, MARY, MARY_LABEL, AGENT);
	run_reply(MARY, "sell maize 10 bags 3000", "market-offer-ok");
	none_to_the_agent();
	cr_assert_str_eq(db_text("SELECT msisdn FROM market_posts WHERE"
	    " ref = ?1", 1), MARY);
	run_reply(BUYER, "buy 1 4", "market-order-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, MARY, "market-order-seller");
	run_reply(MARY, "accept 2", "market-accept-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, BUYER, "market-accepted");
	run_reply(MARY, "sent 2", "market-sent-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, BUYER, "market-sent-buyer");
	cr_assert_eq(mock_ntrades(m), 0, "no trade before delivery");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, MARY, "market-delivered-seller");
	has(1, "name", "Otieno");
	none_to_the_agent();
	cr_assert_str_eq(order_state(2), "delivered");
	cr_assert_str_eq(db_text("SELECT seller || '|' || buyer FROM"
	    " market_orders WHERE ref = ?1", 2), MARY "|" BUYER);
	cr_assert_eq(mock_ntrades(m), 1);
	t = mock_trade(m, 0);
	cr_assert_eq(t->ref, 2);
	cr_assert_str_eq(t->seller, MARY);
	cr_assert_str_eq(t->buyer, BUYER);
	cr_assert_eq(t->total, 1200000LL, "4 bags at 3000.00: %lld", t->total);
	/* her lists are hers */
	run(MARY, "my");
	cr_assert_str_neq(sent(0)->tmpl, "market-my-empty");
	no_errors();
}

/* A member without a phone buys: the same, the other way round. */
Test(market, a_phoneless_member_buys_end_to_end)
{
	const struct mock_trade	*t;

	plugin_mock_member(m, MARY, MARY_LABEL, AGENT);
	run_reply(FARMER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(MARY, "buy 1 4", "market-order-ok");
	has(0, "name", "Wanjiru");
	has(0, "phone", FARMER);
	is_notice(1, FARMER, "market-order-seller");
	has_label(1, "name", MARY_LABEL);
	has(1, "phone", AGENT);
	run_reply(FARMER, "accept 2", "market-accept-ok");
	is_notice(1, MARY, "market-accepted");
	run_reply(FARMER, "sent 2", "market-sent-ok");
	is_notice(1, MARY, "market-sent-buyer");
	cr_assert_not_null(mock_arg(sent(1), "code"));
	run_reply(MARY, "delivered 2", "market-delivered-ok");
	cr_assert_eq(mock_nsent(m), 2);
	is_notice(1, FARMER, "market-delivered-seller");
	has_label(1, "name", MARY_LABEL);
	none_to_the_agent();
	cr_assert_str_eq(order_state(2), "delivered");
	cr_assert_eq(mock_ntrades(m), 1);
	t = mock_trade(m, 0);
	cr_assert_eq(t->ref, 2);
	cr_assert_str_eq(t->seller, FARMER);
	cr_assert_str_eq(t->buyer, MARY);
	cr_assert_eq(t->total, 1200000LL);

	/* and her cancel reaches the seller, her own order's notices her */
	run_reply(MARY, "buy 1 1", "market-order-ok");		/* 3 */
	run_reply(MARY, "cancel 3", "market-cancelled-order");
	is_notice(1, FARMER, "market-order-cancelled");
	has_label(1, "name", MARY_LABEL);
	no_errors();
}

/* trade_done: once, on delivery, with the total in minor units. */
Test(market, delivered_reports_the_trade_once_in_minor_units)
{
	const struct mock_trade	*t;

	run_reply(FARMER, "sell maize 10 bags 2999.50", "market-offer-ok");
	run_reply(BUYER, "buy 1 3", "market-order-ok");
	run_reply(FARMER, "accept 2", "market-accept-ok");
	run_reply(FARMER, "sent 2 0722000111", "market-sent-ok-transporter");
	cr_assert_eq(mock_ntrades(m), 0);
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(mock_ntrades(m), 1);
	t = mock_trade(m, 0);
	cr_assert_eq(t->ref, 2);
	cr_assert_str_eq(t->seller, FARMER);
	cr_assert_str_eq(t->buyer, BUYER);
	cr_assert_eq(t->total, 899850LL, "3 x 2999.50 = 8998.50: %lld",
	    t->total);
	cr_assert_eq(t->total, db_int("SELECT total FROM market_orders WHERE"
	    " ref = ?1", 2));
	/* delivered again, or by the transporter after: refused, not again */
	run(BUYER, "delivered 2");
	run(CARRIER, "delivered 2 0000");
	cr_assert_eq(mock_ntrades(m), 1, "one trade, reported once");
}

/* A failed trade record fails the delivery: it rolls back. */
Test(market, a_failed_trade_record_fails_the_delivery)
{
	order_in("sent");
	mock_clear(m);
	as(BUYER);
	mock_fail_trade_done(m, 1);
	cr_assert_eq(mock_command(m, "delivered 2"), MB_FAIL);
	mock_fail_trade_done(m, 0);
	cr_assert_str_eq(order_state(2), "sent");
	cr_assert_eq(mock_ntrades(m), 0);
}

/* contact() failing is a store failure: the order rolls back. */
Test(market, a_failed_contact_fails_the_message)
{
	plugin_mock_member(m, MARY, MARY_LABEL, AGENT);
	run_reply(MARY, "sell maize 10 bags 3000", "market-offer-ok");
	mock_clear(m);
	as(BUYER);
	mock_fail_contact(m, 1);
	cr_assert_eq(mock_command(m, "buy 1 4"), MB_FAIL);
	mock_fail_contact(m, 0);
	cr_assert_eq(left_of(1), 10);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders", 0), 0);
}

/*
 * A host older than contact() and trade_done() (its table's size ends
 * before them): the numbers are the identities, as before, and no trade
 * is reported.  The member is declared on Wanjiru's phone so that the
 * newer host would show the agent's number.
 */
static void
older_host_day(size_t size)
{
	mock_free(m);
	setup();
	plugin_mock_member(m, FARMER, "Wanjiru via Kiambogo point", AGENT);
	mock_host_size(m, size);
	run_reply(FARMER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(BUYER, "buy 1 4", "market-order-ok");
}

Test(market, an_older_host_gives_todays_texts)
{
	/* this host: the agent's number */
	older_host_day(sizeof(struct mb_host));
	has(0, "phone", AGENT);
	run_reply(FARMER, "accept 2", "market-accept-ok");
	run_reply(FARMER, "sent 2", "market-sent-ok");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(mock_ntrades(m), 1);

	/* a host without contact(): the seller's own number, no trade */
	older_host_day(offsetof(struct mb_host, contact));
	has(0, "phone", FARMER);
	has_label(0, "name", "Wanjiru via Kiambogo point");
	is_notice(1, FARMER, "market-order-seller");
	has(1, "phone", BUYER);
	run_reply(FARMER, "accept 2", "market-accept-ok");
	is_notice(1, BUYER, "market-accepted");
	has(1, "phone", FARMER);
	run_reply(FARMER, "sent 2 0711000333", "market-sent-ok-transporter");
	has(2, "phone", FARMER);
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_str_eq(order_state(2), "delivered");
	cr_assert_eq(mock_ntrades(m), 0, "trade_done is past its table");

	/* contact() but not trade_done(): the agent's number, no trade */
	older_host_day(offsetof(struct mb_host, trade_done));
	has(0, "phone", AGENT);
	run_reply(FARMER, "accept 2", "market-accept-ok");
	run_reply(FARMER, "sent 2", "market-sent-ok");
	run_reply(BUYER, "delivered 2", "market-delivered-ok");
	cr_assert_eq(mock_ntrades(m), 0);
}

/* --- questions: a price far off the usual one, a number read two ways ------------------
 *
 * Far off: confirm-ratio (10) times above or below the median of the
 * recent posts (at least confirm-posts, 5) of the commodity at the
 * market.  A question is a reply whose command YES runs; the mock's
 * confirmed() stands for that YES.
 */

static long long
posts(void)
{
	return db_int("SELECT count(*) FROM market_posts", 0);
}

/* Five posts of maize at Nakuru, offers and wants: the usual price 3050. */
static void
usual_3050(void)
{
	run_reply(FARMER, "sell maize 10 bags 2900", "market-offer-ok");
	run_reply(TRADER, "sell maize 5 bags 3100", "market-offer-ok");
	run_reply(BUYER, "want maize 5 bags 3000", "market-want-ok");
	run_reply(STRANGER, "want maize 2 bags 3050", "market-want-ok");
	run_reply(TRADER, "sell maize 1 bag 3200", "market-offer-ok");
	cr_assert_eq(posts(), 5);
}

/* The one reply was a question: its template and what YES runs. */
static void
is_question(const char *tmpl, const char *command)
{
	cr_assert_eq(mock_nsent(m), 1, "%zu sent", mock_nsent(m));
	is_reply(0, tmpl);
	cr_assert_not_null(sent(0)->command, "%s is no question", tmpl);
	cr_assert_str_eq(sent(0)->command, command);
}

Test(market, far_above_the_usual_price_is_asked)
{
	usual_3050();
	cr_assert_eq(run(FARMER, "sell maize 10 bags 305000"), MB_OK);
	is_question("market-confirm-high", "SELL maize 10 bag 305000 nakuru");
	has(0, "times", "100");
	has(0, "usual", "3050");
	has(0, "price", "305000");
	has(0, "commodity", "maize");
	has(0, "market", "Nakuru");
	has(0, "currency", "KES");
	cr_assert_eq(posts(), 5, "posted before YES");
	/* YES: the command runs again, confirmed, and posts as typed */
	mock_confirmed(m, 1);
	run_reply(FARMER, "SELL maize 10 bag 305000 nakuru", "market-offer-ok");
	has(0, "price", "305000");
	cr_assert_eq(posts(), 6);
	cr_assert_eq(db_int("SELECT price FROM market_posts WHERE ref = ?1",
	    6), 30500000);
}

Test(market, far_below_the_usual_price_is_asked)
{
	usual_3050();
	cr_assert_eq(run(BUYER, "want maize 5 bags 30"), MB_OK);
	is_question("market-confirm-low", "WANT maize 5 bag 30 nakuru");
	cr_assert_null(mock_arg(sent(0), "times"));
	has(0, "usual", "3050");
	has(0, "price", "30");
	cr_assert_eq(posts(), 5);
	/* prices with cents are written back as they read */
	cr_assert_eq(run(BUYER, "want maize 5 bags 2.50 mombasa"), MB_OK);
	cr_assert_str_eq(sent(0)->tmpl, "market-want-ok", "no data at "
	    "Mombasa: nothing to compare with");
	cr_assert_eq(run(BUYER, "want maize 5 bags 2.50"), MB_OK);
	is_question("market-confirm-low", "WANT maize 5 bag 2.50 nakuru");
	mock_confirmed(m, 1);
	run_reply(BUYER, "WANT maize 5 bag 2.50 nakuru", "market-want-ok");
	has(0, "price", "2.50");
}

/* Within the ratio, or with too few posts to know, it posts at once. */
Test(market, near_the_usual_price_or_without_one_is_posted)
{
	run_reply(FARMER, "sell maize 10 bags 2900", "market-offer-ok");
	run_reply(TRADER, "sell maize 5 bags 3100", "market-offer-ok");
	run_reply(BUYER, "want maize 5 bags 3000", "market-want-ok");
	run_reply(STRANGER, "want maize 2 bags 3050", "market-want-ok");
	/* four posts: too few for a usual price */
	run_reply(FARMER, "sell maize 10 bags 305000", "market-offer-ok");
	/* cancelled posts do not count */
	run_reply(FARMER, "cancel 5", "market-cancelled-offer");
	run_reply(FARMER, "sell maize 10 bags 305000", "market-offer-ok");
	run_reply(FARMER, "cancel 6", "market-cancelled-offer");
	/* five: 3050; the ratio's edges */
	run_reply(TRADER, "sell maize 1 bag 3200", "market-offer-ok");
	run_reply(FARMER, "sell maize 1 bag 30499", "market-offer-ok");
	run(FARMER, "sell maize 1 bag 30500");
	is_question("market-confirm-high", "SELL maize 1 bag 30500 nakuru");
	has(0, "times", "10");
	run_reply(FARMER, "sell maize 1 bag 306", "market-offer-ok");
	run(FARMER, "sell maize 1 bag 305");
	is_question("market-confirm-low", "SELL maize 1 bag 305 nakuru");
	/* another commodity has no usual price yet */
	run_reply(FARMER, "sell beans 1 kg 999999", "market-offer-ok");
}

/* Posts older than confirm-window are not the usual price any more. */
Test(market, the_usual_price_is_recent, .init = setup_conf_only,
    .fini = teardown)
{
	mock_conf(m, "confirm-window", "2d");
	mock_conf(m, "confirm-posts", "3");
	mock_conf(m, "confirm-ratio", "4");
	cr_assert_eq(mock_init(m), MB_OK);
	run_reply(FARMER, "sell maize 10 bags 3000", "market-offer-ok");
	run_reply(TRADER, "sell maize 5 bags 3000", "market-offer-ok");
	run_reply(BUYER, "want maize 5 bags 3000", "market-want-ok");
	run(FARMER, "sell maize 10 bags 12000");
	is_question("market-confirm-high", "SELL maize 10 bag 12000 nakuru");
	has(0, "times", "4");
	mock_set_now(m, T0 + 3 * DAY);
	run_reply(FARMER, "sell maize 10 bags 12000", "market-offer-ok");
}

Test(market, confirm_ratio_0_never_asks, .init = setup_conf_only,
    .fini = teardown)
{
	mock_conf(m, "confirm-ratio", "0");
	cr_assert_eq(mock_init(m), MB_OK);
	usual_3050();
	run_reply(FARMER, "sell maize 10 bags 305000", "market-offer-ok");
}

/* A BUY from an offer priced far off is asked; YES orders. */
Test(market, buy_far_off_is_asked)
{
	usual_3050();
	mock_confirmed(m, 1);
	run_reply(FARMER, "sell maize 10 bags 305000", "market-offer-ok");
	mock_confirmed(m, 0);
	/* the median leaves the offer itself out */
	cr_assert_eq(run(BUYER, "buy 6 2"), MB_OK);
	is_question("market-confirm-buy-high", "BUY 6 2");
	has(0, "ref", "6");
	has(0, "times", "100");
	has(0, "usual", "3050");
	has(0, "qty", "2");
	has(0, "unit", "bag");
	has(0, "total", "610000");
	has(0, "market", "Nakuru");
	cr_assert_eq(left_of(6), 10, "reserved before YES");
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders", 0), 0);
	mock_confirmed(m, 1);
	run_reply(FARMER, "sell maize 10 bags 30", "market-offer-ok");
	mock_confirmed(m, 0);
	run(BUYER, "buy 7 3");
	has(0, "usual", "3050");
	is_question("market-confirm-buy-low", "BUY 7 3");
	has(0, "total", "90");
	cr_assert_null(mock_arg(sent(0), "times"));
	/* the usual offer: ordered at once */
	run_reply(BUYER, "buy 1 1", "market-order-ok");
	mock_confirmed(m, 1);
	run_reply(BUYER, "BUY 6 2", "market-order-ok");
	cr_assert_eq(left_of(6), 8);
}

/*
 * A price word that reads two ways is asked whatever the usual price;
 * YES posts the reading arg() gives.  A second reading of another word
 * is not the plugin's question.
 */
Test(market, a_price_read_two_ways_is_asked)
{
	mock_arg_other(m, 3, "2.5");
	cr_assert_eq(run(FARMER, "sell maize 10 bags 2500"), MB_OK);
	is_question("market-confirm-reading", "SELL maize 10 bag 2500 nakuru");
	has(0, "price", "2500");
	has(0, "other", "2.5");
	has(0, "unit", "bag");
	has(0, "currency", "KES");
	cr_assert_eq(posts(), 0);
	/* without the unit the price is word 2 */
	mock_arg_other(m, 3, NULL);
	mock_arg_other(m, 2, "2.5");
	run(BUYER, "want maize 5 2500 mombasa");
	is_question("market-confirm-reading", "WANT maize 5 bag 2500 mombasa");
	mock_arg_other(m, 2, NULL);
	mock_arg_other(m, 1, "1.5");
	run_reply(FARMER, "sell maize 1500 bags 3000", "market-offer-ok");
	mock_arg_other(m, 1, NULL);
	/* YES */
	mock_arg_other(m, 3, "2.5");
	mock_confirmed(m, 1);
	run_reply(FARMER, "SELL maize 10 bag 2500 nakuru", "market-offer-ok");
	cr_assert_eq(db_int("SELECT price FROM market_posts WHERE ref = ?1",
	    2), 250000);
}

/* --- conf -------------------------------------------------------------------------------------------- */

Test(market, conf_values, .init = setup_conf_only,
    .fini = teardown)
{
	static const struct {
		const char	*key, *value;
	} bad[] = {
		{ "offer-lifetime", "7x" }, { "offer-lifetime", "10s" },
		{ "order-remind", "" }, { "order-expire", "400d" },
		{ "delivery-remind", "soon" }, { "sweep-interval", "0" },
		{ "match-scope", "world" }, { "max-matches", "11" },
		{ "max-matches", "-1" }, { "code-tries", "0" },
		{ "code-tries", "3x" }, { "order-remind", "2d" },
		{ "confirm-ratio", "1" }, { "confirm-ratio", "1001" },
		{ "confirm-posts", "0" }, { "confirm-window", "10m" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup_conf_only();
		mock_conf(m, bad[i].key, bad[i].value);
		cr_assert_eq(mock_init(m), MB_FAIL, "%s = %s", bad[i].key,
		    bad[i].value);
		cr_assert_geq(mock_nlogs(m), 1);
		cr_assert_eq(mock_log_at(m, mock_nlogs(m) - 1)[0], '3');
	}
	setup_conf_only();
	mock_conf(m, "offer-lifetime", "1d");
	mock_conf(m, "order-remind", "30m");
	mock_conf(m, "order-expire", "1h");
	mock_conf(m, "delivery-remind", "1d");
	mock_conf(m, "match-scope", "region");
	cr_assert_eq(mock_init(m), MB_OK);
	order_in("pending");
	cr_assert_str_eq(db_text("SELECT remind_at || '|' || expires_at FROM"
	    " market_orders", 0), "1700001800|1700003600");
	cr_assert_eq(db_int("SELECT expires FROM market_posts", 0), T0 + DAY);
}

/* --- the language files --------------------------------------------------------------------------------
 *
 * A tour through every situation the plugin answers, collecting what it
 * sends; then each template it sent must be in every shipped language,
 * with every placeholder its text uses among the arguments, and render
 * within one SMS.  And every market-* template of en.conf must have been
 * sent by the tour (none is dead, none untested).
 */

static void
tour(void)
{
	char	 text[64], code[8];

	collecting = 1;
	/* posts, matches, refusals of SELL */
	run(FARMER, "my");
	run(BUYER, "want maize 5 3200");			/* 1 */
	run(FARMER, "sell maize 10 bags 3000");			/* 2 */
	run(BUYER, "want maize 5 3100");			/* 3 */
	run(FARMER, "sell maiz 10 3000");
	run(FARMER, "sell rocks 10 3000");
	run(FARMER, "sell maize 0 3000");
	run(FARMER, "sell maize 10 kg 3000");
	run(FARMER, "sell maize 10 bags 0");
	run(FARMER, "sell maize 10 3000 atlantis");
	mock_clear(m);
	mock_sender(m, TRADER, "Kamau", NULL, "en", MB_ROLE_FARMER);
	mock_command(m, "sell maize 1 3000");
	collect();
	/* BUY and its refusals */
	run(BUYER, "buy 2 4");					/* 4 */
	run(FARMER, "buy 2 1");
	run(BUYER, "buy 1 1");
	run(BUYER, "buy 4 1");
	run(BUYER, "buy 99 1");
	run(BUYER, "buy 2 100");
	run(FARMER, "sell maize 1000000 1000000000");		/* 5 */
	run(BUYER, "buy 5 1000000");
	run(FARMER, "cancel 5");
	/* answers and refusals on order 4 */
	run(BUYER, "accept 4");
	run(STRANGER, "accept 4");
	run(FARMER, "accept 2");
	run(FARMER, "accept 4");
	run(FARMER, "accept 4");
	run(FARMER, "sent 4 xyz");
	/* a local number where marketbox has no country-code */
	mock_no_country_code(m, 1);
	run(FARMER, "sent 4 0722000111");
	mock_no_country_code(m, 0);
	run(FARMER, "delivered 4");
	run(FARMER, "sent 4 +1900555000111");
	run(FARMER, "sent 4 0722000111");
	snprintf(code, sizeof(code), "%s", mock_arg(sent(1), "code"));
	run(CARRIER, "delivered 4");
	snprintf(text, sizeof(text), "delivered 4 %04d",
	    (atoi(code) + 1) % 10000);
	run(CARRIER, text);
	snprintf(text, sizeof(text), "delivered 4 %s", code);
	run(CARRIER, text);
	run(FARMER, "my");
	/* another order: rejected with and without a reason */
	run(BUYER, "buy 2 1");					/* 6 */
	run(FARMER, "reject 6 sold at the farm");
	run(BUYER, "buy 2 1");					/* 7 */
	run(FARMER, "reject 7");
	/* cancelled */
	run(BUYER, "buy 2 1");					/* 8 */
	run(BUYER, "cancel 8");
	run(FARMER, "cancel 1");
	run(BUYER, "cancel 1");
	run(BUYER, "cancel 3");
	/* sent without a transporter, reminders, the code locked */
	run(BUYER, "buy 2 1");					/* 9 */
	run(FARMER, "accept 9");
	run(FARMER, "sent 9");
	run(BUYER, "buy 2 1");					/* 10 */
	run(FARMER, "accept 10");
	run(FARMER, "sent 10 0711000333");
	snprintf(code, sizeof(code), "%s", mock_arg(sent(1), "code"));
	snprintf(text, sizeof(text), "delivered 10 %04d",
	    (atoi(code) + 1) % 10000);
	run(HAULIER, text);
	run(HAULIER, text);
	run(HAULIER, text);
	run(BUYER, "delivered 10");
	run(BUYER, "buy 2 1");					/* 11 */
	run(BUYER, "my");
	run(BUYER, "want beans 5 100");				/* 12 */
	timer(T0 + 3 * HOUR);
	timer(T0 + 3 * DAY);
	timer(T0 + 8 * DAY);
	/* an order expired, then a post */
	mock_set_now(m, T0 + 9 * DAY);
	run(FARMER, "sell maize 1 3000");			/* 13 */
	run(BUYER, "buy 13 1");					/* 14 */
	timer(T0 + 11 * DAY);
	/* what a number is not, and each order refusal by state */
	mock_set_now(m, T0 + 11 * DAY);
	run(FARMER, "sell maize 5 3000 nakru");
	run(FARMER, "sell maize 5 3000");			/* 15 */
	run(BUYER, "want maize 9 2000");			/* 16 */
	run(BUYER, "accept 15");
	run(TRADER, "accept 16");
	run(TRADER, "buy 2 1");
	run(FARMER, "cancel 2");
	run(FARMER, "accept 14");
	run(BUYER, "buy 15 2");					/* 17 */
	run(FARMER, "sent 17");
	/* with payments taken: the buyer told where to pay */
	mock_pay_to(m, "512345");
	run(FARMER, "accept 17");
	mock_pay_to(m, NULL);
	run(BUYER, "sent 17");
	run(FARMER, "my");
	run(FARMER, "my 2");
	run(FARMER, "my 3");
	run(FARMER, "sent 17");
	run(BUYER, "cancel 17");
	run(FARMER, "cancel 17");
	run(BUYER, "my");
	run(BUYER, "my 2");
	run(BUYER, "my 9");
	run(BUYER, "delivered 17");
	run(BUYER, "delivered 17");
	run(BUYER, "buy 15 3");					/* 18 */
	run(FARMER, "reject 18");
	run(FARMER, "accept 18");
	run(BUYER, "buy 15 3");					/* 19 */
	run(TRADER, "buy 15 1");
	run(BUYER, "cancel 19");
	run(BUYER, "cancel 19");
	run(FARMER, "cancel 15");
	run(FARMER, "cancel 15");
	/* questions: a price read two ways; far off the usual price */
	mock_arg_other(m, 3, "2.5");
	run(FARMER, "sell maize 10 bags 2500");
	mock_arg_other(m, 3, NULL);
	run(TRADER, "sell maize 5 bags 3000");			/* 20 */
	run(TRADER, "sell maize 5 bags 3100");			/* 21 */
	run(TRADER, "sell maize 5 bags 2900");			/* 22 */
	run(FARMER, "sell maize 1000 bags 1000000000");
	run(FARMER, "sell maize 1000 bags 0.01");
	mock_confirmed(m, 1);
	run(FARMER, "sell maize 1000000 bags 1000000000");	/* 23 */
	run(FARMER, "sell maize 1000000 bags 0.01");		/* 24 */
	mock_confirmed(m, 0);
	run(BUYER, "buy 23 100");
	run(BUYER, "buy 24 1000000");
	collecting = 0;
}

/* The market-* template names of a language file, NULL-terminated. */
static char **
file_templates(const char *path, size_t *n)
{
	FILE	*fp = fopen(path, "r");
	char	 line[1024], **names = NULL;

	cr_assert_not_null(fp, "%s", path);
	*n = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char	*p;

		if (strncmp(line, "name = market-", 14) != 0)
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

static void
lang_setup(void)
{
	market_lang_open();
	setup();
}

static void
lang_teardown(void)
{
	teardown();
	market_lang_seen_free();
	market_lang_close();
}

/* The numbers each count is tried with, for plural forms and lengths. */
static const char	*counts[] = { "0", "1", "2", "5", "21", "1000" };
static const char	*count_names[] = { "qty", "left", "more", "pages",
	"buy" };

Test(market_lang, every_template_in_every_language_fits,
    .init = lang_setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	char			**names;
	size_t			 n, i, l, k, c;

	tour();
	cr_assert_gt(market_nseen, 50);
	for (i = 0; i < market_nseen; i++) {
		const struct market_seen	*s = &market_seen[i];

		if (strncmp(s->tmpl, "usage-", 6) == 0)
			continue;
		cr_assert(strncmp(s->tmpl, "market-", 7) == 0, "%s", s->tmpl);
		for (l = 0; l < 4; l++) {
			const char	*t, *en;

			t = lang_template(market_lang_shipped, codes[l], s->tmpl);
			en = lang_template(market_lang_shipped, "en", s->tmpl);
			cr_assert_not_null(t, "%s lacks %s", codes[l], s->tmpl);
			if (l > 0)
				cr_assert(t != en, "%s falls back for %s",
				    codes[l], s->tmpl);
			/* as sent, then with each count at each number */
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
	/* every template of the files was sent or rendered by the tour */
	names = file_templates(TEST_SRCDIR "/../conf/lang/en.conf", &n);
	cr_assert_geq(n, 50);
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
		/* the separator joins items: none is captured alone */
		found |= strcmp(names[i], "market-list-sep") == 0;
		/* pools' are test_market_pool's tour, share orders' and
		   OFFER's test_market_pool_order's */
		found |= strncmp(names[i], "market-pool-", 12) == 0 ||
		    strncmp(names[i], "market-share-", 13) == 0;
		/* tier prices: test_market_tier's own tour */
		found |= strncmp(names[i], "market-tier-", 12) == 0 ||
		    strstr(names[i], "-tiers") != NULL;
		/* the timers' ends of accepted and sent orders:
		   test_market_timers' own tour */
		found |= strcmp(names[i], "market-reminder-send") == 0 ||
		    strncmp(names[i], "market-unsent-", 14) == 0 ||
		    strncmp(names[i], "market-auto-delivered-", 22) == 0;
		/* reputation: test_market_rep's own tour */
		found |= strncmp(names[i], "market-rep", 10) == 0 ||
		    strncmp(names[i], "market-info-", 12) == 0 ||
		    strncmp(names[i], "market-rate-", 12) == 0 ||
		    strstr(names[i], "-rep") != NULL;
		/* disputes: test_market_dispute's own tour */
		found |= strncmp(names[i], "market-problem-", 15) == 0 ||
		    strncmp(names[i], "market-dispute-", 15) == 0;
		/* hubs and legs: test_market_leg's own tour */
		found |= strncmp(names[i], "market-leg-", 11) == 0;
		/* the hubs' manifest: test_market_manifest's own tour */
		found |= strncmp(names[i], "market-manifest", 15) == 0;
		/* money paid outside the provider (PAID, RECEIVED, cash at
		   DELIVERED): test_market_pay's own tour */
		found |= strncmp(names[i], "market-paid-", 12) == 0 ||
		    strncmp(names[i], "market-received-", 16) == 0 ||
		    strcmp(names[i], "market-pay-unavailable") == 0 ||
		    (strncmp(names[i], "market-delivered-", 17) == 0 &&
		    strstr(names[i], "-cash") != NULL);
		cr_assert(found, "the tour never used %s", names[i]);
		for (l = 1; l < 4; l++)
			cr_assert_not_null(lang_template(market_lang_shipped, codes[l],
			    names[i]), "%s lacks %s", codes[l], names[i]);
		free(names[i]);
	}
	free(names);
}
