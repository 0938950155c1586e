/*
 * test_agents.c - village service points (engine/agents.c, and host.c's
 * side of them): an agent enrols members (without a phone at once; with
 * one, on that phone's YES), lists them a page an SMS, ends them, and
 * runs commands for them with FOR: refused for non-agents, for other
 * agents' members, for members not active and for a person's own
 * commands; replies go to the agent naming the member, notices to a
 * member go to her agent (and her phone when she has one); commissions
 * in integers; the flood limit and the repeat window per member.
 *
 * Messages go through the real inbox, router, echo and market plugins
 * (engine_fixture.h), on a SQLite store in a temporary directory.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "base/gw.h"
#include "base/conf.h"
#include "plugin/core.h"
#include "queue/inbox.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "engine_fixture.h"
#include "store/store.h"
#ifdef HAVE_POSTGRESQL
#include "pg_fixture.h"
#endif

#define MARKET_SO	TEST_BUILDDIR "/plugins/market/.libs/market.so"
#define T0		1700000000LL
#define AGENT		"+254722000111"
#define AGENT2		"+254722000999"
#define GRACE		"+254733000222"	/* a member with a phone */
#define BUYER		"+254744000333"
#define POINT		"Kiambogo point"

enum variant { V_PLAIN, V_LIMITS, V_PG };

/* The fixture's world (engine_fixture.h), under the names the tests use. */
static struct conf		*conf;
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct inbox		*inbox;
static const struct lang_set	*langs;
#define told			engine_fixture.told
#define nextid			engine_fixture.nextid
#define xstrdup			engine_fixture_strdup
#define names_set		engine_fixture_names
#define done_cb			engine_fixture_done_cb
#define query			engine_fixture_query
#define q_int			engine_fixture_int
#define q_text			engine_fixture_text
#define R			engine_fixture_reply

static struct conf *
conf_make(enum variant v)
{
	struct conf	*c = engine_fixture_conf();

	names_set(&c->currency_aliases, "KSh");
	c->nunits = 1;
	c->units = calloc(1, sizeof(*c->units));
	c->units[0].code = xstrdup("bag");
	names_set(&c->units[0].aliases, "bags");
	c->ncommodities = 1;
	c->commodities = calloc(1, sizeof(*c->commodities));
	c->commodities[0].code = xstrdup("maize");
	c->commodities[0].unit = xstrdup("bag");
	c->nmarkets = 1;
	c->markets = calloc(1, sizeof(*c->markets));
	c->markets[0].code = xstrdup("nakuru");
	c->markets[0].name = xstrdup("Nakuru");
	c->nservice_points = 2;
	c->service_points = calloc(2, sizeof(*c->service_points));
	c->service_points[0].code = xstrdup("kiambogo");
	c->service_points[0].name = xstrdup(POINT);
	names_set(&c->service_points[0].names, "sw:Kituo cha Kiambogo");
	c->service_points[0].market = xstrdup("nakuru");
	c->service_points[0].commission_seller_bp = 250;
	c->service_points[0].commission_buyer_bp = 75;
	c->service_points[1].code = xstrdup("other");
	c->service_points[1].name = xstrdup("Other point");
	c->service_points[1].market = xstrdup("nakuru");
	engine_fixture_plugin(c, "echo", "echo.so");
	engine_fixture_plugin(c, "market", MARKET_SO);
	c->question_lifetime = 900;
	if (v == V_LIMITS) {
		c->flood_rate = 10;
		c->flood_burst = 3;
		c->agent_flood_rate = 10;
		c->agent_flood_burst = 5;
		c->repeat_window = 30;
	}
	return c;
}

static void
exec(const char *sql)
{
	cr_assert_eq(store_exec(store, sql), 0, "%s", sql);
}

static void
setup_with(enum variant v)
{
	const char	*pg = NULL;

#ifdef HAVE_POSTGRESQL
	if (v == V_PG)
		pg = pg_fixture_create("agents");
#endif
	engine_fixture_open("agents", conf_make(v), pg);
	engine_fixture_parts(&conf, &store, &outbox, &router, &inbox, &langs);
	/* two agents of two points, registered */
	exec("INSERT INTO agents(msisdn, point, added) VALUES"
	    " ('" AGENT "', 'kiambogo', 1), ('" AGENT2 "', 'other', 1);"
	    "INSERT INTO users(msisdn, name, market, language, role, created,"
	    " updated) VALUES ('" AGENT "', 'Jane Agent', 'nakuru', 'en',"
	    " 'agent', 1, 1), ('" AGENT2 "', 'Otis Agent', 'nakuru', 'en',"
	    " 'agent', 1, 1), ('" BUYER "', 'Ben Buyer', 'nakuru', 'en',"
	    " 'user', 1, 1)");
}

static void
teardown(void)
{
#ifdef HAVE_POSTGRESQL
	int	 pg = strncmp(engine_fixture.path, "/tmp/", 5) != 0;
#endif

	engine_fixture_close();
#ifdef HAVE_POSTGRESQL
	if (pg)
		pg_fixture_drop();
#endif
}

static void setup_plain(void) { setup_with(V_PLAIN); }
static void setup_limits(void) { setup_with(V_LIMITS); }

TestSuite(agents, .init = setup_plain, .fini = teardown);
TestSuite(agent_limits, .init = setup_limits, .fini = teardown);
#ifdef HAVE_POSTGRESQL
static void setup_pg(void) { setup_with(V_PG); }
TestSuite(agents_pg, .init = setup_pg, .fini = teardown);
#endif

/* --- sending and looking ----------------------------------------------------- */

static const char *
say_at(const char *sender, const char *text, long long t)
{
	return engine_fixture_send(sender, text, t, 1);
}

static const char *
say(const char *sender, const char *text)
{
	return say_at(sender, text, T0 + nextid);
}

/* The text of the last notice of the last MO to receiver, "(none)". */
static const char *
notice_to(const char *receiver)
{
	static char	 sql[256];

	snprintf(sql, sizeof(sql), "SELECT text FROM outbox WHERE receiver ="
	    " ?1 AND kind = 'notice' AND inbox_id = (SELECT id FROM inbox"
	    " WHERE kannel_id = '%s') ORDER BY id DESC", told.id);
	return q_text(sql, receiver);
}

/* "For <name> (<code>): " in English. */
static const char *
prefix(const char *name, const char *code)
{
	static char	 buf[256];
	const char	*full = R("en", "for-member", "name", name, "code", code,
			    "text", "", NULL);

	snprintf(buf, sizeof(buf), "%s", full);
	return buf;
}

/* A notice's "For <name>, start with FOR <code>: " in English. */
static const char *
nprefix(const char *name, const char *code)
{
	static char	 buf[256];
	const char	*full = R("en", "for-member-notice", "name", name,
			    "code", code, "text", "", NULL);

	snprintf(buf, sizeof(buf), "%s", full);
	return buf;
}

static int
starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Mary, a member without a phone: M1. */
static void
enrol_mary(void)
{
	cr_assert_str_eq(say(AGENT, "MEMBER Mary Wanjiku"), R("en",
	    "member-ok", "code", "M1", "name", "Mary Wanjiku", "point", POINT,
	    NULL));
}

/* Grace, a member with a phone who agreed: M<n>. */
static void
enrol_grace(const char *code)
{
	cr_assert_str_eq(say(AGENT, "MEMBER Grace Akinyi 0733000222"),
	    R("en", "member-asked", "name", "Grace Akinyi", "phone", GRACE,
	    "code", code, NULL));
	cr_assert_str_eq(say(GRACE, "YES"), R("en", "member-joined", "code",
	    code, "point", POINT, NULL));
}

/* --- enrolment ----------------------------------------------------------------- */

Test(agents, phoneless_member_is_enrolled_at_once)
{
	enrol_mary();
	cr_assert_str_eq(q_text("SELECT state || ' ' || identity || ' ' ||"
	    " point || ' ' || agent FROM members WHERE code = ?1", "M1"),
	    "active m:M1 kiambogo " AGENT);
	/* an ordinary user row: her name, the point's market */
	cr_assert_str_eq(q_text("SELECT name || ' ' || market FROM users"
	    " WHERE msisdn = ?1", "m:M1"), "Mary Wanjiku nakuru");
	/* codes never collide with references */
	cr_assert_str_eq(say(AGENT, "MEMBER John Kamau"), R("en", "member-ok",
	    "code", "M2", "name", "John Kamau", "point", POINT, NULL));
}

Test(agents, member_refused_to_non_agents_and_bad_names)
{
	cr_assert_str_eq(say(BUYER, "MEMBER Mary Wanjiku"),
	    R("en", "agent-only", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBER"), R("en", "usage-MEMBER", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBER 0733000222"),
	    R("en", "usage-MEMBER", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBER M5"), R("en", "usage-MEMBER",
	    NULL));
	cr_assert_eq(q_int("SELECT count(*) FROM members", NULL), 0);
}

Test(agents, member_with_a_phone_is_active_on_her_yes)
{
	cr_assert_str_eq(say(AGENT, "MEMBER Grace Akinyi 0733000222"),
	    R("en", "member-asked", "name", "Grace Akinyi", "phone", GRACE,
	    "code", "M1", NULL));
	cr_assert_str_eq(notice_to(GRACE), R("en", "member-ask", "name",
	    "Jane Agent", "point", POINT, "code", "M1", NULL));
	cr_assert_str_eq(q_text("SELECT state FROM members WHERE code = ?1",
	    "M1"), "pending");
	/* not yet: FOR is refused, naming what to do */
	cr_assert_str_eq(say(AGENT, "FOR M1 ECHO hi"), R("en",
	    "member-pending", "name", "Grace Akinyi", "code", "M1", NULL));
	cr_assert_str_eq(say(GRACE, "YES"), R("en", "member-joined", "code",
	    "M1", "point", POINT, NULL));
	cr_assert_str_eq(notice_to(AGENT), R("en", "member-active", "name",
	    "Grace Akinyi", "code", "M1", NULL));
	cr_assert_str_eq(q_text("SELECT state || ' ' || identity FROM members"
	    " WHERE code = ?1", "M1"), "active " GRACE);
	cr_assert_str_eq(q_text("SELECT name FROM users WHERE msisdn = ?1",
	    GRACE), "Grace Akinyi");
	/* asked again: she is a member already */
	cr_assert_str_eq(say(AGENT, "MEMBER Grace Akinyi 0733000222"),
	    R("en", "member-exists", "phone", GRACE, "code", "M1", NULL));
}

Test(agents, a_registered_phone_keeps_its_name_and_history)
{
	exec("INSERT INTO users(msisdn, name, market, language, role, trades,"
	    " created, updated) VALUES ('" GRACE "', 'Grace Otieno', 'eldoret',"
	    " 'sw', 'user', 4, 1, 1)");
	say(AGENT, "MEMBER Grace Akinyi 0733000222");
	/* asked in her own language */
	cr_assert_str_eq(notice_to(GRACE), R("sw", "member-ask", "name",
	    "Jane Agent", "point", "Kituo cha Kiambogo", "code", "M1", NULL));
	say(GRACE, "NDIO");
	cr_assert_str_eq(q_text("SELECT name || ' ' || market || ' ' || trades"
	    " FROM users WHERE msisdn = ?1", GRACE), "Grace Otieno eldoret 4");
	cr_assert_str_eq(q_text("SELECT state FROM members WHERE code = ?1",
	    "M1"), "active");
}

Test(agents, no_and_an_expired_question_leave_her_pending)
{
	say(AGENT, "MEMBER Grace Akinyi 0733000222");
	cr_assert_str_eq(say(GRACE, "NO"), R("en", "question-no", NULL));
	cr_assert_str_eq(q_text("SELECT state FROM members WHERE code = ?1",
	    "M1"), "pending");
	/* her agent is told, with what to send next */
	cr_assert_str_eq(notice_to(AGENT), R("en", "member-declined", "name",
	    "Grace Akinyi", "phone", GRACE, "code", "M1", NULL));
	cr_assert_eq(q_int("SELECT count(*) FROM outbox WHERE kind ="
	    " 'notice' AND receiver = ?1", AGENT), 1);
	/* asked again: the same code */
	cr_assert_str_eq(say(AGENT, "MEMBER Grace Akinyi 0733000222"),
	    R("en", "member-asked", "name", "Grace Akinyi", "phone", GRACE,
	    "code", "M1", NULL));
	cr_assert_str_eq(say_at(GRACE, "YES", T0 + 5000),
	    R("en", "question-expired", NULL));
	cr_assert_str_eq(q_text("SELECT state FROM members WHERE code = ?1",
	    "M1"), "pending");
	cr_assert_eq(q_int("SELECT count(*) FROM members", NULL), 1);
}

/*
 * Two agents ask the same phone: it answers the last question, and the
 * other agent's request ends rather than waiting in its list for ever.
 */
Test(agents, a_phone_asked_by_two_agents_joins_one)
{
	say(AGENT, "MEMBER Grace Akinyi 0733000222");
	say(AGENT2, "MEMBER Grace Akinyi 0733000222");
	cr_assert_str_eq(say(GRACE, "YES"), R("en", "member-joined", "code",
	    "M2", "point", "Other point", NULL));
	cr_assert_str_eq(q_text("SELECT state FROM members WHERE code = ?1",
	    "M1"), "off");
	cr_assert_str_eq(say(AGENT, "MEMBERS"), R("en", "members-none", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBER Grace Akinyi 0733000222"),
	    R("en", "member-exists", "phone", GRACE, "code", "M2", NULL));
}

Test(agents, help_names_the_agents_commands)
{
	cr_assert_str_eq(say(BUYER, "HELP FOR"), R("en", "help-FOR", NULL));
	cr_assert_str_eq(say(BUYER, "HELP MEMBER"), R("en", "help-MEMBER",
	    NULL));
	cr_assert_str_eq(say(BUYER, "MSAADA WANACHAMA"), R("sw",
	    "help-MEMBERS", NULL));
}

/* --- MEMBERS and OFF ----------------------------------------------------------- */

Test(agents, members_are_listed_a_page_an_sms)
{
	char		 text[128], seen[64];
	const char	*reply, *p;
	int		 i, page, found;

	cr_assert_str_eq(say(AGENT, "MEMBERS"), R("en", "members-none", NULL));
	for (i = 1; i <= 14; i++) {
		snprintf(text, sizeof(text), "MEMBER Wanjiku Muthoni Kamau%d",
		    i);
		say(AGENT, text);
	}
	say(AGENT2, "MEMBER Not Yours");
	memset(seen, 0, sizeof(seen));
	for (page = 1; page < 10; page++) {
		snprintf(text, sizeof(text), "MEMBERS %d", page);
		reply = say(AGENT, text);
		cr_assert_eq(gsm_sent_parts(reply, strlen(reply)), 1, "%s",
		    reply);
		for (i = 1, found = 0; i <= 15; i++) {
			char	 entry[64];

			snprintf(entry, sizeof(entry), "M%d Wanjiku Muthoni "
			    "Kamau%d", i, i);
			if ((p = strstr(reply, entry)) != NULL &&
			    !(p[strlen(entry)] >= '0' &&
			    p[strlen(entry)] <= '9')) {
				cr_assert_eq(seen[i], 0, "M%d twice", i);
				seen[i] = 1;
				found++;
			}
		}
		cr_assert(found > 0, "page %d: %s", page, reply);
		if (strstr(reply, "More:") == NULL)
			break;
	}
	cr_assert(page > 1, "fourteen members fit one SMS?");
	for (i = 1; i <= 14; i++)
		cr_assert_eq(seen[i], 1, "M%d never listed", i);
	cr_assert_eq(seen[15], 0, "another agent's member listed");
	snprintf(text, sizeof(text), "MEMBERS %d", page + 1);
	cr_assert_str_eq(say(AGENT, text), R("en", "members-end", NULL));
}

Test(agents, off_ends_a_membership)
{
	enrol_mary();
	cr_assert_str_eq(say(AGENT2, "MEMBER M1 OFF"), R("en",
	    "member-not-yours", "code", "M1", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBER m1 off"), R("en", "member-off",
	    "name", "Mary Wanjiku", "code", "M1", NULL));
	cr_assert_str_eq(q_text("SELECT state FROM members WHERE code = ?1",
	    "M1"), "off");
	cr_assert_str_eq(say(AGENT, "FOR M1 ECHO hi"), R("en",
	    "member-is-off", "name", "Mary Wanjiku", "code", "M1", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBERS"), R("en", "members-none", NULL));
}

/* --- FOR ------------------------------------------------------------------------- */

Test(agents, for_runs_as_the_member_and_replies_to_the_agent)
{
	enrol_mary();
	cr_assert_str_eq(say(AGENT, "FOR M1 ECHO hello"), R("en", "for-member",
	    "name", "Mary Wanjiku", "code", "M1", "text", R("en", "echo",
	    "text", "hello", NULL), NULL));
	cr_assert_str_eq(q_text("SELECT agent || ' ' || member || ' ' ||"
	    " command FROM agent_actions", NULL), AGENT " M1 ECHO hello");
	/* ME is hers */
	cr_assert(starts(say(AGENT, "for m1 me"), prefix("Mary Wanjiku", "M1")),
	    "%s", told.reply);
	cr_assert(strstr(told.reply, ": Mary Wanjiku,") != NULL, "%s",
	    told.reply);
	/* her offer is hers */
	cr_assert(starts(say(AGENT, "FOR M1 SELL maize 10 bags 3000"),
	    prefix("Mary Wanjiku", "M1")), "%s", told.reply);
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts WHERE msisdn ="
	    " ?1", "m:M1"), 1);
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts WHERE msisdn ="
	    " ?1", AGENT), 0);
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions", NULL), 3);
	/* the agent's own language, with her name */
	exec("UPDATE users SET language = 'sw' WHERE msisdn = '" AGENT "'");
	cr_assert_str_eq(say(AGENT, "NIABA M1 MWANGWI habari"), R("sw",
	    "for-member", "name", "Mary Wanjiku", "code", "M1", "text",
	    R("sw", "echo", "text", "habari", NULL), NULL));
}

Test(agents, for_is_refused_with_the_next_step)
{
	enrol_mary();
	say(AGENT, "MEMBER Grace Akinyi 0733000222");	/* M2, pending */
	cr_assert_str_eq(say(BUYER, "FOR M1 ECHO hi"),
	    R("en", "agent-only", NULL));
	cr_assert_str_eq(say(AGENT2, "FOR M1 ECHO hi"),
	    R("en", "member-not-yours", "code", "M1", NULL));
	cr_assert_str_eq(say(AGENT, "FOR M9 ECHO hi"),
	    R("en", "member-not-yours", "code", "M9", NULL));
	cr_assert_str_eq(say(AGENT, "FOR M2 ECHO hi"), R("en",
	    "member-pending", "name", "Grace Akinyi", "code", "M2", NULL));
	cr_assert_str_eq(say(AGENT, "FOR M1"), R("en", "usage-FOR", NULL));
	cr_assert_str_eq(say(AGENT, "FOR 41 ECHO hi"),
	    R("en", "usage-FOR", NULL));
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions", NULL), 0);
}

Test(agents, a_persons_own_commands_are_refused_under_for)
{
	static const char *own[][2] = {
		{ "FOR M1 REG Mary Nakuru", "REG" },
		{ "FOR M1 LANG sw", "LANG" },
		{ "FOR M1 STOP", "STOP" },
		{ "FOR M1 START", "START" },
		{ "FOR M1 MEMBER Ann", "MEMBER" },
		{ "FOR M1 MEMBERS", "MEMBERS" },
		{ "FOR M1 FOR M1 ECHO x", "FOR" },
		{ "FOR M1 YES", "YES" },
		{ "FOR M1 NO", "NO" },
	};
	size_t	 i;

	enrol_mary();
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		cr_assert_str_eq(say(AGENT, own[i][0]), R("en", "for-refused",
		    "command", own[i][1], "code", "M1", NULL), "%s",
		    own[i][0]);
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions", NULL), 0);
	cr_assert_str_eq(q_text("SELECT opt_out || language FROM users WHERE"
	    " msisdn = ?1", "m:M1"), "0en");
}

/*
 * A question a command asks of the member acted for goes to the agent;
 * the agent's plain YES runs it for her.
 */
Test(agents, a_question_under_for_is_the_agents_to_answer)
{
	int	 i;

	enrol_mary();
	for (i = 0; i < 5; i++)
		say(BUYER, i % 2 ? "SELL maize 10 bags 3000" :
		    "SELL maize 11 bags 3000");
	cr_assert(starts(say(AGENT, "FOR M1 SELL maize 10 bags 90000"),
	    prefix("Mary Wanjiku", "M1")), "%s", told.reply);
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts WHERE msisdn ="
	    " ?1", "m:M1"), 0, "posted without the question");
	cr_assert_str_eq(q_text("SELECT command FROM questions WHERE msisdn ="
	    " ?1", AGENT), "FOR M1 SELL maize 10 bag 90000 nakuru");
	cr_assert(starts(say(AGENT, "YES"), prefix("Mary Wanjiku", "M1")),
	    "%s", told.reply);
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts WHERE msisdn ="
	    " ?1", "m:M1"), 1);
}

/*
 * The YES that runs a question of FOR is written down as the agent's
 * answer ("YES SELL ..."), not as a second SELL: marketctl agents counts
 * the rows whose command begins with SELL, WANT or BUY as posts and orders.
 */
Test(agents, a_question_under_for_is_one_action_of_its_command)
{
	int	 i;

	enrol_mary();
	for (i = 0; i < 5; i++)
		say(BUYER, "SELL maize 10 bags 3000");
	say(AGENT, "FOR M1 SELL maize 10 bags 90000");
	say(AGENT, "YES");
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts WHERE msisdn ="
	    " ?1", "m:M1"), 1);
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions WHERE"
	    " command LIKE 'SELL %'", NULL), 1);
	cr_assert_str_eq(q_text("SELECT command FROM agent_actions ORDER BY"
	    " id DESC", NULL), "YES SELL maize 10 bag 90000 nakuru");
	/* a keyword of any language is written as the command's id */
	say(AGENT, "FOR M1 uza maize 2 bags 3000");
	say(AGENT, "FOR M1 \xe5\x8d\x96 maize 3 bags 3000");
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions WHERE"
	    " command LIKE 'SELL %'", NULL), 3);
}

/* A SQL function true the first time it is called only. */
static int	 taken_calls;

static void
taken_once(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_int(c, taken_calls++ == 0);
}

/*
 * Two instances on a shared store may both read the same MAX(id) for a
 * new member: the one that inserts second runs its message again and
 * gets the next code, the agent never sees a failure.  The other
 * instance's row is made here by a trigger, once, in the same unit.
 */
Test(agents, a_member_code_taken_meanwhile_runs_the_message_again)
{
	cr_assert_eq(sqlite3_create_function(store_db(store), "taken_once",
	    0, SQLITE_UTF8, NULL, taken_once, NULL, NULL), SQLITE_OK);
	exec("CREATE TRIGGER other_instance BEFORE INSERT ON members"
	    " WHEN taken_once() BEGIN INSERT INTO members(id, code, point,"
	    " agent, identity, name, state, created) VALUES (NEW.id, NEW.code,"
	    " 'other', '" AGENT2 "', NEW.identity, 'Olga', 'active', 1); END");
	enrol_mary();
	cr_assert_eq(taken_calls, 2, "ran %d times", taken_calls);
	cr_assert_eq(q_int("SELECT count(*) FROM members", NULL), 1);
}

/* --- notices, names, contact, commission ------------------------------------------ */

Test(agents, notices_to_a_member_without_a_phone_go_to_her_agent)
{
	long long	 ref;
	char		 text[64];
	const char	*n;

	enrol_mary();
	say(AGENT, "FOR M1 SELL maize 10 bags 3000");
	ref = q_int("SELECT ref FROM market_posts WHERE msisdn = ?1", "m:M1");
	snprintf(text, sizeof(text), "BUY %lld 2", ref);
	say(BUYER, text);
	n = notice_to(AGENT);
	/* naming the FOR the agent sends before the notice's command */
	cr_assert(starts(n, nprefix("Mary Wanjiku", "M1")), "%s", n);
	cr_assert(strstr(n, "start with FOR M1: ") != NULL, "%s", n);
	cr_assert_eq(q_int("SELECT count(*) FROM outbox WHERE receiver LIKE"
	    " 'm:%'", NULL), 0);
}

Test(agents, notices_to_a_member_with_a_phone_go_to_both)
{
	long long	 ref;
	char		 text[64];
	const char	*mine, *agents;

	enrol_grace("M1");
	exec("UPDATE users SET language = 'sw' WHERE msisdn = '" GRACE "'");
	say(AGENT, "FOR M1 SELL maize 10 bags 3000");
	ref = q_int("SELECT ref FROM market_posts WHERE msisdn = ?1", GRACE);
	cr_assert(ref > 0);
	snprintf(text, sizeof(text), "BUY %lld 2", ref);
	say(BUYER, text);
	mine = notice_to(GRACE);
	agents = notice_to(AGENT);
	cr_assert_str_neq(mine, "(none)");
	cr_assert(!starts(mine, "For "), "%s", mine);
	cr_assert(starts(agents, nprefix("Grace Akinyi", "M1")), "%s", agents);
	/* each in its language: hers Swahili, the agent's English */
	cr_assert_str_neq(mine, agents + strlen(nprefix("Grace Akinyi", "M1")));
}

Test(agents, names_and_contact_and_trade_done_through_the_host)
{
	struct core	 core;
	struct mb_ctx	 ctx;

	enrol_mary();
	enrol_grace("M2");
	memset(&core, 0, sizeof(core));
	core.conf = conf;
	core.store = store;
	core.langs = (struct lang_set *)langs;	/* only read */
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	ctx.lang = "en";
	cr_assert_str_eq(host_table.user_name(&ctx, "m:M1"),
	    "Mary Wanjiku via " POINT);
	cr_assert_str_eq(host_table.user_name(&ctx, BUYER), "Ben Buyer");
	cr_assert_str_eq(host_table.contact(&ctx, "m:M1"), AGENT);
	cr_assert_str_eq(host_table.contact(&ctx, GRACE), AGENT);
	cr_assert_str_eq(host_table.contact(&ctx, BUYER), BUYER);
	/* when each registered (reputation's "member since"); 0: no user */
	cr_assert_gt(host_table.user_since(&ctx, BUYER), 0);
	cr_assert_eq(host_table.user_since(&ctx, BUYER), q_int("SELECT created"
	    " FROM users WHERE msisdn = ?1", BUYER));
	cr_assert_eq(host_table.user_since(&ctx, "+254799999999"), 0);
	exec("BEGIN");
	/* a member sells to a non-member: the seller's side only */
	cr_assert_eq(host_table.trade_done(&ctx, 41, "m:M1", BUYER, 19999), 0);
	/* members on both sides: both rows, each at its side's rate */
	cr_assert_eq(host_table.trade_done(&ctx, 42, GRACE, "m:M1", 300000),
	    0);
	cr_assert_eq(host_table.trade_done(&ctx, 43, BUYER, AGENT, 5000), 0);
	exec("COMMIT");
	host_ctx_clear(&ctx);
	cr_assert_eq(q_int("SELECT count(*) FROM commissions", NULL), 3);
	cr_assert_str_eq(q_text("SELECT member || side || rate_bp || ' ' ||"
	    " amount FROM commissions WHERE ref = 41", NULL), "M1seller250 500");
	cr_assert_str_eq(q_text("SELECT group_concat(member || side ||"
	    " amount, ',') FROM (SELECT * FROM commissions WHERE ref = 42"
	    " ORDER BY id)", NULL), "M2seller7500,M1buyer2250");
}

Test(agents, commission_is_integer_and_rounds_half_up)
{
	cr_assert_eq(host_commission(300000, 250), 7500);
	cr_assert_eq(host_commission(19999, 250), 500);	/* 499.975 */
	cr_assert_eq(host_commission(1, 5000), 1);		/* 0.5 */
	cr_assert_eq(host_commission(1, 4999), 0);
	cr_assert_eq(host_commission(200, 25), 1);		/* 0.5 */
	cr_assert_eq(host_commission(0, 250), 0);
	cr_assert_eq(host_commission(5000, 0), 0);
	/* no overflow near the top of a long long */
	cr_assert_eq(host_commission(9000000000000000000LL, 10000),
	    9000000000000000000LL);
	cr_assert_eq(host_commission(9000000000000000000LL, 250),
	    225000000000000000LL);
}

/*
 * A NO to any other question is no membership's: nobody else is told.
 */
Test(agents, a_no_to_another_question_tells_no_agent)
{
	int	 i;

	for (i = 0; i < 5; i++)
		say(BUYER, "SELL maize 10 bags 3000");
	say(GRACE, "REG Grace Akinyi Nakuru");
	say(GRACE, "SELL maize 10 bags 90000");		/* asks her */
	cr_assert_str_eq(say(GRACE, "NO"), R("en", "question-no", NULL));
	cr_assert_eq(q_int("SELECT count(*) FROM outbox WHERE kind ="
	    " 'notice'", NULL), 0);
}

/* A phone typed in groups, as people write numbers. */
Test(agents, a_phone_typed_with_spaces_is_read_whole)
{
	cr_assert_str_eq(say(AGENT, "MEMBER Grace Akinyi 0733 000 222"),
	    R("en", "member-asked", "name", "Grace Akinyi", "phone", GRACE,
	    "code", "M1", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBER Rose Njeri +254 733 000 444"),
	    R("en", "member-asked", "name", "Rose Njeri", "phone",
	    "+254733000444", "code", "M2", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBER Ann Chebet 0733-000 555"),
	    R("en", "member-asked", "name", "Ann Chebet", "phone",
	    "+254733000555", "code", "M3", NULL));
	/* a number word of the name stays in it when the phone is whole */
	cr_assert_str_eq(say(AGENT, "MEMBER Wanjiku 2 0733000666"),
	    R("en", "member-asked", "name", "Wanjiku 2", "phone",
	    "+254733000666", "code", "M4", NULL));
	cr_assert_str_eq(q_text("SELECT group_concat(name || '=' || phone,"
	    " ',') FROM (SELECT * FROM members ORDER BY id)", NULL),
	    "Grace Akinyi=" GRACE ",Rose Njeri=+254733000444,"
	    "Ann Chebet=+254733000555,Wanjiku 2=+254733000666");
	/* the name is never taken for a phone */
	cr_assert_str_eq(say(AGENT, "MEMBER 0733 000 777"),
	    R("en", "usage-MEMBER", NULL));
	cr_assert_eq(q_int("SELECT count(*) FROM members", NULL), 4);
}

/*
 * "Grace Akinyi via Kiambogo point" is said in the reader's language: a
 * member who reads English accepts the order of a buyer who reads
 * Swahili, who is told whom he deals with in Swahili.
 */
Test(agents, a_member_label_is_in_the_readers_language)
{
	long long	 ref, order;
	char		 text[64];
	const char	*n;

	enrol_grace("M1");
	exec("UPDATE users SET language = 'sw' WHERE msisdn = '" BUYER "'");
	say(GRACE, "SELL maize 10 bags 3000");
	ref = q_int("SELECT ref FROM market_posts WHERE msisdn = ?1", GRACE);
	snprintf(text, sizeof(text), "NUNUA %lld 2", ref);
	say(BUYER, text);
	order = q_int("SELECT ref FROM market_orders WHERE buyer = ?1", BUYER);
	cr_assert(order > 0);
	snprintf(text, sizeof(text), "ACCEPT %lld", order);
	say(GRACE, text);
	n = notice_to(BUYER);
	cr_assert(strstr(n, R("sw", "member-label", "name", "Grace Akinyi",
	    "point", "Kituo cha Kiambogo", NULL)) != NULL, "%s", n);
	cr_assert(strstr(n, " via ") == NULL, "%s", n);
}

/*
 * An agent the admin removed hears no more of its members: the member
 * with a phone hears her own notices and is reached on her phone; one
 * without a phone has nobody (logged).  FOR is refused to it.
 */
Test(agents, a_removed_agent_is_told_nothing_of_its_members)
{
	struct core	 core;
	struct mb_ctx	 ctx;
	long long	 ref;
	char		 text[64];

	enrol_mary();
	enrol_grace("M2");
	say(GRACE, "SELL maize 10 bags 3000");
	say(AGENT, "FOR M1 SELL maize 5 bags 3000");
	exec("UPDATE agents SET removed = 2 WHERE msisdn = '" AGENT "'");
	ref = q_int("SELECT ref FROM market_posts WHERE msisdn = ?1", GRACE);
	snprintf(text, sizeof(text), "BUY %lld 2", ref);
	say(BUYER, text);
	cr_assert_str_neq(notice_to(GRACE), "(none)");
	cr_assert_str_eq(notice_to(AGENT), "(none)");
	ref = q_int("SELECT ref FROM market_posts WHERE msisdn = ?1", "m:M1");
	snprintf(text, sizeof(text), "BUY %lld 2", ref);
	say(BUYER, text);
	cr_assert_str_eq(notice_to(AGENT), "(none)");
	cr_assert_str_eq(say(AGENT, "FOR M1 ECHO hi"), R("en", "agent-only",
	    NULL));
	memset(&core, 0, sizeof(core));
	core.conf = conf;
	core.store = store;
	core.langs = (struct lang_set *)langs;	/* only read */
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	ctx.lang = "en";
	cr_assert_str_eq(host_table.contact(&ctx, GRACE), GRACE);
	host_ctx_clear(&ctx);
}

/*
 * agent_actions holds what ran: a usage reply, or a command the member's
 * registration or roles refuse, is not an action (nor a post in
 * marketctl agents).
 */
Test(agents, only_what_ran_is_an_action)
{
	enrol_mary();
	cr_assert_str_eq(say(AGENT, "FOR M1 SELL"), R("en", "for-member",
	    "name", "Mary Wanjiku", "code", "M1", "text", R("en",
	    "usage-SELL", NULL), NULL));
	say(AGENT, "FOR M1 ACCEPT");
	say(AGENT, "FOR M1 SELL maize");
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions", NULL), 0);
	say(AGENT, "FOR M1 SELL maize 10 bags 3000");
	cr_assert_str_eq(q_text("SELECT group_concat(command, ',') FROM"
	    " agent_actions", NULL), "SELL maize 10 bags 3000");
}

/* --- limits per member ------------------------------------------------------------ */

Test(agent_limits, the_flood_bucket_is_per_member_with_the_agent_values)
{
	char	 text[64];
	int	 i;

	enrol_mary();		/* one token of the agent's own bucket */
	enrol_grace("M2");	/* another */
	/* agent-flood-burst 5 for M1, though a phone's burst is 3 */
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "FOR M1 ECHO a%d", i);
		cr_assert(starts(say_at(AGENT, text, T0), prefix(
		    "Mary Wanjiku", "M1")), "%d: %s", i, told.reply);
	}
	cr_assert_str_eq(say_at(AGENT, "FOR M1 ECHO over", T0),
	    R("en", "slow-down", NULL));
	/* M2's bucket is its own, and the agent's own one too */
	cr_assert(starts(say_at(AGENT, "FOR M2 ECHO b", T0), prefix(
	    "Grace Akinyi", "M2")), "%s", told.reply);
	cr_assert_str_eq(say_at(AGENT, "ECHO mine", T0), R("en", "echo",
	    "text", "mine", NULL));
}

/*
 * Chinese typed without spaces ("代办M1回声 ...", "FOR M1回声 ...") is the
 * member's FOR as the spaced text is: it runs, and in her bucket.
 */
Test(agent_limits, unspaced_chinese_for_is_charged_to_the_member)
{
	char		 text[64];
	const char	*r;
	int		 i;

	enrol_mary();		/* one token of the agent's own bucket */
	enrol_grace("M2");	/* another */
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), i % 2 ? "FOR M1\xe5\x9b\x9e"
		    "\xe5\xa3\xb0 a%d" : "\xe4\xbb\xa3\xe5\x8a\x9e"
		    "M1\xe5\x9b\x9e\xe5\xa3\xb0 a%d", i);
		r = say_at(AGENT, text, T0);
		cr_assert(strstr(r, "Mary Wanjiku") != NULL, "%d: %s", i, r);
	}
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions WHERE member ="
	    " 'M1' AND command LIKE 'ECHO a%'", NULL), 5);
	/* M1's bucket is empty, the agent's own has its last token */
	r = say_at(AGENT, "\xe4\xbb\xa3\xe5\x8a\x9eM1\xe5\x9b\x9e"
	    "\xe5\xa3\xb0 over", T0);
	cr_assert(strstr(r, "Mary Wanjiku") == NULL, "%s", r);
	cr_assert_str_eq(say_at(AGENT, "ECHO mine", T0), R("en", "echo",
	    "text", "mine", NULL));
}

/*
 * Only the agent's own members have buckets of their own: FOR with
 * another agent's member or a code of nobody is charged to the agent's
 * phone, or any number of codes would be as many fresh buckets.
 */
Test(agent_limits, for_someone_elses_code_is_charged_to_the_agent)
{
	char	 text[64];
	int	 i;

	cr_assert_str_eq(say(AGENT2, "MEMBER Olga Otieno"), R("en",
	    "member-ok", "code", "M1", "name", "Olga Otieno", "point",
	    "Other point", NULL));
	/* a phone's burst of 3: M1 (AGENT2's), M7, M8 (nobody's) */
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "FOR M%d ECHO x", i == 0 ? 1 :
		    6 + i);
		cr_assert_str_eq(say_at(AGENT, text, T0), R("en",
		    "member-not-yours", "code", i == 0 ? "M1" : i == 1 ?
		    "M7" : "M8", NULL), "%d: %s", i, told.reply);
	}
	cr_assert_str_eq(say_at(AGENT, "FOR M9 ECHO x", T0),
	    R("en", "slow-down", NULL));
}

Test(agent_limits, the_repeat_window_is_per_member)
{
	enrol_mary();
	enrol_grace("M2");
	say_at(AGENT, "FOR M1 ECHO same", T0 + 100);
	say_at(AGENT, "FOR M2 ECHO same", T0 + 101);
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions", NULL), 2);
	/* M1's text again within the window: no second effect */
	say_at(AGENT, "FOR M1 ECHO same", T0 + 102);
	cr_assert_str_eq(q_text("SELECT state FROM inbox WHERE kannel_id ="
	    " ?1", told.id), "repeat");
	cr_assert_eq(q_int("SELECT count(*) FROM agent_actions", NULL), 2);
}

/*
 * The YES that answers a question of FOR is that member's: an agent
 * answering the same YES for two members within the window runs both
 * (its own last text was the first YES, the FORs being the members').
 */
Test(agent_limits, a_yes_to_a_question_of_for_is_the_members)
{
	int	 i;

	for (i = 0; i < 5; i++)
		say_at(BUYER, "SELL maize 10 bags 3000", T0 + 60 * i);
	say_at(AGENT, "MEMBER Mary Wanjiku", T0 + 300);
	say_at(AGENT, "MEMBER Grace Akinyi 0733000222", T0 + 310);
	say_at(GRACE, "YES", T0 + 320);
	say_at(AGENT, "FOR M1 SELL maize 10 bags 90000", T0 + 330);
	say_at(AGENT, "YES", T0 + 335);
	say_at(AGENT, "FOR M2 SELL maize 10 bags 90000", T0 + 340);
	cr_assert(starts(say_at(AGENT, "YES", T0 + 345), prefix(
	    "Grace Akinyi", "M2")), "%s", told.reply);
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts WHERE msisdn ="
	    " ?1", "m:M1"), 1);
	cr_assert_eq(q_int("SELECT count(*) FROM market_posts WHERE msisdn ="
	    " ?1", GRACE), 1);
}

/* --- on PostgreSQL ------------------------------------------------------------------ */

#ifdef HAVE_POSTGRESQL
/* The same statements on the other engine: enrol, consent, FOR, OFF, trade. */
Test(agents_pg, members_for_and_commissions_on_postgresql)
{
	struct core	 core;
	struct mb_ctx	 ctx;

	enrol_mary();
	enrol_grace("M2");
	cr_assert(starts(say(AGENT, "FOR M1 SELL maize 10 bags 3000"),
	    prefix("Mary Wanjiku", "M1")), "%s", told.reply);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM market_posts"
	    " WHERE msisdn = 'm:M1'"), 1);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM members WHERE"
	    " state = 'active' AND identity = '" GRACE "'"), 1);
	cr_assert_str_eq(say(AGENT, "MEMBERS"), R("en", "members-page",
	    "list", "M1 Mary Wanjiku, M2 Grace Akinyi", NULL));
	cr_assert_str_eq(say(AGENT, "MEMBER M2 OFF"), R("en", "member-off",
	    "name", "Grace Akinyi", "code", "M2", NULL));
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM agent_actions"),
	    1);
	memset(&core, 0, sizeof(core));
	core.conf = conf;
	core.store = store;
	core.langs = (struct lang_set *)langs;	/* only read */
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	ctx.lang = "en";
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(host_table.trade_done(&ctx, 41, "m:M1", GRACE, 19999), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	host_ctx_clear(&ctx);
	/* Grace is no member any more: the seller's side only */
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM commissions"), 1);
	cr_assert_eq(pg_fixture_query("SELECT amount FROM commissions WHERE"
	    " ref = 41 AND side = 'seller'"), 500);
}
/*
 * Another instance's member takes the id this one read as MAX + 1: made
 * here once by a trigger (a sequence, which no rollback undoes, says
 * when).  The message runs again and the agent gets the next code.
 */
Test(agents_pg, a_member_code_taken_meanwhile_runs_the_message_again)
{
	exec("CREATE SEQUENCE taken_once");
	exec("CREATE FUNCTION other_instance() RETURNS trigger AS $$ BEGIN"
	    " IF pg_trigger_depth() = 1 AND nextval('taken_once') = 1 THEN"
	    " INSERT INTO members(id, code, point, agent, identity, name,"
	    " state, created) VALUES (NEW.id, NEW.code, 'other', '" AGENT2 "',"
	    " NEW.identity, 'Olga', 'active', 1); END IF; RETURN NEW; END"
	    " $$ LANGUAGE plpgsql");
	exec("CREATE TRIGGER other_instance BEFORE INSERT ON members FOR EACH"
	    " ROW EXECUTE FUNCTION other_instance()");
	enrol_mary();
	cr_assert_eq(pg_fixture_query("SELECT last_value FROM taken_once"), 2);
	cr_assert_eq(pg_fixture_query("SELECT count(*) FROM members"), 1);
}
#endif
