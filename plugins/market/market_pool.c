/*
 * market_pool.c - pools: many small lots sold as one offer, or many small
 * wants bought as one want.  POOL opens one, JOIN puts a member's lot in
 * (or her want), LEAVE takes it out, CLOSE lists a pool below its target;
 * the pool's states (market_pool_move), its deadline and grace (the
 * market-sweep timer), CANCEL of a pool by its opener and MY's lines of
 * pools.  What happens when a pool's offer is bought (the members' share
 * orders, the allocation, OFFER on a want pool) is market_pool_order.c's.
 *
 * A pool lives in the market's own tables (market_pools, its shares in
 * market_pool_shares) because its sale IS an order on an offer: a listed
 * sell pool is the offer of the same reference in market_posts (a want
 * pool the want of the same reference), so BUY, matching, MY and the
 * order state machine work on it as on any post.
 *
 * Commands, with an exchange each ("> " what a phone sends, "< " what it
 * gets; replies are templates market-pool-* of the sender's language):
 *
 *   POOL SELL commodity target [unit] price days [market]
 *	> POOL SELL maize 100 bags 3000 7
 *	< Pool #51: maize, 100 bags at 3,000 KES, open 7 days. Members send
 *	  JOIN 51 qty.
 *	The word after POOL is SELL or WANT (the language's words of
 *	market-pool-word-sell / -want, or the English ones).  price is per
 *	unit; days 1 to 90; the market is the opener's unless one is named
 *	last.  The allocation rule (pool-allocation) is fixed when it opens.
 *
 *   POOL WANT commodity target [unit] price days [market]
 *	The same for buying together: price is the most members pay.
 *
 *   JOIN ref qty
 *	> JOIN 51 5
 *	< You put 5 bags in pool #51: 35 of 100 so far.
 *	Sets her share (a repeated JOIN sets it again, it never adds: JOIN
 *	51 5 twice is 5; JOIN 51 7 makes it 7; she keeps her place in the
 *	order of joining).  The pool takes at most its target: a share
 *	beyond it is cut to what fits and the reply says so.  Reaching the
 *	target lists the pool at once.  Only while the pool is open.
 *
 *   LEAVE ref
 *	> LEAVE 51
 *	< You left pool #51. It has 30 of 100 bags.
 *	Only while the pool is open: once listed, buyers may be ordering
 *	the whole, so LEAVE is refused with who to ask (the opener); once
 *	some of her share is sold, the refusal names her share order.
 *
 *   CLOSE ref
 *	> CLOSE 51
 *	< Pool #51 is now offered: 60 bags of maize at 3,000 KES.
 *	By the opener, while open, when the shares reach pool-min percent
 *	of the target: listed with what it has.
 *
 *	A JOIN, LEAVE or CLOSE of a pool no longer open is refused with
 *	where it stands (market-pool-is-<state>): a listed or sold pool's
 *	members are told to ask its opener, the opener himself his own
 *	step (listed: CANCEL while nothing is sold; sold: MY shows its
 *	order).
 *
 *   CANCEL ref (market_order.c's CANCEL, for a pool's reference)
 *	By the opener, while the pool is open, or listed with nothing sold:
 *	cancelled, its offer or want withdrawn, every member told.
 *
 * States (market_pool_move, the one place a pool changes state):
 *
 *	open -> listed		target reached by a JOIN, or CLOSE
 *	open -> lapsed		pool-grace after its deadline
 *	open -> cancelled	CANCEL by the opener
 *	listed -> sold		an order took all of its offer, or its
 *				offer expired (offer-lifetime) with some
 *				of it sold: it sold what it sold
 *	listed -> lapsed	its offer expired with nothing sold
 *	listed -> cancelled	CANCEL by the opener, nothing sold
 *	sold -> listed		an order gave its quantity back to an
 *				offer still open
 *	sold -> lapsed		an order gave its quantity back after the
 *				offer ended, and nothing of it is sold
 *
 * Timers (market-sweep, with the posts and orders, bounded alike): an
 * open pool past its deadline is told once (told = 1), opener and
 * members: the opener may CLOSE it to sell what is there; pool-grace
 * after the deadline it lapses, everyone told.  A listed pool's offer
 * (or want) expiring at offer-lifetime ends it (market_pool_ended):
 * nothing sold, it lapses, everyone told; some sold, it is sold, and
 * only the members with units unsold are told how many of theirs were
 * not sold (or bought), free to trade elsewhere.  A share order given
 * back once the offer has ended tells its member the same
 * (market_pool_order.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

#define MARKET_POOL_DAYS_MAX	90	/* days a pool stays open at most */
#define MARKET_POOL_MY_MAX	50	/* pools read for MY */

/* --- reading ---------------------------------------------------------------------- */

int
market_pool_find(struct market_call *c, long long ref, struct market_pool *p)
{
	int	 rc;

	if ((rc = market_store_pool_get(c, ref, p)) == -1)
		return -1;
	return rc == 1 ? 0 : 1;
}

int
market_pool_shares(struct market_call *c, long long pool,
    struct market_share *s, size_t max, size_t *n)
{
	return market_store_shares(c, pool, s, max, n);
}

/* --- notices ------------------------------------------------------------------------ */

void
market_pool_args(struct market_call *c, const struct market_pool *p,
    struct market_args *a)
{
	market_arg_num(a, "ref", p->ref);
	market_arg(a, "commodity", p->commodity);
	market_arg(a, "unit", p->unit);
	market_arg_money(a, "price", p->price);
	market_arg(a, "currency", c->host->currency(c->ctx));
	market_arg_num(a, "target", p->target);
	market_arg_num(a, "qty", p->total);
	market_arg_num(a, "farmers", p->members);
}

/*
 * The opener and every member told tmpl, each once, but the sender (who
 * gets a reply saying it instead).
 */
int
market_pool_tell(struct market_call *c, const struct market_pool *p,
    const char *tmpl, const struct market_args *a)
{
	struct market_share	*s;
	size_t			 n, i;
	int			 rc = MB_FAIL;

	if ((s = calloc(MARKET_POOL_SHARES_MAX, sizeof(*s))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return MB_FAIL;
	}
	if (market_store_shares(c, p->ref, s, MARKET_POOL_SHARES_MAX, &n) ==
	    -1)
		goto out;
	if (strcmp(p->opener, c->actor) != 0 &&
	    market_notify(c, p->opener, tmpl, a) != MB_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (strcmp(s[i].member, p->opener) == 0 ||
		    strcmp(s[i].member, c->actor) == 0)
			continue;
		if (market_notify(c, s[i].member, tmpl, a) != MB_OK)
			goto out;
	}
	rc = MB_OK;
out:
	free(s);
	return rc;
}

/* --- the state machine ----------------------------------------------------------------- */

static const struct {
	const char	*from, *to;
} market_pool_steps[] = {
	{ "open", "listed" },
	{ "open", "lapsed" },
	{ "open", "cancelled" },
	{ "listed", "sold" },
	{ "listed", "lapsed" },
	{ "listed", "cancelled" },
	{ "sold", "listed" },
	{ "sold", "lapsed" },
};

static int
market_pool_can(const char *from, const char *to)
{
	size_t	 i;

	for (i = 0; i < sizeof(market_pool_steps) /
	    sizeof(market_pool_steps[0]); i++)
		if (strcmp(market_pool_steps[i].from, from) == 0 &&
		    strcmp(market_pool_steps[i].to, to) == 0)
			return 1;
	return 0;
}

/*
 * The listing: the offer (a sell pool) or the want (a want pool) of the
 * pool's reference for all its shares hold, at its price, for
 * offer-lifetime; then the counterparts told as for a new post, with the
 * number of farmers in it.
 */
static int
market_pool_list(struct market_call *c, const struct market_pool *p)
{
	struct market_post	 post;

	memset(&post, 0, sizeof(post));
	post.ref = p->ref;
	market_copy(post.kind, sizeof(post.kind),
	    strcmp(p->kind, "sell") == 0 ? "offer" : "want");
	market_copy(post.msisdn, sizeof(post.msisdn), p->opener);
	market_copy(post.commodity, sizeof(post.commodity), p->commodity);
	market_copy(post.unit, sizeof(post.unit), p->unit);
	market_copy(post.market, sizeof(post.market), p->market);
	post.qty = post.qty_left = p->total;
	post.price = p->price;
	market_copy(post.state, sizeof(post.state), "open");
	post.created = c->now;
	post.expires = c->now + c->conf->offer_lifetime;
	if (market_store_post_insert(c, &post) == -1)
		return MB_FAIL;
	return market_match_post(c, &post, p->members, 0);
}

int
market_pool_move(struct market_call *c, struct market_pool *p,
    const char *to)
{
	struct market_args	 a = { .n = 0 };
	char			 from[sizeof(p->state)];
	const char		*tmpl = NULL;
	int			 rc;

	if (!market_pool_can(p->state, to))
		return 1;
	if ((rc = market_store_pool_state(c, p->ref, p->state, to)) != 1)
		return rc == 0 ? 1 : -1;
	market_copy(from, sizeof(from), p->state);
	market_copy(p->state, sizeof(p->state), to);
	c->host->log(c->ctx, MB_LOG_INFO, "market: pool %lld: %s -> %s",
	    p->ref, from, to);
	if (strcmp(to, "listed") == 0) {
		/* back from sold: the order's return reopened the post */
		if (strcmp(from, "sold") == 0)
			return 0;
		if (market_pool_list(c, p) != MB_OK)
			return -1;
		tmpl = strcmp(p->kind, "sell") == 0 ? "market-pool-listed" :
		    "market-pool-listed-want";
	} else if (strcmp(to, "lapsed") == 0) {
		if (strcmp(from, "listed") == 0 &&
		    market_store_post_end(c, p->ref, "expired") == -1)
			return -1;
		tmpl = "market-pool-lapsed";
		/* from sold: the members were told by their share orders
		   coming back; the opener, unless he sent the step */
		if (strcmp(from, "sold") == 0) {
			if (strcmp(p->opener, c->actor) == 0)
				return 0;
			market_pool_args(c, p, &a);
			return market_notify(c, p->opener, tmpl, &a) ==
			    MB_OK ? 0 : -1;
		}
	} else if (strcmp(to, "cancelled") == 0) {
		if (strcmp(from, "listed") == 0 &&
		    market_store_post_end(c, p->ref, "cancelled") == -1)
			return -1;
		tmpl = "market-pool-cancelled";
	}
	/* sold: each member is told her share by its share order */
	if (tmpl == NULL)
		return 0;
	market_pool_args(c, p, &a);
	return market_pool_tell(c, p, tmpl, &a) == MB_OK ? 0 : -1;
}

/* --- POOL ---------------------------------------------------------------------------- */

/* 1 if word is one of the ';'-separated words of template tmpl (the
   sender's language) or the English word en. */
static int
market_pool_word(struct market_call *c, const char *word, const char *tmpl,
    const char *en)
{
	const char	*words, *p, *e;
	size_t		 n = strlen(word);

	if (strcmp(word, en) == 0)
		return 1;
	if ((words = market_render(c, NULL, tmpl, NULL)) == NULL)
		return 0;
	for (p = words; *p != '\0'; p = *e == ';' ? e + 1 : e) {
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && strncmp(p, word, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * The words of POOL after SELL or WANT into p: commodity target [unit]
 * price days [market].  MB_OK with *done 0 to go on; else the reply was
 * made (or MB_USAGE, MB_FAIL) and *done is 1.
 */
static int
market_pool_parse(struct market_call *c, struct market_pool *p,
    long long *days, int *done)
{
	const struct mb_host	*host = c->host;
	struct mb_ctx		*ctx = c->ctx;
	struct market_args	 a = { .n = 0 };
	char			 word[128], mname[MARKET_NAME_LEN];
	const char		*code, *unit, *w;
	size_t			 argc = host->argc(ctx), k, i;

	*done = 1;
	for (k = 1; k < argc && !market_is_number(host->arg(ctx, k)); k++)
		;
	if (k == 1 || k + 2 >= argc)
		return MB_USAGE;
	word[0] = '\0';
	for (i = 1; i < k; i++) {
		if (i > 1)
			strncat(word, " ", sizeof(word) - strlen(word) - 1);
		strncat(word, host->arg(ctx, i), sizeof(word) - strlen(word) -
		    1);
	}
	if ((code = host->commodity(ctx, word)) == NULL) {
		const char	*s = host->commodity_suggest(ctx, word);

		market_arg(&a, "word", word);
		market_arg(&a, "suggestion", s);
		market_arg(&a, "commodity", s);
		return market_reply(c, s != NULL ?
		    "market-commodity-suggest" : "market-unknown-commodity",
		    &a);
	}
	market_copy(p->commodity, sizeof(p->commodity), code);
	if (!host->arg_number(ctx, k, 1, MARKET_QTY_MAX, &p->target)) {
		market_arg(&a, "word", host->arg(ctx, k));
		market_arg_num(&a, "max", MARKET_QTY_MAX);
		return market_reply(c, "market-bad-qty", &a);
	}
	unit = host->commodity_unit(ctx, p->commodity);
	market_copy(p->unit, sizeof(p->unit), unit != NULL ? unit : "");
	if (!market_is_number(host->arg(ctx, ++k))) {
		w = host->arg(ctx, k);
		unit = host->unit(ctx, w);
		if (unit == NULL || strcmp(unit, p->unit) != 0) {
			market_arg(&a, "word", w);
			market_arg(&a, "commodity", p->commodity);
			market_arg(&a, "unit", p->unit);
			return market_reply(c, "market-bad-unit", &a);
		}
		k++;
	}
	if (k + 1 >= argc)
		return MB_USAGE;
	if (market_money_parse(host->arg(ctx, k), &p->price) == -1) {
		market_arg(&a, "word", host->arg(ctx, k));
		return market_reply(c, "market-bad-price", &a);
	}
	if (!host->arg_number(ctx, ++k, 1, MARKET_POOL_DAYS_MAX, days)) {
		market_arg(&a, "word", host->arg(ctx, k));
		market_arg_num(&a, "max", MARKET_POOL_DAYS_MAX);
		return market_reply(c, "market-pool-bad-days", &a);
	}
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
				return market_reply(c,
				    "market-unknown-market", &a);
			market_market_name(c, near, mname, sizeof(mname));
			market_arg(&a, "suggestion", mname);
			return market_reply(c, "market-market-suggest", &a);
		}
	} else if ((code = host->sender_market(ctx)) == NULL)
		return market_reply(c, "market-need-market", NULL);
	market_copy(p->market, sizeof(p->market), code);
	*done = 0;
	return MB_OK;
}

/* POOL SELL|WANT commodity target [unit] price days [market] */
int
market_pool(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_pool	 p;
	struct market_args	 a = { .n = 0 };
	const char		*w;
	long long		 days = 0, ref, total;
	int			 done, rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	memset(&p, 0, sizeof(p));
	if (host->argc(ctx) < 1)
		return MB_USAGE;
	w = host->arg(ctx, 0);
	if (market_pool_word(&c, w, "market-pool-word-sell", "sell"))
		market_copy(p.kind, sizeof(p.kind), "sell");
	else if (market_pool_word(&c, w, "market-pool-word-want", "want"))
		market_copy(p.kind, sizeof(p.kind), "want");
	else
		return MB_USAGE;
	rc = market_pool_parse(&c, &p, &days, &done);
	if (done)
		return rc;
	/* the whole pool must fit one order, as a BUY of all of it */
	if (market_money_mul(p.target, p.price, &total) == -1 ||
	    total > MARKET_TOTAL_MAX) {
		market_pool_args(&c, &p, &a);
		market_arg_money(&a, "max", MARKET_TOTAL_MAX);
		return market_reply(&c, "market-pool-bad-total", &a);
	}
	if ((ref = host->ref_next(ctx, strcmp(p.kind, "sell") == 0 ?
	    "offer" : "want")) < 0) {
		host->log(ctx, MB_LOG_ERROR, "market: no reference number");
		return MB_FAIL;
	}
	p.ref = ref;
	market_copy(p.opener, sizeof(p.opener), c.actor);
	market_copy(p.rule, sizeof(p.rule), c.conf->pool_prorata ?
	    "prorata" : "joined");
	market_copy(p.state, sizeof(p.state), "open");
	p.created = c.now;
	p.deadline = c.now + days * 86400;
	if (market_store_pool_insert(&c, &p) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: pool %lld (%s): %lld %s %s at "
	    "%lld by %s, %lld days", p.ref, p.kind, p.target, p.unit,
	    p.commodity, p.price, p.opener, days);
	market_pool_args(&c, &p, &a);
	market_arg_num(&a, "days", days);
	return market_reply(&c, strcmp(p.kind, "sell") == 0 ?
	    "market-pool-ok" : "market-pool-want-ok", &a);
}

/* --- JOIN ------------------------------------------------------------------------------ */

/* Pool ref for a member's command: 1 and *p (open, or the reply made and
   *rc set: 0); -1 on failure. */
static int
market_pool_arg(struct market_call *c, long long ref, struct market_pool *p)
{
	int	 rc;

	if ((rc = market_pool_find(c, ref, p)) == -1)
		return -1;
	if (rc == 1) {
		if (market_reply_ref(c, "market-pool-unknown", ref) != MB_OK)
			return -1;
		return 0;
	}
	return 1;
}

/* A pool that is no longer open: where it stands. */
static int
market_pool_not_open(struct market_call *c, const struct market_pool *p)
{
	struct market_args	 a = { .n = 0 };
	char			 tmpl[40];

	market_pool_args(c, p, &a);
	snprintf(tmpl, sizeof(tmpl), "market-pool-is-%s", p->state);
	/* "ask its opener" is no answer to the opener himself */
	if ((strcmp(p->state, "listed") == 0 ||
	    strcmp(p->state, "sold") == 0) &&
	    strcmp(p->opener, c->actor) == 0)
		snprintf(tmpl, sizeof(tmpl), "market-pool-is-%s-own",
		    p->state);
	return market_reply(c, tmpl, &a);
}

/* JOIN ref qty: her share set to qty (at most what the target leaves). */
int
market_join(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_pool	 p;
	struct market_share	 s;
	struct market_args	 a = { .n = 0 };
	long long		 ref, qty, asked, others, room;
	const char		*tmpl;
	int			 rc, had;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 2 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	if (!host->arg_number(ctx, 1, 1, MARKET_QTY_MAX, &qty)) {
		market_arg(&a, "word", host->arg(ctx, 1));
		market_arg_num(&a, "max", MARKET_QTY_MAX);
		return market_reply(&c, "market-bad-qty", &a);
	}
	if ((rc = market_pool_arg(&c, ref, &p)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if (strcmp(p.state, "open") != 0)
		return market_pool_not_open(&c, &p);
	if ((had = market_store_share_get(&c, ref, c.actor, &s)) == -1)
		return MB_FAIL;
	if (!had && p.members >= MARKET_POOL_SHARES_MAX)
		return market_reply_ref(&c, "market-pool-full", ref);
	others = p.total - (had ? s.qty : 0);
	room = p.target - others;
	if (room <= 0)
		return market_reply_ref(&c, "market-pool-full", ref);
	asked = qty;
	if (qty > room)
		qty = room;
	if ((rc = market_store_share_put(&c, ref, c.actor, qty, had)) != 1)
		return MB_FAIL;	/* open pools have nothing sold */
	if ((rc = market_pool_find(&c, ref, &p)) != 0)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: pool %lld: %s has %lld, %lld of "
	    "%lld", ref, c.actor, qty, p.total, p.target);
	market_pool_args(&c, &p, &a);
	market_arg_num(&a, "share", qty);
	market_arg_num(&a, "asked", asked);
	/* what fit, or her share; full: it is offered now */
	tmpl = qty < asked ? "market-pool-join-cut" : p.total < p.target ?
	    "market-pool-join-ok" : "market-pool-join-full";
	if (market_reply(&c, tmpl, &a) != MB_OK)
		return MB_FAIL;
	if (p.total < p.target)
		return MB_OK;
	return market_pool_move(&c, &p, "listed") == 0 ? MB_OK : MB_FAIL;
}

/* --- LEAVE ----------------------------------------------------------------------------- */

/* The newest live share order of member's share in pool (0: none found):
   a rejected, cancelled or expired one is nothing she answers to. */
static const char market_sql_share_order[] =
    "SELECT ref FROM market_orders WHERE offer = $1 AND seller = $2"
    " AND parent IS NOT NULL AND state IN ('pending', 'accepted', 'sent',"
    " 'delivered') ORDER BY ref DESC LIMIT 1";
static const char market_sql_share_order_buyer[] =
    "SELECT ref FROM market_orders WHERE want = $1 AND buyer = $2"
    " AND parent IS NOT NULL AND state IN ('pending', 'accepted', 'sent',"
    " 'delivered') ORDER BY ref DESC LIMIT 1";

static int
market_pool_share_order(struct market_call *c, const struct market_pool *p,
    const char *member, long long *ref)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	*ref = 0;
	st = h->query(c->ctx, strcmp(p->kind, "sell") == 0 ?
	    market_sql_share_order : market_sql_share_order_buyer);
	if (st == NULL)
		return -1;
	b = h->bind_int(st, 1, p->ref);
	b |= h->bind_text(st, 2, member);
	if (b != 0) {
		h->done(st);
		return -1;
	}
	if ((rc = h->step(st)) == MB_ROW)
		*ref = h->column_int(st, 0);
	h->done(st);
	return rc == MB_ROW || rc == MB_DONE ? 0 : -1;
}

/* LEAVE ref: her share out of an open pool; refused once any is sold. */
int
market_leave(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_pool	 p;
	struct market_share	 s;
	struct market_args	 a = { .n = 0 };
	long long		 ref, order;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 1 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	if ((rc = market_pool_arg(&c, ref, &p)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if ((rc = market_store_share_get(&c, ref, c.actor, &s)) == -1)
		return MB_FAIL;
	if (rc == 0)
		return market_reply_ref(&c, "market-pool-not-member", ref);
	if (s.sold > 0) {
		/* her share order is what she answers now */
		if (market_pool_share_order(&c, &p, c.actor, &order) == -1)
			return MB_FAIL;
		market_pool_args(&c, &p, &a);
		market_arg_num(&a, "order", order != 0 ? order : ref);
		return market_reply(&c, "market-pool-leave-sold", &a);
	}
	if (strcmp(p.state, "open") != 0)
		return market_pool_not_open(&c, &p);
	if ((rc = market_store_share_delete(&c, ref, c.actor)) != 1)
		return MB_FAIL;
	if (market_pool_find(&c, ref, &p) != 0)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: pool %lld: %s left", ref,
	    c.actor);
	market_pool_args(&c, &p, &a);
	return market_reply(&c, "market-pool-leave-ok", &a);
}

/* --- CLOSE ------------------------------------------------------------------------------ */

/* The least a pool lists with: pool-min percent of its target, rounded
   up, at least 1. */
static long long
market_pool_min(const struct market_call *c, const struct market_pool *p)
{
	long long	 min = (p->target * c->conf->pool_min + 99) / 100;

	return min > 0 ? min : 1;
}

/* CLOSE ref: the opener lists an open pool holding pool-min or more. */
int
market_close(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_pool	 p;
	struct market_args	 a = { .n = 0 };
	long long		 ref;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 1 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	if ((rc = market_pool_arg(&c, ref, &p)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if (strcmp(p.opener, c.actor) != 0)
		return market_reply_ref(&c, "market-pool-not-opener", ref);
	if (strcmp(p.state, "open") != 0)
		return market_pool_not_open(&c, &p);
	market_pool_args(&c, &p, &a);
	if (p.total < market_pool_min(&c, &p)) {
		market_arg_num(&a, "min", market_pool_min(&c, &p));
		return market_reply(&c, "market-pool-close-low", &a);
	}
	if (market_reply(&c, "market-pool-close-ok", &a) != MB_OK)
		return MB_FAIL;
	return market_pool_move(&c, &p, "listed") == 0 ? MB_OK : MB_FAIL;
}

/* --- CANCEL ------------------------------------------------------------------------------ */

/*
 * CANCEL of a pool's reference (market_cancel): the opener's, while open
 * or listed with nothing sold.
 */
int
market_pool_cancel(struct market_call *c, struct market_pool *p)
{
	struct market_share	*s;
	size_t			 n, i;
	long long		 sold = 0;
	int			 rc;

	if (strcmp(p->opener, c->actor) != 0)
		return market_reply_ref(c, "market-pool-not-opener", p->ref);
	if (strcmp(p->state, "open") != 0 && strcmp(p->state, "listed") != 0)
		return market_pool_not_open(c, p);
	if ((s = calloc(MARKET_POOL_SHARES_MAX, sizeof(*s))) == NULL)
		return MB_FAIL;
	rc = market_store_shares(c, p->ref, s, MARKET_POOL_SHARES_MAX, &n);
	for (i = 0; rc == 0 && i < n; i++)
		sold += s[i].sold;
	free(s);
	if (rc == -1)
		return MB_FAIL;
	if (sold > 0)
		return market_reply_ref(c, "market-pool-cancel-sold", p->ref);
	if (market_reply_ref(c, "market-pool-cancel-ok", p->ref) != MB_OK)
		return MB_FAIL;
	return market_pool_move(c, p, "cancelled") == 0 ? MB_OK : MB_FAIL;
}

/* --- the timer ----------------------------------------------------------------------------- */

/*
 * A listed pool whose offer (or want) expired (market.c's sweep of
 * posts): with nothing of it sold it lapses, everyone told; with some
 * sold it is sold (what was sold stands, its share orders go on) and
 * each member with units unsold is told how many of hers were not sold
 * (a buying pool: not bought), the rest of her lot hers again.  Not
 * "lapsed": that would tell those whose bags are being delivered that
 * nothing was traded.
 */
int
market_pool_ended(struct market_call *c, struct market_pool *p)
{
	struct market_share	*s;
	struct market_args	 a;
	size_t			 n, i;
	long long		 sold = 0;
	int			 rc = -1;

	if (strcmp(p->state, "listed") != 0)
		return 0;
	if ((s = calloc(MARKET_POOL_SHARES_MAX, sizeof(*s))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return -1;
	}
	if (market_store_shares(c, p->ref, s, MARKET_POOL_SHARES_MAX, &n) ==
	    -1)
		goto out;
	for (i = 0; i < n; i++)
		sold += s[i].sold;
	if (sold == 0) {
		rc = market_pool_move(c, p, "lapsed") == -1 ? -1 : 0;
		goto out;
	}
	if ((rc = market_pool_move(c, p, "sold")) != 0) {
		rc = rc == 1 ? 0 : -1;	/* moved by another: nothing to tell */
		goto out;
	}
	rc = -1;
	for (i = 0; i < n; i++) {
		if (s[i].qty - s[i].sold <= 0)
			continue;
		memset(&a, 0, sizeof(a));
		market_pool_args(c, p, &a);
		market_arg_num(&a, "share", s[i].qty);
		market_arg_num(&a, "unsold", s[i].qty - s[i].sold);
		if (market_notify(c, s[i].member, strcmp(p->kind, "sell") == 0 ?
		    "market-share-left" : "market-share-left-want", &a) != MB_OK)
			goto out;
	}
	rc = 0;
out:
	free(s);
	return rc;
}

/*
 * Open pools past their deadline: told once (the opener may CLOSE), then
 * after pool-grace lapsed.  Lapses first, so a pool due for both (a sweep
 * that did not run for days) just lapses.  At most *budget rows.
 */
int
market_pool_sweep(struct market_call *c, size_t *budget)
{
	struct market_pool	 p;
	struct market_args	 a;
	long long		*refs;
	size_t			 n, i;
	int			 lapse, rc = MB_FAIL;

	if (*budget == 0)
		return MB_OK;
	if ((refs = calloc(*budget, sizeof(*refs))) == NULL)
		return MB_FAIL;
	for (lapse = 1; lapse >= 0; lapse--) {
		if (market_store_pools_due(c, lapse, c->conf->pool_grace, refs,
		    *budget, &n) == -1)
			goto out;
		for (i = 0; i < n; i++) {
			if (market_pool_find(c, refs[i], &p) != 0)
				goto out;
			if (lapse) {
				if (market_pool_move(c, &p, "lapsed") == -1)
					goto out;
				continue;
			}
			memset(&a, 0, sizeof(a));
			market_pool_args(c, &p, &a);
			market_arg_num(&a, "grace",
			    (c->conf->pool_grace + 86399) / 86400);
			if (market_pool_tell(c, &p, "market-pool-deadline",
			    &a) != MB_OK ||
			    market_store_pool_told(c, p.ref) == -1)
				goto out;
		}
		*budget -= n;
		if (*budget == 0)
			break;
	}
	rc = MB_OK;
out:
	free(refs);
	return rc;
}

/* --- MY ------------------------------------------------------------------------------------- */

/*
 * The sender's pools, newest first: one she opened as the pool
 * (market-pool-item: what it holds of its target), one she is in as her
 * share (market-pool-item-share); open, listed or sold ones, a sold one
 * while a share order of it is live or it ended within offer-lifetime
 * (market_store_my_pools).
 */
int
market_pool_my_items(struct market_call *c, struct market_items *l)
{
	struct market_pool	*pools;
	struct market_share	 s;
	struct market_args	 a;
	const char		*state;
	char			 tmpl[40];
	size_t			 n, total, i;
	int			 rc = MB_FAIL, opener;

	if ((pools = calloc(MARKET_POOL_MY_MAX, sizeof(*pools))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return MB_FAIL;
	}
	if (market_store_my_pools(c, c->actor, pools, MARKET_POOL_MY_MAX, &n,
	    &total) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		const struct market_pool *p = &pools[i];

		opener = strcmp(p->opener, c->actor) == 0;
		memset(&s, 0, sizeof(s));
		if (!opener && market_store_share_get(c, p->ref, c->actor,
		    &s) != 1)
			goto out;
		memset(&a, 0, sizeof(a));
		snprintf(tmpl, sizeof(tmpl), "market-pool-state-%s", p->state);
		if ((state = market_render(c, NULL, tmpl, NULL)) == NULL)
			goto out;
		market_arg(&a, "state", state);
		market_arg_num(&a, "ref", p->ref);
		market_arg(&a, "unit", p->unit);
		market_arg(&a, "commodity", p->commodity);
		if (opener) {
			market_arg_num(&a, "qty", p->total);
			market_arg_num(&a, "target", p->target);
		} else
			market_arg_num(&a, "share", s.qty);
		if (market_items_add(c, l, NULL, opener ? "market-pool-item" :
		    "market-pool-item-share", &a) != MB_OK)
			goto out;
	}
	rc = MB_OK;
out:
	free(pools);
	return rc;
}
