/*
 * market_order.c - orders: BUY, the seller's ACCEPT and REJECT, CANCEL,
 * and the order state machine every step goes through, with the notices
 * of each step; and the refusals that say what a number names and who
 * must act next.
 *
 * Commands, with an exchange each ("> " what a phone sends, "< " what it
 * gets; replies are templates market-* of the sender's language):
 *
 *   BUY offer qty [unit]
 *	> BUY 41 5
 *	< Order #43: 5 bags of maize from Wanjiru (offer #41), total
 *	  15,000 KES. The seller is asked to accept.
 *	The seller gets the buyer's name and number, her record where it
 *	fits ("12 trades, 1 cancelled": market_rep.c), the quantity, the
 *	total and "ACCEPT 43 / REJECT 43".  The quantity is reserved at
 *	once, in one conditional UPDATE: of two buyers for the last bags one
 *	gets them, the other is told what is left.  An order also counts toward
 *	the buyer's oldest open want of that commodity (a want fully ordered
 *	is closed; the quantity comes back if the order does not go
 *	through).  Refused: own offer, more than is left, a want or order
 *	number, an unknown number, an offer no longer open, a total above
 *	10^11.
 *
 *   ACCEPT order			(the seller; a pending order)
 *	> ACCEPT 43
 *	< Order #43 accepted. When the goods leave, send SENT 43 and the
 *	  transporter's phone.
 *	The buyer is told (market-accepted); when marketbox takes payments
 *	(host pay_to: group = payments), with where to pay
 *	(market-accepted-pay: "Pay 15,000 KES to paybill 512345, account
 *	43").
 *   REJECT order [reason]		(the seller; a pending order)
 *	> REJECT 43 sold at the farm
 *	< Order #43 rejected. 5 bags are back on offer #41.
 *   CANCEL ref
 *	> CANCEL 41
 *	< Offer #41 withdrawn. Orders already placed on it stand.
 *	An own open offer or want; or an order not yet sent, by its buyer or
 *	its seller (the reserved quantity returns, the other party is told;
 *	who cancelled is kept for the record, market_rep.c).
 *
 * Everything else gets a refusal that changes nothing and names the next
 * step, who must act and the exact command: market-unknown-ref; a number
 * of another kind (market_post_refuse: market-ref-offer, -own-offer,
 * -want, -own-want, market-sold-out, market-offer-ended, market-ref-order);
 * market-not-yours; an order's step out of turn or state
 * (market_order_refuse: market-order-wait-*, -is-accepted, -on-way,
 * -ended-*); a post already withdrawn or expired (market-post-*).
 *
 * Orders: the state machine (see market_transitions, the one place an
 * order changes state: market_order_move checks the from-state, writes
 * the row and sends every notice of the step, in the transaction of the
 * message or timer run).  Every state that is not final has a way out
 * by a timer, so no order waits for ever:
 *
 *	pending  -> accepted | rejected | expired | cancelled
 *	accepted -> sent | cancelled
 *	sent     -> delivered | cancelled (reason "dispute": the timer's only)
 *
 *	state	 timers (due times remind_at, expires_at: columns)
 *	pending	 order-remind: the seller reminded, once;
 *		 order-expire: expired (both told)
 *	accepted accept-remind: the seller reminded to send, once;
 *		 accept-expire: cancelled, reason "auto" (both told)
 *	sent	 delivery-remind: the buyer asked whether it arrived, once;
 *		 delivery-complete: delivered, reason "auto" (both told,
 *		 the trade counted as for DELIVERED), unless a dispute on
 *		 it is open (market_disputes): then it waits, and at the
 *		 first sweep after the dispute is closed, if it is still
 *		 sent, completes (decided for the seller) or is cancelled,
 *		 reason "dispute" (decided for the buyer: nothing given
 *		 back, the goods left; no trade, no cancellation on anyone's
 *		 record; both told, market-dispute-ended-*)
 *
 * An order that closes (rejected, expired, cancelled) or is delivered
 * tells the core (host pay_event, market_order_pay), whose money state
 * follows: with money received, a refund due; delivered in escrow, a
 * payout due (src/pay/pay.c).  A pool's share orders, moved with their
 * pool order, tell it too.  Delivered by a DELIVERED with
 * cash-at-delivery = yes, the rest of its price is then recorded as cash
 * the seller took (market_pay_cash, after the delivery's own money event:
 * cash is the seller's, never an escrow payout), which the delivered
 * texts say (market-delivered-ok-cash, -seller-cash).
 *
 * ACCEPT and SENT set the next state's due times (from the conf then in
 * force); a final state has none.  rejected, expired and cancelled give
 * the reserved quantity back to the offer (a sold-out offer reopens while
 * it has not expired).
 *
 * SENT and DELIVERED are market_delivery.c's (they move an order through
 * market_order_move too); the timer's reminders and expiries are
 * market.c's; the quantity's reservation is one statement of
 * market_store.c.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <marketbox/plugin.h>

#include "market.h"

/* --- the order state machine ------------------------------------------------
 *
 * Every change of an order's state is a row of this table, and goes
 * through market_order_move, which checks it, writes it and tells people:
 *
 *	pending  -> accepted | rejected | expired | cancelled
 *	accepted -> sent | cancelled
 *	sent     -> delivered | cancelled (MARKET_REASON_DISPUTE only)
 *
 * rejected, expired, cancelled and delivered are final.  Each state that
 * is not has a timer's step among its own (market.c's sweep): pending ->
 * expired, accepted -> cancelled, sent -> delivered (the last two with
 * reason MARKET_REASON_AUTO); the head comment lists the timers.  A row
 * with a reason is taken only with that reason: sent -> cancelled is the
 * timer's end of an order whose dispute was decided for the buyer, never
 * a CANCEL (market_order_can, which commands ask, does not have it).
 */
static const struct market_transition {
	const char	*from;
	const char	*to;
	const char	*reason;	/* NULL: any */
} market_transitions[] = {
	{ "pending",	"accepted",	NULL },
	{ "pending",	"rejected",	NULL },
	{ "pending",	"expired",	NULL },
	{ "pending",	"cancelled",	NULL },
	{ "accepted",	"sent",		NULL },
	{ "accepted",	"cancelled",	NULL },
	{ "sent",	"delivered",	NULL },
	{ "sent",	"cancelled",	MARKET_REASON_DISPUTE },
};

int
market_order_can_for(const char *from, const char *to, const char *reason)
{
	size_t	 i;

	for (i = 0; i < sizeof(market_transitions) /
	    sizeof(market_transitions[0]); i++)
		if (strcmp(market_transitions[i].from, from) == 0 &&
		    strcmp(market_transitions[i].to, to) == 0 &&
		    (market_transitions[i].reason == NULL ||
		    (reason != NULL && strcmp(market_transitions[i].reason,
		    reason) == 0)))
			return 1;
	return 0;
}

int
market_order_can(const char *from, const char *to)
{
	return market_order_can_for(from, to, NULL);
}

/* The placeholders every order notice has. */
void
market_order_args(struct market_call *c, const struct market_order *o,
    struct market_args *a)
{
	market_arg_num(a, "ref", o->ref);
	market_arg_num(a, "offer", o->offer);
	market_arg_num(a, "qty", o->qty);
	market_arg(a, "unit", o->unit);
	market_arg(a, "commodity", o->commodity);
	market_arg_money(a, "price", o->price);
	market_arg_money(a, "total", o->total);
	market_arg(a, "currency", c->host->currency(c->ctx));
}

/*
 * A 4-digit code from the kernel's random source (getentropy: a guess
 * must not be easier than 1 in 10,000): an order's delivery code, and a
 * leg's handover code (market_leg.c).  0, or -1 when there is no
 * randomness to have: the step is refused, not sent with a weak code.
 */
int
market_order_code(struct market_call *c, char *buf, size_t len)
{
	unsigned int	 r;

	if (getentropy(&r, sizeof(r)) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: no random code: getentropy failed");
		return -1;
	}
	snprintf(buf, len, "%04u", r % 10000);
	return 0;
}

/* 1 if o's last step was the timer's own (cancelled unsent, completed
   unconfirmed), not a person's. */
static int
market_order_auto(const struct market_order *o)
{
	return strcmp(o->reason, MARKET_REASON_AUTO) == 0 &&
	    (strcmp(o->state, "cancelled") == 0 ||
	    strcmp(o->state, "delivered") == 0);
}

/* The notices of a step that has been written (o is the new row). */
static int
market_order_tell(struct market_call *c, const struct market_order *o)
{
	struct market_args	 a = { .n = 0 };
	char			 seller[MARKET_NAME_LEN];
	char			 buyer[MARKET_NAME_LEN];
	char			 mname[MARKET_NAME_LEN];
	char			 sphone[MARKET_MSISDN_LEN];
	char			 bphone[MARKET_MSISDN_LEN];
	const char		*other, *paybill, *account;
	int			 by_transporter, pooled;

	market_person(c, o->seller, seller, sizeof(seller));
	market_person(c, o->buyer, buyer, sizeof(buyer));
	market_order_args(c, o, &a);

	/* the numbers shown below: a member's is her agent's */
	if (strcmp(o->state, "accepted") == 0) {
		if (market_contact(c, o->seller, sphone, sizeof(sphone)) == -1)
			return MB_FAIL;
		market_arg(&a, "name", seller);
		market_arg(&a, "phone", sphone);
		if (!c->batch && market_reply(c, "market-accept-ok", &a) !=
		    MB_OK)
			return MB_FAIL;
		/* with payments taken, the buyer is told where to pay */
		if (c->host->size >= offsetof(struct mb_host, pay_to) +
		    sizeof(c->host->pay_to) && c->host->pay_to != NULL &&
		    c->host->pay_to(c->ctx, o->ref, &paybill, &account) == 1) {
			market_arg(&a, "paybill", paybill);
			market_arg(&a, "account", account);
			return market_notify(c, o->buyer, "market-accepted-pay",
			    &a);
		}
		return market_notify(c, o->buyer, "market-accepted", &a);
	}
	if (strcmp(o->state, "rejected") == 0) {
		market_arg(&a, "name", seller);
		market_arg(&a, "reason", o->reason);
		if (market_reply(c, "market-reject-ok", &a) != MB_OK)
			return MB_FAIL;
		return market_notify(c, o->buyer, o->reason[0] != '\0' ?
		    "market-rejected-reason" : "market-rejected", &a);
	}
	if (strcmp(o->state, "expired") == 0) {
		struct market_args	 b = { .n = 0 };
		const char		*tmpl;

		market_arg(&a, "name", seller);
		if (market_notify(c, o->buyer, "market-expired-order-buyer",
		    &a) != MB_OK)
			return MB_FAIL;
		market_order_args(c, o, &b);
		market_arg(&b, "name", buyer);
		/* a pool's ended offer took nothing back */
		if ((tmpl = market_pool_expired_tmpl(c, o)) == NULL)
			return MB_FAIL;
		return market_notify(c, o->seller, tmpl, &b);
	}
	if (strcmp(o->state, "cancelled") == 0 &&
	    strcmp(o->reason, MARKET_REASON_DISPUTE) == 0) {
		long long	 dispute;

		/* sent, the dispute decided for the buyer: no trade */
		if (market_store_dispute_hold(c, o->ref, &dispute) == -1)
			return MB_FAIL;
		market_arg_num(&a, "dispute", dispute);
		if (market_notify(c, o->buyer, "market-dispute-ended-buyer",
		    &a) != MB_OK)
			return MB_FAIL;
		return market_notify(c, o->seller,
		    "market-dispute-ended-seller", &a);
	}
	if (strcmp(o->state, "cancelled") == 0 && market_order_auto(o)) {
		struct market_args	 b = { .n = 0 };

		/* accepted, never sent: both told what to do next */
		market_arg(&a, "name", seller);
		if (market_notify(c, o->buyer, "market-unsent-buyer", &a) !=
		    MB_OK)
			return MB_FAIL;
		market_order_args(c, o, &b);
		market_arg(&b, "name", buyer);
		return market_notify(c, o->seller, "market-unsent-seller", &b);
	}
	if (strcmp(o->state, "cancelled") == 0) {
		int	 by_buyer = strcmp(c->actor, o->buyer) == 0;

		other = by_buyer ? o->seller : o->buyer;
		market_arg(&a, "name", by_buyer ? buyer : seller);
		if (market_reply(c, "market-cancelled-order", &a) != MB_OK)
			return MB_FAIL;
		return market_notify(c, other, "market-order-cancelled", &a);
	}
	if (strcmp(o->state, "sent") == 0) {
		int	 carried = o->transporter[0] != '\0';

		market_arg(&a, "code", o->code);
		market_arg(&a, "phone", o->transporter);
		if (market_reply(c, carried ? "market-sent-ok-transporter" :
		    "market-sent-ok", &a) != MB_OK)
			return MB_FAIL;
		if (market_notify(c, o->buyer, carried ?
		    "market-sent-buyer-transporter" : "market-sent-buyer",
		    &a) != MB_OK)
			return MB_FAIL;
		if (carried) {
			struct market_args	 t = { .n = 0 };

			if (market_contact(c, o->seller, sphone,
			    sizeof(sphone)) == -1 || market_contact(c,
			    o->buyer, bphone, sizeof(bphone)) == -1)
				return MB_FAIL;
			/* names go to registered users only */
			int	 named = c->host->user_name(c->ctx,
				    o->transporter) != NULL;

			market_market_name(c, o->market, mname,
			    sizeof(mname));
			market_arg_num(&t, "ref", o->ref);
			market_arg_num(&t, "qty", o->qty);
			market_arg(&t, "unit", o->unit);
			market_arg(&t, "commodity", o->commodity);
			if (named)
				market_arg(&t, "name", seller);
			market_arg(&t, "phone", sphone);
			market_arg(&t, "market", mname);
			if (named)
				market_arg(&t, "buyer", buyer);
			market_arg(&t, "buyer_phone", bphone);
			if (market_notify(c, o->transporter, named ?
			    "market-sent-transporter" :
			    "market-sent-transporter-unnamed", &t) != MB_OK)
				return MB_FAIL;
		}
		return MB_OK;
	}
	if (strcmp(o->state, "delivered") == 0) {
		by_transporter = strcmp(c->actor, o->buyer) != 0;
		if (c->host->user_trade(c->ctx, o->buyer) == -1 ||
		    c->host->user_trade(c->ctx, o->seller) == -1) {
			c->host->log(c->ctx, MB_LOG_ERROR,
			    "market: cannot count the trade of order %lld",
			    o->ref);
			return MB_FAIL;
		}
		/* the service points' commissions are the core's; a pool
		   order's are its share orders' */
		if ((pooled = market_store_is_parent(c, o->ref)) == -1)
			return MB_FAIL;
		if (!pooled && MARKET_HOST_HAS(c->host, trade_done) &&
		    c->host->trade_done(c->ctx, o->ref, o->seller, o->buyer,
		    o->total) == -1) {
			c->host->log(c->ctx, MB_LOG_ERROR,
			    "market: cannot record the trade of order %lld",
			    o->ref);
			return MB_FAIL;
		}
		if (market_order_auto(o)) {
			struct market_args	 b = { .n = 0 };

			/* completed by the timer: nobody to reply to */
			market_arg(&a, "name", seller);
			if (market_notify(c, o->buyer,
			    "market-auto-delivered-buyer", &a) != MB_OK)
				return MB_FAIL;
			market_order_args(c, o, &b);
			market_arg(&b, "name", buyer);
			return market_notify(c, o->seller,
			    "market-auto-delivered-seller", &b);
		}
		market_arg(&a, "name", buyer);
		/* cash taken with the goods (cash-at-delivery): both told
		   it is recorded */
		if (c->cash > 0)
			market_arg_money(&a, "amount", c->cash);
		if (market_reply(c, c->cash > 0 ? "market-delivered-ok-cash" :
		    "market-delivered-ok", &a) != MB_OK ||
		    market_notify(c, o->seller, c->cash > 0 ?
		    "market-delivered-seller-cash" : "market-delivered-seller",
		    &a) != MB_OK)
			return MB_FAIL;
		if (by_transporter) {
			struct market_args	 b = { .n = 0 };

			market_arg_num(&b, "ref", o->ref);
			market_arg(&b, "phone", c->actor);
			if (market_notify(c, o->buyer,
			    "market-delivered-buyer", &b) != MB_OK)
				return MB_FAIL;
		}
		return MB_OK;
	}
	return MB_OK;
}

int
market_order_pay(struct market_call *c, long long ref, const char *to)
{
	int	 ev;

	if (strcmp(to, "delivered") == 0)
		ev = MB_PAY_DELIVERED;
	else if (strcmp(to, "rejected") == 0 || strcmp(to, "expired") == 0 ||
	    strcmp(to, "cancelled") == 0)
		ev = MB_PAY_CLOSED;
	else
		return 0;
	if (!MARKET_HOST_HAS(c->host, pay_event))
		return 0;
	if (c->host->pay_event(c->ctx, ref, ev) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: order %lld: its "
		    "money state cannot follow it to %s", ref, to);
		return -1;
	}
	/* after the delivery's own event: cash the seller took is hers,
	   never a payout the operator owes (market_pay.c) */
	if (ev == MB_PAY_DELIVERED)
		return market_pay_cash(c, ref);
	return 0;
}

/*
 * Move order o to state to: the from-state checked against the table,
 * the row written (only if it is still in the from-state), the quantity
 * given back when the order does not go through, the money state moved
 * (market_order_pay: a paid order closed is a refund due, the core tells
 * the buyer and the admins), and every notice of the step sent.
 * transporter and reason are for sent and rejected (may be
 * NULL).  MB_OK, or MB_FAIL (a broken rule is logged: callers check
 * market_order_can first and refuse with a reply).
 */
int
market_order_move(struct market_call *c, struct market_order *o,
    const char *to, const char *transporter, const char *reason)
{
	char	 from[sizeof(o->state)];
	int	 rc;

	if (!market_order_can_for(o->state, to, reason)) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: order %lld: no transition %s -> %s", o->ref,
		    o->state, to);
		return MB_FAIL;
	}
	market_copy(from, sizeof(from), o->state);
	market_copy(o->state, sizeof(o->state), to);
	o->updated = c->now;
	/* the due times of the new state (market.c's sweep): an accepted
	   order must be sent, a sent one confirmed; final states have none */
	o->reminded = 0;
	if (strcmp(to, "sent") == 0) {
		market_copy(o->transporter, sizeof(o->transporter),
		    transporter);
		if (market_order_code(c, o->code, sizeof(o->code)) == -1)
			return MB_FAIL;
		o->code_tries = 0;
		o->remind_at = c->now + c->conf->delivery_remind;
		o->expires_at = c->now + c->conf->delivery_complete;
	} else if (strcmp(to, "accepted") == 0) {
		o->remind_at = c->now + c->conf->accept_remind;
		o->expires_at = c->now + c->conf->accept_expire;
	} else {
		o->remind_at = 0;
		o->expires_at = 0;
	}
	if (strcmp(to, "rejected") == 0 || reason != NULL)
		market_copy(o->reason, sizeof(o->reason), reason);
	if ((rc = market_store_order_update(c, o, from)) == -1)
		return MB_FAIL;
	if (rc == 0) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: order %lld was not %s", o->ref, from);
		return MB_FAIL;
	}
	/* a sent order's goods left the seller: nothing goes back */
	if ((strcmp(to, "rejected") == 0 || strcmp(to, "expired") == 0 ||
	    strcmp(to, "cancelled") == 0) && strcmp(from, "sent") != 0) {
		if (market_store_post_return(c, o->offer, o->qty) == -1)
			return MB_FAIL;
		if (o->want != 0 && o->want_qty > 0 &&
		    market_store_post_return(c, o->want, o->want_qty) == -1)
			return MB_FAIL;
	}
	if (market_order_pay(c, o->ref, to) == -1)
		return MB_FAIL;
	c->host->log(c->ctx, MB_LOG_INFO, "market: order %lld %s -> %s",
	    o->ref, from, to);
	/* a pool order's share orders follow it (market_pool_order.c) */
	if (market_order_tell(c, o) != MB_OK ||
	    market_pool_follow(c, o, to) == -1)
		return MB_FAIL;
	return MB_OK;
}

/* --- finding what a number names, and refusing with the next step ------------
 *
 * A refusal says what the thing is now and who must act next, with the
 * exact command: an order's state and the sender's part in it choose the
 * template (market_order_refuse), an offer or want that is not what the
 * command needs says what can be done with it (market_post_refuse).
 */

/* The reference in word i: 1 and *ref, else 0. */
int
market_ref_arg(struct market_call *c, size_t i, long long *ref)
{
	return c->host->arg_number(c->ctx, i, 1, LLONG_MAX, ref);
}

/* An offer that can be ordered from now: open, in time, something left. */
static int
market_offer_open(struct market_call *c, const struct market_post *p)
{
	return strcmp(p->kind, "offer") == 0 && strcmp(p->state, "open") == 0 &&
	    p->expires > c->now && p->qty_left > 0;
}

/*
 * Post p is not what the command needs (an order, or for CANCEL a live
 * post): say what it is and what can be done.  For an offer: the
 * sender's own (MY shows the orders on it), sold out or ended (PRICE
 * shows others), or open (BUY it).  For a want: the sender's own or
 * another's.  MB_OK or MB_FAIL.
 */
static int
market_post_refuse(struct market_call *c, const struct market_post *p)
{
	struct market_args	 a = { .n = 0 };
	const char		*tmpl;
	int			 own = strcmp(p->msisdn, c->actor) == 0;

	market_arg_num(&a, "ref", p->ref);
	market_arg(&a, "commodity", p->commodity);
	market_arg(&a, "unit", p->unit);
	market_arg_num(&a, "left", p->qty_left);
	if (strcmp(p->kind, "want") == 0)
		tmpl = own ? "market-ref-own-want" : "market-ref-want";
	else if (own)
		tmpl = "market-ref-own-offer";
	else if (market_offer_open(c, p))
		tmpl = "market-ref-offer";
	else if (strcmp(p->state, "closed") == 0 ||
	    (strcmp(p->state, "open") == 0 && p->qty_left == 0))
		tmpl = "market-sold-out";
	else
		tmpl = "market-offer-ended";
	return market_reply(c, tmpl, &a);
}

/* A share order moves only with its pool order: who answers that. */
static int
market_share_refuse(struct market_call *c, const struct market_order *o)
{
	struct market_args	 a = { .n = 0 };

	market_arg_num(&a, "ref", o->ref);
	market_arg_num(&a, "parent", o->parent);
	return market_reply(c, "market-share-order", &a);
}

/*
 * The order ref names, into o: 1.  Otherwise the sender is told what the
 * number is (an offer, a want, nothing, a share order that only its pool
 * order moves) and 0 is returned; -1 on failure.
 */
int
market_order_find(struct market_call *c, long long ref,
    struct market_order *o)
{
	struct market_post	 p;
	int			 rc;

	if ((rc = market_store_order_get(c, ref, o)) == 1 && o->parent != 0)
		return market_share_refuse(c, o) == MB_OK ? 0 : -1;
	if (rc != 0)
		return rc;
	if ((rc = market_store_post_get(c, ref, &p)) == -1)
		return -1;
	if (rc == 0)
		rc = market_reply_ref(c, "market-unknown-ref", ref);
	else
		rc = market_post_refuse(c, &p);
	return rc == MB_OK ? 0 : -1;
}

/*
 * Order o cannot take the sender's command in its state: say where it
 * stands and who must act next.  The sender is its buyer, its seller or
 * its transporter.
 *
 *	state		buyer			seller
 *	pending		wait-seller		wait-accept
 *	accepted	wait-sent		is-accepted
 *	sent		on-way			wait-delivered
 *	final		ended-<state>		ended-<state>
 */
int
market_order_refuse(struct market_call *c, const struct market_order *o)
{
	struct market_args	 a = { .n = 0 };
	char			 tmpl[64];
	int			 seller = strcmp(o->seller, c->actor) == 0;
	int			 buyer = strcmp(o->buyer, c->actor) == 0;

	if (strcmp(o->state, "pending") == 0)
		snprintf(tmpl, sizeof(tmpl), "%s", seller ?
		    "market-order-wait-accept" : "market-order-wait-seller");
	else if (strcmp(o->state, "accepted") == 0)
		snprintf(tmpl, sizeof(tmpl), "%s", seller ?
		    "market-order-is-accepted" : "market-order-wait-sent");
	else if (strcmp(o->state, "sent") == 0)
		snprintf(tmpl, sizeof(tmpl), "%s", buyer ?
		    "market-order-on-way" : "market-order-wait-delivered");
	else
		snprintf(tmpl, sizeof(tmpl), "market-order-ended-%s",
		    o->state);
	market_arg_num(&a, "ref", o->ref);
	market_arg_num(&a, "offer", o->offer);
	market_arg(&a, "commodity", o->commodity);
	return market_reply(c, tmpl, &a);
}

/* --- BUY ------------------------------------------------------------------------------ */

int
market_buy(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_post	 p;
	struct market_order	 o;
	struct market_share	 share;
	struct market_args	 a = { .n = 0 };
	char			 seller[MARKET_NAME_LEN];
	char			 buyer[MARKET_NAME_LEN];
	char			 sphone[MARKET_MSISDN_LEN];
	char			 bphone[MARKET_MSISDN_LEN];
	char			 record[MARKET_REP_TEXT];
	const char		*tmpl;
	long long		 ref, qty, total, left;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) < 2 || host->argc(ctx) > 3 ||
	    !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	if ((rc = market_store_post_get(&c, ref, &p)) == -1)
		return MB_FAIL;
	if (rc == 0) {
		if ((rc = market_store_order_get(&c, ref, &o)) == -1)
			return MB_FAIL;
		return market_reply_ref(&c, rc ? "market-ref-order" :
		    "market-unknown-ref", ref);
	}
	if (strcmp(p.kind, "offer") != 0)
		return market_post_refuse(&c, &p);
	if (!host->arg_number(ctx, 1, 1, MARKET_QTY_MAX, &qty)) {
		market_arg(&a, "word", host->arg(ctx, 1));
		market_arg_num(&a, "max", MARKET_QTY_MAX);
		return market_reply(&c, "market-bad-qty", &a);
	}
	if (host->argc(ctx) == 3) {
		const char	*unit = host->unit(ctx, host->arg(ctx, 2));

		if (unit == NULL || strcmp(unit, p.unit) != 0) {
			market_arg(&a, "word", host->arg(ctx, 2));
			market_arg(&a, "commodity", p.commodity);
			market_arg(&a, "unit", p.unit);
			return market_reply(&c, "market-bad-unit", &a);
		}
	}
	if (strcmp(p.msisdn, c.actor) == 0)
		return market_reply_ref(&c, "market-own-offer", ref);
	/* a pool's member would buy her own lot back */
	if ((rc = market_store_share_get(&c, ref, c.actor, &share)) == -1)
		return MB_FAIL;
	if (rc == 1) {
		market_arg_num(&a, "ref", ref);
		market_arg(&a, "commodity", p.commodity);
		return market_reply(&c, "market-share-own", &a);
	}
	/* withdrawn or expired: other offers, not this one */
	if ((strcmp(p.state, "open") != 0 && strcmp(p.state, "closed") != 0) ||
	    p.expires <= c.now)
		return market_post_refuse(&c, &p);
	/* a tier reached, or reached by this order: its price */
	if (market_tier_price(&c, &p, qty) == -1)
		return MB_FAIL;
	if (market_money_mul(qty, p.price, &total) == -1 ||
	    total > MARKET_TOTAL_MAX) {
		market_arg_num(&a, "qty", qty);
		market_arg(&a, "unit", p.unit);
		market_arg_money(&a, "price", p.price);
		market_arg(&a, "currency", host->currency(ctx));
		return market_reply(&c, "market-bad-total", &a);
	}
	if (market_buy_ask(&c, &p, qty, total, &rc))
		return rc;
	/* the reservation: atomic, whatever else is ordered meanwhile */
	if ((rc = market_store_reserve(&c, ref, qty)) == -1)
		return MB_FAIL;
	if (rc == 0) {
		if (market_store_post_get(&c, ref, &p) != 1)
			return MB_FAIL;
		/* nothing left: other offers; some: how to take them */
		if (!market_offer_open(&c, &p))
			return market_post_refuse(&c, &p);
		market_arg_num(&a, "ref", ref);
		market_arg_num(&a, "left", p.qty_left);
		market_arg_num(&a, "qty", qty);
		market_arg(&a, "unit", p.unit);
		market_arg(&a, "commodity", p.commodity);
		return market_reply(&c, "market-not-enough", &a);
	}
	left = p.qty_left - qty;

	memset(&o, 0, sizeof(o));
	/* toward the buyer's want (a buying pool's: market_pool_order.c) */
	if (market_pool_want_take(&c, &p, qty, &o) == -1)
		return MB_FAIL;
	if ((o.ref = host->ref_next(ctx, "order")) < 0) {
		host->log(ctx, MB_LOG_ERROR, "market: no reference number");
		return MB_FAIL;
	}
	o.offer = ref;
	market_copy(o.buyer, sizeof(o.buyer), c.actor);
	market_copy(o.seller, sizeof(o.seller), p.msisdn);
	o.qty = qty;
	o.price = p.price;
	o.total = total;
	market_copy(o.state, sizeof(o.state), "pending");
	o.created = o.updated = c.now;
	o.remind_at = c.now + c.conf->order_remind;
	o.expires_at = c.now + c.conf->order_expire;
	market_copy(o.commodity, sizeof(o.commodity), p.commodity);
	market_copy(o.unit, sizeof(o.unit), p.unit);
	market_copy(o.market, sizeof(o.market), p.market);
	if (market_store_order_insert(&c, &o) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: order %lld: %lld of offer %lld "
	    "by %s", o.ref, qty, ref, o.buyer);

	/* the buyer's reply names the seller; the seller is told who
	   ordered */
	market_person(&c, o.seller, seller, sizeof(seller));
	market_person(&c, o.buyer, buyer, sizeof(buyer));
	if (market_contact(&c, o.seller, sphone, sizeof(sphone)) == -1 ||
	    market_contact(&c, o.buyer, bphone, sizeof(bphone)) == -1)
		return MB_FAIL;
	market_order_args(&c, &o, &a);
	market_arg(&a, "name", seller);
	market_arg(&a, "phone", sphone);
	if (market_reply(&c, "market-order-ok", &a) != MB_OK ||
	    market_tier_order(&c, &p, &o) == -1 ||
	    market_pool_ordered(&c, &o) == -1)
		return MB_FAIL;
	memset(&a, 0, sizeof(a));
	market_order_args(&c, &o, &a);
	market_arg_num(&a, "left", left);
	market_arg(&a, "name", buyer);
	market_arg(&a, "phone", bphone);
	/* the buyer's record, where it fits (market_rep.c) */
	if ((tmpl = market_rep_show(&c, o.buyer, o.seller, &a,
	    "market-order-seller", record, sizeof(record))) == NULL)
		return MB_FAIL;
	return market_notify(&c, o.seller, tmpl, &a);
}

/* --- ACCEPT, REJECT ------------------------------------------------------------------------ */

/*
 * The common start of a seller's answer: the order, the sender its
 * seller, the step allowed from its state.  1 with o filled, 0 refused
 * (replied), -1 failure.
 */
int
market_seller_step(struct market_call *c, const char *to,
    struct market_order *o)
{
	long long	 ref;
	int		 rc;

	if (!market_ref_arg(c, 0, &ref))
		return 2;
	if ((rc = market_order_find(c, ref, o)) != 1)
		return rc;
	if (strcmp(o->seller, c->actor) != 0 && strcmp(o->buyer, c->actor) != 0)
		return market_reply_ref(c, "market-not-yours", ref) == MB_OK ?
		    0 : -1;
	/* the buyer, or the wrong state: who must act, and how */
	if (strcmp(o->seller, c->actor) != 0 || !market_order_can(o->state, to))
		return market_order_refuse(c, o) == MB_OK ? 0 : -1;
	return 1;
}

/* MB_* for a market_seller_step result other than 1. */
int
market_step_result(int rc)
{
	return rc == 2 ? MB_USAGE : rc == 0 ? MB_OK : MB_FAIL;
}

int
market_accept(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 1)
		return MB_USAGE;
	/* ACCEPT with an own offer's ref: all its waiting orders */
	if (market_tier_accept(&c, &rc))
		return rc;
	if ((rc = market_seller_step(&c, "accepted", &o)) != 1)
		return market_step_result(rc);
	return market_order_move(&c, &o, "accepted", NULL, NULL);
}

int
market_reject(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	char			 reason[MARKET_REASON_LEN + 1];
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) < 1)
		return MB_USAGE;
	if ((rc = market_seller_step(&c, "rejected", &o)) != 1)
		return market_step_result(rc);
	market_copy(reason, sizeof(reason), host->rest(ctx, 1));
	return market_order_move(&c, &o, "rejected", NULL, reason);
}

/* --- CANCEL ---------------------------------------------------------------------------------- */

/*
 * CANCEL ref: an own open offer or want (orders placed on an offer stand:
 * the seller still answers them); or an order not yet sent, by its buyer
 * or seller.
 */
int
market_cancel(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_post	 p;
	struct market_order	 o;
	struct market_pool	 pool;
	long long		 ref;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 1 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	/* a pool's reference (its offer's too): market_pool.c's */
	if ((rc = market_pool_find(&c, ref, &pool)) == -1)
		return MB_FAIL;
	if (rc == 0)
		return market_pool_cancel(&c, &pool);
	if ((rc = market_store_post_get(&c, ref, &p)) == -1)
		return MB_FAIL;
	if (rc == 1) {
		if (strcmp(p.msisdn, c.actor) != 0)
			return market_reply_ref(&c, "market-not-yours", ref);
		if ((rc = market_store_post_end(&c, ref, "cancelled")) == -1)
			return MB_FAIL;
		if (rc == 0)
			return market_reply_ref(&c, strcmp(p.state,
			    "expired") == 0 ? "market-post-expired" :
			    "market-post-cancelled", ref);
		host->log(ctx, MB_LOG_INFO, "market: %s %lld cancelled",
		    p.kind, ref);
		return market_reply_ref(&c, strcmp(p.kind, "offer") == 0 ?
		    "market-cancelled-offer" : "market-cancelled-want", ref);
	}
	if ((rc = market_store_order_get(&c, ref, &o)) == -1)
		return MB_FAIL;
	if (rc == 0)
		return market_reply_ref(&c, "market-unknown-ref", ref);
	if (strcmp(o.buyer, c.actor) != 0 && strcmp(o.seller, c.actor) != 0)
		return market_reply_ref(&c, "market-not-yours", ref);
	if (o.parent != 0)
		return market_share_refuse(&c, &o);
	if (!market_order_can(o.state, "cancelled"))
		return market_order_refuse(&c, &o);
	/* who cancelled, for the record (market_rep.c) */
	if (market_order_move(&c, &o, "cancelled", NULL, NULL) != MB_OK ||
	    market_rep_cancelled(&c, &o) == -1)
		return MB_FAIL;
	return MB_OK;
}
