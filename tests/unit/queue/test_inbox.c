/*
 * test_inbox.c - inbox.c: one MO and its effects in one unit of work,
 * callers told only after the commit, duplicates without effect, inline
 * replies kept for a retried HTTP request, failures rolled back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "base/gw.h"
#include "base/conf.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "router_fixture.h"
#include "store/store.h"

static char			 dir[] = "/tmp/test_inbox_XXXXXX";
static char			 path[256];
static struct event_base	*base;
static struct conf		*conf;
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct inbox		*inbox;

static struct {
	int			calls;
	enum inbox_status	status;
	char			reply[512];
} told;

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mb.db", dir);
	base = event_base_new();
	conf = calloc(1, sizeof(*conf));
	conf->global_sender = strdup("777");
	conf->smsbox_id = strdup("marketbox");
	conf->max_parts = 3;
	conf->retry_limit = 3;
	conf->retry_delay = 1;
	conf->dlr_mask = 31;
	store = store_open(path, base);
	cr_assert_not_null(store);
	outbox = outbox_new(base, store, conf);
	router = fixture_router_new(conf, store, outbox);
	inbox = fixture_inbox_new(store, router, NULL, outbox);
	cr_assert(outbox && router && inbox);
	memset(&told, 0, sizeof(told));
}

static void
teardown(void)
{
	char	 cmd[512];

	fixture_inbox_free(inbox);
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

TestSuite(inbox, .init = setup, .fini = teardown);

static void
done_cb(void *arg, enum inbox_status status, const char *reply)
{
	(void)arg;
	told.calls++;
	told.status = status;
	snprintf(told.reply, sizeof(told.reply), "%s", reply ? reply : "(null)");
}

static long long
count(const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static struct mo
mo_make(const char *id, const char *text, int inline_reply)
{
	struct mo	 mo;

	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = inline_reply ? "http" : "box";
	mo.sender = "+254700000001";
	mo.receiver = "777";
	mo.text = text;
	mo.time = 1700000000;
	mo.reply_inline = inline_reply;
	return mo;
}

static void
pass(void)
{
	cr_assert_neq(event_base_loop(base, EVLOOP_NONBLOCK), -1);
}

Test(inbox, mo_and_reply_commit_together_then_caller_is_told)
{
	struct mo	mo = mo_make("11111111-1111-1111-1111-111111111111",
			    "echo hello", 0);

	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	cr_assert_eq(told.calls, 0, "told before the commit");
	pass();
	cr_assert_eq(told.calls, 1);
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_str_eq(told.reply, "(null)");
	cr_assert_eq(count("SELECT count(*) FROM inbox"), 1);
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE kind = 'reply' "
	    "AND receiver = '+254700000001' AND sender = '777' AND inbox_id = "
	    "(SELECT id FROM inbox) AND text = 'You said: hello'"), 1);
}

Test(inbox, duplicate_has_no_new_effect)
{
	struct mo	mo = mo_make("22222222-2222-2222-2222-222222222222",
			    "again", 0);
	unsigned long long received, dups;

	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.calls, 2);
	cr_assert_eq(told.status, INBOX_DUPLICATE);
	cr_assert_eq(count("SELECT count(*) FROM inbox"), 1);
	cr_assert_eq(count("SELECT count(*) FROM outbox"), 1);
	inbox_stats(inbox, &received, &dups);
	cr_assert_eq(received, 2);
	cr_assert_eq(dups, 1);
}

Test(inbox, duplicate_in_the_same_pass)
{
	struct mo	mo = mo_make("33333333-3333-3333-3333-333333333333",
			    "twice", 0);

	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.calls, 2);
	cr_assert_eq(count("SELECT count(*) FROM inbox"), 1);
	cr_assert_eq(count("SELECT count(*) FROM outbox"), 1);
}

Test(inbox, inline_reply_is_returned_and_returned_again)
{
	struct mo	mo = mo_make("http:abc", "ECHO price maize", 1);

	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_str_eq(told.reply, "You said: price maize");
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE state = "
	    "'inline'"), 1);
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.status, INBOX_DUPLICATE);
	cr_assert_str_eq(told.reply, "You said: price maize");
	cr_assert_eq(count("SELECT count(*) FROM outbox"), 1);
}

Test(inbox, mo_without_id_or_sender_is_refused)
{
	struct mo	mo = mo_make("", "x", 0);

	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), -1);
	mo = mo_make("44", "x", 0);
	mo.sender = NULL;
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), -1);
	pass();
	cr_assert_eq(told.calls, 0);
	cr_assert_eq(count("SELECT count(*) FROM inbox"), 0);
}

Test(inbox, store_failure_rolls_back_and_says_failed)
{
	struct mo	mo = mo_make("55555555-5555-5555-5555-555555555555",
			    "lost?", 0);

	/* The reply cannot be written: nothing of the MO may remain. */
	cr_assert_eq(store_exec(store, "DROP TABLE outbox"), 0);
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.calls, 1);
	cr_assert_eq(told.status, INBOX_FAILED);
	cr_assert_eq(count("SELECT count(*) FROM inbox"), 0);
}

Test(inbox, hostile_text_is_stored_verbatim)
{
	struct mo	mo = mo_make("66666666-6666-6666-6666-666666666666",
			    "'); DROP TABLE inbox; --", 0);

	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_eq(count("SELECT count(*) FROM inbox WHERE text = "
	    "'''); DROP TABLE inbox; --'"), 1);
}

Test(inbox, long_inline_reply_is_kept_whole)
{
	char		text[405] = "echo ";
	char		want[420];
	struct mo	mo;

	memset(text + 5, 'a', sizeof(text) - 6);
	text[sizeof(text) - 1] = '\0';
	snprintf(want, sizeof(want), "You said: %s", text + 5);
	mo = mo_make("http:long", text, 1);
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_str_eq(told.reply, want);
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.status, INBOX_DUPLICATE);
	cr_assert_str_eq(told.reply, want);
	cr_assert_eq(count("SELECT count(*) FROM outbox"), 1);
}

/* PRAGMA page_count of the database. */
static long long
pages(void)
{
	return count("PRAGMA page_count");
}

/*
 * A full disk, as SQLite meets one: the database may not grow
 * (SQLITE_FULL on the MO's own row), then a write of its reply fails
 * after the router took the phone's token.  An MO offered again and
 * again while it lasts is not stored and costs its phone nothing; once
 * there is room it is handled as if it came for the first time -- not
 * throttled by the copies that failed.
 */
Test(inbox, a_full_disk_loses_nothing_and_costs_no_tokens)
{
	char		 sql[64], *big;
	struct mo	 mo;
	int		 i;

	conf->flood_rate = 10;
	conf->flood_burst = 3;
	mo = mo_make("full-0", "echo first", 0);
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.status, INBOX_STORED);

	/*
	 * An MO of more pages than the database has free (the migrations
	 * left some), and a database that may not grow.
	 */
	cr_assert_lt(count("PRAGMA freelist_count"), 40);
	cr_assert_not_null(big = calloc(1, 200 * 1024));
	memcpy(big, "echo ", 5);
	memset(big + 5, 'x', 200 * 1024 - 6);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", pages());
	cr_assert_eq(store_exec(store, sql), 0);
	mo = mo_make("full-1", big, 0);
	for (i = 0; i < 5; i++) {
		told.calls = 0;
		cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
		pass();
		cr_assert_eq(told.calls, 1);
		cr_assert_eq(told.status, INBOX_FAILED, "try %d stored", i);
	}
	cr_assert_eq(store_exec(store, "PRAGMA max_page_count = 1000000"), 0);
	free(big);

	/* the row fits, its reply cannot be written */
	cr_assert_eq(store_exec(store, "CREATE TEMP TRIGGER full BEFORE "
	    "INSERT ON main.outbox BEGIN SELECT RAISE(FAIL, 'database or "
	    "disk is full'); END"), 0);
	mo = mo_make("full-2", "echo second", 0);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
		pass();
		cr_assert_eq(told.status, INBOX_FAILED, "try %d stored", i);
	}
	cr_assert_eq(count("SELECT count(*) FROM inbox"), 1);

	/* room again: handled, with its reply */
	cr_assert_eq(store_exec(store, "DROP TRIGGER temp.full"), 0);
	cr_assert_eq(inbox_receive(inbox, &mo, done_cb, NULL), 0);
	pass();
	cr_assert_eq(told.status, INBOX_STORED);
	cr_assert_eq(count("SELECT count(*) FROM inbox WHERE kannel_id = "
	    "'full-2' AND state = 'done'"), 1);
	cr_assert_eq(count("SELECT count(*) FROM outbox WHERE inbox_id = "
	    "(SELECT id FROM inbox WHERE kannel_id = 'full-2') AND text = "
	    "'You said: second'"), 1);
}
