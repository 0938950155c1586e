/*
 * test_market_manifest.c - the hubs' morning manifest (market_manifest.c)
 * through the mock host and its hub tree (mock_hub): each hub's operators
 * get one SMS a day at manifest-time with what is coming in, what waits
 * to go out and what is late; hubs with nothing get nothing; sent once a
 * day, not again after a restart (the plugin and the store closed and
 * opened again on the same database), made up when the daemon was down
 * at manifest-time, sent again the next day, never with "off"; and the
 * late orders cut to one SMS in the four shipped languages.  Each test
 * runs on SQLite (suite manifest) and on PostgreSQL (suite manifest_pg,
 * with MB_TEST_PG; skipped without it).
 *
 * Local time is East Africa's (TZ=EAT-3, no tz database needed): T0 is
 * 01:13 on 15 November 2023 there; MORNING is 06:00 that day.
 *
 * The tree, as test_market_leg.c's: county kiambu; township limuru;
 * villages ndeiya (serving nakuru, the seller's) and tigoni (serving
 * mombasa, the buyer's).  nakuru -> mombasa goes ndeiya, limuru, tigoni.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

extern const struct mb_plugin marketbox_plugin;

#define SELLER		"+254700000001"		/* Wanjiru, nakuru */
#define BUYER		"+254700000002"		/* Otieno, mombasa */
#define CARRIER		"+254711000333"		/* Kamau, registered */
#define OP_NDEIYA	"+254733000101"
#define OP_NDEIYA2	"+254733000111"
#define OP_LIMURU	"+254733000102"
#define OP_TIGONI	"+254733000103"
#define T0		1700000000LL		/* 01:13 local */
#define HOUR		3600LL
#define DAY		(24 * HOUR)
#define MIDNIGHT	1699995600LL		/* 15 Nov 2023 00:00 local */
#define MORNING		(MIDNIGHT + 6 * HOUR)

static struct mock	*m;
static const char	*database;	/* the file, or the conninfo */
static const char	*manifest_time;		/* conf, NULL: default */

/* --- the mock on a database that outlives it (restarts) ------------------- */

static void
open_mock(long long now)
{
	m = mock_new_on(&marketbox_plugin, database);
	mock_hub(m, "kiambu", "Kiambu", "county", NULL, NULL, NULL);
	mock_hub(m, "limuru", "Limuru", "township", "kiambu", NULL,
	    OP_LIMURU);
	mock_hub(m, "ndeiya", "Ndeiya", "village", "limuru", "nakuru",
	    OP_NDEIYA ";" OP_NDEIYA2);
	mock_hub(m, "tigoni", "Tigoni", "village", "limuru", "mombasa",
	    OP_TIGONI);
	if (manifest_time != NULL)
		mock_conf(m, "manifest-time", manifest_time);
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
local_time(void)
{
	setenv("TZ", "EAT-3", 1);
	tzset();
}

/* A test's start on db (a file or a conninfo): the day before T0. */
static void
setup_on(const char *db)
{
	manifest_time = NULL;
	local_time();
	database = db;
	open_mock(T0 - DAY);
}

static void
setup(void)
{
	setup_on(market_fixture_sqlite("manifest"));
}

#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	setup_on(market_fixture_pg("manifest"));
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

static int
run(const char *who, const char *text)
{
	const unsigned	 roles = MB_ROLE_FARMER | MB_ROLE_BUYER;

	mock_clear(m);
	if (strcmp(who, SELLER) == 0)
		mock_sender(m, who, "Wanjiru", "nakuru", "en", roles);
	else if (strcmp(who, BUYER) == 0)
		mock_sender(m, who, "Otieno", "mombasa", "en", roles);
	else
		mock_sender(m, who, NULL, NULL, "en", 0);
	return mock_command(m, text);
}

/* the fixture's helpers on this file's mock (market_fixture.h) */
#define msg(who, tmpl)	mtest_msg(m, (who), (tmpl))
#define arg_is		mtest_arg_is
#define db_int(sql)	mtest_db_int(m, (sql), 0, 0)
#define db_run(sql)	mtest_db_exec(m, (sql), 0, 0)

/* Manifests (either template) sent to who since the last clear. */
static size_t
manifests(const char *who)
{
	size_t	 i, n = 0;

	for (i = 0; i < mock_nsent(m); i++) {
		const struct mock_msg	*s = mock_sent(m, i);

		if (s->to != NULL && (who == NULL || strcmp(who, s->to) == 0))
			n += strncmp(s->tmpl, "market-manifest", 15) == 0;
	}
	return n;
}

/* The timer at now; what it sent stays to be read. */
static void
sweep(long long now)
{
	mock_clear(m);
	mock_set_now(m, now);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
}

/* Otieno's want (ref 1, his place: mombasa), Wanjiru's offer of 100
   bags (ref 2, at nakuru). */
static void
offer(void)
{
	cr_assert_eq(run(BUYER, "want maize 5 bags 3500"), MB_OK);
	cr_assert_eq(run(SELLER, "sell maize 100 bags 3000"), MB_OK);
}

/* An order of one bag, at at, accepted and sent with Kamau: its ref;
   the first leg's code into code. */
static long long
order_sent(long long at, char *code, size_t len)
{
	long long	 ref;
	char		 text[64];

	mock_set_now(m, at);
	cr_assert_eq(run(BUYER, "buy 2 1"), MB_OK);
	ref = db_int("SELECT MAX(ref) FROM market_orders");
	snprintf(text, sizeof(text), "accept %lld", ref);
	cr_assert_eq(run(SELLER, text), MB_OK);
	snprintf(text, sizeof(text), "sent %lld 0711000333", ref);
	cr_assert_eq(run(SELLER, text), MB_OK);
	if (code != NULL)
		snprintf(code, len, "%s",
		    mock_arg(msg(CARRIER, "market-leg-first"), "code"));
	return ref;
}

/* An order received at Ndeiya at at: waiting there to go out. */
static long long
order_at_ndeiya(long long at)
{
	char		 code[8], text[64];
	long long	 ref = order_sent(at, code, sizeof(code));

	snprintf(text, sizeof(text), "in %lld %s", ref, code);
	cr_assert_eq(run(OP_NDEIYA, text), MB_OK);
	cr_assert_str_eq(msg(BUYER, "market-leg-arrived")->tmpl,
	    "market-leg-arrived");
	return ref;
}

#define BOTH(name)	MARKET_BOTH(manifest, setup_pg, teardown, name)

TestSuite(manifest, .init = setup, .fini = teardown);

/* --- what a hub is told ------------------------------------------------------ */

/*
 * Ndeiya: two coming (one sent yesterday, past its 12 hours), one
 * received and waiting to leave: "2 in, 1 out, 1 late: #late", to both
 * its operators; Limuru and Tigoni have the orders' later legs only
 * (nothing in, nothing out): no SMS.
 */
BOTH(a_hubs_operators_get_its_counts_and_late_orders)
{
	const struct mock_msg	*s;
	char			 ref[16];
	long long		 late;

	offer();
	late = order_sent(T0 - 20 * HOUR, NULL, 0);	/* due T0 - 8 h */
	(void)order_sent(T0, NULL, 0);			/* due T0 + 12 h */
	(void)order_at_ndeiya(T0);
	sweep(MORNING);
	s = msg(OP_NDEIYA, "market-manifest");
	arg_is(s, "hub", "Ndeiya");
	arg_is(s, "in", "2");
	arg_is(s, "out", "1");
	arg_is(s, "late", "1");
	snprintf(ref, sizeof(ref), "#%lld", late);
	arg_is(s, "refs", ref);
	arg_is(s, "more", "0");
	cr_assert_eq(manifests(OP_NDEIYA2), 1);
	cr_assert_eq(manifests(OP_LIMURU), 0);
	cr_assert_eq(manifests(OP_TIGONI), 0);
	cr_assert_eq(manifests(NULL), 2);
	/* the days done are kept, Limuru's and Tigoni's too */
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_manifests WHERE"
	    " day = '2023-11-15'"), 3);
}

/* Nothing late: the short form; a parcel that moved on leaves Ndeiya's
   count and enters Limuru's. */
BOTH(none_late_and_the_next_hub)
{
	const struct mock_msg	*s;
	long long		 ref;
	char			 text[64];

	offer();
	ref = order_at_ndeiya(T0);
	snprintf(text, sizeof(text), "out %lld 0722000444", ref);
	cr_assert_eq(run(OP_NDEIYA, text), MB_OK);
	(void)order_sent(T0, NULL, 0);
	sweep(MORNING);
	s = msg(OP_NDEIYA, "market-manifest-on-time");
	arg_is(s, "in", "1");
	arg_is(s, "out", "0");
	cr_assert_null(mock_arg(s, "refs"));
	s = msg(OP_LIMURU, "market-manifest-on-time");
	arg_is(s, "hub", "Limuru");
	arg_is(s, "in", "1");
	arg_is(s, "out", "0");
	cr_assert_eq(manifests(OP_TIGONI), 0);
}

/* --- when ------------------------------------------------------------------- */

/* Not before manifest-time; once at it; not again that day, even after
   a restart; again the next morning. */
BOTH(sent_once_a_day_not_again_after_a_restart)
{
	offer();
	(void)order_sent(T0, NULL, 0);
	sweep(MORNING - 60);
	cr_assert_eq(manifests(NULL), 0, "before 06:00");
	sweep(MORNING);
	cr_assert_eq(manifests(OP_NDEIYA), 1);
	sweep(MORNING + 10 * 60);
	cr_assert_eq(manifests(NULL), 0, "twice the same day");
	restart(MORNING + 20 * 60);
	sweep(MORNING + 20 * 60);
	cr_assert_eq(manifests(NULL), 0, "again after a restart");
	sweep(MIDNIGHT + DAY - 60);
	cr_assert_eq(manifests(NULL), 0, "again late that day");
	sweep(MIDNIGHT + DAY + 60);
	cr_assert_eq(manifests(NULL), 0, "the next day before 06:00");
	sweep(MORNING + DAY);
	cr_assert_eq(manifests(OP_NDEIYA), 1, "the next day");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_manifests WHERE"
	    " hub = 'ndeiya'"), 2);
}

/* The daemon down at 06:00, up at 14:00: the morning's SMS then. */
BOTH(a_missed_morning_is_sent_when_it_comes_back)
{
	offer();
	(void)order_sent(T0, NULL, 0);
	restart(MIDNIGHT + 14 * HOUR);
	sweep(MIDNIGHT + 14 * HOUR);
	cr_assert_eq(manifests(OP_NDEIYA), 1);
	/* it is late by then: 12 h from T0 (01:13) passed at 13:13 */
	arg_is(msg(OP_NDEIYA, "market-manifest"), "late", "1");
}

/* manifest-time = 07:30 moves it; off: never; nonsense: refused. */
BOTH(manifest_time_moves_it_and_off_disables_it)
{
	offer();
	(void)order_sent(T0, NULL, 0);
	manifest_time = "07:30";
	restart(MORNING);
	sweep(MORNING + 60 * 60);
	cr_assert_eq(manifests(NULL), 0, "07:00 before 07:30");
	sweep(MORNING + 90 * 60);
	cr_assert_eq(manifests(OP_NDEIYA), 1, "at 07:30");
	db_run("DELETE FROM market_manifests");
	manifest_time = "off";
	restart(MORNING + 2 * HOUR);
	sweep(MORNING + 2 * HOUR);
	sweep(MORNING + DAY);
	cr_assert_eq(manifests(NULL), 0, "off");
	cr_assert_eq(db_int("SELECT COUNT(*) FROM market_manifests"), 0);
	manifest_time = NULL;
}

Test(manifest, bad_manifest_times_are_refused)
{
	static const char	*bad[] = { "6:00", "24:00", "06:60", "6h",
	    "06:00x", "", "never" };
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mock_free(m);
		m = mock_new_on(&marketbox_plugin, database);
		mock_conf(m, "manifest-time", bad[i]);
		cr_assert_eq(mock_init(m), MB_FAIL, "manifest-time = %s",
		    bad[i]);
	}
}

/* --- many late orders in one SMS, in every language ---------------------------- */

static const char	*measure = "en";	/* the reader's language */

/*
 * sms_parts() of what a phone reading measure really gets.  The mock's
 * render() gives "tmpl(name=value,...)", which market_lang_real reads.
 */
static size_t
real_parts(const char *text)
{
	return market_lang_real_parts(measure, text);
}

MARKET_LANG_FIXTURE(setup, teardown)

/*
 * Thirty orders sent two days ago, all late: each language's manifest
 * lists as many as fit one SMS as that reader reads it, then "+N more",
 * N the rest; the on-time form fits too.
 */
Test(manifest_lang, many_late_orders_fit_one_sms_in_every_language,
    .init = lang_setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	struct mb_arg		 args[8];
	const struct mock_msg	*s;
	size_t			 l, k, shown;
	const char		*p;
	int			 i;

	offer();
	for (i = 0; i < 30; i++)
		(void)order_sent(T0 - 2 * DAY + i * 60, NULL, 0);
	mock_sms_parts(m, real_parts);
	for (l = 0; l < 4; l++) {
		measure = codes[l];
		db_run("DELETE FROM market_manifests");
		sweep(MORNING + (long long)l * 600);
		s = msg(OP_NDEIYA, "market-manifest");
		arg_is(s, "late", "30");
		for (shown = 1, p = mock_arg(s, "refs"); *p != '\0'; p++)
			shown += *p == '#' && p != mock_arg(s, "refs");
		cr_assert_gt(shown, 2, "%s: only %zu refs", codes[l], shown);
		cr_assert_lt(shown, 30, "%s: all 30 refs", codes[l]);
		cr_assert_eq(strtol(mock_arg(s, "more"), NULL, 10),
		    30 - (long)shown, "%s", codes[l]);
		for (k = 0; k < s->nargs; k++) {
			args[k].name = s->names[k];
			args[k].value = s->values[k];
		}
		market_lang_assert_reads(codes[l], "market-manifest", args,
		    s->nargs, NULL, NULL);
	}
	for (l = 0; l < 4; l++) {
		const struct mb_arg	 on_time[] = { { "hub", "Ndeiya" },
		    { "in", "12" }, { "out", "3" } };
		const char		*names[] = { "market-manifest",
		    "market-manifest-on-time" };

		/* each language's own, not English's */
		for (k = 0; k < 2 && l > 0; k++)
			cr_assert(lang_template(market_lang_shipped, codes[l],
			    names[k]) != lang_template(market_lang_shipped, "en",
			    names[k]), "%s falls back for %s", codes[l],
			    names[k]);

		market_lang_assert_reads(codes[l], "market-manifest-on-time",
		    on_time, 3, NULL, NULL);
	}
	measure = "en";
}
