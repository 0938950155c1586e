/*
 * market_pay.c - money paid outside the provider: the buyer says she
 * paid (PAID), the seller says she has the money (RECEIVED), and cash
 * taken with the goods at DELIVERED (cash-at-delivery = yes).  What is
 * said is the core's to keep (the host's pay_said, src/pay/pay_said.c:
 * the claim with who said it; the seller's word enters the rest of what
 * is due in the ledger and moves the money state); this file checks who
 * may say it and answers.
 *
 * Commands, with an exchange each ("> " what a phone sends, "< " what it
 * gets; replies are templates market-* of the sender's language):
 *
 *   PAID order [reference]		(the buyer; an open or delivered
 *					 order; the reference one word
 *					 of 1 to 16 letters and digits,
 *					 kept as typed)
 *	> PAID 43 QBC1X2Y3Z
 *	< Order #43: your payment of 15,000 KES (QBC1X2Y3Z) is noted. The
 *	  seller is asked to confirm it with RECEIVED 43.
 *	The seller is told (pay-said-paid-seller: "the buyer says she paid
 *	#43 with reference QBC1X2Y3Z; send RECEIVED 43 when you have it").
 *	No money moves on the buyer's word.  A reference the provider
 *	already confirmed for this order: market-paid-known ("already
 *	recorded"); an order paid in full: market-paid-already.
 *   RECEIVED order			(the seller; an open or delivered
 *					 order)
 *	> RECEIVED 43
 *	< Order #43: 15,000 KES received is recorded. The order is paid.
 *	What is still due (the total less the provider's payments: after
 *	a part payment just the rest) is entered as received; the buyer is
 *	told (pay-said-received-buyer).  Refused when the order is paid in
 *	full already (market-received-already; the claim is kept).
 *
 * Both refuse, changing nothing: an unknown number or one that is no
 * order (market_order_find), an order not the sender's
 * (market-not-yours), the other party's word (market-paid-seller: the
 * seller sends RECEIVED; market-received-buyer: the buyer sends PAID),
 * an order rejected, cancelled or expired (market_order_refuse:
 * market-order-ended-*), a marketbox without pay_said
 * (market-pay-unavailable).
 *
 * Cash at delivery (conf cash-at-delivery = yes): the DELIVERED that
 * delivers an order (the buyer's, or the transporter's with the code;
 * not the timer's, nobody confirmed a handover) records, in its unit of
 * work, a cash-at-delivery claim and the rest of what is due as the
 * seller's (market_pay_cash, from market_order_pay), when the order's
 * money state is unpaid or part; the delivered texts then say so
 * (market-delivered-ok-cash, market-delivered-seller-cash).
 */
#include <stddef.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

/* characters of a reference: M-Pesa's are 10, a bank's or Airtel's
   longer; 16 leave the texts that quote it one SMS in every language */
#define MARKET_PAY_REF_MAX	16

/*
 * PAID's reference into ref (MARKET_PAY_REF_MAX + 1 bytes): word 1 as
 * typed (arg() folds case, M-Pesa's codes are upper case), 1 to
 * MARKET_PAY_REF_MAX ASCII letters and digits.  0 when it is not one
 * (the caller answers with the usage).
 */
static int
market_pay_ref(const char *typed, char *ref)
{
	size_t	 n;

	/* the word ends at a separator (a dropped '#' or the like after
	   it) */
	for (n = 0; (unsigned char)typed[n] > ' ' && typed[n] != 0x7f;
	    n++) {
		if (n == MARKET_PAY_REF_MAX ||
		    !((typed[n] >= '0' && typed[n] <= '9') ||
		    (typed[n] >= 'A' && typed[n] <= 'Z') ||
		    (typed[n] >= 'a' && typed[n] <= 'z')))
			return 0;
		ref[n] = typed[n];
	}
	ref[n] = '\0';
	return n > 0;
}

/*
 * The order of word 0 for a PAID (buyer 1) or RECEIVED (buyer 0): 1 and
 * o; 0 when the sender was told why not; -1.
 */
static int
market_pay_order(struct market_call *c, int buyer, struct market_order *o)
{
	long long	 ref;
	int		 rc, closed;

	if (!market_ref_arg(c, 0, &ref))
		return 2;
	if ((rc = market_order_find(c, ref, o)) != 1)
		return rc;
	if (strcmp(o->seller, c->actor) != 0 && strcmp(o->buyer, c->actor) != 0)
		return market_reply_ref(c, "market-not-yours", ref) == MB_OK ?
		    0 : -1;
	if (strcmp(buyer ? o->buyer : o->seller, c->actor) != 0)
		return market_reply_ref(c, buyer ? "market-paid-seller" :
		    "market-received-buyer", ref) == MB_OK ? 0 : -1;
	closed = strcmp(o->state, "rejected") == 0 ||
	    strcmp(o->state, "cancelled") == 0 ||
	    strcmp(o->state, "expired") == 0;
	if (closed)
		return market_order_refuse(c, o) == MB_OK ? 0 : -1;
	if (!MARKET_HOST_HAS(c->host, pay_said))
		return market_reply_ref(c, "market-pay-unavailable", ref) ==
		    MB_OK ? 0 : -1;
	return 1;
}

int
market_paid(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	char			 trans[MARKET_PAY_REF_MAX + 1] = "";
	const char		*state, *tmpl;
	long long		 amount;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) < 1 || host->argc(ctx) > 2)
		return MB_USAGE;
	/* as typed: arg() is lowercased, M-Pesa's codes are not */
	if (host->argc(ctx) == 2 && !market_pay_ref(host->rest(ctx, 1),
	    trans))
		return MB_USAGE;
	if ((rc = market_pay_order(&c, 1, &o)) != 1)
		return market_step_result(rc);
	rc = host->pay_said(ctx, o.ref, MB_PAY_SAID_PAID, trans[0] != '\0' ?
	    trans : NULL, &amount, &state);
	switch (rc) {
	case MB_PAY_TAKEN:
		tmpl = trans[0] != '\0' ? "market-paid-ok" :
		    "market-paid-ok-noref";
		break;
	case MB_PAY_KNOWN:
		tmpl = "market-paid-known";
		break;
	case MB_PAY_ALREADY:
		tmpl = "market-paid-already";
		break;
	case MB_PAY_REFUSED:
		/* checked above: the host disagrees on the order */
		return market_order_refuse(&c, &o);
	default:
		return MB_FAIL;
	}
	market_arg_num(&a, "ref", o.ref);
	market_arg_money(&a, "amount", amount);
	market_arg(&a, "currency", host->currency(ctx));
	market_arg(&a, "trans", trans);
	return market_reply(&c, tmpl, &a);
}

int
market_received(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	const char		*state, *tmpl;
	long long		 amount;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 1)
		return MB_USAGE;
	if ((rc = market_pay_order(&c, 0, &o)) != 1)
		return market_step_result(rc);
	rc = host->pay_said(ctx, o.ref, MB_PAY_SAID_RECEIVED, NULL, &amount,
	    &state);
	switch (rc) {
	case MB_PAY_TAKEN:
		tmpl = "market-received-ok";
		break;
	case MB_PAY_ALREADY:
		tmpl = "market-received-already";
		break;
	case MB_PAY_REFUSED:
		return market_order_refuse(&c, &o);
	default:
		return MB_FAIL;
	}
	market_arg_num(&a, "ref", o.ref);
	market_arg_money(&a, "amount", amount);
	market_arg(&a, "currency", host->currency(ctx));
	return market_reply(&c, tmpl, &a);
}

int
market_pay_cash(struct market_call *c, long long ref)
{
	const char	*state;
	long long	 amount;
	int		 rc;

	c->cash = 0;
	if (!c->conf->cash_at_delivery || c->cash_ref != ref ||
	    !MARKET_HOST_HAS(c->host, pay_said))
		return 0;
	rc = c->host->pay_said(c->ctx, ref, MB_PAY_SAID_CASH, NULL, &amount,
	    &state);
	if (rc == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: order %lld: the "
		    "cash at delivery cannot be recorded", ref);
		return -1;
	}
	if (rc == MB_PAY_TAKEN)
		c->cash = amount;
	return 0;
}
