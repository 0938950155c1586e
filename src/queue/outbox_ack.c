/*
 * outbox_ack.c - bearerbox's answers for the outbox's MTs: the acks that
 * move a row from sending to accepted, buffered, failed or queued again
 * for a retry (with backoff, up to retry-limit), and the delivery reports
 * that settle it; both in units of work, shared by one read of the link
 * between outbox_batch_begin() and outbox_batch_end().
 *
 * An ack finds its row among the MTs in flight (outbox_send.c, through
 * outbox_flight_by_id) by the Kannel id it was sent as; a DLR by the row
 * id it carries as its URL.  On a shared store (PostgreSQL) a failed
 * statement aborts the transaction up to the savepoint: there the acks of
 * one read of the link are held and recorded with one statement per kind
 * (outbox_acks_flush) rather than a round trip per row, and a DLR keeps
 * a unit of its own.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include "base/conf.h"
#include "queue/outbox.h"
#include "queue/outbox_int.h"
#include "store/store.h"

/* --- units of work for acks and DLRs ------------------------------------ */

/*
 * The unit an ack or a DLR is recorded in: its own, or, between
 * outbox_batch_begin() and outbox_batch_end(), one shared by all of them
 * (a unit of work is a SAVEPOINT and a RELEASE: per frame, under load,
 * they cost about as much as the update itself).  In a shared unit a
 * statement that fails changes nothing (SQLite undoes a failed statement)
 * and the others stand.  Not on PostgreSQL (store_shared), where a failed
 * statement aborts the transaction up to the unit's savepoint, and would
 * take the batch's other acks with it: there a DLR has its own unit, and
 * the acks are held until outbox_batch_end() (outbox_acks_flush).
 */
static int
outbox_unit_begin(struct outbox *ob)
{
	if (!ob->batch)
		return store_work_begin(ob->store);
	if (!ob->batch_unit) {
		if (store_work_begin(ob->store) == -1)
			return -1;
		ob->batch_unit = 1;
	}
	return 0;
}

static int
outbox_unit_end(struct outbox *ob, int ok)
{
	if (!ob->batch)
		return store_work_end(ob->store, ok);
	return ok ? 0 : -1;
}

void
outbox_batch_begin(struct outbox *ob)
{
	if (!ob->shared)
		ob->batch = 1;
	else
		ob->hold_acks = 1;
}

void
outbox_batch_end(struct outbox *ob)
{
	ob->batch = 0;
	if (ob->nheld > 0)
		outbox_acks_flush(ob);
	ob->hold_acks = 0;
	if (ob->batch_unit) {
		ob->batch_unit = 0;
		if (store_work_end(ob->store, 1) == -1)
			error(0, "outbox: acks and delivery reports not "
			    "recorded");
	}
}

/* --- acks and delivery reports -------------------------------------------- */

/* The attempts column of row id, into *attempts if the row exists. */
static int
outbox_attempts(struct outbox *ob, long long id, long long *attempts)
{
	static const char sql[] =
	    "SELECT attempts FROM outbox WHERE id = $1";
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(ob->store, sql)) == NULL)
		return -1;
	store_bind_int(st, 1, id);
	rc = store_step(st);
	if (rc == STORE_ROW)
		*attempts = store_int(st, 0);
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/*
 * Record one ack of row id, whose send was its attempts-th, that came at
 * now: in its own unit, or in the batch's on SQLite.  0, or -1 (a unit
 * that could not begin is logged and wakes the sender).
 */
static int
outbox_ack_try(struct outbox *ob, long long id, long long attempts,
    enum outbox_ack ack, long long now)
{
	/*
	 * queued too: a row whose marking as sending failed is in flight
	 * all the same.  Any other state (a DLR came first) is kept.
	 */
	static const char accepted[] =
	    "UPDATE outbox SET state = 'accepted', accepted = $2 "
	    "WHERE id = $1 AND state IN ('sending', 'queued')";
	static const char buffered[] =
	    "UPDATE outbox SET state = 'buffered' "
	    "WHERE id = $1 AND state IN ('sending', 'queued')";
	static const char failed[] =
	    "UPDATE outbox SET state = 'failed', error = $2 "
	    "WHERE id = $1 AND state IN ('sending', 'queued')";
	static const char retry[] =
	    "UPDATE outbox SET state = 'queued', next_attempt = $2 "
	    "WHERE id = $1 AND state IN ('sending', 'queued')";
	struct store_stmt	*st = NULL;
	long long		 delay;
	int			 ok = 0, i;

	if (outbox_unit_begin(ob) == -1) {
		outbox_kick(ob);
		return -1;
	}
	/* The stored count decides a retry (an admin may have changed it). */
	if (ack == OUTBOX_ACK_FAILED_TMP &&
	    outbox_attempts(ob, id, &attempts) == -1)
		goto out;
	switch (ack) {
	case OUTBOX_ACK_SUCCESS:
		if ((st = store_query(ob->store, accepted)) == NULL)
			goto out;
		store_bind_int(st, 2, now);
		break;
	case OUTBOX_ACK_BUFFERED:
		if ((st = store_query(ob->store, buffered)) == NULL)
			goto out;
		break;
	case OUTBOX_ACK_FAILED:
		if ((st = store_query(ob->store, failed)) == NULL)
			goto out;
		store_bind_text(st, 2, "refused by bearerbox");
		warning(0, "outbox: row %lld refused by bearerbox", id);
		break;
	case OUTBOX_ACK_FAILED_TMP:
		if (attempts >= ob->conf->retry_limit) {
			if ((st = store_query(ob->store, failed)) == NULL)
				goto out;
			store_bind_text(st, 2, "temporarily refused by "
			    "bearerbox; retry limit reached");
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
		if ((st = store_query(ob->store, retry)) == NULL)
			goto out;
		store_bind_int(st, 2, now + delay);
		debug("mb.outbox", 0, "outbox: row %lld temporarily refused; "
		    "retry in %lld s", id, delay);
		break;
	}
	store_bind_int(st, 1, id);
	if (outbox_step_done(ob, st, NULL) == -1)
		goto out;
	ok = 1;
out:
	if (outbox_unit_end(ob, ok) == -1 || !ok)
		return -1;
	return 0;
}

/*
 * outbox_ack_try; in a unit of its own, one that met another instance's
 * transaction (store_retry_wanted) is tried again, after what this
 * transaction holds is committed, OUTBOX_TRIES times in all.  0, or -1
 * (logged).
 */
static int
outbox_ack_record(struct outbox *ob, long long id, long long attempts,
    enum outbox_ack ack, long long now)
{
	int	 tries;

	for (tries = 1; outbox_ack_try(ob, id, attempts, ack, now) == -1;
	    tries++) {
		if (ob->batch || tries >= OUTBOX_TRIES ||
		    !store_retry_wanted(ob->store)) {
			error(0, "outbox: ack for row %lld not recorded", id);
			return -1;
		}
		if (store_commit(ob->store) == -1)
			warning(0, "outbox: the commit before recording the "
			    "ack of row %lld again failed", id);
	}
	return 0;
}

/*
 * The held acks of one kind (a list of row ids, and for accepted and
 * retried rows their times) as one statement each.  A retry's fate is
 * decided by the stored count of attempts, as outbox_ack_record does, in
 * the statement: failed at the retry limit, else queued again after
 * retry_delay * 2^(attempts - 1) seconds, capped.
 */
static int
outbox_acks_kind(struct outbox *ob, enum outbox_ack ack)
{
	static const char accepted[] =
	    "UPDATE outbox SET state = 'accepted', accepted = v.at "
	    "FROM unnest($1::bigint[], $2::bigint[]) AS v(id, at) "
	    "WHERE outbox.id = v.id AND "
	    "outbox.state IN ('sending', 'queued')";
	static const char buffered[] =
	    "UPDATE outbox SET state = 'buffered' "
	    "WHERE id = ANY($1::bigint[]) AND state IN ('sending', 'queued')";
	static const char failed[] =
	    "UPDATE outbox SET state = 'failed', error = $2 "
	    "WHERE id = ANY($1::bigint[]) AND state IN ('sending', 'queued') "
	    "RETURNING id";
	static const char retry[] =
	    "UPDATE outbox SET "
	    "state = CASE WHEN outbox.attempts >= $3 THEN 'failed' "
	    "ELSE 'queued' END, "
	    "error = CASE WHEN outbox.attempts >= $3 THEN $4 "
	    "ELSE outbox.error END, "
	    "next_attempt = CASE WHEN outbox.attempts >= $3 "
	    "THEN outbox.next_attempt ELSE v.at + LEAST(LEAST($5::bigint, "
	    "$6::bigint) << LEAST(GREATEST(outbox.attempts - 1, 0), 12)::int, "
	    "$6::bigint) END "
	    "FROM unnest($1::bigint[], $2::bigint[]) AS v(id, at) "
	    "WHERE outbox.id = v.id AND "
	    "outbox.state IN ('sending', 'queued') "
	    "RETURNING outbox.id, outbox.attempts, outbox.state, "
	    "outbox.next_attempt - v.at";
	char			 rowbuf[OUTBOX_ARRAY_INTS(OUTBOX_ACKS_HELD)];
	char			 atbuf[OUTBOX_ARRAY_INTS(OUTBOX_ACKS_HELD)];
	struct outbox_array	 rows, ats;
	struct store_stmt	*st;
	const char		*rowlit, *atlit, *sql, *state;
	size_t			 i, n = 0;
	int			 rc;

	outbox_array_init(&rows, rowbuf, sizeof(rowbuf));
	outbox_array_init(&ats, atbuf, sizeof(atbuf));
	for (i = 0; i < ob->nheld; i++) {
		if (ob->held[i].ack != ack)
			continue;
		outbox_array_int(&rows, ob->held[i].row);
		outbox_array_int(&ats, ob->held[i].at);
		n++;
	}
	if (n == 0)
		return 0;
	if ((rowlit = outbox_array_end(&rows)) == NULL ||
	    (atlit = outbox_array_end(&ats)) == NULL)
		return -1;
	switch (ack) {
	case OUTBOX_ACK_SUCCESS:
		sql = accepted;
		break;
	case OUTBOX_ACK_BUFFERED:
		sql = buffered;
		break;
	case OUTBOX_ACK_FAILED:
		sql = failed;
		break;
	default:
		sql = retry;
		break;
	}
	if ((st = store_query(ob->store, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, rowlit);
	if (ack == OUTBOX_ACK_SUCCESS || ack == OUTBOX_ACK_FAILED_TMP)
		store_bind_text(st, 2, atlit);
	if (ack == OUTBOX_ACK_FAILED)
		store_bind_text(st, 2, "refused by bearerbox");
	if (ack == OUTBOX_ACK_FAILED_TMP) {
		store_bind_int(st, 3, ob->conf->retry_limit);
		store_bind_text(st, 4, "temporarily refused by bearerbox; "
		    "retry limit reached");
		store_bind_int(st, 5, ob->conf->retry_delay > 0 ?
		    ob->conf->retry_delay : 1);
		store_bind_int(st, 6, OUTBOX_BACKOFF_MAX);
	}
	if (ack != OUTBOX_ACK_FAILED && ack != OUTBOX_ACK_FAILED_TMP)
		return outbox_step_done(ob, st, NULL);
	while ((rc = store_step(st)) == STORE_ROW) {
		if (ack == OUTBOX_ACK_FAILED) {
			warning(0, "outbox: row %lld refused by bearerbox",
			    store_int(st, 0));
			continue;
		}
		state = store_text(st, 2);
		if (state != NULL && strcmp(state, "failed") == 0)
			warning(0, "outbox: row %lld failed after %lld "
			    "attempts", store_int(st, 0), store_int(st, 1));
		else
			debug("mb.outbox", 0, "outbox: row %lld temporarily "
			    "refused; retry in %lld s", store_int(st, 0),
			    store_int(st, 3));
	}
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/*
 * Record the acks held on a shared store: one statement per kind, in one
 * unit (one round trip per kind rather than per ack).  If that unit
 * fails, one bad row must not lose the others' acks: each is recorded
 * again alone, in its own unit.
 */
void
outbox_acks_flush(struct outbox *ob)
{
	static const enum outbox_ack kinds[] = { OUTBOX_ACK_SUCCESS,
	    OUTBOX_ACK_BUFFERED, OUTBOX_ACK_FAILED, OUTBOX_ACK_FAILED_TMP };
	struct outbox_held	*h;
	size_t			 i;
	int			 ok = 1, batch = ob->batch;

	if (ob->nheld == 0)
		return;
	if (store_work_begin(ob->store) == -1)
		ok = 0;
	else {
		for (i = 0; ok && i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (outbox_acks_kind(ob, kinds[i]) == -1)
				ok = 0;
		if (store_work_end(ob->store, ok) == -1)
			ok = 0;
	}
	if (!ok) {
		warning(0, "outbox: %zu acks could not be recorded together; "
		    "one by one", ob->nheld);
		ob->batch = 0;
		for (i = 0; i < ob->nheld; i++) {
			h = &ob->held[i];
			outbox_ack_record(ob, h->row, h->attempts, h->ack,
			    h->at);
		}
		ob->batch = batch;
	}
	ob->nheld = 0;
}

void
outbox_ack(struct outbox *ob, const char *kannel_id, enum outbox_ack ack)
{
	struct outbox_flight	*f;
	struct outbox_held	*h;
	long long		 id, attempts, now = (long long)time(NULL);

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
	if ((f = outbox_flight_by_id(ob, kannel_id)) == NULL) {
		debug("mb.outbox", 0, "outbox: ack for %s, not in flight; "
		    "ignored", kannel_id);
		return;
	}
	id = f->row;
	attempts = f->attempts;
	outbox_flight_remove(ob, f);
	if (ob->hold_acks) {
		/* Recorded at outbox_batch_end(), or now if full. */
		h = &ob->held[ob->nheld++];
		h->row = id;
		h->at = now;
		h->attempts = (int)attempts;
		h->ack = ack;
		if (ob->nheld == OUTBOX_ACKS_HELD)
			outbox_acks_flush(ob);
	} else
		outbox_ack_record(ob, id, attempts, ack, now);
	/*
	 * The next due time moved, or the window is half empty: hand over
	 * the next batch.  Not at every ack: under load that sent MTs one
	 * at a time, a query, a unit and a write each.
	 */
	if (ack == OUTBOX_ACK_FAILED_TMP || ob->nflight <= OUTBOX_LOW_WATER)
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
	/* One statement: the report, and the row settled by a final one;
	 * a row already settled keeps its state. */
	static const char report[] =
	    "UPDATE outbox SET dlr_state = $2, dlr_time = $3, "
	    "foreign_id = $4, state = COALESCE($5, state), "
	    "error = CASE WHEN $5 IS NULL THEN error ELSE $6 END "
	    "WHERE id = $1 AND state NOT IN ('delivered', 'failed')";
	static const char find[] =
	    "SELECT state FROM outbox WHERE id = $1";
	struct store_stmt	*st;
	const char		*p, *dlr_state, *settle = NULL, *err = NULL;
	long long		 id = 0, changed = 0;
	size_t			 i;
	int			 rc, ok = 0;

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
	if (strcmp(dlr_state, "delivered") == 0)
		settle = "delivered";
	else if (strcmp(dlr_state, "failed") == 0 ||
	    strcmp(dlr_state, "smsc-nack") == 0) {
		settle = "failed";
		err = "not delivered (DLR)";
	}
	/* An ack held for this row came first: it is recorded first. */
	for (i = 0; i < ob->nheld; i++)
		if (ob->held[i].row == id) {
			outbox_acks_flush(ob);
			break;
		}
	if (outbox_unit_begin(ob) == -1)
		return -1;
	if ((st = store_query(ob->store, report)) == NULL)
		goto out;
	store_bind_int(st, 1, id);
	store_bind_text(st, 2, dlr_state);
	store_bind_int(st, 3, (long long)time(NULL));
	store_bind_text_copy(st, 4, foreign_id);
	store_bind_text_copy(st, 5, settle);
	store_bind_text_copy(st, 6, err);
	if (outbox_step_done(ob, st, &changed) == -1)
		goto out;
	if (changed == 0) {
		/* Only to say why: no such row, or one already settled. */
		if ((st = store_query(ob->store, find)) == NULL)
			goto out;
		store_bind_int(st, 1, id);
		rc = store_step(st);
		if (rc == STORE_ROW)
			debug("mb.outbox", 0, "outbox: DLR %s for row %lld, "
			    "already %s; kept", dlr_state, id,
			    store_text(st, 0));
		else if (rc == STORE_DONE)
			info(0, "outbox: DLR for unknown row %lld; dropped", id);
		store_done(st);
		if (rc == STORE_ERROR)
			goto out;
	} else
		debug("mb.outbox", 0, "outbox: row %lld: DLR %s", id,
		    dlr_state);
	ok = 1;
out:
	if (outbox_unit_end(ob, ok) == -1)
		ok = 0;
	return ok ? 0 : -1;
}
