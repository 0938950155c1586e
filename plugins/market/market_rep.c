/*
 * market_rep.c - reputation: a person's record where a decision about
 * her is made (the seller's notice of an order, the match notices), INFO
 * (who posted a number, and her record) and RATE (the stars one side of a
 * delivered order gives the other).
 *
 * Commands, with an exchange each ("> " what a phone sends, "< " what it
 * gets; replies are templates market-* of the sender's language):
 *
 *   INFO ref			(an offer, a want, a pool or an order)
 *	> INFO 41
 *	< Offer #41 (maize, Nakuru) is from John Otieno +254722000111: 12
 *	  trades, 1 cancelled, 4.5 stars from 6, member since Mar
 *	Who posted the offer or want, or opened the pool, her market, the
 *	number she is reached on (a member's agent's) and her record
 *	(market-rep; one with nothing on it reads "new: no trades yet").
 *	An order's parties are shown only to the parties: its buyer is told
 *	the seller and her record, its seller the buyer
 *	(market-info-order); anyone else is refused (market-info-not-yours),
 *	as a phone number is not given to whoever asks.  An unknown number
 *	is refused (market-unknown-ref).
 *
 *   RATE order stars			(1 to 5; the buyer or the seller)
 *	> RATE 43 5
 *	< You gave Wanjiru 5 stars for order #43. Thank you.
 *	The rated is the other party.  Once per order and side (the primary
 *	key of market_ratings).  Refused, with the next step: stars out of
 *	1..5 (market-rate-range), a number that is no order
 *	(market-rate-not-order, market-unknown-ref), an order not the
 *	sender's (market-not-yours), not delivered yet (market-rate-not-yet)
 *	or that never will be (market-rate-ended), rated already
 *	(market-rate-again).
 *
 * The record (market_store_rep, counted from the tables each time it is
 * shown, never kept as a counter that could drift; the SQL is
 * market_rep_sql.h's, which the prices plugin's board reads too):
 *	trades		her orders delivered, as buyer or seller
 *	cancelled	orders she cancelled (CANCEL by her, as buyer or
 *			seller: market_orders.cancelled_by, which CANCEL
 *			sets through market_rep_cancelled), and orders
 *			she accepted and never sent, cancelled by the
 *			timer (accept-expire: market.c sets 'seller'); an
 *			order cancelled before schema step 8 or by no
 *			party counts against no one)
 *	rejected	orders she rejected as seller
 *	expired		orders she left to expire unanswered, as seller
 *	late		legs she carried (market_legs.carrier) that
			ended after their due time, or are still moving
			past it now: a hold-up on the road is on its
			carrier, whoever the parties are
 *	disputes lost	closed disputes decided for the other side
 *	stars		the average of the ratings she was given, and
 *			how many
 * A member's share order counts only for its member (the other side has
 * the pool order), so one delivery is one trade for each person; not
 * for an opener who joined his own pool (his pool order counts), and
 * never as rejected or expired (the opener's decision, counted on the
 * pool order).
 * "member since" is the month she registered (host->user_since), with the
 * year when it is not within the last year.
 *
 * Where a notice can carry it (market_rep_show: the seller's notice of a
 * new order, about the buyer; a match notice, about the poster), the
 * short record (market-rep-short) goes in the notice's "-rep" variant
 * when that is one SMS in the reader's language with the names whole;
 * otherwise the notice goes as before, without it.  A member of a
 * service point is never sent it: her notices also reach her agent,
 * prefixed "For <name> (<code>):" in the agent's language, a length the
 * plugin cannot measure.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <marketbox/plugin.h>

#include "market.h"

/* --- the record as shown ---------------------------------------------------- */

/*
 * who's record for to (NULL: the sender) into buf: tmpl (market-rep or
 * market-rep-short; market-rep-new for a full record with nothing on
 * it).  0, or -1 (logged).
 */
static int
market_rep_text(struct market_call *c, const char *who, const char *to,
    const char *tmpl, char *buf, size_t len)
{
	struct market_rep	 r;
	struct market_args	 a = { .n = 0 }, s = { .n = 0 };
	struct tm		 tm;
	char			 stars[32], year[16], since[64];
	const char		*text;
	long long		 joined = 0, tenths;
	time_t			 t;
	int			 full = strcmp(tmpl, "market-rep") == 0;

	if (market_store_rep(c, who, &r) == -1)
		return -1;
	if (MARKET_HOST_HAS(c->host, user_since) &&
	    (joined = c->host->user_since(c->ctx, who)) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: cannot read when %s registered", who);
		return -1;
	}
	/* the average to one decimal, rounded: "4.5", or "4" */
	stars[0] = '\0';
	if (r.rated > 0) {
		tenths = (r.stars * 10 + r.rated / 2) / r.rated;
		if (tenths % 10 == 0)
			snprintf(stars, sizeof(stars), "%lld", tenths / 10);
		else
			snprintf(stars, sizeof(stars), "%lld.%lld",
			    tenths / 10, tenths % 10);
	}
	/* the month she registered, and its year when that is not within
	   the last twelve months */
	memset(&tm, 0, sizeof(tm));
	since[0] = '\0';
	t = (time_t)joined;
	if (joined > 0 && gmtime_r(&t, &tm) != NULL) {
		snprintf(year, sizeof(year), "%d", tm.tm_year + 1900);
		market_arg_num(&s, "month", tm.tm_mon + 1);
		market_arg_num(&s, "old", c->now - joined > 365LL * 86400);
		market_arg(&s, "year", year);
		if ((text = market_render(c, to, "market-rep-since", &s)) ==
		    NULL)
			return -1;
		market_copy(since, sizeof(since), text);
	}
	market_arg_num(&a, "trades", r.trades);
	market_arg_num(&a, "cancelled", r.cancelled);
	market_arg_num(&a, "rejected", r.rejected);
	market_arg_num(&a, "expired", r.expired);
	market_arg_num(&a, "late", r.late);
	market_arg_num(&a, "lost", r.lost);
	market_arg_num(&a, "rated", r.rated);
	market_arg(&a, "stars", stars);
	market_arg_num(&a, "month", since[0] != '\0' ? tm.tm_mon + 1 : 0);
	market_arg(&a, "since", since);
	if (full && r.trades == 0 && r.cancelled == 0 && r.rejected == 0 &&
	    r.expired == 0 && r.late == 0 && r.lost == 0 && r.rated == 0)
		tmpl = "market-rep-new";
	if ((text = market_render(c, to, tmpl, &a)) == NULL)
		return -1;
	market_copy(buf, len, text);
	return 0;
}

/* The notices that have a "-rep" variant with {record}. */
static const char * const market_rep_notices[] = {
	"market-order-seller", "market-match-buyer", "market-match-seller",
};

const char *
market_rep_show(struct market_call *c, const char *who, const char *to,
    struct market_args *a, const char *tmpl, char *buf, size_t len)
{
	static char	 with[64];
	const char	*text;
	size_t		 i;

	for (i = 0; i < sizeof(market_rep_notices) /
	    sizeof(market_rep_notices[0]); i++)
		if (strcmp(tmpl, market_rep_notices[i]) == 0)
			break;
	if (i == sizeof(market_rep_notices) / sizeof(market_rep_notices[0]) ||
	    a->n == MARKET_MAX_ARGS)
		return tmpl;
	/* a member's notices go to her agent too, under a prefix in the
	   agent's language that cannot be measured here: as before */
	if (MARKET_HOST_HAS(c->host, contact)) {
		const char	*via = c->host->contact(c->ctx, to);

		if (via == NULL) {
			c->host->log(c->ctx, MB_LOG_ERROR,
			    "market: no number to reach %s on", to);
			return NULL;
		}
		if (strcmp(via, to) != 0)
			return tmpl;
	}
	if (market_rep_text(c, who, to, "market-rep-short", buf, len) == -1)
		return NULL;
	snprintf(with, sizeof(with), "%s-rep", tmpl);
	market_arg(a, "record", buf);
	if ((text = market_render(c, to, with, a)) == NULL)
		return NULL;
	if (c->host->sms_parts(c->ctx, text) != 1) {
		a->n--;		/* too long with it: as before */
		return tmpl;
	}
	return with;
}

/* --- CANCEL's hook ------------------------------------------------------------ */

int
market_rep_cancelled(struct market_call *c, const struct market_order *o)
{
	const char	*side;

	if (strcmp(o->state, "cancelled") != 0)
		return 0;
	if (strcmp(c->actor, o->buyer) == 0)
		side = "buyer";
	else if (strcmp(c->actor, o->seller) == 0)
		side = "seller";
	else
		return 0;
	return market_store_rep_cancelled(c, o->ref, side);
}

/* --- INFO ---------------------------------------------------------------------- */

/*
 * The reply tmpl about who, with a: her record in full (market-rep) when
 * that is one SMS with her name whole, else the short one (the name cut
 * by market_reply if it must be).
 */
static int
market_info_reply(struct market_call *c, const char *tmpl, const char *who,
    struct market_args *a)
{
	char		 name[MARKET_NAME_LEN];
	char		 phone[MARKET_MSISDN_LEN];
	char		 record[MARKET_REP_TEXT];
	const char	*text;

	market_person(c, who, name, sizeof(name));
	if (market_contact(c, who, phone, sizeof(phone)) == -1)
		return MB_FAIL;
	market_arg(a, "name", name);
	market_arg(a, "phone", phone);
	if (market_rep_text(c, who, NULL, "market-rep", record,
	    sizeof(record)) == -1)
		return MB_FAIL;
	market_arg(a, "record", record);
	if ((text = market_render(c, NULL, tmpl, a)) == NULL)
		return MB_FAIL;
	if (c->host->sms_parts(c->ctx, text) != 1 &&
	    market_rep_text(c, who, NULL, "market-rep-short", record,
	    sizeof(record)) == -1)
		return MB_FAIL;
	return market_reply(c, tmpl, a);
}

int
market_info(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_post	 p;
	struct market_pool	 pool;
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	char			 mname[MARKET_NAME_LEN];
	long long		 ref;
	int			 rc, buyer;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 1 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	market_arg_num(&a, "ref", ref);
	/* a pool (a listed sell pool is also the offer of its ref) */
	if ((rc = market_pool_find(&c, ref, &pool)) == -1)
		return MB_FAIL;
	if (rc == 0) {
		market_market_name(&c, pool.market, mname, sizeof(mname));
		market_arg(&a, "commodity", pool.commodity);
		market_arg(&a, "market", mname);
		return market_info_reply(&c, "market-info-pool", pool.opener,
		    &a);
	}
	if ((rc = market_store_post_get(&c, ref, &p)) == -1)
		return MB_FAIL;
	if (rc == 1) {
		market_market_name(&c, p.market, mname, sizeof(mname));
		market_arg(&a, "commodity", p.commodity);
		market_arg(&a, "market", mname);
		return market_info_reply(&c, strcmp(p.kind, "offer") == 0 ?
		    "market-info-offer" : "market-info-want", p.msisdn, &a);
	}
	if ((rc = market_store_order_get(&c, ref, &o)) == -1)
		return MB_FAIL;
	if (rc == 0)
		return market_reply_ref(&c, "market-unknown-ref", ref);
	/* an order's parties: to each other only */
	buyer = strcmp(o.buyer, c.actor) == 0;
	if (!buyer && strcmp(o.seller, c.actor) != 0)
		return market_reply_ref(&c, "market-info-not-yours", ref);
	market_arg(&a, "commodity", o.commodity);
	/* side: 1 the other is the buyer, 2 the seller */
	market_arg_num(&a, "side", buyer ? 2 : 1);
	return market_info_reply(&c, "market-info-order",
	    buyer ? o.seller : o.buyer, &a);
}

/* --- RATE ------------------------------------------------------------------------ */

int
market_rate(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_post	 p;
	struct market_pool	 pool;
	struct market_args	 a = { .n = 0 };
	char			 name[MARKET_NAME_LEN];
	const char		*rated;
	long long		 ref, stars;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 2 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	market_arg_num(&a, "ref", ref);
	if (!host->arg_number(ctx, 1, 1, 5, &stars)) {
		market_arg(&a, "word", host->arg(ctx, 1));
		return market_reply(&c, "market-rate-range", &a);
	}
	if ((rc = market_store_order_get(&c, ref, &o)) == -1)
		return MB_FAIL;
	if (rc == 0) {
		/* a post's or a pool's number is no order */
		if ((rc = market_store_post_get(&c, ref, &p)) == -1)
			return MB_FAIL;
		if (rc == 0) {
			if ((rc = market_pool_find(&c, ref, &pool)) == -1)
				return MB_FAIL;
			rc = rc == 0;		/* 1: a pool */
		}
		return market_reply_ref(&c, rc == 1 ?
		    "market-rate-not-order" : "market-unknown-ref", ref);
	}
	if (strcmp(o.buyer, c.actor) == 0)
		rated = o.seller;
	else if (strcmp(o.seller, c.actor) == 0)
		rated = o.buyer;
	else
		return market_reply_ref(&c, "market-not-yours", ref);
	if (strcmp(o.state, "delivered") != 0)
		return market_reply_ref(&c, strcmp(o.state, "pending") == 0 ||
		    strcmp(o.state, "accepted") == 0 ||
		    strcmp(o.state, "sent") == 0 ? "market-rate-not-yet" :
		    "market-rate-ended", ref);
	if ((rc = market_store_rate(&c, ref, c.actor, rated, (int)stars)) ==
	    -1)
		return MB_FAIL;
	if (rc == 0)
		return market_reply_ref(&c, "market-rate-again", ref);
	host->log(ctx, MB_LOG_INFO, "market: order %lld: %s rated %s %lld",
	    ref, c.actor, rated, stars);
	market_person(&c, rated, name, sizeof(name));
	market_arg(&a, "name", name);
	market_arg_num(&a, "stars", stars);
	return market_reply(&c, "market-rate-ok", &a);
}
