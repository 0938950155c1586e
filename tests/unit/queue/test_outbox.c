/*
 * test_outbox.c - outbox.c: rows written per part with coding, UDH and
 * concatenation reference; the sender handing committed rows to a fake
 * link; the window of unacked MTs; the row states for every ack and DLR,
 * retry backoff and the retry limit; a lost link and a restart sending
 * again what was not acked; inline replies; the token bucket driven with
 * made-up times, and the throughput over real time.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "base/gw.h"
#include "base/conf.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "store/store.h"

#define MAX_SENT	1200

/* What the fake link was handed, copied. */
struct sent {
	long long	 row;
	char		 kannel_id[64];
	char		 sender[32], receiver[32], text[512], smsc_id[32];
	int		 has_smsc_id, coding, dlr_mask;
	unsigned char	 udh[16];
	size_t		 udh_len;
	int		 has_udh;
};

static char			 dir[] = "/tmp/test_outbox_XXXXXX";
static char			 path[256];
static char			 global_sender[] = "MARKET";
static struct conf		*conf;
static struct event_base	*base;
static struct store		*store;
static struct outbox		*ob;
static struct sent		 sent[MAX_SENT];
static int			 nsent;
static int			 refuse;	/* the fake link says not now */

static int
fake_send(void *arg, const struct outbox_mt *mt)
{
	struct sent	*s;

	cr_assert_eq(arg, (void *)&nsent);
	if (refuse)
		return -1;
	cr_assert_lt(nsent, MAX_SENT);
	s = &sent[nsent++];
	memset(s, 0, sizeof(*s));
	s->row = mt->row;
	cr_assert_not_null(mt->kannel_id);
	snprintf(s->kannel_id, sizeof(s->kannel_id), "%s", mt->kannel_id);
	snprintf(s->sender, sizeof(s->sender), "%s", mt->sender);
	snprintf(s->receiver, sizeof(s->receiver), "%s", mt->receiver);
	snprintf(s->text, sizeof(s->text), "%s", mt->text);
	if (mt->smsc_id != NULL) {
		s->has_smsc_id = 1;
		snprintf(s->smsc_id, sizeof(s->smsc_id), "%s", mt->smsc_id);
	}
	s->coding = mt->coding;
	s->dlr_mask = mt->dlr_mask;
	if (mt->udh != NULL) {
		cr_assert_leq(mt->udh_len, sizeof(s->udh));
		s->has_udh = 1;
		memcpy(s->udh, mt->udh, mt->udh_len);
	}
	s->udh_len = mt->udh_len;
	return 0;
}

static const struct outbox_link fake_link = { fake_send, &nsent };

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mb.db", dir);
	cr_assert_not_null(conf = calloc(1, sizeof(*conf)));
	conf->global_sender = global_sender;
	conf->max_parts = 3;
	conf->retry_limit = 3;
	conf->retry_delay = 5;
	conf->throughput = 0;
	conf->dlr_mask = 31;
	cr_assert_not_null(base = event_base_new());
	/* No loop for the store: the tests commit when they choose. */
	cr_assert_not_null(store = store_open(path, NULL));
	cr_assert_not_null(ob = outbox_new(base, store, conf));
	nsent = 0;
	refuse = 0;
}

static void
teardown(void)
{
	char	 cmd[512];

	if (store != NULL)
		store_commit(store);
	outbox_free(ob);
	store_free(store);
	if (base != NULL)
		event_base_free(base);
	free(conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	gwlib_shutdown();
}

TestSuite(outbox, .init = setup, .fini = teardown);

/* --- helpers ------------------------------------------------------------- */

/* Run up to n passes of the loop without waiting. */
static void
pump(int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Run the loop for secs of real time. */
static void
run_for(double secs)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	cr_assert_eq(event_base_loopexit(base, &tv), 0);
	cr_assert_geq(event_base_dispatch(base), 0);
}

/* Queue a notice in a unit of work and commit it. */
static void
notify(const char *to, const char *text)
{
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(outbox_notify(ob, 0, to, text), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
}

/* An integer column of outbox row id (-1 for NULL). */
static long long
col_int(const char *column, long long id)
{
	char		 sql[128];
	sqlite3_stmt	*st;
	long long	 v = -2;

	snprintf(sql, sizeof(sql), "SELECT %s FROM outbox WHERE id = ?1",
	    column);
	cr_assert_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(store_db(store)));
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	cr_assert_neq(v, -2, "no row %lld", id);
	return v;
}

/* A text column of outbox row id, in a static buffer ("(null)" for NULL). */
static const char *
col_text(const char *column, long long id)
{
	static char	 buf[4][512];
	static int	 which;
	char		 sql[128], *out = buf[which++ % 4];
	sqlite3_stmt	*st;
	const unsigned char *t;
	int		 found = 0;

	snprintf(sql, sizeof(sql), "SELECT %s FROM outbox WHERE id = ?1",
	    column);
	cr_assert_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(store_db(store)));
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		t = sqlite3_column_text(st, 0);
		snprintf(out, 512, "%s", t != NULL ? (const char *)t : "(null)");
	}
	sqlite3_finalize(st);
	cr_assert(found, "no row %lld", id);
	return out;
}

static long long
query(const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(store_db(store)));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
exec_sql(const char *sql)
{
	cr_assert_eq(sqlite3_exec(store_db(store), sql, NULL, NULL, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(store_db(store)));
}

static struct outbox_counts
counts(void)
{
	struct outbox_counts	 c;

	cr_assert_eq(outbox_counts(ob, &c), 0);
	return c;
}

/* A malloc'd string of n copies of c. */
static char *
repeat(char c, size_t n)
{
	char	*s;

	cr_assert_not_null(s = malloc(n + 1));
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Queue one notice, send it, and return its row. */
static long long
one_sent(void)
{
	outbox_set_link(ob, &fake_link);
	notify("+254700000001", "price of maize");
	pump(3);
	cr_assert_eq(nsent, 1);
	return sent[0].row;
}

/* --- queueing and sending -------------------------------------------------- */

Test(outbox, notice_sent_after_commit_with_its_fields)
{
	long long	 row;

	outbox_set_link(ob, &fake_link);
	pump(3);
	cr_assert_eq(nsent, 0);

	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(outbox_notify(ob, 0, "+254700000001", "maize 40 KES/kg"),
	    0);
	cr_assert_eq(store_work_end(store, 1), 0);
	/* Not committed: the sender was not woken. */
	pump(3);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(counts().queued, 1);

	cr_assert_eq(store_commit(store), 0);
	pump(3);
	cr_assert_eq(nsent, 1);
	row = sent[0].row;
	cr_assert_gt(row, 0);
	cr_assert_str_eq(sent[0].sender, "MARKET");
	cr_assert_str_eq(sent[0].receiver, "+254700000001");
	cr_assert_str_eq(sent[0].text, "maize 40 KES/kg");
	cr_assert_eq(sent[0].coding, 0);
	cr_assert_eq(sent[0].dlr_mask, 31);
	cr_assert_eq(sent[0].has_udh, 0);
	cr_assert_eq(sent[0].udh_len, 0);
	cr_assert_eq(sent[0].has_smsc_id, 0);
	cr_assert_eq(strlen(sent[0].kannel_id), 36);

	cr_assert_str_eq(col_text("state", row), "sending");
	cr_assert_str_eq(col_text("kind", row), "notice");
	cr_assert_str_eq(col_text("kannel_id", row), sent[0].kannel_id);
	cr_assert_eq(col_int("attempts", row), 1);
	cr_assert_eq(col_int("part", row), 1);
	cr_assert_eq(col_int("parts", row), 1);
	cr_assert_eq(col_int("concat_ref", row), -1);
	cr_assert_eq(col_int("inbox_id", row), -1);
	cr_assert_geq(col_int("sent", row), col_int("created", row));

	/* Nothing more to send. */
	pump(5);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(counts().sending, 1);
}

Test(outbox, reply_goes_back_to_the_sender_on_its_smsc)
{
	struct mo	 mo;
	long long	 inbox_id;

	exec_sql("INSERT INTO inbox (kannel_id, channel, sender, receiver, "
	    "text, coding, received, state) VALUES ('mo-1', 'box', "
	    "'+254711111111', '3030', 'PRICE MAIZE', 0, 1, 'done')");
	inbox_id = sqlite3_last_insert_rowid(store_db(store));
	memset(&mo, 0, sizeof(mo));
	mo.id = "mo-1";
	mo.channel = "box";
	mo.sender = "+254711111111";
	mo.receiver = "3030";
	mo.text = "PRICE MAIZE";
	mo.smsc_id = "safaricom";

	outbox_set_link(ob, &fake_link);
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(outbox_reply(ob, &mo, inbox_id, "maize 40"), 0);
	/* An MO to no short code is answered from the global sender. */
	mo.receiver = "";
	cr_assert_eq(outbox_reply(ob, &mo, inbox_id, "second"), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	pump(3);

	cr_assert_eq(nsent, 2);
	cr_assert_str_eq(sent[0].sender, "3030");
	cr_assert_str_eq(sent[0].receiver, "+254711111111");
	cr_assert_str_eq(sent[0].text, "maize 40");
	cr_assert(sent[0].has_smsc_id);
	cr_assert_str_eq(sent[0].smsc_id, "safaricom");
	cr_assert_str_eq(col_text("kind", sent[0].row), "reply");
	cr_assert_eq(col_int("inbox_id", sent[0].row), inbox_id);
	cr_assert_str_eq(sent[1].sender, "MARKET");
	cr_assert_str_eq(sent[1].text, "second");
	/* No inline text for replies that are sent. */
	cr_assert_null(outbox_take_inline(ob));
}

Test(outbox, bad_arguments_are_refused)
{
	struct mo	 mo;

	memset(&mo, 0, sizeof(mo));
	mo.receiver = "3030";	/* no sender */
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(outbox_queue(ob, 0, "notice", "MARKET", NULL, "x", NULL,
	    NULL), -1);
	cr_assert_eq(outbox_queue(ob, 0, "notice", "MARKET", "", "x", NULL,
	    NULL), -1);
	cr_assert_eq(outbox_queue(ob, 0, "notice", "", "+2547", "x", NULL,
	    NULL), -1);
	cr_assert_eq(outbox_queue(ob, 0, "notice", "MARKET", "+2547", NULL,
	    NULL, NULL), -1);
	cr_assert_eq(outbox_reply(ob, &mo, 0, "x"), -1);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(query("SELECT COUNT(*) FROM outbox"), 0);
}

Test(outbox, queue_keeps_smsc_and_meta_data)
{
	outbox_set_link(ob, &fake_link);
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(outbox_queue(ob, 0, "notice", "4040", "+254722", "hi",
	    "smsc-b", "?smpp?a=b"), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	pump(3);
	cr_assert_eq(nsent, 1);
	cr_assert_str_eq(sent[0].sender, "4040");
	cr_assert_str_eq(sent[0].smsc_id, "smsc-b");
	cr_assert_str_eq(col_text("meta_data", sent[0].row), "?smpp?a=b");
}

Test(outbox, multipart_has_udh_and_one_reference)
{
	char	*text = repeat('a', 300), joined[1100];
	int	 ref;

	outbox_set_link(ob, &fake_link);
	notify("+254700000002", text);
	pump(3);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(counts().sending, 2);
	ref = sent[0].udh[3];
	cr_assert_eq(sent[0].udh_len, 6);
	cr_assert_eq(sent[1].udh_len, 6);
	{
		const unsigned char	 u1[6] = { 5, 0, 3, (unsigned char)ref, 2, 1 };
		const unsigned char	 u2[6] = { 5, 0, 3, (unsigned char)ref, 2, 2 };

		cr_assert_arr_eq(sent[0].udh, u1, 6);
		cr_assert_arr_eq(sent[1].udh, u2, 6);
	}
	cr_assert_eq(col_int("concat_ref", sent[0].row), ref);
	cr_assert_eq(col_int("concat_ref", sent[1].row), ref);
	cr_assert_eq(col_int("part", sent[0].row), 1);
	cr_assert_eq(col_int("part", sent[1].row), 2);
	cr_assert_eq(col_int("parts", sent[1].row), 2);
	cr_assert_eq(sent[0].coding, 0);
	cr_assert_eq(strlen(sent[0].text), 153);
	snprintf(joined, sizeof(joined), "%s%s", sent[0].text, sent[1].text);
	cr_assert_str_eq(joined, text);

	/* The next concatenated text gets the next reference. */
	notify("+254700000002", text);
	pump(3);
	cr_assert_eq(nsent, 4);
	cr_assert_eq(sent[2].udh[3], (ref + 1) & 0xff);
	cr_assert_eq(sent[3].udh[3], (ref + 1) & 0xff);
	free(text);
}

/* An accent GSM lacks would make two UCS-2 parts: one GSM SMS instead. */
Test(outbox, accents_folded_when_that_saves_a_part)
{
	const char	*fr = "Commande #12 acceptée par Wanjiru: 10 sacs de "
			    "maïs, total 30 000 F. Vous aurez un code à l'envoi.";
	const char	*zh = "订单#12已接受";

	notify("+254700000002", fr);
	cr_assert_eq(query("SELECT COUNT(*) FROM outbox"), 1);
	cr_assert_eq(query("SELECT coding FROM outbox"), 0);
	cr_assert_eq(query("SELECT COUNT(*) FROM outbox WHERE text LIKE "
	    "'%de mais, total%'"), 1);
	/* short: one UCS-2 SMS keeps its accents and its script */
	notify("+254700000003", "Maïs: prêt");
	cr_assert_eq(query("SELECT coding FROM outbox WHERE receiver = "
	    "'+254700000003'"), 2);
	notify("+254700000004", zh);
	cr_assert_eq(query("SELECT coding FROM outbox WHERE receiver = "
	    "'+254700000004'"), 2);
}

Test(outbox, too_long_text_is_cut_to_max_parts)
{
	char	*text = repeat('b', 1000);

	notify("+254700000003", text);
	cr_assert_eq(query("SELECT COUNT(*) FROM outbox"), 3);
	cr_assert_eq(query("SELECT MAX(parts) FROM outbox"), 3);
	cr_assert_eq(query("SELECT COUNT(*) FROM outbox WHERE part = 3 AND "
	    "text LIKE '%...'"), 1);
	free(text);
}

Test(outbox, ucs2_text_has_coding_2)
{
	outbox_set_link(ob, &fake_link);
	notify("+254700000004", "\xE4\xBD\xA0\xE5\xA5\xBD");	/* 你好 */
	pump(3);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(sent[0].coding, 2);
	cr_assert_str_eq(sent[0].text, "\xE4\xBD\xA0\xE5\xA5\xBD");
	cr_assert_eq(col_int("coding", sent[0].row), 2);
}

Test(outbox, no_link_no_send_until_one_comes)
{
	notify("+254700000005", "waiting");
	pump(5);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(counts().queued, 1);
	outbox_set_link(ob, &fake_link);
	pump(3);
	cr_assert_eq(nsent, 1);
}

/*
 * At most 1000 MTs unacked, handed over in batches.  Acks do
 * not refill the window one by one (that sent MTs one at a time under
 * load): the sender is woken again when half the window is free.
 */
Test(outbox, window_of_unacked_mts_is_1000_refilled_at_half)
{
	int	 i;

	outbox_set_link(ob, &fake_link);
	cr_assert_eq(store_work_begin(store), 0);
	for (i = 0; i < 1100; i++)
		cr_assert_eq(outbox_notify(ob, 0, "+254700000006", "x"), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	pump(20);
	cr_assert_eq(nsent, 1000);
	cr_assert_eq(counts().sending, 1000);
	cr_assert_eq(counts().queued, 100);

	/* Acks above half the window: recorded, nothing more is sent. */
	for (i = 0; i < 499; i++)
		outbox_ack(ob, sent[i].kannel_id, OUTBOX_ACK_SUCCESS);
	pump(5);
	cr_assert_eq(nsent, 1000);
	cr_assert_eq(counts().accepted, 499);
	cr_assert_eq(counts().sending, 501);

	/* The ack that leaves half the window free wakes the sender. */
	outbox_ack(ob, sent[499].kannel_id, OUTBOX_ACK_SUCCESS);
	pump(5);
	cr_assert_eq(nsent, 1100);
	cr_assert_eq(counts().sending, 600);
	cr_assert_eq(counts().queued, 0);
}

/*
 * Acks in any order find their rows among a full window in flight, rows
 * of ids in no order (so that they collide in the in-flight table).
 */
Test(outbox, acks_in_any_order_find_their_rows)
{
	sqlite3_stmt	*st;
	int		 order[1000], i, j, t;
	unsigned	 x = 12345;
	long long	 id = 0;

	cr_assert_eq(sqlite3_prepare_v2(store_db(store), "INSERT INTO outbox "
	    "(id, kind, sender, receiver, text, coding, state, next_attempt, "
	    "created) VALUES (?1, 'notice', 'MARKET', '+254700000007', 'y', 0, "
	    "'queued', 0, 0)", -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < 1000; i++) {
		x = x * 1103515245u + 12345u;
		id += 1 + (long long)(x >> 8);	/* increasing, gaps in no order */
		sqlite3_bind_int64(st, 1, id);
		cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	outbox_set_link(ob, &fake_link);
	pump(20);
	cr_assert_eq(nsent, 1000);
	for (i = 0; i < 1000; i++)
		order[i] = i;
	for (i = 999; i > 0; i--) {	/* a fixed shuffle */
		x = x * 1103515245u + 12345u;
		j = (int)((x >> 16) % (unsigned)(i + 1));
		t = order[i], order[i] = order[j], order[j] = t;
	}
	for (i = 0; i < 1000; i++)
		outbox_ack(ob, sent[order[i]].kannel_id, OUTBOX_ACK_SUCCESS);
	cr_assert_eq(counts().accepted, 1000);
	cr_assert_eq(counts().sending, 0);
}

/* --- acks ---------------------------------------------------------------- */

Test(outbox, ack_success_accepts)
{
	long long	 row = one_sent();
	time_t		 t0 = time(NULL);

	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_SUCCESS);
	cr_assert_str_eq(col_text("state", row), "accepted");
	cr_assert_geq(col_int("accepted", row), (long long)t0);
	cr_assert_leq(col_int("accepted", row), (long long)time(NULL));
	cr_assert_eq(counts().accepted, 1);
	cr_assert_eq(counts().sending, 0);
}

Test(outbox, ack_buffered)
{
	long long	 row = one_sent();

	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_BUFFERED);
	cr_assert_str_eq(col_text("state", row), "buffered");
	cr_assert_eq(counts().buffered, 1);
}

Test(outbox, ack_failed_fails)
{
	long long	 row = one_sent();

	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_FAILED);
	cr_assert_str_eq(col_text("state", row), "failed");
	cr_assert_str_eq(col_text("error", row), "refused by bearerbox");
	pump(5);
	cr_assert_eq(nsent, 1);		/* not sent again */
}

Test(outbox, ack_failed_tmp_backs_off_then_fails_at_the_limit)
{
	long long	 row = one_sent(), next;
	time_t		 t0, t1;

	/* Attempt 1: retry after retry_delay. */
	t0 = time(NULL);
	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_FAILED_TMP);
	t1 = time(NULL);
	cr_assert_str_eq(col_text("state", row), "queued");
	next = col_int("next_attempt", row);
	cr_assert_geq(next, (long long)t0 + 5);
	cr_assert_leq(next, (long long)t1 + 5);
	/* Not due yet: not sent. */
	pump(5);
	cr_assert_eq(nsent, 1);

	/* Make it due; attempt 2 has a new id, then waits 2 * retry_delay. */
	exec_sql("UPDATE outbox SET next_attempt = 0");
	outbox_kick(ob);
	pump(3);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(sent[1].row, row);
	cr_assert_str_neq(sent[1].kannel_id, sent[0].kannel_id);
	cr_assert_eq(col_int("attempts", row), 2);
	t0 = time(NULL);
	outbox_ack(ob, sent[1].kannel_id, OUTBOX_ACK_FAILED_TMP);
	t1 = time(NULL);
	cr_assert_str_eq(col_text("state", row), "queued");
	next = col_int("next_attempt", row);
	cr_assert_geq(next, (long long)t0 + 10);
	cr_assert_leq(next, (long long)t1 + 10);

	/* Attempt 3 is the retry limit: failed. */
	exec_sql("UPDATE outbox SET next_attempt = 0");
	outbox_kick(ob);
	pump(3);
	cr_assert_eq(nsent, 3);
	cr_assert_eq(col_int("attempts", row), 3);
	outbox_ack(ob, sent[2].kannel_id, OUTBOX_ACK_FAILED_TMP);
	cr_assert_str_eq(col_text("state", row), "failed");
	cr_assert_eq(counts().failed, 1);
	cr_assert_eq(counts().queued, 0);
}

Test(outbox, backoff_is_capped_at_an_hour)
{
	long long	 row = one_sent(), next;
	time_t		 t0, t1;

	conf->retry_limit = 100;
	exec_sql("UPDATE outbox SET attempts = 20");
	t0 = time(NULL);
	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_FAILED_TMP);
	t1 = time(NULL);
	next = col_int("next_attempt", row);
	cr_assert_geq(next, (long long)t0 + 3600);
	cr_assert_leq(next, (long long)t1 + 3600);
}

Test(outbox, ack_for_unknown_or_stale_id_is_ignored)
{
	long long	 row = one_sent();
	char		 old[64];

	outbox_ack(ob, "00000000-0000-0000-0000-000000000000",
	    OUTBOX_ACK_FAILED);
	outbox_ack(ob, "", OUTBOX_ACK_FAILED);
	outbox_ack(ob, NULL, OUTBOX_ACK_FAILED);
	outbox_ack(ob, sent[0].kannel_id, (enum outbox_ack)7);
	cr_assert_str_eq(col_text("state", row), "sending");

	/* Accepted; a second ack for the same id changes nothing. */
	snprintf(old, sizeof(old), "%s", sent[0].kannel_id);
	outbox_ack(ob, old, OUTBOX_ACK_SUCCESS);
	outbox_ack(ob, old, OUTBOX_ACK_FAILED);
	cr_assert_str_eq(col_text("state", row), "accepted");
}

/*
 * An MT's id names its row in its last 16 hex digits, after the link's
 * prefix and the send's number: an id that differs from it in any of
 * those, or that is not a UUID at all, matches nothing in flight.
 */
Test(outbox, ack_id_names_its_row_and_its_send)
{
	long long	 row = one_sent();
	char		 forged[64], tail[17];
	size_t		 i;
	static const char *bad[] = {
	    "not-a-uuid", "0123456789abcdef0123456789abcdef0123",
	    "01234567-89ab-cdef-0123-456789abcdeg",
	};

	cr_assert_eq(strlen(sent[0].kannel_id), 36);
	snprintf(tail, sizeof(tail), "%016llx", (unsigned long long)row);
	cr_assert_eq(strncmp(sent[0].kannel_id + 19, tail, 4), 0,
	    "%s does not end in row %lld", sent[0].kannel_id, row);
	cr_assert_str_eq(sent[0].kannel_id + 24, tail + 4);

	/* Another send number (digit 9 of the id): not this send. */
	snprintf(forged, sizeof(forged), "%s", sent[0].kannel_id);
	forged[9] = forged[9] == '0' ? '1' : '0';
	outbox_ack(ob, forged, OUTBOX_ACK_FAILED);
	/* Another prefix (digit 0): another link. */
	snprintf(forged, sizeof(forged), "%s", sent[0].kannel_id);
	forged[0] = forged[0] == '0' ? '1' : '0';
	outbox_ack(ob, forged, OUTBOX_ACK_FAILED);
	/* Another row (the last digit). */
	snprintf(forged, sizeof(forged), "%s", sent[0].kannel_id);
	forged[35] = forged[35] == '0' ? '1' : '0';
	outbox_ack(ob, forged, OUTBOX_ACK_FAILED);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		outbox_ack(ob, bad[i], OUTBOX_ACK_FAILED);
	cr_assert_str_eq(col_text("state", row), "sending");
	cr_assert_str_eq(col_text("kannel_id", row), sent[0].kannel_id);

	/* Upper-case hex is the same id. */
	snprintf(forged, sizeof(forged), "%s", sent[0].kannel_id);
	for (i = 0; forged[i] != '\0'; i++)
		if (forged[i] >= 'a' && forged[i] <= 'f')
			forged[i] = (char)(forged[i] - 'a' + 'A');
	outbox_ack(ob, forged, OUTBOX_ACK_SUCCESS);
	cr_assert_str_eq(col_text("state", row), "accepted");
}

/*
 * Between outbox_batch_begin() and outbox_batch_end(), acks and DLRs are
 * recorded in one unit of work; a link lost in the middle ends that unit
 * before it queues the rows in flight again (units do not nest).
 */
Test(outbox, acks_and_dlrs_of_a_batch_share_one_unit)
{
	unsigned long long	 c0, u0, c1, u1;
	char			 url[32];
	int			 i;

	outbox_set_link(ob, &fake_link);
	cr_assert_eq(store_work_begin(store), 0);
	for (i = 0; i < 5; i++)
		cr_assert_eq(outbox_notify(ob, 0, "+254700000009", "b"), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	pump(5);
	cr_assert_eq(nsent, 5);
	cr_assert_eq(store_commit(store), 0);
	store_stats(store, &c0, &u0);

	outbox_batch_begin(ob);
	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_SUCCESS);
	outbox_ack(ob, sent[1].kannel_id, OUTBOX_ACK_FAILED);
	outbox_ack(ob, sent[2].kannel_id, OUTBOX_ACK_SUCCESS);
	snprintf(url, sizeof(url), "%lld", sent[0].row);
	cr_assert_eq(outbox_dlr(ob, url, 1, "f-0"), 0);
	snprintf(url, sizeof(url), "%lld", sent[2].row);
	cr_assert_eq(outbox_dlr(ob, url, 8, "f-2"), 0);
	outbox_batch_end(ob);
	cr_assert_eq(store_commit(store), 0);
	store_stats(store, &c1, &u1);
	cr_assert_eq(u1 - u0, 1, "%llu units for one batch", u1 - u0);
	cr_assert_str_eq(col_text("state", sent[0].row), "delivered");
	cr_assert_str_eq(col_text("state", sent[1].row), "failed");
	cr_assert_str_eq(col_text("state", sent[2].row), "accepted");
	cr_assert_str_eq(col_text("dlr_state", sent[2].row), "smsc-ack");
	cr_assert_eq(counts().sending, 2);

	/* The link goes down in the middle of a batch. */
	outbox_batch_begin(ob);
	outbox_ack(ob, sent[3].kannel_id, OUTBOX_ACK_SUCCESS);
	outbox_set_link(ob, NULL);
	outbox_ack(ob, sent[4].kannel_id, OUTBOX_ACK_SUCCESS);
	outbox_batch_end(ob);
	cr_assert_eq(store_commit(store), 0);
	cr_assert_str_eq(col_text("state", sent[3].row), "accepted");
	cr_assert_str_eq(col_text("state", sent[4].row), "queued");
	cr_assert_eq(counts().sending, 0);
}

/* --- a lost link and a restart ---------------------------------------------- */

Test(outbox, link_down_requeues_and_link_up_resends_with_new_ids)
{
	int	 i;

	outbox_set_link(ob, &fake_link);
	notify("+254700000007", "one");
	notify("+254700000007", "two");
	pump(3);
	cr_assert_eq(nsent, 2);
	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_SUCCESS);

	outbox_set_link(ob, NULL);
	cr_assert_str_eq(col_text("state", sent[0].row), "accepted");
	cr_assert_str_eq(col_text("state", sent[1].row), "queued");
	cr_assert_eq(counts().sending, 0);
	pump(5);
	cr_assert_eq(nsent, 2);

	outbox_set_link(ob, &fake_link);
	pump(3);
	cr_assert_eq(nsent, 3);
	cr_assert_eq(sent[2].row, sent[1].row);
	cr_assert_str_neq(sent[2].kannel_id, sent[1].kannel_id);
	cr_assert_str_eq(col_text("kannel_id", sent[2].row), sent[2].kannel_id);
	cr_assert_eq(col_int("attempts", sent[2].row), 2);
	/* An ack for the old id is stale. */
	outbox_ack(ob, sent[1].kannel_id, OUTBOX_ACK_FAILED);
	cr_assert_str_eq(col_text("state", sent[2].row), "sending");
	for (i = 0; i < 3; i++)
		cr_assert_str_eq(sent[i].text, i == 0 ? "one" : "two");
}

/* A link that finds itself down while sending. */
static int
dying_send(void *arg, const struct outbox_mt *mt)
{
	(void)arg;
	(void)mt;
	outbox_set_link(ob, NULL);
	return 0;
}

Test(outbox, link_lost_inside_send_requeues_after_the_unit)
{
	const struct outbox_link	 dying = { dying_send, NULL };

	outbox_set_link(ob, &dying);
	notify("+254700000008", "lost");
	pump(3);
	cr_assert_eq(counts().queued, 1);
	cr_assert_eq(counts().sending, 0);
	cr_assert_eq(query("SELECT attempts FROM outbox"), 1);
	outbox_set_link(ob, &fake_link);
	pump(3);
	cr_assert_eq(nsent, 1);
	cr_assert_str_eq(sent[0].text, "lost");
}

Test(outbox, restart_requeues_rows_left_sending)
{
	long long	 row = one_sent();
	char		*text = repeat('c', 200);

	/* A multipart text, to check references go on after a restart. */
	notify("+254700000009", text);
	pump(3);
	cr_assert_eq(nsent, 3);
	cr_assert_eq(store_commit(store), 0);
	outbox_free(ob);
	store_free(store);

	cr_assert_not_null(store = store_open(path, NULL));
	cr_assert_str_eq(col_text("state", row), "sending");
	cr_assert_not_null(ob = outbox_new(base, store, conf));
	cr_assert_str_eq(col_text("state", row), "queued");
	cr_assert_eq(counts().queued, 3);
	cr_assert_eq(counts().sending, 0);
	/* Durable: a reader on another connection sees it too. */
	{
		sqlite3		*db;
		sqlite3_stmt	*st;

		cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
		    NULL), SQLITE_OK);
		cr_assert_eq(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM "
		    "outbox WHERE state = 'queued'", -1, &st, NULL), SQLITE_OK);
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		cr_assert_eq(sqlite3_column_int(st, 0), 3);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}

	outbox_set_link(ob, &fake_link);
	pump(3);
	cr_assert_eq(nsent, 6);
	notify("+254700000009", text);
	pump(3);
	cr_assert_eq(nsent, 8);
	cr_assert_eq(sent[6].udh[3], (sent[1].udh[3] + 1) & 0xff);
	free(text);
}

/* --- delivery reports ------------------------------------------------------ */

struct dlr_case {
	int		 event;
	const char	*dlr_state;
	const char	*state;		/* after an accepted row */
	const char	*error;
};

Test(outbox, dlr_each_event)
{
	static const struct dlr_case cases[] = {
		{ 1, "delivered", "delivered", "(null)" },
		{ 2, "failed", "failed", "not delivered (DLR)" },
		{ 4, "buffered", "accepted", "(null)" },
		{ 8, "smsc-ack", "accepted", "(null)" },
		{ 16, "smsc-nack", "failed", "not delivered (DLR)" },
		{ 8 | 1, "delivered", "delivered", "(null)" },
		{ 4 | 16, "smsc-nack", "failed", "not delivered (DLR)" },
		{ 8 | 4, "buffered", "accepted", "(null)" },
		{ 2 | 16, "failed", "failed", "not delivered (DLR)" },
	};
	size_t		 i, n = sizeof(cases) / sizeof(cases[0]);
	char		 url[32], fid[32];
	long long	 row;
	time_t		 t0;

	outbox_set_link(ob, &fake_link);
	for (i = 0; i < n; i++)
		notify("+254700000010", "dlr");
	pump(3);
	cr_assert_eq(nsent, (int)n);
	for (i = 0; i < n; i++) {
		outbox_ack(ob, sent[i].kannel_id, OUTBOX_ACK_SUCCESS);
		row = sent[i].row;
		snprintf(url, sizeof(url), "%lld", row);
		snprintf(fid, sizeof(fid), "smsc-%zu", i);
		t0 = time(NULL);
		cr_assert_eq(outbox_dlr(ob, url, cases[i].event, fid), 0);
		cr_assert_str_eq(col_text("dlr_state", row), cases[i].dlr_state,
		    "event %d", cases[i].event);
		cr_assert_str_eq(col_text("state", row), cases[i].state,
		    "event %d", cases[i].event);
		cr_assert_str_eq(col_text("error", row), cases[i].error,
		    "event %d", cases[i].event);
		cr_assert_str_eq(col_text("foreign_id", row), fid);
		cr_assert_geq(col_int("dlr_time", row), (long long)t0);
		cr_assert_leq(col_int("dlr_time", row), (long long)time(NULL));
	}
}

Test(outbox, dlr_final_state_is_kept)
{
	long long	 row = one_sent();
	char		 url[32];

	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_SUCCESS);
	snprintf(url, sizeof(url), "%lld", row);
	cr_assert_eq(outbox_dlr(ob, url, 8, "f1"), 0);
	cr_assert_str_eq(col_text("dlr_state", row), "smsc-ack");
	cr_assert_eq(outbox_dlr(ob, url, 1, "f1"), 0);
	cr_assert_str_eq(col_text("state", row), "delivered");
	/* Late reports after the final one change nothing. */
	cr_assert_eq(outbox_dlr(ob, url, 2, "f2"), 0);
	cr_assert_eq(outbox_dlr(ob, url, 8, "f3"), 0);
	cr_assert_str_eq(col_text("state", row), "delivered");
	cr_assert_str_eq(col_text("dlr_state", row), "delivered");
	cr_assert_str_eq(col_text("foreign_id", row), "f1");
	cr_assert_eq(counts().delivered, 1);
}

Test(outbox, dlr_before_ack_and_then_the_ack)
{
	long long	 row = one_sent();
	char		 url[32];

	snprintf(url, sizeof(url), "%lld", row);
	cr_assert_eq(outbox_dlr(ob, url, 1, NULL), 0);
	cr_assert_str_eq(col_text("state", row), "delivered");
	cr_assert_str_eq(col_text("foreign_id", row), "(null)");
	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_SUCCESS);
	cr_assert_str_eq(col_text("state", row), "delivered");
}

Test(outbox, dlr_unknown_row_or_bad_url_is_dropped)
{
	static const char *bad[] = {
		"", "abc", "12a", "-1", " 1", "1 ", "+1", "0x10",
		"1234567890123456789012", "1.0"
	};
	long long	 row = one_sent();
	char		 url[32];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(outbox_dlr(ob, bad[i], 1, "x"), 0, "%s", bad[i]);
	cr_assert_eq(outbox_dlr(ob, NULL, 1, "x"), 0);
	snprintf(url, sizeof(url), "%lld", row + 1000);
	cr_assert_eq(outbox_dlr(ob, url, 1, "x"), 0);
	/* No known event bit. */
	snprintf(url, sizeof(url), "%lld", row);
	cr_assert_eq(outbox_dlr(ob, url, 0, "x"), 0);
	cr_assert_eq(outbox_dlr(ob, url, 32, "x"), 0);
	cr_assert_str_eq(col_text("state", row), "sending");
	cr_assert_str_eq(col_text("dlr_state", row), "(null)");
	cr_assert_eq(query("SELECT COUNT(*) FROM outbox WHERE dlr_state IS "
	    "NOT NULL"), 0);
}

/* --- inline replies -------------------------------------------------------- */

Test(outbox, inline_replies_are_stored_not_sent_and_taken_once)
{
	struct mo	 mo;
	char		*s, *text = repeat('d', 300);

	memset(&mo, 0, sizeof(mo));
	mo.id = "http-1";
	mo.channel = "http";
	mo.sender = "+254733333333";
	mo.receiver = "3030";
	mo.text = "HELP";
	mo.reply_inline = 1;

	outbox_set_link(ob, &fake_link);
	cr_assert_null(outbox_take_inline(ob));
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(outbox_reply(ob, &mo, 0, "first"), 0);
	cr_assert_eq(outbox_reply(ob, &mo, 0, text), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	pump(5);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(counts().inline_, 2);	/* stored whole, not split */
	cr_assert_eq(counts().queued, 0);

	cr_assert_not_null(s = outbox_take_inline(ob));
	cr_assert_eq(strlen(s), 5 + 1 + 300);
	cr_assert_eq(strncmp(s, "first\n", 6), 0);
	cr_assert_str_eq(s + 6, text);
	free(s);
	cr_assert_null(outbox_take_inline(ob));
	free(text);
}

/* --- the throttle ---------------------------------------------------------- */

Test(outbox, bucket_with_injected_times)
{
	struct outbox_bucket	 b;
	size_t			 got = 0, k, n;
	double			 t;

	/* 10/s: a burst of 1, then one every 0.1 s. */
	outbox_bucket_init(&b, 10, 100.0);
	cr_assert_eq(outbox_bucket_refill(&b, 100.0), 1);
	outbox_bucket_spend(&b, 1);
	cr_assert_eq(outbox_bucket_refill(&b, 100.0), 0);
	cr_assert_float_eq(outbox_bucket_wait(&b), 0.1, 1e-9);
	cr_assert_eq(outbox_bucket_refill(&b, 100.05), 0);
	cr_assert_float_eq(outbox_bucket_wait(&b), 0.05, 1e-9);
	cr_assert_eq(outbox_bucket_refill(&b, 100.1), 1);
	cr_assert_float_eq(outbox_bucket_wait(&b), 0, 1e-9);
	outbox_bucket_spend(&b, 1);
	/* Idle time does not pile up beyond the burst. */
	cr_assert_eq(outbox_bucket_refill(&b, 200.0), 1);
	/* A clock that goes back earns nothing. */
	outbox_bucket_spend(&b, 1);
	cr_assert_eq(outbox_bucket_refill(&b, 150.0), 0);

	/* Over 10 s of 1 ms steps, taking all it gives: 1 + 10 * 10. */
	outbox_bucket_init(&b, 10, 0.0);
	for (k = 0; k <= 10000; k++) {
		t = (double)k / 1000;
		n = outbox_bucket_refill(&b, t);
		got += n;
		outbox_bucket_spend(&b, n);
	}
	cr_assert_eq(got, 101);

	/* 1000/s: a burst of a tenth of a second. */
	outbox_bucket_init(&b, 1000, 0.0);
	cr_assert_eq(outbox_bucket_refill(&b, 0.0), 100);
	outbox_bucket_spend(&b, 100);
	cr_assert_eq(outbox_bucket_refill(&b, 0.05), 50);

	/* 0.5/s: one every two seconds. */
	outbox_bucket_init(&b, 0.5, 0.0);
	cr_assert_eq(outbox_bucket_refill(&b, 0.0), 1);
	outbox_bucket_spend(&b, 1);
	cr_assert_float_eq(outbox_bucket_wait(&b), 2.0, 1e-9);
	cr_assert_eq(outbox_bucket_refill(&b, 1.9), 0);
	cr_assert_eq(outbox_bucket_refill(&b, 2.0), 1);

	/* No limit. */
	outbox_bucket_init(&b, 0, 0.0);
	cr_assert_eq(outbox_bucket_refill(&b, 0.0), SIZE_MAX);
	outbox_bucket_spend(&b, 1000);
	cr_assert_eq(outbox_bucket_refill(&b, 0.0), SIZE_MAX);
	cr_assert_float_eq(outbox_bucket_wait(&b), 0, 1e-9);
}

Test(outbox, throughput_over_real_time)
{
	int	 i, first;

	conf->throughput = 10;
	outbox_set_conf(ob, conf);
	cr_assert_eq(store_work_begin(store), 0);
	for (i = 0; i < 50; i++)
		cr_assert_eq(outbox_notify(ob, 0, "+254700000011", "t"), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
	outbox_set_link(ob, &fake_link);
	run_for(1.0);
	/* 1 at once and 10 a second: at most 11; slack below for a slow box. */
	first = nsent;
	cr_assert_leq(first, 11, "sent %d in 1 s at 10/s", first);
	cr_assert_geq(first, 5, "sent %d in 1 s at 10/s", first);

	/* A reload to no limit sends the rest on the next passes. */
	conf->throughput = 0;
	outbox_set_conf(ob, conf);
	pump(5);
	cr_assert_eq(nsent, 50);
}

Test(outbox, refused_send_leaves_the_row_queued)
{
	long long	 row;

	outbox_set_link(ob, &fake_link);
	refuse = 1;
	notify("+254700000012", "later");
	pump(5);
	cr_assert_eq(nsent, 0);
	row = query("SELECT id FROM outbox");
	cr_assert_str_eq(col_text("state", row), "queued");
	cr_assert_eq(col_int("attempts", row), 0);
	cr_assert_eq(col_int("kannel_id", row), -1);
	cr_assert_eq(col_int("sent", row), -1);

	/* The sender tries again by itself a moment later. */
	refuse = 0;
	run_for(0.5);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(sent[0].row, row);
	cr_assert_str_eq(col_text("state", row), "sending");
	cr_assert_eq(col_int("attempts", row), 1);
}

Test(outbox, counts_by_state)
{
	struct outbox_counts	 c;

	outbox_set_link(ob, &fake_link);
	notify("+254700000013", "a");
	notify("+254700000013", "b");
	notify("+254700000013", "c");
	pump(3);
	cr_assert_eq(nsent, 3);
	outbox_ack(ob, sent[0].kannel_id, OUTBOX_ACK_SUCCESS);
	outbox_ack(ob, sent[1].kannel_id, OUTBOX_ACK_FAILED);
	outbox_set_link(ob, NULL);
	notify("+254700000013", "d");
	cr_assert_eq(outbox_counts(ob, &c), 0);
	cr_assert_eq(c.queued, 2);
	cr_assert_eq(c.sending, 0);
	cr_assert_eq(c.accepted, 1);
	cr_assert_eq(c.buffered, 0);
	cr_assert_eq(c.delivered, 0);
	cr_assert_eq(c.failed, 1);
	cr_assert_eq(c.inline_, 0);
}

Test(outbox, free_accepts_null)
{
	outbox_free(NULL);
	cr_assert_null(outbox_new(NULL, store, conf));
}
