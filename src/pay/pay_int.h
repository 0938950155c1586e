/*
 * pay_int.h - what the files of src/pay/ share and nothing else reads:
 * an order as payments see it, money as the templates take it, and the
 * steps a provider's payment, a person's word and an operator's match
 * have in common.  pay.h is the interface.
 */
#ifndef MARKETBOX_PAY_INT_H
#define MARKETBOX_PAY_INT_H

#include <stddef.h>

#include "pay/pay.h"

#define PAY_PARTY	64	/* bytes of a phone or identity */

/* An order as payments read it (market_orders). */
struct pay_order {
	long long	 ref, total;
	char		 buyer[PAY_PARTY], seller[PAY_PARTY];
	char		 state[24];
};

/* Minor units as the templates take money: "15000", "15000.50". */
void		 pay_money(char *buf, size_t len, long long minor);

/* Order ref into *o: 1 if the database has it; 0 not; -1 on a store
   failure. */
int		 pay_order_read(struct store *, long long ref,
		    struct pay_order *o);
/*
 * The same, the order's row held on PostgreSQL until the unit commits
 * (FOR UPDATE; SQLite has one writer: a plain read).  For whatever moves
 * an order's money from what the order's state says (a payment, a
 * match, a person's word): a unit closing the order at the same time
 * either commits first, and this reads it closed, or waits for this one
 * and then finds the money state (pay_order_event).  Same results.
 */
int		 pay_order_lock(struct store *, long long ref,
		    struct pay_order *o);

/*
 * The order's money state with amount added: its row made (unpaid) if
 * new, paid raised (which holds the row on PostgreSQL until the commit:
 * two payments for one order take turns), the state moved by pay_next
 * (received, then closed for an order rejected, cancelled or expired,
 * delivered for one delivered: payout-due in escrow).
 * 1 done (*from, *to, *paid set); 0 when pay_next refuses the payment
 * (nothing changed: the caller rolls its unit back or takes another
 * way); -1 on a store failure.
 */
int		 pay_order_take(struct store *, const struct conf *,
		    const struct pay_order *, long long amount,
		    enum pay_state *from, enum pay_state *to,
		    long long *paid);

/* The seller's template for a payment of order o, by the order's state
   (pay-paid-seller, -accept or -sent). */
const char	*pay_seller_tmpl(const struct pay_order *o);

/* tmpl to every admin of the conf.  0, or -1. */
int		 pay_tell_admins(pay_notify_fn notify, void *arg,
		    const struct conf *, const char *tmpl,
		    const struct mb_arg *args, size_t nargs);

/*
 * The notices of a payment cb taken by order o (its money state moved
 * from, to, paid the new sum): seller, buyer and admins by the new state,
 * as pay.c's head comment lists them; the outcome into *out.  For a
 * provider's confirmation (pay_confirm) and an operator's match
 * (pay_match): the same words for the same money.  0, or -1.
 */
int		 pay_tell_taken(struct store *, pay_notify_fn notify,
		    void *arg, const struct conf *, const struct pay_order *o,
		    enum pay_state from, enum pay_state to, long long paid,
		    const struct pay_callback *cb, enum pay_outcome *out);

/*
 * What the operator owes for order ref if its money state were state
 * (pay.h's PAY_SQL_OWED: refund-due, what she still holds; payout-due,
 * that up to the seller's share; over and paid-out, the buyer's credit)
 * into *owed, 0 when the order has no money state.  0, or -1.
 */
int		 pay_owed(struct store *, long long ref, enum pay_state state,
		    long long *owed);

/*
 * Order o's money became due (state PAY_REFUND_DUE: amount to its buyer;
 * PAY_PAYOUT_DUE: amount to its seller; amount what pay_owed says), inside the unit of work that
 * moved it (pay_admin.c's head comment: the provider's B2C call goes
 * here).  Today it logs.  0, or -1 (the unit rolls back).
 */
int		 pay_due_hook(const struct conf *, const struct pay_order *o,
		    enum pay_state due, long long amount);

#endif
