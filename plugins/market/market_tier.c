/*
 * market_tier.c - tier prices: an agro-dealer's lower price per unit for
 * the orders on one offer that together reach a quantity, so that
 * farmers who order a bag or two each buy at the bulk price.
 *
 *   SELL commodity qty [unit] price TIER qty price [TIER qty price ...]
 *	> SELL dap 200 bags 3400 TIER 20 3200 TIER 50 3000
 *	< Offer #61: 200 bags of DAP at 3,400 KES a bag, Nakuru. ...
 *	< Offer #61 tier prices: 3,200 from 20; 3,000 from 50 bags ordered
 *	  together. ACCEPT 61 accepts all its waiting orders at once.
 *	At most MARKET_TIERS_MAX tiers, quantities rising (none above the
 *	offer's quantity), prices falling, each below the offer's price.  Only a dealer (MB_ROLE_DEALER: the admin makes a user a
 *	dealer) may post tiers; the refusal says so.  The word TIER is
 *	"tier" in every language, or a word of market-tier-word.
 *
 *   BUY on a tiered offer
 *	> BUY 61 12
 *	< Order #62: 12 bags of DAP from Agro Ltd (offer #61), total ...
 *	< 3,400 KES a bag now; 3,200 when orders reach 20 bags (12 so far).
 *	The orders that count are the offer's orders that stand (not
 *	rejected, expired or cancelled; a pool member's share order does
 *	not count twice), all within the offer's window: an offer takes
 *	orders only while it is open.
 *
 *	When a BUY makes them reach a tier, the tier is marked reached (its
 *	time, once), every pending or accepted order on the offer takes the
 *	tier's price (price and total, exact in minor units: qty * price),
 *	and every other orderer is told once, with the sum of her orders,
 *	however many she has; the seller is told; the buyer who reached it
 *	is told in her reply.  A buying pool's order on the offer takes its
 *	members' share orders with it (the same price, each total exact),
 *	and each member is told once, with the sum of her shares
 *	(market-share-repriced): what she pays is her share order's.  Later orders are made at the tier's price.
 *	A BUY that passes two tiers tells once, with the lower price.  An
 *	order cancelled, rejected or expired later does not un-reach a tier:
 *	the price was promised to everybody who ordered.
 *
 *   ACCEPT offer			(the seller; her own tiered offer)
 *	> ACCEPT 61
 *	< 3 orders on offer #61 accepted: 24 bags, 76,800 KES. When the
 *	  goods leave, send SENT and each order's number.
 *	Every pending order on the offer, each through market_order_move
 *	(each buyer told as for ACCEPT of one order), in one reply.  An
 *	offer without tiers is refused as before (market-ref-own-offer).
 *
 * Offers are shown with their tiers (MY, the match notice to a buyer)
 * where the text with them fits one SMS; else as before.
 *
 * The hooks in market_post.c (SELL, MY, matches) and market_order.c (BUY,
 * ACCEPT) are one call each into this file; the rows are market_tiers
 * (market_store.c, step 4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

#define MARKET_TIER_PAGE	100	/* orderers told per store read */
#define MARKET_TIER_ACCEPT_MAX	200	/* orders one ACCEPT accepts */

/* --- SELL ------------------------------------------------------------------------ */

/* 1 if word w is TIER in the sender's language (or "tier"). */
static int
market_tier_is_word(struct market_call *c, const char *w)
{
	const char	*words, *p;
	size_t		 n = w != NULL ? strlen(w) : 0;

	if (n == 0)
		return 0;
	if (strcmp(w, "tier") == 0)
		return 1;
	/* the language's words, ';'-separated, as the router has them */
	if ((words = c->host->render(c->ctx, NULL, "market-tier-word", NULL,
	    0)) == NULL)
		return 0;
	for (p = words; *p != '\0'; p += strcspn(p, ";"), p += *p == ';')
		if (strncmp(p, w, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return 1;
	return 0;
}

/* A refusal of tier qty at price on post p: 1 (answered), *rc set. */
static int
market_tier_refuse(struct market_call *c, const char *tmpl, long long qty,
    long long price, const struct market_post *p, int *rc)
{
	struct market_args	 a = { .n = 0 };

	market_arg_num(&a, "qty", qty);
	market_arg_money(&a, "price", price);
	market_arg_money(&a, "base", p->price);
	market_arg_num(&a, "offered", p->qty);
	market_arg(&a, "unit", p->unit);
	market_arg_num(&a, "max", MARKET_TIERS_MAX);
	market_arg(&a, "currency", c->host->currency(c->ctx));
	*rc = market_reply(c, tmpl, &a);
	return 1;
}

int
market_tier_parse(struct market_call *c, const char *kind,
    const struct market_post *p, size_t *k, struct market_tier *t, size_t *n,
    int *rc)
{
	const char		*unit;
	const struct mb_host	*h = c->host;
	size_t			 argc = h->argc(c->ctx), i = *k + 1;
	char			 word[64];

	*n = 0;
	*rc = MB_OK;
	if (i >= argc || !market_tier_is_word(c, h->arg(c->ctx, i)))
		return 0;
	if (strcmp(kind, "offer") != 0) {
		*rc = MB_USAGE;
		return 1;
	}
	if ((h->sender_roles(c->ctx) & MB_ROLE_DEALER) == 0)
		return market_tier_refuse(c, "market-tier-not-dealer", 0, 0,
		    p, rc);
	/* TIER qty [unit] price, up to MARKET_TIERS_MAX + 1 to refuse */
	while (i < argc && market_tier_is_word(c, h->arg(c->ctx, i))) {
		struct market_tier	 x = { 0, 0, 0 };

		if (*n == MARKET_TIERS_MAX)
			return market_tier_refuse(c, "market-tier-too-many",
			    0, 0, p, rc);
		if (i + 2 >= argc || !h->arg_number(c->ctx, i + 1, 1,
		    MARKET_QTY_MAX, &x.qty))
			return market_tier_refuse(c, "market-tier-usage", 0,
			    0, p, rc);
		i += 2;
		/* the offer's own unit may follow the quantity, no other */
		if (!market_is_number(h->arg(c->ctx, i)) &&
		    (unit = h->unit(c->ctx, h->arg(c->ctx, i))) != NULL &&
		    (strcmp(unit, p->unit) != 0 || ++i >= argc))
			return market_tier_refuse(c, "market-tier-usage", 0,
			    0, p, rc);
		market_copy(word, sizeof(word), h->arg(c->ctx, i));
		if (market_money_parse(word, &x.price) == -1)
			return market_tier_refuse(c, "market-tier-usage", 0,
			    0, p, rc);
		if (*n > 0 && x.qty <= t[*n - 1].qty)
			return market_tier_refuse(c, "market-tier-qty-rising",
			    x.qty, x.price, p, rc);
		/* a tier the offer cannot reach would only mislead */
		if (x.qty > p->qty)
			return market_tier_refuse(c, "market-tier-qty-over",
			    x.qty, x.price, p, rc);
		if (x.price >= (*n > 0 ? t[*n - 1].price : p->price))
			return market_tier_refuse(c,
			    "market-tier-price-falling", x.qty, x.price, p, rc);
		t[(*n)++] = x;
		*k = i++;
	}
	return 0;
}

/*
 * The tiers t[from, n) as a list in the reader's language ("3,200 from
 * 20; 3,000 from 50") into buf.  MB_OK or MB_FAIL.
 */
static int
market_tier_list(struct market_call *c, const char *to,
    const struct market_tier *t, size_t from, size_t n, char *buf,
    size_t len)
{
	struct market_items	 l = { NULL, 0, 0 };
	struct market_args	 a;
	char			 sep[16], *s;
	size_t			 i;
	int			 rc = MB_FAIL;

	for (i = from; i < n; i++) {
		memset(&a, 0, sizeof(a));
		market_arg_num(&a, "qty", t[i].qty);
		market_arg_money(&a, "price", t[i].price);
		if (market_items_add(c, &l, to, "market-tier-item", &a) !=
		    MB_OK)
			goto out;
	}
	market_copy(sep, sizeof(sep), market_render(c, to, "market-list-sep",
	    NULL));
	if ((s = market_items_join(&l, 0, l.n, sep)) == NULL)
		goto out;
	market_copy(buf, len, s);
	free(s);
	rc = MB_OK;
out:
	market_items_free(&l);
	return rc;
}

int
market_tier_post(struct market_call *c, const struct market_post *p,
    const struct market_tier *t, size_t n)
{
	struct market_args	 a = { .n = 0 };
	char			 list[MARKET_TIER_TEXT];
	size_t			 i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (market_store_tier_insert(c, p->ref, &t[i]) == -1)
			return -1;
	if (market_tier_list(c, NULL, t, 0, n, list, sizeof(list)) != MB_OK)
		return -1;
	market_arg_num(&a, "ref", p->ref);
	market_arg(&a, "tiers", list);
	market_arg(&a, "unit", p->unit);
	market_arg_num(&a, "top", t[n - 1].qty);
	market_arg(&a, "currency", c->host->currency(c->ctx));
	return market_reply(c, "market-tier-posted", &a) == MB_OK ? 0 : -1;
}

/* --- BUY -------------------------------------------------------------------------- */

int
market_tier_price(struct market_call *c, struct market_post *p,
    long long qty)
{
	struct market_tier	 t[MARKET_TIERS_MAX];
	long long		 sum;
	size_t			 n, i;

	if (market_store_tiers(c, p->ref, t, MARKET_TIERS_MAX, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	if (market_store_tier_ordered(c, p->ref, &sum) == -1)
		return -1;
	/* a tier once reached stays so; otherwise this order may reach it */
	for (i = 0; i < n; i++)
		if ((t[i].reached != 0 || sum + qty >= t[i].qty) &&
		    t[i].price < p->price)
			p->price = t[i].price;
	return 0;
}

/*
 * Tell every orderer on offer p but the sender, once, what tier was
 * reached and the sum of her orders at its price; with members, every
 * member of a buying pool whose share orders on p were repriced with
 * their pool order (the sender too: her reply is about her own order),
 * once, the sum of her shares.  0 or -1.
 */
static int
market_tier_tell(struct market_call *c, const struct market_post *p,
    const struct market_tier *tier, int members)
{
	struct market_tier_buyer	*b;
	struct market_args		 a;
	char				 after[MARKET_MSISDN_LEN] = "";
	size_t				 n, i, page;
	int				 rc = -1;

	if ((b = calloc(MARKET_TIER_PAGE, sizeof(*b))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return -1;
	}
	/* every orderer has a unit at least: the pages are bounded */
	for (page = 0; page <= MARKET_QTY_MAX / MARKET_TIER_PAGE; page++) {
		if (market_store_tier_buyers(c, p->ref, members, after, b,
		    MARKET_TIER_PAGE, &n) == -1)
			goto out;
		for (i = 0; i < n; i++) {
			if (!members && strcmp(b[i].buyer, c->actor) == 0)
				continue;
			memset(&a, 0, sizeof(a));
			market_arg_num(&a, "offer", p->ref);
			market_arg_num(&a, "tier", tier->qty);
			market_arg(&a, "unit", p->unit);
			market_arg(&a, "commodity", p->commodity);
			market_arg_money(&a, "price", tier->price);
			market_arg_num(&a, "qty", b[i].qty);
			market_arg_money(&a, "total", b[i].total);
			market_arg(&a, "currency", c->host->currency(c->ctx));
			if (members)
				market_arg_num(&a, "pool", b[i].pool);
			if (market_notify(c, b[i].buyer, members ?
			    "market-share-repriced" : "market-tier-reached",
			    &a) != MB_OK)
				goto out;
		}
		if (n < MARKET_TIER_PAGE) {
			rc = 0;
			goto out;
		}
		market_copy(after, sizeof(after), b[n - 1].buyer);
	}
	c->host->log(c->ctx, MB_LOG_ERROR, "market: offer %lld: too many "
	    "orderers to tell", p->ref);
out:
	free(b);
	return rc;
}

int
market_tier_order(struct market_call *c, const struct market_post *p,
    const struct market_order *o)
{
	struct market_tier	 t[MARKET_TIERS_MAX];
	struct market_args	 a = { .n = 0 };
	const struct market_tier *reached = NULL, *next = NULL;
	long long		 sum;
	size_t			 n, i;
	int			 rc;

	if (market_store_tiers(c, p->ref, t, MARKET_TIERS_MAX, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	if (market_store_tier_ordered(c, p->ref, &sum) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (t[i].reached == 0 && sum >= t[i].qty) {
			if ((rc = market_store_tier_reach(c, p->ref,
			    t[i].qty)) == -1)
				return -1;
			if (rc == 1)
				reached = &t[i];
		} else if (t[i].reached == 0 && next == NULL)
			next = &t[i];
	}
	market_arg_num(&a, "ref", o->ref);
	market_arg_num(&a, "offer", p->ref);
	market_arg(&a, "unit", p->unit);
	market_arg(&a, "commodity", p->commodity);
	market_arg_money(&a, "price", o->price);
	market_arg_num(&a, "sofar", sum);
	market_arg(&a, "currency", c->host->currency(c->ctx));
	if (reached != NULL) {
		c->host->log(c->ctx, MB_LOG_INFO, "market: offer %lld reached "
		    "its tier of %lld at %lld", p->ref, reached->qty,
		    reached->price);
		if (market_store_tier_reprice(c, p->ref, reached->price) == -1 ||
		    market_tier_tell(c, p, reached, 0) == -1 ||
		    market_tier_tell(c, p, reached, 1) == -1)
			return -1;
		market_arg_num(&a, "tier", reached->qty);
		if (market_reply(c, "market-tier-you-reached", &a) != MB_OK)
			return -1;
		if (market_notify(c, p->msisdn, "market-tier-seller", &a) !=
		    MB_OK)
			return -1;
	}
	if (next == NULL)
		return 0;
	market_arg_num(&a, "tier", next->qty);
	market_arg_money(&a, "next", next->price);
	return market_reply(c, "market-tier-next", &a) == MB_OK ? 0 : -1;
}

/* --- ACCEPT of an offer -------------------------------------------------------- */

int
market_tier_accept(struct market_call *c, int *rc)
{
	struct market_post	 p;
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	struct market_tier	 tier;
	long long		*refs, ref, qty = 0, total = 0;
	size_t			 n, i, count = 0;
	int			 found;

	*rc = MB_FAIL;
	if (c->host->argc(c->ctx) != 1 || !market_ref_arg(c, 0, &ref))
		return 0;
	if ((found = market_store_post_get(c, ref, &p)) == -1)
		return 1;
	if (found == 0 || strcmp(p.kind, "offer") != 0 ||
	    strcmp(p.msisdn, c->actor) != 0)
		return 0;
	/* a batch is a tiered offer's: another offer is refused as before */
	if (market_store_tiers(c, ref, &tier, 1, &n) == -1)
		return 1;
	if (n == 0)
		return 0;
	if ((refs = calloc(MARKET_TIER_ACCEPT_MAX, sizeof(*refs))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return 1;
	}
	if (market_store_offer_pending(c, ref, c->actor, refs,
	    MARKET_TIER_ACCEPT_MAX, &n) == -1)
		goto out;
	/* one reply for all: each step's own reply is left out */
	c->batch = 1;
	for (i = 0; i < n; i++) {
		if ((found = market_store_order_get(c, refs[i], &o)) == -1)
			goto out;
		if (found == 0 || !market_order_can(o.state, "accepted"))
			continue;
		if (market_order_move(c, &o, "accepted", NULL, NULL) != MB_OK)
			goto out;
		count++;
		qty += o.qty;
		total += o.total;
	}
	c->batch = 0;
	market_arg_num(&a, "ref", ref);
	market_arg_num(&a, "count", (long long)count);
	market_arg_num(&a, "qty", qty);
	market_arg(&a, "unit", p.unit);
	market_arg_money(&a, "total", total);
	market_arg(&a, "currency", c->host->currency(c->ctx));
	*rc = market_reply(c, count == 0 ? "market-tier-accept-none" :
	    n == MARKET_TIER_ACCEPT_MAX ? "market-tier-accept-more" :
	    "market-tier-accept", &a);
out:
	c->batch = 0;
	free(refs);
	return 1;
}

/* --- showing an offer ---------------------------------------------------------- */

const char *
market_tier_show(struct market_call *c, long long ref, const char *to,
    struct market_args *a, const char *tmpl, char *buf, size_t len)
{
	static const struct {
		const char	*plain, *tiers;
	} variants[] = {
		{ "market-item-offer",	"market-item-offer-tiers" },
		{ "market-match-buyer",	"market-match-buyer-tiers" },
	};
	struct market_tier	 t[MARKET_TIERS_MAX];
	const char		*text, *with = NULL;
	size_t			 n, i, from = 0;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		if (strcmp(variants[i].plain, tmpl) == 0)
			with = variants[i].tiers;
	if (with == NULL)
		return tmpl;
	if (market_store_tiers(c, ref, t, MARKET_TIERS_MAX, &n) == -1)
		return NULL;
	/* reached tiers are the price now: the ones still ahead are shown */
	while (from < n && t[from].reached != 0)
		from++;
	if (from == n || a->n >= MARKET_MAX_ARGS)
		return tmpl;
	if (market_tier_list(c, to, t, from, n, buf, len) != MB_OK)
		return NULL;
	market_arg(a, "tiers", buf);
	/* a list item: the page takes as many as fit; a notice: one SMS */
	if (to == NULL)
		return with;
	if ((text = market_render(c, to, with, a)) == NULL)
		return NULL;
	if (c->host->sms_parts(c->ctx, text) != 1) {
		a->n--;		/* too long with them: as before */
		return tmpl;
	}
	return with;
}
