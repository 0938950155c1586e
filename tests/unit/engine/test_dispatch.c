/*
 * test_dispatch.c - dispatch.c: what an MO is (SMS or USSD), decided from
 * the MO; an SMS reaches the router, a USSD MO the menu engine and not the
 * router; a duplicate of each gets its answer again; with no menus
 * configured a USSD MO is routed as SMS; the apology of a failed MO.
 * Through a real inbox, router (the echo plugin) and menu engine
 * (tests/data/ussd.conf).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "base/gw.h"
#include "base/conf.h"
#include "engine/dispatch.h"
#include "engine/router.h"
#include "engine/ussd.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "router_fixture.h"
#include "store/store.h"
#include "text/lang.h"

#define T0		1700000000LL
#define FARMER		"+254700000001"
#define MAIN_EN	"Marketbox\n1 Sell\n2 Register\n3 My orders\n4 Language\n" \
		"5 Check prices\n6 See all"

static char			 dir[] = "/tmp/test_dispatch_XXXXXX";
static char			 path[256];
static struct event_base	*base;
static struct conf		*conf;
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct ussd		*ussd;
static struct dispatch		*disp;
static struct inbox		*inbox;

static struct {
	int			 calls;
	enum inbox_status	 status;
	char			 reply[1024];
} told;

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mb.db", dir);
	base = event_base_new();
	conf = conf_load(TEST_SRCDIR "/data/ussd.conf");
	cr_assert_not_null(conf);
	store = store_open(path, base);
	cr_assert_not_null(store);
	outbox = outbox_new(base, store, conf);
	cr_assert_not_null(outbox);
	router = fixture_router_new(conf, store, outbox);
	ussd = ussd_new(NULL, conf, store, outbox, router);
	cr_assert_not_null(ussd);
	disp = dispatch_new(router, ussd, outbox);
	cr_assert_not_null(disp);
	inbox = inbox_new(store, disp);
	cr_assert_not_null(inbox);
}

static void
teardown(void)
{
	char	 cmd[512];

	inbox_free(inbox);
	dispatch_free(disp);
	ussd_free(ussd);
	fixture_router_free(router);
	outbox_free(outbox);
	store_free(store);
	conf_free(conf);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	gwlib_shutdown();
}

TestSuite(dispatch, .init = setup, .fini = teardown);

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

static void
done_cb(void *arg, enum inbox_status status, const char *reply)
{
	(void)arg;
	told.calls++;
	told.status = status;
	snprintf(told.reply, sizeof(told.reply), "%s", reply ? reply : "(null)");
}

/* mo through in, committed; what the caller was told. */
static void
receive(struct inbox *in, const struct mo *mo)
{
	memset(&told, 0, sizeof(told));
	cr_assert_eq(inbox_receive(in, mo, done_cb, NULL), 0);
	cr_assert_eq(store_commit(store), 0);
	cr_assert_eq(told.calls, 1);
}

/* An SMS from FARMER, answered inline (as POST /sms asks). */
static void
sms(struct mo *mo, const char *id, const char *text)
{
	memset(mo, 0, sizeof(*mo));
	mo->id = id;
	mo->channel = "http";
	mo->sender = FARMER;
	mo->receiver = "777";
	mo->text = text;
	mo->time = T0;
	mo->reply_inline = 1;
}

/* The aggregators' USSD callback for session sid, inputs text. */
static void
ussd_http(struct mo *mo, const char *id, const char *sid_meta,
    const char *text)
{
	memset(mo, 0, sizeof(*mo));
	mo->id = id;
	mo->channel = "ussd";
	mo->sender = FARMER;
	mo->receiver = "*384#";
	mo->text = text;
	mo->meta_data = sid_meta;
	mo->time = T0;
	mo->reply_inline = 1;
}

static unsigned long long
routed(void)
{
	struct router_stats	 rs;

	router_stats(router, &rs);
	return rs.handled;
}

static unsigned long long
screens(void)
{
	struct ussd_stats	 us;

	ussd_stats(ussd, &us);
	return us.screens;
}

Test(dispatch, decides_sms_or_ussd_from_the_mo)
{
	struct dispatch	*plain;
	struct mo	 mo;

	sms(&mo, "k1", "echo hello");
	cr_assert_eq(dispatch_kind(disp, &mo), DISPATCH_SMS);
	/* SMPP through bearerbox: ussd_service_op in the meta_data */
	mo.channel = "box";
	mo.meta_data = "?smpp?ussd_service_op=%01&its_session_info=%07%00&";
	cr_assert_eq(dispatch_kind(disp, &mo), DISPATCH_USSD);
	mo.meta_data = "?smpp?source_port=3&";
	cr_assert_eq(dispatch_kind(disp, &mo), DISPATCH_SMS);
	ussd_http(&mo, "k2", "?http?sessionId=k&", "");
	cr_assert_eq(dispatch_kind(disp, &mo), DISPATCH_USSD);
	/* no menus: everything is an SMS */
	cr_assert_not_null(plain = dispatch_new(router, NULL, outbox));
	cr_assert_eq(dispatch_kind(plain, &mo), DISPATCH_SMS);
	dispatch_free(plain);
}

Test(dispatch, an_sms_reaches_the_router)
{
	struct mo	 mo;

	sms(&mo, "s1", "echo hello");
	receive(inbox, &mo);
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_str_eq(told.reply, "You said: hello");
	cr_assert_eq(routed(), 1);
	cr_assert_eq(screens(), 0, "the menus saw an SMS");
	cr_assert_eq(count("SELECT count(*) FROM inbox WHERE kannel_id = 's1' "
	    "AND state = 'done'"), 1);
}

Test(dispatch, a_ussd_mo_reaches_the_menus_not_the_router)
{
	struct mo	 mo;

	ussd_http(&mo, "ussd:u1:", "?http?sessionId=u1&", "");
	receive(inbox, &mo);
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_str_eq(told.reply, "CON " MAIN_EN);
	cr_assert_eq(screens(), 1);
	cr_assert_eq(routed(), 0, "the router saw a USSD MO");
	/* over SMPP: the screen goes out through the outbox */
	memset(&mo, 0, sizeof(mo));
	mo.id = "00000000-0000-0000-0000-000000000001";
	mo.channel = "box";
	mo.sender = FARMER;
	mo.receiver = "384";
	mo.text = "*384#";
	mo.smsc_id = "USSD";
	mo.meta_data = "?smpp?ussd_service_op=%01&its_session_info=%07%00&";
	mo.time = T0;
	receive(inbox, &mo);
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_str_eq(told.reply, "(null)");
	cr_assert_eq(screens(), 2);
	cr_assert_eq(routed(), 0, "the router saw a USSD MO");
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE kind = 'ussd'"),
	    1);
	/* an action of the menus runs through the router's commands */
	ussd_http(&mo, "ussd:u1:3", "?http?sessionId=u1&", "3");
	receive(inbox, &mo);
	ussd_http(&mo, "ussd:u1:3*5", "?http?sessionId=u1&", "3*5");
	receive(inbox, &mo);
	cr_assert_str_eq(told.reply, "END You said: item 5");
}

Test(dispatch, a_duplicate_sms_gets_its_stored_reply_again)
{
	struct mo	 mo;
	char		*again;

	sms(&mo, "s2", "echo twice");
	receive(inbox, &mo);
	cr_assert_str_eq(told.reply, "You said: twice");
	receive(inbox, &mo);
	cr_assert_eq(told.status, INBOX_DUPLICATE);
	cr_assert_str_eq(told.reply, "You said: twice");
	cr_assert_eq(routed(), 1, "a duplicate was routed again");
	cr_assert_not_null(again = dispatch_replay(disp, DISPATCH_SMS, &mo));
	cr_assert_str_eq(again, "You said: twice");
	free(again);
	/* a caller that does not answer inline has nothing replayed */
	mo.reply_inline = 0;
	cr_assert_null(dispatch_replay(disp, DISPATCH_SMS, &mo));
	receive(inbox, &mo);
	cr_assert_eq(told.status, INBOX_DUPLICATE);
	cr_assert_str_eq(told.reply, "(null)");
}

Test(dispatch, a_duplicate_ussd_mo_gets_its_last_screen_again)
{
	struct mo	 mo;
	char		*again;

	ussd_http(&mo, "ussd:u2:", "?http?sessionId=u2&", "");
	receive(inbox, &mo);
	ussd_http(&mo, "ussd:u2:1", "?http?sessionId=u2&", "1");
	receive(inbox, &mo);
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert(strncmp(told.reply, "CON ", 4) == 0, "%s", told.reply);
	cr_assert_str_neq(told.reply, "CON " MAIN_EN);
	cr_assert_eq(screens(), 2);
	receive(inbox, &mo);
	cr_assert_eq(told.status, INBOX_DUPLICATE);
	cr_assert_eq(screens(), 2, "a duplicate was shown a new screen");
	cr_assert_eq(routed(), 0);
	cr_assert_not_null(again = dispatch_replay(disp, DISPATCH_USSD, &mo));
	cr_assert_str_eq(again, told.reply);
	free(again);
	cr_assert_eq(count("SELECT count(*) FROM inbox WHERE kannel_id = "
	    "'ussd:u2:1'"), 1);
}

Test(dispatch, without_menus_a_ussd_mo_is_routed_as_sms)
{
	struct dispatch	*plain;
	struct inbox	*in;
	struct mo	 mo;

	cr_assert_not_null(plain = dispatch_new(router, NULL, outbox));
	cr_assert_not_null(in = inbox_new(store, plain));
	ussd_http(&mo, "ussd:u3:echo hi", "?http?sessionId=u3&", "echo hi");
	receive(in, &mo);
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_str_eq(told.reply, "You said: hi");
	cr_assert_eq(routed(), 1);
	cr_assert_eq(screens(), 0, "the menus answered with none configured");
	/* and its duplicate gets the stored reply, as an SMS's */
	receive(in, &mo);
	cr_assert_eq(told.status, INBOX_DUPLICATE);
	cr_assert_str_eq(told.reply, "You said: hi");
	inbox_free(in);
	dispatch_free(plain);
}

Test(dispatch, the_apology_is_in_the_senders_language_and_inline_for_sms)
{
	const char	*sorry;
	struct mo	 mo;
	char		*reply = (char *)"unset";
	long long	 row;

	sms(&mo, "s3", "echo hello");
	receive(inbox, &mo);
	row = count("SELECT id FROM inbox WHERE kannel_id = 's3'");
	cr_assert_gt(row, 0);
	sorry = lang_template(router_langs(router), "en", "error");
	cr_assert_not_null(sorry);
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(dispatch_apology(disp, DISPATCH_SMS, &mo, row, &reply), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_not_null(reply);
	cr_assert_str_eq(reply, sorry);
	free(reply);
	/* a USSD caller gets no inline text from it; the reply is queued */
	reply = (char *)"unset";
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(dispatch_apology(disp, DISPATCH_USSD, &mo, row, &reply),
	    0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_null(reply);
	cr_assert_eq(store_commit(store), 0);
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE inbox_id = "
	    "(SELECT id FROM inbox WHERE kannel_id = 's3')"), 3);
}
