/*
 * test_ussd.c - ussd.c: the menu engine over a conf-described menu
 * (tests/data/ussd.conf), over the HTTP and the SMPP ways in: screens,
 * paging with 0, validation errors, 00 back, actions through the router
 * (the echo plugin) with the SMS copy, timeout, resume, a restart, the
 * screen budget in octets per coding and the cut of a final screen, each
 * language with the shipped menu and catalogue and the market and prices
 * plugins (every screen of every path within 160 octets; every command of
 * the menu run through it), Kannel's meta_data, the conf's checks, and
 * the USSD branch of the inbox's dispatch step (dispatch.c).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "base/gw.h"
#include "base/conf.h"
#include "queue/inbox.h"
#include "text/lang.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "router_fixture.h"
#include "store/store.h"
#include "engine/ussd.h"

#define T0		1700000000LL
#define FARMER		"+254700000001"
#define SCREEN_MAX	160

/*
 * Each test's own directory, made afresh by every set-up and removed by
 * the teardown: its database and any conf file it writes live there, so
 * tests run in parallel (Criterion's --jobs) never share a file.
 */
static char			 dir[64];
static char			 path[256];
static struct event_base	*base;
static struct conf		*conf;
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct ussd		*ussd;
static char			 answer[2048];
static unsigned			 mo_seq;

/* The test's directory: made once per test, before anything is written. */
static void
dir_make(void)
{
	if (dir[0] != '\0')
		return;
	snprintf(dir, sizeof(dir), "/tmp/test_ussd_XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "cannot make a directory in /tmp");
}

/* The name of file in the test's directory, into buf. */
static void
dir_file(char *buf, size_t size, const char *file)
{
	dir_make();
	cr_assert_lt((size_t)snprintf(buf, size, "%s/%s", dir, file), size);
}

static void
setup_with(const char *conf_file)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	dir_file(path, sizeof(path), "mb.db");
	base = event_base_new();
	conf = conf_load(conf_file);
	cr_assert_not_null(conf, "%s does not load", conf_file);
	store = store_open(path, base);
	cr_assert_not_null(store);
	outbox = outbox_new(base, store, conf);
	cr_assert_not_null(outbox);
	router = fixture_router_new(conf, store, outbox);
	ussd = ussd_new(NULL, conf, store, outbox, router);
	cr_assert_not_null(ussd);
	mo_seq = 0;
}

static void
setup(void)
{
	setup_with(TEST_SRCDIR "/data/ussd.conf");
}

static void
setup_shipped(void)
{
	setup_with(TEST_SRCDIR "/data/ussd-shipped.conf");
}

/*
 * The shipped menu, catalogue and languages with the market and prices
 * plugins of the build tree: the menu's commands answer as in production.
 * The conf is written where the build tree is known: here, in the test's
 * directory.
 */
static void
setup_market_with(const char *extra)
{
	char	 file[256];
	FILE	*f;

	dir_file(file, sizeof(file), "marketbox.conf");
	cr_assert_not_null(f = fopen(file, "w"));
	fprintf(f, "group = marketbox\nglobal-sender = 777\n"
	    "database = /nonexistent/not-used.db\ncountry-code = +254\n"
	    "currency = KES\n"
	    /* every action at T0: the flood limit is not under test here */
	    "flood-rate = 100000\nflood-burst = 100000\n%s"
	    "include = \"%s/../conf/catalogue.conf\"\n"
	    "include = \"%s/../conf/ussd.conf\"\n\n"
	    "group = plugin\nname = market\n"
	    "module = \"%s/plugins/market/.libs/market.so\"\n\n"
	    "group = plugin\nname = prices\n"
	    "module = \"%s/plugins/prices/.libs/prices.so\"\n",
	    extra, TEST_SRCDIR, TEST_SRCDIR, TEST_BUILDDIR, TEST_BUILDDIR);
	cr_assert_eq(fclose(f), 0);
	setup_with(file);
	/* thousands of screens: no need to wait for the disk in a test */
	cr_assert_eq(sqlite3_exec(store_db(store), "PRAGMA synchronous = OFF",
	    NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(unlink(file), 0);
}

static void
setup_market(void)
{
	setup_market_with("");
}

/* The same, with an agent's flood bucket of 2 per member. */
static void
setup_agent(void)
{
	setup_market_with("agent-flood-rate = 1\nagent-flood-burst = 2\n");
}

static void
teardown(void)
{
	char	 cmd[512];

	ussd_free(ussd);
	fixture_router_free(router);
	outbox_free(outbox);
	store_free(store);
	conf_free(conf);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	dir[0] = '\0';
	gwlib_shutdown();
}

TestSuite(ussd, .init = setup, .fini = teardown);
TestSuite(ussd_shipped, .init = setup_shipped, .fini = teardown);
TestSuite(ussd_market, .init = setup_market, .fini = teardown);
TestSuite(ussd_agent, .init = setup_agent, .fini = teardown);

/* --- helpers ----------------------------------------------------------------- */

static long long
count(const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL),
	    SQLITE_OK, "%s", sql);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The first column of the first row of sql, as text ("" if none). */
static const char *
value(const char *sql)
{
	static char	 buf[1024];
	sqlite3_stmt	*st;

	buf[0] = '\0';
	cr_assert_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL),
	    SQLITE_OK, "%s", sql);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, sizeof(buf), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* 1 if s starts with prefix. */
static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The screen of an answer fits: at most 160 octets after CON/END. */
static void
assert_fits(const char *a)
{
	const char	*screen = strncmp(a, "CON ", 4) == 0 ||
			    strncmp(a, "END ", 4) == 0 ? a + 4 : a;

	cr_assert_leq(ussd_screen_octets(screen), SCREEN_MAX,
	    "screen of %zu octets: %s", ussd_screen_octets(screen), a);
	cr_assert_gt(strlen(screen), 0, "an empty screen");
}

/* Run one MO through the engine in a unit of work, and commit. */
static int
run(const struct mo *mo, char **out)
{
	int	 rc;

	cr_assert_eq(store_work_begin(store), 0);
	rc = ussd_handle(ussd, mo, 0, out);
	cr_assert_eq(store_work_end(store, rc == 0), 0);
	cr_assert_eq(store_commit(store), 0);
	return rc;
}

/* The aggregator's callback: session sid, inputs text, at time t. */
static const char *
http_at(const char *sid, const char *phone, const char *text, long long t)
{
	struct mo	 mo;
	char		 id[512], meta[256], *out = NULL;

	snprintf(id, sizeof(id), "ussd:%s:%s:%s", phone, sid, text);
	snprintf(meta, sizeof(meta), "?http?sessionId=%s&serviceCode=%%2A384%%23&",
	    sid);
	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = "ussd";
	mo.sender = phone;
	mo.receiver = "*384#";
	mo.text = text;
	mo.meta_data = meta;
	mo.time = t;
	mo.reply_inline = 1;
	cr_assert_eq(run(&mo, &out), 0);
	cr_assert_not_null(out, "no answer to '%s'", text);
	snprintf(answer, sizeof(answer), "%s", out);
	free(out);
	assert_fits(answer);
	return answer;
}

static const char *
http(const char *sid, const char *text)
{
	return http_at(sid, FARMER, text, T0);
}

/*
 * An SMPP MO (ussd_service_op op, its_session_info session/end bit) at
 * time t; returns the text of the USSD MT it queued ("" if none) and its
 * meta_data in meta.
 */
static const char *
smpp_at(const char *smsc, int op, int session, int end, const char *text,
    long long t, char *meta, size_t metasize)
{
	struct mo	 mo;
	char		 id[64], md[128], *out = NULL;
	long long	 before = count("SELECT count(*) FROM outbox WHERE "
			    "kind = 'ussd'");

	snprintf(id, sizeof(id), "00000000-0000-0000-0000-%012u", ++mo_seq);
	snprintf(md, sizeof(md), "?smpp?ussd_service_op=%%%02X&"
	    "its_session_info=%%%02X%%%02X&", op, session, end ? 1 : 0);
	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = "box";
	mo.sender = FARMER;
	mo.receiver = "384";
	mo.text = text;
	mo.smsc_id = smsc;
	mo.meta_data = md;
	mo.time = t;
	cr_assert_eq(run(&mo, &out), 0);
	cr_assert_null(out, "SMPP answers go through the outbox");
	answer[0] = '\0';
	if (meta != NULL)
		meta[0] = '\0';
	if (count("SELECT count(*) FROM outbox WHERE kind = 'ussd'") ==
	    before)
		return answer;
	snprintf(answer, sizeof(answer), "%s", value("SELECT text FROM outbox "
	    "WHERE kind = 'ussd' ORDER BY id DESC LIMIT 1"));
	if (meta != NULL)
		snprintf(meta, metasize, "%s", value("SELECT meta_data FROM "
		    "outbox WHERE kind = 'ussd' ORDER BY id DESC LIMIT 1"));
	assert_fits(answer);
	return answer;
}

#define MAIN_EN	"Marketbox\n1 Sell\n2 Register\n3 My orders\n4 Language\n" \
		"5 Check prices\n6 See all"
#define COMMODITIES_EN	"Choose a commodity:\n1 maize\n2 beans\n00 Back"
#define QTY_EN		"Quantity (bag):\n00 Back"

/* --- Kannel's meta_data -------------------------------------------------------- */

Test(ussd, meta_data_is_read_as_kannel_writes_it)
{
	unsigned char	 v[16];

	cr_assert_eq(ussd_meta_get("?smpp?ussd_service_op=%01&"
	    "its_session_info=%12%00&", "smpp", "ussd_service_op", v,
	    sizeof(v)), 1);
	cr_assert_eq(v[0], 0x01);
	cr_assert_eq(ussd_meta_get("?smpp?ussd_service_op=%01&"
	    "its_session_info=%12%00&", "smpp", "its_session_info", v,
	    sizeof(v)), 2);
	cr_assert(v[0] == 0x12 && v[1] == 0x00);
	/* groups in any order and case; '+' is a space; the last '&' optional */
	cr_assert_eq(ussd_meta_get("?other?a=1&?SMPP?x=a+b%21", "smpp", "x", v,
	    sizeof(v)), 4);
	cr_assert_str_eq((char *)v, "a b!");
	cr_assert_eq(ussd_meta_get("?smpp?a=1&", "smpp", "b", v, sizeof(v)),
	    -1);
	cr_assert_eq(ussd_meta_get("?smpp?a=1&", "http", "a", v, sizeof(v)),
	    -1);
	cr_assert_eq(ussd_meta_get("", "smpp", "a", v, sizeof(v)), -1);
	cr_assert_eq(ussd_meta_get(NULL, "smpp", "a", v, sizeof(v)), -1);
	cr_assert_eq(ussd_meta_get("smpp?a=1", "smpp", "a", v, sizeof(v)), -2);
	cr_assert_eq(ussd_meta_get("?smpp", "smpp", "a", v, sizeof(v)), -2);
	/* too long for the buffer */
	cr_assert_eq(ussd_meta_get("?smpp?a=123456", "smpp", "a", v, 3), -2);
}

Test(ussd, an_mo_is_ussd_by_channel_or_service_op)
{
	struct mo	 mo;

	memset(&mo, 0, sizeof(mo));
	mo.channel = "box";
	cr_assert_eq(ussd_is_ussd(&mo), 0);
	mo.meta_data = "?smpp?its_session_info=%12%00&";
	cr_assert_eq(ussd_is_ussd(&mo), 0);
	mo.meta_data = "?smpp?ussd_service_op=%01&";
	cr_assert_eq(ussd_is_ussd(&mo), 1);
	mo.meta_data = NULL;
	mo.channel = "ussd";
	cr_assert_eq(ussd_is_ussd(&mo), 1);
}

/* --- the HTTP way: screens, actions -------------------------------------------- */

Test(ussd, first_screen_is_the_start_menu)
{
	cr_assert_str_eq(http("s1", ""), "CON " MAIN_EN);
	cr_assert_eq(count("SELECT count(*) FROM ussd_sessions WHERE "
	    "id = 'http:" FARMER ":s1' AND msisdn = '" FARMER "' AND "
	    "state = 'open' AND language = 'en'"), 1);
}

Test(ussd, inputs_lead_to_an_action_answered_as_end_and_by_sms)
{
	http("s1", "");
	cr_assert_str_eq(http("s1", "1"), "CON " COMMODITIES_EN);
	cr_assert_str_eq(http("s1", "1*1"), "CON " QTY_EN);
	cr_assert_str_eq(http("s1", "1*1*10"), "END You said: maize 10 bag");
	/* notify-sms: the same answer, written down */
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE kind = 'reply' "
	    "AND state = 'queued' AND sender = '777' AND receiver = '" FARMER
	    "' AND text = 'You said: maize 10 bag'"), 1);
	cr_assert_str_eq(value("SELECT state || ' ' || ended FROM "
	    "ussd_sessions WHERE id = 'http:" FARMER ":s1'"), "done 1");
}

Test(ussd, a_commodity_may_be_typed_in_any_language)
{
	http("s1", "");
	http("s1", "1");
	cr_assert_str_eq(http("s1", "1*Maharage"), "CON Quantity (kg):\n00 Back");
	cr_assert_str_eq(http("s1", "1*Maharage*3"), "END You said: beans 3 kg");
}

Test(ussd, an_action_without_input_runs_when_chosen)
{
	http("s1", "");
	http("s1", "3");
	cr_assert_str_eq(http("s1", "3*2"), "END You said: item 2");
	/* no notify-sms: no SMS */
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE state = "
	    "'queued'"), 0);
}

Test(ussd, actions_run_core_commands_in_the_users_language)
{
	http("s1", "");
	http("s1", "2");
	cr_assert_str_eq(http("s1", "2*Mo Nakuru"), "END Welcome Mo! You "
	    "are registered at Nakuru. Send HELP for the commands.");
	cr_assert_str_eq(value("SELECT name FROM users WHERE msisdn = '"
	    FARMER "'"), "Mo");
}

Test(ussd, an_english_action_does_not_switch_the_language)
{
	cr_assert_eq(sqlite3_exec(store_db(store), "INSERT INTO users(msisdn, "
	    "language, created, updated) VALUES ('" FARMER "', 'sw', 0, 0)",
	    NULL, NULL, NULL), SQLITE_OK);
	http("s1", "");
	http("s1", "2");
	cr_assert_str_eq(http("s1", "2*Jo Nakuru"), "END Karibu Jo! "
	    "Umesajiliwa katika soko la Nakuru. Tuma MSAADA kupata amri.");
	cr_assert_str_eq(value("SELECT language FROM users WHERE msisdn = '"
	    FARMER "'"), "sw");
}

Test(ussd, the_language_item_changes_the_language)
{
	const char	*a;

	http("s1", "");
	a = http("s1", "4");
	cr_assert_str_eq(a, "CON Choose a language:\n1 English\n2 Francais\n"
	    "3 Kiswahili\n4 中文\n00 Back");
	cr_assert_str_eq(http("s1", "4*3"), "END Lugha sasa ni Kiswahili.");
	cr_assert_str_eq(value("SELECT language FROM users WHERE msisdn = '"
	    FARMER "'"), "sw");
	/* the next dial speaks it */
	cr_assert(starts(http_at("s2", FARMER, "", T0 + 1000),
	    "CON Soko la Marketbox\n1 Uza\n2 Jisajili\n"), "%s", answer);
}

Test(ussd, the_home_market_comes_first)
{
	cr_assert_eq(sqlite3_exec(store_db(store), "INSERT INTO users(msisdn, "
	    "name, market, language, created, updated) VALUES ('" FARMER
	    "', 'Mary', 'eldoret', 'en', 0, 0)", NULL, NULL, NULL), SQLITE_OK);
	http("s1", "");
	cr_assert_str_eq(http("s1", "5"), "CON Choose a market:\n"
	    "1 Eldoret (yours)\n2 Nakuru\n00 Back");
	cr_assert_str_eq(http("s1", "5*1"), "END You said: eldoret");
}

/* --- the screen budget: octets in the screen's coding ----------------------------- */

#define ELLIPSIS	"\xE2\x80\xA6"	/* U+2026 */

/* A malloc'd string of n copies of unit. */
static char *
repeat(const char *unit, size_t n)
{
	size_t	 ul = strlen(unit), i;
	char	*s = malloc(ul * n + 1);

	cr_assert_not_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

Test(ussd, a_screen_is_160_octets_in_its_coding)
{
	char	*s;

	/* 182 GSM characters: 160 octets; 183: 161 */
	s = repeat("a", 182);
	cr_assert_eq(ussd_screen_octets(s), 160);
	free(s);
	s = repeat("a", 183);
	cr_assert_eq(ussd_screen_octets(s), 161);
	free(s);
	/* one character outside GSM: 2 octets each, all of them */
	cr_assert_eq(ussd_screen_octets("Nakuru (le v\xC3\xB4tre)"), 34);
	cr_assert_eq(ussd_screen_octets("Nakuru (votre march\xC3\xA9)"), 19);
	s = repeat("\xE4\xBD\xA0", 80);
	cr_assert_eq(ussd_screen_octets(s), 160);
	free(s);
}

Test(ussd, a_screen_that_fits_is_not_cut)
{
	char	*s = repeat("a", 182), *f;
	int	 cut = -1;

	f = ussd_screen_fit(s, 160, &cut);
	cr_assert_str_eq(f, s);
	cr_assert_eq(cut, 0);
	free(f);
	free(s);
}

Test(ussd, a_screen_too_long_is_cut_at_a_word_with_an_ellipsis)
{
	char	*s, *f;
	int	 cut = 0;

	/* 20 words of 10 letters and a space: 220 GSM characters */
	s = repeat("abcdefghij ", 20);
	f = ussd_screen_fit(s, 160, &cut);
	cr_assert_eq(cut, 1);
	/*
	 * The ellipsis is UCS-2: 79 units of text at most, 7 words and
	 * "ab"; cut after the 7th word, without its blank.
	 */
	cr_assert_eq(strlen(f), 76 + strlen(ELLIPSIS), "%s", f);
	cr_assert(strncmp(f, s, 76) == 0 && strcmp(f + 76, ELLIPSIS) == 0,
	    "%s", f);
	cr_assert_leq(ussd_screen_octets(f), 160);
	free(f);
	free(s);
	/* Chinese has no blanks: cut at a character, 79 of them */
	s = repeat("\xE4\xBD\xA0", 81);
	f = ussd_screen_fit(s, 160, &cut);
	cr_assert_eq(cut, 1);
	cr_assert_eq(strlen(f), 79 * 3 + strlen(ELLIPSIS));
	cr_assert_eq(ussd_screen_octets(f), 160);
	free(f);
	free(s);
	/* a word longer than half the screen is cut inside */
	s = repeat("x", 200);
	f = ussd_screen_fit(s, 160, &cut);
	cr_assert_eq(strlen(f), 79 + strlen(ELLIPSIS));
	free(f);
	free(s);
	/* a character outside the BMP is two units: never split */
	s = repeat("\xF0\x9F\x98\x80", 41);
	f = ussd_screen_fit(s, 160, &cut);
	cr_assert_eq(strlen(f), 39 * 4 + strlen(ELLIPSIS));
	cr_assert_eq(ussd_screen_octets(f), 158);
	free(f);
	free(s);
}

Test(ussd, a_final_screen_too_long_is_cut_and_sent_whole_by_sms)
{
	http("s1", "");
	cr_assert_str_eq(http("s1", "6"), "CON Your name:\n00 Back");
	/* "You said: " and the words three times: 103 GSM characters fit */
	cr_assert_str_eq(http("s1", "6*Maize beans rice sorghum millet"),
	    "END You said: Maize beans rice sorghum millet Maize beans rice "
	    "sorghum millet Maize beans rice sorghum millet");
	/*
	 * With one character outside GSM, 96 characters do not: 80 units,
	 * 79 with the ellipsis, which ends the last whole word.
	 */
	http("s2", "");
	cr_assert_str_eq(http("s2", "6*Ma\xC3\xAFs haricots riz sorgho mil"),
	    "END You said: Ma\xC3\xAFs haricots riz sorgho mil Ma\xC3\xAFs "
	    "haricots riz sorgho mil Ma\xC3\xAFs" ELLIPSIS);
	/* the SMS has it whole, though no notify-sms: one GSM SMS, its
	   accent folded (two UCS-2 parts with it) */
	cr_assert_str_eq(value("SELECT group_concat(text, '') FROM (SELECT "
	    "text FROM outbox WHERE kind = 'reply' AND state = 'queued' ORDER "
	    "BY id)"), "You said: Mais haricots riz sorgho mil "
	    "Mais haricots riz sorgho mil Mais haricots riz sorgho mil");
}

/* --- sessions are the phone's ---------------------------------------------------- */

/*
 * A sessionId is the aggregator's, per phone: another phone that names
 * it (guessed or replayed) gets a session of its own and never moves the
 * first phone's on.
 */
Test(ussd, another_phone_naming_a_session_id_has_its_own_session)
{
	const char	*other = "+254700000002";

	http("s1", "");
	http("s1", "1");
	cr_assert_str_eq(http("s1", "1*1"), "CON " QTY_EN);
	/* the other phone's inputs start from its own first screen */
	cr_assert_str_eq(http_at("s1", other, "1*1*9", T0 + 1),
	    "END You said: maize 9 bag");
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE receiver = '"
	    FARMER "'"), 0, "the farmer was sent the other phone's answer");
	cr_assert_str_eq(value("SELECT state FROM ussd_sessions WHERE id = "
	    "'http:" FARMER ":s1'"), "open");
	/* the farmer's session goes on where the farmer left it */
	cr_assert_str_eq(http("s1", "1*1*5"), "END You said: maize 5 bag");
	cr_assert_eq(count("SELECT count(*) FROM ussd_sessions WHERE "
	    "state = 'done'"), 2);
}

/* The inbox's duplicate replay, too, is only the phone's own session. */
Test(ussd, a_replay_is_only_of_the_phones_own_session)
{
	struct mo	 mo;

	http("s1", "");
	http("s1", "3");
	memset(&mo, 0, sizeof(mo));
	mo.channel = "ussd";
	mo.sender = "+254700000002";
	mo.meta_data = "?http?sessionId=s1&";
	cr_assert_null(ussd_replay(ussd, &mo));
}

/* --- the flood limit ------------------------------------------------------------ */

/*
 * Each action a screen runs is charged to the phone's flood bucket, the
 * one its SMS use (burst 5 by default); the menus' screens are not.  Over
 * the limit, the screen says so and nothing is done.
 */
Test(ussd, actions_are_charged_to_the_phones_flood_bucket)
{
	struct mo		 mo;
	enum router_outcome	 outcome;
	char			 sid[16];
	int			 i;

	for (i = 0; i < 5; i++) {
		snprintf(sid, sizeof(sid), "f%d", i);
		http(sid, "");
		http(sid, "1");
		cr_assert_str_eq(http(sid, "1*1*10"),
		    "END You said: maize 10 bag", "action %d", i);
	}
	/* the screens still come, the action does not run */
	cr_assert_str_eq(http("f5", ""), "CON " MAIN_EN);
	cr_assert_str_eq(http("f5", "1*1"), "CON " QTY_EN);
	cr_assert_str_eq(http("f5", "1*1*10"), "END Too many requests just "
	    "now: nothing was done. Wait a minute, then dial again to "
	    "continue.");
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE kind = 'reply' "
	    "AND state = 'queued' AND text = 'You said: maize 10 bag'"), 5);
	/* ... and it can be resumed once the limit allows */
	cr_assert_str_eq(value("SELECT state FROM ussd_sessions WHERE id = "
	    "'http:" FARMER ":f5'"), "left");
	/* the same bucket as SMS: an SMS now is throttled */
	memset(&mo, 0, sizeof(mo));
	mo.id = "sms-1";
	mo.channel = "box";
	mo.sender = FARMER;
	mo.receiver = "777";
	mo.text = "ECHO hi";
	mo.time = T0;
	cr_assert_eq(store_work_begin(store), 0);
	router_unit_begin(router);
	cr_assert_eq(router_handle(router, &mo, 0, &outcome), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	cr_assert_eq(outcome, ROUTER_THROTTLED);
}

/* --- an answer longer than the screen --------------------------------------------- */

/*
 * Over SMPP as over HTTP: a final answer longer than the screen is cut
 * to fit (the MT's text) and sent whole by SMS.
 */
Test(ussd, smpp_answer_too_long_is_cut_and_sent_whole_by_sms)
{
	const char	*said = "You said: Ma\xC3\xAFs haricots riz sorgho mil "
			    "Ma\xC3\xAFs haricots riz sorgho mil Ma\xC3\xAFs "
			    "haricots riz sorgho mil";
	const char	*a;

	smpp_at("USSD", 1, 0x21, 0, "*384#", T0, NULL, 0);
	cr_assert_str_eq(smpp_at("USSD", 18, 0x21, 0, "6", T0 + 1, NULL, 0),
	    "Your name:\n00 Back");
	a = smpp_at("USSD", 18, 0x21, 0, "Ma\xC3\xAFs haricots riz sorgho mil",
	    T0 + 2, NULL, 0);
	cr_assert_lt(strlen(a), strlen(said), "not cut: %s", a);
	cr_assert_leq(ussd_screen_octets(a), SCREEN_MAX);
	cr_assert(strncmp(a, said, strlen(a) - strlen(ELLIPSIS)) == 0 &&
	    strcmp(a + strlen(a) - strlen(ELLIPSIS), ELLIPSIS) == 0, "%s", a);
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE kind = 'reply' "
	    "AND state = 'queued' AND receiver = '" FARMER "'"), 1,
	    "no SMS copy");
	cr_assert_str_eq(value("SELECT text FROM outbox WHERE kind = 'reply' "
	    "AND state = 'queued'"),
	    "You said: Mais haricots riz sorgho mil Mais haricots riz sorgho "
	    "mil Mais haricots riz sorgho mil");
}

/* --- validation and back --------------------------------------------------------- */

Test(ussd, a_number_out_of_range_repeats_the_screen_with_an_error)
{
	http("s1", "");
	http("s1", "1");
	http("s1", "1*1");
	cr_assert_str_eq(http("s1", "1*1*51"), "CON Send a number from 1 to "
	    "50.\n" QTY_EN);
	cr_assert_str_eq(http("s1", "1*1*51*ten"), "CON Send a number from 1 "
	    "to 50.\n" QTY_EN);
	cr_assert_str_eq(http("s1", "1*1*51*ten*"), "CON Send a number from 1 "
	    "to 50.\n" QTY_EN);
	/* "3,000"-style numbers are read as in commands */
	cr_assert_str_eq(http("s1", "1*1*51*ten**1,0"), "CON Send a number "
	    "from 1 to 50.\n" QTY_EN);
	cr_assert_str_eq(http("s1", "1*1*51*ten**1,0*5"),
	    "END You said: maize 5 bag");
}

Test(ussd, a_choice_not_listed_repeats_the_screen_with_an_error)
{
	http("s1", "");
	cr_assert_str_eq(http("s1", "9"), "CON Not a valid answer. Try again.\n"
	    MAIN_EN);
	cr_assert_str_eq(http("s1", "9*1"), "CON " COMMODITIES_EN);
	cr_assert_str_eq(http("s1", "9*1*3"), "CON Not a valid answer. Try "
	    "again.\n" COMMODITIES_EN);
	cr_assert_str_eq(http("s1", "9*1*3*wheat"), "CON Not a valid answer. "
	    "Try again.\n" COMMODITIES_EN);
	/* "0" where there is no next page */
	cr_assert_str_eq(http("s1", "9*1*3*wheat*0"), "CON Not a valid answer. "
	    "Try again.\n" COMMODITIES_EN);
}

Test(ussd, a_text_too_short_or_long_repeats_the_screen)
{
	http("s1", "");
	http("s1", "2");
	cr_assert_str_eq(http("s1", "2*M"), "CON Not a valid answer. Try "
	    "again.\nYour name:\n00 Back");
	cr_assert_str_eq(http("s1", "2*M*Mary Wanjiku Njeri"), "CON Not a "
	    "valid answer. Try again.\nYour name:\n00 Back");
	cr_assert_str_eq(http("s1", "2*M*Mary Wanjiku Njeri*Al Eldoret"),
	    "END Welcome Al! You are registered at Eldoret. Send HELP for "
	    "the commands.");
}

Test(ussd, double_zero_goes_back_one_screen)
{
	http("s1", "");
	http("s1", "1");
	http("s1", "1*2");
	cr_assert_str_eq(http("s1", "1*2*00"), "CON " COMMODITIES_EN);
	cr_assert_str_eq(http("s1", "1*2*00*00"), "CON " MAIN_EN);
	/* at the start menu, 00 stays there */
	cr_assert_str_eq(http("s1", "1*2*00*00*00"), "CON " MAIN_EN);
	/* an answer given again replaces the first */
	http("s1", "1*2*00*00*00*1");
	http("s1", "1*2*00*00*00*1*1");
	cr_assert_str_eq(http("s1", "1*2*00*00*00*1*1*7"),
	    "END You said: maize 7 bag");
}

/* --- paging ------------------------------------------------------------------------- */

/* The number of the first and last "N Accept an order" line of a page. */
static int
first_item(const char *page)
{
	const char	*l;
	int		 n;

	for (l = page; (l = strchr(l, '\n')) != NULL; l++)
		if (sscanf(l + 1, "%d", &n) == 1 && strstr(l + 1, " Accept an "
		    "order") == strchr(l + 1, ' '))
			return n;
	return -1;
}

static int
last_item(const char *page)
{
	const char	*l;
	int		 n, last = -1;

	for (l = page; (l = strchr(l, '\n')) != NULL; l++)
		if (sscanf(l + 1, "%d", &n) == 1 && strstr(l + 1, " Accept an "
		    "order") == strchr(l + 1, ' '))
			last = n;
	return last;
}

Test(ussd, a_long_menu_is_paged_with_zero)
{
	const char	*a;
	char		 p1[1024], p2[1024], p3[1024];

	http("s1", "");
	a = http("s1", "3");
	snprintf(p1, sizeof(p1), "%s", a);
	cr_assert(starts(p1, "CON My orders\n1 Accept an order\n"), "%s", p1);
	cr_assert(strstr(p1, "\n0 More\n00 Back") != NULL, "%s", p1);
	a = http("s1", "3*0");
	snprintf(p2, sizeof(p2), "%s", a);
	cr_assert(strstr(p2, "\n0 More\n00 Back") != NULL, "%s", p2);
	cr_assert_str_neq(p1, p2);
	a = http("s1", "3*0*0");
	snprintf(p3, sizeof(p3), "%s", a);
	/* the last page: 20, no More, and Back */
	cr_assert(strstr(p3, "\n20 Accept an order\n00 Back") != NULL, "%s",
	    p3);
	cr_assert_null(strstr(p3, "0 More"));
	/* numbers go on across pages: page 2 starts after page 1's last */
	cr_assert_eq(first_item(p2), last_item(p1) + 1, "page 1 ends at %d, "
	    "page 2 starts at %d", last_item(p1), first_item(p2));
	cr_assert_eq(first_item(p3), last_item(p2) + 1);
	/* past the last page: an error, the same page */
	a = http("s1", "3*0*0*0");
	cr_assert(starts(a, "CON Not a valid answer. Try again.\nMy orders\n"),
	    "%s", a);
	/* 00 turns the page back */
	cr_assert_str_eq(http("s1", "3*0*0*0*00"), p2);
	cr_assert_str_eq(http("s1", "3*0*0*0*00*00"), p1);
	/* any listed number, whatever the page */
	cr_assert_str_eq(http("s1", "3*0*0*0*00*00*17"), "END You said: item 17");
}

Test(ussd, the_first_page_goes_back_to_the_parent_menu)
{
	http("s1", "");
	http("s1", "3");
	cr_assert_str_eq(http("s1", "3*00"), "CON " MAIN_EN);
}

/* --- sessions: duplicates, replay, restart, timeout, resume -------------------------- */

Test(ussd, without_its_session_the_inputs_are_replayed)
{
	cr_assert_str_eq(http("fresh", "1*1"), "CON " QTY_EN);
	cr_assert_str_eq(http("fresh2", "1*1*5"), "END You said: maize 5 bag");
}

Test(ussd, a_request_asked_again_gets_the_same_screen)
{
	struct mo	 mo;
	char		*b;

	http("s1", "");
	http("s1", "1");
	/* the engine: the same inputs again move nothing */
	cr_assert_str_eq(http("s1", "1"), "CON " COMMODITIES_EN);
	/* the inbox's duplicate: the session's last screen */
	memset(&mo, 0, sizeof(mo));
	mo.id = "ussd:s1:1";
	mo.channel = "ussd";
	mo.sender = FARMER;
	mo.meta_data = "?http?sessionId=s1&";
	b = ussd_replay(ussd, &mo);
	cr_assert_str_eq(b, "CON " COMMODITIES_EN);
	free(b);
	mo.meta_data = "?http?sessionId=unknown&";
	cr_assert_null(ussd_replay(ussd, &mo));
}

Test(ussd, a_restart_mid_session_loses_nothing)
{
	http("s1", "");
	http("s1", "1");
	http("s1", "1*1");
	/* a new engine: nothing in memory, all in the database */
	ussd_free(ussd);
	ussd = ussd_new(NULL, conf, store, outbox, router);
	cr_assert_not_null(ussd);
	cr_assert_str_eq(http("s1", "1*1*9"), "END You said: maize 9 bag");
}

Test(ussd, an_idle_session_times_out_and_is_offered_for_resuming)
{
	http_at("s1", FARMER, "", T0);
	http_at("s1", FARMER, "1", T0 + 50);
	/* within the timeout (100 s): goes on */
	cr_assert_str_eq(http_at("s1", FARMER, "1*1", T0 + 140), "CON " QTY_EN);
	/* 101 s idle: timed out; the next screen asks to resume */
	cr_assert_str_eq(http_at("s1", FARMER, "1*1*5", T0 + 241),
	    "CON Continue where you left?\n1 Yes\n2 No");
	cr_assert_str_eq(http_at("s1", FARMER, "1*1*5*1", T0 + 245),
	    "CON " QTY_EN);
	cr_assert_str_eq(http_at("s1", FARMER, "1*1*5*1*6", T0 + 250),
	    "END You said: maize 6 bag");
	/* a finished session is not offered again */
	cr_assert_str_eq(http_at("s2", FARMER, "", T0 + 260), "CON " MAIN_EN);
}

Test(ussd, a_session_left_can_be_resumed_on_the_next_dial)
{
	http_at("a", FARMER, "", T0);
	http_at("a", FARMER, "1", T0 + 5);
	http_at("a", FARMER, "1*2", T0 + 10);
	cr_assert_str_eq(http_at("b", FARMER, "", T0 + 60),
	    "CON Continue where you left?\n1 Yes\n2 No");
	cr_assert_str_eq(http_at("b", FARMER, "7", T0 + 61),
	    "CON Not a valid answer. Try again.\nContinue where you left?\n"
	    "1 Yes\n2 No");
	cr_assert_str_eq(http_at("b", FARMER, "7*1", T0 + 62),
	    "CON Quantity (kg):\n00 Back");
	cr_assert_str_eq(http_at("b", FARMER, "7*1*4", T0 + 63),
	    "END You said: beans 4 kg");
	cr_assert_str_eq(value("SELECT state FROM ussd_sessions WHERE "
	    "id = 'http:" FARMER ":a'"), "done");
	/* another phone is not offered someone else's session */
	http_at("c", "+254700000002", "", T0 + 70);
	http_at("c", "+254700000002", "1", T0 + 71);
	cr_assert_str_eq(http_at("d", FARMER, "", T0 + 72), "CON " MAIN_EN);
}

Test(ussd, a_resume_declined_starts_afresh)
{
	http_at("a", FARMER, "", T0);
	http_at("a", FARMER, "1", T0 + 5);
	http_at("b", FARMER, "", T0 + 20);
	cr_assert_str_eq(http_at("b", FARMER, "2", T0 + 21), "CON " MAIN_EN);
	/* declined: not offered again */
	cr_assert_str_eq(http_at("c", FARMER, "", T0 + 30), "CON " MAIN_EN);
}

/* Only a session that went past the start menu is worth resuming. */
Test(ussd, a_session_left_at_the_start_menu_is_not_offered)
{
	http_at("a", FARMER, "", T0);
	cr_assert_str_eq(value("SELECT stack FROM ussd_sessions WHERE "
	    "id = 'http:" FARMER ":a'"), "m:main:0");
	cr_assert_str_eq(http_at("b", FARMER, "", T0 + 20), "CON " MAIN_EN);
	/* one screen further, it is */
	http_at("b", FARMER, "1", T0 + 25);
	cr_assert_str_eq(http_at("c", FARMER, "", T0 + 30),
	    "CON Continue where you left?\n1 Yes\n2 No");
}

Test(ussd, resuming_is_only_within_ussd_resume)
{
	http_at("a", FARMER, "", T0);
	http_at("a", FARMER, "1", T0 + 5);
	/* ussd-resume = 200 s after its last screen */
	cr_assert_str_eq(http_at("b", FARMER, "", T0 + 206), "CON " MAIN_EN);
}

Test(ussd, the_sweep_forgets_idle_sessions_and_old_rows)
{
	struct ussd_stats	 st;

	http_at("a", FARMER, "", T0);
	http_at("b", "+254700000002", "", T0 + 90);
	ussd_stats(ussd, &st);
	cr_assert_eq(st.cached, 2);
	ussd_sweep(ussd, T0 + 150);
	store_commit(store);
	ussd_stats(ussd, &st);
	cr_assert_eq(st.cached, 1);
	cr_assert_eq(count("SELECT count(*) FROM ussd_sessions"), 2);
	/* the row is still there for resuming; a day later it is not */
	ussd_sweep(ussd, T0 + 86400 + 100);
	store_commit(store);
	cr_assert_eq(count("SELECT count(*) FROM ussd_sessions"), 0);
	cr_assert_eq(st.sessions, 2);
}

/* --- the SMPP way ------------------------------------------------------------------------ */

Test(ussd, smpp_answers_carry_the_op_and_the_session)
{
	char	 meta[256];

	cr_assert_str_eq(smpp_at("USSD", 1, 0x12, 0, "*384#", T0, meta,
	    sizeof(meta)), MAIN_EN);
	cr_assert_str_eq(meta, "?smpp?ussd_service_op=%02&"
	    "its_session_info=%12%00&");
	cr_assert_str_eq(value("SELECT sender || ' ' || receiver || ' ' || "
	    "smsc_id || ' ' || state || ' ' || parts FROM outbox WHERE "
	    "kind = 'ussd'"), "384 " FARMER " USSD queued 1");
	cr_assert_str_eq(smpp_at("USSD", 18, 0x12, 0, "1", T0 + 5, meta,
	    sizeof(meta)), COMMODITIES_EN);
	cr_assert_str_eq(smpp_at("USSD", 18, 0x12, 0, "1", T0 + 9, meta,
	    sizeof(meta)), QTY_EN);
	cr_assert_str_eq(smpp_at("USSD", 18, 0x12, 0, "12", T0 + 12, meta,
	    sizeof(meta)), "You said: maize 12 bag");
	cr_assert_str_eq(meta, "?smpp?ussd_service_op=%11&"
	    "its_session_info=%12%01&");
	cr_assert_eq(count("SELECT count(*) FROM ussd_sessions WHERE "
	    "id = 'smpp:" FARMER ":18' AND state = 'done'"), 1);
}

Test(ussd, smpp_values_per_operator)
{
	char	 meta[256];

	smpp_at("OTHER", 1, 0x05, 0, "*384#", T0, meta, sizeof(meta));
	cr_assert_str_eq(meta, "?smpp?ussd_service_op=%03&"
	    "its_session_info=%05%00&");
	smpp_at("OTHER", 18, 0x05, 0, "3", T0 + 1, NULL, 0);
	cr_assert_str_eq(smpp_at("OTHER", 18, 0x05, 0, "1", T0 + 2, meta,
	    sizeof(meta)), "You said: item 1");
	/* ussd-end-bit = no for this link */
	cr_assert_str_eq(meta, "?smpp?ussd_service_op=%10&"
	    "its_session_info=%05%00&");
}

Test(ussd, smpp_op_one_every_time_still_goes_on)
{
	smpp_at("USSD", 1, 0x07, 0, "*384#", T0, NULL, 0);
	cr_assert_str_eq(smpp_at("USSD", 1, 0x07, 0, "1", T0 + 1, NULL, 0),
	    COMMODITIES_EN);
	/* a dial string starts again, and offers what was left */
	cr_assert_str_eq(smpp_at("USSD", 1, 0x07, 0, "*384#", T0 + 2, NULL, 0),
	    "Continue where you left?\n1 Yes\n2 No");
	cr_assert_str_eq(smpp_at("USSD", 18, 0x07, 0, "1", T0 + 3, NULL, 0),
	    COMMODITIES_EN);
}

Test(ussd, smpp_release_ends_the_session_without_an_answer)
{
	smpp_at("USSD", 1, 0x20, 0, "*384#", T0, NULL, 0);
	smpp_at("USSD", 18, 0x20, 0, "1", T0 + 1, NULL, 0);
	cr_assert_str_eq(smpp_at("USSD", 18, 0x20, 1, "", T0 + 2, NULL, 0), "");
	cr_assert_str_eq(value("SELECT state FROM ussd_sessions WHERE "
	    "id = 'smpp:" FARMER ":32'"), "left");
	/* and it may be resumed */
	cr_assert_str_eq(smpp_at("USSD", 1, 0x21, 0, "*384#", T0 + 30, NULL, 0),
	    "Continue where you left?\n1 Yes\n2 No");
}

Test(ussd, smpp_timeout_takes_the_next_mo_as_a_dial)
{
	smpp_at("USSD", 1, 0x30, 0, "*384#", T0, NULL, 0);
	smpp_at("USSD", 18, 0x30, 0, "1", T0 + 10, NULL, 0);
	cr_assert_str_eq(smpp_at("USSD", 18, 0x30, 0, "1", T0 + 111, NULL, 0),
	    "Continue where you left?\n1 Yes\n2 No");
	/* the session before it is kept under another key, and resumed */
	cr_assert_eq(count("SELECT count(*) FROM ussd_sessions WHERE "
	    "id = 'smpp:" FARMER ":48#1700000000'"), 1);
	cr_assert_str_eq(smpp_at("USSD", 18, 0x30, 0, "1", T0 + 112, NULL, 0),
	    COMMODITIES_EN);
}

/* --- each language: the shipped menu ------------------------------------------------- */

static void
set_language(const char *code)
{
	char	 sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO users(msisdn, language, "
	    "created, updated) VALUES ('" FARMER "', '%s', 0, 0) ON "
	    "CONFLICT(msisdn) DO UPDATE SET language = excluded.language",
	    code);
	cr_assert_eq(sqlite3_exec(store_db(store), sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

/* Register phone as name at market, reading lang. */
static void
set_user(const char *phone, const char *name, const char *market,
    const char *lang)
{
	char	 sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO users(msisdn, name, market, "
	    "language, created, updated) VALUES ('%s', '%s', '%s', '%s', 0, 0)"
	    " ON CONFLICT(msisdn) DO UPDATE SET name = excluded.name, "
	    "market = excluded.market, language = excluded.language", phone,
	    name, market, lang);
	cr_assert_eq(sqlite3_exec(store_db(store), sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

Test(ussd_shipped, the_main_menu_in_each_language)
{
	set_language("en");
	cr_assert_str_eq(http_at("en", FARMER, "", T0), "CON Marketbox\n"
	    "1 Check prices\n2 Sell\n3 Buy from an offer\n4 Ask to buy\n"
	    "5 My orders\n6 Price alerts\n7 Register\n8 Language");
	set_language("sw");
	cr_assert_str_eq(http_at("sw", FARMER, "", T0 + 1000), "CON Soko la "
	    "Marketbox\n1 Angalia bei\n2 Uza\n3 Nunua kutoka ofa\n"
	    "4 Omba kununua\n5 Oda zangu\n6 Taarifa za bei\n7 Jisajili\n"
	    "8 Lugha");
	set_language("fr");
	cr_assert_str_eq(http_at("fr", FARMER, "", T0 + 2000), "CON Marketbox\n"
	    "1 Voir les prix\n2 Vendre\n3 Acheter une offre\n"
	    "4 Demander à acheter\n5 Mes commandes\n6 Alertes de prix\n"
	    "7 S'inscrire\n8 Langue");
	set_language("zh");
	cr_assert_str_eq(http_at("zh", FARMER, "", T0 + 3000), "CON Marketbox "
	    "市场\n1 查价格\n2 出售\n3 购买\n4 求购\n5 我的订单\n6 价格提醒\n"
	    "7 注册\n8 语言");
}

Test(ussd_shipped, the_orders_menu_in_each_language)
{
	set_language("en");
	cr_assert_str_eq(http_at("en", FARMER, "5", T0), "CON My orders\n"
	    "1 See all\n2 Accept an order\n3 Reject an order\n4 Order sent\n"
	    "5 Confirm delivery\n6 Cancel\n00 Back");
	set_language("sw");
	cr_assert_str_eq(http_at("sw", FARMER, "5", T0), "CON Oda zangu\n"
	    "1 Ona zote\n2 Kubali oda\n3 Kataa oda\n4 Oda imetumwa\n"
	    "5 Thibitisha kupokea\n6 Futa\n00 Rudi");
	set_language("fr");
	cr_assert_str_eq(http_at("fr", FARMER, "5", T0), "CON Mes commandes\n"
	    "1 Voir tout\n2 Accepter une commande\n3 Refuser une commande\n"
	    "4 Commande envoyée\n5 Confirmer la livraison\n6 Annuler\n"
	    "00 Retour");
	set_language("zh");
	cr_assert_str_eq(http_at("zh", FARMER, "5", T0), "CON 我的订单\n"
	    "1 查看全部\n2 接受订单\n3 拒绝订单\n4 订单已发货\n5 确认收货\n"
	    "6 取消\n00 返回");
	/* 00 from it is the main menu */
	cr_assert(starts(http_at("zh", FARMER, "5*00", T0), "CON Marketbox "
	    "市场\n1 查价格\n"), "%s", answer);
}

Test(ussd_shipped, commodities_are_named_in_the_language_and_paged)
{
	const char	*a;

	set_language("sw");
	http("p", "");
	a = http("p", "2");
	cr_assert(starts(a, "CON Chagua bidhaa:\n1 mahindi\n2 maharagwe\n"),
	    "%s", a);
	cr_assert(strstr(a, "\n0 Zaidi\n00 Rudi") != NULL, "%s", a);
	a = http("p", "2*0");
	cr_assert(strstr(a, "\n15 parachichi\n00 Rudi") != NULL, "%s", a);
	/* a name typed in another language is taken too; the unit in sw */
	cr_assert_str_eq(http("p", "2*0*Maize"), "CON Idadi (gunia):\n00 Rudi");
}

/* A French market list: the marker is GSM, the whole list one screen. */
Test(ussd_shipped, the_own_market_marker_keeps_french_in_gsm)
{
	const char	*a;

	set_user(FARMER, "Awa", "kongowea", "fr");
	a = http("p", "1*1");
	cr_assert(starts(a, "CON Choisissez un marché :\n"
	    "1 Kongowea (Mombasa) (votre marché)\n2 Nakuru\n"), "%s", a);
	cr_assert(strstr(a, "\n8 Meru\n00 Retour") != NULL, "%s", a);
	cr_assert_leq(ussd_screen_octets(a + 4), 160);
}

#define LINES1_ZH "1 玉米\n2 豆子\n3 大米\n4 高粱\n5 小米\n6 西红柿\n" \
		"7 土豆\n8 洋葱\n9 卷心菜\n10 羽衣甘蓝\n0 更多\n00 返回"
#define LIST1_ZH "选择商品：\n" LINES1_ZH

/*
 * Chinese is UCS-2: 80 units a screen, so the 15 commodities take two
 * pages, which stay the same under an error line; one that has no room
 * for the error line and the title shows the error in the title's place.
 */
Test(ussd_shipped, pages_stay_put_under_an_error_line)
{
	set_language("zh");
	http("p", "");
	cr_assert_str_eq(http("p", "1"), "CON " LIST1_ZH);
	cr_assert_str_eq(http("p", "1*x"), "CON 输入无效，请重试。\n"
	    LINES1_ZH);
	cr_assert_str_eq(http("p", "1*x*0"), "CON 选择商品：\n"
	    "11 木薯\n12 香蕉\n13 牛奶\n14 鸡蛋\n15 牛油果\n00 返回");
	cr_assert_str_eq(http("p", "1*x*0*00"), "CON " LIST1_ZH);
	/* English: all 15 fit; with the error line too, not with both */
	set_language("en");
	http("q", "");
	cr_assert_str_eq(http("q", "1"), "CON Choose a commodity:\n1 maize\n"
	    "2 beans\n3 rice\n4 sorghum\n5 millet\n6 tomatoes\n7 potatoes\n"
	    "8 onions\n9 cabbage\n10 kale\n11 cassava\n12 bananas\n13 milk\n"
	    "14 eggs\n15 avocados\n00 Back");
	cr_assert_str_eq(http("q", "1*99"), "CON Not a valid answer. Try "
	    "again.\n1 maize\n2 beans\n3 rice\n4 sorghum\n5 millet\n"
	    "6 tomatoes\n7 potatoes\n8 onions\n9 cabbage\n10 kale\n"
	    "11 cassava\n12 bananas\n13 milk\n14 eggs\n15 avocados\n00 Back");
}

Test(ussd_shipped, until_the_plugins_are_there_actions_are_unavailable)
{
	http("p", "");
	http("p", "1");
	http("p", "1*1");
	cr_assert_str_eq(http("p", "1*1*1"), "END PRICE is not available now. "
	    "Try again later, or send HELP for what works now.");
}

/* --- every screen of the shipped menu, with the plugins ------------------------------ */

#define WALK_DEPTH	8
#define WALK_SEEN	8192

static struct {
	char		*seen[WALK_SEEN];
	size_t		 nseen, screens, ends, cut;
	unsigned	 sid;
	const char	*lang;
} walk;

/* 1 the first time key is seen. */
static int
walk_new(const char *key)
{
	size_t	 i;

	for (i = 0; i < walk.nseen; i++)
		if (strcmp(walk.seen[i], key) == 0)
			return 0;
	cr_assert_lt(walk.nseen, WALK_SEEN);
	cr_assert_not_null(walk.seen[walk.nseen++] = strdup(key));
	return 1;
}

/*
 * The screen inputs lead to (a new session replays them from
 * the first screen; http_at checks it fits 160 octets), then on from it
 * with every listed number, "0" on a page with more, and a wrong answer;
 * on a question with no list, also a number, a phone, a name and "0".
 * A screen is gone on from once under each first two inputs of a path
 * (the menu item and the submenu item, or the commodity): questions that
 * several items share ("Order number:") are walked under each, and each
 * commodity's unit shows in its questions.
 */
static void
walk_from(const char *inputs, int depth)
{
	static const char *const answers[] = {
		"x", "0", "12", "0722000111", "Mary Wanjiku",
	};
	char		 sid[32], screen[2048], key[2400], head[64], next[256];
	const char	*a, *l, *star;
	size_t		 i;
	int		 n, listed = 0;

	snprintf(sid, sizeof(sid), "w-%s-%u", walk.lang, ++walk.sid);
	a = http_at(sid, FARMER, inputs, T0);
	walk.screens++;
	if (starts(a, "END ")) {
		walk.ends++;
		if (strstr(a, "\xE2\x80\xA6") != NULL)
			walk.cut++;
		/* LANG and REG change the user: back as the walk began */
		set_user(FARMER, "Mary", "kongowea", walk.lang);
		return;
	}
	cr_assert(strstr(a, "\xE2\x80\xA6") == NULL, "'%s' in %s is cut: %s",
	    inputs, walk.lang, a);
	snprintf(screen, sizeof(screen), "%s", a);
	star = strchr(inputs, '*');
	star = star != NULL ? strchr(star + 1, '*') : NULL;
	snprintf(head, sizeof(head), "%.*s", star != NULL ?
	    (int)(star - inputs) : (int)strlen(inputs), inputs);
	snprintf(key, sizeof(key), "%s|%s", head, screen);
	if (depth == WALK_DEPTH || !walk_new(key))
		return;
	for (l = screen; l != NULL; l = strchr(l + 1, '\n')) {
		if (*l == '\n')
			l++;
		if (l[0] != '0' && sscanf(l, "%d ", &n) == 1) {
			listed = 1;
			snprintf(next, sizeof(next), "%s%s%d", inputs,
			    *inputs ? "*" : "", n);
		} else if (starts(l, "0 "))
			snprintf(next, sizeof(next), "%s%s0", inputs,
			    *inputs ? "*" : "");
		else
			continue;
		walk_from(next, depth + 1);
	}
	for (i = 0; i < (listed ? 1 : sizeof(answers) / sizeof(answers[0]));
	    i++) {
		snprintf(next, sizeof(next), "%s%s%s", inputs, *inputs ? "*" : "",
		    answers[i]);
		walk_from(next, depth + 1);
	}
}

/* An SMS from phone through the router at time t: its outcome. */
static enum router_outcome
sms_at(const char *phone, const char *text, long long t)
{
	static unsigned		 n;
	struct mo		 mo;
	enum router_outcome	 outcome;
	char			 id[32];

	snprintf(id, sizeof(id), "sms-%u", ++n);
	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = "box";
	mo.sender = phone;
	mo.receiver = "777";
	mo.text = text;
	mo.time = t;
	cr_assert_eq(store_work_begin(store), 0);
	router_unit_begin(router);
	cr_assert_eq(router_handle(router, &mo, 0, &outcome), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	return outcome;
}

/* phone becomes an agent of the Kiambogo point, reading lang. */
static void
set_agent(const char *phone, const char *lang)
{
	char	 sql[512];

	set_user(phone, "Jane Agent", "nakuru", lang);
	snprintf(sql, sizeof(sql), "INSERT INTO agents(msisdn, point, added) "
	    "VALUES ('%s', 'kiambogo', 1); UPDATE users SET role = 'agent' "
	    "WHERE msisdn = '%s'", phone, phone);
	cr_assert_eq(sqlite3_exec(store_db(store), sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

/*
 * Every screen of the shipped menu in lang, for a user whose own market
 * has the longest name (its marker on the lists), with an offer and an
 * order of hers there to act on: menus, lists page by page, questions,
 * error lines, the resume question and the commands' own final screens.
 */
static void
walk_shipped(const char *lang)
{
	size_t	 i;

	memset(&walk, 0, sizeof(walk));
	walk.lang = lang;
	set_user(FARMER, "Mary", "kongowea", lang);
	set_user("+254700000002", "John", "nakuru", "en");
	/* an agent too: Act for a member, her list and her menu */
	set_agent(FARMER, lang);
	set_user(FARMER, "Mary", "kongowea", lang);
	cr_assert_eq(sms_at(FARMER, "MEMBER Mary Wanjiku", T0), ROUTER_DONE);
	cr_assert_eq(count("SELECT count(*) FROM members WHERE state = "
	    "'active'"), 1);
	/* offer 1 hers, order 2 on it; offer 3 another's */
	http_at("o1", FARMER, "2*1*50*3000", T0);
	http_at("o2", "+254700000002", "3*1*2", T0);
	http_at("o3", "+254700000002", "2*2*9*7000", T0);
	walk_from("", 0);
	/* a session left half way is offered on the next dial */
	cr_assert(starts(http_at("w-resume", FARMER, "", T0 + 1), "CON "),
	    "%s", answer);
	cr_assert_gt(walk.ends, 100, "%zu final screens", walk.ends);
	cr_log_info("%s: %zu screens, %zu final, %zu cut", lang, walk.screens,
	    walk.ends, walk.cut);
	for (i = 0; i < walk.nseen; i++)
		free(walk.seen[i]);
}

Test(ussd_market, every_screen_fits_in_english, .timeout = 120)
{
	walk_shipped("en");
}

Test(ussd_market, every_screen_fits_in_swahili, .timeout = 120)
{
	walk_shipped("sw");
}

Test(ussd_market, every_screen_fits_in_french, .timeout = 120)
{
	walk_shipped("fr");
}

Test(ussd_market, every_screen_fits_in_chinese, .timeout = 120)
{
	walk_shipped("zh");
}

/* --- the menu's commands, run through the plugins -------------------------------------- */

#define BUYER	"+254700000002"

/* The END screen of inputs in a session of its own, from phone. */
static const char *
final(const char *phone, const char *inputs)
{
	static unsigned	 n;
	char		 sid[32];
	const char	*a;

	snprintf(sid, sizeof(sid), "f%u", ++n);
	a = http_at(sid, phone, inputs, T0 + n);
	cr_assert(starts(a, "END "), "'%s' ends at %s", inputs, a);
	return a;
}

/* The number in the first row of sql (-1 if none). */
static long long
number(const char *sql)
{
	return count(sql);
}

/* A screen names #ref. */
static void
assert_names(const char *screen, long long ref)
{
	char	 hash[32];

	snprintf(hash, sizeof(hash), "#%lld", ref);
	cr_assert(strstr(screen, hash) != NULL, "no %s in %s", hash, screen);
}

/* Mary sells 10 bags of maize at 3000 at Nakuru; John is a buyer. */
static long long
market_day(void)
{
	set_user(FARMER, "Mary", "nakuru", "en");
	set_user(BUYER, "John", "eldoret", "en");
	final(FARMER, "2*1*10*3000");
	return number("SELECT max(ref) FROM market_posts WHERE kind = "
	    "'offer' AND msisdn = '" FARMER "' AND qty = 10");
}

Test(ussd_market, buy_from_an_offer)
{
	long long	 offer = market_day(), order;
	char		 in[64];

	cr_assert_gt(offer, 0);
	cr_assert_str_eq(http_at("b", BUYER, "3", T0), "CON Offer number:\n"
	    "00 Back");
	snprintf(in, sizeof(in), "3*%lld", offer);
	cr_assert_str_eq(http_at("b", BUYER, in, T0), "CON How many to buy?\n"
	    "00 Back");
	snprintf(in, sizeof(in), "3*%lld*4", offer);
	assert_names(http_at("b", BUYER, in, T0), offer);
	order = number("SELECT ref FROM market_orders WHERE buyer = '" BUYER
	    "' AND qty = 4 AND state = 'pending'");
	cr_assert_gt(order, 0);
	assert_names(answer, order);
	/* written down too (notify-sms) */
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE kind = 'reply' "
	    "AND state = 'queued' AND receiver = '" BUYER "'"), 1);
}

/* A new phone registers through the menu: its name, then its market. */
Test(ussd_market, register_asks_the_name_then_the_market)
{
	cr_assert_str_eq(http_at("r", BUYER, "7", T0), "CON Your name:\n"
	    "00 Back");
	cr_assert(starts(http_at("r", BUYER, "7*Amina Njeri", T0), "CON Choose "
	    "a market:\n1 Nakuru\n2 Eldoret\n"), "%s", answer);
	http_at("r", BUYER, "7*Amina Njeri*2", T0);
	cr_assert(starts(answer, "END Welcome Amina Njeri!"), "%s", answer);
	cr_assert_eq(count("SELECT count(*) FROM users WHERE msisdn = '"
	    BUYER "' AND name = 'Amina Njeri' AND market = 'eldoret'"), 1);
}

Test(ussd_market, ask_to_buy_posts_a_want)
{
	set_user(BUYER, "John", "eldoret", "en");
	cr_assert(starts(http_at("w", BUYER, "4", T0), "CON Choose a "
	    "commodity:\n1 maize\n2 beans\n"), "%s", answer);
	cr_assert_str_eq(http_at("w", BUYER, "4*2", T0), "CON Quantity (bag):"
	    "\n00 Back");
	cr_assert_str_eq(http_at("w", BUYER, "4*2*5", T0), "CON Highest price "
	    "per bag in KES:\n00 Back");
	http_at("w", BUYER, "4*2*5*6000", T0);
	cr_assert(starts(answer, "END "), "%s", answer);
	cr_assert_eq(count("SELECT count(*) FROM market_posts WHERE kind = "
	    "'want' AND msisdn = '" BUYER "' AND commodity = 'beans' AND "
	    "qty = 5 AND unit = 'bag' AND state = 'open'"), 1);
}

Test(ussd_market, accept_send_reject_and_cancel_in_my_orders)
{
	long long	 offer = market_day(), o1, o2, o3;
	char		 in[64];

	snprintf(in, sizeof(in), "3*%lld*1", offer);
	final(BUYER, in);
	o1 = number("SELECT max(ref) FROM market_orders");
	final(BUYER, in);
	o2 = number("SELECT max(ref) FROM market_orders");
	final(BUYER, in);
	o3 = number("SELECT max(ref) FROM market_orders");
	cr_assert(o1 > 0 && o2 > o1 && o3 > o2);

	/* See all: MY */
	assert_names(final(FARMER, "5*1"), offer);
	/* Accept o1, then sent without a transporter (0) */
	snprintf(in, sizeof(in), "5*2*%lld", o1);
	assert_names(final(FARMER, in), o1);
	snprintf(in, sizeof(in), "5*4*%lld", o1);
	cr_assert_str_eq(http_at("s1", FARMER, in, T0), "CON Transporter's "
	    "phone (0 if none):\n00 Back");
	snprintf(in, sizeof(in), "5*4*%lld*x", o1);
	cr_assert_str_eq(http_at("s1", FARMER, in, T0), "CON Not a valid "
	    "answer. Try again.\nTransporter's phone (0 if none):\n00 Back");
	snprintf(in, sizeof(in), "5*4*%lld*x*0", o1);
	assert_names(http_at("s1", FARMER, in, T0), o1);
	cr_assert(starts(answer, "END "), "%s", answer);
	cr_assert_str_eq(value("SELECT state || '|' || coalesce(transporter, "
	    "'') FROM market_orders WHERE ref = (SELECT min(ref) FROM "
	    "market_orders)"), "sent|");
	/* Accept o2, sent with a transporter */
	snprintf(in, sizeof(in), "5*2*%lld", o2);
	final(FARMER, in);
	snprintf(in, sizeof(in), "5*4*%lld*0722000111", o2);
	assert_names(final(FARMER, in), o2);
	cr_assert(strstr(answer, "+254722000111") != NULL, "%s", answer);
	cr_assert_eq(count("SELECT count(*) FROM market_orders WHERE state = "
	    "'sent' AND transporter = '+254722000111'"), 1);
	/* Reject o3 */
	snprintf(in, sizeof(in), "5*3*%lld", o3);
	assert_names(final(FARMER, in), o3);
	cr_assert_eq(count("SELECT count(*) FROM market_orders WHERE state = "
	    "'rejected'"), 1);
	/* The buyer confirms o1 (0: no code) */
	snprintf(in, sizeof(in), "5*5*%lld*0", o1);
	assert_names(final(BUYER, in), o1);
	cr_assert_eq(count("SELECT count(*) FROM market_orders WHERE state = "
	    "'delivered'"), 1);
	/* Cancel the offer */
	cr_assert_str_eq(http_at("c", FARMER, "5*6", T0), "CON Number to "
	    "cancel (offer, want or order):\n00 Back");
	snprintf(in, sizeof(in), "5*6*%lld", offer);
	assert_names(final(FARMER, in), offer);
	cr_assert_eq(count("SELECT count(*) FROM market_posts WHERE state = "
	    "'cancelled'"), 1);
}

Test(ussd_market, price_alerts_for_a_commodity_and_market)
{
	set_user(FARMER, "Mary", "nakuru", "sw");
	cr_assert(starts(http_at("a", FARMER, "6", T0), "CON Chagua bidhaa:\n"
	    "1 mahindi\n"), "%s", answer);
	cr_assert(starts(http_at("a", FARMER, "6*1", T0), "CON Chagua soko:\n"
	    "1 Nakuru (lako)\n2 Eldoret\n"), "%s", answer);
	http_at("a", FARMER, "6*1*1", T0);
	cr_assert(starts(answer, "END "), "%s", answer);
	cr_assert_eq(count("SELECT count(*) FROM prices_alerts WHERE msisdn = '"
	    FARMER "' AND commodity = 'maize' AND market = 'nakuru'"), 1);
}

/* --- the conf's checks ----------------------------------------------------------------- */

Test(ussd, bad_menus_are_refused_at_load)
{
	cr_assert_null(conf_load(TEST_SRCDIR "/data/ussd-badref.conf"));
	cr_assert_null(conf_load(TEST_SRCDIR "/data/ussd-badinput.conf"));
	cr_assert_null(conf_load(TEST_SRCDIR "/data/ussd-nostart.conf"));
	/* in a list, 0 turns the page: it cannot also mean none */
	cr_assert_null(conf_load(TEST_SRCDIR "/data/ussd-badoptional.conf"));
}

/* The conf in text, loaded from a file in the test's directory: NULL if
 * refused. */
static struct conf *
conf_from(const char *text)
{
	char		 file[256];
	struct conf	*c;
	int		 fd;

	dir_file(file, sizeof(file), "item.conf");
	cr_assert_geq(fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600), 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(close(fd), 0);
	c = conf_load(file);
	cr_assert_eq(unlink(file), 0);
	return c;
}

#define MEMBER_CONF(after) "group = marketbox\nglobal-sender = 777\n\n"	\
	"group = ussd-menu\nid = main\ntitle = ussd-main\nitems = act\n\n"	\
	"group = ussd-menu\nid = member\ntitle = ussd-member-menu\n"	\
	"items = act\n\n"							\
	"group = ussd-item\nid = act\nlabel = ussd-act-for\n"		\
	"input = choice\nchoices = members\nvar = member\n"		\
	"prompt = ussd-ask-member\n" after "\n"

/* A choice of members, then a menu: one of next, action or menu. */
Test(ussd, a_menu_after_an_input_is_one_of_three)
{
	struct conf	*c;

	cr_assert_not_null(c = conf_from(MEMBER_CONF("menu = member")));
	cr_assert_str_eq(c->ussd_items[0].choices, "members");
	cr_assert_str_eq(c->ussd_items[0].menu, "member");
	conf_free(c);
	cr_assert_null(conf_from(MEMBER_CONF("menu = member\n"
	    "action = \"MY\"")));
	cr_assert_null(conf_from(MEMBER_CONF("menu = nowhere")));
	cr_assert_null(conf_from(MEMBER_CONF("")));
}

Test(ussd, menus_naming_missing_templates_are_refused)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/data/ussd-notemplate.conf");

	cr_assert_not_null(c);
	cr_assert_eq(ussd_check(c, router_langs(router)), -1);
	cr_assert_eq(ussd_check(conf, router_langs(router)), 0);
	conf_free(c);
}

Test(ussd, the_conf_defaults)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/data/ussd-notemplate.conf");

	cr_assert_not_null(c);
	cr_assert_eq(c->ussd_timeout, 180);
	cr_assert_eq(c->ussd_resume, 300);
	cr_assert_eq(c->ussd_screen_size, 160);
	cr_assert_eq(c->ussd_op_continue, 2);
	cr_assert_eq(c->ussd_op_end, 17);
	cr_assert_eq(c->ussd_end_bit, 1);
	cr_assert_str_eq(c->ussd_start, "main");
	conf_free(c);
	cr_assert_eq(conf->nussd_menus, 2);
	cr_assert_eq(conf->nussd_items, 27);
	cr_assert_eq(conf->ussd_smscs[0].op_continue, 3);
	cr_assert_eq(conf->ussd_smscs[0].end_bit, 0);
}

Test(ussd, with_no_menu_left_after_a_reload_the_answer_is_an_error_screen)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/data/good.conf");

	cr_assert_not_null(c);
	cr_assert_eq(c->nussd_menus, 0);
	ussd_set_conf(ussd, c);
	cr_assert_str_eq(http("s1", ""), "END Sorry, that could not be done "
	    "just now. Please try again later.");
	cr_assert_str_eq(smpp_at("USSD", 1, 0x40, 0, "*384#", T0, NULL, 0),
	    "Sorry, that could not be done just now. Please try again later.");
	cr_assert_str_eq(value("SELECT meta_data FROM outbox WHERE kind = "
	    "'ussd'"), "?smpp?ussd_service_op=%11&its_session_info=%40%01&");
	ussd_set_conf(ussd, conf);
	conf_free(c);
	cr_assert_str_eq(http("s2", ""), "CON " MAIN_EN);
}

/* --- through the inbox -------------------------------------------------------------------- */

static struct {
	int			 calls;
	enum inbox_status	 status;
	char			 reply[1024];
} told;

static void
done_cb(void *arg, enum inbox_status status, const char *reply)
{
	(void)arg;
	told.calls++;
	told.status = status;
	snprintf(told.reply, sizeof(told.reply), "%s", reply ? reply : "(null)");
}

Test(ussd, the_inbox_stores_dedups_and_hands_ussd_to_the_engine)
{
	struct inbox	*in = fixture_inbox_new(store, router, ussd, outbox);
	struct mo	 mo;

	cr_assert_not_null(in);
	memset(&mo, 0, sizeof(mo));
	mo.id = "ussd:i1:";
	mo.channel = "ussd";
	mo.sender = FARMER;
	mo.receiver = "*384#";
	mo.text = "";
	mo.meta_data = "?http?sessionId=i1&";
	mo.time = T0;
	mo.reply_inline = 1;
	memset(&told, 0, sizeof(told));
	cr_assert_eq(inbox_receive(in, &mo, done_cb, NULL), 0);
	cr_assert_eq(told.calls, 0, "told before the commit");
	store_commit(store);
	cr_assert_eq(told.calls, 1);
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_str_eq(told.reply, "CON " MAIN_EN);
	/* the same request again: a duplicate, the same screen */
	cr_assert_eq(inbox_receive(in, &mo, done_cb, NULL), 0);
	store_commit(store);
	cr_assert_eq(told.status, INBOX_DUPLICATE);
	cr_assert_str_eq(told.reply, "CON " MAIN_EN);
	cr_assert_eq(count("SELECT count(*) FROM inbox WHERE channel = 'ussd' "
	    "AND kannel_id = 'ussd:i1:' AND state = 'done'"), 1);
	/* an action: its captured reply is the END screen, one inline row */
	mo.id = "ussd:i1:3";
	mo.text = "3";
	cr_assert_eq(inbox_receive(in, &mo, done_cb, NULL), 0);
	store_commit(store);
	mo.id = "ussd:i1:3*5";
	mo.text = "3*5";
	cr_assert_eq(inbox_receive(in, &mo, done_cb, NULL), 0);
	store_commit(store);
	cr_assert_str_eq(told.reply, "END You said: item 5");
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE state = 'inline' "
	    "AND text = 'You said: item 5' AND inbox_id = (SELECT id FROM "
	    "inbox WHERE kannel_id = 'ussd:i1:3*5')"), 1);
	fixture_inbox_free(in);
}

/* --- an agent acts for a member ---------------------------------------------------------- */

#define AGENT	"+254700000009"

/* The code of the member named name ("" if none). */
static const char *
code_of(const char *name)
{
	char	 sql[256];

	snprintf(sql, sizeof(sql), "SELECT code FROM members WHERE name = "
	    "'%s'", name);
	return value(sql);
}

Test(ussd_agent, only_an_agent_sees_act_for_a_member)
{
	set_user(FARMER, "Mary", "nakuru", "en");
	set_agent(AGENT, "en");
	cr_assert_str_eq(http_at("a", AGENT, "", T0), "CON Marketbox\n"
	    "1 Check prices\n2 Sell\n3 Buy from an offer\n4 Ask to buy\n"
	    "5 My orders\n6 Price alerts\n7 Register\n8 Language\n"
	    "9 Act for a member");
	cr_assert_str_eq(http_at("f", FARMER, "", T0), "CON Marketbox\n"
	    "1 Check prices\n2 Sell\n3 Buy from an offer\n4 Ask to buy\n"
	    "5 My orders\n6 Price alerts\n7 Register\n8 Language");
	/* nor can she reach it by its number */
	cr_assert(starts(http_at("f", FARMER, "9", T0), "CON Not a valid "
	    "answer. Try again.\nMarketbox\n"), "%s", answer);
	/* an agent without members is told how to enrol one */
	cr_assert_str_eq(http_at("a", AGENT, "9", T0), "CON You have no "
	    "members yet. Enrol one by SMS: MEMBER and a name, with their "
	    "phone if they have one.\n00 Back");
	/* an agent removed sees it no more */
	cr_assert_eq(sqlite3_exec(store_db(store), "UPDATE agents SET "
	    "removed = 2", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_str_eq(http_at("r", AGENT, "", T0 + 1000), "CON Marketbox\n"
	    "1 Check prices\n2 Sell\n3 Buy from an offer\n4 Ask to buy\n"
	    "5 My orders\n6 Price alerts\n7 Register\n8 Language");
}

Test(ussd_agent, a_sale_for_a_member_is_hers_and_names_her)
{
	char		 m1[32], m2[32], in[128], want[512];
	long long	 offer;

	set_agent(AGENT, "en");
	cr_assert_eq(sms_at(AGENT, "MEMBER Mary Wanjiku", T0), ROUTER_DONE);
	cr_assert_eq(sms_at(AGENT, "MEMBER Peter Kamau", T0), ROUTER_DONE);
	/* one ended: no longer listed */
	cr_assert_eq(sms_at(AGENT, "MEMBER Ann Off", T0), ROUTER_DONE);
	snprintf(in, sizeof(in), "MEMBER %s OFF", code_of("Ann Off"));
	cr_assert_eq(sms_at(AGENT, in, T0), ROUTER_DONE);
	snprintf(m1, sizeof(m1), "%s", code_of("Mary Wanjiku"));
	snprintf(m2, sizeof(m2), "%s", code_of("Peter Kamau"));
	cr_assert(m1[0] != '\0' && m2[0] != '\0');

	snprintf(want, sizeof(want), "CON Act for which member?\n"
	    "1 Mary Wanjiku (%s)\n2 Peter Kamau (%s)\n00 Back", m1, m2);
	cr_assert_str_eq(http_at("s", AGENT, "9", T0), want);
	/* typed by its code too */
	snprintf(in, sizeof(in), "9*%s", m1);
	snprintf(want, sizeof(want), "CON For Mary Wanjiku (%s):\n"
	    "1 Check prices\n2 Sell\n3 Buy from an offer\n4 Ask to buy\n"
	    "5 My orders\n6 Price alerts\n00 Back", m1);
	cr_assert_str_eq(http_at("t", AGENT, in, T0), want);
	cr_assert_str_eq(http_at("s", AGENT, "9*1", T0), want);
	http_at("s", AGENT, "9*1*2*1*10*3000", T0);
	snprintf(want, sizeof(want), "END For Mary Wanjiku (%s): ", m1);
	cr_assert(starts(answer, want), "%s", answer);
	snprintf(want, sizeof(want), "SELECT max(ref) FROM market_posts WHERE "
	    "kind = 'offer' AND msisdn = 'm:%s' AND qty = 10", m1);
	offer = number(want);
	cr_assert_gt(offer, 0, "no offer of hers");
	assert_names(answer, offer);
	cr_assert_eq(count("SELECT count(*) FROM market_posts WHERE msisdn = '"
	    AGENT "'"), 0, "the agent's own");
	snprintf(want, sizeof(want), "SELECT count(*) FROM agent_actions WHERE "
	    "agent = '" AGENT "' AND member = '%s' AND command LIKE 'SELL%%'",
	    m1);
	cr_assert_eq(count(want), 1);
	/* the SMS copy names her too */
	snprintf(want, sizeof(want), "SELECT count(*) FROM outbox WHERE "
	    "kind = 'reply' AND state = 'queued' AND receiver = '" AGENT "' "
	    "AND text LIKE 'For Mary Wanjiku (%s): %%'", m1);
	cr_assert_eq(count(want), 1);
	/* back out of her menu: the agent's own again */
	cr_assert_str_eq(http_at("b", AGENT, "9*1*00*00*2*1*5*2000", T0),
	    answer);
	cr_assert(!starts(answer, "END For "), "%s", answer);
	cr_assert_eq(count("SELECT count(*) FROM market_posts WHERE msisdn = '"
	    AGENT "' AND qty = 5"), 1);
}

Test(ussd_agent, limits_are_per_member)
{
	char			 m1[32], m2[32], in[256];
	int			 i;

	set_agent(AGENT, "en");
	cr_assert_eq(sms_at(AGENT, "MEMBER Mary Wanjiku", T0), ROUTER_DONE);
	cr_assert_eq(sms_at(AGENT, "MEMBER Peter Kamau", T0), ROUTER_DONE);
	snprintf(m1, sizeof(m1), "%s", code_of("Mary Wanjiku"));
	snprintf(m2, sizeof(m2), "%s", code_of("Peter Kamau"));
	/* agent-flood-burst 2: two sales for Mary, the third waits */
	for (i = 0; i < 2; i++)
		cr_assert(starts(final(AGENT, "9*1*2*1*10*3000"), "END For "
		    "Mary Wanjiku"), "%d: %s", i, answer);
	cr_assert(starts(final(AGENT, "9*1*2*1*10*3000"), "END Too many "
	    "requests just now"), "%s", answer);
	/* Peter's bucket is his own, and so is the agent's */
	cr_assert(starts(final(AGENT, "9*2*2*1*10*3000"), "END For Peter "
	    "Kamau"), "%s", answer);
	cr_assert(starts(final(AGENT, "2*1*10*3000"), "END Offer #"), "%s",
	    answer);
	snprintf(in, sizeof(in), "SELECT count(*) FROM market_posts WHERE "
	    "msisdn = 'm:%s'", m1);
	cr_assert_eq(count(in), 2);
	snprintf(in, sizeof(in), "SELECT count(*) FROM market_posts WHERE "
	    "msisdn = 'm:%s'", m2);
	cr_assert_eq(count(in), 1);
	/* the menu and FOR by SMS share Mary's bucket */
	snprintf(in, sizeof(in), "FOR %s SELL beans 3 bags 7000", m1);
	cr_assert_eq(sms_at(AGENT, in, T0 + 5), ROUTER_THROTTLED);
	snprintf(in, sizeof(in), "FOR %s SELL beans 3 bags 7000", m2);
	cr_assert_eq(sms_at(AGENT, in, T0 + 5), ROUTER_DONE);
}
