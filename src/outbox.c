/*
 * outbox.c - the queue of messages to phones: rows written inside the
 * caller's unit of work, a sender on a libevent timer that hands due rows
 * to the link at the conf's throughput, bearerbox's acks and the delivery
 * reports that move a row through its states.
 *
 * See outbox.h for the contract and the row states.  The database is the
 * queue: nothing is held in memory but the in-flight count the database
 * itself answers, so a restart or a lost link loses nothing.  The sender
 * never loops without bound in one callback: it hands over at most a batch
 * per pass, then sleeps until the next token, the next due row, an ack, a
 * commit that queued rows, or a link coming up.
 */
#include "config.h"

#include <sys/time.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "gw.h"
#include "gwlib/gw_uuid.h"

#include "conf.h"
#include "gsm.h"
#include "mo.h"
#include "outbox.h"
#include "store.h"

#define OUTBOX_WINDOW		100	/* MTs handed over and not yet acked */
#define OUTBOX_BATCH		100	/* MTs handed over in one pass */
#define OUTBOX_IDLE_WAKE	60.0	/* seconds: the longest sleep */
#define OUTBOX_REFUSED_WAKE	0.1	/* seconds: the link said not now */
#define OUTBOX_ERROR_WAKE	1.0	/* seconds: the store failed */
#define OUTBOX_BACKOFF_MAX	3600	/* seconds: the longest retry delay */
#define OUTBOX_UDH_LEN		6	/* 05 00 03 ref parts part */

struct outbox {
	struct event_base	*base;
	struct store		*store;
	const struct conf	*conf;
	struct event		*timer;		/* the sender */

	struct outbox_link	 link;		/* a copy; valid if has_link */
	int			 has_link;
	int			 in_send;	/* inside link.send */
	int			 requeue_after;	/* link lost inside link.send */

	int			 commit_waiting; /* store_on_commit registered */
	unsigned		 concat_ref;	/* next reference, 0..255 */
	struct outbox_bucket	 bucket;

	char			*inline_text;	/* for outbox_take_inline */
	size_t			 inline_len;
};

/* One due row, copied out of its SELECT so the statement can be reset
 * before the row is written to. */
struct outbox_row {
	long long	 id;
	char		*sender, *receiver, *text, *smsc_id, *meta_data;
	int		 coding, concat_ref, part, parts;
};

/* --- the token bucket ----------------------------------------------------- */

void
outbox_bucket_init(struct outbox_bucket *b, double rate, double now)
{
	b->rate = rate > 0 ? rate : 0;
	b->burst = b->rate / 10 > 1 ? b->rate / 10 : 1;
	b->tokens = b->burst;
	b->last = now;
}

size_t
outbox_bucket_refill(struct outbox_bucket *b, double now)
{
	double	 whole;

	if (b->rate <= 0)
		return SIZE_MAX;
	/* A clock that went back earns nothing and moves nothing. */
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
	/* The epsilon keeps a token that is due now from reading 0.9999. */
	whole = b->tokens + 1e-9;
	return whole >= 1 ? (size_t)whole : 0;
}

void
outbox_bucket_spend(struct outbox_bucket *b, size_t n)
{
	if (b->rate > 0)
		b->tokens -= (double)n;
}

double
outbox_bucket_wait(const struct outbox_bucket *b)
{
	if (b->rate <= 0 || b->tokens + 1e-9 >= 1)
		return 0;
	return (1 - b->tokens) / b->rate;
}

/* --- time and scheduling -------------------------------------------------- */

/* Seconds on the monotonic clock, for the bucket. */
static double
outbox_monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock seconds with a fraction, to wake when a stored time is due. */
static double
outbox_wallclock(void)
{
	struct timeval	 tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Run the sender after secs (0: on the next pass), replacing any wake-up
 * already set. */
static void
outbox_schedule(struct outbox *ob, double secs)
{
	struct timeval	 tv;

	if (secs < 0)
		secs = 0;
	if (secs > OUTBOX_IDLE_WAKE)
		secs = OUTBOX_IDLE_WAKE;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	if (evtimer_add(ob->timer, &tv) == -1)
		error(0, "outbox: cannot schedule the sender");
}

void
outbox_kick(struct outbox *ob)
{
	if (ob != NULL)
		outbox_schedule(ob, 0);
}

/* After the commit of rows queued in this transaction: send them. */
static void
outbox_commit_cb(void *arg, int ok)
{
	struct outbox	*ob = arg;

	ob->commit_waiting = 0;
	if (ok)
		outbox_kick(ob);
}

/* --- small SQL helpers ---------------------------------------------------- */

/* Step a statement that returns no rows; 0 or -1 (logged).  *changes, if
 * not NULL, gets the rows it changed. */
static int
outbox_step_done(struct outbox *ob, sqlite3_stmt *st, const char *what,
    int *changes)
{
	int	 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error(0, "outbox: %s: %s", what,
		    sqlite3_errmsg(store_db(ob->store)));
		return -1;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(store_db(ob->store));
	return 0;
}

/* Bind text, or NULL for a NULL pointer. */
static void
outbox_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* A malloc'd copy of a text column, NULL for NULL.  -1 if out of memory. */
static int
outbox_column_dup(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	*out = NULL;
	if (s == NULL)
		return 0;
	if ((*out = strdup((const char *)s)) == NULL)
		return -1;
	return 0;
}

/* Put every row in sending back to queued, due now.  Inside a unit. */
static int
outbox_requeue_sending(struct outbox *ob)
{
	static const char sql[] =
	    "UPDATE outbox SET state = 'queued', next_attempt = ?1 "
	    "WHERE state = 'sending'";
	sqlite3_stmt	*st;
	int		 n = 0;

	if ((st = store_stmt(ob->store, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	if (outbox_step_done(ob, st, "requeue", &n) == -1)
		return -1;
	if (n > 0)
		info(0, "outbox: %d message(s) not acked are queued again", n);
	return 0;
}

/* Run outbox_requeue_sending in a unit of its own. */
static int
outbox_requeue_unit(struct outbox *ob)
{
	int	 ok;

	if (store_work_begin(ob->store) == -1)
		return -1;
	ok = outbox_requeue_sending(ob) == 0;
	if (store_work_end(ob->store, ok) == -1)
		ok = 0;
	return ok ? 0 : -1;
}

/* The next concatenation reference: one after the last stored, so a
 * restart does not reuse the reference of the texts just sent. */
static int
outbox_load_concat_ref(struct outbox *ob)
{
	static const char sql[] =
	    "SELECT concat_ref FROM outbox WHERE concat_ref IS NOT NULL "
	    "ORDER BY id DESC LIMIT 1";
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(ob->store, sql)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ob->concat_ref = ((unsigned)sqlite3_column_int(st, 0) + 1) & 0xff;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		error(0, "outbox: %s", sqlite3_errmsg(store_db(ob->store)));
		return -1;
	}
	return 0;
}

/* --- life ------------------------------------------------------------------ */

static void outbox_send_cb(evutil_socket_t, short, void *);

struct outbox *
outbox_new(struct event_base *base, struct store *store,
    const struct conf *conf)
{
	struct outbox	*ob;

	if (base == NULL || store == NULL || conf == NULL) {
		error(0, "outbox: needs a loop, a store and a conf");
		return NULL;
	}
	if ((ob = calloc(1, sizeof(*ob))) == NULL) {
		error(errno, "outbox: out of memory");
		return NULL;
	}
	ob->base = base;
	ob->store = store;
	ob->conf = conf;
	outbox_bucket_init(&ob->bucket, conf->throughput, outbox_monotonic());
	if ((ob->timer = evtimer_new(base, outbox_send_cb, ob)) == NULL) {
		error(0, "outbox: cannot create the sender's timer");
		goto fail;
	}
	/*
	 * Rows left in sending by a stop or a crash were never acked: send
	 * them again.  This runs before the loop, so it commits by itself.
	 */
	if (outbox_requeue_unit(ob) == -1 || store_commit(store) == -1) {
		error(0, "outbox: cannot queue again the rows left in sending");
		goto fail;
	}
	if (outbox_load_concat_ref(ob) == -1)
		goto fail;
	return ob;
fail:
	outbox_free(ob);
	return NULL;
}

void
outbox_free(struct outbox *ob)
{
	if (ob == NULL)
		return;
	/*
	 * The store holds a commit callback with this outbox as its argument:
	 * run it now rather than leave it pointing at freed memory.
	 */
	if (ob->commit_waiting)
		store_commit(ob->store);
	if (ob->timer != NULL)
		event_free(ob->timer);
	free(ob->inline_text);
	free(ob);
}

void
outbox_set_conf(struct outbox *ob, const struct conf *conf)
{
	if (conf == NULL)
		return;
	ob->conf = conf;
	outbox_bucket_init(&ob->bucket, conf->throughput, outbox_monotonic());
	outbox_kick(ob);
}

void
outbox_set_link(struct outbox *ob, const struct outbox_link *link)
{
	if (link != NULL && link->send != NULL) {
		ob->link = *link;
		ob->has_link = 1;
		debug("mb.outbox", 0, "outbox: link up");
		outbox_kick(ob);
		return;
	}
	ob->has_link = 0;
	memset(&ob->link, 0, sizeof(ob->link));
	evtimer_del(ob->timer);
	debug("mb.outbox", 0, "outbox: link down");
	/*
	 * A link that finds itself down inside its send is inside the
	 * sender's unit of work: units do not nest, so the rows go back to
	 * queued when that unit has ended.
	 */
	if (ob->in_send) {
		ob->requeue_after = 1;
		return;
	}
	if (outbox_requeue_unit(ob) == -1)
		error(0, "outbox: link down: cannot queue again the rows in "
		    "sending; they will be at the next start");
}

/* --- queueing ----------------------------------------------------------- */

/* Keep text for outbox_take_inline, after a newline if some is there. */
static int
outbox_inline_append(struct outbox *ob, const char *text)
{
	size_t	 len = strlen(text), need;
	char	*p;

	need = ob->inline_len + (ob->inline_text != NULL ? 1 : 0) + len + 1;
	if ((p = realloc(ob->inline_text, need)) == NULL) {
		error(errno, "outbox: out of memory");
		return -1;
	}
	if (ob->inline_text != NULL)
		p[ob->inline_len++] = '\n';
	memcpy(p + ob->inline_len, text, len + 1);
	ob->inline_len += len;
	ob->inline_text = p;
	return 0;
}

/* outbox_queue, with the state the rows get. */
static int
outbox_insert(struct outbox *ob, long long inbox_id, const char *kind,
    const char *sender, const char *receiver, const char *text,
    const char *smsc_id, const char *meta_data, const char *state)
{
	static const char sql[] =
	    "INSERT INTO outbox (inbox_id, kind, sender, receiver, text, "
	    "coding, concat_ref, part, parts, smsc_id, meta_data, state, "
	    "attempts, next_attempt, created) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, "
	    "?13, ?13)";
	struct gsm_measure	 m;
	sqlite3_stmt		*st;
	char			**parts = NULL;
	size_t			 nparts, i, max_parts, len;
	int			 truncated = 0, rc = -1;
	unsigned		 ref = 0;
	long long		 now = (long long)time(NULL);

	if (kind == NULL || sender == NULL || *sender == '\0' ||
	    receiver == NULL || *receiver == '\0' || text == NULL) {
		error(0, "outbox: a message needs a kind, a sender, a receiver "
		    "and a text");
		return -1;
	}
	len = strlen(text);
	max_parts = ob->conf->max_parts > 0 ? (size_t)ob->conf->max_parts : 1;
	gsm_measure(text, len, &m);
	/*
	 * An inline reply leaves in an HTTP answer, whole (the smsbox or
	 * aggregator that asked splits it for the air): one row, not split.
	 * So does a USSD screen (kind "ussd"): USSD carries up to 182
	 * characters in one message, and parts would make no sense.
	 */
	if (strcmp(state, "inline") == 0 || strcmp(kind, "ussd") == 0) {
		if ((parts = calloc(1, sizeof(*parts))) == NULL ||
		    (parts[0] = strdup(text)) == NULL) {
			free(parts);
			error(0, "outbox: out of memory");
			return -1;
		}
		nparts = 1;
	} else if ((nparts = gsm_split(text, len, max_parts, &parts,
	    &truncated)) == 0) {
		error(0, "outbox: out of memory splitting a text to %s",
		    receiver);
		return -1;
	}
	if (truncated)
		info(0, "outbox: text to %s needs %zu parts, cut to %zu",
		    receiver, m.parts, nparts);
	if (nparts > 1) {
		ref = ob->concat_ref;
		ob->concat_ref = (ob->concat_ref + 1) & 0xff;
	}
	for (i = 0; i < nparts; i++) {
		if ((st = store_stmt(ob->store, sql)) == NULL)
			goto out;
		if (inbox_id > 0)
			sqlite3_bind_int64(st, 1, inbox_id);
		else
			sqlite3_bind_null(st, 1);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, sender, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, receiver, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, parts[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 6, m.coding == GSM_CODING_UCS2 ? 2 : 0);
		if (nparts > 1)
			sqlite3_bind_int(st, 7, (int)ref);
		else
			sqlite3_bind_null(st, 7);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)(i + 1));
		sqlite3_bind_int64(st, 9, (sqlite3_int64)nparts);
		outbox_bind_text(st, 10, smsc_id);
		outbox_bind_text(st, 11, meta_data);
		sqlite3_bind_text(st, 12, state, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 13, now);
		if (outbox_step_done(ob, st, "insert", NULL) == -1)
			goto out;
	}
	debug("mb.outbox", 0, "outbox: %s to %s queued as %zu part(s), %s",
	    kind, receiver, nparts, state);
	/* Wake the sender once this transaction is durable. */
	if (strcmp(state, "queued") == 0 && !ob->commit_waiting) {
		if (store_on_commit(ob->store, outbox_commit_cb, ob) == -1)
			goto out;
		ob->commit_waiting = 1;
	}
	rc = 0;
out:
	gsm_parts_free(parts, nparts);
	return rc;
}

int
outbox_queue(struct outbox *ob, long long inbox_id, const char *kind,
    const char *sender, const char *receiver, const char *text,
    const char *smsc_id, const char *meta_data)
{
	return outbox_insert(ob, inbox_id, kind, sender, receiver, text,
	    smsc_id, meta_data, "queued");
}

int
outbox_reply(struct outbox *ob, const struct mo *mo, long long inbox_id,
    const char *text)
{
	const char	*sender;

	if (mo == NULL || text == NULL)
		return -1;
	sender = mo->receiver;
	if (sender == NULL || *sender == '\0')
		sender = ob->conf->global_sender;
	if (!mo->reply_inline)
		return outbox_insert(ob, inbox_id, "reply", sender, mo->sender,
		    text, mo->smsc_id, NULL, "queued");
	if (outbox_insert(ob, inbox_id, "reply", sender, mo->sender, text,
	    mo->smsc_id, NULL, "inline") == -1)
		return -1;
	return outbox_inline_append(ob, text);
}

int
outbox_notify(struct outbox *ob, long long inbox_id, const char *msisdn,
    const char *text)
{
	return outbox_insert(ob, inbox_id, "notice", ob->conf->global_sender,
	    msisdn, text, NULL, NULL, "queued");
}

char *
outbox_take_inline(struct outbox *ob)
{
	char	*s = ob->inline_text;

	ob->inline_text = NULL;
	ob->inline_len = 0;
	return s;
}

/* --- the sender ------------------------------------------------------------ */

static void
outbox_row_clear(struct outbox_row *r)
{
	free(r->sender);
	free(r->receiver);
	free(r->text);
	free(r->smsc_id);
	free(r->meta_data);
	memset(r, 0, sizeof(*r));
}

/* The first due row: 1 and *r filled, 0 if none is due, -1 on error. */
static int
outbox_fetch_due(struct outbox *ob, long long now, struct outbox_row *r)
{
	static const char sql[] =
	    "SELECT id, sender, receiver, text, coding, concat_ref, part, "
	    "parts, smsc_id, meta_data FROM outbox "
	    "WHERE state = 'queued' AND next_attempt <= ?1 "
	    "ORDER BY next_attempt, id LIMIT 1";
	sqlite3_stmt	*st;
	int		 rc, ret = 1;

	memset(r, 0, sizeof(*r));
	if ((st = store_stmt(ob->store, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		error(0, "outbox: reading due rows: %s",
		    sqlite3_errmsg(store_db(ob->store)));
		sqlite3_reset(st);
		return -1;
	}
	r->id = sqlite3_column_int64(st, 0);
	r->coding = sqlite3_column_int(st, 4);
	r->concat_ref = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 5);
	r->part = sqlite3_column_int(st, 6);
	r->parts = sqlite3_column_int(st, 7);
	if (outbox_column_dup(st, 1, &r->sender) == -1 ||
	    outbox_column_dup(st, 2, &r->receiver) == -1 ||
	    outbox_column_dup(st, 3, &r->text) == -1 ||
	    outbox_column_dup(st, 8, &r->smsc_id) == -1 ||
	    outbox_column_dup(st, 9, &r->meta_data) == -1) {
		error(errno, "outbox: out of memory");
		outbox_row_clear(r);
		ret = -1;
	}
	sqlite3_reset(st);
	return ret;
}

/* Rows handed over and not yet acked. */
static int
outbox_inflight(struct outbox *ob, long long *n)
{
	static const char sql[] =
	    "SELECT COUNT(*) FROM outbox WHERE state = 'sending'";
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(ob->store, sql)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		error(0, "outbox: %s", sqlite3_errmsg(store_db(ob->store)));
		return -1;
	}
	return 0;
}

/* Seconds until the earliest queued row is due (0 if one is), or the idle
 * wake-up when none is queued. */
static double
outbox_next_due(struct outbox *ob)
{
	static const char sql[] =
	    "SELECT MIN(next_attempt) FROM outbox WHERE state = 'queued'";
	sqlite3_stmt	*st;
	double		 wait = OUTBOX_IDLE_WAKE;
	int		 rc;

	if ((st = store_stmt(ob->store, sql)) == NULL)
		return OUTBOX_ERROR_WAKE;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		wait = (double)sqlite3_column_int64(st, 0) - outbox_wallclock();
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		error(0, "outbox: %s", sqlite3_errmsg(store_db(ob->store)));
		return OUTBOX_ERROR_WAKE;
	}
	return wait > 0 ? wait : 0;
}

enum outbox_sent {
	OUTBOX_SENT,		/* handed to the link */
	OUTBOX_NONE_DUE,	/* nothing to send now */
	OUTBOX_REFUSED,		/* the link said not now */
	OUTBOX_ERROR		/* the store failed */
};

/*
 * Hand the first due row to the link, in a unit of work that marks it
 * sending under a fresh kannel_id.  If the link refuses it, the unit is
 * rolled back: the row is queued as it was, its attempts unchanged.
 */
static enum outbox_sent
outbox_send_one(struct outbox *ob)
{
	static const char sql[] =
	    "UPDATE outbox SET state = 'sending', kannel_id = ?2, "
	    "attempts = attempts + 1, sent = ?3 "
	    "WHERE id = ?1 AND state = 'queued'";
	struct outbox_row	 r;
	struct outbox_mt	 mt;
	sqlite3_stmt		*st;
	unsigned char		 udh[OUTBOX_UDH_LEN];
	uuid_t			 uu;
	char			 id[UUID_STR_LEN + 1];
	long long		 now = (long long)time(NULL);
	int			 rc, changed = 0;
	enum outbox_sent	 ret = OUTBOX_ERROR;

	if ((rc = outbox_fetch_due(ob, now, &r)) <= 0)
		return rc == 0 ? OUTBOX_NONE_DUE : OUTBOX_ERROR;
	uuid_generate(uu);
	uuid_unparse(uu, id);
	if (store_work_begin(ob->store) == -1)
		goto out;
	if ((st = store_stmt(ob->store, sql)) == NULL)
		goto rollback;
	sqlite3_bind_int64(st, 1, r.id);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	if (outbox_step_done(ob, st, "marking a row sending", &changed) == -1 ||
	    changed != 1)
		goto rollback;

	memset(&mt, 0, sizeof(mt));
	mt.row = r.id;
	mt.kannel_id = id;
	mt.sender = r.sender;
	mt.receiver = r.receiver;
	mt.text = r.text;
	mt.coding = r.coding;
	mt.smsc_id = r.smsc_id;
	mt.meta_data = r.meta_data;
	mt.dlr_mask = ob->conf->dlr_mask;
	if (r.parts > 1 && r.concat_ref >= 0) {
		udh[0] = 5;			/* UDH length */
		udh[1] = 0;			/* IEI: concatenation, 8-bit ref */
		udh[2] = 3;			/* IE length */
		udh[3] = (unsigned char)r.concat_ref;
		udh[4] = (unsigned char)r.parts;
		udh[5] = (unsigned char)r.part;
		mt.udh = udh;
		mt.udh_len = sizeof(udh);
	}
	ob->in_send = 1;
	rc = ob->link.send(ob->link.arg, &mt);
	ob->in_send = 0;
	if (rc == -1) {
		debug("mb.outbox", 0, "outbox: link refused row %lld; later",
		    r.id);
		if (store_work_end(ob->store, 0) == -1)
			error(0, "outbox: cannot roll back row %lld", r.id);
		ret = OUTBOX_REFUSED;
		goto out;
	}
	if (store_work_end(ob->store, 1) == -1)
		error(0, "outbox: row %lld was sent as %s but could not be "
		    "marked so", r.id, id);
	debug("mb.outbox", 0, "outbox: row %lld to %s sent as %s", r.id,
	    r.receiver, id);
	ret = OUTBOX_SENT;
	goto out;
rollback:
	store_work_end(ob->store, 0);
out:
	if (ob->requeue_after) {
		ob->requeue_after = 0;
		if (outbox_requeue_unit(ob) == -1)
			error(0, "outbox: link down: cannot queue again the "
			    "rows in sending; they will be at the next start");
	}
	outbox_row_clear(&r);
	return ret;
}

/*
 * The sender: hand over what is due, at most a batch, as far as the window
 * of unacked MTs and the bucket allow; then sleep until there may be more.
 */
static void
outbox_send_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbox		*ob = arg;
	long long		 inflight;
	size_t			 room, tokens, n, i;
	enum outbox_sent	 rc = OUTBOX_SENT;
	double			 wake;

	(void)fd;
	(void)what;
	if (!ob->has_link)
		return;		/* outbox_set_link wakes it */
	if (outbox_inflight(ob, &inflight) == -1) {
		outbox_schedule(ob, OUTBOX_ERROR_WAKE);
		return;
	}
	if (inflight >= OUTBOX_WINDOW) {
		/* Acks wake it; the idle wake-up is only a safety net. */
		outbox_schedule(ob, OUTBOX_IDLE_WAKE);
		return;
	}
	room = (size_t)(OUTBOX_WINDOW - inflight);
	if (room > OUTBOX_BATCH)
		room = OUTBOX_BATCH;
	tokens = outbox_bucket_refill(&ob->bucket, outbox_monotonic());
	n = room < tokens ? room : tokens;
	for (i = 0; i < n; i++) {
		if ((rc = outbox_send_one(ob)) != OUTBOX_SENT)
			break;
		outbox_bucket_spend(&ob->bucket, 1);
		/* The link may have gone down (and been cleared) in send. */
		if (!ob->has_link)
			return;
	}
	switch (rc) {
	case OUTBOX_REFUSED:
		wake = OUTBOX_REFUSED_WAKE;
		break;
	case OUTBOX_ERROR:
		wake = OUTBOX_ERROR_WAKE;
		break;
	case OUTBOX_NONE_DUE:
		wake = outbox_next_due(ob);
		if (wake < outbox_bucket_wait(&ob->bucket))
			wake = outbox_bucket_wait(&ob->bucket);
		break;
	default:
		/* Every allowed row went: what stopped it decides. */
		if ((size_t)inflight + n >= OUTBOX_WINDOW)
			wake = OUTBOX_IDLE_WAKE;
		else if (n < room)
			wake = outbox_bucket_wait(&ob->bucket);
		else
			wake = 0;	/* a full batch: more next pass */
		break;
	}
	outbox_schedule(ob, wake);
}

/* --- acks and delivery reports -------------------------------------------- */

void
outbox_ack(struct outbox *ob, const char *kannel_id, enum outbox_ack ack)
{
	static const char find[] =
	    "SELECT id, state, attempts FROM outbox WHERE kannel_id = ?1";
	static const char accepted[] =
	    "UPDATE outbox SET state = 'accepted', accepted = ?2 "
	    "WHERE id = ?1 AND state = 'sending'";
	static const char buffered[] =
	    "UPDATE outbox SET state = 'buffered' "
	    "WHERE id = ?1 AND state = 'sending'";
	static const char failed[] =
	    "UPDATE outbox SET state = 'failed', error = ?2 "
	    "WHERE id = ?1 AND state = 'sending'";
	static const char retry[] =
	    "UPDATE outbox SET state = 'queued', next_attempt = ?2 "
	    "WHERE id = ?1 AND state = 'sending'";
	sqlite3_stmt	*st = NULL;
	long long	 id, attempts, delay, now = (long long)time(NULL);
	int		 rc, is_sending, ok = 0, i;

	if (kannel_id == NULL || *kannel_id == '\0') {
		debug("mb.outbox", 0, "outbox: ack without an id; dropped");
		return;
	}
	if (ack != OUTBOX_ACK_SUCCESS && ack != OUTBOX_ACK_FAILED &&
	    ack != OUTBOX_ACK_FAILED_TMP && ack != OUTBOX_ACK_BUFFERED) {
		warning(0, "outbox: ack %d for %s is not one Kannel sends; "
		    "dropped", (int)ack, kannel_id);
		return;
	}
	if (store_work_begin(ob->store) == -1) {
		error(0, "outbox: ack for %s not recorded", kannel_id);
		return;
	}
	if ((st = store_stmt(ob->store, find)) == NULL)
		goto out;
	sqlite3_bind_text(st, 1, kannel_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			error(0, "outbox: %s", sqlite3_errmsg(store_db(ob->store)));
			goto out;
		}
		debug("mb.outbox", 0, "outbox: ack for unknown MT %s; ignored",
		    kannel_id);
		ok = 1;
		goto out;
	}
	id = sqlite3_column_int64(st, 0);
	is_sending = strcmp((const char *)sqlite3_column_text(st, 1),
	    "sending") == 0;
	attempts = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	if (!is_sending) {
		debug("mb.outbox", 0, "outbox: ack for row %lld that is not "
		    "being sent; ignored", id);
		ok = 1;
		goto out;
	}

	switch (ack) {
	case OUTBOX_ACK_SUCCESS:
		if ((st = store_stmt(ob->store, accepted)) == NULL)
			goto out;
		sqlite3_bind_int64(st, 2, now);
		break;
	case OUTBOX_ACK_BUFFERED:
		if ((st = store_stmt(ob->store, buffered)) == NULL)
			goto out;
		break;
	case OUTBOX_ACK_FAILED:
		if ((st = store_stmt(ob->store, failed)) == NULL)
			goto out;
		sqlite3_bind_text(st, 2, "refused by bearerbox", -1,
		    SQLITE_STATIC);
		warning(0, "outbox: row %lld refused by bearerbox", id);
		break;
	case OUTBOX_ACK_FAILED_TMP:
		if (attempts >= ob->conf->retry_limit) {
			if ((st = store_stmt(ob->store, failed)) == NULL)
				goto out;
			sqlite3_bind_text(st, 2, "temporarily refused by "
			    "bearerbox; retry limit reached", -1,
			    SQLITE_STATIC);
			warning(0, "outbox: row %lld failed after %lld "
			    "attempts", id, attempts);
			break;
		}
		/* retry_delay * 2^(attempts - 1), capped. */
		delay = ob->conf->retry_delay > 0 ? ob->conf->retry_delay : 1;
		for (i = 1; i < attempts && delay < OUTBOX_BACKOFF_MAX; i++)
			delay *= 2;
		if (delay > OUTBOX_BACKOFF_MAX)
			delay = OUTBOX_BACKOFF_MAX;
		if ((st = store_stmt(ob->store, retry)) == NULL)
			goto out;
		sqlite3_bind_int64(st, 2, now + delay);
		debug("mb.outbox", 0, "outbox: row %lld temporarily refused; "
		    "retry in %lld s", id, delay);
		break;
	}
	sqlite3_bind_int64(st, 1, id);
	if (outbox_step_done(ob, st, "ack", NULL) == -1)
		goto out;
	ok = 1;
out:
	if (store_work_end(ob->store, ok) == -1 || !ok)
		error(0, "outbox: ack for %s not recorded", kannel_id);
	/* The window has room again, or the next due time moved. */
	outbox_kick(ob);
}

/* The dlr_state for Kannel's event bits, the most final one when several
 * are set; NULL when no known bit is. */
static const char *
outbox_dlr_state(int event)
{
	if (event & 1)
		return "delivered";
	if (event & 2)
		return "failed";
	if (event & 16)
		return "smsc-nack";
	if (event & 4)
		return "buffered";
	if (event & 8)
		return "smsc-ack";
	return NULL;
}

int
outbox_dlr(struct outbox *ob, const char *dlr_url, int event,
    const char *foreign_id)
{
	static const char find[] =
	    "SELECT state FROM outbox WHERE id = ?1";
	static const char report[] =
	    "UPDATE outbox SET dlr_state = ?2, dlr_time = ?3, "
	    "foreign_id = ?4 WHERE id = ?1";
	static const char settle[] =
	    "UPDATE outbox SET state = ?2, error = ?3 WHERE id = ?1";
	sqlite3_stmt	*st;
	const char	*p, *dlr_state;
	char		*state = NULL;
	long long	 id = 0;
	int		 rc, ok = 0;

	/* The URL is the row id we sent: digits only, and not too many. */
	if (dlr_url == NULL || *dlr_url == '\0' || strlen(dlr_url) > 18) {
		info(0, "outbox: DLR with a URL that is not ours; dropped");
		return 0;
	}
	for (p = dlr_url; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			info(0, "outbox: DLR with a URL that is not ours; "
			    "dropped");
			return 0;
		}
		id = id * 10 + (*p - '0');
	}
	if ((dlr_state = outbox_dlr_state(event)) == NULL) {
		info(0, "outbox: DLR for row %lld with no known event (%d); "
		    "dropped", id, event);
		return 0;
	}
	if (store_work_begin(ob->store) == -1)
		return -1;
	if ((st = store_stmt(ob->store, find)) == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW &&
	    (state = strdup((const char *)sqlite3_column_text(st, 0))) == NULL)
		rc = SQLITE_NOMEM;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		info(0, "outbox: DLR for unknown row %lld; dropped", id);
		ok = 1;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		error(0, "outbox: %s", sqlite3_errmsg(store_db(ob->store)));
		goto out;
	}
	if (strcmp(state, "delivered") == 0 || strcmp(state, "failed") == 0) {
		debug("mb.outbox", 0, "outbox: DLR %s for row %lld, already "
		    "%s; kept", dlr_state, id, state);
		ok = 1;
		goto out;
	}
	if ((st = store_stmt(ob->store, report)) == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, dlr_state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	outbox_bind_text(st, 4, foreign_id);
	if (outbox_step_done(ob, st, "DLR", NULL) == -1)
		goto out;
	if (strcmp(dlr_state, "delivered") == 0 ||
	    strcmp(dlr_state, "failed") == 0 ||
	    strcmp(dlr_state, "smsc-nack") == 0) {
		if ((st = store_stmt(ob->store, settle)) == NULL)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		if (strcmp(dlr_state, "delivered") == 0) {
			sqlite3_bind_text(st, 2, "delivered", -1, SQLITE_STATIC);
			sqlite3_bind_null(st, 3);
		} else {
			sqlite3_bind_text(st, 2, "failed", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, "not delivered (DLR)", -1,
			    SQLITE_STATIC);
		}
		if (outbox_step_done(ob, st, "DLR", NULL) == -1)
			goto out;
	}
	debug("mb.outbox", 0, "outbox: row %lld: DLR %s", id, dlr_state);
	ok = 1;
out:
	free(state);
	if (store_work_end(ob->store, ok) == -1)
		ok = 0;
	return ok ? 0 : -1;
}

/* --- counts ------------------------------------------------------------- */

int
outbox_on_commit(struct outbox *ob, void (*cb)(void *, int), void *arg)
{
	return store_on_commit(ob->store, cb, arg);
}

int
outbox_counts(struct outbox *ob, struct outbox_counts *c)
{
	static const char sql[] =
	    "SELECT state, COUNT(*) FROM outbox GROUP BY state";
	sqlite3_stmt	*st;
	const char	*state;
	long long	 n;
	int		 rc;

	memset(c, 0, sizeof(*c));
	if ((st = store_stmt(ob->store, sql)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(st, 0);
		n = sqlite3_column_int64(st, 1);
		if (state == NULL)
			continue;
		if (strcmp(state, "queued") == 0)
			c->queued = n;
		else if (strcmp(state, "sending") == 0)
			c->sending = n;
		else if (strcmp(state, "accepted") == 0)
			c->accepted = n;
		else if (strcmp(state, "buffered") == 0)
			c->buffered = n;
		else if (strcmp(state, "delivered") == 0)
			c->delivered = n;
		else if (strcmp(state, "failed") == 0)
			c->failed = n;
		else if (strcmp(state, "inline") == 0)
			c->inline_ = n;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error(0, "outbox: counts: %s",
		    sqlite3_errmsg(store_db(ob->store)));
		return -1;
	}
	return 0;
}
