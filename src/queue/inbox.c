/*
 * inbox.c - the durable, deduplicated log of MOs, and the unit of work that
 * records one MO together with all its effects.
 *
 * See inbox.h.  Deduplication is the UNIQUE constraint on inbox.kannel_id:
 * bearerbox redelivers an MO it holds unacked with the same id, HTTP
 * clients retry with the same id, and the second copy must change nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "queue/inbox.h"
#include "text/lang.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "store/store.h"
#include "engine/ussd.h"

#define INBOX_TRIES	5	/* runs of a unit that met another instance */

struct inbox {
	struct store		*store;
	struct router		*router;
	struct outbox		*outbox;
	struct ussd		*ussd;		/* may be NULL */
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
static const char inbox_sql_find[] =
    "SELECT id FROM inbox WHERE kannel_id = $1";
static const char inbox_sql_replies[] =
    "SELECT text FROM outbox WHERE inbox_id = $1 AND kind = 'reply'"
    " AND state = 'inline' ORDER BY id";
static const char inbox_sql_failed[] =
    "UPDATE inbox SET state = 'failed', error = $2 WHERE id = $1";
static const char inbox_sql_state[] =
    "UPDATE inbox SET state = $2 WHERE id = $1";

/* Record what the router made of an MO it did not process. */
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
inbox_new(struct store *store, struct router *router, struct outbox *outbox)
{
	struct inbox	*in;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		error(errno, "inbox: out of memory");
		return NULL;
	}
	in->store = store;
	in->router = router;
	in->outbox = outbox;
	return in;
}

void
inbox_free(struct inbox *in)
{
	free(in);
}

void
inbox_set_ussd(struct inbox *in, struct ussd *ussd)
{
	in->ussd = ussd;
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
 * The inline reply stored the first time an MO was seen: a client that
 * retries an HTTP request gets the same answer.  Inline replies are stored
 * whole, one row each (outbox.c does not split them).
 */
static char *
inbox_stored_reply(struct inbox *in, long long inbox_id)
{
	struct store_stmt	*st;
	char			*out = NULL;
	size_t			 len = 0;

	if ((st = store_query(in->store, inbox_sql_replies)) == NULL)
		return NULL;
	store_bind_int(st, 1, inbox_id);
	while (store_step(st) == STORE_ROW) {
		const char	*t = store_text(st, 0);
		size_t		 tl = t ? strlen(t) : 0;
		char		*n;

		if ((n = realloc(out, len + tl + 2)) == NULL)
			break;
		out = n;
		if (len > 0)
			out[len++] = '\n';
		memcpy(out + len, t ? t : "", tl);
		len += tl;
		out[len] = '\0';
	}
	store_done(st);
	return out;
}

static long long
inbox_find(struct inbox *in, const char *id)
{
	struct store_stmt	*st;
	long long		 row = 0;

	if ((st = store_query(in->store, inbox_sql_find)) == NULL)
		return 0;
	store_bind_text(st, 1, id);
	if (store_step(st) == STORE_ROW)
		row = store_int(st, 0);
	store_done(st);
	return row;
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
 * and again, and an operator can see it.
 */
/* The "error" template in the sender's language (else the default's). */
static const char *
inbox_failure_text(struct inbox *in, const char *sender)
{
	const struct lang_set	*ls = router_langs(in->router);
	const char		*lang = NULL, *text = NULL;
	char			 market[64];

	if (router_user_info(in->router, sender, &lang, market,
	    sizeof(market)) == -1 || lang == NULL)
		lang = ls != NULL ? lang_default(ls) : NULL;
	if (ls != NULL && lang != NULL)
		text = lang_template(ls, lang, "error");
	return text != NULL ? text :
	    "Sorry, something went wrong. Please try again later.";
}

static int
inbox_record_failure(struct inbox *in, const struct mo *mo)
{
	struct store_stmt	*st;
	long long		 row;
	int			 rc;

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
	/* Never silence: the sender hears that it did not work, in the
	 * sender's language when the store can still say which. */
	if (rc != STORE_DONE || outbox_reply(in->outbox, mo, row,
	    inbox_failure_text(in, mo->sender)) == -1) {
		store_work_end(in->store, 0);
		return -1;
	}
	return store_work_end(in->store, 1);
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
	enum router_outcome	 outcome;
	long long		 row = 0;
	char			*answer = NULL;
	int			 rc, is_ussd, tries = 0;

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
	is_ussd = in->ussd != NULL && ussd_is_ussd(mo);

again:
	if (store_work_begin(in->store) == -1)
		goto queue;
	router_unit_begin(in->router);
	rc = inbox_insert(in, mo, &row);
	if (rc == 0) {
		in->duplicates++;
		debug("mb.inbox", 0, "inbox: MO %s seen before, no new effect",
		    mo->id);
		if (is_ussd)
			p->reply = mo->reply_inline ?
			    ussd_replay(in->ussd, mo) : NULL;
		else if (mo->reply_inline)
			p->reply = inbox_stored_reply(in, inbox_find(in, mo->id));
		p->status = INBOX_DUPLICATE;
		store_work_end(in->store, 1);
		goto queue;
	}
	if (rc == -1) {
		store_work_end(in->store, 0);
		goto queue;
	}
	if (is_ussd) {
		/* The menu engine answers, not the router. */
		free(outbox_take_inline(in->outbox));
		if (ussd_handle(in->ussd, mo, row, &answer) == -1) {
			free(outbox_take_inline(in->outbox));
			store_work_end(in->store, 0);
			router_unit_undo(in->router);
			if (inbox_retry(in, mo, &tries))
				goto again;
			error(0, "inbox: USSD MO %s from %s rolled back",
			    mo->id, mo->sender);
			if (inbox_record_failure(in, mo) == 0)
				p->status = INBOX_STORED;
			free(outbox_take_inline(in->outbox));
			goto queue;
		}
		/* Replies captured from its actions are in the answer. */
		free(outbox_take_inline(in->outbox));
		if (store_work_end(in->store, 1) == -1) {
			router_unit_undo(in->router);
			free(answer);
			goto queue;
		}
		p->reply = answer;
		p->status = INBOX_STORED;
		goto queue;
	}
	if (router_handle(in->router, mo, row, &outcome) == -1 ||
	    (outcome != ROUTER_DONE && inbox_set_state(in, row,
	    outcome == ROUTER_THROTTLED ? "throttled" :
	    outcome == ROUTER_REPEAT ? "repeat" : "refused") == -1)) {
		free(outbox_take_inline(in->outbox));
		store_work_end(in->store, 0);
		router_unit_undo(in->router);
		if (inbox_retry(in, mo, &tries))
			goto again;
		error(0, "inbox: MO %s from %s rolled back", mo->id, mo->sender);
		if (inbox_record_failure(in, mo) == 0) {
			p->status = INBOX_STORED;
			/* the apology, for a caller that answers inline */
			p->reply = outbox_take_inline(in->outbox);
		} else
			free(outbox_take_inline(in->outbox));
		goto queue;
	}
	if (store_work_end(in->store, 1) == -1) {
		router_unit_undo(in->router);
		free(outbox_take_inline(in->outbox));
		goto queue;
	}
	p->reply = outbox_take_inline(in->outbox);
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
