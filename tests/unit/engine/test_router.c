/*
 * test_router.c - router.c (and the host side it runs commands through,
 * host.c): every keyword of every shipped language reaches its command and
 * is answered in its language, the core commands (REG, HELP, LANG, STOP,
 * START, ME), typos and their suggestions, empty, long and junk texts, the
 * flood limit, the repeat window, registration and roles of plugin
 * commands, and a reload with router_set_conf.
 *
 * Messages go the way production sends them: struct mo -> inbox_receive()
 * on a real store in a temporary directory, committed by hand, with
 * reply_inline set so that the reply comes back in the done callback.
 * Expected replies are rendered from the shipped language files with
 * lang_template() and lang_render(), so a test states which template in
 * which language, with which values, a message must get.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <event2/event.h>

#include "base/gw.h"
#include "base/conf.h"
#include "queue/inbox.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "engine_fixture.h"
#include "store/store.h"

#define LANG_DIR	TEST_SRCDIR "/../conf/lang"
#define CMDS_SO		TEST_BUILDDIR "/tests/plugins/.libs/router_cmds.so"
#define MARKET_SO	TEST_BUILDDIR "/plugins/market/.libs/market.so"
#define T0		1700000000LL	/* message time of most tests */
#define ALICE		"+254722000111"
#define BOB		"+254733000222"
#define ADMIN		"+254700000009"
#define FAILED_TEXT	R("en", "error", NULL)

/* Which conf a suite runs with. */
enum variant {
	V_PLAIN,	/* the echo plugin; no flood limit, no repeat window */
	V_FLOOD,	/* flood-rate 10 a minute, burst 3 */
	V_REPEAT,	/* repeat-window 30 s */
	V_PLUGIN,	/* echo and tests/plugins/router_cmds */
	V_MARKET,	/* echo and the market plugin, repeat-window 30 s */
	V_DURABLE	/* V_MARKET with V_FLOOD's limits */
};

/* The fixture's world (engine_fixture.h), under the names the tests use. */
static struct conf		*conf;
static struct conf		*conf2;		/* a test's second conf */
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct inbox		*inbox;
static const struct lang_set	*langs;		/* for expected replies */
#define told			engine_fixture.told
#define nextid			engine_fixture.nextid
#define xstrdup			engine_fixture_strdup
#define names_set		engine_fixture_names
#define done_cb			engine_fixture_done_cb
#define send_mo			engine_fixture_send
#define query			engine_fixture_query
#define q_int			engine_fixture_int
#define q_text			engine_fixture_text
#define R			engine_fixture_reply

/* --- set-up ---------------------------------------------------------------- */

/* The conf every suite starts from: a small catalogue, admins, 254. */
static struct conf *
conf_make(void)
{
	struct conf	*c = engine_fixture_conf();

	c->dlr_mask = 31;
	names_set(&c->currency_aliases, "KSh;Bob");
	names_set(&c->admins, ADMIN);

	c->nunits = 3;
	c->units = calloc(c->nunits, sizeof(*c->units));
	cr_assert_not_null(c->units);
	c->units[0].code = xstrdup("bag");
	names_set(&c->units[0].aliases, "bags;gunia;sac;sacs");
	c->units[1].code = xstrdup("kg");
	names_set(&c->units[1].aliases, "kilo;kgs");
	c->units[2].code = xstrdup("crate");
	names_set(&c->units[2].aliases, "crates");

	c->ncommodities = 3;
	c->commodities = calloc(c->ncommodities, sizeof(*c->commodities));
	cr_assert_not_null(c->commodities);
	c->commodities[0].code = xstrdup("maize");
	c->commodities[0].unit = xstrdup("bag");
	names_set(&c->commodities[0].aliases, "corn;mahindi;maïs;mais;玉米");
	c->commodities[1].code = xstrdup("beans");
	c->commodities[1].unit = xstrdup("bag");
	names_set(&c->commodities[1].aliases, "maharage");
	c->commodities[2].code = xstrdup("tomato");
	c->commodities[2].unit = xstrdup("crate");
	names_set(&c->commodities[2].aliases, "tomatoes;nyanya");

	c->nmarkets = 3;
	c->markets = calloc(c->nmarkets, sizeof(*c->markets));
	cr_assert_not_null(c->markets);
	c->markets[0].code = xstrdup("nakuru");
	c->markets[0].name = xstrdup("Nakuru");
	c->markets[0].region = xstrdup("Rift Valley");
	names_set(&c->markets[0].aliases, "");
	c->markets[1].code = xstrdup("wakulima");
	c->markets[1].name = xstrdup("Wakulima Market");
	names_set(&c->markets[1].aliases, "marikiti");
	c->markets[2].code = xstrdup("eldoret");
	c->markets[2].name = xstrdup("Eldoret Town");
	names_set(&c->markets[2].aliases, "");
	return c;
}

static void
setup_with(enum variant v)
{
	struct conf	*c = conf_make();

	if (v == V_FLOOD || v == V_DURABLE) {
		c->flood_rate = 10;
		c->flood_burst = 3;
	}
	if (v == V_REPEAT || v == V_MARKET || v == V_DURABLE)
		c->repeat_window = 30;
	if (v == V_MARKET || v == V_DURABLE) {
		engine_fixture_plugin(c, "echo", "echo.so");
		engine_fixture_plugin(c, "market", MARKET_SO);
	}
	if (v == V_PLUGIN) {
		engine_fixture_plugin(c, "echo", "echo.so");
		engine_fixture_plugin(c, "router_cmds", CMDS_SO);
	}
	engine_fixture_open("router", c, NULL);
	engine_fixture_parts(&conf, &store, &outbox, &router, &inbox, &langs);
}

static void
teardown(void)
{
	engine_fixture_close();
	conf_free(conf2);
	conf2 = NULL;
}

static void setup_plain(void) { setup_with(V_PLAIN); }
static void setup_flood(void) { setup_with(V_FLOOD); }
static void setup_repeat(void) { setup_with(V_REPEAT); }
static void setup_plugin(void) { setup_with(V_PLUGIN); }
static void setup_market(void) { setup_with(V_MARKET); }
static void setup_durable(void) { setup_with(V_DURABLE); }

TestSuite(router, .init = setup_plain, .fini = teardown);
TestSuite(keywords, .init = setup_plain, .fini = teardown);
TestSuite(typos, .init = setup_plain, .fini = teardown);
TestSuite(junk, .init = setup_plain, .fini = teardown);
TestSuite(flood, .init = setup_flood, .fini = teardown);
TestSuite(repeat, .init = setup_repeat, .fini = teardown);
TestSuite(plugin, .init = setup_plugin, .fini = teardown);
TestSuite(questions, .init = setup_plugin, .fini = teardown);
TestSuite(repeat_market, .init = setup_market, .fini = teardown);
TestSuite(durable, .init = setup_durable, .fini = teardown);

/* --- sending and looking ------------------------------------------------------ */

static const char *
say_at(const char *sender, const char *text, long long t)
{
	return send_mo(sender, text, t, 1);
}

static const char *
say(const char *sender, const char *text)
{
	return say_at(sender, text, T0);
}

static const char *
user_field(const char *field, const char *msisdn)
{
	static char	 sql[128];

	snprintf(sql, sizeof(sql), "SELECT %s FROM users WHERE msisdn = ?1",
	    field);
	return q_text(sql, msisdn);
}

/* The state of the last MO's inbox row. */
static const char *
last_state(void)
{
	return q_text("SELECT state FROM inbox WHERE kannel_id = ?1", told.id);
}

/* Outbox rows caused by the last MO. */
static long long
last_outbox_rows(void)
{
	return q_int("SELECT count(*) FROM outbox WHERE inbox_id = "
	    "(SELECT id FROM inbox WHERE kannel_id = ?1)", told.id);
}

/* A user as if they had registered (and more: role, trades). */
static void
user_put(const char *msisdn, const char *name, const char *market,
    const char *language, const char *role, int trades)
{
	sqlite3_stmt	*st;

	cr_assert_eq(sqlite3_prepare_v2(store_db(store),
	    "INSERT INTO users(msisdn, name, market, language, role, trades,"
	    " created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 1)", -1, &st,
	    NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
	if (name)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (market)
		sqlite3_bind_text(st, 3, market, -1, SQLITE_STATIC);
	if (language)
		sqlite3_bind_text(st, 4, language, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, role ? role : "user", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, trades);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Uppercase as a keypad would type it: ASCII and Latin-1 letters. */
static void
upcase(char *s)
{
	unsigned char	*p = (unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
		else if (*p == 0xC3 && p[1] >= 0xA0 && p[1] <= 0xBE &&
		    p[1] != 0xB7) {
			p[1] -= 0x20;
			p++;
		}
	}
}

/* The first word of command in lang, uppercase, as replies name it. */
static const char *
cmdword(const char *lang, const char *command)
{
	static char	 buf[4][64];
	static int	 i;
	char		*out = buf[i++ % 4];
	const char	*w = lang_command_word(langs, lang, command);

	cr_assert_not_null(w, "no word for %s in %s", command, lang);
	snprintf(out, sizeof(buf[0]), "%s", w);
	upcase(out);
	return out;
}

/* --- every keyword of every shipped language --------------------------------- */

struct kw {
	char	 lang[8];	/* the file it is in */
	char	 word[32];
	char	 command[16];
	char	 answer[8];	/* the language of the reply to a new user
				   (whose language is the default, en):
				   the keyword's, unless en has it too */
};

static struct kw kw_table[] = {
	{ "en", "accept", "ACCEPT", "en" },
	{ "en", "alert", "ALERT", "en" },
	{ "en", "buy", "BUY", "en" },
	{ "en", "order", "BUY", "en" },
	{ "en", "cancel", "CANCEL", "en" },
	{ "en", "delivered", "DELIVERED", "en" },
	{ "en", "arrived", "DELIVERED", "en" },
	{ "en", "echo", "ECHO", "en" },
	{ "en", "help", "HELP", "en" },
	{ "en", "lang", "LANG", "en" },
	{ "en", "language", "LANG", "en" },
	{ "en", "me", "ME", "en" },
	{ "en", "whoami", "ME", "en" },
	{ "en", "my", "MY", "en" },
	{ "en", "mine", "MY", "en" },
	{ "en", "price", "PRICE", "en" },
	{ "en", "prices", "PRICE", "en" },
	{ "en", "reg", "REG", "en" },
	{ "en", "register", "REG", "en" },
	{ "en", "reject", "REJECT", "en" },
	{ "en", "report", "REPORT", "en" },
	{ "en", "sell", "SELL", "en" },
	{ "en", "sent", "SENT", "en" },
	{ "en", "dispatched", "SENT", "en" },
	{ "en", "start", "START", "en" },
	{ "en", "stop", "STOP", "en" },
	{ "en", "want", "WANT", "en" },
	{ "en", "yes", "YES", "en" },
	{ "en", "ok", "YES", "en" },
	{ "en", "no", "NO", "en" },
	{ "en", "for", "FOR", "en" },
	{ "en", "member", "MEMBER", "en" },
	{ "en", "members", "MEMBERS", "en" },
	{ "fr", "accepter", "ACCEPT", "fr" },
	{ "fr", "alerte", "ALERT", "fr" },
	{ "fr", "acheter", "BUY", "fr" },
	{ "fr", "annuler", "CANCEL", "fr" },
	{ "fr", "livre", "DELIVERED", "fr" },
	{ "fr", "livré", "DELIVERED", "fr" },
	{ "fr", "echo", "ECHO", "en" },
	{ "fr", "aide", "HELP", "fr" },
	{ "fr", "langue", "LANG", "fr" },
	{ "fr", "moi", "ME", "fr" },
	{ "fr", "mes", "MY", "fr" },
	{ "fr", "prix", "PRICE", "fr" },
	{ "fr", "inscrire", "REG", "fr" },
	{ "fr", "inscription", "REG", "fr" },
	{ "fr", "refuser", "REJECT", "fr" },
	{ "fr", "signaler", "REPORT", "fr" },
	{ "fr", "vendre", "SELL", "fr" },
	{ "fr", "envoye", "SENT", "fr" },
	{ "fr", "envoyé", "SENT", "fr" },
	{ "fr", "reprendre", "START", "fr" },
	{ "fr", "arret", "STOP", "fr" },
	{ "fr", "arrêt", "STOP", "fr" },
	{ "fr", "cherche", "WANT", "fr" },
	{ "fr", "chercher", "WANT", "fr" },
	{ "fr", "oui", "YES", "fr" },
	{ "fr", "non", "NO", "fr" },
	{ "fr", "pour", "FOR", "fr" },
	{ "fr", "membre", "MEMBER", "fr" },
	{ "fr", "membres", "MEMBERS", "fr" },
	{ "sw", "kubali", "ACCEPT", "sw" },
	{ "sw", "tahadhari", "ALERT", "sw" },
	{ "sw", "nunua", "BUY", "sw" },
	{ "sw", "futa", "CANCEL", "sw" },
	{ "sw", "ghairi", "CANCEL", "sw" },
	{ "sw", "imefika", "DELIVERED", "sw" },
	{ "sw", "pokea", "DELIVERED", "sw" },
	{ "sw", "mwangwi", "ECHO", "sw" },
	{ "sw", "msaada", "HELP", "sw" },
	{ "sw", "saidia", "HELP", "sw" },
	{ "sw", "lugha", "LANG", "sw" },
	{ "sw", "mimi", "ME", "sw" },
	{ "sw", "yangu", "MY", "sw" },
	{ "sw", "bei", "PRICE", "sw" },
	{ "sw", "sajili", "REG", "sw" },
	{ "sw", "jisajili", "REG", "sw" },
	{ "sw", "kataa", "REJECT", "sw" },
	{ "sw", "ripoti", "REPORT", "sw" },
	{ "sw", "uza", "SELL", "sw" },
	{ "sw", "tuma", "SENT", "sw" },
	{ "sw", "imetumwa", "SENT", "sw" },
	{ "sw", "anza", "START", "sw" },
	{ "sw", "acha", "STOP", "sw" },
	{ "sw", "simama", "STOP", "sw" },
	{ "sw", "taka", "WANT", "sw" },
	{ "sw", "nataka", "WANT", "sw" },
	{ "sw", "ndio", "YES", "sw" },
	{ "sw", "ndiyo", "YES", "sw" },
	{ "sw", "sawa", "YES", "sw" },
	{ "sw", "hapana", "NO", "sw" },
	{ "sw", "niaba", "FOR", "sw" },
	{ "sw", "mwanachama", "MEMBER", "sw" },
	{ "sw", "wanachama", "MEMBERS", "sw" },
	{ "zh", "接受", "ACCEPT", "zh" },
	{ "zh", "提醒", "ALERT", "zh" },
	{ "zh", "买", "BUY", "zh" },
	{ "zh", "取消", "CANCEL", "zh" },
	{ "zh", "已送达", "DELIVERED", "zh" },
	{ "zh", "回声", "ECHO", "zh" },
	{ "zh", "帮助", "HELP", "zh" },
	{ "zh", "语言", "LANG", "zh" },
	{ "zh", "我", "ME", "zh" },
	{ "zh", "我的", "MY", "zh" },
	{ "zh", "价格", "PRICE", "zh" },
	{ "zh", "注册", "REG", "zh" },
	{ "zh", "拒绝", "REJECT", "zh" },
	{ "zh", "报价", "REPORT", "zh" },
	{ "zh", "卖", "SELL", "zh" },
	{ "zh", "已发货", "SENT", "zh" },
	{ "zh", "开始", "START", "zh" },
	{ "zh", "停止", "STOP", "zh" },
	{ "zh", "求购", "WANT", "zh" },
	{ "zh", "是", "YES", "zh" },
	{ "zh", "是的", "YES", "zh" },
	{ "zh", "好", "YES", "zh" },
	{ "zh", "确认", "YES", "zh" },
	{ "zh", "不", "NO", "zh" },
	{ "zh", "否", "NO", "zh" },
	{ "zh", "不是", "NO", "zh" },
	{ "zh", "代办", "FOR", "zh" },
	{ "zh", "会员", "MEMBER", "zh" },
	{ "zh", "会员列表", "MEMBERS", "zh" },
	/* pools and OFFER (the market plugin) */
	{ "en", "offer", "OFFER", "en" },
	{ "en", "pool", "POOL", "en" },
	{ "en", "join", "JOIN", "en" },
	{ "en", "leave", "LEAVE", "en" },
	{ "en", "close", "CLOSE", "en" },
	{ "sw", "ofa", "OFFER", "sw" },
	{ "sw", "kikundi", "POOL", "sw" },
	{ "sw", "pamoja", "POOL", "sw" },
	{ "sw", "jiunge", "JOIN", "sw" },
	{ "sw", "jitoe", "LEAVE", "sw" },
	{ "sw", "toka", "LEAVE", "sw" },
	{ "sw", "funga", "CLOSE", "sw" },
	{ "fr", "proposer", "OFFER", "fr" },
	{ "fr", "groupe", "POOL", "fr" },
	{ "fr", "grouper", "POOL", "fr" },
	{ "fr", "rejoindre", "JOIN", "fr" },
	{ "fr", "quitter", "LEAVE", "fr" },
	{ "fr", "clore", "CLOSE", "fr" },
	{ "fr", "close", "CLOSE", "en" },
	{ "fr", "cloturer", "CLOSE", "fr" },
	{ "fr", "clôturer", "CLOSE", "fr" },
	{ "zh", "供货", "OFFER", "zh" },
	{ "zh", "拼单", "POOL", "zh" },
	{ "zh", "加入", "JOIN", "zh" },
	{ "zh", "退出", "LEAVE", "zh" },
	{ "zh", "截单", "CLOSE", "zh" },
	/* reputation: INFO and RATE (the market plugin) */
	{ "en", "info", "INFO", "en" },
	{ "en", "who", "INFO", "en" },
	{ "en", "rate", "RATE", "en" },
	{ "sw", "taarifa", "INFO", "sw" },
	{ "sw", "nani", "INFO", "sw" },
	{ "sw", "kadiria", "RATE", "sw" },
	{ "sw", "nyota", "RATE", "sw" },
	{ "fr", "info", "INFO", "en" },
	{ "fr", "qui", "INFO", "fr" },
	{ "fr", "noter", "RATE", "fr" },
	{ "fr", "note", "RATE", "fr" },
	{ "zh", "信誉", "INFO", "zh" },
	{ "zh", "查询", "INFO", "zh" },
	{ "zh", "评分", "RATE", "zh" },
	{ "zh", "评价", "RATE", "zh" },
	/* disputes (the market plugin) */
	{ "en", "problem", "PROBLEM", "en" },
	{ "en", "complaint", "PROBLEM", "en" },
	{ "sw", "tatizo", "PROBLEM", "sw" },
	{ "sw", "shida", "PROBLEM", "sw" },
	{ "fr", "probleme", "PROBLEM", "fr" },
	{ "fr", "problème", "PROBLEM", "fr" },
	{ "fr", "plainte", "PROBLEM", "fr" },
	{ "zh", "问题", "PROBLEM", "zh" },
	{ "zh", "投诉", "PROBLEM", "zh" },
	/* hubs and legs: IN, OUT, PICKUP (the market plugin) */
	{ "en", "in", "IN", "en" },
	{ "en", "out", "OUT", "en" },
	{ "en", "pickup", "PICKUP", "en" },
	{ "en", "collected", "PICKUP", "en" },
	{ "sw", "ingiza", "IN", "sw" },
	{ "sw", "pokelewa", "IN", "sw" },
	{ "sw", "safirisha", "OUT", "sw" },
	{ "sw", "chukua", "PICKUP", "sw" },
	{ "sw", "chukuliwa", "PICKUP", "sw" },
	{ "fr", "entree", "IN", "fr" },
	{ "fr", "entrée", "IN", "fr" },
	{ "fr", "sortie", "OUT", "fr" },
	{ "fr", "retrait", "PICKUP", "fr" },
	{ "fr", "retire", "PICKUP", "fr" },
	{ "fr", "retiré", "PICKUP", "fr" },
	{ "zh", "入站", "IN", "zh" },
	{ "zh", "出站", "OUT", "zh" },
	{ "zh", "取货", "PICKUP", "zh" },
	/* money paid outside the provider: PAID, RECEIVED (the market
	   plugin; "received" was DELIVERED's, now "arrived") */
	{ "en", "paid", "PAID", "en" },
	{ "en", "received", "RECEIVED", "en" },
	{ "sw", "nimelipa", "PAID", "sw" },
	{ "sw", "nimepokea", "RECEIVED", "sw" },
	{ "fr", "paye", "PAID", "fr" },
	{ "fr", "payé", "PAID", "fr" },
	{ "fr", "recu", "RECEIVED", "fr" },
	{ "fr", "reçu", "RECEIVED", "fr" },
	{ "zh", "已付款", "PAID", "zh" },
	{ "zh", "已收款", "RECEIVED", "zh" },
};
#define KW_N	(sizeof(kw_table) / sizeof(kw_table[0]))

struct kw_check {
	const char	*lang;
	size_t		 seen;
	int		 missing;
};

static int
kw_check_cb(void *arg, const char *word, const char *command)
{
	struct kw_check	*c = arg;
	size_t		 i;

	for (i = 0; i < KW_N; i++)
		if (strcmp(kw_table[i].lang, c->lang) == 0 &&
		    strcmp(kw_table[i].word, word) == 0) {
			cr_expect_str_eq(kw_table[i].command, command,
			    "%s: %s", c->lang, word);
			c->seen++;
			return 0;
		}
	cr_expect_fail("%s: word '%s' (%s) is not in kw_table", c->lang, word,
	    command);
	c->missing++;
	return 0;
}

/* The table below is the language files' keywords, no more, no fewer. */
Test(keywords, table_matches_the_language_files)
{
	const char * const	*codes;
	size_t			 n, i, total = 0;

	codes = lang_codes(langs, &n);
	cr_assert_eq(n, 4);
	for (i = 0; i < n; i++) {
		struct kw_check	 c = { codes[i], 0, 0 };

		lang_each_word(langs, codes[i], kw_check_cb, &c);
		cr_assert_eq(c.missing, 0);
		total += c.seen;
	}
	cr_assert_eq(total, KW_N);
	for (i = 0; i < KW_N; i++) {
		const char	*found;

		cr_assert_str_eq(lang_keyword(langs, kw_table[i].word, "en",
		    &found), kw_table[i].command);
		cr_assert_str_eq(found, kw_table[i].answer);
	}
}

/* The reply to the keyword alone, for a new user. */
static const char *
kw_expect_alone(const struct kw *k)
{
	const char	*l = k->answer, *c = k->command;

	if (strcmp(c, "REG") == 0)
		return R(l, "usage-REG", NULL);
	if (strcmp(c, "HELP") == 0)
		return R(l, "help", NULL);
	if (strcmp(c, "LANG") == 0)
		return R(l, "usage-LANG", NULL);
	if (strcmp(c, "STOP") == 0)
		return R(l, "stop-ok", NULL);
	if (strcmp(c, "START") == 0)
		return R(l, "start-ok", NULL);
	if (strcmp(c, "ME") == 0)
		return R(l, "me-unregistered", NULL);
	if (strcmp(c, "ECHO") == 0)
		return R(l, "usage-ECHO", NULL);
	if (strcmp(c, "YES") == 0 || strcmp(c, "NO") == 0)
		return R(l, "question-none", NULL);
	if (strcmp(c, "MEMBER") == 0 || strcmp(c, "MEMBERS") == 0 ||
	    strcmp(c, "FOR") == 0)
		return R(l, "agent-only", NULL);
	return R(l, "unavailable", "command", cmdword(l, c), NULL);
}

/* The keyword with arguments, and the reply to it for a new user. */
static const char *
kw_with_args(const struct kw *k, char *text, size_t len)
{
	const char	*l = k->answer, *c = k->command;

	if (strcmp(c, "REG") == 0) {
		snprintf(text, len, "%s Juma Nakuru", k->word);
		return R(l, "reg-ok", "name", "Juma", "market", "Nakuru", NULL);
	}
	if (strcmp(c, "HELP") == 0) {
		snprintf(text, len, "%s %s", k->word,
		    lang_command_word(langs, l, "SELL"));
		return R(l, "help-SELL", NULL);
	}
	if (strcmp(c, "LANG") == 0) {
		snprintf(text, len, "%s %s", k->word, l);
		return R(l, "lang-ok", "language", lang_name(langs, l), NULL);
	}
	if (strcmp(c, "ECHO") == 0) {
		snprintf(text, len, "%s  hello   there ", k->word);
		return R(l, "echo", "text", "hello   there", NULL);
	}
	snprintf(text, len, "%s maize 10 bags 3,000/=", k->word);
	if (strcmp(c, "STOP") == 0 || strcmp(c, "START") == 0 ||
	    strcmp(c, "ME") == 0 || strcmp(c, "YES") == 0 ||
	    strcmp(c, "NO") == 0 || strcmp(c, "MEMBER") == 0 ||
	    strcmp(c, "MEMBERS") == 0 || strcmp(c, "FOR") == 0)
		return kw_expect_alone(k);
	return R(l, "unavailable", "command", cmdword(l, c), NULL);
}

ParameterizedTestParameters(keywords, every_word_reaches_its_command)
{
	return cr_make_param_array(struct kw, kw_table, KW_N);
}

ParameterizedTest(struct kw *k, keywords, every_word_reaches_its_command)
{
	char		 text[128];
	const char	*want;

	/* alone */
	cr_assert_str_eq(say("+254711000001", k->word), kw_expect_alone(k),
	    "%s '%s'", k->lang, k->word);
	cr_assert_str_eq(user_field("language", "+254711000001"), k->answer,
	    "the language of '%s' is not remembered", k->word);
	cr_assert_str_eq(last_state(), "done");

	/* with arguments */
	want = kw_with_args(k, text, sizeof(text));
	cr_assert_str_eq(say("+254711000002", text), want, "%s '%s'", k->lang,
	    text);
	cr_assert_str_eq(user_field("language", "+254711000002"), k->answer);

	/* typed in capitals, with spaces around */
	snprintf(text, sizeof(text), "  %s  ", k->word);
	upcase(text);
	cr_assert_str_eq(say("+254711000003", text), kw_expect_alone(k),
	    "%s '%s'", k->lang, text);
}

/* A word both en and fr have: the user's own language wins. */
Test(keywords, shared_word_answers_in_the_users_language)
{
	user_put(ALICE, NULL, NULL, "fr", NULL, 0);
	cr_assert_str_eq(say(ALICE, "echo salut"),
	    R("fr", "echo", "text", "salut", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "fr");
	cr_assert_str_eq(say(BOB, "ECHO salut"),
	    R("en", "echo", "text", "salut", NULL));
}

/* A keyword of another language answers in it and is remembered. */
Test(keywords, other_language_keyword_switches_and_is_remembered)
{
	cr_assert_str_eq(say(ALICE, "UZA mahindi"),
	    R("sw", "unavailable", "command", "UZA", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "sw");
	/* not understood: answered in the remembered language */
	cr_assert_str_eq(say(ALICE, "xyzzy"), R("sw", "unknown", NULL));
	cr_assert_str_eq(say(ALICE, "SELL maize"),
	    R("en", "unavailable", "command", "SELL", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "en");
	cr_assert_str_eq(say(ALICE, "xyzzy"), R("en", "unknown", NULL));
}

/* A stored language that is not loaded (any more): the default. */
Test(keywords, unloaded_stored_language_falls_back_to_default)
{
	user_put(ALICE, "Mary", NULL, "de", NULL, 0);
	cr_assert_str_eq(say(ALICE, "xyzzy"), R("en", "unknown", NULL));
	cr_assert_str_eq(say(ALICE, "help"), R("en", "help", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "en");
}

/* --- core commands --------------------------------------------------------- */

Test(router, reg_name_and_market)
{
	cr_assert_str_eq(say(ALICE, "REG Mary Wanjiku Nakuru"),
	    R("en", "reg-ok", "name", "Mary Wanjiku", "market", "Nakuru",
	    NULL));
	cr_assert_str_eq(user_field("name", ALICE), "Mary Wanjiku");
	cr_assert_str_eq(user_field("market", ALICE), "nakuru");
	cr_assert_str_eq(user_field("language", ALICE), "en");
	cr_assert_str_eq(user_field("role", ALICE), "user");
	cr_assert_eq(q_int("SELECT opt_out FROM users WHERE msisdn = ?1",
	    ALICE), 0);

	/* again: an update, still one row */
	cr_assert_str_eq(say(ALICE, "reg  Mary   Wanjiku  NAKURU"),
	    R("en", "reg-updated", "name", "Mary   Wanjiku", "market",
	    "Nakuru", NULL));
	cr_assert_eq(q_int("SELECT count(*) FROM users", NULL), 1);
}

Test(router, reg_market_by_alias_and_by_two_word_name)
{
	cr_assert_str_eq(say(ALICE, "REG Ann Marikiti"),
	    R("en", "reg-ok", "name", "Ann", "market", "Wakulima Market",
	    NULL));
	cr_assert_str_eq(user_field("market", ALICE), "wakulima");
	cr_assert_str_eq(user_field("name", ALICE), "Ann");

	cr_assert_str_eq(say(BOB, "REGISTER Peter Kip Eldoret Town"),
	    R("en", "reg-ok", "name", "Peter Kip", "market", "Eldoret Town",
	    NULL));
	cr_assert_str_eq(user_field("market", BOB), "eldoret");
	cr_assert_str_eq(user_field("name", BOB), "Peter Kip");
}

/*
 * No market given and none known: asked which, with a few markets, and
 * nothing saved ("registered at -" was a dead end).  A market alone is no
 * name.
 */
Test(router, reg_without_market_asks_for_one)
{
	cr_assert_str_eq(say(ALICE, "REG Grace Akinyi"),
	    R("en", "reg-need-market", "name", "Grace Akinyi", "market",
	    "Nakuru", "markets", "Nakuru, Wakulima Market, Eldoret Town",
	    NULL));
	cr_assert_str_eq(user_field("name", ALICE), "(null)");
	cr_assert_str_eq(say(ALICE, "SAJILI Juma"),
	    R("sw", "reg-need-market", "name", "Juma", "market", "Nakuru",
	    "markets", "Nakuru, Wakulima Market, Eldoret Town", NULL));
	cr_assert_str_eq(user_field("name", ALICE), "(null)");
	cr_assert_str_eq(say(BOB, "REG Nakuru"), R("en", "usage-REG", NULL));
	cr_assert_str_eq(user_field("name", BOB), "(null)");
	/* the answer to the question registers */
	cr_assert_str_eq(say(ALICE, "REG Grace Akinyi Nakuru"),
	    R("en", "reg-ok", "name", "Grace Akinyi", "market", "Nakuru",
	    NULL));
}

/* A misspelt market is suggested, never swallowed into the name. */
Test(router, reg_misspelt_market_is_suggested)
{
	cr_assert_str_eq(say(ALICE, "REG John Otieno Nakru"),
	    R("en", "reg-suggest", "name", "John Otieno", "market", "Nakuru",
	    NULL));
	cr_assert_str_eq(user_field("name", ALICE), "(null)");
	/* two words, and a registered user's market stays as it was */
	user_put(BOB, "Peter", "nakuru", "en", NULL, 0);
	cr_assert_str_eq(say(BOB, "REG Peter Kip Eldoret Twn"),
	    R("en", "reg-suggest", "name", "Peter Kip", "market",
	    "Eldoret Town", NULL));
	cr_assert_str_eq(user_field("name", BOB), "Peter");
	cr_assert_str_eq(user_field("market", BOB), "nakuru");
	cr_assert_str_eq(say(BOB, "SAJILI Peter Marikity"),
	    R("sw", "reg-suggest", "name", "Peter", "market",
	    "Wakulima Market", NULL));
	/* a name far from any market is a name */
	cr_assert_str_eq(say(BOB, "REG Peter Kiprono"),
	    R("en", "reg-updated", "name", "Peter Kiprono", "market",
	    "Nakuru", NULL));
}

/* A name is not a number: digits only, or a phone number, are refused. */
Test(router, reg_refuses_numbers_for_names)
{
	static const char	*texts[] = {
		"REG 0722000111 Nakuru", "REG 12345", "REG +254 722 000 111",
		"REG John 0722 000 111 Nakuru", "REG 1234567",
	};
	size_t			 i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cr_assert_str_eq(say(ALICE, texts[i]),
		    R("en", "reg-bad-name", NULL), "%s", texts[i]);
		cr_assert_str_eq(user_field("name", ALICE), "(null)");
	}
	cr_assert_str_eq(say(ALICE, "INSCRIRE 0722000111"),
	    R("fr", "reg-bad-name", NULL));
	/* a few digits in a name are fine */
	cr_assert_str_eq(say(BOB, "REG Mary 2 Nakuru"),
	    R("en", "reg-ok", "name", "Mary 2", "market", "Nakuru", NULL));
}

/* Control characters could drive an operator's terminal: refused in
 * every language; a line break between words is a space. */
Test(router, reg_refuses_control_characters_in_names)
{
	cr_assert_str_eq(say(ALICE, "REG Mary\x1b]0;pwned\x07 Nakuru"),
	    R("en", "reg-bad-control", NULL));
	cr_assert_str_eq(user_field("name", ALICE), "(null)");
	cr_assert_str_eq(say(ALICE, "REG Mary\x1b[2J Nakuru"),
	    R("en", "reg-bad-control", NULL));
	cr_assert_str_eq(say(ALICE, "REG Mary\xc2\x9b" "2J Nakuru"),
	    R("en", "reg-bad-control", NULL));
	cr_assert_str_eq(say(ALICE, "SAJILI Amina\x07 Nakuru"),
	    R("sw", "reg-bad-control", NULL));
	cr_assert_str_eq(say(ALICE, "INSCRIRE Marie\x1b Nakuru"),
	    R("fr", "reg-bad-control", NULL));
	cr_assert_str_eq(user_field("name", ALICE), "(null)");
	cr_assert_str_eq(say(BOB, "REG Mary\nWanjiku Nakuru"),
	    R("en", "reg-ok", "name", "Mary Wanjiku", "market", "Nakuru",
	    NULL));
	cr_assert_str_eq(user_field("name", BOB), "Mary Wanjiku");
}

/* A long name is cut at a word, within 40 bytes. */
Test(router, reg_long_name_is_cut_at_a_word)
{
	cr_assert_str_eq(say(ALICE, "REG Mary Wanjiku Njeri Wambui Kamau "
	    "Otieno Achieng Nakuru"),
	    R("en", "reg-ok", "name", "Mary Wanjiku Njeri Wambui Kamau Otieno",
	    "market", "Nakuru", NULL));
	cr_assert_str_eq(user_field("name", ALICE),
	    "Mary Wanjiku Njeri Wambui Kamau Otieno");
}

/* A new name without a market keeps the market already known. */
Test(router, reg_update_keeps_market)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	cr_assert_str_eq(say(ALICE, "REG Mary W"),
	    R("en", "reg-updated", "name", "Mary W", "market", "Nakuru",
	    NULL));
	cr_assert_str_eq(user_field("market", ALICE), "nakuru");
	cr_assert_str_eq(user_field("name", ALICE), "Mary W");
}

Test(router, reg_alone_gets_usage)
{
	cr_assert_str_eq(say(ALICE, "REG"), R("en", "usage-REG", NULL));
	cr_assert_str_eq(say(ALICE, "reg ,;. "), R("en", "usage-REG", NULL));
	cr_assert_str_eq(say(ALICE, "SAJILI"), R("sw", "usage-REG", NULL));
	cr_assert_str_eq(user_field("name", ALICE), "(null)");
}

Test(router, reg_in_swahili)
{
	cr_assert_str_eq(say(ALICE, "SAJILI Amina Nakuru"),
	    R("sw", "reg-ok", "name", "Amina", "market", "Nakuru", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "sw");
	cr_assert_str_eq(user_field("name", ALICE), "Amina");
}

/* Names are cut at 40 bytes, never inside a UTF-8 character. */
Test(router, reg_long_name_is_cut_at_a_character)
{
	char	 text[512], want[64];
	int	 i;

	/* "a" then 100 two-byte characters: byte 40 is inside one */
	strcpy(text, "REG a");
	for (i = 0; i < 100; i++)
		strcat(text, "é");
	strcat(text, " Nakuru");
	strcpy(want, "a");
	for (i = 0; i < 19; i++)
		strcat(want, "é");
	cr_assert_eq(strlen(want), 39);
	cr_assert_str_eq(say(ALICE, text),
	    R("en", "reg-ok", "name", want, "market", "Nakuru", NULL));
	cr_assert_str_eq(user_field("name", ALICE), want);

	/* 200 ASCII letters and a market */
	strcpy(text, "REG ");
	for (i = 0; i < 200; i++)
		strcat(text, "b");
	strcat(text, " Nakuru");
	memset(want, 'b', 40);
	want[40] = '\0';
	cr_assert_str_eq(say(BOB, text),
	    R("en", "reg-ok", "name", want, "market", "Nakuru", NULL));
	cr_assert_str_eq(user_field("market", BOB), "nakuru");
}

Test(router, reg_sql_looking_name_is_stored_verbatim)
{
	const char	*name = "Robert'); DROP TABLE users;--";
	char		 text[128];

	snprintf(text, sizeof(text), "REG %s Nakuru", name);
	cr_assert_str_eq(say(ALICE, text),
	    R("en", "reg-ok", "name", name, "market", "Nakuru", NULL));
	cr_assert_str_eq(user_field("name", ALICE), name);
	cr_assert_eq(q_int("SELECT count(*) FROM users", NULL), 1);

	snprintf(text, sizeof(text), "REG %s Nakuru", "x' OR '1'='1");
	cr_assert_str_eq(say(BOB, text),
	    R("en", "reg-ok", "name", "x' OR '1'='1", "market", "Nakuru",
	    NULL));
	cr_assert_str_eq(user_field("name", BOB), "x' OR '1'='1");
	cr_assert_str_eq(user_field("name", ALICE), name);
}

Test(router, help_general_and_per_command)
{
	cr_assert_str_eq(say(ALICE, "HELP"), R("en", "help", NULL));
	cr_assert_str_eq(say(ALICE, "HELP SELL"), R("en", "help-SELL", NULL));
	cr_assert_str_eq(say(ALICE, "help sell"), R("en", "help-SELL", NULL));
	cr_assert_str_eq(say(ALICE, "Help Echo"), R("en", "help-ECHO", NULL));
	cr_assert_str_eq(say(ALICE, "HELP HELP"), R("en", "help-HELP", NULL));
	cr_assert_str_eq(say(ALICE, "HELP REGISTER"),
	    R("en", "help-REG", NULL));
	/* a command word of another language, answered in the user's */
	cr_assert_str_eq(say(ALICE, "HELP UZA"), R("en", "help-SELL", NULL));
	/* not a command: the general help */
	cr_assert_str_eq(say(ALICE, "HELP xyzzy"), R("en", "help", NULL));
	cr_assert_str_eq(say(ALICE, "MSAADA UZA"), R("sw", "help-SELL", NULL));
	cr_assert_str_eq(say(ALICE, "帮助 卖"), R("zh", "help-SELL", NULL));
}

Test(router, lang_by_code_and_by_name)
{
	cr_assert_str_eq(say(ALICE, "LANG sw"),
	    R("sw", "lang-ok", "language", "Kiswahili", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "sw");
	cr_assert_str_eq(say(ALICE, "MSAADA"), R("sw", "help", NULL));
	cr_assert_str_eq(say(ALICE, "xyzzy"), R("sw", "unknown", NULL));
	cr_assert_str_eq(say(ALICE, "mimi"), R("sw", "me-unregistered", NULL));

	cr_assert_str_eq(say(BOB, "LANG Kiswahili"),
	    R("sw", "lang-ok", "language", "Kiswahili", NULL));
	cr_assert_str_eq(user_field("language", BOB), "sw");
	cr_assert_str_eq(say(BOB, "language FR"),
	    R("fr", "lang-ok", "language", "Francais", NULL));
	cr_assert_str_eq(user_field("language", BOB), "fr");
	cr_assert_str_eq(say(BOB, "lugha KISWAHILI"),
	    R("sw", "lang-ok", "language", "Kiswahili", NULL));
	cr_assert_str_eq(say(BOB, "LANG English"),
	    R("en", "lang-ok", "language", "English", NULL));
	cr_assert_str_eq(user_field("language", BOB), "en");
}

/* LANG takes a language's name in any language, with any language's word. */
Test(router, lang_by_names_in_any_language)
{
	static const struct {
		const char	*text, *code;
	} cases[] = {
		{ "LANG fr", "fr" }, { "langue français", "fr" },
		{ "langue francais", "fr" }, { "LANGUE FRANÇAIS", "fr" },
		{ "lugha kiswahili", "sw" }, { "language english", "en" },
		{ "语言 中文", "zh" }, { "LANG anglais", "en" },
		{ "lugha kiingereza", "en" }, { "language chinese", "zh" },
		{ "语言 英语", "en" }, { "langue swahili", "sw" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_str_eq(say(ALICE, cases[i].text),
		    R(cases[i].code, "lang-ok", "language",
		    lang_name(langs, cases[i].code), NULL), "%s",
		    cases[i].text);
		cr_assert_str_eq(user_field("language", ALICE), cases[i].code,
		    "%s", cases[i].text);
	}
}

/* --- the commands users are told of (router_check_commands) -------------- */

/* A plugin set of the build tree's plugins named in list ("echo market"). */
static struct plugin_set *
check_plugins(struct conf *c, const char *list)
{
	char	 copy[128], *p, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	free(c->plugin_dir);
	c->plugin_dir = xstrdup(TEST_BUILDDIR "/plugins/echo/.libs");
	for (p = strtok_r(copy, " ", &save); p != NULL;
	    p = strtok_r(NULL, " ", &save)) {
		char	 module[512];

		c->plugins = realloc(c->plugins, (c->nplugins + 1) *
		    sizeof(*c->plugins));
		cr_assert_not_null(c->plugins);
		snprintf(module, sizeof(module), "%s/plugins/%s/.libs/%s.so",
		    TEST_BUILDDIR, p, p);
		c->plugins[c->nplugins].name = xstrdup(p);
		c->plugins[c->nplugins].module = xstrdup(module);
		c->nplugins++;
	}
	return plugin_load(c);
}

/* HELP names every plugin command: without all of them, the check fails. */
Test(router, check_commands_against_help)
{
	struct plugin_set	*ps;

	conf2 = conf_make();
	cr_assert_eq(router_check_commands(conf2, langs, NULL), -1);
	ps = check_plugins(conf2, "echo");
	cr_assert_not_null(ps);
	cr_assert_eq(router_check_commands(conf2, langs, ps), -1);
	plugin_free(ps);
	conf_free(conf2);

	conf2 = conf_make();
	ps = check_plugins(conf2, "echo market");
	cr_assert_not_null(ps);
	cr_assert_eq(router_check_commands(conf2, langs, ps), -1);
	plugin_free(ps);
	conf_free(conf2);

	conf2 = conf_make();
	ps = check_plugins(conf2, "echo market prices");
	cr_assert_not_null(ps);
	cr_assert_eq(router_check_commands(conf2, langs, ps), 0);
	plugin_free(ps);
}

/* A USSD action's command must run too, by id or by a keyword. */
Test(router, check_commands_against_ussd_actions)
{
	struct plugin_set	*ps;
	struct conf_ussd_item	*it;

	conf2 = conf_make();
	ps = check_plugins(conf2, "echo market prices");
	cr_assert_not_null(ps);
	conf2->nussd_items = 1;
	conf2->ussd_items = it = calloc(1, sizeof(*it));
	cr_assert_not_null(it);
	it->id = xstrdup("x");
	it->action = xstrdup("PRICE {commodity}");
	cr_assert_eq(router_check_commands(conf2, langs, ps), 0);
	free(it->action);
	it->action = xstrdup("bei {commodity}");
	cr_assert_eq(router_check_commands(conf2, langs, ps), 0);
	free(it->action);
	it->action = xstrdup("PAY {order}");
	cr_assert_eq(router_check_commands(conf2, langs, ps), -1);
	free(it->action);
	it->action = xstrdup("ME");
	cr_assert_eq(router_check_commands(conf2, langs, ps), 0);
	plugin_free(ps);
}

/*
 * A language chosen with LANG sticks: keywords of other languages are
 * understood but answered in the chosen one, which stays.
 */
Test(router, lang_chosen_sticks)
{
	say(ALICE, "LANG sw");
	cr_assert_eq(q_int("SELECT language_chosen FROM users WHERE msisdn = "
	    "?1", ALICE), 1);
	cr_assert_str_eq(say(ALICE, "HELP"), R("sw", "help", NULL));
	cr_assert_str_eq(say(ALICE, "HELP SELL"), R("sw", "help-SELL", NULL));
	cr_assert_str_eq(say(ALICE, "SELL maize"),
	    R("sw", "unavailable", "command", "UZA", NULL));
	cr_assert_str_eq(say(ALICE, "ECHO hi"),
	    R("sw", "echo", "text", "hi", NULL));
	cr_assert_str_eq(say(ALICE, "帮助"), R("sw", "help", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "sw");
	/* LANG again changes it */
	cr_assert_str_eq(say(ALICE, "LANG en"),
	    R("en", "lang-ok", "language", "English", NULL));
	cr_assert_str_eq(say(ALICE, "MSAADA"), R("en", "help", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "en");
	/* someone who never chose follows their keywords */
	say(BOB, "HELP");
	cr_assert_str_eq(say(BOB, "MSAADA"), R("sw", "help", NULL));
	cr_assert_str_eq(user_field("language", BOB), "sw");
	cr_assert_eq(q_int("SELECT language_chosen FROM users WHERE msisdn = "
	    "?1", BOB), 0);
}

Test(router, lang_unknown_lists_codes)
{
	cr_assert_str_eq(say(ALICE, "LANG xx"),
	    R("en", "lang-unknown", "code", "xx", "codes", "en, fr, sw, zh",
	    NULL));
	cr_assert_str_eq(user_field("language", ALICE), "en");
	cr_assert_str_eq(say(ALICE, "LUGHA Klingon"),
	    R("sw", "lang-unknown", "code", "klingon", "codes",
	    "en, fr, sw, zh", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "sw");
	cr_assert_str_eq(say(ALICE, "LANG"), R("en", "usage-LANG", NULL));
}

/* Chinese replies are UCS-2 SMS: coding 2 in the outbox. */
Test(router, lang_zh_replies_in_chinese_ucs2)
{
	cr_assert_str_eq(say(ALICE, "LANG zh"),
	    R("zh", "lang-ok", "language", "中文", NULL));
	cr_assert_eq(q_int("SELECT coding FROM outbox WHERE inbox_id = (SELECT"
	    " id FROM inbox WHERE kannel_id = ?1)", told.id), 2);
	cr_assert_str_eq(say(ALICE, "xyzzy"), R("zh", "unknown", NULL));
	cr_assert_str_eq(say(ALICE, "回声 你好"),
	    R("zh", "echo", "text", "你好", NULL));

	/* sent over the link: queued rows, UCS-2 */
	send_mo(ALICE, "帮助", T0, 0);
	cr_assert_str_eq(told.reply, "(null)");
	cr_assert_eq(last_outbox_rows(), 1);
	cr_assert_eq(q_int("SELECT coding FROM outbox WHERE inbox_id = (SELECT"
	    " id FROM inbox WHERE kannel_id = ?1)", told.id), 2);
	cr_assert_str_eq(q_text("SELECT state FROM outbox WHERE inbox_id = "
	    "(SELECT id FROM inbox WHERE kannel_id = ?1)", told.id), "queued");
	cr_assert_str_eq(q_text("SELECT text FROM outbox WHERE inbox_id = "
	    "(SELECT id FROM inbox WHERE kannel_id = ?1)", told.id),
	    R("zh", "help", NULL));

	/* and English stays GSM */
	say(BOB, "HELP");
	cr_assert_eq(q_int("SELECT coding FROM outbox WHERE inbox_id = (SELECT"
	    " id FROM inbox WHERE kannel_id = ?1)", told.id), 0);
}

Test(router, stop_and_start_set_opt_out)
{
	cr_assert_str_eq(say(ALICE, "STOP"), R("en", "stop-ok", NULL));
	cr_assert_eq(q_int("SELECT opt_out FROM users WHERE msisdn = ?1",
	    ALICE), 1);
	cr_assert_str_eq(say(ALICE, "stop"), R("en", "stop-ok", NULL));
	cr_assert_eq(q_int("SELECT opt_out FROM users WHERE msisdn = ?1",
	    ALICE), 1);
	cr_assert_str_eq(say(ALICE, "START"), R("en", "start-ok", NULL));
	cr_assert_eq(q_int("SELECT opt_out FROM users WHERE msisdn = ?1",
	    ALICE), 0);
	cr_assert_str_eq(say(ALICE, "ACHA"), R("sw", "stop-ok", NULL));
	cr_assert_eq(q_int("SELECT opt_out FROM users WHERE msisdn = ?1",
	    ALICE), 1);
	cr_assert_str_eq(say(ALICE, "anza"), R("sw", "start-ok", NULL));
	cr_assert_eq(q_int("SELECT opt_out FROM users WHERE msisdn = ?1",
	    ALICE), 0);
	/* a registered user keeps name and market through STOP */
	user_put(BOB, "Peter", "nakuru", "en", NULL, 0);
	say(BOB, "STOP");
	cr_assert_str_eq(user_field("name", BOB), "Peter");
	cr_assert_str_eq(user_field("market", BOB), "nakuru");
	cr_assert_eq(q_int("SELECT opt_out FROM users WHERE msisdn = ?1",
	    BOB), 1);
}

Test(router, me_unregistered_and_registered)
{
	cr_assert_str_eq(say(ALICE, "ME"), R("en", "me-unregistered", NULL));
	user_put(BOB, "Mary Wanjiku", "nakuru", "en", NULL, 7);
	cr_assert_str_eq(say(BOB, "ME"),
	    R("en", "me", "name", "Mary Wanjiku", "market", "Nakuru",
	    "language", "English", "roles", "farmer, buyer", "trades", "7",
	    NULL));
	cr_assert_str_eq(say(BOB, "whoami please"),
	    R("en", "me", "name", "Mary Wanjiku", "market", "Nakuru",
	    "language", "English", "roles", "farmer, buyer", "trades", "7",
	    NULL));
}

/* REG then ME: the trades count starts at 0. */
Test(router, me_after_reg)
{
	say(ALICE, "REG Juma Nakuru");
	cr_assert_str_eq(say(ALICE, "ME"),
	    R("en", "me", "name", "Juma", "market", "Nakuru", "language",
	    "English", "roles", "farmer, buyer", "trades", "0", NULL));
}

Test(router, me_roles_agent_transporter_admin)
{
	user_put(ALICE, "Ann", "wakulima", "en", "agent", 0);
	cr_assert_str_eq(say(ALICE, "ME"),
	    R("en", "me", "name", "Ann", "market", "Wakulima Market",
	    "language", "English", "roles", "farmer, buyer, agent", "trades",
	    "0", NULL));
	user_put(BOB, "Otieno", NULL, "en", "transporter", 3);
	cr_assert_str_eq(say(BOB, "ME"),
	    R("en", "me", "name", "Otieno", "market", "-", "language",
	    "English", "roles", "farmer, buyer, transporter", "trades", "3",
	    NULL));
	/* an admin by the conf, writing in national form */
	cr_assert_str_eq(say("0700000009", "ME"),
	    R("en", "me-unregistered", NULL));
	say("0700000009", "REG Boss Eldoret Town");
	cr_assert_str_eq(user_field("name", ADMIN), "Boss");
	cr_assert_str_eq(say("0700000009", "ME"),
	    R("en", "me", "name", "Boss", "market", "Eldoret Town", "language",
	    "English", "roles",
	    "farmer, buyer, transporter, agent, dealer, admin",
	    "trades", "0", NULL));
}

/* users.role 'dealer': an agro-dealer (MB_ROLE_DEALER, issue 17) */
Test(router, me_roles_dealer)
{
	user_put(ALICE, "Ann", "wakulima", "en", "dealer", 0);
	cr_assert_str_eq(say(ALICE, "ME"),
	    R("en", "me", "name", "Ann", "market", "Wakulima Market",
	    "language", "English", "roles", "farmer, buyer, dealer", "trades",
	    "0", NULL));
}

Test(router, me_in_swahili_with_unknown_market_code)
{
	char	 roles[128];

	user_put(ALICE, "Amina", "gone", "sw", NULL, 2);
	snprintf(roles, sizeof(roles), "%s, %s",
	    lang_template(langs, "sw", "role-farmer"),
	    lang_template(langs, "sw", "role-buyer"));
	cr_assert_str_eq(say(ALICE, "MIMI"),
	    R("sw", "me", "name", "Amina", "market", "-", "language",
	    "Kiswahili", "roles", roles, "trades", "2", NULL));
}

/* Sender forms: national and international numbers are one user. */
Test(router, sender_forms_are_one_user)
{
	say("0722000111", "REG Mary Nakuru");
	cr_assert_str_eq(user_field("name", ALICE), "Mary");
	say("254722000111", "LANG sw");
	say("+254 722 000 111", "ACHA");
	cr_assert_eq(q_int("SELECT count(*) FROM users", NULL), 1);
	cr_assert_str_eq(user_field("language", ALICE), "sw");
	cr_assert_eq(q_int("SELECT opt_out FROM users WHERE msisdn = ?1",
	    ALICE), 1);
	/* a short code is served as it is */
	cr_assert_str_eq(say("12345", "ECHO hi"),
	    R("en", "echo", "text", "hi", NULL));
	cr_assert_str_eq(user_field("language", "12345"), "en");
}

/* Without country-code a local sender is kept as the SMSC gave it, never
   made "+0722000111", which is no number. */
Test(router, a_local_sender_without_country_code_is_never_plus_0)
{
	free(conf->country_code);
	conf->country_code = NULL;
	say("0722000111", "REG Mary Nakuru");
	cr_assert_eq(q_int("SELECT count(*) FROM users WHERE msisdn LIKE "
	    "'+0%'", NULL), 0);
	cr_assert_str_eq(user_field("name", "0722000111"), "Mary");
}

/*
 * A sender that is no number (an alphanumeric sender id) cannot be
 * answered by SMS and must not become a user whose "number" is text of
 * its choosing: its MO is stored as refused, with no reply and no effect.
 */
Test(router, alphanumeric_senders_are_stored_as_refused)
{
	static const char	*senders[] = {
		"MPESA", "=HYPERLINK(\"http://x.test\",\"y\")",
		"=cmd|'/C calc'!A0", "+2547x", "+", "\x1b]0;t\x07",
	};
	size_t			 i;

	for (i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		cr_assert_str_eq(say(senders[i], "REG Mary Nakuru"), "(null)",
		    "%s", senders[i]);
		cr_assert_eq(q_int("SELECT count(*) FROM inbox WHERE sender = "
		    "?1 AND state = 'refused'", senders[i]), 1, "%s",
		    senders[i]);
	}
	cr_assert_eq(q_int("SELECT count(*) FROM users", NULL), 0);
	cr_assert_eq(q_int("SELECT count(*) FROM outbox", NULL), 0);
}

/*
 * Senders longer than struct user's msisdn (31 bytes) must not become the
 * same user because they share a prefix.
 */
Test(router, long_senders_are_not_merged)
{
	char	 a[64], b[64];

	memset(a, '7', 40);
	a[40] = '1';
	a[41] = '\0';
	memcpy(b, a, sizeof(a));
	b[40] = '2';
	say(a, "REG Mary Nakuru");
	cr_assert_str_eq(say(b, "ME"), R("en", "me-unregistered", NULL));
}

Test(router, echo_rest_as_typed)
{
	cr_assert_str_eq(say(ALICE, "ECHO  spaced   text "),
	    R("en", "echo", "text", "spaced   text", NULL));
	cr_assert_str_eq(say(ALICE, "echo 3,000/= #41 MAIZE"),
	    R("en", "echo", "text", "3,000/= #41 MAIZE", NULL));
	cr_assert_str_eq(say(ALICE, "ECHO"), R("en", "usage-ECHO", NULL));
	cr_assert_str_eq(say(ALICE, "mwangwi habari yako"),
	    R("sw", "echo", "text", "habari yako", NULL));
}

/* Plugin commands that no loaded plugin has: unavailable, named. */
Test(router, unloaded_plugin_commands_are_unavailable)
{
	cr_assert_str_eq(say(ALICE, "SELL maize 10 bags 3000"),
	    R("en", "unavailable", "command", "SELL", NULL));
	cr_assert_str_eq(say(ALICE, "prices maize"),
	    R("en", "unavailable", "command", "PRICE", NULL));
	cr_assert_str_eq(say(ALICE, "BEI mahindi"),
	    R("sw", "unavailable", "command", "BEI", NULL));
	cr_assert_str_eq(say(ALICE, "envoyé 12"),
	    R("fr", "unavailable", "command", "ENVOYE", NULL));
	cr_assert_str_eq(say(ALICE, "价格 玉米"),
	    R("zh", "unavailable", "command", "价格", NULL));
}

/* A plugin set of one test plugin, on conf2. */
static struct plugin_set *
one_plugin(const char *name)
{
	struct plugin_set	*set;
	char			 so[512];

	snprintf(so, sizeof(so), "%s/tests/plugins/.libs/%s.so", TEST_BUILDDIR,
	    name);
	conf2 = conf_make();
	conf2->nplugins = 1;
	conf2->plugins = calloc(1, sizeof(*conf2->plugins));
	cr_assert_not_null(conf2->plugins);
	conf2->plugins[0].name = xstrdup(name);
	conf2->plugins[0].module = xstrdup(so);
	set = plugin_load(conf2);
	cr_assert_not_null(set, "%s does not load", so);
	return set;
}

/* A plugin command with a core command's id could never run: refused. */
Test(router, plugin_taking_a_core_command_is_refused)
{
	struct plugin_set	*set = one_plugin("core_clash");
	struct lang_set		*l = lang_load(LANG_DIR, "en");

	cr_assert_not_null(l);
	cr_assert_null(router_new(conf2, store, outbox, l, set));
	plugin_free(set);
}

/* Commands no language has a word for only warn (nobody can type them). */
Test(router, plugin_command_without_words_is_accepted)
{
	struct plugin_set	*set = one_plugin("migrate");
	struct lang_set		*l = lang_load(LANG_DIR, "en");
	struct router		*r;

	cr_assert_not_null(l);
	r = router_new(conf2, store, outbox, l, set);
	cr_assert_not_null(r);
	router_free(r);
	plugin_free(set);
}

Test(router, stats_count_what_happened)
{
	struct router_stats	 st;

	say(ALICE, "ECHO hi");
	say(ALICE, "xyzzy");
	say(ALICE, "");
	router_stats(router, &st);
	cr_assert_eq(st.handled, 3);
	cr_assert_eq(st.unknown, 1);
	cr_assert_eq(st.throttled, 0);
	cr_assert_eq(st.repeats, 0);
}

/* A message time of 0 (unknown) is served: the clock stands in. */
Test(router, message_without_time)
{
	cr_assert_str_eq(say_at(ALICE, "ECHO hi", 0),
	    R("en", "echo", "text", "hi", NULL));
}

/* --- typos and suggestions ------------------------------------------------- */

struct typo {
	char	 lang[4];	/* the sender's language, set first */
	char	 text[64];
	char	 tmpl[24];	/* unknown or unknown-suggest */
	char	 word[32];	/* {word}: normalised, in capitals */
	char	 suggestion[64];
};

ParameterizedTestParameters(typos, suggestion)
{
	static struct typo	 t[] = {
		{ "en", "SEL maize 10 bags 3000", "unknown-suggest", "SEL",
		  "SELL" },
		{ "en", "HLEP", "unknown-suggest", "HLEP", "HELP" },
		{ "en", "hlep me", "unknown-suggest", "HLEP", "HELP" },
		{ "en", "ECHOO hi", "unknown-suggest", "ECHOO", "ECHO" },
		{ "en", "registr Mary", "unknown-suggest", "REGISTR", "REG" },
		{ "en", "MAIZ", "unknown-suggest", "MAIZ", "PRICE maize" },
		{ "en", "maize", "unknown-suggest", "MAIZE", "PRICE maize" },
		{ "en", "maize 10 bags 3000", "unknown-suggest", "MAIZE",
		  "SELL maize 10 bags 3000" },
		{ "en", "Mahindi 10 bags 3,000", "unknown-suggest", "MAHINDI",
		  "SELL maize 10 bags 3,000" },
		{ "en", "tomatos 5 crates 800", "unknown-suggest", "TOMATOS",
		  "SELL tomato 5 crates 800" },
		{ "en", "xyzzy", "unknown", "", "" },
		{ "en", "hello world", "unknown", "", "" },
		{ "en", "q", "unknown", "", "" },
		{ "en", "42", "unknown", "", "" },
		{ "en", "UZAA", "unknown", "", "" },
		{ "sw", "UZAA", "unknown-suggest", "UZAA", "UZA" },
		{ "sw", "msada", "unknown-suggest", "MSADA", "MSAADA" },
		{ "sw", "mahindi 10 gunia 3000", "unknown-suggest", "MAHINDI",
		  "UZA maize 10 gunia 3000" },
		{ "sw", "mahindi", "unknown-suggest", "MAHINDI", "BEI maize" },
		{ "sw", "xyzzy", "unknown", "", "" },
		{ "fr", "vendr mais 10 sacs 3000", "unknown-suggest", "VENDR",
		  "VENDRE" },
		{ "fr", "xyzzy", "unknown", "", "" },
		{ "zh", "玉米", "unknown-suggest", "玉米", "价格 maize" },
		{ "zh", "xyzzy", "unknown", "", "" },
		/* two characters are no "long word": no two-edit guess */
		{ "zh", "你好", "unknown", "", "" },
	};

	return cr_make_param_array(struct typo, t, sizeof(t) / sizeof(t[0]));
}

ParameterizedTest(struct typo *t, typos, suggestion)
{
	char		 lang[16];
	const char	*want;

	if (strcmp(t->lang, "en") != 0) {
		snprintf(lang, sizeof(lang), "LANG %s", t->lang);
		say(ALICE, lang);
		cr_assert_str_eq(user_field("language", ALICE), t->lang);
	}
	if (strcmp(t->tmpl, "unknown") == 0)
		want = R(t->lang, "unknown", NULL);
	else
		want = R(t->lang, t->tmpl, "word", t->word, "suggestion",
		    t->suggestion, NULL);
	cr_assert_str_eq(say(ALICE, t->text), want, "%s: '%s' -> '%s'",
	    t->lang, t->text, told.reply);
	/* a hint is not a command: the language stays */
	cr_assert_str_eq(user_field("language", ALICE),
	    strcmp(t->lang, "en") == 0 ? "(none)" : t->lang);
}

/* --- empty, long and junk texts ---------------------------------------------- */

struct blank {
	char	 text[32];
};

ParameterizedTestParameters(junk, empty_texts)
{
	static struct blank	 t[] = {
		{ "" }, { " " }, { "      " }, { "\t\r\n" }, { "\xe3\x80\x80" },
		{ "\xc2\xa0 \xc2\xa0" }, { ",,," }, { "#" }, { " . ! ? " },
		{ "\"\"" }, { "# ;:" },
	};

	return cr_make_param_array(struct blank, t, sizeof(t) / sizeof(t[0]));
}

ParameterizedTest(struct blank *b, junk, empty_texts)
{
	cr_assert_str_eq(say(ALICE, b->text), R("en", "empty", NULL));
	cr_assert_str_eq(last_state(), "done");
	cr_assert_eq(last_outbox_rows(), 1);
}

/* Whatever arrives gets a reply, and nothing crashes. */
struct bytes {
	char	 text[64];
};

ParameterizedTestParameters(junk, invalid_utf8_gets_a_reply)
{
	static struct bytes	 t[] = {
		{ "\xff" }, { "\xc3" }, { "\xc3\x28 hi" }, { "\xed\xa0\x80" },
		{ "\xc0\xaf\xc0\xaf" }, { "\xf8\x88\x80\x80\x80" },
		{ "\xfe\xfe\xff\xff" }, { "ECHO \xff\xfe" }, { "ECHO \xc3" },
		{ "REG \xff\xfe Nakuru" }, { "REG \xe2\x82" }, { "\x80\x80 x" },
		{ "HELP \xf0\x9f" }, { "\x1b\x07\x08" }, { "LANG \xff" },
	};

	return cr_make_param_array(struct bytes, t, sizeof(t) / sizeof(t[0]));
}

ParameterizedTest(struct bytes *b, junk, invalid_utf8_gets_a_reply)
{
	const char	*r = say(ALICE, b->text);

	cr_assert_eq(told.null, 0, "silence for an invalid text");
	cr_assert_gt(strlen(r), 0);
	cr_assert_geq(last_outbox_rows(), 1);
	/* and the router still works for the next message */
	cr_assert_str_eq(say(ALICE, "ECHO ok"),
	    R("en", "echo", "text", "ok", NULL));
}

Test(junk, every_byte_value)
{
	char	 text[256];
	int	 i;

	for (i = 1; i < 256; i++)
		text[i - 1] = (char)i;
	text[255] = '\0';
	say(ALICE, text);
	cr_assert_eq(told.null, 0, "silence for binary junk");
	cr_assert_gt(strlen(told.reply), 0);
	/* backwards, and after a keyword */
	for (i = 1; i < 256; i++)
		text[i - 1] = (char)(256 - i);
	say(ALICE, text);
	cr_assert_eq(told.null, 0);
	memcpy(text, "ECHO ", 5);
	say(ALICE, text);
	cr_assert_eq(told.null, 0);
	cr_assert_str_eq(say(ALICE, "HELP"), R("en", "help", NULL));
}

Test(junk, thousand_characters)
{
	char	 text[1100], want[1200];
	size_t	 i;

	/* ECHO and 995 letters: the whole text comes back */
	memset(text, 0, sizeof(text));
	strcpy(text, "ECHO ");
	memset(text + 5, 'a', 995);
	cr_assert_eq(strlen(text), 1000);
	cr_assert_str_eq(say(ALICE, text),
	    R("en", "echo", "text", text + 5, NULL));

	/* one word of 1000 letters: not understood */
	memset(text, 'x', 1000);
	text[1000] = '\0';
	cr_assert_str_eq(say(ALICE, text), R("en", "unknown", NULL));

	/* 500 two-byte characters */
	text[0] = '\0';
	for (i = 0; i < 500; i++)
		strcat(text, "é");
	cr_assert_eq(strlen(text), 1000);
	cr_assert_str_eq(say(ALICE, text), R("en", "unknown", NULL));

	/* 1000 spaces */
	memset(text, ' ', 1000);
	cr_assert_str_eq(say(ALICE, text), R("en", "empty", NULL));

	/* "maize maize ... bean": a commodity first, a long suggestion */
	text[0] = '\0';
	for (i = 0; i < 166; i++)
		strcat(text, "maize ");
	strcat(text, "bean");
	cr_assert_eq(strlen(text), 1000);
	snprintf(want, sizeof(want), "SELL maize %s", text + 6);
	cr_assert_str_eq(say(ALICE, text),
	    R("en", "unknown-suggest", "word", "MAIZE", "suggestion", want,
	    NULL));
}

/* --- flood limits -------------------------------------------------------------- */

Test(flood, burst_then_slow_down_then_silence)
{
	struct router_stats	 st;

	cr_assert_str_eq(say_at(ALICE, "ECHO 1", T0),
	    R("en", "echo", "text", "1", NULL));
	cr_assert_str_eq(say_at(ALICE, "ECHO 2", T0),
	    R("en", "echo", "text", "2", NULL));
	cr_assert_str_eq(say_at(ALICE, "ECHO 3", T0),
	    R("en", "echo", "text", "3", NULL));
	cr_assert_str_eq(last_state(), "done");

	/* the 4th: told to slow down, stored, not processed */
	cr_assert_str_eq(say_at(ALICE, "REG Mary", T0),
	    R("en", "slow-down", NULL));
	cr_assert_str_eq(last_state(), "throttled");
	cr_assert_str_eq(user_field("name", ALICE), "(null)");

	/* the 5th: stored, no reply at all */
	say_at(ALICE, "ECHO 5", T0 + 1);
	cr_assert_eq(told.null, 1, "a reply to a throttled MO: %s",
	    told.reply);
	cr_assert_str_eq(last_state(), "throttled");
	cr_assert_eq(last_outbox_rows(), 0);
	cr_assert_eq(q_int("SELECT count(*) FROM inbox WHERE sender = ?1",
	    ALICE), 5);

	/* another sender meanwhile is served */
	cr_assert_str_eq(say_at(BOB, "ECHO b1", T0 + 1),
	    R("en", "echo", "text", "b1", NULL));
	cr_assert_str_eq(say_at(BOB, "ECHO b2", T0 + 1),
	    R("en", "echo", "text", "b2", NULL));

	/* a minute later: served again */
	cr_assert_str_eq(say_at(ALICE, "ECHO 6", T0 + 61),
	    R("en", "echo", "text", "6", NULL));
	cr_assert_str_eq(last_state(), "done");

	router_stats(router, &st);
	cr_assert_eq(st.throttled, 2);
	cr_assert_eq(st.handled, 6);
}

/* Tokens come back at the rate: 10 a minute is one per 6 s. */
Test(flood, refill_at_the_rate_and_one_notice_a_minute)
{
	int	 i;

	for (i = 0; i < 3; i++)
		say_at(ALICE, "ECHO x", T0);
	cr_assert_str_eq(say_at(ALICE, "ECHO x", T0),
	    R("en", "slow-down", NULL));
	cr_assert_str_eq(say_at(ALICE, "ECHO y", T0 + 6),
	    R("en", "echo", "text", "y", NULL));
	say_at(ALICE, "ECHO z", T0 + 6);
	cr_assert_eq(told.null, 1, "a second notice within the minute");
	cr_assert_str_eq(last_state(), "throttled");

	/* a minute after the notice, still flooding: one more notice */
	for (i = 0; i < 3; i++)
		cr_assert_str_eq(say_at(ALICE, "ECHO w", T0 + 70),
		    R("en", "echo", "text", "w", NULL));
	cr_assert_str_eq(say_at(ALICE, "ECHO w", T0 + 70),
	    R("en", "slow-down", NULL));
	say_at(ALICE, "ECHO w", T0 + 71);
	cr_assert_eq(told.null, 1);
}

/* The limit is per person: national and international forms share it. */
Test(flood, one_bucket_per_person)
{
	say_at("0722000111", "ECHO 1", T0);
	say_at("+254722000111", "ECHO 2", T0);
	say_at("254722000111", "ECHO 3", T0);
	cr_assert_str_eq(say_at("0722000111", "ECHO 4", T0),
	    R("en", "slow-down", NULL));
}

/* The notice is in the sender's language. */
Test(flood, slow_down_in_the_senders_language)
{
	user_put(ALICE, NULL, NULL, "sw", NULL, 0);
	say_at(ALICE, "MSAADA", T0);
	say_at(ALICE, "MSAADA", T0);
	say_at(ALICE, "MSAADA", T0);
	cr_assert_str_eq(say_at(ALICE, "MSAADA", T0),
	    R("sw", "slow-down", NULL));
}

/*
 * Message times can arrive out of order (an SMSC's timestamp, a modem's
 * queue): an older time must not rewind the bucket and earn tokens twice.
 */
Test(flood, out_of_order_time_earns_nothing)
{
	int	 i;

	for (i = 0; i < 3; i++)
		say_at(ALICE, "ECHO x", T0);
	/* an older message: throttled (and told, the first time) */
	cr_assert_str_eq(say_at(ALICE, "ECHO old", T0 - 60),
	    R("en", "slow-down", NULL));
	cr_assert_str_eq(last_state(), "throttled");
	/* back at T0 no time has passed since the burst: still throttled */
	say_at(ALICE, "ECHO y", T0);
	cr_assert_str_eq(last_state(), "throttled", "reply: %s", told.reply);
}

/*
 * The clock went back by more than a full refill (burst 3 at 10 a minute:
 * 18 s): the bucket refills from the new time instead of waiting days
 * for the clock to catch up, and the sender is told again.
 */
Test(flood, refills_after_the_clock_went_back)
{
	int	 i;

	for (i = 0; i < 3; i++)
		say_at(ALICE, "ECHO x", T0);
	cr_assert_str_eq(say_at(ALICE, "ECHO x", T0),
	    R("en", "slow-down", NULL));
	/* two days back: still throttled at that instant, and told */
	cr_assert_str_eq(say_at(ALICE, "ECHO y", T0 - 172800),
	    R("en", "slow-down", NULL));
	/* six seconds later on the new clock: one token */
	cr_assert_str_eq(say_at(ALICE, "ECHO z", T0 - 172800 + 6),
	    R("en", "echo", "text", "z", NULL));
}

/* Many senders at once are each served (no bucket is shared). */
Test(flood, many_senders_served)
{
	char	 sender[32];
	int	 i;

	for (i = 0; i < 300; i++) {
		snprintf(sender, sizeof(sender), "+2547%08d", i);
		cr_assert_str_eq(say_at(sender, "ECHO hi", T0),
		    R("en", "echo", "text", "hi", NULL), "sender %d", i);
	}
}

/* --- the repeat window ------------------------------------------------------------ */

/*
 * A repeat within the window gets the first copy's reply again (the usual
 * reason to resend is a reply that never came) and has no second effect:
 * the REG is not run again (a second run would say "Updated").
 */
Test(repeat, same_text_within_the_window_gets_the_same_reply)
{
	struct router_stats	 st;
	const char		*first;

	first = R("en", "reg-ok", "name", "Mary", "market", "Nakuru", NULL);
	cr_assert_str_eq(say_at(ALICE, "REG Mary Nakuru", T0), first);
	cr_assert_str_eq(say_at(ALICE, "REG Mary Nakuru", T0 + 10), first);
	cr_assert_str_eq(last_state(), "repeat");
	cr_assert_eq(last_outbox_rows(), 1);
	cr_assert_str_eq(say_at(ALICE, "REG Mary Nakuru", T0 + 29), first);
	cr_assert_str_eq(last_state(), "repeat");
	cr_assert_eq(q_int("SELECT count(*) FROM users", NULL), 1);

	/* over the link: a new MT, queued to the phone */
	send_mo(ALICE, "REG Mary Nakuru", T0 + 30, 0);
	cr_assert_str_eq(last_state(), "repeat");
	cr_assert_str_eq(q_text("SELECT text FROM outbox WHERE inbox_id = "
	    "(SELECT id FROM inbox WHERE kannel_id = ?1)", told.id), first);
	cr_assert_str_eq(q_text("SELECT state FROM outbox WHERE inbox_id = "
	    "(SELECT id FROM inbox WHERE kannel_id = ?1)", told.id), "queued");

	/* after the window: handled */
	cr_assert_str_eq(say_at(ALICE, "REG Mary Nakuru", T0 + 41),
	    R("en", "reg-updated", "name", "Mary", "market", "Nakuru", NULL));
	cr_assert_str_eq(last_state(), "done");

	router_stats(router, &st);
	cr_assert_eq(st.repeats, 3);
}

/* A reply split into parts comes back whole, and sent again in parts. */
Test(repeat, long_reply_is_sent_again_whole)
{
	char	 text[410], want[400];

	memset(want, 'x', 300);
	want[300] = '\0';
	snprintf(text, sizeof(text), "ECHO %s", want);
	send_mo(ALICE, text, T0, 0);
	cr_assert_eq(last_outbox_rows(), 3);
	send_mo(ALICE, text, T0 + 1, 0);
	cr_assert_str_eq(last_state(), "repeat");
	cr_assert_eq(last_outbox_rows(), 3);
	say_at(ALICE, text, T0 + 2);
	cr_assert_str_eq(told.reply, R("en", "echo", "text", want, NULL));
}

/*
 * When the first copy's replies are not found (here: removed, as after a
 * purge), the repeat is told it was received and what to send.
 */
Test(repeat, without_the_first_reply_a_short_note)
{
	say_at(ALICE, "ECHO hi", T0);
	cr_assert_eq(store_exec(store, "DELETE FROM outbox"), 0);
	cr_assert_str_eq(say_at(ALICE, "ECHO hi", T0 + 5),
	    R("en", "repeat", NULL));
	cr_assert_str_eq(last_state(), "repeat");
	/* in the sender's language */
	say_at(BOB, "UZA", T0);
	cr_assert_eq(store_exec(store, "DELETE FROM outbox"), 0);
	cr_assert_str_eq(say_at(BOB, "UZA", T0 + 5), R("sw", "repeat", NULL));
}

/* An MO over HTTP (inline reply) from sender at t; the caller sets its id. */
static struct mo
mo_inline(const char *sender, const char *text, long long t)
{
	struct mo	 mo;

	memset(&mo, 0, sizeof(mo));
	mo.channel = "http";
	mo.sender = sender;
	mo.receiver = "777";
	mo.text = text;
	mo.time = t;
	mo.reply_inline = 1;
	return mo;
}

/* Two copies in one transaction: the second is a repeat of a text about to
 * be committed. */
Test(repeat, two_copies_in_one_commit)
{
	struct mo	 mo = mo_inline(ALICE, "ECHO twice", T0);
	char		 id1[32];

	snprintf(id1, sizeof(id1), "mo-%d", ++nextid);
	mo.id = id1;
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	snprintf(told.id, sizeof(told.id), "mo-%d", ++nextid);
	mo.id = told.id;
	mo.time = T0 + 1;
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	cr_assert_eq(store_commit(store), 0);
	cr_assert_str_eq(last_state(), "repeat");
	cr_assert_str_eq(q_text("SELECT state FROM inbox WHERE kannel_id = ?1",
	    id1), "done");
	/* the second copy got the first one's reply again */
	cr_assert_eq(q_int("SELECT count(*) FROM outbox", NULL), 2);
	cr_assert_str_eq(told.reply, R("en", "echo", "text", "twice", NULL));
}

/*
 * A text whose transaction did not commit never happened: the phone's
 * resend, seconds later, is handled.  (A deferred foreign key makes the
 * COMMIT itself fail.)
 */
Test(repeat, text_of_a_failed_commit_is_forgotten)
{
	struct mo	 mo = mo_inline(ALICE, "ECHO lost", T0);

	cr_assert_eq(store_exec(store, "CREATE TABLE parent(id INTEGER "
	    "PRIMARY KEY); CREATE TABLE child(pid INTEGER REFERENCES "
	    "parent(id) DEFERRABLE INITIALLY DEFERRED)"), 0);
	snprintf(told.id, sizeof(told.id), "mo-%d", ++nextid);
	mo.id = told.id;
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	cr_assert_eq(store_exec(store, "INSERT INTO child VALUES (42)"), 0);
	cr_assert_eq(store_commit(store), -1);
	cr_assert_eq(told.status, INBOX_FAILED);
	cr_assert_eq(q_int("SELECT count(*) FROM inbox", NULL), 0);

	cr_assert_str_eq(say_at(ALICE, "ECHO lost", T0 + 2),
	    R("en", "echo", "text", "lost", NULL));
	cr_assert_str_eq(last_state(), "done");
	/* ... and that one counts: a third copy is a repeat. */
	say_at(ALICE, "ECHO lost", T0 + 3);
	cr_assert_str_eq(last_state(), "repeat");
}

Test(repeat, different_text_or_sender_is_handled)
{
	say_at(ALICE, "ECHO hi", T0);
	cr_assert_str_eq(say_at(ALICE, "ECHO hi!", T0 + 1),
	    R("en", "echo", "text", "hi!", NULL));
	cr_assert_str_eq(say_at(BOB, "ECHO hi", T0 + 1),
	    R("en", "echo", "text", "hi", NULL));
	cr_assert_str_eq(last_state(), "done");
	/* the same id again is a duplicate, not a repeat: inbox.c's job */
	cr_assert_eq(q_int("SELECT count(*) FROM inbox WHERE state = 'repeat'",
	    NULL), 0);
}

/* The same SELL twice within the window: one offer, two identical replies. */
Test(repeat_market, sell_twice_posts_one_offer)
{
	char	 first[512];

	say_at(ALICE, "REG Mary Nakuru", T0);
	snprintf(first, sizeof(first), "%s",
	    say_at(ALICE, "SELL maize 10 bags 3000", T0 + 1));
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts", NULL), 1);
	cr_assert_str_eq(say_at(ALICE, "SELL maize 10 bags 3000", T0 + 20),
	    first);
	cr_assert_str_eq(last_state(), "repeat");
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts", NULL), 1);
	cr_assert_eq(q_int("SELECT count(*) FROM outbox WHERE text = ?1",
	    first), 2);
}

/* --- a store that cannot commit ------------------------------------------------ */

/*
 * Make the open transaction's COMMIT fail, as a full disk does: a row
 * that breaks a deferred foreign key is checked only at the COMMIT.
 */
static void
commit_will_fail(void)
{
	cr_assert_eq(store_exec(store, "CREATE TABLE IF NOT EXISTS "
	    "fail_parent(id INTEGER PRIMARY KEY); CREATE TABLE IF NOT EXISTS "
	    "fail_child(pid INTEGER REFERENCES fail_parent(id) DEFERRABLE "
	    "INITIALLY DEFERRED)"), 0);
	cr_assert_eq(store_exec(store, "INSERT INTO fail_child VALUES (42)"),
	    0);
}

/* Offer MO id (text from sender at t) in a transaction that fails. */
static void
send_failing(const char *id, const char *sender, const char *text,
    long long t)
{
	struct mo	 mo = mo_inline(sender, text, t);
	int		 calls = told.calls;

	snprintf(told.id, sizeof(told.id), "%s", id);
	mo.id = told.id;
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	commit_will_fail();
	cr_assert_eq(store_commit(store), -1);
	cr_assert_eq(told.calls, calls + 1);
	cr_assert_eq(told.status, INBOX_FAILED);
}

/* Offer MO id again, the store working: it must be stored. */
static const char *
send_again(const char *id, const char *sender, const char *text, long long t)
{
	struct mo	 mo = mo_inline(sender, text, t);

	snprintf(told.id, sizeof(told.id), "%s", id);
	mo.id = told.id;
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	cr_assert_eq(store_commit(store), 0);
	cr_assert_eq(told.status, INBOX_STORED, "MO %s not stored", id);
	return told.reply;
}

/*
 * Tokens taken by units whose commit failed come back: the three MOs of
 * a failed transaction leave the burst whole.
 */
Test(flood, tokens_of_a_failed_commit_are_given_back)
{
	struct mo	 mo = mo_inline(ALICE, "ECHO x", T0);
	char		 ids[3][16];
	int		 i;

	for (i = 0; i < 3; i++) {
		snprintf(ids[i], sizeof(ids[i]), "lost-%d", i);
		mo.id = ids[i];
		cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	}
	commit_will_fail();
	cr_assert_eq(store_commit(store), -1);
	cr_assert_eq(q_int("SELECT count(*) FROM inbox", NULL), 0);
	for (i = 0; i < 3; i++)
		cr_assert_str_eq(say_at(ALICE, "ECHO y", T0),
		    R("en", "echo", "text", "y", NULL), "MO %d", i);
	cr_assert_str_eq(say_at(ALICE, "ECHO z", T0),
	    R("en", "slow-down", NULL));
}

/* The same MO offered again and again while the store fails costs nothing. */
Test(flood, retries_of_a_failing_mo_are_free)
{
	int	 i;

	for (i = 0; i < 20; i++)
		send_failing("retried", ALICE, "ECHO hello", T0 + i / 10);
	cr_assert_str_eq(send_again("retried", ALICE, "ECHO hello", T0 + 2),
	    R("en", "echo", "text", "hello", NULL));
	cr_assert_str_eq(last_state(), "done");
}

/* A slow-down notice that was rolled back is sent with the next MO. */
Test(flood, notice_of_a_failed_commit_is_sent_again)
{
	int	 i;

	for (i = 0; i < 3; i++)
		say_at(ALICE, "ECHO x", T0);
	send_failing("notice", ALICE, "ECHO y", T0);
	cr_assert_str_eq(send_again("notice", ALICE, "ECHO y", T0),
	    R("en", "slow-down", NULL));
	cr_assert_str_eq(last_state(), "throttled");
	/* ... and only once a minute */
	say_at(ALICE, "ECHO z", T0 + 1);
	cr_assert_eq(told.null, 1, "a second notice: %s", told.reply);
}

/*
 * The review's outage: SELLs sent while the disk was full, offered again
 * and again by bearerbox, are each handled once the store is back (an
 * offer and its reply), not stored as throttled.
 */
Test(durable, sells_of_an_outage_are_handled_when_the_store_is_back)
{
	char	 reply[512];
	int	 i;

	say_at(ALICE, "REG Mary Nakuru", T0);
	for (i = 0; i < 10; i++) {
		send_failing("sell-1", ALICE, "SELL maize 10 bags 3000", T0 + 1);
		send_failing("sell-2", ALICE, "SELL beans 5 bags 4000", T0 + 1);
	}
	snprintf(reply, sizeof(reply), "%s", send_again("sell-1", ALICE,
	    "SELL maize 10 bags 3000", T0 + 2));
	cr_assert_str_eq(last_state(), "done", "reply: %s", reply);
	cr_assert_eq(last_outbox_rows(), 1);
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts", NULL), 1);
	send_again("sell-2", ALICE, "SELL beans 5 bags 4000", T0 + 2);
	cr_assert_str_eq(last_state(), "done", "reply: %s", told.reply);
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts", NULL), 2);
	/* the repeat window forgot the failed copies too: not repeats */
	cr_assert_eq(q_int("SELECT count(*) FROM inbox WHERE state <> 'done'",
	    NULL), 0);
}

/* A unit rolled back by the inbox gives its charges back too. */
Test(durable, a_unit_rolled_back_gives_its_token_back)
{
	int	 i;

	say_at(ALICE, "REG Mary Nakuru", T0);
	/* the market's table gone: SELL fails on the store, is rolled back
	   and recorded as failed with an apology */
	cr_assert_eq(store_exec(store, "ALTER TABLE market_posts RENAME TO "
	    "market_posts_away"), 0);
	say_at(ALICE, "SELL maize 10 bags 3000", T0);
	cr_assert_str_eq(last_state(), "failed");
	cr_assert_eq(store_exec(store, "ALTER TABLE market_posts_away RENAME "
	    "TO market_posts"), 0);
	/* REG took one token, the failed SELL none: two left */
	for (i = 0; i < 2; i++) {
		say_at(ALICE, i == 0 ? "ECHO a" : "ECHO b", T0);
		cr_assert_str_eq(last_state(), "done", "MO %d", i);
	}
	cr_assert_str_eq(say_at(ALICE, "ECHO c", T0),
	    R("en", "slow-down", NULL));
}

/* --- plugin commands: registration, roles, handlers ---------------------------------- */

Test(plugin, registration_needed)
{
	cr_assert_str_eq(say(ALICE, "SELL maize 10 bags 3000"),
	    R("en", "need-reg", NULL));
	cr_assert_str_eq(say(ALICE, "UZA mahindi 10 gunia 3000"),
	    R("sw", "need-reg", NULL));
	/* MY is an English word: answered in English */
	cr_assert_str_eq(say(ALICE, "MY"), R("en", "need-reg", NULL));
	cr_assert_str_eq(say(ALICE, "YANGU"), R("sw", "need-reg", NULL));
	/* echo needs none */
	cr_assert_str_eq(say(ALICE, "ECHO hi"),
	    R("en", "echo", "text", "hi", NULL));
	/* an admin by the conf still registers first */
	cr_assert_str_eq(say(ADMIN, "SELL maize"), R("en", "need-reg", NULL));
}

/* SELL here is for transporters: a farmer is told who may use it. */
Test(plugin, role_needed)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	cr_assert_str_eq(say(ALICE, "SELL maize 10 bags 3000"),
	    R("en", "not-allowed", "command", "SELL", "roles", "transporter",
	    NULL));
	cr_assert_eq(last_outbox_rows(), 1);
	cr_assert_str_eq(say(ALICE, "uza mahindi"),
	    R("sw", "not-allowed", "command", "UZA", "roles",
	    lang_template(langs, "sw", "role-transporter"), NULL));
}

Test(plugin, role_present)
{
	user_put(ALICE, "Otieno", NULL, "en", "transporter", 0);
	cr_assert_str_eq(say(ALICE, "SELL maize 10 bags 3,000/="),
	    R("en", "echo", "text", "sold maize 10 bags 3,000/=", NULL));
	user_put(ADMIN, "Boss", NULL, "en", NULL, 0);
	cr_assert_str_eq(say("0700000009", "sell beans"),
	    R("en", "echo", "text", "sold beans", NULL));
}

Test(plugin, host_sees_the_sender)
{
	user_put(ALICE, "Mary", "nakuru", "sw", NULL, 0);
	cr_assert_str_eq(say("0722000111", "YANGU"),
	    R("sw", "echo", "text", "+254722000111|Mary|nakuru|sw|3", NULL));
	user_put(ADMIN, "Boss", NULL, "en", NULL, 0);
	/* an admin has every role, the dealer's (0x20) too */
	cr_assert_str_eq(say(ADMIN, "MY"),
	    R("en", "echo", "text", "+254700000009|Boss|(null)|en|3f", NULL));
}

/* A handler that says nothing, or MB_USAGE: the usage, never silence. */
Test(plugin, handler_silence_and_usage)
{
	cr_assert_str_eq(say(ALICE, "WANT beans"), R("en", "usage-WANT", NULL));
	cr_assert_str_eq(say(ALICE, "TAKA maharage"),
	    R("sw", "usage-WANT", NULL));
	/* no usage name in the descriptor: usage-<id> */
	cr_assert_str_eq(say(ALICE, "NUNUA 41 5"), R("sw", "usage-BUY", NULL));
	cr_assert_str_eq(say(ALICE, "BUY 41 5"), R("en", "usage-BUY", NULL));
	cr_assert_str_eq(say(ALICE, "ACCEPT nobody"),
	    R("en", "usage-ACCEPT", NULL));
}

/* MB_FAIL: everything the handler did rolls back; the sender is told. */
Test(plugin, handler_failure_rolls_back)
{
	say(ALICE, "CANCEL 41");
	cr_assert_str_eq(last_state(), "failed");
	cr_assert_eq(last_outbox_rows(), 1);
	cr_assert_str_eq(q_text("SELECT text FROM outbox WHERE inbox_id = "
	    "(SELECT id FROM inbox WHERE kannel_id = ?1)", told.id),
	    FAILED_TEXT);
	cr_assert_eq(q_int("SELECT count(*) FROM outbox WHERE text LIKE "
	    "'%cancelled%'", NULL), 0);
	/* the user row made for the keyword's language rolled back too */
	cr_assert_str_eq(user_field("language", ALICE), "(none)");
}

/* The apology is in the sender's language. */
Test(plugin, handler_failure_told_in_the_senders_language)
{
	user_put(ALICE, NULL, NULL, "sw", NULL, 0);
	cr_assert_str_eq(say(ALICE, "CANCEL 41"), R("sw", "error", NULL));
	cr_assert_str_eq(last_state(), "failed");
}

/* ... and an inline caller (HTTP) gets that text as the reply. */
Test(plugin, handler_failure_inline_reply)
{
	cr_assert_str_eq(say(ALICE, "CANCEL 41"), FAILED_TEXT);
}

/* The next MO's inline reply is its own, nothing left from a failure. */
Test(plugin, handler_failure_leaves_nothing_for_the_next)
{
	say(ALICE, "CANCEL 41");
	cr_assert_str_eq(say(BOB, "ECHO after"),
	    R("en", "echo", "text", "after", NULL));
}

/* A template no language has: the error template, not silence. */
Test(plugin, missing_template_gives_error_text)
{
	cr_assert_str_eq(say(ALICE, "REJECT 12"), R("en", "error", NULL));
	cr_assert_str_eq(say(ALICE, "KATAA 12"), R("sw", "error", NULL));
}

/* A notice goes to the outbox in its receiver's language. */
Test(plugin, notice_in_the_receivers_language)
{
	user_put(BOB, "Peter", NULL, "sw", NULL, 0);
	cr_assert_str_eq(say(ALICE, "ACCEPT 0733000222"),
	    R("en", "echo", "text", "notified", NULL));
	cr_assert_str_eq(q_text("SELECT text FROM outbox WHERE kind = 'notice'"
	    " AND receiver = ?1", BOB), R("sw", "echo", "text", "notice",
	    NULL));
	cr_assert_str_eq(q_text("SELECT sender FROM outbox WHERE kind = "
	    "'notice' AND receiver = ?1", BOB), "777");
	cr_assert_str_eq(q_text("SELECT state FROM outbox WHERE kind = "
	    "'notice' AND receiver = ?1", BOB), "queued");
	cr_assert_eq(last_outbox_rows(), 2);
	/* to a number nobody registered: the default language */
	say(ALICE, "ACCEPT +254744000333");
	cr_assert_str_eq(q_text("SELECT text FROM outbox WHERE kind = 'notice'"
	    " AND receiver = ?1", "+254744000333"),
	    R("en", "echo", "text", "notice", NULL));
}

/* Numbers reach a command's arguments normalised. */
struct numfmt {
	char	 text[64];
	char	 args[64];	/* the arguments joined by '|' */
};

ParameterizedTestParameters(plugin, number_formats)
{
	static struct numfmt	 t[] = {
		{ "REPORT 3,000", "3000" },
		{ "REPORT 3000/=", "3000" },
		{ "REPORT 3000/-", "3000" },
		{ "REPORT 3,000/=", "3000" },
		{ "REPORT 3000 /=", "3000" },
		{ "REPORT 3000kes", "3000" },
		{ "REPORT 3000 KES", "3000" },
		{ "REPORT KES 3000", "3000" },
		{ "REPORT Ksh.3,000", "3000" },
		{ "REPORT ksh 3000", "3000" },
		{ "REPORT 3000 bob", "3000" },
		{ "REPORT 3000 USD", "3000|usd" },
		{ "REPORT 3.000.000", "3000000" },
		{ "REPORT 3'000", "3000" },
		{ "REPORT 2.5", "2.5" },
		{ "REPORT #41", "41" },
		{ "REPORT # 41", "41" },
		{ "REPORT \xef\xbc\x93\xef\xbc\x90\xef\xbc\x90\xef\xbc\x90", "3000" },
		{ "REPORT 10kg", "10|kg" },
		/* issue 12: decimals are never thousands */
		{ "REPORT maize 2 bags 3000.505", "maize|2|bags|3000.505" },
		{ "REPORT maize 1 0.050", "maize|1|0.050" },
		/* read two ways: arg() thousands, arg_other() the decimal */
		{ "REPORT 2.500", "2500/2.5" },
		{ "REPORT 3.500 3,500 3.000", "3500/3.5|3500|3000" },
		/* glued units read as spaced ones */
		{ "REPORT maize 10bags 3000", "maize|10|bags|3000" },
		{ "REPORT maize 10 bags 3000", "maize|10|bags|3000" },
		{ "REPORT maize 10BAGS 3000", "maize|10|bags|3000" },
		{ "REPORT 12abc", "12abc" },
		/* space groups joined next to a currency only */
		{ "REPORT 6 000 KES", "6000" },
		{ "REPORT KSh 6 000", "6000" },
		{ "REPORT maize 10 bags 6 000 bob", "maize|10|bags|6000" },
		{ "REPORT 6 000", "6|000" },
		{ "REPORT 41 500", "41|500" },
		/* Chinese without spaces, cut at keywords and catalogue words */
		{ "报价玉米3000", "玉米|3000" },
		{ "报价 玉米 3000", "玉米|3000" },
		{ "报价玉米10袋3000", "玉米|10|袋|3000" },
		{ "报价玉米，3000。", "玉米|3000" },
		{ "  report   Maize  10   BAGS   3,000/=  ", "maize|10|bags|3000" },
		{ "ripoti nyanya 80 Wakulima", "nyanya|80|wakulima" },
		{ "REPORT\xe3\x80\x80tomato\xc2\xa0" "80", "tomato|80" },
		{ "REPORT", "" },
	};

	return cr_make_param_array(struct numfmt, t, sizeof(t) / sizeof(t[0]));
}

ParameterizedTest(struct numfmt *n, plugin, number_formats)
{
	const char	*lang = strncmp(n->text, "ripoti", 6) == 0 ? "sw" :
			    strncmp(n->text, "报价", 6) == 0 ? "zh" : "en";

	cr_assert_str_eq(say(ALICE, n->text),
	    R(lang, "echo", "text", n->args, NULL), "'%s'", n->text);
}

Test(plugin, other_commands_still_unavailable)
{
	cr_assert_str_eq(say(ALICE, "PRICE maize"),
	    R("en", "unavailable", "command", "PRICE", NULL));
	cr_assert_str_eq(say(ALICE, "tuma 12"),
	    R("sw", "unavailable", "command", "TUMA", NULL));
	cr_assert_str_eq(say(ALICE, "HELP SELL"), R("en", "help-SELL", NULL));
}

/* Catalogue codes in a reply are shown by their name in its language. */
Test(plugin, catalogue_names_in_the_readers_language)
{
	const char	*all[] = { "ref", "1", "qty", "5", "price", "3000",
			    "currency", "KES", "market", "Nakuru" };

	names_set(&conf->commodities[0].names, "sw:mahindi;zh:玉米");
	names_set(&conf->units[0].names, "sw:gunia");
	cr_assert_str_eq(conf->commodities[0].code, "maize");
	cr_assert_str_eq(conf->units[0].code, "bag");
	/* Swahili: both names; English has none: the codes. */
	cr_assert_str_eq(say(ALICE, "imefika maize bag"),
	    R("sw", "market-offer-ok", all[0], all[1], "commodity", "mahindi",
	    all[2], all[3], "unit", "gunia", all[4], all[5], all[6], all[7],
	    all[8], all[9], NULL));
	cr_assert_str_eq(say(BOB, "delivered maize bag"),
	    R("en", "market-offer-ok", all[0], all[1], "commodity", "maize",
	    all[2], all[3], "unit", "bag", all[4], all[5], all[6], all[7],
	    all[8], all[9], NULL));
}

/* After a reload: the new conf's catalogue, currency and languages. */
Test(plugin, set_conf_with_fresh_languages)
{
	struct lang_set	*l2;

	user_put(ALICE, "Mary", "nakuru", "en", "transporter", 0);
	conf2 = conf_make();
	conf2->flood_rate = 1000000;
	conf2->flood_burst = 1000000;
	conf2->default_language = xstrdup("sw");
	conf2->language_dir = xstrdup(LANG_DIR);
	free(conf2->currency);
	conf2->currency = xstrdup("UGX");
	free(conf2->markets[0].code);
	free(conf2->markets[0].name);
	conf2->markets[0].code = xstrdup("kisumu");
	conf2->markets[0].name = xstrdup("Kisumu");
	l2 = lang_load(LANG_DIR, "sw");
	cr_assert_not_null(l2);
	cr_assert_eq(router_set_conf(router, conf2, l2), 0);
	langs = router_langs(router);	/* the old ones are freed */

	/* a new user: the new default language */
	cr_assert_str_eq(say(BOB, "xyzzy"), R("sw", "unknown", NULL));
	cr_assert_str_eq(say(BOB, "MSAADA"), R("sw", "help", NULL));
	/* the new catalogue */
	cr_assert_str_eq(say(BOB, "SAJILI Otieno Kisumu"),
	    R("sw", "reg-ok", "name", "Otieno", "market", "Kisumu", NULL));
	cr_assert_str_eq(user_field("market", BOB), "kisumu");
	/* a market no longer known is no market: which one, then? */
	cr_assert_str_eq(say("+254755000444", "REG Wanjiru Nakuru"),
	    R("en", "reg-need-market", "name", "Wanjiru Nakuru", "market",
	    "Kisumu", "markets", "Kisumu, Wakulima Market, Eldoret Town",
	    NULL));
	cr_assert_str_eq(user_field("name", "+254755000444"), "(null)");
	/* the new currency */
	cr_assert_str_eq(say(ALICE, "REPORT 3000 UGX"),
	    R("en", "echo", "text", "3000", NULL));
	cr_assert_str_eq(say(ALICE, "REPORT 3000 KES"),
	    R("en", "echo", "text", "3000|kes", NULL));
	/* and a known user keeps theirs */
	cr_assert_str_eq(say(ALICE, "xyzzy"), R("en", "unknown", NULL));
}

/* --- questions: ask(), YES and NO --------------------------------------------------
 *
 * router_cmds' ALERT asks: "ALERT ALERT words" asks the sender
 * "question ALERT words", and YES runs "ALERT words" with confirmed() 1,
 * which answers "confirmed words".
 */

#define CARL		"+254755000333"

/* The open question of a phone: a column of its row, "(none)" if none. */
static const char *
question_field(const char *field, const char *msisdn)
{
	static char	 sql[128];

	snprintf(sql, sizeof(sql), "SELECT %s FROM questions WHERE "
	    "msisdn = ?1", field);
	return q_text(sql, msisdn);
}

static long long
questions_of(const char *msisdn)
{
	return q_int("SELECT count(*) FROM questions WHERE msisdn = ?1",
	    msisdn);
}

/* YES runs the command once, as the sender, confirmed; the row is gone. */
Test(questions, yes_runs_the_command_once)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	cr_assert_str_eq(say(ALICE, "ALERT ALERT hello"),
	    R("en", "echo", "text", "question ALERT hello", NULL));
	cr_assert_eq(questions_of(ALICE), 1);
	cr_assert_str_eq(question_field("command", ALICE), "ALERT hello");
	cr_assert_str_eq(question_field("language", ALICE), "en");
	cr_assert_str_eq(question_field("asker", ALICE), ALICE);
	cr_assert_eq(q_int("SELECT expires - created FROM questions", NULL),
	    900);
	cr_assert_str_eq(say_at(ALICE, "YES", T0 + 60),
	    R("en", "echo", "text", "confirmed hello", NULL));
	cr_assert_str_eq(last_state(), "done");
	cr_assert_eq(questions_of(ALICE), 0);
	/* a second YES finds no question, and says what to do */
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 120),
	    R("en", "question-none", NULL));
	/* the confirmed run asked nothing again */
	cr_assert_eq(questions_of(ALICE), 0);
}

/* HELP knows YES and NO, in every language. */
Test(questions, help_on_yes_and_no)
{
	cr_assert_str_eq(say(ALICE, "HELP YES"), R("en", "help-YES", NULL));
	cr_assert_str_eq(say(ALICE, "help no"), R("en", "help-NO", NULL));
	cr_assert_str_eq(say(BOB, "msaada ndio"), R("sw", "help-YES", NULL));
	cr_assert_str_eq(say("+254744000555", "aide non"),
	    R("fr", "help-NO", NULL));
	cr_assert_str_eq(say("+254744000666", "帮助 是"),
	    R("zh", "help-YES", NULL));
}

Test(questions, no_drops_the_question)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	cr_assert_str_eq(say(ALICE, "NO"), R("en", "question-none", NULL));
	say(ALICE, "ALERT ALERT hello");
	cr_assert_str_eq(say_at(ALICE, "no", T0 + 5),
	    R("en", "question-no", NULL));
	cr_assert_eq(questions_of(ALICE), 0);
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 10),
	    R("en", "question-none", NULL));
}

/* A question lives question-lifetime seconds, or the asker's ttl. */
Test(questions, an_expired_question_runs_nothing)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	conf->question_lifetime = 300;
	say(ALICE, "ALERT ALERT one");
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 299),
	    R("en", "echo", "text", "confirmed one", NULL));
	say_at(ALICE, "ALERT ALERT two", T0 + 1000);
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 1300),
	    R("en", "question-expired", NULL));
	cr_assert_eq(questions_of(ALICE), 0);
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 1301),
	    R("en", "question-none", NULL));
	/* NO to an expired question says so too */
	say_at(ALICE, "ALERT ttl 60 ALERT three", T0 + 2000);
	cr_assert_eq(q_int("SELECT expires - created FROM questions", NULL),
	    60);
	cr_assert_str_eq(say_at(ALICE, "no", T0 + 2060),
	    R("en", "question-expired", NULL));
	say_at(ALICE, "ALERT ttl 60 ALERT four", T0 + 3000);
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 3059),
	    R("en", "echo", "text", "confirmed four", NULL));
}

/* One question per phone: a new one replaces the old. */
Test(questions, a_new_question_replaces_the_old)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	say(ALICE, "ALERT ALERT one");
	say_at(ALICE, "ALERT ALERT two", T0 + 1);
	cr_assert_eq(questions_of(ALICE), 1);
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 2),
	    R("en", "echo", "text", "confirmed two", NULL));
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 3),
	    R("en", "question-none", NULL));
}

/*
 * A question to another phone is a notice in that phone's language; its
 * YES runs the command as that phone, in that language; the asker's own
 * YES finds nothing.
 */
Test(questions, a_question_to_another_phone)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	user_put(BOB, "Otieno", "nakuru", "sw", NULL, 0);
	cr_assert_str_eq(say(ALICE, "ALERT to 0733000222 ALERT hi"),
	    R("en", "echo", "text", "asked " BOB, NULL));
	cr_assert_eq(last_outbox_rows(), 2);
	cr_assert_str_eq(q_text("SELECT text FROM outbox WHERE receiver = ?1",
	    BOB), R("sw", "echo", "text", "question ALERT hi", NULL));
	cr_assert_str_eq(question_field("language", BOB), "sw");
	cr_assert_str_eq(question_field("asker", BOB), ALICE);
	cr_assert_eq(questions_of(ALICE), 0);
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 1),
	    R("en", "question-none", NULL));
	cr_assert_str_eq(say_at(BOB, "ndio", T0 + 2),
	    R("sw", "echo", "text", "confirmed hi", NULL));
	cr_assert_eq(questions_of(BOB), 0);
}

/*
 * YES runs the command as a typed one: registration and roles are
 * checked for the phone that answers (SELL needs REG and the
 * transporter role here).
 */
Test(questions, yes_checks_registration_and_roles)
{
	char	 typed[512];

	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	user_put(BOB, "Otieno", "nakuru", "en", NULL, 0);
	say(ALICE, "ALERT to 0755000333 SELL maize");
	cr_assert_str_eq(question_field("language", CARL), "en");
	cr_assert_str_eq(say_at(CARL, "yes", T0 + 1), R("en", "need-reg",
	    NULL));
	say_at(ALICE, "ALERT to 0733000222 SELL maize", T0 + 2);
	snprintf(typed, sizeof(typed), "%s", say_at(BOB, "SELL maize",
	    T0 + 3));
	cr_assert(strstr(typed, "SELL") != NULL, "%s", typed);
	cr_assert_str_eq(say_at(BOB, "yes", T0 + 4), typed);
	cr_assert_eq(sqlite3_exec(store_db(store), "UPDATE users SET name = "
	    "'Carl', role = 'transporter' WHERE msisdn = '" CARL "'", NULL, NULL,
	    NULL), SQLITE_OK);
	say_at(ALICE, "ALERT to 0755000333 SELL maize", T0 + 5);
	cr_assert_str_eq(say_at(CARL, "yes", T0 + 6),
	    R("en", "echo", "text", "sold maize", NULL));
}

/* Every YES and NO word of every language answers in its language. */
Test(questions, yes_and_no_in_every_language)
{
	static const struct {
		const char	*lang, *word, *command;
	} words[] = {
		{ "en", "yes", "YES" }, { "en", "OK", "YES" },
		{ "en", "No", "NO" },
		{ "sw", "ndio", "YES" }, { "sw", "Ndiyo", "YES" },
		{ "sw", "sawa", "YES" }, { "sw", "hapana", "NO" },
		{ "fr", "oui", "YES" }, { "fr", "OUI", "YES" },
		{ "fr", "non", "NO" },
		{ "zh", "是", "YES" }, { "zh", "是的", "YES" },
		{ "zh", "好", "YES" }, { "zh", "确认", "YES" },
		{ "zh", "不", "NO" }, { "zh", "否", "NO" },
		{ "zh", "不是", "NO" },
	};
	char		 phone[32], text[64], want[64];
	size_t		 i;
	long long	 t = T0;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const char	*l = words[i].lang;

		snprintf(phone, sizeof(phone), "+2547110000%02zu", i);
		user_put(phone, "Someone", "nakuru", l, NULL, 0);
		/* asked with the language's own word for ALERT */
		snprintf(text, sizeof(text), "%s ALERT w%zu",
		    lang_command_word(langs, l, "ALERT"), i);
		snprintf(want, sizeof(want), "question ALERT w%zu", i);
		cr_assert_str_eq(say_at(phone, text, t++),
		    R(l, "echo", "text", want, NULL), "%s", text);
		if (strcmp(words[i].command, "YES") == 0) {
			snprintf(want, sizeof(want), "confirmed w%zu", i);
			cr_assert_str_eq(say_at(phone, words[i].word, t++),
			    R(l, "echo", "text", want, NULL), "%s '%s'", l,
			    words[i].word);
		} else
			cr_assert_str_eq(say_at(phone, words[i].word, t++),
			    R(l, "question-no", NULL), "%s '%s'", l,
			    words[i].word);
		cr_assert_eq(questions_of(phone), 0, "%s", words[i].word);
		cr_assert_str_eq(user_field("language", phone), l);
	}
}

/*
 * The answer is in the question's language, and stays the sender's:
 * "yes" is English, but the conversation was in Swahili.
 */
Test(questions, the_answer_is_in_the_questions_language)
{
	user_put(ALICE, "Mary", "nakuru", "sw", NULL, 0);
	cr_assert_str_eq(say(ALICE, "tahadhari ALERT x"),
	    R("sw", "echo", "text", "question ALERT x", NULL));
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 1),
	    R("sw", "echo", "text", "confirmed x", NULL));
	cr_assert_str_eq(user_field("language", ALICE), "sw");
	/* with no question, "yes" is English as any keyword is */
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 2),
	    R("en", "question-none", NULL));
}

/*
 * A command that fails on YES rolls back with the answer: the question
 * is still open, and the phone may answer again.
 */
Test(questions, a_failed_yes_keeps_the_question)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	say(ALICE, "ALERT CANCEL 41");
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 1), FAILED_TEXT);
	cr_assert_str_eq(last_state(), "failed");
	cr_assert_eq(questions_of(ALICE), 1);
	cr_assert_str_eq(question_field("command", ALICE), "CANCEL 41");
}

/* A question's command may be in any language's words. */
Test(questions, the_command_may_be_a_keyword)
{
	user_put(ALICE, "Mary", "nakuru", "en", NULL, 0);
	say(ALICE, "ALERT ripoti 3,000");
	cr_assert_str_eq(say_at(ALICE, "yes", T0 + 1),
	    R("en", "echo", "text", "3000", NULL));
}
