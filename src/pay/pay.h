/*
 * pay.h - payments for orders: an order's money state and its one
 * transition function (pay_state.c); a provider's confirmation taken
 * into the ledger with its effect and notices (pay.c); what a buyer or
 * seller says was paid outside the provider (pay_said.c); and the
 * operator's steps: a suspense payment matched, a refund or payout
 * recorded (pay_admin.c, with the provider payout hook).  The HTTP side,
 * POST /payments/confirm and the operator's POST /admin/payments/match
 * and /admin/payouts/done, is src/admin/payments.c.  pay.c's head comment
 * says why payments are the core's.
 */
#ifndef MARKETBOX_PAY_H
#define MARKETBOX_PAY_H

#include <stddef.h>

struct conf;
struct mb_arg;
struct store;

/* --- an order's money state (order_payments.state) ------------------------ */

enum pay_state {
	PAY_UNPAID,		/* nothing received */
	PAY_PART,		/* less than the total received */
	PAY_PAID,		/* the total, exactly */
	PAY_OVER,		/* more than the total: a credit to return */
	PAY_REFUND_DUE,		/* the order closed with money received */
	PAY_PAYOUT_DUE,		/* escrow: delivered, the seller to be paid */
	PAY_REFUNDED,		/* the operator returned it */
	PAY_PAID_OUT,		/* the operator paid the seller */
	PAY_NSTATES
};

enum pay_event {
	PAY_EV_RECEIVED,	/* a payment came in; paid is the new sum */
	PAY_EV_CLOSED,		/* the order was rejected, cancelled or
				   expired */
	PAY_EV_DELIVERED,	/* the order was delivered */
	PAY_EV_REFUNDED,	/* the operator says the refund was sent */
	PAY_EV_PAID_OUT,	/* the operator says the seller was paid */
	PAY_EV_CREDITED,	/* the operator says the buyer's credit (of
				   an over-payment) was returned */
	PAY_NEVENTS
};

/*
 * The one transition function of the money state: from state from, event
 * ev, for an order of total due of which paid has been received in all
 * (for PAY_EV_RECEIVED, with the new payment), in escrow mode or not,
 * the new state into *to.  0; -1 when the event cannot happen in that
 * state (*to untouched): a payment for an order paid out or whose payout
 * is due, a delivery of an order whose money is to be refunded, a refund
 * or payout that is not due.
 *
 *	received: unpaid, part, paid, over -> part, paid or over by paid
 *		  against due; refund-due, refunded -> refund-due
 *	closed:   unpaid -> unpaid; part, paid, over, refund-due ->
 *		  refund-due; refunded -> refunded
 *	delivered (escrow): paid, over -> payout-due; payout-due, paid-out,
 *		  unpaid, part stay (direct: every state but the refund ones
 *		  stays)
 *	refunded: refund-due -> refunded; paid out: payout-due -> paid-out
 *	credited: over -> paid (the credit returned, the total stays);
 *		  paid-out stays (the credit of an order paid out)
 */
int		 pay_next(enum pay_state from, enum pay_event ev,
		    long long due, long long paid, int escrow,
		    enum pay_state *to);
/*
 * What the operator owes for each order, one SQL derived table for every
 * reader (marketctl payouts, /status and /metrics, pay_owed for the hook,
 * pay_order_event and payouts done): columns order_ref, state, due,
 * updated, and
 *
 *	held	the money the operator holds for the order: the provider's
 *		payments for it (said_by NULL: not what a seller says she
 *		took, RECEIVED-..., CASH-...; a suspense payment matched to
 *		it counts, its ledger row having no order) less the refunds
 *		and payouts recorded for it (refunds of a suspense payment
 *		itself have no order: not counted)
 *	share	the part of the total the operator is to pay the seller:
 *		the total less what the seller says she took, 0 at least
 *
 * and PAY_SQL_OWED(state), of a state expression (h.state, or a bound
 * one: CAST($2 AS TEXT)), what is owed in that state: refund-due, held
 * (to the buyer: what is still to return, not what was ever paid);
 * payout-due, held up to share (to the seller); over, held beyond share
 * (the buyer's credit); paid-out, held (a credit left after the payout);
 * else 0.  Amounts in minor units; 0 or less is nothing owed.
 */
#define PAY_SQL_SAID(r) \
	"COALESCE((SELECT SUM(y.amount) FROM payments y WHERE y.kind = " \
	"'payment' AND y.said_by IS NOT NULL AND y.order_ref = " r "), 0)"
#define PAY_SQL_HELD \
	"(SELECT op.order_ref, op.state, op.due, op.updated, " \
	"CAST(COALESCE((SELECT SUM(hp.amount) FROM payments hp " \
	"LEFT JOIN payment_matches hm ON hm.trans_id = hp.trans_id " \
	"WHERE hp.kind = 'payment' AND hp.said_by IS NULL AND " \
	"COALESCE(hm.order_ref, hp.order_ref) = op.order_ref), 0) - " \
	"COALESCE((SELECT SUM(x.amount) FROM payments x WHERE x.kind IN " \
	"('refund', 'payout') AND x.order_ref = op.order_ref), 0) " \
	"AS BIGINT) AS held, " \
	"CAST(CASE WHEN op.due > " PAY_SQL_SAID("op.order_ref") " THEN " \
	"op.due - " PAY_SQL_SAID("op.order_ref") " ELSE 0 END AS BIGINT) " \
	"AS share FROM order_payments op)"
#define PAY_SQL_OWED(state) \
	"CASE " state " WHEN 'refund-due' THEN h.held " \
	"WHEN 'payout-due' THEN CASE WHEN h.held < h.share THEN h.held " \
	"ELSE h.share END WHEN 'over' THEN h.held - h.share " \
	"WHEN 'paid-out' THEN h.held ELSE 0 END"

/* "unpaid", "part", "paid", "over", "refund-due", "payout-due",
   "refunded", "paid-out"; NULL out of range. */
const char	*pay_state_name(enum pay_state);
/* The state of a name; -1 when it is none. */
int		 pay_state_parse(const char *);

/* --- a confirmation --------------------------------------------------------- */

/* How pay_confirm and pay_order_event send a notice: router_notify (the
   payments endpoint, src/admin/payments.c) or a plugin's notify()
   (host.c), so that payments sit below the engine.  0, or -1. */
typedef int	(*pay_notify_fn)(void *arg, const char *msisdn,
		    const char *tmpl, const struct mb_arg *, size_t nargs);

/* One provider callback, as pay_confirm() takes it (strings may be
   NULL but trans_id). */
struct pay_callback {
	const char	*trans_id;	/* TransID */
	long long	 amount;	/* TransAmount, minor units, > 0 */
	const char	*currency;	/* NULL: the conf's */
	const char	*bill_ref;	/* BillRefNumber */
	const char	*msisdn;	/* MSISDN */
	const char	*names;		/* FirstName MiddleName LastName */
	const char	*trans_time;	/* TransTime, as sent */
	const char	*shortcode;	/* BusinessShortCode */
	const char	*raw;		/* the body as it came */
};

enum pay_outcome {
	PAY_OUT_PAID,		/* the order is paid (exactly) */
	PAY_OUT_PART,		/* something is still due */
	PAY_OUT_OVER,		/* more than the total: credit */
	PAY_OUT_REFUND,		/* the order is closed: refund due */
	PAY_OUT_SUSPENSE,	/* no order to take it: kept for the
				   operator */
	PAY_OUT_DUPLICATE	/* that TransID was taken before: nothing */
};

/*
 * The order number an account reference names under the conf's
 * account-format ("MB43" under MB{ref}: 43, letters in any case, blanks
 * around taken off); -1 when it names none.
 */
long long	 pay_account_ref(const struct conf *, const char *account);

/*
 * Take cb, inside the caller's unit of work: its ledger row, its order's
 * money state (pay_next) and the notices of the change (router_notify:
 * seller and buyer, the conf's admins for a credit, a refund or the
 * suspense list).  orders is 1 when the database has the market
 * plugin's orders (market_orders); else every payment is suspense.
 * The outcome into *out.  0, or -1 on a store failure (the caller rolls
 * back and the provider retries).  On PAY_OUT_DUPLICATE the caller rolls
 * the unit back: nothing of it is to be kept (another instance may have
 * taken the TransID after this one raised the order's sum).
 */
int		 pay_confirm(struct store *, pay_notify_fn notify, void *arg,
		    const struct conf *, int orders,
		    const struct pay_callback *, enum pay_outcome *out);

/*
 * An event of order ref's own state that moves its money, ev
 * PAY_EV_CLOSED (rejected, cancelled or expired) or PAY_EV_DELIVERED,
 * inside the caller's unit of work (the market plugin's handler or
 * timer, through the host's pay_event): the order's money state moved
 * by pay_next (its row held first, as a payment holds it: the two take
 * turns) and the notices of the change sent through notify: refund due,
 * the buyer (pay-closed-buyer) and the conf's admins (pay-closed-admin);
 * payout due, the admins (pay-payout-admin).  Nothing for an order of
 * no money state (no payment came for it) nor for one pay_next keeps;
 * one pay_next refuses is logged and left.  0; -1 on a store or notice
 * failure (the caller's unit rolls back).
 */
int		 pay_order_event(struct store *, const struct conf *,
		    long long ref, enum pay_event ev, pay_notify_fn notify,
		    void *arg);

/*
 * Whether to take cb before it is paid (a provider's validation): only
 * for the open order (pending or accepted) its account reference names,
 * whose money state is unpaid or part, and at most what is still due.
 * Reads only.  1 take it; 0 refuse it, with *code the provider's reason
 * (C2B00012 the account, C2B00013 the amount); -1 on a store failure.
 */
int		 pay_validate(struct store *, const struct conf *, int orders,
		    const struct pay_callback *, const char **code);

/* --- the operator's steps (pay_admin.c) ------------------------------------ */

enum pay_admin_result {
	PAY_ADMIN_DONE,		/* done */
	PAY_ADMIN_UNKNOWN,	/* no such TransID in the ledger */
	PAY_ADMIN_MATCHED,	/* match: the payment was matched before */
	PAY_ADMIN_NOT_SUSPENSE,	/* match: not a payment in suspense (it
				   has its order, or is a refund or payout) */
	PAY_ADMIN_NO_ORDER,	/* match: no such order; done: the payment
				   has no order (suspense: match it first) */
	PAY_ADMIN_REFUSED,	/* match: the order's money state takes no
				   payment (payout due or paid out) */
	PAY_ADMIN_NOT_DUE,	/* done: the order owes no refund nor
				   payout (*state says what it is) */
	PAY_ADMIN_RETURNED,	/* done, match: the suspense payment was
				   returned to its payer before */
	PAY_ADMIN_REF_TAKEN	/* done: the operator's reference is in the
				   ledger already */
};

/* What pay_match and pay_payout_done did, for the answer. */
struct pay_admin_done {
	long long	 order;		/* the order, when known */
	long long	 amount;	/* minor units: the payment matched,
					   the refund or payout recorded */
	char		 kind[8];	/* done: "refund", "payout", "credit"
					   or "return" (a suspense payment
					   returned to its payer) */
	char		 to[64];	/* done: the phone paid */
	char		 ref[64];	/* done: the ledger row's trans_id */
	enum pay_state	 state;		/* the order's money state now (or
					   the one that refused) */
};

/*
 * The operator's match: suspense payment trans_id put on order ref, by
 * who (logged in payment_matches.matched_by), inside the caller's unit
 * of work: a payment_matches row (the ledger row stays as it came), the
 * order's money state moved by pay_order_take as the provider's
 * confirmation naming that order would have, and the same notices
 * (seller, buyer; admins for a credit or a refund).  orders: the
 * database has market_orders.  *res what happened (*d filled as far as
 * known); on anything but PAY_ADMIN_DONE the caller rolls back.  0, or
 * -1 on a store or notice failure.
 */
int		 pay_match(struct store *, pay_notify_fn notify, void *arg,
		    const struct conf *, int orders, const char *trans_id,
		    long long ref, const char *who,
		    enum pay_admin_result *res, struct pay_admin_done *d);

/*
 * The operator says the money due for the order of payment trans_id was
 * sent (marketctl payouts done): inside the caller's unit of work, a
 * ledger row (kind refund, what was paid, to the buyer; or kind payout,
 * what is due, to the seller; said_by "operator"; trans_id the
 * operator's reference opref, or "refund-TRANSID" / "payout-TRANSID"
 * when NULL), the money state moved by pay_next (PAY_EV_REFUNDED,
 * PAY_EV_PAID_OUT) and the recipient told (pay-refunded-buyer,
 * pay-paid-out-seller).  *res and *d as pay_match's; the caller rolls
 * back on anything but PAY_ADMIN_DONE.  0, or -1.
 */
int		 pay_payout_done(struct store *, pay_notify_fn notify,
		    void *arg, const struct conf *, int orders,
		    const char *trans_id, const char *opref, const char *who,
		    enum pay_admin_result *res, struct pay_admin_done *d);

/* --- money people say moved (pay_said.c) ------------------------------------ */

enum pay_said {
	PAY_SAID_PAID,		/* the buyer: PAID 43 [REFERENCE] */
	PAY_SAID_RECEIVED,	/* the seller: RECEIVED 43 */
	PAY_SAID_CASH		/* cash taken with the goods at DELIVERED */
};

enum pay_said_outcome {
	PAY_SAID_TAKEN,		/* received, cash: *amount entered; paid:
				   the seller asked to confirm it */
	PAY_SAID_ALREADY,	/* paid in full before: the claim only */
	PAY_SAID_KNOWN,		/* PAID of a TransID the provider confirmed
				   for the order: the claim only */
	PAY_SAID_REFUSED	/* no such order, closed, or not the
				   sayer's: nothing kept */
};

/*
 * What a person says of order ref's money, inside the caller's unit of
 * work: what (PAID: by its buyer; RECEIVED: by its seller; cash at
 * DELIVERED: by whoever confirmed it), by the sayer's identity, the
 * reference as typed (NULL or "" for none).  The claim is kept
 * (payment_claims); RECEIVED and cash enter the rest of what is due in
 * the ledger (said_by the seller) and move the money state by pay_next
 * (pay_order_take), RECEIVED telling the buyer (pay-said-received-buyer);
 * PAID asks the seller to confirm (pay-said-paid-seller).  *amount the
 * money of the claim (entered, claimed or, for PAY_SAID_KNOWN, the
 * provider's), *state the money state after.  pay_said.c's head comment
 * has the table.  An enum pay_said_outcome, or -1 on a store or notice
 * failure (the caller's unit rolls back).
 */
int		 pay_said(struct store *, const struct conf *, long long ref,
		    enum pay_said what, const char *by, const char *reference,
		    pay_notify_fn notify, void *arg, long long *amount,
		    enum pay_state *state);

#endif
