/*
 * market_dispute.c - something went wrong with an order on its way or
 * delivered: PROBLEM opens a dispute, which the order's parties and the
 * admins are told of; an admin decides it for one side (marketctl
 * dispute close, the daemon's POST /admin/dispute), which tells both.
 *
 * Commands, with an exchange each ("> " what a phone sends, "< " what it
 * gets; replies are templates market-* of the sender's language):
 *
 *   PROBLEM order text	(the buyer, the seller or the transporter of a
 *			 sent or delivered order -- through hubs, its
 *			 current carrier or an operator of its current
 *			 leg's hubs; an agent for a member with FOR, as
 *			 any command)
 *	> PROBLEM 43 2 bags wet and torn
 *	< Dispute #80 on order #43 is open. The other party and the
 *	  admins are told; an admin decides and tells you both.
 *	The other party is told (market-problem-party, with the sender's
 *	name and text); when the transporter opens it, the buyer and the
 *	seller both are.  Every admin (host->role_users(MB_ROLE_ADMIN):
 *	the conf's admins and users of role admin; none on a host without
 *	it) gets market-problem-admin with the sender's number and the
 *	command that closes it.  The row (market_disputes: ref from the
 *	one ref sequence, the order, the opener and her side buyer, seller
 *	or other, the text as typed, state open) is market_store.c's.
 *
 *	> PROBLEM 43 still nobody called me
 *	< Order #43 already has dispute #80 open; the admins have it and
 *	  will tell you their decision.
 *	A second PROBLEM while a dispute of the order is open, by any of
 *	its parties, adds no row and tells nobody else: one order, one
 *	open dispute, one decision (the admins read the first text and
 *	call the parties; a flood of texts would bury it).  After it is
 *	closed, PROBLEM opens a new one.
 *
 *	> PROBLEM 43 late		(order 43 still pending or accepted)
 *	< Order #43 has not been sent: there is nothing to report yet. To
 *	  stop it send CANCEL 43.
 *	Pending and accepted orders are refused with their next step
 *	(the seller of a pending order: REJECT; else CANCEL); an order that
 *	ended unsent (rejected, expired, cancelled) gets its state
 *	(market_order_refuse).  Anyone but its parties: market-not-yours.
 *	No text, or a text above MARKET_PROBLEM_LEN bytes: the usage, or
 *	market-problem-long.
 *
 * An order sent through hubs (market_leg.c): the text is also written on
 * its current leg (market_legs.problem) and that leg's hub's operators
 * are told (market-leg-problem-hub).
 *
 * Closing is the daemon's (src/admin/dispute.c): it writes state closed,
 * closed, decision and note, and tells the buyer and the seller
 * market-dispute-closed-buyer or -seller through the outbox.
 */
#include <stddef.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

#define MARKET_ADMINS_MAX	32	/* admins told of a dispute */

/* Order o's parties besides the opener: 1..2 into to[]. */
static size_t
market_dispute_others(const struct market_order *o, const char *side,
    const char *to[2])
{
	if (strcmp(side, "buyer") == 0) {
		to[0] = o->seller;
		return 1;
	}
	if (strcmp(side, "seller") == 0) {
		to[0] = o->buyer;
		return 1;
	}
	to[0] = o->buyer;
	to[1] = o->seller;
	return 2;
}

/*
 * The admins told of dispute d: each once, none of them the opener or a
 * party (they were told already).  MB_OK or MB_FAIL.
 */
static int
market_dispute_admins(struct market_call *c, const struct market_order *o,
    long long d, const char *text)
{
	const struct mb_host	*h = c->host;
	const char		*admin[MARKET_ADMINS_MAX];
	struct market_args	 a = { .n = 0 };
	char			 name[MARKET_NAME_LEN];
	char			 phone[MARKET_MSISDN_LEN];
	long			 n, i;

	if (!MARKET_HOST_HAS(h, role_users)) {
		h->log(c->ctx, MB_LOG_WARNING, "market: dispute %lld: this "
		    "marketbox cannot list its admins: none told", d);
		return MB_OK;
	}
	if ((n = h->role_users(c->ctx, MB_ROLE_ADMIN, admin,
	    MARKET_ADMINS_MAX)) < 0)
		return MB_FAIL;
	if (market_contact(c, c->actor, phone, sizeof(phone)) == -1)
		return MB_FAIL;
	market_person(c, c->actor, name, sizeof(name));
	market_arg_num(&a, "dispute", d);
	market_arg_num(&a, "ref", o->ref);
	market_arg(&a, "commodity", o->commodity);
	market_arg(&a, "name", name);
	market_arg(&a, "phone", phone);
	market_arg(&a, "reason", text);
	for (i = 0; i < n; i++) {
		if (strcmp(admin[i], c->actor) == 0 ||
		    strcmp(admin[i], o->buyer) == 0 ||
		    strcmp(admin[i], o->seller) == 0 ||
		    strcmp(admin[i], o->transporter) == 0)
			continue;
		if (market_notify(c, admin[i], "market-problem-admin", &a) !=
		    MB_OK)
			return MB_FAIL;
	}
	return MB_OK;
}

/*
 * PROBLEM order text: the sender's side of order o, or refused; a
 * dispute opened, or the open one named.
 */
int
market_problem(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	struct market_dispute	 d;
	const char		*to[2], *side, *text;
	char			 name[MARKET_NAME_LEN];
	long long		 ref;
	size_t			 n, i;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) < 2 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	text = host->rest(ctx, 1);
	if (text == NULL || text[0] == '\0')
		return MB_USAGE;
	if (strlen(text) > MARKET_PROBLEM_LEN) {
		market_arg_num(&a, "ref", ref);
		market_arg_num(&a, "max", MARKET_PROBLEM_LEN);
		return market_reply(&c, "market-problem-long", &a);
	}
	if ((rc = market_order_find(&c, ref, &o)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if (strcmp(o.buyer, c.actor) == 0)
		side = "buyer";
	else if (strcmp(o.seller, c.actor) == 0)
		side = "seller";
	else if (o.transporter[0] != '\0' &&
	    strcmp(o.transporter, c.actor) == 0)
		side = "other";
	else if ((rc = market_leg_operator(&c, &o)) == 1)
		side = "other";		/* a hub's operator (market_leg.c) */
	else
		return rc == -1 ? MB_FAIL :
		    market_reply_ref(&c, "market-not-yours", ref);

	/* before it leaves there is nothing to dispute: its next step */
	market_arg_num(&a, "ref", ref);
	if (strcmp(o.state, "pending") == 0)
		return market_reply(&c, strcmp(side, "seller") == 0 ?
		    "market-problem-wait-seller" : "market-problem-wait", &a);
	if (strcmp(o.state, "accepted") == 0)
		return market_reply(&c, "market-problem-wait", &a);
	if (strcmp(o.state, "sent") != 0 && strcmp(o.state, "delivered") != 0)
		return market_order_refuse(&c, &o);

	if ((rc = market_store_dispute_open_of(&c, ref, &d)) == -1)
		return MB_FAIL;
	if (rc == 1) {
		market_arg_num(&a, "dispute", d.ref);
		return market_reply(&c, "market-problem-open", &a);
	}
	memset(&d, 0, sizeof(d));
	if ((d.ref = host->ref_next(ctx, "dispute")) <= 0)
		return MB_FAIL;
	d.order_ref = ref;
	market_copy(d.opener, sizeof(d.opener), c.actor);
	market_copy(d.side, sizeof(d.side), side);
	d.created = c.now;
	if (market_store_dispute_insert(&c, &d, text) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: dispute %lld opened on order "
	    "%lld by the %s %s", d.ref, ref, side, c.actor);

	market_arg_num(&a, "dispute", d.ref);
	if (market_reply(&c, "market-problem-opened", &a) != MB_OK)
		return MB_FAIL;
	a.n = 0;
	market_person(&c, c.actor, name, sizeof(name));
	market_arg_num(&a, "dispute", d.ref);
	market_arg_num(&a, "ref", ref);
	market_arg(&a, "commodity", o.commodity);
	market_arg(&a, "name", name);
	market_arg(&a, "reason", text);
	n = market_dispute_others(&o, side, to);
	for (i = 0; i < n; i++)
		if (market_notify(&c, to[i], "market-problem-party", &a) !=
		    MB_OK)
			return MB_FAIL;
	/* on its current leg too, its hub told (market_leg.c) */
	if (market_leg_problem(&c, &o, d.ref, text) == -1)
		return MB_FAIL;
	return market_dispute_admins(&c, &o, d.ref, text);
}
