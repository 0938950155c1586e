/*
 * test_shared.c - several marketbox instances on one PostgreSQL database
 * (MB_TEST_PG; a database per test), each played by a store connection
 * of its own with its plugins, router and USSD engine: a timer runs once
 * across them and a claim held by one does not block another, a USSD
 * session goes on at whichever instance gets its next screen, and the
 * repeat window holds per phone across them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "base/gw.h"
#include "base/conf.h"
#include "plugin/core.h"
#include "engine/dispatch.h"
#include "queue/inbox.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "store/store.h"
#include "engine/ussd.h"

#include "pg_fixture.h"

#define T0		1700000000LL
#define FARMER		"+254700000001"
#define MIGRATE		TEST_BUILDDIR "/tests/plugins/.libs/migrate.so"

static const char		*db;
static struct event_base	*base;

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	db = pg_fixture_create("shared");
	cr_assert_not_null(base = event_base_new());
}

static void
teardown(void)
{
	event_base_free(base);
	pg_fixture_drop();
	gwlib_shutdown();
}

TestSuite(shared, .init = setup, .fini = teardown);

/* The first integer of sql on s; -1 when there is no row. */
static long long
one(struct store *s, const char *sql)
{
	struct store_stmt	*st = store_query(s, sql);
	long long		 v = -1;

	cr_assert_not_null(st, "%s", sql);
	if (store_step(st) == STORE_ROW)
		v = store_int(st, 0);
	store_done(st);
	return v;
}

/* The first text of sql on s, "" when there is no row. */
static const char *
text(struct store *s, const char *sql)
{
	static char		 buf[1024];
	struct store_stmt	*st = store_query(s, sql);

	cr_assert_not_null(st, "%s", sql);
	buf[0] = '\0';
	if (store_step(st) == STORE_ROW && store_text(st, 0) != NULL)
		snprintf(buf, sizeof(buf), "%s", store_text(st, 0));
	store_done(st);
	return buf;
}

/* --- timers ---------------------------------------------------------------- */

/* The test plugin "migrate" counts its ticks in the log. */
static int	ticks;
static int	runs_fail;	/* the core runs timers without a context */

static void host_log(struct mb_ctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
host_log(struct mb_ctx *ctx, int level, const char *fmt, ...)
{
	char	 line[256];
	va_list	 ap;

	(void)ctx;
	(void)level;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (strncmp(line, "migrate: tick", 13) == 0)
		ticks++;
}

static const char *
host_conf(struct mb_plugin_ctx *pctx, const char *key)
{
	return plugin_conf_value(pctx, key);
}

static void *
host_state(struct mb_plugin_ctx *pctx)
{
	return plugin_state(pctx);
}

static void
host_set_state(struct mb_plugin_ctx *pctx, void *state)
{
	plugin_set_state(pctx, state);
}

static struct mb_ctx *
host_timer_ctx(struct mb_plugin_ctx *pctx)
{
	return plugin_timer_ctx(pctx);
}

static const struct mb_host test_host = {
	.abi = MB_PLUGIN_ABI,
	.size = sizeof(struct mb_host),
	.log = host_log,
	.conf = host_conf,
	.state = host_state,
	.set_state = host_set_state,
	.timer_ctx = host_timer_ctx,
};

/* The core's side: fn in a unit of work of the instance's store. */
static int
run_timer(void *arg, struct mb_plugin_ctx *pctx,
    int (*fn)(struct mb_plugin_ctx *, const struct mb_host *))
{
	struct store	*s = arg;
	struct mb_ctx	 ctx;
	int		 rc;

	memset(&ctx, 0, sizeof(ctx));
	cr_assert_eq(store_work_begin(s), 0);
	/* without a context the test plugin's tick fails */
	plugin_set_timer_ctx(pctx, runs_fail ? NULL : &ctx);
	rc = fn(pctx, &test_host);
	plugin_set_timer_ctx(pctx, NULL);
	cr_assert_eq(store_work_end(s, rc == MB_OK), 0);
	return rc;
}

struct tinst {
	struct store		*s;
	struct conf		*c;
	struct plugin_set	*set;
	struct plugin_env	 env;
};

static void
tinst_new(struct tinst *t, const char *name)
{
	struct conf_plugin	*p;

	memset(t, 0, sizeof(*t));
	cr_assert_not_null(t->s = store_open(db, NULL));
	cr_assert_not_null(t->c = calloc(1, sizeof(*t->c)));
	cr_assert_not_null(p = calloc(1, sizeof(*p)));
	p->name = strdup("migrate");
	p->module = strdup(MIGRATE);
	t->c->plugins = p;
	t->c->nplugins = 1;
	cr_assert_not_null(t->set = plugin_load(t->c));
	plugin_set_instance(t->set, name);
	t->env.host = &test_host;
	t->env.run_timer = run_timer;
	t->env.arg = t->s;
	cr_assert_eq(plugin_start(t->set, t->s, base, &t->env), 0);
}

static void
tinst_free(struct tinst *t)
{
	plugin_free(t->set);
	store_free(t->s);
	free(t->c->plugins[0].name);
	free(t->c->plugins[0].module);
	free(t->c->plugins);
	free(t->c);
}

static int
tick(struct tinst *t, long long now)
{
	return plugin_run_timer(t->set, "migrate", "tick", now);
}

Test(shared, a_timer_due_on_two_instances_runs_once)
{
	struct tinst	 a, b;

	tinst_new(&a, "a");
	tinst_new(&b, "b");
	ticks = 0;
	cr_assert_eq(tick(&a, T0), 1);
	cr_assert_eq(store_commit(a.s), 0);
	cr_assert_eq(tick(&b, T0), 0, "run again by a second instance");
	cr_assert_eq(store_commit(b.s), 0);
	cr_assert_eq(ticks, 1);
	cr_assert_str_eq(text(b.s, "SELECT owner || ' ' || last_run FROM "
	    "timer_runs WHERE name = 'migrate/tick'"), "a 1700000000");
	/* an interval later, whoever ticks first runs it */
	cr_assert_eq(tick(&b, T0 + 1), 1);
	cr_assert_eq(store_commit(b.s), 0);
	cr_assert_eq(tick(&a, T0 + 1), 0);
	cr_assert_eq(store_commit(a.s), 0);
	cr_assert_eq(ticks, 2);
	/* the clock went back: the run long in the future does not stop it */
	cr_assert_eq(tick(&a, T0 - 3600), 1);
	cr_assert_eq(store_commit(a.s), 0);
	cr_assert_eq(ticks, 3);
	tinst_free(&b);
	tinst_free(&a);
}

/* Group commit keeps a's transaction open: b skips, it does not wait. */
Test(shared, a_claim_held_uncommitted_does_not_block_another_instance,
    .timeout = 30)
{
	struct tinst	 a, b;

	tinst_new(&a, "a");
	tinst_new(&b, "b");
	ticks = 0;
	cr_assert_eq(tick(&a, T0), 1);
	/* a's run not committed yet; b's tick is due by the clock */
	cr_assert_eq(tick(&b, T0 + 5), 0, "b ran a run a holds");
	cr_assert_eq(store_commit(b.s), 0);
	cr_assert_eq(store_commit(a.s), 0);
	cr_assert_eq(ticks, 1);
	cr_assert_eq(tick(&b, T0 + 5), 1);
	cr_assert_eq(store_commit(b.s), 0);
	cr_assert_eq(ticks, 2);
	tinst_free(&b);
	tinst_free(&a);
}

Test(shared, a_failed_run_gives_its_claim_back)
{
	struct tinst	 a, b;

	tinst_new(&a, "a");
	tinst_new(&b, "b");
	runs_fail = 1;
	cr_assert_eq(tick(&a, T0), -1);
	cr_assert_eq(store_commit(a.s), 0);
	runs_fail = 0;
	cr_assert_eq(one(b.s, "SELECT count(*) FROM timer_runs"), 0);
	ticks = 0;
	cr_assert_eq(tick(&b, T0), 1, "the failed run kept its claim");
	cr_assert_eq(store_commit(b.s), 0);
	cr_assert_eq(ticks, 1);
	tinst_free(&b);
	tinst_free(&a);
}

/* --- USSD and the repeat window ------------------------------------------------ */

/* One instance with the real router and USSD engine. */
struct inst {
	struct store		*s;
	struct conf		*c;
	struct outbox		*ob;
	struct plugin_set	*set;
	struct router		*r;
	struct ussd		*u;
};

static void
set_field(char **field, const char *value)
{
	free(*field);
	cr_assert_not_null(*field = strdup(value));
}

static void
inst_new(struct inst *in)
{
	struct lang_set		*langs;
	struct plugin_env	 env;

	memset(in, 0, sizeof(*in));
	cr_assert_not_null(in->c = conf_load(TEST_SRCDIR "/data/ussd.conf"));
	set_field(&in->c->language_dir, TEST_SRCDIR "/../conf/lang");
	set_field(&in->c->plugin_dir, TEST_BUILDDIR "/plugins/echo/.libs");
	set_field(&in->c->default_language, "en");
	in->c->flood_rate = 1000000;
	in->c->flood_burst = 1000000;
	in->c->repeat_window = 30;
	cr_assert_not_null(in->s = store_open(db, NULL));
	cr_assert_not_null(in->ob = outbox_new(base, in->s, in->c));
	cr_assert_not_null(langs = lang_load(in->c->language_dir,
	    in->c->default_language));
	cr_assert_not_null(in->set = plugin_load(in->c));
	cr_assert_not_null(in->r = router_new(in->c, in->s, in->ob, langs,
	    in->set));
	memset(&env, 0, sizeof(env));
	env.host = &host_table;
	env.host_abi1 = &host_table_abi1;
	env.run_timer = router_run_timer;
	env.arg = in->r;
	cr_assert_eq(plugin_start(in->set, in->s, NULL, &env), 0);
	cr_assert_not_null(in->u = ussd_new(NULL, in->c, in->s, in->ob,
	    in->r));
}

static void
inst_free(struct inst *in)
{
	ussd_free(in->u);
	router_free(in->r);
	plugin_free(in->set);
	outbox_free(in->ob);
	store_free(in->s);
	conf_free(in->c);
}

static unsigned	mo_seq;

/* An SMPP USSD MO on instance in: the screen it queued ("" if none). */
static const char *
ussd_at(struct inst *in, int op, const char *input, long long t)
{
	struct mo	 mo;
	char		 id[64], md[128], *out = NULL;
	long long	 before = one(in->s, "SELECT count(*) FROM outbox "
			    "WHERE kind = 'ussd'");
	int		 rc;

	snprintf(id, sizeof(id), "00000000-0000-0000-0000-%012u", ++mo_seq);
	snprintf(md, sizeof(md), "?smpp?ussd_service_op=%%%02X&"
	    "its_session_info=%%21%%00&", op);
	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = "box";
	mo.sender = FARMER;
	mo.receiver = "384";
	mo.text = input;
	mo.smsc_id = "USSD";
	mo.meta_data = md;
	mo.time = t;
	cr_assert_eq(store_work_begin(in->s), 0);
	rc = ussd_handle(in->u, &mo, 0, &out);
	cr_assert_eq(store_work_end(in->s, rc == 0), 0);
	cr_assert_eq(store_commit(in->s), 0);
	cr_assert_eq(rc, 0, "'%s' failed", input);
	free(out);
	if (one(in->s, "SELECT count(*) FROM outbox WHERE kind = 'ussd'") ==
	    before)
		return "";
	return text(in->s, "SELECT text FROM outbox WHERE kind = 'ussd' "
	    "ORDER BY id DESC LIMIT 1");
}

#define MAIN_EN	"Marketbox\n1 Sell\n2 Register\n3 My orders\n4 Language\n" \
		"5 Check prices\n6 See all"
#define COMMODITIES_EN	"Choose a commodity:\n1 maize\n2 beans\n00 Back"
#define QTY_EN		"Quantity (bag):\n00 Back"

Test(shared, a_ussd_session_goes_on_at_whichever_instance_gets_the_screen)
{
	struct inst	 a, b;

	inst_new(&a);
	inst_new(&b);
	cr_assert_str_eq(ussd_at(&a, 1, "*384#", T0), MAIN_EN);
	cr_assert_str_eq(ussd_at(&b, 18, "1", T0 + 5), COMMODITIES_EN);
	/* a kept the session at its start menu */
	cr_assert_str_eq(ussd_at(&a, 18, "1", T0 + 9), QTY_EN);
	cr_assert_str_eq(ussd_at(&b, 18, "00", T0 + 12), COMMODITIES_EN);
	cr_assert_str_eq(ussd_at(&a, 18, "00", T0 + 15), MAIN_EN);
	cr_assert_eq(one(a.s, "SELECT count(*) FROM ussd_sessions"), 1);
	inst_free(&b);
	inst_free(&a);
}

/* The same text from one phone: a on a, then b. */
static enum router_outcome
say_at(struct inst *in, const char *msg, long long t)
{
	struct mo		 mo;
	enum router_outcome	 outcome;
	char			 id[32];
	int			 rc;

	snprintf(id, sizeof(id), "mo-%u", ++mo_seq);
	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = "box";
	mo.sender = FARMER;
	mo.receiver = "777";
	mo.text = msg;
	mo.time = t;
	cr_assert_eq(store_work_begin(in->s), 0);
	router_unit_begin(in->r);
	rc = router_handle(in->r, &mo, 0, &outcome);
	if (rc != 0)
		router_unit_undo(in->r);
	cr_assert_eq(store_work_end(in->s, rc == 0), 0);
	cr_assert_eq(store_commit(in->s), 0);
	cr_assert_eq(rc, 0);
	return outcome;
}

Test(shared, the_repeat_window_holds_across_instances)
{
	struct inst	 a, b;

	inst_new(&a);
	inst_new(&b);
	cr_assert_eq(say_at(&a, "echo hello", T0), ROUTER_DONE);
	cr_assert_eq(say_at(&b, "echo hello", T0 + 10), ROUTER_REPEAT,
	    "the same text on another instance within the window");
	cr_assert_eq(say_at(&a, "echo hello", T0 + 20), ROUTER_REPEAT);
	/* after the window, or another text: handled */
	cr_assert_eq(say_at(&b, "echo hello", T0 + 31), ROUTER_DONE);
	cr_assert_eq(say_at(&a, "echo bye", T0 + 32), ROUTER_DONE);
	cr_assert_eq(say_at(&b, "echo bye", T0 + 33), ROUTER_REPEAT);
	inst_free(&b);
	inst_free(&a);
}

/* --- users ----------------------------------------------------------------- */

/*
 * A phone's first two messages at once: b loaded no user, a inserted the
 * phone meanwhile; b's insert takes a's row (its id, a's fields kept)
 * rather than failing on the unique msisdn.
 */
Test(shared, a_phone_another_instance_inserted_meanwhile_is_taken)
{
	struct core	 ca, cb;
	struct user	 ua, ub;

	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	cr_assert_not_null(ca.store = store_open(db, NULL));
	cr_assert_not_null(cb.store = store_open(db, NULL));
	cr_assert_eq(user_load(&cb, FARMER, &ub), 0);
	cr_assert_eq(user_load(&ca, FARMER, &ua), 0);
	cr_assert_not_null(ua.name = strdup("Mary Wanjiku"));
	cr_assert_eq(store_work_begin(ca.store), 0);
	cr_assert_eq(user_save(&ca, &ua), 0);
	cr_assert_eq(store_work_end(ca.store, 1), 0);
	cr_assert_eq(store_commit(ca.store), 0);

	cr_assert_eq(store_work_begin(cb.store), 0);
	cr_assert_eq(user_save(&cb, &ub), 0);
	cr_assert_eq(store_work_end(cb.store, 1), 0);
	cr_assert_eq(store_commit(cb.store), 0);
	cr_assert_eq(ub.id, ua.id);
	cr_assert_eq(one(ca.store, "SELECT count(*) FROM users"), 1);
	cr_assert_str_eq(text(ca.store, "SELECT name FROM users"),
	    "Mary Wanjiku");
	user_clear(&ua);
	user_clear(&ub);
	store_free(cb.store);
	store_free(ca.store);
}

/* --- a unit that meets another instance's transaction ---------------------- */

static enum inbox_status	 got_status;
static int			 got;

static void
inbox_done(void *arg, enum inbox_status status, const char *reply)
{
	(void)arg;
	(void)reply;
	got_status = status;
	got++;
}

/* Another instance's open transaction, holding FARMER's repeat row. */
static PGconn *
hold_phone(void)
{
	PGconn		*c = PQconnectdb(db);
	PGresult	*r;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, "BEGIN; INSERT INTO repeat_window (msisdn, hash, at) "
	    "VALUES ('" FARMER "', 1, 0) ON CONFLICT (msisdn) DO UPDATE "
	    "SET at = 0");
	cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s",
	    PQresultErrorMessage(r));
	PQclear(r);
	return c;
}


/* HELP from FARMER through instance a's inbox, committed. */
static void
help_through_inbox(struct inst *a)
{
	struct dispatch	*dp;
	struct inbox	*ib;
	struct mo	 mo;
	char		 id[32];

	snprintf(id, sizeof(id), "mo-%u", ++mo_seq);
	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = "box";
	mo.sender = FARMER;
	mo.receiver = "777";
	mo.text = "HELP";
	mo.time = T0;
	cr_assert_not_null(dp = dispatch_new(a->r, NULL, a->ob));
	cr_assert_not_null(ib = inbox_new(a->s, dp));
	got = 0;
	cr_assert_eq(inbox_receive(ib, &mo, inbox_done, NULL), 0);
	cr_assert_eq(store_commit(a->s), 0);
	cr_assert_eq(got, 1);
	inbox_free(ib);
	dispatch_free(dp);
}

/*
 * The phone's row is held by another instance's transaction longer than
 * a's lock_timeout: the unit fails on the conflict and runs again; once
 * the other commits, the MO is handled, not failed.
 */
Test(shared, a_unit_that_meets_another_instance_runs_again, .timeout = 30)
{
	struct inst		 a;
	struct pg_fixture_hold	 hold;
	PGconn			*other;
	pthread_t		 t;

	inst_new(&a);
	cr_assert_eq(store_exec(a.s, "SET lock_timeout = 200"), 0);
	other = hold_phone();
	hold.holder = other;
	hold.ms = 300;		/* past the first try's 200 ms */
	cr_assert_eq(pthread_create(&t, NULL, pg_fixture_commit_under_wait,
	    &hold), 0);
	help_through_inbox(&a);
	pthread_join(t, NULL);
	PQfinish(other);
	cr_assert(hold.seen, "the unit never waited for the other's rows");
	cr_assert_eq(got_status, INBOX_STORED);
	cr_assert_eq(one(a.s, "SELECT count(*) FROM inbox WHERE state = "
	    "'failed'"), 0);
	cr_assert_eq(one(a.s, "SELECT count(*) FROM inbox WHERE state = "
	    "'done'"), 1);
	inst_free(&a);
}

/* Held for good: after its tries the MO is failed and the sender told. */
Test(shared, a_unit_that_never_gets_its_rows_fails_after_its_tries,
    .timeout = 30)
{
	struct inst	 a;
	PGconn		*other;

	inst_new(&a);
	cr_assert_eq(store_exec(a.s, "SET lock_timeout = 100"), 0);
	other = hold_phone();
	help_through_inbox(&a);
	PQfinish(other);
	cr_assert_eq(got_status, INBOX_STORED);
	cr_assert_eq(one(a.s, "SELECT count(*) FROM inbox WHERE state = "
	    "'failed'"), 1);
	cr_assert_eq(one(a.s, "SELECT count(*) FROM outbox WHERE kind = "
	    "'reply'"), 1);
	inst_free(&a);
}
