/*
 * pay.c - a provider's payment confirmation taken: its ledger row, its
 * order's money state, the notices of the change.
 *
 * Where payments live, and why.  The confirmation arrives on the core's
 * HTTP port (POST /payments/confirm, src/admin/payments.c), and the
 * rules are the core's: it is answered only after its effect commits (as
 * an MO is acked), and a TransID seen twice has its effect once.  So the
 * core takes it whole, in one unit of work it opens and commits itself:
 * the ledger (payments) and each order's money state (order_payments)
 * are core tables (schema step 11, both engines), keyed by the order's
 * reference, which the core issues (ref_next), as the commissions of
 * trade_done() are.  Of the market plugin's tables the core only reads
 * market_orders (total, buyer, seller, state), as /admin/dispute and
 * /status do; it writes nothing of the plugin's.  The order's own state
 * stays the plugin's; the money state is pay_next()'s, the one
 * transition function (pay_state.c).
 *
 * Not chosen: a hook in the plugin's descriptor, called by the handler
 * in the unit of work.  struct mb_plugin is sized exactly per ABI, so a
 * hook means ABI 3 for every plugin, and the plugin's handler would need
 * a context with no message and the callback's fields through new host
 * functions.  Nor the callback stored first and handed to the plugin
 * like an MO: two units of work, and the answer would wait on the
 * second.  The plugin's own events that move money (an order of money
 * received rejected, cancelled or expired: refund due; delivered in
 * escrow: payout due) reach pay_next() through pay_order_event(), which
 * the host's pay_event (appended to struct mb_host: its extension path,
 * no ABI change) runs in the plugin's unit of work: market_order_move
 * and a pool's share orders call it at each such step.
 *
 * A confirmation, in the caller's unit of work:
 *
 *	seen before (payments.trans_id)		nothing (PAY_OUT_DUPLICATE)
 *	no order of its account reference	ledger row with no order:
 *						the suspense list; admins
 *						told (pay-suspense-admin)
 *	an order				ledger row; order_payments
 *						paid += amount, state by
 *						pay_next (received, then
 *						closed for an order
 *						rejected, cancelled or
 *						expired, delivered for
 *						one delivered: in escrow
 *						payout-due)
 *
 * and the notices by the new state, each in its reader's language:
 *
 *	paid	seller: pay-paid-seller ("15,000 KES received for order #43
 *		(QBC1X...). Send the goods: SENT 43") for an accepted
 *		order, pay-paid-seller-accept ("... ACCEPT 43, then send
 *		the goods") for a pending one, pay-paid-seller-sent (no
 *		step) for one sent or delivered; buyer: pay-paid-buyer
 *	part	seller: pay-part-seller, buyer: pay-part-buyer (what is
 *		still due, and where to pay it)
 *	over	seller: pay-paid-seller; buyer: pay-over-buyer (the credit);
 *		admins: pay-over-admin
 *	refund	buyer: pay-refund-buyer; admins: pay-refund-admin
 *	payout-due (an escrow order delivered before its money came)
 *		seller and buyer as for paid (or over); admins:
 *		pay-payout-admin, as for a delivery (pay_order_event)
 *
 * A payment pay_next() refuses (the order's seller is paid out or to be)
 * goes to the suspense list too, with its order noted in the admins'
 * notice.  The notices of a payment taken are pay_tell_taken's, which
 * the operator's match (pay_admin.c: marketctl payments match) sends too.
 * Each order that becomes refund-due or payout-due goes through
 * pay_due_hook (pay_admin.c), the place of a provider's payout API.
 *
 * An order's own event (pay_order_event), in the plugin's unit of work:
 *
 *	closed (rejected, cancelled, expired) with money received
 *		refund-due; buyer: pay-closed-buyer, admins:
 *		pay-closed-admin (the amount: what the operator holds)
 *	delivered, paid or over, escrow
 *		payout-due; admins: pay-payout-admin (the amount: the
 *		seller's share of what the operator holds)
 *	either, when the operator holds none of the order's money (pay.h's
 *		PAY_SQL_HELD: only the provider's payments count; what the
 *		seller says she took, RECEIVED or cash, is hers)
 *		the state stays (paid, part, over): buyer and seller settle
 *		between themselves, nothing is listed by marketctl payouts;
 *		closed with money paid, admins: pay-closed-seller-admin
 *		(the seller holds it)
 *	no money state (nothing paid), or one that stays
 *		nothing
 *
 * What is owed is never what was paid: a second refund of an order
 * refunded before is what came since, and money a seller says she took
 * is not the operator's to send.  Every reader takes it from pay.h's
 * PAY_SQL_OWED (pay_owed here and for the hook; marketctl payouts;
 * /status).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/gw.h"

#include "base/conf.h"
#include "marketbox-plugin.h"
#include "pay/pay.h"
#include "store/store.h"

#include "pay/pay_int.h"

long long
pay_account_ref(const struct conf *c, const char *account)
{
	const char	*pre = c->payments.account_prefix ?
			    c->payments.account_prefix : "";
	const char	*suf = c->payments.account_suffix ?
			    c->payments.account_suffix : "";
	size_t		 n, np = strlen(pre), ns = strlen(suf), i;
	long long	 ref = 0;

	if (account == NULL)
		return -1;
	while (isspace((unsigned char)*account))
		account++;
	n = strlen(account);
	while (n > 0 && isspace((unsigned char)account[n - 1]))
		n--;
	if (n <= np + ns || strncasecmp(account, pre, np) != 0 ||
	    strncasecmp(account + n - ns, suf, ns) != 0)
		return -1;
	/* at most 15 digits: a reference, not an overflow */
	if (n - np - ns > 15)
		return -1;
	for (i = np; i < n - ns; i++) {
		if (!isdigit((unsigned char)account[i]))
			return -1;
		ref = ref * 10 + (account[i] - '0');
	}
	return ref > 0 ? ref : -1;
}

void
pay_money(char *buf, size_t len, long long minor)
{
	if (minor % 100 == 0)
		snprintf(buf, len, "%lld", minor / 100);
	else
		snprintf(buf, len, "%lld.%02lld", minor / 100, minor % 100);
}

/*
 * Order ref into *o; with lock, on PostgreSQL, the row held until the
 * unit commits (FOR UPDATE).  A payment reads its order so: a closing
 * unit of another instance (REJECT, CANCEL, an expiry) updates
 * market_orders, then asks pay_order_event for the money state, which
 * has no row yet for an order never paid.  Read unlocked, the payment
 * would see the order still open, and both would commit: the order
 * closed, its money "paid".  Locked, the payment waits for that commit
 * and reads the order closed (pay_order_take: refund-due); or it holds
 * the row first, and the closing unit waits, then finds the money
 * state.  SQLite has one writer at a time: nothing to add.
 */
static int
pay_order_get(struct store *s, long long ref, struct pay_order *o, int lock)
{
	static const char sql[] =
	    "SELECT total, buyer, seller, state FROM market_orders "
	    "WHERE ref = $1";
	static const char sql_lock[] =
	    "SELECT total, buyer, seller, state FROM market_orders "
	    "WHERE ref = $1 FOR UPDATE";
	struct store_stmt	*st;
	int			 rc;

	if (lock && strcmp(store_engine(s), "postgresql") != 0)
		lock = 0;
	if ((st = store_query(s, lock ? sql_lock : sql)) == NULL)
		return -1;
	store_bind_int(st, 1, ref);
	if ((rc = store_step(st)) == STORE_ROW) {
		o->ref = ref;
		o->total = store_int(st, 0);
		snprintf(o->buyer, sizeof(o->buyer), "%s", store_text(st, 1) ?
		    store_text(st, 1) : "");
		snprintf(o->seller, sizeof(o->seller), "%s", store_text(st, 2) ?
		    store_text(st, 2) : "");
		snprintf(o->state, sizeof(o->state), "%s", store_text(st, 3) ?
		    store_text(st, 3) : "");
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : rc == STORE_ROW;
}

int
pay_order_read(struct store *s, long long ref, struct pay_order *o)
{
	return pay_order_get(s, ref, o, 0);
}

int
pay_order_lock(struct store *s, long long ref, struct pay_order *o)
{
	return pay_order_get(s, ref, o, 1);
}

/* 1 if cb's TransID is in the ledger; 0 not; -1 on a store failure. */
static int
pay_seen(struct store *s, const char *trans_id)
{
	static const char sql[] =
	    "SELECT 1 FROM payments WHERE trans_id = $1";
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, trans_id);
	rc = store_step(st);
	store_done(st);
	return rc == STORE_ERROR ? -1 : rc == STORE_ROW;
}

/* The ledger row: 1 written; 0 when the TransID was there (a concurrent
   instance took it first); -1 on a store failure. */
static int
pay_ledger_add(struct store *s, const struct conf *c,
    const struct pay_callback *cb, long long order, const char *outcome)
{
	static const char sql[] =
	    "INSERT INTO payments (trans_id, kind, order_ref, amount, "
	    "currency, msisdn, names, trans_time, shortcode, bill_ref, "
	    "outcome, raw, created) VALUES ($1, 'payment', $2, $3, $4, $5, "
	    "$6, $7, $8, $9, $10, $11, $12) "
	    "ON CONFLICT (trans_id) DO NOTHING";
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, cb->trans_id);
	if (order > 0)
		store_bind_int(st, 2, order);
	else
		store_bind_null(st, 2);
	store_bind_int(st, 3, cb->amount);
	store_bind_text(st, 4, cb->currency ? cb->currency : c->currency);
	store_bind_text(st, 5, cb->msisdn);
	store_bind_text(st, 6, cb->names);
	store_bind_text(st, 7, cb->trans_time);
	store_bind_text(st, 8, cb->shortcode);
	store_bind_text(st, 9, cb->bill_ref);
	store_bind_text(st, 10, outcome);
	store_bind_text(st, 11, cb->raw ? cb->raw : "");
	store_bind_int(st, 12, (long long)time(NULL));
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	return store_changes(s) == 1;
}

int
pay_order_take(struct store *s, const struct conf *c,
    const struct pay_order *o, long long amount, enum pay_state *from,
    enum pay_state *to, long long *paid)
{
	static const char make[] =
	    "INSERT INTO order_payments (order_ref, due, paid, state, "
	    "updated) VALUES ($1, $2, 0, 'unpaid', $3) "
	    "ON CONFLICT (order_ref) DO NOTHING";
	static const char read[] =
	    "UPDATE order_payments SET paid = paid + $2, updated = $3 "
	    "WHERE order_ref = $1 RETURNING paid, state, due";
	static const char set[] =
	    "UPDATE order_payments SET state = $2 WHERE order_ref = $1";
	static const char undo[] =
	    "UPDATE order_payments SET paid = paid - $2 WHERE order_ref = $1";
	struct store_stmt	*st;
	enum pay_state		 s1;
	long long		 now = (long long)time(NULL), due = o->total;
	int			 rc, st0 = -1;

	if ((st = store_query(s, make)) == NULL)
		return -1;
	store_bind_int(st, 1, o->ref);
	store_bind_int(st, 2, o->total);
	store_bind_int(st, 3, now);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE || (st = store_query(s, read)) == NULL)
		return -1;
	store_bind_int(st, 1, o->ref);
	store_bind_int(st, 2, amount);
	store_bind_int(st, 3, now);
	if ((rc = store_step(st)) == STORE_ROW) {
		*paid = store_int(st, 0);
		st0 = pay_state_parse(store_text(st, 1));
		due = store_int(st, 2);
	}
	store_done(st);
	if (rc != STORE_ROW || st0 < 0) {
		if (rc == STORE_ROW)
			error(0, "pay: order %lld has an unknown money state",
			    o->ref);
		return -1;
	}
	*from = st0;
	if (pay_next(*from, PAY_EV_RECEIVED, due, *paid,
	    c->payments.escrow, &s1) == -1)
		goto refused;
	/* a payment for an order no longer open is to be returned */
	if ((strcmp(o->state, "rejected") == 0 ||
	    strcmp(o->state, "cancelled") == 0 ||
	    strcmp(o->state, "expired") == 0) &&
	    pay_next(s1, PAY_EV_CLOSED, due, *paid, c->payments.escrow,
	    &s1) == -1)
		goto refused;
	/* a payment for an order delivered meets its delivery as the
	   money of an order paid before it did: in escrow, the seller is
	   owed (payout-due) */
	if (strcmp(o->state, "delivered") == 0 &&
	    pay_next(s1, PAY_EV_DELIVERED, due, *paid, c->payments.escrow,
	    &s1) == -1)
		goto refused;
	*to = s1;
	if ((st = store_query(s, set)) == NULL)
		return -1;
	store_bind_int(st, 1, o->ref);
	store_bind_text(st, 2, pay_state_name(s1));
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 1 : -1;
refused:
	if ((st = store_query(s, undo)) == NULL)
		return -1;
	store_bind_int(st, 1, o->ref);
	store_bind_int(st, 2, amount);
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

int
pay_validate(struct store *s, const struct conf *c, int orders,
    const struct pay_callback *cb, const char **code)
{
	static const char sql[] =
	    "SELECT paid, state FROM order_payments WHERE order_ref = $1";
	struct store_stmt	*st;
	struct pay_order	 o;
	long long		 ref, paid = 0;
	int			 rc, state = PAY_UNPAID;

	*code = "C2B00012";
	if (!orders || (ref = pay_account_ref(c, cb->bill_ref)) <= 0)
		return 0;
	if ((rc = pay_order_read(s, ref, &o)) != 1)
		return rc;
	if (strcmp(o.state, "pending") != 0 && strcmp(o.state, "accepted") != 0)
		return 0;
	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_int(st, 1, ref);
	if ((rc = store_step(st)) == STORE_ROW) {
		paid = store_int(st, 0);
		state = pay_state_parse(store_text(st, 1));
	}
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (state != PAY_UNPAID && state != PAY_PART)
		return 0;
	*code = "C2B00013";
	return cb->amount <= o.total - paid;
}

/*
 * The seller's notice of a payment, by where the order is: accepted, send
 * the goods (pay-paid-seller: "SENT 43"); pending, accept it first
 * (pay-paid-seller-accept: SENT is refused before ACCEPT); sent or
 * delivered, the goods already left (pay-paid-seller-sent: no step).
 */
const char *
pay_seller_tmpl(const struct pay_order *o)
{
	if (strcmp(o->state, "pending") == 0)
		return "pay-paid-seller-accept";
	if (strcmp(o->state, "sent") == 0 || strcmp(o->state, "delivered") == 0)
		return "pay-paid-seller-sent";
	return "pay-paid-seller";
}

int
pay_tell_admins(pay_notify_fn notify, void *arg, const struct conf *c,
    const char *tmpl, const struct mb_arg *args, size_t nargs)
{
	size_t	 i;

	for (i = 0; i < c->admins.count; i++)
		if (notify(arg, c->admins.names[i], tmpl, args, nargs) == -1)
			return -1;
	return 0;
}

int
pay_confirm(struct store *s, pay_notify_fn notify, void *arg,
    const struct conf *c, int orders, const struct pay_callback *cb,
    enum pay_outcome *out)
{
	struct pay_order	 o;
	struct mb_arg		 args[9];
	enum pay_state		 from = PAY_UNPAID, to = PAY_UNPAID;
	char			 amount[32], due[32], credit[32], ref[24];
	const char		*outcome = "suspense";
	long long		 order = -1, paid = 0;
	int			 rc, found = 0, taken = 0;

	if ((rc = pay_seen(s, cb->trans_id)) != 0) {
		*out = PAY_OUT_DUPLICATE;
		return rc == 1 ? 0 : -1;
	}
	memset(&o, 0, sizeof(o));
	if (orders && (order = pay_account_ref(c, cb->bill_ref)) > 0 &&
	    (found = pay_order_get(s, order, &o, 1)) == -1)
		return -1;
	if (found) {
		if ((taken = pay_order_take(s, c, &o, cb->amount, &from, &to,
		    &paid)) == -1)
			return -1;
		if (taken)
			outcome = pay_state_name(to);
	}
	if ((rc = pay_ledger_add(s, c, cb, taken ? o.ref : 0,
	    outcome)) != 1) {
		if (rc == 0) {
			/* another instance took it between our look and
			   our write: the caller rolls this unit back (the
			   money state was raised) */
			*out = PAY_OUT_DUPLICATE;
			return 0;
		}
		return -1;
	}

	if (!taken) {
		pay_money(amount, sizeof(amount), cb->amount);
		snprintf(ref, sizeof(ref), "%lld", found ? o.ref : 0);
		pay_money(due, sizeof(due), o.total > paid ? o.total - paid :
		    0);
		pay_money(credit, sizeof(credit), paid > o.total ?
		    paid - o.total : 0);
		args[0] = (struct mb_arg){ "amount", amount };
		args[1] = (struct mb_arg){ "currency", cb->currency ?
		    cb->currency : c->currency };
		args[2] = (struct mb_arg){ "ref", ref };
		args[3] = (struct mb_arg){ "trans", cb->trans_id };
		args[4] = (struct mb_arg){ "due", due };
		args[5] = (struct mb_arg){ "credit", credit };
		args[6] = (struct mb_arg){ "paybill",
		    c->payments.business_number };
		args[7] = (struct mb_arg){ "account", cb->bill_ref ?
		    cb->bill_ref : "" };
		args[8] = (struct mb_arg){ "msisdn", cb->msisdn ? cb->msisdn :
		    "" };
		*out = PAY_OUT_SUSPENSE;
		return pay_tell_admins(notify, arg, c, "pay-suspense-admin",
		    args, 9);
	}
	return pay_tell_taken(s, notify, arg, c, &o, from, to, paid, cb, out);
}

/* The admins' pay-payout-admin of order o (paid so far), with the
   arguments pay_order_event gives it.  0, or -1. */
static int
pay_tell_payout(pay_notify_fn notify, void *arg, const struct conf *c,
    const struct pay_order *o, long long paid)
{
	struct mb_arg	 args[6];
	char		 paid_s[32], due_s[32], ref_s[24];

	pay_money(paid_s, sizeof(paid_s), paid);
	pay_money(due_s, sizeof(due_s), o->total);
	snprintf(ref_s, sizeof(ref_s), "%lld", o->ref);
	args[0] = (struct mb_arg){ "ref", ref_s };
	args[1] = (struct mb_arg){ "amount", paid_s };
	args[2] = (struct mb_arg){ "total", due_s };
	args[3] = (struct mb_arg){ "currency", c->currency };
	args[4] = (struct mb_arg){ "buyer", o->buyer };
	args[5] = (struct mb_arg){ "seller", o->seller };
	return pay_tell_admins(notify, arg, c, "pay-payout-admin", args, 6);
}

int
pay_tell_taken(struct store *s, pay_notify_fn notify, void *arg,
    const struct conf *c, const struct pay_order *o, enum pay_state from,
    enum pay_state to, long long paid, const struct pay_callback *cb,
    enum pay_outcome *out)
{
	struct mb_arg		 args[9];
	char			 amount[32], due[32], credit[32], ref[24];
	long long		 owed;

	pay_money(amount, sizeof(amount), cb->amount);
	snprintf(ref, sizeof(ref), "%lld", o->ref);
	pay_money(due, sizeof(due), o->total > paid ? o->total - paid : 0);
	pay_money(credit, sizeof(credit), paid > o->total ? paid - o->total :
	    0);
	args[0] = (struct mb_arg){ "amount", amount };
	args[1] = (struct mb_arg){ "currency", cb->currency ? cb->currency :
	    c->currency };
	args[2] = (struct mb_arg){ "ref", ref };
	args[3] = (struct mb_arg){ "trans", cb->trans_id };
	args[4] = (struct mb_arg){ "due", due };
	args[5] = (struct mb_arg){ "credit", credit };
	args[6] = (struct mb_arg){ "paybill", c->payments.business_number };
	args[7] = (struct mb_arg){ "account", cb->bill_ref ? cb->bill_ref :
	    "" };
	args[8] = (struct mb_arg){ "msisdn", cb->msisdn ? cb->msisdn : "" };

	switch (to) {
	case PAY_PAYOUT_DUE:
		/* paid in full for an order delivered, in escrow: the
		   parties' notices of a payment, and the operator's payout
		   as pay_order_event's of a delivery */
		*out = paid > o->total ? PAY_OUT_OVER : PAY_OUT_PAID;
		if ((from != PAY_PAID && from != PAY_OVER &&
		    notify(arg, o->seller, pay_seller_tmpl(o), args, 9) ==
		    -1) || notify(arg, o->buyer, paid > o->total ?
		    "pay-over-buyer" : "pay-paid-buyer", args, 9) == -1 ||
		    (paid > o->total && pay_tell_admins(notify, arg, c,
		    "pay-over-admin", args, 9) == -1))
			return -1;
		if (pay_tell_payout(notify, arg, c, o, paid) == -1 ||
		    pay_owed(s, o->ref, PAY_PAYOUT_DUE, &owed) == -1 ||
		    pay_due_hook(c, o, PAY_PAYOUT_DUE, owed) == -1)
			return -1;
		break;
	case PAY_PAID:
	case PAY_PAID_OUT:		/* not from a payment; for -Wswitch */
		*out = PAY_OUT_PAID;
		if (notify(arg, o->seller, pay_seller_tmpl(o), args, 9) ==
		    -1 || notify(arg, o->buyer, "pay-paid-buyer", args, 9) ==
		    -1)
			return -1;
		break;
	case PAY_PART:
	case PAY_UNPAID:
		*out = PAY_OUT_PART;
		if (notify(arg, o->seller, "pay-part-seller", args, 9) ==
		    -1 || notify(arg, o->buyer, "pay-part-buyer", args, 9) ==
		    -1)
			return -1;
		break;
	case PAY_OVER:
		*out = PAY_OUT_OVER;
		/* the seller hears of the price only, once: not again for
		   more money after the order was paid */
		if ((from != PAY_PAID && from != PAY_OVER &&
		    notify(arg, o->seller, pay_seller_tmpl(o), args, 9) ==
		    -1) ||
		    notify(arg, o->buyer, "pay-over-buyer", args, 9) ==
		    -1 || pay_tell_admins(notify, arg, c, "pay-over-admin", args, 9) == -1)
			return -1;
		break;
	default:
		*out = PAY_OUT_REFUND;
		if (notify(arg, o->buyer, "pay-refund-buyer", args, 9) ==
		    -1 || pay_tell_admins(notify, arg, c, "pay-refund-admin", args, 9) ==
		    -1)
			return -1;
		/* the operator's refund to send: the provider's hook */
		if (pay_owed(s, o->ref, PAY_REFUND_DUE, &owed) == -1 ||
		    pay_due_hook(c, o, PAY_REFUND_DUE, owed) == -1)
			return -1;
		break;
	}
	return 0;
}

/*
 * Order ref's event would make its money due, but the operator holds
 * none of it: what was paid is what its seller says she took (RECEIVED,
 * cash at delivery).  The state stays (paid, part, over): buyer and
 * seller settle between themselves.  Closed with money paid, the admins
 * are told the seller holds it (pay-closed-seller-admin); delivered,
 * nobody: the seller has her money.  0, or -1.
 */
static int
pay_event_seller_holds(struct store *s, const struct conf *c, long long ref,
    enum pay_event ev, int from, long long paid, pay_notify_fn notify,
    void *arg)
{
	struct pay_order	 o;
	struct mb_arg		 args[5];
	char			 paid_s[32], ref_s[24];

	info(0, "pay: order %lld %s with money state %s: the operator holds "
	    "none of it (the seller says she took it); the state stays", ref,
	    ev == PAY_EV_CLOSED ? "closed" : "delivered",
	    pay_state_name(from));
	if (ev != PAY_EV_CLOSED || paid <= 0)
		return 0;
	memset(&o, 0, sizeof(o));
	if (pay_order_read(s, ref, &o) == -1)
		return -1;
	pay_money(paid_s, sizeof(paid_s), paid);
	snprintf(ref_s, sizeof(ref_s), "%lld", ref);
	args[0] = (struct mb_arg){ "ref", ref_s };
	args[1] = (struct mb_arg){ "amount", paid_s };
	args[2] = (struct mb_arg){ "currency", c->currency };
	args[3] = (struct mb_arg){ "buyer", o.buyer };
	args[4] = (struct mb_arg){ "seller", o.seller };
	return pay_tell_admins(notify, arg, c, "pay-closed-seller-admin", args,
	    5);
}

int
pay_order_event(struct store *s, const struct conf *c, long long ref,
    enum pay_event ev, pay_notify_fn notify, void *arg)
{
	/* a no-op write that holds the row, as pay_order_take's does */
	static const char hold[] =
	    "UPDATE order_payments SET updated = $2 WHERE order_ref = $1 "
	    "RETURNING due, paid, state";
	static const char set[] =
	    "UPDATE order_payments SET state = $2 WHERE order_ref = $1";
	struct store_stmt	*st;
	struct pay_order	 o;
	struct mb_arg		 args[6];
	enum pay_state		 to;
	char			 paid_s[32], due_s[32], ref_s[24];
	long long		 due = 0, paid = 0, owed = 0;
	size_t			 i;
	int			 rc, from = -1;

	if (ev != PAY_EV_CLOSED && ev != PAY_EV_DELIVERED) {
		error(0, "pay: order %lld: event %d is not the order's",
		    ref, (int)ev);
		return -1;
	}
	if ((st = store_query(s, hold)) == NULL)
		return -1;
	store_bind_int(st, 1, ref);
	store_bind_int(st, 2, (long long)time(NULL));
	if ((rc = store_step(st)) == STORE_ROW) {
		due = store_int(st, 0);
		paid = store_int(st, 1);
		from = pay_state_parse(store_text(st, 2));
	}
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (rc != STORE_ROW)
		return 0;	/* no money came for it */
	if (from < 0) {
		error(0, "pay: order %lld has an unknown money state", ref);
		return -1;
	}
	if (pay_next(from, ev, due, paid, c->payments.escrow, &to) == -1) {
		warning(0, "pay: order %lld %s with money state %s: left "
		    "for the operator", ref, ev == PAY_EV_CLOSED ? "closed" :
		    "delivered", pay_state_name(from));
		return 0;
	}
	if (to == (enum pay_state)from)
		return 0;
	/* money due only of what the operator holds: none (the seller
	   says she took it all, RECEIVED or cash), and the state stays */
	if ((to == PAY_REFUND_DUE || to == PAY_PAYOUT_DUE) &&
	    pay_owed(s, ref, to, &owed) == -1)
		return -1;
	if ((to == PAY_REFUND_DUE || to == PAY_PAYOUT_DUE) && owed <= 0)
		return pay_event_seller_holds(s, c, ref, ev, from, paid,
		    notify, arg);
	if ((st = store_query(s, set)) == NULL)
		return -1;
	store_bind_int(st, 1, ref);
	store_bind_text(st, 2, pay_state_name(to));
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	info(0, "pay: order %lld %s: money state %s -> %s", ref,
	    ev == PAY_EV_CLOSED ? "closed" : "delivered",
	    pay_state_name(from), pay_state_name(to));

	memset(&o, 0, sizeof(o));
	if (pay_order_read(s, ref, &o) == -1)
		return -1;
	/* the notices say what is owed: a refund of what the operator
	   holds, a payout of the seller's share of it */
	pay_money(paid_s, sizeof(paid_s), to == PAY_REFUND_DUE ? owed : paid);
	pay_money(due_s, sizeof(due_s), to == PAY_PAYOUT_DUE ? owed : due);
	snprintf(ref_s, sizeof(ref_s), "%lld", ref);
	args[0] = (struct mb_arg){ "ref", ref_s };
	args[1] = (struct mb_arg){ "amount", paid_s };
	args[2] = (struct mb_arg){ "total", due_s };
	args[3] = (struct mb_arg){ "currency", c->currency };
	args[4] = (struct mb_arg){ "buyer", o.buyer };
	args[5] = (struct mb_arg){ "seller", o.seller };
	if (to == PAY_REFUND_DUE && o.buyer[0] != '\0' &&
	    notify(arg, o.buyer, "pay-closed-buyer", args, 6) == -1)
		return -1;
	for (i = 0; i < c->admins.count; i++)
		if (notify(arg, c->admins.names[i], to == PAY_REFUND_DUE ?
		    "pay-closed-admin" : "pay-payout-admin", args, 6) == -1)
			return -1;
	/* money the operator must send: the provider's hook (pay_admin.c) */
	if ((to == PAY_REFUND_DUE || to == PAY_PAYOUT_DUE) &&
	    pay_due_hook(c, &o, to, owed) == -1)
		return -1;
	return 0;
}
