/*
 * inbox.c - the durable, deduplicated log of MOs, and the unit of work that
 * records one MO together with all its effects.
 *
 * See inbox.h.  Deduplication is the UNIQUE constraint on inbox.kannel_id:
 * bearerbox redelivers an MO it holds unacked with the same id, HTTP
 * clients retry with the same id, and the second copy must change nothing.
 * What the MO is and who answers it (the router, the USSD menus), and a
 * duplicate's answer, are the dispatch step's (engine/dispatch.c): this
 * file stores, deduplicates, runs the unit and its retries, and records
 * what the dispatch step made of the MO.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "base/gw.h"

#include "engine/dispatch.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "store/store.h"

#define INBOX_TRIES	5	/* runs of a unit that met another instance */

struct inbox {
	struct store		*store;
	struct dispatch		*dispatch;
	unsigned long long	 received, duplicates;
};

/* One MO waiting for its commit. */
struct inbox_pending {
	inbox_done_cb		*done;
	void			*arg;
	enum inbox_status	 status;
	char			*reply;		/* inline reply, or NULL */
};

/* A new MO comes back with its id; one seen before, with no row. */
static const char inbox_sql_insert[] =
    "INSERT INTO inbox(kannel_id, channel, sender, receiver, text, coding,"
    " smsc_id, meta_data, received, state)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'done')"
    " ON CONFLICT(kannel_id) DO NOTHING RETURNING id";
static const char inbox_sql_failed[] =
    "UPDATE inbox SET state = 'failed', error = $2 WHERE id = $1";
static const char inbox_sql_state[] =
    "UPDATE inbox SET state = $2 WHERE id = $1";

/* Record what the dispatch step made of an MO it did not process. */
static int
inbox_set_state(struct inbox *in, long long row, const char *state)
{
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(in->store, inbox_sql_state)) == NULL)
		return -1;
	store_bind_int(st, 1, row);
	store_bind_text(st, 2, state);
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

struct inbox *
inbox_new(struct store *store, struct dispatch *dispatch)
{
	struct inbox	*in;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		error(errno, "inbox: out of memory");
		return NULL;
	}
	in->store = store;
	in->dispatch = dispatch;
	return in;
}

void
inbox_free(struct inbox *in)
{
	free(in);
}

void
inbox_stats(struct inbox *in, unsigned long long *received,
    unsigned long long *duplicates)
{
	*received = in->received;
	*duplicates = in->duplicates;
}

static void
inbox_commit_cb(void *arg, int ok)
{
	struct inbox_pending	*p = arg;

	p->done(p->arg, ok ? p->status : INBOX_FAILED, ok ? p->reply : NULL);
	free(p->reply);
	free(p);
}

/*
 * Insert the MO; 1 if new (with *row set), 0 if its id was seen before,
 * -1 on a store failure.
 */
static int
inbox_insert(struct inbox *in, const struct mo *mo, long long *row)
{
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(in->store, inbox_sql_insert)) == NULL)
		return -1;
	store_bind_text(st, 1, mo->id);
	store_bind_text(st, 2, mo->channel ? mo->channel : "box");
	store_bind_text(st, 3, mo->sender);
	store_bind_text(st, 4, mo->receiver ? mo->receiver : "");
	store_bind_text(st, 5, mo->text ? mo->text : "");
	store_bind_int(st, 6, mo->coding < 0 ? 0 : mo->coding);
	store_bind_text(st, 7, mo->smsc_id);		/* NULL binds NULL */
	store_bind_text(st, 8, mo->meta_data);
	store_bind_int(st, 9, mo->time);
	if ((rc = store_step(st)) == STORE_ROW)
		*row = store_int(st, 0);
	store_done(st);
	if (rc == STORE_ERROR) {
		error(0, "inbox: cannot store MO %s from %s", mo->id,
		    mo->sender);
		return -1;
	}
	return rc == STORE_ROW ? 1 : 0;
}

/*
 * A command that fails on the store is rolled back with its MO; the MO is
 * then recorded alone as failed so it is not offered to the command again
 * and again, and an operator can see it.  The dispatch step queues the
 * apology; *reply is its inline text (NULL when none is given inline).
 */
static int
inbox_record_failure(struct inbox *in, enum dispatch_kind kind,
    const struct mo *mo, char **reply)
{
	struct store_stmt	*st;
	long long		 row;
	int			 rc;

	*reply = NULL;
	if (store_work_begin(in->store) == -1)
		return -1;
	if (inbox_insert(in, mo, &row) != 1 ||
	    (st = store_query(in->store, inbox_sql_failed)) == NULL) {
		store_work_end(in->store, 0);
		return -1;
	}
	store_bind_int(st, 1, row);
	store_bind_text(st, 2, "the command failed on the database");
	rc = store_step(st);
	store_done(st);
	/* Never silence: the sender hears that it did not work. */
	if (rc != STORE_DONE || dispatch_apology(in->dispatch, kind, mo, row,
	    reply) == -1) {
		store_work_end(in->store, 0);
		return -1;
	}
	if (store_work_end(in->store, 1) == -1) {
		free(*reply);
		*reply = NULL;
		return -1;
	}
	return 0;
}

/*
 * A unit that failed because another instance held what it needed
 * (store_retry_wanted: a deadlock between two instances' transactions, a
 * row moved on meanwhile) runs again, at most INBOX_TRIES times in all,
 * before its MO counts as failed.  What this transaction holds is
 * committed first: the other side may be waiting for it, and the units
 * before this one keep their effect.  1: run it again.
 */
static int
inbox_retry(struct inbox *in, const struct mo *mo, int *tries)
{
	if (!store_retry_wanted(in->store) || ++*tries >= INBOX_TRIES)
		return 0;
	info(0, "inbox: MO %s from %s met another instance's work; "
	    "handled again", mo->id, mo->sender);
	if (store_commit(in->store) == -1)
		warning(0, "inbox: the commit before handling MO %s again "
		    "failed", mo->id);
	return 1;
}

int
inbox_receive(struct inbox *in, const struct mo *mo, inbox_done_cb *done,
    void *arg)
{
	struct inbox_pending	*p;
	enum dispatch_kind	 kind;
	const char		*state;
	long long		 row = 0;
	char			*reply = NULL;
	int			 rc, tries = 0;

	if (mo->id == NULL || mo->id[0] == '\0' || mo->sender == NULL ||
	    mo->sender[0] == '\0') {
		warning(0, "inbox: MO without %s dropped",
		    mo->sender == NULL || mo->sender[0] == '\0' ? "sender" : "id");
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		error(errno, "inbox: out of memory");
		return -1;
	}
	p->done = done;
	p->arg = arg;
	p->status = INBOX_FAILED;
	in->received++;
	kind = dispatch_kind(in->dispatch, mo);

again:
	if (store_work_begin(in->store) == -1)
		goto queue;
	dispatch_unit_begin(in->dispatch);
	rc = inbox_insert(in, mo, &row);
	if (rc == 0) {
		in->duplicates++;
		debug("mb.inbox", 0, "inbox: MO %s seen before, no new effect",
		    mo->id);
		p->reply = dispatch_replay(in->dispatch, kind, mo);
		p->status = INBOX_DUPLICATE;
		store_work_end(in->store, 1);
		goto queue;
	}
	if (rc == -1) {
		store_work_end(in->store, 0);
		goto queue;
	}
	if (dispatch_handle(in->dispatch, kind, mo, row, &reply,
	    &state) == -1 ||
	    (state != NULL && inbox_set_state(in, row, state) == -1)) {
		free(reply);
		reply = NULL;
		store_work_end(in->store, 0);
		dispatch_unit_undo(in->dispatch);
		if (inbox_retry(in, mo, &tries))
			goto again;
		error(0, "inbox: %sMO %s from %s rolled back",
		    kind == DISPATCH_USSD ? "USSD " : "", mo->id, mo->sender);
		/* the apology, for a caller that answers inline */
		if (inbox_record_failure(in, kind, mo, &p->reply) == 0)
			p->status = INBOX_STORED;
		goto queue;
	}
	if (store_work_end(in->store, 1) == -1) {
		dispatch_unit_undo(in->dispatch);
		free(reply);
		goto queue;
	}
	p->reply = reply;
	p->status = INBOX_STORED;
queue:
	if (store_on_commit(in->store, inbox_commit_cb, p) == -1) {
		/* Cannot wait for the commit: answer now that it failed. */
		done(arg, INBOX_FAILED, NULL);
		free(p->reply);
		free(p);
	}
	return 0;
}
