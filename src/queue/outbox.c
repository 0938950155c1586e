/*
 * outbox.c - the queue of messages to phones, its queue side: rows
 * written inside the caller's unit of work (one per SMS part, split as
 * gsm.c decides), the inline replies an HTTP answer carries, the replies
 * of an MO found again for a repeat, the counts by state and the age of
 * the oldest row still to send (outbox_oldest_age, for /metrics); and the
 * outbox's life (made, rows left in sending queued again at start, a
 * reload, freed).
 *
 * See outbox.h for the contract and the row states.  The database is the
 * queue: what is written here is sent by outbox_send.c (the sender, on a
 * libevent timer, at the conf's throughput, claiming rows on a shared
 * store), and moved through its states by outbox_ack.c (bearerbox's acks
 * and the delivery reports).  The three share struct outbox and a few
 * helpers through outbox_int.h; a row queued here wakes the sender once
 * its transaction commits (outbox_commit_cb).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "base/gw.h"

#include "base/conf.h"
#include "text/gsm.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "queue/outbox_int.h"
#include "store/store.h"

/* --- small SQL helpers ---------------------------------------------------- */

/* Step a statement that returns no rows; 0 or -1 (logged by the store,
 * with the statement).  *changes, if not NULL, gets the rows it changed. */
int
outbox_step_done(struct outbox *ob, struct store_stmt *st,
    long long *changes)
{
	int	 rc;

	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	if (changes != NULL)
		*changes = store_changes(ob->store);
	return 0;
}

/*
 * Put the rows in sending back to queued, due now.  Inside a unit.  One
 * marketbox per SQLite file: every one.  On a shared store only this
 * instance's (the others' are theirs, or the takeover's), and at start
 * (at_start) those of no instance too when no other instance is live.
 */
static int
outbox_requeue_sending(struct outbox *ob, int at_start)
{
	static const char sql[] =
	    "UPDATE outbox SET state = 'queued', next_attempt = $1 "
	    "WHERE state = 'sending'";
	static const char own[] =
	    "UPDATE outbox SET state = 'queued', next_attempt = $1, "
	    "owner = NULL WHERE state = 'sending' AND (owner = $2 OR "
	    "($4 = 1 AND owner IS NULL AND NOT EXISTS (SELECT 1 FROM "
	    "instances WHERE name <> $2 AND heartbeat >= $3)))";
	struct store_stmt	*st;
	long long		 n = 0, now = (long long)time(NULL);

	if ((st = store_query(ob->store, ob->shared ? own : sql)) == NULL)
		return -1;
	store_bind_int(st, 1, now);
	if (ob->shared) {
		store_bind_text(st, 2, ob->owner);
		store_bind_int(st, 3, now - ob->lease);
		store_bind_int(st, 4, at_start ? 1 : 0);
	}
	if (outbox_step_done(ob, st, &n) == -1)
		return -1;
	if (n > 0)
		info(0, "outbox: %lld message(s) not acked are queued again",
		    n);
	return 0;
}

/* Run outbox_requeue_sending in a unit of its own. */
int
outbox_requeue_unit(struct outbox *ob, int at_start)
{
	int	 ok;

	if (store_work_begin(ob->store) == -1)
		return -1;
	ok = outbox_requeue_sending(ob, at_start) == 0;
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
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(ob->store, sql)) == NULL)
		return -1;
	rc = store_step(st);
	if (rc == STORE_ROW)
		ob->concat_ref = ((unsigned)store_int(st, 0) + 1) & 0xff;
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/* --- life ------------------------------------------------------------------ */

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
	/* Kept from the start: a reload does not rename a running instance. */
	if ((ob->owner = strdup(conf_instance_name(conf))) == NULL) {
		error(errno, "outbox: out of memory");
		goto fail;
	}
	ob->lease = conf_outbox_lease(conf);
	ob->shared = store_shared(store);
	outbox_bucket_init(&ob->bucket, conf->throughput, outbox_monotonic());
	if ((ob->timer = evtimer_new(base, outbox_send_cb, ob)) == NULL) {
		error(0, "outbox: cannot create the sender's timer");
		goto fail;
	}
	/*
	 * Rows left in sending by a stop or a crash were never acked: send
	 * them again (on a shared store, this instance's: a restart under
	 * the same name takes its own back at once).  This runs before the
	 * loop, so it commits by itself.
	 */
	if (outbox_requeue_unit(ob, 1) == -1 || store_commit(store) == -1) {
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
	if (ob->nheld > 0)
		outbox_acks_flush(ob);
	if (ob->commit_waiting)
		store_commit(ob->store);
	if (ob->timer != NULL)
		event_free(ob->timer);
	free(ob->inline_text);
	free(ob->owner);
	free(ob);
}

struct store *
outbox_store(struct outbox *ob)
{
	return ob->store;
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

/* --- queueing ----------------------------------------------------------- */

/* After the commit of rows queued in this transaction: send them. */
void
outbox_commit_cb(void *arg, int ok)
{
	struct outbox	*ob = arg;

	ob->commit_waiting = 0;
	if (ok)
		outbox_kick(ob);
}

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
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, "
	    "$13, $13)";
	struct gsm_measure	 m;
	struct store_stmt	*st;
	char			**parts = NULL;
	size_t			 nparts, i, max_parts, len;
	char			*folded = NULL;
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
	/* accents GSM lacks cost a second SMS: fold them (gsm.h) */
	if (m.coding == GSM_CODING_UCS2 && m.parts > 1 &&
	    strcmp(kind, "ussd") != 0 &&
	    (folded = gsm_fold(text, len)) != NULL) {
		text = folded;
		len = strlen(text);
		gsm_measure(text, len, &m);
	}
	/*
	 * An inline reply leaves in an HTTP answer, whole (the smsbox or
	 * aggregator that asked splits it for the air): one row, not split.
	 * So does a USSD screen (kind "ussd"): USSD carries up to 160
	 * octets in one message (ussd.c fits it), and parts would make no
	 * sense.
	 */
	if (strcmp(state, "inline") == 0 || strcmp(kind, "ussd") == 0) {
		if ((parts = calloc(1, sizeof(*parts))) == NULL ||
		    (parts[0] = strdup(text)) == NULL) {
			free(parts);
			free(folded);
			error(0, "outbox: out of memory");
			return -1;
		}
		nparts = 1;
	} else if ((nparts = gsm_split(text, len, max_parts, &parts,
	    &truncated)) == 0) {
		error(0, "outbox: out of memory splitting a text to %s",
		    receiver);
		free(folded);
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
		if ((st = store_query(ob->store, sql)) == NULL)
			goto out;
		if (inbox_id > 0)
			store_bind_int(st, 1, inbox_id);
		else
			store_bind_null(st, 1);
		store_bind_text_copy(st, 2, kind);
		store_bind_text_copy(st, 3, sender);
		store_bind_text_copy(st, 4, receiver);
		store_bind_text_copy(st, 5, parts[i]);
		store_bind_int(st, 6, m.coding == GSM_CODING_UCS2 ? 2 : 0);
		if (nparts > 1)
			store_bind_int(st, 7, (long long)ref);
		else
			store_bind_null(st, 7);
		store_bind_int(st, 8, (long long)(i + 1));
		store_bind_int(st, 9, (long long)nparts);
		store_bind_text_copy(st, 10, smsc_id);
		store_bind_text_copy(st, 11, meta_data);
		store_bind_text(st, 12, state);
		store_bind_int(st, 13, now);
		if (outbox_step_done(ob, st, NULL) == -1)
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
	free(folded);
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

void
outbox_texts_free(char **texts, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
}

int
outbox_replies_of(struct outbox *ob, long long inbox_id, const char *receiver,
    long long since, size_t max, char ***texts, size_t *n)
{
	/* The receiver's index narrows it to the phone's last minutes. */
	static const char sql[] =
	    "SELECT text, part FROM outbox WHERE receiver = $1 AND "
	    "created >= $2 AND inbox_id = $3 AND kind = 'reply' ORDER BY id";
	struct store_stmt	 *st;
	char			**t = NULL, **grown, *p;
	size_t			  cnt = 0;
	int			  rc;

	*texts = NULL;
	*n = 0;
	if ((st = store_query(ob->store, sql)) == NULL)
		return -1;
	store_bind_text_copy(st, 1, receiver);
	store_bind_int(st, 2, since);
	store_bind_int(st, 3, inbox_id);
	while ((rc = store_step(st)) == STORE_ROW) {
		const char	*text = store_text(st, 0);
		long long	 part = store_int(st, 1);

		if (text == NULL)
			continue;
		if (part > 1 && cnt > 0) {
			/* The next part of the same text: join them again. */
			if (asprintf(&p, "%s%s", t[cnt - 1], text) == -1)
				goto oom;
			free(t[cnt - 1]);
			t[cnt - 1] = p;
			continue;
		}
		if (cnt == max)
			break;
		if ((p = strdup(text)) == NULL)
			goto oom;
		if ((grown = realloc(t, (cnt + 1) * sizeof(*t))) == NULL) {
			free(p);
			goto oom;
		}
		t = grown;
		t[cnt++] = p;
	}
	store_done(st);
	if (rc == STORE_ERROR) {
		error(0, "outbox: cannot read the replies of MO %lld",
		    inbox_id);
		outbox_texts_free(t, cnt);
		return -1;
	}
	*texts = t;
	*n = cnt;
	return 0;
oom:
	store_done(st);
	error(errno, "outbox: out of memory");
	outbox_texts_free(t, cnt);
	return -1;
}

char *
outbox_take_inline(struct outbox *ob)
{
	char	*s = ob->inline_text;

	ob->inline_text = NULL;
	ob->inline_len = 0;
	return s;
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
	struct store_stmt	*st;
	const char		*state;
	long long		 n;
	int			 rc;

	memset(c, 0, sizeof(*c));
	if ((st = store_query(ob->store, sql)) == NULL)
		return -1;
	while ((rc = store_step(st)) == STORE_ROW) {
		state = store_text(st, 0);
		n = store_int(st, 1);
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
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

long long
outbox_oldest_age(struct outbox *ob, long long now)
{
	static const char sql[] =
	    "SELECT MIN(created) FROM outbox WHERE state IN ('queued', "
	    "'sending')";
	struct store_stmt	*st;
	long long		 age = 0;
	int			 rc;

	if ((st = store_query(ob->store, sql)) == NULL)
		return -1;
	if ((rc = store_step(st)) == STORE_ROW && !store_is_null(st, 0))
		age = now - store_int(st, 0);
	store_done(st);
	if (rc != STORE_ROW)
		return -1;
	/* a clock set back: not a negative age */
	return age > 0 ? age : 0;
}
