/*
 * pay_admin.c - the operator's steps in payments, each inside the unit
 * of work of the admin action that asks it (src/admin/payments.c):
 *
 *	pay_match	marketctl payments match TRANSID ORDER (POST
 *			/admin/payments/match): a payment of the suspense
 *			list put on an order.  A payment_matches row (the
 *			ledger is append-only: the row that came stays as
 *			it came, and a payment's order is its match's
 *			when there is one), the order's money state moved
 *			by pay_order_take exactly as the provider's
 *			confirmation naming that order would have, and
 *			the same notices (pay_tell_taken).  Refused: a
 *			TransID not in the ledger, one matched before, one
 *			not in suspense (it found its order, or it is a
 *			refund or payout), an order unknown, an order
 *			whose money takes no payment (payout due or paid
 *			out: pay_next refuses).
 *
 *	pay_payout_done	marketctl payouts done TRANSID [--ref REF] (POST
 *			/admin/payouts/done): the operator sent what the
 *			order of payment TRANSID (any payment of the
 *			ledger: RECEIVED-43-7 names its order too) was
 *			owed, pay_owed's amount (pay.h's PAY_SQL_OWED:
 *			what she holds of the provider's money, never
 *			what was ever paid).  refund-due: a ledger row
 *			kind refund, to the buyer; payout-due: kind
 *			payout, the seller's share, to the seller; over
 *			or paid-out with a credit held: kind refund, the
 *			credit, to the buyer (PAY_EV_CREDITED: over ->
 *			paid); said_by "operator", trans_id the
 *			operator's own reference (the provider's id of
 *			the transfer) or "refund-TRANSID" /
 *			"payout-TRANSID" / "credit-TRANSID" without one
 *			(unique either way:
 *			the same step twice is refused by the ledger and
 *			by the money state), the state moved by pay_next
 *			(refunded, paid-out) and the recipient told
 *			(pay-refunded-buyer, pay-paid-out-seller).
 *			A payment in suspense with --ref is returned to
 *			its payer (pay_suspense_return: a refund row of
 *			no order, and a payment_matches row of order 0,
 *			which takes it off the suspense list and refuses
 *			a match after).  Refused: no such payment (a
 *			refund's or payout's own row is none), one in
 *			suspense without --ref (match it first), one
 *			returned before, an order that owes nothing, a
 *			reference in the ledger already.
 *
 *	pay_due_hook	where money becomes due (below).
 *
 * Each returns what happened in an enum pay_admin_result; the caller
 * commits only PAY_ADMIN_DONE.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include "base/conf.h"
#include "marketbox-plugin.h"
#include "pay/pay.h"
#include "store/store.h"

#include "pay/pay_int.h"

/*
 * The provider's payout hook: order o's money became due, to its buyer
 * (PAY_REFUND_DUE: a refund of amount) or to its seller (PAY_PAYOUT_DUE:
 * a payout of amount), amount what pay_owed says the operator owes, in
 * the unit of work that moved it (an order's own step, pay_order_event; a payment for an
 * order closed, pay_tell_taken; a match of one).  marketbox does not
 * send money itself: the operator sends it and says so (marketctl
 * payouts, payouts done), and this only logs.
 *
 * This is where a provider's B2C payment or reversal API call goes
 * (Daraja's B2C PaymentRequest, a TransactionReversal of the buyer's
 * TransID).  What such a call must guarantee:
 *
 *	- not here, in the unit: the network does not wait in a unit of
 *	  work (it holds the order's money row on PostgreSQL, and the
 *	  unit may still roll back).  Queue the request here (a row in
 *	  the same unit, so it exists iff the step committed) and send it
 *	  after the commit, as the outbox sends SMS;
 *	- once: the request carries an id of the order and the kind
 *	  (OriginatorConversationID "refund-43"), so a retry after a
 *	  crash between the send and its record pays nothing twice;
 *	- recorded as the operator's word is: the provider's result
 *	  callback goes through pay_payout_done (its TransID as the
 *	  reference, said_by the provider), so the ledger and the money
 *	  state move in one place and marketctl payouts stops listing it;
 *	- a refusal (insufficient float, a wrong number) leaves the order
 *	  due and listed, and tells the admins.
 *
 * 0, or -1 to roll the unit back (an implementation's store failure).
 */
int
pay_due_hook(const struct conf *c, const struct pay_order *o,
    enum pay_state due, long long amount)
{
	char	 money[32];

	pay_money(money, sizeof(money), amount);
	info(0, "pay: order %lld: %s %s %s due to %s; send it, then "
	    "marketctl payouts done", o->ref, due == PAY_REFUND_DUE ?
	    "refund of" : "payout of", money, c->currency != NULL ?
	    c->currency : "", due == PAY_REFUND_DUE ? o->buyer : o->seller);
	return 0;
}

int
pay_owed(struct store *s, long long ref, enum pay_state state,
    long long *owed)
{
	static const char sql[] =
	    "SELECT " PAY_SQL_OWED("CAST($2 AS TEXT)") " FROM " PAY_SQL_HELD
	    " h WHERE h.order_ref = $1";
	struct store_stmt	*st;
	int			 rc;

	*owed = 0;
	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_int(st, 1, ref);
	store_bind_text(st, 2, pay_state_name(state));
	if ((rc = store_step(st)) == STORE_ROW)
		*owed = store_int(st, 0);
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

int
pay_match(struct store *s, pay_notify_fn notify, void *arg,
    const struct conf *c, int orders, const char *trans_id, long long ref,
    const char *who, enum pay_admin_result *res, struct pay_admin_done *d)
{
	static const char find[] =
	    "SELECT kind, order_ref, amount, currency, msisdn, bill_ref "
	    "FROM payments WHERE trans_id = $1";
	static const char matched[] =
	    "SELECT order_ref FROM payment_matches WHERE trans_id = $1";
	static const char add[] =
	    "INSERT INTO payment_matches (trans_id, order_ref, matched_by, "
	    "created) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT (trans_id) DO NOTHING";
	struct store_stmt	*st;
	struct pay_order	 o;
	struct pay_callback	 cb;
	enum pay_outcome	 out;
	enum pay_state		 from, to;
	char			 kind[16], currency[16], msisdn[PAY_PARTY];
	char			 account[64];
	long long		 paid = 0;
	int			 rc, suspense = 0, taken;

	memset(d, 0, sizeof(*d));
	d->order = ref;
	if ((st = store_query(s, find)) == NULL)
		return -1;
	store_bind_text(st, 1, trans_id);
	if ((rc = store_step(st)) == STORE_ROW) {
		snprintf(kind, sizeof(kind), "%s", store_text(st, 0));
		suspense = store_is_null(st, 1);
		d->amount = store_int(st, 2);
		snprintf(currency, sizeof(currency), "%s", store_text(st, 3));
		snprintf(msisdn, sizeof(msisdn), "%s", store_text(st, 4) ?
		    store_text(st, 4) : "");
		snprintf(account, sizeof(account), "%s", store_text(st, 5) ?
		    store_text(st, 5) : "");
	}
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (rc != STORE_ROW) {
		*res = PAY_ADMIN_UNKNOWN;
		return 0;
	}
	if ((st = store_query(s, matched)) == NULL)
		return -1;
	store_bind_text(st, 1, trans_id);
	if ((rc = store_step(st)) == STORE_ROW)
		d->order = store_int(st, 0);
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (rc == STORE_ROW) {
		/* order 0: returned to its payer (payouts done --ref) */
		*res = d->order == 0 ? PAY_ADMIN_RETURNED : PAY_ADMIN_MATCHED;
		return 0;
	}
	if (strcmp(kind, "payment") != 0 || !suspense) {
		*res = PAY_ADMIN_NOT_SUSPENSE;
		return 0;
	}
	memset(&o, 0, sizeof(o));
	if (!orders || (rc = pay_order_lock(s, ref, &o)) == 0) {
		*res = PAY_ADMIN_NO_ORDER;
		return 0;
	}
	if (rc == -1)
		return -1;
	if ((st = store_query(s, add)) == NULL)
		return -1;
	store_bind_text(st, 1, trans_id);
	store_bind_int(st, 2, ref);
	store_bind_text(st, 3, who);
	store_bind_int(st, 4, (long long)time(NULL));
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	if (store_changes(s) != 1) {
		/* another match took it between the look and the write:
		   say where it went, not where this one asked */
		if ((st = store_query(s, matched)) == NULL)
			return -1;
		store_bind_text(st, 1, trans_id);
		if ((rc = store_step(st)) == STORE_ROW)
			d->order = store_int(st, 0);
		store_done(st);
		if (rc == STORE_ERROR)
			return -1;
		*res = PAY_ADMIN_MATCHED;
		return 0;
	}
	if ((taken = pay_order_take(s, c, &o, d->amount, &from, &to,
	    &paid)) == -1)
		return -1;
	if (taken == 0) {
		d->state = from;
		*res = PAY_ADMIN_REFUSED;
		return 0;
	}
	d->state = to;
	memset(&cb, 0, sizeof(cb));
	cb.trans_id = trans_id;
	cb.amount = d->amount;
	cb.currency = currency;
	cb.bill_ref = account;
	cb.msisdn = msisdn;
	if (pay_tell_taken(s, notify, arg, c, &o, from, to, paid, &cb, &out) ==
	    -1)
		return -1;
	info(0, "pay: %s matched to order %lld by %s: money state %s -> %s",
	    trans_id, ref, who, pay_state_name(from), pay_state_name(to));
	*res = PAY_ADMIN_DONE;
	return 0;
}

/*
 * A suspense payment returned to its payer (pay_payout_done with no
 * order): a ledger row kind refund with no order, to the payment's
 * phone, and a payment_matches row of order 0 that takes it off the
 * suspense list (--unmatched, /status, /metrics) and refuses a match
 * after.  The payer is not told here: marketbox has no order to name,
 * and the provider's own message of the transfer reaches them.
 */
static int
pay_suspense_return(struct store *s, const struct conf *c,
    const char *trans_id, const char *opref, const char *who,
    enum pay_admin_result *res, struct pay_admin_done *d)
{
	static const char find[] =
	    "SELECT amount, currency, msisdn FROM payments "
	    "WHERE trans_id = $1";
	static const char add[] =
	    "INSERT INTO payments (trans_id, kind, order_ref, amount, "
	    "currency, msisdn, outcome, raw, created, said_by) "
	    "VALUES ($1, 'refund', NULL, $2, $3, $4, 'returned', $5, $6, "
	    "'operator') ON CONFLICT (trans_id) DO NOTHING";
	static const char mark[] =
	    "INSERT INTO payment_matches (trans_id, order_ref, matched_by, "
	    "created) VALUES ($1, 0, $2, $3) ON CONFLICT (trans_id) DO NOTHING";
	struct store_stmt	*st;
	char			 currency[16], raw[200], by[120];
	long long		 now = (long long)time(NULL);
	int			 rc;

	currency[0] = '\0';
	if ((st = store_query(s, find)) == NULL)
		return -1;
	store_bind_text(st, 1, trans_id);
	if ((rc = store_step(st)) == STORE_ROW) {
		d->amount = store_int(st, 0);
		snprintf(currency, sizeof(currency), "%s", store_text(st, 1) ?
		    store_text(st, 1) : "");
		snprintf(d->to, sizeof(d->to), "%s", store_text(st, 2) ?
		    store_text(st, 2) : "");
	}
	store_done(st);
	if (rc != STORE_ROW)
		return -1;
	d->order = 0;
	d->state = PAY_REFUNDED;
	snprintf(d->kind, sizeof(d->kind), "return");
	snprintf(d->ref, sizeof(d->ref), "%s", opref);
	snprintf(raw, sizeof(raw), "marketctl payouts done %s --ref %s, by "
	    "%s: the suspense payment returned to its payer", trans_id, opref,
	    who);
	if ((st = store_query(s, add)) == NULL)
		return -1;
	store_bind_text(st, 1, opref);
	store_bind_int(st, 2, d->amount);
	store_bind_text(st, 3, currency[0] != '\0' ? currency : c->currency);
	store_bind_text(st, 4, d->to[0] != '\0' ? d->to : NULL);
	store_bind_text(st, 5, raw);
	store_bind_int(st, 6, now);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	if (store_changes(s) != 1) {
		*res = PAY_ADMIN_REF_TAKEN;
		return 0;
	}
	snprintf(by, sizeof(by), "returned to its payer by %s", who);
	if ((st = store_query(s, mark)) == NULL)
		return -1;
	store_bind_text(st, 1, trans_id);
	store_bind_text(st, 2, by);
	store_bind_int(st, 3, now);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	if (store_changes(s) != 1) {
		/* a match took it meanwhile */
		*res = PAY_ADMIN_MATCHED;
		return 0;
	}
	info(0, "pay: suspense payment %s returned to %s (%s), said by %s",
	    trans_id, d->to, opref, who);
	*res = PAY_ADMIN_DONE;
	return 0;
}

int
pay_payout_done(struct store *s, pay_notify_fn notify, void *arg,
    const struct conf *c, int orders, const char *trans_id,
    const char *opref, const char *who, enum pay_admin_result *res,
    struct pay_admin_done *d)
{
	static const char find[] =
	    "SELECT COALESCE(m.order_ref, p.order_ref), p.currency "
	    "FROM payments p LEFT JOIN payment_matches m "
	    "ON m.trans_id = p.trans_id "
	    "WHERE p.trans_id = $1 AND p.kind = 'payment'";
	/* a no-op write that holds the row, as pay_order_take's does */
	static const char hold[] =
	    "UPDATE order_payments SET updated = $2 WHERE order_ref = $1 "
	    "RETURNING due, paid, state";
	static const char add[] =
	    "INSERT INTO payments (trans_id, kind, order_ref, amount, "
	    "currency, msisdn, outcome, raw, created, said_by) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'operator') "
	    "ON CONFLICT (trans_id) DO NOTHING";
	static const char set[] =
	    "UPDATE order_payments SET state = $2 WHERE order_ref = $1";
	struct store_stmt	*st;
	struct pay_order	 o;
	struct mb_arg		 args[5];
	enum pay_state		 to;
	enum pay_event		 ev;
	char			 currency[16], money[32], num[24], raw[200];
	long long		 due = 0, paid = 0, now = (long long)time(NULL);
	int			 rc, from = -1, has_order = 0;

	memset(d, 0, sizeof(*d));
	currency[0] = '\0';
	if ((st = store_query(s, find)) == NULL)
		return -1;
	store_bind_text(st, 1, trans_id);
	if ((rc = store_step(st)) == STORE_ROW) {
		has_order = !store_is_null(st, 0);
		d->order = store_int(st, 0);
		snprintf(currency, sizeof(currency), "%s", store_text(st, 1));
	}
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (rc != STORE_ROW) {
		*res = PAY_ADMIN_UNKNOWN;
		return 0;
	}
	if (has_order && d->order == 0) {
		/* its match of order 0: returned to its payer before */
		*res = PAY_ADMIN_RETURNED;
		return 0;
	}
	if (!has_order || !orders) {
		/* suspense: matched to an order, or returned to its payer
		   with the transfer's reference */
		if (opref == NULL || opref[0] == '\0') {
			*res = PAY_ADMIN_NO_ORDER;
			return 0;
		}
		return pay_suspense_return(s, c, trans_id, opref, who, res,
		    d);
	}
	if ((st = store_query(s, hold)) == NULL)
		return -1;
	store_bind_int(st, 1, d->order);
	store_bind_int(st, 2, now);
	if ((rc = store_step(st)) == STORE_ROW) {
		due = store_int(st, 0);
		paid = store_int(st, 1);
		from = pay_state_parse(store_text(st, 2));
	}
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	d->state = from < 0 ? PAY_UNPAID : (enum pay_state)from;
	if (from == PAY_REFUND_DUE) {
		ev = PAY_EV_REFUNDED;
		snprintf(d->kind, sizeof(d->kind), "refund");
	} else if (from == PAY_PAYOUT_DUE) {
		ev = PAY_EV_PAID_OUT;
		snprintf(d->kind, sizeof(d->kind), "payout");
	} else if (from == PAY_OVER || from == PAY_PAID_OUT) {
		ev = PAY_EV_CREDITED;
		snprintf(d->kind, sizeof(d->kind), "credit");
	} else {
		*res = PAY_ADMIN_NOT_DUE;
		return 0;
	}
	/* what is still owed: what the operator holds, not what was ever
	   paid (a second refund does not repay the first; money the
	   seller says she took is not the operator's to send) */
	if (pay_owed(s, d->order, d->state, &d->amount) == -1)
		return -1;
	if (d->amount <= 0 ||
	    pay_next(from, ev, due, paid, c->payments.escrow, &to) == -1) {
		d->amount = 0;
		*res = PAY_ADMIN_NOT_DUE;
		return 0;
	}
	memset(&o, 0, sizeof(o));
	if ((rc = pay_order_read(s, d->order, &o)) == -1)
		return -1;
	snprintf(d->to, sizeof(d->to), "%s", ev == PAY_EV_PAID_OUT ?
	    o.seller : o.buyer);
	if (opref != NULL && opref[0] != '\0')
		snprintf(d->ref, sizeof(d->ref), "%s", opref);
	else
		snprintf(d->ref, sizeof(d->ref), "%s-%s", d->kind, trans_id);
	snprintf(raw, sizeof(raw), "marketctl payouts done %s, by %s",
	    trans_id, who);

	if ((st = store_query(s, add)) == NULL)
		return -1;
	store_bind_text(st, 1, d->ref);
	/* a credit returned is a refund to the ledger */
	store_bind_text(st, 2, ev == PAY_EV_PAID_OUT ? "payout" : "refund");
	store_bind_int(st, 3, d->order);
	store_bind_int(st, 4, d->amount);
	store_bind_text(st, 5, currency[0] != '\0' ? currency : c->currency);
	store_bind_text(st, 6, d->to[0] != '\0' ? d->to : NULL);
	store_bind_text(st, 7, pay_state_name(to));
	store_bind_text(st, 8, raw);
	store_bind_int(st, 9, now);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	if (store_changes(s) != 1) {
		*res = PAY_ADMIN_REF_TAKEN;
		return 0;
	}
	if ((st = store_query(s, set)) == NULL)
		return -1;
	store_bind_int(st, 1, d->order);
	store_bind_text(st, 2, pay_state_name(to));
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	d->state = to;

	pay_money(money, sizeof(money), d->amount);
	snprintf(num, sizeof(num), "%lld", d->order);
	args[0] = (struct mb_arg){ "ref", num };
	args[1] = (struct mb_arg){ "amount", money };
	args[2] = (struct mb_arg){ "currency", currency[0] != '\0' ?
	    currency : c->currency };
	args[3] = (struct mb_arg){ "trans", d->ref };
	args[4] = (struct mb_arg){ "payment", trans_id };
	if (d->to[0] != '\0' && notify(arg, d->to, ev == PAY_EV_PAID_OUT ?
	    "pay-paid-out-seller" : "pay-refunded-buyer", args, 5) == -1)
		return -1;
	info(0, "pay: order %lld: %s of %s sent to %s (%s), said by %s",
	    d->order, d->kind, money, d->to, d->ref, who);
	*res = PAY_ADMIN_DONE;
	return 0;
}
