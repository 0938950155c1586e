/*
 * test_pay_state.c - an order's money state (src/pay/pay_state.c):
 * pay_next() from every state for every event, in direct and escrow
 * mode, against the table written out here (not computed the way the
 * function computes it); the names both ways; the account references
 * of account-format.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/conf.h"
#include "pay/pay.h"

#define X	(-1)	/* refused */

/* What a payment does from each state, by the sum after it: short of
   the total (due 100, paid 40), exactly (100), over (130). */
static const int received[PAY_NSTATES][3] = {
	[PAY_UNPAID] =		{ PAY_PART, PAY_PAID, PAY_OVER },
	[PAY_PART] =		{ PAY_PART, PAY_PAID, PAY_OVER },
	[PAY_PAID] =		{ X, X, PAY_OVER },	/* paid 100: more */
	[PAY_OVER] =		{ X, X, PAY_OVER },
	[PAY_REFUND_DUE] =	{ PAY_REFUND_DUE, PAY_REFUND_DUE,
				  PAY_REFUND_DUE },
	[PAY_PAYOUT_DUE] =	{ X, X, X },
	[PAY_REFUNDED] =	{ PAY_REFUND_DUE, PAY_REFUND_DUE,
				  PAY_REFUND_DUE },
	[PAY_PAID_OUT] =	{ X, X, X },
};

/* The order's other events from each state: closed, delivered (direct),
   delivered (escrow), refunded, paid out, credited (an over-payment's
   credit returned). */
static const int other[PAY_NSTATES][6] = {
	[PAY_UNPAID] =	   { PAY_UNPAID, PAY_UNPAID, PAY_UNPAID, X, X, X },
	[PAY_PART] =	   { PAY_REFUND_DUE, PAY_PART, PAY_PART, X, X, X },
	[PAY_PAID] =	   { PAY_REFUND_DUE, PAY_PAID, PAY_PAYOUT_DUE, X, X,
			     X },
	[PAY_OVER] =	   { PAY_REFUND_DUE, PAY_OVER, PAY_PAYOUT_DUE, X, X,
			     PAY_PAID },
	[PAY_REFUND_DUE] = { PAY_REFUND_DUE, X, X, PAY_REFUNDED, X, X },
	[PAY_PAYOUT_DUE] = { X, PAY_PAYOUT_DUE, PAY_PAYOUT_DUE, X,
			     PAY_PAID_OUT, X },
	[PAY_REFUNDED] =   { PAY_REFUNDED, X, X, X, X, X },
	[PAY_PAID_OUT] =   { X, PAY_PAID_OUT, PAY_PAID_OUT, X, X,
			     PAY_PAID_OUT },
};

static int
next(int from, int ev, long long paid, int escrow)
{
	enum pay_state	 to = PAY_NSTATES;

	if (pay_next(from, ev, 100, paid, escrow, &to) == -1) {
		cr_assert_eq(to, PAY_NSTATES, "a refusal leaves *to alone");
		return X;
	}
	return to;
}

Test(pay_state, a_payment_from_every_state)
{
	static const long long	 sums[3] = { 40, 100, 130 };
	int			 s, i, escrow;

	for (s = 0; s < PAY_NSTATES; s++)
		for (i = 0; i < 3; i++)
			for (escrow = 0; escrow < 2; escrow++) {
				int	 want = received[s][i];

				/* from paid or over, the sum is at least
				   the total already: 40 and 100 cannot be */
				if ((s == PAY_PAID || s == PAY_OVER) &&
				    i < 2)
					continue;
				cr_expect_eq(next(s, PAY_EV_RECEIVED, sums[i],
				    escrow), want, "%s + payment to %lld "
				    "(escrow %d)", pay_state_name(s), sums[i],
				    escrow);
			}
	/* paid 100 then 30 more: over */
	cr_expect_eq(next(PAY_PAID, PAY_EV_RECEIVED, 130, 0), PAY_OVER);
}

Test(pay_state, the_orders_events_from_every_state)
{
	int	 s;

	for (s = 0; s < PAY_NSTATES; s++) {
		cr_expect_eq(next(s, PAY_EV_CLOSED, 100, 0), other[s][0],
		    "%s closed", pay_state_name(s));
		cr_expect_eq(next(s, PAY_EV_DELIVERED, 100, 0), other[s][1],
		    "%s delivered, direct", pay_state_name(s));
		cr_expect_eq(next(s, PAY_EV_DELIVERED, 100, 1), other[s][2],
		    "%s delivered, escrow", pay_state_name(s));
		cr_expect_eq(next(s, PAY_EV_REFUNDED, 100, 0), other[s][3],
		    "%s refunded", pay_state_name(s));
		cr_expect_eq(next(s, PAY_EV_PAID_OUT, 100, 1), other[s][4],
		    "%s paid out", pay_state_name(s));
		cr_expect_eq(next(s, PAY_EV_CREDITED, 130, 0), other[s][5],
		    "%s credited, direct", pay_state_name(s));
		cr_expect_eq(next(s, PAY_EV_CREDITED, 130, 1), other[s][5],
		    "%s credited, escrow", pay_state_name(s));
	}
}

Test(pay_state, out_of_range_is_refused)
{
	enum pay_state	 to = PAY_PAID;

	cr_expect_eq(pay_next(PAY_NSTATES, PAY_EV_CLOSED, 1, 1, 0, &to), -1);
	cr_expect_eq(pay_next(PAY_PAID, PAY_NEVENTS, 1, 1, 0, &to), -1);
	cr_expect_eq(to, PAY_PAID);
}

Test(pay_state, names_both_ways)
{
	static const char *const names[] = { "unpaid", "part", "paid", "over",
	    "refund-due", "payout-due", "refunded", "paid-out" };
	int	 s;

	for (s = 0; s < PAY_NSTATES; s++) {
		cr_expect_str_eq(pay_state_name(s), names[s]);
		cr_expect_eq(pay_state_parse(names[s]), s);
	}
	cr_expect_null(pay_state_name(PAY_NSTATES));
	cr_expect_eq(pay_state_parse("Paid"), -1);
	cr_expect_eq(pay_state_parse(NULL), -1);
}

Test(pay_state, account_references)
{
	struct conf	 c;

	memset(&c, 0, sizeof(c));
	c.payments.account_prefix = "";
	c.payments.account_suffix = "";
	cr_expect_eq(pay_account_ref(&c, "43"), 43);
	cr_expect_eq(pay_account_ref(&c, " 43 "), 43);
	cr_expect_eq(pay_account_ref(&c, "4 3"), -1);
	cr_expect_eq(pay_account_ref(&c, "0"), -1);
	cr_expect_eq(pay_account_ref(&c, ""), -1);
	cr_expect_eq(pay_account_ref(&c, NULL), -1);
	cr_expect_eq(pay_account_ref(&c, "1234567890123456"), -1);
	c.payments.account_prefix = "MB";
	cr_expect_eq(pay_account_ref(&c, "MB43"), 43);
	cr_expect_eq(pay_account_ref(&c, "mb43"), 43);
	cr_expect_eq(pay_account_ref(&c, "43"), -1);
	cr_expect_eq(pay_account_ref(&c, "MB"), -1);
	c.payments.account_suffix = "-K";
	cr_expect_eq(pay_account_ref(&c, "MB7-k"), 7);
	cr_expect_eq(pay_account_ref(&c, "MB7"), -1);
}
