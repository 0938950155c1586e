/*
 * test_outbox_pg.c - the outbox of several instances on one PostgreSQL
 * database (MB_TEST_PG; a database per test): two outboxes on two
 * connections never hand over the same row; the rows a dead instance left
 * in sending are queued again by the takeover only after the lease, a live
 * one's never; a restart under the same name takes its own back at once;
 * a name a live instance holds is refused; acks of a batch where one
 * statement fails keep the others; a batch sent is marked in one
 * statement, and the acks of a batch with one statement per kind.
 */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include <criterion/criterion.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "base/gw.h"
#include "base/conf.h"
#include "queue/instance.h"
#include "queue/outbox.h"
#include "store/store.h"

#include "pg_fixture.h"

#define NROWS		500
#define MAX_SENT	2000

/* One instance: its conf, connection, row and outbox. */
struct node {
	struct conf		 conf;
	struct store		*store;
	struct instance		*instance;
	struct outbox		*outbox;
	int			 sent;		/* MTs its link took */
	char			 ids[MAX_SENT][64];
	long long		 rows[MAX_SENT];
};

static const char		*db;
static struct event_base	*base;
static char			 global_sender[] = "MARKET";
static int			 handed[NROWS + 16]; /* by row id, all nodes */

static int
fake_send(void *arg, const struct outbox_mt *mt)
{
	struct node	*n = arg;

	cr_assert_lt(n->sent, MAX_SENT);
	cr_assert_lt(mt->row, NROWS + 16);
	handed[mt->row]++;
	n->rows[n->sent] = mt->row;
	snprintf(n->ids[n->sent], sizeof(n->ids[0]), "%s", mt->kannel_id);
	n->sent++;
	return 0;
}

static void
node_conf(struct node *n, char *name)
{
	memset(n, 0, sizeof(*n));
	n->conf.global_sender = global_sender;
	n->conf.max_parts = 3;
	n->conf.retry_limit = 3;
	n->conf.retry_delay = 5;
	n->conf.dlr_mask = 31;
	n->conf.instance = name;
	n->conf.outbox_lease = 60;
}

/* Start n as instance name on a connection of its own. */
static void
node_start(struct node *n)
{
	struct outbox_link	 link = { fake_send, n };

	cr_assert_not_null(n->store = store_open(db, NULL));
	cr_assert(store_shared(n->store));
	cr_assert_not_null(n->instance = instance_new(NULL, n->store,
	    &n->conf));
	cr_assert_not_null(n->outbox = outbox_new(base, n->store, &n->conf));
	instance_set_outbox(n->instance, n->outbox);
	outbox_set_link(n->outbox, &link);
	cr_assert_eq(store_commit(n->store), 0);
}

static void put_instance(struct store *, const char *, const char *,
    long long, long long);

/* Stop n as a crash would: its row left, nothing acked. */
static void
node_crash(struct node *n)
{
	store_commit(n->store);
	outbox_free(n->outbox);
	/* A clean stop deletes the row: put it back as a crash leaves it. */
	instance_free(n->instance);
	put_instance(n->store, n->conf.instance, "elsewhere", 1,
	    (long long)time(NULL));
	store_free(n->store);
	n->outbox = NULL;
	n->instance = NULL;
	n->store = NULL;
}

static void
node_stop(struct node *n)
{
	if (n->store == NULL)
		return;
	store_commit(n->store);
	instance_free(n->instance);
	outbox_free(n->outbox);
	store_free(n->store);
	n->store = NULL;
}

/* One send pass of n, its transaction left open. */
static void
node_pass(struct node *n)
{
	outbox_kick(n->outbox);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* One integer through s. */
static long long
one(struct store *s, const char *sql, const char *arg)
{
	struct store_stmt	*st = store_query(s, sql);
	long long		 v = -1;

	cr_assert_not_null(st, "%s", sql);
	if (arg != NULL)
		store_bind_text(st, 1, arg);
	if (store_step(st) == STORE_ROW)
		v = store_int(st, 0);
	store_done(st);
	return v;
}

static void
queue_notices(struct node *n, int count)
{
	char	 to[32];
	int	 i;

	cr_assert_eq(store_work_begin(n->store), 0);
	for (i = 0; i < count; i++) {
		snprintf(to, sizeof(to), "2547%08d", i);
		cr_assert_eq(outbox_notify(n->outbox, 0, to, "hello"), 0);
	}
	cr_assert_eq(store_work_end(n->store, 1), 0);
	cr_assert_eq(store_commit(n->store), 0);
}

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	db = pg_fixture_create("outbox_pg");
	cr_assert_not_null(base = event_base_new());
	memset(handed, 0, sizeof(handed));
}

static void
teardown(void)
{
	if (base != NULL)
		event_base_free(base);
	pg_fixture_drop();
	gwlib_shutdown();
}

TestSuite(outbox_pg, .init = setup, .fini = teardown);

static const char count_owned[] =
    "SELECT COUNT(*) FROM outbox WHERE state = 'sending' AND owner = $1";
static const char count_queued[] =
    "SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND "
    "owner IS NULL";

/* A plain read of the due rows would hand them over twice, or wait on
 * the other's row locks for ever: the timeout makes that a failure. */
Test(outbox_pg, two_instances_never_hand_over_the_same_row, .timeout = 60)
{
	static struct node	 a, b;
	char			 na[] = "a", nb[] = "b";
	long long		 id;
	int			 i, total;

	node_conf(&a, na);
	node_conf(&b, nb);
	node_start(&a);
	node_start(&b);
	queue_notices(&a, NROWS);
	/*
	 * Passes alternate with both transactions open: rows one has
	 * claimed and not committed are there for the other to read.
	 */
	for (i = 0; i < 20 && a.sent + b.sent < NROWS; i++) {
		node_pass(&a);
		node_pass(&b);
		if (i % 2 == 1) {
			cr_assert_eq(store_commit(a.store), 0);
			cr_assert_eq(store_commit(b.store), 0);
		}
	}
	store_commit(a.store);
	store_commit(b.store);
	total = a.sent + b.sent;
	cr_assert_eq(total, NROWS, "%d handed over", total);
	cr_assert_gt(a.sent, 0);
	cr_assert_gt(b.sent, 0);
	for (id = 1; id <= NROWS; id++)
		cr_assert_eq(handed[id], 1, "row %lld handed over %d times",
		    id, handed[id]);
	cr_assert_eq(one(a.store, count_owned, "a"), a.sent);
	cr_assert_eq(one(a.store, count_owned, "b"), b.sent);
	node_stop(&a);
	node_stop(&b);
}

Test(outbox_pg, dead_instance_rows_are_taken_over_after_the_lease_only)
{
	static struct node	 a, b;
	char			 na[] = "a", nb[] = "b";
	struct store_stmt	*st;
	int			 i;

	node_conf(&a, na);
	node_conf(&b, nb);
	node_start(&a);
	node_start(&b);
	outbox_set_link(b.outbox, NULL);
	queue_notices(&a, 10);
	node_pass(&a);
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(a.sent, 10);
	cr_assert_eq(one(b.store, count_owned, "a"), 10);

	/* a is live: b's heartbeat and its lost link leave a's rows. */
	instance_beat(b.instance);
	{
		struct outbox_link	 link = { fake_send, &b };

		outbox_set_link(b.outbox, &link);
	}
	node_pass(&b);
	outbox_set_link(b.outbox, NULL);
	cr_assert_eq(b.sent, 0);
	cr_assert_eq(store_commit(b.store), 0);
	cr_assert_eq(one(b.store, count_owned, "a"), 10);

	/* a stops beating: within the lease nothing moves. */
	node_crash(&a);
	cr_assert_not_null(st = store_query(b.store,
	    "UPDATE instances SET heartbeat = $1 WHERE name = 'a'"));
	store_bind_int(st, 1, (long long)time(NULL) - 50);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	cr_assert_eq(store_commit(b.store), 0);
	instance_beat(b.instance);
	cr_assert_eq(store_commit(b.store), 0);
	cr_assert_eq(one(b.store, count_owned, "a"), 10);
	cr_assert_eq(one(b.store, count_queued, NULL), 0);

	/* Past the lease: the takeover queues them again, due now. */
	cr_assert_not_null(st = store_query(b.store,
	    "UPDATE instances SET heartbeat = $1 WHERE name = 'a'"));
	store_bind_int(st, 1, (long long)time(NULL) - 61);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	cr_assert_eq(store_commit(b.store), 0);
	instance_beat(b.instance);
	cr_assert_eq(store_commit(b.store), 0);
	cr_assert_eq(one(b.store, count_owned, "a"), 0);
	cr_assert_eq(one(b.store, count_queued, NULL), 10);

	/* b, its link back, sends them. */
	{
		struct outbox_link	 link = { fake_send, &b };

		outbox_set_link(b.outbox, &link);
	}
	for (i = 0; i < 3 && b.sent < 10; i++)
		node_pass(&b);
	cr_assert_eq(store_commit(b.store), 0);
	cr_assert_eq(b.sent, 10);
	cr_assert_eq(one(b.store, count_owned, "b"), 10);
	node_stop(&b);
}

/* The pid of a process that has ended. */
static long long
dead_pid(void)
{
	pid_t	 p = fork();

	cr_assert_neq(p, -1);
	if (p == 0)
		_exit(0);
	cr_assert_eq(waitpid(p, NULL, 0), p);
	return (long long)p;
}

/* A row of the instances table as another process would have left it. */
static void
put_instance(struct store *s, const char *name, const char *host,
    long long pid, long long beat)
{
	struct store_stmt	*st;

	cr_assert_not_null(st = store_query(s, "INSERT INTO instances "
	    "(name, host, pid, started, heartbeat) VALUES ($1, $2, $3, $4, "
	    "$4)"));
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, host);
	store_bind_int(st, 3, pid);
	store_bind_int(st, 4, beat);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_done(st);
	cr_assert_eq(store_commit(s), 0);
}

Test(outbox_pg, restart_under_the_same_name_takes_its_own_rows_at_once)
{
	static struct node	 a, b;
	char			 na[] = "a", nb[] = "b";
	char			 host[72];

	node_conf(&a, na);
	node_conf(&b, nb);
	node_start(&b);
	queue_notices(&b, 9);
	/* a crashed a moment ago, on this host, with rows in sending. */
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	put_instance(b.store, "a", host, dead_pid(), (long long)time(NULL));
	cr_assert_eq(store_exec(b.store, "UPDATE outbox SET state = "
	    "'sending', owner = 'a' WHERE id <= 4"), 0);
	cr_assert_eq(store_exec(b.store, "UPDATE outbox SET state = "
	    "'sending', owner = 'b' WHERE id BETWEEN 5 AND 7"), 0);
	cr_assert_eq(store_exec(b.store, "UPDATE outbox SET state = "
	    "'sending', owner = NULL WHERE id = 8"), 0);
	cr_assert_eq(store_commit(b.store), 0);

	/* Its restart: its own at once; b's and the ownerless one (b is
	 * live) stay. */
	cr_assert_not_null(a.store = store_open(db, NULL));
	cr_assert_not_null(a.instance = instance_new(NULL, a.store, &a.conf));
	cr_assert_not_null(a.outbox = outbox_new(base, a.store, &a.conf));
	cr_assert_eq(one(a.store, count_owned, "a"), 0);
	cr_assert_eq(one(a.store, count_owned, "b"), 3);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
	    "state = 'sending' AND owner IS NULL", NULL), 1);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
	    "state = 'queued'", NULL), 5);
	node_stop(&a);
	/* A clean stop deleted a's row. */
	cr_assert_eq(one(b.store, "SELECT COUNT(*) FROM instances WHERE "
	    "name = $1", "a"), 0);
	node_stop(&b);
}

Test(outbox_pg, a_name_a_live_instance_holds_is_refused)
{
	static struct node	 b;
	struct store		*s;
	char			 nc[] = "c", nd[] = "d", nb[] = "b";
	struct conf		 c;
	struct instance		*in;

	node_conf(&b, nb);
	node_start(&b);
	put_instance(b.store, "c", "elsewhere", 1, (long long)time(NULL));
	put_instance(b.store, "d", "elsewhere", 1,
	    (long long)time(NULL) - 100);
	cr_assert_not_null(s = store_open(db, NULL));
	memset(&c, 0, sizeof(c));
	c.outbox_lease = 60;
	c.instance = nc;
	cr_assert_null(instance_new(NULL, s, &c));
	/* d's heartbeat is older than the lease: its name is free. */
	c.instance = nd;
	cr_assert_not_null(in = instance_new(NULL, s, &c));
	instance_free(in);
	/* b's own name, from another live process of this host: refused
	 * too (the row of this very pid would be a gone process's). */
	{
		struct store_stmt	*st = store_query(b.store,
		    "UPDATE instances SET pid = $1 WHERE name = 'b'");

		cr_assert_not_null(st);
		store_bind_int(st, 1, (long long)getppid());
		cr_assert_eq(store_step(st), STORE_DONE);
		store_done(st);
		cr_assert_eq(store_commit(b.store), 0);
	}
	c.instance = nb;
	cr_assert_null(instance_new(NULL, s, &c));
	store_free(s);
	node_stop(&b);
}

Test(outbox_pg, batch_acks_with_one_failing_statement_keep_the_others)
{
	static struct node	 a;
	char			 na[] = "a";
	int			 i;

	node_conf(&a, na);
	node_start(&a);
	queue_notices(&a, 3);
	node_pass(&a);
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(a.sent, 3);
	/* The ack of row 2 fails (as a full disk or a lock timeout would). */
	cr_assert_eq(store_exec(a.store,
	    "CREATE FUNCTION mb_refuse() RETURNS trigger AS $$ BEGIN "
	    "IF NEW.id = 2 AND NEW.state = 'accepted' THEN "
	    "RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ "
	    "LANGUAGE plpgsql; CREATE TRIGGER mb_refuse BEFORE UPDATE ON "
	    "outbox FOR EACH ROW EXECUTE FUNCTION mb_refuse()"), 0);
	outbox_batch_begin(a.outbox);
	for (i = 0; i < a.sent; i++)
		outbox_ack(a.outbox, a.ids[i], OUTBOX_ACK_SUCCESS);
	outbox_batch_end(a.outbox);
	store_commit(a.store);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
	    "state = 'accepted' AND id IN (1, 3)", NULL), 2);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
	    "state = 'sending' AND id = 2", NULL), 1);
	node_stop(&a);
}

Test(outbox_pg, a_gone_process_of_this_host_is_taken_over_at_start)
{
	static struct node	 a, b;
	char			 na[] = "a", nb[] = "b";
	char			 host[72];

	node_conf(&a, na);
	node_conf(&b, nb);
	node_start(&b);
	queue_notices(&b, 6);
	/*
	 * Killed under another name (a default hostname-pid), its heartbeat
	 * two beats late (a live process of another pid namespace would
	 * beat), and a's own row, a moment old but of this very pid: gone.
	 */
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	put_instance(b.store, "old", host, dead_pid(),
	    (long long)time(NULL) - 2 * instance_heartbeat_interval(60) - 1);
	put_instance(b.store, "a", host, (long long)getpid(),
	    (long long)time(NULL));
	cr_assert_eq(store_exec(b.store, "UPDATE outbox SET state = "
	    "'sending', owner = 'old' WHERE id <= 4"), 0);
	cr_assert_eq(store_commit(b.store), 0);
	/* b was started before: only a new start looks for gone pids. */
	instance_beat(b.instance);
	cr_assert_eq(store_commit(b.store), 0);
	cr_assert_eq(one(b.store, count_owned, "old"), 4);

	/* A heartbeat on time is no proof the process is gone: kept. */
	put_instance(b.store, "fresh", host, dead_pid(), (long long)time(NULL));
	cr_assert_eq(store_commit(b.store), 0);

	node_start(&a);
	cr_assert_eq(one(a.store, count_owned, "old"), 0);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM instances WHERE "
	    "name = $1", "fresh"), 1);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM instances WHERE "
	    "name = $1", "old"), 0);
	node_stop(&a);
	node_stop(&b);
}

/* A link that checks, on a connection of its own, that the row it is
 * handed is committed: what another instance (a DLR's) would see. */
static int	seen_committed, seen_uncommitted;

static int
committed_send(void *arg, const struct outbox_mt *mt)
{
	char	 sql[96];

	(void)arg;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM outbox WHERE "
	    "id = %lld", mt->row);
	if (pg_fixture_query(sql) == 1)
		seen_committed++;
	else
		seen_uncommitted++;
	return 0;
}

/*
 * A row queued in the open transaction is handed over only once that
 * transaction is committed: its delivery report may reach another
 * instance at once, which must find the row.
 */
Test(outbox_pg, a_row_is_handed_over_only_once_committed)
{
	static struct node	 a;
	struct outbox_link	 link = { committed_send, &a };
	char			 na[] = "a";

	node_conf(&a, na);
	node_start(&a);
	outbox_set_link(a.outbox, &link);
	cr_assert_eq(store_work_begin(a.store), 0);
	cr_assert_eq(outbox_notify(a.outbox, 0, "254700000001", "hello"), 0);
	cr_assert_eq(store_work_end(a.store, 1), 0);
	node_pass(&a);
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(seen_committed, 1);
	cr_assert_eq(seen_uncommitted, 0);
	node_stop(&a);
}

/* Count the UPDATE statements on outbox that change a row from now on
 * (a statement trigger), read with updates_counted(). */
static void
count_updates(struct store *s)
{
	cr_assert_eq(store_exec(s,
	    "CREATE TABLE mb_updates (n INTEGER); "
	    "INSERT INTO mb_updates VALUES (0); "
	    "CREATE FUNCTION mb_count() RETURNS trigger AS $$ BEGIN "
	    "IF EXISTS (SELECT 1 FROM changed) THEN "
	    "UPDATE mb_updates SET n = n + 1; END IF; RETURN NULL; END $$ "
	    "LANGUAGE plpgsql; CREATE TRIGGER mb_count AFTER UPDATE ON "
	    "outbox REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
	    "EXECUTE FUNCTION mb_count()"), 0);
	cr_assert_eq(store_commit(s), 0);
}

static long long
updates_counted(struct store *s)
{
	return one(s, "SELECT n FROM mb_updates", NULL);
}

/* The rows of a batch handed over are marked sent in one statement,
 * each with its own Kannel id: one per row cost a round trip each. */
Test(outbox_pg, a_batch_sent_is_marked_in_one_statement)
{
	static struct node	 a;
	struct store_stmt	*st;
	char			 na[] = "a";
	int			 i;

	node_conf(&a, na);
	node_start(&a);
	queue_notices(&a, 100);
	count_updates(a.store);
	node_pass(&a);
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(a.sent, 100);
	/* The claim and the marking. */
	cr_assert_eq(updates_counted(a.store), 2, "%lld statements",
	    updates_counted(a.store));
	for (i = 0; i < a.sent; i++) {
		cr_assert_not_null(st = store_query(a.store, "SELECT "
		    "COUNT(*) FROM outbox WHERE id = $1 AND kannel_id = $2 "
		    "AND attempts = 1 AND state = 'sending' AND owner = 'a' "
		    "AND sent IS NOT NULL"));
		store_bind_int(st, 1, a.rows[i]);
		store_bind_text(st, 2, a.ids[i]);
		cr_assert_eq(store_step(st), STORE_ROW);
		cr_assert_eq(store_int(st, 0), 1, "row %lld as %s",
		    a.rows[i], a.ids[i]);
		store_done(st);
	}
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
	    "state = 'sending'", NULL), 100);
	node_stop(&a);
}

/*
 * Eight rows sent, their acks of every kind in one batch: accepted 1-3,
 * buffered 4, refused 5, temporarily refused 6 (first attempt: again in
 * retry-delay), 7 (at the retry limit: failed) and 8 (second attempt:
 * again in twice retry-delay).  fail_row, if not 0, is a row whose
 * update fails.
 */
static void
acks_of_every_kind(int fail_row)
{
	static const enum outbox_ack kinds[8] = { OUTBOX_ACK_SUCCESS,
	    OUTBOX_ACK_SUCCESS, OUTBOX_ACK_SUCCESS, OUTBOX_ACK_BUFFERED,
	    OUTBOX_ACK_FAILED, OUTBOX_ACK_FAILED_TMP, OUTBOX_ACK_FAILED_TMP,
	    OUTBOX_ACK_FAILED_TMP };
	static struct node	 a;
	struct store_stmt	*st;
	char			 na[] = "a", sql[512];
	long long		 t0, t1;
	int			 i;

	node_conf(&a, na);
	node_start(&a);
	queue_notices(&a, 8);
	node_pass(&a);
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(a.sent, 8);
	for (i = 0; i < 8; i++)
		cr_assert_eq(a.rows[i], i + 1);
	/* Row 7 was tried twice before, row 8 once: the stored count
	 * decides. */
	cr_assert_eq(store_exec(a.store, "UPDATE outbox SET attempts = 3 "
	    "WHERE id = 7; UPDATE outbox SET attempts = 2 WHERE id = 8"), 0);
	cr_assert_eq(store_commit(a.store), 0);
	count_updates(a.store);
	if (fail_row != 0) {
		snprintf(sql, sizeof(sql), "CREATE FUNCTION mb_refuse() "
		    "RETURNS trigger AS $$ BEGIN IF NEW.id = %d AND "
		    "NEW.state <> 'sending' THEN RAISE EXCEPTION 'refused'; "
		    "END IF; RETURN NEW; END $$ LANGUAGE plpgsql; "
		    "CREATE TRIGGER mb_refuse BEFORE UPDATE ON outbox FOR "
		    "EACH ROW EXECUTE FUNCTION mb_refuse()", fail_row);
		cr_assert_eq(store_exec(a.store, sql), 0);
		cr_assert_eq(store_commit(a.store), 0);
	}
	t0 = (long long)time(NULL);
	outbox_batch_begin(a.outbox);
	for (i = 0; i < 8; i++)
		outbox_ack(a.outbox, a.ids[i], kinds[i]);
	/* Not in flight (acked already): ignored. */
	outbox_ack(a.outbox, a.ids[0], OUTBOX_ACK_FAILED);
	outbox_batch_end(a.outbox);
	t1 = (long long)time(NULL);
	cr_assert_eq(store_commit(a.store), 0);
	if (fail_row == 0)
		cr_assert_eq(updates_counted(a.store), 4, "%lld statements",
		    updates_counted(a.store));
	if (fail_row != 1 && fail_row != 2 && fail_row != 3)
		cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
		    "state = 'accepted' AND accepted IS NOT NULL AND "
		    "id <= 3", NULL), 3);
	if (fail_row != 4)
		cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
		    "state = 'buffered' AND id = 4", NULL), 1);
	if (fail_row != 5)
		cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
		    "state = 'failed' AND id = 5 AND "
		    "error = 'refused by bearerbox'", NULL), 1);
	cr_assert_not_null(st = store_query(a.store, "SELECT COUNT(*) FROM "
	    "outbox WHERE (id = 6 AND state = 'queued' AND owner = 'a' AND "
	    "next_attempt BETWEEN $1 + 5 AND $2 + 5) OR (id = 7 AND "
	    "state = 'failed' AND error LIKE '%retry limit%') OR "
	    "(id = 8 AND state = 'queued' AND next_attempt BETWEEN "
	    "$1 + 10 AND $2 + 10)"));
	store_bind_int(st, 1, t0);
	store_bind_int(st, 2, t1);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_assert_eq(store_int(st, 0), fail_row >= 6 ? 2 : 3);
	store_done(st);
	if (fail_row != 0)
		cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
		    "state = 'sending'", NULL), 1);
	node_stop(&a);
}

Test(outbox_pg, acks_of_every_kind_in_one_batch_are_one_statement_each)
{
	acks_of_every_kind(0);
}

/* One row's update fails: the batch's statement fails, and every other
 * ack is recorded all the same, one by one. */
Test(outbox_pg, a_failing_row_in_a_batch_of_every_kind_keeps_the_others)
{
	acks_of_every_kind(4);
}

Test(outbox_pg, a_failing_retry_in_a_batch_keeps_the_others)
{
	acks_of_every_kind(6);
}

/* A delivery report that comes after its row's ack in one read finds
 * the ack recorded: the row keeps the time it was accepted. */
Test(outbox_pg, a_report_after_a_held_ack_of_its_row_comes_second)
{
	static struct node	 a;
	char			 na[] = "a";

	node_conf(&a, na);
	node_start(&a);
	queue_notices(&a, 2);
	node_pass(&a);
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(a.sent, 2);
	outbox_batch_begin(a.outbox);
	outbox_ack(a.outbox, a.ids[0], OUTBOX_ACK_SUCCESS);
	outbox_ack(a.outbox, a.ids[1], OUTBOX_ACK_SUCCESS);
	cr_assert_eq(outbox_dlr(a.outbox, "1", 1, "f1"), 0);
	outbox_batch_end(a.outbox);
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE id = 1 "
	    "AND state = 'delivered' AND accepted IS NOT NULL", NULL), 1);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE id = 2 "
	    "AND state = 'accepted'", NULL), 1);
	node_stop(&a);
}


/*
 * An ack whose row another instance's transaction holds longer than the
 * lock_timeout: recorded once that one commits, not lost.
 */
Test(outbox_pg, an_ack_that_meets_another_instance_is_recorded_again,
    .timeout = 30)
{
	static struct node	 a;
	char			 na[] = "a";
	struct pg_fixture_hold	 hold;
	PGconn			*other;
	PGresult		*r;
	pthread_t		 t;

	node_conf(&a, na);
	node_start(&a);
	queue_notices(&a, 1);
	node_pass(&a);
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(a.sent, 1);
	cr_assert_eq(store_exec(a.store, "SET lock_timeout = 200"), 0);
	other = PQconnectdb(db);
	cr_assert_eq(PQstatus(other), CONNECTION_OK);
	r = PQexec(other, "BEGIN; SELECT id FROM outbox WHERE id = 1 "
	    "FOR UPDATE");
	cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s",
	    PQresultErrorMessage(r));
	PQclear(r);
	hold.holder = other;
	hold.ms = 300;		/* past the first try's 200 ms */
	cr_assert_eq(pthread_create(&t, NULL, pg_fixture_commit_under_wait,
	    &hold), 0);
	outbox_ack(a.outbox, a.ids[0], OUTBOX_ACK_SUCCESS);
	pthread_join(t, NULL);
	PQfinish(other);
	cr_assert(hold.seen, "the ack never waited for the other's row");
	cr_assert_eq(store_commit(a.store), 0);
	cr_assert_eq(one(a.store, "SELECT COUNT(*) FROM outbox WHERE "
	    "state = 'accepted'", NULL), 1);
	node_stop(&a);
}
