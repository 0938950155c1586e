/*
 * outbox_send.c - the outbox's sender: a libevent timer that hands due
 * rows to the link at the conf's throughput (a token bucket), the window
 * of MTs handed over and not yet acked, the link coming up and going
 * down, and on a shared store the claim of due rows and the takeover of
 * a dead instance's.
 *
 * Memory holds only the MTs handed over and not yet acked (at most a
 * window of them), which a lost link or a restart puts back to queued,
 * so nothing is lost.  The sender never loops without bound in one
 * callback: it reads at most a batch of due rows with one query, hands
 * them over, marks them sending in one unit of work, then sleeps until
 * the next token, the next due row, an ack, a commit that queued rows, or
 * a link coming up.  On a shared store (several instances on one
 * PostgreSQL database) the query claims the rows instead, marking them
 * sending and this instance's in one statement; the marking is one
 * statement for the batch too (the rows as arrays), and the rows it
 * could not hand over go back to queued in the marking's unit.
 *
 * The Kannel id of an MT names its row, so an ack finds its row without
 * an index: 4 random bytes drawn when the link comes up, 4 bytes of a
 * counter of sends, and the row id in the last 8 bytes, as a UUID.  A
 * retry or a new link gives the same row a new id; an ack for an id of an
 * earlier link, or of an earlier send, matches nothing in flight.
 *
 * The rows come from outbox.c (the queue side); the acks for what is
 * handed over here are recorded by outbox_ack.c, which finds them in
 * flight with outbox_flight_by_id (outbox_int.h).
 */
#include "config.h"

#include <sys/time.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "base/gw.h"
#include "gwlib/gw_uuid.h"

#include "base/conf.h"
#include "queue/outbox.h"
#include "queue/outbox_int.h"
#include "store/store.h"
#include "base/urlcode.h"

/* One due row, copied out of its SELECT so the statement can be reset
 * before the row is written to. */
struct outbox_row {
	long long	 id;
	char		*sender, *receiver, *text, *smsc_id, *meta_data;
	int		 coding, concat_ref, part, parts, attempts;
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
double
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

/* --- the link, up and down ----------------------------------------------- */

/*
 * The rows in sending back to queued, after a link was lost: a store
 * task (store.h).  A send task queued before this one skips its turn
 * (ob->requeues): it would send rows this one then queues again.
 */
static void
outbox_requeue_task(void *arg)
{
	struct outbox	*ob = arg;

	/* Units do not nest: end the batch's before the requeue's; the
	 * acks held are recorded before it too, as they came first. */
	if (ob->nheld > 0)
		outbox_acks_flush(ob);
	if (ob->batch_unit) {
		ob->batch_unit = 0;
		if (store_work_end(ob->store, 1) == -1)
			error(0, "outbox: acks and delivery reports not "
			    "recorded");
	}
	if (outbox_requeue_unit(ob, 0) == -1)
		error(0, "outbox: link down: cannot queue again the rows in "
		    "sending; they will be at the next start");
	if (--ob->requeues == 0 && ob->has_link)
		outbox_kick(ob);
}

/* Forget what is in flight and put those rows back to queued. */
static void
outbox_link_lost(struct outbox *ob)
{
	memset(ob->flight, 0, sizeof(ob->flight));
	ob->nflight = 0;
	ob->link_gen++;
	ob->requeues++;
	if (store_task(ob->store, outbox_requeue_task, ob) == -1) {
		ob->requeues--;
		error(0, "outbox: link down: cannot queue again the rows in "
		    "sending; they will be at the next start");
	}
}

void
outbox_set_link(struct outbox *ob, const struct outbox_link *link)
{
	uuid_t	 uu;

	if (link != NULL && link->send != NULL) {
		ob->link = *link;
		ob->has_link = 1;
		/* A fresh prefix: no id of this link repeats an earlier one. */
		uuid_generate(uu);
		memcpy(&ob->id_prefix, uu, sizeof(ob->id_prefix));
		debug("mb.outbox", 0, "outbox: link up");
		outbox_kick(ob);
		return;
	}
	ob->has_link = 0;
	memset(&ob->link, 0, sizeof(ob->link));
	evtimer_del(ob->timer);
	debug("mb.outbox", 0, "outbox: link down");
	/* The sender holds no unit of work open while it hands rows over,
	 * so this may run inside link.send too. */
	outbox_link_lost(ob);
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

/* A malloc'd copy of a text column, NULL for NULL.  -1 if out of memory. */
static int
outbox_column_dup(struct store_stmt *st, int i, char **out)
{
	const char	*s = store_text(st, i);

	*out = NULL;
	if (s == NULL)
		return 0;
	if ((*out = strdup(s)) == NULL)
		return -1;
	return 0;
}

/* --- ids and the MTs in flight ----------------------------------------- */

/* The Kannel id of one send of a row (see the top of this file), in
 * UUID text form: 8-4-4-4-12 lower-case hex digits. */
static void
outbox_mt_id(uint32_t prefix, uint32_t seq, long long row,
    char out[UUID_STR_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[16];
	uint64_t		 r = (uint64_t)row;
	char			*p = out;
	int			 i;

	memcpy(b, &prefix, 4);
	for (i = 0; i < 4; i++)
		b[4 + i] = (unsigned char)(seq >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		b[8 + i] = (unsigned char)(r >> (56 - 8 * i));
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 0xf];
	}
	*p = '\0';
}

/* The 16 bytes of a UUID in text form; -1 if it is not one. */
static int
outbox_mt_id_parse(const char *s, unsigned char b[16])
{
	int	 i, hi, lo;

	if (strlen(s) != UUID_STR_LEN)
		return -1;
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			if (*s++ != '-')
				return -1;
		}
		if ((hi = urlcode_hexval((unsigned char)s[0])) == -1 ||
		    (lo = urlcode_hexval((unsigned char)s[1])) == -1)
			return -1;
		b[i] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return 0;
}

/* The home slot of row in the in-flight table. */
static size_t
outbox_flight_home(long long row)
{
	return (size_t)(((uint64_t)row * 0x9E3779B97F4A7C15ULL) >> 32) &
	    (OUTBOX_FLIGHT_SLOTS - 1);
}

/* The in-flight entry for row, or NULL. */
static struct outbox_flight *
outbox_flight_find(struct outbox *ob, long long row)
{
	size_t	 i = outbox_flight_home(row);

	while (ob->flight[i].used) {
		if (ob->flight[i].row == row)
			return &ob->flight[i];
		i = (i + 1) & (OUTBOX_FLIGHT_SLOTS - 1);
	}
	return NULL;
}

/* A new in-flight entry for row (the table is never more than half
 * full). */
static struct outbox_flight *
outbox_flight_add(struct outbox *ob, long long row)
{
	size_t	 i = outbox_flight_home(row);

	while (ob->flight[i].used)
		i = (i + 1) & (OUTBOX_FLIGHT_SLOTS - 1);
	ob->flight[i].used = 1;
	ob->flight[i].row = row;
	ob->nflight++;
	return &ob->flight[i];
}

/* The in-flight entry an ack's id names, or NULL: an id of another link,
 * of an earlier send, or not of ours at all. */
struct outbox_flight *
outbox_flight_by_id(struct outbox *ob, const char *kannel_id)
{
	struct outbox_flight	*f;
	unsigned char		 uu[16];
	uint64_t		 row = 0;
	uint32_t		 seq = 0;
	int			 i;

	if (outbox_mt_id_parse(kannel_id, uu) == -1 ||
	    memcmp(uu, &ob->id_prefix, 4) != 0)
		return NULL;
	for (i = 0; i < 4; i++)
		seq = seq << 8 | uu[4 + i];
	for (i = 0; i < 8; i++)
		row = row << 8 | uu[8 + i];
	if ((f = outbox_flight_find(ob, (long long)row)) == NULL ||
	    f->seq != seq)
		return NULL;
	return f;
}

/*
 * Take f out of flight.  The entries after it in its run move back into
 * the hole when their home slot allows, so that every entry stays
 * reachable from its home slot without tombstones.
 */
void
outbox_flight_remove(struct outbox *ob, struct outbox_flight *f)
{
	size_t	 mask = OUTBOX_FLIGHT_SLOTS - 1;
	size_t	 hole = (size_t)(f - ob->flight), j = hole, home;

	ob->nflight--;
	for (;;) {
		ob->flight[hole].used = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!ob->flight[j].used)
				return;
			home = outbox_flight_home(ob->flight[j].row);
			/* Stays if its home lies cyclically in (hole, j]. */
			if (hole <= j ? (hole < home && home <= j) :
			    (hole < home || home <= j))
				continue;
			break;
		}
		ob->flight[hole] = ob->flight[j];
		hole = j;
	}
}

/*
 * The due row st is on (id, sender, receiver, text, coding, concat_ref,
 * part, parts, smsc_id, meta_data, attempts, in that order) into p.  0,
 * or -1 out of memory (logged; p is left clear).
 */
static int
outbox_row_read(struct store_stmt *st, struct outbox_row *p)
{
	memset(p, 0, sizeof(*p));
	p->id = store_int(st, 0);
	p->coding = (int)store_int(st, 4);
	p->concat_ref = store_is_null(st, 5) ? -1 : (int)store_int(st, 5);
	p->part = (int)store_int(st, 6);
	p->parts = (int)store_int(st, 7);
	p->attempts = (int)store_int(st, 10);
	if (outbox_column_dup(st, 1, &p->sender) == -1 ||
	    outbox_column_dup(st, 2, &p->receiver) == -1 ||
	    outbox_column_dup(st, 3, &p->text) == -1 ||
	    outbox_column_dup(st, 8, &p->smsc_id) == -1 ||
	    outbox_column_dup(st, 9, &p->meta_data) == -1) {
		error(errno, "outbox: out of memory");
		outbox_row_clear(p);
		return -1;
	}
	return 0;
}

/*
 * Up to max due rows, oldest first, into r[]; rows already in flight are
 * left out (they are, unless marking them sending failed).  Returns how
 * many, or -1 on error.
 */
static ssize_t
outbox_fetch_due(struct outbox *ob, long long now, struct outbox_row *r,
    size_t max)
{
	static const char sql[] =
	    "SELECT id, sender, receiver, text, coding, concat_ref, part, "
	    "parts, smsc_id, meta_data, attempts FROM outbox "
	    "WHERE state = 'queued' AND next_attempt <= $1 "
	    "ORDER BY next_attempt, id LIMIT $2";
	struct store_stmt	*st;
	size_t			 n = 0;
	int			 rc = STORE_DONE;

	if ((st = store_query(ob->store, sql)) == NULL)
		return -1;
	store_bind_int(st, 1, now);
	store_bind_int(st, 2, (long long)(max + ob->nflight));
	while (n < max && (rc = store_step(st)) == STORE_ROW) {
		if (outbox_flight_find(ob, store_int(st, 0)) != NULL)
			continue;
		if (outbox_row_read(st, &r[n]) == -1)
			break;
		n++;
	}
	store_done(st);
	if (n < max && rc == STORE_ERROR) {
		error(0, "outbox: cannot read the due rows");
		while (n > 0)
			outbox_row_clear(&r[--n]);
		return -1;
	}
	return (ssize_t)n;
}

/* Ids ascending: the parts of a text are handed over in order. */
static int
outbox_row_cmp(const void *a, const void *b)
{
	const struct outbox_row	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * On a shared store: claim up to max due rows, oldest first, into r[],
 * in one statement that marks them sending with this instance as owner,
 * in a unit of its own.  Rows another instance is claiming at the same
 * moment are locked: skipped, never waited for, never taken twice.  A
 * row claimed that is in flight here already (its marking failed in a
 * transaction that was rolled back) is left out: it stays sending, ours,
 * and its ack finds it.  Returns how many, or -1 on error.
 */
static ssize_t
outbox_claim_due(struct outbox *ob, long long now, struct outbox_row *r,
    size_t max)
{
	static const char sql[] =
	    "UPDATE outbox SET state = 'sending', owner = $3 "
	    "WHERE id IN (SELECT id FROM outbox "
	    "WHERE state = 'queued' AND next_attempt <= $1 "
	    "ORDER BY next_attempt, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
	    "RETURNING id, sender, receiver, text, coding, concat_ref, part, "
	    "parts, smsc_id, meta_data, attempts";
	struct store_stmt	*st;
	size_t			 n = 0;
	int			 rc = STORE_DONE, ok = 1;

	/*
	 * Only committed rows are handed over.  A delivery report goes to
	 * any instance under the smsbox-id: one that reached another before
	 * the transaction that queued its row was committed would find no
	 * row.  The open transaction is at most commit-delay old: ending it
	 * here costs little.
	 */
	if (store_commit(ob->store) == -1)
		warning(0, "outbox: the commit before a send failed");
	if (store_work_begin(ob->store) == -1)
		return -1;
	if ((st = store_query(ob->store, sql)) == NULL) {
		store_work_end(ob->store, 0);
		return -1;
	}
	store_bind_int(st, 1, now);
	store_bind_int(st, 2, (long long)max);
	store_bind_text(st, 3, ob->owner);
	/* LIMIT max: every row returned is read. */
	while ((rc = store_step(st)) == STORE_ROW) {
		if (n == max || !ok ||
		    outbox_flight_find(ob, store_int(st, 0)) != NULL)
			continue;
		if (outbox_row_read(st, &r[n]) == -1) {
			ok = 0;
			continue;
		}
		n++;
	}
	store_done(st);
	if (rc == STORE_ERROR || !ok) {
		/* Rolled back: the rows are queued again for anyone. */
		error(0, "outbox: cannot claim the due rows");
		while (n > 0)
			outbox_row_clear(&r[--n]);
		store_work_end(ob->store, 0);
		return -1;
	}
	if (store_work_end(ob->store, 1) == -1) {
		while (n > 0)
			outbox_row_clear(&r[--n]);
		return -1;
	}
	qsort(r, n, sizeof(*r), outbox_row_cmp);
	return (ssize_t)n;
}

/* Seconds until the earliest queued row is due (0 if one is), or the idle
 * wake-up when none is queued. */
static double
outbox_next_due(struct outbox *ob)
{
	static const char sql[] =
	    "SELECT MIN(next_attempt) FROM outbox WHERE state = 'queued'";
	struct store_stmt	*st;
	double			 wait = OUTBOX_IDLE_WAKE;
	int			 rc;

	if ((st = store_query(ob->store, sql)) == NULL)
		return OUTBOX_ERROR_WAKE;
	rc = store_step(st);
	if (rc == STORE_ROW && !store_is_null(st, 0))
		wait = (double)store_int(st, 0) - outbox_wallclock();
	store_done(st);
	if (rc != STORE_ROW)
		return OUTBOX_ERROR_WAKE;
	return wait > 0 ? wait : 0;
}

/* Hand one row to the link as a new send of it: 0 taken, -1 refused. */
static int
outbox_hand_over(struct outbox *ob, const struct outbox_row *r,
    char id[UUID_STR_LEN + 1])
{
	struct outbox_mt	 mt;
	struct outbox_flight	*f;
	unsigned char		 udh[OUTBOX_UDH_LEN];
	uint32_t		 seq = ob->id_seq;

	outbox_mt_id(ob->id_prefix, seq, r->id, id);
	memset(&mt, 0, sizeof(mt));
	mt.row = r->id;
	mt.kannel_id = id;
	mt.sender = r->sender;
	mt.receiver = r->receiver;
	mt.text = r->text;
	mt.coding = r->coding;
	mt.smsc_id = r->smsc_id;
	mt.meta_data = r->meta_data;
	mt.dlr_mask = ob->conf->dlr_mask;
	if (r->parts > 1 && r->concat_ref >= 0) {
		udh[0] = 5;			/* UDH length */
		udh[1] = 0;			/* IEI: concatenation, 8-bit ref */
		udh[2] = 3;			/* IE length */
		udh[3] = (unsigned char)r->concat_ref;
		udh[4] = (unsigned char)r->parts;
		udh[5] = (unsigned char)r->part;
		mt.udh = udh;
		mt.udh_len = sizeof(udh);
	}
	if (ob->link.send(ob->link.arg, &mt) == -1)
		return -1;
	ob->id_seq++;
	/* The link may have gone down inside send: then nothing is in
	 * flight, and this row is queued again with the others. */
	if (!ob->has_link)
		return 0;
	f = outbox_flight_add(ob, r->id);
	f->seq = seq;
	f->attempts = r->attempts + 1;
	return 0;
}

/* --- PostgreSQL arrays ---------------------------------------------------- */

/* struct outbox_array and the room it needs: outbox_int.h. */

void
outbox_array_init(struct outbox_array *a, char *buf, size_t size)
{
	a->buf = buf;
	a->size = size;
	a->len = 0;
	a->ok = size >= 3;
	if (a->ok)
		a->buf[a->len++] = '{';
}

/* One character, leaving room for the closing brace and the NUL. */
static void
outbox_array_put(struct outbox_array *a, char c)
{
	if (!a->ok || a->len + 2 >= a->size) {
		a->ok = 0;
		return;
	}
	a->buf[a->len++] = c;
}

void
outbox_array_int(struct outbox_array *a, long long v)
{
	char	 t[24];
	int	 i, k;

	if (a->len > 1)
		outbox_array_put(a, ',');
	k = snprintf(t, sizeof(t), "%lld", v);
	for (i = 0; i < k && i < (int)sizeof(t); i++)
		outbox_array_put(a, t[i]);
}

static void
outbox_array_text(struct outbox_array *a, const char *s)
{
	if (a->len > 1)
		outbox_array_put(a, ',');
	outbox_array_put(a, '"');
	for (; *s != '\0' && a->ok; s++) {
		if (*s == '"' || *s == '\\')
			outbox_array_put(a, '\\');
		outbox_array_put(a, *s);
	}
	outbox_array_put(a, '"');
}

/* The literal, or NULL if it did not fit. */
const char *
outbox_array_end(struct outbox_array *a)
{
	if (!a->ok)
		return NULL;
	a->buf[a->len++] = '}';
	a->buf[a->len] = '\0';
	return a->buf;
}

/*
 * outbox_mark_sent on a shared store, inside its unit: the rows the claim
 * made sending and ours, in one statement for the batch (one per row cost
 * a round trip each), and those claimed and not handed over back to
 * queued, in one more.
 */
static int
outbox_mark_claimed(struct outbox *ob, const struct outbox_row *r,
    char (*ids)[UUID_STR_LEN + 1], size_t n, size_t claimed,
    const char *state, long long now)
{
	static const char sql[] =
	    "UPDATE outbox SET state = $3, kannel_id = v.k, "
	    "attempts = outbox.attempts + 1, sent = $4, owner = $5 "
	    "FROM unnest($1::bigint[], $2::text[]) AS v(id, k) "
	    "WHERE outbox.id = v.id AND outbox.state = 'sending' "
	    "AND outbox.owner = $6";
	static const char unclaim[] =
	    "UPDATE outbox SET state = 'queued', owner = NULL "
	    "WHERE id = ANY($1::bigint[]) AND state = 'sending' AND "
	    "owner = $2";
	char			 rowbuf[OUTBOX_ARRAY_INTS(OUTBOX_BATCH)];
	char			 idbuf[OUTBOX_ARRAY_IDS(OUTBOX_BATCH)];
	struct outbox_array	 rows, kids;
	struct store_stmt	*st;
	const char		*rowlit, *idlit;
	size_t			 i;

	if (n > 0) {
		outbox_array_init(&rows, rowbuf, sizeof(rowbuf));
		outbox_array_init(&kids, idbuf, sizeof(idbuf));
		for (i = 0; i < n; i++) {
			outbox_array_int(&rows, r[i].id);
			outbox_array_text(&kids, ids[i]);
		}
		if ((rowlit = outbox_array_end(&rows)) == NULL ||
		    (idlit = outbox_array_end(&kids)) == NULL) {
			error(0, "outbox: %zu row(s) are too many for one "
			    "statement", n);
			return -1;
		}
		if ((st = store_query(ob->store, sql)) == NULL)
			return -1;
		store_bind_text(st, 1, rowlit);
		store_bind_text(st, 2, idlit);
		store_bind_text(st, 3, state);
		store_bind_int(st, 4, now);
		store_bind_text(st, 5, strcmp(state, "sending") == 0 ?
		    ob->owner : NULL);
		store_bind_text(st, 6, ob->owner);
		if (outbox_step_done(ob, st, NULL) == -1)
			return -1;
		for (i = 0; i < n; i++)
			debug("mb.outbox", 0, "outbox: row %lld to %s sent as "
			    "%s", r[i].id, r[i].receiver, ids[i]);
	}
	if (claimed <= n)
		return 0;
	outbox_array_init(&rows, rowbuf, sizeof(rowbuf));
	for (i = n; i < claimed; i++)
		outbox_array_int(&rows, r[i].id);
	if ((rowlit = outbox_array_end(&rows)) == NULL) {
		error(0, "outbox: %zu row(s) are too many for one statement",
		    claimed - n);
		return -1;
	}
	if ((st = store_query(ob->store, unclaim)) == NULL)
		return -1;
	store_bind_text(st, 1, rowlit);
	store_bind_text(st, 2, ob->owner);
	return outbox_step_done(ob, st, NULL);
}

/*
 * Record, in one unit of work, the send of the rows of r[0..n) the link
 * took: state (sending, with this instance as owner; queued again if the
 * link was lost meanwhile), their id, one more attempt.  On a shared
 * store the rows r[n..claimed) were claimed but not handed over (the link
 * refused one, or went): they go back to queued in the same unit.  A
 * failure leaves the rows sent queued in the database (sending and ours
 * on a shared store) but in flight here: the next batches skip them and
 * their acks still find them.
 */
static void
outbox_mark_sent(struct outbox *ob, const struct outbox_row *r,
    char (*ids)[UUID_STR_LEN + 1], size_t n, size_t claimed,
    const char *state)
{
	static const char sql[] =
	    "UPDATE outbox SET state = $4, kannel_id = $2, "
	    "attempts = attempts + 1, sent = $3, owner = $5 "
	    "WHERE id = $1 AND state = 'queued'";
	struct store_stmt	*st;
	long long		 now = (long long)time(NULL);
	size_t			 i, each = n;
	int			 ok = 1, mine = strcmp(state, "sending") == 0;

	if (claimed < n)
		claimed = n;
	if (claimed == 0)
		return;
	if (store_work_begin(ob->store) == -1) {
		error(0, "outbox: %zu row(s) sent could not be marked so", n);
		return;
	}
	if (ob->shared) {
		ok = outbox_mark_claimed(ob, r, ids, n, claimed, state,
		    now) == 0;
		each = 0;	/* the loop below is SQLite's */
	}
	for (i = 0; i < each && ok; i++) {
		if ((st = store_query(ob->store, sql)) == NULL) {
			ok = 0;
			break;
		}
		store_bind_int(st, 1, r[i].id);
		store_bind_text(st, 2, ids[i]);
		store_bind_int(st, 3, now);
		store_bind_text(st, 4, state);
		store_bind_text(st, 5, mine ? ob->owner : NULL);
		if (outbox_step_done(ob, st, NULL) == -1)
			ok = 0;
		else
			debug("mb.outbox", 0, "outbox: row %lld to %s sent as "
			    "%s", r[i].id, r[i].receiver, ids[i]);
	}
	if (store_work_end(ob->store, ok) == -1 || !ok)
		error(0, "outbox: %zu row(s) sent could not be marked so", n);
}

/*
 * The sender: hand over what is due, at most a batch, as far as the window
 * of unacked MTs and the bucket allow; then sleep until there may be more.
 */
static void
outbox_send(struct outbox *ob)
{
	struct outbox_row	 rows[OUTBOX_BATCH];
	char			 ids[OUTBOX_BATCH][UUID_STR_LEN + 1];
	size_t			 room, tokens, want, i, sent = 0;
	ssize_t			 n;
	unsigned		 gen = ob->link_gen;
	int			 refused = 0;
	double			 wake;

	if (!ob->has_link || ob->requeues > 0)
		return;		/* outbox_set_link, the requeue wake it */
	if (ob->nflight >= OUTBOX_WINDOW) {
		/* Acks wake it; the idle wake-up is only a safety net. */
		outbox_schedule(ob, OUTBOX_IDLE_WAKE);
		return;
	}
	room = OUTBOX_WINDOW - ob->nflight;
	if (room > OUTBOX_BATCH)
		room = OUTBOX_BATCH;
	tokens = outbox_bucket_refill(&ob->bucket, outbox_monotonic());
	want = room < tokens ? room : tokens;
	if (want == 0) {
		outbox_schedule(ob, outbox_bucket_wait(&ob->bucket));
		return;
	}
	/* One marketbox per SQLite file reads; a shared store claims. */
	n = ob->shared ? outbox_claim_due(ob, (long long)time(NULL), rows,
	    want) : outbox_fetch_due(ob, (long long)time(NULL), rows, want);
	if (n == -1) {
		outbox_schedule(ob, OUTBOX_ERROR_WAKE);
		return;
	}
	/* The link went (and maybe came back) while the task waited: the
	 * rows wait for the requeue's wake-up (rows claimed are this
	 * instance's: that requeue, queued behind this task, takes them). */
	if (ob->link_gen != gen || !ob->has_link) {
		for (i = 0; i < (size_t)n; i++)
			outbox_row_clear(&rows[i]);
		return;
	}
	for (i = 0; i < (size_t)n; i++) {
		if (outbox_hand_over(ob, &rows[i], ids[i]) == -1) {
			debug("mb.outbox", 0, "outbox: link refused row %lld; "
			    "later", rows[i].id);
			refused = 1;
			break;
		}
		sent++;
		outbox_bucket_spend(&ob->bucket, 1);
		if (!ob->has_link || ob->link_gen != gen)
			break;
	}
	/* A link lost meanwhile: they were attempts, and they wait in queued
	 * for the next link.  Rows claimed and not handed over go back. */
	outbox_mark_sent(ob, rows, ids, sent, ob->shared ? (size_t)n : 0,
	    ob->link_gen == gen ? "sending" : "queued");
	for (i = 0; i < (size_t)n; i++)
		outbox_row_clear(&rows[i]);
	if (!ob->has_link)
		return;
	if (refused)
		wake = OUTBOX_REFUSED_WAKE;
	else if ((size_t)n < want) {
		/* Nothing more is due now. */
		wake = outbox_next_due(ob);
		if (wake < outbox_bucket_wait(&ob->bucket))
			wake = outbox_bucket_wait(&ob->bucket);
		/*
		 * On a shared store the rows still due are others' claims,
		 * not committed yet: theirs to send.  Look again shortly,
		 * not at once, or this would spin until they commit.
		 */
		if (ob->shared && wake < OUTBOX_REFUSED_WAKE)
			wake = OUTBOX_REFUSED_WAKE;
	} else if (ob->nflight >= OUTBOX_WINDOW)
		wake = OUTBOX_IDLE_WAKE;
	else if (want < room)
		wake = outbox_bucket_wait(&ob->bucket);
	else
		wake = 0;	/* a full batch: more next pass */
	outbox_schedule(ob, wake);
}

/* The send, as a store task: one at a time (a wake-up meanwhile runs
 * the sender again when it ends). */
static void
outbox_send_task(void *arg)
{
	struct outbox	*ob = arg;

	outbox_send(ob);
	ob->sending = 0;
	if (ob->send_again) {
		ob->send_again = 0;
		if (ob->has_link)
			outbox_kick(ob);
	}
}

void
outbox_send_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbox	*ob = arg;

	(void)fd;
	(void)what;
	if (ob->sending) {
		ob->send_again = 1;
		return;
	}
	ob->sending = 1;
	if (store_task(ob->store, outbox_send_task, ob) == -1) {
		ob->sending = 0;
		outbox_schedule(ob, OUTBOX_ERROR_WAKE);
	}
}

/* --- dead instances -------------------------------------------------------- */

/* Queue again the rows in sending of owner, unless it is live now. */
static int
outbox_take_rows(struct outbox *ob, const char *owner, long long now,
    long long *n)
{
	static const char sql[] =
	    "UPDATE outbox SET state = 'queued', next_attempt = $1, "
	    "owner = NULL WHERE state = 'sending' AND owner = $2 AND NOT "
	    "EXISTS (SELECT 1 FROM instances WHERE name = $2 AND "
	    "heartbeat >= $3)";
	/* Of no instance (a store copied from an older marketbox): sent
	 * longer ago than the lease. */
	static const char orphans[] =
	    "UPDATE outbox SET state = 'queued', next_attempt = $1 "
	    "WHERE state = 'sending' AND owner IS NULL AND "
	    "COALESCE(sent, 0) < $2";
	struct store_stmt	*st;

	if ((st = store_query(ob->store, owner != NULL ? sql : orphans)) ==
	    NULL)
		return -1;
	store_bind_int(st, 1, now);
	if (owner != NULL) {
		store_bind_text(st, 2, owner);
		store_bind_int(st, 3, now - ob->lease);
	} else
		store_bind_int(st, 2, now - ob->lease);
	return outbox_step_done(ob, st, n);
}

/* The owners of rows in sending whose instance is dead: names into
 * dead[] (malloc'd), their last heartbeat (0: no row) into beat[]. */
static int
outbox_dead_owners(struct outbox *ob, long long now,
    char *dead[OUTBOX_DEAD_MAX], long long beat[OUTBOX_DEAD_MAX],
    size_t *n)
{
	static const char sql[] =
	    "SELECT o.owner, MAX(i.heartbeat) FROM outbox o "
	    "LEFT JOIN instances i ON i.name = o.owner "
	    "WHERE o.state = 'sending' AND o.owner IS NOT NULL "
	    "AND o.owner <> $1 AND (i.heartbeat IS NULL OR "
	    "i.heartbeat < $2) GROUP BY o.owner ORDER BY o.owner LIMIT $3";
	struct store_stmt	*st;
	int			 rc;

	*n = 0;
	if ((st = store_query(ob->store, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, ob->owner);
	store_bind_int(st, 2, now - ob->lease);
	store_bind_int(st, 3, OUTBOX_DEAD_MAX);
	while ((rc = store_step(st)) == STORE_ROW) {
		if (*n == OUTBOX_DEAD_MAX || store_text(st, 0) == NULL)
			continue;
		if ((dead[*n] = strdup(store_text(st, 0))) == NULL) {
			error(errno, "outbox: out of memory");
			continue;
		}
		beat[*n] = store_int(st, 1);
		(*n)++;
	}
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

int
outbox_takeover(struct outbox *ob, int lease)
{
	char		*dead[OUTBOX_DEAD_MAX], since[64];
	long long	 beat[OUTBOX_DEAD_MAX], now = (long long)time(NULL);
	long long	 n = 0, taken = 0;
	size_t		 ndead = 0, i;
	struct tm	 tm;
	time_t		 t;
	int		 ok;

	if (!ob->shared)
		return 0;
	if (lease > 0)
		ob->lease = lease;
	if (store_work_begin(ob->store) == -1)
		return -1;
	ok = outbox_dead_owners(ob, now, dead, beat, &ndead) == 0;
	for (i = 0; i < ndead; i++) {
		if (ok && outbox_take_rows(ob, dead[i], now, &n) == -1)
			ok = 0;
		else if (ok && n > 0) {
			taken += n;
			t = (time_t)beat[i];
			/* libgw forbids strftime */
			if (beat[i] > 0 && gmtime_r(&t, &tm) != NULL &&
			    snprintf(since, sizeof(since), "%04d-%02d-%02d "
			    "%02d:%02d:%02d UTC", tm.tm_year + 1900,
			    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			    tm.tm_sec) > 0)
				info(0, "outbox: %lld message(s) of instance "
				    "%s, dead since %s, queued again", n,
				    dead[i], since);
			else
				info(0, "outbox: %lld message(s) of instance "
				    "%s, which has no row (stopped or gone), "
				    "queued again", n, dead[i]);
		}
		free(dead[i]);
	}
	if (ok && outbox_take_rows(ob, NULL, now, &n) == -1)
		ok = 0;
	else if (ok && n > 0) {
		taken += n;
		info(0, "outbox: %lld message(s) of no instance, sent more "
		    "than %d s ago, queued again", n, ob->lease);
	}
	if (store_work_end(ob->store, ok) == -1 || !ok) {
		error(0, "outbox: cannot take over the messages of dead "
		    "instances; next heartbeat");
		return -1;
	}
	/* Taken rows are due now: wake the sender once they are durable. */
	if (taken > 0 && !ob->commit_waiting &&
	    store_on_commit(ob->store, outbox_commit_cb, ob) == 0)
		ob->commit_waiting = 1;
	return 0;
}
