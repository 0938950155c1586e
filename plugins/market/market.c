/*
 * market.c - the market plugin: farmers post what they sell, buyers what
 * they want, both are told of matches, buyers order, sellers answer and
 * dispatch, the buyer (or the transporter, with the buyer's code) confirms
 * delivery, and everyone concerned gets an SMS at every step.
 *
 * This file is the plugin as marketbox sees it: the descriptor
 * (marketbox_plugin, the one symbol market.so exports), the command table,
 * the conf (init, fini), the call every handler starts with
 * (market_call_init: the context, the conf, the clock and who acts) and
 * the timer.  The commands themselves are in the files of what they
 * change:
 *
 *	market_post.c		SELL, WANT, the matches of a new post, MY
 *	market_order.c		BUY, ACCEPT, REJECT, CANCEL; the order state
 *				machine (market_order_move, every notice of
 *				a step) and the refusals naming the next step
 *	market_delivery.c	SENT and DELIVERED: the transporter, the
 *				delivery code and its lock
 *	market_pool_order.c	a pool order's share orders (the allocation,
 *				how they follow it) and OFFER
 *	market_ask.c		the questions before a post or an order (a
 *				price far off the usual one, read two ways)
 *	market_text.c		replies, notices and lists in one SMS
 *	market_money.c		money in minor units, durations
 *	market_pool.c		POOL, JOIN, LEAVE, CLOSE: pools, their
 *				states (market_pool_move), deadlines
 *	market_tier.c		a dealer's tier prices: TIER in SELL, a
 *				tier reached, ACCEPT of a tiered offer
 *	market_rep.c		reputation: INFO, RATE, a person's record
 *				in the notices where she is decided on
 *	market_dispute.c	PROBLEM: a dispute opened on an order sent
 *				or delivered (an admin closes it)
 *	market_leg.c		IN, OUT, PICKUP: an order through the
 *				chain of hubs, leg by leg (SENT's and
 *				PROBLEM's hooks)
 *	market_manifest.c	the hubs' morning manifest (its SQL in
 *				market_store_manifest.c)
 *	market_pay.c		PAID, RECEIVED: money paid outside the
 *				provider, and cash at DELIVERED
 *				(cash-at-delivery), kept by the host's
 *				pay_said (src/pay/pay_said.c)
 *	market_store.c		the schema and the statements of posts and
 *				orders (market_store_pool.c: of pools,
 *				share orders and tiers)
 *	market.h		what these files share (internal)
 *
 * Pools live in these tables, not in a plugin of their own: a pool's
 * sale is an order on an offer (the listed pool is the offer, or the
 * want, of the same reference), so BUY, matching, MY and the order state
 * machine serve it unchanged; a plugin apart would duplicate them.
 *
 * A new command goes into the file of what it changes and into
 * market_commands below; a command run for someone else changes who
 * market_call_init says acts, not the handlers.
 *
 * Sellers and buyers are identities, not always phones: a service
 * point's agent acts FOR a member as her (the host's sender()), and a
 * member without a phone is "m:M17".  So an identity is stored, compared
 * and addressed (notify: the host sends it where she is reached) as it
 * is, never read as a phone number; the number shown to a counterparty
 * is the host's contact() of it (her agent's), and her name its
 * user_name() ("Mary Wanjiku via Kiambogo point").  A delivered order is
 * reported to the host's trade_done() (the service points' commissions).
 * A host older than these shows the identity (then always a phone) and
 * reports nothing.
 *
 * Commands (ids; the words people type are in the language files): SELL,
 * WANT, BUY, ACCEPT, REJECT, SENT, DELIVERED, CANCEL, MY, POOL, JOIN,
 * LEAVE, CLOSE, OFFER, INFO, RATE, PROBLEM, IN, OUT, PICKUP, PAID,
 * RECEIVED; each file's head
 * comment has their forms with an exchange each ("> " what a phone sends,
 * "< " what it gets; replies are templates market-* of the sender's
 * language).
 *
 * Timers (one timer, "market-sweep", every 15 s; it works when
 * sweep-interval has passed since its last sweep, or at once when the
 * wall clock went back, at most 200 rows a run,
 * the rest next run; due times are columns, so nothing is lost across a
 * restart):
 *  - open offers and wants past their lifetime expire; the owner is told;
 *  - a pending order unanswered for order-remind: the seller is reminded,
 *    once; unanswered for order-expire: it expires, the quantity returns,
 *    both are told;
 *  - an accepted order not sent after accept-remind: the seller is
 *    reminded to send it (or cancel it), once; not sent after
 *    accept-expire (from ACCEPT): it is cancelled (reason "auto"), the
 *    quantity returns as with CANCEL, both are told what to do next;
 *  - a sent order not confirmed after delivery-remind: the buyer is
 *    asked, once, whether it arrived (DELIVERED, or PROBLEM and what is
 *    wrong); not confirmed after delivery-complete (from SENT): it is
 *    delivered by itself (reason "auto"), both told, the trade counted as
 *    for DELIVERED; an open dispute on it (market_disputes, opened by
 *    PROBLEM) holds both until it is closed (read again just before the
 *    step, so a PROBLEM that commits meanwhile still holds it); when
 *    the latest closed dispute was decided for the buyer it is
 *    cancelled instead (reason "dispute"): nothing goes back on offer
 *    (the goods left), no trade is counted, nobody's record gets a
 *    cancellation (the lost dispute is on the seller's), both are told
 *    (market-dispute-ended-buyer, -seller); decided for the seller, it
 *    completes as delivered.  The buyer's DELIVERED works while sent.
 *    An order still between hubs (a leg to a hub not received,
 *    market_leg.c) is neither asked nor completed: its legs move it,
 *    and both its timers start again (delivery-remind, -complete from
 *    then) when it reaches the buyer's side (IN at the last hub, OUT on
 *    the last leg or to the buyer himself); completed, its last leg is
 *    closed with it;
 *  - a leg of a sent order past its due time (market_leg.c): its
 *    holder reminded at once (a moving leg's carrier, a waiting leg's
 *    hub), leg-escalate later the hub it goes to, waits at or (last
 *    leg) left, and the buyer; leg-escalate-admins later the admins;
 *    each step once (market_legs.reminded);
 *  - a pool order's share orders follow it through every timer's step as
 *    through a command's (market_order_move, market_pool_follow);
 *  - an open pool past its deadline: opener and members told, once;
 *    pool-grace later it lapses (market_pool.c); a listed pool whose
 *    offer or want expires lapses;
 *  - from manifest-time (local) on, each hub with parcels coming or
 *    waiting: its operators' morning manifest, once a day
 *    (market_manifest.c).
 *
 * Configuration (group = plugin-market; durations take s, m, h or d):
 *	offer-lifetime = 7d	match-scope = market | region | all
 *	order-remind = 2h	max-matches = 3	(0: no match notices)
 *	order-expire = 24h	code-tries = 3
 *	accept-remind = 24h	accept-expire = 72h
 *	delivery-remind = 48h	delivery-complete = 7d
 *	sweep-interval = 60s
 *	(each remind shorter than its expire or complete: checked)
 *	confirm-ratio = 10 (0: never ask)	confirm-posts = 5
 *	confirm-window = 30d
 *	transporter-prefixes = +254;+256 (default: the home country)
 *	pool-allocation = joined | prorata	pool-min = 50 (percent)
 *	pool-grace = 2d		pool-dropoff = 2d
 *	leg-due-county = 2d	leg-due-township = 1d	leg-due-village = 12h
 *	(a leg's handover due, by its hub's level: market_leg.c)
 *	leg-escalate = 6h	leg-escalate-admins = 24h
 *	(after a leg's due time; escalate shorter than escalate-admins)
 *	manifest-time = 06:00 | off	(the hubs' morning SMS, local time)
 *	cash-at-delivery = no | yes	(yes: DELIVERED records the rest of
 *	the price as cash the seller took with the goods: market_pay.c)
 *
 * The plugin includes only <marketbox/plugin.h> and libc; its SQL, which
 * both engines of the store run, is in market_store.c.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

#define MARKET_TICK		15	/* seconds between timer runs */
#define MARKET_SWEEP_MAX	200	/* rows one sweep handles */

/* --- the call every handler starts with ------------------------------------- */

/* Start a call: the context, the conf, the clock, the sender. */
void
market_call_init(struct market_call *c, struct mb_ctx *ctx,
    const struct mb_host *host, const struct market_conf *conf)
{
	const char	*sender;

	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->host = host;
	c->conf = conf;
	c->now = host->now(ctx);
	sender = host->sender(ctx);
	market_copy(c->actor, sizeof(c->actor), sender);
}

/* The conf from a handler (defaults if the state is missing). */
static const struct market_conf market_defaults = {
	.offer_lifetime = 7 * 86400,
	.order_remind = 2 * 3600,
	.order_expire = 24 * 3600,
	.accept_remind = 24 * 3600,
	.accept_expire = 72 * 3600,
	.delivery_remind = 48 * 3600,
	.delivery_complete = 7 * 86400,
	.sweep_interval = 60,
	.scope = MARKET_SCOPE_MARKET,
	.max_matches = 3,
	.code_tries = 3,
	.confirm_ratio = 10,
	.confirm_posts = 5,
	.confirm_window = 30 * 86400,
	.pool_prorata = 0,
	.pool_min = 50,
	.pool_grace = 2 * 86400,
	.pool_dropoff = 2 * 86400,
	.leg_due_county = 2 * 86400,
	.leg_due_township = 86400,
	.leg_due_village = 12 * 3600,
	.leg_escalate = 6 * 3600,
	.leg_escalate_admins = 24 * 3600,
	.manifest_time = MARKET_MANIFEST_DEFAULT,
};

const struct market_conf *
market_conf_of(struct mb_ctx *ctx, const struct mb_host *host)
{
	const struct market_state	*st = host->plugin_state(ctx);

	return st != NULL ? &st->conf : &market_defaults;
}

/* --- the timer ------------------------------------------------------------------------------------- */

/* An open post past its lifetime: expired, the owner told. */
static int
market_sweep_post(struct market_call *c, long long ref)
{
	struct market_post	 p;
	struct market_pool	 pool;
	struct market_args	 a = { .n = 0 };
	int			 rc;

	if ((rc = market_store_post_get(c, ref, &p)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if ((rc = market_store_post_end(c, ref, "expired")) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	/* a pool's offer or want: the pool ends, sold or lapsed */
	if ((rc = market_pool_find(c, ref, &pool)) == -1)
		return MB_FAIL;
	if (rc == 0)
		return market_pool_ended(c, &pool) == -1 ? MB_FAIL : MB_OK;
	market_arg_num(&a, "ref", p.ref);
	market_arg_num(&a, "qty", p.qty_left);
	market_arg(&a, "unit", p.unit);
	market_arg(&a, "commodity", p.commodity);
	return market_notify(c, p.msisdn, strcmp(p.kind, "offer") == 0 ?
	    "market-expired-offer" : "market-expired-want", &a);
}

/*
 * A due order's reminder, once: a pending order's seller (answer it), an
 * accepted order's seller (send it), a sent order's buyer (did it
 * arrive?).  The reminder names the other party and her number.
 */
static int
market_sweep_remind(struct market_call *c, struct market_order *o)
{
	struct market_args	 a = { .n = 0 };
	char			 name[MARKET_NAME_LEN];
	char			 phone[MARKET_MSISDN_LEN];
	const char		*to, *other, *tmpl;

	if (strcmp(o->state, "sent") == 0) {
		to = o->buyer;
		other = o->seller;
		tmpl = "market-reminder-buyer";
	} else {
		to = o->seller;
		other = o->buyer;
		tmpl = strcmp(o->state, "accepted") == 0 ?
		    "market-reminder-send" : "market-reminder-seller";
	}
	market_order_args(c, o, &a);
	if (market_contact(c, other, phone, sizeof(phone)) == -1)
		return MB_FAIL;
	market_person(c, other, name, sizeof(name));
	market_arg(&a, "name", name);
	market_arg(&a, "phone", phone);
	if (market_notify(c, to, tmpl, &a) != MB_OK ||
	    market_store_order_reminded(c, o->ref) == -1)
		return MB_FAIL;
	return MB_OK;
}

/*
 * A due order: its timer's step (pending: expired; accepted: cancelled;
 * sent: delivered; the last two marked MARKET_REASON_AUTO; a sent order
 * whose dispute was decided for the buyer: cancelled, reason
 * MARKET_REASON_DISPUTE), or its one reminder.  The query chose the state; a row that is no longer in it
 * is left alone.
 */
static int
market_sweep_order(struct market_call *c, enum market_due due, long long ref)
{
	struct market_order	 o;
	const char		*state;
	long long		 dispute;
	int			 rc;

	if ((rc = market_store_order_get(c, ref, &o)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	switch (due) {
	case MARKET_DUE_EXPIRE:
	case MARKET_DUE_REMIND:
		state = "pending";
		break;
	case MARKET_DUE_UNSENT:
	case MARKET_DUE_SEND:
		state = "accepted";
		break;
	default:
		state = "sent";
		break;
	}
	if (strcmp(o.state, state) != 0 || o.parent != 0)
		return MB_OK;
	switch (due) {
	case MARKET_DUE_EXPIRE:
		return market_order_move(c, &o, "expired", NULL, NULL);
	case MARKET_DUE_UNSENT:
		/* never sent: on the seller's record, as her own CANCEL */
		if ((rc = market_order_move(c, &o, "cancelled", NULL,
		    MARKET_REASON_AUTO)) != MB_OK)
			return rc;
		return market_store_rep_cancelled(c, o.ref, "seller") == -1 ?
		    MB_FAIL : MB_OK;
	case MARKET_DUE_COMPLETE:
		/* its disputes read again: one opened since the query
		   holds it; one decided for the buyer ends it undelivered */
		if ((rc = market_store_dispute_hold(c, o.ref, &dispute)) == -1)
			return MB_FAIL;
		if (rc == 1)
			return MB_OK;
		if (rc == 2)
			return market_order_move(c, &o, "cancelled", NULL,
			    MARKET_REASON_DISPUTE);
		/* its last leg, if any, ends with it (market_leg.c) */
		if ((rc = market_leg_delivered(c, &o, 0, 1)) != 0)
			return rc == 1 ? MB_OK : MB_FAIL;
		return market_order_move(c, &o, "delivered", NULL,
		    MARKET_REASON_AUTO);
	default:
		return market_sweep_remind(c, &o);
	}
}

/*
 * The sweep: what is due now, oldest first, at most MARKET_SWEEP_MAX rows
 * a run (the rest the next run, at once rather than after the interval).
 * A state's expiry comes before its reminder, so an order both
 * unreminded and due just takes its timer's step.
 */
static int
market_sweep_run(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	static const enum market_due	 order[] = {
		MARKET_DUE_POSTS, MARKET_DUE_EXPIRE, MARKET_DUE_REMIND,
		MARKET_DUE_UNSENT, MARKET_DUE_SEND, MARKET_DUE_COMPLETE,
		MARKET_DUE_DELIVERY
	};
	struct market_state	*st = host->state(pctx);
	struct market_call	 c;
	struct mb_ctx		*ctx = host->timer_ctx(pctx);
	long long		 refs[MARKET_SWEEP_MAX];
	struct market_leg_due	 legs[MARKET_SWEEP_MAX];
	size_t			 budget = MARKET_SWEEP_MAX, n, i, j;

	if (st == NULL || ctx == NULL)
		return MB_FAIL;
	market_call_init(&c, ctx, host, &st->conf);
	c.actor[0] = '\0';
	/* A next sweep further away than one interval means the wall clock
	   went back: sweep now rather than wait for it to catch up (days
	   without reminders or expiries). */
	if (c.now < st->next_sweep &&
	    st->next_sweep - c.now <= st->conf.sweep_interval)
		return MB_OK;
	for (j = 0; j < sizeof(order) / sizeof(order[0]) && budget > 0;
	    j++) {
		if (market_store_due(&c, order[j], refs, budget, &n) == -1)
			return MB_FAIL;
		for (i = 0; i < n; i++) {
			int	 rc = order[j] == MARKET_DUE_POSTS ?
				    market_sweep_post(&c, refs[i]) :
				    market_sweep_order(&c, order[j], refs[i]);

			if (rc != MB_OK)
				return MB_FAIL;
		}
		budget -= n;
	}
	/* open legs past their due time: one step each (market_leg.c) */
	if (budget > 0) {
		if (market_store_legs_due(&c, legs, budget, &n) == -1)
			return MB_FAIL;
		for (i = 0; i < n; i++)
			if (market_leg_press(&c, legs[i].ref, legs[i].seq,
			    legs[i].reminded) != MB_OK)
				return MB_FAIL;
		budget -= n;
	}
	if (market_pool_sweep(&c, &budget) != MB_OK)
		return MB_FAIL;
	if (market_manifest_sweep(&c, &budget) != MB_OK)
		return MB_FAIL;
	if (budget > 0)
		st->next_sweep = c.now + st->conf.sweep_interval;
	else
		host->log(ctx, MB_LOG_INFO, "market: sweep: %d rows done, "
		    "more next run", MARKET_SWEEP_MAX);
	return MB_OK;
}

/* --- init, fini ---------------------------------------------------------------------------------------- */

/* A duration key: *out set (default def), -1 when malformed or out of
   [min, max] seconds. */
static int
market_conf_duration(struct mb_plugin_ctx *pctx, const struct mb_host *host,
    const char *key, long long min, long long max, long long *out)
{
	const char	*v = host->conf(pctx, key);

	if (v == NULL)
		return 0;
	if (market_duration_parse(v, out) == -1 || *out < min || *out > max) {
		host->log(NULL, MB_LOG_ERROR, "market: %s = %s: not a duration "
		    "between %llds and %lldd (e.g. 7d, 2h, 30m, 60s)", key, v,
		    min, max / 86400);
		return -1;
	}
	return 0;
}

/*
 * transporter-prefixes: ';'-separated "+<1 to 6 digits>", copied to out.
 * 0, or -1 (logged).
 */
static int
market_conf_prefixes(const struct mb_host *host, const char *value,
    char *out, size_t len)
{
	const char	*p = value, *e;
	size_t		 n;

	if (strlen(value) >= len) {
		host->log(NULL, MB_LOG_ERROR, "market: transporter-prefixes "
		    "is too long (at most %zu characters)", len - 1);
		return -1;
	}
	while (*p != '\0') {
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n < 2 || n > 7 || p[0] != '+' ||
		    strspn(p + 1, "0123456789") < n - 1) {
			host->log(NULL, MB_LOG_ERROR, "market: "
			    "transporter-prefixes = %s: each one a '+' and "
			    "1 to 6 digits, like +254;+256", value);
			return -1;
		}
		p = *e == ';' ? e + 1 : e;
	}
	memcpy(out, value, strlen(value) + 1);
	return 0;
}

static int
market_conf_int(struct mb_plugin_ctx *pctx, const struct mb_host *host,
    const char *key, int min, int max, int *out)
{
	const char	*v = host->conf(pctx, key);
	char		*end;
	long		 n;

	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < min || n > max) {
		host->log(NULL, MB_LOG_ERROR, "market: %s = %s: not a number "
		    "from %d to %d", key, v, min, max);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int
market_init(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct market_state	*st;
	struct market_conf	*cf;
	const char		*scope, *prefixes, *alloc, *v;
	long long		 year = 366LL * 86400;
	int			 bad = 0;

	/* lists and notices that must fit are rendered first */
	if (host->size < offsetof(struct mb_host, market_suggest) +
	    sizeof(host->market_suggest) || host->render == NULL) {
		host->log(NULL, MB_LOG_ERROR, "market: this marketbox cannot "
		    "render templates or measure SMS for the plugin: too old");
		return MB_FAIL;
	}
	/* every statement goes through the store functions of ABI 2 */
	if (!MARKET_HOST_HAS(host, engine) || host->query == NULL) {
		host->log(NULL, MB_LOG_ERROR, "market: this marketbox has no "
		    "store functions for the plugin: too old");
		return MB_FAIL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return MB_FAIL;
	cf = &st->conf;
	*cf = market_defaults;
	bad |= market_conf_duration(pctx, host, "offer-lifetime", 60, year,
	    &cf->offer_lifetime);
	bad |= market_conf_duration(pctx, host, "order-remind", 60, year,
	    &cf->order_remind);
	bad |= market_conf_duration(pctx, host, "order-expire", 60, year,
	    &cf->order_expire);
	bad |= market_conf_duration(pctx, host, "accept-remind", 60, year,
	    &cf->accept_remind);
	bad |= market_conf_duration(pctx, host, "accept-expire", 60, year,
	    &cf->accept_expire);
	bad |= market_conf_duration(pctx, host, "delivery-remind", 60, year,
	    &cf->delivery_remind);
	bad |= market_conf_duration(pctx, host, "delivery-complete", 60, year,
	    &cf->delivery_complete);
	bad |= market_conf_duration(pctx, host, "sweep-interval", 1, 86400,
	    &cf->sweep_interval);
	bad |= market_conf_int(pctx, host, "max-matches", 0, 10,
	    &cf->max_matches);
	bad |= market_conf_int(pctx, host, "code-tries", 1, 10,
	    &cf->code_tries);
	bad |= market_conf_int(pctx, host, "confirm-ratio", 0, 1000,
	    &cf->confirm_ratio);
	bad |= market_conf_int(pctx, host, "confirm-posts", 1, 1000,
	    &cf->confirm_posts);
	bad |= market_conf_duration(pctx, host, "confirm-window", 3600, year,
	    &cf->confirm_window);
	bad |= market_conf_int(pctx, host, "pool-min", 1, 100, &cf->pool_min);
	bad |= market_conf_duration(pctx, host, "pool-grace", 0, year,
	    &cf->pool_grace);
	bad |= market_conf_duration(pctx, host, "pool-dropoff", 0, 30 * 86400,
	    &cf->pool_dropoff);
	bad |= market_conf_duration(pctx, host, "leg-due-county", 60, year,
	    &cf->leg_due_county);
	bad |= market_conf_duration(pctx, host, "leg-due-township", 60, year,
	    &cf->leg_due_township);
	bad |= market_conf_duration(pctx, host, "leg-due-village", 60, year,
	    &cf->leg_due_village);
	bad |= market_conf_duration(pctx, host, "leg-escalate", 60, year,
	    &cf->leg_escalate);
	bad |= market_conf_duration(pctx, host, "leg-escalate-admins", 60,
	    year, &cf->leg_escalate_admins);
	if ((v = host->conf(pctx, "manifest-time")) != NULL &&
	    market_manifest_conf(host, v, &cf->manifest_time) == -1)
		bad = 1;
	if ((v = host->conf(pctx, "cash-at-delivery")) != NULL) {
		if (strcmp(v, "yes") == 0)
			cf->cash_at_delivery = 1;
		else if (strcmp(v, "no") == 0)
			cf->cash_at_delivery = 0;
		else {
			host->log(NULL, MB_LOG_ERROR, "market: "
			    "cash-at-delivery = %s: not yes or no", v);
			bad = 1;
		}
	}
	if ((alloc = host->conf(pctx, "pool-allocation")) != NULL) {
		if (strcmp(alloc, "joined") == 0)
			cf->pool_prorata = 0;
		else if (strcmp(alloc, "prorata") == 0)
			cf->pool_prorata = 1;
		else {
			host->log(NULL, MB_LOG_ERROR, "market: pool-allocation"
			    " = %s: not joined or prorata", alloc);
			bad = 1;
		}
	}
	if (cf->confirm_ratio == 1) {
		host->log(NULL, MB_LOG_ERROR, "market: confirm-ratio = 1 would "
		    "ask about every price: use 2 or more, or 0 for never");
		bad = 1;
	}
	if ((prefixes = host->conf(pctx, "transporter-prefixes")) != NULL &&
	    market_conf_prefixes(host, prefixes, cf->transporter_prefixes,
	    sizeof(cf->transporter_prefixes)) == -1)
		bad = 1;
	if ((scope = host->conf(pctx, "match-scope")) != NULL) {
		if (strcmp(scope, "market") == 0)
			cf->scope = MARKET_SCOPE_MARKET;
		else if (strcmp(scope, "region") == 0)
			cf->scope = MARKET_SCOPE_REGION;
		else if (strcmp(scope, "all") == 0)
			cf->scope = MARKET_SCOPE_ALL;
		else {
			host->log(NULL, MB_LOG_ERROR, "market: match-scope = "
			    "%s: not market, region or all", scope);
			bad = 1;
		}
	}
	if (!bad && cf->order_remind >= cf->order_expire) {
		host->log(NULL, MB_LOG_ERROR, "market: order-remind must be "
		    "shorter than order-expire, or no reminder would go out");
		bad = 1;
	}
	if (!bad && cf->accept_remind >= cf->accept_expire) {
		host->log(NULL, MB_LOG_ERROR, "market: accept-remind must be "
		    "shorter than accept-expire, or no reminder would go out");
		bad = 1;
	}
	if (!bad && cf->delivery_remind >= cf->delivery_complete) {
		host->log(NULL, MB_LOG_ERROR, "market: delivery-remind must "
		    "be shorter than delivery-complete, or the buyer would "
		    "never be asked");
		bad = 1;
	}
	if (!bad && cf->leg_escalate >= cf->leg_escalate_admins) {
		host->log(NULL, MB_LOG_ERROR, "market: leg-escalate must be "
		    "shorter than leg-escalate-admins, or the admins would "
		    "hear of a late leg before its hub");
		bad = 1;
	}
	if (bad) {
		free(st);
		return MB_FAIL;
	}
	host->set_state(pctx, st);
	return MB_OK;
}

static void
market_fini(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	free(host->state(pctx));
	host->set_state(pctx, NULL);
}

/* --- the descriptor --------------------------------------------------------------------------------------- */

static const struct mb_command market_commands[] = {
	{ .id = "SELL", .handler = market_sell, .usage = "usage-SELL",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "WANT", .handler = market_want, .usage = "usage-WANT",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "BUY", .handler = market_buy, .usage = "usage-BUY",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "ACCEPT", .handler = market_accept, .usage = "usage-ACCEPT",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "REJECT", .handler = market_reject, .usage = "usage-REJECT",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "SENT", .handler = market_sent, .usage = "usage-SENT",
	    .flags = MB_CMD_REGISTERED },
	/* a transporter may have no registration: checked in the handler */
	{ .id = "DELIVERED", .handler = market_delivered,
	    .usage = "usage-DELIVERED", .flags = 0 },
	{ .id = "CANCEL", .handler = market_cancel, .usage = "usage-CANCEL",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "MY", .handler = market_my, .usage = "usage-MY",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "POOL", .handler = market_pool, .usage = "usage-POOL",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "JOIN", .handler = market_join, .usage = "usage-JOIN",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "LEAVE", .handler = market_leave, .usage = "usage-LEAVE",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "CLOSE", .handler = market_close, .usage = "usage-CLOSE",
	    .flags = MB_CMD_REGISTERED },
	/* a seller's answer to a buying pool (market_pool_order.c) */
	{ .id = "OFFER", .handler = market_offer, .usage = "usage-OFFER",
	    .flags = MB_CMD_REGISTERED },
	/* reputation (market_rep.c) */
	{ .id = "INFO", .handler = market_info, .usage = "usage-INFO",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "RATE", .handler = market_rate, .usage = "usage-RATE",
	    .flags = MB_CMD_REGISTERED },
	/* a transporter may have no registration (market_dispute.c) */
	{ .id = "PROBLEM", .handler = market_problem,
	    .usage = "usage-PROBLEM", .flags = 0 },
	/* hubs and legs (market_leg.c): a carrier or a hub's operator may
	   have no registration: checked in the handlers against the hubs
	   of the route */
	{ .id = "IN", .handler = market_in, .usage = "usage-IN",
	    .flags = 0 },
	{ .id = "OUT", .handler = market_out, .usage = "usage-OUT",
	    .flags = 0 },
	{ .id = "PICKUP", .handler = market_pickup, .usage = "usage-PICKUP",
	    .flags = 0 },
	/* money paid outside the provider (market_pay.c) */
	{ .id = "PAID", .handler = market_paid, .usage = "usage-PAID",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "RECEIVED", .handler = market_received,
	    .usage = "usage-RECEIVED", .flags = MB_CMD_REGISTERED },
};

static const struct mb_timer market_timers[] = {
	{ .name = "market-sweep", .interval = MARKET_TICK,
	    .run = market_sweep_run },
};

static const char * const market_conf_keys[] = {
	"offer-lifetime", "order-remind", "order-expire", "delivery-remind",
	"accept-remind", "accept-expire", "delivery-complete",
	"sweep-interval", "match-scope", "max-matches", "code-tries",
	"confirm-ratio", "confirm-posts", "confirm-window",
	"transporter-prefixes",
	"pool-allocation", "pool-min", "pool-grace", "pool-dropoff",
	"leg-due-county", "leg-due-township", "leg-due-village",
	"leg-escalate", "leg-escalate-admins",
	"manifest-time", "cash-at-delivery",
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "market",
	.version = "1.0",
	.commands = market_commands,
	.ncommands = sizeof(market_commands) / sizeof(market_commands[0]),
	.migrations = market_migrations,
	.nmigrations = MARKET_NMIGRATIONS,
	.timers = market_timers,
	.ntimers = sizeof(market_timers) / sizeof(market_timers[0]),
	.conf_keys = market_conf_keys,
	.nconf_keys = sizeof(market_conf_keys) / sizeof(market_conf_keys[0]),
	.init = market_init,
	.fini = market_fini,
};
