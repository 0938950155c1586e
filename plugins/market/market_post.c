/*
 * market_post.c - posting and finding: SELL and WANT, the matches a new
 * post is told of (and its counterparts), and MY, what a user has open.
 *
 * Commands, with an exchange each ("> " what a phone sends, "< " what it
 * gets; replies are templates market-* of the sender's language):
 *
 *   SELL commodity qty [unit] price [market]
 *   SELL qty [unit] commodity price [market]
 *	> SELL maize 10 bags 3000
 *	< Offer #41: 10 bags of maize at 3,000 KES a bag, Nakuru. Buyers
 *	  order with BUY 41 and how many.
 *	The commodity is every word before the quantity, or after the
 *	quantity and its unit ("SELL 10 bags maize @ 3,000"; catalogue
 *	codes and aliases, "sukuma wiki" too); a near miss gets a
 *	suggestion.  The unit may be omitted; the only unit allowed is the
 *	commodity's catalogue unit.  The price is per unit, whole or with
 *	two decimals ("2.50"), 0.01 to 10^9; typed in groups of three
 *	digits ("6 000") it is one number.  The market is the poster's (REG)
 *	unless a market is named last.
 *
 *   WANT commodity qty [unit] maxprice [market]
 *	> WANT maize 5 bags 3200
 *	< Want #42: 5 bags of maize at up to 3,200 KES a bag, Nakuru.
 *	  Sellers will be told.
 *
 *	A new post is matched against the open posts of the other kind:
 *	same commodity and unit, in scope (match-scope: the same market,
 *	the same region, or anywhere; a post with no market matches every
 *	market), offer price <= want price, another person.  At most
 *	max-matches, the best price first (for a new offer the wants that
 *	pay most, for a new want the cheapest offers), then the oldest.  The
 *	poster gets them listed in a second reply (market-match-wants /
 *	market-match-offers); each counterpart gets a notice with the
 *	reference to act on (market-match-buyer: "send BUY 41 5";
 *	market-match-seller), and the poster's record where it fits
 *	(market_rep.c).
 *
 *   MY [page]
 *	> MY
 *	< #41 selling 5 bags of maize at 3,000; #43 you sell 5 bags of
 *	  maize, 15,000: accepted, not yet sent. 2 more: send MY 2
 *	Open offers, open wants, then orders not final (as buyer or
 *	seller), newest first, in pages of one SMS (see "MY" below).
 *
 * Posts: open -> closed (an offer sold out, or a want fully ordered;
 * back to open when an order returns its quantity) | cancelled | expired.
 *
 * Ordering from an offer is market_order.c's; a post's price far off the
 * usual one is asked about first (market_ask.c); offers and wants that
 * expire are the timer's (market.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

#define MARKET_FETCH_MAX	200	/* candidates read for matching */
#define MARKET_MY_MAX		100	/* posts, and orders, read for MY */
#define MARKET_LIST_NAME	16	/* bytes of a name in a list */

/* --- SELL and WANT ---------------------------------------------------------------- */

/* Is candidate q within the conf's scope of post p? */
static int
market_in_scope(struct market_call *c, const struct market_post *p,
    const char *p_region, const struct market_post *q)
{
	const char	*r;

	if (c->conf->scope == MARKET_SCOPE_ALL || p->market[0] == '\0' ||
	    q->market[0] == '\0' || strcmp(p->market, q->market) == 0)
		return 1;
	if (c->conf->scope == MARKET_SCOPE_MARKET || p_region[0] == '\0')
		return 0;
	r = c->host->market_region(c->ctx, q->market);
	return r != NULL && strcmp(r, p_region) == 0;
}

/*
 * Tell the counterparts of new post p (at most max-matches, best price
 * first) and, with list, list them to the poster in a second reply: the
 * items (market-item-buyer, market-item-offer-match) that fit one SMS,
 * and how many more were told.  A pool's offer (farmers > 0) is told to
 * buyers as market-pool-match, with how many farmers are in it; a want
 * pool to sellers as market-pool-match-seller, naming OFFER, and a new
 * offer matching a want pool tells its dealer the same; a pool's member
 * is not matched with her own pool (market_pool_match).
 */
int
market_match_post(struct market_call *c, const struct market_post *p,
    long long farmers, int list_it)
{
	struct market_post	*cand;
	struct market_pool	 pool;
	struct market_items	 list = { NULL, 0, 0 };
	struct market_args	 a;
	char			 region[MARKET_CODE_LEN] = "";
	char			 me[MARKET_NAME_LEN];
	char			 phone[MARKET_MSISDN_LEN];
	char			 them[MARKET_REASON_LEN + 8];
	char			 mname[MARKET_NAME_LEN], sep[16];
	char			 tiers[MARKET_TIER_TEXT];
	char			 record[MARKET_REP_TEXT];
	const char		*r, *tmpl;
	char			*joined = NULL;
	size_t			 n, i, told = 0;
	long			 fit;
	long long		 first = 0, buy = 0;
	int			 offer = strcmp(p->kind, "offer") == 0;
	int			 rc = MB_FAIL, in_pool;

	if (c->conf->max_matches <= 0)
		return MB_OK;
	if ((cand = calloc(MARKET_FETCH_MAX, sizeof(*cand))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return MB_FAIL;
	}
	if (market_store_candidates(c, p, cand, MARKET_FETCH_MAX, &n) == -1)
		goto out;
	if (p->market[0] != '\0' &&
	    (r = c->host->market_region(c->ctx, p->market)) != NULL)
		market_copy(region, sizeof(region), r);
	market_person(c, p->msisdn, me, sizeof(me));
	if (market_contact(c, p->msisdn, phone, sizeof(phone)) == -1)
		goto out;
	market_market_name(c, p->market, mname, sizeof(mname));
	for (i = 0; i < n && told < (size_t)c->conf->max_matches; i++) {
		const struct market_post *q = &cand[i];
		const struct market_post *o = offer ? p : q;
		const struct market_post *w = offer ? q : p;

		if (!market_in_scope(c, p, region, q))
			continue;
		/* a pool's member is never matched with her own pool; a
		   dealer is told OFFER for a buying pool (market_pool_order.c) */
		if ((in_pool = market_pool_match(c, p, q)) != 0) {
			if (in_pool == -1)
				goto out;
			continue;
		}
		told++;
		memset(&a, 0, sizeof(a));
		market_arg_num(&a, "ref", o->ref);
		market_arg_num(&a, "want", w->ref);
		market_arg(&a, "unit", p->unit);
		market_arg(&a, "commodity", p->commodity);
		market_arg(&a, "currency", c->host->currency(c->ctx));
		market_arg(&a, "name", me);
		market_arg(&a, "phone", phone);
		/* the new post's quantity, price and market; to a buyer
		   also how much to send BUY for */
		market_arg_num(&a, "qty", p->qty_left);
		market_arg_money(&a, "price", p->price);
		market_arg(&a, "market", mname);
		if (offer)
			market_arg_num(&a, "buy", q->qty_left < p->qty_left ?
			    q->qty_left : p->qty_left);
		if (farmers > 0)
			/* a pool: its farmers, never tiers */
			market_arg_num(&a, "farmers", farmers);
		if (farmers > 0 && offer)
			tmpl = "market-pool-match";
		else if (farmers > 0)
			/* a want pool: the seller's step is OFFER */
			tmpl = "market-pool-match-seller";
		else if (offer)
			tmpl = market_tier_show(c, p->ref, q->msisdn, &a,
			    "market-match-buyer", tiers, sizeof(tiers));
		else
			tmpl = "market-match-seller";
		/* the poster's record, where it fits (market_rep.c) */
		if (tmpl != NULL)
			tmpl = market_rep_show(c, p->msisdn, q->msisdn, &a,
			    tmpl, record, sizeof(record));
		if (tmpl == NULL || market_notify(c, q->msisdn, tmpl, &a) !=
		    MB_OK)
			goto out;
		if (!list_it)
			continue;
		/* the poster's list: who wants it, or which offers */
		memset(&a, 0, sizeof(a));
		in_pool = 1;
		market_arg_num(&a, "ref", q->ref);
		market_arg_num(&a, "qty", q->qty_left);
		market_arg(&a, "unit", q->unit);
		market_arg_money(&a, "price", q->price);
		if (offer) {
			/* a long name loses its last words, not the item */
			market_person(c, q->msisdn, them, MARKET_NAME_LEN);
			while (strlen(them) > MARKET_LIST_NAME &&
			    market_cut_word(them, sizeof(them),
			    MARKET_ELLIPSIS))
				;
			market_arg(&a, "name", them);
		} else if ((in_pool = market_pool_find(c, q->ref, &pool)) ==
		    -1)
			goto out;
		else if (in_pool == 0)
			/* a pool's offer says how many farmers are in it */
			market_arg_num(&a, "farmers", pool.members);
		if (!offer && first == 0) {
			/* the example BUY of the reply: the best offer */
			first = q->ref;
			buy = q->qty_left < p->qty_left ? q->qty_left :
			    p->qty_left;
		}
		if (market_items_add(c, &list, NULL, offer ?
		    "market-item-buyer" : in_pool == 0 ?
		    "market-pool-item-match" : "market-item-offer-match", &a) !=
		    MB_OK)
			goto out;
	}
	rc = MB_OK;
	if (told == 0 || !list_it)
		goto out;
	rc = MB_FAIL;
	market_copy(sep, sizeof(sep), market_render(c, NULL,
	    "market-list-sep", NULL));
	memset(&a, 0, sizeof(a));
	market_arg_num(&a, "ref", p->ref);
	market_arg_num(&a, "count", (long long)told);
	market_arg(&a, "commodity", p->commodity);
	market_arg(&a, "unit", p->unit);
	if (!offer) {
		market_arg_num(&a, "first", first);
		market_arg_num(&a, "buy", buy);
	}
	if ((fit = market_items_fit(c, &list, 0, sep, offer ?
	    "market-match-wants" : "market-match-offers", "matches", &a)) ==
	    -1)
		goto out;
	if ((joined = market_items_join(&list, 0, (size_t)fit, sep)) == NULL)
		goto out;
	market_arg(&a, "matches", joined);
	market_arg_num(&a, "more", (long long)(list.n - (size_t)fit));
	rc = market_reply(c, offer ? "market-match-wants" :
	    "market-match-offers", &a);
out:
	free(joined);
	market_items_free(&list);
	free(cand);
	return rc;
}

/* 1 if s is n digits only. */
static int
market_is_digits(const char *s, size_t n)
{
	size_t	 i;

	if (s == NULL || strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * The price at word k, as typed in groups of three digits separated by
 * spaces ("6 000", "1 500 000") joined into buf: a word of 1 to 3 digits
 * not starting with 0, then words of exactly 3 digits.  Where a price is
 * expected, a word of three digits after it can be nothing else (a
 * market is no number).  Returns the index of the price's last word.
 */
static size_t
market_price_words(struct mb_ctx *ctx, const struct mb_host *host, size_t k,
    char *buf, size_t len)
{
	const char	*w = host->arg(ctx, k);
	size_t		 argc = host->argc(ctx), n;

	market_copy(buf, len, w);
	n = w != NULL ? strlen(w) : 0;
	if (n < 1 || n > 3 || w[0] == '0' || !market_is_digits(w, n))
		return k;
	while (k + 1 < argc && market_is_digits(host->arg(ctx, k + 1), 3) &&
	    strlen(buf) + 3 < len) {
		strncat(buf, host->arg(ctx, ++k), len - strlen(buf) - 1);
	}
	return k;
}

/*
 * SELL / WANT commodity qty [unit] price [market], or, as people also
 * say it, SELL / WANT qty [unit] commodity price [market] ("SELL 10 bags
 * maize 3000"): the commodity is the words before the first number, or
 * after the quantity (and its unit) up to the price.
 */
static int
market_post_command(struct mb_ctx *ctx, const struct mb_host *host,
    const char *kind)
{
	struct market_call	 c;
	struct market_post	 p;
	struct market_args	 a = { .n = 0 };
	struct market_tier	 tiers[MARKET_TIERS_MAX];
	char			 word[128], mname[MARKET_NAME_LEN], price[64];
	const char		*code, *w, *unit;
	size_t			 argc = host->argc(ctx), k, i, first, last;
	size_t			 qk, uk = SIZE_MAX, price_word, ntiers;
	long long		 ref;
	int			 offer = strcmp(kind, "offer") == 0, rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	memset(&p, 0, sizeof(p));
	if (argc > 0 && market_is_number(host->arg(ctx, 0))) {
		/* the quantity, maybe its unit, then the commodity */
		qk = 0;
		k = 1;
		w = host->arg(ctx, k);
		if (k < argc && !market_is_number(w) &&
		    host->unit(ctx, w) != NULL &&
		    host->commodity(ctx, w) == NULL)
			uk = k++;
		for (first = k; k < argc && !market_is_number(host->arg(ctx,
		    k)); k++)
			;
		last = k;
		if (first == last || k >= argc)
			return MB_USAGE;
	} else {
		for (k = 0; k < argc && !market_is_number(host->arg(ctx, k));
		    k++)
			;
		if (k == 0 || k + 1 >= argc)
			return MB_USAGE;
		first = 0;
		last = k;
		qk = k++;
		if (!market_is_number(host->arg(ctx, k))) {
			uk = k;
			if (++k >= argc)
				return MB_USAGE;
		}
	}
	/* the commodity: one word or several ("sukuma wiki") */
	word[0] = '\0';
	for (i = first; i < last; i++) {
		if (i > first)
			strncat(word, " ", sizeof(word) - strlen(word) - 1);
		strncat(word, host->arg(ctx, i), sizeof(word) - strlen(word) -
		    1);
	}
	if ((code = host->commodity(ctx, word)) == NULL) {
		const char	*s = host->commodity_suggest(ctx, word);

		market_arg(&a, "word", word);
		market_arg(&a, "suggestion", s);
		market_arg(&a, "commodity", s);
		return market_reply(&c, s != NULL ?
		    "market-commodity-suggest" : "market-unknown-commodity",
		    &a);
	}
	market_copy(p.commodity, sizeof(p.commodity), code);
	if (!host->arg_number(ctx, qk, 1, MARKET_QTY_MAX, &p.qty)) {
		market_arg(&a, "word", host->arg(ctx, qk));
		market_arg_num(&a, "max", MARKET_QTY_MAX);
		return market_reply(&c, "market-bad-qty", &a);
	}
	/* the unit: only the commodity's own */
	unit = host->commodity_unit(ctx, p.commodity);
	market_copy(p.unit, sizeof(p.unit), unit != NULL ? unit : "");
	if (uk != SIZE_MAX) {
		w = host->arg(ctx, uk);
		unit = host->unit(ctx, w);
		if (unit == NULL || strcmp(unit, p.unit) != 0) {
			market_arg(&a, "word", w);
			market_arg(&a, "commodity", p.commodity);
			market_arg(&a, "unit", p.unit);
			return market_reply(&c, "market-bad-unit", &a);
		}
	}
	k = market_price_words(ctx, host, k, price, sizeof(price));
	if (market_money_parse(price, &p.price) == -1) {
		market_arg(&a, "word", price);
		return market_reply(&c, "market-bad-price", &a);
	}
	price_word = k;
	if (market_tier_parse(&c, kind, &p, &k, tiers, &ntiers, &rc))
		return rc;
	/* the market: named last, else the poster's */
	if (++k < argc) {
		word[0] = '\0';
		for (i = k; i < argc; i++) {
			if (i > k)
				strncat(word, " ", sizeof(word) -
				    strlen(word) - 1);
			strncat(word, host->arg(ctx, i), sizeof(word) -
			    strlen(word) - 1);
		}
		if ((code = host->market(ctx, word)) == NULL) {
			const char	*near = host->market_suggest(ctx, word);

			market_arg(&a, "word", word);
			if (near == NULL)
				return market_reply(&c,
				    "market-unknown-market", &a);
			market_market_name(&c, near, mname, sizeof(mname));
			market_arg(&a, "suggestion", mname);
			return market_reply(&c, "market-market-suggest", &a);
		}
	} else if ((code = host->sender_market(ctx)) == NULL)
		return market_reply(&c, "market-need-market", NULL);
	market_copy(p.market, sizeof(p.market), code);
	market_copy(p.kind, sizeof(p.kind), kind);
	if (market_post_ask(&c, &p, price_word, &rc))
		return rc;

	if ((ref = host->ref_next(ctx, kind)) < 0) {
		host->log(ctx, MB_LOG_ERROR, "market: no reference number");
		return MB_FAIL;
	}
	p.ref = ref;
	market_copy(p.kind, sizeof(p.kind), kind);
	market_copy(p.msisdn, sizeof(p.msisdn), c.actor);
	p.qty_left = p.qty;
	market_copy(p.state, sizeof(p.state), "open");
	p.created = c.now;
	p.expires = c.now + c.conf->offer_lifetime;
	if (market_store_post_insert(&c, &p) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: %s %lld: %lld %s %s at %lld by %s",
	    kind, p.ref, p.qty, p.unit, p.commodity, p.price, p.msisdn);

	market_market_name(&c, p.market, mname, sizeof(mname));
	market_arg_num(&a, "ref", p.ref);
	market_arg_num(&a, "qty", p.qty);
	market_arg(&a, "unit", p.unit);
	market_arg(&a, "commodity", p.commodity);
	market_arg_money(&a, "price", p.price);
	market_arg(&a, "currency", host->currency(ctx));
	market_arg(&a, "market", mname);
	if (market_reply(&c, offer ? "market-offer-ok" : "market-want-ok",
	    &a) != MB_OK)
		return MB_FAIL;
	if (market_tier_post(&c, &p, tiers, ntiers) == -1)
		return MB_FAIL;
	return market_match_post(&c, &p, 0, 1);
}

int
market_sell(struct mb_ctx *ctx, const struct mb_host *host)
{
	return market_post_command(ctx, host, "offer");
}

int
market_want(struct mb_ctx *ctx, const struct mb_host *host)
{
	return market_post_command(ctx, host, "want");
}

/* --- MY -------------------------------------------------------------------------------------------
 *
 * MY [page]: the sender's open offers, then open wants, then orders not
 * final (as buyer or seller), newest first, as items of the language
 * files (market-item-*, an order's state from market-state-*) joined by
 * market-list-sep, in pages of one SMS each.  A page holds as many items
 * as fit with its words (market-my-page) and says how many come after it
 * and the command for the next page ("... 5 more: send MY 2").  Pages are
 * counted from the first each time, so MY 2 shows what MY left out.
 */

/* Every item of the sender's MY, into l: MB_OK or MB_FAIL. */
static int
market_my_items(struct market_call *c, struct market_items *l)
{
	struct market_post	*posts = NULL;
	struct market_order	*orders = NULL;
	struct market_args	 a;
	char			 tiers[MARKET_TIER_TEXT];
	const char		*state, *show;
	struct market_pool	 pl;
	size_t			 np, tp, no, to, i;
	int			 kind, pool, rc = MB_FAIL;

	posts = calloc(MARKET_MY_MAX, sizeof(*posts));
	orders = calloc(MARKET_MY_MAX, sizeof(*orders));
	if (posts == NULL || orders == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		goto out;
	}
	if (market_store_my_posts(c, c->actor, posts, MARKET_MY_MAX, &np,
	    &tp) == -1 ||
	    market_store_my_orders(c, c->actor, orders, MARKET_MY_MAX, &no,
	    &to) == -1)
		goto out;
	/* offers, then wants; a pool's post is its pool's line below */
	for (kind = 0; kind < 2; kind++)
		for (i = 0; i < np; i++) {
			const struct market_post *p = &posts[i];

			if ((strcmp(p->kind, "offer") == 0) != (kind == 0))
				continue;
			if ((pool = market_pool_find(c, p->ref, &pl)) == -1)
				goto out;
			if (pool == 0)
				continue;
			memset(&a, 0, sizeof(a));
			market_arg_num(&a, "ref", p->ref);
			market_arg_num(&a, "qty", p->qty_left);
			market_arg_num(&a, "posted", p->qty);
			market_arg(&a, "unit", p->unit);
			market_arg(&a, "commodity", p->commodity);
			market_arg_money(&a, "price", p->price);
			if ((show = kind == 0 ? market_tier_show(c, p->ref,
			    NULL, &a, "market-item-offer", tiers,
			    sizeof(tiers)) : "market-item-want") == NULL ||
			    market_items_add(c, l, NULL, show, &a) != MB_OK)
				goto out;
		}
	if (market_pool_my_items(c, l) != MB_OK)
		goto out;
	for (i = 0; i < no; i++) {
		const struct market_order *o = &orders[i];
		char	 tmpl[32];

		memset(&a, 0, sizeof(a));
		market_arg_num(&a, "ref", o->ref);
		snprintf(tmpl, sizeof(tmpl), "market-state-%s", o->state);
		if ((state = market_render(c, NULL, tmpl, &a)) == NULL)
			goto out;
		market_arg_num(&a, "offer", o->offer);
		market_arg_num(&a, "qty", o->qty);
		market_arg(&a, "unit", o->unit);
		market_arg(&a, "commodity", o->commodity);
		market_arg_money(&a, "total", o->total);
		market_arg(&a, "state", state);
		if (market_items_add(c, l, NULL, strcmp(o->buyer, c->actor) ==
		    0 ? "market-item-order-buy" : "market-item-order-sell",
		    &a) != MB_OK)
			goto out;
	}
	rc = MB_OK;
out:
	free(posts);
	free(orders);
	return rc;
}

int
market_my(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_items	 list = { NULL, 0, 0 };
	struct market_args	 a;
	char			 sep[16], *joined = NULL;
	long long		 page = 1, p;
	size_t			 first = 0;
	long			 fit = 0;
	int			 rc = MB_FAIL;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) > 1 || (host->argc(ctx) == 1 &&
	    !host->arg_number(ctx, 0, 1, 1000, &page)))
		return MB_USAGE;
	if (market_my_items(&c, &list) != MB_OK)
		goto out;
	if (list.n == 0) {
		rc = market_reply(&c, "market-my-empty", NULL);
		goto out;
	}
	market_copy(sep, sizeof(sep), market_render(&c, NULL,
	    "market-list-sep", NULL));
	memset(&a, 0, sizeof(a));
	/* the pages before this one, counted as MY shows them */
	for (p = 1; ; p++) {
		memset(&a, 0, sizeof(a));
		market_arg_num(&a, "next", p + 1);
		if ((fit = market_items_fit(&c, &list, first, sep,
		    "market-my-page", "items", &a)) == -1)
			goto out;
		if (p == page)
			break;
		first += (size_t)fit;
		if (first >= list.n) {
			memset(&a, 0, sizeof(a));
			market_arg_num(&a, "page", page);
			market_arg_num(&a, "pages", p);
			rc = market_reply(&c, "market-my-no-page", &a);
			goto out;
		}
	}
	if ((joined = market_items_join(&list, first, first + (size_t)fit,
	    sep)) == NULL)
		goto out;
	market_arg(&a, "items", joined);
	market_arg_num(&a, "more", (long long)(list.n - first - (size_t)fit));
	rc = market_reply(&c, "market-my-page", &a);
out:
	free(joined);
	market_items_free(&list);
	return rc;
}
