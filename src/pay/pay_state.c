/*
 * pay_state.c - an order's money state and its one transition function,
 * pay_next() (pay.h has the table).  Separate from the order's own state
 * (the market plugin's): an order can be delivered and unpaid (cash), or
 * rejected and paid (a refund due); each event of the order that moves
 * money goes through here.  No store, no time: what the state becomes
 * depends only on what it was, the event and the sums.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "pay/pay.h"

static const char *const pay_names[PAY_NSTATES] = {
	[PAY_UNPAID] = "unpaid",
	[PAY_PART] = "part",
	[PAY_PAID] = "paid",
	[PAY_OVER] = "over",
	[PAY_REFUND_DUE] = "refund-due",
	[PAY_PAYOUT_DUE] = "payout-due",
	[PAY_REFUNDED] = "refunded",
	[PAY_PAID_OUT] = "paid-out"
};

const char *
pay_state_name(enum pay_state s)
{
	return (unsigned)s < PAY_NSTATES ? pay_names[s] : NULL;
}

int
pay_state_parse(const char *name)
{
	int	 i;

	for (i = 0; name != NULL && i < PAY_NSTATES; i++)
		if (strcmp(name, pay_names[i]) == 0)
			return i;
	return -1;
}

/* What the sums say, for a payment into an open order. */
static enum pay_state
pay_by_sum(long long due, long long paid)
{
	if (paid <= 0)
		return PAY_UNPAID;
	if (paid < due)
		return PAY_PART;
	return paid == due ? PAY_PAID : PAY_OVER;
}

int
pay_next(enum pay_state from, enum pay_event ev, long long due,
    long long paid, int escrow, enum pay_state *to)
{
	enum pay_state	 s;

	if ((unsigned)from >= PAY_NSTATES)
		return -1;
	switch (ev) {
	case PAY_EV_RECEIVED:
		switch (from) {
		case PAY_UNPAID:
		case PAY_PART:
		case PAY_PAID:
		case PAY_OVER:
			s = pay_by_sum(due, paid);
			break;
		case PAY_REFUND_DUE:
		case PAY_REFUNDED:
			/* more money for a closed order: more to return */
			s = PAY_REFUND_DUE;
			break;
		default:
			/* the seller is (to be) paid: the operator decides
			   where this goes */
			return -1;
		}
		break;
	case PAY_EV_CLOSED:
		switch (from) {
		case PAY_UNPAID:
		case PAY_REFUNDED:
			s = from;
			break;
		case PAY_PART:
		case PAY_PAID:
		case PAY_OVER:
		case PAY_REFUND_DUE:
			s = PAY_REFUND_DUE;
			break;
		default:
			return -1;
		}
		break;
	case PAY_EV_DELIVERED:
		switch (from) {
		case PAY_REFUND_DUE:
		case PAY_REFUNDED:
			return -1;
		case PAY_PAID:
		case PAY_OVER:
			s = escrow ? PAY_PAYOUT_DUE : from;
			break;
		default:
			s = from;
			break;
		}
		break;
	case PAY_EV_REFUNDED:
		if (from != PAY_REFUND_DUE)
			return -1;
		s = PAY_REFUNDED;
		break;
	case PAY_EV_PAID_OUT:
		if (from != PAY_PAYOUT_DUE)
			return -1;
		s = PAY_PAID_OUT;
		break;
	case PAY_EV_CREDITED:
		/* the credit went back: the order is paid its total */
		if (from == PAY_OVER)
			s = PAY_PAID;
		else if (from == PAY_PAID_OUT)
			s = PAY_PAID_OUT;
		else
			return -1;
		break;
	default:
		return -1;
	}
	*to = s;
	return 0;
}
