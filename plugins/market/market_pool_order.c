/*
 * market_pool_order.c - a pool's orders: how a pool order is shared among
 * the pool's members (market_pool_allocate), the members' share orders it
 * makes (market_pool_order) and how they follow it (market_pool_follow),
 * and OFFER, a dealer's answer to a buying pool.
 *
 * A sell pool is listed as the offer of its own ref (market_pool.c), so
 * BUY 51 60 is an ordinary order on it: the pool order, whose seller is
 * the pool's opener, reserving the offer's quantity as any order does.
 * market_buy then calls market_pool_ordered, which makes one share order
 * per member given a part: a market_orders row with parent = the pool
 * order, offer = 51, seller = the member, buyer = the buyer, qty = her
 * part, the pool order's price, total = part * price; her share's sold
 * grows by the part.  A share order reserves nothing (the pool order
 * did) and has no timer of its own: it moves only with its pool order.
 *
 *	> BUY 51 60
 *	< Order #70: 60 bags of maize from Kiambogo point (offer #51) ...
 *	  (each member)  Pool #51 sold: 20 bags of your maize to Otieno,
 *	  60,000 KES (order #71). The drop-off day comes when it is accepted.
 *
 * A want pool is listed as a want of its own ref owned by its opener.  A
 * dealer answers it with OFFER (below), an offer of his at most the
 * pool's price, which names the pool (market_posts.pool, schema step 7,
 * set only by OFFER in its own transaction: only the post itself can say
 * which pool a dealer answered; guessing from commodity and price would
 * let any offer pass for the pool's).  An order counts toward its
 * buyer's wants in market_pool_want_take (market_store_want_take):
 * toward the offer's pool first when the buyer is its opener, else
 * toward his oldest open want of the commodity, so an older personal
 * WANT of his never takes what a dealer offered the pool; and toward a
 * want pool only at most at the pool's price, the most its members
 * agreed to pay (a plain offer below it may count too: it is a dealer's
 * SELL matching the pool).  What it counts (want_qty) is shared among
 * the members as buyer-side share orders: buyer = the member, seller =
 * the dealer, want = the pool (want_qty 0: the pool order alone counts
 * toward it and gives it back).  What the opener orders beyond the pool's want is his
 * own.  An opener's BUY that cannot count because its price is above the
 * pool's is his own; his reply says so and names OFFER:
 *	< Order #70 is yours alone: 3,400 KES is above the 3,300 of pool
 *	  #52. Dealers answer the pool with OFFER 52 and a price.
 *
 *   OFFER pool price		(anyone registered; a listed want pool)
 *	> OFFER 52 3100
 *	< Offer #61: 50 bags of dap at 3,100 KES for pool #52. The opener
 *	  is asked to buy it.
 *	(the opener) Pool #52: Agrovet 0711... offers 50 bags of dap at
 *	  3,100 KES. To buy send BUY 61 50
 *	Refused: not a want pool, the sender's own pool, a pool not listed
 *	(or nothing left wanted), a price above the pool's.  The offer is
 *	an ordinary offer (anyone may order from it); it is not matched
 *	against other wants, the opener is told.
 *
 * The opener answers the pool order as any order (ACCEPT, REJECT, SENT,
 * DELIVERED, CANCEL; the timers remind and expire it as any order):
 * market_order_move, after moving it, calls market_pool_follow, and each
 * share order takes the same step through the same transition table,
 * its member told once:
 *	accepted	where and when the goods go (or are collected): the
 *			pool's market, else the opener; the day accepted +
 *			pool-dropoff, as a date (UTC)
 *	sent		the goods are on their way
 *	delivered	her part of the total; the host's trade_done is
 *			called per share order (a member's agent earns on
 *			her share) and, for a buying pool's opener who
 *			ordered more than the pool wanted, once for his own
 *			part (the pool order's total less its shares'),
 *			never for the whole pool order, so nothing is
 *			counted twice
 *	cancelled (reason "dispute": the sent pool order's dispute was
 *			decided for its buyer) nothing given back (the goods
 *			left), no trade; she is told as a party
 *			(market-dispute-ended-seller, -buyer)
 *	rejected, expired, cancelled
 *			her part is given back to her share (sold less),
 *			so a later order allocates it again; once the
 *			pool's offer (or want) has ended there is no
 *			later order: she is told her part is free to
 *			trade elsewhere, and a sold pool of which nothing
 *			is sold any more lapses (its opener told)
 *
 * The pool order's opener is told of its steps as any order's party;
 * when a sell pool's order expires after the pool's offer ended, his
 * notice says the pool has ended instead of "back on offer"
 * (market_pool_expired_tmpl).
 *
 * Matches (market_match_post's hook, market_pool_match): a pool's member
 * is never matched with her own pool, whichever of the two posts is the
 * pool's; a dealer whose new offer matches a buying pool is told to
 * answer it with OFFER pool price (market-pool-match-seller), unless the
 * new offer is a listed selling pool's own (its opener would offer the
 * same lots twice; the want's owner is told of it as of any offer).
 *
 * The allocation rule (the pool's rule, fixed when it opened; conf
 * pool-allocation): "joined", members in order of joining, each given
 * all she has unsold before the next is given any; "prorata", each given
 * floor(qty * unsold / all unsold), the units left over one each to the
 * largest remainders, a tie to the earlier joiner.  Integer units; the
 * parts always sum to the order's quantity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <marketbox/plugin.h>

#include "market.h"

/* --- the allocation ------------------------------------------------------------ */

/*
 * The largest total a prorata division takes: qty * unsold must fit in a
 * long long (qty <= total unsold).  Far above any pool (200 members of
 * at most MARKET_QTY_MAX units).
 */
#define MARKET_POOL_ALLOC_MAX	3000000000LL

int
market_pool_allocate(long long qty, const struct market_share *s, size_t n,
    int prorata, long long *out)
{
	long long	 held = 0, given = 0, left, rem[MARKET_POOL_SHARES_MAX];
	size_t		 i, best;

	if (qty < 0 || n > MARKET_POOL_SHARES_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i].sold < 0 || s[i].sold > s[i].qty)
			return -1;
		held += s[i].qty - s[i].sold;
		if (held > MARKET_POOL_ALLOC_MAX)
			return -1;
	}
	if (qty > held)
		return -1;
	for (i = 0; i < n; i++) {
		long long	 unsold = s[i].qty - s[i].sold;

		if (!prorata) {
			out[i] = qty - given < unsold ? qty - given : unsold;
			rem[i] = 0;
		} else {
			out[i] = held > 0 ? qty * unsold / held : 0;
			rem[i] = held > 0 ? qty * unsold % held : 0;
		}
		given += out[i];
	}
	/*
	 * The units floor() left: fewer than the shares with a remainder
	 * (the remainders sum to left * held, each below held), so each
	 * goes to a different share, one that has a remainder and so room.
	 */
	for (left = qty - given; left > 0; left--) {
		best = n;
		for (i = 0; i < n; i++)
			if (rem[i] > 0 && (best == n || rem[i] > rem[best]))
				best = i;
		if (best == n)
			return -1;
		out[best]++;
		rem[best] = 0;
	}
	return 0;
}

/* --- share orders ----------------------------------------------------------------- */

/* A share order's member: the seller in a sell pool, the buyer in a want
   pool. */
static const char *
market_pool_member(const struct market_pool *p, const struct market_order *o)
{
	return strcmp(p->kind, "sell") == 0 ? o->seller : o->buyer;
}

/* The placeholders of a member's notice: the share order and its pool. */
static void
market_pool_share_args(struct market_call *c, const struct market_pool *p,
    const struct market_order *o, struct market_args *a)
{
	market_order_args(c, o, a);
	market_arg_num(a, "pool", p->ref);
	market_arg_num(a, "parent", o->parent);
}

/*
 * After an order on pool p: when its offer (or want) has nothing left,
 * the pool is sold (market_pool_move: the members were told by their
 * share orders).  0 or -1.
 */
static int
market_pool_sold(struct market_call *c, const struct market_pool *p)
{
	struct market_pool	 moved = *p;
	struct market_post	 post;
	int			 rc;

	if ((rc = market_store_post_get(c, p->ref, &post)) != 1)
		return rc == 0 ? 0 : -1;
	if (post.qty_left > 0 || strcmp(p->state, "listed") != 0)
		return 0;
	return market_pool_move(c, &moved, "sold") == -1 ? -1 : 0;
}

/*
 * After a pool order gave its quantity back (ended: the pool's offer or
 * want had ended, so nothing went back on offer): a sold pool whose post
 * is open again is listed again; one whose post has ended lapses when
 * nothing of it is sold any more, else stays sold with what it sold.
 * Without the lapse a pool sold near the end of its offer's life would
 * stay sold for ever once its order was rejected or expired.  0 or -1.
 */
static int
market_pool_unsold(struct market_call *c, struct market_pool *p, int ended)
{
	long long	 sold;

	if (strcmp(p->state, "sold") != 0)
		return 0;
	if (!ended)
		return market_pool_move(c, p, "listed") == -1 ? -1 : 0;
	if (market_store_pool_sold(c, p->ref, &sold) == -1)
		return -1;
	if (sold > 0)
		return 0;
	return market_pool_move(c, p, "lapsed") == -1 ? -1 : 0;
}

/* 1 if pool p's post (its offer or want) is no longer open, 0 if it is,
   -1 on failure. */
static int
market_pool_post_ended(struct market_call *c, const struct market_pool *p)
{
	struct market_post	 post;
	int			 rc;

	if ((rc = market_store_post_get(c, p->ref, &post)) == -1)
		return -1;
	return rc == 0 || strcmp(post.state, "open") != 0;
}

int
market_pool_order(struct market_call *c, const struct market_pool *p,
    struct market_order *o)
{
	struct market_share	*s;
	struct market_order	 so;
	struct market_args	 a;
	char			 name[MARKET_NAME_LEN];
	long long		 part[MARKET_POOL_SHARES_MAX], qty;
	size_t			 n, i;
	int			 sell = strcmp(p->kind, "sell") == 0, rc = -1;

	/* a want pool shares what the order counted toward its want */
	qty = sell ? o->qty : o->want_qty;
	if ((s = calloc(MARKET_POOL_SHARES_MAX, sizeof(*s))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return -1;
	}
	if (market_pool_shares(c, p->ref, s, MARKET_POOL_SHARES_MAX, &n) == -1)
		goto out;
	if (market_pool_allocate(qty, s, n, strcmp(p->rule, "prorata") == 0,
	    part) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: pool %lld: order "
		    "%lld of %lld is more than its shares hold", p->ref,
		    o->ref, qty);
		goto out;
	}
	market_person(c, sell ? o->buyer : o->seller, name, sizeof(name));
	for (i = 0; i < n; i++) {
		if (part[i] == 0)
			continue;
		so = *o;
		if ((so.ref = c->host->ref_next(c->ctx, "order")) < 0) {
			c->host->log(c->ctx, MB_LOG_ERROR,
			    "market: no reference number");
			goto out;
		}
		if (sell)
			market_copy(so.seller, sizeof(so.seller), s[i].member);
		else
			market_copy(so.buyer, sizeof(so.buyer), s[i].member);
		so.qty = part[i];
		if (market_money_mul(so.qty, so.price, &so.total) == -1)
			goto out;
		so.parent = o->ref;
		/* it moves with its pool order: no timer; a buying pool's
		   share order names the pool's want, counting nothing of it
		   (the pool order counted and gives back) */
		so.remind_at = so.expires_at = 0;
		so.reminded = 0;
		so.want = sell ? 0 : p->ref;
		so.want_qty = 0;
		if (market_store_order_insert(c, &so) == -1)
			goto out;
		if (market_store_share_sold(c, p->ref, s[i].member,
		    part[i]) != 1) {
			c->host->log(c->ctx, MB_LOG_ERROR, "market: pool %lld: "
			    "the share of %s cannot take %lld", p->ref,
			    s[i].member, part[i]);
			goto out;
		}
		c->host->log(c->ctx, MB_LOG_INFO, "market: order %lld: %lld "
		    "of pool %lld's order %lld for %s", so.ref, so.qty, p->ref,
		    o->ref, s[i].member);
		memset(&a, 0, sizeof(a));
		market_pool_share_args(c, p, &so, &a);
		market_arg(&a, "name", name);
		if (market_notify(c, s[i].member, sell ? "market-share-sold" :
		    "market-share-bought", &a) != MB_OK)
			goto out;
	}
	rc = market_pool_sold(c, p);
out:
	free(s);
	return rc;
}

/*
 * The pool an order is the pool order of: a sell pool whose offer it
 * orders from, or a want pool of its buyer that it counted toward.  1 and
 * *p, 0 none, -1 failure.
 */
static int
market_pool_of(struct market_call *c, const struct market_order *o,
    struct market_pool *p)
{
	int	 rc;

	if ((rc = market_pool_find(c, o->offer, p)) == -1)
		return -1;
	if (rc == 0 && strcmp(p->kind, "sell") == 0)
		return 1;
	if (o->want == 0 || o->want_qty == 0)
		return 0;
	if ((rc = market_pool_find(c, o->want, p)) == -1)
		return -1;
	return rc == 0 && strcmp(p->kind, "want") == 0 &&
	    strcmp(p->opener, o->buyer) == 0;
}

int
market_pool_want_take(struct market_call *c, const struct market_post *p,
    long long qty, struct market_order *o)
{
	/* an OFFER's pool first, when it is the buyer's (the store's) */
	return market_store_want_take(c, c->actor, p->ref, p->commodity,
	    p->unit, qty, p->price, &o->want, &o->want_qty);
}

/*
 * Order o counted toward no pool: when its buyer opened a buying pool of
 * the commodity that pays less, say the order is his alone and how
 * dealers answer the pool.  0 or -1.
 */
static int
market_pool_dear(struct market_call *c, const struct market_order *o)
{
	struct market_args	 a = { .n = 0 };
	long long		 pool, max;

	if (market_store_pool_dear(c, o->ref, &pool, &max) == -1)
		return -1;
	if (pool == 0)
		return 0;
	market_arg_num(&a, "ref", o->ref);
	market_arg_num(&a, "pool", pool);
	market_arg_money(&a, "price", o->price);
	market_arg_money(&a, "max", max);
	market_arg(&a, "unit", o->unit);
	market_arg(&a, "currency", c->host->currency(c->ctx));
	return market_reply(c, "market-pool-buy-dear", &a) == MB_OK ? 0 : -1;
}

int
market_pool_ordered(struct market_call *c, struct market_order *o)
{
	struct market_pool	 p;
	int			 rc;

	if ((rc = market_pool_of(c, o, &p)) == -1)
		return -1;
	if (rc == 0)
		return market_pool_dear(c, o);
	return market_pool_order(c, &p, o);
}

/* --- following the pool order --------------------------------------------------- */

/* A day as a date (UTC: the plugin has no time zone of the host). */
static void
market_pool_day(long long t, char *buf, size_t len)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d",
	    &tm) == 0)
		snprintf(buf, len, "-");
}

/* Member's notice of share order so, just moved to so->state (ended:
   given back after the pool's offer or want ended). */
static int
market_pool_share_tell(struct market_call *c, const struct market_pool *p,
    const struct market_order *so, int ended)
{
	struct market_args	 a = { .n = 0 };
	char			 point[MARKET_NAME_LEN], day[32];
	const char		*member = market_pool_member(p, so), *tmpl;
	int			 sell = strcmp(p->kind, "sell") == 0;

	market_pool_share_args(c, p, so, &a);
	if (strcmp(so->state, "accepted") == 0) {
		/* the pool's market, else the opener is the place */
		if (p->market[0] != '\0')
			market_market_name(c, p->market, point, sizeof(point));
		else
			market_person(c, p->opener, point, sizeof(point));
		market_pool_day(c->now + c->conf->pool_dropoff, day,
		    sizeof(day));
		market_arg(&a, "point", point);
		market_arg(&a, "day", day);
		tmpl = sell ? "market-share-accepted" :
		    "market-share-accepted-want";
	} else if (strcmp(so->state, "sent") == 0)
		tmpl = "market-share-sent";
	else if (strcmp(so->state, "delivered") == 0)
		tmpl = "market-share-delivered";
	else if (strcmp(so->reason, MARKET_REASON_DISPUTE) == 0) {
		long long	 dispute;

		/* the pool order's dispute was decided for its buyer */
		if (market_store_dispute_hold(c, so->parent, &dispute) == -1)
			return MB_FAIL;
		market_arg_num(&a, "dispute", dispute);
		tmpl = sell ? "market-dispute-ended-seller" :
		    "market-dispute-ended-buyer";
	} else if (ended)
		tmpl = "market-share-ended";	/* no pool to go back to */
	else
		tmpl = "market-share-back";
	return market_notify(c, member, tmpl, &a);
}

/* Share order so takes parent's step to to: written, counted, told. */
static int
market_pool_step(struct market_call *c, const struct market_pool *p,
    const struct market_order *parent, struct market_order *so,
    const char *to, int ended)
{
	char		 from[sizeof(so->state)];
	const char	*member = market_pool_member(p, so);
	int		 rc;

	if (!market_order_can_for(so->state, to, parent->reason)) {
		/* only the pool order moves them: a broken rule */
		c->host->log(c->ctx, MB_LOG_ERROR, "market: share order %lld "
		    "of %lld: no transition %s -> %s", so->ref, parent->ref,
		    so->state, to);
		return -1;
	}
	market_copy(from, sizeof(from), so->state);
	market_copy(so->state, sizeof(so->state), to);
	so->updated = c->now;
	market_copy(so->transporter, sizeof(so->transporter),
	    parent->transporter);
	market_copy(so->reason, sizeof(so->reason), parent->reason);
	so->remind_at = so->expires_at = 0;
	so->reminded = 0;
	if ((rc = market_store_order_update(c, so, from)) != 1) {
		if (rc == 0)
			c->host->log(c->ctx, MB_LOG_ERROR, "market: share "
			    "order %lld was not %s", so->ref, from);
		return -1;
	}
	/* a sent share's goods left her: nothing goes back */
	if ((strcmp(to, "rejected") == 0 || strcmp(to, "expired") == 0 ||
	    strcmp(to, "cancelled") == 0) && strcmp(from, "sent") != 0) {
		if (market_store_share_sold(c, p->ref, member, -so->qty) != 1) {
			c->host->log(c->ctx, MB_LOG_ERROR, "market: pool %lld: "
			    "cannot give %lld back to %s", p->ref, so->qty,
			    member);
			return -1;
		}
	}
	/* money paid against a share order follows it too */
	if (market_order_pay(c, so->ref, to) == -1)
		return -1;
	if (strcmp(to, "delivered") == 0) {
		/* the member traded; the buyer was counted by the pool order */
		if (c->host->user_trade(c->ctx, member) == -1 ||
		    (MARKET_HOST_HAS(c->host, trade_done) &&
		    c->host->trade_done(c->ctx, so->ref, so->seller, so->buyer,
		    so->total) == -1)) {
			c->host->log(c->ctx, MB_LOG_ERROR, "market: cannot "
			    "record the trade of share order %lld", so->ref);
			return -1;
		}
	}
	c->host->log(c->ctx, MB_LOG_INFO, "market: share order %lld %s -> %s",
	    so->ref, from, to);
	return market_pool_share_tell(c, p, so, ended) == MB_OK ? 0 : -1;
}

int
market_pool_follow(struct market_call *c, const struct market_order *parent,
    const char *to)
{
	struct market_order	*so;
	struct market_pool	 p;
	long long		 shares = 0;
	size_t			 n, i;
	int			 rc = -1, back, ended = 0;

	/* given back unless it had been sent (MARKET_REASON_DISPUTE) */
	back = (strcmp(to, "rejected") == 0 || strcmp(to, "expired") == 0 ||
	    strcmp(to, "cancelled") == 0) &&
	    strcmp(parent->reason, MARKET_REASON_DISPUTE) != 0;
	if ((so = calloc(MARKET_POOL_SHARES_MAX, sizeof(*so))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return -1;
	}
	if (market_store_share_orders(c, parent->ref, so,
	    MARKET_POOL_SHARES_MAX, &n) == -1)
		goto out;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if ((rc = market_pool_of(c, parent, &p)) != 1) {
		if (rc == 0)
			c->host->log(c->ctx, MB_LOG_ERROR, "market: order %lld "
			    "has share orders but no pool", parent->ref);
		rc = -1;
		goto out;
	}
	rc = -1;
	/* the pool order gave back first (market_order_move): an ended
	   post stayed ended */
	if (back && (ended = market_pool_post_ended(c, &p)) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (market_pool_step(c, &p, parent, &so[i], to, ended) == -1)
			goto out;
		shares += so[i].total;
	}
	if (back && market_pool_unsold(c, &p, ended) == -1)
		goto out;
	/* the opener's own part beyond the pool's want: his trade, once
	   (market_order_tell counts no trade of a pool order) */
	if (strcmp(to, "delivered") == 0 && parent->total > shares &&
	    MARKET_HOST_HAS(c->host, trade_done) &&
	    c->host->trade_done(c->ctx, parent->ref, parent->seller,
	    parent->buyer, parent->total - shares) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: cannot record the "
		    "trade of order %lld's own part", parent->ref);
		goto out;
	}
	rc = 0;
out:
	free(so);
	return rc;
}

const char *
market_pool_expired_tmpl(struct market_call *c, const struct market_order *o)
{
	struct market_pool	 p;
	int			 rc;

	if ((rc = market_pool_find(c, o->offer, &p)) == -1)
		return NULL;
	if (rc == 1 || strcmp(p.kind, "sell") != 0)
		return "market-expired-order-seller";
	/* the order gave its quantity back first: an ended offer took none */
	if ((rc = market_pool_post_ended(c, &p)) == -1)
		return NULL;
	return rc ? "market-pool-expired-ended" : "market-expired-order-seller";
}

int
market_pool_match(struct market_call *c, const struct market_post *p,
    const struct market_post *q)
{
	const struct market_post	*o, *w;
	struct market_pool		 pool;
	struct market_share		 share;
	struct market_args		 a = { .n = 0 };
	int				 rc;

	o = strcmp(p->kind, "offer") == 0 ? p : q;
	w = o == p ? q : p;
	/* a member and her own pool: the seller in a selling pool's offer,
	   the buyer in a buying pool's want */
	if ((rc = market_store_share_get(c, o->ref, w->msisdn, &share)) != 0 ||
	    (rc = market_store_share_get(c, w->ref, o->msisdn, &share)) != 0)
		return rc == -1 ? -1 : 1;
	/* a dealer's new offer and a buying pool: his step is OFFER; not
	   when the new offer is a selling pool's own (its opener would
	   offer the same lots twice) */
	if (o != p || (rc = market_pool_find(c, o->ref, &pool)) == 0)
		return 0;
	if (rc == -1)
		return -1;
	if ((rc = market_pool_find(c, w->ref, &pool)) == 1)
		return 0;
	if (rc == -1)
		return -1;
	if (strcmp(pool.kind, "want") != 0)
		return 0;
	market_arg_num(&a, "want", w->ref);
	market_arg_num(&a, "farmers", pool.members);
	market_arg_num(&a, "qty", w->qty_left);
	market_arg(&a, "unit", w->unit);
	market_arg(&a, "commodity", w->commodity);
	market_arg_money(&a, "price", w->price);
	market_arg(&a, "currency", c->host->currency(c->ctx));
	return market_notify(c, o->msisdn, "market-pool-match-seller", &a) ==
	    MB_OK ? 0 : -1;
}

/* --- OFFER ------------------------------------------------------------------------------ */

int
market_offer(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_pool	 pool;
	struct market_post	 want, p;
	struct market_args	 a = { .n = 0 };
	char			 name[MARKET_NAME_LEN];
	char			 phone[MARKET_MSISDN_LEN];
	const char		*market;
	long long		 ref, total;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 2 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	if ((rc = market_pool_find(&c, ref, &pool)) == -1)
		return MB_FAIL;
	if (rc == 1 || strcmp(pool.kind, "want") != 0)
		return market_reply_ref(&c, "market-pool-offer-none", ref);
	if (strcmp(pool.opener, c.actor) == 0)
		return market_reply_ref(&c, "market-pool-offer-own", ref);
	/* what is still wanted: the pool's want, while it is listed */
	if ((rc = market_store_post_get(&c, ref, &want)) == -1)
		return MB_FAIL;
	if (strcmp(pool.state, "listed") != 0 || rc == 0 ||
	    strcmp(want.state, "open") != 0 || want.expires <= c.now ||
	    want.qty_left == 0)
		return market_reply_ref(&c, "market-pool-offer-closed", ref);
	if (market_money_parse(host->arg(ctx, 1), &p.price) == -1) {
		market_arg(&a, "word", host->arg(ctx, 1));
		return market_reply(&c, "market-bad-price", &a);
	}
	if (p.price > pool.price) {
		market_arg_num(&a, "ref", ref);
		market_arg_money(&a, "price", pool.price);
		market_arg(&a, "unit", pool.unit);
		market_arg(&a, "currency", host->currency(ctx));
		return market_reply(&c, "market-pool-offer-dear", &a);
	}
	/* too much for one order: the limit named, as BUY does */
	if (market_money_mul(want.qty_left, p.price, &total) == -1 ||
	    total > MARKET_TOTAL_MAX) {
		market_arg_num(&a, "qty", want.qty_left);
		market_arg(&a, "unit", pool.unit);
		market_arg_money(&a, "price", p.price);
		market_arg(&a, "currency", host->currency(ctx));
		return market_reply(&c, "market-bad-total", &a);
	}

	if ((p.ref = host->ref_next(ctx, "offer")) < 0) {
		host->log(ctx, MB_LOG_ERROR, "market: no reference number");
		return MB_FAIL;
	}
	market_copy(p.kind, sizeof(p.kind), "offer");
	market_copy(p.msisdn, sizeof(p.msisdn), c.actor);
	market_copy(p.commodity, sizeof(p.commodity), pool.commodity);
	market_copy(p.unit, sizeof(p.unit), pool.unit);
	/* the dealer's market, else where the pool is */
	market = host->sender_market(ctx);
	market_copy(p.market, sizeof(p.market), market != NULL ? market :
	    pool.market);
	p.qty = p.qty_left = want.qty_left;
	market_copy(p.state, sizeof(p.state), "open");
	p.created = c.now;
	p.expires = c.now + c.conf->offer_lifetime;
	if (market_store_post_insert(&c, &p) == -1 ||
	    market_store_post_pool_set(&c, p.ref, ref) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: offer %lld: %lld %s %s at %lld by "
	    "%s for pool %lld", p.ref, p.qty, p.unit, p.commodity, p.price,
	    p.msisdn, ref);

	market_arg_num(&a, "ref", p.ref);
	market_arg_num(&a, "pool", ref);
	market_arg_num(&a, "qty", p.qty);
	market_arg(&a, "unit", p.unit);
	market_arg(&a, "commodity", p.commodity);
	market_arg_money(&a, "price", p.price);
	market_arg_money(&a, "total", total);
	market_arg(&a, "currency", host->currency(ctx));
	if (market_reply(&c, "market-pool-offer-ok", &a) != MB_OK)
		return MB_FAIL;
	market_person(&c, c.actor, name, sizeof(name));
	if (market_contact(&c, c.actor, phone, sizeof(phone)) == -1)
		return MB_FAIL;
	market_arg(&a, "name", name);
	market_arg(&a, "phone", phone);
	return market_notify(&c, pool.opener, "market-pool-offered", &a);
}
