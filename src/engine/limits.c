/*
 * limits.c - the router's flood limits and its repeat window, per phone:
 * a token bucket (flood-rate commands a minute, flood-burst at once) and
 * the last text handled (the same text again within repeat-window seconds
 * has no second effect: the replies of the first copy are sent again).
 * Both are kept in memory and charged to the unit of work, given back
 * when it does not commit; on a shared store the repeat window is a table
 * instead, so that it holds across instances.
 *
 * An agent of a service point sending FOR <code> ... is served for each
 * member as one phone is: its bucket and its window are keyed
 * "<agent>/<code>" (a '/' is never in a phone's key) with the conf's
 * agent-flood-rate and agent-flood-burst, so the same text for two
 * members runs for each, and one busy member does not hold the others up.
 *
 * router.c decides when to ask (router_handle, router_run_command) and
 * tells a throttled phone to slow down; this file keeps the buckets, the
 * charges and the window, and answers a repeat.  The functions keep the
 * router's prefix: they are the router's, in a file of their own, and
 * share its struct through router_int.h.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
#include "engine/router_int.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "store/store.h"

#define ROUTER_FLOOD_PROBE	8

static size_t
router_flood_hash(const char *s)
{
	size_t	 h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/*
 * The sender's bucket: found, or a free slot, or the slot idle longest
 * among the probed ones (its sender has been quiet: forgetting them only
 * gives them a full bucket again).
 */
struct router_flood *
router_flood_slot(struct router *r, const char *msisdn)
{
	size_t			 h = router_flood_hash(msisdn), i;
	struct router_flood	*f, *oldest = NULL;

	for (i = 0; i < ROUTER_FLOOD_PROBE; i++) {
		f = &r->flood[(h + i) % ROUTER_FLOOD_SLOTS];
		if (strcmp(f->msisdn, msisdn) == 0)
			return f;
		if (f->msisdn[0] == '\0' || oldest == NULL ||
		    f->last < oldest->last) {
			oldest = f;
			if (f->msisdn[0] == '\0')
				break;
		}
	}
	i = oldest->gen + 1;
	memset(oldest, 0, sizeof(*oldest));
	oldest->gen = (unsigned)i;
	snprintf(oldest->msisdn, sizeof(oldest->msisdn), "%s", msisdn);
	oldest->agent = strchr(msisdn, '/') != NULL;
	oldest->tokens = oldest->agent && r->core.conf->agent_flood_burst > 0 ?
	    r->core.conf->agent_flood_burst : r->core.conf->flood_burst;
	oldest->warned = -1000000;
	return oldest;
}

/* The burst and the rate a minute of f: an agent's per member, else a
   phone's (agent values of 0, in a conf made by hand, are a phone's). */
static int
router_flood_burst(const struct router *r, const struct router_flood *f)
{
	const struct conf	*c = r->core.conf;

	return f->agent && c->agent_flood_burst > 0 ? c->agent_flood_burst :
	    c->flood_burst;
}

static int
router_flood_rate(const struct router *r, const struct router_flood *f)
{
	const struct conf	*c = r->core.conf;

	return f->agent && c->agent_flood_rate > 0 ? c->agent_flood_rate :
	    c->flood_rate;
}

static void	router_charge_commit_cb(void *, int);

/*
 * A new charge on f for the unit of work now open, registered for the
 * commit; NULL if memory runs out.  The pointer is good until the next
 * charge.
 */
static struct router_charge *
router_charge_new(struct router *r, struct router_flood *f)
{
	struct router_charge	*c;
	size_t			 n;

	if (r->ncharges == r->charge_cap) {
		n = r->charge_cap ? r->charge_cap * 2 : 256;
		if ((c = realloc(r->charges, n * sizeof(*c))) == NULL) {
			error(errno, "router: out of memory");
			return NULL;
		}
		r->charges = c;
		r->charge_cap = n;
	}
	if (!r->charge_waiting) {
		if (store_on_commit(r->core.store, router_charge_commit_cb,
		    r) == -1)
			return NULL;
		r->charge_waiting = 1;
	}
	c = &r->charges[r->ncharges++];
	memset(c, 0, sizeof(*c));
	c->slot = (size_t)(f - r->flood);
	c->gen = f->gen;
	c->warned = -1;
	return c;
}

/* Give back what the charges from index from on took, newest first. */
static void
router_charges_undo(struct router *r, size_t from)
{
	struct router_charge	*c;
	struct router_flood	*f;

	while (r->ncharges > from) {
		c = &r->charges[--r->ncharges];
		f = &r->flood[c->slot];
		/* A slot taken by another phone meanwhile starts afresh. */
		if (f->gen != c->gen)
			continue;
		f->tokens += c->tokens;
		if (f->tokens > router_flood_burst(r, f))
			f->tokens = router_flood_burst(r, f);
		if (c->warned != -1)
			f->warned = c->warned;
		if (c->rep && f->rep_state == ROUTER_REP_PENDING)
			f->rep_state = ROUTER_REP_NONE;
	}
}

/* The commit of the units charged since the last one: keep or give back. */
static void
router_charge_commit_cb(void *arg, int ok)
{
	struct router		*r = arg;
	struct router_charge	*c;
	struct router_flood	*f;
	size_t			 i;

	if (!ok)
		router_charges_undo(r, 0);
	for (i = 0; i < r->ncharges; i++) {
		c = &r->charges[i];
		f = &r->flood[c->slot];
		if (f->gen == c->gen && c->rep &&
		    f->rep_state == ROUTER_REP_PENDING)
			f->rep_state = ROUTER_REP_DONE;
	}
	r->ncharges = r->unit_mark = 0;
	r->charge_waiting = 0;
}

void
router_unit_begin(struct router *r)
{
	r->unit_mark = r->ncharges;
}

void
router_unit_undo(struct router *r)
{
	if (r->unit_mark <= r->ncharges)
		router_charges_undo(r, r->unit_mark);
}

/*
 * 1 if the sender may be served now (a token taken); 0 if over the limit
 * (*warn set when they should be told, once a minute); -1 if the charge
 * cannot be written down (out of memory).
 */
int
router_flood_take(struct router *r, struct router_flood *f, long long now,
    int *warn)
{
	double			 burst = router_flood_burst(r, f);
	double			 rate = router_flood_rate(r, f) / 60.0, full, mono;
	struct router_charge	*ch;
	struct timespec		 ts;

	*warn = 0;
	/*
	 * A time older than the last one by less than a full refill is a
	 * message that came out of order: no time has passed, nothing is
	 * earned.  Older by more, the clock went back (a refill can earn at
	 * most one full bucket anyway): the bucket earns what the monotonic
	 * clock says really passed and refills from the new time on, and a
	 * notice dated in the future does not keep the sender untold.
	 */
	full = rate > 0 ? burst / rate : 0;
	if (full < 60)
		full = 60;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono = ts.tv_sec + ts.tv_nsec / 1e9;
	if (now < f->last - (long long)full) {
		/* What really passed since, the monotonic clock says. */
		if (mono > f->mono)
			f->tokens += (mono - f->mono) * rate;
		if (f->tokens > burst)
			f->tokens = burst;
		f->last = now;
		f->mono = mono;
		if (now < f->warned - (long long)full)
			f->warned = now - 60;
	}
	if (now > f->last) {
		f->tokens += (now - f->last) * rate;
		if (f->tokens > burst)
			f->tokens = burst;
		f->last = now;
		f->mono = mono;
	}
	if (f->tokens >= 1) {
		if ((ch = router_charge_new(r, f)) == NULL)
			return -1;
		ch->tokens = 1;
		f->tokens -= 1;
		return 1;
	}
	if (now - f->warned >= 60) {
		if ((ch = router_charge_new(r, f)) == NULL)
			return -1;
		ch->warned = f->warned;
		f->warned = now;
		*warn = 1;
	}
	return 0;
}

/* 64-bit FNV-1a of a text. */
static uint64_t
router_text_hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * 1 if f's phone sent the same text within the repeat window (its first
 * copy handled, or about to be committed); else 0, and the text is noted
 * as pending, as inbox row inbox_id.  -1 if it cannot be noted (out of
 * memory).
 */
int
router_is_repeat(struct router *r, struct router_flood *f, const char *text,
    long long now, long long inbox_id)
{
	long long		 window = r->core.conf->repeat_window;
	uint64_t		 h;
	struct router_charge	*ch;

	if (window == 0)
		return 0;
	h = router_text_hash(text);
	if (f->rep_state != ROUTER_REP_NONE && f->rep_hash == h &&
	    now >= f->rep_time && now - f->rep_time <= window)
		return 1;
	if ((ch = router_charge_new(r, f)) == NULL)
		return -1;
	ch->rep = 1;
	f->rep_hash = h;
	f->rep_time = now;
	f->rep_inbox = inbox_id;
	f->rep_noted = (long long)time(NULL);
	f->rep_state = ROUTER_REP_PENDING;
	return 0;
}

/*
 * The repeat window on a shared store (store_shared): several instances
 * get one phone's MOs (bearerbox spreads them over the boxes), so the
 * last text of each phone is kept in repeat_window, one statement per MO
 * in the MO's own unit of work (a unit rolled back forgets it, as the
 * memory path's pending text is given back).  The row is replaced unless
 * it holds the same text within the window: a change means a new text, no
 * change a repeat.  The flood buckets stay per instance (see
 * router_flood_take's caller and marketbox.conf(5)).  On SQLite (one
 * marketbox per file) the memory path above is used, with no statement.
 */
static const char router_sql_repeat[] =
    "INSERT INTO repeat_window (msisdn, hash, at, inbox_id)"
    " VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (msisdn) DO UPDATE SET hash = excluded.hash,"
    " at = excluded.at, inbox_id = excluded.inbox_id"
    " WHERE repeat_window.hash <> excluded.hash"
    " OR repeat_window.at < excluded.at - $5"
    " OR repeat_window.at > excluded.at";
static const char router_sql_repeat_of[] =
    "SELECT inbox_id, at FROM repeat_window WHERE msisdn = $1";

/*
 * router_is_repeat() on a shared store: 1 a repeat (the first copy's inbox
 * row in *inbox, and in *since a time its replies were made after: the
 * MO's time, not the clock's, so a minute earlier for an SMSC's clock
 * ahead of ours; the inbox row picks the replies), 0 not (the text is
 * now the phone's last), -1 a store failure (logged).
 */
int
router_is_repeat_shared(struct router *r, const char *msisdn,
    const char *text, long long now, long long inbox_id, long long *inbox,
    long long *since)
{
	struct store		*s = r->core.store;
	long long		 window = r->core.conf->repeat_window;
	struct store_stmt	*st;

	if (window == 0)
		return 0;
	/* the 64-bit hash, as the memory path's, stored as a signed one */
	if ((st = store_query(s, router_sql_repeat)) == NULL ||
	    store_bind_text(st, 1, msisdn) == -1 ||
	    store_bind_int(st, 2, (long long)router_text_hash(text)) == -1 ||
	    store_bind_int(st, 3, now) == -1 ||
	    store_bind_int(st, 4, inbox_id) == -1 ||
	    store_bind_int(st, 5, window) == -1 ||
	    store_step(st) != STORE_DONE) {
		store_done(st);
		return -1;
	}
	store_done(st);
	if (store_changes(s) == 1)
		return 0;
	if ((st = store_query(s, router_sql_repeat_of)) == NULL ||
	    store_bind_text(st, 1, msisdn) == -1 ||
	    store_step(st) != STORE_ROW) {
		store_done(st);
		return -1;
	}
	*inbox = store_int(st, 0);
	*since = store_int(st, 1) - 60;
	store_done(st);
	return 1;
}

#define ROUTER_REPEAT_REPLIES	4	/* replies of one text sent again */

/*
 * A repeat: the phone most likely never got the answer.  Send the replies
 * the first copy got (inbox row inbox, noted at since or later) again, as
 * new messages tied to this MO; when they cannot be found (not stored to
 * this sender form, or the first copy made none), a short note that the
 * text was received and how to see where things stand.  The command does
 * not run again.
 */
int
router_repeat_reply(struct router *r, struct mb_ctx *ctx, long long inbox,
    long long since)
{
	char	**texts;
	size_t	  n, i;
	int	  rc = 0;

	if (outbox_replies_of(r->core.outbox, inbox, ctx->mo->sender,
	    since, ROUTER_REPEAT_REPLIES, &texts, &n) == -1)
		return -1;
	if (n == 0)
		return host_reply(ctx, "repeat", NULL, 0);
	for (i = 0; i < n && rc == 0; i++)
		rc = outbox_reply(r->core.outbox, ctx->mo, ctx->inbox_id,
		    texts[i]);
	outbox_texts_free(texts, n);
	return rc;
}
