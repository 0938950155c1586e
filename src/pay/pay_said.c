/*
 * pay_said.c - money a person says moved outside the provider: the
 * buyer's PAID 43 [REFERENCE], the seller's RECEIVED 43, and cash taken
 * with the goods at DELIVERED (the market plugin's cash-at-delivery).
 * Each is kept as said (payment_claims: the kind, who said it, the
 * reference as typed, the amount), in the caller's unit of work, whether
 * or not it moves money; schema step 12 has the tables.
 *
 * Only the seller's word moves money: she is the one who has it.  So
 *
 *	received, cash-at-delivery	the rest of what is due (total less
 *		what the provider's payments brought) is entered in the
 *		ledger (payments: kind payment, said_by the order's seller,
 *		trans_id "RECEIVED-43-<claim id>" or "CASH-43-<claim id>",
 *		unique by the claim's id, outcome the new state, raw a short
 *		line of who said what) and the money state moved by
 *		pay_order_take, so that pay_next() stays the one transition
 *		function.  RECEIVED tells the buyer (pay-said-received-buyer:
 *		"the seller confirmed receiving 15000 KES for #43"); cash at
 *		DELIVERED tells nobody here: DELIVERED's own texts say it.
 *	paid	no money moves: the buyer's word is a claim.  The seller is
 *		asked to confirm (pay-said-paid-seller: "... send RECEIVED 43
 *		when you have it").
 *	paid in full already (paid, over, payout-due, paid-out)
 *		only the claim is kept; the caller says so (PAY_SAID_ALREADY).
 *		Cash at DELIVERED of an order paid in full keeps nothing:
 *		nobody said a word, the conf did.
 *	PAID whose reference is a TransID the provider already confirmed
 *		for this order (the ledger's row, or an operator's match;
 *		letters in any case, as people type them):
 *		the claim is kept with that payment's amount, nobody is
 *		told (the seller had the provider's notice), and the caller
 *		tells the buyer it is already recorded (PAY_SAID_KNOWN).  A
 *		reference the ledger has for another order, or in suspense,
 *		is just a claim: the operator matches it (marketctl).
 *	an order rejected, cancelled or expired, or not found, or not the
 *		sayer's (PAID: its buyer; RECEIVED: its seller)
 *		nothing at all (PAY_SAID_REFUSED): the caller refused first.
 *
 * The order is read held (pay_order_lock: FOR UPDATE on PostgreSQL), as
 * a provider's payment reads it: a REJECT, CANCEL or expiry of another
 * instance that has set the order closed and not committed is waited
 * for, and the word then meets a closed order (refused, nothing kept),
 * never money "paid" on an order closed.
 *
 * Money the seller says she received is hers already: the operator
 * holds only the provider's payments (pay.h's PAY_SQL_HELD counts rows
 * with no said_by).  So a delivered escrow order paid this way owes no
 * payout and stays paid, and one closed after it owes no refund: the
 * admins are told the seller holds the money (pay_order_event).
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

static const char *const pay_said_kinds[] = {
	[PAY_SAID_PAID] = "paid",
	[PAY_SAID_RECEIVED] = "received",
	[PAY_SAID_CASH] = "cash-at-delivery"
};

/*
 * The order's money: what is due and paid, its state (an order no
 * payment came for: unpaid, nothing paid, its total due).  The row is
 * held on PostgreSQL, as pay_order_take's write holds it, so that a
 * provider's payment and a person's word take turns; for money that
 * moves (make 1) it is made first, unpaid, so that there is a row to
 * hold: two RECEIVED at once then take turns too, the second finding
 * the order paid.  0, or -1.
 */
static int
pay_said_money(struct store *s, const struct pay_order *o, int make,
    long long *due, long long *paid, enum pay_state *state)
{
	static const char add[] =
	    "INSERT INTO order_payments (order_ref, due, paid, state, "
	    "updated) VALUES ($1, $2, 0, 'unpaid', $3) "
	    "ON CONFLICT (order_ref) DO NOTHING";
	static const char hold[] =
	    "UPDATE order_payments SET updated = $2 WHERE order_ref = $1 "
	    "RETURNING due, paid, state";
	struct store_stmt	*st;
	int			 rc, v = PAY_UNPAID;

	*due = o->total;
	*paid = 0;
	if (make) {
		if ((st = store_query(s, add)) == NULL)
			return -1;
		store_bind_int(st, 1, o->ref);
		store_bind_int(st, 2, o->total);
		store_bind_int(st, 3, (long long)time(NULL));
		rc = store_step(st);
		store_done(st);
		if (rc != STORE_DONE)
			return -1;
	}
	if ((st = store_query(s, hold)) == NULL)
		return -1;
	store_bind_int(st, 1, o->ref);
	store_bind_int(st, 2, (long long)time(NULL));
	if ((rc = store_step(st)) == STORE_ROW) {
		*due = store_int(st, 0);
		*paid = store_int(st, 1);
		v = pay_state_parse(store_text(st, 2));
	}
	store_done(st);
	if (rc == STORE_ERROR || v < 0)
		return -1;
	*state = v;
	return 0;
}

/* The provider's payment trans for order ref (its own or an operator's
   match): 1 and *amount; 0 none; -1. */
static int
pay_said_known(struct store *s, long long ref, const char *trans,
    long long *amount)
{
	static const char sql[] =
	    "SELECT p.amount FROM payments p LEFT JOIN payment_matches m "
	    "ON m.trans_id = p.trans_id WHERE upper(p.trans_id) = "
	    "upper($1) AND p.kind = 'payment' AND p.said_by IS NULL AND "
	    "(p.order_ref = $2 OR m.order_ref = $2)";
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, trans);
	store_bind_int(st, 2, ref);
	if ((rc = store_step(st)) == STORE_ROW)
		*amount = store_int(st, 0);
	store_done(st);
	return rc == STORE_ERROR ? -1 : rc == STORE_ROW;
}

/* The claim's row: its id into *id.  0, or -1. */
static int
pay_said_claim(struct store *s, long long ref, enum pay_said what,
    const char *by, const char *reference, long long amount, long long *id)
{
	static const char sql[] =
	    "INSERT INTO payment_claims (order_ref, kind, said_by, "
	    "reference, amount, created) VALUES ($1, $2, $3, $4, $5, $6) "
	    "RETURNING id";
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_int(st, 1, ref);
	store_bind_text(st, 2, pay_said_kinds[what]);
	store_bind_text(st, 3, by);
	if (reference != NULL && reference[0] != '\0')
		store_bind_text(st, 4, reference);
	else
		store_bind_null(st, 4);
	store_bind_int(st, 5, amount);
	store_bind_int(st, 6, (long long)time(NULL));
	if ((rc = store_step(st)) == STORE_ROW)
		*id = store_int(st, 0);
	store_done(st);
	return rc == STORE_ROW ? 0 : -1;
}

/* The ledger's row of money the seller says she has.  0, or -1. */
static int
pay_said_ledger(struct store *s, const struct conf *c,
    const struct pay_order *o, enum pay_said what, const char *by,
    long long claim, long long amount, enum pay_state to)
{
	static const char sql[] =
	    "INSERT INTO payments (trans_id, kind, order_ref, amount, "
	    "currency, msisdn, outcome, raw, said_by, created) VALUES ($1, "
	    "'payment', $2, $3, $4, $5, $6, $7, $8, $9)";
	struct store_stmt	*st;
	char			 trans[64], raw[160], money[32];
	int			 rc;

	snprintf(trans, sizeof(trans), "%s-%lld-%lld", what == PAY_SAID_CASH ?
	    "CASH" : "RECEIVED", o->ref, claim);
	pay_money(money, sizeof(money), amount);
	snprintf(raw, sizeof(raw), "%s %s %s for order %lld, said by %s",
	    what == PAY_SAID_CASH ? "cash at delivery:" : "RECEIVED:",
	    money, c->currency, o->ref, by);
	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, trans);
	store_bind_int(st, 2, o->ref);
	store_bind_int(st, 3, amount);
	store_bind_text(st, 4, c->currency);
	store_bind_text(st, 5, o->buyer);	/* who paid, as a provider's */
	store_bind_text(st, 6, pay_state_name(to));
	store_bind_text(st, 7, raw);
	store_bind_text(st, 8, o->seller);
	store_bind_int(st, 9, (long long)time(NULL));
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

int
pay_said(struct store *s, const struct conf *c, long long ref,
    enum pay_said what, const char *by, const char *reference,
    pay_notify_fn notify, void *arg, long long *amount,
    enum pay_state *state)
{
	struct pay_order	 o;
	struct mb_arg		 args[5];
	enum pay_state		 from, to;
	char			 money[32], ref_s[24];
	long long		 due, paid, rest, claim, known = 0;
	int			 rc;

	*amount = 0;
	if ((unsigned)what > PAY_SAID_CASH || by == NULL || by[0] == '\0')
		return PAY_SAID_REFUSED;
	memset(&o, 0, sizeof(o));
	if ((rc = pay_order_lock(s, ref, &o)) != 1)
		return rc == 0 ? PAY_SAID_REFUSED : -1;
	if (strcmp(o.state, "rejected") == 0 ||
	    strcmp(o.state, "cancelled") == 0 ||
	    strcmp(o.state, "expired") == 0 ||
	    (what == PAY_SAID_PAID && strcmp(by, o.buyer) != 0) ||
	    (what == PAY_SAID_RECEIVED && strcmp(by, o.seller) != 0))
		return PAY_SAID_REFUSED;
	if (pay_said_money(s, &o, what != PAY_SAID_PAID, &due, &paid,
	    state) == -1)
		return -1;
	rest = due > paid ? due - paid : 0;

	if (what == PAY_SAID_PAID && reference != NULL &&
	    reference[0] != '\0') {
		if ((rc = pay_said_known(s, ref, reference, &known)) == -1)
			return -1;
		if (rc == 1) {
			*amount = known;
			return pay_said_claim(s, ref, what, by, reference,
			    known, &claim) == -1 ? -1 : PAY_SAID_KNOWN;
		}
	}
	if ((*state != PAY_UNPAID && *state != PAY_PART) || rest == 0) {
		/* cash at DELIVERED of a paid order: nobody said a word */
		if (what == PAY_SAID_CASH)
			return PAY_SAID_ALREADY;
		return pay_said_claim(s, ref, what, by, reference, 0,
		    &claim) == -1 ? -1 : PAY_SAID_ALREADY;
	}
	if (pay_said_claim(s, ref, what, by, reference, rest, &claim) == -1)
		return -1;
	*amount = rest;

	pay_money(money, sizeof(money), rest);
	snprintf(ref_s, sizeof(ref_s), "%lld", ref);
	args[0] = (struct mb_arg){ "ref", ref_s };
	args[1] = (struct mb_arg){ "amount", money };
	args[2] = (struct mb_arg){ "currency", c->currency };
	args[3] = (struct mb_arg){ "trans", reference != NULL &&
	    reference[0] != '\0' ? reference : "-" };
	args[4] = (struct mb_arg){ "buyer", o.buyer };
	if (what == PAY_SAID_PAID)
		return notify(arg, o.seller, "pay-said-paid-seller", args,
		    5) == -1 ? -1 : PAY_SAID_TAKEN;

	if ((rc = pay_order_take(s, c, &o, rest, &from, &to, &paid)) != 1) {
		/* held and read above as unpaid or part: pay_next takes it */
		if (rc == 0)
			error(0, "pay: order %lld: %s refused from %s", ref,
			    pay_said_kinds[what], pay_state_name(*state));
		return -1;
	}
	*state = to;
	if (pay_said_ledger(s, c, &o, what, by, claim, rest, to) == -1)
		return -1;
	info(0, "pay: order %lld: %s of %s %s said by %s: money state "
	    "%s -> %s", ref, pay_said_kinds[what], money, c->currency, by,
	    pay_state_name(from), pay_state_name(to));
	if (what == PAY_SAID_RECEIVED && notify(arg, o.buyer,
	    "pay-said-received-buyer", args, 5) == -1)
		return -1;
	return PAY_SAID_TAKEN;
}
