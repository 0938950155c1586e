/*
 * test_prices.c - the prices plugin (plugins/prices), run through the mock
 * host (plugin_mock.c): its text helpers; the board's median, low, high,
 * count, freshness and trend against hand-computed tables; windows, empty
 * data, markets and aliases, unknown markets and commodities; REPORT with
 * agents and outliers held; ALERT subscriptions; threshold crossings told
 * once and re-armed; the daily bulletin in batches with its cursor, local
 * time and STOP; the conf checked at init; the board's queries on their
 * covering index.  Then the texts people read (a host that renders the
 * shipped language files and catalogue): the board in plain words in four
 * languages, fitted into one SMS, the offers without prices, the bulletin
 * and alerts saying how to stop them; and every shipped template complete
 * and within one SMS.
 *
 * The clock is the mock's: NOW below, 2023-11-14 22:13:20 UTC.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "text/render.h"

#include "plugin_mock.h"
#include "plugins/prices/prices.h"
#include "store/store.h"
#ifdef HAVE_POSTGRESQL
#include "pg_fixture.h"
#endif

#define SHIPPED		TEST_SRCDIR "/../conf/lang"
/*
 * A timer run ends its batch after PRICES_RUN_MS of wall time; these tests
 * check what a run sends, on machines of any speed, so every set-up gives
 * it a minute (a_slow_run_leaves_the_rest_to_the_next sets -1).
 */
#define TEST_RUN_MS	60000
#define NOW		1700000000LL
#define HOUR		3600LL
#define DAY		86400LL

#define WANJIRU		"+254700000001"		/* the mock's default sender */
#define OTIENO		"+254700000002"

/* plugins/prices, compiled into this program */
extern const struct mb_plugin marketbox_plugin;

static struct mock	*m;

/* The market plugin's table, as plugins/market keeps its posts. */
static const char posts_sql[] =
    "CREATE TABLE market_posts ("
    "  ref INTEGER PRIMARY KEY, kind TEXT NOT NULL, msisdn TEXT NOT NULL,"
    "  commodity TEXT NOT NULL, unit TEXT NOT NULL, market TEXT,"
    "  qty INTEGER NOT NULL, qty_left INTEGER NOT NULL,"
    "  price INTEGER NOT NULL, state TEXT NOT NULL,"
    "  created INTEGER NOT NULL, expires INTEGER)";

static void
sql(const char *s)
{
	char	*err = NULL;

	if (sqlite3_exec(mock_db(m), s, NULL, NULL, &err) != SQLITE_OK)
		cr_assert_fail("%s: %s", s, err ? err : "?");
}

/* One integer (or -1 for no row) from a query. */
static long long
sql_int(const char *s)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(mock_db(m), s, -1, &st, NULL),
	    SQLITE_OK, "%s: %s", s, sqlite3_errmsg(mock_db(m)));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Run q with ?1, ?2 ... bound to the values after types, one letter each:
 * 't' a string, 'i' a long long.
 */
static void
sql_bind(const char *q, const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 i;

	cr_assert_eq(sqlite3_prepare_v2(mock_db(m), q, -1, &st, NULL),
	    SQLITE_OK, "%s: %s", q, sqlite3_errmsg(mock_db(m)));
	va_start(ap, types);
	for (i = 0; types[i] != '\0'; i++)
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *),
			    -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
	va_end(ap);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s: %s", q,
	    sqlite3_errmsg(mock_db(m)));
	sqlite3_finalize(st);
}

/* A report row as if REPORTed at time created (prices in cents). */
static void
report_row(const char *commodity, const char *market, long long cents,
    int agent, const char *status, long long created)
{
	sql_bind("INSERT INTO prices_reports (commodity, market, price, "
	    "msisdn, agent, status, created) VALUES (?1, ?2, ?3, "
	    "'+254711000000', ?4, ?5, ?6)", "ttiiti", commodity, market, cents,
	    (long long)agent, status, created);
}

static void
user_row(const char *msisdn, const char *market, int opt_out)
{
	/* the core's users table, under the mock's store: the host reads
	   opt_out */
	sql_bind("INSERT OR REPLACE INTO users (msisdn, name, market, opt_out,"
	    " created, updated) VALUES (?1, 'x', ?2, ?3, 0, 0)", "tti", msisdn,
	    market, (long long)opt_out);
}

static void
setup(void)
{
	prices_run_ms = TEST_RUN_MS;
	m = mock_new(&marketbox_plugin);
	mock_set_now(m, NOW);
}

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
}

/* Run text; it must return rc and make exactly one reply; return it. */
static const struct mock_msg *
run(const char *text, int rc)
{
	const struct mock_msg	*r;

	mock_clear(m);
	cr_assert_eq(mock_command(m, text), rc, "%s", text);
	cr_assert_eq(mock_nsent(m), 1, "%s: %zu messages", text,
	    mock_nsent(m));
	r = mock_sent(m, 0);
	cr_assert_null(r->to, "%s: a reply, not a notice", text);
	return r;
}

/* Assert argument name of msg is want (NULL: no such argument). */
static void
arg_is(const struct mock_msg *msg, const char *name, const char *want)
{
	const char	*got = mock_arg(msg, name);

	if (want == NULL)
		cr_assert_null(got, "%s: {%s} = '%s', want none", msg->tmpl,
		    name, got);
	else {
		cr_assert_not_null(got, "%s: no {%s}", msg->tmpl, name);
		cr_assert_str_eq(got, want, "%s: {%s} = '%s', want '%s'",
		    msg->tmpl, name, got, want);
	}
}

static void
tmpl_is(const struct mock_msg *msg, const char *want)
{
	cr_assert_str_eq(msg->tmpl, want, "template %s, want %s", msg->tmpl,
	    want);
}

/* A bulletin's {board} (as the mock renders it) contains want. */
static void
board_is(const struct mock_msg *msg, const char *want)
{
	const char	*board = mock_arg(msg, "board");

	cr_assert_not_null(board, "%s: no {board}", msg->tmpl);
	cr_assert(strstr(board, want) != NULL, "{board} '%s' lacks '%s'",
	    board, want);
}

/*
 * The hand-computed table of the README's example: maize at Nakuru.
 *
 *	this window (NOW - 7d, NOW]:	2900 (2h ago), 3000, 3050, 3100, 3200
 *	    sorted: 2900 3000 [3050] 3100 3200 -> median 3050, n 5
 *	the window before:		2800, 3000 -> median (2800 + 3000) / 2
 *					= 2900
 *	trend: (3050 - 2900) * 100 / 2900 = 5.17 -> +5%
 *
 * and what must not count: a held report, another market, another
 * commodity, a report older than two windows.
 */
static void
nakuru_table(void)
{
	report_row("maize", "nakuru", 290000, 0, "ok", NOW - 2 * HOUR);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW - 3 * HOUR);
	report_row("maize", "nakuru", 305000, 0, "ok", NOW - DAY);
	report_row("maize", "nakuru", 310000, 0, "ok", NOW - 2 * DAY);
	report_row("maize", "nakuru", 320000, 0, "ok", NOW - 6 * DAY);
	report_row("maize", "nakuru", 280000, 0, "ok", NOW - 8 * DAY);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW - 13 * DAY);
	report_row("maize", "nakuru", 999900, 0, "held", NOW - HOUR);
	report_row("maize", "mombasa", 100000, 0, "ok", NOW - HOUR);
	report_row("beans", "nakuru", 100000, 0, "ok", NOW - HOUR);
	report_row("maize", "nakuru", 100, 0, "ok", NOW - 15 * DAY);
}

TestSuite(prices, .init = setup, .fini = teardown);

/* --- the descriptor and the conf ---------------------------------------- */

Test(prices, descriptor)
{
	const struct mb_plugin	*p = &marketbox_plugin;
	static const char * const keys[] = { "window", "agent-weight",
	    "outlier-ratio", "bulletin-hour", "utc-offset", "batch",
	    "bulletin-now" };
	size_t			 i;

	cr_assert_str_eq(p->name, "prices");
	cr_assert_eq(p->ncommands, 3);
	cr_assert_str_eq(p->commands[0].id, "PRICE");
	cr_assert_eq(p->commands[0].flags, 0, "PRICE is for anyone");
	cr_assert_str_eq(p->commands[1].id, "REPORT");
	cr_assert_eq(p->commands[1].flags, MB_CMD_REGISTERED);
	cr_assert_str_eq(p->commands[2].id, "ALERT");
	cr_assert_eq(p->commands[2].flags, MB_CMD_REGISTERED);
	cr_assert_eq(p->ntimers, 1);
	cr_assert_eq(p->timers[0].interval, 10);
	cr_assert_eq(p->nmigrations, 3);
	cr_assert_eq(p->nconf_keys, sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < p->nconf_keys; i++)
		cr_assert_str_eq(p->conf_keys[i], keys[i]);
}

Test(prices, conf_defaults)
{
	struct prices_state	*ps;

	cr_assert_eq(mock_init(m), MB_OK);
	ps = mock_state(m);
	cr_assert_eq(ps->conf.window, 7 * DAY);
	cr_assert_eq(ps->conf.agent_weight, 2);
	cr_assert_eq(ps->conf.ratio100, 300);
	cr_assert_eq(ps->conf.bulletin_hour, 7);
	cr_assert_eq(ps->conf.utc_offset, 0);
	cr_assert_eq(ps->conf.batch, 500);
	cr_assert_eq(ps->conf.bulletin_now, 0);
}

Test(prices, conf_values)
{
	struct prices_state	*ps;

	mock_conf(m, "window", "24h");
	mock_conf(m, "agent-weight", "3");
	mock_conf(m, "outlier-ratio", "2.5");
	mock_conf(m, "bulletin-hour", "18");
	mock_conf(m, "utc-offset", "+5:30");
	mock_conf(m, "batch", "2");
	mock_conf(m, "bulletin-now", "yes");
	cr_assert_eq(mock_init(m), MB_OK);
	ps = mock_state(m);
	cr_assert_eq(ps->conf.window, DAY);
	cr_assert_eq(ps->conf.agent_weight, 3);
	cr_assert_eq(ps->conf.ratio100, 250);
	cr_assert_eq(ps->conf.bulletin_hour, 18);
	cr_assert_eq(ps->conf.utc_offset, 5 * HOUR + 1800);
	cr_assert_eq(ps->conf.batch, 2);
	cr_assert_eq(ps->conf.bulletin_now, 1);
}

/* Every bad value stops the plugin (and marketbox) at start, logged. */
Test(prices, conf_refused)
{
	static const struct { const char *key, *value; } bad[] = {
		{ "window", "7x" }, { "window", "0" }, { "window", "30s" },
		{ "agent-weight", "0" }, { "agent-weight", "11" },
		{ "agent-weight", "2.5" }, { "outlier-ratio", "1" },
		{ "outlier-ratio", "-3" }, { "outlier-ratio", "x" },
		{ "bulletin-hour", "24" }, { "bulletin-hour", "" },
		{ "utc-offset", "+15" }, { "utc-offset", "3h" },
		{ "utc-offset", "+3:75" }, { "batch", "0" },
		{ "batch", "100000" }, { "bulletin-now", "maybe" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mock_free(m);
		m = mock_new(&marketbox_plugin);
		mock_conf(m, bad[i].key, bad[i].value);
		cr_assert_eq(mock_init(m), MB_FAIL, "%s = %s", bad[i].key,
		    bad[i].value);
		cr_assert_null(mock_state(m));
		cr_assert_eq(mock_nlogs(m), 1);
		cr_assert(strstr(mock_log_at(m, 0), bad[i].key) != NULL,
		    "%s", mock_log_at(m, 0));
	}
}

/* --- the text helpers --------------------------------------------------- */

Test(prices, money_parse)
{
	static const struct { const char *in; long long want; } t[] = {
		{ "3000", 300000 }, { "2.50", 250 }, { "2.5", 250 },
		{ "2,5", 250 }, { "0.05", 5 }, { "3,000", 300000 },
		{ "3,000.50", 300050 }, { "1.000.000", 100000000 },
		{ "3000/=", 300000 }, { "80/-", 8000 }, { "2.505", 250500 },
		{ "1000000000", 100000000000LL },
		{ "2.505.1", 250510 }, { "0", -1 }, { "0.00", -1 },
		{ "2.5050", -1 },
		{ "1000000001", -1 }, { "99999999999", -1 }, { "", -1 },
		{ "abc", -1 }, { "-5", -1 }, { "3000kes", -1 }, { "2.", -1 },
		{ ".5", -1 }, { "3 000", -1 },
		/* issue 12: real decimals are never thousands */
		{ "3000.505", -1 }, { "0.050", -1 }, { "0,500", -1 },
		{ "1234,567", -1 }, { "3000.50", 300050 }, { "0.50", 50 },
	};
	long long	 v;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = -1;
		if (prices_text_money_parse(t[i].in, &v) == -1)
			v = -1;
		cr_assert_eq(v, t[i].want, "'%s': %lld, want %lld", t[i].in,
		    v, t[i].want);
	}
	cr_assert_eq(prices_text_money_parse(NULL, &v), -1);
}

Test(prices, money_shown)
{
	static const struct { long long in; const char *want; } t[] = {
		{ 300000, "3000" }, { 250, "2.50" }, { 5, "0.05" },
		{ 305001, "3050.01" }, { 100, "1" }, { 0, "0" },
		{ 100000000000LL, "1000000000" }, { -250, "-2.50" },
	};
	char	 buf[32];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		prices_text_money(t[i].in, buf, sizeof(buf));
		cr_assert_str_eq(buf, t[i].want);
	}
}

Test(prices, durations_ages_offsets)
{
	static const struct { long long s; char unit; long long n; } age[] = {
		{ 0, 'm', 1 }, { 119, 'm', 1 }, { 120, 'm', 2 },
		{ HOUR - 1, 'm', 59 }, { HOUR, 'h', 1 }, { DAY - 1, 'h', 23 },
		{ DAY, 'd', 1 }, { 13 * DAY + 5, 'd', 13 },
	};
	long long	 off, n;
	size_t		 i;

	cr_assert_eq(prices_text_duration_parse("7d"), 7 * DAY);
	cr_assert_eq(prices_text_duration_parse("24h"), DAY);
	cr_assert_eq(prices_text_duration_parse("90m"), 5400);
	cr_assert_eq(prices_text_duration_parse("3600"), HOUR);
	cr_assert_eq(prices_text_duration_parse("45s"), 45);
	cr_assert_eq(prices_text_duration_parse("367d"), -1);
	cr_assert_eq(prices_text_duration_parse("7 d"), -1);
	cr_assert_eq(prices_text_duration_parse("d"), -1);
	/* a window: the largest unit that divides it */
	cr_assert_eq(prices_text_span(7 * DAY, 1, &n), 'd');
	cr_assert_eq(n, 7);
	cr_assert_eq(prices_text_span(36 * HOUR, 1, &n), 'h');
	cr_assert_eq(n, 36);
	cr_assert_eq(prices_text_span(5400, 1, &n), 'm');
	cr_assert_eq(n, 90);
	cr_assert_eq(prices_text_span(DAY + 60, 1, &n), 'm');
	cr_assert_eq(n, 1441);
	cr_assert_eq(prices_text_span(61, 1, &n), 'm');
	cr_assert_eq(n, 1);

	/* an age: minutes (at least 1) under an hour, hours under a day,
	   then days, rounded down */
	for (i = 0; i < sizeof(age) / sizeof(age[0]); i++) {
		cr_assert_eq(prices_text_span(age[i].s, 0, &n), age[i].unit,
		    "%lld s", age[i].s);
		cr_assert_eq(n, age[i].n, "%lld s: %lld", age[i].s, n);
	}

	cr_assert_eq(prices_text_offset_parse("+3", &off), 0);
	cr_assert_eq(off, 3 * HOUR);
	cr_assert_eq(prices_text_offset_parse("-5", &off), 0);
	cr_assert_eq(off, -5 * HOUR);
	cr_assert_eq(prices_text_offset_parse("0", &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(prices_text_offset_parse("+05:45", &off), 0);
	cr_assert_eq(off, 5 * HOUR + 45 * 60);
	cr_assert_eq(prices_text_offset_parse("+14", &off), 0);
	cr_assert_eq(prices_text_offset_parse("-13", &off), -1);
	cr_assert_eq(prices_text_offset_parse("+123", &off), -1);
	cr_assert_eq(prices_text_offset_parse("+", &off), -1);
	cr_assert_eq(prices_text_offset_parse("+3:5", &off), -1);
}

Test(prices, trend_in_integers)
{
	cr_assert_eq(prices_text_trend(290000, 305000), 5);	/* 5.17 */
	cr_assert_eq(prices_text_trend(200, 201), 1);		/* 0.5 up */
	cr_assert_eq(prices_text_trend(200, 199), -1);	/* 0.5 down */
	cr_assert_eq(prices_text_trend(300, 299), 0);		/* -0.33 */
	cr_assert_eq(prices_text_trend(320000, 300000), -6);	/* -6.25 */
	cr_assert_eq(prices_text_trend(100, 300), 200);
	cr_assert_eq(prices_text_trend(100, 100), 0);
	cr_assert_eq(prices_text_trend(0, 100), 0);
}

/* --- PRICE: the board --------------------------------------------------- */

Test(prices, board_hand_computed)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	r = run("PRICE maize Nakuru", MB_OK);
	tmpl_is(r, "prices-board");
	/* codes: each reader sees the catalogue's word in their language */
	arg_is(r, "commodity", "maize");
	arg_is(r, "unit", "bag");
	arg_is(r, "market", "Nakuru");
	/* durations are phrases of the language files, in words */
	arg_is(r, "window", "prices-last-days(n=7)");
	arg_is(r, "median", "3050");
	arg_is(r, "low", "2900");
	arg_is(r, "high", "3200");
	arg_is(r, "n", "5");
	arg_is(r, "age", "prices-ago-hours(n=2)");
	arg_is(r, "offers", NULL);
	arg_is(r, "currency", "KES");
	/* the asker's market by default, and for someone not registered */
	r = run("price maize", MB_OK);
	arg_is(r, "market", "Nakuru");
	arg_is(r, "median", "3050");
	mock_sender(m, "+254799000000", NULL, "nakuru", "en", 0);
	r = run("PRICE MAIZE", MB_OK);
	arg_is(r, "median", "3050");
}

/* An even count: the mean of the two middle reports, half a cent up. */
Test(prices, median_of_an_even_count)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	report_row("beans", "nakuru", 290000, 0, "ok", NOW - 100);
	report_row("beans", "nakuru", 310001, 0, "ok", NOW - 200);
	report_row("beans", "nakuru", 300000, 0, "ok", NOW - 300);
	report_row("beans", "nakuru", 320000, 0, "ok", NOW - 400);
	r = run("PRICE beans", MB_OK);
	/* 2900 3000 | 3100.01 3200: (300000 + 310001) / 2 = 305000.5 */
	arg_is(r, "median", "3050.01");
	arg_is(r, "low", "2900");
	arg_is(r, "high", "3200");
	arg_is(r, "n", "4");
	arg_is(r, "age", "prices-ago-minutes(n=1)");
	arg_is(r, "trend", "");
	arg_is(r, "unit", "kg");
}

/* An agent's report counts agent-weight times in the median. */
Test(prices, agents_weighted)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	report_row("maize", "nakuru", 100000, 1, "ok", NOW - 100);
	report_row("maize", "nakuru", 200000, 0, "ok", NOW - 100);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW - 100);
	/* 1000 1000 | 2000 3000 -> (1000 + 2000) / 2 */
	r = run("PRICE maize", MB_OK);
	arg_is(r, "median", "1500");
	arg_is(r, "n", "3");
	/* two agents at 1000, weight 2: 1000 x4, 2000, 3000 -> 1000 */
	report_row("maize", "nakuru", 100000, 1, "ok", NOW - 100);
	r = run("PRICE maize", MB_OK);
	arg_is(r, "median", "1000");
	arg_is(r, "n", "4");
}

Test(prices, agents_not_weighted_with_weight_1)
{
	const struct mock_msg	*r;

	mock_conf(m, "agent-weight", "1");
	cr_assert_eq(mock_init(m), MB_OK);
	report_row("maize", "nakuru", 100000, 1, "ok", NOW - 100);
	report_row("maize", "nakuru", 200000, 0, "ok", NOW - 100);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW - 100);
	r = run("PRICE maize", MB_OK);
	arg_is(r, "median", "2000");
}

Test(prices, agent_weight_3)
{
	const struct mock_msg	*r;

	mock_conf(m, "agent-weight", "3");
	cr_assert_eq(mock_init(m), MB_OK);
	report_row("maize", "nakuru", 400000, 1, "ok", NOW - 100);
	report_row("maize", "nakuru", 100000, 0, "ok", NOW - 100);
	report_row("maize", "nakuru", 200000, 0, "ok", NOW - 100);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW - 100);
	/* 1000 2000 3000 | 4000 4000 4000 -> (3000 + 4000) / 2 */
	r = run("PRICE maize", MB_OK);
	arg_is(r, "median", "3500");
	arg_is(r, "n", "4");
}

/* The window is (now - window, now]: its first second is out. */
Test(prices, window_edges)
{
	const struct mock_msg	*r;

	mock_conf(m, "window", "1d");
	cr_assert_eq(mock_init(m), MB_OK);
	report_row("maize", "nakuru", 100000, 0, "ok", NOW - DAY);
	report_row("maize", "nakuru", 200000, 0, "ok", NOW - DAY + 1);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW);
	report_row("maize", "nakuru", 900000, 0, "ok", NOW + 1);
	r = run("PRICE maize", MB_OK);
	arg_is(r, "window", "prices-last-days(n=1)");
	arg_is(r, "median", "2500");
	arg_is(r, "low", "2000");
	arg_is(r, "high", "3000");
	arg_is(r, "n", "2");
	/* a day later, this window is empty */
	mock_set_now(m, NOW + 2 * DAY);
	r = run("PRICE maize", MB_OK);
	tmpl_is(r, "prices-nodata-none");
}

/* How old the newest report is, in days, hours or minutes. */
Test(prices, ages)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW - 1 * DAY - 5);
	r = run("PRICE maize", MB_OK);
	arg_is(r, "age", "prices-ago-days(n=1)");
	report_row("beans", "nakuru", 300000, 0, "ok", NOW - 50 * 60);
	r = run("PRICE beans", MB_OK);
	arg_is(r, "age", "prices-ago-minutes(n=50)");
}

/* A window of hours or minutes is said in hours or minutes. */
Test(prices, window_in_hours)
{
	const struct mock_msg	*r;

	mock_conf(m, "window", "36h");
	cr_assert_eq(mock_init(m), MB_OK);
	r = run("PRICE maize", MB_OK);
	arg_is(r, "window", "prices-last-hours(n=36)");
	mock_free(m);
	m = mock_new(&marketbox_plugin);
	mock_set_now(m, NOW);
	mock_conf(m, "window", "90m");
	cr_assert_eq(mock_init(m), MB_OK);
	r = run("REPORT maize 3000", MB_OK);
	arg_is(r, "window", "prices-last-minutes(n=90)");
}

Test(prices, no_data)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	/* nothing anywhere */
	r = run("PRICE maize", MB_OK);
	tmpl_is(r, "prices-nodata-none");
	arg_is(r, "commodity", "maize");
	arg_is(r, "market", "Nakuru");
	arg_is(r, "window", "prices-last-days(n=7)");
	/* data elsewhere, most reports first; old or held ones do not count */
	report_row("maize", "mombasa", 100000, 0, "ok", NOW - HOUR);
	report_row("maize", "eldoret", 100000, 0, "ok", NOW - HOUR);
	report_row("maize", "eldoret", 100000, 0, "ok", NOW - HOUR);
	report_row("maize", "kisumu", 100000, 0, "ok", NOW - 8 * DAY);
	report_row("maize", "nakuru", 100000, 0, "held", NOW - HOUR);
	r = run("PRICE maize", MB_OK);
	tmpl_is(r, "prices-nodata");
	arg_is(r, "markets", "eldoret, Mombasa");
	/* all markets (no home market): empty */
	mock_sender(m, "+254799000000", NULL, NULL, "en", 0);
	r = run("PRICE beans", MB_OK);
	tmpl_is(r, "prices-nodata-all");
	arg_is(r, "commodity", "beans");
	arg_is(r, "market", NULL);
}

/* Someone with no home market gets every market's reports. */
Test(prices, all_markets)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	mock_sender(m, "+254799000000", NULL, NULL, "en", 0);
	r = run("PRICE maize", MB_OK);
	tmpl_is(r, "prices-board-all");
	arg_is(r, "market", NULL);
	/* 1000 (Mombasa) 2900 3000 [3050] 3100 3200 -> (3000 + 3050) / 2 */
	arg_is(r, "median", "3025");
	arg_is(r, "low", "1000");
	arg_is(r, "high", "3200");
	arg_is(r, "n", "6");
	arg_is(r, "age", "prices-ago-hours(n=1)");
}

Test(prices, markets_and_aliases)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	report_row("maize", "mombasa", 250000, 0, "ok", NOW - HOUR);
	report_row("maize", "mombasa", 270000, 0, "ok", NOW - HOUR);
	/* the commodity in Swahili, the market by an alias */
	r = run("price mahindi msa", MB_OK);
	tmpl_is(r, "prices-board");
	arg_is(r, "commodity", "maize");
	arg_is(r, "market", "Mombasa");
	arg_is(r, "median", "2600");
	r = run("PRICE Mais MOMBASA", MB_OK);
	arg_is(r, "market", "Mombasa");
	arg_is(r, "median", "2600");
}

Test(prices, unknown_market_nearby)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW - HOUR);
	report_row("maize", "mombasa", 300000, 0, "ok", NOW - HOUR);
	report_row("maize", "mombasa", 300000, 0, "ok", NOW - HOUR);
	report_row("maize", "eldoret", 300000, 0, "ok", NOW - HOUR);
	/* the asker is at Nakuru (Rift Valley): markets of that region */
	r = run("PRICE maize Kisumu", MB_OK);
	tmpl_is(r, "prices-market-near");
	arg_is(r, "word", "kisumu");
	arg_is(r, "markets", "Nakuru");
	/* two words that are no market */
	r = run("PRICE maize kisumu town", MB_OK);
	arg_is(r, "word", "kisumu town");
	/* no home market: where there is data, most reports first */
	mock_sender(m, "+254799000000", NULL, NULL, "en", 0);
	r = run("PRICE maize Kisumu", MB_OK);
	tmpl_is(r, "prices-market-list");
	arg_is(r, "markets", "Mombasa, eldoret, Nakuru");
	arg_is(r, "commodity", "maize");
	/* no data at all */
	r = run("PRICE beans Kisumu", MB_OK);
	tmpl_is(r, "prices-market-unknown");
	arg_is(r, "commodity", "beans");
}

Test(prices, unknown_commodity)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	r = run("PRICE maiz Nakuru", MB_OK);
	tmpl_is(r, "prices-commodity-suggest");
	arg_is(r, "word", "maiz");
	/* a code, shown as the reader's word */
	arg_is(r, "commodity", "maize");
	r = run("PRICE gold", MB_OK);
	tmpl_is(r, "prices-commodity-unknown");
	arg_is(r, "word", "gold");
	r = run("PRICE", MB_USAGE);
	tmpl_is(r, "usage-PRICE");
}

/* --- offers from the market plugin -------------------------------------- */

static void
post(long long ref, const char *kind, const char *commodity, const char *unit,
    const char *market, long long left, long long cents, const char *state,
    long long expires)
{
	sql_bind("INSERT INTO market_posts VALUES (?1, ?2, '+254700000009', "
	    "?3, ?4, ?5, 10, ?6, ?7, ?8, ?9, nullif(?10, 0))", "ittttiitii",
	    ref, kind, commodity, unit, market, left, cents, state, NOW - HOUR,
	    expires);
}

/*
 * The offers the board asks to be rendered, in the mock's "tmpl(...)"
 * form: the cheapest open offers in the commodity's unit, with what they
 * have left.  (Whether they fit one SMS is for the texts below: the mock's
 * renderings are not the language's.)
 */
Test(prices, offers_cheapest_first)
{
	const struct prices_board *b;
	struct prices_board	 board;
	struct prices_state	*ps;

	cr_assert_eq(mock_init(m), MB_OK);
	ps = mock_state(m);
	nakuru_table();
	/* the table appears after init (the market plugin may load later) */
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(), ps, "maize",
	    "nakuru", &board), 0);
	cr_assert_eq(board.noffers, 0);
	sql(posts_sql);
	post(52, "offer", "maize", "bag", "nakuru", 5, 310000, "open", 0LL);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	post(60, "offer", "maize", "bag", "nakuru", 3, 320050, "open",
	    1800000000LL);
	post(61, "offer", "maize", "bag", "nakuru", 3, 330000, "open", 0LL);
	/* none of these shows */
	post(70, "want", "maize", "bag", "nakuru", 5, 100, "open", 0LL);
	post(71, "offer", "maize", "kg", "nakuru", 5, 200, "open", 0LL);
	post(72, "offer", "maize", "bag", "nakuru", 0, 300, "open", 0LL);
	post(73, "offer", "maize", "bag", "nakuru", 5, 400, "closed", 0LL);
	post(74, "offer", "maize", "bag", "nakuru", 5, 500, "open",
	    1699999999LL);
	post(75, "offer", "maize", "bag", "mombasa", 5, 600, "open", 0LL);
	post(76, "offer", "beans", "bag", "nakuru", 5, 700, "open", 0LL);
	board.now = NOW;
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(), ps, "maize",
	    "nakuru", &board), 0);
	b = &board;
	cr_assert_eq(b->noffers, 3);
	cr_assert_eq(b->offer_ref[0], 41);
	cr_assert_eq(b->offer_price[0], 300000);
	cr_assert_eq(b->offer_qty[0], 10);
	cr_assert_eq(b->offer_ref[1], 52);
	cr_assert_eq(b->offer_qty[1], 5);
	cr_assert_eq(b->offer_ref[2], 60);
	cr_assert_eq(b->offer_price[2], 320050);
	/* for all markets, any market's */
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(), ps, "maize",
	    NULL, &board), 0);
	cr_assert_eq(b->noffers, 3);
	cr_assert_eq(b->offer_ref[0], 75);
	cr_assert_eq(b->offer_ref[1], 41);
	cr_assert_eq(b->offer_ref[2], 52);
}

/*
 * An offer as an item of the list, with what it has left; with no price
 * reported the offers show all the same.  (One offer: the mock's
 * "tmpl(...)" text of two would not fit one SMS; the lists are tested on
 * the real texts below.)
 */
Test(prices, offers_rendered_as_items)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300050, "open", 0LL);
	r = run("PRICE maize", MB_OK);
	tmpl_is(r, "prices-nodata-offers");
	arg_is(r, "commodity", "maize");
	arg_is(r, "window", "prices-last-days(n=7)");
	arg_is(r, "offers", "prices-offer(ref=41,price=3000.50,qty=10,unit=bag)");
}

/* --- the texts people read: the shipped languages ------------------------- */
/*
 * The plugin run with a host whose render(), reply() and notify() render
 * the shipped language files (conf/lang) with the shipped catalogue's
 * words (conf/catalogue.conf), as the daemon does: the board's words, its
 * fitting into one SMS and its languages are tested on the real text.
 * The rest of the host is the mock's: a trampoline plugin (text_plugin,
 * marketbox_plugin with its handlers and timer wrapped) hands the plugin
 * the mock's table with those three functions replaced.
 */

#define TEXT_MAX	64

static struct lang_set	*text_langs;
static struct conf	*text_conf;
static struct mb_host	 text_host;
static struct mb_plugin	 text_plugin;
static struct mb_command text_commands[3];
static struct mb_timer	 text_timers[1];
/* what was sent: to (NULL: the sender) and the text */
static char		*text_to[TEXT_MAX], *text_sent[TEXT_MAX];
static size_t		 text_n;
/* render()'s results, kept until the test ends */
static char		*text_kept[4096];
static size_t		 text_nkept;
/* phones and the language each reads (others: en) */
static struct { const char *msisdn, *lang; } text_readers[8];
static size_t		 text_nreaders;

static const char *
text_lang_of(const char *msisdn)
{
	size_t	 i;

	for (i = 0; i < text_nreaders && msisdn != NULL; i++)
		if (strcmp(text_readers[i].msisdn, msisdn) == 0)
			return text_readers[i].lang;
	return "en";
}

static void
text_reads(const char *msisdn, const char *lang)
{
	cr_assert_lt(text_nreaders, 8);
	text_readers[text_nreaders].msisdn = msisdn;
	text_readers[text_nreaders++].lang = lang;
}

/* The catalogue's word for a code, as the daemon's host gives it. */
static const char *
text_word(void *arg, const char *lang, const char *name, const char *value,
    const char *category)
{
	const struct conf_commodity	*k;
	const struct conf_unit		*u;

	(void)arg;
	if (strcmp(name, "commodity") == 0 &&
	    (k = conf_commodity_find(text_conf, value)) != NULL)
		return conf_form_for(&k->names, &k->forms, lang, category);
	if (strcmp(name, "unit") == 0 &&
	    (u = conf_unit_find(text_conf, value)) != NULL)
		return conf_form_for(&u->names, &u->forms, lang, category);
	return NULL;
}

/* Template tmpl of lang filled; every placeholder must have its value. */
static char *
text_render(const char *lang, const char *tmpl, const struct mb_arg *args,
    size_t nargs)
{
	struct render_env	 env;
	const char		*t = lang_template(text_langs, lang, tmpl);
	char			*s;

	cr_assert_not_null(t, "%s lacks %s", lang, tmpl);
	memset(&env, 0, sizeof(env));
	env.langs = text_langs;
	env.lang = lang;
	env.word = text_word;
	s = render(&env, t, args, nargs);
	cr_assert_not_null(s);
	cr_assert_eq(env.missing, 0, "%s %s: a placeholder without a value: "
	    "%s", lang, tmpl, s);
	return s;
}

static const char *
text_h_render(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	const char	*lang = msisdn != NULL ? text_lang_of(msisdn) :
			    mock_host()->sender_language(ctx);

	cr_assert_lt(text_nkept, sizeof(text_kept) / sizeof(text_kept[0]));
	return text_kept[text_nkept++] = text_render(lang, tmpl, args, nargs);
}

static void
text_keep(const char *to, char *text)
{
	cr_assert_lt(text_n, TEXT_MAX);
	text_to[text_n] = to != NULL ? strdup(to) : NULL;
	text_sent[text_n++] = text;
}

/* As the daemon: rendered in the reader's language (and the mock's
   capture, which counts the replies) */
static int
text_h_reply(struct mb_ctx *ctx, const char *tmpl, const struct mb_arg *args,
    size_t nargs)
{
	text_keep(NULL, text_render(mock_host()->sender_language(ctx), tmpl,
	    args, nargs));
	return mock_host()->reply(ctx, tmpl, args, nargs);
}

static int
text_h_notify(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	text_keep(msisdn, text_render(text_lang_of(msisdn), tmpl, args,
	    nargs));
	return mock_host()->notify(ctx, msisdn, tmpl, args, nargs);
}

static const struct mb_host *
text_host_of(const struct mb_host *mock)
{
	text_host = *mock;
	text_host.render = text_h_render;
	text_host.reply = text_h_reply;
	text_host.notify = text_h_notify;
	return &text_host;
}

static int
text_command(size_t i, struct mb_ctx *ctx, const struct mb_host *host)
{
	return marketbox_plugin.commands[i].handler(ctx, text_host_of(host));
}

static int
text_command0(struct mb_ctx *ctx, const struct mb_host *host)
{
	return text_command(0, ctx, host);
}

static int
text_command1(struct mb_ctx *ctx, const struct mb_host *host)
{
	return text_command(1, ctx, host);
}

static int
text_command2(struct mb_ctx *ctx, const struct mb_host *host)
{
	return text_command(2, ctx, host);
}

static int
text_timer(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	return marketbox_plugin.timers[0].run(pctx, text_host_of(host));
}

static void
text_setup(void)
{
	prices_run_ms = TEST_RUN_MS;
	gwlib_init();
	log_set_output_level(GW_PANIC);
	text_langs = lang_load(SHIPPED, "en");
	cr_assert_not_null(text_langs);
	text_conf = conf_load(TEST_SRCDIR "/../conf/marketbox.conf");
	cr_assert_not_null(text_conf);
	cr_assert_eq(marketbox_plugin.ncommands, 3);
	text_plugin = marketbox_plugin;
	memcpy(text_commands, marketbox_plugin.commands,
	    sizeof(text_commands));
	text_commands[0].handler = text_command0;
	text_commands[1].handler = text_command1;
	text_commands[2].handler = text_command2;
	text_plugin.commands = text_commands;
	text_timers[0] = marketbox_plugin.timers[0];
	text_timers[0].run = text_timer;
	text_plugin.timers = text_timers;
	m = mock_new(&text_plugin);
	mock_set_now(m, NOW);
	text_n = text_nkept = text_nreaders = 0;
}

static void
text_clear(void)
{
	size_t	 i;

	for (i = 0; i < text_n; i++) {
		free(text_to[i]);
		free(text_sent[i]);
	}
	text_n = 0;
}

static void
text_teardown(void)
{
	size_t	 i;

	mock_free(m);
	m = NULL;
	text_clear();
	for (i = 0; i < text_nkept; i++)
		free(text_kept[i]);
	text_nkept = 0;
	conf_free(text_conf);
	lang_free(text_langs);
	gwlib_shutdown();
}

/* The sender's language for the next commands (a registered farmer). */
static void
text_sender(const char *lang)
{
	mock_sender(m, WANJIRU, "Wanjiru", "nakuru", lang,
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
}

/* Run text; it must make exactly one reply: its text. */
static const char *
said(const char *text)
{
	text_clear();
	mock_clear(m);
	cr_assert_eq(mock_command(m, text), MB_OK, "%s", text);
	cr_assert_eq(text_n, 1, "%s: %zu messages", text, text_n);
	cr_assert_null(text_to[0]);
	return text_sent[0];
}

static void
text_is(const char *got, const char *want)
{
	cr_assert_str_eq(got, want, "\n got: %s\nwant: %s", got, want);
	cr_assert((gsm_sent_parts(got, strlen(got)) == 1), "more than one SMS: %s", got);
}

TestSuite(prices_text, .init = text_setup, .fini = text_teardown);

/* The board in plain words, the trend in words, in one SMS. */
Test(prices_text, board_in_plain_words)
{
	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	text_is(said("PRICE maize Nakuru"), "Maize, bag, Nakuru, last 7 days: "
	    "middle price 3,050 KES, lowest 2,900, highest 3,200, 5 reports, "
	    "newest 2 hours ago, 5% higher than the 7 days before.");
	/* one report, a day old, lower than the week before */
	report_row("beans", "mombasa", 300000, 0, "ok", NOW - 8 * DAY);
	report_row("beans", "mombasa", 280000, 0, "ok", NOW - DAY - 60);
	text_is(said("PRICE beans Mombasa"), "Beans, kg, Mombasa, last 7 days: middle "
	    "price 2,800 KES, lowest 2,800, highest 2,800, 1 report, newest 1 "
	    "day ago, 7% lower than the 7 days before.");
}

/*
 * Offers are dropped from the end until the board fits one SMS, the trend
 * before an offer; a board with no room for any goes without.
 */
Test(prices_text, offers_fit_one_sms)
{
	const char	*t;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	report_row("beans", "nakuru", 12000, 0, "ok", NOW - 8 * DAY);
	report_row("beans", "nakuru", 12000, 0, "ok", NOW - HOUR);
	post(41, "offer", "beans", "kg", "nakuru", 50, 11000, "open", 0LL);
	post(52, "offer", "beans", "kg", "nakuru", 20, 11500, "open", 0LL);
	post(60, "offer", "beans", "kg", "nakuru", 5, 11800, "open", 0LL);
	/* the trend and the third offer do not fit beside two offers */
	t = said("PRICE beans");
	text_is(t, "Beans, kg, Nakuru, last 7 days: middle price 120 KES, "
	    "lowest 120, highest 120, 1 report, newest 1 hour ago. For sale: "
	    "#41 110 (50 kg), #52 115 (20 kg)");
	/* prices of a billion: no room for an offer */
	report_row("maize", "nakuru", 99999999999LL, 0, "ok", NOW - HOUR);
	post(12345671, "offer", "maize", "bag", "nakuru", 5, 99999999901LL,
	    "open", 0LL);
	post(12345672, "offer", "maize", "bag", "nakuru", 5, 99999999902LL,
	    "open", 0LL);
	t = said("PRICE maize");
	text_is(t, "Maize, bag, Nakuru, last 7 days: middle price 999,999,999.99"
	    " KES, lowest 999,999,999.99, highest 999,999,999.99, 1 report, "
	    "newest 1 hour ago.");
}

/* PRICE with no price reported shows the open offers a buyer looks for. */
Test(prices_text, offers_without_prices)
{
	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	post(52, "offer", "maize", "bag", "nakuru", 1, 310000, "open", 0LL);
	text_is(said("PRICE maize"), "No prices reported for maize at Nakuru "
	    "in the last 7 days. For sale: #41 3,000 (10 bags), #52 3,100 "
	    "(1 bag)");
	mock_sender(m, "+254799000000", NULL, NULL, "en", 0);
	text_is(said("PRICE maize"), "No prices reported for maize in the "
	    "last 7 days. For sale: #41 3,000 (10 bags), #52 3,100 (1 bag)");
	/* no offers either: where there are prices, or how to report one */
	text_is(said("PRICE beans"), "No prices reported for beans in the "
	    "last 7 days. Seen a price? Send REPORT beans price market");
}

/* The commodity and the unit in the reader's language, not the code. */
Test(prices_text, board_in_every_language)
{
	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	sql(posts_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	report_row("beans", "nakuru", 300000, 0, "ok", NOW - HOUR);
	report_row("beans", "nakuru", 310000, 0, "ok", NOW - 3 * DAY);
	text_sender("sw");
	text_is(said("PRICE mahindi"), "Mahindi, gunia, Nakuru, siku 7 "
	    "zilizopita: bei ya kati 3,050 KES (2,900 hadi 3,200), ripoti 5, "
	    "ya mwisho saa 2 zilizopita. Ofa: #41 3,000 (magunia 10)");
	text_sender("fr");
	text_is(said("PRICE beans"), "Haricots, kg, Nakuru, depuis 7 jours: "
	    "prix courant 3 000 KES, de 1 000 à 3 100, 3 prix, dernier il y a "
	    "1 heure.");
	text_sender("zh");
	text_is(said("PRICE maize"), "Nakuru玉米每袋近7天：中间价3,050KES"
	    "（2,900至3,200），5条报价，最新2小时前。在售：#41 3,000（10袋）");
	/* with no data, the commodity in the sentence, in the reader's words */
	text_sender("fr");
	text_is(said("PRICE beans Mombasa"), "Haricots: aucun prix signalé à "
	    "Mombasa depuis 7 jours. Il y a des prix à: Nakuru");
	text_sender("en");
	text_is(said("PRICE beans Mombasa"), "No prices reported for beans at "
	    "Mombasa in the last 7 days. There are prices at: Nakuru");
}

/* The daily bulletin says what it is and how to stop it. */
Test(prices_text, bulletin_says_what_it_is)
{
	mock_conf(m, "bulletin-now", "yes");
	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	sql("INSERT INTO prices_alerts (msisdn, commodity, market, op, created)"
	    " VALUES ('+254720000001', 'maize', 'nakuru', '', 0),"
	    " ('+254720000002', 'maize', 'nakuru', '', 0)");
	text_reads("+254720000002", "sw");
	text_clear();
	cr_assert_eq(mock_timer(m, "prices"), MB_OK);
	cr_assert_eq(text_n, 2);
	cr_assert_str_eq(text_to[0], "+254720000001");
	text_is(text_sent[0], "Daily prices (ALERT OFF stops): Maize, bag, "
	    "Nakuru, last 7 days: middle price 3,050 KES, lowest 2,900, "
	    "highest 3,200, 5 reports, newest 2 hours ago.");
	text_is(text_sent[1], "Bei za leo (TAHADHARI OFF kuacha): Mahindi, "
	    "gunia, Nakuru, siku 7 zilizopita: bei ya kati 3,050 KES (2,900 "
	    "hadi 3,200), ripoti 5, ya mwisho saa 2 zilizopita.");
}

/*
 * A run that has had its time (prices_run_ms -1: always) sends its first
 * notice and leaves the rest to the next run: everyone once, in order.
 */
Test(prices_text, a_slow_run_leaves_the_rest_to_the_next)
{
	mock_conf(m, "bulletin-now", "yes");
	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	sql("INSERT INTO prices_alerts (msisdn, commodity, market, op, created)"
	    " VALUES ('+254720000001', 'maize', 'nakuru', '', 0),"
	    " ('+254720000002', 'maize', 'nakuru', '', 0),"
	    " ('+254720000003', 'maize', 'nakuru', '', 0)");
	prices_run_ms = -1;
	text_clear();
	cr_assert_eq(mock_timer(m, "prices"), MB_OK);
	cr_assert_eq(text_n, 1);
	cr_assert_str_eq(text_to[0], "+254720000001");
	cr_assert_eq(mock_timer(m, "prices"), MB_OK);
	cr_assert_eq(text_n, 2);
	cr_assert_str_eq(text_to[1], "+254720000002");
	cr_assert_eq(mock_timer(m, "prices"), MB_OK);
	cr_assert_eq(mock_timer(m, "prices"), MB_OK);
	cr_assert_eq(text_n, 3, "%zu notices", text_n);
	cr_assert_str_eq(text_to[2], "+254720000003");
}

/* A threshold alert in the same plain words, and how to stop it. */
Test(prices_text, threshold_alert_says_how_to_stop)
{
	cr_assert_eq(mock_init(m), MB_OK);
	text_sender("sw");
	text_reads(WANJIRU, "sw");
	text_is(said("ALERT maize >3000"), "Tutakutumia ujumbe bei ya kati ya "
	    "mahindi Nakuru ikipanda juu ya 3,000 KES kwa gunia. TAHADHARI OFF "
	    "kuacha.");
	mock_sender(m, OTIENO, "Otieno", "nakuru", "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
	text_is(said("REPORT maize 3300"), "Thank you! Maize at 3,300 KES per "
	    "bag at Nakuru noted. Middle price now 3,300 (1 report, last 7 "
	    "days).");
	text_clear();
	cr_assert_eq(mock_timer(m, "prices"), MB_OK);
	cr_assert_eq(text_n, 1);
	cr_assert_str_eq(text_to[0], WANJIRU);
	text_is(text_sent[0], "Tahadhari: bei ya kati ya mahindi Nakuru sasa "
	    "3,300 KES kwa gunia, juu ya 3,000 (ripoti 1, siku 7 zilizopita). "
	    "TAHADHARI OFF kuacha.");
}

/* Counts agree with their number; a suggestion names the reader's word. */
Test(prices_text, plural_forms_and_suggestions)
{
	cr_assert_eq(mock_init(m), MB_OK);
	text_sender("en");
	said("ALERT maize");
	text_is(said("ALERT OFF"), "Your price alert is stopped.");
	said("ALERT maize");
	said("ALERT beans");
	text_is(said("ALERT OFF"), "Your 2 price alerts are stopped.");
	text_is(said("ALERT OFF"), "You have no price alerts. To get one, "
	    "send ALERT and a commodity, e.g. ALERT maize");
	text_sender("sw");
	text_is(said("PRICE maiz"), "'maiz' si bidhaa tunayoijua. Ulimaanisha "
	    "mahindi? Tuma tena na mahindi.");
	text_sender("fr");
	text_is(said("PRICE beens"), "'beens' n'est pas un produit connu. "
	    "Vouliez-vous dire haricots? Renvoyez avec haricots.");
}

/* --- REPORT ------------------------------------------------------------- */

Test(prices, report_stored_and_thanked)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	r = run("REPORT maize 3,000/= Nakuru", MB_OK);
	tmpl_is(r, "prices-report-ok");
	arg_is(r, "commodity", "maize");
	arg_is(r, "unit", "bag");
	arg_is(r, "market", "Nakuru");
	arg_is(r, "price", "3000");
	arg_is(r, "median", "3000");
	arg_is(r, "n", "1");
	arg_is(r, "window", "prices-last-days(n=7)");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_reports WHERE "
	    "commodity = 'maize' AND market = 'nakuru' AND price = 300000 AND "
	    "msisdn = '" WANJIRU "' AND agent = 0 AND status = 'ok' AND "
	    "created = 1700000000"), 1);
	/* decimals, the home market, an alias */
	r = run("REPORT maharagwe 2.5", MB_OK);
	arg_is(r, "price", "2.50");
	arg_is(r, "commodity", "beans");
	arg_is(r, "unit", "kg");
	cr_assert_eq(sql_int("SELECT price FROM prices_reports WHERE "
	    "commodity = 'beans' AND market = 'nakuru'"), 250);
	/* the median with the new report */
	r = run("REPORT maize 3100 msa", MB_OK);
	arg_is(r, "market", "Mombasa");
	r = run("REPORT maize 3200", MB_OK);
	arg_is(r, "median", "3100");
	arg_is(r, "n", "2");
	/* a new report marks its pair for the threshold check */
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_dirty"), 3);
}

/* Numbers as people type them (issue 12). */
Test(prices, report_number_forms)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	r = run("REPORT maize 6 000", MB_OK);
	tmpl_is(r, "prices-report-ok");
	arg_is(r, "price", "6000");
	arg_is(r, "market", "Nakuru");
	r = run("REPORT maize 1 500 000 msa", MB_OK);
	arg_is(r, "price", "1500000");
	arg_is(r, "market", "Mombasa");
	r = run("REPORT maize @ 3,000", MB_OK);
	arg_is(r, "price", "3000");
	r = run("REPORT maize 3000 F", MB_OK);
	arg_is(r, "price", "3000");
	r = run("REPORT maize Ksh3000", MB_OK);
	arg_is(r, "price", "3000");
	/* too large once joined: the groups stay words of their own */
	r = run("REPORT maize 999 999 999 999", MB_OK);
	cr_assert_str_neq(r->tmpl, "prices-report-ok");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_reports WHERE "
	    "price IN (600000, 150000000, 300000)"), 5);
	/* the wrong readings: no price at all, nothing stored */
	run("REPORT maize 3000.505", MB_USAGE);
	run("REPORT maize 0.050", MB_USAGE);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_reports"), 5);
}

Test(prices, report_needs_a_market)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	mock_sender(m, "+254700000005", "Kamau", NULL, "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
	r = run("REPORT maize 3000", MB_OK);
	tmpl_is(r, "prices-report-market");
	arg_is(r, "commodity", "maize");
	arg_is(r, "price", "3000");
	r = run("REPORT maize 3000 Kisumu", MB_OK);
	tmpl_is(r, "prices-market-unknown");
	arg_is(r, "word", "kisumu");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_reports"), 0);
}

Test(prices, report_refuses_bad_words)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	run("REPORT", MB_USAGE);
	r = run("REPORT maize", MB_USAGE);
	tmpl_is(r, "usage-REPORT");
	run("REPORT maize cheap", MB_USAGE);
	run("REPORT maize 0", MB_USAGE);
	run("REPORT maize -5", MB_USAGE);
	run("REPORT 3000 maize", MB_USAGE);
	r = run("REPORT gold 3000", MB_OK);
	tmpl_is(r, "prices-commodity-unknown");
	r = run("REPORT mayze 3000", MB_OK);
	tmpl_is(r, "prices-commodity-suggest");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_reports"), 0);
	/* only registered users report */
	mock_sender(m, "+254799000000", NULL, "nakuru", "en", 0);
	mock_clear(m);
	cr_assert_eq(mock_command(m, "REPORT maize 3000"), -101);
}

Test(prices, report_by_an_agent)
{
	cr_assert_eq(mock_init(m), MB_OK);
	mock_sender(m, "+254700000007", "Agent Njeri", "nakuru", "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER | MB_ROLE_AGENT);
	run("REPORT maize 3000", MB_OK);
	cr_assert_eq(sql_int("SELECT agent FROM prices_reports"), 1);
}

/*
 * With 5 or more reports in the window, a price outside [median / 3,
 * median x 3] is held: stored, not published, the reporter told.
 */
Test(prices, outliers_held)
{
	const struct mock_msg	*r;
	int			 i;

	cr_assert_eq(mock_init(m), MB_OK);
	for (i = 0; i < 4; i++)
		report_row("maize", "nakuru", 300000, 0, "ok", NOW - HOUR);
	/* only 4: anything goes */
	r = run("REPORT maize 50000", MB_OK);
	tmpl_is(r, "prices-report-ok");
	cr_assert_eq(sql_int("DELETE FROM prices_reports WHERE price = "
	    "5000000 RETURNING 1"), 1);
	report_row("maize", "nakuru", 300000, 0, "ok", NOW - HOUR);
	/* 5 at 3000: [1000, 9000] is published */
	r = run("REPORT maize 9000", MB_OK);
	tmpl_is(r, "prices-report-ok");
	r = run("REPORT maize 1000", MB_OK);
	tmpl_is(r, "prices-report-ok");
	arg_is(r, "n", "7");
	r = run("REPORT maize 9000.01", MB_OK);
	tmpl_is(r, "prices-report-held");
	arg_is(r, "price", "9000.01");
	arg_is(r, "median", "3000");
	r = run("REPORT maize 999.99", MB_OK);
	tmpl_is(r, "prices-report-held");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_reports WHERE "
	    "status = 'held'"), 2);
	/* held reports are not on the board */
	r = run("PRICE maize", MB_OK);
	arg_is(r, "n", "7");
	arg_is(r, "high", "9000");
	arg_is(r, "low", "1000");
}

Test(prices, outlier_ratio_from_conf)
{
	const struct mock_msg	*r;
	int			 i;

	mock_conf(m, "outlier-ratio", "1.5");
	cr_assert_eq(mock_init(m), MB_OK);
	for (i = 0; i < 5; i++)
		report_row("maize", "nakuru", 200000, 0, "ok", NOW - HOUR);
	r = run("REPORT maize 3001", MB_OK);
	tmpl_is(r, "prices-report-held");
	r = run("REPORT maize 3000", MB_OK);
	tmpl_is(r, "prices-report-ok");
}

Test(prices, failed_send_is_a_failure)
{
	cr_assert_eq(mock_init(m), MB_OK);
	mock_fail_sends(m, 1);
	mock_clear(m);
	cr_assert_eq(mock_command(m, "PRICE maize"), MB_FAIL);
	cr_assert_eq(mock_command(m, "REPORT maize 3000"), MB_FAIL);
	cr_assert_eq(mock_command(m, "ALERT maize"), MB_FAIL);
	cr_assert_eq(mock_nsent(m), 0);
}

/* --- ALERT -------------------------------------------------------------- */

Test(prices, alert_subscriptions)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	r = run("ALERT maize", MB_OK);
	tmpl_is(r, "prices-alert-on");
	arg_is(r, "market", "Nakuru");
	arg_is(r, "time", "07:00");
	arg_is(r, "commodity", "maize");
	arg_is(r, "unit", "bag");
	r = run("ALERT maize Nakuru >3,000", MB_OK);
	tmpl_is(r, "prices-alert-above");
	arg_is(r, "price", "3000");
	r = run("ALERT mahindi msa < 2500.50", MB_OK);
	tmpl_is(r, "prices-alert-below");
	arg_is(r, "market", "Mombasa");
	arg_is(r, "price", "2500.50");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts WHERE "
	    "msisdn = '" WANJIRU "'"), 3);
	cr_assert_eq(sql_int("SELECT threshold FROM prices_alerts WHERE "
	    "op = '<' AND market = 'mombasa'"), 250050);
	/* the same again changes it, it does not add one */
	run("ALERT maize >=3200", MB_OK);
	cr_assert_eq(sql_int("SELECT threshold FROM prices_alerts WHERE "
	    "op = '>'"), 320000);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts"), 3);
	/* ALERT maize OFF, ALERT OFF */
	r = run("ALERT maize off", MB_OK);
	tmpl_is(r, "prices-alert-off");
	arg_is(r, "n", "3");
	r = run("ALERT OFF", MB_OK);
	tmpl_is(r, "prices-alert-off-none");
	run("ALERT beans", MB_OK);
	run("ALERT maize", MB_OK);
	r = run("ALERT off beans", MB_OK);
	arg_is(r, "n", "1");
	r = run("ALERT OFF", MB_OK);
	tmpl_is(r, "prices-alert-off");
	arg_is(r, "n", "1");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts"), 0);
}

Test(prices, alert_without_home_market)
{
	const struct mock_msg	*r;

	mock_conf(m, "bulletin-hour", "6");
	cr_assert_eq(mock_init(m), MB_OK);
	mock_sender(m, "+254700000005", "Kamau", NULL, "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
	r = run("ALERT maize", MB_OK);
	tmpl_is(r, "prices-alert-on-all");
	arg_is(r, "time", "06:00");
	arg_is(r, "market", NULL);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts WHERE "
	    "market = '' AND op = ''"), 1);
	/* a threshold needs a market */
	r = run("ALERT maize >3000", MB_OK);
	tmpl_is(r, "prices-alert-need-market");
	r = run("ALERT maize Nakuru >3000", MB_OK);
	tmpl_is(r, "prices-alert-above");
	r = run("ALERT maize Kisumu", MB_OK);
	tmpl_is(r, "prices-market-unknown");
}

Test(prices, alert_bad_words)
{
	cr_assert_eq(mock_init(m), MB_OK);
	run("ALERT", MB_USAGE);
	run("ALERT maize >", MB_USAGE);
	run("ALERT maize >abc", MB_USAGE);
	run("ALERT maize >3000 now", MB_USAGE);
	run("ALERT maize > 3000 4000", MB_USAGE);
	tmpl_is(run("ALERT gold", MB_OK), "prices-commodity-unknown");
	tmpl_is(run("ALERT OFF gold", MB_OK), "prices-commodity-unknown");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts"), 0);
}

Test(prices, alert_at_most_five)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	run("ALERT maize", MB_OK);
	run("ALERT beans", MB_OK);
	run("ALERT maize msa", MB_OK);
	run("ALERT beans msa", MB_OK);
	run("ALERT maize >3000", MB_OK);
	r = run("ALERT maize <2000", MB_OK);
	tmpl_is(r, "prices-alert-max");
	arg_is(r, "max", "5");
	/* changing one of the five is fine */
	tmpl_is(run("ALERT maize >3500", MB_OK), "prices-alert-above");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts"), 5);
}

Test(prices, alert_after_stop)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	user_row(WANJIRU, "nakuru", 1);
	r = run("ALERT maize", MB_OK);
	tmpl_is(r, "prices-alert-stopped");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts"), 1);
}

/* --- thresholds --------------------------------------------------------- */

/* The notices the timer made, to msisdn with template tmpl. */
static size_t
notices(const char *msisdn, const char *tmpl)
{
	size_t	 i, n = 0;

	for (i = 0; i < mock_nsent(m); i++) {
		const struct mock_msg	*s = mock_sent(m, i);

		if (s->to != NULL && (msisdn == NULL ||
		    strcmp(s->to, msisdn) == 0) && (tmpl == NULL ||
		    strcmp(s->tmpl, tmpl) == 0))
			n++;
	}
	return n;
}

static void
timer_ok(void)
{
	mock_clear(m);
	cr_assert_eq(mock_timer(m, "prices"), MB_OK);
}

/* A reporter other than the subscriber. */
static void
report_as_otieno(const char *text)
{
	mock_sender(m, OTIENO, "Otieno", "nakuru", "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
	run(text, MB_OK);
	mock_sender(m, WANJIRU, "Wanjiru", "nakuru", "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
}

Test(prices, threshold_crossing_told_once_and_rearmed)
{
	const struct mock_msg	*s;

	cr_assert_eq(mock_init(m), MB_OK);
	user_row(WANJIRU, "nakuru", 0);
	report_as_otieno("REPORT maize 2900");
	run("ALERT maize >3000", MB_OK);
	cr_assert_eq(sql_int("SELECT fired FROM prices_alerts"), 0);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0, "2900 is not above 3000");

	/* 2900 3300 -> 3100: above */
	report_as_otieno("REPORT maize 3300");
	timer_ok();
	cr_assert_eq(mock_nsent(m), 1);
	s = mock_sent(m, 0);
	cr_assert_str_eq(s->to, WANJIRU);
	tmpl_is(s, "prices-cross-above");
	arg_is(s, "commodity", "maize");
	arg_is(s, "unit", "bag");
	arg_is(s, "market", "Nakuru");
	arg_is(s, "median", "3100");
	arg_is(s, "price", "3000");
	arg_is(s, "n", "2");
	arg_is(s, "window", "prices-last-days(n=7)");
	cr_assert_eq(sql_int("SELECT fired FROM prices_alerts"), 1);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_dirty"), 0);

	/* still above: not again */
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0);
	report_as_otieno("REPORT maize 3400");
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0, "told once");

	/* back down (2900 2900 2900 3300 3400 -> 2900): re-armed, silently */
	report_as_otieno("REPORT maize 2900");
	report_as_otieno("REPORT maize 2900");
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(sql_int("SELECT fired FROM prices_alerts"), 0);

	/* up again (2900 x3, 3300 | 3400, 3500 x3 -> 3350): told again */
	report_as_otieno("REPORT maize 3500");
	report_as_otieno("REPORT maize 3500");
	report_as_otieno("REPORT maize 3500");
	timer_ok();
	cr_assert_eq(notices(WANJIRU, "prices-cross-above"), 1);
	arg_is(mock_sent(m, 0), "median", "3350");
}

Test(prices, threshold_below)
{
	cr_assert_eq(mock_init(m), MB_OK);
	report_as_otieno("REPORT maize 3000");
	run("ALERT maize <2500", MB_OK);
	report_as_otieno("REPORT maize 2000");
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0, "2500 is not below 2500");
	report_as_otieno("REPORT maize 1000");
	timer_ok();
	cr_assert_eq(notices(WANJIRU, "prices-cross-below"), 1);
	arg_is(mock_sent(m, 0), "median", "2000");
}

/* Subscribing when the median is already past the price is no crossing. */
Test(prices, threshold_starts_on_the_current_side)
{
	cr_assert_eq(mock_init(m), MB_OK);
	report_as_otieno("REPORT maize 3500");
	run("ALERT maize >3000", MB_OK);
	cr_assert_eq(sql_int("SELECT fired FROM prices_alerts"), 1);
	report_as_otieno("REPORT maize 3600");
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0);
}

Test(prices, threshold_respects_stop)
{
	cr_assert_eq(mock_init(m), MB_OK);
	report_as_otieno("REPORT maize 2000");
	run("ALERT maize >3000", MB_OK);
	user_row(WANJIRU, "nakuru", 1);
	report_as_otieno("REPORT maize 5000");
	report_as_otieno("REPORT maize 5000");
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0, "STOP: no threshold alert");
	cr_assert_eq(sql_int("SELECT fired FROM prices_alerts"), 1);
}

/* Many subscribers of one pair: batch at a time, the rest next run. */
Test(prices, thresholds_in_batches)
{
	int	 i;

	mock_conf(m, "batch", "3");
	cr_assert_eq(mock_init(m), MB_OK);
	report_as_otieno("REPORT maize 2000");
	for (i = 0; i < 7; i++)
		sql_bind("INSERT INTO prices_alerts (msisdn, commodity, market,"
		    " op, threshold, fired, created) VALUES (printf("
		    "'+2547100000%02d', ?1), 'maize', 'nakuru', '>', 300000, 0,"
		    " 0)", "i", (long long)i);
	report_as_otieno("REPORT maize 5000");
	report_as_otieno("REPORT maize 5000");
	timer_ok();
	cr_assert_eq(notices(NULL, "prices-cross-above"), 3);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_dirty"), 1);
	timer_ok();
	cr_assert_eq(notices(NULL, "prices-cross-above"), 3);
	timer_ok();
	cr_assert_eq(notices(NULL, "prices-cross-above"), 1);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_dirty"), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts WHERE "
	    "fired = 1"), 7);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0);
}

/* --- the daily bulletin ------------------------------------------------- */

/* n daily subscribers to maize at Nakuru, +2547200000NN. */
static void
subscribers(int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		sql_bind("INSERT INTO prices_alerts (msisdn, commodity, market,"
		    " op, created) VALUES (printf('+2547200000%02d', ?1),"
		    " 'maize', 'nakuru', '', 0)", "i", (long long)i);
}

/* NOW is 22:13 UTC; the day starts at 1699920000 (00:00 UTC). */
#define MIDNIGHT	1699920000LL

Test(prices, bulletin_in_batches_with_a_cursor)
{
	const struct mock_msg	*s;
	size_t			 i;

	mock_conf(m, "batch", "2");
	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	subscribers(5);
	user_row("+254720000002", "nakuru", 1);		/* sent STOP */

	/* 06:59: not yet */
	mock_set_now(m, MIDNIGHT + 7 * HOUR - 1);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0);
	/* 07:00: ids 1 and 2 */
	mock_set_now(m, MIDNIGHT + 7 * HOUR);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 2);
	cr_assert_str_eq(mock_sent(m, 0)->to, "+254720000000");
	cr_assert_str_eq(mock_sent(m, 1)->to, "+254720000001");
	for (i = 0; i < 2; i++) {
		s = mock_sent(m, i);
		tmpl_is(s, "prices-bulletin");
		board_is(s, "prices-board(commodity=maize,");
		board_is(s, ",market=Nakuru,");
	}
	cr_assert_eq(sql_int("SELECT cursor FROM prices_bulletin"), 2);
	cr_assert_eq(sql_int("SELECT done FROM prices_bulletin"), 0);
	cr_assert_eq(sql_int("SELECT day FROM prices_bulletin"),
	    MIDNIGHT / DAY);

	/* a restart: the cursor is in the table, not in the plugin */
	marketbox_plugin.fini(mock_plugin_ctx(m), mock_host());
	cr_assert_eq(marketbox_plugin.init(mock_plugin_ctx(m), mock_host()),
	    MB_OK);

	/* ids 3 (STOP: skipped) and 4 */
	mock_set_now(m, MIDNIGHT + 7 * HOUR + 10);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_str_eq(mock_sent(m, 0)->to, "+254720000003");
	cr_assert_eq(sql_int("SELECT cursor FROM prices_bulletin"), 4);
	/* id 5: fewer than the batch, so the day is done */
	timer_ok();
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_str_eq(mock_sent(m, 0)->to, "+254720000004");
	cr_assert_eq(sql_int("SELECT done FROM prices_bulletin"), 1);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0, "once a day");
	mock_set_now(m, MIDNIGHT + 23 * HOUR);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0, "once a day");
	/* the next day at 07:00, again */
	mock_set_now(m, MIDNIGHT + DAY + 7 * HOUR + 5);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 2);
	cr_assert_eq(sql_int("SELECT day FROM prices_bulletin"),
	    MIDNIGHT / DAY + 1);
}

/*
 * A member of a service point, under FOR: the host gives her identity as
 * the sender, and it need not be a phone ("m:M17").  Her report is hers
 * (a farmer's, not weighted as her agent's), her alerts and bulletins are
 * addressed to her identity: the core sends them on to her agent.
 */
#define MEMBER		"m:M17"
#define MEMBER_AGENT	"+254722555000"

Test(prices, a_member_without_a_phone_reports_and_is_alerted)
{
	const struct mock_msg	*r;
	size_t			 i;

	cr_assert_eq(mock_init(m), MB_OK);
	plugin_mock_member(m, MEMBER, "Mary Wanjiku via Kiambogo point",
	    MEMBER_AGENT);
	mock_sender(m, MEMBER, "Mary Wanjiku", "nakuru", "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
	r = run("REPORT maize 2900", MB_OK);
	tmpl_is(r, "prices-report-ok");
	arg_is(r, "market", "Nakuru");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_reports WHERE "
	    "msisdn = '" MEMBER "' AND agent = 0 AND status = 'ok' AND "
	    "price = 290000"), 1);

	r = run("ALERT maize >3000", MB_OK);
	tmpl_is(r, "prices-alert-above");
	r = run("ALERT maize", MB_OK);
	tmpl_is(r, "prices-alert-on");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts WHERE "
	    "msisdn = '" MEMBER "'"), 2);

	/* 2900 3300 -> 3100: above, told to her identity */
	report_as_otieno("REPORT maize 3300");
	timer_ok();
	cr_assert_eq(notices(MEMBER, "prices-cross-above"), 1);
	cr_assert_eq(notices(MEMBER_AGENT, NULL), 0, "the core routes");
	arg_is(mock_sent(m, 0), "median", "3100");

	/* the daily bulletin too, and STOP (hers) is kept */
	mock_set_now(m, MIDNIGHT + DAY + 7 * HOUR);
	timer_ok();
	cr_assert_eq(notices(MEMBER, "prices-bulletin"), 1);
	for (i = 0; i < mock_nsent(m); i++)
		cr_assert_str_eq(mock_sent(m, i)->to, MEMBER);
	user_row(MEMBER, "nakuru", 1);
	mock_set_now(m, MIDNIGHT + 2 * DAY + 7 * HOUR);
	timer_ok();
	cr_assert_eq(notices(MEMBER, NULL), 0, "she sent STOP");

	/* ALERT OFF under FOR ends hers */
	mock_sender(m, MEMBER, "Mary Wanjiku", "nakuru", "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
	r = run("ALERT OFF", MB_OK);
	tmpl_is(r, "prices-alert-off");
	arg_is(r, "n", "2");
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts"), 0);
}

Test(prices, bulletin_board_and_all_markets)
{
	const struct mock_msg	*s;

	mock_conf(m, "bulletin-now", "yes");
	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	sql("INSERT INTO prices_alerts (msisdn, commodity, market, op, created)"
	    " VALUES ('+254720000001', 'maize', 'nakuru', '', 0),"
	    " ('+254720000002', 'maize', '', '', 0),"
	    " ('+254720000003', 'beans', 'mombasa', '', 0),"
	    " ('+254720000004', 'maize', 'nakuru', '>', 0)");
	timer_ok();
	cr_assert_eq(mock_nsent(m), 3, "thresholds get no bulletin");
	/* the board, inside the bulletin's words, in the reader's language */
	s = mock_sent(m, 0);
	cr_assert_str_eq(s->to, "+254720000001");
	tmpl_is(s, "prices-bulletin");
	board_is(s, "prices-board(commodity=maize,");
	board_is(s, ",median=3050,");
	board_is(s, ",n=5,");
	s = mock_sent(m, 1);
	tmpl_is(s, "prices-bulletin");
	board_is(s, "prices-board-all(commodity=maize,");
	board_is(s, ",median=3025,");
	/* no beans at Mombasa; Nakuru has some */
	s = mock_sent(m, 2);
	tmpl_is(s, "prices-bulletin");
	board_is(s, "prices-nodata(commodity=beans,");
	board_is(s, ",market=Mombasa,");
	board_is(s, ",markets=Nakuru");
}

/* bulletin-hour is local time: utc-offset moves it. */
Test(prices, bulletin_local_time)
{
	mock_conf(m, "utc-offset", "+3");
	cr_assert_eq(mock_init(m), MB_OK);
	subscribers(1);
	/* 03:59 UTC is 06:59 in Nairobi */
	mock_set_now(m, MIDNIGHT + 4 * HOUR - 1);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0);
	mock_set_now(m, MIDNIGHT + 4 * HOUR);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 1);
	/* 21:00 UTC is 00:00 of the next local day: not yet */
	mock_set_now(m, MIDNIGHT + 21 * HOUR);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0);
	cr_assert_eq(sql_int("SELECT day FROM prices_bulletin"),
	    MIDNIGHT / DAY);
	/* its 07:00 */
	mock_set_now(m, MIDNIGHT + DAY + 4 * HOUR);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_eq(sql_int("SELECT day FROM prices_bulletin"),
	    MIDNIGHT / DAY + 1);
}

Test(prices, bulletin_now_ignores_the_hour)
{
	mock_conf(m, "bulletin-now", "yes");
	mock_conf(m, "bulletin-hour", "23");
	cr_assert_eq(mock_init(m), MB_OK);
	subscribers(2);
	mock_set_now(m, MIDNIGHT + 60);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 2);
	timer_ok();
	cr_assert_eq(mock_nsent(m), 0, "still once a day");
}

/* Threshold crossings come first and share the batch with the bulletin. */
Test(prices, one_batch_for_both)
{
	mock_conf(m, "batch", "3");
	mock_conf(m, "bulletin-now", "yes");
	cr_assert_eq(mock_init(m), MB_OK);
	report_as_otieno("REPORT maize 2000");
	run("ALERT maize >3000", MB_OK);
	report_as_otieno("REPORT maize 5000");
	report_as_otieno("REPORT maize 5000");
	subscribers(4);
	timer_ok();
	cr_assert_eq(notices(NULL, "prices-cross-above"), 1);
	cr_assert_eq(notices(NULL, "prices-bulletin"), 2);
	timer_ok();
	cr_assert_eq(notices(NULL, "prices-bulletin"), 2);
	cr_assert_eq(sql_int("SELECT done FROM prices_bulletin"), 1);
}

/* --- the store: the board's queries stay on their covering index -------- */

static char *
query_plan(const char *q)
{
	sqlite3_stmt	*st;
	char		 buf[2048] = "", explain[2048];

	snprintf(explain, sizeof(explain), "EXPLAIN QUERY PLAN %s", q);
	cr_assert_eq(sqlite3_prepare_v2(mock_db(m), explain, -1, &st, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(mock_db(m)));
	while (sqlite3_step(st) == SQLITE_ROW) {
		strncat(buf, (const char *)sqlite3_column_text(st, 3),
		    sizeof(buf) - strlen(buf) - 2);
		strcat(buf, "\n");
	}
	sqlite3_finalize(st);
	return strdup(buf);
}

/*
 * ABI 2: the plugin's store is the host's statements only.  Every store
 * function runs on a host whose sqlite3 slots (db, stmt) are NULL, as
 * they are for an ABI 2 plugin (and on PostgreSQL): a call to either
 * would crash the test.  The board over every market binds its own
 * parameter numbers ($1 .. $5, no gap), checked by its result.
 */
Test(prices, store_without_sqlite_slots)
{
	struct mb_host		 h = *mock_host();
	struct mb_ctx		*ctx;
	struct prices_state	*ps;
	struct prices_stats	 st;
	struct prices_board	 board;
	struct prices_sub	 subs[4];
	char			 codes[3][PRICES_CODE_MAX];
	char			 pairs[2][4][PRICES_CODE_MAX];
	long long		 day, cursor;
	size_t			 n;
	int			 done;

	h.abi1_db = NULL;
	h.abi1_stmt = NULL;
	cr_assert_eq(marketbox_plugin.init(mock_plugin_ctx(m), &h), MB_OK);
	ps = mock_state(m);
	ctx = mock_ctx(m);
	nakuru_table();
	report_row("maize", "nakuru", 400000, 1, "ok", NOW - HOUR);
	/* one market, weighted: 290 300 305 310 320 400 400 -> 310 */
	cr_assert_eq(prices_store_stats(ctx, &h, "maize", "nakuru",
	    NOW - 7 * DAY, NOW, 2, &st), 0);
	cr_assert_eq(st.n, 6);
	cr_assert_eq(st.weight, 7);
	cr_assert_eq(st.median, 310000);
	cr_assert_eq(st.low, 290000);
	cr_assert_eq(st.high, 400000);
	/* all markets, weighted: 100 (mombasa) joins -> 305 310 -> 307.5 */
	cr_assert_eq(prices_store_stats(ctx, &h, "maize", NULL,
	    NOW - 7 * DAY, NOW, 2, &st), 0);
	cr_assert_eq(st.n, 7);
	cr_assert_eq(st.weight, 8);
	cr_assert_eq(st.median, 307500);
	cr_assert_eq(st.low, 100000);
	/* all markets, not weighted: 100 290 300 305 310 320 400 -> 305 */
	cr_assert_eq(prices_store_stats(ctx, &h, "maize", NULL,
	    NOW - 7 * DAY, NOW, 1, &st), 0);
	cr_assert_eq(st.median, 305000);
	cr_assert_eq(st.newest, NOW - HOUR);
	cr_assert_eq(prices_store_markets(ctx, &h, "maize", NOW - 7 * DAY,
	    NOW, NULL, codes, 3, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(codes[0], "nakuru");
	cr_assert_str_eq(codes[1], "mombasa");

	cr_assert_eq(prices_store_report(ctx, &h, "beans", "mombasa", 12345,
	    WANJIRU, 0, "ok", NOW), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_reports WHERE "
	    "commodity = 'beans' AND market = 'mombasa' AND price = 12345"), 1);
	cr_assert_eq(prices_store_dirty(ctx, &h, "beans", "mombasa"), 0);
	cr_assert_eq(prices_store_dirty(ctx, &h, "beans", "mombasa"), 0);
	cr_assert_eq(prices_store_dirty_take(ctx, &h, pairs[0], pairs[1], 4,
	    &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(pairs[0][0], "beans");
	cr_assert_eq(prices_store_dirty_done(ctx, &h, "beans", "mombasa"), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_dirty"), 0);

	sql(posts_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	memset(&board, 0, sizeof(board));
	board.now = NOW;
	cr_assert_eq(prices_store_offers(ctx, &h, ps, "maize", "nakuru",
	    &board), 0);
	cr_assert_eq(board.noffers, 1);
	cr_assert_eq(board.offer_ref[0], 41);

	/* a new one, the same again (updated), a bulletin, one too many */
	cr_assert_eq(prices_store_alert_set(ctx, &h, WANJIRU, "maize",
	    "nakuru", '>', 300000, 1, NOW, 2), 0);
	cr_assert_eq(prices_store_alert_set(ctx, &h, WANJIRU, "maize",
	    "nakuru", '>', 350000, 0, NOW, 2), 0);
	cr_assert_eq(sql_int("SELECT threshold FROM prices_alerts WHERE "
	    "op = '>'"), 350000);
	cr_assert_eq(prices_store_alert_set(ctx, &h, WANJIRU, "maize", "",
	    0, 0, 0, NOW, 2), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts WHERE "
	    "op = '' AND threshold IS NULL"), 1);
	cr_assert_eq(prices_store_alert_set(ctx, &h, WANJIRU, "beans", "",
	    0, 0, 0, NOW, 2), 1);
	/* the median 360000 is above 350000: fired 0 differs */
	cr_assert_eq(prices_store_crossed(ctx, &h, "maize", "nakuru", 360000,
	    subs, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(subs[0].op, '>');
	cr_assert_eq(subs[0].threshold, 350000);
	cr_assert_eq(prices_store_set_fired(ctx, &h, subs[0].id, 1), 0);
	cr_assert_eq(prices_store_crossed(ctx, &h, "maize", "nakuru", 360000,
	    subs, 4, &n), 0);
	cr_assert_eq(n, 0);
	/* and below it again: fired 1 differs */
	cr_assert_eq(prices_store_crossed(ctx, &h, "maize", "nakuru", 340000,
	    subs, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(prices_store_bulletin_subs(ctx, &h, 0, subs, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(subs[0].msisdn, WANJIRU);
	cr_assert_str_eq(subs[0].market, "");

	cr_assert_eq(prices_store_cursor_set(ctx, &h, 19000, 7, 0), 0);
	cr_assert_eq(prices_store_cursor(ctx, &h, &day, &cursor, &done), 0);
	cr_assert_eq(day, 19000);
	cr_assert_eq(cursor, 7);
	cr_assert_eq(done, 0);

	cr_assert_eq(prices_store_alert_off(ctx, &h, WANJIRU, "beans"), 0);
	cr_assert_eq(prices_store_alert_off(ctx, &h, WANJIRU, NULL), 2);
	marketbox_plugin.fini(mock_plugin_ctx(m), &h);
}

/* A host without the store of ABI 2 is refused at init, logged. */
Test(prices, host_without_store_refused)
{
	struct mb_host	 h = *mock_host();

	h.query = NULL;
	cr_assert_eq(marketbox_plugin.init(mock_plugin_ctx(m), &h), MB_FAIL);
	cr_assert_null(mock_state(m));
	cr_assert_eq(mock_nlogs(m), 1);
	cr_assert(strstr(mock_log_at(m, 0), "ABI 2") != NULL, "%s",
	    mock_log_at(m, 0));
}

Test(prices, board_queries_use_the_covering_index)
{
	static const char *queries[] = {
		PRICES_SQL_STATS("prices_reports AS r"),
		PRICES_SQL_MEDIAN("prices_reports AS r"),
		PRICES_SQL_MEDIAN_WEIGHTED("prices_reports AS r"),
	};
	size_t	 i;
	char	*plan;

	cr_assert_eq(mock_init(m), MB_OK);
	nakuru_table();
	sql("ANALYZE");
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		plan = query_plan(queries[i]);
		cr_assert(strstr(plan, "USING COVERING INDEX "
		    "prices_reports_board (commodity=? AND market=? AND "
		    "status=? AND created>? AND created<?)") != NULL,
		    "query %zu:\n%s", i, plan);
		cr_assert(strstr(plan, "SCAN r") == NULL, "%s", plan);
		free(plan);
	}
	/* and the baseline of the benchmark is a full scan */
	plan = query_plan(PRICES_SQL_STATS("prices_reports AS r NOT INDEXED"));
	cr_assert(strstr(plan, "SCAN r") != NULL, "%s", plan);
	free(plan);
}

/* --- the shipped templates ---------------------------------------------- */

static const char * const prices_templates[] = {
	"prices-board", "prices-board-offers", "prices-board-all",
	"prices-board-all-offers", "prices-offer", "prices-offer-more",
	"prices-offer-pool", "prices-offer-pool-more", "prices-rep",
	"prices-offer-rep", "prices-offer-more-rep", "prices-offer-pool-rep",
	"prices-offer-pool-more-rep",
	"prices-last-days", "prices-last-hours", "prices-last-minutes",
	"prices-ago-days", "prices-ago-hours", "prices-ago-minutes",
	"prices-before-days", "prices-before-hours", "prices-before-minutes",
	"prices-trend-up", "prices-trend-down", "prices-trend-same",
	"prices-nodata", "prices-nodata-none", "prices-nodata-all",
	"prices-nodata-offers", "prices-nodata-all-offers", "prices-bulletin",
	"prices-market-near", "prices-market-list", "prices-market-unknown",
	"prices-commodity-unknown", "prices-commodity-suggest",
	"prices-report-ok", "prices-report-held", "prices-report-market",
	"prices-alert-on", "prices-alert-on-all", "prices-alert-above",
	"prices-alert-below", "prices-alert-need-market",
	"prices-alert-stopped", "prices-alert-max", "prices-alert-off",
	"prices-alert-off-none", "prices-cross-above", "prices-cross-below",
	"help-PRICE", "help-REPORT", "help-ALERT", "usage-PRICE",
	"usage-REPORT", "usage-ALERT",
};
#define NTEMPLATES	(sizeof(prices_templates) / sizeof(prices_templates[0]))

/*
 * Every language has every template of the plugin (its own, not the
 * default's), and each, filled in that language with the numbers 0, 1, 2,
 * 5, 21 and 1000 (counts, quantities), prices with five digits or
 * decimals, the oldest age of a report and a long market name, has a
 * value for each placeholder and fits one SMS.  The boards are measured
 * with one offer (the issue's "#41 3,000 (10 bags)") and no trend at a
 * market of the usual length, up to 5 reports (the plugin drops the
 * trend, then offers, until a board fits).  The commodity
 * of each language is one whose name keeps its replies in the GSM
 * alphabet (French "maïs" does not: its texts need UCS-2).
 */
Test(prices_text, every_template_fits_one_sms)
{
	static const struct { const char *lang, *commodity, *unit; } l[] = {
		{ "en", "tomato", "crate" }, { "sw", "maize", "bag" },
		{ "fr", "beans", "bag" }, { "zh", "potato", "bag" },
	};
	static const char * const counts[] = { "0", "1", "2", "5", "21",
	    "1000" };
	struct mb_arg	 args[32];
	const char	*t, *en;
	char		*window, *age, *before, *offer, *s;
	size_t		 i, j, k, n, mk, pk, rk, hk;
	int		 board;

	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		for (j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
			const char	*c = counts[j];
			struct mb_arg	 w = { "n", "7" }, a = { "n", "23" };

			window = text_render(l[i].lang, "prices-last-days",
			    &w, 1);
			before = text_render(l[i].lang, "prices-before-days",
			    &w, 1);
			age = text_render(l[i].lang, "prices-ago-hours", &a, 1);
			n = 0;
			rk = n;
			args[n++] = (struct mb_arg){ "ref", "41" };
			pk = n;
			args[n++] = (struct mb_arg){ "price", "3000" };
			args[n++] = (struct mb_arg){ "qty", c };
			args[n++] = (struct mb_arg){ "unit", l[i].unit };
			offer = text_render(l[i].lang, "prices-offer", args, n);
			args[n++] = (struct mb_arg){ "commodity",
			    l[i].commodity };
			mk = n;
			args[n++] = (struct mb_arg){ "market", NULL };
			args[n++] = (struct mb_arg){ "window", window };
			args[n++] = (struct mb_arg){ "median", "3050" };
			args[n++] = (struct mb_arg){ "low", "2900" };
			hk = n;
			args[n++] = (struct mb_arg){ "high", NULL };
			args[n++] = (struct mb_arg){ "n", c };
			args[n++] = (struct mb_arg){ "age", age };
			args[n++] = (struct mb_arg){ "trend", "" };
			args[n++] = (struct mb_arg){ "offers", offer };
			args[n++] = (struct mb_arg){ "currency", "KES" };
			args[n++] = (struct mb_arg){ "markets",
			    "Nakuru, Eldoret, Kitale" };
			args[n++] = (struct mb_arg){ "word", "mahindi" };
			args[n++] = (struct mb_arg){ "time", "07:00" };
			args[n++] = (struct mb_arg){ "max", c };
			args[n++] = (struct mb_arg){ "pct", c };
			args[n++] = (struct mb_arg){ "before", before };
			args[n++] = (struct mb_arg){ "board",
			    "Sorghum, bag, Nakuru: 3,050 KES" };
			args[n++] = (struct mb_arg){ "farmers", c };
			args[n++] = (struct mb_arg){ "trades", c };
			args[n++] = (struct mb_arg){ "failed", c };
			args[n++] = (struct mb_arg){ "rated", c };
			args[n++] = (struct mb_arg){ "stars", "4.5" };
			args[n++] = (struct mb_arg){ "record", "12 trades, 4.5*" };
			for (k = 0; k < NTEMPLATES; k++) {
				t = lang_template(text_langs, l[i].lang,
				    prices_templates[k]);
				en = lang_template(text_langs, "en",
				    prices_templates[k]);
				cr_assert_not_null(t, "%s lacks %s", l[i].lang,
				    prices_templates[k]);
				if (i != 0)
					cr_assert(t != en, "%s falls back for "
					    "%s", l[i].lang,
					    prices_templates[k]);
				/* the boards at a market of the usual length,
				   with an offer up to 5 reports */
				board = strncmp(prices_templates[k],
				    "prices-board", 12) == 0;
				if (board && strstr(prices_templates[k],
				    "offers") != NULL && j + 2 >=
				    sizeof(counts) / sizeof(counts[0]))
					continue;
				args[mk].value = board ? "Nakuru" :
				    "Wakulima (Nairobi)";
				args[hk].value = board ? "3200" : "32000";
				args[pk].value = board ? "3000" : "3050.50";
				args[rk].value = board ? "41" : "12345";
				s = text_render(l[i].lang, prices_templates[k],
				    args, n);
				cr_expect(gsm_sent_parts(s, strlen(s)) == 1, "%s %s (%s): "
				    "more than one SMS: %s", l[i].lang,
				    prices_templates[k], c, s);
				free(s);
			}
			free(window);
			free(before);
			free(age);
			free(offer);
		}
}

/* --- seasonal reminders (issue 17) ---------------------------------------- */

/* The market plugin's pools, as plugins/market keeps them (what is read). */
static const char pools_sql[] =
    "CREATE TABLE market_pools ("
    "  ref INTEGER PRIMARY KEY, kind TEXT NOT NULL, opener TEXT NOT NULL,"
    "  commodity TEXT NOT NULL, unit TEXT NOT NULL, market TEXT,"
    "  target INTEGER NOT NULL, price INTEGER NOT NULL, rule TEXT NOT NULL,"
    "  state TEXT NOT NULL, created INTEGER NOT NULL,"
    "  deadline INTEGER NOT NULL, told INTEGER NOT NULL DEFAULT 0)";

/* A pool of dap (target 50 bags at 3,300) Otieno opened at market. */
static void
dap_pool(long long ref, const char *kind, const char *market,
    long long created, long long deadline)
{
	sql_bind("INSERT INTO market_pools VALUES (?1, ?2, ?3, 'dap', 'bag', "
	    "?4, 50, 330000, 'joined', 'open', ?5, ?6, 0)", "itttii", ref, kind,
	    OTIENO, market, created, deadline);
}

#define KAMAU		"+254711000333"
#define OKELLO		"+256772000999"

/* 2024-03-15, local midnight at utc-offset 0 */
static long long
season_start(void)
{
	return prices_text_civil_days(2024, 3, 15) * DAY;
}

static void
season_declare(void)
{
	struct mb_season	 s;

	memset(&s, 0, sizeof(s));
	s.code = "long-rains";
	s.region = "Rift Valley";
	s.inputs[0] = "maize";		/* first: nobody subscribes to it */
	s.inputs[1] = "dap";
	s.ninputs = 2;
	s.start_month = 3;
	s.start_day = 15;
	s.remind[0] = 21 * DAY;
	s.remind[1] = 7 * DAY;
	s.nremind = 2;
	mock_season(m, &s);
}

/* subscribers: Wanjiru at Nakuru (Rift Valley), Otieno at Mombasa
   (Coast), Kamau for all markets, living at Nakuru; Okello subscribes to
   beans only */
static void
season_subscribers(void)
{
	cr_assert_eq(mock_command(m, "ALERT dap"), MB_OK);
	cr_assert_eq(mock_command(m, "ALERT mbolea nakuru"), MB_OK);
	mock_sender(m, OTIENO, "Otieno", "mombasa", "en", MB_ROLE_FARMER);
	cr_assert_eq(mock_command(m, "ALERT dap"), MB_OK);
	mock_sender(m, KAMAU, "Kamau", NULL, "en", MB_ROLE_FARMER);
	cr_assert_eq(mock_command(m, "ALERT dap"), MB_OK);
	user_row(KAMAU, "nakuru", 0);
	mock_sender(m, OKELLO, "Okello", "nakuru", "en", MB_ROLE_FARMER);
	cr_assert_eq(mock_command(m, "ALERT beans"), MB_OK);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_alerts WHERE "
	    "commodity = 'dap'"), 3, "ALERT takes an input commodity");
}

/* The seasonal reminders captured, in order. */
static size_t
season_sent(const struct mock_msg **out, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; i < mock_nsent(m); i++)
		if (strncmp(mock_sent(m, i)->tmpl, "prices-season", 13) == 0 &&
		    n < max)
			out[n++] = mock_sent(m, i);
	return n;
}

static size_t
season_run(const struct mock_msg **out, size_t max)
{
	mock_clear(m);
	cr_assert_eq(mock_timer(m, "prices"), MB_OK);
	return season_sent(out, max);
}

Test(prices, season_reminder_once_per_subscriber_in_the_region)
{
	const struct mock_msg	*s[8];
	struct prices_state	*ps;

	season_declare();
	cr_assert_eq(mock_init(m), MB_OK);
	season_subscribers();

	/* a day before the first reminder: nothing */
	mock_set_now(m, season_start() - 22 * DAY);
	cr_assert_eq(season_run(s, 8), 0);

	/* three weeks before: Wanjiru (once, for her two subscriptions) and
	   Kamau; not Otieno at the coast, nor Okello */
	mock_set_now(m, season_start() - 21 * DAY);
	cr_assert_eq(season_run(s, 8), 2);
	cr_assert_str_eq(s[0]->to, WANJIRU);
	cr_assert_str_eq(s[1]->to, KAMAU);
	cr_assert_str_eq(s[0]->tmpl, "prices-season");
	arg_is(s[0], "commodity", "dap");
	arg_is(s[0], "when", "prices-season-in-weeks(n=3)");
	arg_is(s[0], "market", NULL);
	arg_is(s[0], "pool", NULL);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_season_sent WHERE "
	    "season = 'long-rains' AND year = 2024 AND told = 1"), 2);

	/* the next run, and after a restart (the plugin's memory gone):
	   nothing again */
	mock_set_now(m, season_start() - 20 * DAY);
	cr_assert_eq(season_run(s, 8), 0);
	ps = mock_state(m);
	memset(ps->season_done, 0, sizeof(ps->season_done));
	cr_assert_eq(season_run(s, 8), 0, "a restart sends nothing again");

	/* a subscriber who comes later gets it once the round is looked at
	   again */
	mock_sender(m, OKELLO, "Okello", "nakuru", "en", MB_ROLE_FARMER);
	cr_assert_eq(mock_command(m, "ALERT dap"), MB_OK);
	mock_set_now(m, season_start() - 20 * DAY + 2 * HOUR);
	cr_assert_eq(season_run(s, 8), 1);
	cr_assert_str_eq(s[0]->to, OKELLO);
	arg_is(s[0], "when", "prices-season-in-days(n=20)");

	/* the second reminder, a week before: each once more */
	mock_set_now(m, season_start() - 7 * DAY + HOUR);
	cr_assert_eq(season_run(s, 8), 3);
	arg_is(s[0], "when", "prices-season-in-weeks(n=1)");
	cr_assert_eq(season_run(s, 8), 0);

	/* the season has started: the next reminder is next year's */
	mock_set_now(m, season_start() + HOUR);
	cr_assert_eq(season_run(s, 8), 0);
}

Test(prices, season_reminder_names_the_offer_and_the_pool)
{
	const struct mock_msg	*s[8];
	long long		 now = season_start() - 21 * DAY;
	long long		 friday;

	sql(posts_sql);
	sql(pools_sql);
	season_declare();
	cr_assert_eq(mock_init(m), MB_OK);
	cr_assert_eq(mock_command(m, "ALERT dap"), MB_OK);
	/* a cheaper offer at the coast and a closed one are not named; nor
	   is an offer of another unit */
	post(61, "offer", "dap", "bag", "nakuru", 200, 340000, "open", 0);
	post(62, "offer", "dap", "bag", "mombasa", 200, 300000, "open", 0);
	post(63, "offer", "dap", "bag", "nakuru", 200, 310000, "closed", 0);
	post(64, "offer", "dap", "bag", "nakuru", 200, 320000, "open", 0);
	post(65, "offer", "dap", "kg", "nakuru", 200, 1000, "open", 0);
	/* 2024-02-23 is a Friday: the pool closes a week later, Friday */
	friday = now + 7 * DAY + 10 * HOUR;
	dap_pool(52, "want", "nakuru", now - DAY, friday);
	dap_pool(53, "want", "mombasa", now - DAY, now + DAY);
	dap_pool(54, "sell", "nakuru", now - DAY, now + DAY);

	mock_set_now(m, now);
	cr_assert_eq(season_run(s, 8), 1);
	cr_assert_str_eq(s[0]->tmpl, "prices-season-offer-pool");
	arg_is(s[0], "ref", "64");
	arg_is(s[0], "price", "3200");
	arg_is(s[0], "market", "Nakuru");
	arg_is(s[0], "unit", "bag");
	arg_is(s[0], "currency", "KES");
	arg_is(s[0], "pool", "52");
	arg_is(s[0], "day", "prices-day-5()");

	/* offer only, pool only (the next reminder's round) */
	sql("UPDATE market_pools SET state = 'listed' WHERE ref = 52");
	mock_set_now(m, season_start() - 7 * DAY);
	cr_assert_eq(season_run(s, 8), 1);
	cr_assert_str_eq(s[0]->tmpl, "prices-season-offer");
	sql("DELETE FROM prices_season_sent");
	sql("UPDATE market_posts SET state = 'closed'");
	sql_bind("UPDATE market_pools SET state = 'open', deadline = ?1 WHERE "
	    "ref = 52", "i", season_start() - 3 * DAY);
	mock_set_now(m, season_start() - 7 * DAY + 2 * HOUR);
	cr_assert_eq(season_run(s, 8), 1);
	cr_assert_str_eq(s[0]->tmpl, "prices-season-pool");
	arg_is(s[0], "ref", NULL);
	arg_is(s[0], "pool", "52");
}

Test(prices, season_reminders_in_batches_and_after_stop)
{
	const struct mock_msg	*s[8];
	char			 phone[32];
	int			 i;

	season_declare();
	mock_conf(m, "batch", "3");
	cr_assert_eq(mock_init(m), MB_OK);
	for (i = 0; i < 7; i++) {
		snprintf(phone, sizeof(phone), "+2547100000%02d", i);
		mock_sender(m, phone, "Farmer", "nakuru", "en",
		    MB_ROLE_FARMER);
		cr_assert_eq(mock_command(m, "ALERT dap"), MB_OK);
	}
	user_row("+254710000001", "nakuru", 1);		/* sent STOP */
	mock_set_now(m, season_start() - 21 * DAY);
	/* three looked at a run: the second of them had sent STOP */
	cr_assert_eq(season_run(s, 8), 2, "one looked at, not told: STOP");
	cr_assert_eq(season_run(s, 8), 3);
	cr_assert_eq(season_run(s, 8), 1);
	cr_assert_eq(season_run(s, 8), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_season_sent"), 7);
	cr_assert_eq(sql_int("SELECT told FROM prices_season_sent WHERE "
	    "msisdn = '+254710000001'"), 0);
}

/* A host from before seasons (its table ends at trade_done): none sent. */
Test(prices, season_reminders_need_a_newer_host)
{
	const struct mock_msg	*s[8];

	season_declare();
	mock_host_size(m, offsetof(struct mb_host, commodity_kind));
	cr_assert_eq(mock_init(m), MB_OK);
	cr_assert_eq(mock_command(m, "ALERT dap"), MB_OK);
	mock_set_now(m, season_start() - 21 * DAY);
	cr_assert_eq(season_run(s, 8), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM prices_season_sent"), 0);
}

Test(prices_text, season_templates_fit_one_sms)
{
	static const char * const langs[] = { "en", "sw", "fr", "zh" };
	static const char * const tmpls[] = { "prices-season",
	    "prices-season-offer", "prices-season-pool",
	    "prices-season-offer-pool" };
	static const char * const inputs[] = { "maize-seed", "dap", "can" };
	static const char * const counts[] = { "1", "2", "3", "20", "180" };
	struct mb_arg	 args[12], w = { "n", NULL };
	char		*when, *day, *s, dt[24];
	size_t		 i, j, k, c, d, n;

	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			for (k = 0; k < 3; k++)
				for (c = 0; c < 5; c++)
					for (d = 0; d < 7; d++) {
		w.value = counts[c];
		when = text_render(langs[i], c < 3 ?
		    "prices-season-in-weeks" : "prices-season-in-days", &w, 1);
		snprintf(dt, sizeof(dt), "prices-day-%zu", d);
		day = text_render(langs[i], dt, NULL, 0);
		n = 0;
		args[n++] = (struct mb_arg){ "when", when };
		args[n++] = (struct mb_arg){ "commodity", inputs[k] };
		args[n++] = (struct mb_arg){ "unit", k == 0 ? "packet" :
		    "bag" };
		args[n++] = (struct mb_arg){ "currency", "KES" };
		args[n++] = (struct mb_arg){ "market", "Wakulima (Nairobi)" };
		args[n++] = (struct mb_arg){ "price", "32000.50" };
		args[n++] = (struct mb_arg){ "ref", "123456" };
		args[n++] = (struct mb_arg){ "pool", "123457" };
		args[n++] = (struct mb_arg){ "day", day };
		s = text_render(langs[i], tmpls[j], args, n);
		cr_expect(gsm_sent_parts(s, strlen(s)) == 1, "%s %s: more than "
		    "one SMS: %s", langs[i], tmpls[j], s);
		if (i > 0)
			cr_assert(lang_template(text_langs, langs[i], tmpls[j]) !=
			    lang_template(text_langs, "en", tmpls[j]),
			    "%s falls back for %s", langs[i], tmpls[j]);
		free(s);
		free(when);
		free(day);
	}
}

/* --- a region's deal in a big market (the region chosen in SQL) ----------- */

/*
 * Sixty cheaper offers and sixty pools closing sooner at the coast do not
 * hide the Rift Valley's own: the region's markets are bound into the
 * queries, not picked from a first page of every market's rows.
 */
Test(prices, season_reminder_finds_the_region_in_a_big_market)
{
	const struct mock_msg	*s[8];
	long long		 now = season_start() - 21 * DAY;
	long long		 ref;

	sql(posts_sql);
	sql(pools_sql);
	season_declare();
	cr_assert_eq(mock_init(m), MB_OK);
	cr_assert_eq(mock_command(m, "ALERT dap"), MB_OK);
	for (ref = 100; ref < 160; ref++) {
		post(ref, "offer", "dap", "bag", "mombasa", 200, 300000 + ref,
		    "open", 0);
		dap_pool(ref + 100, "want", "mombasa", now - DAY,
		    now + HOUR + ref);
	}
	post(300, "offer", "dap", "bag", "nakuru", 200, 340000, "open", 0);
	post(301, "offer", "dap", "bag", "nakuru", 200, 345000, "open", 0);
	dap_pool(302, "want", "nakuru", now - DAY, now + 3 * DAY);
	dap_pool(303, "want", "nakuru", now - DAY, now + 2 * DAY);

	mock_set_now(m, now);
	cr_assert_eq(season_run(s, 8), 1);
	cr_assert_str_eq(s[0]->tmpl, "prices-season-offer-pool");
	arg_is(s[0], "ref", "300");
	arg_is(s[0], "price", "3400");
	arg_is(s[0], "market", "Nakuru");
	arg_is(s[0], "pool", "303");
}

/* The board's offers of a region, however many other markets have. */
Test(prices, board_offers_of_the_region_in_a_big_market)
{
	struct prices_board	 b;
	long long		 ref;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	for (ref = 100; ref < 160; ref++)
		post(ref, "offer", "maize", "bag", "mombasa", 5, 200000 + ref,
		    "open", 0LL);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	memset(&b, 0, sizeof(b));
	b.now = NOW;
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	cr_assert_eq(b.noffers, 1);
	cr_assert_eq(b.offer_ref[0], 41);
	/* and every market's for all markets: the cheapest three */
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", NULL, &b), 0);
	cr_assert_eq(b.noffers, 3);
	cr_assert_eq(b.offer_ref[0], 100);
	cr_assert_eq(b.offer_ref[2], 102);
}

/* --- a listed sell pool on the board (issue 17) --------------------------- */

/* The market plugin's shares, as plugins/market keeps them (what is read). */
static const char shares_sql[] =
    "CREATE TABLE market_pool_shares ("
    "  pool INTEGER NOT NULL, member TEXT NOT NULL, qty INTEGER NOT NULL,"
    "  sold INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL,"
    "  joined INTEGER NOT NULL, PRIMARY KEY (pool, member))";

/*
 * Pool ref of kind with n members at market, and (for a listed sell
 * pool) its offer of qty at cents.
 */
static void
pool_with(long long ref, const char *kind, const char *state,
    const char *market, int n, long long qty, long long cents)
{
	char	 member[32];
	int	 i;

	sql_bind("INSERT INTO market_pools VALUES (?1, ?2, ?3, 'maize', "
	    "'bag', ?4, 100, ?5, 'joined', ?6, ?7, ?8, 0)", "itttitii", ref,
	    kind, OTIENO, market, cents, state, NOW - DAY, NOW + DAY);
	for (i = 0; i < n; i++) {
		snprintf(member, sizeof(member), "+2547200000%02d", i);
		sql_bind("INSERT INTO market_pool_shares VALUES (?1, ?2, ?3, 0,"
		    " ?4, ?5)", "itiii", ref, member, qty / n, (long long)i + 1,
		    NOW - DAY);
	}
	if (strcmp(kind, "sell") == 0 && strcmp(state, "listed") == 0)
		post(ref, "offer", "maize", "bag", market, qty, cents, "open",
		    0LL);
}

Test(prices, board_shows_a_pool_and_its_farmers)
{
	struct prices_board	 b;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 310000, "open", 0LL);
	/* without the pool tables, a pool's offer is an offer */
	post(51, "offer", "maize", "bag", "nakuru", 100, 300000, "open", 0LL);
	memset(&b, 0, sizeof(b));
	b.now = NOW;
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	cr_assert_eq(b.noffers, 2);
	cr_assert_eq(b.offer_farmers[0], 0);
	sql("DELETE FROM market_posts WHERE ref = 51");

	sql(pools_sql);
	sql(shares_sql);
	pool_with(51, "sell", "listed", "nakuru", 5, 100, 300000);
	/* an open pool is not for sale yet; a buying pool is no offer */
	pool_with(52, "sell", "open", "nakuru", 2, 20, 290000);
	pool_with(53, "want", "open", "nakuru", 3, 30, 280000);
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	cr_assert_eq(b.noffers, 2);
	cr_assert_eq(b.offer_ref[0], 51);
	cr_assert_eq(b.offer_farmers[0], 5);
	cr_assert_eq(b.offer_qty[0], 100);
	cr_assert_eq(b.offer_ref[1], 41);
	cr_assert_eq(b.offer_farmers[1], 0);

	/* how it reads is for the texts (a_pool_on_the_board_...): the
	   mock's "tmpl(...)" rendering of it does not fit one SMS */
}

/* A pool on the board in each language: said, counted, in one SMS. */
Test(prices_text, a_pool_on_the_board_in_every_language)
{
	static const struct { const char *lang, *word, *want; } l[] = {
		{ "en", "maize", "No prices reported for maize at Nakuru in "
		    "the last 7 days. For sale: #51 3,000 (100 bags, pool of 5 "
		    "farmers), #41 3,100 (10 bags)" },
		{ "sw", "mahindi", "Hakuna bei ya mahindi iliyoripotiwa Nakuru "
		    "katika siku 7 zilizopita. Ofa: #51 3,000 (magunia 100, "
		    "kikundi cha wakulima 5), #41 3,100 (magunia 10)" },
		{ "fr", "mais", "Maïs: aucun prix signalé à Nakuru depuis 7 "
		    "jours. En vente: #51 3 000 (100 sacs, groupe de 5 "
		    "producteurs), #41 3 100 (10 sacs)" },
		{ "zh", "maize", "Nakuru近7天无玉米价格。在售：#51 3,000（100袋，"
		    "5位农户拼单），#41 3,100（10袋）" },
	};
	const char	*t;
	size_t		 i;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	sql(pools_sql);
	sql(shares_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 310000, "open", 0LL);
	pool_with(51, "sell", "listed", "nakuru", 5, 100, 300000);
	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		char	 cmd[64];

		text_sender(l[i].lang);
		snprintf(cmd, sizeof(cmd), "PRICE %s", l[i].word);
		t = said(cmd);
		/* text_is: and in one SMS */
		text_is(t, l[i].want);
	}
	/* a full board has no room for it: the pool shows as the offer it
	   also is rather than not at all */
	nakuru_table();
	text_sender("en");
	text_is(said("PRICE maize"), "Maize, bag, Nakuru, last 7 days: middle "
	    "price 3,050 KES, lowest 2,900, highest 3,200, 5 reports, newest 2 "
	    "hours ago. For sale: #51 3,000 (100 bags)");
}

/* --- the seller's record on the board (issue 18) --------------------------- */

/*
 * The market plugin's tables a record is counted from, as plugins/market
 * keeps them (the columns market_rep_sql.h reads).
 */
static const char *const rep_sql[] = {
	"CREATE TABLE market_orders (ref INTEGER PRIMARY KEY, buyer TEXT NOT"
	" NULL, seller TEXT NOT NULL, state TEXT NOT NULL, parent INTEGER,"
	" offer INTEGER, want INTEGER, cancelled_by TEXT)",
	"CREATE TABLE market_legs (order_ref INTEGER NOT NULL, seq INTEGER NOT"
	" NULL, carrier TEXT, state TEXT NOT NULL, due_at INTEGER, ended"
	" INTEGER, PRIMARY KEY (order_ref, seq))",
	"CREATE TABLE market_disputes (ref INTEGER PRIMARY KEY, order_ref"
	" INTEGER NOT NULL, state TEXT NOT NULL, decision TEXT)",
	"CREATE TABLE market_ratings (order_ref INTEGER NOT NULL, rater TEXT"
	" NOT NULL, rated TEXT NOT NULL, stars INTEGER NOT NULL)",
};

#define SELLER		"+254700000009"		/* post()'s */
#define SELLER2		"+254700000008"

/*
 * The record of SELLER: 3 trades (orders 1-3), one of them as a buyer;
 * against her an order she cancelled (4), one she rejected (5), one left
 * to expire (6), a late leg (the one carried in time is not), a dispute
 * lost (on 1); 2 ratings, 4 and 5 stars.  What is not hers: an order
 * cancelled by its buyer (7), another's late leg, a dispute won (on 2).
 * SELLER2 has an order pending only: no trades.
 */
static void
rep_rows(void (*exec)(const char *))
{
	static const char *const rows[] = {
		"INSERT INTO market_orders VALUES (1, 'b', '" SELLER "',"
		" 'delivered', NULL, 41, NULL, NULL)",
		"INSERT INTO market_orders VALUES (2, 'b', '" SELLER "',"
		" 'delivered', NULL, 41, NULL, NULL)",
		"INSERT INTO market_orders VALUES (3, '" SELLER "', 'c',"
		" 'delivered', NULL, 99, NULL, NULL)",
		"INSERT INTO market_orders VALUES (4, 'b', '" SELLER "',"
		" 'cancelled', NULL, 41, NULL, 'seller')",
		"INSERT INTO market_orders VALUES (5, 'b', '" SELLER "',"
		" 'rejected', NULL, 41, NULL, NULL)",
		"INSERT INTO market_orders VALUES (6, 'b', '" SELLER "',"
		" 'expired', NULL, 41, NULL, NULL)",
		"INSERT INTO market_orders VALUES (7, 'b', '" SELLER "',"
		" 'cancelled', NULL, 41, NULL, 'buyer')",
		"INSERT INTO market_orders VALUES (8, 'b', '" SELLER2 "',"
		" 'pending', NULL, 52, NULL, NULL)",
		"INSERT INTO market_legs VALUES (3, 1, '" SELLER "', 'done',"
		" 1699990000, 1699990001)",
		"INSERT INTO market_legs VALUES (3, 2, '" SELLER "', 'done',"
		" 1699990000, 1699990000)",
		"INSERT INTO market_legs VALUES (3, 3, 'c', 'moving',"
		" 1699990000, NULL)",
		"INSERT INTO market_disputes VALUES (1, 1, 'closed', 'buyer')",
		"INSERT INTO market_disputes VALUES (2, 2, 'closed', 'seller')",
		"INSERT INTO market_ratings VALUES (1, 'b', '" SELLER "', 4)",
		"INSERT INTO market_ratings VALUES (3, 'c', '" SELLER "', 5)",
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		exec(rows[i]);
}

static void
rep_tables(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(rep_sql) / sizeof(rep_sql[0]); i++)
		sql(rep_sql[i]);
	rep_rows(sql);
}

/* SELLER's record as rep_rows makes it, and SELLER2's (none). */
static void
rep_is(const struct prices_board *b)
{
	cr_assert_eq(b->noffers, 2);
	cr_assert_eq(b->offer_ref[0], 41);
	cr_assert(b->offer_rep[0].known);
	cr_assert_eq(b->offer_rep[0].trades, 3);
	cr_assert_eq(b->offer_rep[0].failed, 5, "%lld",
	    b->offer_rep[0].failed);
	cr_assert_eq(b->offer_rep[0].rated, 2);
	cr_assert_eq(b->offer_rep[0].stars, 9);
	cr_assert_eq(b->offer_ref[1], 52);
	cr_assert(b->offer_rep[1].known);
	cr_assert_eq(b->offer_rep[1].trades, 0);
	cr_assert_eq(b->offer_rep[1].failed, 0);
	cr_assert_eq(b->offer_rep[1].rated, 0);
}

/*
 * Each offer's seller's record is read with the offers (one statement),
 * as the market plugin counts it; without the market plugin's tables of
 * it, the offers go without.
 */
Test(prices, board_offers_carry_their_sellers_record)
{
	struct prices_board	 b;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	sql(pools_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	post(52, "offer", "maize", "bag", "nakuru", 5, 310000, "open", 0LL);
	sql("UPDATE market_posts SET msisdn = '" SELLER2 "' WHERE ref = 52");
	memset(&b, 0, sizeof(b));
	b.now = NOW;
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	cr_assert_eq(b.noffers, 2);
	cr_assert(!b.offer_rep[0].known);
	rep_tables();
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	rep_is(&b);
	/* every market's, the same */
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", NULL, &b), 0);
	rep_is(&b);
	/* a leg still moving past its due time is late now */
	sql("INSERT INTO market_legs VALUES (3, 4, '" SELLER "', 'moving', "
	    "1700000000, NULL)");
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	cr_assert_eq(b.offer_rep[0].failed, 5);
	b.now = NOW + 1;
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	cr_assert_eq(b.offer_rep[0].failed, 6);
}

/*
 * Tables of a record of another shape (a market plugin before schema
 * step 10: legs without ended): the offers show, without records.
 */
Test(prices, board_offers_without_records_of_another_shape)
{
	struct prices_board	 b;
	size_t			 i;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	sql(pools_sql);
	for (i = 0; i < sizeof(rep_sql) / sizeof(rep_sql[0]); i++)
		if (strstr(rep_sql[i], "market_legs") == NULL)
			sql(rep_sql[i]);
	sql("CREATE TABLE market_legs (order_ref INTEGER NOT NULL, seq INTEGER"
	    " NOT NULL, carrier TEXT, state TEXT NOT NULL, due_at INTEGER)");
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	memset(&b, 0, sizeof(b));
	b.now = NOW;
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	cr_assert_eq(b.noffers, 1);
	cr_assert_eq(b.offer_ref[0], 41);
	cr_assert(!b.offer_rep[0].known);
}

/*
 * A host whose query() fails the next fail_rep statements that read the
 * records (market_legs), as a passing failure of the store would.
 */
static int		 fail_rep;

static struct mb_stmt *
query_failing(struct mb_ctx *ctx, const char *q)
{
	if (fail_rep > 0 && strstr(q, "market_legs") != NULL) {
		fail_rep--;
		return NULL;
	}
	return mock_host()->query(ctx, q);
}

/*
 * The board's statement with the records failing once, the tables of
 * the shape known: this board goes without records, the next has them
 * again (not given up until a restart).  b.now: the caller's.
 */
static void
records_come_back(struct prices_board *b)
{
	struct mb_host	 h = *mock_host();

	h.query = query_failing;
	fail_rep = 1;
	cr_assert_eq(prices_store_offers(mock_ctx(m), &h, mock_state(m),
	    "maize", "nakuru", b), 0);
	cr_assert_eq(fail_rep, 0, "the records' statement was not tried");
	cr_assert_eq(b->noffers, 2, "the offers show without records");
	cr_assert(!b->offer_rep[0].known);
	cr_assert_eq(prices_store_offers(mock_ctx(m), &h, mock_state(m),
	    "maize", "nakuru", b), 0);
	rep_is(b);
}

Test(prices, board_records_come_back_after_a_passing_failure)
{
	struct prices_board	 b;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	sql(pools_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	post(52, "offer", "maize", "bag", "nakuru", 5, 310000, "open", 0LL);
	sql("UPDATE market_posts SET msisdn = '" SELLER2 "' WHERE ref = 52");
	rep_tables();
	memset(&b, 0, sizeof(b));
	b.now = NOW;
	records_come_back(&b);
}

/*
 * The record on the board's offers in each language, in one SMS; where
 * it does not fit, it goes from the last offer up (the trend before it),
 * before an offer does.
 */
Test(prices_text, the_sellers_record_on_the_board)
{
	static const struct { const char *lang, *word, *want; } l[] = {
		{ "en", "maize", "No prices reported for maize at Nakuru in "
		    "the last 7 days. For sale: #41 3,000 (10 bags, 3 trades, "
		    "5 failed, 4.5*), #52 3,100 (5 bags, no trades)" },
		{ "sw", "mahindi", "Hakuna bei ya mahindi iliyoripotiwa Nakuru "
		    "katika siku 7 zilizopita. Ofa: #41 3,000 (magunia 10, "
		    "biashara 3, kasoro 5, nyota 4.5), #52 3,100 (magunia 5)" },
		    /* (the second seller's record does not fit beside) */
		{ "fr", "mais", "Maïs: aucun prix signalé à Nakuru depuis 7 "
		    "jours. En vente: #41 3 000 (10 sacs, 3 échanges, 5 échecs, "
		    "4,5*), #52 3 100 (5 sacs, aucun échange)" },
		{ "zh", "maize", "Nakuru近7天无玉米价格。在售：#41 3,000（10袋，"
		    "成交3笔，失约5次，4.5星），#52 3,100（5袋，暂无成交）" },
	};
	const char	*t;
	size_t		 i;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	sql(pools_sql);
	post(41, "offer", "maize", "bag", "nakuru", 10, 300000, "open", 0LL);
	post(52, "offer", "maize", "bag", "nakuru", 5, 310000, "open", 0LL);
	sql("UPDATE market_posts SET msisdn = '" SELLER2 "' WHERE ref = 52");
	rep_tables();
	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		char	 cmd[64];

		text_sender(l[i].lang);
		snprintf(cmd, sizeof(cmd), "PRICE %s", l[i].word);
		t = said(cmd);
		text_is(t, l[i].want);
	}
	/* a full board: the trend goes, then the records, then the
	   second offer; the first stays, without its record */
	nakuru_table();
	text_sender("en");
	text_is(said("PRICE maize"), "Maize, bag, Nakuru, last 7 days: middle "
	    "price 3,050 KES, lowest 2,900, highest 3,200, 5 reports, newest 2 "
	    "hours ago. For sale: #41 3,000 (10 bags)");
}

/* --- every bind checked ---------------------------------------------------- */

/*
 * A host whose binds fail after bind_left more (as the daemon's fail on
 * a statement the store lost): the plugin's store functions must say so
 * (-1) rather than run a statement with a parameter missing.
 */
static const struct mb_host	*bind_real;
static int			 bind_left, bind_failed;

static int
bind_check(void)
{
	if (bind_left-- > 0)
		return 0;
	bind_failed = 1;
	return -1;
}

static int
failing_bind_int(struct mb_stmt *st, int i, long long v)
{
	return bind_check() == 0 ? bind_real->bind_int(st, i, v) : -1;
}

static int
failing_bind_text(struct mb_stmt *st, int i, const char *v)
{
	return bind_check() == 0 ? bind_real->bind_text(st, i, v) : -1;
}

static int
failing_bind_null(struct mb_stmt *st, int i)
{
	return bind_check() == 0 ? bind_real->bind_null(st, i) : -1;
}

Test(prices, every_bind_is_checked)
{
	struct mb_host		 h;
	struct mb_ctx		*ctx;
	struct prices_state	*ps;
	struct prices_stats	 st;
	struct prices_board	 b;
	struct prices_season_deal d;
	struct prices_sub	 subs[4];
	char			 codes[4][PRICES_CODE_MAX], c2[4][PRICES_CODE_MAX];
	char			 who[4][32];
	const char		 nakuru[1][PRICES_CODE_MAX] = { "nakuru" };
	long long		 day, cur;
	size_t			 n, calls;
	int			 fn, rc, done;

	cr_assert_eq(mock_init(m), MB_OK);
	sql(posts_sql);
	sql(pools_sql);
	sql(shares_sql);
	nakuru_table();
	post(41, "offer", "maize", "bag", "nakuru", 10, 310000, "open", 0LL);
	cr_assert_eq(mock_command(m, "ALERT maize"), MB_OK);
	ctx = mock_ctx(m);
	ps = mock_state(m);
	/* the market plugin's tables found, with the real binds */
	memset(&b, 0, sizeof(b));
	b.now = NOW;
	cr_assert_eq(prices_store_offers(ctx, mock_host(), ps, "maize",
	    "nakuru", &b), 0);
	cr_assert_eq(prices_store_season_pool(ctx, mock_host(), ps, "dap",
	    nakuru, 1, NOW, &d), 0);

	bind_real = mock_host();
	h = *bind_real;
	h.bind_int = failing_bind_int;
	h.bind_text = failing_bind_text;
	h.bind_null = failing_bind_null;
	for (fn = 0; fn < 20; fn++)
		for (calls = 0;; calls++) {
			bind_left = (int)calls;
			bind_failed = 0;
			switch (fn) {
			case 0:
				rc = prices_store_stats(ctx, &h, "maize",
				    "nakuru", NOW - 7 * DAY, NOW, 2, &st);
				break;
			case 1:
				rc = prices_store_stats(ctx, &h, "maize", NULL,
				    NOW - 7 * DAY, NOW, 2, &st);
				break;
			case 2:
				rc = prices_store_markets(ctx, &h, "maize",
				    NOW - 7 * DAY, NOW, NULL, codes, 4, &n);
				break;
			case 3:
				rc = prices_store_offers(ctx, &h, ps, "maize",
				    "nakuru", &b);
				break;
			case 4:
				rc = prices_store_report(ctx, &h, "maize",
				    "nakuru", 300000, WANJIRU, 0, "ok", NOW);
				break;
			case 5:
				rc = prices_store_dirty(ctx, &h, "maize",
				    "nakuru");
				break;
			case 6:
				rc = prices_store_dirty_take(ctx, &h, codes,
				    c2, 4, &n);
				break;
			case 7:
				rc = prices_store_dirty_done(ctx, &h, "maize",
				    "nakuru");
				break;
			case 8:
				rc = prices_store_crossed(ctx, &h, "maize",
				    "nakuru", 300000, subs, 4, &n);
				break;
			case 9:
				rc = prices_store_set_fired(ctx, &h, 1, 1);
				break;
			case 10:
				rc = prices_store_alert_set(ctx, &h, OTIENO,
				    "maize", "nakuru", '>', 300000, 0, NOW, 5);
				break;
			case 11:
				rc = prices_store_alert_off(ctx, &h, OTIENO,
				    "beans");
				break;
			case 12:
				rc = prices_store_cursor_set(ctx, &h, 1, 0, 0);
				break;
			case 13:
				rc = prices_store_bulletin_subs(ctx, &h, 0,
				    subs, 4, &n);
				break;
			case 14:
				rc = prices_store_region_markets(ctx, &h, ps,
				    "maize", "Rift Valley", NOW, codes, 4, &n);
				break;
			case 15:
				rc = prices_store_season_subs(ctx, &h, "s", 2024,
				    DAY, "maize", "nakuru", who, 4, &n);
				break;
			case 16:
				rc = prices_store_season_told(ctx, &h, "s",
				    2024, DAY, OTIENO, "maize", 1,
				    NOW + (long long)calls);
				break;
			case 17:
				rc = prices_store_season_offer(ctx, &h, ps,
				    "maize", nakuru, 1, NOW, &d);
				break;
			case 18:
				rc = prices_store_season_pool(ctx, &h, ps,
				    "maize", nakuru, 1, NOW, &d);
				break;
			default:
				rc = prices_store_cursor(ctx, &h, &day, &cur,
				    &done);
				break;
			}
			if (!bind_failed) {
				cr_assert_geq(rc, 0, "function %d: %d", fn, rc);
				break;
			}
			cr_assert_eq(rc, -1, "function %d: bind %zu failed, "
			    "returned %d", fn, calls + 1, rc);
			cr_assert_lt(calls, 64);
		}
}

/* --- the same SQL on PostgreSQL (MB_TEST_PG) ------------------------------- */

#ifdef HAVE_POSTGRESQL
/*
 * The statements that bind a region's markets (NULL for the unused
 * ones), page through markets by code and count a pool's farmers, on
 * PostgreSQL, where every parameter must be typed from its use: the
 * market plugin's tables in its PostgreSQL shape, rows written as
 * literals through the store.
 */
static void
pg_exec(const char *q)
{
	cr_assert_eq(store_exec(mock_store(m), q), 0, "%s", q);
}

static void
setup_pg(void)
{
	prices_run_ms = TEST_RUN_MS;
	m = mock_new_on(&marketbox_plugin, pg_fixture_create("prices"));
	mock_set_now(m, NOW);
}

static void
teardown_pg(void)
{
	mock_free(m);
	m = NULL;
	pg_fixture_drop();
}

TestSuite(prices_pg, .init = setup_pg, .fini = teardown_pg,
    .timeout = 60);

Test(prices_pg, a_region_and_its_pools_in_a_big_market)
{
	struct prices_board		 b;
	struct prices_season_deal	 d;
	struct prices_state		*ps;
	char				 markets[8][PRICES_CODE_MAX];
	char				 q[512];
	size_t				 n;
	long long			 ref;

	cr_assert_eq(mock_init(m), MB_OK);
	ps = mock_state(m);
	pg_exec("CREATE TABLE market_posts (ref BIGINT PRIMARY KEY, kind TEXT "
	    "NOT NULL, msisdn TEXT NOT NULL, commodity TEXT NOT NULL, unit TEXT "
	    "NOT NULL, market TEXT, qty BIGINT NOT NULL, qty_left BIGINT NOT "
	    "NULL, price BIGINT NOT NULL, state TEXT NOT NULL, created BIGINT "
	    "NOT NULL, expires BIGINT NOT NULL)");
	pg_exec("CREATE TABLE market_pools (ref BIGINT PRIMARY KEY, kind TEXT "
	    "NOT NULL, opener TEXT NOT NULL, commodity TEXT NOT NULL, unit TEXT "
	    "NOT NULL, market TEXT, target BIGINT NOT NULL, price BIGINT NOT "
	    "NULL, rule TEXT NOT NULL, state TEXT NOT NULL, created BIGINT NOT "
	    "NULL, deadline BIGINT NOT NULL, told INTEGER NOT NULL DEFAULT 0)");
	pg_exec("CREATE TABLE market_pool_shares (pool BIGINT NOT NULL, member "
	    "TEXT NOT NULL, qty BIGINT NOT NULL, sold BIGINT NOT NULL DEFAULT 0,"
	    " seq BIGINT NOT NULL, joined BIGINT NOT NULL, PRIMARY KEY (pool, "
	    "member))");
	/* sixty cheaper offers and sooner pools at the coast */
	for (ref = 100; ref < 160; ref++) {
		snprintf(q, sizeof(q), "INSERT INTO market_posts VALUES (%lld, "
		    "'offer', 'x', 'dap', 'bag', 'mombasa', 10, 10, %lld, "
		    "'open', 1, 1800000000)", ref, 300000 + ref);
		pg_exec(q);
		snprintf(q, sizeof(q), "INSERT INTO market_pools VALUES (%lld, "
		    "'want', 'x', 'dap', 'bag', 'mombasa', 50, 330000, 'joined', "
		    "'open', 1, %lld, 0)", ref + 100, NOW + HOUR + ref);
		pg_exec(q);
	}
	pg_exec("INSERT INTO market_posts VALUES (300, 'offer', 'x', 'dap', "
	    "'bag', 'nakuru', 10, 10, 340000, 'open', 1, 1800000000)");
	pg_exec("INSERT INTO market_pools VALUES (303, 'want', 'x', 'dap', "
	    "'bag', 'nakuru', 50, 330000, 'joined', 'open', 1, 1700200000, 0)");
	/* a listed sell pool of maize at Nakuru, and its offer */
	pg_exec("INSERT INTO market_pools VALUES (51, 'sell', 'x', 'maize', "
	    "'bag', 'nakuru', 100, 300000, 'joined', 'listed', 1, 1700200000, "
	    "0)");
	pg_exec("INSERT INTO market_pool_shares VALUES (51, 'a', 50, 0, 1, 1),"
	    " (51, 'b', 30, 0, 2, 1), (51, 'c', 20, 0, 3, 1)");
	pg_exec("INSERT INTO market_posts VALUES (51, 'offer', 'x', 'maize', "
	    "'bag', 'nakuru', 100, 100, 300000, 'open', 1, 1800000000)");
	pg_exec("INSERT INTO market_posts VALUES (41, 'offer', 'x', 'maize', "
	    "'bag', 'nakuru', 10, 10, 310000, 'open', 1, 1800000000)");

	cr_assert_eq(prices_store_region_markets(mock_ctx(m), mock_host(), ps,
	    "dap", "Rift Valley", NOW, markets, 8, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(markets[0], "nakuru");
	cr_assert_eq(prices_store_season_offer(mock_ctx(m), mock_host(), ps,
	    "dap", (const char (*)[PRICES_CODE_MAX])markets, n, NOW, &d), 0);
	cr_assert_eq(d.offer_ref, 300);
	cr_assert_eq(d.offer_price, 340000);
	cr_assert_eq(prices_store_season_pool(mock_ctx(m), mock_host(), ps,
	    "dap", (const char (*)[PRICES_CODE_MAX])markets, n, NOW, &d), 0);
	cr_assert_eq(d.pool_ref, 303);

	memset(&b, 0, sizeof(b));
	b.now = NOW;
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(), ps, "dap",
	    "nakuru", &b), 0);
	cr_assert_eq(b.noffers, 1);
	cr_assert_eq(b.offer_ref[0], 300);
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(), ps, "maize",
	    "nakuru", &b), 0);
	cr_assert_eq(b.noffers, 2);
	cr_assert_eq(b.offer_ref[0], 51);
	cr_assert_eq(b.offer_farmers[0], 3);
	cr_assert_eq(b.offer_farmers[1], 0);
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(), ps, "dap",
	    NULL, &b), 0);
	cr_assert_eq(b.noffers, 3);
	cr_assert_eq(b.offer_ref[0], 100);
}

/* The sellers' records with the offers, the market plugin's PostgreSQL
   shape (BIGINT refs and times). */
Test(prices_pg, board_offers_carry_their_sellers_record)
{
	struct prices_board	 b;
	size_t			 i;
	char			 q[512], *p;

	cr_assert_eq(mock_init(m), MB_OK);
	pg_exec("CREATE TABLE market_posts (ref BIGINT PRIMARY KEY, kind TEXT "
	    "NOT NULL, msisdn TEXT NOT NULL, commodity TEXT NOT NULL, unit TEXT "
	    "NOT NULL, market TEXT, qty BIGINT NOT NULL, qty_left BIGINT NOT "
	    "NULL, price BIGINT NOT NULL, state TEXT NOT NULL, created BIGINT "
	    "NOT NULL, expires BIGINT)");
	pg_exec("CREATE TABLE market_pools (ref BIGINT PRIMARY KEY, kind TEXT "
	    "NOT NULL)");
	for (i = 0; i < sizeof(rep_sql) / sizeof(rep_sql[0]); i++) {
		/* INTEGER -> BIGINT, as market_store.c's _pg steps */
		snprintf(q, sizeof(q), "%s", rep_sql[i]);
		while ((p = strstr(q, "INTEGER")) != NULL) {
			memmove(p + 6, p + 7, strlen(p + 7) + 1);
			memcpy(p, "BIGINT", 6);
		}
		pg_exec(q);
	}
	rep_rows(pg_exec);
	pg_exec("INSERT INTO market_posts VALUES (41, 'offer', '" SELLER "', "
	    "'maize', 'bag', 'nakuru', 10, 10, 300000, 'open', 1, NULL)");
	pg_exec("INSERT INTO market_posts VALUES (52, 'offer', '" SELLER2 "', "
	    "'maize', 'bag', 'nakuru', 5, 5, 310000, 'open', 1, NULL)");
	memset(&b, 0, sizeof(b));
	b.now = NOW;
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", "nakuru", &b), 0);
	rep_is(&b);
	cr_assert_eq(prices_store_offers(mock_ctx(m), mock_host(),
	    mock_state(m), "maize", NULL, &b), 0);
	rep_is(&b);
	/* a passing failure of the records' statement: back next time
	   (the catalogue asked on this engine) */
	records_come_back(&b);
}
#endif
