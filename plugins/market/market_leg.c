/*
 * market_leg.c - an order through the county -> township -> village
 * chain of hubs: SENT makes its legs (market_leg_sent, SENT's hook), each
 * hub's operator receives it from a carrier with the carrier's code (IN)
 * and sends it on with the next carrier (OUT); the last leg ends at the
 * buyer's door with the buyer's code (DELIVERED, market_delivery.c) or at
 * the village point when the buyer collects it (PICKUP).
 *
 * Commands, with an exchange each ("> " what a phone sends, "< " what it
 * gets; replies are templates market-* of the sender's language):
 *
 *   SENT order transporter-phone	(the seller; market_delivery.c)
 *	> SENT 43 0722000111
 *	< Order #43 is on its way. The buyer has a code to confirm delivery.
 *	When the host has hubs (host->route) and the route from the offer's
 *	market (else the seller's) to the buyer's place has any, the order
 *	goes through them: legs 1 .. n+1 for n hubs are made (market_legs),
 *	the first moving with the transporter, who gets the pickup, the
 *	first hub and his handover code (market-leg-first); the first hub's
 *	operators are told it is coming (market-leg-coming).  The buyer
 *	gets the delivery code as without hubs.  No transporter, no route
 *	(one hub serves both places, a place without a hub, chains that
 *	never meet) or a host without hubs: SENT as without hubs.
 *	The buyer's place is the market of the want the order counts
 *	toward, else the host's user_place() of him (an active member's
 *	service point, else the market he registered with), else the
 *	market of his newest post; a buyer with none of these gets the
 *	order door to door.
 *
 *   IN order code			(an operator of the hub the parcel
 *					 is on its way to)
 *	> IN 43 5821
 *	< Order #43 received at Kiambu township hub. Send it on with OUT 43
 *	  and the next carrier's phone.
 *	The leg is done; the buyer is told where the parcel is
 *	(market-leg-arrived, the hub's name in the buyer's language; at
 *	the last hub market-leg-arrived-last: collect it, or wait).  A
 *	wrong code is counted on the leg; after code-tries wrong codes the
 *	leg is locked (market-leg-code-locked, the carrier told): the rule
 *	of the delivery code, leg by leg.  Then only a dispute (PROBLEM)
 *	moves it.
 *
 *   OUT order carrier-phone		(an operator of the hub holding it)
 *	> OUT 43 0733000444
 *	< Order #43 left Kiambu township hub with +254733000444; they have
 *	  the handover code.
 *	The next leg moves with that carrier (the rule of SENT's
 *	transporter: a registered user or a number of transporter-
 *	prefixes), who gets a new code and where to take it: the next hub
 *	(its operators told, market-leg-coming) or, on the last leg, the
 *	buyer (the buyer told who brings it, market-leg-out-buyer; the
 *	carrier ends it with DELIVERED 43 and the buyer's code).  The
 *	order's transporter is its current carrier throughout.
 *	> OUT 43 0700000002		(the buyer's own phone: he fetches it)
 *	< Order #43 handed to its buyer at Tigoni hub. The buyer confirms
 *	  it with DELIVERED 43.
 *	Not refused, at any hub: the chain ends there (this leg done
 *	without a carrier, as PICKUP's, so no late leg is counted on the
 *	buyer; the legs after it done unreached; the order's transporter
 *	is the buyer), the buyer told to check it and confirm
 *	(market-leg-out-self); the order stays sent for his DELIVERED,
 *	asked delivery-remind and completed delivery-complete after this,
 *	as without hubs.  No handover code: nobody hands it on.
 *
 *   PICKUP order code			(at the last hub, the village point:
 *					 an operator of it, or the buyer's
 *					 service point agent)
 *	> PICKUP 43 4831
 *	< Order #43 delivered. Thank you!
 *	The buyer collects: the buyer's delivery code, its wrong tries and
 *	lock as DELIVERED's (market-wrong-code, market-code-locked); the
 *	last leg done and the order delivered through market_order_move,
 *	as DELIVERED does (both records, the host's trade_done).  The
 *	buyer is told who confirmed it and where: the hub's operator
 *	(market-leg-pickup-buyer) or his service point's agent
 *	(market-leg-pickup-agent), not DELIVERED's "by the transporter".
 *
 *   DELIVERED order [code]		(market_delivery.c)
 *	> DELIVERED 43			(the parcel still on its way to
 *					 Ndeiya hub)
 *	< Order #43 has not reached its last hub yet: it is on its way to
 *	  Ndeiya hub with +254711000333. It can be confirmed once it
 *	  leaves the last hub; the buyer is told.
 *	While a leg to a hub is not done DELIVERED is refused, by the
 *	buyer as by a carrier (no code try counted), with where it is
 *	(market-leg-not-arrived-moving, -at).  From the last hub on
 *	(waiting there or on the last leg) it works as without hubs and
 *	the last leg is closed with the order (done, ended now), as the
 *	timer's completion (delivery-complete) closes it.
 *
 * Refusals name the next step: an order without legs (market-leg-no-
 * hubs: DELIVERED), a sender who is no operator of the hub
 * (market-leg-not-operator), the parcel elsewhere (where it is and who
 * acts: market-leg-moving, -at, -last), a wrong code (tries left), a
 * locked leg.
 *
 * PROBLEM (market_dispute.c) on an order with legs: its current carrier
 * (the order's transporter) and the operators of its current leg's hubs
 * may send it (market_leg_operator); the text is written on the current
 * leg (legs.problem) and its hub's operators are told
 * (market_leg_problem, market-leg-problem-hub).
 *
 * A leg's due_at is when its next handover is due, from leg-due-county,
 * -township, -village (the level of the hub it goes to; the last leg:
 * of the hub it leaves): set for a moving leg when it starts (its
 * arrival) and for the leg after a hub that received the parcel (its
 * departure); NULL for legs not reached; a done leg keeps its last one
 * (schema step 10: a late leg is one that ended after it).  The store
 * sets started and ended as a leg's state moves, and puts reminded back
 * to 0 when its due time changes.
 * The order's own delivery timers (remind_at, expires_at, set by SENT)
 * are held while a leg to a hub is open (market_store.c's sweep query)
 * and start again from the moment the parcel reaches the buyer's side
 * (market_store_order_rearm): IN at the last hub, OUT on the last leg,
 * OUT to the buyer himself; the buyer is asked delivery-remind and the
 * order completed delivery-complete after that, however long the road.
 * The legs of an order no longer sent are history: DELIVERED, PICKUP
 * and the timer's completion close the last leg; an order cancelled by
 * a dispute keeps the state the last handover left, so what is open is
 * what is not done of an order still sent.
 *
 * Late legs (market.c's sweep, market_leg_press): an open leg (waiting
 * at a hub with its departure due, or moving) of an order still sent is
 * pressed step by step from its due_at, reminded counting the steps
 * taken (a restart loses none; a new due time starts again from 0):
 *   1 at due_at: its holder.  A moving leg's carrier
 *	(market-leg-late-carrier: hand it over at the hub or PROBLEM;
 *	the last leg: market-leg-late-carrier-last, deliver and
 *	DELIVERED); a waiting leg's hub's operators (market-leg-late-hub:
 *	OUT, at the last hub or PICKUP).
 *   2 at due_at + leg-escalate: the operators of the hub it goes to
 *	(market-leg-overdue-moving), waits at (-overdue-at) or, on the
 *	last leg, left (-overdue-last), with the carrier to call; and the
 *	buyer, once per late handover, kindly: late, where it was last
 *	(market-leg-late-buyer).
 *   3 at due_at + leg-escalate-admins: every admin (role_users), with
 *	where it was last and whom to call (market-leg-late-admin).
 * One step per leg per sweep, oldest due first, within the sweep's
 * budget; a leg handed over since the query is left alone.  An open
 * dispute does not stop them: the parcel is still somewhere.
 */
#include <stdio.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

/* --- the hubs, through the host ------------------------------------------ */

/* 1 if the host has the delivery chain's calls. */
static int
market_leg_host(const struct mb_host *h)
{
	return MARKET_HOST_HAS(h, route) && h->hub != NULL &&
	    h->hub_name != NULL && h->market_hub != NULL;
}

/* Hub code as shown to to (NULL: the sender): its name, else the code. */
static void
market_leg_hub_name(struct market_call *c, const char *to, const char *code,
    char *buf, size_t len)
{
	const char	*n = c->host->hub_name(c->ctx, to, code);

	market_copy(buf, len, n != NULL ? n : code);
}

/* 1 if phone is an operator of hub code ("" none: 0). */
static int
market_leg_is_operator(struct market_call *c, const char *code,
    const char *phone)
{
	struct mb_hub	 h;
	size_t		 i;

	if (code[0] == '\0')
		return 0;
	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	if (c->host->hub(c->ctx, code, &h) != 1)
		return 0;
	for (i = 0; i < h.noperators && i < MB_HUB_OPERATORS; i++)
		if (h.operators[i] != NULL && strcmp(h.operators[i], phone) == 0)
			return 1;
	return 0;
}

/*
 * Hub code's operators told tmpl with a, but skip: MB_OK or MB_FAIL.
 * With named, each reads the hub's name in her language as {hub}.
 */
static int
market_leg_tell_hub(struct market_call *c, const char *code,
    const char *skip, const char *tmpl, const struct market_args *a,
    int named)
{
	struct market_args	 b;
	struct mb_hub		 h;
	char			 ops[MB_HUB_OPERATORS][MARKET_MSISDN_LEN];
	char			 name[MARKET_NAME_LEN];
	size_t			 i, n = 0;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	if (code[0] == '\0' || c->host->hub(c->ctx, code, &h) != 1)
		return MB_OK;
	/* the host's strings live until the handler returns, but copy them
	   before notify() lends others */
	for (i = 0; i < h.noperators && i < MB_HUB_OPERATORS; i++)
		if (h.operators[i] != NULL)
			market_copy(ops[n++], sizeof(ops[0]), h.operators[i]);
	if (n == 0)
		c->host->log(c->ctx, MB_LOG_WARNING, "market: hub %s has no "
		    "operator to tell %s", code, tmpl);
	for (i = 0; i < n; i++) {
		if (skip != NULL && strcmp(ops[i], skip) == 0)
			continue;
		/* a's values are its own numbers or the caller's strings:
		   the copy's pointers stay good while a lives */
		b = *a;
		if (named) {
			market_leg_hub_name(c, ops[i], code, name,
			    sizeof(name));
			market_arg(&b, "hub", name);
		}
		if (market_notify(c, ops[i], tmpl, &b) != MB_OK)
			return MB_FAIL;
	}
	return MB_OK;
}

/* Seconds a leg to (or, "" the buyer, from) hub code may take. */
static long long
market_leg_due(struct market_call *c, const char *code)
{
	struct mb_hub	 h;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	if (c->host->hub(c->ctx, code, &h) == 1 && h.level != NULL) {
		/* the national hub is a long haul as a county's is */
		if (strcmp(h.level, "county") == 0 ||
		    strcmp(h.level, "national") == 0)
			return c->conf->leg_due_county;
		if (strcmp(h.level, "township") == 0)
			return c->conf->leg_due_township;
	}
	return c->conf->leg_due_village;
}

/* Where leg l's handover happens: its hub, or the hub it leaves. */
static const char *
market_leg_where(const struct market_leg *l)
{
	return l->to_hub[0] != '\0' ? l->to_hub : l->from_hub;
}

/* The current leg of n: the first not done (n when all are). */
static size_t
market_leg_current(const struct market_leg *l, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i].state, "done") != 0)
			break;
	return i;
}

/* The order's placeholders for a leg notice: ref, qty, unit, commodity. */
static void
market_leg_args(const struct market_order *o, struct market_args *a)
{
	market_arg_num(a, "ref", o->ref);
	market_arg_num(a, "qty", o->qty);
	market_arg(a, "unit", o->unit);
	market_arg(a, "commodity", o->commodity);
}

/*
 * The carrier of leg l told where to collect it (from, a hub, or the
 * seller's place for the first leg), where to take it and the code;
 * the next hub's operators told it is coming, or the buyer who brings it.
 */
static int
market_leg_start(struct market_call *c, const struct market_order *o,
    const struct market_leg *l)
{
	struct market_args	 a = { .n = 0 };
	char			 from[MARKET_NAME_LEN], to[MARKET_NAME_LEN];
	char			 phone[MARKET_MSISDN_LEN];
	const char		*tmpl;

	market_leg_args(o, &a);
	market_arg(&a, "code", l->code);
	if (l->seq == 1) {
		if (market_contact(c, o->seller, phone, sizeof(phone)) == -1)
			return MB_FAIL;
		market_market_name(c, o->market, from, sizeof(from));
		market_arg(&a, "phone", phone);
		market_arg(&a, "market", from);
		tmpl = "market-leg-first";
	} else {
		market_leg_hub_name(c, l->carrier, l->from_hub, from,
		    sizeof(from));
		market_arg(&a, "from", from);
		tmpl = "market-leg-carrier";
	}
	if (l->to_hub[0] != '\0') {
		market_leg_hub_name(c, l->carrier, l->to_hub, to, sizeof(to));
		market_arg(&a, "hub", to);
	} else {
		if (market_contact(c, o->buyer, phone, sizeof(phone)) == -1)
			return MB_FAIL;
		market_arg(&a, "buyer_phone", phone);
		tmpl = "market-leg-carrier-last";
	}
	if (market_notify(c, l->carrier, tmpl, &a) != MB_OK)
		return MB_FAIL;

	a.n = 0;
	market_leg_args(o, &a);
	market_arg(&a, "phone", l->carrier);
	if (l->to_hub[0] == '\0') {
		market_leg_hub_name(c, o->buyer, l->from_hub, from,
		    sizeof(from));
		market_arg(&a, "hub", from);
		return market_notify(c, o->buyer, "market-leg-out-buyer", &a);
	}
	return market_leg_tell_hub(c, l->to_hub, NULL, "market-leg-coming",
	    &a, 1);
}

/* --- SENT's hook ----------------------------------------------------------- */

/*
 * The buyer's place, a market code ("" none: door to door): the market
 * of the want the order counts toward, else the host's user_place (a
 * member's service point, else the market he gave), else the market of
 * his newest post.  0 or -1.
 */
static int
market_leg_place(struct market_call *c, const struct market_order *o,
    char *buf, size_t len)
{
	const char	*p;

	/* "" matches no post's msisdn: the want alone */
	if (o->want != 0 && market_store_buyer_place(c, "", o->want, buf,
	    len) == -1)
		return -1;
	if (o->want != 0 && buf[0] != '\0')
		return 0;
	if (MARKET_HOST_HAS(c->host, user_place) &&
	    (p = c->host->user_place(c->ctx, o->buyer)) != NULL &&
	    p[0] != '\0') {
		market_copy(buf, len, p);
		return 0;
	}
	return market_store_buyer_place(c, o->buyer, 0, buf, len);
}

int
market_leg_sent(struct market_call *c, struct market_order *o,
    const char *phone, int *rc)
{
	const struct mb_host	*h = c->host;
	const char		*route[MB_ROUTE_MAX], *from;
	char			 hubs[MB_ROUTE_MAX][MARKET_CODE_LEN];
	char			 to[MARKET_CODE_LEN];
	struct market_leg	 l;
	long			 n, i;

	*rc = MB_OK;
	if (!market_leg_host(h) || phone == NULL || phone[0] == '\0' ||
	    o->parent != 0)
		return 0;
	from = o->market[0] != '\0' ? o->market : h->sender_market(c->ctx);
	if (from == NULL || from[0] == '\0')
		return 0;
	if (market_leg_place(c, o, to, sizeof(to)) == -1) {
		*rc = MB_FAIL;
		return 1;
	}
	if (to[0] == '\0')
		return 0;
	if ((n = h->route(c->ctx, from, to, route, MB_ROUTE_MAX)) <= 0) {
		if (n < 0)
			h->log(c->ctx, MB_LOG_WARNING, "market: order %lld: "
			    "the route from %s to %s has more than %d hubs: "
			    "sent door to door", o->ref, from, to,
			    MB_ROUTE_MAX);
		return 0;
	}
	for (i = 0; i < n; i++)
		market_copy(hubs[i], sizeof(hubs[i]), route[i]);

	/* the order is sent as always (the buyer's delivery code), then
	   its transporter is the first leg's carrier */
	if ((*rc = market_order_move(c, o, "sent", NULL, NULL)) != MB_OK)
		return 1;
	*rc = MB_FAIL;
	market_copy(o->transporter, sizeof(o->transporter), phone);
	if (market_store_order_carrier(c, o->ref, phone) == -1)
		return 1;
	for (i = 0; i <= n; i++) {
		memset(&l, 0, sizeof(l));
		l.order_ref = o->ref;
		l.seq = (int)i + 1;
		if (i > 0)
			market_copy(l.from_hub, sizeof(l.from_hub),
			    hubs[i - 1]);
		if (i < n)
			market_copy(l.to_hub, sizeof(l.to_hub), hubs[i]);
		if (i == 0) {
			market_copy(l.state, sizeof(l.state), "moving");
			market_copy(l.carrier, sizeof(l.carrier), phone);
			if (market_order_code(c, l.code, sizeof(l.code)) == -1)
				return 1;
			l.due_at = c->now + market_leg_due(c, hubs[0]);
		} else
			market_copy(l.state, sizeof(l.state), "waiting");
		if (market_store_leg_insert(c, &l) == -1)
			return 1;
		if (i == 0 && market_leg_start(c, o, &l) != MB_OK)
			return 1;
	}
	h->log(c->ctx, MB_LOG_INFO, "market: order %lld: %ld legs through "
	    "%s .. %s, first with %s", o->ref, n + 1, hubs[0], hubs[n - 1],
	    phone);
	*rc = MB_OK;
	return 1;
}

/* --- IN, OUT, PICKUP ------------------------------------------------------- */

/*
 * The order of word 0 with its legs, the sender told when it has none or
 * is not sent: 1 (o, l, *n set), 0 refused, -1.
 */
static int
market_leg_find(struct market_call *c, struct market_order *o,
    struct market_leg *l, size_t *n)
{
	long long	 ref;
	int		 rc;

	if (!market_ref_arg(c, 0, &ref))
		return 2;
	if ((rc = market_order_find(c, ref, o)) != 1)
		return rc;
	if (market_store_legs(c, ref, l, MARKET_LEGS_MAX, n) == -1)
		return -1;
	if (*n == 0)
		return market_reply_ref(c, "market-leg-no-hubs", ref) ==
		    MB_OK ? 0 : -1;
	if (strcmp(o->state, "sent") != 0)
		return market_order_refuse(c, o) == MB_OK ? 0 : -1;
	return 1;
}

/* MB_* of a market_leg_find result other than 1. */
static int
market_leg_result(int rc)
{
	return rc == 2 ? MB_USAGE : rc == 0 ? MB_OK : MB_FAIL;
}

/* 1 if the sender operates any hub of the legs. */
static int
market_leg_any_operator(struct market_call *c, const struct market_leg *l,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (market_leg_is_operator(c, l[i].to_hub, c->actor))
			return 1;
	return 0;
}

/*
 * The parcel is not where the command needs it: where it is and who acts
 * (to an operator of the route), or who may (to anyone else).
 */
static int
market_leg_refuse(struct market_call *c, const struct market_order *o,
    const struct market_leg *l, size_t n, size_t cur)
{
	struct market_args	 a = { .n = 0 };
	char			 hub[MARKET_NAME_LEN];
	const struct market_leg	*k = &l[cur < n ? cur : n - 1];

	/* a waiting leg's parcel is at the hub it leaves */
	market_arg_num(&a, "ref", o->ref);
	market_leg_hub_name(c, NULL, strcmp(k->state, "waiting") == 0 ?
	    k->from_hub : market_leg_where(k), hub, sizeof(hub));
	market_arg(&a, "hub", hub);
	if (!market_leg_any_operator(c, l, n))
		return market_reply(c, "market-leg-not-operator", &a);
	/* a leg the buyer fetched has no carrier: the order's transporter
	   (the buyer) holds it */
	market_arg(&a, "phone", k->carrier[0] != '\0' ? k->carrier :
	    o->transporter);
	if (strcmp(k->state, "waiting") == 0)
		return market_reply(c, "market-leg-at", &a);
	return market_reply(c, k->to_hub[0] != '\0' ? "market-leg-moving" :
	    "market-leg-last", &a);
}

/* Write leg l, read in state from: MB_OK, or MB_FAIL (also when it moved). */
static int
market_leg_write(struct market_call *c, const struct market_leg *l,
    const char *from)
{
	int	 rc;

	if ((rc = market_store_leg_update(c, l, from)) == 1)
		return MB_OK;
	if (rc == 0)
		c->host->log(c->ctx, MB_LOG_ERROR, "market: order %lld: leg "
		    "%d was not %s", l->order_ref, l->seq, from);
	return MB_FAIL;
}

int
market_in(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_leg	 l[MARKET_LEGS_MAX], *k;
	struct market_args	 a = { .n = 0 };
	char			 hub[MARKET_NAME_LEN];
	const char		*code;
	size_t			 n, cur;
	int			 rc, tries, last;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 2 || !market_leg_host(host))
		return MB_USAGE;
	if ((rc = market_leg_find(&c, &o, l, &n)) != 1)
		return market_leg_result(rc);
	cur = market_leg_current(l, n);
	if (cur >= n || strcmp(l[cur].state, "moving") != 0 ||
	    l[cur].to_hub[0] == '\0' ||
	    !market_leg_is_operator(&c, l[cur].to_hub, c.actor))
		return market_leg_refuse(&c, &o, l, n, cur);
	k = &l[cur];
	market_arg_num(&a, "ref", o.ref);
	market_leg_hub_name(&c, NULL, k->to_hub, hub, sizeof(hub));
	market_arg(&a, "hub", hub);
	market_arg(&a, "phone", k->carrier);

	/* the carrier's code: counted, locked as the delivery code */
	if (k->code_tries >= c.conf->code_tries)
		return market_reply(&c, "market-leg-code-locked", &a);
	code = host->arg(ctx, 1);
	if (code == NULL || strcmp(code, k->code) != 0) {
		if (market_store_leg_code_try(&c, o.ref, k->seq, &tries) == -1)
			return MB_FAIL;
		host->log(ctx, MB_LOG_WARNING, "market: order %lld leg %d: "
		    "wrong code %d of %d from %s", o.ref, k->seq, tries,
		    c.conf->code_tries, c.actor);
		if (tries >= c.conf->code_tries) {
			if (market_reply(&c, "market-leg-code-locked", &a) !=
			    MB_OK)
				return MB_FAIL;
			return market_notify(&c, k->carrier,
			    "market-leg-code-locked-carrier", &a);
		}
		market_arg_num(&a, "left", c.conf->code_tries - tries);
		return market_reply(&c, "market-leg-wrong-code", &a);
	}

	/* received: this leg done, the next one due to leave */
	market_copy(k->state, sizeof(k->state), "done");
	if (market_leg_write(&c, k, "moving") != MB_OK)
		return MB_FAIL;
	if (cur + 1 < n) {
		l[cur + 1].due_at = c.now + market_leg_due(&c, k->to_hub);
		if (market_leg_write(&c, &l[cur + 1], "waiting") != MB_OK)
			return MB_FAIL;
	}
	host->log(ctx, MB_LOG_INFO, "market: order %lld in at %s from %s",
	    o.ref, k->to_hub, k->carrier);
	/* the last hub: sent on to the door, or collected; the buyer's
	   side from now, so the order's delivery timers start again here
	   (SENT's would be long past after a long road) */
	last = cur + 2 == n;
	if (last && market_store_order_rearm(&c, o.ref) == -1)
		return MB_FAIL;

	if (market_reply(&c, last ? "market-leg-in-last" : "market-leg-in-ok",
	    &a) != MB_OK)
		return MB_FAIL;
	a.n = 0;
	market_leg_args(&o, &a);
	market_leg_hub_name(&c, o.buyer, k->to_hub, hub, sizeof(hub));
	market_arg(&a, "hub", hub);
	return market_notify(&c, o.buyer, last ? "market-leg-arrived-last" :
	    "market-leg-arrived", &a);
}

/*
 * OUT with the buyer's own phone: the buyer fetched it from the hub.  The
 * chain ends there: the leg from this hub is done with the buyer as its
 * carrier, the legs after it (never reached) done too; the order stays
 * sent for the buyer's DELIVERED (asked after delivery-remind, completed
 * after delivery-complete, as without hubs).
 */
static int
market_leg_out_buyer(struct market_call *c, const struct market_order *o,
    struct market_leg *l, size_t n, size_t cur)
{
	struct market_args	 a = { .n = 0 };
	char			 hub[MARKET_NAME_LEN];
	size_t			 i;

	/* no carrier on the leg, as PICKUP's: the buyer carried nothing
	   for anyone, and a late leg is counted on its carrier's record
	   (the hub's departure due time is not his) */
	for (i = cur; i < n; i++) {
		l[i].carrier[0] = '\0';
		l[i].code[0] = '\0';
		market_copy(l[i].state, sizeof(l[i].state), "done");
		if (market_leg_write(c, &l[i], "waiting") != MB_OK)
			return MB_FAIL;
	}
	if (market_store_order_carrier(c, o->ref, o->buyer) == -1 ||
	    market_store_order_rearm(c, o->ref) == -1)
		return MB_FAIL;
	c->host->log(c->ctx, MB_LOG_INFO, "market: order %lld fetched by its "
	    "buyer at %s", o->ref, l[cur].from_hub);
	market_arg_num(&a, "ref", o->ref);
	market_leg_hub_name(c, NULL, l[cur].from_hub, hub, sizeof(hub));
	market_arg(&a, "hub", hub);
	if (market_reply(c, "market-leg-out-self-ok", &a) != MB_OK)
		return MB_FAIL;
	market_leg_hub_name(c, o->buyer, l[cur].from_hub, hub, sizeof(hub));
	market_arg(&a, "hub", hub);
	return market_notify(c, o->buyer, "market-leg-out-self", &a);
}

int
market_out(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_leg	 l[MARKET_LEGS_MAX], *k;
	struct market_args	 a = { .n = 0 };
	char			 phone[MARKET_MSISDN_LEN];
	char			 bphone[MARKET_MSISDN_LEN];
	char			 hub[MARKET_NAME_LEN];
	const char		*typed, *m;
	size_t			 n, cur;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) < 2 || !market_leg_host(host))
		return MB_USAGE;
	if ((rc = market_leg_find(&c, &o, l, &n)) != 1)
		return market_leg_result(rc);
	cur = market_leg_current(l, n);
	if (cur >= n || strcmp(l[cur].state, "waiting") != 0 ||
	    !market_leg_is_operator(&c, l[cur].from_hub, c.actor))
		return market_leg_refuse(&c, &o, l, n, cur);
	k = &l[cur];
	/* the number as typed: "0733 000 444" is one number */
	typed = host->rest(ctx, 1);
	if ((m = host->msisdn(ctx, typed)) == NULL) {
		market_arg(&a, "word", typed);
		market_arg_num(&a, "ref", o.ref);
		return market_reply(&c, market_phone_local(&c, typed) ?
		    "market-phone-local" : "market-leg-bad-phone", &a);
	}
	market_copy(phone, sizeof(phone), m);
	if (market_contact(&c, o.buyer, bphone, sizeof(bphone)) == -1)
		return MB_FAIL;
	if (strcmp(phone, o.buyer) == 0 || strcmp(phone, bphone) == 0)
		return market_leg_out_buyer(&c, &o, l, n, cur);
	if (!market_transporter_ok(&c, phone)) {
		market_arg(&a, "phone", phone);
		market_arg_num(&a, "ref", o.ref);
		return market_reply(&c, "market-leg-carrier-refused", &a);
	}
	market_copy(k->carrier, sizeof(k->carrier), phone);
	if (market_order_code(&c, k->code, sizeof(k->code)) == -1)
		return MB_FAIL;
	k->code_tries = 0;
	market_copy(k->state, sizeof(k->state), "moving");
	k->due_at = c.now + market_leg_due(&c, market_leg_where(k));
	if (market_leg_write(&c, k, "waiting") != MB_OK ||
	    market_store_order_carrier(&c, o.ref, phone) == -1)
		return MB_FAIL;
	/* the last leg, to the buyer's door: his timers from now */
	if (k->to_hub[0] == '\0' &&
	    market_store_order_rearm(&c, o.ref) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: order %lld out of %s with %s",
	    o.ref, k->from_hub, phone);
	market_arg_num(&a, "ref", o.ref);
	market_leg_hub_name(&c, NULL, k->from_hub, hub, sizeof(hub));
	market_arg(&a, "hub", hub);
	market_arg(&a, "phone", phone);
	if (market_reply(&c, "market-leg-out-ok", &a) != MB_OK)
		return MB_FAIL;
	return market_leg_start(&c, &o, k);
}

int
market_pickup(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_leg	 l[MARKET_LEGS_MAX], *k;
	struct market_args	 a = { .n = 0 };
	char			 agent[MARKET_MSISDN_LEN];
	char			 who[MARKET_MSISDN_LEN];
	char			 hub[MARKET_NAME_LEN];
	const char		*code;
	size_t			 n, cur;
	int			 rc, tries, ok;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 2 || !market_leg_host(host))
		return MB_USAGE;
	if ((rc = market_leg_find(&c, &o, l, &n)) != 1)
		return market_leg_result(rc);
	cur = market_leg_current(l, n);
	/* at the last hub: an operator of it, or the buyer's agent */
	if (market_contact(&c, o.buyer, agent, sizeof(agent)) == -1)
		return MB_FAIL;
	ok = cur + 1 == n && strcmp(l[cur].state, "waiting") == 0;
	if (!ok || (!market_leg_is_operator(&c, l[cur].from_hub, c.actor) &&
	    (strcmp(agent, o.buyer) == 0 || strcmp(agent, c.actor) != 0))) {
		/* the buyer's agent asks where it is as an operator would */
		if (strcmp(agent, c.actor) == 0 && strcmp(agent, o.buyer) != 0 &&
		    !ok)
			return market_reply_ref(&c, "market-leg-not-yet", o.ref);
		return market_leg_refuse(&c, &o, l, n, cur);
	}
	k = &l[cur];

	/* the buyer's delivery code, as DELIVERED takes it */
	market_arg_num(&a, "ref", o.ref);
	if (o.code_tries >= c.conf->code_tries)
		return market_reply(&c, "market-code-locked", &a);
	code = host->arg(ctx, 1);
	if (code == NULL || strcmp(code, o.code) != 0) {
		if (market_store_order_code_try(&c, o.ref, &tries) == -1)
			return MB_FAIL;
		host->log(ctx, MB_LOG_WARNING, "market: order %lld: wrong "
		    "pickup code %d of %d from %s", o.ref, tries,
		    c.conf->code_tries, c.actor);
		if (tries >= c.conf->code_tries) {
			if (market_reply(&c, "market-code-locked", &a) != MB_OK)
				return MB_FAIL;
			return market_notify(&c, o.buyer,
			    "market-code-locked-buyer", &a);
		}
		market_arg_num(&a, "left", c.conf->code_tries - tries);
		return market_reply(&c, "market-wrong-code", &a);
	}
	market_copy(k->state, sizeof(k->state), "done");
	k->carrier[0] = '\0';
	k->code[0] = '\0';
	if (market_leg_write(&c, k, "waiting") != MB_OK)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: order %lld collected at %s",
	    o.ref, k->from_hub);
	/* the buyer hears who handed it over (market-leg-pickup-buyer, or
	   -agent), not the transporter's notice market_order_move sends
	   when anyone but the buyer confirms: it moves as the buyer's */
	market_copy(who, sizeof(who), c.actor);
	market_copy(c.actor, sizeof(c.actor), o.buyer);
	rc = market_order_move(&c, &o, "delivered", NULL, NULL);
	market_copy(c.actor, sizeof(c.actor), who);
	if (rc != MB_OK)
		return rc;
	a.n = 0;
	market_arg_num(&a, "ref", o.ref);
	market_leg_hub_name(&c, o.buyer, k->from_hub, hub, sizeof(hub));
	market_arg(&a, "hub", hub);
	market_arg(&a, "phone", who);
	return market_notify(&c, o.buyer,
	    market_leg_is_operator(&c, k->from_hub, who) ?
	    "market-leg-pickup-buyer" : "market-leg-pickup-agent", &a);
}

/* --- PROBLEM's hooks ------------------------------------------------------- */

int
market_leg_operator(struct market_call *c, const struct market_order *o)
{
	struct market_leg	 l[MARKET_LEGS_MAX];
	size_t			 n, cur;

	if (!market_leg_host(c->host))
		return 0;
	if (market_store_legs(c, o->ref, l, MARKET_LEGS_MAX, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	if ((cur = market_leg_current(l, n)) >= n)
		cur = n - 1;
	return market_leg_is_operator(c, l[cur].from_hub, c->actor) ||
	    market_leg_is_operator(c, l[cur].to_hub, c->actor);
}

int
market_leg_problem(struct market_call *c, const struct market_order *o,
    long long d, const char *text)
{
	struct market_leg	 l[MARKET_LEGS_MAX];
	struct market_args	 a = { .n = 0 };
	char			 name[MARKET_NAME_LEN];
	char			 phone[MARKET_MSISDN_LEN];
	size_t			 n, cur;

	if (!market_leg_host(c->host))
		return 0;
	if (market_store_legs(c, o->ref, l, MARKET_LEGS_MAX, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	if ((cur = market_leg_current(l, n)) >= n)
		cur = n - 1;
	if (market_store_leg_problem(c, o->ref, l[cur].seq, text) == -1)
		return -1;
	if (market_contact(c, c->actor, phone, sizeof(phone)) == -1)
		return -1;
	market_person(c, c->actor, name, sizeof(name));
	market_arg_num(&a, "dispute", d);
	market_arg_num(&a, "ref", o->ref);
	market_arg(&a, "commodity", o->commodity);
	market_arg(&a, "name", name);
	market_arg(&a, "phone", phone);
	market_arg(&a, "reason", text);
	/* a moving leg's hub is where it goes; a waiting one's where it is */
	return market_leg_tell_hub(c, strcmp(l[cur].state, "moving") == 0 ?
	    market_leg_where(&l[cur]) : l[cur].from_hub, c->actor,
	    "market-leg-problem-hub", &a, 0) == MB_OK ? 0 : -1;
}

/* --- the sweep: legs past their due time -------------------------------- */

#define MARKET_LEG_ADMINS	32	/* admins told of a late leg */

/*
 * Where the parcel of leg l (open) was last, as shown to to: the hub it
 * waits at, else the hub it left, else (the first leg) the seller's
 * market.
 */
static void
market_leg_last_seen(struct market_call *c, const struct market_order *o,
    const struct market_leg *l, const char *to, char *buf, size_t len)
{
	if (l->from_hub[0] != '\0')
		market_leg_hub_name(c, to, l->from_hub, buf, len);
	else
		market_market_name(c, o->market, buf, len);
}

/* Step 1: the holder reminded (a moving leg's carrier, a waiting leg's
   hub's operators). */
static int
market_leg_remind(struct market_call *c, const struct market_order *o,
    const struct market_leg *l, struct market_args *a)
{
	char	 hub[MARKET_NAME_LEN], phone[MARKET_MSISDN_LEN];

	if (strcmp(l->state, "waiting") == 0)
		return market_leg_tell_hub(c, l->from_hub, NULL,
		    "market-leg-late-hub", a, 1);
	if (l->to_hub[0] != '\0') {
		market_leg_hub_name(c, l->carrier, l->to_hub, hub,
		    sizeof(hub));
		market_arg(a, "hub", hub);
		return market_notify(c, l->carrier, "market-leg-late-carrier",
		    a);
	}
	if (market_contact(c, o->buyer, phone, sizeof(phone)) == -1)
		return MB_FAIL;
	market_arg(a, "buyer_phone", phone);
	return market_notify(c, l->carrier, "market-leg-late-carrier-last", a);
}

/*
 * Step 2: the operators of the hub it is going to (a moving leg), sits
 * at (a waiting one) or, on the last leg to the buyer, left; then the
 * buyer, once, kindly: it is late, where it was last.
 */
static int
market_leg_escalate(struct market_call *c, const struct market_order *o,
    const struct market_leg *l, struct market_args *a)
{
	struct market_args	 b = { .n = 0 };
	char			 where[MARKET_NAME_LEN];
	char			 phone[MARKET_MSISDN_LEN];
	int			 rc;

	if (strcmp(l->state, "waiting") == 0)
		rc = market_leg_tell_hub(c, l->from_hub, NULL,
		    "market-leg-overdue-at", a, 1);
	else if (l->to_hub[0] != '\0') {
		market_arg(a, "phone", l->carrier);
		rc = market_leg_tell_hub(c, l->to_hub, NULL,
		    "market-leg-overdue-moving", a, 1);
	} else {
		if (market_contact(c, o->buyer, phone, sizeof(phone)) == -1)
			return MB_FAIL;
		market_arg(a, "phone", l->carrier);
		market_arg(a, "buyer_phone", phone);
		rc = market_leg_tell_hub(c, l->from_hub, NULL,
		    "market-leg-overdue-last", a, 1);
	}
	if (rc != MB_OK)
		return MB_FAIL;
	market_leg_args(o, &b);
	market_leg_last_seen(c, o, l, o->buyer, where, sizeof(where));
	market_arg(&b, "hub", where);
	return market_notify(c, o->buyer, "market-leg-late-buyer", &b);
}

/* Step 3: the admins, with who to call (the carrier, else the hub's
   first operator, else the seller). */
static int
market_leg_admins(struct market_call *c, const struct market_order *o,
    const struct market_leg *l, struct market_args *a)
{
	const struct mb_host	*h = c->host;
	const char		*admin[MARKET_LEG_ADMINS];
	char			 to[MARKET_LEG_ADMINS][MARKET_MSISDN_LEN];
	char			 where[MARKET_NAME_LEN];
	char			 phone[MARKET_MSISDN_LEN];
	struct mb_hub		 hub;
	long			 n, i;

	if (!MARKET_HOST_HAS(h, role_users)) {
		h->log(c->ctx, MB_LOG_WARNING, "market: order %lld leg %d "
		    "late: this marketbox cannot list its admins: none told",
		    o->ref, l->seq);
		return MB_OK;
	}
	if ((n = h->role_users(c->ctx, MB_ROLE_ADMIN, admin,
	    MARKET_LEG_ADMINS)) < 0)
		return MB_FAIL;
	for (i = 0; i < n; i++)
		market_copy(to[i], sizeof(to[i]), admin[i]);
	if (n == 0)
		h->log(c->ctx, MB_LOG_WARNING, "market: order %lld leg %d "
		    "late: no admin to tell", o->ref, l->seq);
	phone[0] = '\0';
	if (l->carrier[0] != '\0' && strcmp(l->state, "moving") == 0)
		market_copy(phone, sizeof(phone), l->carrier);
	else {
		memset(&hub, 0, sizeof(hub));
		hub.size = sizeof(hub);
		if (l->from_hub[0] != '\0' &&
		    h->hub(c->ctx, l->from_hub, &hub) == 1 &&
		    hub.noperators > 0 && hub.operators[0] != NULL)
			market_copy(phone, sizeof(phone), hub.operators[0]);
		else if (market_contact(c, o->seller, phone,
		    sizeof(phone)) == -1)
			return MB_FAIL;
	}
	market_arg(a, "phone", phone);
	for (i = 0; i < n; i++) {
		market_leg_last_seen(c, o, l, to[i], where, sizeof(where));
		market_arg(a, "hub", where);
		if (market_notify(c, to[i], "market-leg-late-admin", a) !=
		    MB_OK)
			return MB_FAIL;
	}
	return MB_OK;
}

int
market_leg_press(struct market_call *c, long long ref, int seq,
    int reminded)
{
	struct market_order	 o;
	struct market_leg	 l[MARKET_LEGS_MAX], *k = NULL;
	struct market_args	 a = { .n = 0 };
	size_t			 n, i;
	int			 rc;

	if ((rc = market_store_order_get(c, ref, &o)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if (strcmp(o.state, "sent") != 0)
		return MB_OK;
	if (market_store_legs(c, ref, l, MARKET_LEGS_MAX, &n) == -1)
		return MB_FAIL;
	for (i = 0; i < n; i++)
		if (l[i].seq == seq)
			k = &l[i];
	/* moved since the query (handed over, its due time new): its
	   turn comes again from its own due time */
	if (k == NULL || k->reminded != reminded || k->due_at == 0 ||
	    k->due_at > c->now || (strcmp(k->state, "moving") != 0 &&
	    strcmp(k->state, "waiting") != 0))
		return MB_OK;
	if ((rc = market_store_leg_pressed(c, ref, seq, k->state, k->due_at,
	    reminded)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	c->host->log(c->ctx, MB_LOG_INFO, "market: order %lld leg %d (%s) "
	    "late: step %d", ref, seq, k->state, reminded + 1);
	market_leg_args(&o, &a);
	market_arg_num(&a, "hours", (c->now - k->due_at) / 3600);
	switch (reminded) {
	case 0:
		return market_leg_remind(c, &o, k, &a);
	case 1:
		return market_leg_escalate(c, &o, k, &a);
	default:
		return market_leg_admins(c, &o, k, &a);
	}
}

/* --- DELIVERED's and the timer's completion ----------------------------- */

int
market_leg_delivered(struct market_call *c, const struct market_order *o,
    int reply, int close)
{
	struct market_leg	 l[MARKET_LEGS_MAX], *k;
	struct market_args	 a = { .n = 0 };
	char			 where[MARKET_NAME_LEN];
	char			 from[sizeof(k->state)];
	size_t			 n, i;

	if (market_store_legs(c, o->ref, l, MARKET_LEGS_MAX, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	/* between hubs: a leg to a hub not received yet */
	for (i = 0; i + 1 < n; i++) {
		if (strcmp(l[i].state, "done") == 0)
			continue;
		if (!reply)
			return 1;
		market_arg_num(&a, "ref", o->ref);
		if (strcmp(l[i].state, "moving") == 0) {
			market_leg_hub_name(c, NULL, l[i].to_hub, where,
			    sizeof(where));
			market_arg(&a, "hub", where);
			market_arg(&a, "phone", l[i].carrier);
			return market_reply(c, "market-leg-not-arrived-moving",
			    &a) == MB_OK ? 1 : -1;
		}
		market_leg_last_seen(c, o, &l[i], NULL, where, sizeof(where));
		market_arg(&a, "hub", where);
		return market_reply(c, "market-leg-not-arrived-at", &a) ==
		    MB_OK ? 1 : -1;
	}
	/* the last leg, moving to the door or waiting at the village
	   point, ends with the order */
	k = &l[n - 1];
	if (!close || strcmp(k->state, "done") == 0)
		return 0;
	market_copy(from, sizeof(from), k->state);
	market_copy(k->state, sizeof(k->state), "done");
	return market_leg_write(c, k, from) == MB_OK ? 0 : -1;
}
